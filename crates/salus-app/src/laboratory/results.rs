//! Results: entered per order line against the range that applies to the patient on the
//! day of collection (copied onto the result), impossible values refused, calculated
//! analytes computed, a delta check against the previous result; verified by a second
//! person (the database refuses the author); corrected after release only as a new
//! revision with a reason. A critical value makes a task for the ordering doctor that
//! escalates to every doctor when nobody acknowledges it in time.

use chrono::Utc;
use salus_core::PatientId;
use salus_core::laboratory::{
    self as lab, CriticalAlert, Flag, Formula, Limits, OrderStatus, ResultStatus, ResultType,
};
use salus_core::organisation::parse_optional_label;
use salus_core::patients::Sex;
use salus_db::entity::{lab_critical_alert, lab_result, lab_test, patient};
use salus_db::laboratory as q;
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

use super::{LabPatient, OrderDetail, me, ranges_by_test};
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::patients::timeline_row;
use crate::{AppError, Ctx};

/// One analyte's value as typed.
#[derive(Debug, Clone)]
pub struct Entry {
    pub test_id: Uuid,
    pub value: String,
}

/// The job that escalates an unacknowledged critical result.
pub const ESCALATE_JOB: &str = "lab.escalate";

/// A refusal of one analyte's value, naming it.
fn refuse(test: &lab_test::Model, message: impl std::fmt::Display) -> salus_core::FieldError {
    salus_core::FieldError::new("results", format!("{}: {message}", test.code))
}

/// A doctor's laboratory inbox: critical results to acknowledge, released results to review.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Inbox {
    pub alerts: Vec<(CriticalAlert, LabPatient)>,
    pub results: Vec<(lab::LabResult, LabPatient)>,
    /// The test ordered on each order line the results belong to.
    pub orders: Vec<(Uuid, String)>,
}

