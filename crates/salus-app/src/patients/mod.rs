//! The master patient index: registration, demographics with history, search while
//! typing, probable duplicates, merge and unmerge, the chart's timeline, photos, and
//! who may see which record (the relationship rules and break-the-glass, in `access`).
//!
//! Every read of a patient leaves an audit event before it returns (through the read
//! auditor's group commit); every write leaves one in its own transaction.

mod access;
mod chart;
mod generate;
mod merge;
pub mod names;
mod search;

use chrono::{DateTime, NaiveDate, Utc};
use salus_core::patients::{self as v, Mrn, Phone, Sex};
use salus_core::{FieldError, PatientId, search as keys};
use salus_db::entity::{patient, patient_identifier, patient_timeline};
use salus_db::patients as q;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

pub use access::{BreakGlassGrant, PatientAction};
pub use chart::{Photo, TimelineEntry};
pub use generate::Generated;
pub use search::{Duplicate, SearchHit};

use crate::audit::{self, Event};
use crate::identity::{Actor, Permission};
use crate::{App, AppError, Ctx};

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

impl Patient {
    pub fn display_name(&self) -> String {
        if self.family_name.is_empty() {
            self.given_names.clone()
        } else {
            format!("{} {}", self.given_names, self.family_name)
        }
    }

    /// Age in whole years today (at death, for the deceased).
    pub fn age(&self) -> Option<i32> {
        let on = self.deceased_at.map_or_else(|| Utc::now().date_naive(), |d| d.date_naive());
        self.birth_date.map(|b| v::age_on(b, on))
    }
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

/// Demographics as typed at a door (form or JSON); checked by [`check_input`].
#[derive(Debug, Clone, Default)]
pub struct PatientInput {
    pub given_names: String,
    pub family_name: String,
    pub sex: String,
    /// A date (ISO or day first), or empty when only an age is known.
    pub birth_date: String,
    /// Age in years when the date of birth is not known (the date is then estimated).
    pub age_years: Option<u32>,
    pub phone: String,
    pub phone_alt: String,
    pub email: String,
    pub address_line: String,
    pub city: String,
    pub district: String,
    pub state: String,
    pub postal_code: String,
    pub country: String,
    pub blood_group: String,
    pub preferred_language: String,
    pub emergency_name: String,
    pub emergency_phone: String,
    pub emergency_relation: String,
    pub insurer: String,
    pub insurance_policy: String,
    pub consent_sms: bool,
    pub consent_email: bool,
    pub consent_research: bool,
    pub restricted: bool,
    pub restricted_reason: String,
    pub identifiers: Vec<(String, String)>,
}

/// Checked demographics: the columns of a row, without id, MRN and bookkeeping.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub given_names: String,
    pub family_name: String,
    pub sex: Sex,
    pub birth_date: Option<NaiveDate>,
    pub birth_date_estimated: bool,
    pub phone: Option<Phone>,
    pub phone_alt: Option<Phone>,
    pub email: Option<String>,
    pub text: [Option<String>; 12],
    pub country: Option<String>,
    pub blood_group: Option<String>,
    pub emergency_phone: Option<Phone>,
    pub consent: [bool; 3],
    pub restricted: bool,
    pub restricted_reason: Option<String>,
    pub identifiers: Vec<(String, String)>,
}

fn opt(s: &str, max: usize, field: &'static str, errors: &mut Vec<FieldError>) -> Option<String> {
    let t = s.trim();
    if t.chars().count() > max {
        errors.push(FieldError::new(field, format!("must be at most {max} characters")));
        return None;
    }
    (!t.is_empty()).then(|| t.to_owned())
}

fn phone(s: &str, cc: &str, field: &'static str, errors: &mut Vec<FieldError>) -> Option<Phone> {
    if s.trim().is_empty() {
        return None;
    }
    Phone::parse(s, cc, field).map_err(|e| errors.push(e)).ok()
}

