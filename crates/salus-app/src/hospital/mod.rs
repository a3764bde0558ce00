//! A whole hospital of a chosen size, made deterministically for benchmarks and load
//! tests (`salus generate`): departments, doctors and the desk with a known password,
//! doctors' weekly sessions and the next days' appointments, patients (through
//! `generate_patients`, so the search index is a real one), and each patient's history of
//! visits — encounter, vital signs, a signed note, a diagnosis, prescriptions — with the
//! timeline entries the use cases would have written. Rows are built in Rust and written in
//! bulk, a thousand patients' worth to a transaction, each leaving one audit event.

use std::time::Instant;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use salus_core::scheduling::WallTime;
use salus_core::{DepartmentId, Role};
use salus_db::entity::{appointment, schedule_template, user};
use salus_db::insert_all;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::organisation::{DepartmentInput, FacilityInput};
use crate::scheduling::{local_now, to_utc};
use crate::{App, AppError, Ctx};

/// What to make.
#[derive(Debug, Clone)]
pub struct HospitalSpec {
    pub patients: u64,
    pub seed: u64,
    pub doctors: usize,
    pub departments: usize,
    /// Days of appointments ahead (a fifth of the slots booked; today's half).
    pub schedule_days: i64,
    /// Visits per patient on average (0 to twice this, uniformly).
    pub visits_per_patient: u32,
    /// Encounters of the first patient (the chart benchmark's busy patient).
    pub busy_encounters: u64,
    /// Laboratory orders per patient: 0 to this many, uniformly (about seven results
    /// each; 3 makes some ten million results at a million patients).
    pub lab_orders: u32,
    /// Stock items to hold (the catalog's, topped up with generated consumables), each with
    /// `stock_batches` batches in every one of five stores; two ledger rows a balance.
    pub stock_items: u64,
    pub stock_batches: u32,
    /// Posted bills over the last year (with their receipts and journal).
    pub invoices: u64,
    /// The password of every generated account (`bench.desk`, `bench.doctor001`, …).
    pub password: String,
}

impl HospitalSpec {
    /// The reference sizes: `1k`, `100k`, `1m` patients with 200 doctors, 90 days of
    /// schedules, three visits each on average and a busy patient of 10,000 encounters.
    /// The stores grow with the hospital: 200 items × 5 batches at 1k patients, 2,000 × 20
    /// at 100k, 5,000 × 20 (500,000 balances, a million ledger rows) at 1m.
    pub fn sized(size: &str) -> Option<Self> {
        let (patients, stock_items, stock_batches, invoices) = match size {
            "1k" => (1_000, 200, 5, 10_000),
            "100k" => (100_000, 2_000, 20, 100_000),
            "1m" => (1_000_000, 5_000, 20, 1_000_000),
            _ => return None,
        };
        Some(Self { patients, stock_items, stock_batches, invoices, ..Self::default() })
    }
}

impl Default for HospitalSpec {
    fn default() -> Self {
        Self {
            patients: 1_000,
            seed: 1,
            doctors: 200,
            departments: 10,
            schedule_days: 90,
            visits_per_patient: 3,
            busy_encounters: 10_000,
            lab_orders: 3,
            stock_items: 200,
            stock_batches: 5,
            invoices: 10_000,
            password: "salus-bench-password".into(),
        }
    }
}

/// What was made, and how fast.
#[derive(Debug, Clone, Default)]
pub struct HospitalReport {
    /// Rows per table, in the order written.
    pub tables: Vec<(&'static str, u64)>,
    pub seconds: f64,
    pub busy_patient: Option<Uuid>,
    pub first_mrn: String,
    pub last_mrn: String,
}

impl HospitalReport {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }

    fn add(&mut self, table: &'static str, n: u64) {
        match self.tables.iter_mut().find(|(t, _)| *t == table) {
            Some((_, total)) => *total += n,
            None => self.tables.push((table, n)),
        }
    }
}

mod billing;
mod lab;
mod stock;
mod visits;
mod wards;

