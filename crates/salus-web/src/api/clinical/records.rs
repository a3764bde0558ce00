//! The problem list (diagnoses, ICD-10-CM), allergies and immunizations, and marking
//! vital signs or an immunization entered in error.

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use salus_app::clinical::problems::{NewAllergy, NewDiagnosis};
use salus_app::identity::Permission;
use salus_core::clinical::{
    Allergy, AllergyStatus, ClinicalStatus, CodeSystem, Diagnosis, Immunization, Severity,
};
use salus_core::{EncounterId, RecordId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{ReasonIn, id};
use crate::AppState;
use crate::api::openapi::coded;
use crate::api::{ApiJson, ApiUser, Paged, if_match, with_etag};
use crate::error::{ApiError, Problem, ProblemKind};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/api/v1/patients/{id}/diagnoses", Access::SignedIn),
    route("/api/v1/diagnoses/{id}/{action}", Access::Permission(Permission::ClinicalWrite))
        .post()
        .example("/api/v1/diagnoses/{id}/resolve"),
    route("/api/v1/patients/{id}/allergies", Access::SignedIn),
    route("/api/v1/allergies/{id}/status", Access::Permission(Permission::VitalsRecord)).post(),
    route("/api/v1/patients/{id}/immunizations", Access::SignedIn),
    route("/api/v1/records/{kind}/{id}/entered-in-error", Access::Permission(Permission::VitalsRecord))
        .post()
        .example("/api/v1/records/vitals/{id}/entered-in-error"),
];

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_diagnoses, add_diagnosis))
        .routes(routes!(change_diagnosis))
        .routes(routes!(list_allergies, add_allergy))
        .routes(routes!(change_allergy))
        .routes(routes!(list_immunizations, add_immunization))
        .routes(routes!(record_in_error))
}

/// A diagnosis on the problem list (FHIR Condition, ICD-10-CM).
#[derive(Debug, Serialize, ToSchema)]
pub struct DiagnosisOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    /// The encounter it was made in, if any.
    pub encounter_id: Option<Uuid>,
    /// `icd-10-cm` for everything written in Salus; `snomed-ct` for a condition taken in
    /// from a system that codes in SNOMED CT.
    #[schema(schema_with = coded::<CodeSystem>)]
    pub code_system: CodeSystem,
    /// The code ("E11.9").
    pub code: String,
    /// The code's title.
    pub description: String,
    /// active or resolved (FHIR `clinicalStatus`).
    #[schema(schema_with = coded::<ClinicalStatus>)]
    pub clinical_status: ClinicalStatus,
    pub onset_date: Option<NaiveDate>,
    pub recorded_by: Option<Uuid>,
    pub recorded_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Set when marked entered in error: why.
    pub error_reason: Option<String>,
    /// Send as `If-Match` to change it.
    pub version: i32,
}

impl From<Diagnosis> for DiagnosisOut {
    fn from(d: Diagnosis) -> Self {
        Self {
            id: d.id,
            patient_id: d.patient_id,
            encounter_id: d.encounter_id,
            code_system: d.code_system,
            code: d.code,
            description: d.description,
            clinical_status: d.clinical_status,
            onset_date: d.onset_date,
            recorded_by: d.recorded_by,
            recorded_at: d.recorded_at,
            resolved_at: d.resolved_at,
            error_reason: d.error_reason,
            version: d.version,
        }
    }
}

/// An allergy or intolerance (FHIR AllergyIntolerance).
#[derive(Debug, Serialize, ToSchema)]
pub struct AllergyOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub substance: String,
    pub reaction: Option<String>,
    /// mild, moderate or severe.
    #[schema(schema_with = coded::<Severity>)]
    pub severity: Severity,
    /// active, inactive or resolved.
    #[schema(schema_with = coded::<AllergyStatus>)]
    pub status: AllergyStatus,
    pub recorded_by: Option<Uuid>,
    pub recorded_at: DateTime<Utc>,
    /// Set when marked entered in error: why.
    pub error_reason: Option<String>,
    /// Send as `If-Match` to change it.
    pub version: i32,
}

impl From<Allergy> for AllergyOut {
    fn from(a: Allergy) -> Self {
        Self {
            id: a.id,
            patient_id: a.patient_id,
            substance: a.substance,
            reaction: a.reaction,
            severity: a.severity,
            status: a.status,
            recorded_by: a.recorded_by,
            recorded_at: a.recorded_at,
            error_reason: a.error_reason,
            version: a.version,
        }
    }
}

