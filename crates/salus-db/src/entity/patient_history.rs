use sea_orm::entity::prelude::*;

/// One edit of a patient's demographics: who, when, and each field's old and new value
/// (JSON `[{"field", "old", "new"}]`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patient_history")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub version: i32,
    pub changed_at: DateTimeUtc,
    pub changed_by: Option<Uuid>,
    pub changes: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
