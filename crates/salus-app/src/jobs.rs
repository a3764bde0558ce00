//! Background jobs: a queue in the same database, worked by tasks inside `salus serve`
//! (several instances share it; see `salus_db::jobs` for how a claim stays unique). A
//! failed job retries with exponential backoff (30 s, 1 min, 2 min… capped at an hour) and
//! is `dead` after its last attempt, for an administrator to see and retry. Handlers are
//! chosen by `kind` in [`App::run_job`]; each must be safe to run twice (a worker can die
//! after the work and before marking it done).

use salus_core::jobs::JobStatus;
use salus_core::notifications::NotificationStatus;
use std::time::Duration;

use chrono::{DateTime, Utc};
use salus_db::entity::job;
use salus_db::jobs as q;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::{AppError, Ctx};

/// Attempts before a job is dead.
pub const MAX_ATTEMPTS: i32 = 6;
/// How long a claimed job is a worker's before another may take it back.
const LEASE: Duration = Duration::from_secs(300);

/// A job handed to a handler an outer layer registered ([`App::register_job`]): the FHIR
/// door's export, say, which maps records into a standard this crate does not speak.
#[derive(Debug, Clone)]
pub struct JobRun {
    pub id: Uuid,
    pub payload: serde_json::Value,
    pub attempts: i32,
    worker: String,
}

impl JobRun {
    /// Extends the claim on a long job, so no other worker takes it back while it runs;
    /// false when it was taken back (the handler should stop).
    pub async fn renew(&self, app: &crate::App) -> Result<bool, AppError> {
        let until = Utc::now() + chrono::Duration::from_std(LEASE).unwrap_or_default();
        let txn = app.db.begin_write().await?;
        let ours = q::renew(&txn, self.id, &self.worker, until).await?;
        txn.commit().await?;
        Ok(ours)
    }
}

type HandlerFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), AppError>> + Send>>;
type Handler = std::sync::Arc<dyn Fn(crate::App, JobRun) -> HandlerFuture + Send + Sync>;

/// The handlers registered from outside, by job kind.
#[derive(Default)]
pub struct JobHandlers(std::sync::RwLock<std::collections::HashMap<String, Handler>>);

impl std::fmt::Debug for JobHandlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kinds: Vec<String> = self.0.read().map(|m| m.keys().cloned().collect()).unwrap_or_default();
        f.debug_tuple("JobHandlers").field(&kinds).finish()
    }
}

impl crate::App {
    /// Has this instance's workers run jobs of `kind` with `handler` (registered once, at
    /// start-up, by the layer that owns the work).
    pub fn register_job<F, Fut>(&self, kind: &str, handler: F)
    where
        F: Fn(crate::App, JobRun) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), AppError>> + Send + 'static,
    {
        let handler: Handler = std::sync::Arc::new(move |app, run| Box::pin(handler(app, run)));
        if let Ok(mut map) = self.job_handlers.0.write() {
            map.insert(kind.to_owned(), handler);
        }
    }
}

/// A job as administrators see it.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: Uuid,
    pub kind: String,
    pub status: JobStatus,
    pub run_at: DateTime<Utc>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl From<job::Model> for Job {
    fn from(j: job::Model) -> Self {
        Self {
            id: j.id,
            kind: j.kind,
            status: j.status,
            run_at: j.run_at,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            last_error: j.last_error,
            updated_at: j.updated_at,
        }
    }
}

/// What one pass of a worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    pub claimed: usize,
    pub done: usize,
    pub retried: usize,
    pub dead: usize,
}

/// The delay before attempt `attempts + 1`.
pub fn backoff(attempts: i32) -> chrono::Duration {
    let exp = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    chrono::Duration::seconds((30_i64 << exp).min(3600))
}

/// A job row to insert in the caller's transaction.
pub fn new_job(kind: &str, payload: serde_json::Value, run_at: DateTime<Utc>) -> job::Model {
    let now = Utc::now();
    job::Model {
        id: Uuid::now_v7(),
        kind: kind.into(),
        payload: payload.to_string(),
        status: JobStatus::Queued,
        run_at,
        attempts: 0,
        max_attempts: MAX_ATTEMPTS,
        last_error: None,
        locked_by: None,
        locked_until: None,
        created_at: now,
        updated_at: now,
    }
}

