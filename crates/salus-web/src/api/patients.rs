//! Patients: register, read, edit (with `If-Match` on the version), search, merge and
//! unmerge, break the glass, the timeline, the history and the photo. The shape is close to
//! FHIR Patient so the FHIR door can map it field for field.

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use salus_app::identity::Permission;
use salus_app::patients::{Duplicate, HistoryEntry, Patient, PatientInput, SearchHit, TimelineEntry};
use salus_core::PatientId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::coded;
use super::{ApiJson, ApiQuery, ApiUser, Paged, if_match};
use crate::AppState;
use crate::error::{ApiError, FieldProblem, Problem, ProblemKind};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/api/v1/patients", Access::Permission(Permission::PatientsRead))
        .example("/api/v1/patients?q=smith"),
    // A patient's own account reads its record here too: the use case decides by relationship.
    route("/api/v1/patients/{id}", Access::SignedIn),
    route("/api/v1/patients/{id}/status", Access::Permission(Permission::PatientsRegister)).post(),
    route("/api/v1/patients/{id}/merge", Access::Permission(Permission::PatientsMerge)).post(),
    route("/api/v1/patients/{id}/unmerge", Access::Permission(Permission::PatientsMerge)).post(),
    route("/api/v1/patients/{id}/break-glass", Access::Permission(Permission::PatientsBreakGlass)).post(),
    route("/api/v1/patients/{id}/timeline", Access::SignedIn),
    route("/api/v1/patients/{id}/history", Access::SignedIn),
    route("/api/v1/patients/{id}/photo", Access::SignedIn),
];

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_patients, register_patient))
        .routes(routes!(get_patient, update_patient))
        .routes(routes!(set_status))
        .routes(routes!(merge_patient))
        .routes(routes!(unmerge_patient))
        .routes(routes!(break_glass))
        .routes(routes!(timeline))
        .routes(routes!(history))
        .routes(routes!(get_photo, put_photo))
}

/// An identifier: its type (`national_id`, `passport`, `driving_licence`, `insurance`) and value.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifierDto {
    pub system: String,
    pub value: String,
}

/// A patient.
#[derive(Debug, Serialize, ToSchema)]
pub struct PatientOut {
    #[schema(value_type = String, format = Uuid)]
    pub id: PatientId,
    /// Medical record number (facility prefix, sequence, check digit).
    pub mrn: String,
    pub given_names: String,
    pub family_name: String,
    /// female, male, other or unknown (FHIR `gender`).
    pub sex: String,
    pub birth_date: Option<NaiveDate>,
    pub birth_date_estimated: bool,
    pub age: Option<i32>,
    pub phone: Option<String>,
    pub phone_alt: Option<String>,
    pub email: Option<String>,
    pub address_line: Option<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub blood_group: Option<String>,
    pub preferred_language: Option<String>,
    pub emergency_name: Option<String>,
    pub emergency_phone: Option<String>,
    pub emergency_relation: Option<String>,
    pub insurer: Option<String>,
    pub insurance_policy: Option<String>,
    pub consent_sms: bool,
    pub consent_email: bool,
    pub consent_research: bool,
    pub restricted: bool,
    pub restricted_reason: Option<String>,
    pub active: bool,
    pub deceased_at: Option<DateTime<Utc>>,
    /// Set on a record merged into another: the one to use (FHIR `link` replaced-by).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub merged_into: Option<PatientId>,
    /// Send as `If-Match` to edit.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub identifiers: Vec<IdentifierDto>,
    pub has_photo: bool,
}

impl From<Patient> for PatientOut {
    fn from(p: Patient) -> Self {
        let age = p.age();
        Self {
            id: p.id,
            mrn: p.mrn,
            given_names: p.given_names,
            family_name: p.family_name,
            sex: p.sex.as_str().to_owned(),
            birth_date: p.birth_date,
            birth_date_estimated: p.birth_date_estimated,
            age,
            phone: p.phone,
            phone_alt: p.phone_alt,
            email: p.email,
            address_line: p.address_line,
            city: p.city,
            district: p.district,
            state: p.state,
            postal_code: p.postal_code,
            country: p.country,
            blood_group: p.blood_group,
            preferred_language: p.preferred_language,
            emergency_name: p.emergency_name,
            emergency_phone: p.emergency_phone,
            emergency_relation: p.emergency_relation,
            insurer: p.insurer,
            insurance_policy: p.insurance_policy,
            consent_sms: p.consent_sms,
            consent_email: p.consent_email,
            consent_research: p.consent_research,
            restricted: p.restricted,
            restricted_reason: p.restricted_reason,
            active: p.active,
            deceased_at: p.deceased_at,
            merged_into: p.merged_into,
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
            identifiers: p
                .identifiers
                .into_iter()
                .map(|i| IdentifierDto { system: i.system, value: i.value })
                .collect(),
            has_photo: p.has_photo,
        }
    }
}

