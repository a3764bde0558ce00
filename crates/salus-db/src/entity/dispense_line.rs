use sea_orm::entity::prelude::*;

/// One batch's units given out in a dispensing or sale.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dispense_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub dispense_id: Uuid,
    pub patient_id: Option<Uuid>,
    pub prescription_id: Option<Uuid>,
    pub item_id: Uuid,
    pub item_name: String,
    pub batch_id: Uuid,
    pub batch_no: String,
    pub expiry_date: Date,
    pub quantity: i64,
    pub returned: i64,
    pub unit_price_minor: i64,
    pub tax_rate_bp: i32,
    pub substituted_for: Option<String>,
    pub substitution_reason: Option<String>,
    pub override_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
