//! Finds the request's session from its cookie, enforces the anti-forgery token on every
//! state-changing request, and hands the one-time flash message to the page.
//!
//! Anti-forgery (CSRF): a signed-in user's session row holds a random token; every
//! POST/PUT/PATCH/DELETE that rides on the session cookie must carry it, in the
//! `csrf_token` form field or the `X-CSRF-Token` header (htmx sends the header on every
//! request from `hx-headers` on `<body>`). Before sign-in, the login form uses a
//! double-submit token: a random value in a cookie and in the form. A request with
//! neither a session nor a form (an API client without a cookie) has no ambient
//! credential to forge, so the check does not apply to it.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use salus_app::identity::{CurrentUser, SessionUser};
use subtle::ConstantTimeEq;

use super::is_api_path;
use crate::AppState;
use crate::cookies;
use crate::error::{ApiError, ProblemKind, error_page};

pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf_token";

/// Where the request came from, for sessions and the audit trail. The address is the
/// peer's; behind a load balancer that is the balancer (trusted forwarding headers come
/// with the deployment configuration).
pub fn client_info(parts: &axum::http::request::Parts) -> salus_app::identity::ClientInfo {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    salus_app::identity::ClientInfo {
        ip: parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
        user_agent: header("user-agent"),
        request_id: header("x-request-id"),
    }
}

/// Who the request comes from: a live browser session, or an API token (on `/api` only).
#[derive(Clone, Debug, Default)]
pub struct Auth {
    pub session: Option<SessionUser>,
    pub token_user: Option<CurrentUser>,
}

impl Auth {
    pub fn user(&self) -> Option<&CurrentUser> {
        self.token_user.as_ref().or(self.session.as_ref().map(|s| &s.user))
    }
}

/// The secret of an `Authorization: Bearer` header, if the request has one.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, secret) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| secret.trim()).filter(|s| !s.is_empty())
}

/// The one-time message for this page, if any.
#[derive(Clone, Debug, Default)]
pub struct Flash(pub Option<String>);

fn changes_state(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

fn reject(api: bool, status: StatusCode, kind: ProblemKind, page_message: &str) -> Response {
    if api { ApiError::bare(kind).into_response() } else { error_page(status, page_message) }
}

/// Paths that never need to know who is asking (and take no state-changing requests), so
/// the session lookup is skipped for them: every page loads several assets with the
/// cookie attached, and a load balancer polls health often.
fn needs_no_session(path: &str) -> bool {
    path.starts_with("/assets/") || path.starts_with("/health/") || path == "/metrics"
}

pub async fn session(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if needs_no_session(req.uri().path()) && !changes_state(req.method()) {
        return next.run(req).await;
    }
    let api = is_api_path(req.uri().path());
    // An API token is a credential the browser never sends by itself, so a request that
    // carries one needs no anti-forgery check, and its cookies are not consulted.
    if api && let Some(secret) = bearer(req.headers()).map(str::to_owned) {
        let (parts, body) = req.into_parts();
        let user = match state.app.identity().authenticate_token(&secret, client_info(&parts)).await {
            Ok(Some(user)) => user,
            Ok(None) => return ApiError::bare(ProblemKind::InvalidToken).into_response(),
            Err(e) => return ApiError::from(e).into_response(),
        };
        let mut req = Request::from_parts(parts, body);
        req.extensions_mut().insert(Auth { session: None, token_user: Some(user) });
        return next.run(req).await;
    }
    // The Cookie header read once, for the session, the login form's token and the flash.
    let jar = axum_extra::extract::CookieJar::from_headers(req.headers());
    let value = |name: &str| jar.get(name).map(|c| c.value().to_owned());
    let token = value(cookies::SESSION);
    let session = match &token {
        Some(t) => match state.app.identity().session(t).await {
            Ok(s) => s,
            Err(e) => {
                return if api {
                    ApiError::from(e).into_response()
                } else {
                    crate::error::PageError::from(e).into_response()
                };
            }
        },
        None => None,
    };
    let stale_cookie = token.is_some() && session.is_none();

    let mut req = req;
    if changes_state(req.method()) {
        let expected = match &session {
            Some(s) => Some(s.csrf_token.clone()),
            None if !api => Some(value(cookies::PRE_SESSION_CSRF).unwrap_or_default()),
            None => None,
        };
        if let Some(expected) = expected {
            let (provided, rebuilt) = match provided_token(req, state.web.body_limit).await {
                Ok(found) => found,
                Err(res) => return res,
            };
            req = rebuilt;
            let ok = !expected.is_empty()
                && provided.as_deref().is_some_and(|p| bool::from(p.as_bytes().ct_eq(expected.as_bytes())));
            if !ok {
                tracing::warn!("anti-forgery token missing or wrong");
                return reject(
                    api,
                    StatusCode::FORBIDDEN,
                    ProblemKind::CsrfRejected,
                    "This form has expired or did not come from Salus. Go back, reload the page and try again.",
                );
            }
        }
    }

    // A flash cookie is cleared once shown, also one whose signature fails.
    let had_flash = jar.get(cookies::FLASH).is_some();
    let is_htmx = req.headers().contains_key(axum_htmx::HX_REQUEST);
    // Its signature is checked only when there is one (most requests carry none).
    let flash = Flash(if had_flash { cookies::flash(req.headers(), &state.web.cookie_key) } else { None });
    req.extensions_mut().insert(flash);
    req.extensions_mut().insert(Auth { session, token_user: None });
    let mut res = next.run(req).await;

    let secure = state.web.secure_cookies;
    if stale_cookie {
        append_cookie(&mut res, &cookies::clear(cookies::SESSION, secure));
    }
    // The flash was shown if a full page was rendered; keep it across redirects.
    let html =
        res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if had_flash && html && !is_htmx && !res.status().is_redirection() {
        append_cookie(&mut res, &cookies::clear(cookies::FLASH, secure));
    }
    res
}

pub fn append_cookie(res: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The token the request carries: the header, or else the form field of a urlencoded
/// body (which is read here and put back for the handler).
async fn provided_token(req: Request, limit: usize) -> Result<(Option<String>, Request), Response> {
    if let Some(v) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return Ok((Some(v.to_owned()), req));
    }
    let content_type =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    // A file upload from a page (a photo, an attachment) carries its token as a field too.
    let boundary = content_type
        .starts_with("multipart/form-data")
        .then(|| multer::parse_boundary(&content_type).ok())
        .flatten();
    if !is_form && boundary.is_none() {
        return Ok((None, req));
    }
    let api = is_api_path(req.uri().path());
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        reject(api, StatusCode::PAYLOAD_TOO_LARGE, ProblemKind::PayloadTooLarge, "The form is too large.")
    })?;
    let token = match boundary {
        None => serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .ok()
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v)),
        Some(boundary) => {
            let copy = bytes.clone();
            let stream = futures::stream::once(async move { Ok::<_, std::convert::Infallible>(copy) });
            let mut form = multer::Multipart::new(stream, boundary);
            let mut token = None;
            while let Ok(Some(field)) = form.next_field().await {
                if field.name() == Some(CSRF_FIELD) {
                    token = field.text().await.ok();
                    break;
                }
            }
            token
        }
    };
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}
