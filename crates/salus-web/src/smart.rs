//! SMART App Launch for the FHIR door: `/.well-known/smart-configuration`, the consent
//! page (`/oauth/authorize`) and the token endpoint (`/oauth/token`). Standalone launch,
//! public clients with PKCE (S256); patient and user scopes, v1 (`patient/*.read`) and v2
//! (`patient/Observation.rs`). What the scopes come to is decided here, as permissions the
//! user holds; the codes and tokens are `salus_app::identity::smart`'s.
//!
//! The app and its address are checked before anything else, and a wrong one gets a page
//! saying so, never a redirect (an open redirect is how codes are stolen); every later
//! error goes back to the app as `error=…&state=…`, as OAuth says.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use salus_app::AppError;
use salus_app::identity::smart::{Consent, SmartClient};
use salus_app::identity::{CurrentUser, Permission};
use salus_core::Role;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::AppState;
use crate::access::{Access, Declared, route};
use crate::error::{PageError, error_page};
use crate::views::{Form, PageCtx, SignedIn, render};

/// The token endpoint: an API path (no session, no anti-forgery token) whose errors are
/// OAuth's own JSON, left as they are by the problem middleware.
pub const TOKEN_PATH: &str = "/oauth/token";

pub(crate) const ROUTES: &[Declared] = &[
    route("/.well-known/smart-configuration", Access::Public),
    route("/fhir/.well-known/smart-configuration", Access::Public),
    route("/oauth/authorize", Access::SignedIn).post(),
    // The app's own back channel: no session, the code and its PKCE verifier are the proof.
    route("/oauth/token", Access::Public).post(),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/smart-configuration", get(configuration))
        .route("/fhir/.well-known/smart-configuration", get(configuration))
        .route("/oauth/authorize", get(authorize).post(consent))
        .route("/oauth/token", post(token))
}

/// This server's origin as clients reach it.
fn origin(headers: &HeaderMap, state: &AppState) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = if state.web.secure_cookies { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// `GET /.well-known/smart-configuration`
async fn configuration(headers: HeaderMap, State(state): State<AppState>) -> Response {
    let origin = origin(&headers, &state);
    let body = json!({
        "authorization_endpoint": format!("{origin}/oauth/authorize"),
        "token_endpoint": format!("{origin}/oauth/token"),
        "token_endpoint_auth_methods_supported": ["none"],
        "grant_types_supported": ["authorization_code"],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": [
            "launch/patient", "patient/*.read", "patient/*.write", "patient/*.rs", "patient/*.cruds",
            "user/*.read", "user/*.write", "user/*.rs", "user/*.cruds",
        ],
        "capabilities": [
            "launch-standalone", "client-public", "context-standalone-patient",
            "permission-patient", "permission-user", "permission-v1", "permission-v2",
        ],
    });
    let mut res = (StatusCode::OK, body.to_string()).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// The permissions reading resources of `ty` (`*`: any) needs.
fn reads_of(ty: &str) -> &'static [Permission] {
    match ty {
        "*" => &[Permission::ClinicalRead, Permission::PatientsRead, Permission::OrganisationRead],
        "Patient" => &[Permission::PatientsRead],
        "Practitioner" | "PractitionerRole" | "Organization" | "Medication" => {
            &[Permission::OrganisationRead]
        }
        "Schedule" | "Slot" => &[Permission::AppointmentsRead],
        "AuditEvent" => &[Permission::AuditView],
        "Location" => &[Permission::InpatientRead],
        "Coverage" | "ChargeItem" | "Invoice" | "Claim" => &[Permission::BillingRead],
        _ => &[Permission::ClinicalRead],
    }
}

/// The permissions writing resources of `ty` needs (what the door's writes check).
fn writes_of(ty: &str) -> &'static [Permission] {
    match ty {
        "*" => &[Permission::ClinicalWrite, Permission::VitalsRecord, Permission::PatientsRegister],
        "Patient" => &[Permission::PatientsRegister],
        "Observation" | "AllergyIntolerance" | "Immunization" => &[Permission::VitalsRecord],
        "Encounter" | "Condition" => &[Permission::ClinicalWrite],
        _ => &[],
    }
}

