//! Errors made outside a handler — no such route, wrong method, a body over the limit, a
//! timeout, a panic — come out of axum and tower as bare statuses. On the API they are
//! rewritten into problem+json here, keeping headers such as `Allow`; elsewhere into the
//! error page. On `/fhir` every error — these and the problem documents of handlers and
//! middleware — is answered as an OperationOutcome instead. Every request runs with its id in [`REQUEST_ID`], so each problem
//! document and error page carries it.

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{REQUEST_ID as REQUEST_ID_HEADER, is_api_path, is_fhir_path};
use crate::error::{ApiError, PROBLEM_JSON, ProblemKind, REQUEST_ID, error_page};

pub async fn problem_details(req: Request, next: Next) -> Response {
    let id = req.headers().get(REQUEST_ID_HEADER).cloned();
    REQUEST_ID.scope(id, rewrite(req, next)).await
}

async fn rewrite(req: Request, next: Next) -> Response {
    if req.uri().path() == crate::smart::TOKEN_PATH {
        // OAuth's own errors (`{"error": "invalid_grant"}`), which SMART apps read.
        return next.run(req).await;
    }
    let api = is_api_path(req.uri().path());
    let fhir = is_fhir_path(req.uri().path());
    let res = rewrite_bare(api, next.run(req).await);
    if fhir { as_operation_outcome(res).await } else { res }
}

/// A problem document as the OperationOutcome a FHIR client reads; anything else as it is.
async fn as_operation_outcome(res: Response) -> Response {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !is_problem {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    // A problem document is a few hundred bytes; anything unreadable becomes a bare outcome.
    let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let problem: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let outcome = crate::fhir::outcome::from_problem(parts.status, &problem);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static(crate::fhir::FHIR_JSON));
    Response::from_parts(parts, axum::body::Body::from(outcome.to_string()))
}

fn rewrite_bare(api: bool, res: Response) -> Response {
    let status = res.status();
    if status.as_u16() < 400 {
        return res;
    }
    let content_type = res.headers().get(header::CONTENT_TYPE);
    let is_problem = content_type.is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    // Pages answer errors with a page of their own; only a bare status is rewritten.
    if is_problem || (!api && content_type.is_some()) {
        return res;
    }
    let (mut parts, _) = res.into_parts();
    let replacement = if api {
        ApiError::bare(ProblemKind::from_status(status)).into_response()
    } else {
        error_page(status, ProblemKind::from_status(status).title())
    };
    let (r_parts, body) = replacement.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in r_parts.headers.iter() {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, body)
}
