//! What the chart shows around the record: the timeline, the edit history, the photo.

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use salus_app::patients::{HistoryEntry, TimelineEntry};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::patient_id;
use crate::AppState;
use crate::api::{ApiQuery, ApiUser, Paged};
use crate::error::{ApiError, Problem};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/api/v1/patients/{id}/timeline", Access::SignedIn),
    route("/api/v1/patients/{id}/history", Access::SignedIn),
    route("/api/v1/patients/{id}/photo", Access::SignedIn),
];

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(timeline))
        .routes(routes!(history))
        .routes(routes!(get_photo, put_photo))
}

/// One line of the timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineOut {
    #[schema(value_type = String, format = Uuid)]
    pub id: uuid::Uuid,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub summary: String,
}

impl From<TimelineEntry> for TimelineOut {
    fn from(e: TimelineEntry) -> Self {
        Self { id: e.id, at: e.at, kind: e.kind, summary: e.summary }
    }
}

/// A page position of the timeline: `<time>|<id>` of the last entry seen.
pub struct TimelinePosition(pub DateTime<Utc>, pub uuid::Uuid);

impl std::str::FromStr for TimelinePosition {
    type Err = ();
    fn from_str(raw: &str) -> Result<Self, ()> {
        let (at, id) = raw.split_once('|').ok_or(())?;
        let at = DateTime::parse_from_rfc3339(at).map_err(|_| ())?.with_timezone(&Utc);
        Ok(Self(at, id.parse().map_err(|_| ())?))
    }
}

/// The chart's timeline
///
/// Newest first, paged by cursor. Audited.
#[utoipa::path(get, path = "/api/v1/patients/{id}/timeline", tag = "patients",
    params(("id" = String, Path, description = "Patient id"), crate::api::Cursor),
    responses(
        (status = 200, description = "A page of the timeline", body = Paged<TimelineOut>),
        (status = 400, description = "A bad cursor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
    ))]
async fn timeline(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(id): Path<String>,
    ApiQuery(cursor): ApiQuery<crate::api::Cursor>,
) -> Result<Json<Paged<TimelineOut>>, ApiError> {
    let id = patient_id(&id)?;
    let before = cursor.position::<TimelinePosition>()?.map(|p| (p.0, p.1));
    let limit = u64::from(cursor.limit.unwrap_or(50).clamp(1, 200));
    let entries = state.app.patients().timeline(&ctx, id, before, limit + 1).await?;
    let more = entries.len() as u64 > limit;
    let items: Vec<TimelineOut> = entries.into_iter().take(limit as usize).map(Into::into).collect();
    let next = if more { items.last().map(|e| format!("{}|{}", e.at.to_rfc3339(), e.id)) } else { None };
    Ok(Json(Paged::new(items, next)))
}

/// One field changed by an edit, as text (empty for no value).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryChangeOut {
    /// The field's name as in a patient; `identifiers` holds them all as `system:value, …`.
    pub field: String,
    pub old: String,
    pub new: String,
}

/// One edit.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryOut {
    pub version: i32,
    pub changed_at: DateTime<Utc>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub changed_by: Option<uuid::Uuid>,
    pub changes: Vec<HistoryChangeOut>,
}

impl From<HistoryEntry> for HistoryOut {
    fn from(h: HistoryEntry) -> Self {
        Self {
            version: h.version,
            changed_at: h.changed_at,
            changed_by: h.changed_by,
            // Written by the edit as this list; a row that is not one shows no changes.
            changes: serde_json::from_value(h.changes).unwrap_or_default(),
        }
    }
}

/// The record's edit history
///
/// Who changed which field from what to what, newest first. Audited.
#[utoipa::path(get, path = "/api/v1/patients/{id}/history", tag = "patients",
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "Edits, newest first", body = Vec<HistoryOut>),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
    ))]
async fn history(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<HistoryOut>>, ApiError> {
    let rows = state.app.patients().patient_history(&ctx, patient_id(&id)?).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// The photo
#[utoipa::path(get, path = "/api/v1/patients/{id}/photo", tag = "patients",
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "The image", content_type = "image/*"),
        (status = 404, description = "No such patient or no photo", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_photo(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let photo = state.app.patients().patient_photo(&ctx, patient_id(&id)?).await?;
    Ok(photo_response(photo))
}

pub fn photo_response(photo: salus_app::patients::Photo) -> Response {
    let mut res = photo.data.into_response();
    if let Ok(v) = HeaderValue::from_str(&photo.content_type) {
        res.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    res
}

/// Replace the photo
///
/// The body is the image itself: JPEG, PNG or WebP, at most 3 MiB (checked by content).
#[utoipa::path(put, path = "/api/v1/patients/{id}/photo", tag = "patients",
    params(("id" = String, Path, description = "Patient id")),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses(
        (status = 204, description = "Saved"),
        (status = 413, description = "Larger than the body limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an image, or over 3 MiB", body = Problem, content_type = "application/problem+json"),
    ))]
async fn put_photo(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    state.app.patients().set_patient_photo(&ctx, patient_id(&id)?, body.to_vec()).await?;
    Ok(StatusCode::NO_CONTENT)
}
