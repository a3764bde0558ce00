//! Organisation pages: facilities, departments and specialisations on one administration
//! page with an edit page each; staff profiles; the price list (read by all staff, changed
//! by administrators). A failed save shows the form again with each message beside its
//! field; an edit that lost a race says so and shows what is on file now.
//!
//! This module has the shared form handling and the organisation page; `staff` the staff
//! profiles; `services` the price list.

pub(super) mod services;
pub(super) mod staff;

use crate::access::{Access, Declared, route};
use crate::views::flash;
use crate::views::menu::Entry;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use salus_app::identity::Permission;
use salus_app::organisation::{
    Department, DepartmentInput, Facility, FacilityInput, IdentifierType, Specialisation, SpecialisationInput,
};
use salus_app::{AppError, Ctx};
use salus_core::{DepartmentId, FacilityId, SpecialisationId};

use super::Form;
use super::{PageCtx, SignedIn, render};
use crate::AppState;
use crate::error::PageError;

/// The pages of this module worth a link (see `menu`).
pub(super) const MENU: &[Entry] = &[
    Entry::page("Price list", "/services", "Services and their prices"),
    Entry::page(
        "Organisation",
        "/admin/organisation",
        "Facilities, departments, specialisations and identifier types",
    ),
    Entry::page("Staff", "/admin/staff", "Doctors' and staff profiles, consultation fees"),
];

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/admin/organisation", Access::Permission(Permission::OrganisationManage)),
    route("/admin/organisation/{kind}", Access::Permission(Permission::OrganisationManage))
        .post()
        .example("/admin/organisation/facilities"),
    route("/admin/organisation/{kind}/{id}", Access::Permission(Permission::OrganisationManage))
        .example("/admin/organisation/facilities/{id}"),
    route("/admin/identifier-types", Access::Permission(Permission::OrganisationManage)).post(),
    route("/admin/identifier-types/{code}", Access::Permission(Permission::OrganisationManage))
        .post()
        .example("/admin/identifier-types/passport"),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/organisation", get(organisation_page))
        .route("/admin/organisation/{kind}", post(create_unit))
        .route("/admin/organisation/{kind}/{id}", get(unit_page).post(save_unit))
        .route("/admin/identifier-types", post(create_identifier_type))
        .route("/admin/identifier-types/{code}", post(save_identifier_type))
        .merge(staff::router())
        .merge(services::router())
}

/// A form's values as submitted (or as on file) and its errors by field.
#[derive(Default, Clone)]
pub struct FormState {
    values: Vec<(String, String)>,
    errors: Vec<(String, String)>,
}

impl FormState {
    fn from_fields(values: Vec<(String, String)>) -> Self {
        Self { values, errors: Vec::new() }
    }

    fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.values.push((name.to_owned(), value.into()));
        self
    }

    pub fn value(&self, name: &str) -> &str {
        self.values.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    pub fn error(&self, name: &str) -> Option<&str> {
        self.errors.iter().find(|(k, _)| k == name).map(|(_, m)| m.as_str())
    }

    pub fn errors_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.value(name) == "true"
    }

    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push((field.to_owned(), message.into()));
    }

    /// An optional id field: blank is none; anything else must parse.
    fn id<T: std::str::FromStr>(&mut self, name: &'static str) -> Option<T> {
        let raw = self.value(name).trim().to_owned();
        if raw.is_empty() {
            return None;
        }
        let parsed = raw.parse().ok();
        if parsed.is_none() {
            self.fail(name, "choose one from the list");
        }
        parsed
    }
}

/// The outcome of a save for a page to show.
enum Saved<T> {
    Done(T),
    /// Field errors (422) or a lost race (409); the form is shown again.
    Again(StatusCode, Vec<(String, String)>, Option<String>),
}

/// Runs a save only when the door found nothing wrong, so a half-understood form never
/// writes anything.
async fn guarded<T>(
    form: &FormState,
    save: impl Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    if form.errors.is_empty() { save.await } else { Err(AppError::Invalid(Vec::new())) }
}

