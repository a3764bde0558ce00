//! The clinical record through the API: encounters, vital signs with plausible ranges,
//! notes signed by their author and never changed, amendments with reasons, diagnoses
//! (billable ICD-10-CM), allergies and immunizations — who may read and write, the wrong
//! patient, bad input leaving nothing written — on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ward::*;
use salus_core::Role;
use serde_json::json;

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
    let patient = patient_account(&t, &w).await;
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

db_test!(referrals_and_attachments, |t| {
    let w = ward(&t).await;
    let enc = open(&t, &w).await;
    let cardio = common::ward::department(&t, "CARD", "Cardiology").await;
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

db_test!(medicines_are_corrected_and_retired, |t| {
    let w = ward(&t).await;
    let admin = who(&t, "cl.admin", &[Role::Admin]).await;
    let (_, meds) = send(&t, &w.doc, "GET", "/api/v1/medicines?q=metformin", None, None).await;
    let met = meds["items"][0].clone();
    let (mid, version) = (met["id"].as_str().unwrap().to_owned(), met["version"].as_i64().unwrap());
    let path = format!("/api/v1/medicines/{mid}");
    let body = |strength: &str, active: bool| json!({"generic_name": met["generic_name"], "form": met["form"], "strength": strength, "route": "oral", "active": active});
    // A doctor may not change the catalog; a blank field or a stale version changes nothing.
    assert_eq!(send(&t, &w.doc, "PUT", &path, Some(body("850 mg", true)), Some(version)).await.0, 403);
    let (status, p) = send(&t, &admin, "PUT", &path, Some(body(" ", true)), Some(version)).await;
    assert_eq!((status, fields(&p)), (422, vec!["strength".to_owned()]), "{p}");
    assert_eq!(send(&t, &admin, "PUT", &path, Some(body("850 mg", true)), Some(version + 5)).await.0, 409);
    let unknown = "/api/v1/medicines/0190a0b0-0000-7000-8000-000000000000";
    assert_eq!(send(&t, &admin, "PUT", unknown, Some(body("850 mg", true)), Some(1)).await.0, 404);
    let (_, again) = send(&t, &w.doc, "GET", "/api/v1/medicines?q=metformin", None, None).await;
    assert_eq!(again["items"][0]["strength"], met["strength"], "nothing written");
    // Another entry's name, form and strength is refused.
    let (_, para) = send(&t, &w.doc, "GET", "/api/v1/medicines?q=paracetamol", None, None).await;
    let p0 = para["items"][0].clone();
    let clash = json!({"generic_name": p0["generic_name"], "form": p0["form"], "strength": p0["strength"], "route": "oral"});
    let (status, p) = send(&t, &admin, "PUT", &path, Some(clash), Some(version)).await;
    assert_eq!((status, fields(&p)), (422, vec!["strength".to_owned()]), "{p}");

    // Corrected, then retired: no longer offered nor prescribable; old prescriptions keep
    // the name they were written with.
    let (status, m) = send(&t, &admin, "PUT", &path, Some(body("850 mg", true)), Some(version)).await;
    assert_eq!(
        (status, m["strength"].clone(), m["version"].as_i64()),
        (200, json!("850 mg"), Some(version + 1))
    );
    let rx = format!("/api/v1/patients/{}/prescriptions", w.patient);
    let order = json!({"medicine_id": mid, "dose": "1 tablet", "frequency": "twice daily"});
    let (status, written) = send(&t, &w.doc, "POST", &rx, Some(order.clone()), None).await;
    assert_eq!(status, 201, "{written}");
    let (status, _) = send(&t, &admin, "PUT", &path, Some(body("850 mg", false)), Some(version + 1)).await;
    assert_eq!(status, 200);
    let (_, offered) = send(&t, &w.doc, "GET", "/api/v1/medicines?q=metformin", None, None).await;
    assert!(offered["items"].as_array().unwrap().iter().all(|m| m["id"] != json!(mid)), "{offered}");
    let (_, all) =
        send(&t, &admin, "GET", "/api/v1/medicines?q=metformin&include_inactive=true", None, None).await;
    assert!(
        all["items"].as_array().unwrap().iter().any(|m| m["id"] == json!(mid) && m["active"] == json!(false))
    );
    let (status, p) = send(&t, &w.doc2, "POST", &rx, Some(order), None).await;
    assert_eq!((status, fields(&p)), (422, vec!["medicine_id".to_owned()]), "{p}");
    let (_, list) = send(&t, &w.doc, "GET", &rx, None, None).await;
    assert_eq!(list["items"][0]["medicine_name"], written["medicine_name"]);
    let saves = salus_db::audit::actions_of(t.app.db.reader(), "medicine.save").await.unwrap();
    assert_eq!(saves.len(), 2, "each save audited, the refused ones not");
});

db_test!(every_stale_edit_answers_with_the_record_as_it_is_now, |t| {
    let w = ward(&t).await;
    let allergies = format!("/api/v1/patients/{}/allergies", w.patient);
    let body = json!({"substance": "Sulfa", "reaction": "Rash", "severity": "moderate"});
    let (status, a) = send(&t, &w.nurse, "POST", &allergies, Some(body), None).await;
    assert_eq!(status, 201, "{a}");
    let path = format!("/api/v1/allergies/{}/status", a["id"].as_str().unwrap());
    let change = json!({"status": "resolved"});
    assert_eq!(send(&t, &w.nurse, "POST", &path, Some(change.clone()), Some(1)).await.0, 200);
    // A second nurse still looking at version 1.
    let (status, p) = send(&t, &w.nurse, "POST", &path, Some(json!({"status": "active"})), Some(1)).await;
    assert_eq!(status, 409);
    assert_eq!(p["type"], "urn:salus:problem:stale-version", "{p}");
    assert_eq!(p["current"]["version"], 2, "{p}");
    assert_eq!(p["current"]["status"], "resolved", "{p}");
    assert!(p["detail"].as_str().unwrap().contains("version 2"), "{p}");
    let (_, list) = send(&t, &w.doc, "GET", &allergies, None, None).await;
    assert_eq!(list["items"][0]["status"], "resolved", "nothing written");
    // The encounter and the note: the same contract.
    let enc = open(&t, &w).await;
    let (status, p) =
        send(&t, &w.doc, "POST", &format!("/api/v1/encounters/{enc}/finish"), None, Some(7)).await;
    assert_eq!((status, p["type"].clone()), (409, json!("urn:salus:problem:stale-version")), "{p}");
    assert_eq!(p["current"]["id"], enc.as_str());
});

// Found by schemathesis on PostgreSQL: a NUL in a note template's text failed the write
// with a 500 (PostgreSQL's text cannot hold one). Control characters in a note or a
// template are refused by field, on both databases, and nothing is written.
db_test!(control_characters_in_notes_and_templates_are_refused_by_field, |t| {
    let w = ward(&t).await;
    let admin = who(&t, "cl.admin", &[Role::Admin]).await;
    let body = json!({"name": "Diabetes review", "plan": "HbA1c due\u{0}", "subjective": "tab\tand\nlines are fine"});
    let (status, p) = send(&t, &admin, "POST", "/api/v1/note-templates", Some(body), None).await;
    assert_eq!((status, fields(&p)), (422, vec!["plan".to_owned()]), "{p}");
    let (_, list) = send(&t, &admin, "GET", "/api/v1/note-templates", None, None).await;
    assert!(!list.to_string().contains("Diabetes review"), "nothing written: {list}");

    let enc = open(&t, &w).await;
    let note = json!({"subjective": "Fever", "objective": "\u{1b}[31m"});
    let (status, p) =
        send(&t, &w.doc, "POST", &format!("/api/v1/encounters/{enc}/notes"), Some(note), None).await;
    assert_eq!((status, fields(&p)), (422, vec!["objective".to_owned()]), "{p}");
    let (status, _) = send(
        &t,
        &w.doc,
        "POST",
        &format!("/api/v1/encounters/{enc}/notes"),
        Some(json!({"subjective": "Fever\tthree days\r\n"})),
        None,
    )
    .await;
    assert_eq!(status, 201, "tabs and line ends are text");
});
