//! The billing desk in the browser's pages, on SQLite and PostgreSQL: a clerk opens a cash
//! shift, finds the patient, ticks the charges into a bill, takes the money, prints the
//! invoice (a reprint says DUPLICATE) and the receipt; a refused payment comes back with
//! its reason and nothing changed; the day's cash report and its CSV; a supervisor
//! approves a refund; a nurse cannot open the desk.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::page::Page;
use common::ward::*;
use salus_core::Role;
use uuid::Uuid;

/// The patient's unbilled charges, as the contexts record them.
async fn charges(t: &common::TestApp, patient: Uuid) {
    use salus_app::organisation::{Amount, Percent, ServiceInput};
    let op = salus_app::Ctx::operator();
    let s = ServiceInput {
        code: "CONS".into(),
        name: "Consultation".into(),
        category: "consultation".into(),
        department_id: None,
        price: Amount::Typed("500".into()),
        tax_rate: Percent::Typed("0".into()),
        active: true,
    };
    let s = t.app.organisation().create_service(&op, s).await.unwrap();
    let rows = (0..2)
        .map(|_| salus_db::entity::charge::Model {
            id: Uuid::now_v7(),
            patient_id: patient,
            service_id: s.id.as_uuid(),
            service_code: "CONS".into(),
            description: "Consultation".into(),
            quantity: 1,
            unit_price_minor: 50_000,
            tax_rate_bp: 0,
            source_type: "test".into(),
            source_id: Uuid::now_v7(),
            status: "unbilled".into(),
            invoice_id: None,
            created_by: patient,
            created_at: chrono::Utc::now(),
        })
        .collect();
    salus_db::charges::insert_charges(t.app.db.writer(), rows).await.unwrap();
}

/// The `value`s of the inputs named `name` on the page.
fn values(page: &str, name: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(page);
    let sel = scraper::Selector::parse(&format!("input[name=\"{name}\"]")).unwrap();
    doc.select(&sel).filter_map(|e| e.value().attr("value").map(str::to_owned)).collect()
}

