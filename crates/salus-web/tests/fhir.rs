//! The FHIR R4 door on SQLite and PostgreSQL: a patient's record — visits, vital signs, a
//! laboratory result, diagnoses, allergies, immunizations, prescriptions — read as
//! resources each valid against HL7's R4 JSON schema; each stored resource found by every
//! search parameter the server declares for it; errors as OperationOutcomes; the same
//! access rules and read audit as the API; pages that neither repeat nor skip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{HashMap, HashSet};

use common::fhir::*;
use common::ward::*;
use salus_core::Role;
use serde_json::{Value, json};

fn entries<'a>(bundle: &'a Value, mode: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .map(|e| e.iter().filter(|x| x["search"]["mode"] == mode).map(|x| &x["resource"]).collect())
        .unwrap_or_default()
}

fn ids(bundle: &Value) -> Vec<String> {
    entries(bundle, "match").iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
}

fn issue_code(outcome: &Value) -> String {
    outcome["issue"][0]["code"].as_str().unwrap().to_owned()
}

const CLINICAL: &[&str] = &[
    "Encounter",
    "Observation",
    "Condition",
    "AllergyIntolerance",
    "Immunization",
    "MedicationRequest",
    "ServiceRequest",
    "DiagnosticReport",
    "Specimen",
    "MedicationAdministration",
    "MedicationDispense",
    "Appointment",
    "DocumentReference",
];

/// The resource types of a patient's accounts, read by the billing desk.
const ACCOUNTS: &[&str] = &["Coverage", "ChargeItem", "Invoice", "Claim"];

