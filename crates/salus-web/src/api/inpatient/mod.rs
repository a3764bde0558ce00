//! Inpatient care over the API: wards and beds (shaped after FHIR Location, a bed's state
//! its operationalStatus), the bed board, doctors' requests to admit, admissions (FHIR
//! Encounter of class IMP, its `location` the history of beds), transfers and discharge.
//! A bed another desk took answers 409 `bed-taken` with the free beds of its type.

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use salus_app::identity::Permission;
use salus_app::inpatient::admissions::{AdmitInput, RequestInput, Stay, Waiting};
use salus_app::inpatient::{Board, NewBeds, NewWard};
use salus_core::PatientId;
use salus_core::inpatient::{AdmissionRequest, AdmissionStatus, Bed, BedState, BedType, RequestStatus, Ward};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::clinical::id;
use crate::AppState;
use crate::api::laboratory::LabPatientOut;
use crate::api::openapi::coded;
use crate::api::{ApiJson, ApiQuery, ApiUser, Paged};
use crate::error::{ApiError, Problem, ProblemKind};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    // Adding a ward needs inpatient.setup, which the use case checks.
    route("/api/v1/wards", Access::Permission(Permission::InpatientRead)),
    route("/api/v1/wards/{id}/beds", Access::Permission(Permission::WardAdmin)).post(),
    route("/api/v1/bed-board", Access::Permission(Permission::InpatientRead)),
    route("/api/v1/beds/free", Access::Permission(Permission::InpatientRead)),
    route("/api/v1/beds/{id}/state", Access::Permission(Permission::BedManage)).post(),
    route("/api/v1/patients/{id}/admission-requests", Access::Permission(Permission::InpatientOrder)).post(),
    route("/api/v1/admission-requests", Access::Permission(Permission::InpatientRead)),
    // The request's doctor or the desk: the use case checks.
    route("/api/v1/admission-requests/{id}/cancel", Access::SignedIn).post(),
    route("/api/v1/admissions", Access::Permission(Permission::InpatientAdmit)).post(),
    route("/api/v1/admissions/{id}", Access::Permission(Permission::InpatientRead)),
    route("/api/v1/admissions/{id}/transfer", Access::Permission(Permission::InpatientAdmit)).post(),
    route("/api/v1/admissions/{id}/discharge-order", Access::Permission(Permission::InpatientOrder)).post(),
    route("/api/v1/admissions/{id}/discharge", Access::Permission(Permission::InpatientAdmit)).post(),
];

pub(crate) mod census;
pub(crate) mod mar;
pub(crate) mod nursing;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(census::routes())
        .merge(mar::routes())
        .merge(nursing::routes())
        .routes(routes!(list_wards, create_ward))
        .routes(routes!(add_beds))
        .routes(routes!(bed_board))
        .routes(routes!(free_beds))
        .routes(routes!(set_bed_state))
        .routes(routes!(request_admission))
        .routes(routes!(waiting))
        .routes(routes!(cancel_request))
        .routes(routes!(admit))
        .routes(routes!(get_admission))
        .routes(routes!(transfer))
        .routes(routes!(order_discharge))
        .routes(routes!(discharge))
}

/// The bed is taken (409): `free_beds` lists the free beds of its type.
pub const BED_TAKEN: ProblemKind = ProblemKind::new("bed-taken", StatusCode::CONFLICT, "The bed is not free");

#[derive(Serialize)]
#[serde(transparent)]
pub struct FreeBeds(pub Vec<BedOut>);

impl crate::error::ProblemExtension for FreeBeds {
    const MEMBER: &'static str = "free_beds";
}

pub(crate) fn bed_taken(bed: &str, free: Vec<Bed>) -> ApiError {
    ApiError::new(BED_TAKEN, format!("bed {bed} is not free; free_beds lists the free beds of its type"))
        .with(&FreeBeds(free.into_iter().map(Into::into).collect()))
}

// ---- Wire ------------------------------------------------------------------------------

