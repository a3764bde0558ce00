//! The `salus` binary as an operator meets it: broken configurations, the demo run twice,
//! account commands, help on every subcommand.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn salus(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_salus"));
    c.current_dir(dir).env("SALUS_LOG__FORMAT", "json").env_remove("RUST_LOG");
    // The configuration under test comes from the test, not from the developer's shell.
    for (k, _) in std::env::vars() {
        if k.starts_with("SALUS_") && k != "SALUS_TEST_POSTGRES_URL" && k != "SALUS_LOG__FORMAT" {
            c.env_remove(k);
        }
    }
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    salus(dir).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// Runs `config check` and expects a failure whose message contains `expected`.
fn refused(dir: &Path, args: &[&str], expected: &str) {
    let o = run(dir, args);
    assert!(!o.status.success(), "{args:?} should fail");
    let err = stderr(&o);
    assert!(err.contains(expected), "{args:?}: expected {expected:?} in {err:?}");
    assert!(err.lines().count() <= 3, "a short, clear message: {err}");
}

#[test]
fn broken_configurations_are_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "unknown-key.toml", "[server]\nprot = 9000\n");
    refused(d, &["--config", "unknown-key.toml", "config", "check"], "unknown field: found `prot`");
    write(d, "unknown-section.toml", "[sever]\nport = 9000\n");
    refused(d, &["--config", "unknown-section.toml", "config", "check"], "sever");
    write(d, "bad-type.toml", "[server]\nport = \"eighty\"\n");
    refused(d, &["--config", "bad-type.toml", "config", "check"], "port");
    refused(d, &["--config", "missing.toml", "config", "check"], "does not exist");
    refused(d, &["--database-url", "mysql://root@localhost/salus", "config", "check"], "database.url");
    write(d, "tls.toml", "[tls]\ncert = \"nope.pem\"\nkey = \"nope.key\"\n");
    refused(d, &["--config", "tls.toml", "config", "check"], "cannot read nope.pem");
    write(d, "cert.pem", "not a certificate\n");
    write(d, "tls2.toml", "[tls]\ncert = \"cert.pem\"\nkey = \"cert.pem\"\n");
    refused(d, &["--config", "tls2.toml", "config", "check"], "holds no certificate");
    write(d, "gcs.toml", "[attachments]\nurl = \"gs://scans\"\n");
    refused(d, &["--config", "gcs.toml", "config", "check"], "must start with s3://");
    write(d, "half-tls.toml", "[tls]\ncert = \"cert.pem\"\n");
    refused(d, &["--config", "half-tls.toml", "config", "check"], "both tls.cert and tls.key");
    write(d, "country.toml", "[registration]\nphone_country_code = \"999\"\n");
    refused(
        d,
        &["--config", "country.toml", "config", "check"],
        "phone_country_code: must be a country calling code",
    );
    // The environment is checked the same way.
    let o = salus(d).args(["config", "check"]).env("SALUS_SERVER__PORT", "many").output().unwrap();
    assert!(!o.status.success());
    assert!(stderr(&o).to_lowercase().contains("server.port"), "{}", stderr(&o));
    // salus.toml in the working directory is read without --config.
    write(d, "salus.toml", "[server]\nport = 9123\n");
    let o = run(d, &["config", "check"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains(":9123"));
    // Environment over file, flag over environment.
    let o = salus(d).args(["config", "check"]).env("SALUS_SERVER__PORT", "9200").output().unwrap();
    assert!(stdout(&o).contains(":9200"));
}

#[test]
fn a_port_in_use_is_one_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let o = run(dir.path(), &["serve", "--port", &port]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("already in use"), "{}", stderr(&o));
}

