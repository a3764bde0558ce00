//! The billing desk the billing and insurance tests share: a clerk with an open shift, a
//! second clerk, a supervisor, a nurse, the price list and two patients; charges made as
//! the contexts make them; and the check that the books balance.

use salus_core::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use super::TestApp;
use super::stock::post_key;
use super::ward::*;

/// The billing desk: a clerk with an open shift, a second clerk without one, a
/// supervisor (billing and administration), the price list, and a patient.
pub struct Desk {
    pub w: Ward,
    pub clerk: Who,
    pub clerk2: Who,
    pub head: Who,
    pub nurse: Who,
    pub patient: Uuid,
    pub other: Uuid,
}

pub async fn desk(t: &TestApp) -> Desk {
    let w = ward(t).await;
    let clerk = who(t, "bill.clerk", &[Role::Billing]).await;
    let clerk2 = who(t, "bill.clerk2", &[Role::Billing]).await;
    let head = who(t, "bill.head", &[Role::Billing, Role::Admin]).await;
    use salus_app::organisation::{Amount, Percent, ServiceInput};
    let op = salus_app::Ctx::operator();
    for (code, name, category, price, tax) in [
        ("CONS", "Consultation", "consultation", "500", "0"),
        ("CBC", "Complete blood count", "laboratory", "333.33", "0"),
        ("XR-CHEST", "Chest X-ray", "imaging", "750", "18"),
        ("DRESS", "Wound dressing", "procedure", "199.99", "12"),
    ] {
        let s = ServiceInput {
            code: code.into(),
            name: name.into(),
            category: category.into(),
            department_id: None,
            price: Amount::Typed(price.into()),
            tax_rate: Percent::Typed(tax.into()),
            active: true,
        };
        t.app.organisation().create_service(&op, s).await.unwrap();
    }
    let (status, s) =
        send(t, &clerk, "POST", "/api/v1/cashier-shift", Some(json!({"float_minor": 200_000})), None).await;
    assert_eq!(status, 201, "{s}");
    let (patient, other) = (w.patient.parse().unwrap(), w.other_patient.parse().unwrap());
    let nurse = who(t, "bill.nurse", &[Role::Nurse]).await;
    Desk { w, clerk, clerk2, head, nurse, patient, other }
}

/// Unbilled charges for `patient`, one per (service, quantity), as the contexts that do
/// the work record them. Returns their ids.
pub async fn charge(t: &TestApp, patient: Uuid, items: &[(&str, i32)]) -> Vec<Uuid> {
    let codes: Vec<String> = items.iter().map(|(c, _)| (*c).to_owned()).collect();
    let services = salus_db::laboratory::services_by_code(t.app.db.reader(), &codes).await.unwrap();
    let rows: Vec<salus_db::entity::charge::Model> = items
        .iter()
        .map(|(code, qty)| {
            let s = services.iter().find(|s| s.code == *code).unwrap();
            salus_db::entity::charge::Model {
                id: Uuid::now_v7(),
                patient_id: patient,
                service_id: s.id,
                service_code: s.code.clone(),
                description: s.name.clone(),
                quantity: *qty,
                unit_price_minor: s.price_minor,
                tax_rate_bp: s.tax_rate_bp,
                source_type: "test".into(),
                source_id: Uuid::now_v7(),
                status: "unbilled".into(),
                invoice_id: None,
                created_by: patient,
                created_at: chrono::Utc::now(),
            }
        })
        .collect();
    let ids = rows.iter().map(|r| r.id).collect();
    salus_db::charges::insert_charges(t.app.db.writer(), rows).await.unwrap();
    ids
}

