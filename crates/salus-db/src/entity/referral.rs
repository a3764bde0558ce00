use salus_core::clinical::ReferralStatus;
use salus_core::clinical::Urgency;
use sea_orm::entity::prelude::*;

/// A referral to a department or a doctor.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "referrals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub from_doctor_id: Uuid,
    pub to_department_id: Option<Uuid>,
    pub to_doctor_id: Option<Uuid>,
    pub reason: String,
    pub urgency: Urgency,
    pub status: ReferralStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
