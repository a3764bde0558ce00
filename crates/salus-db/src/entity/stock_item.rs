use salus_core::pharmacy::ItemKind;
use sea_orm::entity::prelude::*;

/// Something stocked: a catalog medicine (one brand of it) or a consumable.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: ItemKind,
    pub medicine_id: Option<Uuid>,
    pub brand: Option<String>,
    pub form: String,
    pub strength: String,
    pub base_unit: String,
    pub pack_size: i32,
    pub tax_code: String,
    pub tax_rate_bp: i32,
    pub prescription_only: bool,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
