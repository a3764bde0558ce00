//! Staff profiles: the account with what the hospital records of the person (a doctor's
//! registration, specialisation, department and consultation fee).

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use salus_app::identity::Permission;
use salus_app::organisation::{Amount, StaffMember, StaffProfileInput, StaffQuery};
use salus_core::page::PageRequest;
use salus_core::{DepartmentId, Role, SpecialisationId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::openapi::coded_list;
use crate::api::{ApiJson, ApiQuery, ApiUser, Paged, decode_cursor, if_match, with_etag};
use crate::error::{ApiError, Problem};

use super::id;

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/api/v1/staff", Access::Permission(Permission::OrganisationRead)),
    route("/api/v1/staff/{id}", Access::Permission(Permission::OrganisationRead)),
];

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_staff)).routes(routes!(get_staff, update_staff))
}

/// A staff member: the account and the profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffOut {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    #[schema(schema_with = coded_list::<Role>)]
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
    #[param(value_type = Option<String>, pattern = "^(admin|doctor|nurse|receptionist|lab_technician|pharmacist|billing|patient)$")]
    pub role: Option<Role>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub department_id: Option<DepartmentId>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub specialisation_id: Option<SpecialisationId>,
    /// Include disabled accounts (default false).
    #[serde(default)]
    pub include_inactive: bool,
    /// 1 to 200 (default 50).
    #[serde(default, deserialize_with = "crate::api::extract::bounded::<_, u32, 1, 200>")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
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
    let found = state.app.organisation().staff(&ctx, &query, page).await?;
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
    let m = state.app.organisation().staff_member(&ctx, id(&raw, "staff member")?).await?;
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
    let m = state.app.organisation().save_staff_profile(&ctx, uid, version, input).await?;
    let version = m.profile.version;
    Ok(with_etag(StatusCode::OK, version, staff_out(m, state.app.currency.code())))
}
