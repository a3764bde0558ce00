//! Every route against every role: the declared access table is complete and enforced.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use salus_core::Role;
use salus_web::access::{Access, declared, routes};

/// Any id: no record has it, so a request reaches the route's access check and no data.
const ANY_ID: &str = "0190a0b0-0000-7000-8000-000000000000";

/// Every declared route's sample request: (pattern, method, concrete path). The
/// sign-out comes last, as it ends the session the others use.
fn samples() -> Vec<(&'static str, &'static str, String)> {
    let mut all: Vec<_> = routes().map(|r| (r.path, r.method, r.sample_path(ANY_ID))).collect();
    all.sort_by_key(|(p, _, _)| *p == "/logout");
    all
}

#[test]
fn every_sample_reaches_its_own_route() {
    // A sample with a placeholder left in it would not reach the route it tests.
    for (pattern, _, path) in samples() {
        assert!(!path.contains('{'), "{pattern}: its sample {path} needs an example");
        assert!(declared(pattern).is_some());
    }
    assert!(samples().len() >= 140, "every route of the router: {}", samples().len());
}

db_test!(every_api_route_declares_its_access, |t| {
    let spec: serde_json::Value =
        t.client.get(t.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let paths = spec["paths"].as_object().unwrap();
    assert!(!paths.is_empty());
    for path in paths.keys() {
        assert!(declared(path).is_some(), "API route {path} declares no access");
    }
});

/// Limits no walk of every route can reach: this test is about access, and the API's
/// per-address limit (600 at once) is smaller than routes × roles from one address.
fn unlimited() -> salus_web::WebSettings {
    let plenty = salus_web::RateLimit { per_minute: 1_000_000, burst: 100_000 };
    salus_web::WebSettings {
        rate_limits: salus_web::RateLimits {
            api_per_address: plenty,
            api_per_token: plenty,
            login_per_address: plenty,
        },
        ..salus_web::WebSettings::default()
    }
}

fn no_second_factor() -> salus_app::SecuritySettings {
    salus_app::SecuritySettings { two_factor_roles: Vec::new(), ..Default::default() }
}

db_test!(every_route_against_every_role, no_second_factor(), unlimited(), |t| {
    let mut expected_denials = 0;
    let mut callers: Vec<Option<Role>> = Role::ALL.into_iter().map(Some).collect();
    callers.push(None);
    for role in callers {
        let client = t.new_client();
        let csrf = match role {
            Some(r) => {
                let name = format!("u.{}", r.as_str().replace('_', "-"));
                let password = t.user(&name, &[r]).await;
                t.login_with(&client, &name, &password).await
            }
            // Not signed in: the login form's anti-forgery token, so a refusal below is
            // about access, not forgery.
            None => common::csrf_in(&client.get(t.url("/login")).send().await.unwrap().text().await.unwrap()),
        };
        for (pattern, method, path) in samples() {
            let path = path.as_str();
            let access = declared(pattern).unwrap();
            let req = match method {
                "POST" => client.post(t.url(path)).header("x-csrf-token", &csrf),
                "PUT" => client.put(t.url(path)).header("x-csrf-token", &csrf),
                "PATCH" => client.patch(t.url(path)).header("x-csrf-token", &csrf),
                "DELETE" => client.delete(t.url(path)).header("x-csrf-token", &csrf),
                _ => client.get(t.url(path)),
            };
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            // The JSON API and the FHIR door answer with a status and a document, not a page.
            let api = path.starts_with("/api/v1") || path == "/fhir" || path.starts_with("/fhir/");
            let location =
                res.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
            let body = res.text().await.unwrap();
            let who = format!("{role:?} {method} {path}");
            if access == Access::Signed {
                // The sample carries no signature: refused alike to every caller.
                assert_eq!(status, 401, "{who}: unsigned");
                continue;
            }
            let allowed = match access {
                Access::Public | Access::Signed => true,
                Access::SignedIn => role.is_some(),
                Access::Permission(p) => role.is_some_and(|r| p.granted_to(r)),
            };
            if allowed {
                assert!(![401, 403].contains(&status), "{who}: allowed but got {status}");
                // (Signing out ends at the sign-in page by design.)
                if pattern != "/logout" {
                    assert!(!location.starts_with("/login"), "{who}: allowed but sent to sign in");
                }
            } else if role.is_none() {
                // Not signed in: the API says 401, a page sends to the sign-in page.
                if api {
                    assert_eq!(status, 401, "{who}");
                } else {
                    assert!(
                        status == 303 && location.starts_with("/login?next="),
                        "{who}: {status} {location}"
                    );
                }
            } else {
                expected_denials += 1;
                assert_eq!(status, 403, "{who}");
                if pattern.starts_with("/fhir") {
                    assert!(
                        body.contains("OperationOutcome") && body.contains("\"forbidden\""),
                        "{who}: {body}"
                    );
                } else if api {
                    assert!(body.contains("urn:salus:problem:forbidden"), "{who}: {body}");
                } else {
                    assert!(body.contains("<h1>Forbidden</h1>"), "{who}: a proper page");
                }
                assert!(!body.contains("u.admin") && !body.contains("<table"), "{who}: never the data");
            }
        }
    }
    // Every refusal of a signed-in user is in the audit trail.
    // (A patient account asking for a record not its own is denied too, answered 404 and
    // audited against the patient; those are counted apart.)
    let denials = salus_db::audit::actions_of(t.app.db.reader(), "access.denied").await.unwrap();
    let by_permission = denials.iter().filter(|e| e.resource_type == "permission").count();
    assert_eq!(by_permission, expected_denials);
    assert!(expected_denials >= 28, "7 roles × 4 admin routes at least");
});
