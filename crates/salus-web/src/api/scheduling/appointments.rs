//! Free slots, appointments and their status moves, walk-ins and the waiting room.

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDate;
use salus_app::identity::Permission;
use salus_app::scheduling::{Appointment, BookInput, FreeSlot, Queue};
use salus_core::scheduling::{AppointmentStatus, Transition};
use salus_core::{AppointmentId, DepartmentId, PatientId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{DoctorQuery, not_found};
use crate::AppState;
use crate::api::openapi::coded;
use crate::api::{ApiJson, ApiQuery, ApiUser, Paged, if_match, with_etag};
use crate::error::{ApiError, FieldProblem, Problem};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/api/v1/slots", Access::Permission(Permission::AppointmentsRead))
        .example("/api/v1/slots?doctor_id={id}"),
    route("/api/v1/appointments", Access::Permission(Permission::AppointmentsRead))
        .example("/api/v1/appointments?date=2026-01-01"),
    route("/api/v1/appointments/{id}", Access::Permission(Permission::AppointmentsRead)),
    route("/api/v1/appointments/{id}/status", Access::Permission(Permission::AppointmentsRead)).post(),
    route("/api/v1/appointments/{id}/reschedule", Access::Permission(Permission::AppointmentsBook)).post(),
    route("/api/v1/walk-ins", Access::Permission(Permission::AppointmentsBook)).post(),
    route("/api/v1/queue", Access::Permission(Permission::AppointmentsRead)),
    route("/api/v1/queue/call-next", Access::Permission(Permission::AppointmentsConsult)).post(),
];

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(free_slots))
        .routes(routes!(list_appointments, book))
        .routes(routes!(get_appointment))
        .routes(routes!(move_appointment))
        .routes(routes!(reschedule))
        .routes(routes!(walk_in))
        .routes(routes!(queue))
        .routes(routes!(call_next))
}

/// A slot with places left.
#[derive(Debug, Serialize, ToSchema)]
pub struct FreeSlotOut {
    #[schema(value_type = String, format = Uuid)]
    pub doctor_id: UserId,
    pub date: NaiveDate,
    /// The facility's wall clock, "09:30".
    #[schema(value_type = String)]
    pub time: String,
    /// The slot's length in minutes.
    pub minutes: u16,
    #[schema(value_type = String, format = Uuid)]
    pub department_id: DepartmentId,
    /// Patients the slot takes (without overbooking).
    pub capacity: u16,
    /// Places already booked.
    pub taken: u16,
}

impl From<FreeSlot> for FreeSlotOut {
    fn from(s: FreeSlot) -> Self {
        Self {
            doctor_id: s.doctor_id,
            date: s.date,
            time: s.time.to_string(),
            minutes: s.minutes,
            department_id: s.department_id,
            capacity: s.capacity,
            taken: s.taken,
        }
    }
}

/// `?doctor_id=&department_id=&from=&days=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotsQuery {
    /// One doctor's slots…
    #[param(value_type = Option<String>, format = Uuid)]
    pub doctor_id: Option<UserId>,
    /// …or every doctor's in a department.
    #[param(value_type = Option<String>, format = Uuid)]
    pub department_id: Option<DepartmentId>,
    /// First day (default today).
    pub from: Option<NaiveDate>,
    /// 1 to 90 (default 7).
    #[serde(default, deserialize_with = "crate::api::extract::bounded::<_, u32, 1, 90>")]
    #[param(minimum = 1, maximum = 90)]
    pub days: Option<u32>,
}

/// Free slots
#[utoipa::path(get, path = "/api/v1/slots", tag = "scheduling", params(SlotsQuery),
    responses((status = 200, description = "Slots with places left, by time", body = Paged<FreeSlotOut>),
        (status = 422, description = "Neither doctor nor department, or too many days", body = Problem, content_type = "application/problem+json")))]
async fn free_slots(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<SlotsQuery>,
) -> Result<Json<Paged<FreeSlotOut>>, ApiError> {
    if q.doctor_id.is_none() && q.department_id.is_none() {
        return Err(ApiError::fields(vec![FieldProblem {
            field: "doctor_id".into(),
            message: "give a doctor_id or a department_id".into(),
        }]));
    }
    let from = q.from.unwrap_or_else(|| salus_app::scheduling::local_now(state.app.time_zone).0);
    let doctors: Vec<UserId> = q.doctor_id.into_iter().collect();
    let slots =
        state.app.scheduling().free_slots(&ctx, &doctors, q.department_id, from, q.days.unwrap_or(7)).await?;
    Ok(Json(Paged::new(slots.into_iter().map(FreeSlotOut::from).collect(), None::<String>)))
}

