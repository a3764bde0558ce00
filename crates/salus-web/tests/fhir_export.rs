//! Bulk Data `$export` on SQLite and PostgreSQL: the asynchronous kick-off, polling and
//! manifest; NDJSON files whose every line is valid R4 and which hold each record once
//! and all of it (what a FHIR search for the patient finds); a ward as a group; restricted
//! records left out; the reads audited as the requester; a job that carries on from where
//! it stood; cancellation; and the refusals, each an OperationOutcome.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, HashSet};

use common::fhir::*;
use common::ward::*;
use salus_core::Role;
use serde_json::{Value, json};

/// A kick-off as `w`: status, body and where to poll.
async fn kick_off(t: &common::TestApp, w: &Who, path: &str, prefer: bool) -> (u16, Value, Option<String>) {
    let mut req = w.client.get(t.url(path)).header("accept", "application/fhir+json");
    if prefer {
        req = req.header("prefer", "respond-async");
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let location = res.headers().get("content-location").map(|v| v.to_str().unwrap().to_owned());
    let body: Value = res.json().await.unwrap();
    if status >= 400 {
        assert_eq!(body["resourceType"], "OperationOutcome", "{path}: {body}");
        valid(&body);
    }
    (status, body, location)
}

/// The status endpoint's path from a Content-Location.
fn status_path(location: &str) -> String {
    location[location.find("/fhir/").unwrap()..].to_owned()
}

/// Runs the due jobs (the export's) to the end.
async fn work(t: &common::TestApp) {
    let pass = t.app.jobs().run_due_jobs("test", 10).await.unwrap();
    assert_eq!(pass.dead + pass.retried, 0, "{pass:?}");
}

/// Polls once: status, the manifest (when done), and the headers.
async fn poll(t: &common::TestApp, w: &Who, path: &str) -> (u16, Value, reqwest::header::HeaderMap) {
    let res = w.client.get(t.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null), headers)
}

/// Every file of a manifest, fetched as `w`: the resources by type, each checked against
/// the R4 schema and its line count against the manifest's.
async fn files(t: &common::TestApp, w: &Who, manifest: &Value) -> BTreeMap<String, Vec<Value>> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for f in manifest["output"].as_array().unwrap() {
        let url = f["url"].as_str().unwrap();
        let res = w.client.get(t.url(&status_path(url))).send().await.unwrap();
        assert_eq!(res.status(), 200, "{url}");
        assert_eq!(res.headers()["content-type"], "application/fhir+ndjson");
        let text = res.text().await.unwrap();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len() as u64, f["count"].as_u64().unwrap(), "{url}");
        for r in &lines {
            assert_eq!(r["resourceType"], f["type"], "{url}");
            valid(r);
        }
        out.entry(f["type"].as_str().unwrap().to_owned()).or_default().extend(lines);
    }
    out
}

fn ids_of(resources: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = resources.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids
}

