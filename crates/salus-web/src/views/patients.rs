//! The front desk's and the clinicians' patient pages: search while typing, registration
//! with its duplicate check, the chart (header and timeline), editing, the photo,
//! break-the-glass, and an administrator's merge and unmerge.

use crate::access::{Access, Declared, route};
use crate::views::menu::Entry;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use salus_app::AppError;
use salus_app::identity::Permission;
use salus_app::patients::{Duplicate, Patient, PatientInput, SearchHit, TimelineEntry};
use salus_core::PatientId;
use salus_core::patients::{BLOOD_GROUPS, Sex};
use serde::Deserialize;

use super::profile::with_flash;
use super::{Fields, PageCtx, SignedIn, render};
use crate::AppState;
use crate::error::PageError;

/// The pages of this module worth a link (see `menu`).
pub(super) const MENU: &[Entry] = &[
    Entry::page("Patients", "/patients", "Find a patient by name, phone, MRN or ID and open the chart"),
    Entry::home_only(
        "Register a patient",
        "/patients/new",
        "A new record, with a warning when it may be a duplicate",
    ),
];

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/patients", Access::Permission(Permission::PatientsRead)).example("/patients?q=smith"),
    route("/patients/new", Access::Permission(Permission::PatientsRegister)),
    // A patient's own account opens its chart too: the use case decides by relationship.
    route("/patients/{id}", Access::SignedIn),
    route("/patients/{id}/timeline", Access::SignedIn),
    route("/patients/{id}/photo", Access::SignedIn),
    route("/patients/{id}/edit", Access::Permission(Permission::PatientsRegister)),
    route("/patients/{id}/break-glass", Access::Permission(Permission::PatientsBreakGlass)).post(),
    route("/patients/{id}/merge", Access::Permission(Permission::PatientsMerge)).post(),
    route("/patients/{id}/unmerge", Access::Permission(Permission::PatientsMerge)).post(),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/patients", get(search_page))
        .route("/patients/new", get(new_page).post(register))
        .route("/patients/{id}", get(chart))
        .route("/patients/{id}/timeline", get(timeline_more))
        .route("/patients/{id}/edit", get(edit_page).post(edit))
        .route("/patients/{id}/photo", get(photo).post(upload_photo))
        .route("/patients/{id}/break-glass", post(break_glass))
        .route("/patients/{id}/merge", post(merge))
        .route("/patients/{id}/unmerge", post(unmerge))
}

const PAGE: usize = 20;
const TIMELINE_PAGE: u64 = 25;

fn patient_id(raw: &str) -> Result<PatientId, PageError> {
    raw.parse().map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such patient."))
}

fn errors_of(e: Vec<salus_core::FieldError>) -> Vec<(String, String)> {
    e.into_iter().map(|e| (e.field.to_owned(), e.message)).collect()
}

// ---------- search ----------

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    offset: usize,
}

#[derive(Template)]
#[template(path = "patients_search.html")]
struct SearchPage {
    page: PageCtx,
    q: String,
    results: Results,
    may_register: bool,
}

#[derive(Template)]
#[template(path = "patients_results_partial.html")]
struct Results {
    q: String,
    hits: Vec<SearchHit>,
    offset: usize,
    more: bool,
    searched: bool,
}

impl Results {
    fn next_offset(&self) -> usize {
        self.offset + PAGE
    }

    fn q_encoded(&self) -> String {
        super::urlencode(&self.q)
    }
}

async fn search_page(
    State(state): State<AppState>,
    SignedIn(user, ctx, page): SignedIn,
    Query(q): Query<SearchQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let query = q.q.trim().to_owned();
    let (hits, more) = if query.is_empty() {
        (Vec::new(), false)
    } else {
        state.app.patients().search_patients(&ctx, &query, q.offset, PAGE).await?
    };
    let results = Results { searched: !query.is_empty(), q: query.clone(), hits, offset: q.offset, more };
    if headers.contains_key("hx-request") {
        return Ok(render(StatusCode::OK, &results));
    }
    let may_register = user.may(Permission::PatientsRegister);
    Ok(render(StatusCode::OK, &SearchPage { page, q: query, results, may_register }))
}

// ---------- registration and editing ----------

/// The demographic form's values (as typed) and its errors.
#[derive(Default)]
pub struct PatientForm {
    pub v: PatientInput,
    pub age_years: String,
    pub errors: Vec<(String, String)>,
}

