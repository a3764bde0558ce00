//! The clinical record under load, in process: opening the chart (the clinical summary a
//! page shows: first page of encounters, problem list, allergies, latest vitals,
//! prescriptions) for a patient with 10,000 encounters, and note save + sign throughput.
//!
//!   cargo bench -p salus-app --bench clinical                          (fresh SQLite, 2,000 patients)
//!   SALUS_BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p salus-app --bench clinical
//!   SALUS_BENCH_DATABASE=salus-data/salus.db cargo bench -p salus-app --bench clinical
//!       (a database filled by `salus generate --patients 1000000`: the busy patient's
//!        10,000 encounters are added to it)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use salus_core::clinical::ClinicalStatus;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use salus_app::clinical::Soap;
use salus_app::identity::{Actor, ClientInfo, CurrentUser};
use salus_app::{App, Ctx, SessionSettings};
use salus_core::{EncounterId, NoteId, PatientId, Role, UserId, Username};
use salus_db::entity::{diagnosis, encounter, user, vital};
use salus_db::{ConnectionTrait, Db, PoolSettings};
use sea_orm::Statement;
use uuid::Uuid;

const ENCOUNTERS: usize = 10_000;

fn report(label: &str, mut times: Vec<Duration>, extra: &str) {
    times.sort();
    let p = |f: f64| times[((times.len() as f64 - 1.0) * f).round() as usize].as_secs_f64() * 1000.0;
    println!(
        "  {label:<40} n={:<5} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  {extra}",
        times.len(),
        p(0.5),
        p(0.99),
        p(1.0)
    );
}

