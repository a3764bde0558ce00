//! One error policy for the HTTP doors.
//!
//! - Use cases return [`AppError`]; a door returns [`ApiError`] (JSON API) or
//!   [`PageError`] (pages), each built from an `AppError` by `?`.
//! - The JSON API answers every error with RFC 9457 problem+json. Its `type` is stable per
//!   kind of error (`urn:salus:problem:<kind>`), so clients branch on `type`, never on
//!   `detail`. Validation problems list each failing field in `errors`.
//! - A 500's cause goes to the log with the request's id and is never shown to the client.
//! - Errors made outside any handler (no route, wrong method, body too large, timeout)
//!   are rewritten into the same shape by `middleware::problem_details`.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use salus_app::AppError;
use salus_core::FieldError;
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// How long a client should wait before retrying a 503 (seconds).
pub const RETRY_AFTER_SECS: u32 = 5;

tokio::task_local! {
    /// The request being answered's id (the `x-request-id` header), set by the problem
    /// middleware around every request so each problem document and error page can show
    /// it: a user quotes it, an operator finds the log lines.
    pub static REQUEST_ID: String;
}

/// The id of the request being answered, if any.
pub fn request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The kinds of error a client can tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    MalformedRequest,
    Validation,
    Unauthenticated,
    BadCredentials,
    Forbidden,
    CsrfRejected,
    PasswordChangeRequired,
    SecondFactorEnrolmentRequired,
    InvalidToken,
    BreakGlassRequired,
    StaleVersion,
    PossibleDuplicates,
    SlotTaken,
    ClinicalWarnings,
    PreconditionRequired,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    Timeout,
    TooManyRequests,
    Unavailable,
    Internal,
}

impl ProblemKind {
    pub const fn slug(self) -> &'static str {
        match self {
            Self::MalformedRequest => "malformed-request",
            Self::Validation => "validation",
            Self::Unauthenticated => "unauthenticated",
            Self::BadCredentials => "bad-credentials",
            Self::Forbidden => "forbidden",
            Self::CsrfRejected => "csrf-rejected",
            Self::PasswordChangeRequired => "password-change-required",
            Self::SecondFactorEnrolmentRequired => "second-factor-enrolment-required",
            Self::InvalidToken => "invalid-token",
            Self::BreakGlassRequired => "break-glass-required",
            Self::StaleVersion => "stale-version",
            Self::PossibleDuplicates => "possible-duplicates",
            Self::SlotTaken => "slot-taken",
            Self::ClinicalWarnings => "clinical-warnings",
            Self::PreconditionRequired => "precondition-required",
            Self::NotFound => "not-found",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload-too-large",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::Timeout => "timeout",
            Self::TooManyRequests => "too-many-requests",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }

    pub const fn status(self) -> StatusCode {
        match self {
            Self::MalformedRequest => StatusCode::BAD_REQUEST,
            Self::Validation => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthenticated | Self::BadCredentials | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::Forbidden
            | Self::CsrfRejected
            | Self::PasswordChangeRequired
            | Self::SecondFactorEnrolmentRequired
            | Self::BreakGlassRequired => StatusCode::FORBIDDEN,
            Self::StaleVersion | Self::PossibleDuplicates | Self::SlotTaken | Self::ClinicalWarnings => {
                StatusCode::CONFLICT
            }
            Self::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The kind for a bare status made outside a handler.
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::BAD_REQUEST => Self::MalformedRequest,
            StatusCode::UNAUTHORIZED => Self::Unauthenticated,
            StatusCode::FORBIDDEN => Self::Forbidden,
            StatusCode::NOT_FOUND => Self::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => Self::MethodNotAllowed,
            StatusCode::CONFLICT => Self::Conflict,
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType,
            StatusCode::REQUEST_TIMEOUT => Self::Timeout,
            StatusCode::UNPROCESSABLE_ENTITY => Self::Validation,
            StatusCode::TOO_MANY_REQUESTS => Self::TooManyRequests,
            StatusCode::SERVICE_UNAVAILABLE => Self::Unavailable,
            _ if status.is_client_error() => Self::MalformedRequest,
            _ => Self::Internal,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::MalformedRequest => "The request could not be read",
            Self::Validation => "Some fields are not valid",
            Self::Unauthenticated => "Sign in first",
            Self::BadCredentials => "Invalid username or password",
            Self::Forbidden => "You are not allowed to do this",
            Self::CsrfRejected => "The anti-forgery token is missing or wrong",
            Self::PasswordChangeRequired => "Change your password first (on the profile page)",
            Self::SecondFactorEnrolmentRequired => "Set up two-factor sign-in first (on the profile page)",
            Self::InvalidToken => "The API token is unknown, expired or revoked",
            Self::BreakGlassRequired => "This record is restricted",
            Self::StaleVersion => "The record was changed by someone else",
            Self::PossibleDuplicates => "This patient may already be registered",
            Self::SlotTaken => "The slot has no place left",
            Self::ClinicalWarnings => "Check before going ahead",
            Self::PreconditionRequired => "Say which version you edited (If-Match)",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "This method is not allowed here",
            Self::Conflict => "The request conflicts with the current state",
            Self::PayloadTooLarge => "The request body is too large",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::Timeout => "The request took too long",
            Self::TooManyRequests => "Too many requests",
            Self::Unavailable => "The service is not available",
            Self::Internal => "Something went wrong on our side",
        }
    }
}

/// One field that failed, in a validation problem.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field's path in the request, e.g. `roles` or `address.city`.
    pub field: String,
    pub message: String,
}

