//! The organisation: facilities, departments, specialisations, staff profiles and the
//! service and price list. Staff read them; administrators create and edit them, each edit
//! against the version it started from (`If-Match`, as for patients). Money is integer
//! minor units of the installation's currency (named in each price); tax rates are basis
//! points (1800 = 18 %).
//!
//! This module has facilities, departments and specialisations; `staff` the staff
//! profiles; `services` the price list; `codes` patient identifier types and ICD-10-CM.

pub(super) mod codes;
pub(super) mod services;
pub(super) mod staff;

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use salus_app::identity::Permission;
use salus_app::organisation::{
    Department, DepartmentInput, Facility, FacilityInput, Specialisation, SpecialisationInput,
};
use salus_core::{DepartmentId, FacilityId, SpecialisationId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiQuery, ApiUser, Paged, if_match, with_etag};
use crate::AppState;
use crate::error::{ApiError, Problem, ProblemKind};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    // The organisation: staff read it, the use cases let only administrators change it.
    route("/api/v1/facilities", Access::Permission(Permission::OrganisationRead)),
    route("/api/v1/facilities/{id}", Access::Permission(Permission::OrganisationRead)),
    route("/api/v1/departments", Access::Permission(Permission::OrganisationRead)),
    route("/api/v1/departments/{id}", Access::Permission(Permission::OrganisationRead)),
    route("/api/v1/specialisations", Access::Permission(Permission::OrganisationRead)),
    route("/api/v1/specialisations/{id}", Access::Permission(Permission::OrganisationRead)),
];

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_facilities, create_facility))
        .routes(routes!(get_facility, update_facility))
        .routes(routes!(list_departments, create_department))
        .routes(routes!(get_department, update_department))
        .routes(routes!(list_specialisations, create_specialisation))
        .routes(routes!(get_specialisation, update_specialisation))
        .merge(staff::routes())
        .merge(services::routes())
        .merge(codes::routes())
}

pub(super) fn id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::new(ProblemKind::NotFound, format!("{what} not found")))
}

pub(super) fn active_default() -> bool {
    true
}

/// A hospital, clinic or other site.
#[derive(Debug, Serialize, ToSchema)]
pub struct FacilityOut {
    #[schema(value_type = String, format = Uuid)]
    pub id: FacilityId,
    pub code: String,
    pub name: String,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub active: bool,
    /// Send as `If-Match` to edit.
    pub version: i32,
}

impl From<Facility> for FacilityOut {
    fn from(f: Facility) -> Self {
        Self {
            id: f.id,
            code: f.code,
            name: f.name,
            address: f.address,
            phone: f.phone,
            active: f.active,
            version: f.version,
        }
    }
}

/// A facility to create or the whole of one to save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacilityIn {
    /// 1–32 of letters, digits, `-`, `_`, `.`; stored upper-case; unique.
    #[schema(min_length = 1, max_length = 40, pattern = "^\\s*[A-Za-z0-9._-]{1,32}\\s*$")]
    pub code: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$"
    )]
    pub name: String,
    #[schema(max_length = 500, pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$")]
    pub address: Option<String>,
    #[schema(max_length = 32, pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$")]
    pub phone: Option<String>,
    /// false retires it (default true).
    #[serde(default = "active_default")]
    pub active: bool,
}

impl From<FacilityIn> for FacilityInput {
    fn from(b: FacilityIn) -> Self {
        Self {
            code: b.code,
            name: b.name,
            address: b.address.unwrap_or_default(),
            phone: b.phone.unwrap_or_default(),
            active: b.active,
        }
    }
}

fn facility_response(status: StatusCode, f: Facility) -> Response {
    let version = f.version;
    with_etag(status, version, FacilityOut::from(f))
}

