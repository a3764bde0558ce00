//! Billing: the charges the other contexts record become invoices, invoices are paid at
//! the desk (or from a deposit), deposits are held and refunds go through a supervisor,
//! and every posting writes its balanced entry to the journal in the same transaction.
//!
//! Where each guarantee lives: numbers are gapless because they are taken inside the
//! posting's transaction (`salus_db::billing::next_number`); a charge is billed once and a
//! payment never exceeds the balance because the database's conditional updates say so;
//! a double submit posts once because every posting carries an idempotency key
//! (`crate::operations`). Invoices and payments in `invoices.rs` and `payments.rs`, the
//! cashier's shift and the reports in `cash.rs`.

pub mod cash;
pub mod claims;
pub mod insurance;
pub mod invoices;
pub mod leaks;
pub mod online;
pub mod payments;

use chrono::{DateTime, Utc};
use salus_core::PatientId;
use salus_core::billing::{
    Account, Charge, Invoice, JournalLine, PaymentMethod, Receipt, ReceiptKind, RefundRequest, financial_year,
};
use salus_db::billing as q;
use salus_db::entity::{journal_line, patient, receipt};
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::patients::PatientAction;
use crate::{AppError, Ctx};

pub use cash::{CashReport, RevenueRow, ShiftSummary};
pub use invoices::{InvoiceDetail, InvoiceInput};
pub use online::WebhookOutcome;
pub use payments::{DepositInput, PaymentInput, RefundInput};

/// Invoices, credit notes, receipts (money in) and refund vouchers (money out): each its
/// own gapless series per financial year.
pub const INVOICE_SERIES: &str = "INV";
pub const CREDIT_NOTE_SERIES: &str = "CN";
pub const RECEIPT_SERIES: &str = "RCP";
pub const REFUND_SERIES: &str = "RFD";

/// The hospital's billing rules.
#[derive(Debug, Clone)]
pub struct BillingSettings {
    /// The month the financial year starts in (4: April, as in India; 1: January).
    pub year_start_month: u32,
    /// A bill's discount above this share of its gross (basis points) needs a
    /// supervisor's approval.
    pub discount_limit_bp: i64,
    /// The secret the payment provider signs its webhook calls with (none: the webhook
    /// is off).
    pub webhook_secret: Option<secrecy::SecretString>,
}

impl Default for BillingSettings {
    fn default() -> Self {
        Self { year_start_month: 4, discount_limit_bp: 1000, webhook_secret: None }
    }
}

/// The caller's user id (money is always moved by someone).
fn me(ctx: &Ctx) -> Result<Uuid, AppError> {
    ctx.actor.user().map(|u| u.id.as_uuid()).ok_or(AppError::Forbidden)
}

/// A receipt of `amount` by `method` for `patient`, its other parts empty: money of a
/// `kind`, numbered `number`, taken by `by` at `at`.
#[allow(clippy::too_many_arguments)]
fn money_row(
    id: Uuid,
    number: String,
    patient: Uuid,
    kind: ReceiptKind,
    method: PaymentMethod,
    amount: i64,
    by: Uuid,
    at: DateTime<Utc>,
) -> receipt::Model {
    receipt::Model {
        id,
        number,
        patient_id: patient,
        invoice_id: None,
        kind,
        method,
        amount_minor: amount,
        unapplied_minor: 0,
        deposit_id: None,
        reference: None,
        provider_event_id: None,
        shift_id: None,
        print_count: 0,
        received_by: by,
        received_at: at,
    }
}

/// A patient's account as the billing clerk sees it.
#[derive(Debug, Clone)]
pub struct PatientAccount {
    pub patient: crate::laboratory::LabPatient,
    pub unbilled: Vec<Charge>,
    pub invoices: Vec<Invoice>,
    pub receipts: Vec<Receipt>,
    pub refunds: Vec<RefundRequest>,
    /// What the patient owes on posted invoices (negative: a credit the patient has).
    pub owed_minor: i64,
    /// Deposits held for the patient, not yet applied or refunded.
    pub deposit_minor: i64,
    /// What the unbilled charges come to before discounts (with their tax).
    pub unbilled_minor: i64,
    /// The patient's stay in the house, if any (an interim or final bill is for it):
    /// (admission id, its number).
    pub stay: Option<(Uuid, String)>,
}

