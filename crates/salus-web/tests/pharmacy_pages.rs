//! The pharmacy in the browser's pages, on SQLite and PostgreSQL: the pharmacist's home
//! shows the queue and the store's alerts; a delivery is received from its form (an
//! expired batch comes back with what was typed); a prescription is dispensed from the
//! patient's page (too many comes back beside its row; a double click dispenses once),
//! the receipt carries the label; a line is taken back; the stock and ledger pages show
//! the result and the ledger's check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ward::*;
use salus_core::Role;
use serde_json::json;

/// The `value` of the option whose text starts with `label`.
fn option(page: &str, label: &str) -> String {
    let at = page.find(&format!(">{label}")).unwrap_or_else(|| panic!("no option {label}"));
    let start = page[..at].rfind("value=\"").unwrap() + "value=\"".len();
    page[start..].split('"').next().unwrap().to_owned()
}

async fn pharm_forbidden(t: &common::TestApp, w: &Ward) -> u16 {
    w.desk.client.get(t.url("/pharmacy/setup")).send().await.unwrap().status().as_u16()
}

/// The value of the hidden field `name` (the first on the page).
fn hidden(page: &str, name: &str) -> String {
    let at = page.find(&format!("name=\"{name}\" value=\"")).unwrap_or_else(|| panic!("no field {name}"));
    let start = at + format!("name=\"{name}\" value=\"").len();
    page[start..].split('"').next().unwrap().to_owned()
}

