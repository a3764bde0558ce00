//! The clinical record: encounters (FHIR Encounter), vital signs (Observation,
//! vital-signs profile: LOINC 8310-5 temperature, 8867-4 pulse, 8480-6/8462-4 blood
//! pressure, 9279-1 respiratory rate, 59408-5 SpO2, 29463-7 weight, 8302-2 height,
//! 39156-5 BMI), notes, diagnoses (Condition, ICD-10-CM), allergies
//! (AllergyIntolerance) and immunizations (Immunization). Vital signs are integers in
//! fixed units (tenths of °C, grams, millimetres, BMI in tenths). Every read is audited;
//! a patient's own account reads its signed notes.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDate;
use salus_app::clinical::problems::{NewAllergy, NewDiagnosis};
use salus_app::clinical::{NewEncounter, Soap};
use salus_core::clinical::VitalsText;
use salus_core::{AppointmentId, EncounterId, NoteId, PatientId, RecordId};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{ApiJson, ApiQuery, ApiUser, Paged, decode_cursor, if_match, with_etag};
use crate::AppState;
use crate::error::{ApiError, Problem, ProblemKind};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_encounter))
        .routes(routes!(get_encounter))
        .routes(routes!(close_encounter))
        .routes(routes!(record_vitals))
        .routes(routes!(start_note))
        .routes(routes!(save_note))
        .routes(routes!(note_action))
        .routes(routes!(note_history))
        .routes(routes!(patient_encounters))
        .routes(routes!(patient_vitals))
        .routes(routes!(list_diagnoses, add_diagnosis))
        .routes(routes!(change_diagnosis))
        .routes(routes!(list_allergies, add_allergy))
        .routes(routes!(change_allergy))
        .routes(routes!(list_immunizations, add_immunization))
        .routes(routes!(record_in_error))
        .routes(routes!(list_medicines, add_medicine))
        .routes(routes!(list_prescriptions, prescribe))
        .routes(routes!(change_prescription))
        .routes(routes!(list_note_templates, add_note_template))
        .routes(routes!(save_note_template))
        .routes(routes!(list_referrals, refer))
        .routes(routes!(change_referral))
        .routes(routes!(list_attachments, upload_attachment))
        .routes(routes!(download_attachment))
}

fn id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::new(ProblemKind::NotFound, format!("{what} not found")))
}

/// A new encounter.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EncounterIn {
    #[schema(value_type = String, format = Uuid)]
    pub patient_id: PatientId,
    /// The appointment (checked in) it comes from, if any.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub appointment_id: Option<AppointmentId>,
    /// AMB (outpatient, the default) or EMER.
    #[serde(default = "amb")]
    pub class: String,
    pub chief_complaint: Option<String>,
}

fn amb() -> String {
    "AMB".into()
}

/// Open an encounter
///
/// The signed-in doctor is its doctor. From an appointment the patient must be checked in.
#[utoipa::path(post, path = "/api/v1/encounters", tag = "clinical", request_body = EncounterIn,
    responses((status = 201, description = "Opened", body = Object),
        (status = 403, description = "Not a doctor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient or appointment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The appointment has its encounter already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json")))]
async fn open_encounter(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<EncounterIn>,
) -> Result<Response, ApiError> {
    let input = NewEncounter {
        patient_id: b.patient_id,
        appointment_id: b.appointment_id,
        class: b.class,
        chief_complaint: b.chief_complaint.unwrap_or_default(),
    };
    let e = state.app.open_encounter(&ctx, input).await?;
    let version = e.version;
    Ok(with_etag(StatusCode::CREATED, version, e))
}

/// Read an encounter with its vitals and notes
#[utoipa::path(get, path = "/api/v1/encounters/{id}", tag = "clinical",
    params(("id" = String, Path, description = "Encounter id")),
    responses((status = 200, description = "The encounter (ETag: its version)", body = Object),
        (status = 403, description = "Not allowed (reception sees no clinical content)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such encounter", body = Problem, content_type = "application/problem+json")))]
async fn get_encounter(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let view = state.app.encounter(&ctx, id::<EncounterId>(&raw, "encounter")?).await?;
    let version = view.encounter.version;
    Ok(with_etag(StatusCode::OK, version, view))
}

/// A reason (for entered in error).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonIn {
    pub reason: String,
}

