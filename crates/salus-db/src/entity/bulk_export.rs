use sea_orm::entity::prelude::*;

/// A bulk export: who asked, for what, and how far its job has got.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bulk_exports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub requester_id: Uuid,
    pub requester_name: String,
    pub requester_roles: String,
    /// The request's URL, echoed in the manifest.
    pub request: String,
    /// `system`, `patient` or `group`.
    pub scope: String,
    pub group_id: Option<Uuid>,
    /// The resource types asked for, comma-separated.
    pub types: String,
    pub since: Option<DateTimeUtc>,
    /// `in-progress`, `complete`, `failed` or `cancelled`.
    pub status: String,
    pub transaction_time: DateTimeUtc,
    /// Where the job stands (the door's own JSON).
    pub cursor: String,
    /// The files written so far (the door's own JSON).
    pub output: String,
    pub error: Option<String>,
    pub resources: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
