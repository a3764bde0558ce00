//! Imaging over the API, shaped after FHIR's ServiceRequest (the order, with the accession
//! number its ImagingStudy shares) and DiagnosticReport (the report and its versions):
//! the catalog, ordering, the worklist, scheduling, the examination, images, reports.

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use salus_app::identity::Permission;
use salus_app::imaging::{StudyDetail, StudyItem};
use salus_core::imaging::{
    ImagingOrder, ImagingProcedure, ImagingReport, ImagingStatus, Laterality, Modality, ReportStatus,
};
use salus_core::laboratory::Priority;
use salus_core::{EncounterId, PatientId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::clinical::files::AttachmentOut;
use super::clinical::{ReasonIn, attachment_response, id};
use super::laboratory::LabPatientOut;
use crate::AppState;
use crate::api::openapi::{coded, coded_or_null};
use crate::api::{ApiJson, ApiQuery, ApiUser, Paged};
use crate::error::{ApiError, Problem};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/api/v1/imaging/procedures", Access::Permission(Permission::OrganisationRead)),
    route("/api/v1/imaging/procedures/{id}/{action}", Access::Permission(Permission::OrganisationManage))
        .post()
        .example("/api/v1/imaging/procedures/{id}/retire"),
    route("/api/v1/imaging/worklist", Access::Permission(Permission::ImagingWork)),
    route("/api/v1/imaging/inbox", Access::Permission(Permission::ImagingOrder)),
    route("/api/v1/patients/{id}/imaging-orders", Access::SignedIn),
    route("/api/v1/patients/{id}/imaging-reports/reviewed", Access::Permission(Permission::ImagingOrder))
        .post(),
    route("/api/v1/imaging/orders/{id}", Access::SignedIn),
    route("/api/v1/imaging/orders/{id}/cancel", Access::SignedIn).post(),
    route("/api/v1/imaging/orders/{id}/schedule", Access::Permission(Permission::ImagingWork)).post(),
    route("/api/v1/imaging/orders/{id}/perform", Access::Permission(Permission::ImagingWork)).post(),
    route("/api/v1/imaging/orders/{id}/images", Access::Permission(Permission::ImagingWork)).post(),
    route("/api/v1/imaging/orders/{id}/images/{image}", Access::SignedIn)
        .example("/api/v1/imaging/orders/{id}/images/0190a0b0-0000-7000-8000-000000000001"),
    route("/api/v1/imaging/orders/{id}/report", Access::Permission(Permission::ImagingReport)).post(),
    route("/api/v1/imaging/orders/{id}/report/authorise", Access::Permission(Permission::ImagingReport))
        .post(),
    route("/api/v1/imaging/orders/{id}/report/amend", Access::Permission(Permission::ImagingReport)).post(),
    route("/api/v1/imaging/orders/{id}/reports", Access::SignedIn),
];

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_procedures))
        .routes(routes!(set_procedure_active))
        .routes(routes!(worklist))
        .routes(routes!(inbox))
        .routes(routes!(list_orders, place_order))
        .routes(routes!(mark_reviewed))
        .routes(routes!(get_order))
        .routes(routes!(cancel))
        .routes(routes!(schedule))
        .routes(routes!(perform))
        .routes(routes!(add_image))
        .routes(routes!(get_image))
        .routes(routes!(write_report))
        .routes(routes!(authorise))
        .routes(routes!(amend))
        .routes(routes!(report_history))
}

/// A procedure of the imaging catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcedureOut {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    /// DICOM modality, lower-cased (dx, ct, mr, us, mg, rf, nm, xa).
    #[schema(schema_with = coded::<Modality>)]
    pub modality: Modality,
    pub body_part: String,
    /// A paired part: an order must say the side.
    pub laterality_required: bool,
    pub loinc: Option<String>,
    pub duration_minutes: i32,
    /// What the patient must do beforehand.
    pub preparation: Option<String>,
    /// The price-list service it is billed as.
    pub service_code: Option<String>,
    pub active: bool,
    pub version: i32,
}

