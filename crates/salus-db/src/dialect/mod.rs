//! Everything that differs between SQLite and PostgreSQL once connected: row locks and
//! `SKIP LOCKED`, planner statistics, parameter placeholders, and name search (FTS5
//! trigram on SQLite, pg_trgm on PostgreSQL). Each backend is one module implementing
//! [`Dialect`]; a query asks `dialect::of(conn)` instead of branching on the backend, so
//! a third backend would be a third module, and the differences can be read side by side.
//! (Connection settings — pools, pragmas, `BEGIN IMMEDIATE` — stay in `backend`; a
//! migration, never edited once released, keeps the branches it was written with.)

mod postgres;
mod sqlite;

use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QuerySelect, Statement};

/// The SQL of one backend.
pub trait Dialect: Sync {
    fn backend(&self) -> DbBackend;

    /// The placeholder of the `n`th parameter (from 1).
    fn placeholder(&self, n: usize) -> String;

    /// A parameter compared with `patient_keys.key`. PostgreSQL gives that column the "C"
    /// collation, and the parameter must say so too, or the comparison's collation is
    /// undetermined and the index goes unused.
    fn key_param(&self, placeholder: String) -> String {
        placeholder
    }

    /// Whether a write transaction may leave rows it read to other writers, so that a
    /// claim needs `FOR UPDATE SKIP LOCKED` and a check-then-write needs `FOR UPDATE`.
    /// (SQLite's one writer excludes every other.)
    fn locks_rows(&self) -> bool;

    /// The statement that refreshes the planner's statistics after a bulk load, if the
    /// backend needs one.
    fn analyze(&self, tables: &[&str]) -> Option<String>;

    /// Whether names are indexed in a table of their own (`patient_names_fts`, whose row
    /// id a patient keeps) rather than read from `patients.search_names` by the index.
    fn has_name_table(&self) -> bool;

    /// A select of `patient_id`s whose folded names contain `token` (three or more of
    /// `[a-z0-9]`), its value added to `params`.
    fn names_containing(&self, params: &mut Params, token: &str) -> String;

    /// Patients whose names contain every one of `tokens`, at most `limit`, as `pid`.
    fn names_containing_all(&self, tokens: &[&str], limit: i64) -> Statement;

    /// Patients whose names share any trigram with `token` (a misspelling), the closest
    /// first, at most `limit`, as `pid`.
    fn names_like(&self, token: &str, limit: i64) -> Statement;
}

/// The dialect of the connection.
pub fn of<C: ConnectionTrait>(conn: &C) -> &'static dyn Dialect {
    of_backend(conn.get_database_backend())
}

pub fn of_backend(backend: DbBackend) -> &'static dyn Dialect {
    match backend {
        DbBackend::Postgres => &postgres::Postgres,
        _ => &sqlite::Sqlite,
    }
}

/// The parameters of a statement written by hand, in the order they are added, with the
/// dialect's placeholders.
pub struct Params {
    dialect: &'static dyn Dialect,
    pub values: Vec<sea_orm::Value>,
}

impl Params {
    pub fn new(dialect: &'static dyn Dialect) -> Self {
        Self { dialect, values: Vec::new() }
    }

    /// Adds a value; returns its placeholder.
    pub fn add(&mut self, value: impl Into<sea_orm::Value>) -> String {
        self.values.push(value.into());
        self.dialect.placeholder(self.values.len())
    }

    /// Adds a value compared with `patient_keys.key` (see [`Dialect::key_param`]).
    pub fn key(&mut self, value: String) -> String {
        let p = self.add(value);
        self.dialect.key_param(p)
    }

    /// The statement of `sql` with these parameters.
    pub fn statement(self, sql: String) -> Statement {
        Statement::from_sql_and_values(self.dialect.backend(), sql, self.values)
    }
}

/// A select that claims rows other transactions are not already claiming: `FOR UPDATE
/// SKIP LOCKED` where writers run side by side, so workers on several instances take
/// different jobs.
pub fn claim_unlocked<Q: QuerySelect>(query: Q, dialect: &dyn Dialect) -> Q {
    if dialect.locks_rows() {
        query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
    } else {
        query
    }
}

/// A select that locks what it reads until the transaction ends (`FOR UPDATE`), so a
/// check and the write it allows happen as one; `None` where the write transaction
/// already excludes every other writer: the caller need not read at all.
pub fn lock_rows<Q: QuerySelect>(query: Q, dialect: &dyn Dialect) -> Option<Q> {
    dialect.locks_rows().then(|| query.lock_exclusive())
}

/// Refreshes the planner's statistics of `tables` after a bulk load.
pub async fn analyze<C: ConnectionTrait>(conn: &C, tables: &[&str]) -> Result<(), DbErr> {
    match of(conn).analyze(tables) {
        Some(sql) => conn.execute_unprepared(&sql).await.map(|_| ()),
        None => Ok(()),
    }
}

/// The trigrams of a token, in order ("lakshmi" → lak, aks, ksh, shm, hmi).
fn trigrams(token: &str) -> Vec<&str> {
    (0..=token.len().saturating_sub(3)).filter_map(|i| token.get(i..i + 3)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backends_number_and_collate_their_parameters_differently() {
        for (backend, expected) in [
            (DbBackend::Sqlite, "key >= ? AND key < ?"),
            (DbBackend::Postgres, "key >= $1 COLLATE \"C\" AND key < $2 COLLATE \"C\""),
        ] {
            let mut p = Params::new(of_backend(backend));
            let (lo, hi) = (p.key("ab".into()), p.key("ab\u{7f}".into()));
            assert_eq!(format!("key >= {lo} AND key < {hi}"), expected);
            assert_eq!(p.values.len(), 2);
        }
        assert_eq!(trigrams("lakshmi"), ["lak", "aks", "ksh", "shm", "hmi"]);
        assert_eq!(trigrams("ab"), Vec::<&str>::new());
    }

    #[test]
    fn only_postgres_locks_rows_and_analyzes() {
        assert!(of_backend(DbBackend::Postgres).locks_rows());
        assert!(!of_backend(DbBackend::Sqlite).locks_rows());
        assert_eq!(of_backend(DbBackend::Postgres).analyze(&["a", "b"]).as_deref(), Some("ANALYZE a, b"));
        assert_eq!(of_backend(DbBackend::Sqlite).analyze(&["a"]), None);
    }
}
