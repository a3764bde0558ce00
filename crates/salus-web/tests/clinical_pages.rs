//! The clinical pages as a browser uses them: the chart's clinical part, the encounter
//! page (vitals, notes, diagnoses, prescriptions, referrals, attachments), the printable
//! prescription, the timeline's filters and the catalog page — on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::page::Page;

use common::ward::*;
use salus_core::Role;
use serde_json::{Value, json};

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
    assert!(
        page.contains("B50.9") && Page::parse(&page).has("svg") && page.contains("Fever for 3 days"),
        "{page}"
    );
    // A non-billable code is refused with the reason.
    post_form(&t, &w.doc, &format!("{chart}/diagnoses"), &[("encounter_id", encounter_id), ("code", "B50")])
        .await;
    assert!(html(&t, &w.doc, &enc).await.contains("is a category"));
});

db_test!(a_prescription_is_written_on_the_page_and_printed_with_the_letterhead, |t| {
    let w = ward(&t).await;
    let op = salus_app::Ctx::operator();
    t.app
        .organisation()
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
    let doctor = t.app.identity().find_user_by_username(&op, "cl.doc").await.unwrap().id;
    let profile = salus_app::organisation::StaffProfileInput {
        registration_number: "KL-4411".into(),
        registration_council: "Kerala Medical Council".into(),
        ..Default::default()
    };
    t.app.organisation().save_staff_profile(&op, doctor, 0, profile).await.unwrap();
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

db_test!(referral_and_attachment_from_the_encounter_page, |t| {
    let w = ward(&t).await;
    let enc = open(&t, &w).await;
    let ortho = common::ward::department(&t, "ORTHO", "Orthopaedics").await;
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

    // Correcting an entry: the edit link fills the form with it; then retiring from its row.
    let listed = html(&t, &admin, "/admin/clinical-catalog?q=empag").await;
    let id = listed.split("?medicine=").nth(1).and_then(|r| r.split('#').next()).unwrap().to_owned();
    let form = html(&t, &admin, &format!("/admin/clinical-catalog?medicine={id}")).await;
    assert!(
        form.contains("Save medicine") && Page::parse(&form).has("input#atc_code[value=\"A10BK03\"]"),
        "{form}"
    );
    let correct = |strength: &'static str, version: &'static str, active: &'static str| {
        vec![
            ("id", id.clone()),
            ("version", version.to_owned()),
            ("generic_name", "Empagliflozin".to_owned()),
            ("form", "tablet".to_owned()),
            ("strength", strength.to_owned()),
            ("route", "oral".to_owned()),
            ("active", active.to_owned()),
        ]
    };
    let send_form = |fields: Vec<(&'static str, String)>| {
        let admin = &admin;
        let t = &t;
        async move {
            let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_form(t, admin, "/admin/clinical-catalog/medicines", &borrowed).await;
        }
    };
    send_form(correct("25 mg", "7", "true")).await;
    assert!(
        html(&t, &admin, "/admin/clinical-catalog").await.contains("changed by someone else"),
        "stale version"
    );
    send_form(correct("25 mg", "1", "true")).await;
    let page = html(&t, &admin, "/admin/clinical-catalog?q=empag").await;
    assert!(page.contains("25 mg") && page.contains("Retire Empagliflozin 25 mg tablet"), "{page}");
    send_form(correct("25 mg", "2", "")).await;
    let page = html(&t, &admin, "/admin/clinical-catalog?q=empag").await;
    assert!(page.contains("Retired") && page.contains("Restore Empagliflozin"), "{page}");
    let tpl = page.split("?template=").nth(1).and_then(|r| r.split('#').next()).unwrap().to_owned();
    let form = html(&t, &admin, &format!("/admin/clinical-catalog?template={tpl}")).await;
    assert!(form.contains("Night symptoms:") && form.contains("Save template"), "{form}");
    post_form(
        &t,
        &admin,
        "/admin/clinical-catalog/templates",
        &[("id", &tpl), ("name", "Asthma review"), ("subjective", "Night symptoms:\nInhaler use:")],
    )
    .await;
    assert!(
        html(&t, &admin, "/admin/clinical-catalog").await.contains("Asthma review</strong> <small>(retired)")
    );
    let nurse = who(&t, "cat.nurse", &[Role::Nurse]).await;
    assert_eq!(nurse.client.get(t.url("/admin/clinical-catalog")).send().await.unwrap().status(), 403);
});

db_test!(the_patient_reads_their_own_visits_and_medicines_in_the_browser, |t| {
    let w = ward(&t).await;
    let enc = open(&t, &w).await;
    let notes = format!("/api/v1/encounters/{enc}/notes");
    let (_, signed) =
        send(&t, &w.doc, "POST", &notes, Some(json!({"assessment": "Stable angina"})), None).await;
    let sign = format!("/api/v1/notes/{}/sign", signed["id"].as_str().unwrap());
    assert_eq!(send(&t, &w.doc, "POST", &sign, None, Some(1)).await.0, 200);
    let (status, _) =
        send(&t, &w.doc, "POST", &notes, Some(json!({"assessment": "Unsure: rule out MI"})), None).await;
    assert_eq!(status, 201, "a draft");
    let (_, meds) = send(&t, &w.doc, "GET", "/api/v1/medicines?q=amlodipine", None, None).await;
    let order = json!({"medicine_id": meds["items"][0]["id"], "dose": "1 tablet", "frequency": "once daily", "encounter_id": enc});
    let rx = format!("/api/v1/patients/{}/prescriptions", w.patient);
    assert_eq!(send(&t, &w.doc, "POST", &rx, Some(order), None).await.0, 201);

    let me = patient_account(&t, &w).await;
    let home = html(&t, &me, "/").await;
    assert!(home.contains("My visits and prescriptions"), "{home}");
    let chart = html(&t, &me, &format!("/patients/{}", w.patient)).await;
    assert!(chart.contains("Current medicines") && chart.contains("Amlodipine"), "{chart}");
    assert!(chart.contains("Chest pain") && !chart.contains("Open encounter"), "read-only: {chart}");
    let visit = html(&t, &me, &format!("/encounters/{enc}")).await;
    assert!(visit.contains("Stable angina"), "the signed note: {visit}");
    assert!(!visit.contains("rule out MI"), "never the draft");
    assert!(!visit.contains("Save and sign") && !visit.contains("Record vitals"), "no forms");
    // Nobody else's record, and no writing on their own.
    let other = me.client.get(t.url(&format!("/patients/{}", w.other_patient))).send().await.unwrap();
    assert!(matches!(other.status().as_u16(), 403 | 404), "{}", other.status());
    let res =
        post_form(&t, &me, &format!("/patients/{}/encounters", w.patient), &[("chief_complaint", "x")]).await;
    assert_eq!(res.status(), 403);
    // Reception still sees no clinical content on the same chart.
    let desk = html(&t, &w.desk, &format!("/patients/{}", w.patient)).await;
    assert!(!desk.contains("Current medicines") && !desk.contains("Amlodipine"));
});

db_test!(a_patient_account_cannot_fetch_another_patients_files_or_prescriptions, |t| {
    let w = ward(&t).await;
    // The other patient's visit, with a prescription and a scan.
    let (_, enc) =
        send(&t, &w.doc, "POST", "/api/v1/encounters", Some(json!({"patient_id": w.other_patient})), None)
            .await;
    let enc = enc["id"].as_str().unwrap().to_owned();
    let (_, meds) = send(&t, &w.doc, "GET", "/api/v1/medicines?q=amlodipine", None, None).await;
    let order = json!({"medicine_id": meds["items"][0]["id"], "dose": "1 tablet", "frequency": "once daily", "encounter_id": enc});
    let rx = format!("/api/v1/patients/{}/prescriptions", w.other_patient);
    assert_eq!(send(&t, &w.doc, "POST", &rx, Some(order), None).await.0, 201);
    let pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    let files = format!("/api/v1/patients/{}/attachments?filename=scan.pdf", w.other_patient);
    let (status, scan) = upload(&t, &w.nurse, &files, pdf).await;
    assert_eq!(status, 201, "{scan}");
    let scan = scan["id"].as_str().unwrap().to_owned();

    let me = patient_account(&t, &w).await;
    let denied =
        || async { salus_db::audit::actions_of(t.app.db.reader(), "access.denied").await.unwrap().len() };
    for path in [
        format!("/encounters/{enc}/prescription"),
        format!("/attachments/{scan}"),
        format!("/api/v1/attachments/{scan}"),
        format!("/api/v1/encounters/{enc}"),
    ] {
        let before = denied().await;
        let res = me.client.get(t.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}: as if it did not exist");
        let body = res.text().await.unwrap();
        assert!(!body.contains("Amlodipine") && !body.contains("%PDF"), "{path}: {body}");
        assert_eq!(denied().await, before + 1, "{path}: the attempt is audited as a denial");
        let events = salus_db::audit::actions_of(t.app.db.reader(), "access.denied").await.unwrap();
        let last = events.last().unwrap();
        assert_eq!(last.patient_id.map(|p| p.to_string()), Some(w.other_patient.clone()), "{path}");
    }
    // Its own are still there for it.
    let mine = me.client.get(t.url(&format!("/patients/{}", w.patient))).send().await.unwrap();
    assert_eq!(mine.status(), 200);
});