/// The generated pharmacists: `bench.pharm01` to `bench.pharm16`.
pub const PHARMACISTS: u32 = 16;

use lab::{LabHistory, LabRows};
use visits::{Visits, pick};

const BATCH: usize = 1000;

/// One account row with the shared password hash.
fn account(username: String, display_name: String, hash: &str, now: chrono::DateTime<Utc>) -> user::Model {
    user::Model {
        id: Uuid::now_v7(),
        username,
        display_name,
        password_hash: hash.to_owned(),
        active: true,
        must_change_password: false,
        totp_secret: None,
        totp_enabled_at: None,
        totp_last_step: None,
        two_factor_required: false,
        patient_id: None,
        created_at: now,
        updated_at: now,
    }
}

impl App {
    /// Makes the hospital `spec` describes; `progress` hears what is done. Staff and
    /// schedules are made once: a second run adds patients and history to the same doctors.
    pub async fn generate_hospital(
        &self,
        ctx: &Ctx,
        spec: &HospitalSpec,
        progress: impl Fn(&str),
    ) -> Result<HospitalReport, AppError> {
        self.authorize(ctx, Permission::OrganisationManage).await?;
        let started = Instant::now();
        let mut report = HospitalReport::default();
        let mut rng = StdRng::seed_from_u64(spec.seed ^ 0x5a15);
        let now = Utc::now();
        let (today, _) = local_now(self.time_zone);

        let doctors = self.generated_staff(ctx, spec, today, &mut report).await?;
        progress(&format!("staff: {} doctors, {} departments", doctors.len(), spec.departments));
        if let Some((by, _)) = doctors.first() {
            self.generate_stock(spec.stock_items, spec.stock_batches, *by, &mut rng, &mut report, &progress)
                .await?;
        }

        let patients = self
            .patients()
            .generate_patients(ctx, spec.patients, spec.seed, 0, |done| {
                if done % 100_000 == 0 {
                    progress(&format!("patients: {done}"));
                }
            })
            .await?;
        report.add("patients", patients.patients);
        report.first_mrn = patients.first_mrn.clone();
        report.last_mrn = patients.last_mrn.clone();
        let ids = patients.ids;

        // Appointments: half of today's slots, a fifth of the next days'.
        let mut rows = Vec::new();
        for (doctor, department) in &doctors {
            for d in 0..=spec.schedule_days {
                let date = today + Duration::days(d);
                for s in 0..48u16 {
                    if ids.is_empty() || rng.random_range(0..10) >= if d == 0 { 5 } else { 2 } {
                        continue;
                    }
                    let minutes = 8 * 60 + s * 15;
                    rows.push(appointment::Model {
                        id: Uuid::now_v7(),
                        patient_id: *pick(&mut rng, &ids),
                        doctor_id: *doctor,
                        department_id: Some(department.as_uuid()),
                        slot_date: date,
                        slot_time: Some(format!("{:02}:{:02}", minutes / 60, minutes % 60)),
                        starts_at: WallTime::from_minutes(minutes)
                            .map_or(now, |time| to_utc(self.time_zone, date, time)),
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
        let txn = self.db.begin_write().await?;
        report.add("appointments", insert_all::<appointment::Entity, _>(&txn, rows).await?);
        txn.commit().await?;
        progress("appointments");

        // Each patient's visits over the last three years, a thousand patients at a time.
        let medicines = salus_db::clinical::medicines(self.db.reader(), None, false, 500).await?;
        let span_minutes = 3 * 365 * 24 * 60;
        let mut lab = if spec.lab_orders > 0 { LabHistory::load(self.db.reader()).await? } else { None };
        for (b, chunk) in ids.chunks(BATCH).enumerate() {
            let mut visits = Visits::default();
            for patient in chunk {
                for _ in 0..rng.random_range(0..=2 * spec.visits_per_patient) {
                    let at = now - Duration::minutes(rng.random_range(60..span_minutes));
                    let recent = now - at < Duration::days(90);
                    let doctor = *pick(&mut rng, &doctors);
                    visits.add(&mut rng, *patient, doctor, at, &medicines, recent, true);
                }
            }
            let mut lab_rows = LabRows::default();
            if let Some(lab) = lab.as_mut() {
                // In the chunk's order, whatever order the database returns them in, so the
                // same seed makes the same hospital on SQLite and PostgreSQL.
                let rows = salus_db::patients::find_patients(self.db.reader(), chunk).await?;
                let by_id: std::collections::HashMap<Uuid, _> = rows.into_iter().map(|p| (p.id, p)).collect();
                for p in chunk.iter().filter_map(|id| by_id.get(id)) {
                    for _ in 0..rng.random_range(0..=spec.lab_orders) {
                        let at = now - Duration::minutes(rng.random_range(30..span_minutes));
                        let doctor = pick(&mut rng, &doctors).0;
                        lab.add(&mut rng, p, doctor, at, &mut lab_rows);
                    }
                }
            }
            let count = visits.len();
            let txn = self.db.begin_write().await?;
            visits.write(&txn, &mut report).await?;
            if !lab_rows.is_empty() {
                lab_rows.write(&txn, &mut report).await?;
            }
            let event = Event::new("hospital.generate", "encounter", None)
                .detail(json!({ "patients": chunk.len(), "encounters": count, "seed": spec.seed }));
            audit::record(&txn, ctx, event).await?;
            txn.commit().await?;
            if (b + 1) % 100 == 0 {
                progress(&format!("history: {} patients", (b + 1) * BATCH));
            }
        }

        // The busy patient: visits every few days for decades.
        if let (Some(busy), true) = (ids.first(), spec.busy_encounters > 0) {
            report.busy_patient = Some(*busy);
            let mut visits = Visits::default();
            for n in 0..spec.busy_encounters {
                let at = now - Duration::hours(i64::try_from(spec.busy_encounters - n).unwrap_or(0) * 30);
                let full = n % 10 == 0;
                let doctor = *pick(&mut rng, &doctors);
                visits.add(&mut rng, *busy, doctor, at, &medicines, false, full);
                if visits.len() == BATCH || n + 1 == spec.busy_encounters {
                    let txn = self.db.begin_write().await?;
                    visits.write(&txn, &mut report).await?;
                    txn.commit().await?;
                }
            }
            progress("busy patient");
        }
        let doctor_ids: Vec<Uuid> = doctors.iter().map(|(d, _)| *d).collect();
        let in_beds: Vec<Uuid> = ids.iter().skip(1).copied().collect();
        self.generate_wards(&in_beds, &doctor_ids, &mut rng, &mut report).await?;
        progress("wards: 500 beds in 15 wards, four in five taken");
        let hash = crate::identity::password::hash(spec.password.clone()).await?;
        self.generate_billing(&ids, spec.invoices, &hash, &mut rng, &mut report, &progress).await?;
        progress("bills: a year of them, and charges waiting");
        salus_db::patients::analyze(self.db.writer()).await?;
        salus_db::laboratory::analyze(self.db.writer()).await?;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }

    /// The departments, the accounts (`bench.admin`, `bench.desk`, `bench.nurse`,
    /// `bench.lab1`, `bench.lab2`,
    /// `bench.doctorNNN`) and the doctors' weekly sessions (every day, 08:00 to 20:00 in
    /// 15-minute slots); found rather than made when an earlier run made them.
    async fn generated_staff(
        &self,
        ctx: &Ctx,
        spec: &HospitalSpec,
        today: NaiveDate,
        report: &mut HospitalReport,
    ) -> Result<Vec<(Uuid, DepartmentId)>, AppError> {
        let names: Vec<String> = (1..=spec.doctors).map(|i| format!("bench.doctor{i:03}")).collect();
        let existing = salus_db::identity::usernames_present(
            self.db.reader(),
            &names.iter().map(String::as_str).collect::<Vec<_>>(),
        )
        .await?;
        if !existing.is_empty() {
            let mut ids = Vec::new();
            for name in &names {
                if let Some(u) = salus_db::identity::find_user_by_username(self.db.reader(), name).await? {
                    ids.push(u.user.id);
                }
            }
            let templates = salus_db::scheduling::templates(self.db.reader(), Some(&ids)).await?;
            let found: Vec<(Uuid, DepartmentId)> = ids
                .iter()
                .filter_map(|id| templates.iter().find(|t| t.doctor_id == *id))
                .map(|t| (t.doctor_id, DepartmentId::from_uuid(t.department_id)))
                .collect();
            if found.is_empty() {
                return Err(AppError::Conflict(
                    "the generated doctors have no sessions; use an empty database".into(),
                ));
            }
            return Ok(found);
        }
        let facility = self
            .organisation()
            .create_facility(
                ctx,
                FacilityInput {
                    code: "GEN".into(),
                    name: "Generated General Hospital".into(),
                    address: "1 Benchmark Road".into(),
                    active: true,
                    ..Default::default()
                },
            )
            .await?;
        let mut departments = Vec::new();
        for (i, name) in [
            "General Medicine",
            "Paediatrics",
            "Surgery",
            "Obstetrics",
            "Orthopaedics",
            "Cardiology",
            "ENT",
            "Dermatology",
            "Psychiatry",
            "Emergency",
        ]
        .iter()
        .cycle()
        .take(spec.departments.max(1))
        .enumerate()
        {
            let input = DepartmentInput {
                facility_id: facility.id,
                code: format!("G{i:02}"),
                name: if i < 10 { (*name).to_owned() } else { format!("{name} {}", i / 10 + 1) },
                active: true,
            };
            departments.push(self.organisation().create_department(ctx, input).await?.id);
        }
        let hash = crate::identity::password::hash(spec.password.clone()).await?;
        let now = Utc::now();
        let txn = self.db.begin_write().await?;
        for (username, name, role) in [
            ("bench.admin", "Bench Administrator", Role::Admin),
            ("bench.desk", "Bench Reception", Role::Receptionist),
            ("bench.nurse", "Bench Nurse", Role::Nurse),
            // Two technicians: one enters, the other verifies.
            ("bench.lab1", "Bench Technician 1", Role::LabTechnician),
            ("bench.lab2", "Bench Technician 2", Role::LabTechnician),
        ] {
            salus_db::identity::insert_user(
                &txn,
                account(username.into(), name.into(), &hash, now),
                &[role.as_str().into()],
            )
            .await?;
        }
        // Sixteen pharmacists, for the dispensing benchmark's sixteen at once.
        for n in 1..=PHARMACISTS {
            let row = account(format!("bench.pharm{n:02}"), format!("Bench Pharmacist {n:02}"), &hash, now);
            salus_db::identity::insert_user(&txn, row, &[Role::Pharmacist.as_str().into()]).await?;
        }
        let mut doctors = Vec::new();
        let mut templates = Vec::new();
        for (i, username) in names.into_iter().enumerate() {
            let row = account(username, format!("Dr Bench {:03}", i + 1), &hash, now);
            let (id, department) = (row.id, departments[i % departments.len()]);
            salus_db::identity::insert_user(&txn, row, &[Role::Doctor.as_str().into()]).await?;
            for weekday in 1..=7 {
                templates.push(schedule_template::Model {
                    id: Uuid::now_v7(),
                    doctor_id: id,
                    department_id: department.as_uuid(),
                    weekday,
                    start_time: "08:00".into(),
                    end_time: "20:00".into(),
                    slot_minutes: 15,
                    capacity: 1,
                    overbook: 0,
                    valid_from: today - Duration::days(i64::from(today.weekday().num_days_from_monday())),
                    valid_until: None,
                    active: true,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                });
            }
            doctors.push((id, department));
        }
        report.add("users", 5 + u64::from(PHARMACISTS) + doctors.len() as u64);
        report.add("schedule_templates", templates.len() as u64);
        salus_db::scheduling::insert_templates(&txn, templates).await?;
        txn.commit().await?;
        Ok(doctors)
    }
}
