//! Every entity id is its own type, so a `UserId` can never be passed where a `PatientId`
//! is expected. Ids are UUIDv7: time-ordered, so b-tree indexes stay compact and keyset
//! pagination by id follows creation order.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A staff member's or patient's login account.
    UserId
);
id_type!(
    /// A web session row (not the secret cookie value, which is never stored).
    SessionId
);
id_type!(
    /// A patient record (the MRN is the human identifier; this one never changes).
    PatientId
);
id_type!(
    /// A hospital, clinic or other site.
    FacilityId
);
id_type!(
    /// A department of a facility.
    DepartmentId
);
id_type!(
    /// A medical specialisation (cardiology, paediatrics…).
    SpecialisationId
);
id_type!(
    /// An entry of the service and price list.
    ServiceId
);
id_type!(
    /// A weekly session of a doctor.
    TemplateId
);
id_type!(
    /// Leave, a holiday or an extra session on one day.
    ExceptionId
);
id_type!(
    /// An appointment or walk-in visit.
    AppointmentId
);
id_type!(
    /// A clinical encounter (a visit).
    EncounterId
);
id_type!(
    /// A clinical note (one version of it).
    NoteId
);
id_type!(
    /// A record of the clinical chart: vitals, a diagnosis, an allergy, an immunization.
    RecordId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_time_ordered() {
        let a = UserId::new();
        let b = UserId::new();
        assert!(a < b, "UUIDv7 ids created later sort later");
        assert_eq!(a.as_uuid().get_version_num(), 7);
    }

    #[test]
    fn ids_round_trip_through_text() {
        let a = UserId::new();
        assert_eq!(a.to_string().parse::<UserId>().unwrap(), a);
        assert!("not-a-uuid".parse::<UserId>().is_err());
    }
}
