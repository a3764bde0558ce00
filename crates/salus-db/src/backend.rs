//! The one place where SQLite and PostgreSQL differ: how a connection is opened and
//! tuned, how a write transaction begins, and how concurrent migrators are kept apart.
//! Everything here is an exhaustive `match` on [`Backend`], so adding a backend is a
//! compile error in each spot that must decide.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode,
    SqlxPostgresConnector, SqlxSqliteConnector, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::error::DbError;
use crate::migration::{self, MigrationState, Migrator};

/// The page cache of each SQLite connection, in KiB.
pub(crate) const SQLITE_CACHE_KIB: u32 = 16 * 1024;
/// The log size (pages) at which a commit checkpoints by itself; SQLite's default is
/// 1,000. Normally the background checkpoint keeps the log well under it.
pub(crate) const WRITER_CHECKPOINT_PAGES: u32 = 20_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Pool sizing and timeouts, from the configuration file.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Reader connections on SQLite, all connections on PostgreSQL.
    pub max_connections: u32,
    /// How long a request waits for a free connection before failing.
    pub acquire_timeout: Duration,
    /// How long SQLite waits for another process's write lock (e.g. a `salus user`
    /// command run beside the server).
    pub busy_timeout: Duration,
    /// Open connections on first use instead of at start (used to start with a database
    /// that is down, so readiness can report it).
    pub lazy: bool,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_secs(5),
            lazy: false,
        }
    }
}

/// Connection counts for the metrics endpoint.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// The database handle shared by every request. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    backend: Backend,
    read: DatabaseConnection,
    write: DatabaseConnection,
    /// SQLite: the connection that copies the write-ahead log into the database file.
    checkpointer: Option<DatabaseConnection>,
    max_connections: u32,
    /// Statements run by the request pools since the process started (not the
    /// checkpointer's): `/metrics` shows it, and the statement-budget test reads it.
    statements: Arc<AtomicU64>,
    /// SQLite in a file: reads run on the calling thread (see [`crate::fast`]).
    fast: Option<Arc<crate::fast::FastReader>>,
    /// SQLite in a file: the read auditor's commits without sqlx's thread hops.
    fast_writer: Option<Arc<crate::fast::FastWriter>>,
}

/// Counts every statement a connection runs (SeaORM calls it once per statement).
fn counted(mut conn: DatabaseConnection, counter: &Arc<AtomicU64>) -> DatabaseConnection {
    let counter = Arc::clone(counter);
    conn.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    conn
}

