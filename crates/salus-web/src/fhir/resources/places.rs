//! What the hospital has rather than what a patient has: its wards and their beds
//! (Location, each bed's state its operational status) and its formulary (Medication).

use salus_core::clinical::Medicine;
use salus_core::inpatient::{Bed, BedState, Ward};
use serde_json::{Value, json};

use super::{coding, instant, object, reference};

const LOCATION_TYPE: &str = "http://terminology.hl7.org/CodeSystem/location-physical-type";
const BED_STATUS: &str = "http://terminology.hl7.org/CodeSystem/v2-0116";
const ATC: &str = "http://www.whocc.no/atc";

/// A ward, part of its department's organisation when it has one.
pub fn ward_location(w: &Ward) -> Value {
    object(vec![
        ("resourceType", json!("Location")),
        ("id", json!(w.id.to_string())),
        ("meta", json!({"versionId": w.version.to_string()})),
        ("identifier", json!([{"system": "urn:salus:ward", "value": w.code}])),
        ("status", json!(if w.active { "active" } else { "inactive" })),
        ("name", json!(w.name)),
        ("mode", json!("instance")),
        ("physicalType", json!({"coding": [coding(LOCATION_TYPE, "wa", Some("Ward"))], "text": "Ward"})),
        (
            "managingOrganization",
            w.department_id.map(|d| reference("Organization", d)).unwrap_or(Value::Null),
        ),
    ])
}

/// A bed, part of its ward; whether it is free, taken, being cleaned or out of use.
pub fn bed_location(b: &Bed) -> Value {
    let (code, display) = match b.state {
        BedState::Available => ("U", "Unoccupied"),
        BedState::Reserved => ("U", "Unoccupied"),
        BedState::Occupied => ("O", "Occupied"),
        BedState::Cleaning => ("H", "Housekeeping"),
        BedState::Blocked => ("C", "Closed"),
    };
    let status = match (b.active, b.state) {
        (false, _) => "inactive",
        (true, BedState::Blocked) => "suspended",
        _ => "active",
    };
    object(vec![
        ("resourceType", json!("Location")),
        ("id", json!(b.id.to_string())),
        ("meta", json!({"versionId": b.version.to_string(), "lastUpdated": instant(b.updated_at)})),
        ("identifier", json!([{"system": format!("urn:salus:ward:{}:bed", b.ward_id), "value": b.label}])),
        ("status", json!(status)),
        ("operationalStatus", coding(BED_STATUS, code, Some(display))),
        ("name", json!(b.label)),
        ("alias", json!([format!("Room {}", b.room)])),
        ("description", b.state_reason.as_ref().map(|r| json!(r)).unwrap_or(Value::Null)),
        ("mode", json!("instance")),
        ("type", json!([{"text": b.bed_type.as_str()}])),
        ("physicalType", json!({"coding": [coding(LOCATION_TYPE, "bd", Some("Bed"))], "text": "Bed"})),
        ("partOf", reference("Location", b.ward_id)),
    ])
}

/// An entry of the formulary, by its ATC code where it has one.
pub fn medication(m: &Medicine) -> Value {
    let code = match &m.atc_code {
        Some(atc) => json!({"coding": [coding(ATC, atc, Some(&m.generic_name))], "text": m.label()}),
        None => json!({"text": m.label()}),
    };
    object(vec![
        ("resourceType", json!("Medication")),
        ("id", json!(m.id.to_string())),
        ("meta", json!({"versionId": m.version.to_string(), "lastUpdated": instant(m.updated_at)})),
        ("code", code),
        ("status", json!(if m.active { "active" } else { "inactive" })),
        ("form", json!({"text": m.form})),
        ("ingredient", json!([{"itemCodeableConcept": {"text": m.generic_name}, "isActive": true}])),
    ])
}