impl crate::Laboratory<'_> {
    /// Enters results for an order line the lab has received, or — with `amend_reason` —
    /// corrects released ones (a new revision; the old stays readable and the order waits
    /// for verification again). Values identical to those on file change nothing.
    #[tracing::instrument(skip_all, fields(order_id = %order_id))]
    pub async fn enter_results(
        &self,
        ctx: &Ctx,
        order_id: Uuid,
        entries: &[Entry],
        amend_reason: Option<&str>,
    ) -> Result<OrderDetail, AppError> {
        self.authorize(ctx, Permission::LabWork).await?;
        let conn = self.db.reader();
        let order = q::find_order(conn, order_id).await?.ok_or(AppError::NotFound("order"))?;
        let p = self.lab_patient(ctx, PatientId::from_uuid(order.patient_id), Permission::LabWork).await?;
        let amend_reason = match amend_reason {
            Some(r) => Some(
                parse_optional_label(r, "amend_reason", 300)?
                    .ok_or_else(|| AppError::field("amend_reason", "say why the result is corrected"))?,
            ),
            None => None,
        };
        match (order.status, &amend_reason) {
            (OrderStatus::Received | OrderStatus::Resulted, _) | (OrderStatus::Verified, Some(_)) => {}
            (OrderStatus::Verified, None) => {
                return Err(AppError::Conflict(
                    "these results are released; correct them with a reason (amend_reason)".into(),
                ));
            }
            (OrderStatus::Cancelled, _) => return Err(AppError::Conflict("this order is cancelled".into())),
            (s, _) => {
                return Err(AppError::Conflict(format!(
                    "the specimen is not in the lab yet (order {})",
                    s.words()
                )));
            }
        }
        let specimen = match order.specimen_id {
            Some(s) => q::find_specimen(conn, s).await?,
            None => None,
        }
        .ok_or(AppError::Conflict("this order has no specimen".into()))?;
        let test = q::find_test(conn, order.test_id).await?.ok_or(AppError::NotFound("test"))?;
        let analytes =
            super::analytes_of(conn, std::slice::from_ref(&test)).await?.remove(&test.id).unwrap_or_default();
        let ids: Vec<Uuid> = analytes.iter().map(|a| a.id).collect();
        let (ranges, current, previous) = tokio::try_join!(
            ranges_by_test(conn, &ids),
            async { Ok(q::current_results(conn, &[order.id]).await?) },
            async { Ok(q::previous_results(conn, p.id, &ids, specimen.collected_at).await?) },
        )?;
        let sex = p.sex.parse().unwrap_or(Sex::Unknown);
        let age = p.birth_date.map(|b| lab::age_in_days(b, specimen.collected_at));
        let current: HashMap<Uuid, lab_result::Model> = current.into_iter().map(|r| (r.test_id, r)).collect();
        let by = me(ctx)?;
        let now = Utc::now();

        // Each value checked; every refusal named at once.
        let mut errors = Vec::new();
        let mut values: HashMap<Uuid, (Option<f64>, Option<String>)> = HashMap::new();
        for e in entries {
            let Some(a) = analytes.iter().find(|a| a.id == e.test_id) else {
                errors.push(salus_core::FieldError::new(
                    "results",
                    "a result names a test that is not part of this order",
                ));
                continue;
            };
            if e.value.trim().is_empty() {
                continue;
            }
            if a.formula.is_some() {
                errors.push(refuse(a, "is calculated, not entered"));
                continue;
            }
            match a.result_type.unwrap_or(ResultType::Text) {
                ResultType::Numeric => match lab::parse_value(&e.value, "results") {
                    Ok(v) => {
                        values.insert(a.id, (Some(v), None));
                    }
                    Err(err) => errors.push(refuse(a, err.message)),
                },
                ResultType::Coded => {
                    let typed = e.value.trim();
                    match a
                        .answers
                        .as_deref()
                        .unwrap_or("")
                        .split('|')
                        .find(|x| x.eq_ignore_ascii_case(typed))
                    {
                        Some(answer) => {
                            values.insert(a.id, (None, Some(answer.to_owned())));
                        }
                        None => errors.push(refuse(
                            a,
                            format!(
                                "choose one of {}",
                                a.answers.as_deref().unwrap_or("").replace('|', ", ")
                            ),
                        )),
                    }
                }
                ResultType::Text => match parse_optional_label(&e.value, "results", 2000) {
                    Ok(t) => {
                        values.insert(a.id, (None, t));
                    }
                    Err(err) => errors.push(refuse(a, err.message)),
                },
            }
        }
        // Calculated analytes from this order line's values (new or on file), by LOINC.
        let value_of = |loinc: &str| -> Option<f64> {
            let a = analytes.iter().find(|a| a.loinc.as_deref() == Some(loinc))?;
            values.get(&a.id).and_then(|v| v.0).or_else(|| current.get(&a.id).and_then(|r| r.value_num))
        };
        let mut computed = Vec::new();
        for a in analytes.iter().filter(|a| a.formula.is_some()) {
            let Some(f) = a.formula.as_deref().and_then(Formula::parse) else { continue };
            let inputs: Option<Vec<f64>> = f.inputs().iter().map(|l| value_of(l)).collect();
            if let Some(v) = inputs.and_then(|i| f.compute(&i, sex, age.unwrap_or(0))) {
                computed.push((a.id, v));
            }
        }
        for (id, v) in computed {
            values.insert(id, (Some(v), None));
        }

        let mut rows = Vec::new();
        let mut replaced = Vec::new();
        let mut superseded = Vec::new();
        for a in &analytes {
            let Some((num, text)) = values.get(&a.id).cloned() else { continue };
            if num.is_none() && text.is_none() {
                continue;
            }
            let on_file = current.get(&a.id);
            if on_file.is_some_and(|c| c.value_num == num && c.value_text == text) {
                continue;
            }
            let range = age.and_then(|age| ranges.get(&a.id).and_then(|r| lab::select_range(r, sex, age)));
            let limits = range.map(Limits::from).unwrap_or_default();
            let flag = match (num, &text) {
                (Some(v), _) => match lab::interpret(v, &limits, "results") {
                    Ok(f) => f,
                    Err(err) => {
                        errors.push(refuse(a, err.message));
                        continue;
                    }
                },
                (None, Some(t)) if a.result_type == Some(ResultType::Coded) => {
                    let normal = a.answers.as_deref().and_then(|x| x.split('|').next()).unwrap_or("");
                    (!t.eq_ignore_ascii_case(normal)).then_some(Flag::Abnormal)
                }
                _ => None,
            };
            let delta = match (num, a.delta_percent) {
                (Some(v), Some(limit)) => previous
                    .iter()
                    .find(|r| r.test_id == a.id)
                    .and_then(|r| r.value_num)
                    .and_then(|prev| lab::delta_exceeds(prev, v, limit)),
                _ => None,
            };
            let (revision, reason) = match on_file {
                Some(c) if c.status == ResultStatus::Preliminary => {
                    replaced.push(c.id);
                    (c.revision, c.amend_reason.clone())
                }
                Some(c) => {
                    if amend_reason.is_none() {
                        errors.push(refuse(a, "is released; correct it with a reason"));
                        continue;
                    }
                    superseded.push(c.id);
                    (c.revision + 1, amend_reason.clone())
                }
                None => (1, None),
            };
            rows.push(lab_result::Model {
                id: Uuid::now_v7(),
                order_id: order.id,
                specimen_id: specimen.id,
                patient_id: p.id,
                test_id: a.id,
                analyte: a.name.clone(),
                loinc: a.loinc.clone(),
                revision,
                status: ResultStatus::Preliminary,
                value_num: num,
                value_text: text,
                unit: a.unit.clone(),
                decimals: a.decimals,
                flag,
                ref_low: limits.low,
                ref_high: limits.high,
                critical_low: limits.critical_low,
                critical_high: limits.critical_high,
                range_text: range.map(|r| r.text(a.decimals)).filter(|t| !t.is_empty()),
                delta_percent: delta,
                calculated: a.formula.is_some(),
                collected_at: specimen.collected_at,
                entered_by: by,
                entered_at: now,
                verified_by: None,
                verified_at: None,
                amend_reason: reason,
                superseded_at: None,
                reviewed_by: None,
                reviewed_at: None,
                version: 1,
            });
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        if rows.is_empty() {
            return self.detail(order, &p).await;
        }
        let txn = self.db.begin_write().await?;
        q::drop_results(&txn, &replaced).await?;
        for id in &superseded {
            if !q::supersede(&txn, *id, now).await? {
                return Err(AppError::Conflict("a result was corrected by someone else meanwhile".into()));
            }
        }
        let entered: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| json!({ "analyte": r.analyte, "value": r.value_num.map(|v| json!(v)).unwrap_or_else(|| json!(r.value_text)), "flag": r.flag, "revision": r.revision }))
            .collect();
        q::insert_results(&txn, rows).await?;
        let from = [OrderStatus::Received, OrderStatus::Resulted, OrderStatus::Verified];
        if !q::move_order(&txn, order.id, &from, OrderStatus::Resulted, None, None).await? {
            return Err(AppError::Conflict("this order was changed meanwhile".into()));
        }
        let action = if amend_reason.is_some() { "lab.result.amend" } else { "lab.result.enter" };
        let event = Event::new(action, "lab_order", Some(order.id.to_string()))
            .patient(p.id)
            .detail(json!({ "test": order.test_name, "accession": specimen.accession, "results": entered, "reason": amend_reason }));
        audit::record(&txn, ctx, event).await?;
        let order = q::find_order(&txn, order.id).await?.ok_or(AppError::NotFound("order"))?;
        txn.commit().await?;
        self.detail(order, &p).await
    }

    /// Verifies an order line's results (a second person: not whoever entered them),
    /// releasing them to the chart and the patient; a critical value makes its task.
    #[tracing::instrument(skip_all, fields(order_id = %order_id))]
    pub async fn verify(&self, ctx: &Ctx, order_id: Uuid) -> Result<OrderDetail, AppError> {
        self.authorize(ctx, Permission::LabVerify).await?;
        let conn = self.db.reader();
        let order = q::find_order(conn, order_id).await?.ok_or(AppError::NotFound("order"))?;
        let p = self.lab_patient(ctx, PatientId::from_uuid(order.patient_id), Permission::LabWork).await?;
        if order.status != OrderStatus::Resulted {
            return Err(AppError::Conflict(format!(
                "this order is {}, not waiting for verification",
                order.status.words()
            )));
        }
        let test = q::find_test(conn, order.test_id).await?.ok_or(AppError::NotFound("test"))?;
        let analytes =
            super::analytes_of(conn, std::slice::from_ref(&test)).await?.remove(&test.id).unwrap_or_default();
        let results = q::current_results(conn, &[order.id]).await?;
        let missing: Vec<&str> = analytes
            .iter()
            .filter(|a| a.formula.is_none() && !results.iter().any(|r| r.test_id == a.id))
            .map(|a| a.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(AppError::Conflict(format!("results are missing for {}", missing.join(", "))));
        }
        let by = me(ctx)?;
        let pending: Vec<&lab_result::Model> =
            results.iter().filter(|r| r.status == ResultStatus::Preliminary).collect();
        if pending.iter().any(|r| r.entered_by == by) {
            return Err(AppError::Conflict("a second person must verify results you entered".into()));
        }
        let now = Utc::now();
        let escalate_at = now + chrono::Duration::minutes(self.lab.critical_ack_minutes);
        let alerts: Vec<lab_critical_alert::Model> = pending
            .iter()
            .filter(|r| r.flag.is_some_and(Flag::is_critical))
            .map(|r| lab_critical_alert::Model {
                id: Uuid::now_v7(),
                result_id: r.id,
                patient_id: p.id,
                notify_user_id: order.ordered_by,
                summary: format!(
                    "{} {} {} ({}) — {} {}",
                    r.analyte,
                    lab::show(r.value_num.unwrap_or_default(), r.decimals),
                    r.unit.as_deref().map(lab::unit_label).unwrap_or_default(),
                    r.flag.map(Flag::as_str).unwrap_or(""),
                    p.mrn,
                    crate::patients::display_name(&p.given_names, &p.family_name),
                ),
                created_at: now,
                escalate_at,
                escalated_at: None,
                escalated_to: None,
                acknowledged_by: None,
                acknowledged_at: None,
                read_back: None,
            })
            .collect();
        let jobs: Vec<_> = alerts
            .iter()
            .map(|a| crate::jobs::new_job(ESCALATE_JOB, json!({ "alert_id": a.id }), a.escalate_at))
            .collect();
        let txn = self.db.begin_write().await?;
        let n = q::verify_results(&txn, &[order.id], by, now).await?;
        if !q::move_order(&txn, order.id, &[OrderStatus::Resulted], OrderStatus::Verified, None, None).await?
            || n == 0
        {
            return Err(AppError::Conflict("this order was changed meanwhile".into()));
        }
        let critical: Vec<String> = alerts.iter().map(|a| a.summary.clone()).collect();
        q::insert_alerts(&txn, alerts).await?;
        for j in jobs {
            salus_db::jobs::enqueue(&txn, j).await?;
        }
        let summary = if critical.is_empty() {
            format!("Results released: {}", order.test_name)
        } else {
            format!("Results released: {} — CRITICAL: {}", order.test_name, critical.join("; "))
        };
        salus_db::patients::insert_timeline(&txn, vec![timeline_row(p.id, "lab_result", summary, ctx)])
            .await?;
        let event = Event::new("lab.verify", "lab_order", Some(order.id.to_string()))
            .patient(p.id)
            .detail(json!({ "test": order.test_name, "results": n, "critical": critical }));
        audit::record(&txn, ctx, event).await?;
        let order = q::find_order(&txn, order.id).await?.ok_or(AppError::NotFound("order"))?;
        txn.commit().await?;
        self.detail(order, &p).await
    }

    /// A doctor acknowledges a critical result, reading the value back.
    pub async fn acknowledge(
        &self,
        ctx: &Ctx,
        alert: Uuid,
        read_back: &str,
    ) -> Result<CriticalAlert, AppError> {
        self.authorize(ctx, Permission::LabOrder).await?;
        let conn = self.db.reader();
        let a = q::find_alert(conn, alert).await?.ok_or(AppError::NotFound("alert"))?;
        self.lab_patient(ctx, PatientId::from_uuid(a.patient_id), Permission::ClinicalRead).await?;
        let read_back = parse_optional_label(read_back, "read_back", 300)?
            .ok_or_else(|| AppError::field("read_back", "read the value back as you heard or saw it"))?;
        let by = me(ctx)?;
        let now = Utc::now();
        let txn = self.db.begin_write().await?;
        if !q::acknowledge(&txn, alert, by, now, &read_back).await? {
            return Err(AppError::Conflict("this critical result is already acknowledged".into()));
        }
        let minutes = (now - a.created_at).num_seconds() as f64 / 60.0;
        let event = Event::new("lab.critical.acknowledge", "lab_critical_alert", Some(alert.to_string()))
            .patient(a.patient_id)
            .detail(json!({ "summary": a.summary, "read_back": read_back, "minutes_to_acknowledge": (minutes * 10.0).round() / 10.0, "escalated": a.escalated_at.is_some() }));
        audit::record(&txn, ctx, event).await?;
        let after = q::find_alert(&txn, alert).await?.ok_or(AppError::NotFound("alert"))?;
        txn.commit().await?;
        Ok(after.into())
    }

    /// The escalation job: an alert still unacknowledged goes to every doctor's inbox.
    pub(crate) async fn escalate_alert(&self, alert: Uuid) -> Result<(), AppError> {
        let Some(a) = q::find_alert(self.db.reader(), alert).await? else { return Ok(()) };
        if a.acknowledged_at.is_some() || a.escalated_at.is_some() {
            return Ok(());
        }
        let ctx = Ctx::operator();
        let txn = self.db.begin_write().await?;
        if q::escalate(&txn, alert, Utc::now(), "all doctors").await? {
            let event = Event::new("lab.critical.escalate", "lab_critical_alert", Some(alert.to_string()))
                .patient(a.patient_id)
                .detail(json!({ "summary": a.summary, "to": "all doctors" }));
            audit::record(&txn, &ctx, event).await?;
            salus_db::patients::insert_timeline(
                &txn,
                vec![timeline_row(
                    a.patient_id,
                    "lab_result",
                    format!("Critical result not acknowledged, escalated: {}", a.summary),
                    &ctx,
                )],
            )
            .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// The signed-in doctor's inbox: open critical results (theirs, and every escalated
    /// one) and their patients' released results not yet reviewed.
    pub async fn inbox(&self, ctx: &Ctx) -> Result<Inbox, AppError> {
        self.authorize(ctx, Permission::LabOrder).await?;
        let conn = self.db.reader();
        let by = me(ctx)?;
        let (alerts, results) =
            tokio::try_join!(q::open_alerts(conn, Some(by), 200), q::unreviewed_for(conn, by, 200))?;
        let mut ids: Vec<Uuid> =
            alerts.iter().map(|a| a.patient_id).chain(results.iter().map(|r| r.patient_id)).collect();
        ids.sort();
        ids.dedup();
        let mut order_ids: Vec<Uuid> = results.iter().map(|r| r.order_id).collect();
        order_ids.sort();
        order_ids.dedup();
        let (patients, orders) = tokio::try_join!(salus_db::patients::find_patients(conn, &ids), async {
            if order_ids.is_empty() { Ok(Vec::new()) } else { q::orders_by_ids(conn, &order_ids).await }
        })?;
        let patients: HashMap<Uuid, patient::Model> = patients.into_iter().map(|p| (p.id, p)).collect();
        let who = |id: &Uuid| patients.get(id).map(LabPatient::from);
        let events = ids
            .iter()
            .map(|p| {
                audit::row(ctx, Event::new("lab.inbox_read", "patient", Some(p.to_string())).patient(*p))
            })
            .collect();
        self.reads.record(events).await?;
        Ok(Inbox {
            alerts: alerts
                .into_iter()
                .filter_map(|a| Some((who(&a.patient_id)?, a)))
                .map(|(p, a)| (a.into(), p))
                .collect(),
            results: results
                .into_iter()
                .filter_map(|r| Some((who(&r.patient_id)?, r)))
                .map(|(p, r)| (r.into(), p))
                .collect(),
            orders: orders.into_iter().map(|o| (o.id, o.test_name)).collect(),
        })
    }

    /// Marks released results of a patient reviewed by the signed-in doctor.
    pub async fn mark_reviewed(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        results: &[Uuid],
    ) -> Result<u64, AppError> {
        self.lab_patient(ctx, patient, Permission::LabOrder).await?;
        if results.is_empty() || results.len() > 500 {
            return Err(AppError::field("result_ids", "name 1 to 500 results"));
        }
        let txn = self.db.begin_write().await?;
        let n = q::mark_reviewed(&txn, patient.as_uuid(), results, me(ctx)?, Utc::now()).await?;
        let event = Event::new("lab.review", "lab_results", Some(patient.to_string()))
            .patient(patient.as_uuid())
            .detail(json!({ "results": results, "marked": n }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(n)
    }

    /// The latest critical alerts, for the lab's report of how long each took to be
    /// acknowledged.
    pub async fn critical_alerts(&self, ctx: &Ctx) -> Result<Vec<(CriticalAlert, LabPatient)>, AppError> {
        self.authorize(ctx, Permission::LabWork).await?;
        let conn = self.db.reader();
        let alerts = q::recent_alerts(conn, 500).await?;
        let mut ids: Vec<Uuid> = alerts.iter().map(|a| a.patient_id).collect();
        ids.sort();
        ids.dedup();
        let patients: HashMap<Uuid, patient::Model> =
            salus_db::patients::find_patients(conn, &ids).await?.into_iter().map(|p| (p.id, p)).collect();
        let events = ids
            .iter()
            .map(|p| {
                audit::row(ctx, Event::new("lab.alerts_read", "patient", Some(p.to_string())).patient(*p))
            })
            .collect();
        self.reads.record(events).await?;
        Ok(alerts
            .into_iter()
            .filter_map(|a| {
                let p = patients.get(&a.patient_id).map(LabPatient::from)?;
                Some((a.into(), p))
            })
            .collect())
    }
}
