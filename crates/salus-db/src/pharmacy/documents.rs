//! Queries of the pharmacy's documents: dispensings and their lines, deliveries, transfers
//! between stores and count sheets (the stock they move goes through `take` and `put`).

use super::*;

// ---- Dispensing ---------------------------------------------------------------------

pub async fn insert_dispense<C: ConnectionTrait>(
    conn: &C,
    row: dispense::Model,
    lines: Vec<dispense_line::Model>,
) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await?;
    dispense_line::Entity::insert_many(lines.into_iter().map(IntoActiveModel::into_active_model))
        .exec_without_returning(conn)
        .await
        .map(|_| ())
}

pub async fn find_dispense<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<dispense::Model>, DbErr> {
    dispense::Entity::find_by_id(id).one(conn).await
}

pub async fn lines_of_dispense<C: ConnectionTrait>(
    conn: &C,
    dispense: Uuid,
) -> Result<Vec<dispense_line::Model>, DbErr> {
    dispense_line::Entity::find()
        .filter(dispense_line::Column::DispenseId.eq(dispense))
        .order_by_asc(dispense_line::Column::Id)
        .all(conn)
        .await
}

pub async fn find_line<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<dispense_line::Model>, DbErr> {
    dispense_line::Entity::find_by_id(id).one(conn).await
}

/// A patient's dispensings (or a walk-in's sales when `patient` is `None`), newest first.
pub async fn dispenses_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    limit: u64,
) -> Result<Vec<dispense::Model>, DbErr> {
    dispense::Entity::find()
        .filter(dispense::Column::PatientId.eq(patient))
        .order_by_desc(dispense::Column::DispensedAt)
        .limit(limit)
        .all(conn)
        .await
}

