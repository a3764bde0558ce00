//! Billing's language: invoices built from unbilled charges, receipts (payments, deposits,
//! refunds), the cashier's shift, and the double-entry journal behind every posting.
//! Money is integer minor units throughout; every rounding goes through [`round_div`] and
//! every split of an amount over lines through [`allocate`], so totals recomputed from
//! lines always equal the totals stored.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::FieldError;

coded!(
    /// What an invoice bills.
    pub enum InvoiceKind {
        /// An outpatient's bill at the desk.
        Outpatient,
        /// An inpatient's bill for the stay so far.
        Interim,
        /// An inpatient's last bill, at discharge.
        Final,
    }
);

coded!(
    /// Where an invoice stands. A posted invoice never changes; a mistake is put right
    /// by cancelling it with a credit note, which frees its charges to be billed again.
    pub enum InvoiceStatus {
        Posted,
        Cancelled,
    }
);

coded!(
    /// How money came in or went out.
    pub enum PaymentMethod {
        Cash,
        Card,
        Upi,
        BankTransfer,
        /// The insurer's settlement of its share.
        Insurance,
        /// Taken from the patient's deposit held by the hospital.
        Deposit,
        /// Paid online through the payment provider.
        Online,
    }
);

impl PaymentMethod {
    /// The journal account the money is in.
    pub fn account(self) -> Account {
        match self {
            Self::Cash => Account::Cash,
            Self::Card => Account::Card,
            Self::Upi => Account::Upi,
            Self::BankTransfer | Self::Online => Account::Bank,
            Self::Insurance => Account::InsurerReceivable,
            Self::Deposit => Account::DepositsHeld,
        }
    }

    /// Methods a cashier takes at the desk (insurance settles through claims, deposits
    /// are applied, online payments arrive by the provider's webhook).
    pub const AT_DESK: [PaymentMethod; 4] =
        [PaymentMethod::Cash, PaymentMethod::Card, PaymentMethod::Upi, PaymentMethod::BankTransfer];
}

coded!(
    /// What a receipt records.
    pub enum ReceiptKind {
        /// Money against an invoice.
        Payment,
        /// Money held for the patient (on admission), applied to a later bill.
        Deposit,
        /// Money given back: from the deposit held, or from a credit the patient has.
        Refund,
    }
);

coded!(
    /// Where a refund stands: asked for by a clerk, approved by a supervisor (never the
    /// one who asked), then paid out by a cashier.
    pub enum RefundStatus {
        Requested,
        Approved,
        Rejected,
        Paid,
    }
);

coded!(
    /// The accounts of the journal. Revenue is kept per department (the price list's
    /// category of the service) in [`JournalLine::department`].
    pub enum Account {
        /// What patients owe (a credit balance is money the hospital owes them).
        PatientReceivable,
        /// What insurers owe.
        InsurerReceivable,
        Revenue,
        /// Discounts given, against revenue.
        Discounts,
        TaxPayable,
        Cash,
        Card,
        Upi,
        Bank,
        /// Patients' deposits the hospital holds.
        DepositsHeld,
        /// What insurers deducted from what they had approved, written off.
        ClaimDeductions,
    }
);

/// One line of a journal entry: a debit is positive, a credit negative; an entry's lines
/// sum to zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalLine {
    pub account: Account,
    /// For revenue and discounts: the department (service category) it belongs to.
    pub department: Option<String>,
    pub amount_minor: i64,
}

impl JournalLine {
    pub fn debit(account: Account, amount: i64) -> JournalLine {
        JournalLine { account, department: None, amount_minor: amount }
    }

    pub fn credit(account: Account, amount: i64) -> JournalLine {
        JournalLine { account, department: None, amount_minor: -amount }
    }

    fn of(mut self, department: &str) -> JournalLine {
        self.department = Some(department.to_owned());
        self
    }
}

/// Whether an entry's debits equal its credits.
pub fn balanced(lines: &[JournalLine]) -> bool {
    lines.iter().map(|l| i128::from(l.amount_minor)).sum::<i128>() == 0
}

/// `n / d` rounded half away from zero: the one rounding rule of billing (tax on a line,
/// a percentage discount). `d` must be positive.
pub fn round_div(n: i128, d: i128) -> i64 {
    debug_assert!(d > 0);
    let q = n / d;
    let r = n % d;
    let q = if 2 * r.abs() >= d { q + n.signum() } else { q };
    i64::try_from(q).unwrap_or(if q > 0 { i64::MAX } else { i64::MIN })
}

