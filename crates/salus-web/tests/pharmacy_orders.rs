//! Purchase orders and the daily stock alert mail, on SQLite and PostgreSQL: an order
//! filled by partial deliveries, never past what was ordered — not by a delivery too
//! large, not by two deliveries racing for what is left — closed short with a reason; a
//! store's alerts mailed once a day through a real SMTP exchange, once however often
//! the run is scheduled.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::smtp::{settings, smtp_server};
use common::stock::*;
use common::ward::*;
use salus_core::Role;
use serde_json::{Value, json};

fn key() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Places an order of `lines` (item, units, cost) with the test supplier for `store`.
async fn order(t: &common::TestApp, p: &Pharmacy, store: &str, lines: &[(&str, i64, i64)]) -> Value {
    let lines: Vec<Value> =
        lines.iter().map(|(i, q, c)| json!({"item_id": i, "quantity": q, "cost_minor": c})).collect();
    let body = json!({"supplier_id": p.supplier, "store_id": store, "lines": lines, "expected_on": days(3)});
    let (status, o) = post_key(t, &p.pharm, "/api/v1/pharmacy/orders", body, &key()).await;
    assert_eq!(status, 201, "{o}");
    o
}

/// A delivery against `order` of `lines` (item, batch, units, free units) into `store`.
fn delivery(p: &Pharmacy, store: &str, order: &str, lines: &[(&str, &str, i64, i64)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(item, batch, qty, free)| {
            json!({"item_id": item, "batch_no": batch, "expiry_date": days(400), "quantity": qty,
                "free_quantity": free, "cost_minor": 250, "sale_price_minor": 400})
        })
        .collect();
    json!({"store_id": store, "supplier_id": p.supplier, "order_id": order, "invoice_no": "D-1", "lines": lines})
}

async fn get_order(t: &common::TestApp, w: &Who, id: &str) -> Value {
    let (status, o) = send(t, w, "GET", &format!("/api/v1/pharmacy/orders/{id}"), None, None).await;
    assert_eq!(status, 200, "{o}");
    o
}

fn received(o: &Value, item: &str) -> i64 {
    o["lines"].as_array().unwrap().iter().find(|l| l["item_id"] == item).unwrap()["received"]
        .as_i64()
        .unwrap()
}

