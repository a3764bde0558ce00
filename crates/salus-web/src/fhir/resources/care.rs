//! The records of care around the chart: specimens the laboratory took, doses given on
//! the ward, what the pharmacy handed over, appointments, and the files kept with the
//! record.

use chrono::Duration;
use salus_app::scheduling::Appointment;
use salus_core::clinical::Attachment;
use salus_core::inpatient::mar::{Administration, DoseOutcome, MedicationOrder};
use salus_core::laboratory::{LabOrder, Specimen, SpecimenStatus};
use salus_core::pharmacy::{Dispense, DispenseLine};
use salus_core::scheduling::AppointmentStatus;
use serde_json::{Value, json};

use super::{concept, instant, meta, object, reference};

const V2_0487: &str = "http://terminology.hl7.org/CodeSystem/v2-0487";
const V2_0490: &str = "http://terminology.hl7.org/CodeSystem/v2-0490";

/// The specimen kinds the laboratory's catalog names, in HL7 table 0487.
fn specimen_type(kind: &str) -> Value {
    let code = match kind.to_ascii_lowercase().as_str() {
        "blood" | "whole blood" => Some(("BLD", "Whole blood")),
        "serum" => Some(("SER", "Serum")),
        "plasma" => Some(("PLAS", "Plasma")),
        "urine" => Some(("UR", "Urine")),
        "stool" | "faeces" | "feces" => Some(("STL", "Stool = Fecal")),
        "csf" => Some(("CSF", "Cerebral spinal fluid")),
        "sputum" => Some(("SPT", "Sputum")),
        "swab" => Some(("SWGZ", "Swab")),
        _ => None,
    };
    match code {
        Some((c, display)) => {
            json!({"coding": [{"system": V2_0487, "code": c, "display": display}], "text": kind})
        }
        None => json!({"text": kind}),
    }
}

/// A specimen with its accession number, the orders it was taken for, and its fate.
pub fn specimen(s: &Specimen, orders: &[LabOrder]) -> Value {
    let status = match s.status {
        SpecimenStatus::Collected | SpecimenStatus::Received => "available",
        SpecimenStatus::Rejected => "unsatisfactory",
    };
    let requests: Vec<Value> = orders
        .iter()
        .filter(|o| o.specimen_id == Some(s.id))
        .map(|o| reference("ServiceRequest", o.id))
        .collect();
    // Why it was rejected, in HL7 table 0490 (a wrong container has no code there).
    let condition = s.reject_reason.map(|r| {
        use salus_core::laboratory::RejectReason;
        let coded = match r {
            RejectReason::Haemolysed => Some(("RH", "Hemolysis")),
            RejectReason::Clotted => Some(("RC", "Clotting")),
            RejectReason::Insufficient => Some(("QS", "Quantity not sufficient")),
            RejectReason::Mislabelled => Some(("RM", "Labeling")),
            RejectReason::Leaked => Some(("RB", "Broken container")),
            RejectReason::WrongContainer => None,
        };
        match coded {
            Some((code, display)) => json!([concept(V2_0490, code, display)]),
            None => json!([{"text": "Wrong container"}]),
        }
    });
    object(vec![
        ("resourceType", json!("Specimen")),
        ("id", json!(s.id.to_string())),
        (
            "meta",
            json!({"versionId": s.version.to_string(), "lastUpdated": instant(s.received_at.unwrap_or(s.collected_at))}),
        ),
        ("accessionIdentifier", json!({"system": "urn:salus:accession", "value": s.accession})),
        ("status", json!(status)),
        ("type", specimen_type(&s.specimen)),
        ("subject", reference("Patient", s.patient_id)),
        ("receivedTime", json!(s.received_at.map(instant))),
        ("request", if requests.is_empty() { Value::Null } else { json!(requests) }),
        (
            "collection",
            json!({"collector": reference("Practitioner", s.collected_by), "collectedDateTime": instant(s.collected_at)}),
        ),
        ("container", json!([{"description": s.container}])),
        ("condition", condition.unwrap_or(Value::Null)),
        ("note", s.reject_note.as_ref().map(|n| json!([{"text": n}])).unwrap_or(Value::Null)),
    ])
}

