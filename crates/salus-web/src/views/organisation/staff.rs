//! Staff profile pages: the list of staff with their departments, specialisations,
//! registrations and fees, and one member's profile form.

use crate::access::{Access, Declared, route};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use salus_app::Ctx;
use salus_app::identity::Permission;
use salus_app::organisation::{Amount, StaffMember, StaffProfileInput, StaffQuery};
use salus_core::UserId;
use salus_core::page::PageRequest;
use serde::Deserialize;

use super::super::Form;
use super::{FormState, Names, Saved, flash, guarded, saved, version};
use crate::AppState;
use crate::error::PageError;
use crate::views::{PageCtx, SignedIn, render};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/admin/staff", Access::Permission(Permission::OrganisationManage)),
    route("/admin/staff/{id}", Access::Permission(Permission::OrganisationManage)),
];

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/staff", get(staff_page))
        .route("/admin/staff/{id}", get(profile_page).post(save_profile))
}

/// A staff member with the names the list shows.
pub struct StaffRow {
    pub member: StaffMember,
    pub department: String,
    pub specialisation: String,
    pub fee: String,
}

#[derive(Template)]
#[template(path = "staff.html")]
struct StaffPage {
    page: PageCtx,
    rows: Vec<StaffRow>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct AfterQuery {
    after: Option<String>,
}

async fn staff_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<AfterQuery>,
) -> Result<Response, PageError> {
    let after = q.after.and_then(|a| a.parse::<UserId>().ok());
    let found = state
        .app
        .organisation()
        .staff(&ctx, &StaffQuery::default(), PageRequest::new(after, Some(200)))
        .await?;
    let names = Names::load(&state, &ctx).await?;
    let currency = state.app.currency;
    let rows = found
        .items
        .into_iter()
        .map(|m| StaffRow {
            department: Names::name(&names.departments, m.profile.department_id.map(|d| d.to_string())),
            specialisation: Names::name(
                &names.specialisations,
                m.profile.specialisation_id.map(|s| s.to_string()),
            ),
            fee: m
                .profile
                .consultation_fee
                .map(|f| format!("{} {}", f.format(currency), currency.code()))
                .unwrap_or_default(),
            member: m,
        })
        .collect();
    Ok(render(StatusCode::OK, &StaffPage { page, rows, next: found.next.map(|n| n.to_string()) }))
}

#[derive(Template)]
#[template(path = "staff_profile.html")]
struct ProfilePage {
    page: PageCtx,
    member: StaffMember,
    form: FormState,
    departments: Vec<(String, String)>,
    specialisations: Vec<(String, String)>,
    currency: &'static str,
    conflict: Option<String>,
}

fn profile_form(m: &StaffMember, currency: salus_core::Currency) -> FormState {
    let p = &m.profile;
    FormState::default()
        .with("job_title", p.job_title.clone().unwrap_or_default())
        .with("qualifications", p.qualifications.clone().unwrap_or_default())
        .with("registration_council", p.registration_council.clone().unwrap_or_default())
        .with("registration_number", p.registration_number.clone().unwrap_or_default())
        .with("department_id", p.department_id.map(|d| d.to_string()).unwrap_or_default())
        .with("specialisation_id", p.specialisation_id.map(|s| s.to_string()).unwrap_or_default())
        .with("consultation_fee", p.consultation_fee.map(|f| f.plain(currency)).unwrap_or_default())
        .with("version", p.version.to_string())
}

async fn show_profile(
    state: &AppState,
    ctx: &Ctx,
    page: PageCtx,
    id: UserId,
    status: StatusCode,
    submitted: Option<FormState>,
    conflict: Option<String>,
) -> Result<Response, PageError> {
    let member = state.app.organisation().staff_member(ctx, id).await?;
    let form = match submitted {
        Some(f) if conflict.is_none() => f,
        _ => profile_form(&member, state.app.currency),
    };
    let names = Names::load(state, ctx).await?;
    let departments = Names::keeping(names.departments, form.value("department_id"));
    let specialisations = Names::keeping(names.specialisations, form.value("specialisation_id"));
    let page_data = ProfilePage {
        page,
        member,
        form,
        departments,
        specialisations,
        currency: state.app.currency.code(),
        conflict,
    };
    Ok(render(status, &page_data))
}

fn staff_id(raw: &str) -> Result<UserId, PageError> {
    raw.parse().map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such staff member."))
}

async fn profile_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    show_profile(&state, &ctx, page, staff_id(&id)?, StatusCode::OK, None, None).await
}

async fn save_profile(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = staff_id(&id)?;
    let mut form = FormState::from_fields(fields);
    let v = version(&form)?;
    let fee = form.value("consultation_fee").trim().to_owned();
    let input = StaffProfileInput {
        job_title: form.value("job_title").into(),
        qualifications: form.value("qualifications").into(),
        registration_council: form.value("registration_council").into(),
        registration_number: form.value("registration_number").into(),
        department_id: form.id("department_id"),
        specialisation_id: form.id("specialisation_id"),
        consultation_fee: (!fee.is_empty()).then_some(Amount::Typed(fee)),
    };
    let result = guarded(&form, state.app.organisation().save_staff_profile(&ctx, id, v, input)).await;
    match saved(result, &form)? {
        Saved::Done(m) => {
            Ok(flash(&state, "/admin/staff", &format!("Saved the profile of {}.", m.user.display_name)))
        }
        Saved::Again(status, errors, conflict) => {
            form.errors = errors;
            show_profile(&state, &ctx, page, id, status, Some(form), conflict).await
        }
    }
}
