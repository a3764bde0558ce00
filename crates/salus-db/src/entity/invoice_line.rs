use sea_orm::entity::prelude::*;

/// A line of an invoice: one charge, priced as it was billed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub position: i32,
    pub charge_id: Uuid,
    pub service_code: String,
    pub description: String,
    pub department: String,
    pub quantity: i32,
    pub unit_price_minor: i64,
    pub tax_rate_bp: i32,
    pub gross_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub net_minor: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
