use salus_core::pharmacy::StoreKind;
use sea_orm::entity::prelude::*;

/// A place stock is kept: a main store, a pharmacy, a ward's store.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stores")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: StoreKind,
    pub facility_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub active: bool,
    /// The mailbox the daily stock alerts go to (none: not sent).
    pub alert_email: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
