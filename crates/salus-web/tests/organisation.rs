//! The organisation through the API and the pages: facilities, departments,
//! specialisations, staff profiles and the price list — versions, bad input (each leaving
//! nothing written), who may read and who may change — on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::page::Page;

use common::TestApp;
use common::ward::{Who, send, who};
use salus_app::Ctx;
use salus_core::Role;
use serde_json::{Value, json};

async fn form(t: &TestApp, w: &Who, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let mut all = vec![("csrf_token", w.csrf.as_str())];
    all.extend_from_slice(fields);
    let res = w.client.post(t.url(path)).form(&all).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn field_errors(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| a.iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

async fn audit_count(t: &TestApp, prefix: &str) -> usize {
    salus_db::audit::actions_of(t.app.db.reader(), prefix).await.unwrap().len()
}

async fn items(t: &TestApp, w: &Who, path: &str) -> Vec<Value> {
    let (status, body) = send(t, w, "GET", path, None, None).await;
    assert_eq!(status, 200, "{path}: {body}");
    body["items"].as_array().unwrap().clone()
}

db_test!(facilities_departments_and_specialisations_with_versions, |t| {
    let admin = who(&t, "org.admin", &[Role::Admin]).await;
    let desk = who(&t, "org.desk", &[Role::Receptionist]).await;

    let (status, f) = send(
        &t,
        &admin,
        "POST",
        "/api/v1/facilities",
        Some(json!({"code": "main", "name": "  City   Hospital "})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{f}");
    assert_eq!(f["code"], "MAIN");
    assert_eq!(f["name"], "City Hospital");
    assert_eq!(f["active"], true);
    let fid = f["id"].as_str().unwrap().to_owned();

    // Bad input, each writing nothing: blank name, a code with spaces, a taken code (case
    // folded), an unknown field.
    let (status, p) =
        send(&t, &admin, "POST", "/api/v1/facilities", Some(json!({"code": "a b", "name": " "})), None).await;
    assert_eq!(status, 422, "{p}");
    assert_eq!(field_errors(&p), vec!["code", "name"]);
    let (status, p) =
        send(&t, &admin, "POST", "/api/v1/facilities", Some(json!({"code": "Main", "name": "Other"})), None)
            .await;
    assert_eq!(status, 422, "{p}");
    assert_eq!(field_errors(&p), vec!["code"]);
    let (status, _) = send(
        &t,
        &admin,
        "POST",
        "/api/v1/facilities",
        Some(json!({"code": "X", "name": "Y", "beds": 3})),
        None,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(items(&t, &desk, "/api/v1/facilities").await.len(), 1);
    assert_eq!(audit_count(&t, "facility.create").await, 1);

    // A receptionist reads but may not change; the refusal writes nothing.
    let (status, p) =
        send(&t, &desk, "POST", "/api/v1/facilities", Some(json!({"code": "ANNEX", "name": "Annex"})), None)
            .await;
    assert_eq!(status, 403, "{p}");
    assert_eq!(items(&t, &admin, "/api/v1/facilities").await.len(), 1);

    // Departments belong to a facility; codes are unique within it.
    let dept = json!({"facility_id": fid, "code": "card", "name": "Cardiology"});
    let (status, d) = send(&t, &admin, "POST", "/api/v1/departments", Some(dept.clone()), None).await;
    assert_eq!(status, 201, "{d}");
    let did = d["id"].as_str().unwrap().to_owned();
    let (status, p) = send(&t, &admin, "POST", "/api/v1/departments", Some(dept), None).await;
    assert_eq!((status, field_errors(&p)), (422, vec!["code".to_owned()]), "{p}");
    let nowhere = json!({"facility_id": "0190a0b0-0000-7000-8000-000000000000", "code": "X", "name": "X"});
    let (status, p) = send(&t, &admin, "POST", "/api/v1/departments", Some(nowhere), None).await;
    assert_eq!((status, field_errors(&p)), (422, vec!["facility_id".to_owned()]), "{p}");
    let (status, p) = send(
        &t,
        &admin,
        "POST",
        "/api/v1/departments",
        Some(json!({"facility_id": "nope", "code": "X", "name": "X"})),
        None,
    )
    .await;
    assert_eq!((status, field_errors(&p)), (422, vec!["facility_id".to_owned()]), "{p}");
    assert_eq!(items(&t, &desk, &format!("/api/v1/departments?facility_id={fid}")).await.len(), 1);
    assert_eq!(
        items(&t, &desk, "/api/v1/departments?facility_id=0190a0b0-0000-7000-8000-000000000000").await.len(),
        0
    );
    let (status, _) = send(&t, &desk, "GET", "/api/v1/departments?facility_id=nope", None, None).await;
    assert_eq!(status, 400);

    // Edits need the version; a stale one is refused with nothing changed.
    let edit = json!({"facility_id": fid, "code": "CARD", "name": "Cardiology and Cardiac Surgery"});
    let path = format!("/api/v1/departments/{did}");
    let (status, _) = send(&t, &admin, "PUT", &path, Some(edit.clone()), None).await;
    assert_eq!(status, 428);
    let (status, d2) = send(&t, &admin, "PUT", &path, Some(edit.clone()), Some(1)).await;
    assert_eq!(status, 200, "{d2}");
    assert_eq!(d2["version"], 2);
    let mut late = edit.clone();
    late["name"] = json!("Heart Centre");
    let (status, p) = send(&t, &admin, "PUT", &path, Some(late), Some(1)).await;
    assert_eq!(status, 409, "{p}");
    let (_, now) = send(&t, &desk, "GET", &path, None, None).await;
    assert_eq!(now["name"], "Cardiology and Cardiac Surgery");
    let (status, _) = send(
        &t,
        &admin,
        "PUT",
        "/api/v1/departments/0190a0b0-0000-7000-8000-000000000000",
        Some(edit),
        Some(1),
    )
    .await;
    assert_eq!(status, 404);
    let events = salus_db::audit::actions_of(t.app.db.reader(), "department.update").await.unwrap();
    assert_eq!(events.len(), 1);
    let detail: Value = serde_json::from_str(events[0].detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["from"]["name"], "Cardiology");
    assert_eq!(detail["to"]["name"], "Cardiology and Cardiac Surgery");

    // A retired facility takes no new departments.
    let fpath = format!("/api/v1/facilities/{fid}");
    let (status, _) = send(
        &t,
        &admin,
        "PUT",
        &fpath,
        Some(json!({"code": "MAIN", "name": "City Hospital", "active": false})),
        Some(1),
    )
    .await;
    assert_eq!(status, 200);
    let (status, p) = send(
        &t,
        &admin,
        "POST",
        "/api/v1/departments",
        Some(json!({"facility_id": fid, "code": "ENT", "name": "ENT"})),
        None,
    )
    .await;
    assert_eq!((status, field_errors(&p)), (422, vec!["facility_id".to_owned()]), "{p}");

    // Specialisations come seeded; an administrator adds more.
    let seeded = items(&t, &desk, "/api/v1/specialisations").await;
    assert!(seeded.iter().any(|s| s["code"] == "CARD"), "the common ones are there");
    let (status, s) = send(
        &t,
        &admin,
        "POST",
        "/api/v1/specialisations",
        Some(json!({"code": "GERI", "name": "Geriatrics"})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{s}");
    let (status, p) = send(
        &t,
        &admin,
        "POST",
        "/api/v1/specialisations",
        Some(json!({"code": "geri", "name": "Elderly care"})),
        None,
    )
    .await;
    assert_eq!((status, field_errors(&p)), (422, vec!["code".to_owned()]));
    assert_eq!(items(&t, &desk, "/api/v1/specialisations").await.len(), seeded.len() + 1);

    // A patient's account sees none of it.
    let patient = who(&t, "org.patient", &[Role::Patient]).await;
    let (status, _) = send(&t, &patient, "GET", "/api/v1/facilities", None, None).await;
    assert_eq!(status, 403);
});

db_test!(staff_profiles_need_registration_for_doctors, |t| {
    let admin = who(&t, "st.admin", &[Role::Admin]).await;
    let nurse = who(&t, "st.nurse", &[Role::Nurse]).await;
    t.user("st.doc", &[Role::Doctor]).await;
    t.user("st.doc2", &[Role::Doctor]).await;
    t.user("st.patient", &[Role::Patient]).await;
    let op = Ctx::operator();
    let doc = t.app.identity().find_user_by_username(&op, "st.doc").await.unwrap().id;
    let doc2 = t.app.identity().find_user_by_username(&op, "st.doc2").await.unwrap().id;
    let patient = t.app.identity().find_user_by_username(&op, "st.patient").await.unwrap().id;
    let (_, f) =
        send(&t, &admin, "POST", "/api/v1/facilities", Some(json!({"code": "MAIN", "name": "Main"})), None)
            .await;
    let (_, d) = send(
        &t,
        &admin,
        "POST",
        "/api/v1/departments",
        Some(json!({"facility_id": f["id"], "code": "OPD", "name": "OPD"})),
        None,
    )
    .await;
    let cardiology =
        items(&t, &nurse, "/api/v1/specialisations").await.into_iter().find(|s| s["code"] == "CARD").unwrap();

    // Before a profile is saved it is empty, version 0.
    let path = format!("/api/v1/staff/{doc}");
    let (status, s) = send(&t, &nurse, "GET", &path, None, None).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["version"], 0);
    assert_eq!(s["roles"], json!(["doctor"]));

    // A doctor without a registration number, a negative fee, an unknown department.
    let bad = json!({"department_id": "0190a0b0-0000-7000-8000-000000000000", "consultation_fee_minor": -5});
    let (status, p) = send(&t, &admin, "PUT", &path, Some(bad), Some(0)).await;
    assert_eq!(status, 422, "{p}");
    let mut fields = field_errors(&p);
    fields.sort();
    assert_eq!(fields, vec!["consultation_fee", "department_id", "registration_number"]);
    assert_eq!(send(&t, &nurse, "GET", &path, None, None).await.1["version"], 0);

    let good = json!({
        "job_title": "Consultant cardiologist", "qualifications": "MBBS, MD, DM",
        "registration_council": "Karnataka Medical Council", "registration_number": "KMC 12345",
        "department_id": d["id"], "specialisation_id": cardiology["id"], "consultation_fee_minor": 90000
    });
    let (status, s) = send(&t, &admin, "PUT", &path, Some(good.clone()), Some(0)).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(
        (s["version"].clone(), s["consultation_fee_minor"].clone(), s["currency"].clone()),
        (json!(1), json!(90000), json!("INR"))
    );
    // Saving again from version 0 is stale.
    let (status, _) = send(&t, &admin, "PUT", &path, Some(good), Some(0)).await;
    assert_eq!(status, 409);

    // The same registration, spelt differently, cannot belong to a second doctor.
    let copy =
        json!({"registration_council": "karnataka medical council", "registration_number": "kmc-12345"});
    let (status, p) = send(&t, &admin, "PUT", &format!("/api/v1/staff/{doc2}"), Some(copy), Some(0)).await;
    assert_eq!((status, field_errors(&p)), (422, vec!["registration_number".to_owned()]), "{p}");
    assert_eq!(send(&t, &nurse, "GET", &format!("/api/v1/staff/{doc2}"), None, None).await.1["version"], 0);

    // Only administrators save profiles; a patient's account is not staff.
    let (status, _) =
        send(&t, &nurse, "PUT", &path, Some(json!({"registration_number": "X"})), Some(1)).await;
    assert_eq!(status, 403);
    let (status, _) = send(&t, &admin, "GET", &format!("/api/v1/staff/{patient}"), None, None).await;
    assert_eq!(status, 404);
    let (status, _) =
        send(&t, &admin, "PUT", &format!("/api/v1/staff/{patient}"), Some(json!({})), Some(0)).await;
    assert_eq!(status, 404);

    // The doctors of a specialisation, for reception to pick from.
    let list = items(
        &t,
        &nurse,
        &format!("/api/v1/staff?role=doctor&specialisation_id={}", cardiology["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["username"], "st.doc");
    let all = items(&t, &nurse, "/api/v1/staff?limit=2").await;
    assert_eq!(all.len(), 2);
    assert!(items(&t, &nurse, "/api/v1/staff").await.iter().all(|s| s["username"] != "st.patient"));
    let (status, _) = send(&t, &nurse, "GET", "/api/v1/staff?role=wizard", None, None).await;
    assert_eq!(status, 400);
    assert_eq!(audit_count(&t, "staff_profile.update").await, 1);
});

db_test!(the_price_list_in_minor_units, |t| {
    let admin = who(&t, "pl.admin", &[Role::Admin]).await;
    let billing = who(&t, "pl.billing", &[Role::Billing]).await;
    let service =
        json!({"code": "cons-gen", "name": "Consultation", "category": "consultation", "price_minor": 50000});
    let (status, s) = send(&t, &admin, "POST", "/api/v1/services", Some(service.clone()), None).await;
    assert_eq!(status, 201, "{s}");
    assert_eq!(
        (s["code"].clone(), s["tax_rate_bp"].clone(), s["currency"].clone()),
        (json!("CONS-GEN"), json!(0), json!("INR"))
    );
    let sid = s["id"].as_str().unwrap().to_owned();

    // Bad input, nothing written: negative price, tax over 100 %, unknown category, a
    // price as a float, a taken code.
    let bad =
        json!({"code": "X1", "name": "X", "category": "magic", "price_minor": -1, "tax_rate_bp": 10001});
    let (status, p) = send(&t, &admin, "POST", "/api/v1/services", Some(bad), None).await;
    assert_eq!(status, 422, "{p}");
    let mut fields = field_errors(&p);
    fields.sort();
    assert_eq!(fields, vec!["category", "price", "tax_rate"]);
    let float = json!({"code": "X2", "name": "X", "category": "other", "price_minor": 12.5});
    assert_eq!(send(&t, &admin, "POST", "/api/v1/services", Some(float), None).await.0, 422);
    assert_eq!(send(&t, &admin, "POST", "/api/v1/services", Some(service), None).await.0, 422);
    assert_eq!(
        send(
            &t,
            &billing,
            "POST",
            "/api/v1/services",
            Some(json!({"code": "B", "name": "B", "category": "other", "price_minor": 1})),
            None
        )
        .await
        .0,
        403
    );
    // (Every install has one more: PHARMACY, which pharmacy charges are booked under.)
    assert_eq!(items(&t, &billing, "/api/v1/services").await.len(), 2);

    // Edit with the version; the change is audited with both prices.
    let path = format!("/api/v1/services/{sid}");
    let edit = json!({"code": "CONS-GEN", "name": "Consultation", "category": "consultation", "price_minor": 60000, "tax_rate_bp": 1800});
    let (status, s) = send(&t, &admin, "PUT", &path, Some(edit.clone()), Some(1)).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!((s["price_minor"].clone(), s["tax_rate_bp"].clone()), (json!(60000), json!(1800)));
    assert_eq!(send(&t, &admin, "PUT", &path, Some(edit), Some(1)).await.0, 409);
    let events = salus_db::audit::actions_of(t.app.db.reader(), "service.update").await.unwrap();
    let detail: Value = serde_json::from_str(events[0].detail.as_deref().unwrap()).unwrap();
    assert_eq!(
        (detail["from"]["price"].clone(), detail["to"]["price"].clone()),
        (json!(50000), json!(60000))
    );

    // Paged in code order, filtered by text and category; retired entries hidden unless asked.
    for (code, category) in [("LAB-CBC", "laboratory"), ("LAB-TSH", "laboratory"), ("XR-CHEST", "imaging")] {
        let body = json!({"code": code, "name": format!("{code} test"), "category": category, "price_minor": 100, "active": code != "LAB-TSH"});
        assert_eq!(send(&t, &admin, "POST", "/api/v1/services", Some(body), None).await.0, 201);
    }
    let (_, first) = send(&t, &billing, "GET", "/api/v1/services?limit=2", None, None).await;
    let codes: Vec<&str> =
        first["items"].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec!["CONS-GEN", "LAB-CBC"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = items(&t, &billing, &format!("/api/v1/services?limit=2&cursor={cursor}")).await;
    assert_eq!(
        rest.iter().map(|s| s["code"].as_str().unwrap()).collect::<Vec<_>>(),
        vec!["PHARMACY", "XR-CHEST"]
    );
    assert_eq!(items(&t, &billing, "/api/v1/services?category=laboratory").await.len(), 1);
    assert_eq!(
        items(&t, &billing, "/api/v1/services?category=laboratory&include_inactive=true").await.len(),
        2
    );
    assert_eq!(items(&t, &billing, "/api/v1/services?q=chest").await.len(), 1);
    assert_eq!(send(&t, &billing, "GET", "/api/v1/services?cursor=%%%", None, None).await.0, 422);
});

db_test!(organisation_pages_show_errors_beside_fields, |t| {
    let admin = who(&t, "pg.admin", &[Role::Admin]).await;
    let html = admin.client.get(t.url("/admin/organisation")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("No facility yet"));
    // The page's title is its name, and the identifier types are in the page once.
    let doc = scraper::Html::parse_document(&html);
    let title = scraper::Selector::parse("title").unwrap();
    let titles: Vec<String> = doc.select(&title).map(|e| e.text().collect()).collect();
    assert_eq!(titles, ["Organisation · Salus"]);
    let heading = scraper::Selector::parse("#identifier-types-heading").unwrap();
    assert_eq!(doc.select(&heading).count(), 1);

    // A facility with a bad code: 422, the message beside the field, nothing written.
    let (status, html) =
        form(&t, &admin, "/admin/organisation/facilities", &[("code", "a b"), ("name", "Main")]).await;
    assert_eq!(status, 422);
    assert!(Page::parse(&html).field_error("code").is_some(), "{html}");
    assert!(t.app.organisation().facilities(&Ctx::operator()).await.unwrap().is_empty());
    let (status, _) = form(
        &t,
        &admin,
        "/admin/organisation/facilities",
        &[("code", "MAIN"), ("name", "Main"), ("active", "true")],
    )
    .await;
    assert_eq!(status, 303);
    let facility = t.app.organisation().facilities(&Ctx::operator()).await.unwrap().remove(0);

    // A department needs its facility chosen.
    let (status, html) =
        form(&t, &admin, "/admin/organisation/departments", &[("code", "OPD"), ("name", "OPD")]).await;
    assert_eq!(status, 422);
    assert!(Page::parse(&html).field_error("facility_id").is_some());
    let fid = facility.id.to_string();
    let (status, _) = form(
        &t,
        &admin,
        "/admin/organisation/departments",
        &[("facility_id", &fid), ("code", "OPD"), ("name", "OPD"), ("active", "true")],
    )
    .await;
    assert_eq!(status, 303);

    // Edit from a stale version: 409, the page says so and shows what is on file.
    let edit = format!("/admin/organisation/facilities/{fid}");
    let (status, _) = form(
        &t,
        &admin,
        &edit,
        &[("version", "1"), ("code", "MAIN"), ("name", "Main Hospital"), ("active", "true")],
    )
    .await;
    assert_eq!(status, 303);
    let (status, html) =
        form(&t, &admin, &edit, &[("version", "1"), ("code", "MAIN"), ("name", "Other"), ("active", "true")])
            .await;
    assert_eq!(status, 409);
    assert!(Page::parse(&html).alert().is_some() && html.contains("Main Hospital"));
    assert_eq!(form(&t, &admin, "/admin/organisation/wards", &[]).await.0, 404);

    // The price list: a price typed with grouping, a bad one beside its field.
    let (status, html) = form(
        &t,
        &admin,
        "/admin/services",
        &[("code", "ECG"), ("name", "ECG"), ("category", "procedure"), ("price", "12.345"), ("tax_rate", "")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(Page::parse(&html).field_error("price").is_some());
    let (status, _) = form(
        &t,
        &admin,
        "/admin/services",
        &[
            ("code", "ECG"),
            ("name", "ECG"),
            ("category", "procedure"),
            ("price", "1,250.50"),
            ("tax_rate", "12.5"),
            ("active", "true"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let billing = who(&t, "pg.billing", &[Role::Billing]).await;
    let html = billing.client.get(t.url("/services?q=ecg")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("1,250.50") && html.contains("12.5%"), "{html}");
    assert!(!html.contains("New service"), "only administrators see the form");

    // A staff profile: a doctor without registration number is told so beside the field.
    t.user("pg.doc", &[Role::Doctor]).await;
    let doc = t.app.identity().find_user_by_username(&Ctx::operator(), "pg.doc").await.unwrap().id;
    let (status, html) =
        form(&t, &admin, &format!("/admin/staff/{doc}"), &[("version", "0"), ("consultation_fee", "500")])
            .await;
    assert_eq!(status, 422);
    assert!(Page::parse(&html).field_error("registration_number").is_some());
    let (status, html) = form(
        &t,
        &admin,
        &format!("/admin/staff/{doc}"),
        &[("version", "0"), ("registration_number", "R-1"), ("department_id", "garbage")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(Page::parse(&html).field_error("department_id").is_some());
    assert_eq!(
        t.app.organisation().staff_member(&Ctx::operator(), doc).await.unwrap().profile.version,
        0,
        "nothing written"
    );
    let (status, _) = form(
        &t,
        &admin,
        &format!("/admin/staff/{doc}"),
        &[("version", "0"), ("registration_number", "R-1"), ("consultation_fee", "750")],
    )
    .await;
    assert_eq!(status, 303);
    let html = admin.client.get(t.url("/admin/staff")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("750.00 INR") && html.contains("R-1"), "{html}");
});

db_test!(identifier_types_are_added_renamed_and_retired, |t| {
    let admin = who(&t, "it.admin", &[Role::Admin]).await;
    let desk = who(&t, "it.desk", &[Role::Receptionist]).await;
    let (status, ty) = send(
        &t,
        &admin,
        "POST",
        "/api/v1/identifier-types",
        Some(json!({"code": "Voter_ID", "name": "Voter ID", "is_unique": true})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{ty}");
    assert_eq!(ty["code"], "voter_id");

    // Bad input writes nothing: a taken code, a malformed one, a blank name; a clerk may not add.
    let (status, p) = send(
        &t,
        &admin,
        "POST",
        "/api/v1/identifier-types",
        Some(json!({"code": "passport", "name": "Pass", "is_unique": false})),
        None,
    )
    .await;
    assert_eq!((status, field_errors(&p)), (422, vec!["code".to_owned()]), "{p}");
    let (status, p) = send(
        &t,
        &admin,
        "POST",
        "/api/v1/identifier-types",
        Some(json!({"code": "9-x", "name": " ", "is_unique": false})),
        None,
    )
    .await;
    assert_eq!((status, field_errors(&p)), (422, vec!["code".to_owned(), "name".to_owned()]), "{p}");
    let (status, _) = send(
        &t,
        &desk,
        "POST",
        "/api/v1/identifier-types",
        Some(json!({"code": "ration", "name": "Ration card", "is_unique": false})),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let types = items(&t, &desk, "/api/v1/identifier-types").await;
    assert_eq!(types.len(), 5, "four seeded and one added: {types:?}");

    // The new type's values are unique to one patient.
    let person = |given: &str| {
        json!({"given_names": given, "family_name": "Das", "sex": "male", "birth_date": "1980-01-01",
        "identifiers": [{"system": "voter_id", "value": "ABC1234567"}], "not_a_duplicate": true})
    };
    assert_eq!(send(&t, &desk, "POST", "/api/v1/patients", Some(person("Amit")), None).await.0, 201);
    let (status, p) = send(&t, &desk, "POST", "/api/v1/patients", Some(person("Sumit")), None).await;
    assert_eq!(status, 422, "{p}");

    // Renamed, then retired: no longer offered for new identifiers.
    assert_eq!(
        send(
            &t,
            &admin,
            "PUT",
            "/api/v1/identifier-types/voter_id",
            Some(json!({"name": " ", "active": true})),
            None
        )
        .await
        .0,
        422
    );
    assert_eq!(
        send(
            &t,
            &admin,
            "PUT",
            "/api/v1/identifier-types/nothing",
            Some(json!({"name": "X", "active": true})),
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(
        send(
            &t,
            &admin,
            "PUT",
            "/api/v1/identifier-types/voter_id",
            Some(json!({"name": "Electoral roll ID", "active": false})),
            None
        )
        .await
        .0,
        204
    );
    let mut other = person("Rohit");
    other["identifiers"][0]["value"] = json!("XYZ7654321");
    let (status, p) = send(&t, &desk, "POST", "/api/v1/patients", Some(other), None).await;
    assert_eq!(status, 422, "{p}");
    assert_eq!(audit_count(&t, "identifier_type.").await, 2);

    // The page: a blank rename is refused beside the field.
    let (status, html) =
        form(&t, &admin, "/admin/identifier-types/passport", &[("name", ""), ("active", "true")]).await;
    assert_eq!(status, 422);
    assert!(Page::parse(&html).field_error("type-passport").is_some(), "{html}");
    let (status, html) = form(&t, &admin, "/admin/identifier-types", &[("code", "x"), ("name", "X")]).await;
    assert_eq!(status, 422);
    assert!(Page::parse(&html).field_error("code").is_some());
    let (status, _) =
        form(&t, &admin, "/admin/identifier-types", &[("code", "ration_card"), ("name", "Ration card")])
            .await;
    assert_eq!(status, 303);
    let ration = items(&t, &desk, "/api/v1/identifier-types")
        .await
        .into_iter()
        .find(|t| t["code"] == "ration_card")
        .unwrap();
    assert_eq!(ration["is_unique"], false);
});

db_test!(icd10_search_by_words_and_codes, |t| {
    let nurse = who(&t, "icd.nurse", &[Role::Nurse]).await;
    let hits = items(&t, &nurse, "/api/v1/icd10?q=diab%20type%202&billable=true").await;
    assert!(hits.len() == 20 && hits.iter().all(|h| h["billable"] == true), "{hits:?}");
    assert!(hits[0]["code"].as_str().unwrap().starts_with("E11"), "{hits:?}");
    let hits = items(&t, &nurse, "/api/v1/icd10?q=E11.9").await;
    assert_eq!(hits[0]["description"], "Type 2 diabetes mellitus without complications");
    assert!(items(&t, &nurse, "/api/v1/icd10?q=qwertyuiop").await.is_empty());
    assert_eq!(send(&t, &nurse, "GET", "/api/v1/icd10", None, None).await.0, 400, "q is required");
    let patient = who(&t, "icd.patient", &[Role::Patient]).await;
    assert_eq!(send(&t, &patient, "GET", "/api/v1/icd10?q=E11", None, None).await.0, 403);
});
