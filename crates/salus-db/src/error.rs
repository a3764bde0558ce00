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
