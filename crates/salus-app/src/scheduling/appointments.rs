//! Appointments: booking into a slot, the status machine (check in, start, finish,
//! cancel, no-show), rescheduling, and the day's list. A booking takes the lowest free
//! seat of its slot; the unique (doctor, date, time, seat) index decides any race, and the
//! loser is told the slot is taken, with the next free ones.

use chrono::{NaiveDate, Utc};
use salus_core::organisation::parse_optional_label;
use salus_core::scheduling::{AppointmentStatus, Transition, WallTime};
use salus_core::{AppointmentId, DepartmentId, FieldError, PatientId, UserId};
use salus_db::entity::appointment;
use salus_db::patients as patients_q;
use salus_db::scheduling as q;
use salus_db::{DbErr, error::is_unique_violation};
use serde::Serialize;
use serde_json::json;

use super::{local_now, to_utc};
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::patients::{actor_id, timeline_row};
use crate::{AppError, Ctx};

/// An appointment as the rest of the program sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Appointment {
    pub id: AppointmentId,
    pub patient_id: PatientId,
    pub doctor_id: UserId,
    pub department_id: Option<DepartmentId>,
    pub date: NaiveDate,
    pub time: Option<WallTime>,
    pub starts_at: chrono::DateTime<Utc>,
    pub minutes: i32,
    pub status: AppointmentStatus,
    pub reason: Option<String>,
    pub token: Option<i32>,
    pub cancel_reason: Option<String>,
    pub rescheduled_to: Option<AppointmentId>,
    pub version: i32,
    pub updated_at: chrono::DateTime<Utc>,
}

impl TryFrom<appointment::Model> for Appointment {
    type Error = AppError;

    fn try_from(r: appointment::Model) -> Result<Self, AppError> {
        let status = r.status;
        Ok(Self {
            id: r.id.into(),
            patient_id: r.patient_id.into(),
            doctor_id: r.doctor_id.into(),
            department_id: r.department_id.map(Into::into),
            date: r.slot_date,
            time: r.slot_time.as_deref().and_then(|t| WallTime::parse(t, "time").ok()),
            starts_at: r.starts_at,
            minutes: r.duration_minutes,
            status,
            reason: r.reason,
            token: r.token,
            cancel_reason: r.cancel_reason,
            rescheduled_to: r.rescheduled_to.map(Into::into),
            version: r.version,
            updated_at: r.updated_at,
        })
    }
}

/// A booking as asked for.
#[derive(Debug, Clone)]
pub struct BookInput {
    pub patient_id: PatientId,
    pub doctor_id: UserId,
    pub date: NaiveDate,
    pub time: String,
    pub reason: String,
    /// Reception knowingly gives one of the slot's extra places.
    pub overbook: bool,
}

/// How many times a booking retries after losing a seat to a racer before it gives up.
const SEAT_ATTEMPTS: usize = 8;

