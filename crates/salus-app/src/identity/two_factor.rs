//! The second factor: six-digit codes from an authenticator app (TOTP, RFC 6238: HMAC-SHA1,
//! 30-second steps, one step of clock drift either way) and ten one-time recovery codes
//! for a lost phone.
//!
//! Enrolment needs no server state until it is confirmed: the page draws a fresh secret as
//! a QR code and sends it back with the first code; only a secret proven by a code is
//! stored. A code is good once: the step it belongs to is claimed with a conditional
//! UPDATE, so a code seen over a shoulder (or replayed to a second instance) is refused.
//! Wrong codes count towards the same lockout as wrong passwords.

use chrono::{DateTime, Utc};
use rand::{Rng, RngCore};
use salus_core::{SessionId, UserId};
use salus_db::identity as q;
use serde_json::json;
use totp_rs::{Builder, Secret, Totp};

use super::profile::me;
use super::session::{failure_keys, record_failure, token_hash};
use super::{CurrentUser, Permission, password};
use crate::audit::{self, Event, Outcome};
use crate::{AppError, Ctx};

/// How many recovery codes a user gets at a time.
pub const RECOVERY_CODES: usize = 10;
/// Letters and digits that cannot be mistaken for one another when read off paper.
const RECOVERY_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// A secret offered to the user, not yet stored.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// Base32, for typing into an app that cannot scan.
    pub secret: String,
    /// The `otpauth://` URL the QR code carries.
    pub otpauth_url: String,
}

/// The second factor as the profile page shows it.
#[derive(Debug, Clone)]
pub struct TwoFactorStatus {
    pub enabled_at: Option<DateTime<Utc>>,
    pub required: bool,
    pub recovery_codes_left: u64,
}

fn totp(secret: &str, issuer: &str, account: &str) -> Result<Totp, AppError> {
    let bad = || AppError::field("secret", "is not a secret this page gave out; reload the page");
    let secret = Secret::try_from_base32(secret).map_err(|_| bad())?;
    Builder::new()
        .with_secret(secret)
        .with_issuer(Some(issuer.replace(':', " ")))
        .with_account_name(account)
        .build()
        .map_err(|_| bad())
}

fn now_secs() -> u64 {
    u64::try_from(Utc::now().timestamp()).unwrap_or(0)
}

/// What the user typed, without the spaces and dashes people add.
fn normalise(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_lowercase).collect()
}

fn looks_like_totp(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// Fresh recovery codes as shown (`xxxx-xxxx-xxxx`, about 59 bits each) and their hashes.
fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
    let mut rng = rand::rng();
    let shown: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let raw: String = (0..12)
                .map(|_| RECOVERY_ALPHABET[rng.random_range(0..RECOVERY_ALPHABET.len())] as char)
                .collect();
            format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12])
        })
        .collect();
    let hashes = shown.iter().map(|c| token_hash(&normalise(c))).collect();
    (shown, hashes)
}

