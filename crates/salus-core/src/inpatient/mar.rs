//! The medication administration record's language: a doctor's inpatient medication
//! order (at scheduled times, as needed, or once now), the doses it makes due, and what a
//! nurse recorded of each — given, held, refused or missed, with a reason — never
//! deleted: a correction is an amendment that supersedes the record it corrects.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::FieldError;

coded!(
    /// When an order's doses fall due.
    pub enum OrderKind {
        /// At the order's times of day, every day from its start to its end.
        Scheduled,
        /// When the patient needs it (PRN); each dose given waits for the doctor's
        /// acknowledgement.
        AsNeeded,
        /// One dose, now (STAT); acknowledged like an as-needed dose.
        OnceNow,
    }
);

coded!(
    /// Where an order stands.
    pub enum OrderStatus {
        Active,
        /// Stopped by a doctor, with a reason; no dose falls due after.
        Stopped,
    }
);

coded!(
    /// What became of a dose.
    pub enum DoseOutcome {
        Given,
        /// Not given on purpose (a clinical reason: nil by mouth, low pressure).
        Held,
        /// The patient declined it.
        Refused,
        /// Not given and not on purpose (the patient was away, the medicine was not there).
        Missed,
    }
);

impl DoseOutcome {
    /// Whether a reason must be given (every outcome but given).
    pub fn needs_reason(self) -> bool {
        !matches!(self, Self::Given)
    }
}

/// A doctor's order for an inpatient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MedicationOrder {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub admission_id: Uuid,
    pub medicine_id: Uuid,
    pub medicine_name: String,
    /// The ward store's item a dose is taken from (none: nothing is taken from stock,
    /// e.g. the patient's own supply).
    pub item_id: Option<Uuid>,
    /// "500 mg", as the doctor wrote it.
    pub dose: String,
    /// Base units of the item one dose takes from the store (tablets, vials).
    pub units_per_dose: i32,
    pub route: String,
    pub kind: OrderKind,
    /// For a scheduled order, the times of day: "08:00,20:00".
    pub times: String,
    pub instructions: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub status: OrderStatus,
    pub stop_reason: Option<String>,
    pub stopped_by: Option<Uuid>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub ordered_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub version: i32,
}

impl MedicationOrder {
    /// The scheduled times of day (an order's times were checked when it was made).
    pub fn time_list(&self) -> Vec<NaiveTime> {
        parse_times(&self.times).unwrap_or_default()
    }

    /// The moment after which no dose falls due: its end or its stop, whichever is first.
    pub fn until(&self) -> Option<DateTime<Utc>> {
        match (self.ends_at, self.stopped_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether a dose may be recorded against `due` (or, with none, at `at`): the order
    /// covers that moment and was not stopped before it.
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        at >= self.starts_at && self.until().is_none_or(|u| at < u)
    }

    /// The doses due between `from` and `to` (hospital time turned into UTC by
    /// `to_utc`): each scheduled time of each day for a scheduled order, the one dose for
    /// once-now, none for as-needed.
    pub fn due_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        days: (NaiveDate, NaiveDate),
        to_utc: impl Fn(NaiveDateTime) -> Option<DateTime<Utc>>,
    ) -> Vec<DateTime<Utc>> {
        match self.kind {
            OrderKind::AsNeeded => Vec::new(),
            OrderKind::OnceNow => {
                if self.starts_at >= from && self.starts_at < to && self.covers(self.starts_at) {
                    vec![self.starts_at]
                } else {
                    Vec::new()
                }
            }
            OrderKind::Scheduled => {
                let times = self.time_list();
                let mut due = Vec::new();
                for day in days.0.iter_days().take_while(|d| *d <= days.1) {
                    for t in &times {
                        if let Some(at) = to_utc(day.and_time(*t))
                            && at >= from
                            && at < to
                            && self.covers(at)
                        {
                            due.push(at);
                        }
                    }
                }
                due
            }
        }
    }
}

/// What a nurse recorded of one dose. The record in force is the `current` one; an
/// amendment writes a new record (pointing at the one it corrects) and retires the old.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Administration {
    pub id: Uuid,
    pub order_id: Uuid,
    pub patient_id: Uuid,
    pub admission_id: Uuid,
    /// The scheduled time it answers (none for an as-needed dose).
    pub due_at: Option<DateTime<Utc>>,
    pub outcome: DoseOutcome,
    pub reason: Option<String>,
    /// When it was given (or found not given).
    pub given_at: DateTime<Utc>,
    /// Given later than the ward's window after its due time.
    pub late: bool,
    /// The store the dose was taken from (none when nothing was taken).
    pub store_id: Option<Uuid>,
    pub amends_id: Option<Uuid>,
    /// Why the record it amends was wrong.
    pub amend_reason: Option<String>,
    pub current: bool,
    /// An as-needed or once-now dose given: the doctor acknowledges it.
    pub needs_ack: bool,
    pub acknowledged_by: Option<Uuid>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

/// Where a due dose stands on the nurses' screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DoseState {
    /// Not yet due beyond the window.
    Due,
    /// Past its window and nothing recorded.
    Overdue,
    /// Recorded (the record says how).
    Recorded,
}

