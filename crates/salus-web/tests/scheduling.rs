//! Scheduling through the API: sessions, slots, booking with its refusals, the status
//! machine, rescheduling, and a race for the last places that the database decides — on
//! SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::page::Page;

use chrono::{Datelike, Duration};
use common::TestApp;
use common::ward::{Who, send, who};
use salus_app::Ctx;
use salus_core::Role;
use serde_json::{Value, json};

fn fields(p: &Value) -> Vec<String> {
    p["errors"]
        .as_array()
        .map(|a| a.iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// A clinic a week ahead: a doctor with a Monday-style session 09:00–10:00 in 15-minute
/// slots of `capacity`, on the weekday of `day`; a patient; reception and the doctor signed in.
struct Clinic {
    admin: Who,
    desk: Who,
    doc: Who,
    doctor_id: String,
    patient_id: String,
    day: String,
}

async fn clinic(t: &TestApp, capacity: i32) -> Clinic {
    let admin = who(t, "sc.admin", &[Role::Admin]).await;
    let desk = who(t, "sc.desk", &[Role::Receptionist]).await;
    let doc = who(t, "sc.doc", &[Role::Doctor]).await;
    let doctor_id =
        t.app.identity().find_user_by_username(&Ctx::operator(), "sc.doc").await.unwrap().id.to_string();
    let (_, f) =
        send(t, &admin, "POST", "/api/v1/facilities", Some(json!({"code": "MAIN", "name": "Main"})), None)
            .await;
    let (_, d) = send(
        t,
        &admin,
        "POST",
        "/api/v1/departments",
        Some(json!({"facility_id": f["id"], "code": "OPD", "name": "OPD"})),
        None,
    )
    .await;
    let today = salus_app::scheduling::local_now(t.app.time_zone).0;
    let day = today + Duration::days(7);
    let template = json!({"doctor_id": doctor_id, "department_id": d["id"], "weekday": day.weekday().number_from_monday(),
        "start": "09:00", "end": "10:00", "slot_minutes": 15, "capacity": capacity, "overbook": 1, "valid_from": today.to_string()});
    let (status, tpl) = send(t, &admin, "POST", "/api/v1/schedules", Some(template), None).await;
    assert_eq!(status, 201, "{tpl}");
    let (status, p) = send(
        t,
        &desk,
        "POST",
        "/api/v1/patients",
        Some(json!({"given_names": "Lakshmi", "family_name": "Iyer",
        "sex": "female", "birth_date": "1975-05-05", "not_a_duplicate": true})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{p}");
    Clinic {
        admin,
        desk,
        doc,
        doctor_id,
        patient_id: p["id"].as_str().unwrap().to_owned(),
        day: day.to_string(),
    }
}

/// An appointment today, `minutes` from now, written straight to the database (a booking
/// through the API cannot be made for a time already past, and today's sessions may be).
/// An appointment of today, `minutes` from now: later if today still has that long,
/// else earlier (run at 23:40 in the facility's zone, "30 minutes on" is tomorrow).
async fn todays(t: &TestApp, c: &Clinic, minutes: i64) -> String {
    let now = chrono::Utc::now();
    let today = now.with_timezone(&t.app.time_zone).date_naive();
    let mut starts = now + Duration::minutes(minutes);
    if starts.with_timezone(&t.app.time_zone).date_naive() != today {
        starts = now - Duration::minutes(minutes);
    }
    let local = starts.with_timezone(&t.app.time_zone);
    let row = salus_db::entity::appointment::Model {
        id: uuid::Uuid::now_v7(),
        patient_id: c.patient_id.parse().unwrap(),
        doctor_id: c.doctor_id.parse().unwrap(),
        department_id: None,
        slot_date: local.date_naive(),
        slot_time: Some(local.format("%H:%M").to_string()),
        starts_at: starts,
        duration_minutes: 15,
        seat: Some(1),
        kind: "booked".into(),
        status: salus_core::scheduling::AppointmentStatus::Booked,
        reason: Some("Cough".into()),
        token: None,
        cancel_reason: None,
        rescheduled_to: None,
        created_by: None,
        created_at: starts,
        updated_at: starts,
        checked_in_at: None,
        started_at: None,
        finished_at: None,
        version: 1,
    };
    let id = row.id.to_string();
    salus_db::scheduling::insert_appointment(t.app.db.writer(), row).await.unwrap();
    id
}

fn booking(c: &Clinic, time: &str) -> Value {
    json!({"patient_id": c.patient_id, "doctor_id": c.doctor_id, "date": c.day, "time": time, "reason": "Follow-up"})
}

db_test!(slots_bookings_and_the_status_machine, |t| {
    let c = clinic(&t, 1).await;
    let (status, slots) = send(
        &t,
        &c.desk,
        "GET",
        &format!("/api/v1/slots?doctor_id={}&from={}&days=1", c.doctor_id, c.day),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{slots}");
    let times: Vec<&str> =
        slots["items"].as_array().unwrap().iter().map(|s| s["time"].as_str().unwrap()).collect();
    assert_eq!(times, vec!["09:00", "09:15", "09:30", "09:45"]);

    let (status, a) =
        send(&t, &c.desk, "POST", "/api/v1/appointments", Some(booking(&c, "09:15")), None).await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(a["status"], "booked");
    let id = a["id"].as_str().unwrap().to_owned();

    // The slot is full: 409 with the next free slots; the free list no longer offers it.
    let (status, p) =
        send(&t, &c.desk, "POST", "/api/v1/appointments", Some(booking(&c, "09:15")), None).await;
    assert_eq!(status, 409, "{p}");
    assert_eq!(p["type"], "urn:salus:problem:slot-taken");
    assert_eq!(p["next_free"][0]["time"], "09:00");
    let (_, slots) = send(
        &t,
        &c.desk,
        "GET",
        &format!("/api/v1/slots?doctor_id={}&from={}&days=1", c.doctor_id, c.day),
        None,
        None,
    )
    .await;
    assert_eq!(slots["items"].as_array().unwrap().len(), 3);
    // Reception may knowingly give the slot's one extra place.
    let mut extra = booking(&c, "09:15");
    extra["overbook"] = json!(true);
    assert_eq!(send(&t, &c.desk, "POST", "/api/v1/appointments", Some(extra.clone()), None).await.0, 201);
    assert_eq!(send(&t, &c.desk, "POST", "/api/v1/appointments", Some(extra), None).await.0, 409);

    // Bad bookings, each writing nothing: in the past, outside a session, not a doctor,
    // a patient that does not exist, a malformed time.
    let mut past = booking(&c, "09:00");
    past["date"] = json!("2020-01-06");
    let (status, p) = send(&t, &c.desk, "POST", "/api/v1/appointments", Some(past), None).await;
    assert_eq!((status, fields(&p)), (422, vec!["time".to_owned()]), "{p}");
    let (status, p) =
        send(&t, &c.desk, "POST", "/api/v1/appointments", Some(booking(&c, "11:00")), None).await;
    assert_eq!((status, fields(&p)), (422, vec!["time".to_owned()]), "{p}");
    let mut not_doctor = booking(&c, "09:00");
    not_doctor["doctor_id"] =
        json!(t.app.identity().find_user_by_username(&Ctx::operator(), "sc.desk").await.unwrap().id);
    let (status, p) = send(&t, &c.desk, "POST", "/api/v1/appointments", Some(not_doctor), None).await;
    assert_eq!((status, fields(&p)), (422, vec!["doctor_id".to_owned()]), "{p}");
    let mut nobody = booking(&c, "09:00");
    nobody["patient_id"] = json!("0190a0b0-0000-7000-8000-000000000000");
    assert_eq!(send(&t, &c.desk, "POST", "/api/v1/appointments", Some(nobody), None).await.0, 404);
    assert_eq!(
        send(&t, &c.desk, "POST", "/api/v1/appointments", Some(booking(&c, "9am")), None).await.0,
        422
    );
    let (_, day) =
        send(&t, &c.desk, "GET", &format!("/api/v1/appointments?date={}", c.day), None, None).await;
    assert_eq!(day["items"].as_array().unwrap().len(), 2, "only the two bookings");

    // Leave on that day: no slots, no booking.
    let leave = json!({"doctor_id": c.doctor_id, "date": c.day, "kind": "leave", "start": "09:30", "end": "10:00", "reason": "Conference"});
    let (status, e) = send(&t, &c.admin, "POST", "/api/v1/schedule-exceptions", Some(leave), None).await;
    assert_eq!(status, 201, "{e}");
    let (status, p) =
        send(&t, &c.desk, "POST", "/api/v1/appointments", Some(booking(&c, "09:45")), None).await;
    assert_eq!((status, fields(&p)), (422, vec!["time".to_owned()]), "{p}");
    assert_eq!(
        send(
            &t,
            &c.desk,
            "POST",
            "/api/v1/schedule-exceptions",
            Some(json!({"date": c.day, "kind": "leave"})),
            None
        )
        .await
        .0,
        403
    );

    // Next week's appointment cannot be checked in today, nor marked as not come.
    let future = format!("/api/v1/appointments/{id}/status");
    let (status, p) =
        send(&t, &c.desk, "POST", &future, Some(json!({"transition": "check_in"})), Some(1)).await;
    assert_eq!(status, 409, "{p}");
    assert_eq!(
        send(&t, &c.desk, "POST", &future, Some(json!({"transition": "no_show"})), Some(1)).await.0,
        409
    );

    // The status machine on today's appointment: only legal moves; start and finish are
    // the doctor's own.
    let id = todays(&t, &c, 30).await;
    let path = format!("/api/v1/appointments/{id}/status");
    let (status, p) = send(&t, &c.desk, "POST", &path, Some(json!({"transition": "finish"})), Some(1)).await;
    assert_eq!(status, 403, "{p}");
    let (status, p) = send(&t, &c.doc, "POST", &path, Some(json!({"transition": "finish"})), Some(1)).await;
    assert_eq!(status, 409, "booked cannot finish: {p}");
    assert_eq!(send(&t, &c.desk, "POST", &path, Some(json!({"transition": "check_in"})), None).await.0, 428);
    let (status, a) =
        send(&t, &c.desk, "POST", &path, Some(json!({"transition": "check_in"})), Some(1)).await;
    assert_eq!(status, 200, "{a}");
    assert_eq!((a["status"].clone(), a["token"].clone()), (json!("checked_in"), json!(1)));
    assert_eq!(
        send(&t, &c.desk, "POST", &path, Some(json!({"transition": "no_show"})), Some(2)).await.0,
        409
    );
    assert_eq!(
        send(&t, &c.doc, "POST", &path, Some(json!({"transition": "start"})), Some(1)).await.0,
        409,
        "stale version"
    );
    let other_doctor = who(&t, "sc.doc2", &[Role::Doctor]).await;
    let (status, p) =
        send(&t, &other_doctor, "POST", &path, Some(json!({"transition": "start"})), Some(2)).await;
    assert_eq!(status, 409, "another doctor's patient: {p}");
    assert_eq!(send(&t, &c.doc, "POST", &path, Some(json!({"transition": "start"})), Some(2)).await.0, 200);
    let (status, a) = send(&t, &c.doc, "POST", &path, Some(json!({"transition": "finish"})), Some(3)).await;
    assert_eq!((status, a["status"].clone()), (200, json!("finished")));
    assert_eq!(
        send(&t, &c.desk, "POST", &path, Some(json!({"transition": "cancel", "reason": "x"})), Some(4))
            .await
            .0,
        409
    );

    // The chart's timeline shows the visit; every step is audited against the patient.
    let (_, timeline) =
        send(&t, &c.desk, "GET", &format!("/api/v1/patients/{}/timeline", c.patient_id), None, None).await;
    let kinds: Vec<&str> =
        timeline["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "appointment").count(), 5, "{timeline}");
    let moves = salus_db::audit::actions_of(t.app.db.reader(), "appointment.").await.unwrap();
    assert!(moves.iter().filter(|e| e.action == "appointment.status").all(|e| e.patient_id.is_some()));
});

db_test!(cancel_and_reschedule_give_the_seat_back, |t| {
    let c = clinic(&t, 1).await;
    let (_, a) = send(&t, &c.desk, "POST", "/api/v1/appointments", Some(booking(&c, "09:00")), None).await;
    let id = a["id"].as_str().unwrap().to_owned();
    // Cancelling needs a reason; then the slot is free again.
    let path = format!("/api/v1/appointments/{id}/status");
    let (status, p) = send(&t, &c.desk, "POST", &path, Some(json!({"transition": "cancel"})), Some(1)).await;
    assert_eq!((status, fields(&p)), (422, vec!["reason".to_owned()]));
    let (status, a) = send(
        &t,
        &c.desk,
        "POST",
        &path,
        Some(json!({"transition": "cancel", "reason": "Patient travelling"})),
        Some(1),
    )
    .await;
    assert_eq!((status, a["cancel_reason"].clone()), (200, json!("Patient travelling")));
    let (status, b) =
        send(&t, &c.desk, "POST", "/api/v1/appointments", Some(booking(&c, "09:00")), None).await;
    assert_eq!(status, 201, "the seat was given back: {b}");

    // Reschedule 09:00 → 09:30: the old one points to the new, and 09:00 is free.
    let bid = b["id"].as_str().unwrap().to_owned();
    let move_to = json!({"date": c.day, "time": "09:30"});
    let (status, n) = send(
        &t,
        &c.desk,
        "POST",
        &format!("/api/v1/appointments/{bid}/reschedule"),
        Some(move_to.clone()),
        Some(1),
    )
    .await;
    assert_eq!(status, 201, "{n}");
    let (_, old) = send(&t, &c.desk, "GET", &format!("/api/v1/appointments/{bid}"), None, None).await;
    assert_eq!(
        (old["status"].clone(), old["rescheduled_to"].clone()),
        (json!("rescheduled"), n["id"].clone())
    );
    let (status, _) =
        send(&t, &c.desk, "POST", &format!("/api/v1/appointments/{bid}/reschedule"), Some(move_to), Some(2))
            .await;
    assert_eq!(status, 409, "a rescheduled appointment cannot move again");
    assert_eq!(
        send(&t, &c.desk, "POST", "/api/v1/appointments", Some(booking(&c, "09:00")), None).await.0,
        201
    );
    assert_eq!(
        send(&t, &c.doc, "POST", "/api/v1/appointments", Some(booking(&c, "09:15")), None).await.0,
        403,
        "doctors do not book"
    );
});

db_test!(a_race_for_the_last_places_is_decided_by_the_database, |t| {
    // Two instances on one database, as behind a load balancer; 24 requests race for the
    // three places of one slot.
    let c = clinic(&t, 3).await;
    let other = t.second_instance().await;
    let body = booking(&c, "09:45");
    let mut racers = Vec::new();
    for i in 0..24 {
        let url = if i % 2 == 0 { t.url("/api/v1/appointments") } else { other.url("/api/v1/appointments") };
        let (client, csrf, body) = (c.desk.client.clone(), c.desk.csrf.clone(), body.clone());
        racers.push(tokio::spawn(async move {
            let res = client.post(url).header("x-csrf-token", csrf).json(&body).send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap())
        }));
    }
    let mut booked = 0;
    for r in racers {
        let (status, body) = r.await.unwrap();
        match status {
            201 => booked += 1,
            409 => assert_eq!(body["next_free"][0]["time"], "09:00", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(booked, 3, "exactly the capacity");
    let (_, day) =
        send(&t, &c.desk, "GET", &format!("/api/v1/appointments?date={}", c.day), None, None).await;
    assert_eq!(day["items"].as_array().unwrap().len(), 3);
});

db_test!(a_merge_moves_appointments_and_an_unmerge_brings_them_back, |t| {
    let c = clinic(&t, 1).await;
    let (status, dup) = send(
        &t,
        &c.desk,
        "POST",
        "/api/v1/patients",
        Some(json!({"given_names": "Laxmi", "family_name": "Iyer",
        "sex": "female", "birth_date": "1975-05-05", "not_a_duplicate": true})),
        None,
    )
    .await;
    assert_eq!(status, 201);
    let mut body = booking(&c, "09:30");
    body["patient_id"] = dup["id"].clone();
    let (_, a) = send(&t, &c.desk, "POST", "/api/v1/appointments", Some(body), None).await;
    let dup_id = dup["id"].as_str().unwrap();
    let merge = json!({"survivor_id": c.patient_id});
    assert_eq!(
        send(&t, &c.admin, "POST", &format!("/api/v1/patients/{dup_id}/merge"), Some(merge), None).await.0,
        200
    );
    let (_, moved) =
        send(&t, &c.desk, "GET", &format!("/api/v1/appointments/{}", a["id"].as_str().unwrap()), None, None)
            .await;
    assert_eq!(moved["patient_id"], json!(c.patient_id));
    assert_eq!(
        send(&t, &c.admin, "POST", &format!("/api/v1/patients/{dup_id}/unmerge"), Some(json!({})), None)
            .await
            .0,
        204
    );
    let (_, back) =
        send(&t, &c.desk, "GET", &format!("/api/v1/appointments/{}", a["id"].as_str().unwrap()), None, None)
            .await;
    assert_eq!(back["patient_id"], dup["id"]);
});

async fn post_form(t: &TestApp, w: &Who, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut all = vec![("csrf_token", w.csrf.as_str())];
    all.extend_from_slice(fields);
    w.client.post(t.url(path)).form(&all).send().await.unwrap()
}

async fn page(t: &TestApp, w: &Who, path: &str) -> (u16, String) {
    let res = w.client.get(t.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

db_test!(reception_books_and_the_doctor_sees_the_worklist, |t| {
    let c = clinic(&t, 1).await;
    let book = format!(
        "/appointments/book?patient_id={}&doctor_id={}&date={}&reason=Cough",
        c.patient_id, c.doctor_id, c.day
    );
    let (status, html) = page(&t, &c.desk, &book).await;
    assert_eq!(status, 200);
    assert!(html.contains("aria-label=\"Book 09:00 with"), "{html}");
    let slot = |time: &'static str| {
        vec![
            ("patient_id", c.patient_id.as_str()),
            ("slot_doctor", c.doctor_id.as_str()),
            ("date", c.day.as_str()),
            ("time", time),
            ("reason", "Cough"),
        ]
    };
    let res = post_form(&t, &c.desk, "/appointments/book", &slot("09:00")).await;
    assert_eq!(res.status(), 303);
    assert_eq!(common::location(&res), format!("/patients/{}", c.patient_id));
    // The same slot again: the page says it is taken and offers the next free ones.
    let res = post_form(&t, &c.desk, "/appointments/book", &slot("09:00")).await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(
        Page::parse(&html).alert().is_some() && html.contains("Next free slots") && html.contains("09:15"),
        "{html}"
    );
    // A doctor does not book.
    assert_eq!(page(&t, &c.doc, &book).await.0, 403);

    // The day board shows the booking with reception's actions.
    let (status, html) = page(&t, &c.desk, &format!("/appointments?date={}", c.day)).await;
    assert_eq!(status, 200);
    assert!(html.contains("Lakshmi Iyer") && html.contains("Check in") && html.contains("Cough"), "{html}");
    let id = todays(&t, &c, 20).await;
    let back = "/appointments".to_owned();
    // A form that cannot be read (a version that is not a number) is an error page, and
    // changes nothing: the check-in below still starts from version 1.
    let res = post_form(
        &t,
        &c.desk,
        &format!("/appointments/{id}/check_in"),
        &[("version", "one"), ("return_to", &back)],
    )
    .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("The form could not be read"));
    let res = post_form(
        &t,
        &c.desk,
        &format!("/appointments/{id}/check_in"),
        &[("version", "1"), ("return_to", &back)],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(common::location(&res), back);
    // A stale form is not applied; the board says why.
    let res = post_form(
        &t,
        &c.desk,
        &format!("/appointments/{id}/check_in"),
        &[("version", "1"), ("return_to", &back)],
    )
    .await;
    assert_eq!(res.status(), 303);
    let (_, html) = page(&t, &c.desk, &back).await;
    assert!(html.contains("Not done"), "{html}");
    // Reception cannot start the consultation; the doctor can.
    assert_eq!(
        post_form(&t, &c.desk, &format!("/appointments/{id}/start"), &[("version", "2")]).await.status(),
        403
    );
    let res = post_form(
        &t,
        &c.doc,
        &format!("/appointments/{id}/start"),
        &[("version", "2"), ("return_to", "/worklist")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let (_, a) = send(&t, &c.desk, "GET", &format!("/api/v1/appointments/{id}"), None, None).await;
    assert_eq!(a["status"], "in_consultation");
    assert_eq!(
        post_form(&t, &c.desk, "/appointments/nope/check_in", &[("version", "1")]).await.status(),
        404
    );
    assert_eq!(
        post_form(&t, &c.desk, &format!("/appointments/{id}/explode"), &[("version", "1")]).await.status(),
        404
    );
    // The worklist is today's: the patient with the doctor now, not next week's booking.
    let (status, html) = page(&t, &c.doc, "/worklist").await;
    assert_eq!(status, 200);
    assert!(html.contains("Lakshmi Iyer") && html.contains("Finish") && html.contains("1 of 1"), "{html}");
});

db_test!(walk_ins_wait_by_token_and_the_doctor_calls_them_in, |t| {
    let c = clinic(&t, 1).await;
    let walk = |patient: &str| json!({"patient_id": patient, "doctor_id": c.doctor_id, "reason": "Fever"});
    let (status, first) =
        send(&t, &c.desk, "POST", "/api/v1/walk-ins", Some(walk(&c.patient_id)), None).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(
        (first["status"].clone(), first["token"].clone(), first["time"].clone()),
        (json!("checked_in"), json!(1), Value::Null)
    );
    let (_, other) = send(
        &t,
        &c.desk,
        "POST",
        "/api/v1/patients",
        Some(json!({"given_names": "Musa", "family_name": "Bello",
        "sex": "male", "birth_date": "1990-01-01", "not_a_duplicate": true})),
        None,
    )
    .await;
    let other_id = other["id"].as_str().unwrap().to_owned();
    let (_, second) = send(&t, &c.desk, "POST", "/api/v1/walk-ins", Some(walk(&other_id)), None).await;
    assert_eq!(second["token"], 2);
    // Bad walk-ins: a doctor does not register them; not a doctor; an unknown patient.
    assert_eq!(send(&t, &c.doc, "POST", "/api/v1/walk-ins", Some(walk(&c.patient_id)), None).await.0, 403);
    let mut wrong = walk(&c.patient_id);
    wrong["doctor_id"] =
        json!(t.app.identity().find_user_by_username(&Ctx::operator(), "sc.admin").await.unwrap().id);
    assert_eq!(send(&t, &c.desk, "POST", "/api/v1/walk-ins", Some(wrong), None).await.0, 422);
    assert_eq!(
        send(
            &t,
            &c.desk,
            "POST",
            "/api/v1/walk-ins",
            Some(walk("0190a0b0-0000-7000-8000-000000000000")),
            None
        )
        .await
        .0,
        404
    );

    // The waiting room: tokens in order, nobody in yet.
    let (_, q) = send(&t, &c.desk, "GET", "/api/v1/queue", None, None).await;
    assert_eq!(
        (q["items"][0]["current_token"].clone(), q["items"][0]["waiting_tokens"].clone()),
        (Value::Null, json!([1, 2]))
    );
    let (status, html) = page(&t, &c.desk, "/queue/board").await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("Lakshmi") && !html.contains("Musa"),
        "the screen shows tokens, not names: {html}"
    );

    // Call next: token 1 goes in; again while busy is refused; after finishing, token 2.
    assert_eq!(send(&t, &c.desk, "POST", "/api/v1/queue/call-next", None, None).await.0, 403);
    let (status, a) = send(&t, &c.doc, "POST", "/api/v1/queue/call-next", None, None).await;
    assert_eq!((status, a["token"].clone(), a["status"].clone()), (200, json!(1), json!("in_consultation")));
    let (status, p) = send(&t, &c.doc, "POST", "/api/v1/queue/call-next", None, None).await;
    assert_eq!(status, 409, "{p}");
    let id = a["id"].as_str().unwrap();
    let version = a["version"].as_i64().unwrap();
    assert_eq!(
        send(
            &t,
            &c.doc,
            "POST",
            &format!("/api/v1/appointments/{id}/status"),
            Some(json!({"transition": "finish"})),
            Some(version)
        )
        .await
        .0,
        200
    );
    let res = post_form(&t, &c.doc, "/worklist/call-next", &[]).await;
    assert_eq!(res.status(), 303);
    let (_, html) = page(&t, &c.doc, "/worklist").await;
    assert!(html.contains("Token 2 is called in") && html.contains("Musa Bello"), "{html}");
    let (_, html) = page(&t, &c.desk, "/queue").await;
    assert!(html.contains("hx-trigger=\"every 5s\"") && html.contains("<strong>2</strong>"), "{html}");
});

db_test!(no_booking_for_an_inactive_patient_or_a_disabled_doctor, |t| {
    let c = clinic(&t, 1).await;
    // The patient's record deactivated: refused beside patient_id, nothing booked.
    let (status, _) = send(
        &t,
        &c.desk,
        "POST",
        &format!("/api/v1/patients/{}/status", c.patient_id),
        Some(json!({"active": false})),
        Some(1),
    )
    .await;
    assert_eq!(status, 200);
    let (status, p) =
        send(&t, &c.desk, "POST", "/api/v1/appointments", Some(booking(&c, "09:00")), None).await;
    assert_eq!((status, fields(&p)), (422, vec!["patient_id".to_owned()]), "{p}");
    let (status, _) = send(
        &t,
        &c.desk,
        "POST",
        "/api/v1/walk-ins",
        Some(json!({"patient_id": c.patient_id, "doctor_id": c.doctor_id})),
        None,
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = send(
        &t,
        &c.desk,
        "POST",
        &format!("/api/v1/patients/{}/status", c.patient_id),
        Some(json!({"active": true})),
        Some(2),
    )
    .await;
    assert_eq!(status, 200);
    // The doctor's account disabled: no slots, no booking.
    let doctor: salus_core::UserId = c.doctor_id.parse().unwrap();
    t.app.identity().set_user_active(&Ctx::operator(), doctor, false).await.unwrap();
    let (status, p) =
        send(&t, &c.desk, "POST", "/api/v1/appointments", Some(booking(&c, "09:00")), None).await;
    assert_eq!(status, 422, "{p}");
    assert!(fields(&p).contains(&"doctor_id".to_owned()), "{p}");
    let (_, day) =
        send(&t, &c.desk, "GET", &format!("/api/v1/appointments?date={}", c.day), None, None).await;
    assert!(day["items"].as_array().unwrap().is_empty(), "nothing half-written");
});

db_test!(reception_moves_an_appointment_from_the_board, |t| {
    let c = clinic(&t, 1).await;
    let (_, a) = send(&t, &c.desk, "POST", "/api/v1/appointments", Some(booking(&c, "09:00")), None).await;
    let id = a["id"].as_str().unwrap().to_owned();
    let (_, html) = page(&t, &c.desk, &format!("/appointments?date={}", c.day)).await;
    assert!(
        html.contains(&format!("reschedule={id}&amp;version=1"))
            || html.contains(&format!("reschedule={id}&version=1")),
        "{html}"
    );
    let (status, html) = page(
        &t,
        &c.desk,
        &format!(
            "/appointments/book?patient_id={}&doctor_id={}&date={}&reschedule={id}&version=1",
            c.patient_id, c.doctor_id, c.day
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("Move the appointment") && !html.contains("Walk in today instead"), "{html}");
    let slot = |version: &'static str| {
        vec![
            ("patient_id", c.patient_id.as_str()),
            ("slot_doctor", c.doctor_id.as_str()),
            ("date", c.day.as_str()),
            ("time", "09:30"),
            ("reschedule", id.as_str()),
            ("version", version),
        ]
    };
    // From a stale version: refused, the page says why, nothing moved.
    let res = post_form(&t, &c.desk, "/appointments/book", &slot("7")).await;
    assert_eq!(res.status(), 409);
    assert!(Page::parse(&res.text().await.unwrap()).alert().is_some());
    let res = post_form(&t, &c.desk, "/appointments/book", &slot("1")).await;
    assert_eq!(res.status(), 303);
    let (_, old) = send(&t, &c.desk, "GET", &format!("/api/v1/appointments/{id}"), None, None).await;
    assert_eq!(old["status"], "rescheduled");
});
