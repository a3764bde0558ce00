//! Billing through the API, on SQLite and PostgreSQL: invoices from unbilled charges,
//! payments by several methods within the balance, deposits applied to a bill, refunds
//! through a second person, cancellation by credit note, the cashier's shift — and the
//! failures real hospitals' trackers show made impossible: one bill paid twice
//! (hmis#5506), duplicate numbers on a double submit (hmis#21153), charges left off an
//! inpatient's final bill (hmis#19760), deposits and refunds booked the wrong way
//! (hmis#17137), shift collections doubled (hmis#4988). Every test ends with the journal
//! balanced, entry by entry.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::billing::*;
use common::stock::post_key;
use common::ward::*;
use salus_core::Role;
use serde_json::{Value, json};
use uuid::Uuid;

db_test!(a_bill_is_posted_paid_in_parts_and_never_twice, |t| {
    let d = desk(&t).await;
    let ids = charge(&t, d.patient, &[("CONS", 1), ("CBC", 3), ("XR-CHEST", 1)]).await;
    let account = format!("/api/v1/patients/{}/account", d.patient);
    let (status, a) = send(&t, &d.clerk, "GET", &account, None, None).await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["unbilled"].as_array().unwrap().len(), 3);
    let (status, _) = send(&t, &d.nurse, "GET", &account, None, None).await;
    assert_eq!(status, 403, "a nurse does not see the account");

    // Bad input changes nothing: no charges, another patient's charge, a discount with no
    // reason or larger than the bill, no key.
    let (status, e) = invoice(&t, &d.clerk, d.patient, json!({"charge_ids": []})).await;
    assert_eq!((status, fields(&e)), (422, vec!["charge_ids".to_owned()]), "{e}");
    let theirs = charge(&t, d.other, &[("CONS", 1)]).await;
    let (status, e) = invoice(&t, &d.clerk, d.patient, json!({"charge_ids": [ids[0], theirs[0]]})).await;
    assert_eq!(status, 409, "another patient's charge: {e}");
    let (status, e) =
        invoice(&t, &d.clerk, d.patient, json!({"charge_ids": ids, "discount_minor": 1000})).await;
    assert_eq!((status, fields(&e)), (422, vec!["discount_reason".to_owned()]), "{e}");
    let (status, e) = invoice(
        &t,
        &d.clerk,
        d.patient,
        json!({"charge_ids": ids, "discount_minor": 99_999_999, "discount_reason": "x"}),
    )
    .await;
    assert_eq!((status, fields(&e)), (422, vec!["discount".to_owned()]), "{e}");
    let (status, e) = post_key(
        &t,
        &d.clerk,
        &format!("/api/v1/patients/{}/invoices", d.patient),
        json!({"charge_ids": ids}),
        "",
    )
    .await;
    assert_eq!((status, fields(&e)), (422, vec!["idempotency_key".to_owned()]), "{e}");
    let (_, a) = send(&t, &d.clerk, "GET", &account, None, None).await;
    assert_eq!(a["unbilled"].as_array().unwrap().len(), 3, "nothing was billed by the refusals");
    assert!(a["invoices"].as_array().unwrap().is_empty());

    // Posted: a 5 % discount is spread before tax; the totals are the lines'.
    let k = key();
    let body = json!({"charge_ids": ids, "discount_minor": 11_750, "discount_reason": "Senior citizen"});
    let path = format!("/api/v1/patients/{}/invoices", d.patient);
    let (status, inv) = post_key(&t, &d.clerk, &path, body.clone(), &k).await;
    assert_eq!(status, 201, "{inv}");
    let year = inv["number"].as_str().unwrap().split('/').nth(1).unwrap().to_owned();
    assert_eq!(inv["number"], format!("INV/{year}/000001"));
    // 500 + 3 × 333.33 + 750 = 2249.99 gross; 117.50 off; tax 18 % on the X-ray's share.
    assert_eq!(inv["gross_minor"], 224_999);
    assert_eq!(inv["discount_minor"], 11_750);
    let xray = inv["lines"].as_array().unwrap().iter().find(|l| l["service_code"] == "XR-CHEST").unwrap();
    let taxable = xray["gross_minor"].as_i64().unwrap() - xray["discount_minor"].as_i64().unwrap();
    assert_eq!(xray["tax_minor"].as_i64().unwrap(), (taxable * 18 + 50) / 100);
    assert_eq!(inv["total_minor"].as_i64().unwrap(), 224_999 - 11_750 + xray["tax_minor"].as_i64().unwrap());

    // The same submission again is the same invoice (hmis#21153); the charges cannot be
    // billed a second time under another key.
    let (status, again) = post_key(&t, &d.clerk, &path, body.clone(), &k).await;
    assert_eq!((status, &again["id"], &again["number"]), (201, &inv["id"], &inv["number"]), "{again}");
    let (status, e) = invoice(&t, &d.clerk, d.patient, json!({"charge_ids": ids})).await;
    assert_eq!(status, 409, "billed already: {e}");

    // Paid in parts by two methods; never past the balance (hmis#5506).
    let total = inv["total_minor"].as_i64().unwrap();
    let (status, e) = pay(&t, &d.clerk, &inv, json!({"method": "cash", "amount_minor": total + 1})).await;
    assert_eq!((status, fields(&e)), (422, vec!["amount".to_owned()]), "{e}");
    let (status, e) = pay(&t, &d.clerk, &inv, json!({"method": "card", "amount_minor": 100})).await;
    assert_eq!((status, fields(&e)), (422, vec!["reference".to_owned()]), "a card slip: {e}");
    let (status, e) = pay(&t, &d.clerk2, &inv, json!({"method": "cash", "amount_minor": 100})).await;
    assert_eq!(status, 409, "no open shift: {e}");
    let (status, e) = pay(&t, &d.nurse, &inv, json!({"method": "cash", "amount_minor": 100})).await;
    assert_eq!(status, 403, "{e}");
    let k = key();
    let pay_path = format!("/api/v1/invoices/{}/payments", inv["id"].as_str().unwrap());
    let (status, r1) =
        post_key(&t, &d.clerk, &pay_path, json!({"method": "cash", "amount_minor": 100_000}), &k).await;
    assert_eq!(status, 201, "{r1}");
    assert_eq!(r1["number"], format!("RCP/{year}/000001"));
    let (status, again) =
        post_key(&t, &d.clerk, &pay_path, json!({"method": "cash", "amount_minor": 100_000}), &k).await;
    assert_eq!((status, &again["id"]), (201, &r1["id"]), "a retry pays once");
    let rest = total - 100_000;
    let (status, r2) =
        pay(&t, &d.clerk, &inv, json!({"method": "upi", "amount_minor": rest, "reference": "UPI-4471"}))
            .await;
    assert_eq!(status, 201, "{r2}");
    let (status, e) = pay(&t, &d.clerk, &inv, json!({"method": "cash", "amount_minor": 1})).await;
    assert_eq!((status, fields(&e)), (422, vec!["amount".to_owned()]), "paid in full: {e}");
    let (_, a) = send(&t, &d.clerk, "GET", &account, None, None).await;
    assert_eq!(
        (a["owed_minor"].as_i64(), a["invoices"][0]["balance_minor"].as_i64()),
        (Some(0), Some(0)),
        "{a}"
    );
    assert!(a["unbilled"].as_array().unwrap().is_empty());

    // The shift knows its cash: float + the cash payment.
    let (_, s) = send(&t, &d.clerk, "GET", "/api/v1/cashier-shift", None, None).await;
    assert_eq!(s["expected_minor"], 300_000, "{s}");
    books_balance(&t).await;
});

