//! The wards in the browser's pages, on SQLite and PostgreSQL: an administrator adds a
//! ward and its beds; a doctor asks for an admission from the chart; the desk admits from
//! its queue into a free bed; the board shows who is where; the doctor orders the
//! discharge, the desk records the patient leaving and the bed goes to cleaning.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ward::*;
use salus_core::Role;

/// The `value` of the `<option>` whose text starts with `label`.
fn option(page: &str, label: &str) -> String {
    page.match_indices(&format!(">{label}"))
        .find_map(|(at, _)| {
            let tag = &page[page[..at].rfind('<')?..at];
            let start = tag.strip_prefix("<option")?.find("value=\"")? + "value=\"".len();
            Some(tag["<option".len() + start..].split('"').next()?.to_owned())
        })
        .unwrap_or_else(|| panic!("no option {label}"))
}

db_test!(a_stay_through_the_pages, |t| {
    let w = ward(&t).await;
    let admin = who(&t, "ipp.admin", &[Role::Admin]).await;
    assert_eq!(w.desk.client.get(t.url("/wards/setup")).send().await.unwrap().status(), 403);

    // Wards and beds: a blank code comes back beside its field.
    let res =
        post_form(&t, &admin, "/wards/setup", &[("form", "ward"), ("code", " "), ("name", "Surgery")]).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("id=\"err_code\""));
    let res =
        post_form(&t, &admin, "/wards/setup", &[("form", "ward"), ("code", "SUR"), ("name", "Surgery")])
            .await;
    assert_eq!(res.status(), 303);
    let setup = html(&t, &admin, "/wards/setup").await;
    let ward = option(&setup, "Surgery</option>");
    let res = post_form(
        &t,
        &admin,
        "/wards/setup",
        &[
            ("form", "beds"),
            ("ward_id", &ward),
            ("room", "201"),
            ("letters", "A, B"),
            ("bed_type", "general"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let board = html(&t, &w.nurse, "/wards").await;
    assert!(board.contains("201-A") && board.contains("201-B"), "{board}");

    // The doctor's request from the chart.
    assert!(html(&t, &w.doc, &format!("/patients/{}", w.patient)).await.contains("Request admission"));
    let path = format!("/patients/{}/admit", w.patient);
    let res = post_form(&t, &w.doc, &path, &[("reason", " "), ("expected_days", "3")]).await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("id=\"err_reason\"") && body.contains("value=\"3\""),
        "beside the field, typed kept"
    );
    let res =
        post_form(&t, &w.doc, &path, &[("reason", "Appendicitis, for surgery"), ("bed_type", "general")])
            .await;
    assert_eq!(res.status(), 303);

    // The desk admits from its queue.
    let desk = html(&t, &w.desk, "/admissions").await;
    assert!(desk.contains("Anand Pillai") && desk.contains("Appendicitis, for surgery"), "{desk}");
    let field = |name: &str| {
        let at = desk.find(&format!("name=\"{name}\" value=\"")).unwrap()
            + format!("name=\"{name}\" value=\"").len();
        desk[at..].split('"').next().unwrap().to_owned()
    };
    let (request, patient) = (field("request_id"), field("patient_id"));
    let bed = option(&desk, "Surgery · 201-A");
    let doctor = option(&desk, "Test cl.doc</option>");
    let res = post_form(
        &t,
        &w.desk,
        "/admissions",
        &[
            ("request_id", &request),
            ("patient_id", &patient),
            ("bed_id", &bed),
            ("attending_id", &doctor),
            ("diagnosis", " "),
        ],
    )
    .await;
    assert_eq!(res.status(), 422, "no diagnosis: the desk page again");
    let admit = [
        ("request_id", request.as_str()),
        ("patient_id", &patient),
        ("bed_id", &bed),
        ("attending_id", &doctor),
        ("diagnosis", "Acute appendicitis"),
    ];
    let res = post_form(&t, &w.desk, "/admissions", &admit).await;
    assert_eq!(res.status(), 303);
    let stay = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(stay.starts_with("/admissions/"), "{stay}");
    let page = html(&t, &w.desk, &stay).await;
    assert!(page.contains("Where the patient lay") && page.contains("201-A"), "{page}");
    let board = html(&t, &w.nurse, &format!("/wards?ward={ward}")).await;
    assert!(board.contains("Anand Pillai"), "{board}");

    // The medicines: the doctor orders one as needed from the stay's page; the nurse gives
    // it from the station (a dose not given needs a reason, said on the page); the doctor
    // acknowledges it.
    let page = html(&t, &w.doc, &stay).await;
    let medicine = option(&page, "Paracetamol 500 mg tablet");
    let order = [("medicine_id", medicine.as_str()), ("dose", "500 mg"), ("kind", "as_needed")];
    let res = post_form(
        &t,
        &w.doc,
        &format!("{stay}/order-medicine"),
        &[("medicine_id", &medicine), ("dose", " ")],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert!(html(&t, &w.doc, &stay).await.contains("Not saved: dose"), "the refusal is said");
    assert_eq!(post_form(&t, &w.nurse, &format!("{stay}/order-medicine"), &order).await.status(), 403);
    assert_eq!(post_form(&t, &w.doc, &format!("{stay}/order-medicine"), &order).await.status(), 303);
    let station = html(&t, &w.nurse, &format!("/wards/{ward}/doses")).await;
    assert!(station.contains("Given now") && station.contains("Anand Pillai"), "{station}");
    let at = station.find("action=\"/medication-orders/").unwrap() + "action=\"/medication-orders/".len();
    let order_id = station[at..].split('/').next().unwrap().to_owned();
    let give = format!("/medication-orders/{order_id}/doses");
    let back = format!("/wards/{ward}/doses");
    let res =
        post_form(&t, &w.nurse, &give, &[("outcome", "refused"), ("idempotency_key", "p1"), ("back", &back)])
            .await;
    assert_eq!(res.status(), 303);
    assert!(html(&t, &w.nurse, &back).await.contains("Not saved: reason"), "no reason, nothing recorded");
    let given = [("outcome", "given"), ("idempotency_key", "p2"), ("back", back.as_str())];
    assert_eq!(post_form(&t, &w.nurse, &give, &given).await.status(), 303);
    assert_eq!(post_form(&t, &w.nurse, &give, &given).await.status(), 303, "a double click");
    let page = html(&t, &w.doc, &stay).await;
    assert_eq!(page.matches("waits for the doctor").count(), 1, "recorded once: {page}");
    let at = page.find("action=\"/medication-administrations/").unwrap()
        + "action=\"/medication-administrations/".len();
    let dose = page[at..].split('/').next().unwrap().to_owned();
    let ack = format!("/medication-administrations/{dose}/acknowledge");
    assert_eq!(post_form(&t, &w.nurse, &ack, &[]).await.status(), 403);
    assert_eq!(post_form(&t, &w.doc, &ack, &[("back", &stay)]).await.status(), 303);
    assert!(html(&t, &w.doc, &stay).await.contains("acknowledged by Test cl.doc"));

    // Discharge: the doctor's order, then the desk records the patient leaving.
    assert_eq!(
        post_form(&t, &w.desk, &format!("{stay}/discharge-order"), &[]).await.status(),
        403,
        "a doctor's order"
    );
    assert_eq!(post_form(&t, &w.doc, &format!("{stay}/discharge-order"), &[]).await.status(), 303);
    assert!(html(&t, &w.doc, &format!("/wards?ward={ward}")).await.contains("discharge ordered"));
    assert_eq!(
        post_form(&t, &w.desk, &format!("{stay}/discharge"), &[("disposition", "home")]).await.status(),
        303
    );
    let board = html(&t, &w.nurse, &format!("/wards?ward={ward}")).await;
    assert!(!board.contains("Anand Pillai") && board.contains("cleaning"), "{board}");
    // The nurse marks it cleaned from the board.
    let bed_id = bed.clone();
    let res =
        post_form(&t, &w.nurse, &format!("/beds/{bed_id}/state"), &[("state", "available"), ("ward", &ward)])
            .await;
    assert_eq!(res.status(), 303);
    let board = html(&t, &w.nurse, &format!("/wards?ward={ward}")).await;
    assert!(!board.contains("cleaning:") || board.contains("cleaning: 0"), "{board}");
});