/// Checks typed demographics against the rules and the identifier types on file.
pub(crate) fn check_input(
    input: &PatientInput,
    country_code: &str,
    types: &[salus_db::entity::identifier_type::Model],
    today: NaiveDate,
) -> Result<Checked, AppError> {
    let mut errors = Vec::new();
    let given_names = opt(&input.given_names, 200, "given_names", &mut errors).unwrap_or_default();
    if given_names.is_empty() && errors.iter().all(|e| e.field != "given_names") {
        errors.push(FieldError::new("given_names", "is required (a single name goes here)"));
    }
    let family_name = opt(&input.family_name, 200, "family_name", &mut errors).unwrap_or_default();
    if keys::tokens(&format!("{given_names} {family_name}")).is_empty() && !given_names.is_empty() {
        errors.push(FieldError::new("given_names", "must contain letters or digits"));
    }
    let sex = input.sex.parse::<Sex>().map_err(|e| errors.push(e)).ok();
    let (birth_date, estimated) = match (input.birth_date.trim(), input.age_years) {
        ("", None) => (None, false),
        ("", Some(age)) => (v::estimated_birth_date(age, today).map_err(|e| errors.push(e)).ok(), true),
        (text, _) => match v::parse_date(text) {
            Some(d) => (v::check_birth_date(d, today).map_err(|e| errors.push(e)).ok(), false),
            None => {
                errors.push(FieldError::new("birth_date", "is not a date (use 1984-03-01 or 01/03/1984)"));
                (None, false)
            }
        },
    };
    let phone_main = phone(&input.phone, country_code, "phone", &mut errors);
    let phone_alt = phone(&input.phone_alt, country_code, "phone_alt", &mut errors);
    let emergency_phone = phone(&input.emergency_phone, country_code, "emergency_phone", &mut errors);
    let email = v::parse_email(&input.email).map_err(|e| errors.push(e)).ok().flatten();
    let country = match input.country.trim() {
        "" => None,
        c if c.len() == 2 && c.chars().all(|x| x.is_ascii_alphabetic()) => Some(c.to_uppercase()),
        _ => {
            errors.push(FieldError::new("country", "must be a two-letter country code (IN, NG, GB…)"));
            None
        }
    };
    let blood_group = v::parse_blood_group(&input.blood_group).map_err(|e| errors.push(e)).ok().flatten();
    let text = [
        opt(&input.address_line, 300, "address_line", &mut errors),
        opt(&input.city, 100, "city", &mut errors),
        opt(&input.district, 100, "district", &mut errors),
        opt(&input.state, 100, "state", &mut errors),
        opt(&input.postal_code, 20, "postal_code", &mut errors),
        opt(&input.preferred_language, 35, "preferred_language", &mut errors),
        opt(&input.emergency_name, 200, "emergency_name", &mut errors),
        opt(&input.emergency_relation, 50, "emergency_relation", &mut errors),
        opt(&input.insurer, 100, "insurer", &mut errors),
        opt(&input.insurance_policy, 64, "insurance_policy", &mut errors),
        None,
        None,
    ];
    let restricted_reason = opt(&input.restricted_reason, 100, "restricted_reason", &mut errors);
    let mut identifiers = Vec::new();
    for (system, value) in &input.identifiers {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let Some(t) = types.iter().find(|t| t.code == *system && t.active) else {
            errors.push(FieldError::new("identifiers", format!("`{system}` is not an identifier type")));
            continue;
        };
        let norm = v::normalise_identifier(value);
        if norm.is_empty() || value.chars().count() > 64 {
            errors
                .push(FieldError::new("identifiers", format!("the {} is not valid", t.name.to_lowercase())));
            continue;
        }
        if identifiers
            .iter()
            .any(|(s, v): &(String, String)| s == system && v::normalise_identifier(v) == norm)
        {
            continue;
        }
        identifiers.push((system.clone(), value.to_owned()));
    }
    match (sex, errors.is_empty()) {
        (Some(sex), true) => Ok(Checked {
            given_names,
            family_name,
            sex,
            birth_date,
            birth_date_estimated: estimated,
            phone: phone_main,
            phone_alt,
            email,
            text,
            country,
            blood_group,
            emergency_phone,
            consent: [input.consent_sms, input.consent_email, input.consent_research],
            restricted: input.restricted,
            restricted_reason: if input.restricted { restricted_reason } else { None },
            identifiers,
        }),
        _ => Err(AppError::Invalid(errors)),
    }
}

