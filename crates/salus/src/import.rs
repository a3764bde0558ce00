//! `salus import fhir PATH`: FHIR bundles and NDJSON taken into Salus's records, with a
//! progress bar and a closing report of what was made, what was already there, and what
//! Salus does not take in (by type and reason).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use salus_app::Ctx;
use salus_app::interop::Importer;
use serde_json::{Value, json};

use crate::config::Config;
use crate::run::{init_logging, open_app};

/// NDJSON lines taken in per transaction.
const NDJSON_BATCH: usize = 1000;

fn files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let mut out = Vec::new();
    let mut dirs = vec![path.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let p = entry?.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "json" || e == "ndjson") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A resource or a bundle as the entries the importer takes.
fn entries_of(value: Value) -> Vec<Value> {
    if value["resourceType"] == "Bundle" {
        return value["entry"].as_array().cloned().unwrap_or_default();
    }
    vec![json!({ "resource": value })]
}

pub async fn fhir(config: Config, path: &Path) -> anyhow::Result<ExitCode> {
    init_logging(&config);
    let files = files(path)?;
    if files.is_empty() {
        anyhow::bail!("no .json or .ndjson files in {}", path.display());
    }
    let app = open_app(&config).await?;
    let ctx = Ctx::operator();
    let bytes: u64 = files.iter().filter_map(|f| f.metadata().ok()).map(|m| m.len()).sum();
    let bar = ProgressBar::new(bytes);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut importer = Importer::new();
    for file in &files {
        bar.set_message(file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        if file.extension().is_some_and(|e| e == "ndjson") {
            let reader = std::io::BufReader::new(std::fs::File::open(file)?);
            let mut batch = Vec::with_capacity(NDJSON_BATCH);
            for (n, line) in reader.lines().enumerate() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                let value: Value = serde_json::from_str(&line)
                    .with_context(|| format!("{} line {}: not JSON", file.display(), n + 1))?;
                batch.push(json!({ "resource": value }));
                if batch.len() == NDJSON_BATCH {
                    app.interop().import_fhir(&ctx, &mut importer, std::mem::take(&mut batch)).await?;
                }
            }
            if !batch.is_empty() {
                app.interop().import_fhir(&ctx, &mut importer, batch).await?;
            }
        } else {
            let text = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
            let value: Value =
                serde_json::from_slice(&text).with_context(|| format!("{}: not JSON", file.display()))?;
            app.interop().import_fhir(&ctx, &mut importer, entries_of(value)).await?;
        }
        bar.inc(size);
    }
    bar.finish_and_clear();
    let r = &importer.report;
    let secs = started.elapsed().as_secs_f64().max(0.001);
    println!(
        "read {} resources from {} files in {secs:.1} s ({:.0} a second)",
        r.read,
        files.len(),
        r.read as f64 / secs
    );
    for (kind, n) in &r.created {
        println!("  made {n} {kind}");
    }
    if r.already > 0 {
        println!("  {} already in Salus (nothing made twice)", r.already);
    }
    if !r.unmapped.is_empty() {
        println!("not taken in:");
        for (why, n) in &r.unmapped {
            println!("  {n:>6}  {why}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
