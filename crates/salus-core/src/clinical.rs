//! Clinical values: vital signs in fixed integer units with their plausible ranges (a
//! typing slip such as 370 °C or a pulse of 7 is refused, not recorded), and the coded
//! states of encounters, notes, diagnoses and allergies (FHIR's value sets).

use serde::Serialize;

use crate::FieldError;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// A decimal as typed ("36.8", "36,8") in units of 10^-`places`: "36.8" with 1 is 368.
pub fn parse_scaled(text: &str, places: u32, field: &'static str) -> Result<Option<i32>, FieldError> {
    let t = text.trim().replace(',', ".");
    if t.is_empty() {
        return Ok(None);
    }
    let bad = || FieldError::new(field, "enter a number");
    let (whole, fraction) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    if fraction.len() > places as usize {
        return Err(FieldError::new(field, format!("use at most {places} digit(s) after the point")));
    }
    if whole.len() > 6 {
        return Err(FieldError::new(field, "is far too large"));
    }
    let whole: i32 = whole.parse().map_err(|_| bad())?;
    let fraction: i32 = if places == 0 {
        0
    } else {
        format!("{fraction:0<width$}", width = places as usize).parse().map_err(|_| bad())?
    };
    Ok(Some(whole * 10_i32.pow(places) + fraction))
}

/// Vital signs as typed: temperature °C, pulse /min, blood pressure mmHg, respiratory
/// rate /min, SpO2 %, weight kg, height cm.
#[derive(Debug, Clone, Default)]
pub struct VitalsText {
    pub temperature_c: String,
    pub pulse: String,
    pub systolic: String,
    pub diastolic: String,
    pub respiratory_rate: String,
    pub spo2: String,
    pub weight_kg: String,
    pub height_cm: String,
}

/// Checked vital signs in fixed units: tenths of °C, grams, millimetres; BMI in tenths.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Vitals {
    pub temperature_dc: Option<i32>,
    pub pulse_bpm: Option<i32>,
    pub systolic: Option<i32>,
    pub diastolic: Option<i32>,
    pub respiratory_rate: Option<i32>,
    pub spo2: Option<i32>,
    pub weight_g: Option<i32>,
    pub height_mm: Option<i32>,
    pub bmi_x10: Option<i32>,
}

impl Vitals {
    /// Checks every field against its plausible range; all errors at once.
    pub fn check(t: &VitalsText) -> Result<Vitals, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut take =
            |text: &str, places: u32, field: &'static str, lo: i32, hi: i32, unit: &str| -> Option<i32> {
                match parse_scaled(text, places, field) {
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                    Ok(Some(v)) if v < lo || v > hi => {
                        let scale = 10_f64.powi(places as i32);
                        errors.push(FieldError::new(
                            field,
                            format!(
                                "is not plausible (expected {} to {} {unit})",
                                f64::from(lo) / scale,
                                f64::from(hi) / scale
                            ),
                        ));
                        None
                    }
                    Ok(v) => v,
                }
            };
        let v = Vitals {
            temperature_dc: take(&t.temperature_c, 1, "temperature_c", 300, 450, "°C"),
            pulse_bpm: take(&t.pulse, 0, "pulse", 20, 250, "/min"),
            systolic: take(&t.systolic, 0, "systolic", 50, 300, "mmHg"),
            diastolic: take(&t.diastolic, 0, "diastolic", 20, 200, "mmHg"),
            respiratory_rate: take(&t.respiratory_rate, 0, "respiratory_rate", 4, 80, "/min"),
            spo2: take(&t.spo2, 0, "spo2", 50, 100, "%"),
            weight_g: take(&t.weight_kg, 3, "weight_kg", 300, 400_000, "kg"),
            height_mm: take(&t.height_cm, 1, "height_cm", 300, 2_500, "cm"),
            bmi_x10: None,
        };
        match (v.systolic, v.diastolic) {
            (Some(s), Some(d)) if d >= s => {
                errors.push(FieldError::new("diastolic", "must be lower than the systolic pressure"));
            }
            (Some(_), None) | (None, Some(_))
                if errors.iter().all(|e| e.field != "systolic" && e.field != "diastolic") =>
            {
                errors.push(FieldError::new("diastolic", "give both pressures"));
            }
            _ => {}
        }
        let nothing = [
            v.temperature_dc,
            v.pulse_bpm,
            v.systolic,
            v.diastolic,
            v.respiratory_rate,
            v.spo2,
            v.weight_g,
            v.height_mm,
        ]
        .iter()
        .all(Option::is_none);
        if nothing && errors.is_empty() {
            errors.push(FieldError::new("temperature_c", "record at least one measurement"));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Vitals { bmi_x10: bmi_x10(v.weight_g, v.height_mm), ..v })
    }
}

