//! The statements that differ between SQLite and PostgreSQL, beside the connection
//! settings in `backend`: row locks, `SKIP LOCKED`, planner statistics. Each is one
//! `match` on the backend here, not a branch in the query that needs it. (Name search, whose candidate queries differ throughout — FTS5
//! trigram on SQLite, pg_trgm on PostgreSQL — keeps its two statements in
//! `patients/search`, each chosen the same way.)

use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QuerySelect};

/// A select that claims rows other transactions are not already claiming: `FOR UPDATE
/// SKIP LOCKED` on PostgreSQL, so workers on several instances take different jobs; on
/// SQLite the write transaction already excludes every other writer.
pub fn claim_unlocked<Q: QuerySelect>(query: Q, backend: DbBackend) -> Q {
    match backend {
        DbBackend::Postgres => query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked),
        _ => query,
    }
}

/// A select that locks what it reads until the transaction ends (`FOR UPDATE` on
/// PostgreSQL), so a check and the write it allows happen as one; `None` where the write
/// transaction already excludes (SQLite): the caller need not read at all.
pub fn lock_rows<Q: QuerySelect>(query: Q, backend: DbBackend) -> Option<Q> {
    match backend {
        DbBackend::Postgres => Some(query.lock_exclusive()),
        _ => None,
    }
}

/// Refreshes the planner's statistics of `tables` after a bulk load (PostgreSQL; SQLite
/// plans from its indexes alone).
pub async fn analyze<C: ConnectionTrait>(conn: &C, tables: &[&str]) -> Result<(), DbErr> {
    match conn.get_database_backend() {
        DbBackend::Postgres => {
            conn.execute_unprepared(&format!("ANALYZE {}", tables.join(", "))).await.map(|_| ())
        }
        _ => Ok(()),
    }
}
