//! Goods received from a supplier: each line a batch (new, or more of one on file with the
//! same expiry) and a receipt movement; expired stock refused, short expiry confirmed.

use chrono::{Datelike, NaiveDate, Utc};
use salus_core::FieldError;
use salus_core::organisation::{parse_label, parse_optional_label};
use salus_core::pharmacy::{Batch, GoodsReceipt, Movement, MovementKind, PurchaseStatus, parse_quantity};
use salus_db::ResultExt;
use salus_db::entity::{goods_receipt, stock_batch, stock_item};
use salus_db::pharmacy as q;
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

use super::orders::check_against_order;
use super::stock::{Change, apply};
use super::{Begun, me};
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::{AppError, Ctx};

/// Receiving stock that expires within this many days asks for a reason first.
pub const SHORT_EXPIRY_DAYS: i64 = 90;

/// One line of a delivery.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReceiptLineInput {
    pub item_id: Uuid,
    pub batch_no: String,
    pub expiry_date: Option<NaiveDate>,
    /// Units invoiced.
    pub quantity: i64,
    /// Units given free on top.
    pub free_quantity: i64,
    /// Cost per base unit, in minor units.
    pub cost_minor: i64,
    /// Sale price per base unit, in minor units.
    pub sale_price_minor: i64,
}

/// A delivery as the store enters it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReceiptInput {
    pub store_id: Uuid,
    pub supplier_id: Option<Uuid>,
    /// The purchase order this delivery fills: its units (free ones apart) count on the
    /// order's lines, never past what was ordered.
    pub order_id: Option<Uuid>,
    pub invoice_no: String,
    pub lines: Vec<ReceiptLineInput>,
    /// Given to go ahead when a batch expires within [`SHORT_EXPIRY_DAYS`].
    pub short_expiry_reason: String,
}

/// A delivery with its batches and ledger rows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Received {
    pub receipt: GoodsReceipt,
    pub lines: Vec<(Batch, Movement)>,
}

