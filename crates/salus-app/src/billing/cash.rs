//! The cashier's shift (opened with a float, closed with the cash counted, the variance
//! recorded and the close written into the audit chain) and the reports: the day's cash
//! per cashier and method, revenue by department from the journal, what is owed.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use salus_core::billing::{Account, CashierShift, Invoice, PaymentMethod, ReceiptKind};
use salus_core::organisation::parse_optional_label;
use salus_db::ResultExt;
use salus_db::billing as q;
use salus_db::entity::cashier_shift;
use serde_json::json;
use uuid::Uuid;

use super::me;
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::{AppError, Ctx};

/// A shift with what it took and gave out in cash so far.
#[derive(Debug, Clone)]
pub struct ShiftSummary {
    pub shift: CashierShift,
    pub cash_in_minor: i64,
    pub cash_out_minor: i64,
    /// The float plus cash in minus cash out: what the drawer should hold.
    pub expected_minor: i64,
}

/// One line of the daily cash report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashLine {
    pub cashier_id: Uuid,
    pub cashier: String,
    pub method: PaymentMethod,
    pub kind: ReceiptKind,
    pub count: i64,
    pub amount_minor: i64,
}

/// The day's money: by cashier, method and kind, with totals per method (in minus out).
#[derive(Debug, Clone)]
pub struct CashReport {
    pub day: NaiveDate,
    pub lines: Vec<CashLine>,
    /// Per method: money in (payments and deposits) less money out (refunds); deposits
    /// applied to bills are not money moving and have no total.
    pub net_by_method: Vec<(PaymentMethod, i64)>,
    pub shifts: Vec<(CashierShift, String)>,
}

/// Revenue of a department in a period, from the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevenueRow {
    pub department: String,
    pub gross_minor: i64,
    pub discount_minor: i64,
    /// Gross less discounts.
    pub net_minor: i64,
}

