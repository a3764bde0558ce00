use salus_core::insurance::PreauthStatus;
use sea_orm::entity::prelude::*;

/// A pre-authorisation asked of an insurer, and its answer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "preauthorisations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub patient_id: Uuid,
    pub policy_id: Uuid,
    pub admission_id: Option<Uuid>,
    pub diagnosis: String,
    pub requested_minor: i64,
    pub approved_minor: Option<i64>,
    pub status: PreauthStatus,
    pub reference: Option<String>,
    pub note: Option<String>,
    pub requested_by: Uuid,
    pub requested_at: DateTimeUtc,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeUtc>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
