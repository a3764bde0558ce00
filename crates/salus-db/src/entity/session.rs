use sea_orm::entity::prelude::*;

/// A web session. The cookie carries a random secret; only its SHA-256 is stored, so a
/// copy of the database does not let anyone log in as the session's user.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Hex SHA-256 of the cookie secret, unique.
    pub token_hash: String,
    pub user_id: Uuid,
    /// The synchronizer token every form and htmx request of this session must echo.
    pub csrf_token: String,
    pub created_at: DateTimeUtc,
    /// Touched at most once a minute; idle expiry counts from here.
    pub last_seen_at: DateTimeUtc,
    /// Absolute expiry, fixed at login.
    pub expires_at: DateTimeUtc,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    /// The password was right but the second factor is still to come: such a session
    /// opens only the code page, and only for a few minutes.
    pub second_factor_pending: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
