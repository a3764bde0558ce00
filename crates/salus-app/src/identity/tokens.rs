//! Personal API tokens: `Authorization: Bearer salus_pat_…` on `/api/v1`.
//!
//! A token belongs to one user, carries a subset of that user's permissions (its scope),
//! and expires; it can be revoked at any time. Only its SHA-256 is stored, so the secret
//! is shown once, at creation. Each request is allowed what both the scope and the
//! owner's roles at that moment allow: demoting the owner narrows their tokens at once,
//! and disabling the owner or an administrator's password reset stops them.

use chrono::{DateTime, Duration, Utc};
use salus_core::FieldError;
use salus_db::entity::api_token;
use salus_db::identity as q;
use serde_json::json;
use uuid::Uuid;

use super::profile::me;
use super::session::{random_token, token_hash};
use super::sign_ins::CachedToken;
use super::{Actor, ClientInfo, CurrentUser, Permission};
use crate::audit::{self, Event, Outcome};
use crate::{AppError, Ctx};

/// What every token starts with, so a leaked one is easy to recognise (and to scan for).
pub const TOKEN_PREFIX: &str = "salus_pat_";
/// The longest a token may live.
pub const MAX_TOKEN_DAYS: u32 = 365;
/// How often `last_used_at` is written while a token is in use.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// A token as its owner sees it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<Permission>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }

    /// "active", "expired" or "revoked", for the list.
    pub fn state(&self) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.expires_at <= Utc::now() {
            "expired"
        } else {
            "active"
        }
    }

    pub fn scope_names(&self) -> String {
        self.scopes.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
    }
}

/// A token as asked for in the form or API.
#[derive(Debug, Clone, Default)]
pub struct NewApiToken {
    pub name: String,
    /// Permission names (`audit.view`).
    pub scopes: Vec<String>,
    /// Days until it expires, 1 to [`MAX_TOKEN_DAYS`].
    pub expires_in_days: u32,
}

fn parse_scopes(stored: &str) -> Vec<Permission> {
    stored.split_whitespace().filter_map(Permission::parse).collect()
}

fn to_api_token(row: api_token::Model) -> ApiToken {
    ApiToken {
        id: row.id,
        name: row.name,
        scopes: parse_scopes(&row.scopes),
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
    }
}

