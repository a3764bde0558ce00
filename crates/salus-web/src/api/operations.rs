//! Operations: background jobs (retry the dead, bring a queued one forward), the
//! notification outbox, and the message templates administrators edit and preview.

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use salus_app::identity::Permission;
use salus_app::jobs::Job;
use salus_app::notifications::Notification;
use salus_core::jobs::JobStatus;
use salus_core::notifications::NotificationStatus;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::openapi::coded;
use super::{ApiJson, ApiQuery, ApiUser, Paged};
use crate::AppState;
use crate::error::{ApiError, Problem, ProblemKind};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/api/v1/jobs", Access::Permission(Permission::JobsManage)),
    route("/api/v1/jobs/{id}/{action}", Access::Permission(Permission::JobsManage))
        .post()
        .example("/api/v1/jobs/{id}/retry"),
    // One patient's messages for staff who see appointments; everyone's for administrators.
    route("/api/v1/notifications", Access::Permission(Permission::AppointmentsRead))
        .example("/api/v1/notifications?patient_id={id}"),
    route("/api/v1/notification-templates", Access::Permission(Permission::JobsManage)),
    route("/api/v1/notification-templates/preview", Access::Permission(Permission::JobsManage)).post(),
    route(
        "/api/v1/notification-templates/{kind}/{channel}/{language}",
        Access::Permission(Permission::JobsManage),
    )
    .put()
    .example("/api/v1/notification-templates/appointment_booked/sms/en"),
];

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_jobs))
        .routes(routes!(job_action))
        .routes(routes!(list_notifications))
        .routes(routes!(list_templates))
        .routes(routes!(save_template))
        .routes(routes!(preview_template))
}

fn uuid(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::new(ProblemKind::NotFound, format!("{what} not found")))
}

/// A background job.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobOut {
    pub id: Uuid,
    /// What it does ("notification.send", …).
    pub kind: String,
    /// queued, running, done or dead.
    #[schema(schema_with = coded::<JobStatus>)]
    pub status: JobStatus,
    /// When it runs next (or ran last).
    pub run_at: DateTime<Utc>,
    /// Runs so far.
    pub attempts: i32,
    /// Runs before it is given up as dead.
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl From<Job> for JobOut {
    fn from(j: Job) -> Self {
        Self {
            id: j.id,
            kind: j.kind,
            status: j.status,
            run_at: j.run_at,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            last_error: j.last_error,
            updated_at: j.updated_at,
        }
    }
}

/// `?status=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// queued, running, done or dead (default dead).
    #[param(pattern = "^(queued|running|done|dead)$")]
    pub status: Option<String>,
}

