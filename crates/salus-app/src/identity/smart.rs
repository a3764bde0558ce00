//! SMART App Launch (OAuth 2.0 authorisation code with PKCE): apps an administrator
//! registers, the one-time code a signed-in user's consent makes, and the short-lived
//! token it becomes.
//!
//! A SMART token is a personal API token of the consenting user, marked with its app: it
//! carries the permissions the granted scopes come to (never more than the user's roles
//! allow, at each request), reaches `/fhir` only, and when launched with a patient reaches
//! that record alone (`patients::access` refuses every other). The door (`/oauth`) turns
//! SMART scopes into permissions; this module keeps the codes honest: bound to the app,
//! the address it is sent back to and the PKCE challenge, used once, within a minute.

use base64::Engine;
use chrono::{Duration, Utc};
use salus_core::{FieldError, PatientId};
use salus_db::entity::{api_token, oauth_code, smart_client};
use salus_db::identity as q;
use serde_json::json;
use sha2::Digest;
use uuid::Uuid;

use super::profile::me;
use super::session::{random_token, token_hash};
use super::{Actor, Permission};
use crate::audit::{self, Event};
use crate::{AppError, Ctx};

/// How long a code may wait to be redeemed.
const CODE_LIFETIME: Duration = Duration::seconds(60);
/// How long a SMART token lives (no refresh tokens: the app asks again).
pub const TOKEN_LIFETIME: Duration = Duration::hours(1);

/// A registered app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmartClient {
    pub client_id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub active: bool,
}

impl From<smart_client::Model> for SmartClient {
    fn from(m: smart_client::Model) -> Self {
        Self {
            client_id: m.client_id,
            name: m.name,
            redirect_uris: m.redirect_uris.lines().map(str::to_owned).collect(),
            active: m.active,
        }
    }
}

/// A user's consent, to be made into a code.
#[derive(Debug, Clone)]
pub struct Consent {
    pub client_id: String,
    pub redirect_uri: String,
    /// The SMART scopes granted, as the app will be told them.
    pub scope: String,
    pub permissions: Vec<Permission>,
    /// The patient the app is launched with.
    pub patient: Option<PatientId>,
    pub code_challenge: String,
}

/// What a redeemed code gives the app.
#[derive(Debug, Clone)]
pub struct SmartToken {
    pub access_token: String,
    pub scope: String,
    pub patient: Option<PatientId>,
    pub expires_in: i64,
}

/// Whether `uri` may be an app's address: absolute https, or http on this machine.
fn acceptable_redirect(uri: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(uri) else { return false };
    let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    url.fragment().is_none() && (url.scheme() == "https" || (url.scheme() == "http" && local))
}

