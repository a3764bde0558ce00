//! Appointment pages: reception's day board (every doctor, statuses, actions), a doctor's
//! worklist (today's own patients in order, one click into the chart), and booking for a
//! patient (department → doctor → day → a free slot). Every action is a form that posts
//! the version it saw; the board says what happened, or why not.

use crate::access::{Access, Declared, route};
use crate::views::flash;
use crate::views::menu::Entry;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::NaiveDate;
use salus_app::identity::Permission;
use salus_app::organisation::StaffQuery;
use salus_app::scheduling::{BoardRow, BookInput, FreeSlot, local_now};
use salus_app::{AppError, Ctx};
use salus_core::page::PageRequest;
use salus_core::scheduling::{AppointmentStatus, Transition};
use salus_core::{AppointmentId, DepartmentId, PatientId, Role, UserId};
use serde::Deserialize;

use super::{Form, PageCtx, SignedIn, render};
use crate::AppState;
use crate::error::PageError;

/// The pages of this module worth a link (see `menu`).
pub(super) const MENU: &[Entry] = &[
    Entry::page("My worklist", "/worklist", "Today's patients, the waiting first; call the next one"),
    Entry::page("Appointments", "/appointments", "The day's board: check in, mark no-shows, cancel or move"),
    Entry::home_only("Book an appointment", "/appointments/book", "Free slots by department, doctor and day"),
    Entry::home_only("Waiting-room screen", "/queue", "Tokens called, for the screen in the waiting room"),
];

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/appointments", Access::Permission(Permission::AppointmentsRead)),
    route("/appointments/book", Access::Permission(Permission::AppointmentsBook))
        .example("/appointments/book?patient_id={id}"),
    // Checking in is reception's, starting a consultation the doctor's: the use case decides.
    route("/appointments/{id}/{action}", Access::Permission(Permission::AppointmentsRead))
        .post()
        .example("/appointments/{id}/check_in"),
    route("/worklist", Access::Permission(Permission::AppointmentsConsult)),
    route("/worklist/call-next", Access::Permission(Permission::AppointmentsConsult)).post(),
    route("/appointments/walk-in", Access::Permission(Permission::AppointmentsBook)).post(),
    route("/queue", Access::Permission(Permission::AppointmentsRead)),
    route("/queue/board", Access::Permission(Permission::AppointmentsRead)),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/appointments", get(board))
        .route("/appointments/book", get(book_page).post(book))
        .route("/appointments/{id}/{action}", post(act))
        .route("/worklist", get(worklist))
        .route("/worklist/call-next", post(call_next))
        .route("/appointments/walk-in", post(walk_in))
        .route("/queue", get(queue_screen))
        .route("/queue/board", get(queue_board))
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueueScreen {
    page: PageCtx,
    board: QueueBoard,
}

/// The part of the waiting-room screen that refreshes itself.
#[derive(Template)]
#[template(path = "queue_partial.html")]
struct QueueBoard {
    queues: Vec<salus_app::scheduling::Queue>,
    doctor: String,
}

#[derive(Deserialize)]
struct QueueQuery {
    #[serde(default)]
    doctor: String,
}

async fn load_board(state: &AppState, ctx: &Ctx, doctor: String) -> Result<QueueBoard, PageError> {
    let doctors: Vec<UserId> = doctor.parse().ok().into_iter().collect();
    let queues = state.app.scheduling().queues(ctx, &doctors).await?;
    Ok(QueueBoard { queues, doctor })
}

