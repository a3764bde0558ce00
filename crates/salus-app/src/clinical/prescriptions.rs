//! The medicine catalog and prescriptions. At prescribing, two checks: an allergy of the
//! patient's matching the medicine or its class (penicillins, sulfonamides, NSAIDs…), and
//! an active prescription of the same medicine. Either is a warning the prescriber
//! overrides only with a reason, which is kept with the prescription and audited.

use chrono::Utc;
use salus_core::clinical::{AllergyStatus, PrescriptionStatus};
use salus_core::organisation::{parse_label, parse_optional_label};
use salus_core::{EncounterId, FieldError, PatientId, RecordId};
use salus_db::clinical as q;
use salus_db::entity::{medicine, prescription};
use serde_json::json;
use uuid::Uuid;

use salus_db::ResultExt as _;

use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::patients::timeline_row;
use crate::{AppError, Ctx};

/// Allergy words that name a class, and the generic names in it.
const CLASSES: &[(&str, &[&str])] = &[
    (
        "penicillin",
        &[
            "amoxicillin",
            "ampicillin",
            "benzylpenicillin",
            "phenoxymethylpenicillin",
            "cloxacillin",
            "flucloxacillin",
            "piperacillin",
        ],
    ),
    ("cephalosporin", &["cefalexin", "ceftriaxone", "cefixime", "cefuroxime", "cefazolin"]),
    ("sulfa", &["sulfamethoxazole", "sulfadiazine", "co-trimoxazole"]),
    ("sulphonamide", &["sulfamethoxazole", "sulfadiazine", "co-trimoxazole"]),
    ("nsaid", &["ibuprofen", "diclofenac", "acetylsalicylic acid", "naproxen", "aspirin"]),
    ("aspirin", &["acetylsalicylic acid"]),
    ("macrolide", &["azithromycin", "clarithromycin", "erythromycin"]),
    ("quinolone", &["ciprofloxacin", "levofloxacin", "ofloxacin"]),
    ("opioid", &["morphine", "tramadol", "codeine"]),
];

/// Whether an allergy to `substance` concerns the medicine `generic`.
pub fn allergy_concerns(substance: &str, generic: &str) -> bool {
    let s = substance.to_lowercase();
    let g = generic.to_lowercase();
    let s_word = s.split_whitespace().next().unwrap_or("");
    if s_word.len() >= 4 && (g.contains(s_word) || s.contains(g.split_whitespace().next().unwrap_or("~"))) {
        return true;
    }
    CLASSES.iter().any(|(class, members)| s.contains(class) && members.iter().any(|m| g.contains(m)))
}

/// A prescription as written.
#[derive(Debug, Clone, Default)]
pub struct NewPrescription {
    pub medicine_id: Uuid,
    pub encounter_id: Option<EncounterId>,
    pub dose: String,
    /// Blank: the medicine's usual route.
    pub route: String,
    pub frequency: String,
    pub duration_days: Option<i32>,
    pub quantity: Option<i32>,
    pub instructions: String,
    /// Given to go ahead despite the warnings.
    pub override_reason: String,
}

/// A catalog entry as typed.
#[derive(Debug, Clone, Default)]
pub struct MedicineInput {
    pub generic_name: String,
    pub form: String,
    pub strength: String,
    /// The usual route ("oral"), the default when prescribing.
    pub route: String,
    pub atc_code: String,
    pub active: bool,
}

impl MedicineInput {
    /// Name, form, strength, route and the ATC code (if any), every field's error at once.
    fn check(&self) -> Result<(String, String, String, String, Option<String>), AppError> {
        let mut errors = Vec::new();
        let mut take = |r: Result<String, FieldError>| r.map_err(|e| errors.push(e)).ok();
        let generic = take(parse_label(&self.generic_name, "generic_name", 200));
        let form = take(parse_label(&self.form, "form", 100));
        let strength = take(parse_label(&self.strength, "strength", 100));
        let route = take(parse_label(&self.route, "route", 40));
        let atc = parse_optional_label(&self.atc_code, "atc_code", 10).map_err(|e| errors.push(e)).ok();
        match (generic, form, strength, route, atc) {
            (Some(g), Some(f), Some(s), Some(r), Some(a)) if errors.is_empty() => Ok((g, f, s, r, a)),
            _ => Err(AppError::Invalid(errors)),
        }
    }
}

