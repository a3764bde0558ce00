//! Insurance's language: payers (insurers and the third-party administrators that work
//! their claims), plans and what they cover, a patient's policy, pre-authorisations, and
//! claims with the insurer's and the patient's shares of a bill.
//!
//! A claim's life: `draft` (shares computed, nothing moved) → `submitted` (the insurer's
//! share moves from what the patient owes to what the insurer owes) → `approved`,
//! `partly_approved` or `denied` (what is not approved moves back to the patient) →
//! `settled` (the remittance arrives; its deductions are written off) → `closed`. A denied
//! claim may be sent again as the next version of the same claim number.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::billing::{Account, JournalLine, allocate, round_div};
use crate::organisation::ServiceCategory;

coded!(
    /// Who pays claims.
    pub enum PayerKind {
        Insurer,
        /// A third-party administrator, handling claims for insurers.
        Tpa,
    }
);

coded!(
    /// Whether a policy can be claimed against.
    pub enum PolicyStatus {
        Active,
        Cancelled,
    }
);

coded!(
    /// Where a pre-authorisation stands.
    pub enum PreauthStatus {
        /// Sent to the insurer, waiting for its answer.
        Requested,
        /// Approved, for the amount recorded (which may be less than asked).
        Approved,
        Denied,
        /// Withdrawn by the hospital.
        Cancelled,
    }
);

coded!(
    /// Where a claim stands.
    pub enum ClaimStatus {
        Draft,
        Submitted,
        Approved,
        PartlyApproved,
        Denied,
        Settled,
        Closed,
    }
);

impl ClaimStatus {
    /// The states in which the insurer owes money on the claim.
    pub const RECEIVABLE: &'static [ClaimStatus] =
        &[ClaimStatus::Submitted, ClaimStatus::Approved, ClaimStatus::PartlyApproved];
    /// The states that count against a policy's sum insured.
    pub const COUNTED: &'static [ClaimStatus] = &[
        ClaimStatus::Submitted,
        ClaimStatus::Approved,
        ClaimStatus::PartlyApproved,
        ClaimStatus::Settled,
        ClaimStatus::Closed,
    ];
}

/// What a plan covers: the service categories, the patient's co-payment on covered
/// services (basis points), and the sum insured over a policy's period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub covered: BTreeSet<ServiceCategory>,
    pub copay_bp: i64,
}

impl Coverage {
    /// From the stored comma-separated categories.
    pub fn new(covered: &str, copay_bp: i64) -> Self {
        let covered = covered.split(',').filter_map(|c| ServiceCategory::parse(c, "covered").ok()).collect();
        Self { covered, copay_bp: copay_bp.clamp(0, 10_000) }
    }

    /// The stored form of a set of categories.
    pub fn covered_text(categories: &[ServiceCategory]) -> String {
        let set: BTreeSet<_> = categories.iter().copied().collect();
        set.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",")
    }
}

/// One bill line's split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    pub insurer_minor: i64,
    pub patient_minor: i64,
}

/// Splits a bill's lines (`(category, net)`) between insurer and patient: a covered
/// line is the insurer's but for the co-payment (rounded by [`round_div`]); an uncovered
/// line is the patient's. If the insurer's part comes to more than `cap` (what is left of
/// the sum insured, the pre-authorised amount, the bill's balance — the least of them),
/// the excess goes back to the patient, spread over the covered lines by [`allocate`].
/// Every line's two parts add up to its net, to the minor unit.
pub fn shares(lines: &[(ServiceCategory, i64)], coverage: &Coverage, cap: Option<i64>) -> Vec<Share> {
    let mut insurer: Vec<i64> = lines
        .iter()
        .map(|(cat, net)| {
            if coverage.covered.contains(cat) && *net > 0 {
                net - round_div(i128::from(*net) * i128::from(coverage.copay_bp), 10_000)
            } else {
                0
            }
        })
        .collect();
    let total: i64 = insurer.iter().sum();
    if let Some(cap) = cap {
        let excess = total - cap.max(0);
        if excess > 0 {
            for (i, cut) in allocate(excess, &insurer).into_iter().enumerate() {
                insurer[i] -= cut;
            }
        }
    }
    lines
        .iter()
        .zip(insurer)
        .map(|((_, net), ins)| Share { insurer_minor: ins, patient_minor: net - ins })
        .collect()
}

/// Submitting a claim: the insurer's share moves from the patient's receivable to the
/// insurer's.
pub fn submission_entry(claimed: i64) -> Vec<JournalLine> {
    vec![
        JournalLine::debit(Account::InsurerReceivable, claimed),
        JournalLine::credit(Account::PatientReceivable, claimed),
    ]
}

/// The insurer's decision: what it will not pay goes back to the patient.
pub fn decision_entry(not_approved: i64) -> Vec<JournalLine> {
    vec![
        JournalLine::debit(Account::PatientReceivable, not_approved),
        JournalLine::credit(Account::InsurerReceivable, not_approved),
    ]
}

/// The remittance: money into the bank, the insurer's deductions written off, the
/// insurer's receivable cleared of what was approved.
pub fn settlement_entry(received: i64, deductions: i64) -> Vec<JournalLine> {
    vec![
        JournalLine::debit(Account::Bank, received),
        JournalLine::debit(Account::ClaimDeductions, deductions),
        JournalLine::credit(Account::InsurerReceivable, received + deductions),
    ]
}

/// The ages an insurer's outstanding claims are reported by, since submission.
pub const AGE_BUCKETS: [&str; 4] = ["0–30 days", "31–60 days", "61–90 days", "over 90 days"];

