//! SQLite reads on the calling thread. sqlx runs each SQLite connection on a thread of
//! its own and hands every statement and row across channels: two thread wake-ups per
//! statement, which profiling showed as most of the server's CPU on an audited read.
//! The read that runs on every signed-in request (the look at the revocation log) goes
//! through here instead: a small pool of read-only connections, each statement prepared
//! once and run in place. It is an indexed read of a few rows from pages in memory
//! (microseconds), short enough to run on an async worker without `spawn_blocking`.
//! PostgreSQL has no such hop to remove; its reads stay on sqlx.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use sea_orm::DbErr;

/// Connections kept for reuse; more may be open at once under a burst.
const KEEP: usize = 8;

#[derive(Debug)]
pub struct FastReader {
    path: PathBuf,
    busy_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
    statements: Arc<AtomicU64>,
}

fn to_db_err(e: rusqlite::Error) -> DbErr {
    DbErr::Custom(format!("sqlite: {e}"))
}

impl FastReader {
    pub(crate) fn new(path: &Path, busy_timeout: Duration, statements: Arc<AtomicU64>) -> Self {
        Self { path: path.to_owned(), busy_timeout, idle: Mutex::default(), statements }
    }

    fn open(&self) -> Result<Connection, DbErr> {
        let flags =
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(to_db_err)?;
        conn.busy_timeout(self.busy_timeout).map_err(to_db_err)?;
        // The page cache of sqlx's readers. It lasts only until another connection commits
        // (in WAL mode SQLite then drops a reader's whole cache, and with reads audited
        // something commits every millisecond), so it mostly serves one statement's
        // repeated visits to the same index pages. Not a memory map: that same reset
        // unmaps the file at the next read's start — measured slower than reading pages.
        conn.execute_batch(&format!("PRAGMA cache_size = -{};", crate::backend::SQLITE_CACHE_KIB))
            .map_err(to_db_err)?;
        Ok(conn)
    }

    /// Runs `f` on an idle connection (opening one if none is idle); `f` runs one
    /// statement, which the statement count includes.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, DbErr> {
        let pooled = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let conn = match pooled {
            Some(c) => c,
            None => self.open()?,
        };
        self.statements.fetch_add(1, Ordering::Relaxed);
        let out = f(&conn).map_err(to_db_err);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < KEEP {
            idle.push(conn);
        }
        out
    }
}

/// SeaORM's parameter values as rusqlite binds them, stored as sqlx stores them (a uuid
/// as its 16 bytes, a flag as 0 or 1); a kind the fast paths do not bind is an error.
pub(crate) fn sqlite_values(values: Vec<sea_orm::Value>) -> Result<Vec<rusqlite::types::Value>, DbErr> {
    use rusqlite::types::Value as S;
    use sea_orm::Value as V;
    values
        .into_iter()
        .map(|v| match v {
            V::String(Some(s)) => Ok(S::Text(s)),
            V::BigInt(Some(n)) => Ok(S::Integer(n)),
            V::Int(Some(n)) => Ok(S::Integer(n.into())),
            V::Bool(Some(b)) => Ok(S::Integer(b.into())),
            V::Uuid(Some(u)) => Ok(S::Blob(u.as_bytes().to_vec())),
            V::String(None) | V::BigInt(None) | V::Int(None) | V::Bool(None) | V::Uuid(None) => Ok(S::Null),
            other => Err(DbErr::Custom(format!("no SQLite fast path for the value {other:?}"))),
        })
        .collect()
}

/// The uuids in the first column of `stmt`'s rows, read on the calling thread on SQLite
/// (a search's candidate lookups), through sqlx elsewhere.
pub(crate) async fn ids(db: &crate::Db, stmt: sea_orm::Statement) -> Result<Vec<uuid::Uuid>, DbErr> {
    use sea_orm::ConnectionTrait;
    match db.fast() {
        Some(fast) => {
            let values = sqlite_values(stmt.values.map(|v| v.0).unwrap_or_default())?;
            fast.read(|c| {
                let mut s = c.prepare_cached(&stmt.sql)?;
                let rows = s.query_map(rusqlite::params_from_iter(values), |r| r.get(0))?;
                rows.collect()
            })
        }
        None => {
            let rows = db.reader().query_all_raw(stmt).await?;
            rows.iter().map(|r| r.try_get_by_index::<uuid::Uuid>(0)).collect()
        }
    }
}

/// SQLite: one read-write connection for the read auditor's group commits, run on a
/// blocking thread. It writes only while its caller holds sqlx's single writer (see
/// [`crate::Db::append_read_events`]), so the two never wait on each other's lock.
#[derive(Debug)]
pub struct FastWriter {
    path: PathBuf,
    busy_timeout: Duration,
    conn: Mutex<Option<Connection>>,
    statements: Arc<AtomicU64>,
}

impl FastWriter {
    pub(crate) fn new(path: &Path, busy_timeout: Duration, statements: Arc<AtomicU64>) -> Self {
        Self { path: path.to_owned(), busy_timeout, conn: Mutex::default(), statements }
    }

    fn open(&self) -> Result<Connection, DbErr> {
        let flags =
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(to_db_err)?;
        conn.busy_timeout(self.busy_timeout).map_err(to_db_err)?;
        // The same settings as sqlx's writer: WAL (already the file's mode),
        // synchronous=NORMAL, foreign keys enforced, and the log copied into the file by
        // the background checkpoint, not by a commit (only past the same safety net).
        conn.execute_batch(&format!(
            "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = {};",
            crate::backend::WRITER_CHECKPOINT_PAGES
        ))
        .map_err(to_db_err)?;
        Ok(conn)
    }

    /// Runs `f` in one immediate transaction; `statements` is what it ran, for the count.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<(T, u64)>,
    ) -> Result<T, DbErr> {
        let mut slot = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(self.open()?);
        }
        let conn = slot.as_mut().ok_or_else(|| DbErr::Custom("no SQLite write connection".into()))?;
        let tx =
            conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(to_db_err)?;
        let (out, statements) = f(&tx).map_err(to_db_err)?;
        tx.commit().map_err(to_db_err)?;
        self.statements.fetch_add(statements, Ordering::Relaxed);
        Ok(out)
    }
}
