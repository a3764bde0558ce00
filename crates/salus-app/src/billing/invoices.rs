//! Invoices: built from a patient's unbilled charges, priced line by line (the line's
//! discount, a share of the bill's, tax on what is left), numbered gaplessly and posted
//! with their journal entry in one transaction; never changed after — a mistake is
//! cancelled with a credit note, which reverses the entry and frees the charges.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use salus_core::FieldError;
use salus_core::billing::{
    Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, LineInput, Totals, discount_share_bp, invoice_entry,
    price_lines, reversal,
};
use salus_core::organisation::parse_optional_label;
use salus_db::billing as q;
use salus_db::entity::{invoice, invoice_line};
use serde_json::json;
use uuid::Uuid;

use super::{CREDIT_NOTE_SERIES, INVOICE_SERIES, me};
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::operations::Begun;
use crate::{AppError, Ctx};

/// Lines one invoice may carry (a long stay's final bill fits many times over).
const MAX_LINES: usize = 2000;

/// What the clerk asks to bill.
#[derive(Debug, Clone, Default)]
pub struct InvoiceInput {
    pub kind: Option<InvoiceKind>,
    /// The stay an interim or final bill is for.
    pub admission_id: Option<Uuid>,
    /// The charges to bill; a final bill takes every unbilled charge and may name none.
    pub charge_ids: Vec<Uuid>,
    /// A discount on one line: (charge, minor units).
    pub line_discounts: Vec<(Uuid, i64)>,
    /// A discount on the whole bill, in minor units, spread over the lines.
    pub discount_minor: i64,
    pub discount_reason: String,
}

/// An invoice with its lines.
#[derive(Debug, Clone)]
pub struct InvoiceDetail {
    pub invoice: Invoice,
    pub lines: Vec<InvoiceLine>,
    pub patient: crate::laboratory::LabPatient,
}

