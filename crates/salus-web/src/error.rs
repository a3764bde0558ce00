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
    /// it: a user quotes it, an operator finds the log lines. Kept as the header value
    /// (a reference-counted copy), turned into text only when an error is answered.
    pub static REQUEST_ID: Option<HeaderValue>;
}

/// The id of the request being answered, if any.
pub fn request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.as_ref().and_then(|v| v.to_str().ok()).map(str::to_owned)).ok().flatten()
}

/// A kind of error a client can tell apart: its stable slug (`urn:salus:problem:<slug>`),
/// its status and its title. The kinds every door shares are the constants here; a
/// context declares its own beside its API (`api::scheduling::SLOT_TAKEN`), with the
/// typed members it adds to the document as [`ProblemExtension`]s — shared code names no
/// context's errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProblemKind {
    slug: &'static str,
    status: StatusCode,
    title: &'static str,
}

impl ProblemKind {
    #[allow(non_upper_case_globals)]
    pub const MalformedRequest: ProblemKind =
        ProblemKind::new("malformed-request", StatusCode::BAD_REQUEST, "The request could not be read");
    #[allow(non_upper_case_globals)]
    pub const Validation: ProblemKind =
        ProblemKind::new("validation", StatusCode::UNPROCESSABLE_ENTITY, "Some fields are not valid");
    #[allow(non_upper_case_globals)]
    pub const Unauthenticated: ProblemKind =
        ProblemKind::new("unauthenticated", StatusCode::UNAUTHORIZED, "Sign in first");
    #[allow(non_upper_case_globals)]
    pub const BadCredentials: ProblemKind =
        ProblemKind::new("bad-credentials", StatusCode::UNAUTHORIZED, "Invalid username or password");
    #[allow(non_upper_case_globals)]
    pub const Forbidden: ProblemKind =
        ProblemKind::new("forbidden", StatusCode::FORBIDDEN, "You are not allowed to do this");
    #[allow(non_upper_case_globals)]
    pub const CsrfRejected: ProblemKind = ProblemKind::new(
        "csrf-rejected",
        StatusCode::FORBIDDEN,
        "The anti-forgery token is missing or wrong",
    );
    #[allow(non_upper_case_globals)]
    pub const PasswordChangeRequired: ProblemKind = ProblemKind::new(
        "password-change-required",
        StatusCode::FORBIDDEN,
        "Change your password first (on the profile page)",
    );
    #[allow(non_upper_case_globals)]
    pub const SecondFactorEnrolmentRequired: ProblemKind = ProblemKind::new(
        "second-factor-enrolment-required",
        StatusCode::FORBIDDEN,
        "Set up two-factor sign-in first (on the profile page)",
    );
    #[allow(non_upper_case_globals)]
    pub const InvalidToken: ProblemKind = ProblemKind::new(
        "invalid-token",
        StatusCode::UNAUTHORIZED,
        "The API token is unknown, expired or revoked",
    );
    #[allow(non_upper_case_globals)]
    pub const BreakGlassRequired: ProblemKind =
        ProblemKind::new("break-glass-required", StatusCode::FORBIDDEN, "This record is restricted");
    #[allow(non_upper_case_globals)]
    pub const StaleVersion: ProblemKind =
        ProblemKind::new("stale-version", StatusCode::CONFLICT, "The record was changed by someone else");
    #[allow(non_upper_case_globals)]
    pub const PreconditionRequired: ProblemKind = ProblemKind::new(
        "precondition-required",
        StatusCode::PRECONDITION_REQUIRED,
        "Say which version you edited (If-Match)",
    );
    #[allow(non_upper_case_globals)]
    pub const NotFound: ProblemKind = ProblemKind::new("not-found", StatusCode::NOT_FOUND, "Not found");
    #[allow(non_upper_case_globals)]
    pub const MethodNotAllowed: ProblemKind = ProblemKind::new(
        "method-not-allowed",
        StatusCode::METHOD_NOT_ALLOWED,
        "This method is not allowed here",
    );
    #[allow(non_upper_case_globals)]
    pub const Conflict: ProblemKind =
        ProblemKind::new("conflict", StatusCode::CONFLICT, "The request conflicts with the current state");
    #[allow(non_upper_case_globals)]
    pub const PayloadTooLarge: ProblemKind =
        ProblemKind::new("payload-too-large", StatusCode::PAYLOAD_TOO_LARGE, "The request body is too large");
    #[allow(non_upper_case_globals)]
    pub const UnsupportedMediaType: ProblemKind = ProblemKind::new(
        "unsupported-media-type",
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Unsupported media type",
    );
    #[allow(non_upper_case_globals)]
    pub const Timeout: ProblemKind =
        ProblemKind::new("timeout", StatusCode::REQUEST_TIMEOUT, "The request took too long");
    #[allow(non_upper_case_globals)]
    pub const TooManyRequests: ProblemKind =
        ProblemKind::new("too-many-requests", StatusCode::TOO_MANY_REQUESTS, "Too many requests");
    #[allow(non_upper_case_globals)]
    pub const Unavailable: ProblemKind =
        ProblemKind::new("unavailable", StatusCode::SERVICE_UNAVAILABLE, "The service is not available");
    #[allow(non_upper_case_globals)]
    pub const Internal: ProblemKind =
        ProblemKind::new("internal", StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side");

    pub const fn new(slug: &'static str, status: StatusCode, title: &'static str) -> Self {
        Self { slug, status, title }
    }

    pub const fn slug(self) -> &'static str {
        self.slug
    }

