//! The master patient index through the API: registration, reads and edits with
//! versions, bad input, duplicates, search, access by relationship and break-the-glass,
//! merge and unmerge, photos — each on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use common::ward::{Who, send, send_with_headers, who};
use salus_core::Role;
use serde_json::{Value, json};

fn person(given: &str, family: &str, sex: &str, dob: &str) -> Value {
    json!({ "given_names": given, "family_name": family, "sex": sex, "birth_date": dob })
}

async fn register(t: &TestApp, w: &Who, body: Value) -> Value {
    let mut body = body;
    body["not_a_duplicate"] = json!(true);
    let (status, p) = send(t, w, "POST", "/api/v1/patients", Some(body), None).await;
    assert_eq!(status, 201, "{p}");
    p
}

async fn actions(t: &TestApp, prefix: &str) -> Vec<salus_db::entity::audit_event::Model> {
    salus_db::audit::actions_of(t.app.db.reader(), prefix).await.unwrap()
}

async fn patient_count(t: &TestApp) -> u64 {
    salus_db::patients::count_patients(t.app.db.reader()).await.unwrap()
}

db_test!(register_read_and_edit_with_versions_and_history, |t| {
    let desk = who(&t, "desk", &[Role::Receptionist]).await;
    let doctor = who(&t, "doc", &[Role::Doctor]).await;
    let mut body = person("Priya", "Raman", "female", "1984-03-01");
    body["phone"] = json!("098765 43210");
    body["identifiers"] = json!([{"system": "national_id", "value": "1234-5678-9012"}]);
    let (status, p, headers) =
        send_with_headers(&t, &desk, "POST", "/api/v1/patients", Some(body), None).await;
    assert_eq!(status, 201, "{p}");
    assert_eq!(headers["etag"], "\"1\"");
    let mrn = p["mrn"].as_str().unwrap();
    assert!(salus_core::patients::Mrn::parse(mrn).is_some(), "{mrn} has a valid check digit");
    assert_eq!(p["phone"], "+919876543210", "the facility's country code was added");
    let id = p["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/patients/{id}");

    // A clinician reads it; the read is in the audit trail with the patient's id.
    let (status, got) = send(&t, &doctor, "GET", &path, None, None).await;
    assert_eq!(status, 200);
    assert_eq!(got["identifiers"][0]["value"], "1234-5678-9012");
    let reads = actions(&t, "patient.read").await;
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].patient_id.unwrap().to_string(), id);
    assert_eq!(reads[0].actor_name, "doc");

    // Edit against version 1; then a stale edit is refused with the current record.
    let mut edit = person("Priya", "Raman", "female", "1984-03-01");
    edit["phone"] = json!("+91 99999 00000");
    edit["identifiers"] = json!([{"system": "national_id", "value": "1234-5678-9012"}]);
    let (status, after, headers) =
        send_with_headers(&t, &desk, "PUT", &path, Some(edit.clone()), Some(1)).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(headers["etag"], "\"2\"");
    edit["city"] = json!("Chennai");
    let (status, p) = send(&t, &desk, "PUT", &path, Some(edit.clone()), Some(1)).await;
    assert_eq!(status, 409);
    assert_eq!(p["type"], "urn:salus:problem:stale-version");
    assert_eq!(p["current"]["version"], 2);
    assert_eq!(p["current"]["city"], Value::Null, "the stale edit wrote nothing");
    let (status, p) = send(&t, &desk, "PUT", &path, Some(edit), None).await;
    assert_eq!(status, 428, "{p}");

    let (status, history) = send(&t, &doctor, "GET", &format!("{path}/history"), None, None).await;
    assert_eq!(status, 200);
    assert_eq!(history[0]["version"], 2);
    assert_eq!(
        history[0]["changes"][0],
        json!({"field": "phone", "old": "+919876543210", "new": "+919999900000"})
    );

    // The timeline tells it, newest first.
    let (_, timeline) = send(&t, &doctor, "GET", &format!("{path}/timeline"), None, None).await;
    let kinds: Vec<&str> =
        timeline["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["edited", "registered"]);

    // Death: not in the future, not before birth.
    let (status, _) = send(
        &t,
        &desk,
        "POST",
        &format!("{path}/status"),
        Some(json!({"deceased_at": "2999-01-01T00:00:00Z"})),
        Some(2),
    )
    .await;
    assert_eq!(status, 422);
    let (status, p) = send(
        &t,
        &desk,
        "POST",
        &format!("{path}/status"),
        Some(json!({"deceased_at": "2026-01-02T03:04:05Z"})),
        Some(2),
    )
    .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["deceased_at"], "2026-01-02T03:04:05Z");
});

