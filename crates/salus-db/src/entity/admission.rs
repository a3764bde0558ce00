use salus_core::inpatient::AdmissionStatus;
use sea_orm::entity::prelude::*;

/// A stay in the hospital.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "admissions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub patient_id: Uuid,
    pub request_id: Option<Uuid>,
    pub encounter_id: Uuid,
    pub attending_id: Uuid,
    pub diagnosis: String,
    pub ward_id: Uuid,
    pub bed_id: Uuid,
    pub status: AdmissionStatus,
    pub admitted_by: Uuid,
    pub admitted_at: DateTimeUtc,
    pub discharge_ordered_by: Option<Uuid>,
    pub discharge_ordered_at: Option<DateTimeUtc>,
    pub discharged_by: Option<Uuid>,
    pub discharged_at: Option<DateTimeUtc>,
    pub disposition: Option<String>,
    pub version: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