/// An insurer or a third-party administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payer {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: PayerKind,
    pub administrator_id: Option<Uuid>,
    pub contact: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// An insurer's plan (FHIR InsurancePlan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub id: Uuid,
    pub payer_id: Uuid,
    pub code: String,
    pub name: String,
    pub covered: String,
    pub copay_bp: i32,
    pub limit_minor: Option<i64>,
    pub preauth_required: bool,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// A patient's policy (FHIR Coverage).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub plan_id: Uuid,
    pub member_number: String,
    pub holder: Option<String>,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub status: PolicyStatus,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

impl Policy {
    /// Whether the policy can be claimed against for care on `day`.
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.status == PolicyStatus::Active && self.valid_from <= day && day <= self.valid_to
    }
}

/// A request to the insurer to approve care before it is given (FHIR Claim with
/// use = preauthorization).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preauthorisation {
    pub id: Uuid,
    pub number: String,
    pub patient_id: Uuid,
    pub policy_id: Uuid,
    pub admission_id: Option<Uuid>,
    pub diagnosis: String,
    pub requested_minor: i64,
    pub approved_minor: Option<i64>,
    pub status: PreauthStatus,
    pub reference: Option<String>,
    pub note: Option<String>,
    pub requested_by: Uuid,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A claim on an invoice (FHIR Claim; its decision and settlement are the
/// ClaimResponse).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claim {
    pub id: Uuid,
    pub number: String,
    pub claim_version: i32,
    pub previous_id: Option<Uuid>,
    pub patient_id: Uuid,
    pub policy_id: Uuid,
    pub payer_id: Uuid,
    pub invoice_id: Uuid,
    pub preauthorisation_id: Option<Uuid>,
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
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub settled_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
}

impl Claim {
    /// What the insurer still owes on the claim.
    pub fn outstanding_minor(&self) -> i64 {
        if ClaimStatus::RECEIVABLE.contains(&self.status) {
            self.approved_minor.unwrap_or(self.claimed_minor)
        } else {
            0
        }
    }
}

/// One invoice line's split on a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimLine {
    pub id: Uuid,
    pub claim_id: Uuid,
    pub invoice_line_id: Uuid,
    pub description: String,
    pub category: String,
    pub net_minor: i64,
    pub insurer_minor: i64,
    pub patient_minor: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::balanced;
    use proptest::prelude::*;

    fn lab_and_meds() -> Coverage {
        Coverage::new("laboratory,bed_day,consultation", 1000)
    }

    #[test]
    fn a_covered_line_is_the_insurers_but_for_the_copayment() {
        let lines = [(ServiceCategory::Laboratory, 1_005), (ServiceCategory::Pharmacy, 500)];
        let s = shares(&lines, &lab_and_meds(), None);
        // 10 % of 10.05 is 1.005, rounded half away from zero to 1.01.
        assert_eq!(s[0], Share { insurer_minor: 904, patient_minor: 101 });
        assert_eq!(s[1], Share { insurer_minor: 0, patient_minor: 500 });
    }

    #[test]
    fn the_cap_sends_the_excess_back_to_the_patient() {
        let lines = [(ServiceCategory::Laboratory, 1_000), (ServiceCategory::BedDay, 3_000)];
        let s = shares(&lines, &Coverage::new("laboratory,bed_day", 0), Some(1_001));
        assert_eq!(s.iter().map(|x| x.insurer_minor).sum::<i64>(), 1_001);
        assert_eq!(s[0].insurer_minor + s[0].patient_minor, 1_000);
        assert_eq!(s[1].insurer_minor + s[1].patient_minor, 3_000);
    }

    #[test]
    fn unknown_categories_in_the_stored_text_are_ignored() {
        let c = Coverage::new("laboratory, nonsense ,imaging", 20_000);
        assert_eq!(c.covered.len(), 2);
        assert_eq!(c.copay_bp, 10_000);
        assert_eq!(
            Coverage::covered_text(&[ServiceCategory::Imaging, ServiceCategory::Laboratory]),
            "laboratory,imaging"
        );
    }

    #[test]
    fn every_step_of_a_claim_balances() {
        assert!(balanced(&submission_entry(10_000)));
        assert!(balanced(&decision_entry(2_500)));
        assert!(balanced(&settlement_entry(7_000, 500)));
    }

    proptest! {
        #[test]
        fn shares_always_add_up_and_respect_the_cap(
            nets in proptest::collection::vec((0usize..7, 0i64..1_000_000), 1..40),
            copay in 0i64..=10_000,
            cap in proptest::option::of(0i64..5_000_000),
        ) {
            let lines: Vec<_> = nets.iter().map(|(c, n)| (ServiceCategory::ALL[*c], *n)).collect();
            let coverage = Coverage { covered: [ServiceCategory::Laboratory, ServiceCategory::BedDay, ServiceCategory::Pharmacy].into(), copay_bp: copay };
            let s = shares(&lines, &coverage, cap);
            for ((cat, net), sh) in lines.iter().zip(&s) {
                prop_assert_eq!(sh.insurer_minor + sh.patient_minor, *net);
                prop_assert!(sh.insurer_minor >= 0 && sh.patient_minor >= 0);
                if !coverage.covered.contains(cat) {
                    prop_assert_eq!(sh.insurer_minor, 0);
                }
            }
            if let Some(cap) = cap {
                prop_assert!(s.iter().map(|x| x.insurer_minor).sum::<i64>() <= cap);
            }
        }
    }
}
