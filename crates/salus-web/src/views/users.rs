//! User administration pages: the list of accounts, the form to create one, and one
//! account's page with its actions (roles, disable or enable, reset the password, require
//! or reset the second factor).

use crate::access::{Access, Declared, route};
use crate::views::flash;
use crate::views::menu::Entry;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use salus_app::AppError;
use salus_app::Ctx;
use salus_app::identity::{NewUser, Permission, User};
use salus_core::page::PageRequest;
use salus_core::{Role, UserId};
use serde::Deserialize;

use super::{Form, PageCtx, SignedIn, render};
use crate::AppState;
use crate::error::PageError;

/// The pages of this module worth a link (see `menu`).
pub(super) const MENU: &[Entry] = &[
    Entry::page("Users", "/admin/users", "Accounts and roles, disable, reset passwords"),
    Entry {
        worth_it_with: Some(Permission::UsersManage),
        ..Entry::page("API docs", "/api/docs/", "The REST API, browsable, for integrators")
    },
];

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/admin/users", Access::Permission(Permission::UsersManage)),
    route("/admin/users/{id}", Access::Permission(Permission::UsersManage)),
    route("/admin/users/{id}/{action}", Access::Permission(Permission::UsersManage))
        .post()
        .example("/admin/users/{id}/enable"),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users_page).post(create_user))
        .route("/admin/users/{id}", get(user_page))
        .route("/admin/users/{id}/{action}", post(user_action))
}

/// Values and errors of the create form, shown again when it fails.
#[derive(Default)]
pub struct UserForm {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub errors: Vec<(String, String)>,
}

impl UserForm {
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }

    pub fn has_role(&self, role: &Role) -> bool {
        self.roles.contains(role)
    }
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    page: PageCtx,
    users: Vec<User>,
    next: Option<String>,
    form: UserForm,
    created: Option<(String, String)>,
    all_roles: [Role; 8],
}

#[derive(Deserialize)]
struct ListQuery {
    after: Option<String>,
}

async fn list(
    state: &AppState,
    actor: &Ctx,
    after: Option<&str>,
) -> Result<(Vec<User>, Option<String>), PageError> {
    let after = after.and_then(|a| a.parse::<UserId>().ok());
    let page = state.app.identity().list_users(actor, PageRequest::new(after, None)).await?;
    Ok((page.items, page.next.map(|n| n.to_string())))
}

async fn users_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let (users, next) = list(&state, &ctx, q.after.as_deref()).await?;
    Ok(render(
        StatusCode::OK,
        &UsersPage { page, users, next, form: UserForm::default(), created: None, all_roles: Role::ALL },
    ))
}

async fn create_user(
    State(state): State<AppState>,
    SignedIn(_, actor, page): SignedIn,
    Form(fields): Form<UserFields>,
) -> Result<Response, PageError> {
    let mut form = UserForm {
        username: fields.username.clone(),
        display_name: fields.display_name.clone(),
        ..Default::default()
    };
    (form.roles, form.errors) = parse_roles(&fields.roles);
    let password = Some(fields.password).filter(|p| !p.is_empty());
    let new = NewUser {
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        password,
        roles: form.roles.clone(),
    };
    let result = if form.errors.is_empty() {
        state.app.identity().create_user(&actor, new).await
    } else {
        Err(AppError::Invalid(Vec::new()))
    };
    let (status, created) = match result {
        Ok((u, generated)) => {
            let shown = generated.unwrap_or_else(|| "(the one you typed)".into());
            form = UserForm::default();
            (StatusCode::OK, Some((u.username, shown)))
        }
        Err(AppError::Invalid(errors)) => {
            form.errors.extend(errors.into_iter().map(|e| (e.field.to_owned(), e.message)));
            (StatusCode::UNPROCESSABLE_ENTITY, None)
        }
        Err(e) => return Err(e.into()),
    };
    let (users, next) = list(&state, &actor, None).await?;
    Ok(render(status, &UsersPage { page, users, next, form, created, all_roles: Role::ALL }))
}