/// Starts `salus demo` on a free port and returns it with its first stdout lines, up to
/// the "running at" line.
fn start_demo(dir: &Path) -> (Child, Vec<String>) {
    let mut child = salus(dir)
        .args(["demo", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        let done = line.contains("running at");
        lines.push(line.trim_end().to_owned());
        if done {
            return (child, lines);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("demo did not start: {lines:?}");
}

fn stop(mut child: Child) {
    // SIGTERM, as an operator's service manager would; the server shuts down gracefully.
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "graceful exit: {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("demo did not stop on SIGTERM");
}

#[test]
fn demo_twice_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let (first, lines) = start_demo(dir.path());
    let address =
        lines.last().unwrap().split_whitespace().find(|w| w.starts_with("http://")).unwrap().to_owned();
    assert!(address.starts_with("http://127.0.0.1:"), "{address}");
    let passwords: Vec<&String> = lines.iter().filter(|l| l.trim_start().starts_with("doctor ")).collect();
    assert_eq!(passwords.len(), 2, "a physician and a radiologist, each with a password: {lines:?}");
    for role in ["admin", "nurse", "receptionist", "lab_technician", "pharmacist", "billing", "patient"] {
        assert!(lines.iter().any(|l| l.trim_start().starts_with(&format!("{role} "))), "{role}: {lines:?}");
    }
    let body = reqwest::blocking_get(&format!("{address}/health/ready"));
    assert!(body.contains("\"pass\""), "{body}");
    assert!(
        lines.iter().any(|l| l.starts_with("Demo organisation: Salus Demo Hospital with 10 departments")),
        "{lines:?}"
    );
    let schedule = lines.iter().find(|l| l.starts_with("Demo schedule:")).expect("a demo schedule");
    let booked: u32 = schedule.split_whitespace().find_map(|w| w.parse().ok()).unwrap();
    assert!(booked >= 40, "a week of appointments: {schedule}");
    assert!(lines.iter().any(|l| l.starts_with("Demo clinical record: 6 visits")), "{lines:?}");
    // Whatever the weekday (a Sunday has no regular session), today is a working day.
    assert!(
        lines.iter().any(|l| l.starts_with("Demo today: 6 walk-ins for Dr Priya Rao (2 seen, 4 waiting)")),
        "{lines:?}"
    );
    stop(first);
    assert!(dir.path().join("salus-data/salus.db").is_file(), "SQLite in ./salus-data");

    let (second, lines) = start_demo(dir.path());
    assert!(lines.iter().any(|l| l.contains("already exist")), "{lines:?}");
    assert!(!lines.iter().any(|l| l.starts_with("Demo organisation")), "made once: {lines:?}");
    assert!(!lines.iter().any(|l| l.starts_with("Demo today")), "today already lives: {lines:?}");
    assert!(
        !lines.iter().any(|l| l.starts_with("Demo laboratory")),
        "the lab's morning is made once: {lines:?}"
    );
    assert!(!lines.iter().any(|l| l.trim_start().starts_with("doctor ")), "no new passwords: {lines:?}");
    stop(second);
    let list = stdout(&run(dir.path(), &["user", "list"]));
    assert_eq!(list.lines().count(), 11, "a header and ten demo users: {list}");
}

#[test]
fn user_commands_manage_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = run(
        d,
        &["user", "create", "Dr.Osei", "--name", "Dr Kwame Osei", "--role", "doctor", "--role", "nurse"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("created dr.osei (doctor,nurse)"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("password: ") && l.len() == "password: ".len() + 20));

    let mut child = salus(d)
        .args(["user", "create", "admin2", "--name", "Second Admin", "--role", "admin", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a long typed password\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stdout(&o).contains("password:"), "a typed password is not echoed");

    refused(
        d,
        &["user", "create", "dr.osei", "--name", "Again", "--role", "doctor"],
        "username: is already taken",
    );
    refused(d, &["user", "create", "x", "--name", "X", "--role", "doctor"], "username");
    refused(d, &["user", "create", "someone", "--name", "X", "--role", "surgeon"], "unknown role");

    let o = run(d, &["user", "set-roles", "dr.osei", "--role", "doctor"]);
    assert!(stdout(&o).contains("dr.osei now has: doctor"), "{}", stderr(&o));
    let o = run(d, &["user", "disable", "dr.osei"]);
    assert!(o.status.success());
    let o = run(d, &["user", "reset-password", "dr.osei"]);
    assert!(stdout(&o).starts_with("new password for dr.osei: "));
    refused(d, &["user", "disable", "nobody"], "user not found");
    // The last active administrator cannot be removed.
    refused(d, &["user", "disable", "admin2"], "last active administrator");

    let list = stdout(&run(d, &["user", "list"]));
    assert!(
        list.lines().any(|l| l.starts_with("dr.osei") && l.contains("disabled") && l.contains("doctor")),
        "{list}"
    );
    assert!(list.lines().any(|l| l.starts_with("admin2") && l.contains("active")), "{list}");

    // Every change above is in the audit trail, sealed and intact.
    let o = run(d, &["audit", "verify"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("the audit chain is intact"), "{}", stdout(&o));
    let o = run(d, &["audit", "export", "--from", "2000-01-01", "--to", "2100-01-01"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> =
        stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let actions: Vec<&str> = lines.iter().map(|l| l["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["user.create", "user.create", "user.roles_change", "user.disable", "user.password_reset"],
        "in time order; refused commands changed nothing and left no change event"
    );
    assert!(lines.iter().all(|l| l["actor"] == "operator"));
    let o = run(d, &["audit", "export", "--from", "2100-01-01", "--to", "2000-01-01"]);
    assert!(!o.status.success());
    refused(d, &["audit", "export", "--from", "yesterday", "--to", "2100-01-01"], "neither a date");
}

#[test]
fn migrate_applies_then_reports_current() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["migrate", "--check"]);
    assert!(!o.status.success(), "pending on an empty database");
    assert!(stdout(&o).contains("pending"));
    let o = run(dir.path(), &["migrate"]);
    assert!(
        stdout(&o).starts_with("applied ") && stdout(&o).contains("m20261123_000001_identity"),
        "{}",
        stderr(&o)
    );
    let o = run(dir.path(), &["migrate", "--check"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("current"));
}

#[test]
fn every_subcommand_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["demo", "--help"],
        vec!["migrate", "--help"],
        vec!["user", "--help"],
        vec!["user", "create", "--help"],
        vec!["user", "list", "--help"],
        vec!["user", "set-roles", "--help"],
        vec!["user", "disable", "--help"],
        vec!["user", "reset-password", "--help"],
        vec!["config", "check", "--help"],
        vec!["generate", "--help"],
        vec!["bench", "--help"],
    ] {
        let o = run(dir.path(), &args);
        assert!(o.status.success(), "{args:?}");
        assert!(stdout(&o).contains("Usage: salus"), "{args:?}");
    }
    let o = run(dir.path(), &["serve", "--port", "http"]);
    assert!(!o.status.success());
    let o = run(dir.path(), &["generate", "--size", "huge"]);
    assert!(!o.status.success() && stderr(&o).contains("--size must be 1k, 100k or 1m"), "{}", stderr(&o));
    let o = run(dir.path(), &["bench", "--mix", "search=1,dance=2", "--url", "http://127.0.0.1:9"]);
    assert!(!o.status.success() && stderr(&o).contains("no operation `dance`"), "{}", stderr(&o));
}

/// A tiny blocking GET, enough for a health check, without another HTTP client.
mod reqwest {
    use std::io::{Read, Write};

    pub fn blocking_get(url: &str) -> String {
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
        let mut s = std::net::TcpStream::connect(host).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
        || Command::new(tool).arg("version").output().is_ok_and(|o| o.status.success())
}

#[test]
fn tls_serves_https_with_hsts_and_secure_cookies() {
    if !(have("openssl") && have("curl")) {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI must run the TLS test (openssl and curl)");
        println!("TLS test: SKIPPED — openssl or curl missing");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let made = Command::new("openssl")
        .current_dir(d)
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem"])
        .args(["-days", "1", "-subj", "/CN=localhost"])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", stderr(&made));
    write(d, "no-key.toml", "[tls]\ncert = \"cert.pem\"\nkey = \"missing.key\"\n");
    refused(d, &["--config", "no-key.toml", "config", "check"], "cannot read missing.key");
    write(d, "wrong-key.toml", "[tls]\ncert = \"cert.pem\"\nkey = \"cert.pem\"\n");
    refused(d, &["--config", "wrong-key.toml", "config", "check"], "holds no private key");
    write(d, "tls.toml", "[tls]\ncert = \"cert.pem\"\nkey = \"key.pem\"\n");

    let mut child = salus(d)
        .args(["--config", "tls.toml", "serve", "--port", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut address = None;
    for _ in 0..200 {
        let mut line = String::new();
        if err.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(rest) = line.split("listening on ").nth(1) {
            address = Some(rest.trim().to_owned());
            break;
        }
    }
    let Some(address) = address else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the TLS server did not start");
    };
    assert!(address.starts_with("https://127.0.0.1:"), "{address}");
    let out = Command::new("curl")
        .args(["-sk", "-o", "/dev/null", "-D", "-", &format!("{address}/login")])
        .output()
        .unwrap();
    let headers = stdout(&out).to_lowercase();
    stop(child);
    assert!(headers.starts_with("http/"), "{headers}");
    assert!(headers.contains("strict-transport-security: max-age="), "{headers}");
    let cookie = headers.lines().find(|l| l.starts_with("set-cookie: salus_csrf=")).unwrap_or_default();
    assert!(cookie.contains("; secure") && cookie.contains("httponly"), "{headers}");
}