/// An appointment.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentOut {
    #[schema(value_type = String, format = Uuid)]
    pub id: AppointmentId,
    #[schema(value_type = String, format = Uuid)]
    pub patient_id: PatientId,
    #[schema(value_type = String, format = Uuid)]
    pub doctor_id: UserId,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub department_id: Option<DepartmentId>,
    pub date: NaiveDate,
    /// Absent for a walk-in.
    #[schema(value_type = Option<String>)]
    pub time: Option<String>,
    pub starts_at: chrono::DateTime<chrono::Utc>,
    pub minutes: i32,
    /// booked, checked_in, in_consultation, finished, cancelled, no_show, rescheduled.
    #[schema(schema_with = coded::<AppointmentStatus>)]
    pub status: AppointmentStatus,
    pub reason: Option<String>,
    /// The waiting-room token, from check-in.
    pub token: Option<i32>,
    pub cancel_reason: Option<String>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub rescheduled_to: Option<AppointmentId>,
    pub version: i32,
}

impl From<Appointment> for AppointmentOut {
    fn from(a: Appointment) -> Self {
        Self {
            id: a.id,
            patient_id: a.patient_id,
            doctor_id: a.doctor_id,
            department_id: a.department_id,
            date: a.date,
            time: a.time.map(|t| t.to_string()),
            starts_at: a.starts_at,
            minutes: a.minutes,
            status: a.status,
            reason: a.reason,
            token: a.token,
            cancel_reason: a.cancel_reason,
            rescheduled_to: a.rescheduled_to,
            version: a.version,
        }
    }
}

fn appointment_response(status: StatusCode, a: Appointment) -> Response {
    let version = a.version;
    with_etag(status, version, AppointmentOut::from(a))
}

/// A booking.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookIn {
    #[schema(value_type = String, format = Uuid)]
    pub patient_id: PatientId,
    #[schema(value_type = String, format = Uuid)]
    pub doctor_id: UserId,
    pub date: NaiveDate,
    /// A slot's time, "09:30".
    pub time: String,
    pub reason: Option<String>,
    /// Use one of the slot's extra places (default false).
    #[serde(default)]
    pub overbook: bool,
}

/// `?date=&doctor_id=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DayQuery {
    pub date: NaiveDate,
    #[param(value_type = Option<String>, format = Uuid)]
    pub doctor_id: Option<UserId>,
}

/// A day's appointments
#[utoipa::path(get, path = "/api/v1/appointments", tag = "scheduling", params(DayQuery),
    responses((status = 200, description = "In time order (each read audited)", body = Paged<AppointmentOut>),
        (status = 400, description = "No or a malformed date", body = Problem, content_type = "application/problem+json")))]
async fn list_appointments(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<DayQuery>,
) -> Result<Json<Paged<AppointmentOut>>, ApiError> {
    let list = state.app.scheduling().appointments_on(&ctx, q.date, q.doctor_id).await?;
    Ok(Json(Paged::new(list.into_iter().map(AppointmentOut::from).collect(), None::<String>)))
}

/// Book an appointment
#[utoipa::path(post, path = "/api/v1/appointments", tag = "scheduling", request_body = BookIn,
    responses((status = 201, description = "Booked", body = AppointmentOut),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slot is full (`next_free` lists the next free slots)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "In the past, not a slot, on leave, an inactive doctor or patient", body = Problem, content_type = "application/problem+json")))]
async fn book(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<BookIn>,
) -> Result<Response, ApiError> {
    let input = BookInput {
        patient_id: b.patient_id,
        doctor_id: b.doctor_id,
        date: b.date,
        time: b.time,
        reason: b.reason.unwrap_or_default(),
        overbook: b.overbook,
    };
    let a = state.app.scheduling().book(&ctx, input).await?;
    Ok(appointment_response(StatusCode::CREATED, a))
}

/// Read an appointment
#[utoipa::path(get, path = "/api/v1/appointments/{id}", tag = "scheduling",
    params(("id" = String, Path, description = "Appointment id")),
    responses((status = 200, description = "The appointment (ETag: its version)", body = AppointmentOut),
        (status = 404, description = "No such appointment", body = Problem, content_type = "application/problem+json")))]
async fn get_appointment(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let a =
        state.app.scheduling().appointment(&ctx, not_found::<AppointmentId>(&raw, "appointment")?).await?;
    Ok(appointment_response(StatusCode::OK, a))
}

/// A status move.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AppointmentMoveIn)]
pub struct MoveIn {
    /// check_in, start, finish, cancel, no_show.
    #[schema(schema_with = coded::<Transition>)]
    pub transition: Transition,
    /// Required to cancel.
    pub reason: Option<String>,
}

