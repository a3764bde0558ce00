//! Insurance set-up and the patient's side of it: payers (insurers and third-party
//! administrators) and their plans, kept by an administrator; a patient's policies; and
//! pre-authorisations — asked of the insurer before a stay, with the documents sent, and
//! its answer recorded. Claims are in `claims.rs`.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use salus_core::insurance::{Payer, PayerKind, Plan, Policy, PolicyStatus, PreauthStatus, Preauthorisation};
use salus_core::organisation::{parse_label, parse_optional_label};
use salus_core::{Code, FieldError, ServiceCategory};
use salus_db::ResultExt;
use salus_db::entity::{insurance_plan, insurance_policy, payer, preauthorisation};
use salus_db::insurance as q;
use serde_json::json;
use uuid::Uuid;

use super::me;
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::organisation::Checker;
use crate::{AppError, Ctx};

/// Pre-authorisations are numbered in their own gapless series.
pub const PREAUTH_SERIES: &str = "PA";

/// A payer as typed by the administrator.
#[derive(Debug, Clone)]
pub struct PayerInput {
    pub code: String,
    pub name: String,
    pub kind: PayerKind,
    pub administrator_id: Option<Uuid>,
    pub contact: String,
}

/// A plan as typed by the administrator.
#[derive(Debug, Clone)]
pub struct PlanInput {
    pub payer_id: Uuid,
    pub code: String,
    pub name: String,
    pub covered: Vec<ServiceCategory>,
    pub copay_bp: i64,
    pub limit_minor: Option<i64>,
    pub preauth_required: bool,
}

/// A patient's policy as typed at the desk.
#[derive(Debug, Clone)]
pub struct PolicyInput {
    pub plan_id: Uuid,
    pub member_number: String,
    pub holder: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
}

/// A pre-authorisation asked of the insurer.
#[derive(Debug, Clone)]
pub struct PreauthInput {
    pub policy_id: Uuid,
    pub admission_id: Option<Uuid>,
    pub diagnosis: String,
    pub requested_minor: i64,
}

/// The insurer's answer to a pre-authorisation.
#[derive(Debug, Clone)]
pub struct PreauthAnswer {
    /// `None`: denied; otherwise the amount approved (which may be less than asked).
    pub approved_minor: Option<i64>,
    pub reference: String,
    pub note: String,
    pub version: i32,
}

/// A policy with its plan and payer, as the desk shows it.
#[derive(Debug, Clone)]
pub struct PolicyView {
    pub policy: Policy,
    pub plan: Plan,
    pub payer: Payer,
    /// What is left of the sum insured (none: no limit).
    pub remaining_minor: Option<i64>,
}

/// A patient's insurance: policies, pre-authorisations (with their documents) and claims.
#[derive(Debug, Clone)]
pub struct PatientInsurance {
    pub policies: Vec<PolicyView>,
    pub preauths: Vec<(Preauthorisation, Vec<Uuid>)>,
    pub claims: Vec<salus_core::insurance::Claim>,
}

