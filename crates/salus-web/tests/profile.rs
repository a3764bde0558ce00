//! The user's own profile: password change and sessions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::page::Page;

use salus_core::Role;

async fn me_status(t: &common::TestApp, c: &reqwest::Client) -> u16 {
    c.get(t.url("/api/v1/me")).send().await.unwrap().status().as_u16()
}

db_test!(changing_the_password_checks_it_and_ends_other_sessions, |t| {
    let old = t.user("nurse.pw", &[Role::Nurse]).await;
    let csrf = t.login_with(&t.client, "nurse.pw", &old).await;
    let laptop = t.new_client();
    t.login_with(&laptop, "nurse.pw", &old).await;
    let change = |current: &str, new: &str, confirm: &str| {
        let form = [
            ("csrf_token", csrf.clone()),
            ("current_password", current.to_owned()),
            ("new_password", new.to_owned()),
            ("confirm_password", confirm.to_owned()),
        ];
        t.client.post(t.url("/profile/password")).form(&form).send()
    };
    for (current, new, confirm, field) in [
        ("not-my-password-1", "a brand new long phrase", "a brand new long phrase", "current_password-error"),
        (old.as_str(), "a brand new long phrase", "a different long phrase", "confirm_password-error"),
        (old.as_str(), "Password12345!", "Password12345!", "new_password-error"),
        (old.as_str(), "short", "short", "new_password-error"),
    ] {
        let res = change(current, new, confirm).await.unwrap();
        assert_eq!(res.status(), 422, "{field}");
        assert!(
            Page::parse(&res.text().await.unwrap()).has(&format!("[id=\"{field}\"]")),
            "{field} beside its field"
        );
    }
    assert_eq!(me_status(&t, &laptop).await, 200, "nothing changed yet");
    let res = change(&old, "a brand new long phrase", "a brand new long phrase").await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(me_status(&t, &t.client).await, 200, "this session stays");
    assert_eq!(me_status(&t, &laptop).await, 401, "the other session ended");
    let fresh = t.new_client();
    t.login_with(&fresh, "nurse.pw", "a brand new long phrase").await;
    let events = salus_db::audit::actions_of(t.app.db.reader(), "user.password_change").await.unwrap();
    assert_eq!(events.len(), 1);
});

db_test!(sessions_are_listed_and_ended_only_by_their_owner, |t| {
    let pw = t.user("dr.s", &[Role::Doctor]).await;
    let csrf = t.login_with(&t.client, "dr.s", &pw).await;
    let tablet = t.new_client();
    t.login_with(&tablet, "dr.s", &pw).await;
    let intruder_pw = t.user("dr.other", &[Role::Doctor]).await;
    let intruder = t.new_client();
    let intruder_csrf = t.login_with(&intruder, "dr.other", &intruder_pw).await;

    let page = t.client.get(t.url("/profile")).send().await.unwrap().text().await.unwrap();
    let ids: Vec<String> = page
        .match_indices("/profile/sessions/")
        .map(|(i, _)| page[i + 18..].split('/').next().unwrap().to_owned())
        .filter(|id| id.len() == 36)
        .collect();
    assert_eq!(ids.len(), 2, "two sessions listed: {ids:?}");
    assert!(page.contains("Sign out (this one)"));
    // Someone else's session id is not found for the intruder, and stays alive.
    for id in &ids {
        let res = intruder
            .post(t.url(&format!("/profile/sessions/{id}/revoke")))
            .header("x-csrf-token", &intruder_csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
    }
    assert_eq!(me_status(&t, &tablet).await, 200);
    let res = intruder
        .post(t.url("/profile/sessions/not-a-uuid/revoke"))
        .header("x-csrf-token", &intruder_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // The owner signs out everywhere else.
    let res = t
        .client
        .post(t.url("/profile/sessions/revoke-others"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(me_status(&t, &tablet).await, 401);
    assert_eq!(me_status(&t, &t.client).await, 200);
    assert_eq!(me_status(&t, &intruder).await, 200, "another user's sessions untouched");
    let profile = t.client.get(t.url("/profile")).send().await.unwrap().text().await.unwrap();
    assert!(profile.contains("Signed out of 1 other session."));
});

db_test!(a_reset_password_must_be_changed_before_anything_else, |t| {
    t.user("admin", &[Role::Admin]).await;
    t.user("lab.reset", &[Role::LabTechnician]).await;
    let op = salus_app::Ctx::operator();
    let user = t.app.identity().find_user_by_username(&op, "lab.reset").await.unwrap();
    let handed_over = t.app.identity().reset_password(&op, user.id).await.unwrap();
    let csrf = t.login_with(&t.client, "lab.reset", &handed_over).await;
    // Every page but the profile sends them there; the API says why.
    let res = t.client.get(t.url("/")).send().await.unwrap();
    assert_eq!((res.status().as_u16(), res.headers()["location"].to_str().unwrap()), (303, "/profile"));
    let res = t.client.get(t.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("urn:salus:problem:password-change-required"));
    let profile = t.client.get(t.url("/profile")).send().await.unwrap().text().await.unwrap();
    assert!(profile.contains("Choose a new one to continue."));
    let form = [
        ("csrf_token", csrf.as_str()),
        ("current_password", handed_over.as_str()),
        ("new_password", "my own long phrase now"),
        ("confirm_password", "my own long phrase now"),
    ];
    assert_eq!(t.client.post(t.url("/profile/password")).form(&form).send().await.unwrap().status(), 303);
    assert_eq!(t.client.get(t.url("/")).send().await.unwrap().status(), 200, "free again");
    assert_eq!(me_status(&t, &t.client).await, 200);
});
