//! The laboratory's wire types: what the API answers with, field for field from the
//! domain's records, each documented for the OpenAPI document.

use chrono::{DateTime, NaiveDate, Utc};
use salus_app::laboratory::{AnalyteLine, LabPatient, OrderDetail, WorkItem};
use salus_core::laboratory::{
    CriticalAlert, Flag, LabOrder, LabResult, LabTest, OrderStatus, Priority, RangeSex, ReferenceRange,
    RejectReason, ResultStatus, ResultType, Specimen, SpecimenStatus, TestKind,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::openapi::{coded, coded_or_null};

/// A test of the catalog: one analyte or a panel.
#[derive(Debug, Serialize, ToSchema)]
pub struct LabTestOut {
    pub id: Uuid,
    /// The lab's short code ("K", "CBC").
    pub code: String,
    pub name: String,
    #[schema(schema_with = coded::<TestKind>)]
    pub kind: TestKind,
    /// LOINC code.
    pub loinc: Option<String>,
    /// haematology, biochemistry, …
    pub section: String,
    /// The specimen type (blood, serum, urine…).
    pub specimen: String,
    /// The tube or container.
    pub container: String,
    /// UCUM unit of a numeric result.
    pub unit: Option<String>,
    #[schema(schema_with = coded_or_null::<ResultType>)]
    pub result_type: Option<ResultType>,
    pub decimals: i32,
    pub method: Option<String>,
    /// The target time from receipt to release.
    pub turnaround_minutes: i32,
    /// The price-list service it is billed as.
    pub service_code: Option<String>,
    /// A calculated analyte's formula (egfr_ckd_epi_2021, ldl_friedewald).
    pub formula: Option<String>,
    /// A coded result's answers, the normal one first, separated by `|`.
    pub answers: Option<String>,
    /// The change from the previous result (percent) that the delta check marks.
    pub delta_percent: Option<f64>,
    pub active: bool,
    pub version: i32,
}

impl From<LabTest> for LabTestOut {
    fn from(t: LabTest) -> Self {
        Self {
            id: t.id,
            code: t.code,
            name: t.name,
            kind: t.kind,
            loinc: t.loinc,
            section: t.section,
            specimen: t.specimen,
            container: t.container,
            unit: t.unit,
            result_type: t.result_type,
            decimals: t.decimals,
            method: t.method,
            turnaround_minutes: t.turnaround_minutes,
            service_code: t.service_code,
            formula: t.formula,
            answers: t.answers,
            delta_percent: t.delta_percent,
            active: t.active,
            version: t.version,
        }
    }
}

/// A reference range: an age band `[age_from_days, age_to_days)` for a sex.
#[derive(Debug, Serialize, ToSchema)]
pub struct RangeOut {
    pub id: Uuid,
    /// any, female or male (`any` serves other and unknown too).
    #[schema(schema_with = coded::<RangeSex>)]
    pub sex: RangeSex,
    pub age_from_days: i32,
    /// Exclusive; absent: no upper bound.
    pub age_to_days: Option<i32>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub critical_low: Option<f64>,
    pub critical_high: Option<f64>,
    /// A value outside these cannot be a measurement and is refused.
    pub valid_low: Option<f64>,
    pub valid_high: Option<f64>,
    /// Where the numbers come from.
    pub source: String,
}

impl From<ReferenceRange> for RangeOut {
    fn from(r: ReferenceRange) -> Self {
        Self {
            id: r.id,
            sex: r.sex,
            age_from_days: r.age_from_days,
            age_to_days: r.age_to_days,
            low: r.low,
            high: r.high,
            critical_low: r.critical_low,
            critical_high: r.critical_high,
            valid_low: r.valid_low,
            valid_high: r.valid_high,
            source: r.source,
        }
    }
}

/// A catalog entry with its analytes (a panel's) and reference ranges.
#[derive(Debug, Serialize, ToSchema)]
pub struct LabTestDetailOut {
    pub test: LabTestOut,
    pub members: Vec<LabTestOut>,
    pub ranges: Vec<RangeOut>,
}

/// An order line (FHIR ServiceRequest).
#[derive(Debug, Serialize, ToSchema)]
pub struct LabOrderOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    /// The lines ordered together share it.
    pub requisition_id: Uuid,
    pub ordered_by: Uuid,
    pub test_id: Uuid,
    pub test_name: String,
    #[schema(schema_with = coded::<Priority>)]
    pub priority: Priority,
    pub clinical_info: Option<String>,
    #[schema(schema_with = coded::<OrderStatus>)]
    pub status: OrderStatus,
    pub cancel_reason: Option<String>,
    pub specimen_id: Option<Uuid>,
    /// The price-list service it is billed as.
    pub service_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl From<LabOrder> for LabOrderOut {
    fn from(o: LabOrder) -> Self {
        Self {
            id: o.id,
            patient_id: o.patient_id,
            encounter_id: o.encounter_id,
            requisition_id: o.requisition_id,
            ordered_by: o.ordered_by,
            test_id: o.test_id,
            test_name: o.test_name,
            priority: o.priority,
            clinical_info: o.clinical_info,
            status: o.status,
            cancel_reason: o.cancel_reason,
            specimen_id: o.specimen_id,
            service_id: o.service_id,
            created_at: o.created_at,
            updated_at: o.updated_at,
            version: o.version,
        }
    }
}

/// A specimen (FHIR Specimen).
#[derive(Debug, Serialize, ToSchema)]
pub struct SpecimenOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    /// The accession number on its label ("L26-000042").
    pub accession: String,
    pub specimen: String,
    pub container: String,
    #[schema(schema_with = coded::<SpecimenStatus>)]
    pub status: SpecimenStatus,
    pub collected_by: Uuid,
    pub collected_at: DateTime<Utc>,
    pub received_by: Option<Uuid>,
    pub received_at: Option<DateTime<Utc>>,
    #[schema(schema_with = coded_or_null::<RejectReason>)]
    pub reject_reason: Option<RejectReason>,
    pub reject_note: Option<String>,
    pub version: i32,
}

