//! Login, sessions and logout.
//!
//! A session is a row keyed by the SHA-256 of a random 256-bit secret that only the
//! browser's cookie holds. Sessions live in the database, so every instance behind a load
//! balancer sees the same ones. A session ends when idle for `idle_timeout` or at its
//! absolute expiry, whichever comes first; activity is written at most once a minute so a
//! busy page does not turn every read into a write.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use rand::RngCore;
use salus_core::{Role, SessionId, UserId, Username};
use salus_db::entity::session;
use salus_db::identity as q;
use sha2::{Digest, Sha256};

use super::sign_ins::CachedSession;
use super::{Actor, CurrentUser, Gate, password};
use crate::AppError;
use crate::Ctx;
use crate::audit::{self, Event, Outcome};
use serde_json::json;

/// Failed sign-ins allowed per name before backoff begins, and per address.
const FREE_FAILURES_PER_NAME: i32 = 5;
const FREE_FAILURES_PER_ADDRESS: i32 = 20;
/// A counter restarts after this long without a failure.
const FAILURE_WINDOW: ChronoDuration = ChronoDuration::hours(1);
/// The longest lockout; each failure past the free ones doubles it from one minute.
const MAX_LOCKOUT_MINUTES: i64 = 60;

fn lockout(failures: i32, free: i32) -> Option<ChronoDuration> {
    let over = failures - free;
    (over >= 0).then(|| ChronoDuration::minutes((1i64 << over.min(6)).min(MAX_LOCKOUT_MINUTES)))
}

/// The counter keys of an attempt: the name as typed (normalised, whether or not such an
/// account exists) and the client's address.
pub(crate) fn failure_keys(username: &str, client: &ClientInfo) -> Vec<(String, i32)> {
    let name: String = username.trim().to_lowercase().chars().take(100).collect();
    let mut keys = vec![(format!("user:{name}"), FREE_FAILURES_PER_NAME)];
    if let Some(ip) = &client.ip {
        keys.push((format!("ip:{ip}"), FREE_FAILURES_PER_ADDRESS));
    }
    keys
}

/// How long a session may wait for its second factor before it is dropped.
const SECOND_FACTOR_WINDOW: ChronoDuration = ChronoDuration::minutes(10);

/// How often `last_seen_at` is written while a session is in use.
const TOUCH_EVERY: ChronoDuration = ChronoDuration::seconds(60);

/// A session just created by a login: `token` goes into the cookie and is not kept.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub user: CurrentUser,
    pub expires_at: DateTime<Utc>,
    /// The user has a second factor: the session opens only the code page until it is given.
    pub second_factor_pending: bool,
}

/// A live session with its user, as found from a cookie.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub session_id: SessionId,
    pub csrf_token: String,
    pub user: CurrentUser,
}

/// Where a login or request came from, for the session list and (later) the audit trail.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The request's id, linking the audit trail to the logs.
    pub request_id: Option<String>,
}

/// 256 random bits as unpadded base64url: session secrets and anti-forgery tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn to_chrono(d: std::time::Duration) -> ChronoDuration {
    ChronoDuration::from_std(d).unwrap_or(ChronoDuration::MAX)
}

fn truncate(s: Option<String>, max: usize) -> Option<String> {
    s.map(|s| s.chars().take(max).collect())
}

