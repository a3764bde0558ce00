//! The three thin doors of Salus — `api` (JSON + OpenAPI), `views` (HTML + htmx) and
//! `fhir` (FHIR R4) — plus the middleware they share, the embedded assets, the operations
//! endpoints and the HTTP server. A door parses a request into domain types, calls one use
//! case of `salus-app`, and turns the result into a response; it never talks SQL and never
//! decides a permission.

pub mod access;
pub mod api;
mod assets;
mod cookies;
pub mod error;
pub mod fhir;
mod middleware;
pub mod ops;
pub mod server;
pub mod smart;
pub mod views;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use salus_app::App;

pub use middleware::rate_limit::{RateLimit, RateLimits};

/// Settings of the HTTP layer, taken from the configuration file.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Set the `Secure` flag on cookies and send HSTS (true when serving TLS).
    pub secure_cookies: bool,
    /// Largest accepted request body.
    pub body_limit: usize,
    /// A request still running after this gets 408.
    pub request_timeout: Duration,
    pub rate_limits: RateLimits,
    /// Signs the flash cookie. The server uses the installation's shared key (made once,
    /// kept in the database, see `App::cookie_key`); the default is a fresh random key.
    pub cookie_key: CookieKey,
}

pub use axum_extra::extract::cookie::Key as CookieKey;

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            body_limit: 4 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            rate_limits: RateLimits::default(),
            cookie_key: CookieKey::generate(),
        }
    }
}

/// What every handler can reach: one shared copy, so the clone every extractor and
/// middleware layer makes is a reference count, not a copy of the application's
/// connections and settings (it was 2–3 % of the server's CPU on the audited read).
#[derive(Clone)]
pub struct AppState(std::sync::Arc<SharedState>);

pub struct SharedState {
    pub app: App,
    pub web: WebSettings,
    pub limiters: middleware::rate_limit::Limiters,
}

impl std::ops::Deref for AppState {
    type Target = SharedState;
    fn deref(&self) -> &SharedState {
        &self.0
    }
}

/// The whole HTTP surface: pages, API, docs, assets and operations endpoints, with the
/// middleware stack. Tests drive exactly this router.
pub fn router(app: App, web: WebSettings) -> Router {
    // Install the metrics recorder before the first request records anything.
    middleware::prometheus();
    fhir::export::register(&app);
    let limiters = middleware::rate_limit::Limiters::new(web.rate_limits);
    let state = AppState(std::sync::Arc::new(SharedState { app, web: web.clone(), limiters }));
    let routes = Router::new()
        .merge(views::router())
        .merge(api::router())
        .merge(fhir::router())
        .merge(smart::router())
        .merge(ops::router())
        .merge(assets::router())
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), access::enforce))
        .fallback(views::not_found);
    middleware::wrap(routes, state.clone()).layer(DefaultBodyLimit::max(web.body_limit)).with_state(state)
}
