use sea_orm::entity::prelude::*;

/// A delivery received into a store: its lines are batches and receipt movements.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "goods_receipts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub store_id: Uuid,
    pub supplier_id: Option<Uuid>,
    pub invoice_no: Option<String>,
    /// The purchase order this delivery fills, if any.
    pub order_id: Option<Uuid>,
    pub received_by: Uuid,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
