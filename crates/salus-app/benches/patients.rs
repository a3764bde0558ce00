//! The patient index under load, in process (no HTTP): search latency by kind of query
//! (with recall: is the sought patient on the first page?), chart open for the patient
//! with the longest timeline, reads per second with and without the read's audit event,
//! registration throughput, and the database's size.
//!
//!   salus generate --size 1m   (fill a database: its first patient has 10,000 encounters)
//!   SALUS_BENCH_DATABASE=salus-data/salus.db cargo bench -p salus-app --bench patients
//!   SALUS_BENCH_DATABASE=postgres://postgres@127.0.0.1/bench cargo bench -p salus-app --bench patients
//!
//! The registration step adds patients to the database it measures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use salus_app::identity::{Actor, ClientInfo, CurrentUser};
use salus_app::patients::PatientInput;
use salus_app::{App, AppError, Ctx, SessionSettings};
use salus_core::{PatientId, Role, UserId, Username};
use salus_db::{ConnectionTrait, Db, PoolSettings};
use sea_orm::Statement;

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn report(label: &str, mut times: Vec<Duration>, extra: &str) {
    times.sort();
    println!(
        "  {label:<24} n={:<5} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  {extra}",
        times.len(),
        pct(&times, 0.5),
        pct(&times, 0.99),
        pct(&times, 1.0)
    );
}

fn staff() -> Ctx {
    let user = CurrentUser {
        id: UserId::new(),
        username: Username::parse("bench.desk").unwrap(),
        display_name: "Bench".into(),
        roles: vec![Role::Receptionist, Role::Doctor],
        gate: None,
        scope: None,
        two_factor_enabled: true,
        patient_id: None,
        smart: None,
    };
    Ctx::new(Actor::User(user), ClientInfo { ip: Some("127.0.0.1".into()), ..Default::default() })
}

struct Sample {
    id: PatientId,
    given: String,
    family: String,
    mrn: String,
    phone: Option<String>,
    birth: Option<chrono::NaiveDate>,
    national_id: Option<String>,
}

