//! The errors a use case can end in. Each door maps them once: the JSON API to
//! problem+json, pages to a message (beside the field for `Invalid`), the CLI to a line
//! on stderr. `Internal` carries the cause for the log and is never shown to a client.

use salus_core::FieldError;
use salus_db::{DbErr, DbError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that parsed as JSON or a form but breaks a rule; one entry per field.
    #[error("invalid input: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// Login failed. Deliberately the same for an unknown user, a wrong password and a
    /// disabled account, so the answer does not tell which usernames exist.
    #[error("invalid username or password")]
    BadCredentials,
    /// Too many failed sign-ins for this name or address; try again after this long.
    /// Given alike for names that exist and names that do not.
    #[error("too many failed sign-ins; try again in {retry_after_secs} s")]
    Locked { retry_after_secs: u64 },
    #[error("not signed in")]
    Unauthenticated,
    #[error("not allowed")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// The record is restricted: a clinician may break the glass, others may not open it.
    #[error("the record is restricted")]
    BreakGlassRequired { may_break_glass: bool },
    /// An edit started from an older version; the current one is attached.
    #[error("the record was changed by someone else (now version {})", .current.version)]
    VersionConflict { current: Box<crate::patients::Patient> },
    /// An edit of any other record started from an older version: which record, its
    /// version now and, where the use case has it at hand, the record as it is now (the
    /// same JSON the API reads it as). The one stale-version contract of every editor.
    #[error("the {what} was changed by someone else")]
    Stale { what: &'static str, version: Option<i32>, current: Option<Box<serde_json::Value>> },
    /// A new registration looks like patients already on file.
    #[error("{} possible duplicate(s)", .0.len())]
    PossibleDuplicates(Vec<crate::patients::Duplicate>),
    /// A clinical check warns (an allergy, a duplicate medicine); going ahead needs a
    /// stated reason.
    #[error("warnings: {}", .0.join("; "))]
    ClinicalWarnings(Vec<String>),
    /// The slot has no place left; the next free ones are attached.
    #[error("the slot is taken")]
    SlotTaken { next: Vec<crate::scheduling::FreeSlot> },
    /// Fewer units than asked for are there to give out: what, how many were asked for
    /// and how many may be given now (held and expired batches not counted).
    #[error("only {available} {unit} of {what} available; {requested} asked for")]
    OutOfStock { what: String, unit: String, requested: i64, available: i64 },
    /// The bed was taken (or is not free); the free beds of its type are attached.
    #[error("bed {bed} is not free")]
    BedTaken { bed: String, free: Vec<salus_core::inpatient::Bed> },
    /// The database cannot be reached or had no free connection in time; the cause is
    /// for the log. Worth retrying shortly.
    #[error("the database is not available: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        Self::Invalid(vec![e])
    }
}

impl From<DbErr> for AppError {
    fn from(e: DbErr) -> Self {
        if salus_db::is_unavailable(&e) {
            Self::Unavailable(e.to_string())
        } else {
            Self::Internal(e.to_string())
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Query(e) => e.into(),
            DbError::Connect(cause) => Self::Unavailable(cause),
            other => Self::Internal(other.to_string()),
        }
    }
}