db_test!(a_final_bill_leaves_nothing_out_and_large_discounts_need_a_supervisor, |t| {
    let d = desk(&t).await;
    let ids = charge(&t, d.patient, &[("CONS", 1), ("DRESS", 2), ("CBC", 1)]).await;
    let stay = admit(&t, &d).await;
    // An interim or final bill names the stay — this patient's.
    let (status, e) =
        invoice(&t, &d.clerk, d.patient, json!({"kind": "final", "charge_ids": [ids[0]]})).await;
    assert_eq!((status, fields(&e)), (422, vec!["admission_id".to_owned(), "charge_ids".to_owned()]), "{e}");
    let (status, e) =
        invoice(&t, &d.clerk, d.other, json!({"kind": "final", "admission_id": stay, "charge_ids": []}))
            .await;
    assert_eq!(status, 422, "another patient's stay: {e}");
    // A final bill takes every unbilled charge (hmis#19760): one left out is refused.
    let (status, e) = invoice(
        &t,
        &d.clerk,
        d.patient,
        json!({"kind": "final", "admission_id": stay, "charge_ids": [ids[0]]}),
    )
    .await;
    assert_eq!((status, fields(&e)), (422, vec!["charge_ids".to_owned()]), "{e}");
    let (status, interim) = invoice(
        &t,
        &d.clerk,
        d.patient,
        json!({"kind": "interim", "admission_id": stay, "charge_ids": [ids[0]]}),
    )
    .await;
    assert_eq!((status, interim["kind"].as_str()), (201, Some("interim")), "{interim}");

    // A discount over the limit (10 %) is refused to a clerk and posted by a supervisor.
    let body =
        json!({"charge_ids": [ids[1], ids[2]], "discount_minor": 20_000, "discount_reason": "Hardship"});
    let (status, e) = invoice(&t, &d.clerk, d.patient, body.clone()).await;
    assert_eq!((status, fields(&e)), (422, vec!["discount".to_owned()]), "{e}");
    let (status, inv) = invoice(&t, &d.head, d.patient, body).await;
    assert_eq!(status, 201, "{inv}");
    assert!(inv["approved_by"].is_string(), "the approver is on the bill: {inv}");
    // The stay's final bill now takes what is left: nothing, so it is refused.
    let (status, e) = invoice(&t, &d.clerk, d.patient, json!({"kind": "final", "admission_id": stay})).await;
    assert_eq!((status, fields(&e)), (422, vec!["charge_ids".to_owned()]), "{e}");
    let more = charge(&t, d.patient, &[("DRESS", 1)]).await;
    let (status, fin) =
        invoice(&t, &d.clerk, d.patient, json!({"kind": "final", "admission_id": stay})).await;
    assert_eq!(status, 201, "{fin}");
    assert_eq!(fin["lines"][0]["charge_id"].as_str().unwrap(), more[0].to_string(), "{fin}");
    books_balance(&t).await;
});

