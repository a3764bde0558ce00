use salus_core::pharmacy::CountStatus;
use sea_orm::entity::prelude::*;

/// A count sheet of a store.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub store_id: Uuid,
    pub status: CountStatus,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub posted_by: Option<Uuid>,
    pub posted_at: Option<DateTimeUtc>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
