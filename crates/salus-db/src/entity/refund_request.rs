use salus_core::billing::{PaymentMethod, RefundStatus};
use sea_orm::entity::prelude::*;

/// A refund asked for by a clerk, paid out when a supervisor approves it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refund_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub deposit_id: Option<Uuid>,
    pub invoice_id: Option<Uuid>,
    pub amount_minor: i64,
    pub method: PaymentMethod,
    pub reason: String,
    pub status: RefundStatus,
    pub requested_by: Uuid,
    pub requested_at: DateTimeUtc,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeUtc>,
    pub decision_note: Option<String>,
    pub receipt_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
