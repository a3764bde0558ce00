use sea_orm::entity::prelude::*;

/// A merge of `source_id` into `survivor_id`, with what moved (JSON), so it can be undone.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patient_merges")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub source_id: Uuid,
    pub survivor_id: Uuid,
    pub merged_at: DateTimeUtc,
    pub merged_by: Option<Uuid>,
    pub moved: String,
    pub undone_at: Option<DateTimeUtc>,
    pub undone_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
