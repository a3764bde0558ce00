use sea_orm::entity::prelude::*;

/// A personal API token. Only the SHA-256 of the secret is stored; the secret is shown to
/// its owner once, at creation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// The owner's label ("lab analyser bridge").
    pub name: String,
    /// Hex SHA-256 of the secret, unique.
    pub token_hash: String,
    /// Space-separated permission names: the token can do no more than these (and no more
    /// than its owner's roles allow at the time of each request).
    pub scopes: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Written at most once a minute.
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// A SMART app's token: the app's client id. Such a token reaches `/fhir` only.
    pub client_id: Option<String>,
    /// A SMART app launched with a patient: the one record it reaches.
    pub patient_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