/// What the asked scopes come to for this user.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Granted {
    /// The scopes granted, as the app is told them.
    pub scopes: Vec<String>,
    pub permissions: Vec<Permission>,
    /// Some granted scope is a patient's (`patient/…`): the app needs a patient.
    pub needs_patient: bool,
}

/// Reads SMART scopes: a resource scope is granted when the user holds what it needs
/// (some of it: the token is never more than the user's roles, at each request), a
/// patient's own account its reads; `launch/patient` is kept; the rest (openid,
/// offline_access: no identity or refresh tokens here) is left out.
pub fn grant(asked: &str, user: &CurrentUser) -> Granted {
    let own_account = user.roles.contains(&Role::Patient);
    let mut out = Granted::default();
    for scope in asked.split_whitespace() {
        if scope == "launch/patient" {
            out.scopes.push(scope.to_owned());
            continue;
        }
        let Some((level, rest)) = scope.split_once('/') else { continue };
        let Some((ty, how)) = rest.split_once('.') else { continue };
        if !matches!(level, "patient" | "user") || !(ty == "*" || crate::fhir::search::TYPES.contains(&ty)) {
            continue;
        }
        let v2 = !how.is_empty() && how.chars().all(|c| "cruds".contains(c));
        let reads = how == "read" || how == "*" || (v2 && how.contains(['r', 's']));
        let writes = how == "write" || how == "*" || (v2 && how.contains(['c', 'u']));
        if !(reads || writes) || (own_account && writes) {
            continue;
        }
        let needed = reads_of(ty).iter().filter(|_| reads).chain(writes_of(ty).iter().filter(|_| writes));
        let held: Vec<Permission> = needed.copied().filter(|p| user.may(*p)).collect();
        if held.is_empty() && !own_account {
            continue;
        }
        out.permissions.extend(held);
        out.needs_patient |= level == "patient";
        out.scopes.push(scope.to_owned());
    }
    out.permissions.sort_by_key(|p| p.name());
    out.permissions.dedup();
    if out.scopes.iter().all(|s| s == "launch/patient") {
        out.scopes.clear();
    }
    out
}

/// A granted scope in words, for the consent page.
pub fn describe(scope: &str) -> String {
    if scope == "launch/patient" {
        return "Open with one patient's record, chosen now".into();
    }
    let (level, rest) = scope.split_once('/').unwrap_or(("", scope));
    let (ty, how) = rest.split_once('.').unwrap_or((rest, ""));
    let v2 = how.chars().all(|c| "cruds".contains(c));
    let reads = how == "read" || how == "*" || (v2 && how.contains(['r', 's']));
    let writes = how == "write" || how == "*" || (v2 && how.contains(['c', 'u']));
    let verb = match (reads, writes) {
        (true, true) => "Read and write",
        (false, true) => "Write",
        _ => "Read",
    };
    let what = if ty == "*" { "records".to_owned() } else { format!("{ty} records") };
    let hospitals = matches!(
        ty,
        "Practitioner"
            | "PractitionerRole"
            | "Organization"
            | "Location"
            | "Schedule"
            | "Slot"
            | "Medication"
    );
    if hospitals {
        return format!("{verb} the hospital's {what}");
    }
    let whose = if level == "patient" { "of that patient" } else { "of the patients you may open" };
    format!("{verb} {what} {whose}")
}

/// An authorisation request, as the app sends it and the consent form sends it back.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
struct AuthRequest {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    aud: Option<String>,
    code_challenge: String,
    code_challenge_method: String,
    /// The consent form's: the patient to launch with (a clinician's choice).
    mrn: String,
    decision: String,
}

/// A redirect back to the app with `pairs` (and its state).
fn back(req: &AuthRequest, pairs: &[(&str, &str)]) -> Response {
    let mut all: Vec<(&str, &str)> = pairs.to_vec();
    if let Some(s) = &req.state {
        all.push(("state", s));
    }
    let query = serde_urlencoded::to_string(&all).unwrap_or_default();
    let sep = if req.redirect_uri.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{}{sep}{query}", req.redirect_uri)).into_response()
}

fn refuse(req: &AuthRequest, error: &str, why: &str) -> Response {
    back(req, &[("error", error), ("error_description", why)])
}

#[derive(Template)]
#[template(path = "smart_authorize.html")]
struct ConsentPage {
    page: PageCtx,
    app: SmartClient,
    req: AuthRequest,
    /// (scope, in words)
    granted: Vec<(String, String)>,
    asks_patient: bool,
    error: Option<String>,
}

