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
    // 400: a NUL in a search (PostgreSQL cannot compare text holding one; schemathesis
    // found `GET /api/v1/services?q=%00…` answering 500), on the API and on a page.
    for path in ["/api/v1/services?q=%00abc", "/api/v1/medicines?q=a%00", "/api/v1/users?cursor=%00"] {
        let body = problem(t.client.get(t.url(path)).send().await.unwrap(), 400, "malformed-request").await;
        assert!(body["detail"].as_str().unwrap().contains("NUL"), "{path}: {body}");
    }
    let res = t.client.get(t.url("/services?q=x%00")).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("NUL character"));
    // The same searches without it answer.
    assert_eq!(t.client.get(t.url("/api/v1/services?q=abc")).send().await.unwrap().status(), 200);
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

/// Where a response schema (followed through `$ref`s, arrays, `allOf`/`oneOf`/`anyOf` and
/// properties) has an object with no shape: `{"type": "object"}` and nothing saying what is in
/// it. `at` is the JSON path so far; each finding is pushed to `found`.
fn untyped_objects(spec: &Value, schema: &Value, at: &str, seen: &mut Vec<String>, found: &mut Vec<String>) {
    let Some(obj) = schema.as_object() else { return };
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        if seen.iter().any(|s| s == r) {
            return;
        }
        seen.push(r.to_owned());
        let name = r.trim_start_matches("#/components/schemas/");
        match spec["components"]["schemas"].get(name) {
            Some(target) => untyped_objects(spec, target, &format!("{at} -> {name}"), seen, found),
            None => found.push(format!("{at}: dangling $ref {r}")),
        }
        seen.pop();
        return;
    }
    let is_object = match obj.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
        _ => false,
    };
    let shaped = ["properties", "additionalProperties", "allOf", "oneOf", "anyOf", "patternProperties"]
        .iter()
        .any(|k| obj.contains_key(*k));
    if is_object && !shaped {
        found.push(format!("{at}: an untyped object {schema}"));
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, p) in props {
            untyped_objects(spec, p, &format!("{at}.{name}"), seen, found);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner) = obj.get(key) {
            untyped_objects(spec, inner, &format!("{at}[{key}]"), seen, found);
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for (i, inner) in obj.get(key).and_then(Value::as_array).into_iter().flatten().enumerate() {
            untyped_objects(spec, inner, &format!("{at}<{key} {i}>"), seen, found);
        }
    }
}

// Every JSON response is a schema a client can generate a type from: no `body = Object`,
// no `Paged<Object>`, no field that is just "some object" (STYLE.md habit 14: the wire type
// is written down, never a database row passed through).
db_test!(every_json_response_is_a_typed_schema, |t| {
    let spec: Value = t.client.get(t.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut found = Vec::new();
    let mut checked = 0;
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let Some(responses) = op["responses"].as_object() else { continue };
            for (status, response) in responses {
                let Some(schema) = response["content"]["application/json"].get("schema") else { continue };
                checked += 1;
                let at = format!("{} {path} {status}", method.to_uppercase());
                untyped_objects(&spec, schema, &at, &mut Vec::new(), &mut found);
            }
        }
    }
    assert!(checked > 50, "only {checked} JSON responses in the document");
    assert!(found.is_empty(), "{} untyped JSON response schemas:\n{}", found.len(), found.join("\n"));
});

db_test!(the_document_states_the_bounds_and_methods_the_server_keeps, |t| {
    let csrf = t.login_as("bounds.admin", &[Role::Admin]).await;
    let spec: Value = t.client.get(t.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    // Page sizes: the bounds are in the document, and a value outside them is refused,
    // not quietly clamped.
    let params = spec["paths"]["/api/v1/users"]["get"]["parameters"].as_array().unwrap();
    let limit = params.iter().find(|p| p["name"] == "limit").unwrap();
    assert_eq!(
        (limit["schema"]["minimum"].as_u64(), limit["schema"]["maximum"].as_u64()),
        (Some(1), Some(200))
    );
    for bad in ["0", "201", "2147483648", "ten"] {
        let res = t.client.get(t.url(&format!("/api/v1/users?limit={bad}"))).send().await.unwrap();
        assert_eq!(res.status(), 400, "limit={bad}");
    }
    assert_eq!(t.client.get(t.url("/api/v1/users?limit=200")).send().await.unwrap().status(), 200);
    // Every operation names the shared problem responses; an edit names If-Match as required.
    let put = &spec["paths"]["/api/v1/patients/{id}"]["put"];
    for status in ["401", "403", "404", "405", "409", "422", "428", "429", "503"] {
        assert!(put["responses"][status].is_object(), "PUT /api/v1/patients/{{id}} declares {status}");
    }
    let if_match = put["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "If-Match").unwrap();
    assert_eq!(if_match["required"], true);
    // A method a route does not have is 405 with Allow, before anyone's access is weighed.
    let res = t
        .client
        .request(reqwest::Method::from_bytes(b"TRACE").unwrap(), t.url("/api/v1/encounters"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "POST");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], "urn:salus:problem:method-not-allowed");
});

db_test!(the_api_document_and_problem_documents_are_snapshotted, |t| {
    // Any change to the API's contract shows up as a diff of these files in review
    // (`cargo insta review`), not as a surprise to an integrator.
    let spec: Value = t.client.get(t.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    insta::assert_json_snapshot!("openapi", spec);
    let anonymous = t.new_client();
    let res = anonymous.get(t.url("/api/v1/me")).send().await.unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let mut problem: Value = res.json().await.unwrap();
    assert_eq!(problem["request_id"], id.as_str(), "the problem carries the request id");
    problem.as_object_mut().unwrap().remove("request_id");
    insta::assert_json_snapshot!("problem_unauthenticated", problem);
    let csrf = t.login_as("snap.admin", &[Role::Admin]).await;
    let res = post_users(&t, &csrf, r#"{"username": "x", "display_name": " ", "roles": []}"#).await;
    let mut problem: Value = res.json().await.unwrap();
    problem.as_object_mut().unwrap().remove("request_id");
    insta::assert_json_snapshot!("problem_validation", problem);
});

/// Two wire types of one name become one schema in the document (utoipa keeps one and
/// every reference points at it), so the document would lie about the other: a nursing
/// note once validated as a clinical note. Every `ToSchema` type's schema name — its own,
/// or the `#[schema(as = …)]` it takes — is unique across the API's sources.
#[test]
fn every_schema_name_is_unique() {
    fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    sources(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api"), &mut files);
    let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut clashes = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !(line.starts_with("#[derive(") && line.contains("ToSchema")) {
                continue;
            }
            // The attributes after the derive, up to the item they belong to.
            let mut renamed = None;
            for next in &lines[i + 1..] {
                if let Some(rest) = next.trim().strip_prefix("#[schema(as = ") {
                    renamed = rest.split(')').next().map(str::to_owned);
                }
                if let Some(rest) =
                    next.strip_prefix("pub struct ").or_else(|| next.strip_prefix("pub enum "))
                {
                    let own: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    let name = renamed.clone().unwrap_or(own);
                    let at = format!("{}:{}", file.display(), i + 1);
                    if let Some(first) = seen.insert(name.clone(), at.clone()) {
                        clashes.push(format!("{name}: {first} and {at}"));
                    }
                    break;
                }
            }
        }
    }
    assert!(
        clashes.is_empty(),
        "schema names used twice (give one a #[schema(as = …)]):\n{}",
        clashes.join("\n")
    );
    assert!(seen.len() > 100, "the scan found the API's types ({})", seen.len());
}
