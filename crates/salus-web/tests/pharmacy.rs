//! The pharmacy and its stores through the API, on SQLite and PostgreSQL: goods come in
//! as batches, go out first expiry first against prescriptions, come back from patients,
//! and every balance is the sum of its append-only ledger. The failures other systems
//! shipped are each tried here: a negative balance by a race (openboxes#6061,
//! hmis#19874), a double click dispensing twice (hmis#6561), a return larger than what
//! was given (hmis#14082), the wrong lot picked (odoo#22850), expired stock given
//! (bhima#4749).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::stock::*;
use common::ward::*;
use salus_core::Role;
use serde_json::{Value, json};

db_test!(stock_comes_in_as_batches_and_the_ledger_sums_to_it, |t| {
    let p = pharmacy(&t).await;
    let doc = who(&t, "ph.doc", &[Role::Doctor]).await;

    // Who may set up and receive.
    let store = json!({"code": "X", "name": "X", "kind": "main"});
    assert_eq!(send(&t, &doc, "POST", "/api/v1/pharmacy/stores", Some(store.clone()), None).await.0, 403);
    let (status, e) = send(
        &t,
        &p.admin,
        "POST",
        "/api/v1/pharmacy/stores",
        Some(json!({"code": "PH", "name": "Again", "kind": "main"})),
        None,
    )
    .await;
    assert_eq!((status, fields(&e)), (422, vec!["code".to_owned()]), "the code is taken: {e}");
    let line = |batch: &str, expiry: i64, qty: i64| {
        json!({"item_id": p.amox, "batch_no": batch, "expiry_date": days(expiry), "quantity": qty,
            "free_quantity": 10, "cost_minor": 250, "sale_price_minor": 400})
    };
    let good = json!({"store_id": p.store, "supplier_id": p.supplier, "lines": [line("b-late", 400, 100)]});
    assert_eq!(post_key(&t, &doc, "/api/v1/pharmacy/receipts", good.clone(), "k0").await.0, 403);

    // No key, an expired batch, a short one without a reason: refused, nothing moves.
    let (status, e) = post_key(&t, &p.pharm, "/api/v1/pharmacy/receipts", good.clone(), "").await;
    assert_eq!((status, fields(&e)), (422, vec!["idempotency_key".to_owned()]), "{e}");
    let expired = json!({"store_id": p.store, "lines": [line("OLD1", -1, 50), line("B-OK", 300, 5)]});
    let (status, e) = post_key(&t, &p.pharm, "/api/v1/pharmacy/receipts", expired, "k1").await;
    assert_eq!(status, 422, "{e}");
    assert!(e["errors"][0]["message"].as_str().unwrap().contains("expired"), "{e}");
    let short = json!({"store_id": p.store, "lines": [line("SHORT1", 20, 12)]});
    let (status, e) = post_key(&t, &p.pharm, "/api/v1/pharmacy/receipts", short.clone(), "k2").await;
    assert_eq!(status, 409, "{e}");
    assert!(e["warnings"][0].as_str().unwrap().contains("SHORT1"), "{e}");
    assert_eq!(stock_of(&t, &p.pharm, &p.store, &p.amox).await, (0, 0), "nothing half-received");

    // Received; the same submission again (a retry) receives nothing more.
    let (status, r) = post_key(&t, &p.pharm, "/api/v1/pharmacy/receipts", good.clone(), "k3").await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["lines"][0]["movement"]["quantity"], 110, "free units counted: {r}");
    assert_eq!(r["lines"][0]["batch"]["batch_no"], "B-LATE");
    let (status, again) = post_key(&t, &p.pharm, "/api/v1/pharmacy/receipts", good.clone(), "k3").await;
    assert_eq!((status, &again["id"], &again["number"]), (201, &r["id"], &r["number"]), "a replay: {again}");
    assert_eq!(stock_of(&t, &p.pharm, &p.store, &p.amox).await, (110, 110));
    let (status, e) = post_key(&t, &p.pharm, "/api/v1/pharmacy/receipts", short.clone(), "k3").await;
    assert_eq!(
        (status, fields(&e)),
        (422, vec!["idempotency_key".to_owned()]),
        "another request, same key: {e}"
    );

    // A second batch, expiring sooner; a batch number on file must keep its expiry.
    let body = json!({"store_id": p.store, "lines": [line("B-EARLY", 200, 30)]});
    assert_eq!(post_key(&t, &p.pharm, "/api/v1/pharmacy/receipts", body, "k4").await.0, 201);
    let body = json!({"store_id": p.store, "lines": [line("B-EARLY", 250, 30)]});
    let (status, e) = post_key(&t, &p.pharm, "/api/v1/pharmacy/receipts", body, "k5").await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(stock_of(&t, &p.pharm, &p.store, &p.amox).await, (150, 150));

    // The batches, first expiry first, and the ledger that sums to them.
    let (status, lots) = send(
        &t,
        &p.pharm,
        "GET",
        &format!("/api/v1/pharmacy/stores/{}/items/{}/lots", p.store, p.amox),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{lots}");
    let order: Vec<&str> =
        lots["items"].as_array().unwrap().iter().map(|l| l["batch"]["batch_no"].as_str().unwrap()).collect();
    assert_eq!(order, ["B-EARLY", "B-LATE"]);
    let (status, ledger) =
        send(&t, &p.pharm, "GET", &format!("/api/v1/pharmacy/stores/{}/ledger", p.store), None, None).await;
    assert_eq!(status, 200, "{ledger}");
    assert_eq!(ledger["items"].as_array().unwrap().len(), 2);
    let check = ledger_is_sound(&t, &p.pharm).await;
    assert_eq!((check["balances"].as_i64(), check["movements"].as_i64()), (Some(2), Some(2)));

    // Adjustments need a reason; taking out more than there is answers with what there is.
    let early = lots["items"][0]["batch"]["id"].as_str().unwrap().to_owned();
    let adjust = |qty: i64, reason: &str| json!({"store_id": p.store, "batch_id": early, "kind": "adjustment", "quantity": qty, "reason": reason});
    let (status, e) = post_key(&t, &p.pharm, "/api/v1/pharmacy/movements", adjust(-2, ""), "m1").await;
    assert_eq!((status, fields(&e)), (422, vec!["reason".to_owned()]), "{e}");
    let (status, e) = post_key(&t, &p.pharm, "/api/v1/pharmacy/movements", adjust(-41, "Count"), "m2").await;
    assert_eq!((status, e["available"].as_i64()), (409, Some(40)), "{e}");
    let (status, m) =
        post_key(&t, &p.pharm, "/api/v1/pharmacy/movements", adjust(-2, "Broken strip"), "m3").await;
    assert_eq!((status, m["balance_after"].as_i64()), (201, Some(38)), "{m}");
    let (_, m2) =
        post_key(&t, &p.pharm, "/api/v1/pharmacy/movements", adjust(-2, "Broken strip"), "m3").await;
    assert_eq!(m2["id"], m["id"], "a double click adjusts once");
    let (status, e) = post_key(
        &t,
        &p.pharm,
        "/api/v1/pharmacy/movements",
        json!({"store_id": p.store, "batch_id": early, "kind": "expiry_write_off", "reason": "Expired"}),
        "m4",
    )
    .await;
    assert_eq!(status, 422, "not expired yet: {e}");
    assert_eq!(stock_of(&t, &p.pharm, &p.store, &p.amox).await, (148, 148));

    // A held batch is not usable; a transfer moves stock between stores, received once.
    let (status, b) = send(
        &t,
        &p.pharm,
        "POST",
        &format!("/api/v1/pharmacy/batches/{early}/hold"),
        Some(json!({"reason": "Recall notice 14/26"})),
        None,
    )
    .await;
    assert_eq!((status, &b["held"]), (200, &json!(true)), "{b}");
    assert_eq!(stock_of(&t, &p.pharm, &p.store, &p.amox).await, (110, 148), "held units are not usable");
    let (status, e) = post_key(
        &t,
        &p.pharm,
        "/api/v1/pharmacy/transfers",
        json!({"from_store_id": p.store, "to_store_id": p.ward_store, "lines": [{"batch_id": early, "quantity": 5}]}),
        "t0",
    )
    .await;
    assert_eq!(status, 422, "a held batch is not sent: {e}");
    send(&t, &p.pharm, "POST", &format!("/api/v1/pharmacy/batches/{early}/release"), Some(json!({})), None)
        .await;
    let (status, tr) = post_key(
        &t,
        &p.pharm,
        "/api/v1/pharmacy/transfers",
        json!({"from_store_id": p.store, "to_store_id": p.ward_store, "lines": [{"batch_id": early, "quantity": 8}]}),
        "t1",
    )
    .await;
    assert_eq!((status, &tr["status"]), (201, &json!("issued")), "{tr}");
    assert_eq!(stock_of(&t, &p.pharm, &p.ward_store, &p.amox).await, (0, 0), "in transit");
    let path = format!("/api/v1/pharmacy/transfers/{}/receive", tr["id"].as_str().unwrap());
    let (status, done) = post_key(&t, &p.pharm, &path, json!({}), "t2").await;
    assert_eq!((status, &done["status"]), (200, &json!("received")), "{done}");
    let (status, _) = post_key(&t, &p.pharm, &path, json!({}), "t3").await;
    assert_eq!(status, 409, "received once");
    assert_eq!(stock_of(&t, &p.pharm, &p.ward_store, &p.amox).await, (8, 8));
    assert_eq!(stock_of(&t, &p.pharm, &p.store, &p.amox).await, (140, 140));
    ledger_is_sound(&t, &p.pharm).await;
});