db_test!(the_pharmacy_through_its_pages, |t| {
    let w = ward(&t).await;
    let admin = who(&t, "ph.admin", &[Role::Admin]).await;
    let pharm = who(&t, "ph.pharm", &[Role::Pharmacist]).await;
    let (status, store) = send(
        &t,
        &admin,
        "POST",
        "/api/v1/pharmacy/stores",
        Some(json!({"code": "PH", "name": "Main pharmacy", "kind": "pharmacy"})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{store}");
    let store = store["id"].as_str().unwrap().to_owned();

    // The administrator's setup page: a code already taken comes back beside its field.
    let res = post_form(
        &t,
        &admin,
        "/pharmacy/setup",
        &[("form", "store"), ("code", "ph"), ("name", "Again"), ("kind", "ward")],
    )
    .await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("id=\"err_code\"") && body.contains("value=\"Again\""),
        "beside the field, typed kept"
    );
    let res = post_form(
        &t,
        &admin,
        "/pharmacy/setup",
        &[("form", "store"), ("code", "W1"), ("name", "Ward 1 store"), ("kind", "ward")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let res = post_form(
        &t,
        &admin,
        "/pharmacy/setup",
        &[("form", "supplier"), ("supplier_name", "Apex"), ("email", "not-an-address")],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("id=\"err_email\""));
    assert!(html(&t, &admin, "/pharmacy/setup").await.contains("Ward 1 store"));
    assert_eq!(pharm_forbidden(&t, &w).await, 403, "reception does not set up stores");

    // A delivery from its form: an expired line comes back with what was typed.
    let form = html(&t, &pharm, "/pharmacy/receive").await;
    let amox = option(&form, "Amoxicillin 500 mg capsule");
    let key = hidden(&form, "idempotency_key");
    let expiry = (chrono::Utc::now().date_naive() + chrono::Duration::days(200)).to_string();
    let line = |expiry: &str| {
        vec![
            ("idempotency_key".to_owned(), key.clone()),
            ("store_id".to_owned(), store.clone()),
            ("item0".to_owned(), amox.clone()),
            ("batch0".to_owned(), "pg-1".to_owned()),
            ("expiry0".to_owned(), expiry.to_owned()),
            ("qty0".to_owned(), "40".to_owned()),
            ("cost0".to_owned(), "3.10".to_owned()),
            ("sale0".to_owned(), "4.50".to_owned()),
        ]
    };
    let fields = |v: &[(String, String)]| {
        v.iter().map(|(k, x)| (k.as_str().to_owned(), x.clone())).collect::<Vec<_>>()
    };
    let post = |path: &'static str, f: Vec<(String, String)>| {
        let pharm = &pharm;
        let t = &t;
        async move {
            let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            post_form(t, pharm, path, &refs).await
        }
    };
    let res = post("/pharmacy/receive", fields(&line("2020-01-01"))).await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("expired on 2020-01-01"), "the message is on the form");
    assert!(body.contains("value=\"PG-1\"") || body.contains("value=\"pg-1\""), "what was typed stays");
    let res = post("/pharmacy/receive", fields(&line(&expiry))).await;
    assert_eq!(res.status(), 303);
    // The same form sent again (a double click) receives nothing more.
    assert_eq!(post("/pharmacy/receive", fields(&line(&expiry))).await.status(), 303);
    let stock = html(&t, &pharm, &format!("/pharmacy/stock?store={store}")).await;
    assert!(stock.contains("Amoxicillin 500 mg capsule") && stock.contains(">40 capsule<"), "40, not 80");

    // Today's prescription waits in the queue on the pharmacist's home.
    let (status, rx) = send(
        &t,
        &w.doc,
        "POST",
        &format!("/api/v1/patients/{}/prescriptions", w.patient),
        Some(json!({"medicine_id": json!(null), "dose": "500 mg"})),
        None,
    )
    .await;
    assert_eq!(status, 422, "{rx}");
    let (_, meds) = send(&t, &w.doc, "GET", "/api/v1/medicines?q=amoxi", None, None).await;
    let medicine =
        meds["items"].as_array().unwrap().iter().find(|m| m["form"] == "capsule").unwrap()["id"].clone();
    let body = json!({"medicine_id": medicine, "dose": "500 mg", "frequency": "three times a day", "duration_days": 5, "quantity": 15, "instructions": "After food"});
    let (status, rx) =
        send(&t, &w.doc, "POST", &format!("/api/v1/patients/{}/prescriptions", w.patient), Some(body), None)
            .await;
    assert_eq!(status, 201, "{rx}");
    let rx = rx["id"].as_str().unwrap().to_owned();
    let home = html(&t, &pharm, "/pharmacy").await;
    assert!(home.contains("Anand Pillai") && home.contains("Amoxicillin 500 mg capsule"), "in the queue");
    assert_eq!(w.desk.client.get(t.url("/pharmacy")).send().await.unwrap().status(), 403);

    // Dispensing: too many comes back beside the row.
    let page_url = format!("/pharmacy/patients/{}?store={store}", w.patient);
    let page = html(&t, &pharm, &page_url).await;
    assert!(page.contains("remaining <strong>15</strong>"), "prescribed, given, remaining");
    let key = hidden(&page, "idempotency_key");
    let dispense = |qty: &str| {
        vec![
            ("idempotency_key".to_owned(), key.clone()),
            ("store_id".to_owned(), store.clone()),
            ("rx".to_owned(), rx.clone()),
            (format!("qty:{rx}"), qty.to_owned()),
        ]
    };
    let path: &'static str = Box::leak(format!("/pharmacy/patients/{}/dispense", w.patient).into_boxed_str());
    let res = post(path, dispense("16")).await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains(&format!("id=\"err-{rx}\"")) && body.contains("only 15"), "beside its row");
    assert!(body.contains("value=\"16\""), "what was typed stays");
    let res = post(path, dispense("10")).await;
    assert_eq!(res.status(), 303);
    let receipt_url = common::location(&res);
    assert!(receipt_url.starts_with("/pharmacy/dispenses/"), "{receipt_url}");
    // A double click: the same form again lands on the same dispensing.
    let again = post(path, dispense("10")).await;
    assert_eq!(common::location(&again), receipt_url, "dispensed once");
    let receipt = html(&t, &pharm, &receipt_url).await;
    assert!(receipt.contains("Dispensed P26-") || receipt.contains("Dispensed P"), "the flash names it");
    assert!(
        receipt.contains("Labels") && receipt.contains("three times a day") && receipt.contains("After food")
    );
    assert!(receipt.contains("PG-1"), "the batch is on the label");

    // The patient's page now offers a take-back of the line.
    let page = html(&t, &pharm, &page_url).await;
    assert!(page.contains("given so far <strong>10</strong>"));
    let line = {
        let start = page.find("/pharmacy/lines/").unwrap() + "/pharmacy/lines/".len();
        page[start..].split('/').next().unwrap().to_owned()
    };
    let back_key = format!("{key}-{line}");
    let return_path: &'static str = Box::leak(format!("/pharmacy/lines/{line}/return").into_boxed_str());
    let ret = |qty: &str| {
        vec![
            ("idempotency_key".to_owned(), back_key.clone()),
            ("quantity".to_owned(), qty.to_owned()),
            ("reason".to_owned(), "Changed to another antibiotic".to_owned()),
            ("back".to_owned(), format!("/pharmacy/patients/{}?store={store}", w.patient)),
        ]
    };
    assert_eq!(post(return_path, ret("3")).await.status(), 303);
    let page = html(&t, &pharm, &page_url).await;
    assert!(page.contains("3 back in stock"), "the flash");
    assert!(page.contains("given so far <strong>7</strong>"));
    // The stock page and the ledger with its check.
    let stock = html(&t, &pharm, &format!("/pharmacy/stock?store={store}")).await;
    assert!(stock.contains(">33 capsule<"), "40 − 10 + 3");
    let ledger = html(&t, &pharm, &format!("/pharmacy/ledger?store={store}&check=true")).await;
    assert!(ledger.contains("The ledger sums to every balance"), "the check");
    assert!(ledger.contains("patient return") && ledger.contains("dispense") && ledger.contains("receipt"));

    // Stock-taking: a sheet of the store, a difference without a reason refused with the
    // counts kept, then posted.
    let res = post_form(&t, &pharm, "/pharmacy/counts", &[("store_id", &store)]).await;
    assert_eq!(res.status(), 303);
    let sheet_url = common::location(&res);
    let sheet = html(&t, &pharm, &sheet_url).await;
    assert!(sheet.contains("33 capsule"), "the ledger's figure");
    let line = hidden(&sheet, "line");
    let key = hidden(&sheet, "idempotency_key");
    let path: &'static str = Box::leak(sheet_url.clone().into_boxed_str());
    let count = |reason: &str| {
        vec![
            ("idempotency_key".to_owned(), key.clone()),
            ("line".to_owned(), line.clone()),
            (format!("counted:{line}"), "31".to_owned()),
            (format!("reason:{line}"), reason.to_owned()),
        ]
    };
    let res = post(path, count("")).await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("say why") && body.contains("value=\"31\""), "the message, and the count kept");
    assert_eq!(post(path, count("Two capsules crushed")).await.status(), 303);
    let sheet = html(&t, &pharm, &sheet_url).await;
    assert!(sheet.contains("posted") && sheet.contains("Two capsules crushed") && sheet.contains("-2"));
});

