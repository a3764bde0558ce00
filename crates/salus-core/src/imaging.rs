//! Imaging's language: the modalities (DICOM codes), the sides of the body, where an
//! imaging order stands from request to authorised report, and the rules of a report's
//! text. An order is FHIR's ServiceRequest, the examination done is its ImagingStudy
//! (with the accession number a PACS shares), the report its DiagnosticReport.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::FieldError;
use crate::laboratory::Priority;

coded!(
    /// The kind of equipment (DICOM modality codes, lower-cased in the database).
    pub enum Modality {
        /// Digital radiography (plain X-ray).
        Dx,
        Ct,
        Mr,
        Us,
        /// Mammography.
        Mg,
        /// Fluoroscopy (contrast studies).
        Rf,
        /// Nuclear medicine.
        Nm,
        /// Angiography.
        Xa,
    }
);

impl Modality {
    /// The DICOM code ("CT").
    pub fn dicom(self) -> String {
        self.as_str().to_uppercase()
    }

    /// What staff call it.
    pub fn name(self) -> &'static str {
        match self {
            Modality::Dx => "X-ray",
            Modality::Ct => "CT",
            Modality::Mr => "MRI",
            Modality::Us => "Ultrasound",
            Modality::Mg => "Mammography",
            Modality::Rf => "Fluoroscopy",
            Modality::Nm => "Nuclear medicine",
            Modality::Xa => "Angiography",
        }
    }
}

coded!(
    /// Which side an examination of a paired part is of.
    pub enum Laterality {
        Left,
        Right,
        Bilateral,
    }
);

coded!(
    /// Where an imaging order stands.
    pub enum ImagingStatus {
        /// Requested, not yet given a time.
        Ordered,
        /// Given a time and a room.
        Scheduled,
        /// The examination is done; waiting for its report.
        Performed,
        /// A report is written, waiting for a doctor to authorise it.
        Reported,
        /// The report is authorised: released to the chart and the patient.
        Final,
        Cancelled,
    }
);

impl ImagingStatus {
    /// The states an order may be cancelled from: before the examination is done.
    pub const CANCELLABLE: &'static [ImagingStatus] = &[ImagingStatus::Ordered, ImagingStatus::Scheduled];
    /// The states the imaging worklist shows by default.
    pub const OPEN: &'static [ImagingStatus] = &[
        ImagingStatus::Ordered,
        ImagingStatus::Scheduled,
        ImagingStatus::Performed,
        ImagingStatus::Reported,
    ];
}

coded!(
    /// A report version (FHIR DiagnosticReport.status).
    pub enum ReportStatus {
        /// Written, not yet authorised: seen by imaging staff only.
        Preliminary,
        /// Authorised and released.
        Final,
        /// A released report corrected by a newer version; kept readable.
        Amended,
    }
);

/// The longest findings or impression a report takes.
pub const REPORT_TEXT_MAX: usize = 20_000;

/// A report section as written: line breaks kept, trailing space trimmed; empty, too long
/// or holding control characters (which PostgreSQL's text cannot store) is refused by name.
pub fn report_text(text: &str, field: &'static str) -> Result<String, FieldError> {
    let text = text.replace("\r\n", "\n");
    let text = text.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, "write the report's text"));
    }
    if text.chars().count() > REPORT_TEXT_MAX {
        return Err(FieldError::new(field, format!("keep it under {REPORT_TEXT_MAX} characters")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(FieldError::new(field, "remove the control characters"));
    }
    Ok(text.to_owned())
}

/// A procedure of the imaging catalog ("XR chest PA", "CT head without contrast").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImagingProcedure {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub modality: Modality,
    pub body_part: String,
    /// A paired part: the order must say which side.
    pub laterality_required: bool,
    /// LOINC (the radiology playbook's code for the procedure).
    pub loinc: Option<String>,
    /// How long the room is taken.
    pub duration_minutes: i32,
    /// What the patient must do beforehand ("nil by mouth for 6 hours").
    pub preparation: Option<String>,
    pub service_code: Option<String>,
    pub active: bool,
    pub version: i32,
}

/// An imaging order, from request to authorised report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImagingOrder {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub procedure_id: Uuid,
    pub procedure_name: String,
    pub modality: Modality,
    pub body_part: String,
    pub laterality: Option<Laterality>,
    pub priority: Priority,
    pub clinical_question: String,
    pub status: ImagingStatus,
    /// The number the modality and the PACS share ("R26-000042"), given when ordered.
    pub accession: String,
    pub ordered_by: Uuid,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub room: Option<String>,
    pub performed_by: Option<Uuid>,
    pub performed_at: Option<DateTime<Utc>>,
    /// Technique, contrast, dose: what the radiographer notes.
    pub performed_note: Option<String>,
    pub cancel_reason: Option<String>,
    pub service_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl ImagingOrder {
    /// "CT head (left)", for lists and the timeline.
    pub fn title(&self) -> String {
        match self.laterality {
            Some(l) => format!("{} ({})", self.procedure_name, l.words()),
            None => self.procedure_name.clone(),
        }
    }
}

/// One version of an order's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImagingReport {
    pub id: Uuid,
    pub order_id: Uuid,
    pub patient_id: Uuid,
    pub revision: i32,
    pub status: ReportStatus,
    pub findings: String,
    pub impression: String,
    pub written_by: Uuid,
    pub written_at: DateTime<Utc>,
    pub authorised_by: Option<Uuid>,
    pub authorised_at: Option<DateTime<Utc>>,
    pub amend_reason: Option<String>,
    pub superseded_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_keeps_its_lines_and_refuses_what_cannot_be_stored() {
        assert_eq!(
            report_text("  Lungs clear.\r\nNo effusion.  \n", "findings").unwrap(),
            "Lungs clear.\nNo effusion."
        );
        assert_eq!(report_text(" \n\t ", "findings").unwrap_err().field, "findings");
        assert!(report_text("a\u{0}b", "impression").is_err());
        assert!(report_text(&"x".repeat(REPORT_TEXT_MAX + 1), "findings").is_err());
        assert!(report_text(&"x".repeat(REPORT_TEXT_MAX), "findings").is_ok());
    }

    #[test]
    fn modalities_speak_dicom() {
        assert_eq!(Modality::Ct.dicom(), "CT");
        assert_eq!("us".parse::<Modality>().unwrap(), Modality::Us);
        assert_eq!(Modality::parse("pet", "modality").unwrap_err().field, "modality");
    }

    #[test]
    fn only_an_order_not_yet_examined_may_be_cancelled() {
        assert!(ImagingStatus::CANCELLABLE.contains(&ImagingStatus::Scheduled));
        assert!(!ImagingStatus::CANCELLABLE.contains(&ImagingStatus::Performed));
        assert!(!ImagingStatus::OPEN.contains(&ImagingStatus::Final));
    }
}
