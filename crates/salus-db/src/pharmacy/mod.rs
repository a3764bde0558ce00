//! Queries of the pharmacy and its stores. Stock changes only here, and only two ways:
//! [`take`] — a conditional decrement that changes nothing unless the units are there,
//! returning what is left — and [`put`], an upsert that adds. Each is followed, in the
//! same transaction, by its ledger row carrying the balance it left, so the ledger sums
//! to every balance; the CHECK constraints of `stock_balances` stand behind both.

use chrono::{NaiveDate, Utc};
use salus_core::pharmacy::{Mismatch, PositionRow, PurchaseStatus, TransferStatus};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, JoinType, OnConflict, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::entity::{
    dispense, dispense_line, goods_receipt, prescription, purchase_order, purchase_order_line, stock_balance,
    stock_batch, stock_count, stock_count_line, stock_item, stock_movement, stock_operation,
    stock_reorder_level, stock_transfer, stock_transfer_line, store, supplier,
};
use crate::merge::PatientLink;

mod documents;

pub use documents::*;

/// A merged patient's dispensings, their lines and the ledger rows that name the patient
/// are the survivor's (the amounts of a ledger row never change; the patient may).
pub const PATIENT_LINKS: &[PatientLink] = &[
    PatientLink::follows("dispenses"),
    PatientLink::follows("dispense_lines").part_of("dispense_id", "dispenses"),
    PatientLink::follows("stock_movements"),
];

// ---- Items, stores, suppliers -------------------------------------------------------

/// Stock items by name, optionally those whose name or code contains `text`.
pub async fn items<C: ConnectionTrait>(
    conn: &C,
    text: Option<&str>,
    include_inactive: bool,
    limit: u64,
) -> Result<Vec<stock_item::Model>, DbErr> {
    let mut q = stock_item::Entity::find().order_by_asc(stock_item::Column::Name).limit(limit);
    if !include_inactive {
        q = q.filter(stock_item::Column::Active.eq(true));
    }
    if let Some(t) = text.filter(|t| !t.trim().is_empty()) {
        let like = format!("%{}%", t.trim().to_lowercase().replace(['%', '_'], ""));
        q = q.filter(
            Expr::expr(Func::lower(Expr::col(stock_item::Column::Name)))
                .like(like.clone())
                .or(Expr::expr(Func::lower(Expr::col(stock_item::Column::Code))).like(like)),
        );
    }
    q.all(conn).await
}

pub async fn find_item<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<stock_item::Model>, DbErr> {
    stock_item::Entity::find_by_id(id).one(conn).await
}

pub async fn items_by_ids<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> Result<Vec<stock_item::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    stock_item::Entity::find().filter(stock_item::Column::Id.is_in(ids.iter().copied())).all(conn).await
}

/// The active stock items that are forms (brands) of these catalog medicines.
pub async fn items_of_medicines<C: ConnectionTrait>(
    conn: &C,
    medicines: &[Uuid],
) -> Result<Vec<stock_item::Model>, DbErr> {
    if medicines.is_empty() {
        return Ok(Vec::new());
    }
    stock_item::Entity::find()
        .filter(stock_item::Column::MedicineId.is_in(medicines.iter().copied()))
        .filter(stock_item::Column::Active.eq(true))
        .order_by_asc(stock_item::Column::Name)
        .all(conn)
        .await
}