fn doctor(id: UserId) -> Ctx {
    let user = CurrentUser {
        id,
        username: Username::parse("bench.doctor").unwrap(),
        display_name: "Dr Bench".into(),
        roles: vec![Role::Doctor],
        gate: None,
        scope: None,
        two_factor_enabled: true,
        patient_id: None,
        smart: None,
    };
    Ctx::new(Actor::User(user), ClientInfo::default())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let settings = PoolSettings { max_connections: 16, ..Default::default() };
    let mut cleanup = None;
    let db = if let Ok(target) = std::env::var("SALUS_BENCH_DATABASE") {
        if target.starts_with("postgres") {
            Db::connect(&target, &settings).await.unwrap()
        } else {
            Db::open_sqlite_file(std::path::Path::new(&target), &settings).await.unwrap()
        }
    } else if let Ok(admin) = std::env::var("SALUS_BENCH_POSTGRES") {
        let name = format!("salus_bench_clin_{}", std::process::id());
        let server = Db::connect(&admin, &settings).await.unwrap();
        let b = server.reader().get_database_backend();
        server
            .reader()
            .execute_raw(Statement::from_string(b, format!("CREATE DATABASE {name}")))
            .await
            .unwrap();
        cleanup = Some((admin.clone(), name.clone()));
        Db::connect(&format!("{}/{name}", admin.rsplit_once('/').unwrap().0), &settings).await.unwrap()
    } else {
        let dir = std::env::temp_dir().join(format!("salus-bench-clin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Db::open_sqlite_file(&dir.join("bench.db"), &settings).await.unwrap()
    };
    db.migrate().await.unwrap();
    let app = App::new(db.clone(), SessionSettings::default());
    let op = Ctx::operator();
    if salus_db::patients::count_patients(db.reader()).await.unwrap() < 2000 {
        app.patients().generate_patients(&op, 2000, 9, 0, |_| {}).await.unwrap();
    }
    let patients = salus_db::patients::count_patients(db.reader()).await.unwrap();
    let backend = db.reader().get_database_backend();
    println!(
        "clinical bench on {backend:?}: {patients} patients, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // A doctor, and the busy patient's 10,000 encounters with vitals and a diagnosis each
    // tenth, written in bulk.
    let now = Utc::now();
    let doc_id = Uuid::now_v7();
    let txn = db.begin_write().await.unwrap();
    let row = user::Model {
        id: doc_id,
        username: format!("bench.doctor.{}", &doc_id.simple().to_string()[..8]),
        display_name: "Dr Bench".into(),
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
    txn.commit().await.unwrap();
    let busy = salus_db::patients::first_patient_ids(db.reader(), 1).await.unwrap()[0];
    let started = Instant::now();
    for chunk in 0..(ENCOUNTERS / 500) {
        let txn = db.begin_write().await.unwrap();
        let mut encounters = Vec::new();
        let mut vitals = Vec::new();
        let mut dx = Vec::new();
        for i in 0..500 {
            let n = chunk * 500 + i;
            let at = now - chrono::Duration::days((ENCOUNTERS - n) as i64);
            let id = Uuid::now_v7();
            encounters.push(encounter::Model {
                id,
                patient_id: busy,
                appointment_id: None,
                class: salus_core::clinical::EncounterClass::Outpatient,
                status: salus_core::clinical::EncounterStatus::Finished,
                doctor_id: doc_id,
                department_id: None,
                chief_complaint: Some(format!("Visit {n}")),
                started_at: at,
                ended_at: Some(at),
                error_reason: None,
                created_by: None,
                created_at: at,
                updated_at: at,
                version: 1,
            });
            vitals.push(vital::Model {
                id: Uuid::now_v7(),
                encounter_id: Some(id),
                patient_id: busy,
                recorded_at: at,
                recorded_by: None,
                temperature_dc: Some(368),
                pulse_bpm: Some(70 + (n % 20) as i32),
                systolic: Some(120 + (n % 30) as i32),
                diastolic: Some(80),
                respiratory_rate: None,
                spo2: Some(98),
                weight_g: Some(70_000),
                height_mm: Some(1700),
                bmi_x10: Some(242),
                error_reason: None,
            });
            if n % 10 == 0 {
                dx.push(diagnosis::Model {
                    id: Uuid::now_v7(),
                    patient_id: busy,
                    encounter_id: Some(id),
                    code_system: salus_core::clinical::CodeSystem::Icd10Cm,
                    code: "I10".into(),
                    description: "Essential (primary) hypertension".into(),
                    clinical_status: if n % 20 == 0 {
                        ClinicalStatus::Resolved
                    } else {
                        ClinicalStatus::Active
                    },
                    onset_date: None,
                    recorded_by: None,
                    recorded_at: at,
                    resolved_at: None,
                    error_reason: None,
                    version: 1,
                });
            }
        }
        use sea_orm::{EntityTrait, IntoActiveModel};
        encounter::Entity::insert_many(encounters.into_iter().map(IntoActiveModel::into_active_model))
            .exec(&txn)
            .await
            .unwrap();
        vital::Entity::insert_many(vitals.into_iter().map(IntoActiveModel::into_active_model))
            .exec(&txn)
            .await
            .unwrap();
        diagnosis::Entity::insert_many(dx.into_iter().map(IntoActiveModel::into_active_model))
            .exec(&txn)
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }
    println!(
        "  set up: 10,000 encounters, 10,000 vitals, 1,000 diagnoses for one patient in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let ctx = doctor(UserId::from_uuid(doc_id));
    let patient = PatientId::from_uuid(busy);
    println!("chart open (what the chart page loads of the clinical record, one after another):");
    let mut times = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let encounters = app.clinical().encounters(&ctx, patient, None, 10).await.unwrap();
        let problems = app.clinical().diagnoses(&ctx, patient).await.unwrap();
        let allergies = app.clinical().allergies(&ctx, patient).await.unwrap();
        let vitals = app.clinical().vitals(&ctx, patient, 30).await.unwrap();
        let prescriptions = app.clinical().prescriptions(&ctx, patient).await.unwrap();
        times.push(t.elapsed());
        std::hint::black_box((encounters, problems, allergies, vitals, prescriptions));
    }
    report("patient with 10,000 encounters", times, "(each read audited)");
    let mut times = Vec::new();
    let mut cursor = None;
    for _ in 0..200 {
        let t = Instant::now();
        let page = app.clinical().encounters(&ctx, patient, cursor, 50).await.unwrap();
        times.push(t.elapsed());
        cursor = page.last().map(|e| (e.started_at, e.id));
    }
    report("encounters, paging 50 at a time", times, "(deep pages cost as the first)");

    println!("notes:");
    let enc = app
        .clinical()
        .open_encounter(
            &ctx,
            salus_app::clinical::NewEncounter {
                patient_id: patient,
                appointment_id: None,
                class: "AMB".into(),
                chief_complaint: "Bench".into(),
            },
        )
        .await
        .unwrap();
    let enc = EncounterId::from_uuid(enc.id);
    let app = Arc::new(app);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..8 {
        let (app, ctx) = (app.clone(), ctx.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            for i in 0..50 {
                let soap = Soap {
                    subjective: format!("Client {c} note {i}"),
                    assessment: "Stable".into(),
                    ..Default::default()
                };
                let t = Instant::now();
                let n = app.clinical().start_note(&ctx, enc, None, soap.clone()).await.unwrap();
                let saved = app
                    .clinical()
                    .save_note(
                        &ctx,
                        NoteId::from_uuid(n.id),
                        n.version,
                        Soap { plan: "Review".into(), ..soap },
                    )
                    .await
                    .unwrap();
                app.clinical().sign_note(&ctx, NoteId::from_uuid(n.id), saved.version).await.unwrap();
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
    report(
        "create + save + sign, 8 clients",
        times.clone(),
        &format!("{:.0} notes signed/s", times.len() as f64 / secs),
    );

    if let Some((admin, name)) = cleanup {
        let server = Db::connect(&admin, &PoolSettings::default()).await.unwrap();
        let b = server.reader().get_database_backend();
        server
            .reader()
            .execute_raw(Statement::from_string(b, format!("DROP DATABASE {name} WITH (FORCE)")))
            .await
            .unwrap();
    }
}
