//! The clinical record through the API: encounters, vital signs with plausible ranges,
//! notes signed by their author and never changed, amendments with reasons, diagnoses
//! (billable ICD-10-CM), allergies and immunizations — who may read and write, the wrong
//! patient, bad input leaving nothing written — on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use salus_core::Role;
use serde_json::{Value, json};

struct Who {
    client: reqwest::Client,
    csrf: String,
}

async fn who(t: &TestApp, name: &str, roles: &[Role]) -> Who {
    let client = t.new_client();
    let password = t.user(name, roles).await;
    let csrf = t.login_with(&client, name, &password).await;
    Who { client, csrf }
}

async fn send(
    t: &TestApp,
    w: &Who,
    method: &str,
    path: &str,
    body: Option<Value>,
    if_match: Option<i64>,
) -> (u16, Value) {
    let mut req = match method {
        "GET" => w.client.get(t.url(path)),
        "PUT" => w.client.put(t.url(path)),
        _ => w.client.post(t.url(path)),
    }
    .header("x-csrf-token", &w.csrf);
    if let Some(b) = body {
        req = req.json(&b);
    }
    if let Some(v) = if_match {
        req = req.header("if-match", v.to_string());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn fields(p: &Value) -> Vec<String> {
    let mut f: Vec<String> = p["errors"]
        .as_array()
        .map(|a| a.iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    f.sort();
    f
}

struct Ward {
    doc: Who,
    doc2: Who,
    nurse: Who,
    desk: Who,
    patient: String,
    other_patient: String,
}

async fn ward(t: &TestApp) -> Ward {
    let doc = who(t, "cl.doc", &[Role::Doctor]).await;
    let doc2 = who(t, "cl.doc2", &[Role::Doctor]).await;
    let nurse = who(t, "cl.nurse", &[Role::Nurse]).await;
    let desk = who(t, "cl.desk", &[Role::Receptionist]).await;
    let mut ids = Vec::new();
    for (given, family) in [("Anand", "Pillai"), ("Grace", "Okafor")] {
        let body = json!({"given_names": given, "family_name": family, "sex": "male", "birth_date": "1970-02-02", "not_a_duplicate": true});
        let (status, p) = send(t, &desk, "POST", "/api/v1/patients", Some(body), None).await;
        assert_eq!(status, 201, "{p}");
        ids.push(p["id"].as_str().unwrap().to_owned());
    }
    Ward { doc, doc2, nurse, desk, patient: ids[0].clone(), other_patient: ids[1].clone() }
}

async fn open(t: &TestApp, w: &Ward) -> String {
    let (status, e) = send(
        t,
        &w.doc,
        "POST",
        "/api/v1/encounters",
        Some(json!({"patient_id": w.patient, "chief_complaint": "Chest pain"})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{e}");
    e["id"].as_str().unwrap().to_owned()
}

db_test!(vitals_are_checked_and_only_clinicians_see_the_record, |t| {
    let w = ward(&t).await;
    // Reception cannot open an encounter nor read one.
    let (status, _) =
        send(&t, &w.desk, "POST", "/api/v1/encounters", Some(json!({"patient_id": w.patient})), None).await;
    assert_eq!(status, 403);
    let enc = open(&t, &w).await;
    assert_eq!(send(&t, &w.desk, "GET", &format!("/api/v1/encounters/{enc}"), None, None).await.0, 403);
    assert_eq!(
        send(&t, &w.desk, "GET", &format!("/api/v1/patients/{}/vitals", w.patient), None, None).await.0,
        403
    );

    // Implausible vitals: each named, nothing recorded.
    let bad = json!({"temperature_c": "370", "pulse": "7", "systolic": "80", "diastolic": "120"});
    let (status, p) =
        send(&t, &w.nurse, "POST", &format!("/api/v1/encounters/{enc}/vitals"), Some(bad), None).await;
    assert_eq!(status, 422, "{p}");
    assert_eq!(fields(&p), vec!["diastolic", "pulse", "temperature_c"]);
    let (_, v) =
        send(&t, &w.nurse, "GET", &format!("/api/v1/patients/{}/vitals", w.patient), None, None).await;
    assert!(v["items"].as_array().unwrap().is_empty());
    let good = json!({"temperature_c": "37.9", "pulse": "96", "systolic": "150", "diastolic": "95", "spo2": "97", "weight_kg": "82", "height_cm": "175"});
    let (status, v) =
        send(&t, &w.nurse, "POST", &format!("/api/v1/encounters/{enc}/vitals"), Some(good), None).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!((v["temperature_dc"].clone(), v["bmi_x10"].clone()), (json!(379), json!(268)));
    // A mistaken entry is marked, not deleted; a reason is required.
    let vid = v["id"].as_str().unwrap();
    assert_eq!(
        send(
            &t,
            &w.nurse,
            "POST",
            &format!("/api/v1/records/vitals/{vid}/entered-in-error"),
            Some(json!({"reason": " "})),
            None
        )
        .await
        .0,
        422
    );
    assert_eq!(
        send(
            &t,
            &w.nurse,
            "POST",
            &format!("/api/v1/records/vitals/{vid}/entered-in-error"),
            Some(json!({"reason": "Wrong patient"})),
            None
        )
        .await
        .0,
        204
    );
    let (_, v) = send(&t, &w.doc, "GET", &format!("/api/v1/patients/{}/vitals", w.patient), None, None).await;
    assert_eq!(v["items"][0]["error_reason"], "Wrong patient");

    // A nurse records vitals but does not write notes or diagnoses.
    assert_eq!(
        send(&t, &w.nurse, "POST", &format!("/api/v1/encounters/{enc}/notes"), Some(json!({})), None).await.0,
        403
    );
    assert_eq!(
        send(
            &t,
            &w.nurse,
            "POST",
            &format!("/api/v1/patients/{}/diagnoses", w.patient),
            Some(json!({"code": "I10"})),
            None
        )
        .await
        .0,
        403
    );
    // Every read left an audit event against the patient.
    let reads = salus_db::audit::actions_of(t.app.db.reader(), "clinical.read").await.unwrap();
    assert!(reads.len() >= 2 && reads.iter().all(|e| e.patient_id.is_some()));
});

db_test!(a_signed_note_is_final_and_amendments_keep_the_history, |t| {
    let w = ward(&t).await;
    let enc = open(&t, &w).await;
    let (status, n) = send(
        &t,
        &w.doc,
        "POST",
        &format!("/api/v1/encounters/{enc}/notes"),
        Some(json!({"subjective": "Chest pain on exertion", "assessment": "Stable angina"})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{n}");
    let id = n["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/notes/{id}");
    // Another doctor may neither edit nor sign it.
    assert_eq!(send(&t, &w.doc2, "PUT", &path, Some(json!({"plan": "x"})), Some(1)).await.0, 409);
    assert_eq!(send(&t, &w.doc2, "POST", &format!("{path}/sign"), None, Some(1)).await.0, 409);
    let (status, n) = send(&t, &w.doc, "PUT", &path, Some(json!({"subjective": "Chest pain on exertion", "assessment": "Stable angina", "plan": "ECG, aspirin"})), Some(1)).await;
    assert_eq!((status, n["version"].clone()), (200, json!(2)));
    assert_eq!(send(&t, &w.doc, "POST", &format!("{path}/sign"), None, None).await.0, 428);
    let (status, n) = send(&t, &w.doc, "POST", &format!("{path}/sign"), None, Some(2)).await;
    assert_eq!((status, n["status"].clone()), (200, json!("signed")));
    // Signed is final: no edit, no second signature.
    let (status, p) = send(&t, &w.doc, "PUT", &path, Some(json!({"plan": "changed"})), Some(3)).await;
    assert_eq!(status, 409, "{p}");
    let (_, view) = send(&t, &w.doc, "GET", &format!("/api/v1/encounters/{enc}"), None, None).await;
    assert_eq!(view["notes"][0]["plan"], "ECG, aspirin");

    // An amendment needs a reason; it is a new note naming the old one.
    let (status, p) =
        send(&t, &w.doc, "POST", &format!("{path}/amend"), Some(json!({"reason": ""})), None).await;
    assert_eq!((status, fields(&p)), (422, vec!["reason".to_owned()]));
    let (status, a) = send(
        &t,
        &w.doc,
        "POST",
        &format!("{path}/amend"),
        Some(json!({"reason": "Dose added", "plan": "ECG, aspirin 75 mg"})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{a}");
    assert_eq!((a["amends"].clone(), a["status"].clone()), (json!(id), json!("draft")));
    let aid = a["id"].as_str().unwrap();
    assert_eq!(send(&t, &w.doc, "POST", &format!("/api/v1/notes/{aid}/sign"), None, Some(1)).await.0, 200);
    let (_, history) = send(&t, &w.doc, "GET", &format!("/api/v1/notes/{aid}/history"), None, None).await;
    let plans: Vec<&str> =
        history["items"].as_array().unwrap().iter().map(|n| n["plan"].as_str().unwrap()).collect();
    assert_eq!(plans, vec!["ECG, aspirin", "ECG, aspirin 75 mg"], "both versions, oldest first");
    // A draft cannot be amended; an empty note cannot be signed.
    let (_, empty) =
        send(&t, &w.doc, "POST", &format!("/api/v1/encounters/{enc}/notes"), Some(json!({})), None).await;
    let eid = empty["id"].as_str().unwrap();
    assert_eq!(
        send(&t, &w.doc, "POST", &format!("/api/v1/notes/{eid}/amend"), Some(json!({"reason": "x"})), None)
            .await
            .0,
        409
    );
    assert_eq!(send(&t, &w.doc, "POST", &format!("/api/v1/notes/{eid}/sign"), None, Some(1)).await.0, 422);

    // The patient's own account reads the signed notes, not the draft.
    let password = t.user("cl.patient", &[Role::Patient]).await;
    let op = salus_app::Ctx::operator();
    let account = t.app.find_user_by_username(&op, "cl.patient").await.unwrap().id;
    let (_, me) = send(&t, &w.desk, "GET", &format!("/api/v1/patients/{}", w.patient), None, None).await;
    t.app.link_patient_account(&op, account, me["mrn"].as_str().unwrap()).await.unwrap();
    let patient = Who { client: t.new_client(), csrf: String::new() };
    let csrf = t.login_with(&patient.client, "cl.patient", &password).await;
    let patient = Who { csrf, ..patient };
    let (status, view) = send(&t, &patient, "GET", &format!("/api/v1/encounters/{enc}"), None, None).await;
    assert_eq!(status, 200, "{view}");
    assert!(view["notes"].as_array().unwrap().iter().all(|n| n["status"] == "signed"));
    assert_eq!(view["notes"].as_array().unwrap().len(), 2);
    // …and nobody else's.
    let (_, other) =
        send(&t, &w.doc, "POST", "/api/v1/encounters", Some(json!({"patient_id": w.other_patient})), None)
            .await;
    assert_eq!(
        send(
            &t,
            &patient,
            "GET",
            &format!("/api/v1/encounters/{}", other["id"].as_str().unwrap()),
            None,
            None
        )
        .await
        .0,
        404
    );
});

db_test!(diagnoses_need_billable_codes_and_allergies_are_checked, |t| {
    let w = ward(&t).await;
    let enc = open(&t, &w).await;
    let path = format!("/api/v1/patients/{}/diagnoses", w.patient);
    let (status, p) = send(&t, &w.doc, "POST", &path, Some(json!({"code": "XYZ.1"})), None).await;
    assert_eq!((status, fields(&p)), (422, vec!["code".to_owned()]));
    let (status, p) = send(&t, &w.doc, "POST", &path, Some(json!({"code": "E11"})), None).await;
    assert_eq!(status, 422);
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("E11."), "names billable codes: {p}");
    let (status, p) =
        send(&t, &w.doc, "POST", &path, Some(json!({"code": "I10", "onset": "2999-01-01"})), None).await;
    assert_eq!((status, fields(&p)), (422, vec!["onset".to_owned()]));
    // The wrong patient's encounter.
    let (_, other) =
        send(&t, &w.doc, "POST", "/api/v1/encounters", Some(json!({"patient_id": w.other_patient})), None)
            .await;
    let (status, p) =
        send(&t, &w.doc, "POST", &path, Some(json!({"code": "I10", "encounter_id": other["id"]})), None)
            .await;
    assert_eq!((status, fields(&p)), (422, vec!["encounter_id".to_owned()]));
    let (_, list) = send(&t, &w.doc, "GET", &path, None, None).await;
    assert!(list["items"].as_array().unwrap().is_empty(), "nothing written");
    let (status, d) =
        send(&t, &w.doc, "POST", &path, Some(json!({"code": "e11.9", "encounter_id": enc})), None).await;
    assert_eq!(status, 201, "{d}");
    assert_eq!((d["code"].clone(), d["clinical_status"].clone()), (json!("E11.9"), json!("active")));
    let did = d["id"].as_str().unwrap();
    let (status, d) =
        send(&t, &w.doc, "POST", &format!("/api/v1/diagnoses/{did}/resolve"), None, Some(1)).await;
    assert_eq!((status, d["clinical_status"].clone()), (200, json!("resolved")));
    assert_eq!(
        send(&t, &w.doc, "POST", &format!("/api/v1/diagnoses/{did}/resolve"), None, Some(2)).await.0,
        409
    );

    let allergies = format!("/api/v1/patients/{}/allergies", w.patient);
    let (status, p) =
        send(&t, &w.nurse, "POST", &allergies, Some(json!({"substance": "", "severity": "deadly"})), None)
            .await;
    assert_eq!((status, fields(&p)), (422, vec!["severity".to_owned(), "substance".to_owned()]));
    let (status, a) = send(
        &t,
        &w.nurse,
        "POST",
        &allergies,
        Some(json!({"substance": "Penicillin", "reaction": "Rash", "severity": "severe"})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{a}");
    let (status, _) = send(
        &t,
        &w.nurse,
        "POST",
        &allergies,
        Some(json!({"substance": "penicillin", "severity": "mild"})),
        None,
    )
    .await;
    assert_eq!(status, 422, "already recorded");
    let aid = a["id"].as_str().unwrap();
    let (status, a) = send(
        &t,
        &w.nurse,
        "POST",
        &format!("/api/v1/allergies/{aid}/status"),
        Some(json!({"status": "resolved"})),
        Some(1),
    )
    .await;
    assert_eq!((status, a["status"].clone()), (200, json!("resolved")));
    assert_eq!(
        send(&t, &w.desk, "GET", &allergies, None, None).await.0,
        403,
        "reception sees no clinical content"
    );

    let imm = format!("/api/v1/patients/{}/immunizations", w.patient);
    let (status, p) = send(
        &t,
        &w.nurse,
        "POST",
        &imm,
        Some(json!({"vaccine": "Tetanus toxoid", "given_on": "2999-01-01"})),
        None,
    )
    .await;
    assert_eq!((status, fields(&p)), (422, vec!["given_on".to_owned()]));
    assert_eq!(
        send(
            &t,
            &w.nurse,
            "POST",
            &imm,
            Some(json!({"vaccine": "Tetanus toxoid", "dose_number": 2, "given_on": "2026-01-10"})),
            None
        )
        .await
        .0,
        201
    );
    let (_, list) = send(&t, &w.doc, "GET", &imm, None, None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // Finishing is the encounter's doctor's; then no more vitals.
    assert_eq!(
        send(&t, &w.doc2, "POST", &format!("/api/v1/encounters/{enc}/finish"), None, Some(1)).await.0,
        409
    );
    assert_eq!(
        send(&t, &w.doc, "POST", &format!("/api/v1/encounters/{enc}/finish"), None, Some(1)).await.0,
        200
    );
    assert_eq!(
        send(
            &t,
            &w.nurse,
            "POST",
            &format!("/api/v1/encounters/{enc}/vitals"),
            Some(json!({"pulse": "80"})),
            None
        )
        .await
        .0,
        409
    );
    let (_, encs) =
        send(&t, &w.doc, "GET", &format!("/api/v1/patients/{}/encounters?limit=1", w.patient), None, None)
            .await;
    assert_eq!(encs["items"].as_array().unwrap().len(), 1);
});

async fn post_form(t: &TestApp, w: &Who, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut all = vec![("csrf_token", w.csrf.as_str())];
    all.extend_from_slice(fields);
    w.client.post(t.url(path)).form(&all).send().await.unwrap()
}

async fn html(t: &TestApp, w: &Who, path: &str) -> String {
    let res = w.client.get(t.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

db_test!(the_chart_and_the_encounter_page_in_the_browser_flow, |t| {
    let w = ward(&t).await;
    let chart = format!("/patients/{}", w.patient);
    let page = html(&t, &w.doc, &chart).await;
    assert!(page.contains("No known allergies recorded.") && page.contains("Open encounter"), "{page}");
    assert!(!html(&t, &w.desk, &chart).await.contains("Problem list"), "reception sees no clinical content");

    let res = post_form(
        &t,
        &w.doc,
        &format!("{chart}/encounters"),
        &[("chief_complaint", "Fever for 3 days"), ("class", "AMB")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let enc = common::location(&res);
    assert!(enc.starts_with("/encounters/"), "{enc}");

    // Vitals from the nurse: implausible ones are refused with the reason, then recorded.
    let res =
        post_form(&t, &w.nurse, &format!("{enc}/vitals"), &[("temperature_c", "391"), ("pulse", "110")])
            .await;
    assert_eq!(res.status(), 303);
    let page = html(&t, &w.nurse, &enc).await;
    assert!(page.contains("Not saved: temperature c is not plausible"), "{page}");
    assert!(page.contains("None recorded."));
    post_form(
        &t,
        &w.nurse,
        &format!("{enc}/vitals"),
        &[("temperature_c", "39.1"), ("pulse", "110"), ("systolic", "118"), ("diastolic", "76")],
    )
    .await;
    assert!(html(&t, &w.doc, &enc).await.contains("39.1"));

    // The doctor writes a note, signs it; it is shown read-only with an amend form.
    post_form(&t, &w.doc, &format!("{enc}/notes"), &[("template_id", "")]).await;
    let page = html(&t, &w.doc, &enc).await;
    let start = page.find("action=\"/notes/").unwrap() + "action=\"/notes/".len();
    let note = page[start..].split('/').next().unwrap().to_owned();
    let encounter_id = enc.trim_start_matches("/encounters/");
    let res = post_form(
        &t,
        &w.doc,
        &format!("/notes/{note}/save"),
        &[
            ("version", "1"),
            ("encounter_id", encounter_id),
            ("subjective", "Fever, chills"),
            ("assessment", "Suspected malaria"),
            ("plan", "Smear, paracetamol"),
            ("then", "sign"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let page = html(&t, &w.doc, &enc).await;
    assert!(page.contains("Note signed; it is final now.") && page.contains("Start the amendment"), "{page}");
    assert!(!page.contains("Save and sign"), "no editing a signed note");

    // A diagnosis picked from the suggestions, and an allergy: the banner shows it.
    let suggestions = html(&t, &w.doc, "/icd10/suggest?code=malaria%20falcip").await;
    assert!(suggestions.contains("B50."), "{suggestions}");
    post_form(
        &t,
        &w.doc,
        &format!("{chart}/diagnoses"),
        &[("encounter_id", encounter_id), ("code", "B50.9 — Plasmodium falciparum malaria, unspecified")],
    )
    .await;
    post_form(
        &t,
        &w.nurse,
        &format!("{chart}/allergies"),
        &[("substance", "Sulfonamides"), ("reaction", "Rash"), ("severity", "severe"), ("return_to", &chart)],
    )
    .await;
    let page = html(&t, &w.doc, &chart).await;
    assert!(page.contains("allergy-banner") && page.contains("Sulfonamides"), "{page}");
    assert!(page.contains("B50.9") && page.contains("<svg") && page.contains("Fever for 3 days"), "{page}");
    // A non-billable code is refused with the reason.
    post_form(&t, &w.doc, &format!("{chart}/diagnoses"), &[("encounter_id", encounter_id), ("code", "B50")])
        .await;
    assert!(html(&t, &w.doc, &enc).await.contains("is a category"));
});

db_test!(prescriptions_check_allergies_and_duplicates, |t| {
    let w = ward(&t).await;
    let enc = open(&t, &w).await;
    let (_, meds) = send(&t, &w.doc, "GET", "/api/v1/medicines?q=amox", None, None).await;
    let amoxicillin = meds["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["generic_name"] == "Amoxicillin" && m["form"] == "capsule")
        .unwrap()["id"]
        .clone();
    let path = format!("/api/v1/patients/{}/prescriptions", w.patient);
    // Bad input: no dose, no frequency; a medicine not in the catalog; a nurse.
    let (status, p) = send(&t, &w.doc, "POST", &path, Some(json!({"medicine_id": amoxicillin})), None).await;
    assert_eq!((status, fields(&p)), (422, vec!["dose".to_owned(), "frequency".to_owned()]), "{p}");
    let (status, p) = send(
        &t,
        &w.doc,
        "POST",
        &path,
        Some(
            json!({"medicine_id": "0190a0b0-0000-7000-8000-000000000000", "dose": "1", "frequency": "daily"}),
        ),
        None,
    )
    .await;
    assert_eq!((status, fields(&p)), (422, vec!["medicine_id".to_owned()]));
    let rx = json!({"medicine_id": amoxicillin, "encounter_id": enc, "dose": "500 mg", "frequency": "three times a day", "duration_days": 5, "quantity": 15});
    assert_eq!(send(&t, &w.nurse, "POST", &path, Some(rx.clone()), None).await.0, 403);

    // A penicillin allergy warns; going ahead needs a reason, which is kept.
    let (status, _) = send(
        &t,
        &w.nurse,
        "POST",
        &format!("/api/v1/patients/{}/allergies", w.patient),
        Some(json!({"substance": "Penicillin", "severity": "moderate"})),
        None,
    )
    .await;
    assert_eq!(status, 201);
    let (status, p) = send(&t, &w.doc, "POST", &path, Some(rx.clone()), None).await;
    assert_eq!(status, 409, "{p}");
    assert_eq!(p["type"], "urn:salus:problem:clinical-warnings");
    assert!(p["warnings"][0].as_str().unwrap().contains("Penicillin"), "{p}");
    let (_, list) = send(&t, &w.doc, "GET", &path, None, None).await;
    assert!(list["items"].as_array().unwrap().is_empty(), "nothing written");
    let mut overridden = rx.clone();
    overridden["override_reason"] = json!("Tolerated amoxicillin in 2024; rash was viral");
    let (status, first) = send(&t, &w.doc, "POST", &path, Some(overridden.clone()), None).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["medicine_name"], "Amoxicillin 500 mg capsule");
    assert!(first["override_reason"].as_str().unwrap().contains("Tolerated"));
    // The same medicine again: a duplicate warning (and the allergy) until overridden.
    let (status, p) = send(&t, &w.doc, "POST", &path, Some(rx), None).await;
    assert_eq!(status, 409);
    assert_eq!(p["warnings"].as_array().unwrap().len(), 2, "{p}");

    // Status: stopping needs a reason; a stopped one is not completed.
    let id = first["id"].as_str().unwrap();
    let (status, p) =
        send(&t, &w.doc, "POST", &format!("/api/v1/prescriptions/{id}/stop"), None, Some(1)).await;
    assert_eq!((status, fields(&p)), (422, vec!["reason".to_owned()]));
    let (status, s) = send(
        &t,
        &w.doc,
        "POST",
        &format!("/api/v1/prescriptions/{id}/stop"),
        Some(json!({"reason": "Rash"})),
        Some(1),
    )
    .await;
    assert_eq!((status, s["status"].clone()), (200, json!("stopped")));
    assert_eq!(
        send(&t, &w.doc, "POST", &format!("/api/v1/prescriptions/{id}/complete"), None, Some(2)).await.0,
        409
    );
    let events = salus_db::audit::actions_of(t.app.db.reader(), "prescription.create").await.unwrap();
    assert!(events[0].detail.as_deref().unwrap().contains("Tolerated"), "the override is audited");
    assert_eq!(send(&t, &w.desk, "GET", &path, None, None).await.0, 403, "reception sees no prescriptions");
});

db_test!(a_prescription_is_written_on_the_page_and_printed_with_the_letterhead, |t| {
    let w = ward(&t).await;
    let op = salus_app::Ctx::operator();
    t.app
        .create_facility(
            &op,
            salus_app::organisation::FacilityInput {
                code: "MAIN".into(),
                name: "Sunrise Clinic".into(),
                address: "4 Lake Road, Kochi".into(),
                active: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let doctor = t.app.find_user_by_username(&op, "cl.doc").await.unwrap().id;
    let profile = salus_app::organisation::StaffProfileInput {
        registration_number: "KL-4411".into(),
        registration_council: "Kerala Medical Council".into(),
        ..Default::default()
    };
    t.app.save_staff_profile(&op, doctor, 0, profile).await.unwrap();
    let enc = open(&t, &w).await;
    let (_, meds) = send(&t, &w.doc, "GET", "/api/v1/medicines?q=paracetamol", None, None).await;
    let para = meds["items"][0]["id"].as_str().unwrap().to_owned();
    let form = [
        ("encounter_id", enc.as_str()),
        ("medicine_id", para.as_str()),
        ("dose", "1 tablet"),
        ("frequency", "every 6 hours as needed"),
        ("duration_days", "3"),
    ];
    // No dose: refused with the reason, nothing written.
    let res = post_form(
        &t,
        &w.doc,
        &format!("/patients/{}/prescriptions", w.patient),
        &[("encounter_id", enc.as_str()), ("medicine_id", para.as_str()), ("frequency", "daily")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let page = html(&t, &w.doc, &format!("/encounters/{enc}")).await;
    assert!(page.contains("Not saved: dose") && page.contains("None in this visit."), "{page}");
    post_form(&t, &w.doc, &format!("/patients/{}/prescriptions", w.patient), &form).await;
    let page = html(&t, &w.doc, &format!("/encounters/{enc}")).await;
    assert!(page.contains("Prescribed Paracetamol") && page.contains("Print the prescription"), "{page}");
    let print = html(&t, &w.doc, &format!("/encounters/{enc}/prescription")).await;
    assert!(print.contains("Sunrise Clinic") && print.contains("4 Lake Road, Kochi"), "{print}");
    assert!(
        print.contains("KL-4411, Kerala Medical Council")
            && print.contains("Anand Pillai")
            && print.contains("every 6 hours as needed"),
        "{print}"
    );
    assert_eq!(
        w.desk.client.get(t.url(&format!("/encounters/{enc}/prescription"))).send().await.unwrap().status(),
        403
    );
});

db_test!(note_templates_are_administered_and_start_notes, |t| {
    let w = ward(&t).await;
    let admin = who(&t, "cl.admin", &[Role::Admin]).await;
    let (status, p) =
        send(&t, &admin, "POST", "/api/v1/note-templates", Some(json!({"name": " "})), None).await;
    assert_eq!((status, fields(&p)), (422, vec!["name".to_owned()]));
    assert_eq!(
        send(&t, &w.doc, "POST", "/api/v1/note-templates", Some(json!({"name": "Mine"})), None).await.0,
        403
    );
    let (status, tpl) = send(
        &t,
        &admin,
        "POST",
        "/api/v1/note-templates",
        Some(json!({"name": "Fever visit", "subjective": "Days of fever:", "plan": "Malaria test:"})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{tpl}");
    let tid = tpl["id"].as_str().unwrap();
    let (status, _) = send(
        &t,
        &admin,
        "PUT",
        &format!("/api/v1/note-templates/{tid}"),
        Some(
            json!({"name": "Fever visit", "subjective": "Days of fever:\nRigors:", "plan": "Malaria test:"}),
        ),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let enc = open(&t, &w).await;
    let (status, n) = send(
        &t,
        &w.doc,
        "POST",
        &format!("/api/v1/encounters/{enc}/notes"),
        Some(json!({"template_id": tid})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{n}");
    assert_eq!(n["subjective"], "Days of fever:\nRigors:");
    let (status, p) = send(
        &t,
        &w.doc,
        "POST",
        &format!("/api/v1/encounters/{enc}/notes"),
        Some(json!({"template_id": "0190a0b0-0000-7000-8000-000000000000"})),
        None,
    )
    .await;
    assert_eq!((status, fields(&p)), (422, vec!["template_id".to_owned()]));
    assert_eq!(
        send(
            &t,
            &admin,
            "PUT",
            "/api/v1/note-templates/0190a0b0-0000-7000-8000-000000000000",
            Some(json!({"name": "x"})),
            None
        )
        .await
        .0,
        404
    );
});

async fn upload(t: &TestApp, w: &Who, path: &str, bytes: Vec<u8>) -> (u16, Value) {
    let res = w
        .client
        .post(t.url(path))
        .header("x-csrf-token", &w.csrf)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

db_test!(referrals_and_attachments, |t| {
    let w = ward(&t).await;
    let enc = open(&t, &w).await;
    let op = salus_app::Ctx::operator();
    let f = t
        .app
        .create_facility(
            &op,
            salus_app::organisation::FacilityInput {
                code: "M".into(),
                name: "Main".into(),
                active: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let cardio = t
        .app
        .create_department(
            &op,
            salus_app::organisation::DepartmentInput {
                facility_id: f.id,
                code: "CARD".into(),
                name: "Cardiology".into(),
                active: true,
            },
        )
        .await
        .unwrap();
    let path = format!("/api/v1/patients/{}/referrals", w.patient);
    let (status, p) = send(&t, &w.doc, "POST", &path, Some(json!({"reason": " "})), None).await;
    assert_eq!((status, fields(&p)), (422, vec!["reason".to_owned(), "to_department_id".to_owned()]), "{p}");
    let (status, r) = send(&t, &w.doc, "POST", &path, Some(json!({"reason": "Exertional chest pain, ECG changes", "to_department_id": cardio.id, "urgency": "urgent", "encounter_id": enc})), None).await;
    assert_eq!(status, 201, "{r}");
    let rid = r["id"].as_str().unwrap();
    assert_eq!(
        send(&t, &w.doc, "POST", &format!("/api/v1/referrals/{rid}/accept"), None, Some(1)).await.0,
        200
    );
    assert_eq!(
        send(&t, &w.doc, "POST", &format!("/api/v1/referrals/{rid}/complete"), None, Some(2)).await.0,
        200
    );
    assert_eq!(
        send(&t, &w.doc, "POST", &format!("/api/v1/referrals/{rid}/cancel"), None, Some(3)).await.0,
        409
    );

    // Attachments: told by their bytes; stored once by content; served only to clinicians.
    let files = format!("/api/v1/patients/{}/attachments", w.patient);
    let (status, p) =
        upload(&t, &w.nurse, &format!("{files}?filename=notes.txt"), b"just text".to_vec()).await;
    assert_eq!((status, fields(&p)), (422, vec!["file".to_owned()]), "{p}");
    let (status, p) = upload(
        &t,
        &w.nurse,
        &format!("{files}?filename=big.pdf"),
        [b"%PDF-1.4".as_slice(), &vec![b'x'; 3_800_000]].concat(),
    )
    .await;
    assert_eq!((status, fields(&p)), (422, vec!["file".to_owned()]), "too large: {p}");
    let (_, other) =
        send(&t, &w.doc, "POST", "/api/v1/encounters", Some(json!({"patient_id": w.other_patient})), None)
            .await;
    let (status, _) = upload(
        &t,
        &w.nurse,
        &format!("{files}?filename=x.pdf&encounter_id={}", other["id"].as_str().unwrap()),
        b"%PDF-1.4 x".to_vec(),
    )
    .await;
    assert_eq!(status, 422, "another patient's encounter");
    let (_, list) = send(&t, &w.doc, "GET", &files, None, None).await;
    assert!(list["items"].as_array().unwrap().is_empty(), "nothing written");
    let pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    let (status, a) = upload(
        &t,
        &w.nurse,
        &format!("{files}?filename=../../ECG%20report.pdf&encounter_id={enc}"),
        pdf.clone(),
    )
    .await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(
        (a["content_type"].clone(), a["filename"].clone()),
        (json!("application/pdf"), json!("ECG report.pdf")),
        "no path in the name"
    );
    let (_, again) = upload(&t, &w.nurse, &format!("{files}?filename=copy.pdf"), pdf.clone()).await;
    assert_eq!(again["sha256"], a["sha256"], "the same bytes, stored once");
    let download = format!("/api/v1/attachments/{}", a["id"].as_str().unwrap());
    let res = w.doc.client.get(t.url(&download)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.bytes().await.unwrap().to_vec(), pdf);
    assert_eq!(w.desk.client.get(t.url(&download)).send().await.unwrap().status(), 403);
    let reads = salus_db::audit::actions_of(t.app.db.reader(), "attachment.read").await.unwrap();
    assert_eq!(reads.len(), 1, "the download is audited");
});

/// A multipart/form-data body as a browser sends it.
fn multipart(fields: &[(&str, &str)], file: (&str, &[u8])) -> (String, Vec<u8>) {
    let boundary = "----salusboundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n", file.0).as_bytes(),
    );
    body.extend_from_slice(file.1);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

db_test!(referral_and_attachment_from_the_encounter_page, |t| {
    let w = ward(&t).await;
    let enc = open(&t, &w).await;
    let op = salus_app::Ctx::operator();
    let f = t
        .app
        .create_facility(
            &op,
            salus_app::organisation::FacilityInput {
                code: "M".into(),
                name: "Main".into(),
                active: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let ortho = t
        .app
        .create_department(
            &op,
            salus_app::organisation::DepartmentInput {
                facility_id: f.id,
                code: "ORTHO".into(),
                name: "Orthopaedics".into(),
                active: true,
            },
        )
        .await
        .unwrap();
    let page_url = format!("/encounters/{enc}");
    let dept = ortho.id.to_string();
    post_form(
        &t,
        &w.doc,
        &format!("/patients/{}/referrals", w.patient),
        &[("encounter_id", enc.as_str()), ("to_department_id", dept.as_str()), ("reason", "")],
    )
    .await;
    assert!(html(&t, &w.doc, &page_url).await.contains("Not saved: reason"));
    post_form(
        &t,
        &w.doc,
        &format!("/patients/{}/referrals", w.patient),
        &[
            ("encounter_id", enc.as_str()),
            ("to_department_id", dept.as_str()),
            ("reason", "Knee X-ray review"),
            ("urgency", "routine"),
        ],
    )
    .await;
    assert!(html(&t, &w.doc, &page_url).await.contains("Knee X-ray review"));

    let upload = |fields: Vec<(&'static str, String)>, file: (&'static str, Vec<u8>)| {
        let fields: Vec<(&str, String)> = fields;
        let owned: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        multipart(&owned, (file.0, &file.1))
    };
    let base = vec![("csrf_token", w.nurse.csrf.clone()), ("encounter_id", enc.clone())];
    let (ct, body) = upload(base.clone(), ("letter.docx", b"PK\x03\x04 not a pdf".to_vec()));
    let res = w
        .nurse
        .client
        .post(t.url(&format!("/patients/{}/attachments", w.patient)))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(html(&t, &w.nurse, &page_url).await.contains("only PDF, JPEG, PNG and WebP"));
    let png = [&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a][..], &[0u8; 64][..]].concat();
    let (ct, body) = upload(base, ("knee.png", png.clone()));
    let res = w
        .nurse
        .client
        .post(t.url(&format!("/patients/{}/attachments", w.patient)))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let page = html(&t, &w.doc, &page_url).await;
    assert!(page.contains("knee.png attached.") || page.contains("knee.png"), "{page}");
    let start = page.find("href=\"/attachments/").unwrap() + "href=\"".len();
    let link = page[start..].split('"').next().unwrap().to_owned();
    let res = w.doc.client.get(t.url(&link)).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.bytes().await.unwrap().to_vec(), png);
    assert_eq!(w.desk.client.get(t.url(&link)).send().await.unwrap().status(), 403);
});

db_test!(the_timeline_hides_clinical_entries_from_reception_and_filters_by_kind, |t| {
    let w = ward(&t).await;
    let enc = open(&t, &w).await;
    send(
        &t,
        &w.doc,
        "POST",
        &format!("/api/v1/patients/{}/diagnoses", w.patient),
        Some(json!({"code": "I10", "encounter_id": enc})),
        None,
    )
    .await;
    let kinds = |v: &Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
    };
    let (_, doc_view) =
        send(&t, &w.doc, "GET", &format!("/api/v1/patients/{}/timeline", w.patient), None, None).await;
    assert!(
        kinds(&doc_view).contains(&"diagnosis".to_owned())
            && kinds(&doc_view).contains(&"encounter".to_owned())
    );
    let (_, desk_view) =
        send(&t, &w.desk, "GET", &format!("/api/v1/patients/{}/timeline", w.patient), None, None).await;
    let desk_kinds = kinds(&desk_view);
    assert!(desk_kinds.contains(&"registered".to_owned()), "{desk_kinds:?}");
    assert!(
        !desk_kinds.iter().any(|k| ["diagnosis", "encounter"].contains(&k.as_str())),
        "reception sees no clinical content: {desk_kinds:?}"
    );
    let page = html(&t, &w.desk, &format!("/patients/{}/timeline?kind=all", w.patient)).await;
    assert!(!page.contains("Hypertension") && !page.contains("Chest pain"), "{page}");
    let page = html(&t, &w.doc, &format!("/patients/{}/timeline?kind=diagnoses", w.patient)).await;
    assert!(page.contains("I10") && !page.contains("Registered"), "{page}");
    let res = w
        .doc
        .client
        .get(t.url(&format!("/patients/{}/timeline?kind=gossip", w.patient)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
});

db_test!(the_catalog_page_adds_medicines_and_templates, |t| {
    let admin = who(&t, "cat.admin", &[Role::Admin]).await;
    let page = html(&t, &admin, "/admin/clinical-catalog?q=metformin").await;
    assert!(page.contains("Metformin") && !page.contains("Amlodipine"), "{page}");
    // A blank strength is refused, nothing added; then a new medicine; then a duplicate.
    post_form(
        &t,
        &admin,
        "/admin/clinical-catalog/medicines",
        &[("generic_name", "Empagliflozin"), ("form", "tablet"), ("strength", ""), ("route", "oral")],
    )
    .await;
    assert!(html(&t, &admin, "/admin/clinical-catalog").await.contains("Not saved: strength"));
    post_form(
        &t,
        &admin,
        "/admin/clinical-catalog/medicines",
        &[
            ("generic_name", "Empagliflozin"),
            ("form", "tablet"),
            ("strength", "10 mg"),
            ("route", "oral"),
            ("atc_code", "A10BK03"),
        ],
    )
    .await;
    assert!(html(&t, &admin, "/admin/clinical-catalog?q=empag").await.contains("A10BK03"));
    post_form(
        &t,
        &admin,
        "/admin/clinical-catalog/medicines",
        &[("generic_name", "Empagliflozin"), ("form", "tablet"), ("strength", "10 mg"), ("route", "oral")],
    )
    .await;
    assert!(html(&t, &admin, "/admin/clinical-catalog").await.contains("already in the catalog"));
    post_form(
        &t,
        &admin,
        "/admin/clinical-catalog/templates",
        &[("name", "Asthma review"), ("subjective", "Night symptoms:")],
    )
    .await;
    assert!(html(&t, &admin, "/admin/clinical-catalog").await.contains("Asthma review"));
    let nurse = who(&t, "cat.nurse", &[Role::Nurse]).await;
    assert_eq!(nurse.client.get(t.url("/admin/clinical-catalog")).send().await.unwrap().status(), 403);
});
