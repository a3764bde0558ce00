//! The administrator's operations pages: jobs and the outbox, message templates with a
//! preview, and doctors' sessions and leave — bad input beside its field, nothing written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::page::Page;

use common::TestApp;
use salus_app::Ctx;
use salus_core::Role;

async fn post(
    t: &TestApp,
    client: &reqwest::Client,
    csrf: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let mut all = vec![("csrf_token", csrf)];
    all.extend_from_slice(fields);
    let res = client.post(t.url(path)).form(&all).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

db_test!(templates_are_previewed_and_checked_before_saving, |t| {
    let csrf = t.login_as("op.admin", &[Role::Admin]).await;
    let res = t
        .client
        .get(t.url("/admin/templates?kind=appointment_booked&channel=sms&language=ta"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("சந்திப்பு"), "the Tamil template is loaded for editing");
    let base = [("kind", "appointment_reminder"), ("channel", "sms"), ("language", "sw")];
    let mut preview = base.to_vec();
    preview.extend([("body", "Kumbuka: {{ doctor }} {{ date }} {{ time }}"), ("action", "preview")]);
    let (status, html) = post(&t, &t.client, &csrf, "/admin/templates", &preview).await;
    assert_eq!(status, 200);
    assert!(html.contains("Kumbuka: Dr Priya Rao Mon 30 Nov 2026 09:30"), "{html}");
    let mut broken = base.to_vec();
    broken.extend([("body", "{{ doctor "), ("action", "save")]);
    let (status, html) = post(&t, &t.client, &csrf, "/admin/templates", &broken).await;
    assert_eq!(status, 422);
    assert!(Page::parse(&html).field_error("body").is_some(), "{html}");
    let templates = t.app.notifications().notification_templates(&Ctx::operator()).await.unwrap();
    assert!(!templates.iter().any(|x| x.language == "sw"), "nothing saved");
    let mut good = base.to_vec();
    good.extend([("body", "Kumbuka: {{ doctor }} {{ date }} {{ time }}"), ("action", "save")]);
    assert_eq!(post(&t, &t.client, &csrf, "/admin/templates", &good).await.0, 303);
    let templates = t.app.notifications().notification_templates(&Ctx::operator()).await.unwrap();
    assert!(templates.iter().any(|x| x.language == "sw" && x.kind == "appointment_reminder"));
    let html = t.client.get(t.url("/admin/operations")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Jobs: dead") && html.contains("No messages yet."), "{html}");
    assert_eq!(
        post(&t, &t.client, &csrf, "/admin/jobs/0190a0b0-0000-7000-8000-000000000000/retry", &[]).await.0,
        404
    );
});

db_test!(sessions_and_leave_from_the_schedules_page, |t| {
    let csrf = t.login_as("op.admin2", &[Role::Admin]).await;
    t.user("op.doc", &[Role::Doctor]).await;
    let op = Ctx::operator();
    let doctor = t.app.identity().find_user_by_username(&op, "op.doc").await.unwrap().id.to_string();
    let f = t
        .app
        .organisation()
        .create_facility(
            &op,
            salus_app::organisation::FacilityInput {
                code: "M".into(),
                name: "Main".into(),
                active: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let d = t
        .app
        .organisation()
        .create_department(
            &op,
            salus_app::organisation::DepartmentInput {
                facility_id: f.id,
                code: "OPD".into(),
                name: "OPD".into(),
                active: true,
            },
        )
        .await
        .unwrap();
    let dept = d.id.to_string();

    // No doctor chosen; then a session whose end is before its start.
    let (status, html) = post(
        &t,
        &t.client,
        &csrf,
        "/admin/schedules/sessions",
        &[
            ("department_id", &dept),
            ("weekday", "1"),
            ("start", "09:00"),
            ("end", "12:00"),
            ("slot_minutes", "15"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(Page::parse(&html).field_error("doctor_id").is_some(), "{html}");
    let (status, html) = post(
        &t,
        &t.client,
        &csrf,
        "/admin/schedules/sessions",
        &[
            ("doctor_id", &doctor),
            ("department_id", &dept),
            ("weekday", "1"),
            ("start", "12:00"),
            ("end", "09:00"),
            ("slot_minutes", "15"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(Page::parse(&html).field_error("end").is_some(), "{html}");
    assert!(t.app.scheduling().templates(&op, None).await.unwrap().is_empty(), "nothing written");
    let (status, _) = post(
        &t,
        &t.client,
        &csrf,
        "/admin/schedules/sessions",
        &[
            ("doctor_id", &doctor),
            ("department_id", &dept),
            ("weekday", "1"),
            ("start", "09:00"),
            ("end", "12:00"),
            ("slot_minutes", "15"),
            ("capacity", "2"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let html = t.client.get(t.url("/admin/schedules")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("09:00–12:00") && html.contains("15 min × 2"), "{html}");

    // Leave: a bad day, an extra session without hours, then a day's leave.
    let (status, html) =
        post(&t, &t.client, &csrf, "/admin/schedules/exceptions", &[("date", "soon"), ("kind", "leave")])
            .await;
    assert_eq!(status, 422);
    assert!(Page::parse(&html).field_error("date").is_some(), "{html}");
    let day = (salus_app::scheduling::local_now(t.app.time_zone).0 + chrono::Duration::days(3)).to_string();
    let (status, html) = post(
        &t,
        &t.client,
        &csrf,
        "/admin/schedules/exceptions",
        &[("date", &day), ("kind", "extra"), ("exception_doctor", &doctor)],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        Page::parse(&html).field_error("exception_start").is_some()
            && Page::parse(&html).field_error("exception_department").is_some(),
        "{html}"
    );
    let (status, _) = post(
        &t,
        &t.client,
        &csrf,
        "/admin/schedules/exceptions",
        &[("date", &day), ("kind", "leave"), ("exception_doctor", &doctor), ("reason", "Conference")],
    )
    .await;
    assert_eq!(status, 303);
    let html = t.client.get(t.url("/admin/schedules")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Conference") && html.contains("All day"), "{html}");
    let session = t.app.scheduling().templates(&op, None).await.unwrap().remove(0);
    let (status, _) = post(
        &t,
        &t.client,
        &csrf,
        &format!("/admin/schedules/sessions/{}/retire", session.id),
        &[("version", "1")],
    )
    .await;
    assert_eq!(status, 303);
    assert!(!t.app.scheduling().templates(&op, None).await.unwrap()[0].active);
});
