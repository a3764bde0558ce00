//! Purchase orders: what a store asked a supplier for, at what cost, and how much of it
//! has come. Deliveries received against an order count their units on its lines —
//! never past what was ordered (a check in the database, and a conditional update) — and
//! move it from ordered to partially received to received. An order the rest of which
//! will not come is closed with a reason.

use chrono::{Datelike, NaiveDate, Utc};
use salus_core::FieldError;
use salus_core::organisation::parse_optional_label;
use salus_core::pharmacy::{GoodsReceipt, OrderLine, PurchaseOrder, PurchaseStatus, parse_quantity};
use salus_db::entity::{purchase_order, purchase_order_line, stock_item};
use salus_db::pharmacy as q;
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

use super::{Begun, me};
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::{AppError, Ctx};

/// One item to order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OrderLineInput {
    pub item_id: Uuid,
    /// Base units.
    pub quantity: i64,
    /// Agreed cost per base unit, in minor units.
    pub cost_minor: i64,
}

/// An order as the store writes it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OrderInput {
    pub supplier_id: Option<Uuid>,
    pub store_id: Uuid,
    pub expected_on: Option<NaiveDate>,
    pub note: String,
    pub lines: Vec<OrderLineInput>,
}

/// An order with its lines and the deliveries received against it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OrderDetail {
    pub order: PurchaseOrder,
    pub lines: Vec<OrderLine>,
    pub receipts: Vec<GoodsReceipt>,
}

impl OrderDetail {
    /// The order's value at the agreed costs, in minor units.
    pub fn total_minor(&self) -> i64 {
        self.lines.iter().map(|l| l.quantity * l.cost_minor).sum()
    }
}

