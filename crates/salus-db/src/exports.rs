//! Bulk exports: their rows, and the keyset scans that read a whole table a page at a
//! time in id order — one statement a page, whatever the table's size, so an export's
//! memory is a page's, and a job resumed from its last id reads on from there.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entity::{bulk_export, lab_order, lab_result, medication_order, patient};

pub async fn insert<C: ConnectionTrait>(conn: &C, row: bulk_export::Model) -> Result<(), DbErr> {
    bulk_export::Entity::insert(row.into_active_model()).exec_without_returning(conn).await.map(|_| ())
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<bulk_export::Model>, DbErr> {
    bulk_export::Entity::find_by_id(id).one(conn).await
}

/// Records where a running export stands; false when it is no longer running (cancelled
/// meanwhile), so the job stops.
pub async fn advance<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    cursor: &str,
    output: &str,
    resources: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = bulk_export::Entity::update_many()
        .col_expr(bulk_export::Column::Cursor, cursor.into())
        .col_expr(bulk_export::Column::Output, output.into())
        .col_expr(bulk_export::Column::Resources, resources.into())
        .col_expr(bulk_export::Column::UpdatedAt, now.into())
        .filter(bulk_export::Column::Id.eq(id))
        .filter(bulk_export::Column::Status.eq(IN_PROGRESS))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

pub const IN_PROGRESS: &str = "in-progress";

/// Moves a running export to `status` (complete, failed, cancelled); false when it was
/// not running.
pub async fn finish<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    status: &str,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let row = bulk_export::ActiveModel {
        status: Set(status.to_owned()),
        error: Set(error.map(str::to_owned)),
        updated_at: Set(now),
        ..Default::default()
    };
    let res = bulk_export::Entity::update_many()
        .set(row)
        .filter(bulk_export::Column::Id.eq(id))
        .filter(bulk_export::Column::Status.eq(IN_PROGRESS))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn delete<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<(), DbErr> {
    bulk_export::Entity::delete_by_id(id).exec(conn).await.map(|_| ())
}

/// One page of a keyset scan.
#[derive(Debug, Clone, Copy)]
pub struct Scan<'a> {
    /// The last id of the previous page.
    pub after: Option<Uuid>,
    /// Only these patients' rows (a group's members).
    pub patients: Option<&'a [Uuid]>,
    /// Only rows changed after this.
    pub since: Option<DateTime<Utc>>,
    pub limit: u64,
}

/// A page of a patient-owned table in id order, leaving out restricted records' rows (a
/// restricted record is read one at a time, with the glass broken, never in bulk).
pub async fn scan<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    (id, patient_col, changed): (E::Column, E::Column, E::Column),
    extra: Condition,
    scan: Scan<'_>,
) -> Result<Vec<E::Model>, DbErr> {
    let restricted = Query::select()
        .column(patient::Column::Id)
        .from(patient::Entity)
        .and_where(patient::Column::Restricted.eq(true))
        .to_owned();
    let mut q = E::find()
        .filter(extra)
        .filter(patient_col.not_in_subquery(restricted))
        .order_by_asc(id)
        .limit(scan.limit);
    if let Some(after) = scan.after {
        q = q.filter(id.gt(after));
    }
    if let Some(ids) = scan.patients {
        q = q.filter(patient_col.is_in(ids.iter().copied()));
    }
    if let Some(since) = scan.since {
        q = q.filter(changed.gt(since));
    }
    q.all(conn).await
}

/// A page of the patients themselves: not restricted, not merged away.
pub async fn scan_patients<C: ConnectionTrait>(
    conn: &C,
    scan: Scan<'_>,
) -> Result<Vec<patient::Model>, DbErr> {
    let mut q = patient::Entity::find()
        .filter(patient::Column::Restricted.eq(false))
        .filter(patient::Column::MergedInto.is_null())
        .order_by_asc(patient::Column::Id)
        .limit(scan.limit);
    if let Some(after) = scan.after {
        q = q.filter(patient::Column::Id.gt(after));
    }
    if let Some(ids) = scan.patients {
        q = q.filter(patient::Column::Id.is_in(ids.iter().copied()));
    }
    if let Some(since) = scan.since {
        q = q.filter(patient::Column::UpdatedAt.gt(since));
    }
    q.all(conn).await
}

/// Results as released: verified or amended, and not since replaced by a correction.
pub fn released() -> Condition {
    Condition::all()
        .add(lab_result::Column::SupersededAt.is_null())
        .add(lab_result::Column::Status.ne(salus_core::laboratory::ResultStatus::Preliminary))
}

/// The released results of `orders` (a page of reports' observations).
pub async fn released_results_of_orders<C: ConnectionTrait>(
    conn: &C,
    orders: &[Uuid],
) -> Result<Vec<lab_result::Model>, DbErr> {
    lab_result::Entity::find()
        .filter(released())
        .filter(lab_result::Column::OrderId.is_in(orders.iter().copied()))
        .all(conn)
        .await
}

/// The laboratory orders taken on these specimens.
pub async fn orders_of_specimens<C: ConnectionTrait>(
    conn: &C,
    specimens: &[Uuid],
) -> Result<Vec<lab_order::Model>, DbErr> {
    lab_order::Entity::find()
        .filter(lab_order::Column::SpecimenId.is_in(specimens.iter().copied()))
        .all(conn)
        .await
}

/// The ward's medication orders by id.
pub async fn medication_orders<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> Result<Vec<medication_order::Model>, DbErr> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    medication_order::Entity::find().filter(medication_order::Column::Id.is_in(ids)).all(conn).await
}
