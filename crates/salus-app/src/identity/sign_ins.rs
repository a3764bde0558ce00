//! Signed-in requests without a database round trip each: sessions and API tokens are
//! cached in memory, keyed by the hash of their secret, and a revocation still takes
//! effect on the very next request on every instance.
//!
//! Triggers log every change that must end or refresh a sign-in (`auth_revocations`:
//! a session ended, a token revoked, a user disabled, re-roled, renamed or given a new
//! password) in the transaction of the change. Before a cached sign-in is trusted, the
//! request waits for a look at that log which *began after the request arrived*; one
//! look serves every request waiting at that moment, so under load many requests share
//! one small indexed read, and with one request at a time it is one read that returns
//! no rows. What the look finds is evicted; the next request for it reads the database.
//!
//! A look reads the last [`WINDOW`] of the log (not "after the last sequence number
//! seen"): on PostgreSQL a transaction that took a lower number can commit after one
//! that took a higher one, and a cursor would skip it. Rows already applied are
//! remembered and not applied twice.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use salus_db::Db;
use salus_db::identity::{self as q, Revocation};
use uuid::Uuid;

use crate::AppError;
use crate::identity::CurrentUser;

/// How far back each look reads: longer than any transaction that changes a credential
/// takes to commit, plus the clock difference between instances.
const WINDOW: Duration = Duration::from_secs(120);
/// A cached sign-in is re-read after this long even if nothing was logged.
const MAX_AGE: Duration = Duration::from_secs(300);
/// Beyond this many cached sign-ins the cache starts again (a bound, not an eviction policy).
const MAX_ENTRIES: usize = 50_000;

/// A session as the cache keeps it.
#[derive(Debug, Clone)]
pub(crate) struct CachedSession {
    pub id: Uuid,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub second_factor_pending: bool,
    pub user: CurrentUser,
}

/// An API token as the cache keeps it (its owner with the token's scopes applied).
#[derive(Debug, Clone)]
pub(crate) struct CachedToken {
    pub id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub user: CurrentUser,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    user_id: Uuid,
    credential_id: Uuid,
    loaded: Instant,
}

#[derive(Debug, Default)]
struct Entries {
    sessions: HashMap<String, Entry<CachedSession>>,
    tokens: HashMap<String, Entry<CachedToken>>,
    /// Bumped whenever a look evicts something: a sign-in read from the database while
    /// it changed is not cached (it may predate a revocation the look already applied).
    evictions: u64,
}

#[derive(Debug, Default)]
struct Looks {
    /// Revocations applied, by sequence number, with when they were logged.
    applied: HashMap<i64, i64>,
}

/// The cache; one per [`crate::App`].
#[derive(Debug, Default)]
pub(crate) struct SignIns {
    entries: Mutex<Entries>,
    looks: tokio::sync::Mutex<Looks>,
    /// Looks begun and looks finished, numbered: a request needs a look numbered higher
    /// than the last one begun when it arrived.
    begun: AtomicU64,
    finished: AtomicU64,
}

/// A ticket from [`SignIns::ticket`]: whether the database read it accompanies may be cached.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket(u64);

impl SignIns {
    /// The entries; a panic elsewhere while they were held leaves them consistent (every
    /// change is a single map operation), so a poisoned lock is taken as is.
    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn session(&self, hash: &str) -> Option<CachedSession> {
        let entries = self.entries();
        entries.sessions.get(hash).filter(|e| e.loaded.elapsed() < MAX_AGE).map(|e| e.value.clone())
    }

    pub fn token(&self, hash: &str) -> Option<CachedToken> {
        let entries = self.entries();
        entries.tokens.get(hash).filter(|e| e.loaded.elapsed() < MAX_AGE).map(|e| e.value.clone())
    }

