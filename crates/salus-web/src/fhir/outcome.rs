//! Every error under `/fhir` as an OperationOutcome. Errors are made once, as problem
//! documents, wherever they arise (a use case, the access layer, a rate limit, a timeout);
//! the problem middleware hands each one on `/fhir` to [`from_problem`], so no error
//! reaches a FHIR client in another shape.

use axum::http::StatusCode;
use serde_json::{Value, json};

/// The issue type FHIR names for an error of this status (or this problem kind).
fn issue_code(status: StatusCode, kind: &str) -> &'static str {
    if kind.ends_with(":too-costly") {
        return "too-costly";
    }
    if kind.ends_with(":multiple-matches") {
        return "multiple-matches";
    }
    match status.as_u16() {
        400 => "invalid",
        401 => "login",
        403 => "forbidden",
        404 => "not-found",
        405 | 406 | 415 => "not-supported",
        408 => "timeout",
        409 | 412 => "conflict",
        410 => "deleted",
        413 => "too-long",
        422 => "processing",
        428 => "required",
        429 => "throttled",
        _ => "exception",
    }
}

/// A problem document (`type`, `title`, `detail`, `errors`) as an OperationOutcome.
pub fn from_problem(status: StatusCode, problem: &Value) -> Value {
    let kind = problem["type"].as_str().unwrap_or_default();
    let code = issue_code(status, kind);
    let diagnostics = problem["detail"].as_str().or(problem["title"].as_str()).unwrap_or("error");
    let mut issues = vec![json!({"severity": "error", "code": code, "diagnostics": diagnostics})];
    for e in problem["errors"].as_array().into_iter().flatten() {
        issues.push(json!({
            "severity": "error",
            "code": "invalid",
            "diagnostics": e["message"].as_str().unwrap_or_default(),
            "expression": [e["field"].as_str().unwrap_or_default()],
        }));
    }
    let mut outcome = json!({"resourceType": "OperationOutcome", "issue": issues});
    if let Some(id) = problem["request_id"].as_str() {
        outcome["id"] =
            json!(id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(64).collect::<String>());
    }
    outcome
}

/// Search parameters ignored, as the warnings of a search's outcome entry.
pub fn warnings(messages: &[String]) -> Value {
    let issues: Vec<Value> = messages
        .iter()
        .map(|m| json!({"severity": "warning", "code": "not-supported", "diagnostics": m}))
        .collect();
    json!({"resourceType": "OperationOutcome", "issue": issues})
}
