//! The audit trail: who did what to which record, when, from where and why.
//!
//! - A write's event goes into the same transaction as the write ([`record`]): if the
//!   change commits, so does its event; if not, neither.
//! - Events are only ever inserted. A sealer ([`App::seal_audit`], run by the server every
//!   second and safe to run on every instance) appends them to a hash chain in its own
//!   transaction: position n holds `SHA-256(hash of n-1 ‖ canonical bytes of the event)`.
//!   One sealer at a time (an advisory lock on PostgreSQL; SQLite's write lock), and the
//!   chain positions are unique keys, so concurrent writers and instances can neither fork
//!   the chain nor leave a hole in it. An event committed late is simply sealed later.
//! - [`App::verify_audit`] walks the chain and names the first link that is missing,
//!   broken, or whose event was changed or deleted, and counts events outside the chain.

use chrono::{DateTime, Utc};
use salus_db::entity::{audit_event, audit_seal};
use salus_db::{DbErr, audit as q};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::AppError;
use crate::identity::{Actor, ClientInfo};

/// The lock key that names "the audit sealer" among PostgreSQL advisory locks.
/// Events sealed per transaction: at a busy desk's rate of audited reads, 5,000 held the
/// writer for tens of milliseconds at a time (`salus bench`, 1M patients).
const SEAL_BATCH: u64 = 500;
const SEALER_LOCK: i64 = 7_361_535_455_233;
/// The `prev_hash` of the first link.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who is acting and from where: what every use case receives from its door.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor: Actor,
    pub client: ClientInfo,
}

impl Ctx {
    /// The operator at the server's console (`salus` CLI).
    pub fn operator() -> Self {
        Self { actor: Actor::Operator, client: ClientInfo::default() }
    }

    pub fn new(actor: Actor, client: ClientInfo) -> Self {
        Self { actor, client }
    }

    fn actor_fields(&self) -> (Option<Uuid>, String, String) {
        match &self.actor {
            Actor::Operator => (None, "operator".into(), String::new()),
            Actor::Anonymous => (None, "anonymous".into(), String::new()),
            Actor::User(u) => (
                Some(u.id.as_uuid()),
                u.username.to_string(),
                u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(","),
            ),
        }
    }
}

pub use salus_core::audit::Outcome;

/// What happened, for [`record`].
#[derive(Debug, Clone)]
pub struct Event {
    pub action: &'static str,
    pub outcome: Outcome,
    pub resource_type: &'static str,
    pub resource_id: Option<String>,
    pub patient_id: Option<Uuid>,
    pub reason: Option<String>,
    pub detail: Option<serde_json::Value>,
}

impl Event {
    pub fn new(action: &'static str, resource_type: &'static str, resource_id: Option<String>) -> Self {
        Self {
            action,
            outcome: Outcome::Success,
            resource_type,
            resource_id,
            patient_id: None,
            reason: None,
            detail: None,
        }
    }

    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }

    pub fn patient(mut self, patient_id: Uuid) -> Self {
        self.patient_id = Some(patient_id);
        self
    }

    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

fn cut(s: Option<String>, max: usize) -> Option<String> {
    s.map(|s| s.chars().take(max).collect())
}

/// Writes `event` on `conn` — the transaction of the change it records.
pub async fn record<C: salus_db::ConnectionTrait>(conn: &C, ctx: &Ctx, event: Event) -> Result<(), DbErr> {
    q::insert_event(conn, row(ctx, event)).await
}

/// The stored row of an event.
pub fn row(ctx: &Ctx, event: Event) -> audit_event::Model {
    let now = Utc::now();
    let at = DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
    let (actor_id, actor_name, actor_roles) = ctx.actor_fields();
    {
        audit_event::Model {
            id: Uuid::now_v7(),
            at,
            actor_id,
            actor_name: actor_name.chars().take(100).collect(),
            actor_roles,
            action: event.action.to_owned(),
            outcome: event.outcome,
            resource_type: event.resource_type.to_owned(),
            resource_id: cut(event.resource_id, 100),
            patient_id: event.patient_id,
            client_ip: cut(ctx.client.ip.clone(), 64),
            request_id: cut(ctx.client.request_id.clone(), 64),
            reason: cut(event.reason, 500),
            detail: event.detail.map(|d| d.to_string()),
        }
    }
}

