use sea_orm::entity::prelude::*;

/// A critical result's task for the doctor who ordered it, until acknowledged.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lab_critical_alerts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub result_id: Uuid,
    pub patient_id: Uuid,
    pub notify_user_id: Uuid,
    pub summary: String,
    pub created_at: DateTimeUtc,
    pub escalate_at: DateTimeUtc,
    pub escalated_at: Option<DateTimeUtc>,
    pub escalated_to: Option<String>,
    pub acknowledged_by: Option<Uuid>,
    pub acknowledged_at: Option<DateTimeUtc>,
    pub read_back: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