/// Finish an encounter, or mark it entered in error
#[utoipa::path(post, path = "/api/v1/encounters/{id}/{action}", tag = "clinical",
    params(("id" = String, Path, description = "Encounter id"), ("action" = String, Path, description = "finish or entered-in-error (with a reason)"),
        ("If-Match" = String, Header, description = "The version")),
    responses((status = 200, description = "Done", body = Object),
        (status = 409, description = "Not in progress, not its doctor, or changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json")))]
async fn close_encounter(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path((raw, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Option<ApiJson<ReasonIn>>,
) -> Result<Response, ApiError> {
    let (eid, version) = (id::<EncounterId>(&raw, "encounter")?, if_match(&headers)?);
    let reason = body.map(|ApiJson(b)| b.reason);
    let e = match action.as_str() {
        "finish" => state.app.close_encounter(&ctx, eid, version, None).await?,
        "entered-in-error" => {
            state.app.close_encounter(&ctx, eid, version, Some(reason.as_deref().unwrap_or(""))).await?
        }
        _ => return Err(ApiError::new(ProblemKind::NotFound, "no such action")),
    };
    let version = e.version;
    Ok(with_etag(StatusCode::OK, version, e))
}

/// Vital signs as measured.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VitalsIn {
    /// °C, one decimal ("36.8").
    pub temperature_c: Option<String>,
    pub pulse: Option<String>,
    pub systolic: Option<String>,
    pub diastolic: Option<String>,
    pub respiratory_rate: Option<String>,
    pub spo2: Option<String>,
    pub weight_kg: Option<String>,
    pub height_cm: Option<String>,
}

/// Record vital signs
///
/// Each value is checked against a plausible range; BMI is derived.
#[utoipa::path(post, path = "/api/v1/encounters/{id}/vitals", tag = "clinical", request_body = VitalsIn,
    params(("id" = String, Path, description = "Encounter id")),
    responses((status = 201, description = "Recorded", body = Object),
        (status = 409, description = "The encounter is not in progress", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Implausible or malformed values, each named", body = Problem, content_type = "application/problem+json")))]
async fn record_vitals(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<VitalsIn>,
) -> Result<(StatusCode, Json<salus_db::entity::vital::Model>), ApiError> {
    let text = VitalsText {
        temperature_c: b.temperature_c.unwrap_or_default(),
        pulse: b.pulse.unwrap_or_default(),
        systolic: b.systolic.unwrap_or_default(),
        diastolic: b.diastolic.unwrap_or_default(),
        respiratory_rate: b.respiratory_rate.unwrap_or_default(),
        spo2: b.spo2.unwrap_or_default(),
        weight_kg: b.weight_kg.unwrap_or_default(),
        height_cm: b.height_cm.unwrap_or_default(),
    };
    let v = state.app.record_vitals(&ctx, id(&raw, "encounter")?, &text).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// A note's sections.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteIn {
    /// Start from this note template instead of the text below.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub template_id: Option<Uuid>,
    #[serde(default)]
    pub subjective: String,
    #[serde(default)]
    pub objective: String,
    #[serde(default)]
    pub assessment: String,
    #[serde(default)]
    pub plan: String,
}

impl NoteIn {
    fn soap(self) -> Soap {
        Soap {
            subjective: self.subjective,
            objective: self.objective,
            assessment: self.assessment,
            plan: self.plan,
        }
    }
}

/// Start a note (a draft)
#[utoipa::path(post, path = "/api/v1/encounters/{id}/notes", tag = "clinical", request_body = NoteIn,
    params(("id" = String, Path, description = "Encounter id")),
    responses((status = 201, description = "The draft", body = Object),
        (status = 403, description = "Not a doctor", body = Problem, content_type = "application/problem+json")))]
async fn start_note(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(mut b): ApiJson<NoteIn>,
) -> Result<Response, ApiError> {
    let template = b.template_id.take();
    let n = state.app.start_note(&ctx, id(&raw, "encounter")?, template, b.soap()).await?;
    let version = n.version;
    Ok(with_etag(StatusCode::CREATED, version, n))
}

/// Save a draft
///
/// Only its author; a signed note is final (409, amend it instead).
#[utoipa::path(put, path = "/api/v1/notes/{id}", tag = "clinical", request_body = NoteIn,
    params(("id" = String, Path, description = "Note id"), ("If-Match" = String, Header, description = "The version")),
    responses((status = 200, description = "Saved", body = Object),
        (status = 409, description = "Signed, another doctor's, or changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json")))]
