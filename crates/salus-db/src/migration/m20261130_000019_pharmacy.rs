//! The pharmacy and its stores: stock items (one per catalog medicine, seeded, plus the
//! consumables of `data/pharmacy/consumables.tsv`), stores, suppliers, batches, the
//! balance of each batch in each store, and the append-only ledger of movements the
//! balances are the sum of. A balance can never go below zero or below what is reserved:
//! CHECK constraints refuse it whatever the code does. The ledger refuses UPDATE of its
//! amounts and any DELETE (a trigger on each database); only the patient a row names may
//! change, which is how a merge moves it.
//!
//! Dispensings and counter sales (with their lines), the idempotency keys of stock
//! requests, reorder levels and transfers between stores complete it.

use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;

use super::columns::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000019_pharmacy"
    }
}

static CONSUMABLES: &str = include_str!("../../../../data/pharmacy/consumables.tsv");

/// ATC groups commonly sold without a prescription (analgesics such as paracetamol, oral
/// rehydration, vitamins and minerals, antacids, iron and folic acid).
const OTC_ATC_PREFIXES: &[&str] = &["N02BE", "A07CA", "A11", "A12", "A02A", "B03A", "B03B"];

fn qty(name: &str) -> ColumnDef {
    col(name).big_integer().not_null().to_owned()
}

fn uuid(name: &str) -> ColumnDef {
    col(name).uuid().not_null().to_owned()
}

fn uuid_null(name: &str) -> ColumnDef {
    col(name).uuid().null().to_owned()
}