/// List facilities
#[utoipa::path(get, path = "/api/v1/facilities", tag = "organisation",
    responses(
        (status = 200, description = "Every facility, by name", body = Paged<FacilityOut>),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_facilities(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
) -> Result<Json<Paged<FacilityOut>>, ApiError> {
    let items = state.app.organisation().facilities(&ctx).await?.into_iter().map(FacilityOut::from).collect();
    Ok(Json(Paged::new(items, None::<String>)))
}

/// Create a facility
///
/// Needs `organisation.manage`.
#[utoipa::path(post, path = "/api/v1/facilities", tag = "organisation", request_body = FacilityIn,
    responses(
        (status = 201, description = "Created", body = FacilityOut),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, or the code is taken", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_facility(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(body): ApiJson<FacilityIn>,
) -> Result<Response, ApiError> {
    let f = state.app.organisation().create_facility(&ctx, body.into()).await?;
    Ok(facility_response(StatusCode::CREATED, f))
}

/// Read a facility
#[utoipa::path(get, path = "/api/v1/facilities/{id}", tag = "organisation",
    params(("id" = String, Path, description = "Facility id")),
    responses(
        (status = 200, description = "The facility (ETag: its version)", body = FacilityOut),
        (status = 404, description = "No such facility", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_facility(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let f = state.app.organisation().facility(&ctx, id(&raw, "facility")?).await?;
    Ok(facility_response(StatusCode::OK, f))
}

/// Edit a facility
///
/// Replaces it; `If-Match` carries the version edited (409 if someone saved since).
#[utoipa::path(put, path = "/api/v1/facilities/{id}", tag = "organisation", request_body = FacilityIn,
    params(("id" = String, Path, description = "Facility id"), ("If-Match" = String, Header, description = "The version edited")),
    responses(
        (status = 200, description = "Saved", body = FacilityOut),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such facility", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_facility(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<FacilityIn>,
) -> Result<Response, ApiError> {
    let (fid, version) = (id(&raw, "facility")?, if_match(&headers)?);
    let f = state.app.organisation().update_facility(&ctx, fid, version, body.into()).await?;
    Ok(facility_response(StatusCode::OK, f))
}

/// A department of a facility.
#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentOut {
    #[schema(value_type = String, format = Uuid)]
    pub id: DepartmentId,
    #[schema(value_type = String, format = Uuid)]
    pub facility_id: FacilityId,
    pub code: String,
    pub name: String,
    pub active: bool,
    pub version: i32,
}

impl From<Department> for DepartmentOut {
    fn from(d: Department) -> Self {
        Self {
            id: d.id,
            facility_id: d.facility_id,
            code: d.code,
            name: d.name,
            active: d.active,
            version: d.version,
        }
    }
}

/// A department to create or save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentIn {
    #[schema(value_type = String, format = Uuid)]
    pub facility_id: FacilityId,
    /// Unique within the facility.
    #[schema(min_length = 1, max_length = 40, pattern = "^\\s*[A-Za-z0-9._-]{1,32}\\s*$")]
    pub code: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$"
    )]
    pub name: String,
    #[serde(default = "active_default")]
    pub active: bool,
}

impl From<DepartmentIn> for DepartmentInput {
    fn from(b: DepartmentIn) -> Self {
        Self { facility_id: b.facility_id, code: b.code, name: b.name, active: b.active }
    }
}

fn department_response(status: StatusCode, d: Department) -> Response {
    let version = d.version;
    with_etag(status, version, DepartmentOut::from(d))
}

/// `?facility_id=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DepartmentsQuery {
    /// Only this facility's departments.
    #[param(value_type = Option<String>, format = Uuid)]
    pub facility_id: Option<FacilityId>,
}

