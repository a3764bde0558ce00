//! Organisation pages: facilities, departments and specialisations on one administration
//! page with an edit page each; staff profiles; the price list (read by all staff, changed
//! by administrators). A failed save shows the form again with each message beside its
//! field; an edit that lost a race says so and shows what is on file now.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use salus_app::organisation::{
    Amount, Department, DepartmentInput, Facility, FacilityInput, IdentifierType, Percent, Service,
    ServiceInput, ServiceQuery, Specialisation, SpecialisationInput, StaffMember, StaffProfileInput,
    StaffQuery,
};
use salus_app::{AppError, Ctx};
use salus_core::page::PageRequest;
use salus_core::{DepartmentId, FacilityId, ServiceCategory, ServiceId, SpecialisationId, UserId};
use serde::Deserialize;

use super::{PageCtx, SignedIn, render};
use crate::AppState;
use crate::error::PageError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/organisation", get(organisation_page))
        .route("/admin/organisation/{kind}", post(create_unit))
        .route("/admin/organisation/{kind}/{id}", get(unit_page).post(save_unit))
        .route("/admin/identifier-types", post(create_identifier_type))
        .route("/admin/identifier-types/{code}", post(save_identifier_type))
        .route("/admin/staff", get(staff_page))
        .route("/admin/staff/{id}", get(profile_page).post(save_profile))
        .route("/services", get(services_page))
        .route("/admin/services", post(create_service))
        .route("/admin/services/{id}", get(service_page).post(save_service))
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
        Err(e) => Err(e.into()),
    }
}

fn version(form: &FormState) -> Result<i32, PageError> {
    form.value("version").parse().map_err(|_| {
        PageError::new(StatusCode::BAD_REQUEST, "The form is missing its version; reload the page.")
    })
}

fn flash(state: &AppState, to: &str, text: &str) -> Response {
    super::profile::with_flash(to, text, state.web.secure_cookies)
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
    let facilities = app.facilities(ctx).await?;
    let departments = app
        .departments(ctx, None)
        .await?
        .into_iter()
        .map(|d| {
            let f =
                facilities.iter().find(|f| f.id == d.facility_id).map(|f| f.name.clone()).unwrap_or_default();
            (d, f)
        })
        .collect();
    let specialisations = app.specialisations(ctx).await?;
    let identifier_types = app.identifier_types().await?;
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
        Kind::Facility => app.create_facility(&ctx, facility_input(&form)).await.map(|f| f.name),
        Kind::Specialisation => {
            app.create_specialisation(&ctx, specialisation_input(&form)).await.map(|s| s.name)
        }
        Kind::Department => match department_input(&mut form) {
            Some(input) => app.create_department(&ctx, input).await.map(|d| d.name),
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
    let result =
        state.app.update_identifier_type(&ctx, &code, form.value("name"), form.checked("active")).await;
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
            let f = app.facility(ctx, id.parse().map_err(|_| missing())?).await?;
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
            let d = app.department(ctx, id.parse().map_err(|_| missing())?).await?;
            let form = FormState::default()
                .with("facility_id", d.facility_id.to_string())
                .with("code", &d.code)
                .with("name", &d.name)
                .with("active", bool_text(d.active))
                .with("version", d.version.to_string());
            (d.name, form)
        }
        Kind::Specialisation => {
            let s = app.specialisation(ctx, id.parse().map_err(|_| missing())?).await?;
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
        let mut options = facility_options(&state.app.facilities(ctx).await?);
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
            app.update_facility(&ctx, fid, v, facility_input(&form)).await.map(|f| f.name)
        }
        Kind::Specialisation => {
            let sid = id.parse::<SpecialisationId>().map_err(|_| missing())?;
            app.update_specialisation(&ctx, sid, v, specialisation_input(&form)).await.map(|s| s.name)
        }
        Kind::Department => {
            let did = id.parse::<DepartmentId>().map_err(|_| missing())?;
            match department_input(&mut form) {
                Some(input) => app.update_department(&ctx, did, v, input).await.map(|d| d.name),
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

// ---------------------------------------------------------------- staff

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

/// Department and specialisation names by id, and the options of their selects.
struct Names {
    departments: Vec<(String, String)>,
    specialisations: Vec<(String, String)>,
}

impl Names {
    async fn load(state: &AppState, ctx: &Ctx) -> Result<Names, PageError> {
        let facilities = state.app.facilities(ctx).await?;
        let departments = state
            .app
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

async fn staff_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<AfterQuery>,
) -> Result<Response, PageError> {
    let after = q.after.and_then(|a| a.parse::<UserId>().ok());
    let found = state.app.staff(&ctx, &StaffQuery::default(), PageRequest::new(after, Some(200))).await?;
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
    let member = state.app.staff_member(ctx, id).await?;
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
    let result = guarded(&form, state.app.save_staff_profile(&ctx, id, v, input)).await;
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

// ---------------------------------------------------------------- price list

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
    let found = state.app.services(ctx, &query, PageRequest::new(q.after, Some(100))).await?;
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
    let result = guarded(&form, state.app.create_service(&ctx, input)).await;
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
    let s = state.app.service(ctx, id).await?;
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
    let result = guarded(&form, state.app.update_service(&ctx, id, v, input)).await;
    match saved(result, &form)? {
        Saved::Done(s) => Ok(flash(&state, "/services", &format!("Saved {}.", s.name))),
        Saved::Again(status, errors, conflict) => {
            form.errors = errors;
            show_service(&state, &ctx, page, id, status, Some(form), conflict).await
        }
    }
}