async fn save_note(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<NoteIn>,
) -> Result<Response, ApiError> {
    let (nid, version) = (id::<NoteId>(&raw, "note")?, if_match(&headers)?);
    let n = state.app.save_note(&ctx, nid, version, b.soap()).await?;
    let version = n.version;
    Ok(with_etag(StatusCode::OK, version, n))
}

/// An amendment's reason and, optionally, its text (else the amended note's).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteActionIn {
    pub reason: Option<String>,
    pub subjective: Option<String>,
    pub objective: Option<String>,
    pub assessment: Option<String>,
    pub plan: Option<String>,
}

/// Sign a note, amend a signed one, or mark one entered in error
///
/// `sign` (If-Match; only the author); `amend` (a reason; starts a new draft that names
/// the note); `entered-in-error` (a reason).
#[utoipa::path(post, path = "/api/v1/notes/{id}/{action}", tag = "clinical", request_body = NoteActionIn,
    params(("id" = String, Path, description = "Note id"), ("action" = String, Path, description = "sign, amend or entered-in-error")),
    responses((status = 200, description = "Signed or marked", body = Object),
        (status = 201, description = "The amendment's draft", body = Object),
        (status = 409, description = "Not allowed in its state, or another doctor's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or an empty note", body = Problem, content_type = "application/problem+json")))]
async fn note_action(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path((raw, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Option<ApiJson<NoteActionIn>>,
) -> Result<Response, ApiError> {
    let nid = id::<NoteId>(&raw, "note")?;
    let body = body.map(|ApiJson(b)| b);
    match action.as_str() {
        "sign" => {
            let n = state.app.sign_note(&ctx, nid, if_match(&headers)?).await?;
            let version = n.version;
            Ok(with_etag(StatusCode::OK, version, n))
        }
        "amend" => {
            let b = body.unwrap_or(NoteActionIn {
                reason: None,
                subjective: None,
                objective: None,
                assessment: None,
                plan: None,
            });
            let text = (b.subjective.is_some()
                || b.objective.is_some()
                || b.assessment.is_some()
                || b.plan.is_some())
            .then(|| Soap {
                subjective: b.subjective.unwrap_or_default(),
                objective: b.objective.unwrap_or_default(),
                assessment: b.assessment.unwrap_or_default(),
                plan: b.plan.unwrap_or_default(),
            });
            let n = state.app.amend_note(&ctx, nid, b.reason.as_deref().unwrap_or(""), text).await?;
            let version = n.version;
            Ok(with_etag(StatusCode::CREATED, version, n))
        }
        "entered-in-error" => {
            let reason = body.and_then(|b| b.reason).unwrap_or_default();
            state.app.note_in_error(&ctx, nid, &reason).await?;
            Ok(with_etag(StatusCode::OK, 0, serde_json::json!({ "status": "entered_in_error" })))
        }
        _ => Err(ApiError::new(ProblemKind::NotFound, "no such action")),
    }
}

/// A note's versions
///
/// What it amends back to the first, and what amends it, oldest first.
#[utoipa::path(get, path = "/api/v1/notes/{id}/history", tag = "clinical",
    params(("id" = String, Path, description = "Note id")),
    responses((status = 200, description = "The versions", body = Paged<Object>)))]
async fn note_history(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<salus_db::entity::note::Model>>, ApiError> {
    let chain = state.app.note_history(&ctx, id(&raw, "note")?).await?;
    Ok(Json(Paged::new(chain, None::<String>)))
}

/// `?limit=&cursor=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// A patient's encounters
///
/// Newest first, paged by cursor (the same cost at the ten-thousandth as at the first).
#[utoipa::path(get, path = "/api/v1/patients/{id}/encounters", tag = "clinical", params(("id" = String, Path, description = "Patient id"), PageQuery),
    responses((status = 200, description = "A page", body = Paged<Object>)))]
