//! Money in and out: payments against an invoice (several methods for one bill, never
//! more than its balance), deposits held for a patient and applied to a later bill, and
//! refunds — asked for by a clerk, approved by another person holding the supervisor's
//! permission, paid out by a cashier. Every receipt has a gapless number, carries an
//! idempotency key, and writes its journal entry in its own transaction.

use chrono::Utc;
use salus_core::FieldError;
use salus_core::billing::{InvoiceStatus, PaymentMethod, Receipt, ReceiptKind, RefundRequest, RefundStatus};
use salus_core::organisation::{parse_label, parse_optional_label};
use salus_db::billing as q;
use salus_db::entity::{cashier_shift, receipt, refund_request};
use serde_json::json;
use uuid::Uuid;

use super::{RECEIPT_SERIES, REFUND_SERIES, me, money_row};
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::operations::Begun;
use crate::{AppError, Ctx};

/// A payment against an invoice.
#[derive(Debug, Clone)]
pub struct PaymentInput {
    pub invoice_id: Uuid,
    pub method: PaymentMethod,
    pub amount_minor: i64,
    /// The card slip, UPI or bank reference.
    pub reference: String,
    /// For a payment from a deposit: the deposit.
    pub deposit_id: Option<Uuid>,
}

/// Money taken to hold for a patient.
#[derive(Debug, Clone)]
pub struct DepositInput {
    pub method: PaymentMethod,
    pub amount_minor: i64,
    pub reference: String,
}

/// A refund asked for: from a deposit's unapplied money or a cancelled invoice's payments.
#[derive(Debug, Clone)]
pub struct RefundInput {
    pub deposit_id: Option<Uuid>,
    pub invoice_id: Option<Uuid>,
    pub amount_minor: i64,
    pub method: PaymentMethod,
    pub reason: String,
}

fn amount_error(amount: i64) -> Option<FieldError> {
    (amount <= 0).then(|| FieldError::new("amount", "enter an amount more than nothing"))
}

