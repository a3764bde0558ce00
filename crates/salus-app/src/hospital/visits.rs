//! One visit's rows — encounter, vital signs, signed note, diagnosis, prescriptions and
//! their timeline entries — from a dozen common outpatient scenarios, batched for writing.

use chrono::{Duration, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use salus_core::DepartmentId;
use salus_core::clinical::{ClinicalStatus, EncounterClass, EncounterStatus, NoteStatus, PrescriptionStatus};
use salus_db::entity::{diagnosis, encounter, medicine, note, patient_timeline, prescription, vital};
use salus_db::insert_all;
use uuid::Uuid;

use super::HospitalReport;
use crate::AppError;

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

pub(super) fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
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
pub(super) struct Visits {
    encounters: Vec<encounter::Model>,
    vitals: Vec<vital::Model>,
    notes: Vec<note::Model>,
    diagnoses: Vec<diagnosis::Model>,
    prescriptions: Vec<prescription::Model>,
    timeline: Vec<patient_timeline::Model>,
}

impl Visits {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn add(
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
            class: if emergency { EncounterClass::Emergency } else { EncounterClass::Outpatient },
            status: EncounterStatus::Finished,
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
            status: NoteStatus::Signed,
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
            code_system: salus_core::clinical::CodeSystem::Icd10Cm,
            code: s.code.into(),
            description: s.title.into(),
            clinical_status: if s.chronic || recent {
                ClinicalStatus::Active
            } else {
                ClinicalStatus::Resolved
            },
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
                status: if recent || s.chronic {
                    PrescriptionStatus::Active
                } else {
                    PrescriptionStatus::Completed
                },
                status_reason: None,
                override_reason: None,
                created_at: ended,
                updated_at: ended,
                version: 1,
                dispensed: 0,
            });
        }
    }

    pub(super) fn len(&self) -> usize {
        self.encounters.len()
    }

    /// Writes and empties the batch; counts what it wrote.
    pub(super) async fn write<C: sea_orm::ConnectionTrait>(
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
        let catalog = include_str!("../../../../data/medicines/essential-medicines.tsv");
        let names: Vec<&str> =
            catalog.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split('\t').next()).collect();
        for s in &SCENARIOS {
            for m in s.medicines {
                assert!(names.contains(m), "{m} is not in the catalog");
            }
        }
    }
}
