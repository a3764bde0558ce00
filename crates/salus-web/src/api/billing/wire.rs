//! Billing's wire types, shaped after FHIR: a charge is a ChargeItem, an invoice an
//! Invoice (with its lines and totals), a receipt a PaymentReconciliation's detail.
//! Amounts are integers in minor units of `currency`.

use chrono::{DateTime, NaiveDate, Utc};
use salus_app::billing::{CashReport, InvoiceDetail, PatientAccount, RevenueRow, ShiftSummary};
use salus_core::billing::{
    Charge, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, PaymentMethod, Receipt, ReceiptKind,
    RefundRequest, RefundStatus,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::laboratory::LabPatientOut;
use crate::api::openapi::coded;

/// Something done for a patient that is to be billed (FHIR ChargeItem).
#[derive(Debug, Serialize, ToSchema)]
pub struct ChargeOut {
    pub id: Uuid,
    pub service_code: String,
    pub description: String,
    pub quantity: i32,
    pub unit_price_minor: i64,
    pub tax_rate_bp: i32,
    /// What caused it: a lab order line, an imaging study, a bed day, a dispense line…
    pub source_type: String,
    pub source_id: Uuid,
    /// `unbilled` or `billed`.
    pub status: String,
    pub invoice_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<Charge> for ChargeOut {
    fn from(c: Charge) -> Self {
        Self {
            id: c.id,
            service_code: c.service_code,
            description: c.description,
            quantity: c.quantity,
            unit_price_minor: c.unit_price_minor,
            tax_rate_bp: c.tax_rate_bp,
            source_type: c.source_type,
            source_id: c.source_id,
            status: c.status,
            invoice_id: c.invoice_id,
            created_at: c.created_at,
        }
    }
}

/// A line of an invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceLineOut {
    pub position: i32,
    pub charge_id: Uuid,
    pub service_code: String,
    pub description: String,
    /// The department its revenue is booked to.
    pub department: String,
    pub quantity: i32,
    pub unit_price_minor: i64,
    pub tax_rate_bp: i32,
    pub gross_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub net_minor: i64,
}

impl From<InvoiceLine> for InvoiceLineOut {
    fn from(l: InvoiceLine) -> Self {
        Self {
            position: l.position,
            charge_id: l.charge_id,
            service_code: l.service_code,
            description: l.description,
            department: l.department,
            quantity: l.quantity,
            unit_price_minor: l.unit_price_minor,
            tax_rate_bp: l.tax_rate_bp,
            gross_minor: l.gross_minor,
            discount_minor: l.discount_minor,
            tax_minor: l.tax_minor,
            net_minor: l.net_minor,
        }
    }
}

/// An invoice's heading and totals (FHIR Invoice).
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceSummaryOut {
    pub id: Uuid,
    /// Gapless per financial year: INV/2026-27/000042.
    pub number: String,
    pub patient_id: Uuid,
    pub admission_id: Option<Uuid>,
    #[schema(schema_with = coded::<InvoiceKind>)]
    pub kind: InvoiceKind,
    #[schema(schema_with = coded::<InvoiceStatus>)]
    pub status: InvoiceStatus,
    pub currency: String,
    pub gross_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub paid_minor: i64,
    /// What is still owed (nothing once cancelled).
    pub balance_minor: i64,
    pub refunded_minor: i64,
    pub discount_reason: Option<String>,
    pub approved_by: Option<Uuid>,
    pub posted_by: Uuid,
    pub posted_at: DateTime<Utc>,
    pub credit_note_number: Option<String>,
    pub cancel_reason: Option<String>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl From<Invoice> for InvoiceSummaryOut {
    fn from(i: Invoice) -> Self {
        Self {
            balance_minor: i.balance_minor(),
            id: i.id,
            number: i.number,
            patient_id: i.patient_id,
            admission_id: i.admission_id,
            kind: i.kind,
            status: i.status,
            currency: i.currency,
            gross_minor: i.gross_minor,
            discount_minor: i.discount_minor,
            tax_minor: i.tax_minor,
            total_minor: i.total_minor,
            paid_minor: i.paid_minor,
            refunded_minor: i.refunded_minor,
            discount_reason: i.discount_reason,
            approved_by: i.approved_by,
            posted_by: i.posted_by,
            posted_at: i.posted_at,
            credit_note_number: i.credit_note_number,
            cancel_reason: i.cancel_reason,
            cancelled_at: i.cancelled_at,
        }
    }
}

/// A bill still owed, with its patient (none shown for a restricted record).
#[derive(Debug, Serialize, ToSchema)]
pub struct OwedOut {
    #[serde(flatten)]
    pub invoice: InvoiceSummaryOut,
    pub patient: Option<LabPatientOut>,
}

/// An invoice with its lines.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceOut {
    #[serde(flatten)]
    pub invoice: InvoiceSummaryOut,
    pub patient: LabPatientOut,
    pub lines: Vec<InvoiceLineOut>,
}

impl From<InvoiceDetail> for InvoiceOut {
    fn from(d: InvoiceDetail) -> Self {
        Self {
            invoice: d.invoice.into(),
            patient: d.patient.into(),
            lines: d.lines.into_iter().map(Into::into).collect(),
        }
    }
}

/// Money received or paid out.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MoneyReceiptOut)]
pub struct ReceiptOut {
    pub id: Uuid,
    /// RCP/… for money in, RFD/… for a refund.
    pub number: String,
    pub patient_id: Uuid,
    pub invoice_id: Option<Uuid>,
    #[schema(schema_with = coded::<ReceiptKind>)]
    pub kind: ReceiptKind,
    #[schema(schema_with = coded::<PaymentMethod>)]
    pub method: PaymentMethod,
    pub amount_minor: i64,
    /// For a deposit: what is left to apply or refund.
    pub unapplied_minor: i64,
    pub deposit_id: Option<Uuid>,
    pub reference: Option<String>,
    pub shift_id: Option<Uuid>,
    pub received_by: Uuid,
    pub received_at: DateTime<Utc>,
}

impl From<Receipt> for ReceiptOut {
    fn from(r: Receipt) -> Self {
        Self {
            id: r.id,
            number: r.number,
            patient_id: r.patient_id,
            invoice_id: r.invoice_id,
            kind: r.kind,
            method: r.method,
            amount_minor: r.amount_minor,
            unapplied_minor: r.unapplied_minor,
            deposit_id: r.deposit_id,
            reference: r.reference,
            shift_id: r.shift_id,
            received_by: r.received_by,
            received_at: r.received_at,
        }
    }
}

/// A refund asked for, approved or refused, paid.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefundOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub deposit_id: Option<Uuid>,
    pub invoice_id: Option<Uuid>,
    pub amount_minor: i64,
    #[schema(schema_with = coded::<PaymentMethod>)]
    pub method: PaymentMethod,
    pub reason: String,
    #[schema(schema_with = coded::<RefundStatus>)]
    pub status: RefundStatus,
    pub requested_by: Uuid,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    pub receipt_id: Option<Uuid>,
}

