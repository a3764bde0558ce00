//! The user's own profile: change password, see and end their sessions, the second
//! factor's state, and personal API tokens.

use crate::access::{Access, Declared, route};
use crate::views::flash;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use salus_app::AppError;
use salus_app::identity::{ApiToken, NewApiToken, PasswordChange, Permission, SessionInfo, TwoFactorStatus};
use salus_core::SessionId;
use serde::Deserialize;

use super::{Form, PageCtx, SignedIn, render};
use crate::AppState;
use crate::cookies;
use crate::error::PageError;
use crate::middleware::session::append_cookie;

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/profile", Access::SignedIn),
    route("/profile/password", Access::SignedIn).post(),
    route("/profile/sessions/{id}/revoke", Access::SignedIn).post(),
    route("/profile/sessions/revoke-others", Access::SignedIn).post(),
    route("/profile/tokens", Access::SignedIn).post(),
    route("/profile/tokens/{id}/revoke", Access::SignedIn).post(),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/profile", get(profile))
        .route("/profile/password", post(change_password))
        .route("/profile/sessions/{id}/revoke", post(revoke))
        .route("/profile/sessions/revoke-others", post(revoke_others))
        .route("/profile/tokens", post(create_token))
        .route("/profile/tokens/{id}/revoke", post(revoke_token))
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    page: PageCtx,
    sessions: Vec<SessionInfo>,
    current: Option<SessionId>,
    errors: Vec<(String, String)>,
    two_factor: TwoFactorStatus,
    tokens: Vec<ApiToken>,
    token_form: TokenForm,
    /// The permissions the user could give a token.
    grantable: Vec<Permission>,
}

/// The token form's values, shown again when it fails; `scopes` is one checkbox each.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    name: String,
    scopes: Vec<String>,
    expires_in_days: String,
}

impl TokenForm {
    fn has_scope(&self, p: &Permission) -> bool {
        self.scopes.iter().any(|s| s == p.name())
    }
}

impl ProfilePage {
    fn is_current(&self, s: &SessionInfo) -> bool {
        self.current == Some(s.id)
    }

    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }
}

async fn show(
    state: &AppState,
    ctx: &salus_app::Ctx,
    page: PageCtx,
    status: StatusCode,
    errors: Vec<(String, String)>,
    token_form: TokenForm,
) -> Result<Response, PageError> {
    let sessions = state.app.identity().my_sessions(ctx).await?;
    let two_factor = state.app.identity().two_factor_status(ctx).await?;
    let tokens = state.app.identity().my_api_tokens(ctx).await?;
    let grantable = match &page.user {
        Some(u) => Permission::ALL.iter().copied().filter(|p| u.may(*p)).collect(),
        None => Vec::new(),
    };
    let current = page.session_id;
    Ok(render(
        status,
        &ProfilePage { page, sessions, current, errors, two_factor, tokens, token_form, grantable },
    ))
}

async fn profile(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
) -> Result<Response, PageError> {
    show(&state, &ctx, page, StatusCode::OK, Vec::new(), TokenForm::default()).await
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let keep = page.session_id.ok_or(AppError::Unauthenticated)?;
    let change = PasswordChange {
        current: form.current_password,
        new: form.new_password,
        confirm: form.confirm_password,
    };
    match state.app.identity().change_password(&ctx, keep, change).await {
        Ok(()) => {
            Ok(flash(&state, "/profile", "Your password was changed; your other sessions were signed out."))
        }
        Err(AppError::Invalid(errors)) => {
            let errors = errors.into_iter().map(|e| (e.field.to_owned(), e.message)).collect();
            show(&state, &ctx, page, StatusCode::UNPROCESSABLE_ENTITY, errors, TokenForm::default()).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn revoke(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: SessionId = id.parse().map_err(|_| PageError::new(StatusCode::NOT_FOUND, "No such session."))?;
    state.app.identity().revoke_my_session(&ctx, id).await?;
    if page.session_id == Some(id) {
        let mut res = flash(&state, "/login", "You have signed out.");
        append_cookie(&mut res, &cookies::clear(cookies::SESSION, state.web.secure_cookies));
        return Ok(res);
    }
    Ok(flash(&state, "/profile", "The session was signed out."))
}

async fn revoke_others(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
) -> Result<Response, PageError> {
    let keep = page.session_id.ok_or(AppError::Unauthenticated)?;
    let n = state.app.identity().sign_out_elsewhere(&ctx, keep).await?;
    let text = format!("Signed out of {n} other session{}.", if n == 1 { "" } else { "s" });
    Ok(flash(&state, "/profile", &text))
}

#[derive(Template)]
#[template(path = "token_created.html")]
struct TokenCreatedPage {
    page: PageCtx,
    token: ApiToken,
    secret: String,
}

async fn create_token(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    let new = NewApiToken {
        name: form.name.clone(),
        scopes: form.scopes.clone(),
        // An unreadable number is reported by the use case like an out-of-range one.
        expires_in_days: form.expires_in_days.trim().parse().unwrap_or(0),
    };
    match state.app.identity().create_api_token(&ctx, new).await {
        Ok((token, secret)) => Ok(render(StatusCode::CREATED, &TokenCreatedPage { page, token, secret })),
        Err(AppError::Invalid(errors)) => {
            let errors = errors.into_iter().map(|e| (format!("token_{}", e.field), e.message)).collect();
            show(&state, &ctx, page, StatusCode::UNPROCESSABLE_ENTITY, errors, form).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    SignedIn(_, ctx, _): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: uuid::Uuid = id.parse().map_err(|_| PageError::new(StatusCode::NOT_FOUND, "No such token."))?;
    state.app.identity().revoke_api_token(&ctx, id).await?;
    Ok(flash(&state, "/profile", "The token was revoked; it no longer works."))
}
