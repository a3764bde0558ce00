//! The price list: read by every member of staff, changed by administrators.

use crate::access::{Access, Declared, route};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use salus_app::Ctx;
use salus_app::identity::Permission;
use salus_app::organisation::{Amount, Percent, Service, ServiceInput, ServiceQuery};
use salus_core::page::PageRequest;
use salus_core::{ServiceCategory, ServiceId};
use serde::Deserialize;

use super::super::Form;
use super::{FormState, Names, Saved, flash, guarded, saved, version};
use crate::AppState;
use crate::error::PageError;
use crate::views::{PageCtx, SignedIn, render};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/services", Access::Permission(Permission::OrganisationRead)),
    route("/admin/services", Access::Permission(Permission::OrganisationManage)).post(),
    route("/admin/services/{id}", Access::Permission(Permission::OrganisationManage)),
];

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/services", get(services_page))
        .route("/admin/services", post(create_service))
        .route("/admin/services/{id}", get(service_page).post(save_service))
}

/// A service with the words the list shows.
pub struct ServiceRow {
    pub service: Service,
    pub department: String,
    pub price: String,
}

#[derive(Template)]
#[template(path = "services.html")]
struct ServicesPage {
    page: PageCtx,
    rows: Vec<ServiceRow>,
    q: String,
    next: Option<String>,
    may_manage: bool,
    form: FormState,
    categories: Vec<(String, String)>,
    departments: Vec<(String, String)>,
    currency: &'static str,
}

#[derive(Deserialize)]
struct ServicesQueryForm {
    #[serde(default)]
    q: String,
    after: Option<String>,
}

fn category_options() -> Vec<(String, String)> {
    ServiceCategory::ALL.iter().map(|c| (c.as_str().to_owned(), c.label().to_owned())).collect()
}

async fn services(
    state: &AppState,
    ctx: &Ctx,
    page: PageCtx,
    q: ServicesQueryForm,
    status: StatusCode,
    form: Option<FormState>,
) -> Result<Response, PageError> {
    let may_manage =
        page.user.as_ref().is_some_and(|u| u.may(salus_app::identity::Permission::OrganisationManage));
    let query = ServiceQuery {
        text: Some(q.q.clone()).filter(|t| !t.trim().is_empty()),
        include_inactive: may_manage,
        ..Default::default()
    };
    let found = state.app.organisation().services(ctx, &query, PageRequest::new(q.after, Some(100))).await?;
    let names = Names::load(state, ctx).await?;
    let currency = state.app.currency;
    let rows = found
        .items
        .into_iter()
        .map(|s| ServiceRow {
            department: Names::name(&names.departments, s.department_id.map(|d| d.to_string())),
            price: s.price.format(currency),
            service: s,
        })
        .collect();
    let page_data = ServicesPage {
        page,
        rows,
        q: q.q,
        next: found.next,
        may_manage,
        form: form
            .unwrap_or_else(|| FormState::default().with("active", "true").with("category", "consultation")),
        categories: category_options(),
        departments: names.departments,
        currency: currency.code(),
    };
    Ok(render(status, &page_data))
}

async fn services_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<ServicesQueryForm>,
) -> Result<Response, PageError> {
    services(&state, &ctx, page, q, StatusCode::OK, None).await
}

fn service_input(form: &mut FormState) -> ServiceInput {
    ServiceInput {
        code: form.value("code").into(),
        name: form.value("name").into(),
        category: form.value("category").into(),
        department_id: form.id("department_id"),
        price: Amount::Typed(form.value("price").into()),
        tax_rate: Percent::Typed(form.value("tax_rate").into()),
        active: form.checked("active"),
    }
}

async fn create_service(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut form = FormState::from_fields(fields);
    let input = service_input(&mut form);
    let result = guarded(&form, state.app.organisation().create_service(&ctx, input)).await;
    match saved(result, &form)? {
        Saved::Done(s) => Ok(flash(&state, "/services", &format!("Added {} to the price list.", s.name))),
        Saved::Again(status, errors, _) => {
            form.errors = errors;
            let q = ServicesQueryForm { q: String::new(), after: None };
            services(&state, &ctx, page, q, status, Some(form)).await
        }
    }
}

#[derive(Template)]
#[template(path = "service.html")]
struct ServicePage {
    page: PageCtx,
    id: ServiceId,
    title: String,
    form: FormState,
    categories: Vec<(String, String)>,
    departments: Vec<(String, String)>,
    currency: &'static str,
    conflict: Option<String>,
}

fn service_id(raw: &str) -> Result<ServiceId, PageError> {
    raw.parse().map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such service."))
}

async fn show_service(
    state: &AppState,
    ctx: &Ctx,
    page: PageCtx,
    id: ServiceId,
    status: StatusCode,
    submitted: Option<FormState>,
    conflict: Option<String>,
) -> Result<Response, PageError> {
    let s = state.app.organisation().service(ctx, id).await?;
    let currency = state.app.currency;
    let form = match submitted {
        Some(f) if conflict.is_none() => f,
        _ => FormState::default()
            .with("code", &s.code)
            .with("name", &s.name)
            .with("category", s.category.as_str())
            .with("department_id", s.department_id.map(|d| d.to_string()).unwrap_or_default())
            .with("price", s.price.plain(currency))
            .with("tax_rate", s.tax_rate.to_string().trim_end_matches('%'))
            .with("active", if s.active { "true" } else { "false" })
            .with("version", s.version.to_string()),
    };
    let names = Names::load(state, ctx).await?;
    let departments = Names::keeping(names.departments, form.value("department_id"));
    let page_data = ServicePage {
        page,
        id,
        title: s.name,
        form,
        categories: category_options(),
        departments,
        currency: currency.code(),
        conflict,
    };
    Ok(render(status, &page_data))
}

async fn service_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    show_service(&state, &ctx, page, service_id(&id)?, StatusCode::OK, None, None).await
}

async fn save_service(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = service_id(&id)?;
    let mut form = FormState::from_fields(fields);
    let v = version(&form)?;
    let input = service_input(&mut form);
    let result = guarded(&form, state.app.organisation().update_service(&ctx, id, v, input)).await;
    match saved(result, &form)? {
        Saved::Done(s) => Ok(flash(&state, "/services", &format!("Saved {}.", s.name))),
        Saved::Again(status, errors, conflict) => {
            form.errors = errors;
            show_service(&state, &ctx, page, id, status, Some(form), conflict).await
        }
    }
}