/// The constraint that keeps one entry per name, form and strength, and its columns.
const MEDICINE_KEY: (&str, &str) =
    ("medicines_name_form_strength_key", "medicines.generic_name, medicines.form, medicines.strength");

fn already() -> AppError {
    AppError::field("strength", "this medicine, form and strength is already in the catalog")
}

/// The name a prescription carries: "Amoxicillin 500 mg capsule".
pub(crate) fn medicine_label(m: &medicine::Model) -> String {
    salus_core::clinical::medicine_label(&m.generic_name, &m.strength, &m.form)
}

impl crate::Clinical<'_> {
    /// The catalog, by name (staff read it).
    pub async fn medicines(
        &self,
        ctx: &Ctx,
        text: Option<&str>,
        include_inactive: bool,
    ) -> Result<Vec<salus_core::clinical::Medicine>, AppError> {
        self.authorize(ctx, Permission::OrganisationRead).await?;
        Ok(crate::records(q::medicines(self.db.reader(), text, include_inactive, 200).await?))
    }

    /// The whole catalog, retired entries too (the standard doors' Medication).
    pub async fn formulary(&self, ctx: &Ctx) -> Result<Vec<salus_core::clinical::Medicine>, AppError> {
        self.authorize(ctx, Permission::OrganisationRead).await?;
        Ok(crate::records(q::medicines(self.db.reader(), None, true, 10_000).await?))
    }

    /// One entry of the catalog.
    pub async fn medicine(&self, ctx: &Ctx, id: Uuid) -> Result<salus_core::clinical::Medicine, AppError> {
        self.authorize(ctx, Permission::OrganisationRead).await?;
        q::find_medicine(self.db.reader(), id).await?.map(Into::into).ok_or(AppError::NotFound("medicine"))
    }

    /// Adds a medicine to the catalog (administrators).
    pub async fn add_medicine(
        &self,
        ctx: &Ctx,
        input: &MedicineInput,
    ) -> Result<salus_core::clinical::Medicine, AppError> {
        self.authorize(ctx, Permission::OrganisationManage).await?;
        let (generic, form, strength, route, atc) = input.check()?;
        let now = Utc::now();
        let row = medicine::Model {
            id: Uuid::now_v7(),
            generic_name: generic,
            form,
            strength,
            route,
            atc_code: atc,
            active: input.active,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let txn = self.db.begin_write().await?;
        q::insert_medicine(&txn, row.clone()).await.on_unique(MEDICINE_KEY.0, MEDICINE_KEY.1, already)?;
        let event = Event::new("medicine.add", "medicine", Some(row.id.to_string()))
            .detail(json!({ "name": medicine_label(&row) }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Corrects or retires (`active: false`) a catalog entry; prescriptions already
    /// written keep the name they were written with.
    pub async fn save_medicine(
        &self,
        ctx: &Ctx,
        id: Uuid,
        version: i32,
        input: &MedicineInput,
    ) -> Result<salus_core::clinical::Medicine, AppError> {
        self.authorize(ctx, Permission::OrganisationManage).await?;
        let (generic, form, strength, route, atc) = input.check()?;
        let txn = self.db.begin_write().await?;
        let before = q::find_medicine(&txn, id).await?.ok_or(AppError::NotFound("medicine"))?;
        if before.version != version {
            return Err(crate::organisation::stale_as("medicine", before.version, &before));
        }
        let row = medicine::Model {
            generic_name: generic,
            form,
            strength,
            route,
            atc_code: atc,
            active: input.active,
            version: version + 1,
            updated_at: Utc::now(),
            ..before.clone()
        };
        if !q::update_medicine(&txn, row.clone()).await.on_unique(MEDICINE_KEY.0, MEDICINE_KEY.1, already)? {
            return Err(crate::organisation::stale("medicine"));
        }
        let event = Event::new("medicine.save", "medicine", Some(id.to_string())).detail(json!({
            "before": medicine_label(&before),
            "after": medicine_label(&row),
            "active": row.active,
        }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Prescribes a medicine. Allergy and duplicate warnings stop it unless
    /// `override_reason` says why to go ahead.
    #[tracing::instrument(skip_all, fields(patient_id = %patient))]
    pub async fn prescribe(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        input: NewPrescription,
    ) -> Result<salus_core::clinical::Prescription, AppError> {
        let p = self.clinical_patient(ctx, patient, Permission::ClinicalWrite).await?;
        if !p.active || p.merged_into.is_some() || p.deceased_at.is_some() {
            return Err(AppError::field("patient_id", "this record is not active"));
        }
        let med = q::find_medicine(self.db.reader(), input.medicine_id)
            .await?
            .filter(|m| m.active)
            .ok_or_else(|| AppError::field("medicine_id", "choose a medicine from the catalog"))?;
        let mut errors = Vec::new();
        let dose = parse_optional_label(&input.dose, "dose", 100).map_err(|e| errors.push(e)).ok().flatten();
        if dose.is_none() && errors.iter().all(|e| e.field != "dose") {
            errors.push(FieldError::new("dose", "give the dose (e.g. 500 mg)"));
        }
        let frequency = parse_optional_label(&input.frequency, "frequency", 100)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        if frequency.is_none() && errors.iter().all(|e| e.field != "frequency") {
            errors.push(FieldError::new("frequency", "say how often (e.g. three times a day)"));
        }
        let route =
            parse_optional_label(&input.route, "route", 40).map_err(|e| errors.push(e)).ok().flatten();
        let instructions = parse_optional_label(&input.instructions, "instructions", 500)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        if input.duration_days.is_some_and(|d| !(1..=365).contains(&d)) {
            errors.push(FieldError::new("duration_days", "use 1 to 365 days"));
        }
        if input.quantity.is_some_and(|q| !(1..=10_000).contains(&q)) {
            errors.push(FieldError::new("quantity", "use 1 to 10,000"));
        }
        if let Some(e) = input.encounter_id {
            let enc = q::find_encounter(self.db.reader(), e.as_uuid()).await?;
            if enc.is_none_or(|enc| enc.patient_id != patient.as_uuid()) {
                errors.push(FieldError::new("encounter_id", "is not an encounter of this patient"));
            }
        }
        let (Some(dose), Some(frequency)) = (dose, frequency) else { return Err(AppError::Invalid(errors)) };
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }

        let mut warnings = Vec::new();
        for a in q::allergies_of(self.db.reader(), patient.as_uuid()).await? {
            if a.error_reason.is_none()
                && a.status == AllergyStatus::Active
                && allergy_concerns(&a.substance, &med.generic_name)
            {
                warnings.push(format!("allergy to {} ({})", a.substance, a.severity));
            }
        }
        let current = q::prescriptions_of(self.db.reader(), patient.as_uuid(), 500).await?;
        let same = |r: &prescription::Model| {
            r.status == PrescriptionStatus::Active
                && r.medicine_name.to_lowercase().starts_with(&med.generic_name.to_lowercase())
        };
        if current.iter().any(same) {
            warnings.push(format!("{} is already prescribed and active", med.generic_name));
        }
        let override_reason = parse_optional_label(&input.override_reason, "override_reason", 300)?;
        if !warnings.is_empty() && override_reason.is_none() {
            return Err(AppError::ClinicalWarnings(warnings));
        }

        let now = Utc::now();
        let row = prescription::Model {
            id: RecordId::new().as_uuid(),
            patient_id: patient.as_uuid(),
            encounter_id: input.encounter_id.map(|e| e.as_uuid()),
            prescriber_id: ctx.actor.user().map(|u| u.id.as_uuid()).ok_or(AppError::Forbidden)?,
            medicine_id: med.id,
            medicine_name: medicine_label(&med),
            dose,
            route: route.unwrap_or_else(|| med.route.clone()),
            frequency,
            duration_days: input.duration_days,
            quantity: input.quantity,
            instructions,
            status: PrescriptionStatus::Active,
            status_reason: None,
            override_reason: override_reason.clone().filter(|_| !warnings.is_empty()),
            created_at: now,
            updated_at: now,
            version: 1,
            dispensed: 0,
        };
        let txn = self.db.begin_write().await?;
        q::insert_prescription(&txn, row.clone()).await?;
        let summary = format!("Prescribed {} — {} {}", row.medicine_name, row.dose, row.frequency);
        salus_db::patients::insert_timeline(
            &txn,
            vec![timeline_row(row.patient_id, "prescription", summary, ctx)],
        )
        .await?;
        let event = Event::new("prescription.create", "prescription", Some(row.id.to_string()))
            .patient(row.patient_id)
            .detail(json!({ "medicine": row.medicine_name, "warnings_overridden": warnings, "override_reason": row.override_reason }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// A patient's prescriptions, newest first (a patient's own account reads its own).
    pub async fn prescriptions(
        &self,
        ctx: &Ctx,
        patient: PatientId,
    ) -> Result<Vec<salus_core::clinical::Prescription>, AppError> {
        self.clinical_patient(ctx, patient, Permission::ClinicalRead).await?;
        let rows = q::prescriptions_of(self.db.reader(), patient.as_uuid(), 500).await?;
        let event = Event::new("clinical.read", "prescriptions", Some(patient.to_string()))
            .patient(patient.as_uuid());
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        Ok(crate::records(rows))
    }

    /// Completes or stops an active prescription, or marks one entered in error (a reason
    /// for the last two).
    pub async fn change_prescription(
        &self,
        ctx: &Ctx,
        id: RecordId,
        version: i32,
        to: &str,
        reason: &str,
    ) -> Result<salus_core::clinical::Prescription, AppError> {
        let txn = self.db.begin_write().await?;
        let mut row =
            q::find_prescription(&txn, id.as_uuid()).await?.ok_or(AppError::NotFound("prescription"))?;
        self.clinical_patient(ctx, row.patient_id.into(), Permission::ClinicalWrite).await?;
        let reason = parse_optional_label(reason, "reason", 300)?;
        let to = PrescriptionStatus::parse(to, "status")?;
        match row.status.may_become(to) {
            Some(true) if reason.is_none() => return Err(AppError::field("reason", "say why")),
            Some(_) => {}
            None => {
                let from = row.status;
                return Err(AppError::Conflict(format!("a prescription that is {from} cannot become {to}")));
            }
        }
        if row.version != version {
            return Err(crate::organisation::stale_as("prescription", row.version, &row));
        }
        row.status = to;
        row.status_reason = reason;
        (row.version, row.updated_at) = (version + 1, Utc::now());
        if !q::update_prescription(&txn, row.clone()).await? {
            return Err(crate::organisation::stale("prescription"));
        }
        let event = Event::new("prescription.status", "prescription", Some(id.to_string()))
            .patient(row.patient_id)
            .detail(json!({ "to": row.status }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }
}

#[cfg(test)]
mod tests {
    use super::allergy_concerns;

    #[test]
    fn allergies_match_medicines_and_their_classes() {
        assert!(allergy_concerns("Penicillin", "Amoxicillin + clavulanic acid"));
        assert!(allergy_concerns("penicillins", "Cloxacillin"));
        assert!(allergy_concerns("Sulfa drugs", "Sulfamethoxazole + trimethoprim"));
        assert!(allergy_concerns("Ibuprofen", "Ibuprofen"));
        assert!(allergy_concerns("Aspirin", "Acetylsalicylic acid"));
        assert!(!allergy_concerns("Penicillin", "Azithromycin"));
        assert!(!allergy_concerns("Peanuts", "Paracetamol"));
    }
}
