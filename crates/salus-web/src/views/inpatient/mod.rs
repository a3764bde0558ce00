//! The wards in the browser: the bed board (each bed's state and who is in it, with the
//! hand changes of a bed), the admission desk (the doctors' requests, admitted into a free
//! bed), a stay (where the patient lay; transfer, discharge order, discharge), a doctor's
//! request to admit from the chart, and the administrator's wards and beds.

use crate::access::{Access, Declared, route};
use crate::views::menu::Entry;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use salus_app::AppError;
use salus_app::identity::Permission;
use salus_app::inpatient::admissions::{AdmitInput, RequestInput, Stay, Waiting};
use salus_app::inpatient::mar::MedicationRecord;
use salus_app::inpatient::{Board, BoardBed, NewBeds, NewWard};
use salus_core::PatientId;
use salus_core::inpatient::mar::{DoseOutcome, OrderKind, OrderStatus};
use salus_core::inpatient::{AdmissionStatus, Bed, BedState, BedType, Ward};
use serde::Deserialize;
use uuid::Uuid;

use super::clinical::{flash_outcome, refusal};
use super::{Form, Local, PageCtx, SignedIn, flash, render};
use crate::AppState;
use crate::error::PageError;

pub(super) mod census;
pub(super) mod mar;
pub(super) mod records;

local!(BoardPage, DeskPage, StayPage);

/// The pages of this module worth a link (see `menu`).
pub(super) const MENU: &[Entry] = &[
    Entry::page("Wards", "/wards", "The bed board: every bed's state and who is in it"),
    Entry::page(
        "My inpatients",
        "/inpatients",
        "Your patients in beds, and doses waiting for your acknowledgement",
    ),
    Entry::home_only("Census", "/wards/census", "The midnight census, occupancy and the admission register"),
    Entry::page("Nurses' station", "/wards/doses", "The ward's doses due this shift, recorded as given"),
    Entry::page("Admissions", "/admissions", "Doctors' requests to admit, admitted into a free bed"),
    Entry::home_only("Wards and beds", "/wards/setup", "Add wards and their beds"),
];

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/wards", Access::Permission(Permission::InpatientRead)),
    route("/wards/setup", Access::Permission(Permission::WardAdmin)),
    route("/beds/{id}/state", Access::Permission(Permission::BedManage)).post(),
    route("/admissions", Access::Permission(Permission::InpatientAdmit)),
    route("/admissions/{id}", Access::Permission(Permission::InpatientRead)),
    // Transfer and discharge are the desk's, the discharge order and medicine orders a
    // doctor's: the use case checks.
    route("/admissions/{id}/{action}", Access::Permission(Permission::InpatientRead))
        .post()
        .example("/admissions/{id}/transfer"),
    route("/patients/{id}/admit", Access::Permission(Permission::InpatientOrder)),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(census::router())
        .merge(mar::router())
        .merge(records::router())
        .route("/wards", get(board_page))
        .route("/wards/setup", get(setup_page).post(setup))
        .route("/beds/{id}/state", post(bed_state))
        .route("/admissions", get(desk_page).post(admit))
        .route("/admissions/{id}", get(stay_page))
        .route("/admissions/{id}/{action}", post(stay_action))
        .route("/patients/{id}/admit", get(request_page).post(request))
}

fn field(f: &[(String, String)], name: &str) -> String {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
}

fn not_found(what: &str) -> PageError {
    PageError::new(StatusCode::NOT_FOUND, format!("There is no such {what}."))
}

fn may(page: &PageCtx, p: Permission) -> bool {
    page.user.as_ref().is_some_and(|u| u.may(p))
}

// ---- The bed board -------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
struct WardQuery {
    ward: String,
}

#[derive(Template)]
#[template(path = "ward_board.html")]
struct BoardPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    board: Board,
    ward: Option<Ward>,
    may_manage: bool,
}

impl BoardPage {
    fn is_ward(&self, w: &Ward) -> bool {
        self.ward.as_ref().is_some_and(|x| x.id == w.id)
    }
    fn states(&self) -> &'static [BedState] {
        BedState::ALL
    }
    fn badge(&self, b: &BoardBed) -> &'static str {
        match b.bed.state {
            BedState::Available => "ok",
            BedState::Reserved | BedState::Cleaning => "warn",
            BedState::Occupied => "info",
            BedState::Blocked => "danger",
        }
    }
    fn discharge_ordered(&self, b: &BoardBed) -> bool {
        b.occupant.as_ref().is_some_and(|(a, _)| a.status == AdmissionStatus::DischargeOrdered)
    }
}

