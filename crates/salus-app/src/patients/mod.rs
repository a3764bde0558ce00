//! The master patient index: registration, demographics with history, search while
//! typing, probable duplicates, merge and unmerge, the chart's timeline, photos, and
//! who may see which record (the relationship rules and break-the-glass, in `access`).
//!
//! Every read of a patient leaves an audit event before it returns (through the read
//! auditor's group commit); every write leaves one in its own transaction.

mod access;
pub(crate) mod chart;
mod edit;
mod generate;
mod input;
mod merge;
pub mod names;
mod search;

use chrono::{DateTime, NaiveDate, Utc};
use salus_core::patients::{self as v, Mrn, Sex};
use salus_core::{FieldError, PatientId, search as keys};
use salus_db::entity::{patient, patient_identifier, patient_timeline};
use salus_db::patients as q;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

pub use access::{BreakGlassGrant, PatientAction};
pub use chart::{Photo, TimelineEntry};
pub use edit::HistoryEntry;
pub use generate::Generated;
pub(crate) use generate::write_new_patients;
pub use input::PatientInput;
use input::check_input;
pub use search::{Duplicate, SearchHit};

use crate::audit::{self, Event};
use crate::identity::{Actor, Permission};
use crate::{AppError, Ctx};

/// An identifier of a patient: its type (FHIR `system`) and value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identifier {
    pub system: String,
    pub value: String,
}

/// A patient as the doors show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Patient {
    pub id: PatientId,
    pub mrn: String,
    pub given_names: String,
    pub family_name: String,
    pub sex: Sex,
    pub birth_date: Option<NaiveDate>,
    pub birth_date_estimated: bool,
    pub phone: Option<String>,
    pub phone_alt: Option<String>,
    pub email: Option<String>,
    pub address_line: Option<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub blood_group: Option<String>,
    pub preferred_language: Option<String>,
    pub emergency_name: Option<String>,
    pub emergency_phone: Option<String>,
    pub emergency_relation: Option<String>,
    pub insurer: Option<String>,
    pub insurance_policy: Option<String>,
    pub consent_sms: bool,
    pub consent_email: bool,
    pub consent_research: bool,
    pub restricted: bool,
    pub restricted_reason: Option<String>,
    pub active: bool,
    pub deceased_at: Option<DateTime<Utc>>,
    pub merged_into: Option<PatientId>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub identifiers: Vec<Identifier>,
    pub has_photo: bool,
}

/// How a patient is named on a page: given names, then the family name if there is one.
pub(crate) fn display_name(given_names: &str, family_name: &str) -> String {
    if family_name.is_empty() { given_names.to_owned() } else { format!("{given_names} {family_name}") }
}

impl Patient {
    pub fn display_name(&self) -> String {
        display_name(&self.given_names, &self.family_name)
    }

    /// Age in whole years today (at death, for the deceased).
    pub fn age(&self) -> Option<i32> {
        let on = self.deceased_at.map_or_else(|| Utc::now().date_naive(), |d| d.date_naive());
        self.birth_date.map(|b| v::age_on(b, on))
    }
}

pub(crate) fn to_whole_patient(whole: q::WholePatient) -> Patient {
    let ids = whole.identifiers.into_iter().map(|(system, value)| Identifier { system, value }).collect();
    to_patient(whole.row, ids, whole.has_photo)
}

fn to_patient(row: patient::Model, identifiers: Vec<Identifier>, has_photo: bool) -> Patient {
    Patient {
        id: PatientId::from_uuid(row.id),
        mrn: row.mrn,
        given_names: row.given_names,
        family_name: row.family_name,
        sex: row.sex.parse().unwrap_or(Sex::Unknown),
        birth_date: row.birth_date,
        birth_date_estimated: row.birth_date_estimated,
        phone: row.phone,
        phone_alt: row.phone_alt,
        email: row.email,
        address_line: row.address_line,
        city: row.city,
        district: row.district,
        state: row.state,
        postal_code: row.postal_code,
        country: row.country,
        blood_group: row.blood_group,
        preferred_language: row.preferred_language,
        emergency_name: row.emergency_name,
        emergency_phone: row.emergency_phone,
        emergency_relation: row.emergency_relation,
        insurer: row.insurer,
        insurance_policy: row.insurance_policy,
        consent_sms: row.consent_sms,
        consent_email: row.consent_email,
        consent_research: row.consent_research,
        restricted: row.restricted,
        restricted_reason: row.restricted_reason,
        active: row.active,
        deceased_at: row.deceased_at,
        merged_into: row.merged_into.map(PatientId::from_uuid),
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
        identifiers,
        has_photo,
    }
}

