//! Insurance and the leak check through the API, on SQLite and PostgreSQL: a stay
//! pre-authorised with its documents, a claim's shares by the plan (co-payment, uncovered
//! services, the pre-authorised cap), submission moving the insurer's share off the
//! patient's bill, a partial approval sending the rest back, settlement with deductions
//! written off, a denied claim sent again as its next version, the insurer ageing — and
//! every billable event charged or exempted. The books balance after each test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::billing::*;
use common::ward::*;
use serde_json::{Value, json};
use uuid::Uuid;

/// An insurer worked by a TPA, and its plan: laboratory, imaging, consultations and bed
/// days covered (procedures not), 10 % co-payment, a sum insured of 10,000.00.
async fn insurer(t: &common::TestApp, d: &Desk, preauth_required: bool) -> (Value, Value) {
    let (status, tpa) = send(
        t,
        &d.head,
        "POST",
        "/api/v1/payers",
        Some(json!({"code": "TPA1", "name": "Niramaya TPA", "kind": "tpa"})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{tpa}");
    let body =
        json!({"code": "AROGYA", "name": "Arogya General", "kind": "insurer", "administrator_id": tpa["id"]});
    let (status, payer) = send(t, &d.head, "POST", "/api/v1/payers", Some(body), None).await;
    assert_eq!(status, 201, "{payer}");
    let body = json!({
        "payer_id": payer["id"], "code": "FAMILY", "name": "Family floater",
        "covered": ["laboratory", "imaging", "consultation", "bed_day"], "copay_bp": 1000,
        "limit_minor": 1_000_000, "preauth_required": preauth_required,
    });
    let (status, plan) = send(t, &d.head, "POST", "/api/v1/insurance-plans", Some(body), None).await;
    assert_eq!(status, 201, "{plan}");
    (payer, plan)
}

async fn policy(t: &common::TestApp, d: &Desk, patient: Uuid, plan: &Value, member: &str) -> (u16, Value) {
    let today = chrono::Utc::now().date_naive();
    let body = json!({
        "plan_id": plan["id"], "member_number": member,
        "valid_from": (today - chrono::Duration::days(30)).to_string(),
        "valid_to": (today + chrono::Duration::days(335)).to_string(),
    });
    send(t, &d.clerk, "POST", &format!("/api/v1/patients/{patient}/coverages"), Some(body), None).await
}

async fn step(t: &common::TestApp, who: &Who, claim: &Value, what: &str, body: Value) -> (u16, Value) {
    let path = format!("/api/v1/claims/{}/{what}", claim["id"].as_str().unwrap());
    send(t, who, "POST", &path, Some(body), None).await
}

async fn insurer_owes(t: &common::TestApp) -> i64 {
    use salus_core::billing::Account;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let rows = salus_db::entity::journal_line::Entity::find()
        .filter(salus_db::entity::journal_line::Column::Account.eq(Account::InsurerReceivable))
        .all(t.app.db.reader())
        .await
        .unwrap();
    rows.iter().map(|r| r.amount_minor).sum()
}

db_test!(a_stay_is_preauthorised_claimed_partly_approved_and_settled, |t| {
    let d = desk(&t).await;
    // Bad set-up changes nothing: a clerk may not add payers; a co-payment over 100 %.
    let (status, _) = send(
        &t,
        &d.clerk,
        "POST",
        "/api/v1/payers",
        Some(json!({"code": "X", "name": "X", "kind": "insurer"})),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (payer, plan) = insurer(&t, &d, true).await;
    let bad = json!({"payer_id": payer["id"], "code": "BAD", "name": "Bad", "covered": ["laboratory"], "copay_bp": 15_000});
    let (status, e) = send(&t, &d.head, "POST", "/api/v1/insurance-plans", Some(bad), None).await;
    assert_eq!((status, fields(&e)), (422, vec!["copay".to_owned()]), "{e}");
    let (status, e) = send(
        &t,
        &d.head,
        "POST",
        "/api/v1/payers",
        Some(json!({"code": "AROGYA", "name": "Again", "kind": "insurer"})),
        None,
    )
    .await;
    assert_eq!((status, fields(&e)), (422, vec!["code".to_owned()]), "{e}");

    let (status, pol) = policy(&t, &d, d.patient, &plan, "AGI-1").await;
    assert_eq!(status, 201, "{pol}");
    let (status, e) = policy(&t, &d, d.other, &plan, "AGI-1").await;
    assert_eq!(
        (status, fields(&e)),
        (422, vec!["member_number".to_owned()]),
        "one member number, one policy: {e}"
    );
    let (status, _) =
        send(&t, &d.nurse, "GET", &format!("/api/v1/patients/{}/insurance", d.patient), None, None).await;
    assert_eq!(status, 403, "a nurse does not see the insurance");

    let stay = admit(&t, &d).await;
    let _ = charge(&t, d.patient, &[("CONS", 1), ("CBC", 3), ("XR-CHEST", 1), ("DRESS", 1)]).await;
    let (status, bill) =
        invoice(&t, &d.clerk, d.patient, json!({"kind": "interim", "admission_id": stay, "charge_ids": []}))
            .await;
    assert_eq!(status, 422, "no charges ticked: {bill}");
    let (_, a) =
        send(&t, &d.clerk, "GET", &format!("/api/v1/patients/{}/account", d.patient), None, None).await;
    let ids: Vec<Value> = a["unbilled"].as_array().unwrap().iter().map(|c| c["id"].clone()).collect();
    let (status, bill) =
        invoice(&t, &d.clerk, d.patient, json!({"kind": "interim", "admission_id": stay, "charge_ids": ids}))
            .await;
    assert_eq!(status, 201, "{bill}");
    let total = bill["total_minor"].as_i64().unwrap();
    let claims = format!("/api/v1/invoices/{}/claims", bill["id"].as_str().unwrap());

    // The plan pays for a stay only once it is pre-authorised.
    let (status, e) =
        send(&t, &d.clerk, "POST", &claims, Some(json!({"coverage_id": pol["id"]})), None).await;
    assert_eq!((status, fields(&e)), (422, vec!["policy_id".to_owned()]), "{e}");
    let (status, theirs) = policy(&t, &d, d.other, &plan, "AGI-2").await;
    assert_eq!(status, 201);
    let (status, e) =
        send(&t, &d.clerk, "POST", &claims, Some(json!({"coverage_id": theirs["id"]})), None).await;
    assert_eq!((status, fields(&e)), (422, vec!["policy_id".to_owned()]), "another patient's policy: {e}");
    // A policy is cancelled once, by billing staff only.
    let cancel = format!("/api/v1/coverages/{}/cancel", theirs["id"].as_str().unwrap());
    assert_eq!(send(&t, &d.nurse, "POST", &cancel, None, None).await.0, 403);
    assert_eq!(send(&t, &d.clerk, "POST", &cancel, None, None).await.0, 204);
    assert_eq!(send(&t, &d.clerk, "POST", &cancel, None, None).await.0, 409, "cancelled once");
    let missing = format!("/api/v1/coverages/{}/cancel", Uuid::now_v7());
    assert_eq!(send(&t, &d.clerk, "POST", &missing, None, None).await.0, 404);

    let ask = json!({"coverage_id": pol["id"], "admission_id": stay, "diagnosis": "Cellulitis, IV antibiotics", "requested_minor": 250_000});
    let (status, pa) = send(
        &t,
        &d.clerk,
        "POST",
        &format!("/api/v1/patients/{}/preauthorizations", d.patient),
        Some(ask.clone()),
        None,
    )
    .await;
    assert_eq!(status, 201, "{pa}");
    assert!(pa["number"].as_str().unwrap().starts_with("PA/"), "{pa}");
    let (status, _) = send(
        &t,
        &d.clerk,
        "POST",
        &format!("/api/v1/patients/{}/preauthorizations", d.other),
        Some(ask),
        None,
    )
    .await;
    assert_eq!(status, 422, "the policy is not the other patient's");
    let pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    let path =
        format!("/api/v1/preauthorizations/{}/documents?filename=estimate.pdf", pa["id"].as_str().unwrap());
    let (status, doc) = upload(&t, &d.clerk, &path, pdf.clone()).await;
    assert_eq!(status, 201, "{doc}");
    let doc = doc.as_str().unwrap().to_owned();
    let (status, _) = upload(&t, &d.clerk, &path, b"MZ not a document".to_vec()).await;
    assert_eq!(status, 422, "only documents are kept");
    let res = d
        .clerk
        .client
        .get(t.url(&format!("/api/v1/preauthorizations/{}/documents/{doc}", pa["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().to_vec(), pdf);
    let answer = format!("/api/v1/preauthorizations/{}/answer", pa["id"].as_str().unwrap());
    let (status, e) =
        send(&t, &d.clerk, "POST", &answer, Some(json!({"approved_minor": 300_000, "version": 1})), None)
            .await;
    assert_eq!((status, fields(&e)), (422, vec!["approved_amount".to_owned()]), "more than asked: {e}");
    let (status, e) = send(&t, &d.clerk, "POST", &answer, Some(json!({"version": 1})), None).await;
    assert_eq!((status, fields(&e)), (422, vec!["note".to_owned()]), "a denial needs its reason: {e}");
    let (status, pa) = send(
        &t,
        &d.clerk,
        "POST",
        &answer,
        Some(json!({"approved_minor": 200_000, "reference": "AGI/PA/1", "version": 1})),
        None,
    )
    .await;
    assert_eq!((status, pa["status"].as_str()), (200, Some("approved")), "{pa}");

    // Drafted: covered lines less 10 %, the procedure the patient's; capped at 2,000.00.
    // Consultation 500.00 → 450.00; CBC 999.99 → 899.99; X-ray 885.00 → 796.50: 2,146.49.
    let owed_before = owed(&t, &d).await;
    let (status, claim) =
        send(&t, &d.clerk, "POST", &claims, Some(json!({"coverage_id": pol["id"]})), None).await;
    assert_eq!(status, 201, "{claim}");
    assert_eq!(claim["claimed_minor"], 200_000);
    assert_eq!(claim["patient_share_minor"].as_i64().unwrap(), total - 200_000);
    let (_, detail) =
        send(&t, &d.clerk, "GET", &format!("/api/v1/claims/{}", claim["id"].as_str().unwrap()), None, None)
            .await;
    let items = detail["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    for i in items {
        assert_eq!(
            i["insurer_minor"].as_i64().unwrap() + i["patient_minor"].as_i64().unwrap(),
            i["net_minor"].as_i64().unwrap()
        );
        if i["category"] == "procedure" {
            assert_eq!(i["insurer_minor"], 0, "procedures are not covered");
        }
    }
    assert_eq!(owed(&t, &d).await, owed_before, "a draft moves nothing");
    let (status, _) =
        send(&t, &d.clerk, "POST", &claims, Some(json!({"coverage_id": pol["id"]})), None).await;
    assert_eq!(status, 409, "one claim in progress per bill");

    let (status, claim) = step(&t, &d.clerk, &claim, "submit", json!({"version": 1})).await;
    assert_eq!((status, claim["status"].as_str()), (200, Some("submitted")), "{claim}");
    assert_eq!(owed(&t, &d).await, owed_before - 200_000, "the insurer's share is off the patient's bill");
    assert_eq!(insurer_owes(&t).await, 200_000);
    let (status, _) = step(&t, &d.clerk, &claim, "submit", json!({"version": 2})).await;
    assert_eq!(status, 409, "submitted once");
    let cancel = format!("/api/v1/invoices/{}/cancel", bill["id"].as_str().unwrap());
    let (status, e) = send(&t, &d.head, "POST", &cancel, Some(json!({"reason": "wrong"})), None).await;
    assert_eq!(status, 409, "a claimed bill is not cancelled under the insurer: {e}");

    // Partly approved: the rest is the patient's again.
    let (status, e) =
        step(&t, &d.clerk, &claim, "decision", json!({"approved_minor": 150_000, "version": 2})).await;
    assert_eq!((status, fields(&e)), (422, vec!["note".to_owned()]), "{e}");
    let (status, e) =
        step(&t, &d.clerk, &claim, "decision", json!({"approved_minor": 250_000, "note": "x", "version": 2}))
            .await;
    assert_eq!((status, fields(&e)), (422, vec!["approved_amount".to_owned()]), "{e}");
    let (status, claim) = step(
        &t,
        &d.clerk,
        &claim,
        "decision",
        json!({"approved_minor": 150_000, "note": "Room rent above entitlement", "payer_reference": "AGI/CL/9", "version": 2}),
    )
    .await;
    assert_eq!((status, claim["status"].as_str()), (200, Some("partly_approved")), "{claim}");
    assert_eq!(owed(&t, &d).await, owed_before - 150_000);
    let (_, ageing) = send(&t, &d.clerk, "GET", "/api/v1/reports/insurer-ageing", None, None).await;
    assert_eq!(ageing[0]["payer"], "Arogya General");
    assert_eq!(ageing[0]["buckets_minor"][0], 150_000, "{ageing}");
    assert_eq!(ageing[0]["total_minor"], 150_000);
    let (_, work) = send(&t, &d.clerk, "GET", "/api/v1/insurance/worklist", None, None).await;
    assert_eq!(work["claims"].as_array().unwrap().len(), 1, "{work}");

    // Settled with a deduction, written off; the insurer owes nothing after.
    let (status, e) = step(
        &t,
        &d.clerk,
        &claim,
        "settlement",
        json!({"received_minor": 160_000, "reference": "UTR1", "version": 3}),
    )
    .await;
    assert_eq!((status, fields(&e)), (422, vec!["amount".to_owned()]), "more than approved: {e}");
    let (status, e) = step(
        &t,
        &d.clerk,
        &claim,
        "settlement",
        json!({"received_minor": 145_000, "reference": "UTR1", "version": 3}),
    )
    .await;
    assert_eq!((status, fields(&e)), (422, vec!["note".to_owned()]), "a deduction needs its reason: {e}");
    let (status, claim) = step(
        &t,
        &d.clerk,
        &claim,
        "settlement",
        json!({"received_minor": 145_000, "reference": "UTR1", "note": "TDS", "version": 3}),
    )
    .await;
    assert_eq!((status, claim["status"].as_str()), (200, Some("settled")), "{claim}");
    assert_eq!(claim["deductions_minor"], 5_000);
    assert_eq!(insurer_owes(&t).await, 0);
    let (_, ageing) = send(&t, &d.clerk, "GET", "/api/v1/reports/insurer-ageing", None, None).await;
    assert!(ageing.as_array().unwrap().is_empty(), "{ageing}");
    let (status, claim) = step(&t, &d.clerk, &claim, "close", json!({"version": 4})).await;
    assert_eq!((status, claim["status"].as_str()), (200, Some("closed")));
    // The patient pays their share at the desk, and the bill is done.
    let (status, _) =
        pay(&t, &d.clerk, &bill, json!({"method": "cash", "amount_minor": total - 150_000})).await;
    assert_eq!(status, 201);
    assert_eq!(owed(&t, &d).await, owed_before - total);
    books_balance(&t).await;
});

db_test!(a_denied_claim_goes_again_as_its_next_version_and_two_clerks_claim_once, |t| {
    let d = desk(&t).await;
    let (_, plan) = insurer(&t, &d, false).await;
    let (_, pol) = policy(&t, &d, d.patient, &plan, "AGI-9").await;
    let ids = charge(&t, d.patient, &[("CBC", 2)]).await;
    let (_, bill) = invoice(&t, &d.clerk, d.patient, json!({"charge_ids": ids})).await;
    let claims = format!("/api/v1/invoices/{}/claims", bill["id"].as_str().unwrap());
    let body = json!({"coverage_id": pol["id"]});
    let (a, b) = tokio::join!(
        send(&t, &d.clerk, "POST", &claims, Some(body.clone()), None),
        send(&t, &d.clerk2, "POST", &claims, Some(body.clone()), None)
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{a:?} {b:?}");
    let claim = if a.0 == 201 { a.1 } else { b.1 };
    assert_eq!(claim["claimed_minor"], 59_999, "66,666 less 10 %, rounded: {claim}");
    let owed_before = owed(&t, &d).await;
    let (_, claim) = step(&t, &d.clerk, &claim, "submit", json!({"version": 1})).await;
    let (status, claim) = step(
        &t,
        &d.clerk,
        &claim,
        "decision",
        json!({"approved_minor": 0, "note": "Policy lapsed per insurer", "version": 2}),
    )
    .await;
    assert_eq!((status, claim["status"].as_str()), (200, Some("denied")), "{claim}");
    assert_eq!(owed(&t, &d).await, owed_before, "all of it is the patient's again");
    assert_eq!(insurer_owes(&t).await, 0);
    let (status, again) = step(&t, &d.clerk, &claim, "resubmit", json!({"version": 3})).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(
        (again["number"].clone(), again["claim_version"].clone()),
        (claim["number"].clone(), json!(2))
    );
    assert_eq!(again["previous_id"], claim["id"]);
    let (_, old) =
        send(&t, &d.clerk, "GET", &format!("/api/v1/claims/{}", claim["id"].as_str().unwrap()), None, None)
            .await;
    assert_eq!(old["claim"]["status"], "closed");
    let (status, again) = step(&t, &d.clerk, &again, "submit", json!({"version": 1})).await;
    assert_eq!((status, again["status"].as_str()), (200, Some("submitted")), "{again}");
    // The wrong patient: the other patient's clerk view of this claim is the same claim;
    // a claim id that does not exist is 404.
    let (status, _) =
        step(&t, &d.clerk, &json!({"id": Uuid::now_v7().to_string()}), "submit", json!({"version": 1})).await;
    assert_eq!(status, 404);
    books_balance(&t).await;
});

/// Sets a doctor's department (and fee) so their finished visits are charged.
async fn doctor_in(
    t: &common::TestApp,
    who: &Who,
    department: Option<salus_core::DepartmentId>,
    fee: Option<&str>,
) {
    let me: Value = who.client.get(t.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    let id: salus_core::UserId = me["id"].as_str().unwrap().parse().unwrap();
    let input = salus_app::organisation::StaffProfileInput {
        registration_council: "KMC".into(),
        registration_number: format!("R-{}", &me["id"].as_str().unwrap()[24..]),
        department_id: department,
        consultation_fee: fee.map(|f| salus_app::organisation::Amount::Typed(f.into())),
        ..Default::default()
    };
    t.app.organisation().save_staff_profile(&salus_app::Ctx::operator(), id, 0, input).await.unwrap();
}

db_test!(every_billable_event_is_charged_or_exempted, |t| {
    let d = desk(&t).await;
    let opd = department(&t, "OPD", "Outpatients").await;
    use salus_app::organisation::{Amount, Percent, ServiceInput};
    let s = ServiceInput {
        code: "CONS-OPD".into(),
        name: "Consultation, outpatients".into(),
        category: "consultation".into(),
        department_id: Some(opd.id),
        price: Amount::Typed("400".into()),
        tax_rate: Percent::Typed("0".into()),
        active: true,
    };
    t.app.organisation().create_service(&salus_app::Ctx::operator(), s).await.unwrap();
    doctor_in(&t, &d.w.doc, Some(opd.id), Some("650")).await;
    // doc2 has no department: nothing prices their visits.
    doctor_in(&t, &d.w.doc2, None, None).await;
    let today = chrono::Utc::now().date_naive();
    let leaks = format!("/api/v1/billing/leaks?from={}&to={today}", today - chrono::Duration::days(1));
    let (status, l) = send(&t, &d.clerk, "GET", &leaks, None, None).await;
    assert_eq!((status, l.as_array().unwrap().len()), (200, 0), "{l}");
    let (status, _) = send(&t, &d.nurse, "GET", &leaks, None, None).await;
    assert_eq!(status, 403);

    // A finished visit is charged once, at the doctor's own fee.
    let enc = open(&t, &d.w).await;
    let (status, e) =
        send(&t, &d.w.doc, "POST", &format!("/api/v1/encounters/{enc}/finish"), None, Some(1)).await;
    assert_eq!(status, 200, "{e}");
    let (_, a) =
        send(&t, &d.clerk, "GET", &format!("/api/v1/patients/{}/account", d.patient), None, None).await;
    let cons: Vec<&Value> =
        a["unbilled"].as_array().unwrap().iter().filter(|c| c["source_type"] == "encounter").collect();
    assert_eq!(cons.len(), 1, "{a}");
    assert_eq!(
        (cons[0]["service_code"].as_str(), cons[0]["unit_price_minor"].as_i64()),
        (Some("CONS-OPD"), Some(65_000))
    );
    // Entered in error afterwards: the unbilled charge goes with it.
    let (status, _) = send(
        &t,
        &d.w.doc,
        "POST",
        &format!("/api/v1/encounters/{enc}/entered-in-error"),
        Some(json!({"reason": "Wrong patient"})),
        Some(2),
    )
    .await;
    assert_eq!(status, 200);
    let (_, a) =
        send(&t, &d.clerk, "GET", &format!("/api/v1/patients/{}/account", d.patient), None, None).await;
    assert!(a["unbilled"].as_array().unwrap().iter().all(|c| c["source_type"] != "encounter"), "{a}");

    // A visit nothing prices is a leak until a supervisor exempts it.
    let (status, e) =
        send(&t, &d.w.doc2, "POST", "/api/v1/encounters", Some(json!({"patient_id": d.w.patient})), None)
            .await;
    assert_eq!(status, 201, "{e}");
    let enc2 = e["id"].as_str().unwrap().to_owned();
    send(&t, &d.w.doc2, "POST", &format!("/api/v1/encounters/{enc2}/finish"), None, Some(1)).await;
    let (_, l) = send(&t, &d.clerk, "GET", &leaks, None, None).await;
    assert_eq!(l.as_array().unwrap().len(), 1, "{l}");
    assert_eq!((l[0]["kind"].as_str(), l[0]["source_id"].as_str()), (Some("encounter"), Some(enc2.as_str())));
    let body = json!({"kind": "encounter", "source_id": enc2, "reason": "Free follow-up within a week"});
    let (status, _) =
        send(&t, &d.clerk, "POST", "/api/v1/billing/exemptions", Some(body.clone()), None).await;
    assert_eq!(status, 403, "a clerk does not exempt");
    let (status, e) = send(
        &t,
        &d.head,
        "POST",
        "/api/v1/billing/exemptions",
        Some(json!({"kind": "encounter", "source_id": enc2, "reason": ""})),
        None,
    )
    .await;
    assert_eq!((status, fields(&e)), (422, vec!["reason".to_owned()]), "{e}");
    let (status, e) = send(
        &t,
        &d.head,
        "POST",
        "/api/v1/billing/exemptions",
        Some(json!({"kind": "spa", "source_id": enc2, "reason": "x"})),
        None,
    )
    .await;
    assert_eq!((status, fields(&e)), (422, vec!["kind".to_owned()]), "{e}");
    let (status, _) = send(&t, &d.head, "POST", "/api/v1/billing/exemptions", Some(body.clone()), None).await;
    assert_eq!(status, 204);
    let (status, _) = send(&t, &d.head, "POST", "/api/v1/billing/exemptions", Some(body), None).await;
    assert_eq!(status, 409, "exempted once");
    let (_, l) = send(&t, &d.clerk, "GET", &leaks, None, None).await;
    assert!(l.as_array().unwrap().is_empty(), "{l}");
    let exempted = salus_db::insurance::exemptions_between(
        t.app.db.reader(),
        chrono::Utc::now() - chrono::Duration::hours(1),
        chrono::Utc::now() + chrono::Duration::hours(1),
    )
    .await
    .unwrap();
    assert_eq!(exempted.len(), 1);
    books_balance(&t).await;
});

db_test!(insurance_keeps_its_statement_budgets, |t| {
    let d = desk(&t).await;
    let (_, plan) = insurer(&t, &d, false).await;
    let (_, pol) = policy(&t, &d, d.patient, &plan, "AGI-B").await;
    let ids = charge(&t, d.patient, &[("CBC", 1); 50]).await;
    let (_, bill) = invoice(&t, &d.clerk, d.patient, json!({"charge_ids": ids})).await;
    let claims = format!("/api/v1/invoices/{}/claims", bill["id"].as_str().unwrap());
    let before = t.app.db.statements();
    let (status, claim) =
        send(&t, &d.clerk, "POST", &claims, Some(json!({"coverage_id": pol["id"]})), None).await;
    let draft = t.app.db.statements() - before;
    assert_eq!(status, 201, "{claim}");
    let before = t.app.db.statements();
    let (status, _) = step(&t, &d.clerk, &claim, "submit", json!({"version": 1})).await;
    let submit = t.app.db.statements() - before;
    assert_eq!(status, 200);
    let today = chrono::Utc::now().date_naive();
    let before = t.app.db.statements();
    let (status, _) =
        send(&t, &d.clerk, "GET", &format!("/api/v1/billing/leaks?from={today}&to={today}"), None, None)
            .await;
    let leaks = t.app.db.statements() - before;
    assert_eq!(status, 200);
    // Drafting a claim of a 50-line bill (the same for 5 lines or 500): the caller's look,
    // the invoice, the patient, the policy, its plan, the bill's lines, their services, the
    // sum insured used, then one transaction (the number, the claim, its lines in one
    // insert, the audit event, commit). Submitting: the caller, the claim, the patient,
    // then the conditional payment, the claim saved at its version, the journal entry, the
    // audit event, commit. The leak check with nothing to show (4): the caller, the
    // billable events in one union, the stays in the house, those admitted or discharged
    // in the period (their beds' histories, the days' charges and the patients' names and
    // read audit only when there are some).
    assert_eq!((draft, submit, leaks), (13, 8, 4), "a claim drafted, submitted; the leak check");
});