/// The screen in the waiting room: large tokens, refreshed every few seconds.
async fn queue_screen(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PageError> {
    let board = load_board(&state, &ctx, q.doctor).await?;
    Ok(render(StatusCode::OK, &QueueScreen { page, board }))
}

async fn queue_board(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PageError> {
    Ok(render(StatusCode::OK, &load_board(&state, &ctx, q.doctor).await?))
}

async fn call_next(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
) -> Result<Response, PageError> {
    let text = match state.app.scheduling().call_next(&ctx).await {
        Ok(a) => format!("Token {} is called in.", a.token.unwrap_or_default()),
        Err(AppError::Conflict(message)) => format!("Not done: {message}."),
        Err(e) => return Err(e.into()),
    };
    Ok(flash(&state, "/worklist", &text))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WalkInForm {
    patient_id: String,
    walk_in_doctor: String,
    reason: String,
}

async fn walk_in(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Form(f): Form<WalkInForm>,
) -> Result<Response, PageError> {
    let patient: PatientId = f
        .patient_id
        .parse()
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such patient."))?;
    let back = format!("/appointments/book?patient_id={patient}");
    let Ok(doctor) = f.walk_in_doctor.parse::<UserId>() else {
        return Ok(flash(&state, &back, "Not done: choose the doctor."));
    };
    let text = match state.app.scheduling().walk_in(&ctx, patient, doctor, &f.reason).await {
        Ok(a) => format!("Walk-in registered: token {}.", a.token.unwrap_or_default()),
        Err(AppError::Invalid(errors)) => {
            errors.into_iter().map(|e| format!("Not done: {}.", e.message)).collect::<Vec<_>>().join(" ")
        }
        Err(e) => return Err(e.into()),
    };
    let to = if text.starts_with("Walk-in") { format!("/patients/{patient}") } else { back };
    Ok(flash(&state, &to, &text))
}

#[derive(Template)]
#[template(path = "appointments.html")]
struct BoardPage {
    page: PageCtx,
    title: &'static str,
    date: NaiveDate,
    rows: Vec<BoardRow>,
    doctors: Vec<(String, String)>,
    doctor: String,
    status: String,
    may_book: bool,
    may_consult: bool,
    worklist: bool,
}

impl BoardPage {
    fn shown(&self) -> Vec<&BoardRow> {
        self.rows
            .iter()
            .filter(|r| self.status.is_empty() || r.appointment.status.as_str() == self.status)
            .collect()
    }

    fn status_is(&self, s: &str) -> bool {
        self.status == s
    }

    fn return_to(&self) -> String {
        if self.worklist {
            "/worklist".into()
        } else {
            format!("/appointments?date={}&doctor={}", self.date, self.doctor)
        }
    }

    fn statuses(&self) -> Vec<(&'static str, &'static str)> {
        salus_core::scheduling::AppointmentStatus::ALL.iter().map(|s| (s.as_str(), s.label())).collect()
    }
}

#[derive(Deserialize)]
struct BoardQuery {
    date: Option<String>,
    #[serde(default)]
    doctor: String,
    #[serde(default)]
    status: String,
}

async fn doctor_options(state: &AppState, ctx: &Ctx) -> Result<Vec<(String, String)>, PageError> {
    let query = StaffQuery { role: Some(Role::Doctor), ..Default::default() };
    let found = state.app.organisation().staff(ctx, &query, PageRequest::new(None, Some(200))).await?;
    Ok(found.items.into_iter().map(|m| (m.user.id.to_string(), m.user.display_name)).collect())
}

async fn board(
    State(state): State<AppState>,
    SignedIn(user, ctx, page): SignedIn,
    Query(q): Query<BoardQuery>,
) -> Result<Response, PageError> {
    let today = local_now(state.app.time_zone).0;
    let date = q.date.as_deref().and_then(|d| d.parse().ok()).unwrap_or(today);
    let doctor = q.doctor.parse::<UserId>().ok();
    let rows = state.app.scheduling().day_board(&ctx, date, doctor).await?;
    let doctors = doctor_options(&state, &ctx).await?;
    let page_data = BoardPage {
        page,
        title: "Appointments",
        date,
        rows,
        doctors,
        doctor: doctor.map(|d| d.to_string()).unwrap_or_default(),
        status: q.status,
        may_book: user.may(Permission::AppointmentsBook),
        may_consult: user.may(Permission::AppointmentsConsult),
        worklist: false,
    };
    Ok(render(StatusCode::OK, &page_data))
}

/// Today's patients of the signed-in doctor: those waiting first, by token.
async fn worklist(
    State(state): State<AppState>,
    SignedIn(user, ctx, page): SignedIn,
) -> Result<Response, PageError> {
    let today = local_now(state.app.time_zone).0;
    let mut rows = state.app.scheduling().day_board(&ctx, today, Some(user.id)).await?;
    rows.sort_by_key(|r| {
        use salus_core::scheduling::AppointmentStatus as S;
        let rank = match r.appointment.status {
            S::InConsultation => 0,
            S::CheckedIn => 1,
            S::Booked => 2,
            _ => 3,
        };
        (rank, r.appointment.token.unwrap_or(i32::MAX), r.appointment.starts_at)
    });
    let page_data = BoardPage {
        page,
        title: "My worklist",
        date: today,
        rows,
        doctors: Vec::new(),
        doctor: user.id.to_string(),
        status: String::new(),
        may_book: user.may(Permission::AppointmentsBook),
        may_consult: user.may(Permission::AppointmentsConsult),
        worklist: true,
    };
    Ok(render(StatusCode::OK, &page_data))
}

/// An action on the board: the version the board showed, and where to go back to.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ActForm {
    return_to: String,
    version: Option<i32>,
    reason: String,
}

async fn act(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActForm>,
) -> Result<Response, PageError> {
    let id: AppointmentId =
        id.parse().map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such appointment."))?;
    let transition = Transition::parse(&action, "action")
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such action."))?;
    let back = super::safe_next(Some(form.return_to.as_str())).to_owned();
    let version = form.version.ok_or_else(|| {
        PageError::new(StatusCode::BAD_REQUEST, "The form is missing its version; reload the page.")
    })?;
    let text = match state.app.scheduling().transition(&ctx, id, version, transition, &form.reason).await {
        Ok(a) => match transition {
            Transition::CheckIn => format!("Checked in: token {}.", a.token.unwrap_or_default()),
            Transition::Start => "Consultation started.".into(),
            Transition::Finish => "Consultation finished.".into(),
            Transition::Cancel => "Appointment cancelled; the slot is free again.".into(),
            Transition::NoShow => "Marked as not come; the slot is free again.".into(),
        },
        Err(AppError::Invalid(errors)) => {
            errors.into_iter().map(|e| format!("Not done: {}.", e.message)).collect::<Vec<_>>().join(" ")
        }
        Err(AppError::Conflict(message)) => format!("Not done: {message}."),
        Err(stale @ AppError::Stale { .. }) => {
            format!("Not done: {stale}; the board shows it as it is now.")
        }
        Err(e) => return Err(e.into()),
    };
    Ok(flash(&state, &back, &text))
}

#[derive(Template)]
#[template(path = "book.html")]
struct BookPage {
    page: PageCtx,
    patient_id: String,
    patient_name: String,
    mrn: String,
    departments: Vec<(String, String)>,
    doctors: Vec<(String, String)>,
    department: String,
    doctor: String,
    date: NaiveDate,
    slots: Vec<FreeSlot>,
    reason: String,
    error: Option<String>,
    next_free: Vec<FreeSlot>,
    reschedule: String,
    version: String,
}

impl BookPage {
    fn doctor_name(&self, id: &UserId) -> String {
        let id = id.to_string();
        self.doctors.iter().find(|(v, _)| *v == id).map(|(_, n)| n.clone()).unwrap_or_default()
    }
}

#[derive(Deserialize)]
struct BookQuery {
    patient_id: String,
    #[serde(default)]
    department_id: String,
    #[serde(default)]
    doctor_id: String,
    date: Option<String>,
    #[serde(default)]
    reason: String,
    /// Moving this appointment (with the version seen) rather than booking a new one.
    #[serde(default)]
    reschedule: String,
    #[serde(default)]
    version: String,
}

/// A booking that did not go through, shown again.
struct Again {
    status: StatusCode,
    reason: String,
    error: String,
    next_free: Vec<FreeSlot>,
}

async fn show_book(
    state: &AppState,
    ctx: &Ctx,
    page: PageCtx,
    q: BookQuery,
    again: Option<Again>,
) -> Result<Response, PageError> {
    let (status, reason, error, next_free) = match again {
        Some(a) => (a.status, a.reason, Some(a.error), a.next_free),
        None => (StatusCode::OK, q.reason.clone(), None, Vec::new()),
    };
    let patient_id: PatientId = q
        .patient_id
        .parse()
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such patient."))?;
    let patient = state.app.patients().patient(ctx, patient_id).await?;
    let today = local_now(state.app.time_zone).0;
    let date = q.date.as_deref().and_then(|d| d.parse().ok()).unwrap_or(today).max(today);
    let departments = state
        .app
        .organisation()
        .departments(ctx, None)
        .await?
        .into_iter()
        .filter(|d| d.active)
        .map(|d| (d.id.to_string(), d.name))
        .collect();
    let department = q.department_id.parse::<DepartmentId>().ok();
    let doctor = q.doctor_id.parse::<UserId>().ok();
    let doctors = doctor_options(state, ctx).await?;
    let slots = if doctor.is_some() || department.is_some() {
        let ids: Vec<UserId> = doctor.into_iter().collect();
        state.app.scheduling().free_slots(ctx, &ids, department, date, 1).await?
    } else {
        Vec::new()
    };
    let page_data = BookPage {
        page,
        patient_id: patient.id.to_string(),
        patient_name: patient.display_name(),
        mrn: patient.mrn.clone(),
        departments,
        doctors,
        department: department.map(|d| d.to_string()).unwrap_or_default(),
        doctor: doctor.map(|d| d.to_string()).unwrap_or_default(),
        date,
        slots,
        reason,
        error,
        next_free,
        reschedule: q.reschedule.clone(),
        version: q.version.clone(),
    };
    Ok(render(status, &page_data))
}

async fn book_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<BookQuery>,
) -> Result<Response, PageError> {
    show_book(&state, &ctx, page, q, None).await
}

/// The booking form: what the booking page was asked for, and the slot chosen.
#[derive(Deserialize, Default)]
#[serde(default)]
struct BookForm {
    patient_id: String,
    department_id: String,
    doctor_id: String,
    date: String,
    reason: String,
    reschedule: String,
    version: String,
    slot_doctor: String,
    time: String,
}

async fn book(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(f): Form<BookForm>,
) -> Result<Response, PageError> {
    let q = BookQuery {
        patient_id: f.patient_id.clone(),
        department_id: f.department_id.clone(),
        doctor_id: f.doctor_id.clone(),
        date: Some(f.date.clone()),
        reason: f.reason.clone(),
        reschedule: f.reschedule.clone(),
        version: f.version.clone(),
    };
    let bad = |m: &str| PageError::new(StatusCode::BAD_REQUEST, m);
    let input = BookInput {
        patient_id: f.patient_id.parse().map_err(|_| bad("The form names no patient."))?,
        doctor_id: f.slot_doctor.parse().map_err(|_| bad("Choose a slot."))?,
        date: f.date.parse().map_err(|_| bad("Choose a slot."))?,
        time: f.time.clone(),
        reason: f.reason.clone(),
        overbook: false,
    };
    let (date, time) = (input.date, input.time.clone());
    let result = match f.reschedule.parse::<AppointmentId>() {
        Ok(id) => {
            let version =
                f.version.parse().map_err(|_| bad("The form is missing its version; reload the page."))?;
            let doctor = f.slot_doctor.parse().ok();
            state.app.scheduling().reschedule(&ctx, id, version, date, time.clone(), doctor).await
        }
        Err(_) => state.app.scheduling().book(&ctx, input).await,
    };
    match result {
        Ok(a) => {
            let to = format!("/patients/{}", a.patient_id);
            let verb = if f.reschedule.is_empty() { "Booked" } else { "Moved" };
            let text = format!("{verb} to {} at {time}.", date.format("%a %d %b %Y"));
            Ok(flash(&state, &to, &text))
        }
        Err(AppError::SlotTaken { next }) => {
            let error = "Someone else booked that slot a moment ago. The next free ones are below.".into();
            let again =
                Again { status: StatusCode::CONFLICT, reason: f.reason.clone(), error, next_free: next };
            show_book(&state, &ctx, page, q, Some(again)).await
        }
        Err(AppError::Conflict(error)) => {
            let again = Again {
                status: StatusCode::CONFLICT,
                reason: f.reason.clone(),
                error,
                next_free: Vec::new(),
            };
            show_book(&state, &ctx, page, q, Some(again)).await
        }
        Err(AppError::Invalid(errors)) => {
            let error = errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join("; ");
            let again = Again {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                reason: f.reason.clone(),
                error,
                next_free: Vec::new(),
            };
            show_book(&state, &ctx, page, q, Some(again)).await
        }
        Err(e) => Err(e.into()),
    }
}