/// A ward (FHIR Location, physicalType `wa`).
#[derive(Debug, Serialize, ToSchema)]
pub struct WardOut {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub department_id: Option<Uuid>,
    /// The ward store its nurses give medicines from.
    pub store_id: Option<Uuid>,
    /// Minutes after a dose's time within which it is on time.
    pub late_minutes: i32,
    pub active: bool,
}

impl From<Ward> for WardOut {
    fn from(w: Ward) -> Self {
        Self {
            id: w.id,
            code: w.code,
            name: w.name,
            department_id: w.department_id,
            store_id: w.store_id,
            late_minutes: w.late_minutes,
            active: w.active,
        }
    }
}

/// A bed (FHIR Location, physicalType `bd`; `state` is its operationalStatus).
#[derive(Debug, Serialize, ToSchema)]
pub struct BedOut {
    pub id: Uuid,
    pub ward_id: Uuid,
    pub room: String,
    pub label: String,
    #[schema(schema_with = coded::<BedType>)]
    pub bed_type: BedType,
    pub tags: Vec<String>,
    /// The price-list service a day in it is charged as.
    pub service_code: Option<String>,
    #[schema(schema_with = coded::<BedState>)]
    pub state: BedState,
    pub state_reason: Option<String>,
    /// The admission request it is held for.
    pub reserved_for: Option<Uuid>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

impl From<Bed> for BedOut {
    fn from(b: Bed) -> Self {
        Self {
            tags: b.tag_list().into_iter().map(str::to_owned).collect(),
            id: b.id,
            ward_id: b.ward_id,
            room: b.room,
            label: b.label,
            bed_type: b.bed_type,
            service_code: b.service_code,
            state: b.state,
            state_reason: b.state_reason,
            reserved_for: b.reserved_for,
            version: b.version,
            updated_at: b.updated_at,
        }
    }
}

/// A patient in a bed, as the board shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct OccupantOut {
    pub admission_id: Uuid,
    pub number: String,
    #[schema(schema_with = coded::<AdmissionStatus>)]
    pub status: AdmissionStatus,
    pub admitted_at: DateTime<Utc>,
    pub attending_id: Uuid,
    pub patient: LabPatientOut,
}

/// A bed of the board with who is in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BoardBedOut {
    pub bed: BedOut,
    pub occupant: Option<OccupantOut>,
    /// Sharing the bed without taking it (a baby with its mother).
    pub companions: Vec<OccupantOut>,
}

/// The bed board.
#[derive(Debug, Serialize, ToSchema)]
pub struct BoardOut {
    pub wards: Vec<WardOut>,
    pub beds: Vec<BoardBedOut>,
}

impl From<Board> for BoardOut {
    fn from(b: Board) -> Self {
        let occupant =
            |(a, p): (salus_core::inpatient::Admission, salus_app::laboratory::LabPatient)| OccupantOut {
                admission_id: a.id,
                number: a.number,
                status: a.status,
                admitted_at: a.admitted_at,
                attending_id: a.attending_id,
                patient: p.into(),
            };
        Self {
            wards: b.wards.into_iter().map(Into::into).collect(),
            beds: b
                .beds
                .into_iter()
                .map(|x| BoardBedOut {
                    bed: x.bed.into(),
                    occupant: x.occupant.map(occupant),
                    companions: x.companions.into_iter().map(occupant).collect(),
                })
                .collect(),
        }
    }
}

/// A doctor's request to admit.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub requested_by: Uuid,
    pub reason: String,
    pub ward_id: Option<Uuid>,
    #[schema(schema_with = coded::<BedType>)]
    pub bed_type: Option<BedType>,
    pub expected_days: Option<i32>,
    pub expected_on: Option<NaiveDate>,
    #[schema(schema_with = coded::<RequestStatus>)]
    pub status: RequestStatus,
    pub cancel_reason: Option<String>,
    pub admission_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// In the desk's queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient: Option<LabPatientOut>,
}

