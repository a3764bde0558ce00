//! Billing's queries. Each money-moving write is one conditional statement the database
//! checks (a payment within the balance, a deposit not spent twice, charges billed once),
//! so the use case learns from the rows it touched whether the write was allowed.

use chrono::{DateTime, Utc};
use salus_core::billing::{Account, InvoiceStatus, PaymentMethod, ReceiptKind, RefundStatus};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::entity::{
    cashier_shift, charge, invoice, invoice_line, journal_line, number_series, receipt, refund_request,
};
use crate::merge::PatientLink;

/// A merged patient's bills, money and journal lines are the survivor's: one person owes
/// and is owed.
pub const PATIENT_LINKS: &[PatientLink] = &[
    PatientLink::follows("invoices"),
    PatientLink::follows("receipts"),
    PatientLink::follows("refund_requests"),
    PatientLink::follows("journal_lines"),
];

/// Takes the next number of `series` in `year`, inside the caller's transaction: the
/// first creates the row, later ones bump it (PostgreSQL's row lock makes concurrent
/// postings take turns; a rollback gives the number back, so the series has no gaps).
pub async fn next_number<C: ConnectionTrait>(conn: &C, series: &str, year: &str) -> Result<i64, DbErr> {
    let row = number_series::Entity::insert(number_series::ActiveModel {
        series: Set(series.to_owned()),
        fiscal_year: Set(year.to_owned()),
        last_number: Set(1),
    })
    .on_conflict(
        OnConflict::columns([number_series::Column::Series, number_series::Column::FiscalYear])
            .value(
                number_series::Column::LastNumber,
                Expr::col((number_series::Entity, number_series::Column::LastNumber)).add(1),
            )
            .to_owned(),
    )
    .exec_with_returning(conn)
    .await?;
    Ok(row.last_number)
}

/// Sets a series' last number (the bulk generator, after writing numbered history).
pub async fn raise_number<C: ConnectionTrait>(
    conn: &C,
    series: &str,
    year: &str,
    last: i64,
) -> Result<(), DbErr> {
    number_series::Entity::insert(number_series::ActiveModel {
        series: Set(series.to_owned()),
        fiscal_year: Set(year.to_owned()),
        last_number: Set(last),
    })
    .on_conflict(
        OnConflict::columns([number_series::Column::Series, number_series::Column::FiscalYear])
            .update_column(number_series::Column::LastNumber)
            .to_owned(),
    )
    .exec(conn)
    .await
    .map(|_| ())
}

// ---- Charges ------------------------------------------------------------------------

/// A patient's unbilled charges, oldest first.
pub async fn unbilled_charges<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
) -> Result<Vec<charge::Model>, DbErr> {
    charge::Entity::find()
        .filter(charge::Column::PatientId.eq(patient))
        .filter(charge::Column::Status.eq("unbilled"))
        .order_by_asc(charge::Column::CreatedAt)
        .order_by_asc(charge::Column::Id)
        .limit(2000)
        .all(conn)
        .await
}

/// Patients with unbilled charges: (patient, how many, what they come to before tax, the
/// oldest), oldest first — the billing desk's work.
pub async fn patients_to_bill<C: ConnectionTrait>(
    conn: &C,
    limit: u64,
) -> Result<Vec<(Uuid, i64, i64, DateTime<Utc>)>, DbErr> {
    let rows: Vec<(Uuid, i64, Option<i64>, DateTime<Utc>)> = charge::Entity::find()
        .select_only()
        .column(charge::Column::PatientId)
        .column_as(charge::Column::Id.count(), "n")
        .column_as(
            Expr::col(charge::Column::Quantity)
                .mul(Expr::col(charge::Column::UnitPriceMinor))
                .sum()
                .cast_as("BIGINT"),
            "amount",
        )
        .column_as(charge::Column::CreatedAt.min(), "oldest")
        .filter(charge::Column::Status.eq("unbilled"))
        .group_by(charge::Column::PatientId)
        .order_by_asc(charge::Column::CreatedAt.min())
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(|(p, n, a, o)| (p, n, a.unwrap_or(0), o)).collect())
}

pub async fn charges_by_ids<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> Result<Vec<charge::Model>, DbErr> {
    charge::Entity::find().filter(charge::Column::Id.is_in(ids.iter().copied())).all(conn).await
}

