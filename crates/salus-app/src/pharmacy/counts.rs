//! Stock-taking: a count sheet freezes what the ledger says each batch of a store holds;
//! the store counts the shelves; posting the sheet writes each difference into the ledger
//! as a stock-take variance with its reason. A difference is applied as a difference, so
//! stock dispensed while the count was under way is not undone by it; a shortfall that
//! would take a batch below zero is refused, and nothing of the sheet is posted.

use chrono::{Datelike, Utc};
use salus_core::FieldError;
use salus_core::pharmacy::{CountLine, CountStatus, MovementKind, StockCount, document_number};
use salus_db::entity::{stock_batch, stock_count, stock_count_line, stock_item};
use salus_db::pharmacy as q;
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

use super::stock::{Change, apply};
use super::{Begun, me};
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::{AppError, Ctx};

/// A count sheet with what each line is.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CountSheet {
    pub count: StockCount,
    pub lines: Vec<SheetLine>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SheetLine {
    pub line: CountLine,
    pub item: String,
    pub base_unit: String,
    pub batch_no: String,
    pub expiry_date: chrono::NaiveDate,
}

/// What was counted on one line.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Counted {
    pub line_id: Uuid,
    pub counted: i64,
    /// Why it differs from the ledger (required when it does).
    pub reason: String,
}

