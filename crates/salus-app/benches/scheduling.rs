//! Scheduling under load, in process: free-slot queries for one doctor and for a
//! department at 500 doctors × 90 days (20 % of slots already booked), booking throughput
//! and latency when many clients race for few slots and when they spread over many, and
//! the job queue's throughput. It builds its own database each run.
//!
//!   cargo bench -p salus-app --bench scheduling                      (SQLite, a temp file)
//!   SALUS_BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p salus-app --bench scheduling                    (a fresh PostgreSQL database)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{Datelike, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use salus_app::identity::{Actor, ClientInfo, CurrentUser};
use salus_app::organisation::{DepartmentInput, FacilityInput};
use salus_app::scheduling::{BookInput, local_now};
use salus_app::{App, AppError, Ctx, SessionSettings};
use salus_core::{DepartmentId, PatientId, Role, UserId, Username};
use salus_db::entity::{appointment, schedule_template, user};
use salus_db::{ConnectionTrait, Db, PoolSettings};
use sea_orm::Statement;
use uuid::Uuid;

const DOCTORS: usize = 500;
const DEPARTMENTS: usize = 10;
const DAYS: i64 = 90;

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn report(label: &str, mut times: Vec<Duration>, extra: &str) {
    times.sort();
    println!(
        "  {label:<34} n={:<6} p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms  {extra}",
        times.len(),
        pct(&times, 0.5),
        pct(&times, 0.99),
        pct(&times, 1.0)
    );
}

fn desk() -> Ctx {
    let user = CurrentUser {
        id: UserId::new(),
        username: Username::parse("bench.desk").unwrap(),
        display_name: "Bench".into(),
        roles: vec![Role::Receptionist],
        gate: None,
        scope: None,
        two_factor_enabled: true,
        patient_id: None,
        smart: None,
    };
    Ctx::new(Actor::User(user), ClientInfo { ip: Some("127.0.0.1".into()), ..Default::default() })
}

async fn open() -> (Db, Option<tempfile_dir::Dir>, Option<(String, String)>) {
    let settings = PoolSettings { max_connections: 16, ..Default::default() };
    match std::env::var("SALUS_BENCH_POSTGRES") {
        Ok(admin) => {
            let name = format!("salus_bench_sched_{}", std::process::id());
            let server = Db::connect(&admin, &settings).await.unwrap();
            let b = server.reader().get_database_backend();
            server
                .reader()
                .execute_raw(Statement::from_string(b, format!("CREATE DATABASE {name}")))
                .await
                .unwrap();
            let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
            (Db::connect(&url, &settings).await.unwrap(), None, Some((admin, name)))
        }
        Err(_) => {
            let dir = tempfile_dir::Dir::new();
            let db = Db::open_sqlite_file(&dir.path.join("bench.db"), &settings).await.unwrap();
            (db, Some(dir), None)
        }
    }
}