/// Marks `ids` billed on `invoice` if each is still the patient's and unbilled; returns
/// how many were. Fewer than asked means another bill took one first.
pub async fn bill_charges<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    ids: &[Uuid],
    invoice: Uuid,
) -> Result<u64, DbErr> {
    let mut billed = 0;
    for chunk in ids.chunks(500) {
        billed += charge::Entity::update_many()
            .col_expr(charge::Column::Status, Expr::value("billed"))
            .col_expr(charge::Column::InvoiceId, Expr::value(invoice))
            .filter(charge::Column::Id.is_in(chunk.iter().copied()))
            .filter(charge::Column::PatientId.eq(patient))
            .filter(charge::Column::Status.eq("unbilled"))
            .exec(conn)
            .await?
            .rows_affected;
    }
    Ok(billed)
}

/// A cancelled invoice's charges are unbilled again, to be billed rightly.
pub async fn unbill_charges<C: ConnectionTrait>(conn: &C, invoice: Uuid) -> Result<u64, DbErr> {
    Ok(charge::Entity::update_many()
        .col_expr(charge::Column::Status, Expr::value("unbilled"))
        .col_expr(charge::Column::InvoiceId, Expr::value(Option::<Uuid>::None))
        .filter(charge::Column::InvoiceId.eq(invoice))
        .exec(conn)
        .await?
        .rows_affected)
}

// ---- Invoices -----------------------------------------------------------------------

