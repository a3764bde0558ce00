//! Operations endpoints for load balancers and monitoring: liveness (the process answers),
//! readiness (the database answers and its schema is the one this binary expects) and
//! Prometheus metrics. They carry no patient data and need no sign-in.

use crate::access::{Access, Declared, route};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use salus_db::MigrationState;
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
    let db = &state.app.db;
    let (ok, database, schema) = match db.ping().await {
        Err(e) => {
            tracing::warn!(cause = %e, "readiness: database unreachable");
            (false, "unreachable", "unknown".to_owned())
        }
        Ok(()) => match db.migration_state().await {
            Ok(MigrationState::Current) => (true, "reachable", "current".to_owned()),
            Ok(MigrationState::Pending(p)) => {
                (false, "reachable", format!("{} migration(s) pending", p.len()))
            }
            Ok(MigrationState::Newer(n)) => (false, "reachable", format!("migrated by a newer Salus ({n})")),
            Err(e) => {
                tracing::warn!(cause = %e, "readiness: cannot read migrations");
                (false, "reachable", "unknown".to_owned())
            }
        },
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
    let pool = state.app.db.pool_stats();
    metrics::gauge!("db_pool_connections").set(f64::from(pool.size));
    metrics::gauge!("db_pool_idle_connections").set(f64::from(pool.idle));
    metrics::gauge!("db_pool_max_connections").set(f64::from(pool.max));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], prometheus().render()).into_response()
}
