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
use salus_db::entity::{
    appointment, diagnosis, encounter, medicine, note, patient_timeline, prescription, schedule_template,
    user, vital,
};
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
    /// The password of every generated account (`bench.desk`, `bench.doctor001`, …).
    pub password: String,
}

impl HospitalSpec {
    /// The reference sizes: `1k`, `100k`, `1m` patients with 200 doctors, 90 days of
    /// schedules, three visits each on average and a busy patient of 10,000 encounters.
    pub fn sized(size: &str) -> Option<Self> {
        let patients = match size {
            "1k" => 1_000,
            "100k" => 100_000,
            "1m" => 1_000_000,
            _ => return None,
        };
        Some(Self { patients, ..Self::default() })
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

/// A kind of visit: what is said, found and prescribed.
struct Scenario {
    complaint: &'static str,
    subjective: &'static str,
    assessment: &'static str,
    plan: &'static str,
    /// A billable ICD-10-CM code and its title.
    code: &'static str,
    title: &'static str,
    /// Generic names from the medicine catalog.
    medicines: &'static [&'static str],
    chronic: bool,
}

const SCENARIOS: [Scenario; 12] = [
    Scenario {
        complaint: "Headache, high BP at pharmacy",
        subjective: "Occasional headaches, no chest pain.",
        assessment: "Essential hypertension.",
        plan: "Start amlodipine; salt restriction; review in 4 weeks.",
        code: "I10",
        title: "Essential (primary) hypertension",
        medicines: &["Amlodipine"],
        chronic: true,
    },
    Scenario {
        complaint: "Thirst and frequent urination",
        subjective: "Polyuria for two months, weight loss.",
        assessment: "Type 2 diabetes mellitus.",
        plan: "Metformin; diet advice; HbA1c in 3 months.",
        code: "E11.9",
        title: "Type 2 diabetes mellitus without complications",
        medicines: &["Metformin"],
        chronic: true,
    },
    Scenario {
        complaint: "Sore throat and cough",
        subjective: "Three days of sore throat, runny nose.",
        assessment: "Viral upper respiratory infection.",
        plan: "Fluids, paracetamol as needed.",
        code: "J06.9",
        title: "Acute upper respiratory infection, unspecified",
        medicines: &["Paracetamol"],
        chronic: false,
    },
    Scenario {
        complaint: "Loose stools",
        subjective: "Watery diarrhoea since yesterday, no blood.",
        assessment: "Acute gastroenteritis.",
        plan: "Oral rehydration, zinc; return if blood or fever.",
        code: "A09",
        title: "Infectious gastroenteritis and colitis, unspecified",
        medicines: &["Oral rehydration salts", "Zinc sulfate"],
        chronic: false,
    },
    Scenario {
        complaint: "Wheeze at night",
        subjective: "Night cough and wheeze, worse in winter.",
        assessment: "Asthma, uncomplicated.",
        plan: "Salbutamol inhaler; inhaler technique taught.",
        code: "J45.909",
        title: "Unspecified asthma, uncomplicated",
        medicines: &["Salbutamol"],
        chronic: true,
    },
    Scenario {
        complaint: "Burning urination",
        subjective: "Dysuria and frequency for two days.",
        assessment: "Urinary tract infection.",
        plan: "Nitrofurantoin five days; fluids.",
        code: "N39.0",
        title: "Urinary tract infection, site not specified",
        medicines: &["Nitrofurantoin"],
        chronic: false,
    },
    Scenario {
        complaint: "Low back pain",
        subjective: "Back pain after lifting, no leg weakness.",
        assessment: "Low back pain, mechanical.",
        plan: "Ibuprofen, stay active, physiotherapy.",
        code: "M54.50",
        title: "Low back pain, unspecified",
        medicines: &["Ibuprofen"],
        chronic: false,
    },
    Scenario {
        complaint: "Heartburn",
        subjective: "Burning after meals, worse lying down.",
        assessment: "Gastro-oesophageal reflux.",
        plan: "Omeprazole four weeks; avoid late meals.",
        code: "K21.9",
        title: "Gastro-esophageal reflux disease without esophagitis",
        medicines: &["Omeprazole"],
        chronic: false,
    },
    Scenario {
        complaint: "Routine check, cholesterol",
        subjective: "No symptoms; father had a heart attack at 55.",
        assessment: "Hyperlipidaemia.",
        plan: "Atorvastatin; lipids in 3 months.",
        code: "E78.5",
        title: "Hyperlipidemia, unspecified",
        medicines: &["Atorvastatin"],
        chronic: true,
    },
    Scenario {
        complaint: "Fever with chills",
        subjective: "Fever every other day with rigors.",
        assessment: "Malaria, smear positive.",
        plan: "Artemether-lumefantrine three days.",
        code: "B54",
        title: "Unspecified malaria",
        medicines: &["Artemether + lumefantrine", "Paracetamol"],
        chronic: false,
    },
    Scenario {
        complaint: "Tiredness",
        subjective: "Tired and breathless on stairs for months.",
        assessment: "Iron deficiency anaemia.",
        plan: "Ferrous salt with folic acid; Hb in 6 weeks.",
        code: "D50.9",
        title: "Iron deficiency anemia, unspecified",
        medicines: &["Ferrous salt + folic acid"],
        chronic: false,
    },
    Scenario {
        complaint: "Worry and poor sleep",
        subjective: "Worry most days, poor sleep, no self-harm thoughts.",
        assessment: "Anxiety.",
        plan: "Counselling referral; review in 2 weeks.",
        code: "F41.9",
        title: "Anxiety disorder, unspecified",
        medicines: &[],
        chronic: false,
    },
];

const BATCH: usize = 1000;

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

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

fn timeline(
    patient: Uuid,
    at: chrono::DateTime<Utc>,
    kind: &str,
    summary: String,
    actor: Uuid,
) -> patient_timeline::Model {
    patient_timeline::Model {
        id: Uuid::now_v7(),
        patient_id: patient,
        at,
        kind: kind.into(),
        summary,
        actor_id: Some(actor),
    }
}

/// The rows of one visit, added to the batch being built.
#[derive(Default)]
struct Visits {
    encounters: Vec<encounter::Model>,
    vitals: Vec<vital::Model>,
    notes: Vec<note::Model>,
    diagnoses: Vec<diagnosis::Model>,
    prescriptions: Vec<prescription::Model>,
    timeline: Vec<patient_timeline::Model>,
}

impl Visits {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        rng: &mut StdRng,
        patient: Uuid,
        (doctor, department): (Uuid, DepartmentId),
        at: chrono::DateTime<Utc>,
        medicines: &[medicine::Model],
        recent: bool,
        full: bool,
    ) {
        let s = pick(rng, &SCENARIOS);
        let id = Uuid::now_v7();
        let emergency = rng.random_range(0..20) == 0;
        let ended = at + Duration::minutes(rng.random_range(10..40));
        self.encounters.push(encounter::Model {
            id,
            patient_id: patient,
            appointment_id: None,
            class: if emergency { "EMER".into() } else { "AMB".into() },
            status: "finished".into(),
            doctor_id: doctor,
            department_id: Some(department.as_uuid()),
            chief_complaint: Some(s.complaint.into()),
            started_at: at,
            ended_at: Some(ended),
            error_reason: None,
            created_by: Some(doctor),
            created_at: at,
            updated_at: ended,
            version: 2,
        });
        self.timeline.push(timeline(patient, at, "encounter", format!("Visit: {}", s.complaint), doctor));
        let (height_mm, weight_g) = (rng.random_range(1500..1900), rng.random_range(45_000..110_000));
        let bmi = i64::from(weight_g) * 10_000 / (i64::from(height_mm) * i64::from(height_mm) / 1000);
        self.vitals.push(vital::Model {
            id: Uuid::now_v7(),
            encounter_id: Some(id),
            patient_id: patient,
            recorded_at: at,
            recorded_by: Some(doctor),
            temperature_dc: Some(rng.random_range(360..385)),
            pulse_bpm: Some(rng.random_range(58..105)),
            systolic: Some(rng.random_range(105..165)),
            diastolic: Some(rng.random_range(65..100)),
            respiratory_rate: Some(rng.random_range(12..22)),
            spo2: Some(rng.random_range(94..100)),
            weight_g: Some(weight_g),
            height_mm: Some(height_mm),
            bmi_x10: i32::try_from(bmi).ok(),
            error_reason: None,
        });
        if !full {
            return;
        }
        self.notes.push(note::Model {
            id: Uuid::now_v7(),
            encounter_id: id,
            patient_id: patient,
            author_id: doctor,
            status: "signed".into(),
            amends: None,
            amend_reason: None,
            subjective: s.subjective.into(),
            objective: "Alert, well hydrated; vital signs as recorded.".into(),
            assessment: s.assessment.into(),
            plan: s.plan.into(),
            signed_at: Some(ended),
            error_reason: None,
            created_at: at,
            updated_at: ended,
            version: 3,
        });
        self.timeline.push(timeline(patient, ended, "note", "Note signed".into(), doctor));
        self.diagnoses.push(diagnosis::Model {
            id: Uuid::now_v7(),
            patient_id: patient,
            encounter_id: Some(id),
            code: s.code.into(),
            description: s.title.into(),
            clinical_status: if s.chronic || recent { "active".into() } else { "resolved".into() },
            onset_date: Some(at.date_naive()),
            recorded_by: Some(doctor),
            recorded_at: ended,
            resolved_at: (!s.chronic && !recent).then_some(ended + Duration::days(14)),
            error_reason: None,
            version: 1,
        });
        self.timeline.push(timeline(
            patient,
            ended,
            "diagnosis",
            format!("Diagnosis {} {}", s.code, s.title),
            doctor,
        ));
        for generic in s.medicines {
            let Some(m) = medicines.iter().find(|m| m.generic_name == *generic) else { continue };
            let name = crate::clinical::prescriptions::medicine_label(m);
            let (dose, frequency) = ("1", if s.chronic { "once daily" } else { "three times daily" });
            self.timeline.push(timeline(
                patient,
                ended,
                "prescription",
                format!("Prescribed {name} — {dose} {frequency}"),
                doctor,
            ));
            self.prescriptions.push(prescription::Model {
                id: Uuid::now_v7(),
                patient_id: patient,
                encounter_id: Some(id),
                prescriber_id: doctor,
                medicine_id: m.id,
                medicine_name: name,
                dose: dose.into(),
                route: m.route.clone(),
                frequency: frequency.into(),
                duration_days: Some(if s.chronic { 30 } else { 5 }),
                quantity: None,
                instructions: None,
                status: if recent || s.chronic { "active".into() } else { "completed".into() },
                status_reason: None,
                override_reason: None,
                created_at: ended,
                updated_at: ended,
                version: 1,
            });
        }
    }