pub async fn insert_invoice<C: ConnectionTrait>(
    conn: &C,
    row: invoice::Model,
    lines: Vec<invoice_line::Model>,
) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await?;
    // 14 columns a line: 1000 lines stay under SQLite's parameter limit.
    for chunk in lines.chunks(1000) {
        invoice_line::Entity::insert_many(chunk.iter().cloned().map(IntoActiveModel::into_active_model))
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

pub async fn find_invoice<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<invoice::Model>, DbErr> {
    invoice::Entity::find_by_id(id).one(conn).await
}

pub async fn invoice_lines<C: ConnectionTrait>(
    conn: &C,
    invoice: Uuid,
) -> Result<Vec<invoice_line::Model>, DbErr> {
    invoice_line::Entity::find()
        .filter(invoice_line::Column::InvoiceId.eq(invoice))
        .order_by_asc(invoice_line::Column::Position)
        .all(conn)
        .await
}

/// A patient's invoices, newest first.
pub async fn invoices_of<C: ConnectionTrait>(conn: &C, patient: Uuid) -> Result<Vec<invoice::Model>, DbErr> {
    invoice::Entity::find()
        .filter(invoice::Column::PatientId.eq(patient))
        .order_by_desc(invoice::Column::PostedAt)
        .limit(200)
        .all(conn)
        .await
}

/// Whether any invoice was ever posted (the demo bills once).
pub async fn has_invoices<C: ConnectionTrait>(conn: &C) -> Result<bool, DbErr> {
    Ok(invoice::Entity::find()
        .select_only()
        .column(invoice::Column::Id)
        .limit(1)
        .into_tuple::<Uuid>()
        .one(conn)
        .await?
        .is_some())
}

/// Adds `amount` to what was paid on a posted invoice, if it fits in the balance.
pub async fn pay_invoice<C: ConnectionTrait>(conn: &C, invoice: Uuid, amount: i64) -> Result<bool, DbErr> {
    Ok(invoice::Entity::update_many()
        .col_expr(invoice::Column::PaidMinor, Expr::col(invoice::Column::PaidMinor).add(amount))
        .filter(invoice::Column::Id.eq(invoice))
        .filter(invoice::Column::Status.eq(InvoiceStatus::Posted))
        .filter(Expr::col(invoice::Column::PaidMinor).add(amount).lte(Expr::col(invoice::Column::TotalMinor)))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// Cancels a posted invoice under its credit note; false if it was not posted.
pub async fn cancel_invoice<C: ConnectionTrait>(
    conn: &C,
    invoice: Uuid,
    credit_note: &str,
    reason: &str,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(invoice::Entity::update_many()
        .col_expr(invoice::Column::Status, Expr::value(InvoiceStatus::Cancelled))
        .col_expr(invoice::Column::CreditNoteNumber, Expr::value(credit_note))
        .col_expr(invoice::Column::CancelReason, Expr::value(reason))
        .col_expr(invoice::Column::CancelledBy, Expr::value(by))
        .col_expr(invoice::Column::CancelledAt, Expr::value(at))
        .filter(invoice::Column::Id.eq(invoice))
        .filter(invoice::Column::Status.eq(InvoiceStatus::Posted))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// Gives back `amount` of what was paid on a cancelled invoice, if that much is left.
pub async fn refund_on_invoice<C: ConnectionTrait>(
    conn: &C,
    invoice: Uuid,
    amount: i64,
) -> Result<bool, DbErr> {
    Ok(invoice::Entity::update_many()
        .col_expr(invoice::Column::RefundedMinor, Expr::col(invoice::Column::RefundedMinor).add(amount))
        .filter(invoice::Column::Id.eq(invoice))
        .filter(invoice::Column::Status.eq(InvoiceStatus::Cancelled))
        .filter(
            Expr::col(invoice::Column::RefundedMinor).add(amount).lte(Expr::col(invoice::Column::PaidMinor)),
        )
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// Counts a print of an invoice; returns how many there were before (0: the original).
pub async fn count_invoice_print<C: ConnectionTrait>(conn: &C, invoice: Uuid) -> Result<(), DbErr> {
    invoice::Entity::update_many()
        .col_expr(invoice::Column::PrintCount, Expr::col(invoice::Column::PrintCount).add(1))
        .filter(invoice::Column::Id.eq(invoice))
        .exec(conn)
        .await
        .map(|_| ())
}

/// Posted invoices with money still owed, oldest first.
pub async fn outstanding<C: ConnectionTrait>(conn: &C, limit: u64) -> Result<Vec<invoice::Model>, DbErr> {
    invoice::Entity::find()
        .filter(invoice::Column::Status.eq(InvoiceStatus::Posted))
        .filter(Expr::col(invoice::Column::PaidMinor).lt(Expr::col(invoice::Column::TotalMinor)))
        .order_by_asc(invoice::Column::PostedAt)
        .limit(limit)
        .all(conn)
        .await
}

// ---- Receipts -----------------------------------------------------------------------

pub async fn insert_receipt<C: ConnectionTrait>(conn: &C, row: receipt::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_receipt<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<receipt::Model>, DbErr> {
    receipt::Entity::find_by_id(id).one(conn).await
}

pub async fn receipt_by_provider_event<C: ConnectionTrait>(
    conn: &C,
    event: &str,
) -> Result<Option<receipt::Model>, DbErr> {
    receipt::Entity::find().filter(receipt::Column::ProviderEventId.eq(event)).one(conn).await
}

/// A patient's receipts, newest first.
pub async fn receipts_of<C: ConnectionTrait>(conn: &C, patient: Uuid) -> Result<Vec<receipt::Model>, DbErr> {
    receipt::Entity::find()
        .filter(receipt::Column::PatientId.eq(patient))
        .order_by_desc(receipt::Column::ReceivedAt)
        .limit(500)
        .all(conn)
        .await
}

/// Takes `amount` from a deposit's unapplied money, if that much is left.
pub async fn draw_deposit<C: ConnectionTrait>(conn: &C, deposit: Uuid, amount: i64) -> Result<bool, DbErr> {
    Ok(receipt::Entity::update_many()
        .col_expr(receipt::Column::UnappliedMinor, Expr::col(receipt::Column::UnappliedMinor).sub(amount))
        .filter(receipt::Column::Id.eq(deposit))
        .filter(receipt::Column::Kind.eq(ReceiptKind::Deposit))
        .filter(receipt::Column::UnappliedMinor.gte(amount))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

pub async fn count_receipt_print<C: ConnectionTrait>(conn: &C, receipt: Uuid) -> Result<(), DbErr> {
    receipt::Entity::update_many()
        .col_expr(receipt::Column::PrintCount, Expr::col(receipt::Column::PrintCount).add(1))
        .filter(receipt::Column::Id.eq(receipt))
        .exec(conn)
        .await
        .map(|_| ())
}

/// One row of the cash report: a cashier's money by method and kind in a period.
#[derive(Debug, Clone, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct CashRow {
    pub received_by: Uuid,
    pub method: PaymentMethod,
    pub kind: ReceiptKind,
    pub count: i64,
    pub amount_minor: i64,
}

/// Money in and out in `[from, to)`, per cashier, method and kind (one indexed range scan).
pub async fn cash_rows<C: ConnectionTrait>(
    conn: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<CashRow>, DbErr> {
    receipt::Entity::find()
        .select_only()
        .column(receipt::Column::ReceivedBy)
        .column(receipt::Column::Method)
        .column(receipt::Column::Kind)
        .column_as(receipt::Column::Id.count(), "count")
        .column_as(receipt::Column::AmountMinor.sum().cast_as("BIGINT"), "amount_minor")
        .filter(receipt::Column::ReceivedAt.gte(from))
        .filter(receipt::Column::ReceivedAt.lt(to))
        .group_by(receipt::Column::ReceivedBy)
        .group_by(receipt::Column::Method)
        .group_by(receipt::Column::Kind)
        .into_model::<CashRow>()
        .all(conn)
        .await
}

/// The cash a shift took in and paid out: (received, paid out).
pub async fn shift_cash<C: ConnectionTrait>(conn: &C, shift: Uuid) -> Result<(i64, i64), DbErr> {
    let rows: Vec<(ReceiptKind, Option<i64>)> = receipt::Entity::find()
        .select_only()
        .column(receipt::Column::Kind)
        .column_as(receipt::Column::AmountMinor.sum().cast_as("BIGINT"), "amount")
        .filter(receipt::Column::ShiftId.eq(shift))
        .filter(receipt::Column::Method.eq(PaymentMethod::Cash))
        .group_by(receipt::Column::Kind)
        .into_tuple()
        .all(conn)
        .await?;
    let (mut taken, mut given) = (0, 0);
    for (kind, amount) in rows {
        match kind {
            ReceiptKind::Refund => given += amount.unwrap_or(0),
            ReceiptKind::Payment | ReceiptKind::Deposit => taken += amount.unwrap_or(0),
        }
    }
    Ok((taken, given))
}

// ---- Refunds ------------------------------------------------------------------------

pub async fn insert_refund_request<C: ConnectionTrait>(
    conn: &C,
    row: refund_request::Model,
) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_refund_request<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<refund_request::Model>, DbErr> {
    refund_request::Entity::find_by_id(id).one(conn).await
}

pub async fn refunds_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
) -> Result<Vec<refund_request::Model>, DbErr> {
    refund_request::Entity::find()
        .filter(refund_request::Column::PatientId.eq(patient))
        .order_by_desc(refund_request::Column::RequestedAt)
        .limit(200)
        .all(conn)
        .await
}

/// Decides a requested refund once (approved or rejected); false if it was decided.
pub async fn decide_refund<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    to: RefundStatus,
    by: Uuid,
    at: DateTime<Utc>,
    note: Option<&str>,
) -> Result<bool, DbErr> {
    Ok(refund_request::Entity::update_many()
        .col_expr(refund_request::Column::Status, Expr::value(to))
        .col_expr(refund_request::Column::DecidedBy, Expr::value(by))
        .col_expr(refund_request::Column::DecidedAt, Expr::value(at))
        .col_expr(refund_request::Column::DecisionNote, Expr::value(note.map(str::to_owned)))
        .filter(refund_request::Column::Id.eq(id))
        .filter(refund_request::Column::Status.eq(RefundStatus::Requested))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// Marks an approved refund paid by `receipt`; false if it was not waiting to be paid.
pub async fn mark_refund_paid<C: ConnectionTrait>(conn: &C, id: Uuid, receipt: Uuid) -> Result<bool, DbErr> {
    Ok(refund_request::Entity::update_many()
        .col_expr(refund_request::Column::Status, Expr::value(RefundStatus::Paid))
        .col_expr(refund_request::Column::ReceiptId, Expr::value(receipt))
        .filter(refund_request::Column::Id.eq(id))
        .filter(refund_request::Column::Status.eq(RefundStatus::Approved))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// Refunds waiting for a supervisor or a cashier, oldest first.
pub async fn open_refunds<C: ConnectionTrait>(conn: &C) -> Result<Vec<refund_request::Model>, DbErr> {
    refund_request::Entity::find()
        .filter(refund_request::Column::Status.is_in([RefundStatus::Requested, RefundStatus::Approved]))
        .order_by_asc(refund_request::Column::RequestedAt)
        .limit(200)
        .all(conn)
        .await
}

// ---- Shifts -------------------------------------------------------------------------

pub async fn insert_shift<C: ConnectionTrait>(conn: &C, row: cashier_shift::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn open_shift<C: ConnectionTrait>(
    conn: &C,
    cashier: Uuid,
) -> Result<Option<cashier_shift::Model>, DbErr> {
    cashier_shift::Entity::find()
        .filter(cashier_shift::Column::CashierId.eq(cashier))
        .filter(cashier_shift::Column::ClosedAt.is_null())
        .one(conn)
        .await
}

pub async fn find_shift<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<cashier_shift::Model>, DbErr> {
    cashier_shift::Entity::find_by_id(id).one(conn).await
}

/// Shifts opened in `[from, to)`, by opening.
pub async fn shifts_between<C: ConnectionTrait>(
    conn: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<cashier_shift::Model>, DbErr> {
    cashier_shift::Entity::find()
        .filter(cashier_shift::Column::OpenedAt.gte(from))
        .filter(cashier_shift::Column::OpenedAt.lt(to))
        .order_by_asc(cashier_shift::Column::OpenedAt)
        .all(conn)
        .await
}

/// Closes an open shift with its count; false if it was closed already.
pub async fn close_shift<C: ConnectionTrait>(
    conn: &C,
    shift: Uuid,
    (expected, counted): (i64, i64),
    note: Option<&str>,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(cashier_shift::Entity::update_many()
        .col_expr(cashier_shift::Column::ClosedAt, Expr::value(at))
        .col_expr(cashier_shift::Column::ExpectedMinor, Expr::value(expected))
        .col_expr(cashier_shift::Column::CountedMinor, Expr::value(counted))
        .col_expr(cashier_shift::Column::VarianceMinor, Expr::value(counted - expected))
        .col_expr(cashier_shift::Column::CloseNote, Expr::value(note.map(str::to_owned)))
        .filter(cashier_shift::Column::Id.eq(shift))
        .filter(cashier_shift::Column::ClosedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

// ---- Journal ------------------------------------------------------------------------

pub async fn insert_journal<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<journal_line::Model>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    journal_line::Entity::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
        .exec_without_returning(conn)
        .await
        .map(|_| ())
}

/// A patient's balance in each account (receivable: what they owe; deposits held:
/// negative is money held for them).
pub async fn patient_balances<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
) -> Result<Vec<(Account, i64)>, DbErr> {
    let rows: Vec<(Account, Option<i64>)> = journal_line::Entity::find()
        .select_only()
        .column(journal_line::Column::Account)
        .column_as(journal_line::Column::AmountMinor.sum().cast_as("BIGINT"), "amount")
        .filter(journal_line::Column::PatientId.eq(patient))
        .group_by(journal_line::Column::Account)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(|(a, s)| (a, s.unwrap_or(0))).collect())
}

/// Every account's movement in `[from, to)`, by account and department.
pub async fn account_movements<C: ConnectionTrait>(
    conn: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(Account, Option<String>, i64)>, DbErr> {
    let rows: Vec<(Account, Option<String>, Option<i64>)> = journal_line::Entity::find()
        .select_only()
        .column(journal_line::Column::Account)
        .column(journal_line::Column::Department)
        .column_as(journal_line::Column::AmountMinor.sum().cast_as("BIGINT"), "amount")
        .filter(journal_line::Column::PostedAt.gte(from))
        .filter(journal_line::Column::PostedAt.lt(to))
        .group_by(journal_line::Column::Account)
        .group_by(journal_line::Column::Department)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(|(a, d, s)| (a, d, s.unwrap_or(0))).collect())
}

/// Entries whose lines do not sum to zero (none, ever: the check the tests and the
/// operator run).
pub async fn unbalanced_entries<C: ConnectionTrait>(conn: &C) -> Result<Vec<Uuid>, DbErr> {
    journal_line::Entity::find()
        .select_only()
        .column(journal_line::Column::EntryId)
        .group_by(journal_line::Column::EntryId)
        .having(journal_line::Column::AmountMinor.sum().ne(0))
        .into_tuple()
        .all(conn)
        .await
}
