//! Setting up and managing the second factor on the user's own profile. The QR code is
//! drawn here, as inline SVG: the secret never leaves the server for a QR service.

use crate::access::{Access, Declared, route};
use crate::views::flash;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use salus_app::AppError;
use salus_app::identity::TwoFactorStatus;
use serde::Deserialize;

use super::Form;
use super::{PageCtx, SignedIn, render};
use crate::AppState;
use crate::error::PageError;

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/profile/two-factor", Access::SignedIn),
    route("/profile/two-factor/disable", Access::SignedIn).post(),
    route("/profile/two-factor/recovery-codes", Access::SignedIn).post(),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/profile/two-factor", get(page).post(enable))
        .route("/profile/two-factor/disable", post(disable))
        .route("/profile/two-factor/recovery-codes", post(renew_codes))
}

#[derive(Template)]
#[template(path = "two_factor.html")]
struct TwoFactorPage {
    page: PageCtx,
    status: TwoFactorStatus,
    /// While setting up: the secret offered, as text and as a QR code.
    enrol: Option<(String, String)>,
    errors: Vec<(String, String)>,
}

impl TwoFactorPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesPage {
    page: PageCtx,
    codes: Vec<String>,
}

/// An `otpauth://` URL as an SVG QR code (dark modules on white, with a quiet zone).
fn qr_svg(url: &str) -> Result<String, PageError> {
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(|e| AppError::Internal(format!("qr: {e}")))?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(220, 220).build();
    // The renderer writes an XML declaration, which has no place inside HTML.
    Ok(svg.split_once("?>").map_or(svg.clone(), |(_, rest)| rest.to_owned()))
}

async fn show(
    state: &AppState,
    page: PageCtx,
    status_code: StatusCode,
    secret: Option<String>,
    errors: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let ctx = page.ctx();
    let user = page.user.clone().ok_or(AppError::Unauthenticated)?;
    let status = state.app.identity().two_factor_status(&ctx).await?;
    let enrol = if status.enabled_at.is_none() {
        // A failed confirmation keeps the secret the user's app has already scanned.
        let enrolment = state.app.identity().begin_enrolment(&user)?;
        let (secret, url) = match secret {
            Some(s) => {
                let url = enrolment.otpauth_url.replace(&enrolment.secret, &s);
                (s, url)
            }
            None => (enrolment.secret, enrolment.otpauth_url),
        };
        Some((secret, qr_svg(&url)?))
    } else {
        None
    };
    Ok(render(status_code, &TwoFactorPage { page, status, enrol, errors }))
}

async fn page(State(state): State<AppState>, SignedIn(_, _, page): SignedIn) -> Result<Response, PageError> {
    show(&state, page, StatusCode::OK, None, Vec::new()).await
}

#[derive(Deserialize)]
struct EnableForm {
    #[serde(default)]
    secret: String,
    #[serde(default)]
    code: String,
}

async fn enable(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(form): Form<EnableForm>,
) -> Result<Response, PageError> {
    match state.app.identity().enable_two_factor(&ctx, &form.secret, &form.code).await {
        Ok(codes) => Ok(render(StatusCode::OK, &RecoveryCodesPage { page, codes })),
        Err(AppError::Invalid(errors)) => {
            let keep = errors.iter().all(|e| e.field != "secret").then_some(form.secret);
            let errors = errors.into_iter().map(|e| (e.field.to_owned(), e.message)).collect();
            show(&state, page, StatusCode::UNPROCESSABLE_ENTITY, keep, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
}

async fn disable(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    match state.app.identity().disable_two_factor(&ctx, &form.current_password).await {
        Ok(()) => Ok(flash(&state, "/profile", "Two-factor sign-in is off.")),
        Err(AppError::Invalid(errors)) => {
            let errors = errors.into_iter().map(|e| (format!("disable_{}", e.field), e.message)).collect();
            show(&state, page, StatusCode::UNPROCESSABLE_ENTITY, None, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn renew_codes(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    match state.app.identity().renew_recovery_codes(&ctx, &form.current_password).await {
        Ok(codes) => Ok(render(StatusCode::OK, &RecoveryCodesPage { page, codes })),
        Err(AppError::Invalid(errors)) => {
            let errors = errors.into_iter().map(|e| (format!("renew_{}", e.field), e.message)).collect();
            show(&state, page, StatusCode::UNPROCESSABLE_ENTITY, None, errors).await
        }
        Err(e) => Err(e.into()),
    }
}
