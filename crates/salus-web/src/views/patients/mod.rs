//! The front desk's and the clinicians' patient pages: search while typing, the chart
//! (header and timeline), the photo, break-the-glass, and an administrator's merge and
//! unmerge. The registration and editing form is in `form`.

use crate::access::{Access, Declared, route};
use crate::views::flash;
use crate::views::menu::Entry;
use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use salus_app::AppError;
use salus_app::identity::Permission;
use salus_app::patients::{Patient, SearchHit, TimelineEntry};
use salus_core::PatientId;
use salus_core::clinical::{EncounterClass, Severity};
use serde::Deserialize;

use super::{Form, PageCtx, SignedIn, render};
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

mod form;

use form::{edit, edit_page, new_page, register, types};

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
    if headers.contains_key(axum_htmx::HX_REQUEST) {
        return Ok(render(StatusCode::OK, &results));
    }
    let may_register = user.may(Permission::PatientsRegister);
    Ok(render(StatusCode::OK, &SearchPage { page, q: query, results, may_register }))
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
    // The record and the sections side by side: their reads overlap and their audit
    // events share a commit. Each section checks access to the record itself, so one
    // refused is refused whole; the record's answer says how (break the glass, not found).
    let patients = state.app.patients();
    let (record, sections) = tokio::join!(patients.patient(&ctx, id), async {
        tokio::try_join!(
            async { Ok(timeline_part(&state, &ctx, id, None, "").await?) },
            types(&state),
            clinical
        )
    });
    let p = match record {
        Ok(p) => p,
        Err(AppError::BreakGlassRequired { may_break_glass }) => {
            return Ok(render(
                StatusCode::FORBIDDEN,
                &BreakGlassPage { page, id, may_break_glass, error: None },
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let (timeline, type_names, clinical) = sections?;
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
        Ok(until) => Ok(flash(
            &state,
            &format!("/patients/{id}"),
            &format!(
                "Access granted until {} UTC. Your reason is recorded for review.",
                until.format("%H:%M")
            ),
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
        return Ok(flash(&state, &format!("/patients/{id}"), "Choose a photo first."));
    };
    let text = match state.app.patients().set_patient_photo(&ctx, id, data.to_vec()).await {
        Ok(()) => "Photo saved.".to_owned(),
        Err(AppError::Invalid(e)) => {
            e.into_iter().map(|e| format!("The photo {}.", e.message)).collect::<Vec<_>>().join(" ")
        }
        Err(e) => return Err(e.into()),
    };
    Ok(flash(&state, &format!("/patients/{id}"), &text))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MergeForm {
    survivor_mrn: String,
}

async fn merge(
    State(state): State<AppState>,
    SignedIn(_, ctx, _): SignedIn,
    Path(id): Path<String>,
    Form(form): Form<MergeForm>,
) -> Result<Response, PageError> {
    let id = patient_id(&id)?;
    let mrn = form.survivor_mrn;
    let back = format!("/patients/{id}");
    let survivor = match state.app.patients().patient_by_mrn(&ctx, &mrn).await {
        Ok(p) => p,
        Err(AppError::NotFound(_)) => {
            return Ok(flash(&state, &back, "No patient has that MRN (check its last digit)."));
        }
        Err(e) => return Err(e.into()),
    };
    match state.app.patients().merge_patients(&ctx, id, survivor.id).await {
        Ok(_) => Ok(flash(
            &state,
            &format!("/patients/{}", survivor.id),
            "Merged. Everything from the duplicate is on this record now; the merge can be undone from the duplicate.",
        )),
        Err(AppError::Invalid(e)) => {
            let text = e
                .into_iter()
                .map(|e| format!("The record to keep {}.", e.message))
                .collect::<Vec<_>>()
                .join(" ");
            Ok(flash(&state, &back, &text))
        }
        Err(AppError::Conflict(m)) => Ok(flash(&state, &back, &m)),
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
    Ok(flash(&state, &format!("/patients/{id}"), &text))
}
