//! `salus audit …`: verifying and exporting the audit trail from the console.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};

use crate::AuditCommand;
use crate::config::Config;
use crate::run::{init_logging, open_app};

fn parse_instant(s: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("`{s}` is neither a date (2026-11-01) nor an RFC 3339 time"))?;
    Ok(day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or_default())
}

pub async fn run(config: Config, command: AuditCommand) -> anyhow::Result<ExitCode> {
    init_logging(&config);
    let app = open_app(&config).await?;
    match command {
        AuditCommand::Verify => {
            let started = std::time::Instant::now();
            let sealed = app.audit().seal_all_audit().await?;
            let report = app.audit().verify_audit().await?;
            let secs = started.elapsed().as_secs_f64();
            println!("sealed {sealed} pending event(s) first");
            println!("verified {} link(s) in {secs:.2} s", report.verified);
            if report.unsealed > 0 {
                println!("{} event(s) written but not yet sealed", report.unsealed);
            }
            if let Some(problem) = &report.first_problem {
                println!("BROKEN: {problem}");
                return Ok(ExitCode::FAILURE);
            }
            if report.outside_chain > 0 {
                println!("BROKEN: {} event(s) are in the table but not in the chain", report.outside_chain);
                return Ok(ExitCode::FAILURE);
            }
            println!("the audit chain is intact");
        }
        AuditCommand::Export { from, to } => {
            let (from, to) = (parse_instant(&from)?, parse_instant(&to)?);
            if from >= to {
                bail!("--from must be before --to");
            }
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let mut after = None;
            loop {
                let page = app.audit().audit_events_between(from, to, after, 5000).await?;
                let Some(last) = page.last() else { break };
                after = Some((last.at, last.id));
                for e in &page {
                    let line = serde_json::json!({
                        "id": e.id, "at": e.at, "actor_id": e.actor_id, "actor": e.actor_name,
                        "roles": e.actor_roles, "action": e.action, "outcome": e.outcome,
                        "resource_type": e.resource_type, "resource_id": e.resource_id,
                        "patient_id": e.patient_id, "client_ip": e.client_ip, "request_id": e.request_id,
                        "reason": e.reason,
                        "detail": e.detail.as_deref().and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok()),
                    });
                    writeln!(out, "{line}")?;
                }
            }
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