/// List departments
#[utoipa::path(get, path = "/api/v1/departments", tag = "organisation", params(DepartmentsQuery),
    responses(
        (status = 200, description = "Departments by facility and name", body = Paged<DepartmentOut>),
        (status = 400, description = "A malformed facility id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_departments(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<DepartmentsQuery>,
) -> Result<Json<Paged<DepartmentOut>>, ApiError> {
    let items = state
        .app
        .organisation()
        .departments(&ctx, q.facility_id)
        .await?
        .into_iter()
        .map(DepartmentOut::from)
        .collect();
    Ok(Json(Paged::new(items, None::<String>)))
}

/// Create a department
#[utoipa::path(post, path = "/api/v1/departments", tag = "organisation", request_body = DepartmentIn,
    responses(
        (status = 201, description = "Created", body = DepartmentOut),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, no such facility, or the code is taken there", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_department(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(body): ApiJson<DepartmentIn>,
) -> Result<Response, ApiError> {
    let d = state.app.organisation().create_department(&ctx, body.into()).await?;
    Ok(department_response(StatusCode::CREATED, d))
}

/// Read a department
#[utoipa::path(get, path = "/api/v1/departments/{id}", tag = "organisation",
    params(("id" = String, Path, description = "Department id")),
    responses(
        (status = 200, description = "The department", body = DepartmentOut),
        (status = 404, description = "No such department", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_department(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let d = state.app.organisation().department(&ctx, id(&raw, "department")?).await?;
    Ok(department_response(StatusCode::OK, d))
}

/// Edit a department
#[utoipa::path(put, path = "/api/v1/departments/{id}", tag = "organisation", request_body = DepartmentIn,
    params(("id" = String, Path, description = "Department id"), ("If-Match" = String, Header, description = "The version edited")),
    responses(
        (status = 200, description = "Saved", body = DepartmentOut),
        (status = 404, description = "No such department", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_department(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<DepartmentIn>,
) -> Result<Response, ApiError> {
    let (did, version) = (id(&raw, "department")?, if_match(&headers)?);
    let d = state.app.organisation().update_department(&ctx, did, version, body.into()).await?;
    Ok(department_response(StatusCode::OK, d))
}

/// A medical specialisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpecialisationOut {
    #[schema(value_type = String, format = Uuid)]
    pub id: SpecialisationId,
    pub code: String,
    pub name: String,
    pub active: bool,
    pub version: i32,
}

impl From<Specialisation> for SpecialisationOut {
    fn from(s: Specialisation) -> Self {
        Self { id: s.id, code: s.code, name: s.name, active: s.active, version: s.version }
    }
}

/// A specialisation to create or save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecialisationIn {
    #[schema(min_length = 1, max_length = 40, pattern = "^\\s*[A-Za-z0-9._-]{1,32}\\s*$")]
    pub code: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$"
    )]
    pub name: String,
    #[serde(default = "active_default")]
    pub active: bool,
}

impl From<SpecialisationIn> for SpecialisationInput {
    fn from(b: SpecialisationIn) -> Self {
        Self { code: b.code, name: b.name, active: b.active }
    }
}

fn specialisation_response(status: StatusCode, s: Specialisation) -> Response {
    let version = s.version;
    with_etag(status, version, SpecialisationOut::from(s))
}

/// List specialisations
#[utoipa::path(get, path = "/api/v1/specialisations", tag = "organisation",
    responses(
        (status = 200, description = "Every specialisation, by name", body = Paged<SpecialisationOut>),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_specialisations(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
) -> Result<Json<Paged<SpecialisationOut>>, ApiError> {
    let items = state
        .app
        .organisation()
        .specialisations(&ctx)
        .await?
        .into_iter()
        .map(SpecialisationOut::from)
        .collect();
    Ok(Json(Paged::new(items, None::<String>)))
}

/// Create a specialisation
#[utoipa::path(post, path = "/api/v1/specialisations", tag = "organisation", request_body = SpecialisationIn,
    responses(
        (status = 201, description = "Created", body = SpecialisationOut),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, or the code is taken", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_specialisation(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(body): ApiJson<SpecialisationIn>,
) -> Result<Response, ApiError> {
    let s = state.app.organisation().create_specialisation(&ctx, body.into()).await?;
    Ok(specialisation_response(StatusCode::CREATED, s))
}

/// Read a specialisation
#[utoipa::path(get, path = "/api/v1/specialisations/{id}", tag = "organisation",
    params(("id" = String, Path, description = "Specialisation id")),
    responses(
        (status = 200, description = "The specialisation", body = SpecialisationOut),
        (status = 404, description = "No such specialisation", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_specialisation(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let s = state.app.organisation().specialisation(&ctx, id(&raw, "specialisation")?).await?;
    Ok(specialisation_response(StatusCode::OK, s))
}

/// Edit a specialisation
#[utoipa::path(put, path = "/api/v1/specialisations/{id}", tag = "organisation", request_body = SpecialisationIn,
    params(("id" = String, Path, description = "Specialisation id"), ("If-Match" = String, Header, description = "The version edited")),
    responses(
        (status = 200, description = "Saved", body = SpecialisationOut),
        (status = 404, description = "No such specialisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_specialisation(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SpecialisationIn>,
) -> Result<Response, ApiError> {
    let (sid, version) = (id(&raw, "specialisation")?, if_match(&headers)?);
    let s = state.app.organisation().update_specialisation(&ctx, sid, version, body.into()).await?;
    Ok(specialisation_response(StatusCode::OK, s))
}