fn saved<T>(result: Result<T, AppError>, pre: &FormState) -> Result<Saved<T>, PageError> {
    if !pre.errors.is_empty() {
        return Ok(Saved::Again(StatusCode::UNPROCESSABLE_ENTITY, pre.errors.clone(), None));
    }
    match result {
        Ok(v) => Ok(Saved::Done(v)),
        Err(AppError::Invalid(errors)) => Ok(Saved::Again(
            StatusCode::UNPROCESSABLE_ENTITY,
            errors.into_iter().map(|e| (e.field.to_owned(), e.message)).collect(),
            None,
        )),
        Err(AppError::Conflict(message)) => Ok(Saved::Again(StatusCode::CONFLICT, Vec::new(), Some(message))),
        Err(stale @ AppError::Stale { .. }) => Ok(Saved::Again(
            StatusCode::CONFLICT,
            Vec::new(),
            Some(format!("{stale}; reload the page and edit again")),
        )),
        Err(e) => Err(e.into()),
    }
}

fn version(form: &FormState) -> Result<i32, PageError> {
    form.value("version").parse().map_err(|_| {
        PageError::new(StatusCode::BAD_REQUEST, "The form is missing its version; reload the page.")
    })
}

// ---------------------------------------------------------------- facilities, departments, specialisations

/// The three kinds of unit on the organisation page, as they appear in its addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Facility,
    Department,
    Specialisation,
}

impl Kind {
    fn parse(raw: &str) -> Result<Kind, PageError> {
        match raw {
            "facilities" => Ok(Kind::Facility),
            "departments" => Ok(Kind::Department),
            "specialisations" => Ok(Kind::Specialisation),
            _ => Err(PageError::new(StatusCode::NOT_FOUND, "There is no such page.")),
        }
    }

    fn path(self) -> &'static str {
        match self {
            Kind::Facility => "facilities",
            Kind::Department => "departments",
            Kind::Specialisation => "specialisations",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Facility => "facility",
            Kind::Department => "department",
            Kind::Specialisation => "specialisation",
        }
    }
}

#[derive(Template)]
#[template(path = "organisation.html")]
struct OrganisationPage {
    page: PageCtx,
    facilities: Vec<Facility>,
    departments: Vec<(Department, String)>,
    specialisations: Vec<Specialisation>,
    identifier_types: Vec<IdentifierType>,
    facility_options: Vec<(String, String)>,
    /// The form that failed, by kind; the others start empty.
    failed: Option<(&'static str, FormState)>,
}

impl OrganisationPage {
    fn form(&self, kind: &str) -> FormState {
        match &self.failed {
            Some((k, f)) if *k == kind => f.clone(),
            _ => FormState::default().with("active", "true"),
        }
    }

