use salus_core::clinical::EncounterClass;
use salus_core::clinical::EncounterStatus;
use sea_orm::entity::prelude::*;

/// A visit: outpatient (AMB) or emergency (EMER).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "encounters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub appointment_id: Option<Uuid>,
    pub class: EncounterClass,
    pub status: EncounterStatus,
    pub doctor_id: Uuid,
    pub department_id: Option<Uuid>,
    pub chief_complaint: Option<String>,
    pub started_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    pub error_reason: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
