use chrono::NaiveDate;
use salus_core::pharmacy::PurchaseStatus;
use sea_orm::entity::prelude::*;

/// An order to a supplier, delivered into one store.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "purchase_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub supplier_id: Uuid,
    pub store_id: Uuid,
    pub status: PurchaseStatus,
    pub expected_on: Option<NaiveDate>,
    pub note: Option<String>,
    pub ordered_by: Uuid,
    pub ordered_at: DateTimeUtc,
    pub closed_by: Option<Uuid>,
    pub closed_at: Option<DateTimeUtc>,
    pub close_reason: Option<String>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