/// BASE64URL(SHA-256(verifier)), the S256 challenge.
pub fn challenge_of(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

impl crate::Identity<'_> {
    /// Registers an app (administrators): its name and the addresses it may be sent back
    /// to; returns it with its new client id.
    pub async fn register_smart_client(
        &self,
        ctx: &Ctx,
        name: &str,
        redirect_uris: &[String],
    ) -> Result<SmartClient, AppError> {
        self.authorize(ctx, Permission::UsersManage).await?;
        let mut errors = Vec::new();
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            errors.push(FieldError::new("name", "must be 1 to 100 characters"));
        }
        let uris: Vec<String> =
            redirect_uris.iter().map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()).collect();
        if uris.is_empty() {
            errors.push(FieldError::new("redirect_uris", "give at least one address"));
        }
        if let Some(bad) = uris.iter().find(|u| !acceptable_redirect(u)) {
            errors.push(FieldError::new(
                "redirect_uris",
                format!(
                    "{bad} must be an https address (or http on 127.0.0.1 or localhost), without a #fragment"
                ),
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let row = smart_client::Model {
            id: Uuid::now_v7(),
            client_id: format!("salus-app-{}", &random_token()[..16]),
            name: name.to_owned(),
            redirect_uris: uris.join("\n"),
            active: true,
            created_by: ctx.actor.user().map(|u| u.id.as_uuid()),
            created_at: Utc::now(),
        };
        let txn = self.db.begin_write().await?;
        q::insert_smart_client(&txn, row.clone()).await?;
        let event = Event::new("smart.client_registered", "smart_client", Some(row.client_id.clone()))
            .detail(json!({ "name": row.name, "redirect_uris": uris }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// The registered apps (administrators).
    pub async fn smart_clients(&self, ctx: &Ctx) -> Result<Vec<SmartClient>, AppError> {
        self.authorize(ctx, Permission::UsersManage).await?;
        Ok(crate::records(q::smart_clients(self.db.reader()).await?))
    }

    /// An active app by its client id (what the consent page shows), if there is one.
    pub async fn smart_client(&self, client_id: &str) -> Result<Option<SmartClient>, AppError> {
        Ok(q::find_smart_client(self.db.reader(), client_id)
            .await?
            .map(SmartClient::from)
            .filter(|c| c.active))
    }

    /// Makes the signed-in user's consent a one-time code. The app must be registered with
    /// this address; a patient launched with must be one the user may read (a patient's
    /// own account: its own record only).
    pub async fn consent_to_app(&self, ctx: &Ctx, consent: Consent) -> Result<String, AppError> {
        let user = me(ctx)?;
        if user.scope.is_some() {
            // Only a person at a browser consents; a token cannot mint another.
            return Err(AppError::Forbidden);
        }
        let client = self.smart_client(&consent.client_id).await?.ok_or(AppError::NotFound("app"))?;
        if !client.redirect_uris.contains(&consent.redirect_uri) {
            return Err(AppError::field("redirect_uri", "is not one this app registered"));
        }
        if let Some(p) = consent.patient {
            self.patients().patient(ctx, p).await?;
        }
        let code = random_token();
        let now = Utc::now();
        let row = oauth_code::Model {
            id: Uuid::now_v7(),
            code_hash: token_hash(&code),
            client_id: client.client_id.clone(),
            user_id: user.id.as_uuid(),
            scope: consent.scope.clone(),
            permissions: consent.permissions.iter().map(|p| p.name()).collect::<Vec<_>>().join(" "),
            patient_id: consent.patient.map(|p| p.as_uuid()),
            redirect_uri: consent.redirect_uri,
            code_challenge: consent.code_challenge,
            expires_at: now + CODE_LIFETIME,
            used_at: None,
            created_at: now,
        };
        let txn = self.db.begin_write().await?;
        q::insert_oauth_code(&txn, row.clone()).await?;
        let event = Event::new("smart.consent", "smart_client", Some(client.client_id))
            .detail(json!({ "scope": row.scope, "patient": row.patient_id }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(code)
    }

    /// Redeems a code for a token: once, within its minute, by the app it was made for,
    /// with the address it was sent to and the PKCE verifier of its challenge. Any
    /// mismatch is the same refusal (the code is spent all the same).
    pub async fn redeem_smart_code(
        &self,
        code: &str,
        client_id: &str,
        redirect_uri: &str,
        verifier: &str,
        client: super::ClientInfo,
    ) -> Result<SmartToken, AppError> {
        let now = Utc::now();
        let refused = || AppError::field("code", "the code is unknown, used, expired, or not this app's");
        let txn = self.db.begin_write().await?;
        let Some(row) = q::take_oauth_code(&txn, &token_hash(code), now).await? else {
            return Err(refused());
        };
        let matches = row.client_id == client_id
            && row.redirect_uri == redirect_uri
            && row.expires_at > now
            && (43..=128).contains(&verifier.len())
            && challenge_of(verifier) == row.code_challenge;
        let owner = q::find_user(&txn, row.user_id).await?.filter(|o| o.user.active);
        let (true, Some(owner), Some(app)) = (matches, owner, self.smart_client(client_id).await?) else {
            // The spent code stays spent.
            txn.commit().await?;
            return Err(refused());
        };
        let secret = format!("{}{}", super::tokens::TOKEN_PREFIX, random_token());
        let token = api_token::Model {
            id: Uuid::now_v7(),
            user_id: row.user_id,
            name: format!("SMART: {}", app.name).chars().take(100).collect(),
            token_hash: token_hash(&secret),
            scopes: row.permissions.clone(),
            created_at: now,
            expires_at: now + TOKEN_LIFETIME,
            last_used_at: None,
            revoked_at: None,
            client_id: Some(app.client_id.clone()),
            patient_id: row.patient_id,
        };
        q::insert_api_token(&txn, token.clone()).await?;
        let user = self.current_user(owner, false)?;
        let ctx = Ctx::new(Actor::User(user), client);
        let event = Event::new("smart.token", "api_token", Some(token.id.to_string()))
            .detail(json!({ "client_id": app.client_id, "scope": row.scope, "patient": row.patient_id }));
        audit::record(&txn, &ctx, event).await?;
        txn.commit().await?;
        Ok(SmartToken {
            access_token: secret,
            scope: row.scope,
            patient: row.patient_id.map(PatientId::from_uuid),
            expires_in: TOKEN_LIFETIME.num_seconds(),
        })
    }
}
