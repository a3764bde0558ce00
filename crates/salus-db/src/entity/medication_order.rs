use salus_core::inpatient::mar::{OrderKind, OrderStatus};
use sea_orm::entity::prelude::*;

/// A doctor's medication order for an inpatient.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "medication_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub admission_id: Uuid,
    pub medicine_id: Uuid,
    pub medicine_name: String,
    pub item_id: Option<Uuid>,
    pub dose: String,
    pub units_per_dose: i32,
    pub route: String,
    pub kind: OrderKind,
    pub times: String,
    pub instructions: Option<String>,
    pub starts_at: DateTimeUtc,
    pub ends_at: Option<DateTimeUtc>,
    pub status: OrderStatus,
    pub stop_reason: Option<String>,
    pub stopped_by: Option<Uuid>,
    pub stopped_at: Option<DateTimeUtc>,
    pub ordered_by: Uuid,
    pub created_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
