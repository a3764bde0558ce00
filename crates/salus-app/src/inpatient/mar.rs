//! The medication administration record: a doctor's inpatient medication orders
//! (scheduled times, as needed, once now), the doses they make due on the nurses'
//! station, and the nurse's record of each — given, held, refused or missed, with a
//! reason, late ones flagged against the ward's window. A dose given is taken from the
//! ward's store through the pharmacy's ledger in the same transaction, under the
//! request's idempotency key, and the database allows one record in force per dose, so a
//! double click, a retry or a second screen records (and takes stock) once. A record is
//! never deleted: a correction retires it and writes its amendment; stock follows the
//! correction. An as-needed or once-now dose given waits for a doctor's acknowledgement.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use salus_core::FieldError;
use salus_core::inpatient::Ward;
use salus_core::inpatient::mar::{
    Administration, DoseOutcome, MedicationOrder, OrderKind, OrderStatus, format_times, is_late, parse_times,
};
use salus_core::organisation::{parse_label, parse_optional_label};
use salus_core::pharmacy::{MovementKind, allocate};
use salus_db::ResultExt;
use salus_db::entity::{admission, medication_administration, medication_order, stock_batch, stock_item};
use salus_db::inpatient as q;
use salus_db::inpatient::mar as m;
use serde_json::json;
use uuid::Uuid;

use super::me;
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::laboratory::LabPatient;
use crate::patients::PatientAction;
use crate::pharmacy::Begun;
use crate::pharmacy::stock::{Change, apply};
use crate::{AppError, Ctx};

pub use super::doses::{DueDose, MedicationRecord, STATION_HOURS, WardDoses};

/// A dose's checked fields: its due time, reason and time given.
type Checked = (Option<DateTime<Utc>>, Option<String>, DateTime<Utc>);

/// What a dose's ledger movements are recorded against.
pub const STOCK_SOURCE: &str = "medication_administration";

/// A doctor's medication order.
#[derive(Debug, Clone, Default)]
pub struct OrderInput {
    pub medicine_id: Uuid,
    /// "500 mg".
    pub dose: String,
    /// Base units of the stock item one dose takes (default 1).
    pub units_per_dose: Option<i32>,
    /// Default: the medicine's route.
    pub route: String,
    pub kind: Option<OrderKind>,
    /// Scheduled orders: "08:00, 20:00".
    pub times: String,
    pub instructions: String,
    /// Default: now.
    pub starts_at: Option<DateTime<Utc>>,
    /// Days it runs (none: until stopped or the patient leaves).
    pub duration_days: Option<i32>,
}

/// What a nurse records of a dose.
#[derive(Debug, Clone)]
pub struct DoseInput {
    /// The scheduled time answered (a scheduled order's dose); none for as needed.
    pub due_at: Option<DateTime<Utc>>,
    pub outcome: DoseOutcome,
    /// Required unless given.
    pub reason: String,
    /// Default: now.
    pub given_at: Option<DateTime<Utc>>,
}

