//! Bulk exports (FHIR `$export`): one row per request, worked by a background job that
//! writes NDJSON files and records here, after each file, where it stands — so a worker
//! that dies is followed by one that carries on from the last file, not from the start.

use sea_orm_migration::prelude::*;

use super::columns::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000028_bulk_exports"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table("bulk_exports")
                    .col(id())
                    .col(col("requester_id").uuid().not_null())
                    .col(text("requester_name", 100))
                    .col(text("requester_roles", 200))
                    .col(col("request").text().not_null())
                    .col(text("scope", 10))
                    .col(col("group_id").uuid().null())
                    .col(col("types").text().not_null())
                    .col(at_null("since"))
                    .col(text("status", 20))
                    .col(at("transaction_time"))
                    .col(col("cursor").text().not_null())
                    .col(col("output").text().not_null())
                    .col(col("error").text().null())
                    .col(col("resources").big_integer().not_null().default(0))
                    .col(at("created_at"))
                    .col(at("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "bulk_exports_requester_idx",
                "bulk_exports",
                &["requester_id", "created_at"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Alias::new("bulk_exports")).to_owned()).await
    }
}
