//! The money side of a patient's record: their insurance policies (Coverage), what was
//! charged (ChargeItem), the bills (Invoice) and the claims sent to insurers (Claim).
//! Amounts are kept in minor units and given as Money in the hospital's currency.

use salus_core::billing::{Charge, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus};
use salus_core::insurance::{Claim, ClaimLine, ClaimStatus, Payer, Plan, Policy, PolicyStatus};
use salus_core::organisation::Currency;
use serde_json::{Value, json};

use super::{concept, date, instant, object, reference};

/// `minor` units of `currency` as FHIR Money (`{"value": 150.5, "currency": "INR"}`).
pub fn money(minor: i64, currency: Currency) -> Value {
    let scale = 10f64.powi(i32::try_from(currency.exponent()).unwrap_or(2));
    json!({"value": minor as f64 / scale, "currency": currency.code()})
}

/// The insurer as a Coverage or Claim names it: by its code, with its name.
fn payer_reference(payer: &Payer) -> Value {
    json!({"identifier": {"system": "urn:salus:payer", "value": payer.code}, "display": payer.name})
}

/// A patient's policy of an insurer's plan, with its member number and its dates.
pub fn coverage(p: &Policy, plan: &Plan, payer: &Payer) -> Value {
    object(vec![
        ("resourceType", json!("Coverage")),
        ("id", json!(p.id.to_string())),
        ("meta", json!({"versionId": "1", "lastUpdated": instant(p.created_at)})),
        (
            "identifier",
            json!([{"system": format!("urn:salus:payer:{}", payer.code), "value": p.member_number}]),
        ),
        ("status", json!(if p.status == PolicyStatus::Active { "active" } else { "cancelled" })),
        ("policyHolder", p.holder.as_ref().map(|h| json!({"display": h})).unwrap_or(Value::Null)),
        ("subscriberId", json!(p.member_number)),
        ("beneficiary", reference("Patient", p.patient_id)),
        ("period", json!({"start": date(p.valid_from), "end": date(p.valid_to)})),
        ("payor", json!([payer_reference(payer)])),
        (
            "class",
            json!([{
                "type": concept("http://terminology.hl7.org/CodeSystem/coverage-class", "plan", "Plan"),
                "value": plan.code,
                "name": plan.name,
            }]),
        ),
    ])
}

/// A service charged to the patient, billed or waiting for the next bill.
pub fn charge_item(c: &Charge, currency: Currency) -> Value {
    let status = match c.status.as_str() {
        "unbilled" => "billable",
        "billed" => "billed",
        _ => "unknown",
    };
    object(vec![
        ("resourceType", json!("ChargeItem")),
        ("id", json!(c.id.to_string())),
        ("meta", json!({"versionId": "1", "lastUpdated": instant(c.created_at)})),
        ("status", json!(status)),
        (
            "code",
            json!({"coding": [{"system": "urn:salus:service", "code": c.service_code}], "text": c.description}),
        ),
        ("subject", reference("Patient", c.patient_id)),
        ("occurrenceDateTime", json!(instant(c.created_at))),
        ("enterer", reference("Practitioner", c.created_by)),
        ("enteredDate", json!(instant(c.created_at))),
        ("quantity", json!({"value": c.quantity})),
        ("priceOverride", money(c.unit_price_minor, currency)),
    ])
}