impl From<ImagingProcedure> for ProcedureOut {
    fn from(p: ImagingProcedure) -> Self {
        Self {
            id: p.id,
            code: p.code,
            name: p.name,
            modality: p.modality,
            body_part: p.body_part,
            laterality_required: p.laterality_required,
            loinc: p.loinc,
            duration_minutes: p.duration_minutes,
            preparation: p.preparation,
            service_code: p.service_code,
            active: p.active,
            version: p.version,
        }
    }
}

/// An imaging order (FHIR ServiceRequest; its `accession` is the ImagingStudy's).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImagingOrderOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub procedure_id: Uuid,
    pub procedure_name: String,
    #[schema(schema_with = coded::<Modality>)]
    pub modality: Modality,
    pub body_part: String,
    #[schema(schema_with = coded_or_null::<Laterality>)]
    pub laterality: Option<Laterality>,
    #[schema(schema_with = coded::<Priority>)]
    pub priority: Priority,
    pub clinical_question: String,
    /// ordered, scheduled, performed, reported (a draft awaits authorisation), final, cancelled.
    #[schema(schema_with = coded::<ImagingStatus>)]
    pub status: ImagingStatus,
    /// The accession number the modality and the PACS share ("R26-000042").
    pub accession: String,
    pub ordered_by: Uuid,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub room: Option<String>,
    pub performed_by: Option<Uuid>,
    pub performed_at: Option<DateTime<Utc>>,
    pub performed_note: Option<String>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl From<ImagingOrder> for ImagingOrderOut {
    fn from(o: ImagingOrder) -> Self {
        Self {
            id: o.id,
            patient_id: o.patient_id,
            encounter_id: o.encounter_id,
            procedure_id: o.procedure_id,
            procedure_name: o.procedure_name,
            modality: o.modality,
            body_part: o.body_part,
            laterality: o.laterality,
            priority: o.priority,
            clinical_question: o.clinical_question,
            status: o.status,
            accession: o.accession,
            ordered_by: o.ordered_by,
            scheduled_at: o.scheduled_at,
            room: o.room,
            performed_by: o.performed_by,
            performed_at: o.performed_at,
            performed_note: o.performed_note,
            cancel_reason: o.cancel_reason,
            created_at: o.created_at,
            updated_at: o.updated_at,
            version: o.version,
        }
    }
}

/// A version of a report (FHIR DiagnosticReport).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportOut {
    pub id: Uuid,
    pub order_id: Uuid,
    pub patient_id: Uuid,
    pub revision: i32,
    /// preliminary (a draft), final (authorised), amended (replaced by a newer version).
    #[schema(schema_with = coded::<ReportStatus>)]
    pub status: ReportStatus,
    pub findings: String,
    pub impression: String,
    pub written_by: Uuid,
    pub written_at: DateTime<Utc>,
    pub authorised_by: Option<Uuid>,
    pub authorised_at: Option<DateTime<Utc>>,
    /// Why this version corrects the one before.
    pub amend_reason: Option<String>,
    pub superseded_at: Option<DateTime<Utc>>,
}

impl From<ImagingReport> for ReportOut {
    fn from(r: ImagingReport) -> Self {
        Self {
            id: r.id,
            order_id: r.order_id,
            patient_id: r.patient_id,
            revision: r.revision,
            status: r.status,
            findings: r.findings,
            impression: r.impression,
            written_by: r.written_by,
            written_at: r.written_at,
            authorised_by: r.authorised_by,
            authorised_at: r.authorised_at,
            amend_reason: r.amend_reason,
            superseded_at: r.superseded_at,
        }
    }
}

/// An order with its patient, current report and images.
#[derive(Debug, Serialize, ToSchema)]
pub struct StudyOut {
    pub order: ImagingOrderOut,
    pub patient: LabPatientOut,
    pub procedure: Option<ProcedureOut>,
    pub report: Option<ReportOut>,
    /// How many versions the report has had (more than one: amended).
    pub report_revisions: i32,
    pub images: Vec<AttachmentOut>,
}