impl Checked {
    /// Fills the demographic columns of `row`.
    fn apply(&self, row: &mut patient::Model) {
        row.given_names = self.given_names.clone();
        row.family_name = self.family_name.clone();
        row.sex = self.sex.as_str().to_owned();
        row.birth_date = self.birth_date;
        row.birth_date_estimated = self.birth_date_estimated;
        row.phone = self.phone.as_ref().map(|p| p.as_str().to_owned());
        row.phone_alt = self.phone_alt.as_ref().map(|p| p.as_str().to_owned());
        row.email = self.email.clone();
        let [
            address_line,
            city,
            district,
            state,
            postal_code,
            language,
            e_name,
            e_relation,
            insurer,
            policy,
            _,
            _,
        ] = self.text.clone();
        row.address_line = address_line;
        row.city = city;
        row.district = district;
        row.state = state;
        row.postal_code = postal_code;
        row.preferred_language = language;
        row.emergency_name = e_name;
        row.emergency_relation = e_relation;
        row.insurer = insurer;
        row.insurance_policy = policy;
        row.country = self.country.clone();
        row.blood_group = self.blood_group.clone();
        row.emergency_phone = self.emergency_phone.as_ref().map(|p| p.as_str().to_owned());
        row.consent_sms = self.consent[0];
        row.consent_email = self.consent[1];
        row.consent_research = self.consent[2];
        row.restricted = self.restricted;
        row.restricted_reason = self.restricted_reason.clone();
        row.search_names = keys::tokens(&format!("{} {}", row.given_names, row.family_name)).join(" ");
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
    // Every pair of name words, in either order: a full name typed out finds its exact
    // holders with one key lookup, however common each word is on its own.
    if tokens.len() <= 4 {
        for (i, a) in tokens.iter().enumerate() {
            for b in &tokens[i + 1..] {
                out.push(pair_key(a, b));
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

/// The key of two name words, the same in either order.
pub(crate) fn pair_key(a: &str, b: &str) -> String {
    if a <= b { format!("pr:{a} {b}") } else { format!("pr:{b} {a}") }
}

fn identifier_rows(
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
async fn check_unique_identifiers<C: salus_db::ConnectionTrait>(
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

/// An edit of identifiers: the new ones, the old ones, and the types on file.
type IdentifierEdit =
    (Vec<(String, String)>, Vec<(String, String)>, Vec<salus_db::entity::identifier_type::Model>);

/// A registration's outcome.
#[derive(Debug, Clone)]
pub struct Registered {
    pub patient: Patient,
}

/// What a demographic edit changed: (field, old, new).
fn diff(old: &patient::Model, new: &patient::Model) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    let mut f = |name: &'static str, a: String, b: String| {
        if a != b {
            out.push((name, a, b));
        }
    };
    let o = |x: &Option<String>| x.clone().unwrap_or_default();
    f("given_names", old.given_names.clone(), new.given_names.clone());
    f("family_name", old.family_name.clone(), new.family_name.clone());
    f("sex", old.sex.clone(), new.sex.clone());
    f(
        "birth_date",
        old.birth_date.map(|d| d.to_string()).unwrap_or_default(),
        new.birth_date.map(|d| d.to_string()).unwrap_or_default(),
    );
    f("phone", o(&old.phone), o(&new.phone));
    f("phone_alt", o(&old.phone_alt), o(&new.phone_alt));
    f("email", o(&old.email), o(&new.email));
    f("address_line", o(&old.address_line), o(&new.address_line));
    f("city", o(&old.city), o(&new.city));
    f("district", o(&old.district), o(&new.district));
    f("state", o(&old.state), o(&new.state));
    f("postal_code", o(&old.postal_code), o(&new.postal_code));
    f("country", o(&old.country), o(&new.country));
    f("blood_group", o(&old.blood_group), o(&new.blood_group));
    f("preferred_language", o(&old.preferred_language), o(&new.preferred_language));
    f("emergency_name", o(&old.emergency_name), o(&new.emergency_name));
    f("emergency_phone", o(&old.emergency_phone), o(&new.emergency_phone));
    f("emergency_relation", o(&old.emergency_relation), o(&new.emergency_relation));
    f("insurer", o(&old.insurer), o(&new.insurer));
    f("insurance_policy", o(&old.insurance_policy), o(&new.insurance_policy));
    f("consent_sms", old.consent_sms.to_string(), new.consent_sms.to_string());
    f("consent_email", old.consent_email.to_string(), new.consent_email.to_string());
    f("consent_research", old.consent_research.to_string(), new.consent_research.to_string());
    f("restricted", old.restricted.to_string(), new.restricted.to_string());
    f("restricted_reason", o(&old.restricted_reason), o(&new.restricted_reason));
    f("active", old.active.to_string(), new.active.to_string());
    f(
        "deceased_at",
        old.deceased_at.map(|d| d.to_rfc3339()).unwrap_or_default(),
        new.deceased_at.map(|d| d.to_rfc3339()).unwrap_or_default(),
    );
    out
}

/// One edit in a patient's history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub version: i32,
    pub changed_at: DateTime<Utc>,
    pub changed_by: Option<Uuid>,
    pub changes: serde_json::Value,
}

impl App {
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
        q::insert_patient(&txn, row.clone()).await?;
        q::insert_identifiers(&txn, identifiers).await?;
        let rowid = q::put_search_keys(&txn, id, &keys, &row.search_names, None).await?;
        q::set_search_rowid(&txn, id, rowid).await?;
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
        let row = self.load_for(ctx, id, PatientAction::Read).await?;
        let patient = self.assemble(row).await?;
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

    /// Edits demographics, if the record is still at `expected_version`; keeps the old
    /// and new value of each field in the history.
    #[tracing::instrument(skip_all, fields(patient_id = %id))]
    pub async fn update_patient(
        &self,
        ctx: &Ctx,
        id: PatientId,
        expected_version: i32,
        input: PatientInput,
    ) -> Result<Patient, AppError> {
        let old = self.load_for(ctx, id, PatientAction::Edit).await?;
        let types = q::identifier_types(self.db.reader()).await?;
        let checked =
            check_input(&input, &self.patients.phone_country_code, &types, Utc::now().date_naive())?;
        let mut row = old.clone();
        checked.apply(&mut row);
        let old_ids: Vec<(String, String)> = q::identifiers_of(self.db.reader(), &[old.id])
            .await?
            .into_iter()
            .map(|i| (i.system, i.value))
            .collect();
        self.write_edit(
            ctx,
            old,
            row,
            expected_version,
            Some((checked.identifiers, old_ids, types)),
            "edited",
        )
        .await
    }

    /// Marks a record inactive (or active again).
    pub async fn set_patient_active(
        &self,
        ctx: &Ctx,
        id: PatientId,
        expected_version: i32,
        active: bool,
    ) -> Result<Patient, AppError> {
        let old = self.load_for(ctx, id, PatientAction::Edit).await?;
        let mut row = old.clone();
        row.active = active;
        self.write_edit(
            ctx,
            old,
            row,
            expected_version,
            None,
            if active { "reactivated" } else { "deactivated" },
        )
        .await
    }

    /// Records the patient's death.
    pub async fn record_death(
        &self,
        ctx: &Ctx,
        id: PatientId,
        expected_version: i32,
        at: DateTime<Utc>,
    ) -> Result<Patient, AppError> {
        if at > Utc::now() {
            return Err(AppError::field("deceased_at", "is in the future"));
        }
        let old = self.load_for(ctx, id, PatientAction::Edit).await?;
        if old.birth_date.is_some_and(|b| at.date_naive() < b) {
            return Err(AppError::field("deceased_at", "is before the date of birth"));
        }
        let mut row = old.clone();
        row.deceased_at = Some(at);
        self.write_edit(ctx, old, row, expected_version, None, "deceased").await
    }

    async fn write_edit(
        &self,
        ctx: &Ctx,
        old: patient::Model,
        mut row: patient::Model,
        expected_version: i32,
        identifiers: Option<IdentifierEdit>,
        kind: &str,
    ) -> Result<Patient, AppError> {
        let id = old.id;
        if old.version != expected_version {
            return Err(AppError::VersionConflict { current: Box::new(self.assemble(old).await?) });
        }
        let mut changes = diff(&old, &row);
        let mut new_ids = None;
        if let Some((new, old_ids, types)) = &identifiers {
            let mut a = old_ids.clone();
            let mut b = new.clone();
            a.sort();
            b.sort();
            if a != b {
                let show = |v: &[(String, String)]| {
                    v.iter().map(|(s, x)| format!("{s}:{x}")).collect::<Vec<_>>().join(", ")
                };
                changes.push(("identifiers", show(&a), show(&b)));
                new_ids = Some(identifier_rows(id, new, types));
            }
        }
        if changes.is_empty() {
            return self.assemble(old).await;
        }
        row.version = old.version + 1;
        row.updated_at = Utc::now();
        let txn = self.db.begin_write().await?;
        if let Some(rows) = &new_ids {
            check_unique_identifiers(&txn, rows, Some(id)).await?;
        }
        if !q::update_patient(&txn, row.clone(), expected_version).await? {
            drop(txn);
            let current =
                q::find_patient(self.db.reader(), id).await?.ok_or(AppError::NotFound("patient"))?;
            return Err(AppError::VersionConflict { current: Box::new(self.assemble(current).await?) });
        }
        if let Some(rows) = new_ids {
            q::replace_identifiers(&txn, id, rows).await?;
        }
        let ids_now: Vec<(String, String)> =
            q::identifiers_of(&txn, &[id]).await?.into_iter().map(|i| (i.system, i.value)).collect();
        let rowid =
            q::put_search_keys(&txn, id, &search_keys(&row, &ids_now), &row.search_names, row.search_rowid)
                .await?;
        q::set_search_rowid(&txn, id, rowid).await?;
        let fields: Vec<&str> = changes.iter().map(|c| c.0).collect();
        let json_changes: Vec<serde_json::Value> =
            changes.iter().map(|(f, a, b)| json!({ "field": f, "old": a, "new": b })).collect();
        q::insert_history(
            &txn,
            salus_db::entity::patient_history::Model {
                id: Uuid::now_v7(),
                patient_id: id,
                version: row.version,
                changed_at: row.updated_at,
                changed_by: actor_id(ctx),
                changes: serde_json::Value::Array(json_changes).to_string(),
            },
        )
        .await?;
        let summary = match kind {
            "edited" => format!("Details changed: {}", fields.join(", ").replace('_', " ")),
            "deceased" => "Death recorded".to_owned(),
            "deactivated" => "Record deactivated".to_owned(),
            _ => "Record reactivated".to_owned(),
        };
        q::insert_timeline(&txn, vec![timeline_row(id, kind, summary, ctx)]).await?;
        let event = Event::new(
            match kind {
                "edited" => "patient.update",
                "deceased" => "patient.death",
                _ => "patient.status",
            },
            "patient",
            Some(id.to_string()),
        )
        .patient(id)
        .detail(json!({ "version": row.version, "fields": fields }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        self.assemble(row).await
    }

    /// The record's edits, newest first (audited as a read of the record).
    pub async fn patient_history(&self, ctx: &Ctx, id: PatientId) -> Result<Vec<HistoryEntry>, AppError> {
        self.load_for(ctx, id, PatientAction::Read).await?;
        let rows = q::history_of(self.db.reader(), id.as_uuid(), 200).await?;
        self.reads
            .record(vec![audit::row(
                ctx,
                Event::new("patient.history_read", "patient", Some(id.to_string())).patient(id.as_uuid()),
            )])
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| HistoryEntry {
                version: r.version,
                changed_at: r.changed_at,
                changed_by: r.changed_by,
                changes: serde_json::from_str(&r.changes).unwrap_or(serde_json::Value::Null),
            })
            .collect())
    }
}
