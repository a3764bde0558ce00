//! SMART App Launch on SQLite and PostgreSQL: discovery; a clinician's consent with PKCE
//! becoming a code, the code a token, the token reading the launch patient through FHIR
//! and no other record, nothing outside `/fhir`; a patient's own account; and the
//! refusals — an unregistered app or address (a page, never a redirect), no PKCE, a
//! wrong verifier, a code used twice, a denial — each changing nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::fhir::*;
use common::ward::*;
use salus_app::identity::smart::challenge_of;
use serde_json::Value;

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const VERIFIER: &str = "a-long-random-verifier-of-at-least-43-characters-0123456789";

/// The query of a redirect's Location, as pairs.
fn location_query(res: &reqwest::Response) -> Vec<(String, String)> {
    let loc = res.headers()["location"].to_str().unwrap();
    assert!(loc.starts_with(REDIRECT), "back to the app: {loc}");
    serde_urlencoded::from_str(loc.split_once('?').unwrap().1).unwrap()
}

fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn authorize_path(client_id: &str, scope: &str, challenge: &str) -> String {
    let q = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "xyz"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ])
    .unwrap();
    format!("/oauth/authorize?{q}")
}

/// Consent as `w` (with an MRN when asked): the redirect's query.
async fn consent(
    t: &common::TestApp,
    w: &Who,
    client_id: &str,
    scope: &str,
    mrn: &str,
    decision: &str,
) -> reqwest::Response {
    let form = [
        ("csrf_token", w.csrf.as_str()),
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "xyz"),
        ("code_challenge", &challenge_of(VERIFIER)),
        ("code_challenge_method", "S256"),
        ("mrn", mrn),
        ("decision", decision),
    ];
    w.client.post(t.url("/oauth/authorize")).form(&form).send().await.unwrap()
}

async fn redeem(t: &common::TestApp, client_id: &str, code: &str, verifier: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("client_id", client_id),
        ("code_verifier", verifier),
    ];
    let res = reqwest::Client::new().post(t.url("/oauth/token")).form(&form).send().await.unwrap();
    let status = res.status().as_u16();
    assert_eq!(res.headers()["cache-control"], "no-store");
    (status, res.json().await.unwrap())
}

