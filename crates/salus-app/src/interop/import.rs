//! FHIR data taken in: a bundle (a Synthea patient's transaction, a batch, a collection)
//! or a file of NDJSON resources, mapped into Salus's own records — patients, their
//! visits, vital signs, immunizations and allergies, ICD-10-CM coded conditions, and the
//! practitioners who saw them. What has no place in Salus's records yet is counted by type
//! and reason in the report, never dropped silently.
//!
//! Every row's id is derived from the source's own id (a UUID v5 of `Type/id`), so taking
//! the same data in again finds its rows already there and creates nothing new, and an
//! import stopped half-way is resumed by running it again. Each bundle is one transaction,
//! with one audit event per patient whose record it writes.
//!
//! The FHIR door hands in a client's transaction the same way ([`Importer::door`]), with
//! two differences: a reference to something outside the bundle names Salus's own record
//! (resolved by the door beforehand, never guessed), and nothing may be left behind — an
//! entry that cannot be taken in refuses the whole bundle, with the reason. There the
//! caller's own permissions decide (registering patients, clinical writing, recording
//! vital signs), and each existing patient written to is checked like any clinical write.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use salus_core::Role;
use salus_core::clinical::{
    AllergyStatus, ClinicalStatus, CodeSystem, EncounterClass, EncounterStatus, Severity,
};
use salus_core::patients::Mrn;
use salus_db::entity::{allergy, diagnosis, encounter, immunization, patient, vital};
use salus_db::interop::{self as q, Owned};
use salus_db::patients as patients_q;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::identity::{NewUser, Permission};
use crate::{AppError, Ctx};

/// The namespace of the ids derived from a source's ids.
const NAMESPACE: Uuid = Uuid::from_u128(0x5a1a_5f41_0000_7000_8000_0000_0000_0001);

/// The local id of the source's `Type/id`.
pub fn local_id(resource_type: &str, source_id: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{resource_type}/{source_id}").as_bytes())
}

/// What an import did, resource by resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Resources read.
    pub read: u64,
    /// Records created, by kind.
    pub created: BTreeMap<&'static str, u64>,
    /// Resources whose records were already there (an import run again).
    pub already: u64,
    /// Resources not taken in, by "Type: why".
    pub unmapped: BTreeMap<String, u64>,
}

impl ImportReport {
    fn skip(&mut self, ty: &str, why: &str) {
        *self.unmapped.entry(format!("{ty}: {why}")).or_default() += 1;
    }

    fn made(&mut self, kind: &'static str, n: u64) {
        if n > 0 {
            *self.created.entry(kind).or_default() += n;
        }
    }
}

/// Vital signs by LOINC code: which column, and the factor from the FHIR unit to its unit.
const VITALS: &[(&str, &str, f64)] = &[
    ("8310-5", "temperature", 10.0),
    ("8867-4", "pulse", 1.0),
    ("9279-1", "respiratory_rate", 1.0),
    ("59408-5", "spo2", 1.0),
    ("2708-6", "spo2", 1.0),
    ("29463-7", "weight", 1000.0),
    ("8302-2", "height", 10.0),
    ("39156-5", "bmi", 10.0),
    ("8480-6", "systolic", 1.0),
    ("8462-4", "diastolic", 1.0),
];

/// A vital sign column's measurement as the FHIR door serves it (`Observation/{set}-hr`).
fn vital_slug(column: &str) -> &'static str {
    match column {
        "temperature" => "temp",
        "pulse" => "hr",
        "respiratory_rate" => "rr",
        "spo2" => "spo2",
        "weight" => "wt",
        "height" => "ht",
        "bmi" => "bmi",
        _ => "bp",
    }
}

fn codes(concept: &Value) -> impl Iterator<Item = (&str, &str)> {
    concept["coding"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c["system"].as_str()?, c["code"].as_str()?)))
}

fn text_of(concept: &Value) -> Option<String> {
    concept["text"]
        .as_str()
        .or_else(|| concept["coding"].as_array()?.iter().find_map(|c| c["display"].as_str()))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn instant(v: &Value) -> Option<DateTime<Utc>> {
    let s = v.as_str()?;
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).ok().or_else(|| {
        NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0).map(|d| d.and_utc())
    })
}

fn date(v: &Value) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(v.as_str()?.get(..10)?, "%Y-%m-%d").ok()
}