impl crate::Identity<'_> {
    /// A new secret to show as a QR code; nothing is stored until a code confirms it.
    pub fn begin_enrolment(&self, user: &CurrentUser) -> Result<Enrolment, AppError> {
        let mut bytes = [0u8; 20];
        rand::rng().fill_bytes(&mut bytes);
        let secret = Secret::from(bytes.to_vec()).to_base32();
        let otpauth_url = totp(&secret, &self.security.totp_issuer, user.username.as_str())?
            .to_url()
            .map_err(|e| AppError::Internal(format!("otpauth url: {e}")))?;
        Ok(Enrolment { secret, otpauth_url })
    }

    pub async fn two_factor_status(&self, ctx: &Ctx) -> Result<TwoFactorStatus, AppError> {
        let user = me(ctx)?;
        let row =
            q::find_user(self.db.reader(), user.id.as_uuid()).await?.ok_or(AppError::Unauthenticated)?;
        Ok(TwoFactorStatus {
            enabled_at: row.user.totp_enabled_at,
            required: self.requires_second_factor(&user.roles, row.user.two_factor_required),
            recovery_codes_left: q::unused_recovery_codes(self.db.reader(), user.id.as_uuid()).await?,
        })
    }

    /// Stores `secret` once `code` proves the user's app has it; returns the recovery
    /// codes, which are shown this once.
    #[tracing::instrument(skip_all)]
    pub async fn enable_two_factor(
        &self,
        ctx: &Ctx,
        secret: &str,
        code: &str,
    ) -> Result<Vec<String>, AppError> {
        let user = me(ctx)?;
        if user.two_factor_enabled {
            return Err(AppError::Conflict("Two-factor sign-in is already set up.".into()));
        }
        let totp = totp(secret, &self.security.totp_issuer, user.username.as_str())?;
        let code = normalise(code);
        let Some(step) = totp.check(&code, now_secs()).filter(|_| looks_like_totp(&code)) else {
            return Err(AppError::field(
                "code",
                "is not the code your app shows now; check the phone's clock",
            ));
        };
        let (shown, hashes) = new_recovery_codes();
        let txn = self.db.begin_write().await?;
        let id = user.id.as_uuid();
        q::set_totp(&txn, id, Some(secret), Some(step as i64), Utc::now()).await?;
        q::replace_recovery_codes(&txn, id, &hashes).await?;
        audit::record(&txn, ctx, Event::new("user.two_factor_enabled", "user", Some(user.id.to_string())))
            .await?;
        txn.commit().await?;
        Ok(shown)
    }

    /// Turns the second factor off after checking the password; refused where it is required.
    pub async fn disable_two_factor(&self, ctx: &Ctx, current_password: &str) -> Result<(), AppError> {
        let user = me(ctx)?;
        let row =
            q::find_user(self.db.reader(), user.id.as_uuid()).await?.ok_or(AppError::Unauthenticated)?;
        if self.requires_second_factor(&user.roles, row.user.two_factor_required) {
            return Err(AppError::Conflict(
                "Your account requires two-factor sign-in; it cannot be turned off.".into(),
            ));
        }
        if !password::verify(current_password.to_owned(), Some(row.user.password_hash)).await? {
            return Err(AppError::field("current_password", "is not your current password"));
        }
        let txn = self.db.begin_write().await?;
        q::set_totp(&txn, user.id.as_uuid(), None, None, Utc::now()).await?;
        audit::record(&txn, ctx, Event::new("user.two_factor_disabled", "user", Some(user.id.to_string())))
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Replaces the user's recovery codes (after checking the password); the old ones stop working.
    pub async fn renew_recovery_codes(
        &self,
        ctx: &Ctx,
        current_password: &str,
    ) -> Result<Vec<String>, AppError> {
        let user = me(ctx)?;
        let row =
            q::find_user(self.db.reader(), user.id.as_uuid()).await?.ok_or(AppError::Unauthenticated)?;
        if row.user.totp_enabled_at.is_none() {
            return Err(AppError::Conflict("Set up two-factor sign-in first.".into()));
        }
        if !password::verify(current_password.to_owned(), Some(row.user.password_hash)).await? {
            return Err(AppError::field("current_password", "is not your current password"));
        }
        let (shown, hashes) = new_recovery_codes();
        let txn = self.db.begin_write().await?;
        q::replace_recovery_codes(&txn, user.id.as_uuid(), &hashes).await?;
        audit::record(
            &txn,
            ctx,
            Event::new("user.recovery_codes_renewed", "user", Some(user.id.to_string())),
        )
        .await?;
        txn.commit().await?;
        Ok(shown)
    }

    /// Completes a sign-in waiting for its second factor: a current authenticator code not
    /// used before, or an unused recovery code.
    #[tracing::instrument(skip_all)]
    pub async fn verify_second_factor(
        &self,
        ctx: &Ctx,
        session_id: SessionId,
        code: &str,
    ) -> Result<(), AppError> {
        let user = me(ctx)?;
        let keys = failure_keys(user.username.as_str(), &ctx.client);
        if let Some(retry_after_secs) = self.locked_for(&keys).await? {
            return Err(AppError::Locked { retry_after_secs });
        }
        let row =
            q::find_user(self.db.reader(), user.id.as_uuid()).await?.ok_or(AppError::Unauthenticated)?;
        let Some(secret) = row.user.totp_secret else {
            return Err(AppError::Conflict("This account has no second factor set up.".into()));
        };
        let code = normalise(code);
        let id = user.id.as_uuid();
        let txn = self.db.begin_write().await?;
        let outcome: Result<&str, &str> = if looks_like_totp(&code) {
            let totp = totp(&secret, &self.security.totp_issuer, user.username.as_str())?;
            // The comparison is constant time (totp-rs compares tokens so).
            let step = totp.check(&code, now_secs());
            match step {
                Some(step) if q::claim_totp_step(&txn, id, step as i64).await? => Ok("totp"),
                Some(_) => Err("already used"),
                None => Err("wrong code"),
            }
        } else if q::use_recovery_code(&txn, id, &token_hash(&code), Utc::now()).await? {
            Ok("recovery_code")
        } else {
            Err("wrong code")
        };
        match outcome {
            Ok(method) => {
                q::complete_second_factor(&txn, session_id.as_uuid()).await?;
                q::clear_login_failures(&txn, &keys[0].0).await?;
                let event = Event::new("session.login", "session", Some(session_id.to_string()))
                    .detail(json!({ "second_factor": method }));
                audit::record(&txn, ctx, event).await?;
                txn.commit().await?;
                Ok(())
            }
            Err(why) => {
                record_failure(&txn, &keys).await?;
                let event =
                    Event::new("session.second_factor_failed", "session", Some(session_id.to_string()))
                        .outcome(Outcome::Failure)
                        .detail(json!({ "why": why }));
                audit::record(&txn, ctx, event).await?;
                txn.commit().await?;
                Err(AppError::field(
                    "code",
                    if why == "already used" {
                        "was already used; wait for the next code"
                    } else {
                        "is not right; type the six digits your app shows now, or a recovery code"
                    },
                ))
            }
        }
    }

    /// An administrator requires (or stops requiring) a second factor of one user.
    pub async fn set_two_factor_required(
        &self,
        ctx: &Ctx,
        user_id: UserId,
        required: bool,
    ) -> Result<(), AppError> {
        self.authorize(ctx, Permission::UsersManage).await?;
        let txn = self.db.begin_write().await?;
        if !q::set_two_factor_required(&txn, user_id.as_uuid(), required, Utc::now()).await? {
            return Err(AppError::NotFound("user"));
        }
        let event = Event::new("user.two_factor_required", "user", Some(user_id.to_string()))
            .detail(json!({ "required": required }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(())
    }

    /// An administrator removes a user's second factor (a lost phone): the user sets it up
    /// again at next sign-in if it is required. Their sessions end.
    pub async fn reset_two_factor(&self, ctx: &Ctx, user_id: UserId) -> Result<(), AppError> {
        self.authorize(ctx, Permission::UsersManage).await?;
        let txn = self.db.begin_write().await?;
        if q::find_user(&txn, user_id.as_uuid()).await?.is_none() {
            return Err(AppError::NotFound("user"));
        }
        q::set_totp(&txn, user_id.as_uuid(), None, None, Utc::now()).await?;
        let ended = q::delete_sessions_of_user(&txn, user_id.as_uuid()).await?;
        let event = Event::new("user.two_factor_reset", "user", Some(user_id.to_string()))
            .detail(json!({ "sessions_ended": ended }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_distinct_and_normalise_to_their_hash() {
        let (shown, hashes) = new_recovery_codes();
        assert_eq!(shown.len(), RECOVERY_CODES);
        assert_eq!(shown[0].len(), 14);
        assert_eq!(token_hash(&normalise(&shown[0].to_uppercase().replace('-', " "))), hashes[0]);
        let mut unique = hashes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
    }

    #[test]
    fn only_six_digits_look_like_an_app_code() {
        assert!(looks_like_totp(&normalise("123 456")));
        assert!(!looks_like_totp("12345"));
        assert!(!looks_like_totp("abcd-efgh-jkmn"));
    }
}
