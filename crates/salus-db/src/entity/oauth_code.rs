use sea_orm::entity::prelude::*;

/// A one-time authorisation code: a user's consent to an app, redeemed once, within a
/// minute, by the app holding the PKCE verifier.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub code_hash: String,
    pub client_id: String,
    pub user_id: Uuid,
    /// The SMART scopes granted, space-separated.
    pub scope: String,
    /// The permissions they come to, space-separated.
    pub permissions: String,
    pub patient_id: Option<Uuid>,
    pub redirect_uri: String,
    /// BASE64URL(SHA-256(verifier)).
    pub code_challenge: String,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
