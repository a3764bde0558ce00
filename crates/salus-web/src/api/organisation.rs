//! The organisation: facilities, departments, specialisations, staff profiles and the
//! service and price list. Staff read them; administrators create and edit them, each edit
//! against the version it started from (`If-Match`, as for patients). Money is integer
//! minor units of the installation's currency (named in each price); tax rates are basis
//! points (1800 = 18 %).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use salus_app::organisation::{
    Amount, Department, DepartmentInput, Facility, FacilityInput, Percent, Service, ServiceInput,
    ServiceQuery, Specialisation, SpecialisationInput, StaffMember, StaffProfileInput, StaffQuery,
};
use salus_core::page::PageRequest;
use salus_core::{DepartmentId, FacilityId, Role, ServiceCategory, ServiceId, SpecialisationId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiQuery, ApiUser, Paged, decode_cursor, if_match, with_etag};
use crate::AppState;
use crate::error::{ApiError, Problem, ProblemKind};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_facilities, create_facility))
        .routes(routes!(get_facility, update_facility))
        .routes(routes!(list_departments, create_department))
        .routes(routes!(get_department, update_department))
        .routes(routes!(list_specialisations, create_specialisation))
        .routes(routes!(get_specialisation, update_specialisation))
        .routes(routes!(list_staff))
        .routes(routes!(get_staff, update_staff))
        .routes(routes!(list_services, create_service))
        .routes(routes!(get_service, update_service))
        .routes(routes!(list_identifier_types, create_identifier_type))
        .routes(routes!(update_identifier_type))
        .routes(routes!(search_icd10))
}

fn id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::new(ProblemKind::NotFound, format!("{what} not found")))
}

fn active_default() -> bool {
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
    pub code: String,
    pub name: String,
    pub address: Option<String>,
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
    let items = state.app.facilities(&ctx).await?.into_iter().map(FacilityOut::from).collect();
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
    let f = state.app.create_facility(&ctx, body.into()).await?;
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
    let f = state.app.facility(&ctx, id(&raw, "facility")?).await?;
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
    let f = state.app.update_facility(&ctx, fid, version, body.into()).await?;
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
    pub code: String,
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
    let items =
        state.app.departments(&ctx, q.facility_id).await?.into_iter().map(DepartmentOut::from).collect();
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
    let d = state.app.create_department(&ctx, body.into()).await?;
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
    let d = state.app.department(&ctx, id(&raw, "department")?).await?;
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
    let d = state.app.update_department(&ctx, did, version, body.into()).await?;
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
    pub code: String,
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
    let items = state.app.specialisations(&ctx).await?.into_iter().map(SpecialisationOut::from).collect();
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
    let s = state.app.create_specialisation(&ctx, body.into()).await?;
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
    let s = state.app.specialisation(&ctx, id(&raw, "specialisation")?).await?;
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
    let s = state.app.update_specialisation(&ctx, sid, version, body.into()).await?;
    Ok(specialisation_response(StatusCode::OK, s))
}

/// A staff member: the account and the profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffOut {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<Role>,
    pub active: bool,
    pub job_title: Option<String>,
    pub qualifications: Option<String>,
    pub registration_council: Option<String>,
    pub registration_number: Option<String>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub specialisation_id: Option<SpecialisationId>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub department_id: Option<DepartmentId>,
    /// Minor units of `currency`.
    pub consultation_fee_minor: Option<i64>,
    pub currency: String,
    /// 0 until the profile is first saved; send as `If-Match`.
    pub version: i32,
}

fn staff_out(m: StaffMember, currency: &str) -> StaffOut {
    StaffOut {
        user_id: m.user.id,
        username: m.user.username,
        display_name: m.user.display_name,
        roles: m.user.roles,
        active: m.user.active,
        job_title: m.profile.job_title,
        qualifications: m.profile.qualifications,
        registration_council: m.profile.registration_council,
        registration_number: m.profile.registration_number,
        specialisation_id: m.profile.specialisation_id,
        department_id: m.profile.department_id,
        consultation_fee_minor: m.profile.consultation_fee.map(|f| f.minor()),
        currency: currency.to_owned(),
        version: m.profile.version,
    }
}

