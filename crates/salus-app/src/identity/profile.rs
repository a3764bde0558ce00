//! A user's own account: their sessions (list, revoke, sign out everywhere else) and
//! their password. Every function acts on the signed-in user only, so there is nothing
//! to ask permission for beyond being signed in — and a session id of someone else is
//! simply not found.

use chrono::{DateTime, Utc};
use salus_core::{FieldError, Password, SessionId};
use salus_db::identity as q;
use serde_json::json;

use super::{Actor, CurrentUser, password};
use crate::audit::{self, Event};
use crate::{AppError, Ctx};

/// One of the user's sessions, for the profile page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: SessionId,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A password change as typed in the form.
#[derive(Debug, Clone, Default)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
    pub confirm: String,
}

pub(crate) fn me(ctx: &Ctx) -> Result<&CurrentUser, AppError> {
    match &ctx.actor {
        Actor::User(u) => Ok(u),
        Actor::Operator | Actor::Anonymous => Err(AppError::Unauthenticated),
    }
}

impl crate::Identity<'_> {
    pub async fn my_sessions(&self, ctx: &Ctx) -> Result<Vec<SessionInfo>, AppError> {
        let user = me(ctx)?;
        Ok(q::sessions_of_user(self.db.reader(), user.id.as_uuid())
            .await?
            .into_iter()
            .map(|s| SessionInfo {
                id: SessionId::from_uuid(s.id),
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                client_ip: s.client_ip,
                user_agent: s.user_agent,
            })
            .collect())
    }

    /// Ends one of the user's own sessions.
    pub async fn revoke_my_session(&self, ctx: &Ctx, id: SessionId) -> Result<(), AppError> {
        let user = me(ctx)?;
        let txn = self.db.begin_write().await?;
        if q::delete_session_of_user(&txn, user.id.as_uuid(), id.as_uuid()).await? == 0 {
            return Err(AppError::NotFound("session"));
        }
        audit::record(&txn, ctx, Event::new("session.revoke", "session", Some(id.to_string()))).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Ends every session of the user but `keep` (the one asking); returns how many.
    pub async fn sign_out_elsewhere(&self, ctx: &Ctx, keep: SessionId) -> Result<u64, AppError> {
        let user = me(ctx)?;
        let txn = self.db.begin_write().await?;
        let n = q::delete_other_sessions(&txn, user.id.as_uuid(), keep.as_uuid()).await?;
        let event = Event::new("session.revoke_others", "user", Some(user.id.to_string()))
            .detail(json!({ "ended": n }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(n)
    }

    /// Changes the user's password after checking the current one; ends their other
    /// sessions (a stolen session should not survive the change it prompted).
    pub async fn change_password(
        &self,
        ctx: &Ctx,
        keep: SessionId,
        change: PasswordChange,
    ) -> Result<(), AppError> {
        let user = me(ctx)?;
        let row =
            q::find_user(self.db.reader(), user.id.as_uuid()).await?.ok_or(AppError::Unauthenticated)?;
        let mut errors = Vec::new();
        if !password::verify(change.current.clone(), Some(row.user.password_hash.clone())).await? {
            errors.push(FieldError::new("current_password", "is not your current password"));
        }
        let new = Password::parse(&change.new, &user.username)
            .map_err(|e| errors.push(FieldError::new("new_password", e.message)))
            .ok();
        if change.new != change.confirm {
            errors.push(FieldError::new("confirm_password", "does not match the new password"));
        }
        if change.new == change.current && new.is_some() {
            errors.push(FieldError::new("new_password", "must differ from the current password"));
        }
        let (Some(new), true) = (new, errors.is_empty()) else { return Err(AppError::Invalid(errors)) };
        let hash = password::hash(new.expose().to_owned()).await?;
        let txn = self.db.begin_write().await?;
        q::set_password_hash(&txn, user.id.as_uuid(), &hash, false, Utc::now()).await?;
        let ended = q::delete_other_sessions(&txn, user.id.as_uuid(), keep.as_uuid()).await?;
        let event = Event::new("user.password_change", "user", Some(user.id.to_string()))
            .detail(json!({ "sessions_ended": ended }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(())
    }
}
