//! The patient pages: search while typing (htmx fragment), registration with the
//! duplicate check, the chart, a stale edit, break-the-glass, a patient's own chart,
//! merge from the chart, and the break-the-glass review.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::page::Page;

use common::{TestApp, location};
use salus_core::Role;

async fn post(t: &TestApp, c: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let res = c.post(t.url(path)).form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let to = location(&res);
    (status, to, res.text().await.unwrap())
}

async fn get(c: &reqwest::Client, t: &TestApp, path: &str) -> (u16, String) {
    let res = c.get(t.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

db_test!(the_front_desk_registers_and_finds_patients, |t| {
    let csrf = t.login_as("desk", &[Role::Receptionist]).await;
    let c = &t.client;
    // Bad input: the message is beside the field, nothing is saved.
    let (status, _, html) = post(
        &t,
        c,
        "/patients/new",
        &[
            ("csrf_token", &csrf),
            ("given_names", "Ama"),
            ("birth_date", "2999-01-01"),
            ("phone", "0244 123 456"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        Page::parse(&html).field_error("sex").is_some()
            && Page::parse(&html).field_error("birth_date").is_some(),
        "{html}"
    );
    // A Ghanaian number typed the Ghanaian way is not a number in India, the facility's
    // country: it is refused beside the field instead of becoming +91244123456.
    assert!(Page::parse(&html).field_error("phone").is_some(), "{html}");
    assert!(Page::parse(&html).value("given_names").as_deref() == Some("Ama"), "what was typed is kept");

    let form = [
        ("csrf_token", csrf.as_str()),
        ("given_names", "Ama"),
        ("family_name", "Owusu"),
        ("sex", "female"),
        ("birth_date", "12/05/1991"),
        ("phone", "+233 24 412 3456"),
        ("id_national_id", "GHA-123456789-0"),
    ];
    let (status, to, _) = post(&t, c, "/patients/new", &form).await;
    assert_eq!(status, 303);
    let (status, chart) = get(c, &t, &to).await;
    assert_eq!(status, 200);
    assert!(chart.contains("Ama Owusu") && chart.contains("Registered as SAL"), "{chart}");
    assert!(chart.contains("GHA-123456789-0"));
    assert!(chart.contains("+233 24 412 3456"), "stored as +233244123456, shown grouped as people read it");

    // The same person again: the page shows the record on file and offers to go on.
    let (status, _, html) = post(
        &t,
        c,
        "/patients/new",
        &form.map(|(k, v)| if k == "id_national_id" { (k, "") } else { (k, v) }),
    )
    .await;
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("may already be registered") && Page::parse(&html).has("[name=not_a_duplicate]"));

    // Search while typing: htmx gets the fragment, a plain request the whole page.
    let res = c.get(t.url("/patients?q=owusu")).header("hx-request", "true").send().await.unwrap();
    let fragment = res.text().await.unwrap();
    assert!(fragment.contains("Ama Owusu") && !fragment.contains("<html"), "{fragment}");
    let (_, full) = get(c, &t, "/patients?q=ama+1991").await;
    assert!(full.contains("<html") && full.contains("Ama Owusu"));
    let (_, none) = get(c, &t, "/patients?q=nobody+like+this").await;
    assert!(none.contains("No patient matches"));
});

db_test!(a_stale_edit_shows_what_is_on_file, |t| {
    let csrf = t.login_as("desk", &[Role::Receptionist]).await;
    let c = &t.client;
    let (_, chart, _) = post(
        &t,
        c,
        "/patients/new",
        &[("csrf_token", &csrf), ("given_names", "Bola"), ("family_name", "Ade"), ("sex", "male")],
    )
    .await;
    let edit = format!("{chart}/edit");
    let (_, page) = get(c, &t, &edit).await;
    assert!(Page::parse(&page).value("version").as_deref() == Some("1"));
    let (status, _, _) = post(
        &t,
        c,
        &edit,
        &[
            ("csrf_token", &csrf),
            ("version", "1"),
            ("given_names", "Bola"),
            ("family_name", "Adeyemi"),
            ("sex", "male"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _, html) = post(
        &t,
        c,
        &edit,
        &[
            ("csrf_token", &csrf),
            ("version", "1"),
            ("given_names", "Bolaji"),
            ("family_name", "Ade"),
            ("sex", "male"),
        ],
    )
    .await;
    assert_eq!(status, 409);
    assert!(
        html.contains("Someone else saved this record")
            && Page::parse(&html).value("family_name").as_deref() == Some("Adeyemi"),
        "{html}"
    );
    let (_, chart_html) = get(c, &t, &chart).await;
    assert!(chart_html.contains("Bola Adeyemi"), "the stale edit changed nothing");
});

db_test!(restricted_charts_patients_own_chart_merge_and_review, |t| {
    let desk_csrf = t.login_as("desk", &[Role::Receptionist]).await;
    let (_, vip, _) = post(
        &t,
        &t.client,
        "/patients/new",
        &[
            ("csrf_token", &desk_csrf),
            ("given_names", "Famous"),
            ("family_name", "Star"),
            ("sex", "female"),
            ("restricted", "yes"),
            ("restricted_reason", "VIP"),
        ],
    )
    .await;
    let (_, other, _) = post(
        &t,
        &t.client,
        "/patients/new",
        &[("csrf_token", &desk_csrf), ("given_names", "Ravi"), ("family_name", "Kumar"), ("sex", "male")],
    )
    .await;
    let (_, dup, _) = post(
        &t,
        &t.client,
        "/patients/new",
        &[
            ("csrf_token", &desk_csrf),
            ("given_names", "Ravi"),
            ("family_name", "Kumaar"),
            ("sex", "male"),
            ("not_a_duplicate", "yes"),
        ],
    )
    .await;

    let doctor = t.new_client();
    let pw = t.user("dr.b", &[Role::Doctor]).await;
    let csrf = t.login_with(&doctor, "dr.b", &pw).await;
    let (status, html) = get(&doctor, &t, &vip).await;
    assert_eq!(status, 403);
    assert!(html.contains("Break the glass") && !html.contains("Famous"), "{html}");
    // The chart's sections are read beside the record; refused with it, none is recorded
    // as read (once the glass is broken, they are).
    let dr_b = t.app.identity().find_user_by_username(&salus_app::Ctx::operator(), "dr.b").await.unwrap();
    let vip_id: uuid::Uuid = vip.trim_start_matches("/patients/").parse().unwrap();
    let reads_of_vip = || async {
        use salus_db::entity::audit_event;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        audit_event::Entity::find()
            .filter(audit_event::Column::PatientId.eq(vip_id))
            .filter(audit_event::Column::ActorId.eq(dr_b.id.as_uuid()))
            .filter(audit_event::Column::Action.is_in([
                "patient.read",
                "patient.timeline_read",
                "clinical.read",
            ]))
            .all(t.app.db.reader())
            .await
            .unwrap()
            .len()
    };
    assert_eq!(reads_of_vip().await, 0);
    let (status, _, html) =
        post(&t, &doctor, &format!("{vip}/break-glass"), &[("csrf_token", &csrf), ("reason", "hmm")]).await;
    assert_eq!(status, 422);
    assert!(Page::parse(&html).field_error("reason").is_some());
    let (status, _, _) = post(
        &t,
        &doctor,
        &format!("{vip}/break-glass"),
        &[("csrf_token", &csrf), ("reason", "Seen in A&E, chest pain")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(get(&doctor, &t, &vip).await.0, 200);
    assert!(reads_of_vip().await >= 3, "the record, its timeline and its clinical sections");

    // A patient's own account opens its own chart, and no other.
    let me = t.new_client();
    t.user("ravi", &[Role::Patient]).await;
    let ravi = t.app.identity().find_user_by_username(&salus_app::Ctx::operator(), "ravi").await.unwrap();
    let (_, chart) = get(&t.client, &t, &other).await;
    let mrn = chart.split("MRN <code>").nth(1).unwrap().split('<').next().unwrap().to_owned();
    t.app.patients().link_patient_account(&salus_app::Ctx::operator(), ravi.id, &mrn).await.unwrap();
    t.login_with(&me, "ravi", "ravi-password-123").await;
    let (_, home) = get(&me, &t, "/").await;
    assert!(Page::parse(&home).links_to(&other), "My record is linked from home");
    assert_eq!(get(&me, &t, &other).await.0, 200);
    assert_eq!(get(&me, &t, &vip).await.0, 404);
    assert_eq!(get(&me, &t, "/patients?q=kumar").await.0, 403);

    // The administrator merges the duplicate from its chart, by the survivor's MRN, and undoes it.
    let admin = t.new_client();
    let admin_csrf = {
        let pw = t.user("boss", &[Role::Admin]).await;
        t.login_with(&admin, "boss", &pw).await
    };
    let (status, to, _) = post(
        &t,
        &admin,
        &format!("{dup}/merge"),
        &[("csrf_token", &admin_csrf), ("survivor_mrn", "SAL00000000")],
    )
    .await;
    assert_eq!((status, to.as_str()), (303, dup.as_str()), "a wrong check digit is refused");
    let (status, to, _) =
        post(&t, &admin, &format!("{dup}/merge"), &[("csrf_token", &admin_csrf), ("survivor_mrn", &mrn)])
            .await;
    assert_eq!((status, to.as_str()), (303, other.as_str()));
    let (_, merged) = get(&admin, &t, &dup).await;
    assert!(merged.contains("open the record in use"));
    let (status, _, _) = post(&t, &admin, &format!("{dup}/unmerge"), &[("csrf_token", &admin_csrf)]).await;
    assert_eq!(status, 303);
    assert!(!get(&admin, &t, &dup).await.1.contains("open the record in use"));

    // The break-the-glass review lists the doctor's reason; marking it reviewed clears it.
    let (_, review) = get(&admin, &t, "/admin/break-glass").await;
    assert!(
        review.contains("Seen in A&amp;E, chest pain") || review.contains("Seen in A&#38;E, chest pain"),
        "{review}"
    );
    let id = review.split("/admin/break-glass/").nth(1).unwrap().split('/').next().unwrap().to_owned();
    let (status, _, _) =
        post(&t, &admin, &format!("/admin/break-glass/{id}/review"), &[("csrf_token", &admin_csrf)]).await;
    assert_eq!(status, 303);
    assert!(get(&admin, &t, "/admin/break-glass").await.1.contains("Nothing to review"));
    // The doctor may not see the review list.
    assert_eq!(get(&doctor, &t, "/admin/break-glass").await.0, 403);
});