/// Move an appointment along its statuses
///
/// booked → checked_in (a token is given) → in_consultation → finished; booked or
/// checked_in → cancelled (with a reason); booked → no_show. Any other move is 409.
#[utoipa::path(post, path = "/api/v1/appointments/{id}/status", tag = "scheduling", request_body = MoveIn,
    params(("id" = String, Path, description = "Appointment id"), ("If-Match" = String, Header, description = "The version")),
    responses((status = 200, description = "Moved", body = AppointmentOut),
        (status = 403, description = "Not allowed (start and finish are the doctor's)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a legal move from here, or changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A cancellation without a reason", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json")))]
async fn move_appointment(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<MoveIn>,
) -> Result<Response, ApiError> {
    let (id, version) = (not_found::<AppointmentId>(&raw, "appointment")?, if_match(&headers)?);
    let a = state
        .app
        .scheduling()
        .transition(&ctx, id, version, b.transition, b.reason.as_deref().unwrap_or(""))
        .await?;
    Ok(appointment_response(StatusCode::OK, a))
}

/// Another slot.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleIn {
    pub date: NaiveDate,
    pub time: String,
    /// Another doctor's slot (default: the same doctor).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub doctor_id: Option<UserId>,
}

/// Reschedule an appointment
///
/// Books the new slot and frees the old one in one transaction; the old appointment points
/// to the new (`rescheduled_to`).
#[utoipa::path(post, path = "/api/v1/appointments/{id}/reschedule", tag = "scheduling", request_body = RescheduleIn,
    params(("id" = String, Path, description = "Appointment id"), ("If-Match" = String, Header, description = "The version")),
    responses((status = 201, description = "The new appointment", body = AppointmentOut),
        (status = 409, description = "Not booked, changed meanwhile, or the new slot is full", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a slot", body = Problem, content_type = "application/problem+json")))]
async fn reschedule(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<RescheduleIn>,
) -> Result<Response, ApiError> {
    let (id, version) = (not_found::<AppointmentId>(&raw, "appointment")?, if_match(&headers)?);
    let a = state.app.scheduling().reschedule(&ctx, id, version, b.date, b.time, b.doctor_id).await?;
    Ok(appointment_response(StatusCode::CREATED, a))
}

/// A walk-in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WalkInIn {
    #[schema(value_type = String, format = Uuid)]
    pub patient_id: PatientId,
    #[schema(value_type = String, format = Uuid)]
    pub doctor_id: UserId,
    pub reason: Option<String>,
}

/// Register a walk-in
///
/// Checked in at once with the doctor's next token for today.
#[utoipa::path(post, path = "/api/v1/walk-ins", tag = "scheduling", request_body = WalkInIn,
    responses((status = 201, description = "Waiting, with a token", body = AppointmentOut),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An inactive patient or doctor", body = Problem, content_type = "application/problem+json")))]
async fn walk_in(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<WalkInIn>,
) -> Result<Response, ApiError> {
    let a = state
        .app
        .scheduling()
        .walk_in(&ctx, b.patient_id, b.doctor_id, b.reason.as_deref().unwrap_or(""))
        .await?;
    Ok(appointment_response(StatusCode::CREATED, a))
}

/// One doctor's waiting room.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueOut {
    #[schema(value_type = String, format = Uuid)]
    pub doctor_id: UserId,
    pub doctor_name: String,
    /// The token with the doctor now.
    pub current_token: Option<i32>,
    /// Tokens waiting, in order.
    pub waiting_tokens: Vec<i32>,
}

impl From<Queue> for QueueOut {
    fn from(q: Queue) -> Self {
        Self {
            doctor_id: q.doctor_id,
            doctor_name: q.doctor_name,
            current_token: q.current.and_then(|a| a.token),
            waiting_tokens: q.waiting.iter().filter_map(|a| a.token).collect(),
        }
    }
}

/// Today's waiting rooms
///
/// Tokens only, no names: this is what the screen in the waiting room shows.
#[utoipa::path(get, path = "/api/v1/queue", tag = "scheduling", params(DoctorQuery),
    responses((status = 200, description = "Per doctor", body = Paged<QueueOut>)))]
async fn queue(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<DoctorQuery>,
) -> Result<Json<Paged<QueueOut>>, ApiError> {
    let doctors: Vec<UserId> = q.doctor_id.into_iter().collect();
    let queues = state.app.scheduling().queues(&ctx, &doctors).await?;
    Ok(Json(Paged::new(queues.into_iter().map(QueueOut::from).collect(), None::<String>)))
}

/// Call the next patient
///
/// The signed-in doctor's lowest waiting token goes in (its status becomes
/// in_consultation). 409 while someone is in consultation or when nobody waits.
#[utoipa::path(post, path = "/api/v1/queue/call-next", tag = "scheduling",
    responses((status = 200, description = "Now with the doctor", body = AppointmentOut),
        (status = 403, description = "Not a doctor", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Someone is in consultation, or nobody waits", body = Problem, content_type = "application/problem+json")))]
async fn call_next(State(state): State<AppState>, ApiUser(_u, ctx): ApiUser) -> Result<Response, ApiError> {
    let a = state.app.scheduling().call_next(&ctx).await?;
    Ok(appointment_response(StatusCode::OK, a))
}
