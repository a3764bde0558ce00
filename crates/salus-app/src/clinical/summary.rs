//! The clinical part of a chart at a glance — allergies, problems, current medicines,
//! recent visits and vital signs — read as one use case: one access check, the sections'
//! queries side by side on the reader pool, and their read events in one commit (a chart
//! opened section by section waited for five checks and five commits in a row).

use salus_core::PatientId;
use salus_core::clinical::{Allergy, AllergyStatus, Diagnosis, Encounter, Prescription, VitalSigns};
use salus_db::clinical as q;

use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::{AppError, Ctx};

/// Visits and vital-sign sets a chart shows.
const RECENT_ENCOUNTERS: u64 = 10;
const RECENT_VITALS: u64 = 30;

/// What the chart shows of the clinical record.
#[derive(Debug, Clone)]
pub struct ClinicalSummary {
    /// Active allergies, not entered in error, by substance.
    pub allergies: Vec<Allergy>,
    /// Active problems, not entered in error, newest first.
    pub problems: Vec<Diagnosis>,
    /// The latest visits, newest first.
    pub encounters: Vec<Encounter>,
    /// Active prescriptions, newest first.
    pub medicines: Vec<Prescription>,
    /// The latest vital-sign sets not entered in error, oldest first (for trends).
    pub vitals: Vec<VitalSigns>,
}

impl crate::Clinical<'_> {
    /// The clinical summary of a patient's chart; audited as reads of each section and of
    /// each visit shown, exactly as the sections read one by one would be.
    #[tracing::instrument(skip_all, fields(patient_id = %patient))]
    pub async fn clinical_summary(&self, ctx: &Ctx, patient: PatientId) -> Result<ClinicalSummary, AppError> {
        self.clinical_patient(ctx, patient, Permission::ClinicalRead).await?;
        let (r, id) = (self.db.reader(), patient.as_uuid());
        let (allergies, problems, encounters, medicines, vitals) = tokio::try_join!(
            q::allergies_of(r, id),
            q::active_diagnoses_of(r, id),
            q::encounters_of(r, id, None, RECENT_ENCOUNTERS),
            q::active_prescriptions_of(r, id),
            q::vitals_of(r, id, RECENT_VITALS),
        )?;
        let mut events: Vec<_> = ["allergies", "diagnoses", "prescriptions", "vitals"]
            .into_iter()
            .map(|what| {
                audit::row(ctx, Event::new("clinical.read", what, Some(patient.to_string())).patient(id))
            })
            .collect();
        events.extend(encounters.iter().map(|e| {
            audit::row(ctx, Event::new("clinical.read", "encounter", Some(e.id.to_string())).patient(id))
        }));
        self.reads.record(events).await?;
        Ok(ClinicalSummary {
            allergies: allergies
                .into_iter()
                .filter(|a| a.error_reason.is_none() && a.status == AllergyStatus::Active)
                .map(Into::into)
                .collect(),
            problems: crate::records(problems),
            encounters: crate::records(encounters),
            medicines: crate::records(medicines),
            vitals: vitals.into_iter().filter(|v| v.error_reason.is_none()).rev().map(Into::into).collect(),
        })
    }
}
