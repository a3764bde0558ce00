use sea_orm::entity::prelude::*;

/// A manufacturer's batch of an item, with its expiry and prices per base unit.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock_batches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub item_id: Uuid,
    pub batch_no: String,
    pub expiry_date: Date,
    pub cost_minor: i64,
    pub sale_price_minor: i64,
    pub supplier_id: Option<Uuid>,
    pub held: bool,
    pub hold_reason: Option<String>,
    pub held_by: Option<Uuid>,
    pub held_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