impl crate::Pharmacy<'_> {
    /// Places an order with a supplier for delivery into a store. Keyed like a stock
    /// change: the same submission twice places one order.
    pub async fn create_order(
        &self,
        ctx: &Ctx,
        key: &str,
        input: OrderInput,
    ) -> Result<OrderDetail, AppError> {
        self.authorize(ctx, Permission::StockManage).await?;
        let request = serde_json::to_value(&input).unwrap_or_default();
        if let Some(done) = self.replayed(ctx, key, "order", &request).await? {
            return self.order_detail(done).await;
        }
        let store = self.active_store(input.store_id).await?;
        let conn = self.db.reader();
        let mut errors = Vec::new();
        let supplier = match input.supplier_id {
            Some(s) => q::find_supplier(conn, s).await?.filter(|s| s.active),
            None => None,
        };
        if supplier.is_none() {
            errors.push(FieldError::new("supplier_id", "choose an active supplier"));
        }
        let note = parse_optional_label(&input.note, "note", 300).map_err(|e| errors.push(e)).ok().flatten();
        if input.expected_on.is_some_and(|d| d < self.today()) {
            errors.push(FieldError::new("expected_on", "the expected date is today or later"));
        }
        if input.lines.is_empty() {
            errors.push(FieldError::new("lines", "enter at least one line"));
        }
        let ids: Vec<Uuid> = input.lines.iter().map(|l| l.item_id).collect();
        let items: HashMap<Uuid, stock_item::Model> =
            q::items_by_ids(conn, &ids).await?.into_iter().map(|i| (i.id, i)).collect();
        for (n, l) in input.lines.iter().enumerate() {
            let line = |msg: String| FieldError::new("lines", format!("line {}: {msg}", n + 1));
            match items.get(&l.item_id) {
                Some(i) if i.active => {
                    if input.lines[..n].iter().any(|o| o.item_id == l.item_id) {
                        errors.push(line(format!("{} is on another line: order it once", i.name)));
                    }
                }
                _ => errors.push(line("choose an active stock item".into())),
            }
            if let Err(e) = parse_quantity(l.quantity, "quantity") {
                errors.push(line(e.message));
            }
            if l.cost_minor < 0 {
                errors.push(line("the cost is zero or more".into()));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let supplier = supplier.ok_or(AppError::NotFound("supplier"))?;

        let id = Uuid::now_v7();
        let (txn, _) = match self.begin_operation(ctx, key, "order", &request, id).await? {
            Begun::Replay(id) => return self.order_detail(id).await,
            Begun::Fresh(txn, op) => (txn, op),
        };
        let now = Utc::now();
        let n = salus_db::laboratory::next_accession(&txn, &format!("PO{}", now.year())).await?;
        let order = purchase_order::Model {
            id,
            number: salus_core::pharmacy::document_number("PO", now.year(), n),
            supplier_id: supplier.id,
            store_id: store.id,
            status: PurchaseStatus::Ordered,
            expected_on: input.expected_on,
            note,
            ordered_by: me(ctx)?,
            ordered_at: now,
            closed_by: None,
            closed_at: None,
            close_reason: None,
            version: 1,
        };
        let lines: Vec<purchase_order_line::Model> = input
            .lines
            .iter()
            .map(|l| purchase_order_line::Model {
                id: Uuid::now_v7(),
                order_id: id,
                item_id: l.item_id,
                quantity: l.quantity,
                received: 0,
                cost_minor: l.cost_minor,
            })
            .collect();
        q::insert_order(&txn, order.clone(), lines.clone()).await?;
        let event = Event::new("stock.order", "purchase_order", Some(id.to_string())).detail(json!({
            "number": order.number,
            "supplier": supplier.name,
            "store": store.code,
            "lines": lines.iter().map(|l| json!({ "item_id": l.item_id, "quantity": l.quantity, "cost_minor": l.cost_minor })).collect::<Vec<_>>(),
        }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(OrderDetail {
            order: order.into(),
            lines: lines.into_iter().map(Into::into).collect(),
            receipts: Vec::new(),
        })
    }

    /// Closes an open order: the rest will not come. With nothing received it is, in
    /// effect, cancelled; the reason says which.
    pub async fn close_order(&self, ctx: &Ctx, id: Uuid, reason: &str) -> Result<OrderDetail, AppError> {
        self.authorize(ctx, Permission::StockManage).await?;
        let reason = parse_optional_label(reason, "reason", 300)?
            .ok_or_else(|| AppError::field("reason", "say why the rest of the order will not come"))?;
        let order = q::find_order(self.db.reader(), id).await?.ok_or(AppError::NotFound("purchase order"))?;
        if !order.status.is_open() {
            return Err(AppError::Conflict(format!("order {} is already {}", order.number, order.status)));
        }
        let txn = self.db.begin_write().await?;
        let open = [PurchaseStatus::Ordered, PurchaseStatus::PartiallyReceived];
        if !q::move_order(&txn, id, &open, PurchaseStatus::Closed, Some((me(ctx)?, &reason))).await? {
            return Err(AppError::Conflict(format!(
                "order {} was changed meanwhile; look again",
                order.number
            )));
        }
        let event = Event::new("stock.order_close", "purchase_order", Some(id.to_string()))
            .detail(json!({ "number": order.number, "reason": reason, "was": order.status }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        self.order_detail(id).await
    }

    /// Orders, newest first: the open ones, or all (staff who see stock); a page of
    /// `limit` after `offset`, and whether more follow.
    pub async fn orders(
        &self,
        ctx: &Ctx,
        open: bool,
        limit: u64,
        offset: u64,
    ) -> Result<(Vec<PurchaseOrder>, bool), AppError> {
        self.authorize(ctx, Permission::StockRead).await?;
        let limit = limit.clamp(1, 200);
        let mut rows = q::orders(self.db.reader(), open, limit + 1, offset).await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        Ok((crate::records(rows), more))
    }

    /// An order with its lines and deliveries (staff who see stock).
    pub async fn order(&self, ctx: &Ctx, id: Uuid) -> Result<OrderDetail, AppError> {
        self.authorize(ctx, Permission::StockRead).await?;
        self.order_detail(id).await
    }

    pub(crate) async fn order_detail(&self, id: Uuid) -> Result<OrderDetail, AppError> {
        let conn = self.db.reader();
        let order = q::find_order(conn, id).await?.ok_or(AppError::NotFound("purchase order"))?;
        let lines = q::order_lines(conn, id).await?;
        let receipts = q::receipts_of_order(conn, id).await?;
        Ok(OrderDetail {
            order: order.into(),
            lines: crate::records(lines),
            receipts: crate::records(receipts),
        })
    }
}

/// What a delivery against an order must agree with, checked before it is written: the
/// order is open, for this store and supplier, and each item on it with enough left to
/// receive. Returns the order's lines to count the units on, by item.
pub(super) fn check_against_order(
    order: &purchase_order::Model,
    lines: &[purchase_order_line::Model],
    store: Uuid,
    supplier: Option<Uuid>,
    received: &[(Uuid, &str, i64)],
    errors: &mut Vec<FieldError>,
) -> HashMap<Uuid, Uuid> {
    if !order.status.is_open() {
        errors.push(FieldError::new(
            "order_id",
            format!("order {} is {}; nothing more is received on it", order.number, order.status),
        ));
        return HashMap::new();
    }
    if order.store_id != store {
        errors.push(FieldError::new(
            "store_id",
            format!("order {} is delivered to another store", order.number),
        ));
    }
    if supplier.is_some_and(|s| s != order.supplier_id) {
        errors
            .push(FieldError::new("supplier_id", format!("order {} is with another supplier", order.number)));
    }
    let mut totals: HashMap<Uuid, i64> = HashMap::new();
    for (item, _, n) in received {
        *totals.entry(*item).or_default() += n;
    }
    let mut by_item = HashMap::new();
    for (item, name, _) in received {
        if by_item.contains_key(item) {
            continue;
        }
        match lines.iter().find(|l| l.item_id == *item) {
            None => errors.push(FieldError::new("lines", format!("{name} is not on order {}", order.number))),
            Some(l) => {
                let total = totals[item];
                let left = l.quantity - l.received;
                if total > left {
                    errors.push(FieldError::new(
                        "lines",
                        format!(
                            "{name}: {} ordered, {} received so far, so at most {left} more (free units apart); {total} entered",
                            l.quantity, l.received
                        ),
                    ));
                }
                by_item.insert(*item, l.id);
            }
        }
    }
    by_item
}
