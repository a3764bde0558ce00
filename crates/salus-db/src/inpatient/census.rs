//! Queries that count the wards: who lay in a bed at a moment (the midnight census),
//! stays admitted or discharged in a period (the register), and the bed history of many
//! stays at once (the night's bed-day charges).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::entity::{admission, bed_assignment};

/// The patients in a bed (companions aside) at `at`.
pub async fn in_bed_at<C: ConnectionTrait>(
    conn: &C,
    at: DateTime<Utc>,
) -> Result<Vec<bed_assignment::Model>, DbErr> {
    bed_assignment::Entity::find()
        .filter(bed_assignment::Column::Companion.eq(false))
        .filter(bed_assignment::Column::StartedAt.lte(at))
        .filter(
            Condition::any()
                .add(bed_assignment::Column::EndedAt.is_null())
                .add(bed_assignment::Column::EndedAt.gt(at)),
        )
        .all(conn)
        .await
}

/// Stays admitted, or discharged, between `from` and `to`: the register.
pub async fn register<C: ConnectionTrait>(
    conn: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<admission::Model>, DbErr> {
    admission::Entity::find()
        .filter(
            Condition::any()
                .add(admission::Column::AdmittedAt.gte(from).and(admission::Column::AdmittedAt.lt(to)))
                .add(admission::Column::DischargedAt.gte(from).and(admission::Column::DischargedAt.lt(to))),
        )
        .order_by_asc(admission::Column::AdmittedAt)
        .all(conn)
        .await
}

/// The bed histories of several stays, in order.
pub async fn assignments_of_stays<C: ConnectionTrait>(
    conn: &C,
    stays: &[Uuid],
) -> Result<Vec<bed_assignment::Model>, DbErr> {
    if stays.is_empty() {
        return Ok(Vec::new());
    }
    bed_assignment::Entity::find()
        .filter(bed_assignment::Column::AdmissionId.is_in(stays.iter().copied()))
        .order_by_asc(bed_assignment::Column::StartedAt)
        .all(conn)
        .await
}

/// What changes when anything on a ward's board changes: its beds' latest change, its
/// stays' latest change and how many beds are taken. Three indexed looks; a board's
/// event stream compares it each second.
pub async fn board_signature<C: ConnectionTrait>(conn: &C, ward: Uuid) -> Result<String, DbErr> {
    use crate::entity::bed;
    use sea_orm::{PaginatorTrait, QuerySelect};
    let (beds, stays, taken) = tokio::try_join!(
        bed::Entity::find()
            .filter(bed::Column::WardId.eq(ward))
            .order_by_desc(bed::Column::UpdatedAt)
            .limit(1)
            .one(conn),
        admission::Entity::find()
            .filter(admission::Column::WardId.eq(ward))
            .order_by_desc(admission::Column::UpdatedAt)
            .limit(1)
            .one(conn),
        bed_assignment::Entity::find()
            .filter(bed_assignment::Column::WardId.eq(ward))
            .filter(bed_assignment::Column::EndedAt.is_null())
            .count(conn),
    )?;
    Ok(format!(
        "{}/{}/{taken}",
        beds.map(|b| b.updated_at.timestamp_micros()).unwrap_or_default(),
        stays.map(|s| s.updated_at.timestamp_micros()).unwrap_or_default()
    ))
}