impl From<StudyDetail> for StudyOut {
    fn from(d: StudyDetail) -> Self {
        Self {
            order: d.order.into(),
            patient: d.patient.into(),
            procedure: d.procedure.map(Into::into),
            report: d.report.map(Into::into),
            report_revisions: d.report_revisions,
            images: d.images.into_iter().map(Into::into).collect(),
        }
    }
}

/// A line of the imaging worklist.
#[derive(Debug, Serialize, ToSchema)]
pub struct StudyItemOut {
    pub order: ImagingOrderOut,
    pub patient: LabPatientOut,
    #[schema(schema_with = coded_or_null::<ReportStatus>)]
    pub report_status: Option<ReportStatus>,
}

impl From<StudyItem> for StudyItemOut {
    fn from(i: StudyItem) -> Self {
        Self { order: i.order.into(), patient: i.patient.into(), report_status: i.report_status }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProceduresQuery {
    /// Retired procedures too.
    pub include_inactive: Option<bool>,
}

/// The imaging catalog
#[utoipa::path(get, path = "/api/v1/imaging/procedures", tag = "imaging", params(ProceduresQuery),
    responses((status = 200, description = "By modality and name", body = Paged<ProcedureOut>)))]
async fn list_procedures(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<ProceduresQuery>,
) -> Result<Json<Paged<ProcedureOut>>, ApiError> {
    let rows = state.app.imaging().procedures(&ctx, q.include_inactive.unwrap_or(false)).await?;
    Ok(Json(Paged::new(rows.into_iter().map(Into::into).collect(), None::<String>)))
}

/// Retire or reactivate a procedure (administrators)
///
/// A retired procedure is no longer offered or orderable; past orders keep it.
#[utoipa::path(post, path = "/api/v1/imaging/procedures/{id}/{action}", tag = "imaging",
    params(("id" = String, Path, description = "Procedure id"), ("action" = String, Path, description = "retire or reactivate")),
    responses((status = 200, description = "Done", body = ProcedureOut),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such procedure or action", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already so", body = Problem, content_type = "application/problem+json")))]
async fn set_procedure_active(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path((raw, action)): Path<(String, String)>,
) -> Result<Json<ProcedureOut>, ApiError> {
    let active = match action.as_str() {
        "retire" => false,
        "reactivate" => true,
        _ => return Err(salus_app::AppError::NotFound("action").into()),
    };
    Ok(Json(state.app.imaging().set_procedure_active(&ctx, id(&raw, "procedure")?, active).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImagingWorklistQuery {
    /// One state (default: every state before the report is authorised, cancelled aside).
    #[param(schema_with = coded::<ImagingStatus>)]
    pub status: Option<ImagingStatus>,
    /// One modality.
    #[param(schema_with = coded::<Modality>)]
    pub modality: Option<Modality>,
    /// Orders per page, 1 to 200 (default 50).
    #[serde(default, deserialize_with = "crate::api::extract::bounded::<_, u32, 1, 200>")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// The imaging worklist
///
/// Stat first, then by booked time, then oldest first, with each order's patient and the
/// state of its report.
#[utoipa::path(get, path = "/api/v1/imaging/worklist", tag = "imaging", params(ImagingWorklistQuery),
    responses((status = 200, description = "A page of orders", body = Paged<StudyItemOut>),
        (status = 400, description = "A limit out of bounds, or no such modality", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A cursor this API did not give out", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not imaging staff", body = Problem, content_type = "application/problem+json")))]
async fn worklist(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<ImagingWorklistQuery>,
) -> Result<Json<Paged<StudyItemOut>>, ApiError> {
    let statuses: Vec<ImagingStatus> = q.status.into_iter().collect();
    let limit = u64::from(q.limit.unwrap_or(50));
    let offset = crate::api::Cursor { limit: q.limit, cursor: q.cursor }.position::<u64>()?.unwrap_or(0);
    let (rows, more) = state.app.imaging().worklist(&ctx, &statuses, q.modality, limit, offset).await?;
    Ok(Json(Paged::new(rows.into_iter().map(Into::into).collect(), more.then_some(offset + limit))))
}

/// A report in a doctor's inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxReportOut {
    pub report: ReportOut,
    pub order: ImagingOrderOut,
    pub patient: LabPatientOut,
}

/// The signed-in doctor's authorised reports not yet reviewed
#[utoipa::path(get, path = "/api/v1/imaging/inbox", tag = "imaging",
    responses((status = 200, description = "Newest first", body = Paged<InboxReportOut>),
        (status = 403, description = "Not a doctor", body = Problem, content_type = "application/problem+json")))]
