//! Insurance's wire types, shaped after FHIR: a policy is a Coverage, a pre-authorisation
//! a Claim with `use = preauthorization`, a claim a Claim and its decision and remittance
//! the ClaimResponse's fields. Amounts are integers in minor units.

use chrono::{DateTime, NaiveDate, Utc};
use salus_app::billing::claims::{AgeingLine, ClaimDetail, InsuranceDesk};
use salus_app::billing::insurance::{PatientInsurance, PolicyView};
use salus_app::billing::leaks::Leak;
use salus_core::insurance::{
    AGE_BUCKETS, Claim, ClaimLine, ClaimStatus, Payer, PayerKind, Plan, Policy, PolicyStatus, PreauthStatus,
    Preauthorisation,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::laboratory::LabPatientOut;
use crate::api::openapi::coded;

/// An insurer or a third-party administrator (FHIR Organization of type `pay`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PayerOut {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    #[schema(schema_with = coded::<PayerKind>)]
    pub kind: PayerKind,
    /// The third-party administrator that works this insurer's claims.
    pub administrator_id: Option<Uuid>,
    pub contact: Option<String>,
    pub active: bool,
}

impl From<Payer> for PayerOut {
    fn from(p: Payer) -> Self {
        Self {
            id: p.id,
            code: p.code,
            name: p.name,
            kind: p.kind,
            administrator_id: p.administrator_id,
            contact: p.contact,
            active: p.active,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayerIn {
    pub code: String,
    pub name: String,
    #[schema(schema_with = coded::<PayerKind>)]
    pub kind: PayerKind,
    #[serde(default)]
    pub administrator_id: Option<Uuid>,
    #[serde(default)]
    pub contact: String,
}

/// An insurer's plan (FHIR InsurancePlan).
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanOut {
    pub id: Uuid,
    pub payer_id: Uuid,
    pub code: String,
    pub name: String,
    /// The service categories covered.
    pub covered: Vec<String>,
    /// The patient's co-payment on covered services, in basis points.
    pub copay_bp: i32,
    /// The sum insured over a policy's period (none: no limit).
    pub limit_minor: Option<i64>,
    pub preauth_required: bool,
    pub active: bool,
}

impl From<Plan> for PlanOut {
    fn from(p: Plan) -> Self {
        Self {
            id: p.id,
            payer_id: p.payer_id,
            code: p.code,
            name: p.name,
            covered: p.covered.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect(),
            copay_bp: p.copay_bp,
            limit_minor: p.limit_minor,
            preauth_required: p.preauth_required,
            active: p.active,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanIn {
    pub payer_id: Uuid,
    pub code: String,
    pub name: String,
    /// consultation, procedure, laboratory, imaging, bed_day, pharmacy, other.
    pub covered: Vec<String>,
    #[serde(default)]
    pub copay_bp: i64,
    #[serde(default)]
    pub limit_minor: Option<i64>,
    #[serde(default)]
    pub preauth_required: bool,
}

/// A patient's policy (FHIR Coverage), with what is left of its sum insured.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub plan_id: Uuid,
    pub plan: String,
    pub payer_id: Uuid,
    pub payer: String,
    pub member_number: String,
    pub holder: Option<String>,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    #[schema(schema_with = coded::<PolicyStatus>)]
    pub status: PolicyStatus,
    pub remaining_minor: Option<i64>,
}

impl From<PolicyView> for CoverageOut {
    fn from(v: PolicyView) -> Self {
        Self {
            id: v.policy.id,
            patient_id: v.policy.patient_id,
            plan_id: v.plan.id,
            plan: v.plan.name,
            payer_id: v.payer.id,
            payer: v.payer.name,
            member_number: v.policy.member_number,
            holder: v.policy.holder,
            valid_from: v.policy.valid_from,
            valid_to: v.policy.valid_to,
            status: v.policy.status,
            remaining_minor: v.remaining_minor,
        }
    }
}

/// A coverage as recorded (its plan and payer by id).
#[derive(Debug, Serialize, ToSchema)]
pub struct CoveragePolicyOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub plan_id: Uuid,
    pub member_number: String,
    pub holder: Option<String>,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    #[schema(schema_with = coded::<PolicyStatus>)]
    pub status: PolicyStatus,
}

impl From<Policy> for CoveragePolicyOut {
    fn from(p: Policy) -> Self {
        Self {
            id: p.id,
            patient_id: p.patient_id,
            plan_id: p.plan_id,
            member_number: p.member_number,
            holder: p.holder,
            valid_from: p.valid_from,
            valid_to: p.valid_to,
            status: p.status,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverageIn {
    pub plan_id: Uuid,
    pub member_number: String,
    #[serde(default)]
    pub holder: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
}

/// A pre-authorisation (FHIR Claim, use = preauthorization, with its ClaimResponse).
#[derive(Debug, Serialize, ToSchema)]
pub struct PreauthOut {
    pub id: Uuid,
    pub number: String,
    pub patient_id: Uuid,
    pub coverage_id: Uuid,
    pub admission_id: Option<Uuid>,
    pub diagnosis: String,
    pub requested_minor: i64,
    pub approved_minor: Option<i64>,
    #[schema(schema_with = coded::<PreauthStatus>)]
    pub status: PreauthStatus,
    pub reference: Option<String>,
    pub note: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub version: i32,
    /// The documents sent with it (attachments in the patient's record).
    pub documents: Vec<Uuid>,
}

impl PreauthOut {
    pub fn new(p: Preauthorisation, documents: Vec<Uuid>) -> Self {
        Self {
            id: p.id,
            number: p.number,
            patient_id: p.patient_id,
            coverage_id: p.policy_id,
            admission_id: p.admission_id,
            diagnosis: p.diagnosis,
            requested_minor: p.requested_minor,
            approved_minor: p.approved_minor,
            status: p.status,
            reference: p.reference,
            note: p.note,
            requested_at: p.requested_at,
            decided_at: p.decided_at,
            version: p.version,
            documents,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreauthIn {
    pub coverage_id: Uuid,
    #[serde(default)]
    pub admission_id: Option<Uuid>,
    pub diagnosis: String,
    pub requested_minor: i64,
}

/// The insurer's answer: an approved amount, or none for a denial (with its reason).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreauthAnswerIn {
    #[serde(default)]
    pub approved_minor: Option<i64>,
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub note: String,
    pub version: i32,
}

/// A claim (FHIR Claim; `approved_minor`, `settled_minor` and `deductions_minor` are its
/// ClaimResponse's).
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimOut {
    pub id: Uuid,
    pub number: String,
    /// 1, or more for a claim sent again after a denial.
    pub claim_version: i32,
    pub previous_id: Option<Uuid>,
    pub patient_id: Uuid,
    pub coverage_id: Uuid,
    pub payer_id: Uuid,
    pub invoice_id: Uuid,
    pub preauthorization_id: Option<Uuid>,
    #[schema(schema_with = coded::<ClaimStatus>)]
    pub status: ClaimStatus,
    pub invoice_total_minor: i64,
    pub claimed_minor: i64,
    pub patient_share_minor: i64,
    pub approved_minor: Option<i64>,
    pub settled_minor: i64,
    pub deductions_minor: i64,
    pub decision_note: Option<String>,
    pub payer_reference: Option<String>,
    pub remittance_reference: Option<String>,
    pub created_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub settled_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
}

impl From<Claim> for ClaimOut {
    fn from(c: Claim) -> Self {
        Self {
            id: c.id,
            number: c.number,
            claim_version: c.claim_version,
            previous_id: c.previous_id,
            patient_id: c.patient_id,
            coverage_id: c.policy_id,
            payer_id: c.payer_id,
            invoice_id: c.invoice_id,
            preauthorization_id: c.preauthorisation_id,
            status: c.status,
            invoice_total_minor: c.invoice_total_minor,
            claimed_minor: c.claimed_minor,
            patient_share_minor: c.patient_share_minor,
            approved_minor: c.approved_minor,
            settled_minor: c.settled_minor,
            deductions_minor: c.deductions_minor,
            decision_note: c.decision_note,
            payer_reference: c.payer_reference,
            remittance_reference: c.remittance_reference,
            created_at: c.created_at,
            submitted_at: c.submitted_at,
            decided_at: c.decided_at,
            settled_at: c.settled_at,
            closed_at: c.closed_at,
            version: c.version,
        }
    }
}

/// One invoice line's split on a claim (FHIR Claim.item).
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimLineOut {
    pub invoice_line_id: Uuid,
    pub description: String,
    pub category: String,
    pub net_minor: i64,
    pub insurer_minor: i64,
    pub patient_minor: i64,
}

impl From<ClaimLine> for ClaimLineOut {
    fn from(l: ClaimLine) -> Self {
        Self {
            invoice_line_id: l.invoice_line_id,
            description: l.description,
            category: l.category,
            net_minor: l.net_minor,
            insurer_minor: l.insurer_minor,
            patient_minor: l.patient_minor,
        }
    }
}

/// A claim with its lines and what it refers to.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimDetailOut {
    pub claim: ClaimOut,
    pub items: Vec<ClaimLineOut>,
    pub invoice_number: String,
    pub payer: String,
    pub plan: String,
    pub member_number: String,
    pub patient: LabPatientOut,
}

impl From<ClaimDetail> for ClaimDetailOut {
    fn from(d: ClaimDetail) -> Self {
        Self {
            claim: d.claim.into(),
            items: d.lines.into_iter().map(Into::into).collect(),
            invoice_number: d.invoice_number,
            payer: d.payer.name,
            plan: d.plan.name,
            member_number: d.policy.member_number,
            patient: d.patient.into(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimIn {
    pub coverage_id: Uuid,
}

/// A step on a claim that needs only the version it was read at.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimStepIn {
    pub version: i32,
}

/// The insurer's decision: all of the claim, part of it, or nothing (a denial).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimDecisionIn {
    pub approved_minor: i64,
    #[serde(default)]
    pub payer_reference: String,
    /// The insurer's reason, needed when it pays less than claimed.
    #[serde(default)]
    pub note: String,
    pub version: i32,
}

/// The insurer's remittance.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementIn {
    pub received_minor: i64,
    /// The transfer's reference (UTR).
    pub reference: String,
    /// What the deductions were for, needed when less than approved arrived.
    #[serde(default)]
    pub note: String,
    pub version: i32,
}

/// A patient's insurance.
#[derive(Debug, Serialize, ToSchema)]
pub struct InsuranceOut {
    pub coverages: Vec<CoverageOut>,
    pub preauthorizations: Vec<PreauthOut>,
    pub claims: Vec<ClaimOut>,
}

impl From<PatientInsurance> for InsuranceOut {
    fn from(i: PatientInsurance) -> Self {
        Self {
            coverages: i.policies.into_iter().map(Into::into).collect(),
            preauthorizations: i.preauths.into_iter().map(|(p, d)| PreauthOut::new(p, d)).collect(),
            claims: i.claims.into_iter().map(Into::into).collect(),
        }
    }
}

/// A pre-authorisation or claim on the desk, with its patient.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeskPreauthOut {
    pub preauthorization: PreauthOut,
    pub patient: LabPatientOut,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeskClaimOut {
    pub claim: ClaimOut,
    pub patient: LabPatientOut,
    pub payer: String,
}

/// The insurance desk's work.
#[derive(Debug, Serialize, ToSchema)]
pub struct InsuranceDeskOut {
    pub preauthorizations: Vec<DeskPreauthOut>,
    pub claims: Vec<DeskClaimOut>,
}

impl From<InsuranceDesk> for InsuranceDeskOut {
    fn from(d: InsuranceDesk) -> Self {
        Self {
            preauthorizations: d
                .preauths
                .into_iter()
                .map(|(p, who)| DeskPreauthOut {
                    preauthorization: PreauthOut::new(p, Vec::new()),
                    patient: who.into(),
                })
                .collect(),
            claims: d
                .claims
                .into_iter()
                .map(|(c, who, payer)| DeskClaimOut { claim: c.into(), patient: who.into(), payer })
                .collect(),
        }
    }
}

/// One payer's outstanding claims by age since submission.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgeingOut {
    pub payer_id: Uuid,
    pub payer: String,
    pub claims: i64,
    /// The ages, as labelled in `bucket_labels`: 0–30, 31–60, 61–90, over 90 days.
    pub buckets_minor: Vec<i64>,
    pub bucket_labels: Vec<String>,
    pub total_minor: i64,
}

impl From<AgeingLine> for AgeingOut {
    fn from(a: AgeingLine) -> Self {
        Self {
            payer_id: a.payer.id,
            payer: a.payer.name,
            claims: a.claims,
            buckets_minor: a.buckets.to_vec(),
            bucket_labels: AGE_BUCKETS.iter().map(|s| (*s).to_owned()).collect(),
            total_minor: a.total_minor,
        }
    }
}

/// A billable event with neither a charge nor an exemption.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeakOut {
    /// encounter, lab_order, imaging_order, dispense_line, nursing_task, bed_day.
    pub kind: String,
    pub source_id: Uuid,
    pub at: DateTime<Utc>,
    pub what: String,
    pub patient: LabPatientOut,
}

impl From<Leak> for LeakOut {
    fn from(l: Leak) -> Self {
        Self { kind: l.kind, source_id: l.source_id, at: l.at, what: l.what, patient: l.patient.into() }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExemptionIn {
    pub kind: String,
    pub source_id: Uuid,
    pub reason: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LeakQuery {
    pub from: NaiveDate,
    /// The last day checked; at most 92 days after `from`.
    pub to: NaiveDate,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DocumentQuery {
    pub filename: Option<String>,
}
