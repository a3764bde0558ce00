use sea_orm::entity::prelude::*;

/// One batch on a count sheet: what the ledger said when the sheet was made, and what was counted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock_count_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub count_id: Uuid,
    pub item_id: Uuid,
    pub batch_id: Uuid,
    pub expected: i64,
    pub counted: Option<i64>,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