impl crate::Identity<'_> {
    /// Creates a token for the signed-in user; returns it and its secret (shown once).
    pub async fn create_api_token(
        &self,
        ctx: &Ctx,
        new: NewApiToken,
    ) -> Result<(ApiToken, String), AppError> {
        let user = me(ctx)?;
        if user.scope.is_some() {
            // A token cannot mint tokens: a leaked one must not be able to outlive itself.
            return Err(AppError::Forbidden);
        }
        let mut errors = Vec::new();
        let name = new.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            errors.push(FieldError::new("name", "must be 1 to 100 characters"));
        }
        let mut scopes = Vec::new();
        for s in &new.scopes {
            match Permission::parse(s) {
                Some(p) if user.may(p) => scopes.push(p),
                Some(_) => {
                    errors.push(FieldError::new("scopes", format!("`{s}` is not a permission you have")))
                }
                None => errors.push(FieldError::new("scopes", format!("`{s}` is not a permission"))),
            }
        }
        scopes.sort_by_key(|p| p.name());
        scopes.dedup();
        if !(1..=MAX_TOKEN_DAYS).contains(&new.expires_in_days) {
            errors.push(FieldError::new("expires_in_days", format!("must be 1 to {MAX_TOKEN_DAYS} days")));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let secret = format!("{TOKEN_PREFIX}{}", random_token());
        let now = Utc::now();
        let row = api_token::Model {
            id: Uuid::now_v7(),
            user_id: user.id.as_uuid(),
            name,
            token_hash: token_hash(&secret),
            scopes: scopes.iter().map(|p| p.name()).collect::<Vec<_>>().join(" "),
            created_at: now,
            expires_at: now + Duration::days(i64::from(new.expires_in_days)),
            last_used_at: None,
            revoked_at: None,
            client_id: None,
            patient_id: None,
        };
        let txn = self.db.begin_write().await?;
        q::insert_api_token(&txn, row.clone()).await?;
        let event = Event::new("token.created", "api_token", Some(row.id.to_string()))
            .detail(json!({ "name": row.name, "scopes": row.scopes, "expires_at": row.expires_at }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok((to_api_token(row), secret))
    }

    pub async fn my_api_tokens(&self, ctx: &Ctx) -> Result<Vec<ApiToken>, AppError> {
        let user = me(ctx)?;
        Ok(q::api_tokens_of_user(self.db.reader(), user.id.as_uuid())
            .await?
            .into_iter()
            .map(to_api_token)
            .collect())
    }

    /// Revokes one of the user's own live tokens; another user's token is not found.
    pub async fn revoke_api_token(&self, ctx: &Ctx, id: Uuid) -> Result<(), AppError> {
        let user = me(ctx)?;
        let txn = self.db.begin_write().await?;
        if !q::revoke_api_token(&txn, user.id.as_uuid(), id, Utc::now()).await? {
            return Err(AppError::NotFound("token"));
        }
        audit::record(&txn, ctx, Event::new("token.revoked", "api_token", Some(id.to_string()))).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The user a bearer secret stands for, with the token's scope; `None` (and an audit
    /// event) when the token is unknown, expired or revoked, or its owner disabled.
    pub async fn authenticate_token(
        &self,
        secret: &str,
        client: ClientInfo,
    ) -> Result<Option<CurrentUser>, AppError> {
        let now = Utc::now();
        let hash = token_hash(secret);
        if self.sign_ins.token(&hash).is_some() {
            self.sign_ins.confirm(&self.db).await?;
            if let Some(c) = self.sign_ins.token(&hash).filter(|c| c.expires_at > now) {
                if c.last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY) {
                    self.sign_ins.used(&hash, now);
                    let db = self.db.clone();
                    tokio::spawn(async move {
                        if let Err(e) = q::touch_api_token(db.writer(), c.id, now).await {
                            tracing::warn!(error = %e, "a token's last use could not be recorded");
                        }
                    });
                }
                return Ok(Some(c.user));
            }
        }
        let ticket = self.sign_ins.ticket();
        let token = q::find_api_token(self.db.reader(), &hash).await?;
        let owner = match &token {
            Some(t) => q::find_user(self.db.reader(), t.user_id).await?,
            None => None,
        };
        let refused = match (&token, &owner) {
            (None, _) | (_, None) => Some("unknown token"),
            (Some(t), _) if t.revoked_at.is_some() => Some("revoked"),
            (Some(t), _) if t.expires_at <= now => Some("expired"),
            (_, Some(o)) if !o.user.active => Some("owner disabled"),
            _ => None,
        };
        let (Some(token), Some(owner), None) = (token, owner, refused) else {
            let event = Event::new("token.rejected", "api_token", None)
                .outcome(Outcome::Denied)
                .detail(json!({ "why": refused }));
            let txn = self.db.begin_write().await?;
            audit::record(&txn, &Ctx::new(Actor::Anonymous, client), event).await?;
            txn.commit().await?;
            return Ok(None);
        };
        let mut last_used_at = token.last_used_at;
        if token.last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY) {
            q::touch_api_token(self.db.writer(), token.id, now).await?;
            last_used_at = Some(now);
        }
        let mut user = self.current_user(owner, false)?;
        // A password reset revokes tokens, and a token cannot enrol a second factor, so
        // neither gate applies to a token's requests.
        user.gate = None;
        user.scope = Some(parse_scopes(&token.scopes));
        user.smart = token.client_id.clone().map(|client_id| super::SmartGrant {
            client_id,
            patient: token.patient_id.map(salus_core::PatientId::from_uuid),
        });
        let cached =
            CachedToken { id: token.id, expires_at: token.expires_at, last_used_at, user: user.clone() };
        self.sign_ins.put_token(ticket, hash, cached);
        Ok(Some(user))
    }
}
