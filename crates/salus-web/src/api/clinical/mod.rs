//! The clinical record: encounters (FHIR Encounter), vital signs (Observation,
//! vital-signs profile: LOINC 8310-5 temperature, 8867-4 pulse, 8480-6/8462-4 blood
//! pressure, 9279-1 respiratory rate, 59408-5 SpO2, 29463-7 weight, 8302-2 height,
//! 39156-5 BMI), notes, diagnoses (Condition, ICD-10-CM), allergies
//! (AllergyIntolerance) and immunizations (Immunization). Vital signs are integers in
//! fixed units (tenths of °C, grams, millimetres, BMI in tenths). Every read is audited;
//! a patient's own account reads its signed notes.
//!
//! This module has encounters, vital signs and notes; `records` the problem list,
//! allergies and immunizations; `prescriptions` the medicine catalog, prescriptions and
//! note templates; `files` referrals and attachments.

pub(crate) mod files;
pub(super) mod prescriptions;
pub(super) mod records;

pub use files::attachment_response;

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use salus_app::clinical::{EncounterView, NewEncounter, Soap};
use salus_app::identity::Permission;
use salus_core::clinical::{
    Encounter, EncounterClass, EncounterStatus, Note, NoteStatus, VitalSigns, VitalsText,
};
use salus_core::{AppointmentId, EncounterId, NoteId, PatientId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::openapi::coded;
use super::{ApiJson, ApiQuery, ApiUser, Paged, decode_cursor, if_match, with_etag};
use crate::AppState;
use crate::error::{ApiError, Problem, ProblemKind};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    // The clinical record: the use cases decide (clinical.read for staff, the patient's
    // own account for its signed notes, clinical.write and vitals.record for writing).
    route("/api/v1/encounters", Access::Permission(Permission::ClinicalWrite)).post(),
    route("/api/v1/encounters/{id}", Access::SignedIn),
    route("/api/v1/encounters/{id}/{action}", Access::Permission(Permission::ClinicalRead))
        .post()
        .example("/api/v1/encounters/{id}/finish"),
    route("/api/v1/encounters/{id}/vitals", Access::Permission(Permission::VitalsRecord)).post(),
    route("/api/v1/encounters/{id}/notes", Access::Permission(Permission::ClinicalWrite)).post(),
    route("/api/v1/notes/{id}", Access::Permission(Permission::ClinicalWrite)).put(),
    route("/api/v1/notes/{id}/{action}", Access::Permission(Permission::ClinicalWrite))
        .post()
        .example("/api/v1/notes/{id}/sign"),
    route("/api/v1/notes/{id}/history", Access::SignedIn),
    route("/api/v1/patients/{id}/encounters", Access::SignedIn),
    route("/api/v1/patients/{id}/vitals", Access::SignedIn),
];

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_encounter))
        .routes(routes!(get_encounter))
        .routes(routes!(close_encounter))
        .routes(routes!(record_vitals))
        .routes(routes!(start_note))
        .routes(routes!(save_note))
        .routes(routes!(note_action))
        .routes(routes!(note_history))
        .routes(routes!(patient_encounters))
        .routes(routes!(patient_vitals))
        .merge(records::routes())
        .merge(prescriptions::routes())
        .merge(files::routes())
}

pub(crate) fn id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::new(ProblemKind::NotFound, format!("{what} not found")))
}

/// An encounter (FHIR Encounter).
#[derive(Debug, Serialize, ToSchema)]
pub struct EncounterOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    /// The appointment it was opened from, if any.
    pub appointment_id: Option<Uuid>,
    /// AMB (outpatient) or EMER (emergency).
    #[schema(schema_with = coded::<EncounterClass>)]
    pub class: EncounterClass,
    /// in_progress, finished or entered_in_error.
    #[schema(schema_with = coded::<EncounterStatus>)]
    pub status: EncounterStatus,
    pub doctor_id: Uuid,
    pub department_id: Option<Uuid>,
    pub chief_complaint: Option<String>,
    pub started_at: DateTime<Utc>,
    /// When it was finished (or marked entered in error).
    pub ended_at: Option<DateTime<Utc>>,
    /// Why it was marked entered in error.
    pub error_reason: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Send as `If-Match` to change it.
    pub version: i32,
}

