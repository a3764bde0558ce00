//! Queries of imaging. An order moves by conditional UPDATEs (the states it may move from),
//! so a cancel racing the examination cannot both win; a room's start time is held by a
//! unique index; an authorised report is never changed in place — an amendment is a new
//! revision and the old one is marked superseded, still readable.

use chrono::{DateTime, Utc};
use salus_core::imaging::{ImagingStatus, Modality, ReportStatus};
use salus_core::laboratory::Priority;
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, Order, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
};
use uuid::Uuid;

use crate::entity::{attachment, imaging_image, imaging_order, imaging_procedure, imaging_report};
use crate::merge::PatientLink;

/// A merged patient's imaging orders and reports are the survivor's (the images are
/// attachments, which follow with the clinical record).
pub const PATIENT_LINKS: &[PatientLink] = &[
    PatientLink::follows_versioned("imaging_orders"),
    PatientLink::follows_versioned("imaging_reports").part_of("order_id", "imaging_orders"),
];

/// The catalog by modality and name (retired procedures too when asked).
pub async fn procedures<C: ConnectionTrait>(
    conn: &C,
    include_inactive: bool,
) -> Result<Vec<imaging_procedure::Model>, DbErr> {
    let mut q = imaging_procedure::Entity::find()
        .order_by_asc(imaging_procedure::Column::Modality)
        .order_by_asc(imaging_procedure::Column::Name);
    if !include_inactive {
        q = q.filter(imaging_procedure::Column::Active.eq(true));
    }
    q.all(conn).await
}

pub async fn find_procedure<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<imaging_procedure::Model>, DbErr> {
    imaging_procedure::Entity::find_by_id(id).one(conn).await
}

