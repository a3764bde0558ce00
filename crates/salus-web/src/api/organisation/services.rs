//! The service and price list: prices in minor units of the installation's currency, tax
//! rates in basis points.

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use salus_app::identity::Permission;
use salus_app::organisation::{Amount, Percent, Service, ServiceInput, ServiceQuery};
use salus_core::page::PageRequest;
use salus_core::{DepartmentId, ServiceCategory, ServiceId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::{ApiJson, ApiQuery, ApiUser, Paged, decode_cursor, if_match, with_etag};
use crate::error::{ApiError, Problem};

use super::{active_default, id};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/api/v1/services", Access::Permission(Permission::OrganisationRead)),
    route("/api/v1/services/{id}", Access::Permission(Permission::OrganisationRead)),
];

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_services, create_service))
        .routes(routes!(get_service, update_service))
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
    #[schema(min_length = 1, max_length = 40, pattern = "^\\s*[A-Za-z0-9._-]{1,32}\\s*$")]
    pub code: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$"
    )]
    pub name: String,
    /// consultation, procedure, laboratory, imaging, bed_day, pharmacy or other.
    #[schema(pattern = "^(consultation|procedure|laboratory|imaging|bed_day|pharmacy|other)$")]
    pub category: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub department_id: Option<DepartmentId>,
    /// Minor units of the installation's currency, not negative.
    #[schema(minimum = 0)]
    pub price_minor: i64,
    /// Basis points, 0 to 10000 (default 0).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10000)]
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
    #[param(value_type = Option<String>, pattern = "^(consultation|procedure|laboratory|imaging|bed_day|pharmacy|other)$")]
    pub category: Option<ServiceCategory>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub department_id: Option<DepartmentId>,
    #[serde(default)]
    pub include_inactive: bool,
    /// 1 to 200 (default 50).
    #[serde(default, deserialize_with = "crate::api::extract::bounded::<_, u32, 1, 200>")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
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
    let found = state.app.organisation().services(&ctx, &query, page).await?;
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
    let s = state.app.organisation().create_service(&ctx, body.into()).await?;
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
    let s = state.app.organisation().service(&ctx, id(&raw, "service")?).await?;
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
    let s = state.app.organisation().update_service(&ctx, sid, version, body.into()).await?;
    let version = s.version;
    Ok(with_etag(StatusCode::OK, version, service_out(s, state.app.currency.code())))
}
