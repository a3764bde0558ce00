//! The pharmacist's work: the queue of active prescriptions, dispensing against them
//! (prescribed, given so far, remaining; partial dispensing; first expiry first out with
//! a stated override; expired and held batches never offered; another medicine given in
//! place of the prescribed one only with a reason), patient returns back into stock, and
//! counter sales (prescription-only medicines against a prescription). Each line given
//! is one ledger movement and one unbilled charge at its batch's sale price.

use chrono::{Datelike, Utc};
use salus_core::clinical::{Prescription, PrescriptionStatus};
use salus_core::organisation::parse_optional_label;
use salus_core::pharmacy::{
    Dispense, DispenseKind, DispenseLine, ItemKind, Lot, MovementKind, StockItem, Store, allocate,
    document_number, parse_quantity,
};
use salus_core::{FieldError, PatientId};
use salus_db::entity::{dispense, dispense_line, patient, prescription, stock_batch, stock_item};
use salus_db::pharmacy as q;
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

use super::stock::{Change, apply};
use super::{Begun, PHARMACY_SERVICE, me};
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::laboratory::LabPatient;
use crate::patients::timeline_row;
use crate::{AppError, Ctx};

/// What a dispensed line's charge is recorded against.
pub const CHARGE_SOURCE: &str = "dispense_line";

pub use super::queue::{ItemStock, QUEUE_DAYS, QueueItem, ToDispense};

/// A dispensing or sale with its lines: the receipt and the labels.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DispenseDetail {
    pub dispense: Dispense,
    pub lines: Vec<DispenseLine>,
    pub patient: Option<LabPatient>,
    /// The prescriptions the lines were given against (dose and instructions for labels).
    pub prescriptions: Vec<Prescription>,
    pub dispensed_by: String,
}

impl DispenseDetail {
    /// The prescription a line was given against.
    pub fn prescription_of(&self, line: &DispenseLine) -> Option<&Prescription> {
        self.prescriptions.iter().find(|p| Some(p.id) == line.prescription_id)
    }

    /// The amount before tax, the tax and the total, in minor units.
    pub fn totals(&self) -> (i64, i64, i64) {
        let net: i64 = self.lines.iter().map(|l| l.amount_minor()).sum();
        let tax: i64 =
            self.lines.iter().map(|l| salus_core::pharmacy::tax_minor(l.amount_minor(), l.tax_rate_bp)).sum();
        (net, tax, net + tax)
    }
}

/// One line the pharmacist gives.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LineInput {
    /// Required when dispensing; for a sale, what a prescription-only medicine is sold against.
    pub prescription_id: Option<Uuid>,
    /// The stock item given (default: the prescribed medicine's item with stock).
    pub item_id: Option<Uuid>,
    pub quantity: i64,
    /// A batch chosen by hand instead of first expiry first out.
    pub batch_id: Option<Uuid>,
    /// Why the chosen batch and not the first to expire.
    pub override_reason: String,
    /// Why another medicine is given in place of the prescribed one.
    pub substitution_reason: String,
}

/// A sale at the counter.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SaleInput {
    pub store_id: Uuid,
    /// A registered patient (needed for prescription-only medicines).
    pub patient_id: Option<Uuid>,
    pub customer_name: String,
    pub lines: Vec<LineInput>,
}

/// A line checked and resolved, before its units are allocated to batches.
struct Resolved {
    rx: Option<prescription::Model>,
    item: stock_item::Model,
    quantity: i64,
    batch: Option<Uuid>,
    override_reason: Option<String>,
    substitution: Option<(String, String)>,
}

/// What remains to give of a prescription that says how many, once `given` are given.
pub(super) fn remaining(rx: &prescription::Model, given: i64) -> Option<i64> {
    rx.quantity.map(|q| (i64::from(q) - given).max(0))
}

