use salus_core::inpatient::mar::DoseOutcome;
use sea_orm::entity::prelude::*;

/// What a nurse recorded of one dose (the `current` record is the one in force).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "medication_administrations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    pub patient_id: Uuid,
    pub admission_id: Uuid,
    pub due_at: Option<DateTimeUtc>,
    pub outcome: DoseOutcome,
    pub reason: Option<String>,
    pub given_at: DateTimeUtc,
    pub late: bool,
    pub store_id: Option<Uuid>,
    pub amends_id: Option<Uuid>,
    pub amend_reason: Option<String>,
    pub current: bool,
    pub needs_ack: bool,
    pub acknowledged_by: Option<Uuid>,
    pub acknowledged_at: Option<DateTimeUtc>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
