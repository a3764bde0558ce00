//! `salus export fhir --out DIR`: the hospital as Bulk Data NDJSON files, made at the
//! console by the same code as `GET /fhir/$export` (audited as the operator), with the
//! figures: resources, time, resources a second and the process's peak memory.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use salus_app::Ctx;
use salus_app::interop::export::{ExportRequest, ExportScope};
use salus_web::fhir::export::{EXPORTED, work_now};

use crate::config::Config;
use crate::run::{init_logging, open_app};

/// The process's peak resident memory in MiB (Linux), if it can be read.
fn peak_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

pub async fn fhir(
    config: Config,
    out: &Path,
    types: Option<&str>,
    since: Option<&str>,
) -> anyhow::Result<ExitCode> {
    init_logging(&config);
    let types: Vec<String> = match types {
        Some(t) => t.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
        None => EXPORTED.iter().map(|t| (*t).to_owned()).collect(),
    };
    if let Some(bad) = types.iter().find(|t| !EXPORTED.contains(&t.as_str())) {
        anyhow::bail!("{bad} is not exported; --types may name {}", EXPORTED.join(", "));
    }
    let since = since
        .map(|s| chrono::DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&chrono::Utc)))
        .transpose()
        .context("--since must be an instant such as 2026-01-31T09:00:00Z")?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let app = open_app(&config).await?;
    let ctx = Ctx::operator();
    let started = Instant::now();
    let request = ExportRequest {
        request: format!("salus export fhir --types {}", types.join(",")),
        scope: ExportScope::System,
        types,
        since,
        queue: false,
    };
    let export = app.interop().start_export(&ctx, request).await?;
    work_now(&app, export.id).await?;
    let seconds = started.elapsed().as_secs_f64();
    let done = app.interop().export(&ctx, export.id).await?;
    let mut n = std::collections::HashMap::<&str, usize>::new();
    for f in &done.output {
        let seq = n.entry(f.kind.as_str()).or_default();
        *seq += 1;
        let path = out.join(format!("{}.{:03}.ndjson", f.kind, seq));
        let bytes = app.interop().export_file(&ctx, export.id, &f.sha256).await?;
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    let rate = done.resources as f64 / seconds.max(f64::EPSILON);
    println!(
        "exported {} resources in {} files to {} in {seconds:.1} s: {rate:.0} resources/s; peak memory {} MiB",
        done.resources,
        done.output.len(),
        out.display(),
        peak_mib().map_or_else(|| "?".to_owned(), |m| m.to_string()),
    );
    Ok(ExitCode::SUCCESS)
}
