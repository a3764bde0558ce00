//! Queries of the ward's records of a stay: the discharge summary (edited and signed by
//! conditional UPDATEs from the version seen, a signed one never again), nurses' notes,
//! intake and output, nursing tasks.

use chrono::{DateTime, Utc};
use salus_core::inpatient::nursing::{SummaryStatus, TaskStatus};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

use crate::entity::{
    discharge_summary as summary, intake_output as io, nursing_note as note, nursing_task as task,
};

pub async fn insert_summary<C: ConnectionTrait>(conn: &C, row: summary::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn summary_of<C: ConnectionTrait>(
    conn: &C,
    admission: Uuid,
) -> Result<Option<summary::Model>, DbErr> {
    summary::Entity::find().filter(summary::Column::AdmissionId.eq(admission)).one(conn).await
}

/// Saves a draft's text if it is still the draft at `version`: false otherwise.
pub async fn save_summary<C: ConnectionTrait>(
    conn: &C,
    row: &summary::Model,
    version: i32,
) -> Result<bool, DbErr> {
    Ok(summary::Entity::update_many()
        .col_expr(summary::Column::Diagnoses, Expr::value(row.diagnoses.clone()))
        .col_expr(summary::Column::Procedures, Expr::value(row.procedures.clone()))
        .col_expr(summary::Column::KeyResults, Expr::value(row.key_results.clone()))
        .col_expr(summary::Column::Medicines, Expr::value(row.medicines.clone()))
        .col_expr(summary::Column::FollowUp, Expr::value(row.follow_up.clone()))
        .col_expr(summary::Column::Instructions, Expr::value(row.instructions.clone()))
        .col_expr(summary::Column::Version, Expr::col(summary::Column::Version).add(1))
        .col_expr(summary::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(summary::Column::Id.eq(row.id))
        .filter(summary::Column::Status.eq(SummaryStatus::Draft))
        .filter(summary::Column::Version.eq(version))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// Signs a draft at `version`: false if it was changed or signed meanwhile.
pub async fn sign_summary<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    version: i32,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(summary::Entity::update_many()
        .col_expr(summary::Column::Status, Expr::value(SummaryStatus::Signed))
        .col_expr(summary::Column::SignedBy, Expr::value(by))
        .col_expr(summary::Column::SignedAt, Expr::value(at))
        .col_expr(summary::Column::Version, Expr::col(summary::Column::Version).add(1))
        .col_expr(summary::Column::UpdatedAt, Expr::value(at))
        .filter(summary::Column::Id.eq(id))
        .filter(summary::Column::Status.eq(SummaryStatus::Draft))
        .filter(summary::Column::Version.eq(version))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

pub async fn insert_note<C: ConnectionTrait>(conn: &C, row: note::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_note<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<note::Model>, DbErr> {
    note::Entity::find_by_id(id).one(conn).await
}

/// A stay's nurses' notes, newest first.
pub async fn notes_of<C: ConnectionTrait>(conn: &C, admission: Uuid) -> Result<Vec<note::Model>, DbErr> {
    note::Entity::find()
        .filter(note::Column::AdmissionId.eq(admission))
        .order_by_desc(note::Column::WrittenAt)
        .all(conn)
        .await
}

pub async fn insert_io<C: ConnectionTrait>(conn: &C, row: io::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_io<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<io::Model>, DbErr> {
    io::Entity::find_by_id(id).one(conn).await
}

/// A stay's intake and output, newest first.
pub async fn io_of<C: ConnectionTrait>(conn: &C, admission: Uuid) -> Result<Vec<io::Model>, DbErr> {
    io::Entity::find()
        .filter(io::Column::AdmissionId.eq(admission))
        .order_by_desc(io::Column::MeasuredAt)
        .all(conn)
        .await
}

/// Marks an entry entered in error (kept, no longer counted): false if it already was.
pub async fn io_in_error<C: ConnectionTrait>(conn: &C, id: Uuid, reason: &str) -> Result<bool, DbErr> {
    Ok(io::Entity::update_many()
        .col_expr(io::Column::ErrorReason, Expr::value(reason))
        .filter(io::Column::Id.eq(id))
        .filter(io::Column::ErrorReason.is_null())
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

pub async fn insert_task<C: ConnectionTrait>(conn: &C, row: task::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_task<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<task::Model>, DbErr> {
    task::Entity::find_by_id(id).one(conn).await
}

/// A stay's tasks by due time.
pub async fn tasks_of<C: ConnectionTrait>(conn: &C, admission: Uuid) -> Result<Vec<task::Model>, DbErr> {
    task::Entity::find()
        .filter(task::Column::AdmissionId.eq(admission))
        .order_by_asc(task::Column::DueAt)
        .all(conn)
        .await
}

/// The open tasks of several stays (a ward's), by due time.
pub async fn open_tasks_of<C: ConnectionTrait>(conn: &C, stays: &[Uuid]) -> Result<Vec<task::Model>, DbErr> {
    if stays.is_empty() {
        return Ok(Vec::new());
    }
    task::Entity::find()
        .filter(task::Column::AdmissionId.is_in(stays.iter().copied()))
        .filter(task::Column::Status.eq(TaskStatus::Open))
        .order_by_asc(task::Column::DueAt)
        .all(conn)
        .await
}

/// Closes an open task (done or cancelled): false if it was closed meanwhile.
pub async fn close_task<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    to: TaskStatus,
    outcome: Option<&str>,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(to))
        .col_expr(task::Column::Outcome, Expr::value(outcome.map(str::to_owned)))
        .col_expr(task::Column::DoneBy, Expr::value(by))
        .col_expr(task::Column::DoneAt, Expr::value(at))
        .col_expr(task::Column::Version, Expr::col(task::Column::Version).add(1))
        .filter(task::Column::Id.eq(id))
        .filter(task::Column::Status.eq(TaskStatus::Open))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}