impl crate::Billing<'_> {
    /// The UTC bounds of a local day at the hospital.
    pub fn day_bounds(&self, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        let midnight = salus_core::scheduling::WallTime::from_minutes(0);
        let start = |d: NaiveDate| match midnight {
            Some(t) => crate::scheduling::to_utc(self.time_zone, d, t),
            None => d.and_time(chrono::NaiveTime::MIN).and_utc(),
        };
        (start(day), start(day.succ_opt().unwrap_or(day)))
    }

    /// Opens the caller's cash shift with a float.
    pub async fn open_shift(&self, ctx: &Ctx, float_minor: i64) -> Result<ShiftSummary, AppError> {
        self.authorize(ctx, Permission::BillingCollect).await?;
        if !(0..=1_000_000_000).contains(&float_minor) {
            return Err(AppError::field("float", "the float is an amount, nothing or more"));
        }
        let row = cashier_shift::Model {
            id: Uuid::now_v7(),
            cashier_id: me(ctx)?,
            float_minor,
            opened_at: Utc::now(),
            closed_at: None,
            expected_minor: None,
            counted_minor: None,
            variance_minor: None,
            close_note: None,
        };
        let txn = self.db.begin_write().await?;
        q::insert_shift(&txn, row.clone()).await.on_unique(
            "cashier_shifts_open_key",
            "cashier_shifts.cashier_id",
            || AppError::Conflict("your shift is already open; close it before opening another".into()),
        )?;
        let event = Event::new("billing.shift.open", "cashier_shift", Some(row.id.to_string()))
            .detail(json!({ "float_minor": float_minor }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        self.summary(row).await
    }

    async fn summary(&self, shift: cashier_shift::Model) -> Result<ShiftSummary, AppError> {
        let (cash_in, cash_out) = q::shift_cash(self.db.reader(), shift.id).await?;
        let expected = shift.float_minor + cash_in - cash_out;
        Ok(ShiftSummary {
            shift: shift.into(),
            cash_in_minor: cash_in,
            cash_out_minor: cash_out,
            expected_minor: expected,
        })
    }

    /// The caller's open shift, if any, with its running cash.
    pub async fn my_shift(&self, ctx: &Ctx) -> Result<Option<ShiftSummary>, AppError> {
        self.authorize(ctx, Permission::BillingCollect).await?;
        match q::open_shift(self.db.reader(), me(ctx)?).await? {
            Some(s) => Ok(Some(self.summary(s).await?)),
            None => Ok(None),
        }
    }

    /// Closes the caller's shift with the cash counted: the variance is recorded, and the
    /// close's audit event (in the same transaction) seals the figures into the chain.
    pub async fn close_shift(
        &self,
        ctx: &Ctx,
        counted_minor: i64,
        note: &str,
    ) -> Result<ShiftSummary, AppError> {
        self.authorize(ctx, Permission::BillingCollect).await?;
        if !(0..=1_000_000_000_000).contains(&counted_minor) {
            return Err(AppError::field("counted", "the cash counted is an amount, nothing or more"));
        }
        let note = parse_optional_label(note, "note", 300)?;
        let shift = q::open_shift(self.db.reader(), me(ctx)?)
            .await?
            .ok_or_else(|| AppError::Conflict("you have no open shift".into()))?;
        let summary = self.summary(shift.clone()).await?;
        let variance = counted_minor - summary.expected_minor;
        if variance != 0 && note.is_none() {
            return Err(AppError::field(
                "note",
                format!("the count is {} from what the drawer should hold; say why", self.money(variance)),
            ));
        }
        let now = Utc::now();
        let txn = self.db.begin_write().await?;
        // The expected cash is counted again inside the transaction: a payment taken
        // between the look above and this close is in the figures the close seals.
        let (cash_in, cash_out) = q::shift_cash(&txn, shift.id).await?;
        let expected = shift.float_minor + cash_in - cash_out;
        if !q::close_shift(&txn, shift.id, (expected, counted_minor), note.as_deref(), now).await? {
            return Err(AppError::Conflict("the shift was closed meanwhile".into()));
        }
        let event = Event::new("billing.shift.close", "cashier_shift", Some(shift.id.to_string())).detail(json!({
            "float_minor": shift.float_minor, "cash_in_minor": cash_in, "cash_out_minor": cash_out,
            "expected_minor": expected, "counted_minor": counted_minor, "variance_minor": counted_minor - expected,
            "note": note,
        }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        let closed = q::find_shift(self.db.reader(), shift.id).await?.ok_or(AppError::NotFound("shift"))?;
        self.summary(closed).await
    }

    /// The day's cash report (no patient data: totals per cashier and method).
    pub async fn cash_report(&self, ctx: &Ctx, day: NaiveDate) -> Result<CashReport, AppError> {
        self.authorize(ctx, Permission::BillingRead).await?;
        let (from, to) = self.day_bounds(day);
        let conn = self.db.reader();
        let rows = q::cash_rows(conn, from, to).await?;
        let shifts = q::shifts_between(conn, from, to).await?;
        let mut people: Vec<Uuid> =
            rows.iter().map(|r| r.received_by).chain(shifts.iter().map(|s| s.cashier_id)).collect();
        people.sort();
        people.dedup();
        let names: std::collections::HashMap<Uuid, String> =
            salus_db::identity::display_names_of(conn, &people).await?.into_iter().collect();
        let name = |id: Uuid| names.get(&id).cloned().unwrap_or_else(|| "(unknown)".into());
        let mut lines: Vec<CashLine> = rows
            .into_iter()
            .map(|r| CashLine {
                cashier_id: r.received_by,
                cashier: name(r.received_by),
                method: r.method,
                kind: r.kind,
                count: r.count,
                amount_minor: r.amount_minor,
            })
            .collect();
        lines.sort_by(|a, b| {
            (&a.cashier, a.method.as_str(), a.kind.as_str()).cmp(&(
                &b.cashier,
                b.method.as_str(),
                b.kind.as_str(),
            ))
        });
        let mut net_by_method: Vec<(PaymentMethod, i64)> = Vec::new();
        // A deposit applied to a bill moves no money: it is listed, not totalled.
        for l in lines.iter().filter(|l| l.method != PaymentMethod::Deposit) {
            let signed = if l.kind == ReceiptKind::Refund { -l.amount_minor } else { l.amount_minor };
            match net_by_method.iter_mut().find(|(m, _)| *m == l.method) {
                Some((_, n)) => *n += signed,
                None => net_by_method.push((l.method, signed)),
            }
        }
        net_by_method.sort_by_key(|(m, _)| m.as_str());
        let shifts =
            shifts.into_iter().map(|s| (CashierShift::from(s.clone()), name(s.cashier_id))).collect();
        Ok(CashReport { day, lines, net_by_method, shifts })
    }

    /// Revenue by department in `[from, to)` days, from the journal (gross, discounts, net).
    pub async fn revenue(
        &self,
        ctx: &Ctx,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<RevenueRow>, AppError> {
        self.authorize(ctx, Permission::BillingRead).await?;
        if to < from || (to - from).num_days() > 400 {
            return Err(AppError::field("to", "a period of at most 400 days, ending after it starts"));
        }
        let (start, _) = self.day_bounds(from);
        let (_, end) = self.day_bounds(to);
        let moves = q::account_movements(self.db.reader(), start, end).await?;
        let mut rows: Vec<RevenueRow> = Vec::new();
        for (account, department, amount) in moves {
            let department = department.unwrap_or_else(|| "other".into());
            let (gross, discount) = match account {
                Account::Revenue => (-amount, 0),
                Account::Discounts => (0, amount),
                _ => continue,
            };
            match rows.iter_mut().find(|r| r.department == department) {
                Some(r) => {
                    r.gross_minor += gross;
                    r.discount_minor += discount;
                }
                None => rows.push(RevenueRow {
                    department,
                    gross_minor: gross,
                    discount_minor: discount,
                    net_minor: 0,
                }),
            }
        }
        for r in &mut rows {
            r.net_minor = r.gross_minor - r.discount_minor;
        }
        rows.sort_by(|a, b| b.net_minor.cmp(&a.net_minor).then(a.department.cmp(&b.department)));
        Ok(rows)
    }

    /// Posted invoices with money still owed, oldest first.
    /// Patients with charges waiting to be billed, oldest first: (patient, charges, their
    /// amount before tax, the oldest's time). Each patient listed is an audited read.
    pub async fn to_bill(
        &self,
        ctx: &Ctx,
        limit: u64,
    ) -> Result<Vec<(crate::laboratory::LabPatient, i64, i64, DateTime<Utc>)>, AppError> {
        self.authorize(ctx, Permission::BillingRead).await?;
        let conn = self.db.reader();
        if !(1..=2000).contains(&limit) {
            return Err(AppError::field("limit", "1 to 2000 patients"));
        }
        let rows = q::patients_to_bill(conn, limit).await?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
        let people = self.listed_patients(ctx, &ids, "billing.to_bill.read").await?;
        Ok(rows.into_iter().filter_map(|(p, n, a, o)| Some((people.get(&p)?.clone(), n, a, o))).collect())
    }

    /// Posted invoices with money still owed, oldest first, with their patients (a
    /// restricted record's bill is listed without the name). Each one is an audited read.
    pub async fn outstanding(
        &self,
        ctx: &Ctx,
    ) -> Result<Vec<(Invoice, Option<crate::laboratory::LabPatient>)>, AppError> {
        self.authorize(ctx, Permission::BillingRead).await?;
        let conn = self.db.reader();
        let invoices: Vec<Invoice> = crate::records(q::outstanding(conn, 500).await?);
        let ids: Vec<Uuid> = invoices.iter().map(|i| i.patient_id).collect();
        let people = self.listed_patients(ctx, &ids, "billing.outstanding.read").await?;
        Ok(invoices
            .into_iter()
            .map(|i| {
                let p = people.get(&i.patient_id).cloned();
                (i, p)
            })
            .collect())
    }

    /// The patients a list shows, by id: a restricted record by its number only (it is
    /// billed like any other); each one shown is an audited read (`action`).
    pub(crate) async fn listed_patients(
        &self,
        ctx: &Ctx,
        ids: &[Uuid],
        action: &'static str,
    ) -> Result<HashMap<Uuid, crate::laboratory::LabPatient>, AppError> {
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        let people: HashMap<Uuid, crate::laboratory::LabPatient> =
            salus_db::patients::find_patients(self.db.reader(), &ids)
                .await?
                .iter()
                .map(|p| {
                    let mut shown = crate::laboratory::LabPatient::from(p);
                    if p.restricted {
                        shown.name = "Restricted record".into();
                        shown.birth_date = None;
                    }
                    (p.id, shown)
                })
                .collect();
        let events = people
            .keys()
            .map(|id| audit::row(ctx, Event::new(action, "patient", Some(id.to_string())).patient(*id)))
            .collect();
        self.reads.record(events).await?;
        Ok(people)
    }
}