/// A profile to save (the whole of it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffProfileIn {
    pub job_title: Option<String>,
    pub qualifications: Option<String>,
    /// The council that registered the professional (e.g. "Karnataka Medical Council").
    pub registration_council: Option<String>,
    /// Required of doctors; one registration belongs to one person.
    pub registration_number: Option<String>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub specialisation_id: Option<SpecialisationId>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub department_id: Option<DepartmentId>,
    /// Minor units of the installation's currency.
    pub consultation_fee_minor: Option<i64>,
}

/// `?role=&department_id=&specialisation_id=&include_inactive=&limit=&cursor=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StaffListQuery {
    /// Only holders of this role (doctor, nurse…).
    #[param(value_type = Option<String>)]
    pub role: Option<Role>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub department_id: Option<DepartmentId>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub specialisation_id: Option<SpecialisationId>,
    /// Include disabled accounts (default false).
    #[serde(default)]
    pub include_inactive: bool,
    /// 1 to 200 (default 50).
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// List staff
///
/// Accounts holding a staff role, with their profiles, in account order. Filter by role to
/// list the doctors of a department or specialisation.
#[utoipa::path(get, path = "/api/v1/staff", tag = "organisation", params(StaffListQuery),
    responses(
        (status = 200, description = "A page of staff", body = Paged<StaffOut>),
        (status = 400, description = "A malformed filter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_staff(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<StaffListQuery>,
) -> Result<Json<Paged<StaffOut>>, ApiError> {
    let query = StaffQuery {
        role: q.role,
        department_id: q.department_id,
        specialisation_id: q.specialisation_id,
        include_inactive: q.include_inactive,
    };
    let page = PageRequest::new(decode_cursor::<UserId>(q.cursor.as_deref())?, q.limit);
    let found = state.app.staff(&ctx, &query, page).await?;
    let currency = state.app.currency.code();
    Ok(Json(Paged::new(found.items.into_iter().map(|m| staff_out(m, currency)).collect(), found.next)))
}

/// Read a staff member
#[utoipa::path(get, path = "/api/v1/staff/{id}", tag = "organisation",
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "The staff member (ETag: the profile's version)", body = StaffOut),
        (status = 404, description = "No such staff member (a patient's account is not staff)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_staff(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let m = state.app.staff_member(&ctx, id(&raw, "staff member")?).await?;
    let version = m.profile.version;
    Ok(with_etag(StatusCode::OK, version, staff_out(m, state.app.currency.code())))
}

/// Save a staff profile
///
/// `If-Match` carries the profile's version ("0" for the first save).
#[utoipa::path(put, path = "/api/v1/staff/{id}", tag = "organisation", request_body = StaffProfileIn,
    params(("id" = String, Path, description = "User id"), ("If-Match" = String, Header, description = "The version edited")),
    responses(
        (status = 200, description = "Saved", body = StaffOut),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such staff member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, or the registration is someone else's", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_staff(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<StaffProfileIn>,
) -> Result<Response, ApiError> {
    let (uid, version) = (id(&raw, "staff member")?, if_match(&headers)?);
    let input = StaffProfileInput {
        job_title: b.job_title.unwrap_or_default(),
        qualifications: b.qualifications.unwrap_or_default(),
        registration_council: b.registration_council.unwrap_or_default(),
        registration_number: b.registration_number.unwrap_or_default(),
        specialisation_id: b.specialisation_id,
        department_id: b.department_id,
        consultation_fee: b.consultation_fee_minor.map(Amount::Minor),
    };
    let m = state.app.save_staff_profile(&ctx, uid, version, input).await?;
    let version = m.profile.version;
    Ok(with_etag(StatusCode::OK, version, staff_out(m, state.app.currency.code())))
}

/// An entry of the price list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceOut {
    #[schema(value_type = String, format = Uuid)]
    pub id: ServiceId,
    pub code: String,
    pub name: String,
    /// consultation, procedure, laboratory, imaging, bed_day, pharmacy or other.
    #[schema(value_type = String)]
    pub category: ServiceCategory,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub department_id: Option<DepartmentId>,
    /// Minor units of `currency`, before tax.
    pub price_minor: i64,
    pub currency: String,
    /// Basis points: 1800 is 18 %.
    pub tax_rate_bp: u32,
    pub active: bool,
    pub version: i32,
}