impl Db {
    /// Opens `url` (`sqlite:…` or `postgres://…`).
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Self, DbError> {
        match backend_of(url)? {
            Backend::Sqlite => {
                let opts = SqliteConnectOptions::from_str(url).map_err(|e| DbError::BadUrl(e.to_string()))?;
                Self::open_sqlite(opts, settings).await
            }
            Backend::Postgres => {
                let opts = PgConnectOptions::from_str(url).map_err(|e| DbError::BadUrl(e.to_string()))?;
                let pool_opts = PgPoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.acquire_timeout);
                let pool = if settings.lazy {
                    pool_opts.connect_lazy_with(opts)
                } else {
                    pool_opts.connect_with(opts).await.map_err(|e| DbError::Connect(e.to_string()))?
                };
                let statements = Arc::default();
                let conn = counted(SqlxPostgresConnector::from_sqlx_postgres_pool(pool), &statements);
                Ok(Self {
                    backend: Backend::Postgres,
                    read: conn.clone(),
                    write: conn,
                    checkpointer: None,
                    max_connections: settings.max_connections,
                    statements,
                    fast: None,
                    fast_writer: None,
                })
            }
        }
    }

    /// Opens (creating if needed) the SQLite file `path`.
    pub async fn open_sqlite_file(path: &Path, settings: &PoolSettings) -> Result<Self, DbError> {
        Self::open_sqlite(SqliteConnectOptions::new().filename(path), settings).await
    }

    async fn open_sqlite(opts: SqliteConnectOptions, settings: &PoolSettings) -> Result<Self, DbError> {
        // WAL: readers never wait for the writer. synchronous=NORMAL in WAL mode loses no
        // committed transaction on a process crash; on power loss the last commits before
        // the last checkpoint-sync could be lost, the usual SQLite server trade-off.
        let opts = opts
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(settings.busy_timeout)
            // Each connection keeps its own page cache (2 MiB by default): 16 MiB holds a
            // million patients' key and name index pages, so a keystroke reads its rows
            // from memory, not through a system call per page. Bounded: connections × 16.
            .pragma("cache_size", format!("-{}", SQLITE_CACHE_KIB));
        let connect = |pool: SqlitePoolOptions, opts: SqliteConnectOptions| async move {
            if settings.lazy {
                Ok(pool.connect_lazy_with(opts))
            } else {
                pool.connect_with(opts).await.map_err(|e| DbError::Connect(e.to_string()))
            }
        };
        // The writer is opened first: it creates the file and switches it to WAL. It copies
        // the log into the database itself only as a safety net (a checkpoint syncs the
        // file, which on a busy disk held a commit — and every read waiting on its audit
        // event — for tens of milliseconds); `checkpoint` does it off the request path.
        let writer = connect(
            SqlitePoolOptions::new().max_connections(1).acquire_timeout(Duration::from_secs(30)),
            opts.clone().pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES.to_string()),
        )
        .await?;
        // Opened on its first checkpoint: commands that never serve do not pay for it.
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_lazy_with(opts.clone());
        let file = opts.get_filename().to_owned();
        let reader = connect(
            SqlitePoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(settings.acquire_timeout),
            opts.read_only(true),
        )
        .await?;
        let statements: Arc<AtomicU64> = Arc::default();
        let on_disk = file != Path::new(":memory:") && file.exists();
        let fast = on_disk.then(|| {
            Arc::new(crate::fast::FastReader::new(&file, settings.busy_timeout, statements.clone()))
        });
        let fast_writer = on_disk.then(|| {
            Arc::new(crate::fast::FastWriter::new(&file, settings.busy_timeout, statements.clone()))
        });
        Ok(Self {
            backend: Backend::Sqlite,
            fast,
            fast_writer,
            read: counted(SqlxSqliteConnector::from_sqlx_sqlite_pool(reader), &statements),
            write: counted(SqlxSqliteConnector::from_sqlx_sqlite_pool(writer), &statements),
            checkpointer: Some(SqlxSqliteConnector::from_sqlx_sqlite_pool(checkpointer)),
            max_connections: settings.max_connections,
            statements,
        })
    }

    /// Statements run so far (reads and writes, not checkpoints).
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// SQLite in a file: the reader that runs on the calling thread.
    pub(crate) fn fast(&self) -> Option<&crate::fast::FastReader> {
        self.fast.as_deref()
    }

    /// Appends the audit events of reads in one transaction of their own (the read
    /// auditor's group commit). On SQLite in a file it holds sqlx's single writer, so no
    /// other write runs meanwhile, and writes through [`crate::fast::FastWriter`] on a
    /// blocking thread: one thread hop for the batch instead of one per statement.
    pub async fn append_read_events(
        &self,
        events: Vec<crate::entity::audit_event::Model>,
    ) -> Result<(), DbErr> {
        let Some(writer) = self.fast_writer.clone() else {
            let txn = self.begin_write().await?;
            crate::audit::insert_events(&txn, events).await?;
            return txn.commit().await;
        };
        let _held = self
            .write
            .get_sqlite_connection_pool()
            .acquire()
            .await
            .map_err(|e| DbErr::Custom(format!("the SQLite writer: {e}")))?;
        tokio::task::spawn_blocking(move || {
            writer.write(|tx| crate::audit::insert_events_sqlite(tx, &events))
        })
        .await
        .map_err(|e| DbErr::Custom(format!("the audit writer stopped: {e}")))?
    }

    /// SQLite: copies what it can of the write-ahead log into the database file without
    /// waiting for readers or the writer (a passive checkpoint); the server calls it
    /// every second so commits seldom do it themselves. Returns the log's frames and
    /// those copied. PostgreSQL checkpoints by itself: nothing to do.
    pub async fn checkpoint(&self) -> Result<Option<(i64, i64)>, DbErr> {
        let Some(conn) = &self.checkpointer else { return Ok(None) };
        let row = conn
            .query_one_raw(sea_orm::Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA wal_checkpoint(PASSIVE)",
            ))
            .await?;
        Ok(row.map(|r| {
            (r.try_get_by_index::<i64>(1).unwrap_or(-1), r.try_get_by_index::<i64>(2).unwrap_or(-1))
        }))
    }

    /// For queries that only read.
    pub fn reader(&self) -> &DatabaseConnection {
        &self.read
    }

    /// For a single write statement outside a transaction.
    pub fn writer(&self) -> &DatabaseConnection {
        &self.write
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes can fail
    /// with "database is locked" when another connection wrote in between, and no busy
    /// timeout helps with that.
    pub async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        match self.backend {
            Backend::Sqlite => {
                self.write
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                        ..Default::default()
                    })
                    .await
            }
            Backend::Postgres => self.write.begin().await,
        }
    }

    /// Answers whether the database can be reached.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.read.execute_unprepared("SELECT 1").await.map(|_| ())
    }

    pub fn pool_stats(&self) -> PoolStats {
        match self.backend {
            Backend::Sqlite => {
                let r = self.read.get_sqlite_connection_pool();
                let w = self.write.get_sqlite_connection_pool();
                PoolStats {
                    size: r.size() + w.size(),
                    idle: (r.num_idle() + w.num_idle()) as u32,
                    max: self.max_connections + 1,
                }
            }
            Backend::Postgres => {
                let p = self.read.get_postgres_connection_pool();
                PoolStats { size: p.size(), idle: p.num_idle() as u32, max: self.max_connections }
            }
        }
    }

    /// Applies pending migrations, refusing a database migrated by a newer binary. Several
    /// instances starting at once on PostgreSQL take turns on an advisory lock held for
    /// the migration's transaction; DDL is transactional there, so a failed migration
    /// leaves nothing behind.
    pub async fn migrate(&self) -> Result<Vec<String>, DbError> {
        let txn = self.begin_write().await?;
        match self.backend {
            Backend::Sqlite => {}
            Backend::Postgres => {
                // An arbitrary constant naming "Salus migrations" among advisory locks.
                txn.execute_unprepared("SELECT pg_advisory_xact_lock(7361535455232)").await?;
            }
        }
        let pending = match state_of(&txn).await? {
            MigrationState::Newer(name) => return Err(DbError::NewerSchema(name)),
            MigrationState::Current => Vec::new(),
            MigrationState::Pending(names) => names,
        };
        if !pending.is_empty() {
            Migrator::up(&txn, None).await.map_err(|e| DbError::Migration(e.to_string()))?;
        }
        txn.commit().await?;
        Ok(pending)
    }

    /// Where the schema stands, without changing it (for readiness and `migrate --check`).
    pub async fn migration_state(&self) -> Result<MigrationState, DbErr> {
        state_of(&self.read).await
    }
}