/// An RFC 9457 problem details document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of error, `urn:salus:problem:<kind>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// With `stale-version`: the record as it is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub current: Option<serde_json::Value>,
    /// With `possible-duplicates`: the records that look alike, best first.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub duplicates: Option<serde_json::Value>,
    /// With `slot-taken`: the next free slots of the same doctor.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub next_free: Option<serde_json::Value>,
    /// With `clinical-warnings`: what to check before going ahead.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub warnings: Option<serde_json::Value>,
    /// The request's id (also the `x-request-id` header): quote it when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// An error answered as problem+json.
#[derive(Debug)]
pub struct ApiError {
    pub kind: ProblemKind,
    pub detail: Option<String>,
    pub errors: Vec<FieldProblem>,
    // Boxed: most errors carry none, and a small error keeps every `Result` small.
    pub current: Option<Box<serde_json::Value>>,
    pub duplicates: Option<Box<serde_json::Value>>,
    pub next_free: Option<Box<serde_json::Value>>,
    pub warnings: Option<Box<serde_json::Value>>,
}

impl ApiError {
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Self { detail: Some(detail.into()), ..Self::bare(kind) }
    }

    pub fn bare(kind: ProblemKind) -> Self {
        Self {
            kind,
            detail: None,
            errors: Vec::new(),
            current: None,
            duplicates: None,
            next_free: None,
            warnings: None,
        }
    }

    pub fn fields(errors: Vec<FieldProblem>) -> Self {
        Self { errors, ..Self::bare(ProblemKind::Validation) }
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("urn:salus:problem:{}", self.kind.slug()),
            title: self.kind.title().to_owned(),
            status: self.kind.status().as_u16(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
            current: self.current.as_deref().cloned(),
            duplicates: self.duplicates.as_deref().cloned(),
            next_free: self.next_free.as_deref().cloned(),
            warnings: self.warnings.as_deref().cloned(),
            request_id: request_id(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.kind.status();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        }
        if self.kind == ProblemKind::InvalidToken {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"salus\", error=\"invalid_token\""),
            );
        } else if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"salus\""));
        }
        res
    }
}

fn field_problems(errors: Vec<FieldError>) -> Vec<FieldProblem> {
    errors.into_iter().map(|e| FieldProblem { field: e.field.to_owned(), message: e.message }).collect()
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(errors) => Self::fields(field_problems(errors)),
            AppError::BadCredentials => Self::bare(ProblemKind::BadCredentials),
            AppError::Locked { retry_after_secs } => Self::new(
                ProblemKind::TooManyRequests,
                format!("too many failed sign-ins; try again in {retry_after_secs} s"),
            ),
            AppError::Unauthenticated => Self::bare(ProblemKind::Unauthenticated),
            AppError::Forbidden => Self::bare(ProblemKind::Forbidden),
            AppError::NotFound(what) => Self::new(ProblemKind::NotFound, format!("{what} not found")),
            AppError::Conflict(msg) => Self::new(ProblemKind::Conflict, msg),
            AppError::BreakGlassRequired { may_break_glass } => Self::new(
                ProblemKind::BreakGlassRequired,
                if may_break_glass {
                    "state your reason with POST /api/v1/patients/{id}/break-glass, then retry"
                } else {
                    "your role cannot open restricted records"
                },
            ),
            AppError::VersionConflict { current } => {
                let version = current.version;
                Self {
                    current: serde_json::to_value(crate::api::patients::PatientOut::from(*current))
                        .ok()
                        .map(Box::new),
                    ..Self::new(ProblemKind::StaleVersion, format!("the record is now at version {version}"))
                }
            }
            AppError::Stale { what, version, current } => {
                let now = version.map(|v| format!(" (it is at version {v} now)")).unwrap_or_default();
                Self {
                    current,
                    ..Self::new(
                        ProblemKind::StaleVersion,
                        format!(
                            "the {what} was changed by someone else since you opened it{now}; reload it and edit again"
                        ),
                    )
                }
            }
            AppError::PossibleDuplicates(dups) => {
                let list: Vec<crate::api::patients::DuplicateOut> =
                    dups.into_iter().map(Into::into).collect();
                Self {
                    duplicates: serde_json::to_value(list).ok().map(Box::new),
                    ..Self::new(
                        ProblemKind::PossibleDuplicates,
                        "records on file look like this patient; open one of them, or send not_a_duplicate: true",
                    )
                }
            }
            AppError::ClinicalWarnings(warnings) => Self {
                warnings: serde_json::to_value(&warnings).ok().map(Box::new),
                ..Self::new(
                    ProblemKind::ClinicalWarnings,
                    format!("{}; send override_reason to go ahead", warnings.join("; ")),
                )
            },
            AppError::SlotTaken { next } => Self {
                next_free: serde_json::to_value(next).ok().map(Box::new),
                ..Self::new(
                    ProblemKind::SlotTaken,
                    "another booking took the last place; next_free lists the next free slots",
                )
            },
            AppError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                Self::new(
                    ProblemKind::Unavailable,
                    "the database cannot be reached just now; try again shortly",
                )
            }
            AppError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                Self::bare(ProblemKind::Internal)
            }
        }
    }
}

/// The page shown for an error on the HTML side.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    status: u16,
    request_id: Option<String>,
}

/// An error answered as an HTML page (form validation errors are not this: the form is
/// shown again with messages beside its fields).
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        let api = ApiError::from(e);
        let message = api.detail.clone().unwrap_or_else(|| api.kind.title().to_owned());
        Self { status: api.kind.status(), message }
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        tracing::error!(cause = %e, "template error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, ProblemKind::Internal.title())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        error_page(self.status, &self.message)
    }
}

/// A complete HTML error page for `status`, with the request's id to quote.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let page = ErrorPage {
        title: status.canonical_reason().unwrap_or("Error"),
        message,
        status: status.as_u16(),
        request_id: request_id(),
    };
    let mut res = match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, message.to_owned()).into_response(),
    };
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    }
    res
}
