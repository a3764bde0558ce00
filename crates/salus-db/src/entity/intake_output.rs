use salus_core::inpatient::nursing::Direction;
use sea_orm::entity::prelude::*;

/// A measured volume in or out of a patient.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "intake_output")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub admission_id: Uuid,
    pub patient_id: Uuid,
    pub direction: Direction,
    pub route: String,
    pub volume_ml: i32,
    pub measured_at: DateTimeUtc,
    pub note: Option<String>,
    pub error_reason: Option<String>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
