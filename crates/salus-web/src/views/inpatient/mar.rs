//! The medication administration record in the browser: the nurses' station (a ward's
//! doses due this shift, overdue ones first to the eye, each recorded with one form, and
//! its as-needed medicines), and the forms a stay's page posts — a doctor's order and its
//! stop, a nurse's amendment, a doctor's acknowledgement. Every recording form carries an
//! idempotency key, so a double click records (and takes stock) once.

use crate::access::{Access, Declared, route};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use salus_app::identity::Permission;
use salus_app::inpatient::mar::{DoseInput, DueDose, OrderInput, WardDoses};
use salus_core::inpatient::Ward;
use salus_core::inpatient::mar::{DoseOutcome, DoseState, OrderKind};
use serde::Deserialize;
use uuid::Uuid;

use super::{field, may, not_found};
use crate::AppState;
use crate::error::PageError;
use crate::views::clinical::flash_outcome;
use crate::views::{Form, Local, PageCtx, SignedIn, render};

local!(StationPage);

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/wards/doses", Access::Permission(Permission::InpatientRead)),
    route("/wards/{id}/doses", Access::Permission(Permission::InpatientRead)),
    route("/medication-orders/{id}/doses", Access::Permission(Permission::MarRecord)).post(),
    route("/medication-orders/{id}/stop", Access::Permission(Permission::InpatientOrder)).post(),
    route("/medication-administrations/{id}/amend", Access::Permission(Permission::MarRecord)).post(),
    route("/medication-administrations/{id}/acknowledge", Access::Permission(Permission::InpatientOrder))
        .post(),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/wards/doses", get(first_station))
        .route("/wards/{id}/doses", get(station_page))
        .route("/medication-orders/{id}/doses", post(record))
        .route("/medication-orders/{id}/stop", post(stop))
        .route("/medication-administrations/{id}/amend", post(amend))
        .route("/medication-administrations/{id}/acknowledge", post(acknowledge))
}

fn id_of(raw: &str, what: &str) -> Result<Uuid, PageError> {
    raw.parse().map_err(|_| not_found(what))
}

/// Where a form goes back to: a page of ours, never another site.
fn back(f: &[(String, String)], default: String) -> String {
    Some(field(f, "back")).filter(|b| b.starts_with('/') && !b.starts_with("//")).unwrap_or(default)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StationQuery {
    ward: String,
}

#[derive(Template)]
#[template(path = "ward_doses.html")]
struct StationPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    wards: Vec<Ward>,
    doses: WardDoses,
    may_record: bool,
    /// The form's idempotency key prefix (one per page load; each form adds its dose).
    key: Uuid,
}

impl StationPage {
    fn not_given(&self) -> &'static [DoseOutcome] {
        &[DoseOutcome::Held, DoseOutcome::Refused, DoseOutcome::Missed]
    }
    fn badge(&self, d: &DueDose) -> &'static str {
        match (d.state, &d.record) {
            (DoseState::Overdue, _) => "danger",
            (DoseState::Due, _) => "warn",
            (DoseState::Recorded, Some(r)) if r.outcome == DoseOutcome::Given && !r.late => "ok",
            _ => "info",
        }
    }
    fn state_words(&self, d: &DueDose) -> String {
        match &d.record {
            Some(r) if r.late => format!("{} (late)", r.outcome.words()),
            Some(r) => r.outcome.words(),
            None if d.state == DoseState::Overdue => "overdue".into(),
            None => "due".into(),
        }
    }
    fn due_value(&self, t: &DateTime<Utc>) -> String {
        t.to_rfc3339()
    }
    fn is_ward(&self, w: &Ward) -> bool {
        w.id == self.doses.ward.id
    }
}

/// The station of the ward chosen (`?ward=`), or of the first ward.
async fn first_station(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<StationQuery>,
) -> Result<Response, PageError> {
    let wards = state.app.inpatient().wards(&ctx).await?;
    let Some(ward) = wards.iter().find(|w| w.id.to_string() == q.ward).or(wards.first()).map(|w| w.id) else {
        return Err(PageError::new(
            StatusCode::NOT_FOUND,
            "No ward yet: an administrator adds them under Wards and beds.",
        ));
    };
    station(&state, &ctx, page, wards, ward).await
}

