//! HTML pages, rendered on the server with askama and made lively with htmx. Templates
//! live in `templates/`; htmx fragments are `*_partial.html`. Every page extends
//! `base.html`, which carries the navigation for the user's roles, the flash message and
//! the anti-forgery token htmx sends with each request.

/// Times on a page, in the facility's time zone: a page with a `tz` field gets them with
/// `local!(ThePage)`; its template says `self.at(t)` ("30 Nov 10:26") or `self.at_y(t)`.
trait Local {
    fn tz(&self) -> chrono_tz::Tz;
    /// "30 Nov 10:26".
    fn at(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        t.with_timezone(&self.tz()).format("%d %b %H:%M").to_string()
    }
    /// "30 Nov 2026 10:26".
    fn at_y(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        t.with_timezone(&self.tz()).format("%d %b %Y %H:%M").to_string()
    }
}

macro_rules! local {
    ($($page:ident),+) => {$(
        impl super::Local for $page {
            fn tz(&self) -> chrono_tz::Tz {
                self.tz
            }
        }
    )+};
}

mod appointments;
mod audit;
mod auth;
mod billing;
mod break_glass;
mod clinical;
mod clinical_catalog;
mod home;
mod imaging;
mod inpatient;
mod laboratory;
pub mod menu;
mod operations;
mod organisation;
mod patients;
mod pharmacy;
mod profile;
mod two_factor;
mod users;

use axum::Router;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use salus_app::Ctx;
use salus_app::identity::{Actor, ClientInfo, CurrentUser};
use salus_core::SessionId;

use crate::AppState;
use crate::cookies;
use crate::error::error_page;
use crate::middleware::{Auth, Flash, client_info};

/// The pages' route tables (see `crate::access`).
pub(crate) const TABLES: &[&[crate::access::Declared]] = &[
    auth::ROUTES,
    home::ROUTES,
    users::ROUTES,
    profile::ROUTES,
    two_factor::ROUTES,
    audit::ROUTES,
    patients::ROUTES,
    break_glass::ROUTES,
    organisation::ROUTES,
    organisation::services::ROUTES,
    organisation::staff::ROUTES,
    appointments::ROUTES,
    operations::ROUTES,
    clinical::ROUTES,
    clinical_catalog::ROUTES,
    laboratory::ROUTES,
    imaging::ROUTES,
    pharmacy::ROUTES,
    inpatient::ROUTES,
    inpatient::census::ROUTES,
    inpatient::mar::ROUTES,
    inpatient::records::ROUTES,
    billing::ROUTES,
];

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(home::router())
        .merge(users::router())
        .merge(profile::router())
        .merge(two_factor::router())
        .merge(audit::router())
        .merge(patients::router())
        .merge(break_glass::router())
        .merge(organisation::router())
        .merge(appointments::router())
        .merge(operations::router())
        .merge(clinical::router())
        .merge(clinical_catalog::router())
        .merge(laboratory::router())
        .merge(imaging::router())
        .merge(pharmacy::router())
        .merge(inpatient::router())
        .merge(billing::router())
}

pub async fn not_found() -> Response {
    error_page(StatusCode::NOT_FOUND, "There is no page at this address.")
}

/// A link in the navigation bar.
pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    pub current: bool,
}

/// What every page's layout needs.
pub struct PageCtx {
    pub user: Option<CurrentUser>,
    pub session_id: Option<SessionId>,
    pub csrf: String,
    pub flash: Option<String>,
    pub nav: Vec<NavItem>,
    pub client: ClientInfo,
}

impl PageCtx {
    /// The context use cases need: the signed-in user (or nobody) and where from.
    pub fn ctx(&self) -> Ctx {
        let actor = self.user.clone().map_or(Actor::Anonymous, Actor::User);
        Ctx::new(actor, self.client.clone())
    }

