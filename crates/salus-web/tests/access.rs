//! Every route against every role: the declared access table is complete and enforced.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use salus_core::Role;
use salus_web::access::{Access, DECLARED, declared};

/// One request for each declared route: (route pattern, method, concrete path). The
/// sign-out comes last, as it ends the session the others use.
const SAMPLES: &[(&str, &str, &str)] = &[
    ("/login", "GET", "/login"),
    ("/", "GET", "/"),
    ("/admin/users", "GET", "/admin/users"),
    ("/admin/audit", "GET", "/admin/audit"),
    ("/api/v1/me", "GET", "/api/v1/me"),
    ("/api/v1/users", "GET", "/api/v1/users"),
    ("/api/openapi.json", "GET", "/api/openapi.json"),
    ("/api/docs", "GET", "/api/docs"),
    ("/api/docs/", "GET", "/api/docs/"),
    ("/api/docs/{*rest}", "GET", "/api/docs/swagger-ui.css"),
    ("/health/live", "GET", "/health/live"),
    ("/health/ready", "GET", "/health/ready"),
    ("/metrics", "GET", "/metrics"),
    ("/assets/{*path}", "GET", "/assets/app.css"),
    ("/profile", "GET", "/profile"),
    ("/profile/password", "POST", "/profile/password"),
    (
        "/profile/sessions/{id}/revoke",
        "POST",
        "/profile/sessions/0190a0b0-0000-7000-8000-000000000000/revoke",
    ),
    ("/profile/sessions/revoke-others", "POST", "/profile/sessions/revoke-others"),
    ("/login/two-factor", "GET", "/login/two-factor"),
    ("/admin/users/{id}", "GET", "/admin/users/0190a0b0-0000-7000-8000-000000000000"),
    ("/admin/users/{id}/{action}", "POST", "/admin/users/0190a0b0-0000-7000-8000-000000000000/enable"),
    ("/profile/two-factor", "GET", "/profile/two-factor"),
    ("/profile/two-factor/disable", "POST", "/profile/two-factor/disable"),
    ("/profile/two-factor/recovery-codes", "POST", "/profile/two-factor/recovery-codes"),
    ("/profile/tokens", "POST", "/profile/tokens"),
    ("/profile/tokens/{id}/revoke", "POST", "/profile/tokens/0190a0b0-0000-7000-8000-000000000000/revoke"),
    ("/api/v1/patients", "GET", "/api/v1/patients?q=smith"),
    ("/api/v1/patients/{id}", "GET", "/api/v1/patients/0190a0b0-0000-7000-8000-000000000000"),
    ("/api/v1/patients/{id}/status", "POST", "/api/v1/patients/0190a0b0-0000-7000-8000-000000000000/status"),
    ("/api/v1/patients/{id}/merge", "POST", "/api/v1/patients/0190a0b0-0000-7000-8000-000000000000/merge"),
    (
        "/api/v1/patients/{id}/unmerge",
        "POST",
        "/api/v1/patients/0190a0b0-0000-7000-8000-000000000000/unmerge",
    ),
    (
        "/api/v1/patients/{id}/break-glass",
        "POST",
        "/api/v1/patients/0190a0b0-0000-7000-8000-000000000000/break-glass",
    ),
    (
        "/api/v1/patients/{id}/timeline",
        "GET",
        "/api/v1/patients/0190a0b0-0000-7000-8000-000000000000/timeline",
    ),
    ("/api/v1/patients/{id}/history", "GET", "/api/v1/patients/0190a0b0-0000-7000-8000-000000000000/history"),
    ("/api/v1/patients/{id}/photo", "GET", "/api/v1/patients/0190a0b0-0000-7000-8000-000000000000/photo"),
    ("/patients", "GET", "/patients?q=smith"),
    ("/patients/new", "GET", "/patients/new"),
    ("/patients/{id}", "GET", "/patients/0190a0b0-0000-7000-8000-000000000000"),
    ("/patients/{id}/timeline", "GET", "/patients/0190a0b0-0000-7000-8000-000000000000/timeline"),
    ("/patients/{id}/photo", "GET", "/patients/0190a0b0-0000-7000-8000-000000000000/photo"),
    ("/patients/{id}/edit", "GET", "/patients/0190a0b0-0000-7000-8000-000000000000/edit"),
    ("/patients/{id}/break-glass", "POST", "/patients/0190a0b0-0000-7000-8000-000000000000/break-glass"),
    ("/patients/{id}/merge", "POST", "/patients/0190a0b0-0000-7000-8000-000000000000/merge"),
    ("/patients/{id}/unmerge", "POST", "/patients/0190a0b0-0000-7000-8000-000000000000/unmerge"),
    ("/admin/break-glass", "GET", "/admin/break-glass"),
    (
        "/admin/break-glass/{id}/review",
        "POST",
        "/admin/break-glass/0190a0b0-0000-7000-8000-000000000000/review",
    ),
    ("/api/v1/facilities", "GET", "/api/v1/facilities"),
    ("/api/v1/facilities/{id}", "GET", "/api/v1/facilities/0190a0b0-0000-7000-8000-000000000000"),
    ("/api/v1/departments", "GET", "/api/v1/departments"),
    ("/api/v1/departments/{id}", "GET", "/api/v1/departments/0190a0b0-0000-7000-8000-000000000000"),
    ("/api/v1/specialisations", "GET", "/api/v1/specialisations"),
    ("/api/v1/specialisations/{id}", "GET", "/api/v1/specialisations/0190a0b0-0000-7000-8000-000000000000"),
    ("/api/v1/staff", "GET", "/api/v1/staff"),
    ("/api/v1/staff/{id}", "GET", "/api/v1/staff/0190a0b0-0000-7000-8000-000000000000"),
    ("/api/v1/services", "GET", "/api/v1/services"),
    ("/api/v1/services/{id}", "GET", "/api/v1/services/0190a0b0-0000-7000-8000-000000000000"),
    ("/api/v1/identifier-types", "GET", "/api/v1/identifier-types"),
    ("/api/v1/icd10", "GET", "/api/v1/icd10?q=E11"),
    ("/api/v1/identifier-types/{code}", "PUT", "/api/v1/identifier-types/passport"),
    ("/admin/identifier-types", "POST", "/admin/identifier-types"),
    ("/admin/identifier-types/{code}", "POST", "/admin/identifier-types/passport"),
    ("/api/v1/schedules", "GET", "/api/v1/schedules"),
    (
        "/api/v1/schedules/{id}/retire",
        "POST",
        "/api/v1/schedules/0190a0b0-0000-7000-8000-000000000000/retire",
    ),
    ("/api/v1/schedule-exceptions", "GET", "/api/v1/schedule-exceptions?from=2026-01-01&to=2026-01-31"),
    (
        "/api/v1/schedule-exceptions/{id}",
        "DELETE",
        "/api/v1/schedule-exceptions/0190a0b0-0000-7000-8000-000000000000",
    ),
    ("/api/v1/slots", "GET", "/api/v1/slots?doctor_id=0190a0b0-0000-7000-8000-000000000000"),
    ("/api/v1/appointments", "GET", "/api/v1/appointments?date=2026-01-01"),
    ("/api/v1/appointments/{id}", "GET", "/api/v1/appointments/0190a0b0-0000-7000-8000-000000000000"),
    (
        "/api/v1/appointments/{id}/status",
        "POST",
        "/api/v1/appointments/0190a0b0-0000-7000-8000-000000000000/status",
    ),
    (
        "/api/v1/appointments/{id}/reschedule",
        "POST",
        "/api/v1/appointments/0190a0b0-0000-7000-8000-000000000000/reschedule",
    ),
    ("/appointments", "GET", "/appointments"),
    ("/appointments/book", "GET", "/appointments/book?patient_id=0190a0b0-0000-7000-8000-000000000000"),
    ("/appointments/{id}/{action}", "POST", "/appointments/0190a0b0-0000-7000-8000-000000000000/check_in"),
    ("/worklist", "GET", "/worklist"),
    ("/worklist/call-next", "POST", "/worklist/call-next"),
    ("/appointments/walk-in", "POST", "/appointments/walk-in"),
    ("/queue", "GET", "/queue"),
    ("/queue/board", "GET", "/queue/board"),
    ("/api/v1/walk-ins", "POST", "/api/v1/walk-ins"),
    ("/api/v1/queue", "GET", "/api/v1/queue"),
    ("/api/v1/queue/call-next", "POST", "/api/v1/queue/call-next"),
    ("/api/v1/jobs", "GET", "/api/v1/jobs"),
    ("/api/v1/jobs/{id}/{action}", "POST", "/api/v1/jobs/0190a0b0-0000-7000-8000-000000000000/retry"),
    ("/api/v1/notifications", "GET", "/api/v1/notifications?patient_id=0190a0b0-0000-7000-8000-000000000000"),
    ("/api/v1/notification-templates", "GET", "/api/v1/notification-templates"),
    ("/api/v1/notification-templates/preview", "POST", "/api/v1/notification-templates/preview"),
    (
        "/api/v1/notification-templates/{kind}/{channel}/{language}",
        "PUT",
        "/api/v1/notification-templates/appointment_booked/sms/en",
    ),
    ("/admin/operations", "GET", "/admin/operations"),
    ("/admin/jobs/{id}/{action}", "POST", "/admin/jobs/0190a0b0-0000-7000-8000-000000000000/retry"),
    ("/admin/templates", "GET", "/admin/templates"),
    ("/admin/schedules", "GET", "/admin/schedules"),
    ("/admin/schedules/sessions", "POST", "/admin/schedules/sessions"),
    (
        "/admin/schedules/sessions/{id}/retire",
        "POST",
        "/admin/schedules/sessions/0190a0b0-0000-7000-8000-000000000000/retire",
    ),
    ("/admin/schedules/exceptions", "POST", "/admin/schedules/exceptions"),
    (
        "/admin/schedules/exceptions/{id}/remove",
        "POST",
        "/admin/schedules/exceptions/0190a0b0-0000-7000-8000-000000000000/remove",
    ),
    ("/api/v1/encounters", "POST", "/api/v1/encounters"),
    ("/api/v1/encounters/{id}", "GET", "/api/v1/encounters/0190a0b0-0000-7000-8000-000000000000"),
    (
        "/api/v1/encounters/{id}/{action}",
        "POST",
        "/api/v1/encounters/0190a0b0-0000-7000-8000-000000000000/finish",
    ),
    (
        "/api/v1/encounters/{id}/vitals",
        "POST",
        "/api/v1/encounters/0190a0b0-0000-7000-8000-000000000000/vitals",
    ),
    (
        "/api/v1/encounters/{id}/notes",
        "POST",
        "/api/v1/encounters/0190a0b0-0000-7000-8000-000000000000/notes",
    ),
    ("/api/v1/notes/{id}", "PUT", "/api/v1/notes/0190a0b0-0000-7000-8000-000000000000"),
    ("/api/v1/notes/{id}/{action}", "POST", "/api/v1/notes/0190a0b0-0000-7000-8000-000000000000/sign"),
    ("/api/v1/notes/{id}/history", "GET", "/api/v1/notes/0190a0b0-0000-7000-8000-000000000000/history"),
    (
        "/api/v1/patients/{id}/encounters",
        "GET",
        "/api/v1/patients/0190a0b0-0000-7000-8000-000000000000/encounters",
    ),
    ("/api/v1/patients/{id}/vitals", "GET", "/api/v1/patients/0190a0b0-0000-7000-8000-000000000000/vitals"),
    (
        "/api/v1/patients/{id}/diagnoses",
        "GET",
        "/api/v1/patients/0190a0b0-0000-7000-8000-000000000000/diagnoses",
    ),
    (
        "/api/v1/diagnoses/{id}/{action}",
        "POST",
        "/api/v1/diagnoses/0190a0b0-0000-7000-8000-000000000000/resolve",
    ),
    (
        "/api/v1/patients/{id}/allergies",
        "GET",
        "/api/v1/patients/0190a0b0-0000-7000-8000-000000000000/allergies",
    ),
    (
        "/api/v1/allergies/{id}/status",
        "POST",
        "/api/v1/allergies/0190a0b0-0000-7000-8000-000000000000/status",
    ),
    (
        "/api/v1/patients/{id}/immunizations",
        "GET",
        "/api/v1/patients/0190a0b0-0000-7000-8000-000000000000/immunizations",
    ),
    (
        "/api/v1/records/{kind}/{id}/entered-in-error",
        "POST",
        "/api/v1/records/vitals/0190a0b0-0000-7000-8000-000000000000/entered-in-error",
    ),
    ("/patients/{id}/encounters", "POST", "/patients/0190a0b0-0000-7000-8000-000000000000/encounters"),
    ("/patients/{id}/diagnoses", "POST", "/patients/0190a0b0-0000-7000-8000-000000000000/diagnoses"),
    ("/patients/{id}/allergies", "POST", "/patients/0190a0b0-0000-7000-8000-000000000000/allergies"),
    ("/encounters/{id}", "GET", "/encounters/0190a0b0-0000-7000-8000-000000000000"),
    ("/encounters/{id}/{action}", "POST", "/encounters/0190a0b0-0000-7000-8000-000000000000/vitals"),
    ("/notes/{id}/{action}", "POST", "/notes/0190a0b0-0000-7000-8000-000000000000/save"),
    ("/icd10/suggest", "GET", "/icd10/suggest?code=E11"),
    ("/admin/clinical-catalog", "GET", "/admin/clinical-catalog"),
    ("/admin/clinical-catalog/{kind}", "POST", "/admin/clinical-catalog/medicines"),
    ("/patients/{id}/prescriptions", "POST", "/patients/0190a0b0-0000-7000-8000-000000000000/prescriptions"),
    ("/patients/{id}/referrals", "POST", "/patients/0190a0b0-0000-7000-8000-000000000000/referrals"),
    ("/patients/{id}/attachments", "POST", "/patients/0190a0b0-0000-7000-8000-000000000000/attachments"),
    ("/attachments/{id}", "GET", "/attachments/0190a0b0-0000-7000-8000-000000000000"),
    ("/encounters/{id}/prescription", "GET", "/encounters/0190a0b0-0000-7000-8000-000000000000/prescription"),
    ("/api/v1/medicines", "GET", "/api/v1/medicines?q=amox"),
    ("/api/v1/note-templates", "GET", "/api/v1/note-templates"),
    (
        "/api/v1/patients/{id}/referrals",
        "GET",
        "/api/v1/patients/0190a0b0-0000-7000-8000-000000000000/referrals",
    ),
    (
        "/api/v1/referrals/{id}/{action}",
        "POST",
        "/api/v1/referrals/0190a0b0-0000-7000-8000-000000000000/accept",
    ),
    (
        "/api/v1/patients/{id}/attachments",
        "GET",
        "/api/v1/patients/0190a0b0-0000-7000-8000-000000000000/attachments",
    ),
    ("/api/v1/attachments/{id}", "GET", "/api/v1/attachments/0190a0b0-0000-7000-8000-000000000000"),
    ("/api/v1/note-templates/{id}", "PUT", "/api/v1/note-templates/0190a0b0-0000-7000-8000-000000000000"),
    ("/api/v1/medicines/{id}", "PUT", "/api/v1/medicines/0190a0b0-0000-7000-8000-000000000000"),
    (
        "/api/v1/patients/{id}/prescriptions",
        "GET",
        "/api/v1/patients/0190a0b0-0000-7000-8000-000000000000/prescriptions",
    ),
    (
        "/api/v1/prescriptions/{id}/{action}",
        "POST",
        "/api/v1/prescriptions/0190a0b0-0000-7000-8000-000000000000/complete",
    ),
    ("/admin/organisation", "GET", "/admin/organisation"),
    ("/admin/organisation/{kind}", "POST", "/admin/organisation/facilities"),
    (
        "/admin/organisation/{kind}/{id}",
        "GET",
        "/admin/organisation/facilities/0190a0b0-0000-7000-8000-000000000000",
    ),
    ("/admin/staff", "GET", "/admin/staff"),
    ("/admin/staff/{id}", "GET", "/admin/staff/0190a0b0-0000-7000-8000-000000000000"),
    ("/services", "GET", "/services"),
    ("/admin/services", "POST", "/admin/services"),
    ("/admin/services/{id}", "GET", "/admin/services/0190a0b0-0000-7000-8000-000000000000"),
    ("/logout", "POST", "/logout"),
];

