//! Codes staff pick from: the kinds of patient identifier (administered here) and
//! ICD-10-CM (carried by the binary).

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use salus_app::identity::Permission;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::{ApiJson, ApiQuery, ApiUser, Paged};
use crate::error::{ApiError, Problem};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/api/v1/identifier-types", Access::Permission(Permission::OrganisationRead)),
    route("/api/v1/icd10", Access::Permission(Permission::OrganisationRead)).example("/api/v1/icd10?q=E11"),
    route("/api/v1/identifier-types/{code}", Access::Permission(Permission::OrganisationManage))
        .put()
        .example("/api/v1/identifier-types/passport"),
];

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_identifier_types, create_identifier_type))
        .routes(routes!(update_identifier_type))
        .routes(routes!(search_icd10))
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
    #[schema(pattern = "^\\s*[A-Za-z][A-Za-z0-9_]{1,31}\\s*$")]
    pub code: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$"
    )]
    pub name: String,
    pub is_unique: bool,
}

/// A rename or retirement.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifierTypeEdit {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$"
    )]
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
        .patients()
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
    let t = state.app.organisation().create_identifier_type(&ctx, &b.code, &b.name, b.is_unique).await?;
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
    state.app.organisation().update_identifier_type(&ctx, &code, &b.name, b.active).await?;
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
    #[serde(default, deserialize_with = "crate::api::extract::bounded::<_, usize, 1, 50>")]
    #[param(minimum = 1, maximum = 50)]
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