impl From<AdmissionRequest> for RequestOut {
    fn from(r: AdmissionRequest) -> Self {
        Self {
            id: r.id,
            patient_id: r.patient_id,
            encounter_id: r.encounter_id,
            requested_by: r.requested_by,
            reason: r.reason,
            ward_id: r.ward_id,
            bed_type: r.bed_type,
            expected_days: r.expected_days,
            expected_on: r.expected_on,
            status: r.status,
            cancel_reason: r.cancel_reason,
            admission_id: r.admission_id,
            created_at: r.created_at,
            patient: None,
        }
    }
}

impl From<Waiting> for RequestOut {
    fn from(w: Waiting) -> Self {
        Self { patient: Some(w.patient.into()), ..w.request.into() }
    }
}

/// One bed of a stay, from when to when (FHIR Encounter.location).
#[derive(Debug, Serialize, ToSchema)]
pub struct LocationOut {
    pub bed_id: Uuid,
    pub ward_id: Uuid,
    pub companion: bool,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// admit or transfer.
    pub reason: String,
}

/// A stay (FHIR Encounter, class IMP).
#[derive(Debug, Serialize, ToSchema)]
pub struct AdmissionOut {
    pub id: Uuid,
    /// "IP26-000012".
    pub number: String,
    pub patient: LabPatientOut,
    pub request_id: Option<Uuid>,
    /// The inpatient encounter its notes and orders belong to.
    pub encounter_id: Uuid,
    pub attending_id: Uuid,
    pub diagnosis: String,
    pub ward_id: Uuid,
    pub bed_id: Uuid,
    #[schema(schema_with = coded::<AdmissionStatus>)]
    pub status: AdmissionStatus,
    pub admitted_at: DateTime<Utc>,
    pub discharge_ordered_at: Option<DateTime<Utc>>,
    pub discharged_at: Option<DateTime<Utc>>,
    pub disposition: Option<String>,
    pub version: i32,
    /// Where the patient lay, in order.
    pub location: Vec<LocationOut>,
}

impl From<Stay> for AdmissionOut {
    fn from(s: Stay) -> Self {
        let a = s.admission;
        Self {
            id: a.id,
            number: a.number,
            patient: s.patient.into(),
            request_id: a.request_id,
            encounter_id: a.encounter_id,
            attending_id: a.attending_id,
            diagnosis: a.diagnosis,
            ward_id: a.ward_id,
            bed_id: a.bed_id,
            status: a.status,
            admitted_at: a.admitted_at,
            discharge_ordered_at: a.discharge_ordered_at,
            discharged_at: a.discharged_at,
            disposition: a.disposition,
            version: a.version,
            location: s
                .beds
                .into_iter()
                .map(|b| LocationOut {
                    bed_id: b.bed_id,
                    ward_id: b.ward_id,
                    companion: b.companion,
                    started_at: b.started_at,
                    ended_at: b.ended_at,
                    reason: b.reason,
                })
                .collect(),
        }
    }
}

// ---- Wards and beds --------------------------------------------------------------------

/// The wards
#[utoipa::path(get, path = "/api/v1/wards", tag = "inpatient",
    responses((status = 200, description = "By name", body = Paged<WardOut>),
        (status = 403, description = "Cannot see the wards", body = Problem, content_type = "application/problem+json")))]
async fn list_wards(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
) -> Result<Json<Paged<WardOut>>, ApiError> {
    let rows = state.app.inpatient().wards(&ctx).await?;
    Ok(Json(Paged::new(rows.into_iter().map(Into::into).collect(), None::<String>)))
}

/// A new ward.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WardIn {
    #[schema(min_length = 1, max_length = 20)]
    pub code: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub department_id: Option<Uuid>,
    /// The ward store (a store of kind `ward`).
    pub store_id: Option<Uuid>,
    /// Minutes after a dose's time within which it is on time (default 60).
    #[schema(minimum = 5, maximum = 240)]
    pub late_minutes: Option<i32>,
}

