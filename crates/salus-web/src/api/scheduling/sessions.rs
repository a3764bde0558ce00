//! Doctors' weekly sessions and their exceptions (leave, holidays, extra sessions).

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::NaiveDate;
use salus_app::identity::Permission;
use salus_app::scheduling::{ExceptionInput, TemplateInput};
use salus_core::scheduling::{ExceptionKind, ScheduleException, ScheduleTemplate};
use salus_core::{DepartmentId, ExceptionId, TemplateId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{DoctorQuery, not_found};
use crate::AppState;
use crate::api::openapi::coded;
use crate::api::{ApiJson, ApiQuery, ApiUser, Paged, if_match};
use crate::error::{ApiError, Problem};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/api/v1/schedules", Access::Permission(Permission::AppointmentsRead)),
    route("/api/v1/schedules/{id}/retire", Access::Permission(Permission::SchedulesManage)).post(),
    route("/api/v1/schedule-exceptions", Access::Permission(Permission::AppointmentsRead))
        .example("/api/v1/schedule-exceptions?from=2026-01-01&to=2026-01-31"),
    route("/api/v1/schedule-exceptions/{id}", Access::Permission(Permission::SchedulesManage)).delete(),
];

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_templates, create_template))
        .routes(routes!(retire_template))
        .routes(routes!(list_exceptions, add_exception))
        .routes(routes!(remove_exception))
}

/// A doctor's weekly session.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateOut {
    #[schema(value_type = String, format = Uuid)]
    pub id: uuid::Uuid,
    #[schema(value_type = String, format = Uuid)]
    pub doctor_id: uuid::Uuid,
    #[schema(value_type = String, format = Uuid)]
    pub department_id: uuid::Uuid,
    /// 1 Monday … 7 Sunday.
    pub weekday: i16,
    pub start: String,
    pub end: String,
    pub slot_minutes: i32,
    pub capacity: i32,
    pub overbook: i32,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub active: bool,
    pub version: i32,
}

impl From<ScheduleTemplate> for TemplateOut {
    fn from(t: ScheduleTemplate) -> Self {
        Self {
            id: t.id,
            doctor_id: t.doctor_id,
            department_id: t.department_id,
            weekday: t.weekday,
            start: t.start_time,
            end: t.end_time,
            slot_minutes: t.slot_minutes,
            capacity: t.capacity,
            overbook: t.overbook,
            valid_from: t.valid_from,
            valid_until: t.valid_until,
            active: t.active,
            version: t.version,
        }
    }
}

/// A new weekly session.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateIn {
    #[schema(value_type = String, format = Uuid)]
    pub doctor_id: UserId,
    #[schema(value_type = String, format = Uuid)]
    pub department_id: DepartmentId,
    /// Monday (1) to Sunday (7).
    #[schema(minimum = 1, maximum = 7)]
    pub weekday: i16,
    /// "09:00", the facility's wall clock.
    #[schema(pattern = "^\\s*([01]?[0-9]|2[0-3]):[0-5][0-9]\\s*$")]
    pub start: String,
    #[schema(pattern = "^\\s*([01]?[0-9]|2[0-3]):[0-5][0-9]\\s*$")]
    pub end: String,
    #[schema(minimum = 5, maximum = 240)]
    pub slot_minutes: i32,
    /// Patients per slot (default 1).
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 50)]
    pub capacity: i32,
    /// Extra places reception may give knowingly (default 0).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 50)]
    pub overbook: i32,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

fn one() -> i32 {
    1
}