/// Splits `total` over `weights` in proportion, to the minor unit, so the parts sum to
/// `total` exactly (largest remainder; ties to the earlier line). All weights zero: the
/// whole goes nowhere and every part is zero (nothing to spread it over).
pub fn allocate(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if sum <= 0 {
        return vec![0; weights.len()];
    }
    let total = i128::from(total);
    let mut parts: Vec<i128> = weights.iter().map(|w| total * i128::from(*w) / sum).collect();
    let mut left = total - parts.iter().sum::<i128>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(total * i128::from(weights[i]) % sum));
    for i in order {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts.into_iter().map(|p| p as i64).collect()
}

/// A charge as an invoice line is built from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineInput {
    pub quantity: i64,
    pub unit_price_minor: i64,
    pub tax_rate_bp: i64,
    /// The line's own discount, in minor units.
    pub discount_minor: i64,
}

/// A priced line: `gross − discount = taxable`, `taxable + tax = net`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct LineAmounts {
    pub gross_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub net_minor: i64,
}

/// An invoice's totals: the sums of its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Totals {
    pub gross_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
}

impl Totals {
    pub fn of(lines: &[LineAmounts]) -> Totals {
        lines.iter().fold(Totals::default(), |t, l| Totals {
            gross_minor: t.gross_minor + l.gross_minor,
            discount_minor: t.discount_minor + l.discount_minor,
            tax_minor: t.tax_minor + l.tax_minor,
            total_minor: t.total_minor + l.net_minor,
        })
    }
}

/// Prices the lines of an invoice: each line's own discount, then a bill discount spread
/// over the lines in proportion to what is left of each (so tax is on what is charged),
/// then tax per line. Refused: a discount larger than what it is taken from.
pub fn price_lines(lines: &[LineInput], bill_discount_minor: i64) -> Result<Vec<LineAmounts>, FieldError> {
    let mut after_own = Vec::with_capacity(lines.len());
    for l in lines {
        let gross = l.quantity.checked_mul(l.unit_price_minor).ok_or_else(too_large)?;
        if l.discount_minor < 0 || l.discount_minor > gross {
            return Err(FieldError::new(
                "line_discounts",
                "a line's discount is between nothing and the line's price",
            ));
        }
        after_own.push(gross - l.discount_minor);
    }
    let left: i64 = after_own.iter().sum();
    if bill_discount_minor < 0 || bill_discount_minor > left {
        return Err(FieldError::new(
            "discount",
            "the bill's discount is between nothing and what the bill comes to",
        ));
    }
    let shares = allocate(bill_discount_minor, &after_own);
    Ok(lines
        .iter()
        .zip(after_own.iter().zip(shares))
        .map(|(l, (&rest, share))| {
            let taxable = rest - share;
            let tax = round_div(i128::from(taxable) * i128::from(l.tax_rate_bp), 10_000);
            LineAmounts {
                gross_minor: rest + l.discount_minor,
                discount_minor: l.discount_minor + share,
                tax_minor: tax,
                net_minor: taxable + tax,
            }
        })
        .collect())
}

fn too_large() -> FieldError {
    FieldError::new("lines", "the amount is too large")
}

/// The discount of a bill as a share of its gross, in basis points (for the approval
/// limit).
pub fn discount_share_bp(totals: &Totals) -> i64 {
    if totals.gross_minor <= 0 {
        return 0;
    }
    round_div(i128::from(totals.discount_minor) * 10_000, i128::from(totals.gross_minor))
}

/// The journal entry of a posted invoice: the patient owes the total; revenue (gross) and
/// discounts per department; tax payable. `departments` names each line's department.
pub fn invoice_entry(lines: &[LineAmounts], departments: &[&str]) -> Vec<JournalLine> {
    let mut by_department: Vec<(&str, i64, i64)> = Vec::new();
    for (l, d) in lines.iter().zip(departments) {
        match by_department.iter_mut().find(|(x, ..)| x == d) {
            Some((_, g, disc)) => {
                *g += l.gross_minor;
                *disc += l.discount_minor;
            }
            None => by_department.push((d, l.gross_minor, l.discount_minor)),
        }
    }
    let totals = Totals::of(lines);
    let mut entry = vec![JournalLine::debit(Account::PatientReceivable, totals.total_minor)];
    for (d, gross, discount) in by_department {
        entry.push(JournalLine::credit(Account::Revenue, gross).of(d));
        if discount != 0 {
            entry.push(JournalLine::debit(Account::Discounts, discount).of(d));
        }
    }
    if totals.tax_minor != 0 {
        entry.push(JournalLine::credit(Account::TaxPayable, totals.tax_minor));
    }
    entry.retain(|l| l.amount_minor != 0);
    entry
}

