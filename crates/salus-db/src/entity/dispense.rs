use salus_core::pharmacy::DispenseKind;
use sea_orm::entity::prelude::*;

/// A dispensing against prescriptions or a counter sale.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dispenses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub kind: DispenseKind,
    pub store_id: Uuid,
    pub patient_id: Option<Uuid>,
    pub customer_name: Option<String>,
    pub dispensed_by: Uuid,
    pub dispensed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
