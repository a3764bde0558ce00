//! A merge loses nothing: every table whose rows refer to a patient — read from the
//! database's own catalogue, not from a list kept by hand — is declared by some context,
//! and every row of the duplicate in a table that follows merges is the survivor's after
//! the merge (the chart, the allergy banner and the prescribing check see it) and the
//! duplicate's again after the unmerge. Both on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::TestApp;
use common::ward::{Who, send, upload, ward};
use salus_core::Role;
use salus_db::merge::{self, Rule};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::{Value, json};
use uuid::Uuid;

/// The ids of `table`'s rows that refer to `patient`.
async fn ids_of(t: &TestApp, table: &str, column: &str, patient: Uuid) -> Vec<Uuid> {
    let db = t.app.db.reader();
    let mut q = Query::select();
    q.column(Alias::new("id")).from(Alias::new(table)).and_where(Expr::col(Alias::new(column)).eq(patient));
    let rows = db.query_all(&q).await.unwrap();
    let mut ids: Vec<Uuid> = rows.iter().map(|r| r.try_get("", "id").unwrap()).collect();
    ids.sort();
    ids
}

/// Every following table's row ids of `patient`.
async fn following_rows(t: &TestApp, patient: Uuid) -> BTreeMap<&'static str, Vec<Uuid>> {
    let mut out = BTreeMap::new();
    for l in merge::links().filter(|l| matches!(l.rule, Rule::Follows { .. })) {
        out.insert(l.table, ids_of(t, l.table, l.column, patient).await);
    }
    out
}

fn penicillin_warning(p: &Value) -> bool {
    p["type"] == "urn:salus:problem:clinical-warnings"
        && p["warnings"]
            .as_array()
            .is_some_and(|w| w.iter().any(|w| w.as_str().unwrap_or("").contains("Penicillin")))
}

/// The allergy banner of a chart page, as the browser would render its text.
fn banner(html: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(".allergy-banner").unwrap();
    doc.select(&sel).map(|e| e.text().collect::<String>()).collect::<Vec<_>>().join(" ")
}

