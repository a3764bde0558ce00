//! The browser test (`web/e2e/login.mjs`) as part of the one test command. It needs
//! Node.js, Debian's Chromium and `npm ci` in `web/`; `.ci/run` installs all three. Where
//! one is missing this test says so and passes, except in CI, where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

#[test]
fn browser_signs_in_through_the_real_login_page() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing: Vec<&str> = [
        (Command::new("node").arg("--version").output().is_err(), "node"),
        (!Path::new(&chromium).exists(), "chromium"),
        (!root.join("web/node_modules/playwright-core").is_dir(), "web/node_modules (run `npm ci` in web/)"),
    ]
    .into_iter()
    .filter_map(|(absent, what)| absent.then_some(what))
    .collect();
    if !missing.is_empty() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must run the browser test; missing: {missing:?}"
        );
        println!("browser test: SKIPPED — missing {}", missing.join(", "));
        return;
    }
    let out = Command::new("node")
        .arg(root.join("web/e2e/login.mjs"))
        .arg(env!("CARGO_BIN_EXE_salus"))
        .env("E2E_SCREENSHOTS", root.join("target/e2e"))
        .env("CHROMIUM", &chromium)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "browser test failed:\n{text}");
    println!("{}", text.trim());
}
