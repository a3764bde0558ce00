use sea_orm::entity::prelude::*;

/// One set of vital signs, in fixed integer units.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "vitals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub patient_id: Uuid,
    pub recorded_at: DateTimeUtc,
    pub recorded_by: Option<Uuid>,
    pub temperature_dc: Option<i32>,
    pub pulse_bpm: Option<i32>,
    pub systolic: Option<i32>,
    pub diastolic: Option<i32>,
    pub respiratory_rate: Option<i32>,
    pub spo2: Option<i32>,
    pub weight_g: Option<i32>,
    pub height_mm: Option<i32>,
    pub bmi_x10: Option<i32>,
    pub error_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