fn service_out(s: Service, currency: &str) -> ServiceOut {
    ServiceOut {
        id: s.id,
        code: s.code,
        name: s.name,
        category: s.category,
        department_id: s.department_id,
        price_minor: s.price.minor(),
        currency: currency.to_owned(),
        tax_rate_bp: s.tax_rate.basis_points(),
        active: s.active,
        version: s.version,
    }
}

/// A service to create or save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceIn {
    /// Unique; stored upper-case.
    pub code: String,
    pub name: String,
    /// consultation, procedure, laboratory, imaging, bed_day, pharmacy or other.
    pub category: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub department_id: Option<DepartmentId>,
    /// Minor units of the installation's currency, not negative.
    pub price_minor: i64,
    /// Basis points, 0 to 10000 (default 0).
    #[serde(default)]
    pub tax_rate_bp: u32,
    #[serde(default = "active_default")]
    pub active: bool,
}

impl From<ServiceIn> for ServiceInput {
    fn from(b: ServiceIn) -> Self {
        Self {
            code: b.code,
            name: b.name,
            category: b.category,
            department_id: b.department_id,
            price: Amount::Minor(b.price_minor),
            tax_rate: Percent::BasisPoints(b.tax_rate_bp),
            active: b.active,
        }
    }
}

/// `?q=&category=&department_id=&include_inactive=&limit=&cursor=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServicesQuery {
    /// Part of the code or name.
    pub q: Option<String>,
    #[param(value_type = Option<String>)]
    pub category: Option<ServiceCategory>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub department_id: Option<DepartmentId>,
    #[serde(default)]
    pub include_inactive: bool,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// List the price list
