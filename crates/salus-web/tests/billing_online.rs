//! Online payments through the provider's webhook, on SQLite and PostgreSQL: real signed
//! HTTP calls (HMAC-SHA256 of the raw body) — valid, unsigned, signed with the wrong
//! secret, replayed, twice at once, in the wrong currency, more than the balance, for an
//! unknown invoice, a failure after the capture — each settling once or changing nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::billing::*;
use common::ward::*;
use serde_json::{Value, json};
use uuid::Uuid;

/// Posts a provider's event to the webhook, signed with `secret` (none: unsigned).
async fn webhook(t: &common::TestApp, body: &Value, secret: Option<&str>) -> (u16, Value) {
    use hmac::{Hmac, Mac};
    let raw = serde_json::to_vec(body).unwrap();
    let mut req =
        t.new_client().post(t.url("/api/v1/payments/webhook")).header("content-type", "application/json");
    if let Some(s) = secret {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(s.as_bytes()).unwrap();
        mac.update(&raw);
        req = req.header("x-signature", hex::encode(mac.finalize().into_bytes()));
    }
    let res = req.body(raw).send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

db_test!(online_payments_settle_once_from_signed_webhooks, |t| {
    let d = desk(&t).await;
    let ids = charge(&t, d.patient, &[("CONS", 2)]).await;
    let (_, inv) = invoice(&t, &d.clerk, d.patient, json!({"charge_ids": ids})).await;
    let total = inv["total_minor"].as_i64().unwrap();
    let secret = Some(common::TEST_WEBHOOK_SECRET);
    let captured = |event: &str, amount: i64, currency: &str| {
        json!({"id": event, "type": "payment.captured",
            "data": {"payment_id": "pay_29QQoUBi66xm2f", "invoice_id": inv["id"], "amount_minor": amount, "currency": currency}})
    };
    // Unsigned, or signed with another secret: refused, nothing settled.
    let (status, _) = webhook(&t, &captured("evt_1", 40_000, "INR"), None).await;
    assert_eq!(status, 401);
    let (status, _) = webhook(&t, &captured("evt_1", 40_000, "INR"), Some("not-the-secret")).await;
    assert_eq!(status, 401);
    assert_eq!(owed(&t, &d).await, total);

    // Another currency, more than the balance, an invoice that does not exist: refused,
    // and a refused capture is kept in the audit trail for finance.
    let (status, e) = webhook(&t, &captured("evt_2", 40_000, "USD"), secret).await;
    assert_eq!((status, fields(&e)), (422, vec!["currency".to_owned()]), "{e}");
    let (status, e) = webhook(&t, &captured("evt_3", total + 1, "INR"), secret).await;
    assert_eq!((status, fields(&e)), (422, vec!["amount_minor".to_owned()]), "{e}");
    let mut nowhere = captured("evt_4", 100, "INR");
    nowhere["data"]["invoice_id"] = json!(Uuid::now_v7());
    let (status, _) = webhook(&t, &nowhere, secret).await;
    assert_eq!(status, 404);
    {
        use salus_db::entity::audit_event;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let refused = audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq("billing.online.refused"))
            .all(t.app.db.reader())
            .await
            .unwrap();
        assert_eq!(refused.len(), 2, "the currency and the amount");
    }
    assert_eq!(owed(&t, &d).await, total);

    // An authorisation arriving first is acknowledged and changes nothing; the capture
    // settles; the same event again (a retry, a replay) answers the same receipt.
    let (status, ok) = webhook(
        &t,
        &json!({"id": "evt_5", "type": "payment.authorized", "data": captured("x", 40_000, "INR")["data"]}),
        secret,
    )
    .await;
    assert_eq!((status, ok["status"].as_str()), (200, Some("ignored")), "{ok}");
    let (status, first) = webhook(&t, &captured("evt_6", 40_000, "INR"), secret).await;
    assert_eq!((status, first["status"].as_str()), (200, Some("settled")), "{first}");
    assert_eq!(
        (first["receipt"]["method"].as_str(), first["receipt"]["amount_minor"].as_i64()),
        (Some("online"), Some(40_000))
    );
    let (status, again) = webhook(&t, &captured("evt_6", 40_000, "INR"), secret).await;
    assert_eq!((status, again["status"].as_str()), (200, Some("replayed")), "{again}");
    assert_eq!(again["receipt"]["id"], first["receipt"]["id"]);
    let seventh = captured("evt_7", 10_000, "INR");
    let (a, b) = tokio::join!(webhook(&t, &seventh, secret), webhook(&t, &seventh, secret));
    assert_eq!((a.0, b.0), (200, 200), "{} {}", a.1, b.1);
    assert_eq!(a.1["receipt"]["id"], b.1["receipt"]["id"], "one event delivered twice at once settles once");
    // A failure reported after the capture does not undo it.
    let (status, ok) = webhook(
        &t,
        &json!({"id": "evt_8", "type": "payment.failed", "data": captured("x", 40_000, "INR")["data"]}),
        secret,
    )
    .await;
    assert_eq!((status, ok["status"].as_str()), (200, Some("ignored")), "{ok}");
    assert_eq!(owed(&t, &d).await, total - 50_000);
    books_balance(&t).await;
});