db_test!(the_database_refuses_a_negative_balance_and_an_edited_ledger, |t| {
    let p = pharmacy(&t).await;
    receive(&t, &p, &p.store, &[(&p.amox, "N1", 300, 5)]).await;
    let db = t.app.db.writer();
    use sea_orm::ConnectionTrait;
    // Whatever the code does, the database itself will not hold these.
    for sql in [
        "UPDATE stock_balances SET on_hand = -1",
        "UPDATE stock_balances SET reserved = on_hand + 1",
        "UPDATE stock_movements SET quantity = 500",
        "DELETE FROM stock_movements",
    ] {
        assert!(db.execute_unprepared(sql).await.is_err(), "{sql} was allowed");
    }
    ledger_is_sound(&t, &p.pharm).await;
    // The check itself can fail: a balance changed behind the ledger's back is named.
    db.execute_unprepared("UPDATE stock_balances SET on_hand = on_hand + 1").await.unwrap();
    let (_, check) = send(&t, &p.pharm, "GET", "/api/v1/pharmacy/ledger/verify", None, None).await;
    assert_eq!(check["mismatches"].as_array().unwrap().len(), 1, "{check}");
    assert_eq!(
        (check["mismatches"][0]["on_hand"].as_i64(), check["mismatches"][0]["ledger"].as_i64()),
        (Some(6), Some(5))
    );
});

