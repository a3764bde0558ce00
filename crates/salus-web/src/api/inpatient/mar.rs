//! The medication administration record over the API: a stay's medication orders
//! (shaped after FHIR MedicationRequest), the doses a nurse records against them (FHIR
//! MedicationAdministration: `status` completed or not-done, superseded records
//! entered-in-error), amendments and acknowledgements, and a ward's due doses. Recording
//! and amending need an `Idempotency-Key`: a dose given takes stock from the ward's store
//! once, however often the request is sent.

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use salus_app::identity::Permission;
use salus_app::inpatient::mar::{DoseInput, DueDose, MedicationRecord, OrderInput, WardDoses};
use salus_core::inpatient::mar::{
    Administration, DoseOutcome, DoseState, MedicationOrder, OrderKind, OrderStatus,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::WardOut;
use crate::AppState;
use crate::api::clinical::id;
use crate::api::laboratory::LabPatientOut;
use crate::api::openapi::coded;
use crate::api::pharmacy::key;
use crate::api::{ApiJson, ApiQuery, ApiUser};
use crate::error::{ApiError, Problem};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    // Reading needs inpatient.read; ordering inpatient.order, which the use case checks.
    route("/api/v1/admissions/{id}/medication-orders", Access::Permission(Permission::InpatientRead)),
    route("/api/v1/medication-orders/{id}/stop", Access::Permission(Permission::InpatientOrder)).post(),
    route("/api/v1/medication-orders/{id}/administrations", Access::Permission(Permission::MarRecord)).post(),
    route("/api/v1/medication-administrations/{id}/amend", Access::Permission(Permission::MarRecord)).post(),
    route(
        "/api/v1/medication-administrations/{id}/acknowledge",
        Access::Permission(Permission::InpatientOrder),
    )
    .post(),
    route("/api/v1/wards/{id}/due-doses", Access::Permission(Permission::InpatientRead)),
];

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(medication_record, order_medication))
        .routes(routes!(stop_order))
        .routes(routes!(record_dose))
        .routes(routes!(amend_dose))
        .routes(routes!(acknowledge_dose))
        .routes(routes!(due_doses))
}

// ---- Wire ------------------------------------------------------------------------------

/// An inpatient medication order (FHIR MedicationRequest, intent `order`, category
/// inpatient).
#[derive(Debug, Serialize, ToSchema)]
pub struct MedicationOrderOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub admission_id: Uuid,
    pub medicine_id: Uuid,
    pub medicine_name: String,
    /// The stock item a dose is taken from (none: nothing is taken from stock).
    pub item_id: Option<Uuid>,
    pub dose: String,
    pub units_per_dose: i32,
    pub route: String,
    #[schema(schema_with = coded::<OrderKind>)]
    pub kind: OrderKind,
    /// Scheduled times of day, in the hospital's time zone.
    pub times: Vec<String>,
    pub instructions: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    #[schema(schema_with = coded::<OrderStatus>)]
    pub status: OrderStatus,
    pub stop_reason: Option<String>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub ordered_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub version: i32,
}

impl From<MedicationOrder> for MedicationOrderOut {
    fn from(o: MedicationOrder) -> Self {
        Self {
            times: o.time_list().iter().map(|t| t.format("%H:%M").to_string()).collect(),
            id: o.id,
            patient_id: o.patient_id,
            admission_id: o.admission_id,
            medicine_id: o.medicine_id,
            medicine_name: o.medicine_name,
            item_id: o.item_id,
            dose: o.dose,
            units_per_dose: o.units_per_dose,
            route: o.route,
            kind: o.kind,
            instructions: o.instructions,
            starts_at: o.starts_at,
            ends_at: o.ends_at,
            status: o.status,
            stop_reason: o.stop_reason,
            stopped_at: o.stopped_at,
            ordered_by: o.ordered_by,
            created_at: o.created_at,
            version: o.version,
        }
    }
}

