//! A record's life: deactivate, reactivate or record a death; merge a duplicate and undo
//! it; break the glass on a restricted record.

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use salus_app::identity::Permission;
use salus_core::PatientId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{PatientOut, patient_id, with_etag};
use crate::AppState;
use crate::api::if_match;
use crate::api::{ApiJson, ApiUser};
use crate::error::{ApiError, FieldProblem, Problem};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/api/v1/patients/{id}/status", Access::Permission(Permission::PatientsRegister)).post(),
    route("/api/v1/patients/{id}/merge", Access::Permission(Permission::PatientsMerge)).post(),
    route("/api/v1/patients/{id}/unmerge", Access::Permission(Permission::PatientsMerge)).post(),
    route("/api/v1/patients/{id}/break-glass", Access::Permission(Permission::PatientsBreakGlass)).post(),
];

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_status))
        .routes(routes!(merge_patient))
        .routes(routes!(unmerge_patient))
        .routes(routes!(break_glass))
}

/// A change of status.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusIn {
    /// false deactivates the record, true reactivates it.
    pub active: Option<bool>,
    /// Records the death at this time.
    pub deceased_at: Option<DateTime<Utc>>,
}

/// Deactivate, reactivate or record a death
#[utoipa::path(post, path = "/api/v1/patients/{id}/status", tag = "patients", request_body = StatusIn,
    params(("id" = String, Path, description = "Patient id"), ("If-Match" = String, Header, description = "The version edited")),
    responses(
        (status = 200, description = "Saved", body = PatientOut),
        (status = 409, description = "Changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Nothing to change, or a date in the future", body = Problem, content_type = "application/problem+json"),
    ))]
async fn set_status(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StatusIn>,
) -> Result<Response, ApiError> {
    let id = patient_id(&id)?;
    let version = if_match(&headers)?;
    let p = match (body.active, body.deceased_at) {
        (Some(active), None) => state.app.patients().set_patient_active(&ctx, id, version, active).await?,
        (None, Some(at)) => state.app.patients().record_death(&ctx, id, version, at).await?,
        _ => {
            return Err(ApiError::fields(vec![FieldProblem {
                field: "active".into(),
                message: "give either active or deceased_at".into(),
            }]));
        }
    };
    Ok(with_etag(StatusCode::OK, p))
}

/// Which record survives a merge.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeIn {
    #[schema(value_type = String, format = Uuid)]
    pub survivor_id: PatientId,
}

/// The result of a merge.
#[derive(Debug, Serialize, ToSchema)]
pub struct MergeOut {
    #[schema(value_type = String, format = Uuid)]
    pub merge_id: uuid::Uuid,
}

/// Merge a duplicate into another record
///
/// Everything linked to `{id}` moves to `survivor_id`, and `{id}` points there. Undo with
/// `unmerge`. Needs `patients.merge`.
#[utoipa::path(post, path = "/api/v1/patients/{id}/merge", tag = "patients", request_body = MergeIn,
    params(("id" = String, Path, description = "The duplicate")),
    responses(
        (status = 200, description = "Merged", body = MergeOut),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already merged", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Into itself, or into a merged record", body = Problem, content_type = "application/problem+json"),
    ))]
async fn merge_patient(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MergeIn>,
) -> Result<Json<MergeOut>, ApiError> {
    let merge_id = state.app.patients().merge_patients(&ctx, patient_id(&id)?, body.survivor_id).await?;
    Ok(Json(MergeOut { merge_id }))
}

/// Undo a merge
#[utoipa::path(post, path = "/api/v1/patients/{id}/unmerge", tag = "patients",
    params(("id" = String, Path, description = "The record that was merged away")),
    responses(
        (status = 204, description = "Separated again"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not merged", body = Problem, content_type = "application/problem+json"),
    ))]
async fn unmerge_patient(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.patients().unmerge_patient(&ctx, patient_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Why the glass is broken.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassIn {
    /// At least 10 characters; kept in the audit trail and shown to the administrator.
    pub reason: String,
}

/// Until when the record is open.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakGlassOut {
    pub expires_at: DateTime<Utc>,
}

/// Break the glass on a restricted record
///
/// Opens the record to the caller for a limited time. Audited with the reason and listed
/// for review. Needs `patients.break_glass` (clinicians).
#[utoipa::path(post, path = "/api/v1/patients/{id}/break-glass", tag = "patients", request_body = BreakGlassIn,
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "Open until `expires_at`", body = BreakGlassOut),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The record is not restricted", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason given", body = Problem, content_type = "application/problem+json"),
    ))]
async fn break_glass(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<BreakGlassIn>,
) -> Result<Json<BreakGlassOut>, ApiError> {
    let expires_at = state.app.patients().break_glass(&ctx, patient_id(&id)?, &body.reason).await?;
    Ok(Json(BreakGlassOut { expires_at }))
}