/// Body-mass index in tenths: kg / m², rounded.
pub fn bmi_x10(weight_g: Option<i32>, height_mm: Option<i32>) -> Option<i32> {
    let (w, h) = (i64::from(weight_g?), i64::from(height_mm?));
    if h == 0 {
        return None;
    }
    // (w / 1000) / (h / 1000)^2 * 10 = w * 10_000 / h^2
    i32::try_from((w * 10_000 + h * h / 2) / (h * h)).ok()
}

coded!(
    /// FHIR Encounter.class.
    pub enum EncounterClass {
        #[serde(rename = "AMB")]
        #[strum(serialize = "AMB")]
        #[cfg_attr(feature = "db", sea_orm(string_value = "AMB"))]
        Outpatient,
        #[serde(rename = "EMER")]
        #[strum(serialize = "EMER")]
        #[cfg_attr(feature = "db", sea_orm(string_value = "EMER"))]
        Emergency,
        /// A stay: opened by an admission, ended by the discharge.
        #[serde(rename = "IMP")]
        #[strum(serialize = "IMP")]
        #[cfg_attr(feature = "db", sea_orm(string_value = "IMP"))]
        Inpatient,
    }
);
coded!(
    /// Where an encounter stands.
    pub enum EncounterStatus {
        InProgress,
        Finished,
        EnteredInError,
    }
);
coded!(
    /// A note is a draft until signed; signed is final.
    pub enum NoteStatus {
        Draft,
        Signed,
        EnteredInError,
    }
);
coded!(
    /// FHIR Condition.clinicalStatus (the subset a problem list needs).
    pub enum ClinicalStatus {
        Active,
        Resolved,
    }
);
coded!(
    /// The code system of a problem: ICD-10-CM for everything written in Salus; SNOMED CT
    /// for conditions taken in from a system that codes in it (Synthea, many EHRs).
    pub enum CodeSystem {
        #[serde(rename = "icd-10-cm")]
        #[strum(serialize = "icd-10-cm")]
        #[cfg_attr(feature = "db", sea_orm(string_value = "icd-10-cm"))]
        Icd10Cm,
        #[serde(rename = "snomed-ct")]
        #[strum(serialize = "snomed-ct")]
        #[cfg_attr(feature = "db", sea_orm(string_value = "snomed-ct"))]
        SnomedCt,
    }
);

impl CodeSystem {
    /// The system's URI in FHIR.
    pub fn uri(self) -> &'static str {
        match self {
            CodeSystem::Icd10Cm => "http://hl7.org/fhir/sid/icd-10-cm",
            CodeSystem::SnomedCt => "http://snomed.info/sct",
        }
    }
}

coded!(
    /// FHIR AllergyIntolerance reaction severity.
    pub enum Severity {
        Mild,
        Moderate,
        Severe,
    }
);
coded!(
    /// FHIR AllergyIntolerance.clinicalStatus.
    pub enum AllergyStatus {
        Active,
        Inactive,
        Resolved,
    }
);
coded!(
    /// FHIR MedicationRequest.status (the subset an outpatient prescription needs).
    pub enum PrescriptionStatus {
        Active,
        Completed,
        Stopped,
        EnteredInError,
    }
);
coded!(
    /// Where a referral stands: open → accepted → completed, or cancelled before that.
    pub enum ReferralStatus {
        Open,
        Accepted,
        Completed,
        Cancelled,
    }
);
coded!(
    /// FHIR ServiceRequest.priority (the two a referral letter uses).
    pub enum Urgency {
        Routine,
        Urgent,
    }
);

