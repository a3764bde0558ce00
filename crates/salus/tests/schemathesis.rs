//! The API document tells the truth: schemathesis (PyPI), with all its checks, against
//! `salus demo` signed in as the administrator — every operation, generated valid and
//! invalid requests, each answer checked against `/api/openapi.json` (status declared,
//! body matching its schema, no server error, a schema-valid request accepted unless
//! `schemathesis.toml` states the rule that refuses it). On SQLite and on PostgreSQL.
//! `.ci/run` installs schemathesis; elsewhere a missing one (or a missing PostgreSQL) is
//! reported and the test passes, except in CI, where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

fn skip(what: &str) {
    assert!(!in_ci(), "CI must run schemathesis: {what}");
    println!("schemathesis: SKIPPED — {what}");
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The demo, started on a free port; killed when dropped.
struct Demo {
    child: Child,
    address: String,
    admin_password: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_demo(database: &[&str]) -> Demo {
    let mut child = Command::new(env!("CARGO_BIN_EXE_salus"))
        .args(["demo", "--port", "0"])
        .args(database)
        // Thousands of requests in a minute from one address: lift the API's rate limit.
        .env("SALUS_LIMITS__API_PER_ADDRESS_BURST", "1000000")
        .env("SALUS_LIMITS__API_PER_ADDRESS_PER_MINUTE", "100000000")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut password = None;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let ["admin", _, p] = words.as_slice() {
                password = Some((*p).to_owned());
            }
            if let Some(at) = line.split("running at ").nth(1) {
                let address = at.split_whitespace().next().unwrap_or_default().to_owned();
                let _ = tx.send((address, password.take()));
            }
        }
    });
    let (address, password) = rx.recv_timeout(Duration::from_secs(120)).expect("salus demo started");
    Demo { child, address, admin_password: password.expect("the demo printed the admin's password") }
}

fn run_against(demo: &Demo) {
    let out = Command::new("python3")
        .arg(root().join("scripts/schemathesis_run.py"))
        .args([&demo.address, "admin", &demo.admin_password])
        .current_dir(root())
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "schemathesis found what the document does not say:\n{text}");
    let summary: Vec<&str> = text.lines().rev().take(12).collect();
    println!("{}", summary.into_iter().rev().collect::<Vec<_>>().join("\n"));
}

fn schemathesis_missing() -> bool {
    Command::new("schemathesis").arg("--version").output().map(|o| !o.status.success()).unwrap_or(true)
}

#[test]
fn the_api_document_tells_the_truth_on_sqlite() {
    if schemathesis_missing() {
        return skip("`schemathesis` is not installed (pip install schemathesis)");
    }
    let dir = tempfile::tempdir().unwrap();
    let demo = start_demo(&["--data-dir", dir.path().to_str().unwrap()]);
    run_against(&demo);
}

#[test]
fn the_api_document_tells_the_truth_on_postgres() {
    if schemathesis_missing() {
        return skip("`schemathesis` is not installed (pip install schemathesis)");
    }
    let Ok(base) = std::env::var("SALUS_TEST_POSTGRES_URL") else {
        return skip("SALUS_TEST_POSTGRES_URL is not set");
    };
    // A database of its own, made through the server's own `postgres` database.
    let name = format!("salus_t_st_{}", std::process::id());
    let psql = |sql: &str| {
        Command::new("psql")
            .args([base.as_str(), "-qAtc", sql])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    assert!(psql(&format!("DROP DATABASE IF EXISTS {name}")) && psql(&format!("CREATE DATABASE {name}")));
    let url = match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("SALUS_TEST_POSTGRES_URL has no database part: {base}"),
    };
    {
        // The data folder still holds what is not in the database (the SMS log, files).
        let dir = tempfile::tempdir().unwrap();
        let demo = start_demo(&["--database-url", &url, "--data-dir", dir.path().to_str().unwrap()]);
        run_against(&demo);
    }
    psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
}
