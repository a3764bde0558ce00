//! Claims: a bill's insurer share asked of the insurer, its answer, the remittance.
//!
//! A claim is drafted from a posted invoice and a policy in force on the invoice's date:
//! each line is split by the plan (covered categories, the co-payment), and the
//! insurer's part is capped by what is left of the sum insured, of the stay's approved
//! pre-authorisation, and of the bill's balance. Submitting moves the insurer's share off
//! what the patient owes (the invoice counts it as paid, the journal moves it to the
//! insurer's receivable); the insurer's decision sends back what it will not pay; the
//! remittance clears the receivable, its deductions written off. Each step is one
//! transaction that checks the claim's version, so two clerks cannot both settle it.

use std::collections::HashMap;

use chrono::Utc;
use salus_core::FieldError;
use salus_core::billing::InvoiceStatus;
use salus_core::insurance::{
    Claim, ClaimLine, ClaimStatus, Coverage, Payer, Plan, Policy, Preauthorisation, decision_entry,
    settlement_entry, shares, submission_entry,
};
use salus_core::organisation::{ServiceCategory, parse_optional_label};
use salus_db::ResultExt;
use salus_db::entity::{claim, claim_line, invoice};
use salus_db::insurance as q;
use serde_json::json;
use uuid::Uuid;

use super::me;
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::laboratory::LabPatient;
use crate::organisation::Checker;
use crate::{AppError, Ctx};

/// Claims are numbered in their own gapless series; a resubmission keeps the number and
/// takes the next version.
pub const CLAIM_SERIES: &str = "CLM";

/// The insurer's decision on a claim.
#[derive(Debug, Clone)]
pub struct ClaimDecision {
    /// What the insurer will pay: all of the claim (approved), part (partly approved) or
    /// nothing (denied, with the reason in `note`).
    pub approved_minor: i64,
    pub payer_reference: String,
    pub note: String,
    pub version: i32,
}

/// The insurer's remittance.
#[derive(Debug, Clone)]
pub struct Settlement {
    pub received_minor: i64,
    pub reference: String,
    /// What the deductions were for (needed when the money is less than approved).
    pub note: String,
    pub version: i32,
}

/// A claim with its lines and what it refers to.
#[derive(Debug, Clone)]
pub struct ClaimDetail {
    pub claim: Claim,
    pub lines: Vec<ClaimLine>,
    pub invoice_number: String,
    pub policy: Policy,
    pub plan: Plan,
    pub payer: Payer,
    pub patient: LabPatient,
}

/// The insurance desk's work: pre-authorisations waiting for an answer and claims to move.
#[derive(Debug, Clone)]
pub struct InsuranceDesk {
    pub preauths: Vec<(Preauthorisation, LabPatient)>,
    pub claims: Vec<(Claim, LabPatient, String)>,
}

/// One payer's outstanding claims by age.
#[derive(Debug, Clone)]
pub struct AgeingLine {
    pub payer: Payer,
    pub claims: i64,
    pub buckets: [i64; 4],
    pub total_minor: i64,
}

