//! Sign-in, sessions and the anti-forgery rules, through the real pages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::page::Page;

use chrono::{Duration, Utc};
use common::csrf_in;
use salus_core::Role;
use sea_orm::{ConnectionTrait, Statement};

fn set_cookie_names(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split('=').next().unwrap().to_owned())
        .collect()
}

/// Moves every session's clock: `last_seen_at` and `expires_at` to the given times.
async fn age_sessions(
    app: &common::TestApp,
    last_seen: chrono::DateTime<Utc>,
    expires: chrono::DateTime<Utc>,
) {
    let db = app.app.db.writer();
    let backend = db.get_database_backend();
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        match backend {
            sea_orm::DbBackend::Postgres => "UPDATE sessions SET last_seen_at = $1, expires_at = $2",
            _ => "UPDATE sessions SET last_seen_at = ?, expires_at = ?",
        },
        [last_seen.into(), expires.into()],
    ))
    .await
    .unwrap();
}

db_test!(login_opens_a_session_and_shows_the_role_home, |t| {
    t.login_as("dr.rao", &[Role::Doctor]).await;
    let home = t.client.get(t.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(html.contains("Welcome, Test dr.rao"));
    assert!(html.contains("worklist"), "the doctor's tasks are shown");
    assert!(!Page::parse(&html).links_to("/admin/users"), "no admin link for a doctor");
    let me: serde_json::Value = t.client.get(t.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["username"], "dr.rao");
    assert_eq!(me["roles"], serde_json::json!(["doctor"]));
});

db_test!(session_cookie_is_http_only_and_same_site, |t| {
    let password = t.user("nurse.amina", &[Role::Nurse]).await;
    let page = t.client.get(t.url("/login")).send().await.unwrap().text().await.unwrap();
    let res = t
        .client
        .post(t.url("/login"))
        .form(&[
            ("username", "nurse.amina"),
            ("password", password.as_str()),
            ("csrf_token", &csrf_in(&page)),
        ])
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("salus_session="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "no Secure flag without TLS");
});

db_test!(wrong_password_and_unknown_user_get_the_same_answer, |t| {
    t.user("reception.kofi", &[Role::Receptionist]).await;
    for (user, pass) in [("reception.kofi", "wrong-password-1234"), ("nobody.here", "wrong-password-1234")] {
        let page = t.client.get(t.url("/login")).send().await.unwrap().text().await.unwrap();
        let res = t
            .client
            .post(t.url("/login"))
            .form(&[("username", user), ("password", pass), ("csrf_token", &csrf_in(&page))])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        assert!(!set_cookie_names(&res).contains(&"salus_session".to_owned()));
        let html = res.text().await.unwrap();
        assert!(html.contains("Invalid username or password."), "{user}");
        assert!(Page::parse(&html).has("[aria-invalid=true]"));
    }
    assert_eq!(t.client.get(t.url("/api/v1/me")).send().await.unwrap().status(), 401);
});

db_test!(disabled_user_cannot_sign_in_and_loses_sessions, |t| {
    let password = t.user("lab.mei", &[Role::LabTechnician]).await;
    t.login_with(&t.client, "lab.mei", &password).await;
    let user = t.app.identity().find_user_by_username(&salus_app::Ctx::operator(), "lab.mei").await.unwrap();
    t.app.identity().set_user_active(&salus_app::Ctx::operator(), user.id, false).await.unwrap();
    assert_eq!(t.client.get(t.url("/api/v1/me")).send().await.unwrap().status(), 401);
    let other = t.new_client();
    let page = other.get(t.url("/login")).send().await.unwrap().text().await.unwrap();
    let res = other
        .post(t.url("/login"))
        .form(&[("username", "lab.mei"), ("password", password.as_str()), ("csrf_token", &csrf_in(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
});

db_test!(idle_session_expires, |t| {
    t.login_as("pharm.omar", &[Role::Pharmacist]).await;
    assert_eq!(t.client.get(t.url("/api/v1/me")).send().await.unwrap().status(), 200);
    age_sessions(&t, Utc::now() - Duration::hours(2), Utc::now() + Duration::hours(1)).await;
    let res = t.client.get(t.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login?next=%2F");
    assert!(set_cookie_names(&res).contains(&"salus_session".to_owned()), "the stale cookie is cleared");
});

db_test!(absolute_expiry_ends_an_active_session, |t| {
    t.login_as("billing.sara", &[Role::Billing]).await;
    age_sessions(&t, Utc::now(), Utc::now() - Duration::seconds(1)).await;
    assert_eq!(t.client.get(t.url("/api/v1/me")).send().await.unwrap().status(), 401);
});

db_test!(logout_ends_the_session, |t| {
    let csrf = t.login_as("patient.ravi", &[Role::Patient]).await;
    let res = t.client.post(t.url("/logout")).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(t.client.get(t.url("/api/v1/me")).send().await.unwrap().status(), 401);
    let login = t.client.get(t.url("/login")).send().await.unwrap().text().await.unwrap();
    assert!(login.contains("You have signed out."), "flash shown once");
    let again = t.client.get(t.url("/login")).send().await.unwrap().text().await.unwrap();
    assert!(!again.contains("You have signed out."), "and not twice");
});

db_test!(the_flash_is_signed_with_the_installations_key, |t| {
    // Signed out on one instance, the message shows on the next page served by another:
    // both read the key the first one made and stored.
    let other = t.second_instance().await;
    assert_eq!(other.app.cookie_key().await.unwrap(), t.app.cookie_key().await.unwrap());
    assert_eq!(t.app.cookie_key().await.unwrap().len(), 64);
    let csrf = t.login_as("nurse.joy", &[Role::Nurse]).await;
    let res = t.client.post(t.url("/logout")).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let login = t.client.get(other.url("/login")).send().await.unwrap().text().await.unwrap();
    assert!(login.contains("You have signed out."), "the other instance trusts the flash");

    // A flash cookie planted by anything else (a sibling site on the same domain) is not
    // shown, and is cleared.
    let planted = base64_url("Your account is locked. Call 555-0100.");
    let res = t
        .new_client()
        .get(t.url("/login"))
        .header("cookie", format!("salus_flash={planted}"))
        .send()
        .await
        .unwrap();
    assert!(set_cookie_names(&res).contains(&"salus_flash".to_owned()), "the forged flash is cleared");
    let page = res.text().await.unwrap();
    assert!(!page.contains("555-0100"), "{page}");
});

fn base64_url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

db_test!(forms_without_the_csrf_token_are_refused, |t| {
    // The login form: no token, or a token that is not the cookie's.
    let password = t.user("admin", &[Role::Admin]).await;
    t.client.get(t.url("/login")).send().await.unwrap();
    for token in [None, Some("forged")] {
        let mut form = vec![("username", "admin"), ("password", password.as_str())];
        if let Some(tok) = token {
            form.push(("csrf_token", tok));
        }
        let res = t.client.post(t.url("/login")).form(&form).send().await.unwrap();
        assert_eq!(res.status(), 403, "token {token:?}");
        assert!(!set_cookie_names(&res).contains(&"salus_session".to_owned()));
    }
    // Signed in: a form post and a JSON call riding on the cookie need the session's token.
    let csrf = t.login_with(&t.client, "admin", &password).await;
    let form = [("username", "forged.user"), ("display_name", "Forged"), ("roles", "admin")];
    let res = t.client.post(t.url("/admin/users")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let res = t
        .client
        .post(t.url("/api/v1/users"))
        .json(&serde_json::json!({"username": "forged.api", "display_name": "Forged", "roles": ["admin"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let problem: serde_json::Value = res.json().await.unwrap();
    assert_eq!(problem["type"], "urn:salus:problem:csrf-rejected");
    let res = t.client.post(t.url("/logout")).header("x-csrf-token", "wrong").send().await.unwrap();
    assert_eq!(res.status(), 403, "a wrong header token is refused too");
    // Nothing was created, and the real token works.
    let page = t.client.get(t.url("/admin/users")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("forged.user") && !page.contains("forged.api"));
    let res = t.client.post(t.url("/logout")).header("x-csrf-token", csrf).send().await.unwrap();
    assert_eq!(res.status(), 303);
});

db_test!(pages_need_sign_in_and_return_to_where_they_were, |t| {
    let res = t.client.get(t.url("/admin/users?after=x")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login?next=%2Fadmin%2Fusers%3Fafter%3Dx");
    let password = t.user("admin", &[Role::Admin]).await;
    let page =
        t.client.get(t.url("/login?next=%2Fadmin%2Fusers")).send().await.unwrap().text().await.unwrap();
    let res = t
        .client
        .post(t.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", password.as_str()),
            ("csrf_token", &csrf_in(&page)),
            ("next", "/admin/users"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/admin/users");
});

db_test!(admin_creates_users_through_the_form, |t| {
    let csrf = t.login_as("admin", &[Role::Admin]).await;
    // Bad input: each message beside its field, nothing created.
    let res = t
        .client
        .post(t.url("/admin/users"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("username", "x"),
            ("display_name", ""),
            ("password", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(Page::parse(&html).field_error("username").is_some(), "username error beside its field");
    assert!(Page::parse(&html).field_error("display_name").is_some());
    assert!(Page::parse(&html).field_error("roles").is_some());
    assert_eq!(salus_db::identity::count_users(t.app.db.reader()).await.unwrap(), 1);
    // Good input: created, generated password shown once.
    let res = t
        .client
        .post(t.url("/admin/users"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("username", "Nurse.Joy"),
            ("display_name", "Joy Okafor"),
            ("roles", "nurse"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("User <strong>nurse.joy</strong> created"));
    assert_eq!(salus_db::identity::count_users(t.app.db.reader()).await.unwrap(), 2);
    // The same username again is refused beside the field.
    let res = t
        .client
        .post(t.url("/admin/users"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("username", "nurse.joy"),
            ("display_name", "Joy"),
            ("roles", "nurse"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("is already taken"));
});

db_test!(non_admins_cannot_open_user_administration, |t| {
    let csrf = t.login_as("dr.rao", &[Role::Doctor]).await;
    let res = t.client.get(t.url("/admin/users")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let res = t
        .client
        .post(t.url("/admin/users"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("username", "sneaky"),
            ("display_name", "S"),
            ("roles", "admin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(salus_db::identity::count_users(t.app.db.reader()).await.unwrap(), 1);
});

db_test!(a_session_carries_every_role_and_role_changes_end_it, |t| {
    t.login_as("dr.nurse", &[Role::Nurse, Role::Doctor]).await;
    let me: serde_json::Value = t.client.get(t.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["roles"], serde_json::json!(["doctor", "nurse"]));
    let op = salus_app::Ctx::operator();
    let user = t.app.identity().find_user_by_username(&op, "dr.nurse").await.unwrap();
    t.app.identity().set_roles(&op, user.id, &[Role::Doctor]).await.unwrap();
    assert_eq!(
        t.client.get(t.url("/api/v1/me")).send().await.unwrap().status(),
        401,
        "signed out by the change"
    );
});

/// Posts the login form from `client`; returns status, Retry-After and body.
async fn attempt(
    t: &common::TestApp,
    client: &reqwest::Client,
    user: &str,
    pass: &str,
) -> (u16, Option<String>, String) {
    let page = client.get(t.url("/login")).send().await.unwrap().text().await.unwrap();
    let res = client
        .post(t.url("/login"))
        .form(&[("username", user), ("password", pass), ("csrf_token", &csrf_in(&page))])
        .send()
        .await
        .unwrap();
    let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (res.status().as_u16(), retry, res.text().await.unwrap())
}

db_test!(repeated_failures_lock_a_name_whether_or_not_it_exists, |t| {
    let password = t.user("dr.lock", &[Role::Doctor]).await;
    let client = t.new_client();
    for (name, right) in [("dr.lock", password.as_str()), ("ghost.user", "any-password-1234")] {
        for i in 0..5 {
            assert_eq!(attempt(&t, &client, name, "wrong-password-123").await.0, 401, "{name} failure {i}");
        }
        // Locked now, even with the right password, and said the same way for both names.
        let (status, retry, body) = attempt(&t, &client, name, right).await;
        assert_eq!(status, 429, "{name}");
        let retry: u64 = retry.expect("Retry-After").parse().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        assert!(body.contains("Too many failed sign-ins. Try again in 1 minute."), "{name}");
    }
    // Other names from the same address still sign in.
    let other = t.user("nurse.free", &[Role::Nurse]).await;
    assert_eq!(attempt(&t, &t.new_client(), "nurse.free", &other).await.0, 303);
    // When the lock runs out the right password works, and the count starts again.
    t.app.db.writer().execute_unprepared("UPDATE login_failures SET locked_until = NULL").await.unwrap();
    assert_eq!(attempt(&t, &t.new_client(), "dr.lock", &password).await.0, 303);
    assert_eq!(
        attempt(&t, &client, "dr.lock", "wrong-password-123").await.0,
        401,
        "one failure is not a lock"
    );
    let locked = salus_db::audit::actions_of(t.app.db.reader(), "session.login_locked").await.unwrap();
    assert_eq!(locked.len(), 2, "each refused attempt is audited");
});

db_test!(an_address_guessing_many_names_is_slowed, |t| {
    let password = t.user("pharm.real", &[Role::Pharmacist]).await;
    let client = t.new_client();
    for i in 0..20 {
        assert_eq!(attempt(&t, &client, &format!("guess.{i}"), "wrong-password-123").await.0, 401);
    }
    // The address is now held back, whichever name it tries next.
    assert_eq!(attempt(&t, &client, "pharm.real", &password).await.0, 429);
});

/// `GET /api/v1/me` from `client` on `app`: the status.
async fn me_on(app: &common::TestApp, client: &reqwest::Client) -> u16 {
    client.get(app.url("/api/v1/me")).send().await.unwrap().status().as_u16()
}

db_test!(a_revocation_on_one_instance_holds_on_the_next_request_of_every_other, |t| {
    // Two instances behind a load balancer, each with its own cache of sign-ins: every
    // client below is first served by both, so each instance holds its session.
    let other = t.second_instance().await;
    let op = salus_app::Ctx::operator();
    let signed_in = |username: &'static str, roles: &'static [Role]| {
        let t = &t;
        let other = &other;
        async move {
            let client = t.new_client();
            let password = t.user(username, roles).await;
            let csrf = t.login_with(&client, username, &password).await;
            assert_eq!((me_on(t, &client).await, me_on(other, &client).await), (200, 200), "{username}");
            assert_eq!(me_on(other, &client).await, 200, "{username}, from the cache");
            (client, csrf)
        }
    };

    // Signed out on one, signed out on the other.
    let (nurse, csrf) = signed_in("nurse.cache", &[Role::Nurse]).await;
    let res = nurse.post(t.url("/logout")).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(me_on(&other, &nurse).await, 401, "sign-out");

    // An account disabled.
    let (clerk, _) = signed_in("clerk.cache", &[Role::Receptionist]).await;
    let clerk_id = t.app.identity().find_user_by_username(&op, "clerk.cache").await.unwrap().id;
    t.app.identity().set_user_active(&op, clerk_id, false).await.unwrap();
    assert_eq!(me_on(&other, &clerk).await, 401, "disabled account");

    // Roles changed.
    let (doctor, _) = signed_in("dr.cache", &[Role::Doctor, Role::Nurse]).await;
    let doctor_id = t.app.identity().find_user_by_username(&op, "dr.cache").await.unwrap().id;
    t.app.identity().set_roles(&op, doctor_id, &[Role::Doctor]).await.unwrap();
    assert_eq!(me_on(&other, &doctor).await, 401, "role change");

    // A password reset, which also revokes the user's API tokens.
    let (pharmacist, csrf) = signed_in("pharm.cache", &[Role::Pharmacist]).await;
    let form = [("csrf_token", csrf.as_str()), ("name", "stock sync"), ("expires_in_days", "30")];
    let page =
        pharmacist.post(t.url("/profile/tokens")).form(&form).send().await.unwrap().text().await.unwrap();
    let marker = "id=\"token-secret\">";
    let secret = page[page.find(marker).unwrap() + marker.len()..].split('<').next().unwrap().to_owned();
    let bearer =
        |app: &common::TestApp| t.new_client().get(app.url("/api/v1/me")).bearer_auth(&secret).send();
    assert_eq!(bearer(&other).await.unwrap().status(), 200);
    assert_eq!(bearer(&other).await.unwrap().status(), 200, "the token from the cache");
    let pharmacist_id = t.app.identity().find_user_by_username(&op, "pharm.cache").await.unwrap().id;
    t.app.identity().reset_password(&op, pharmacist_id).await.unwrap();
    assert_eq!(me_on(&other, &pharmacist).await, 401, "password reset");
    assert_eq!(bearer(&other).await.unwrap().status(), 401, "the reset revoked the token");

    // A session revoked from the profile page of another browser of the same user ends
    // there too, while the user's other session stays.
    let (first, _) = signed_in("lab.cache", &[Role::LabTechnician]).await;
    let second = t.new_client();
    let csrf = t.login_with(&second, "lab.cache", "lab.cache-password-123").await;
    assert_eq!(me_on(&other, &second).await, 200);
    let lab = t.app.identity().find_user_by_username(&op, "lab.cache").await.unwrap();
    let sessions = salus_db::identity::sessions_of_user(t.app.db.reader(), lab.id.as_uuid()).await.unwrap();
    let oldest = sessions.iter().min_by_key(|s| s.created_at).unwrap().id;
    let res = second
        .post(t.url(&format!("/profile/sessions/{oldest}/revoke")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(me_on(&other, &first).await, 401, "the revoked session");
    assert_eq!(me_on(&other, &second).await, 200, "the one that revoked it");
});
