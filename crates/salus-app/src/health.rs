//! What a load balancer and a monitor ask of the process: whether the database answers
//! with the schema this binary expects, and how full its connection pools are.

use salus_db::MigrationState;

/// Whether this instance can serve requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// The database does not answer.
    Unreachable,
    /// It answers, but migrations are pending (another instance is migrating it).
    Pending(usize),
    /// It was migrated by a newer binary (this one is being replaced).
    Newer(String),
    /// It answers, but its migrations could not be read.
    Unknown,
}

/// Connections in the pools (both of SQLite's: the readers and the one writer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

impl crate::App {
    pub async fn readiness(&self) -> Readiness {
        if let Err(e) = self.db.ping().await {
            tracing::warn!(cause = %e, "readiness: database unreachable");
            return Readiness::Unreachable;
        }
        match self.db.migration_state().await {
            Ok(MigrationState::Current) => Readiness::Ready,
            Ok(MigrationState::Pending(p)) => Readiness::Pending(p.len()),
            Ok(MigrationState::Newer(n)) => Readiness::Newer(n),
            Err(e) => {
                tracing::warn!(cause = %e, "readiness: cannot read migrations");
                Readiness::Unknown
            }
        }
    }

    /// SQL statements run since the process started (for `/metrics`).
    pub fn statements(&self) -> u64 {
        self.db.statements()
    }

    pub fn pool_stats(&self) -> PoolStats {
        let p = self.db.pool_stats();
        PoolStats { size: p.size, idle: p.idle, max: p.max }
    }

    /// The installation's key for signing cookies (64 bytes): made by the first
    /// instance that starts, the same for every instance after it.
    pub async fn cookie_key(&self) -> Result<Vec<u8>, crate::AppError> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let candidate: [u8; 64] = rand::random();
        let stored = salus_db::secrets::shared_secret(&self.db, "cookie-key", b64.encode(candidate)).await?;
        b64.decode(stored)
            .map_err(|e| crate::AppError::Internal(format!("the stored cookie key is not base64: {e}")))
    }
}
