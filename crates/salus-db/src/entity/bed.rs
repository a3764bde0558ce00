use salus_core::inpatient::{BedState, BedType};
use sea_orm::entity::prelude::*;

/// A bed of a ward and where it stands.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "beds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub ward_id: Uuid,
    pub room: String,
    pub label: String,
    pub bed_type: BedType,
    pub tags: String,
    pub service_code: Option<String>,
    pub state: BedState,
    pub state_reason: Option<String>,
    pub reserved_for: Option<Uuid>,
    pub active: bool,
    pub version: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
