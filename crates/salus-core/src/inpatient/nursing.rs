//! The ward's own records of a stay: the discharge summary, the nurses' notes per shift,
//! intake and output, and nursing tasks with due times.

use chrono::{DateTime, NaiveTime, Utc};
use serde::Serialize;
use uuid::Uuid;

coded!(
    /// Where a discharge summary stands: a draft is edited; a signed one never changes.
    pub enum SummaryStatus {
        Draft,
        Signed,
    }
);

coded!(
    /// A nursing shift.
    pub enum Shift {
        /// 07:00–15:00.
        Morning,
        /// 15:00–23:00.
        Evening,
        /// 23:00–07:00.
        Night,
    }
);

impl Shift {
    /// The shift a time of day (at the hospital) falls in.
    pub fn at(t: NaiveTime) -> Shift {
        let h = chrono::Timelike::hour(&t);
        match h {
            7..=14 => Shift::Morning,
            15..=22 => Shift::Evening,
            _ => Shift::Night,
        }
    }
}

coded!(
    /// Into the patient or out of them.
    pub enum Direction {
        Intake,
        Output,
    }
);

coded!(
    /// Where a nursing task stands.
    pub enum TaskStatus {
        Open,
        Done,
        /// Not needed any more, with a reason.
        Cancelled,
    }
);

/// The summary a patient leaves with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DischargeSummary {
    pub id: Uuid,
    pub admission_id: Uuid,
    pub patient_id: Uuid,
    pub diagnoses: String,
    pub procedures: String,
    pub key_results: String,
    pub medicines: String,
    pub follow_up: String,
    pub instructions: String,
    pub status: SummaryStatus,
    pub drafted_by: Uuid,
    pub drafted_at: DateTime<Utc>,
    pub signed_by: Option<Uuid>,
    pub signed_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

/// A nurse's note of a shift; never edited (a correction is a note that amends it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NursingNote {
    pub id: Uuid,
    pub admission_id: Uuid,
    pub patient_id: Uuid,
    pub shift: Shift,
    pub body: String,
    pub amends_id: Option<Uuid>,
    pub author_id: Uuid,
    pub written_at: DateTime<Utc>,
}

/// A measured volume in or out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntakeOutput {
    pub id: Uuid,
    pub admission_id: Uuid,
    pub patient_id: Uuid,
    pub direction: Direction,
    /// oral, iv, feed; urine, drain, vomit, stool.
    pub route: String,
    pub volume_ml: i32,
    pub measured_at: DateTime<Utc>,
    pub note: Option<String>,
    /// Set when it was entered in error (kept, not counted).
    pub error_reason: Option<String>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

/// Routes offered for intake and for output.
pub const INTAKE_ROUTES: &[&str] = &["oral", "iv", "feed", "other"];
pub const OUTPUT_ROUTES: &[&str] = &["urine", "drain", "vomit", "stool", "other"];

/// Millilitres in and out of the entries counted (those not entered in error), and the
/// balance (in less out).
pub fn fluid_balance(entries: &[IntakeOutput]) -> (i64, i64, i64) {
    let sum = |d: Direction| -> i64 {
        entries
            .iter()
            .filter(|e| e.direction == d && e.error_reason.is_none())
            .map(|e| i64::from(e.volume_ml))
            .sum()
    };
    let (i, o) = (sum(Direction::Intake), sum(Direction::Output));
    (i, o, i - o)
}

/// A nursing task with its due time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NursingTask {
    pub id: Uuid,
    pub admission_id: Uuid,
    pub patient_id: Uuid,
    pub description: String,
    pub due_at: DateTime<Utc>,
    /// The price-list service doing it charges (a dressing, a catheterisation).
    pub service_code: Option<String>,
    pub status: TaskStatus,
    pub outcome: Option<String>,
    pub done_by: Option<Uuid>,
    pub done_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub version: i32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(direction: Direction, ml: i32, error: bool) -> IntakeOutput {
        IntakeOutput {
            id: Uuid::nil(),
            admission_id: Uuid::nil(),
            patient_id: Uuid::nil(),
            direction,
            route: "oral".into(),
            volume_ml: ml,
            measured_at: Utc::now(),
            note: None,
            error_reason: error.then(|| "wrong patient".into()),
            recorded_by: Uuid::nil(),
            recorded_at: Utc::now(),
        }
    }

    #[test]
    fn the_balance_leaves_out_entries_in_error() {
        let e = [
            entry(Direction::Intake, 500, false),
            entry(Direction::Intake, 250, false),
            entry(Direction::Output, 400, false),
            entry(Direction::Output, 900, true),
        ];
        assert_eq!(fluid_balance(&e), (750, 400, 350));
    }

    #[test]
    fn shifts_follow_the_clock() {
        let t = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").unwrap();
        assert_eq!(Shift::at(t("06:59")), Shift::Night);
        assert_eq!(Shift::at(t("07:00")), Shift::Morning);
        assert_eq!(Shift::at(t("15:00")), Shift::Evening);
        assert_eq!(Shift::at(t("23:30")), Shift::Night);
    }
}