impl From<RefundRequest> for RefundOut {
    fn from(r: RefundRequest) -> Self {
        Self {
            id: r.id,
            patient_id: r.patient_id,
            deposit_id: r.deposit_id,
            invoice_id: r.invoice_id,
            amount_minor: r.amount_minor,
            method: r.method,
            reason: r.reason,
            status: r.status,
            requested_by: r.requested_by,
            requested_at: r.requested_at,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            decision_note: r.decision_note,
            receipt_id: r.receipt_id,
        }
    }
}

/// A patient's account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountOut {
    pub patient: LabPatientOut,
    pub currency: String,
    /// Oldest first.
    pub unbilled: Vec<ChargeOut>,
    /// What the unbilled charges come to with their tax, before any discount.
    pub unbilled_minor: i64,
    /// Newest first.
    pub invoices: Vec<InvoiceSummaryOut>,
    /// Newest first.
    pub receipts: Vec<ReceiptOut>,
    pub refunds: Vec<RefundOut>,
    /// Owed on posted invoices (negative: a credit the patient has).
    pub owed_minor: i64,
    /// Deposits held, not yet applied or refunded.
    pub deposit_minor: i64,
    /// The patient's stay in the house, if any: an interim or final bill names it.
    pub admission_id: Option<Uuid>,
}

