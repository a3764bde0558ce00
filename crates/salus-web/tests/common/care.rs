//! Records of care made the way staff make them: a pharmacy stocked and a prescription
//! dispensed, a stay with a dose given on the ward, and a booked appointment.

use salus_core::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use super::TestApp;
use super::ward::{Ward, one_bed_ward, send, who};

/// Stocks a new pharmacy with the patient's first prescription to dispense and dispenses
/// ten of it to them.
pub async fn dispensed(t: &TestApp, patient: &str) {
    let admin = who(t, "care.stores", &[Role::Admin]).await;
    let pharm = who(t, "care.pharm", &[Role::Pharmacist]).await;
    let (status, store) = send(
        t,
        &admin,
        "POST",
        "/api/v1/pharmacy/stores",
        Some(json!({"code": "PH", "name": "Pharmacy", "kind": "pharmacy"})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{store}");
    let store = store["id"].as_str().unwrap().to_owned();
    let keyed = |path: &str, body: Value, key: &'static str| {
        pharm
            .client
            .post(t.url(path))
            .header("x-csrf-token", &pharm.csrf)
            .header("idempotency-key", key)
            .json(&body)
    };
    let (_, todo) = send(
        t,
        &pharm,
        "GET",
        &format!("/api/v1/patients/{patient}/to-dispense?store_id={store}"),
        None,
        None,
    )
    .await;
    let rx = todo["items"][0]["prescription"]["id"].clone();
    let item = todo["items"][0]["options"][0]["item"]["id"].clone();
    let expiry = (chrono::Utc::now() + chrono::Duration::days(300)).date_naive().to_string();
    let body = json!({"store_id": store, "lines": [{"item_id": item, "batch_no": "M1", "expiry_date": expiry,
        "quantity": 50, "cost_minor": 100, "sale_price_minor": 150}]});
    let res = keyed("/api/v1/pharmacy/receipts", body, "care-receipt").send().await.unwrap();
    assert_eq!(res.status(), 201);
    let body = json!({"store_id": store, "lines": [{"prescription_id": rx, "quantity": 10}]});
    let res =
        keyed(&format!("/api/v1/patients/{patient}/dispenses"), body, "care-dispense").send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
}

/// Admits the patient into a new ward's bed on the doctor's request, orders `medicine`
/// on the ward and gives a dose of it; the admission's id.
pub async fn stay_with_dose(
    t: &TestApp,
    w: &Ward,
    patient: &str,
    attending: Uuid,
    medicine: &Value,
) -> String {
    let bed = one_bed_ward(t, "care.wards").await;
    let path = format!("/api/v1/patients/{patient}/admission-requests");
    let (status, r) = send(t, &w.doc, "POST", &path, Some(json!({"reason": "Observation"})), None).await;
    assert_eq!(status, 201, "{r}");
    let body = json!({"patient_id": patient, "request_id": r["id"], "bed_id": bed, "attending_id": attending,
        "diagnosis": "Observation"});
    let (status, a) = send(t, &w.desk, "POST", "/api/v1/admissions", Some(body), None).await;
    assert_eq!(status, 201, "{a}");
    let stay = a["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/admissions/{stay}/medication-orders");
    let body = json!({"medicine_id": medicine, "dose": "500 mg", "kind": "as_needed"});
    let (status, o) = send(t, &w.doc, "POST", &path, Some(body), None).await;
    assert_eq!(status, 201, "{o}");
    let res = w
        .nurse
        .client
        .post(t.url(&format!("/api/v1/medication-orders/{}/administrations", o["id"].as_str().unwrap())))
        .header("x-csrf-token", &w.nurse.csrf)
        .header("idempotency-key", "care-dose")
        .json(&json!({"outcome": "given"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    stay
}

/// An appointment with `doctor` in three days' time, as a booking writes it; its id.
pub async fn booked(t: &TestApp, patient: Uuid, doctor: Uuid) -> Uuid {
    let starts = chrono::Utc::now() + chrono::Duration::days(3);
    let local = starts.with_timezone(&t.app.time_zone);
    let appointment = Uuid::now_v7();
    let now = chrono::Utc::now();
    salus_db::insert_all::<salus_db::entity::appointment::Entity, _>(
        t.app.db.writer(),
        vec![salus_db::entity::appointment::Model {
            id: appointment,
            patient_id: patient,
            doctor_id: doctor,
            department_id: None,
            slot_date: local.date_naive(),
            slot_time: Some(local.format("%H:%M").to_string()),
            starts_at: starts,
            duration_minutes: 15,
            seat: Some(1),
            kind: "booked".into(),
            status: salus_core::scheduling::AppointmentStatus::Booked,
            reason: Some("Review of sugars".into()),
            token: None,
            cancel_reason: None,
            rescheduled_to: None,
            created_by: None,
            created_at: now,
            updated_at: now,
            checked_in_at: None,
            started_at: None,
            finished_at: None,
            version: 1,
        }],
    )
    .await
    .unwrap();
    appointment
}