fn typo(word: &str, rng: &mut StdRng) -> String {
    let mut c: Vec<char> = word.chars().collect();
    if c.len() >= 5 {
        let i = rng.random_range(1..c.len() - 2);
        c.swap(i, i + 1);
    }
    c.into_iter().collect()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let Ok(target) = std::env::var("SALUS_BENCH_DATABASE") else {
        println!(
            "patients bench: SKIPPED (set SALUS_BENCH_DATABASE to a database filled by `salus generate`)"
        );
        return;
    };
    let settings = PoolSettings { max_connections: 16, ..Default::default() };
    let db = if target.starts_with("postgres") {
        Db::connect(&target, &settings).await.unwrap()
    } else {
        Db::open_sqlite_file(std::path::Path::new(&target), &settings).await.unwrap()
    };
    db.migrate().await.unwrap();
    let app = App::new(db.clone(), SessionSettings::default());
    let ctx = staff();
    let backend = db.reader().get_database_backend();
    let count = salus_db::patients::count_patients(db.reader()).await.unwrap();
    println!(
        "patients bench on {backend:?}: {count} patients, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // Samples: unrestricted, live patients spread over the table.
    let rows = db
        .reader()
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id FROM patients WHERE restricted = false AND merged_into IS NULL ORDER BY mrn LIMIT 200000",
        ))
        .await
        .unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    let mut samples = Vec::new();
    for _ in 0..300 {
        let r = &rows[rng.random_range(0..rows.len())];
        let id: uuid::Uuid = r.try_get("", "id").unwrap();
        let p = app.patients().patient(&Ctx::operator(), PatientId::from_uuid(id)).await.unwrap();
        samples.push(Sample {
            id: p.id,
            given: p.given_names.clone(),
            family: p.family_name.clone(),
            mrn: p.mrn.clone(),
            phone: p.phone.clone(),
            birth: p.birth_date,
            national_id: p.identifiers.iter().find(|i| i.system == "national_id").map(|i| i.value.clone()),
        });
    }

    println!("search (one query at a time; recall = the sought patient on the first page of 20 —");
    println!("  low for a name alone because the generated names repeat: hundreds share each full name):");
    type Query = fn(&Sample, &mut StdRng) -> Option<String>;
    let kinds: [(&str, Query); 9] = [
        ("full name", |s, _| Some(format!("{} {}", s.given, s.family))),
        ("full name + birth date", |s, _| {
            s.birth.map(|b| format!("{} {} {}", s.given, s.family, b.format("%d/%m/%Y")))
        }),
        ("name, family first", |s, _| Some(format!("{} {}", s.family, s.given))),
        ("name with a typo", |s, r| Some(format!("{} {}", s.given, typo(&s.family, r)))),
        ("family + birth year", |s, _| {
            s.birth.map(|b| format!("{} {}", s.family, chrono::Datelike::year(&b)))
        }),
        ("typing: 3 letters", |s, _| Some(s.family.chars().take(3).collect())),
        ("phone", |s, _| s.phone.as_ref().map(|p| p[p.len() - 10..].to_owned())),
        ("MRN", |s, _| Some(s.mrn.clone())),
        ("national ID", |s, _| s.national_id.clone()),
    ];
    for (label, make) in kinds {
        let mut times = Vec::new();
        let (mut found, mut asked) = (0, 0);
        for s in samples.iter().take(200) {
            let Some(q) = make(s, &mut rng) else { continue };
            if q.trim().is_empty() {
                continue;
            }
            let t = Instant::now();
            let (hits, _) = app.patients().search_patients(&ctx, &q, 0, 20).await.unwrap();
            times.push(t.elapsed());
            asked += 1;
            if hits.iter().any(|h| h.patient.id == s.id) {
                found += 1;
            }
        }
        if !times.is_empty() {
            report(label, times, &format!("recall {:.0}%", 100.0 * found as f64 / asked as f64));
        }
    }

    // Chart open: the patient with the most timeline entries.
    let busy = db
        .reader()
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT patient_id, count(*) AS n FROM patient_timeline GROUP BY patient_id ORDER BY n DESC LIMIT 1",
        ))
        .await
        .unwrap()
        .unwrap();
    let busy_id = PatientId::from_uuid(busy.try_get("", "patient_id").unwrap());
    let n: i64 = busy.try_get("", "n").unwrap();
    let mut times = Vec::new();
    for _ in 0..500 {
        let t = Instant::now();
        app.patients().patient(&ctx, busy_id).await.unwrap();
        app.patients().timeline(&ctx, busy_id, None, 26).await.unwrap();
        times.push(t.elapsed());
    }
    println!("chart open (header + first 25 timeline entries, both audited):");
    report(&format!("{n} entries"), times, "");

    // Reads per second, 32 at a time, with and without the read's audit event.
    println!("patient reads, 32 concurrent tasks for 5 s each:");
    for audited in [false, true] {
        let done = Arc::new(AtomicU64::new(0));
        let stop = Instant::now() + Duration::from_secs(5);
        let ids: Arc<Vec<PatientId>> = Arc::new(samples.iter().map(|s| s.id).collect());
        let mut tasks = Vec::new();
        for k in 0..32usize {
            let (app, ctx, done, ids) = (app.clone(), ctx.clone(), done.clone(), ids.clone());
            tasks.push(tokio::spawn(async move {
                let mut i = k;
                while Instant::now() < stop {
                    let id = ids[i % ids.len()];
                    if audited {
                        app.patients().patient(&ctx, id).await.unwrap();
                    } else {
                        // The same queries, without the audit event.
                        let r = app.db.reader();
                        salus_db::patients::find_patient(r, id.as_uuid()).await.unwrap();
                        salus_db::patients::identifiers_of(r, &[id.as_uuid()]).await.unwrap();
                        salus_db::patients::has_photo(r, id.as_uuid()).await.unwrap();
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                    i += 32;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let n = done.load(Ordering::Relaxed);
        println!(
            "  {:<22} {:>8.0} reads/s",
            if audited { "audited (group commit)" } else { "not audited" },
            n as f64 / 5.0
        );
    }

    // Registration, 8 clerks at once, duplicate check on (a flagged one is confirmed).
    let total = 2000u64;
    let stamp = u64::try_from(chrono::Utc::now().timestamp() % 1000).unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..8u64 {
        let (app, ctx) = (app.clone(), ctx.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            for i in 0..total / 8 {
                let input = PatientInput {
                    given_names: format!("Bench{k}"),
                    family_name: format!("Registrant{stamp}x{i}"),
                    sex: "female".into(),
                    // Different people: different birthdays (and the run's own stamp, so a
                    // second run does not meet the first one's registrants).
                    birth_date: (chrono::NaiveDate::from_ymd_opt(1940, 1, 1).unwrap()
                        + chrono::Duration::days(((k * 1000 + i) * 7 + stamp) as i64 % 30000))
                    .to_string(),
                    phone: format!("+91 90000 {:05}", k * 1000 + i),
                    ..Default::default()
                };
                let t = Instant::now();
                match app.patients().register_patient(&ctx, input.clone(), false).await {
                    Ok(_) => {}
                    Err(AppError::PossibleDuplicates(_)) => {
                        app.patients().register_patient(&ctx, input, true).await.unwrap();
                    }
                    Err(e) => panic!("{e}"),
                }
                times.push(t.elapsed());
            }
            times
        }));
    }
    let mut times = Vec::new();
    for t in tasks {
        times.extend(t.await.unwrap());
    }
    let secs = started.elapsed().as_secs_f64();
    println!("registration, 8 concurrent clerks, duplicate check on:");
    report("register", times, &format!("{:.0} registrations/s", total as f64 / secs));

    let size = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            let r = db
                .reader()
                .query_one_raw(Statement::from_string(
                    backend,
                    "SELECT pg_database_size(current_database()) AS s",
                ))
                .await
                .unwrap()
                .unwrap();
            r.try_get::<i64>("", "s").unwrap() as u64
        }
        _ => ["", "-wal"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{target}{s}")).ok())
            .map(|m| m.len())
            .sum(),
    };
    println!(
        "database size: {:.0} MiB for {} patients ({:.0} MiB per million, audit trail included)",
        size as f64 / 1048576.0,
        count + total,
        size as f64 / 1048576.0 / ((count + total) as f64 / 1e6)
    );
}
