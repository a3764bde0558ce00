//! Personal API tokens (created on the profile page, used as Bearer on /api/v1, scoped,
//! expiring, revocable) and the rate limits in front of the API and the sign-in form.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::page::Page;

use common::{TestApp, location};
use salus_app::SecuritySettings;
use salus_core::Role;
use salus_web::{RateLimit, RateLimits, WebSettings};
use sea_orm::{ConnectionTrait, Statement};

/// Creates a token through the profile form; returns the status and the page.
async fn create(t: &TestApp, csrf: &str, name: &str, scopes: &[&str], days: &str) -> (u16, String) {
    let mut form = vec![("csrf_token", csrf), ("name", name), ("expires_in_days", days)];
    form.extend(scopes.iter().map(|s| ("scopes", *s)));
    let res = t.client.post(t.url("/profile/tokens")).form(&form).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn secret_in(html: &str) -> String {
    let start = html.find("id=\"token-secret\">").unwrap() + "id=\"token-secret\">".len();
    html[start..].split('<').next().unwrap().to_owned()
}

async fn get(t: &TestApp, path: &str, token: &str) -> reqwest::Response {
    t.new_client().get(t.url(path)).bearer_auth(token).send().await.unwrap()
}

async fn count(t: &TestApp, prefix: &str) -> usize {
    salus_db::audit::actions_of(t.app.db.reader(), prefix).await.unwrap().len()
}

db_test!(a_scoped_token_does_what_it_may_and_no_more, |t| {
    let csrf = t.login_as("admin.tok", &[Role::Admin]).await;
    let (status, html) = create(&t, &csrf, "audit exporter", &["audit.view"], "30").await;
    assert_eq!(status, 201);
    let secret = secret_in(&html);
    assert!(secret.starts_with("salus_pat_"));
    assert_eq!(count(&t, "token.created").await, 1);
    // Stored only as a hash.
    let stored = t
        .app
        .db
        .reader()
        .query_one_raw(Statement::from_string(
            t.app.db.reader().get_database_backend(),
            "SELECT token_hash FROM api_tokens",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<String>("", "token_hash")
        .unwrap();
    assert_ne!(stored, secret);
    assert!(
        !t.client.get(t.url("/profile")).send().await.unwrap().text().await.unwrap().contains(&secret),
        "shown once"
    );

    let res = get(&t, "/api/v1/me", &secret).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("admin.tok"));
    // Beyond its scope: the owner may manage users, the token may not.
    let res = get(&t, "/api/v1/users", &secret).await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("urn:salus:problem:forbidden"));
    assert_eq!(count(&t, "access.denied").await, 1);
    // A token opens the API only, never the pages.
    let res = get(&t, "/admin/audit", &secret).await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with("/login"));

    // A token with users.manage may write without any anti-forgery token (none is ambient).
    let (_, html) = create(&t, &csrf, "provisioning", &["users.manage"], "1").await;
    let writer = secret_in(&html);
    let res = t
        .new_client()
        .post(t.url("/api/v1/users"))
        .bearer_auth(&writer)
        .json(&serde_json::json!({"username": "via.token", "display_name": "Via Token", "roles": ["nurse"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
});

db_test!(bad_tokens_are_refused_and_change_nothing, |t| {
    let csrf = t.login_as("dr.tok", &[Role::Doctor]).await;
    // Bad input beside the fields, nothing created.
    let (status, html) = create(&t, &csrf, "  ", &["users.manage", "no.such"], "0").await;
    assert_eq!(status, 422);
    for id in ["token_name-error", "token_scopes-error", "token_expires-error"] {
        assert!(Page::parse(&html).has(&format!("[id=\"{id}\"]")), "{id} shown");
    }
    assert!(html.contains("not a permission you have"));
    let (status, _) = create(&t, &csrf, "x", &[], "366").await;
    assert_eq!(status, 422);
    assert_eq!(count(&t, "token.created").await, 0);

    let (status, html) = create(&t, &csrf, "ward tablet", &[], "10").await;
    assert_eq!(status, 201);
    let secret = secret_in(&html);
    assert_eq!(get(&t, "/api/v1/me", &secret).await.status(), 200);

    // Unknown and tampered tokens: 401, Bearer challenge, audited.
    let res = get(&t, "/api/v1/me", "salus_pat_nonsense").await;
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    assert!(res.text().await.unwrap().contains("urn:salus:problem:invalid-token"));
    assert_eq!(get(&t, "/api/v1/me", &format!("{secret}x")).await.status(), 401);

    // Another user cannot revoke it.
    let tokens = t.app.db.reader();
    let id: uuid::Uuid = tokens
        .query_one_raw(Statement::from_string(tokens.get_database_backend(), "SELECT id FROM api_tokens"))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "id")
        .unwrap();
    let other = t.new_client();
    let pw = t.user("dr.other", &[Role::Doctor]).await;
    let other_csrf = t.login_with(&other, "dr.other", &pw).await;
    let res = other
        .post(t.url(&format!("/profile/tokens/{id}/revoke")))
        .form(&[("csrf_token", other_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(get(&t, "/api/v1/me", &secret).await.status(), 200);

    // Expired: refused.
    let backend = tokens.get_database_backend();
    t.app
        .db
        .writer()
        .execute_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DatabaseBackend::Postgres => "UPDATE api_tokens SET expires_at = $1",
                _ => "UPDATE api_tokens SET expires_at = ?",
            },
            [chrono::Utc::now().checked_sub_signed(chrono::Duration::minutes(1)).unwrap().into()],
        ))
        .await
        .unwrap();
    assert_eq!(get(&t, "/api/v1/me", &secret).await.status(), 401);

    // Revoked by its owner: refused from then on.
    let (_, html) = create(&t, &csrf, "second", &[], "10").await;
    let second = secret_in(&html);
    let profile = t.client.get(t.url("/profile")).send().await.unwrap().text().await.unwrap();
    let revoke = profile.split("action=\"/profile/tokens/").nth(1).unwrap().split('"').next().unwrap();
    let res = t
        .client
        .post(t.url(&format!("/profile/tokens/{revoke}")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(count(&t, "token.revoked").await, 1);
    assert_eq!(get(&t, "/api/v1/me", &second).await.status(), 401);
    let rejected = salus_db::audit::actions_of(t.app.db.reader(), "token.rejected").await.unwrap();
    let reasons: Vec<String> = rejected.iter().map(|e| e.detail.clone().unwrap_or_default()).collect();
    for why in ["unknown token", "expired", "revoked"] {
        assert!(reasons.iter().any(|r| r.contains(why)), "{why} in {reasons:?}");
    }
});

db_test!(a_password_reset_revokes_the_users_tokens, |t| {
    let csrf = t.login_as("lab.tok", &[Role::LabTechnician]).await;
    let (_, html) = create(&t, &csrf, "analyser", &[], "10").await;
    let secret = secret_in(&html);
    let user = t.app.identity().find_user_by_username(&salus_app::Ctx::operator(), "lab.tok").await.unwrap();
    t.app.identity().reset_password(&salus_app::Ctx::operator(), user.id).await.unwrap();
    assert_eq!(get(&t, "/api/v1/me", &secret).await.status(), 401);
});

fn tight() -> WebSettings {
    WebSettings {
        rate_limits: RateLimits {
            api_per_address: RateLimit { per_minute: 1, burst: 5 },
            api_per_token: RateLimit { per_minute: 1, burst: 2 },
            login_per_address: RateLimit { per_minute: 1, burst: 3 },
        },
        ..WebSettings::default()
    }
}

fn no_second_factor() -> SecuritySettings {
    SecuritySettings { two_factor_roles: Vec::new(), ..Default::default() }
}

db_test!(rate_limits_answer_429_with_retry_after, no_second_factor(), tight(), |t| {
    // The sign-in form, per address: the fourth attempt is refused before any check.
    let mut statuses = Vec::new();
    let page = t.client.get(t.url("/login")).send().await.unwrap().text().await.unwrap();
    let csrf = common::csrf_in(&page);
    for _ in 0..4 {
        let res = t
            .client
            .post(t.url("/login"))
            .form(&[("username", "nobody"), ("password", "wrong-password-123"), ("csrf_token", &csrf)])
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            assert!(res.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
            assert!(res.text().await.unwrap().contains("Too many sign-in attempts"));
        }
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
    assert_eq!(
        salus_db::audit::actions_of(t.app.db.reader(), "session.login_failed").await.unwrap().len(),
        3,
        "the refused attempt never reached the password check"
    );

    // The API per token: the third call with one token is refused, with a problem.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let res = get(&t, "/api/v1/me", "salus_pat_made-up").await;
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            assert!(res.headers().contains_key("retry-after"));
            assert!(res.text().await.unwrap().contains("urn:salus:problem:too-many-requests"));
        }
    }
    assert_eq!(statuses, [401, 401, 429]);
    // And per address, whatever the token: made-up tokens do not buy more tries.
    for other in ["salus_pat_another", "salus_pat_and-another"] {
        assert_eq!(get(&t, "/api/v1/me", other).await.status(), 401);
    }
    let res = get(&t, "/api/v1/me", "salus_pat_yet-another").await;
    assert_eq!(res.status(), 429, "five per address in all");
    // Pages other than the sign-in form are not limited here.
    assert_eq!(t.client.get(t.url("/login")).send().await.unwrap().status(), 200);
});