db_test!(prescriptions_are_dispensed_first_expiry_first_and_returned, |t| {
    let w = ward(&t).await;
    let p = pharmacy(&t).await;
    receive(
        &t,
        &p,
        &p.store,
        &[(&p.amox, "LATE", 400, 100), (&p.amox, "SOON", 40, 20), (&p.amox, "GONE", 1, 3)],
    )
    .await;
    let rx = prescribe(&t, &w.doc, &w.patient, &p.amox_medicine, 21).await;
    let other_rx = prescribe(&t, &w.doc, &w.other_patient, &p.amox_medicine, 10).await;
    let path = format!("/api/v1/patients/{}/dispenses", w.patient);

    // The queue is the pharmacist's; it shows what remains.
    assert_eq!(send(&t, &w.doc, "GET", "/api/v1/pharmacy/queue", None, None).await.0, 403);
    let (status, queue) = send(&t, &p.pharm, "GET", "/api/v1/pharmacy/queue", None, None).await;
    assert_eq!(status, 200, "{queue}");
    let mine =
        queue["items"].as_array().unwrap().iter().find(|i| i["prescription"]["id"] == rx.as_str()).unwrap();
    assert_eq!((mine["remaining"].as_i64(), mine["dispensed"].as_i64()), (Some(21), Some(0)));
    let (status, todo) = send(
        &t,
        &p.pharm,
        "GET",
        &format!("/api/v1/patients/{}/to-dispense?store_id={}", w.patient, p.store),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{todo}");
    let lots = &todo["items"][0]["options"][0]["lots"];
    assert_eq!(lots[0]["batch"]["batch_no"], "GONE", "first expiry first: {todo}");

    // Bad requests change nothing: the wrong patient's prescription, more than remains,
    // a nurse, no key.
    let line = |rx: &str, qty: i64| json!({"store_id": p.store, "lines": [{"prescription_id": rx, "quantity": qty}]});
    let (status, e) = post_key(&t, &p.pharm, &path, line(&other_rx, 2), "d0").await;
    assert_eq!(status, 422, "{e}");
    assert!(
        e["errors"][0]["message"].as_str().unwrap().contains("not a prescription of this patient"),
        "{e}"
    );
    let (status, e) = post_key(&t, &p.pharm, &path, line(&rx, 22), "d1").await;
    assert_eq!(status, 422, "more than prescribed: {e}");
    assert_eq!(post_key(&t, &w.nurse, &path, line(&rx, 2), "d2").await.0, 403);
    assert_eq!(post_key(&t, &p.pharm, &path, line(&rx, 2), "").await.0, 422);
    assert_eq!(stock_of(&t, &p.pharm, &p.store, &p.amox).await, (123, 123));

    // Fifteen: the three expiring tomorrow, then twelve of SOON (odoo#22850 took the wrong lot).
    let (status, d) = post_key(&t, &p.pharm, &path, line(&rx, 15), "d3").await;
    assert_eq!(status, 201, "{d}");
    let given: Vec<(String, i64)> = d["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["batch_no"].as_str().unwrap().to_owned(), l["quantity"].as_i64().unwrap()))
        .collect();
    assert_eq!(given, [("GONE".to_owned(), 3), ("SOON".to_owned(), 12)]);
    assert_eq!(d["total_minor"].as_i64(), Some(15 * 400 + (15 * 400 * 500 + 5000) / 10_000), "{d}");
    // A double click: the same submission dispenses once (hmis#6561).
    let (status, again) = post_key(&t, &p.pharm, &path, line(&rx, 15), "d3").await;
    assert_eq!((status, &again["dispense"]["number"]), (201, &d["dispense"]["number"]));
    assert_eq!(stock_of(&t, &p.pharm, &p.store, &p.amox).await, (108, 108));

    // One unbilled charge per line, at the batch's price.
    let charges = salus_db::charges::charges_of(t.app.db.reader(), w.patient.parse().unwrap()).await.unwrap();
    let mut got: Vec<(i32, i64)> = charges.iter().map(|c| (c.quantity, c.unit_price_minor)).collect();
    got.sort();
    assert_eq!(got, [(3, 400), (12, 400)]);

    // A batch chosen over the first to expire (SOON still has eight) needs a reason.
    let late =
        lots.as_array().unwrap().iter().find(|l| l["batch"]["batch_no"] == "LATE").unwrap()["batch"]["id"]
            .clone();
    let chosen = |reason: &str| json!({"store_id": p.store, "lines": [{"prescription_id": rx, "quantity": 6, "batch_id": late, "override_reason": reason}]});
    let (status, e) = post_key(&t, &p.pharm, &path, chosen(""), "d4").await;
    assert_eq!(status, 422, "{e}");
    assert!(e["errors"][0]["message"].as_str().unwrap().contains("first to expire"), "{e}");
    let (status, d2) = post_key(&t, &p.pharm, &path, chosen("Patient travels; longer dating"), "d5").await;
    assert_eq!(status, 201, "{d2}");
    assert_eq!(d2["lines"][0]["override_reason"], "Patient travels; longer dating");
    // All 21 given: the prescription is complete and leaves the queue.
    let (_, queue) = send(&t, &p.pharm, "GET", "/api/v1/pharmacy/queue", None, None).await;
    assert!(
        queue["items"].as_array().unwrap().iter().all(|i| i["prescription"]["id"] != rx.as_str()),
        "{queue}"
    );
    let (status, e) = post_key(&t, &p.pharm, &path, line(&rx, 1), "d6").await;
    assert_eq!(status, 422, "a completed prescription is not dispensed again: {e}");

    // A return: back into stock and off the charge; never more than was given (hmis#14082).
    let soon_line = d["lines"][1]["id"].as_str().unwrap().to_owned();
    let ret = format!("/api/v1/pharmacy/dispense-lines/{soon_line}/return");
    let (status, e) = post_key(&t, &p.pharm, &ret, json!({"quantity": 13, "reason": "Stopped"}), "r0").await;
    assert_eq!(status, 409, "{e}");
    let (status, m) =
        post_key(&t, &p.pharm, &ret, json!({"quantity": 4, "reason": "Rash; stopped"}), "r1").await;
    assert_eq!((status, &m["kind"]), (201, &json!("patient_return")), "{m}");
    let (_, m2) = post_key(&t, &p.pharm, &ret, json!({"quantity": 4, "reason": "Rash; stopped"}), "r1").await;
    assert_eq!(m2["id"], m["id"], "returned once");
    let (status, e) = post_key(&t, &p.pharm, &ret, json!({"quantity": 9, "reason": "More"}), "r2").await;
    assert_eq!(status, 409, "only 8 of the line are left to return: {e}");
    let charges = salus_db::charges::charges_of(t.app.db.reader(), w.patient.parse().unwrap()).await.unwrap();
    let soon_charge = charges.iter().find(|c| c.source_id.to_string() == soon_line).unwrap();
    assert_eq!(soon_charge.quantity, 8, "the charge follows the return");
    assert_eq!(stock_of(&t, &p.pharm, &p.store, &p.amox).await, (106, 106), "4 back (SOON)");

    // Reads of the dispensing are audited; the other patient's doctor-less view is refused.
    let (status, _) = send(
        &t,
        &w.desk,
        "GET",
        &format!("/api/v1/pharmacy/dispenses/{}", d["dispense"]["id"].as_str().unwrap()),
        None,
        None,
    )
    .await;
    assert_eq!(status, 403, "reception does not read dispensings");
    ledger_is_sound(&t, &p.pharm).await;
});

db_test!(counter_sales_need_a_prescription_for_prescription_only_medicines, |t| {
    let w = ward(&t).await;
    let p = pharmacy(&t).await;
    let para = item_named(&t, &p.pharm, "Paracetamol 500 mg tablet").await;
    assert_eq!(para["prescription_only"], false, "{para}");
    let para = para["id"].as_str().unwrap().to_owned();
    receive(&t, &p, &p.store, &[(&para, "P1", 300, 40), (&p.amox, "A1", 300, 40)]).await;
    let sale = |item: &str, qty: i64, rx: Option<&str>, patient: Option<&str>| {
        json!({"store_id": p.store, "customer_name": "Walk-in", "patient_id": patient,
            "lines": [{"item_id": item, "quantity": qty, "prescription_id": rx}]})
    };
    let (status, e) =
        post_key(&t, &p.pharm, "/api/v1/pharmacy/sales", sale(&p.amox, 10, None, None), "s0").await;
    assert_eq!(status, 422, "{e}");
    assert!(e["errors"][0]["message"].as_str().unwrap().contains("prescription-only"), "{e}");
    let (status, e) =
        post_key(&t, &p.pharm, "/api/v1/pharmacy/sales", sale(&para, 41, None, None), "s1").await;
    assert_eq!((status, e["available"].as_i64()), (409, Some(40)), "{e}");
    let (status, s) =
        post_key(&t, &p.pharm, "/api/v1/pharmacy/sales", sale(&para, 10, None, None), "s2").await;
    assert_eq!((status, &s["dispense"]["kind"]), (201, &json!("sale")), "{s}");
    assert!(s["dispense"]["number"].as_str().unwrap().starts_with('S'));
    // Against the patient's prescription of it, it sells; a prescription of something
    // else does not cover it.
    let para_medicine = item_named(&t, &p.pharm, "Paracetamol 500 mg tablet").await["medicine_id"].clone();
    let other = prescribe(&t, &w.doc, &w.patient, para_medicine.as_str().unwrap(), 10).await;
    let mut body = sale(&p.amox, 15, Some(&other), Some(&w.patient));
    body["lines"][0]["substitution_reason"] = json!("Patient asked");
    let (status, e) = post_key(&t, &p.pharm, "/api/v1/pharmacy/sales", body, "s4").await;
    assert_eq!(status, 422, "{e}");
    assert!(e["errors"][0]["message"].as_str().unwrap().contains("only against a prescription of it"), "{e}");
    let rx = prescribe(&t, &w.doc, &w.patient, &p.amox_medicine, 15).await;
    let (status, s) = post_key(
        &t,
        &p.pharm,
        "/api/v1/pharmacy/sales",
        sale(&p.amox, 15, Some(&rx), Some(&w.patient)),
        "s3",
    )
    .await;
    assert_eq!(status, 201, "{s}");
    assert_eq!(stock_of(&t, &p.pharm, &p.store, &p.amox).await, (25, 25));
    ledger_is_sound(&t, &p.pharm).await;
});

db_test!(fifty_dispensers_race_for_the_last_units_through_two_instances, |t| {
    let w = ward(&t).await;
    let p = pharmacy(&t).await;
    let other = t.second_instance().await;
    receive(&t, &p, &p.store, &[(&p.amox, "LAST", 300, 20)]).await;
    // Fifty prescriptions of one capsule each, fifty pharmacists' requests, twenty capsules.
    let mut rxs = Vec::new();
    for _ in 0..50 {
        rxs.push(prescribe(&t, &w.doc, &w.patient, &p.amox_medicine, 1).await);
    }
    let mut racers = Vec::new();
    for (n, rx) in rxs.into_iter().enumerate() {
        let path = format!("/api/v1/patients/{}/dispenses", w.patient);
        let url = if n % 2 == 0 { t.url(&path) } else { other.url(&path) };
        let (csrf, client) = (p.pharm.csrf.clone(), p.pharm.client.clone());
        let body = json!({"store_id": p.store, "lines": [{"prescription_id": rx, "quantity": 1}]});
        racers.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .header("x-csrf-token", csrf)
                .header("idempotency-key", format!("race-{n}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            res.status().as_u16()
        }));
    }
    let mut outcomes = std::collections::BTreeMap::new();
    for r in racers {
        *outcomes.entry(r.await.unwrap()).or_insert(0) += 1;
    }
    assert_eq!(outcomes.get(&201), Some(&20), "exactly the twenty units went: {outcomes:?}");
    assert_eq!(outcomes.get(&409), Some(&30), "the rest were told what is left: {outcomes:?}");
    assert_eq!(stock_of(&t, &p.pharm, &p.store, &p.amox).await, (0, 0), "none below zero");
    let check = ledger_is_sound(&t, &p.pharm).await;
    assert_eq!(check["movements"].as_i64(), Some(21), "one receipt and twenty dispensings");

    // One submission sent eight times at once through both instances (a retrying client,
    // a double click): one dispensing, and every answer is it.
    receive(&t, &p, &p.store, &[(&p.amox, "MORE", 300, 20)]).await;
    let rx = prescribe(&t, &w.doc, &w.patient, &p.amox_medicine, 5).await;
    let mut twins = Vec::new();
    for n in 0..8 {
        let path = format!("/api/v1/patients/{}/dispenses", w.patient);
        let url = if n % 2 == 0 { t.url(&path) } else { other.url(&path) };
        let (csrf, client) = (p.pharm.csrf.clone(), p.pharm.client.clone());
        let body = json!({"store_id": p.store, "lines": [{"prescription_id": rx, "quantity": 5}]});
        twins.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .header("x-csrf-token", csrf)
                .header("idempotency-key", "one-click")
                .json(&body)
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }));
    }
    let mut numbers = std::collections::BTreeSet::new();
    let mut id = String::new();
    for t in twins {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 201, "{body}");
        numbers.insert(body["dispense"]["number"].as_str().unwrap().to_owned());
        id = body["dispense"]["id"].as_str().unwrap().to_owned();
    }
    assert_eq!(numbers.len(), 1, "one dispensing: {numbers:?}");
    assert_eq!(stock_of(&t, &p.pharm, &p.store, &p.amox).await, (15, 15), "five went, once");
    // One write, and each of the seven answers that showed the patient what was given is
    // an audited read of the record.
    let events = salus_db::audit::actions_of(t.app.db.reader(), "pharmacy.").await.unwrap();
    let of_this = |action: &str| {
        events.iter().filter(|e| e.action == action && e.resource_id.as_deref() == Some(&id)).count()
    };
    assert_eq!((of_this("pharmacy.dispense"), of_this("pharmacy.replay")), (1, 7), "{events:?}");
    ledger_is_sound(&t, &p.pharm).await;
});

