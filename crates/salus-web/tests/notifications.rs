//! The outbox, the job queue and a real SMTP exchange: a booking writes its messages in
//! its own transaction; workers send them (email to a local SMTP server this test runs,
//! SMS to the log file); a server that refuses or is down leaves the message pending with
//! the reason, retried with backoff until the job is dead, and an administrator's retry
//! delivers it. On SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::TestApp;
use common::smtp::{settings, smtp_server};
use common::ward::{Who, send, who};
use salus_app::Ctx;
use salus_app::notifications::{NotificationSettings, SmsSettings};
use salus_core::Role;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// A doctor with a session a week ahead, reception, an administrator, and a patient who
/// consents to email and SMS and prefers Tamil.
async fn setup(t: &TestApp) -> (Who, Who, String, String, String) {
    let admin = who(t, "nt.admin", &[Role::Admin]).await;
    let desk = who(t, "nt.desk", &[Role::Receptionist]).await;
    t.user("nt.doc", &[Role::Doctor]).await;
    let doctor =
        t.app.identity().find_user_by_username(&Ctx::operator(), "nt.doc").await.unwrap().id.to_string();
    let (_, f) = send(
        t,
        &admin,
        "POST",
        "/api/v1/facilities",
        Some(json!({"code": "MAIN", "name": "Salus Demo Hospital"})),
        None,
    )
    .await;
    let (_, d) = send(
        t,
        &admin,
        "POST",
        "/api/v1/departments",
        Some(json!({"facility_id": f["id"], "code": "OPD", "name": "OPD"})),
        None,
    )
    .await;
    let today = salus_app::scheduling::local_now(t.app.time_zone).0;
    let day = today + chrono::Duration::days(7);
    use chrono::Datelike;
    let template = json!({"doctor_id": doctor, "department_id": d["id"], "weekday": day.weekday().number_from_monday(),
        "start": "09:00", "end": "12:00", "slot_minutes": 15, "valid_from": today.to_string()});
    assert_eq!(send(t, &admin, "POST", "/api/v1/schedules", Some(template), None).await.0, 201);
    let (status, p) = send(
        t,
        &desk,
        "POST",
        "/api/v1/patients",
        Some(json!({"given_names": "Kavya", "family_name": "Raman",
        "sex": "female", "birth_date": "1988-08-08", "email": "kavya@example.test", "phone": "98400 11111",
        "consent_email": true, "consent_sms": true, "preferred_language": "Tamil", "not_a_duplicate": true})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{p}");
    (admin, desk, doctor, p["id"].as_str().unwrap().to_owned(), day.to_string())
}

async fn outbox(t: &TestApp, w: &Who, patient: &str) -> Vec<Value> {
    let (status, body) =
        send(t, w, "GET", &format!("/api/v1/notifications?patient_id={patient}"), None, None).await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().unwrap().clone()
}

db_test!(a_booking_sends_email_and_sms_and_schedules_reminders, |t| {
    let (_admin, desk, doctor, patient, day) = setup(&t).await;
    let server = smtp_server(false).await;
    let dir = tempfile::tempdir().unwrap();
    let sms_log = dir.path().join("sms.log");
    let worker = t.app.clone().with_notifications(settings(server.port, &sms_log));

    let booking = json!({"patient_id": patient, "doctor_id": doctor, "date": day, "time": "10:00"});
    let (status, a) = send(&t, &desk, "POST", "/api/v1/appointments", Some(booking), None).await;
    assert_eq!(status, 201, "{a}");
    // In the same transaction: the confirmation by both channels, and two reminders each.
    let messages = outbox(&t, &desk, &patient).await;
    assert_eq!(messages.len(), 6, "{messages:?}");
    assert!(messages.iter().all(|m| m["status"] == "pending"));

    let pass = worker.jobs().run_due_jobs("test", 50).await.unwrap();
    assert_eq!((pass.claimed, pass.done), (2, 2), "only the confirmations are due");
    let mail = server.messages.lock().unwrap().clone();
    assert_eq!(mail.len(), 1);
    assert!(
        mail[0].contains("To: kavya@example.test") && mail[0].contains("Subject: Your appointment on"),
        "{}",
        mail[0]
    );
    let sms = std::fs::read_to_string(&sms_log).unwrap();
    assert!(sms.contains("+919840011111") && sms.contains("சந்திப்பு"), "in Tamil: {sms}");
    let messages = outbox(&t, &desk, &patient).await;
    assert_eq!(messages.iter().filter(|m| m["status"] == "sent").count(), 2);
    assert_eq!(
        messages.iter().filter(|m| m["kind"] == "appointment_reminder" && m["status"] == "pending").count(),
        4
    );
    // Running again sends nothing twice.
    assert_eq!(worker.jobs().run_due_jobs("test", 50).await.unwrap().claimed, 0);

    // A cancellation cancels the reminders and tells the patient.
    let id = a["id"].as_str().unwrap();
    let (status, _) = send(
        &t,
        &desk,
        "POST",
        &format!("/api/v1/appointments/{id}/status"),
        Some(json!({"transition": "cancel", "reason": "Doctor on leave"})),
        Some(1),
    )
    .await;
    assert_eq!(status, 200);
    let messages = outbox(&t, &desk, &patient).await;
    assert_eq!(messages.iter().filter(|m| m["status"] == "cancelled").count(), 4);
    assert_eq!(worker.jobs().run_due_jobs("test", 50).await.unwrap().done, 2);
    assert!(server.messages.lock().unwrap()[1].contains("is cancelled"));
});

db_test!(a_refusing_or_absent_mail_server_is_retried_until_an_administrator_steps_in, |t| {
    let (admin, desk, doctor, patient, day) = setup(&t).await;
    let refusing = smtp_server(true).await;
    let dir = tempfile::tempdir().unwrap();
    let sms_log = dir.path().join("sms.log");
    let worker = t.app.clone().with_notifications(settings(refusing.port, &sms_log));
    let booking = json!({"patient_id": patient, "doctor_id": doctor, "date": day, "time": "11:00"});
    assert_eq!(send(&t, &desk, "POST", "/api/v1/appointments", Some(booking), None).await.0, 201);

    let pass = worker.jobs().run_due_jobs("test", 50).await.unwrap();
    assert_eq!((pass.done, pass.retried), (1, 1), "the SMS goes, the email waits");
    let email = outbox(&t, &desk, &patient)
        .await
        .into_iter()
        .find(|m| m["kind"] == "appointment_booked" && m["channel"] == "email")
        .unwrap();
    assert_eq!(email["status"], "pending");
    assert!(email["last_error"].as_str().unwrap().contains("refused"), "{email}");
    assert_eq!(email["attempts"], 1);

    // Nothing due until the backoff passes; an administrator can bring it forward. Against
    // a server that is down, each attempt fails the same way until the job is dead.
    assert_eq!(worker.jobs().run_due_jobs("test", 50).await.unwrap().claimed, 0);
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let down_port = closed.local_addr().unwrap().port();
    drop(closed);
    let down = t.app.clone().with_notifications(settings(down_port, &sms_log));
    let mut dead = 0;
    for _ in 0..salus_app::jobs::MAX_ATTEMPTS {
        let (_, queued) = send(&t, &admin, "GET", "/api/v1/jobs?status=queued", None, None).await;
        for j in queued["items"].as_array().unwrap().iter().filter(|j| j["kind"] == "notification.send") {
            let (status, _) = send(
                &t,
                &admin,
                "POST",
                &format!("/api/v1/jobs/{}/run-now", j["id"].as_str().unwrap()),
                None,
                None,
            )
            .await;
            assert_eq!(status, 204);
        }
        dead += down.jobs().run_due_jobs("test", 50).await.unwrap().dead;
    }
    // The confirmation and the two reminders by email: each dead after its last attempt.
    assert_eq!(dead, 3);
    let (_, dead_jobs) = send(&t, &admin, "GET", "/api/v1/jobs?status=dead", None, None).await;
    let job = dead_jobs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["kind"] == "notification.send")
        .unwrap()
        .clone();
    assert!(job["last_error"].as_str().unwrap().contains("refused"), "{job}");
    let email = outbox(&t, &desk, &patient)
        .await
        .into_iter()
        .find(|m| m["kind"] == "appointment_booked" && m["channel"] == "email")
        .unwrap();
    assert_eq!(email["status"], "failed", "the status says why: {email}");

    // Bad requests change nothing: a retry of a queued job, an unknown action, a clerk.
    let job_id = job["id"].as_str().unwrap();
    assert_eq!(send(&t, &admin, "POST", &format!("/api/v1/jobs/{job_id}/explode"), None, None).await.0, 404);
    assert_eq!(send(&t, &desk, "POST", &format!("/api/v1/jobs/{job_id}/retry"), None, None).await.0, 403);
    assert_eq!(send(&t, &admin, "GET", "/api/v1/jobs?status=lost", None, None).await.0, 422);

    // The administrator fixes the mail server and retries: delivered, nothing lost.
    let good = smtp_server(false).await;
    let fixed = t.app.clone().with_notifications(settings(good.port, &sms_log));
    for j in dead_jobs["items"].as_array().unwrap() {
        assert_eq!(
            send(
                &t,
                &admin,
                "POST",
                &format!("/api/v1/jobs/{}/retry", j["id"].as_str().unwrap()),
                None,
                None
            )
            .await
            .0,
            204
        );
    }
    assert_eq!(
        send(&t, &admin, "POST", &format!("/api/v1/jobs/{job_id}/retry"), None, None).await.0,
        409,
        "no longer dead"
    );
    assert_eq!(fixed.jobs().run_due_jobs("test", 50).await.unwrap().done, 3);
    assert_eq!(good.messages.lock().unwrap().len(), 3);
    let email = outbox(&t, &desk, &patient)
        .await
        .into_iter()
        .find(|m| m["kind"] == "appointment_booked" && m["channel"] == "email")
        .unwrap();
    assert_eq!(email["status"], "sent");
});

db_test!(opted_out_patients_get_nothing_and_templates_are_checked, |t| {
    let (admin, desk, doctor, _patient, day) = setup(&t).await;
    let (_, quiet) = send(
        &t,
        &desk,
        "POST",
        "/api/v1/patients",
        Some(json!({"given_names": "Arjun", "family_name": "Das",
        "sex": "male", "birth_date": "1970-01-01", "email": "arjun@example.test", "phone": "98400 22222",
        "consent_email": false, "consent_sms": false, "not_a_duplicate": true})),
        None,
    )
    .await;
    let booking = json!({"patient_id": quiet["id"], "doctor_id": doctor, "date": day, "time": "09:00"});
    assert_eq!(send(&t, &desk, "POST", "/api/v1/appointments", Some(booking), None).await.0, 201);
    assert!(outbox(&t, &desk, quiet["id"].as_str().unwrap()).await.is_empty(), "opted out of both");

    // Templates: a preview renders with sample values; a broken one is refused by field.
    let (status, p) = send(
        &t,
        &admin,
        "POST",
        "/api/v1/notification-templates/preview",
        Some(json!({"subject": "", "body": "{{ doctor }} on {{ date }}"})),
        None,
    )
    .await;
    assert_eq!((status, p["body"].clone()), (200, json!("Dr Priya Rao on Mon 30 Nov 2026")));
    let path = "/api/v1/notification-templates/appointment_booked/sms/sw";
    let (status, p) = send(&t, &admin, "PUT", path, Some(json!({"body": "{{ daktari }}"})), None).await;
    assert_eq!(status, 422, "an unknown value: {p}");
    assert_eq!(p["errors"][0]["field"], "body");
    assert_eq!(
        send(
            &t,
            &admin,
            "PUT",
            "/api/v1/notification-templates/party/sms/en",
            Some(json!({"body": "x"})),
            None
        )
        .await
        .0,
        422
    );
    assert_eq!(send(&t, &desk, "PUT", path, Some(json!({"body": "x"})), None).await.0, 403);
    let (status, _) = send(
        &t,
        &admin,
        "PUT",
        path,
        Some(json!({"body": "Miadi na {{ doctor }} tarehe {{ date }} saa {{ time }}."})),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (_, all) = send(&t, &admin, "GET", "/api/v1/notification-templates", None, None).await;
    assert!(all["items"].as_array().unwrap().iter().any(|t| t["language"] == "sw"));
});

db_test!(sms_through_an_http_provider_with_a_retry_when_it_fails, |t| {
    use axum::extract::State as AxState;
    use axum::http::{HeaderMap, StatusCode};
    // A provider that answers 503 to its first request and takes the rest.
    #[derive(Clone, Default)]
    struct Provider {
        calls: Arc<Mutex<Vec<(String, String)>>>,
    }
    async fn receive(AxState(p): AxState<Provider>, headers: HeaderMap, body: String) -> StatusCode {
        let mut calls = p.calls.lock().unwrap();
        let key = headers.get("x-api-key").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        calls.push((key, body));
        if calls.len() == 1 { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::ACCEPTED }
    }
    let provider = Provider::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = axum::Router::new().route("/sms", axum::routing::post(receive)).with_state(provider.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let (admin, desk, doctor, patient, day) = setup(&t).await;
    let sms = SmsSettings::Http {
        url: format!("http://127.0.0.1:{port}/sms"),
        body: r#"{"to": {{ to|tojson }}, "text": {{ text|tojson }}}"#.into(),
        content_type: "application/json".into(),
        header: Some(("x-api-key".into(), "secret-key".into())),
        timeout: Duration::from_secs(5),
    };
    let worker = t.app.clone().with_notifications(NotificationSettings { email: None, sms });
    let booking = json!({"patient_id": patient, "doctor_id": doctor, "date": day, "time": "09:15"});
    assert_eq!(send(&t, &desk, "POST", "/api/v1/appointments", Some(booking), None).await.0, 201);
    // First pass: the provider fails (and email is not configured): both wait, with reasons.
    let pass = worker.jobs().run_due_jobs("test", 50).await.unwrap();
    assert_eq!(pass.retried, 2);
    let sms_row = outbox(&t, &desk, &patient)
        .await
        .into_iter()
        .find(|m| m["kind"] == "appointment_booked" && m["channel"] == "sms")
        .unwrap();
    assert!(sms_row["last_error"].as_str().unwrap().contains("503"), "{sms_row}");
    let email_row = outbox(&t, &desk, &patient)
        .await
        .into_iter()
        .find(|m| m["kind"] == "appointment_booked" && m["channel"] == "email")
        .unwrap();
    assert!(email_row["last_error"].as_str().unwrap().contains("not configured"), "{email_row}");
    // Brought forward, the SMS goes through with the provider's key and a JSON body.
    let (_, queued) = send(&t, &admin, "GET", "/api/v1/jobs?status=queued", None, None).await;
    for j in queued["items"].as_array().unwrap() {
        if j["last_error"].as_str().is_some_and(|e| e.contains("503")) {
            assert_eq!(
                send(
                    &t,
                    &admin,
                    "POST",
                    &format!("/api/v1/jobs/{}/run-now", j["id"].as_str().unwrap()),
                    None,
                    None
                )
                .await
                .0,
                204
            );
        }
    }
    assert_eq!(worker.jobs().run_due_jobs("test", 50).await.unwrap().done, 1);
    let calls = provider.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].0, "secret-key");
    let body: Value = serde_json::from_str(&calls[1].1).unwrap();
    assert_eq!(body["to"], "+919840011111");
    assert!(body["text"].as_str().unwrap().contains("09:15"), "{body}");
});

db_test!(nothing_about_a_cancelled_appointment_goes_out_later, |t| {
    let (admin, desk, doctor, patient, day) = setup(&t).await;
    let dir = tempfile::tempdir().unwrap();
    let sms_log = dir.path().join("sms.log");
    // Email not configured yet: the confirmation waits, with the reason.
    let unconfigured = t.app.clone().with_notifications(NotificationSettings {
        email: None,
        sms: SmsSettings::Log { path: sms_log.clone() },
    });
    let booking = json!({"patient_id": patient, "doctor_id": doctor, "date": day, "time": "09:45"});
    let (_, a) = send(&t, &desk, "POST", "/api/v1/appointments", Some(booking), None).await;
    assert_eq!(unconfigured.jobs().run_due_jobs("test", 50).await.unwrap().retried, 1);
    // Cancelled before email works: the waiting confirmation is cancelled with the reminders.
    let id = a["id"].as_str().unwrap();
    let (status, _) = send(
        &t,
        &desk,
        "POST",
        &format!("/api/v1/appointments/{id}/status"),
        Some(json!({"transition": "cancel", "reason": "Feeling better"})),
        Some(1),
    )
    .await;
    assert_eq!(status, 200);
    let messages = outbox(&t, &desk, &patient).await;
    let booked_email =
        messages.iter().find(|m| m["kind"] == "appointment_booked" && m["channel"] == "email").unwrap();
    assert_eq!(booked_email["status"], "cancelled");
    // Email now works, and an administrator brings every waiting job forward: only the
    // cancellation goes out.
    let server = smtp_server(false).await;
    let configured = t.app.clone().with_notifications(settings(server.port, &sms_log));
    let (_, queued) = send(&t, &admin, "GET", "/api/v1/jobs?status=queued", None, None).await;
    for j in queued["items"].as_array().unwrap() {
        send(&t, &admin, "POST", &format!("/api/v1/jobs/{}/run-now", j["id"].as_str().unwrap()), None, None)
            .await;
    }
    configured.jobs().run_due_jobs("test", 50).await.unwrap();
    let mail = server.messages.lock().unwrap().clone();
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mail[0].contains("is cancelled"));
});
