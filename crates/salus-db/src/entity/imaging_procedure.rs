use salus_core::imaging::Modality;
use sea_orm::entity::prelude::*;

/// A procedure of the imaging catalog.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "imaging_procedures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub modality: Modality,
    pub body_part: String,
    pub laterality_required: bool,
    pub loinc: Option<String>,
    pub duration_minutes: i32,
    pub preparation: Option<String>,
    pub service_code: Option<String>,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
