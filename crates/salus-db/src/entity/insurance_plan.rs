use sea_orm::entity::prelude::*;

/// An insurer's plan: what it covers, the co-payment, the sum insured.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "insurance_plans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub payer_id: Uuid,
    pub code: String,
    pub name: String,
    pub covered: String,
    pub copay_bp: i32,
    pub limit_minor: Option<i64>,
    pub preauth_required: bool,
    pub active: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
