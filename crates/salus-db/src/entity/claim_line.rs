use sea_orm::entity::prelude::*;

/// One invoice line's split between insurer and patient on a claim.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "claim_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub claim_id: Uuid,
    pub invoice_line_id: Uuid,
    pub description: String,
    pub category: String,
    pub net_minor: i64,
    pub insurer_minor: i64,
    pub patient_minor: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
