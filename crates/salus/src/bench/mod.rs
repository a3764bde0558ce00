//! `salus bench`: the load tool. It starts Salus on the configured database (or targets a
//! running one with `--url`), signs in the desk and doctors over HTTP on loopback, measures
//! the server stack's ceiling (a trivial endpoint at the same concurrency), then runs a
//! clinic day's mix of operations — closed-loop at a concurrency, or open-loop at an
//! arrival rate where each operation's latency counts from when it was due, so a server
//! that falls behind shows it (no coordinated omission). The report: per operation,
//! throughput and latency percentiles beside the ceiling, errors, the server's CPU and peak
//! memory; as Markdown on standard output and as JSON and Markdown files.

mod billing;
mod fhir;
mod pharmacy;
mod report;
mod wards;
mod workload;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::{Mutex, Semaphore};

use self::report::{OpReport, Report, ServerStats};
use self::workload::{OPERATIONS, Outcome, World};

#[derive(Args, Clone)]
pub struct BenchArgs {
    /// A running Salus to load (e.g. http://127.0.0.1:8080); unset: start one on the
    /// configured database, with rate limits lifted, and stop it after.
    #[arg(long)]
    url: Option<String>,
    /// The running server's process id, for its CPU and memory (with --url).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Operations and their weights.
    #[arg(long, default_value = "search=35,chart=25,book=10,checkin=5,note=15,prescribe=10")]
    mix: String,
    /// Only these operations of the mix (comma-separated, e.g. `read` or `search,chart`),
    /// with their weights; an operation the mix does not name gets weight 1.
    #[arg(long)]
    only: Option<String>,
    /// Open loop: operations started per second, whether or not earlier ones are done.
    /// Unset: closed loop, --concurrency users each starting the next when one is done.
    #[arg(long)]
    rate: Option<f64>,
    /// Users in the closed loop; in the open loop, the most operations in flight (more
    /// wait, and their waiting counts in their latency).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds measured.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Seconds run before measuring.
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// Seconds the ceiling (a trivial endpoint) is measured for.
    #[arg(long, default_value_t = 3)]
    ceiling_secs: u64,
    /// Doctors signed in (bench.doctor001…).
    #[arg(long, default_value_t = 4)]
    doctors: usize,
    /// The generated accounts' password.
    #[arg(long, default_value = "salus-bench-password")]
    password: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Writes FILE.json and FILE.md.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// A label for the report (the database size, the backend…).
    #[arg(long, default_value = "")]
    label: String,
}

/// The server started for the run, stopped when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `salus serve` on a free port with the same configuration flags as this command.
fn start_server(global: &[String]) -> anyhow::Result<Server> {
    let exe = std::env::current_exe().context("cannot find the salus binary")?;
    let mut child = Command::new(exe)
        .args(global)
        .args(["serve", "--port", "0"])
        // A load test from one address must not be rate-limited as an attack would be.
        .env("SALUS_LIMITS__API_PER_ADDRESS_PER_MINUTE", "100000000")
        .env("SALUS_LIMITS__API_PER_ADDRESS_BURST", "100000000")
        .env("SALUS_LIMITS__API_PER_TOKEN_PER_MINUTE", "100000000")
        .env("SALUS_LIMITS__API_PER_TOKEN_BURST", "100000000")
        .env("SALUS_LIMITS__LOGIN_PER_ADDRESS_PER_MINUTE", "100000")
        .env("SALUS_LIMITS__LOGIN_PER_ADDRESS_BURST", "100000")
        .env("SALUS_SECURITY__TWO_FACTOR_ROLES", "[]")
        .env("SALUS_LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start salus serve")?;
    let stderr = child.stderr.take().context("no stderr")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut told = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !told && let Some(url) = line.split("listening on ").nth(1) {
                let _ = tx.send(Ok(url.trim().to_owned()));
                told = true;
            } else if line.starts_with("error") {
                let _ = tx.send(Err(line));
            }
        }
    });
    let url = match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(Ok(url)) => url,
        Ok(Err(e)) => bail!("salus serve failed: {e}"),
        Err(_) => bail!("salus serve did not start within two minutes"),
    };
    Ok(Server { child, url })
}

/// CPU seconds (user + system) and peak resident memory of a process, from /proc.
fn process_stats(pid: u32) -> Option<(f64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let hwm_kb: u64 =
        status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some((ticks / 100.0, hwm_kb * 1024))
}

/// The mix narrowed to `--only`'s operations.
fn narrow(mix: Vec<(&'static str, u32)>, only: Option<&str>) -> anyhow::Result<Vec<(&'static str, u32)>> {
    let Some(only) = only else { return Ok(mix) };
    let mut out = Vec::new();
    for (name, _) in parse_mix(only)? {
        out.push(mix.iter().find(|(op, _)| *op == name).copied().unwrap_or((name, 1)));
    }
    Ok(out)
}

fn parse_mix(mix: &str) -> anyhow::Result<Vec<(&'static str, u32)>> {
    let mut out = Vec::new();
    for part in mix.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, weight) = part.split_once('=').unwrap_or((part, "1"));
        let op = OPERATIONS
            .iter()
            .find(|o| **o == name.trim())
            .with_context(|| format!("--mix: no operation `{name}` (there are {})", OPERATIONS.join(", ")))?;
        let weight: u32 =
            weight.trim().parse().with_context(|| format!("--mix: `{weight}` is not a weight"))?;
        if weight > 0 {
            out.push((*op, weight));
        }
    }
    if out.is_empty() {
        bail!("--mix names no operation");
    }
    Ok(out)
}

