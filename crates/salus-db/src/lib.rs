//! Storage for Salus: SeaORM entities, migrations, queries, and the one module
//! (`backend`) where SQLite and PostgreSQL are allowed to differ.
//!
//! Every other crate sees a [`Db`]: a reader for queries and a writer for transactions.
//! On PostgreSQL both are the same pool. On SQLite the writer is a pool of one connection
//! whose transactions start with `BEGIN IMMEDIATE`: writes queue in the pool instead of
//! racing for SQLite's single write lock, so the server never sees "database is locked",
//! while readers (WAL mode) never wait for a writer.

pub mod audit;
pub mod backend;
pub mod clinical;
pub mod entity;
pub mod error;
pub mod identity;
pub mod jobs;
pub mod migration;
pub mod notifications;
pub mod organisation;
pub mod patients;
pub mod scheduling;

pub use backend::{Backend, Db, PoolSettings, PoolStats};
pub use error::{DbError, ResultExt};
pub use migration::MigrationState;
pub use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr};
