use sea_orm::entity::prelude::*;

/// A weekly session of a doctor: on `weekday`, from `start_time` to `end_time` (local wall
/// clock), slots of `slot_minutes` taking `capacity` patients each.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "schedule_templates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub doctor_id: Uuid,
    pub department_id: Uuid,
    pub weekday: i16,
    pub start_time: String,
    pub end_time: String,
    pub slot_minutes: i32,
    pub capacity: i32,
    pub overbook: i32,
    pub valid_from: Date,
    pub valid_until: Option<Date>,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