/// A bundle's references resolved: `urn:uuid:…` full URLs and `Type/id` to the local ids.
struct Refs<'a> {
    by_full_url: HashMap<String, (String, String)>,
    /// Through the door: references resolved to Salus's own records.
    door: Option<&'a HashMap<String, Uuid>>,
}

impl<'a> Refs<'a> {
    fn of(entries: &[Value], door: Option<&'a HashMap<String, Uuid>>) -> Refs<'a> {
        let by_full_url = entries
            .iter()
            .filter_map(|e| {
                let r = &e["resource"];
                Some((
                    e["fullUrl"].as_str()?.to_owned(),
                    (r["resourceType"].as_str()?.to_owned(), r["id"].as_str()?.to_owned()),
                ))
            })
            .collect();
        Refs { by_full_url, door }
    }

    /// The type and source id a reference names.
    fn target(&self, reference: &Value) -> Option<(String, String)> {
        let r = reference["reference"].as_str()?;
        if let Some(t) = self.by_full_url.get(r) {
            return Some(t.clone());
        }
        let mut parts = r.rsplit('/');
        let id = parts.next()?;
        let ty = parts.next()?;
        Some((ty.to_owned(), id.to_owned()))
    }

    fn local(&self, reference: &Value, ty: &str) -> Option<Uuid> {
        if let Some(door) = self.door {
            let r = reference["reference"].as_str()?;
            if let Some((t, id)) = self.by_full_url.get(r) {
                return (t == ty).then(|| local_id(t, id));
            }
            // `Type/id`, `Type?criteria`, or either after the server's base.
            let named = r
                .split('?')
                .next()
                .unwrap_or(r)
                .rsplit('/')
                .find(|s| s.chars().next().is_some_and(|c| c.is_ascii_uppercase()));
            return door.get(r).copied().filter(|_| named == Some(ty));
        }
        self.target(reference).filter(|(t, _)| t == ty).map(|(t, id)| local_id(&t, &id))
    }
}

/// What one bundle's patients' records become.
#[derive(Default)]
struct Batch {
    patients: Vec<(patient::Model, Vec<(String, String)>)>,
    encounters: Vec<encounter::Model>,
    vitals: Vec<vital::Model>,
    immunizations: Vec<immunization::Model>,
    allergies: Vec<allergy::Model>,
    diagnoses: Vec<diagnosis::Model>,
}

impl Batch {
    /// The patients the batch's clinical records belong to (with repeats).
    fn records_of(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.encounters
            .iter()
            .map(|e| e.patient_id)
            .chain(self.vitals.iter().map(|v| v.patient_id))
            .chain(self.immunizations.iter().map(|i| i.patient_id))
            .chain(self.allergies.iter().map(|a| a.patient_id))
            .chain(self.diagnoses.iter().map(|d| d.patient_id))
    }
}

/// An import under way: the practitioners seen so far (by source id, their accounts'
/// ids), what it did, and, for a bundle handed in through the FHIR door, the references
/// resolved beforehand.
#[derive(Default)]
pub struct Importer {
    practitioners: HashMap<String, Uuid>,
    pub report: ImportReport,
    door: Option<HashMap<String, Uuid>>,
}

impl Importer {
    /// An import of files: references name the source's own ids, and what cannot be
    /// mapped is counted.
    pub fn new() -> Self {
        Self::default()
    }

    /// A client's bundle through the FHIR door: `resolved` holds each reference the
    /// bundle makes to Salus's own records (`Patient/…`, and conditional references found
    /// by search) with the record's id; any other reference must be an entry's full URL.
    pub fn door(resolved: HashMap<String, Uuid>) -> Self {
        Self { door: Some(resolved), ..Self::default() }
    }
}

/// What became of one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Held as this resource (`Observation/{set}-hr` for a vital sign); `created` is
    /// false where it was there already (the same data taken in again).
    Stored { resource_type: &'static str, id: String, created: bool },
    /// Not taken in, and why.
    Skipped(String),
}

impl crate::Interop<'_> {
    /// Takes in one bundle's entries, or a run of NDJSON resources (as entries with no
    /// full URL), in one transaction.
    /// What became of each entry is answered in the entries' order.
    pub async fn import_fhir(
        &self,
        ctx: &Ctx,
        importer: &mut Importer,
        entries: Vec<Value>,
    ) -> Result<Vec<Outcome>, AppError> {
        let door = importer.door.take();
        let result = self.import_entries(ctx, importer, door.as_ref(), &entries).await;
        importer.door = door;
        result
    }

