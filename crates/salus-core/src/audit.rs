//! The audit trail's vocabulary.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

coded!(
    /// How an audited action ended: done, failed, or refused for want of permission.
    pub enum Outcome {
        Success,
        Failure,
        Denied,
    }
);

/// One event of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    pub id: Uuid,
    /// UTC, truncated to microseconds so it reads back from either database unchanged.
    pub at: DateTime<Utc>,
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

/// What the audit viewer filters on: each set field narrows the search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub actor_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub action_prefix: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}
