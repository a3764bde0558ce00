//! The generated hospital's money: sixteen cashiers (`bench.billing01…16`), four
//! generated services, a year of posted bills — two lines each, numbered gaplessly per
//! financial year in the order they were posted, four in five paid at the desk by cash,
//! card or UPI, each with the journal entries the desk would have written — and patients
//! with fifty unbilled charges each for the bench's invoices to take. Rows in bulk, ten
//! thousand bills to a transaction (skipped once any bill exists).

use std::collections::HashMap;

use chrono::{Duration, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use salus_core::Role;
use salus_core::billing::{
    InvoiceKind, InvoiceStatus, LineInput, PaymentMethod, ReceiptKind, Totals, document_number,
    invoice_entry, price_lines, receipt_entry,
};
use salus_db::entity::{charge, invoice, invoice_line, journal_line, receipt, service};
use salus_db::insert_all;
use uuid::Uuid;

use super::{HospitalReport, account};
use crate::billing::{INVOICE_SERIES, RECEIPT_SERIES};
use crate::{App, AppError};

/// The generated cashiers: `bench.billing01` to `bench.billing16`.
pub const CASHIERS: u32 = 16;
/// Patients given unbilled charges for the bench, and charges each.
const WAITING: usize = 2_000;
const WAITING_CHARGES: usize = 50;
const CHUNK: usize = 10_000;

/// (code, name, category, price in minor units, tax in basis points).
const SERVICES: [(&str, &str, &str, i64, i32); 4] = [
    ("GEN-CONS", "Consultation (generated)", "consultation", 50_000, 0),
    ("GEN-LAB", "Laboratory panel (generated)", "laboratory", 35_000, 0),
    ("GEN-RAD", "X-ray (generated)", "imaging", 75_000, 1800),
    ("GEN-PROC", "Dressing (generated)", "procedure", 20_000, 1200),
];

impl App {
    /// Bills, receipts and journal for `invoices` bills over the last year, and unbilled
    /// charges waiting; `password_hash` is the generated accounts' shared hash.
    pub(super) async fn generate_billing(
        &self,
        patients: &[Uuid],
        invoices: u64,
        password_hash: &str,
        rng: &mut StdRng,
        report: &mut HospitalReport,
        progress: &impl Fn(&str),
    ) -> Result<(), AppError> {
        if patients.is_empty() || salus_db::billing::has_invoices(self.db.reader()).await? {
            return Ok(());
        }
        let now = Utc::now();
        // The cashiers and the services.
        let txn = self.db.begin_write().await?;
        let mut cashiers = Vec::new();
        for n in 1..=CASHIERS {
            let row =
                account(format!("bench.billing{n:02}"), format!("Bench Cashier {n:02}"), password_hash, now);
            cashiers.push(row.id);
            salus_db::identity::insert_user(&txn, row, &[Role::Billing.as_str().into()]).await?;
        }
        let services: Vec<service::Model> = SERVICES
            .iter()
            .map(|(code, name, category, price, tax)| service::Model {
                id: Uuid::now_v7(),
                code: (*code).into(),
                name: (*name).into(),
                category: (*category).into(),
                department_id: None,
                price_minor: *price,
                tax_rate_bp: *tax,
                active: true,
                version: 1,
                created_at: now,
                updated_at: now,
            })
            .collect();
        insert_all::<service::Entity, _>(&txn, services.clone()).await?;
        txn.commit().await?;
        report.add("users", u64::from(CASHIERS));

        // A year of bills, in the order they were posted.
        let mut times: Vec<chrono::DateTime<Utc>> =
            (0..invoices).map(|_| now - Duration::seconds(rng.random_range(60..365 * 24 * 3600))).collect();
        times.sort();
        let mut last: HashMap<(&'static str, String), i64> = HashMap::new();
        for (c, chunk) in times.chunks(CHUNK).enumerate() {
            let mut rows = Rows::default();
            for at in chunk {
                let patient = patients[rng.random_range(0..patients.len())];
                let cashier = cashiers[rng.random_range(0..cashiers.len())];
                let year = self.billing().year_of(*at);
                let invoice_id = Uuid::now_v7();
                let picked: Vec<&service::Model> =
                    (0..2).map(|_| &services[rng.random_range(0..services.len())]).collect();
                let inputs: Vec<LineInput> = picked
                    .iter()
                    .map(|s| LineInput {
                        quantity: 1,
                        unit_price_minor: s.price_minor,
                        tax_rate_bp: i64::from(s.tax_rate_bp),
                        discount_minor: 0,
                    })
                    .collect();
                let Ok(priced) = price_lines(&inputs, 0) else { continue };
                let totals = Totals::of(&priced);
                let n = last.entry((INVOICE_SERIES, year.clone())).or_insert(0);
                *n += 1;
                for (i, (s, a)) in picked.iter().zip(&priced).enumerate() {
                    let charge_id = Uuid::now_v7();
                    rows.charges.push(charge::Model {
                        id: charge_id,
                        patient_id: patient,
                        service_id: s.id,
                        service_code: s.code.clone(),
                        description: s.name.clone(),
                        quantity: 1,
                        unit_price_minor: s.price_minor,
                        tax_rate_bp: s.tax_rate_bp,
                        source_type: "generated".into(),
                        source_id: Uuid::now_v7(),
                        status: "billed".into(),
                        invoice_id: Some(invoice_id),
                        created_by: cashier,
                        created_at: *at,
                    });
                    rows.lines.push(invoice_line::Model {
                        id: Uuid::now_v7(),
                        invoice_id,
                        position: i as i32 + 1,
                        charge_id,
                        service_code: s.code.clone(),
                        description: s.name.clone(),
                        department: s.category.clone(),
                        quantity: 1,
                        unit_price_minor: s.price_minor,
                        tax_rate_bp: s.tax_rate_bp,
                        gross_minor: a.gross_minor,
                        discount_minor: a.discount_minor,
                        tax_minor: a.tax_minor,
                        net_minor: a.net_minor,
                    });
                }
                let departments: Vec<&str> = picked.iter().map(|s| s.category.as_str()).collect();
                rows.journal(invoice_entry(&priced, &departments), ("invoice", invoice_id), patient, *at);
                let paid = rng.random_range(0..5) > 0;
                rows.invoices.push(invoice::Model {
                    id: invoice_id,
                    number: document_number(INVOICE_SERIES, &year, *n),
                    fiscal_year: year.clone(),
                    patient_id: patient,
                    admission_id: None,
                    kind: InvoiceKind::Outpatient,
                    status: InvoiceStatus::Posted,
                    currency: self.currency.code().into(),
                    gross_minor: totals.gross_minor,
                    discount_minor: totals.discount_minor,
                    tax_minor: totals.tax_minor,
                    total_minor: totals.total_minor,
                    paid_minor: if paid { totals.total_minor } else { 0 },
                    refunded_minor: 0,
                    discount_reason: None,
                    approved_by: None,
                    posted_by: cashier,
                    posted_at: *at,
                    credit_note_number: None,
                    cancel_reason: None,
                    cancelled_by: None,
                    cancelled_at: None,
                    print_count: 1,
                });
                if paid {
                    let method = [PaymentMethod::Cash, PaymentMethod::Card, PaymentMethod::Upi]
                        [rng.random_range(0..3)];
                    let r = last.entry((RECEIPT_SERIES, year.clone())).or_insert(0);
                    *r += 1;
                    let receipt_id = Uuid::now_v7();
                    rows.receipts.push(receipt::Model {
                        id: receipt_id,
                        number: document_number(RECEIPT_SERIES, &year, *r),
                        patient_id: patient,
                        invoice_id: Some(invoice_id),
                        kind: ReceiptKind::Payment,
                        method,
                        amount_minor: totals.total_minor,
                        unapplied_minor: 0,
                        deposit_id: None,
                        reference: (method != PaymentMethod::Cash).then(|| format!("GEN-{}", *r)),
                        provider_event_id: None,
                        shift_id: None,
                        print_count: 1,
                        received_by: cashier,
                        received_at: *at,
                    });
                    let entry = receipt_entry(ReceiptKind::Payment, method, totals.total_minor, false);
                    rows.journal(entry, ("receipt", receipt_id), patient, *at);
                }
            }
            let txn = self.db.begin_write().await?;
            rows.write(&txn, report).await?;
            txn.commit().await?;
            if (c + 1) % 10 == 0 {
                progress(&format!("bills: {}", (c + 1) * CHUNK));
            }
        }
        // The numbers go on from where the history stopped.
        let txn = self.db.begin_write().await?;
        for ((series, year), n) in &last {
            salus_db::billing::raise_number(&txn, series, year, *n).await?;
        }
        txn.commit().await?;

        // Patients with charges waiting for the bench's invoices.
        let mut waiting = Vec::new();
        for p in patients.iter().rev().take(WAITING) {
            for _ in 0..WAITING_CHARGES {
                let s = &services[rng.random_range(0..services.len())];
                waiting.push(charge::Model {
                    id: Uuid::now_v7(),
                    patient_id: *p,
                    service_id: s.id,
                    service_code: s.code.clone(),
                    description: s.name.clone(),
                    quantity: 1,
                    unit_price_minor: s.price_minor,
                    tax_rate_bp: s.tax_rate_bp,
                    source_type: "generated".into(),
                    source_id: Uuid::now_v7(),
                    status: "unbilled".into(),
                    invoice_id: None,
                    created_by: cashiers[0],
                    created_at: now,
                });
            }
        }
        let txn = self.db.begin_write().await?;
        report.add("charges", insert_all::<charge::Entity, _>(&txn, waiting).await?);
        txn.commit().await?;
        Ok(())
    }
}

/// One transaction's rows.
#[derive(Default)]
struct Rows {
    charges: Vec<charge::Model>,
    invoices: Vec<invoice::Model>,
    lines: Vec<invoice_line::Model>,
    receipts: Vec<receipt::Model>,
    journal: Vec<journal_line::Model>,
}

impl Rows {
    fn journal(
        &mut self,
        entry: Vec<salus_core::billing::JournalLine>,
        (source_type, source_id): (&str, Uuid),
        patient: Uuid,
        at: chrono::DateTime<Utc>,
    ) {
        let entry_id = Uuid::now_v7();
        self.journal.extend(entry.into_iter().map(|l| journal_line::Model {
            id: Uuid::now_v7(),
            entry_id,
            source_type: source_type.into(),
            source_id,
            patient_id: Some(patient),
            account: l.account,
            department: l.department,
            amount_minor: l.amount_minor,
            posted_at: at,
        }));
    }

    async fn write(
        self,
        txn: &sea_orm::DatabaseTransaction,
        report: &mut HospitalReport,
    ) -> Result<(), AppError> {
        report.add("invoices", insert_all::<invoice::Entity, _>(txn, self.invoices).await?);
        report.add("charges", insert_all::<charge::Entity, _>(txn, self.charges).await?);
        report.add("invoice_lines", insert_all::<invoice_line::Entity, _>(txn, self.lines).await?);
        report.add("receipts", insert_all::<receipt::Entity, _>(txn, self.receipts).await?);
        report.add("journal_lines", insert_all::<journal_line::Entity, _>(txn, self.journal).await?);
        Ok(())
    }
}
