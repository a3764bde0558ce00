//! Operations endpoints for load balancers and monitoring: liveness (the process answers),
//! readiness (the database answers and its schema is the one this binary expects) and
//! Prometheus metrics. They carry no patient data and need no sign-in.

use crate::access::{Access, Declared, route};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use salus_app::health::Readiness;
use serde_json::json;

use crate::AppState;
use crate::middleware::prometheus;

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/health/live", Access::Public),
    route("/health/ready", Access::Public),
    route("/metrics", Access::Public),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics_text))
}

const HEALTH_JSON: &str = "application/health+json";

fn health(status: StatusCode, body: serde_json::Value) -> Response {
    (status, [(header::CONTENT_TYPE, HEALTH_JSON)], body.to_string()).into_response()
}

async fn live() -> Response {
    health(StatusCode::OK, json!({ "status": "pass" }))
}

async fn ready(State(state): State<AppState>) -> Response {
    let (ok, database, schema) = match state.app.readiness().await {
        Readiness::Ready => (true, "reachable", "current".to_owned()),
        Readiness::Unreachable => (false, "unreachable", "unknown".to_owned()),
        Readiness::Pending(n) => (false, "reachable", format!("{n} migration(s) pending")),
        Readiness::Newer(n) => (false, "reachable", format!("migrated by a newer Salus ({n})")),
        Readiness::Unknown => (false, "reachable", "unknown".to_owned()),
    };
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    health(
        status,
        json!({
            "status": if ok { "pass" } else { "fail" },
            "checks": { "database": database, "schema": schema },
        }),
    )
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    let pool = state.app.pool_stats();
    metrics::gauge!("db_pool_connections").set(f64::from(pool.size));
    metrics::gauge!("db_pool_idle_connections").set(f64::from(pool.idle));
    metrics::gauge!("db_pool_max_connections").set(f64::from(pool.max));
    metrics::counter!("db_statements_total").absolute(state.app.statements());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], prometheus().render()).into_response()
}
