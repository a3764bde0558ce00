//! Queries of scheduling: session templates, exceptions, appointments and walk-in tokens.
//! The seat rule (see the migration) is the database's; these functions only read and
//! write rows.

use crate::merge::PatientLink;
use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::entity::{appointment, queue_token, schedule_exception, schedule_template};

/// Appointments follow their patient through a merge.
pub const PATIENT_LINKS: &[PatientLink] = &[PatientLink::follows_versioned("appointments")];

pub async fn insert_template<C: ConnectionTrait>(
    conn: &C,
    row: schedule_template::Model,
) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_template<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<schedule_template::Model>, DbErr> {
    schedule_template::Entity::find_by_id(id).one(conn).await
}

versioned_update!(
    /// Saves `row` over version `row.version - 1`; false if someone saved first.
    update_template,
    schedule_template
);

/// Templates of some doctors (all, when `doctors` is `None`), active or not.
pub async fn templates<C: ConnectionTrait>(
    conn: &C,
    doctors: Option<&[Uuid]>,
) -> Result<Vec<schedule_template::Model>, DbErr> {
    let mut q = schedule_template::Entity::find()
        .order_by_asc(schedule_template::Column::DoctorId)
        .order_by_asc(schedule_template::Column::Weekday)
        .order_by_asc(schedule_template::Column::StartTime);
    if let Some(ids) = doctors {
        q = q.filter(schedule_template::Column::DoctorId.is_in(ids.iter().copied()));
    }
    q.all(conn).await
}

pub async fn insert_exception<C: ConnectionTrait>(
    conn: &C,
    row: schedule_exception::Model,
) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn delete_exception<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<bool, DbErr> {
    Ok(schedule_exception::Entity::delete_by_id(id).exec(conn).await?.rows_affected == 1)
}

pub async fn find_exception<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<schedule_exception::Model>, DbErr> {
    schedule_exception::Entity::find_by_id(id).one(conn).await
}

