//! Ordering from the encounter (with the same test ordered again recently a warning the
//! doctor confirms with a reason), cancelling with a reason, collecting specimens — one
//! per container, each with the next accession number and one unbilled charge per order
//! line — receiving them in the lab, and rejecting them, which asks for a new collection.

use chrono::{Datelike, Utc};
use salus_core::laboratory::{OrderStatus, Priority, RejectReason, Specimen, SpecimenStatus};
use salus_core::organisation::parse_optional_label;
use salus_core::{EncounterId, FieldError, PatientId};
use salus_db::entity::{lab_order, lab_specimen};
use salus_db::laboratory as q;
use serde_json::json;
use std::collections::BTreeMap;
use uuid::Uuid;

use super::me;
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::patients::timeline_row;
use crate::{AppError, Ctx};

/// An order as the doctor places it.
#[derive(Debug, Clone, Default)]
pub struct NewOrder {
    pub encounter_id: Option<EncounterId>,
    /// Tests and panels of the catalog.
    pub test_ids: Vec<Uuid>,
    pub priority: Option<Priority>,
    pub clinical_info: String,
    /// Given to go ahead when the same test was ordered within the window.
    pub override_reason: String,
}

/// What the charges are recorded against.
pub const CHARGE_SOURCE: &str = "lab_order";