db_test!(bad_registrations_write_nothing, |t| {
    let desk = who(&t, "desk", &[Role::Receptionist]).await;
    let mut first = person("Amina", "Yusuf", "female", "1990-05-05");
    first["identifiers"] = json!([{"system": "passport", "value": "A1234567"}]);
    let first = register(&t, &desk, first).await;
    let before = (patient_count(&t).await, actions(&t, "patient.register").await.len());

    let cases = [
        (json!({"given_names": "X", "sex": "female", "birth_date": "2999-01-01"}), "birth_date"),
        (json!({"given_names": "X", "sex": "female", "birth_date": "1800-01-01"}), "birth_date"),
        (json!({"given_names": "X", "sex": "female", "birth_date": "31/02/1990"}), "birth_date"),
        (json!({"given_names": "X", "sex": "female", "phone": "12ab34"}), "phone"),
        (json!({"given_names": "X", "sex": "female", "email": "not-an-email"}), "email"),
        (json!({"given_names": "X", "sex": "robot"}), "sex"),
        (json!({"given_names": " ", "sex": "male"}), "given_names"),
        (json!({"given_names": "X", "sex": "male", "blood_group": "C+"}), "blood_group"),
        (
            json!({"given_names": "X", "sex": "male", "identifiers": [{"system": "bogus", "value": "1"}]}),
            "identifiers",
        ),
        (
            json!({"given_names": "X", "sex": "male", "identifiers": [{"system": "passport", "value": "a123-4567"}]}),
            "identifiers",
        ),
    ];
    for (body, field) in cases {
        let (status, p) = send(&t, &desk, "POST", "/api/v1/patients", Some(body.clone()), None).await;
        assert_eq!(status, 422, "{body} → {p}");
        let fields: Vec<&str> =
            p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert!(fields.contains(&field), "{body}: {fields:?}");
    }
    // The taken passport names the record holding it.
    let body = json!({"given_names": "X", "sex": "male", "identifiers": [{"system": "passport", "value": "A1234567"}]});
    let (_, p) = send(&t, &desk, "POST", "/api/v1/patients", Some(body), None).await;
    assert!(p["errors"][0]["message"].as_str().unwrap().contains(first["mrn"].as_str().unwrap()), "{p}");
    // Unknown JSON fields, wrong types.
    let (status, _) = send(
        &t,
        &desk,
        "POST",
        "/api/v1/patients",
        Some(json!({"given_names": "X", "sex": "male", "shoe_size": 9})),
        None,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!((patient_count(&t).await, actions(&t, "patient.register").await.len()), before);
});

db_test!(probable_duplicates_are_shown_before_saving, |t| {
    let desk = who(&t, "desk", &[Role::Receptionist]).await;
    let mut john = person("John", "Smith", "male", "1984-03-01");
    john["phone"] = json!("+44 20 7946 0958");
    let john = register(&t, &desk, john).await;
    register(&t, &desk, person("Mary", "Jones", "female", "1984-03-01")).await;

    let jon = person("Jon", "Smyth", "male", "1984-03-01");
    let (status, p) = send(&t, &desk, "POST", "/api/v1/patients", Some(jon.clone()), None).await;
    assert_eq!(status, 409, "{p}");
    assert_eq!(p["type"], "urn:salus:problem:possible-duplicates");
    let dups = p["duplicates"].as_array().unwrap();
    assert_eq!(dups.len(), 1, "Mary Jones shares only the birthday: {p}");
    assert_eq!(dups[0]["patient"]["id"], john["id"]);
    let reasons = dups[0]["reasons"].as_array().unwrap();
    assert!(reasons.contains(&json!("name")) && reasons.contains(&json!("date of birth")));
    // The same phone and name without a date: flagged.
    let mut same_phone = person("John", "Smith", "male", "");
    same_phone["phone"] = json!("0044 20 7946 0958");
    let (status, _) = send(&t, &desk, "POST", "/api/v1/patients", Some(same_phone), None).await;
    assert_eq!(status, 409);
    // The same phone alone is not: families share one number.
    let mut wife = person("Sarah", "Smith", "female", "1986-04-04");
    wife["phone"] = json!("0044 20 7946 0958");
    let (status, _) = send(&t, &desk, "POST", "/api/v1/patients", Some(wife), None).await;
    assert_eq!(status, 201);
    // The clerk confirms it is someone else.
    let mut confirmed = jon;
    confirmed["not_a_duplicate"] = json!(true);
    let (status, _) = send(&t, &desk, "POST", "/api/v1/patients", Some(confirmed), None).await;
    assert_eq!(status, 201);
});

/// The ids of a search, in order.
async fn search(t: &TestApp, w: &Who, q: &str) -> Vec<String> {
    let url = format!("/api/v1/patients?q={}", urlencode(q));
    let (status, p) = send(t, w, "GET", &url, None, None).await;
    assert_eq!(status, 200, "{q}: {p}");
    p["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            h["patient"]["given_names"].as_str().unwrap().to_owned()
                + " "
                + h["patient"]["family_name"].as_str().unwrap()
        })
        .collect()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

db_test!(search_forgives_typos_order_and_diacritics, |t| {
    let desk = who(&t, "desk", &[Role::Receptionist]).await;
    let people = [
        ("John", "Smith", "1984-03-01", "+44 20 7946 0958"),
        ("Johnny", "Smithers", "1990-01-01", ""),
        ("Mary", "Jones", "1984-07-07", ""),
        ("José", "Álvarez", "1975-02-02", ""),
        ("Lakshmi", "Narayanan", "1962-12-12", "+91 98765 43210"),
        ("Muhammad", "Khan", "2001-06-06", ""),
        ("Nguyễn Thị", "Lan", "1999-09-09", ""),
        ("Chinedu", "Okafor", "1988-08-08", ""),
        ("Li", "Wei", "1970-01-01", ""),
    ];
    let mut mrns = Vec::new();
    for (g, f, d, ph) in people {
        let mut b = person(g, f, "unknown", d);
        b["phone"] = json!(ph);
        if g == "Chinedu" {
            b["identifiers"] = json!([{"system": "passport", "value": "A0987654"}]);
        }
        mrns.push(register(&t, &desk, b).await["mrn"].as_str().unwrap().to_owned());
    }
    assert_eq!(search(&t, &desk, "jon smyth").await.first().map(String::as_str), Some("John Smith"));
    assert_eq!(search(&t, &desk, "smith john").await.first().map(String::as_str), Some("John Smith"));
    assert_eq!(search(&t, &desk, "smith 1984").await, ["John Smith"]);
    assert_eq!(search(&t, &desk, "jose alvarez").await, ["José Álvarez"]);
    assert_eq!(search(&t, &desk, "mohammed").await, ["Muhammad Khan"]);
    assert_eq!(search(&t, &desk, "nguyen").await, ["Nguyễn Thị Lan"]);
    assert_eq!(search(&t, &desk, "li wei").await, ["Li Wei"]);
    assert_eq!(search(&t, &desk, "laksmi").await, ["Lakshmi Narayanan"]);
    assert_eq!(search(&t, &desk, "98765-43210").await, ["Lakshmi Narayanan"]);
    assert_eq!(search(&t, &desk, "+91 9876543210").await, ["Lakshmi Narayanan"]);
    assert_eq!(search(&t, &desk, "a0987654").await, ["Chinedu Okafor"]);
    assert_eq!(search(&t, &desk, &mrns[2].to_lowercase()).await, ["Mary Jones"]);
    assert_eq!(search(&t, &desk, "01/03/1984").await, ["John Smith"]);
    // Exact before prefix: "smith" puts Smith before Smithers.
    assert_eq!(search(&t, &desk, "smith").await, ["John Smith", "Johnny Smithers"]);
    assert!(search(&t, &desk, "zzyzx").await.is_empty());
    // Every patient returned was audited as listed.
    let before = actions(&t, "patient.listed").await.len();
    let found = search(&t, &desk, "smith").await.len();
    assert_eq!(actions(&t, "patient.listed").await.len(), before + found, "one event per patient returned");
    // Paging by cursor.
    let (_, p) = send(&t, &desk, "GET", "/api/v1/patients?q=smith&limit=1", None, None).await;
    let next = p["next_cursor"].as_str().unwrap();
    let (_, p2) =
        send(&t, &desk, "GET", &format!("/api/v1/patients?q=smith&limit=1&cursor={next}"), None, None).await;
    assert_eq!(p2["items"][0]["patient"]["family_name"], "Smithers");
    assert!(p2.get("next_cursor").is_none());
    // Bad input.
    let (status, _) = send(&t, &desk, "GET", "/api/v1/patients?q=", None, None).await;
    assert_eq!(status, 422);
    let (status, _) = send(&t, &desk, "GET", "/api/v1/patients?q=x&cursor=%%%", None, None).await;
    assert!(status == 400 || status == 422);
});

db_test!(a_name_half_typed_finds_its_holders_in_either_order, |t| {
    use salus_db::ConnectionTrait;
    let desk = who(&t, "desk", &[Role::Receptionist]).await;
    // More Priyas than a page holds.
    let families = ["Acharya", "Bhat", "Chopra", "Desai", "Gill", "Iyer", "Joshi", "Kapoor"];
    for i in 0..72 {
        let family = format!(
            "{}{}",
            families[i % families.len()],
            ["", "an", "wala", "ji", "e", "o", "i", "u", "ar"][i / families.len()]
        );
        let dob = format!("19{:02}-0{}-1{}", 50 + i % 40, 1 + i % 9, i % 10);
        register(&t, &desk, person("Priya", &family, "female", &dob)).await;
    }
    register(&t, &desk, person("Priya", "Sharma", "female", "1994-03-01")).await;
    register(&t, &desk, person("Sharmila", "Tagore", "female", "1946-12-08")).await;

    let priya = search(&t, &desk, "priya").await;
    assert_eq!(priya.len(), 20, "a full first page");
    assert!(priya.iter().all(|n| n.starts_with("Priya ")), "{priya:?}");
    // The last word half typed, in either order.
    for q in ["priya s", "priya sh", "priya shar", "sharma pri", "sharma priya", "sha priya"] {
        let found = search(&t, &desk, q).await;
        assert_eq!(found.first().map(String::as_str), Some("Priya Sharma"), "{q}: {found:?}");
        assert!(!found.iter().any(|n| n.contains("Tagore")), "{q}: every word must match: {found:?}");
    }
    assert_eq!(search(&t, &desk, "priya 1994").await, ["Priya Sharma"], "a birth year narrows a common name");

    // The upgrade that added the second word order (migration 13) fills it in for
    // patients registered before it.
    let db = t.app.db.writer();
    let backend = db.get_database_backend();
    let exec = |sql: &str| sea_orm::Statement::from_string(backend, sql.to_owned());
    db.execute_raw(exec("DELETE FROM patient_keys WHERE key = 'pr:priya sharma'")).await.unwrap();
    db.execute_raw(exec(
        "DELETE FROM seaql_migrations WHERE version = 'm20261125_000013_directed_name_pairs'",
    ))
    .await
    .unwrap();
    assert_eq!(t.app.db.migrate().await.unwrap(), ["m20261125_000013_directed_name_pairs"]);
    let n = db
        .query_one_raw(exec(
            "SELECT count(*) AS n FROM patient_keys WHERE key IN ('pr:priya sharma', 'pr:sharma priya')",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(n, 2, "both orders of the pair");
});

db_test!(access_follows_roles_relationships_and_the_glass, |t| {
    let desk = who(&t, "desk", &[Role::Receptionist]).await;
    let mut ravi = person("Ravi", "Kumar", "male", "1980-01-01");
    ravi["restricted"] = json!(false);
    let ravi = register(&t, &desk, ravi).await;
    let mut vip = person("Famous", "Person", "female", "1970-01-01");
    vip["restricted"] = json!(true);
    vip["restricted_reason"] = json!("VIP");
    let vip = register(&t, &desk, vip).await;
    let ravi_path = format!("/api/v1/patients/{}", ravi["id"].as_str().unwrap());
    let vip_path = format!("/api/v1/patients/{}", vip["id"].as_str().unwrap());

    // A patient account linked to Ravi reads Ravi, nobody else, and cannot search.
    let me = who(&t, "patient.ravi", &[Role::Patient]).await;
    let user =
        t.app.identity().find_user_by_username(&salus_app::Ctx::operator(), "patient.ravi").await.unwrap();
    t.app
        .patients()
        .link_patient_account(&salus_app::Ctx::operator(), user.id, ravi["mrn"].as_str().unwrap())
        .await
        .unwrap();
    let me = Who { csrf: t.login_with(&me.client, "patient.ravi", "patient.ravi-password-123").await, ..me };
    assert_eq!(send(&t, &me, "GET", &ravi_path, None, None).await.0, 200);
    let (status, p) = send(&t, &me, "GET", &vip_path, None, None).await;
    assert_eq!(status, 404, "another patient's record is 'not found': {p}");
    let (status, _) =
        send(&t, &me, "GET", "/api/v1/patients/0190a0b0-0000-7000-8000-000000000000", None, None).await;
    assert_eq!(status, 404, "the same answer as for a record that does not exist");
    assert_eq!(send(&t, &me, "GET", "/api/v1/patients?q=kumar", None, None).await.0, 403);
    assert_eq!(send(&t, &me, "PUT", &ravi_path, Some(person("R", "K", "male", "")), Some(1)).await.0, 404);

    // Billing reads but does not register.
    let billing = who(&t, "billing", &[Role::Billing]).await;
    assert_eq!(send(&t, &billing, "GET", &ravi_path, None, None).await.0, 200);
    assert_eq!(
        send(&t, &billing, "POST", "/api/v1/patients", Some(person("A", "B", "male", "")), None).await.0,
        403
    );

    // The restricted record: a clinician must break the glass, with a reason.
    let doctor = who(&t, "dr.vip", &[Role::Doctor]).await;
    let (status, p) = send(&t, &doctor, "GET", &vip_path, None, None).await;
    assert_eq!((status, p["type"].as_str().unwrap()), (403, "urn:salus:problem:break-glass-required"));
    assert!(!p.to_string().contains("Famous"), "never the data");
    let (status, _) =
        send(&t, &doctor, "POST", &format!("{vip_path}/break-glass"), Some(json!({"reason": "short"})), None)
            .await;
    assert_eq!(status, 422);
    let (status, _) = send(
        &t,
        &doctor,
        "POST",
        &format!("{ravi_path}/break-glass"),
        Some(json!({"reason": "emergency admission, unconscious"})),
        None,
    )
    .await;
    assert_eq!(status, 409, "Ravi's record is not restricted");
    let (status, p) = send(
        &t,
        &doctor,
        "POST",
        &format!("{vip_path}/break-glass"),
        Some(json!({"reason": "emergency admission, unconscious"})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(send(&t, &doctor, "GET", &vip_path, None, None).await.0, 200);
    let glass = actions(&t, "patient.break_glass").await;
    assert_eq!(glass.len(), 1);
    assert_eq!(glass[0].reason.as_deref(), Some("emergency admission, unconscious"));
    // The receptionist cannot break the glass and does not see the record either.
    let (status, p) = send(&t, &desk, "GET", &vip_path, None, None).await;
    assert_eq!(status, 403, "{p}");
    assert_eq!(
        send(
            &t,
            &desk,
            "POST",
            &format!("{vip_path}/break-glass"),
            Some(json!({"reason": "just curious about this one"})),
            None
        )
        .await
        .0,
        403
    );
    // The administrator's review list has the grant.
    let grants =
        t.app.patients().break_glass_grants(&salus_app::Ctx::operator(), true, None, 10).await.unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].username, "dr.vip");
    // Denials were audited.
    assert!(actions(&t, "access.denied").await.len() >= 5);
});

db_test!(merge_moves_everything_and_unmerge_puts_it_back, |t| {
    let desk = who(&t, "desk", &[Role::Receptionist]).await;
    let admin = who(&t, "admin", &[Role::Admin]).await;
    let keep = register(&t, &desk, person("Fatima", "Bello", "female", "1992-02-02")).await;
    let mut dup = person("Fatimah", "Bello", "female", "1992-02-02");
    dup["identifiers"] =
        json!([{"system": "passport", "value": "B7654321"}, {"system": "insurance", "value": "NHIS-1"}]);
    let dup = register(&t, &desk, dup).await;
    let (keep_id, dup_id) = (keep["id"].as_str().unwrap(), dup["id"].as_str().unwrap());

    // Bad merges: into itself, by a non-admin, unknown survivor.
    let (status, _) = send(
        &t,
        &admin,
        "POST",
        &format!("/api/v1/patients/{dup_id}/merge"),
        Some(json!({"survivor_id": dup_id})),
        None,
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = send(
        &t,
        &desk,
        "POST",
        &format!("/api/v1/patients/{dup_id}/merge"),
        Some(json!({"survivor_id": keep_id})),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = send(
        &t,
        &admin,
        "POST",
        &format!("/api/v1/patients/{dup_id}/merge"),
        Some(json!({"survivor_id": "0190a0b0-0000-7000-8000-000000000000"})),
        None,
    )
    .await;
    assert_eq!(status, 404);

    let (status, p) = send(
        &t,
        &admin,
        "POST",
        &format!("/api/v1/patients/{dup_id}/merge"),
        Some(json!({"survivor_id": keep_id})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{p}");
    let (_, kept) = send(&t, &admin, "GET", &format!("/api/v1/patients/{keep_id}"), None, None).await;
    assert_eq!(kept["identifiers"].as_array().unwrap().len(), 2, "{kept}");
    let (_, gone) = send(&t, &admin, "GET", &format!("/api/v1/patients/{dup_id}"), None, None).await;
    assert_eq!(gone["merged_into"], keep["id"]);
    assert_eq!(gone["active"], false);
    // Search finds only the survivor, also by the duplicate's passport.
    assert_eq!(search(&t, &desk, "b7654321").await, ["Fatima Bello"]);
    assert_eq!(search(&t, &desk, "bello").await, ["Fatima Bello"]);
    // Merging again, or into the merged record, is refused.
    let (status, _) = send(
        &t,
        &admin,
        "POST",
        &format!("/api/v1/patients/{dup_id}/merge"),
        Some(json!({"survivor_id": keep_id})),
        None,
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = send(
        &t,
        &admin,
        "POST",
        &format!("/api/v1/patients/{keep_id}/merge"),
        Some(json!({"survivor_id": dup_id})),
        None,
    )
    .await;
    assert_eq!(status, 422);
    let (_, tl) = send(&t, &admin, "GET", &format!("/api/v1/patients/{keep_id}/timeline"), None, None).await;
    assert_eq!(
        tl["items"].as_array().unwrap().len(),
        3,
        "its own registration, the duplicate's, and the merge: {tl}"
    );

    let (status, _) =
        send(&t, &admin, "POST", &format!("/api/v1/patients/{dup_id}/unmerge"), None, None).await;
    assert_eq!(status, 204);
    let (_, back) = send(&t, &admin, "GET", &format!("/api/v1/patients/{dup_id}"), None, None).await;
    assert_eq!(back["merged_into"], Value::Null);
    assert_eq!(back["active"], true);
    assert_eq!(back["identifiers"].as_array().unwrap().len(), 2);
    let (_, kept) = send(&t, &admin, "GET", &format!("/api/v1/patients/{keep_id}"), None, None).await;
    assert_eq!(kept["identifiers"].as_array().unwrap().len(), 0);
    let mut found = search(&t, &desk, "bello").await;
    found.sort();
    assert_eq!(found, ["Fatima Bello", "Fatimah Bello"]);
    assert_eq!(
        send(&t, &admin, "POST", &format!("/api/v1/patients/{dup_id}/unmerge"), None, None).await.0,
        409
    );
    assert_eq!(actions(&t, "patient.merge").await.len(), 1);
    assert_eq!(actions(&t, "patient.unmerge").await.len(), 1);
});

db_test!(photos_are_checked_by_content_and_size, |t| {
    let desk = who(&t, "desk", &[Role::Receptionist]).await;
    let p = register(&t, &desk, person("Kofi", "Mensah", "male", "1985-05-05")).await;
    let path = format!("/api/v1/patients/{}/photo", p["id"].as_str().unwrap());
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let put = |body: Vec<u8>| {
        desk.client
            .put(t.url(&path))
            .header("x-csrf-token", &desk.csrf)
            .header("content-type", "image/png")
            .body(body)
            .send()
    };
    assert_eq!(put(b"GIF89a not what it says".to_vec()).await.unwrap().status(), 422);
    let mut big = png.clone();
    big.resize(3 * 1024 * 1024 + 1, 0);
    assert_eq!(put(big).await.unwrap().status(), 422);
    assert_eq!(desk.client.get(t.url(&path)).send().await.unwrap().status(), 404, "no photo yet");
    assert_eq!(put(png.clone()).await.unwrap().status(), 204);
    let res = desk.client.get(t.url(&path)).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.bytes().await.unwrap().to_vec(), png);
});

db_test!(the_record_read_on_the_fast_path_is_the_record_seaorm_reads, |t| {
    // An audited read fetches the record, its identifiers and its photo in one statement;
    // on SQLite with rusqlite on the calling thread. Every field must come back as the
    // SeaORM mapping reads it: times, dates, flags, absent values, identifiers in order.
    let desk = who(&t, "desk", &[Role::Receptionist]).await;
    let mut body = person("Ama", "Owusu", "female", "1990-02-28");
    body["phone"] = json!("+233 24 123 4567");
    body["email"] = json!("ama@example.org");
    body["city"] = json!("Kumasi");
    body["blood_group"] = json!("O+");
    body["consent_sms"] = json!(true);
    body["identifiers"] =
        json!([{"system": "passport", "value": "G1234567"}, {"system": "national_id", "value": "GHA-1-2"}]);
    let p = register(&t, &desk, body).await;
    let bare = register(&t, &desk, person("Kwame", "Owusu", "male", "1988-01-01")).await;
    let photo = format!("/api/v1/patients/{}/photo", p["id"].as_str().unwrap());
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let res = desk
        .client
        .put(t.url(&photo))
        .header("x-csrf-token", &desk.csrf)
        .header("content-type", "image/png")
        .body(png)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    let db = &t.app.db;
    for id in [&p["id"], &bare["id"]] {
        let id: uuid::Uuid = id.as_str().unwrap().parse().unwrap();
        let fast = salus_db::patients::find_whole_patient(db, id).await.unwrap().unwrap();
        let orm =
            salus_db::patients::find_whole_patients_on(db.reader(), &[id]).await.unwrap().pop().unwrap();
        assert_eq!(fast, orm);
    }
    // Several at once (a search's page): the same records, an unknown id left out.
    let ids: Vec<uuid::Uuid> =
        [&p["id"], &bare["id"]].iter().map(|v| v.as_str().unwrap().parse().unwrap()).collect();
    let asked = [ids[1], uuid::Uuid::now_v7(), ids[0]];
    let mut fast = salus_db::patients::find_whole_patients(db, &asked).await.unwrap();
    let mut orm = salus_db::patients::find_whole_patients_on(db.reader(), &asked).await.unwrap();
    fast.sort_by_key(|w| w.row.id);
    orm.sort_by_key(|w| w.row.id);
    assert_eq!(fast.len(), 2);
    assert_eq!(fast, orm);
    let id: uuid::Uuid = p["id"].as_str().unwrap().parse().unwrap();
    let whole = salus_db::patients::find_whole_patient(db, id).await.unwrap().unwrap();
    assert!(whole.has_photo);
    assert_eq!(
        whole.identifiers,
        vec![
            ("national_id".to_owned(), "GHA-1-2".to_owned()),
            ("passport".to_owned(), "G1234567".to_owned())
        ]
    );
    assert_eq!(whole.row.birth_date, chrono::NaiveDate::from_ymd_opt(1990, 2, 28));
    assert!(whole.row.consent_sms && !whole.row.consent_email);
    let none = salus_db::patients::find_whole_patient(db, uuid::Uuid::now_v7()).await.unwrap();
    assert!(none.is_none());
});