    /// Taken before reading a sign-in from the database, handed back to cache it.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.entries().evictions)
    }

    pub fn put_session(&self, ticket: Ticket, hash: String, value: CachedSession) {
        let mut entries = self.entries();
        if entries.evictions != ticket.0 {
            return;
        }
        if entries.sessions.len() >= MAX_ENTRIES {
            entries.sessions.clear();
        }
        let entry = Entry {
            user_id: value.user.id.as_uuid(),
            credential_id: value.id,
            loaded: Instant::now(),
            value,
        };
        entries.sessions.insert(hash, entry);
    }

    pub fn put_token(&self, ticket: Ticket, hash: String, value: CachedToken) {
        let mut entries = self.entries();
        if entries.evictions != ticket.0 {
            return;
        }
        if entries.tokens.len() >= MAX_ENTRIES {
            entries.tokens.clear();
        }
        let entry = Entry {
            user_id: value.user.id.as_uuid(),
            credential_id: value.id,
            loaded: Instant::now(),
            value,
        };
        entries.tokens.insert(hash, entry);
    }

    /// Records that a cached session was seen now (its idle clock restarts).
    pub fn seen(&self, hash: &str, at: DateTime<Utc>) {
        if let Some(e) = self.entries().sessions.get_mut(hash) {
            e.value.last_seen_at = at;
        }
    }

    /// Records that a cached token was used now.
    pub fn used(&self, hash: &str, at: DateTime<Utc>) {
        if let Some(e) = self.entries().tokens.get_mut(hash) {
            e.value.last_used_at = Some(at);
        }
    }

    /// Returns once the revocation log has been read by a look that began after this
    /// call, and what it found evicted.
    pub async fn confirm(&self, db: &Db) -> Result<(), AppError> {
        let need = self.begun.load(Ordering::SeqCst) + 1;
        let mut looks = self.looks.lock().await;
        if self.finished.load(Ordering::SeqCst) >= need {
            return Ok(());
        }
        let number = self.begun.fetch_add(1, Ordering::SeqCst) + 1;
        let now_ms = Utc::now().timestamp_millis();
        let since = now_ms - WINDOW.as_millis() as i64;
        let found = q::revocations_since(db, since).await?;
        self.apply(&mut looks, &found, since);
        self.finished.store(number, Ordering::SeqCst);
        Ok(())
    }

    fn apply(&self, looks: &mut Looks, found: &[Revocation], since: i64) {
        looks.applied.retain(|_, at| *at > since);
        let fresh: Vec<&Revocation> = found.iter().filter(|r| !looks.applied.contains_key(&r.seq)).collect();
        if fresh.is_empty() {
            return;
        }
        let users: HashSet<Uuid> =
            fresh.iter().filter(|r| r.credential_id.is_none()).map(|r| r.user_id).collect();
        let credentials: HashSet<Uuid> = fresh.iter().filter_map(|r| r.credential_id).collect();
        let hit = |user_id: &Uuid, credential_id: &Uuid| {
            users.contains(user_id) || credentials.contains(credential_id)
        };
        {
            let mut entries = self.entries();
            entries.sessions.retain(|_, e| !hit(&e.user_id, &e.credential_id));
            entries.tokens.retain(|_, e| !hit(&e.user_id, &e.credential_id));
            entries.evictions += 1;
        }
        for r in fresh {
            looks.applied.insert(r.seq, r.at_ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use salus_core::UserId;

    fn user(id: Uuid) -> CurrentUser {
        CurrentUser {
            id: UserId::from_uuid(id),
            username: salus_core::Username::parse("someone").unwrap(),
            display_name: "Someone".into(),
            roles: vec![],
            gate: None,
            scope: None,
            two_factor_enabled: false,
            patient_id: None,
            smart: None,
        }
    }

    fn session(id: Uuid, user_id: Uuid) -> CachedSession {
        let now = Utc::now();
        CachedSession {
            id,
            csrf_token: "x".into(),
            created_at: now,
            last_seen_at: now,
            expires_at: now,
            second_factor_pending: false,
            user: user(user_id),
        }
    }

    #[test]
    fn a_revocation_evicts_the_session_or_every_sign_in_of_the_user_once() {
        let cache = SignIns::default();
        let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let (a1, a2, b1) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        for (hash, s, u) in [("a1", a1, alice), ("a2", a2, alice), ("b1", b1, bob)] {
            cache.put_session(cache.ticket(), hash.into(), session(s, u));
        }
        let mut looks = Looks::default();
        // One session of Alice's ended: only that one goes.
        cache.apply(
            &mut looks,
            &[Revocation { seq: 1, at_ms: 1, user_id: alice, credential_id: Some(a1) }],
            0,
        );
        assert!(cache.session("a1").is_none());
        assert!(cache.session("a2").is_some() && cache.session("b1").is_some());
        // Bob's account changed: all of Bob's go, Alice's stay.
        cache.apply(&mut looks, &[Revocation { seq: 2, at_ms: 1, user_id: bob, credential_id: None }], 0);
        assert!(cache.session("b1").is_none() && cache.session("a2").is_some());
        // The same rows read again by the next look are not applied again.
        cache.put_session(cache.ticket(), "b1".into(), session(b1, bob));
        cache.apply(
            &mut looks,
            &[
                Revocation { seq: 1, at_ms: 1, user_id: alice, credential_id: Some(a1) },
                Revocation { seq: 2, at_ms: 1, user_id: bob, credential_id: None },
            ],
            0,
        );
        assert!(cache.session("b1").is_some(), "a row already applied must not evict a later sign-in");
    }

    #[test]
    fn a_read_that_overlapped_an_eviction_is_not_cached() {
        let cache = SignIns::default();
        let alice = Uuid::now_v7();
        let ticket = cache.ticket();
        let mut looks = Looks::default();
        cache.apply(&mut looks, &[Revocation { seq: 7, at_ms: 1, user_id: alice, credential_id: None }], 0);
        cache.put_session(ticket, "a".into(), session(Uuid::now_v7(), alice));
        assert!(cache.session("a").is_none());
        cache.put_session(cache.ticket(), "a".into(), session(Uuid::now_v7(), alice));
        assert!(cache.session("a").is_some());
    }
}