impl crate::Pharmacy<'_> {
    /// Dispenses a patient's prescriptions from a store. All lines or none: a line asking
    /// for more than may be given is refused with what is available, and nothing moves.
    pub async fn dispense(
        &self,
        ctx: &Ctx,
        key: &str,
        patient: PatientId,
        store: Uuid,
        lines: Vec<LineInput>,
    ) -> Result<DispenseDetail, AppError> {
        let p = self.clinical().clinical_patient(ctx, patient, Permission::PharmacyDispense).await?;
        if !p.active || p.merged_into.is_some() {
            return Err(AppError::field("patient_id", "this record is not active"));
        }
        let st = self.active_store(store).await?;
        if lines.is_empty() {
            return Err(AppError::field("lines", "give at least one line"));
        }
        if lines.iter().any(|l| l.prescription_id.is_none()) {
            return Err(AppError::field("lines", "each line is given against a prescription"));
        }
        let request = json!({ "patient": patient.as_uuid(), "store": store, "lines": lines });
        self.give(ctx, key, DispenseKind::Dispense, st.into(), Some(p), None, lines, request).await
    }

    /// Sells over the counter: to a registered patient or a walk-in customer; a
    /// prescription-only medicine only against that patient's active prescription of it.
    pub async fn sell(&self, ctx: &Ctx, key: &str, input: SaleInput) -> Result<DispenseDetail, AppError> {
        self.authorize(ctx, Permission::PharmacyDispense).await?;
        let st = self.active_store(input.store_id).await?;
        let p = match input.patient_id {
            Some(id) => {
                let p = self
                    .clinical()
                    .clinical_patient(ctx, PatientId::from_uuid(id), Permission::PharmacyDispense)
                    .await?;
                if !p.active || p.merged_into.is_some() {
                    return Err(AppError::field("patient_id", "this record is not active"));
                }
                Some(p)
            }
            None => None,
        };
        let customer = parse_optional_label(&input.customer_name, "customer_name", 200)?;
        if p.is_none() && customer.is_none() {
            return Err(AppError::field(
                "customer_name",
                "give the customer's name, or choose a registered patient",
            ));
        }
        if input.lines.is_empty() {
            return Err(AppError::field("lines", "give at least one line"));
        }
        if input.lines.iter().any(|l| l.item_id.is_none()) {
            return Err(AppError::field("lines", "choose the item of each line"));
        }
        let request = serde_json::to_value(&input).unwrap_or_default();
        self.give(ctx, key, DispenseKind::Sale, st.into(), p, customer, input.lines, request).await
    }

    /// Resolves, allocates and records lines given out: the one path of dispensing and
    /// sales. A refusal that a twin submission caused answers what the twin made.
    #[allow(clippy::too_many_arguments)]
    async fn give(
        &self,
        ctx: &Ctx,
        key: &str,
        kind: DispenseKind,
        store: Store,
        patient: Option<patient::Model>,
        customer: Option<String>,
        lines: Vec<LineInput>,
        request: serde_json::Value,
    ) -> Result<DispenseDetail, AppError> {
        if let Some(done) = self.replayed(ctx, key, kind.as_str(), &request).await? {
            return self.replayed_detail(ctx, done).await;
        }
        let outcome = self.give_once(ctx, key, kind, store, patient, customer, lines, &request).await;
        self.unless_replayed(ctx, key, kind.as_str(), &request, outcome, |id| self.replayed_detail(ctx, id))
            .await
    }

    /// What an earlier submission under the same key dispensed, answered to its retry:
    /// a read of the patient's record like any other, so audited as one (the retry wrote
    /// nothing, and the first submission's event is its write).
    async fn replayed_detail(&self, ctx: &Ctx, id: Uuid) -> Result<DispenseDetail, AppError> {
        let detail = self.dispense_detail(id).await?;
        if let Some(p) = detail.dispense.patient_id {
            let event = Event::new("pharmacy.replay", "dispense", Some(id.to_string())).patient(p);
            self.reads.record(vec![audit::row(ctx, event)]).await?;
        }
        Ok(detail)
    }

    #[allow(clippy::too_many_arguments)]
    async fn give_once(
        &self,
        ctx: &Ctx,
        key: &str,
        kind: DispenseKind,
        store: Store,
        patient: Option<patient::Model>,
        customer: Option<String>,
        lines: Vec<LineInput>,
        request: &serde_json::Value,
    ) -> Result<DispenseDetail, AppError> {
        let conn = self.db.reader();
        let today = self.today();
        let rx_ids: Vec<Uuid> = lines.iter().filter_map(|l| l.prescription_id).collect();
        let rxs: HashMap<Uuid, prescription::Model> =
            q::prescriptions_by_ids(conn, &rx_ids).await?.into_iter().map(|r| (r.id, r)).collect();
        let mut given: HashMap<Uuid, i64> = rxs.values().map(|r| (r.id, r.dispensed)).collect();
        // The items asked for, and for lines that name none the prescribed medicine's.
        let mut medicines: Vec<Uuid> = rxs.values().map(|r| r.medicine_id).collect();
        medicines.sort();
        medicines.dedup();
        let named: Vec<Uuid> = lines.iter().filter_map(|l| l.item_id).collect();
        let (named, of_medicines) =
            tokio::try_join!(q::items_by_ids(conn, &named), q::items_of_medicines(conn, &medicines))?;
        let mut items: HashMap<Uuid, stock_item::Model> =
            of_medicines.into_iter().map(|i| (i.id, i)).collect();
        items.extend(named.into_iter().map(|i| (i.id, i)));
        let mut item_ids: Vec<Uuid> = items.keys().copied().collect();
        item_ids.sort();
        let lots = self.lots_of(store.id, &item_ids).await?;
        let mut left: HashMap<Uuid, i64> = lots.iter().map(|l| (l.batch.id, l.available())).collect();

        let mut errors = Vec::new();
        let mut resolved = Vec::new();
        for (n, l) in lines.iter().enumerate() {
            let line = |msg: String| FieldError::new("lines", format!("line {}: {msg}", n + 1));
            let rx = match l.prescription_id {
                Some(id) => match rxs.get(&id) {
                    Some(rx) if patient.as_ref().is_some_and(|p| p.id == rx.patient_id) => {
                        if rx.status != PrescriptionStatus::Active {
                            errors.push(line(format!(
                                "the prescription of {} is {}; it cannot be dispensed",
                                rx.medicine_name,
                                rx.status.words()
                            )));
                            continue;
                        }
                        Some(rx.clone())
                    }
                    _ => {
                        errors.push(line("is not a prescription of this patient".into()));
                        continue;
                    }
                },
                None => None,
            };
            let quantity = match parse_quantity(l.quantity, "quantity") {
                Ok(q) => q,
                Err(e) => {
                    errors.push(line(e.message));
                    continue;
                }
            };
            // The item: as named, else the prescribed medicine's with the most usable stock.
            let item = match (l.item_id, &rx) {
                (Some(id), _) => items.get(&id).filter(|i| i.active).cloned(),
                (None, Some(rx)) => items
                    .values()
                    .filter(|i| i.medicine_id == Some(rx.medicine_id) && i.active)
                    .max_by_key(|i| {
                        let usable: i64 = lots
                            .iter()
                            .filter(|lot| lot.batch.item_id == i.id && lot.offerable(today))
                            .map(Lot::available)
                            .sum();
                        (usable, std::cmp::Reverse(i.code.clone()))
                    })
                    .cloned(),
                (None, None) => None,
            };
            let Some(item) = item else {
                errors.push(line("choose an active stock item".into()));
                continue;
            };
            if item.kind != ItemKind::Medicine && rx.is_some() {
                errors.push(line(format!("{} is not a medicine", item.name)));
                continue;
            }
            if kind == DispenseKind::Sale && item.prescription_only && rx.is_none() {
                errors.push(line(format!(
                    "{} is prescription-only: sell it against a prescription",
                    item.name
                )));
                continue;
            }
            let substitution_reason =
                parse_optional_label(&l.substitution_reason, "substitution_reason", 300)
                    .map_err(|e| errors.push(line(e.message)))
                    .ok()
                    .flatten();
            if kind == DispenseKind::Sale
                && let Some(rx) = &rx
                && item.medicine_id != Some(rx.medicine_id)
            {
                errors.push(line(format!(
                    "{} is sold only against a prescription of it, not of {}",
                    item.name, rx.medicine_name
                )));
                continue;
            }
            let substitution = match &rx {
                Some(rx) if item.medicine_id != Some(rx.medicine_id) => match substitution_reason {
                    Some(r) => Some((rx.medicine_name.clone(), r)),
                    None => {
                        errors.push(line(format!(
                            "{} was prescribed; say why {} is given in its place",
                            rx.medicine_name, item.name
                        )));
                        continue;
                    }
                },
                _ => None,
            };
            if let Some(rx) = &rx
                && let Some(rem) = remaining(rx, given.get(&rx.id).copied().unwrap_or(0))
                && quantity > rem
            {
                errors.push(line(format!(
                    "{quantity} asked for, but only {rem} of the {} prescribed remain to give",
                    rx.quantity.unwrap_or(0)
                )));
                continue;
            }
            if let Some(b) = l.batch_id {
                match lots.iter().find(|lot| lot.batch.id == b && lot.batch.item_id == item.id) {
                    None => {
                        errors.push(line("the chosen batch is not in this store".into()));
                        continue;
                    }
                    Some(lot) if lot.batch.expiry_date < today => {
                        errors.push(line(format!(
                            "batch {} expired on {}; expired stock is never given",
                            lot.batch.batch_no, lot.batch.expiry_date
                        )));
                        continue;
                    }
                    Some(lot) if lot.batch.held => {
                        errors.push(line(format!(
                            "batch {} is held ({}); it is not given",
                            lot.batch.batch_no,
                            lot.batch.hold_reason.as_deref().unwrap_or("no reason given")
                        )));
                        continue;
                    }
                    Some(_) => {}
                }
            }
            let override_reason = parse_optional_label(&l.override_reason, "override_reason", 300)
                .map_err(|e| errors.push(line(e.message)))
                .ok()
                .flatten();
            if let Some(rx) = &rx {
                *given.entry(rx.id).or_default() += quantity;
            }
            resolved.push(Resolved { rx, item, quantity, batch: l.batch_id, override_reason, substitution });
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }

        // Allocation, line by line, against what earlier lines left.
        let mut parts: Vec<(usize, Uuid, i64)> = Vec::new();
        for (n, r) in resolved.iter().enumerate() {
            let mine: Vec<Lot> = lots
                .iter()
                .filter(|l| l.batch.item_id == r.item.id)
                .map(|l| Lot {
                    on_hand: left.get(&l.batch.id).copied().unwrap_or(0) + l.reserved,
                    ..l.clone()
                })
                .collect();
            let taken = allocate(&mine, r.quantity, today, r.batch).map_err(|s| AppError::OutOfStock {
                what: r.item.name.clone(),
                unit: r.item.base_unit.clone(),
                requested: s.requested,
                available: s.available,
            })?;
            if let Some(chosen) = r.batch {
                let first = allocate(&mine, 1, today, None).ok().and_then(|t| t.first().map(|(b, _)| *b));
                if first != Some(chosen) && r.override_reason.is_none() {
                    return Err(AppError::field(
                        "lines",
                        format!(
                            "line {}: the chosen batch is not the first to expire; say why it is given instead",
                            n + 1
                        ),
                    ));
                }
            }
            for (batch, qty) in taken {
                *left.entry(batch).or_default() -= qty;
                parts.push((n, batch, qty));
            }
        }
        let service = salus_db::laboratory::services_by_code(conn, &[PHARMACY_SERVICE.to_owned()])
            .await?
            .pop()
            .ok_or_else(|| AppError::Internal("the PHARMACY price-list service is missing".into()))?;

        let id = Uuid::now_v7();
        let (txn, op) = match self.begin_operation(ctx, key, kind.as_str(), request, id).await? {
            Begun::Replay(id) => return self.replayed_detail(ctx, id).await,
            Begun::Fresh(txn, op) => (txn, op),
        };
        let by = me(ctx)?;
        let now = Utc::now();
        let series = if kind == DispenseKind::Sale { "S" } else { "P" };
        let n = salus_db::laboratory::next_accession(&txn, &format!("{series}{}", now.year())).await?;
        let row = dispense::Model {
            id,
            number: document_number(series, now.year(), n),
            kind,
            store_id: store.id,
            patient_id: patient.as_ref().map(|p| p.id),
            customer_name: customer,
            dispensed_by: by,
            dispensed_at: now,
        };
        let batches: HashMap<Uuid, stock_batch::Model> = lots
            .iter()
            .map(|l| {
                let b = &l.batch;
                (
                    b.id,
                    stock_batch::Model {
                        id: b.id,
                        item_id: b.item_id,
                        batch_no: b.batch_no.clone(),
                        expiry_date: b.expiry_date,
                        cost_minor: b.cost_minor,
                        sale_price_minor: b.sale_price_minor,
                        supplier_id: b.supplier_id,
                        held: b.held,
                        hold_reason: b.hold_reason.clone(),
                        held_by: None,
                        held_at: None,
                        created_at: b.created_at,
                        version: 1,
                    },
                )
            })
            .collect();
        let mut line_rows = Vec::with_capacity(parts.len());
        for (n, batch, qty) in &parts {
            let r = &resolved[*n];
            let Some(b) = batches.get(batch) else { continue };
            line_rows.push(dispense_line::Model {
                id: Uuid::now_v7(),
                dispense_id: id,
                patient_id: row.patient_id,
                prescription_id: r.rx.as_ref().map(|rx| rx.id),
                item_id: r.item.id,
                item_name: StockItem::from(r.item.clone()).label(),
                batch_id: b.id,
                batch_no: b.batch_no.clone(),
                expiry_date: b.expiry_date,
                quantity: *qty,
                returned: 0,
                unit_price_minor: b.sale_price_minor,
                tax_rate_bp: r.item.tax_rate_bp,
                substituted_for: r.substitution.as_ref().map(|s| s.0.clone()),
                substitution_reason: r.substitution.as_ref().map(|s| s.1.clone()),
                override_reason: r.batch.and(r.override_reason.clone()),
            });
        }
        q::insert_dispense(&txn, row.clone(), line_rows.clone()).await?;
        let movement_kind =
            if kind == DispenseKind::Sale { MovementKind::Sale } else { MovementKind::Dispense };
        let changes: Vec<Change> = line_rows
            .iter()
            .zip(&parts)
            .filter_map(|(l, (n, _, _))| {
                Some(Change {
                    store: store.id,
                    batch: batches.get(&l.batch_id)?,
                    item: &resolved[*n].item,
                    quantity: -l.quantity,
                    kind: movement_kind,
                    reason: None,
                    source: (CHARGE_SOURCE, l.id),
                    patient: l.patient_id,
                })
            })
            .collect();
        apply(&txn, &changes, op, by, self.today()).await?;
        if let Some(p) = &patient {
            let charges = line_rows
                .iter()
                .map(|l| {
                    let mut c = crate::charges::unbilled(
                        &service,
                        p.id,
                        &format!("{} (batch {})", l.item_name, l.batch_no),
                        (CHARGE_SOURCE, l.id),
                        by,
                        now,
                    );
                    c.quantity = i32::try_from(l.quantity).unwrap_or(i32::MAX);
                    c.unit_price_minor = l.unit_price_minor;
                    c.tax_rate_bp = l.tax_rate_bp;
                    c
                })
                .collect();
            salus_db::charges::insert_charges(&txn, charges).await?;
        }
        // Each prescription's count rises only if that much remains of it now, whatever
        // another pharmacist gave meanwhile; one fully given is complete and leaves the queue.
        for r in &resolved {
            let Some(rx) = &r.rx else { continue };
            if !q::add_dispensed(&txn, rx.id, r.quantity).await? {
                let now = q::prescriptions_by_ids(&txn, &[rx.id]).await?.pop();
                let left = now.as_ref().and_then(|p| remaining(p, p.dispensed));
                return Err(AppError::Conflict(format!(
                    "{} was dispensed meanwhile{}; reload and check",
                    rx.medicine_name,
                    left.map(|l| format!(": {l} remain")).unwrap_or_default()
                )));
            }
        }
        // Complete what is now fully given, whoever gave the rest (the UPDATE checks the
        // count as it is now, not as this request read it).
        let mut given_against: Vec<Uuid> =
            resolved.iter().filter_map(|r| r.rx.as_ref().map(|rx| rx.id)).collect();
        given_against.sort();
        given_against.dedup();
        for rx in given_against {
            q::complete_prescription(&txn, rx).await?;
        }
        if let Some(p) = &patient {
            let summary = line_rows
                .iter()
                .map(|l| format!("{} × {}", l.item_name, l.quantity))
                .collect::<Vec<_>>()
                .join(", ");
            salus_db::patients::insert_timeline(
                &txn,
                vec![timeline_row(p.id, "dispense", format!("Dispensed {summary} ({})", row.number), ctx)],
            )
            .await?;
        }
        let mut event = Event::new(
            if kind == DispenseKind::Sale { "pharmacy.sale" } else { "pharmacy.dispense" },
            "dispense",
            Some(id.to_string()),
        )
        .detail(json!({
            "number": row.number,
            "store": store.code,
            "customer": row.customer_name,
            "lines": line_rows.iter().map(|l| json!({
                "item": l.item_name, "batch": l.batch_no, "quantity": l.quantity,
                "prescription_id": l.prescription_id, "substituted_for": l.substituted_for,
                "substitution_reason": l.substitution_reason, "override_reason": l.override_reason,
            })).collect::<Vec<_>>(),
        }));
        if let Some(p) = &patient {
            event = event.patient(p.id);
        }
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        let prescriptions = resolved.iter().filter_map(|r| r.rx.clone()).map(Into::into).collect();
        Ok(DispenseDetail {
            dispense: row.into(),
            lines: crate::records(line_rows),
            patient: patient.as_ref().map(Into::into),
            prescriptions,
            dispensed_by: ctx.actor.user().map(|u| u.display_name.clone()).unwrap_or_default(),
        })
    }

    /// A dispensing or sale as recorded.
    async fn dispense_detail(&self, id: Uuid) -> Result<DispenseDetail, AppError> {
        let conn = self.db.reader();
        let d = q::find_dispense(conn, id).await?.ok_or(AppError::NotFound("dispensing"))?;
        let lines = q::lines_of_dispense(conn, id).await?;
        let rx_ids: Vec<Uuid> = lines.iter().filter_map(|l| l.prescription_id).collect();
        let by = [d.dispensed_by];
        let (rxs, names) = tokio::try_join!(
            q::prescriptions_by_ids(conn, &rx_ids),
            salus_db::identity::display_names_of(conn, &by)
        )?;
        let patient = match d.patient_id {
            Some(p) => salus_db::patients::find_patient(conn, p).await?.map(|p| LabPatient::from(&p)),
            None => None,
        };
        Ok(DispenseDetail {
            dispensed_by: names.into_iter().next().map(|(_, n)| n).unwrap_or_default(),
            dispense: d.into(),
            lines: crate::records(lines),
            patient,
            prescriptions: crate::records(rxs),
        })
    }

    /// A dispensing or sale, for its receipt and labels (pharmacists; a patient's
    /// clinicians). Reading one of a patient's is an audited read of the record.
    pub async fn dispensing(&self, ctx: &Ctx, id: Uuid) -> Result<DispenseDetail, AppError> {
        let d = q::find_dispense(self.db.reader(), id).await?.ok_or(AppError::NotFound("dispensing"))?;
        match d.patient_id {
            Some(p) => {
                let permission = if ctx.actor.require(Permission::PharmacyDispense).is_ok() {
                    Permission::PharmacyDispense
                } else {
                    Permission::ClinicalRead
                };
                self.clinical().clinical_patient(ctx, PatientId::from_uuid(p), permission).await?;
                let event = Event::new("pharmacy.read", "dispense", Some(id.to_string())).patient(p);
                self.reads.record(vec![audit::row(ctx, event)]).await?;
            }
            None => self.authorize(ctx, Permission::PharmacyDispense).await?,
        }
        self.dispense_detail(id).await
    }

    /// A patient's dispensings, newest first (pharmacists; the patient's clinicians).
    pub async fn dispensings_of(&self, ctx: &Ctx, patient: PatientId) -> Result<Vec<Dispense>, AppError> {
        let permission = if ctx.actor.require(Permission::PharmacyDispense).is_ok() {
            Permission::PharmacyDispense
        } else {
            Permission::ClinicalRead
        };
        let p = self.clinical().clinical_patient(ctx, patient, permission).await?;
        let rows = q::dispenses_of(self.db.reader(), p.id, 200).await?;
        let event = Event::new("pharmacy.read", "dispenses", Some(patient.to_string())).patient(p.id);
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        Ok(crate::records(rows))
    }
}