db_test!(purchase_orders_through_their_pages, |t| {
    let w = ward(&t).await;
    let admin = who(&t, "po.admin", &[Role::Admin]).await;
    let pharm = who(&t, "po.pharm", &[Role::Pharmacist]).await;
    let (_, store) = send(
        &t,
        &admin,
        "POST",
        "/api/v1/pharmacy/stores",
        Some(json!({"code": "PH", "name": "Main pharmacy", "kind": "pharmacy"})),
        None,
    )
    .await;
    let store = store["id"].as_str().unwrap().to_owned();
    let (_, supplier) =
        send(&t, &admin, "POST", "/api/v1/pharmacy/suppliers", Some(json!({"name": "Apex"})), None).await;
    let supplier = supplier["id"].as_str().unwrap().to_owned();
    let status = w.desk.client.get(t.url("/pharmacy/orders")).send().await.unwrap().status();
    assert_eq!(status, 403, "reception places no orders");

    // A new order from its form: without a supplier it comes back beside the field.
    let page = html(&t, &pharm, "/pharmacy/orders").await;
    assert!(page.contains("Nothing on order."), "{page}");
    let amox = option(&page, "Amoxicillin 500 mg capsule");
    let para = option(&page, "Paracetamol 500 mg tablet");
    let key = hidden(&page, "idempotency_key");
    let mut fields = vec![
        ("idempotency_key", key.as_str()),
        ("store_id", store.as_str()),
        ("item0", amox.as_str()),
        ("qty0", "100"),
        ("cost0", "2.50"),
        ("item1", para.as_str()),
        ("qty1", "50"),
        ("cost1", "0.40"),
    ];
    let res = post_form(&t, &pharm, "/pharmacy/orders", &fields).await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("id=\"err_supplier_id\"") && body.contains("value=\"100\""), "{body}");
    fields.push(("supplier_id", supplier.as_str()));
    let res = post_form(&t, &pharm, "/pharmacy/orders", &fields).await;
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with("/pharmacy/orders/"), "{to}");
    // A double click places it once.
    assert_eq!(post_form(&t, &pharm, "/pharmacy/orders", &fields).await.status(), 303);
    let (_, list) = send(&t, &pharm, "GET", "/api/v1/pharmacy/orders", None, None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let id = to.trim_start_matches("/pharmacy/orders/").to_owned();
    let page = html(&t, &pharm, &to).await;
    assert!(
        page.contains("Receive a delivery against this order") && page.contains("<strong>100</strong>"),
        "{page}"
    );

    // Receiving against it: the form comes filled from the order.
    let form = html(&t, &pharm, &format!("/pharmacy/receive?order={id}")).await;
    assert_eq!(hidden(&form, "order_id"), id);
    assert!(form.contains("name=\"qty0\" type=\"number\" min=\"0\" step=\"1\" value=\"100\""), "{form}");
    assert!(form.contains("value=\"2.50\""), "the agreed cost");
    let expiry = (chrono::Utc::now().date_naive() + chrono::Duration::days(400)).to_string();
    let key = hidden(&form, "idempotency_key");
    let receipt = [
        ("idempotency_key", key.as_str()),
        ("order_id", id.as_str()),
        ("store_id", store.as_str()),
        ("supplier_id", supplier.as_str()),
        ("item0", amox.as_str()),
        ("batch0", "AMX-PO1"),
        ("expiry0", expiry.as_str()),
        ("qty0", "40"),
        ("cost0", "2.50"),
        ("sale0", "4.00"),
        // The paracetamol did not come: its units cleared, no batch.
        ("item1", para.as_str()),
        ("cost1", "0.40"),
    ];
    let res = post_form(&t, &pharm, "/pharmacy/receive", &receipt).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"].to_str().unwrap(), to, "back to the order");
    let page = html(&t, &pharm, &to).await;
    assert!(page.contains("partially received") && page.contains("<strong>60</strong>"), "{page}");

    // Closed short, with its reason.
    let res = post_form(&t, &pharm, &format!("{to}/close"), &[("reason", "Supplier out of stock")]).await;
    assert_eq!(res.status(), 303);
    let page = html(&t, &pharm, &to).await;
    assert!(page.contains("closed") && page.contains("Supplier out of stock"), "{page}");
    assert!(!page.contains("Receive a delivery against this order"));

    // Where the store's daily alerts are mailed: a bad address comes back beside its field.
    let res = post_form(
        &t,
        &admin,
        "/pharmacy/setup",
        &[("form", "alert_email"), ("store_id", store.as_str()), ("mail_to", "pharmacy at hospital")],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("id=\"err_mail_to\""));
    let res = post_form(
        &t,
        &admin,
        "/pharmacy/setup",
        &[("form", "alert_email"), ("store_id", store.as_str()), ("mail_to", "pharmacy@hospital.test")],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert!(html(&t, &admin, "/pharmacy/setup").await.contains("pharmacy@hospital.test"));
});
