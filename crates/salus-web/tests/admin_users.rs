//! One account's administration page: roles, disable, password reset, with bad input,
//! missing permission and the last-administrator rule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::page::Page;

use common::TestApp;
use salus_app::Ctx;
use salus_core::Role;

async fn act(
    t: &TestApp,
    client: &reqwest::Client,
    csrf: &str,
    path: &str,
    extra: &[(&str, &str)],
) -> (u16, String) {
    let mut form = vec![("csrf_token", csrf)];
    form.extend_from_slice(extra);
    let res = client.post(t.url(path)).form(&form).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

db_test!(roles_disable_and_reset_from_the_user_page, |t| {
    let csrf = t.login_as("admin.u", &[Role::Admin]).await;
    let password = t.user("nurse.u", &[Role::Nurse]).await;
    let nurse = t.new_client();
    t.login_with(&nurse, "nurse.u", &password).await;
    let id = t.app.identity().find_user_by_username(&Ctx::operator(), "nurse.u").await.unwrap().id;
    let base = format!("/admin/users/{id}");

    let page = t.client.get(t.url(&base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("nurse.u"));

    // Bad input: an unknown role, no role at all. Nothing changes.
    let (status, html) = act(&t, &t.client, &csrf, &format!("{base}/roles"), &[("roles", "wizard")]).await;
    assert_eq!(status, 422);
    assert!(Page::parse(&html).field_error("roles").is_some());
    let (status, _) = act(&t, &t.client, &csrf, &format!("{base}/roles"), &[]).await;
    assert_eq!(status, 422);
    assert_eq!(t.app.identity().user(&Ctx::operator(), id).await.unwrap().roles, vec![Role::Nurse]);
    assert_eq!(nurse.get(t.url("/api/v1/me")).send().await.unwrap().status(), 200);

    // A role change takes effect at once: the user's sessions end.
    let (status, _) =
        act(&t, &t.client, &csrf, &format!("{base}/roles"), &[("roles", "doctor"), ("roles", "nurse")]).await;
    assert_eq!(status, 303);
    assert_eq!(
        t.app.identity().user(&Ctx::operator(), id).await.unwrap().roles,
        vec![Role::Doctor, Role::Nurse]
    );
    assert_eq!(nurse.get(t.url("/api/v1/me")).send().await.unwrap().status(), 401);

    // Reset: the new password is shown once and must be changed at sign-in.
    let (status, html) = act(&t, &t.client, &csrf, &format!("{base}/reset-password"), &[]).await;
    assert_eq!(status, 200);
    let start = html.find("id=\"new-password\">").unwrap() + "id=\"new-password\">".len();
    let handed = html[start..].split('<').next().unwrap().to_owned();
    let again = t.new_client();
    t.login_with(&again, "nurse.u", &handed).await;
    let res = again.get(t.url("/")).send().await.unwrap();
    assert_eq!(common::location(&res), "/profile");

    // Disable, then enable.
    let (status, _) = act(&t, &t.client, &csrf, &format!("{base}/disable"), &[]).await;
    assert_eq!(status, 303);
    assert!(!t.app.identity().user(&Ctx::operator(), id).await.unwrap().active);
    let (status, _) = act(&t, &t.client, &csrf, &format!("{base}/enable"), &[]).await;
    assert_eq!(status, 303);
    assert!(t.app.identity().user(&Ctx::operator(), id).await.unwrap().active);

    // The last administrator cannot disable themself; the page says why.
    let me = t.app.identity().find_user_by_username(&Ctx::operator(), "admin.u").await.unwrap().id;
    let (status, html) = act(&t, &t.client, &csrf, &format!("/admin/users/{me}/disable"), &[]).await;
    assert_eq!(status, 409, "{html}");
    assert!(Page::parse(&html).alert().is_some());
    assert!(t.app.identity().user(&Ctx::operator(), me).await.unwrap().active);

    // Unknown action, unknown user, malformed id, wrong anti-forgery token.
    assert_eq!(act(&t, &t.client, &csrf, &format!("{base}/explode"), &[]).await.0, 404);
    assert_eq!(
        act(&t, &t.client, &csrf, "/admin/users/0190a0b0-0000-7000-8000-000000000000/disable", &[]).await.0,
        404
    );
    assert_eq!(t.client.get(t.url("/admin/users/not-an-id")).send().await.unwrap().status(), 404);
    assert_eq!(act(&t, &t.client, "forged", &format!("{base}/disable"), &[]).await.0, 403);
    assert!(t.app.identity().user(&Ctx::operator(), id).await.unwrap().active);
});

db_test!(a_role_change_by_a_non_admin_is_refused_and_audited, |t| {
    let csrf = t.login_as("billing.u", &[Role::Billing]).await;
    t.user("victim", &[Role::Nurse]).await;
    let id = t.app.identity().find_user_by_username(&Ctx::operator(), "victim").await.unwrap().id;
    let (status, html) =
        act(&t, &t.client, &csrf, &format!("/admin/users/{id}/roles"), &[("roles", "admin")]).await;
    assert_eq!(status, 403);
    assert!(!html.contains("victim"), "never the data");
    assert_eq!(t.app.identity().user(&Ctx::operator(), id).await.unwrap().roles, vec![Role::Nurse]);
    let denied = salus_db::audit::actions_of(t.app.db.reader(), "access.denied").await.unwrap();
    assert_eq!(denied.len(), 1);
});
