//! Scheduling: doctors' weekly sessions and their exceptions (`availability`), free slots
//! derived from them and the bookings, and appointments through their status machine
//! (`appointments`). Times are the facility's wall clock in its time zone.

pub mod appointments;
pub mod availability;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use salus_core::scheduling::{Session, Slot, WallTime, day_slots};
use salus_core::{DepartmentId, Role, UserId};
use salus_db::entity::{schedule_exception, schedule_template};
use salus_db::identity as users_q;
use salus_db::scheduling as q;
use serde::Serialize;
use uuid::Uuid;

pub use appointments::{Appointment, BoardRow, BookInput, Queue};
pub use availability::{ExceptionInput, TemplateInput};

use crate::identity::Permission;
use crate::{AppError, Ctx};

/// A slot with places left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FreeSlot {
    pub doctor_id: UserId,
    pub date: NaiveDate,
    pub time: WallTime,
    pub minutes: u16,
    pub department_id: DepartmentId,
    pub capacity: u16,
    pub taken: u16,
}

/// One slot of a doctor's day as the standard doors serve it: free while places are left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotPlaces {
    pub doctor_id: UserId,
    pub date: NaiveDate,
    pub time: WallTime,
    pub starts_at: DateTime<Utc>,
    pub minutes: u16,
    pub department_id: DepartmentId,
    pub capacity: u16,
    pub taken: u16,
}

/// The wall-clock moment `date` `time` in `tz`, in UTC. A time skipped by a daylight-saving
/// jump is taken an hour later; an ambiguous one is the earlier.
pub fn to_utc(tz: Tz, date: NaiveDate, time: WallTime) -> DateTime<Utc> {
    let naive = date.and_time(time.to_naive());
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        chrono::LocalResult::None => {
            let later = naive + chrono::Duration::hours(1);
            tz.from_local_datetime(&later)
                .earliest()
                .map_or_else(|| Utc.from_utc_datetime(&naive), |t| t.with_timezone(&Utc))
        }
    }
}

/// Today on the facility's clock, and the minute of the day.
pub fn local_now(tz: Tz) -> (NaiveDate, u16) {
    let now = Utc::now().with_timezone(&tz);
    let minutes =
        u16::try_from(now.time().signed_duration_since(chrono::NaiveTime::MIN).num_minutes()).unwrap_or(0);
    (now.date_naive(), minutes)
}

fn weekday(date: NaiveDate) -> i16 {
    use chrono::Datelike;
    i16::try_from(date.weekday().number_from_monday()).unwrap_or(1)
}

/// Stretches of leave in a day (`None`: from its start, to its end).
type Leave = Vec<(Option<WallTime>, Option<WallTime>)>;

/// The sessions and leave of one doctor on one day.
fn sessions_on(
    templates: &[schedule_template::Model],
    exceptions: &[schedule_exception::Model],
    doctor: Uuid,
    date: NaiveDate,
) -> (Vec<Session<DepartmentId>>, Leave) {
    let time = |t: &str| WallTime::parse(t, "time").ok();
    let small = |v: i32| u16::try_from(v).unwrap_or(0);
    let mut sessions: Vec<Session<DepartmentId>> = templates
        .iter()
        .filter(|t| {
            t.doctor_id == doctor
                && t.active
                && t.weekday == weekday(date)
                && t.valid_from <= date
                && t.valid_until.is_none_or(|u| date <= u)
        })
        .filter_map(|t| {
            Some(Session {
                start: time(&t.start_time)?,
                end: time(&t.end_time)?,
                slot_minutes: small(t.slot_minutes),
                capacity: small(t.capacity),
                overbook: small(t.overbook),
                department: DepartmentId::from_uuid(t.department_id),
            })
        })
        .collect();
    let mut leave = Vec::new();
    for e in exceptions.iter().filter(|e| e.date == date && e.doctor_id.is_none_or(|d| d == doctor)) {
        match e.kind.as_str() {
            "leave" => {
                leave.push((e.start_time.as_deref().and_then(time), e.end_time.as_deref().and_then(time)))
            }
            "extra" if e.doctor_id == Some(doctor) => {
                if let (Some(start), Some(end), Some(dept)) = (
                    e.start_time.as_deref().and_then(time),
                    e.end_time.as_deref().and_then(time),
                    e.department_id,
                ) {
                    sessions.push(Session {
                        start,
                        end,
                        slot_minutes: small(e.slot_minutes.unwrap_or(15)),
                        capacity: small(e.capacity.unwrap_or(1)),
                        overbook: 0,
                        department: DepartmentId::from_uuid(dept),
                    });
                }
            }
            _ => {}
        }
    }
    (sessions, leave)
}

/// A day's slots of a doctor with the places taken in each.
pub(crate) struct DaySlots {
    pub slots: Vec<(Slot<DepartmentId>, u16)>,
}