db_test!(deposits_are_applied_and_refunds_need_a_second_person, |t| {
    let d = desk(&t).await;
    let deposits = format!("/api/v1/patients/{}/deposits", d.patient);
    let (status, e) =
        post_key(&t, &d.clerk, &deposits, json!({"method": "cash", "amount_minor": 0}), &key()).await;
    assert_eq!(status, 422, "{e}");
    let (status, e) =
        post_key(&t, &d.clerk, &deposits, json!({"method": "insurance", "amount_minor": 100}), &key()).await;
    assert_eq!((status, fields(&e)), (422, vec!["method".to_owned()]), "{e}");
    let (status, dep) =
        post_key(&t, &d.clerk, &deposits, json!({"method": "cash", "amount_minor": 500_000}), &key()).await;
    assert_eq!(status, 201, "{dep}");
    assert_eq!(dep["unapplied_minor"], 500_000);

    let ids = charge(&t, d.patient, &[("CONS", 1), ("CBC", 1)]).await;
    let (_, inv) = invoice(&t, &d.clerk, d.patient, json!({"charge_ids": ids})).await;
    let total = inv["total_minor"].as_i64().unwrap();
    // Another patient's deposit cannot pay this bill.
    let (_, their) = post_key(
        &t,
        &d.clerk,
        &format!("/api/v1/patients/{}/deposits", d.other),
        json!({"method": "cash", "amount_minor": 10_000}),
        &key(),
    )
    .await;
    let (status, e) =
        pay(&t, &d.clerk, &inv, json!({"method": "deposit", "deposit_id": their["id"], "amount_minor": 100}))
            .await;
    assert_eq!((status, fields(&e)), (422, vec!["deposit_id".to_owned()]), "{e}");
    let (status, r) =
        pay(&t, &d.clerk, &inv, json!({"method": "deposit", "deposit_id": dep["id"], "amount_minor": total}))
            .await;
    assert_eq!(status, 201, "{r}");
    let left = 500_000 - total;
    let (_, a) =
        send(&t, &d.clerk, "GET", &format!("/api/v1/patients/{}/account", d.patient), None, None).await;
    assert_eq!((a["deposit_minor"].as_i64(), a["owed_minor"].as_i64()), (Some(left), Some(0)), "{a}");

    // A refund of more than is left is refused; the one asked for waits for a supervisor
    // who is not the clerk who asked.
    let refunds = format!("/api/v1/patients/{}/refunds", d.patient);
    let body =
        json!({"deposit_id": dep["id"], "amount_minor": left + 1, "method": "cash", "reason": "Discharged"});
    let (status, e) = send(&t, &d.clerk, "POST", &refunds, Some(body), None).await;
    assert_eq!((status, fields(&e)), (422, vec!["amount".to_owned()]), "{e}");
    let body =
        json!({"deposit_id": dep["id"], "amount_minor": left, "method": "cash", "reason": "Discharged"});
    let (status, rq) = send(&t, &d.head, "POST", &refunds, Some(body.clone()), None).await;
    assert_eq!(status, 201, "{rq}");
    let approve = format!("/api/v1/refunds/{}/approve", rq["id"].as_str().unwrap());
    let (status, e) = send(&t, &d.head, "POST", &approve, Some(json!({})), None).await;
    assert_eq!(status, 409, "asked and approved by one person: {e}");
    let (status, e) = send(&t, &d.clerk, "POST", &approve, Some(json!({})), None).await;
    assert_eq!(status, 403, "a clerk does not approve: {e}");
    let pay_out = format!("/api/v1/refunds/{}/pay", rq["id"].as_str().unwrap());
    let (status, e) = post_key(&t, &d.clerk, &pay_out, json!({}), &key()).await;
    assert_eq!(status, 409, "not approved yet: {e}");
    let (_, rq2) = send(&t, &d.clerk, "POST", &refunds, Some(body), None).await;
    let (status, ok) = send(
        &t,
        &d.head,
        "POST",
        &format!("/api/v1/refunds/{}/approve", rq2["id"].as_str().unwrap()),
        Some(json!({})),
        None,
    )
    .await;
    assert_eq!((status, ok["status"].as_str()), (200, Some("approved")), "{ok}");
    let pay_out = format!("/api/v1/refunds/{}/pay", rq2["id"].as_str().unwrap());
    let (status, e) = post_key(&t, &d.clerk2, &pay_out, json!({}), &key()).await;
    assert_eq!(status, 409, "no shift, no cash out: {e}");
    let (status, v) = post_key(&t, &d.clerk, &pay_out, json!({}), &key()).await;
    assert_eq!(status, 201, "{v}");
    assert!(v["number"].as_str().unwrap().starts_with("RFD/"), "{v}");
    assert_eq!((v["kind"].as_str(), v["amount_minor"].as_i64()), (Some("refund"), Some(left)));
    let (status, e) = post_key(&t, &d.clerk, &pay_out, json!({}), &key()).await;
    assert_eq!(status, 409, "paid once: {e}");
    // The first request, approved now, finds the deposit spent (hmis#17137's wrong way).
    let (_, _) = send(&t, &d.clerk, "POST", &approve, Some(json!({})), None).await;
    let (_, a) =
        send(&t, &d.clerk, "GET", &format!("/api/v1/patients/{}/account", d.patient), None, None).await;
    assert_eq!(a["deposit_minor"].as_i64(), Some(0), "{a}");
    // The day's report lists the deposit applied to the bill but totals only money moved.
    let (_, r) = send(&t, &d.head, "GET", "/api/v1/reports/daily-cash", None, None).await;
    let lines = r["lines"].as_array().unwrap();
    assert!(lines.iter().any(|l| l["method"] == "deposit" && l["kind"] == "payment"), "{r}");
    assert!(r["totals"].as_array().unwrap().iter().all(|x| x["method"] != "deposit"), "{r}");
    // The drawer: float 2000 + deposits 5000 + 100 − refund.
    let (_, s) = send(&t, &d.clerk, "GET", "/api/v1/cashier-shift", None, None).await;
    assert_eq!(s["expected_minor"].as_i64(), Some(200_000 + 500_000 + 10_000 - left), "{s}");
    books_balance(&t).await;
});