/// The exact search keys of a patient (see `patient_key`).
pub(crate) fn search_keys(row: &patient::Model, identifiers: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    let tokens: Vec<&str> = row.search_names.split(' ').filter(|t| !t.is_empty()).collect();
    for t in &tokens {
        out.push(format!("n:{t}"));
        out.extend(keys::phonetic(t).into_iter().map(|c| format!("p:{c}")));
    }
    // Every pair of name words, in both orders: a name being typed ("ravi ku") reads the
    // keys starting "pr:ravi ku", its holders only, however common each word is alone.
    if tokens.len() <= 4 {
        for (i, a) in tokens.iter().enumerate() {
            for (j, b) in tokens.iter().enumerate() {
                if i != j {
                    out.push(format!("pr:{a} {b}"));
                }
            }
        }
    }
    out.push(format!("mrn:{}", row.mrn));
    for p in [&row.phone, &row.phone_alt].into_iter().flatten() {
        let d: String = p.chars().filter(char::is_ascii_digit).collect();
        if let Some(k) = v::phone_search_key(&d) {
            out.push(format!("ph:{k}"));
        }
    }
    for (_, value) in identifiers {
        out.push(format!("id:{}", v::normalise_identifier(value)));
    }
    if let Some(d) = row.birth_date {
        out.push(format!("dob:{}", d.format("%Y-%m-%d")));
    }
    out.sort();
    out.dedup();
    out.into_iter().map(|k| k.chars().take(80).collect()).collect()
}

pub(crate) fn identifier_rows(
    patient_id: Uuid,
    ids: &[(String, String)],
    types: &[salus_db::entity::identifier_type::Model],
) -> Vec<patient_identifier::Model> {
    ids.iter()
        .map(|(system, value)| patient_identifier::Model {
            patient_id,
            system: system.clone(),
            value: value.clone(),
            unique_key: types
                .iter()
                .any(|t| t.code == *system && t.is_unique)
                .then(|| format!("{system}:{}", v::normalise_identifier(value))),
        })
        .collect()
}

/// Refuses identifiers of unique types already held by another patient, naming them.
pub(crate) async fn check_unique_identifiers<C: salus_db::ConnectionTrait>(
    conn: &C,
    rows: &[patient_identifier::Model],
    this: Option<Uuid>,
) -> Result<(), AppError> {
    let keys: Vec<String> = rows.iter().filter_map(|r| r.unique_key.clone()).collect();
    let held: Vec<(String, Uuid)> =
        q::identifier_holders(conn, &keys).await?.into_iter().filter(|(_, id)| Some(*id) != this).collect();
    if held.is_empty() {
        return Ok(());
    }
    let mut errors = Vec::new();
    for (key, holder) in held {
        let mrn = q::find_patient(conn, holder).await?.map(|p| p.mrn).unwrap_or_default();
        let (system, _) = key.split_once(':').unwrap_or((&key, ""));
        errors.push(FieldError::new(
            "identifiers",
            format!("this {system} number is already recorded for patient {mrn}"),
        ));
    }
    Err(AppError::Invalid(errors))
}

pub(crate) fn timeline_row(
    patient_id: Uuid,
    kind: &str,
    summary: String,
    ctx: &Ctx,
) -> patient_timeline::Model {
    patient_timeline::Model {
        id: Uuid::now_v7(),
        patient_id,
        at: Utc::now(),
        kind: kind.to_owned(),
        summary: summary.chars().take(500).collect(),
        actor_id: actor_id(ctx),
    }
}

pub(crate) fn actor_id(ctx: &Ctx) -> Option<Uuid> {
    match &ctx.actor {
        Actor::User(u) => Some(u.id.as_uuid()),
        _ => None,
    }
}

/// A registration's outcome.
#[derive(Debug, Clone)]
pub struct Registered {
    pub patient: Patient,
}

