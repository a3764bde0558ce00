//! Referrals to a department or a doctor, and attachments: uploaded as the request body,
//! downloaded as files the browser never sniffs.

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use salus_app::identity::Permission;
use salus_core::clinical::{Attachment, Referral, ReferralStatus, Urgency};
use salus_core::{EncounterId, RecordId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::id;
use crate::AppState;
use crate::api::openapi::coded;
use crate::api::{ApiJson, ApiQuery, ApiUser, Paged, if_match, with_etag};
use crate::error::{ApiError, Problem, ProblemKind};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/api/v1/patients/{id}/referrals", Access::SignedIn),
    route("/api/v1/referrals/{id}/{action}", Access::Permission(Permission::ClinicalWrite))
        .post()
        .example("/api/v1/referrals/{id}/accept"),
    route("/api/v1/patients/{id}/attachments", Access::SignedIn),
    route("/api/v1/attachments/{id}", Access::SignedIn),
];

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_referrals, refer))
        .routes(routes!(change_referral))
        .routes(routes!(list_attachments, upload_attachment))
        .routes(routes!(download_attachment))
}

/// A referral to a department or a doctor.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub from_doctor_id: Uuid,
    /// To a department…
    pub to_department_id: Option<Uuid>,
    /// …or to a doctor.
    pub to_doctor_id: Option<Uuid>,
    pub reason: String,
    /// routine or urgent.
    #[schema(schema_with = coded::<Urgency>)]
    pub urgency: Urgency,
    /// open, accepted, completed or cancelled.
    #[schema(schema_with = coded::<ReferralStatus>)]
    pub status: ReferralStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Send as `If-Match` to move it.
    pub version: i32,
}

impl From<Referral> for ReferralOut {
    fn from(r: Referral) -> Self {
        Self {
            id: r.id,
            patient_id: r.patient_id,
            encounter_id: r.encounter_id,
            from_doctor_id: r.from_doctor_id,
            to_department_id: r.to_department_id,
            to_doctor_id: r.to_doctor_id,
            reason: r.reason,
            urgency: r.urgency,
            status: r.status,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

/// A file in the record: its description (download the bytes by its id).
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub filename: String,
    /// As told by the file's bytes: application/pdf, image/jpeg, image/png or image/webp.
    pub content_type: String,
    pub size_bytes: i64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    pub uploaded_by: Option<Uuid>,
    pub uploaded_at: DateTime<Utc>,
    /// Set when marked entered in error: why.
    pub error_reason: Option<String>,
}

impl From<Attachment> for AttachmentOut {
    fn from(a: Attachment) -> Self {
        Self {
            id: a.id,
            patient_id: a.patient_id,
            encounter_id: a.encounter_id,
            filename: a.filename,
            content_type: a.content_type,
            size_bytes: a.size_bytes,
            sha256: a.sha256,
            uploaded_by: a.uploaded_by,
            uploaded_at: a.uploaded_at,
            error_reason: a.error_reason,
        }
    }
}

/// A referral.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralIn {
    #[schema(value_type = Option<String>, format = Uuid)]
    pub encounter_id: Option<EncounterId>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub to_department_id: Option<salus_core::DepartmentId>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub to_doctor_id: Option<salus_core::UserId>,
    pub reason: String,
    /// routine (default) or urgent.
    pub urgency: Option<String>,
}

/// A patient's referrals
#[utoipa::path(get, path = "/api/v1/patients/{id}/referrals", tag = "clinical", params(("id" = String, Path, description = "Patient id")),
    responses((status = 200, description = "Newest first", body = Paged<ReferralOut>)))]
async fn list_referrals(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<ReferralOut>>, ApiError> {
    let rows = state.app.clinical().referrals(&ctx, id(&raw, "patient")?).await?;
    Ok(Json(Paged::new(rows.into_iter().map(ReferralOut::from).collect(), None::<String>)))
}

/// Refer the patient to a department or a doctor
#[utoipa::path(post, path = "/api/v1/patients/{id}/referrals", tag = "clinical", request_body = ReferralIn,
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 201, description = "Referred", body = ReferralOut),
        (status = 422, description = "No reason, no destination, …", body = Problem, content_type = "application/problem+json")))]
