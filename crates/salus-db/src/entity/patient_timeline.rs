use sea_orm::entity::prelude::*;

/// One line of the chart's timeline, written in the same transaction as what it tells.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patient_timeline")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub at: DateTimeUtc,
    /// `registered`, `edited`, `merged`, `unmerged`, `deceased`, `deactivated`, …
    pub kind: String,
    pub summary: String,
    pub actor_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
