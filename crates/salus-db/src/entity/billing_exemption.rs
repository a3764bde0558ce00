use sea_orm::entity::prelude::*;

/// A billable event deliberately not charged, and why.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "billing_exemptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub source_type: String,
    pub source_id: Uuid,
    pub patient_id: Uuid,
    pub reason: String,
    pub exempted_by: Uuid,
    pub exempted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
