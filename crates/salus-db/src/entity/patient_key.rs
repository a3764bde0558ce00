use sea_orm::entity::prelude::*;

/// One exact search key of a patient: `p:<phonetic code>`, `n:<name token>`, `mrn:…`,
/// `ph:<last nine digits>`, `id:<NORMALISED>`, `dob:YYYY-MM-DD`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patient_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub patient_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
