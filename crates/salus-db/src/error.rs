//! Database errors as the rest of the program sees them. A constraint violation is turned
//! into a domain error in exactly one place, by the caller that knows what the constraint
//! means (`on_unique("users_username_key", …)`), never by matching on error text elsewhere.

use sea_orm::{DbErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the database URL is not valid: {0}")]
    BadUrl(String),
    #[error("cannot open the database: {0}")]
    Connect(String),
    #[error(
        "this database was migrated by a newer version of Salus (it has migration `{0}`, which this binary does not know); run the newer binary or restore a backup"
    )]
    NewerSchema(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error(transparent)]
    Query(#[from] DbErr),
}

/// True when `err` is a unique-constraint violation of the index or constraint `name`.
/// SQLite reports the columns rather than the index name, so the caller's `columns`
/// (as "table.column") identify it there.
pub fn is_unique_violation(err: &DbErr, name: &str, columns: &str) -> bool {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(msg)) => msg.contains(name) || msg.contains(columns),
        _ => false,
    }
}

/// Maps a unique-constraint violation to a domain error; other errors pass through.
pub trait ResultExt<T> {
    fn on_unique<E: From<DbErr>>(
        self,
        name: &str,
        columns: &str,
        to_error: impl FnOnce() -> E,
    ) -> Result<T, E>;
}

impl<T> ResultExt<T> for Result<T, DbErr> {
    fn on_unique<E: From<DbErr>>(
        self,
        name: &str,
        columns: &str,
        to_error: impl FnOnce() -> E,
    ) -> Result<T, E> {
        self.map_err(|err| if is_unique_violation(&err, name, columns) { to_error() } else { E::from(err) })
    }
}

/// True when `err` says the database cannot be reached or no connection came free in
/// time (down, restarting, a full pool): worth retrying shortly, not a fault of the
/// request. The server answers such errors 503 with Retry-After, not 500.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    let sqlx_unavailable = |e: &sqlx::Error| match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // SQLite: the file cannot be opened (a folder gone, a disk unmounted).
        sqlx::Error::Database(d) => d.code().is_some_and(|c| c == "14"),
        _ => false,
    };
    match err {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(e)) => sqlx_unavailable(e),
        DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => sqlx_unavailable(e),
        _ => false,
    }
}