impl From<Encounter> for EncounterOut {
    fn from(e: Encounter) -> Self {
        Self {
            id: e.id,
            patient_id: e.patient_id,
            appointment_id: e.appointment_id,
            class: e.class,
            status: e.status,
            doctor_id: e.doctor_id,
            department_id: e.department_id,
            chief_complaint: e.chief_complaint,
            started_at: e.started_at,
            ended_at: e.ended_at,
            error_reason: e.error_reason,
            created_by: e.created_by,
            created_at: e.created_at,
            updated_at: e.updated_at,
            version: e.version,
        }
    }
}

/// One set of vital signs, in fixed integer units; absent measurements are null.
#[derive(Debug, Serialize, ToSchema)]
pub struct VitalsOut {
    pub id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub patient_id: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Option<Uuid>,
    /// Body temperature in tenths of °C (368 is 36.8 °C).
    pub temperature_dc: Option<i32>,
    /// Pulse, beats per minute.
    pub pulse_bpm: Option<i32>,
    /// Systolic blood pressure, mmHg.
    pub systolic: Option<i32>,
    /// Diastolic blood pressure, mmHg.
    pub diastolic: Option<i32>,
    /// Breaths per minute.
    pub respiratory_rate: Option<i32>,
    /// Oxygen saturation, percent.
    pub spo2: Option<i32>,
    /// Weight in grams.
    pub weight_g: Option<i32>,
    /// Height in millimetres.
    pub height_mm: Option<i32>,
    /// Body-mass index in tenths (238 is 23.8), derived from weight and height.
    pub bmi_x10: Option<i32>,
    /// Set when marked entered in error: why.
    pub error_reason: Option<String>,
}

impl From<VitalSigns> for VitalsOut {
    fn from(v: VitalSigns) -> Self {
        Self {
            id: v.id,
            encounter_id: v.encounter_id,
            patient_id: v.patient_id,
            recorded_at: v.recorded_at,
            recorded_by: v.recorded_by,
            temperature_dc: v.temperature_dc,
            pulse_bpm: v.pulse_bpm,
            systolic: v.systolic,
            diastolic: v.diastolic,
            respiratory_rate: v.respiratory_rate,
            spo2: v.spo2,
            weight_g: v.weight_g,
            height_mm: v.height_mm,
            bmi_x10: v.bmi_x10,
            error_reason: v.error_reason,
        }
    }
}

/// A clinical note (SOAP): a draft, or signed and never changed again.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoteOut {
    pub id: Uuid,
    pub encounter_id: Uuid,
    pub patient_id: Uuid,
    pub author_id: Uuid,
    /// draft, signed or entered_in_error.
    #[schema(schema_with = coded::<NoteStatus>)]
    pub status: NoteStatus,
    /// The signed note this one amends, if it is an amendment.
    pub amends: Option<Uuid>,
    pub amend_reason: Option<String>,
    pub subjective: String,
    pub objective: String,
    pub assessment: String,
    pub plan: String,
    pub signed_at: Option<DateTime<Utc>>,
    /// Set when marked entered in error: why.
    pub error_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Send as `If-Match` to save or sign it.
    pub version: i32,
}

impl From<Note> for NoteOut {
    fn from(n: Note) -> Self {
        Self {
            id: n.id,
            encounter_id: n.encounter_id,
            patient_id: n.patient_id,
            author_id: n.author_id,
            status: n.status,
            amends: n.amends,
            amend_reason: n.amend_reason,
            subjective: n.subjective,
            objective: n.objective,
            assessment: n.assessment,
            plan: n.plan,
            signed_at: n.signed_at,
            error_reason: n.error_reason,
            created_at: n.created_at,
            updated_at: n.updated_at,
            version: n.version,
        }
    }
}

/// An encounter with its vital signs and notes (a patient's own account sees only the
/// signed notes).
#[derive(Debug, Serialize, ToSchema)]
pub struct EncounterViewOut {
    pub encounter: EncounterOut,
    pub vitals: Vec<VitalsOut>,
    pub notes: Vec<NoteOut>,
}

impl From<EncounterView> for EncounterViewOut {
    fn from(v: EncounterView) -> Self {
        Self {
            encounter: v.encounter.into(),
            vitals: v.vitals.into_iter().map(Into::into).collect(),
            notes: v.notes.into_iter().map(Into::into).collect(),
        }
    }
}

/// A note marked entered in error.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoteMarkedOut {
    /// Always entered_in_error.
    pub status: String,
}

/// What a note action answers: the note signed, or the mark.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum NoteActionOut {
    Note(Box<NoteOut>),
    Marked(NoteMarkedOut),
}