impl crate::Identity<'_> {
    /// Checks a username and password and opens a session. Unknown user, wrong password
    /// and disabled account all give `BadCredentials`, in about the same time.
    #[tracing::instrument(skip_all)]
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: ClientInfo,
    ) -> Result<NewSession, AppError> {
        let keys = failure_keys(username, &client);
        if let Some(retry_after_secs) = self.locked_for(&keys).await? {
            // Refused before the password is even checked: no work for the attacker's CPU
            // budget, and the same answer for every name.
            let attempted: String = username.chars().take(64).collect();
            let event = Event::new("session.login_locked", "user", None)
                .outcome(Outcome::Failure)
                .detail(json!({ "username": attempted }));
            let txn = self.db.begin_write().await?;
            audit::record(&txn, &Ctx::new(Actor::Anonymous, client), event).await?;
            txn.commit().await?;
            return Err(AppError::Locked { retry_after_secs });
        }
        let found = match Username::parse(username) {
            Ok(u) => q::find_user_by_username(self.db.reader(), u.as_str()).await?,
            Err(_) => None,
        };
        let hash = found.as_ref().map(|f| f.user.password_hash.clone());
        let ok = password::verify(password.to_owned(), hash).await?;
        let row = match found {
            Some(row) if ok && row.user.active => row,
            other => {
                // The attempted name is kept (cut short) so an administrator can see
                // guessing; the client learns nothing about which names exist.
                let reason = match &other {
                    None => "unknown username",
                    Some(r) if !r.user.active => "account disabled",
                    Some(_) => "wrong password",
                };
                let attempted: String = username.chars().take(64).collect();
                let event = Event::new("session.login_failed", "user", other.map(|r| r.user.id.to_string()))
                    .outcome(Outcome::Failure)
                    .detail(json!({ "username": attempted, "why": reason }));
                let ctx = Ctx::new(Actor::Anonymous, client);
                let txn = self.db.begin_write().await?;
                audit::record(&txn, &ctx, event).await?;
                record_failure(&txn, &keys).await?;
                txn.commit().await?;
                return Err(AppError::BadCredentials);
            }
        };
        let now = Utc::now();
        let token = random_token();
        let csrf_token = random_token();
        let second_factor_pending = row.user.totp_enabled_at.is_some();
        let expires_at = now + to_chrono(self.sessions.absolute_timeout);
        let user_id = row.user.id;
        let user = self.current_user(row, second_factor_pending)?;
        let session_id = SessionId::new();
        let txn = self.db.begin_write().await?;
        q::insert_session(
            &txn,
            session::Model {
                id: session_id.as_uuid(),
                token_hash: token_hash(&token),
                user_id,
                csrf_token: csrf_token.clone(),
                created_at: now,
                last_seen_at: now,
                expires_at,
                client_ip: truncate(client.ip.clone(), 64),
                user_agent: truncate(client.user_agent.clone(), 255),
                second_factor_pending,
            },
        )
        .await?;
        let ctx = Ctx::new(Actor::User(user.clone()), client);
        if second_factor_pending {
            // The name's failures are forgiven only once the second factor is given too,
            // so wrong codes count towards the same lockout as wrong passwords.
            let event = Event::new("session.password_accepted", "session", Some(session_id.to_string()))
                .detail(json!({ "second_factor": "pending" }));
            audit::record(&txn, &ctx, event).await?;
        } else {
            // A success forgives the name's failures (the address keeps its count, so one
            // known account cannot be used to reset an address that is guessing others).
            q::clear_login_failures(&txn, &keys[0].0).await?;
            audit::record(&txn, &ctx, Event::new("session.login", "session", Some(session_id.to_string())))
                .await?;
        }
        txn.commit().await?;
        Ok(NewSession { token, csrf_token, user, expires_at, second_factor_pending })
    }

    /// The live session and user for a cookie's token, if any. An expired session is
    /// deleted on sight; a disabled user has no session. Served from the sign-in cache
    /// once the revocation log has been looked at (see [`super::sign_ins`]).
    pub async fn session(&self, token: &str) -> Result<Option<SessionUser>, AppError> {
        let hash = token_hash(token);
        if self.sign_ins.session(&hash).is_some() {
            self.sign_ins.confirm(&self.db).await?;
            if let Some(c) = self.sign_ins.session(&hash) {
                let now = Utc::now();
                // One that looks idle or expired is decided by the database below: another
                // instance may have seen it more recently.
                if self.live(now, c.created_at, c.last_seen_at, c.expires_at, c.second_factor_pending) {
                    if now - c.last_seen_at >= TOUCH_EVERY {
                        self.sign_ins.seen(&hash, now);
                        self.touch_in_background(c.id, now);
                    }
                    return Ok(Some(SessionUser {
                        session_id: SessionId::from_uuid(c.id),
                        csrf_token: c.csrf_token,
                        user: c.user,
                    }));
                }
            }
        }
        let ticket = self.sign_ins.ticket();
        let Some((s, row)) = q::find_session_with_user(self.db.reader(), &hash).await? else {
            return Ok(None);
        };
        let now = Utc::now();
        if !self.live(now, s.created_at, s.last_seen_at, s.expires_at, s.second_factor_pending) {
            q::delete_session(self.db.writer(), s.id).await?;
            return Ok(None);
        }
        if !row.user.active {
            return Ok(None);
        }
        let mut last_seen_at = s.last_seen_at;
        if now - s.last_seen_at >= TOUCH_EVERY {
            q::touch_session(self.db.writer(), s.id, now).await?;
            last_seen_at = now;
        }
        let user = self.current_user(row, s.second_factor_pending)?;
        let cached = CachedSession {
            id: s.id,
            csrf_token: s.csrf_token,
            created_at: s.created_at,
            last_seen_at,
            expires_at: s.expires_at,
            second_factor_pending: s.second_factor_pending,
            user,
        };
        let found = SessionUser {
            session_id: SessionId::from_uuid(s.id),
            csrf_token: cached.csrf_token.clone(),
            user: cached.user.clone(),
        };
        self.sign_ins.put_session(ticket, hash, cached);
        Ok(Some(found))
    }

    /// Whether a session is within its idle and absolute limits (and, while its second
    /// factor is pending, within the window for giving it).
    fn live(
        &self,
        now: DateTime<Utc>,
        created_at: DateTime<Utc>,
        last_seen_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        second_factor_pending: bool,
    ) -> bool {
        let idle_deadline = last_seen_at + to_chrono(self.sessions.idle_timeout);
        let pending_too_long = second_factor_pending && now - created_at >= SECOND_FACTOR_WINDOW;
        now < expires_at && now < idle_deadline && !pending_too_long
    }

    /// Moves a session's idle clock in the database without holding up the request: a
    /// failure only means its idle time is counted from its previous touch.
    fn touch_in_background(&self, id: uuid::Uuid, now: DateTime<Utc>) {
        let db = self.db.clone();
        tokio::spawn(async move {
            if let Err(e) = q::touch_session(db.writer(), id, now).await {
                tracing::warn!(error = %e, "a session's last activity could not be recorded");
            }
        });
    }

    pub async fn logout(&self, ctx: &Ctx, session_id: SessionId) -> Result<(), AppError> {
        let txn = self.db.begin_write().await?;
        q::delete_session(&txn, session_id.as_uuid()).await?;
        audit::record(&txn, ctx, Event::new("session.logout", "session", Some(session_id.to_string())))
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Deletes expired sessions, and revocations older than any cache reads back; run
    /// periodically by the server.
    pub async fn purge_expired_sessions(&self) -> Result<u64, AppError> {
        let now = Utc::now();
        let purged =
            q::delete_expired_sessions(self.db.writer(), now, now - to_chrono(self.sessions.idle_timeout))
                .await?;
        q::purge_revocations(self.db.writer(), (now - ChronoDuration::days(1)).timestamp_millis()).await?;
        Ok(purged)
    }
}