/// What was recorded of one dose (FHIR MedicationAdministration).
#[derive(Debug, Serialize, ToSchema)]
pub struct AdministrationOut {
    pub id: Uuid,
    /// The order (MedicationAdministration.request).
    pub order_id: Uuid,
    pub patient_id: Uuid,
    pub admission_id: Uuid,
    pub due_at: Option<DateTime<Utc>>,
    #[schema(schema_with = coded::<DoseOutcome>)]
    pub outcome: DoseOutcome,
    /// FHIR status: `completed` (given), `not-done`, or `entered-in-error` once amended.
    pub status: &'static str,
    pub reason: Option<String>,
    /// MedicationAdministration.effectiveDateTime.
    pub given_at: DateTime<Utc>,
    /// Given after the ward's window.
    pub late: bool,
    /// The ward store the dose was taken from.
    pub store_id: Option<Uuid>,
    /// The record this one corrects, and why.
    pub amends_id: Option<Uuid>,
    pub amend_reason: Option<String>,
    /// False once an amendment replaced it.
    pub current: bool,
    /// Waits for (or had) a doctor's acknowledgement.
    pub needs_ack: bool,
    pub acknowledged_by: Option<Uuid>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

impl From<Administration> for AdministrationOut {
    fn from(a: Administration) -> Self {
        Self {
            status: match (a.current, a.outcome) {
                (false, _) => "entered-in-error",
                (true, DoseOutcome::Given) => "completed",
                (true, _) => "not-done",
            },
            id: a.id,
            order_id: a.order_id,
            patient_id: a.patient_id,
            admission_id: a.admission_id,
            due_at: a.due_at,
            outcome: a.outcome,
            reason: a.reason,
            given_at: a.given_at,
            late: a.late,
            store_id: a.store_id,
            amends_id: a.amends_id,
            amend_reason: a.amend_reason,
            current: a.current,
            needs_ack: a.needs_ack,
            acknowledged_by: a.acknowledged_by,
            acknowledged_at: a.acknowledged_at,
            recorded_by: a.recorded_by,
            recorded_at: a.recorded_at,
        }
    }
}

/// A stay's medication record: its orders and every record of their doses.
#[derive(Debug, Serialize, ToSchema)]
pub struct MedicationRecordOut {
    pub admission_id: Uuid,
    pub number: String,
    pub patient: LabPatientOut,
    pub orders: Vec<MedicationOrderOut>,
    /// Amended records too (`current` false), by time given.
    pub administrations: Vec<AdministrationOut>,
}

impl From<MedicationRecord> for MedicationRecordOut {
    fn from(r: MedicationRecord) -> Self {
        Self {
            admission_id: r.admission.id,
            number: r.admission.number,
            patient: r.patient.into(),
            orders: r.orders.into_iter().map(Into::into).collect(),
            administrations: r.administrations.into_iter().map(Into::into).collect(),
        }
    }
}

/// A dose on the nurses' station.
#[derive(Debug, Serialize, ToSchema)]
pub struct DueDoseOut {
    pub admission_id: Uuid,
    pub bed: String,
    pub patient: LabPatientOut,
    pub order: MedicationOrderOut,
    pub due_at: DateTime<Utc>,
    /// due, overdue (past the window, nothing recorded) or recorded.
    #[schema(value_type = String, example = "due")]
    pub state: DoseState,
    pub record: Option<AdministrationOut>,
}

impl From<DueDose> for DueDoseOut {
    fn from(d: DueDose) -> Self {
        Self {
            admission_id: d.admission_id,
            bed: d.bed,
            patient: d.patient.into(),
            order: d.order.into(),
            due_at: d.due_at,
            state: d.state,
            record: d.record.map(Into::into),
        }
    }
}

/// An as-needed order a nurse may give against.
#[derive(Debug, Serialize, ToSchema)]
pub struct AsNeededOut {
    pub admission_id: Uuid,
    pub bed: String,
    pub patient: LabPatientOut,
    pub order: MedicationOrderOut,
}

/// A ward's doses between two times.
#[derive(Debug, Serialize, ToSchema)]
pub struct WardDosesOut {
    pub ward: WardOut,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub doses: Vec<DueDoseOut>,
    pub as_needed: Vec<AsNeededOut>,
}

impl From<WardDoses> for WardDosesOut {
    fn from(w: WardDoses) -> Self {
        Self {
            ward: w.ward.into(),
            from: w.from,
            to: w.to,
            doses: w.doses.into_iter().map(Into::into).collect(),
            as_needed: w
                .as_needed
                .into_iter()
                .map(|(admission_id, bed, p, o)| AsNeededOut {
                    admission_id,
                    bed,
                    patient: p.into(),
                    order: o.into(),
                })
                .collect(),
        }
    }
}

/// A medication order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MedicationOrderIn)]
pub struct OrderIn {
    pub medicine_id: Uuid,
    /// "500 mg".
    #[schema(min_length = 1, max_length = 60)]
    pub dose: String,
    /// Units of the stock item one dose takes (default 1).
    #[schema(minimum = 1, maximum = 100)]
    pub units_per_dose: Option<i32>,
    /// Default: the medicine's route.
    #[serde(default)]
    #[schema(max_length = 40)]
    pub route: String,
    #[schema(schema_with = coded::<OrderKind>)]
    pub kind: OrderKind,
    /// Scheduled orders: times of day, "08:00".
    #[serde(default)]
    #[schema(max_items = 24)]
    pub times: Vec<String>,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub instructions: String,
    /// Default: now.
    pub starts_at: Option<DateTime<Utc>>,
    /// Days it runs (none: until stopped).
    #[schema(minimum = 1, maximum = 90)]
    pub duration_days: Option<i32>,
}

/// Why an order is stopped.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StopIn {
    #[schema(min_length = 1, max_length = 300)]
    pub reason: String,
}

