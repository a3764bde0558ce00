//! The API document tells the truth: schemathesis (PyPI), with all its checks, against
//! `salus demo` signed in as the administrator — every operation, generated valid and
//! invalid requests, each answer checked against `/api/openapi.json` (status declared,
//! body matching its schema, no server error, a schema-valid request accepted unless
//! `schemathesis.toml` states the rule that refuses it). On SQLite and on PostgreSQL.
//! `.ci/run` installs schemathesis; elsewhere a missing one (or a missing PostgreSQL) is
//! reported and the test passes, except in CI, where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Demo, start_demo};

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

fn run_against(demo: &Demo) {
    let out = Command::new("python3")
        .arg(root().join("scripts/schemathesis_run.py"))
        .args([&demo.address, "admin", &demo.password("admin")])
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