/// A new encounter.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EncounterIn {
    #[schema(value_type = String, format = Uuid)]
    pub patient_id: PatientId,
    /// The appointment (checked in) it comes from, if any.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub appointment_id: Option<AppointmentId>,
    /// AMB (outpatient, the default) or EMER.
    #[serde(default = "amb")]
    pub class: String,
    pub chief_complaint: Option<String>,
}

fn amb() -> String {
    "AMB".into()
}

/// Open an encounter
///
/// The signed-in doctor is its doctor. From an appointment the patient must be checked in.
#[utoipa::path(post, path = "/api/v1/encounters", tag = "clinical", request_body = EncounterIn,
    responses((status = 201, description = "Opened", body = EncounterOut),
        (status = 403, description = "Not a doctor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient or appointment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The appointment has its encounter already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json")))]
async fn open_encounter(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<EncounterIn>,
) -> Result<Response, ApiError> {
    let input = NewEncounter {
        patient_id: b.patient_id,
        appointment_id: b.appointment_id,
        class: b.class,
        chief_complaint: b.chief_complaint.unwrap_or_default(),
    };
    let e = state.app.clinical().open_encounter(&ctx, input).await?;
    let version = e.version;
    Ok(with_etag(StatusCode::CREATED, version, EncounterOut::from(e)))
}

/// Read an encounter with its vitals and notes
#[utoipa::path(get, path = "/api/v1/encounters/{id}", tag = "clinical",
    params(("id" = String, Path, description = "Encounter id")),
    responses((status = 200, description = "The encounter (ETag: its version)", body = EncounterViewOut),
        (status = 403, description = "Not allowed (reception sees no clinical content)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such encounter", body = Problem, content_type = "application/problem+json")))]
async fn get_encounter(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let view = state.app.clinical().encounter(&ctx, id::<EncounterId>(&raw, "encounter")?).await?;
    let version = view.encounter.version;
    Ok(with_etag(StatusCode::OK, version, EncounterViewOut::from(view)))
}

/// A reason (for entered in error).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonIn {
    pub reason: String,
}

/// Finish an encounter, or mark it entered in error
#[utoipa::path(post, path = "/api/v1/encounters/{id}/{action}", tag = "clinical",
    params(("id" = String, Path, description = "Encounter id"), ("action" = String, Path, description = "finish or entered-in-error (with a reason)"),
        ("If-Match" = String, Header, description = "The version")),
    responses((status = 200, description = "Done", body = EncounterOut),
        (status = 409, description = "Not in progress, not its doctor, or changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json")))]
async fn close_encounter(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path((raw, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Option<ApiJson<ReasonIn>>,
) -> Result<Response, ApiError> {
    let (eid, version) = (id::<EncounterId>(&raw, "encounter")?, if_match(&headers)?);
    let reason = body.map(|ApiJson(b)| b.reason);
    let e = match action.as_str() {
        "finish" => state.app.clinical().close_encounter(&ctx, eid, version, None).await?,
        "entered-in-error" => {
            state
                .app
                .clinical()
                .close_encounter(&ctx, eid, version, Some(reason.as_deref().unwrap_or("")))
                .await?
        }
        _ => return Err(ApiError::new(ProblemKind::NotFound, "no such action")),
    };
    let version = e.version;
    Ok(with_etag(StatusCode::OK, version, EncounterOut::from(e)))
}

/// Vital signs as measured.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VitalsIn {
    /// °C, one decimal ("36.8").
    pub temperature_c: Option<String>,
    pub pulse: Option<String>,
    pub systolic: Option<String>,
    pub diastolic: Option<String>,
    pub respiratory_rate: Option<String>,
    pub spo2: Option<String>,
    pub weight_kg: Option<String>,
    pub height_cm: Option<String>,
}

/// Record vital signs
///
/// Each value is checked against a plausible range; BMI is derived.
#[utoipa::path(post, path = "/api/v1/encounters/{id}/vitals", tag = "clinical", request_body = VitalsIn,
    params(("id" = String, Path, description = "Encounter id")),
    responses((status = 201, description = "Recorded", body = VitalsOut),
        (status = 409, description = "The encounter is not in progress", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Implausible or malformed values, each named", body = Problem, content_type = "application/problem+json")))]
async fn record_vitals(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<VitalsIn>,
) -> Result<(StatusCode, Json<VitalsOut>), ApiError> {
    let text = VitalsText {
        temperature_c: b.temperature_c.unwrap_or_default(),
        pulse: b.pulse.unwrap_or_default(),
        systolic: b.systolic.unwrap_or_default(),
        diastolic: b.diastolic.unwrap_or_default(),
        respiratory_rate: b.respiratory_rate.unwrap_or_default(),
        spo2: b.spo2.unwrap_or_default(),
        weight_kg: b.weight_kg.unwrap_or_default(),
        height_cm: b.height_cm.unwrap_or_default(),
    };
    let v = state.app.clinical().record_vitals(&ctx, id(&raw, "encounter")?, &text).await?;
    Ok((StatusCode::CREATED, Json(v.into())))
}

/// A note's sections.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteIn {
    /// Start from this note template instead of the text below.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub template_id: Option<Uuid>,
    #[serde(default)]
    #[schema(max_length = 20000, pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$")]
    pub subjective: String,
    #[serde(default)]
    #[schema(max_length = 20000, pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$")]
    pub objective: String,
    #[serde(default)]
    #[schema(max_length = 20000, pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$")]
    pub assessment: String,
    #[serde(default)]
    #[schema(max_length = 20000, pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$")]
    pub plan: String,
}

impl NoteIn {
    fn soap(self) -> Soap {
        Soap {
            subjective: self.subjective,
            objective: self.objective,
            assessment: self.assessment,
            plan: self.plan,
        }
    }
}

/// Start a note (a draft)
#[utoipa::path(post, path = "/api/v1/encounters/{id}/notes", tag = "clinical", request_body = NoteIn,
    params(("id" = String, Path, description = "Encounter id")),
    responses((status = 201, description = "The draft", body = NoteOut),
        (status = 403, description = "Not a doctor", body = Problem, content_type = "application/problem+json")))]
