//! Stock in and out of stores: goods received (new batches, a warning on short expiry),
//! adjustments with a reason, expiry write-offs, returns to the supplier, holds and
//! recalls, transfers between stores; and what staff read: a store's position, an
//! item's batches, the ledger, low stock and expiry alerts, and the ledger's own check.
//!
//! Every change goes through [`apply`]: for each batch a conditional decrement or an
//! upsert, then its ledger row with the balance it left, all in the caller's transaction.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use salus_core::FieldError;
use salus_core::organisation::parse_label;
use salus_core::pharmacy::{
    Batch, EXPIRY_BANDS, Lot, Movement, MovementKind, StockItem, expiry_band, parse_quantity,
};
use salus_core::pharmacy::{Mismatch, PositionRow};
use salus_db::entity::{stock_batch, stock_item, stock_movement};
use salus_db::pharmacy as q;
use sea_orm::DatabaseTransaction;
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

use super::{Begun, me};
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::{AppError, Ctx};

pub use super::receipts::{ReceiptInput, ReceiptLineInput, Received, SHORT_EXPIRY_DAYS};

/// One change of one batch's stock in one store, before it is applied.
pub(crate) struct Change<'a> {
    pub store: Uuid,
    pub batch: &'a stock_batch::Model,
    /// The item's name and unit, for an "only N left" answer.
    pub item: &'a stock_item::Model,
    /// Signed: positive in, negative out.
    pub quantity: i64,
    pub kind: MovementKind,
    pub reason: Option<String>,
    pub source: (&'static str, Uuid),
    pub patient: Option<Uuid>,
}

impl Change<'_> {
    /// Whether the units go to a patient or another store, which a held or expired batch
    /// never may (a write-off, a return to the supplier or a count may take from one).
    fn must_be_usable(&self) -> bool {
        matches!(
            self.kind,
            MovementKind::Dispense
                | MovementKind::Administration
                | MovementKind::Sale
                | MovementKind::TransferOut
        )
    }
}