    pub fn roles_label(&self) -> String {
        self.user
            .as_ref()
            .map(|u| u.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    }
}

fn nav_for(user: Option<&CurrentUser>, path: &str) -> Vec<NavItem> {
    let Some(user) = user else { return Vec::new() };
    if user.gate.is_some() {
        // Held at a gate: the rest of Salus is not open yet.
        return Vec::new();
    }
    let items = menu::nav(user);
    items
        .into_iter()
        .map(|(label, href)| NavItem {
            label,
            href,
            current: if href == "/" { path == "/" } else { path.starts_with(href) },
        })
        .collect()
}

impl<S: Send + Sync> FromRequestParts<S> for PageCtx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let session = parts.extensions.get::<Auth>().and_then(|a| a.session.clone());
        let flash = parts.extensions.get::<Flash>().and_then(|f| f.0.clone());
        let path = parts.uri.path().to_owned();
        let csrf = match &session {
            Some(s) => s.csrf_token.clone(),
            None => cookies::get(&parts.headers, cookies::PRE_SESSION_CSRF).unwrap_or_default(),
        };
        let user = session.as_ref().map(|s| s.user.clone());
        Ok(Self {
            nav: nav_for(user.as_ref(), &path),
            user,
            session_id: session.map(|s| s.session_id),
            csrf,
            flash,
            client: client_info(parts),
        })
    }
}

/// A page that needs a signed-in user: without one, the browser is sent to the login
/// page and brought back afterwards.
pub struct SignedIn(pub CurrentUser, pub Ctx, pub PageCtx);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Ok(ctx) = PageCtx::from_request_parts(parts, state).await;
        match ctx.user.clone() {
            Some(user) => Ok(SignedIn(user, ctx.ctx(), ctx)),
            None => {
                let uri =
                    OriginalUri::from_request_parts(parts, state).await.map(|u| u.0).unwrap_or_default();
                Err(to_sign_in(&uri))
            }
        }
    }
}

/// Sends the browser to the sign-in page, to come back to `uri` afterwards.
pub(crate) fn to_sign_in(uri: &axum::http::Uri) -> Response {
    let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    Redirect::to(&format!("/login?next={}", urlencode(next))).into_response()
}

pub(crate) fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|e| e.trim_start_matches('=').to_owned()).unwrap_or_default()
}

/// A submitted form read into a typed struct by serde_html_form (through axum-extra's
/// `Form`): repeated names (checkboxes) fill a `Vec`, missing ones take the struct's
/// defaults, the anti-forgery field is ignored. A body that cannot be read at all gets an
/// error page saying so, not a bare text answer.
pub(crate) struct Form<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for Form<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = crate::error::PageError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum_extra::extract::Form::<T>::from_request(req, state).await {
            Ok(axum_extra::extract::Form(value)) => Ok(Form(value)),
            Err(e) => {
                tracing::info!(cause = %e, "a form that could not be read");
                Err(crate::error::PageError::new(
                    StatusCode::BAD_REQUEST,
                    "The form could not be read. Reload the page and try again.",
                ))
            }
        }
    }
}

/// A typed form's text fields as name/value pairs, to show it again beside its errors.
pub(crate) fn pairs<T: serde::Serialize>(form: &T) -> Vec<(String, String)> {
    match serde_json::to_value(form) {
        Ok(serde_json::Value::Object(fields)) => fields
            .into_iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((k, s)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Only a local path is followed after login (never `//evil.example` or `https://…`).
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n,
        _ => "/",
    }
}

/// A redirect to `to` that shows `text` (signed, in a cookie) on the page it lands on.
pub(crate) fn flash(state: &AppState, to: &str, text: &str) -> Response {
    crate::cookies::redirect_with_flash(to, text, &state.web.cookie_key, state.web.secure_cookies)
}

/// The name printed at the head of a document (a report, a receipt): the first facility's.
pub(crate) async fn letterhead(state: &AppState) -> Result<String, crate::error::PageError> {
    let facilities = state.app.organisation().facilities(&salus_app::Ctx::operator()).await?;
    Ok(facilities.into_iter().next().map(|f| f.name).unwrap_or_default())
}

/// Renders an askama template into a response with `status`.
pub fn render<T: askama::Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(html) => (status, axum::response::Html(html)).into_response(),
        Err(e) => crate::error::PageError::from(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next(Some("/admin/users?x=1")), "/admin/users?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
