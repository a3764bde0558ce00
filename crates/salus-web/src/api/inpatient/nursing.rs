//! The ward's records of a stay over the API: the discharge summary (shaped after a FHIR
//! Composition of type discharge summary: drafted, edited under `If-Match`, signed once),
//! nurses' notes, intake and output (FHIR Observation, entered-in-error kept), and
//! nursing tasks (FHIR Task; a done task tied to a service charges it once).

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use salus_app::identity::Permission;
use salus_app::inpatient::nursing::{IoInput, NursingRecord, SummaryText, SummaryView, TaskInput};
use salus_core::inpatient::nursing::{
    Direction, DischargeSummary, IntakeOutput, NursingNote, NursingTask, Shift, SummaryStatus, TaskStatus,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::api::clinical::id;
use crate::api::extract::{if_match, with_etag};
use crate::api::laboratory::LabPatientOut;
use crate::api::openapi::coded;
use crate::api::{ApiJson, ApiUser};
use crate::error::{ApiError, Problem};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    // Reading needs inpatient.read; drafting and editing inpatient.order (the use case checks).
    route("/api/v1/admissions/{id}/discharge-summary", Access::Permission(Permission::InpatientRead)),
    route("/api/v1/admissions/{id}/discharge-summary/sign", Access::Permission(Permission::InpatientOrder))
        .post(),
    // Reading needs inpatient.read; writing inpatient.nursing (the use case checks).
    route("/api/v1/admissions/{id}/nursing", Access::Permission(Permission::InpatientRead)),
    route("/api/v1/admissions/{id}/nursing-notes", Access::Permission(Permission::NursingRecord)).post(),
    route("/api/v1/admissions/{id}/intake-output", Access::Permission(Permission::NursingRecord)).post(),
    route("/api/v1/intake-output/{id}/entered-in-error", Access::Permission(Permission::NursingRecord))
        .post(),
    route("/api/v1/admissions/{id}/nursing-tasks", Access::Permission(Permission::NursingRecord)).post(),
    route("/api/v1/nursing-tasks/{id}/done", Access::Permission(Permission::NursingRecord)).post(),
    route("/api/v1/nursing-tasks/{id}/cancel", Access::Permission(Permission::NursingRecord)).post(),
];

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_summary, draft_summary, save_summary))
        .routes(routes!(sign_summary))
        .routes(routes!(nursing_record))
        .routes(routes!(write_note))
        .routes(routes!(record_io))
        .routes(routes!(io_in_error))
        .routes(routes!(add_task))
        .routes(routes!(task_done))
        .routes(routes!(task_cancel))
}

// ---- Wire ------------------------------------------------------------------------------

/// A discharge summary (FHIR Composition, type LOINC 18842-5).
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryOut {
    pub id: Uuid,
    pub admission_id: Uuid,
    pub patient_id: Uuid,
    pub diagnoses: String,
    pub procedures: String,
    pub key_results: String,
    /// The medicines the patient goes home on.
    pub medicines: String,
    pub follow_up: String,
    pub instructions: String,
    #[schema(schema_with = coded::<SummaryStatus>)]
    pub status: SummaryStatus,
    pub drafted_by: Uuid,
    pub drafted_at: DateTime<Utc>,
    pub signed_by: Option<Uuid>,
    pub signed_at: Option<DateTime<Utc>>,
    pub version: i32,
}

impl From<DischargeSummary> for SummaryOut {
    fn from(s: DischargeSummary) -> Self {
        Self {
            id: s.id,
            admission_id: s.admission_id,
            patient_id: s.patient_id,
            diagnoses: s.diagnoses,
            procedures: s.procedures,
            key_results: s.key_results,
            medicines: s.medicines,
            follow_up: s.follow_up,
            instructions: s.instructions,
            status: s.status,
            drafted_by: s.drafted_by,
            drafted_at: s.drafted_at,
            signed_by: s.signed_by,
            signed_at: s.signed_at,
            version: s.version,
        }
    }
}

/// A stay's discharge summary, if drafted.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryViewOut {
    pub admission_id: Uuid,
    pub number: String,
    pub patient: LabPatientOut,
    pub summary: Option<SummaryOut>,
}

impl From<SummaryView> for SummaryViewOut {
    fn from(v: SummaryView) -> Self {
        Self {
            admission_id: v.admission.id,
            number: v.admission.number,
            patient: v.patient.into(),
            summary: v.summary.map(Into::into),
        }
    }
}

