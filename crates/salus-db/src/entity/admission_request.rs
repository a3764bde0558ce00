use chrono::NaiveDate;
use salus_core::inpatient::{BedType, RequestStatus};
use sea_orm::entity::prelude::*;

/// A doctor's request to admit a patient.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "admission_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub requested_by: Uuid,
    pub reason: String,
    pub ward_id: Option<Uuid>,
    pub bed_type: Option<BedType>,
    pub expected_days: Option<i32>,
    pub expected_on: Option<NaiveDate>,
    pub status: RequestStatus,
    pub cancel_reason: Option<String>,
    pub admission_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