impl crate::Scheduling<'_> {
    /// Doctors who hold the doctor role and an active account.
    pub(crate) async fn is_active_doctor<C: salus_db::ConnectionTrait>(
        &self,
        conn: &C,
        id: UserId,
    ) -> Result<bool, AppError> {
        let user = users_q::find_user(conn, id.as_uuid()).await?;
        Ok(user.is_some_and(|u| u.user.active && u.roles.iter().any(|r| r == Role::Doctor.as_str())))
    }

    /// The slots of `doctors` from `from` for `days` days, with places taken.
    pub(crate) async fn slots<C: salus_db::ConnectionTrait>(
        &self,
        conn: &C,
        doctors: &[Uuid],
        from: NaiveDate,
        days: u32,
    ) -> Result<Vec<(Uuid, NaiveDate, DaySlots)>, AppError> {
        let to = from + chrono::Duration::days(i64::from(days.max(1)) - 1);
        // Grouped once, so a department's 90 days cost one pass over each list.
        let mut templates: HashMap<Uuid, Vec<schedule_template::Model>> = HashMap::new();
        for t in q::templates(conn, Some(doctors)).await? {
            templates.entry(t.doctor_id).or_default().push(t);
        }
        let mut exceptions: HashMap<NaiveDate, Vec<schedule_exception::Model>> = HashMap::new();
        for e in q::exceptions(conn, Some(doctors), from, to).await? {
            exceptions.entry(e.date).or_default().push(e);
        }
        let taken: HashMap<(Uuid, NaiveDate, String), u16> = q::seats_taken(conn, Some(doctors), from, to)
            .await?
            .into_iter()
            .map(|(d, day, t, n)| ((d, day, t), u16::try_from(n).unwrap_or(u16::MAX)))
            .collect();
        let mut out = Vec::new();
        for &doctor in doctors {
            let theirs = templates.get(&doctor).map_or(&[][..], Vec::as_slice);
            let mut date = from;
            while date <= to {
                let that_day = exceptions.get(&date).map_or(&[][..], Vec::as_slice);
                let (sessions, leave) = sessions_on(theirs, that_day, doctor, date);
                let slots = day_slots(&sessions, &leave)
                    .into_iter()
                    .map(|s| {
                        let n = taken.get(&(doctor, date, s.time.to_string())).copied().unwrap_or(0);
                        (s, n)
                    })
                    .collect();
                out.push((doctor, date, DaySlots { slots }));
                date += chrono::Duration::days(1);
            }
        }
        Ok(out)
    }

    /// Free slots of some doctors (or of every doctor with a session in `department`)
    /// from `from` for `days` days, never in the past.
    pub async fn free_slots(
        &self,
        ctx: &Ctx,
        doctors: &[UserId],
        department: Option<DepartmentId>,
        from: NaiveDate,
        days: u32,
    ) -> Result<Vec<FreeSlot>, AppError> {
        self.authorize(ctx, Permission::AppointmentsRead).await?;
        if days == 0 || days > 90 {
            return Err(AppError::field("days", "ask for 1 to 90 days"));
        }
        let mut ids: Vec<Uuid> = doctors.iter().map(|d| d.as_uuid()).collect();
        if let Some(dept) = department {
            ids.extend(q::doctors_with_sessions_in(self.db.reader(), dept.as_uuid()).await?);
            ids.sort();
            ids.dedup();
        }
        self.free_slots_of(&ids, department, from, days, usize::MAX).await
    }

    /// Every slot of the doctors (every doctor with weekly sessions when none are named),
    /// free and full, from `from` for `days` days (at most 31).
    pub async fn slot_places(
        &self,
        ctx: &Ctx,
        doctors: &[UserId],
        from: NaiveDate,
        days: u32,
    ) -> Result<Vec<SlotPlaces>, AppError> {
        self.authorize(ctx, Permission::AppointmentsRead).await?;
        if days == 0 || days > 31 {
            return Err(AppError::field("days", "ask for 1 to 31 days"));
        }
        let conn = self.db.reader();
        let mut ids: Vec<Uuid> = doctors.iter().map(|d| d.as_uuid()).collect();
        if ids.is_empty() {
            ids = q::templates(conn, None).await?.into_iter().map(|t| t.doctor_id).collect();
            ids.sort();
            ids.dedup();
        }
        let doctors = users_q::active_with_role(conn, &ids, Role::Doctor.as_str()).await?;
        let mut out = Vec::new();
        for (doctor, date, day) in self.slots(conn, &doctors, from, days).await? {
            for (slot, taken) in day.slots {
                out.push(SlotPlaces {
                    doctor_id: UserId::from_uuid(doctor),
                    date,
                    time: slot.time,
                    starts_at: to_utc(self.time_zone, date, slot.time),
                    minutes: slot.minutes,
                    department_id: slot.department,
                    capacity: slot.capacity,
                    taken,
                });
            }
        }
        out.sort_by_key(|s| (s.starts_at, s.doctor_id));
        Ok(out)
    }

    pub(crate) async fn free_slots_of(
        &self,
        doctors: &[Uuid],
        department: Option<DepartmentId>,
        from: NaiveDate,
        days: u32,
        limit: usize,
    ) -> Result<Vec<FreeSlot>, AppError> {
        let (today, now) = local_now(self.time_zone);
        let from = from.max(today);
        // A disabled account, or one no longer a doctor's, offers no slots.
        let doctors = users_q::active_with_role(self.db.reader(), doctors, Role::Doctor.as_str()).await?;
        let mut free = Vec::new();
        for (doctor, date, day) in self.slots(self.db.reader(), &doctors, from, days).await? {
            for (slot, taken) in day.slots {
                let past = date == today && slot.time.minutes() <= now;
                let wrong_department = department.is_some_and(|d| d != slot.department);
                if taken < slot.capacity && !past && !wrong_department {
                    free.push(FreeSlot {
                        doctor_id: UserId::from_uuid(doctor),
                        date,
                        time: slot.time,
                        minutes: slot.minutes,
                        department_id: slot.department,
                        capacity: slot.capacity,
                        taken,
                    });
                }
            }
        }
        free.sort_by_key(|s| (s.date, s.time, s.doctor_id));
        free.truncate(limit);
        Ok(free)
    }
}
