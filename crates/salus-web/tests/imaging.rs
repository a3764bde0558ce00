//! Imaging through the API, on SQLite and PostgreSQL: a doctor's order gets its accession
//! number at once, is booked into a room that cannot be double-booked, performed (charged
//! once), given images, reported, authorised — released to the chart and the patient only
//! then — and amended, never overwritten.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ward::*;
use salus_core::Role;
use serde_json::{Value, json};

/// The catalog procedure `code`'s id.
async fn procedure(t: &common::TestApp, w: &Who, code: &str) -> String {
    let (status, list) = send(t, w, "GET", "/api/v1/imaging/procedures", None, None).await;
    assert_eq!(status, 200, "{list}");
    let item = list["items"].as_array().unwrap().iter().find(|i| i["code"] == code);
    item.unwrap_or_else(|| panic!("no procedure {code}"))["id"].as_str().unwrap().to_owned()
}

async fn price(t: &common::TestApp, code: &str, rupees: &str) {
    use salus_app::organisation::{Amount, Percent, ServiceInput};
    let input = ServiceInput {
        code: code.into(),
        name: format!("Imaging {code}"),
        category: "imaging".into(),
        department_id: None,
        price: Amount::Typed(rupees.into()),
        tax_rate: Percent::Typed("0".into()),
        active: true,
    };
    t.app.organisation().create_service(&salus_app::Ctx::operator(), input).await.unwrap();
}