impl crate::Billing<'_> {
    /// The cashier's open shift, which desk money is taken in (refused without one, so
    /// every rupee at the desk is in some shift's count).
    async fn desk_shift(&self, ctx: &Ctx) -> Result<cashier_shift::Model, AppError> {
        q::open_shift(self.db.reader(), me(ctx)?).await?.ok_or_else(|| {
            AppError::Conflict("open your cash shift before taking or paying out money".into())
        })
    }

    /// Takes a payment against an invoice.
    #[tracing::instrument(skip_all, fields(invoice_id = %input.invoice_id))]
    pub async fn pay(&self, ctx: &Ctx, key: &str, input: PaymentInput) -> Result<Receipt, AppError> {
        let request = json!({
            "invoice": input.invoice_id, "method": input.method, "amount": input.amount_minor,
            "reference": input.reference, "deposit": input.deposit_id,
        });
        if let Some(done) = self.replayed(ctx, key, "payment", &request).await? {
            return self.receipt_of(done).await;
        }
        let outcome = self.pay_once(ctx, key, input, &request).await;
        self.unless_replayed(ctx, key, "payment", &request, outcome, |done| self.receipt_of(done)).await
    }

    async fn pay_once(
        &self,
        ctx: &Ctx,
        key: &str,
        input: PaymentInput,
        request: &serde_json::Value,
    ) -> Result<Receipt, AppError> {
        self.authorize(ctx, Permission::BillingCollect).await?;
        let conn = self.db.reader();
        let inv = q::find_invoice(conn, input.invoice_id).await?.ok_or(AppError::NotFound("invoice"))?;
        let p = self.billed_patient(ctx, inv.patient_id, Permission::BillingCollect).await?;
        let mut errors: Vec<FieldError> = amount_error(input.amount_minor).into_iter().collect();
        let reference = parse_optional_label(&input.reference, "reference", 100)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let mut shift = None;
        match input.method {
            PaymentMethod::Deposit => match input.deposit_id {
                None => errors.push(FieldError::new("deposit_id", "say which deposit pays")),
                Some(d) => match q::find_receipt(conn, d).await? {
                    Some(dep) if dep.kind == ReceiptKind::Deposit && dep.patient_id == p.id => {
                        if dep.unapplied_minor < input.amount_minor {
                            errors.push(FieldError::new(
                                "amount",
                                format!("the deposit has {} left", self.money(dep.unapplied_minor)),
                            ));
                        }
                    }
                    _ => errors.push(FieldError::new("deposit_id", "a deposit of this patient")),
                },
            },
            m if PaymentMethod::AT_DESK.contains(&m) => {
                if input.deposit_id.is_some() {
                    errors.push(FieldError::new("deposit_id", "only a payment from a deposit names one"));
                }
                if m != PaymentMethod::Cash && reference.is_none() {
                    errors.push(FieldError::new("reference", "give the slip, UPI or bank reference"));
                }
                shift = Some(self.desk_shift(ctx).await?);
            }
            _ => errors.push(FieldError::new(
                "method",
                "cash, card, UPI, bank transfer or a deposit (insurance and online payments settle by themselves)",
            )),
        }
        if inv.status == InvoiceStatus::Cancelled {
            return Err(AppError::Conflict(format!("{} is cancelled; nothing is owed on it", inv.number)));
        }
        let balance = inv.total_minor - inv.paid_minor;
        if input.amount_minor > balance {
            errors.push(FieldError::new(
                "amount",
                format!("{} is left to pay on {}", self.money(balance), inv.number),
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let now = Utc::now();
        let id = Uuid::now_v7();
        let txn = match self.begin_operation(ctx, key, "payment", request, id).await? {
            Begun::Replay(done) => return self.receipt_of(done).await,
            Begun::Fresh(txn, _) => txn,
        };
        // The database decides, whatever raced: within the balance, the deposit not spent.
        if !q::pay_invoice(&txn, inv.id, input.amount_minor).await? {
            return Err(AppError::Conflict(format!(
                "{} was paid or cancelled meanwhile; look at its balance again",
                inv.number
            )));
        }
        if let Some(d) = input.deposit_id
            && !q::draw_deposit(&txn, d, input.amount_minor).await?
        {
            return Err(AppError::Conflict("the deposit was used meanwhile; look at it again".into()));
        }
        let number = self.number(&txn, RECEIPT_SERIES, now).await?;
        let row = receipt::Model {
            invoice_id: Some(inv.id),
            deposit_id: input.deposit_id,
            reference,
            shift_id: shift.map(|s| s.id),
            ..money_row(
                id,
                number.clone(),
                p.id,
                ReceiptKind::Payment,
                input.method,
                input.amount_minor,
                me(ctx)?,
                now,
            )
        };
        self.record_money(&txn, row).await?;
        let event = Event::new("billing.payment", "receipt", Some(id.to_string())).patient(p.id).detail(json!({
            "number": number, "invoice": inv.number, "method": input.method, "amount_minor": input.amount_minor,
        }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        self.receipt_of(id).await
    }

    /// Takes a deposit to hold for a patient (on admission, before a procedure).
    pub async fn take_deposit(
        &self,
        ctx: &Ctx,
        key: &str,
        patient: Uuid,
        input: DepositInput,
    ) -> Result<Receipt, AppError> {
        let request = json!({ "patient": patient, "method": input.method, "amount": input.amount_minor, "reference": input.reference });
        if let Some(done) = self.replayed(ctx, key, "deposit", &request).await? {
            return self.receipt_of(done).await;
        }
        let p = self.billed_patient(ctx, patient, Permission::BillingCollect).await?;
        let mut errors: Vec<FieldError> = amount_error(input.amount_minor).into_iter().collect();
        let reference = parse_optional_label(&input.reference, "reference", 100)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        if !PaymentMethod::AT_DESK.contains(&input.method) {
            errors.push(FieldError::new("method", "cash, card, UPI or bank transfer"));
        } else if input.method != PaymentMethod::Cash && reference.is_none() {
            errors.push(FieldError::new("reference", "give the slip, UPI or bank reference"));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let shift = self.desk_shift(ctx).await?;
        let now = Utc::now();
        let id = Uuid::now_v7();
        let txn = match self.begin_operation(ctx, key, "deposit", &request, id).await? {
            Begun::Replay(done) => return self.receipt_of(done).await,
            Begun::Fresh(txn, _) => txn,
        };
        let number = self.number(&txn, RECEIPT_SERIES, now).await?;
        let row = receipt::Model {
            unapplied_minor: input.amount_minor,
            reference,
            shift_id: Some(shift.id),
            ..money_row(
                id,
                number.clone(),
                p.id,
                ReceiptKind::Deposit,
                input.method,
                input.amount_minor,
                me(ctx)?,
                now,
            )
        };
        self.record_money(&txn, row).await?;
        let event = Event::new("billing.deposit", "receipt", Some(id.to_string()))
            .patient(p.id)
            .detail(json!({ "number": number, "method": input.method, "amount_minor": input.amount_minor }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        self.receipt_of(id).await
    }

    /// A receipt as a write answers it.
    async fn receipt_of(&self, id: Uuid) -> Result<Receipt, AppError> {
        Ok(q::find_receipt(self.db.reader(), id).await?.ok_or(AppError::NotFound("receipt"))?.into())
    }

    /// A receipt to print (audited; the first print is the original, later ones say
    /// DUPLICATE): the receipt, the patient, the invoice it paid, and whether a duplicate.
    pub async fn print_receipt(
        &self,
        ctx: &Ctx,
        id: Uuid,
    ) -> Result<(Receipt, crate::laboratory::LabPatient, Option<String>, bool), AppError> {
        let conn = self.db.reader();
        let r = q::find_receipt(conn, id).await?.ok_or(AppError::NotFound("receipt"))?;
        let p = self.billed_patient(ctx, r.patient_id, Permission::BillingRead).await?;
        let invoice = match r.invoice_id {
            Some(i) => q::find_invoice(conn, i).await?.map(|i| i.number),
            None => None,
        };
        let txn = self.db.begin_write().await?;
        q::count_receipt_print(&txn, id).await?;
        let event = Event::new("billing.receipt.print", "receipt", Some(id.to_string()))
            .patient(p.id)
            .detail(json!({ "copy": r.print_count + 1 }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        let duplicate = r.print_count > 0;
        Ok((r.into(), (&p).into(), invoice, duplicate))
    }

    /// Asks for a refund; a supervisor approves it and a cashier pays it out.
    pub async fn request_refund(
        &self,
        ctx: &Ctx,
        patient: Uuid,
        input: RefundInput,
    ) -> Result<RefundRequest, AppError> {
        let p = self.billed_patient(ctx, patient, Permission::BillingCollect).await?;
        let conn = self.db.reader();
        let mut errors: Vec<FieldError> = amount_error(input.amount_minor).into_iter().collect();
        let reason = parse_label(&input.reason, "reason", 300)
            .map_err(|_| errors.push(FieldError::new("reason", "say why the money goes back")))
            .unwrap_or_default();
        if !PaymentMethod::AT_DESK.contains(&input.method) {
            errors.push(FieldError::new("method", "cash, card, UPI or bank transfer"));
        }
        match (input.deposit_id, input.invoice_id) {
            (Some(d), None) => match q::find_receipt(conn, d).await? {
                Some(dep) if dep.kind == ReceiptKind::Deposit && dep.patient_id == p.id => {
                    if dep.unapplied_minor < input.amount_minor {
                        errors.push(FieldError::new(
                            "amount",
                            format!("the deposit has {} left", self.money(dep.unapplied_minor)),
                        ));
                    }
                }
                _ => errors.push(FieldError::new("deposit_id", "a deposit of this patient")),
            },
            (None, Some(i)) => match q::find_invoice(conn, i).await? {
                Some(inv) if inv.patient_id == p.id => {
                    if inv.status != InvoiceStatus::Cancelled {
                        errors.push(FieldError::new(
                            "invoice_id",
                            "money paid on a posted invoice goes back only once it is cancelled",
                        ));
                    } else if inv.paid_minor - inv.refunded_minor < input.amount_minor {
                        errors.push(FieldError::new(
                            "amount",
                            format!(
                                "{} of what was paid is left to give back",
                                self.money(inv.paid_minor - inv.refunded_minor)
                            ),
                        ));
                    }
                }
                _ => errors.push(FieldError::new("invoice_id", "an invoice of this patient")),
            },
            _ => {
                errors.push(FieldError::new("deposit_id", "refund from one deposit or one cancelled invoice"))
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let row = refund_request::Model {
            id: Uuid::now_v7(),
            patient_id: p.id,
            deposit_id: input.deposit_id,
            invoice_id: input.invoice_id,
            amount_minor: input.amount_minor,
            method: input.method,
            reason,
            status: RefundStatus::Requested,
            requested_by: me(ctx)?,
            requested_at: Utc::now(),
            decided_by: None,
            decided_at: None,
            decision_note: None,
            receipt_id: None,
        };
        let txn = self.db.begin_write().await?;
        q::insert_refund_request(&txn, row.clone()).await?;
        let event = Event::new("billing.refund.request", "refund_request", Some(row.id.to_string()))
            .patient(p.id)
            .detail(json!({ "amount_minor": row.amount_minor, "reason": row.reason }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// A supervisor approves or rejects a refund — never one they asked for themselves.
    pub async fn decide_refund(
        &self,
        ctx: &Ctx,
        id: Uuid,
        approve: bool,
        note: &str,
    ) -> Result<RefundRequest, AppError> {
        self.authorize(ctx, Permission::BillingApprove).await?;
        let r = q::find_refund_request(self.db.reader(), id).await?.ok_or(AppError::NotFound("refund"))?;
        self.billed_patient(ctx, r.patient_id, Permission::BillingApprove).await?;
        let by = me(ctx)?;
        if r.requested_by == by {
            return Err(AppError::Conflict(
                "a refund is approved by someone other than who asked for it".into(),
            ));
        }
        let note = parse_optional_label(note, "note", 300)?;
        if !approve && note.is_none() {
            return Err(AppError::field("note", "say why the refund is refused"));
        }
        let to = if approve { RefundStatus::Approved } else { RefundStatus::Rejected };
        let txn = self.db.begin_write().await?;
        if !q::decide_refund(&txn, id, to, by, Utc::now(), note.as_deref()).await? {
            return Err(AppError::Conflict("this refund was already decided".into()));
        }
        let event = Event::new("billing.refund.decide", "refund_request", Some(id.to_string()))
            .patient(r.patient_id)
            .detail(json!({ "status": to, "note": note }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(q::find_refund_request(self.db.reader(), id).await?.ok_or(AppError::NotFound("refund"))?.into())
    }

    /// A cashier pays out an approved refund, from their shift.
    pub async fn pay_refund(&self, ctx: &Ctx, key: &str, id: Uuid) -> Result<Receipt, AppError> {
        let request = json!({ "refund": id });
        if let Some(done) = self.replayed(ctx, key, "refund", &request).await? {
            return self.receipt_of(done).await;
        }
        self.authorize(ctx, Permission::BillingCollect).await?;
        let r = q::find_refund_request(self.db.reader(), id).await?.ok_or(AppError::NotFound("refund"))?;
        self.billed_patient(ctx, r.patient_id, Permission::BillingCollect).await?;
        match r.status {
            RefundStatus::Approved => {}
            RefundStatus::Requested => {
                return Err(AppError::Conflict("the refund waits for a supervisor's approval".into()));
            }
            RefundStatus::Rejected => return Err(AppError::Conflict("the refund was refused".into())),
            RefundStatus::Paid => return Err(AppError::Conflict("the refund was already paid out".into())),
        }
        let shift = self.desk_shift(ctx).await?;
        let now = Utc::now();
        let receipt_id = Uuid::now_v7();
        let txn = match self.begin_operation(ctx, key, "refund", &request, receipt_id).await? {
            Begun::Replay(done) => return self.receipt_of(done).await,
            Begun::Fresh(txn, _) => txn,
        };
        let drawn = match (r.deposit_id, r.invoice_id) {
            (Some(d), _) => q::draw_deposit(&txn, d, r.amount_minor).await?,
            (None, Some(i)) => q::refund_on_invoice(&txn, i, r.amount_minor).await?,
            (None, None) => false,
        };
        if !drawn {
            return Err(AppError::Conflict(
                "that money was used or given back meanwhile; the refund cannot be paid".into(),
            ));
        }
        if !q::mark_refund_paid(&txn, id, receipt_id).await? {
            return Err(AppError::Conflict("the refund was already paid out".into()));
        }
        let number = self.number(&txn, REFUND_SERIES, now).await?;
        let row = receipt::Model {
            invoice_id: r.invoice_id,
            deposit_id: r.deposit_id,
            shift_id: Some(shift.id),
            ..money_row(
                receipt_id,
                number.clone(),
                r.patient_id,
                ReceiptKind::Refund,
                r.method,
                r.amount_minor,
                me(ctx)?,
                now,
            )
        };
        self.record_money(&txn, row).await?;
        let event = Event::new("billing.refund.pay", "receipt", Some(receipt_id.to_string()))
            .patient(r.patient_id)
            .detail(
                json!({ "number": number, "refund": id, "amount_minor": r.amount_minor, "method": r.method }),
            );
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        self.receipt_of(receipt_id).await
    }

    /// Refunds waiting for a supervisor or a cashier, with their patients (each an
    /// audited read).
    pub async fn open_refunds(
        &self,
        ctx: &Ctx,
    ) -> Result<Vec<(RefundRequest, Option<crate::laboratory::LabPatient>)>, AppError> {
        self.authorize(ctx, Permission::BillingRead).await?;
        let refunds: Vec<RefundRequest> = crate::records(q::open_refunds(self.db.reader()).await?);
        let ids: Vec<Uuid> = refunds.iter().map(|r| r.patient_id).collect();
        let people = self.listed_patients(ctx, &ids, "billing.refunds.read").await?;
        Ok(refunds
            .into_iter()
            .map(|r| {
                let p = people.get(&r.patient_id).cloned();
                (r, p)
            })
            .collect())
    }

    /// An amount as the hospital writes it ("1,250.00").
    pub fn money(&self, minor: i64) -> String {
        salus_core::Money::from_minor(minor).format(self.currency)
    }
}
