//! Imaging in the browser's pages, on SQLite and PostgreSQL: a doctor orders from the
//! patient's imaging page (a missing side comes back beside the field, with what was
//! chosen kept), the radiographer books and performs from the worklist and adds an image,
//! a doctor writes and authorises the report (a refused amendment keeps its text), the
//! patient reads it, and the printable report shows who authorised it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ward::*;
use salus_core::Role;

/// The `value` of the option whose text starts with `label`.
fn option(page: &str, label: &str) -> String {
    let at = page.find(&format!(">{label}")).unwrap_or_else(|| panic!("no option {label}"));
    let start = page[..at].rfind("value=\"").unwrap() + "value=\"".len();
    page[start..].split('"').next().unwrap().to_owned()
}

db_test!(imaging_through_its_pages, |t| {
    let w = ward(&t).await;
    let tech = who(&t, "xr.tech", &[Role::LabTechnician]).await;
    let p = w.patient.clone();
    let page_url = format!("/patients/{p}/imaging");

    // The doctor orders a knee X-ray without saying the side: the message is beside it.
    let page = html(&t, &w.doc, &page_url).await;
    let knee = option(&page, "X-ray · X-ray knee AP and lateral");
    let res = post_form(
        &t,
        &w.doc,
        &format!("{page_url}/order"),
        &[("procedure_id", &knee), ("priority", "urgent"), ("clinical_question", "Fall; ? fracture")],
    )
    .await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("id=\"err_laterality\"") && body.contains("say which side"), "beside the field");
    assert!(body.contains("value=\"Fall; ? fracture\""), "what was typed stays");
    assert!(body.contains(&format!("value=\"{knee}\" selected")), "what was chosen stays");
    let res = post_form(
        &t,
        &w.doc,
        &format!("{page_url}/order"),
        &[
            ("procedure_id", &knee),
            ("laterality", "left"),
            ("priority", "urgent"),
            ("clinical_question", "Fall; ? fracture"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let page = html(&t, &w.doc, &page_url).await;
    assert!(page.contains("Ordered X-ray knee AP and lateral (left) (R"), "the flash names the accession");
    // Ordered again: the warning asks for a reason, beside its field.
    let res = post_form(
        &t,
        &w.doc,
        &format!("{page_url}/order"),
        &[("procedure_id", &knee), ("laterality", "left"), ("clinical_question", "again")],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("id=\"err_override_reason\""));
    // Reception has no imaging page; the worklist is imaging staff's.
    assert_eq!(w.desk.client.get(t.url(&page_url)).send().await.unwrap().status(), 403);
    assert_eq!(w.nurse.client.get(t.url("/imaging")).send().await.unwrap().status(), 403);

    // The radiographer books and performs it from the worklist.
    let worklist = html(&t, &tech, "/imaging").await;
    assert!(worklist.contains("Urgent") && worklist.contains("X-ray knee AP and lateral (left)"));
    let study = {
        let start = worklist.find("/imaging/orders/").unwrap() + "/imaging/orders/".len();
        worklist[start..].split('"').next().unwrap().to_owned()
    };
    let study_url = format!("/imaging/orders/{study}");
    let soon = (chrono::Utc::now() + chrono::Duration::days(1))
        .with_timezone(&t.app.time_zone)
        .format("%Y-%m-%dT10:00")
        .to_string();
    post_form(&t, &tech, &format!("{study_url}/schedule"), &[("scheduled_at", &soon), ("room", "X-ray 2")])
        .await;
    assert!(
        html(&t, &tech, &study_url).await.contains("Booked X-ray knee AP and lateral (left) in X-ray 2.")
    );
    post_form(&t, &tech, &format!("{study_url}/perform"), &[("note", "AP and lateral, 60 kVp")]).await;
    let (content_type, body) =
        multipart(&[("csrf_token", &tech.csrf)], ("knee.png", b"\x89PNG\r\n\x1a\n knee"));
    let res = tech
        .client
        .post(t.url(&format!("{study_url}/images")))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let page = html(&t, &tech, &study_url).await;
    assert!(
        page.contains("knee.png added to the examination") && page.contains("<img src=\"/imaging/orders/")
    );
    assert!(!page.contains("Save the draft"), "a radiographer does not write the report");

    // A doctor writes and authorises; a refused amendment keeps its text beside the message.
    let page = html(&t, &w.doc2, &study_url).await;
    assert!(page.contains("Save the draft"));
    post_form(
        &t,
        &w.doc2,
        &format!("{study_url}/report"),
        &[("findings", "No fracture.\nSoft tissue swelling laterally."), ("impression", "No fracture.")],
    )
    .await;
    assert_eq!(w.doc2.client.get(t.url(&format!("{study_url}/print"))).send().await.unwrap().status(), 409);
    // Authorised from the form: what was typed since the draft was saved is not lost.
    let page = html(&t, &w.doc2, &study_url).await;
    assert!(page.contains("Save, authorise and release"));
    post_form(
        &t,
        &w.doc2,
        &format!("{study_url}/authorise"),
        &[
            ("findings", "No fracture.\nSoft tissue swelling laterally, over the fibular head."),
            ("impression", "No fracture."),
        ],
    )
    .await;
    let res = post_form(
        &t,
        &w.doc2,
        &format!("{study_url}/amend"),
        &[
            ("findings", "Undisplaced fibular head fracture."),
            ("impression", "Fibular head fracture."),
            ("amend_reason", " "),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("id=\"err_amend_reason\"") && body.contains("Undisplaced fibular head fracture."),
        "kept"
    );

    // The patient reads the authorised report; the print shows who authorised it.
    let me = patient_account(&t, &w).await;
    let page = html(&t, &me, &study_url).await;
    assert!(page.contains("over the fibular head.") && !page.contains("Save the draft"), "as signed");
    let print = html(&t, &w.doc, &format!("{study_url}/print")).await;
    assert!(print.contains("authorised by") && print.contains("Fall; ? fracture"), "{print}");
    let inbox = html(&t, &w.doc, "/imaging/inbox").await;
    assert!(inbox.contains("No fracture."), "the orderer's inbox");
});
