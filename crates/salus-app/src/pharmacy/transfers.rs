//! Transfers between stores: taken out of the sending store at once (in transit), put
//! into the receiving one when it is received there — once.

use chrono::{Datelike, Utc};
use salus_core::FieldError;
use salus_core::pharmacy::{MovementKind, Transfer, TransferLine, TransferStatus, parse_quantity};
use salus_db::entity::{stock_batch, stock_item, stock_transfer, stock_transfer_line};
use salus_db::pharmacy as q;
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

use super::stock::{Change, apply};
use super::{Begun, me};
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::{AppError, Ctx};

/// A transfer with its lines.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TransferDetail {
    pub transfer: Transfer,
    pub lines: Vec<TransferLine>,
}

/// One batch's units to send.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TransferLineInput {
    pub batch_id: Uuid,
    pub quantity: i64,
}

impl crate::Pharmacy<'_> {
    /// Sends stock from one store to another: taken out of the sender at once (in
    /// transit), put into the receiver when it is received there.
    pub async fn issue_transfer(
        &self,
        ctx: &Ctx,
        key: &str,
        from: Uuid,
        to: Uuid,
        lines: Vec<TransferLineInput>,
    ) -> Result<TransferDetail, AppError> {
        self.authorize(ctx, Permission::StockManage).await?;
        let request = json!({ "from": from, "to": to, "lines": lines });
        if let Some(done) = self.replayed(ctx, key, "transfer", &request).await? {
            return self.transfer_detail(done).await;
        }
        let sender = self.active_store(from).await?;
        let receiver = self
            .active_store(to)
            .await
            .map_err(|_| AppError::field("to_store_id", "choose another active store"))?;
        if sender.id == receiver.id {
            return Err(AppError::field("to_store_id", "choose a store other than the sending one"));
        }
        if lines.is_empty() {
            return Err(AppError::field("lines", "enter at least one line"));
        }
        let conn = self.db.reader();
        let ids: Vec<Uuid> = lines.iter().map(|l| l.batch_id).collect();
        let batches: HashMap<Uuid, stock_batch::Model> =
            q::batches_by_ids(conn, &ids).await?.into_iter().map(|b| (b.id, b)).collect();
        let item_ids: Vec<Uuid> = batches.values().map(|b| b.item_id).collect();
        let items: HashMap<Uuid, stock_item::Model> =
            q::items_by_ids(conn, &item_ids).await?.into_iter().map(|i| (i.id, i)).collect();
        let today = self.today();
        let mut errors = Vec::new();
        for (n, l) in lines.iter().enumerate() {
            let line = |msg: String| FieldError::new("lines", format!("line {}: {msg}", n + 1));
            match batches.get(&l.batch_id) {
                None => errors.push(line("choose a batch on file".into())),
                Some(b) if b.held => errors.push(line(format!("batch {} is held", b.batch_no))),
                Some(b) if b.expiry_date < today => {
                    errors.push(line(format!("batch {} expired on {}", b.batch_no, b.expiry_date)))
                }
                Some(_) => {}
            }
            if let Err(e) = parse_quantity(l.quantity, "quantity") {
                errors.push(line(e.message));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let id = Uuid::now_v7();
        let (txn, op) = match self.begin_operation(ctx, key, "transfer", &request, id).await? {
            Begun::Replay(id) => return self.transfer_detail(id).await,
            Begun::Fresh(txn, op) => (txn, op),
        };
        let by = me(ctx)?;
        let now = Utc::now();
        let n = salus_db::laboratory::next_accession(&txn, &format!("T{}", now.year())).await?;
        let row = stock_transfer::Model {
            id,
            number: salus_core::pharmacy::document_number("T", now.year(), n),
            from_store_id: sender.id,
            to_store_id: receiver.id,
            status: TransferStatus::Issued,
            issued_by: by,
            issued_at: now,
            received_by: None,
            received_at: None,
            version: 1,
        };
        let line_rows: Vec<stock_transfer_line::Model> = lines
            .iter()
            .filter_map(|l| {
                let b = batches.get(&l.batch_id)?;
                Some(stock_transfer_line::Model {
                    id: Uuid::now_v7(),
                    transfer_id: id,
                    item_id: b.item_id,
                    batch_id: b.id,
                    quantity: l.quantity,
                })
            })
            .collect();
        q::insert_transfer(&txn, row.clone(), line_rows.clone()).await?;
        let changes: Vec<Change> = line_rows
            .iter()
            .filter_map(|l| {
                Some(Change {
                    store: sender.id,
                    batch: batches.get(&l.batch_id)?,
                    item: items.get(&l.item_id)?,
                    quantity: -l.quantity,
                    kind: MovementKind::TransferOut,
                    reason: None,
                    source: ("stock_transfer", id),
                    patient: None,
                })
            })
            .collect();
        apply(&txn, &changes, op, by, self.today()).await?;
        let event =
            Event::new("stock.transfer_issue", "stock_transfer", Some(id.to_string())).detail(json!({
                "number": row.number, "from": sender.code, "to": receiver.code, "lines": line_rows.len(),
            }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(TransferDetail { transfer: row.into(), lines: crate::records(line_rows) })
    }

    /// Receives a transfer into its store: once (a second receipt is refused, not doubled).
    pub async fn receive_transfer(&self, ctx: &Ctx, key: &str, id: Uuid) -> Result<TransferDetail, AppError> {
        let outcome = self.receive_transfer_once(ctx, key, id).await;
        let request = json!({ "transfer": id });
        self.unless_replayed(ctx, key, "transfer_receive", &request, outcome, |done| {
            self.transfer_detail(done)
        })
        .await
    }

    async fn receive_transfer_once(
        &self,
        ctx: &Ctx,
        key: &str,
        id: Uuid,
    ) -> Result<TransferDetail, AppError> {
        self.authorize(ctx, Permission::StockManage).await?;
        if let Some(done) = self.replayed(ctx, key, "transfer_receive", &json!({ "transfer": id })).await? {
            return self.transfer_detail(done).await;
        }
        let detail = self.transfer_detail(id).await?;
        if detail.transfer.status != TransferStatus::Issued {
            return Err(AppError::Conflict(format!(
                "transfer {} is already received",
                detail.transfer.number
            )));
        }
        let conn = self.db.reader();
        let ids: Vec<Uuid> = detail.lines.iter().map(|l| l.batch_id).collect();
        let batches: HashMap<Uuid, stock_batch::Model> =
            q::batches_by_ids(conn, &ids).await?.into_iter().map(|b| (b.id, b)).collect();
        let item_ids: Vec<Uuid> = detail.lines.iter().map(|l| l.item_id).collect();
        let items: HashMap<Uuid, stock_item::Model> =
            q::items_by_ids(conn, &item_ids).await?.into_iter().map(|i| (i.id, i)).collect();
        let (txn, op) =
            match self.begin_operation(ctx, key, "transfer_receive", &json!({ "transfer": id }), id).await? {
                Begun::Replay(id) => return self.transfer_detail(id).await,
                Begun::Fresh(txn, op) => (txn, op),
            };
        let by = me(ctx)?;
        if !q::receive_transfer(&txn, id, by).await? {
            return Err(AppError::Conflict(format!(
                "transfer {} is already received",
                detail.transfer.number
            )));
        }
        let changes: Vec<Change> = detail
            .lines
            .iter()
            .filter_map(|l| {
                Some(Change {
                    store: detail.transfer.to_store_id,
                    batch: batches.get(&l.batch_id)?,
                    item: items.get(&l.item_id)?,
                    quantity: l.quantity,
                    kind: MovementKind::TransferIn,
                    reason: None,
                    source: ("stock_transfer", id),
                    patient: None,
                })
            })
            .collect();
        apply(&txn, &changes, op, by, self.today()).await?;
        let event = Event::new("stock.transfer_receive", "stock_transfer", Some(id.to_string()))
            .detail(json!({ "number": detail.transfer.number }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        self.transfer_detail(id).await
    }

    async fn transfer_detail(&self, id: Uuid) -> Result<TransferDetail, AppError> {
        let conn = self.db.reader();
        let t = q::find_transfer(conn, id).await?.ok_or(AppError::NotFound("transfer"))?;
        let lines = q::transfer_lines(conn, id).await?;
        Ok(TransferDetail { transfer: t.into(), lines: crate::records(lines) })
    }

    /// A transfer (staff who see stock).
    pub async fn transfer(&self, ctx: &Ctx, id: Uuid) -> Result<TransferDetail, AppError> {
        self.authorize(ctx, Permission::StockRead).await?;
        self.transfer_detail(id).await
    }

    /// Transfers into or out of a store still in transit.
    pub async fn transfers_in_transit(&self, ctx: &Ctx, store: Uuid) -> Result<Vec<Transfer>, AppError> {
        self.authorize(ctx, Permission::StockRead).await?;
        Ok(crate::records(q::transfers_in_transit(self.db.reader(), store).await?))
    }
}