impl From<Specimen> for SpecimenOut {
    fn from(s: Specimen) -> Self {
        Self {
            id: s.id,
            patient_id: s.patient_id,
            accession: s.accession,
            specimen: s.specimen,
            container: s.container,
            status: s.status,
            collected_by: s.collected_by,
            collected_at: s.collected_at,
            received_by: s.received_by,
            received_at: s.received_at,
            reject_reason: s.reject_reason,
            reject_note: s.reject_note,
            version: s.version,
        }
    }
}

/// One revision of one analyte's result (FHIR Observation), with the range it was read
/// against as it was then.
#[derive(Debug, Serialize, ToSchema)]
pub struct LabResultOut {
    pub id: Uuid,
    pub order_id: Uuid,
    pub specimen_id: Uuid,
    pub patient_id: Uuid,
    pub test_id: Uuid,
    pub analyte: String,
    pub loinc: Option<String>,
    /// 1, then one more for each correction.
    pub revision: i32,
    /// preliminary (waiting for verification), final, or corrected.
    #[schema(schema_with = coded::<ResultStatus>)]
    pub status: ResultStatus,
    pub value_num: Option<f64>,
    pub value_text: Option<String>,
    /// The value as the report prints it.
    pub value: String,
    pub unit: Option<String>,
    /// LL, L, H, HH or A (abnormal coded answer).
    #[schema(schema_with = coded_or_null::<Flag>)]
    pub flag: Option<Flag>,
    pub ref_low: Option<f64>,
    pub ref_high: Option<f64>,
    pub critical_low: Option<f64>,
    pub critical_high: Option<f64>,
    pub range_text: Option<String>,
    /// The change from the previous result, in percent, when the delta check marked it.
    pub delta_percent: Option<f64>,
    pub calculated: bool,
    pub collected_at: DateTime<Utc>,
    pub entered_by: Uuid,
    pub entered_at: DateTime<Utc>,
    pub verified_by: Option<Uuid>,
    pub verified_at: Option<DateTime<Utc>>,
    /// Why a released result was corrected.
    pub amend_reason: Option<String>,
    /// Set on a revision a correction replaced.
    pub superseded_at: Option<DateTime<Utc>>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

impl From<LabResult> for LabResultOut {
    fn from(r: LabResult) -> Self {
        Self {
            value: r.value(),
            id: r.id,
            order_id: r.order_id,
            specimen_id: r.specimen_id,
            patient_id: r.patient_id,
            test_id: r.test_id,
            analyte: r.analyte,
            loinc: r.loinc,
            revision: r.revision,
            status: r.status,
            value_num: r.value_num,
            value_text: r.value_text,
            unit: r.unit,
            flag: r.flag,
            ref_low: r.ref_low,
            ref_high: r.ref_high,
            critical_low: r.critical_low,
            critical_high: r.critical_high,
            range_text: r.range_text,
            delta_percent: r.delta_percent,
            calculated: r.calculated,
            collected_at: r.collected_at,
            entered_by: r.entered_by,
            entered_at: r.entered_at,
            verified_by: r.verified_by,
            verified_at: r.verified_at,
            amend_reason: r.amend_reason,
            superseded_at: r.superseded_at,
            reviewed_by: r.reviewed_by,
            reviewed_at: r.reviewed_at,
        }
    }
}

/// Who the patient is, to match a tube to a wristband.
#[derive(Debug, Serialize, ToSchema)]
pub struct LabPatientOut {
    pub id: Uuid,
    pub mrn: String,
    pub name: String,
    pub sex: String,
    pub birth_date: Option<NaiveDate>,
}

impl From<LabPatient> for LabPatientOut {
    fn from(p: LabPatient) -> Self {
        Self { id: p.id, mrn: p.mrn, name: p.name, sex: p.sex, birth_date: p.birth_date }
    }
}

/// An analyte of an order line and its current result.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalyteOut {
    pub test: LabTestOut,
    pub result: Option<LabResultOut>,
    /// The range that applies to this patient, as text.
    pub range_text: String,
}