/// A record that looks like the one being registered.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateOut {
    pub patient: PatientOut,
    pub score: f64,
    pub reasons: Vec<String>,
}

impl From<Duplicate> for DuplicateOut {
    fn from(d: Duplicate) -> Self {
        Self {
            patient: d.patient.into(),
            score: d.score,
            reasons: d.reasons.iter().map(|r| (*r).to_owned()).collect(),
        }
    }
}

/// Demographics to register or replace. Absent text fields are empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PatientIn {
    /// Required; a single name goes here.
    #[schema(
        required = true,
        pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$"
    )]
    pub given_names: String,
    pub family_name: String,
    /// female, male, other or unknown.
    #[schema(required = true, schema_with = coded::<salus_core::patients::Sex>)]
    pub sex: String,
    /// YYYY-MM-DD (or DD/MM/YYYY). Leave empty and give `age_years` when only the age is known.
    pub birth_date: String,
    pub age_years: Option<u32>,
    /// Any common format; numbers without a country code get the facility's.
    pub phone: String,
    pub phone_alt: String,
    pub email: String,
    pub address_line: String,
    pub city: String,
    pub district: String,
    pub state: String,
    pub postal_code: String,
    /// ISO 3166 two-letter code.
    pub country: String,
    pub blood_group: String,
    pub preferred_language: String,
    pub emergency_name: String,
    pub emergency_phone: String,
    pub emergency_relation: String,
    pub insurer: String,
    pub insurance_policy: String,
    pub consent_sms: bool,
    pub consent_email: bool,
    pub consent_research: bool,
    pub restricted: bool,
    pub restricted_reason: String,
    pub identifiers: Vec<IdentifierDto>,
    /// Registration only: the clerk checked the possible duplicates and this is someone else.
    pub not_a_duplicate: bool,
}

impl From<PatientIn> for (PatientInput, bool) {
    fn from(b: PatientIn) -> Self {
        (
            PatientInput {
                given_names: b.given_names,
                family_name: b.family_name,
                sex: b.sex,
                birth_date: b.birth_date,
                age_years: b.age_years,
                phone: b.phone,
                phone_alt: b.phone_alt,
                email: b.email,
                address_line: b.address_line,
                city: b.city,
                district: b.district,
                state: b.state,
                postal_code: b.postal_code,
                country: b.country,
                blood_group: b.blood_group,
                preferred_language: b.preferred_language,
                emergency_name: b.emergency_name,
                emergency_phone: b.emergency_phone,
                emergency_relation: b.emergency_relation,
                insurer: b.insurer,
                insurance_policy: b.insurance_policy,
                consent_sms: b.consent_sms,
                consent_email: b.consent_email,
                consent_research: b.consent_research,
                restricted: b.restricted,
                restricted_reason: b.restricted_reason,
                identifiers: b.identifiers.into_iter().map(|i| (i.system, i.value)).collect(),
            },
            b.not_a_duplicate,
        )
    }
}

fn patient_id(raw: &str) -> Result<PatientId, ApiError> {
    raw.parse().map_err(|_| ApiError::new(ProblemKind::NotFound, "patient not found"))
}

/// The record with its version as a strong ETag.
fn with_etag(status: StatusCode, p: Patient) -> Response {
    let version = p.version;
    super::with_etag(status, version, PatientOut::from(p))
}

/// `?q=&limit=&cursor=` of a search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Name (any order, typos forgiven), MRN, phone, identifier, date of birth, year, or a mix.
    #[param(pattern = "\\S")]
    pub q: String,
    /// Results per page, 1 to 100 (default 20).
    #[serde(default, deserialize_with = "crate::api::extract::bounded::<_, usize, 1, 100>")]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// One search result.
