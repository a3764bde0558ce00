use salus_core::clinical::{ClinicalStatus, CodeSystem};
use sea_orm::entity::prelude::*;

/// A diagnosis (ICD-10-CM, or SNOMED CT when taken in so) on the problem list.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "diagnoses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub code_system: CodeSystem,
    pub code: String,
    pub description: String,
    pub clinical_status: ClinicalStatus,
    pub onset_date: Option<Date>,
    pub recorded_by: Option<Uuid>,
    pub recorded_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    pub error_reason: Option<String>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
