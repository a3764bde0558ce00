//! Queries of the laboratory. State changes are conditional UPDATEs (the status they move
//! from, the version seen), so two technicians acting on one specimen cannot both win; a
//! result is never updated in place once verified — a correction is a new revision and
//! the old one is marked superseded, still readable.

use chrono::{DateTime, Utc};
use salus_core::laboratory::{OrderStatus, Priority, ResultStatus};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, Order, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set,
};
use uuid::Uuid;

use crate::entity::{
    lab_accession_sequence, lab_critical_alert, lab_order, lab_panel_member, lab_reference_range, lab_result,
    lab_specimen, lab_test, service,
};
use crate::merge::PatientLink;

/// A merged patient's orders, specimens, results and alerts are the survivor's:
/// a critical potassium that stayed with the duplicate would be acted on by no one.
pub const PATIENT_LINKS: &[PatientLink] = &[
    PatientLink::follows_versioned("lab_orders"),
    PatientLink::follows_versioned("lab_specimens"),
    PatientLink::follows_versioned("lab_results").part_of("order_id", "lab_orders"),
    PatientLink::follows("lab_critical_alerts"),
];

/// The catalog by section and name (inactive entries too when asked).
pub async fn tests<C: ConnectionTrait>(
    conn: &C,
    include_inactive: bool,
) -> Result<Vec<lab_test::Model>, DbErr> {
    let mut q =
        lab_test::Entity::find().order_by_asc(lab_test::Column::Section).order_by_asc(lab_test::Column::Name);
    if !include_inactive {
        q = q.filter(lab_test::Column::Active.eq(true));
    }
    q.all(conn).await
}