async fn start_note(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(mut b): ApiJson<NoteIn>,
) -> Result<Response, ApiError> {
    let template = b.template_id.take();
    let n = state.app.clinical().start_note(&ctx, id(&raw, "encounter")?, template, b.soap()).await?;
    let version = n.version;
    Ok(with_etag(StatusCode::CREATED, version, NoteOut::from(n)))
}

/// Save a draft
///
/// Only its author; a signed note is final (409, amend it instead).
#[utoipa::path(put, path = "/api/v1/notes/{id}", tag = "clinical", request_body = NoteIn,
    params(("id" = String, Path, description = "Note id"), ("If-Match" = String, Header, description = "The version")),
    responses((status = 200, description = "Saved", body = NoteOut),
        (status = 409, description = "Signed, another doctor's, or changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json")))]
async fn save_note(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<NoteIn>,
) -> Result<Response, ApiError> {
    let (nid, version) = (id::<NoteId>(&raw, "note")?, if_match(&headers)?);
    let n = state.app.clinical().save_note(&ctx, nid, version, b.soap()).await?;
    let version = n.version;
    Ok(with_etag(StatusCode::OK, version, NoteOut::from(n)))
}

/// An amendment's reason and, optionally, its text (else the amended note's).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteActionIn {
    pub reason: Option<String>,
    pub subjective: Option<String>,
    pub objective: Option<String>,
    pub assessment: Option<String>,
    pub plan: Option<String>,
}

/// Sign a note, amend a signed one, or mark one entered in error
///
/// `sign` (If-Match; only the author); `amend` (a reason; starts a new draft that names
/// the note); `entered-in-error` (a reason).
#[utoipa::path(post, path = "/api/v1/notes/{id}/{action}", tag = "clinical", request_body = NoteActionIn,
    params(("id" = String, Path, description = "Note id"), ("action" = String, Path, description = "sign, amend or entered-in-error")),
    responses((status = 200, description = "The note signed, or the mark (`entered-in-error`)", body = NoteActionOut),
        (status = 201, description = "The amendment's draft", body = NoteOut),
        (status = 409, description = "Not allowed in its state, or another doctor's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or an empty note", body = Problem, content_type = "application/problem+json")))]