/// Counts `n` units of a line as brought back if no more than were given out come back
/// in all: false (nothing changed) if that would exceed it.
pub async fn return_to_line<C: ConnectionTrait>(conn: &C, line: Uuid, n: i64) -> Result<bool, DbErr> {
    Ok(dispense_line::Entity::update_many()
        .col_expr(dispense_line::Column::Returned, Expr::col(dispense_line::Column::Returned).add(n))
        .filter(dispense_line::Column::Id.eq(line))
        .filter(
            Expr::col(dispense_line::Column::Returned).add(n).lte(Expr::col(dispense_line::Column::Quantity)),
        )
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// The pharmacy's queue: active prescriptions written since `since` with something left
/// to give, oldest first; `limit` after the first `offset`.
pub async fn active_prescriptions<C: ConnectionTrait>(
    conn: &C,
    since: chrono::DateTime<Utc>,
    limit: u64,
    offset: u64,
) -> Result<Vec<prescription::Model>, DbErr> {
    prescription::Entity::find()
        .filter(prescription::Column::Status.eq(salus_core::clinical::PrescriptionStatus::Active))
        .filter(prescription::Column::CreatedAt.gte(since))
        .filter(
            prescription::Column::Quantity
                .is_null()
                .or(Expr::col(prescription::Column::Dispensed).lt(Expr::col(prescription::Column::Quantity))),
        )
        .offset(offset)
        .order_by_asc(prescription::Column::CreatedAt)
        .order_by_asc(prescription::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// Counts `n` more units of a prescription as given, if it is active and that many remain
/// (when it says how many): one statement, so two pharmacists cannot both give its last
/// units. False (nothing changed) otherwise.
pub async fn add_dispensed<C: ConnectionTrait>(conn: &C, id: Uuid, n: i64) -> Result<bool, DbErr> {
    use prescription::Column as P;
    Ok(prescription::Entity::update_many()
        .col_expr(P::Dispensed, Expr::col(P::Dispensed).add(n))
        .filter(P::Id.eq(id))
        .filter(P::Status.eq(salus_core::clinical::PrescriptionStatus::Active))
        .filter(P::Quantity.is_null().or(Expr::col(P::Dispensed).add(n).lte(Expr::col(P::Quantity))))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// Counts `n` units of a prescription as brought back.
pub async fn remove_dispensed<C: ConnectionTrait>(conn: &C, id: Uuid, n: i64) -> Result<bool, DbErr> {
    use prescription::Column as P;
    Ok(prescription::Entity::update_many()
        .col_expr(P::Dispensed, Expr::col(P::Dispensed).sub(n))
        .filter(P::Id.eq(id))
        .filter(P::Dispensed.gte(n))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// Marks a prescription completed once all of it is given (only from active).
pub async fn complete_prescription<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<bool, DbErr> {
    Ok(prescription::Entity::update_many()
        .col_expr(
            prescription::Column::Status,
            Expr::value(salus_core::clinical::PrescriptionStatus::Completed.as_str()),
        )
        .col_expr(prescription::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(prescription::Column::Version, Expr::col(prescription::Column::Version).add(1))
        .filter(prescription::Column::Id.eq(id))
        .filter(prescription::Column::Status.eq(salus_core::clinical::PrescriptionStatus::Active))
        .filter(Expr::col(prescription::Column::Dispensed).gte(Expr::col(prescription::Column::Quantity)))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

// ---- Transfers ----------------------------------------------------------------------

pub async fn insert_transfer<C: ConnectionTrait>(
    conn: &C,
    row: stock_transfer::Model,
    lines: Vec<stock_transfer_line::Model>,
) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await?;
    stock_transfer_line::Entity::insert_many(lines.into_iter().map(IntoActiveModel::into_active_model))
        .exec_without_returning(conn)
        .await
        .map(|_| ())
}

pub async fn find_transfer<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<stock_transfer::Model>, DbErr> {
    stock_transfer::Entity::find_by_id(id).one(conn).await
}

pub async fn transfer_lines<C: ConnectionTrait>(
    conn: &C,
    transfer: Uuid,
) -> Result<Vec<stock_transfer_line::Model>, DbErr> {
    stock_transfer_line::Entity::find()
        .filter(stock_transfer_line::Column::TransferId.eq(transfer))
        .order_by_asc(stock_transfer_line::Column::Id)
        .all(conn)
        .await
}

/// Transfers into or out of a store that are still in transit, oldest first.
pub async fn transfers_in_transit<C: ConnectionTrait>(
    conn: &C,
    store: Uuid,
) -> Result<Vec<stock_transfer::Model>, DbErr> {
    stock_transfer::Entity::find()
        .filter(stock_transfer::Column::Status.eq(TransferStatus::Issued))
        .filter(stock_transfer::Column::ToStoreId.eq(store).or(stock_transfer::Column::FromStoreId.eq(store)))
        .order_by_asc(stock_transfer::Column::IssuedAt)
        .limit(200)
        .all(conn)
        .await
}

/// Marks a transfer received (only once, only from issued).
pub async fn receive_transfer<C: ConnectionTrait>(conn: &C, id: Uuid, by: Uuid) -> Result<bool, DbErr> {
    Ok(stock_transfer::Entity::update_many()
        .col_expr(stock_transfer::Column::Status, Expr::value(TransferStatus::Received.as_str()))
        .col_expr(stock_transfer::Column::ReceivedBy, Expr::value(by))
        .col_expr(stock_transfer::Column::ReceivedAt, Expr::value(Utc::now()))
        .col_expr(stock_transfer::Column::Version, Expr::col(stock_transfer::Column::Version).add(1))
        .filter(stock_transfer::Column::Id.eq(id))
        .filter(stock_transfer::Column::Status.eq(TransferStatus::Issued))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

// ---- Receipts -----------------------------------------------------------------------

pub async fn insert_receipt<C: ConnectionTrait>(conn: &C, row: goods_receipt::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_receipt<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<goods_receipt::Model>, DbErr> {
    goods_receipt::Entity::find_by_id(id).one(conn).await
}

/// The deliveries received against a purchase order, oldest first.
pub async fn receipts_of_order<C: ConnectionTrait>(
    conn: &C,
    order: Uuid,
) -> Result<Vec<goods_receipt::Model>, DbErr> {
    goods_receipt::Entity::find()
        .filter(goods_receipt::Column::OrderId.eq(order))
        .order_by_asc(goods_receipt::Column::ReceivedAt)
        .all(conn)
        .await
}

// ---- Purchase orders ----------------------------------------------------------------

pub async fn insert_order<C: ConnectionTrait>(
    conn: &C,
    row: purchase_order::Model,
    lines: Vec<purchase_order_line::Model>,
) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await?;
    purchase_order_line::Entity::insert_many(lines.into_iter().map(IntoActiveModel::into_active_model))
        .exec_without_returning(conn)
        .await
        .map(|_| ())
}

pub async fn find_order<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<purchase_order::Model>, DbErr> {
    purchase_order::Entity::find_by_id(id).one(conn).await
}

pub async fn order_lines<C: ConnectionTrait>(
    conn: &C,
    order: Uuid,
) -> Result<Vec<purchase_order_line::Model>, DbErr> {
    purchase_order_line::Entity::find()
        .filter(purchase_order_line::Column::OrderId.eq(order))
        .order_by_asc(purchase_order_line::Column::Id)
        .all(conn)
        .await
}

/// Purchase orders, newest first: the open ones (`open`), or all; `limit` after `offset`.
pub async fn orders<C: ConnectionTrait>(
    conn: &C,
    open: bool,
    limit: u64,
    offset: u64,
) -> Result<Vec<purchase_order::Model>, DbErr> {
    let mut q = purchase_order::Entity::find();
    if open {
        q = q.filter(
            purchase_order::Column::Status
                .is_in([PurchaseStatus::Ordered.as_str(), PurchaseStatus::PartiallyReceived.as_str()]),
        );
    }
    q.order_by_desc(purchase_order::Column::OrderedAt)
        .order_by_desc(purchase_order::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(conn)
        .await
}

/// Counts `n` units as received on an order line if that does not take it past what was
/// ordered: false (nothing changed) if it would.
pub async fn receive_on_line<C: ConnectionTrait>(conn: &C, line: Uuid, n: i64) -> Result<bool, DbErr> {
    Ok(purchase_order_line::Entity::update_many()
        .col_expr(
            purchase_order_line::Column::Received,
            Expr::col(purchase_order_line::Column::Received).add(n),
        )
        .filter(purchase_order_line::Column::Id.eq(line))
        .filter(
            Expr::col(purchase_order_line::Column::Received)
                .add(n)
                .lte(Expr::col(purchase_order_line::Column::Quantity)),
        )
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// Moves an order from one of `from` to `to` (closing it when `closed` is given): false
/// (nothing changed) if it stands elsewhere by now.
pub async fn move_order<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    from: &[PurchaseStatus],
    to: PurchaseStatus,
    closed: Option<(Uuid, &str)>,
) -> Result<bool, DbErr> {
    let mut q = purchase_order::Entity::update_many()
        .col_expr(purchase_order::Column::Status, Expr::value(to.as_str()))
        .col_expr(purchase_order::Column::Version, Expr::col(purchase_order::Column::Version).add(1));
    if let Some((by, reason)) = closed {
        q = q
            .col_expr(purchase_order::Column::ClosedBy, Expr::value(by))
            .col_expr(purchase_order::Column::ClosedAt, Expr::value(Utc::now()))
            .col_expr(purchase_order::Column::CloseReason, Expr::value(reason));
    }
    Ok(q.filter(purchase_order::Column::Id.eq(id))
        .filter(purchase_order::Column::Status.is_in(from.iter().map(|s| s.as_str())))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

// ---- Stock-taking --------------------------------------------------------------------

/// Every balance of a store with stock, for a count sheet.
pub async fn store_balances<C: ConnectionTrait>(
    conn: &C,
    store: Uuid,
) -> Result<Vec<stock_balance::Model>, DbErr> {
    stock_balance::Entity::find()
        .filter(stock_balance::Column::StoreId.eq(store))
        .filter(stock_balance::Column::OnHand.gt(0))
        .all(conn)
        .await
}

pub async fn insert_count<C: ConnectionTrait>(
    conn: &C,
    row: stock_count::Model,
    lines: Vec<stock_count_line::Model>,
) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await?;
    crate::insert_all::<stock_count_line::Entity, _>(conn, lines).await.map(|_| ())
}

pub async fn find_count<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<stock_count::Model>, DbErr> {
    stock_count::Entity::find_by_id(id).one(conn).await
}

pub async fn count_lines<C: ConnectionTrait>(
    conn: &C,
    count: Uuid,
) -> Result<Vec<stock_count_line::Model>, DbErr> {
    stock_count_line::Entity::find()
        .filter(stock_count_line::Column::CountId.eq(count))
        .order_by_asc(stock_count_line::Column::Id)
        .all(conn)
        .await
}

/// A store's count sheets, newest first.
pub async fn counts_of<C: ConnectionTrait>(
    conn: &C,
    store: Uuid,
    limit: u64,
) -> Result<Vec<stock_count::Model>, DbErr> {
    stock_count::Entity::find()
        .filter(stock_count::Column::StoreId.eq(store))
        .order_by_desc(stock_count::Column::CreatedAt)
        .limit(limit)
        .all(conn)
        .await
}

/// Records what was counted on a line of an open sheet.
pub async fn set_counted<C: ConnectionTrait>(
    conn: &C,
    line: Uuid,
    counted: i64,
    reason: Option<String>,
) -> Result<(), DbErr> {
    stock_count_line::Entity::update_many()
        .col_expr(stock_count_line::Column::Counted, Expr::value(counted))
        .col_expr(stock_count_line::Column::Reason, Expr::value(reason))
        .filter(stock_count_line::Column::Id.eq(line))
        .exec(conn)
        .await
        .map(|_| ())
}

/// Marks a sheet posted (once, only from open).
pub async fn post_count<C: ConnectionTrait>(conn: &C, id: Uuid, by: Uuid) -> Result<bool, DbErr> {
    use salus_core::pharmacy::CountStatus;
    Ok(stock_count::Entity::update_many()
        .col_expr(stock_count::Column::Status, Expr::value(CountStatus::Posted.as_str()))
        .col_expr(stock_count::Column::PostedBy, Expr::value(by))
        .col_expr(stock_count::Column::PostedAt, Expr::value(Utc::now()))
        .col_expr(stock_count::Column::Version, Expr::col(stock_count::Column::Version).add(1))
        .filter(stock_count::Column::Id.eq(id))
        .filter(stock_count::Column::Status.eq(CountStatus::Open))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}