/// A due dose's state at `now`.
pub fn dose_state(due: DateTime<Utc>, recorded: bool, window: Duration, now: DateTime<Utc>) -> DoseState {
    if recorded {
        DoseState::Recorded
    } else if now > due + window {
        DoseState::Overdue
    } else {
        DoseState::Due
    }
}

/// Whether a dose given at `given` for `due` is late (more than `window` after it).
pub fn is_late(due: Option<DateTime<Utc>>, given: DateTime<Utc>, window: Duration) -> bool {
    due.is_some_and(|d| given > d + window)
}

/// "08:00, 20:00" → the times, in order, each once; an empty list or a bad time is
/// refused beside the field.
pub fn parse_times(raw: &str) -> Result<Vec<NaiveTime>, FieldError> {
    let mut times = Vec::new();
    for part in raw.split([',', ' ', ';']).map(str::trim).filter(|p| !p.is_empty()) {
        let t = NaiveTime::parse_from_str(part, "%H:%M")
            .map_err(|_| FieldError::new("times", format!("{part:?} is not a time of day like 08:00")))?;
        if !times.contains(&t) {
            times.push(t);
        }
    }
    if times.is_empty() {
        return Err(FieldError::new("times", "give the times of day, like 08:00, 20:00"));
    }
    if times.len() > 24 {
        return Err(FieldError::new("times", "at most 24 times a day"));
    }
    times.sort();
    Ok(times)
}

/// The times written back the one way: "08:00,20:00".
pub fn format_times(times: &[NaiveTime]) -> String {
    times.iter().map(|t| t.format("%H:%M").to_string()).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(kind: OrderKind, times: &str) -> MedicationOrder {
        let at = "2026-11-30T00:00:00Z".parse().unwrap();
        MedicationOrder {
            id: Uuid::nil(),
            patient_id: Uuid::nil(),
            admission_id: Uuid::nil(),
            medicine_id: Uuid::nil(),
            medicine_name: "Paracetamol".into(),
            item_id: None,
            dose: "500 mg".into(),
            units_per_dose: 1,
            route: "oral".into(),
            kind,
            times: times.into(),
            instructions: None,
            starts_at: at,
            ends_at: None,
            status: OrderStatus::Active,
            stop_reason: None,
            stopped_by: None,
            stopped_at: None,
            ordered_by: Uuid::nil(),
            created_at: at,
            version: 1,
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn times_are_parsed_sorted_and_refused_when_bad() {
        assert_eq!(format_times(&parse_times("20:00, 08:00;08:00").unwrap()), "08:00,20:00");
        assert_eq!(parse_times("").unwrap_err().field, "times");
        assert!(parse_times("8am").unwrap_err().message.contains("8am"));
        assert!(parse_times("25:00").is_err());
    }

    #[test]
    fn scheduled_doses_fall_due_each_day_until_the_stop() {
        let mut o = order(OrderKind::Scheduled, "08:00,20:00");
        let utc_of = |n: NaiveDateTime| Some(n.and_utc());
        let all = o.due_between(
            utc("2026-11-30T00:00:00Z"),
            utc("2026-12-02T00:00:00Z"),
            (d("2026-11-30"), d("2026-12-01")),
            utc_of,
        );
        assert_eq!(all.len(), 4);
        o.stopped_at = Some(utc("2026-12-01T09:00:00Z"));
        o.status = OrderStatus::Stopped;
        let left = o.due_between(
            utc("2026-11-30T00:00:00Z"),
            utc("2026-12-02T00:00:00Z"),
            (d("2026-11-30"), d("2026-12-01")),
            utc_of,
        );
        assert_eq!(
            left,
            vec![utc("2026-11-30T08:00:00Z"), utc("2026-11-30T20:00:00Z"), utc("2026-12-01T08:00:00Z")]
        );
        assert!(!o.covers(utc("2026-12-01T20:00:00Z")), "no dose after the stop");
    }

    #[test]
    fn as_needed_has_no_due_doses_and_once_now_has_one() {
        let utc_of = |n: NaiveDateTime| Some(n.and_utc());
        let range = (utc("2026-11-29T00:00:00Z"), utc("2026-12-01T00:00:00Z"));
        let days = (d("2026-11-29"), d("2026-11-30"));
        assert!(order(OrderKind::AsNeeded, "").due_between(range.0, range.1, days, utc_of).is_empty());
        assert_eq!(order(OrderKind::OnceNow, "").due_between(range.0, range.1, days, utc_of).len(), 1);
    }

    #[test]
    fn lateness_and_state_follow_the_window() {
        let due = utc("2026-11-30T08:00:00Z");
        let w = Duration::minutes(60);
        assert!(!is_late(Some(due), utc("2026-11-30T09:00:00Z"), w));
        assert!(is_late(Some(due), utc("2026-11-30T09:01:00Z"), w));
        assert!(!is_late(None, utc("2026-12-30T09:01:00Z"), w), "an as-needed dose is never late");
        assert_eq!(dose_state(due, false, w, utc("2026-11-30T08:30:00Z")), DoseState::Due);
        assert_eq!(dose_state(due, false, w, utc("2026-11-30T09:30:00Z")), DoseState::Overdue);
        assert_eq!(dose_state(due, true, w, utc("2026-11-30T09:30:00Z")), DoseState::Recorded);
    }
}