/// The desk's patient admitted to a one-bed ward: the stay's id.
pub async fn admit(t: &TestApp, d: &Desk) -> String {
    let bed = one_bed_ward(t, "bill.admin").await;
    let me: Value = d.w.doc.client.get(t.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    let body =
        json!({"patient_id": d.patient, "bed_id": bed, "attending_id": me["id"], "diagnosis": "Cellulitis"});
    let (status, a) = send(t, &d.w.desk, "POST", "/api/v1/admissions", Some(body), None).await;
    assert_eq!(status, 201, "{a}");
    a["id"].as_str().unwrap().to_owned()
}

pub fn key() -> String {
    Uuid::now_v7().to_string()
}

pub async fn invoice(t: &TestApp, who: &Who, patient: Uuid, body: Value) -> (u16, Value) {
    post_key(t, who, &format!("/api/v1/patients/{patient}/invoices"), body, &key()).await
}

pub async fn pay(t: &TestApp, who: &Who, invoice: &Value, body: Value) -> (u16, Value) {
    post_key(t, who, &format!("/api/v1/invoices/{}/payments", invoice["id"].as_str().unwrap()), body, &key())
        .await
}

/// Every journal entry sums to zero, and the invoices' totals are their lines' sums.
pub async fn books_balance(t: &TestApp) {
    let unbalanced = salus_db::billing::unbalanced_entries(t.app.db.reader()).await.unwrap();
    assert!(unbalanced.is_empty(), "unbalanced entries: {unbalanced:?}");
    use sea_orm::EntityTrait;
    let invoices = salus_db::entity::invoice::Entity::find().all(t.app.db.reader()).await.unwrap();
    for i in invoices {
        let lines = salus_db::billing::invoice_lines(t.app.db.reader(), i.id).await.unwrap();
        let sum = |f: fn(&salus_db::entity::invoice_line::Model) -> i64| lines.iter().map(f).sum::<i64>();
        assert_eq!(sum(|l| l.gross_minor), i.gross_minor, "{}", i.number);
        assert_eq!(sum(|l| l.discount_minor), i.discount_minor, "{}", i.number);
        assert_eq!(sum(|l| l.tax_minor), i.tax_minor, "{}", i.number);
        assert_eq!(sum(|l| l.net_minor), i.total_minor, "{}", i.number);
        for l in &lines {
            assert_eq!(l.gross_minor - l.discount_minor + l.tax_minor, l.net_minor, "{}", i.number);
        }
    }
}

/// The duplicate's bills for the merge test: a deposit, an invoice of its unbilled charges
/// half claimed from an insurer under its policy (after a pre-authorisation) and the rest
/// paid from the deposit, an exemption, a refund of what is left asked for — with the
/// journal lines naming the patient.
pub async fn bills_of_duplicate(t: &TestApp, dup: Uuid, doctor: Uuid) {
    let clerk = who(t, "merge.billing", &[Role::Billing]).await;
    let (status, s) =
        send(t, &clerk, "POST", "/api/v1/cashier-shift", Some(json!({"float_minor": 0})), None).await;
    assert_eq!(status, 201, "{s}");
    let (status, dep) = post_key(
        t,
        &clerk,
        &format!("/api/v1/patients/{dup}/deposits"),
        json!({"method": "cash", "amount_minor": 1_000_000}),
        "merge-deposit",
    )
    .await;
    assert_eq!(status, 201, "{dep}");
    let (_, account) = send(t, &clerk, "GET", &format!("/api/v1/patients/{dup}/account"), None, None).await;
    let charges: Vec<Value> =
        account["unbilled"].as_array().unwrap().iter().map(|c| c["id"].clone()).collect();
    assert!(!charges.is_empty(), "{account}");
    let (status, inv) = post_key(
        t,
        &clerk,
        &format!("/api/v1/patients/{dup}/invoices"),
        json!({"charge_ids": charges}),
        "merge-invoice",
    )
    .await;
    assert_eq!(status, 201, "{inv}");
    // Half of it claimed from an insurer under the patient's policy, after a
    // pre-authorisation; the rest paid from the deposit.
    let admin = who(t, "merge.insurer", &[Role::Admin]).await;
    let body = json!({"code": "MI", "name": "Merge Insurance", "kind": "insurer"});
    let (_, payer) = send(t, &admin, "POST", "/api/v1/payers", Some(body), None).await;
    let categories = ["consultation", "procedure", "laboratory", "imaging", "bed_day", "pharmacy", "other"];
    let body = json!({"payer_id": payer["id"], "code": "MI-1", "name": "Half", "covered": categories, "copay_bp": 5000});
    let (status, plan) = send(t, &admin, "POST", "/api/v1/insurance-plans", Some(body), None).await;
    assert_eq!(status, 201, "{plan}");
    let today = chrono::Utc::now().date_naive();
    let body = json!({"plan_id": plan["id"], "member_number": "M-1", "valid_from": today.to_string(), "valid_to": today.to_string()});
    let (status, pol) =
        send(t, &clerk, "POST", &format!("/api/v1/patients/{dup}/coverages"), Some(body), None).await;
    assert_eq!(status, 201, "{pol}");
    let body = json!({"coverage_id": pol["id"], "diagnosis": "Observation", "requested_minor": 10_000});
    let (status, pa) =
        send(t, &clerk, "POST", &format!("/api/v1/patients/{dup}/preauthorizations"), Some(body), None).await;
    assert_eq!(status, 201, "{pa}");
    let (status, claim) = send(
        t,
        &clerk,
        "POST",
        &format!("/api/v1/invoices/{}/claims", inv["id"].as_str().unwrap()),
        Some(json!({"coverage_id": pol["id"]})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{claim}");
    let path = format!("/api/v1/claims/{}/submit", claim["id"].as_str().unwrap());
    let (status, claim) = send(t, &clerk, "POST", &path, Some(json!({"version": 1})), None).await;
    assert_eq!(status, 200, "{claim}");
    salus_db::insurance::insert_exemption(
        t.app.db.writer(),
        salus_db::entity::billing_exemption::Model {
            id: Uuid::now_v7(),
            source_type: "encounter".into(),
            source_id: Uuid::now_v7(),
            patient_id: dup,
            reason: "Free follow-up".into(),
            exempted_by: doctor,
            exempted_at: chrono::Utc::now(),
        },
    )
    .await
    .unwrap();
    let (status, paid) = post_key(
        t,
        &clerk,
        &format!("/api/v1/invoices/{}/payments", inv["id"].as_str().unwrap()),
        json!({"method": "deposit", "deposit_id": dep["id"], "amount_minor": claim["patient_share_minor"]}),
        "merge-payment",
    )
    .await;
    assert_eq!(status, 201, "{paid}");
    let body = json!({"deposit_id": dep["id"], "amount_minor": 100, "method": "cash", "reason": "Left over"});
    let (status, r) =
        send(t, &clerk, "POST", &format!("/api/v1/patients/{dup}/refunds"), Some(body), None).await;
    assert_eq!(status, 201, "{r}");
}

/// What the desk's patient owes on posted bills.
pub async fn owed(t: &TestApp, d: &Desk) -> i64 {
    let (_, a) =
        send(t, &d.clerk, "GET", &format!("/api/v1/patients/{}/account", d.patient), None, None).await;
    a["owed_minor"].as_i64().unwrap()
}