impl PatientForm {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }

    fn identifier(&self, system: &str) -> String {
        self.v.identifiers.iter().find(|(s, _)| s == system).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    fn from_fields(f: &Fields) -> Self {
        let age_years = f.value("age_years");
        let mut v = PatientInput {
            given_names: f.value("given_names"),
            family_name: f.value("family_name"),
            sex: f.value("sex"),
            birth_date: f.value("birth_date"),
            age_years: None,
            phone: f.value("phone"),
            phone_alt: f.value("phone_alt"),
            email: f.value("email"),
            address_line: f.value("address_line"),
            city: f.value("city"),
            district: f.value("district"),
            state: f.value("state"),
            postal_code: f.value("postal_code"),
            country: f.value("country"),
            blood_group: f.value("blood_group"),
            preferred_language: f.value("preferred_language"),
            emergency_name: f.value("emergency_name"),
            emergency_phone: f.value("emergency_phone"),
            emergency_relation: f.value("emergency_relation"),
            insurer: f.value("insurer"),
            insurance_policy: f.value("insurance_policy"),
            consent_sms: !f.value("consent_sms").is_empty(),
            consent_email: !f.value("consent_email").is_empty(),
            consent_research: !f.value("consent_research").is_empty(),
            restricted: !f.value("restricted").is_empty(),
            restricted_reason: f.value("restricted_reason"),
            identifiers: Vec::new(),
        };
        for (k, val) in &f.0 {
            if let Some(system) = k.strip_prefix("id_") {
                v.identifiers.push((system.to_owned(), val.clone()));
            }
        }
        let mut errors = Vec::new();
        if !age_years.trim().is_empty() {
            match age_years.trim().parse::<u32>() {
                Ok(a) => v.age_years = Some(a),
                Err(_) => errors.push(("age_years".into(), "must be a whole number of years".into())),
            }
        }
        Self { v, age_years, errors }
    }

    fn of(p: &Patient) -> Self {
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        Self {
            v: PatientInput {
                given_names: p.given_names.clone(),
                family_name: p.family_name.clone(),
                sex: p.sex.as_str().to_owned(),
                birth_date: p.birth_date.map(|d| d.to_string()).unwrap_or_default(),
                age_years: None,
                phone: s(&p.phone),
                phone_alt: s(&p.phone_alt),
                email: s(&p.email),
                address_line: s(&p.address_line),
                city: s(&p.city),
                district: s(&p.district),
                state: s(&p.state),
                postal_code: s(&p.postal_code),
                country: s(&p.country),
                blood_group: s(&p.blood_group),
                preferred_language: s(&p.preferred_language),
                emergency_name: s(&p.emergency_name),
                emergency_phone: s(&p.emergency_phone),
                emergency_relation: s(&p.emergency_relation),
                insurer: s(&p.insurer),
                insurance_policy: s(&p.insurance_policy),
                consent_sms: p.consent_sms,
                consent_email: p.consent_email,
                consent_research: p.consent_research,
                restricted: p.restricted,
                restricted_reason: s(&p.restricted_reason),
                identifiers: p.identifiers.iter().map(|i| (i.system.clone(), i.value.clone())).collect(),
            },
            age_years: String::new(),
            errors: Vec::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "patient_form.html")]
struct FormPage {
    page: PageCtx,
    form: PatientForm,
    types: Vec<(String, String)>,
    sexes: [Sex; 4],
    blood_groups: [&'static str; 8],
    /// Editing: the record and the version the form started from.
    editing: Option<(PatientId, String, i32)>,
    duplicates: Vec<Duplicate>,
    /// Shown when someone else saved first.
    conflict: bool,
}

/// A text field of the form: name, label, value as typed, input type.
type TextField = (&'static str, &'static str, String, &'static str);

impl FormPage {
    fn name_fields(&self) -> Vec<TextField> {
        let v = &self.form.v;
        vec![
            ("given_names", "Given name(s)", v.given_names.clone(), "text"),
            ("family_name", "Family name (if any)", v.family_name.clone(), "text"),
        ]
    }

    fn contact_fields(&self) -> Vec<TextField> {
        let v = &self.form.v;
        vec![
            ("phone", "Phone", v.phone.clone(), "tel"),
            ("phone_alt", "Other phone", v.phone_alt.clone(), "tel"),
            ("email", "E-mail", v.email.clone(), "email"),
            ("preferred_language", "Preferred language", v.preferred_language.clone(), "text"),
            ("address_line", "Address", v.address_line.clone(), "text"),
            ("city", "Town or city", v.city.clone(), "text"),
            ("district", "District", v.district.clone(), "text"),
            ("state", "State or region", v.state.clone(), "text"),
            ("postal_code", "Postal code", v.postal_code.clone(), "text"),
            ("country", "Country (2 letters)", v.country.clone(), "text"),
        ]
    }

    fn other_fields(&self) -> Vec<TextField> {
        let v = &self.form.v;
        vec![
            ("emergency_name", "Emergency contact", v.emergency_name.clone(), "text"),
            ("emergency_relation", "Relation", v.emergency_relation.clone(), "text"),
            ("emergency_phone", "Their phone", v.emergency_phone.clone(), "tel"),
            ("insurer", "Insurer", v.insurer.clone(), "text"),
            ("insurance_policy", "Policy number", v.insurance_policy.clone(), "text"),
        ]
    }

    fn is_blood(&self, g: &str) -> bool {
        self.form.v.blood_group == g
    }

    fn is_sex(&self, s: &Sex) -> bool {
        self.form.v.sex == s.as_str()
    }
}

async fn types(state: &AppState) -> Result<Vec<(String, String)>, PageError> {
    Ok(state
        .app
        .patients()
        .identifier_types()
        .await?
        .into_iter()
        .filter(|t| t.active)
        .map(|t| (t.code, t.name))
        .collect())
}

async fn show_form(
    state: &AppState,
    page: PageCtx,
    status: StatusCode,
    form: PatientForm,
    editing: Option<(PatientId, String, i32)>,
    duplicates: Vec<Duplicate>,
    conflict: bool,
) -> Result<Response, PageError> {
    let types = types(state).await?;
    Ok(render(
        status,
        &FormPage {
            page,
            form,
            types,
            sexes: Sex::ALL,
            blood_groups: BLOOD_GROUPS,
            editing,
            duplicates,
            conflict,
        },
    ))
}

async fn new_page(
    State(state): State<AppState>,
    SignedIn(_, _, page): SignedIn,
) -> Result<Response, PageError> {
    show_form(&state, page, StatusCode::OK, PatientForm::default(), None, Vec::new(), false).await
}

async fn register(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let fields = Fields(fields);
    let mut form = PatientForm::from_fields(&fields);
    let confirmed = fields.value("not_a_duplicate") == "yes";
    if !form.errors.is_empty() {
        return show_form(&state, page, StatusCode::UNPROCESSABLE_ENTITY, form, None, Vec::new(), false)
            .await;
    }
    match state.app.patients().register_patient(&ctx, form.v.clone(), confirmed).await {
        Ok(done) => Ok(with_flash(
            &format!("/patients/{}", done.patient.id),
            &format!("Registered {} as {}.", done.patient.display_name(), done.patient.mrn),
            state.web.secure_cookies,
        )),
        Err(AppError::Invalid(e)) => {
            form.errors = errors_of(e);
            show_form(&state, page, StatusCode::UNPROCESSABLE_ENTITY, form, None, Vec::new(), false).await
        }
        Err(AppError::PossibleDuplicates(d)) => {
            show_form(&state, page, StatusCode::CONFLICT, form, None, d, false).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let p = state.app.patients().patient(&ctx, patient_id(&id)?).await?;
    let editing = Some((p.id, p.mrn.clone(), p.version));
    show_form(&state, page, StatusCode::OK, PatientForm::of(&p), editing, Vec::new(), false).await
}

async fn edit(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = patient_id(&id)?;
    let fields = Fields(fields);
    let mut form = PatientForm::from_fields(&fields);
    let version: i32 = fields.value("version").parse().unwrap_or(0);
    let mrn = fields.value("mrn");
    if !form.errors.is_empty() {
        return show_form(
            &state,
            page,
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
            Some((id, mrn, version)),
            Vec::new(),
            false,
        )
        .await;
    }
    match state.app.patients().update_patient(&ctx, id, version, form.v.clone()).await {
        Ok(p) => Ok(with_flash(&format!("/patients/{}", p.id), "Saved.", state.web.secure_cookies)),
        Err(AppError::Invalid(e)) => {
            form.errors = errors_of(e);
            show_form(
                &state,
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                Some((id, mrn, version)),
                Vec::new(),
                false,
            )
            .await
        }
        Err(AppError::VersionConflict { current }) => {
            // Show what is on file now; the user's typing is lost only after they see why.
            let editing = Some((current.id, current.mrn.clone(), current.version));
            show_form(
                &state,
                page,
                StatusCode::CONFLICT,
                PatientForm::of(&current),
                editing,
                Vec::new(),
                true,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------- the chart ----------

#[derive(Template)]
#[template(path = "chart.html")]
struct ChartPage {
    page: PageCtx,
    p: Patient,
    timeline: TimelinePartial,
    may_edit: bool,
    may_merge: bool,
    may_book: bool,
    type_names: Vec<(String, String)>,
    /// The clinical part, for clinicians and for the patient's own account.
    clinical: Option<super::clinical::ClinicalSummary>,
    /// Whether the timeline's clinical entries are shown (clinicians only).
    clinical_timeline: bool,
}

impl ChartPage {
    /// The timeline's filters: all the groups for clinicians, the non-clinical ones for others.
    fn timeline_groups(&self) -> Vec<(&'static str, &'static str)> {
        let mut groups = vec![("all", "All")];
        if self.clinical_timeline {
            groups.extend([
                ("visits", "Visits"),
                ("diagnoses", "Diagnoses"),
                ("prescriptions", "Prescriptions"),
            ]);
        }
        groups.extend([("appointments", "Appointments"), ("record", "Record changes")]);
        groups
    }

    fn type_name(&self, code: &str) -> String {
        self.type_names.iter().find(|(c, _)| c == code).map_or_else(|| code.to_owned(), |(_, n)| n.clone())
    }
}

#[derive(Template)]
#[template(path = "timeline_partial.html")]
struct TimelinePartial {
    patient: PatientId,
    entries: Vec<TimelineEntry>,
    more: Option<String>,
    /// The group shown ("" for all), kept by the "older entries" link.
    kind: String,
}

#[derive(Template)]
#[template(path = "break_glass.html")]
struct BreakGlassPage {
    page: PageCtx,
    id: PatientId,
    may_break_glass: bool,
    error: Option<String>,
}

async fn timeline_part(
    state: &AppState,
    ctx: &salus_app::Ctx,
    id: PatientId,
    before: Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>,
    kind: &str,
) -> Result<TimelinePartial, AppError> {
    let group = Some(kind).filter(|k| !k.is_empty());
    let mut entries = state.app.patients().timeline_of(ctx, id, before, TIMELINE_PAGE + 1, group).await?;
    let more = if entries.len() as u64 > TIMELINE_PAGE {
        entries.truncate(TIMELINE_PAGE as usize);
        entries.last().map(|e| super::urlencode(&format!("{}|{}", e.at.to_rfc3339(), e.id)))
    } else {
        None
    };
    Ok(TimelinePartial { patient: id, entries, more, kind: kind.to_owned() })
}

async fn chart(
    State(state): State<AppState>,
    SignedIn(user, ctx, page): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = patient_id(&id)?;
    let p = match state.app.patients().patient(&ctx, id).await {
        Ok(p) => p,
        Err(AppError::BreakGlassRequired { may_break_glass }) => {
            return Ok(render(
                StatusCode::FORBIDDEN,
                &BreakGlassPage { page, id, may_break_glass, error: None },
            ));
        }
        Err(e) => return Err(e.into()),
    };
    // The patient's own account reads its signed notes, problems and medicines too.
    let own_record = user.roles.contains(&salus_core::Role::Patient) && user.patient_id == Some(id);
    let clinical = async {
        if user.may(Permission::ClinicalRead) || own_record {
            let may_write = user.may(Permission::ClinicalWrite);
            Ok(Some(super::clinical::ClinicalSummary::load(&state, &ctx, id, may_write).await?))
        } else {
            Ok::<_, PageError>(None)
        }
    };
    // The sections side by side: their reads overlap and their audit events share a commit.
    let (timeline, type_names, clinical) = tokio::try_join!(
        async { Ok(timeline_part(&state, &ctx, id, None, "").await?) },
        types(&state),
        clinical
    )?;
    Ok(render(
        StatusCode::OK,
        &ChartPage {
            page,
            p,
            timeline,
            may_edit: user.may(Permission::PatientsRegister),
            may_merge: user.may(Permission::PatientsMerge),
            may_book: user.may(Permission::AppointmentsBook),
            type_names,
            clinical,
            clinical_timeline: user.may(Permission::ClinicalRead),
        },
    ))
}

#[derive(Deserialize)]
struct Before {
    before: Option<String>,
    #[serde(default)]
    kind: String,
}

async fn timeline_more(
    State(state): State<AppState>,
    SignedIn(_, ctx, _): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<Before>,
) -> Result<Response, PageError> {
    let id = patient_id(&id)?;
    let before = match q.before.as_deref() {
        None => None,
        Some(raw) => {
            Some(raw.parse::<crate::api::patients::TimelinePosition>().map(|p| (p.0, p.1)).map_err(|()| {
                PageError::new(StatusCode::BAD_REQUEST, "That is not a position in the timeline.")
            })?)
        }
    };
    match timeline_part(&state, &ctx, id, before, &q.kind).await {
        Ok(part) => Ok(render(StatusCode::OK, &part)),
        Err(AppError::Invalid(_)) => {
            Err(PageError::new(StatusCode::BAD_REQUEST, "There is no such kind of entry."))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn break_glass(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(id): Path<String>,
    Form(form): Form<ReasonForm>,
) -> Result<Response, PageError> {
    let id = patient_id(&id)?;
    match state.app.patients().break_glass(&ctx, id, &form.reason).await {
        Ok(until) => Ok(with_flash(
            &format!("/patients/{id}"),
            &format!(
                "Access granted until {} UTC. Your reason is recorded for review.",
                until.format("%H:%M")
            ),
            state.web.secure_cookies,
        )),
        Err(AppError::Invalid(e)) => {
            let error = e.into_iter().next().map(|e| format!("The reason: {}.", e.message));
            Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &BreakGlassPage { page, id, may_break_glass: true, error },
            ))
        }
        Err(e) => Err(e.into()),
    }
}

async fn photo(
    State(state): State<AppState>,
    SignedIn(_, ctx, _): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let photo = state.app.patients().patient_photo(&ctx, patient_id(&id)?).await?;
    Ok(crate::api::patients::photo_response(photo))
}

async fn upload_photo(
    State(state): State<AppState>,
    SignedIn(_, ctx, _): SignedIn,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let id = patient_id(&id)?;
    let mut data = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("photo") {
            data = Some(
                field
                    .bytes()
                    .await
                    .map_err(|_| PageError::new(StatusCode::PAYLOAD_TOO_LARGE, "The photo is too large."))?,
            );
        }
    }
    let Some(data) = data.filter(|d| !d.is_empty()) else {
        return Ok(with_flash(&format!("/patients/{id}"), "Choose a photo first.", state.web.secure_cookies));
    };
    let text = match state.app.patients().set_patient_photo(&ctx, id, data.to_vec()).await {
        Ok(()) => "Photo saved.".to_owned(),
        Err(AppError::Invalid(e)) => {
            e.into_iter().map(|e| format!("The photo {}.", e.message)).collect::<Vec<_>>().join(" ")
        }
        Err(e) => return Err(e.into()),
    };
    Ok(with_flash(&format!("/patients/{id}"), &text, state.web.secure_cookies))
}

async fn merge(
    State(state): State<AppState>,
    SignedIn(_, ctx, _): SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = patient_id(&id)?;
    let mrn = Fields(fields).value("survivor_mrn");
    let back = format!("/patients/{id}");
    let survivor = match state.app.patients().patient_by_mrn(&ctx, &mrn).await {
        Ok(p) => p,
        Err(AppError::NotFound(_)) => {
            return Ok(with_flash(
                &back,
                "No patient has that MRN (check its last digit).",
                state.web.secure_cookies,
            ));
        }
        Err(e) => return Err(e.into()),
    };
    match state.app.patients().merge_patients(&ctx, id, survivor.id).await {
        Ok(_) => Ok(with_flash(
            &format!("/patients/{}", survivor.id),
            "Merged. Everything from the duplicate is on this record now; the merge can be undone from the duplicate.",
            state.web.secure_cookies,
        )),
        Err(AppError::Invalid(e)) => {
            let text = e
                .into_iter()
                .map(|e| format!("The record to keep {}.", e.message))
                .collect::<Vec<_>>()
                .join(" ");
            Ok(with_flash(&back, &text, state.web.secure_cookies))
        }
        Err(AppError::Conflict(m)) => Ok(with_flash(&back, &m, state.web.secure_cookies)),
        Err(e) => Err(e.into()),
    }
}

async fn unmerge(
    State(state): State<AppState>,
    SignedIn(_, ctx, _): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = patient_id(&id)?;
    let text = match state.app.patients().unmerge_patient(&ctx, id).await {
        Ok(()) => "The merge was undone; this record stands on its own again.".to_owned(),
        Err(AppError::Conflict(m)) => m,
        Err(e) => return Err(e.into()),
    };
    Ok(with_flash(&format!("/patients/{id}"), &text, state.web.secure_cookies))
}
