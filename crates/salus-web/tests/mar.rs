//! The medication administration record through the API, on SQLite and PostgreSQL
//! (openemr#2373 asked for one since 2019): a doctor's orders make doses due on the ward,
//! a nurse records each once — given (taken from the ward's store through the pharmacy's
//! ledger, once however often the request is sent), held, refused or missed with a reason,
//! late ones flagged — a correction is an amendment that keeps the record it corrects and
//! moves the stock back, an as-needed dose waits for a doctor's acknowledgement, and a
//! dose for a stopped order or a patient who left is refused with nothing changed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{DateTime, Duration, Timelike, Utc};
use common::stock::*;
use common::ward::*;
use serde_json::{Value, json};

/// A ward with the pharmacy's ward store behind it (20 capsules of amoxicillin in it,
/// doses on time within 30 minutes), the first patient admitted to bed 1-A.
struct Stay {
    admission: String,
    ward: String,
    ward_store: String,
    p: Pharmacy,
}

async fn stay(t: &common::TestApp, w: &Ward) -> Stay {
    let p = pharmacy(t).await;
    receive(t, &p, &p.ward_store, &[(&p.amox, "AMX-W1", 300, 20)]).await;
    let body = json!({"code": "W1", "name": "Ward one", "store_id": p.ward_store, "late_minutes": 30});
    let (status, ward) = send(t, &p.admin, "POST", "/api/v1/wards", Some(body), None).await;
    assert_eq!(status, 201, "{ward}");
    let ward = ward["id"].as_str().unwrap().to_owned();
    let beds = json!({"room": "1", "letters": ["A", "B"], "bed_type": "general"});
    let (status, beds) =
        send(t, &p.admin, "POST", &format!("/api/v1/wards/{ward}/beds"), Some(beds), None).await;
    assert_eq!(status, 201, "{beds}");
    let me: Value = w.doc.client.get(t.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    let body = json!({"patient_id": w.patient, "bed_id": beds[0]["id"], "attending_id": me["id"], "diagnosis": "Cellulitis"});
    let (status, a) = send(t, &w.desk, "POST", "/api/v1/admissions", Some(body), None).await;
    assert_eq!(status, 201, "{a}");
    Stay { admission: a["id"].as_str().unwrap().to_owned(), ward, ward_store: p.ward_store.clone(), p }
}

/// A time of day `hours` from now at the hospital, on the hour: "14:00".
fn hour_from_now(t: &common::TestApp, hours: i64) -> String {
    let local = (Utc::now() + Duration::hours(hours)).with_timezone(&t.app.time_zone);
    format!("{:02}:00", local.hour())
}

async fn order(t: &common::TestApp, w: &Ward, s: &Stay, body: Value) -> Value {
    let path = format!("/api/v1/admissions/{}/medication-orders", s.admission);
    let (status, o) = send(t, &w.doc, "POST", &path, Some(body), None).await;
    assert_eq!(status, 201, "{o}");
    o
}

async fn record(t: &common::TestApp, who: &Who, order: &str, body: Value, key: &str) -> (u16, Value) {
    post_key(t, who, &format!("/api/v1/medication-orders/{order}/administrations"), body, key).await
}

async fn amend(t: &common::TestApp, who: &Who, dose: &str, body: Value, key: &str) -> (u16, Value) {
    post_key(t, who, &format!("/api/v1/medication-administrations/{dose}/amend"), body, key).await
}

async fn doses(t: &common::TestApp, who: &Who, ward: &str) -> Value {
    let (status, d) = send(t, who, "GET", &format!("/api/v1/wards/{ward}/due-doses"), None, None).await;
    assert_eq!(status, 200, "{d}");
    d
}

fn doses_of<'a>(list: &'a Value, order: &str) -> Vec<&'a Value> {
    list["doses"].as_array().unwrap().iter().filter(|d| d["order"]["id"] == order).collect()
}

fn key() -> String {
    uuid::Uuid::now_v7().to_string()
}