/// List jobs
#[utoipa::path(get, path = "/api/v1/jobs", tag = "operations", params(JobsQuery),
    responses((status = 200, description = "Newest first, at most 200", body = Paged<JobOut>),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown status", body = Problem, content_type = "application/problem+json")))]
async fn list_jobs(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<JobsQuery>,
) -> Result<Json<Paged<JobOut>>, ApiError> {
    let jobs = state.app.jobs().list(&ctx, q.status.as_deref().unwrap_or(JobStatus::Dead.as_str())).await?;
    Ok(Json(Paged::new(jobs.into_iter().map(JobOut::from).collect(), None::<String>)))
}

/// Retry a dead job, or run a queued one now
#[utoipa::path(post, path = "/api/v1/jobs/{id}/{action}", tag = "operations",
    params(("id" = String, Path, description = "Job id"), ("action" = String, Path, description = "retry or run-now")),
    responses((status = 204, description = "Done"),
        (status = 404, description = "No such job or action", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not dead (retry) or not queued (run-now)", body = Problem, content_type = "application/problem+json")))]
async fn job_action(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path((raw, action)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = uuid(&raw, "job")?;
    match action.as_str() {
        "retry" => state.app.jobs().retry_job(&ctx, id).await?,
        "run-now" => state.app.jobs().run_job_now(&ctx, id).await?,
        _ => return Err(ApiError::new(ProblemKind::NotFound, "no such action")),
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A message in the outbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    /// appointment_booked, appointment_reminder, appointment_cancelled or
    /// appointment_rescheduled.
    pub kind: String,
    /// email or sms.
    pub channel: String,
    /// The address or phone number it goes to.
    pub recipient: String,
    /// pending, sending, sent, failed or cancelled.
    #[schema(schema_with = coded::<NotificationStatus>)]
    pub status: NotificationStatus,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// The last delivery error, if any.
    pub last_error: Option<String>,
    /// When it is (or was) due to go.
    pub send_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<Notification> for NotificationOut {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id,
            patient_id: n.patient_id,
            kind: n.kind,
            channel: n.channel,
            recipient: n.recipient,
            status: n.status,
            attempts: n.attempts,
            last_error: n.last_error,
            send_at: n.send_at,
            sent_at: n.sent_at,
        }
    }
}

/// `?patient_id=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationsQuery {
    /// One patient's messages (staff who see appointments); without it, everyone's
    /// (administrators).
    pub patient_id: Option<Uuid>,
}

/// The outbox
#[utoipa::path(get, path = "/api/v1/notifications", tag = "operations", params(NotificationsQuery),
    responses((status = 200, description = "Newest first, with delivery status and the last error", body = Paged<NotificationOut>),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json")))]
async fn list_notifications(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<NotificationsQuery>,
) -> Result<Json<Paged<NotificationOut>>, ApiError> {
    let rows = state.app.notifications().outbox(&ctx, q.patient_id).await?;
    Ok(Json(Paged::new(rows.into_iter().map(NotificationOut::from).collect(), None::<String>)))
}

/// A message template.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageTemplateOut {
    pub kind: String,
    pub channel: String,
    pub language: String,
    pub subject: String,
    pub body: String,
}

/// List message templates
#[utoipa::path(get, path = "/api/v1/notification-templates", tag = "operations",
    responses((status = 200, description = "By kind, channel, language", body = Paged<MessageTemplateOut>)))]
async fn list_templates(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
) -> Result<Json<Paged<MessageTemplateOut>>, ApiError> {
    let items = state
        .app
        .notifications()
        .notification_templates(&ctx)
        .await?
        .into_iter()
        .map(|t| MessageTemplateOut {
            kind: t.kind,
            channel: t.channel,
            language: t.language,
            subject: t.subject,
            body: t.body,
        })
        .collect();
    Ok(Json(Paged::new(items, None::<String>)))
}

/// A template's text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageTemplateIn {
    /// Empty for SMS; required for e-mail.
    #[serde(default)]
    pub subject: String,
    /// The text, a template ({{ patient_name }}, …); it must render.
    #[schema(pattern = "\\S")]
    pub body: String,
}

/// Save a message template
///
/// minijinja; the values are patient, doctor, date, time, facility, facility_phone, when.
/// A template that does not render with sample values is refused (422 naming the field).
#[utoipa::path(put, path = "/api/v1/notification-templates/{kind}/{channel}/{language}", tag = "operations", request_body = MessageTemplateIn,
    params(("kind" = String, Path, description = "The kind of message",
            pattern = "^(appointment_booked|appointment_reminder|appointment_cancelled|appointment_rescheduled)$"),
        ("channel" = String, Path, description = "email or sms", pattern = "^(email|sms)$"),
        ("language" = String, Path, description = "Two-letter code", pattern = "^\\s*[A-Za-z]{2}\\s*$")),
    responses((status = 204, description = "Saved"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown kind or channel, or the text does not render", body = Problem, content_type = "application/problem+json")))]
async fn save_template(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path((kind, channel, language)): Path<(String, String, String)>,
    ApiJson(b): ApiJson<MessageTemplateIn>,
) -> Result<StatusCode, ApiError> {
    state.app.notifications().save_template(&ctx, &kind, &channel, &language, &b.subject, &b.body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The rendering of a preview.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewOut {
    pub subject: String,
    pub body: String,
}

/// Preview a template with sample values
#[utoipa::path(post, path = "/api/v1/notification-templates/preview", tag = "operations", request_body = MessageTemplateIn,
    responses((status = 200, description = "The rendering", body = PreviewOut),
        (status = 422, description = "It does not render", body = Problem, content_type = "application/problem+json")))]
async fn preview_template(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<MessageTemplateIn>,
) -> Result<Json<PreviewOut>, ApiError> {
    state.app.notifications().notification_templates(&ctx).await?;
    let (subject, body) = state.app.notifications().preview_template(&b.subject, &b.body)?;
    Ok(Json(PreviewOut { subject, body }))
}