impl crate::Jobs<'_> {
    /// Claims due jobs and runs them; the workers in `serve` call this in a loop, tests
    /// call it once to run what is due.
    pub async fn run_due_jobs(&self, worker: &str, limit: u64) -> Result<Pass, AppError> {
        let now = Utc::now();
        let lease_until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        let txn = self.db.begin_write().await?;
        let claimed = q::claim(&txn, worker, now, lease_until, limit).await?;
        txn.commit().await?;
        let mut pass = Pass { claimed: claimed.len(), ..Pass::default() };
        for job in claimed {
            // The lease counts from this job's start, not the batch's: a slow job ahead
            // must not let another worker take this one back while it runs.
            let until = Utc::now() + chrono::Duration::from_std(LEASE).unwrap_or_default();
            let txn = self.db.begin_write().await?;
            let still_ours = q::renew(&txn, job.id, worker, until).await?;
            txn.commit().await?;
            if !still_ours {
                continue;
            }
            let outcome = self.run_job(&job, worker).await;
            let now = Utc::now();
            let txn = self.db.begin_write().await?;
            match outcome {
                Ok(()) => {
                    q::complete(&txn, job.id, worker, now).await?;
                    pass.done += 1;
                }
                Err(e) => {
                    let message = e.to_string();
                    let retry_at = (job.attempts < job.max_attempts).then(|| now + backoff(job.attempts));
                    let recorded = q::fail(&txn, job.id, worker, &message, retry_at, now).await?;
                    if !recorded {
                        // Taken back meanwhile; its new holder decides.
                    } else if retry_at.is_some() {
                        pass.retried += 1;
                        tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, error = %message, "job failed; will retry");
                    } else {
                        pass.dead += 1;
                        tracing::error!(job = %job.id, kind = %job.kind, error = %message, "job failed for the last time");
                        self.job_died(&txn, &job, &message).await?;
                    }
                }
            }
            txn.commit().await?;
        }
        Ok(pass)
    }

    async fn run_job(&self, job: &job::Model, worker: &str) -> Result<(), AppError> {
        let payload: serde_json::Value = serde_json::from_str(&job.payload)
            .map_err(|e| AppError::Internal(format!("bad payload: {e}")))?;
        match job.kind.as_str() {
            "notification.send" => {
                let id = payload["notification_id"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| AppError::Internal("no notification_id".into()))?;
                self.notifications().send_notification(id, job.attempts).await
            }
            crate::laboratory::results::ESCALATE_JOB => {
                let id = payload["alert_id"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| AppError::Internal("no alert_id".into()))?;
                self.laboratory().escalate_alert(id).await
            }
            crate::pharmacy::mail::DAILY_JOB => {
                let day = payload["day"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| AppError::Internal("no day".into()))?;
                self.pharmacy().queue_alert_mail(day).await
            }
            crate::pharmacy::mail::MAIL_JOB => {
                let store = payload["store_id"].as_str().and_then(|s| s.parse().ok());
                let day = payload["day"].as_str().and_then(|s| s.parse().ok());
                let (Some(store), Some(day)) = (store, day) else {
                    return Err(AppError::Internal("no store_id or day".into()));
                };
                self.pharmacy().mail_alerts(store, day).await
            }
            crate::inpatient::census::BED_DAY_JOB => {
                let day = payload["day"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| AppError::Internal("no day".into()))?;
                self.inpatient().nightly_bed_days(day).await
            }
            // Does nothing: the job benchmark measures the queue itself.
            "noop" => Ok(()),
            other => {
                let handler = self.job_handlers.0.read().ok().and_then(|m| m.get(other).cloned());
                let Some(handler) = handler else {
                    return Err(AppError::Internal(format!("no handler for job kind {other}")));
                };
                let run = JobRun { id: job.id, payload, attempts: job.attempts, worker: worker.to_owned() };
                handler((**self).clone(), run).await
            }
        }
    }

    /// What a job's last failure means beyond the job (a notification is then failed).
    async fn job_died(
        &self,
        txn: &salus_db::DatabaseTransaction,
        job: &job::Model,
        error: &str,
    ) -> Result<(), AppError> {
        if job.kind == crate::interop::export::EXPORT_JOB {
            let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
            if let Some(id) = payload["export_id"].as_str().and_then(|s| s.parse().ok()) {
                salus_db::exports::finish(txn, id, "failed", Some(error), Utc::now()).await?;
            }
        }
        if job.kind == "notification.send" {
            let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
            if let Some(id) = payload["notification_id"].as_str().and_then(|s| s.parse().ok()) {
                salus_db::notifications::set_status(
                    txn,
                    id,
                    NotificationStatus::Failed,
                    Some(error),
                    Utc::now(),
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Runs workers until `shutdown` resolves: each claims a few due jobs, runs them, and
    /// sleeps a second when there were none.
    pub fn spawn_workers(&self, count: usize, instance: &str, shutdown: tokio::sync::watch::Receiver<bool>) {
        for n in 0..count {
            let app: crate::App = (**self).clone();
            let worker = format!("{instance}/{n}");
            let mut stop = shutdown.clone();
            tokio::spawn(async move {
                loop {
                    if *stop.borrow() {
                        break;
                    }
                    let idle = match app.jobs().run_due_jobs(&worker, 10).await {
                        Ok(pass) => pass.claimed == 0,
                        Err(e) => {
                            tracing::error!(error = %e, "job worker pass failed");
                            true
                        }
                    };
                    if idle {
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                            _ = stop.changed() => {}
                        }
                    }
                }
            });
        }
    }

    /// Jobs of one status (queued, running, done, dead), newest first.
    pub async fn list(&self, ctx: &Ctx, status: &str) -> Result<Vec<Job>, AppError> {
        self.authorize(ctx, Permission::JobsManage).await?;
        let status = JobStatus::parse(status, "status")?;
        Ok(q::by_status(self.db.reader(), status, 200).await?.into_iter().map(Job::from).collect())
    }

    /// Counts by status, for the operations page.
    pub async fn job_counts(&self, ctx: &Ctx) -> Result<Vec<(&'static str, u64)>, AppError> {
        self.authorize(ctx, Permission::JobsManage).await?;
        let mut out = Vec::new();
        for &status in JobStatus::ALL {
            out.push((status.as_str(), q::count_by_status(self.db.reader(), status).await?));
        }
        Ok(out)
    }

    /// Makes a queued job (one waiting for its retry, say) due now.
    pub async fn run_job_now(&self, ctx: &Ctx, id: Uuid) -> Result<(), AppError> {
        self.authorize(ctx, Permission::JobsManage).await?;
        let txn = self.db.begin_write().await?;
        let job = q::find(&txn, id).await?.ok_or(AppError::NotFound("job"))?;
        if !q::run_now(&txn, id, Utc::now()).await? {
            return Err(AppError::Conflict(format!(
                "only a queued job is brought forward; this one is {}",
                job.status
            )));
        }
        audit::record(&txn, ctx, Event::new("job.run_now", "job", Some(id.to_string()))).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Puts a dead job back in the queue.
    pub async fn retry_job(&self, ctx: &Ctx, id: Uuid) -> Result<(), AppError> {
        self.authorize(ctx, Permission::JobsManage).await?;
        let txn = self.db.begin_write().await?;
        let job = q::find(&txn, id).await?.ok_or(AppError::NotFound("job"))?;
        if !q::retry(&txn, id, Utc::now()).await? {
            return Err(AppError::Conflict(format!(
                "only a dead job is retried; this one is {}",
                job.status
            )));
        }
        if job.kind == "notification.send" {
            let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
            if let Some(n) = payload["notification_id"].as_str().and_then(|s| s.parse().ok()) {
                salus_db::notifications::reopen_failed(&txn, n, Utc::now()).await?;
            }
        }
        let event = Event::new("job.retry", "job", Some(id.to_string())).detail(json!({ "kind": job.kind }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(())
    }
}

/// An id made from what something is for: the same purpose, the same id (a day's job,
/// a stay's bed day), so a second instance or a retry makes the same one.
pub(crate) fn stable_id(purpose: &str) -> uuid::Uuid {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(purpose.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_to_an_hour() {
        assert_eq!(backoff(1).num_seconds(), 30);
        assert_eq!(backoff(2).num_seconds(), 60);
        assert_eq!(backoff(5).num_seconds(), 480);
        assert_eq!(backoff(20).num_seconds(), 3600);
    }
}