impl crate::Pharmacy<'_> {
    /// Makes a count sheet of a store: every batch it holds, with what the ledger says.
    pub async fn open_count(&self, ctx: &Ctx, store: Uuid) -> Result<CountSheet, AppError> {
        self.authorize(ctx, Permission::StockManage).await?;
        let st = self.active_store(store).await?;
        let balances = q::store_balances(self.db.reader(), st.id).await?;
        if balances.is_empty() {
            return Err(AppError::Conflict(format!("{} holds nothing to count", st.name)));
        }
        let now = Utc::now();
        let id = Uuid::now_v7();
        let lines: Vec<stock_count_line::Model> = balances
            .iter()
            .map(|b| stock_count_line::Model {
                id: Uuid::now_v7(),
                count_id: id,
                item_id: b.item_id,
                batch_id: b.batch_id,
                expected: b.on_hand,
                counted: None,
                reason: None,
            })
            .collect();
        let txn = self.db.begin_write().await?;
        let n = salus_db::laboratory::next_accession(&txn, &format!("SC{}", now.year())).await?;
        let row = stock_count::Model {
            id,
            number: document_number("SC", now.year(), n),
            store_id: st.id,
            status: CountStatus::Open,
            created_by: me(ctx)?,
            created_at: now,
            posted_by: None,
            posted_at: None,
            version: 1,
        };
        q::insert_count(&txn, row.clone(), lines).await?;
        let event = Event::new("stock.count_open", "stock_count", Some(id.to_string()))
            .detail(json!({ "number": row.number, "store": st.code, "lines": balances.len() }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        self.sheet(id).await
    }

    async fn sheet(&self, id: Uuid) -> Result<CountSheet, AppError> {
        let conn = self.db.reader();
        let count = q::find_count(conn, id).await?.ok_or(AppError::NotFound("count sheet"))?;
        let lines = q::count_lines(conn, id).await?;
        let batch_ids: Vec<Uuid> = lines.iter().map(|l| l.batch_id).collect();
        let item_ids: Vec<Uuid> = lines.iter().map(|l| l.item_id).collect();
        let (batches, items) =
            tokio::try_join!(q::batches_by_ids(conn, &batch_ids), q::items_by_ids(conn, &item_ids))?;
        let batches: HashMap<Uuid, stock_batch::Model> = batches.into_iter().map(|b| (b.id, b)).collect();
        let items: HashMap<Uuid, stock_item::Model> = items.into_iter().map(|i| (i.id, i)).collect();
        let mut lines: Vec<SheetLine> = lines
            .into_iter()
            .filter_map(|l| {
                let (b, i) = (batches.get(&l.batch_id)?, items.get(&l.item_id)?);
                Some(SheetLine {
                    item: i.name.clone(),
                    base_unit: i.base_unit.clone(),
                    batch_no: b.batch_no.clone(),
                    expiry_date: b.expiry_date,
                    line: l.into(),
                })
            })
            .collect();
        lines.sort_by(|a, b| (&a.item, a.expiry_date).cmp(&(&b.item, b.expiry_date)));
        Ok(CountSheet { count: count.into(), lines })
    }

    /// A count sheet (staff who see stock).
    pub async fn count_sheet(&self, ctx: &Ctx, id: Uuid) -> Result<CountSheet, AppError> {
        self.authorize(ctx, Permission::StockRead).await?;
        self.sheet(id).await
    }

    /// A store's count sheets, newest first.
    pub async fn counts(&self, ctx: &Ctx, store: Uuid) -> Result<Vec<StockCount>, AppError> {
        self.authorize(ctx, Permission::StockRead).await?;
        Ok(crate::records(q::counts_of(self.db.reader(), store, 50).await?))
    }

    /// Posts a count: every line counted, each difference (with its reason) a stock-take
    /// variance in the ledger. Once: a second posting is refused.
    pub async fn post_count(
        &self,
        ctx: &Ctx,
        key: &str,
        id: Uuid,
        counted: Vec<Counted>,
    ) -> Result<CountSheet, AppError> {
        let request = json!({ "count": id, "lines": counted });
        let outcome = self.post_count_once(ctx, key, id, counted).await;
        self.unless_replayed(ctx, key, "count_post", &request, outcome, |done| self.sheet(done)).await
    }

    async fn post_count_once(
        &self,
        ctx: &Ctx,
        key: &str,
        id: Uuid,
        counted: Vec<Counted>,
    ) -> Result<CountSheet, AppError> {
        self.authorize(ctx, Permission::StockManage).await?;
        let request = json!({ "count": id, "lines": counted });
        if let Some(done) = self.replayed(ctx, key, "count_post", &request).await? {
            return self.sheet(done).await;
        }
        let sheet = self.sheet(id).await?;
        if sheet.count.status != CountStatus::Open {
            return Err(AppError::Conflict(format!("{} is already posted", sheet.count.number)));
        }
        let given: HashMap<Uuid, &Counted> = counted.iter().map(|c| (c.line_id, c)).collect();
        let mut errors = Vec::new();
        let mut entries = Vec::new();
        for (n, l) in sheet.lines.iter().enumerate() {
            let line = |msg: String| FieldError::new("lines", format!("line {}: {msg}", n + 1));
            let Some(c) = given.get(&l.line.id) else {
                errors.push(line(format!("count {} batch {} (0 if none is there)", l.item, l.batch_no)));
                continue;
            };
            if !(0..=salus_core::pharmacy::MAX_LINE_QUANTITY).contains(&c.counted) {
                errors.push(line("a count is zero or more".into()));
                continue;
            }
            let reason = salus_core::organisation::parse_optional_label(&c.reason, "reason", 300)
                .map_err(|e| errors.push(line(e.message)))
                .ok()
                .flatten();
            if c.counted != l.line.expected && reason.is_none() {
                errors.push(line(format!(
                    "{} counted where the ledger has {}: say why (breakage, expiry, a misplaced box…)",
                    c.counted, l.line.expected
                )));
                continue;
            }
            entries.push((l, c.counted, reason));
        }
        if given.len() != sheet.lines.len()
            || given.keys().any(|k| !sheet.lines.iter().any(|l| l.line.id == *k))
        {
            errors.push(FieldError::new("lines", "count the lines of this sheet, each once"));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let conn = self.db.reader();
        let batch_ids: Vec<Uuid> = entries.iter().map(|(l, _, _)| l.line.batch_id).collect();
        let item_ids: Vec<Uuid> = entries.iter().map(|(l, _, _)| l.line.item_id).collect();
        let (batches, items) =
            tokio::try_join!(q::batches_by_ids(conn, &batch_ids), q::items_by_ids(conn, &item_ids))?;
        let batches: HashMap<Uuid, stock_batch::Model> = batches.into_iter().map(|b| (b.id, b)).collect();
        let items: HashMap<Uuid, stock_item::Model> = items.into_iter().map(|i| (i.id, i)).collect();

        let (txn, op) = match self.begin_operation(ctx, key, "count_post", &request, id).await? {
            Begun::Replay(done) => return self.sheet(done).await,
            Begun::Fresh(txn, op) => (txn, op),
        };
        let by = me(ctx)?;
        if !q::post_count(&txn, id, by).await? {
            return Err(AppError::Conflict(format!("{} is already posted", sheet.count.number)));
        }
        let mut changes = Vec::new();
        for (l, c, reason) in &entries {
            q::set_counted(&txn, l.line.id, *c, reason.clone()).await?;
            let variance = c - l.line.expected;
            if variance == 0 {
                continue;
            }
            let (Some(batch), Some(item)) = (batches.get(&l.line.batch_id), items.get(&l.line.item_id))
            else {
                continue;
            };
            changes.push(Change {
                store: sheet.count.store_id,
                batch,
                item,
                quantity: variance,
                kind: MovementKind::StockTakeVariance,
                reason: reason.clone(),
                source: ("stock_count", id),
                patient: None,
            });
        }
        let moved = apply(&txn, &changes, op, by, self.today()).await?;
        let event = Event::new("stock.count_post", "stock_count", Some(id.to_string())).detail(json!({
            "number": sheet.count.number,
            "lines": entries.len(),
            "variances": moved.iter().map(|m| json!({"batch_id": m.batch_id, "quantity": m.quantity})).collect::<Vec<_>>(),
        }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        self.sheet(id).await
    }
}
