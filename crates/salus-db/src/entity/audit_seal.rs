use sea_orm::entity::prelude::*;

/// The hash chain: position `seq` holds event `event_id` and
/// `hash = SHA-256(prev_hash ‖ canonical bytes of the event)`. Written only by the sealer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_seals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub event_id: Uuid,
    pub prev_hash: String,
    pub hash: String,
    pub sealed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