#[derive(Debug, Serialize, ToSchema)]
pub struct HitOut {
    pub patient: PatientOut,
    /// 0 to 1.
    pub score: f64,
}

/// Search patients
///
/// Ranked, paged; every patient returned is recorded in the audit trail. Needs `patients.read`.
#[utoipa::path(get, path = "/api/v1/patients", tag = "patients", params(SearchQuery),
    responses(
        (status = 200, description = "A page of matches, best first", body = Paged<HitOut>),
        (status = 400, description = "No query, or a bad cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
    ))]
async fn search_patients(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<Paged<HitOut>>, ApiError> {
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::fields(vec![FieldProblem {
            field: "limit".into(),
            message: "must be 1 to 100".into(),
        }]));
    }
    let offset = super::decode_cursor::<usize>(query.cursor.as_deref())?.unwrap_or(0);
    if query.q.trim().is_empty() {
        return Err(ApiError::fields(vec![FieldProblem {
            field: "q".into(),
            message: "type something to search for".into(),
        }]));
    }
    let (hits, more) = state.app.patients().search_patients(&ctx, &query.q, offset, limit).await?;
    let items =
        hits.into_iter().map(|h: SearchHit| HitOut { patient: h.patient.into(), score: h.score }).collect();
    Ok(Json(Paged::new(items, more.then_some(offset + limit))))
}

/// Register a patient
///
/// Gives the patient an MRN. When records on file look alike, answers 409
/// `possible-duplicates` listing them; send again with `not_a_duplicate: true` to register
/// anyway. Needs `patients.register`.
#[utoipa::path(post, path = "/api/v1/patients", tag = "patients", request_body = PatientIn,
    responses(
        (status = 201, description = "Registered; `ETag` is the version", body = PatientOut),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Possible duplicates (in `duplicates`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, or a unique identifier is taken", body = Problem, content_type = "application/problem+json"),
    ))]
