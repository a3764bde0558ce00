//! A small ward for the clinical tests: two doctors, a nurse, reception and two
//! patients, with helpers to call the API and the pages as each of them — the one set
//! of request helpers every test file uses.

use salus_core::Role;
use serde_json::{Value, json};

use super::TestApp;

pub struct Who {
    pub client: reqwest::Client,
    pub csrf: String,
}

pub async fn who(t: &TestApp, name: &str, roles: &[Role]) -> Who {
    let client = t.new_client();
    let password = t.user(name, roles).await;
    let csrf = t.login_with(&client, name, &password).await;
    Who { client, csrf }
}

/// One API call as `w`: the status and the body (JSON, or the text as a string).
/// `if_match` is the version edited, sent as the ETag the API gave out (`"3"`).
pub async fn send(
    t: &TestApp,
    w: &Who,
    method: &str,
    path: &str,
    body: Option<Value>,
    if_match: Option<i64>,
) -> (u16, Value) {
    let (status, body, _) = send_with_headers(t, w, method, path, body, if_match).await;
    (status, body)
}

/// [`send`], with the response's headers.
pub async fn send_with_headers(
    t: &TestApp,
    w: &Who,
    method: &str,
    path: &str,
    body: Option<Value>,
    if_match: Option<i64>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = w.client.request(method, t.url(path)).header("x-csrf-token", &w.csrf);
    if let Some(b) = body {
        req = req.json(&b);
    }
    if let Some(v) = if_match {
        req = req.header("if-match", format!("\"{v}\""));
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)), headers)
}

pub fn fields(p: &Value) -> Vec<String> {
    let mut f: Vec<String> = p["errors"]
        .as_array()
        .map(|a| a.iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    f.sort();
    f
}

pub struct Ward {
    pub doc: Who,
    pub doc2: Who,
    pub nurse: Who,
    pub desk: Who,
    pub patient: String,
    pub other_patient: String,
}

pub async fn ward(t: &TestApp) -> Ward {
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

/// A patient account linked to the ward's first patient, signed in.
pub async fn patient_account(t: &TestApp, w: &Ward) -> Who {
    let password = t.user("cl.patient", &[Role::Patient]).await;
    let op = salus_app::Ctx::operator();
    let account = t.app.identity().find_user_by_username(&op, "cl.patient").await.unwrap().id;
    let (_, me) = send(t, &w.desk, "GET", &format!("/api/v1/patients/{}", w.patient), None, None).await;
    t.app.patients().link_patient_account(&op, account, me["mrn"].as_str().unwrap()).await.unwrap();
    let client = t.new_client();
    let csrf = t.login_with(&client, "cl.patient", &password).await;
    Who { client, csrf }
}

/// A department of a facility "M", made through the use cases (the facility on first use),
/// or the one of that code made before.
pub async fn department(t: &TestApp, code: &str, name: &str) -> salus_app::organisation::Department {
    let op = salus_app::Ctx::operator();
    let org = t.app.organisation();
    let facility = match org.facilities(&op).await.unwrap().into_iter().find(|f| f.code == "M") {
        Some(f) => f,
        None => org
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
            .unwrap(),
    };
    if let Some(d) =
        org.departments(&op, Some(facility.id)).await.unwrap().into_iter().find(|d| d.code == code)
    {
        return d;
    }
    let input = salus_app::organisation::DepartmentInput {
        facility_id: facility.id,
        code: code.into(),
        name: name.into(),
        active: true,
    };
    org.create_department(&op, input).await.unwrap()
}

pub async fn open(t: &TestApp, w: &Ward) -> String {
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

pub async fn post_form(t: &TestApp, w: &Who, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut all = vec![("csrf_token", w.csrf.as_str())];
    all.extend_from_slice(fields);
    w.client.post(t.url(path)).form(&all).send().await.unwrap()
}

pub async fn html(t: &TestApp, w: &Who, path: &str) -> String {
    let res = w.client.get(t.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

pub async fn upload(t: &TestApp, w: &Who, path: &str, bytes: Vec<u8>) -> (u16, Value) {
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

/// A multipart/form-data body as a browser sends it.
pub fn multipart(fields: &[(&str, &str)], file: (&str, &[u8])) -> (String, Vec<u8>) {
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

/// A laboratory result through the whole path: `test` (a catalog code) ordered for
/// `patient` by the ward's doctor (in `encounter`, if given), collected by the nurse,
/// received and entered as `value` by `tech`, verified by `verifier`; the order's id.
pub async fn verified_result(
    t: &TestApp,
    w: &Ward,
    (tech, verifier): (&Who, &Who),
    patient: &str,
    encounter: Option<&str>,
    (test, value): (&str, &str),
) -> String {
    let (_, tests) = send(t, &w.doc, "GET", "/api/v1/lab/tests", None, None).await;
    let id = tests["items"].as_array().unwrap().iter().find(|i| i["code"] == test).unwrap()["id"].clone();
    let mut order = json!({"test_ids": [id]});
    if let Some(e) = encounter {
        order["encounter_id"] = json!(e);
    }
    let (status, orders) =
        send(t, &w.doc, "POST", &format!("/api/v1/patients/{patient}/lab-orders"), Some(order), None).await;
    assert_eq!(status, 201, "{orders}");
    let oid = orders[0]["id"].as_str().unwrap().to_owned();
    let collect = json!({"order_ids": [oid]});
    let (status, specimens) =
        send(t, &w.nurse, "POST", &format!("/api/v1/patients/{patient}/lab-specimens"), Some(collect), None)
            .await;
    assert_eq!(status, 201, "{specimens}");
    let sid = specimens[0]["id"].as_str().unwrap();
    assert_eq!(
        send(t, tech, "POST", &format!("/api/v1/lab/specimens/{sid}/receive"), None, None).await.0,
        200
    );
    let body = json!({"results": [{"test_id": id, "value": value}]});
    let (status, r) =
        send(t, tech, "POST", &format!("/api/v1/lab/orders/{oid}/results"), Some(body), None).await;
    assert_eq!(status, 200, "{r}");
    let (status, v) =
        send(t, verifier, "POST", &format!("/api/v1/lab/orders/{oid}/verify"), None, None).await;
    assert_eq!(status, 200, "{v}");
    oid
}

/// A ward "W" with one bed, made by a new administrator `admin`: the bed's id.
pub async fn one_bed_ward(t: &TestApp, admin: &str) -> Value {
    let admin = who(t, admin, &[Role::Admin]).await;
    let (status, ward) =
        send(t, &admin, "POST", "/api/v1/wards", Some(json!({"code": "W", "name": "Ward"})), None).await;
    assert_eq!(status, 201, "{ward}");
    let body = json!({"room": "1", "letters": ["A"], "bed_type": "general"});
    let path = format!("/api/v1/wards/{}/beds", ward["id"].as_str().unwrap());
    let (status, beds) = send(t, &admin, "POST", &path, Some(body), None).await;
    assert_eq!(status, 201, "{beds}");
    beds[0]["id"].clone()
}
