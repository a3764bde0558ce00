//! The demo's billing desk: Sara's cash shift open since the morning with its float, a
//! morning of outpatient bills from the charges the laboratory, imaging and pharmacy
//! made (paid in cash, by UPI and by card, one paid only in part), an inpatient with a
//! deposit and an interim bill, an insured inpatient with an approved pre-authorisation and a
//! claim with the insurer, a refund waiting for the administrator's approval, and
//! patients whose charges are still to be billed. Made through the use cases, so every
//! number, journal line and audit event is what the desk itself would have made.

use salus_app::App;
use salus_app::billing::{DepositInput, InvoiceInput, PaymentInput, RefundInput};
use salus_core::billing::{InvoiceKind, PaymentMethod};
use uuid::Uuid;

use crate::demo::staff_ctx;

/// The demo's bills (skipped once any invoice exists).
pub async fn ensure_demo_billing(app: &App, patients: &[Uuid]) -> anyhow::Result<()> {
    let conn = app.db.reader();
    if salus_db::billing::has_invoices(conn).await? {
        return Ok(());
    }
    let sara = staff_ctx(app, "billing.sara", salus_core::Role::Billing).await?;
    let billing = app.billing();
    billing.open_shift(&sara, 200_000).await?;
    // Last night's run charged the stays' bed days to midnight, as the job does.
    let today = chrono::Utc::now().with_timezone(&app.time_zone).date_naive();
    app.inpatient().nightly_bed_days(today - chrono::Duration::days(1)).await?;
    let in_house: Vec<(Uuid, Uuid)> =
        salus_db::inpatient::in_house(conn, None).await?.into_iter().map(|s| (s.patient_id, s.id)).collect();

    // Outpatients with charges: the first five billed and paid, the rest left to bill.
    let mut billed = 0;
    for (i, p) in patients.iter().enumerate() {
        if in_house.iter().any(|(x, _)| x == p) {
            continue;
        }
        let charges = salus_db::billing::unbilled_charges(conn, *p).await?;
        if charges.is_empty() {
            continue;
        }
        if billed == 5 {
            break;
        }
        billed += 1;
        let input = InvoiceInput {
            kind: Some(InvoiceKind::Outpatient),
            charge_ids: charges.iter().map(|c| c.id).collect(),
            ..Default::default()
        };
        let bill = billing.post_invoice(&sara, &format!("demo-invoice-{i}"), *p, input).await?;
        let total = bill.invoice.total_minor;
        let (method, amount, reference) = match billed {
            1 | 4 => (PaymentMethod::Cash, total, ""),
            2 => (PaymentMethod::Upi, total, "UPI 6021 4471 0093"),
            3 => (PaymentMethod::Card, total, "Slip 004812"),
            // Paid in part: the rest shows on the desk's list of bills owed.
            _ => (PaymentMethod::Cash, total / 2, ""),
        };
        if amount > 0 {
            let pay = PaymentInput {
                invoice_id: bill.invoice.id,
                method,
                amount_minor: amount,
                reference: reference.into(),
                deposit_id: None,
            };
            billing.pay(&sara, &format!("demo-payment-{i}"), pay).await?;
        }
    }

    // The first inpatient: a deposit on admission and an interim bill of what is charged
    // so far, part of it paid from the deposit; bed days go on accruing for the final bill.
    if let Some((p, stay)) = in_house.first().copied() {
        // The ward's nurse dressed the wound this morning: a procedure charge.
        let nurse = staff_ctx(app, "nurse.amina", salus_core::Role::Nurse).await?;
        let task = salus_app::inpatient::nursing::TaskInput {
            description: "Wound dressing, left leg".into(),
            due_at: None,
            service_code: "DRESS-S".into(),
        };
        let task = app.inpatient().add_task(&nurse, stay, task).await?;
        app.inpatient().close_task(&nurse, task.id, true, "Clean, no discharge").await?;
        let deposit =
            DepositInput { method: PaymentMethod::Cash, amount_minor: 1_000_000, reference: String::new() };
        let dep = billing.take_deposit(&sara, "demo-deposit-1", p, deposit).await?;
        let charges = salus_db::billing::unbilled_charges(conn, p).await?;
        if !charges.is_empty() {
            let input = InvoiceInput {
                kind: Some(InvoiceKind::Interim),
                admission_id: Some(stay),
                charge_ids: charges.iter().map(|c| c.id).collect(),
                ..Default::default()
            };
            let bill = billing.post_invoice(&sara, "demo-interim-1", p, input).await?;
            let amount = bill.invoice.total_minor.min(dep.amount_minor);
            if amount > 0 {
                let pay = PaymentInput {
                    invoice_id: bill.invoice.id,
                    method: PaymentMethod::Deposit,
                    amount_minor: amount,
                    reference: String::new(),
                    deposit_id: Some(dep.id),
                };
                billing.pay(&sara, "demo-interim-pay-1", pay).await?;
            }
        }
    }
    // A second inpatient's family paid a deposit twice by mistake: the refund of one
    // waits for the administrator.
    if let Some((p, _)) = in_house.get(1).copied() {
        let deposit =
            DepositInput { method: PaymentMethod::Cash, amount_minor: 500_000, reference: String::new() };
        billing.take_deposit(&sara, "demo-deposit-2a", p, deposit.clone()).await?;
        let twice = billing.take_deposit(&sara, "demo-deposit-2b", p, deposit).await?;
        let refund = RefundInput {
            deposit_id: Some(twice.id),
            invoice_id: None,
            amount_minor: twice.amount_minor,
            method: PaymentMethod::Cash,
            reason: "Deposit paid twice by the family".into(),
        };
        billing.request_refund(&sara, p, refund).await?;
    }
    if let Some((p, stay)) = in_house.get(2).copied() {
        demo_insurance(app, &sara, p, stay).await?;
    }
    Ok(())
}

