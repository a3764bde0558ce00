//! SeaORM entities: one module a table. Rows hold plain `Uuid`s and UTC times; the query
//! modules convert them to the domain types of `salus-core`.

pub mod api_token;
pub mod audit_event;
pub mod audit_pending;
pub mod audit_seal;
pub mod login_failure;
pub mod recovery_code;
pub mod session;
pub mod user;
pub mod user_role;
