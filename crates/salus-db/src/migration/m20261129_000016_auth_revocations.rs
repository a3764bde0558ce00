//! A log of changes that must end or refresh a cached sign-in: a session ended or its
//! second factor given, an API token revoked, a user's account, roles or password
//! changed. Every instance caches sessions and tokens and, before trusting a cached
//! one, reads the rows logged since its last look (one small indexed read shared by
//! the requests waiting at that moment), so a sign-out, a disabled account or a role
//! change takes effect on the next request everywhere.
//!
//! The rows are written by triggers, in the transaction of the change itself, so no
//! code path (a page, the API, a `salus user` command, a merge that relinks a
//! patient's account) can change a credential without logging it.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000016_auth_revocations"
    }
}

#[derive(DeriveIden)]
enum AuthRevocations {
    Table,
    Seq,
    AtMs,
    UserId,
    CredentialId,
}

const SQLITE_NOW_MS: &str = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

/// (trigger name, table, event, user id expression, credential id expression)
const TRIGGERS: [(&str, &str, &str, &str, &str); 8] = [
    ("auth_rev_session_delete", "sessions", "DELETE", "OLD.user_id", "OLD.id"),
    (
        "auth_rev_session_update",
        "sessions",
        "UPDATE OF second_factor_pending, expires_at, user_id, token_hash, csrf_token",
        "OLD.user_id",
        "OLD.id",
    ),
    ("auth_rev_user_update", "users", "UPDATE", "OLD.id", "NULL"),
    ("auth_rev_user_delete", "users", "DELETE", "OLD.id", "NULL"),
    ("auth_rev_role_insert", "user_roles", "INSERT", "NEW.user_id", "NULL"),
    ("auth_rev_role_delete", "user_roles", "DELETE", "OLD.user_id", "NULL"),
    (
        "auth_rev_token_update",
        "api_tokens",
        "UPDATE OF revoked_at, expires_at, scopes, user_id, token_hash",
        "OLD.user_id",
        "OLD.id",
    ),
    ("auth_rev_token_delete", "api_tokens", "DELETE", "OLD.user_id", "OLD.id"),
];

fn sqlite_trigger(name: &str, table: &str, event: &str, user: &str, credential: &str) -> String {
    format!(
        "CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN \
         INSERT INTO auth_revocations (at_ms, user_id, credential_id) \
         VALUES ({SQLITE_NOW_MS}, {user}, {credential}); END"
    )
}

fn postgres_trigger(name: &str, table: &str, event: &str, user: &str, credential: &str) -> [String; 2] {
    // One function per trigger keeps the OLD/NEW choice in plain SQL.
    [
        format!(
            "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             INSERT INTO auth_revocations (at_ms, user_id, credential_id) \
             VALUES ((extract(epoch from clock_timestamp()) * 1000)::bigint, {user}, {credential}); \
             RETURN NULL; END $$"
        ),
        format!("CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuthRevocations::Table)
                    .col(
                        ColumnDef::new(AuthRevocations::Seq)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AuthRevocations::AtMs).big_integer().not_null())
                    .col(ColumnDef::new(AuthRevocations::UserId).uuid().not_null())
                    .col(ColumnDef::new(AuthRevocations::CredentialId).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("auth_revocations_at_idx")
                    .table(AuthRevocations::Table)
                    .col(AuthRevocations::AtMs)
                    .to_owned(),
            )
            .await?;
        let conn = manager.get_connection();
        for (name, table, event, user, credential) in TRIGGERS {
            match manager.get_database_backend() {
                DbBackend::Postgres => {
                    for sql in postgres_trigger(name, table, event, user, credential) {
                        conn.execute_unprepared(&sql).await?;
                    }
                }
                _ => {
                    conn.execute_unprepared(&sqlite_trigger(name, table, event, user, credential)).await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        for (name, table, ..) in TRIGGERS {
            if postgres {
                conn.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name} ON {table}")).await?;
                conn.execute_unprepared(&format!("DROP FUNCTION IF EXISTS {name}()")).await?;
            } else {
                conn.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name}")).await?;
            }
        }
        manager.drop_table(Table::drop().table(AuthRevocations::Table).to_owned()).await
    }
}