impl PrescriptionStatus {
    /// Whether a prescription may move to `to`, and whether the move needs a reason:
    /// active → completed; active → stopped (why); anything → entered in error (why).
    pub fn may_become(self, to: PrescriptionStatus) -> Option<bool> {
        use PrescriptionStatus::*;
        match (self, to) {
            (Active, Completed) => Some(false),
            (Active, Stopped) => Some(true),
            (from, EnteredInError) if from != EnteredInError => Some(true),
            _ => None,
        }
    }
}

impl ReferralStatus {
    pub fn may_become(self, to: ReferralStatus) -> bool {
        use ReferralStatus::*;
        matches!((self, to), (Open, Accepted) | (Accepted | Open, Completed) | (Open | Accepted, Cancelled))
    }
}

/// An allergy or intolerance on the patient's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allergy {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub substance: String,
    pub reaction: Option<String>,
    pub severity: Severity,
    pub status: AllergyStatus,
    pub recorded_by: Option<Uuid>,
    pub recorded_at: DateTime<Utc>,
    pub error_reason: Option<String>,
    pub version: i32,
}

/// A problem on the patient's list (ICD-10-CM coded; SNOMED CT when taken in so).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub code_system: CodeSystem,
    pub code: String,
    pub description: String,
    pub clinical_status: ClinicalStatus,
    pub onset_date: Option<NaiveDate>,
    pub recorded_by: Option<Uuid>,
    pub recorded_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub error_reason: Option<String>,
    pub version: i32,
}

/// A vaccine given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Immunization {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub vaccine: String,
    pub dose_number: Option<i32>,
    pub given_on: NaiveDate,
    pub lot_number: Option<String>,
    pub recorded_by: Option<Uuid>,
    pub recorded_at: DateTime<Utc>,
    pub error_reason: Option<String>,
}

/// A visit: outpatient or emergency, open until finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Encounter {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub appointment_id: Option<Uuid>,
    pub class: EncounterClass,
    pub status: EncounterStatus,
    pub doctor_id: Uuid,
    pub department_id: Option<Uuid>,
    pub chief_complaint: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub error_reason: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// One set of vital signs, in fixed integer units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VitalSigns {
    pub id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub patient_id: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Option<Uuid>,
    pub temperature_dc: Option<i32>,
    pub pulse_bpm: Option<i32>,
    pub systolic: Option<i32>,
    pub diastolic: Option<i32>,
    pub respiratory_rate: Option<i32>,
    pub spo2: Option<i32>,
    pub weight_g: Option<i32>,
    pub height_mm: Option<i32>,
    pub bmi_x10: Option<i32>,
    pub error_reason: Option<String>,
}

/// A clinical note (SOAP): a draft until signed; an amendment is a new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub id: Uuid,
    pub encounter_id: Uuid,
    pub patient_id: Uuid,
    pub author_id: Uuid,
    pub status: NoteStatus,
    pub amends: Option<Uuid>,
    pub amend_reason: Option<String>,
    pub subjective: String,
    pub objective: String,
    pub assessment: String,
    pub plan: String,
    pub signed_at: Option<DateTime<Utc>>,
    pub error_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// A medicine prescribed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Prescription {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub prescriber_id: Uuid,
    pub medicine_id: Uuid,
    pub medicine_name: String,
    pub dose: String,
    pub route: String,
    pub frequency: String,
    pub duration_days: Option<i32>,
    pub quantity: Option<i32>,
    pub instructions: Option<String>,
    pub status: PrescriptionStatus,
    pub status_reason: Option<String>,
    pub override_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// A referral to a department or a doctor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Referral {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub from_doctor_id: Uuid,
    pub to_department_id: Option<Uuid>,
    pub to_doctor_id: Option<Uuid>,
    pub reason: String,
    pub urgency: Urgency,
    pub status: ReferralStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// A file kept with the record (its bytes are fetched on their own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: Option<Uuid>,
    pub uploaded_at: DateTime<Utc>,
    pub error_reason: Option<String>,
}