async fn patient_encounters(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Paged<salus_db::entity::encounter::Model>>, ApiError> {
    let after = decode_cursor::<String>(q.cursor.as_deref())?
        .map(|c| {
            let (at, id) = c.split_once('|').unwrap_or(("", ""));
            Ok::<_, ApiError>((at.parse().map_err(|_| bad_cursor())?, id.parse().map_err(|_| bad_cursor())?))
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let rows = state.app.encounters(&ctx, id(&raw, "patient")?, after, limit + 1).await?;
    let page = salus_core::page::Page::from_overfetch(rows, u32::try_from(limit).unwrap_or(50), |e| {
        format!("{}|{}", e.started_at.to_rfc3339(), e.id)
    });
    Ok(Json(Paged::new(page.items, page.next)))
}

fn bad_cursor() -> ApiError {
    ApiError::fields(vec![crate::error::FieldProblem {
        field: "cursor".into(),
        message: "is not a cursor this API gave out".into(),
    }])
}

/// A patient's latest vital signs
#[utoipa::path(get, path = "/api/v1/patients/{id}/vitals", tag = "clinical", params(("id" = String, Path, description = "Patient id")),
    responses((status = 200, description = "Newest first, at most 200", body = Paged<Object>)))]
async fn patient_vitals(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<salus_db::entity::vital::Model>>, ApiError> {
    let rows = state.app.vitals(&ctx, id(&raw, "patient")?, 200).await?;
    Ok(Json(Paged::new(rows, None::<String>)))
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
    responses((status = 200, description = "Newest first", body = Paged<Object>)))]
async fn list_diagnoses(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<salus_db::entity::diagnosis::Model>>, ApiError> {
    Ok(Json(Paged::new(state.app.diagnoses(&ctx, id(&raw, "patient")?).await?, None::<String>)))
}

/// Record a diagnosis
#[utoipa::path(post, path = "/api/v1/patients/{id}/diagnoses", tag = "clinical", request_body = DiagnosisIn,
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 201, description = "Recorded", body = Object),
        (status = 422, description = "Unknown or non-billable code, onset in the future", body = Problem, content_type = "application/problem+json")))]
async fn add_diagnosis(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<DiagnosisIn>,
) -> Result<Response, ApiError> {
    let input = NewDiagnosis { code: b.code, encounter_id: b.encounter_id, onset: b.onset };
    let d = state.app.add_diagnosis(&ctx, id(&raw, "patient")?, input).await?;
    let version = d.version;
    Ok(with_etag(StatusCode::CREATED, version, d))
}

/// Resolve a diagnosis, or mark it entered in error
#[utoipa::path(post, path = "/api/v1/diagnoses/{id}/{action}", tag = "clinical",
    params(("id" = String, Path, description = "Diagnosis id"), ("action" = String, Path, description = "resolve or entered-in-error"),
        ("If-Match" = String, Header, description = "The version")),
    responses((status = 200, description = "Done", body = Object),
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
        "resolve" => state.app.change_diagnosis(&ctx, did, version, None).await?,
        "entered-in-error" => state.app.change_diagnosis(&ctx, did, version, Some(&reason)).await?,
        _ => return Err(ApiError::new(ProblemKind::NotFound, "no such action")),
    };
    let version = d.version;
    Ok(with_etag(StatusCode::OK, version, d))
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
    responses((status = 200, description = "By substance", body = Paged<Object>)))]
async fn list_allergies(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<salus_db::entity::allergy::Model>>, ApiError> {
    Ok(Json(Paged::new(state.app.allergies(&ctx, id(&raw, "patient")?).await?, None::<String>)))
}

/// Record an allergy
#[utoipa::path(post, path = "/api/v1/patients/{id}/allergies", tag = "clinical", request_body = AllergyIn,
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 201, description = "Recorded", body = Object),
        (status = 422, description = "A field is not valid, or the allergy is already recorded", body = Problem, content_type = "application/problem+json")))]
async fn add_allergy(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<AllergyIn>,
) -> Result<Response, ApiError> {
    let input =
        NewAllergy { substance: b.substance, reaction: b.reaction.unwrap_or_default(), severity: b.severity };
    let a = state.app.add_allergy(&ctx, id(&raw, "patient")?, input).await?;
    let version = a.version;
    Ok(with_etag(StatusCode::CREATED, version, a))
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
    responses((status = 200, description = "Changed", body = Object),
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
        .change_allergy(&ctx, aid, version, b.status.as_deref(), b.entered_in_error.as_deref())
        .await?;
    let version = a.version;
    Ok(with_etag(StatusCode::OK, version, a))
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
    responses((status = 200, description = "Newest first", body = Paged<Object>)))]