/// The entry that undoes another (a credit note undoes its invoice).
pub fn reversal(entry: &[JournalLine]) -> Vec<JournalLine> {
    entry.iter().map(|l| JournalLine { amount_minor: -l.amount_minor, ..l.clone() }).collect()
}

/// The journal entry of money received or paid out.
pub fn receipt_entry(
    kind: ReceiptKind,
    method: PaymentMethod,
    amount: i64,
    from_deposit: bool,
) -> Vec<JournalLine> {
    let money = method.account();
    match kind {
        ReceiptKind::Payment => {
            vec![JournalLine::debit(money, amount), JournalLine::credit(Account::PatientReceivable, amount)]
        }
        ReceiptKind::Deposit => {
            vec![JournalLine::debit(money, amount), JournalLine::credit(Account::DepositsHeld, amount)]
        }
        ReceiptKind::Refund => {
            let from = if from_deposit { Account::DepositsHeld } else { Account::PatientReceivable };
            vec![JournalLine::debit(from, amount), JournalLine::credit(money, amount)]
        }
    }
}

/// The financial year a day falls in, named by its first and last calendar years
/// ("2026-27"), the year starting on the first of `start_month` (4: April, as in India;
/// 1: the calendar year, named "2026").
pub fn financial_year(day: NaiveDate, start_month: u32) -> String {
    if start_month <= 1 {
        return day.year().to_string();
    }
    let first = if day.month() >= start_month { day.year() } else { day.year() - 1 };
    format!("{first}-{:02}", (first + 1) % 100)
}

/// A document number: its series, year and a gapless sequence ("INV/2026-27/000042").
pub fn document_number(series: &str, year: &str, n: i64) -> String {
    format!("{series}/{year}/{n:06}")
}

/// An amount typed by a cashier: like a price, and more than nothing.
pub fn parse_amount(
    text: &str,
    currency: crate::organisation::Currency,
    field: &'static str,
) -> Result<crate::organisation::Money, FieldError> {
    let m = crate::organisation::Money::parse_price(text, currency, field)?;
    if m.minor() <= 0 {
        return Err(FieldError::new(field, "enter an amount more than nothing"));
    }
    Ok(m)
}

/// Something done for a patient that is to be billed (FHIR ChargeItem).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Charge {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub service_id: Uuid,
    pub service_code: String,
    pub description: String,
    pub quantity: i32,
    pub unit_price_minor: i64,
    pub tax_rate_bp: i32,
    pub source_type: String,
    pub source_id: Uuid,
    /// `unbilled` or `billed`.
    pub status: String,
    pub invoice_id: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// A posted invoice (FHIR Invoice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invoice {
    pub id: Uuid,
    pub number: String,
    pub fiscal_year: String,
    pub patient_id: Uuid,
    pub admission_id: Option<Uuid>,
    pub kind: InvoiceKind,
    pub status: InvoiceStatus,
    pub currency: String,
    pub gross_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub paid_minor: i64,
    pub refunded_minor: i64,
    pub discount_reason: Option<String>,
    pub approved_by: Option<Uuid>,
    pub posted_by: Uuid,
    pub posted_at: DateTime<Utc>,
    pub credit_note_number: Option<String>,
    pub cancel_reason: Option<String>,
    pub cancelled_by: Option<Uuid>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub print_count: i32,
}

impl Invoice {
    /// What is still owed on it (nothing on a cancelled one).
    pub fn balance_minor(&self) -> i64 {
        match self.status {
            InvoiceStatus::Posted => self.total_minor - self.paid_minor,
            InvoiceStatus::Cancelled => 0,
        }
    }
}

/// A line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceLine {
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub position: i32,
    pub charge_id: Uuid,
    pub service_code: String,
    pub description: String,
    pub department: String,
    pub quantity: i32,
    pub unit_price_minor: i64,
    pub tax_rate_bp: i32,
    pub gross_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub net_minor: i64,
}

/// Money received or paid out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub id: Uuid,
    pub number: String,
    pub patient_id: Uuid,
    pub invoice_id: Option<Uuid>,
    pub kind: ReceiptKind,
    pub method: PaymentMethod,
    pub amount_minor: i64,
    pub unapplied_minor: i64,
    pub deposit_id: Option<Uuid>,
    pub reference: Option<String>,
    pub provider_event_id: Option<String>,
    pub shift_id: Option<Uuid>,
    pub print_count: i32,
    pub received_by: Uuid,
    pub received_at: DateTime<Utc>,
}

