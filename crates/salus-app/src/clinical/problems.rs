//! Diagnoses (ICD-10-CM, billable codes only) making the problem list, allergies (shown
//! on every chart page) and immunizations. Nothing is deleted: a diagnosis is resolved or
//! marked entered in error, an allergy made inactive or resolved.

use chrono::{NaiveDate, Utc};
use salus_core::clinical::{AllergyStatus, ClinicalStatus, Severity};
use salus_core::organisation::{parse_label, parse_optional_label};
use salus_core::{EncounterId, FieldError, PatientId, RecordId};
use salus_db::clinical as q;
use salus_db::entity::{allergy, diagnosis, immunization};
use serde_json::json;

use super::icd::IcdCatalog;
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::patients::{actor_id, timeline_row};
use crate::{AppError, Ctx};

/// A diagnosis to record.
#[derive(Debug, Clone)]
pub struct NewDiagnosis {
    pub code: String,
    pub encounter_id: Option<EncounterId>,
    pub onset: Option<NaiveDate>,
}

/// An allergy to record.
#[derive(Debug, Clone)]
pub struct NewAllergy {
    pub substance: String,
    pub reaction: String,
    pub severity: String,
}

impl crate::Clinical<'_> {
    /// Records a diagnosis: a billable ICD-10-CM code (a category is refused with its
    /// billable codes named), on the patient's problem list as active.
    #[tracing::instrument(skip_all, fields(patient_id = %patient))]
    pub async fn add_diagnosis(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        input: NewDiagnosis,
    ) -> Result<salus_core::clinical::Diagnosis, AppError> {
        self.clinical_patient(ctx, patient, Permission::ClinicalWrite).await?;
        let catalog = IcdCatalog::get();
        let code =
            catalog.find(&input.code).ok_or_else(|| AppError::field("code", "is not an ICD-10-CM code"))?;
        if !code.billable {
            let examples: Vec<String> =
                catalog.search(&code.code, 4, true).iter().map(|c| c.code.clone()).collect();
            return Err(AppError::field(
                "code",
                format!(
                    "{} is a category; choose a billable code under it ({})",
                    code.code,
                    examples.join(", ")
                ),
            ));
        }
        let today = Utc::now().date_naive();
        if input.onset.is_some_and(|d| d > today) {
            return Err(AppError::field("onset", "cannot be in the future"));
        }
        if let Some(e) = input.encounter_id {
            let enc = q::find_encounter(self.db.reader(), e.as_uuid()).await?;
            if enc.is_none_or(|enc| enc.patient_id != patient.as_uuid()) {
                return Err(AppError::field("encounter_id", "is not an encounter of this patient"));
            }
        }
        let row = diagnosis::Model {
            id: RecordId::new().as_uuid(),
            patient_id: patient.as_uuid(),
            encounter_id: input.encounter_id.map(|e| e.as_uuid()),
            code_system: salus_core::clinical::CodeSystem::Icd10Cm,
            code: code.code.clone(),
            description: code.description.chars().take(300).collect(),
            clinical_status: ClinicalStatus::Active,
            onset_date: input.onset,
            recorded_by: actor_id(ctx),
            recorded_at: Utc::now(),
            resolved_at: None,
            error_reason: None,
            version: 1,
        };
        let txn = self.db.begin_write().await?;
        q::insert_diagnosis(&txn, row.clone()).await?;
        let summary = format!("Diagnosis: {} {}", row.code, row.description);
        salus_db::patients::insert_timeline(
            &txn,
            vec![timeline_row(row.patient_id, "diagnosis", summary, ctx)],
        )
        .await?;
        let event = Event::new("diagnosis.add", "diagnosis", Some(row.id.to_string()))
            .patient(row.patient_id)
            .detail(json!({ "code": row.code }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Resolves a diagnosis, or marks it entered in error with a reason.
    pub async fn change_diagnosis(
        &self,
        ctx: &Ctx,
        id: RecordId,
        version: i32,
        error_reason: Option<&str>,
    ) -> Result<salus_core::clinical::Diagnosis, AppError> {
        let txn = self.db.begin_write().await?;
        let mut row = q::find_diagnosis(&txn, id.as_uuid()).await?.ok_or(AppError::NotFound("diagnosis"))?;
        self.clinical_patient(ctx, row.patient_id.into(), Permission::ClinicalWrite).await?;
        if row.error_reason.is_some() {
            return Err(AppError::Conflict("the diagnosis was entered in error".into()));
        }
        if row.version != version {
            return Err(crate::organisation::stale_as("diagnosis", row.version, &row));
        }
        let action = match error_reason {
            Some(r) => {
                row.error_reason = Some(
                    parse_optional_label(r, "reason", 300)?
                        .ok_or_else(|| AppError::field("reason", "say what was wrong"))?,
                );
                "diagnosis.entered_in_error"
            }
            None if row.clinical_status == ClinicalStatus::Resolved => {
                return Err(AppError::Conflict("the diagnosis is already resolved".into()));
            }
            None => {
                row.clinical_status = ClinicalStatus::Resolved;
                row.resolved_at = Some(Utc::now());
                "diagnosis.resolve"
            }
        };
        row.version = version + 1;
        if !q::update_diagnosis(&txn, row.clone()).await? {
            return Err(crate::organisation::stale("diagnosis"));
        }
        audit::record(
            &txn,
            ctx,
            Event::new(action, "diagnosis", Some(id.to_string())).patient(row.patient_id),
        )
        .await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// The patient's diagnoses, newest first (the problem list is the active ones not in error).
    pub async fn diagnoses(
        &self,
        ctx: &Ctx,
        patient: PatientId,
    ) -> Result<Vec<salus_core::clinical::Diagnosis>, AppError> {
        self.clinical_patient(ctx, patient, Permission::ClinicalRead).await?;
        let rows = q::diagnoses_of(self.db.reader(), patient.as_uuid()).await?;
        let event =
            Event::new("clinical.read", "diagnoses", Some(patient.to_string())).patient(patient.as_uuid());
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        Ok(crate::records(rows))
    }

    /// Records an allergy (doctors and nurses).
    pub async fn add_allergy(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        input: NewAllergy,
    ) -> Result<salus_core::clinical::Allergy, AppError> {
        self.clinical_patient(ctx, patient, Permission::VitalsRecord).await?;
        let mut errors = Vec::new();
        let substance = parse_label(&input.substance, "substance", 200).map_err(|e| errors.push(e)).ok();
        let reaction =
            parse_optional_label(&input.reaction, "reaction", 300).map_err(|e| errors.push(e)).ok().flatten();
        let severity = Severity::parse(&input.severity, "severity").map_err(|e| errors.push(e)).ok();
        let (Some(substance), Some(severity)) = (substance, severity) else {
            return Err(AppError::Invalid(errors));
        };
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let existing = q::allergies_of(self.db.reader(), patient.as_uuid()).await?;
        if existing.iter().any(|a| {
            a.error_reason.is_none()
                && a.status == AllergyStatus::Active
                && a.substance.eq_ignore_ascii_case(&substance)
        }) {
            return Err(AppError::field("substance", "is already recorded as an active allergy"));
        }
        let row = allergy::Model {
            id: RecordId::new().as_uuid(),
            patient_id: patient.as_uuid(),
            substance,
            reaction,
            severity,
            status: AllergyStatus::Active,
            recorded_by: actor_id(ctx),
            recorded_at: Utc::now(),
            error_reason: None,
            version: 1,
        };
        let txn = self.db.begin_write().await?;
        q::insert_allergy(&txn, row.clone()).await?;
        let summary = format!("Allergy: {} ({})", row.substance, row.severity);
        salus_db::patients::insert_timeline(
            &txn,
            vec![timeline_row(row.patient_id, "allergy", summary, ctx)],
        )
        .await?;
        let event = Event::new("allergy.add", "allergy", Some(row.id.to_string())).patient(row.patient_id);
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Changes an allergy's status (inactive, resolved) or marks it entered in error.
    pub async fn change_allergy(
        &self,
        ctx: &Ctx,
        id: RecordId,
        version: i32,
        status: Option<&str>,
        error_reason: Option<&str>,
    ) -> Result<salus_core::clinical::Allergy, AppError> {
        let txn = self.db.begin_write().await?;
        let mut row = q::find_allergy(&txn, id.as_uuid()).await?.ok_or(AppError::NotFound("allergy"))?;
        self.clinical_patient(ctx, row.patient_id.into(), Permission::VitalsRecord).await?;
        if row.error_reason.is_some() {
            return Err(AppError::Conflict("the allergy was entered in error".into()));
        }
        if row.version != version {
            return Err(crate::organisation::stale_as("allergy", row.version, &row));
        }
        match (status, error_reason) {
            (_, Some(r)) => {
                row.error_reason = Some(
                    parse_optional_label(r, "reason", 300)?
                        .ok_or_else(|| AppError::field("reason", "say what was wrong"))?,
                );
            }
            (Some(s), None) => row.status = AllergyStatus::parse(s, "status")?,
            (None, None) => return Err(AppError::field("status", "give a status or an error reason")),
        }
        row.version = version + 1;
        if !q::update_allergy(&txn, row.clone()).await? {
            return Err(crate::organisation::stale("allergy"));
        }
        let event = Event::new("allergy.change", "allergy", Some(id.to_string()))
            .patient(row.patient_id)
            .detail(json!({ "status": row.status, "entered_in_error": row.error_reason.is_some() }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// The patient's allergies (all, with their status), for the chart's banner.
    pub async fn allergies(
        &self,
        ctx: &Ctx,
        patient: PatientId,
    ) -> Result<Vec<salus_core::clinical::Allergy>, AppError> {
        self.clinical_patient(ctx, patient, Permission::ClinicalRead).await?;
        let rows = q::allergies_of(self.db.reader(), patient.as_uuid()).await?;
        let event =
            Event::new("clinical.read", "allergies", Some(patient.to_string())).patient(patient.as_uuid());
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        Ok(crate::records(rows))
    }

    /// Records an immunization given (not in the future).
    pub async fn add_immunization(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        vaccine: &str,
        dose: Option<i32>,
        given_on: NaiveDate,
        lot: &str,
    ) -> Result<salus_core::clinical::Immunization, AppError> {
        self.clinical_patient(ctx, patient, Permission::VitalsRecord).await?;
        let mut errors = Vec::new();
        let vaccine = parse_label(vaccine, "vaccine", 200).map_err(|e| errors.push(e)).ok();
        let lot = parse_optional_label(lot, "lot_number", 50).map_err(|e| errors.push(e)).ok().flatten();
        if given_on > Utc::now().date_naive() {
            errors.push(FieldError::new("given_on", "cannot be in the future"));
        }
        if dose.is_some_and(|d| !(1..=20).contains(&d)) {
            errors.push(FieldError::new("dose_number", "use 1 to 20"));
        }
        let Some(vaccine) = vaccine.filter(|_| errors.is_empty()) else {
            return Err(AppError::Invalid(errors));
        };
        let row = immunization::Model {
            id: RecordId::new().as_uuid(),
            patient_id: patient.as_uuid(),
            vaccine,
            dose_number: dose,
            given_on,
            lot_number: lot,
            recorded_by: actor_id(ctx),
            recorded_at: Utc::now(),
            error_reason: None,
        };
        let txn = self.db.begin_write().await?;
        q::insert_immunization(&txn, row.clone()).await?;
        let summary = format!("Immunization: {}", row.vaccine);
        salus_db::patients::insert_timeline(
            &txn,
            vec![timeline_row(row.patient_id, "immunization", summary, ctx)],
        )
        .await?;
        let event =
            Event::new("immunization.add", "immunization", Some(row.id.to_string())).patient(row.patient_id);
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    pub async fn immunizations(
        &self,
        ctx: &Ctx,
        patient: PatientId,
    ) -> Result<Vec<salus_core::clinical::Immunization>, AppError> {
        self.clinical_patient(ctx, patient, Permission::ClinicalRead).await?;
        let rows = q::immunizations_of(self.db.reader(), patient.as_uuid()).await?;
        let event = Event::new("clinical.read", "immunizations", Some(patient.to_string()))
            .patient(patient.as_uuid());
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        Ok(crate::records(rows))
    }

    /// Marks vital signs or an immunization entered in error, with the reason.
    pub async fn record_in_error(
        &self,
        ctx: &Ctx,
        kind: &str,
        id: RecordId,
        reason: &str,
    ) -> Result<(), AppError> {
        self.authorize(ctx, Permission::VitalsRecord).await?;
        let reason = parse_optional_label(reason, "reason", 300)?
            .ok_or_else(|| AppError::field("reason", "say what was wrong"))?;
        let txn = self.db.begin_write().await?;
        let patient = match kind {
            "vitals" => q::vitals_in_error(&txn, id.as_uuid(), &reason).await?,
            "immunizations" => q::immunization_in_error(&txn, id.as_uuid(), &reason).await?,
            _ => return Err(AppError::NotFound("kind of record")),
        };
        let Some(patient) = patient else {
            return Err(AppError::NotFound("record (or it is already in error)"));
        };
        self.clinical_patient(ctx, patient.into(), Permission::VitalsRecord).await?;
        let event = Event::new("record.entered_in_error", "record", Some(id.to_string()))
            .patient(patient)
            .reason(reason);
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(())
    }
}
