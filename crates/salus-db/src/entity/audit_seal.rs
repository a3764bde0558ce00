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

/// For joins only (verify reads each link with its event in one query); there is no
/// foreign key, so a deleted event shows up as a seal without its event.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::audit_event::Entity",
        from = "Column::EventId",
        to = "super::audit_event::Column::Id"
    )]
    Event,
}

impl Related<super::audit_event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Event.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
