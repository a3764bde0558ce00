//! Queries of the medication administration record. A dose's record in force is decided
//! by the partial unique index `medication_administrations_dose_key`; stopping an order,
//! retiring a record for its amendment and acknowledging a dose are conditional UPDATEs
//! from the state they were seen in.

use chrono::{DateTime, Utc};
use salus_core::inpatient::mar::OrderStatus;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

use crate::entity::{medication_administration as administration, medication_order as order};

pub async fn insert_order<C: ConnectionTrait>(conn: &C, row: order::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_order<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<order::Model>, DbErr> {
    order::Entity::find_by_id(id).one(conn).await
}

/// A stay's orders, oldest first.
pub async fn orders_of<C: ConnectionTrait>(conn: &C, admission: Uuid) -> Result<Vec<order::Model>, DbErr> {
    order::Entity::find()
        .filter(order::Column::AdmissionId.eq(admission))
        .order_by_asc(order::Column::CreatedAt)
        .all(conn)
        .await
}

/// The orders of several stays (a ward's): one statement.
pub async fn orders_of_stays<C: ConnectionTrait>(
    conn: &C,
    stays: &[Uuid],
) -> Result<Vec<order::Model>, DbErr> {
    if stays.is_empty() {
        return Ok(Vec::new());
    }
    order::Entity::find()
        .filter(order::Column::AdmissionId.is_in(stays.iter().copied()))
        .order_by_asc(order::Column::CreatedAt)
        .all(conn)
        .await
}

/// Stops an active order: false if it was stopped meanwhile.
pub async fn stop_order<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    by: Uuid,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(OrderStatus::Stopped))
        .col_expr(order::Column::StopReason, Expr::value(reason))
        .col_expr(order::Column::StoppedBy, Expr::value(by))
        .col_expr(order::Column::StoppedAt, Expr::value(at))
        .col_expr(order::Column::Version, Expr::col(order::Column::Version).add(1))
        .filter(order::Column::Id.eq(id))
        .filter(order::Column::Status.eq(OrderStatus::Active))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

pub async fn insert_administration<C: ConnectionTrait>(
    conn: &C,
    row: administration::Model,
) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_administration<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<administration::Model>, DbErr> {
    administration::Entity::find_by_id(id).one(conn).await
}

/// Every record of some orders (superseded ones too), by time given.
pub async fn administrations_of<C: ConnectionTrait>(
    conn: &C,
    orders: &[Uuid],
    since: Option<DateTime<Utc>>,
) -> Result<Vec<administration::Model>, DbErr> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let mut q =
        administration::Entity::find().filter(administration::Column::OrderId.is_in(orders.iter().copied()));
    if let Some(since) = since {
        q = q.filter(
            administration::Column::DueAt
                .gte(since)
                .or(administration::Column::DueAt.is_null().and(administration::Column::GivenAt.gte(since))),
        );
    }
    q.order_by_asc(administration::Column::GivenAt)
        .order_by_asc(administration::Column::RecordedAt)
        .all(conn)
        .await
}

/// Retires a record in force for its amendment: false if it was amended meanwhile.
pub async fn retire<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<bool, DbErr> {
    Ok(administration::Entity::update_many()
        .col_expr(administration::Column::Current, Expr::value(false))
        .filter(administration::Column::Id.eq(id))
        .filter(administration::Column::Current.eq(true))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// The doctor's acknowledgement of a dose waiting for it: false if it was not waiting.
pub async fn acknowledge<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(administration::Entity::update_many()
        .col_expr(administration::Column::AcknowledgedBy, Expr::value(by))
        .col_expr(administration::Column::AcknowledgedAt, Expr::value(at))
        .filter(administration::Column::Id.eq(id))
        .filter(administration::Column::Current.eq(true))
        .filter(administration::Column::NeedsAck.eq(true))
        .filter(administration::Column::AcknowledgedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// The doses given on the doctor's word that wait for a doctor's acknowledgement, for
/// some stays (a doctor's list).
pub async fn unacknowledged<C: ConnectionTrait>(
    conn: &C,
    stays: &[Uuid],
) -> Result<Vec<administration::Model>, DbErr> {
    if stays.is_empty() {
        return Ok(Vec::new());
    }
    administration::Entity::find()
        .filter(administration::Column::AdmissionId.is_in(stays.iter().copied()))
        .filter(administration::Column::Current.eq(true))
        .filter(administration::Column::NeedsAck.eq(true))
        .filter(administration::Column::AcknowledgedAt.is_null())
        .order_by_asc(administration::Column::GivenAt)
        .all(conn)
        .await
}