impl crate::Billing<'_> {
    /// Drafts a claim of an invoice against a patient's policy: shares computed, nothing
    /// moved until it is submitted.
    pub async fn draft_claim(&self, ctx: &Ctx, invoice_id: Uuid, policy_id: Uuid) -> Result<Claim, AppError> {
        self.authorize(ctx, Permission::InsuranceWork).await?;
        let conn = self.db.reader();
        let inv =
            salus_db::billing::find_invoice(conn, invoice_id).await?.ok_or(AppError::NotFound("invoice"))?;
        self.billed_patient(ctx, inv.patient_id, Permission::InsuranceWork).await?;
        let (row, lines) = self.claim_rows(&inv, policy_id, None).await?;
        let txn = self.db.begin_write().await?;
        let mut row = row;
        row.number = self.number(&txn, CLAIM_SERIES, row.created_at).await?;
        let created = self.insert_claim(ctx, &txn, row, lines).await?;
        txn.commit().await?;
        Ok(created)
    }

    async fn insert_claim(
        &self,
        ctx: &Ctx,
        txn: &sea_orm::DatabaseTransaction,
        row: claim::Model,
        lines: Vec<claim_line::Model>,
    ) -> Result<Claim, AppError> {
        q::insert_claim(txn, row.clone(), lines).await.on_unique(
            "claims_invoice_live_key",
            "claims.invoice_id",
            || AppError::Conflict("the invoice already has a claim in progress".into()),
        )?;
        let event = Event::new("insurance.claim.draft", "claim", Some(row.id.to_string()))
            .patient(row.patient_id)
            .detail(json!({
                "number": row.number, "version": row.claim_version, "invoice": row.invoice_id,
                "claimed_minor": row.claimed_minor, "patient_share_minor": row.patient_share_minor,
            }));
        audit::record(txn, ctx, event).await?;
        Ok(row.into())
    }

    /// The claim and its lines for an invoice and a policy, numbered later (a draft's
    /// number is taken in its transaction).
    async fn claim_rows(
        &self,
        inv: &invoice::Model,
        policy_id: Uuid,
        previous: Option<&claim::Model>,
    ) -> Result<(claim::Model, Vec<claim_line::Model>), AppError> {
        let conn = self.db.reader();
        let mut c = Checker::default();
        if inv.status != InvoiceStatus::Posted {
            c.push(FieldError::new("invoice_id", "a posted invoice (this one is cancelled)"));
        }
        let posted_on = inv.posted_at.with_timezone(&self.time_zone).date_naive();
        let policy = q::find_policy(conn, policy_id).await?.filter(|p| p.patient_id == inv.patient_id);
        let plan = match &policy {
            Some(p) => q::find_plan(conn, p.plan_id).await?,
            None => None,
        };
        let (Some(policy), Some(plan)) = (policy, plan) else {
            c.push(FieldError::new("policy_id", "a policy of the invoice's patient"));
            return c.finish(None);
        };
        if !Policy::from(policy.clone()).covers(posted_on) {
            c.push(FieldError::new("policy_id", "the policy was not in force on the invoice's date"));
        }
        let preauth = match inv.admission_id {
            Some(stay) => q::approved_preauth_of_stay(conn, stay).await?,
            None => None,
        };
        if plan.preauth_required && inv.admission_id.is_some() && preauth.is_none() {
            c.push(FieldError::new(
                "policy_id",
                "the plan pays for a stay only with an approved pre-authorisation",
            ));
        }
        let lines = salus_db::billing::invoice_lines(conn, inv.id).await?;
        let codes: Vec<String> = lines.iter().map(|l| l.service_code.clone()).collect();
        let categories: HashMap<String, ServiceCategory> =
            salus_db::laboratory::services_by_code(conn, &codes)
                .await?
                .into_iter()
                .filter_map(|s| Some((s.code, ServiceCategory::parse(&s.category, "category").ok()?)))
                .collect();
        let mut cap = inv.total_minor - inv.paid_minor;
        if let Some(limit) = plan.limit_minor {
            cap = cap.min(limit - q::used(conn, Some(policy.id), None).await?);
        }
        if let Some(pa) = &preauth {
            cap = cap.min(pa.approved_minor.unwrap_or(0) - q::used(conn, None, Some(pa.id)).await?);
        }
        let split: Vec<(ServiceCategory, i64)> = lines
            .iter()
            .map(|l| {
                (categories.get(&l.service_code).copied().unwrap_or(ServiceCategory::Other), l.net_minor)
            })
            .collect();
        let parts = shares(&split, &Coverage::new(&plan.covered, i64::from(plan.copay_bp)), Some(cap));
        let claimed: i64 = parts.iter().map(|s| s.insurer_minor).sum();
        if claimed <= 0 {
            c.push(FieldError::new(
                "invoice_id",
                "nothing on this bill is left for the insurer (not covered, already paid, or the cover is used up)",
            ));
        }
        c.finish(Some(()))?;
        let id = Uuid::now_v7();
        let now = Utc::now();
        let rows = lines
            .iter()
            .zip(&split)
            .zip(&parts)
            .map(|((l, (cat, _)), s)| claim_line::Model {
                id: Uuid::now_v7(),
                claim_id: id,
                invoice_line_id: l.id,
                description: l.description.clone(),
                category: cat.as_str().into(),
                net_minor: l.net_minor,
                insurer_minor: s.insurer_minor,
                patient_minor: s.patient_minor,
            })
            .collect();
        let row = claim::Model {
            id,
            number: previous.map(|p| p.number.clone()).unwrap_or_default(),
            claim_version: previous.map_or(1, |p| p.claim_version + 1),
            previous_id: previous.map(|p| p.id),
            patient_id: inv.patient_id,
            policy_id: policy.id,
            payer_id: plan.payer_id,
            invoice_id: inv.id,
            preauthorisation_id: preauth.map(|p| p.id),
            status: ClaimStatus::Draft,
            invoice_total_minor: inv.total_minor,
            claimed_minor: claimed,
            patient_share_minor: inv.total_minor - claimed,
            approved_minor: None,
            settled_minor: 0,
            deductions_minor: 0,
            decision_note: None,
            payer_reference: None,
            remittance_reference: None,
            created_by: Uuid::nil(),
            created_at: now,
            submitted_at: None,
            decided_at: None,
            settled_at: None,
            closed_at: None,
            version: 1,
        };
        Ok((row, rows))
    }

    /// The claim behind an action, if the caller may act on its patient, at `version`
    /// and in one of `from`.
    async fn claim_for(
        &self,
        ctx: &Ctx,
        id: Uuid,
        version: i32,
        from: &[ClaimStatus],
    ) -> Result<claim::Model, AppError> {
        self.authorize(ctx, Permission::InsuranceWork).await?;
        let row = q::find_claim(self.db.reader(), id).await?.ok_or(AppError::NotFound("claim"))?;
        self.billed_patient(ctx, row.patient_id, Permission::InsuranceWork).await?;
        if !from.contains(&row.status) {
            return Err(AppError::Conflict(format!("the claim is {}", row.status.words())));
        }
        if row.version != version {
            return Err(crate::organisation::stale_version("claim", row.version));
        }
        Ok(row)
    }

    /// Saves a claim's step with its journal entry and audit event, in `txn`.
    async fn save_claim(
        &self,
        ctx: &Ctx,
        txn: sea_orm::DatabaseTransaction,
        mut row: claim::Model,
        entry: Option<Vec<salus_core::billing::JournalLine>>,
        action: &'static str,
    ) -> Result<Claim, AppError> {
        row.version += 1;
        if !q::update_claim(&txn, row.clone()).await? {
            return Err(crate::organisation::stale("claim"));
        }
        if let Some(entry) = entry {
            self.post_entry(&txn, entry, ("claim", row.id), Some(row.patient_id), Utc::now()).await?;
        }
        let event =
            Event::new(action, "claim", Some(row.id.to_string())).patient(row.patient_id).detail(json!({
                "number": row.number, "version": row.claim_version, "status": row.status,
                "claimed_minor": row.claimed_minor, "approved_minor": row.approved_minor,
                "settled_minor": row.settled_minor, "deductions_minor": row.deductions_minor,
            }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Sends a draft claim: the insurer's share is taken off what the patient owes.
    pub async fn submit_claim(&self, ctx: &Ctx, id: Uuid, version: i32) -> Result<Claim, AppError> {
        let mut row = self.claim_for(ctx, id, version, &[ClaimStatus::Draft]).await?;
        let txn = self.db.begin_write().await?;
        if !salus_db::billing::pay_invoice(&txn, row.invoice_id, row.claimed_minor).await? {
            return Err(AppError::Conflict(
                "the bill was paid or cancelled since the claim was drafted; close this draft and draft again".into(),
            ));
        }
        (row.status, row.submitted_at) = (ClaimStatus::Submitted, Some(Utc::now()));
        let entry = submission_entry(row.claimed_minor);
        self.save_claim(ctx, txn, row, Some(entry), "insurance.claim.submit").await
    }

    /// Records the insurer's decision: what it will not pay goes back on the bill.
    pub async fn decide_claim(
        &self,
        ctx: &Ctx,
        id: Uuid,
        decision: ClaimDecision,
    ) -> Result<Claim, AppError> {
        let mut row = self.claim_for(ctx, id, decision.version, &[ClaimStatus::Submitted]).await?;
        let mut c = Checker::default();
        let reference = c.take(parse_optional_label(&decision.payer_reference, "payer_reference", 100));
        let note = c.take(parse_optional_label(&decision.note, "note", 300));
        if !(0..=row.claimed_minor).contains(&decision.approved_minor) {
            c.push(FieldError::new(
                "approved_amount",
                format!("nothing up to the claimed {}", self.money(row.claimed_minor)),
            ));
        }
        let (reference, note) = c.finish(reference.zip(note))?;
        if decision.approved_minor < row.claimed_minor && note.is_none() {
            return Err(AppError::field("note", "give the insurer's reason for what it does not pay"));
        }
        row.status = match decision.approved_minor {
            0 => ClaimStatus::Denied,
            a if a == row.claimed_minor => ClaimStatus::Approved,
            _ => ClaimStatus::PartlyApproved,
        };
        (row.approved_minor, row.payer_reference, row.decision_note) =
            (Some(decision.approved_minor), reference, note);
        row.decided_at = Some(Utc::now());
        let back = row.claimed_minor - decision.approved_minor;
        let txn = self.db.begin_write().await?;
        if back > 0 && !q::unpay_invoice(&txn, row.invoice_id, back).await? {
            return Err(AppError::Internal(format!(
                "claim {} was not on its invoice's payments",
                row.number
            )));
        }
        let entry = (back > 0).then(|| decision_entry(back));
        self.save_claim(ctx, txn, row, entry, "insurance.claim.decide").await
    }

    /// Records the insurer's remittance; what it deducted from the approved amount is
    /// written off.
    pub async fn settle_claim(&self, ctx: &Ctx, id: Uuid, s: Settlement) -> Result<Claim, AppError> {
        let mut row =
            self.claim_for(ctx, id, s.version, &[ClaimStatus::Approved, ClaimStatus::PartlyApproved]).await?;
        let approved = row.approved_minor.unwrap_or(0);
        let mut c = Checker::default();
        let reference = c.take(parse_optional_label(&s.reference, "reference", 100));
        let note = c.take(parse_optional_label(&s.note, "note", 300));
        if !(0..=approved).contains(&s.received_minor) {
            c.push(FieldError::new("amount", format!("nothing up to the approved {}", self.money(approved))));
        }
        let (reference, note) = c.finish(reference.zip(note))?;
        let Some(reference) = reference else {
            return Err(AppError::field("reference", "give the remittance's reference (the transfer's UTR)"));
        };
        let deductions = approved - s.received_minor;
        if deductions > 0 && note.is_none() {
            return Err(AppError::field("note", "say what the insurer deducted"));
        }
        row.status = ClaimStatus::Settled;
        (row.settled_minor, row.deductions_minor, row.remittance_reference) =
            (s.received_minor, deductions, Some(reference));
        if let Some(n) = note {
            row.decision_note = Some(match row.decision_note.take() {
                Some(before) => format!("{before} — {n}").chars().take(300).collect(),
                None => n,
            });
        }
        row.settled_at = Some(Utc::now());
        let txn = self.db.begin_write().await?;
        let entry = settlement_entry(s.received_minor, deductions);
        self.save_claim(ctx, txn, row, Some(entry), "insurance.claim.settle").await
    }

    /// Closes a claim: settled, denied and not to be sent again, or a draft abandoned.
    pub async fn close_claim(&self, ctx: &Ctx, id: Uuid, version: i32) -> Result<Claim, AppError> {
        let from = [ClaimStatus::Settled, ClaimStatus::Denied, ClaimStatus::Draft];
        let mut row = self.claim_for(ctx, id, version, &from).await?;
        (row.status, row.closed_at) = (ClaimStatus::Closed, Some(Utc::now()));
        let txn = self.db.begin_write().await?;
        self.save_claim(ctx, txn, row, None, "insurance.claim.close").await
    }

    /// Sends a denied claim again: the next version of its number, drafted afresh (the
    /// shares recomputed), the denied version closed.
    pub async fn resubmit_claim(&self, ctx: &Ctx, id: Uuid, version: i32) -> Result<Claim, AppError> {
        let mut old = self.claim_for(ctx, id, version, &[ClaimStatus::Denied]).await?;
        let inv = salus_db::billing::find_invoice(self.db.reader(), old.invoice_id)
            .await?
            .ok_or(AppError::NotFound("invoice"))?;
        let (mut row, lines) = self.claim_rows(&inv, old.policy_id, Some(&old)).await?;
        row.created_by = me(ctx)?;
        (old.status, old.closed_at, old.version) = (ClaimStatus::Closed, Some(Utc::now()), old.version + 1);
        let txn = self.db.begin_write().await?;
        if !q::update_claim(&txn, old.clone()).await? {
            return Err(crate::organisation::stale("claim"));
        }
        let created = self.insert_claim(ctx, &txn, row, lines).await?;
        txn.commit().await?;
        Ok(created)
    }

    /// A claim with its lines, policy, plan and payer (a read of the patient's record).
    pub async fn claim(&self, ctx: &Ctx, id: Uuid) -> Result<ClaimDetail, AppError> {
        self.authorize(ctx, Permission::BillingRead).await?;
        let conn = self.db.reader();
        let row = q::find_claim(conn, id).await?.ok_or(AppError::NotFound("claim"))?;
        let p = self.billed_patient(ctx, row.patient_id, Permission::BillingRead).await?;
        let lines = crate::records(q::claim_lines(conn, id).await?);
        let inv = salus_db::billing::find_invoice(conn, row.invoice_id)
            .await?
            .ok_or(AppError::NotFound("invoice"))?;
        let policy = q::find_policy(conn, row.policy_id).await?.ok_or(AppError::NotFound("policy"))?;
        let plan = q::find_plan(conn, policy.plan_id).await?.ok_or(AppError::NotFound("plan"))?;
        let payer = q::find_payer(conn, row.payer_id).await?.ok_or(AppError::NotFound("payer"))?;
        let event = Event::new("billing.claim.read", "claim", Some(id.to_string())).patient(row.patient_id);
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        Ok(ClaimDetail {
            claim: row.into(),
            lines,
            invoice_number: inv.number,
            policy: policy.into(),
            plan: plan.into(),
            payer: payer.into(),
            patient: (&p).into(),
        })
    }

    /// The insurance desk: pre-authorisations waiting, and claims to submit, to record a
    /// decision on, to settle, or denied (to send again or close).
    pub async fn insurance_desk(&self, ctx: &Ctx) -> Result<InsuranceDesk, AppError> {
        self.authorize(ctx, Permission::BillingRead).await?;
        let conn = self.db.reader();
        let preauths = q::preauths_waiting(conn, 200).await?;
        let open = [
            ClaimStatus::Draft,
            ClaimStatus::Submitted,
            ClaimStatus::Approved,
            ClaimStatus::PartlyApproved,
            ClaimStatus::Denied,
        ];
        let claims = q::claims_in(conn, &open, 500).await?;
        let ids: Vec<Uuid> =
            preauths.iter().map(|p| p.patient_id).chain(claims.iter().map(|c| c.patient_id)).collect();
        let people = self.listed_patients(ctx, &ids, "billing.insurance_desk.read").await?;
        let payers: HashMap<Uuid, String> =
            q::payers(conn).await?.into_iter().map(|p| (p.id, p.name)).collect();
        Ok(InsuranceDesk {
            preauths: preauths
                .into_iter()
                .filter_map(|p| Some((people.get(&p.patient_id)?.clone(), p)))
                .map(|(who, p)| (p.into(), who))
                .collect(),
            claims: claims
                .into_iter()
                .filter_map(|c| {
                    let who = people.get(&c.patient_id)?.clone();
                    let payer = payers.get(&c.payer_id).cloned().unwrap_or_default();
                    Some((c.into(), who, payer))
                })
                .collect(),
        })
    }

    /// What each payer owes, by age since the claim was submitted.
    pub async fn insurer_ageing(&self, ctx: &Ctx) -> Result<Vec<AgeingLine>, AppError> {
        self.authorize(ctx, Permission::BillingRead).await?;
        let conn = self.db.reader();
        let rows = q::ageing(conn, Utc::now()).await?;
        let payers: HashMap<Uuid, Payer> =
            q::payers(conn).await?.into_iter().map(|p| (p.id, Payer::from(p))).collect();
        let mut out: Vec<AgeingLine> = rows
            .into_iter()
            .filter_map(|r| {
                let buckets = [r.d30, r.d60, r.d90, r.older];
                Some(AgeingLine {
                    payer: payers.get(&r.payer_id)?.clone(),
                    claims: r.claims,
                    total_minor: buckets.iter().sum(),
                    buckets,
                })
            })
            .collect();
        out.sort_by(|a, b| b.total_minor.cmp(&a.total_minor).then_with(|| a.payer.name.cmp(&b.payer.name)));
        Ok(out)
    }
}
