//! Weekly session templates and the exceptions to them (leave, holidays, extra sessions).
//! A template never overlaps another of the same doctor on the same weekday while both
//! are valid, so a slot has one capacity.

use chrono::{NaiveDate, Utc};
use salus_core::organisation::parse_optional_label;
use salus_core::scheduling::{ExceptionKind, WallTime};
use salus_core::{DepartmentId, ExceptionId, FieldError, TemplateId, UserId};
use salus_db::entity::{schedule_exception, schedule_template};
use salus_db::organisation as org_q;
use salus_db::scheduling as q;
use serde_json::json;

use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::organisation::Checker;
use crate::{AppError, Ctx};

/// A weekly session as typed.
#[derive(Debug, Clone)]
pub struct TemplateInput {
    pub doctor_id: UserId,
    pub department_id: DepartmentId,
    /// 1 Monday … 7 Sunday.
    pub weekday: i16,
    pub start: String,
    pub end: String,
    pub slot_minutes: i32,
    pub capacity: i32,
    pub overbook: i32,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

/// An exception as typed: `kind` "leave" (times optional: the whole day) or "extra".
#[derive(Debug, Clone)]
pub struct ExceptionInput {
    /// `None`: everyone (a holiday).
    pub doctor_id: Option<UserId>,
    pub date: NaiveDate,
    pub kind: String,
    pub start: String,
    pub end: String,
    pub department_id: Option<DepartmentId>,
    pub slot_minutes: Option<i32>,
    pub capacity: Option<i32>,
    pub reason: String,
}

fn overlaps(a: &schedule_template::Model, b: &schedule_template::Model) -> bool {
    let dates = a.valid_from <= b.valid_until.unwrap_or(NaiveDate::MAX)
        && b.valid_from <= a.valid_until.unwrap_or(NaiveDate::MAX);
    a.weekday == b.weekday && dates && a.start_time < b.end_time && b.start_time < a.end_time
}

impl crate::Scheduling<'_> {
    /// Adds a weekly session.
    #[tracing::instrument(skip_all)]
    pub async fn create_template(
        &self,
        ctx: &Ctx,
        input: TemplateInput,
    ) -> Result<salus_core::scheduling::ScheduleTemplate, AppError> {
        self.authorize(ctx, Permission::SchedulesManage).await?;
        let txn = self.db.begin_write().await?;
        // Two administrators adding sessions for one doctor take turns, so the overlap
        // check below sees the other's.
        salus_db::identity::lock_user(&txn, input.doctor_id.as_uuid()).await?;
        let mut c = Checker::default();
        let start = c.take(WallTime::parse(&input.start, "start"));
        let end = c.take(WallTime::parse(&input.end, "end"));
        if let (Some(s), Some(e)) = (start, end)
            && s >= e
        {
            c.push(FieldError::new("end", "must be after the start"));
        }
        if !(1..=7).contains(&input.weekday) {
            c.push(FieldError::new("weekday", "choose a day from Monday (1) to Sunday (7)"));
        }
        if !(5..=240).contains(&input.slot_minutes) {
            c.push(FieldError::new("slot_minutes", "use 5 to 240 minutes"));
        } else if let (Some(s), Some(e)) = (start, end)
            && i32::from(e.minutes() - s.minutes().min(e.minutes())) < input.slot_minutes
        {
            c.push(FieldError::new("slot_minutes", "no slot fits between the start and the end"));
        }
        if !(1..=50).contains(&input.capacity) {
            c.push(FieldError::new("capacity", "use 1 to 50 patients a slot"));
        }
        if !(0..=50).contains(&input.overbook) {
            c.push(FieldError::new("overbook", "use 0 to 50 extra places"));
        }
        if input.valid_until.is_some_and(|u| u < input.valid_from) {
            c.push(FieldError::new("valid_until", "must not be before the first day"));
        }
        if !self.is_active_doctor(&txn, input.doctor_id).await? {
            c.push(FieldError::new("doctor_id", "choose an active doctor"));
        }
        match org_q::find_department(&txn, input.department_id.as_uuid()).await? {
            Some(d) if d.active => {}
            _ => c.push(FieldError::new("department_id", "choose a department in use")),
        }
        let (start, end) = c.finish(start.zip(end))?;
        let now = Utc::now();
        let row = schedule_template::Model {
            id: TemplateId::new().as_uuid(),
            doctor_id: input.doctor_id.as_uuid(),
            department_id: input.department_id.as_uuid(),
            weekday: input.weekday,
            start_time: start.to_string(),
            end_time: end.to_string(),
            slot_minutes: input.slot_minutes,
            capacity: input.capacity,
            overbook: input.overbook,
            valid_from: input.valid_from,
            valid_until: input.valid_until,
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let existing = q::templates(&txn, Some(&[row.doctor_id])).await?;
        if existing.iter().any(|t| t.active && overlaps(t, &row)) {
            return Err(AppError::field("start", "overlaps another session of this doctor on that day"));
        }
        q::insert_template(&txn, row.clone()).await?;
        let event = Event::new("schedule.template_create", "schedule_template", Some(row.id.to_string())).detail(json!({
            "doctor_id": row.doctor_id, "weekday": row.weekday, "start": row.start_time, "end": row.end_time,
            "slot_minutes": row.slot_minutes, "capacity": row.capacity,
        }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Ends a weekly session (booked appointments stay; no new slots are offered).
    #[tracing::instrument(skip_all, fields(template_id = %id))]
    pub async fn retire_template(&self, ctx: &Ctx, id: TemplateId, version: i32) -> Result<(), AppError> {
        self.authorize(ctx, Permission::SchedulesManage).await?;
        let txn = self.db.begin_write().await?;
        let mut row = q::find_template(&txn, id.as_uuid()).await?.ok_or(AppError::NotFound("session"))?;
        (row.active, row.version, row.updated_at) = (false, version + 1, Utc::now());
        if !q::update_template(&txn, row).await? {
            return Err(crate::organisation::stale("session"));
        }
        audit::record(
            &txn,
            ctx,
            Event::new("schedule.template_retire", "schedule_template", Some(id.to_string())),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Weekly sessions, of one doctor or all.
    pub async fn templates(
        &self,
        ctx: &Ctx,
        doctor: Option<UserId>,
    ) -> Result<Vec<salus_core::scheduling::ScheduleTemplate>, AppError> {
        self.authorize(ctx, Permission::AppointmentsRead).await?;
        let ids = doctor.map(|d| [d.as_uuid()]);
        Ok(crate::records(q::templates(self.db.reader(), ids.as_ref().map(|i| i.as_slice())).await?))
    }

    /// Adds leave, a holiday or an extra session.
    #[tracing::instrument(skip_all)]
    pub async fn add_exception(
        &self,
        ctx: &Ctx,
        input: ExceptionInput,
    ) -> Result<salus_core::scheduling::ScheduleException, AppError> {
        self.authorize(ctx, Permission::SchedulesManage).await?;
        let txn = self.db.begin_write().await?;
        let mut c = Checker::default();
        let time = |t: &str, f: &'static str| {
            if t.trim().is_empty() { Ok(None) } else { WallTime::parse(t, f).map(Some) }
        };
        let start = c.take(time(&input.start, "start")).flatten();
        let end = c.take(time(&input.end, "end")).flatten();
        if let (Some(s), Some(e)) = (start, end)
            && s >= e
        {
            c.push(FieldError::new("end", "must be after the start"));
        }
        let reason = c.take(parse_optional_label(&input.reason, "reason", 200)).flatten();
        if let Some(d) = input.doctor_id
            && !self.is_active_doctor(&txn, d).await?
        {
            c.push(FieldError::new("doctor_id", "choose an active doctor"));
        }
        let kind = ExceptionKind::parse(&input.kind, "kind");
        match &kind {
            Ok(ExceptionKind::Leave) => {
                if start.is_some() != end.is_some() {
                    c.push(FieldError::new("end", "give both times, or neither for the whole day"));
                }
            }
            Ok(ExceptionKind::Extra) => {
                if input.doctor_id.is_none() {
                    c.push(FieldError::new("doctor_id", "an extra session is a doctor's"));
                }
                if start.is_none() || end.is_none() {
                    c.push(FieldError::new("start", "an extra session needs its start and end"));
                }
                match input.department_id {
                    Some(d) if org_q::find_department(&txn, d.as_uuid()).await?.is_some_and(|x| x.active) => {
                    }
                    _ => c.push(FieldError::new("department_id", "choose a department in use")),
                }
                if !(5..=240).contains(&input.slot_minutes.unwrap_or(15)) {
                    c.push(FieldError::new("slot_minutes", "use 5 to 240 minutes"));
                }
                if !(1..=50).contains(&input.capacity.unwrap_or(1)) {
                    c.push(FieldError::new("capacity", "use 1 to 50 patients a slot"));
                }
            }
            Err(e) => c.push(e.clone()),
        }
        let kind = c.finish(kind.ok())?;
        let extra = kind == ExceptionKind::Extra;
        let row = schedule_exception::Model {
            id: ExceptionId::new().as_uuid(),
            doctor_id: input.doctor_id.map(|d| d.as_uuid()),
            date: input.date,
            kind,
            start_time: start.map(|t| t.to_string()),
            end_time: end.map(|t| t.to_string()),
            department_id: input.department_id.filter(|_| extra).map(|d| d.as_uuid()),
            slot_minutes: extra.then_some(input.slot_minutes.unwrap_or(15)),
            capacity: extra.then_some(input.capacity.unwrap_or(1)),
            reason,
            created_by: crate::patients::actor_id(ctx),
            created_at: Utc::now(),
        };
        q::insert_exception(&txn, row.clone()).await?;
        let event = Event::new("schedule.exception_add", "schedule_exception", Some(row.id.to_string())).detail(json!({
            "doctor_id": row.doctor_id, "date": row.date, "kind": row.kind, "start": row.start_time, "end": row.end_time,
        }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Removes an exception.
    pub async fn remove_exception(&self, ctx: &Ctx, id: ExceptionId) -> Result<(), AppError> {
        self.authorize(ctx, Permission::SchedulesManage).await?;
        let txn = self.db.begin_write().await?;
        if !q::delete_exception(&txn, id.as_uuid()).await? {
            return Err(AppError::NotFound("exception"));
        }
        audit::record(
            &txn,
            ctx,
            Event::new("schedule.exception_remove", "schedule_exception", Some(id.to_string())),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Exceptions from `from` to `to`.
    pub async fn exceptions(
        &self,
        ctx: &Ctx,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<salus_core::scheduling::ScheduleException>, AppError> {
        self.authorize(ctx, Permission::AppointmentsRead).await?;
        Ok(crate::records(q::exceptions(self.db.reader(), None, from, to).await?))
    }
}