impl crate::Scheduling<'_> {
    /// Books a slot. Refuses a slot in the past, outside the doctor's sessions or on leave,
    /// an inactive doctor or patient, and a full slot (409 with the next free ones).
    #[tracing::instrument(skip_all, fields(patient_id = %input.patient_id))]
    pub async fn book(&self, ctx: &Ctx, input: BookInput) -> Result<Appointment, AppError> {
        self.authorize(ctx, Permission::AppointmentsBook).await?;
        let mut last = None;
        for _ in 0..SEAT_ATTEMPTS {
            match self.try_book(ctx, &input, None).await {
                Err(Attempt::Lost(e)) => last = Some(e),
                Err(Attempt::Failed(e)) => return Err(e),
                Ok(a) => return Ok(a),
            }
        }
        // Every attempt lost a race: the slot filled up under us.
        tracing::warn!(error = ?last, "booking lost every race for a seat");
        Err(self.slot_taken(input.doctor_id, input.date).await)
    }

    async fn slot_taken(&self, doctor: UserId, date: NaiveDate) -> AppError {
        match self.free_slots_of(&[doctor.as_uuid()], None, date, 14, 5).await {
            Ok(next) => AppError::SlotTaken { next },
            Err(e) => e,
        }
    }

    /// One attempt in one transaction; `replacing` is the appointment a reschedule moves.
    async fn try_book(
        &self,
        ctx: &Ctx,
        input: &BookInput,
        replacing: Option<(&appointment::Model, i32)>,
    ) -> Result<Appointment, Attempt> {
        let txn = self.db.begin_write().await.map_err(Attempt::failed)?;
        let mut errors = Vec::new();
        let time = WallTime::parse(&input.time, "time").map_err(|e| errors.push(e)).ok();
        let reason =
            parse_optional_label(&input.reason, "reason", 300).map_err(|e| errors.push(e)).ok().flatten();
        let patient =
            patients_q::find_patient(&txn, input.patient_id.as_uuid()).await.map_err(Attempt::failed)?;
        match &patient {
            None => return Err(Attempt::Failed(AppError::NotFound("patient"))),
            Some(p) if !p.active || p.merged_into.is_some() || p.deceased_at.is_some() => {
                errors.push(FieldError::new(
                    "patient_id",
                    "this record is not active (merged, deactivated or deceased)",
                ));
            }
            Some(_) => {}
        }
        if !self.is_active_doctor(&txn, input.doctor_id).await.map_err(Attempt::Failed)? {
            errors.push(FieldError::new("doctor_id", "choose an active doctor"));
        }
        let (today, now) = local_now(self.time_zone);
        if input.date < today || (input.date == today && time.is_some_and(|t| t.minutes() <= now)) {
            errors.push(FieldError::new("time", "is in the past"));
        }
        let Some(time) = time.filter(|_| errors.is_empty()) else {
            return Err(Attempt::Failed(AppError::Invalid(errors)));
        };
        let doctor = input.doctor_id.as_uuid();
        let day = self.slots(&txn, &[doctor], input.date, 1).await.map_err(Attempt::Failed)?;
        let slot = day.into_iter().flat_map(|(_, _, d)| d.slots).find(|(s, _)| s.time == time);
        let Some((slot, _)) = slot else {
            let e =
                FieldError::new("time", "is not a slot of this doctor on that day (no session, or on leave)");
            return Err(Attempt::Failed(AppError::Invalid(vec![e])));
        };
        let places = slot.capacity + if input.overbook { slot.overbook } else { 0 };
        let held =
            q::seats_in_slot(&txn, doctor, input.date, &time.to_string()).await.map_err(Attempt::failed)?;
        let Some(seat) = (1..=i32::from(places)).find(|s| !held.contains(s)) else {
            drop(txn);
            return Err(Attempt::Failed(self.slot_taken(input.doctor_id, input.date).await));
        };
        let now_utc = Utc::now();
        let row = appointment::Model {
            id: AppointmentId::new().as_uuid(),
            patient_id: input.patient_id.as_uuid(),
            doctor_id: doctor,
            department_id: Some(slot.department.as_uuid()),
            slot_date: input.date,
            slot_time: Some(time.to_string()),
            starts_at: to_utc(self.time_zone, input.date, time),
            duration_minutes: i32::from(slot.minutes),
            seat: Some(seat),
            kind: "booked".into(),
            status: AppointmentStatus::Booked,
            reason,
            token: None,
            cancel_reason: None,
            rescheduled_to: None,
            created_by: actor_id(ctx),
            created_at: now_utc,
            updated_at: now_utc,
            checked_in_at: None,
            started_at: None,
            finished_at: None,
            version: 1,
        };
        if let Err(e) = q::insert_appointment(&txn, row.clone()).await {
            return Err(if is_seat_clash(&e) { Attempt::Lost(e) } else { Attempt::failed(e) });
        }
        let summary = format!("Appointment booked for {} {}", input.date.format("%d %b %Y"), time);
        let (action, detail) = match replacing {
            Some((old, version)) => {
                let mut moved = old.clone();
                moved.status = AppointmentStatus::Rescheduled;
                (moved.seat, moved.rescheduled_to, moved.version, moved.updated_at) =
                    (None, Some(row.id), version + 1, now_utc);
                if !q::update_appointment(&txn, moved).await.map_err(Attempt::failed)? {
                    return Err(Attempt::Failed(crate::organisation::stale("appointment")));
                }
                (
                    "appointment.reschedule",
                    json!({ "from": old.id, "date": row.slot_date, "time": row.slot_time }),
                )
            }
            None => (
                "appointment.book",
                json!({ "doctor_id": doctor, "date": row.slot_date, "time": row.slot_time }),
            ),
        };
        patients_q::insert_timeline(&txn, vec![timeline_row(row.patient_id, "appointment", summary, ctx)])
            .await
            .map_err(Attempt::failed)?;
        let message = if let Some((old, _)) = replacing {
            self.notifications().cancel_messages(&txn, old.id).await.map_err(Attempt::Failed)?;
            "appointment_rescheduled"
        } else {
            "appointment_booked"
        };
        self.notifications()
            .queue_appointment_messages(&txn, &row, message)
            .await
            .map_err(Attempt::Failed)?;
        let event = Event::new(action, "appointment", Some(row.id.to_string()))
            .patient(row.patient_id)
            .detail(detail);
        audit::record(&txn, ctx, event).await.map_err(Attempt::failed)?;
        txn.commit().await.map_err(Attempt::failed)?;
        Appointment::try_from(row).map_err(Attempt::Failed)
    }

    /// Moves a booked appointment to another slot (of another doctor when `doctor` says
    /// so), in one transaction: the new one is booked and the old one gives its seat back.
    #[tracing::instrument(skip_all, fields(appointment_id = %id))]
    pub async fn reschedule(
        &self,
        ctx: &Ctx,
        id: AppointmentId,
        version: i32,
        date: NaiveDate,
        time: String,
        doctor: Option<UserId>,
    ) -> Result<Appointment, AppError> {
        self.authorize(ctx, Permission::AppointmentsBook).await?;
        let old = q::find_appointment(self.db.reader(), id.as_uuid())
            .await?
            .ok_or(AppError::NotFound("appointment"))?;
        if old.status != AppointmentStatus::Booked {
            return Err(AppError::Conflict(format!("a {} appointment cannot be rescheduled", old.status)));
        }
        if old.version != version {
            return Err(crate::organisation::stale_version("appointment", old.version));
        }
        let input = BookInput {
            patient_id: old.patient_id.into(),
            doctor_id: doctor.unwrap_or_else(|| old.doctor_id.into()),
            date,
            time,
            reason: old.reason.clone().unwrap_or_default(),
            overbook: false,
        };
        for _ in 0..SEAT_ATTEMPTS {
            match self.try_book(ctx, &input, Some((&old, version))).await {
                Err(Attempt::Lost(_)) => continue,
                Err(Attempt::Failed(e)) => return Err(e),
                Ok(a) => return Ok(a),
            }
        }
        Err(self.slot_taken(input.doctor_id, date).await)
    }

    /// Moves an appointment along the status machine; only legal moves are made.
    #[tracing::instrument(skip_all, fields(appointment_id = %id))]
    pub async fn transition(
        &self,
        ctx: &Ctx,
        id: AppointmentId,
        version: i32,
        transition: Transition,
        reason: &str,
    ) -> Result<Appointment, AppError> {
        let permission = match transition {
            Transition::Start | Transition::Finish => Permission::AppointmentsConsult,
            _ => Permission::AppointmentsBook,
        };
        self.authorize(ctx, permission).await?;
        let txn = self.db.begin_write().await?;
        let mut row =
            q::find_appointment(&txn, id.as_uuid()).await?.ok_or(AppError::NotFound("appointment"))?;
        let current = Appointment::try_from(row.clone())?;
        let Some(next) = current.status.after(transition) else {
            return Err(AppError::Conflict(format!(
                "an appointment that is {} cannot be moved to {}",
                current.status.label().to_lowercase(),
                transition.as_str()
            )));
        };
        if current.version != version {
            return Err(crate::organisation::stale_version("appointment", current.version));
        }
        let (today, _) = local_now(self.time_zone);
        match transition {
            // Checking in tomorrow's patient by mistake would take tomorrow's token and
            // leave them out of today's queue.
            Transition::CheckIn if current.date != today => {
                return Err(AppError::Conflict("only an appointment of today can be checked in".into()));
            }
            Transition::NoShow if current.starts_at > Utc::now() => {
                return Err(AppError::Conflict(
                    "a patient can be marked as not come only after the time".into(),
                ));
            }
            // A doctor starts and finishes their own consultations.
            Transition::Start | Transition::Finish
                if ctx.actor.user().is_some_and(|u| u.id != current.doctor_id) =>
            {
                return Err(AppError::Conflict("this is another doctor's patient".into()));
            }
            _ => {}
        }
        let reason = parse_optional_label(reason, "reason", 300)?;
        if transition == Transition::Cancel && reason.is_none() {
            return Err(AppError::field("reason", "say why it is cancelled"));
        }
        let now = Utc::now();
        match transition {
            Transition::CheckIn => {
                row.checked_in_at = Some(now);
                row.token = Some(q::next_token(&txn, row.doctor_id, row.slot_date).await?);
            }
            Transition::Start => row.started_at = Some(now),
            Transition::Finish => row.finished_at = Some(now),
            Transition::Cancel => row.cancel_reason = reason.clone(),
            Transition::NoShow => {}
        }
        row.status = next;
        if !next.holds_seat() {
            row.seat = None;
        }
        (row.version, row.updated_at) = (version + 1, now);
        if !q::update_appointment(&txn, row.clone()).await? {
            return Err(crate::organisation::stale("appointment"));
        }
        let summary = match transition {
            Transition::CheckIn => format!("Checked in (token {})", row.token.unwrap_or_default()),
            Transition::Start => "Consultation started".into(),
            Transition::Finish => "Consultation finished".into(),
            Transition::Cancel => format!("Appointment cancelled: {}", reason.clone().unwrap_or_default()),
            Transition::NoShow => "Did not come to the appointment".into(),
        };
        patients_q::insert_timeline(&txn, vec![timeline_row(row.patient_id, "appointment", summary, ctx)])
            .await?;
        if !next.holds_seat() {
            self.notifications().cancel_messages(&txn, row.id).await?;
        }
        if transition == Transition::Cancel {
            self.notifications().queue_appointment_messages(&txn, &row, "appointment_cancelled").await?;
        }
        let event = Event::new("appointment.status", "appointment", Some(id.to_string()))
            .patient(row.patient_id)
            .detail(json!({ "from": current.status, "to": next, "reason": reason }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Appointment::try_from(row)
    }

    /// One appointment (its read audited against the patient).
    pub async fn appointment(&self, ctx: &Ctx, id: AppointmentId) -> Result<Appointment, AppError> {
        self.authorize(ctx, Permission::AppointmentsRead).await?;
        let row = q::find_appointment(self.db.reader(), id.as_uuid())
            .await?
            .ok_or(AppError::NotFound("appointment"))?;
        let a = Appointment::try_from(row)?;
        self.audit_appointment_reads(ctx, std::slice::from_ref(&a)).await?;
        Ok(a)
    }

    /// A day's appointments, of one doctor or all, in time order (each read audited).
    pub async fn appointments_on(
        &self,
        ctx: &Ctx,
        date: NaiveDate,
        doctor: Option<UserId>,
    ) -> Result<Vec<Appointment>, AppError> {
        self.authorize(ctx, Permission::AppointmentsRead).await?;
        let ids = doctor.map(|d| [d.as_uuid()]);
        let rows = q::appointments_on(self.db.reader(), date, ids.as_ref().map(|i| i.as_slice())).await?;
        let list = rows.into_iter().map(Appointment::try_from).collect::<Result<Vec<_>, _>>()?;
        self.audit_appointment_reads(ctx, &list).await?;
        Ok(list)
    }

    async fn audit_appointment_reads(&self, ctx: &Ctx, list: &[Appointment]) -> Result<(), AppError> {
        let events = list
            .iter()
            .map(|a| {
                audit::row(
                    ctx,
                    Event::new("appointment.read", "appointment", Some(a.id.to_string()))
                        .patient(a.patient_id.as_uuid()),
                )
            })
            .collect();
        self.reads.record(events).await
    }
}

/// The waiting room of one doctor on one day: who is with the doctor, who waits (by
/// token).
#[derive(Debug, Clone, Serialize)]
pub struct Queue {
    pub doctor_id: UserId,
    pub doctor_name: String,
    pub current: Option<Appointment>,
    pub waiting: Vec<Appointment>,
}

impl crate::Scheduling<'_> {
    /// Registers a walk-in: checked in at once with the doctor's next token, no slot.
    #[tracing::instrument(skip_all, fields(patient_id = %patient_id))]
    pub async fn walk_in(
        &self,
        ctx: &Ctx,
        patient_id: PatientId,
        doctor_id: UserId,
        reason: &str,
    ) -> Result<Appointment, AppError> {
        self.authorize(ctx, Permission::AppointmentsBook).await?;
        let reason = parse_optional_label(reason, "reason", 300)?;
        let txn = self.db.begin_write().await?;
        let patient = patients_q::find_patient(&txn, patient_id.as_uuid())
            .await?
            .ok_or(AppError::NotFound("patient"))?;
        if !patient.active || patient.merged_into.is_some() || patient.deceased_at.is_some() {
            return Err(AppError::field(
                "patient_id",
                "this record is not active (merged, deactivated or deceased)",
            ));
        }
        if !self.is_active_doctor(&txn, doctor_id).await? {
            return Err(AppError::field("doctor_id", "choose an active doctor"));
        }
        let (today, _) = local_now(self.time_zone);
        let department = salus_db::organisation::find_staff_profile(&txn, doctor_id.as_uuid())
            .await?
            .and_then(|p| p.department_id);
        let token = q::next_token(&txn, doctor_id.as_uuid(), today).await?;
        let now = Utc::now();
        let row = appointment::Model {
            id: AppointmentId::new().as_uuid(),
            patient_id: patient.id,
            doctor_id: doctor_id.as_uuid(),
            department_id: department,
            slot_date: today,
            slot_time: None,
            starts_at: now,
            duration_minutes: 0,
            seat: None,
            kind: "walk_in".into(),
            status: AppointmentStatus::CheckedIn,
            reason,
            token: Some(token),
            cancel_reason: None,
            rescheduled_to: None,
            created_by: actor_id(ctx),
            created_at: now,
            updated_at: now,
            checked_in_at: Some(now),
            started_at: None,
            finished_at: None,
            version: 1,
        };
        q::insert_appointment(&txn, row.clone()).await?;
        patients_q::insert_timeline(
            &txn,
            vec![timeline_row(row.patient_id, "appointment", format!("Walked in (token {token})"), ctx)],
        )
        .await?;
        let event = Event::new("appointment.walk_in", "appointment", Some(row.id.to_string()))
            .patient(row.patient_id)
            .detail(json!({ "doctor_id": row.doctor_id, "token": token }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Appointment::try_from(row)
    }

    /// The waiting room of `doctors` (all with appointments today when empty) today. It
    /// shows tokens, not names, so it reads no patient's data.
    pub async fn queues(&self, ctx: &Ctx, doctors: &[UserId]) -> Result<Vec<Queue>, AppError> {
        self.authorize(ctx, Permission::AppointmentsRead).await?;
        let (today, _) = local_now(self.time_zone);
        let ids: Vec<uuid::Uuid> = doctors.iter().map(|d| d.as_uuid()).collect();
        let filter = (!ids.is_empty()).then_some(ids.as_slice());
        let rows = q::appointments_on(self.db.reader(), today, filter).await?;
        let mut queues: Vec<Queue> = Vec::new();
        for row in rows {
            let a = Appointment::try_from(row)?;
            let i = match queues.iter().position(|q| q.doctor_id == a.doctor_id) {
                Some(i) => i,
                None => {
                    let name = salus_db::identity::find_user(self.db.reader(), a.doctor_id.as_uuid())
                        .await?
                        .map(|u| u.user.display_name)
                        .unwrap_or_default();
                    queues.push(Queue {
                        doctor_id: a.doctor_id,
                        doctor_name: name,
                        current: None,
                        waiting: Vec::new(),
                    });
                    queues.len() - 1
                }
            };
            match a.status {
                AppointmentStatus::InConsultation => queues[i].current = Some(a),
                AppointmentStatus::CheckedIn => queues[i].waiting.push(a),
                _ => {}
            }
        }
        for q in &mut queues {
            q.waiting.sort_by_key(|a| a.token);
        }
        queues.sort_by(|a, b| a.doctor_name.cmp(&b.doctor_name));
        Ok(queues)
    }

    /// The signed-in doctor calls the next patient: the lowest token waiting today goes in.
    /// Refused while someone is still in consultation, or when nobody waits.
    pub async fn call_next(&self, ctx: &Ctx) -> Result<Appointment, AppError> {
        self.authorize(ctx, Permission::AppointmentsConsult).await?;
        let Some(doctor) = ctx.actor.user().map(|u| u.id) else { return Err(AppError::Forbidden) };
        let queue = self.queues(ctx, &[doctor]).await?.into_iter().next();
        let Some(queue) = queue else { return Err(AppError::Conflict("nobody is waiting".into())) };
        if queue.current.is_some() {
            return Err(AppError::Conflict("finish the current consultation first".into()));
        }
        let Some(next) = queue.waiting.first() else {
            return Err(AppError::Conflict("nobody is waiting".into()));
        };
        self.transition(ctx, next.id, next.version, Transition::Start, "").await
    }
}

/// A line of the day board: the appointment with the names to show.
#[derive(Debug, Clone, Serialize)]
pub struct BoardRow {
    pub appointment: Appointment,
    /// "Restricted record" for a restricted patient (the MRN still identifies them).
    pub patient_name: String,
    pub mrn: String,
    pub doctor_name: String,
}

impl crate::Scheduling<'_> {
    /// The day's appointments with patient and doctor names, for reception's board and a
    /// doctor's worklist (each patient read audited).
    pub async fn day_board(
        &self,
        ctx: &Ctx,
        date: NaiveDate,
        doctor: Option<UserId>,
    ) -> Result<Vec<BoardRow>, AppError> {
        let list = self.appointments_on(ctx, date, doctor).await?;
        let mut patient_ids: Vec<uuid::Uuid> = list.iter().map(|a| a.patient_id.as_uuid()).collect();
        patient_ids.sort();
        patient_ids.dedup();
        let patients = patients_q::patients_by_ids(self.db.reader(), &patient_ids).await?;
        let mut doctor_ids: Vec<uuid::Uuid> = list.iter().map(|a| a.doctor_id.as_uuid()).collect();
        doctor_ids.sort();
        doctor_ids.dedup();
        let mut doctors = Vec::new();
        for id in doctor_ids {
            if let Some(u) = salus_db::identity::find_user(self.db.reader(), id).await? {
                doctors.push((id, u.user.display_name));
            }
        }
        Ok(list
            .into_iter()
            .map(|a| {
                let p = patients.iter().find(|p| p.id == a.patient_id.as_uuid());
                let patient_name = match p {
                    Some(p) if p.restricted => "Restricted record".to_owned(),
                    Some(p) => format!("{} {}", p.given_names, p.family_name).trim().to_owned(),
                    None => String::new(),
                };
                let doctor_name = doctors
                    .iter()
                    .find(|(id, _)| *id == a.doctor_id.as_uuid())
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default();
                BoardRow {
                    patient_name,
                    mrn: p.map(|p| p.mrn.clone()).unwrap_or_default(),
                    doctor_name,
                    appointment: a,
                }
            })
            .collect())
    }
}

/// How one booking attempt ended when it did not book.
enum Attempt {
    /// Another booking took the seat first; try again.
    Lost(DbErr),
    Failed(AppError),
}

impl Attempt {
    fn failed(e: impl Into<AppError>) -> Attempt {
        Attempt::Failed(e.into())
    }
}

fn is_seat_clash(e: &DbErr) -> bool {
    is_unique_violation(
        e,
        "appointments_seat_key",
        "appointments.doctor_id, appointments.slot_date, appointments.slot_time, appointments.seat",
    )
}