impl crate::Inpatient<'_> {
    pub(super) fn window(ward: &Ward) -> Duration {
        Duration::minutes(i64::from(ward.late_minutes))
    }

    /// Hospital wall-clock time to UTC (a time skipped by a clock change has none).
    pub(super) fn hospital_to_utc(&self) -> impl Fn(NaiveDateTime) -> Option<DateTime<Utc>> + '_ {
        move |n| n.and_local_timezone(self.time_zone).earliest().map(|t| t.with_timezone(&Utc))
    }

    /// A stay with its ward, checked to be the caller's to see.
    pub(super) async fn stay_and_ward(
        &self,
        ctx: &Ctx,
        id: Uuid,
    ) -> Result<(admission::Model, salus_db::entity::ward::Model, LabPatient), AppError> {
        let conn = self.db.reader();
        let stay = q::find_admission(conn, id).await?.ok_or(AppError::NotFound("admission"))?;
        let p = self.patients().load_for(ctx, stay.patient_id.into(), PatientAction::Read).await?;
        let ward = q::find_ward(conn, stay.ward_id).await?.ok_or(AppError::NotFound("ward"))?;
        Ok((stay, ward, LabPatient::from(&p)))
    }

    /// A doctor orders a medicine for a patient in a bed.
    pub async fn order_medication(
        &self,
        ctx: &Ctx,
        admission: Uuid,
        input: OrderInput,
    ) -> Result<MedicationOrder, AppError> {
        self.authorize(ctx, Permission::InpatientOrder).await?;
        let (stay, _, p) = self.stay_and_ward(ctx, admission).await?;
        if !stay.status.in_house() {
            return Err(AppError::Conflict(format!(
                "{} has left; nothing more is ordered for the stay",
                stay.number
            )));
        }
        let conn = self.db.reader();
        let mut errors = Vec::new();
        let medicine = salus_db::clinical::find_medicine(conn, input.medicine_id).await?.filter(|m| m.active);
        if medicine.is_none() {
            errors.push(FieldError::new("medicine_id", "choose a medicine of the formulary"));
        }
        let dose = parse_label(&input.dose, "dose", 60)
            .map_err(|_| errors.push(FieldError::new("dose", "say how much, like 500 mg")))
            .unwrap_or_default();
        let route = match parse_optional_label(&input.route, "route", 40) {
            Ok(r) => r.or_else(|| medicine.as_ref().map(|m| m.route.clone())).unwrap_or_default(),
            Err(e) => {
                errors.push(e);
                String::new()
            }
        };
        let units = input.units_per_dose.unwrap_or(1);
        if !(1..=100).contains(&units) {
            errors.push(FieldError::new("units_per_dose", "between 1 and 100 units of the stock item"));
        }
        let kind = input.kind.unwrap_or(OrderKind::Scheduled);
        let times = match kind {
            OrderKind::Scheduled => parse_times(&input.times)
                .map(|t| format_times(&t))
                .map_err(|e| errors.push(e))
                .unwrap_or_default(),
            _ => String::new(),
        };
        let instructions = parse_optional_label(&input.instructions, "instructions", 500)
            .map_err(|e| errors.push(e))
            .unwrap_or_default();
        let now = Utc::now();
        let starts_at = input.starts_at.unwrap_or(now);
        if starts_at < stay.admitted_at - Duration::hours(24) || starts_at > now + Duration::days(30) {
            errors.push(FieldError::new("starts_at", "from the day of admission to a month ahead"));
        }
        let ends_at = match input.duration_days {
            None => None,
            Some(d) if (1..=90).contains(&d) => Some(starts_at + Duration::days(i64::from(d))),
            Some(_) => {
                errors.push(FieldError::new("duration_days", "between 1 and 90 days, or none until stopped"));
                None
            }
        };
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let medicine = medicine.ok_or(AppError::NotFound("medicine"))?;
        let item = salus_db::pharmacy::items_of_medicines(conn, &[medicine.id])
            .await?
            .into_iter()
            .find(|i| i.active)
            .map(|i| i.id);
        let by = me(ctx)?;
        let name =
            salus_core::clinical::medicine_label(&medicine.generic_name, &medicine.strength, &medicine.form);
        let row = medication_order::Model {
            id: Uuid::now_v7(),
            patient_id: p.id,
            admission_id: stay.id,
            medicine_id: medicine.id,
            medicine_name: name,
            item_id: item,
            dose,
            units_per_dose: units,
            route,
            kind,
            times,
            instructions,
            starts_at,
            ends_at,
            status: OrderStatus::Active,
            stop_reason: None,
            stopped_by: None,
            stopped_at: None,
            ordered_by: by,
            created_at: now,
            version: 1,
        };
        let txn = self.db.begin_write().await?;
        m::insert_order(&txn, row.clone()).await?;
        let event = Event::new("mar.order", "medication_order", Some(row.id.to_string())).patient(p.id).detail(
            json!({ "admission": stay.number, "medicine": row.medicine_name, "dose": row.dose, "kind": kind, "times": row.times }),
        );
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// A doctor stops an order: no dose falls due after now.
    pub async fn stop_order(&self, ctx: &Ctx, id: Uuid, reason: &str) -> Result<MedicationOrder, AppError> {
        self.authorize(ctx, Permission::InpatientOrder).await?;
        let order =
            m::find_order(self.db.reader(), id).await?.ok_or(AppError::NotFound("medication order"))?;
        let (_, _, p) = self.stay_and_ward(ctx, order.admission_id).await?;
        let reason = parse_label(reason, "reason", 300)
            .map_err(|_| FieldError::new("reason", "say why the medicine is stopped"))?;
        let txn = self.db.begin_write().await?;
        if !m::stop_order(&txn, id, me(ctx)?, &reason, Utc::now()).await? {
            return Err(AppError::Conflict(format!("{} was already stopped", order.medicine_name)));
        }
        let event = Event::new("mar.stop", "medication_order", Some(id.to_string()))
            .patient(p.id)
            .detail(json!({ "medicine": order.medicine_name, "reason": reason }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(m::find_order(self.db.reader(), id).await?.ok_or(AppError::NotFound("medication order"))?.into())
    }

    /// A nurse records a dose. Given, it takes the order's units from the ward's store
    /// (first expiry first) in the same transaction. `key` is the request's idempotency
    /// key: the same request again answers what the first made.
    pub async fn record_dose(
        &self,
        ctx: &Ctx,
        key: &str,
        order_id: Uuid,
        input: DoseInput,
    ) -> Result<Administration, AppError> {
        self.authorize(ctx, Permission::MarRecord).await?;
        let request = json!({ "order": order_id, "due_at": input.due_at, "outcome": input.outcome, "reason": input.reason, "given_at": input.given_at });
        let pharmacy = self.pharmacy();
        if let Some(done) = pharmacy.replayed(ctx, key, "administration", &request).await? {
            return self.administration(done).await;
        }
        let order =
            m::find_order(self.db.reader(), order_id).await?.ok_or(AppError::NotFound("medication order"))?;
        let (stay, ward, p) = self.stay_and_ward(ctx, order.admission_id).await?;
        if !stay.status.in_house() {
            return Err(AppError::Conflict(format!(
                "{} has left; no dose is recorded for the stay",
                stay.number
            )));
        }
        let ward: Ward = ward.into();
        let order: MedicationOrder = order.into();
        let (due_at, reason, given_at) = self.check_dose(&order, &ward, &input, None)?;
        let id = Uuid::now_v7();
        let needs_ack = input.outcome == DoseOutcome::Given && order.kind != OrderKind::Scheduled;
        let row = medication_administration::Model {
            id,
            order_id: order.id,
            patient_id: p.id,
            admission_id: stay.id,
            due_at,
            outcome: input.outcome,
            reason,
            given_at,
            late: input.outcome == DoseOutcome::Given && is_late(due_at, given_at, Self::window(&ward)),
            store_id: None,
            amends_id: None,
            amend_reason: None,
            current: true,
            needs_ack,
            acknowledged_by: None,
            acknowledged_at: None,
            recorded_by: me(ctx)?,
            recorded_at: Utc::now(),
        };
        let outcome = self.write_dose(ctx, key, &request, row, &order, &ward, None, &stay.number).await;
        pharmacy
            .unless_replayed(ctx, key, "administration", &request, outcome, |done| self.administration(done))
            .await
    }

    /// Corrects a dose's record: the record in force is retired and its amendment
    /// written, with why; stock follows (a dose no longer given goes back to the store it
    /// came from, a dose now given is taken).
    pub async fn amend_dose(
        &self,
        ctx: &Ctx,
        key: &str,
        id: Uuid,
        input: DoseInput,
        why: &str,
    ) -> Result<Administration, AppError> {
        self.authorize(ctx, Permission::MarRecord).await?;
        let request = json!({ "amends": id, "outcome": input.outcome, "reason": input.reason, "given_at": input.given_at, "why": why });
        let pharmacy = self.pharmacy();
        if let Some(done) = pharmacy.replayed(ctx, key, "administration_amendment", &request).await? {
            return self.administration(done).await;
        }
        let conn = self.db.reader();
        let old = m::find_administration(conn, id).await?.ok_or(AppError::NotFound("dose record"))?;
        let order: MedicationOrder =
            m::find_order(conn, old.order_id).await?.ok_or(AppError::NotFound("medication order"))?.into();
        let (stay, ward, p) = self.stay_and_ward(ctx, old.admission_id).await?;
        if !old.current {
            return Err(AppError::Conflict("this record was already amended; amend the one in force".into()));
        }
        let why = parse_label(why, "amend_reason", 300)
            .map_err(|_| FieldError::new("amend_reason", "say what was wrong with the record"))?;
        let ward: Ward = ward.into();
        let input = DoseInput { due_at: old.due_at, ..input };
        let (due_at, reason, given_at) = self.check_dose(&order, &ward, &input, Some(&old))?;
        let needs_ack = input.outcome == DoseOutcome::Given && order.kind != OrderKind::Scheduled;
        let row = medication_administration::Model {
            id: Uuid::now_v7(),
            order_id: order.id,
            patient_id: p.id,
            admission_id: stay.id,
            due_at,
            outcome: input.outcome,
            reason,
            given_at,
            late: input.outcome == DoseOutcome::Given && is_late(due_at, given_at, Self::window(&ward)),
            store_id: None,
            amends_id: Some(old.id),
            amend_reason: Some(why),
            current: true,
            needs_ack,
            acknowledged_by: None,
            acknowledged_at: None,
            recorded_by: me(ctx)?,
            recorded_at: Utc::now(),
        };
        let outcome = self.write_dose(ctx, key, &request, row, &order, &ward, Some(&old), &stay.number).await;
        pharmacy
            .unless_replayed(ctx, key, "administration_amendment", &request, outcome, |done| {
                self.administration(done)
            })
            .await
    }

    /// The checks of a dose against its order: (due time, reason, time given).
    fn check_dose(
        &self,
        order: &MedicationOrder,
        ward: &Ward,
        input: &DoseInput,
        amending: Option<&medication_administration::Model>,
    ) -> Result<Checked, AppError> {
        let now = Utc::now();
        let mut errors = Vec::new();
        let reason = parse_optional_label(&input.reason, "reason", 300)
            .map_err(|e| errors.push(e))
            .unwrap_or_default();
        if input.outcome.needs_reason() && reason.is_none() {
            errors.push(FieldError::new("reason", format!("say why the dose was {}", input.outcome)));
        }
        let given_at = input.given_at.unwrap_or(now);
        if given_at > now + Duration::minutes(5) {
            errors.push(FieldError::new("given_at", "a dose is recorded once it is given, not before"));
        }
        if given_at < order.starts_at - Duration::hours(24) {
            errors.push(FieldError::new("given_at", "before the order began"));
        }
        let window = Self::window(ward);
        let due_at = match order.kind {
            OrderKind::AsNeeded => {
                if input.due_at.is_some() && amending.is_none() {
                    errors.push(FieldError::new("due_at", "an as-needed dose has no due time"));
                }
                None
            }
            OrderKind::OnceNow => Some(order.starts_at),
            OrderKind::Scheduled => match input.due_at {
                None => {
                    errors.push(FieldError::new("due_at", "say which dose time this answers"));
                    None
                }
                Some(due) => {
                    let day = due.with_timezone(&self.time_zone).date_naive();
                    let days = (day.pred_opt().unwrap_or(day), day.succ_opt().unwrap_or(day));
                    let due_then = order
                        .due_between(due, due + Duration::seconds(1), days, self.hospital_to_utc())
                        .contains(&due);
                    if !due_then && order.covers(due) {
                        errors.push(FieldError::new("due_at", "the order has no dose at that time"));
                    }
                    if due > now + window && amending.is_none() {
                        errors.push(FieldError::new(
                            "due_at",
                            "that dose is not due yet: it is recorded within the window before its time",
                        ));
                    }
                    Some(due)
                }
            },
        };
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        // A dose time after the stop has no dose; nothing is given after the stop.
        let after_stop = |at: DateTime<Utc>| order.until().is_some_and(|u| at >= u);
        let refused = due_at.is_some_and(|d| !order.covers(d))
            || (input.outcome == DoseOutcome::Given && after_stop(given_at))
            || (order.kind == OrderKind::AsNeeded && !order.covers(given_at));
        if refused {
            return Err(AppError::Conflict(match (order.status, order.stopped_at) {
                (OrderStatus::Stopped, Some(s)) => format!(
                    "{} was stopped at {} ({}); no dose is recorded against it after that",
                    order.medicine_name,
                    s.with_timezone(&self.time_zone).format("%d %b %H:%M"),
                    order.stop_reason.as_deref().unwrap_or("no reason given")
                ),
                _ => format!("{} does not run at that time", order.medicine_name),
            }));
        }
        Ok((due_at, reason, given_at))
    }

    /// Writes a dose's record (retiring the one it amends) and its stock movements, in
    /// one transaction opened under the request's key.
    #[allow(clippy::too_many_arguments)]
    async fn write_dose(
        &self,
        ctx: &Ctx,
        key: &str,
        request: &serde_json::Value,
        mut row: medication_administration::Model,
        order: &MedicationOrder,
        ward: &Ward,
        amends: Option<&medication_administration::Model>,
        number: &str,
    ) -> Result<Administration, AppError> {
        let pharmacy = self.pharmacy();
        let conn = self.db.reader();
        let today = pharmacy.today();
        let given = row.outcome == DoseOutcome::Given;
        let was_given = amends.is_some_and(|a| a.outcome == DoseOutcome::Given);
        // What stock moves: a dose newly given is taken; one no longer given goes back
        // to the batches it came from; one still given keeps what it took.
        let mut taken: Vec<(stock_batch::Model, i64)> = Vec::new();
        let mut item: Option<stock_item::Model> = None;
        if given
            && !was_given
            && let (Some(item_id), Some(store)) = (order.item_id, ward.store_id)
        {
            let lots = pharmacy.lots_of(store, &[item_id]).await?;
            let it = salus_db::pharmacy::find_item(conn, item_id)
                .await?
                .ok_or(AppError::NotFound("stock item"))?;
            let units = i64::from(order.units_per_dose);
            let parts = allocate(&lots, units, today, None).map_err(|s| AppError::OutOfStock {
                what: format!("{} in the ward's store", it.name),
                unit: it.base_unit.clone(),
                requested: s.requested,
                available: s.available,
            })?;
            let ids: Vec<Uuid> = parts.iter().map(|(b, _)| *b).collect();
            let batches = salus_db::pharmacy::batches_by_ids(conn, &ids).await?;
            for (b, n) in parts {
                if let Some(batch) = batches.iter().find(|x| x.id == b) {
                    taken.push((batch.clone(), -n));
                }
            }
            row.store_id = Some(store);
            item = Some(it);
        } else if given && was_given {
            row.store_id = amends.and_then(|a| a.store_id);
        } else if !given
            && was_given
            && let Some(old) = amends
        {
            // What the dose's chain of records took and has not given back, by batch.
            let mut chain = vec![old.id];
            let mut back = old.amends_id;
            while let Some(id) = back {
                chain.push(id);
                back = m::find_administration(conn, id).await?.and_then(|a| a.amends_id);
            }
            let mut out: Vec<(Uuid, Uuid, i64)> = Vec::new();
            for id in chain {
                for mv in salus_db::pharmacy::movements_of_source(conn, STOCK_SOURCE, id).await? {
                    match out.iter_mut().find(|(b, _, _)| *b == mv.batch_id) {
                        Some(o) => o.2 -= mv.quantity,
                        None => out.push((mv.batch_id, mv.item_id, -mv.quantity)),
                    }
                }
            }
            out.retain(|(_, _, n)| *n > 0);
            let ids: Vec<Uuid> = out.iter().map(|(b, _, _)| *b).collect();
            let batches = salus_db::pharmacy::batches_by_ids(conn, &ids).await?;
            for (b, _, n) in &out {
                if let Some(batch) = batches.iter().find(|x| x.id == *b) {
                    taken.push((batch.clone(), *n));
                }
            }
            if let Some((_, item_id, _)) = out.first() {
                item = salus_db::pharmacy::find_item(conn, *item_id).await?;
            }
        }
        let (txn, op) = match pharmacy
            .begin_operation(
                ctx,
                key,
                if amends.is_some() { "administration_amendment" } else { "administration" },
                request,
                row.id,
            )
            .await?
        {
            Begun::Replay(done) => return self.administration(done).await,
            Begun::Fresh(txn, op) => (txn, op),
        };
        if let Some(old) = amends
            && !m::retire(&txn, old.id).await?
        {
            return Err(AppError::Conflict("this record was amended meanwhile; look again".into()));
        }
        m::insert_administration(&txn, row.clone()).await.on_unique(
            "medication_administrations_dose_key",
            "medication_administrations.order_id",
            || {
                AppError::Conflict(format!(
                    "this dose of {} was already recorded; amend that record instead",
                    order.medicine_name
                ))
            },
        )?;
        if let Some(it) = &item {
            let store = row.store_id.or(amends.and_then(|a| a.store_id)).unwrap_or_default();
            let changes: Vec<Change> = taken
                .iter()
                .map(|(batch, n)| Change {
                    store,
                    batch,
                    item: it,
                    quantity: *n,
                    kind: if *n < 0 { MovementKind::Administration } else { MovementKind::Adjustment },
                    reason: (*n > 0).then(|| "dose record amended: not given, back to the store".to_owned()),
                    source: (STOCK_SOURCE, row.id),
                    patient: Some(row.patient_id),
                })
                .collect();
            apply(&txn, &changes, op, row.recorded_by, today).await?;
        }
        let (action, what) =
            if amends.is_some() { ("mar.amend", "amended") } else { ("mar.record", "recorded") };
        let event = Event::new(action, "medication_administration", Some(row.id.to_string())).patient(row.patient_id).detail(json!({
            "admission": number, "medicine": order.medicine_name, "outcome": row.outcome, "due_at": row.due_at,
            "given_at": row.given_at, "late": row.late, "reason": row.reason, "amends": row.amends_id,
            "amend_reason": row.amend_reason, "stock": taken.iter().map(|(b, n)| json!({"batch": b.batch_no, "quantity": n})).collect::<Vec<_>>(), "what": what,
        }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// One dose record (what a replayed request made).
    async fn administration(&self, id: Uuid) -> Result<Administration, AppError> {
        Ok(m::find_administration(self.db.reader(), id)
            .await?
            .ok_or(AppError::NotFound("dose record"))?
            .into())
    }

    /// A doctor acknowledges an as-needed or once-now dose a nurse gave.
    pub async fn acknowledge_dose(&self, ctx: &Ctx, id: Uuid) -> Result<Administration, AppError> {
        self.authorize(ctx, Permission::InpatientOrder).await?;
        let dose =
            m::find_administration(self.db.reader(), id).await?.ok_or(AppError::NotFound("dose record"))?;
        let (_, _, p) = self.stay_and_ward(ctx, dose.admission_id).await?;
        let txn = self.db.begin_write().await?;
        if !m::acknowledge(&txn, id, me(ctx)?, Utc::now()).await? {
            return Err(AppError::Conflict(if dose.needs_ack && dose.current {
                "this dose was already acknowledged".into()
            } else {
                "this dose does not wait for an acknowledgement".into()
            }));
        }
        let event =
            Event::new("mar.acknowledge", "medication_administration", Some(id.to_string())).patient(p.id);
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        self.administration(id).await
    }
}
