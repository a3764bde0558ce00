use sea_orm::entity::prelude::*;

/// A cashier's shift: opened with a float, closed with the cash counted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cashier_shifts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub cashier_id: Uuid,
    pub float_minor: i64,
    pub opened_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    pub expected_minor: Option<i64>,
    pub counted_minor: Option<i64>,
    pub variance_minor: Option<i64>,
    pub close_note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
