use sea_orm::entity::prelude::*;

/// The next waiting-room token of a doctor on a day.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "queue_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub doctor_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub date: Date,
    pub next_value: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
