//! The laboratory in the browser's pages, on SQLite and PostgreSQL: a doctor orders from
//! the patient's laboratory page, a nurse collects, the lab receives, a typing slip comes
//! back with its message beside the analyte, a second technician verifies, the doctor
//! acknowledges the critical value, and the report, the label and the cumulative table
//! show what was released.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ward::*;
use salus_core::Role;

/// The value of `name="…" value="…"` for the first input whose name starts with `prefix`
/// on a line mentioning `label`.
fn input_near(page: &str, label: &str, prefix: &str) -> String {
    let at = page.find(&format!("aria-label=\"{label}\"")).unwrap_or_else(|| panic!("no {label} input"));
    let start = page[..at].rfind(&format!("name=\"{prefix}")).unwrap() + "name=\"".len();
    page[start..].split('"').next().unwrap().to_owned()
}

db_test!(the_laboratory_through_its_pages, |t| {
    let w = ward(&t).await;
    let tech = who(&t, "lab.tech", &[Role::LabTechnician]).await;
    let tech2 = who(&t, "lab.tech2", &[Role::LabTechnician]).await;
    let p = w.patient.clone();
    let lab_page = format!("/patients/{p}/lab");

    // The doctor orders electrolytes from the patient's laboratory page.
    let page = html(&t, &w.doc, &lab_page).await;
    assert!(page.contains("Order tests") && page.contains("Electrolytes"), "the catalog by bench");
    let electrolytes = {
        let at = page.find("Electrolytes (Na, K, Cl, HCO3)").unwrap();
        let start = page[..at].rfind("value=\"").unwrap() + "value=\"".len();
        page[start..].split('"').next().unwrap().to_owned()
    };
    let res = post_form(
        &t,
        &w.doc,
        &format!("{lab_page}/order"),
        &[("test_ids", &electrolytes), ("priority", "stat")],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert!(html(&t, &w.doc, &lab_page).await.contains("Ordered Electrolytes"));
    // Reception has no laboratory page; the lab's worklist is the lab's.
    assert_eq!(w.desk.client.get(t.url(&lab_page)).send().await.unwrap().status(), 403);
    assert_eq!(w.doc.client.get(t.url("/lab")).send().await.unwrap().status(), 403);

    // The nurse collects what waits; the flash names the accession number.
    let page = html(&t, &w.nurse, &lab_page).await;
    assert!(page.contains("Waiting for collection"));
    let order = {
        let start = page.find("name=\"order_ids\" value=\"").unwrap() + "name=\"order_ids\" value=\"".len();
        page[start..].split('"').next().unwrap().to_owned()
    };
    post_form(&t, &w.nurse, &format!("{lab_page}/collect"), &[("order_ids", &order)]).await;
    let page = html(&t, &w.nurse, &lab_page).await;
    assert!(page.contains("Collected: L"), "the accession number is shown");

    // The lab's worklist: the stat line, and the specimen to receive.
    let worklist = html(&t, &tech, "/lab").await;
    assert!(worklist.contains("STAT") && worklist.contains("Electrolytes"), "the stat order is listed");
    let specimen = {
        let start = worklist.find("/lab/specimens/").unwrap() + "/lab/specimens/".len();
        worklist[start..].split('/').next().unwrap().to_owned()
    };
    post_form(&t, &tech, &format!("/lab/specimens/{specimen}/receive"), &[("back", "/lab")]).await;
    let label = html(&t, &tech, &format!("/lab/specimens/{specimen}/label")).await;
    assert!(label.contains("<svg") && label.contains("/assets/label.css"), "a Code 128 label");
    let css = tech.client.get(t.url("/assets/label.css")).send().await.unwrap().text().await.unwrap();
    assert!(css.contains("size: 50mm 25mm"), "sized for the label printer: {css}");

    // A typing slip: the form comes back with the message beside potassium.
    let order_url = format!("/lab/orders/{order}");
    let page = html(&t, &tech, &order_url).await;
    let (na, k) = (input_near(&page, "Sodium", "value_"), input_near(&page, "Potassium", "value_"));
    let (cl, hco3) = (input_near(&page, "Chloride", "value_"), input_near(&page, "Bicarbonate", "value_"));
    let res = post_form(&t, &tech, &format!("{order_url}/results"), &[(&na, "140"), (&k, "45")]).await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("id=\"err_K\"") && body.contains("45 is not a possible value"), "beside the field");
    assert!(body.contains("value=\"140\""), "what was typed stays");
    let res = post_form(
        &t,
        &tech,
        &format!("{order_url}/results"),
        &[(&na, "140"), (&k, "6.9"), (&cl, "101"), (&hco3, "23")],
    )
    .await;
    assert_eq!(res.status(), 303);
    // The same technician may not verify; a second one does.
    post_form(&t, &tech, &format!("{order_url}/verify"), &[]).await;
    assert!(html(&t, &tech, &order_url).await.contains("a second person must verify"));
    post_form(&t, &tech2, &format!("{order_url}/verify"), &[]).await;
    let report = html(&t, &tech2, &format!("{order_url}/report")).await;
    assert!(
        report.contains("Department of Laboratory Medicine") && report.contains("HH"),
        "the report flags it"
    );
    assert!(report.contains("verified by Test lab.tech2"), "{report}");

    // The doctor's inbox: the critical potassium, acknowledged with a read-back.
    let inbox = html(&t, &w.doc, "/lab/inbox").await;
    assert!(inbox.contains("Potassium 6.9 mmol/L (HH)"), "{inbox}");
    let alert = {
        let start = inbox.find("/lab/alerts/").unwrap() + "/lab/alerts/".len();
        inbox[start..].split('/').next().unwrap().to_owned()
    };
    post_form(&t, &w.doc, &format!("/lab/alerts/{alert}/acknowledge"), &[("read_back", "")]).await;
    assert!(html(&t, &w.doc, "/lab/inbox").await.contains("Not saved: read back"));
    post_form(&t, &w.doc, &format!("/lab/alerts/{alert}/acknowledge"), &[("read_back", "K 6.9")]).await;
    let inbox = html(&t, &w.doc, "/lab/inbox").await;
    assert!(inbox.contains("Acknowledged") && !inbox.contains("escalated:"), "{inbox}");
    // New results by order line, the abnormal ones named, until marked reviewed.
    assert!(inbox.contains("Potassium 6.9 mmol/L") && inbox.contains("(+3 normal)"), "{inbox}");
    let form = inbox.find("/lab/reviewed").unwrap();
    let ids: Vec<(&str, String)> = inbox[form..]
        .split("name=\"result_ids\" value=\"")
        .skip(1)
        .take(4)
        .map(|s| ("result_ids", s.split('"').next().unwrap().to_owned()))
        .collect();
    let mut fields: Vec<(&str, &str)> = ids.iter().map(|(k, v)| (*k, v.as_str())).collect();
    fields.push(("back", "/lab/inbox"));
    post_form(&t, &w.doc, &format!("{lab_page}/reviewed"), &fields).await;
    assert!(html(&t, &w.doc, "/lab/inbox").await.contains("Nothing new."), "reviewed");

    // The cumulative table on the patient's laboratory page.
    let page = html(&t, &w.doc, &lab_page).await;
    assert!(
        page.contains("Potassium") && page.contains("6.9") && page.contains("badge danger"),
        "flagged in the table"
    );
    assert!(html(&t, &w.doc, &format!("/patients/{p}")).await.contains(&lab_page), "the chart links it");

    // The patient's own account: the released results, a link from home, no order form.
    let me = patient_account(&t, &w).await;
    assert!(html(&t, &me, "/").await.contains(&lab_page), "My lab results on the patient's home page");
    let mine = html(&t, &me, &lab_page).await;
    assert!(
        mine.contains("Potassium") && !mine.contains("Order tests") && !mine.contains("Collect now"),
        "{mine}"
    );
    assert_eq!(
        me.client.get(t.url(&format!("/patients/{}/lab", w.other_patient))).send().await.unwrap().status(),
        404
    );
});