async fn board_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<WardQuery>,
) -> Result<Response, PageError> {
    let inpatient = state.app.inpatient();
    let wards = inpatient.wards(&ctx).await?;
    let ward = wards.iter().find(|w| w.id.to_string() == q.ward).or(wards.first()).cloned();
    let board = match &ward {
        Some(w) => inpatient.board(&ctx, Some(w.id)).await?,
        None => Board { wards, beds: Vec::new() },
    };
    let may_manage = may(&page, Permission::BedManage);
    Ok(render(StatusCode::OK, &BoardPage { tz: state.app.time_zone, page, board, ward, may_manage }))
}

/// A bed changed by hand from the board: cleaned, blocked with a reason, unblocked, released.
async fn bed_state(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id: Uuid = id.parse().map_err(|_| not_found("bed"))?;
    let to: BedState = field(&f, "state").parse().map_err(|_| not_found("state"))?;
    let back = format!("/wards?ward={}", field(&f, "ward"));
    let request = field(&f, "request_id").parse().ok();
    let outcome = state
        .app
        .inpatient()
        .set_bed_state(&ctx, id, to, &field(&f, "reason"), request)
        .await
        .map(|b| format!("Bed {} is {}.", b.label, b.state.words()));
    flash_outcome(&state, &back, outcome)
}

// ---- The admission desk ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admissions_desk.html")]
struct DeskPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    waiting: Vec<Waiting>,
    free: Vec<Bed>,
    /// Beds held for waiting requests.
    held: Vec<Bed>,
    wards: Vec<Ward>,
    doctors: Vec<(Uuid, String)>,
    /// A refused admission: which request, and why.
    error: Option<(Uuid, String)>,
}

impl DeskPage {
    fn ward_name(&self, id: &Uuid) -> String {
        self.wards.iter().find(|w| w.id == *id).map(|w| w.name.clone()).unwrap_or_default()
    }
    /// The beds a request may go to: one held for it first, then the free beds of its
    /// type and ward (every free bed when none of those is free).
    fn beds_for(&self, w: &Waiting) -> Vec<&Bed> {
        let held = self.held.iter().filter(|b| b.reserved_for == Some(w.request.id));
        let mut fitting: Vec<&Bed> = self
            .free
            .iter()
            .filter(|b| w.request.bed_type.is_none_or(|t| t == b.bed_type))
            .filter(|b| w.request.ward_id.is_none_or(|x| x == b.ward_id))
            .collect();
        if fitting.is_empty() {
            fitting = self.free.iter().collect();
        }
        held.chain(fitting).collect()
    }
    fn held_for(&self, b: &Bed, w: &Waiting) -> bool {
        b.reserved_for == Some(w.request.id)
    }
    fn error_for(&self, id: &Uuid) -> Option<String> {
        self.error.as_ref().filter(|(r, _)| r == id).map(|(_, e)| e.clone())
    }
}

async fn desk_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
) -> Result<Response, PageError> {
    render_desk(&state, &ctx, page, None).await
}

async fn render_desk(
    state: &AppState,
    ctx: &salus_app::Ctx,
    page: PageCtx,
    error: Option<(Uuid, String)>,
) -> Result<Response, PageError> {
    let inpatient = state.app.inpatient();
    let waiting = inpatient.waiting(ctx).await?;
    let free = inpatient.free_beds(ctx, None, None).await?;
    let held = inpatient.held_beds(ctx).await?;
    let wards = inpatient.wards(ctx).await?;
    let doctors = inpatient.doctors(ctx).await?;
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(render(
        status,
        &DeskPage { tz: state.app.time_zone, page, waiting, free, held, wards, doctors, error },
    ))
}

/// Admits a waiting request into the chosen bed (or cancels it, with a reason).
async fn admit(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let inpatient = state.app.inpatient();
    let request: Uuid = field(&f, "request_id").parse().map_err(|_| not_found("request"))?;
    if field(&f, "action") == "cancel" {
        let outcome = inpatient
            .cancel_request(&ctx, request, &field(&f, "reason"))
            .await
            .map(|_| "Request withdrawn.".to_owned());
        return flash_outcome(&state, "/admissions", outcome);
    }
    let input = AdmitInput {
        patient_id: PatientId::from_uuid(field(&f, "patient_id").parse().unwrap_or_default()),
        request_id: Some(request),
        bed_id: field(&f, "bed_id").parse().unwrap_or_default(),
        attending_id: field(&f, "attending_id").parse().unwrap_or_default(),
        diagnosis: field(&f, "diagnosis"),
        companion: field(&f, "companion") == "on",
    };
    let message = match inpatient.admit(&ctx, input).await {
        Ok(s) => {
            let text = format!("{} admitted: {}.", s.patient.name, s.admission.number);
            return Ok(flash(&state, &format!("/admissions/{}", s.admission.id), &text));
        }
        Err(AppError::Invalid(e)) => e.into_iter().map(|e| e.message).collect::<Vec<_>>().join("; "),
        Err(e @ (AppError::BedTaken { .. } | AppError::Conflict(_))) => {
            format!("Not admitted: {e}; choose another bed.")
        }
        Err(e) => return Ok(flash(&state, "/admissions", &refusal(e)?)),
    };
    render_desk(&state, &ctx, page, Some((request, message))).await
}