    /// The error of a failed rename of the identifier type `code`.
    fn type_error(&self, code: &str) -> Option<&str> {
        match &self.failed {
            Some(("identifier-type", f)) if f.value("code") == code => f.error("name"),
            _ => None,
        }
    }
}

async fn organisation(
    state: &AppState,
    ctx: &Ctx,
    page: PageCtx,
    status: StatusCode,
    failed: Option<(&'static str, FormState)>,
) -> Result<Response, PageError> {
    let app = &state.app;
    let facilities = app.organisation().facilities(ctx).await?;
    let departments = app
        .organisation()
        .departments(ctx, None)
        .await?
        .into_iter()
        .map(|d| {
            let f =
                facilities.iter().find(|f| f.id == d.facility_id).map(|f| f.name.clone()).unwrap_or_default();
            (d, f)
        })
        .collect();
    let specialisations = app.organisation().specialisations(ctx).await?;
    let identifier_types = app.patients().identifier_types().await?;
    let facility_options = facility_options(&facilities);
    let page_data = OrganisationPage {
        page,
        facilities,
        departments,
        specialisations,
        identifier_types,
        facility_options,
        failed,
    };
    Ok(render(status, &page_data))
}

fn facility_options(facilities: &[Facility]) -> Vec<(String, String)> {
    facilities
        .iter()
        .filter(|f| f.active)
        .map(|f| (f.id.to_string(), format!("{} ({})", f.name, f.code)))
        .collect()
}

async fn organisation_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
) -> Result<Response, PageError> {
    organisation(&state, &ctx, page, StatusCode::OK, None).await
}

fn facility_input(f: &FormState) -> FacilityInput {
    FacilityInput {
        code: f.value("code").into(),
        name: f.value("name").into(),
        address: f.value("address").into(),
        phone: f.value("phone").into(),
        active: f.checked("active"),
    }
}

fn specialisation_input(f: &FormState) -> SpecialisationInput {
    SpecialisationInput {
        code: f.value("code").into(),
        name: f.value("name").into(),
        active: f.checked("active"),
    }
}

/// A department's fields; the facility must be chosen.
fn department_input(f: &mut FormState) -> Option<DepartmentInput> {
    let facility_id = f.id::<FacilityId>("facility_id");
    if facility_id.is_none() && f.error("facility_id").is_none() {
        f.fail("facility_id", "choose the facility");
    }
    Some(DepartmentInput {
        facility_id: facility_id?,
        code: f.value("code").into(),
        name: f.value("name").into(),
        active: f.checked("active"),
    })
}

async fn create_unit(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(kind): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let kind = Kind::parse(&kind)?;
    let mut form = FormState::from_fields(fields);
    let app = &state.app;
    let result = match kind {
        Kind::Facility => {
            app.organisation().create_facility(&ctx, facility_input(&form)).await.map(|f| f.name)
        }
        Kind::Specialisation => {
            app.organisation().create_specialisation(&ctx, specialisation_input(&form)).await.map(|s| s.name)
        }
        Kind::Department => match department_input(&mut form) {
            Some(input) => app.organisation().create_department(&ctx, input).await.map(|d| d.name),
            None => Err(AppError::Invalid(Vec::new())),
        },
    };
    match saved(result, &form)? {
        Saved::Done(name) => Ok(flash(&state, "/admin/organisation", &format!("Added {name}."))),
        Saved::Again(status, errors, _) => {
            form.errors = errors;
            organisation(&state, &ctx, page, status, Some((kind.path(), form))).await
        }
    }
}

async fn create_identifier_type(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut form = FormState::from_fields(fields);
    let result = state
        .app
        .organisation()
        .create_identifier_type(&ctx, form.value("code"), form.value("name"), form.checked("is_unique"))
        .await;
    match saved(result, &form)? {
        Saved::Done(t) => {
            Ok(flash(&state, "/admin/organisation", &format!("Added the identifier type {}.", t.name)))
        }
        Saved::Again(status, errors, _) => {
            form.errors = errors;
            organisation(&state, &ctx, page, status, Some(("identifier-types", form))).await
        }
    }
}

async fn save_identifier_type(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(code): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut form = FormState::from_fields(fields).with("code", &code);
    let result = state
        .app
        .organisation()
        .update_identifier_type(&ctx, &code, form.value("name"), form.checked("active"))
        .await;
    match saved(result, &form)? {
        Saved::Done(()) => Ok(flash(&state, "/admin/organisation", "Saved the identifier type.")),
        Saved::Again(status, errors, _) => {
            form.errors = errors;
            organisation(&state, &ctx, page, status, Some(("identifier-type", form))).await
        }
    }
}

#[derive(Template)]
#[template(path = "org_unit.html")]
struct UnitPage {
    page: PageCtx,
    kind: &'static str,
    kind_label: &'static str,
    id: String,
    title: String,
    form: FormState,
    facility_options: Vec<(String, String)>,
    conflict: Option<String>,
}

impl UnitPage {
    fn is_department(&self) -> bool {
        self.kind == "departments"
    }