impl AccountOut {
    pub fn new(a: PatientAccount, currency: &str) -> Self {
        Self {
            patient: a.patient.into(),
            currency: currency.to_owned(),
            unbilled: a.unbilled.into_iter().map(Into::into).collect(),
            unbilled_minor: a.unbilled_minor,
            invoices: a.invoices.into_iter().map(Into::into).collect(),
            receipts: a.receipts.into_iter().map(Into::into).collect(),
            refunds: a.refunds.into_iter().map(Into::into).collect(),
            owed_minor: a.owed_minor,
            deposit_minor: a.deposit_minor,
            admission_id: a.stay.map(|(id, _)| id),
        }
    }
}

/// A discount on one line.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineDiscountIn {
    pub charge_id: Uuid,
    #[schema(minimum = 0)]
    pub discount_minor: i64,
}

/// An invoice to post.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceIn {
    /// Default: interim when a stay is named, else outpatient.
    #[schema(schema_with = coded::<InvoiceKind>)]
    pub kind: Option<InvoiceKind>,
    /// The stay an interim or final bill is for.
    pub admission_id: Option<Uuid>,
    /// The unbilled charges to bill (a final bill may name none: it takes them all).
    #[serde(default)]
    #[schema(max_items = 2000)]
    pub charge_ids: Vec<Uuid>,
    #[serde(default)]
    pub line_discounts: Vec<LineDiscountIn>,
    /// A discount on the whole bill, spread over the lines before tax.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub discount_minor: i64,
    /// Needed with any discount.
    #[serde(default)]
    #[schema(max_length = 300)]
    pub discount_reason: String,
}

/// A payment against an invoice.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentIn {
    /// cash, card, upi, bank_transfer, or deposit (with `deposit_id`).
    #[schema(schema_with = coded::<PaymentMethod>)]
    pub method: PaymentMethod,
    #[schema(minimum = 1)]
    pub amount_minor: i64,
    /// The card slip, UPI or bank reference (needed for all but cash).
    #[serde(default)]
    #[schema(max_length = 100)]
    pub reference: String,
    pub deposit_id: Option<Uuid>,
}

/// A deposit to hold.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepositIn {
    #[schema(schema_with = coded::<PaymentMethod>)]
    pub method: PaymentMethod,
    #[schema(minimum = 1)]
    pub amount_minor: i64,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub reference: String,
}

/// A refund to ask for: from one deposit or one cancelled invoice.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundIn {
    pub deposit_id: Option<Uuid>,
    pub invoice_id: Option<Uuid>,
    #[schema(minimum = 1)]
    pub amount_minor: i64,
    #[schema(schema_with = coded::<PaymentMethod>)]
    pub method: PaymentMethod,
    #[schema(min_length = 1, max_length = 300)]
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CancelReasonIn)]
pub struct ReasonIn {
    #[schema(min_length = 1, max_length = 300)]
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(as = DecisionIn)]
pub struct NoteIn {
    /// Needed to refuse.
    #[serde(default)]
    #[schema(max_length = 300)]
    pub note: String,
}

/// A cashier's shift and its cash so far.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShiftOut {
    pub id: Uuid,
    pub cashier_id: Uuid,
    pub float_minor: i64,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub cash_in_minor: i64,
    pub cash_out_minor: i64,
    /// What the drawer should hold: float + cash in − cash out.
    pub expected_minor: i64,
    pub counted_minor: Option<i64>,
    pub variance_minor: Option<i64>,
    pub close_note: Option<String>,
}

