use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patient_identifiers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub patient_id: Uuid,
    /// An `identifier_types.code` (FHIR identifier.system).
    #[sea_orm(primary_key, auto_increment = false)]
    pub system: String,
    /// As typed (trimmed).
    #[sea_orm(primary_key, auto_increment = false)]
    pub value: String,
    /// `system:NORMALISED` where the type is unique, else NULL; unique index.
    pub unique_key: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