/// A summary's text, as edited.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryIn {
    #[schema(max_length = 4000)]
    pub diagnoses: String,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub procedures: String,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub key_results: String,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub medicines: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub follow_up: String,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub instructions: String,
}

/// A nurse's note.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NursingNoteOut)]
pub struct NoteOut {
    pub id: Uuid,
    pub admission_id: Uuid,
    #[schema(schema_with = coded::<Shift>)]
    pub shift: Shift,
    pub body: String,
    /// The note it corrects.
    pub amends_id: Option<Uuid>,
    pub author_id: Uuid,
    pub written_at: DateTime<Utc>,
}

impl From<NursingNote> for NoteOut {
    fn from(n: NursingNote) -> Self {
        Self {
            id: n.id,
            admission_id: n.admission_id,
            shift: n.shift,
            body: n.body,
            amends_id: n.amends_id,
            author_id: n.author_id,
            written_at: n.written_at,
        }
    }
}

/// A volume in or out.
#[derive(Debug, Serialize, ToSchema)]
pub struct IoOut {
    pub id: Uuid,
    pub admission_id: Uuid,
    #[schema(schema_with = coded::<Direction>)]
    pub direction: Direction,
    pub route: String,
    pub volume_ml: i32,
    pub measured_at: DateTime<Utc>,
    pub note: Option<String>,
    /// Set when entered in error: kept, not counted.
    pub error_reason: Option<String>,
    pub recorded_by: Uuid,
}

impl From<IntakeOutput> for IoOut {
    fn from(e: IntakeOutput) -> Self {
        Self {
            id: e.id,
            admission_id: e.admission_id,
            direction: e.direction,
            route: e.route,
            volume_ml: e.volume_ml,
            measured_at: e.measured_at,
            note: e.note,
            error_reason: e.error_reason,
            recorded_by: e.recorded_by,
        }
    }
}

/// A nursing task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskOut {
    pub id: Uuid,
    pub admission_id: Uuid,
    pub description: String,
    pub due_at: DateTime<Utc>,
    pub service_code: Option<String>,
    #[schema(schema_with = coded::<TaskStatus>)]
    pub status: TaskStatus,
    pub outcome: Option<String>,
    pub done_by: Option<Uuid>,
    pub done_at: Option<DateTime<Utc>>,
    pub version: i32,
}

impl From<NursingTask> for TaskOut {
    fn from(t: NursingTask) -> Self {
        Self {
            id: t.id,
            admission_id: t.admission_id,
            description: t.description,
            due_at: t.due_at,
            service_code: t.service_code,
            status: t.status,
            outcome: t.outcome,
            done_by: t.done_by,
            done_at: t.done_at,
            version: t.version,
        }
    }
}

/// A stay's nursing record.
#[derive(Debug, Serialize, ToSchema)]
pub struct NursingOut {
    /// Newest first.
    pub notes: Vec<NoteOut>,
    /// Newest first; entered-in-error ones too.
    pub intake_output: Vec<IoOut>,
    /// By due time.
    pub tasks: Vec<TaskOut>,
    /// Millilitres in, out and the balance over the last 24 hours.
    pub intake_24h_ml: i64,
    pub output_24h_ml: i64,
    pub balance_24h_ml: i64,
}