async fn state_of<C: ConnectionTrait>(conn: &C) -> Result<MigrationState, DbErr> {
    let known = migration::known_names();
    let applied: Vec<String> = if has_migration_table(conn).await? {
        let rows = conn
            .query_all_raw(sea_orm::Statement::from_string(
                conn.get_database_backend(),
                "SELECT version FROM seaql_migrations ORDER BY version",
            ))
            .await?;
        rows.iter().map(|r| r.try_get::<String>("", "version")).collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    if let Some(newer) = applied.iter().find(|a| !known.contains(a)) {
        return Ok(MigrationState::Newer(newer.clone()));
    }
    let pending: Vec<String> = known.into_iter().filter(|k| !applied.contains(k)).collect();
    Ok(if pending.is_empty() { MigrationState::Current } else { MigrationState::Pending(pending) })
}

async fn has_migration_table<C: ConnectionTrait>(conn: &C) -> Result<bool, DbErr> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => {
            "SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'"
        }
        DbBackend::Postgres => {
            "SELECT 1 AS x FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = 'seaql_migrations'"
        }
        _ => return Err(DbErr::Custom("unsupported database backend".into())),
    };
    Ok(conn.query_one_raw(sea_orm::Statement::from_string(backend, sql)).await?.is_some())
}

/// Which backend a URL names, or a message saying what is accepted.
pub fn backend_of(url: &str) -> Result<Backend, DbError> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(DbError::BadUrl(format!("`{url}` is neither `sqlite:<path>` nor `postgres://user@host/db`")))
    }
}

/// Takes a transaction-scoped exclusive lock named by `key`, without waiting; false when
/// another transaction holds it. On SQLite a write transaction is already exclusive.
pub async fn try_xact_lock<C: ConnectionTrait>(conn: &C, key: i64) -> Result<bool, DbErr> {
    match conn.get_database_backend() {
        DbBackend::Postgres => {
            let row = conn
                .query_one_raw(sea_orm::Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_try_advisory_xact_lock($1) AS locked",
                    [key.into()],
                ))
                .await?;
            Ok(row.map(|r| r.try_get::<bool>("", "locked")).transpose()?.unwrap_or(false))
        }
        _ => Ok(true),
    }
}

/// Every (table, column) of the schema that refers to a patient: a column named
/// `patient_id`, or one with a foreign key to `patients`. Read from the database's own
/// catalogue, so the merge test sees tables no code has declared.
pub async fn patient_columns<C: ConnectionTrait>(conn: &C) -> Result<Vec<(String, String)>, DbErr> {
    let (backend, sql) = match conn.get_database_backend() {
        DbBackend::Sqlite => (
            DbBackend::Sqlite,
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND p.name = 'patient_id' \
             UNION SELECT m.name, f.\"from\" FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table' AND f.\"table\" = 'patients' ORDER BY 1, 2",
        ),
        DbBackend::Postgres => (
            DbBackend::Postgres,
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
             WHERE table_schema = current_schema() AND column_name = 'patient_id' \
             UNION SELECT c.conrelid::regclass::text, a.attname::text FROM pg_constraint c \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) \
             WHERE c.contype = 'f' AND c.confrelid = 'patients'::regclass ORDER BY 1, 2",
        ),
        _ => return Err(DbErr::Custom("unsupported database backend".into())),
    };
    let rows = conn.query_all_raw(sea_orm::Statement::from_string(backend, sql)).await?;
    rows.iter().map(|r| Ok((r.try_get::<String>("", "t")?, r.try_get::<String>("", "c")?))).collect()
}
