//! The hospital's language: identifiers, value types and pure rules. No I/O lives here, so
//! every other crate can trust a value of these types without checking it again
//! ("parse, don't validate": a `Username` is valid because it could be built).

pub mod clinical;
pub mod id;
pub mod identity;
pub mod organisation;
pub mod page;
pub mod patients;
pub mod scheduling;
pub mod search;

pub use id::{
    AppointmentId, DepartmentId, EncounterId, ExceptionId, FacilityId, NoteId, PatientId, RecordId,
    ServiceId, SessionId, SpecialisationId, TemplateId, UserId,
};
pub use identity::{DisplayName, Password, Role, Username};
pub use organisation::{Code, Currency, Money, ServiceCategory, TaxRate};

/// A value that failed to parse at a door, with a message fit to show beside its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}
