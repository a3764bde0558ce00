use salus_core::laboratory::{ResultType, TestKind};
use sea_orm::entity::prelude::*;

/// A test of the laboratory's catalog: an analyte or a panel of them.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "lab_tests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: TestKind,
    pub loinc: Option<String>,
    pub section: String,
    pub specimen: String,
    pub container: String,
    pub unit: Option<String>,
    pub result_type: Option<ResultType>,
    pub decimals: i32,
    pub method: Option<String>,
    pub turnaround_minutes: i32,
    pub service_code: Option<String>,
    pub formula: Option<String>,
    pub answers: Option<String>,
    pub delta_percent: Option<f64>,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
