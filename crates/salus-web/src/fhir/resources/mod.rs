//! Salus's records as FHIR R4 resources. The rows stay the truth; each function here is
//! a field-for-field reading of one record, with codes in their systems (LOINC for vital
//! signs and results where the catalog gives one, ICD-10-CM for diagnoses (SNOMED CT for conditions taken in so), UCUM for
//! units, HL7's code systems for statuses and classes). Each shape is checked against the
//! R4 JSON schema by the tests.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use salus_app::organisation::{Department, Facility, StaffMember};
use salus_app::patients::Patient;
use salus_core::clinical::{
    Allergy, AllergyStatus, ClinicalStatus, Diagnosis, Encounter, EncounterStatus, Immunization,
    Prescription, PrescriptionStatus, Severity, VitalSigns,
};
use salus_core::laboratory::{Flag, LabOrder, LabResult, OrderStatus, Priority, ResultStatus};
use serde_json::{Map, Value, json};

mod audit;
mod billing;
mod care;
mod places;
mod scheduling;
pub use audit::audit_event;
pub use billing::{charge_item, claim, coverage, invoice, money};
pub use care::{appointment, document_reference, medication_administration, medication_dispense, specimen};
pub use places::{bed_location, medication, ward_location};
pub use scheduling::{practitioner_role, schedule, slot, slot_id};

pub const LOINC: &str = "http://loinc.org";
pub const UCUM: &str = "http://unitsofmeasure.org";
/// The system of Salus's medical record numbers.
pub const MRN_SYSTEM: &str = "urn:salus:mrn";
const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";

pub fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn meta(version: i32, updated: DateTime<Utc>) -> Value {
    json!({"versionId": version.to_string(), "lastUpdated": instant(updated)})
}

fn reference(ty: &str, id: impl std::fmt::Display) -> Value {
    json!({"reference": format!("{ty}/{id}")})
}

fn coding(system: &str, code: &str, display: Option<&str>) -> Value {
    let mut c = json!({"system": system, "code": code});
    if let Some(d) = display {
        c["display"] = json!(d);
    }
    c
}

fn concept(system: &str, code: &str, display: &str) -> Value {
    json!({"coding": [coding(system, code, Some(display))], "text": display})
}

/// Drops the members that are `null`: FHIR has no nulls, an absent element is left out.
fn clean(mut v: Value) -> Value {
    if let Value::Object(map) = &mut v {
        map.retain(|_, x| !x.is_null());
    }
    v
}

fn object(pairs: Vec<(&str, Value)>) -> Value {
    let mut map = Map::new();
    for (k, v) in pairs {
        if !v.is_null() {
            map.insert(k.to_owned(), v);
        }
    }
    Value::Object(map)
}

