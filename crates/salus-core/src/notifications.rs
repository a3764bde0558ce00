//! Messages to patients: their wording.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

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