/// Retires or reactivates a catalog entry; false if it already was so.
pub async fn set_test_active<C: ConnectionTrait>(conn: &C, id: Uuid, active: bool) -> Result<bool, DbErr> {
    Ok(lab_test::Entity::update_many()
        .col_expr(lab_test::Column::Active, Expr::value(active))
        .col_expr(lab_test::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(lab_test::Column::Version, Expr::col(lab_test::Column::Version).add(1))
        .filter(lab_test::Column::Id.eq(id))
        .filter(lab_test::Column::Active.ne(active))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

pub async fn find_test<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<lab_test::Model>, DbErr> {
    lab_test::Entity::find_by_id(id).one(conn).await
}

pub async fn tests_by_ids<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> Result<Vec<lab_test::Model>, DbErr> {
    lab_test::Entity::find().filter(lab_test::Column::Id.is_in(ids.iter().copied())).all(conn).await
}

pub async fn find_test_by_code<C: ConnectionTrait>(
    conn: &C,
    code: &str,
) -> Result<Option<lab_test::Model>, DbErr> {
    lab_test::Entity::find().filter(lab_test::Column::Code.eq(code)).one(conn).await
}

versioned_update!(
    /// Saves a catalog entry over version `row.version - 1`; false if someone saved first.
    update_test,
    lab_test
);

/// The analytes of the panels `panels`, as (panel, member) in each panel's order.
pub async fn panel_members<C: ConnectionTrait>(
    conn: &C,
    panels: &[Uuid],
) -> Result<Vec<lab_panel_member::Model>, DbErr> {
    lab_panel_member::Entity::find()
        .filter(lab_panel_member::Column::PanelId.is_in(panels.iter().copied()))
        .order_by_asc(lab_panel_member::Column::PanelId)
        .order_by_asc(lab_panel_member::Column::Position)
        .all(conn)
        .await
}

/// Every reference range of the tests `tests`.
pub async fn ranges_of<C: ConnectionTrait>(
    conn: &C,
    tests: &[Uuid],
) -> Result<Vec<lab_reference_range::Model>, DbErr> {
    lab_reference_range::Entity::find()
        .filter(lab_reference_range::Column::TestId.is_in(tests.iter().copied()))
        .order_by_asc(lab_reference_range::Column::AgeFromDays)
        .all(conn)
        .await
}

/// The active price-list entries with these codes.
pub async fn services_by_code<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<service::Model>, DbErr> {
    service::Entity::find()
        .filter(service::Column::Code.is_in(codes.iter().cloned()))
        .filter(service::Column::Active.eq(true))
        .all(conn)
        .await
}

pub async fn insert_orders<C: ConnectionTrait>(conn: &C, rows: Vec<lab_order::Model>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    lab_order::Entity::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
        .exec(conn)
        .await
        .map(|_| ())
}

pub async fn find_order<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<lab_order::Model>, DbErr> {
    lab_order::Entity::find_by_id(id).one(conn).await
}

pub async fn orders_by_ids<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> Result<Vec<lab_order::Model>, DbErr> {
    lab_order::Entity::find().filter(lab_order::Column::Id.is_in(ids.iter().copied())).all(conn).await
}

/// A patient's orders, newest first.
pub async fn orders_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    limit: u64,
) -> Result<Vec<lab_order::Model>, DbErr> {
    lab_order::Entity::find()
        .filter(lab_order::Column::PatientId.eq(patient))
        .order_by_desc(lab_order::Column::CreatedAt)
        .order_by_desc(lab_order::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// The orders on one specimen.
pub async fn orders_of_specimen<C: ConnectionTrait>(
    conn: &C,
    specimen: Uuid,
) -> Result<Vec<lab_order::Model>, DbErr> {
    lab_order::Entity::find().filter(lab_order::Column::SpecimenId.eq(specimen)).all(conn).await
}

/// One page of the lab's worklist: order lines in these states (of one bench), stat first,
/// then urgent, then oldest first; `limit` lines after the first `offset`.
pub async fn worklist<C: ConnectionTrait>(
    conn: &C,
    statuses: &[OrderStatus],
    section: Option<&str>,
    limit: u64,
    offset: u64,
) -> Result<Vec<lab_order::Model>, DbErr> {
    let rank = Expr::case(lab_order::Column::Priority.eq(Priority::Stat), 0)
        .case(lab_order::Column::Priority.eq(Priority::Urgent), 1)
        .finally(2);
    let mut q = lab_order::Entity::find()
        .filter(lab_order::Column::Status.is_in(statuses.iter().copied()))
        .order_by(Into::<SimpleExpr>::into(rank), Order::Asc)
        .order_by_asc(lab_order::Column::CreatedAt)
        .order_by_asc(lab_order::Column::Id)
        .limit(limit)
        .offset(offset);
    if let Some(section) = section {
        let tests = lab_test::Entity::find()
            .select_only()
            .column(lab_test::Column::Id)
            .filter(lab_test::Column::Section.eq(section))
            .into_query();
        q = q.filter(lab_order::Column::TestId.in_subquery(tests));
    }
    q.all(conn).await
}

/// Moves order `id` from one of `from` to `to` (with the specimen it now has, or none);
/// false if it was not in one of those states.
pub async fn move_order<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    from: &[OrderStatus],
    to: OrderStatus,
    specimen: Option<Option<Uuid>>,
    reason: Option<String>,
) -> Result<bool, DbErr> {
    let mut u = lab_order::Entity::update_many()
        .col_expr(lab_order::Column::Status, Expr::value(to))
        .col_expr(lab_order::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(lab_order::Column::Version, Expr::col(lab_order::Column::Version).add(1))
        .filter(lab_order::Column::Id.eq(id))
        .filter(lab_order::Column::Status.is_in(from.iter().copied()));
    if let Some(s) = specimen {
        u = u.col_expr(lab_order::Column::SpecimenId, Expr::value(s));
    }
    if let Some(r) = reason {
        u = u.col_expr(lab_order::Column::CancelReason, Expr::value(r));
    }
    Ok(u.exec(conn).await?.rows_affected == 1)
}

/// The next number of an accession series: one statement, and on PostgreSQL the row's
/// lock makes concurrent collections take turns, so numbers are gapless and never reused.
pub async fn next_accession<C: ConnectionTrait>(conn: &C, series: &str) -> Result<i64, DbErr> {
    let row = lab_accession_sequence::Entity::insert(lab_accession_sequence::ActiveModel {
        series: Set(series.to_owned()),
        last: Set(1),
    })
    .on_conflict(
        OnConflict::column(lab_accession_sequence::Column::Series)
            .value(
                lab_accession_sequence::Column::Last,
                Expr::col((lab_accession_sequence::Entity, lab_accession_sequence::Column::Last)).add(1),
            )
            .to_owned(),
    )
    .exec_with_returning(conn)
    .await?;
    Ok(row.last)
}

pub async fn insert_specimen<C: ConnectionTrait>(conn: &C, row: lab_specimen::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_specimen<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<lab_specimen::Model>, DbErr> {
    lab_specimen::Entity::find_by_id(id).one(conn).await
}

pub async fn find_specimen_by_accession<C: ConnectionTrait>(
    conn: &C,
    accession: &str,
) -> Result<Option<lab_specimen::Model>, DbErr> {
    lab_specimen::Entity::find().filter(lab_specimen::Column::Accession.eq(accession)).one(conn).await
}

pub async fn specimens_by_ids<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> Result<Vec<lab_specimen::Model>, DbErr> {
    lab_specimen::Entity::find().filter(lab_specimen::Column::Id.is_in(ids.iter().copied())).all(conn).await
}

versioned_update!(
    /// Saves a specimen over version `row.version - 1`; false if someone changed it first.
    update_specimen,
    lab_specimen
);

pub async fn insert_results<C: ConnectionTrait>(conn: &C, rows: Vec<lab_result::Model>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    lab_result::Entity::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
        .exec(conn)
        .await
        .map(|_| ())
}

pub async fn find_result<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<lab_result::Model>, DbErr> {
    lab_result::Entity::find_by_id(id).one(conn).await
}

/// The current (not superseded) results of these order lines.
pub async fn current_results<C: ConnectionTrait>(
    conn: &C,
    orders: &[Uuid],
) -> Result<Vec<lab_result::Model>, DbErr> {
    lab_result::Entity::find()
        .filter(lab_result::Column::OrderId.is_in(orders.iter().copied()))
        .filter(lab_result::Column::SupersededAt.is_null())
        .order_by_asc(lab_result::Column::EnteredAt)
        .all(conn)
        .await
}

/// Every revision of the result of one order line's analyte, newest first.
pub async fn revisions<C: ConnectionTrait>(
    conn: &C,
    order: Uuid,
    test: Uuid,
) -> Result<Vec<lab_result::Model>, DbErr> {
    lab_result::Entity::find()
        .filter(lab_result::Column::OrderId.eq(order))
        .filter(lab_result::Column::TestId.eq(test))
        .order_by_desc(lab_result::Column::Revision)
        .all(conn)
        .await
}

/// The patient's latest released value of each of `tests` collected before `before`.
pub async fn previous_results<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    tests: &[Uuid],
    before: DateTime<Utc>,
) -> Result<Vec<lab_result::Model>, DbErr> {
    lab_result::Entity::find()
        .filter(lab_result::Column::PatientId.eq(patient))
        .filter(lab_result::Column::TestId.is_in(tests.iter().copied()))
        .filter(lab_result::Column::CollectedAt.lt(before))
        .filter(lab_result::Column::SupersededAt.is_null())
        .filter(lab_result::Column::Status.ne(ResultStatus::Preliminary))
        .order_by_desc(lab_result::Column::CollectedAt)
        .limit(200)
        .all(conn)
        .await
}

/// A patient's current results, newest collection first (released ones only unless asked).
pub async fn results_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    released_only: bool,
    limit: u64,
) -> Result<Vec<lab_result::Model>, DbErr> {
    let mut q = lab_result::Entity::find()
        .filter(lab_result::Column::PatientId.eq(patient))
        .filter(lab_result::Column::SupersededAt.is_null())
        .order_by_desc(lab_result::Column::CollectedAt)
        .limit(limit);
    if released_only {
        q = q.filter(lab_result::Column::Status.ne(ResultStatus::Preliminary));
    }
    q.all(conn).await
}

/// Marks the preliminary results of `orders` verified by `by`; how many. The database
/// refuses (a CHECK) a verifier who entered the result.
pub async fn verify_results<C: ConnectionTrait>(
    conn: &C,
    orders: &[Uuid],
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(lab_result::Entity::update_many()
        // A correction of a released result reads "corrected" once verified.
        .col_expr(
            lab_result::Column::Status,
            Expr::case(
                Expr::col(lab_result::Column::AmendReason).is_null(),
                Expr::value(ResultStatus::Final),
            )
            .finally(Expr::value(ResultStatus::Corrected))
            .into(),
        )
        .col_expr(lab_result::Column::VerifiedBy, Expr::value(by))
        .col_expr(lab_result::Column::VerifiedAt, Expr::value(at))
        .col_expr(lab_result::Column::Version, Expr::col(lab_result::Column::Version).add(1))
        .filter(lab_result::Column::OrderId.is_in(orders.iter().copied()))
        .filter(lab_result::Column::Status.eq(ResultStatus::Preliminary))
        .filter(lab_result::Column::SupersededAt.is_null())
        .exec(conn)
        .await?
        .rows_affected)
}

/// Marks the current result `id` superseded by a newer revision; false if it already was.
pub async fn supersede<C: ConnectionTrait>(conn: &C, id: Uuid, at: DateTime<Utc>) -> Result<bool, DbErr> {
    Ok(lab_result::Entity::update_many()
        .col_expr(lab_result::Column::SupersededAt, Expr::value(at))
        .col_expr(lab_result::Column::Version, Expr::col(lab_result::Column::Version).add(1))
        .filter(lab_result::Column::Id.eq(id))
        .filter(lab_result::Column::SupersededAt.is_null())
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// Deletes unverified results by id (a re-entry before verification replaces them;
/// nothing was released). A released result is never deleted here.
pub async fn drop_results<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(lab_result::Entity::delete_many()
        .filter(lab_result::Column::Id.is_in(ids.iter().copied()))
        .filter(lab_result::Column::Status.eq(ResultStatus::Preliminary))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Marks a patient's released results seen by the doctor `by`; how many.
pub async fn mark_reviewed<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    ids: &[Uuid],
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(lab_result::Entity::update_many()
        .col_expr(lab_result::Column::ReviewedBy, Expr::value(by))
        .col_expr(lab_result::Column::ReviewedAt, Expr::value(at))
        .filter(lab_result::Column::PatientId.eq(patient))
        .filter(lab_result::Column::Id.is_in(ids.iter().copied()))
        .filter(lab_result::Column::ReviewedAt.is_null())
        .filter(lab_result::Column::Status.ne(ResultStatus::Preliminary))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Released results not yet reviewed, of the orders a doctor placed (their inbox).
pub async fn unreviewed_for<C: ConnectionTrait>(
    conn: &C,
    doctor: Uuid,
    limit: u64,
) -> Result<Vec<lab_result::Model>, DbErr> {
    let orders = lab_order::Entity::find()
        .select_only()
        .column(lab_order::Column::Id)
        .filter(lab_order::Column::OrderedBy.eq(doctor))
        .filter(lab_order::Column::Status.eq(OrderStatus::Verified))
        .into_query();
    lab_result::Entity::find()
        .filter(lab_result::Column::OrderId.in_subquery(orders))
        .filter(lab_result::Column::ReviewedAt.is_null())
        .filter(lab_result::Column::SupersededAt.is_null())
        .filter(lab_result::Column::Status.ne(ResultStatus::Preliminary))
        .order_by_desc(lab_result::Column::VerifiedAt)
        .limit(limit)
        .all(conn)
        .await
}

pub async fn insert_alerts<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<lab_critical_alert::Model>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    lab_critical_alert::Entity::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
        .on_conflict_do_nothing_on([lab_critical_alert::Column::ResultId])
        .exec_without_returning(conn)
        .await
        .map(|_| ())
}

pub async fn find_alert<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<lab_critical_alert::Model>, DbErr> {
    lab_critical_alert::Entity::find_by_id(id).one(conn).await
}

/// Critical alerts not yet acknowledged, oldest first: a user's own and every escalated
/// one (or all, without a user).
pub async fn open_alerts<C: ConnectionTrait>(
    conn: &C,
    user: Option<Uuid>,
    limit: u64,
) -> Result<Vec<lab_critical_alert::Model>, DbErr> {
    let mut q = lab_critical_alert::Entity::find()
        .filter(lab_critical_alert::Column::AcknowledgedAt.is_null())
        .order_by_asc(lab_critical_alert::Column::CreatedAt)
        .limit(limit);
    if let Some(u) = user {
        q = q.filter(
            lab_critical_alert::Column::NotifyUserId
                .eq(u)
                .or(lab_critical_alert::Column::EscalatedAt.is_not_null()),
        );
    }
    q.all(conn).await
}

/// The latest critical alerts, newest first.
pub async fn recent_alerts<C: ConnectionTrait>(
    conn: &C,
    limit: u64,
) -> Result<Vec<lab_critical_alert::Model>, DbErr> {
    lab_critical_alert::Entity::find()
        .order_by_desc(lab_critical_alert::Column::CreatedAt)
        .limit(limit)
        .all(conn)
        .await
}

/// A patient's critical alerts, newest first.
pub async fn alerts_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
) -> Result<Vec<lab_critical_alert::Model>, DbErr> {
    lab_critical_alert::Entity::find()
        .filter(lab_critical_alert::Column::PatientId.eq(patient))
        .order_by_desc(lab_critical_alert::Column::CreatedAt)
        .limit(100)
        .all(conn)
        .await
}

/// Records the acknowledgement of alert `id`; false if it already was.
pub async fn acknowledge<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    by: Uuid,
    at: DateTime<Utc>,
    read_back: &str,
) -> Result<bool, DbErr> {
    Ok(lab_critical_alert::Entity::update_many()
        .col_expr(lab_critical_alert::Column::AcknowledgedBy, Expr::value(by))
        .col_expr(lab_critical_alert::Column::AcknowledgedAt, Expr::value(at))
        .col_expr(lab_critical_alert::Column::ReadBack, Expr::value(read_back))
        .filter(lab_critical_alert::Column::Id.eq(id))
        .filter(lab_critical_alert::Column::AcknowledgedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// Unacknowledged alerts whose time to escalate has come and that have not escalated.
pub async fn due_escalations<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
) -> Result<Vec<lab_critical_alert::Model>, DbErr> {
    lab_critical_alert::Entity::find()
        .filter(lab_critical_alert::Column::AcknowledgedAt.is_null())
        .filter(lab_critical_alert::Column::EscalatedAt.is_null())
        .filter(lab_critical_alert::Column::EscalateAt.lte(now))
        .limit(200)
        .all(conn)
        .await
}

/// Marks alert `id` escalated to `to`; false if someone acknowledged or escalated it first.
pub async fn escalate<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    at: DateTime<Utc>,
    to: &str,
) -> Result<bool, DbErr> {
    Ok(lab_critical_alert::Entity::update_many()
        .col_expr(lab_critical_alert::Column::EscalatedAt, Expr::value(at))
        .col_expr(lab_critical_alert::Column::EscalatedTo, Expr::value(to))
        .filter(lab_critical_alert::Column::Id.eq(id))
        .filter(lab_critical_alert::Column::AcknowledgedAt.is_null())
        .filter(lab_critical_alert::Column::EscalatedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// Refreshes the planner's statistics of the laboratory's large tables after a bulk load
/// (`salus generate`): without them PostgreSQL reads a patient's results through the
/// partial index of every current result — 10 million entries — instead of the patient's.
pub async fn analyze<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    crate::dialect::analyze(conn, &["lab_orders", "lab_specimens", "lab_results"]).await
}