pub fn patient(p: &Patient) -> Value {
    let mut identifiers = vec![json!({
        "use": "official",
        "type": concept("http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "Medical record number"),
        "system": MRN_SYSTEM,
        "value": p.mrn,
    })];
    identifiers.extend(
        p.identifiers
            .iter()
            .map(|i| json!({"system": format!("urn:salus:id:{}", i.system), "value": i.value})),
    );
    let mut name = json!({"use": "official", "text": p.display_name()});
    if !p.family_name.is_empty() {
        name["family"] = json!(p.family_name);
    }
    let given: Vec<&str> = p.given_names.split_whitespace().collect();
    if !given.is_empty() {
        name["given"] = json!(given);
    }
    let mut telecom = Vec::new();
    for (system, value, rank) in [("phone", &p.phone, 1), ("phone", &p.phone_alt, 2), ("email", &p.email, 1)]
    {
        if let Some(v) = value {
            telecom.push(json!({"system": system, "value": v, "rank": rank}));
        }
    }
    let address = [&p.address_line, &p.city, &p.district, &p.state, &p.postal_code, &p.country]
        .iter()
        .any(|f| f.is_some())
        .then(|| {
            object(vec![
                ("line", p.address_line.as_ref().map(|l| json!([l])).unwrap_or(Value::Null)),
                ("city", json!(p.city)),
                ("district", json!(p.district)),
                ("state", json!(p.state)),
                ("postalCode", json!(p.postal_code)),
                ("country", json!(p.country)),
            ])
        });
    let contact = p.emergency_name.as_ref().map(|n| {
        object(vec![
            (
                "relationship",
                p.emergency_relation.as_ref().map(|r| json!([{"text": r}])).unwrap_or(Value::Null),
            ),
            ("name", json!({"text": n})),
            (
                "telecom",
                p.emergency_phone
                    .as_ref()
                    .map(|t| json!([{"system": "phone", "value": t}]))
                    .unwrap_or(Value::Null),
            ),
        ])
    });
    object(vec![
        ("resourceType", json!("Patient")),
        ("id", json!(p.id.to_string())),
        ("meta", meta(p.version, p.updated_at)),
        ("identifier", json!(identifiers)),
        ("active", json!(p.active && p.merged_into.is_none())),
        ("name", json!([name])),
        ("telecom", if telecom.is_empty() { Value::Null } else { json!(telecom) }),
        ("gender", json!(p.sex.as_str())),
        ("birthDate", json!(p.birth_date.map(date))),
        ("deceasedDateTime", json!(p.deceased_at.map(instant))),
        ("address", address.map(|a| json!([a])).unwrap_or(Value::Null)),
        ("contact", contact.map(|c| json!([c])).unwrap_or(Value::Null)),
        (
            "communication",
            p.preferred_language.as_ref().map(|l| json!([{"language": {"text": l}}])).unwrap_or(Value::Null),
        ),
        (
            "link",
            p.merged_into
                .map(|to| json!([{"other": reference("Patient", to), "type": "replaced-by"}]))
                .unwrap_or(Value::Null),
        ),
    ])
}

pub fn practitioner(m: &StaffMember) -> Value {
    let u = &m.user;
    let identifier = m.profile.registration_number.as_ref().map(|n| {
        let council = m.profile.registration_council.as_deref().unwrap_or("registration");
        json!([{"system": format!("urn:salus:registration:{}", council.to_lowercase().replace(' ', "-")), "value": n}])
    });
    object(vec![
        ("resourceType", json!("Practitioner")),
        ("id", json!(u.id.to_string())),
        (
            "meta",
            json!({"versionId": m.profile.version.max(1).to_string(), "lastUpdated": instant(u.created_at)}),
        ),
        ("identifier", identifier.unwrap_or(Value::Null)),
        ("active", json!(u.active)),
        ("name", json!([{"text": u.display_name}])),
        (
            "qualification",
            m.profile.qualifications.as_ref().map(|q| json!([{"code": {"text": q}}])).unwrap_or(Value::Null),
        ),
    ])
}

fn organization_type(code: &str, display: &str) -> Value {
    json!([concept("http://terminology.hl7.org/CodeSystem/organization-type", code, display)])
}

pub fn facility(f: &Facility) -> Value {
    object(vec![
        ("resourceType", json!("Organization")),
        ("id", json!(f.id.to_string())),
        ("meta", json!({"versionId": f.version.to_string()})),
        ("identifier", json!([{"system": "urn:salus:facility", "value": f.code}])),
        ("active", json!(f.active)),
        ("type", organization_type("prov", "Healthcare Provider")),
        ("name", json!(f.name)),
        (
            "telecom",
            f.phone.as_ref().map(|p| json!([{"system": "phone", "value": p}])).unwrap_or(Value::Null),
        ),
        ("address", f.address.as_ref().map(|a| json!([{"text": a}])).unwrap_or(Value::Null)),
    ])
}

pub fn department(d: &Department) -> Value {
    json!({
        "resourceType": "Organization",
        "id": d.id.to_string(),
        "meta": {"versionId": d.version.to_string()},
        "identifier": [{"system": "urn:salus:department", "value": d.code}],
        "active": d.active,
        "type": organization_type("dept", "Hospital Department"),
        "name": d.name,
        "partOf": reference("Organization", d.facility_id),
    })
}

pub fn encounter(e: &Encounter) -> Value {
    let status = match e.status {
        EncounterStatus::InProgress => "in-progress",
        EncounterStatus::Finished => "finished",
        EncounterStatus::EnteredInError => "entered-in-error",
    };
    object(vec![
        ("resourceType", json!("Encounter")),
        ("id", json!(e.id.to_string())),
        ("meta", meta(e.version, e.updated_at)),
        ("status", json!(status)),
        ("class", coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", e.class.as_str(), None)),
        ("subject", reference("Patient", e.patient_id)),
        ("participant", json!([{"individual": reference("Practitioner", e.doctor_id)}])),
        ("period", clean(json!({"start": instant(e.started_at), "end": e.ended_at.map(instant)}))),
        ("reasonCode", e.chief_complaint.as_ref().map(|c| json!([{"text": c}])).unwrap_or(Value::Null)),
        ("serviceProvider", e.department_id.map(|d| reference("Organization", d)).unwrap_or(Value::Null)),
    ])
}

pub fn condition(d: &Diagnosis) -> Value {
    let in_error = d.error_reason.is_some();
    let clinical = match d.clinical_status {
        ClinicalStatus::Active => "active",
        ClinicalStatus::Resolved => "resolved",
    };
    let category = if d.encounter_id.is_some() {
        ("encounter-diagnosis", "Encounter Diagnosis")
    } else {
        ("problem-list-item", "Problem List Item")
    };
    object(vec![
        ("resourceType", json!("Condition")),
        ("id", json!(d.id.to_string())),
        ("meta", meta(d.version, d.resolved_at.unwrap_or(d.recorded_at))),
        (
            "clinicalStatus",
            // An entry in error states no clinical status (R4's con-5).
            if in_error {
                Value::Null
            } else {
                concept("http://terminology.hl7.org/CodeSystem/condition-clinical", clinical, clinical)
            },
        ),
        (
            "verificationStatus",
            if in_error {
                concept(
                    "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "entered-in-error",
                    "Entered in Error",
                )
            } else {
                concept(
                    "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "confirmed",
                    "Confirmed",
                )
            },
        ),
        (
            "category",
            json!([concept(
                "http://terminology.hl7.org/CodeSystem/condition-category",
                category.0,
                category.1
            )]),
        ),
        ("code", concept(d.code_system.uri(), &d.code, &d.description)),
        ("subject", reference("Patient", d.patient_id)),
        ("encounter", d.encounter_id.map(|e| reference("Encounter", e)).unwrap_or(Value::Null)),
        ("onsetDateTime", json!(d.onset_date.map(date))),
        ("abatementDateTime", json!(d.resolved_at.map(instant))),
        ("recordedDate", json!(instant(d.recorded_at))),
        ("recorder", d.recorded_by.map(|u| reference("Practitioner", u)).unwrap_or(Value::Null)),
    ])
}

pub fn allergy(a: &Allergy) -> Value {
    let in_error = a.error_reason.is_some();
    let status = match a.status {
        AllergyStatus::Active => "active",
        AllergyStatus::Inactive => "inactive",
        AllergyStatus::Resolved => "resolved",
    };
    let severity = match a.severity {
        Severity::Mild => "mild",
        Severity::Moderate => "moderate",
        Severity::Severe => "severe",
    };
    let reaction =
        a.reaction.as_ref().map(|r| json!([{"manifestation": [{"text": r}], "severity": severity}]));
    object(vec![
        ("resourceType", json!("AllergyIntolerance")),
        ("id", json!(a.id.to_string())),
        ("meta", meta(a.version, a.recorded_at)),
        (
            "clinicalStatus",
            if in_error {
                Value::Null
            } else {
                concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", status, status)
            },
        ),
        (
            "verificationStatus",
            if in_error {
                concept(
                    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                    "entered-in-error",
                    "Entered in Error",
                )
            } else {
                concept(
                    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                    "confirmed",
                    "Confirmed",
                )
            },
        ),
        ("criticality", json!(if a.severity == Severity::Severe { "high" } else { "low" })),
        ("code", json!({"text": a.substance})),
        ("patient", reference("Patient", a.patient_id)),
        ("recordedDate", json!(instant(a.recorded_at))),
        ("recorder", a.recorded_by.map(|u| reference("Practitioner", u)).unwrap_or(Value::Null)),
        ("reaction", reaction.unwrap_or(Value::Null)),
    ])
}

pub fn immunization(i: &Immunization) -> Value {
    object(vec![
        ("resourceType", json!("Immunization")),
        ("id", json!(i.id.to_string())),
        ("meta", json!({"versionId": "1", "lastUpdated": instant(i.recorded_at)})),
        ("status", json!(if i.error_reason.is_some() { "entered-in-error" } else { "completed" })),
        ("vaccineCode", json!({"text": i.vaccine})),
        ("patient", reference("Patient", i.patient_id)),
        ("occurrenceDateTime", json!(date(i.given_on))),
        ("recorded", json!(instant(i.recorded_at))),
        ("lotNumber", json!(i.lot_number)),
        (
            "performer",
            i.recorded_by.map(|u| json!([{"actor": reference("Practitioner", u)}])).unwrap_or(Value::Null),
        ),
        (
            "protocolApplied",
            i.dose_number
                .filter(|n| *n > 0)
                .map(|n| json!([{"doseNumberPositiveInt": n}]))
                .unwrap_or(Value::Null),
        ),
    ])
}

pub fn medication_request(p: &Prescription) -> Value {
    let status = match p.status {
        PrescriptionStatus::Active => "active",
        PrescriptionStatus::Completed => "completed",
        PrescriptionStatus::Stopped => "stopped",
        PrescriptionStatus::EnteredInError => "entered-in-error",
    };
    let mut dispense = Map::new();
    if let Some(q) = p.quantity {
        dispense.insert("quantity".into(), json!({"value": q}));
    }
    if let Some(d) = p.duration_days {
        dispense.insert(
            "expectedSupplyDuration".into(),
            json!({"value": d, "unit": "days", "system": UCUM, "code": "d"}),
        );
    }
    object(vec![
        ("resourceType", json!("MedicationRequest")),
        ("id", json!(p.id.to_string())),
        ("meta", meta(p.version, p.updated_at)),
        ("status", json!(status)),
        ("statusReason", p.status_reason.as_ref().map(|r| json!({"text": r})).unwrap_or(Value::Null)),
        ("intent", json!("order")),
        ("medicationCodeableConcept", json!({"text": p.medicine_name})),
        ("subject", reference("Patient", p.patient_id)),
        ("encounter", p.encounter_id.map(|e| reference("Encounter", e)).unwrap_or(Value::Null)),
        ("authoredOn", json!(instant(p.created_at))),
        ("requester", reference("Practitioner", p.prescriber_id)),
        (
            "dosageInstruction",
            json!([object(vec![
                ("text", json!(format!("{} {} {}", p.dose, p.route, p.frequency))),
                ("patientInstruction", json!(p.instructions)),
                ("route", json!({"text": p.route})),
            ])]),
        ),
        ("dispenseRequest", if dispense.is_empty() { Value::Null } else { Value::Object(dispense) }),
    ])
}

/// One measurement of a set of vital signs: its id suffix, LOINC code and name, unit,
/// and the value in that unit.
struct Vital {
    slug: &'static str,
    loinc: &'static str,
    name: &'static str,
    profile: &'static str,
    unit: &'static str,
    value: f64,
}

fn vital_list(v: &VitalSigns) -> Vec<Vital> {
    let tenth = |x: i32| f64::from(x) / 10.0;
    let mut out = Vec::new();
    let mut add = |slug, loinc, name, profile, unit, value: Option<f64>| {
        if let Some(value) = value {
            out.push(Vital { slug, loinc, name, profile, unit, value });
        }
    };
    add("temp", "8310-5", "Body temperature", "bodytemp", "Cel", v.temperature_dc.map(tenth));
    add("hr", "8867-4", "Heart rate", "heartrate", "/min", v.pulse_bpm.map(f64::from));
    add("rr", "9279-1", "Respiratory rate", "resprate", "/min", v.respiratory_rate.map(f64::from));
    add(
        "spo2",
        "59408-5",
        "Oxygen saturation in Arterial blood by Pulse oximetry",
        "oxygensat",
        "%",
        v.spo2.map(f64::from),
    );
    add("wt", "29463-7", "Body weight", "bodyweight", "kg", v.weight_g.map(|g| f64::from(g) / 1000.0));
    add("ht", "8302-2", "Body height", "bodyheight", "cm", v.height_mm.map(tenth));
    add("bmi", "39156-5", "Body mass index (BMI) [Ratio]", "bmi", "kg/m2", v.bmi_x10.map(tenth));
    out
}

fn quantity(value: f64, unit: &str) -> Value {
    json!({"value": value, "unit": unit, "system": UCUM, "code": unit})
}

fn vital_observation(v: &VitalSigns, id: String, code: Value, profile: &str) -> Value {
    object(vec![
        ("resourceType", json!("Observation")),
        ("id", json!(id)),
        (
            "meta",
            json!({
                "versionId": "1",
                "lastUpdated": instant(v.recorded_at),
                "profile": [format!("http://hl7.org/fhir/StructureDefinition/{profile}")],
            }),
        ),
        ("status", json!(if v.error_reason.is_some() { "entered-in-error" } else { "final" })),
        ("category", json!([concept(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")])),
        ("code", code),
        ("subject", reference("Patient", v.patient_id)),
        ("encounter", v.encounter_id.map(|e| reference("Encounter", e)).unwrap_or(Value::Null)),
        ("effectiveDateTime", json!(instant(v.recorded_at))),
        ("performer", v.recorded_by.map(|u| json!([reference("Practitioner", u)])).unwrap_or(Value::Null)),
    ])
}

/// A set of vital signs as the vital-signs profile's Observations: one per measurement,
/// blood pressure as one panel with its two components. Each id is the set's id and the
/// measurement (`…-hr`), so it reads back.
pub fn vital_observations(v: &VitalSigns) -> Vec<Value> {
    let mut out: Vec<Value> = vital_list(v)
        .into_iter()
        .map(|m| {
            let mut o = vital_observation(
                v,
                format!("{}-{}", v.id, m.slug),
                concept(LOINC, m.loinc, m.name),
                m.profile,
            );
            o["valueQuantity"] = quantity(m.value, m.unit);
            o
        })
        .collect();
    if let (Some(sys), Some(dia)) = (v.systolic, v.diastolic) {
        let mut o = vital_observation(
            v,
            format!("{}-bp", v.id),
            concept(LOINC, "85354-9", "Blood pressure panel with all children optional"),
            "bp",
        );
        o["component"] = json!([
            {"code": concept(LOINC, "8480-6", "Systolic blood pressure"), "valueQuantity": quantity(f64::from(sys), "mm[Hg]")},
            {"code": concept(LOINC, "8462-4", "Diastolic blood pressure"), "valueQuantity": quantity(f64::from(dia), "mm[Hg]")},
        ]);
        out.push(o);
    }
    out
}

/// A released laboratory result as an Observation.
pub fn lab_observation(r: &LabResult) -> Value {
    let status = match (r.status, r.revision) {
        (ResultStatus::Preliminary, _) => "preliminary",
        (ResultStatus::Corrected, _) => "corrected",
        (ResultStatus::Final, rev) if rev > 1 => "amended",
        (ResultStatus::Final, _) => "final",
    };
    let code = match &r.loinc {
        Some(l) => json!({"coding": [coding(LOINC, l, Some(&r.analyte))], "text": r.analyte}),
        None => json!({"text": r.analyte}),
    };
    let value = match (r.value_num, &r.value_text) {
        (Some(n), _) => ("valueQuantity", {
            let unit = r.unit.clone().unwrap_or_default();
            if unit.is_empty() { json!({"value": n}) } else { quantity(n, &unit) }
        }),
        (None, Some(t)) => ("valueString", json!(t)),
        (None, None) => ("valueString", Value::Null),
    };
    let range = (r.ref_low.is_some() || r.ref_high.is_some() || r.range_text.is_some()).then(|| {
        let unit = r.unit.clone().unwrap_or_default();
        let bound = |v: Option<f64>| match v {
            Some(x) if unit.is_empty() => json!({"value": x}),
            Some(x) => quantity(x, &unit),
            None => Value::Null,
        };
        json!([object(vec![
            ("low", bound(r.ref_low)),
            ("high", bound(r.ref_high)),
            ("text", json!(r.range_text))
        ])])
    });
    object(vec![
        ("resourceType", json!("Observation")),
        ("id", json!(r.id.to_string())),
        (
            "meta",
            json!({"versionId": r.revision.to_string(), "lastUpdated": instant(r.verified_at.unwrap_or(r.entered_at))}),
        ),
        ("status", json!(status)),
        ("category", json!([concept(OBSERVATION_CATEGORY, "laboratory", "Laboratory")])),
        ("code", code),
        ("basedOn", json!([reference("ServiceRequest", r.order_id)])),
        ("subject", reference("Patient", r.patient_id)),
        ("effectiveDateTime", json!(instant(r.collected_at))),
        ("issued", json!(r.verified_at.map(instant))),
        ("performer", r.verified_by.map(|u| json!([reference("Practitioner", u)])).unwrap_or(Value::Null)),
        (value.0, value.1),
        (
            "interpretation",
            r.flag
                .map(|f| {
                    let display = match f {
                        Flag::CriticalLow => "Critical low",
                        Flag::Low => "Low",
                        Flag::High => "High",
                        Flag::CriticalHigh => "Critical high",
                        Flag::Abnormal => "Abnormal",
                    };
                    json!([concept(
                        "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                        f.as_str(),
                        display
                    )])
                })
                .unwrap_or(Value::Null),
        ),
        ("specimen", reference("Specimen", r.specimen_id)),
        ("referenceRange", range.unwrap_or(Value::Null)),
    ])
}

/// A laboratory order line as the request it is: one test, for one patient, by one
/// doctor, with its requisition (the order form it was on) as the shared identifier.
pub fn service_request(o: &LabOrder) -> Value {
    let status = match o.status {
        OrderStatus::Ordered | OrderStatus::Collected | OrderStatus::Received | OrderStatus::Resulted => {
            "active"
        }
        OrderStatus::Verified => "completed",
        OrderStatus::Cancelled => "revoked",
    };
    let priority = match o.priority {
        Priority::Routine => "routine",
        Priority::Urgent => "urgent",
        Priority::Stat => "stat",
    };
    let notes: Vec<Value> = [o.clinical_info.as_ref(), o.cancel_reason.as_ref()]
        .into_iter()
        .flatten()
        .map(|t| json!({"text": t}))
        .collect();
    object(vec![
        ("resourceType", json!("ServiceRequest")),
        ("id", json!(o.id.to_string())),
        ("meta", meta(o.version, o.updated_at)),
        ("requisition", json!({"system": "urn:salus:requisition", "value": o.requisition_id.to_string()})),
        ("status", json!(status)),
        ("intent", json!("order")),
        ("category", json!([concept("http://snomed.info/sct", "108252007", "Laboratory procedure")])),
        ("priority", json!(priority)),
        ("code", json!({"text": o.test_name})),
        ("subject", reference("Patient", o.patient_id)),
        ("encounter", o.encounter_id.map(|e| reference("Encounter", e)).unwrap_or(Value::Null)),
        ("authoredOn", json!(instant(o.created_at))),
        ("requester", reference("Practitioner", o.ordered_by)),
        ("specimen", o.specimen_id.map(|s| json!([reference("Specimen", s)])).unwrap_or(Value::Null)),
        ("note", if notes.is_empty() { Value::Null } else { json!(notes) }),
    ])
}

/// An order's released results as its report: the results it holds, the order it
/// answers. Only an order with a released result has one.
pub fn diagnostic_report(o: &LabOrder, results: &[&LabResult]) -> Option<Value> {
    let first = results.first()?;
    let status = if results.iter().any(|r| r.status == ResultStatus::Corrected) {
        "corrected"
    } else if results.iter().any(|r| r.revision > 1) {
        "amended"
    } else if o.status == OrderStatus::Verified {
        "final"
    } else {
        "partial"
    };
    let issued = results.iter().filter_map(|r| r.verified_at).max();
    let mut interpreters: Vec<Value> = Vec::new();
    for u in results.iter().filter_map(|r| r.verified_by) {
        let r = reference("Practitioner", u);
        if !interpreters.contains(&r) {
            interpreters.push(r);
        }
    }
    Some(object(vec![
        ("resourceType", json!("DiagnosticReport")),
        ("id", json!(o.id.to_string())),
        ("meta", meta(o.version, issued.unwrap_or(o.updated_at))),
        ("basedOn", json!([reference("ServiceRequest", o.id)])),
        ("status", json!(status)),
        ("category", json!([concept("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB", "Laboratory")])),
        ("code", json!({"text": o.test_name})),
        ("subject", reference("Patient", o.patient_id)),
        ("encounter", o.encounter_id.map(|e| reference("Encounter", e)).unwrap_or(Value::Null)),
        ("effectiveDateTime", json!(instant(first.collected_at))),
        ("issued", json!(issued.map(instant))),
        ("resultsInterpreter", if interpreters.is_empty() { Value::Null } else { json!(interpreters) }),
        ("result", json!(results.iter().map(|r| reference("Observation", r.id)).collect::<Vec<_>>())),
    ]))
}
