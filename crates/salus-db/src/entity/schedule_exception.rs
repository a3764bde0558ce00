use salus_core::scheduling::ExceptionKind;
use sea_orm::entity::prelude::*;

/// A change to one day: leave (a doctor's, or everyone's when `doctor_id` is NULL) or an
/// extra session.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "schedule_exceptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub doctor_id: Option<Uuid>,
    pub date: Date,
    pub kind: ExceptionKind,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub department_id: Option<Uuid>,
    pub slot_minutes: Option<i32>,
    pub capacity: Option<i32>,
    pub reason: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
