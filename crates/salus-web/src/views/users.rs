//! User administration pages: the list of accounts and the form to create one.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use salus_app::AppError;
use salus_app::Ctx;
use salus_app::identity::{NewUser, User};
use salus_core::page::PageRequest;
use salus_core::{Role, UserId};
use serde::Deserialize;

use super::{PageCtx, SignedIn, render};
use crate::AppState;
use crate::error::PageError;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/users", get(users_page).post(create_user))
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
    let page = state.app.list_users(actor, PageRequest::new(after, None)).await?;
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
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let value =
        |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let mut form =
        UserForm { username: value("username"), display_name: value("display_name"), ..Default::default() };
    for (k, v) in &fields {
        if k == "roles" {
            match v.parse::<Role>() {
                Ok(r) => form.roles.push(r),
                Err(e) => form.errors.push(("roles".into(), e.to_string())),
            }
        }
    }
    let password = Some(value("password")).filter(|p| !p.is_empty());
    let new = NewUser {
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        password,
        roles: form.roles.clone(),
    };
    let result = if form.errors.is_empty() {
        state.app.create_user(&actor, new).await
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