async fn list_immunizations(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<salus_db::entity::immunization::Model>>, ApiError> {
    Ok(Json(Paged::new(state.app.immunizations(&ctx, id(&raw, "patient")?).await?, None::<String>)))
}

/// Record an immunization
#[utoipa::path(post, path = "/api/v1/patients/{id}/immunizations", tag = "clinical", request_body = ImmunizationIn,
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 201, description = "Recorded", body = Object),
        (status = 422, description = "A field is not valid, or a date in the future", body = Problem, content_type = "application/problem+json")))]
async fn add_immunization(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ImmunizationIn>,
) -> Result<(StatusCode, Json<salus_db::entity::immunization::Model>), ApiError> {
    let lot = b.lot_number.unwrap_or_default();
    let i = state
        .app
        .add_immunization(&ctx, id(&raw, "patient")?, &b.vaccine, b.dose_number, b.given_on, &lot)
        .await?;
    Ok((StatusCode::CREATED, Json(i)))
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
    state.app.record_in_error(&ctx, &kind, id(&raw, "record")?, &b.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?q=&include_inactive=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MedicinesQuery {
    /// Part of the generic name.
    pub q: Option<String>,
    #[serde(default)]
    pub include_inactive: bool,
}

/// The medicine catalog
#[utoipa::path(get, path = "/api/v1/medicines", tag = "clinical", params(MedicinesQuery),
    responses((status = 200, description = "By generic name, at most 200", body = Paged<Object>)))]
async fn list_medicines(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<MedicinesQuery>,
) -> Result<Json<Paged<salus_db::entity::medicine::Model>>, ApiError> {
    Ok(Json(Paged::new(state.app.medicines(&ctx, q.q.as_deref(), q.include_inactive).await?, None::<String>)))
}

/// A medicine for the catalog.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MedicineIn {
    pub generic_name: String,
    pub form: String,
    pub strength: String,
    pub route: String,
    pub atc_code: Option<String>,
}

/// Add a medicine to the catalog
#[utoipa::path(post, path = "/api/v1/medicines", tag = "clinical", request_body = MedicineIn,
    responses((status = 201, description = "Added", body = Object),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, or already in the catalog", body = Problem, content_type = "application/problem+json")))]
async fn add_medicine(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<MedicineIn>,
) -> Result<(StatusCode, Json<salus_db::entity::medicine::Model>), ApiError> {
    let m = state
        .app
        .add_medicine(
            &ctx,
            &b.generic_name,
            &b.form,
            &b.strength,
            &b.route,
            b.atc_code.as_deref().unwrap_or(""),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(m)))
}

/// A prescription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrescriptionIn {
    pub medicine_id: Uuid,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub encounter_id: Option<EncounterId>,
    /// "500 mg", "1 tablet".
    pub dose: Option<String>,
    /// Default: the medicine's usual route.
    pub route: Option<String>,
    /// "three times a day", "every 8 hours".
    pub frequency: Option<String>,
    pub duration_days: Option<i32>,
    pub quantity: Option<i32>,
    pub instructions: Option<String>,
    /// Required to go ahead when the checks warn (409 `clinical-warnings`).
    pub override_reason: Option<String>,
}

/// A patient's prescriptions
#[utoipa::path(get, path = "/api/v1/patients/{id}/prescriptions", tag = "clinical", params(("id" = String, Path, description = "Patient id")),
    responses((status = 200, description = "Newest first", body = Paged<Object>)))]
async fn list_prescriptions(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<salus_db::entity::prescription::Model>>, ApiError> {
    Ok(Json(Paged::new(state.app.prescriptions(&ctx, id(&raw, "patient")?).await?, None::<String>)))
}

/// Prescribe
///
/// An allergy of the patient's to the medicine or its class, or the same medicine already
/// active, answers 409 `clinical-warnings` (the list in `warnings`) unless
/// `override_reason` says why to go ahead; the override is kept and audited.
#[utoipa::path(post, path = "/api/v1/patients/{id}/prescriptions", tag = "clinical", request_body = PrescriptionIn,
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 201, description = "Prescribed", body = Object),
        (status = 403, description = "Not a doctor", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Warnings to override with a reason", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No dose or frequency, an unknown medicine, …", body = Problem, content_type = "application/problem+json")))]
