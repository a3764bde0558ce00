use salus_core::laboratory::{RejectReason, SpecimenStatus};
use sea_orm::entity::prelude::*;

/// A specimen (FHIR Specimen) with its accession number.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lab_specimens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub accession: String,
    pub specimen: String,
    pub container: String,
    pub status: SpecimenStatus,
    pub collected_by: Uuid,
    pub collected_at: DateTimeUtc,
    pub received_by: Option<Uuid>,
    pub received_at: Option<DateTimeUtc>,
    pub reject_reason: Option<RejectReason>,
    pub reject_note: Option<String>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