async fn bearer(t: &common::TestApp, token: &str, path: &str) -> (u16, Value) {
    let res = reqwest::Client::new().get(t.url(path)).bearer_auth(token).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

db_test!(a_smart_app_reads_its_launch_patient_and_nothing_else, |t| {
    let w = ward(&t).await;
    record(&t, &w).await;
    let op = salus_app::Ctx::operator();
    let app =
        t.app.identity().register_smart_client(&op, "Growth charts", &[REDIRECT.to_owned()]).await.unwrap();
    let client_id = app.client_id.as_str();

    // Discovery, at the server's root and under the FHIR base.
    for path in ["/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"] {
        let conf: Value = reqwest::get(t.url(path)).await.unwrap().json().await.unwrap();
        assert!(conf["authorization_endpoint"].as_str().unwrap().ends_with("/oauth/authorize"));
        assert_eq!(conf["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    }
    let (_, meta) = fhir(&t, &w.doc, "/fhir/metadata").await;
    assert_eq!(meta["rest"][0]["security"]["service"][0]["coding"][0]["code"], "SMART-on-FHIR");

    // Signed out: to the sign-in page, and back here after.
    let scope = "launch/patient patient/*.read openid";
    let path = authorize_path(client_id, scope, &challenge_of(VERIFIER));
    let res = t.new_client().get(t.url(&path)).send().await.unwrap();
    assert!(res.headers()["location"].to_str().unwrap().starts_with("/login?next=%2Foauth%2Fauthorize"));
    // The consent page names the app, what it gets, and asks for the patient.
    let page = html(&t, &w.doc, &path).await;
    assert!(
        page.contains("Growth charts")
            && page.contains("Read records of that patient")
            && page.contains("name=\"mrn\""),
        "{page}"
    );
    assert!(!page.contains("<code>openid</code>"), "no identity tokens here, so not offered");

    // An MRN the doctor cannot find: the page again, the message beside the field.
    let res = consent(&t, &w.doc, client_id, scope, "NO-SUCH-MRN", "allow").await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("mrn-error"));

    let (_, p) = send(&t, &w.doc, "GET", &format!("/api/v1/patients/{}", w.patient), None, None).await;
    let mrn = p["mrn"].as_str().unwrap();
    let res = consent(&t, &w.doc, client_id, scope, mrn, "allow").await;
    assert_eq!(res.status(), 303);
    let back = location_query(&res);
    assert_eq!(get(&back, "state"), Some("xyz"));
    let code = get(&back, "code").unwrap().to_owned();

    // The wrong verifier spends the code; the right one then finds it spent.
    assert_eq!(
        redeem(&t, client_id, &code, &format!("{VERIFIER}-not")).await,
        (
            400,
            serde_json::json!({"error": "invalid_grant", "error_description": "the code is unknown, used, expired, or not this app's"})
        )
    );
    assert_eq!(redeem(&t, client_id, &code, VERIFIER).await.0, 400);

    let res = consent(&t, &w.doc, client_id, scope, mrn, "allow").await;
    let code = get(&location_query(&res), "code").unwrap().to_owned();
    assert_eq!(redeem(&t, "salus-app-someone-else", &code, VERIFIER).await.0, 400, "another app's code");
    let res = consent(&t, &w.doc, client_id, scope, mrn, "allow").await;
    let code = get(&location_query(&res), "code").unwrap().to_owned();
    let (status, token) = redeem(&t, client_id, &code, VERIFIER).await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["patient"], w.patient.as_str());
    assert_eq!(token["scope"], "launch/patient patient/*.read");
    assert!(token["expires_in"].as_i64().unwrap() <= 3600);
    assert_eq!(redeem(&t, client_id, &code, VERIFIER).await.0, 400, "a code is used once");
    let access = token["access_token"].as_str().unwrap();

    // The launch patient, through FHIR; no other record; nothing outside /fhir.
    let (status, me) = bearer(&t, access, &format!("/fhir/Patient/{}", w.patient)).await;
    assert_eq!((status, me["id"].as_str()), (200, Some(w.patient.as_str())));
    let (status, obs) = bearer(&t, access, &format!("/fhir/Observation?patient={}", w.patient)).await;
    assert_eq!(status, 200);
    assert!(!obs["entry"].as_array().unwrap().is_empty());
    assert_eq!(bearer(&t, access, &format!("/fhir/Patient/{}", w.other_patient)).await.0, 404);
    // A search naming another patient finds nothing of theirs (as a patient's own account's).
    let (status, theirs) = bearer(&t, access, &format!("/fhir/Condition?patient={}", w.other_patient)).await;
    assert_eq!(status, 200);
    let other_ref = format!("Patient/{}", w.other_patient);
    assert!(
        theirs["entry"]
            .as_array()
            .is_none_or(|e| e.iter().all(|x| x["resource"]["subject"]["reference"] != other_ref.as_str())),
        "{theirs}"
    );
    let (status, search) = bearer(&t, access, "/fhir/Patient?name=Okafor").await;
    assert_eq!(status, 200);
    assert!(
        search["entry"]
            .as_array()
            .is_none_or(|e| e.iter().all(|x| x["resource"]["id"] == w.patient.as_str())),
        "{search}"
    );
    assert_eq!(bearer(&t, access, &format!("/api/v1/patients/{}", w.patient)).await.0, 403);
    // Read scopes write nothing.
    let res = reqwest::Client::new()
        .post(t.url("/fhir/Condition"))
        .bearer_auth(access)
        .header("content-type", "application/fhir+json")
        .body(serde_json::json!({"resourceType": "Condition", "subject": {"reference": format!("Patient/{}", w.patient)}, "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "J45.909"}]}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // Consent and the token are in the audit trail.
    for action in ["smart.consent", "smart.token"] {
        assert!(
            !salus_db::audit::actions_of(t.app.db.reader(), action).await.unwrap().is_empty(),
            "{action}"
        );
    }
});

db_test!(a_smart_request_that_is_wrong_goes_nowhere, |t| {
    let w = ward(&t).await;
    let op = salus_app::Ctx::operator();
    let app =
        t.app.identity().register_smart_client(&op, "Growth charts", &[REDIRECT.to_owned()]).await.unwrap();
    let client_id = app.client_id.as_str();
    // Registration refuses an address an attacker could read codes at.
    let err =
        t.app.identity().register_smart_client(&op, "Bad", &["http://evil.example/cb".to_owned()]).await;
    assert!(matches!(err, Err(salus_app::AppError::Invalid(_))), "{err:?}");

    // An unknown app, or a known one with another address: a page, never a redirect.
    let path = authorize_path("salus-app-unknown", "patient/*.read", &challenge_of(VERIFIER));
    let res = w.doc.client.get(t.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let path = authorize_path(client_id, "patient/*.read", &challenge_of(VERIFIER))
        .replace("9%2Fcallback", "9%2Felsewhere");
    let res = w.doc.client.get(t.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());

    // No PKCE, or scopes the user cannot have: back to the app with the error.
    let path = authorize_path(client_id, "patient/*.read", "short");
    let res = w.doc.client.get(t.url(&path)).send().await.unwrap();
    assert_eq!(get(&location_query(&res), "error"), Some("invalid_request"));
    let path = authorize_path(client_id, "patient/*.read", &challenge_of(VERIFIER));
    let res = w
        .desk
        .client
        .get(t.url(&path.replace("patient%2F*.read", "user%2FObservation.read")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        get(&location_query(&res), "error"),
        Some("invalid_scope"),
        "a receptionist reads no observations"
    );

    // A denial: back with access_denied, and no code made.
    let res = consent(&t, &w.doc, client_id, "patient/*.read", "", "deny").await;
    let back = location_query(&res);
    assert_eq!((get(&back, "error"), get(&back, "code")), (Some("access_denied"), None));
    assert!(salus_db::audit::actions_of(t.app.db.reader(), "smart.consent").await.unwrap().is_empty());

    // The token endpoint: its own errors, JSON.
    let res = reqwest::Client::new()
        .post(t.url("/oauth/token"))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "unsupported_grant_type");
    assert_eq!(redeem(&t, client_id, "made-up", VERIFIER).await.0, 400);

    // A patient's own account: its record, without being asked which.
    let me = patient_account(&t, &w).await;
    let res = consent(&t, &me, client_id, "launch/patient patient/*.read", "", "allow").await;
    let code = get(&location_query(&res), "code").unwrap().to_owned();
    let (status, token) = redeem(&t, client_id, &code, VERIFIER).await;
    assert_eq!((status, token["patient"].as_str()), (200, Some(w.patient.as_str())), "{token}");
    let access = token["access_token"].as_str().unwrap();
    assert_eq!(bearer(&t, access, &format!("/fhir/Patient/{}", w.patient)).await.0, 200);
    assert_eq!(bearer(&t, access, &format!("/fhir/Patient/{}", w.other_patient)).await.0, 404);
});
