//! User administration.

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use salus_app::identity::Permission;
use salus_app::identity::{NewUser, User};
use salus_core::page::PageRequest;
use salus_core::{Role, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::coded_list;
use super::{ApiJson, ApiQuery, ApiUser, Cursor, Paged};
use crate::AppState;
use crate::error::{ApiError, Problem};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[route("/api/v1/users", Access::Permission(Permission::UsersManage))];

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_users, create_user))
}

/// A user account.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    #[schema(value_type = String, format = Uuid)]
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    #[schema(schema_with = coded_list::<Role>)]
    pub roles: Vec<Role>,
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<User> for UserOut {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            roles: u.roles,
            active: u.active,
            created_at: u.created_at,
        }
    }
}

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// 3–64 characters of `a-z 0-9 . _ -`; stored lower-case.
    #[schema(pattern = "^\\s*[A-Za-z0-9._-]{3,64}\\s*$")]
    pub username: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$"
    )]
    pub display_name: String,
    /// At least 12 characters, not the username. Omit to have one generated and returned once.
    pub password: Option<String>,
    /// One or more of admin, doctor, nurse, receptionist, lab_technician, pharmacist, billing, patient.
    #[schema(schema_with = coded_list::<Role>)]
    pub roles: Vec<Role>,
}

/// The created account, and its password if one was generated.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    pub user: UserOut,
    /// Present only when the request had no password; shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_password: Option<String>,
}

/// List users
///
/// All accounts in creation order, paged by cursor. Needs the `users.manage` permission.
#[utoipa::path(get, path = "/api/v1/users", tag = "identity", params(Cursor),
    responses(
        (status = 200, description = "A page of users", body = Paged<UserOut>),
        (status = 400, description = "A bad limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_users(
    State(state): State<AppState>,
    ApiUser(_signed_in, ctx): ApiUser,
    ApiQuery(cursor): ApiQuery<Cursor>,
) -> Result<Json<Paged<UserOut>>, ApiError> {
    let page = PageRequest::new(cursor.position::<UserId>()?, cursor.limit);
    let found = state.app.identity().list_users(&ctx, page).await?;
    Ok(Json(Paged::new(found.items.into_iter().map(UserOut::from).collect(), found.next)))
}

/// Create a user
///
/// Creates an account with the given roles. Needs the `users.manage` permission.
#[utoipa::path(post, path = "/api/v1/users", tag = "identity", request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = CreatedUser),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed, or no anti-forgery token with a session cookie", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid (each named in `errors`)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_user(
    State(state): State<AppState>,
    ApiUser(_signed_in, ctx): ApiUser,
    ApiJson(body): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    let new = NewUser {
        username: body.username,
        display_name: body.display_name,
        password: body.password,
        roles: body.roles,
    };
    let (created, generated_password) = state.app.identity().create_user(&ctx, new).await?;
    Ok((StatusCode::CREATED, Json(CreatedUser { user: created.into(), generated_password })))
}