impl crate::Billing<'_> {
    /// Posts an invoice of a patient's unbilled charges. The same key again answers the
    /// invoice it made (a double submit never bills twice, hmis#21153).
    #[tracing::instrument(skip_all, fields(patient_id = %patient))]
    pub async fn post_invoice(
        &self,
        ctx: &Ctx,
        key: &str,
        patient: Uuid,
        input: InvoiceInput,
    ) -> Result<InvoiceDetail, AppError> {
        let request = json!({
            "patient": patient, "kind": input.kind, "admission": input.admission_id, "charges": input.charge_ids,
            "line_discounts": input.line_discounts, "discount": input.discount_minor, "reason": input.discount_reason,
        });
        if let Some(done) = self.replayed(ctx, key, "invoice", &request).await? {
            return self.invoice_detail(ctx, done).await;
        }
        let outcome = self.post_invoice_once(ctx, key, patient, input, &request).await;
        self.unless_replayed(ctx, key, "invoice", &request, outcome, |done| self.invoice_detail(ctx, done))
            .await
    }

    async fn post_invoice_once(
        &self,
        ctx: &Ctx,
        key: &str,
        patient: Uuid,
        input: InvoiceInput,
        request: &serde_json::Value,
    ) -> Result<InvoiceDetail, AppError> {
        let p = self.billed_patient(ctx, patient, Permission::BillingCollect).await?;
        let conn = self.db.reader();
        let mut errors = Vec::new();
        let kind = input.kind.unwrap_or(if input.admission_id.is_some() {
            InvoiceKind::Interim
        } else {
            InvoiceKind::Outpatient
        });
        match (kind, input.admission_id) {
            (InvoiceKind::Outpatient, Some(_)) => {
                errors.push(FieldError::new("admission_id", "an outpatient bill is for no stay"))
            }
            (InvoiceKind::Interim | InvoiceKind::Final, None) => {
                errors.push(FieldError::new("admission_id", "say which stay the bill is for"))
            }
            (_, Some(a)) => match salus_db::inpatient::find_admission(conn, a).await? {
                Some(stay) if stay.patient_id == p.id => {}
                _ => errors.push(FieldError::new("admission_id", "a stay of this patient")),
            },
            (InvoiceKind::Outpatient, None) => {}
        }
        let unbilled = q::unbilled_charges(conn, p.id).await?;
        let wanted: Vec<Uuid> = if kind == InvoiceKind::Final && input.charge_ids.is_empty() {
            unbilled.iter().map(|c| c.id).collect()
        } else {
            let mut seen = HashSet::new();
            input.charge_ids.iter().copied().filter(|id| seen.insert(*id)).collect()
        };
        if wanted.is_empty() {
            errors.push(FieldError::new("charge_ids", "choose the charges to bill"));
        }
        if wanted.len() > MAX_LINES {
            errors.push(FieldError::new("charge_ids", format!("at most {MAX_LINES} charges on one bill")));
        }
        let by_id: HashMap<Uuid, &salus_db::entity::charge::Model> =
            unbilled.iter().map(|c| (c.id, c)).collect();
        let missing: Vec<Uuid> = wanted.iter().copied().filter(|id| !by_id.contains_key(id)).collect();
        if !missing.is_empty() {
            return Err(AppError::Conflict(format!(
                "{} of the charges are not this patient's unbilled charges (billed meanwhile, or another \
                 patient's); look at the account again",
                missing.len()
            )));
        }
        // hmis#19760: a final bill leaves nothing of the patient unbilled.
        if kind == InvoiceKind::Final && wanted.len() < unbilled.len() {
            errors.push(FieldError::new(
                "charge_ids",
                format!(
                    "a final bill takes every unbilled charge; {} are left out",
                    unbilled.len() - wanted.len()
                ),
            ));
        }
        let discounts: HashMap<Uuid, i64> = input.line_discounts.iter().copied().collect();
        if discounts.keys().any(|c| !wanted.contains(c)) {
            errors.push(FieldError::new("line_discounts", "a line discount is on a charge being billed"));
        }
        let reason = parse_optional_label(&input.discount_reason, "discount_reason", 300)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let charges: Vec<&salus_db::entity::charge::Model> = wanted.iter().map(|id| by_id[id]).collect();
        let codes: Vec<String> = {
            let mut c: Vec<String> = charges.iter().map(|c| c.service_code.clone()).collect();
            c.sort();
            c.dedup();
            c
        };
        let departments: HashMap<String, String> = salus_db::laboratory::services_by_code(conn, &codes)
            .await?
            .into_iter()
            .map(|s| (s.code, s.category))
            .collect();
        let inputs: Vec<LineInput> = charges
            .iter()
            .map(|c| LineInput {
                quantity: i64::from(c.quantity),
                unit_price_minor: c.unit_price_minor,
                tax_rate_bp: i64::from(c.tax_rate_bp),
                discount_minor: discounts.get(&c.id).copied().unwrap_or(0),
            })
            .collect();
        let priced = price_lines(&inputs, input.discount_minor).map_err(|e| AppError::Invalid(vec![e]))?;
        let totals = Totals::of(&priced);
        let discounted = totals.discount_minor > 0;
        if discounted && reason.is_none() {
            return Err(AppError::field("discount_reason", "say why the discount is given"));
        }
        let over_limit = discount_share_bp(&totals) > self.billing.discount_limit_bp;
        let approved_by = if over_limit {
            if ctx.actor.require(Permission::BillingApprove).is_err() {
                return Err(AppError::field(
                    "discount",
                    format!(
                        "a discount over {}% of the bill needs a supervisor: ask one to post it",
                        self.billing.discount_limit_bp as f64 / 100.0
                    ),
                ));
            }
            Some(me(ctx)?)
        } else {
            None
        };
        let by = me(ctx)?;
        let now = Utc::now();
        let id = Uuid::now_v7();
        let dept_of = |c: &salus_db::entity::charge::Model| {
            departments.get(&c.service_code).cloned().unwrap_or_else(|| "other".to_owned())
        };
        let lines: Vec<invoice_line::Model> = charges
            .iter()
            .zip(&priced)
            .enumerate()
            .map(|(i, (c, a))| invoice_line::Model {
                id: Uuid::now_v7(),
                invoice_id: id,
                position: i as i32 + 1,
                charge_id: c.id,
                service_code: c.service_code.clone(),
                description: c.description.clone(),
                department: dept_of(c),
                quantity: c.quantity,
                unit_price_minor: c.unit_price_minor,
                tax_rate_bp: c.tax_rate_bp,
                gross_minor: a.gross_minor,
                discount_minor: a.discount_minor,
                tax_minor: a.tax_minor,
                net_minor: a.net_minor,
            })
            .collect();
        let department_names: Vec<&str> = lines.iter().map(|l| l.department.as_str()).collect();
        let entry = invoice_entry(&priced, &department_names);

        let txn = match self.begin_operation(ctx, key, "invoice", request, id).await? {
            Begun::Replay(done) => return self.invoice_detail(ctx, done).await,
            Begun::Fresh(txn, _) => txn,
        };
        let number = self.number(&txn, INVOICE_SERIES, now).await?;
        let row = invoice::Model {
            id,
            number: number.clone(),
            fiscal_year: self.year_of(now),
            patient_id: p.id,
            admission_id: input.admission_id,
            kind,
            status: InvoiceStatus::Posted,
            currency: self.currency.code().into(),
            gross_minor: totals.gross_minor,
            discount_minor: totals.discount_minor,
            tax_minor: totals.tax_minor,
            total_minor: totals.total_minor,
            paid_minor: 0,
            refunded_minor: 0,
            discount_reason: reason.filter(|_| discounted),
            approved_by,
            posted_by: by,
            posted_at: now,
            credit_note_number: None,
            cancel_reason: None,
            cancelled_by: None,
            cancelled_at: None,
            print_count: 0,
        };
        let ids: Vec<Uuid> = charges.iter().map(|c| c.id).collect();
        if q::bill_charges(&txn, p.id, &ids, id).await? != ids.len() as u64 {
            return Err(AppError::Conflict(
                "some of the charges were billed by someone else meanwhile; look at the account again".into(),
            ));
        }
        q::insert_invoice(&txn, row, lines).await?;
        self.post_entry(&txn, entry, ("invoice", id), Some(p.id), now).await?;
        let event =
            Event::new("billing.invoice.post", "invoice", Some(id.to_string())).patient(p.id).detail(json!({
                "number": number, "kind": kind, "lines": ids.len(), "total_minor": totals.total_minor,
                "discount_minor": totals.discount_minor, "approved_by": approved_by,
            }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        self.invoice_detail(ctx, id).await
    }

    /// An invoice with its lines (reading it is audited: it names the patient's care).
    pub async fn invoice(&self, ctx: &Ctx, id: Uuid) -> Result<InvoiceDetail, AppError> {
        let detail = self.invoice_detail(ctx, id).await?;
        let event = Event::new("billing.invoice.read", "invoice", Some(id.to_string()))
            .patient(detail.invoice.patient_id);
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        Ok(detail)
    }

    /// An invoice as a write answers it (the write's own audit event covers the read).
    async fn invoice_detail(&self, ctx: &Ctx, id: Uuid) -> Result<InvoiceDetail, AppError> {
        let conn = self.db.reader();
        let row = q::find_invoice(conn, id).await?.ok_or(AppError::NotFound("invoice"))?;
        let p = self.billed_patient(ctx, row.patient_id, Permission::BillingRead).await?;
        let lines = crate::records(q::invoice_lines(conn, id).await?);
        Ok(InvoiceDetail { invoice: row.into(), lines, patient: (&p).into() })
    }

    /// An invoice to print: the first print is the original, later ones say DUPLICATE.
    /// Returns the detail and whether this print is a duplicate.
    pub async fn print_invoice(&self, ctx: &Ctx, id: Uuid) -> Result<(InvoiceDetail, bool), AppError> {
        let detail = self.invoice_detail(ctx, id).await?;
        let txn = self.db.begin_write().await?;
        q::count_invoice_print(&txn, id).await?;
        let event = Event::new("billing.invoice.print", "invoice", Some(id.to_string()))
            .patient(detail.invoice.patient_id)
            .detail(json!({ "copy": detail.invoice.print_count + 1 }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        let duplicate = detail.invoice.print_count > 0;
        Ok((detail, duplicate))
    }

    /// Cancels a posted invoice with a credit note (a supervisor's act): its journal entry
    /// is reversed and its charges are unbilled again, to be billed rightly. Money paid on
    /// it becomes the patient's credit, refunded through a refund request.
    pub async fn cancel_invoice(&self, ctx: &Ctx, id: Uuid, reason: &str) -> Result<InvoiceDetail, AppError> {
        self.authorize(ctx, Permission::BillingApprove).await?;
        let reason = parse_optional_label(reason, "reason", 300)?
            .ok_or_else(|| AppError::field("reason", "say why the invoice is cancelled"))?;
        let detail = self.invoice_detail(ctx, id).await?;
        if detail.invoice.status == InvoiceStatus::Cancelled {
            return Err(AppError::Conflict(format!("{} is already cancelled", detail.invoice.number)));
        }
        let amounts: Vec<salus_core::billing::LineAmounts> = detail
            .lines
            .iter()
            .map(|l| salus_core::billing::LineAmounts {
                gross_minor: l.gross_minor,
                discount_minor: l.discount_minor,
                tax_minor: l.tax_minor,
                net_minor: l.net_minor,
            })
            .collect();
        let departments: Vec<&str> = detail.lines.iter().map(|l| l.department.as_str()).collect();
        let entry = reversal(&invoice_entry(&amounts, &departments));
        let by = me(ctx)?;
        let now = Utc::now();
        let txn = self.db.begin_write().await?;
        let credit_note = self.number(&txn, CREDIT_NOTE_SERIES, now).await?;
        if !q::cancel_invoice(&txn, id, &credit_note, &reason, by, now).await? {
            return Err(AppError::Conflict(format!("{} was cancelled meanwhile", detail.invoice.number)));
        }
        // Checked after the invoice's row is taken, so a claim submitted at the same
        // moment is either seen here or finds the invoice cancelled.
        if salus_db::insurance::claimed_on_invoice(&txn, id).await? {
            return Err(AppError::Conflict(format!(
                "{} is claimed from an insurer; the claim is settled or closed on its own terms",
                detail.invoice.number
            )));
        }
        q::unbill_charges(&txn, id).await?;
        self.post_entry(&txn, entry, ("credit_note", id), Some(detail.invoice.patient_id), now).await?;
        let event = Event::new("billing.invoice.cancel", "invoice", Some(id.to_string()))
            .patient(detail.invoice.patient_id)
            .detail(json!({ "number": detail.invoice.number, "credit_note": credit_note, "reason": reason }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        self.invoice_detail(ctx, id).await
    }
}