    fn len(&self) -> usize {
        self.encounters.len()
    }

    /// Writes and empties the batch; counts what it wrote.
    async fn write<C: sea_orm::ConnectionTrait>(
        &mut self,
        txn: &C,
        report: &mut HospitalReport,
    ) -> Result<(), AppError> {
        report.add(
            "encounters",
            insert_all::<encounter::Entity, _>(txn, std::mem::take(&mut self.encounters)).await?,
        );
        report.add("vitals", insert_all::<vital::Entity, _>(txn, std::mem::take(&mut self.vitals)).await?);
        report.add("notes", insert_all::<note::Entity, _>(txn, std::mem::take(&mut self.notes)).await?);
        report.add(
            "diagnoses",
            insert_all::<diagnosis::Entity, _>(txn, std::mem::take(&mut self.diagnoses)).await?,
        );
        report.add(
            "prescriptions",
            insert_all::<prescription::Entity, _>(txn, std::mem::take(&mut self.prescriptions)).await?,
        );
        report.add(
            "patient_timeline",
            insert_all::<patient_timeline::Entity, _>(txn, std::mem::take(&mut self.timeline)).await?,
        );
        Ok(())
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

        let patients = self
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
                        status: "booked".into(),
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
            let count = visits.len();
            let txn = self.db.begin_write().await?;
            visits.write(&txn, &mut report).await?;
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
        salus_db::patients::analyze(self.db.writer()).await?;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }

    /// The departments, the accounts (`bench.admin`, `bench.desk`, `bench.nurse`,
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
            departments.push(self.create_department(ctx, input).await?.id);
        }
        let hash = crate::identity::password::hash(spec.password.clone()).await?;
        let now = Utc::now();
        let txn = self.db.begin_write().await?;
        for (username, name, role) in [
            ("bench.admin", "Bench Administrator", Role::Admin),
            ("bench.desk", "Bench Reception", Role::Receptionist),
            ("bench.nurse", "Bench Nurse", Role::Nurse),
        ] {
            salus_db::identity::insert_user(
                &txn,
                account(username.into(), name.into(), &hash, now),
                &[role.as_str().into()],
            )
            .await?;
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
        report.add("users", 3 + doctors.len() as u64);
        report.add("schedule_templates", templates.len() as u64);
        salus_db::scheduling::insert_templates(&txn, templates).await?;
        txn.commit().await?;
        Ok(doctors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every scenario's code is a billable ICD-10-CM code with that title, so generated
    /// diagnoses are ones a doctor could have entered.
    #[test]
    fn scenario_codes_are_billable() {
        let icd = crate::clinical::icd::IcdCatalog::get();
        for s in &SCENARIOS {
            let code = icd.find(s.code).unwrap_or_else(|| panic!("{} is not a code", s.code));
            assert!(code.billable, "{} is not billable", s.code);
            assert_eq!(code.description, s.title, "{}", s.code);
        }
    }

    /// Every medicine a scenario names is in the seeded catalog.
    #[test]
    fn scenario_medicines_are_in_the_catalog() {
        let catalog = include_str!("../../../data/medicines/essential-medicines.tsv");
        let names: Vec<&str> =
            catalog.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split('\t').next()).collect();
        for s in &SCENARIOS {
            for m in s.medicines {
                assert!(names.contains(m), "{m} is not in the catalog");
            }
        }
    }
}
