//! Patients: the record (its shape close to FHIR Patient, so the FHIR door can map it
//! field for field), search, registration, reading and editing with `If-Match` on the
//! version. A record's life — status, merge and unmerge, break the glass — is in
//! `lifecycle`; what the chart shows around it — timeline, history, photo — in `chart`.

mod chart;
mod lifecycle;

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use salus_app::identity::Permission;
use salus_app::patients::{Duplicate, Patient, PatientInput, SearchHit};
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
];
pub(crate) use chart::ROUTES as CHART_ROUTES;
pub(crate) use chart::{TimelinePosition, photo_response};
pub(crate) use lifecycle::ROUTES as LIFECYCLE_ROUTES;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_patients, register_patient))
        .routes(routes!(get_patient, update_patient))
        .merge(lifecycle::routes())
        .merge(chart::routes())
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
