//! The job queue's queries. Claiming differs by backend, here only: PostgreSQL locks the
//! rows it claims and skips rows another instance holds (`FOR UPDATE SKIP LOCKED`);
//! SQLite's write transaction is already exclusive. A claim also takes back `running` jobs
//! whose lease ran out (their worker died).

use chrono::{DateTime, Utc};
use salus_core::jobs::JobStatus;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entity::job;

pub async fn enqueue<C: ConnectionTrait>(conn: &C, row: job::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

/// Inserts a job unless one with its id is on file already (a job whose id is made from
/// what it is for: a daily run, a store's mail of a day). True if it was inserted.
pub async fn enqueue_once<C: ConnectionTrait>(conn: &C, row: job::Model) -> Result<bool, DbErr> {
    let inserted = job::Entity::insert(row.into_active_model())
        .on_conflict(sea_orm::sea_query::OnConflict::column(job::Column::Id).do_nothing().to_owned())
        .exec_without_returning(conn)
        .await?;
    Ok(inserted == 1)
}

/// Claims up to `limit` due jobs for `worker` until `lease_until`, in the caller's write
/// transaction; returns them as claimed (attempts already counted).
pub async fn claim<C: ConnectionTrait>(
    conn: &C,
    worker: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<job::Model>, DbErr> {
    let due = Condition::any()
        .add(Condition::all().add(job::Column::Status.eq(JobStatus::Queued)).add(job::Column::RunAt.lte(now)))
        .add(
            Condition::all()
                .add(job::Column::Status.eq(JobStatus::Running))
                .add(job::Column::LockedUntil.lt(now)),
        );
    let mut q = job::Entity::find()
        .select_only()
        .column(job::Column::Id)
        .filter(due)
        .order_by_asc(job::Column::RunAt)
        .limit(limit);
    q = crate::dialect::claim_unlocked(q, crate::dialect::of(conn));
    let ids: Vec<Uuid> = q.into_tuple().all(conn).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(JobStatus::Running))
        .col_expr(job::Column::LockedBy, Expr::value(worker))
        .col_expr(job::Column::LockedUntil, Expr::value(lease_until))
        .col_expr(job::Column::Attempts, Expr::col(job::Column::Attempts).add(1))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.is_in(ids.clone()))
        .exec(conn)
        .await?;
    job::Entity::find().filter(job::Column::Id.is_in(ids)).order_by_asc(job::Column::RunAt).all(conn).await
}

/// Marks a claimed job done — only if `worker` still holds it.
pub async fn complete<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    worker: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(JobStatus::Done))
        .col_expr(job::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(job::Column::LastError, Expr::value(Option::<String>::None))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::LockedBy.eq(worker))
        .filter(job::Column::Status.eq(JobStatus::Running))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Records a failure: back to `queued` at `retry_at`, or `dead` when `retry_at` is `None`.
pub async fn fail<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    worker: &str,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut q = job::Entity::update_many()
        .col_expr(job::Column::LastError, Expr::value(error))
        .col_expr(job::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(job::Column::UpdatedAt, Expr::value(now));
    q = match retry_at {
        Some(at) => q
            .col_expr(job::Column::Status, Expr::value(JobStatus::Queued))
            .col_expr(job::Column::RunAt, Expr::value(at)),
        None => q.col_expr(job::Column::Status, Expr::value(JobStatus::Dead)),
    };
    let res = q
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::LockedBy.eq(worker))
        .filter(job::Column::Status.eq(JobStatus::Running))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Puts a dead job back in the queue with fresh attempts.
pub async fn retry<C: ConnectionTrait>(conn: &C, id: Uuid, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let res = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(JobStatus::Queued))
        .col_expr(job::Column::Attempts, Expr::value(0))
        .col_expr(job::Column::RunAt, Expr::value(now))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::Status.eq(JobStatus::Dead))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<job::Model>, DbErr> {
    job::Entity::find_by_id(id).one(conn).await
}

/// Jobs of one status, newest first.
pub async fn by_status<C: ConnectionTrait>(
    conn: &C,
    status: JobStatus,
    limit: u64,
) -> Result<Vec<job::Model>, DbErr> {
    job::Entity::find()
        .filter(job::Column::Status.eq(status))
        .order_by_desc(job::Column::UpdatedAt)
        .limit(limit)
        .all(conn)
        .await
}

pub async fn count_by_status<C: ConnectionTrait>(conn: &C, status: JobStatus) -> Result<u64, DbErr> {
    job::Entity::find().filter(job::Column::Status.eq(status)).count(conn).await
}

/// Cancels queued jobs of `kind` whose payload is exactly `payload`.
pub async fn cancel_queued<C: ConnectionTrait>(conn: &C, kind: &str, payload: &str) -> Result<u64, DbErr> {
    let res = job::Entity::delete_many()
        .filter(job::Column::Kind.eq(kind))
        .filter(job::Column::Payload.eq(payload))
        .filter(job::Column::Status.eq(JobStatus::Queued))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// Makes a queued job due now (an administrator's "run now", after fixing what failed).
pub async fn run_now<C: ConnectionTrait>(conn: &C, id: Uuid, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let res = job::Entity::update_many()
        .col_expr(job::Column::RunAt, Expr::value(now))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::Status.eq(JobStatus::Queued))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Extends the lease of a job `worker` holds; false if it no longer holds it.
pub async fn renew<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    worker: &str,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = job::Entity::update_many()
        .col_expr(job::Column::LockedUntil, Expr::value(until))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::LockedBy.eq(worker))
        .filter(job::Column::Status.eq(JobStatus::Running))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}
