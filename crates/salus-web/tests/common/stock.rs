//! The pharmacy's people, places and requests for the stock tests: a store, a ward store,
//! a supplier and amoxicillin; receiving, prescribing, reading stock and checking the
//! ledger through the API.

use salus_core::Role;
use serde_json::{Value, json};

use super::TestApp;
use super::ward::*;

/// A POST carrying an `Idempotency-Key` (none when `key` is empty).
pub async fn post_key(t: &TestApp, w: &Who, path: &str, body: Value, key: &str) -> (u16, Value) {
    let mut req = w.client.post(t.url(path)).header("x-csrf-token", &w.csrf).json(&body);
    if !key.is_empty() {
        req = req.header("idempotency-key", key);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

pub fn days(n: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(n)).to_string()
}

/// The pharmacy's people and places: an administrator, a pharmacist, a pharmacy and a
/// ward store, a supplier, and the stock item of amoxicillin 500 mg capsules.
pub struct Pharmacy {
    pub admin: Who,
    pub pharm: Who,
    pub store: String,
    pub ward_store: String,
    pub supplier: String,
    pub amox: String,
    pub amox_medicine: String,
}

pub async fn item_named(t: &TestApp, w: &Who, text: &str) -> Value {
    let (status, list) =
        send(t, w, "GET", &format!("/api/v1/pharmacy/items?text={}", text.replace(' ', "%20")), None, None)
            .await;
    assert_eq!(status, 200, "{list}");
    list["items"][0].clone()
}

pub async fn pharmacy(t: &TestApp) -> Pharmacy {
    let admin = who(t, "ph.admin", &[Role::Admin]).await;
    let pharm = who(t, "ph.pharm", &[Role::Pharmacist]).await;
    let mut ids = Vec::new();
    for (code, name, kind) in [("PH", "Main pharmacy", "pharmacy"), ("WARD-A", "Ward A store", "ward")] {
        let (status, s) = send(
            t,
            &admin,
            "POST",
            "/api/v1/pharmacy/stores",
            Some(json!({"code": code, "name": name, "kind": kind})),
            None,
        )
        .await;
        assert_eq!(status, 201, "{s}");
        ids.push(s["id"].as_str().unwrap().to_owned());
    }
    let (status, s) = send(
        t,
        &admin,
        "POST",
        "/api/v1/pharmacy/suppliers",
        Some(json!({"name": "Medline Distributors"})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{s}");
    let amox = item_named(t, &pharm, "Amoxicillin 500 mg capsule").await;
    Pharmacy {
        admin,
        pharm,
        store: ids[0].clone(),
        ward_store: ids[1].clone(),
        supplier: s["id"].as_str().unwrap().to_owned(),
        amox: amox["id"].as_str().unwrap().to_owned(),
        amox_medicine: amox["medicine_id"].as_str().unwrap().to_owned(),
    }
}

/// Receives `lines` (item, batch, expiry in days, units) into `store`.
pub async fn receive(t: &TestApp, p: &Pharmacy, store: &str, lines: &[(&str, &str, i64, i64)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(item, batch, expiry, qty)| {
            json!({"item_id": item, "batch_no": batch, "expiry_date": days(*expiry), "quantity": qty,
                "cost_minor": 250, "sale_price_minor": 400})
        })
        .collect();
    let body = json!({"store_id": store, "supplier_id": p.supplier, "invoice_no": "INV-1", "lines": lines,
        "short_expiry_reason": "Fast-moving; used within the month"});
    let (status, r) =
        post_key(t, &p.pharm, "/api/v1/pharmacy/receipts", body, &uuid::Uuid::now_v7().to_string()).await;
    assert_eq!(status, 201, "{r}");
    r
}

/// A doctor's prescription of `quantity` units of `medicine` for `patient`.
pub async fn prescribe(t: &TestApp, doc: &Who, patient: &str, medicine: &str, quantity: i64) -> String {
    let body = json!({"medicine_id": medicine, "dose": "500 mg", "route": "oral", "frequency": "three times a day",
        "duration_days": 7, "quantity": quantity, "instructions": "After food", "override_reason": "Course continues"});
    let (status, rx) =
        send(t, doc, "POST", &format!("/api/v1/patients/{patient}/prescriptions"), Some(body), None).await;
    assert_eq!(status, 201, "{rx}");
    rx["id"].as_str().unwrap().to_owned()
}

/// Usable and on-hand units of `item` in `store`.
pub async fn stock_of(t: &TestApp, w: &Who, store: &str, item: &str) -> (i64, i64) {
    let (status, page) =
        send(t, w, "GET", &format!("/api/v1/pharmacy/stores/{store}/stock?limit=200"), None, None).await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["item_id"] == item)
        .map_or((0, 0), |r| (r["available"].as_i64().unwrap(), r["on_hand"].as_i64().unwrap()))
}

pub async fn ledger_is_sound(t: &TestApp, w: &Who) -> Value {
    let (status, check) = send(t, w, "GET", "/api/v1/pharmacy/ledger/verify", None, None).await;
    assert_eq!(status, 200, "{check}");
    assert_eq!(check["mismatches"], json!([]), "the ledger sums to every balance");
    check
}