db_test!(the_pharmacy_keeps_its_statement_budgets, |t| {
    let w = ward(&t).await;
    let p = pharmacy(&t).await;
    receive(&t, &p, &p.store, &[(&p.amox, "B1", 300, 100)]).await;
    let rx = prescribe(&t, &w.doc, &w.patient, &p.amox_medicine, 21).await;
    let count = |method: &'static str, path: String, body: Option<Value>, key: &'static str| {
        let (t, pharm) = (&t, &p.pharm);
        async move {
            let before = t.app.db.statements();
            let (status, out) = match body {
                Some(b) => post_key(t, pharm, &path, b, key).await,
                None => send(t, pharm, method, &path, None, None).await,
            };
            assert!(status < 300, "{method} {path}: {status} {out}");
            t.app.db.statements() - before
        }
    };
    let line = json!({"item_id": p.amox, "batch_no": "B2", "expiry_date": days(300), "quantity": 10,
        "cost_minor": 250, "sale_price_minor": 400});
    let measured = vec![
        count("GET", "/api/v1/pharmacy/queue".into(), None, "").await,
        count("GET", format!("/api/v1/patients/{}/to-dispense?store_id={}", w.patient, p.store), None, "")
            .await,
        count(
            "POST",
            format!("/api/v1/patients/{}/dispenses", w.patient),
            Some(json!({"store_id": p.store, "lines": [{"prescription_id": rx, "quantity": 7}]})),
            "b1",
        )
        .await,
        count(
            "POST",
            "/api/v1/pharmacy/receipts".into(),
            Some(json!({"store_id": p.store, "lines": [line]})),
            "b2",
        )
        .await,
        count("GET", format!("/api/v1/pharmacy/stores/{}/stock", p.store), None, "").await,
        count("GET", format!("/api/v1/pharmacy/stores/{}/alerts", p.store), None, "").await,
        count(
            "POST",
            "/api/v1/pharmacy/orders".into(),
            Some(json!({"supplier_id": p.supplier, "store_id": p.store,
                "lines": [{"item_id": p.amox, "quantity": 100, "cost_minor": 250}]})),
            "b3",
        )
        .await,
    ];
    let (_, orders) = send(&t, &p.pharm, "GET", "/api/v1/pharmacy/orders", None, None).await;
    let order = orders["items"][0]["id"].as_str().unwrap().to_owned();
    let mut against = line.clone();
    against["batch_no"] = json!("B3");
    let measured = [
        measured,
        vec![
            count("GET", format!("/api/v1/pharmacy/orders/{order}"), None, "").await,
            count(
                "POST",
                "/api/v1/pharmacy/receipts".into(),
                Some(json!({"store_id": p.store, "order_id": order, "lines": [against]})),
                "b4",
            )
            .await,
        ],
    ]
    .concat();
    // The same on SQLite and PostgreSQL. The queue: the look, the permission, the
    // prescriptions, their patients, one read-audit commit. The patient's prescriptions to
    // dispense: the look, the patient and its access, the store, the prescriptions, their
    // stock items, the balances and their batches, one audit commit. Dispensing one line:
    // the look; the key looked up first (a retry answers what the first did); the patient
    // and its access; the store; the prescriptions, the items (named and of the medicines)
    // and their lots; the price-list entry; then one write transaction — the key, the
    // receipt number, the dispensing and its lines, the conditional decrement, the ledger
    // row, the charge, the prescription's count, the timeline and the audit event. A
    // delivery of one line: the same shape, with the batch made and the balance upserted.
    // A store's stock: the page's items (walked by name, keeping those the store holds),
    // then their balances summed — so a page reads its fifty items, not the store; its
    // alerts three (reorder levels, expiring batches and what is on order side by side)
    // and the lots and items they name.
    // (Dispensing asks the database to complete each prescription given against, checking
    // the count as it is then: one statement, so two partial dispensings that together
    // give it all complete it.)
    // Placing an order: the look, the key, the store, the supplier, the items; then the
    // key, the number, the order, its lines and the audit event. Reading one: the look,
    // the order, its lines, its deliveries. A delivery against it: a delivery's statements
    // and the order and its lines read to check it, then in the write the line's
    // conditional count, the lines read back (another delivery may have filled another
    // line meanwhile) and the order's status: 18 against a plain delivery's 13.
    let budgets: Vec<u64> = vec![5, 10, 22, 13, 4, 6, 11, 4, 18];
    println!("{measured:?} (budgets {budgets:?})");
    assert_eq!(measured, budgets);
});