/// A refund asked for, and what a supervisor decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefundRequest {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub deposit_id: Option<Uuid>,
    pub invoice_id: Option<Uuid>,
    pub amount_minor: i64,
    pub method: PaymentMethod,
    pub reason: String,
    pub status: RefundStatus,
    pub requested_by: Uuid,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    pub receipt_id: Option<Uuid>,
}

/// A cashier's shift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CashierShift {
    pub id: Uuid,
    pub cashier_id: Uuid,
    pub float_minor: i64,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub expected_minor: Option<i64>,
    pub counted_minor: Option<i64>,
    pub variance_minor: Option<i64>,
    pub close_note: Option<String>,
}

#[cfg(test)]
// Amounts in the tests are written rupees_paise (100_00 is ₹100.00).
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_div(5, 10), 1);
        assert_eq!(round_div(4, 10), 0);
        assert_eq!(round_div(-5, 10), -1);
        assert_eq!(round_div(15, 10), 2);
        assert_eq!(round_div(25, 10), 3);
        // 18 % of 333 paise is 59.94 → 60.
        assert_eq!(round_div(333 * 1800, 10_000), 60);
    }

    #[test]
    fn a_bill_discount_is_spread_before_tax() {
        let lines = [
            LineInput { quantity: 1, unit_price_minor: 100_00, tax_rate_bp: 0, discount_minor: 0 },
            LineInput { quantity: 2, unit_price_minor: 50_00, tax_rate_bp: 1800, discount_minor: 0 },
        ];
        let priced = price_lines(&lines, 10_00).unwrap();
        assert_eq!(priced[0].discount_minor, 5_00);
        assert_eq!(priced[1].discount_minor, 5_00);
        assert_eq!(priced[1].tax_minor, 17_10); // 18 % of 95.00
        let t = Totals::of(&priced);
        assert_eq!(t.total_minor, 200_00 - 10_00 + 17_10);
        assert!(price_lines(&lines, 200_01).is_err());
    }

    #[test]
    fn financial_years_start_in_april_by_default() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(financial_year(d(2026, 3, 31), 4), "2025-26");
        assert_eq!(financial_year(d(2026, 4, 1), 4), "2026-27");
        assert_eq!(financial_year(d(2099, 12, 1), 4), "2099-00");
        assert_eq!(financial_year(d(2026, 3, 31), 1), "2026");
        assert_eq!(document_number("INV", "2026-27", 42), "INV/2026-27/000042");
    }

    proptest! {
        #[test]
        fn allocation_sums_exactly(total in 0i64..10_000_000, weights in prop::collection::vec(0i64..1_000_000, 1..60)) {
            let parts = allocate(total, &weights);
            let sum: i64 = weights.iter().sum();
            if sum > 0 {
                prop_assert_eq!(parts.iter().sum::<i64>(), total);
                for (p, w) in parts.iter().zip(&weights) {
                    prop_assert!(*p >= 0);
                    if *w == 0 { prop_assert_eq!(*p, 0); }
                }
            }
        }

        #[test]
        fn an_invoice_entry_balances_and_matches_its_lines(
            lines in prop::collection::vec((1i64..20, 0i64..500_000, prop::sample::select(vec![0i64, 500, 1200, 1800, 2800]), 0u8..3), 1..50),
            discount_pct in 0i64..100,
        ) {
            let inputs: Vec<LineInput> = lines.iter().map(|(q, p, t, _)| LineInput { quantity: *q, unit_price_minor: *p, tax_rate_bp: *t, discount_minor: 0 }).collect();
            let gross: i64 = inputs.iter().map(|l| l.quantity * l.unit_price_minor).sum();
            let priced = price_lines(&inputs, gross * discount_pct / 100).unwrap();
            let departments: Vec<&str> = lines.iter().map(|(.., d)| ["laboratory", "pharmacy", "ward"][*d as usize]).collect();
            let entry = invoice_entry(&priced, &departments);
            prop_assert!(balanced(&entry));
            let t = Totals::of(&priced);
            prop_assert_eq!(t.gross_minor - t.discount_minor + t.tax_minor, t.total_minor);
            prop_assert!(balanced(&reversal(&entry)));
        }
    }
}
