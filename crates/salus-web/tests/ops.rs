//! Operations: health, metrics, headers, assets, migrations, write concurrency, shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Backend, TestApp};
use salus_db::{Db, MigrationState, PoolSettings};
use salus_web::WebSettings;
use sea_orm::ConnectionTrait;

/// Always runs, and (by `.config/nextest.toml`) always shows its output, so a run without
/// PostgreSQL says so plainly.
#[test]
fn postgres_availability() {
    match common::postgres_url() {
        Some(_) => println!("PostgreSQL tests: running (SALUS_TEST_POSTGRES_URL is set)"),
        None => println!("PostgreSQL tests: SKIPPED — set SALUS_TEST_POSTGRES_URL to run them"),
    }
}

db_test!(migrations_run_from_empty_and_once, |t| {
    assert_eq!(t.app.db.migration_state().await.unwrap(), MigrationState::Current);
    assert_eq!(t.app.db.migrate().await.unwrap(), Vec::<String>::new(), "a second run applies nothing");
    assert_eq!(salus_db::identity::count_users(t.app.db.reader()).await.unwrap(), 0);
});

db_test!(a_database_from_a_newer_binary_is_refused, |t| {
    t.app
        .db
        .writer()
        .execute_unprepared(
            "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m29991231_000001_future', 0)",
        )
        .await
        .unwrap();
    let err = t.app.db.migrate().await.unwrap_err();
    assert!(err.to_string().contains("newer version of Salus"), "{err}");
    assert!(err.to_string().contains("m29991231_000001_future"));
    let res = t.client.get(t.url("/health/ready")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["checks"]["schema"].as_str().unwrap().contains("newer"));
});

db_test!(health_endpoints_when_all_is_well, |t| {
    let res = t.client.get(t.url("/health/live")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = t.client.get(t.url("/health/ready")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/health+json");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "pass");
});

async fn unreachable_db(backend: Backend) -> Option<(Db, Option<tempfile::TempDir>)> {
    let lazy = PoolSettings { lazy: true, acquire_timeout: Duration::from_millis(500), ..Default::default() };
    match backend {
        Backend::Sqlite => {
            // A database file in a folder that does not exist cannot be opened.
            let dir = tempfile::tempdir().unwrap();
            let db = Db::open_sqlite_file(&dir.path().join("gone").join("salus.db"), &lazy).await.unwrap();
            Some((db, Some(dir)))
        }
        Backend::Postgres => {
            common::postgres_url()?;
            // Nothing listens on port 1.
            Some((Db::connect("postgres://postgres@127.0.0.1:1/salus", &lazy).await.unwrap(), None))
        }
    }
}

async fn check_database_down(backend: Backend) {
    let Some((db, dir)) = unreachable_db(backend).await else { return };
    let t = TestApp::serve(db, dir, WebSettings::default()).await;
    assert_eq!(t.client.get(t.url("/health/live")).send().await.unwrap().status(), 200, "alive");
    let res = t.client.get(t.url("/health/ready")).send().await.unwrap();
    assert_eq!(res.status(), 503, "not ready");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["checks"]["database"], "unreachable");
    // A request that needs the database is told to come back (503 with Retry-After,
    // never 500), without the cause, with the request id to quote.
    let res = t.client.get(t.url("/api/v1/me")).header("cookie", "salus_session=abc").send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "5");
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body = res.text().await.unwrap();
    assert!(!body.contains("127.0.0.1") && !body.contains("gone"), "{body}");
    let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["type"], "urn:salus:problem:unavailable");
    assert_eq!(problem["request_id"], id.as_str());
    // The same for a page, as a page.
    let res = t.client.get(t.url("/")).header("cookie", "salus_session=abc").send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "5");
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let page = scraper::Html::parse_document(&res.text().await.unwrap());
    let quoted = scraper::Selector::parse("code.request-id").unwrap();
    assert_eq!(page.select(&quoted).map(|e| e.text().collect::<String>()).collect::<Vec<_>>(), [id]);
}

#[tokio::test]
async fn health_when_the_database_is_down_sqlite() {
    check_database_down(Backend::Sqlite).await;
}

