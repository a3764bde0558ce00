use sea_orm::entity::prelude::*;

/// An analyte of a panel, in the panel's order.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lab_panel_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub panel_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub member_id: Uuid,
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