/// List weekly sessions
#[utoipa::path(get, path = "/api/v1/schedules", tag = "scheduling", params(DoctorQuery),
    responses((status = 200, description = "Sessions by doctor, weekday, start", body = Paged<TemplateOut>),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json")))]
async fn list_templates(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<DoctorQuery>,
) -> Result<Json<Paged<TemplateOut>>, ApiError> {
    let items = state
        .app
        .scheduling()
        .templates(&ctx, q.doctor_id)
        .await?
        .into_iter()
        .map(TemplateOut::from)
        .collect();
    Ok(Json(Paged::new(items, None::<String>)))
}

/// Add a weekly session
#[utoipa::path(post, path = "/api/v1/schedules", tag = "scheduling", request_body = TemplateIn,
    responses((status = 201, description = "Created", body = TemplateOut),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, or it overlaps another session", body = Problem, content_type = "application/problem+json")))]
async fn create_template(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<TemplateIn>,
) -> Result<(StatusCode, Json<TemplateOut>), ApiError> {
    let input = TemplateInput {
        doctor_id: b.doctor_id,
        department_id: b.department_id,
        weekday: b.weekday,
        start: b.start,
        end: b.end,
        slot_minutes: b.slot_minutes,
        capacity: b.capacity,
        overbook: b.overbook,
        valid_from: b.valid_from,
        valid_until: b.valid_until,
    };
    let t = state.app.scheduling().create_template(&ctx, input).await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

/// Retire a weekly session
///
/// Booked appointments stay; no new slots are offered. `If-Match`: the version.
#[utoipa::path(post, path = "/api/v1/schedules/{id}/retire", tag = "scheduling",
    params(("id" = String, Path, description = "Session id"), ("If-Match" = String, Header, description = "The version")),
    responses((status = 204, description = "Retired"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile", body = Problem, content_type = "application/problem+json")))]
async fn retire_template(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let (id, version) = (not_found::<TemplateId>(&raw, "session")?, if_match(&headers)?);
    state.app.scheduling().retire_template(&ctx, id, version).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Leave, a holiday or an extra session.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExceptionOut {
    #[schema(value_type = String, format = Uuid)]
    pub id: uuid::Uuid,
    /// Absent: every doctor (a holiday).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub doctor_id: Option<uuid::Uuid>,
    pub date: NaiveDate,
    /// leave or extra.
    #[schema(schema_with = coded::<ExceptionKind>)]
    pub kind: ExceptionKind,
    pub start: Option<String>,
    pub end: Option<String>,
    pub reason: Option<String>,
}

impl From<ScheduleException> for ExceptionOut {
    fn from(e: ScheduleException) -> Self {
        Self {
            id: e.id,
            doctor_id: e.doctor_id,
            date: e.date,
            kind: e.kind,
            start: e.start_time,
            end: e.end_time,
            reason: e.reason,
        }
    }
}

/// A new exception.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionIn {
    #[schema(value_type = Option<String>, format = Uuid)]
    pub doctor_id: Option<UserId>,
    pub date: NaiveDate,
    /// leave (times optional: the whole day) or extra.
    #[schema(schema_with = coded::<ExceptionKind>)]
    pub kind: String,
    /// Blank or absent for leave: the whole day.
    #[schema(pattern = "^\\s*(([01]?[0-9]|2[0-3]):[0-5][0-9])?\\s*$")]
    pub start: Option<String>,
    #[schema(pattern = "^\\s*(([01]?[0-9]|2[0-3]):[0-5][0-9])?\\s*$")]
    pub end: Option<String>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub department_id: Option<DepartmentId>,
    #[schema(minimum = 5, maximum = 240)]
    pub slot_minutes: Option<i32>,
    #[schema(minimum = 1, maximum = 50)]
    pub capacity: Option<i32>,
    pub reason: Option<String>,
}

/// `?from=&to=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// List exceptions
#[utoipa::path(get, path = "/api/v1/schedule-exceptions", tag = "scheduling", params(RangeQuery),
    responses((status = 200, description = "Exceptions by date", body = Paged<ExceptionOut>),
        (status = 400, description = "Dates missing or malformed", body = Problem, content_type = "application/problem+json")))]
async fn list_exceptions(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> Result<Json<Paged<ExceptionOut>>, ApiError> {
    let items = state
        .app
        .scheduling()
        .exceptions(&ctx, q.from, q.to)
        .await?
        .into_iter()
        .map(ExceptionOut::from)
        .collect();
    Ok(Json(Paged::new(items, None::<String>)))
}

/// Add leave, a holiday or an extra session
#[utoipa::path(post, path = "/api/v1/schedule-exceptions", tag = "scheduling", request_body = ExceptionIn,
    responses((status = 201, description = "Added", body = ExceptionOut),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json")))]
async fn add_exception(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<ExceptionIn>,
) -> Result<(StatusCode, Json<ExceptionOut>), ApiError> {
    let input = ExceptionInput {
        doctor_id: b.doctor_id,
        date: b.date,
        kind: b.kind,
        start: b.start.unwrap_or_default(),
        end: b.end.unwrap_or_default(),
        department_id: b.department_id,
        slot_minutes: b.slot_minutes,
        capacity: b.capacity,
        reason: b.reason.unwrap_or_default(),
    };
    let e = state.app.scheduling().add_exception(&ctx, input).await?;
    Ok((StatusCode::CREATED, Json(e.into())))
}

/// Remove an exception
#[utoipa::path(delete, path = "/api/v1/schedule-exceptions/{id}", tag = "scheduling",
    params(("id" = String, Path, description = "Exception id")),
    responses((status = 204, description = "Removed"),
        (status = 404, description = "No such exception", body = Problem, content_type = "application/problem+json")))]
async fn remove_exception(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.scheduling().remove_exception(&ctx, not_found::<ExceptionId>(&raw, "exception")?).await?;
    Ok(StatusCode::NO_CONTENT)
}