db_test!(every_resource_is_valid_r4_reads_back_and_finds_itself_by_every_parameter, |t| {
    let w = ward(&t).await;
    record(&t, &w).await;
    let p = w.patient.clone();
    let mut stored: Vec<Value> = Vec::new();
    let clerk = who(&t, "fh.billing", &[Role::Billing]).await;
    let auditor = who(&t, "fh.auditor", &[Role::Admin]).await;
    let reader = |ty: &str| match ty {
        "AuditEvent" => &auditor,
        _ if ACCOUNTS.contains(&ty) => &clerk,
        _ => &w.doc,
    };
    for ty in CLINICAL.iter().chain(ACCOUNTS) {
        let (status, bundle) = fhir(&t, reader(ty), &format!("/fhir/{ty}?patient={p}&_count=500")).await;
        assert_eq!(status, 200, "{bundle}");
        valid(&bundle);
        let found = entries(&bundle, "match");
        assert!(!found.is_empty(), "{ty}: none of the record's {ty} resources");
        stored.extend(found.into_iter().cloned());
    }
    // The accounts are the billing desk's; the chart is the clinicians'.
    assert_eq!(fhir(&t, &w.doc, &format!("/fhir/Invoice?patient={p}")).await.0, 403);
    assert_eq!(fhir(&t, &clerk, &format!("/fhir/Observation?patient={p}")).await.0, 403);
    let (_, me) = fhir(&t, &w.doc, &format!("/fhir/Patient/{p}")).await;
    stored.push(me);
    let (_, staff) = fhir(&t, &w.doc, "/fhir/Practitioner?_count=500").await;
    stored.extend(entries(&staff, "match").into_iter().cloned());
    // The ward and its bed, the patient in it; two of the formulary's medicines.
    let (_, places) = fhir(&t, &w.doc, "/fhir/Location?_count=500").await;
    let places: Vec<Value> = entries(&places, "match").into_iter().cloned().collect();
    let bed = places.iter().find(|l| l["physicalType"]["coding"][0]["code"] == "bd").expect("a bed");
    assert_eq!(bed["operationalStatus"]["code"], "O", "{bed}");
    let ward_ref = bed["partOf"]["reference"].as_str().unwrap();
    assert!(places.iter().any(|l| format!("Location/{}", l["id"].as_str().unwrap()) == ward_ref), "{bed}");
    stored.extend(places);
    // The doctor's role, schedule and two of its slots.
    let (_, me) = send(&t, &w.doc, "GET", "/api/v1/me", None, None).await;
    let doc_id = me["id"].as_str().unwrap();
    for path in [
        format!("/fhir/PractitionerRole?practitioner=Practitioner/{doc_id}"),
        format!("/fhir/Schedule?actor=Practitioner/{doc_id}"),
        format!("/fhir/Slot?schedule=Schedule/{doc_id}&_count=2"),
    ] {
        let (status, b) = fhir(&t, &w.doc, &path).await;
        assert_eq!(status, 200, "{path}: {b}");
        let found = entries(&b, "match");
        assert!(!found.is_empty(), "{path}: {b}");
        stored.extend(found.into_iter().cloned());
    }
    // The billing clerk's reads of the patient's accounts, in the audit trail.
    let (_, me) = send(&t, &clerk, "GET", "/api/v1/me", None, None).await;
    let clerk_id = me["id"].as_str().unwrap().to_owned();
    let (status, trail) =
        fhir(&t, &auditor, &format!("/fhir/AuditEvent?agent=Practitioner/{clerk_id}&patient={p}&_count=2"))
            .await;
    assert_eq!(status, 200, "{trail}");
    let trail: Vec<Value> = entries(&trail, "match").into_iter().cloned().collect();
    assert_eq!(trail.len(), 2, "{trail:?}");
    assert!(trail.iter().all(|e| e["action"] == "R" && e["outcome"] == "0"), "{trail:?}");
    assert_eq!(
        fhir(&t, &w.doc, &format!("/fhir/AuditEvent?patient={p}")).await.0,
        403,
        "the trail is the auditors'"
    );
    stored.extend(trail);
    let (_, meds) = fhir(&t, &w.doc, "/fhir/Medication?_count=1000").await;
    stored.extend(
        entries(&meds, "match").into_iter().filter(|m| m["code"]["coding"].is_array()).take(2).cloned(),
    );
    let dept = department(&t, "GM", "General Medicine").await;
    let (_, org) = fhir(&t, &w.doc, &format!("/fhir/Organization/{}", dept.id)).await;
    assert_eq!(org["partOf"]["reference"].as_str().unwrap().split('/').next(), Some("Organization"));
    stored.push(org);

    // Vital signs carry LOINC and UCUM; the blood pressure is one panel of two components.
    let bp =
        stored.iter().find(|r| r["code"]["coding"][0]["code"] == "85354-9").expect("a blood pressure panel");
    assert_eq!(
        bp["component"][0]["valueQuantity"],
        json!({"value": 150.0, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"})
    );
    let lab = stored
        .iter()
        .find(|r| r["category"][0]["coding"][0]["code"] == "laboratory")
        .expect("a laboratory result");
    assert_eq!(lab["valueQuantity"]["value"], 182.0);
    assert_eq!(lab["interpretation"][0]["coding"][0]["display"], "High", "{lab}");
    let dx = stored.iter().find(|r| r["code"]["coding"][0]["code"] == "E11.9").expect("a diagnosis");
    assert_eq!(dx["code"]["coding"][0]["system"], "http://hl7.org/fhir/sid/icd-10-cm");

    let mut searched = 0;
    let mut by_type: HashMap<String, HashSet<String>> = HashMap::new();
    for r in &stored {
        valid(r);
        let ty = r["resourceType"].as_str().unwrap();
        let id = r["id"].as_str().unwrap();
        // Each reads back by its id, the same.
        let (status, back) = fhir(&t, reader(ty), &format!("/fhir/{ty}/{id}")).await;
        assert_eq!((status, &back), (200, r), "{ty}/{id} reads back as found");
        let version = r["meta"]["versionId"].as_str().unwrap();
        assert_eq!(fhir(&t, reader(ty), &format!("/fhir/{ty}/{id}/_history/{version}")).await.0, 200);
        // And is found by every parameter it holds a value of.
        let scope = match ty {
            "Patient" => format!("_id={id}"),
            "AuditEvent" => format!("agent=Practitioner/{clerk_id}"),
            "Practitioner" | "PractitionerRole" | "Organization" | "Location" | "Medication" | "Schedule"
            | "Slot" => String::new(),
            _ => format!("patient={p}"),
        };
        for param in salus_web::fhir::search::params(ty) {
            let Some(value) = salus_web::fhir::search::example(param, r) else { continue };
            let query =
                serde_urlencoded::to_string([(param.code.as_str(), value.as_str()), ("_count", "500")])
                    .unwrap();
            let path = format!("/fhir/{ty}?{scope}&{query}");
            let (status, bundle) = fhir(&t, reader(ty), &path).await;
            assert_eq!(status, 200, "{path}: {bundle}");
            assert!(ids(&bundle).contains(&id.to_owned()), "{ty}/{id} not found by {path}\n{r:#}");
            searched += 1;
            by_type.entry(ty.to_owned()).or_default().insert(param.code.clone());
        }
    }
    assert!(searched > 150, "{searched} searches");
    for ty in [
        "Patient",
        "Observation",
        "Condition",
        "Encounter",
        "MedicationRequest",
        "Immunization",
        "AllergyIntolerance",
        "Practitioner",
        "Organization",
        "Location",
        "Medication",
        "PractitionerRole",
        "Schedule",
        "Slot",
        "AuditEvent",
        "Specimen",
        "MedicationAdministration",
        "MedicationDispense",
        "Appointment",
        "DocumentReference",
        "Coverage",
        "ChargeItem",
        "Invoice",
        "Claim",
    ] {
        assert!(by_type.get(ty).is_some_and(|s| s.len() >= 4), "{ty}: {:?}", by_type.get(ty));
    }
    assert!(by_type["Observation"].contains("code-value-quantity"), "a composite was searched");

    // The index finds patients by what a clerk would type.
    for q in [
        "name=pillai",
        "family=Pillai&given=anand",
        "birthdate=1970-02-02&name=anand",
        "gender=male&name=pil",
    ] {
        let (status, bundle) = fhir(&t, &w.doc, &format!("/fhir/Patient?{q}")).await;
        assert_eq!(status, 200, "{q}: {bundle}");
        assert_eq!(ids(&bundle), vec![p.clone()], "{q}");
    }
    let mrn = stored.iter().find(|r| r["resourceType"] == "Patient").unwrap()["identifier"][0]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, bundle) = fhir(&t, &w.doc, &format!("/fhir/Patient?identifier=urn:salus:mrn|{mrn}")).await;
    assert_eq!(ids(&bundle), vec![p.clone()]);
    let (_, bundle) = fhir(&t, &w.doc, "/fhir/Patient?name=pillai&gender=female").await;
    assert!(ids(&bundle).is_empty(), "every parameter must match");
});

db_test!(searches_chain_include_and_count_only_when_asked, |t| {
    let w = ward(&t).await;
    record(&t, &w).await;
    let p = &w.patient;
    // A chained search through the subject; a reverse chain on the patient.
    let (_, b) = fhir(&t, &w.doc, &format!("/fhir/Condition?patient={p}&patient.name=pillai")).await;
    assert_eq!(ids(&b).len(), 2, "{b}");
    let (_, b) =
        fhir(&t, &w.doc, &format!("/fhir/Condition?patient={p}&subject:Patient.birthdate=1999")).await;
    assert!(ids(&b).is_empty());
    let (_, b) = fhir(&t, &w.doc, "/fhir/Patient?name=pillai&_has:Condition:patient:code=I10").await;
    assert_eq!(ids(&b), vec![p.clone()]);
    let (_, b) = fhir(&t, &w.doc, "/fhir/Patient?name=pillai&_has:Condition:patient:code=J45").await;
    assert!(ids(&b).is_empty());
    // _include brings the patient and the prescriber; _revinclude the patient's allergies.
    let (_, b) = fhir(&t, &w.doc, &format!("/fhir/MedicationRequest?patient={p}&_include=MedicationRequest:patient&_include=MedicationRequest:requester")).await;
    let included: HashSet<String> =
        entries(&b, "include").iter().map(|r| r["resourceType"].as_str().unwrap().to_owned()).collect();
    assert_eq!(included, HashSet::from(["Patient".to_owned(), "Practitioner".to_owned()]), "{b}");
    let (_, b) =
        fhir(&t, &w.doc, &format!("/fhir/Patient?_id={p}&_revinclude=AllergyIntolerance:patient")).await;
    assert_eq!(entries(&b, "include").len(), 1, "{b}");
    // A total only when asked; _summary=count is the total alone; _elements trims.
    let (_, b) = fhir(&t, &w.doc, &format!("/fhir/Observation?patient={p}")).await;
    assert!(b.get("total").is_none());
    let (_, b) =
        fhir(&t, &w.doc, &format!("/fhir/Observation?patient={p}&category=vital-signs&_total=accurate"))
            .await;
    assert_eq!(b["total"], 8, "seven measurements and the blood pressure panel");
    let (_, b) = fhir(&t, &w.doc, &format!("/fhir/Observation?patient={p}&_summary=count")).await;
    assert_eq!((b["total"].clone(), b.get("entry")), (json!(9), None));
    let (_, b) = fhir(&t, &w.doc, &format!("/fhir/Condition?patient={p}&_elements=code")).await;
    let c = &entries(&b, "match")[0];
    // What was asked and what R4 requires (the subject); nothing else.
    assert!(c.get("code").is_some() && c.get("subject").is_some() && c.get("recordedDate").is_none(), "{c}");
    assert_eq!(c["meta"]["tag"][0]["code"], "SUBSETTED");
    valid(c);
    // Sorted by date, newest first; by code.
    let (_, b) = fhir(&t, &w.doc, &format!("/fhir/Condition?patient={p}&_sort=code")).await;
    let codes: Vec<&str> =
        entries(&b, "match").iter().map(|r| r["code"]["coding"][0]["code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec!["E11.9", "I10"]);
    // $everything: the patient and the whole record, in pages.
    let (status, b) = fhir(&t, &w.doc, &format!("/fhir/Patient/{p}/$everything?_count=5")).await;
    assert_eq!(status, 200, "{b}");
    let total = b["total"].as_u64().unwrap();
    assert!(total >= 16, "{total}");
    let mut seen = ids(&b);
    let mut next = b["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "next")
        .map(|l| l["url"].as_str().unwrap().to_owned());
    while let Some(url) = next {
        let path = url.split_once("/fhir/").map(|(_, rest)| format!("/fhir/{rest}")).unwrap();
        let (_, b) = fhir(&t, &w.doc, &path).await;
        seen.extend(ids(&b));
        next = b["link"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["relation"] == "next")
            .map(|l| l["url"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen.len() as u64, total);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len(), "no entry twice");
    // Each reads the parts that are theirs: the doctor no bills, the billing desk no chart.
    let types_of = |b: &Value| -> HashSet<String> {
        entries(b, "match").iter().map(|r| r["resourceType"].as_str().unwrap().to_owned()).collect()
    };
    let (_, b) = fhir(&t, &w.doc, &format!("/fhir/Patient/{p}/$everything?_count=1000")).await;
    let doctors = types_of(&b);
    assert!(doctors.contains("Appointment") && doctors.contains("Specimen"), "{doctors:?}");
    assert!(!doctors.contains("Invoice") && !doctors.contains("Claim"), "{doctors:?}");
    let clerk = who(&t, "fh.everything", &[Role::Billing]).await;
    let (status, b) = fhir(&t, &clerk, &format!("/fhir/Patient/{p}/$everything?_count=1000")).await;
    assert_eq!(status, 200, "{b}");
    let clerks = types_of(&b);
    assert!(clerks.contains("Invoice") && clerks.contains("Coverage"), "{clerks:?}");
    assert!(!clerks.contains("Observation") && !clerks.contains("Condition"), "{clerks:?}");
});

db_test!(a_doctors_sessions_are_a_schedule_of_slots_that_fill, |t| {
    let w = ward(&t).await;
    let (_, me) = send(&t, &w.doc, "GET", "/api/v1/me", None, None).await;
    let doc = me["id"].as_str().unwrap().to_owned();
    let day = chrono::Utc::now().date_naive() + chrono::Duration::days(2);
    weekly_session(&t, doc.parse().unwrap(), day).await;

    let (_, b) = fhir(&t, &w.desk, &format!("/fhir/Schedule?actor=Practitioner/{doc}")).await;
    let schedules = entries(&b, "match");
    assert_eq!(schedules.len(), 1, "{b}");
    assert!(schedules[0]["comment"].as_str().unwrap().contains("09:00–10:00"), "{b}");
    valid(schedules[0]);

    let that_day = format!("/fhir/Slot?schedule=Schedule/{doc}&start=ge{day}&start=le{day}");
    let statuses = |b: &Value| -> Vec<String> {
        entries(b, "match").iter().map(|s| s["status"].as_str().unwrap().to_owned()).collect()
    };
    let (status, b) = fhir(&t, &w.desk, &that_day).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(statuses(&b), vec!["free"; 4], "{b}");
    entries(&b, "match").iter().for_each(|s| valid(s));

    // Booked at 09:15, that slot is busy and the others still free.
    let body = json!({"patient_id": w.patient, "doctor_id": doc, "date": day.to_string(), "time": "09:15"});
    let (status, a) = send(&t, &w.desk, "POST", "/api/v1/appointments", Some(body), None).await;
    assert_eq!(status, 201, "{a}");
    let (_, b) = fhir(&t, &w.desk, &that_day).await;
    assert_eq!(statuses(&b), vec!["free", "busy", "free", "free"], "{b}");
    let busy = entries(&b, "match")[1].clone();
    let (status, back) = fhir(&t, &w.desk, &format!("/fhir/Slot/{}", busy["id"].as_str().unwrap())).await;
    assert_eq!((status, &back), (200, &busy));
    let (_, b) = fhir(&t, &w.desk, &format!("{that_day}&status=free")).await;
    assert_eq!(statuses(&b).len(), 3);
    // The appointment names its doctor, whose role says what they do.
    let (_, b) =
        fhir(&t, &w.doc, &format!("/fhir/Appointment?patient={}&actor=Practitioner/{doc}", w.patient)).await;
    assert_eq!(entries(&b, "match").len(), 1, "{b}");
    let (_, b) = fhir(&t, &w.desk, &format!("/fhir/PractitionerRole?practitioner=Practitioner/{doc}")).await;
    assert_eq!(entries(&b, "match")[0]["code"][0]["coding"][0]["code"], "doctor", "{b}");

    // A year of every doctor's slots is not one search; a slot that is not there is not found.
    let (status, b) = fhir(&t, &w.desk, "/fhir/Slot?start=ge2026-01-01&start=le2026-12-31").await;
    assert_eq!((status, issue_code(&b)), (400, "too-costly".to_owned()), "{b}");
    let nowhere = format!("/fhir/Slot/{doc}-{}-0300", day.format("%Y%m%d"));
    assert_eq!(fhir(&t, &w.desk, &nowhere).await.0, 404);
    assert_eq!(fhir(&t, &w.desk, "/fhir/Slot/not-a-slot").await.0, 404);
    assert_eq!(fhir(&t, &w.desk, &format!("/fhir/Schedule/{}", w.patient)).await.0, 404);
});

db_test!(pages_neither_repeat_nor_skip_while_the_record_grows, |t| {
    let w = ward(&t).await;
    let enc = open(&t, &w).await;
    let vitals = |pulse: u32| json!({"pulse": pulse.to_string()});
    for i in 0..7 {
        let (status, _) = send(
            &t,
            &w.nurse,
            "POST",
            &format!("/api/v1/encounters/{enc}/vitals"),
            Some(vitals(60 + i)),
            None,
        )
        .await;
        assert_eq!(status, 201);
    }
    let mut path =
        format!("/fhir/Observation?patient={}&code=http://loinc.org|8867-4&_count=3&_sort=-date", w.patient);
    let mut seen = Vec::new();
    let mut pulses = Vec::new();
    loop {
        let (status, b) = fhir(&t, &w.nurse, &path).await;
        assert_eq!(status, 200, "{b}");
        for r in entries(&b, "match") {
            seen.push(r["id"].as_str().unwrap().to_owned());
            pulses.push(r["valueQuantity"]["value"].as_f64().unwrap() as u32);
        }
        // A new reading arrives while the client pages: newer than the first page, it is
        // not shown on later ones, and nothing already listed moves.
        send(&t, &w.nurse, "POST", &format!("/api/v1/encounters/{enc}/vitals"), Some(vitals(120)), None)
            .await;
        let Some(next) = b["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next") else {
            break;
        };
        path = next["url"].as_str().unwrap().split_once("/fhir/").map(|(_, r)| format!("/fhir/{r}")).unwrap();
    }
    assert_eq!(pulses, (60..67).rev().collect::<Vec<_>>());
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 7);

    // Patients found by the index page in id order, reading only what each page shows; a
    // namesake registered meanwhile does not disturb the pages.
    let register = |given: &'static str| {
        let (t, desk) = (&t, &w.desk);
        async move {
            let body = json!({"given_names": given, "family_name": "Okoro", "sex": "female", "birth_date": "1990-01-01", "not_a_duplicate": true});
            let (status, p) = send(t, desk, "POST", "/api/v1/patients", Some(body), None).await;
            assert_eq!(status, 201, "{p}");
            p["id"].as_str().unwrap().to_owned()
        }
    };
    let mut okoros = Vec::new();
    for given in ["Ada", "Bola", "Chi", "Dayo", "Ebere"] {
        okoros.push(register(given).await);
    }
    let mut path = "/fhir/Patient?family=okoro&gender=female&_count=2".to_owned();
    let mut found = Vec::new();
    let mut pages = 0;
    loop {
        let (status, b) = fhir(&t, &w.desk, &path).await;
        assert_eq!(status, 200, "{b}");
        assert!(ids(&b).len() <= 2);
        found.extend(ids(&b));
        pages += 1;
        if pages == 1 {
            register("Funmi").await;
        }
        let Some(next) = b["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next") else {
            break;
        };
        path = next["url"].as_str().unwrap().split_once("/fhir/").map(|(_, r)| format!("/fhir/{r}")).unwrap();
    }
    for id in &okoros {
        assert_eq!(found.iter().filter(|f| *f == id).count(), 1, "each of the first five once: {found:?}");
    }
    let mut sorted = found.clone();
    sorted.sort();
    assert_eq!(found, sorted, "in id order");
});

db_test!(errors_are_operation_outcomes_and_access_is_the_apis, |t| {
    let w = ward(&t).await;
    record(&t, &w).await;
    let p = &w.patient;
    let anonymous = Who { client: t.new_client(), csrf: String::new() };
    // The capability statement is public and lists what is served.
    let (status, cap) = fhir(&t, &anonymous, "/fhir/metadata").await;
    assert_eq!(status, 200);
    valid(&cap);
    let observation =
        cap["rest"][0]["resource"].as_array().unwrap().iter().find(|r| r["type"] == "Observation").unwrap();
    let names: Vec<&str> =
        observation["searchParam"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"code") && names.contains(&"code-value-quantity") && names.contains(&"_id"),
        "{names:?}"
    );
    let patient =
        observation["searchParam"].as_array().unwrap().iter().find(|s| s["name"] == "patient").unwrap();
    assert_eq!(
        patient["definition"], "http://hl7.org/fhir/SearchParameter/clinical-patient",
        "HL7's own definition"
    );

    let (status, o) = fhir(&t, &anonymous, &format!("/fhir/Patient/{p}")).await;
    assert_eq!((status, issue_code(&o)), (401, "login".to_owned()));
    let (status, o) = fhir(&t, &w.doc, "/fhir/Spaceship/1").await;
    assert_eq!((status, issue_code(&o)), (404, "not-found".to_owned()));
    let (status, o) = fhir(&t, &w.doc, "/fhir/Condition/0190a0b0-0000-7000-8000-000000000000").await;
    assert_eq!((status, issue_code(&o)), (404, "not-found".to_owned()));
    let (status, o) = fhir(&t, &w.doc, "/fhir/Condition/not-an-id").await;
    assert_eq!(status, 404, "{o}");
    let (status, o) = fhir(&t, &w.doc, &format!("/fhir/Observation?patient={p}&date=yesterday")).await;
    assert_eq!((status, issue_code(&o)), (400, "invalid".to_owned()));
    let (status, o) = fhir(&t, &w.doc, &format!("/fhir/Observation?patient={p}&code:below=8867-4")).await;
    assert_eq!(status, 400, "an unsupported modifier is refused, not ignored: {o}");
    let (status, o) = fhir(&t, &w.doc, "/fhir/Observation?code=8867-4").await;
    assert_eq!((status, issue_code(&o)), (400, "too-costly".to_owned()));
    let many: Vec<String> = (0..51).map(|i| format!("0190a0b0-0000-7000-8000-{i:012}")).collect();
    let (status, o) = fhir(&t, &w.doc, &format!("/fhir/Observation?patient={}", many.join(","))).await;
    assert_eq!((status, issue_code(&o)), (400, "too-costly".to_owned()));
    let (status, o) = fhir(&t, &w.doc, "/fhir/Patient?gender=male").await;
    assert_eq!((status, issue_code(&o)), (400, "too-costly".to_owned()));
    // Unknown parameters: a warning, or refused under handling=strict.
    let (status, b) = fhir(&t, &w.doc, &format!("/fhir/Condition?patient={p}&colour=red")).await;
    assert_eq!(status, 200);
    assert_eq!(entries(&b, "outcome")[0]["issue"][0]["severity"], "warning");
    assert_eq!(ids(&b).len(), 2);
    let res = w
        .doc
        .client
        .get(t.url(&format!("/fhir/Condition?patient={p}&colour=red")))
        .header("prefer", "handling=strict")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    // Reception reads demographics, not the clinical record.
    assert_eq!(fhir(&t, &w.desk, &format!("/fhir/Patient/{p}")).await.0, 200);
    let (status, o) = fhir(&t, &w.desk, &format!("/fhir/Condition?patient={p}")).await;
    assert_eq!((status, issue_code(&o)), (403, "forbidden".to_owned()));
    // A patient's own account reads its own record and nothing else.
    let me = patient_account(&t, &w).await;
    let (status, b) = fhir(&t, &me, "/fhir/Condition").await;
    assert_eq!((status, ids(&b).len()), (200, 2), "{b}");
    let (_, b) = fhir(&t, &me, &format!("/fhir/Condition?patient={}", w.other_patient)).await;
    assert!(ids(&b).is_empty(), "a patient's search stays in their own record: {b}");
    let (_, mine) = fhir(&t, &w.doc, &format!("/fhir/Condition?patient={p}")).await;
    let condition = ids(&mine)[0].clone();
    assert_eq!(fhir(&t, &me, &format!("/fhir/Condition/{condition}")).await.0, 200);
    let (_, other) = fhir(&t, &w.doc, &format!("/fhir/Patient/{}", w.other_patient)).await;
    assert_eq!(other["id"], json!(w.other_patient));
    assert_eq!(fhir(&t, &me, &format!("/fhir/Patient/{}", w.other_patient)).await.0, 404);
    // A version that is not the current one.
    assert_eq!(fhir(&t, &w.doc, &format!("/fhir/Patient/{p}/_history/99")).await.0, 404);
    // Only JSON.
    assert_eq!(fhir(&t, &w.doc, &format!("/fhir/Condition?patient={p}&_format=xml")).await.0, 400);
    let json_format =
        format!("/fhir/Condition?patient={p}&_format=application/fhir%2Bjson;%20fhirVersion=4.0");
    assert_eq!(fhir(&t, &w.doc, &json_format).await.0, 200);
});

db_test!(fhir_reads_are_audited_and_keep_their_statement_budget, |t| {
    let w = ward(&t).await;
    record(&t, &w).await;
    let p = &w.patient;
    let reads = |action: &'static str| {
        let t = &t;
        async move { salus_db::audit::actions_of(t.app.db.reader(), action).await.unwrap().len() }
    };
    let before = reads("clinical.read").await;
    assert_eq!(fhir(&t, &w.doc, &format!("/fhir/Condition?patient={p}")).await.0, 200);
    let after = reads("clinical.read").await;
    assert_eq!(after, before + 1, "one read event for the diagnoses read");
    let events = salus_db::audit::actions_of(t.app.db.reader(), "clinical.read").await.unwrap();
    assert!(events.iter().all(|e| e.patient_id.map(|x| x.to_string()) == Some(p.clone())));

    let measure = |path: String| {
        let t = &t;
        let doc = &w.doc;
        async move {
            let mut counts = Vec::new();
            for _ in 0..3 {
                let before = t.app.db.statements();
                assert_eq!(fhir(t, doc, &path).await.0, 200, "{path}");
                counts.push(t.app.db.statements() - before);
            }
            *counts.iter().min().unwrap()
        }
    };
    // The same as the API's audited read of a patient.
    let mut api = Vec::new();
    for _ in 0..3 {
        let before = t.app.db.statements();
        assert_eq!(send(&t, &w.doc, "GET", &format!("/api/v1/patients/{p}"), None, None).await.0, 200);
        api.push(t.app.db.statements() - before);
    }
    assert_eq!(measure(format!("/fhir/Patient/{p}")).await, *api.iter().min().unwrap());
    // A compartment search: the patient's check, the part's rows, the audit commit.
    let search = measure(format!("/fhir/Condition?patient={p}")).await;
    let everything = measure(format!("/fhir/Patient/{p}/$everything")).await;
    let observations = measure(format!("/fhir/Observation?patient={p}&_include=Observation:patient")).await;
    // A compartment search: the sign-in's look, the patient's check (two), the part's
    // rows, the read audit's commit (two). $everything reads the patient and the
    // thirteen parts of the chart a doctor reads under that one check and one commit,
    // and what two parts' rows point to (the doses' orders, the dispensings; read only
    // when there are rows); an _include of the patient reads it through its own audited
    // read.
    assert_eq!((search, everything, observations), (6, 23, 10), "FHIR budgets");

    // Writes. A vital sign for a patient on file: the sign-in's look, the patient's check
    // (found, the caller's to write to), the write (what is there already, the row, the
    // audit event, the commit), and the stored resource read back through its audited read.
    let writer = who(&t, "fh.budget", &[Role::Receptionist, Role::Doctor]).await;
    let mut counts = Vec::new();
    for minute in 0..3 {
        let hr = heart_rate(&format!("Patient/{p}"), None, &format!("2026-11-06T08:0{minute}:00Z"), 70.0);
        let before = t.app.db.statements();
        assert_eq!(post(&t, &w.nurse, "/fhir/Observation", &hr, &[]).await.0, 201);
        counts.push(t.app.db.statements() - before);
    }
    let observation = *counts.iter().min().unwrap();
    // A new patient's visit with six resources: one transaction whatever its size.
    let before = t.app.db.statements();
    assert_eq!(post(&t, &writer, "/fhir", &new_record("Budget"), &[]).await.0, 200);
    let transaction = t.app.db.statements() - before;
    // A patient's update against its version.
    let (_, v1) = fhir(&t, &w.desk, &format!("/fhir/Patient/{p}")).await;
    let mut edit = v1.clone();
    edit["name"][0]["family"] = json!("Pillai-Nair");
    let before = t.app.db.statements();
    assert_eq!(put(&t, &w.desk, &format!("/fhir/Patient/{p}"), &edit, Some("W/\"1\"")).await.0, 200);
    let update = t.app.db.statements() - before;
    // The transaction: the patient's record written in one go (on SQLite its names are
    // also put in the full-text index); the update: the patient read, then the API's own
    // edit (on SQLite the name index's row is replaced, two statements more).
    let expected = match t.app.db.backend() {
        salus_db::Backend::Sqlite => (14, 21, 20),
        salus_db::Backend::Postgres => (14, 20, 18),
    };
    assert_eq!((observation, transaction, update), expected, "FHIR write budgets");
});

/// The Synthea bundles kept with the tests (two of the 26, unedited).
fn synthea() -> Vec<(String, Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/synthea");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| (p.display().to_string(), serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

db_test!(synthea_bundles_load_once_and_read_back_as_fhir, |t| {
    let op = salus_app::Ctx::operator();
    let bundles = synthea();
    assert_eq!(bundles.len(), 2);
    let total: usize = bundles.iter().map(|(_, b)| b["entry"].as_array().unwrap().len()).sum();
    let mut importer = salus_app::interop::Importer::new();
    for (_, b) in &bundles {
        t.app
            .interop()
            .import_fhir(&op, &mut importer, b["entry"].as_array().unwrap().clone())
            .await
            .unwrap();
    }
    let r = importer.report.clone();
    assert_eq!(r.read, total as u64);
    let made = |k: &str| r.created.get(k).copied().unwrap_or(0);
    assert_eq!(
        (
            made("patients"),
            made("encounters"),
            made("conditions"),
            made("immunizations"),
            made("practitioners")
        ),
        (2, 15, 8, 10, 2),
        "{r:?}"
    );
    assert!(made("vital sign sets") >= 6, "{r:?}");
    // Everything not taken in is counted with its reason: nothing vanishes.
    let unmapped: u64 = r.unmapped.values().sum();
    let kept: u64 = r.created.values().sum::<u64>() - made("vital sign sets") - made("practitioners");
    let vitals_read: u64 = bundles
        .iter()
        .flat_map(|(_, b)| b["entry"].as_array().unwrap().iter())
        .filter(|e| e["resource"]["resourceType"] == "Observation")
        .count() as u64
        - r.unmapped.iter().filter(|(k, _)| k.starts_with("Observation")).map(|(_, n)| n).sum::<u64>();
    assert_eq!(kept + vitals_read + made("practitioners") + unmapped, total as u64, "{r:?}");
    assert_eq!(r.unmapped.get("Claim: not taken in by Salus yet"), Some(&18));

    // Again: nothing new.
    let mut again = salus_app::interop::Importer::new();
    for (_, b) in &bundles {
        t.app.interop().import_fhir(&op, &mut again, b["entry"].as_array().unwrap().clone()).await.unwrap();
    }
    assert!(again.report.created.is_empty(), "{:?}", again.report);
    assert!(again.report.already >= 2 + 15 + 8 + 10);

    // Read back through the FHIR door, as a doctor.
    let doc = who(&t, "fh.doctor", &[Role::Doctor]).await;
    let (status, b) = fhir(&t, &doc, "/fhir/Patient?family=Gulgowski&birthdate=1992-09-13").await;
    assert_eq!(status, 200, "{b}");
    let patients = entries(&b, "match");
    assert_eq!(patients.len(), 1, "{b}");
    let me = patients[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(patients[0]["name"][0]["given"], json!(["Edward"]), "Synthea's numbered names are cleaned");
    for (ty, n) in [("Encounter", 6), ("Condition", 4), ("Immunization", 6)] {
        let (_, b) = fhir(&t, &doc, &format!("/fhir/{ty}?patient={me}&_count=100")).await;
        let found = entries(&b, "match");
        assert_eq!(found.len(), n, "{ty}: {b}");
        found.iter().for_each(|r| valid(r));
    }
    let (_, b) = fhir(&t, &doc, &format!("/fhir/Condition?patient={me}&code=http://snomed.info/sct|")).await;
    assert_eq!(ids(&b).len(), 4, "the conditions keep their SNOMED CT codes: {b}");
    let (_, b) = fhir(
        &t,
        &doc,
        &format!("/fhir/Observation?patient={me}&code=http://loinc.org|29463-7&_total=accurate"),
    )
    .await;
    assert_eq!(b["total"], 3, "three weights: {b}");
    entries(&b, "match").iter().for_each(|r| valid(r));
    let (_, b) =
        fhir(&t, &doc, &format!("/fhir/Encounter?patient={me}&_include=Encounter:practitioner")).await;
    assert_eq!(entries(&b, "include").len(), 1, "the practitioner came with the record: {b}");
});

db_test!(a_personal_token_reads_fhir_within_its_scopes, |t| {
    let w = ward(&t).await;
    record(&t, &w).await;
    let p = &w.patient;
    let token = |scopes: &'static [&'static str]| {
        let (t, doc) = (&t, &w.doc);
        async move {
            let mut form =
                vec![("csrf_token", doc.csrf.as_str()), ("name", "exchange"), ("expires_in_days", "30")];
            form.extend(scopes.iter().map(|s| ("scopes", *s)));
            let res = doc.client.post(t.url("/profile/tokens")).form(&form).send().await.unwrap();
            assert_eq!(res.status(), 201);
            let html = res.text().await.unwrap();
            let start = html.find("id=\"token-secret\">").unwrap() + "id=\"token-secret\">".len();
            html[start..].split('<').next().unwrap().to_owned()
        }
    };
    let get = |path: String, secret: String| {
        let t = &t;
        async move {
            let res = t.new_client().get(t.url(&path)).bearer_auth(secret).send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    let clinical = token(&["patients.read", "clinical.read"]).await;
    let (status, b) = get(format!("/fhir/Condition?patient={p}"), clinical.clone()).await;
    assert_eq!((status, ids(&b).len()), (200, 2), "{b}");
    let demographics = token(&["patients.read"]).await;
    assert_eq!(get(format!("/fhir/Patient/{p}"), demographics.clone()).await.0, 200);
    let (status, o) = get(format!("/fhir/Condition?patient={p}"), demographics).await;
    assert_eq!(
        (status, issue_code(&o)),
        (403, "forbidden".to_owned()),
        "a token does no more than its scopes"
    );
    let (status, o) = get(format!("/fhir/Patient/{p}"), "salus_pat_wrong".into()).await;
    assert_eq!((status, o["resourceType"].clone()), (401, json!("OperationOutcome")));
});

/// POSTs `body` to a FHIR path as `w`: status, body and the Location header.
async fn post(
    t: &common::TestApp,
    w: &Who,
    path: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> (u16, Value, String) {
    let mut req = w
        .client
        .post(t.url(path))
        .header("x-csrf-token", &w.csrf)
        .header("content-type", "application/fhir+json")
        .body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let body: Value = res.json().await.unwrap();
    assert!(ct.starts_with("application/fhir+json"), "{path}: {ct}");
    if status >= 400 {
        assert_eq!(body["resourceType"], "OperationOutcome", "{path}: {body}");
        valid(&body);
    }
    (status, body, location)
}

fn entry(full_url: &str, resource: Value) -> Value {
    let ty = resource["resourceType"].as_str().unwrap().to_owned();
    json!({"fullUrl": full_url, "resource": resource, "request": {"method": "POST", "url": ty}})
}

fn transaction(kind: &str, entries: Vec<Value>) -> Value {
    json!({"resourceType": "Bundle", "type": kind, "entry": entries})
}

fn heart_rate(subject: &str, encounter: Option<&str>, at: &str, bpm: f64) -> Value {
    let mut o = json!({
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
        "subject": {"reference": subject},
        "effectiveDateTime": at,
        "valueQuantity": {"value": bpm, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"},
    });
    if let Some(e) = encounter {
        o["encounter"] = json!({"reference": e});
    }
    o
}

/// A new patient's visit with something of every kind taken in, linked by `urn:uuid:`.
fn new_record(family: &str) -> Value {
    let u = |n: u32| {
        format!(
            "urn:uuid:{}",
            uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("{family}{n}").as_bytes())
        )
    };
    transaction(
        "transaction",
        vec![
            entry(
                &u(1),
                json!({"resourceType": "Patient", "name": [{"family": family, "given": ["Wanjiru"]}], "gender": "female", "birthDate": "1988-04-12"}),
            ),
            entry(
                &u(2),
                json!({"resourceType": "Encounter", "status": "finished", "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}, "subject": {"reference": u(1)}, "period": {"start": "2026-11-01T09:00:00Z", "end": "2026-11-01T09:30:00Z"}}),
            ),
            entry(&u(3), heart_rate(&u(1), Some(&u(2)), "2026-11-01T09:05:00Z", 72.0)),
            entry(
                &u(4),
                json!({"resourceType": "Condition", "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.9", "display": "Type 2 diabetes mellitus without complications"}]}, "subject": {"reference": u(1)}, "encounter": {"reference": u(2)}}),
            ),
            entry(
                &u(5),
                json!({"resourceType": "AllergyIntolerance", "code": {"text": "Peanut"}, "patient": {"reference": u(1)}, "criticality": "high"}),
            ),
            entry(
                &u(6),
                json!({"resourceType": "Immunization", "status": "completed", "vaccineCode": {"text": "Influenza"}, "patient": {"reference": u(1)}, "occurrenceDateTime": "2026-10-01"}),
            ),
        ],
    )
}

fn statuses(response: &Value) -> Vec<String> {
    response["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["response"]["status"].as_str().unwrap().to_owned())
        .collect()
}

db_test!(transactions_take_a_record_in_whole_or_not_at_all, |t| {
    let w = ward(&t).await;
    let writer = who(&t, "fh.writer", &[Role::Receptionist, Role::Doctor]).await;
    let imports = || {
        let t = &t;
        async move { salus_db::audit::actions_of(t.app.db.reader(), "fhir.import").await.unwrap().len() }
    };
    let audited = imports().await;
    let (status, b, _) = post(&t, &writer, "/fhir", &new_record("Mwangi"), &[]).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["type"], "transaction-response");
    valid(&b);
    assert!(statuses(&b).iter().all(|s| s == "201 Created"), "{b}");
    assert_eq!(imports().await, audited + 1, "one write event for the patient, with the write");
    // Every entry reads back where its location says, as the resource it was sent as.
    let locations: Vec<String> = b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["response"]["location"].as_str().unwrap().trim_end_matches("/_history/1").to_owned())
        .collect();
    let mut read = Vec::new();
    for l in &locations {
        let (status, r) = fhir(&t, &writer, &format!("/fhir/{l}")).await;
        assert_eq!(status, 200, "{l}: {r}");
        valid(&r);
        read.push(r);
    }
    let patient = format!("Patient/{}", read[0]["id"].as_str().unwrap());
    assert_eq!(read[0]["name"][0]["family"], "Mwangi");
    assert_eq!(read[1]["subject"]["reference"], json!(patient), "the urn:uuid became the patient's id");
    assert_eq!(read[2]["valueQuantity"]["value"], 72.0);
    assert_eq!(read[2]["encounter"]["reference"], json!(locations[1]));
    assert_eq!(read[3]["code"]["coding"][0]["code"], "E11.9");
    assert_eq!(read[4]["criticality"], "high");
    assert_eq!(read[5]["vaccineCode"]["text"], "Influenza");

    // The same transaction again creates nothing: the same locations, each 200.
    let (status, again, _) = post(&t, &writer, "/fhir", &new_record("Mwangi"), &[]).await;
    assert_eq!(status, 200, "{again}");
    assert!(statuses(&again).iter().all(|s| s == "200 OK"), "{again}");
    assert_eq!(again["entry"][0]["response"]["location"], b["entry"][0]["response"]["location"]);
    let (_, found) = fhir(&t, &writer, "/fhir/Patient?family=Mwangi").await;
    assert_eq!(ids(&found).len(), 1, "{found}");

    // All or nothing: a record with a claim (not taken in) leaves nothing behind.
    let mut tx = new_record("Otieno");
    tx["entry"].as_array_mut().unwrap().push(entry(
        "urn:uuid:6c1c4b1e-0000-4000-8000-000000000001",
        json!({"resourceType": "Claim", "status": "active"}),
    ));
    let (status, o, _) = post(&t, &writer, "/fhir", &tx, &[]).await;
    assert_eq!((status, issue_code(&o)), (422, "processing".to_owned()), "{o}");
    assert!(o.to_string().contains("entry 6 (Claim)"), "names the entry: {o}");
    let (_, found) = fhir(&t, &writer, "/fhir/Patient?family=Otieno").await;
    assert!(ids(&found).is_empty(), "nothing half-written: {found}");
    // A reference to a patient Salus does not have, or does not let the caller write to.
    let stranger = "Patient/0190a0b0-0000-7000-8000-000000000000";
    let tx = transaction(
        "transaction",
        vec![entry(
            "urn:uuid:6c1c4b1e-0000-4000-8000-000000000002",
            heart_rate(stranger, None, "2026-11-02T10:00:00Z", 80.0),
        )],
    );
    let (status, o, _) = post(&t, &writer, "/fhir", &tx, &[]).await;
    assert_eq!(status, 422, "{o}");
    assert!(o.to_string().contains("is not known"), "{o}");
    for (path, kind) in [("/fhir", "transaction"), ("/fhir", "document")] {
        let (status, _, _) = post(&t, &writer, path, &json!({"resourceType": "Bundle", "type": kind, "entry": [{"request": {"method": "DELETE", "url": "Patient/x"}}]}), &[]).await;
        assert!(status == 405 || status == 400, "{kind}: {status}");
    }
    let (status, o, _) = post(&t, &writer, "/fhir", &json!({"resourceType": "Patient"}), &[]).await;
    assert_eq!(status, 400, "{o}");
    let res = writer
        .client
        .post(t.url("/fhir"))
        .header("x-csrf-token", &writer.csrf)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    // A conditional reference is searched for, and must find exactly one.
    let p = &w.patient;
    let hr = heart_rate("Patient?family=Pillai&birthdate=1970-02-02", None, "2026-11-03T08:00:00Z", 64.0);
    let (status, made, location) = post(&t, &w.nurse, "/fhir/Observation", &hr, &[]).await;
    assert_eq!(status, 201, "{made}");
    valid(&made);
    assert_eq!(made["subject"]["reference"], json!(format!("Patient/{p}")));
    assert!(
        location.ends_with(&format!("/fhir/Observation/{}/_history/1", made["id"].as_str().unwrap())),
        "{location}"
    );
    let (_, desk_patient) = send(&t, &w.desk, "POST", "/api/v1/patients", Some(json!({"given_names": "Ravi", "family_name": "Pillai", "sex": "male", "birth_date": "1970-02-02", "not_a_duplicate": true})), None).await;
    assert!(desk_patient["id"].is_string(), "{desk_patient}");
    let hr = heart_rate("Patient?family=Pillai&birthdate=1970-02-02", None, "2026-11-03T09:00:00Z", 66.0);
    let (status, o, _) = post(&t, &w.nurse, "/fhir/Observation", &hr, &[]).await;
    assert_eq!((status, issue_code(&o)), (412, "multiple-matches".to_owned()), "two match: {o}");

    // The caller's own permissions: a nurse records vital signs, not diagnoses; the desk
    // registers patients, not observations; a patient's account writes nothing.
    let condition = json!({"resourceType": "Condition", "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I10"}]}, "subject": {"reference": format!("Patient/{p}")}});
    let (status, o, _) = post(&t, &w.nurse, "/fhir/Condition", &condition, &[]).await;
    assert_eq!((status, issue_code(&o)), (403, "forbidden".to_owned()), "{o}");
    let (status, made, _) = post(&t, &w.doc, "/fhir/Condition", &condition, &[]).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["code"]["coding"][0]["code"], "I10");
    let hr = heart_rate(&format!("Patient/{p}"), None, "2026-11-04T08:00:00Z", 70.0);
    assert_eq!(post(&t, &w.desk, "/fhir/Observation", &hr, &[]).await.0, 403);
    let me = patient_account(&t, &w).await;
    assert_eq!(post(&t, &me, "/fhir/Observation", &hr, &[]).await.0, 403);
    let (status, made, _) = post(&t, &w.desk, "/fhir/Patient", &json!({"resourceType": "Patient", "name": [{"family": "Kamau", "given": ["Njeri"]}], "gender": "female"}), &[]).await;
    assert_eq!(status, 201, "{made}");
    valid(&made);
    assert!(
        made["identifier"][0]["value"].as_str().is_some_and(|m| !m.is_empty()),
        "an MRN was given: {made}"
    );
    // Types Salus makes in its own workflow, and interactions it does not take.
    let (status, o, _) =
        post(&t, &w.doc, "/fhir/MedicationRequest", &json!({"resourceType": "MedicationRequest"}), &[]).await;
    assert_eq!((status, issue_code(&o)), (405, "not-supported".to_owned()), "{o}");
    let (status, o, _) = post(&t, &w.doc, "/fhir/Condition", &json!({"resourceType": "Patient"}), &[]).await;
    assert_eq!(status, 400, "{o}");
    for method in ["PUT", "DELETE"] {
        let (status, o) = send(
            &t,
            &w.doc,
            method,
            &format!("/fhir/Condition/{}", made["id"].as_str().unwrap()),
            Some(condition.clone()),
            None,
        )
        .await;
        assert_eq!((status, o["resourceType"].as_str()), (405, Some("OperationOutcome")), "{method}: {o}");
        assert!(o["issue"][0]["diagnostics"].as_str().unwrap().contains("entered in error"), "{o}");
    }

    // A record names a visit of its own patient only.
    let visit = open(&t, &w).await;
    let other = format!("Patient/{}", w.other_patient);
    let hr = heart_rate(&other, Some(&format!("Encounter/{visit}")), "2026-11-04T09:00:00Z", 71.0);
    let (status, o, _) = post(&t, &w.nurse, "/fhir/Observation", &hr, &[]).await;
    assert_eq!(status, 422, "{o}");
    assert!(o.to_string().contains("another patient's visit"), "{o}");
    let (_, theirs) = fhir(&t, &w.nurse, &format!("/fhir/Observation?patient={}", w.other_patient)).await;
    assert!(ids(&theirs).is_empty(), "{theirs}");

    // A batch: each entry on its own.
    let batch = transaction(
        "batch",
        vec![
            entry(
                "urn:uuid:6c1c4b1e-0000-4000-8000-000000000003",
                heart_rate(&format!("Patient/{p}"), None, "2026-11-05T08:00:00Z", 90.0),
            ),
            entry(
                "urn:uuid:6c1c4b1e-0000-4000-8000-000000000004",
                heart_rate(stranger, None, "2026-11-05T08:00:00Z", 91.0),
            ),
        ],
    );
    let (status, b, _) = post(&t, &w.nurse, "/fhir", &batch, &[]).await;
    assert_eq!(status, 200, "{b}");
    valid(&b);
    assert_eq!(b["type"], "batch-response");
    let s = statuses(&b);
    assert_eq!((s[0].as_str(), s[1].as_str()), ("201 Created", "422 Unprocessable Entity"), "{b}");
    assert_eq!(b["entry"][1]["response"]["outcome"]["resourceType"], "OperationOutcome");
    let (_, hrs) = fhir(&t, &w.nurse, &format!("/fhir/Observation?patient={p}&code=8867-4")).await;
    assert_eq!(ids(&hrs).len(), 2, "the conditional one and the batch's good one: {hrs}");
});

