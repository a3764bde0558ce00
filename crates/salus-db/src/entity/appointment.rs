use salus_core::scheduling::AppointmentStatus;
use sea_orm::entity::prelude::*;

/// An appointment or a walk-in visit. `seat` holds its place in the slot while it counts.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub doctor_id: Uuid,
    pub department_id: Option<Uuid>,
    pub slot_date: Date,
    pub slot_time: Option<String>,
    pub starts_at: DateTimeUtc,
    pub duration_minutes: i32,
    pub seat: Option<i32>,
    pub kind: String,
    pub status: AppointmentStatus,
    pub reason: Option<String>,
    pub token: Option<i32>,
    pub cancel_reason: Option<String>,
    pub rescheduled_to: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub checked_in_at: Option<DateTimeUtc>,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
