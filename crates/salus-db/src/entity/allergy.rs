use salus_core::clinical::AllergyStatus;
use salus_core::clinical::Severity;
use sea_orm::entity::prelude::*;

/// An allergy or intolerance.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "allergies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub substance: String,
    pub reaction: Option<String>,
    pub severity: Severity,
    pub status: AllergyStatus,
    pub recorded_by: Option<Uuid>,
    pub recorded_at: DateTimeUtc,
    pub error_reason: Option<String>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
