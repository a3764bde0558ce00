//! Sign in and sign out.

use crate::access::{Access, Declared, route};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use salus_app::AppError;
use salus_app::identity::session::random_token;
use serde::Deserialize;

use super::Form;
use super::{PageCtx, SignedIn, render, safe_next, urlencode};
use crate::AppState;
use crate::cookies;
use crate::error::PageError;
use crate::middleware::session::append_cookie;

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/login", Access::Public),
    // Signed in with the password, still to give the second factor (the gate keeps such a
    // session to this page).
    route("/login/two-factor", Access::SignedIn),
    route("/logout", Access::SignedIn).post(),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/login/two-factor", get(second_factor_page).post(second_factor))
        .route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    page: PageCtx,
    username: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(
    State(state): State<AppState>,
    Query(q): Query<NextQuery>,
    mut page: PageCtx,
) -> Response {
    let next = safe_next(q.next.as_deref()).to_owned();
    if page.user.is_some() {
        return Redirect::to(&next).into_response();
    }
    let mut fresh = None;
    if page.csrf.is_empty() {
        page.csrf = random_token();
        fresh = Some(page.csrf.clone());
    }
    let mut res = render(StatusCode::OK, &LoginPage { page, username: String::new(), next, error: None });
    if let Some(token) = fresh {
        append_cookie(
            &mut res,
            &cookies::set(cookies::PRE_SESSION_CSRF, &token, None, state.web.secure_cookies),
        );
    }
    res
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    page: PageCtx,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let next = safe_next(form.next.as_deref()).to_owned();
    match state.app.identity().login(&form.username, &form.password, page.client.clone()).await {
        Ok(session) => {
            let secure = state.web.secure_cookies;
            let max_age = (session.expires_at - chrono::Utc::now()).num_seconds().max(0);
            let to = if session.second_factor_pending {
                format!("/login/two-factor?next={}", urlencode(&next))
            } else {
                next
            };
            let mut res = Redirect::to(&to).into_response();
            append_cookie(&mut res, &cookies::set(cookies::SESSION, &session.token, Some(max_age), secure));
            append_cookie(&mut res, &cookies::clear(cookies::PRE_SESSION_CSRF, secure));
            Ok(res)
        }
        Err(AppError::BadCredentials) => Ok(render(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                page,
                username: form.username,
                next,
                error: Some("Invalid username or password.".into()),
            },
        )),
        Err(AppError::Locked { retry_after_secs }) => {
            let message = locked_message(retry_after_secs);
            let res = render(
                StatusCode::TOO_MANY_REQUESTS,
                &LoginPage { page, username: form.username, next, error: Some(message) },
            );
            Ok(with_retry_after(res, retry_after_secs))
        }
        Err(e) => Err(e.into()),
    }
}

async fn logout(State(state): State<AppState>, page: PageCtx) -> Result<Response, PageError> {
    if let Some(id) = page.session_id {
        state.app.identity().logout(&page.ctx(), id).await?;
    }
    let mut res = super::flash(&state, "/login", "You have signed out.");
    append_cookie(&mut res, &cookies::clear(cookies::SESSION, state.web.secure_cookies));
    Ok(res)
}

fn locked_message(retry_after_secs: u64) -> String {
    let minutes = retry_after_secs.div_ceil(60);
    format!("Too many failed sign-ins. Try again in {minutes} minute{}.", if minutes == 1 { "" } else { "s" })
}

fn with_retry_after(mut res: Response, secs: u64) -> Response {
    if let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string()) {
        res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
    }
    res
}

#[derive(Template)]
#[template(path = "login_two_factor.html")]
struct SecondFactorPage {
    page: PageCtx,
    next: String,
    error: Option<String>,
}

async fn second_factor_page(Query(q): Query<NextQuery>, SignedIn(_, _, page): SignedIn) -> Response {
    let next = safe_next(q.next.as_deref()).to_owned();
    render(StatusCode::OK, &SecondFactorPage { page, next, error: None })
}

#[derive(Deserialize)]
struct SecondFactorForm {
    #[serde(default)]
    code: String,
    next: Option<String>,
}

async fn second_factor(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(form): Form<SecondFactorForm>,
) -> Result<Response, PageError> {
    let next = safe_next(form.next.as_deref()).to_owned();
    let session = page.session_id.ok_or(AppError::Unauthenticated)?;
    match state.app.identity().verify_second_factor(&ctx, session, &form.code).await {
        Ok(()) => Ok(Redirect::to(&next).into_response()),
        Err(AppError::Invalid(errors)) => {
            let error = errors.into_iter().next().map(|e| format!("The code {}.", e.message));
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &SecondFactorPage { page, next, error }))
        }
        Err(AppError::Locked { retry_after_secs }) => {
            let error = Some(locked_message(retry_after_secs));
            let res = render(StatusCode::TOO_MANY_REQUESTS, &SecondFactorPage { page, next, error });
            Ok(with_retry_after(res, retry_after_secs))
        }
        Err(e) => Err(e.into()),
    }
}