    async fn import_entries(
        &self,
        ctx: &Ctx,
        importer: &mut Importer,
        door: Option<&HashMap<String, Uuid>>,
        entries: &[Value],
    ) -> Result<Vec<Outcome>, AppError> {
        if door.is_none() {
            self.authorize(ctx, Permission::PatientsRegister).await?;
            self.authorize(ctx, Permission::ClinicalWrite).await?;
        }
        let refs = Refs::of(entries, door);
        importer.report.read += entries.len() as u64;
        let mut outcomes = vec![Outcome::Skipped(String::new()); entries.len()];
        // Each entry taken in: its index, the kind and id of the row it became, and the
        // resource it is read back as.
        let mut pending: Vec<(usize, Owned, Uuid, &'static str, String)> = Vec::new();
        // Practitioners first: a visit names its doctor, who must have an account. Through
        // the door they are Salus's staff already, kept by its administrators.
        for e in entries.iter().filter(|_| door.is_none()) {
            let r = &e["resource"];
            if r["resourceType"] == "Practitioner" {
                let Some(id) = r["id"].as_str() else { continue };
                self.practitioner(ctx, &mut importer.practitioners, id, r, &mut importer.report).await?;
            }
        }
        let mut batch = Batch::default();
        // Vital signs taken together (one encounter, one moment) are one set in Salus.
        let mut vital_sets: BTreeMap<(Uuid, Option<Uuid>, DateTime<Utc>), vital::Model> = BTreeMap::new();
        let now = Utc::now();
        for (i, e) in entries.iter().enumerate() {
            let r = &e["resource"];
            let ty = r["resourceType"].as_str().unwrap_or("(no type)");
            let mut skip = |why: &str| outcomes[i] = Outcome::Skipped(why.to_owned());
            let Some(source) = r["id"].as_str() else {
                skip("no id");
                continue;
            };
            let id = local_id(ty, source);
            match ty {
                "Practitioner" if door.is_none() => {}
                "Patient" => match patient_row(r, id, now) {
                    Some(p) => {
                        batch.patients.push(p);
                        pending.push((i, Owned::Patient, id, "Patient", id.to_string()));
                    }
                    None => skip("no name"),
                },
                "Encounter" => {
                    let Some(patient) = refs.local(&r["subject"], "Patient") else {
                        skip("no patient");
                        continue;
                    };
                    let doctor = r["participant"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|p| refs.target(&p["individual"]))
                        .find_map(|(t, pid)| {
                            (t == "Practitioner").then(|| importer.practitioners.get(&pid).copied()).flatten()
                        })
                        .or_else(|| {
                            r["participant"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .find_map(|p| refs.local(&p["individual"], "Practitioner"))
                        });
                    let doctor = match (doctor, door) {
                        (Some(d), _) => d,
                        // Through the door, a visit naming none of Salus's staff is the
                        // caller's own.
                        (None, Some(_)) => match &ctx.actor {
                            crate::identity::Actor::User(u) => u.id.as_uuid(),
                            _ => {
                                skip("no practitioner of Salus's staff");
                                continue;
                            }
                        },
                        (None, None) => {
                            self.practitioner(
                                ctx,
                                &mut importer.practitioners,
                                "unknown",
                                &Value::Null,
                                &mut importer.report,
                            )
                            .await?
                        }
                    };
                    let Some(started) = instant(&r["period"]["start"]) else {
                        skip("no start");
                        continue;
                    };
                    let status = match r["status"].as_str() {
                        Some("finished") => EncounterStatus::Finished,
                        Some("in-progress" | "arrived" | "triaged" | "onleave") => {
                            EncounterStatus::InProgress
                        }
                        Some("entered-in-error") => EncounterStatus::EnteredInError,
                        _ => {
                            skip("planned or cancelled");
                            continue;
                        }
                    };
                    let class = match r["class"]["code"].as_str() {
                        Some("EMER") => EncounterClass::Emergency,
                        Some("IMP" | "ACUTE" | "NONAC") => EncounterClass::Inpatient,
                        _ => EncounterClass::Outpatient,
                    };
                    let complaint = r["reasonCode"]
                        .get(0)
                        .and_then(text_of)
                        .or_else(|| r["type"].get(0).and_then(text_of));
                    pending.push((i, Owned::Encounter, id, "Encounter", id.to_string()));
                    batch.encounters.push(encounter::Model {
                        id,
                        patient_id: patient,
                        appointment_id: None,
                        class,
                        status,
                        doctor_id: doctor,
                        department_id: None,
                        chief_complaint: complaint,
                        started_at: started,
                        ended_at: instant(&r["period"]["end"]),
                        error_reason: (status == EncounterStatus::EnteredInError)
                            .then(|| "entered in error at the source".to_owned()),
                        created_by: None,
                        created_at: now,
                        updated_at: now,
                        version: 1,
                    });
                }
                "Observation" => {
                    let vital = r["category"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|c| codes(c).any(|(_, code)| code == "vital-signs"));
                    if !vital {
                        skip("laboratory and other observations need their order in Salus");
                        continue;
                    }
                    let (Some(patient), Some(at)) =
                        (refs.local(&r["subject"], "Patient"), instant(&r["effectiveDateTime"]))
                    else {
                        skip("no patient or time");
                        continue;
                    };
                    let encounter = refs.local(&r["encounter"], "Encounter");
                    let mut measured: Vec<(&str, f64)> = Vec::new();
                    for (_, code) in codes(&r["code"]) {
                        if let Some(v) = r["valueQuantity"]["value"].as_f64() {
                            measured.extend(
                                VITALS.iter().filter(|(c, _, _)| *c == code).map(|(_, col, f)| (*col, v * f)),
                            );
                        }
                    }
                    for c in r["component"].as_array().into_iter().flatten() {
                        for (_, code) in codes(&c["code"]) {
                            if let Some(v) = c["valueQuantity"]["value"].as_f64() {
                                measured.extend(
                                    VITALS
                                        .iter()
                                        .filter(|(k, _, _)| *k == code)
                                        .map(|(_, col, f)| (*col, v * f)),
                                );
                            }
                        }
                    }
                    let Some(slug) = measured.first().map(|(column, _)| vital_slug(column)) else {
                        skip("a vital sign Salus does not record");
                        continue;
                    };
                    let set = vital_sets.entry((patient, encounter, at)).or_insert_with(|| vital::Model {
                        id: local_id(
                            "Observation-set",
                            &format!("{patient}/{encounter:?}/{}", at.timestamp()),
                        ),
                        encounter_id: encounter,
                        patient_id: patient,
                        recorded_at: at,
                        recorded_by: None,
                        temperature_dc: None,
                        pulse_bpm: None,
                        systolic: None,
                        diastolic: None,
                        respiratory_rate: None,
                        spo2: None,
                        weight_g: None,
                        height_mm: None,
                        bmi_x10: None,
                        error_reason: None,
                    });
                    pending.push((i, Owned::Vitals, set.id, "Observation", format!("{}-{slug}", set.id)));
                    for (column, value) in measured {
                        let v = Some(value.round() as i32);
                        match column {
                            "temperature" => set.temperature_dc = v,
                            "pulse" => set.pulse_bpm = v,
                            "respiratory_rate" => set.respiratory_rate = v,
                            "spo2" => set.spo2 = v,
                            "weight" => set.weight_g = v,
                            "height" => set.height_mm = v,
                            "bmi" => set.bmi_x10 = v,
                            "systolic" => set.systolic = v,
                            _ => set.diastolic = v,
                        }
                    }
                }
                "Immunization" => {
                    let (Some(patient), Some(given)) =
                        (refs.local(&r["patient"], "Patient"), date(&r["occurrenceDateTime"]))
                    else {
                        skip("no patient or date");
                        continue;
                    };
                    if r["status"] != "completed" {
                        skip("not given");
                        continue;
                    }
                    let Some(vaccine) = text_of(&r["vaccineCode"]) else {
                        skip("no vaccine named");
                        continue;
                    };
                    pending.push((i, Owned::Immunization, id, "Immunization", id.to_string()));
                    batch.immunizations.push(immunization::Model {
                        id,
                        patient_id: patient,
                        vaccine,
                        dose_number: r["protocolApplied"][0]["doseNumberPositiveInt"]
                            .as_i64()
                            .and_then(|n| i32::try_from(n).ok()),
                        given_on: given,
                        lot_number: r["lotNumber"].as_str().map(str::to_owned),
                        recorded_by: None,
                        recorded_at: instant(&r["recorded"]).unwrap_or(now),
                        error_reason: None,
                    });
                }
                "AllergyIntolerance" => {
                    let (Some(patient), Some(substance)) =
                        (refs.local(&r["patient"], "Patient"), text_of(&r["code"]))
                    else {
                        skip("no patient or substance");
                        continue;
                    };
                    let severity = match (r["reaction"][0]["severity"].as_str(), r["criticality"].as_str()) {
                        (Some("severe"), _) | (None, Some("high")) => Severity::Severe,
                        (Some("moderate"), _) => Severity::Moderate,
                        _ => Severity::Mild,
                    };
                    let status = match r["clinicalStatus"]["coding"][0]["code"].as_str() {
                        Some("inactive") => AllergyStatus::Inactive,
                        Some("resolved") => AllergyStatus::Resolved,
                        _ => AllergyStatus::Active,
                    };
                    pending.push((i, Owned::Allergy, id, "AllergyIntolerance", id.to_string()));
                    batch.allergies.push(allergy::Model {
                        id,
                        patient_id: patient,
                        substance,
                        reaction: r["reaction"][0]["manifestation"].get(0).and_then(text_of),
                        severity,
                        status,
                        recorded_by: None,
                        recorded_at: instant(&r["recordedDate"]).unwrap_or(now),
                        error_reason: None,
                        version: 1,
                    });
                }
                "Condition" => {
                    let Some(patient) = refs.local(&r["subject"], "Patient") else {
                        skip("no patient");
                        continue;
                    };
                    // ICD-10-CM where the source gives it, else SNOMED CT as it came.
                    let coded = codes(&r["code"])
                        .find(|(s, _)| *s == CodeSystem::Icd10Cm.uri())
                        .map(|(_, c)| (CodeSystem::Icd10Cm, c))
                        .or_else(|| {
                            codes(&r["code"])
                                .find(|(s, _)| *s == CodeSystem::SnomedCt.uri())
                                .map(|(_, c)| (CodeSystem::SnomedCt, c))
                        });
                    let Some((code_system, code)) = coded else {
                        skip("coded in neither ICD-10-CM nor SNOMED CT");
                        continue;
                    };
                    pending.push((i, Owned::Diagnosis, id, "Condition", id.to_string()));
                    let resolved = instant(&r["abatementDateTime"]);
                    batch.diagnoses.push(diagnosis::Model {
                        id,
                        patient_id: patient,
                        encounter_id: refs.local(&r["encounter"], "Encounter"),
                        code_system,
                        code: code.to_owned(),
                        description: text_of(&r["code"]).unwrap_or_else(|| code.to_owned()),
                        clinical_status: if resolved.is_some() {
                            ClinicalStatus::Resolved
                        } else {
                            ClinicalStatus::Active
                        },
                        onset_date: date(&r["onsetDateTime"]),
                        recorded_by: None,
                        recorded_at: instant(&r["recordedDate"]).unwrap_or(now),
                        resolved_at: resolved,
                        error_reason: None,
                        version: 1,
                    });
                }
                "Practitioner" => skip("practitioners are Salus's staff, kept by its administrators"),
                _ => skip("not taken in by Salus yet"),
            }
        }
        batch.vitals = vital_sets.into_values().collect();
        for (e, o) in entries.iter().zip(&outcomes) {
            if let Outcome::Skipped(why) = o
                && !why.is_empty()
            {
                importer.report.skip(e["resource"]["resourceType"].as_str().unwrap_or("(no type)"), why);
            }
        }
        if door.is_some()
            && let Some((i, why)) = outcomes.iter().enumerate().find_map(|(i, o)| match o {
                Outcome::Skipped(why) if !why.is_empty() => Some((i, why)),
                _ => None,
            })
        {
            let ty = entries[i]["resource"]["resourceType"].as_str().unwrap_or("(no type)");
            return Err(AppError::field("entry", format!("entry {i} ({ty}) cannot be taken in: {why}")));
        }
        let before = self.write(ctx, batch, &mut importer.report, door.is_some()).await?;
        for (i, kind, row, resource_type, id) in pending {
            let created = !before.contains(&(kind, row));
            outcomes[i] = Outcome::Stored { resource_type, id, created };
        }
        Ok(outcomes)
    }

    /// The account of a practitioner of the source, made on first sight (a doctor's
    /// account with a password nobody is told: the record names them, they do not sign in
    /// until an administrator gives them a password).
    async fn practitioner(
        &self,
        ctx: &Ctx,
        known: &mut HashMap<String, Uuid>,
        source_id: &str,
        r: &Value,
        report: &mut ImportReport,
    ) -> Result<Uuid, AppError> {
        if let Some(id) = known.get(source_id) {
            return Ok(*id);
        }
        let username = format!("ext.{}", &local_id("Practitioner", source_id).simple().to_string()[..12]);
        let identity = self.identity();
        let id = match identity.find_user_by_username(ctx, &username).await {
            Ok(u) => {
                report.already += 1;
                u.id.as_uuid()
            }
            Err(AppError::NotFound(_)) => {
                let name = r["name"][0].clone();
                let display =
                    match (name["prefix"][0].as_str(), name["given"][0].as_str(), name["family"].as_str()) {
                        (p, Some(g), Some(f)) => {
                            format!("{}{g} {f}", p.map(|p| format!("{p} ")).unwrap_or_default())
                        }
                        _ => "Practitioner from an imported record".to_owned(),
                    };
                let display: String = display.chars().filter(|c| !c.is_ascii_digit()).collect();
                let new = NewUser {
                    username,
                    display_name: display.trim().to_owned(),
                    password: None,
                    roles: vec![Role::Doctor],
                };
                let (user, _) = identity.create_user(ctx, new).await?;
                report.made("practitioners", 1);
                user.id.as_uuid()
            }
            Err(e) => return Err(e),
        };
        known.insert(source_id.to_owned(), id);
        Ok(id)
    }

    /// Writes what is not there yet, in one transaction, an audit event per patient.
    /// Answers which rows were there already, by kind, where the door asks (`door`); the
    /// door's caller is first checked for each kind of record and each existing patient.
    async fn write(
        &self,
        ctx: &Ctx,
        mut batch: Batch,
        report: &mut ImportReport,
        door: bool,
    ) -> Result<HashSet<(Owned, Uuid)>, AppError> {
        let mut before = HashSet::new();
        if door {
            self.door_checks(ctx, &batch).await?;
        }
        let txn = self.db.begin_write().await?;
        let ids: Vec<Uuid> = batch.patients.iter().map(|(p, _)| p.id).collect();
        let existing: HashSet<Uuid> = q::existing_patients(&txn, &ids).await?.into_iter().collect();
        report.already += existing.len() as u64;
        before.extend(existing.iter().map(|p| (Owned::Patient, *p)));
        batch.patients.retain(|(p, _)| !existing.contains(&p.id));
        if door {
            // An identifier another record holds is refused, as at the desk.
            let rows: Vec<_> = batch
                .patients
                .iter()
                .flat_map(|(p, ids)| {
                    ids.iter().map(|(system, value)| salus_db::entity::patient_identifier::Model {
                        patient_id: p.id,
                        system: system.clone(),
                        value: value.clone(),
                        unique_key: (system != "insurance").then(|| format!("{system}:{value}")),
                    })
                })
                .collect();
            crate::patients::check_unique_identifiers(&txn, &rows, None).await?;
        }
        if !batch.patients.is_empty() {
            let prefix = self.patients.mrn_prefix.clone();
            let start = patients_q::next_mrn_sequence(&txn, &prefix).await?;
            let n = i64::try_from(batch.patients.len()).unwrap_or(i64::MAX);
            patients_q::raise_mrn_sequence(&txn, &prefix, start + n).await?;
            for (i, (row, _)) in batch.patients.iter_mut().enumerate() {
                row.mrn = Mrn::new(&prefix, u64::try_from(start).unwrap_or(0) + i as u64).to_string();
            }
            let written =
                crate::patients::write_new_patients(&txn, std::mem::take(&mut batch.patients), |r| {
                    format!("Imported from FHIR as {}", r.mrn)
                })
                .await?;
            report.made("patients", written.len() as u64);
        }
        let touched: HashSet<Uuid> = batch.records_of().chain(ids.iter().copied()).collect();
        let known: HashSet<Uuid> = q::existing_patients(&txn, &touched.iter().copied().collect::<Vec<_>>())
            .await?
            .into_iter()
            .collect();
        let missing = |p: &Uuid| !known.contains(p);
        let orphans = batch.encounters.iter().filter(|e| missing(&e.patient_id)).count()
            + batch.vitals.iter().filter(|v| missing(&v.patient_id)).count()
            + batch.immunizations.iter().filter(|i| missing(&i.patient_id)).count()
            + batch.allergies.iter().filter(|a| missing(&a.patient_id)).count()
            + batch.diagnoses.iter().filter(|d| missing(&d.patient_id)).count();
        if orphans > 0 {
            *report
                .unmapped
                .entry("(any): its patient is neither in the data nor in Salus".into())
                .or_default() += orphans as u64;
        }
        batch.encounters.retain(|e| known.contains(&e.patient_id));
        // A vital sign or condition names its visit only if the visit is in Salus.
        let mut visits: HashSet<Uuid> = batch.encounters.iter().map(|e| e.id).collect();
        let named: Vec<Uuid> = batch
            .vitals
            .iter()
            .filter_map(|v| v.encounter_id)
            .chain(batch.diagnoses.iter().filter_map(|d| d.encounter_id))
            .filter(|e| !visits.contains(e))
            .collect();
        visits.extend(q::existing_encounters(&txn, &named).await?);
        if door {
            if let Some(e) = named.iter().find(|e| !visits.contains(e)) {
                return Err(AppError::field("encounter", format!("Encounter/{e} is not known")));
            }
            // A record names a visit of its own patient.
            let of_visit: HashMap<Uuid, Uuid> =
                batch.encounters.iter().map(|e| (e.id, e.patient_id)).collect();
            let named_by = batch
                .vitals
                .iter()
                .filter_map(|v| Some((v.encounter_id?, v.patient_id)))
                .chain(batch.diagnoses.iter().filter_map(|d| Some((d.encounter_id?, d.patient_id))));
            for (visit, patient) in named_by {
                let owner = match of_visit.get(&visit) {
                    Some(p) => Some(*p),
                    None => q::patient_of(&txn, Owned::Encounter, visit).await?,
                };
                if owner != Some(patient) {
                    return Err(AppError::field(
                        "encounter",
                        format!("Encounter/{visit} is another patient's visit"),
                    ));
                }
            }
        }
        if door {
            let kinds = [
                (Owned::Encounter, batch.encounters.iter().map(|r| r.id).collect::<Vec<_>>()),
                (Owned::Vitals, batch.vitals.iter().map(|r| r.id).collect()),
                (Owned::Immunization, batch.immunizations.iter().map(|r| r.id).collect()),
                (Owned::Allergy, batch.allergies.iter().map(|r| r.id).collect()),
                (Owned::Diagnosis, batch.diagnoses.iter().map(|r| r.id).collect()),
            ];
            for (kind, ids) in kinds {
                before.extend(q::existing_of(&txn, kind, &ids).await?.into_iter().map(|id| (kind, id)));
            }
        }
        for v in &mut batch.vitals {
            v.encounter_id = v.encounter_id.filter(|e| visits.contains(e));
        }
        for d in &mut batch.diagnoses {
            d.encounter_id = d.encounter_id.filter(|e| visits.contains(e));
        }
        // One allergy to a substance per patient (as a clinician's entry is).
        let mut substances = HashSet::new();
        batch.allergies.retain(|a| substances.insert((a.patient_id, a.substance.to_lowercase())));
        let counts = q::insert_imported(
            &txn,
            q::Imported {
                encounters: batch.encounters,
                vitals: batch.vitals.into_iter().filter(|v| known.contains(&v.patient_id)).collect(),
                immunizations: batch
                    .immunizations
                    .into_iter()
                    .filter(|i| known.contains(&i.patient_id))
                    .collect(),
                allergies: batch.allergies.into_iter().filter(|a| known.contains(&a.patient_id)).collect(),
                diagnoses: batch.diagnoses.into_iter().filter(|d| known.contains(&d.patient_id)).collect(),
            },
        )
        .await?;
        for (kind, made, already) in counts {
            report.made(kind, made);
            report.already += already;
        }
        for patient in known {
            let event = Event::new("fhir.import", "patient", Some(patient.to_string()))
                .patient(patient)
                .detail(json!({ "source": "fhir" }));
            audit::record(&txn, ctx, event).await?;
        }
        txn.commit().await?;
        Ok(before)
    }

    /// Through the door, the caller may write each kind of record the bundle holds, and
    /// each existing patient it writes to (found, not merged away, not restricted unless
    /// the glass is broken) — as for the same writes anywhere else.
    async fn door_checks(&self, ctx: &Ctx, batch: &Batch) -> Result<(), AppError> {
        if !batch.patients.is_empty() {
            self.authorize(ctx, Permission::PatientsRegister).await?;
        }
        let clinical = !batch.encounters.is_empty() || !batch.diagnoses.is_empty();
        let charted =
            !batch.vitals.is_empty() || !batch.allergies.is_empty() || !batch.immunizations.is_empty();
        let permission = if clinical { Permission::ClinicalWrite } else { Permission::VitalsRecord };
        if clinical {
            self.authorize(ctx, Permission::ClinicalWrite).await?;
        }
        if charted {
            self.authorize(ctx, Permission::VitalsRecord).await?;
        }
        let new: HashSet<Uuid> = batch.patients.iter().map(|(p, _)| p.id).collect();
        let named: HashSet<Uuid> = batch.records_of().filter(|p| !new.contains(p)).collect();
        for patient in named {
            self.clinical()
                .clinical_patient(ctx, salus_core::PatientId::from_uuid(patient), permission)
                .await?;
        }
        Ok(())
    }
}

/// A Patient resource as a new patient row (without MRN) and its identifiers.
fn patient_row(r: &Value, id: Uuid, now: DateTime<Utc>) -> Option<(patient::Model, Vec<(String, String)>)> {
    let names = r["name"].as_array()?;
    let name = names.iter().find(|n| n["use"] == "official").or(names.first())?;
    let given: Vec<&str> = name["given"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    // Synthea numbers its names (Alejandro138): the digits are not part of a name.
    let clean = |s: &str| s.chars().filter(|c| !c.is_ascii_digit()).collect::<String>().trim().to_owned();
    let given_names = clean(&given.join(" "));
    let family_name = clean(name["family"].as_str().unwrap_or_default());
    if given_names.is_empty() && family_name.is_empty() {
        return None;
    }
    let phone = r["telecom"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["system"] == "phone")
        .and_then(|t| t["value"].as_str());
    let email = r["telecom"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["system"] == "email")
        .and_then(|t| t["value"].as_str());
    let address = &r["address"][0];
    let mut identifiers = Vec::new();
    for i in r["identifier"].as_array().into_iter().flatten() {
        let (Some(system), Some(value)) = (i["system"].as_str(), i["value"].as_str()) else { continue };
        let kind = match (system, codes(&i["type"]).next().map(|(_, c)| c)) {
            // Salus's own, as its FHIR door serves them.
            ("urn:salus:id:national_id", _) => "national_id",
            ("urn:salus:id:passport", _) => "passport",
            ("urn:salus:id:driving_licence", _) => "driving_licence",
            ("http://hl7.org/fhir/sid/us-ssn", _) | (_, Some("SS")) => "national_id",
            (_, Some("PPN")) => "passport",
            (_, Some("DL")) => "driving_licence",
            _ => continue,
        };
        identifiers.push((kind.to_owned(), salus_core::patients::normalise_identifier(value)));
    }
    let row = patient::Model {
        id,
        mrn: String::new(),
        given_names,
        family_name,
        sex: r["gender"]
            .as_str()
            .filter(|g| matches!(*g, "female" | "male" | "other"))
            .unwrap_or("unknown")
            .to_owned(),
        birth_date: date(&r["birthDate"]),
        birth_date_estimated: false,
        phone: phone.map(str::to_owned),
        phone_alt: None,
        email: email.map(str::to_owned),
        address_line: address["line"][0].as_str().map(str::to_owned),
        city: address["city"].as_str().map(str::to_owned),
        district: None,
        state: address["state"].as_str().map(str::to_owned),
        postal_code: address["postalCode"].as_str().map(str::to_owned),
        country: address["country"].as_str().map(str::to_owned),
        blood_group: None,
        preferred_language: r["communication"][0]["language"]
            .get("text")
            .and_then(Value::as_str)
            .map(str::to_owned),
        emergency_name: None,
        emergency_phone: None,
        emergency_relation: None,
        insurer: None,
        insurance_policy: None,
        consent_sms: false,
        consent_email: false,
        consent_research: false,
        restricted: false,
        restricted_reason: None,
        active: r["active"].as_bool().unwrap_or(true),
        deceased_at: instant(&r["deceasedDateTime"]),
        merged_into: None,
        version: 1,
        created_at: now,
        updated_at: now,
        search_names: String::new(),
        search_rowid: None,
    };
    Some((row, identifiers))
}