pub async fn insert_item<C: ConnectionTrait>(conn: &C, row: stock_item::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn stores<C: ConnectionTrait>(
    conn: &C,
    include_inactive: bool,
) -> Result<Vec<store::Model>, DbErr> {
    let mut q = store::Entity::find().order_by_asc(store::Column::Name);
    if !include_inactive {
        q = q.filter(store::Column::Active.eq(true));
    }
    q.all(conn).await
}

pub async fn find_store<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<store::Model>, DbErr> {
    store::Entity::find_by_id(id).one(conn).await
}

pub async fn find_store_by_code<C: ConnectionTrait>(
    conn: &C,
    code: &str,
) -> Result<Option<store::Model>, DbErr> {
    store::Entity::find().filter(store::Column::Code.eq(code)).one(conn).await
}

pub async fn insert_store<C: ConnectionTrait>(conn: &C, row: store::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn suppliers<C: ConnectionTrait>(conn: &C) -> Result<Vec<supplier::Model>, DbErr> {
    supplier::Entity::find()
        .filter(supplier::Column::Active.eq(true))
        .order_by_asc(supplier::Column::Name)
        .all(conn)
        .await
}

pub async fn find_supplier<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<supplier::Model>, DbErr> {
    supplier::Entity::find_by_id(id).one(conn).await
}

pub async fn insert_supplier<C: ConnectionTrait>(conn: &C, row: supplier::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

// ---- Batches and balances -----------------------------------------------------------

pub async fn find_batch<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<stock_batch::Model>, DbErr> {
    stock_batch::Entity::find_by_id(id).one(conn).await
}

pub async fn batches_by_ids<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> Result<Vec<stock_batch::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    stock_batch::Entity::find().filter(stock_batch::Column::Id.is_in(ids.iter().copied())).all(conn).await
}

pub async fn find_batch_by_no<C: ConnectionTrait>(
    conn: &C,
    item: Uuid,
    batch_no: &str,
) -> Result<Option<stock_batch::Model>, DbErr> {
    stock_batch::Entity::find()
        .filter(stock_batch::Column::ItemId.eq(item))
        .filter(stock_batch::Column::BatchNo.eq(batch_no))
        .one(conn)
        .await
}

pub async fn insert_batch<C: ConnectionTrait>(conn: &C, row: stock_batch::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

/// Holds (with a reason) or releases a batch; false if it already was so.
pub async fn set_batch_held<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    hold: Option<(&str, Uuid)>,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let mut u = stock_batch::Entity::update_many()
        .col_expr(stock_batch::Column::Held, Expr::value(hold.is_some()))
        .col_expr(stock_batch::Column::Version, Expr::col(stock_batch::Column::Version).add(1))
        .filter(stock_batch::Column::Id.eq(id))
        .filter(stock_batch::Column::Held.eq(hold.is_none()));
    u = match hold {
        Some((reason, by)) => u
            .col_expr(stock_batch::Column::HoldReason, Expr::value(reason))
            .col_expr(stock_batch::Column::HeldBy, Expr::value(by))
            .col_expr(stock_batch::Column::HeldAt, Expr::value(now)),
        None => u
            .col_expr(stock_batch::Column::HoldReason, Expr::value(Option::<String>::None))
            .col_expr(stock_batch::Column::HeldBy, Expr::value(Option::<Uuid>::None))
            .col_expr(stock_batch::Column::HeldAt, Expr::value(Option::<chrono::DateTime<Utc>>::None)),
    };
    Ok(u.exec(conn).await?.rows_affected == 1)
}

/// The balances of `items` in `store` (every batch, held and expired ones too).
pub async fn balances<C: ConnectionTrait>(
    conn: &C,
    store: Uuid,
    items: &[Uuid],
) -> Result<Vec<stock_balance::Model>, DbErr> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    stock_balance::Entity::find()
        .filter(stock_balance::Column::StoreId.eq(store))
        .filter(stock_balance::Column::ItemId.is_in(items.iter().copied()))
        .filter(stock_balance::Column::OnHand.gt(0))
        .all(conn)
        .await
}

/// Every store's balance of one batch.
pub async fn balances_of_batch<C: ConnectionTrait>(
    conn: &C,
    batch: Uuid,
) -> Result<Vec<stock_balance::Model>, DbErr> {
    stock_balance::Entity::find().filter(stock_balance::Column::BatchId.eq(batch)).all(conn).await
}

/// Takes `n` units of `batch` from `store` if that many are available (on hand less
/// reserved) — and, with `usable_on`, only if the batch is neither held nor expired on
/// that day, so a recall placed while a dispensing is under way stops it: one statement,
/// so two takers racing for the last units cannot both get them. Returns what is left on
/// hand, or `None` if the units (or a usable batch) were not there.
pub async fn take<C: ConnectionTrait>(
    conn: &C,
    store: Uuid,
    batch: Uuid,
    n: i64,
    usable_on: Option<NaiveDate>,
) -> Result<Option<i64>, DbErr> {
    use stock_balance::Column as B;
    let mut u = Query::update();
    u.table(stock_balance::Entity)
        .value(B::OnHand, Expr::col(B::OnHand).sub(n))
        .value(B::UpdatedAt, Utc::now())
        .and_where(Expr::col(B::StoreId).eq(store))
        .and_where(Expr::col(B::BatchId).eq(batch))
        .and_where(Expr::col(B::OnHand).sub(Expr::col(B::Reserved)).gte(n))
        .returning_col(B::OnHand);
    if let Some(day) = usable_on {
        u.and_where(
            Expr::col(B::BatchId).in_subquery(
                Query::select()
                    .column(stock_batch::Column::Id)
                    .from(stock_batch::Entity)
                    .and_where(Expr::col(stock_batch::Column::Id).eq(batch))
                    .and_where(Expr::col(stock_batch::Column::Held).eq(false))
                    .and_where(Expr::col(stock_batch::Column::ExpiryDate).gte(day))
                    .to_owned(),
            ),
        );
    }
    match conn.query_one(&u).await? {
        Some(row) => Ok(Some(row.try_get("", "on_hand")?)),
        None => Ok(None),
    }
}

/// Adds `n` units of `batch` to `store` (creating its balance); returns what is on hand.
pub async fn put<C: ConnectionTrait>(
    conn: &C,
    store: Uuid,
    batch: Uuid,
    item: Uuid,
    n: i64,
) -> Result<i64, DbErr> {
    use stock_balance::Column as B;
    let row = stock_balance::Entity::insert(stock_balance::ActiveModel {
        store_id: Set(store),
        batch_id: Set(batch),
        item_id: Set(item),
        on_hand: Set(n),
        reserved: Set(0),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([B::StoreId, B::BatchId])
            .value(B::OnHand, Expr::col((stock_balance::Entity, B::OnHand)).add(n))
            .value(B::UpdatedAt, Utc::now())
            .to_owned(),
    )
    .exec_with_returning(conn)
    .await?;
    Ok(row.on_hand)
}

pub async fn insert_movements<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<stock_movement::Model>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    stock_movement::Entity::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
        .exec_without_returning(conn)
        .await
        .map(|_| ())
}

/// The ledger of one batch in one store (or of a whole store), newest first.
pub async fn movements<C: ConnectionTrait>(
    conn: &C,
    store: Uuid,
    batch: Option<Uuid>,
    limit: u64,
) -> Result<Vec<stock_movement::Model>, DbErr> {
    let mut q = stock_movement::Entity::find()
        .filter(stock_movement::Column::StoreId.eq(store))
        .order_by_desc(stock_movement::Column::CreatedAt)
        .order_by_desc(stock_movement::Column::Id)
        .limit(limit);
    if let Some(b) = batch {
        q = q.filter(stock_movement::Column::BatchId.eq(b));
    }
    q.all(conn).await
}

/// The movements one source caused (a dispensing's, a receipt's).
pub async fn movements_of_source<C: ConnectionTrait>(
    conn: &C,
    source_type: &str,
    source: Uuid,
) -> Result<Vec<stock_movement::Model>, DbErr> {
    stock_movement::Entity::find()
        .filter(stock_movement::Column::SourceType.eq(source_type))
        .filter(stock_movement::Column::SourceId.eq(source))
        .order_by_asc(stock_movement::Column::Id)
        .all(conn)
        .await
}

/// One store's stock by item: on hand, and what may be given out today (not held, not
/// expired, not reserved). A page of items by name (then id) after `after`: the page's
/// items are found first, walking the items by name and keeping those the store holds
/// (so a page reads fifty items' balances, not the store's hundred thousand), then their
/// balances are summed.
pub async fn position<C: ConnectionTrait>(
    conn: &C,
    store: Uuid,
    today: NaiveDate,
    after: Option<(&str, Uuid)>,
    limit: u64,
) -> Result<Vec<PositionRow>, DbErr> {
    // The page's items.
    let held = Query::select()
        .expr(Expr::val(1))
        .from(stock_balance::Entity)
        .and_where(Expr::col((stock_balance::Entity, stock_balance::Column::StoreId)).eq(store))
        .and_where(
            Expr::col((stock_balance::Entity, stock_balance::Column::ItemId))
                .equals((stock_item::Entity, stock_item::Column::Id)),
        )
        .and_where(Expr::col((stock_balance::Entity, stock_balance::Column::OnHand)).gt(0))
        .to_owned();
    let mut page = stock_item::Entity::find()
        .filter(Expr::exists(held))
        .order_by_asc(stock_item::Column::Name)
        .order_by_asc(stock_item::Column::Id)
        .limit(limit);
    if let Some((name, id)) = after {
        page = page.filter(
            stock_item::Column::Name
                .gt(name)
                .or(stock_item::Column::Name.eq(name).and(stock_item::Column::Id.gt(id))),
        );
    }
    let items = page.all(conn).await?;
    if items.is_empty() {
        return Ok(Vec::new());
    }
    // Their balances, summed by item.
    let bal = Alias::new("bal");
    let bat = Alias::new("bat");
    let usable = Expr::case(
        Expr::col((bat.clone(), stock_batch::Column::Held))
            .eq(false)
            .and(Expr::col((bat.clone(), stock_batch::Column::ExpiryDate)).gte(today)),
        Expr::col((bal.clone(), stock_balance::Column::OnHand))
            .sub(Expr::col((bal.clone(), stock_balance::Column::Reserved))),
    )
    .finally(0);
    let mut q = Query::select();
    // (PostgreSQL sums bigints as numeric: cast back, as SQLite's integers already are.)
    q.expr_as(Expr::col((bal.clone(), stock_balance::Column::ItemId)), Alias::new("item_id"))
        .expr_as(
            Expr::expr(Func::sum(Expr::col((bal.clone(), stock_balance::Column::OnHand))))
                .cast_as(Alias::new("bigint")),
            Alias::new("on_hand"),
        )
        .expr_as(
            Expr::expr(Func::sum(Into::<SimpleExpr>::into(usable))).cast_as(Alias::new("bigint")),
            Alias::new("available"),
        )
        .expr_as(
            Func::min(Expr::col((bat.clone(), stock_batch::Column::ExpiryDate))),
            Alias::new("first_expiry"),
        )
        .expr_as(Func::count(Expr::col((bal.clone(), stock_balance::Column::BatchId))), Alias::new("batches"))
        .from_as(stock_balance::Entity, bal.clone())
        .join_as(
            JoinType::InnerJoin,
            stock_batch::Entity,
            bat.clone(),
            Expr::col((bat.clone(), stock_batch::Column::Id))
                .equals((bal.clone(), stock_balance::Column::BatchId)),
        )
        .and_where(Expr::col((bal.clone(), stock_balance::Column::StoreId)).eq(store))
        .and_where(Expr::col((bal.clone(), stock_balance::Column::ItemId)).is_in(items.iter().map(|i| i.id)))
        .and_where(Expr::col((bal.clone(), stock_balance::Column::OnHand)).gt(0))
        .group_by_col((bal.clone(), stock_balance::Column::ItemId));
    let mut sums = std::collections::HashMap::new();
    for r in conn.query_all(&q).await? {
        let id: Uuid = r.try_get("", "item_id")?;
        let first: Option<NaiveDate> = r.try_get("", "first_expiry")?;
        sums.insert(
            id,
            (
                r.try_get::<i64>("", "on_hand")?,
                r.try_get::<i64>("", "available")?,
                first,
                r.try_get::<i64>("", "batches")?,
            ),
        );
    }
    Ok(items
        .into_iter()
        .filter_map(|i| {
            let (on_hand, available, first_expiry, batches) = sums.remove(&i.id)?;
            Some(PositionRow {
                item_id: i.id,
                name: i.name,
                brand: i.brand,
                base_unit: i.base_unit,
                on_hand,
                available,
                first_expiry,
                batches,
            })
        })
        .collect())
}

/// Every balance against the sum of its movements, and any movements with no balance:
/// what `salus stock verify` and the ledger page report. Returns how many balances and
/// movements were checked, and the mismatches (at most `limit`; the database compares,
/// so memory does not grow with the ledger).
pub async fn verify_ledger<C: ConnectionTrait>(
    conn: &C,
    limit: u64,
) -> Result<(i64, i64, Vec<Mismatch>), DbErr> {
    let sums = Alias::new("sums");
    let mut inner = Query::select();
    inner
        .column(stock_movement::Column::StoreId)
        .column(stock_movement::Column::BatchId)
        .expr_as(
            Expr::expr(Func::sum(Expr::col(stock_movement::Column::Quantity))).cast_as(Alias::new("bigint")),
            Alias::new("total"),
        )
        .from(stock_movement::Entity)
        .group_by_col(stock_movement::Column::StoreId)
        .group_by_col(stock_movement::Column::BatchId);
    let ledger = Func::coalesce([Expr::col((sums.clone(), Alias::new("total"))), Expr::val(0i64)]);
    let mut q = Query::select();
    q.expr_as(Expr::col((stock_balance::Entity, stock_balance::Column::StoreId)), Alias::new("store_id"))
        .expr_as(Expr::col((stock_balance::Entity, stock_balance::Column::BatchId)), Alias::new("batch_id"))
        .expr_as(Expr::col((stock_balance::Entity, stock_balance::Column::OnHand)), Alias::new("on_hand"))
        .expr_as(ledger.clone(), Alias::new("ledger"))
        .from(stock_balance::Entity)
        .join_subquery(
            JoinType::LeftJoin,
            inner.clone(),
            sums.clone(),
            Expr::col((sums.clone(), stock_movement::Column::StoreId))
                .equals((stock_balance::Entity, stock_balance::Column::StoreId))
                .and(
                    Expr::col((sums.clone(), stock_movement::Column::BatchId))
                        .equals((stock_balance::Entity, stock_balance::Column::BatchId)),
                ),
        )
        .and_where(Expr::col((stock_balance::Entity, stock_balance::Column::OnHand)).ne(ledger))
        .limit(limit);
    let mut bad = Vec::new();
    for r in conn.query_all(&q).await? {
        bad.push(Mismatch {
            store_id: r.try_get("", "store_id")?,
            batch_id: r.try_get("", "batch_id")?,
            on_hand: r.try_get("", "on_hand")?,
            ledger: r.try_get("", "ledger")?,
        });
    }
    // Movements of a store and batch that has no balance at all.
    let mut orphans = Query::select();
    orphans
        .column((sums.clone(), Alias::new("store_id")))
        .column((sums.clone(), Alias::new("batch_id")))
        .column((sums.clone(), Alias::new("total")))
        .from_subquery(inner, sums.clone())
        .left_join(
            stock_balance::Entity,
            Expr::col((stock_balance::Entity, stock_balance::Column::StoreId))
                .equals((sums.clone(), Alias::new("store_id")))
                .and(
                    Expr::col((stock_balance::Entity, stock_balance::Column::BatchId))
                        .equals((sums.clone(), Alias::new("batch_id"))),
                ),
        )
        .and_where(Expr::col((stock_balance::Entity, stock_balance::Column::StoreId)).is_null())
        .limit(limit);
    for r in conn.query_all(&orphans).await? {
        bad.push(Mismatch {
            store_id: r.try_get("", "store_id")?,
            batch_id: r.try_get("", "batch_id")?,
            on_hand: 0,
            ledger: r.try_get("", "total")?,
        });
    }
    let count = |table: &'static str| {
        let mut c = Query::select();
        c.expr_as(Func::count(Expr::col(Asterisk)), Alias::new("n")).from(Alias::new(table));
        c
    };
    let balances =
        conn.query_one(&count("stock_balances")).await?.map(|r| r.try_get::<i64>("", "n")).transpose()?;
    let movements =
        conn.query_one(&count("stock_movements")).await?.map(|r| r.try_get::<i64>("", "n")).transpose()?;
    Ok((balances.unwrap_or(0), movements.unwrap_or(0), bad))
}

