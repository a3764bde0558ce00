//! Interoperability: what the standard doors (FHIR R4 today, HL7 v2 next) read of the
//! hospital. They speak other systems' language but hold no data of their own: a use case
//! here gathers the domain's records — under the same permissions, relationships,
//! break-the-glass rule and read audit as the API and the pages — and the door maps them.

pub mod export;
pub mod import;

pub use import::{ImportReport, Importer};

use salus_core::PatientId;
use salus_core::clinical::{Allergy, Diagnosis, Encounter, Immunization, Prescription, VitalSigns};
use salus_core::laboratory::{LabOrder, LabResult};
use salus_db::clinical as clinical_q;
use salus_db::interop::{self as q, Owned};
use salus_db::laboratory as lab_q;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::{AppError, Ctx};

/// The parts of a patient's record a door may ask for at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Encounters,
    Diagnoses,
    Allergies,
    Immunizations,
    Vitals,
    Prescriptions,
    LabOrders,
    LabResults,
}

impl Part {
    pub const ALL: [Part; 8] = [
        Part::Encounters,
        Part::Diagnoses,
        Part::Allergies,
        Part::Immunizations,
        Part::Vitals,
        Part::Prescriptions,
        Part::LabOrders,
        Part::LabResults,
    ];

    fn owned(self) -> Owned {
        match self {
            Part::Encounters => Owned::Encounter,
            Part::Diagnoses => Owned::Diagnosis,
            Part::Allergies => Owned::Allergy,
            Part::Immunizations => Owned::Immunization,
            Part::Vitals => Owned::Vitals,
            Part::Prescriptions => Owned::Prescription,
            Part::LabOrders => Owned::LabOrder,
            Part::LabResults => Owned::LabResult,
        }
    }

    /// The audit event's object type for a read of this part.
    fn audited_as(self) -> (&'static str, &'static str) {
        match self {
            Part::Encounters => ("clinical.read", "encounters"),
            Part::Diagnoses => ("clinical.read", "diagnoses"),
            Part::Allergies => ("clinical.read", "allergies"),
            Part::Immunizations => ("clinical.read", "immunizations"),
            Part::Vitals => ("clinical.read", "vitals"),
            Part::Prescriptions => ("clinical.read", "prescriptions"),
            Part::LabOrders => ("lab.read", "lab_orders"),
            Part::LabResults => ("lab.read", "lab_results"),
        }
    }
}

/// The most rows of one part a single read gathers: a chart's worth, many years of it.
const PART_CAP: u64 = 2000;

/// What was asked of one patient's record; parts not asked for stay empty.
#[derive(Debug, Clone, Default)]
pub struct PatientRecord {
    pub encounters: Vec<Encounter>,
    pub diagnoses: Vec<Diagnosis>,
    pub allergies: Vec<Allergy>,
    pub immunizations: Vec<Immunization>,
    pub vitals: Vec<VitalSigns>,
    pub prescriptions: Vec<Prescription>,
    /// Laboratory orders, whatever their state (cancelled ones too).
    pub lab_orders: Vec<LabOrder>,
    /// Released results only (what a clinician's chart and the patient's portal show).
    pub lab_results: Vec<LabResult>,
}

impl crate::Interop<'_> {
    /// The patient a row of `part` with this id belongs to. No such row is "not found"
    /// for everyone (its id says nothing); whether the caller may read it is decided by
    /// [`Self::patient_record`].
    pub async fn owner(&self, part: Part, id: Uuid) -> Result<PatientId, AppError> {
        q::patient_of(self.db.reader(), part.owned(), id)
            .await?
            .map(PatientId::from_uuid)
            .ok_or(AppError::NotFound("record"))
    }

    /// The parts of `patient`'s record asked for, checked once (clinical read, or the
    /// patient's own account; a restricted record needs the glass broken) and audited as
    /// one read event per part, committed together before anything is returned.
    pub async fn patient_record(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        parts: &[Part],
    ) -> Result<PatientRecord, AppError> {
        self.clinical().clinical_patient(ctx, patient, Permission::ClinicalRead).await?;
        let conn = self.db.reader();
        let id = patient.as_uuid();
        let mut record = PatientRecord::default();
        for part in parts {
            match part {
                Part::Encounters => {
                    record.encounters =
                        crate::records(clinical_q::encounters_of(conn, id, None, PART_CAP).await?)
                }
                Part::Diagnoses => {
                    record.diagnoses = crate::records(clinical_q::diagnoses_of(conn, id).await?)
                }
                Part::Allergies => {
                    record.allergies = crate::records(clinical_q::allergies_of(conn, id).await?)
                }
                Part::Immunizations => {
                    record.immunizations = crate::records(clinical_q::immunizations_of(conn, id).await?)
                }
                Part::Vitals => {
                    record.vitals = crate::records(clinical_q::vitals_of(conn, id, PART_CAP).await?)
                }
                Part::Prescriptions => {
                    record.prescriptions =
                        crate::records(clinical_q::prescriptions_of(conn, id, PART_CAP).await?)
                }
                Part::LabOrders => {
                    record.lab_orders = crate::records(lab_q::orders_of(conn, id, PART_CAP).await?)
                }
                Part::LabResults => {
                    record.lab_results = crate::records(lab_q::results_of(conn, id, true, PART_CAP).await?)
                }
            }
        }
        let events = parts
            .iter()
            .map(|p| {
                let (action, object) = p.audited_as();
                audit::row(ctx, Event::new(action, object, Some(patient.to_string())).patient(id))
            })
            .collect();
        self.reads.record(events).await?;
        Ok(record)
    }
}
