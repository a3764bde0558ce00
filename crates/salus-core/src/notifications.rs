//! Messages to patients: where each stands, and their wording.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

coded!(
    /// Where a message stands: waiting to be sent (or retried), claimed by a worker that
    /// is sending it, sent, failed for good, or cancelled (its appointment moved or was
    /// cancelled).
    pub enum NotificationStatus {
        Pending,
        Sending,
        Sent,
        Failed,
        Cancelled,
    }
);

/// The wording of one kind of message on one channel in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageTemplate {
    pub kind: String,
    pub channel: String,
    pub language: String,
    pub subject: String,
    pub body: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<Uuid>,
}