impl crate::Pharmacy<'_> {
    /// Receives a delivery into a store: each line a batch (new, or more of one on file
    /// with the same expiry) and a receipt movement of its units and free units. A batch
    /// already expired is refused; one expiring within 90 days needs a stated reason.
    pub async fn receive(&self, ctx: &Ctx, key: &str, input: ReceiptInput) -> Result<Received, AppError> {
        self.authorize(ctx, Permission::StockManage).await?;
        let request = serde_json::to_value(&input).unwrap_or_default();
        if let Some(done) = self.replayed(ctx, key, "receive", &request).await? {
            return self.received(done).await;
        }
        let store = self.active_store(input.store_id).await?;
        let conn = self.db.reader();
        let today = self.today();
        let mut errors = Vec::new();
        if let Some(s) = input.supplier_id
            && q::find_supplier(conn, s).await?.is_none()
        {
            errors.push(FieldError::new("supplier_id", "choose a supplier on file"));
        }
        let invoice_no = parse_optional_label(&input.invoice_no, "invoice_no", 40)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        if input.lines.is_empty() {
            errors.push(FieldError::new("lines", "enter at least one line"));
        }
        let ids: Vec<Uuid> = input.lines.iter().map(|l| l.item_id).collect();
        let items: HashMap<Uuid, stock_item::Model> =
            q::items_by_ids(conn, &ids).await?.into_iter().map(|i| (i.id, i)).collect();
        let mut warnings = Vec::new();
        let mut checked: Vec<(
            stock_item::Model,
            String,
            NaiveDate,
            Option<stock_batch::Model>,
            ReceiptLineInput,
        )> = Vec::new();
        for (n, l) in input.lines.iter().enumerate() {
            let line = |msg: String| FieldError::new("lines", format!("line {}: {msg}", n + 1));
            let Some(item) = items.get(&l.item_id).filter(|i| i.active) else {
                errors.push(line("choose an active stock item".into()));
                continue;
            };
            let batch_no = match parse_label(&l.batch_no, "batch_no", 40) {
                Ok(b) => b.to_uppercase(),
                Err(_) => {
                    errors.push(line("give the batch number on the pack".into()));
                    continue;
                }
            };
            let Some(expiry) = l.expiry_date else {
                errors.push(line("give the expiry date on the pack".into()));
                continue;
            };
            if expiry < today {
                errors.push(line(format!(
                    "batch {batch_no} expired on {expiry}; expired stock is not received"
                )));
                continue;
            }
            if l.quantity < 0 || l.free_quantity < 0 || l.quantity + l.free_quantity == 0 {
                errors.push(line("give the units received (free ones apart)".into()));
                continue;
            }
            if let Err(e) = parse_quantity(l.quantity + l.free_quantity, "quantity") {
                errors.push(line(e.message));
                continue;
            }
            if l.cost_minor < 0 || l.sale_price_minor < 0 {
                errors.push(line("prices are zero or more".into()));
                continue;
            }
            if checked.iter().any(|c| c.0.id == item.id && c.1 == batch_no) {
                errors.push(line(format!(
                    "batch {batch_no} is on another line: give it once, with all its units"
                )));
                continue;
            }
            let existing = q::find_batch_by_no(conn, item.id, &batch_no).await?;
            if let Some(b) = &existing
                && b.expiry_date != expiry
            {
                errors.push(line(format!(
                    "batch {batch_no} is on file expiring {}; check the pack",
                    b.expiry_date
                )));
                continue;
            }
            let days = (expiry - today).num_days();
            if days <= SHORT_EXPIRY_DAYS {
                warnings.push(format!("{} batch {batch_no} expires on {expiry}, in {days} days", item.name));
            }
            checked.push((item.clone(), batch_no, expiry, existing, l.clone()));
        }
        // A delivery against an order: the order's store and supplier, its items, at most
        // what is left to come.
        let mut supplier_id = input.supplier_id;
        let mut on_order = None;
        if let Some(order_id) = input.order_id {
            match q::find_order(conn, order_id).await? {
                None => errors.push(FieldError::new("order_id", "choose a purchase order on file")),
                Some(order) => {
                    let lines = q::order_lines(conn, order.id).await?;
                    let received: Vec<(Uuid, &str, i64)> =
                        checked.iter().map(|c| (c.0.id, c.0.name.as_str(), c.4.quantity)).collect();
                    let by_item =
                        check_against_order(&order, &lines, store.id, supplier_id, &received, &mut errors);
                    supplier_id = Some(order.supplier_id);
                    on_order = Some((order, by_item));
                }
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let reason = parse_optional_label(&input.short_expiry_reason, "short_expiry_reason", 300)?;
        if !warnings.is_empty() && reason.is_none() {
            return Err(AppError::ClinicalWarnings(warnings));
        }

        let id = Uuid::now_v7();
        let (txn, op) = match self.begin_operation(ctx, key, "receive", &request, id).await? {
            Begun::Replay(id) => return self.received(id).await,
            Begun::Fresh(txn, op) => (txn, op),
        };
        let by = me(ctx)?;
        let now = Utc::now();
        let number = salus_db::laboratory::next_accession(&txn, &format!("GR{}", now.year())).await?;
        let receipt = goods_receipt::Model {
            id,
            number: salus_core::pharmacy::document_number("GR", now.year(), number),
            store_id: store.id,
            supplier_id,
            invoice_no,
            order_id: on_order.as_ref().map(|(o, _)| o.id),
            received_by: by,
            received_at: now,
        };
        q::insert_receipt(&txn, receipt.clone()).await?;
        let mut batches = Vec::new();
        for (item, batch_no, expiry, existing, l) in &checked {
            let batch = match existing {
                Some(b) => b.clone(),
                None => {
                    let b = stock_batch::Model {
                        id: Uuid::now_v7(),
                        item_id: item.id,
                        batch_no: batch_no.clone(),
                        expiry_date: *expiry,
                        cost_minor: l.cost_minor,
                        sale_price_minor: l.sale_price_minor,
                        supplier_id,
                        held: false,
                        hold_reason: None,
                        held_by: None,
                        held_at: None,
                        created_at: now,
                        version: 1,
                    };
                    q::insert_batch(&txn, b.clone()).await.on_unique(
                        "stock_batches_item_batch_key",
                        "stock_batches.batch_no",
                        || {
                            AppError::Conflict(format!(
                                "batch {batch_no} was just received by someone else; enter it again"
                            ))
                        },
                    )?;
                    b
                }
            };
            batches.push(batch);
        }
        let changes: Vec<Change> = checked
            .iter()
            .zip(&batches)
            .map(|((item, _, _, _, l), b)| Change {
                store: store.id,
                batch: b,
                item,
                quantity: l.quantity + l.free_quantity,
                kind: MovementKind::Receipt,
                reason: reason.clone().filter(|_| !warnings.is_empty()),
                source: ("goods_receipt", id),
                patient: None,
            })
            .collect();
        let moved = apply(&txn, &changes, op, by, self.today()).await?;
        if let Some((order, by_item)) = &on_order {
            count_on_order(&txn, order, by_item, &checked).await?;
        }
        let event = Event::new("stock.receive", "goods_receipt", Some(id.to_string())).detail(json!({
            "number": receipt.number,
            "store": store.code,
            "order": on_order.as_ref().map(|(o, _)| o.number.clone()),
            "lines": moved.iter().zip(&batches).map(|(m, b)| json!({
                "item_id": b.item_id, "batch": b.batch_no, "expiry": b.expiry_date, "quantity": m.quantity,
            })).collect::<Vec<_>>(),
            "short_expiry": warnings,
            "short_expiry_reason": reason.filter(|_| !warnings.is_empty()),
        }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(Received {
            receipt: receipt.into(),
            lines: batches.into_iter().map(Into::into).zip(moved.into_iter().map(Into::into)).collect(),
        })
    }

    /// A delivery as it was received.
    async fn received(&self, id: Uuid) -> Result<Received, AppError> {
        let conn = self.db.reader();
        let receipt = q::find_receipt(conn, id).await?.ok_or(AppError::NotFound("goods receipt"))?;
        let moved = q::movements_of_source(conn, "goods_receipt", id).await?;
        let ids: Vec<Uuid> = moved.iter().map(|m| m.batch_id).collect();
        let batches: HashMap<Uuid, stock_batch::Model> =
            q::batches_by_ids(conn, &ids).await?.into_iter().map(|b| (b.id, b)).collect();
        Ok(Received {
            receipt: receipt.into(),
            lines: moved
                .into_iter()
                .filter_map(|m| Some((batches.get(&m.batch_id)?.clone().into(), m.into())))
                .collect(),
        })
    }

    /// A delivery (staff who see stock).
    pub async fn receipt(&self, ctx: &Ctx, id: Uuid) -> Result<Received, AppError> {
        self.authorize(ctx, Permission::StockRead).await?;
        self.received(id).await
    }
}

/// Counts a delivery's units on its order's lines and moves the order on (partially
/// received, or received once every line is full), in the delivery's transaction. A
/// line that would go past what was ordered — another delivery got there first — or an
/// order closed meanwhile refuses the whole delivery.
async fn count_on_order(
    txn: &salus_db::DatabaseTransaction,
    order: &salus_db::entity::purchase_order::Model,
    by_item: &HashMap<Uuid, Uuid>,
    checked: &[(stock_item::Model, String, NaiveDate, Option<stock_batch::Model>, ReceiptLineInput)],
) -> Result<(), AppError> {
    let mut totals: HashMap<Uuid, i64> = HashMap::new();
    for c in checked {
        *totals.entry(by_item[&c.0.id]).or_default() += c.4.quantity;
    }
    let changed =
        || AppError::Conflict(format!("order {} was received or closed meanwhile; look again", order.number));
    for (line, n) in totals {
        if n > 0 && !q::receive_on_line(txn, line, n).await? {
            return Err(changed());
        }
    }
    let lines: Vec<salus_core::pharmacy::OrderLine> = crate::records(q::order_lines(txn, order.id).await?);
    let status = salus_core::pharmacy::purchase_status(&lines);
    let open = [PurchaseStatus::Ordered, PurchaseStatus::PartiallyReceived];
    if !q::move_order(txn, order.id, &open, status, None).await? {
        return Err(changed());
    }
    Ok(())
}
