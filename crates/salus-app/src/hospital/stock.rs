//! The generated hospital's stores: five (a central store, the pharmacy, three wards), the
//! catalog's items topped up with generated consumables to the size asked for, each with
//! its batches (the first already expired, the rest a few weeks apart), each batch held
//! in every store, and a ledger that sums to every balance — a receipt of a little more
//! than is left and the issue that took the rest, two movements a balance.

use chrono::{Duration, NaiveDate, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use salus_core::pharmacy::{ItemKind, MovementKind, StoreKind};
use salus_db::entity::{
    stock_balance, stock_batch, stock_item, stock_movement, stock_operation, stock_reorder_level, store,
};
use salus_db::insert_all;
use uuid::Uuid;

use super::HospitalReport;
use crate::{App, AppError};

/// The generated stores: code, name, kind.
const STORES: [(&str, &str, StoreKind); 5] = [
    ("GEN-MAIN", "Generated central store", StoreKind::Main),
    ("GEN-PHARM", "Generated pharmacy", StoreKind::Pharmacy),
    ("GEN-WARD1", "Generated ward 1 store", StoreKind::Ward),
    ("GEN-WARD2", "Generated ward 2 store", StoreKind::Ward),
    ("GEN-WARD3", "Generated ward 3 store", StoreKind::Ward),
];

/// Items whose batches and balances are written in one transaction.
const ITEMS_PER_TXN: usize = 100;

impl App {
    /// Stocks the generated hospital (once: skipped when its pharmacy exists).
    pub(super) async fn generate_stock(
        &self,
        items_wanted: u64,
        batches_per_item: u32,
        by: Uuid,
        rng: &mut StdRng,
        report: &mut HospitalReport,
        progress: &impl Fn(&str),
    ) -> Result<(), AppError> {
        if items_wanted == 0
            || salus_db::pharmacy::find_store_by_code(self.db.reader(), "GEN-PHARM").await?.is_some()
        {
            return Ok(());
        }
        let now = Utc::now();
        let today = now.date_naive();
        let stores: Vec<store::Model> = STORES
            .iter()
            .map(|(code, name, kind)| store::Model {
                id: Uuid::now_v7(),
                code: (*code).into(),
                name: (*name).into(),
                kind: *kind,
                facility_id: None,
                department_id: None,
                active: true,
                alert_email: None,
                version: 1,
                created_at: now,
                updated_at: now,
            })
            .collect();
        let mut items = salus_db::pharmacy::items(self.db.reader(), None, false, 100_000).await?;
        let mut extra = Vec::new();
        for n in items.len() as u64..items_wanted {
            extra.push(stock_item::Model {
                id: Uuid::now_v7(),
                code: format!("GEN-C{n:05}"),
                name: format!("Generated consumable {n:05}"),
                kind: ItemKind::Consumable,
                medicine_id: None,
                brand: None,
                form: "piece".into(),
                strength: String::new(),
                base_unit: "piece".into(),
                pack_size: 10,
                tax_code: "GST5".into(),
                tax_rate_bp: 500,
                prescription_only: false,
                active: true,
                version: 1,
                created_at: now,
                updated_at: now,
            });
        }
        let txn = self.db.begin_write().await?;
        report.add("stores", insert_all::<store::Entity, _>(&txn, stores.clone()).await?);
        report.add("stock_items", insert_all::<stock_item::Entity, _>(&txn, extra.clone()).await?);
        txn.commit().await?;
        items.extend(extra);

        let pharmacy = stores[1].id;
        for (c, chunk) in items.chunks(ITEMS_PER_TXN).enumerate() {
            let operation = Uuid::now_v7();
            let (mut batches, mut balances, mut movements, mut levels) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for item in chunk {
                for b in 0..batches_per_item {
                    // The first batch expired ten days ago; the rest follow a few weeks apart.
                    let expiry: NaiveDate = today + Duration::days(i64::from(b) * 45 - 10);
                    let cost = rng.random_range(50..5_000);
                    let batch = stock_batch::Model {
                        id: Uuid::now_v7(),
                        item_id: item.id,
                        batch_no: format!("G{c:04}{b:02}{}", &item.code.replace('-', "")),
                        expiry_date: expiry,
                        cost_minor: cost,
                        sale_price_minor: cost * 3 / 2,
                        supplier_id: None,
                        held: false,
                        hold_reason: None,
                        held_by: None,
                        held_at: None,
                        created_at: now,
                        version: 1,
                    };
                    for s in &stores {
                        let left: i64 = rng.random_range(20..2_000);
                        let issued: i64 = rng.random_range(1..200);
                        balances.push(stock_balance::Model {
                            store_id: s.id,
                            batch_id: batch.id,
                            item_id: item.id,
                            on_hand: left,
                            reserved: 0,
                            updated_at: now,
                        });
                        for (kind, quantity, after) in [
                            (MovementKind::Receipt, left + issued, left + issued),
                            (MovementKind::Adjustment, -issued, left),
                        ] {
                            movements.push(stock_movement::Model {
                                id: Uuid::now_v7(),
                                store_id: s.id,
                                batch_id: batch.id,
                                item_id: item.id,
                                kind,
                                quantity,
                                balance_after: after,
                                reason: (kind == MovementKind::Adjustment).then(|| "Generated issue".into()),
                                source_type: "generated".into(),
                                source_id: operation,
                                patient_id: None,
                                operation_id: operation,
                                created_by: by,
                                created_at: now,
                            });
                        }
                    }
                    batches.push(batch);
                }
                levels.push(stock_reorder_level::Model {
                    store_id: pharmacy,
                    item_id: item.id,
                    reorder_level: 100,
                    reorder_quantity: 1_000,
                    updated_at: now,
                });
            }
            let txn = self.db.begin_write().await?;
            salus_db::pharmacy::insert_operation(
                &txn,
                stock_operation::Model {
                    id: operation,
                    created_by: by,
                    idempotency_key: format!("generate-stock-{c}"),
                    kind: "generated".into(),
                    request_hash: String::new(),
                    result_id: operation,
                    created_at: now,
                },
            )
            .await?;
            report.add("stock_batches", insert_all::<stock_batch::Entity, _>(&txn, batches).await?);
            report.add("stock_balances", insert_all::<stock_balance::Entity, _>(&txn, balances).await?);
            report.add("stock_movements", insert_all::<stock_movement::Entity, _>(&txn, movements).await?);
            report.add(
                "stock_reorder_levels",
                insert_all::<stock_reorder_level::Entity, _>(&txn, levels).await?,
            );
            txn.commit().await?;
            if (c + 1) % 10 == 0 {
                progress(&format!("stock: {} items", (c + 1) * ITEMS_PER_TXN));
            }
        }
        salus_db::pharmacy::analyze(self.db.writer()).await?;
        progress("stock");
        Ok(())
    }
}
