use salus_core::clinical::PrescriptionStatus;
use sea_orm::entity::prelude::*;

/// A prescription (FHIR MedicationRequest).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "prescriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub prescriber_id: Uuid,
    pub medicine_id: Uuid,
    pub medicine_name: String,
    pub dose: String,
    pub route: String,
    pub frequency: String,
    pub duration_days: Option<i32>,
    pub quantity: Option<i32>,
    pub instructions: Option<String>,
    pub status: PrescriptionStatus,
    pub status_reason: Option<String>,
    pub override_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    /// Units given so far, less those brought back (the pharmacy keeps it).
    pub dispensed: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