impl crate::Patients<'_> {
    /// The identifier types a registration may use.
    pub async fn identifier_types(&self) -> Result<Vec<salus_db::entity::identifier_type::Model>, AppError> {
        Ok(q::identifier_types(self.db.reader()).await?)
    }

    /// Registers a patient. Unless `not_a_duplicate`, refuses with the probable duplicates
    /// when there are any, so the clerk can open the existing record instead.
    #[tracing::instrument(skip_all)]
    pub async fn register_patient(
        &self,
        ctx: &Ctx,
        input: PatientInput,
        not_a_duplicate: bool,
    ) -> Result<Registered, AppError> {
        self.authorize(ctx, Permission::PatientsRegister).await?;
        let types = q::identifier_types(self.db.reader()).await?;
        let checked =
            check_input(&input, &self.patients.phone_country_code, &types, Utc::now().date_naive())?;
        let now = Utc::now();
        let id = Uuid::now_v7();
        let mut row = patient::Model {
            id,
            mrn: String::new(),
            given_names: String::new(),
            family_name: String::new(),
            sex: String::new(),
            birth_date: None,
            birth_date_estimated: false,
            phone: None,
            phone_alt: None,
            email: None,
            address_line: None,
            city: None,
            district: None,
            state: None,
            postal_code: None,
            country: None,
            blood_group: None,
            preferred_language: None,
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
            active: true,
            deceased_at: None,
            merged_into: None,
            version: 1,
            created_at: now,
            updated_at: now,
            search_names: String::new(),
            search_rowid: None,
        };
        checked.apply(&mut row);
        let identifiers = identifier_rows(id, &checked.identifiers, &types);
        // A unique identifier on file is a hard stop, whatever the clerk confirms.
        check_unique_identifiers(self.db.reader(), &identifiers, None).await?;
        if !not_a_duplicate {
            let dups = self.probable_duplicates(ctx, &row, &checked.identifiers, None).await?;
            if !dups.is_empty() {
                return Err(AppError::PossibleDuplicates(dups));
            }
        }
        let txn = self.db.begin_write().await?;
        check_unique_identifiers(&txn, &identifiers, None).await?;
        let seq = q::next_mrn_sequence(&txn, &self.patients.mrn_prefix).await?;
        row.mrn = Mrn::new(&self.patients.mrn_prefix, u64::try_from(seq).unwrap_or(0)).to_string();
        let keys = search_keys(&row, &checked.identifiers);
        // A new record: its names indexed first, so the row is written once with their
        // place; it has no keys to replace.
        row.search_rowid = q::put_fts(&txn, &[(id, row.search_names.clone(), None)]).await?.pop().flatten();
        q::insert_patient(&txn, row.clone()).await?;
        q::insert_identifiers(&txn, identifiers).await?;
        q::insert_keys(&txn, keys.into_iter().map(|k| (k, id))).await?;
        q::insert_timeline(
            &txn,
            vec![timeline_row(id, "registered", format!("Registered as {}", row.mrn), ctx)],
        )
        .await?;
        let event = Event::new("patient.register", "patient", Some(id.to_string()))
            .patient(id)
            .detail(json!({ "mrn": row.mrn, "duplicates_overridden": not_a_duplicate }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        let ids = checked
            .identifiers
            .iter()
            .map(|(s, v)| Identifier { system: s.clone(), value: v.clone() })
            .collect();
        Ok(Registered { patient: to_patient(row, ids, false) })
    }

    /// A patient's record, if the caller may read it; the read is audited.
    #[tracing::instrument(skip_all, fields(patient_id = %id))]
    pub async fn patient(&self, ctx: &Ctx, id: PatientId) -> Result<Patient, AppError> {
        let patient = to_whole_patient(self.load_whole_for(ctx, id, PatientAction::Read).await?);
        self.reads
            .record(vec![audit::row(
                ctx,
                Event::new("patient.read", "patient", Some(id.to_string())).patient(id.as_uuid()),
            )])
            .await?;
        Ok(patient)
    }

    /// A record by MRN (check digit verified), for the caller who may read it.
    pub async fn patient_by_mrn(&self, ctx: &Ctx, mrn: &str) -> Result<Patient, AppError> {
        let mrn = Mrn::parse(mrn).ok_or(AppError::NotFound("patient"))?;
        let row = q::find_patient_by_mrn(self.db.reader(), mrn.as_str())
            .await?
            .ok_or(AppError::NotFound("patient"))?;
        self.patient(ctx, PatientId::from_uuid(row.id)).await
    }

    pub(crate) async fn assemble(&self, row: patient::Model) -> Result<Patient, AppError> {
        let ids = q::identifiers_of(self.db.reader(), &[row.id])
            .await?
            .into_iter()
            .map(|i| Identifier { system: i.system, value: i.value })
            .collect();
        let photo = q::has_photo(self.db.reader(), row.id).await?;
        Ok(to_patient(row, ids, photo))
    }
}
