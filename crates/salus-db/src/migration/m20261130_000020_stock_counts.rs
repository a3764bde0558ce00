//! Stock-taking: a count sheet of a store (each batch with what the ledger says is there,
//! frozen when the sheet is made), the counts entered against it, and its posting — each
//! difference a stock-take variance in the ledger, with its reason.

use sea_orm_migration::prelude::*;

use super::columns::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000020_stock_counts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table("stock_counts")
                    .col(id())
                    .col(text("number", 20))
                    .col(col("store_id").uuid().not_null())
                    .col(text("status", 12))
                    .col(col("created_by").uuid().not_null())
                    .col(at("created_at"))
                    .col(col("posted_by").uuid().null())
                    .col(at_null("posted_at"))
                    .col(col("version").integer().not_null().default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("stock_counts_number_key", "stock_counts", &["number"]).unique().to_owned())
            .await?;
        manager
            .create_index(index("stock_counts_store_idx", "stock_counts", &["store_id", "created_at"]))
            .await?;
        manager
            .create_table(
                table("stock_count_lines")
                    .col(id())
                    .col(col("count_id").uuid().not_null())
                    .col(col("item_id").uuid().not_null())
                    .col(col("batch_id").uuid().not_null())
                    .col(col("expected").big_integer().not_null())
                    .col(col("counted").big_integer().null())
                    .col(text_null("reason", 300))
                    .check(
                        Expr::col(Alias::new("counted"))
                            .is_null()
                            .or(Expr::col(Alias::new("counted")).gte(0)),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("stock_count_lines_count_idx", "stock_count_lines", &["count_id"]))
            .await?;
        manager.create_index(index("stock_items_name_idx", "stock_items", &["name", "id"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop().name("stock_items_name_idx").table(Alias::new("stock_items")).to_owned(),
            )
            .await?;
        for t in ["stock_count_lines", "stock_counts"] {
            manager.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
