//! Failed sign-in counters for backoff and lockout.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000003_login_failures"
    }
}

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Key,
    Failures,
    LastFailureAt,
    LockedUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .col(ColumnDef::new(LoginFailures::Key).string_len(200).not_null().primary_key())
                    .col(ColumnDef::new(LoginFailures::Failures).integer().not_null())
                    .col(ColumnDef::new(LoginFailures::LastFailureAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(LoginFailures::LockedUntil).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(LoginFailures::Table).to_owned()).await
    }
}