/// A vaccine given (FHIR Immunization).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImmunizationOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub vaccine: String,
    /// Which dose of the series (1, 2, …), if known.
    pub dose_number: Option<i32>,
    pub given_on: NaiveDate,
    pub lot_number: Option<String>,
    pub recorded_by: Option<Uuid>,
    pub recorded_at: DateTime<Utc>,
    /// Set when marked entered in error: why.
    pub error_reason: Option<String>,
}

impl From<Immunization> for ImmunizationOut {
    fn from(i: Immunization) -> Self {
        Self {
            id: i.id,
            patient_id: i.patient_id,
            vaccine: i.vaccine,
            dose_number: i.dose_number,
            given_on: i.given_on,
            lot_number: i.lot_number,
            recorded_by: i.recorded_by,
            recorded_at: i.recorded_at,
            error_reason: i.error_reason,
        }
    }
}

/// A diagnosis to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiagnosisIn {
    /// A billable ICD-10-CM code ("E11.9").
    pub code: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub encounter_id: Option<EncounterId>,
    pub onset: Option<NaiveDate>,
}

/// A patient's diagnoses (the problem list is the active ones)
#[utoipa::path(get, path = "/api/v1/patients/{id}/diagnoses", tag = "clinical", params(("id" = String, Path, description = "Patient id")),
    responses((status = 200, description = "Newest first", body = Paged<DiagnosisOut>)))]
async fn list_diagnoses(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<DiagnosisOut>>, ApiError> {
    let rows = state.app.clinical().diagnoses(&ctx, id(&raw, "patient")?).await?;
    Ok(Json(Paged::new(rows.into_iter().map(DiagnosisOut::from).collect(), None::<String>)))
}

/// Record a diagnosis
#[utoipa::path(post, path = "/api/v1/patients/{id}/diagnoses", tag = "clinical", request_body = DiagnosisIn,
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 201, description = "Recorded", body = DiagnosisOut),
        (status = 422, description = "Unknown or non-billable code, onset in the future", body = Problem, content_type = "application/problem+json")))]
async fn add_diagnosis(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<DiagnosisIn>,
) -> Result<Response, ApiError> {
    let input = NewDiagnosis { code: b.code, encounter_id: b.encounter_id, onset: b.onset };
    let d = state.app.clinical().add_diagnosis(&ctx, id(&raw, "patient")?, input).await?;
    let version = d.version;
    Ok(with_etag(StatusCode::CREATED, version, DiagnosisOut::from(d)))
}

/// Resolve a diagnosis, or mark it entered in error
#[utoipa::path(post, path = "/api/v1/diagnoses/{id}/{action}", tag = "clinical",
    params(("id" = String, Path, description = "Diagnosis id"), ("action" = String, Path, description = "resolve or entered-in-error"),
        ("If-Match" = String, Header, description = "The version")),
    responses((status = 200, description = "Done", body = DiagnosisOut),
        (status = 409, description = "Already resolved or in error, or changed meanwhile", body = Problem, content_type = "application/problem+json")))]
async fn change_diagnosis(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path((raw, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Option<ApiJson<ReasonIn>>,
) -> Result<Response, ApiError> {
    let (did, version) = (id::<RecordId>(&raw, "diagnosis")?, if_match(&headers)?);
    let reason = body.map(|ApiJson(b)| b.reason).unwrap_or_default();
    let d = match action.as_str() {
        "resolve" => state.app.clinical().change_diagnosis(&ctx, did, version, None).await?,
        "entered-in-error" => {
            state.app.clinical().change_diagnosis(&ctx, did, version, Some(&reason)).await?
        }
        _ => return Err(ApiError::new(ProblemKind::NotFound, "no such action")),
    };
    let version = d.version;
    Ok(with_etag(StatusCode::OK, version, DiagnosisOut::from(d)))
}

/// An allergy to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllergyIn {
    pub substance: String,
    pub reaction: Option<String>,
    /// mild, moderate or severe.
    pub severity: String,
}

/// A patient's allergies
#[utoipa::path(get, path = "/api/v1/patients/{id}/allergies", tag = "clinical", params(("id" = String, Path, description = "Patient id")),
    responses((status = 200, description = "By substance", body = Paged<AllergyOut>)))]
