use sea_orm::entity::prelude::*;

/// One item of a purchase order: units ordered, received so far (never more, by a
/// check) and the agreed cost per base unit.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "purchase_order_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    pub item_id: Uuid,
    pub quantity: i64,
    pub received: i64,
    pub cost_minor: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
