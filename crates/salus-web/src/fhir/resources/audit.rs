//! The audit trail as AuditEvent: who did what to which record, when, from where, why,
//! and how it ended. Every read and write of patient data is one of these.

use salus_core::audit::{AuditEvent, Outcome};
use serde_json::{Value, json};

use super::{coding, instant, object, reference};

const DCM: &str = "http://dicom.nema.org/resources/ontology/DCM";

/// The event's kind in DICOM's audit vocabulary, by what Salus calls the action.
fn event_type(e: &AuditEvent) -> Value {
    let (code, display) = if e.action == "access.denied" || e.outcome == Outcome::Denied {
        ("110113", "Security Alert")
    } else if e.action.starts_with("auth.")
        || e.action.starts_with("session.")
        || e.action.starts_with("login")
    {
        ("110114", "User Authentication")
    } else if e.patient_id.is_some() {
        ("110110", "Patient Record")
    } else {
        ("110100", "Application Activity")
    };
    coding(DCM, code, Some(display))
}

/// C, R, U, D or E, from the action's last word.
fn crud(action: &str) -> &'static str {
    let verb = action.rsplit('.').next().unwrap_or(action);
    match verb {
        "read" | "view" | "search" | "download" | "list" => "R",
        "create" | "add" | "start" | "record" | "register" | "upload" | "book" | "import" => "C",
        "update" | "edit" | "amend" | "correct" | "merge" | "unmerge" | "move" | "sign" => "U",
        "delete" | "remove" | "erase" | "retire" => "D",
        _ => "E",
    }
}

pub fn audit_event(e: &AuditEvent) -> Value {
    let outcome = match e.outcome {
        Outcome::Success => "0",
        Outcome::Failure => "8",
        Outcome::Denied => "4",
    };
    let who = match e.actor_id {
        Some(id) => json!({"reference": format!("Practitioner/{id}"), "display": e.actor_name}),
        None => json!({"display": e.actor_name}),
    };
    let agent = object(vec![
        ("who", who),
        ("requestor", json!(true)),
        ("role", if e.actor_roles.is_empty() { Value::Null } else { json!([{"text": e.actor_roles}]) }),
        (
            "network",
            e.client_ip.as_ref().map(|ip| json!({"address": ip, "type": "2"})).unwrap_or(Value::Null),
        ),
    ]);
    let mut entities = Vec::new();
    if let Some(p) = e.patient_id {
        entities.push(json!({"what": reference("Patient", p), "role": coding("http://terminology.hl7.org/CodeSystem/object-role", "1", Some("Patient"))}));
    }
    entities.push(object(vec![
        (
            "what",
            e.resource_id
                .as_ref()
                .map(|id| json!({"identifier": {"system": format!("urn:salus:{}", e.resource_type), "value": id}}))
                .unwrap_or(Value::Null),
        ),
        ("name", json!(e.resource_type)),
        ("description", json!(e.detail)),
    ]));
    object(vec![
        ("resourceType", json!("AuditEvent")),
        ("id", json!(e.id.to_string())),
        ("meta", json!({"versionId": "1", "lastUpdated": instant(e.at)})),
        ("type", event_type(e)),
        ("subtype", json!([{"system": "urn:salus:audit-action", "code": e.action}])),
        ("action", json!(crud(&e.action))),
        ("recorded", json!(instant(e.at))),
        ("outcome", json!(outcome)),
        ("purposeOfEvent", e.reason.as_ref().map(|r| json!([{"text": r}])).unwrap_or(Value::Null)),
        ("agent", json!([agent])),
        (
            "source",
            json!({"observer": {"display": "Salus"}, "type": [coding("http://terminology.hl7.org/CodeSystem/security-source-type", "4", Some("Application Server"))]}),
        ),
        ("entity", json!(entities)),
    ])
}