    pub const fn status(self) -> StatusCode {
        self.status
    }

    pub const fn title(self) -> &'static str {
        self.title
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
}

/// A member a kind of problem adds to its document, typed by the context that owns it
/// (`duplicates` for possible duplicates, `next_free` for a taken slot, …).
pub trait ProblemExtension: Serialize {
    /// The member's name in the problem document.
    const MEMBER: &'static str;
}

/// The record as it is now, with `stale-version`.
#[derive(Serialize)]
#[serde(transparent)]
pub struct CurrentRecord(pub serde_json::Value);

impl ProblemExtension for CurrentRecord {
    const MEMBER: &'static str = "current";
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
    /// The request's id (also the `x-request-id` header): quote it when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Members a kind adds: `current` (stale-version: the record as it is now),
    /// `duplicates` (possible-duplicates), `next_free` (slot-taken), `warnings`
    /// (clinical-warnings).
    #[serde(flatten)]
    #[schema(value_type = Object, additional_properties)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

/// An error answered as problem+json.
#[derive(Debug)]
pub struct ApiError {
    pub kind: ProblemKind,
    pub detail: Option<String>,
    pub errors: Vec<FieldProblem>,
    /// Typed members a kind adds (see [`ProblemExtension`]), serialized once.
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Self { detail: Some(detail.into()), ..Self::bare(kind) }
    }

    pub fn bare(kind: ProblemKind) -> Self {
        Self { kind, detail: None, errors: Vec::new(), extensions: serde_json::Map::new() }
    }

    pub fn fields(errors: Vec<FieldProblem>) -> Self {
        Self { errors, ..Self::bare(ProblemKind::Validation) }
    }

    /// Adds a kind's member to the document.
    pub fn with<E: ProblemExtension>(mut self, member: &E) -> Self {
        if let Ok(value) = serde_json::to_value(member) {
            self.extensions.insert(E::MEMBER.to_owned(), value);
        }
        self
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("urn:salus:problem:{}", self.kind.slug()),
            title: self.kind.title().to_owned(),
            status: self.kind.status().as_u16(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
            request_id: request_id(),
            extensions: self.extensions.clone(),
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
                let now = serde_json::to_value(crate::api::patients::PatientOut::from(*current))
                    .unwrap_or_default();
                Self::new(ProblemKind::StaleVersion, format!("the record is now at version {version}"))
                    .with(&CurrentRecord(now))
            }
            AppError::Stale { what, version, current } => {
                let now = version.map(|v| format!(" (it is at version {v} now)")).unwrap_or_default();
                let problem = Self::new(
                    ProblemKind::StaleVersion,
                    format!(
                        "the {what} was changed by someone else since you opened it{now}; reload it and edit again"
                    ),
                );
                match current {
                    Some(record) => problem.with(&CurrentRecord(*record)),
                    None => problem,
                }
            }
            // A context's own errors are its own module's to describe.
            AppError::PossibleDuplicates(dups) => crate::api::patients::possible_duplicates(dups),
            AppError::ClinicalWarnings(warnings) => crate::api::clinical_warnings(warnings),
            AppError::SlotTaken { next } => crate::api::slot_taken(next),
            AppError::OutOfStock { what, unit, requested, available } => {
                crate::api::pharmacy::out_of_stock(&what, &unit, requested, available)
            }
            AppError::BedTaken { bed, free } => crate::api::inpatient::bed_taken(&bed, free),
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