db_test!(a_count_posts_its_differences_into_the_ledger_once, |t| {
    let w = ward(&t).await;
    let p = pharmacy(&t).await;
    receive(&t, &p, &p.store, &[(&p.amox, "C1", 300, 50), (&p.amox, "C2", 400, 30)]).await;
    let path = format!("/api/v1/pharmacy/stores/{}/counts", p.store);
    assert_eq!(send(&t, &w.nurse, "POST", &path, None, None).await.0, 403);
    let (status, sheet) = send(&t, &p.pharm, "POST", &path, None, None).await;
    assert_eq!(status, 201, "{sheet}");
    let lines = sheet["lines"].as_array().unwrap();
    let line = |batch: &str| lines.iter().find(|l| l["batch_no"] == batch).unwrap().clone();
    let (c1, c2) = (line("C1"), line("C2"));
    assert_eq!((c1["expected"].as_i64(), c2["expected"].as_i64()), (Some(50), Some(30)));
    // Stock moves while the shelves are counted: the count's difference is applied as a
    // difference, so this adjustment is not undone by it.
    let adjust = json!({"store_id": p.store, "batch_id": c2["batch_id"], "kind": "adjustment", "quantity": -5, "reason": "Issued to a ward by hand"});
    assert_eq!(post_key(&t, &p.pharm, "/api/v1/pharmacy/movements", adjust, "c0").await.0, 201);

    let post = format!("/api/v1/pharmacy/counts/{}/post", sheet["id"].as_str().unwrap());
    let counted = |n1: i64, reason: &str| json!({"lines": [{"line_id": c1["id"], "counted": n1, "reason": reason}, {"line_id": c2["id"], "counted": 30}]});
    let (status, e) =
        post_key(&t, &p.pharm, &post, json!({"lines": [{"line_id": c1["id"], "counted": 50}]}), "c1").await;
    assert_eq!(status, 422, "every line is counted: {e}");
    let (status, e) = post_key(&t, &p.pharm, &post, counted(47, ""), "c2").await;
    assert_eq!(status, 422, "a difference needs its reason: {e}");
    assert!(e["errors"][0]["message"].as_str().unwrap().contains("say why"), "{e}");
    assert_eq!(stock_of(&t, &p.pharm, &p.store, &p.amox).await, (75, 75), "nothing posted");
    let (status, done) = post_key(&t, &p.pharm, &post, counted(47, "Broken strip found"), "c3").await;
    assert_eq!((status, &done["status"]), (200, &json!("posted")), "{done}");
    assert_eq!(stock_of(&t, &p.pharm, &p.store, &p.amox).await, (72, 72), "47 + 25: the adjustment stands");
    let (_, again) = post_key(&t, &p.pharm, &post, counted(47, "Broken strip found"), "c3").await;
    assert_eq!(again["status"], "posted", "a retry answers what it did");
    let (status, _) = post_key(&t, &p.pharm, &post, counted(40, "Recount"), "c4").await;
    assert_eq!(status, 409, "posted once");
    assert_eq!(stock_of(&t, &p.pharm, &p.store, &p.amox).await, (72, 72));
    let (_, ledger) =
        send(&t, &p.pharm, "GET", &format!("/api/v1/pharmacy/stores/{}/ledger", p.store), None, None).await;
    let variances: Vec<i64> = ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "stock_take_variance")
        .map(|m| m["quantity"].as_i64().unwrap())
        .collect();
    assert_eq!(variances, [-3]);
    ledger_is_sound(&t, &p.pharm).await;
});
