//! The signed-in user.

use crate::access::{Access, Declared, route};
use axum::Json;
use salus_app::identity::CurrentUser;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiUser;
use crate::AppState;
use crate::error::ApiError;

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[route("/api/v1/me", Access::SignedIn)];

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me))
}

/// The signed-in user.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    #[schema(value_type = String, format = Uuid)]
    pub id: salus_core::UserId,
    pub username: String,
    pub display_name: String,
    #[schema(value_type = Vec<String>, example = json!(["doctor"]))]
    pub roles: Vec<salus_core::Role>,
}

impl From<CurrentUser> for Me {
    fn from(u: CurrentUser) -> Self {
        Self { id: u.id, username: u.username.to_string(), display_name: u.display_name, roles: u.roles }
    }
}

/// Who am I?
///
/// The user the request is signed in as, with their roles.
#[utoipa::path(get, path = "/api/v1/me", tag = "identity",
    responses(
        (status = 200, description = "The signed-in user", body = Me),
        (status = 401, description = "Not signed in", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
async fn me(ApiUser(user, _ctx): ApiUser) -> Result<Json<Me>, ApiError> {
    Ok(Json(user.into()))
}
