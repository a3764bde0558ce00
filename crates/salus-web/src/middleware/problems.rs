//! Errors made outside a handler — no such route, wrong method, a body over the limit, a
//! timeout, a panic — come out of axum and tower as bare statuses. On the API they are
//! rewritten into problem+json here, keeping headers such as `Allow`.

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::is_api_path;
use crate::error::{ApiError, PROBLEM_JSON, ProblemKind};

pub async fn problem_details(req: Request, next: Next) -> Response {
    let api = is_api_path(req.uri().path());
    let res = next.run(req).await;
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !api || status.as_u16() < 400 || is_problem {
        return res;
    }
    let (mut parts, _) = res.into_parts();
    let problem = ApiError::bare(ProblemKind::from_status(status)).into_response();
    let (p_parts, body) = problem.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in p_parts.headers.iter() {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, body)
}