async fn register_patient(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(body): ApiJson<PatientIn>,
) -> Result<Response, ApiError> {
    let (input, confirmed) = body.into();
    let done = state.app.patients().register_patient(&ctx, input, confirmed).await?;
    let location = format!("/api/v1/patients/{}", done.patient.id);
    let mut res = with_etag(StatusCode::CREATED, done.patient);
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// Read a patient
///
/// Audited. Staff need `patients.read` (and, for a restricted record, a break-the-glass
/// grant); a patient's own account reads only its own record.
#[utoipa::path(get, path = "/api/v1/patients/{id}", tag = "patients",
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "The patient; `ETag` is the version", body = PatientOut),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed, or restricted (`break-glass-required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient (or not yours)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_patient(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let p = state.app.patients().patient(&ctx, patient_id(&id)?).await?;
    Ok(with_etag(StatusCode::OK, p))
}

/// Edit a patient
///
/// Replaces the demographics. `If-Match` must carry the version edited; if someone changed
/// the record since, 409 `stale-version` with the record as it is now (in `current`).
#[utoipa::path(put, path = "/api/v1/patients/{id}", tag = "patients", request_body = PatientIn,
    params(("id" = String, Path, description = "Patient id"), ("If-Match" = String, Header, description = "The version edited")),
    responses(
        (status = 200, description = "Saved", body = PatientOut),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile (`current` holds it)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_patient(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PatientIn>,
) -> Result<Response, ApiError> {
    let id = patient_id(&id)?;
    let version = if_match(&headers)?;
    let (input, _) = body.into();
    let p = state.app.patients().update_patient(&ctx, id, version, input).await?;
    Ok(with_etag(StatusCode::OK, p))
}

/// A change of status.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusIn {
    /// false deactivates the record, true reactivates it.
    pub active: Option<bool>,
    /// Records the death at this time.
    pub deceased_at: Option<DateTime<Utc>>,
}

/// Deactivate, reactivate or record a death
#[utoipa::path(post, path = "/api/v1/patients/{id}/status", tag = "patients", request_body = StatusIn,
    params(("id" = String, Path, description = "Patient id"), ("If-Match" = String, Header, description = "The version edited")),
    responses(
        (status = 200, description = "Saved", body = PatientOut),
        (status = 409, description = "Changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Nothing to change, or a date in the future", body = Problem, content_type = "application/problem+json"),
    ))]
async fn set_status(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StatusIn>,
) -> Result<Response, ApiError> {
    let id = patient_id(&id)?;
    let version = if_match(&headers)?;
    let p = match (body.active, body.deceased_at) {
        (Some(active), None) => state.app.patients().set_patient_active(&ctx, id, version, active).await?,
        (None, Some(at)) => state.app.patients().record_death(&ctx, id, version, at).await?,
        _ => {
            return Err(ApiError::fields(vec![FieldProblem {
                field: "active".into(),
                message: "give either active or deceased_at".into(),
            }]));
        }
    };
    Ok(with_etag(StatusCode::OK, p))
}

/// Which record survives a merge.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeIn {
    #[schema(value_type = String, format = Uuid)]
    pub survivor_id: PatientId,
}

/// The result of a merge.
#[derive(Debug, Serialize, ToSchema)]
pub struct MergeOut {
    #[schema(value_type = String, format = Uuid)]
    pub merge_id: uuid::Uuid,
}

/// Merge a duplicate into another record
///
/// Everything linked to `{id}` moves to `survivor_id`, and `{id}` points there. Undo with
/// `unmerge`. Needs `patients.merge`.
#[utoipa::path(post, path = "/api/v1/patients/{id}/merge", tag = "patients", request_body = MergeIn,
    params(("id" = String, Path, description = "The duplicate")),
    responses(
        (status = 200, description = "Merged", body = MergeOut),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already merged", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Into itself, or into a merged record", body = Problem, content_type = "application/problem+json"),
    ))]
async fn merge_patient(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MergeIn>,
) -> Result<Json<MergeOut>, ApiError> {
    let merge_id = state.app.patients().merge_patients(&ctx, patient_id(&id)?, body.survivor_id).await?;
    Ok(Json(MergeOut { merge_id }))
}

/// Undo a merge
#[utoipa::path(post, path = "/api/v1/patients/{id}/unmerge", tag = "patients",
    params(("id" = String, Path, description = "The record that was merged away")),
    responses(
        (status = 204, description = "Separated again"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not merged", body = Problem, content_type = "application/problem+json"),
    ))]
async fn unmerge_patient(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.patients().unmerge_patient(&ctx, patient_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Why the glass is broken.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassIn {
    /// At least 10 characters; kept in the audit trail and shown to the administrator.
    pub reason: String,
}

/// Until when the record is open.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakGlassOut {
    pub expires_at: DateTime<Utc>,
}

/// Break the glass on a restricted record
///
/// Opens the record to the caller for a limited time. Audited with the reason and listed
/// for review. Needs `patients.break_glass` (clinicians).
#[utoipa::path(post, path = "/api/v1/patients/{id}/break-glass", tag = "patients", request_body = BreakGlassIn,
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "Open until `expires_at`", body = BreakGlassOut),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The record is not restricted", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason given", body = Problem, content_type = "application/problem+json"),
    ))]
async fn break_glass(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<BreakGlassIn>,
) -> Result<Json<BreakGlassOut>, ApiError> {
    let expires_at = state.app.patients().break_glass(&ctx, patient_id(&id)?, &body.reason).await?;
    Ok(Json(BreakGlassOut { expires_at }))
}

/// One line of the timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineOut {
    #[schema(value_type = String, format = Uuid)]
    pub id: uuid::Uuid,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub summary: String,
}

impl From<TimelineEntry> for TimelineOut {
    fn from(e: TimelineEntry) -> Self {
        Self { id: e.id, at: e.at, kind: e.kind, summary: e.summary }
    }
}

/// A page position of the timeline: `<time>|<id>` of the last entry seen.
pub struct TimelinePosition(pub DateTime<Utc>, pub uuid::Uuid);

impl std::str::FromStr for TimelinePosition {
    type Err = ();
    fn from_str(raw: &str) -> Result<Self, ()> {
        let (at, id) = raw.split_once('|').ok_or(())?;
        let at = DateTime::parse_from_rfc3339(at).map_err(|_| ())?.with_timezone(&Utc);
        Ok(Self(at, id.parse().map_err(|_| ())?))
    }
}

/// The chart's timeline
///
/// Newest first, paged by cursor. Audited.
#[utoipa::path(get, path = "/api/v1/patients/{id}/timeline", tag = "patients",
    params(("id" = String, Path, description = "Patient id"), super::Cursor),
    responses(
        (status = 200, description = "A page of the timeline", body = Paged<TimelineOut>),
        (status = 400, description = "A bad cursor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
    ))]
async fn timeline(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(id): Path<String>,
    ApiQuery(cursor): ApiQuery<super::Cursor>,
) -> Result<Json<Paged<TimelineOut>>, ApiError> {
    let id = patient_id(&id)?;
    let before = cursor.position::<TimelinePosition>()?.map(|p| (p.0, p.1));
    let limit = u64::from(cursor.limit.unwrap_or(50).clamp(1, 200));
    let entries = state.app.patients().timeline(&ctx, id, before, limit + 1).await?;
    let more = entries.len() as u64 > limit;
    let items: Vec<TimelineOut> = entries.into_iter().take(limit as usize).map(Into::into).collect();
    let next = if more { items.last().map(|e| format!("{}|{}", e.at.to_rfc3339(), e.id)) } else { None };
    Ok(Json(Paged::new(items, next)))
}

/// One field changed by an edit, as text (empty for no value).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryChangeOut {
    /// The field's name as in a patient; `identifiers` holds them all as `system:value, …`.
    pub field: String,
    pub old: String,
    pub new: String,
}

/// One edit.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryOut {
    pub version: i32,
    pub changed_at: DateTime<Utc>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub changed_by: Option<uuid::Uuid>,
    pub changes: Vec<HistoryChangeOut>,
}

impl From<HistoryEntry> for HistoryOut {
    fn from(h: HistoryEntry) -> Self {
        Self {
            version: h.version,
            changed_at: h.changed_at,
            changed_by: h.changed_by,
            // Written by the edit as this list; a row that is not one shows no changes.
            changes: serde_json::from_value(h.changes).unwrap_or_default(),
        }
    }
}

/// The record's edit history
///
/// Who changed which field from what to what, newest first. Audited.
#[utoipa::path(get, path = "/api/v1/patients/{id}/history", tag = "patients",
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "Edits, newest first", body = Vec<HistoryOut>),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
    ))]
async fn history(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<HistoryOut>>, ApiError> {
    let rows = state.app.patients().patient_history(&ctx, patient_id(&id)?).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// The photo
#[utoipa::path(get, path = "/api/v1/patients/{id}/photo", tag = "patients",
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "The image", content_type = "image/*"),
        (status = 404, description = "No such patient or no photo", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_photo(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let photo = state.app.patients().patient_photo(&ctx, patient_id(&id)?).await?;
    Ok(photo_response(photo))
}

pub fn photo_response(photo: salus_app::patients::Photo) -> Response {
    let mut res = photo.data.into_response();
    if let Ok(v) = HeaderValue::from_str(&photo.content_type) {
        res.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    res
}

/// Replace the photo
///
/// The body is the image itself: JPEG, PNG or WebP, at most 3 MiB (checked by content).
#[utoipa::path(put, path = "/api/v1/patients/{id}/photo", tag = "patients",
    params(("id" = String, Path, description = "Patient id")),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses(
        (status = 204, description = "Saved"),
        (status = 413, description = "Larger than the body limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an image, or over 3 MiB", body = Problem, content_type = "application/problem+json"),
    ))]
async fn put_photo(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    state.app.patients().set_patient_photo(&ctx, patient_id(&id)?, body.to_vec()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A registration that looks like records on file (409): `duplicates` lists them, best first.
pub const POSSIBLE_DUPLICATES: ProblemKind =
    ProblemKind::new("possible-duplicates", StatusCode::CONFLICT, "This patient may already be registered");

/// The `duplicates` member of a possible-duplicates problem.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Duplicates(pub Vec<DuplicateOut>);

impl crate::error::ProblemExtension for Duplicates {
    const MEMBER: &'static str = "duplicates";
}

pub(crate) fn possible_duplicates(found: Vec<Duplicate>) -> ApiError {
    ApiError::new(
        POSSIBLE_DUPLICATES,
        "records on file look like this patient; open one of them, or send not_a_duplicate: true",
    )
    .with(&Duplicates(found.into_iter().map(Into::into).collect()))
}