/// Exceptions from `from` to `to` (inclusive) for these doctors and everyone's holidays.
pub async fn exceptions<C: ConnectionTrait>(
    conn: &C,
    doctors: Option<&[Uuid]>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<schedule_exception::Model>, DbErr> {
    let mut q = schedule_exception::Entity::find()
        .filter(schedule_exception::Column::Date.between(from, to))
        .order_by_asc(schedule_exception::Column::Date);
    if let Some(ids) = doctors {
        q = q.filter(
            schedule_exception::Column::DoctorId
                .is_in(ids.iter().copied())
                .or(schedule_exception::Column::DoctorId.is_null()),
        );
    }
    q.all(conn).await
}

/// Places taken per (doctor, date, time) from `from` to `to`: appointments holding a seat.
pub async fn seats_taken<C: ConnectionTrait>(
    conn: &C,
    doctors: Option<&[Uuid]>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(Uuid, NaiveDate, String, i64)>, DbErr> {
    let mut q = appointment::Entity::find()
        .select_only()
        .column(appointment::Column::DoctorId)
        .column(appointment::Column::SlotDate)
        .column(appointment::Column::SlotTime)
        .column_as(Expr::col(appointment::Column::Id).count(), "taken")
        .filter(appointment::Column::SlotDate.between(from, to))
        .filter(appointment::Column::Seat.is_not_null())
        .group_by(appointment::Column::DoctorId)
        .group_by(appointment::Column::SlotDate)
        .group_by(appointment::Column::SlotTime);
    if let Some(ids) = doctors {
        q = q.filter(appointment::Column::DoctorId.is_in(ids.iter().copied()));
    }
    q.into_tuple().all(conn).await
}

/// The seats held in one slot.
pub async fn seats_in_slot<C: ConnectionTrait>(
    conn: &C,
    doctor: Uuid,
    date: NaiveDate,
    time: &str,
) -> Result<Vec<i32>, DbErr> {
    appointment::Entity::find()
        .select_only()
        .column(appointment::Column::Seat)
        .filter(appointment::Column::DoctorId.eq(doctor))
        .filter(appointment::Column::SlotDate.eq(date))
        .filter(appointment::Column::SlotTime.eq(time))
        .filter(appointment::Column::Seat.is_not_null())
        .into_tuple::<i32>()
        .all(conn)
        .await
}

pub async fn insert_appointment<C: ConnectionTrait>(conn: &C, row: appointment::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_appointment<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<appointment::Model>, DbErr> {
    appointment::Entity::find_by_id(id).one(conn).await
}

versioned_update!(
    /// Saves `row` over version `row.version - 1`; false if someone saved first.
    update_appointment,
    appointment
);

/// A day's appointments, of some doctors or all, in time then token order.
pub async fn appointments_on<C: ConnectionTrait>(
    conn: &C,
    date: NaiveDate,
    doctors: Option<&[Uuid]>,
) -> Result<Vec<appointment::Model>, DbErr> {
    let mut q = appointment::Entity::find()
        .filter(appointment::Column::SlotDate.eq(date))
        .order_by_asc(appointment::Column::StartsAt)
        .order_by_asc(appointment::Column::Token);
    if let Some(ids) = doctors {
        q = q.filter(appointment::Column::DoctorId.is_in(ids.iter().copied()));
    }
    q.all(conn).await
}

/// A patient's appointments, latest first.
pub async fn appointments_of_patient<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    limit: u64,
) -> Result<Vec<appointment::Model>, DbErr> {
    appointment::Entity::find()
        .filter(appointment::Column::PatientId.eq(patient))
        .order_by_desc(appointment::Column::StartsAt)
        .limit(limit)
        .all(conn)
        .await
}

/// Takes the next waiting-room token of a doctor on a day, in the caller's transaction.
pub async fn next_token<C: ConnectionTrait>(conn: &C, doctor: Uuid, date: NaiveDate) -> Result<i32, DbErr> {
    queue_token::Entity::insert(queue_token::ActiveModel {
        doctor_id: Set(doctor),
        date: Set(date),
        next_value: Set(1),
    })
    .on_conflict_do_nothing()
    .exec(conn)
    .await?;
    // The UPDATE takes the row's lock on PostgreSQL: two instances take turns here.
    queue_token::Entity::update_many()
        .col_expr(queue_token::Column::NextValue, Expr::col(queue_token::Column::NextValue).add(1))
        .filter(queue_token::Column::DoctorId.eq(doctor))
        .filter(queue_token::Column::Date.eq(date))
        .exec(conn)
        .await?;
    let row = queue_token::Entity::find_by_id((doctor, date))
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("queue token".into()))?;
    Ok(row.next_value - 1)
}

/// Inserts many appointments at once (the benchmark's bookings, imports).
pub async fn insert_appointments<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<appointment::Model>,
) -> Result<(), DbErr> {
    // 23 columns a row: 500 rows stay far below SQLite's 32,766 parameters.
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<appointment::ActiveModel> =
            rows.by_ref().take(500).map(IntoActiveModel::into_active_model).collect();
        appointment::Entity::insert_many(chunk).exec(conn).await?;
    }
    Ok(())
}

/// Inserts many session templates at once.
pub async fn insert_templates<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<schedule_template::Model>,
) -> Result<(), DbErr> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<schedule_template::ActiveModel> =
            rows.by_ref().take(500).map(IntoActiveModel::into_active_model).collect();
        schedule_template::Entity::insert_many(chunk).exec(conn).await?;
    }
    Ok(())
}

/// Doctors with an active weekly session in a department.
pub async fn doctors_with_sessions_in<C: ConnectionTrait>(
    conn: &C,
    department: Uuid,
) -> Result<Vec<Uuid>, DbErr> {
    schedule_template::Entity::find()
        .select_only()
        .column(schedule_template::Column::DoctorId)
        .distinct()
        .filter(schedule_template::Column::DepartmentId.eq(department))
        .filter(schedule_template::Column::Active.eq(true))
        .into_tuple()
        .all(conn)
        .await
}
