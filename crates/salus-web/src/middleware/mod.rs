//! The middleware stack, outermost first:
//! request id → trace span → problem details (and the request id for error documents) →
//! panic catcher → timeout → security headers → rate limits → session or API token,
//! anti-forgery and flash → route metrics → access → handler.

mod headers;
mod metrics;
mod problems;
pub mod rate_limit;
pub mod session;

use axum::Router;
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::AppState;

pub use metrics::prometheus;
pub use session::{Auth, Flash, client_info};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Paths whose errors are answered as problem+json (the JSON API and its spec).
pub fn is_api_path(path: &str) -> bool {
    ((path == "/api" || path.starts_with("/api/")) && !path.starts_with("/api/docs"))
        || is_fhir_path(path)
        // A SMART app's back channel: no session, no anti-forgery token, JSON answers.
        || path == crate::smart::TOKEN_PATH
}

/// A path of the FHIR door: its errors are made as problem documents like the API's and
/// answered as OperationOutcomes (`problems`).
pub fn is_fhir_path(path: &str) -> bool {
    path == "/fhir" || path.starts_with("/fhir/")
}

/// A NUL character has no meaning in any address Salus serves, and PostgreSQL cannot
/// store or compare text that holds one: a query string or path carrying one (`%00`) is
/// refused here, before it reaches a search, rather than failing deep inside as a 500.
async fn refuse_nul(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let uri = req.uri();
    let carries_nul = |s: &str| s.contains('\0') || s.to_ascii_lowercase().contains("%00");
    if carries_nul(uri.path()) || uri.query().is_some_and(carries_nul) {
        let message = "The address contains a NUL character (%00), which no field accepts.";
        return if is_api_path(uri.path()) {
            crate::error::ApiError::new(crate::error::ProblemKind::MalformedRequest, message).into_response()
        } else {
            crate::error::error_page(StatusCode::BAD_REQUEST, message)
        };
    }
    next.run(req).await
}

pub fn wrap(routes: Router<AppState>, state: AppState) -> Router<AppState> {
    let timeout = state.web.request_timeout;
    routes
        .route_layer(from_fn(metrics::track))
        .layer(from_fn_with_state(state.clone(), session::session))
        .layer(from_fn(refuse_nul))
        .layer(from_fn_with_state(state.clone(), rate_limit::rate_limit))
        .layer(from_fn_with_state(state, headers::security_headers))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(CatchPanicLayer::new())
        .layer(from_fn(problems::problem_details))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            // The path only, never the query string: a search for a patient's name must
            // not end up in the log.
            let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}
