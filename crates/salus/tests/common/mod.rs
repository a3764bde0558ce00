//! What the command-line tests share.

use std::process::Command;

/// A new, empty PostgreSQL database for one test (`prefix` names it), as a URL; `None`
/// (with the reason printed) when `SALUS_TEST_POSTGRES_URL` is unset outside CI. In CI an
/// unset URL fails the test: the PostgreSQL tests must run there.
pub fn fresh_postgres(prefix: &str) -> Option<String> {
    let url = match std::env::var("SALUS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("SALUS_TEST_POSTGRES_URL is not set; in CI the PostgreSQL tests must run")
        }
        _ => {
            eprintln!("SKIPPED on PostgreSQL: SALUS_TEST_POSTGRES_URL is not set");
            return None;
        }
    };
    let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
    let created = Command::new("psql").args([&url, "-qc", &format!("CREATE DATABASE {name}")]).status();
    assert!(created.is_ok_and(|s| s.success()), "psql could not create {name}");
    let root = url.split('?').next().unwrap().rsplit_once('/').unwrap().0;
    Some(format!("{root}/{name}"))
}
