// Each test file uses some of these.
#![allow(dead_code)]

//! What the command-line tests share.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

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

/// The demo, started on a free port; killed when dropped.
pub struct Demo {
    child: Child,
    pub address: String,
    /// Each printed user's password, by username.
    passwords: HashMap<String, String>,
}

impl Demo {
    pub fn password(&self, username: &str) -> String {
        self.passwords.get(username).cloned().unwrap_or_else(|| panic!("the demo printed no {username}"))
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `salus demo` on `database` (`--data-dir D` or `--database-url U`), rate limits lifted.
pub fn start_demo(database: &[&str]) -> Demo {
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
        let mut passwords = HashMap::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let [_, username, p] = words.as_slice() {
                passwords.insert((*username).to_owned(), (*p).to_owned());
            }
            if let Some(at) = line.split("running at ").nth(1) {
                let address = at.split_whitespace().next().unwrap_or_default().to_owned();
                let _ = tx.send((address, std::mem::take(&mut passwords)));
            }
        }
    });
    let (address, passwords) = rx.recv_timeout(Duration::from_secs(120)).expect("salus demo started");
    Demo { child, address, passwords }
}
