//! Inpatient care through the API, on SQLite and PostgreSQL: wards and beds, the doctor's
//! request, the desk's admission, transfers and discharge. The failures other systems
//! shipped are each tried: two patients in one bed (care#850, hmis#4245), a bed shown
//! occupied with nobody in it (esm-patient-management#1333), a transfer that frees the
//! old bed in a second request (#1349), a discharge that does not free the bed
//! (helpwave#843) or frees it while the patient is still there (marley#1141), a
//! discharged patient transferred (bhima#7809).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ward::*;
use salus_core::Role;
use serde_json::{Value, json};

struct Wards {
    admin: Who,
    desk: Who,
    /// The ward "General medicine" and its beds 101-A, 101-B (general), 102-A (private).
    ward: String,
    beds: Vec<(String, String)>,
    doctor_id: String,
}

async fn wards(t: &common::TestApp, w: &Ward) -> Wards {
    let admin = who(t, "ip.admin", &[Role::Admin]).await;
    let (status, ward) = send(
        t,
        &admin,
        "POST",
        "/api/v1/wards",
        Some(json!({"code": "GM", "name": "General medicine"})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{ward}");
    let ward = ward["id"].as_str().unwrap().to_owned();
    let mut beds = Vec::new();
    for (room, letters, kind) in [("101", vec!["A", "B"], "general"), ("102", vec!["A"], "private")] {
        let body = json!({"room": room, "letters": letters, "bed_type": kind, "tags": ["oxygen"]});
        let (status, made) =
            send(t, &admin, "POST", &format!("/api/v1/wards/{ward}/beds"), Some(body), None).await;
        assert_eq!(status, 201, "{made}");
        for b in made.as_array().unwrap() {
            beds.push((b["label"].as_str().unwrap().to_owned(), b["id"].as_str().unwrap().to_owned()));
        }
    }
    let me: Value = w.doc.client.get(t.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    Wards {
        admin,
        desk: who(t, "ip.desk", &[Role::Receptionist]).await,
        ward,
        beds,
        doctor_id: me["id"].as_str().unwrap().to_owned(),
    }
}

impl Wards {
    fn bed(&self, label: &str) -> &str {
        &self.beds.iter().find(|(l, _)| l == label).unwrap().1
    }
}

async fn board(t: &common::TestApp, w: &Who, ward: &str) -> Value {
    let (status, b) = send(t, w, "GET", &format!("/api/v1/bed-board?ward_id={ward}"), None, None).await;
    assert_eq!(status, 200, "{b}");
    b
}

fn bed_of<'a>(board: &'a Value, label: &str) -> &'a Value {
    board["beds"].as_array().unwrap().iter().find(|b| b["bed"]["label"] == label).unwrap()
}

async fn admit(
    t: &common::TestApp,
    who: &Who,
    patient: &str,
    bed: &str,
    doctor: &str,
    request: Option<&str>,
) -> (u16, Value) {
    let body = json!({"patient_id": patient, "bed_id": bed, "attending_id": doctor, "diagnosis": "Community-acquired pneumonia", "request_id": request});
    send(t, who, "POST", "/api/v1/admissions", Some(body), None).await
}

db_test!(a_stay_from_request_to_leaving_keeps_every_bed_true, |t| {
    let w = ward(&t).await;
    let x = wards(&t, &w).await;

    // The doctor's request: bad ones refused, then one waiting at the desk.
    let path = format!("/api/v1/patients/{}/admission-requests", w.patient);
    let (status, e) = send(&t, &w.doc, "POST", &path, Some(json!({"reason": " "})), None).await;
    assert_eq!(status, 422, "{e}");
    let (status, _) = send(&t, &x.desk, "POST", &path, Some(json!({"reason": "Pneumonia"})), None).await;
    assert_eq!(status, 403, "the desk does not request admissions");
    let body =
        json!({"reason": "Pneumonia, needs IV antibiotics", "bed_type": "general", "expected_days": 5});
    let (status, r) = send(&t, &w.doc, "POST", &path, Some(body.clone()), None).await;
    assert_eq!(status, 201, "{r}");
    let (status, _) = send(&t, &w.doc, "POST", &path, Some(body), None).await;
    assert_eq!(status, 409, "one request waits at a time");
    let request = r["id"].as_str().unwrap().to_owned();
    let (_, queue) = send(&t, &x.desk, "GET", "/api/v1/admission-requests", None, None).await;
    assert_eq!(queue["items"][0]["patient"]["id"], w.patient.as_str(), "{queue}");

    // A bed held for the request; another patient cannot have it.
    let (status, b) = send(
        &t,
        &x.desk,
        "POST",
        &format!("/api/v1/beds/{}/state", x.bed("101-A")),
        Some(json!({"state": "reserved", "request_id": request})),
        None,
    )
    .await;
    assert_eq!((status, b["state"].as_str()), (200, Some("reserved")), "{b}");
    let (status, e) = admit(&t, &x.desk, &w.other_patient, x.bed("101-A"), &x.doctor_id, None).await;
    assert_eq!((status, e["type"].as_str()), (409, Some("urn:salus:problem:bed-taken")), "{e}");
    let free: Vec<&str> =
        e["free_beds"].as_array().unwrap().iter().map(|b| b["label"].as_str().unwrap()).collect();
    assert_eq!(free, vec!["101-B"], "the free beds of its type");

    // Bad admissions change nothing: a patient as the doctor, another patient's request,
    // a request for another patient's encounter, a patient who does not exist.
    let (status, e) = admit(&t, &x.desk, &w.patient, x.bed("101-A"), &w.patient, Some(&request)).await;
    assert_eq!((status, e["errors"][0]["field"].as_str()), (422, Some("attending_id")), "{e}");
    let (status, e) =
        admit(&t, &x.desk, &w.other_patient, x.bed("101-B"), &x.doctor_id, Some(&request)).await;
    assert_eq!((status, e["errors"][0]["field"].as_str()), (422, Some("request_id")), "{e}");
    let (_, enc) =
        send(&t, &w.doc, "POST", "/api/v1/encounters", Some(json!({"patient_id": w.patient})), None).await;
    let body = json!({"reason": "Observation", "encounter_id": enc["id"]});
    let (status, e) = send(
        &t,
        &w.doc,
        "POST",
        &format!("/api/v1/patients/{}/admission-requests", w.other_patient),
        Some(body),
        None,
    )
    .await;
    assert_eq!((status, e["errors"][0]["field"].as_str()), (422, Some("encounter_id")), "{e}");
    let nobody = uuid::Uuid::now_v7().to_string();
    assert_eq!(admit(&t, &x.desk, &nobody, x.bed("101-B"), &x.doctor_id, None).await.0, 404);
    let b = board(&t, &x.desk, &x.ward).await;
    assert!(
        b["beds"].as_array().unwrap().iter().all(|b| b["occupant"].is_null()),
        "nobody admitted by a refusal"
    );
    let (status, _) = admit(&t, &w.nurse, &w.patient, x.bed("101-A"), &x.doctor_id, Some(&request)).await;
    assert_eq!(status, 201, "a nurse admits too");
    let (_, stay) = send(&t, &x.desk, "GET", "/api/v1/admission-requests", None, None).await;
    assert_eq!(stay["items"], json!([]), "the request left the queue");
    let b = board(&t, &x.desk, &x.ward).await;
    let bed = bed_of(&b, "101-A");
    assert_eq!(
        (bed["bed"]["state"].as_str(), bed["occupant"]["patient"]["id"].as_str()),
        (Some("occupied"), Some(w.patient.as_str())),
        "{bed}"
    );
    let admission = bed["occupant"]["admission_id"].as_str().unwrap().to_owned();
    let (status, e) = admit(&t, &x.desk, &w.patient, x.bed("101-B"), &x.doctor_id, None).await;
    assert_eq!(status, 409, "admitted once: {e}");

    // Transfer: the new bed filled and the old one to cleaning, in one request.
    let move_to = |bed: &str| json!({"bed_id": bed, "reason": "Needs a private room"});
    let (status, s) = send(
        &t,
        &x.desk,
        "POST",
        &format!("/api/v1/admissions/{admission}/transfer"),
        Some(move_to(x.bed("102-A"))),
        None,
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["location"].as_array().unwrap().len(), 2);
    assert!(s["location"][0]["ended_at"].is_string() && s["location"][1]["ended_at"].is_null(), "{s}");
    let b = board(&t, &x.desk, &x.ward).await;
    assert_eq!(bed_of(&b, "101-A")["bed"]["state"], "cleaning");
    assert!(bed_of(&b, "101-A")["occupant"].is_null(), "nobody shown in an empty bed");
    assert_eq!(bed_of(&b, "102-A")["occupant"]["admission_id"], admission.as_str());
    // A bed in cleaning is not given; cleaned, it is.
    let (status, e) = send(
        &t,
        &x.desk,
        "POST",
        &format!("/api/v1/admissions/{admission}/transfer"),
        Some(move_to(x.bed("101-A"))),
        None,
    )
    .await;
    assert_eq!(status, 409, "{e}");
    let (status, _) = send(
        &t,
        &w.nurse,
        "POST",
        &format!("/api/v1/beds/{}/state", x.bed("101-A")),
        Some(json!({"state": "available"})),
        None,
    )
    .await;
    assert_eq!(status, 200);
    // Blocking needs a reason; an occupied bed is not blocked or freed by hand.
    let state = |bed: &str, body: Value| {
        let (t, desk) = (&t, &x.desk);
        let path = format!("/api/v1/beds/{bed}/state");
        async move { send(t, desk, "POST", &path, Some(body), None).await }
    };
    assert_eq!(state(x.bed("101-B"), json!({"state": "blocked"})).await.0, 422);
    assert_eq!(state(x.bed("102-A"), json!({"state": "available"})).await.0, 409);
    assert_eq!(state(x.bed("102-A"), json!({"state": "blocked", "reason": "Broken rail"})).await.0, 409);

    // Discharge: not before the doctor's order; the order keeps the bed occupied.
    let leave = json!({"disposition": "home"});
    let (status, _) = send(
        &t,
        &x.desk,
        "POST",
        &format!("/api/v1/admissions/{admission}/discharge"),
        Some(leave.clone()),
        None,
    )
    .await;
    assert_eq!(status, 409, "no discharge order yet");
    let (status, _) =
        send(&t, &x.desk, "POST", &format!("/api/v1/admissions/{admission}/discharge-order"), None, None)
            .await;
    assert_eq!(status, 403, "a doctor orders the discharge");
    let (status, s) =
        send(&t, &w.doc, "POST", &format!("/api/v1/admissions/{admission}/discharge-order"), None, None)
            .await;
    assert_eq!((status, s["status"].as_str()), (200, Some("discharge_ordered")), "{s}");
    let b = board(&t, &x.desk, &x.ward).await;
    assert_eq!(bed_of(&b, "102-A")["bed"]["state"], "occupied", "the patient has not left yet");
    let (status, e) = send(
        &t,
        &x.desk,
        "POST",
        &format!("/api/v1/admissions/{admission}/discharge"),
        Some(json!({"disposition": " "})),
        None,
    )
    .await;
    assert_eq!(status, 422, "{e}");
    let (status, s) = send(
        &t,
        &x.desk,
        "POST",
        &format!("/api/v1/admissions/{admission}/discharge"),
        Some(leave.clone()),
        None,
    )
    .await;
    assert_eq!((status, s["status"].as_str()), (200, Some("discharged")), "{s}");
    let b = board(&t, &x.desk, &x.ward).await;
    assert_eq!(bed_of(&b, "102-A")["bed"]["state"], "cleaning", "freed, to be cleaned");
    assert!(bed_of(&b, "102-A")["occupant"].is_null());
    // Discharged: not transferred, not discharged twice; the encounter ended with it.
    let (status, e) = send(
        &t,
        &x.desk,
        "POST",
        &format!("/api/v1/admissions/{admission}/transfer"),
        Some(move_to(x.bed("101-B"))),
        None,
    )
    .await;
    assert_eq!(status, 409, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("discharged"), "{e}");
    assert_eq!(
        send(&t, &x.desk, "POST", &format!("/api/v1/admissions/{admission}/discharge"), Some(leave), None)
            .await
            .0,
        409
    );
    let (_, enc) = send(
        &t,
        &w.doc,
        "GET",
        &format!("/api/v1/encounters/{}", s["encounter_id"].as_str().unwrap()),
        None,
        None,
    )
    .await;
    assert_eq!(
        (enc["encounter"]["class"].as_str(), enc["encounter"]["status"].as_str()),
        (Some("IMP"), Some("finished")),
        "{enc}"
    );
    // Another stay may begin.
    let (status, _) = admit(&t, &x.desk, &w.patient, x.bed("101-B"), &x.doctor_id, None).await;
    assert_eq!(status, 201);
    // Every admission, transfer and discharge was audited against the patient.
    let events = salus_db::audit::actions_of(t.app.db.reader(), "inpatient.").await.unwrap();
    for action in [
        "inpatient.request",
        "inpatient.admit",
        "inpatient.transfer",
        "inpatient.discharge_order",
        "inpatient.discharge",
        "inpatient.read",
    ] {
        assert!(events.iter().any(|e| e.action == action && e.patient_id.map(|p| p.to_string()) == Some(w.patient.clone())), "{action}");
    }
    let _ = &x.admin;
});

db_test!(two_desks_racing_for_one_bed_through_two_instances_one_wins, |t| {
    let w = ward(&t).await;
    let x = wards(&t, &w).await;
    let other = t.second_instance().await;
    // Eight patients, eight desks' requests for bed 101-A at once, half through each instance.
    let mut patients = vec![w.patient.clone(), w.other_patient.clone()];
    for n in 0..6 {
        let body = json!({"given_names": format!("Racer{n}"), "family_name": "Bed", "sex": "female", "birth_date": "1980-01-01", "not_a_duplicate": true});
        let (_, p) = send(&t, &w.desk, "POST", "/api/v1/patients", Some(body), None).await;
        patients.push(p["id"].as_str().unwrap().to_owned());
    }
    let mut racers = Vec::new();
    for (n, patient) in patients.iter().enumerate() {
        let url = if n % 2 == 0 { t.url("/api/v1/admissions") } else { other.url("/api/v1/admissions") };
        let (csrf, client) = (x.desk.csrf.clone(), x.desk.client.clone());
        let body = json!({"patient_id": patient, "bed_id": x.bed("101-A"), "attending_id": x.doctor_id, "diagnosis": "Dengue"});
        racers.push(tokio::spawn(async move {
            let res = client.post(url).header("x-csrf-token", csrf).json(&body).send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }));
    }
    let mut won = 0;
    for r in racers {
        let (status, body) = r.await.unwrap();
        match status {
            201 => won += 1,
            409 => {
                assert_eq!(body["type"], "urn:salus:problem:bed-taken", "{body}");
                assert_eq!(body["free_beds"][0]["label"], "101-B", "offered the free bed of its type");
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(won, 1, "one patient in the bed");
    let b = board(&t, &x.desk, &x.ward).await;
    let bed = bed_of(&b, "101-A");
    assert_eq!(bed["bed"]["state"], "occupied");
    assert!(bed["occupant"].is_object() && bed["companions"] == json!([]), "{bed}");
    // Exactly one stay in the house, and it is in that bed.
    let stays = salus_db::inpatient::in_house(t.app.db.reader(), None).await.unwrap();
    assert_eq!(stays.len(), 1);
    assert_eq!(stays[0].bed_id.to_string(), x.bed("101-A"));
});

db_test!(a_baby_shares_its_mothers_bed_and_moves_with_her, |t| {
    let w = ward(&t).await;
    let x = wards(&t, &w).await;
    let (status, mother) = admit(&t, &x.desk, &w.patient, x.bed("101-A"), &x.doctor_id, None).await;
    assert_eq!(status, 201, "{mother}");
    // Into an empty bed a companion is refused; into the mother's bed it is taken in.
    let body = |bed: &str| json!({"patient_id": w.other_patient, "bed_id": bed, "attending_id": x.doctor_id, "diagnosis": "Newborn", "companion": true});
    let (status, e) = send(&t, &x.desk, "POST", "/api/v1/admissions", Some(body(x.bed("101-B"))), None).await;
    assert_eq!(status, 422, "{e}");
    let (status, baby) =
        send(&t, &x.desk, "POST", "/api/v1/admissions", Some(body(x.bed("101-A"))), None).await;
    assert_eq!(status, 201, "{baby}");
    let b = board(&t, &x.desk, &x.ward).await;
    let bed = bed_of(&b, "101-A");
    assert_eq!(bed["occupant"]["patient"]["id"], w.patient.as_str());
    assert_eq!(bed["companions"][0]["patient"]["id"], w.other_patient.as_str(), "{bed}");
    // The mother moves: the baby goes with her, and the old bed is emptied whole.
    let id = mother["id"].as_str().unwrap();
    let (status, _) = send(
        &t,
        &x.desk,
        "POST",
        &format!("/api/v1/admissions/{id}/transfer"),
        Some(json!({"bed_id": x.bed("101-B")})),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let b = board(&t, &x.desk, &x.ward).await;
    assert_eq!(bed_of(&b, "101-B")["companions"][0]["patient"]["id"], w.other_patient.as_str());
    assert_eq!(bed_of(&b, "101-A")["bed"]["state"], "cleaning");
    // She cannot leave before the baby: the bed would be freed with a patient in it.
    send(&t, &w.doc, "POST", &format!("/api/v1/admissions/{id}/discharge-order"), None, None).await;
    let (status, e) = send(
        &t,
        &x.desk,
        "POST",
        &format!("/api/v1/admissions/{id}/discharge"),
        Some(json!({"disposition": "home"})),
        None,
    )
    .await;
    assert_eq!(status, 409, "{e}");
});

db_test!(the_wards_keep_their_statement_budgets, |t| {
    let w = ward(&t).await;
    let x = wards(&t, &w).await;
    let (status, _) = admit(&t, &x.desk, &w.patient, x.bed("101-A"), &x.doctor_id, None).await;
    assert_eq!(status, 201);
    let count = |method: &'static str, path: String, body: Option<Value>| {
        let (t, desk) = (&t, &x.desk);
        async move {
            let before = t.app.db.statements();
            let (status, out) = send(t, desk, method, &path, body, None).await;
            assert!(status < 300, "{method} {path}: {status} {out}");
            t.app.db.statements() - before
        }
    };
    let measured = vec![
        count("GET", format!("/api/v1/bed-board?ward_id={}", x.ward), None).await,
        count("GET", "/api/v1/beds/free".into(), None).await,
        count(
            "POST",
            "/api/v1/admissions".into(),
            Some(json!({"patient_id": w.other_patient, "bed_id": x.bed("101-B"), "attending_id": x.doctor_id, "diagnosis": "Dengue"})),
        )
        .await,
    ];
    // The board (7): the look, then wards, beds and stays side by side, their patients,
    // one read-audit commit — a ward's forty beds read in the same seven as four. Free
    // beds (2): the look and the beds. Admitting (15): the look; the patient; the doctor
    // and their roles; the bed; the patient's stay in the house; then one write — the
    // number, the encounter, the stay, the assignment (the unique index decides the
    // bed), the bed's state, the ward's name, the timeline and the audit event.
    let budgets: Vec<u64> = vec![7, 2, 15];
    println!("{measured:?} (budgets {budgets:?})");
    assert_eq!(measured, budgets);
});
