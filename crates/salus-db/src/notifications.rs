//! Queries of the notification outbox and its templates.

use crate::merge::PatientLink;
use chrono::{DateTime, Utc};
use salus_core::notifications::NotificationStatus;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entity::{notification, notification_template};

/// Messages to a patient follow their record through a merge.
pub const PATIENT_LINKS: &[PatientLink] = &[PatientLink::follows("notifications")];

pub async fn insert<C: ConnectionTrait>(conn: &C, row: notification::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<notification::Model>, DbErr> {
    notification::Entity::find_by_id(id).one(conn).await
}

pub async fn set_status<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    status: NotificationStatus,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    notification::Entity::update_many()
        .col_expr(notification::Column::Status, Expr::value(status))
        .col_expr(notification::Column::LastError, Expr::value(error.map(str::to_owned)))
        .col_expr(notification::Column::UpdatedAt, Expr::value(now))
        .filter(notification::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Records one attempt of a message being sent: sent (with the time), or back to pending
/// with its error. A message cancelled meanwhile stays cancelled.
pub async fn record_attempt<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    attempts: i32,
    result: Result<DateTime<Utc>, &str>,
) -> Result<(), DbErr> {
    let mut q = notification::Entity::update_many()
        .col_expr(notification::Column::Attempts, Expr::value(attempts))
        .col_expr(notification::Column::UpdatedAt, Expr::value(Utc::now()));
    q = match result {
        Ok(at) => q
            .col_expr(notification::Column::Status, Expr::value(NotificationStatus::Sent))
            .col_expr(notification::Column::SentAt, Expr::value(at))
            .col_expr(notification::Column::LastError, Expr::value(Option::<String>::None)),
        Err(e) => q
            .col_expr(notification::Column::Status, Expr::value(NotificationStatus::Pending))
            .col_expr(notification::Column::LastError, Expr::value(e)),
    };
    q.filter(notification::Column::Id.eq(id))
        .filter(notification::Column::Status.eq(NotificationStatus::Sending))
        .exec(conn)
        .await?;
    Ok(())
}

/// An appointment's messages not sent yet (pending, or failed and awaiting a retry).
pub async fn unsent_of_appointment<C: ConnectionTrait>(
    conn: &C,
    appointment: Uuid,
) -> Result<Vec<notification::Model>, DbErr> {
    notification::Entity::find()
        .filter(notification::Column::AppointmentId.eq(appointment))
        .filter(notification::Column::Status.is_in([NotificationStatus::Pending, NotificationStatus::Failed]))
        .all(conn)
        .await
}

/// Marks a message as being sent, if it is pending (or was left `sending` by a worker
/// that died more than `lease` ago); false if another worker has it or it is done.
pub async fn claim_for_sending<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    now: DateTime<Utc>,
    lease: chrono::Duration,
) -> Result<bool, DbErr> {
    let claimable =
        sea_orm::Condition::any().add(notification::Column::Status.eq(NotificationStatus::Pending)).add(
            sea_orm::Condition::all()
                .add(notification::Column::Status.eq(NotificationStatus::Sending))
                .add(notification::Column::UpdatedAt.lt(now - lease)),
        );
    let res = notification::Entity::update_many()
        .col_expr(notification::Column::Status, Expr::value(NotificationStatus::Sending))
        .col_expr(notification::Column::UpdatedAt, Expr::value(now))
        .filter(notification::Column::Id.eq(id))
        .filter(claimable)
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Puts a failed message back to pending (an administrator's retry); a cancelled or sent
/// one stays as it is.
pub async fn reopen_failed<C: ConnectionTrait>(conn: &C, id: Uuid, now: DateTime<Utc>) -> Result<(), DbErr> {
    notification::Entity::update_many()
        .col_expr(notification::Column::Status, Expr::value(NotificationStatus::Pending))
        .col_expr(notification::Column::UpdatedAt, Expr::value(now))
        .filter(notification::Column::Id.eq(id))
        .filter(notification::Column::Status.eq(NotificationStatus::Failed))
        .exec(conn)
        .await?;
    Ok(())
}

/// A patient's notifications, newest first (or all, when `patient` is `None`).
pub async fn recent<C: ConnectionTrait>(
    conn: &C,
    patient: Option<Uuid>,
    limit: u64,
) -> Result<Vec<notification::Model>, DbErr> {
    let mut q = notification::Entity::find().order_by_desc(notification::Column::CreatedAt).limit(limit);
    if let Some(p) = patient {
        q = q.filter(notification::Column::PatientId.eq(p));
    }
    q.all(conn).await
}

pub async fn template<C: ConnectionTrait>(
    conn: &C,
    kind: &str,
    channel: &str,
    language: &str,
) -> Result<Option<notification_template::Model>, DbErr> {
    notification_template::Entity::find_by_id((kind.to_owned(), channel.to_owned(), language.to_owned()))
        .one(conn)
        .await
}

pub async fn templates<C: ConnectionTrait>(conn: &C) -> Result<Vec<notification_template::Model>, DbErr> {
    notification_template::Entity::find()
        .order_by_asc(notification_template::Column::Kind)
        .order_by_asc(notification_template::Column::Channel)
        .order_by_asc(notification_template::Column::Language)
        .all(conn)
        .await
}

/// Inserts or replaces a template.
pub async fn put_template<C: ConnectionTrait>(
    conn: &C,
    row: notification_template::Model,
) -> Result<(), DbErr> {
    notification_template::Entity::insert(row.into_active_model())
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([
                notification_template::Column::Kind,
                notification_template::Column::Channel,
                notification_template::Column::Language,
            ])
            .update_columns([
                notification_template::Column::Subject,
                notification_template::Column::Body,
                notification_template::Column::UpdatedAt,
                notification_template::Column::UpdatedBy,
            ])
            .to_owned(),
        )
        .exec(conn)
        .await
        .map(|_| ())
}
