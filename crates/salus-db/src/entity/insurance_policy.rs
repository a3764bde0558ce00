use salus_core::insurance::PolicyStatus;
use sea_orm::entity::prelude::*;

/// A patient's policy under a plan.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "insurance_policies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub plan_id: Uuid,
    pub member_number: String,
    pub holder: Option<String>,
    pub valid_from: Date,
    pub valid_to: Date,
    pub status: PolicyStatus,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