/// The bytes an event's hash covers: a JSON object with a fixed field order.
#[derive(Serialize)]
struct Canonical<'a> {
    id: String,
    at: String,
    actor_id: Option<String>,
    actor_name: &'a str,
    actor_roles: &'a str,
    action: &'a str,
    outcome: &'a str,
    resource_type: &'a str,
    resource_id: Option<&'a str>,
    patient_id: Option<String>,
    client_ip: Option<&'a str>,
    request_id: Option<&'a str>,
    reason: Option<&'a str>,
    detail: Option<&'a str>,
}

pub fn canonical_bytes(e: &audit_event::Model) -> Vec<u8> {
    let c = Canonical {
        id: e.id.to_string(),
        at: e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        actor_id: e.actor_id.map(|u| u.to_string()),
        actor_name: &e.actor_name,
        actor_roles: &e.actor_roles,
        action: &e.action,
        outcome: e.outcome.as_str(),
        resource_type: &e.resource_type,
        resource_id: e.resource_id.as_deref(),
        patient_id: e.patient_id.map(|u| u.to_string()),
        client_ip: e.client_ip.as_deref(),
        request_id: e.request_id.as_deref(),
        reason: e.reason.as_deref(),
        detail: e.detail.as_deref(),
    };
    serde_json::to_vec(&c).unwrap_or_default()
}

pub fn chain_hash(prev_hash: &str, e: &audit_event::Model) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical_bytes(e));
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// What `audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Links checked and found sound.
    pub verified: u64,
    /// The first problem, if any, naming the chain position and event.
    pub first_problem: Option<String>,
    /// Events written but not yet sealed (the visible window of the sealer).
    pub unsealed: u64,
    /// Events in the table that are neither sealed nor queued: inserted behind the
    /// program's back.
    pub outside_chain: u64,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.first_problem.is_none() && self.outside_chain == 0
    }
}