async fn inbox(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
) -> Result<Json<Paged<InboxReportOut>>, ApiError> {
    let inbox = state.app.imaging().inbox(&ctx).await?;
    let rows = inbox
        .reports
        .into_iter()
        .map(|(r, o, p)| InboxReportOut { report: r.into(), order: o.into(), patient: p.into() })
        .collect();
    Ok(Json(Paged::new(rows, None::<String>)))
}

/// A patient's imaging orders
#[utoipa::path(get, path = "/api/v1/patients/{id}/imaging-orders", tag = "imaging", params(("id" = String, Path, description = "Patient id")),
    responses((status = 200, description = "Newest first", body = Paged<ImagingOrderOut>),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json")))]
async fn list_orders(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<ImagingOrderOut>>, ApiError> {
    let (_, rows) = state.app.imaging().orders_of(&ctx, id::<PatientId>(&raw, "patient")?).await?;
    Ok(Json(Paged::new(rows.into_iter().map(Into::into).collect(), None::<String>)))
}

/// An imaging order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImagingOrderIn {
    /// A procedure of the catalog.
    pub procedure_id: Uuid,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub encounter_id: Option<EncounterId>,
    /// Required for a paired part (left, right, bilateral); refused for others.
    #[schema(schema_with = coded_or_null::<Laterality>)]
    pub laterality: Option<Laterality>,
    /// routine (default), urgent or stat.
    #[schema(schema_with = coded_or_null::<Priority>)]
    pub priority: Option<Priority>,
    /// What the examination should answer.
    #[schema(min_length = 1, max_length = 500)]
    pub clinical_question: String,
    /// Required to go ahead when the same examination was ordered recently.
    #[schema(max_length = 300)]
    pub override_reason: Option<String>,
}

/// Order an imaging examination
///
/// The order gets its accession number at once. The same examination (and side) ordered
/// within the site's window answers 409 `clinical-warnings` unless `override_reason` says why.
#[utoipa::path(post, path = "/api/v1/patients/{id}/imaging-orders", tag = "imaging", request_body = ImagingOrderIn,
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 201, description = "Ordered", body = ImagingOrderOut),
        (status = 403, description = "Not a doctor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Ordered recently: give a reason", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such procedure, a side missing or not wanted, no question", body = Problem, content_type = "application/problem+json")))]
async fn place_order(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ImagingOrderIn>,
) -> Result<Response, ApiError> {
    let input = salus_app::imaging::orders::NewImagingOrder {
        encounter_id: b.encounter_id,
        procedure_id: Some(b.procedure_id),
        laterality: b.laterality,
        priority: b.priority,
        clinical_question: b.clinical_question,
        override_reason: b.override_reason.unwrap_or_default(),
    };
    let o = state.app.imaging().place_order(&ctx, id(&raw, "patient")?, input).await?;
    Ok((StatusCode::CREATED, Json(ImagingOrderOut::from(o))).into_response())
}

/// Reports read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ImagingReviewedIn)]
pub struct ReviewedIn {
    #[schema(min_items = 1, max_items = 200)]
    pub report_ids: Vec<Uuid>,
}

/// How many were marked.
#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedOut {
    pub marked: u64,
}