impl crate::Identity<'_> {
    /// Whether `keys` are locked out now, and for how many more seconds.
    pub(crate) async fn locked_for(&self, keys: &[(String, i32)]) -> Result<Option<u64>, AppError> {
        let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
        let now = Utc::now();
        let until = q::login_failures(self.db.reader(), &names)
            .await?
            .into_iter()
            .filter_map(|r| r.locked_until.filter(|until| *until > now))
            .max();
        Ok(until.map(|until| (until - now).num_seconds().max(1) as u64))
    }

    /// Whether the user's roles or an administrator require a second factor.
    pub(crate) fn requires_second_factor(&self, roles: &[Role], flagged: bool) -> bool {
        flagged || roles.iter().any(|r| self.security.two_factor_roles.contains(r))
    }

    pub(crate) fn current_user(
        &self,
        row: q::UserRow,
        second_factor_pending: bool,
    ) -> Result<CurrentUser, AppError> {
        let roles: Vec<Role> = row.roles.iter().filter_map(|r| r.parse::<Role>().ok()).collect();
        let enrolled = row.user.totp_enabled_at.is_some();
        let gate = if second_factor_pending {
            Some(Gate::SecondFactor)
        } else if row.user.must_change_password {
            Some(Gate::ChangePassword)
        } else if !enrolled && self.requires_second_factor(&roles, row.user.two_factor_required) {
            Some(Gate::EnrolSecondFactor)
        } else {
            None
        };
        Ok(CurrentUser {
            id: UserId::from_uuid(row.user.id),
            username: Username::parse(&row.user.username)?,
            display_name: row.user.display_name,
            roles,
            gate,
            scope: None,
            two_factor_enabled: enrolled,
            patient_id: row.user.patient_id.map(salus_core::PatientId::from_uuid),
            smart: None,
        })
    }
}

/// Counts a failed attempt (password or second-factor code) against each key and sets a
/// lockout where one is due.
pub(crate) async fn record_failure<C: salus_db::ConnectionTrait>(
    txn: &C,
    keys: &[(String, i32)],
) -> Result<(), AppError> {
    let now = Utc::now();
    let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
    let existing = q::login_failures(txn, &names).await?;
    for (key, free) in keys {
        let failures = match existing.iter().find(|r| &r.key == key) {
            Some(r) if now - r.last_failure_at < FAILURE_WINDOW => r.failures.saturating_add(1),
            _ => 1,
        };
        let row = salus_db::entity::login_failure::Model {
            key: key.clone(),
            failures,
            last_failure_at: now,
            locked_until: lockout(failures, *free).map(|d| now + d),
        };
        q::put_login_failure(txn, row).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "32 bytes in unpadded base64url");
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