impl From<ShiftSummary> for ShiftOut {
    fn from(s: ShiftSummary) -> Self {
        Self {
            id: s.shift.id,
            cashier_id: s.shift.cashier_id,
            float_minor: s.shift.float_minor,
            opened_at: s.shift.opened_at,
            closed_at: s.shift.closed_at,
            cash_in_minor: s.cash_in_minor,
            cash_out_minor: s.cash_out_minor,
            expected_minor: s.expected_minor,
            counted_minor: s.shift.counted_minor,
            variance_minor: s.shift.variance_minor,
            close_note: s.shift.close_note,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenShiftIn {
    #[schema(minimum = 0)]
    pub float_minor: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseShiftIn {
    #[schema(minimum = 0)]
    pub counted_minor: i64,
    /// Needed when the count differs from what the drawer should hold.
    #[serde(default)]
    #[schema(max_length = 300)]
    pub note: String,
}

/// One line of the daily cash report.
#[derive(Debug, Serialize, ToSchema)]
pub struct CashLineOut {
    pub cashier_id: Uuid,
    pub cashier: String,
    #[schema(schema_with = coded::<PaymentMethod>)]
    pub method: PaymentMethod,
    #[schema(schema_with = coded::<ReceiptKind>)]
    pub kind: ReceiptKind,
    pub count: i64,
    pub amount_minor: i64,
}

/// A method's money in less money out.
#[derive(Debug, Serialize, ToSchema)]
pub struct MethodTotalOut {
    #[schema(schema_with = coded::<PaymentMethod>)]
    pub method: PaymentMethod,
    pub net_minor: i64,
}

/// The day's cash report.
#[derive(Debug, Serialize, ToSchema)]
pub struct CashReportOut {
    pub day: NaiveDate,
    pub currency: String,
    pub lines: Vec<CashLineOut>,
    pub totals: Vec<MethodTotalOut>,
}

impl CashReportOut {
    pub fn new(r: CashReport, currency: &str) -> Self {
        Self {
            day: r.day,
            currency: currency.to_owned(),
            lines: r
                .lines
                .into_iter()
                .map(|l| CashLineOut {
                    cashier_id: l.cashier_id,
                    cashier: l.cashier,
                    method: l.method,
                    kind: l.kind,
                    count: l.count,
                    amount_minor: l.amount_minor,
                })
                .collect(),
            totals: r
                .net_by_method
                .into_iter()
                .map(|(method, net_minor)| MethodTotalOut { method, net_minor })
                .collect(),
        }
    }
}

/// A department's revenue in a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevenueOut {
    pub department: String,
    pub gross_minor: i64,
    pub discount_minor: i64,
    pub net_minor: i64,
}

impl From<RevenueRow> for RevenueOut {
    fn from(r: RevenueRow) -> Self {
        Self {
            department: r.department,
            gross_minor: r.gross_minor,
            discount_minor: r.discount_minor,
            net_minor: r.net_minor,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DayQuery {
    /// Default: today at the hospital.
    pub day: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    pub from: NaiveDate,
    /// The last day counted; at most 400 days after `from`.
    pub to: NaiveDate,
}

/// A payment provider's event.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // The schema of the signed body the use case reads itself.
pub struct WebhookIn {
    /// The provider's event id: an event settles once.
    pub id: String,
    /// `payment.captured` settles; other kinds are acknowledged.
    #[serde(rename = "type")]
    pub kind: String,
    pub data: Option<WebhookPaymentIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct WebhookPaymentIn {
    pub payment_id: String,
    pub invoice_id: Uuid,
    pub amount_minor: i64,
    pub currency: String,
}

/// What the event came to.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookOut {
    /// `settled`, `replayed` or `ignored`.
    pub status: String,
    pub receipt: Option<ReceiptOut>,
    pub note: Option<String>,
}

impl From<salus_app::billing::WebhookOutcome> for WebhookOut {
    fn from(o: salus_app::billing::WebhookOutcome) -> Self {
        use salus_app::billing::WebhookOutcome as W;
        match o {
            W::Settled(r) => Self { status: "settled".into(), receipt: Some(r.into()), note: None },
            W::Replayed(r) => Self { status: "replayed".into(), receipt: Some(r.into()), note: None },
            W::Ignored(why) => Self { status: "ignored".into(), receipt: None, note: Some(why) },
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WaitingQuery {
    /// At most this many patients (default 50).
    #[param(minimum = 1, maximum = 2000)]
    pub limit: Option<u64>,
}

/// A patient with charges waiting to be billed.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitingOut {
    pub patient: LabPatientOut,
    pub charges: i64,
    /// Before tax and discounts.
    pub amount_minor: i64,
    /// The oldest charge's time.
    pub since: DateTime<Utc>,
}
