use salus_core::laboratory::{Flag, ResultStatus};
use sea_orm::entity::prelude::*;

/// One version of one analyte's result (FHIR Observation), with the limits it was read
/// against copied onto it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "lab_results")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    pub specimen_id: Uuid,
    pub patient_id: Uuid,
    pub test_id: Uuid,
    pub analyte: String,
    pub loinc: Option<String>,
    pub revision: i32,
    pub status: ResultStatus,
    pub value_num: Option<f64>,
    pub value_text: Option<String>,
    pub unit: Option<String>,
    pub decimals: i32,
    pub flag: Option<Flag>,
    pub ref_low: Option<f64>,
    pub ref_high: Option<f64>,
    pub critical_low: Option<f64>,
    pub critical_high: Option<f64>,
    pub range_text: Option<String>,
    pub delta_percent: Option<f64>,
    pub calculated: bool,
    pub collected_at: DateTimeUtc,
    pub entered_by: Uuid,
    pub entered_at: DateTimeUtc,
    pub verified_by: Option<Uuid>,
    pub verified_at: Option<DateTimeUtc>,
    pub amend_reason: Option<String>,
    pub superseded_at: Option<DateTimeUtc>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