#[utoipa::path(get, path = "/api/v1/services", tag = "organisation", params(ServicesQuery),
    responses(
        (status = 200, description = "A page of services in code order", body = Paged<ServiceOut>),
        (status = 400, description = "A malformed filter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_services(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<ServicesQuery>,
) -> Result<Json<Paged<ServiceOut>>, ApiError> {
    let query = ServiceQuery {
        text: q.q,
        category: q.category,
        department_id: q.department_id,
        include_inactive: q.include_inactive,
    };
    let page = PageRequest::new(decode_cursor::<String>(q.cursor.as_deref())?, q.limit);
    let found = state.app.services(&ctx, &query, page).await?;
    let currency = state.app.currency.code();
    Ok(Json(Paged::new(found.items.into_iter().map(|s| service_out(s, currency)).collect(), found.next)))
}

/// Add a service to the price list
#[utoipa::path(post, path = "/api/v1/services", tag = "organisation", request_body = ServiceIn,
    responses(
        (status = 201, description = "Created", body = ServiceOut),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, or the code is taken", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_service(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(body): ApiJson<ServiceIn>,
) -> Result<Response, ApiError> {
    let s = state.app.create_service(&ctx, body.into()).await?;
    let version = s.version;
    Ok(with_etag(StatusCode::CREATED, version, service_out(s, state.app.currency.code())))
}

/// Read a service
#[utoipa::path(get, path = "/api/v1/services/{id}", tag = "organisation",
    params(("id" = String, Path, description = "Service id")),
    responses(
        (status = 200, description = "The service", body = ServiceOut),
        (status = 404, description = "No such service", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_service(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let s = state.app.service(&ctx, id(&raw, "service")?).await?;
    let version = s.version;
    Ok(with_etag(StatusCode::OK, version, service_out(s, state.app.currency.code())))
}

/// Edit a service
///
/// Bills already made keep the price they were made with.
#[utoipa::path(put, path = "/api/v1/services/{id}", tag = "organisation", request_body = ServiceIn,
    params(("id" = String, Path, description = "Service id"), ("If-Match" = String, Header, description = "The version edited")),
    responses(
        (status = 200, description = "Saved", body = ServiceOut),
        (status = 404, description = "No such service", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_service(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ServiceIn>,
) -> Result<Response, ApiError> {
    let (sid, version) = (id(&raw, "service")?, if_match(&headers)?);
    let s = state.app.update_service(&ctx, sid, version, body.into()).await?;
    let version = s.version;
    Ok(with_etag(StatusCode::OK, version, service_out(s, state.app.currency.code())))
}

/// A kind of patient identifier.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentifierTypeOut {
    /// The identifier's `system` in patient records (`national_id`, `passport`…).
    pub code: String,
    pub name: String,
    /// Whether two patients may not share a value (fixed when the type is created).
    pub is_unique: bool,
    /// Offered for new identifiers.
    pub active: bool,
}

/// A new identifier type.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifierTypeIn {
    /// 2–32 of `a-z 0-9 _`, starting with a letter.
    pub code: String,
    pub name: String,
    pub is_unique: bool,
}

/// A rename or retirement.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifierTypeEdit {
    pub name: String,
    pub active: bool,
}

/// List identifier types
#[utoipa::path(get, path = "/api/v1/identifier-types", tag = "organisation",
    responses(
        (status = 200, description = "Every type, by name", body = Paged<IdentifierTypeOut>),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_identifier_types(
    State(state): State<AppState>,
    ApiUser(_u, _ctx): ApiUser,
) -> Result<Json<Paged<IdentifierTypeOut>>, ApiError> {
    let items = state
        .app
        .identifier_types()
        .await?
        .into_iter()
        .map(|t| IdentifierTypeOut { code: t.code, name: t.name, is_unique: t.is_unique, active: t.active })
        .collect();
    Ok(Json(Paged::new(items, None::<String>)))
}

/// Create an identifier type
///
/// Whether values are unique is fixed here: stored identifiers carry their unique key
/// from the day they are written.
#[utoipa::path(post, path = "/api/v1/identifier-types", tag = "organisation", request_body = IdentifierTypeIn,
    responses(
        (status = 201, description = "Created", body = IdentifierTypeOut),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, or the code is taken", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_identifier_type(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<IdentifierTypeIn>,
) -> Result<(StatusCode, Json<IdentifierTypeOut>), ApiError> {
    let t = state.app.create_identifier_type(&ctx, &b.code, &b.name, b.is_unique).await?;
    let out = IdentifierTypeOut { code: t.code, name: t.name, is_unique: t.is_unique, active: t.active };
    Ok((StatusCode::CREATED, Json(out)))
}

/// Rename or retire an identifier type
#[utoipa::path(put, path = "/api/v1/identifier-types/{code}", tag = "organisation", request_body = IdentifierTypeEdit,
    params(("code" = String, Path, description = "Type code")),
    responses(
        (status = 204, description = "Saved"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such type", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A blank or too long name", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_identifier_type(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<IdentifierTypeEdit>,
) -> Result<StatusCode, ApiError> {
    state.app.update_identifier_type(&ctx, &code, &b.name, b.active).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?q=&limit=&billable=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IcdQuery {
    /// A code or its start ("E11.6", "e116"), or words each starting a word of the
    /// description ("diab type 2").
    pub q: String,
    /// 1 to 50 (default 20).
    pub limit: Option<usize>,
    /// Only codes a diagnosis or a claim may carry (default false).
    #[serde(default)]
    pub billable: bool,
}

/// An ICD-10-CM code.
#[derive(Debug, Serialize, ToSchema)]
pub struct IcdOut {
    pub code: String,
    pub description: String,
    pub billable: bool,
}

/// Search ICD-10-CM
///
/// The full 2026 CDC list (98,147 codes), carried by the binary; billable codes first.
#[utoipa::path(get, path = "/api/v1/icd10", tag = "organisation", params(IcdQuery),
    responses(
        (status = 200, description = "Matching codes, best first", body = Paged<IcdOut>),
        (status = 400, description = "No q", body = Problem, content_type = "application/problem+json"),
    ))]
async fn search_icd10(
    ApiUser(_u, _ctx): ApiUser,
    ApiQuery(q): ApiQuery<IcdQuery>,
) -> Result<Json<Paged<IcdOut>>, ApiError> {
    let limit = q.limit.unwrap_or(20).clamp(1, 50);
    let items = salus_app::clinical::icd::IcdCatalog::get()
        .search(&q.q, limit, q.billable)
        .into_iter()
        .map(|c| IcdOut { code: c.code.clone(), description: c.description.clone(), billable: c.billable })
        .collect();
    Ok(Json(Paged::new(items, None::<String>)))
}