// ---- Idempotency --------------------------------------------------------------------

pub async fn find_operation<C: ConnectionTrait>(
    conn: &C,
    user: Uuid,
    key: &str,
) -> Result<Option<stock_operation::Model>, DbErr> {
    stock_operation::Entity::find()
        .filter(stock_operation::Column::CreatedBy.eq(user))
        .filter(stock_operation::Column::IdempotencyKey.eq(key))
        .one(conn)
        .await
}

/// Records an operation's key; a unique violation (`stock_operations_key`) means the same
/// key was used first by a request that got there before.
pub async fn insert_operation<C: ConnectionTrait>(
    conn: &C,
    row: stock_operation::Model,
) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

// ---- Alerts -------------------------------------------------------------------------

pub async fn reorder_levels<C: ConnectionTrait>(
    conn: &C,
    store: Uuid,
) -> Result<Vec<stock_reorder_level::Model>, DbErr> {
    stock_reorder_level::Entity::find().filter(stock_reorder_level::Column::StoreId.eq(store)).all(conn).await
}

/// What is on order for a store and still to come, by item: the open purchase orders'
/// lines, ordered less received.
pub async fn on_order<C: ConnectionTrait>(
    conn: &C,
    store: Uuid,
) -> Result<std::collections::HashMap<Uuid, i64>, DbErr> {
    let (l, o) = (Alias::new("l"), Alias::new("o"));
    let mut q = Query::select();
    q.expr_as(Expr::col((l.clone(), purchase_order_line::Column::ItemId)), Alias::new("item_id"))
        .expr_as(
            Expr::expr(Func::sum(
                Expr::col((l.clone(), purchase_order_line::Column::Quantity))
                    .sub(Expr::col((l.clone(), purchase_order_line::Column::Received))),
            ))
            .cast_as(Alias::new("bigint")),
            Alias::new("outstanding"),
        )
        .from_as(purchase_order_line::Entity, l.clone())
        .join_as(
            JoinType::InnerJoin,
            purchase_order::Entity,
            o.clone(),
            Expr::col((o.clone(), purchase_order::Column::Id))
                .equals((l.clone(), purchase_order_line::Column::OrderId)),
        )
        .and_where(Expr::col((o.clone(), purchase_order::Column::StoreId)).eq(store))
        .and_where(
            Expr::col((o.clone(), purchase_order::Column::Status))
                .is_in([PurchaseStatus::Ordered.as_str(), PurchaseStatus::PartiallyReceived.as_str()]),
        )
        .group_by_col((l.clone(), purchase_order_line::Column::ItemId));
    let mut out = std::collections::HashMap::new();
    for r in conn.query_all(&q).await? {
        out.insert(r.try_get::<Uuid>("", "item_id")?, r.try_get::<i64>("", "outstanding")?);
    }
    Ok(out)
}