#[test]
fn every_declared_route_is_exercised() {
    for r in DECLARED {
        assert!(SAMPLES.iter().any(|(p, _, _)| *p == r.path), "no sample request for {}", r.path);
    }
    for (p, _, _) in SAMPLES {
        assert!(declared(p).is_some(), "{p} is sampled but not declared");
    }
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

db_test!(every_route_against_every_role, |t| {
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
        for (pattern, method, path) in SAMPLES {
            let access = declared(pattern).unwrap();
            let req = match *method {
                "POST" => client.post(t.url(path)).header("x-csrf-token", &csrf),
                "PUT" => client.put(t.url(path)).header("x-csrf-token", &csrf),
                "DELETE" => client.delete(t.url(path)).header("x-csrf-token", &csrf),
                _ => client.get(t.url(path)),
            };
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let api = path.starts_with("/api/v1");
            let location =
                res.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
            let body = res.text().await.unwrap();
            let who = format!("{role:?} {method} {path}");
            let allowed = match access {
                Access::Public => true,
                Access::SignedIn => role.is_some(),
                Access::Permission(p) => role.is_some_and(|r| p.granted_to(r)),
            };
            if allowed {
                assert!(![401, 403].contains(&status), "{who}: allowed but got {status}");
                // (Signing out ends at the sign-in page by design.)
                if *pattern != "/logout" {
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
                if api {
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