// ---- A stay -----------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admission.html")]
struct StayPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    stay: Stay,
    beds: Vec<Bed>,
    free: Vec<Bed>,
    wards: Vec<Ward>,
    doctors: Vec<(Uuid, String)>,
    may_move: bool,
    may_order: bool,
    may_record: bool,
    /// The medication record, and the formulary a doctor orders from.
    mar: MedicationRecord,
    medicines: Vec<(Uuid, String)>,
    key: Uuid,
}

impl StayPage {
    fn kinds(&self) -> &'static [OrderKind] {
        OrderKind::ALL
    }
    fn outcomes(&self) -> &'static [DoseOutcome] {
        DoseOutcome::ALL
    }
    fn order_name(&self, id: &Uuid) -> String {
        self.mar
            .orders
            .iter()
            .find(|o| o.id == *id)
            .map(|o| format!("{} {}", o.medicine_name, o.dose))
            .unwrap_or_default()
    }
    fn person(&self, id: &Uuid) -> &str {
        self.mar.name(Some(*id))
    }
    fn person_opt(&self, id: &Option<Uuid>) -> &str {
        self.mar.name(*id)
    }
    fn bed_label(&self, id: &Uuid) -> String {
        self.beds.iter().chain(&self.free).find(|b| b.id == *id).map(|b| b.label.clone()).unwrap_or_default()
    }
    fn ward_name(&self, id: &Uuid) -> String {
        self.wards.iter().find(|w| w.id == *id).map(|w| w.name.clone()).unwrap_or_default()
    }
    fn doctor(&self, id: &Uuid) -> String {
        self.doctors.iter().find(|(d, _)| d == id).map(|(_, n)| n.clone()).unwrap_or_default()
    }
    fn in_house(&self) -> bool {
        self.stay.admission.status.in_house()
    }
}

async fn stay_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: Uuid = id.parse().map_err(|_| not_found("admission"))?;
    let inpatient = state.app.inpatient();
    let stay = match inpatient.stay(&ctx, id).await {
        Err(AppError::NotFound(_)) => return Err(not_found("admission")),
        other => other?,
    };
    let wards = inpatient.wards(&ctx).await?;
    let board = inpatient.beds(&ctx, &stay.beds.iter().map(|b| b.bed_id).collect::<Vec<_>>()).await?;
    let free = inpatient.free_beds(&ctx, None, None).await?;
    let doctors = inpatient.doctors(&ctx).await?;
    let (may_move, may_order, may_record) = (
        may(&page, Permission::InpatientAdmit),
        may(&page, Permission::InpatientOrder),
        may(&page, Permission::MarRecord),
    );
    let mar = inpatient.medication_record(&ctx, id).await?;
    let medicines = if may_order && stay.admission.status.in_house() {
        state
            .app
            .clinical()
            .medicines(&ctx, None, false)
            .await?
            .into_iter()
            .map(|m| (m.id, m.label()))
            .collect()
    } else {
        Vec::new()
    };
    Ok(render(
        StatusCode::OK,
        &StayPage {
            tz: state.app.time_zone,
            page,
            stay,
            beds: board,
            free,
            wards,
            doctors,
            may_move,
            may_order,
            may_record,
            mar,
            medicines,
            key: Uuid::now_v7(),
        },
    ))
}

/// Transfer, discharge order, discharge.
async fn stay_action(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id: Uuid = id.parse().map_err(|_| not_found("admission"))?;
    let inpatient = state.app.inpatient();
    let outcome = match action.as_str() {
        "transfer" => inpatient
            .transfer(&ctx, id, field(&f, "bed_id").parse().unwrap_or_default(), &field(&f, "reason"))
            .await
            .map(|_| "Moved to the new bed; the old one goes to cleaning.".to_owned()),
        "discharge-order" => inpatient
            .order_discharge(&ctx, id)
            .await
            .map(|_| "Discharge ordered; the bed is kept until the patient leaves.".to_owned()),
        "discharge" => inpatient
            .discharge(&ctx, id, &field(&f, "disposition"))
            .await
            .map(|s| format!("{} discharged; the bed goes to cleaning.", s.patient.name)),
        "order-medicine" => mar::order(&state, &ctx, id, &f).await,
        _ => return Err(not_found("action")),
    };
    let outcome = match outcome {
        Err(AppError::BedTaken { bed, .. }) => {
            Ok(format!("Not moved: bed {bed} is not free; choose another."))
        }
        other => other,
    };
    flash_outcome(&state, &format!("/admissions/{id}"), outcome)
}

