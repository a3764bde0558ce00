//! The encounter as a doctor works in it, read as one use case (as the chart is): the
//! visit with its vitals and notes, what was recorded in it (diagnoses, prescriptions,
//! referrals, attachments), the patient's active allergies, and — for those who write —
//! the choices the forms offer. One access check, the queries side by side on the reader
//! pool, their read events in one commit; the page that stitched ten use-case calls
//! together made ten checks and ten commits.

use salus_core::clinical::{
    Allergy, AllergyStatus, Attachment, Diagnosis, Encounter, Medicine, Note, NoteStatus, NoteTemplate,
    Prescription, Referral, VitalSigns,
};
use salus_core::{EncounterId, PatientId};
use salus_db::clinical as q;

use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::organisation::Department;
use crate::{AppError, Ctx};

/// Medicines offered by the prescribing form (the formulary's active entries, by name).
const FORMULARY_SHOWN: u64 = 200;

/// One encounter and everything its page shows.
#[derive(Debug, Clone)]
pub struct EncounterWorkspace {
    pub encounter: Encounter,
    pub patient_name: String,
    pub vitals: Vec<VitalSigns>,
    /// A patient's own account sees signed notes only.
    pub notes: Vec<Note>,
    /// Recorded in this encounter.
    pub diagnoses: Vec<Diagnosis>,
    /// The patient's active allergies, whichever visit recorded them.
    pub allergies: Vec<Allergy>,
    /// Prescribed in this encounter.
    pub prescriptions: Vec<Prescription>,
    pub referrals: Vec<Referral>,
    pub attachments: Vec<Attachment>,
    /// What the forms offer; empty for a reader who cannot write.
    pub choices: Choices,
}

/// The forms' choices: active medicines, note templates and departments.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    pub medicines: Vec<Medicine>,
    pub templates: Vec<NoteTemplate>,
    pub departments: Vec<Department>,
}

impl crate::Clinical<'_> {
    /// The encounter page's content; audited as the reads the page shows: the encounter,
    /// the patient, and the diagnoses, allergies, prescriptions, referrals and attachments.
    #[tracing::instrument(skip_all, fields(encounter_id = %id))]
    pub async fn encounter_workspace(
        &self,
        ctx: &Ctx,
        id: EncounterId,
    ) -> Result<EncounterWorkspace, AppError> {
        let r = self.db.reader();
        let row = q::find_encounter(r, id.as_uuid()).await?.ok_or(AppError::NotFound("encounter"))?;
        let patient = self
            .clinical_patient(ctx, PatientId::from_uuid(row.patient_id), Permission::ClinicalRead)
            .await?;
        let writes = ctx.actor.user().is_some_and(|u| u.may(Permission::ClinicalWrite));
        let (vitals, notes, diagnoses, allergies, prescriptions, referrals, attachments) = tokio::try_join!(
            q::vitals_of_encounter(r, row.id),
            q::notes_of_encounter(r, row.id),
            q::diagnoses_of(r, patient.id),
            q::allergies_of(r, patient.id),
            q::prescriptions_of(r, patient.id, 500),
            q::referrals_of(r, patient.id),
            q::attachments_of(r, patient.id),
        )?;
        let choices = if writes {
            let (medicines, templates, departments) = tokio::try_join!(
                q::medicines(r, None, false, FORMULARY_SHOWN),
                q::note_templates(r),
                salus_db::organisation::departments(r, None),
            )?;
            Choices {
                medicines: crate::records(medicines),
                templates: templates.into_iter().filter(|t| t.active).map(Into::into).collect(),
                departments: departments.into_iter().filter(|d| d.active).map(Department::from).collect(),
            }
        } else {
            Choices::default()
        };

        let (pid, subject) = (patient.id, patient.id.to_string());
        let read = |action: &'static str, what: &'static str, id: String| {
            audit::row(ctx, Event::new(action, what, Some(id)).patient(pid))
        };
        let mut events = vec![read("clinical.read", "encounter", row.id.to_string())];
        events.push(read("patient.read", "patient", subject.clone()));
        for what in ["diagnoses", "allergies", "prescriptions", "referrals", "attachments"] {
            events.push(read("clinical.read", what, subject.clone()));
        }
        self.reads.record(events).await?;

        let here = Some(row.id);
        let as_patient = Self::reads_as_patient(ctx);
        Ok(EncounterWorkspace {
            patient_name: crate::patients::display_name(&patient.given_names, &patient.family_name),
            vitals: crate::records(vitals),
            notes: notes
                .into_iter()
                .filter(|n| !as_patient || n.status == NoteStatus::Signed)
                .map(Into::into)
                .collect(),
            diagnoses: diagnoses.into_iter().filter(|d| d.encounter_id == here).map(Into::into).collect(),
            allergies: allergies
                .into_iter()
                .filter(|a| a.error_reason.is_none() && a.status == AllergyStatus::Active)
                .map(Into::into)
                .collect(),
            prescriptions: prescriptions
                .into_iter()
                .filter(|p| p.encounter_id == here)
                .map(Into::into)
                .collect(),
            referrals: referrals.into_iter().filter(|p| p.encounter_id == here).map(Into::into).collect(),
            attachments: attachments.into_iter().filter(|p| p.encounter_id == here).map(Into::into).collect(),
            encounter: row.into(),
            choices,
        })
    }
}
