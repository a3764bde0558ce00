//! The audit trail: events with their changes, the hash chain, tamper detection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::page::Page;

use salus_app::Ctx;
use salus_app::identity::NewUser;
use salus_core::Role;
use salus_db::audit as q;
use sea_orm::ConnectionTrait;

async fn events(t: &common::TestApp, prefix: &str) -> Vec<salus_db::entity::audit_event::Model> {
    q::actions_of(t.app.db.reader(), prefix).await.unwrap()
}

fn sql(t: &common::TestApp, sqlite: &str, postgres: &str) -> String {
    match t.app.db.backend() {
        salus_db::Backend::Sqlite => sqlite.to_owned(),
        salus_db::Backend::Postgres => postgres.to_owned(),
    }
}

/// Switches off the append-only trigger for `op` ("update" or "delete"), as someone with
/// the database in hand could.
async fn disable_trigger(t: &common::TestApp, op: &str) {
    let stmt = sql(
        t,
        &format!("DROP TRIGGER audit_events_no_{op}"),
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
    );
    t.app.db.writer().execute_unprepared(&stmt).await.unwrap();
}

/// `id` as an SQL literal of the backend's uuid storage.
fn id_literal(t: &common::TestApp, id: uuid::Uuid) -> String {
    sql(t, &format!("x'{}'", id.simple()), &format!("'{id}'"))
}

db_test!(changes_sign_ins_and_denials_are_events, |t| {
    let csrf = t.login_as("admin", &[Role::Admin]).await;
    let body = serde_json::json!({"username": "dr.chen", "display_name": "Dr Chen", "roles": ["doctor"]});
    let res =
        t.client.post(t.url("/api/v1/users")).header("x-csrf-token", &csrf).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    // The failed duplicate leaves no event: its transaction rolled back whole.
    let res =
        t.client.post(t.url("/api/v1/users")).header("x-csrf-token", &csrf).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 422);
    let created = events(&t, "user.create").await;
    let by_admin: Vec<_> = created.iter().filter(|e| e.actor_name == "admin").collect();
    assert_eq!(by_admin.len(), 1, "one event for the one user created");
    let e = by_admin[0];
    assert_eq!(e.actor_roles, "admin");
    assert_eq!(e.client_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(e.request_id.as_deref(), Some(request_id.as_str()), "linked to the request's log lines");
    assert!(e.detail.as_deref().unwrap().contains("dr.chen"));

    // A wrong password, and a name that does not exist: both recorded, neither revealed.
    let other = t.new_client();
    for name in ["dr.chen", "no.such.user"] {
        let page = other.get(t.url("/login")).send().await.unwrap().text().await.unwrap();
        let form =
            [("username", name), ("password", "wrong-password-123"), ("csrf_token", &common::csrf_in(&page))];
        assert_eq!(other.post(t.url("/login")).form(&form).send().await.unwrap().status(), 401);
    }
    let failed = events(&t, "session.login_failed").await;
    assert_eq!(failed.len(), 2);
    assert!(
        failed
            .iter()
            .all(|e| e.outcome == salus_core::audit::Outcome::Failure && e.actor_name == "anonymous")
    );
    assert!(
        failed[0].resource_id.is_some() && failed[1].resource_id.is_none(),
        "linked to the account when there is one"
    );
    assert_eq!(events(&t, "session.login").await.iter().filter(|e| e.action == "session.login").count(), 1);

    // A nurse asking for the user list: 403 and a denial event.
    t.login_with(&other, "nurse.x", &t.user("nurse.x", &[Role::Nurse]).await).await;
    assert_eq!(other.get(t.url("/api/v1/users")).send().await.unwrap().status(), 403);
    let denied = events(&t, "access.denied").await;
    assert_eq!(denied.len(), 1);
    assert_eq!((denied[0].actor_name.as_str(), denied[0].outcome.as_str()), ("nurse.x", "denied"));
    assert_eq!(denied[0].resource_id.as_deref(), Some("users.manage"));
});

db_test!(the_chain_verifies_and_names_a_changed_row, |t| {
    for i in 0..30 {
        t.user(&format!("user.{i:02}"), &[Role::Nurse]).await;
    }
    assert_eq!(t.app.audit().seal_all_audit().await.unwrap(), 30);
    let report = t.app.audit().verify_audit().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!((report.verified, report.unsealed), (30, 0));

    // Someone with the database in hand turns the trigger off and edits event 17.
    let target = q::seals_after(t.app.db.reader(), 16, 1).await.unwrap().remove(0);
    disable_trigger(&t, "update").await;
    let id = id_literal(&t, target.event_id);
    t.app
        .db
        .writer()
        .execute_unprepared(&format!("UPDATE audit_events SET actor_name = 'someone else' WHERE id = {id}"))
        .await
        .unwrap();
    let report = t.app.audit().verify_audit().await.unwrap();
    assert_eq!(report.verified, 16, "the links before it still verify");
    let problem = report.first_problem.unwrap();
    assert!(
        problem.contains("chain position 17") && problem.contains(&target.event_id.to_string()),
        "{problem}"
    );
    assert!(problem.contains("changed"), "{problem}");
});