/// Mark a patient's imaging reports reviewed
#[utoipa::path(post, path = "/api/v1/patients/{id}/imaging-reports/reviewed", tag = "imaging", request_body = ReviewedIn,
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 200, description = "Marked", body = MarkedOut),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No report named", body = Problem, content_type = "application/problem+json")))]
async fn mark_reviewed(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ReviewedIn>,
) -> Result<Json<MarkedOut>, ApiError> {
    let marked = state.app.imaging().mark_reviewed(&ctx, id(&raw, "patient")?, &b.report_ids).await?;
    Ok(Json(MarkedOut { marked }))
}

/// An imaging order with its report and images
///
/// A patient's own account reads it once the report is authorised.
#[utoipa::path(get, path = "/api/v1/imaging/orders/{id}", tag = "imaging", params(("id" = String, Path, description = "Order id")),
    responses((status = 200, description = "The order", body = StudyOut),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json")))]
async fn get_order(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<StudyOut>, ApiError> {
    Ok(Json(state.app.imaging().study(&ctx, id(&raw, "order")?).await?.into()))
}

/// Cancel an examination not yet done (with a reason)
#[utoipa::path(post, path = "/api/v1/imaging/orders/{id}/cancel", tag = "imaging", request_body = ReasonIn,
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, description = "Cancelled", body = ImagingOrderOut),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already performed or cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json")))]
async fn cancel(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ReasonIn>,
) -> Result<Json<ImagingOrderOut>, ApiError> {
    Ok(Json(state.app.imaging().cancel(&ctx, id(&raw, "order")?, &b.reason).await?.into()))
}

/// A room and a time.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleIn {
    pub scheduled_at: DateTime<Utc>,
    /// The room or machine ("CT 1", "Ultrasound 2").
    #[schema(min_length = 1, max_length = 60)]
    pub room: String,
}

/// Book an examination into a room
///
/// The room is held for the procedure's length; an overlapping booking answers 409 naming it.
#[utoipa::path(post, path = "/api/v1/imaging/orders/{id}/schedule", tag = "imaging", request_body = ScheduleIn,
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, description = "Booked", body = ImagingOrderOut),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The room is taken, or the examination is past booking", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A time in the past, or no room", body = Problem, content_type = "application/problem+json")))]
async fn schedule(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ScheduleIn>,
) -> Result<Json<ImagingOrderOut>, ApiError> {
    Ok(Json(state.app.imaging().schedule(&ctx, id(&raw, "order")?, b.scheduled_at, &b.room).await?.into()))
}

/// The examination done.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PerformIn {
    /// Technique, contrast, dose.
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// Record the examination performed
///
/// By the caller, now; its unbilled charge is recorded once.
#[utoipa::path(post, path = "/api/v1/imaging/orders/{id}/perform", tag = "imaging", request_body = PerformIn,
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, description = "Performed", body = ImagingOrderOut),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Cancelled or already performed", body = Problem, content_type = "application/problem+json")))]
async fn perform(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<PerformIn>,
) -> Result<Json<ImagingOrderOut>, ApiError> {
    let note = b.note.unwrap_or_default();
    Ok(Json(state.app.imaging().perform(&ctx, id(&raw, "order")?, &note).await?.into()))
}

/// `?filename=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImageQuery {
    /// The file's name as the user knows it.
    #[param(max_length = 255)]
    pub filename: Option<String>,
}

/// Add an image or PDF to a performed examination
///
/// The body is the file (PDF, JPEG, PNG or WebP, told by its bytes; up to 3.5 MiB). It is
/// kept as an attachment of the patient's record.
#[utoipa::path(post, path = "/api/v1/imaging/orders/{id}/images", tag = "imaging",
    params(("id" = String, Path, description = "Order id"), ImageQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, description = "Stored", body = AttachmentOut),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not performed yet, or cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the server takes", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty, too large, or not a kind of file kept", body = Problem, content_type = "application/problem+json")))]