/// An insurer worked through a third-party administrator, its family plan, and a third
/// inpatient covered by it: the stay pre-authorised (the estimate attached), an interim
/// bill, and its claim submitted — on the insurance desk and in the insurer ageing.
async fn demo_insurance(app: &App, sara: &salus_app::Ctx, p: Uuid, stay: Uuid) -> anyhow::Result<()> {
    use salus_app::billing::insurance::{PayerInput, PlanInput, PolicyInput, PreauthAnswer, PreauthInput};
    use salus_core::ServiceCategory as C;
    use salus_core::insurance::PayerKind;
    let admin = staff_ctx(app, "admin", salus_core::Role::Admin).await?;
    let billing = app.billing();
    let tpa = PayerInput {
        code: "NIRAMAYA-TPA".into(),
        name: "Niramaya Health TPA".into(),
        kind: PayerKind::Tpa,
        administrator_id: None,
        contact: "claims@niramaya-tpa.example".into(),
    };
    let tpa = billing.add_payer(&admin, tpa).await?;
    let insurer = PayerInput {
        code: "AROGYA".into(),
        name: "Arogya General Insurance".into(),
        kind: PayerKind::Insurer,
        administrator_id: Some(tpa.id),
        contact: "cashless@arogya.example".into(),
    };
    let insurer = billing.add_payer(&admin, insurer).await?;
    let plan = PlanInput {
        payer_id: insurer.id,
        code: "AROGYA-FAMILY".into(),
        name: "Arogya Family Floater".into(),
        covered: vec![C::Consultation, C::Procedure, C::Laboratory, C::Imaging, C::BedDay, C::Pharmacy],
        copay_bp: 1000,
        limit_minor: Some(50_000_000),
        preauth_required: true,
    };
    let plan = billing.add_plan(&admin, plan).await?;
    let today = chrono::Utc::now().date_naive();
    let policy = PolicyInput {
        plan_id: plan.id,
        member_number: "AGI-FF-2026-118204".into(),
        holder: String::new(),
        valid_from: today - chrono::Duration::days(200),
        valid_to: today + chrono::Duration::days(165),
    };
    let policy = billing.add_policy(sara, p, policy).await?;
    let ask = PreauthInput {
        policy_id: policy.id,
        admission_id: Some(stay),
        diagnosis: "Community-acquired pneumonia; 5 days' ward care planned".into(),
        requested_minor: 6_000_000,
    };
    let pa = billing.request_preauth(sara, p, ask).await?;
    let answer = PreauthAnswer {
        approved_minor: Some(5_000_000),
        reference: "AGI/PA/26/88412".into(),
        note: "Approved for 5 days in a general ward".into(),
        version: pa.version,
    };
    billing.answer_preauth(sara, pa.id, answer).await?;
    let nurse = staff_ctx(app, "nurse.amina", salus_core::Role::Nurse).await?;
    let task = salus_app::inpatient::nursing::TaskInput {
        description: "Nebulisation".into(),
        due_at: None,
        service_code: "DRESS-S".into(),
    };
    let task = app.inpatient().add_task(&nurse, stay, task).await?;
    app.inpatient().close_task(&nurse, task.id, true, "Tolerated well").await?;
    let charges = salus_db::billing::unbilled_charges(app.db.reader(), p).await?;
    let input = InvoiceInput {
        kind: Some(InvoiceKind::Interim),
        admission_id: Some(stay),
        charge_ids: charges.iter().map(|c| c.id).collect(),
        ..Default::default()
    };
    let bill = billing.post_invoice(sara, "demo-interim-3", p, input).await?;
    let claim = billing.draft_claim(sara, bill.invoice.id, policy.id).await?;
    billing.submit_claim(sara, claim.id, claim.version).await?;
    Ok(())
}
