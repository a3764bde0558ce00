//! Storage for Salus: SeaORM entities, migrations, queries, and the one module
//! (`backend`) where SQLite and PostgreSQL are allowed to differ.
//!
//! Every other crate sees a [`Db`]: a reader for queries and a writer for transactions.
//! On PostgreSQL both are the same pool. On SQLite the writer is a pool of one connection
//! whose transactions start with `BEGIN IMMEDIATE`: writes queue in the pool instead of
//! racing for SQLite's single write lock, so the server never sees "database is locked",
//! while readers (WAL mode) never wait for a writer.

/// An optimistic save: `$name(conn, row)` writes `row` only over the stored version
/// `row.version - 1` and says whether it did (false: someone saved first, or the row is
/// gone). Every table an editor changes has this one shape of UPDATE.
macro_rules! versioned_update {
    ($(#[$meta:meta])* $name:ident, $entity:ident) => {
        $(#[$meta])*
        pub async fn $name<C: sea_orm::ConnectionTrait>(conn: &C, row: $entity::Model) -> Result<bool, sea_orm::DbErr> {
            use sea_orm::{ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, IntoActiveModel as _, QueryFilter as _};
            let (id, previous) = (row.id, row.version - 1);
            let res = $entity::Entity::update_many()
                .set(row.into_active_model().reset_all())
                .filter($entity::Column::Id.eq(id))
                .filter($entity::Column::Version.eq(previous))
                .exec(conn)
                .await?;
            Ok(res.rows_affected == 1)
        }
    };
}

/// Writes many rows of one table, as many to a statement as every backend's limit on
/// bound parameters allows (SQLite's 32,766 is the lower).
pub async fn insert_all<E, C>(conn: &C, rows: Vec<E::Model>) -> Result<u64, sea_orm::DbErr>
where
    E: sea_orm::EntityTrait,
    E::Model: sea_orm::IntoActiveModel<E::ActiveModel>,
    C: sea_orm::ConnectionTrait,
{
    use sea_orm::{IntoActiveModel as _, Iterable as _};
    let per_statement = (30_000 / E::Column::iter().count().max(1)).max(1);
    let total = rows.len() as u64;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<E::ActiveModel> =
            rows.by_ref().take(per_statement).map(|r| r.into_active_model()).collect();
        E::insert_many(chunk).exec_without_returning(conn).await?;
    }
    Ok(total)
}

pub mod audit;
pub mod backend;
pub mod billing;
pub mod charges;
pub mod clinical;
pub mod dialect;
pub mod entity;
pub mod error;
pub mod exports;
mod fast;
pub mod identity;
pub mod imaging;
pub mod inpatient;
pub mod insurance;
pub mod interop;
pub mod jobs;
pub mod laboratory;
pub mod merge;
pub mod migration;
pub mod notifications;
pub mod organisation;
pub mod patients;
pub mod pharmacy;
mod records;
pub mod scheduling;
pub mod secrets;

pub use backend::{Backend, Db, PoolSettings, PoolStats};
pub use error::{DbError, ResultExt, is_unavailable};
pub use migration::MigrationState;
pub use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr};
