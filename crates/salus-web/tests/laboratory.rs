//! The laboratory through the API, on SQLite and PostgreSQL: a doctor's order reaches the
//! lab, comes back as a verified result read against the patient's own reference range,
//! and a critical value reaches a doctor who acknowledges it — with the failures other
//! systems have shipped (adult ranges for newborns, results on no order, self-verified
//! results, a typing slip recorded as a value) shown not to happen here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ward::*;
use salus_core::Role;
use serde_json::{Value, json};

/// The catalog entry `code`'s id.
async fn test_id(t: &common::TestApp, w: &Who, code: &str) -> String {
    let (status, list) = send(t, w, "GET", "/api/v1/lab/tests", None, None).await;
    assert_eq!(status, 200, "{list}");
    let item = list["items"].as_array().unwrap().iter().find(|i| i["code"] == code);
    item.unwrap_or_else(|| panic!("no test {code}"))["id"].as_str().unwrap().to_owned()
}

/// The analyte `code` of an order detail.
fn analyte<'a>(detail: &'a Value, code: &str) -> &'a Value {
    detail["analytes"].as_array().unwrap().iter().find(|a| a["test"]["code"] == code).unwrap()
}

async fn price(t: &common::TestApp, code: &str, rupees: &str) {
    use salus_app::organisation::{Amount, Percent, ServiceInput};
    let input = ServiceInput {
        code: code.into(),
        name: format!("Lab {code}"),
        category: "laboratory".into(),
        department_id: None,
        price: Amount::Typed(rupees.into()),
        tax_rate: Percent::Typed("0".into()),
        active: true,
    };
    t.app.organisation().create_service(&salus_app::Ctx::operator(), input).await.unwrap();
}