async fn prescribe(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<PrescriptionIn>,
) -> Result<Response, ApiError> {
    let input = salus_app::clinical::prescriptions::NewPrescription {
        medicine_id: b.medicine_id,
        encounter_id: b.encounter_id,
        dose: b.dose.unwrap_or_default(),
        route: b.route.unwrap_or_default(),
        frequency: b.frequency.unwrap_or_default(),
        duration_days: b.duration_days,
        quantity: b.quantity,
        instructions: b.instructions.unwrap_or_default(),
        override_reason: b.override_reason.unwrap_or_default(),
    };
    let p = state.app.prescribe(&ctx, id(&raw, "patient")?, input).await?;
    let version = p.version;
    Ok(with_etag(StatusCode::CREATED, version, p))
}

/// Complete, stop or mark a prescription entered in error
#[utoipa::path(post, path = "/api/v1/prescriptions/{id}/{action}", tag = "clinical", request_body = ReasonIn,
    params(("id" = String, Path, description = "Prescription id"), ("action" = String, Path, description = "complete, stop (with a reason) or entered-in-error (with a reason)"),
        ("If-Match" = String, Header, description = "The version")),
    responses((status = 200, description = "Changed", body = Object),
        (status = 409, description = "Not allowed from its status, or changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json")))]
async fn change_prescription(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path((raw, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Option<ApiJson<ReasonIn>>,
) -> Result<Response, ApiError> {
    let (pid, version) = (id::<RecordId>(&raw, "prescription")?, if_match(&headers)?);
    let to = match action.as_str() {
        "complete" => "completed",
        "stop" => "stopped",
        "entered-in-error" => "entered_in_error",
        _ => return Err(ApiError::new(ProblemKind::NotFound, "no such action")),
    };
    let reason = body.map(|ApiJson(b)| b.reason).unwrap_or_default();
    let p = state.app.change_prescription(&ctx, pid, version, to, &reason).await?;
    let version = p.version;
    Ok(with_etag(StatusCode::OK, version, p))
}

/// A note template.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteTemplateIn {
    pub name: String,
    /// For one department; absent: for all.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub department_id: Option<salus_core::DepartmentId>,
    #[serde(default)]
    pub subjective: String,
    #[serde(default)]
    pub objective: String,
    #[serde(default)]
    pub assessment: String,
    #[serde(default)]
    pub plan: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl NoteTemplateIn {
    fn soap(&self) -> Soap {
        Soap {
            subjective: self.subjective.clone(),
            objective: self.objective.clone(),
            assessment: self.assessment.clone(),
            plan: self.plan.clone(),
        }
    }
}

/// Note templates
#[utoipa::path(get, path = "/api/v1/note-templates", tag = "clinical",
    responses((status = 200, description = "By name", body = Paged<Object>)))]
async fn list_note_templates(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
) -> Result<Json<Paged<salus_db::entity::note_template::Model>>, ApiError> {
    Ok(Json(Paged::new(state.app.note_templates(&ctx).await?, None::<String>)))
}

/// Add a note template
#[utoipa::path(post, path = "/api/v1/note-templates", tag = "clinical", request_body = NoteTemplateIn,
    responses((status = 201, description = "Added", body = Object),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json")))]
async fn add_note_template(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<NoteTemplateIn>,
) -> Result<(StatusCode, Json<salus_db::entity::note_template::Model>), ApiError> {
    let t = state.app.save_note_template(&ctx, None, b.department_id, &b.name, b.soap(), b.active).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// Replace a note template
#[utoipa::path(put, path = "/api/v1/note-templates/{id}", tag = "clinical", request_body = NoteTemplateIn,
    params(("id" = String, Path, description = "Template id")),
    responses((status = 200, description = "Saved", body = Object),
        (status = 404, description = "No such template", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json")))]
async fn save_note_template(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<NoteTemplateIn>,
) -> Result<Json<salus_db::entity::note_template::Model>, ApiError> {
    let t = state
        .app
        .save_note_template(
            &ctx,
            Some(id(&raw, "note template")?),
            b.department_id,
            &b.name,
            b.soap(),
            b.active,
        )
        .await?;
    Ok(Json(t))
}

/// A referral.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralIn {
    #[schema(value_type = Option<String>, format = Uuid)]
    pub encounter_id: Option<EncounterId>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub to_department_id: Option<salus_core::DepartmentId>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub to_doctor_id: Option<salus_core::UserId>,
    pub reason: String,
    /// routine (default) or urgent.
    pub urgency: Option<String>,
}

/// A patient's referrals
#[utoipa::path(get, path = "/api/v1/patients/{id}/referrals", tag = "clinical", params(("id" = String, Path, description = "Patient id")),
    responses((status = 200, description = "Newest first", body = Paged<Object>)))]
async fn list_referrals(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<salus_db::entity::referral::Model>>, ApiError> {
    Ok(Json(Paged::new(state.app.referrals(&ctx, id(&raw, "patient")?).await?, None::<String>)))
}

/// Refer the patient to a department or a doctor
#[utoipa::path(post, path = "/api/v1/patients/{id}/referrals", tag = "clinical", request_body = ReferralIn,
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 201, description = "Referred", body = Object),
        (status = 422, description = "No reason, no destination, …", body = Problem, content_type = "application/problem+json")))]
