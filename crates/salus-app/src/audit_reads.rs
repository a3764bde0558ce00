//! Audited reads with group commit. A read of patient data must leave a durable event
//! before its response goes out, but one commit per read would cap reads at the commit
//! rate. Handlers hand their events to one appender task and wait for its
//! acknowledgement; the appender writes everything that has queued meanwhile in one
//! transaction, then acknowledges each waiter. Under load, many reads share a commit; a
//! failed commit fails every read in it (no event, no data).

use salus_db::Db;
use salus_db::entity::audit_event;
use tokio::sync::{mpsc, oneshot};

use crate::AppError;

/// The most events one commit takes.
const MAX_BATCH: usize = 2000;

struct Batch {
    events: Vec<audit_event::Model>,
    done: oneshot::Sender<Result<(), String>>,
}

/// The handle use cases send read events to. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ReadAuditor {
    tx: Option<mpsc::Sender<Batch>>,
    db: Db,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Batch({})", self.events.len())
    }
}

impl ReadAuditor {
    /// Starts the appender on the current Tokio runtime; without one (a plain unit test)
    /// each call commits on its own.
    pub fn start(db: Db) -> Self {
        let Ok(handle) = tokio::runtime::Handle::try_current() else { return Self { tx: None, db } };
        let (tx, rx) = mpsc::channel::<Batch>(4096);
        handle.spawn(append(db.clone(), rx));
        Self { tx: Some(tx), db }
    }

    /// Records `events` durably; returns once they are committed.
    pub async fn record(&self, events: Vec<audit_event::Model>) -> Result<(), AppError> {
        if events.is_empty() {
            return Ok(());
        }
        let Some(tx) = &self.tx else { return write(&self.db, events).await.map_err(AppError::Internal) };
        let (done, wait) = oneshot::channel();
        tx.send(Batch { events, done })
            .await
            .map_err(|_| AppError::Internal("read auditor stopped".into()))?;
        wait.await.map_err(|_| AppError::Internal("read auditor stopped".into()))?.map_err(AppError::Internal)
    }
}

async fn write(db: &Db, events: Vec<audit_event::Model>) -> Result<(), String> {
    db.append_read_events(events).await.map_err(|e| e.to_string())
}

async fn append(db: Db, mut rx: mpsc::Receiver<Batch>) {
    while let Some(first) = rx.recv().await {
        let mut waiters = Vec::new();
        let mut events = first.events;
        waiters.push(first.done);
        while events.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(b) => {
                    events.extend(b.events);
                    waiters.push(b.done);
                }
                Err(_) => break,
            }
        }
        let n = events.len();
        let result = write(&db, events).await;
        if let Err(e) = &result {
            tracing::error!(error = %e, events = n, "audit events of reads could not be written");
        }
        metrics::counter!("salus_audit_read_commits_total").increment(1);
        for w in waiters {
            let _ = w.send(result.clone());
        }
    }
}