db_test!(racing_conditional_creates_make_one_patient, |t| {
    let desk = who(&t, "fh.desk", &[Role::Receptionist]).await;
    let resource = json!({"resourceType": "Patient", "identifier": [{"system": "urn:salus:id:passport", "value": "K1234567"}], "name": [{"family": "Achieng", "given": ["Mercy"]}], "gender": "female", "birthDate": "1991-07-30"});
    let criteria = "identifier=urn:salus:id:passport|K1234567";
    let header = [("if-none-exist", criteria)];
    let tries =
        futures::future::join_all((0..4).map(|_| post(&t, &desk, "/fhir/Patient", &resource, &header))).await;
    let made: HashSet<String> = tries
        .iter()
        .map(|(s, b, _)| {
            assert!(*s == 201 || *s == 200, "{s}: {b}");
            b["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(made.len(), 1, "every racer answers with the one patient: {tries:?}");
    assert_eq!(tries.iter().filter(|(s, _, _)| *s == 201).count(), 1, "one was created");
    let (_, found) = fhir(&t, &desk, &format!("/fhir/Patient?{criteria}")).await;
    assert_eq!(ids(&found), made.into_iter().collect::<Vec<_>>(), "{found}");
    // Later, with the criteria in another order or form: found, not made.
    let (status, b, _) = post(
        &t,
        &desk,
        "/fhir/Patient",
        &resource,
        &[("if-none-exist", "family=Achieng&birthdate=1991-07-30")],
    )
    .await;
    assert_eq!(status, 200, "{b}");
    // Criteria matching two patients refuse the create.
    let mut twin = resource.clone();
    twin["identifier"] = json!([]);
    twin["name"][0]["given"] = json!(["Faith"]);
    assert_eq!(post(&t, &desk, "/fhir/Patient", &twin, &[]).await.0, 201);
    let (status, o, _) =
        post(&t, &desk, "/fhir/Patient", &twin, &[("if-none-exist", "family=Achieng")]).await;
    assert_eq!((status, issue_code(&o)), (412, "multiple-matches".to_owned()), "{o}");
});

/// A FHIR PUT as `w`, with `If-Match` when given: status and body.
async fn put(t: &common::TestApp, w: &Who, path: &str, body: &Value, if_match: Option<&str>) -> (u16, Value) {
    let mut req = w
        .client
        .put(t.url(path))
        .header("x-csrf-token", &w.csrf)
        .header("content-type", "application/fhir+json")
        .body(body.to_string());
    if let Some(v) = if_match {
        req = req.header("if-match", v);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    if status >= 400 {
        assert_eq!(body["resourceType"], "OperationOutcome", "{path}: {body}");
    }
    valid(&body);
    (status, body)
}

db_test!(patients_update_against_their_version_and_keep_their_history, |t| {
    let w = ward(&t).await;
    let p = &w.patient;
    let path = format!("/fhir/Patient/{p}");
    let (_, v1) = fhir(&t, &w.desk, &path).await;
    assert_eq!(v1["meta"]["versionId"], "1");
    // The resource as read, sent back: nothing changes, no new version.
    let (status, same) = put(&t, &w.desk, &path, &v1, Some("W/\"1\"")).await;
    assert_eq!((status, same["meta"]["versionId"].as_str()), (200, Some("1")), "{same}");
    let mut edit = v1.clone();
    edit["name"][0]["family"] = json!("Pillai-Menon");
    edit["address"] = json!([{"line": ["12 Canal Road"], "city": "Kochi", "country": "IN"}]);
    edit["identifier"]
        .as_array_mut()
        .unwrap()
        .push(json!({"system": "urn:salus:id:passport", "value": "M7654321"}));
    let (status, v2) = put(&t, &w.desk, &path, &edit, Some("W/\"1\"")).await;
    assert_eq!(status, 200, "{v2}");
    assert_eq!(
        (v2["meta"]["versionId"].as_str(), v2["name"][0]["family"].as_str()),
        (Some("2"), Some("Pillai-Menon"))
    );
    assert_eq!(v2["address"][0]["city"], "Kochi");
    assert!(v2["identifier"].as_array().unwrap().iter().any(|i| i["value"] == "M7654321"), "{v2}");
    // The same edit against the old version is refused: someone's change would be lost.
    let (status, o) = put(&t, &w.desk, &path, &edit, Some("W/\"1\"")).await;
    assert_eq!((status, issue_code(&o)), (412, "conflict".to_owned()), "{o}");
    let (status, o) = put(&t, &w.desk, &path, &edit, None).await;
    assert_eq!((status, issue_code(&o)), (428, "required".to_owned()), "{o}");
    let mut other_id = edit.clone();
    other_id["id"] = json!(w.other_patient);
    assert_eq!(put(&t, &w.desk, &path, &other_id, Some("W/\"2\"")).await.0, 400);
    let mut mrn = edit.clone();
    mrn["identifier"][0]["value"] = json!("X-1");
    let (status, o) = put(&t, &w.desk, &path, &mrn, Some("W/\"2\"")).await;
    assert_eq!(status, 422, "{o}");
    let mut dead = edit.clone();
    dead["deceasedDateTime"] = json!("2026-11-20T10:00:00Z");
    assert_eq!(put(&t, &w.desk, &path, &dead, Some("W/\"2\"")).await.0, 422, "a death has its own use case");
    assert_eq!(
        put(&t, &w.nurse, &path, &edit, Some("W/\"2\"")).await.0,
        403,
        "a nurse does not edit demographics"
    );
    let me = patient_account(&t, &w).await;
    assert_eq!(
        put(&t, &me, &path, &edit, Some("W/\"2\"")).await.0,
        404,
        "a patient edits nothing (as in the API)"
    );

    // Its history: every version, newest first, each readable on its own.
    let (status, h) = fhir(&t, &w.desk, &format!("{path}/_history")).await;
    assert_eq!(status, 200, "{h}");
    valid(&h);
    assert_eq!((h["type"].as_str(), h["total"].as_u64()), (Some("history"), Some(2)));
    assert_eq!(h["entry"][0]["resource"]["name"][0]["family"], "Pillai-Menon");
    assert_eq!(h["entry"][1]["resource"]["name"][0]["family"], "Pillai");
    assert!(h["entry"][1]["resource"]["address"].is_null(), "version 1 had no address: {h}");
    assert_eq!(h["entry"][1]["request"]["method"], "POST");
    let (status, old) = fhir(&t, &w.desk, &format!("{path}/_history/1")).await;
    assert_eq!((status, old["name"][0]["family"].as_str()), (200, Some("Pillai")));
    assert_eq!(old["identifier"].as_array().unwrap().len(), 1, "the passport came in version 2: {old}");
    assert_eq!(fhir(&t, &w.desk, &format!("{path}/_history/3")).await.0, 404);
    assert_eq!(fhir(&t, &me, &format!("/fhir/Patient/{}/_history", w.other_patient)).await.0, 404);
    // A page at a time, down the versions: an edit meanwhile is neither repeated nor skipped.
    let (_, first) = fhir(&t, &w.desk, &format!("{path}/_history?_count=1")).await;
    assert_eq!(first["entry"][0]["resource"]["meta"]["versionId"], "2");
    let next = first["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next").unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut third = v2.clone();
    third["address"][0]["city"] = json!("Ernakulam");
    assert_eq!(put(&t, &w.desk, &path, &third, Some("W/\"2\"")).await.0, 200);
    let (_, second) = fhir(&t, &w.desk, &next[next.find("/fhir/").unwrap()..]).await;
    assert_eq!(second["entry"][0]["resource"]["meta"]["versionId"], "1", "{second}");
    assert_eq!(fhir(&t, &w.desk, &format!("{path}/_history?_count=0")).await.0, 400);
    // A clinical record is served at its one version.
    let (status, _) = fhir(&t, &w.doc, &format!("/fhir/Encounter/{}/_history", open(&t, &w).await)).await;
    assert_eq!(status, 200);

    // A conditional update: created when nothing matches, updated when one does.
    let criteria = "/fhir/Patient?identifier=urn:salus:id:passport|C9990001";
    let new = json!({"resourceType": "Patient", "identifier": [{"system": "urn:salus:id:passport", "value": "C9990001"}], "name": [{"family": "Wekesa", "given": ["Brian"]}], "gender": "male", "birthDate": "1979-03-03"});
    let (status, made) = put(&t, &w.desk, criteria, &new, None).await;
    assert_eq!(status, 201, "{made}");
    let mut moved = made.clone();
    moved["address"] = json!([{"city": "Kisumu"}]);
    let (status, updated) = put(&t, &w.desk, criteria, &moved, None).await;
    assert_eq!(
        (status, updated["id"].clone(), updated["meta"]["versionId"].as_str()),
        (200, made["id"].clone(), Some("2")),
        "{updated}"
    );
    assert_eq!(updated["address"][0]["city"], "Kisumu");
    let (_, born) = fhir(&t, &w.desk, "/fhir/Patient?birthdate=1970-02-02").await;
    assert_eq!(ids(&born).len(), 2, "{born}");
    let (status, o) = put(&t, &w.desk, "/fhir/Patient?birthdate=1970-02-02", &new, None).await;
    assert_eq!((status, issue_code(&o)), (412, "multiple-matches".to_owned()), "{o}");
});