async fn refer(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ReferralIn>,
) -> Result<Response, ApiError> {
    let input = salus_app::clinical::referrals::NewReferral {
        encounter_id: b.encounter_id,
        to_department: b.to_department_id,
        to_doctor: b.to_doctor_id,
        reason: b.reason,
        urgency: b.urgency.unwrap_or_default(),
    };
    let r = state.app.refer(&ctx, id(&raw, "patient")?, input).await?;
    let version = r.version;
    Ok(with_etag(StatusCode::CREATED, version, r))
}

/// Accept, complete or cancel a referral
#[utoipa::path(post, path = "/api/v1/referrals/{id}/{action}", tag = "clinical",
    params(("id" = String, Path, description = "Referral id"), ("action" = String, Path, description = "accept, complete or cancel"),
        ("If-Match" = String, Header, description = "The version")),
    responses((status = 200, description = "Moved", body = Object),
        (status = 409, description = "Not a legal move, or changed meanwhile", body = Problem, content_type = "application/problem+json")))]
async fn change_referral(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path((raw, action)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (rid, version) = (id::<RecordId>(&raw, "referral")?, if_match(&headers)?);
    let to = match action.as_str() {
        "accept" => "accepted",
        "complete" => "completed",
        "cancel" => "cancelled",
        _ => return Err(ApiError::new(ProblemKind::NotFound, "no such action")),
    };
    let r = state.app.change_referral(&ctx, rid, version, to).await?;
    let version = r.version;
    Ok(with_etag(StatusCode::OK, version, r))
}

/// A patient's attachments
#[utoipa::path(get, path = "/api/v1/patients/{id}/attachments", tag = "clinical", params(("id" = String, Path, description = "Patient id")),
    responses((status = 200, description = "Newest first (descriptions; download each by id)", body = Paged<Object>)))]
async fn list_attachments(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<salus_db::entity::attachment::Model>>, ApiError> {
    Ok(Json(Paged::new(state.app.attachments(&ctx, id(&raw, "patient")?).await?, None::<String>)))
}

/// `?filename=&encounter_id=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    pub filename: Option<String>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub encounter_id: Option<EncounterId>,
}

/// Attach a file
///
/// The body is the file itself (PDF, JPEG, PNG or WebP, told by its bytes; up to 3.5 MiB).
#[utoipa::path(post, path = "/api/v1/patients/{id}/attachments", tag = "clinical", params(("id" = String, Path, description = "Patient id"), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, description = "Stored", body = Object),
        (status = 413, description = "Larger than the server takes", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty, too large, or not a kind of file the record keeps", body = Problem, content_type = "application/problem+json")))]
async fn upload_attachment(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<salus_db::entity::attachment::Model>), ApiError> {
    let name = q.filename.unwrap_or_else(|| "attachment".into());
    let a = state.app.attach(&ctx, id(&raw, "patient")?, q.encounter_id, &name, &body).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// Download an attachment
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "clinical", params(("id" = String, Path, description = "Attachment id")),
    responses((status = 200, description = "The file"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such attachment", body = Problem, content_type = "application/problem+json")))]
async fn download_attachment(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let (meta, bytes) = state.app.attachment(&ctx, id(&raw, "attachment")?).await?;
    Ok(attachment_response(&meta, bytes))
}

/// The file with its type, as a download, never sniffed by the browser.
pub fn attachment_response(meta: &salus_db::entity::attachment::Model, bytes: Vec<u8>) -> Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let safe_name: String =
        meta.filename.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
    (
        [
            (header::CONTENT_TYPE, meta.content_type.clone()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{safe_name}\"")),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}
