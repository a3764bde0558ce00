//! Inpatient care's language: wards and their beds, the state of a bed, an admission
//! from its request to the patient leaving, and where the patient lay (a bed assignment
//! per bed, so the stay's location history is a list of rows, never an overwritten
//! field). Which bed a patient is in is decided by the database: a unique index on the
//! open assignment of a bed, another on the open admission of a patient.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

pub mod census;
pub mod mar;
pub mod nursing;

coded!(
    /// What a bed offers (the price list charges a day of each).
    pub enum BedType {
        General,
        SemiPrivate,
        Private,
        Icu,
        Isolation,
        Cradle,
    }
);

coded!(
    /// Where a bed stands (FHIR Location.operationalStatus, the subset a ward works to).
    pub enum BedState {
        /// Clean, free, may be given.
        Available,
        /// Held for an expected admission (its request).
        Reserved,
        /// A patient is in it.
        Occupied,
        /// Vacated; to be cleaned before the next patient.
        Cleaning,
        /// Out of use (broken, closed), with a reason.
        Blocked,
    }
);

impl BedState {
    /// The changes a ward's staff make by hand (admitting, transferring and discharging
    /// make the others): reserve and release, cleaned, block and unblock.
    pub fn by_hand(self, to: BedState) -> bool {
        use BedState::*;
        matches!(
            (self, to),
            (Available, Reserved)
                | (Reserved, Available)
                | (Cleaning, Available)
                | (Available | Cleaning | Reserved, Blocked)
                | (Blocked, Available)
        )
    }
}

coded!(
    /// Where a doctor's request to admit stands.
    pub enum RequestStatus {
        /// Waiting at the admission desk.
        Requested,
        /// The patient was admitted on it.
        Admitted,
        /// Withdrawn, with a reason.
        Cancelled,
    }
);

coded!(
    /// Where a stay stands. The discharge order is apart from the patient leaving: the
    /// bed stays occupied until they go.
    pub enum AdmissionStatus {
        Admitted,
        DischargeOrdered,
        Discharged,
    }
);

impl AdmissionStatus {
    /// Whether the patient is still in the hospital (in a bed).
    pub fn in_house(self) -> bool {
        !matches!(self, Self::Discharged)
    }
}

/// A ward: its beds, and the store its nurses give medicines from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ward {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub department_id: Option<Uuid>,
    pub store_id: Option<Uuid>,
    /// Minutes after a dose's time within which it counts as on time.
    pub late_minutes: i32,
    pub active: bool,
    pub version: i32,
}

/// A bed of a ward.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bed {
    pub id: Uuid,
    pub ward_id: Uuid,
    /// "101".
    pub room: String,
    /// "101-A": unique in its ward.
    pub label: String,
    pub bed_type: BedType,
    /// "oxygen,isolation".
    pub tags: String,
    /// The price-list service a day in it is charged as (none: not charged).
    pub service_code: Option<String>,
    pub state: BedState,
    /// Why it is blocked, or whom it is reserved for, in words.
    pub state_reason: Option<String>,
    /// The admission request it is held for.
    pub reserved_for: Option<Uuid>,
    pub active: bool,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

impl Bed {
    pub fn tag_list(&self) -> Vec<&str> {
        self.tags.split(',').map(str::trim).filter(|t| !t.is_empty()).collect()
    }
}

/// A doctor's request to admit a patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdmissionRequest {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub requested_by: Uuid,
    pub reason: String,
    pub ward_id: Option<Uuid>,
    pub bed_type: Option<BedType>,
    pub expected_days: Option<i32>,
    pub expected_on: Option<NaiveDate>,
    pub status: RequestStatus,
    pub cancel_reason: Option<String>,
    pub admission_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// A stay in the hospital.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Admission {
    pub id: Uuid,
    /// "IP26-000012".
    pub number: String,
    pub patient_id: Uuid,
    pub request_id: Option<Uuid>,
    /// The inpatient encounter the stay's notes and orders belong to.
    pub encounter_id: Uuid,
    pub attending_id: Uuid,
    pub diagnosis: String,
    pub ward_id: Uuid,
    pub bed_id: Uuid,
    pub status: AdmissionStatus,
    pub admitted_by: Uuid,
    pub admitted_at: DateTime<Utc>,
    pub discharge_ordered_by: Option<Uuid>,
    pub discharge_ordered_at: Option<DateTime<Utc>>,
    pub discharged_by: Option<Uuid>,
    pub discharged_at: Option<DateTime<Utc>>,
    pub disposition: Option<String>,
    pub version: i32,
}

/// A patient in a bed, from one time to another (open while `ended_at` is empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BedAssignment {
    pub id: Uuid,
    pub admission_id: Uuid,
    pub patient_id: Uuid,
    pub bed_id: Uuid,
    pub ward_id: Uuid,
    /// A companion shares an occupied bed (a baby with its mother) without taking it.
    pub companion: bool,
    pub started_at: DateTime<Utc>,
    pub started_by: Uuid,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<Uuid>,
    /// admit, transfer, discharge.
    pub reason: String,
}

/// Whole days of a stay so far (or in all), counting the day of admission.
pub fn length_of_stay(admitted: NaiveDate, until: NaiveDate) -> i64 {
    (until - admitted).num_days().max(0) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand_never_fills_or_empties_a_bed() {
        use BedState::*;
        for from in BedState::ALL {
            assert!(!from.by_hand(Occupied), "{from} → occupied is an admission's");
        }
        assert!(!Occupied.by_hand(Available) && !Occupied.by_hand(Cleaning) && !Occupied.by_hand(Blocked));
        assert!(Cleaning.by_hand(Available) && Available.by_hand(Blocked) && Blocked.by_hand(Available));
        assert!(!Blocked.by_hand(Reserved), "a blocked bed is unblocked first");
    }

    #[test]
    fn a_stay_counts_its_first_day() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(length_of_stay(d("2026-11-30"), d("2026-11-30")), 1);
        assert_eq!(length_of_stay(d("2026-11-28"), d("2026-11-30")), 3);
    }
}