db_test!(an_order_fills_by_partial_deliveries_never_past_what_was_ordered, |t| {
    let p = pharmacy(&t).await;
    let para = item_named(&t, &p.pharm, "Paracetamol 500 mg tablet").await["id"].as_str().unwrap().to_owned();
    let nurse = who(&t, "po.nurse", &[Role::Nurse]).await;

    // Bad orders change nothing, each with its reason.
    let base = json!({"supplier_id": p.supplier, "store_id": p.store,
        "lines": [{"item_id": p.amox, "quantity": 100, "cost_minor": 250}]});
    let (status, e) = post_key(&t, &p.pharm, "/api/v1/pharmacy/orders", base.clone(), "").await;
    assert_eq!((status, e["errors"][0]["field"].as_str()), (422, Some("idempotency_key")), "{e}");
    let mut bad = base.clone();
    bad["supplier_id"] = json!(uuid::Uuid::now_v7());
    let (status, e) = post_key(&t, &p.pharm, "/api/v1/pharmacy/orders", bad, &key()).await;
    assert_eq!((status, e["errors"][0]["field"].as_str()), (422, Some("supplier_id")), "{e}");
    let mut bad = base.clone();
    bad["lines"] = json!([{"item_id": p.amox, "quantity": 10, "cost_minor": 1}, {"item_id": p.amox, "quantity": 5, "cost_minor": 1}]);
    let (status, e) = post_key(&t, &p.pharm, "/api/v1/pharmacy/orders", bad, &key()).await;
    assert_eq!(status, 422, "{e}");
    assert!(e.to_string().contains("order it once"), "{e}");
    let mut bad = base.clone();
    bad["lines"][0]["quantity"] = json!(0);
    assert_eq!(post_key(&t, &p.pharm, "/api/v1/pharmacy/orders", bad, &key()).await.0, 422);
    let mut bad = base.clone();
    bad["expected_on"] = json!(days(-1));
    assert_eq!(post_key(&t, &p.pharm, "/api/v1/pharmacy/orders", bad, &key()).await.0, 422);
    // A nurse sees what is on order but places none; reception sees none.
    assert_eq!(post_key(&t, &nurse, "/api/v1/pharmacy/orders", base.clone(), &key()).await.0, 403);
    assert_eq!(send(&t, &nurse, "GET", "/api/v1/pharmacy/orders", None, None).await.0, 200);
    let desk = who(&t, "po.desk", &[Role::Receptionist]).await;
    assert_eq!(send(&t, &desk, "GET", "/api/v1/pharmacy/orders", None, None).await.0, 403);
    let (_, list) = send(&t, &p.pharm, "GET", "/api/v1/pharmacy/orders", None, None).await;
    assert_eq!(list["items"], json!([]), "nothing was placed");

    // The same submission twice places one order.
    let body = json!({"supplier_id": p.supplier, "store_id": p.store, "note": "Urgent",
        "lines": [{"item_id": p.amox, "quantity": 100, "cost_minor": 250}, {"item_id": para, "quantity": 200, "cost_minor": 40}]});
    let k = key();
    let (s1, o) = post_key(&t, &p.pharm, "/api/v1/pharmacy/orders", body.clone(), &k).await;
    let (s2, twin) = post_key(&t, &p.pharm, "/api/v1/pharmacy/orders", body, &k).await;
    assert_eq!((s1, s2), (201, 201), "{o} {twin}");
    assert_eq!(o["id"], twin["id"]);
    assert_eq!(o["status"], "ordered");
    assert_eq!(o["total_minor"], 100 * 250 + 200 * 40);
    let (_, list) = send(&t, &p.pharm, "GET", "/api/v1/pharmacy/orders?open=true", None, None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let id = o["id"].as_str().unwrap();

    // A first delivery of 60 of the 100: partially received.
    let (status, r) = post_key(
        &t,
        &p.pharm,
        "/api/v1/pharmacy/receipts",
        delivery(&p, &p.store, id, &[(&p.amox, "AMX-A", 60, 0)]),
        &key(),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["order_id"], id);
    let o = get_order(&t, &p.pharm, id).await;
    assert_eq!((o["status"].as_str(), received(&o, &p.amox)), (Some("partially_received"), 60), "{o}");

    // 50 more is past the 40 left: refused, naming it, and nothing moves.
    let (status, e) = post_key(
        &t,
        &p.pharm,
        "/api/v1/pharmacy/receipts",
        delivery(&p, &p.store, id, &[(&p.amox, "AMX-B", 50, 0)]),
        &key(),
    )
    .await;
    assert_eq!(status, 422, "{e}");
    assert!(e.to_string().contains("at most 40 more"), "{e}");
    assert_eq!(stock_of(&t, &p.pharm, &p.store, &p.amox).await.1, 60);
    // Something not on the order, another store, another supplier: each refused.
    let cetirizine =
        item_named(&t, &p.pharm, "Cetirizine 10 mg tablet").await["id"].as_str().unwrap().to_owned();
    let (status, e) = post_key(
        &t,
        &p.pharm,
        "/api/v1/pharmacy/receipts",
        delivery(&p, &p.store, id, &[(&cetirizine, "CTZ-1", 5, 0)]),
        &key(),
    )
    .await;
    assert!(status == 422 && e.to_string().contains("is not on order"), "{e}");
    let (status, e) = post_key(
        &t,
        &p.pharm,
        "/api/v1/pharmacy/receipts",
        delivery(&p, &p.ward_store, id, &[(&p.amox, "AMX-C", 5, 0)]),
        &key(),
    )
    .await;
    assert_eq!((status, e["errors"][0]["field"].as_str()), (422, Some("store_id")), "{e}");
    let (_, other) =
        send(&t, &p.admin, "POST", "/api/v1/pharmacy/suppliers", Some(json!({"name": "Apex"})), None).await;
    let mut d = delivery(&p, &p.store, id, &[(&p.amox, "AMX-D", 5, 0)]);
    d["supplier_id"] = other["id"].clone();
    let (status, e) = post_key(&t, &p.pharm, "/api/v1/pharmacy/receipts", d, &key()).await;
    assert_eq!((status, e["errors"][0]["field"].as_str()), (422, Some("supplier_id")), "{e}");
    let o = get_order(&t, &p.pharm, id).await;
    assert_eq!(received(&o, &p.amox), 60, "the refusals counted nothing");

    // The rest, with free units on top (they do not count against the order): received.
    let (status, r) = post_key(
        &t,
        &p.pharm,
        "/api/v1/pharmacy/receipts",
        delivery(&p, &p.store, id, &[(&p.amox, "AMX-B", 40, 10), (&para, "PCM-1", 200, 0)]),
        &key(),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    let o = get_order(&t, &p.pharm, id).await;
    assert_eq!(o["status"], "received", "{o}");
    assert_eq!((received(&o, &p.amox), received(&o, &para)), (100, 200));
    assert!(o["lines"].as_array().unwrap().iter().all(|l| l["outstanding"] == 0));
    assert_eq!(o["receipt_ids"].as_array().unwrap().len(), 2);
    assert_eq!(stock_of(&t, &p.pharm, &p.store, &p.amox).await.1, 110);
    let (status, e) = post_key(
        &t,
        &p.pharm,
        "/api/v1/pharmacy/receipts",
        delivery(&p, &p.store, id, &[(&p.amox, "AMX-E", 1, 0)]),
        &key(),
    )
    .await;
    assert_eq!((status, e["errors"][0]["field"].as_str()), (422, Some("order_id")), "{e}");
    let close = |reason: &str| json!({ "reason": reason });
    let (status, _) =
        send(&t, &p.pharm, "POST", &format!("/api/v1/pharmacy/orders/{id}/close"), Some(close("late")), None)
            .await;
    assert_eq!(status, 409, "a received order is not closed");

    // An order closed short: a reason is required, then nothing more is received on it.
    let o2 = order(&t, &p, &p.store, &[(&para, 500, 40)]).await;
    let id2 = o2["id"].as_str().unwrap();
    let path = format!("/api/v1/pharmacy/orders/{id2}/close");
    assert_eq!(send(&t, &p.pharm, "POST", &path, Some(close(" ")), None).await.0, 422);
    assert_eq!(send(&t, &nurse, "POST", &path, Some(close("no")), None).await.0, 403);
    let (status, c) = send(&t, &p.pharm, "POST", &path, Some(close("Supplier out of stock")), None).await;
    assert_eq!(
        (status, c["status"].as_str(), c["close_reason"].as_str()),
        (200, Some("closed"), Some("Supplier out of stock"))
    );
    let (status, _) = post_key(
        &t,
        &p.pharm,
        "/api/v1/pharmacy/receipts",
        delivery(&p, &p.store, id2, &[(&para, "PCM-2", 10, 0)]),
        &key(),
    )
    .await;
    assert_eq!(status, 422);
    let (_, open) = send(&t, &p.pharm, "GET", "/api/v1/pharmacy/orders?open=true", None, None).await;
    assert_eq!(open["items"], json!([]), "{open}");
    let (_, all) = send(&t, &p.pharm, "GET", "/api/v1/pharmacy/orders?limit=1", None, None).await;
    assert_eq!(all["items"][0]["id"], id2, "newest first");
    assert!(all["next_cursor"].is_string(), "{all}");

    // No such order, and an id that is none.
    let (status, e) =
        send(&t, &p.pharm, "GET", &format!("/api/v1/pharmacy/orders/{}", uuid::Uuid::now_v7()), None, None)
            .await;
    assert_eq!(status, 404, "{e}");
    assert_eq!(send(&t, &p.pharm, "GET", "/api/v1/pharmacy/orders/nope", None, None).await.0, 404);
    ledger_is_sound(&t, &p.pharm).await;
});

db_test!(deliveries_racing_for_what_is_left_of_an_order_fill_it_once, |t| {
    let p = pharmacy(&t).await;
    let o = order(&t, &p, &p.store, &[(&p.amox, 100, 250)]).await;
    let id = o["id"].as_str().unwrap().to_owned();
    // Eight deliveries of 30 at once against 100 ordered: each alone fits, three do.
    let keys: Vec<String> = (0..8).map(|_| key()).collect();
    let bodies: Vec<Value> =
        (0..8).map(|n| delivery(&p, &p.store, &id, &[(&p.amox, &format!("AMX-R{n}"), 30, 0)])).collect();
    let outcomes = futures::future::join_all(
        bodies.into_iter().zip(&keys).map(|(b, k)| post_key(&t, &p.pharm, "/api/v1/pharmacy/receipts", b, k)),
    )
    .await;
    let taken = outcomes.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(taken, 3, "{outcomes:?}");
    assert!(outcomes.iter().all(|(s, _)| matches!(s, 201 | 409 | 422)), "{outcomes:?}");
    let o = get_order(&t, &p.pharm, &id).await;
    assert_eq!(received(&o, &p.amox), 90);
    assert_eq!(stock_of(&t, &p.pharm, &p.store, &p.amox).await.1, 90, "the refused deliveries moved nothing");
    ledger_is_sound(&t, &p.pharm).await;
});

db_test!(a_stores_alerts_are_mailed_once_a_day, |t| {
    let p = pharmacy(&t).await;
    let server = smtp_server(false).await;
    let dir = tempfile::tempdir().unwrap();
    let worker = t.app.clone().with_notifications(settings(server.port, &dir.path().join("sms.log")));

    // A batch near expiry and an item below its reorder level.
    receive(&t, &p, &p.store, &[(&p.amox, "AMX-NEAR", 20, 30)]).await;
    let (status, _) = send(
        &t,
        &p.admin,
        "POST",
        &format!("/api/v1/pharmacy/stores/{}/reorder-levels", p.store),
        Some(json!({"item_id": p.amox, "reorder_level": 100, "reorder_quantity": 500})),
        None,
    )
    .await;
    assert_eq!(status, 204);
    // 200 already on order: the alert says so, and how much more to order.
    order(&t, &p, &p.store, &[(&p.amox, 200, 250)]).await;
    let (_, alerts) =
        send(&t, &p.pharm, "GET", &format!("/api/v1/pharmacy/stores/{}/alerts", p.store), None, None).await;
    let low = &alerts["low_stock"][0];
    assert_eq!((low["available"].as_i64(), low["on_order"].as_i64()), (Some(30), Some(200)), "{alerts}");
    // A mailbox: a bad address is refused beside its field; only an administrator or
    // pharmacist sets it.
    let path = format!("/api/v1/pharmacy/stores/{}", p.store);
    let (status, e) =
        send(&t, &p.admin, "PATCH", &path, Some(json!({"alert_email": "not an address"})), None).await;
    assert_eq!((status, e["errors"][0]["field"].as_str()), (422, Some("alert_email")), "{e}");
    let nurse = who(&t, "po.nurse", &[Role::Nurse]).await;
    assert_eq!(send(&t, &nurse, "PATCH", &path, Some(json!({"alert_email": "x@y.test"})), None).await.0, 403);
    let (status, s) =
        send(&t, &p.admin, "PATCH", &path, Some(json!({"alert_email": "pharmacy@hospital.test"})), None)
            .await;
    assert_eq!((status, s["alert_email"].as_str()), (200, Some("pharmacy@hospital.test")), "{s}");

    // Yesterday's run (late: the server was down) is due at once: it queues today's mail
    // and tomorrow's run; scheduling it again (another instance starting) queues nothing.
    let yesterday = worker.pharmacy().today() - chrono::Duration::days(1);
    assert!(worker.pharmacy().schedule_alerts(yesterday).await.unwrap());
    assert!(!worker.pharmacy().schedule_alerts(yesterday).await.unwrap());
    let pass = worker.jobs().run_due_jobs("test", 10).await.unwrap();
    assert_eq!(pass.done, 1, "the day's run");
    let pass = worker.jobs().run_due_jobs("test", 10).await.unwrap();
    assert_eq!(pass.done, 1, "one store has a mailbox");
    // (Quoted-printable: long lines are folded with a trailing "=".)
    let mail: Vec<String> = server.messages.lock().unwrap().iter().map(|m| m.replace("=\n", "")).collect();
    assert_eq!(mail.len(), 1);
    assert!(mail[0].contains("To: pharmacy@hospital.test"), "{}", mail[0]);
    assert!(mail[0].contains("AMX-NEAR") && mail[0].contains("within 30 days"), "{}", mail[0]);
    assert!(mail[0].contains("reorder level 100; 200 on order; order 300 more"), "{}", mail[0]);
    // The day's mail is sent once: another run of the day queues nothing new.
    worker.pharmacy().queue_alert_mail(yesterday).await.unwrap();
    worker.jobs().run_due_jobs("test", 10).await.unwrap();
    assert_eq!(server.messages.lock().unwrap().len(), 1);
    // Tomorrow's run is queued, not yet due.
    assert!(!worker.pharmacy().schedule_alerts(yesterday + chrono::Duration::days(2)).await.unwrap());
    // Clearing the mailbox stops the mail.
    let (status, s) = send(&t, &p.admin, "PATCH", &path, Some(json!({"alert_email": ""})), None).await;
    assert_eq!((status, s["alert_email"].clone()), (200, Value::Null));
});