impl crate::Laboratory<'_> {
    /// Orders tests for a patient (doctors). The same test already ordered within the
    /// site's window answers the clinical-warnings conflict unless a reason is given.
    #[tracing::instrument(skip_all, fields(patient_id = %patient))]
    pub async fn place_order(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        input: NewOrder,
    ) -> Result<Vec<salus_core::laboratory::LabOrder>, AppError> {
        let p = self.lab_patient(ctx, patient, Permission::LabOrder).await?;
        if !p.active || p.merged_into.is_some() || p.deceased_at.is_some() {
            return Err(AppError::field("patient_id", "this record is not active"));
        }
        let conn = self.db.reader();
        let mut errors = Vec::new();
        let mut ids = input.test_ids.clone();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            errors.push(FieldError::new("test_ids", "choose at least one test"));
        } else if ids.len() > 40 {
            errors.push(FieldError::new("test_ids", "at most 40 tests in one order"));
        }
        let tests = if ids.is_empty() { Vec::new() } else { q::tests_by_ids(conn, &ids).await? };
        if tests.len() != ids.len() || tests.iter().any(|t| !t.active) {
            errors.push(FieldError::new("test_ids", "choose tests from the catalog"));
        } else if let Some(t) = tests.iter().find(|t| t.formula.is_some()) {
            errors.push(FieldError::new(
                "test_ids",
                format!("{} is calculated: order what it is calculated from", t.name),
            ));
        }
        let info = parse_optional_label(&input.clinical_info, "clinical_info", 500)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        if let Some(e) = input.encounter_id {
            let enc = salus_db::clinical::find_encounter(conn, e.as_uuid()).await?;
            if enc.is_none_or(|enc| enc.patient_id != patient.as_uuid()) {
                errors.push(FieldError::new("encounter_id", "is not an encounter of this patient"));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }

        // The same test (or a panel sharing an analyte) ordered recently and not cancelled.
        let since = Utc::now() - chrono::Duration::hours(self.lab.duplicate_window_hours);
        let recent: Vec<lab_order::Model> = q::orders_of(conn, patient.as_uuid(), 200)
            .await?
            .into_iter()
            .filter(|o| o.created_at >= since && o.status != OrderStatus::Cancelled)
            .collect();
        let mut warnings = Vec::new();
        if !recent.is_empty() {
            let mut recent_tests: Vec<Uuid> = recent.iter().map(|o| o.test_id).collect();
            recent_tests.extend(tests.iter().map(|t| t.id));
            recent_tests.sort();
            recent_tests.dedup();
            let all = q::tests_by_ids(conn, &recent_tests).await?;
            let analytes = super::analytes_of(conn, &all).await?;
            for t in &tests {
                let mine: Vec<Uuid> =
                    analytes.get(&t.id).map(|a| a.iter().map(|x| x.id).collect()).unwrap_or_default();
                if let Some(o) = recent.iter().find(|o| {
                    analytes.get(&o.test_id).is_some_and(|a| a.iter().any(|x| mine.contains(&x.id)))
                }) {
                    warnings.push(format!(
                        "{} was already ordered {} ({})",
                        t.name,
                        o.created_at.format("%d %b %H:%M"),
                        o.status.words()
                    ));
                }
            }
        }
        let override_reason = parse_optional_label(&input.override_reason, "override_reason", 300)?;
        if !warnings.is_empty() && override_reason.is_none() {
            return Err(AppError::ClinicalWarnings(warnings));
        }

        let codes: Vec<String> = tests.iter().filter_map(|t| t.service_code.clone()).collect();
        let services = if codes.is_empty() { Vec::new() } else { q::services_by_code(conn, &codes).await? };
        let now = Utc::now();
        let requisition = Uuid::now_v7();
        let by = me(ctx)?;
        let rows: Vec<lab_order::Model> = tests
            .iter()
            .map(|t| lab_order::Model {
                id: Uuid::now_v7(),
                patient_id: patient.as_uuid(),
                encounter_id: input.encounter_id.map(|e| e.as_uuid()),
                requisition_id: requisition,
                ordered_by: by,
                test_id: t.id,
                test_name: t.name.clone(),
                priority: input.priority.unwrap_or(Priority::Routine),
                clinical_info: info.clone(),
                status: OrderStatus::Ordered,
                cancel_reason: None,
                specimen_id: None,
                service_id: t
                    .service_code
                    .as_ref()
                    .and_then(|c| services.iter().find(|s| &s.code == c))
                    .map(|s| s.id),
                created_at: now,
                updated_at: now,
                version: 1,
            })
            .collect();
        let names: Vec<&str> = rows.iter().map(|r| r.test_name.as_str()).collect();
        let summary = format!("Ordered {} ({})", names.join(", "), rows[0].priority.words());
        let txn = self.db.begin_write().await?;
        q::insert_orders(&txn, rows.clone()).await?;
        salus_db::patients::insert_timeline(
            &txn,
            vec![timeline_row(patient.as_uuid(), "lab_order", summary, ctx)],
        )
        .await?;
        let event = Event::new("lab.order", "lab_order", Some(requisition.to_string()))
            .patient(patient.as_uuid())
            .detail(json!({ "orders": rows.iter().map(|r| r.id).collect::<Vec<_>>(), "tests": names, "warnings_overridden": warnings, "override_reason": override_reason.filter(|_| !warnings.is_empty()) }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(crate::records(rows))
    }

    /// Cancels an order line that has no verified results, with a reason; an unbilled
    /// charge it made goes with it.
    pub async fn cancel_order(
        &self,
        ctx: &Ctx,
        id: Uuid,
        reason: &str,
    ) -> Result<salus_core::laboratory::LabOrder, AppError> {
        let o = q::find_order(self.db.reader(), id).await?.ok_or(AppError::NotFound("order"))?;
        self.authorize_any(ctx, &[Permission::LabOrder, Permission::LabWork]).await?;
        self.lab_patient(ctx, PatientId::from_uuid(o.patient_id), Permission::PatientsRead).await?;
        let reason = parse_optional_label(reason, "reason", 300)?
            .ok_or_else(|| AppError::field("reason", "say why the order is cancelled"))?;
        let from =
            [OrderStatus::Ordered, OrderStatus::Collected, OrderStatus::Received, OrderStatus::Resulted];
        let txn = self.db.begin_write().await?;
        if !q::move_order(&txn, id, &from, OrderStatus::Cancelled, None, Some(reason.clone())).await? {
            return Err(AppError::Conflict(format!(
                "this order is {} and cannot be cancelled",
                o.status.words()
            )));
        }
        salus_db::charges::delete_unbilled_charge(&txn, CHARGE_SOURCE, id).await?;
        salus_db::patients::insert_timeline(
            &txn,
            vec![timeline_row(
                o.patient_id,
                "lab_order",
                format!("Cancelled {}: {reason}", o.test_name),
                ctx,
            )],
        )
        .await?;
        let event = Event::new("lab.cancel", "lab_order", Some(id.to_string()))
            .patient(o.patient_id)
            .detail(json!({ "test": o.test_name, "reason": reason, "was": o.status }));
        audit::record(&txn, ctx, event).await?;
        let after = q::find_order(&txn, id).await?.ok_or(AppError::NotFound("order"))?;
        txn.commit().await?;
        Ok(after.into())
    }

    /// Collects specimens for order lines of one patient: one specimen (and accession
    /// number) per specimen type and container, each order line charged once.
    pub async fn collect(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        order_ids: &[Uuid],
    ) -> Result<Vec<Specimen>, AppError> {
        self.lab_patient(ctx, patient, Permission::LabCollect).await?;
        let conn = self.db.reader();
        if order_ids.is_empty() {
            return Err(AppError::field("order_ids", "choose the orders to collect"));
        }
        let orders = q::orders_by_ids(conn, order_ids).await?;
        if orders.len() != order_ids.len() || orders.iter().any(|o| o.patient_id != patient.as_uuid()) {
            return Err(AppError::NotFound("order"));
        }
        if let Some(o) = orders.iter().find(|o| o.status != OrderStatus::Ordered) {
            return Err(AppError::Conflict(format!(
                "{} is {}, not waiting for collection",
                o.test_name,
                o.status.words()
            )));
        }
        let test_ids: Vec<Uuid> = orders.iter().map(|o| o.test_id).collect();
        let tests = q::tests_by_ids(conn, &test_ids).await?;
        let mut groups: BTreeMap<(String, String), Vec<&lab_order::Model>> = BTreeMap::new();
        for o in &orders {
            let t = tests.iter().find(|t| t.id == o.test_id).ok_or(AppError::NotFound("test"))?;
            groups.entry((t.specimen.clone(), t.container.clone())).or_default().push(o);
        }
        let mut service_ids: Vec<Uuid> = orders.iter().filter_map(|o| o.service_id).collect();
        service_ids.sort();
        service_ids.dedup();
        let services = salus_db::organisation::find_services(conn, &service_ids).await?;
        let by = me(ctx)?;
        let now = Utc::now();
        let series = format!("L{}", now.year());
        let txn = self.db.begin_write().await?;
        let mut out = Vec::new();
        let mut charges = Vec::new();
        for ((specimen, container), group) in groups {
            let n = q::next_accession(&txn, &series).await?;
            let row = lab_specimen::Model {
                id: Uuid::now_v7(),
                patient_id: patient.as_uuid(),
                accession: salus_core::laboratory::accession('L', now.year(), n),
                specimen,
                container,
                status: SpecimenStatus::Collected,
                collected_by: by,
                collected_at: now,
                received_by: None,
                received_at: None,
                reject_reason: None,
                reject_note: None,
                version: 1,
            };
            q::insert_specimen(&txn, row.clone()).await?;
            for o in group {
                if !q::move_order(
                    &txn,
                    o.id,
                    &[OrderStatus::Ordered],
                    OrderStatus::Collected,
                    Some(Some(row.id)),
                    None,
                )
                .await?
                {
                    return Err(AppError::Conflict(format!("{} was changed meanwhile", o.test_name)));
                }
                if let Some(s) = o.service_id.and_then(|id| services.iter().find(|s| s.id == id)) {
                    charges.push(crate::charges::unbilled(
                        s,
                        o.patient_id,
                        &o.test_name,
                        (CHARGE_SOURCE, o.id),
                        by,
                        now,
                    ));
                }
            }
            let event = Event::new("lab.collect", "lab_specimen", Some(row.id.to_string()))
                .patient(patient.as_uuid())
                .detail(json!({ "accession": row.accession, "specimen": row.specimen, "container": row.container }));
            audit::record(&txn, ctx, event).await?;
            out.push(row.into());
        }
        salus_db::charges::insert_charges(&txn, charges).await?;
        txn.commit().await?;
        Ok(out)
    }

    /// The lab receives a collected specimen; its order lines are now the lab's.
    pub async fn receive(&self, ctx: &Ctx, specimen: Uuid) -> Result<Specimen, AppError> {
        self.authorize(ctx, Permission::LabWork).await?;
        let s = q::find_specimen(self.db.reader(), specimen).await?.ok_or(AppError::NotFound("specimen"))?;
        self.lab_patient(ctx, PatientId::from_uuid(s.patient_id), Permission::LabWork).await?;
        if s.status != SpecimenStatus::Collected {
            return Err(AppError::Conflict(format!("this specimen is {}", s.status.words())));
        }
        let row = lab_specimen::Model {
            status: SpecimenStatus::Received,
            received_by: Some(me(ctx)?),
            received_at: Some(Utc::now()),
            version: s.version + 1,
            ..s.clone()
        };
        let txn = self.db.begin_write().await?;
        if !q::update_specimen(&txn, row.clone()).await? {
            return Err(AppError::Conflict("this specimen was changed meanwhile".into()));
        }
        for o in q::orders_of_specimen(&txn, specimen).await? {
            q::move_order(&txn, o.id, &[OrderStatus::Collected], OrderStatus::Received, None, None).await?;
        }
        let event = Event::new("lab.receive", "lab_specimen", Some(specimen.to_string()))
            .patient(s.patient_id)
            .detail(json!({ "accession": s.accession }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Rejects a specimen that cannot be tested; its order lines wait for a new
    /// collection (a new specimen, a new accession number).
    pub async fn reject(
        &self,
        ctx: &Ctx,
        specimen: Uuid,
        reason: RejectReason,
        note: &str,
    ) -> Result<Specimen, AppError> {
        self.authorize(ctx, Permission::LabWork).await?;
        let s = q::find_specimen(self.db.reader(), specimen).await?.ok_or(AppError::NotFound("specimen"))?;
        self.lab_patient(ctx, PatientId::from_uuid(s.patient_id), Permission::LabWork).await?;
        let note = parse_optional_label(note, "note", 300)?;
        if s.status == SpecimenStatus::Rejected {
            return Err(AppError::Conflict("this specimen is already rejected".into()));
        }
        let orders = q::orders_of_specimen(self.db.reader(), specimen).await?;
        if let Some(o) =
            orders.iter().find(|o| matches!(o.status, OrderStatus::Resulted | OrderStatus::Verified))
        {
            return Err(AppError::Conflict(format!("{} already has results", o.test_name)));
        }
        let row = lab_specimen::Model {
            status: SpecimenStatus::Rejected,
            reject_reason: Some(reason),
            reject_note: note.clone(),
            version: s.version + 1,
            ..s.clone()
        };
        let txn = self.db.begin_write().await?;
        if !q::update_specimen(&txn, row.clone()).await? {
            return Err(AppError::Conflict("this specimen was changed meanwhile".into()));
        }
        for o in &orders {
            q::move_order(
                &txn,
                o.id,
                &[OrderStatus::Collected, OrderStatus::Received],
                OrderStatus::Ordered,
                Some(None),
                None,
            )
            .await?;
        }
        let names: Vec<&str> = orders.iter().map(|o| o.test_name.as_str()).collect();
        salus_db::patients::insert_timeline(
            &txn,
            vec![timeline_row(
                s.patient_id,
                "lab_order",
                format!(
                    "Specimen {} rejected ({}): collect again for {}",
                    s.accession,
                    reason.words(),
                    names.join(", ")
                ),
                ctx,
            )],
        )
        .await?;
        let event = Event::new("lab.reject", "lab_specimen", Some(specimen.to_string()))
            .patient(s.patient_id)
            .detail(json!({ "accession": s.accession, "reason": reason, "note": note, "orders": names }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// A specimen with the orders on it, for its label (a reprint shows the stored
    /// accession number; none is used up).
    pub async fn specimen(
        &self,
        ctx: &Ctx,
        id: Uuid,
    ) -> Result<(Specimen, super::LabPatient, Vec<String>), AppError> {
        let conn = self.db.reader();
        let s = q::find_specimen(conn, id).await?.ok_or(AppError::NotFound("specimen"))?;
        self.authorize_any(ctx, &[Permission::LabCollect, Permission::LabWork]).await?;
        let p = self.lab_patient(ctx, PatientId::from_uuid(s.patient_id), Permission::PatientsRead).await?;
        let tests: Vec<String> =
            q::orders_of_specimen(conn, id).await?.into_iter().map(|o| o.test_name).collect();
        let event = Event::new("lab.read", "lab_specimen", Some(id.to_string())).patient(s.patient_id);
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        Ok((s.into(), (&p).into(), tests))
    }
}