/// Orders `code` for `patient` as the ward's doctor.
async fn order(t: &common::TestApp, w: &Ward, patient: &str, code: &str, extra: Value) -> Value {
    let mut body = json!({"procedure_id": procedure(t, &w.doc, code).await, "clinical_question": "Cough for three weeks; ? consolidation"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, o) =
        send(t, &w.doc, "POST", &format!("/api/v1/patients/{patient}/imaging-orders"), Some(body), None)
            .await;
    assert_eq!(status, 201, "{o}");
    o
}

fn at(hours_ahead: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(hours_ahead)).format("%Y-%m-%dT%H:00:00Z").to_string()
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR fake image body";

db_test!(an_examination_goes_from_order_to_an_authorised_and_amended_report, |t| {
    let w = ward(&t).await;
    let tech = who(&t, "xr.tech", &[Role::LabTechnician]).await;
    price(&t, "RAD-XR-CHEST", "450").await;
    let p = w.patient.clone();
    let path = format!("/api/v1/patients/{p}/imaging-orders");
    let chest = procedure(&t, &w.doc, "XR-CHEST-PA").await;
    let knee = procedure(&t, &w.doc, "XR-KNEE").await;

    // Who may order, and bad orders writing nothing.
    let good = json!({"procedure_id": chest, "clinical_question": "? pneumonia"});
    assert_eq!(send(&t, &w.desk, "POST", &path, Some(good.clone()), None).await.0, 403);
    assert_eq!(send(&t, &tech, "POST", &path, Some(good.clone()), None).await.0, 403);
    assert_eq!(send(&t, &w.nurse, "POST", &path, Some(good.clone()), None).await.0, 403);
    let (status, e) = send(
        &t,
        &w.doc,
        "POST",
        &path,
        Some(json!({"procedure_id": knee, "clinical_question": "pain"})),
        None,
    )
    .await;
    assert_eq!((status, fields(&e)), (422, vec!["laterality".to_owned()]), "a knee has a side: {e}");
    let (status, e) = send(
        &t,
        &w.doc,
        "POST",
        &path,
        Some(json!({"procedure_id": chest, "laterality": "left", "clinical_question": " "})),
        None,
    )
    .await;
    assert_eq!(
        (status, fields(&e)),
        (422, vec!["clinical_question".to_owned(), "laterality".to_owned()]),
        "{e}"
    );
    let unknown = uuid::Uuid::now_v7();
    let (status, e) = send(
        &t,
        &w.doc,
        "POST",
        &path,
        Some(json!({"procedure_id": unknown, "clinical_question": "x"})),
        None,
    )
    .await;
    assert_eq!((status, fields(&e)), (422, vec!["procedure_id".to_owned()]), "{e}");
    let (status, e) = send(
        &t,
        &w.doc,
        "POST",
        &path,
        Some(json!({"procedure_id": chest, "clinical_question": "x", "laterality": "upper"})),
        None,
    )
    .await;
    assert_eq!(status, 422, "{e}");
    let (status, _) = send(
        &t,
        &w.doc,
        "POST",
        &format!("/api/v1/patients/{unknown}/imaging-orders"),
        Some(good.clone()),
        None,
    )
    .await;
    assert_eq!(status, 404);
    // An encounter of another patient is refused.
    let enc = open(&t, &w).await;
    let (status, e) = send(
        &t,
        &w.doc,
        "POST",
        &format!("/api/v1/patients/{}/imaging-orders", w.other_patient),
        Some(json!({"procedure_id": chest, "clinical_question": "x", "encounter_id": enc})),
        None,
    )
    .await;
    assert_eq!((status, fields(&e)), (422, vec!["encounter_id".to_owned()]), "{e}");
    let (_, list) = send(&t, &w.doc, "GET", &path, None, None).await;
    assert!(list["items"].as_array().unwrap().is_empty(), "nothing was written: {list}");

    // The order, with its accession number at once; the next is the next number.
    let o = order(&t, &w, &p, "XR-CHEST-PA", json!({"encounter_id": enc, "priority": "urgent"})).await;
    let oid = o["id"].as_str().unwrap().to_owned();
    let accession = o["accession"].as_str().unwrap().to_owned();
    let year = chrono::Utc::now().format("%y").to_string();
    assert!(accession.starts_with(&format!("R{year}-")) && accession.len() == 10, "{accession}");
    assert_eq!(o["status"], "ordered");
    // The same examination again within the window: a warning, then an override with a reason.
    let (status, warn) = send(&t, &w.doc, "POST", &path, Some(good.clone()), None).await;
    assert_eq!(status, 409, "{warn}");
    assert!(warn.to_string().contains(&accession), "the warning names the earlier order: {warn}");
    let again =
        order(&t, &w, &p, "XR-CHEST-PA", json!({"override_reason": "Repeat after drain insertion"})).await;
    let n = |a: &str| a.rsplit('-').next().unwrap().parse::<i64>().unwrap();
    assert_eq!(n(again["accession"].as_str().unwrap()), n(&accession) + 1, "gapless");

    // Cancel: a reason is needed; a cancelled order cannot be booked or performed.
    let aid = again["id"].as_str().unwrap().to_owned();
    let (status, e) = send(
        &t,
        &w.doc,
        "POST",
        &format!("/api/v1/imaging/orders/{aid}/cancel"),
        Some(json!({"reason": ""})),
        None,
    )
    .await;
    assert_eq!((status, fields(&e)), (422, vec!["reason".to_owned()]), "{e}");
    let (status, c) = send(
        &t,
        &w.doc,
        "POST",
        &format!("/api/v1/imaging/orders/{aid}/cancel"),
        Some(json!({"reason": "Duplicate request"})),
        None,
    )
    .await;
    assert_eq!((status, c["status"].as_str()), (200, Some("cancelled")), "{c}");
    let (status, _) =
        send(&t, &tech, "POST", &format!("/api/v1/imaging/orders/{aid}/perform"), Some(json!({})), None)
            .await;
    assert_eq!(status, 409);

    // Booking: imaging staff only, a time from now on, a room.
    let book = format!("/api/v1/imaging/orders/{oid}/schedule");
    let slot = json!({"scheduled_at": at(2), "room": "X-ray 1"});
    assert_eq!(send(&t, &w.nurse, "POST", &book, Some(slot.clone()), None).await.0, 403);
    let (status, e) =
        send(&t, &tech, "POST", &book, Some(json!({"scheduled_at": at(-3), "room": "X-ray 1"})), None).await;
    assert_eq!((status, fields(&e)), (422, vec!["scheduled_at".to_owned()]), "{e}");
    let (status, e) =
        send(&t, &tech, "POST", &book, Some(json!({"scheduled_at": at(2), "room": "  "})), None).await;
    assert_eq!((status, fields(&e)), (422, vec!["room".to_owned()]), "{e}");
    let (status, s) = send(&t, &tech, "POST", &book, Some(slot.clone()), None).await;
    assert_eq!(
        (status, s["status"].as_str(), s["room"].as_str()),
        (200, Some("scheduled"), Some("X-ray 1")),
        "{s}"
    );
    // Another patient's examination overlapping in that room is refused, naming the booking.
    let other = order(&t, &w, &w.other_patient, "XR-CHEST-PA", json!({})).await;
    let other_id = other["id"].as_str().unwrap().to_owned();
    let (status, e) = send(
        &t,
        &tech,
        "POST",
        &format!("/api/v1/imaging/orders/{other_id}/schedule"),
        Some(slot.clone()),
        None,
    )
    .await;
    assert_eq!(status, 409, "{e}");
    assert!(e["detail"].as_str().unwrap().contains(&accession), "{e}");

    // The worklist: imaging staff (and doctors); not the front desk.
    assert_eq!(send(&t, &w.desk, "GET", "/api/v1/imaging/worklist", None, None).await.0, 403);
    let (status, list) = send(&t, &tech, "GET", "/api/v1/imaging/worklist?modality=dx", None, None).await;
    assert_eq!(status, 200, "{list}");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "the open ones: {list}");
    assert_eq!(items[0]["order"]["id"], oid.as_str(), "urgent first");
    let (_, list) = send(&t, &tech, "GET", "/api/v1/imaging/worklist?modality=ct", None, None).await;
    assert!(list["items"].as_array().unwrap().is_empty());
    assert_eq!(send(&t, &tech, "GET", "/api/v1/imaging/worklist?modality=pet", None, None).await.0, 400);
    // Paged: the urgent one alone on the first page, the cursor to the next.
    let (_, first) = send(&t, &tech, "GET", "/api/v1/imaging/worklist?limit=1", None, None).await;
    assert_eq!(first["items"][0]["order"]["id"], oid.as_str(), "{first}");
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) =
        send(&t, &tech, "GET", &format!("/api/v1/imaging/worklist?limit=1&cursor={cursor}"), None, None)
            .await;
    assert_eq!(second["items"][0]["order"]["id"], other_id.as_str(), "{second}");
    assert!(second["next_cursor"].is_null(), "{second}");
    assert_eq!(send(&t, &tech, "GET", "/api/v1/imaging/worklist?limit=500", None, None).await.0, 400);

    // No images and no report before the examination is done.
    let images = format!("/api/v1/imaging/orders/{oid}/images?filename=chest.png");
    assert_eq!(upload(&t, &tech, &images, PNG.to_vec()).await.0, 409);
    let report = format!("/api/v1/imaging/orders/{oid}/report");
    let text = json!({"findings": "Lungs clear.\nHeart size normal.", "impression": "No active disease."});
    assert_eq!(send(&t, &w.doc2, "POST", &report, Some(text.clone()), None).await.0, 409);

    // Performed: once, charged once.
    let perform = format!("/api/v1/imaging/orders/{oid}/perform");
    assert_eq!(send(&t, &w.desk, "POST", &perform, Some(json!({})), None).await.0, 403);
    let (status, d) =
        send(&t, &tech, "POST", &perform, Some(json!({"note": "PA erect, 110 kVp"})), None).await;
    assert_eq!((status, d["status"].as_str()), (200, Some("performed")), "{d}");
    assert_eq!(send(&t, &tech, "POST", &perform, Some(json!({})), None).await.0, 409);
    let (status, _) = send(
        &t,
        &w.doc,
        "POST",
        &format!("/api/v1/imaging/orders/{oid}/cancel"),
        Some(json!({"reason": "changed my mind"})),
        None,
    )
    .await;
    assert_eq!(status, 409, "a performed examination is not cancelled");
    let charges = salus_db::charges::charges_of(t.app.db.reader(), p.parse().unwrap()).await.unwrap();
    let mine: Vec<_> = charges.iter().filter(|c| c.source_type == "imaging_order").collect();
    assert_eq!(mine.len(), 1, "{charges:?}");
    assert_eq!((mine[0].service_code.as_str(), mine[0].unit_price_minor), ("RAD-XR-CHEST", 45_000));
    assert_eq!(mine[0].source_id.to_string(), oid);

    // Images: checked by their bytes.
    let (status, e) = upload(&t, &tech, &images, b"not an image".to_vec()).await;
    assert_eq!(status, 422, "{e}");
    let (status, img) = upload(&t, &tech, &images, PNG.to_vec()).await;
    assert_eq!(status, 201, "{img}");
    let img_id = img["id"].as_str().unwrap().to_owned();
    let res = tech
        .client
        .get(t.url(&format!("/api/v1/imaging/orders/{oid}/images/{img_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
    let (status, _) =
        send(&t, &tech, "GET", &format!("/api/v1/imaging/orders/{other_id}/images/{img_id}"), None, None)
            .await;
    assert_eq!(status, 404, "an image is read through its own examination only");

    // The report: doctors write it; a draft is not released.
    assert_eq!(send(&t, &tech, "POST", &report, Some(text.clone()), None).await.0, 403);
    let (status, e) =
        send(&t, &w.doc2, "POST", &report, Some(json!({"findings": "", "impression": "x"})), None).await;
    assert_eq!((status, fields(&e)), (422, vec!["findings".to_owned()]), "{e}");
    let (status, r) = send(&t, &w.doc2, "POST", &report, Some(text.clone()), None).await;
    assert_eq!((status, r["status"].as_str()), (200, Some("preliminary")), "{r}");
    let (_, same) = send(&t, &w.doc2, "POST", &report, Some(text.clone()), None).await;
    assert_eq!(same["id"], r["id"], "the same text twice changes nothing");
    let me = patient_account(&t, &w).await;
    assert_eq!(send(&t, &me, "GET", &format!("/api/v1/imaging/orders/{oid}"), None, None).await.0, 404);
    let (_, mine) = send(&t, &me, "GET", &path, None, None).await;
    assert!(mine["items"].as_array().unwrap().is_empty(), "{mine}");

    // Authorised: released to the chart, the patient and the orderer's inbox.
    let authorise = format!("/api/v1/imaging/orders/{oid}/report/authorise");
    assert_eq!(send(&t, &tech, "POST", &authorise, None, None).await.0, 403);
    let (status, fin) = send(&t, &w.doc2, "POST", &authorise, None, None).await;
    assert_eq!((status, fin["status"].as_str()), (200, Some("final")), "{fin}");
    assert_eq!(send(&t, &w.doc2, "POST", &authorise, None, None).await.0, 409);
    assert_eq!(
        send(&t, &w.doc2, "POST", &report, Some(text.clone()), None).await.0,
        409,
        "amend, not rewrite"
    );
    let (status, seen) = send(&t, &me, "GET", &format!("/api/v1/imaging/orders/{oid}"), None, None).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["report"]["impression"], "No active disease.");
    assert_eq!(seen["images"].as_array().unwrap().len(), 1);
    assert_eq!(
        send(&t, &me, "GET", &format!("/api/v1/patients/{}/imaging-orders", w.other_patient), None, None)
            .await
            .0,
        404,
        "another patient's imaging is not there for a patient"
    );
    let (_, inbox) = send(&t, &w.doc, "GET", "/api/v1/imaging/inbox", None, None).await;
    assert_eq!(inbox["items"].as_array().unwrap().len(), 1, "{inbox}");
    assert_eq!(inbox["items"][0]["order"]["accession"], accession.as_str());

    // Amended: a reason, a real change; the old version stays, marked amended.
    let amend = format!("/api/v1/imaging/orders/{oid}/report/amend");
    let changed = json!({"findings": "Small left pleural effusion.", "impression": "Small left effusion.", "amend_reason": "Lateral costophrenic angle re-read"});
    let (status, e) = send(
        &t,
        &w.doc2,
        "POST",
        &amend,
        Some(json!({"findings": "a", "impression": "b", "amend_reason": ""})),
        None,
    )
    .await;
    assert_eq!((status, fields(&e)), (422, vec!["amend_reason".to_owned()]), "{e}");
    let (status, e) = send(
        &t,
        &w.doc2,
        "POST",
        &amend,
        Some(json!({"findings": "Lungs clear.\nHeart size normal.", "impression": "No active disease.", "amend_reason": "x"})),
        None,
    )
    .await;
    assert_eq!(status, 422, "an amendment that changes nothing: {e}");
    let (status, a) = send(&t, &w.doc, "POST", &amend, Some(changed), None).await;
    assert_eq!((status, a["revision"].as_i64(), a["status"].as_str()), (200, Some(2), Some("final")), "{a}");
    let (_, history) =
        send(&t, &me, "GET", &format!("/api/v1/imaging/orders/{oid}/reports"), None, None).await;
    let versions = history["items"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{history}");
    assert_eq!(
        (versions[1]["status"].as_str(), versions[1]["impression"].as_str()),
        (Some("amended"), Some("No active disease."))
    );

    // Reviewed: out of the inbox; a report of another patient is not marked through this one.
    let reviewed = format!("/api/v1/patients/{p}/imaging-reports/reviewed");
    let (status, m) = send(
        &t,
        &w.doc,
        "POST",
        &format!("/api/v1/patients/{}/imaging-reports/reviewed", w.other_patient),
        Some(json!({"report_ids": [a["id"]]})),
        None,
    )
    .await;
    assert_eq!((status, m["marked"].as_i64()), (200, Some(0)), "{m}");
    assert_eq!(
        send(&t, &w.nurse, "POST", &reviewed, Some(json!({"report_ids": [a["id"]]})), None).await.0,
        403
    );
    let (status, m) = send(&t, &w.doc, "POST", &reviewed, Some(json!({"report_ids": [a["id"]]})), None).await;
    assert_eq!((status, m["marked"].as_i64()), (200, Some(1)), "{m}");
    let (_, inbox) = send(&t, &w.doc, "GET", "/api/v1/imaging/inbox", None, None).await;
    assert!(inbox["items"].as_array().unwrap().is_empty(), "{inbox}");

    // Reads and writes are in the audit trail.
    for action in [
        "imaging.order",
        "imaging.cancel",
        "imaging.schedule",
        "imaging.perform",
        "imaging.image_add",
        "imaging.report_write",
        "imaging.authorise",
        "imaging.amend",
        "imaging.review",
        "imaging.read",
        "imaging.worklist_read",
    ] {
        let events = salus_db::audit::actions_of(t.app.db.reader(), action).await.unwrap();
        assert!(!events.is_empty(), "no {action} event");
    }
});

db_test!(two_desks_booking_one_room_at_one_time_cannot_both_win, |t| {
    let w = ward(&t).await;
    let tech = who(&t, "xr.tech", &[Role::LabTechnician]).await;
    let tech2 = who(&t, "xr.tech2", &[Role::LabTechnician]).await;
    let a = order(&t, &w, &w.patient, "CT-HEAD", json!({})).await;
    let b = order(&t, &w, &w.other_patient, "CT-HEAD", json!({})).await;
    let slot = json!({"scheduled_at": at(5), "room": "CT 1"});
    let path = |o: &Value| format!("/api/v1/imaging/orders/{}/schedule", o["id"].as_str().unwrap());
    let (pa, pb) = (path(&a), path(&b));
    let (ra, rb) = tokio::join!(
        send(&t, &tech, "POST", &pa, Some(slot.clone()), None),
        send(&t, &tech2, "POST", &pb, Some(slot.clone()), None)
    );
    let mut codes = [ra.0, rb.0];
    codes.sort();
    assert_eq!(codes, [200, 409], "{ra:?} {rb:?}");
    // A booking that overlaps without sharing the start minute is refused as well.
    let loser = if ra.0 == 409 { &pa } else { &pb };
    let half_past =
        (chrono::Utc::now() + chrono::Duration::hours(5)).format("%Y-%m-%dT%H:10:00Z").to_string();
    let (status, e) =
        send(&t, &tech, "POST", loser, Some(json!({"scheduled_at": half_past, "room": "CT 1"})), None).await;
    assert_eq!(status, 409, "{e}");
    let (status, _) =
        send(&t, &tech, "POST", loser, Some(json!({"scheduled_at": half_past, "room": "CT 2"})), None).await;
    assert_eq!(status, 200);
});

db_test!(a_cancelled_examination_leaves_no_charge_and_imaging_keeps_its_statement_budgets, |t| {
    let w = ward(&t).await;
    let tech = who(&t, "xr.tech", &[Role::LabTechnician]).await;
    price(&t, "RAD-CT-HEAD", "2500").await;
    let cancelled = order(&t, &w, &w.patient, "CT-HEAD", json!({})).await;
    let (status, _) = send(
        &t,
        &w.doc,
        "POST",
        &format!("/api/v1/imaging/orders/{}/cancel", cancelled["id"].as_str().unwrap()),
        Some(json!({"reason": "Patient declined"})),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let charges = salus_db::charges::charges_of(t.app.db.reader(), w.patient.parse().unwrap()).await.unwrap();
    assert!(charges.is_empty(), "{charges:?}");

    async fn measure(t: &common::TestApp, who: &Who, method: &str, path: String, body: Option<Value>) -> u64 {
        let before = t.app.db.statements();
        let (status, out) = send(t, who, method, &path, body, None).await;
        assert!(status < 300, "{method} {path}: {status} {out}");
        t.app.db.statements() - before
    }
    let chest = procedure(&t, &w.doc, "XR-CHEST-PA").await;
    let place = measure(
        &t,
        &w.doc,
        "POST",
        format!("/api/v1/patients/{}/imaging-orders", w.patient),
        Some(json!({"procedure_id": chest, "clinical_question": "? fracture"})),
    )
    .await;
    let one = measure(&t, &tech, "GET", "/api/v1/imaging/worklist".into(), None).await;
    let o = order(&t, &w, &w.other_patient, "CT-HEAD", json!({})).await;
    order(&t, &w, &w.other_patient, "US-ABD", json!({})).await;
    let three = measure(&t, &tech, "GET", "/api/v1/imaging/worklist".into(), None).await;
    assert_eq!(one, three, "the worklist's statements do not grow with its lines");
    let oid = o["id"].as_str().unwrap();
    let perform =
        measure(&t, &tech, "POST", format!("/api/v1/imaging/orders/{oid}/perform"), Some(json!({}))).await;
    let text = json!({"findings": "No haemorrhage.", "impression": "Normal CT head."});
    let write =
        measure(&t, &w.doc2, "POST", format!("/api/v1/imaging/orders/{oid}/report"), Some(text)).await;
    let authorise =
        measure(&t, &w.doc2, "POST", format!("/api/v1/imaging/orders/{oid}/report/authorise"), None).await;
    let read = measure(&t, &w.doc, "GET", format!("/api/v1/imaging/orders/{oid}"), None).await;
    let measured = vec![place, one, perform, write, authorise, read];
    println!("place, worklist, perform, write, authorise, read: {measured:?}");
    // Place: the access check (record, relationship), the procedure, the encounter-free
    // duplicate look, the service, then one transaction (accession, order, timeline, audit).
    // Worklist: the lines, their patients and reports side by side, the read-audit commit.
    // Perform, write and authorise: the order and its access check, then one transaction.
    // Read: the order, the access check, procedure, report versions, images, names, audit.
    assert_eq!(measured, vec![11, 6, 10, 9, 10, 10], "{measured:?}");
});

db_test!(an_administrator_retires_and_reactivates_catalog_entries, |t| {
    let w = ward(&t).await;
    let admin = who(&t, "cat.admin", &[Role::Admin]).await;
    // Imaging: a retired procedure is neither offered nor orderable; reactivated, it is.
    let mri = procedure(&t, &w.doc, "MR-KNEE").await;
    let retire = format!("/api/v1/imaging/procedures/{mri}/retire");
    assert_eq!(send(&t, &w.doc, "POST", &retire, None, None).await.0, 403);
    assert_eq!(
        send(&t, &admin, "POST", &format!("/api/v1/imaging/procedures/{mri}/delete"), None, None).await.0,
        404
    );
    let unknown = uuid::Uuid::now_v7();
    assert_eq!(
        send(&t, &admin, "POST", &format!("/api/v1/imaging/procedures/{unknown}/retire"), None, None).await.0,
        404
    );
    let (status, p) = send(&t, &admin, "POST", &retire, None, None).await;
    assert_eq!((status, p["active"].as_bool()), (200, Some(false)), "{p}");
    assert_eq!(send(&t, &admin, "POST", &retire, None, None).await.0, 409, "already retired");
    let (_, list) = send(&t, &w.doc, "GET", "/api/v1/imaging/procedures", None, None).await;
    assert!(!list["items"].as_array().unwrap().iter().any(|i| i["id"] == mri.as_str()), "not offered");
    let body = json!({"procedure_id": mri, "laterality": "left", "clinical_question": "locking"});
    let path = format!("/api/v1/patients/{}/imaging-orders", w.patient);
    let (status, e) = send(&t, &w.doc, "POST", &path, Some(body.clone()), None).await;
    assert_eq!((status, fields(&e)), (422, vec!["procedure_id".to_owned()]), "{e}");
    let (status, _) =
        send(&t, &admin, "POST", &format!("/api/v1/imaging/procedures/{mri}/reactivate"), None, None).await;
    assert_eq!(status, 200);
    assert_eq!(send(&t, &w.doc, "POST", &path, Some(body), None).await.0, 201);

    // The laboratory's catalog the same way.
    let (_, tests) = send(&t, &w.doc, "GET", "/api/v1/lab/tests", None, None).await;
    let esr = tests["items"].as_array().unwrap().iter().find(|i| i["code"] == "ESR").unwrap()["id"].clone();
    let esr = esr.as_str().unwrap();
    assert_eq!(
        send(&t, &w.nurse, "POST", &format!("/api/v1/lab/tests/{esr}/retire"), None, None).await.0,
        403
    );
    let (status, r) = send(&t, &admin, "POST", &format!("/api/v1/lab/tests/{esr}/retire"), None, None).await;
    assert_eq!((status, r["active"].as_bool()), (200, Some(false)), "{r}");
    let lab = format!("/api/v1/patients/{}/lab-orders", w.patient);
    let (status, e) = send(&t, &w.doc, "POST", &lab, Some(json!({"test_ids": [esr]})), None).await;
    assert_eq!((status, fields(&e)), (422, vec!["test_ids".to_owned()]), "{e}");
    let (status, _) =
        send(&t, &admin, "POST", &format!("/api/v1/lab/tests/{esr}/reactivate"), None, None).await;
    assert_eq!(status, 200);
    assert_eq!(send(&t, &w.doc, "POST", &lab, Some(json!({"test_ids": [esr]})), None).await.0, 201);
    for action in [
        "lab.catalog_retire",
        "lab.catalog_reactivate",
        "imaging.catalog_retire",
        "imaging.catalog_reactivate",
    ] {
        assert!(
            !salus_db::audit::actions_of(t.app.db.reader(), action).await.unwrap().is_empty(),
            "{action}"
        );
    }
});
