use salus_core::inpatient::nursing::TaskStatus;
use sea_orm::entity::prelude::*;

/// A nursing task with its due time.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "nursing_tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub admission_id: Uuid,
    pub patient_id: Uuid,
    pub description: String,
    pub due_at: DateTimeUtc,
    pub service_code: Option<String>,
    pub status: TaskStatus,
    pub outcome: Option<String>,
    pub done_by: Option<Uuid>,
    pub done_at: Option<DateTimeUtc>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