/// Sets (or replaces) an item's reorder level in a store.
pub async fn set_reorder_level<C: ConnectionTrait>(
    conn: &C,
    row: stock_reorder_level::Model,
) -> Result<(), DbErr> {
    use stock_reorder_level::Column as R;
    stock_reorder_level::Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::columns([R::StoreId, R::ItemId])
                .update_columns([R::ReorderLevel, R::ReorderQuantity, R::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await
        .map(|_| ())
}

/// Batches with stock in `store` that expire by `until` (expired ones too), soonest first.
pub async fn expiring<C: ConnectionTrait>(
    conn: &C,
    store: Uuid,
    until: NaiveDate,
    limit: u64,
) -> Result<Vec<(stock_balance::Model, stock_batch::Model)>, DbErr> {
    let batches: Vec<stock_batch::Model> = stock_batch::Entity::find()
        .filter(stock_batch::Column::ExpiryDate.lte(until))
        .filter(
            stock_batch::Column::Id.in_subquery(
                Query::select()
                    .column(stock_balance::Column::BatchId)
                    .from(stock_balance::Entity)
                    .and_where(Expr::col(stock_balance::Column::StoreId).eq(store))
                    .and_where(Expr::col(stock_balance::Column::OnHand).gt(0))
                    .to_owned(),
            ),
        )
        .order_by_asc(stock_batch::Column::ExpiryDate)
        .limit(limit)
        .all(conn)
        .await?;
    let ids: Vec<Uuid> = batches.iter().map(|b| b.id).collect();
    let balances: std::collections::HashMap<Uuid, stock_balance::Model> = stock_balance::Entity::find()
        .filter(stock_balance::Column::StoreId.eq(store))
        .filter(stock_balance::Column::BatchId.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|b| (b.batch_id, b))
        .collect();
    Ok(batches.into_iter().filter_map(|b| balances.get(&b.id).cloned().map(|bal| (bal, b))).collect())
}

pub async fn prescriptions_by_ids<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> Result<Vec<prescription::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    prescription::Entity::find().filter(prescription::Column::Id.is_in(ids.iter().copied())).all(conn).await
}

/// Sets a store's alert mailbox; the store as it now is.
pub async fn set_alert_email<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    email: Option<&str>,
) -> Result<Option<store::Model>, DbErr> {
    store::Entity::update_many()
        .col_expr(store::Column::AlertEmail, Expr::value(email))
        .col_expr(store::Column::Version, Expr::col(store::Column::Version).add(1))
        .col_expr(store::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(store::Column::Id.eq(id))
        .exec(conn)
        .await?;
    store::Entity::find_by_id(id).one(conn).await
}

/// Refreshes the planner's statistics of the stock tables after a bulk load.
pub async fn analyze<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    crate::dialect::analyze(conn, &["stock_items", "stock_batches", "stock_balances", "stock_movements"])
        .await
}