impl From<AnalyteLine> for AnalyteOut {
    fn from(a: AnalyteLine) -> Self {
        Self { test: a.test.into(), result: a.result.map(Into::into), range_text: a.range_text }
    }
}

/// An order line with its patient, specimen and results (FHIR DiagnosticReport).
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDetailOut {
    pub order: LabOrderOut,
    pub patient: LabPatientOut,
    pub specimen: Option<SpecimenOut>,
    pub analytes: Vec<AnalyteOut>,
}

impl From<OrderDetail> for OrderDetailOut {
    fn from(d: OrderDetail) -> Self {
        Self {
            order: d.order.into(),
            patient: d.patient.into(),
            specimen: d.specimen.map(Into::into),
            analytes: d.analytes.into_iter().map(Into::into).collect(),
        }
    }
}

/// A line of the lab's worklist.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkItemOut {
    pub order: LabOrderOut,
    pub patient: LabPatientOut,
    pub section: String,
    pub specimen: Option<SpecimenOut>,
}

impl From<WorkItem> for WorkItemOut {
    fn from(w: WorkItem) -> Self {
        Self {
            order: w.order.into(),
            patient: w.patient.into(),
            section: w.section,
            specimen: w.specimen.map(Into::into),
        }
    }
}

/// A critical result's task.
#[derive(Debug, Serialize, ToSchema)]
pub struct CriticalAlertOut {
    pub id: Uuid,
    pub result_id: Uuid,
    pub patient_id: Uuid,
    /// The doctor who ordered the test.
    pub notify_user_id: Uuid,
    pub summary: String,
    pub created_at: DateTime<Utc>,
    /// When it goes to every doctor if nobody has acknowledged it.
    pub escalate_at: DateTime<Utc>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<Uuid>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The value as the doctor read it back.
    pub read_back: Option<String>,
    /// From release to acknowledgement.
    pub minutes_to_acknowledge: Option<f64>,
    pub patient: Option<LabPatientOut>,
}

impl CriticalAlertOut {
    pub(super) fn new(a: CriticalAlert, patient: Option<LabPatient>) -> Self {
        let minutes =
            a.acknowledged_at.map(|t| ((t - a.created_at).num_seconds() as f64 / 6.0).round() / 10.0);
        Self {
            id: a.id,
            result_id: a.result_id,
            patient_id: a.patient_id,
            notify_user_id: a.notify_user_id,
            summary: a.summary,
            created_at: a.created_at,
            escalate_at: a.escalate_at,
            escalated_at: a.escalated_at,
            acknowledged_by: a.acknowledged_by,
            acknowledged_at: a.acknowledged_at,
            read_back: a.read_back,
            minutes_to_acknowledge: minutes,
            patient: patient.map(Into::into),
        }
    }
}

/// A released result waiting for its doctor's review, with its patient.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxResultOut {
    pub result: LabResultOut,
    pub patient: LabPatientOut,
}

/// The signed-in doctor's laboratory inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxOut {
    pub alerts: Vec<CriticalAlertOut>,
    pub results: Vec<InboxResultOut>,
}