impl crate::Audit<'_> {
    /// Seals queued events into the chain, up to `limit`; returns how many. Returns 0
    /// at once when another instance is sealing.
    ///
    /// The events are read and hashed before the write transaction begins, so the single
    /// SQLite writer (which every audited read's commit waits for) is held only to append
    /// the seals. Inside it, the chain's head is read again: if another sealer moved it
    /// meanwhile, nothing is written and the next round starts from the new head.
    pub async fn seal_audit(&self, limit: u64) -> Result<u64, AppError> {
        let head = q::last_seal(self.db.reader()).await?;
        let events = q::pending_events(self.db.reader(), limit).await?;
        if events.is_empty() {
            return Ok(0);
        }
        let (mut seq, mut prev) = match &head {
            Some(s) => (s.seq, s.hash.clone()),
            None => (0, GENESIS.to_owned()),
        };
        let now = Utc::now();
        let mut seals = Vec::with_capacity(events.len());
        for e in &events {
            seq += 1;
            let hash = chain_hash(&prev, e);
            seals.push(audit_seal::Model {
                seq,
                event_id: e.id,
                prev_hash: prev,
                hash: hash.clone(),
                sealed_at: now,
            });
            prev = hash;
        }
        let txn = self.db.begin_write().await?;
        if !salus_db::backend::try_xact_lock(&txn, SEALER_LOCK).await? {
            return Ok(0);
        }
        if q::last_seal(&txn).await?.map(|s| s.seq) != head.map(|s| s.seq) {
            return Ok(0);
        }
        let n = seals.len() as u64;
        q::append_seals(&txn, seals).await?;
        txn.commit().await?;
        Ok(n)
    }

    /// Seals everything queued (every second by the server; before verify and in tests),
    /// in transactions small enough that the commits waiting for the writer between them
    /// (every audited read's among them) wait a few milliseconds, not the whole backlog.
    pub async fn seal_all_audit(&self) -> Result<u64, AppError> {
        let mut total = 0;
        loop {
            let n = self.seal_audit(SEAL_BATCH).await?;
            total += n;
            if n == 0 {
                return Ok(total);
            }
        }
    }

    /// Walks the whole chain; see [`VerifyReport`].
    pub async fn verify_audit(&self) -> Result<VerifyReport, AppError> {
        let conn = self.db.reader();
        let mut expected_seq = 1i64;
        let mut prev = GENESIS.to_owned();
        let mut verified = 0u64;
        let mut first_problem = None;
        'walk: loop {
            let links = q::links_after(conn, expected_seq - 1, 5000).await?;
            if links.is_empty() {
                break;
            }
            for (s, event) in &links {
                let problem = if s.seq != expected_seq {
                    Some(format!("chain position {expected_seq} is missing (the next present is {})", s.seq))
                } else if s.prev_hash != prev {
                    Some(format!(
                        "chain position {} (event {}) does not follow position {}",
                        s.seq,
                        s.event_id,
                        s.seq - 1
                    ))
                } else {
                    match event {
                        None => Some(format!(
                            "chain position {}: event {} is missing (deleted)",
                            s.seq, s.event_id
                        )),
                        Some(e) if chain_hash(&prev, e) != s.hash => Some(format!(
                            "chain position {}: event {} was changed after it was sealed",
                            s.seq, s.event_id
                        )),
                        Some(_) => None,
                    }
                };
                if let Some(p) = problem {
                    first_problem = Some(p);
                    break 'walk;
                }
                verified += 1;
                prev = s.hash.clone();
                expected_seq += 1;
            }
        }
        let unsealed = q::count_pending(conn).await?;
        let events = q::count_events(conn).await?;
        let sealed = (expected_seq - 1) as u64;
        let outside_chain =
            if first_problem.is_none() { events.saturating_sub(sealed + unsealed) } else { 0 };
        Ok(VerifyReport { verified, first_problem, unsealed, outside_chain })
    }

    /// The audit viewer: events matching the filter, newest first, a page at a time. The
    /// actor is given by username and looked up, so the search uses the actor index.
    pub async fn search_audit(
        &self,
        ctx: &Ctx,
        actor_username: Option<&str>,
        mut filter: q::EventFilter,
        before: Option<(DateTime<Utc>, Uuid)>,
        limit: u64,
    ) -> Result<Vec<salus_core::audit::AuditEvent>, AppError> {
        self.authorize(ctx, crate::identity::Permission::AuditView).await?;
        if let Some(name) = actor_username.map(str::trim).filter(|n| !n.is_empty()) {
            let username = salus_core::Username::parse(name)?;
            match salus_db::identity::find_user_by_username(self.db.reader(), username.as_str()).await? {
                Some(u) => filter.actor_id = Some(u.user.id),
                None => return Ok(Vec::new()),
            }
        }
        Ok(crate::records(q::search_events(self.db.reader(), &filter, before, limit).await?))
    }

    /// One event of the audit trail, to those who may view it.
    pub async fn audit_event(&self, ctx: &Ctx, id: Uuid) -> Result<salus_core::audit::AuditEvent, AppError> {
        self.authorize(ctx, crate::identity::Permission::AuditView).await?;
        q::events_by_ids(self.db.reader(), &[id])
            .await?
            .into_iter()
            .next()
            .map(Into::into)
            .ok_or(AppError::NotFound("audit event"))
    }

    /// Events with `from <= at < to` in time order, a page at a time, for export.
    pub async fn audit_events_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u64,
    ) -> Result<Vec<salus_core::audit::AuditEvent>, AppError> {
        Ok(crate::records(q::events_between(self.db.reader(), from, to, after, limit).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> audit_event::Model {
        audit_event::Model {
            id: Uuid::nil(),
            at: DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
            actor_id: None,
            actor_name: "operator".into(),
            actor_roles: String::new(),
            action: "user.create".into(),
            outcome: Outcome::Success,
            resource_type: "user".into(),
            resource_id: Some("x".into()),
            patient_id: None,
            client_ip: None,
            request_id: None,
            reason: None,
            detail: None,
        }
    }

    #[test]
    fn hash_covers_every_field_and_the_previous_link() {
        let e = event();
        let h = chain_hash(GENESIS, &e);
        assert_eq!(h.len(), 64);
        assert_eq!(h, chain_hash(GENESIS, &e.clone()), "deterministic");
        assert_ne!(h, chain_hash(&h, &e), "depends on the previous hash");
        let mut changed = e.clone();
        changed.outcome = Outcome::Failure;
        assert_ne!(h, chain_hash(GENESIS, &changed));
        let mut changed = e;
        changed.at += chrono::Duration::microseconds(1);
        assert_ne!(h, chain_hash(GENESIS, &changed));
    }
}
