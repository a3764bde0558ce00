use salus_core::pharmacy::TransferStatus;
use sea_orm::entity::prelude::*;

/// Stock sent from one store to another: issued (in transit), then received.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock_transfers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub from_store_id: Uuid,
    pub to_store_id: Uuid,
    pub status: TransferStatus,
    pub issued_by: Uuid,
    pub issued_at: DateTimeUtc,
    pub received_by: Option<Uuid>,
    pub received_at: Option<DateTimeUtc>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