impl crate::Billing<'_> {
    /// Adds an insurer or a third-party administrator.
    pub async fn add_payer(&self, ctx: &Ctx, input: PayerInput) -> Result<Payer, AppError> {
        self.authorize(ctx, Permission::InsuranceAdmin).await?;
        let mut c = Checker::default();
        let code = c.take(Code::parse(&input.code, "code"));
        let name = c.take(parse_label(&input.name, "name", 200));
        let contact = c.take(parse_optional_label(&input.contact, "contact", 200));
        if let Some(a) = input.administrator_id {
            match q::find_payer(self.db.reader(), a).await? {
                Some(p) if p.kind == PayerKind::Tpa && input.kind == PayerKind::Insurer => {}
                Some(_) if input.kind == PayerKind::Tpa => {
                    c.push(FieldError::new("administrator_id", "an administrator has none of its own"))
                }
                _ => c.push(FieldError::new("administrator_id", "a third-party administrator on the list")),
            }
        }
        let ((code, name), contact) = c.finish(code.zip(name).zip(contact))?;
        let row = payer::Model {
            id: Uuid::now_v7(),
            code: code.as_str().to_owned(),
            name,
            kind: input.kind,
            administrator_id: input.administrator_id,
            contact,
            active: true,
            created_at: Utc::now(),
        };
        let txn = self.db.begin_write().await?;
        q::insert_payer(&txn, row.clone())
            .await
            .on_unique("payers_code_key", "payers.code", || AppError::field("code", "is already used"))?;
        let event = Event::new("insurance.payer.create", "payer", Some(row.id.to_string()))
            .detail(json!({ "code": row.code, "name": row.name, "kind": row.kind }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Every payer, by name.
    pub async fn payers(&self, ctx: &Ctx) -> Result<Vec<Payer>, AppError> {
        self.authorize(ctx, Permission::BillingRead).await?;
        Ok(crate::records(q::payers(self.db.reader()).await?))
    }

    /// Adds a plan of an insurer.
    pub async fn add_plan(&self, ctx: &Ctx, input: PlanInput) -> Result<Plan, AppError> {
        self.authorize(ctx, Permission::InsuranceAdmin).await?;
        let mut c = Checker::default();
        let code = c.take(Code::parse(&input.code, "code"));
        let name = c.take(parse_label(&input.name, "name", 200));
        if input.covered.is_empty() {
            c.push(FieldError::new("covered", "choose the kinds of service the plan covers"));
        }
        if !(0..=10_000).contains(&input.copay_bp) {
            c.push(FieldError::new("copay", "a share of 0 to 100 %"));
        }
        if input.limit_minor.is_some_and(|l| l <= 0) {
            c.push(FieldError::new(
                "limit",
                "the sum insured is more than nothing (leave it empty for none)",
            ));
        }
        match q::find_payer(self.db.reader(), input.payer_id).await? {
            Some(p) if p.kind == PayerKind::Insurer && p.active => {}
            _ => c.push(FieldError::new("payer_id", "an insurer on the list")),
        }
        let (code, name) = c.finish(code.zip(name))?;
        let row = insurance_plan::Model {
            id: Uuid::now_v7(),
            payer_id: input.payer_id,
            code: code.as_str().to_owned(),
            name,
            covered: salus_core::insurance::Coverage::covered_text(&input.covered),
            copay_bp: i32::try_from(input.copay_bp).unwrap_or(0),
            limit_minor: input.limit_minor,
            preauth_required: input.preauth_required,
            active: true,
            created_at: Utc::now(),
        };
        let txn = self.db.begin_write().await?;
        q::insert_plan(&txn, row.clone()).await.on_unique(
            "insurance_plans_code_key",
            "insurance_plans.code",
            || AppError::field("code", "is already used"),
        )?;
        let event = Event::new("insurance.plan.create", "insurance_plan", Some(row.id.to_string())).detail(json!({
            "code": row.code, "covered": row.covered, "copay_bp": row.copay_bp, "limit_minor": row.limit_minor,
        }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Every plan, by name.
    pub async fn plans(&self, ctx: &Ctx) -> Result<Vec<Plan>, AppError> {
        self.authorize(ctx, Permission::BillingRead).await?;
        Ok(crate::records(q::plans(self.db.reader()).await?))
    }

    /// Records a patient's policy.
    pub async fn add_policy(&self, ctx: &Ctx, patient: Uuid, input: PolicyInput) -> Result<Policy, AppError> {
        let p = self.billed_patient(ctx, patient, Permission::InsuranceWork).await?;
        let mut c = Checker::default();
        let member = c.take(parse_label(&input.member_number, "member_number", 40));
        let holder = c.take(parse_optional_label(&input.holder, "holder", 200));
        if input.valid_to < input.valid_from {
            c.push(FieldError::new("valid_to", "the policy ends after it starts"));
        }
        match q::find_plan(self.db.reader(), input.plan_id).await? {
            Some(plan) if plan.active => {}
            _ => c.push(FieldError::new("plan_id", "a plan on the list")),
        }
        let (member, holder) = c.finish(member.zip(holder))?;
        let row = insurance_policy::Model {
            id: Uuid::now_v7(),
            patient_id: p.id,
            plan_id: input.plan_id,
            member_number: member,
            holder,
            valid_from: input.valid_from,
            valid_to: input.valid_to,
            status: PolicyStatus::Active,
            created_by: me(ctx)?,
            created_at: Utc::now(),
        };
        let txn = self.db.begin_write().await?;
        q::insert_policy(&txn, row.clone()).await.on_unique(
            "insurance_policies_member_key",
            "insurance_policies.plan_id, insurance_policies.member_number",
            || AppError::field("member_number", "this plan already has a policy with that member number"),
        )?;
        let event = Event::new("insurance.policy.create", "insurance_policy", Some(row.id.to_string()))
            .patient(p.id)
            .detail(json!({ "plan": row.plan_id, "member_number": row.member_number }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Cancels a patient's policy (no new claim may name it).
    pub async fn cancel_policy(&self, ctx: &Ctx, id: Uuid) -> Result<(), AppError> {
        self.authorize(ctx, Permission::InsuranceWork).await?;
        let row = q::find_policy(self.db.reader(), id).await?.ok_or(AppError::NotFound("policy"))?;
        self.billed_patient(ctx, row.patient_id, Permission::InsuranceWork).await?;
        let txn = self.db.begin_write().await?;
        if !q::cancel_policy(&txn, id).await? {
            return Err(AppError::Conflict("the policy is already cancelled".into()));
        }
        let event = Event::new("insurance.policy.cancel", "insurance_policy", Some(id.to_string()))
            .patient(row.patient_id);
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(())
    }

    /// A patient's insurance, as the billing clerk sees it (a read of the patient's record,
    /// audited).
    pub async fn insurance(&self, ctx: &Ctx, patient: Uuid) -> Result<PatientInsurance, AppError> {
        let p = self.billed_patient(ctx, patient, Permission::BillingRead).await?;
        let conn = self.db.reader();
        let policies = q::policies_of(conn, p.id).await?;
        let plans: HashMap<Uuid, insurance_plan::Model> =
            q::plans(conn).await?.into_iter().map(|x| (x.id, x)).collect();
        let payers: HashMap<Uuid, payer::Model> =
            q::payers(conn).await?.into_iter().map(|x| (x.id, x)).collect();
        let mut views = Vec::new();
        for policy in policies {
            let Some(plan) = plans.get(&policy.plan_id) else { continue };
            let Some(payer) = payers.get(&plan.payer_id) else { continue };
            let remaining = match plan.limit_minor {
                Some(limit) => Some(limit - q::used(conn, Some(policy.id), None).await?),
                None => None,
            };
            views.push(PolicyView {
                policy: policy.into(),
                plan: plan.clone().into(),
                payer: payer.clone().into(),
                remaining_minor: remaining,
            });
        }
        let preauths = q::preauths_of(conn, p.id).await?;
        let docs = q::documents_of(conn, &preauths.iter().map(|x| x.id).collect::<Vec<_>>()).await?;
        let preauths = preauths
            .into_iter()
            .map(|x| {
                let mine = docs.iter().filter(|(pa, _)| *pa == x.id).map(|(_, a)| *a).collect();
                (x.into(), mine)
            })
            .collect();
        let claims = crate::records(q::claims_of(conn, p.id).await?);
        let event = Event::new("billing.insurance.read", "patient", Some(p.id.to_string())).patient(p.id);
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        Ok(PatientInsurance { policies: views, preauths, claims })
    }

    /// Asks the insurer to approve care (usually a stay) before it is given.
    pub async fn request_preauth(
        &self,
        ctx: &Ctx,
        patient: Uuid,
        input: PreauthInput,
    ) -> Result<Preauthorisation, AppError> {
        let p = self.billed_patient(ctx, patient, Permission::InsuranceWork).await?;
        let conn = self.db.reader();
        let mut c = Checker::default();
        let diagnosis = c.take(parse_label(&input.diagnosis, "diagnosis", 300));
        if input.requested_minor <= 0 {
            c.push(FieldError::new("amount", "enter an amount more than nothing"));
        }
        let today = Utc::now().with_timezone(&self.time_zone).date_naive();
        match q::find_policy(conn, input.policy_id).await? {
            Some(pol) if pol.patient_id == p.id => {
                if !Policy::from(pol).covers(today) {
                    c.push(FieldError::new("policy_id", "the policy is not in force today"));
                }
            }
            _ => c.push(FieldError::new("policy_id", "a policy of this patient")),
        }
        if let Some(a) = input.admission_id
            && salus_db::inpatient::find_admission(conn, a).await?.is_none_or(|s| s.patient_id != p.id)
        {
            c.push(FieldError::new("admission_id", "a stay of this patient"));
        }
        let diagnosis = c.finish(diagnosis)?;
        let now = Utc::now();
        let txn = self.db.begin_write().await?;
        let row = preauthorisation::Model {
            id: Uuid::now_v7(),
            number: self.number(&txn, PREAUTH_SERIES, now).await?,
            patient_id: p.id,
            policy_id: input.policy_id,
            admission_id: input.admission_id,
            diagnosis,
            requested_minor: input.requested_minor,
            approved_minor: None,
            status: PreauthStatus::Requested,
            reference: None,
            note: None,
            requested_by: me(ctx)?,
            requested_at: now,
            decided_by: None,
            decided_at: None,
            version: 1,
        };
        q::insert_preauth(&txn, row.clone()).await?;
        let event = Event::new("insurance.preauth.request", "preauthorisation", Some(row.id.to_string()))
            .patient(p.id)
            .detail(json!({ "number": row.number, "requested_minor": row.requested_minor }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Keeps a document sent with a pre-authorisation (a PDF or an image) in the patient's
    /// record, linked to it.
    pub async fn attach_to_preauth(
        &self,
        ctx: &Ctx,
        id: Uuid,
        filename: &str,
        data: &[u8],
    ) -> Result<Uuid, AppError> {
        let pa =
            q::find_preauth(self.db.reader(), id).await?.ok_or(AppError::NotFound("pre-authorisation"))?;
        self.billed_patient(ctx, pa.patient_id, Permission::InsuranceWork).await?;
        let row = self
            .clinical()
            .store_attachment(ctx, salus_core::PatientId::from_uuid(pa.patient_id), None, filename, data)
            .await?;
        let txn = self.db.begin_write().await?;
        salus_db::clinical::insert_attachment(&txn, row.clone()).await?;
        q::add_document(&txn, pa.id, row.id).await?;
        let event = Event::new("insurance.preauth.document", "preauthorisation", Some(pa.id.to_string()))
            .patient(pa.patient_id)
            .detail(json!({ "attachment": row.id, "filename": row.filename }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.id)
    }

    /// A document of a pre-authorisation, for the billing clerk (audited).
    pub async fn preauth_document(
        &self,
        ctx: &Ctx,
        id: Uuid,
        attachment: Uuid,
    ) -> Result<(salus_core::clinical::Attachment, Vec<u8>), AppError> {
        let conn = self.db.reader();
        let pa = q::find_preauth(conn, id).await?.ok_or(AppError::NotFound("pre-authorisation"))?;
        self.billed_patient(ctx, pa.patient_id, Permission::BillingRead).await?;
        if !q::documents_of(conn, &[pa.id]).await?.iter().any(|(_, a)| *a == attachment) {
            return Err(AppError::NotFound("document"));
        }
        let row = salus_db::clinical::find_attachment(conn, attachment)
            .await?
            .ok_or(AppError::NotFound("document"))?;
        let bytes = self.files.get(&row.sha256).await?;
        let event =
            Event::new("attachment.read", "attachment", Some(row.id.to_string())).patient(pa.patient_id);
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        Ok((row.into(), bytes))
    }

    /// Records the insurer's answer to a pre-authorisation.
    pub async fn answer_preauth(
        &self,
        ctx: &Ctx,
        id: Uuid,
        answer: PreauthAnswer,
    ) -> Result<Preauthorisation, AppError> {
        self.authorize(ctx, Permission::InsuranceWork).await?;
        let mut row =
            q::find_preauth(self.db.reader(), id).await?.ok_or(AppError::NotFound("pre-authorisation"))?;
        self.billed_patient(ctx, row.patient_id, Permission::InsuranceWork).await?;
        let mut c = Checker::default();
        let reference = c.take(parse_optional_label(&answer.reference, "reference", 100));
        let note = c.take(parse_optional_label(&answer.note, "note", 300));
        match answer.approved_minor {
            Some(a) if a <= 0 => c.push(FieldError::new("approved_amount", "more than nothing (or deny it)")),
            Some(a) if a > row.requested_minor => {
                c.push(FieldError::new("approved_amount", "at most what was asked for"))
            }
            None if note.as_ref().is_none_or(|n| n.is_none()) => {
                c.push(FieldError::new("note", "give the insurer's reason for the denial"))
            }
            _ => {}
        }
        let (reference, note) = c.finish(reference.zip(note))?;
        if row.status != PreauthStatus::Requested {
            return Err(AppError::Conflict(format!(
                "the pre-authorisation is already {}",
                row.status.words()
            )));
        }
        if row.version != answer.version {
            return Err(crate::organisation::stale_version("pre-authorisation", row.version));
        }
        row.status =
            if answer.approved_minor.is_some() { PreauthStatus::Approved } else { PreauthStatus::Denied };
        row.approved_minor = answer.approved_minor;
        (row.reference, row.note) = (reference, note);
        (row.decided_by, row.decided_at, row.version) = (Some(me(ctx)?), Some(Utc::now()), row.version + 1);
        let txn = self.db.begin_write().await?;
        if !q::update_preauth(&txn, row.clone()).await? {
            return Err(crate::organisation::stale("pre-authorisation"));
        }
        let event = Event::new("insurance.preauth.answer", "preauthorisation", Some(id.to_string()))
            .patient(row.patient_id)
            .detail(json!({ "status": row.status, "approved_minor": row.approved_minor, "reference": row.reference }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }
}
