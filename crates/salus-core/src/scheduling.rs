//! Scheduling's rules without I/O: wall-clock times, the appointment status machine, and
//! how a day's slots follow from its sessions and leave.

use std::fmt;

use serde::Serialize;

use crate::FieldError;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// A time of day on the facility's wall clock, to the minute ("09:30").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WallTime(u16);

impl WallTime {
    pub fn parse(text: &str, field: &'static str) -> Result<WallTime, FieldError> {
        let bad = || FieldError::new(field, "enter a time such as 09:30");
        let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
        let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 23 || m > 59 || text.trim().len() > 5 {
            return Err(bad());
        }
        Ok(WallTime(h * 60 + m))
    }

    pub const fn from_minutes(minutes: u16) -> Option<WallTime> {
        if minutes < 24 * 60 { Some(WallTime(minutes)) } else { None }
    }

    pub const fn minutes(self) -> u16 {
        self.0
    }

    pub fn to_naive(self) -> chrono::NaiveTime {
        chrono::NaiveTime::from_hms_opt(u32::from(self.0 / 60), u32::from(self.0 % 60), 0).unwrap_or_default()
    }
}

impl fmt::Display for WallTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for WallTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

coded!(
    /// Where an appointment stands.
    pub enum AppointmentStatus {
        Booked,
        CheckedIn,
        InConsultation,
        Finished,
        Cancelled,
        NoShow,
        Rescheduled,
    }
);
coded!(
    /// A move from one status to another, as a user asks for it.
    pub enum Transition {
        CheckIn,
        Start,
        Finish,
        Cancel,
        NoShow,
    }
);
coded!(
    /// A day off a doctor's usual sessions (leave) or a session added to it (extra).
    pub enum ExceptionKind {
        Leave,
        Extra,
    }
);

impl AppointmentStatus {
    pub const fn label(self) -> &'static str {
        match self {
            AppointmentStatus::Booked => "Booked",
            AppointmentStatus::CheckedIn => "Waiting",
            AppointmentStatus::InConsultation => "With the doctor",
            AppointmentStatus::Finished => "Seen",
            AppointmentStatus::Cancelled => "Cancelled",
            AppointmentStatus::NoShow => "Did not come",
            AppointmentStatus::Rescheduled => "Rescheduled",
        }
    }

    /// The status after `t`, or `None` when the move is not allowed from here. Only a
    /// booked appointment can be rescheduled (by its own use case, not a transition).
    pub const fn after(self, t: Transition) -> Option<AppointmentStatus> {
        use AppointmentStatus as S;
        match (self, t) {
            (S::Booked, Transition::CheckIn) => Some(S::CheckedIn),
            (S::Booked, Transition::Cancel) | (S::CheckedIn, Transition::Cancel) => Some(S::Cancelled),
            (S::Booked, Transition::NoShow) => Some(S::NoShow),
            (S::CheckedIn, Transition::Start) => Some(S::InConsultation),
            (S::InConsultation, Transition::Finish) => Some(S::Finished),
            _ => None,
        }
    }

    /// Whether the appointment still holds its place in the slot.
    pub const fn holds_seat(self) -> bool {
        matches!(
            self,
            AppointmentStatus::Booked
                | AppointmentStatus::CheckedIn
                | AppointmentStatus::InConsultation
                | AppointmentStatus::Finished
        )
    }
}

/// A session on one day: from `start` to `end`, slots of `slot_minutes`, each taking
/// `capacity` patients (and `overbook` more when reception says so).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session<D> {
    pub start: WallTime,
    pub end: WallTime,
    pub slot_minutes: u16,
    pub capacity: u16,
    pub overbook: u16,
    pub department: D,
}

/// One slot of a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot<D> {
    pub time: WallTime,
    pub minutes: u16,
    pub capacity: u16,
    pub overbook: u16,
    pub department: D,
}