/// The ids a FHIR search for the patient's resources of `ty` finds.
async fn searched(t: &common::TestApp, w: &Who, ty: &str, patient: &str) -> Vec<String> {
    let (status, bundle) = fhir(t, w, &format!("/fhir/{ty}?patient={patient}&_count=500")).await;
    assert_eq!(status, 200, "{bundle}");
    let mut ids: Vec<String> = bundle["entry"]
        .as_array()
        .map(|e| e.iter().map(|x| x["resource"]["id"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    ids.sort();
    ids
}

/// Whose resource this is (a Patient is its own).
fn owner(r: &Value) -> String {
    if r["resourceType"] == "Patient" {
        return r["id"].as_str().unwrap().to_owned();
    }
    let participant = r["participant"].as_array().and_then(|ps| {
        ps.iter().filter_map(|p| p["actor"]["reference"].as_str()).find(|a| a.starts_with("Patient/"))
    });
    let reference =
        r["subject"]["reference"].as_str().or(r["patient"]["reference"].as_str()).or(participant).unwrap();
    reference.trim_start_matches("Patient/").to_owned()
}

/// An export as `w`, run to its end: the manifest.
async fn export(t: &common::TestApp, w: &Who, path: &str) -> Value {
    let (status, body, location) = kick_off(t, w, path, true).await;
    assert_eq!(status, 202, "{body}");
    work(t).await;
    let (status, manifest, _) = poll(t, w, &status_path(&location.unwrap())).await;
    assert_eq!(status, 200, "{manifest}");
    manifest
}

db_test!(a_system_export_holds_every_record_once_valid_and_audited, |t| {
    let w = ward(&t).await;
    record(&t, &w).await;
    let desk = &w.desk;
    let vip = json!({"given_names": "Famous", "family_name": "Person", "sex": "female", "birth_date": "1970-01-01", "restricted": true, "restricted_reason": "VIP", "not_a_duplicate": true});
    let (status, vip) = send(&t, desk, "POST", "/api/v1/patients", Some(vip), None).await;
    assert_eq!(status, 201, "{vip}");
    let admin = who(&t, "fx.admin", &[Role::Admin]).await;
    let clerk = who(&t, "fx.billing", &[Role::Billing]).await;

    let (status, _, location) = kick_off(&t, &admin, "/fhir/$export", true).await;
    assert_eq!(status, 202);
    let location = location.expect("a Content-Location to poll");
    assert!(location.starts_with("http://") && location.contains("/fhir/$export-status/"), "{location}");
    let path = status_path(&location);

    // Before the job has run: 202 with the progress; to anyone else it does not exist.
    let (status, _, headers) = poll(&t, &admin, &path).await;
    assert_eq!(status, 202);
    assert!(headers.contains_key("x-progress") && headers.contains_key("retry-after"), "{headers:?}");
    let other = who(&t, "fx.admin2", &[Role::Admin]).await;
    assert_eq!(poll(&t, &other, &path).await.0, 404);

    work(&t).await;
    let (status, manifest, headers) = poll(&t, &admin, &path).await;
    assert_eq!(status, 200, "{manifest}");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(manifest["requiresAccessToken"], true);
    assert!(manifest["request"].as_str().unwrap().ends_with("/fhir/$export"), "{manifest}");
    assert!(manifest["transactionTime"].as_str().is_some());
    let by_type = files(&t, &admin, &manifest).await;

    // Each record once; the patient's resources of each type exactly what a search finds.
    for (ty, resources) in &by_type {
        let ids = ids_of(resources);
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len(), "{ty}: an id twice");
    }
    for ty in [
        "Encounter",
        "Condition",
        "AllergyIntolerance",
        "Immunization",
        "Observation",
        "MedicationRequest",
        "ServiceRequest",
        "DiagnosticReport",
        "Specimen",
        "MedicationAdministration",
        "Appointment",
        "DocumentReference",
        "ChargeItem",
    ] {
        let exported: Vec<Value> =
            by_type.get(ty).into_iter().flatten().filter(|r| owner(r) == w.patient).cloned().collect();
        let reader = if ty == "ChargeItem" { &clerk } else { &w.doc };
        let found = searched(&t, reader, ty, &w.patient).await;
        assert!(!found.is_empty(), "the record has a {ty}");
        assert_eq!(ids_of(&exported), found, "{ty}");
    }
    let patients = ids_of(&by_type["Patient"]);
    assert!(patients.contains(&w.patient) && patients.contains(&w.other_patient), "{patients:?}");
    let vip_id = vip["id"].as_str().unwrap().to_owned();
    assert!(!patients.contains(&vip_id), "a restricted record never leaves in bulk");

    // Each patient's reads audited as the requester; the downloads too.
    let reads = salus_db::audit::actions_of(t.app.db.reader(), "export.read").await.unwrap();
    let mine: Vec<_> =
        reads.iter().filter(|e| e.patient_id.map(|p| p.to_string()) == Some(w.patient.clone())).collect();
    assert!(mine.len() >= 8, "one event per part read: {}", mine.len());
    assert!(reads.iter().all(|e| e.actor_name == "fx.admin"));
    assert!(!reads.iter().any(|e| e.patient_id.map(|p| p.to_string()) == Some(vip_id.clone())));
    let downloads = salus_db::audit::actions_of(t.app.db.reader(), "export.download").await.unwrap();
    assert_eq!(downloads.len(), manifest["output"].as_array().unwrap().len());

    // The files are the requester's alone.
    let url = manifest["output"][0]["url"].as_str().unwrap();
    assert_eq!(other.client.get(t.url(&status_path(url))).send().await.unwrap().status(), 404);

    // _type and _since narrow it: nothing has changed since now.
    let manifest = export(&t, &admin, "/fhir/$export?_type=Patient,Condition").await;
    let types: HashSet<&str> =
        manifest["output"].as_array().unwrap().iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(types, HashSet::from(["Patient", "Condition"]));
    let since = (chrono::Utc::now() + chrono::Duration::seconds(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let manifest =
        export(&t, &admin, &format!("/fhir/Patient/$export?_since={}", since.replace('+', "%2B"))).await;
    assert_eq!(manifest["output"], json!([]), "{manifest}");

    // A record restricted since is gone from the next export, every resource of it.
    {
        use salus_db::entity::patient;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        let id: uuid::Uuid = w.patient.parse().unwrap();
        patient::Entity::update_many()
            .col_expr(patient::Column::Restricted, Expr::value(true))
            .filter(patient::Column::Id.eq(id))
            .exec(t.app.db.writer())
            .await
            .unwrap();
    }
    let manifest = export(&t, &admin, "/fhir/$export").await;
    let after = files(&t, &admin, &manifest).await;
    assert!(after.values().flatten().all(|r| owner(r) != w.patient), "nothing of a restricted record");
    assert!(after.values().flatten().any(|r| owner(r) == w.other_patient));
});

db_test!(a_ward_is_a_group_and_an_export_refuses_what_it_cannot_do, |t| {
    let w = ward(&t).await;
    record(&t, &w).await;
    let admin = who(&t, "fx.admin", &[Role::Admin]).await;

    // Refusals: each a 4xx OperationOutcome, and nothing queued.
    for (path, prefer, status, code) in [
        ("/fhir/$export", false, 400, "invalid"),
        ("/fhir/$export?_type=Practitioner", true, 400, "invalid"),
        ("/fhir/$export?_type=Bogus", true, 400, "invalid"),
        ("/fhir/$export?_since=yesterday", true, 400, "invalid"),
        ("/fhir/$export?_outputFormat=text/csv", true, 400, "invalid"),
        ("/fhir/$export?_typeFilter=Observation%3Fcode%3D1", true, 400, "invalid"),
        ("/fhir/Group/not-a-ward/$export", true, 404, "not-found"),
        ("/fhir/Group/0193a6f4-0000-7000-8000-000000000000/$export", true, 404, "not-found"),
    ] {
        let (got, body, _) = kick_off(&t, &admin, path, prefer).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(body["issue"][0]["code"], code, "{path}: {body}");
    }
    // A clinician reads one record at a time; bulk export is not theirs.
    let (status, body, _) = kick_off(&t, &w.doc, "/fhir/$export", true).await;
    assert_eq!((status, body["issue"][0]["code"].as_str().unwrap()), (403, "forbidden"));
    assert_eq!(t.app.jobs().run_due_jobs("test", 10).await.unwrap().claimed, 0, "nothing was queued");
    assert_eq!(poll(&t, &admin, "/fhir/$export-status/nonsense").await.0, 404);

    // The ward the record's stay is on, the first patient in it: its export is that
    // patient's record alone.
    let (status, wards) = send(&t, &admin, "GET", "/api/v1/wards", None, None).await;
    assert_eq!(status, 200, "{wards}");
    let list = wards.as_array().or(wards["items"].as_array()).unwrap();
    let ward_id = list.iter().find(|x| x["code"] == "W").unwrap()["id"].as_str().unwrap().to_owned();

    let manifest = export(&t, &admin, &format!("/fhir/Group/{ward_id}/$export")).await;
    let by_type = files(&t, &admin, &manifest).await;
    assert_eq!(ids_of(&by_type["Patient"]), vec![w.patient.clone()]);
    assert!(by_type.contains_key("Observation") && by_type.contains_key("DiagnosticReport"), "{manifest}");
    assert!(by_type.values().flatten().all(|r| owner(r) == w.patient));
});

db_test!(an_export_carries_on_from_where_it_stood_and_stops_when_cancelled, |t| {
    let w = ward(&t).await;
    record(&t, &w).await;
    let admin = who(&t, "fx.admin", &[Role::Admin]).await;
    let whole = export(&t, &admin, "/fhir/$export").await;

    // A worker wrote the Patient file and died: the next carries on after it.
    let (status, _, location) = kick_off(&t, &admin, "/fhir/$export", true).await;
    assert_eq!(status, 202);
    let path = status_path(&location.unwrap());
    let id: uuid::Uuid = path.rsplit('/').next().unwrap().parse().unwrap();
    let patient_file = whole["output"].as_array().unwrap().iter().find(|f| f["type"] == "Patient").unwrap();
    let written = json!([{"type": "Patient", "sha256": patient_file["url"].as_str().unwrap().rsplit('/').next().unwrap(), "count": patient_file["count"]}]);
    let count = patient_file["count"].as_i64().unwrap();
    assert!(
        salus_db::exports::advance(
            t.app.db.writer(),
            id,
            r#"{"step":1,"after":null}"#,
            &written.to_string(),
            count,
            chrono::Utc::now()
        )
        .await
        .unwrap()
    );
    work(&t).await;
    let (status, resumed, _) = poll(&t, &admin, &path).await;
    assert_eq!(status, 200);
    let shape = |m: &Value| -> Vec<(String, u64)> {
        m["output"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["type"].as_str().unwrap().to_owned(), f["count"].as_u64().unwrap()))
            .collect()
    };
    assert_eq!(shape(&resumed), shape(&whole), "the same files, the Patient one written once");
    assert_eq!(files(&t, &admin, &resumed).await, files(&t, &admin, &whole).await);
    // Run again (a worker that died after the work): nothing changes.
    assert_eq!(t.app.jobs().run_due_jobs("test", 10).await.unwrap().claimed, 0);

    // Cancelled before its job ran: the job writes nothing, polling finds nothing.
    let (_, _, location) = kick_off(&t, &admin, "/fhir/$export", true).await;
    let path = status_path(&location.unwrap());
    let res = admin.client.delete(t.url(&path)).header("x-csrf-token", &admin.csrf).send().await.unwrap();
    assert_eq!(res.status(), 202);
    work(&t).await;
    assert_eq!(poll(&t, &admin, &path).await.0, 404);
    // A finished export, deleted, is forgotten with its files' links.
    let res = admin.client.delete(t.url(&path)).header("x-csrf-token", &admin.csrf).send().await.unwrap();
    assert_eq!(res.status(), 202);
    assert_eq!(poll(&t, &admin, &path).await.0, 404);
});
