//! Charges: what was done for a patient that is to be billed, one per source event (a
//! collected lab order line, a performed imaging study…), priced from the price list when
//! it happened. The contexts that do things record them here; billing turns them into
//! invoices.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entity::charge;
use crate::merge::PatientLink;

/// A merged patient's charges are the survivor's: they are billed to the person.
pub const PATIENT_LINKS: &[PatientLink] = &[PatientLink::follows("charges")];

/// Records charges, skipping any whose source already has one (a charge is made once).
pub async fn insert_charges<C: ConnectionTrait>(conn: &C, rows: Vec<charge::Model>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    charge::Entity::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
        .on_conflict_do_nothing_on([charge::Column::SourceType, charge::Column::SourceId])
        .exec_without_returning(conn)
        .await
        .map(|_| ())
}

/// Deletes the charge of `source` if it is not billed yet (a cancelled order leaves none).
pub async fn delete_unbilled_charge<C: ConnectionTrait>(
    conn: &C,
    source_type: &str,
    source: Uuid,
) -> Result<u64, DbErr> {
    Ok(charge::Entity::delete_many()
        .filter(charge::Column::SourceType.eq(source_type))
        .filter(charge::Column::SourceId.eq(source))
        .filter(charge::Column::Status.eq("unbilled"))
        .exec(conn)
        .await?
        .rows_affected)
}

/// A patient's charges, newest first.
pub async fn charges_of<C: ConnectionTrait>(conn: &C, patient: Uuid) -> Result<Vec<charge::Model>, DbErr> {
    charge::Entity::find()
        .filter(charge::Column::PatientId.eq(patient))
        .order_by_desc(charge::Column::CreatedAt)
        .limit(500)
        .all(conn)
        .await
}

/// Takes `n` units off the unbilled charge of `source` (a return): deletes it when none
/// are left. Returns false if there is no unbilled charge with that many units.
pub async fn reduce_unbilled_charge<C: ConnectionTrait>(
    conn: &C,
    source_type: &str,
    source: Uuid,
    n: i32,
) -> Result<bool, DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    let reduced = charge::Entity::update_many()
        .col_expr(charge::Column::Quantity, Expr::col(charge::Column::Quantity).sub(n))
        .filter(charge::Column::SourceType.eq(source_type))
        .filter(charge::Column::SourceId.eq(source))
        .filter(charge::Column::Status.eq("unbilled"))
        .filter(charge::Column::Quantity.gt(n))
        .exec(conn)
        .await?
        .rows_affected;
    if reduced == 1 {
        return Ok(true);
    }
    Ok(charge::Entity::delete_many()
        .filter(charge::Column::SourceType.eq(source_type))
        .filter(charge::Column::SourceId.eq(source))
        .filter(charge::Column::Status.eq("unbilled"))
        .filter(charge::Column::Quantity.eq(n))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}