db_test!(a_cancelled_bill_frees_its_charges_by_a_credit_note, |t| {
    let d = desk(&t).await;
    let ids = charge(&t, d.patient, &[("XR-CHEST", 1), ("DRESS", 1)]).await;
    let (_, inv) = invoice(&t, &d.clerk, d.patient, json!({"charge_ids": ids})).await;
    let (status, _) = pay(&t, &d.clerk, &inv, json!({"method": "cash", "amount_minor": 50_000})).await;
    assert_eq!(status, 201);
    let cancel = format!("/api/v1/invoices/{}/cancel", inv["id"].as_str().unwrap());
    let (status, _) =
        send(&t, &d.clerk, "POST", &cancel, Some(json!({"reason": "Wrong patient"})), None).await;
    assert_eq!(status, 403, "a supervisor cancels");
    let (status, e) = send(&t, &d.head, "POST", &cancel, Some(json!({"reason": " "})), None).await;
    assert_eq!(status, 422, "{e}");
    let (status, c) =
        send(&t, &d.head, "POST", &cancel, Some(json!({"reason": "Billed the wrong stay"})), None).await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["status"], "cancelled");
    assert!(c["credit_note_number"].as_str().unwrap().starts_with("CN/"), "{c}");
    assert_eq!(c["balance_minor"], 0);
    let (status, _) = send(&t, &d.head, "POST", &cancel, Some(json!({"reason": "again"})), None).await;
    assert_eq!(status, 409);
    let (status, e) = pay(&t, &d.clerk, &inv, json!({"method": "cash", "amount_minor": 1})).await;
    assert_eq!(status, 409, "nothing is owed on a cancelled bill: {e}");
    // The charges bill again, under the next number; the money paid goes back by refund.
    let (status, again) = invoice(&t, &d.clerk, d.patient, json!({"charge_ids": ids})).await;
    assert_eq!(status, 201, "{again}");
    assert!(again["number"].as_str().unwrap().ends_with("/000002"), "{again}");
    let body = json!({"invoice_id": inv["id"], "amount_minor": 50_000, "method": "cash", "reason": "Cancelled bill"});
    let (status, rq) =
        send(&t, &d.clerk, "POST", &format!("/api/v1/patients/{}/refunds", d.patient), Some(body), None)
            .await;
    assert_eq!(status, 201, "{rq}");
    let body = json!({"invoice_id": again["id"], "amount_minor": 1, "method": "cash", "reason": "x"});
    let (status, e) =
        send(&t, &d.clerk, "POST", &format!("/api/v1/patients/{}/refunds", d.patient), Some(body), None)
            .await;
    assert_eq!(
        (status, fields(&e)),
        (422, vec!["invoice_id".to_owned()]),
        "a posted bill is not refunded: {e}"
    );
    // Revenue: the cancelled bill and its credit note cancel out; the second one counts.
    let today = chrono::Utc::now().with_timezone(&t.app.time_zone).date_naive();
    let (status, rev) =
        send(&t, &d.clerk, "GET", &format!("/api/v1/reports/revenue?from={today}&to={today}"), None, None)
            .await;
    assert_eq!(status, 200, "{rev}");
    let gross: i64 = rev.as_array().unwrap().iter().map(|r| r["gross_minor"].as_i64().unwrap()).sum();
    assert_eq!(gross, again["gross_minor"].as_i64().unwrap(), "{rev}");
    books_balance(&t).await;
});