fn c(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table("stock_items")
                    .col(id())
                    .col(text("code", 40))
                    .col(text("name", 200))
                    .col(text("kind", 12))
                    .col(uuid_null("medicine_id"))
                    .col(text_null("brand", 100))
                    .col(text("form", 100))
                    .col(text("strength", 100))
                    .col(text("base_unit", 20))
                    .col(col("pack_size").integer().not_null())
                    .col(text("tax_code", 20))
                    .col(col("tax_rate_bp").integer().not_null())
                    .col(col("prescription_only").boolean().not_null())
                    .col(col("active").boolean().not_null().default(true))
                    .col(col("version").integer().not_null().default(1))
                    .col(at("created_at"))
                    .col(at("updated_at"))
                    .check(c("pack_size").gt(0))
                    .check(c("tax_rate_bp").between(0, 10_000))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("stock_items_code_key", "stock_items", &["code"]).unique().to_owned())
            .await?;
        manager.create_index(index("stock_items_medicine_idx", "stock_items", &["medicine_id"])).await?;

        manager
            .create_table(
                table("stores")
                    .col(id())
                    .col(text("code", 20))
                    .col(text("name", 100))
                    .col(text("kind", 12))
                    .col(uuid_null("facility_id"))
                    .col(uuid_null("department_id"))
                    .col(col("active").boolean().not_null().default(true))
                    .col(col("version").integer().not_null().default(1))
                    .col(at("created_at"))
                    .col(at("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("stores_code_key", "stores", &["code"]).unique().to_owned()).await?;

        manager
            .create_table(
                table("suppliers")
                    .col(id())
                    .col(text("name", 200))
                    .col(text_null("contact_name", 100))
                    .col(text_null("phone", 40))
                    .col(text_null("email", 200))
                    .col(text_null("tax_id", 20))
                    .col(col("active").boolean().not_null().default(true))
                    .col(col("version").integer().not_null().default(1))
                    .col(at("created_at"))
                    .col(at("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("suppliers_name_key", "suppliers", &["name"]).unique().to_owned()).await?;

        manager
            .create_table(
                table("stock_batches")
                    .col(id())
                    .col(uuid("item_id"))
                    .col(text("batch_no", 40))
                    .col(col("expiry_date").date().not_null())
                    .col(qty("cost_minor"))
                    .col(qty("sale_price_minor"))
                    .col(uuid_null("supplier_id"))
                    .col(col("held").boolean().not_null().default(false))
                    .col(text_null("hold_reason", 300))
                    .col(uuid_null("held_by"))
                    .col(at_null("held_at"))
                    .col(at("created_at"))
                    .col(col("version").integer().not_null().default(1))
                    .check(c("cost_minor").gte(0))
                    .check(c("sale_price_minor").gte(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("stock_batches_item_fk")
                            .from(Alias::new("stock_batches"), Alias::new("item_id"))
                            .to(Alias::new("stock_items"), Alias::new("id")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("stock_batches_item_batch_key", "stock_batches", &["item_id", "batch_no"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("stock_batches_expiry_idx", "stock_batches", &["expiry_date"])).await?;

        // The balance of a batch in a store. Never below zero, never less than reserved:
        // the database refuses it, so no sequence of requests can get there.
        manager
            .create_table(
                table("stock_balances")
                    .col(uuid("store_id"))
                    .col(uuid("batch_id"))
                    .col(uuid("item_id"))
                    .col(qty("on_hand"))
                    .col(col("reserved").big_integer().not_null().default(0))
                    .col(at("updated_at"))
                    .primary_key(Index::create().col(Alias::new("store_id")).col(Alias::new("batch_id")))
                    .check(c("on_hand").gte(0))
                    .check(c("reserved").gte(0))
                    .check(c("reserved").lte(c("on_hand")))
                    .foreign_key(
                        ForeignKey::create()
                            .name("stock_balances_store_fk")
                            .from(Alias::new("stock_balances"), Alias::new("store_id"))
                            .to(Alias::new("stores"), Alias::new("id")),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("stock_balances_batch_fk")
                            .from(Alias::new("stock_balances"), Alias::new("batch_id"))
                            .to(Alias::new("stock_batches"), Alias::new("id")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("stock_balances_store_item_idx", "stock_balances", &["store_id", "item_id"]))
            .await?;
        manager.create_index(index("stock_balances_item_idx", "stock_balances", &["item_id"])).await?;

        // The idempotency key of each stock-changing request: a repeated submission finds
        // its first one here and moves nothing.
        manager
            .create_table(
                table("stock_operations")
                    .col(id())
                    .col(uuid("created_by"))
                    .col(text("idempotency_key", 100))
                    .col(text("kind", 30))
                    .col(text("request_hash", 64))
                    .col(uuid("result_id"))
                    .col(at("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("stock_operations_key", "stock_operations", &["created_by", "idempotency_key"])
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                table("stock_movements")
                    .col(id())
                    .col(uuid("store_id"))
                    .col(uuid("batch_id"))
                    .col(uuid("item_id"))
                    .col(text("kind", 24))
                    .col(qty("quantity"))
                    .col(qty("balance_after"))
                    .col(text_null("reason", 300))
                    .col(text("source_type", 30))
                    .col(uuid("source_id"))
                    .col(uuid_null("patient_id"))
                    .col(uuid("operation_id"))
                    .col(uuid("created_by"))
                    .col(at("created_at"))
                    .check(c("quantity").ne(0))
                    .check(c("balance_after").gte(0))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("stock_movements_balance_idx", &["store_id", "batch_id", "created_at"][..]),
            ("stock_movements_item_idx", &["item_id", "created_at"]),
            ("stock_movements_source_idx", &["source_type", "source_id"]),
            ("stock_movements_patient_idx", &["patient_id"]),
        ] {
            manager.create_index(index(name, "stock_movements", cols)).await?;
        }
        append_only(manager).await?;

        manager
            .create_table(
                table("dispenses")
                    .col(id())
                    .col(text("number", 20))
                    .col(text("kind", 10))
                    .col(uuid("store_id"))
                    .col(uuid_null("patient_id"))
                    .col(text_null("customer_name", 200))
                    .col(uuid("dispensed_by"))
                    .col(at("dispensed_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("dispenses_number_key", "dispenses", &["number"]).unique().to_owned())
            .await?;
        manager
            .create_index(index("dispenses_patient_idx", "dispenses", &["patient_id", "dispensed_at"]))
            .await?;
        manager.create_index(index("dispenses_at_idx", "dispenses", &["dispensed_at"])).await?;

        manager
            .create_table(
                table("dispense_lines")
                    .col(id())
                    .col(uuid("dispense_id"))
                    .col(uuid_null("patient_id"))
                    .col(uuid_null("prescription_id"))
                    .col(uuid("item_id"))
                    .col(text("item_name", 300))
                    .col(uuid("batch_id"))
                    .col(text("batch_no", 40))
                    .col(col("expiry_date").date().not_null())
                    .col(qty("quantity"))
                    .col(col("returned").big_integer().not_null().default(0))
                    .col(qty("unit_price_minor"))
                    .col(col("tax_rate_bp").integer().not_null())
                    .col(text_null("substituted_for", 400))
                    .col(text_null("substitution_reason", 300))
                    .col(text_null("override_reason", 300))
                    .check(c("quantity").gt(0))
                    // Nothing comes back that did not go out (hmis#14082).
                    .check(c("returned").gte(0))
                    .check(c("returned").lte(c("quantity")))
                    .foreign_key(
                        ForeignKey::create()
                            .name("dispense_lines_dispense_fk")
                            .from(Alias::new("dispense_lines"), Alias::new("dispense_id"))
                            .to(Alias::new("dispenses"), Alias::new("id")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("dispense_lines_dispense_idx", "dispense_lines", &["dispense_id"]))
            .await?;
        manager
            .create_index(index("dispense_lines_prescription_idx", "dispense_lines", &["prescription_id"]))
            .await?;
        manager.create_index(index("dispense_lines_patient_idx", "dispense_lines", &["patient_id"])).await?;

        // A delivery from a supplier: its lines are batches and receipt movements.
        manager
            .create_table(
                table("goods_receipts")
                    .col(id())
                    .col(text("number", 20))
                    .col(uuid("store_id"))
                    .col(uuid_null("supplier_id"))
                    .col(text_null("invoice_no", 40))
                    .col(uuid("received_by"))
                    .col(at("received_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("goods_receipts_number_key", "goods_receipts", &["number"]).unique().to_owned(),
            )
            .await?;
        manager.create_index(index("goods_receipts_at_idx", "goods_receipts", &["received_at"])).await?;

        manager
            .create_table(
                table("stock_reorder_levels")
                    .col(uuid("store_id"))
                    .col(uuid("item_id"))
                    .col(qty("reorder_level"))
                    .col(qty("reorder_quantity"))
                    .col(at("updated_at"))
                    .primary_key(Index::create().col(Alias::new("store_id")).col(Alias::new("item_id")))
                    .check(c("reorder_level").gte(0))
                    .check(c("reorder_quantity").gte(0))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                table("stock_transfers")
                    .col(id())
                    .col(text("number", 20))
                    .col(uuid("from_store_id"))
                    .col(uuid("to_store_id"))
                    .col(text("status", 12))
                    .col(uuid("issued_by"))
                    .col(at("issued_at"))
                    .col(uuid_null("received_by"))
                    .col(at_null("received_at"))
                    .col(col("version").integer().not_null().default(1))
                    .check(c("from_store_id").ne(c("to_store_id")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("stock_transfers_number_key", "stock_transfers", &["number"]).unique().to_owned(),
            )
            .await?;
        manager
            .create_index(index("stock_transfers_to_idx", "stock_transfers", &["to_store_id", "status"]))
            .await?;
        manager
            .create_table(
                table("stock_transfer_lines")
                    .col(id())
                    .col(uuid("transfer_id"))
                    .col(uuid("item_id"))
                    .col(uuid("batch_id"))
                    .col(qty("quantity"))
                    .check(c("quantity").gt(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "stock_transfer_lines_transfer_idx",
                "stock_transfer_lines",
                &["transfer_id"],
            ))
            .await?;

        // How much of each prescription has been given (less what came back): raised by a
        // conditional UPDATE, so two pharmacists cannot both give its last units.
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("prescriptions"))
                    .add_column(col("dispensed").big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        // The pharmacy's queue reads active prescriptions by age.
        manager
            .create_index(index("prescriptions_status_idx", "prescriptions", &["status", "created_at"]))
            .await?;

        seed(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS stock_movements_append_only() CASCADE")
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("prescriptions"))
                    .drop_column(Alias::new("dispensed"))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop().name("prescriptions_status_idx").table(Alias::new("prescriptions")).to_owned(),
            )
            .await?;
        for t in [
            "stock_transfer_lines",
            "stock_transfers",
            "stock_reorder_levels",
            "goods_receipts",
            "dispense_lines",
            "dispenses",
            "stock_movements",
            "stock_operations",
            "stock_balances",
            "stock_batches",
            "suppliers",
            "stores",
            "stock_items",
        ] {
            manager.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM services WHERE code = 'PHARMACY'")
            .await
            .map(|_| ())
    }
}

/// The ledger is written once: its amounts never change and no row is deleted. (The
/// patient a row names may change: a merge moves it to the survivor and back.)
async fn append_only(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    let guarded = "id, store_id, batch_id, item_id, kind, quantity, balance_after, reason, source_type, source_id, operation_id, created_by, created_at";
    match manager.get_database_backend() {
        DatabaseBackend::Postgres => {
            conn.execute_unprepared(
                "CREATE FUNCTION stock_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN RAISE EXCEPTION 'stock_movements is append-only'; END $$",
            )
            .await?;
            conn.execute_unprepared(&format!(
                "CREATE TRIGGER stock_movements_no_update BEFORE UPDATE OF {guarded} ON stock_movements \
                 FOR EACH ROW EXECUTE FUNCTION stock_movements_append_only()"
            ))
            .await?;
            conn.execute_unprepared(
                "CREATE TRIGGER stock_movements_no_delete BEFORE DELETE ON stock_movements \
                 FOR EACH ROW EXECUTE FUNCTION stock_movements_append_only()",
            )
            .await?;
        }
        _ => {
            conn.execute_unprepared(&format!(
                "CREATE TRIGGER stock_movements_no_update BEFORE UPDATE OF {guarded} ON stock_movements \
                 BEGIN SELECT RAISE(ABORT, 'stock_movements is append-only'); END"
            ))
            .await?;
            conn.execute_unprepared(
                "CREATE TRIGGER stock_movements_no_delete BEFORE DELETE ON stock_movements \
                 BEGIN SELECT RAISE(ABORT, 'stock_movements is append-only'); END",
            )
            .await?;
        }
    }
    Ok(())
}

/// What one counted unit of a medicine in `form` is, and how many come in its pack.
fn unit_of(form: &str) -> (&'static str, i32) {
    let form = form.to_lowercase();
    if form.contains("tablet") {
        ("tablet", 10)
    } else if form.contains("capsule") {
        ("capsule", 10)
    } else if form.contains("injection") {
        ("vial", 1)
    } else if form.contains("infusion") {
        ("bag", 1)
    } else if form.contains("cream") || form.contains("ointment") {
        ("tube", 1)
    } else if form.contains("inhaler") {
        ("inhaler", 1)
    } else {
        ("bottle", 1)
    }
}

async fn seed(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    let now = chrono::Utc::now();
    let medicines = conn
        .query_all(
            &Query::select()
                .columns(["id", "generic_name", "form", "strength", "atc_code"].map(Alias::new))
                .from(Alias::new("medicines"))
                .order_by(Alias::new("generic_name"), Order::Asc)
                .order_by(Alias::new("form"), Order::Asc)
                .order_by(Alias::new("strength"), Order::Asc)
                .to_owned(),
        )
        .await?;
    let cols = [
        "id",
        "code",
        "name",
        "kind",
        "medicine_id",
        "form",
        "strength",
        "base_unit",
        "pack_size",
        "tax_code",
        "tax_rate_bp",
        "prescription_only",
        "created_at",
        "updated_at",
    ];
    let mut insert =
        Query::insert().into_table(Alias::new("stock_items")).columns(cols.map(Alias::new)).to_owned();
    for (n, m) in medicines.iter().enumerate() {
        let id: uuid::Uuid = m.try_get("", "id")?;
        let name: String = m.try_get("", "generic_name")?;
        let form: String = m.try_get("", "form")?;
        let strength: String = m.try_get("", "strength")?;
        let atc: Option<String> = m.try_get("", "atc_code")?;
        let (unit, pack) = unit_of(&form);
        let otc = atc.as_deref().is_some_and(|a| OTC_ATC_PREFIXES.iter().any(|p| a.starts_with(p)));
        // Medicines carry 5 % GST in India (since September 2025).
        insert.values_panic([
            uuid::Uuid::now_v7().into(),
            format!("MED-{:04}", n + 1).into(),
            format!("{name} {strength} {form}").into(),
            "medicine".into(),
            id.into(),
            form.into(),
            strength.into(),
            unit.into(),
            pack.into(),
            "GST5".into(),
            500.into(),
            (!otc).into(),
            now.into(),
            now.into(),
        ]);
    }
    for f in rows(CONSUMABLES) {
        let [code, name, form, size, unit, pack, tax_code, tax_bp] = f[..] else {
            return Err(DbErr::Migration(format!("bad consumable line: {f:?}")));
        };
        let pack: i32 = pack.trim().parse().map_err(|_| DbErr::Migration(format!("bad pack size: {f:?}")))?;
        let tax_bp: i32 =
            tax_bp.trim().parse().map_err(|_| DbErr::Migration(format!("bad tax rate: {f:?}")))?;
        insert.values_panic([
            uuid::Uuid::now_v7().into(),
            code.into(),
            format!("{name} {size}").into(),
            "consumable".into(),
            Option::<uuid::Uuid>::None.into(),
            form.into(),
            size.into(),
            unit.into(),
            pack.into(),
            tax_code.into(),
            tax_bp.into(),
            false.into(),
            now.into(),
            now.into(),
        ]);
    }
    manager.exec_stmt(insert).await?;

    // The price-list entry pharmacy charges are booked under; each line carries its own
    // price (the batch's) and tax (the item's).
    let service = Query::insert()
        .into_table(Alias::new("services"))
        .columns(
            ["id", "code", "name", "category", "price_minor", "tax_rate_bp", "created_at", "updated_at"]
                .map(Alias::new),
        )
        .values_panic([
            uuid::Uuid::now_v7().into(),
            "PHARMACY".into(),
            "Pharmacy: medicines and consumables".into(),
            "pharmacy".into(),
            0i64.into(),
            0.into(),
            now.into(),
            now.into(),
        ])
        .to_owned();
    manager.exec_stmt(service).await
}