/// A dose recorded on the ward against its medication order: given, held, refused or
/// missed (with the reason), or a record later amended (entered in error, kept).
pub fn medication_administration(a: &Administration, order: Option<&MedicationOrder>) -> Value {
    let status = match (a.current, a.outcome) {
        (false, _) => "entered-in-error",
        (true, DoseOutcome::Given) => "completed",
        (true, DoseOutcome::Held) => "on-hold",
        (true, DoseOutcome::Refused | DoseOutcome::Missed) => "not-done",
    };
    let medication =
        order.map_or_else(|| json!({"text": "medication"}), |o| json!({"text": o.medicine_name}));
    let dosage = order.map(|o| {
        object(vec![
            ("text", json!(format!("{} {}", o.dose, o.route))),
            ("route", json!({"text": o.route})),
            ("dose", json!({"value": o.units_per_dose, "unit": "unit"})),
        ])
    });
    let mut notes: Vec<Value> = Vec::new();
    if let Some(r) = &a.amend_reason {
        notes.push(json!({"text": format!("Amended: {r}")}));
    }
    if a.late {
        notes.push(json!({"text": "Given late"}));
    }
    object(vec![
        ("resourceType", json!("MedicationAdministration")),
        ("id", json!(a.id.to_string())),
        ("meta", json!({"versionId": "1", "lastUpdated": instant(a.recorded_at)})),
        ("status", json!(status)),
        (
            "statusReason",
            a.reason
                .as_ref()
                .filter(|_| a.outcome.needs_reason())
                .map(|r| json!([{"text": r}]))
                .unwrap_or(Value::Null),
        ),
        (
            "category",
            json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/medication-admin-category", "code": "inpatient", "display": "Inpatient"}]}),
        ),
        ("medicationCodeableConcept", medication),
        ("subject", reference("Patient", a.patient_id)),
        ("effectiveDateTime", json!(instant(a.given_at))),
        ("performer", json!([{"actor": reference("Practitioner", a.recorded_by)}])),
        ("note", if notes.is_empty() { Value::Null } else { json!(notes) }),
        ("dosage", dosage.unwrap_or(Value::Null)),
    ])
}

/// One line the pharmacy handed over: the batch given, against the prescription it
/// filled, with any substitution and what was brought back.
pub fn medication_dispense(l: &DispenseLine, d: &Dispense) -> Value {
    let given = l.quantity - l.returned;
    let status = if given <= 0 { "declined" } else { "completed" };
    let mut notes = vec![json!({"text": format!("Batch {} (expires {})", l.batch_no, l.expiry_date)})];
    if l.returned > 0 {
        notes.push(json!({"text": format!("{} of {} brought back", l.returned, l.quantity)}));
    }
    if let Some(r) = &l.override_reason {
        notes.push(json!({"text": format!("Batch chosen out of expiry order: {r}")}));
    }
    let substitution = l.substituted_for.as_ref().map(|was| {
        object(vec![
            ("wasSubstituted", json!(true)),
            (
                "reason",
                json!([{"text": l.substitution_reason.clone().unwrap_or_else(|| format!("in place of {was}"))}]),
            ),
        ])
    });
    object(vec![
        ("resourceType", json!("MedicationDispense")),
        ("id", json!(l.id.to_string())),
        ("meta", json!({"versionId": "1", "lastUpdated": instant(d.dispensed_at)})),
        ("identifier", json!([{"system": "urn:salus:dispense", "value": d.number}])),
        ("status", json!(status)),
        ("medicationCodeableConcept", json!({"text": l.item_name})),
        ("subject", l.patient_id.map(|p| reference("Patient", p)).unwrap_or(Value::Null)),
        ("performer", json!([{"actor": reference("Practitioner", d.dispensed_by)}])),
        (
            "authorizingPrescription",
            l.prescription_id.map(|p| json!([reference("MedicationRequest", p)])).unwrap_or(Value::Null),
        ),
        ("quantity", json!({"value": given})),
        ("whenHandedOver", json!(instant(d.dispensed_at))),
        ("note", json!(notes)),
        ("substitution", substitution.unwrap_or(Value::Null)),
    ])
}