async fn refer(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ReferralIn>,
) -> Result<Response, ApiError> {
    let input = salus_app::clinical::referrals::NewReferral {
        encounter_id: b.encounter_id,
        to_department: b.to_department_id,
        to_doctor: b.to_doctor_id,
        reason: b.reason,
        urgency: b.urgency.unwrap_or_default(),
    };
    let r = state.app.clinical().refer(&ctx, id(&raw, "patient")?, input).await?;
    let version = r.version;
    Ok(with_etag(StatusCode::CREATED, version, ReferralOut::from(r)))
}

/// Accept, complete or cancel a referral
#[utoipa::path(post, path = "/api/v1/referrals/{id}/{action}", tag = "clinical",
    params(("id" = String, Path, description = "Referral id"), ("action" = String, Path, description = "accept, complete or cancel"),
        ("If-Match" = String, Header, description = "The version")),
    responses((status = 200, description = "Moved", body = ReferralOut),
        (status = 409, description = "Not a legal move, or changed meanwhile", body = Problem, content_type = "application/problem+json")))]
async fn change_referral(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path((raw, action)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (rid, version) = (id::<RecordId>(&raw, "referral")?, if_match(&headers)?);
    let to = match action.as_str() {
        "accept" => ReferralStatus::Accepted.as_str(),
        "complete" => ReferralStatus::Completed.as_str(),
        "cancel" => ReferralStatus::Cancelled.as_str(),
        _ => return Err(ApiError::new(ProblemKind::NotFound, "no such action")),
    };
    let r = state.app.clinical().change_referral(&ctx, rid, version, to).await?;
    let version = r.version;
    Ok(with_etag(StatusCode::OK, version, ReferralOut::from(r)))
}

/// A patient's attachments
#[utoipa::path(get, path = "/api/v1/patients/{id}/attachments", tag = "clinical", params(("id" = String, Path, description = "Patient id")),
    responses((status = 200, description = "Newest first (descriptions; download each by id)", body = Paged<AttachmentOut>)))]
async fn list_attachments(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<AttachmentOut>>, ApiError> {
    let rows = state.app.clinical().attachments(&ctx, id(&raw, "patient")?).await?;
    Ok(Json(Paged::new(rows.into_iter().map(AttachmentOut::from).collect(), None::<String>)))
}

/// `?filename=&encounter_id=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    pub filename: Option<String>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub encounter_id: Option<EncounterId>,
}

/// Attach a file
///
/// The body is the file itself (PDF, JPEG, PNG or WebP, told by its bytes; up to 3.5 MiB).
#[utoipa::path(post, path = "/api/v1/patients/{id}/attachments", tag = "clinical", params(("id" = String, Path, description = "Patient id"), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, description = "Stored", body = AttachmentOut),
        (status = 413, description = "Larger than the server takes", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty, too large, or not a kind of file the record keeps", body = Problem, content_type = "application/problem+json")))]
async fn upload_attachment(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<AttachmentOut>), ApiError> {
    let name = q.filename.unwrap_or_else(|| "attachment".into());
    let a = state.app.clinical().attach(&ctx, id(&raw, "patient")?, q.encounter_id, &name, &body).await?;
    Ok((StatusCode::CREATED, Json(a.into())))
}

/// Download an attachment
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "clinical", params(("id" = String, Path, description = "Attachment id")),
    responses((status = 200, description = "The file"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such attachment", body = Problem, content_type = "application/problem+json")))]
async fn download_attachment(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let (meta, bytes) = state.app.clinical().attachment(&ctx, id(&raw, "attachment")?).await?;
    Ok(attachment_response(&meta, bytes))
}

/// The file with its type, as a download, never sniffed by the browser.
pub fn attachment_response(meta: &Attachment, bytes: Vec<u8>) -> Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let safe_name: String =
        meta.filename.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
    (
        [
            (header::CONTENT_TYPE, meta.content_type.clone()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{safe_name}\"")),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}