impl ConsentPage {
    fn new(
        page: PageCtx,
        app: SmartClient,
        req: AuthRequest,
        granted: &Granted,
        user: &CurrentUser,
        error: Option<String>,
    ) -> Self {
        Self {
            page,
            app,
            req,
            granted: granted.scopes.iter().map(|s| (s.clone(), describe(s))).collect(),
            // A patient's own account is launched with its record, unasked.
            asks_patient: granted.needs_patient && !user.roles.contains(&Role::Patient),
            error,
        }
    }
}

/// Checks a request: the app and its address first (a page if wrong), then the rest (back
/// to the app if wrong). `Ok` holds the app and what the user would grant.
async fn check(
    state: &AppState,
    headers: &HeaderMap,
    user: &CurrentUser,
    req: &AuthRequest,
) -> Result<Result<(SmartClient, Granted), Response>, PageError> {
    let app = state.app.identity().smart_client(&req.client_id).await?;
    let Some(app) = app.filter(|a| a.redirect_uris.contains(&req.redirect_uri)) else {
        return Ok(Err(error_page(
            StatusCode::BAD_REQUEST,
            "This app is not registered here, or not with this address. Ask the hospital's administrator to register it.",
        )));
    };
    if req.response_type != "code" {
        return Ok(Err(refuse(req, "unsupported_response_type", "only response_type=code")));
    }
    if req.code_challenge_method != "S256" || !(43..=128).contains(&req.code_challenge.len()) {
        return Ok(Err(refuse(
            req,
            "invalid_request",
            "PKCE is required: code_challenge with code_challenge_method=S256",
        )));
    }
    let fhir_base = format!("{}/fhir", origin(headers, state));
    if req.aud.as_deref().is_some_and(|a| a.trim_end_matches('/') != fhir_base) {
        return Ok(Err(refuse(req, "invalid_request", "aud is not this server's FHIR base")));
    }
    let granted = grant(&req.scope, user);
    if granted.scopes.is_empty() {
        return Ok(Err(refuse(req, "invalid_scope", "none of the scopes asked for can be granted to you")));
    }
    Ok(Ok((app, granted)))
}

/// `GET /oauth/authorize`: the consent page.
async fn authorize(
    State(state): State<AppState>,
    SignedIn(user, _, page): SignedIn,
    headers: HeaderMap,
    Query(req): Query<AuthRequest>,
) -> Result<Response, PageError> {
    let (app, granted) = match check(&state, &headers, &user, &req).await? {
        Ok(ok) => ok,
        Err(res) => return Ok(res),
    };
    Ok(render(StatusCode::OK, &ConsentPage::new(page, app, req, &granted, &user, None)))
}

