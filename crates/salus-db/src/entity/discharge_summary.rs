use salus_core::inpatient::nursing::SummaryStatus;
use sea_orm::entity::prelude::*;

/// The summary a patient leaves with (one per stay).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "discharge_summaries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub admission_id: Uuid,
    pub patient_id: Uuid,
    pub diagnoses: String,
    pub procedures: String,
    pub key_results: String,
    pub medicines: String,
    pub follow_up: String,
    pub instructions: String,
    pub status: SummaryStatus,
    pub drafted_by: Uuid,
    pub drafted_at: DateTimeUtc,
    pub signed_by: Option<Uuid>,
    pub signed_at: Option<DateTimeUtc>,
    pub version: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
