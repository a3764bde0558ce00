//! Purchase orders to suppliers (each line an item, the units ordered, the agreed cost and
//! the units received so far — never more than ordered, by a check), deliveries linked to
//! the order they fill, and a store's mailbox for the daily stock alerts.

use sea_orm_migration::prelude::*;

use super::columns::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000021_purchase_orders"
    }
}

fn c(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table("purchase_orders")
                    .col(id())
                    .col(text("number", 20))
                    .col(col("supplier_id").uuid().not_null())
                    .col(col("store_id").uuid().not_null())
                    .col(text("status", 20))
                    .col(col("expected_on").date().null())
                    .col(text_null("note", 300))
                    .col(col("ordered_by").uuid().not_null())
                    .col(at("ordered_at"))
                    .col(col("closed_by").uuid().null())
                    .col(at_null("closed_at"))
                    .col(text_null("close_reason", 300))
                    .col(col("version").integer().not_null().default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("purchase_orders_number_key", "purchase_orders", &["number"]).unique().to_owned(),
            )
            .await?;
        manager
            .create_index(index("purchase_orders_status_idx", "purchase_orders", &["status", "ordered_at"]))
            .await?;
        manager
            .create_table(
                table("purchase_order_lines")
                    .col(id())
                    .col(col("order_id").uuid().not_null())
                    .col(col("item_id").uuid().not_null())
                    .col(col("quantity").big_integer().not_null())
                    .col(col("received").big_integer().not_null().default(0))
                    .col(col("cost_minor").big_integer().not_null())
                    .check(c("quantity").gt(0))
                    .check(c("received").gte(0))
                    .check(c("received").lte(c("quantity")))
                    .check(c("cost_minor").gte(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("purchase_order_lines_item_key", "purchase_order_lines", &["order_id", "item_id"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("goods_receipts"))
                    .add_column(col("order_id").uuid().null())
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("goods_receipts_order_idx", "goods_receipts", &["order_id"])).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("stores"))
                    .add_column(col("alert_email").string_len(200).null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Alias::new("stores")).drop_column(Alias::new("alert_email")).to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop().name("goods_receipts_order_idx").table(Alias::new("goods_receipts")).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("goods_receipts"))
                    .drop_column(Alias::new("order_id"))
                    .to_owned(),
            )
            .await?;
        for t in ["purchase_order_lines", "purchase_orders"] {
            manager.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