impl From<NursingRecord> for NursingOut {
    fn from(r: NursingRecord) -> Self {
        let (i, o, b) = r.balance_24h;
        Self {
            notes: r.notes.into_iter().map(Into::into).collect(),
            intake_output: r.io.into_iter().map(Into::into).collect(),
            tasks: r.tasks.into_iter().map(Into::into).collect(),
            intake_24h_ml: i,
            output_24h_ml: o,
            balance_24h_ml: b,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NursingNoteIn)]
pub struct NoteIn {
    #[schema(min_length = 1, max_length = 4000)]
    pub body: String,
    /// An earlier note of the stay this one corrects.
    pub amends_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IoIn {
    #[schema(schema_with = coded::<Direction>)]
    pub direction: Direction,
    /// Intake: oral, iv, feed, other. Output: urine, drain, vomit, stool, other.
    pub route: String,
    #[schema(minimum = 1, maximum = 10000)]
    pub volume_ml: i32,
    /// Default: now.
    pub measured_at: Option<DateTime<Utc>>,
    #[serde(default)]
    #[schema(max_length = 300)]
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NursingReasonIn)]
pub struct ReasonIn {
    #[schema(min_length = 1, max_length = 300)]
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskIn {
    #[schema(min_length = 1, max_length = 300)]
    pub description: String,
    /// Default: now.
    pub due_at: Option<DateTime<Utc>>,
    /// A price-list service doing it charges.
    #[serde(default)]
    #[schema(max_length = 20)]
    pub service_code: String,
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct OutcomeIn {
    /// How it went (required to cancel: why it is not needed).
    #[serde(default)]
    #[schema(max_length = 300)]
    pub outcome: String,
}

// ---- Handlers --------------------------------------------------------------------------

/// A stay's discharge summary
#[utoipa::path(get, path = "/api/v1/admissions/{id}/discharge-summary", tag = "inpatient",
    params(("id" = String, Path, description = "Admission id")),
    responses((status = 200, description = "The summary (none until drafted)", body = SummaryViewOut),
        (status = 403, description = "Cannot see this patient", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such admission", body = Problem, content_type = "application/problem+json")))]
async fn get_summary(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<SummaryViewOut>, ApiError> {
    Ok(Json(state.app.inpatient().discharge_summary(&ctx, id(&raw, "admission")?).await?.into()))
}

/// Draft the discharge summary
///
/// Drawn from the stay: its diagnoses, examinations, abnormal results and the medicines
/// still ordered; follow-up and instructions left to the doctor.
#[utoipa::path(post, path = "/api/v1/admissions/{id}/discharge-summary", tag = "inpatient",
    params(("id" = String, Path, description = "Admission id")),
    responses((status = 201, description = "Drafted; its ETag is the version to edit", body = SummaryOut),
        (status = 403, description = "Not a doctor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such admission", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already drafted", body = Problem, content_type = "application/problem+json")))]
async fn draft_summary(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let s = state.app.inpatient().draft_summary(&ctx, id(&raw, "admission")?).await?;
    Ok(with_etag(StatusCode::CREATED, s.version, SummaryOut::from(s)))
}

/// Edit the draft discharge summary
#[utoipa::path(put, path = "/api/v1/admissions/{id}/discharge-summary", tag = "inpatient", request_body = SummaryIn,
    params(("id" = String, Path, description = "Admission id"), ("If-Match" = String, Header, description = "The version edited")),
    responses((status = 200, description = "Saved", body = SummaryOut),
        (status = 403, description = "Not a doctor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such admission or no draft", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Signed (never changed), or changed by someone else since (stale-version)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A part too long", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json")))]
async fn save_summary(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    headers: HeaderMap,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<SummaryIn>,
) -> Result<Response, ApiError> {
    let (admission, version) = (id(&raw, "admission")?, if_match(&headers)?);
    let text = SummaryText {
        diagnoses: b.diagnoses,
        procedures: b.procedures,
        key_results: b.key_results,
        medicines: b.medicines,
        follow_up: b.follow_up,
        instructions: b.instructions,
    };
    let s = state.app.inpatient().save_summary(&ctx, admission, text, version).await?;
    Ok(with_etag(StatusCode::OK, s.version, SummaryOut::from(s)))
}

/// Sign the discharge summary
///
/// It needs its diagnoses and the patient's instructions; signed, it never changes.
#[utoipa::path(post, path = "/api/v1/admissions/{id}/discharge-summary/sign", tag = "inpatient",
    params(("id" = String, Path, description = "Admission id"), ("If-Match" = String, Header, description = "The version signed")),
    responses((status = 200, description = "Signed", body = SummaryOut),
        (status = 403, description = "Not a doctor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such admission or no draft", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already signed, or changed since it was read (stale-version)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No diagnoses or no instructions", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json")))]
async fn sign_summary(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let (admission, version) = (id(&raw, "admission")?, if_match(&headers)?);
    let s = state.app.inpatient().sign_summary(&ctx, admission, version).await?;
    Ok(with_etag(StatusCode::OK, s.version, SummaryOut::from(s)))
}

/// A stay's nursing record
#[utoipa::path(get, path = "/api/v1/admissions/{id}/nursing", tag = "inpatient",
    params(("id" = String, Path, description = "Admission id")),
    responses((status = 200, description = "Notes, intake and output with the day's balance, tasks", body = NursingOut),
        (status = 403, description = "Cannot see this patient", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such admission", body = Problem, content_type = "application/problem+json")))]
async fn nursing_record(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<NursingOut>, ApiError> {
    Ok(Json(state.app.inpatient().nursing_record(&ctx, id(&raw, "admission")?).await?.into()))
}

/// Write a nurse's note
///
/// Filed under the shift it is written in; never edited — a correction is a note that
/// amends it.
#[utoipa::path(post, path = "/api/v1/admissions/{id}/nursing-notes", tag = "inpatient", request_body = NoteIn,
    params(("id" = String, Path, description = "Admission id")),
    responses((status = 201, description = "Written", body = NoteOut),
        (status = 403, description = "Not a nurse", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such admission", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The patient has left", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty, or amends a note of another stay", body = Problem, content_type = "application/problem+json")))]
async fn write_note(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<NoteIn>,
) -> Result<Response, ApiError> {
    let n =
        state.app.inpatient().write_nursing_note(&ctx, id(&raw, "admission")?, &b.body, b.amends_id).await?;
    Ok((StatusCode::CREATED, Json(NoteOut::from(n))).into_response())
}

/// Record intake or output
#[utoipa::path(post, path = "/api/v1/admissions/{id}/intake-output", tag = "inpatient", request_body = IoIn,
    params(("id" = String, Path, description = "Admission id")),
    responses((status = 201, description = "Recorded", body = IoOut),
        (status = 403, description = "Not a nurse", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such admission", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The patient has left", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown route, a volume out of range, a time outside the stay", body = Problem, content_type = "application/problem+json")))]
async fn record_io(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<IoIn>,
) -> Result<Response, ApiError> {
    let input = IoInput {
        direction: b.direction,
        route: b.route,
        volume_ml: b.volume_ml,
        measured_at: b.measured_at,
        note: b.note,
    };
    let e = state.app.inpatient().record_io(&ctx, id(&raw, "admission")?, input).await?;
    Ok((StatusCode::CREATED, Json(IoOut::from(e))).into_response())
}

/// Mark intake or output entered in error
#[utoipa::path(post, path = "/api/v1/intake-output/{id}/entered-in-error", tag = "inpatient", request_body = ReasonIn,
    params(("id" = String, Path, description = "Intake or output id")),
    responses((status = 200, description = "Kept, no longer counted", body = IoOut),
        (status = 403, description = "Not a nurse", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already marked", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json")))]
async fn io_in_error(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ReasonIn>,
) -> Result<Json<IoOut>, ApiError> {
    Ok(Json(state.app.inpatient().io_in_error(&ctx, id(&raw, "intake or output")?, &b.reason).await?.into()))
}

/// Add a nursing task
#[utoipa::path(post, path = "/api/v1/admissions/{id}/nursing-tasks", tag = "inpatient", request_body = TaskIn,
    params(("id" = String, Path, description = "Admission id")),
    responses((status = 201, description = "Added", body = TaskOut),
        (status = 403, description = "Not a nurse", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such admission", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The patient has left", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No description, a due time out of range, no such service", body = Problem, content_type = "application/problem+json")))]
async fn add_task(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<TaskIn>,
) -> Result<Response, ApiError> {
    let input = TaskInput { description: b.description, due_at: b.due_at, service_code: b.service_code };
    let t = state.app.inpatient().add_task(&ctx, id(&raw, "admission")?, input).await?;
    Ok((StatusCode::CREATED, Json(TaskOut::from(t))).into_response())
}

/// Mark a nursing task done
///
/// A task tied to a service becomes one unbilled charge.
#[utoipa::path(post, path = "/api/v1/nursing-tasks/{id}/done", tag = "inpatient", request_body = OutcomeIn,
    params(("id" = String, Path, description = "Task id")),
    responses((status = 200, description = "Done", body = TaskOut),
        (status = 403, description = "Not a nurse", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such task", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already closed", body = Problem, content_type = "application/problem+json")))]
async fn task_done(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<OutcomeIn>,
) -> Result<Json<TaskOut>, ApiError> {
    Ok(Json(
        state.app.inpatient().close_task(&ctx, id(&raw, "nursing task")?, true, &b.outcome).await?.into(),
    ))
}

/// Cancel a nursing task
#[utoipa::path(post, path = "/api/v1/nursing-tasks/{id}/cancel", tag = "inpatient", request_body = OutcomeIn,
    params(("id" = String, Path, description = "Task id")),
    responses((status = 200, description = "Cancelled", body = TaskOut),
        (status = 403, description = "Not a nurse", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such task", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already closed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json")))]
async fn task_cancel(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<OutcomeIn>,
) -> Result<Json<TaskOut>, ApiError> {
    Ok(Json(
        state.app.inpatient().close_task(&ctx, id(&raw, "nursing task")?, false, &b.outcome).await?.into(),
    ))
}
