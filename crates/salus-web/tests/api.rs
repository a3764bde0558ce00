//! The JSON API shell: problem+json for every kind of error, body rules, paging, OpenAPI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use salus_core::Role;
use serde_json::{Value, json};

async fn problem(res: reqwest::Response, status: u16, kind: &str) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], format!("urn:salus:problem:{kind}"), "{body}");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string());
    body
}

async fn post_users(t: &common::TestApp, csrf: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
    t.client
        .post(t.url("/api/v1/users"))
        .header("x-csrf-token", csrf)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

db_test!(errors_are_problem_json, |t| {
    // 401: not signed in.
    let res = t.client.get(t.url("/api/v1/me")).send().await.unwrap();
    assert!(res.headers().contains_key("www-authenticate"));
    problem(res, 401, "unauthenticated").await;
    // 404 and 405, made by the router rather than a handler.
    problem(t.client.get(t.url("/api/v1/no-such-thing")).send().await.unwrap(), 404, "not-found").await;

    let csrf = t.login_as("admin", &[Role::Admin]).await;
    // 405 once past authentication (an anonymous caller learns only that it must sign in).
    let res = t.client.delete(t.url("/api/v1/me")).header("x-csrf-token", &csrf).send().await.unwrap();
    assert!(res.headers()["allow"].to_str().unwrap().contains("GET"));
    problem(res, 405, "method-not-allowed").await;
    // 400: not JSON at all.
    let body = problem(post_users(&t, &csrf, "{\"username\": ").await, 400, "malformed-request").await;
    assert!(body["detail"].as_str().unwrap().contains("not valid JSON"));
    // 415: not declared as JSON.
    let res =
        t.client.post(t.url("/api/v1/users")).header("x-csrf-token", &csrf).body("{}").send().await.unwrap();
    problem(res, 415, "unsupported-media-type").await;
    // 422: an unknown field, a missing field, a wrong type — each named.
    let cases = [
        (json!({"username": "a.b.c", "display_name": "A", "roles": ["nurse"], "colour": "red"}), "colour"),
        (json!({"username": "a.b.c", "roles": ["nurse"]}), "display_name"),
        (json!({"username": "a.b.c", "display_name": "A", "roles": ["surgeon"]}), "roles[0]"),
        (json!({"username": 7, "display_name": "A", "roles": ["nurse"]}), "username"),
    ];
    for (body, field) in cases {
        let p = problem(post_users(&t, &csrf, body.to_string()).await, 422, "validation").await;
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    // 422 from the rules of the domain, one entry per field.
    let body = json!({"username": "x", "display_name": " ", "password": "short", "roles": []});
    let p = problem(post_users(&t, &csrf, body.to_string()).await, 422, "validation").await;
    let fields: Vec<&str> =
        p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["username", "display_name", "roles"]);
    // 413: a body over the limit (4 MiB by default).
    let big = format!("{{\"username\": \"{}\"}}", "a".repeat(5 * 1024 * 1024));
    problem(post_users(&t, &csrf, big).await, 413, "payload-too-large").await;
    // Nothing above created a user.
    assert_eq!(salus_db::identity::count_users(t.app.db.reader()).await.unwrap(), 1);
});

db_test!(users_api_creates_and_pages_by_cursor, |t| {
    let csrf = t.login_as("admin", &[Role::Admin]).await;
    let res = post_users(
        &t,
        &csrf,
        json!({"username": "Dr.Chen", "display_name": "Dr Wei Chen", "roles": ["doctor"]}).to_string(),
    )
    .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["user"]["username"], "dr.chen");
    assert_eq!(created["generated_password"].as_str().unwrap().len(), 20);
    let res = post_users(
        &t,
        &csrf,
        json!({"username": "dr.chen", "display_name": "Again", "roles": ["doctor"]}).to_string(),
    )
    .await;
    problem(res, 422, "validation").await;
    for name in ["n.one", "n.two", "n.three"] {
        let body = json!({"username": name, "display_name": name, "password": "a long enough password", "roles": ["nurse"]});
        assert_eq!(post_users(&t, &csrf, body.to_string()).await.status(), 201);
    }
    let mut seen = Vec::new();
    let mut url = t.url("/api/v1/users?limit=2");
    loop {
        let page: Value = t.client.get(&url).send().await.unwrap().json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|u| u["username"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => url = t.url(&format!("/api/v1/users?limit=2&cursor={c}")),
            None => break,
        }
    }
    assert_eq!(seen, ["admin", "dr.chen", "n.one", "n.two", "n.three"], "creation order, nothing twice");
    problem(t.client.get(t.url("/api/v1/users?cursor=garbage")).send().await.unwrap(), 422, "validation")
        .await;
    problem(t.client.get(t.url("/api/v1/users?limit=many")).send().await.unwrap(), 400, "malformed-request")
        .await;
});

db_test!(users_api_is_for_administrators, |t| {
    let csrf = t.login_as("nurse.amina", &[Role::Nurse]).await;
    problem(t.client.get(t.url("/api/v1/users")).send().await.unwrap(), 403, "forbidden").await;
    let body = json!({"username": "sneaky", "display_name": "S", "roles": ["admin"]});
    problem(post_users(&t, &csrf, body.to_string()).await, 403, "forbidden").await;
    assert_eq!(salus_db::identity::count_users(t.app.db.reader()).await.unwrap(), 1);
});

db_test!(openapi_document_and_docs_page, |t| {
    let spec: Value = t.client.get(t.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(spec["paths"]["/api/v1/users"]["post"].is_object());
    assert!(spec["paths"]["/api/v1/me"]["get"].is_object());
    assert!(spec["components"]["schemas"]["Problem"].is_object());
    let docs = t.client.get(t.url("/api/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger-ui"));
});
