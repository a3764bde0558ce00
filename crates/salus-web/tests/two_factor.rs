//! Two-factor sign-in: enrolment by QR code, codes at sign-in (wrong, replayed, recovery),
//! the requirement per role and per user, and the administrator's reset.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::page::Page;

use common::{TestApp, csrf_in, location};
use salus_app::SecuritySettings;
use salus_core::Role;
use salus_web::WebSettings;
use totp_rs::{Builder, Secret};

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// The app code for `secret` at `time`.
fn code_at(secret: &str, time: u64) -> String {
    Builder::new()
        .with_secret(Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap()
        .generate(time)
        .to_string()
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let i = html.find(start).map(|i| i + start.len()).unwrap_or_else(|| panic!("no {start} in page"));
    html[i..].split(end).next().unwrap()
}

/// Opens the enrolment page; returns its anti-forgery token and the secret it offers.
async fn enrolment(t: &TestApp, client: &reqwest::Client) -> (String, String) {
    let res = client.get(t.url("/profile/two-factor")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(Page::parse(&html).has("svg"), "the QR code is drawn in the page");
    (csrf_in(&html), between(&html, "id=\"totp-secret\">", "<").to_owned())
}

/// Sets up two-factor sign-in for the signed-in `client`; returns the secret, the
/// recovery codes and the time whose code enrolled it.
async fn enrol(t: &TestApp, client: &reqwest::Client) -> (String, Vec<String>, u64) {
    let (csrf, secret) = enrolment(t, client).await;
    let at = now();
    let res = client
        .post(t.url("/profile/two-factor"))
        .form(&[("csrf_token", csrf.as_str()), ("secret", &secret), ("code", &code_at(&secret, at))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let list = between(&html, "id=\"recovery-codes\">", "</ol>");
    let codes: Vec<String> =
        list.split("<code>").skip(1).map(|c| c.split('<').next().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10);
    (secret, codes, at)
}

/// Signs in with the password only; returns where the browser is sent.
async fn password_step(t: &TestApp, client: &reqwest::Client, username: &str, password: &str) -> String {
    let page = client.get(t.url("/login")).send().await.unwrap().text().await.unwrap();
    let res = client
        .post(t.url("/login"))
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf_token", &csrf_in(&page)),
            ("next", "/admin/audit"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    location(&res)
}

/// Posts a code on the second-factor page; returns the status, the location and the body.
async fn give_code(t: &TestApp, client: &reqwest::Client, code: &str) -> (u16, String, String) {
    let page = client.get(t.url("/login/two-factor")).send().await.unwrap().text().await.unwrap();
    let res = client
        .post(t.url("/login/two-factor"))
        .form(&[("code", code), ("csrf_token", &csrf_in(&page)), ("next", "/admin/audit")])
        .send()
        .await
        .unwrap();
    let (status, to) = (res.status().as_u16(), location(&res));
    (status, to, res.text().await.unwrap())
}

async fn actions(t: &TestApp, prefix: &str) -> usize {
    salus_db::audit::actions_of(t.app.db.reader(), prefix).await.unwrap().len()
}

db_test!(enrolment_then_sign_in_with_codes_replays_refused, |t| {
    let password = t.user("dr.two", &[Role::Doctor]).await;
    t.login_with(&t.client, "dr.two", &password).await;

    // A wrong first code stores nothing, and the same secret is offered again.
    let (csrf, secret) = enrolment(&t, &t.client).await;
    let wrong = if code_at(&secret, now()) == "000000" { "111111" } else { "000000" };
    let res = t
        .client
        .post(t.url("/profile/two-factor"))
        .form(&[("csrf_token", csrf.as_str()), ("secret", &secret), ("code", wrong)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(Page::parse(&html).field_error("code").is_some(), "the message is beside the field");
    assert!(html.contains(&secret), "the scanned secret is kept");
    assert_eq!(actions(&t, "user.two_factor_enabled").await, 0);
    // A secret not made by Salus is refused, not stored.
    let res = t
        .client
        .post(t.url("/profile/two-factor"))
        .form(&[("csrf_token", csrf.as_str()), ("secret", "not base32!"), ("code", "123456")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);

    let (secret, recovery, enrolled_at) = enrol(&t, &t.client).await;
    assert_eq!(actions(&t, "user.two_factor_enabled").await, 1);

    // Password alone opens only the code page: pages go there, the API says 401.
    let phone = t.new_client();
    let to = password_step(&t, &phone, "dr.two", &password).await;
    assert!(to.starts_with("/login/two-factor"), "{to}");
    let res = phone.get(t.url("/")).send().await.unwrap();
    assert_eq!(location(&res), "/login/two-factor");
    assert_eq!(phone.get(t.url("/api/v1/me")).send().await.unwrap().status(), 401);

    // The code used to enrol is spent: replaying it fails, and says why. (The very code
    // enrolled with: a code taken now may fall in the next 30-second step.)
    let (status, _, body) = give_code(&t, &phone, &code_at(&secret, enrolled_at)).await;
    assert_eq!(status, 422);
    assert!(body.contains("already used"), "{body}");
    // A wrong code fails and is audited.
    let (status, _, body) = give_code(&t, &phone, "12345x").await;
    assert_eq!(status, 422);
    assert!(body.contains("is not right"));
    assert_eq!(actions(&t, "session.second_factor_failed").await, 2);
    assert_eq!(phone.get(t.url("/api/v1/me")).send().await.unwrap().status(), 401);

    // The next step's code (within the allowed drift) gets in and goes where asked.
    let (status, to, _) = give_code(&t, &phone, &code_at(&secret, now() + 30)).await;
    assert_eq!((status, to.as_str()), (303, "/admin/audit"));
    assert_eq!(phone.get(t.url("/api/v1/me")).send().await.unwrap().status(), 200);

    // A recovery code works once, in any case and spacing.
    let lost = t.new_client();
    password_step(&t, &lost, "dr.two", &password).await;
    let typed = recovery[3].to_uppercase().replace('-', " ");
    let (status, _, _) = give_code(&t, &lost, &typed).await;
    assert_eq!(status, 303);
    let again = t.new_client();
    password_step(&t, &again, "dr.two", &password).await;
    let (status, _, _) = give_code(&t, &again, &recovery[3]).await;
    assert_eq!(status, 422, "a recovery code is good once");
    let profile = lost.get(t.url("/profile")).send().await.unwrap().text().await.unwrap();
    assert!(profile.contains("9 recovery codes left"), "{profile}");
});

db_test!(wrong_codes_lock_the_account_like_wrong_passwords, |t| {
    let password = t.user("nurse.lock", &[Role::Nurse]).await;
    t.login_with(&t.client, "nurse.lock", &password).await;
    enrol(&t, &t.client).await;
    let attacker = t.new_client();
    password_step(&t, &attacker, "nurse.lock", &password).await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(give_code(&t, &attacker, "abcdefgh").await.0);
    }
    assert_eq!(statuses[..5], [422; 5]);
    assert_eq!(statuses[6], 429, "{statuses:?}");
});

db_test!(admins_must_enrol_before_anything_else, SecuritySettings::default(), WebSettings::default(), |t| {
    let csrf = t.login_as("boss", &[Role::Admin]).await;
    // Pages lead to enrolment; the API says what is missing; nothing else is open.
    let res = t.client.get(t.url("/admin/users")).send().await.unwrap();
    assert_eq!(location(&res), "/profile/two-factor");
    let res = t.client.get(t.url("/api/v1/users")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("second-factor-enrolment-required"));
    let res = t
        .client
        .post(t.url("/admin/users"))
        .header("x-csrf-token", &csrf)
        .form(&[("username", "sneaky"), ("display_name", "Sneaky"), ("roles", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(
        t.app
            .identity()
            .existing_usernames(&salus_app::Ctx::operator(), &["sneaky"])
            .await
            .unwrap()
            .is_empty()
    );
    // It cannot be turned off once on.
    enrol(&t, &t.client).await;
    assert_eq!(t.client.get(t.url("/admin/users")).send().await.unwrap().status(), 200);
    let res = t
        .client
        .post(t.url("/profile/two-factor/disable"))
        .form(&[("csrf_token", csrf.as_str()), ("current_password", "boss-password-123")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    assert_eq!(actions(&t, "user.two_factor_disabled").await, 0);
});

db_test!(an_administrator_requires_and_resets_a_users_second_factor, |t| {
    let admin_csrf = t.login_as("admin.x", &[Role::Admin]).await;
    let password = t.user("pharm.y", &[Role::Pharmacist]).await;
    let user = t.app.identity().find_user_by_username(&salus_app::Ctx::operator(), "pharm.y").await.unwrap();
    let pharm = t.new_client();
    let pharm_csrf = t.login_with(&pharm, "pharm.y", &password).await;

    // Not an administrator: refused, audited, nothing changed.
    let res = pharm
        .post(t.url(&format!("/admin/users/{}/require-two-factor", user.id)))
        .form(&[("csrf_token", pharm_csrf.as_str()), ("required", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(actions(&t, "user.two_factor_required").await, 0);

    let res = t
        .client
        .post(t.url(&format!("/admin/users/{}/require-two-factor", user.id)))
        .form(&[("csrf_token", admin_csrf.as_str()), ("required", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    // The pharmacist's next request goes to enrolment.
    assert_eq!(location(&pharm.get(t.url("/")).send().await.unwrap()), "/profile/two-factor");
    enrol(&t, &pharm).await;

    // Lost phone: the administrator removes the factor; the user's sessions end.
    let res = t
        .client
        .post(t.url(&format!("/admin/users/{}/reset-two-factor", user.id)))
        .form(&[("csrf_token", admin_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(pharm.get(t.url("/api/v1/me")).send().await.unwrap().status(), 401);
    let fresh = t.new_client();
    let to = password_step(&t, &fresh, "pharm.y", &password).await;
    assert_eq!(to, "/admin/audit", "no code asked for any more");
    assert_eq!(
        location(&fresh.get(t.url("/")).send().await.unwrap()),
        "/profile/two-factor",
        "still required"
    );
});