impl crate::Billing<'_> {
    /// The financial year of an instant, by the hospital's calendar.
    pub fn year_of(&self, at: DateTime<Utc>) -> String {
        financial_year(at.with_timezone(&self.time_zone).date_naive(), self.billing.year_start_month)
    }

    /// The next number of `series` for a document dated `at`, inside `txn`.
    async fn number(
        &self,
        txn: &DatabaseTransaction,
        series: &str,
        at: DateTime<Utc>,
    ) -> Result<String, AppError> {
        let year = self.year_of(at);
        let n = q::next_number(txn, series, &year).await?;
        Ok(salus_core::billing::document_number(series, &year, n))
    }

    /// Writes one balanced journal entry for `source`.
    async fn post_entry(
        &self,
        txn: &DatabaseTransaction,
        entry: Vec<JournalLine>,
        (source_type, source_id): (&str, Uuid),
        patient: Option<Uuid>,
        at: DateTime<Utc>,
    ) -> Result<(), AppError> {
        if !salus_core::billing::balanced(&entry) {
            // A bug, never input: refuse rather than write an entry that does not tally.
            return Err(AppError::Internal(format!(
                "unbalanced journal entry for {source_type} {source_id}"
            )));
        }
        let entry_id = Uuid::now_v7();
        let rows = entry
            .into_iter()
            .map(|l| journal_line::Model {
                id: Uuid::now_v7(),
                entry_id,
                source_type: source_type.into(),
                source_id,
                patient_id: patient,
                account: l.account,
                department: l.department,
                amount_minor: l.amount_minor,
                posted_at: at,
            })
            .collect();
        Ok(q::insert_journal(txn, rows).await?)
    }

    /// Writes a receipt and its journal entry inside `txn` (a refund from a deposit takes
    /// the money from the deposits held).
    async fn record_money(&self, txn: &DatabaseTransaction, row: receipt::Model) -> Result<(), AppError> {
        let from_deposit = row.kind == ReceiptKind::Refund && row.deposit_id.is_some();
        let entry = salus_core::billing::receipt_entry(row.kind, row.method, row.amount_minor, from_deposit);
        let (id, patient, at) = (row.id, row.patient_id, row.received_at);
        q::insert_receipt(txn, row).await?;
        self.post_entry(txn, entry, ("receipt", id), Some(patient), at).await
    }

    /// The patient behind a billing action, if the caller may act on them.
    async fn billed_patient(
        &self,
        ctx: &Ctx,
        patient: Uuid,
        permission: Permission,
    ) -> Result<patient::Model, AppError> {
        self.authorize(ctx, permission).await?;
        self.patients().load_for(ctx, PatientId::from_uuid(patient), PatientAction::Bill).await
    }

    /// A patient's account: unbilled charges, invoices, money in and out, balances.
    pub async fn account(&self, ctx: &Ctx, patient: Uuid) -> Result<PatientAccount, AppError> {
        let p = self.billed_patient(ctx, patient, Permission::BillingRead).await?;
        let conn = self.db.reader();
        let unbilled: Vec<Charge> = crate::records(q::unbilled_charges(conn, p.id).await?);
        let invoices: Vec<Invoice> = crate::records(q::invoices_of(conn, p.id).await?);
        let receipts: Vec<Receipt> = crate::records(q::receipts_of(conn, p.id).await?);
        let refunds: Vec<RefundRequest> = crate::records(q::refunds_of(conn, p.id).await?);
        let balances = q::patient_balances(conn, p.id).await?;
        let stay = salus_db::inpatient::stay_of(conn, p.id).await?.map(|a| (a.id, a.number));
        let of = |a: Account| balances.iter().find(|(x, _)| *x == a).map_or(0, |(_, s)| *s);
        let unbilled_minor = unbilled
            .iter()
            .map(|c| {
                let gross = i64::from(c.quantity) * c.unit_price_minor;
                gross + salus_core::billing::round_div(i128::from(gross) * i128::from(c.tax_rate_bp), 10_000)
            })
            .sum();
        let event = Event::new("billing.account.read", "patient", Some(p.id.to_string())).patient(p.id);
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        Ok(PatientAccount {
            patient: (&p).into(),
            unbilled,
            invoices,
            receipts,
            refunds,
            owed_minor: of(Account::PatientReceivable),
            deposit_minor: -of(Account::DepositsHeld),
            unbilled_minor,
            stay,
        })
    }
}
