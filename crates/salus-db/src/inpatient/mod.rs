//! Queries of inpatient care. Every change of a bed or a stay is a conditional UPDATE
//! from the state it was seen in (affected rows say who won); who lies in a bed is
//! decided by the partial unique indexes on `bed_assignments` and `admissions`.

use chrono::{DateTime, Utc};
use salus_core::inpatient::{AdmissionStatus, BedState, BedType, RequestStatus};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entity::{admission, admission_request, bed, bed_assignment, ward};
use crate::merge::PatientLink;

pub mod census;
pub mod mar;
pub mod nursing;

/// A merged patient's requests, stays and bed history are the survivor's: a patient in a
/// bed under the duplicate's name would be on nobody's list.
pub const PATIENT_LINKS: &[PatientLink] = &[
    PatientLink::follows_versioned("admission_requests"),
    PatientLink::follows_versioned("admissions"),
    PatientLink::follows("bed_assignments").part_of("admission_id", "admissions"),
    PatientLink::follows_versioned("medication_orders").part_of("admission_id", "admissions"),
    PatientLink::follows("medication_administrations").part_of("admission_id", "admissions"),
    PatientLink::follows_versioned("discharge_summaries").part_of("admission_id", "admissions"),
    PatientLink::follows("nursing_notes").part_of("admission_id", "admissions"),
    PatientLink::follows("intake_output").part_of("admission_id", "admissions"),
    PatientLink::follows_versioned("nursing_tasks").part_of("admission_id", "admissions"),
];

const IN_HOUSE: [&str; 2] = ["admitted", "discharge_ordered"];

// ---- Wards and beds ------------------------------------------------------------------

pub async fn wards<C: ConnectionTrait>(conn: &C, include_inactive: bool) -> Result<Vec<ward::Model>, DbErr> {
    let mut q = ward::Entity::find();
    if !include_inactive {
        q = q.filter(ward::Column::Active.eq(true));
    }
    q.order_by_asc(ward::Column::Name).all(conn).await
}

pub async fn find_ward<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<ward::Model>, DbErr> {
    ward::Entity::find_by_id(id).one(conn).await
}

pub async fn insert_ward<C: ConnectionTrait>(conn: &C, row: ward::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn insert_beds<C: ConnectionTrait>(conn: &C, rows: Vec<bed::Model>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    bed::Entity::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
        .exec_without_returning(conn)
        .await
        .map(|_| ())
}

/// A ward's beds (every ward's when `ward` is `None`), by ward, room and label.
pub async fn beds<C: ConnectionTrait>(conn: &C, ward: Option<Uuid>) -> Result<Vec<bed::Model>, DbErr> {
    let mut q = bed::Entity::find().filter(bed::Column::Active.eq(true));
    if let Some(w) = ward {
        q = q.filter(bed::Column::WardId.eq(w));
    }
    q.order_by_asc(bed::Column::WardId)
        .order_by_asc(bed::Column::Room)
        .order_by_asc(bed::Column::Label)
        .all(conn)
        .await
}

pub async fn beds_by_ids<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> Result<Vec<bed::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    bed::Entity::find().filter(bed::Column::Id.is_in(ids.iter().copied())).all(conn).await
}

pub async fn find_bed<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<bed::Model>, DbErr> {
    bed::Entity::find_by_id(id).one(conn).await
}

/// Free beds (available) of a type, and of a ward when given, by ward and label.
pub async fn free_beds<C: ConnectionTrait>(
    conn: &C,
    bed_type: Option<BedType>,
    ward: Option<Uuid>,
    limit: u64,
) -> Result<Vec<bed::Model>, DbErr> {
    let mut q = bed::Entity::find()
        .filter(bed::Column::Active.eq(true))
        .filter(bed::Column::State.eq(BedState::Available.as_str()));
    if let Some(t) = bed_type {
        q = q.filter(bed::Column::BedType.eq(t.as_str()));
    }
    if let Some(w) = ward {
        q = q.filter(bed::Column::WardId.eq(w));
    }
    q.order_by_asc(bed::Column::WardId).order_by_asc(bed::Column::Label).limit(limit).all(conn).await
}

