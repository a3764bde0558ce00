use salus_core::pharmacy::MovementKind;
use sea_orm::entity::prelude::*;

/// A row of the append-only stock ledger.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock_movements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub store_id: Uuid,
    pub batch_id: Uuid,
    pub item_id: Uuid,
    pub kind: MovementKind,
    pub quantity: i64,
    pub balance_after: i64,
    pub reason: Option<String>,
    pub source_type: String,
    pub source_id: Uuid,
    pub patient_id: Option<Uuid>,
    pub operation_id: Uuid,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