/// Applies `changes` in `txn`: each outward one by a conditional decrement (refused,
/// with what is available, if the units are not there, or if the batch was held or
/// expired meanwhile when it goes to a patient or a store), each inward one by an
/// upsert; then writes their ledger rows, each with the balance it left, in the order
/// given. The balances are touched in batch order, so two requests taking the same
/// batches wait for each other rather than deadlock.
pub(crate) async fn apply(
    txn: &DatabaseTransaction,
    changes: &[Change<'_>],
    operation: Uuid,
    by: Uuid,
    today: NaiveDate,
) -> Result<Vec<stock_movement::Model>, AppError> {
    let now = Utc::now();
    let mut order: Vec<usize> = (0..changes.len()).collect();
    order.sort_by_key(|i| (changes[*i].store, changes[*i].batch.id));
    let mut after = vec![0i64; changes.len()];
    for i in order {
        let c = &changes[i];
        after[i] = if c.quantity < 0 {
            let usable = c.must_be_usable().then_some(today);
            match q::take(txn, c.store, c.batch.id, -c.quantity, usable).await? {
                Some(left) => left,
                None => {
                    let now_batch = q::find_batch(txn, c.batch.id).await?;
                    if usable.is_some() && now_batch.as_ref().is_some_and(|b| b.held || b.expiry_date < today)
                    {
                        return Err(AppError::Conflict(format!(
                            "batch {} of {} was held or has expired meanwhile; it is not given",
                            c.batch.batch_no, c.item.name
                        )));
                    }
                    let available = q::balances_of_batch(txn, c.batch.id)
                        .await?
                        .into_iter()
                        .find(|b| b.store_id == c.store)
                        .map_or(0, |b| b.on_hand - b.reserved);
                    return Err(AppError::OutOfStock {
                        what: format!("{} batch {}", c.item.name, c.batch.batch_no),
                        unit: c.item.base_unit.clone(),
                        requested: -c.quantity,
                        available,
                    });
                }
            }
        } else {
            q::put(txn, c.store, c.batch.id, c.batch.item_id, c.quantity).await?
        };
    }
    let rows: Vec<stock_movement::Model> = changes
        .iter()
        .zip(after)
        .map(|(c, after)| stock_movement::Model {
            id: Uuid::now_v7(),
            store_id: c.store,
            batch_id: c.batch.id,
            item_id: c.batch.item_id,
            kind: c.kind,
            quantity: c.quantity,
            balance_after: after,
            reason: c.reason.clone(),
            source_type: c.source.0.into(),
            source_id: c.source.1,
            patient_id: c.patient,
            operation_id: operation,
            created_by: by,
            created_at: now,
        })
        .collect();
    q::insert_movements(txn, rows.clone()).await?;
    Ok(rows)
}

/// A store's low-stock and expiry alerts.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Alerts {
    /// Items whose usable stock is at or below their reorder level.
    pub low: Vec<LowStock>,
    /// Batches with stock expiring within 180 days (or expired), soonest first.
    pub expiring: Vec<Expiring>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LowStock {
    pub item: StockItem,
    pub available: i64,
    pub reorder_level: i64,
    pub reorder_quantity: i64,
    /// Units on open purchase orders for the store, still to come.
    pub on_order: i64,
}

impl LowStock {
    /// What to order now: the reorder quantity less what is already on its way.
    pub fn to_order(&self) -> i64 {
        (self.reorder_quantity - self.on_order).max(0)
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Expiring {
    pub item: StockItem,
    pub lot: Lot,
    /// 0 (expired), 30, 60, 90 or 180 days.
    pub band: i64,
}

/// What the ledger check found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LedgerCheck {
    pub balances: i64,
    pub movements: i64,
    pub mismatches: Vec<Mismatch>,
}

impl crate::Pharmacy<'_> {
    /// The batch and its item, or "not found".
    async fn batch_and_item(&self, batch: Uuid) -> Result<(stock_batch::Model, stock_item::Model), AppError> {
        let conn = self.db.reader();
        let b = q::find_batch(conn, batch).await?.ok_or(AppError::NotFound("batch"))?;
        let i = q::find_item(conn, b.item_id).await?.ok_or(AppError::NotFound("stock item"))?;
        Ok((b, i))
    }

    /// One movement of one batch by hand, outside a document: an adjustment (a signed
    /// quantity, with a reason), an expiry write-off of everything left of an expired
    /// batch, or a return to the supplier (a held batch too: that is what a recall is).
    pub async fn move_by_hand(&self, ctx: &Ctx, key: &str, input: ManualMove) -> Result<Movement, AppError> {
        self.authorize(ctx, Permission::StockManage).await?;
        let request = json!({ "store": input.store_id, "batch": input.batch_id, "kind": input.kind, "quantity": input.quantity, "reason": input.reason });
        if let Some(done) = self.replayed(ctx, key, "manual_move", &request).await? {
            return self.manual_movement(done).await;
        }
        let store = self.active_store(input.store_id).await?;
        let (batch, item) = self.batch_and_item(input.batch_id).await?;
        let reason = parse_label(&input.reason, "reason", 300)
            .map_err(|_| FieldError::new("reason", "say why the stock moves"))?;
        let today = self.today();
        let quantity = match input.kind {
            MovementKind::Adjustment => {
                if input.quantity == 0 {
                    return Err(AppError::field("quantity", "give the units to add (+) or take away (−)"));
                }
                parse_quantity(input.quantity.abs(), "quantity")?;
                input.quantity
            }
            MovementKind::SupplierReturn => -parse_quantity(input.quantity, "quantity")?,
            MovementKind::ExpiryWriteOff => {
                if !batch.expiry_date.lt(&today) {
                    return Err(AppError::field(
                        "batch_id",
                        format!(
                            "batch {} expires on {}; it is not expired yet",
                            batch.batch_no, batch.expiry_date
                        ),
                    ));
                }
                let on_hand = q::balances_of_batch(self.db.reader(), batch.id)
                    .await?
                    .into_iter()
                    .find(|b| b.store_id == store.id)
                    .map_or(0, |b| b.on_hand - b.reserved);
                if on_hand == 0 {
                    return Err(AppError::Conflict(format!(
                        "nothing of batch {} is left here",
                        batch.batch_no
                    )));
                }
                -on_hand
            }
            _ => return Err(AppError::field("kind", "adjustment, supplier_return or expiry_write_off")),
        };
        if quantity > 0 && (batch.expiry_date < today) {
            return Err(AppError::field(
                "quantity",
                format!(
                    "batch {} expired on {}; it cannot be added to stock",
                    batch.batch_no, batch.expiry_date
                ),
            ));
        }
        let id = Uuid::now_v7();
        let (txn, op) = match self.begin_operation(ctx, key, "manual_move", &request, id).await? {
            Begun::Replay(id) => return self.manual_movement(id).await,
            Begun::Fresh(txn, op) => (txn, op),
        };
        let by = me(ctx)?;
        let change = Change {
            store: store.id,
            batch: &batch,
            item: &item,
            quantity,
            kind: input.kind,
            reason: Some(reason.clone()),
            source: ("manual", id),
            patient: None,
        };
        let m = apply(&txn, std::slice::from_ref(&change), op, by, self.today()).await?.remove(0);
        let event = Event::new("stock.move", "stock_batch", Some(batch.id.to_string())).detail(json!({
            "kind": input.kind, "store": store.code, "item": item.name, "batch": batch.batch_no,
            "quantity": quantity, "balance_after": m.balance_after, "reason": reason,
        }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(m.into())
    }

    /// The movement a request by hand made.
    async fn manual_movement(&self, id: Uuid) -> Result<Movement, AppError> {
        Ok(q::movements_of_source(self.db.reader(), "manual", id)
            .await?
            .pop()
            .ok_or(AppError::NotFound("movement"))?
            .into())
    }

    /// Holds a batch (quarantine or recall, with a reason): it is never offered for
    /// dispensing or sale, in any store, until released.
    pub async fn hold_batch(&self, ctx: &Ctx, batch: Uuid, reason: Option<&str>) -> Result<Batch, AppError> {
        self.authorize(ctx, Permission::StockManage).await?;
        let (b, item) = self.batch_and_item(batch).await?;
        let reason = match reason {
            Some(r) => Some(
                parse_label(r, "reason", 300)
                    .map_err(|_| FieldError::new("reason", "say why the batch is held"))?,
            ),
            None => None,
        };
        let by = me(ctx)?;
        let txn = self.db.begin_write().await?;
        if !q::set_batch_held(&txn, batch, reason.as_deref().map(|r| (r, by))).await? {
            return Err(AppError::Conflict(format!(
                "batch {} is already {}",
                b.batch_no,
                if reason.is_some() { "held" } else { "released" }
            )));
        }
        let action = if reason.is_some() { "stock.batch_hold" } else { "stock.batch_release" };
        let event = Event::new(action, "stock_batch", Some(batch.to_string()))
            .detail(json!({ "item": item.name, "batch": b.batch_no, "reason": reason }));
        audit::record(&txn, ctx, event).await?;
        let after = q::find_batch(&txn, batch).await?.ok_or(AppError::NotFound("batch"))?;
        txn.commit().await?;
        Ok(after.into())
    }

    /// A page of a store's stock by item name: on hand and what may be given out today.
    pub async fn position(
        &self,
        ctx: &Ctx,
        store: Uuid,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<PositionRow>, AppError> {
        let after = match after {
            Some(raw) => Some(
                salus_core::pharmacy::parse_position_cursor(raw)
                    .ok_or_else(|| AppError::field("cursor", "is not a cursor this API gave out"))?,
            ),
            None => None,
        };
        self.authorize(ctx, Permission::StockRead).await?;
        self.active_store(store).await?;
        let after = after.as_ref().map(|(name, id)| (name.as_str(), *id));
        Ok(q::position(self.db.reader(), store, self.today(), after, limit).await?)
    }

    /// An item's batches in a store with stock, first expiry first.
    pub async fn lots(&self, ctx: &Ctx, store: Uuid, item: Uuid) -> Result<(StockItem, Vec<Lot>), AppError> {
        self.authorize(ctx, Permission::StockRead).await?;
        let conn = self.db.reader();
        let it = q::find_item(conn, item).await?.ok_or(AppError::NotFound("stock item"))?;
        let lots = self.lots_of(store, &[item]).await?;
        Ok((it.into(), lots))
    }

    /// The lots of these items in a store, first expiry first.
    pub(crate) async fn lots_of(&self, store: Uuid, items: &[Uuid]) -> Result<Vec<Lot>, AppError> {
        let conn = self.db.reader();
        let balances = q::balances(conn, store, items).await?;
        let ids: Vec<Uuid> = balances.iter().map(|b| b.batch_id).collect();
        let batches: HashMap<Uuid, stock_batch::Model> =
            q::batches_by_ids(conn, &ids).await?.into_iter().map(|b| (b.id, b)).collect();
        let mut lots: Vec<Lot> = balances
            .into_iter()
            .filter_map(|b| {
                Some(Lot {
                    store_id: b.store_id,
                    batch: batches.get(&b.batch_id)?.clone().into(),
                    on_hand: b.on_hand,
                    reserved: b.reserved,
                })
            })
            .collect();
        lots.sort_by_key(|l| (l.batch.expiry_date, l.batch.created_at, l.batch.id));
        Ok(lots)
    }

    /// The ledger of a store (or of one batch in it), newest first. Rows that name a
    /// patient are audited as reads of that patient's record.
    pub async fn ledger(
        &self,
        ctx: &Ctx,
        store: Uuid,
        batch: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<Movement>, AppError> {
        self.authorize(ctx, Permission::StockRead).await?;
        self.active_store(store).await?;
        let rows = q::movements(self.db.reader(), store, batch, limit).await?;
        let mut patients: Vec<Uuid> = rows.iter().filter_map(|m| m.patient_id).collect();
        patients.sort();
        patients.dedup();
        if !patients.is_empty() {
            let events = patients
                .iter()
                .map(|p| {
                    audit::row(
                        ctx,
                        Event::new("stock.ledger_read", "store", Some(store.to_string())).patient(*p),
                    )
                })
                .collect();
            self.reads.record(events).await?;
        }
        Ok(crate::records(rows))
    }

    /// What the items and batches of ledger rows are called: item id → its label, batch id
    /// → its number (for a page showing the ledger).
    pub async fn ledger_names(
        &self,
        ctx: &Ctx,
        rows: &[Movement],
    ) -> Result<HashMap<Uuid, String>, AppError> {
        self.authorize(ctx, Permission::StockRead).await?;
        let conn = self.db.reader();
        let mut items: Vec<Uuid> = rows.iter().map(|m| m.item_id).collect();
        let mut batches: Vec<Uuid> = rows.iter().map(|m| m.batch_id).collect();
        items.sort();
        items.dedup();
        batches.sort();
        batches.dedup();
        let (items, batches) =
            tokio::try_join!(q::items_by_ids(conn, &items), q::batches_by_ids(conn, &batches))?;
        let mut names: HashMap<Uuid, String> =
            items.into_iter().map(|i| (i.id, StockItem::from(i).label())).collect();
        names.extend(batches.into_iter().map(|b| (b.id, b.batch_no)));
        Ok(names)
    }

    /// A store's alerts: items at or below their reorder level, and batches with stock
    /// expiring within 180 days or already expired.
    pub async fn alerts(&self, ctx: &Ctx, store: Uuid) -> Result<Alerts, AppError> {
        self.authorize(ctx, Permission::StockRead).await?;
        self.active_store(store).await?;
        self.store_alerts(store).await
    }

    /// A store's alerts, for whoever is allowed to see them (the page, the daily mail).
    pub(crate) async fn store_alerts(&self, store: Uuid) -> Result<Alerts, AppError> {
        let conn = self.db.reader();
        let today = self.today();
        let horizon = today + Duration::days(EXPIRY_BANDS[EXPIRY_BANDS.len() - 1]);
        let (levels, expiring, on_order) = tokio::try_join!(
            q::reorder_levels(conn, store),
            q::expiring(conn, store, horizon, 500),
            q::on_order(conn, store)
        )?;
        let level_items: Vec<Uuid> = levels.iter().map(|l| l.item_id).collect();
        let lots = self.lots_of(store, &level_items).await?;
        let mut usable: HashMap<Uuid, i64> = HashMap::new();
        for l in lots.iter().filter(|l| l.offerable(today)) {
            *usable.entry(l.batch.item_id).or_default() += l.available();
        }
        let mut item_ids = level_items.clone();
        item_ids.extend(expiring.iter().map(|(_, b)| b.item_id));
        item_ids.sort();
        item_ids.dedup();
        let items: HashMap<Uuid, StockItem> =
            q::items_by_ids(conn, &item_ids).await?.into_iter().map(|i| (i.id, i.into())).collect();
        let mut low: Vec<LowStock> = levels
            .into_iter()
            .filter_map(|l| {
                let available = usable.get(&l.item_id).copied().unwrap_or(0);
                if available > l.reorder_level {
                    return None;
                }
                Some(LowStock {
                    item: items.get(&l.item_id)?.clone(),
                    available,
                    reorder_level: l.reorder_level,
                    reorder_quantity: l.reorder_quantity,
                    on_order: on_order.get(&l.item_id).copied().unwrap_or(0),
                })
            })
            .collect();
        low.sort_by(|a, b| a.item.name.cmp(&b.item.name));
        let expiring = expiring
            .into_iter()
            .filter_map(|(bal, b)| {
                let band = expiry_band(b.expiry_date, today)?;
                Some(Expiring {
                    item: items.get(&b.item_id)?.clone(),
                    lot: Lot {
                        store_id: bal.store_id,
                        batch: b.into(),
                        on_hand: bal.on_hand,
                        reserved: bal.reserved,
                    },
                    band,
                })
            })
            .collect();
        Ok(Alerts { low, expiring })
    }

    /// Checks that every balance is the sum of its ledger: what `salus stock verify`
    /// and the ledger page report.
    pub async fn verify_ledger(&self, ctx: &Ctx) -> Result<LedgerCheck, AppError> {
        self.authorize(ctx, Permission::StockRead).await?;
        let (balances, movements, mismatches) = q::verify_ledger(self.db.reader(), 1_000).await?;
        Ok(LedgerCheck { balances, movements, mismatches })
    }
}

/// A movement by hand.
#[derive(Debug, Clone)]
pub struct ManualMove {
    pub store_id: Uuid,
    pub batch_id: Uuid,
    /// adjustment, supplier_return or expiry_write_off.
    pub kind: MovementKind,
    /// Signed for an adjustment; the units sent back for a supplier return; ignored for
    /// a write-off (everything left goes).
    pub quantity: i64,
    pub reason: String,
}

/// When a time falls on `today` in UTC (the day's dispensings).
pub fn day_bounds(day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    (start, start + Duration::days(1))
}