/// The beds held for waiting requests.
pub async fn held_beds<C: ConnectionTrait>(conn: &C) -> Result<Vec<bed::Model>, DbErr> {
    bed::Entity::find()
        .filter(bed::Column::Active.eq(true))
        .filter(bed::Column::State.eq(BedState::Reserved.as_str()))
        .all(conn)
        .await
}

/// Moves a bed from one of `from` to `to`, with its reason and the request it is held for
/// (both cleared when `None`): false (nothing changed) if it stands elsewhere by now.
pub async fn move_bed<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    from: &[BedState],
    to: BedState,
    reason: Option<&str>,
    reserved_for: Option<Uuid>,
) -> Result<bool, DbErr> {
    Ok(bed::Entity::update_many()
        .col_expr(bed::Column::State, Expr::value(to.as_str()))
        .col_expr(bed::Column::StateReason, Expr::value(reason))
        .col_expr(bed::Column::ReservedFor, Expr::value(reserved_for))
        .col_expr(bed::Column::Version, Expr::col(bed::Column::Version).add(1))
        .col_expr(bed::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(bed::Column::Id.eq(id))
        .filter(bed::Column::Active.eq(true))
        .filter(bed::Column::State.is_in(from.iter().map(|s| s.as_str())))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

// ---- Requests ------------------------------------------------------------------------

pub async fn insert_request<C: ConnectionTrait>(
    conn: &C,
    row: admission_request::Model,
) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_request<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<admission_request::Model>, DbErr> {
    admission_request::Entity::find_by_id(id).one(conn).await
}

/// The admission desk's queue: requests waiting, oldest first.
pub async fn waiting_requests<C: ConnectionTrait>(
    conn: &C,
    limit: u64,
) -> Result<Vec<admission_request::Model>, DbErr> {
    admission_request::Entity::find()
        .filter(admission_request::Column::Status.eq(RequestStatus::Requested.as_str()))
        .order_by_asc(admission_request::Column::CreatedAt)
        .limit(limit)
        .all(conn)
        .await
}

/// A patient's requests still waiting.
pub async fn waiting_requests_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
) -> Result<Vec<admission_request::Model>, DbErr> {
    admission_request::Entity::find()
        .filter(admission_request::Column::PatientId.eq(patient))
        .filter(admission_request::Column::Status.eq(RequestStatus::Requested.as_str()))
        .all(conn)
        .await
}

/// Closes a waiting request (admitted on `admission`, or cancelled with a reason): false if
/// it is no longer waiting.
pub async fn close_request<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    to: RequestStatus,
    admission: Option<Uuid>,
    cancel_reason: Option<&str>,
) -> Result<bool, DbErr> {
    Ok(admission_request::Entity::update_many()
        .col_expr(admission_request::Column::Status, Expr::value(to.as_str()))
        .col_expr(admission_request::Column::AdmissionId, Expr::value(admission))
        .col_expr(admission_request::Column::CancelReason, Expr::value(cancel_reason))
        .col_expr(admission_request::Column::Version, Expr::col(admission_request::Column::Version).add(1))
        .col_expr(admission_request::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(admission_request::Column::Id.eq(id))
        .filter(admission_request::Column::Status.eq(RequestStatus::Requested.as_str()))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

// ---- Admissions and assignments -----------------------------------------------------

pub async fn insert_admission<C: ConnectionTrait>(conn: &C, row: admission::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_admission<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<admission::Model>, DbErr> {
    admission::Entity::find_by_id(id).one(conn).await
}

/// The patients in the house (of one ward when given), by ward and admission time.
pub async fn in_house<C: ConnectionTrait>(
    conn: &C,
    ward: Option<Uuid>,
) -> Result<Vec<admission::Model>, DbErr> {
    let mut q = admission::Entity::find().filter(admission::Column::Status.is_in(IN_HOUSE));
    if let Some(w) = ward {
        q = q.filter(admission::Column::WardId.eq(w));
    }
    q.order_by_asc(admission::Column::WardId).order_by_asc(admission::Column::AdmittedAt).all(conn).await
}

/// A patient's stay in the house, if any.
pub async fn stay_of<C: ConnectionTrait>(conn: &C, patient: Uuid) -> Result<Option<admission::Model>, DbErr> {
    admission::Entity::find()
        .filter(admission::Column::PatientId.eq(patient))
        .filter(admission::Column::Status.is_in(IN_HOUSE))
        .one(conn)
        .await
}

/// Puts a stay in another bed (a transfer), if it is still in the house: false otherwise.
pub async fn move_stay<C: ConnectionTrait>(conn: &C, id: Uuid, ward: Uuid, bed: Uuid) -> Result<bool, DbErr> {
    Ok(admission::Entity::update_many()
        .col_expr(admission::Column::WardId, Expr::value(ward))
        .col_expr(admission::Column::BedId, Expr::value(bed))
        .col_expr(admission::Column::Version, Expr::col(admission::Column::Version).add(1))
        .col_expr(admission::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(admission::Column::Id.eq(id))
        .filter(admission::Column::Status.is_in(IN_HOUSE))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// Moves a stay from `from` to `to`, recording who and when: false if it stands elsewhere.
pub async fn move_admission<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    from: AdmissionStatus,
    to: AdmissionStatus,
    by: Uuid,
    disposition: Option<&str>,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let mut q = admission::Entity::update_many()
        .col_expr(admission::Column::Status, Expr::value(to.as_str()))
        .col_expr(admission::Column::Version, Expr::col(admission::Column::Version).add(1))
        .col_expr(admission::Column::UpdatedAt, Expr::value(now));
    q = match to {
        AdmissionStatus::DischargeOrdered => q
            .col_expr(admission::Column::DischargeOrderedBy, Expr::value(by))
            .col_expr(admission::Column::DischargeOrderedAt, Expr::value(now)),
        AdmissionStatus::Discharged => q
            .col_expr(admission::Column::DischargedBy, Expr::value(by))
            .col_expr(admission::Column::DischargedAt, Expr::value(now))
            .col_expr(admission::Column::Disposition, Expr::value(disposition)),
        // Back to admitted: the discharge order withdrawn.
        AdmissionStatus::Admitted => q
            .col_expr(admission::Column::DischargeOrderedBy, Expr::value(None::<Uuid>))
            .col_expr(admission::Column::DischargeOrderedAt, Expr::value(None::<DateTime<Utc>>)),
    };
    Ok(q.filter(admission::Column::Id.eq(id))
        .filter(admission::Column::Status.eq(from.as_str()))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

pub async fn insert_assignment<C: ConnectionTrait>(
    conn: &C,
    row: bed_assignment::Model,
) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

/// Ends a stay's open assignment: false if it had none open (another request ended it).
pub async fn end_assignment<C: ConnectionTrait>(conn: &C, admission: Uuid, by: Uuid) -> Result<bool, DbErr> {
    Ok(bed_assignment::Entity::update_many()
        .col_expr(bed_assignment::Column::EndedAt, Expr::value(Utc::now()))
        .col_expr(bed_assignment::Column::EndedBy, Expr::value(by))
        .filter(bed_assignment::Column::AdmissionId.eq(admission))
        .filter(bed_assignment::Column::EndedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// The open companion assignments in a bed (a baby with its mother).
pub async fn companions_in<C: ConnectionTrait>(
    conn: &C,
    bed: Uuid,
) -> Result<Vec<bed_assignment::Model>, DbErr> {
    bed_assignment::Entity::find()
        .filter(bed_assignment::Column::BedId.eq(bed))
        .filter(bed_assignment::Column::EndedAt.is_null())
        .filter(bed_assignment::Column::Companion.eq(true))
        .all(conn)
        .await
}

/// Where a stay lay, in order.
pub async fn assignments_of<C: ConnectionTrait>(
    conn: &C,
    admission: Uuid,
) -> Result<Vec<bed_assignment::Model>, DbErr> {
    bed_assignment::Entity::find()
        .filter(bed_assignment::Column::AdmissionId.eq(admission))
        .order_by_asc(bed_assignment::Column::StartedAt)
        .order_by_asc(bed_assignment::Column::Id)
        .all(conn)
        .await
}
