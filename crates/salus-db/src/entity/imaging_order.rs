use salus_core::imaging::{ImagingStatus, Laterality, Modality};
use salus_core::laboratory::Priority;
use sea_orm::entity::prelude::*;

/// An imaging order (FHIR ServiceRequest, and the ImagingStudy it becomes).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "imaging_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub procedure_id: Uuid,
    pub procedure_name: String,
    pub modality: Modality,
    pub body_part: String,
    pub laterality: Option<Laterality>,
    pub priority: Priority,
    pub clinical_question: String,
    pub status: ImagingStatus,
    pub accession: String,
    pub ordered_by: Uuid,
    pub scheduled_at: Option<DateTimeUtc>,
    pub room: Option<String>,
    pub performed_by: Option<Uuid>,
    pub performed_at: Option<DateTimeUtc>,
    pub performed_note: Option<String>,
    pub cancel_reason: Option<String>,
    pub service_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