/// A dose recorded.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DoseIn {
    /// The dose time it answers (scheduled orders).
    pub due_at: Option<DateTime<Utc>>,
    #[schema(schema_with = coded::<DoseOutcome>)]
    pub outcome: DoseOutcome,
    /// Required unless given.
    #[serde(default)]
    #[schema(max_length = 300)]
    pub reason: String,
    /// Default: now.
    pub given_at: Option<DateTime<Utc>>,
}

/// A correction of a dose's record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DoseAmendIn)]
pub struct AmendIn {
    #[schema(schema_with = coded::<DoseOutcome>)]
    pub outcome: DoseOutcome,
    #[serde(default)]
    #[schema(max_length = 300)]
    pub reason: String,
    pub given_at: Option<DateTime<Utc>>,
    /// What was wrong with the record.
    #[schema(min_length = 1, max_length = 300)]
    pub amend_reason: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DueQuery {
    /// Default: twelve hours ago.
    pub from: Option<DateTime<Utc>>,
    /// Default: twelve hours ahead; at most seven days after `from`.
    pub to: Option<DateTime<Utc>>,
}

// ---- Handlers --------------------------------------------------------------------------

/// A stay's medication record
#[utoipa::path(get, path = "/api/v1/admissions/{id}/medication-orders", tag = "inpatient",
    params(("id" = String, Path, description = "Admission id")),
    responses((status = 200, description = "Its orders and every dose record", body = MedicationRecordOut),
        (status = 403, description = "Cannot see the wards or this patient", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such admission", body = Problem, content_type = "application/problem+json")))]
async fn medication_record(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<MedicationRecordOut>, ApiError> {
    Ok(Json(state.app.inpatient().medication_record(&ctx, id(&raw, "admission")?).await?.into()))
}

/// Order a medicine for a patient in a bed
///
/// Scheduled (times of day), as needed, or once now. The dose is taken from the ward's
/// store when the medicine has a stock item.
#[utoipa::path(post, path = "/api/v1/admissions/{id}/medication-orders", tag = "inpatient", request_body = OrderIn,
    params(("id" = String, Path, description = "Admission id")),
    responses((status = 201, description = "Ordered", body = MedicationOrderOut),
        (status = 403, description = "Not a doctor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such admission", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The patient has left", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such medicine, no dose, bad times", body = Problem, content_type = "application/problem+json")))]
async fn order_medication(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<OrderIn>,
) -> Result<Response, ApiError> {
    let input = OrderInput {
        medicine_id: b.medicine_id,
        dose: b.dose,
        units_per_dose: b.units_per_dose,
        route: b.route,
        kind: Some(b.kind),
        times: b.times.join(","),
        instructions: b.instructions,
        starts_at: b.starts_at,
        duration_days: b.duration_days,
    };
    let o = state.app.inpatient().order_medication(&ctx, id(&raw, "admission")?, input).await?;
    Ok((StatusCode::CREATED, Json(MedicationOrderOut::from(o))).into_response())
}

/// Stop a medication order
#[utoipa::path(post, path = "/api/v1/medication-orders/{id}/stop", tag = "inpatient", request_body = StopIn,
    params(("id" = String, Path, description = "Medication order id")),
    responses((status = 200, description = "Stopped: no dose falls due after now", body = MedicationOrderOut),
        (status = 403, description = "Not a doctor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already stopped", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json")))]
async fn stop_order(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<StopIn>,
) -> Result<Json<MedicationOrderOut>, ApiError> {
    Ok(Json(state.app.inpatient().stop_order(&ctx, id(&raw, "medication order")?, &b.reason).await?.into()))
}

/// Record a dose
///
/// Given, held, refused or missed (a reason unless given), against the dose time of a
/// scheduled order; late beyond the ward's window is flagged. A dose given takes the
/// order's units from the ward's store. Needs an `Idempotency-Key`: the same submission
/// twice records once; the same dose from another screen is 409.
#[utoipa::path(post, path = "/api/v1/medication-orders/{id}/administrations", tag = "inpatient", request_body = DoseIn,
    params(("id" = String, Path, description = "Medication order id"), ("Idempotency-Key" = String, Header, description = "Unique per submission; a retry sends the same")),
    responses((status = 201, description = "Recorded", body = AdministrationOut),
        (status = 403, description = "Not a nurse, or not this patient's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already recorded, the order stopped, the patient left, or not enough in the ward's store", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, no dose time, a time the order has no dose at, no idempotency key", body = Problem, content_type = "application/problem+json")))]
async fn record_dose(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    headers: HeaderMap,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<DoseIn>,
) -> Result<Response, ApiError> {
    let input = DoseInput { due_at: b.due_at, outcome: b.outcome, reason: b.reason, given_at: b.given_at };
    let a =
        state.app.inpatient().record_dose(&ctx, &key(&headers), id(&raw, "medication order")?, input).await?;
    Ok((StatusCode::CREATED, Json(AdministrationOut::from(a))).into_response())
}

/// Amend a dose's record
///
/// The record is kept (entered-in-error) and its correction written; a dose no longer
/// given goes back to the store it came from, one now given is taken. Needs an
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/medication-administrations/{id}/amend", tag = "inpatient", request_body = AmendIn,
    params(("id" = String, Path, description = "Dose record id"), ("Idempotency-Key" = String, Header, description = "Unique per submission")),
    responses((status = 201, description = "The amendment", body = AdministrationOut),
        (status = 403, description = "Not a nurse", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already amended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason for the amendment", body = Problem, content_type = "application/problem+json")))]
async fn amend_dose(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    headers: HeaderMap,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<AmendIn>,
) -> Result<Response, ApiError> {
    let input = DoseInput { due_at: None, outcome: b.outcome, reason: b.reason, given_at: b.given_at };
    let a = state
        .app
        .inpatient()
        .amend_dose(&ctx, &key(&headers), id(&raw, "dose record")?, input, &b.amend_reason)
        .await?;
    Ok((StatusCode::CREATED, Json(AdministrationOut::from(a))).into_response())
}

/// Acknowledge an as-needed or once-now dose
#[utoipa::path(post, path = "/api/v1/medication-administrations/{id}/acknowledge", tag = "inpatient",
    params(("id" = String, Path, description = "Dose record id")),
    responses((status = 200, description = "Acknowledged", body = AdministrationOut),
        (status = 403, description = "Not a doctor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already acknowledged, or not waiting for it", body = Problem, content_type = "application/problem+json")))]
async fn acknowledge_dose(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<AdministrationOut>, ApiError> {
    Ok(Json(state.app.inpatient().acknowledge_dose(&ctx, id(&raw, "dose record")?).await?.into()))
}

/// A ward's due doses
///
/// Each scheduled or once-now dose between `from` and `to` with what was recorded of it,
/// and the ward's as-needed orders.
#[utoipa::path(get, path = "/api/v1/wards/{id}/due-doses", tag = "inpatient",
    params(("id" = String, Path, description = "Ward id"), DueQuery),
    responses((status = 200, description = "By time, then bed", body = WardDosesOut),
        (status = 403, description = "Cannot see the wards", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ward", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`to` before `from`, or more than seven days", body = Problem, content_type = "application/problem+json")))]
async fn due_doses(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<DueQuery>,
) -> Result<Json<WardDosesOut>, ApiError> {
    Ok(Json(state.app.inpatient().due_doses(&ctx, id(&raw, "ward")?, q.from, q.to).await?.into()))
}