/// Add a ward
#[utoipa::path(post, path = "/api/v1/wards", tag = "inpatient", request_body = WardIn,
    responses((status = 201, description = "Added", body = WardOut),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing, the code is taken, or no such store", body = Problem, content_type = "application/problem+json")))]
async fn create_ward(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<WardIn>,
) -> Result<Response, ApiError> {
    let input = NewWard {
        code: b.code,
        name: b.name,
        department_id: b.department_id,
        store_id: b.store_id,
        late_minutes: b.late_minutes,
    };
    let w = state.app.inpatient().create_ward(&ctx, input).await?;
    Ok((StatusCode::CREATED, Json(WardOut::from(w))).into_response())
}

/// A room's beds.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BedsIn {
    #[schema(min_length = 1, max_length = 12)]
    pub room: String,
    /// One bed each: "A", "B" make beds "101-A" and "101-B".
    #[schema(min_items = 1, max_items = 50)]
    pub letters: Vec<String>,
    #[schema(schema_with = coded::<BedType>)]
    pub bed_type: BedType,
    /// oxygen, isolation, …
    #[serde(default)]
    pub tags: Vec<String>,
    /// The price-list service a day in these beds is charged as (none: not charged).
    #[serde(default)]
    #[schema(max_length = 20)]
    pub service_code: String,
}

/// Add a room's beds to a ward
#[utoipa::path(post, path = "/api/v1/wards/{id}/beds", tag = "inpatient", request_body = BedsIn,
    params(("id" = String, Path, description = "Ward id")),
    responses((status = 201, description = "Added", body = Vec<BedOut>),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ward", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bed of that name is there already", body = Problem, content_type = "application/problem+json")))]