    fn is_facility(&self) -> bool {
        self.kind == "facilities"
    }
}

/// The unit as on file, as form values.
async fn unit_form(
    state: &AppState,
    ctx: &Ctx,
    kind: Kind,
    id: &str,
) -> Result<(String, FormState), PageError> {
    let missing = || PageError::new(StatusCode::NOT_FOUND, format!("There is no such {}.", kind.label()));
    let app = &state.app;
    let bool_text = |b: bool| if b { "true" } else { "false" };
    Ok(match kind {
        Kind::Facility => {
            let f = app.organisation().facility(ctx, id.parse().map_err(|_| missing())?).await?;
            let form = FormState::default()
                .with("code", &f.code)
                .with("name", &f.name)
                .with("address", f.address.clone().unwrap_or_default())
                .with("phone", f.phone.clone().unwrap_or_default())
                .with("active", bool_text(f.active))
                .with("version", f.version.to_string());
            (f.name, form)
        }
        Kind::Department => {
            let d = app.organisation().department(ctx, id.parse().map_err(|_| missing())?).await?;
            let form = FormState::default()
                .with("facility_id", d.facility_id.to_string())
                .with("code", &d.code)
                .with("name", &d.name)
                .with("active", bool_text(d.active))
                .with("version", d.version.to_string());
            (d.name, form)
        }
        Kind::Specialisation => {
            let s = app.organisation().specialisation(ctx, id.parse().map_err(|_| missing())?).await?;
            let form = FormState::default()
                .with("code", &s.code)
                .with("name", &s.name)
                .with("active", bool_text(s.active))
                .with("version", s.version.to_string());
            (s.name, form)
        }
    })
}

/// Shows a unit's edit page: as on file, or (`again`) the submitted form with its
/// status and, after a lost race, the conflict message.
async fn show_unit(
    state: &AppState,
    ctx: &Ctx,
    page: PageCtx,
    kind: Kind,
    id: String,
    again: Option<(StatusCode, FormState, Option<String>)>,
) -> Result<Response, PageError> {
    let (title, on_file) = unit_form(state, ctx, kind, &id).await?;
    let (status, submitted, conflict) = match again {
        Some((status, form, conflict)) => (status, Some(form), conflict),
        None => (StatusCode::OK, None, None),
    };
    // After a lost race the form shows what is on file now, to be edited again.
    let form = match submitted {
        Some(f) if conflict.is_none() => f,
        _ => on_file,
    };
    let facility_options = if kind == Kind::Department {
        let mut options = facility_options(&state.app.organisation().facilities(ctx).await?);
        // A department of a retired facility still shows where it is.
        if !options.iter().any(|(v, _)| v == form.value("facility_id")) {
            options.push((form.value("facility_id").to_owned(), "(a facility no longer in use)".into()));
        }
        options
    } else {
        Vec::new()
    };
    let page_data = UnitPage {
        page,
        kind: kind.path(),
        kind_label: kind.label(),
        id,
        title,
        form,
        facility_options,
        conflict,
    };
    Ok(render(status, &page_data))
}

async fn unit_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path((kind, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    show_unit(&state, &ctx, page, Kind::parse(&kind)?, id, None).await
}

async fn save_unit(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path((kind, id)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let kind = Kind::parse(&kind)?;
    let mut form = FormState::from_fields(fields);
    let v = version(&form)?;
    let missing = || PageError::new(StatusCode::NOT_FOUND, format!("There is no such {}.", kind.label()));
    let app = &state.app;
    let result = match kind {
        Kind::Facility => {
            let fid = id.parse::<FacilityId>().map_err(|_| missing())?;
            app.organisation().update_facility(&ctx, fid, v, facility_input(&form)).await.map(|f| f.name)
        }
        Kind::Specialisation => {
            let sid = id.parse::<SpecialisationId>().map_err(|_| missing())?;
            app.organisation()
                .update_specialisation(&ctx, sid, v, specialisation_input(&form))
                .await
                .map(|s| s.name)
        }
        Kind::Department => {
            let did = id.parse::<DepartmentId>().map_err(|_| missing())?;
            match department_input(&mut form) {
                Some(input) => {
                    app.organisation().update_department(&ctx, did, v, input).await.map(|d| d.name)
                }
                None => Err(AppError::Invalid(Vec::new())),
            }
        }
    };
    match saved(result, &form)? {
        Saved::Done(name) => Ok(flash(&state, "/admin/organisation", &format!("Saved {name}."))),
        Saved::Again(status, errors, conflict) => {
            form.errors = errors;
            show_unit(&state, &ctx, page, kind, id, Some((status, form, conflict))).await
        }
    }
}

/// Department and specialisation names by id, and the options of their selects.
struct Names {
    departments: Vec<(String, String)>,
    specialisations: Vec<(String, String)>,
}

impl Names {
    async fn load(state: &AppState, ctx: &Ctx) -> Result<Names, PageError> {
        let facilities = state.app.organisation().facilities(ctx).await?;
        let departments = state
            .app
            .organisation()
            .departments(ctx, None)
            .await?
            .into_iter()
            .filter(|d| d.active)
            .map(|d| {
                let site = facilities.iter().find(|f| f.id == d.facility_id).map_or("", |f| f.code.as_str());
                (d.id.to_string(), format!("{} ({site})", d.name))
            })
            .collect();
        let specialisations = state
            .app
            .organisation()
            .specialisations(ctx)
            .await?
            .into_iter()
            .filter(|s| s.active)
            .map(|s| (s.id.to_string(), s.name))
            .collect();
        Ok(Names { departments, specialisations })
    }

    /// The options, plus the chosen one if it is retired, so saving does not drop it.
    fn keeping(mut options: Vec<(String, String)>, chosen: &str) -> Vec<(String, String)> {
        if !chosen.is_empty() && !options.iter().any(|(v, _)| v == chosen) {
            options.push((chosen.to_owned(), "(no longer in use)".into()));
        }
        options
    }

    fn name(options: &[(String, String)], id: Option<String>) -> String {
        id.and_then(|id| options.iter().find(|(v, _)| *v == id).map(|(_, n)| n.clone())).unwrap_or_default()
    }
}
