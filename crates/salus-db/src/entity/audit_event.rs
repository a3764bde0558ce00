use salus_core::audit::Outcome;
use sea_orm::entity::prelude::*;

/// One audited event. Rows are only ever inserted: no code path updates or deletes them,
/// and triggers refuse it on both databases.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// UTC, truncated to microseconds so it reads back from either database unchanged.
    pub at: DateTimeUtc,
    pub actor_id: Option<Uuid>,
    pub actor_name: String,
    /// Comma-separated role names at the time of the event.
    pub actor_roles: String,
    pub action: String,
    /// `success`, `failure` or `denied`.
    pub outcome: Outcome,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub patient_id: Option<Uuid>,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
    pub reason: Option<String>,
    /// A small JSON document with what changed (never secrets).
    pub detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