db_test!(a_bill_through_the_pages, |t| {
    let w = ward(&t).await;
    let clerk = who(&t, "bp.clerk", &[Role::Billing]).await;
    let head = who(&t, "bp.head", &[Role::Admin]).await;
    let patient: Uuid = w.patient.parse().unwrap();
    charges(&t, patient).await;
    assert_eq!(w.nurse.client.get(t.url("/billing")).send().await.unwrap().status(), 403);

    // The desk: no shift yet; open one with a float.
    let desk = Page::parse(&html(&t, &clerk, "/billing").await);
    assert!(desk.has("form[aria-label=\"Open my shift\"]"));
    let res = post_form(&t, &clerk, "/billing/shift", &[("action", "open"), ("float", "1,000")]).await;
    assert_eq!(res.status(), 303);
    let desk = Page::parse(&html(&t, &clerk, "/billing").await);
    assert!(
        desk.text_of("[role=status]").unwrap().contains("float of 1,000.00"),
        "{:?}",
        desk.text_of("[role=status]")
    );
    assert!(desk.has("form[aria-label=\"Close my shift\"]"));
    assert!(desk.links_to(&format!("/billing/patients/{patient}")), "waiting to be billed");

    // Find the patient; the account lists the two charges, ticked.
    let found = Page::parse(&html(&t, &clerk, "/billing?q=Pillai").await);
    assert!(found.links_to(&format!("/billing/patients/{patient}")));
    let account_path = format!("/billing/patients/{patient}");
    let account = html(&t, &clerk, &account_path).await;
    let ids = values(&account, "charge");
    assert_eq!(ids.len(), 2, "{account}");
    let key = values(&account, "idempotency_key").into_iter().find(|k| k.ends_with("-invoice")).unwrap();

    // A discount without a reason comes back with why, and nothing is billed.
    let mut form = vec![("kind", "outpatient"), ("discount", "50"), ("idempotency_key", key.as_str())];
    form.extend(ids.iter().map(|c| ("charge", c.as_str())));
    let res = post_form(&t, &clerk, &format!("{account_path}/invoice"), &form).await;
    assert_eq!(res.status(), 303);
    let back = Page::parse(&html(&t, &clerk, &account_path).await);
    assert!(
        back.text_of("[role=status]").unwrap().contains("discount reason"),
        "{:?}",
        back.text_of("[role=status]")
    );
    assert_eq!(values(&html(&t, &clerk, &account_path).await, "charge").len(), 2, "nothing billed");

    // Posted: the browser goes to the invoice to print; a second print says DUPLICATE.
    let mut form = vec![("kind", "outpatient"), ("idempotency_key", key.as_str())];
    form.extend(ids.iter().map(|c| ("charge", c.as_str())));
    let res = post_form(&t, &clerk, &format!("{account_path}/invoice"), &form).await;
    assert_eq!(res.status(), 303);
    let print = common::location(&res);
    assert!(print.starts_with("/billing/invoices/") && print.ends_with("/print"), "{print}");
    let first = Page::parse(&html(&t, &clerk, &print).await);
    assert!(first.text_of("h2").unwrap().starts_with("Invoice INV/"), "{:?}", first.text_of("h2"));
    assert!(!first.has("[aria-label=\"Duplicate copy\"]"));
    let again = Page::parse(&html(&t, &clerk, &print).await);
    assert!(again.has("[aria-label=\"Duplicate copy\"]"), "a reprint says DUPLICATE");
    // The same form sent twice (a double click) is one bill.
    let res = post_form(&t, &clerk, &format!("{account_path}/invoice"), &form).await;
    assert_eq!(common::location(&res), print);

    // Pay it by cash from the account page.
    let account = html(&t, &clerk, &account_path).await;
    let invoice = print.trim_start_matches("/billing/invoices/").trim_end_matches("/print").to_owned();
    let pay_key = values(&account, "idempotency_key").into_iter().find(|k| k.ends_with(&invoice)).unwrap();
    let pay = format!("/billing/invoices/{invoice}/pay");
    let res = post_form(
        &t,
        &clerk,
        &pay,
        &[("method", "cash"), ("amount", "1000.01"), ("idempotency_key", &pay_key), ("back", &account_path)],
    )
    .await;
    assert_eq!(res.status(), 303);
    let refused = Page::parse(&html(&t, &clerk, &account_path).await);
    assert!(
        refused.text_of("[role=status]").unwrap().contains("left to pay"),
        "{:?}",
        refused.text_of("[role=status]")
    );
    let res = post_form(
        &t,
        &clerk,
        &pay,
        &[("method", "cash"), ("amount", "1000"), ("idempotency_key", &pay_key), ("back", &account_path)],
    )
    .await;
    assert_eq!(res.status(), 303);
    let paid = Page::parse(&html(&t, &clerk, &account_path).await);
    assert!(
        paid.text_of("[role=status]").unwrap().contains("Receipt RCP/"),
        "{:?}",
        paid.text_of("[role=status]")
    );
    assert!(
        paid.text_of("[aria-label=Balances]").unwrap().starts_with("Owed on bills 0.00"),
        "{:?}",
        paid.text_of("[aria-label=Balances]")
    );

    // A deposit, a refund asked for, approved by the supervisor from the desk.
    let account = html(&t, &clerk, &account_path).await;
    let dep_key = values(&account, "idempotency_key").into_iter().find(|k| k.ends_with("-deposit")).unwrap();
    let res = post_form(
        &t,
        &clerk,
        &format!("{account_path}/deposit"),
        &[("method", "cash"), ("amount", "300"), ("idempotency_key", &dep_key)],
    )
    .await;
    assert_eq!(res.status(), 303);
    let account = html(&t, &clerk, &account_path).await;
    let doc = scraper::Html::parse_document(&account);
    let source = doc
        .select(&scraper::Selector::parse("select[name=source] option").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .to_owned();
    let res = post_form(
        &t,
        &clerk,
        &format!("{account_path}/refund"),
        &[("source", &source), ("amount", "300"), ("method", "cash"), ("reason", "Not admitted after all")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let desk = html(&t, &head, "/billing").await;
    let decide = scraper::Html::parse_document(&desk);
    let action = decide
        .select(&scraper::Selector::parse("form[aria-label=\"Approve the refund\"]").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("action")
        .unwrap()
        .to_owned();
    let res = post_form(&t, &head, &action, &[("decision", "approve")]).await;
    assert_eq!(res.status(), 303);
    let desk = html(&t, &clerk, "/billing").await;
    let payout = scraper::Html::parse_document(&desk);
    let form = payout
        .select(&scraper::Selector::parse("form[aria-label=\"Pay out the refund\"]").unwrap())
        .next()
        .expect("the approved refund waits for the cashier");
    let action = form.value().attr("action").unwrap().to_owned();
    let refund = action.trim_start_matches("/billing/refunds/").trim_end_matches("/pay");
    let k = values(&desk, "idempotency_key").into_iter().find(|k| k.ends_with(refund)).unwrap();
    let res = post_form(&t, &clerk, &action, &[("idempotency_key", &k)]).await;
    assert_eq!(res.status(), 303);
    let voucher = Page::parse(&html(&t, &clerk, &common::location(&res)).await);
    assert!(voucher.text_of("h2").unwrap().starts_with("Refund voucher RFD/"), "{:?}", voucher.text_of("h2"));

    // The day's cash: in the report and its CSV (cash in 1,000 + 300, out 300).
    let report = Page::parse(&html(&t, &head, "/billing/reports").await);
    let totals = report.text_of("tfoot").unwrap();
    assert!(totals.contains("cash: in less out") && totals.contains("1,000.00"), "{totals}");
    let csv = clerk.client.get(t.url("/billing/reports/cash.csv")).send().await.unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("day,cashier,method,kind,count,amount,currency\n"), "{csv}");
    assert!(csv.lines().any(|l| l.contains(",cash,payment,1,1000.00,")), "{csv}");
});

db_test!(an_insurance_claim_through_the_pages, |t| {
    let w = ward(&t).await;
    let clerk = who(&t, "ip.clerk", &[Role::Billing]).await;
    let head = who(&t, "ip.head", &[Role::Admin]).await;
    let patient: Uuid = w.patient.parse().unwrap();
    charges(&t, patient).await;
    assert_eq!(w.nurse.client.get(t.url("/billing/insurance")).send().await.unwrap().status(), 403);

    // The administrator adds an insurer and its plan; a clerk may not.
    let res = post_form(&t, &clerk, "/billing/insurance/payers", &[("code", "X"), ("name", "X")]).await;
    assert_eq!(res.status(), 403);
    let res = post_form(
        &t,
        &head,
        "/billing/insurance/payers",
        &[("code", "AROGYA"), ("name", "Arogya"), ("kind", "insurer")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let desk = html(&t, &head, "/billing/insurance").await;
    let payer = Page::parse(&desk).value("payer_id").expect("the insurer is offered for a plan");
    let plan_form = [
        ("payer_id", payer.as_str()),
        ("code", "FAM"),
        ("name", "Family"),
        ("covered", "consultation"),
        ("copay", "20"),
        ("limit", "100000"),
    ];
    assert_eq!(post_form(&t, &head, "/billing/insurance/plans", &plan_form).await.status(), 303);
    let desk = Page::parse(&html(&t, &head, "/billing/insurance").await);
    assert!(
        desk.text_of("[role=status]").unwrap().contains("Plan Family added"),
        "{:?}",
        desk.text_of("[role=status]")
    );

    // The clerk records the patient's policy; a bad date range comes back with why.
    let account_path = format!("/billing/patients/{patient}");
    let account = html(&t, &clerk, &account_path).await;
    let plan = Page::parse(&account).value("plan_id").expect("the plan is offered");
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (today.to_string(), (today + chrono::Duration::days(300)).to_string());
    let policies = format!("{account_path}/policies");
    let bad = [
        ("plan_id", plan.as_str()),
        ("member_number", "FAM-1"),
        ("valid_from", to.as_str()),
        ("valid_to", from.as_str()),
    ];
    post_form(&t, &clerk, &policies, &bad).await;
    let back = Page::parse(&html(&t, &clerk, &account_path).await);
    assert!(
        back.text_of("[role=status]").unwrap().contains("ends after it starts"),
        "{:?}",
        back.text_of("[role=status]")
    );
    let good = [
        ("plan_id", plan.as_str()),
        ("member_number", "FAM-1"),
        ("valid_from", from.as_str()),
        ("valid_to", to.as_str()),
    ];
    assert_eq!(post_form(&t, &clerk, &policies, &good).await.status(), 303);

    // Bill the charges, 100.00 off one line (the discount typed beside it), then claim
    // the bill: 80 % of 900.00 from the insurer.
    let account = html(&t, &clerk, &account_path).await;
    let ids = values(&account, "charge");
    let key = values(&account, "idempotency_key").into_iter().find(|k| k.ends_with("-invoice")).unwrap();
    let line = format!("line_discount-{}", ids[0]);
    let mut form = vec![
        ("kind", "outpatient"),
        ("idempotency_key", key.as_str()),
        (line.as_str(), "100"),
        ("discount_reason", "Staff family"),
    ];
    form.extend(ids.iter().map(|c| ("charge", c.as_str())));
    let res = post_form(&t, &clerk, &format!("{account_path}/invoice"), &form).await;
    let invoice =
        common::location(&res).trim_start_matches("/billing/invoices/").trim_end_matches("/print").to_owned();
    let account = Page::parse(&html(&t, &clerk, &account_path).await);
    assert!(
        account.has(&format!("form[action=\"/billing/invoices/{invoice}/claim\"]")),
        "a claim can be drafted"
    );
    let policy = account.value("policy_id").unwrap();
    let res = post_form(
        &t,
        &clerk,
        &format!("/billing/invoices/{invoice}/claim"),
        &[("policy_id", &policy), ("back", &account_path)],
    )
    .await;
    assert_eq!(res.status(), 303);
    let claim_path = common::location(&res);
    assert!(claim_path.starts_with("/billing/claims/"), "{claim_path}");
    let claim = Page::parse(&html(&t, &clerk, &claim_path).await);
    assert!(
        claim.text_of("[role=status]").unwrap().contains("720.00 from the insurer"),
        "{:?}",
        claim.text_of("[role=status]")
    );
    let version = claim.value("version").unwrap();
    assert_eq!(
        post_form(&t, &clerk, &claim_path, &[("step", "submit"), ("version", &version)]).await.status(),
        303
    );
    let claim = Page::parse(&html(&t, &clerk, &claim_path).await);
    assert!(
        claim.has("form[aria-label=\"Record the insurer's decision\"]"),
        "submitted: the decision is next"
    );
    // The desk lists it, and the insurer owes it.
    let desk = Page::parse(&html(&t, &clerk, "/billing/insurance").await);
    assert!(desk.links_to(&claim_path));
    assert!(
        desk.text_of("#ageing-h ~ .table-wrap").unwrap().contains("720.00"),
        "{:?}",
        desk.text_of("#ageing-h ~ .table-wrap")
    );
    let csv = html(&t, &clerk, "/billing/insurance/ageing.csv").await;
    assert!(
        csv.lines().nth(1).unwrap().starts_with("Arogya,AROGYA,1,720.00,0.00,0.00,0.00,720.00,"),
        "{csv}"
    );
    let account = Page::parse(&html(&t, &clerk, &account_path).await);
    assert!(!account.has(&format!("form[action=\"/billing/invoices/{invoice}/claim\"]")), "claimed once");
    assert!(
        account.text_of("[aria-label=Balances]").unwrap().starts_with("Owed on bills 180.00"),
        "{:?}",
        account.text_of("[aria-label=Balances]")
    );
});
