//! The load harness checks itself, on SQLite and on PostgreSQL: `salus generate` makes a
//! small hospital, `salus bench` starts Salus on it and runs every operation of the mix
//! over HTTP; every operation must have run and succeeded, and the report must be
//! complete. No timing is asserted — the figures come from the reference runs
//! (docs/benchmarks.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn salus(dir: &Path, database: &[String], args: &[&str]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_salus"));
    c.current_dir(dir).env_remove("RUST_LOG");
    for (k, _) in std::env::vars() {
        if k.starts_with("SALUS_") {
            c.env_remove(k);
        }
    }
    c.args(database).args(args).output().unwrap()
}

fn smoke(database: Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let generate =
        ["generate", "--patients", "300", "--doctors", "4", "--days", "7", "--busy-encounters", "200"];
    let o = salus(d, &database, &generate);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "generate: {out}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("generated 300 patients") && out.contains("rows/s"), "{out}");
    for table in ["appointments", "encounters", "notes", "prescriptions", "lab_orders", "lab_results"] {
        assert!(out.lines().any(|l| l.trim_start().starts_with(table)), "{table} in {out}");
    }
    // About seven results an order, each read against the patient's range.
    let count = |table: &str| -> u64 {
        let line = out.lines().find(|l| l.trim_start().starts_with(&format!("{table} "))).unwrap();
        line.split_whitespace().last().unwrap().parse().unwrap()
    };
    let (orders, results) = (count("lab_orders"), count("lab_results"));
    assert!(orders > 200 && results > 3 * orders, "{orders} orders, {results} results: {out}");

    let bench = [
        "bench",
        "--duration",
        "4",
        "--warmup",
        "0",
        "--ceiling-secs",
        "1",
        "--concurrency",
        "4",
        "--doctors",
        "2",
        "--out",
        "report",
        "--label",
        "smoke",
    ];
    let o = salus(d, &database, &bench);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "bench: {stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["errors"], 0, "{report:#}");
    assert!(report["ceiling"]["count"].as_u64().unwrap() > 0, "the ceiling was measured");
    let server = &report["server"];
    assert!(
        server["cpu_seconds"].as_f64().unwrap() > 0.0 && server["peak_rss_mib"].as_f64().unwrap() > 1.0,
        "{server}"
    );
    let ops = report["operations"].as_array().unwrap();
    for op in ["search", "search keystroke", "chart", "book", "checkin", "note", "prescribe"] {
        let o =
            ops.iter().find(|o| o["operation"] == op).unwrap_or_else(|| panic!("{op} missing: {report:#}"));
        assert!(o["count"].as_u64().unwrap() > 0, "{op} ran: {o}");
        assert_eq!(o["errors"], 0, "{op}: {o}");
        for p in ["p50", "p95", "p99", "max"] {
            assert!(o["latency_ms"][p].as_f64().unwrap() > 0.0, "{op} {p}: {o}");
        }
    }
    let md = std::fs::read_to_string(d.join("report.md")).unwrap();
    assert!(md.contains("| chart |") && md.contains("ceiling") && md.contains("peak RSS"), "{md}");
    assert_eq!(md.trim(), stdout.trim(), "the table printed is the table written");

    // The pharmacy's: a prescription dispensed by one of sixteen pharmacists, a page of
    // the generated pharmacy's stock.
    let mut pharmacy = bench.to_vec();
    pharmacy.extend(["--only", "dispense,stock"]);
    let at = pharmacy.iter().position(|a| *a == "report").unwrap();
    pharmacy[at] = "pharmacy-report";
    let o = salus(d, &database, &pharmacy);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "pharmacy bench: {stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("pharmacy-report.json")).unwrap()).unwrap();
    assert_eq!(report["errors"], 0, "{report:#}");
    for op in ["dispense", "stock"] {
        let o = report["operations"].as_array().unwrap().iter().find(|o| o["operation"] == op);
        let o = o.unwrap_or_else(|| panic!("{op} missing: {report:#}"));
        assert!(o["count"].as_u64().unwrap() > 0, "{op} ran: {o}");
    }

    // The laboratory's operations: ordered, collected and received; the worklist; results
    // entered by one technician and verified by the other; a patient's results read.
    let mut lab = bench.to_vec();
    lab.extend(["--only", "order=2,worklist,enter,verify,results"]);
    let at = lab.iter().position(|a| *a == "report").unwrap();
    lab[at] = "lab-report";
    let o = salus(d, &database, &lab);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "lab bench: {stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("lab-report.json")).unwrap()).unwrap();
    assert_eq!(report["errors"], 0, "{report:#}");
    let ops = report["operations"].as_array().unwrap();
    for op in ["order", "worklist", "enter", "verify", "results"] {
        let o =
            ops.iter().find(|o| o["operation"] == op).unwrap_or_else(|| panic!("{op} missing: {report:#}"));
        assert!(o["count"].as_u64().unwrap() > 0, "{op} ran: {o}");
    }
}

#[test]
fn the_load_harness_runs_every_operation_on_sqlite() {
    smoke(Vec::new());
}

#[test]
fn the_load_harness_runs_every_operation_on_postgres() {
    let Some(url) = common::fresh_postgres("salus_t_load") else { return };
    smoke(vec!["--database-url".into(), url]);
}