async fn list_allergies(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<AllergyOut>>, ApiError> {
    let rows = state.app.clinical().allergies(&ctx, id(&raw, "patient")?).await?;
    Ok(Json(Paged::new(rows.into_iter().map(AllergyOut::from).collect(), None::<String>)))
}

/// Record an allergy
#[utoipa::path(post, path = "/api/v1/patients/{id}/allergies", tag = "clinical", request_body = AllergyIn,
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 201, description = "Recorded", body = AllergyOut),
        (status = 422, description = "A field is not valid, or the allergy is already recorded", body = Problem, content_type = "application/problem+json")))]
async fn add_allergy(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<AllergyIn>,
) -> Result<Response, ApiError> {
    let input =
        NewAllergy { substance: b.substance, reaction: b.reaction.unwrap_or_default(), severity: b.severity };
    let a = state.app.clinical().add_allergy(&ctx, id(&raw, "patient")?, input).await?;
    let version = a.version;
    Ok(with_etag(StatusCode::CREATED, version, AllergyOut::from(a)))
}

/// A change of an allergy.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllergyChangeIn {
    /// active, inactive or resolved.
    pub status: Option<String>,
    /// Marks it entered in error with this reason.
    pub entered_in_error: Option<String>,
}

/// Change an allergy's status, or mark it entered in error
#[utoipa::path(post, path = "/api/v1/allergies/{id}/status", tag = "clinical", request_body = AllergyChangeIn,
    params(("id" = String, Path, description = "Allergy id"), ("If-Match" = String, Header, description = "The version")),
    responses((status = 200, description = "Changed", body = AllergyOut),
        (status = 409, description = "In error already, or changed meanwhile", body = Problem, content_type = "application/problem+json")))]
async fn change_allergy(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<AllergyChangeIn>,
) -> Result<Response, ApiError> {
    let (aid, version) = (id::<RecordId>(&raw, "allergy")?, if_match(&headers)?);
    let a = state
        .app
        .clinical()
        .change_allergy(&ctx, aid, version, b.status.as_deref(), b.entered_in_error.as_deref())
        .await?;
    let version = a.version;
    Ok(with_etag(StatusCode::OK, version, AllergyOut::from(a)))
}

/// An immunization given.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImmunizationIn {
    pub vaccine: String,
    pub dose_number: Option<i32>,
    pub given_on: NaiveDate,
    pub lot_number: Option<String>,
}

/// A patient's immunizations
#[utoipa::path(get, path = "/api/v1/patients/{id}/immunizations", tag = "clinical", params(("id" = String, Path, description = "Patient id")),
    responses((status = 200, description = "Newest first", body = Paged<ImmunizationOut>)))]
async fn list_immunizations(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<ImmunizationOut>>, ApiError> {
    let rows = state.app.clinical().immunizations(&ctx, id(&raw, "patient")?).await?;
    Ok(Json(Paged::new(rows.into_iter().map(ImmunizationOut::from).collect(), None::<String>)))
}

/// Record an immunization
#[utoipa::path(post, path = "/api/v1/patients/{id}/immunizations", tag = "clinical", request_body = ImmunizationIn,
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 201, description = "Recorded", body = ImmunizationOut),
        (status = 422, description = "A field is not valid, or a date in the future", body = Problem, content_type = "application/problem+json")))]
async fn add_immunization(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ImmunizationIn>,
) -> Result<(StatusCode, Json<ImmunizationOut>), ApiError> {
    let lot = b.lot_number.unwrap_or_default();
    let i = state
        .app
        .clinical()
        .add_immunization(&ctx, id(&raw, "patient")?, &b.vaccine, b.dose_number, b.given_on, &lot)
        .await?;
    Ok((StatusCode::CREATED, Json(i.into())))
}

/// Mark vital signs or an immunization entered in error
#[utoipa::path(post, path = "/api/v1/records/{kind}/{id}/entered-in-error", tag = "clinical", request_body = ReasonIn,
    params(("kind" = String, Path, description = "vitals or immunizations"), ("id" = String, Path, description = "Record id")),
    responses((status = 204, description = "Marked"),
        (status = 404, description = "No such record, or already marked", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json")))]
async fn record_in_error(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path((kind, raw)): Path<(String, String)>,
    ApiJson(b): ApiJson<ReasonIn>,
) -> Result<StatusCode, ApiError> {
    state.app.clinical().record_in_error(&ctx, &kind, id(&raw, "record")?, &b.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}
