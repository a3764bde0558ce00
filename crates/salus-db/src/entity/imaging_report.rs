use salus_core::imaging::ReportStatus;
use sea_orm::entity::prelude::*;

/// One version of an imaging report (FHIR DiagnosticReport).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "imaging_reports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    pub patient_id: Uuid,
    pub revision: i32,
    pub status: ReportStatus,
    pub findings: String,
    pub impression: String,
    pub written_by: Uuid,
    pub written_at: DateTimeUtc,
    pub authorised_by: Option<Uuid>,
    pub authorised_at: Option<DateTimeUtc>,
    pub amend_reason: Option<String>,
    pub superseded_at: Option<DateTimeUtc>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