fn choose(mix: &[(&'static str, u32)], rng: &mut StdRng) -> &'static str {
    let total: u32 = mix.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    for (op, w) in mix {
        if pick < *w {
            return op;
        }
        pick -= w;
    }
    mix[0].0
}

/// Latencies and outcomes of one operation.
struct Tally {
    latency: Histogram<u64>,
    done: u64,
    conflicts: u64,
    skipped: u64,
    errors: u64,
    first_errors: Vec<String>,
}

impl Tally {
    // The bounds are constants that are valid: 1 µs to 10 minutes, 3 significant digits.
    #[allow(clippy::expect_used)]
    fn new() -> Self {
        Self {
            latency: Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds"),
            done: 0,
            conflicts: 0,
            skipped: 0,
            errors: 0,
            first_errors: Vec::new(),
        }
    }

    fn record(&mut self, took: Duration, outcome: &anyhow::Result<Outcome>) {
        match outcome {
            Ok(Outcome::Done | Outcome::DoneIn(_)) => self.done += 1,
            Ok(Outcome::Conflict) => self.conflicts += 1,
            Ok(Outcome::Skipped) => {
                self.skipped += 1;
                return;
            }
            Err(e) => {
                self.errors += 1;
                if self.first_errors.len() < 5 {
                    self.first_errors.push(format!("{e:#}"));
                }
            }
        }
        let _ = self.latency.record(u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1));
    }
}

type Tallies = Arc<Mutex<BTreeMap<&'static str, Tally>>>;

async fn record(tallies: &Tallies, op: &'static str, took: Duration, outcome: &anyhow::Result<Outcome>) {
    tallies.lock().await.entry(op).or_insert_with(Tally::new).record(took, outcome);
}

/// Runs the mix until `end`; records only what starts after `measure_from`.
async fn run_mix(
    world: Arc<World>,
    args: &BenchArgs,
    mix: Vec<(&'static str, u32)>,
    measure_from: Instant,
    end: Instant,
) -> Tallies {
    let tallies: Tallies = Arc::new(Mutex::new(BTreeMap::new()));
    let mut tasks = Vec::new();
    match args.rate {
        None => {
            for worker in 0..args.concurrency.max(1) {
                let (world, mix, tallies) = (world.clone(), mix.clone(), tallies.clone());
                let seed = args.seed.wrapping_mul(1000).wrapping_add(worker as u64);
                tasks.push(tokio::spawn(async move {
                    let mut rng = StdRng::seed_from_u64(seed);
                    while Instant::now() < end {
                        one(&world, &mix, &mut rng, &tallies, Instant::now(), measure_from).await;
                    }
                }));
            }
        }
        Some(rate) => {
            // Arrivals at exponential intervals (a Poisson process), each due at its own
            // time; a slow server makes later ones wait, and the wait is in their latency.
            let gate = Arc::new(Semaphore::new(args.concurrency.max(1)));
            let mut rng = StdRng::seed_from_u64(args.seed);
            let mut due = Instant::now();
            let mut n = 0u64;
            while due < end {
                let wait = -(1.0 - rng.random::<f64>()).ln() / rate.max(0.001);
                due += Duration::from_secs_f64(wait);
                tokio::time::sleep_until(due.into()).await;
                let (world, mix, tallies, gate) = (world.clone(), mix.clone(), tallies.clone(), gate.clone());
                let seed = args.seed.wrapping_mul(1_000_003).wrapping_add(n);
                n += 1;
                tasks.push(tokio::spawn(async move {
                    let Ok(_permit) = gate.acquire_owned().await else { return };
                    let mut rng = StdRng::seed_from_u64(seed);
                    one(&world, &mix, &mut rng, &tallies, due, measure_from).await;
                }));
            }
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    tallies
}

/// One operation, timed from `due`.
async fn one(
    world: &Arc<World>,
    mix: &[(&'static str, u32)],
    rng: &mut StdRng,
    tallies: &Tallies,
    due: Instant,
    measure_from: Instant,
) {
    let op = choose(mix, rng);
    let mut keystrokes = Vec::new();
    let outcome = world.run(op, rng, &mut |d| keystrokes.push(d)).await;
    if due < measure_from {
        return;
    }
    let took = match &outcome {
        Ok(Outcome::DoneIn(part)) => *part,
        _ => due.elapsed(),
    };
    record(tallies, op, took, &outcome).await;
    for k in keystrokes {
        record(tallies, "keystroke", k, &Ok(Outcome::Done)).await;
    }
}

/// The ceiling: GET /health/live, closed loop at the same concurrency.
async fn ceiling(base: &str, concurrency: usize, secs: u64) -> anyhow::Result<(OpReport, f64)> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let url = format!("{base}/health/live");
    let tallies: Tallies = Arc::new(Mutex::new(BTreeMap::new()));
    let started = Instant::now();
    let end = started + Duration::from_secs(secs.max(1));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, url, tallies) = (client.clone(), url.clone(), tallies.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < end {
                let t = Instant::now();
                let outcome = match client.get(&url).send().await {
                    Ok(r) if r.status().is_success() => Ok(Outcome::Done),
                    Ok(r) => Err(anyhow::anyhow!("{}", r.status())),
                    Err(e) => Err(e.into()),
                };
                record(&tallies, "ceiling", t.elapsed(), &outcome).await;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let secs = started.elapsed().as_secs_f64();
    let t = tallies.lock().await;
    let tally = t.get("ceiling").context("the ceiling run made no request")?;
    Ok((OpReport::from_tally("GET /health/live", tally, secs), secs))
}

pub async fn run(args: BenchArgs, global: Vec<String>) -> anyhow::Result<ExitCode> {
    let mix = narrow(parse_mix(&args.mix)?, args.only.as_deref())?;
    let server = match &args.url {
        Some(_) => None,
        None => Some(start_server(&global)?),
    };
    let base = args.url.clone().or_else(|| server.as_ref().map(|s| s.url.clone())).unwrap_or_default();
    let base = base.trim_end_matches('/').to_owned();
    let pid = server.as_ref().map(|s| s.child.id()).or(args.server_pid);
    eprintln!("bench: {base}, preparing (signing in, finding patients)");
    // Enough prescriptions written ahead for the run's dispensing (a few hundred a second
    // at most on this kind of machine); beyond them the operation writes its own.
    let write_ahead = if mix.iter().any(|(op, _)| *op == "dispense") {
        usize::try_from(400 * (args.duration + args.warmup))
            .unwrap_or(usize::MAX)
            .min(pharmacy::MOST_WRITTEN_AHEAD)
    } else {
        0
    };
    let world = Arc::new(World::prepare(&base, &args.password, args.doctors, args.seed, write_ahead).await?);
    eprintln!(
        "bench: {} patients to pick from, {} arrivals today; ceiling for {} s",
        world.patients.len(),
        world.arrivals.lock().await.len(),
        args.ceiling_secs
    );
    let (ceiling, _) = ceiling(&base, args.concurrency, args.ceiling_secs).await?;
    let cpu_before = pid.and_then(process_stats);
    let started = Instant::now();
    let measure_from = started + Duration::from_secs(args.warmup);
    let end = measure_from + Duration::from_secs(args.duration.max(1));
    eprintln!("bench: running the mix for {} s (+{} s warm-up)", args.duration, args.warmup);
    let tallies = run_mix(world.clone(), &args, mix.clone(), measure_from, end).await;
    let measured = end.saturating_duration_since(measure_from).as_secs_f64().max(0.001);
    let wall = started.elapsed().as_secs_f64();
    let cpu_after = pid.and_then(process_stats);
    let server_stats = match (cpu_before, cpu_after) {
        (Some((before, _)), Some((after, peak))) => Some(ServerStats {
            pid: pid.unwrap_or(0),
            cpu_seconds: after - before,
            cpu_cores_used: (after - before) / wall.max(0.001),
            peak_rss_bytes: peak,
        }),
        _ => None,
    };
    let t = tallies.lock().await;
    let mut ops: Vec<OpReport> = mix
        .iter()
        .map(|(op, _)| match t.get(op) {
            Some(tally) => OpReport::from_tally(op, tally, measured),
            None => OpReport::empty(op),
        })
        .collect();
    if let Some(k) = t.get("keystroke") {
        ops.insert(1.min(ops.len()), OpReport::from_tally("search keystroke", k, measured));
    }
    let report = Report::new(&args, &mix, &base, ceiling, ops, server_stats, measured);
    drop(server);
    println!("{}", report.markdown());
    if let Some(out) = &args.out {
        std::fs::write(out.with_extension("json"), serde_json::to_string_pretty(&report.json())?)
            .with_context(|| format!("cannot write {}", out.display()))?;
        std::fs::write(out.with_extension("md"), report.markdown())?;
        eprintln!("bench: wrote {0}.json and {0}.md", out.with_extension("").display());
    }
    Ok(if report.errors() == 0 { ExitCode::SUCCESS } else { ExitCode::from(3) })
}

#[cfg(test)]
mod tests {
    use super::{narrow, parse_mix};

    #[test]
    fn only_narrows_the_mix_keeping_weights() {
        let mix = parse_mix("search=35,chart=25,note=15").unwrap();
        assert_eq!(narrow(mix.clone(), None).unwrap(), mix);
        assert_eq!(narrow(mix.clone(), Some("note,search")).unwrap(), [("note", 15), ("search", 35)]);
        assert_eq!(narrow(mix.clone(), Some("read")).unwrap(), [("read", 1)], "not in the mix: weight 1");
        assert!(narrow(mix, Some("nothing")).is_err());
        assert!(parse_mix("search=x").is_err());
    }
}