/// An entry of the formulary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Medicine {
    pub id: Uuid,
    pub generic_name: String,
    pub form: String,
    pub strength: String,
    pub route: String,
    pub atc_code: Option<String>,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Medicine {
    /// The name a prescription carries: "Amoxicillin 500 mg capsule".
    pub fn label(&self) -> String {
        medicine_label(&self.generic_name, &self.strength, &self.form)
    }
}

/// "Amoxicillin 500 mg capsule": name, strength, form.
pub fn medicine_label(generic_name: &str, strength: &str, form: &str) -> String {
    format!("{generic_name} {strength} {form}")
}

/// A department's starting text for a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoteTemplate {
    pub id: Uuid,
    pub department_id: Option<Uuid>,
    pub name: String,
    pub subjective: String,
    pub objective: String,
    pub assessment: String,
    pub plan: String,
    pub active: bool,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str, p: &str, s: &str, d: &str, w: &str, h: &str) -> VitalsText {
        VitalsText {
            temperature_c: t.into(),
            pulse: p.into(),
            systolic: s.into(),
            diastolic: d.into(),
            weight_kg: w.into(),
            height_cm: h.into(),
            ..Default::default()
        }
    }

    #[test]
    fn plausible_vitals_in_fixed_units_with_bmi() {
        let v = Vitals::check(&text("36,8", "72", "120", "80", "70.5", "172")).unwrap();
        assert_eq!(
            (v.temperature_dc, v.pulse_bpm, v.weight_g, v.height_mm),
            (Some(368), Some(72), Some(70_500), Some(1720))
        );
        assert_eq!(v.bmi_x10, Some(238), "70.5 / 1.72² = 23.8");
    }

    #[test]
    fn implausible_vitals_are_refused_each_by_field() {
        let errors = Vitals::check(&text("370", "7", "80", "120", "", "")).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["temperature_c", "pulse", "diastolic"]);
        assert!(Vitals::check(&VitalsText::default()).is_err(), "nothing measured");
        assert_eq!(Vitals::check(&text("", "", "120", "", "", "")).unwrap_err()[0].field, "diastolic");
        assert!(Vitals::check(&text("36.85", "", "", "", "", "")).is_err(), "one decimal for temperature");
        assert!(Vitals::check(&text("-3", "", "", "", "", "")).is_err());
    }

    #[test]
    fn codes_round_trip() {
        assert_eq!(EncounterClass::parse("EMER", "class").unwrap(), EncounterClass::Emergency);
        assert!(Severity::parse("deadly", "severity").is_err());
        assert_eq!(EncounterClass::Outpatient.as_str(), "AMB");
        assert_eq!(NoteStatus::EnteredInError.as_str(), "entered_in_error");
        let message = Urgency::parse("soon", "urgency").unwrap_err().message;
        assert_eq!(message, "choose one of routine, urgent");
    }

    #[test]
    fn status_moves() {
        use PrescriptionStatus as P;
        assert_eq!(P::Active.may_become(P::Completed), Some(false));
        assert_eq!(P::Active.may_become(P::Stopped), Some(true), "stopping needs a reason");
        assert_eq!(P::Completed.may_become(P::Stopped), None);
        assert_eq!(P::EnteredInError.may_become(P::EnteredInError), None);
        assert!(ReferralStatus::Open.may_become(ReferralStatus::Completed));
        assert!(!ReferralStatus::Completed.may_become(ReferralStatus::Cancelled));
    }
}