/// A temporary folder without another dependency.
mod tempfile_dir {
    pub struct Dir {
        pub path: std::path::PathBuf,
    }
    impl Dir {
        pub fn new() -> Dir {
            let path = std::env::temp_dir().join(format!("salus-bench-{}", std::process::id()));
            std::fs::create_dir_all(&path).unwrap();
            Dir { path }
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let (db, _dir, drop_after) = open().await;
    db.migrate().await.unwrap();
    let app = App::new(db.clone(), SessionSettings::default());
    let op = Ctx::operator();
    let backend = db.reader().get_database_backend();
    println!(
        "scheduling bench on {backend:?}, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // The hospital: departments, 500 doctors with Monday-to-Saturday morning clinics of
    // 16 fifteen-minute slots, 2,000 patients.
    let started = Instant::now();
    let f = app
        .organisation()
        .create_facility(
            &op,
            FacilityInput { code: "B".into(), name: "Bench".into(), active: true, ..Default::default() },
        )
        .await
        .unwrap();
    let mut departments = Vec::new();
    for i in 0..DEPARTMENTS {
        let input = DepartmentInput {
            facility_id: f.id,
            code: format!("D{i}"),
            name: format!("Dept {i}"),
            active: true,
        };
        departments.push(app.organisation().create_department(&op, input).await.unwrap().id);
    }
    let (today, _) = local_now(app.time_zone);
    let now = Utc::now();
    let mut doctors = Vec::new();
    let mut templates = Vec::new();
    let txn = db.begin_write().await.unwrap();
    for i in 0..DOCTORS {
        let id = Uuid::now_v7();
        let row = user::Model {
            id,
            username: format!("bench.doc{i}"),
            display_name: format!("Dr Bench {i}"),
            password_hash: "x".into(),
            active: true,
            must_change_password: false,
            totp_secret: None,
            totp_enabled_at: None,
            totp_last_step: None,
            two_factor_required: false,
            patient_id: None,
            created_at: now,
            updated_at: now,
        };
        salus_db::identity::insert_user(&txn, row, &["doctor".into()]).await.unwrap();
        let dept = departments[i % DEPARTMENTS];
        for weekday in 1..=6 {
            templates.push(schedule_template::Model {
                id: Uuid::now_v7(),
                doctor_id: id,
                department_id: dept.as_uuid(),
                weekday,
                start_time: "09:00".into(),
                end_time: "13:00".into(),
                slot_minutes: 15,
                capacity: 1,
                overbook: 0,
                valid_from: today,
                valid_until: None,
                active: true,
                version: 1,
                created_at: now,
                updated_at: now,
            });
        }
        doctors.push((UserId::from_uuid(id), dept));
    }
    salus_db::scheduling::insert_templates(&txn, templates).await.unwrap();
    txn.commit().await.unwrap();
    app.patients().generate_patients(&op, 2000, 5, 0, |_| {}).await.unwrap();
    let patients: Vec<Uuid> = salus_db::patients::first_patient_ids(db.reader(), 2000).await.unwrap();

    // A fifth of the next 90 days' slots booked (from tomorrow on).
    let mut rng = StdRng::seed_from_u64(11);
    let mut rows = Vec::new();
    for (doctor, dept) in &doctors {
        for d in 1..=DAYS {
            let date = today + chrono::Duration::days(d);
            if date.weekday().number_from_monday() == 7 {
                continue;
            }
            for s in 0..16 {
                if rng.random_range(0..5) != 0 {
                    continue;
                }
                let minutes = 9 * 60 + s * 15;
                let time = format!("{:02}:{:02}", minutes / 60, minutes % 60);
                rows.push(appointment::Model {
                    id: Uuid::now_v7(),
                    patient_id: patients[rng.random_range(0..patients.len())],
                    doctor_id: doctor.as_uuid(),
                    department_id: Some(dept.as_uuid()),
                    slot_date: date,
                    slot_time: Some(time),
                    starts_at: now,
                    duration_minutes: 15,
                    seat: Some(1),
                    kind: "booked".into(),
                    status: salus_core::scheduling::AppointmentStatus::Booked,
                    reason: None,
                    token: None,
                    cancel_reason: None,
                    rescheduled_to: None,
                    created_by: None,
                    created_at: now,
                    updated_at: now,
                    checked_in_at: None,
                    started_at: None,
                    finished_at: None,
                    version: 1,
                });
            }
        }
    }
    let booked = rows.len();
    let txn = db.begin_write().await.unwrap();
    salus_db::scheduling::insert_appointments(&txn, rows).await.unwrap();
    txn.commit().await.unwrap();
    println!(
        "  set up: {DOCTORS} doctors, {DEPARTMENTS} departments, 2,000 patients, {booked} appointments in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let ctx = desk();
    println!("free slots (from today):");
    for (label, days) in [("one doctor, 7 days", 7_u32), ("one doctor, 90 days", 90)] {
        let mut times = Vec::new();
        let mut found = 0;
        for i in 0..100 {
            let (doctor, _) = doctors[(i * 37) % DOCTORS];
            let t = Instant::now();
            found = app.scheduling().free_slots(&ctx, &[doctor], None, today, days).await.unwrap().len();
            times.push(t.elapsed());
        }
        report(label, times, &format!("{found} free slots in the last answer"));
    }
    for (label, days) in [
        ("department of 50 doctors, 1 day", 1_u32),
        ("department of 50 doctors, 7 days", 7),
        ("department of 50 doctors, 90 days", 90),
    ] {
        let mut times = Vec::new();
        let mut found = 0;
        for i in 0..20 {
            let dept: DepartmentId = departments[i % DEPARTMENTS];
            let t = Instant::now();
            found = app.scheduling().free_slots(&ctx, &[], Some(dept), today, days).await.unwrap().len();
            times.push(t.elapsed());
        }
        report(label, times, &format!("{found} free slots in the last answer"));
    }

    println!("booking (each a transaction with its audit event, timeline entry and outbox rows):");
    for (label, clients, slots) in
        [("64 clients racing for 8 slots", 64_usize, 8_usize), ("16 clients over 2,000 slots", 16, 2000)]
    {
        let day = (1..30)
            .map(|d| today + chrono::Duration::days(d))
            .find(|d| d.weekday().number_from_monday() <= 6)
            .unwrap();
        let mut targets = Vec::new();
        for i in 0..slots {
            let (doctor, _) = doctors[i % DOCTORS];
            let s = (i / DOCTORS) % 16;
            let minutes = 9 * 60 + s * 15;
            targets.push((
                doctor,
                day + chrono::Duration::days(((i / (DOCTORS * 16)) as i64) * 7),
                format!("{:02}:{:02}", minutes / 60, minutes % 60),
            ));
        }
        let targets = Arc::new(targets);
        let won = Arc::new(AtomicU64::new(0));
        let lost = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (app, ctx, targets, won, lost, patients) =
                (app.clone(), desk(), targets.clone(), won.clone(), lost.clone(), patients.clone());
            tasks.push(tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(c as u64);
                let mut times = Vec::new();
                for _ in 0..(slots * 2 / clients).max(4) {
                    let (doctor, date, time) = targets[rng.random_range(0..targets.len())].clone();
                    let input = BookInput {
                        patient_id: PatientId::from_uuid(patients[rng.random_range(0..patients.len())]),
                        doctor_id: doctor,
                        date,
                        time,
                        reason: String::new(),
                        overbook: false,
                    };
                    let t = Instant::now();
                    match app.scheduling().book(&ctx, input).await {
                        Ok(_) => {
                            won.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(AppError::SlotTaken { .. }) => {
                            lost.fetch_add(1, Ordering::Relaxed);
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
        let (w, l) = (won.load(Ordering::Relaxed), lost.load(Ordering::Relaxed));
        report(label, times, &format!("{w} booked, {l} told taken, {:.0} requests/s", (w + l) as f64 / secs));
    }
    let doubles = db
        .reader()
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM (SELECT doctor_id, slot_date, slot_time FROM appointments WHERE seat IS NOT NULL GROUP BY doctor_id, slot_date, slot_time HAVING COUNT(*) > 1) x",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    println!("  slots holding more than their capacity: {doubles}");

    println!("jobs:");
    let n = 10_000;
    let txn = db.begin_write().await.unwrap();
    let mut jobs = Vec::new();
    for i in 0..n {
        jobs.push(salus_app::jobs::new_job("noop", serde_json::json!({ "n": i }), Utc::now()));
    }
    for j in jobs {
        salus_db::jobs::enqueue(&txn, j).await.unwrap();
    }
    txn.commit().await.unwrap();
    // The outbox rows the bookings wrote are due too; count them in.
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..4 {
        let app = app.clone();
        workers.push(tokio::spawn(async move {
            let mut done = 0;
            loop {
                let pass = app.jobs().run_due_jobs(&format!("bench{w}"), 20).await.unwrap();
                if pass.claimed == 0 {
                    return done;
                }
                done += pass.done + pass.retried + pass.dead;
            }
        }));
    }
    let mut done = 0;
    for w in workers {
        done += w.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    println!("  4 workers drained {done} jobs in {secs:.1} s: {:.0} jobs/s", done as f64 / secs);

    if let Some((admin, name)) = drop_after {
        drop(db);
        let server = Db::connect(&admin, &PoolSettings::default()).await.unwrap();
        let b = server.reader().get_database_backend();
        server
            .reader()
            .execute_raw(Statement::from_string(b, format!("DROP DATABASE {name} WITH (FORCE)")))
            .await
            .unwrap();
    }
}
