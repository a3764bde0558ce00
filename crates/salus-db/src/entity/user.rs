use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Lower-case, unique (`users_username_key`).
    pub username: String,
    pub display_name: String,
    /// PHC string of an argon2id hash.
    pub password_hash: String,
    pub active: bool,
    /// Set by an administrator's reset: the user must choose a new password first.
    pub must_change_password: bool,
    /// Base32 TOTP secret (RFC 6238), set once enrolment is confirmed with a code.
    pub totp_secret: Option<String>,
    pub totp_enabled_at: Option<DateTimeUtc>,
    /// The last 30-second step a code was accepted for: a code is good once.
    pub totp_last_step: Option<i64>,
    /// An administrator requires a second factor of this user (besides the roles that
    /// require it by configuration).
    pub two_factor_required: bool,
    /// For a patient's own account: the one record it may see.
    pub patient_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
