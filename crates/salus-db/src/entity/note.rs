use salus_core::clinical::NoteStatus;
use sea_orm::entity::prelude::*;

/// A clinical note (SOAP): a draft, or signed and never changed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "notes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub encounter_id: Uuid,
    pub patient_id: Uuid,
    pub author_id: Uuid,
    pub status: NoteStatus,
    pub amends: Option<Uuid>,
    pub amend_reason: Option<String>,
    pub subjective: String,
    pub objective: String,
    pub assessment: String,
    pub plan: String,
    pub signed_at: Option<DateTimeUtc>,
    pub error_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