/// Retires or reactivates a procedure; false if it already was so.
pub async fn set_procedure_active<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    active: bool,
) -> Result<bool, DbErr> {
    Ok(imaging_procedure::Entity::update_many()
        .col_expr(imaging_procedure::Column::Active, Expr::value(active))
        .col_expr(imaging_procedure::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(imaging_procedure::Column::Version, Expr::col(imaging_procedure::Column::Version).add(1))
        .filter(imaging_procedure::Column::Id.eq(id))
        .filter(imaging_procedure::Column::Active.ne(active))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

pub async fn find_procedure_by_code<C: ConnectionTrait>(
    conn: &C,
    code: &str,
) -> Result<Option<imaging_procedure::Model>, DbErr> {
    imaging_procedure::Entity::find().filter(imaging_procedure::Column::Code.eq(code)).one(conn).await
}

pub async fn insert_order<C: ConnectionTrait>(conn: &C, row: imaging_order::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_order<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<imaging_order::Model>, DbErr> {
    imaging_order::Entity::find_by_id(id).one(conn).await
}

/// A patient's imaging orders, newest first.
pub async fn orders_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    limit: u64,
) -> Result<Vec<imaging_order::Model>, DbErr> {
    imaging_order::Entity::find()
        .filter(imaging_order::Column::PatientId.eq(patient))
        .order_by_desc(imaging_order::Column::CreatedAt)
        .order_by_desc(imaging_order::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// One page of the imaging worklist: orders in these states (of one modality), stat first,
/// then urgent, then by booked time, then oldest; `limit` after the first `offset`.
pub async fn worklist<C: ConnectionTrait>(
    conn: &C,
    statuses: &[ImagingStatus],
    modality: Option<Modality>,
    limit: u64,
    offset: u64,
) -> Result<Vec<imaging_order::Model>, DbErr> {
    let rank = Expr::case(imaging_order::Column::Priority.eq(Priority::Stat), 0)
        .case(imaging_order::Column::Priority.eq(Priority::Urgent), 1)
        .finally(2);
    // Booked ones before unbooked, on SQLite and PostgreSQL alike (their NULLs sort apart).
    let unbooked = Expr::case(imaging_order::Column::ScheduledAt.is_null(), 1).finally(0);
    let mut q = imaging_order::Entity::find()
        .filter(imaging_order::Column::Status.is_in(statuses.iter().copied()))
        .order_by(Into::<SimpleExpr>::into(rank), Order::Asc)
        .order_by(Into::<SimpleExpr>::into(unbooked), Order::Asc)
        .order_by_asc(imaging_order::Column::ScheduledAt)
        .order_by_asc(imaging_order::Column::CreatedAt)
        .order_by_asc(imaging_order::Column::Id)
        .limit(limit)
        .offset(offset);
    if let Some(m) = modality {
        q = q.filter(imaging_order::Column::Modality.eq(m));
    }
    q.all(conn).await
}

/// Scheduled orders in `room` starting before `until` and after `from` (to find overlaps).
pub async fn room_bookings<C: ConnectionTrait>(
    conn: &C,
    room: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<imaging_order::Model>, DbErr> {
    imaging_order::Entity::find()
        .filter(imaging_order::Column::Room.eq(room))
        .filter(imaging_order::Column::Status.eq(ImagingStatus::Scheduled))
        .filter(imaging_order::Column::ScheduledAt.gt(from))
        .filter(imaging_order::Column::ScheduledAt.lt(until))
        .order_by_asc(imaging_order::Column::ScheduledAt)
        .all(conn)
        .await
}

/// The order as changed, written only if it still stands in one of `from` at the version
/// seen; false otherwise.
pub async fn update_order<C: ConnectionTrait>(
    conn: &C,
    row: imaging_order::Model,
    from: &[ImagingStatus],
) -> Result<bool, DbErr> {
    let (id, seen) = (row.id, row.version - 1);
    Ok(imaging_order::Entity::update_many()
        .set(row.into_active_model().reset_all())
        .filter(imaging_order::Column::Id.eq(id))
        .filter(imaging_order::Column::Version.eq(seen))
        .filter(imaging_order::Column::Status.is_in(from.iter().copied()))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

pub async fn insert_report<C: ConnectionTrait>(conn: &C, row: imaging_report::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

/// The current report of each of `orders` (one statement).
pub async fn current_reports<C: ConnectionTrait>(
    conn: &C,
    orders: &[Uuid],
) -> Result<Vec<imaging_report::Model>, DbErr> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    imaging_report::Entity::find()
        .filter(imaging_report::Column::OrderId.is_in(orders.iter().copied()))
        .filter(imaging_report::Column::SupersededAt.is_null())
        .all(conn)
        .await
}

/// Every version of an order's report, newest first.
pub async fn report_revisions<C: ConnectionTrait>(
    conn: &C,
    order: Uuid,
) -> Result<Vec<imaging_report::Model>, DbErr> {
    imaging_report::Entity::find()
        .filter(imaging_report::Column::OrderId.eq(order))
        .order_by_desc(imaging_report::Column::Revision)
        .all(conn)
        .await
}

/// A preliminary report rewritten, or authorised: only while it is still the current
/// preliminary version the writer saw.
pub async fn update_preliminary<C: ConnectionTrait>(
    conn: &C,
    row: imaging_report::Model,
) -> Result<bool, DbErr> {
    Ok(imaging_report::Entity::update_many()
        .col_expr(imaging_report::Column::Status, Expr::value(row.status))
        .col_expr(imaging_report::Column::Findings, Expr::value(row.findings))
        .col_expr(imaging_report::Column::Impression, Expr::value(row.impression))
        .col_expr(imaging_report::Column::WrittenBy, Expr::value(row.written_by))
        .col_expr(imaging_report::Column::WrittenAt, Expr::value(row.written_at))
        .col_expr(imaging_report::Column::AuthorisedBy, Expr::value(row.authorised_by))
        .col_expr(imaging_report::Column::AuthorisedAt, Expr::value(row.authorised_at))
        .col_expr(imaging_report::Column::Version, Expr::value(row.version))
        .filter(imaging_report::Column::Id.eq(row.id))
        .filter(imaging_report::Column::Version.eq(row.version - 1))
        .filter(imaging_report::Column::Status.eq(ReportStatus::Preliminary))
        .filter(imaging_report::Column::SupersededAt.is_null())
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// Marks the current authorised report `id` amended by a newer revision; false if it
/// already was.
pub async fn supersede_report<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(imaging_report::Entity::update_many()
        .col_expr(imaging_report::Column::SupersededAt, Expr::value(at))
        .col_expr(imaging_report::Column::Status, Expr::value(ReportStatus::Amended))
        .col_expr(imaging_report::Column::Version, Expr::col(imaging_report::Column::Version).add(1))
        .filter(imaging_report::Column::Id.eq(id))
        .filter(imaging_report::Column::SupersededAt.is_null())
        .filter(imaging_report::Column::Status.eq(ReportStatus::Final))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// Authorised reports not yet reviewed, of the orders a doctor placed (their inbox).
pub async fn unreviewed_for<C: ConnectionTrait>(
    conn: &C,
    doctor: Uuid,
    limit: u64,
) -> Result<Vec<(imaging_report::Model, imaging_order::Model)>, DbErr> {
    // Every final order of the doctor's, however old: a report never drops out of the
    // inbox because newer orders pushed it past a window.
    let mine = imaging_order::Entity::find()
        .select_only()
        .column(imaging_order::Column::Id)
        .filter(imaging_order::Column::OrderedBy.eq(doctor))
        .filter(imaging_order::Column::Status.eq(ImagingStatus::Final))
        .into_query();
    let reports = imaging_report::Entity::find()
        .filter(imaging_report::Column::OrderId.in_subquery(mine))
        .filter(imaging_report::Column::SupersededAt.is_null())
        .filter(imaging_report::Column::ReviewedAt.is_null())
        .order_by_desc(imaging_report::Column::AuthorisedAt)
        .limit(limit)
        .all(conn)
        .await?;
    if reports.is_empty() {
        return Ok(Vec::new());
    }
    let orders = imaging_order::Entity::find()
        .filter(imaging_order::Column::Id.is_in(reports.iter().map(|r| r.order_id)))
        .all(conn)
        .await?;
    Ok(reports
        .into_iter()
        .filter_map(|r| orders.iter().find(|o| o.id == r.order_id).cloned().map(|o| (r, o)))
        .collect())
}

/// Marks a patient's current authorised reports seen by the doctor `by`; how many.
pub async fn mark_reviewed<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    ids: &[Uuid],
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(imaging_report::Entity::update_many()
        .col_expr(imaging_report::Column::ReviewedBy, Expr::value(by))
        .col_expr(imaging_report::Column::ReviewedAt, Expr::value(at))
        .filter(imaging_report::Column::PatientId.eq(patient))
        .filter(imaging_report::Column::Id.is_in(ids.iter().copied()))
        .filter(imaging_report::Column::ReviewedAt.is_null())
        .filter(imaging_report::Column::Status.ne(ReportStatus::Preliminary))
        .exec(conn)
        .await?
        .rows_affected)
}

pub async fn insert_image<C: ConnectionTrait>(conn: &C, row: imaging_image::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

/// The images and PDFs of an order, in the order they were added.
pub async fn images_of<C: ConnectionTrait>(conn: &C, order: Uuid) -> Result<Vec<attachment::Model>, DbErr> {
    let ids: Vec<Uuid> = imaging_image::Entity::find()
        .filter(imaging_image::Column::OrderId.eq(order))
        .order_by_asc(imaging_image::Column::AddedAt)
        .all(conn)
        .await?
        .into_iter()
        .map(|i| i.attachment_id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = attachment::Entity::find()
        .filter(attachment::Column::Id.is_in(ids.iter().copied()))
        .filter(attachment::Column::ErrorReason.is_null())
        .all(conn)
        .await?;
    rows.sort_by_key(|a| ids.iter().position(|i| *i == a.id));
    Ok(rows)
}