db_test!(a_shift_closes_with_its_count_and_the_day_tallies, |t| {
    let d = desk(&t).await;
    let (status, e) =
        send(&t, &d.clerk, "POST", "/api/v1/cashier-shift", Some(json!({"float_minor": 0})), None).await;
    assert_eq!(status, 409, "one open shift: {e}");
    let ids = charge(&t, d.patient, &[("CONS", 2)]).await;
    let (_, inv) = invoice(&t, &d.clerk, d.patient, json!({"charge_ids": ids})).await;
    pay(&t, &d.clerk, &inv, json!({"method": "cash", "amount_minor": 60_000})).await;
    pay(&t, &d.clerk, &inv, json!({"method": "card", "amount_minor": 40_000, "reference": "SLIP-9"})).await;
    // Counted short without a word: refused; with one, the variance is kept.
    let (status, e) = send(
        &t,
        &d.clerk,
        "POST",
        "/api/v1/cashier-shift/close",
        Some(json!({"counted_minor": 259_000})),
        None,
    )
    .await;
    assert_eq!((status, fields(&e)), (422, vec!["note".to_owned()]), "{e}");
    let (status, s) = send(
        &t,
        &d.clerk,
        "POST",
        "/api/v1/cashier-shift/close",
        Some(json!({"counted_minor": 259_000, "note": "A 10 note short"})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(
        (s["expected_minor"].as_i64(), s["variance_minor"].as_i64()),
        (Some(260_000), Some(-1_000)),
        "{s}"
    );
    let (status, _) = send(&t, &d.clerk, "GET", "/api/v1/cashier-shift", None, None).await;
    assert_eq!(status, 404, "closed");
    let (status, e) = pay(&t, &d.clerk, &inv, json!({"method": "cash", "amount_minor": 1})).await;
    assert_eq!(status, 409, "no money taken outside a shift: {e}");
    // The close is in the audit trail (and so the sealed chain) with its figures.
    {
        use salus_db::entity::audit_event;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let close = audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq("billing.shift.close"))
            .one(t.app.db.reader())
            .await
            .unwrap()
            .expect("the close is audited");
        let detail: Value = serde_json::from_str(close.detail.as_deref().unwrap()).unwrap();
        assert_eq!(
            (detail["counted_minor"].as_i64(), detail["variance_minor"].as_i64()),
            (Some(259_000), Some(-1_000))
        );
    }
    // The day's cash report counts each payment once (hmis#4988), per method.
    let (status, r) = send(&t, &d.head, "GET", "/api/v1/reports/daily-cash", None, None).await;
    assert_eq!(status, 200, "{r}");
    let total = |m: &str| {
        r["totals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["method"] == m)
            .map(|x| x["net_minor"].as_i64().unwrap())
    };
    assert_eq!((total("cash"), total("card")), (Some(60_000), Some(40_000)), "{r}");
    let (status, _) = send(&t, &d.nurse, "GET", "/api/v1/reports/daily-cash", None, None).await;
    assert_eq!(status, 403);
    books_balance(&t).await;
});

/// `n` more patients registered at the desk.
async fn patients(t: &common::TestApp, d: &Desk, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for i in 0..n {
        let body = json!({"given_names": format!("Cashier{i}"), "family_name": "Patient", "sex": "female",
            "birth_date": "1985-05-05", "not_a_duplicate": true});
        let (status, p) = send(t, &d.w.desk, "POST", "/api/v1/patients", Some(body), None).await;
        assert_eq!(status, 201, "{p}");
        ids.push(p["id"].as_str().unwrap().parse().unwrap());
    }
    ids
}

db_test!(sixteen_cashiers_at_once_leave_no_gap_and_no_double, |t| {
    let d = desk(&t).await;
    let people = patients(&t, &d, 16).await;
    let mut cashiers = Vec::new();
    for i in 0..16 {
        let c = who(&t, &format!("bill.cashier{i:02}"), &[Role::Billing]).await;
        let (status, s) =
            send(&t, &c, "POST", "/api/v1/cashier-shift", Some(json!({"float_minor": 0})), None).await;
        assert_eq!(status, 201, "{s}");
        cashiers.push(c);
    }
    let mut bills = Vec::new();
    for p in &people {
        bills.push(charge(&t, *p, &[("CONS", 1), ("CBC", 2), ("XR-CHEST", 1)]).await);
    }
    // Each cashier bills a patient and takes the money, all at once; each also sends its
    // bill twice with one key, as a double click does.
    let runs = cashiers.iter().zip(people.iter().zip(&bills)).map(|(c, (p, ids))| {
        let t = &t;
        async move {
            let k = key();
            let path = format!("/api/v1/patients/{p}/invoices");
            let body = json!({"charge_ids": ids});
            let (a, b) =
                tokio::join!(post_key(t, c, &path, body.clone(), &k), post_key(t, c, &path, body, &k));
            assert_eq!((a.0, b.0), (201, 201), "{} {}", a.1, b.1);
            assert_eq!(a.1["id"], b.1["id"], "a double click is one bill");
            let (status, r) =
                pay(t, c, &a.1, json!({"method": "cash", "amount_minor": a.1["total_minor"]})).await;
            assert_eq!(status, 201, "{r}");
            (a.1["number"].as_str().unwrap().to_owned(), r["number"].as_str().unwrap().to_owned())
        }
    });
    let numbers = futures::future::join_all(runs).await;
    let tail = |n: &str| n.rsplit('/').next().unwrap().parse::<u32>().unwrap();
    let mut invoices: Vec<u32> = numbers.iter().map(|(i, _)| tail(i)).collect();
    let mut receipts: Vec<u32> = numbers.iter().map(|(_, r)| tail(r)).collect();
    invoices.sort();
    receipts.sort();
    assert_eq!(invoices, (1..=16).collect::<Vec<_>>(), "no gap, no duplicate");
    assert_eq!(receipts, (1..=16).collect::<Vec<_>>(), "no gap, no duplicate");

    // Two cashiers paying one bill in full at the same moment: one is taken (hmis#5506).
    let extra = charge(&t, people[0], &[("CONS", 1)]).await;
    let (_, inv) = invoice(&t, &cashiers[0], people[0], json!({"charge_ids": extra})).await;
    let body = json!({"method": "cash", "amount_minor": inv["total_minor"]});
    let (a, b) = tokio::join!(pay(&t, &cashiers[0], &inv, body.clone()), pay(&t, &cashiers[1], &inv, body));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses[0], 201, "{} {}", a.1, b.1);
    assert!(statuses[1] == 409 || statuses[1] == 422, "the second is refused: {} {}", a.1, b.1);
    let (_, a) =
        send(&t, &d.clerk, "GET", &format!("/api/v1/patients/{}/account", people[0]), None, None).await;
    assert_eq!(a["owed_minor"], 0, "paid once: {a}");
    books_balance(&t).await;
});

/// SplitMix64: a small deterministic generator for the random run below.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

db_test!(a_random_run_of_the_desk_tallies_to_the_paisa, |t| {
    let d = desk(&t).await;
    let people = patients(&t, &d, 6).await;
    let mut rng = Mix(19);
    let services = ["CONS", "CBC", "XR-CHEST", "DRESS"];
    let methods = ["cash", "card", "upi", "bank_transfer"];
    let mut deposits: Vec<(Uuid, Value)> = Vec::new();
    for step in 0..60 {
        let p = people[rng.below(people.len() as u64) as usize];
        match rng.below(6) {
            // A bill of a few charges, sometimes discounted within the limit, part paid.
            0..=2 => {
                let items: Vec<(&str, i32)> = (0..1 + rng.below(4))
                    .map(|_| (services[rng.below(4) as usize], 1 + rng.below(3) as i32))
                    .collect();
                let ids = charge(&t, p, &items).await;
                let mut body = json!({"charge_ids": ids});
                if rng.below(3) == 0 {
                    body["discount_minor"] = json!(rng.below(5_000) + 1);
                    body["discount_reason"] = json!("Staff family");
                }
                let (status, inv) = invoice(&t, &d.clerk, p, body).await;
                assert_eq!(status, 201, "step {step}: {inv}");
                let total = inv["total_minor"].as_i64().unwrap();
                let mut left = total;
                for _ in 0..rng.below(3) {
                    if left == 0 {
                        break;
                    }
                    let part = 1 + rng.below(left as u64) as i64;
                    let m = methods[rng.below(4) as usize];
                    let (status, r) = pay(
                        &t,
                        &d.clerk,
                        &inv,
                        json!({"method": m, "amount_minor": part, "reference": "REF"}),
                    )
                    .await;
                    assert_eq!(status, 201, "step {step}: {r}");
                    left -= part;
                }
                if left > 0 && rng.below(4) == 0 {
                    let cancel = format!("/api/v1/invoices/{}/cancel", inv["id"].as_str().unwrap());
                    let (status, c) =
                        send(&t, &d.head, "POST", &cancel, Some(json!({"reason": "Re-billed"})), None).await;
                    assert_eq!(status, 200, "step {step}: {c}");
                }
            }
            // A deposit.
            3 => {
                let m = methods[rng.below(2) as usize];
                let body =
                    json!({"method": m, "amount_minor": 1_000 + rng.below(900_000), "reference": "REF"});
                let (status, r) =
                    post_key(&t, &d.clerk, &format!("/api/v1/patients/{p}/deposits"), body, &key()).await;
                assert_eq!(status, 201, "step {step}: {r}");
                deposits.push((p, r));
            }
            // Part of a deposit given back, through the supervisor.
            _ => {
                let Some((p, dep)) = deposits.pop() else { continue };
                let (_, a) =
                    send(&t, &d.clerk, "GET", &format!("/api/v1/patients/{p}/account"), None, None).await;
                let left = a["receipts"].as_array().unwrap().iter().find(|r| r["id"] == dep["id"]).unwrap()["unapplied_minor"]
                    .as_i64()
                    .unwrap();
                if left == 0 {
                    continue;
                }
                let body = json!({"deposit_id": dep["id"], "amount_minor": 1 + rng.below(left as u64) as i64,
                    "method": "cash", "reason": "Not needed"});
                let (status, rq) =
                    send(&t, &d.clerk, "POST", &format!("/api/v1/patients/{p}/refunds"), Some(body), None)
                        .await;
                assert_eq!(status, 201, "step {step}: {rq}");
                let id = rq["id"].as_str().unwrap();
                send(&t, &d.head, "POST", &format!("/api/v1/refunds/{id}/approve"), Some(json!({})), None)
                    .await;
                let (status, v) =
                    post_key(&t, &d.clerk, &format!("/api/v1/refunds/{id}/pay"), json!({}), &key()).await;
                assert_eq!(status, 201, "step {step}: {v}");
            }
        }
    }
    books_balance(&t).await;

    // The cash report (from the receipts) equals the journal's cash account, method by
    // method, to the paisa; and the drawer's expected cash is the float plus it.
    let today = chrono::Utc::now().with_timezone(&t.app.time_zone).date_naive();
    let (_, report) =
        send(&t, &d.head, "GET", &format!("/api/v1/reports/daily-cash?day={today}"), None, None).await;
    let (from, to) = t.app.billing().day_bounds(today);
    let moves = salus_db::billing::account_movements(t.app.db.reader(), from, to).await.unwrap();
    let journal = |a: salus_core::billing::Account| {
        moves.iter().filter(|(x, ..)| *x == a).map(|(.., s)| *s).sum::<i64>()
    };
    let reported = |m: &str| {
        report["totals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["method"] == m)
            .map_or(0, |x| x["net_minor"].as_i64().unwrap())
    };
    use salus_core::billing::Account;
    assert_eq!(reported("cash"), journal(Account::Cash), "{report}");
    assert_eq!(reported("card"), journal(Account::Card), "{report}");
    assert_eq!(reported("upi"), journal(Account::Upi), "{report}");
    assert_eq!(reported("bank_transfer"), journal(Account::Bank), "{report}");
    let (_, s) = send(&t, &d.clerk, "GET", "/api/v1/cashier-shift", None, None).await;
    assert_eq!(s["expected_minor"].as_i64().unwrap(), 200_000 + journal(Account::Cash), "{s}");
    // Every patient's receivable is what their posted bills still owe.
    for p in &people {
        let (_, a) = send(&t, &d.clerk, "GET", &format!("/api/v1/patients/{p}/account"), None, None).await;
        let owed: i64 =
            a["invoices"].as_array().unwrap().iter().map(|i| i["balance_minor"].as_i64().unwrap()).sum();
        let credit: i64 = a["invoices"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["status"] == "cancelled")
            .map(|i| i["paid_minor"].as_i64().unwrap() - i["refunded_minor"].as_i64().unwrap())
            .sum();
        assert_eq!(a["owed_minor"].as_i64().unwrap(), owed - credit, "{a}");
    }
});

db_test!(billing_keeps_its_statement_budgets, |t| {
    let d = desk(&t).await;
    let ids = charge(&t, d.patient, &[("CBC", 1); 50]).await;
    let before = t.app.db.statements();
    let (status, _) =
        send(&t, &d.clerk, "GET", &format!("/api/v1/patients/{}/account", d.patient), None, None).await;
    let account = t.app.db.statements() - before;
    assert_eq!(status, 200);
    let before = t.app.db.statements();
    let (status, inv) = invoice(&t, &d.clerk, d.patient, json!({"charge_ids": ids})).await;
    let post = t.app.db.statements() - before;
    assert_eq!((status, inv["lines"].as_array().unwrap().len()), (201, 50));
    let before = t.app.db.statements();
    let (status, _) = pay(&t, &d.clerk, &inv, json!({"method": "cash", "amount_minor": 100})).await;
    let payment = t.app.db.statements() - before;
    assert_eq!(status, 201);
    // The account (10): the caller's look, the patient, then one query per section
    // (unbilled charges, invoices, receipts, refunds, the journal's balances, the stay in
    // the house) and the read-audit commit. Posting a 50-line bill (16, the same for 5 lines or 500): the
    // key's look, the patient, their unbilled charges, the services' departments, then one
    // transaction (the key, the number, the charges marked, the invoice, its lines in one
    // insert, the journal entry, the audit event, commit) and the bill read back. A payment
    // (13): the key's look, the invoice, the patient, the shift, the transaction (the key,
    // the conditional payment, the number, the receipt, the journal, the audit, commit)
    // and the receipt read back.
    assert_eq!((account, post, payment), (10, 16, 13), "account, a 50-line bill, a payment");
});

db_test!(a_restricted_record_is_billed_without_its_name_on_lists, |t| {
    let d = desk(&t).await;
    let body = json!({"given_names": "Famous", "family_name": "Person", "sex": "female", "birth_date": "1970-01-01",
        "restricted": true, "restricted_reason": "VIP", "not_a_duplicate": true});
    let (status, vip) = send(&t, &d.w.desk, "POST", "/api/v1/patients", Some(body), None).await;
    assert_eq!(status, 201, "{vip}");
    let vip_id: Uuid = vip["id"].as_str().unwrap().parse().unwrap();
    let ids = charge(&t, vip_id, &[("CONS", 1)]).await;
    // The chart stays behind the glass for the clerk; the account does not.
    let (status, _) = send(&t, &d.clerk, "GET", &format!("/api/v1/patients/{vip_id}"), None, None).await;
    assert_eq!(status, 403, "the record itself is restricted");
    let (status, waiting) = send(&t, &d.clerk, "GET", "/api/v1/billing/waiting", None, None).await;
    assert_eq!(status, 200, "{waiting}");
    let listed =
        waiting.as_array().unwrap().iter().find(|w| w["patient"]["id"] == vip["id"]).expect("listed");
    assert_eq!(listed["patient"]["name"], "Restricted record", "no name on a list: {listed}");
    let (status, inv) = invoice(&t, &d.clerk, vip_id, json!({"charge_ids": ids})).await;
    assert_eq!(status, 201, "a VIP's bill is posted like any other: {inv}");
    let (status, r) =
        pay(&t, &d.clerk, &inv, json!({"method": "cash", "amount_minor": inv["total_minor"]})).await;
    assert_eq!(status, 201, "{r}");
    // Every look is audited against the record.
    {
        use salus_db::entity::audit_event;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let reads = audit_event::Entity::find()
            .filter(audit_event::Column::PatientId.eq(vip_id))
            .filter(audit_event::Column::Action.eq("billing.to_bill.read"))
            .all(t.app.db.reader())
            .await
            .unwrap();
        assert_eq!(reads.len(), 1, "the waiting list's look at the record");
    }
    books_balance(&t).await;
});
