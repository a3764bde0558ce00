//! The hospital's language: identifiers, value types and pure rules. No I/O lives here, so
//! every other crate can trust a value of these types without checking it again
//! ("parse, don't validate": a `Username` is valid because it could be built).

/// A coded value (a status, a kind) with one spelling everywhere: `snake_case` unless a
/// variant says otherwise, the same in the database column (a SeaORM active enum, behind
/// the `db` feature), the API (serde) and forms and queries (strum). No string tables by
/// hand, and no string literal for a status anywhere else.
macro_rules! coded {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
            strum::EnumString, strum::IntoStaticStr, strum::VariantArray, strum::Display,
        )]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        #[cfg_attr(feature = "db", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
        #[cfg_attr(feature = "db", sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case"))]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $crate::Coded for $name {
            fn codes() -> Vec<&'static str> {
                Self::ALL.iter().map(|v| v.as_str()).collect()
            }
        }

        impl $name {
            pub const ALL: &'static [$name] = <$name as strum::VariantArray>::VARIANTS;

            pub fn as_str(self) -> &'static str {
                self.into()
            }

            /// The code as words, for a page: "entered in error".
            pub fn words(self) -> String {
                self.as_str().replace('_', " ")
            }

            /// From a form or query value, or a message for its field naming the choices.
            pub fn parse(text: &str, field: &'static str) -> Result<$name, $crate::FieldError> {
                text.trim().parse().map_err(|_| {
                    let all: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    $crate::FieldError::new(field, format!("choose one of {}", all.join(", ")))
                })
            }
        }
    };
}

pub mod audit;
pub mod billing;
pub mod clinical;
pub mod id;
pub mod identity;
pub mod imaging;
pub mod inpatient;
pub mod insurance;
pub mod jobs;
pub mod laboratory;
pub mod notifications;
pub mod organisation;
pub mod page;
pub mod patients;
pub mod pharmacy;
pub mod scheduling;
pub mod search;

pub use id::{
    AppointmentId, DepartmentId, EncounterId, ExceptionId, FacilityId, NoteId, PatientId, RecordId,
    ServiceId, SessionId, SpecialisationId, TemplateId, UserId,
};
pub use identity::{DisplayName, Password, Role, Username};
pub use organisation::{Code, Currency, Money, ServiceCategory, TaxRate};

/// A coded value's spellings, for documents that list them (OpenAPI's `enum`).
pub trait Coded: Copy + 'static {
    fn codes() -> Vec<&'static str>;
}

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
