use salus_core::laboratory::{OrderStatus, Priority};
use sea_orm::entity::prelude::*;

/// An order line (FHIR ServiceRequest): one test or panel for one patient.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lab_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub requisition_id: Uuid,
    pub ordered_by: Uuid,
    pub test_id: Uuid,
    pub test_name: String,
    pub priority: Priority,
    pub clinical_info: Option<String>,
    pub status: OrderStatus,
    pub cancel_reason: Option<String>,
    pub specimen_id: Option<Uuid>,
    pub service_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
