//! Secrets every instance of one installation must share, made once by whichever
//! instance starts first: the key that signs cookies, so a flash message set by one
//! instance behind a load balancer is trusted by the next.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000015_server_secrets"
    }
}

#[derive(DeriveIden)]
enum ServerSecrets {
    Table,
    Name,
    Value,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServerSecrets::Table)
                    .col(ColumnDef::new(ServerSecrets::Name).string_len(60).not_null().primary_key())
                    .col(ColumnDef::new(ServerSecrets::Value).text().not_null())
                    .col(ColumnDef::new(ServerSecrets::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ServerSecrets::Table).to_owned()).await
    }
}