/// A posted bill (or a cancelled one, with why): its lines with their prices, discounts
/// and taxes, and what it comes to.
pub fn invoice(i: &Invoice, lines: &[InvoiceLine], currency: Currency) -> Value {
    let currency = salus_core::organisation::Currency::parse(&i.currency).unwrap_or(currency);
    let kind = match i.kind {
        InvoiceKind::Outpatient => "Outpatient bill",
        InvoiceKind::Interim => "Interim inpatient bill",
        InvoiceKind::Final => "Final inpatient bill",
    };
    let items: Vec<Value> = lines
        .iter()
        .map(|l| {
            let mut parts = vec![json!({"type": "base", "amount": money(l.gross_minor, currency)})];
            if l.discount_minor != 0 {
                parts.push(json!({"type": "discount", "amount": money(l.discount_minor, currency)}));
            }
            if l.tax_minor != 0 {
                parts.push(json!({"type": "tax", "amount": money(l.tax_minor, currency)}));
            }
            json!({
                "sequence": l.position.max(1),
                "chargeItemReference": reference("ChargeItem", l.charge_id),
                "priceComponent": parts,
            })
        })
        .collect();
    object(vec![
        ("resourceType", json!("Invoice")),
        ("id", json!(i.id.to_string())),
        ("meta", json!({"versionId": "1", "lastUpdated": instant(i.cancelled_at.unwrap_or(i.posted_at))})),
        ("identifier", json!([{"system": "urn:salus:invoice", "value": i.number}])),
        ("status", json!(if i.status == InvoiceStatus::Cancelled { "cancelled" } else { "issued" })),
        ("cancelledReason", json!(i.cancel_reason)),
        ("type", json!({"text": kind})),
        ("subject", reference("Patient", i.patient_id)),
        ("date", json!(instant(i.posted_at))),
        ("participant", json!([{"actor": reference("Practitioner", i.posted_by)}])),
        ("lineItem", if items.is_empty() { Value::Null } else { json!(items) }),
        ("totalNet", money(i.gross_minor - i.discount_minor, currency)),
        ("totalGross", money(i.total_minor, currency)),
        ("paymentTerms", json!(format!("Paid {} of {}", i.paid_minor, i.total_minor))),
    ])
}

/// A claim to an insurer for one bill: the insurer's and the patient's shares of each
/// line, the version of the claim number it is, and where it stands.
pub fn claim(c: &Claim, lines: &[ClaimLine], payer: Option<&Payer>, currency: Currency) -> Value {
    let status = match c.status {
        ClaimStatus::Draft => "draft",
        _ => "active",
    };
    let items: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(n, l)| {
            json!({
                "sequence": n + 1,
                "category": {"text": l.category},
                "productOrService": {"text": l.description},
                "net": money(l.insurer_minor, currency),
            })
        })
        .collect();
    object(vec![
        ("resourceType", json!("Claim")),
        ("id", json!(c.id.to_string())),
        (
            "meta",
            json!({"versionId": c.version.to_string(), "lastUpdated": instant(c.closed_at.or(c.settled_at).or(c.decided_at).or(c.submitted_at).unwrap_or(c.created_at))}),
        ),
        (
            "identifier",
            json!([{"system": "urn:salus:claim", "value": format!("{}-{}", c.number, c.claim_version)}]),
        ),
        ("status", json!(status)),
        (
            "type",
            concept("http://terminology.hl7.org/CodeSystem/claim-type", "institutional", "Institutional"),
        ),
        ("use", json!("claim")),
        ("patient", reference("Patient", c.patient_id)),
        ("created", json!(instant(c.created_at))),
        ("enterer", reference("Practitioner", c.created_by)),
        ("insurer", payer.map(payer_reference).unwrap_or(Value::Null)),
        // The hospital itself; Salus serves one organisation per installation.
        ("provider", json!({"display": "This hospital"})),
        ("priority", concept("http://terminology.hl7.org/CodeSystem/processpriority", "normal", "Normal")),
        ("related", c.previous_id.map(|p| json!([{"claim": reference("Claim", p)}])).unwrap_or(Value::Null)),
        (
            "insurance",
            json!([object(vec![
                ("sequence", json!(1)),
                ("focal", json!(true)),
                ("coverage", reference("Coverage", c.policy_id)),
                ("preAuthRef", c.payer_reference.as_ref().map(|r| json!([r])).unwrap_or(Value::Null)),
            ])]),
        ),
        ("item", if items.is_empty() { Value::Null } else { json!(items) }),
        ("total", money(c.claimed_minor, currency)),
    ])
}