/// `POST /oauth/authorize`: allowed (a code, back to the app) or denied.
async fn consent(
    State(state): State<AppState>,
    SignedIn(user, ctx, page): SignedIn,
    headers: HeaderMap,
    Form(req): Form<AuthRequest>,
) -> Result<Response, PageError> {
    let (app, granted) = match check(&state, &headers, &user, &req).await? {
        Ok(ok) => ok,
        Err(res) => return Ok(res),
    };
    if req.decision != "allow" {
        return Ok(refuse(&req, "access_denied", "the user did not allow it"));
    }
    let patient = if !granted.needs_patient {
        None
    } else if user.roles.contains(&Role::Patient) {
        match user.patient_id {
            Some(p) => Some(p),
            None => return Ok(refuse(&req, "access_denied", "this account is not linked to a record yet")),
        }
    } else {
        match state.app.patients().patient_by_mrn(&ctx, req.mrn.trim()).await {
            Ok(p) => Some(p.id),
            Err(e @ (AppError::NotFound(_) | AppError::Invalid(_) | AppError::BreakGlassRequired { .. })) => {
                let error = match e {
                    AppError::BreakGlassRequired { .. } => {
                        "This record is restricted; an app cannot be launched with it.".to_owned()
                    }
                    _ => format!("No record you may open has the MRN “{}”.", req.mrn.trim()),
                };
                let page = ConsentPage::new(page, app, req, &granted, &user, Some(error));
                return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
            }
            Err(e) => return Err(e.into()),
        }
    };
    let consent = Consent {
        client_id: app.client_id,
        redirect_uri: req.redirect_uri.clone(),
        scope: granted.scopes.join(" "),
        permissions: granted.permissions,
        patient,
        code_challenge: req.code_challenge.clone(),
    };
    let code = state.app.identity().consent_to_app(&ctx, consent).await?;
    Ok(back(&req, &[("code", &code)]))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenRequest {
    grant_type: String,
    code: String,
    redirect_uri: String,
    client_id: String,
    code_verifier: String,
}

fn oauth_json(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

fn oauth_error(error: &str, why: &str) -> Response {
    oauth_json(StatusCode::BAD_REQUEST, &json!({"error": error, "error_description": why}))
}

/// `POST /oauth/token`: a code and its verifier for a token.
async fn token(
    State(state): State<AppState>,
    page: PageCtx,
    axum::extract::Form(req): axum::extract::Form<TokenRequest>,
) -> Response {
    if req.grant_type != "authorization_code" {
        return oauth_error("unsupported_grant_type", "only authorization_code");
    }
    if req.code.is_empty()
        || req.client_id.is_empty()
        || req.redirect_uri.is_empty()
        || req.code_verifier.is_empty()
    {
        return oauth_error(
            "invalid_request",
            "code, client_id, redirect_uri and code_verifier are required",
        );
    }
    let redeemed = state
        .app
        .identity()
        .redeem_smart_code(&req.code, &req.client_id, &req.redirect_uri, &req.code_verifier, page.client)
        .await;
    match redeemed {
        Ok(t) => {
            let mut body = json!({
                "access_token": t.access_token,
                "token_type": "Bearer",
                "expires_in": t.expires_in,
                "scope": t.scope,
            });
            if let Some(p) = t.patient {
                body["patient"] = json!(p.to_string());
            }
            oauth_json(StatusCode::OK, &body)
        }
        Err(AppError::Invalid(_)) => {
            oauth_error("invalid_grant", "the code is unknown, used, expired, or not this app's")
        }
        Err(e) => {
            tracing::error!(error = %e, "a SMART token could not be made");
            oauth_json(StatusCode::INTERNAL_SERVER_ERROR, &json!({"error": "server_error"}))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use salus_core::{UserId, Username};

    fn user(roles: &[Role]) -> CurrentUser {
        CurrentUser {
            id: UserId::new(),
            username: Username::parse("smart.user").unwrap(),
            display_name: String::new(),
            roles: roles.to_vec(),
            gate: None,
            scope: None,
            two_factor_enabled: false,
            patient_id: None,
            smart: None,
        }
    }

    #[test]
    fn scopes_come_to_what_the_user_holds() {
        let nurse = grant(
            "launch/patient patient/*.read patient/Observation.cruds openid offline_access",
            &user(&[Role::Nurse]),
        );
        assert_eq!(nurse.scopes, ["launch/patient", "patient/*.read", "patient/Observation.cruds"]);
        assert!(nurse.needs_patient);
        assert!(nurse.permissions.contains(&Permission::VitalsRecord), "a nurse records vitals");
        assert!(!nurse.permissions.contains(&Permission::ClinicalWrite), "but writes no diagnoses");

        let desk = grant("user/Observation.rs", &user(&[Role::Receptionist]));
        assert_eq!(desk.scopes, Vec::<String>::new(), "a receptionist reads no clinical record");
        let desk = grant("user/Patient.read user/Practitioner.read", &user(&[Role::Receptionist]));
        assert_eq!(desk.permissions, [Permission::OrganisationRead, Permission::PatientsRead]);

        let me =
            grant("patient/*.read patient/*.write system/*.read patient/Bogus.read", &user(&[Role::Patient]));
        assert_eq!(me.scopes, ["patient/*.read"], "a patient's own account reads, never writes");
        assert!(me.permissions.is_empty());
        assert_eq!(grant("launch/patient", &user(&[Role::Doctor])).scopes, Vec::<String>::new());
        assert_eq!(describe("patient/*.cruds"), "Read and write records of that patient");
        assert_eq!(describe("user/Observation.rs"), "Read Observation records of the patients you may open");
        assert_eq!(describe("user/Slot.read"), "Read the hospital's Slot records");
    }
}