async fn chart(t: &TestApp, w: &Who, patient: Uuid) -> String {
    let res = w.client.get(t.url(&format!("/patients/{patient}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

async fn medicine(t: &TestApp, w: &Who, q: &str, generic: &str) -> Value {
    let (_, meds) = send(t, w, "GET", &format!("/api/v1/medicines?q={q}"), None, None).await;
    meds["items"].as_array().unwrap().iter().find(|m| m["generic_name"] == generic).unwrap()["id"].clone()
}

/// Puts a row of every kind a duplicate record can have: clinical record, appointment,
/// message, account, photo, timeline.
async fn fill(t: &TestApp, w: &common::ward::Ward, dup: Uuid, doctor: Uuid) {
    // A SMART app launched with the duplicate: its code and its token.
    let now = chrono::Utc::now();
    salus_db::identity::insert_oauth_code(
        t.app.db.writer(),
        salus_db::entity::oauth_code::Model {
            id: Uuid::now_v7(),
            code_hash: format!("{:064x}", dup.as_u128()),
            client_id: "salus-app-test".into(),
            user_id: doctor,
            scope: "patient/*.read".into(),
            permissions: "clinical.read".into(),
            patient_id: Some(dup),
            redirect_uri: "http://127.0.0.1:9/cb".into(),
            code_challenge: "c".repeat(43),
            expires_at: now,
            used_at: None,
            created_at: now,
        },
    )
    .await
    .unwrap();
    salus_db::identity::insert_api_token(
        t.app.db.writer(),
        salus_db::entity::api_token::Model {
            id: Uuid::now_v7(),
            user_id: doctor,
            name: "SMART: test".into(),
            token_hash: format!("{:064x}", dup.as_u128() ^ 1),
            scopes: "clinical.read".into(),
            created_at: now,
            expires_at: now,
            last_used_at: None,
            revoked_at: None,
            client_id: Some("salus-app-test".into()),
            patient_id: Some(dup),
        },
    )
    .await
    .unwrap();
    let (status, enc) =
        send(t, &w.doc, "POST", "/api/v1/encounters", Some(json!({"patient_id": dup})), None).await;
    assert_eq!(status, 201, "{enc}");
    let enc = enc["id"].as_str().unwrap().to_owned();
    let post = |who: &'static str, path: String, body: Value| {
        let w = match who {
            "nurse" => &w.nurse,
            _ => &w.doc,
        };
        async move {
            let (status, p) = send(t, w, "POST", &path, Some(body), None).await;
            assert_eq!(status, 201, "{path}: {p}");
        }
    };
    post("nurse", format!("/api/v1/encounters/{enc}/vitals"), json!({"pulse": "88"})).await;
    post("doc", format!("/api/v1/encounters/{enc}/notes"), json!({"subjective": "Cough"})).await;
    post("doc", format!("/api/v1/patients/{dup}/diagnoses"), json!({"code": "E11.9", "encounter_id": enc}))
        .await;
    post(
        "nurse",
        format!("/api/v1/patients/{dup}/allergies"),
        json!({"substance": "Penicillin", "reaction": "Anaphylaxis", "severity": "severe"}),
    )
    .await;
    post(
        "nurse",
        format!("/api/v1/patients/{dup}/immunizations"),
        json!({"vaccine": "Tetanus toxoid", "given_on": "2026-01-10"}),
    )
    .await;
    let paracetamol = medicine(t, &w.doc, "paracet", "Paracetamol").await;
    post(
        "doc",
        format!("/api/v1/patients/{dup}/prescriptions"),
        json!({"medicine_id": paracetamol, "encounter_id": enc, "dose": "500 mg", "frequency": "as needed"}),
    )
    .await;
    let dept = common::ward::department(t, "MED", "Medicine").await;
    let op = salus_app::Ctx::operator();
    post(
        "doc",
        format!("/api/v1/patients/{dup}/referrals"),
        json!({"reason": "Review", "to_department_id": dept.id}),
    )
    .await;
    let pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    let (status, a) =
        upload(t, &w.nurse, &format!("/api/v1/patients/{dup}/attachments?filename=ecg.pdf"), pdf).await;
    assert_eq!(status, 201, "{a}");

    // A laboratory order through to a verified critical result: order, specimen,
    // result, alert, and the charge collecting made.
    {
        use salus_app::organisation::{Amount, Percent, ServiceInput};
        let op = salus_app::Ctx::operator();
        let service = ServiceInput {
            code: "LAB-FBS".into(),
            name: "Fasting blood sugar".into(),
            category: "laboratory".into(),
            department_id: None,
            price: Amount::Typed("120".into()),
            tax_rate: Percent::Typed("0".into()),
            active: true,
        };
        t.app.organisation().create_service(&op, service).await.unwrap();
        let tech = common::ward::who(t, "merge.tech", &[Role::LabTechnician]).await;
        let tech2 = common::ward::who(t, "merge.tech2", &[Role::LabTechnician]).await;
        common::ward::verified_result(t, w, (&tech, &tech2), &dup.to_string(), Some(&enc), ("GLU-F", "32"))
            .await;
    }

    // An imaging order through to an authorised report, with an image.
    {
        let tech = common::ward::who(t, "merge.xr", &[Role::LabTechnician]).await;
        let (_, list) = send(t, &w.doc, "GET", "/api/v1/imaging/procedures", None, None).await;
        let chest =
            list["items"].as_array().unwrap().iter().find(|i| i["code"] == "XR-CHEST-PA").unwrap()["id"]
                .clone();
        let (status, o) = send(
            t,
            &w.doc,
            "POST",
            &format!("/api/v1/patients/{dup}/imaging-orders"),
            Some(json!({"procedure_id": chest, "encounter_id": enc, "clinical_question": "? effusion"})),
            None,
        )
        .await;
        assert_eq!(status, 201, "{o}");
        let oid = o["id"].as_str().unwrap().to_owned();
        let path = |tail: &str| format!("/api/v1/imaging/orders/{oid}/{tail}");
        assert_eq!(send(t, &tech, "POST", &path("perform"), Some(json!({})), None).await.0, 200);
        let png = b"\x89PNG\r\n\x1a\n chest".to_vec();
        assert_eq!(upload(t, &tech, &path("images?filename=chest.png"), png).await.0, 201);
        let text = json!({"findings": "Blunted left angle.", "impression": "Small effusion."});
        assert_eq!(send(t, &w.doc, "POST", &path("report"), Some(text), None).await.0, 200);
        assert_eq!(send(t, &w.doc, "POST", &path("report/authorise"), None, None).await.0, 200);
    }

    // A dispensing of the prescription from a stocked pharmacy: its lines, the ledger rows
    // that name the patient, and the charges.
    common::care::dispensed(t, &dup.to_string()).await;

    // A stay: the doctor's request, the admission into a bed and its bed assignment, and
    // its medication record: an order and a dose given against it.
    {
        let stay = common::care::stay_with_dose(t, w, &dup.to_string(), doctor, &paracetamol).await;
        // The ward's records: a summary drafted, a nurse's note, a volume, a task.
        for (who, path, body) in [
            (&w.doc, "discharge-summary", None),
            (&w.nurse, "nursing-notes", Some(json!({"body": "Settled"}))),
            (
                &w.nurse,
                "intake-output",
                Some(json!({"direction": "intake", "route": "oral", "volume_ml": 200})),
            ),
            (&w.nurse, "nursing-tasks", Some(json!({"description": "Check the drip"}))),
        ] {
            let (status, out) =
                send(t, who, "POST", &format!("/api/v1/admissions/{stay}/{path}"), body, None).await;
            assert_eq!(status, 201, "{path}: {out}");
        }
    }

    // The bills, a claim and an exemption of the duplicate.
    common::billing::bills_of_duplicate(t, dup, doctor).await;

    // An appointment and a reminder, as the booking and its job write them.
    let appointment = common::care::booked(t, dup, doctor).await;
    let db = t.app.db.writer();
    let now = chrono::Utc::now();
    salus_db::insert_all::<salus_db::entity::notification::Entity, _>(
        db,
        vec![salus_db::entity::notification::Model {
            id: Uuid::now_v7(),
            patient_id: dup,
            appointment_id: Some(appointment),
            kind: "reminder".into(),
            channel: "sms".into(),
            recipient: "+919800000000".into(),
            language: "en".into(),
            context: "{}".into(),
            status: salus_core::notifications::NotificationStatus::Pending,
            attempts: 0,
            last_error: None,
            send_at: now,
            sent_at: None,
            created_at: now,
            updated_at: now,
        }],
    )
    .await
    .unwrap();

    // The patient's own account, and a photo.
    t.user("merge.patient", &[Role::Patient]).await;
    let account = t.app.identity().find_user_by_username(&op, "merge.patient").await.unwrap().id;
    let (_, me) = send(t, &w.desk, "GET", &format!("/api/v1/patients/{dup}"), None, None).await;
    t.app.patients().link_patient_account(&op, account, me["mrn"].as_str().unwrap()).await.unwrap();
    let res = w
        .desk
        .client
        .put(t.url(&format!("/api/v1/patients/{dup}/photo")))
        .header("x-csrf-token", &w.desk.csrf)
        .header("content-type", "image/png")
        .body(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
}

db_test!(every_table_that_refers_to_a_patient_follows_a_merge, |t| {
    let w = ward(&t).await;
    let admin = common::ward::who(&t, "merge.admin", &[Role::Admin]).await;
    let keep: Uuid = w.patient.parse().unwrap();
    let dup: Uuid = w.other_patient.parse().unwrap();
    let doctor =
        t.app.identity().find_user_by_username(&salus_app::Ctx::operator(), "cl.doc").await.unwrap().id;
    fill(&t, &w, dup, doctor.as_uuid()).await;

    // Every column of the schema that refers to a patient has a declared rule, and every
    // table that follows merges holds a row of the duplicate for this test to watch.
    let columns = salus_db::backend::patient_columns(t.app.db.reader()).await.unwrap();
    assert!(columns.contains(&("allergies".to_owned(), "patient_id".to_owned())), "read: {columns:?}");
    for (table, column) in &columns {
        assert!(
            merge::link(table, column).is_some(),
            "{table}.{column} refers to a patient, but no context's PATIENT_LINKS says what a merge does with it"
        );
    }
    let before = following_rows(&t, dup).await;
    for (table, ids) in &before {
        assert!(columns.iter().any(|(t, _)| t == table), "{table} is declared but not in the schema");
        assert!(!ids.is_empty(), "this test puts no row of the duplicate in {table}: add one to fill()");
    }
    let keep_before = following_rows(&t, keep).await;

    // Before the merge the survivor is not known to be allergic.
    let amoxicillin = medicine(&t, &w.doc, "amox", "Amoxicillin").await;
    let rx = json!({"medicine_id": amoxicillin, "dose": "500 mg", "frequency": "three times a day"});
    assert!(!banner(&chart(&t, &w.doc, keep).await).contains("Penicillin"));

    let (status, p) = send(
        &t,
        &admin,
        "POST",
        &format!("/api/v1/patients/{dup}/merge"),
        Some(json!({"survivor_id": keep})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{p}");
    let after = following_rows(&t, keep).await;
    for (table, ids) in &before {
        for id in ids {
            assert!(after[table].contains(id), "{table} row {id} stayed with the duplicate");
        }
    }
    let left = following_rows(&t, dup).await;
    for (table, ids) in &left {
        let merged_note = if *table == "patient_timeline" { 1 } else { 0 };
        assert_eq!(ids.len(), merged_note, "{table}: the duplicate keeps only the note of its merge");
    }

    // The survivor's chart, allergy banner, allergy list and prescribing check see the
    // duplicate's penicillin allergy.
    let (_, allergies) =
        send(&t, &w.doc, "GET", &format!("/api/v1/patients/{keep}/allergies"), None, None).await;
    assert!(
        allergies["items"].as_array().unwrap().iter().any(|a| a["substance"] == "Penicillin"),
        "{allergies}"
    );
    let page = chart(&t, &w.doc, keep).await;
    assert!(banner(&page).contains("Penicillin (Anaphylaxis)"), "banner: {}", banner(&page));
    let (status, p) =
        send(&t, &w.doc, "POST", &format!("/api/v1/patients/{keep}/prescriptions"), Some(rx.clone()), None)
            .await;
    assert!(status == 409 && penicillin_warning(&p), "{status} {p}");
    let (_, meds) =
        send(&t, &w.doc, "GET", &format!("/api/v1/patients/{keep}/prescriptions"), None, None).await;
    assert!(
        meds["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["medicine_name"].as_str().unwrap().contains("Paracetamol"))
    );
    let photo = w.desk.client.get(t.url(&format!("/api/v1/patients/{keep}/photo"))).send().await.unwrap();
    assert_eq!(photo.status(), 200, "the survivor had no photo; the duplicate's moved");
    // The reminder addressed from the duplicate's details is not sent; the survivor has no
    // phone or e-mail on file, so none is written in its place.
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let messages = salus_db::entity::notification::Entity::find()
        .filter(salus_db::entity::notification::Column::PatientId.eq(keep))
        .all(t.app.db.reader())
        .await
        .unwrap();
    assert!(
        !messages.is_empty()
            && messages.iter().all(|m| m.status == salus_core::notifications::NotificationStatus::Cancelled),
        "{messages:?}"
    );
    let events = salus_db::audit::actions_of(t.app.db.reader(), "patient.merge").await.unwrap();
    let detail: Value = serde_json::from_str(events[0].detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["moved"]["allergies"], 1, "{detail}");

    // Undo: every row is back where it was, and the survivor is as before.
    let (status, _) = send(&t, &admin, "POST", &format!("/api/v1/patients/{dup}/unmerge"), None, None).await;
    assert_eq!(status, 204);
    let back = following_rows(&t, dup).await;
    let keep_after = following_rows(&t, keep).await;
    for (table, ids) in &before {
        for id in ids {
            assert!(back[table].contains(id), "{table} row {id} did not come back");
        }
        let unmerge_notes = if *table == "patient_timeline" { 2 } else { 0 };
        assert_eq!(
            keep_after[table].len(),
            keep_before[table].len() + unmerge_notes,
            "{table}: the survivor keeps its own rows only"
        );
    }
    assert!(!banner(&chart(&t, &w.doc, keep).await).contains("Penicillin"));
    assert!(banner(&chart(&t, &w.doc, dup).await).contains("Penicillin"));
    let photo = w.desk.client.get(t.url(&format!("/api/v1/patients/{keep}/photo"))).send().await.unwrap();
    assert_eq!(photo.status(), 404, "the photo went back");
    let (status, p) =
        send(&t, &w.doc, "POST", &format!("/api/v1/patients/{keep}/prescriptions"), Some(rx), None).await;
    assert_eq!(status, 201, "no allergy on the survivor once separated: {p}");
});

db_test!(an_upgrade_mends_merges_that_left_clinical_rows_behind, |t| {
    let w = ward(&t).await;
    let admin = common::ward::who(&t, "merge.admin", &[Role::Admin]).await;
    let keep: Uuid = w.patient.parse().unwrap();
    let dup: Uuid = w.other_patient.parse().unwrap();
    let (status, a) = send(
        &t,
        &w.nurse,
        "POST",
        &format!("/api/v1/patients/{dup}/allergies"),
        Some(json!({"substance": "Penicillin", "reaction": "Anaphylaxis", "severity": "severe"})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{a}");
    let allergy: Uuid = a["id"].as_str().unwrap().parse().unwrap();
    let (status, _) = send(
        &t,
        &admin,
        "POST",
        &format!("/api/v1/patients/{dup}/merge"),
        Some(json!({"survivor_id": keep})),
        None,
    )
    .await;
    assert_eq!(status, 200);

    // Put the database back as a merge of the earlier version left it: the allergy with
    // the duplicate, the merge's record in the old shape, migration 14 not yet applied.
    let db = t.app.db.writer();
    let backend = db.get_database_backend();
    let (p1, p2) = match backend {
        sea_orm::DatabaseBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        backend,
        format!("UPDATE allergies SET patient_id = {p1} WHERE id = {p2}"),
        [dup.into(), allergy.into()],
    ))
    .await
    .unwrap();
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(backend, "SELECT id, moved FROM patient_merges"))
        .await
        .unwrap()
        .unwrap();
    let merge_id: Uuid = row.try_get("", "id").unwrap();
    let mut moved: Value = serde_json::from_str(&row.try_get::<String>("", "moved").unwrap()).unwrap();
    let tables = moved["tables"].take();
    moved["timeline"] = tables["patient_timeline"].clone();
    moved["users"] = json!([]);
    moved["appointments"] = json!([]);
    moved.as_object_mut().unwrap().remove("tables");
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        backend,
        format!("UPDATE patient_merges SET moved = {p1} WHERE id = {p2}"),
        [moved.to_string().into(), merge_id.into()],
    ))
    .await
    .unwrap();
    db.execute_raw(sea_orm::Statement::from_string(
        backend,
        "DELETE FROM seaql_migrations WHERE version = 'm20261129_000014_merged_clinical_rows'",
    ))
    .await
    .unwrap();
    let (_, list) = send(&t, &w.doc, "GET", &format!("/api/v1/patients/{keep}/allergies"), None, None).await;
    assert!(list["items"].as_array().unwrap().is_empty(), "the defect, reproduced: {list}");

    assert_eq!(t.app.db.migrate().await.unwrap(), ["m20261129_000014_merged_clinical_rows"]);
    assert_eq!(ids_of(&t, "allergies", "patient_id", keep).await, [allergy]);
    let (_, list) = send(&t, &w.doc, "GET", &format!("/api/v1/patients/{keep}/allergies"), None, None).await;
    assert_eq!(list["items"][0]["substance"], "Penicillin", "{list}");
    let events = salus_db::audit::actions_of(t.app.db.reader(), "patient.merge.complete").await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].patient_id, Some(keep));
    assert!(events[0].detail.as_deref().unwrap().contains("\"allergies\":1"), "{:?}", events[0].detail);
    // Running it again changes nothing.
    assert!(t.app.db.migrate().await.unwrap().is_empty());

    // The unmerge sends the mended rows back too, and the timeline as before.
    let (status, _) = send(&t, &admin, "POST", &format!("/api/v1/patients/{dup}/unmerge"), None, None).await;
    assert_eq!(status, 204);
    assert_eq!(ids_of(&t, "allergies", "patient_id", dup).await, [allergy]);
    assert!(ids_of(&t, "allergies", "patient_id", keep).await.is_empty());
    assert_eq!(
        ids_of(&t, "patient_timeline", "patient_id", keep).await.len(),
        3,
        "own registration, merge, unmerge"
    );
});

db_test!(chains_late_rows_and_restrictions_survive_merge_and_unmerge, |t| {
    let w = ward(&t).await;
    let admin = common::ward::who(&t, "merge.admin", &[Role::Admin]).await;
    let (b, c): (Uuid, Uuid) = (w.patient.parse().unwrap(), w.other_patient.parse().unwrap());
    let (status, a) = send(
        &t,
        &w.desk,
        "POST",
        "/api/v1/patients",
        Some(
            json!({"given_names": "Anand", "family_name": "Pilai", "sex": "male", "birth_date": "1970-02-02",
                    "not_a_duplicate": true, "restricted": true, "restricted_reason": "Staff member"}),
        ),
        None,
    )
    .await;
    assert_eq!(status, 201, "{a}");
    let a: Uuid = a["id"].as_str().unwrap().parse().unwrap();
    // The helpers below borrow these.
    let (t, w, admin) = (&t, &w, &admin);
    let glass = |p: Uuid| async move {
        let path = format!("/api/v1/patients/{p}/break-glass");
        let (status, g) =
            send(t, &w.doc, "POST", &path, Some(json!({"reason": "seen in clinic today"})), None).await;
        assert_eq!(status, 200, "{g}");
    };
    let diagnose = |p: Uuid, enc: String| async move {
        let path = format!("/api/v1/patients/{p}/diagnoses");
        send(t, &w.doc, "POST", &path, Some(json!({"code": "I10", "encounter_id": enc})), None).await
    };
    glass(a).await;
    let (status, enc) =
        send(t, &w.doc, "POST", "/api/v1/encounters", Some(json!({"patient_id": a})), None).await;
    assert_eq!(status, 201, "{enc}");
    let enc = enc["id"].as_str().unwrap().to_owned();
    let (status, first) = diagnose(a, enc.clone()).await;
    assert_eq!(status, 201, "{first}");
    let merge = |from: Uuid, into: Uuid| async move {
        let path = format!("/api/v1/patients/{from}/merge");
        send(t, admin, "POST", &path, Some(json!({"survivor_id": into})), None).await.0
    };
    let unmerge = |from: Uuid| async move {
        send(t, admin, "POST", &format!("/api/v1/patients/{from}/unmerge"), None, None).await.0
    };
    let restricted = |p: Uuid| async move {
        salus_db::patients::find_patient(t.app.db.reader(), p).await.unwrap().unwrap().restricted
    };

    // A restricted duplicate makes its survivor restricted: its rows are there now.
    assert_eq!(merge(a, b).await, 200);
    assert!(restricted(b).await);
    let (status, _) = send(t, &w.doc2, "GET", &format!("/api/v1/patients/{b}/diagnoses"), None, None).await;
    assert_eq!(status, 403, "the moved diagnosis is not readable without breaking the glass");
    // Nothing more is written on the pointer record; a note on the moved encounter is.
    let (status, p) = diagnose(a, enc.clone()).await;
    assert_eq!(status, 409, "{p}");
    glass(b).await;
    let (status, late) = diagnose(b, enc.clone()).await;
    assert_eq!(status, 201, "{late}");

    // A chain: the record a was merged into is merged on; undo from the end.
    assert_eq!(merge(b, c).await, 200);
    assert_eq!(ids_of(t, "encounters", "patient_id", c).await.len(), 1);
    assert_eq!(unmerge(a).await, 409, "b was merged on since; that merge is undone first");
    assert_eq!(unmerge(b).await, 204);
    assert_eq!(unmerge(a).await, 204);
    let diagnoses = ids_of(t, "diagnoses", "patient_id", a).await;
    let ids: Vec<Uuid> = [&first, &late].iter().map(|d| d["id"].as_str().unwrap().parse().unwrap()).collect();
    assert!(
        ids.iter().all(|d| diagnoses.contains(d)),
        "both diagnoses of a's encounter are a's: {diagnoses:?}"
    );
    assert_eq!(ids_of(t, "encounters", "patient_id", a).await.len(), 1);
    assert!(ids_of(t, "diagnoses", "patient_id", b).await.is_empty());
    assert!(ids_of(t, "diagnoses", "patient_id", c).await.is_empty());
    assert!(!restricted(b).await, "b is as it was");
    assert!(!restricted(c).await);
    assert!(restricted(a).await);
});
