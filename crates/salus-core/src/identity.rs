//! Who uses Salus: roles, usernames, display names and the password rules.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// The roles of the brief. A user holds one or more; what each may do is decided by the
/// permission matrix in the application layer, never by a role check scattered in a door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Doctor,
    Nurse,
    Receptionist,
    LabTechnician,
    Pharmacist,
    Billing,
    Patient,
}

impl crate::Coded for Role {
    fn codes() -> Vec<&'static str> {
        Role::ALL.iter().map(|r| r.as_str()).collect()
    }
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::Doctor,
        Role::Nurse,
        Role::Receptionist,
        Role::LabTechnician,
        Role::Pharmacist,
        Role::Billing,
        Role::Patient,
    ];

    /// The stable name stored in the database and used in the API.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Doctor => "doctor",
            Role::Nurse => "nurse",
            Role::Receptionist => "receptionist",
            Role::LabTechnician => "lab_technician",
            Role::Pharmacist => "pharmacist",
            Role::Billing => "billing",
            Role::Patient => "patient",
        }
    }

    /// The name shown to people.
    pub const fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Doctor => "Doctor",
            Role::Nurse => "Nurse",
            Role::Receptionist => "Receptionist",
            Role::LabTechnician => "Lab technician",
            Role::Pharmacist => "Pharmacist",
            Role::Billing => "Billing clerk",
            Role::Patient => "Patient",
        }
    }

    /// Whether the role belongs to the hospital's staff (every role but patient).
    pub const fn is_staff(self) -> bool {
        !matches!(self, Role::Patient)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role `{0}` (expected one of: admin, doctor, nurse, receptionist, lab_technician, pharmacist, billing, patient)"
)]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim()).ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// A login name: 3 to 64 characters of `a-z 0-9 . _ -`, stored lower-case so that
/// "Dr.Rao" and "dr.rao" are the same account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim().to_lowercase();
        if s.chars().count() < 3 || s.chars().count() > 64 {
            return Err(FieldError::new("username", "must be 3 to 64 characters"));
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
            return Err(FieldError::new("username", "may contain only letters, digits, '.', '_' and '-'"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name shown on pages and in the audit trail, 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if s.chars().any(char::is_control) {
            return Err(FieldError::new("display_name", "remove the control characters"));
        }
        match s.chars().count() {
            0 => Err(FieldError::new("display_name", "is required")),
            1..=100 => Ok(Self(s)),
            _ => Err(FieldError::new("display_name", "must be at most 100 characters")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password that meets the policy. It is never logged or serialised: `Debug` hides
/// it, and it has no `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 256;

    /// Checks a new password against the policy: long enough, not absurdly long (argon2
    /// would happily hash a megabyte on every login attempt), not the username.
    pub fn parse(raw: &str, username: &Username) -> Result<Self, FieldError> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            return Err(FieldError::new("password", "must be at least 12 characters"));
        }
        if n > Self::MAX_CHARS {
            return Err(FieldError::new("password", "must be at most 256 characters"));
        }
        if raw.trim().to_lowercase() == username.as_str() {
            return Err(FieldError::new("password", "must not be the username"));
        }
        if is_common(raw) {
            return Err(FieldError::new(
                "password",
                "is one of the most common passwords; choose a longer phrase of your own",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The most common breached passwords, shipped in the binary (see `data/README.md`).
static COMMON: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
    std::sync::LazyLock::new(|| include_str!("../data/common-passwords.txt").lines().collect());

/// On the list as typed, or an entry with only digits and punctuation added at the end.
fn is_common(raw: &str) -> bool {
    let lower = raw.trim().to_lowercase();
    let base = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    COMMON.contains(lower.as_str()) || (base.chars().count() >= 4 && COMMON.contains(base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("surgeon".parse::<Role>().is_err());
    }

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(Username::parse(" Dr.Rao ").unwrap().as_str(), "dr.rao");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("rao@clinic").is_err());
        assert!(Username::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn password_policy() {
        let u = Username::parse("nurse.amina").unwrap();
        assert!(Password::parse("short", &u).is_err());
        assert!(Password::parse("NURSE.AMINA ", &u).is_err(), "the username in another case");
        assert!(Password::parse("nurse.amina1", &u).is_ok());
        assert!(Password::parse(&"x".repeat(257), &u).is_err());
        // Common passwords, as typed, in capitals, or with digits and symbols tacked on.
        for common in ["1234567890123", "PASSWORD1234", "sunshine2024!", "qwertyuiop123", "iloveyou12345"] {
            let err = Password::parse(common, &u).unwrap_err();
            assert!(err.message.contains("most common"), "{common}");
        }
        assert!(Password::parse("sunshine over the ghats", &u).is_ok(), "a phrase is fine");
        assert_eq!(format!("{:?}", Password::parse("correct horse battery", &u).unwrap()), "Password(***)");
    }

    #[test]
    fn display_names_collapse_whitespace() {
        assert_eq!(DisplayName::parse("  Dr   Priya  Rao ").unwrap().as_str(), "Dr Priya Rao");
        assert!(DisplayName::parse("   ").is_err());
    }
}
