//! Use cases: one function per thing a user does. Permissions, rules, transactions (and,
//! from the next issue on, audit events) happen here, once, whichever door — page, JSON
//! API, FHIR or CLI — the request came through.

pub mod audit;
pub mod error;
pub mod identity;

use std::time::Duration;

pub use audit::Ctx;
pub use error::AppError;
use salus_core::Role;
use salus_db::Db;

/// Session lifetimes. A session ends when idle for `idle_timeout` or, whatever the
/// activity, `absolute_timeout` after login.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self { idle_timeout: Duration::from_secs(30 * 60), absolute_timeout: Duration::from_secs(12 * 3600) }
    }
}

/// Sign-in rules beyond the password.
#[derive(Debug, Clone)]
pub struct SecuritySettings {
    /// Users holding any of these roles must set up a second factor before they can do
    /// anything else (an administrator can also require it of one user).
    pub two_factor_roles: Vec<Role>,
    /// The issuer shown in authenticator apps ("Salus — City Hospital").
    pub totp_issuer: String,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self { two_factor_roles: vec![Role::Admin], totp_issuer: "Salus".into() }
    }
}

/// The application: the database and the settings use cases need. Cheap to clone.
#[derive(Clone, Debug)]
pub struct App {
    pub db: Db,
    pub sessions: SessionSettings,
    pub security: SecuritySettings,
}

impl App {
    pub fn new(db: Db, sessions: SessionSettings) -> Self {
        Self { db, sessions, security: SecuritySettings::default() }
    }

    pub fn with_security(mut self, security: SecuritySettings) -> Self {
        self.security = security;
        self
    }
}
