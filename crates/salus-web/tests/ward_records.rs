//! The ward's records of a stay through the API, on SQLite and PostgreSQL: the discharge
//! summary drawn from the stay, edited under If-Match, signed once and never changed; the
//! nurses' notes per shift (corrected by a note, never edited), intake and output with the
//! balance leaving out what was entered in error, and nursing tasks — a done task tied to
//! a service charges it once, a cancelled one needs a reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ward::*;
use salus_core::Role;
use serde_json::{Value, json};

/// The first patient admitted into a one-bed ward, with a diagnosis on the stay.
async fn stay(t: &common::TestApp, w: &Ward) -> String {
    let bed = one_bed_ward(t, "wr.wards").await;
    let admin = who(t, "wr.admin", &[Role::Admin]).await;
    let service =
        json!({"code": "DRESS", "name": "Wound dressing", "category": "procedure", "price_minor": 35000});
    let (status, s) = send(t, &admin, "POST", "/api/v1/services", Some(service), None).await;
    assert_eq!(status, 201, "{s}");
    let me: Value = w.doc.client.get(t.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    let body = json!({"patient_id": w.patient, "bed_id": bed, "attending_id": me["id"], "diagnosis": "Cellulitis of the left leg"});
    let (status, a) = send(t, &w.desk, "POST", "/api/v1/admissions", Some(body), None).await;
    assert_eq!(status, 201, "{a}");
    a["id"].as_str().unwrap().to_owned()
}

db_test!(a_discharge_summary_is_drawn_edited_and_signed_once, |t| {
    let w = ward(&t).await;
    let a = stay(&t, &w).await;
    let path = format!("/api/v1/admissions/{a}/discharge-summary");
    let (status, none) = send(&t, &w.nurse, "GET", &path, None, None).await;
    assert_eq!((status, &none["summary"]), (200, &Value::Null), "{none}");
    let (status, _) = send(&t, &w.nurse, "POST", &path, None, None).await;
    assert_eq!(status, 403, "a doctor drafts it");
    let (status, draft) = send(&t, &w.doc, "POST", &path, None, None).await;
    assert_eq!(status, 201, "{draft}");
    assert!(
        draft["diagnoses"].as_str().unwrap().contains("Cellulitis of the left leg"),
        "drawn from the stay: {draft}"
    );
    assert_eq!(draft["status"], "draft");
    let (status, _) = send(&t, &w.doc, "POST", &path, None, None).await;
    assert_eq!(status, 409, "one summary per stay");
    let v = draft["version"].as_i64().unwrap();

    // Signing needs instructions; editing needs the version seen.
    let sign = format!("{path}/sign");
    let (status, e) = send(&t, &w.doc, "POST", &sign, None, Some(v)).await;
    assert_eq!((status, fields(&e)), (422, vec!["instructions".to_owned()]), "{e}");
    let text = json!({"diagnoses": "Cellulitis of the left leg", "instructions": "Keep the leg raised; dressing every two days",
        "follow_up": "Surgical clinic in one week", "medicines": "Amoxicillin 500 mg three times a day for 5 days"});
    let (status, _) = send(&t, &w.doc, "PUT", &path, Some(text.clone()), None).await;
    assert_eq!(status, 428);
    let (status, _) = send(&t, &w.nurse, "PUT", &path, Some(text.clone()), Some(v)).await;
    assert_eq!(status, 403);
    let (status, saved) = send(&t, &w.doc, "PUT", &path, Some(text.clone()), Some(v)).await;
    assert_eq!(status, 200, "{saved}");
    let (status, _) = send(&t, &w.doc, "PUT", &path, Some(text.clone()), Some(v)).await;
    assert_eq!(status, 409, "the version seen is gone");
    let v = saved["version"].as_i64().unwrap();
    let (status, signed) = send(&t, &w.doc, "POST", &sign, None, Some(v)).await;
    assert_eq!((status, signed["status"].as_str()), (200, Some("signed")), "{signed}");
    let (status, _) =
        send(&t, &w.doc, "PUT", &path, Some(text), Some(signed["version"].as_i64().unwrap())).await;
    assert_eq!(status, 409, "a signed summary never changes");
    let (_, view) = send(&t, &w.nurse, "GET", &path, None, None).await;
    assert_eq!(view["summary"]["follow_up"], "Surgical clinic in one week");
    let (status, _) = send(
        &t,
        &w.doc,
        "GET",
        &format!("/api/v1/admissions/{}/discharge-summary", uuid::Uuid::now_v7()),
        None,
        None,
    )
    .await;
    assert_eq!(status, 404);
});

db_test!(nurses_notes_fluids_and_tasks_keep_what_was_written, |t| {
    let w = ward(&t).await;
    let a = stay(&t, &w).await;
    let nursing = format!("/api/v1/admissions/{a}/nursing");

    // Notes: a nurse's, never empty; a correction names the note it corrects.
    let notes = format!("/api/v1/admissions/{a}/nursing-notes");
    let (status, e) = send(&t, &w.nurse, "POST", &notes, Some(json!({"body": " "})), None).await;
    assert_eq!((status, fields(&e)), (422, vec!["body".to_owned()]), "{e}");
    let (status, _) = send(&t, &w.desk, "POST", &notes, Some(json!({"body": "Comfortable"})), None).await;
    assert_eq!(status, 403);
    let (status, first) =
        send(&t, &w.nurse, "POST", &notes, Some(json!({"body": "Slept well; leg less red"})), None).await;
    assert_eq!(status, 201, "{first}");
    let body = json!({"body": "Correction: the right leg", "amends_id": first["id"]});
    let (status, second) = send(&t, &w.nurse, "POST", &notes, Some(body), None).await;
    assert_eq!((status, &second["amends_id"]), (201, &first["id"]), "{second}");
    let body = json!({"body": "Wrong", "amends_id": uuid::Uuid::now_v7()});
    let (status, _) = send(&t, &w.nurse, "POST", &notes, Some(body), None).await;
    assert_eq!(status, 422, "a note of this stay");

    // Intake and output: a route of the direction, a sane volume; one entered in error
    // is kept and not counted.
    let io = format!("/api/v1/admissions/{a}/intake-output");
    let (status, e) = send(
        &t,
        &w.nurse,
        "POST",
        &io,
        Some(json!({"direction": "intake", "route": "urine", "volume_ml": 0})),
        None,
    )
    .await;
    assert_eq!((status, fields(&e)), (422, vec!["route".to_owned(), "volume_ml".to_owned()]), "{e}");
    for (d, r, ml) in
        [("intake", "oral", 500), ("intake", "iv", 1000), ("output", "urine", 600), ("output", "urine", 900)]
    {
        let (status, x) =
            send(&t, &w.nurse, "POST", &io, Some(json!({"direction": d, "route": r, "volume_ml": ml})), None)
                .await;
        assert_eq!(status, 201, "{x}");
    }
    let (_, rec) = send(&t, &w.doc, "GET", &nursing, None, None).await;
    assert_eq!(
        (rec["intake_24h_ml"].as_i64(), rec["output_24h_ml"].as_i64()),
        (Some(1500), Some(1500)),
        "{rec}"
    );
    let wrong =
        rec["intake_output"].as_array().unwrap().iter().find(|e| e["volume_ml"] == 900).unwrap()["id"]
            .clone();
    let err = format!("/api/v1/intake-output/{}/entered-in-error", wrong.as_str().unwrap());
    let (status, _) = send(&t, &w.nurse, "POST", &err, Some(json!({"reason": " "})), None).await;
    assert_eq!(status, 422);
    let (status, _) =
        send(&t, &w.nurse, "POST", &err, Some(json!({"reason": "Another patient's bag"})), None).await;
    assert_eq!(status, 200);
    let (status, _) = send(&t, &w.nurse, "POST", &err, Some(json!({"reason": "Again"})), None).await;
    assert_eq!(status, 409);
    let (_, rec) = send(&t, &w.doc, "GET", &nursing, None, None).await;
    assert_eq!(
        (rec["balance_24h_ml"].as_i64(), rec["intake_output"].as_array().unwrap().len()),
        (Some(900), 4),
        "{rec}"
    );
    assert_eq!(rec["notes"].as_array().unwrap().len(), 2);

    // Tasks: a service of the price list charges once when done; cancelling needs a reason.
    let tasks = format!("/api/v1/admissions/{a}/nursing-tasks");
    let (status, e) = send(
        &t,
        &w.nurse,
        "POST",
        &tasks,
        Some(json!({"description": "Dressing", "service_code": "NOPE"})),
        None,
    )
    .await;
    assert_eq!((status, fields(&e)), (422, vec!["service_code".to_owned()]), "{e}");
    let (status, dress) = send(
        &t,
        &w.nurse,
        "POST",
        &tasks,
        Some(json!({"description": "Dress the leg wound", "service_code": "dress"})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{dress}");
    let (status, turn) =
        send(&t, &w.nurse, "POST", &tasks, Some(json!({"description": "Turn two-hourly"})), None).await;
    assert_eq!(status, 201, "{turn}");
    let done = format!("/api/v1/nursing-tasks/{}/done", dress["id"].as_str().unwrap());
    let (status, d) =
        send(&t, &w.nurse, "POST", &done, Some(json!({"outcome": "Clean, granulating"})), None).await;
    assert_eq!((status, d["status"].as_str()), (200, Some("done")), "{d}");
    let (status, _) = send(&t, &w.nurse, "POST", &done, Some(json!({})), None).await;
    assert_eq!(status, 409, "done once");
    let cancel = format!("/api/v1/nursing-tasks/{}/cancel", turn["id"].as_str().unwrap());
    let (status, _) = send(&t, &w.nurse, "POST", &cancel, Some(json!({})), None).await;
    assert_eq!(status, 422);
    let (status, _) =
        send(&t, &w.nurse, "POST", &cancel, Some(json!({"outcome": "Walking now"})), None).await;
    assert_eq!(status, 200);
    let charges = salus_db::charges::charges_of(t.app.db.reader(), w.patient.parse().unwrap()).await.unwrap();
    let dressing: Vec<_> = charges.iter().filter(|c| c.service_code == "DRESS").collect();
    assert_eq!(dressing.len(), 1, "one charge for the one dressing: {charges:?}");
    assert_eq!((dressing[0].source_type.as_str(), dressing[0].unit_price_minor), ("nursing_task", 35000));

    // The patient leaves: the ward's record of the stay is closed.
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
    let (status, _) = send(&t, &w.nurse, "POST", &notes, Some(json!({"body": "Late note"})), None).await;
    assert_eq!(status, 409);
});

db_test!(the_summary_and_the_nursing_record_through_the_pages, |t| {
    let w = ward(&t).await;
    let a = stay(&t, &w).await;
    let summary = format!("/admissions/{a}/summary");
    assert!(html(&t, &w.doc, &summary).await.contains("Draft from the stay"));
    assert!(!html(&t, &w.nurse, &summary).await.contains("Draft from the stay"), "a doctor's to draft");
    assert_eq!(post_form(&t, &w.nurse, &summary, &[("action", "draft")]).await.status(), 403);
    assert!(html(&t, &w.nurse, &summary).await.contains("No summary yet"), "the nurse's draft was refused");
    assert_eq!(post_form(&t, &w.doc, &summary, &[("action", "draft")]).await.status(), 303);
    let page = html(&t, &w.doc, &summary).await;
    assert!(
        page.contains("Cellulitis of the left leg") && page.contains("name=\"version\" value=\"1\""),
        "{page}"
    );
    let sign = [("action", "sign"), ("version", "1"), ("diagnoses", "Cellulitis"), ("instructions", " ")];
    assert_eq!(post_form(&t, &w.doc, &summary, &sign).await.status(), 303);
    let page = html(&t, &w.doc, &summary).await;
    assert!(page.contains("Not saved: instructions"), "the refusal is said: {page}");
    let version = if page.contains("name=\"version\" value=\"2\"") { "2" } else { "1" };
    let sign = [
        ("action", "sign"),
        ("version", version),
        ("diagnoses", "Cellulitis"),
        ("instructions", "Rest the leg"),
    ];
    assert_eq!(post_form(&t, &w.doc, &summary, &sign).await.status(), 303);
    let printed = html(&t, &w.nurse, &summary).await;
    assert!(printed.contains("Signed by Test cl.doc") && printed.contains("Rest the leg"), "{printed}");

    let nursing = format!("/admissions/{a}/nursing");
    let res = post_form(
        &t,
        &w.nurse,
        &nursing,
        &[("form", "io"), ("direction", "output"), ("route", "urine"), ("volume_ml", "0")],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert!(html(&t, &w.nurse, &nursing).await.contains("Not saved: volume ml"), "said on the page");
    let res =
        post_form(&t, &w.nurse, &nursing, &[("form", "note"), ("body", "Comfortable, eating well")]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(post_form(&t, &w.desk, &nursing, &[("form", "note"), ("body", "x")]).await.status(), 403);
    let page = html(&t, &w.doc, &nursing).await;
    assert_eq!(page.matches("Comfortable, eating well").count(), 1, "{page}");
    assert!(!page.contains(">x<"), "the desk's note was refused");
});