async fn note_action(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path((raw, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Option<ApiJson<NoteActionIn>>,
) -> Result<Response, ApiError> {
    let nid = id::<NoteId>(&raw, "note")?;
    let body = body.map(|ApiJson(b)| b);
    match action.as_str() {
        "sign" => {
            let n = state.app.clinical().sign_note(&ctx, nid, if_match(&headers)?).await?;
            let version = n.version;
            Ok(with_etag(StatusCode::OK, version, NoteActionOut::Note(Box::new(n.into()))))
        }
        "amend" => {
            let b = body.unwrap_or(NoteActionIn {
                reason: None,
                subjective: None,
                objective: None,
                assessment: None,
                plan: None,
            });
            let text = (b.subjective.is_some()
                || b.objective.is_some()
                || b.assessment.is_some()
                || b.plan.is_some())
            .then(|| Soap {
                subjective: b.subjective.unwrap_or_default(),
                objective: b.objective.unwrap_or_default(),
                assessment: b.assessment.unwrap_or_default(),
                plan: b.plan.unwrap_or_default(),
            });
            let n =
                state.app.clinical().amend_note(&ctx, nid, b.reason.as_deref().unwrap_or(""), text).await?;
            let version = n.version;
            Ok(with_etag(StatusCode::CREATED, version, NoteOut::from(n)))
        }
        "entered-in-error" => {
            let reason = body.and_then(|b| b.reason).unwrap_or_default();
            state.app.clinical().note_in_error(&ctx, nid, &reason).await?;
            let marked = NoteMarkedOut { status: "entered_in_error".into() };
            Ok(with_etag(StatusCode::OK, 0, NoteActionOut::Marked(marked)))
        }
        _ => Err(ApiError::new(ProblemKind::NotFound, "no such action")),
    }
}

/// A note's versions
///
/// What it amends back to the first, and what amends it, oldest first.
#[utoipa::path(get, path = "/api/v1/notes/{id}/history", tag = "clinical",
    params(("id" = String, Path, description = "Note id")),
    responses((status = 200, description = "The versions", body = Paged<NoteOut>)))]
async fn note_history(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<NoteOut>>, ApiError> {
    let chain = state.app.clinical().note_history(&ctx, id(&raw, "note")?).await?;
    Ok(Json(Paged::new(chain.into_iter().map(NoteOut::from).collect(), None::<String>)))
}

/// `?limit=&cursor=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 200 (default 50).
    #[serde(default, deserialize_with = "crate::api::extract::bounded::<_, u64, 1, 200>")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// A patient's encounters
///
/// Newest first, paged by cursor (the same cost at the ten-thousandth as at the first).
#[utoipa::path(get, path = "/api/v1/patients/{id}/encounters", tag = "clinical", params(("id" = String, Path, description = "Patient id"), PageQuery),
    responses((status = 200, description = "A page", body = Paged<EncounterOut>)))]
async fn patient_encounters(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Paged<EncounterOut>>, ApiError> {
    let after = decode_cursor::<String>(q.cursor.as_deref())?
        .map(|c| {
            let (at, id) = c.split_once('|').unwrap_or(("", ""));
            Ok::<_, ApiError>((at.parse().map_err(|_| bad_cursor())?, id.parse().map_err(|_| bad_cursor())?))
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let rows = state.app.clinical().encounters(&ctx, id(&raw, "patient")?, after, limit + 1).await?;
    let page = salus_core::page::Page::from_overfetch(rows, u32::try_from(limit).unwrap_or(50), |e| {
        format!("{}|{}", e.started_at.to_rfc3339(), e.id)
    });
    Ok(Json(Paged::new(page.items.into_iter().map(EncounterOut::from).collect(), page.next)))
}

fn bad_cursor() -> ApiError {
    ApiError::fields(vec![crate::error::FieldProblem {
        field: "cursor".into(),
        message: "is not a cursor this API gave out".into(),
    }])
}

/// A patient's latest vital signs
#[utoipa::path(get, path = "/api/v1/patients/{id}/vitals", tag = "clinical", params(("id" = String, Path, description = "Patient id")),
    responses((status = 200, description = "Newest first, at most 200", body = Paged<VitalsOut>)))]
async fn patient_vitals(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<VitalsOut>>, ApiError> {
    let rows = state.app.clinical().vitals(&ctx, id(&raw, "patient")?, 200).await?;
    Ok(Json(Paged::new(rows.into_iter().map(VitalsOut::from).collect(), None::<String>)))
}

/// A clinical check warns (an allergy, a duplicate medicine) (409): `warnings` says what to
/// check; going ahead needs a stated reason.
pub const CLINICAL_WARNINGS: ProblemKind =
    ProblemKind::new("clinical-warnings", StatusCode::CONFLICT, "Check before going ahead");

/// The `warnings` member of a clinical-warnings problem.
#[derive(serde::Serialize)]
#[serde(transparent)]
pub struct Warnings(pub Vec<String>);

impl crate::error::ProblemExtension for Warnings {
    const MEMBER: &'static str = "warnings";
}

pub(crate) fn clinical_warnings(warnings: Vec<String>) -> ApiError {
    ApiError::new(CLINICAL_WARNINGS, format!("{}; send override_reason to go ahead", warnings.join("; ")))
        .with(&Warnings(warnings))
}