async fn add_image(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<ImageQuery>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<AttachmentOut>), ApiError> {
    let name = q.filename.unwrap_or_else(|| "image".into());
    let a = state.app.imaging().add_image(&ctx, id(&raw, "order")?, &name, &body).await?;
    Ok((StatusCode::CREATED, Json(a.into())))
}

/// Download an image of an examination
#[utoipa::path(get, path = "/api/v1/imaging/orders/{id}/images/{image}", tag = "imaging",
    params(("id" = String, Path, description = "Order id"), ("image" = String, Path, description = "Image (attachment) id")),
    responses((status = 200, description = "The file"),
        (status = 404, description = "No such order or image of it", body = Problem, content_type = "application/problem+json")))]
async fn get_image(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path((raw, image)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (meta, bytes) = state.app.imaging().image(&ctx, id(&raw, "order")?, id(&image, "image")?).await?;
    Ok(attachment_response(&meta, bytes))
}

/// A report's text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportIn {
    #[schema(min_length = 1, max_length = 20000)]
    pub findings: String,
    #[schema(min_length = 1, max_length = 20000)]
    pub impression: String,
}

/// Write or rewrite the draft report
///
/// A preliminary report, seen by imaging staff and doctors until authorised. The same text
/// sent again changes nothing.
#[utoipa::path(post, path = "/api/v1/imaging/orders/{id}/report", tag = "imaging", request_body = ReportIn,
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, description = "The draft", body = ReportOut),
        (status = 403, description = "Not a doctor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not performed yet, or already authorised (amend it)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty or too long", body = Problem, content_type = "application/problem+json")))]
async fn write_report(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ReportIn>,
) -> Result<Json<ReportOut>, ApiError> {
    let text = salus_app::imaging::reports::ReportText { findings: b.findings, impression: b.impression };
    Ok(Json(state.app.imaging().write_report(&ctx, id(&raw, "order")?, text).await?.into()))
}

/// Authorise the report
///
/// Releases it to the chart, the patient and the ordering doctor's inbox.
#[utoipa::path(post, path = "/api/v1/imaging/orders/{id}/report/authorise", tag = "imaging",
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, description = "Authorised", body = ReportOut),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No draft, or already authorised", body = Problem, content_type = "application/problem+json")))]
async fn authorise(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<ReportOut>, ApiError> {
    Ok(Json(state.app.imaging().authorise(&ctx, id(&raw, "order")?).await?.into()))
}

/// An amendment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ImagingAmendIn)]
pub struct AmendIn {
    #[schema(min_length = 1, max_length = 20000)]
    pub findings: String,
    #[schema(min_length = 1, max_length = 20000)]
    pub impression: String,
    #[schema(min_length = 1, max_length = 300)]
    pub amend_reason: String,
}

/// Amend an authorised report
///
/// A new version, authorised by the amending doctor, with its reason; the old version
/// stays readable and is marked amended.
#[utoipa::path(post, path = "/api/v1/imaging/orders/{id}/report/amend", tag = "imaging", request_body = AmendIn,
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, description = "The new version", body = ReportOut),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No authorised report to amend", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or nothing changed", body = Problem, content_type = "application/problem+json")))]
async fn amend(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<AmendIn>,
) -> Result<Json<ReportOut>, ApiError> {
    let text = salus_app::imaging::reports::ReportText { findings: b.findings, impression: b.impression };
    Ok(Json(state.app.imaging().amend(&ctx, id(&raw, "order")?, text, &b.amend_reason).await?.into()))
}

/// Every version of an order's report, newest first
#[utoipa::path(get, path = "/api/v1/imaging/orders/{id}/reports", tag = "imaging", params(("id" = String, Path, description = "Order id")),
    responses((status = 200, description = "Newest first", body = Paged<ReportOut>),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json")))]
async fn report_history(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<ReportOut>>, ApiError> {
    let rows = state.app.imaging().report_history(&ctx, id(&raw, "order")?).await?;
    Ok(Json(Paged::new(rows.into_iter().map(Into::into).collect(), None::<String>)))
}
