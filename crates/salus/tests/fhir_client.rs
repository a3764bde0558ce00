//! A real FHIR client against the demo hospital (`web/e2e/fhir.mjs`: npm's
//! fhir-kit-client, signed in with a personal token, every resource it receives checked
//! against HL7's R4 JSON schema), on SQLite and on PostgreSQL. It needs Node.js and
//! `npm ci` in `web/`; `.ci/run` installs both. Where one is missing this test says so and
//! passes, except in CI, where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Demo, start_demo};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn missing() -> Option<&'static str> {
    let absent = if Command::new("node").arg("--version").output().is_err() {
        Some("node")
    } else if !root().join("web/node_modules/fhir-kit-client").is_dir() {
        Some("web/node_modules (run `npm ci` in web/)")
    } else {
        None
    };
    if let Some(what) = absent {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must run the FHIR client test; missing {what}"
        );
        println!("FHIR client test: SKIPPED — missing {what}");
    }
    absent
}

fn run_client(demo: &Demo) {
    let out = Command::new("node")
        .arg(root().join("web/e2e/fhir.mjs"))
        .args([demo.address.as_str(), "dr.rao", &demo.password("dr.rao")])
        .current_dir(root().join("web"))
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the FHIR client failed:\n{text}");
    println!("{}", text.trim());
}

#[test]
fn a_fhir_client_reads_the_demo_hospital_on_sqlite() {
    if missing().is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    run_client(&start_demo(&["--data-dir", dir.path().to_str().unwrap()]));
}

#[test]
fn a_fhir_client_reads_the_demo_hospital_on_postgres() {
    if missing().is_some() {
        return;
    }
    let Some(url) = common::fresh_postgres("salus_t_fhir") else { return };
    let dir = tempfile::tempdir().unwrap();
    run_client(&start_demo(&["--database-url", &url, "--data-dir", dir.path().to_str().unwrap()]));
}