async fn station_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let ward = id_of(&raw, "ward")?;
    let wards = state.app.inpatient().wards(&ctx).await?;
    station(&state, &ctx, page, wards, ward).await
}

async fn station(
    state: &AppState,
    ctx: &salus_app::Ctx,
    page: PageCtx,
    wards: Vec<Ward>,
    ward: Uuid,
) -> Result<Response, PageError> {
    let inpatient = state.app.inpatient();
    let ctx = ctx.clone();
    let doses = match inpatient.due_doses(&ctx, ward, None, None).await {
        Err(salus_app::AppError::NotFound(_)) => return Err(not_found("ward")),
        other => other?,
    };
    let may_record = may(&page, Permission::MarRecord);
    Ok(render(
        StatusCode::OK,
        &StationPage { tz: state.app.time_zone, page, wards, doses, may_record, key: Uuid::now_v7() },
    ))
}

fn outcome_of(f: &[(String, String)]) -> Result<DoseOutcome, PageError> {
    field(f, "outcome")
        .parse()
        .map_err(|_| PageError::new(StatusCode::UNPROCESSABLE_ENTITY, "Choose what became of the dose."))
}

/// A nurse records a dose from the station or the stay's page.
async fn record(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let order = id_of(&raw, "medication order")?;
    let input = DoseInput {
        due_at: field(&f, "due_at").parse().ok(),
        outcome: outcome_of(&f)?,
        reason: field(&f, "reason"),
        given_at: None,
    };
    let outcome = state
        .app
        .inpatient()
        .record_dose(&ctx, &field(&f, "idempotency_key"), order, input)
        .await
        .map(|a| format!("Recorded: {}{}.", a.outcome.words(), if a.late { ", late" } else { "" }));
    flash_outcome(&state, &back(&f, "/wards".into()), outcome)
}

/// A doctor stops an order.
async fn stop(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let order = id_of(&raw, "medication order")?;
    let outcome = state
        .app
        .inpatient()
        .stop_order(&ctx, order, &field(&f, "reason"))
        .await
        .map(|o| format!("{} stopped.", o.medicine_name));
    let default = "/wards".to_owned();
    flash_outcome(&state, &back(&f, default), outcome)
}

/// A nurse corrects a dose's record.
async fn amend(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let dose = id_of(&raw, "dose record")?;
    let input =
        DoseInput { due_at: None, outcome: outcome_of(&f)?, reason: field(&f, "reason"), given_at: None };
    let outcome = state
        .app
        .inpatient()
        .amend_dose(&ctx, &field(&f, "idempotency_key"), dose, input, &field(&f, "amend_reason"))
        .await
        .map(|a| {
            format!("Amended: now {}; the earlier record is kept, marked as corrected.", a.outcome.words())
        });
    flash_outcome(&state, &back(&f, "/wards".into()), outcome)
}

/// A doctor acknowledges an as-needed or once-now dose.
async fn acknowledge(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let dose = id_of(&raw, "dose record")?;
    let outcome =
        state.app.inpatient().acknowledge_dose(&ctx, dose).await.map(|_| "Dose acknowledged.".to_owned());
    flash_outcome(&state, &back(&f, "/wards".into()), outcome)
}

/// A doctor's order from the stay's page (posted to `/admissions/{id}/order-medicine`).
pub(super) async fn order(
    state: &AppState,
    ctx: &salus_app::Ctx,
    admission: Uuid,
    f: &[(String, String)],
) -> Result<String, salus_app::AppError> {
    let input = OrderInput {
        medicine_id: field(f, "medicine_id").parse().unwrap_or_default(),
        dose: field(f, "dose"),
        units_per_dose: field(f, "units_per_dose").parse().ok(),
        route: field(f, "route"),
        kind: field(f, "kind").parse::<OrderKind>().ok(),
        times: field(f, "times"),
        instructions: field(f, "instructions"),
        starts_at: None,
        duration_days: field(f, "duration_days").parse().ok(),
    };
    state
        .app
        .inpatient()
        .order_medication(ctx, admission, input)
        .await
        .map(|o| format!("{} {} ordered ({}).", o.medicine_name, o.dose, o.kind.words()))
}
