//! A read's audit event is durable before its response leaves, even when the server dies
//! at the worst moment: under read load (four doctors reading records over the API),
//! `kill -9` the server; after a restart, every read whose response arrived has its
//! event, on SQLite and on PostgreSQL. Each read carries its own request id, which the
//! audit event records.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use salus_db::{ConnectionTrait, Db, PoolSettings};
use sea_orm::Statement;

const PASSWORD: &str = "salus-bench-password";

fn salus(dir: &Path, database: &[String]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_salus"));
    c.current_dir(dir).env_remove("RUST_LOG");
    for (k, _) in std::env::vars() {
        if k.starts_with("SALUS_") {
            c.env_remove(k);
        }
    }
    c.args(database);
    c
}

/// `salus serve` on a free port, rate limits lifted (every read comes from one address);
/// returns the process and its address.
fn serve(dir: &Path, database: &[String]) -> (Child, String) {
    let mut child = salus(dir, database)
        .args(["serve", "--port", "0"])
        .env("SALUS_LIMITS__API_PER_ADDRESS_PER_MINUTE", "100000000")
        .env("SALUS_LIMITS__API_PER_ADDRESS_BURST", "100000000")
        .env("SALUS_LIMITS__LOGIN_PER_ADDRESS_PER_MINUTE", "100000")
        .env("SALUS_LIMITS__LOGIN_PER_ADDRESS_BURST", "100000")
        .env("SALUS_SECURITY__TWO_FACTOR_ROLES", "[]")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut told = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !told && let Some(url) = line.split("listening on ").nth(1) {
                let _ = tx.send(url.trim().to_owned());
                told = true;
            }
        }
    });
    let url = rx.recv_timeout(Duration::from_secs(120)).expect("salus serve did not start");
    (child, url)
}

async fn sign_in(base: &str, username: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    let marker = "name=\"csrf_token\" value=\"";
    let token = page[page.find(marker).unwrap() + marker.len()..].split('"').next().unwrap().to_owned();
    let res = client
        .post(format!("{base}/login"))
        .form(&[("username", username), ("password", PASSWORD), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "signing in as {username}");
    client
}

async fn crash(database: Vec<String>, open: impl AsyncFnOnce(&Path) -> Db) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let generate =
        ["generate", "--patients", "200", "--doctors", "4", "--days", "1", "--busy-encounters", "0"];
    let o = salus(d, &database).args(generate).output().unwrap();
    assert!(o.status.success(), "generate: {}", String::from_utf8_lossy(&o.stderr));

    let (mut server, base) = serve(d, &database);
    let desk = sign_in(&base, "bench.desk").await;
    let found: serde_json::Value = desk
        .get(format!("{base}/api/v1/patients"))
        .query(&[("q", "a"), ("limit", "50")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let patients: Vec<String> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["patient"]["restricted"] != serde_json::json!(true))
        .map(|h| h["patient"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(patients.len() > 5, "{found}");

    // Four doctors read records as fast as they can; each read's id is kept once its
    // answer has arrived in full.
    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for i in 1..=4 {
        let client = sign_in(&base, &format!("bench.doctor{i:03}")).await;
        let (base, patients, stop) = (base.clone(), patients.clone(), stop.clone());
        readers.push(tokio::spawn(async move {
            let mut answered = Vec::new();
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let id = format!("crash-{i}-{n}");
                let patient = &patients[n % patients.len()];
                n += 1;
                let sent = client
                    .get(format!("{base}/api/v1/patients/{patient}"))
                    .header("x-request-id", &id)
                    .send()
                    .await;
                let Ok(res) = sent else { break };
                let ok = res.status() == 200;
                if res.bytes().await.is_ok() && ok {
                    answered.push(id);
                }
            }
            answered
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill().unwrap(); // SIGKILL: no shutdown, no flush
    server.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    let mut answered = Vec::new();
    for r in readers {
        answered.extend(r.await.unwrap());
    }
    assert!(answered.len() > 100, "only {} reads were answered before the kill", answered.len());

    // The server starts again on what was left.
    let (mut again, base) = serve(d, &database);
    assert_eq!(reqwest::get(format!("{base}/health/ready")).await.unwrap().status(), 200);
    again.kill().unwrap();
    again.wait().unwrap();

    let db = open(d).await;
    let rows = db
        .reader()
        .query_all_raw(Statement::from_string(
            db.reader().get_database_backend(),
            "SELECT request_id FROM audit_events WHERE action = 'patient.read'",
        ))
        .await
        .unwrap();
    let recorded: std::collections::HashSet<String> =
        rows.iter().filter_map(|r| r.try_get::<Option<String>>("", "request_id").unwrap()).collect();
    let missing: Vec<&String> = answered.iter().filter(|id| !recorded.contains(*id)).collect();
    println!("{} reads answered before the kill, {} recorded", answered.len(), recorded.len());
    assert!(
        missing.is_empty(),
        "{} answered reads have no audit event: {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answered_read_survives_a_kill_on_sqlite() {
    crash(Vec::new(), async |d: &Path| {
        Db::open_sqlite_file(&d.join("salus-data").join("salus.db"), &PoolSettings::default()).await.unwrap()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answered_read_survives_a_kill_on_postgres() {
    let Some(db_url) = common::fresh_postgres("salus_t_crash") else { return };
    crash(vec!["--database-url".into(), db_url.clone()], async move |_: &Path| {
        Db::connect(&db_url, &PoolSettings::default()).await.unwrap()
    })
    .await;
}