/// A booking with a doctor: who, when, for how long, and where it went.
pub fn appointment(a: &Appointment) -> Value {
    let status = match a.status {
        AppointmentStatus::Booked => "booked",
        AppointmentStatus::CheckedIn => "checked-in",
        AppointmentStatus::InConsultation => "arrived",
        AppointmentStatus::Finished => "fulfilled",
        AppointmentStatus::Cancelled | AppointmentStatus::Rescheduled => "cancelled",
        AppointmentStatus::NoShow => "noshow",
    };
    let cancelled = match (a.status, &a.cancel_reason) {
        (AppointmentStatus::Rescheduled, _) => Some("Rescheduled".to_owned()),
        (AppointmentStatus::Cancelled, Some(r)) => Some(r.clone()),
        _ => None,
    };
    let ends = a.starts_at + Duration::minutes(i64::from(a.minutes));
    let participants = json!([
        {"actor": reference("Patient", a.patient_id), "required": "required", "status": "accepted"},
        {"actor": reference("Practitioner", a.doctor_id), "required": "required", "status": "accepted"},
    ]);
    object(vec![
        ("resourceType", json!("Appointment")),
        ("id", json!(a.id.to_string())),
        ("meta", meta(a.version, a.updated_at)),
        (
            "identifier",
            a.token
                .map(|t| json!([{"system": "urn:salus:queue-token", "value": t.to_string()}]))
                .unwrap_or(Value::Null),
        ),
        ("status", json!(status)),
        ("cancelationReason", cancelled.map(|r| json!({"text": r})).unwrap_or(Value::Null)),
        (
            "appointmentType",
            json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0276", "code": if a.time.is_some() { "ROUTINE" } else { "WALKIN" }}]}),
        ),
        ("description", json!(a.reason)),
        ("start", json!(instant(a.starts_at))),
        ("end", json!(instant(ends))),
        ("minutesDuration", json!(a.minutes)),
        ("participant", participants),
    ])
}

/// A file kept with the record. Its bytes are fetched from the record's own address.
pub fn document_reference(f: &Attachment) -> Value {
    object(vec![
        ("resourceType", json!("DocumentReference")),
        ("id", json!(f.id.to_string())),
        ("meta", json!({"versionId": "1", "lastUpdated": instant(f.uploaded_at)})),
        ("status", json!(if f.error_reason.is_some() { "entered-in-error" } else { "current" })),
        ("subject", reference("Patient", f.patient_id)),
        ("date", json!(instant(f.uploaded_at))),
        ("author", f.uploaded_by.map(|u| json!([reference("Practitioner", u)])).unwrap_or(Value::Null)),
        ("description", json!(f.filename)),
        (
            "content",
            json!([{"attachment": {
                "contentType": f.content_type,
                "url": format!("/api/v1/attachments/{}", f.id),
                "size": f.size_bytes,
                "title": f.filename,
                "creation": instant(f.uploaded_at),
            }}]),
        ),
        (
            "context",
            f.encounter_id.map(|e| json!({"encounter": [reference("Encounter", e)]})).unwrap_or(Value::Null),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use salus_core::laboratory::RejectReason;
    use uuid::Uuid;

    fn rejected(reason: RejectReason) -> Specimen {
        let at = chrono::Utc::now();
        Specimen {
            id: Uuid::now_v7(),
            patient_id: Uuid::now_v7(),
            accession: "L26-000001".into(),
            specimen: "Serum".into(),
            container: "Gold top".into(),
            status: SpecimenStatus::Rejected,
            collected_by: Uuid::now_v7(),
            collected_at: at,
            received_by: None,
            received_at: Some(at),
            reject_reason: Some(reason),
            reject_note: Some("Pink serum".into()),
            version: 2,
        }
    }

    #[test]
    fn a_rejected_specimen_is_unsatisfactory_with_its_reason_coded() {
        let s = specimen(&rejected(RejectReason::Haemolysed), &[]);
        assert_eq!(s["status"], "unsatisfactory");
        assert_eq!(s["condition"][0]["coding"][0]["code"], "RH");
        assert_eq!(s["type"]["coding"][0]["code"], "SER");
        assert_eq!(s["note"][0]["text"], "Pink serum");
        assert!(s.get("request").is_none(), "no orders, no requests");
        let s = specimen(&rejected(RejectReason::WrongContainer), &[]);
        assert_eq!(s["condition"][0]["text"], "Wrong container");
        assert!(s["condition"][0].get("coding").is_none());
    }
}
