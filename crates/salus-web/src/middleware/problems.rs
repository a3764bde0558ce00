//! Errors made outside a handler — no such route, wrong method, a body over the limit, a
//! timeout, a panic — come out of axum and tower as bare statuses. On the API they are
//! rewritten into problem+json here, keeping headers such as `Allow`; elsewhere into the
//! error page. Every request runs with its id in [`REQUEST_ID`], so each problem
//! document and error page carries it.

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{REQUEST_ID as REQUEST_ID_HEADER, is_api_path};
use crate::error::{ApiError, PROBLEM_JSON, ProblemKind, REQUEST_ID, error_page};

pub async fn problem_details(req: Request, next: Next) -> Response {
    let id = req.headers().get(REQUEST_ID_HEADER).cloned();
    REQUEST_ID.scope(id, rewrite(req, next)).await
}

async fn rewrite(req: Request, next: Next) -> Response {
    let api = is_api_path(req.uri().path());
    let res = next.run(req).await;
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
