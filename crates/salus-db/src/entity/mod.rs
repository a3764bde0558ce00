//! SeaORM entities: one module a table. Rows hold plain `Uuid`s and UTC times; the query
//! modules convert them to the domain types of `salus-core`.

pub mod api_token;
pub mod appointment;
pub mod audit_event;
pub mod audit_pending;
pub mod audit_seal;
pub mod break_glass;
pub mod department;
pub mod facility;
pub mod identifier_type;
pub mod job;
pub mod login_failure;
pub mod mrn_sequence;
pub mod notification;
pub mod notification_template;
pub mod patient;
pub mod patient_history;
pub mod patient_identifier;
pub mod patient_key;
pub mod patient_merge;
pub mod patient_photo;
pub mod patient_timeline;
pub mod queue_token;
pub mod recovery_code;
pub mod schedule_exception;
pub mod schedule_template;
pub mod service;
pub mod session;
pub mod specialisation;
pub mod staff_profile;
pub mod user;
pub mod user_role;