/// The `roles` checkboxes of a form, and an error for each value that is not a role.
/// The user forms as posted: `roles` is one checkbox per role.
#[derive(Deserialize, Default)]
#[serde(default)]
struct UserFields {
    username: String,
    display_name: String,
    password: String,
    roles: Vec<String>,
    required: String,
}

fn parse_roles(checked: &[String]) -> (Vec<Role>, Vec<(String, String)>) {
    let mut roles = Vec::new();
    let mut errors = Vec::new();
    for v in checked {
        match v.parse::<Role>() {
            Ok(r) => roles.push(r),
            Err(e) => errors.push(("roles".into(), e.to_string())),
        }
    }
    (roles, errors)
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    page: PageCtx,
    user: User,
    all_roles: [Role; 8],
    errors: Vec<(String, String)>,
    /// A password just set by a reset, shown once.
    new_password: Option<String>,
    /// Roles require a second factor of this user whatever the per-user flag says.
    required_by_role: bool,
}

impl UserPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }

    fn has_role(&self, role: &Role) -> bool {
        self.user.roles.contains(role)
    }
}

fn user_id(raw: &str) -> Result<UserId, PageError> {
    raw.parse().map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such user."))
}

async fn show_user(
    state: &AppState,
    ctx: &Ctx,
    page: PageCtx,
    id: UserId,
    status: StatusCode,
    errors: Vec<(String, String)>,
    new_password: Option<String>,
) -> Result<Response, PageError> {
    let user = state.app.identity().user(ctx, id).await?;
    let required_by_role = user.roles.iter().any(|r| state.app.security.two_factor_roles.contains(r));
    Ok(render(status, &UserPage { page, user, all_roles: Role::ALL, errors, new_password, required_by_role }))
}

async fn user_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    show_user(&state, &ctx, page, user_id(&id)?, StatusCode::OK, Vec::new(), None).await
}

async fn user_action(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path((id, action)): Path<(String, String)>,
    Form(fields): Form<UserFields>,
) -> Result<Response, PageError> {
    let id = user_id(&id)?;
    let app = &state.app;
    let done = |text: &str| Ok(flash(&state, &format!("/admin/users/{id}"), text));
    let result =
        match action.as_str() {
            "roles" => {
                let (roles, errors) = parse_roles(&fields.roles);
                if !errors.is_empty() {
                    return show_user(&state, &ctx, page, id, StatusCode::UNPROCESSABLE_ENTITY, errors, None)
                        .await;
                }
                app.identity()
                    .set_roles(&ctx, id, &roles)
                    .await
                    .map(|_| "Roles changed; the user's sessions were ended.")
            }
            "disable" => app
                .identity()
                .set_user_active(&ctx, id, false)
                .await
                .map(|()| "Account disabled; its sessions ended."),
            "enable" => app.identity().set_user_active(&ctx, id, true).await.map(|()| "Account enabled."),
            "require-two-factor" => {
                let on = fields.required == "true";
                app.identity().set_two_factor_required(&ctx, id, on).await.map(|()| {
                    if on {
                        "Two-factor sign-in is now required of this user."
                    } else {
                        "No longer required by you."
                    }
                })
            }
            "reset-two-factor" => app.identity().reset_two_factor(&ctx, id).await.map(
                |()| "Two-factor sign-in removed; the user sets it up again at next sign-in if required.",
            ),
            "reset-password" => {
                let password = app.identity().reset_password(&ctx, id).await?;
                return show_user(&state, &ctx, page, id, StatusCode::OK, Vec::new(), Some(password)).await;
            }
            _ => return Err(PageError::new(StatusCode::NOT_FOUND, "There is no such action.")),
        };
    match result {
        Ok(text) => done(text),
        Err(AppError::Invalid(errors)) => {
            let errors = errors.into_iter().map(|e| (e.field.to_owned(), e.message)).collect();
            show_user(&state, &ctx, page, id, StatusCode::UNPROCESSABLE_ENTITY, errors, None).await
        }
        Err(AppError::Conflict(message)) => {
            show_user(&state, &ctx, page, id, StatusCode::CONFLICT, vec![("action".into(), message)], None)
                .await
        }
        Err(e) => Err(e.into()),
    }
}