/// Orders `codes` for `patient` as the ward's doctor; the order lines.
async fn order(t: &common::TestApp, w: &Ward, patient: &str, codes: &[&str], extra: Value) -> Vec<Value> {
    let mut ids = Vec::new();
    for c in codes {
        ids.push(test_id(t, &w.doc, c).await);
    }
    let mut body =
        json!({"test_ids": ids, "priority": "urgent", "clinical_info": "Breathless, on furosemide"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, rows) =
        send(t, &w.doc, "POST", &format!("/api/v1/patients/{patient}/lab-orders"), Some(body), None).await;
    assert_eq!(status, 201, "{rows}");
    rows.as_array().unwrap().clone()
}

/// Collected and received: the specimens.
async fn collect_and_receive(
    t: &common::TestApp,
    w: &Ward,
    tech: &Who,
    patient: &str,
    orders: &[&Value],
) -> Vec<Value> {
    let ids: Vec<&Value> = orders.iter().map(|o| &o["id"]).collect();
    let (status, specimens) = send(
        t,
        &w.nurse,
        "POST",
        &format!("/api/v1/patients/{patient}/lab-specimens"),
        Some(json!({"order_ids": ids})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{specimens}");
    for s in specimens.as_array().unwrap() {
        let (status, r) = send(
            t,
            tech,
            "POST",
            &format!("/api/v1/lab/specimens/{}/receive", s["id"].as_str().unwrap()),
            None,
            None,
        )
        .await;
        assert_eq!(status, 200, "{r}");
    }
    specimens.as_array().unwrap().clone()
}

fn values(pairs: &[(&str, &str)], detail: &Value) -> Value {
    let results: Vec<Value> = pairs
        .iter()
        .map(|(code, v)| json!({"test_id": analyte(detail, code)["test"]["id"], "value": v}))
        .collect();
    json!({ "results": results })
}

db_test!(an_order_comes_back_verified_by_a_second_person_with_a_critical_value_acknowledged, |t| {
    let w = ward(&t).await;
    let tech = who(&t, "lab.tech", &[Role::LabTechnician]).await;
    let tech2 = who(&t, "lab.tech2", &[Role::LabTechnician]).await;
    price(&t, "LAB-RFT", "650").await;
    let p = w.patient.clone();

    // Who may order, and bad orders writing nothing.
    let renal = test_id(&t, &w.doc, "RENAL").await;
    let path = format!("/api/v1/patients/{p}/lab-orders");
    assert_eq!(send(&t, &w.desk, "POST", &path, Some(json!({"test_ids": [renal]})), None).await.0, 403);
    assert_eq!(send(&t, &tech, "POST", &path, Some(json!({"test_ids": [renal]})), None).await.0, 403);
    let (status, e) = send(&t, &w.doc, "POST", &path, Some(json!({"test_ids": []})), None).await;
    assert_eq!((status, fields(&e)), (422, vec!["test_ids".to_owned()]), "{e}");
    let unknown = uuid::Uuid::now_v7();
    let (status, e) = send(&t, &w.doc, "POST", &path, Some(json!({"test_ids": [unknown]})), None).await;
    assert_eq!(status, 422, "{e}");
    // eGFR is calculated from creatinine, never ordered (nor typed) on its own.
    let egfr = test_id(&t, &w.doc, "EGFR").await;
    let (status, e) = send(&t, &w.doc, "POST", &path, Some(json!({"test_ids": [egfr]})), None).await;
    assert_eq!(status, 422, "{e}");
    assert!(e["errors"][0]["message"].as_str().unwrap().contains("is calculated"), "{e}");
    let (status, _) = send(
        &t,
        &w.doc,
        "POST",
        &format!("/api/v1/patients/{unknown}/lab-orders"),
        Some(json!({"test_ids": [renal]})),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (_, none) = send(&t, &w.doc, "GET", &path, None, None).await;
    assert!(none["items"].as_array().unwrap().is_empty(), "nothing was ordered: {none}");

    let orders = order(&t, &w, &p, &["RENAL"], json!({})).await;
    assert_eq!(orders[0]["status"], "ordered");
    assert!(orders[0]["service_id"].is_string(), "the panel is billed as LAB-RFT");
    // The same panel again within the window: a warning to confirm with a reason.
    let (status, warn) = send(&t, &w.doc, "POST", &path, Some(json!({"test_ids": [renal]})), None).await;
    assert_eq!(status, 409, "{warn}");
    assert!(warn["warnings"][0].as_str().unwrap().contains("already ordered"), "{warn}");

    // Results before the lab has the specimen: refused.
    let oid = orders[0]["id"].as_str().unwrap().to_owned();
    let (_, detail) = send(&t, &tech, "GET", &format!("/api/v1/lab/orders/{oid}"), None, None).await;
    let results_path = format!("/api/v1/lab/orders/{oid}/results");
    let (status, _) =
        send(&t, &tech, "POST", &results_path, Some(values(&[("K", "4.0")], &detail)), None).await;
    assert_eq!(status, 409);

    // Collection under another patient's record finds no such order.
    let (status, _) = send(
        &t,
        &w.nurse,
        "POST",
        &format!("/api/v1/patients/{}/lab-specimens", w.other_patient),
        Some(json!({"order_ids": [oid]})),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let specimens = collect_and_receive(&t, &w, &tech, &p, &[&orders[0]]).await;
    assert!(specimens[0]["accession"].as_str().unwrap().ends_with("-000001"), "{specimens:?}");

    // A typing slip is refused naming the analyte, and nothing is written.
    let (status, e) =
        send(&t, &tech, "POST", &results_path, Some(values(&[("K", "45"), ("NA", "140")], &detail)), None)
            .await;
    assert_eq!(status, 422, "{e}");
    assert!(e["errors"][0]["message"].as_str().unwrap().starts_with("K: 45 is not a possible value"), "{e}");
    let (_, d) = send(&t, &tech, "GET", &format!("/api/v1/lab/orders/{oid}"), None, None).await;
    assert!(d["analytes"].as_array().unwrap().iter().all(|a| a["result"].is_null()), "{d}");

    // Entered: flags from the adult range, eGFR computed (a 56-year-old man, creatinine 1.0).
    let typed = [
        ("UREA", "30"),
        ("CREAT", "1.0"),
        ("NA", "140"),
        ("K", "6.8"),
        ("CL", "100"),
        ("HCO3", "24"),
        ("URIC", "5.0"),
    ];
    let (status, d) = send(&t, &tech, "POST", &results_path, Some(values(&typed, &detail)), None).await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["order"]["status"], "resulted");
    let k = &analyte(&d, "K")["result"];
    assert_eq!(
        (k["flag"].as_str(), k["range_text"].as_str(), k["status"].as_str()),
        (Some("HH"), Some("3.5–5.1"), Some("preliminary"))
    );
    let egfr = &analyte(&d, "EGFR")["result"];
    let age = salus_core::laboratory::age_in_days(
        chrono::NaiveDate::from_ymd_opt(1970, 2, 2).unwrap(),
        chrono::Utc::now(),
    );
    let want = salus_core::laboratory::egfr_ckd_epi_2021(1.0, salus_core::patients::Sex::Male, age).unwrap();
    assert_eq!((egfr["value_num"].as_f64(), egfr["calculated"].as_bool()), (Some(want), Some(true)));
    // eGFR is computed, never typed.
    let (status, _) =
        send(&t, &tech, "POST", &results_path, Some(values(&[("EGFR", "90")], &detail)), None).await;
    assert_eq!(status, 422);
    // The same values again change nothing.
    let (status, again) = send(&t, &tech, "POST", &results_path, Some(values(&typed, &detail)), None).await;
    assert_eq!(status, 200);
    assert_eq!(analyte(&again, "K")["result"]["id"], k["id"], "the same result twice is one result");

    // Not yet released: the doctor's chart shows none.
    let (_, chart) = send(&t, &w.doc, "GET", &format!("/api/v1/patients/{p}/lab-results"), None, None).await;
    assert!(chart["items"].as_array().unwrap().is_empty(), "{chart}");
    // The database itself refuses an author as the verifier, whatever the code above it.
    {
        let txn = t.app.db.begin_write().await.unwrap();
        let author: uuid::Uuid = k["entered_by"].as_str().unwrap().parse().unwrap();
        let refused =
            salus_db::laboratory::verify_results(&txn, &[oid.parse().unwrap()], author, chrono::Utc::now())
                .await;
        assert!(refused.is_err(), "the CHECK refuses the author as verifier");
    }
    // Verifying one's own results is refused; a second person releases them.
    let verify = format!("/api/v1/lab/orders/{oid}/verify");
    let (status, e) = send(&t, &tech, "POST", &verify, None, None).await;
    assert_eq!(status, 409, "{e}");
    assert_eq!(send(&t, &w.doc, "POST", &verify, None, None).await.0, 403, "doctors do not verify");
    let (status, v) = send(&t, &tech2, "POST", &verify, None, None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["order"]["status"].as_str(), analyte(&v, "K")["result"]["status"].as_str()),
        (Some("verified"), Some("final"))
    );
    let (_, chart) = send(&t, &w.doc, "GET", &format!("/api/v1/patients/{p}/lab-results"), None, None).await;
    assert_eq!(chart["items"].as_array().unwrap().len(), 8, "seven typed and eGFR: {chart}");

    // The critical potassium is the ordering doctor's task until read back.
    let (_, inbox) = send(&t, &w.doc, "GET", "/api/v1/lab/inbox", None, None).await;
    let alerts = inbox["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{inbox}");
    assert!(alerts[0]["summary"].as_str().unwrap().starts_with("Potassium 6.8 mmol/L (HH)"), "{inbox}");
    let (_, other_inbox) = send(&t, &w.doc2, "GET", "/api/v1/lab/inbox", None, None).await;
    assert!(other_inbox["alerts"].as_array().unwrap().is_empty(), "not escalated yet");
    let ack = format!("/api/v1/lab/alerts/{}/acknowledge", alerts[0]["id"].as_str().unwrap());
    let (status, e) = send(&t, &w.doc, "POST", &ack, Some(json!({"read_back": "  "})), None).await;
    assert_eq!((status, fields(&e)), (422, vec!["read_back".to_owned()]));
    assert_eq!(send(&t, &tech, "POST", &ack, Some(json!({"read_back": "K 6.8"})), None).await.0, 403);
    let (status, a) = send(&t, &w.doc, "POST", &ack, Some(json!({"read_back": "potassium 6.8"})), None).await;
    assert_eq!(status, 200, "{a}");
    assert!(a["minutes_to_acknowledge"].as_f64().unwrap() >= 0.0);
    assert_eq!(send(&t, &w.doc, "POST", &ack, Some(json!({"read_back": "again"})), None).await.0, 409);

    // Collecting made one unbilled charge for the order line.
    let charges = salus_db::charges::charges_of(t.app.db.reader(), p.parse().unwrap()).await.unwrap();
    assert_eq!(
        (charges.len(), charges[0].unit_price_minor, charges[0].status.as_str()),
        (1, 65_000, "unbilled")
    );

    // A correction after release: a reason, a new revision, verified again, "corrected".
    let (status, _) =
        send(&t, &tech, "POST", &results_path, Some(values(&[("K", "5.0")], &detail)), None).await;
    assert_eq!(status, 409, "released results are corrected only with a reason");
    let mut body = values(&[("K", "5.0")], &detail);
    body["amend_reason"] = json!("Haemolysed sample reported in error; repeat on fresh draw");
    let (status, d) = send(&t, &tech, "POST", &results_path, Some(body), None).await;
    assert_eq!(status, 200, "{d}");
    let (status, d) = send(&t, &tech2, "POST", &verify, None, None).await;
    assert_eq!(status, 200, "{d}");
    let k2 = &analyte(&d, "K")["result"];
    assert_eq!(
        (k2["status"].as_str(), k2["revision"].as_i64(), k2["flag"].as_str()),
        (Some("corrected"), Some(2), None)
    );
    let (_, revs) = send(
        &t,
        &w.doc,
        "GET",
        &format!("/api/v1/lab/results/{}/revisions", k2["id"].as_str().unwrap()),
        None,
        None,
    )
    .await;
    let revs = revs["items"].as_array().unwrap();
    assert_eq!(revs.len(), 2);
    assert_eq!(
        (revs[1]["value"].as_str(), revs[1]["superseded_at"].is_string()),
        (Some("6.8"), true),
        "the old value stays readable"
    );

    // Reads and writes are in the audit trail.
    for action in [
        "lab.order",
        "lab.collect",
        "lab.receive",
        "lab.result.enter",
        "lab.verify",
        "lab.critical.acknowledge",
        "lab.result.amend",
    ] {
        let events = salus_db::audit::actions_of(t.app.db.reader(), action).await.unwrap();
        assert!(!events.is_empty(), "{action} is audited");
    }
});

/// Registers a patient born `days` ago with `sex`; their id.
async fn newborn(t: &common::TestApp, w: &Ward, given: &str, sex: &str, days: i64) -> String {
    let born = (chrono::Utc::now() - chrono::Duration::days(days)).date_naive();
    let body = json!({"given_names": given, "family_name": "Baby", "sex": sex, "birth_date": born.to_string(), "not_a_duplicate": true});
    let (status, p) = send(t, &w.desk, "POST", "/api/v1/patients", Some(body), None).await;
    assert_eq!(status, 201, "{p}");
    p["id"].as_str().unwrap().to_owned()
}

db_test!(a_newborn_gets_the_neonatal_range_and_a_rejected_specimen_is_collected_again, |t| {
    let w = ward(&t).await;
    let tech = who(&t, "lab.tech", &[Role::LabTechnician]).await;
    // Three days old, sex unknown: the neonatal band for any sex, never the adult one.
    let baby = newborn(&t, &w, "Infant", "unknown", 3).await;
    let orders = order(&t, &w, &baby, &["CBC"], json!({"priority": "stat"})).await;
    let oid = orders[0]["id"].as_str().unwrap().to_owned();
    let first = collect_and_receive(&t, &w, &tech, &baby, &[&orders[0]]).await;

    // Haemolysed: rejected with a reason; the order waits for a new collection.
    let sid = first[0]["id"].as_str().unwrap();
    let reject = format!("/api/v1/lab/specimens/{sid}/reject");
    let (status, e) = send(&t, &tech, "POST", &reject, Some(json!({"reason": "spilt"})), None).await;
    assert_eq!(status, 422, "an unknown reason: {e}");
    assert_eq!(send(&t, &w.doc, "POST", &reject, Some(json!({"reason": "haemolysed"})), None).await.0, 403);
    let (status, r) =
        send(&t, &tech, "POST", &reject, Some(json!({"reason": "haemolysed", "note": "pink serum"})), None)
            .await;
    assert_eq!((status, r["status"].as_str()), (200, Some("rejected")), "{r}");
    assert_eq!(send(&t, &tech, "POST", &reject, Some(json!({"reason": "clotted"})), None).await.0, 409);
    let (_, d) = send(&t, &tech, "GET", &format!("/api/v1/lab/orders/{oid}"), None, None).await;
    assert_eq!((d["order"]["status"].as_str(), d["order"]["specimen_id"].is_null()), (Some("ordered"), true));
    let second = collect_and_receive(&t, &w, &tech, &baby, &[&orders[0]]).await;
    let numbers: Vec<&str> =
        [&first[0], &second[0]].iter().map(|s| s["accession"].as_str().unwrap()).collect();
    assert!(numbers[0].ends_with("-000001") && numbers[1].ends_with("-000002"), "gapless: {numbers:?}");
    // A reprint reads the stored number and uses none.
    let (_, label) = send(
        &t,
        &w.nurse,
        "GET",
        &format!("/api/v1/lab/specimens/{}", second[0]["id"].as_str().unwrap()),
        None,
        None,
    )
    .await;
    assert_eq!(label["specimen"]["accession"], second[0]["accession"]);

    // Hb 15 is normal for a neonate (adult female or male would still be normal or high,
    // but 13 is low only for the newborn: 13.5–21.5 at three days).
    let (_, detail) = send(&t, &tech, "GET", &format!("/api/v1/lab/orders/{oid}"), None, None).await;
    assert_eq!(analyte(&detail, "HB")["range_text"], "13.5–21.5");
    let (status, d) = send(
        &t,
        &tech,
        "POST",
        &format!("/api/v1/lab/orders/{oid}/results"),
        Some(values(&[("HB", "13.0"), ("WBC", "18")], &detail)),
        None,
    )
    .await;
    assert_eq!(status, 200, "{d}");
    let hb = &analyte(&d, "HB")["result"];
    assert_eq!((hb["flag"].as_str(), hb["ref_low"].as_f64()), (Some("L"), Some(13.5)), "{hb}");
    // Incomplete: verification names what is missing.
    let tech2 = who(&t, "lab.tech2", &[Role::LabTechnician]).await;
    let (status, e) = send(&t, &tech2, "POST", &format!("/api/v1/lab/orders/{oid}/verify"), None, None).await;
    assert_eq!(status, 409);
    assert!(e["detail"].as_str().unwrap().contains("Platelet count"), "{e}");
});

db_test!(a_cancelled_order_takes_no_result_and_leaves_no_charge, |t| {
    let w = ward(&t).await;
    let tech = who(&t, "lab.tech", &[Role::LabTechnician]).await;
    price(&t, "LAB-LIPID", "650").await;
    let orders = order(&t, &w, &w.patient, &["LIPID"], json!({})).await;
    let oid = orders[0]["id"].as_str().unwrap().to_owned();
    collect_and_receive(&t, &w, &tech, &w.patient, &[&orders[0]]).await;
    let patient: uuid::Uuid = w.patient.parse().unwrap();
    assert_eq!(salus_db::charges::charges_of(t.app.db.reader(), patient).await.unwrap().len(), 1);
    let cancel = format!("/api/v1/lab/orders/{oid}/cancel");
    assert_eq!(send(&t, &w.desk, "POST", &cancel, Some(json!({"reason": "x"})), None).await.0, 403);
    let (status, e) = send(&t, &w.doc, "POST", &cancel, Some(json!({"reason": ""})), None).await;
    assert_eq!((status, fields(&e)), (422, vec!["reason".to_owned()]));
    let (status, c) =
        send(&t, &w.doc, "POST", &cancel, Some(json!({"reason": "Patient left against advice"})), None).await;
    assert_eq!((status, c["status"].as_str()), (200, Some("cancelled")), "{c}");
    assert!(
        salus_db::charges::charges_of(t.app.db.reader(), patient).await.unwrap().is_empty(),
        "no charge stays"
    );
    let (_, detail) = send(&t, &tech, "GET", &format!("/api/v1/lab/orders/{oid}"), None, None).await;
    let (status, e) = send(
        &t,
        &tech,
        "POST",
        &format!("/api/v1/lab/orders/{oid}/results"),
        Some(values(&[("CHOL", "200")], &detail)),
        None,
    )
    .await;
    assert_eq!(status, 409, "{e}");
    assert_eq!(send(&t, &w.doc, "POST", &cancel, Some(json!({"reason": "again"})), None).await.0, 409);
    // The worklist no longer shows it; the lab only sees the worklist.
    let (_, list) = send(&t, &tech, "GET", "/api/v1/lab/worklist", None, None).await;
    assert!(list["items"].as_array().unwrap().is_empty(), "{list}");
    assert_eq!(send(&t, &w.doc, "GET", "/api/v1/lab/worklist", None, None).await.0, 403);
    assert_eq!(send(&t, &tech, "GET", "/api/v1/lab/worklist?status=sideways", None, None).await.0, 400);
});

db_test!(a_critical_result_nobody_acknowledges_escalates_and_patients_see_only_released_results, |t| {
    let w = ward(&t).await;
    let tech = who(&t, "lab.tech", &[Role::LabTechnician]).await;
    let tech2 = who(&t, "lab.tech2", &[Role::LabTechnician]).await;
    let me = patient_account(&t, &w).await;
    let orders = order(&t, &w, &w.patient, &["GLU-R"], json!({})).await;
    let oid = orders[0]["id"].as_str().unwrap().to_owned();
    collect_and_receive(&t, &w, &tech, &w.patient, &[&orders[0]]).await;
    let (_, detail) = send(&t, &tech, "GET", &format!("/api/v1/lab/orders/{oid}"), None, None).await;
    send(
        &t,
        &tech,
        "POST",
        &format!("/api/v1/lab/orders/{oid}/results"),
        Some(values(&[("GLU-R", "32")], &detail)),
        None,
    )
    .await;
    // Not released: the patient sees neither the order nor the result.
    let mine = format!("/api/v1/patients/{}/lab-results", w.patient);
    let (status, r) = send(&t, &me, "GET", &mine, None, None).await;
    assert_eq!(status, 200, "{r}");
    assert!(r["items"].as_array().unwrap().is_empty());
    assert_eq!(send(&t, &me, "GET", &format!("/api/v1/lab/orders/{oid}"), None, None).await.0, 404);
    assert_eq!(
        send(&t, &me, "GET", &format!("/api/v1/patients/{}/lab-results", w.other_patient), None, None)
            .await
            .0,
        404,
        "another patient's record is not there for a patient"
    );
    let (status, v) = send(&t, &tech2, "POST", &format!("/api/v1/lab/orders/{oid}/verify"), None, None).await;
    assert_eq!(status, 200, "{v}");
    let (_, r) = send(&t, &me, "GET", &mine, None, None).await;
    assert_eq!(r["items"][0]["flag"], "LL", "{r}");

    // Nobody acknowledges: when its time comes, every doctor sees it.
    let op = salus_app::Ctx::operator();
    let jobs =
        salus_db::jobs::by_status(t.app.db.reader(), salus_core::jobs::JobStatus::Queued, 100).await.unwrap();
    let job = jobs.iter().find(|j| j.kind == "lab.escalate").expect("an escalation job");
    t.app.jobs().run_job_now(&op, job.id).await.unwrap();
    t.app.jobs().run_due_jobs("test", 10).await.unwrap();
    let (_, inbox) = send(&t, &w.doc2, "GET", "/api/v1/lab/inbox", None, None).await;
    let alerts = inbox["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "escalated to every doctor: {inbox}");
    assert!(alerts[0]["escalated_at"].is_string());
    let (status, _) = send(
        &t,
        &w.doc2,
        "POST",
        &format!("/api/v1/lab/alerts/{}/acknowledge", alerts[0]["id"].as_str().unwrap()),
        Some(json!({"read_back": "glucose 32"})),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, report) = send(&t, &tech, "GET", "/api/v1/lab/critical-alerts", None, None).await;
    assert!(report["items"][0]["minutes_to_acknowledge"].is_number(), "{report}");
    assert_eq!(send(&t, &w.desk, "GET", "/api/v1/lab/critical-alerts", None, None).await.0, 403);
    assert!(
        !salus_db::audit::actions_of(t.app.db.reader(), "lab.critical.escalate").await.unwrap().is_empty()
    );
});

/// The statements one request runs.
async fn measure(t: &common::TestApp, who: &Who, method: &str, path: String, body: Option<Value>) -> u64 {
    let before = t.app.db.statements();
    let (status, out) = send(t, who, method, &path, body, None).await;
    assert!(status < 300, "{method} {path}: {status} {out}");
    t.app.db.statements() - before
}

db_test!(the_lab_keeps_its_statement_budgets, |t| {
    let w = ward(&t).await;
    let tech = who(&t, "lab.tech", &[Role::LabTechnician]).await;
    let tech2 = who(&t, "lab.tech2", &[Role::LabTechnician]).await;
    // The worklist costs the same for one line as for several (no statement per line).
    let first = order(&t, &w, &w.patient, &["RENAL"], json!({})).await;
    let one = measure(&t, &tech, "GET", "/api/v1/lab/worklist".into(), None).await;
    order(&t, &w, &w.other_patient, &["CBC", "LIPID"], json!({})).await;
    let three = measure(&t, &tech, "GET", "/api/v1/lab/worklist".into(), None).await;
    assert_eq!(one, three, "the worklist's statements do not grow with its lines");

    let oid = first[0]["id"].as_str().unwrap().to_owned();
    collect_and_receive(&t, &w, &tech, &w.patient, &[&first[0]]).await;
    let detail_n = measure(&t, &tech, "GET", format!("/api/v1/lab/orders/{oid}"), None).await;
    let (_, detail) = send(&t, &tech, "GET", &format!("/api/v1/lab/orders/{oid}"), None, None).await;
    let typed = [
        ("UREA", "30"),
        ("CREAT", "1.0"),
        ("NA", "140"),
        ("K", "4.1"),
        ("CL", "100"),
        ("HCO3", "24"),
        ("URIC", "5.0"),
    ];
    let enter = measure(
        &t,
        &tech,
        "POST",
        format!("/api/v1/lab/orders/{oid}/results"),
        Some(values(&typed, &detail)),
    )
    .await;
    let verify = measure(&t, &tech2, "POST", format!("/api/v1/lab/orders/{oid}/verify"), None).await;
    let results =
        measure(&t, &w.doc, "GET", format!("/api/v1/patients/{}/lab-results", w.patient), None).await;
    let measured = vec![one, detail_n, enter, verify, results];
    println!("worklist, order, enter, verify, results: {measured:?}");
    // The same on both databases. Worklist: the look, the lines, their patients, tests and
    // specimens side by side, the read-audit commit. An order: the line, the access check
    // (record, relationship), the test, its panel members and their ranges, results and
    // specimen, the audit commit. Entry and verification read the same and the previous
    // results, then write in one transaction (results, order status, audit; verification
    // adds the critical alert, its escalation job and the timeline) and read the order back.
    assert_eq!(measured, vec![6, 12, 22, 20, 6], "{measured:?}");
});

db_test!(the_worklist_pages_stat_first_and_refuses_a_bad_page, |t| {
    let w = ward(&t).await;
    let tech = who(&t, "lab.tech", &[Role::LabTechnician]).await;
    let routine = order(&t, &w, &w.patient, &["CBC"], json!({"priority": "routine"})).await;
    let stat = order(&t, &w, &w.other_patient, &["ELEC"], json!({"priority": "stat"})).await;
    let urgent = order(&t, &w, &w.other_patient, &["TSH"], json!({"priority": "urgent"})).await;
    // One line a page: stat, then urgent, then routine, though the routine one is oldest.
    let mut seen = Vec::new();
    let mut path = "/api/v1/lab/worklist?limit=1".to_owned();
    loop {
        let (status, page) = send(&t, &tech, "GET", &path, None, None).await;
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{page}");
        seen.push(items[0]["order"]["id"].clone());
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/lab/worklist?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, vec![stat[0]["id"].clone(), urgent[0]["id"].clone(), routine[0]["id"].clone()]);
    // A bench keeps its own lines.
    let (_, page) = send(&t, &tech, "GET", "/api/v1/lab/worklist?section=haematology", None, None).await;
    let ids: Vec<&Value> = page["items"].as_array().unwrap().iter().map(|i| &i["order"]["id"]).collect();
    assert_eq!(ids, vec![&routine[0]["id"]], "{page}");
    for bad in ["limit=0", "limit=201", "limit=x"] {
        let (status, e) = send(&t, &tech, "GET", &format!("/api/v1/lab/worklist?{bad}"), None, None).await;
        assert_eq!(status, 400, "{bad}: {e}");
    }
    let (status, e) =
        send(&t, &tech, "GET", "/api/v1/lab/worklist?cursor=bm90LWEtbnVtYmVy", None, None).await;
    assert_eq!((status, fields(&e)), (422, vec!["cursor".to_owned()]), "a cursor not given out: {e}");
});