db_test!(a_deleted_event_and_a_smuggled_one_are_found, |t| {
    for i in 0..5 {
        t.user(&format!("user.{i}"), &[Role::Nurse]).await;
    }
    t.app.audit().seal_all_audit().await.unwrap();
    let db = t.app.db.writer();
    // An event inserted behind the program's back is outside the chain.
    let copy = sql(
        &t,
        "INSERT INTO audit_events SELECT randomblob(16), at, actor_id, actor_name, actor_roles, action, outcome, resource_type, resource_id, patient_id, client_ip, request_id, reason, detail FROM audit_events LIMIT 1",
        "INSERT INTO audit_events SELECT gen_random_uuid(), at, actor_id, actor_name, actor_roles, action, outcome, resource_type, resource_id, patient_id, client_ip, request_id, reason, detail FROM audit_events LIMIT 1",
    );
    db.execute_unprepared(&copy).await.unwrap();
    let report = t.app.audit().verify_audit().await.unwrap();
    assert_eq!(report.outside_chain, 1);
    assert!(!report.is_intact());
    // A deleted event is named by its position.
    let third = q::seals_after(t.app.db.reader(), 2, 1).await.unwrap().remove(0);
    disable_trigger(&t, "delete").await;
    let id = id_literal(&t, third.event_id);
    db.execute_unprepared(&format!("DELETE FROM audit_events WHERE id = {id}")).await.unwrap();
    let problem = t.app.audit().verify_audit().await.unwrap().first_problem.unwrap();
    assert!(problem.contains("chain position 3") && problem.contains("missing"), "{problem}");
});

db_test!(events_and_seals_refuse_update_and_delete, |t| {
    t.user("someone", &[Role::Nurse]).await;
    t.app.audit().seal_all_audit().await.unwrap();
    let db = t.app.db.writer();
    for stmt in [
        "UPDATE audit_events SET actor_name = 'x'",
        "DELETE FROM audit_events",
        "UPDATE audit_seals SET hash = 'x'",
        "DELETE FROM audit_seals",
    ] {
        let err = db.execute_unprepared(stmt).await.expect_err(stmt);
        assert!(err.to_string().contains("append-only"), "{stmt}: {err}");
    }
    assert!(t.app.audit().verify_audit().await.unwrap().is_intact());
});

db_test!(concurrent_writers_and_sealers_keep_one_chain, |t| {
    let mut tasks = Vec::new();
    for i in 0..40 {
        let app = t.app.clone();
        tasks.push(tokio::spawn(async move {
            let new = NewUser {
                username: format!("writer.{i:02}"),
                display_name: format!("Writer {i}"),
                password: Some("a long enough password".into()),
                roles: vec![Role::Nurse],
            };
            app.identity().create_user(&Ctx::operator(), new).await.unwrap();
        }));
    }
    for _ in 0..4 {
        let app = t.app.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..20 {
                app.audit().seal_audit(7).await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    t.app.audit().seal_all_audit().await.unwrap();
    let report = t.app.audit().verify_audit().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.verified, 40, "every event sealed exactly once");
    assert_eq!(q::count_events(t.app.db.reader()).await.unwrap(), 40);
});

fn rows(html: &str) -> usize {
    html.matches("<tr>").count() - 1
}

db_test!(the_audit_viewer_filters_and_pages, |t| {
    for i in 0..55 {
        t.user(&format!("made.{i:02}"), &[Role::Nurse]).await;
    }
    t.login_as("admin", &[Role::Admin]).await;
    let get = |q: &str| t.client.get(t.url(&format!("/admin/audit{q}"))).send();
    // Newest first, 50 a page, then the rest via the cursor, nothing twice.
    let first = get("").await.unwrap().text().await.unwrap();
    assert_eq!(rows(&first), 50);
    assert!(first.find("session.login").unwrap() < first.find("user.create").unwrap(), "newest first");
    let older =
        first.split("href=\"/admin/audit?").nth(1).expect("an Older events link").split('"').next().unwrap();
    let older = older.replace("&#38;", "&").replace("&amp;", "&");
    let second = get(&format!("?{older}")).await.unwrap().text().await.unwrap();
    assert_eq!(rows(&second), 57 - 50, "55 + the admin's creation + the admin's sign-in");
    assert!(!second.contains("Older events"));
    // Filters: by user, by action, by day.
    let by_admin = get("?user=admin").await.unwrap().text().await.unwrap();
    assert_eq!(rows(&by_admin), 1, "only the admin's sign-in");
    let logins = get("?action=session.login").await.unwrap().text().await.unwrap();
    assert_eq!(rows(&logins), 1);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let dated =
        get(&format!("?action=user.create&from={today}&to={today}")).await.unwrap().text().await.unwrap();
    assert_eq!(rows(&dated), 50, "a full page of today's creations");
    let none = get("?from=2000-01-01&to=2000-01-02").await.unwrap().text().await.unwrap();
    assert!(none.contains("No events match."));
    let nobody = get("?user=no.such.user").await.unwrap().text().await.unwrap();
    assert!(nobody.contains("No events match."));
    // Bad input: a message beside the field, and nothing listed.
    for (q, field) in
        [("?from=yesterday", "from-error"), ("?patient=42", "patient-error"), ("?user=a", "user-error")]
    {
        let res = get(q).await.unwrap();
        assert_eq!(res.status(), 422, "{q}");
        let html = res.text().await.unwrap();
        assert!(Page::parse(&html).has(&format!("[id=\"{field}\"]")), "{q}");
        assert!(html.contains("No events match."), "{q}");
    }
});