/// The day's slots: each session cut into slots that fit before its end, without those
/// overlapping leave (`None` bounds mean the start or end of the day). Two sessions
/// offering the same time keep the first.
pub fn day_slots<D: Clone>(
    sessions: &[Session<D>],
    leave: &[(Option<WallTime>, Option<WallTime>)],
) -> Vec<Slot<D>> {
    let mut slots: Vec<Slot<D>> = Vec::new();
    for s in sessions {
        let step = s.slot_minutes.max(1);
        let mut t = s.start.minutes();
        while t + step <= s.end.minutes() {
            let on_leave = leave.iter().any(|(from, to)| {
                let from = from.map_or(0, WallTime::minutes);
                let to = to.map_or(24 * 60, WallTime::minutes);
                t < to && t + step > from
            });
            if !on_leave && !slots.iter().any(|x| x.time.minutes() == t) {
                slots.push(Slot {
                    time: WallTime(t),
                    minutes: step,
                    capacity: s.capacity,
                    overbook: s.overbook,
                    department: s.department.clone(),
                });
            }
            t += step;
        }
    }
    slots.sort_by_key(|s| s.time);
    slots
}

/// A doctor's weekly session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleTemplate {
    pub id: Uuid,
    pub doctor_id: Uuid,
    pub department_id: Uuid,
    pub weekday: i16,
    pub start_time: String,
    pub end_time: String,
    pub slot_minutes: i32,
    pub capacity: i32,
    pub overbook: i32,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Leave (no sessions) or an extra session on one date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleException {
    pub id: Uuid,
    pub doctor_id: Option<Uuid>,
    pub date: NaiveDate,
    pub kind: ExceptionKind,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub department_id: Option<Uuid>,
    pub slot_minutes: Option<i32>,
    pub capacity: Option<i32>,
    pub reason: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> WallTime {
        WallTime::parse(s, "t").unwrap()
    }

    #[test]
    fn wall_times() {
        assert_eq!(t("9:05").to_string(), "09:05");
        assert!(WallTime::parse("24:00", "t").is_err());
        assert!(WallTime::parse("12:60", "t").is_err());
        assert!(WallTime::parse("noon", "t").is_err());
        assert!(WallTime::parse("09:300", "t").is_err());
    }

    #[test]
    fn only_legal_moves() {
        use AppointmentStatus as S;
        assert_eq!(S::Booked.after(Transition::CheckIn), Some(S::CheckedIn));
        assert_eq!(S::CheckedIn.after(Transition::Start), Some(S::InConsultation));
        assert_eq!(S::InConsultation.after(Transition::Finish), Some(S::Finished));
        assert_eq!(S::Booked.after(Transition::Finish), None);
        assert_eq!(S::Finished.after(Transition::Cancel), None);
        assert_eq!(S::Cancelled.after(Transition::CheckIn), None);
        assert_eq!(S::CheckedIn.after(Transition::NoShow), None);
        assert!(!S::Cancelled.holds_seat() && !S::NoShow.holds_seat() && !S::Rescheduled.holds_seat());
        assert!(S::Finished.holds_seat());
    }

    #[test]
    fn slots_follow_sessions_and_leave() {
        let morning = Session {
            start: t("09:00"),
            end: t("10:00"),
            slot_minutes: 15,
            capacity: 1,
            overbook: 0,
            department: 1,
        };
        let evening = Session {
            start: t("17:00"),
            end: t("17:50"),
            slot_minutes: 20,
            capacity: 2,
            overbook: 1,
            department: 2,
        };
        let all = day_slots(&[evening.clone(), morning.clone()], &[]);
        let times: Vec<String> = all.iter().map(|s| s.time.to_string()).collect();
        assert_eq!(
            times,
            vec!["09:00", "09:15", "09:30", "09:45", "17:00", "17:20"],
            "17:40 would end after 17:50"
        );
        // Leave from 09:20 to 09:40 removes the two slots it overlaps.
        let partial = day_slots(std::slice::from_ref(&morning), &[(Some(t("09:20")), Some(t("09:40")))]);
        assert_eq!(partial.iter().map(|s| s.time.to_string()).collect::<Vec<_>>(), vec!["09:00", "09:45"]);
        assert!(day_slots(&[morning, evening], &[(None, None)]).is_empty(), "a whole day of leave");
    }
}