db_test!(a_dose_is_recorded_once_taken_once_and_corrected_by_amendment, |t| {
    let w = ward(&t).await;
    let s = stay(&t, &w).await;
    let path = format!("/api/v1/admissions/{}/medication-orders", s.admission);
    let starts = (Utc::now() - Duration::hours(4)).to_rfc3339();
    let good = json!({"medicine_id": s.p.amox_medicine, "dose": "500 mg", "kind": "scheduled",
        "times": [hour_from_now(&t, -2), hour_from_now(&t, 6)], "starts_at": starts, "duration_days": 5});

    // Ordering: a doctor's, with times that are times and a medicine that exists.
    let (status, _) = send(&t, &w.nurse, "POST", &path, Some(good.clone()), None).await;
    assert_eq!(status, 403, "a nurse does not order");
    let mut bad = good.clone();
    bad["times"] = json!(["8am"]);
    bad["medicine_id"] = json!(uuid::Uuid::now_v7());
    let (status, e) = send(&t, &w.doc, "POST", &path, Some(bad), None).await;
    assert_eq!((status, fields(&e)), (422, vec!["medicine_id".to_owned(), "times".to_owned()]), "{e}");
    let o = order(&t, &w, &s, good).await;
    let oid = o["id"].as_str().unwrap();
    assert_eq!(o["item_id"], s.p.amox.as_str(), "the dose comes from the amoxicillin item: {o}");

    // The nurses' station: the dose two hours ago is overdue, the one ahead is due.
    let list = doses(&t, &w.nurse, &s.ward).await;
    let mine = doses_of(&list, oid);
    assert_eq!(mine.len(), 2, "{list}");
    assert_eq!((mine[0]["state"].as_str(), mine[1]["state"].as_str()), (Some("overdue"), Some("due")));
    let due: DateTime<Utc> = mine[0]["due_at"].as_str().unwrap().parse().unwrap();
    let ahead = mine[1]["due_at"].as_str().unwrap().to_owned();
    let given = json!({"due_at": due, "outcome": "given"});

    // Refused, each with its field, nothing recorded and nothing taken.
    let (status, e) = record(&t, &w.nurse, oid, given.clone(), "").await;
    assert_eq!((status, fields(&e)), (422, vec!["idempotency_key".to_owned()]), "{e}");
    let (status, e) = record(&t, &w.nurse, oid, json!({"due_at": due, "outcome": "held"}), &key()).await;
    assert_eq!((status, fields(&e)), (422, vec!["reason".to_owned()]), "{e}");
    let odd = (due + Duration::minutes(17)).to_rfc3339();
    let (status, e) = record(&t, &w.nurse, oid, json!({"due_at": odd, "outcome": "given"}), &key()).await;
    assert_eq!((status, fields(&e)), (422, vec!["due_at".to_owned()]), "no dose then: {e}");
    let (status, e) = record(&t, &w.nurse, oid, json!({"due_at": ahead, "outcome": "given"}), &key()).await;
    assert_eq!((status, fields(&e)), (422, vec!["due_at".to_owned()]), "not due yet: {e}");
    let (status, _) = record(&t, &w.doc, oid, given.clone(), &key()).await;
    assert_eq!(status, 403, "a doctor does not chart doses");
    assert_eq!(stock_of(&t, &s.p.pharm, &s.ward_store, &s.p.amox).await, (20, 20));

    // Given, late; the same submission again records and takes once; another screen's
    // record of the same dose is refused.
    let k = key();
    let (status, first) = record(&t, &w.nurse, oid, given.clone(), &k).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(
        (first["late"].as_bool(), first["status"].as_str()),
        (Some(true), Some("completed")),
        "{first}"
    );
    assert_eq!(first["store_id"], s.ward_store.as_str());
    let (status, again) = record(&t, &w.nurse, oid, given.clone(), &k).await;
    assert_eq!((status, &again["id"]), (201, &first["id"]), "a retry answers the first: {again}");
    let (status, e) = record(&t, &w.nurse, oid, given.clone(), &key()).await;
    assert_eq!(status, 409, "{e}");
    assert_eq!(stock_of(&t, &s.p.pharm, &s.ward_store, &s.p.amox).await, (19, 19), "one capsule, once");
    let (_, ledger) =
        send(&t, &s.p.pharm, "GET", &format!("/api/v1/pharmacy/stores/{}/ledger", s.ward_store), None, None)
            .await;
    let given_rows: Vec<&Value> =
        ledger["items"].as_array().unwrap().iter().filter(|r| r["kind"] == "administration").collect();
    assert_eq!(given_rows.len(), 1, "{ledger}");
    assert_eq!(given_rows[0]["patient_id"], w.patient.as_str());

    // Wrongly charted: amended to refused — the record stays, marked, and the capsule
    // goes back; the old record cannot be amended twice; amended back, it is taken again.
    let dose = first["id"].as_str().unwrap();
    let (status, e) =
        amend(&t, &w.nurse, dose, json!({"outcome": "refused", "reason": "Spat it out"}), &key()).await;
    assert_eq!((status, fields(&e)), (422, vec!["amend_reason".to_owned()]), "{e}");
    let wrong = json!({"outcome": "refused", "reason": "Refused, nauseous", "amend_reason": "Charted on the wrong patient's round"});
    let (status, fixed) = amend(&t, &w.nurse, dose, wrong.clone(), &key()).await;
    assert_eq!(status, 201, "{fixed}");
    assert_eq!((fixed["amends_id"].as_str(), fixed["status"].as_str()), (Some(dose), Some("not-done")));
    assert_eq!(stock_of(&t, &s.p.pharm, &s.ward_store, &s.p.amox).await, (20, 20), "back in the store");
    let (status, _) = amend(&t, &w.nurse, dose, wrong, &key()).await;
    assert_eq!(status, 409, "the record in force is the amendment");
    let back = json!({"outcome": "given", "amend_reason": "It was given after all"});
    let (status, again) = amend(&t, &w.nurse, fixed["id"].as_str().unwrap(), back, &key()).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(stock_of(&t, &s.p.pharm, &s.ward_store, &s.p.amox).await, (19, 19));
    let (_, rec) = send(&t, &w.doc, "GET", &path, None, None).await;
    let states: Vec<(&str, bool)> = rec["administrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["outcome"].as_str().unwrap(), a["current"].as_bool().unwrap()))
        .collect();
    assert_eq!(states.len(), 3, "nothing deleted: {rec}");
    assert_eq!(states.iter().filter(|(_, c)| *c).count(), 1, "one record in force: {states:?}");
    let list = doses(&t, &w.nurse, &s.ward).await;
    assert_eq!(doses_of(&list, oid)[0]["state"], "recorded");
    assert_eq!(doses_of(&list, oid)[0]["record"]["id"], again["id"]);
    ledger_is_sound(&t, &s.p.pharm).await;
});

db_test!(a_stopped_order_or_a_patient_who_left_takes_no_dose, |t| {
    let w = ward(&t).await;
    let s = stay(&t, &w).await;
    let stat = order(
        &t,
        &w,
        &s,
        json!({"medicine_id": s.p.amox_medicine, "dose": "1 g", "units_per_dose": 2, "kind": "once_now"}),
    )
    .await;
    let prn =
        order(&t, &w, &s, json!({"medicine_id": s.p.amox_medicine, "dose": "500 mg", "kind": "as_needed"}))
            .await;
    let (stat, prn) = (stat["id"].as_str().unwrap(), prn["id"].as_str().unwrap());

    // Stopped: a reason, once; then nothing is given against it.
    let stop = format!("/api/v1/medication-orders/{stat}/stop");
    let (status, e) = send(&t, &w.doc, "POST", &stop, Some(json!({"reason": " "})), None).await;
    assert_eq!((status, fields(&e)), (422, vec!["reason".to_owned()]), "{e}");
    let (status, _) = send(&t, &w.nurse, "POST", &stop, Some(json!({"reason": "Not needed"})), None).await;
    assert_eq!(status, 403, "a doctor stops an order");
    let (status, stopped) =
        send(&t, &w.doc, "POST", &stop, Some(json!({"reason": "Allergy suspected"})), None).await;
    assert_eq!((status, stopped["status"].as_str()), (200, Some("stopped")), "{stopped}");
    let (status, _) = send(&t, &w.doc, "POST", &stop, Some(json!({"reason": "Again"})), None).await;
    assert_eq!(status, 409);
    let (status, e) = record(&t, &w.nurse, stat, json!({"outcome": "given"}), &key()).await;
    assert_eq!(status, 409, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("Allergy suspected"), "{e}");

    // As needed: given, then it waits for the doctor; acknowledged once, by a doctor.
    let (status, e) =
        record(&t, &w.nurse, prn, json!({"outcome": "given", "due_at": Utc::now()}), &key()).await;
    assert_eq!((status, fields(&e)), (422, vec!["due_at".to_owned()]), "{e}");
    let (status, d) = record(&t, &w.nurse, prn, json!({"outcome": "given"}), &key()).await;
    assert_eq!(
        (status, d["needs_ack"].as_bool(), d["late"].as_bool()),
        (201, Some(true), Some(false)),
        "{d}"
    );
    let ack = format!("/api/v1/medication-administrations/{}/acknowledge", d["id"].as_str().unwrap());
    let (status, _) = send(&t, &w.nurse, "POST", &ack, None, None).await;
    assert_eq!(status, 403);
    let (status, a) = send(&t, &w.doc, "POST", &ack, None, None).await;
    assert_eq!((status, a["acknowledged_at"].is_string()), (200, true), "{a}");
    let (status, _) = send(&t, &w.doc, "POST", &ack, None, None).await;
    assert_eq!(status, 409, "acknowledged once");
    assert_eq!(stock_of(&t, &s.p.pharm, &s.ward_store, &s.p.amox).await, (19, 19));

    // The patient leaves: nothing more is given or ordered for the stay.
    let a = &s.admission;
    let (status, _) =
        send(&t, &w.doc, "POST", &format!("/api/v1/admissions/{a}/discharge-order"), None, None).await;
    assert_eq!(status, 200);
    let (status, _) = send(
        &t,
        &w.desk,
        "POST",
        &format!("/api/v1/admissions/{a}/discharge"),
        Some(json!({"disposition": "home"})),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, e) = record(&t, &w.nurse, prn, json!({"outcome": "given"}), &key()).await;
    assert_eq!(status, 409, "{e}");
    let (status, _) = send(
        &t,
        &w.doc,
        "POST",
        &format!("/api/v1/admissions/{a}/medication-orders"),
        Some(json!({"medicine_id": s.p.amox_medicine, "dose": "500 mg", "kind": "as_needed"})),
        None,
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = send(
        &t,
        &w.doc,
        "GET",
        &format!("/api/v1/admissions/{}/medication-orders", uuid::Uuid::now_v7()),
        None,
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(stock_of(&t, &s.p.pharm, &s.ward_store, &s.p.amox).await, (19, 19), "nothing more taken");
    ledger_is_sound(&t, &s.p.pharm).await;
});

db_test!(the_medication_record_keeps_its_statement_budgets, |t| {
    let w = ward(&t).await;
    let s = stay(&t, &w).await;
    let o =
        order(&t, &w, &s, json!({"medicine_id": s.p.amox_medicine, "dose": "500 mg", "kind": "as_needed"}))
            .await;
    let count = |who: &'static str, method: &'static str, path: String, body: Option<Value>| {
        let (t, w) = (&t, &w);
        async move {
            let who = if who == "nurse" { &w.nurse } else { &w.doc };
            let before = t.app.db.statements();
            let (status, out) = match body {
                Some(b) if method == "POST" => post_key(t, who, &path, b, &key()).await,
                b => send(t, who, method, &path, b, None).await,
            };
            assert!(status < 300, "{method} {path}: {status} {out}");
            t.app.db.statements() - before
        }
    };
    let measured = vec![
        count("nurse", "GET", format!("/api/v1/wards/{}/due-doses", s.ward), None).await,
        count("doc", "GET", format!("/api/v1/admissions/{}/medication-orders", s.admission), None).await,
        count(
            "nurse",
            "POST",
            format!("/api/v1/medication-orders/{}/administrations", o["id"].as_str().unwrap()),
            Some(json!({"outcome": "given"})),
        )
        .await,
    ];
    // Due doses (9): the look; the ward and its stays side by side; their orders,
    // patients and beds side by side; the dose records; the read-audit commit — a forty-bed
    // ward in the same nine as one bed. The medication record (9): the look, the stay, the
    // patient and their access, the ward, orders, records, names, the read audit.
    // Recording a dose given (16): the look; the key looked up; the order, the stay, the
    // patient, the ward; the ward store's lots (balances, batches), the item and the
    // batches taken; then one write — the key, the record (the unique index decides the
    // dose), the conditional take, its ledger row, the audit event.
    let budgets: Vec<u64> = vec![9, 9, 16];
    println!("{measured:?} (budgets {budgets:?})");
    assert_eq!(measured, budgets);
});
