use sea_orm::entity::prelude::*;

/// A document (an attachment in the patient's record) sent with a pre-authorisation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "preauthorisation_documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub preauthorisation_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub attachment_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
