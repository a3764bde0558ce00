//! The load run's report: per operation, throughput and latency percentiles, each latency
//! also as a multiple of the ceiling's (the same server answering a trivial request at the
//! same concurrency in the same run), errors, and the server's CPU and peak memory.

use serde_json::{Value, json};

use super::{BenchArgs, Tally};

/// One operation's figures (latencies in milliseconds).
#[derive(Debug, Clone)]
pub struct OpReport {
    pub name: String,
    pub count: u64,
    pub conflicts: u64,
    pub skipped: u64,
    pub errors: u64,
    pub per_second: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    pub first_errors: Vec<String>,
}

impl OpReport {
    pub(super) fn from_tally(name: &str, t: &Tally, seconds: f64) -> Self {
        let ms = |q: f64| t.latency.value_at_quantile(q) as f64 / 1000.0;
        let count = t.done + t.conflicts + t.errors;
        Self {
            name: name.to_owned(),
            count,
            conflicts: t.conflicts,
            skipped: t.skipped,
            errors: t.errors,
            per_second: count as f64 / seconds.max(0.001),
            p50: ms(0.5),
            p95: ms(0.95),
            p99: ms(0.99),
            max: t.latency.max() as f64 / 1000.0,
            first_errors: t.first_errors.clone(),
        }
    }

    pub fn empty(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            count: 0,
            conflicts: 0,
            skipped: 0,
            errors: 0,
            per_second: 0.0,
            p50: 0.0,
            p95: 0.0,
            p99: 0.0,
            max: 0.0,
            first_errors: Vec::new(),
        }
    }

    fn json(&self, ceiling: &OpReport) -> Value {
        json!({
            "operation": self.name,
            "count": self.count,
            "conflicts": self.conflicts,
            "skipped": self.skipped,
            "errors": self.errors,
            "per_second": round(self.per_second),
            "latency_ms": {"p50": round(self.p50), "p95": round(self.p95), "p99": round(self.p99), "max": round(self.max)},
            "p99_over_ceiling_p99": round(self.p99 / ceiling.p99.max(0.001)),
            "first_errors": self.first_errors,
        })
    }
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[derive(Debug, Clone)]
pub struct ServerStats {
    pub pid: u32,
    pub cpu_seconds: f64,
    pub cpu_cores_used: f64,
    pub peak_rss_bytes: u64,
}

pub struct Report {
    pub label: String,
    pub target: String,
    pub mode: String,
    pub mix: String,
    pub seconds: f64,
    pub ceiling: OpReport,
    pub ops: Vec<OpReport>,
    pub server: Option<ServerStats>,
    pub cores: usize,
}

impl Report {
    pub(super) fn new(
        args: &BenchArgs,
        mix: &[(&str, u32)],
        target: &str,
        ceiling: OpReport,
        ops: Vec<OpReport>,
        server: Option<ServerStats>,
        seconds: f64,
    ) -> Self {
        let mode = match args.rate {
            Some(r) => {
                format!("open loop, {r} operations/s arriving (at most {} in flight)", args.concurrency)
            }
            None => format!("closed loop, {} users", args.concurrency),
        };
        Self {
            label: args.label.clone(),
            target: target.to_owned(),
            mode,
            // The mix that ran (`--only` narrows `--mix`), not the one asked for.
            mix: mix.iter().map(|(op, w)| format!("{op}={w}")).collect::<Vec<_>>().join(","),
            seconds,
            ceiling,
            ops,
            server,
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        }
    }

    pub fn errors(&self) -> u64 {
        self.ops.iter().map(|o| o.errors).sum()
    }

    pub fn json(&self) -> Value {
        json!({
            "label": self.label,
            "target": self.target,
            "mode": self.mode,
            "mix": self.mix,
            "measured_seconds": round(self.seconds),
            "machine_cores": self.cores,
            "ceiling": self.ceiling.json(&self.ceiling),
            "operations": self.ops.iter().map(|o| o.json(&self.ceiling)).collect::<Vec<_>>(),
            "server": self.server.as_ref().map(|s| json!({
                "pid": s.pid,
                "cpu_seconds": round(s.cpu_seconds),
                "cpu_cores_used": round(s.cpu_cores_used),
                "peak_rss_mib": round(s.peak_rss_bytes as f64 / (1024.0 * 1024.0)),
            })),
            "errors": self.errors(),
        })
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let title = if self.label.is_empty() { String::new() } else { format!(" — {}", self.label) };
        out.push_str(&format!(
            "### Load run{title}\n\n{} for {:.0} s against {} ({} cores); mix {}\n\n",
            self.mode, self.seconds, self.target, self.cores, self.mix
        ));
        out.push_str("| operation | count | /s | p50 ms | p95 ms | p99 ms | max ms | p99 ÷ ceiling p99 | conflicts | errors |\n");
        out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        let row = |o: &OpReport, ratio: String| {
            format!(
                "| {} | {} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} | {ratio} | {} | {} |\n",
                o.name, o.count, o.per_second, o.p50, o.p95, o.p99, o.max, o.conflicts, o.errors
            )
        };
        out.push_str(&row(&self.ceiling, "1 (ceiling)".into()));
        for o in &self.ops {
            out.push_str(&row(o, format!("{:.1}", o.p99 / self.ceiling.p99.max(0.001))));
        }
        if let Some(s) = &self.server {
            out.push_str(&format!(
                "\nServer: {:.1} CPU s ({:.2} of {} cores), peak RSS {:.0} MiB.\n",
                s.cpu_seconds,
                s.cpu_cores_used,
                self.cores,
                s.peak_rss_bytes as f64 / (1024.0 * 1024.0)
            ));
        }
        let skipped: u64 = self.ops.iter().map(|o| o.skipped).sum();
        if skipped > 0 {
            out.push_str(&format!(
                "\n{skipped} check-ins skipped: no appointment of today left to check in.\n"
            ));
        }
        for o in self.ops.iter().filter(|o| !o.first_errors.is_empty()) {
            out.push_str(&format!("\nErrors of {}: {}\n", o.name, o.first_errors.join(" | ")));
        }
        out
    }
}