async fn add_beds(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<BedsIn>,
) -> Result<Response, ApiError> {
    let input = NewBeds {
        room: b.room,
        letters: b.letters,
        bed_type: b.bed_type,
        tags: b.tags.join(","),
        service_code: b.service_code,
    };
    let beds = state.app.inpatient().add_beds(&ctx, id(&raw, "ward")?, input).await?;
    Ok((StatusCode::CREATED, Json(beds.into_iter().map(BedOut::from).collect::<Vec<_>>())).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BoardQuery {
    /// One ward (every ward when absent).
    pub ward_id: Option<Uuid>,
}

/// The bed board
///
/// Each bed's state and who is in it; every patient shown is an audited read.
#[utoipa::path(get, path = "/api/v1/bed-board", tag = "inpatient", params(BoardQuery),
    responses((status = 200, description = "By ward, room and bed", body = BoardOut),
        (status = 403, description = "Cannot see the wards", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ward", body = Problem, content_type = "application/problem+json")))]
async fn bed_board(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<BoardQuery>,
) -> Result<Json<BoardOut>, ApiError> {
    Ok(Json(state.app.inpatient().board(&ctx, q.ward_id).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FreeQuery {
    #[param(schema_with = coded::<BedType>)]
    pub bed_type: Option<BedType>,
    pub ward_id: Option<Uuid>,
}

/// Free beds
#[utoipa::path(get, path = "/api/v1/beds/free", tag = "inpatient", params(FreeQuery),
    responses((status = 200, description = "Available beds, by ward and label (at most 50)", body = Vec<BedOut>),
        (status = 403, description = "Cannot see the wards", body = Problem, content_type = "application/problem+json")))]
async fn free_beds(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<FreeQuery>,
) -> Result<Json<Vec<BedOut>>, ApiError> {
    let beds = state.app.inpatient().free_beds(&ctx, q.bed_type, q.ward_id).await?;
    Ok(Json(beds.into_iter().map(Into::into).collect()))
}

/// A bed's state changed by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BedStateIn {
    /// available (released, cleaned or unblocked), reserved (with `request_id`) or blocked (with `reason`).
    #[schema(schema_with = coded::<BedState>)]
    pub state: BedState,
    #[schema(max_length = 300)]
    pub reason: Option<String>,
    pub request_id: Option<Uuid>,
}

/// Reserve, release, block, unblock a bed, or mark it cleaned
///
/// A bed is never filled or emptied this way: admitting, transferring and discharging do that.
#[utoipa::path(post, path = "/api/v1/beds/{id}/state", tag = "inpatient", request_body = BedStateIn,
    params(("id" = String, Path, description = "Bed id")),
    responses((status = 200, description = "Changed", body = BedOut),
        (status = 403, description = "Cannot manage beds", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such bed or request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a change made by hand from the bed's state, or changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason to block, or no waiting request to hold it for", body = Problem, content_type = "application/problem+json")))]
async fn set_bed_state(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<BedStateIn>,
) -> Result<Json<BedOut>, ApiError> {
    let bed = state
        .app
        .inpatient()
        .set_bed_state(&ctx, id(&raw, "bed")?, b.state, &b.reason.unwrap_or_default(), b.request_id)
        .await?;
    Ok(Json(bed.into()))
}

// ---- Admissions --------------------------------------------------------------------------

/// A request to admit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestIn {
    pub encounter_id: Option<Uuid>,
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
    pub ward_id: Option<Uuid>,
    #[schema(schema_with = coded::<BedType>)]
    pub bed_type: Option<BedType>,
    #[schema(minimum = 1, maximum = 365)]
    pub expected_days: Option<i32>,
    pub expected_on: Option<NaiveDate>,
}

/// Ask for a patient's admission
#[utoipa::path(post, path = "/api/v1/patients/{id}/admission-requests", tag = "inpatient", request_body = RequestIn,
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 201, description = "Waiting at the admission desk", body = RequestOut),
        (status = 403, description = "Not a doctor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already admitted, or a request already waiting", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, another patient's encounter, no such ward", body = Problem, content_type = "application/problem+json")))]
async fn request_admission(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<RequestIn>,
) -> Result<Response, ApiError> {
    let patient = PatientId::from_uuid(id(&raw, "patient")?);
    let input = RequestInput {
        encounter_id: b.encounter_id,
        reason: b.reason,
        ward_id: b.ward_id,
        bed_type: b.bed_type,
        expected_days: b.expected_days,
        expected_on: b.expected_on,
    };
    let r = state.app.inpatient().request_admission(&ctx, patient, input).await?;
    Ok((StatusCode::CREATED, Json(RequestOut::from(r))).into_response())
}

/// The admission desk's queue
#[utoipa::path(get, path = "/api/v1/admission-requests", tag = "inpatient",
    responses((status = 200, description = "Waiting requests, oldest first", body = Paged<RequestOut>),
        (status = 403, description = "Cannot see the wards", body = Problem, content_type = "application/problem+json")))]
async fn waiting(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
) -> Result<Json<Paged<RequestOut>>, ApiError> {
    let rows = state.app.inpatient().waiting(&ctx).await?;
    Ok(Json(Paged::new(rows.into_iter().map(Into::into).collect(), None::<String>)))
}

/// Why something is not going ahead.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = InpatientReasonIn)]
pub struct ReasonIn {
    #[schema(min_length = 1, max_length = 300)]
    pub reason: String,
}

/// Withdraw a waiting request
///
/// A bed held for it is released.
#[utoipa::path(post, path = "/api/v1/admission-requests/{id}/cancel", tag = "inpatient", request_body = ReasonIn,
    params(("id" = String, Path, description = "Request id")),
    responses((status = 200, description = "Cancelled", body = RequestOut),
        (status = 403, description = "Neither a doctor nor the admission desk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No longer waiting", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json")))]
async fn cancel_request(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ReasonIn>,
) -> Result<Json<RequestOut>, ApiError> {
    Ok(Json(
        state.app.inpatient().cancel_request(&ctx, id(&raw, "admission request")?, &b.reason).await?.into(),
    ))
}

/// Admitting into a bed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdmitIn {
    pub patient_id: Uuid,
    pub request_id: Option<Uuid>,
    pub bed_id: Uuid,
    /// The doctor in charge.
    pub attending_id: Uuid,
    #[schema(min_length = 1, max_length = 300)]
    pub diagnosis: String,
    /// Share an occupied bed without taking it (a baby with its mother).
    #[serde(default)]
    pub companion: bool,
}

/// Admit a patient into a bed
///
/// The stay, its inpatient encounter and the bed in one transaction. A bed that is not
/// free (or held for this request) answers 409 `bed-taken` with the free beds of its type.
#[utoipa::path(post, path = "/api/v1/admissions", tag = "inpatient", request_body = AdmitIn,
    responses((status = 201, description = "Admitted", body = AdmissionOut),
        (status = 403, description = "Not the admission desk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The bed is not free, or the patient is already admitted", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No diagnosis, no such bed, doctor or request", body = Problem, content_type = "application/problem+json")))]
async fn admit(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<AdmitIn>,
) -> Result<Response, ApiError> {
    let input = AdmitInput {
        patient_id: PatientId::from_uuid(b.patient_id),
        request_id: b.request_id,
        bed_id: b.bed_id,
        attending_id: b.attending_id,
        diagnosis: b.diagnosis,
        companion: b.companion,
    };
    let s = state.app.inpatient().admit(&ctx, input).await?;
    Ok((StatusCode::CREATED, Json(AdmissionOut::from(s))).into_response())
}

/// A stay with where the patient lay
#[utoipa::path(get, path = "/api/v1/admissions/{id}", tag = "inpatient", params(("id" = String, Path, description = "Admission id")),
    responses((status = 200, description = "The stay", body = AdmissionOut),
        (status = 403, description = "Cannot see the wards", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such admission", body = Problem, content_type = "application/problem+json")))]
async fn get_admission(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<AdmissionOut>, ApiError> {
    Ok(Json(state.app.inpatient().stay(&ctx, id(&raw, "admission")?).await?.into()))
}

/// Moving to another bed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BedTransferIn)]
pub struct TransferIn {
    pub bed_id: Uuid,
    #[schema(max_length = 300)]
    pub reason: Option<String>,
}

/// Move a patient to another bed
///
/// The old bed goes to cleaning in the transaction that fills the new one.
#[utoipa::path(post, path = "/api/v1/admissions/{id}/transfer", tag = "inpatient", request_body = TransferIn,
    params(("id" = String, Path, description = "Admission id")),
    responses((status = 200, description = "Moved", body = AdmissionOut),
        (status = 403, description = "Not the admission desk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such admission", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The bed is not free, or the patient was discharged", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such bed, or the same bed", body = Problem, content_type = "application/problem+json")))]
async fn transfer(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<TransferIn>,
) -> Result<Json<AdmissionOut>, ApiError> {
    let stay = state
        .app
        .inpatient()
        .transfer(&ctx, id(&raw, "admission")?, b.bed_id, &b.reason.unwrap_or_default())
        .await?;
    Ok(Json(stay.into()))
}

/// Order a discharge
///
/// The patient keeps the bed until they leave.
#[utoipa::path(post, path = "/api/v1/admissions/{id}/discharge-order", tag = "inpatient",
    params(("id" = String, Path, description = "Admission id")),
    responses((status = 200, description = "Ordered", body = AdmissionOut),
        (status = 403, description = "Not a doctor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such admission", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not admitted (ordered already, or discharged)", body = Problem, content_type = "application/problem+json")))]
async fn order_discharge(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<AdmissionOut>, ApiError> {
    Ok(Json(state.app.inpatient().order_discharge(&ctx, id(&raw, "admission")?).await?.into()))
}

/// The patient leaving.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DischargeIn {
    /// Where they go: home, another hospital, …
    #[schema(min_length = 1, max_length = 100)]
    pub disposition: String,
}

/// Discharge: the patient leaves
///
/// After the doctor's order: the stay and its encounter end, the bed goes to cleaning.
#[utoipa::path(post, path = "/api/v1/admissions/{id}/discharge", tag = "inpatient", request_body = DischargeIn,
    params(("id" = String, Path, description = "Admission id")),
    responses((status = 200, description = "Discharged", body = AdmissionOut),
        (status = 403, description = "Not the admission desk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such admission", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No discharge order, already left, or a companion still in the bed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No disposition", body = Problem, content_type = "application/problem+json")))]
async fn discharge(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<DischargeIn>,
) -> Result<Json<AdmissionOut>, ApiError> {
    Ok(Json(state.app.inpatient().discharge(&ctx, id(&raw, "admission")?, &b.disposition).await?.into()))
}
