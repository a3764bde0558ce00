//! Scheduling: doctors' weekly sessions and exceptions, free slots, appointments and their
//! status moves. Times are the facility's wall clock ("09:30") on a date; `starts_at` is
//! the same moment in UTC. A booking into a full slot is 409 `slot-taken` with the next
//! free slots in `next_free`.
//!
//! Sessions and exceptions are in `sessions`; slots, appointments and the waiting room in
//! `appointments`.

mod appointments;
mod sessions;

use axum::http::StatusCode;
use salus_app::scheduling::FreeSlot;
use salus_core::UserId;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use crate::error::{ApiError, ProblemKind};

pub(crate) use appointments::ROUTES as APPOINTMENT_ROUTES;
pub(crate) use sessions::ROUTES as SESSION_ROUTES;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(sessions::routes()).merge(appointments::routes())
}

/// One doctor's (sessions, waiting room), or every doctor's when absent.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DoctorQuery {
    #[param(value_type = Option<String>, format = Uuid)]
    pub doctor_id: Option<UserId>,
}

fn not_found<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::new(ProblemKind::NotFound, format!("{what} not found")))
}

/// A booking that found its slot full (409): `next_free` lists the doctor's next free slots.
pub const SLOT_TAKEN: ProblemKind =
    ProblemKind::new("slot-taken", StatusCode::CONFLICT, "The slot has no place left");

/// The `next_free` member of a slot-taken problem.
#[derive(Serialize)]
#[serde(transparent)]
pub struct NextFree(pub Vec<FreeSlot>);

impl crate::error::ProblemExtension for NextFree {
    const MEMBER: &'static str = "next_free";
}

pub(crate) fn slot_taken(next: Vec<FreeSlot>) -> ApiError {
    ApiError::new(SLOT_TAKEN, "another booking took the last place; next_free lists the next free slots")
        .with(&NextFree(next))
}