// ---- A doctor's request -----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admission_request.html")]
struct RequestPage {
    page: PageCtx,
    patient: Uuid,
    wards: Vec<Ward>,
    errors: Vec<(String, String)>,
    typed: Vec<(String, String)>,
}

impl RequestPage {
    fn types(&self) -> &'static [BedType] {
        BedType::ALL
    }
    fn typed(&self, name: &str) -> String {
        field(&self.typed, name)
    }
    fn error_for(&self, name: &str) -> Option<String> {
        self.errors.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }
}

async fn request_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let patient: Uuid = id.parse().map_err(|_| not_found("patient"))?;
    let wards = state.app.inpatient().wards(&ctx).await?;
    Ok(render(StatusCode::OK, &RequestPage { page, patient, wards, errors: Vec::new(), typed: Vec::new() }))
}

async fn request(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let patient: Uuid = id.parse().map_err(|_| not_found("patient"))?;
    let input = RequestInput {
        encounter_id: field(&f, "encounter_id").parse().ok(),
        reason: field(&f, "reason"),
        ward_id: field(&f, "ward_id").parse().ok(),
        bed_type: field(&f, "bed_type").parse().ok(),
        expected_days: field(&f, "expected_days").parse().ok(),
        expected_on: field(&f, "expected_on").parse().ok(),
    };
    let errors =
        match state.app.inpatient().request_admission(&ctx, PatientId::from_uuid(patient), input).await {
            Ok(_) => {
                return Ok(flash(
                    &state,
                    &format!("/patients/{patient}"),
                    "Admission requested: it waits at the admission desk.",
                ));
            }
            Err(AppError::Invalid(e)) => e.into_iter().map(|e| (e.field.to_owned(), e.message)).collect(),
            Err(AppError::Conflict(m)) => vec![("reason".to_owned(), m)],
            Err(e) => return Ok(flash(&state, &format!("/patients/{patient}"), &refusal(e)?)),
        };
    let wards = state.app.inpatient().wards(&ctx).await?;
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &RequestPage { page, patient, wards, errors, typed: f }))
}

// ---- Wards and beds (administrators) ----------------------------------------------------------

#[derive(Template)]
#[template(path = "wards_setup.html")]
struct SetupPage {
    page: PageCtx,
    wards: Vec<Ward>,
    stores: Vec<salus_core::pharmacy::Store>,
    errors: Vec<(String, String)>,
    typed: Vec<(String, String)>,
}

impl SetupPage {
    fn types(&self) -> &'static [BedType] {
        BedType::ALL
    }
    fn typed(&self, name: &str) -> String {
        field(&self.typed, name)
    }
    fn error_for(&self, name: &str) -> Option<String> {
        self.errors.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }
}

async fn setup_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
) -> Result<Response, PageError> {
    render_setup(&state, &ctx, page, Vec::new(), Vec::new()).await
}

async fn render_setup(
    state: &AppState,
    ctx: &salus_app::Ctx,
    page: PageCtx,
    errors: Vec<(String, String)>,
    typed: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let wards = state.app.inpatient().wards(ctx).await?;
    let stores = state.app.pharmacy().stores(ctx).await.unwrap_or_default();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(render(status, &SetupPage { page, wards, stores, errors, typed }))
}

async fn setup(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let inpatient = state.app.inpatient();
    let outcome = match field(&f, "form").as_str() {
        "ward" => inpatient
            .create_ward(
                &ctx,
                NewWard {
                    code: field(&f, "code"),
                    name: field(&f, "name"),
                    department_id: None,
                    store_id: field(&f, "store_id").parse().ok(),
                    late_minutes: field(&f, "late_minutes").parse().ok(),
                },
            )
            .await
            .map(|w| format!("Ward {} added.", w.name)),
        "beds" => inpatient
            .add_beds(
                &ctx,
                field(&f, "ward_id").parse().unwrap_or_default(),
                NewBeds {
                    room: field(&f, "room"),
                    letters: field(&f, "letters").split([',', ' ']).map(str::to_owned).collect(),
                    bed_type: field(&f, "bed_type").parse().unwrap_or(BedType::General),
                    tags: field(&f, "tags"),
                    service_code: field(&f, "service_code"),
                },
            )
            .await
            .map(|beds| format!("{} bed(s) added.", beds.len())),
        _ => return Err(not_found("form")),
    };
    let errors = match outcome {
        Ok(text) => return Ok(flash(&state, "/wards/setup", &text)),
        Err(AppError::Invalid(e)) => e.into_iter().map(|e| (e.field.to_owned(), e.message)).collect(),
        Err(AppError::NotFound(what)) => vec![("ward_id".to_owned(), format!("choose a {what}"))],
        Err(e) => return Ok(flash(&state, "/wards/setup", &refusal(e)?)),
    };
    render_setup(&state, &ctx, page, errors, f).await
}