#[tokio::test]
async fn health_when_the_database_is_down_postgres() {
    check_database_down(Backend::Postgres).await;
}

db_test!(security_headers_on_pages_api_and_assets, |t| {
    for path in ["/login", "/api/v1/me", "/assets/app.css", "/health/live", "/no-such-page"] {
        let res = t.client.get(t.url(path)).send().await.unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert!(h.contains_key("x-request-id"), "{path}");
        assert!(!h.contains_key("strict-transport-security"), "no HSTS without TLS");
    }
    let res = t.client.get(t.url("/login")).send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    assert!(!html.contains("<script>") && !html.contains("style="), "no inline script or style");
});

db_test!(assets_are_embedded_with_etags, |t| {
    for path in
        ["/assets/vendor/htmx.min.js", "/assets/vendor/pico.min.css", "/assets/app.css", "/assets/print.css"]
    {
        let res = t.client.get(t.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let etag = res.headers()["etag"].to_str().unwrap().to_owned();
        assert!(res.headers()["cache-control"].to_str().unwrap().contains("max-age"));
        let again = t.client.get(t.url(path)).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(again.status(), 304, "{path}");
        assert!(again.bytes().await.unwrap().is_empty());
    }
    assert_eq!(t.client.get(t.url("/assets/nope.js")).send().await.unwrap().status(), 404);
    let js = t.client.get(t.url("/assets/vendor/htmx.min.js")).send().await.unwrap();
    assert!(js.headers()["content-type"].to_str().unwrap().contains("javascript"));
});

db_test!(metrics_count_requests_by_route, |t| {
    for _ in 0..3 {
        t.client.get(t.url("/health/live")).send().await.unwrap();
    }
    let text = t.client.get(t.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        text.contains("http_requests_total{method=\"GET\",route=\"/health/live\",status=\"200\"}"),
        "{text}"
    );
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains("db_pool_max_connections"));
    assert!(text.contains("db_statements_total"), "{text}");
});

db_test!(concurrent_writes_never_fail, |t| {
    // Transactions that read and then write, many at once: on SQLite the pattern that
    // fails with "database is locked" under deferred transactions.
    let op = salus_app::Ctx::operator();
    t.user("admin", &[salus_core::Role::Admin]).await;
    t.user("target", &[salus_core::Role::Nurse]).await;
    let target = t.app.identity().find_user_by_username(&op, "target").await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..60 {
        let app = t.app.clone();
        tasks.push(tokio::spawn(async move {
            app.identity().set_user_active(&salus_app::Ctx::operator(), target.id, i % 2 == 0).await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let after = t.app.identity().find_user_by_username(&op, "target").await.unwrap();
    assert!(after.roles == vec![salus_core::Role::Nurse]);
});

db_test!(the_background_checkpoint_copies_the_log_into_the_database, |t| {
    // Writes leave frames in SQLite's write-ahead log (commits no longer copy them back
    // themselves below a large threshold); the server's checkpoint copies them.
    t.user("someone", &[salus_core::Role::Nurse]).await;
    match (t.app.db.backend(), t.app.db.checkpoint().await.unwrap()) {
        (salus_db::Backend::Postgres, result) => assert_eq!(result, None, "PostgreSQL checkpoints by itself"),
        (_, Some((log, copied))) => {
            assert!(log > 0, "the writes are in the log");
            assert_eq!(copied, log, "nobody else was reading: all of it was copied");
        }
        (_, None) => panic!("SQLite must checkpoint"),
    }
});

#[tokio::test]
async fn graceful_shutdown_lets_a_slow_request_finish() {
    use axum::routing::get;
    let router = axum::Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(700)).await;
            "done"
        }),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(salus_web::server::serve(
        listener,
        router,
        None,
        async move {
            let _ = rx.await;
        },
        Duration::from_secs(5),
    ));
    let request = tokio::spawn(async move { reqwest::get(format!("http://{addr}/slow")).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    tx.send(()).unwrap();
    let res = request.await.unwrap().unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "done");
    tokio::time::timeout(Duration::from_secs(5), server).await.expect("server stops").unwrap().unwrap();
    // And it no longer accepts connections.
    assert!(reqwest::get(format!("http://{addr}/slow")).await.is_err());
}
