use salus_core::billing::{PaymentMethod, ReceiptKind};
use sea_orm::entity::prelude::*;

/// Money received or paid out: a payment against an invoice, a deposit, a refund.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "receipts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub patient_id: Uuid,
    pub invoice_id: Option<Uuid>,
    pub kind: ReceiptKind,
    pub method: PaymentMethod,
    pub amount_minor: i64,
    pub unapplied_minor: i64,
    pub deposit_id: Option<Uuid>,
    pub reference: Option<String>,
    pub provider_event_id: Option<String>,
    pub shift_id: Option<Uuid>,
    pub print_count: i32,
    pub received_by: Uuid,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
