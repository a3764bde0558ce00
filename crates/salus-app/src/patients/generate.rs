//! Deterministic patients for the demo and for benchmarks: `salus generate --patients N
//! --seed S` gives the same people for the same seed on either backend. Rows are built in
//! Rust and written a thousand to a transaction through the same search-key code as a
//! registration, so the generated index is searched exactly like a real one. Each batch
//! leaves one audit event naming the MRNs it created.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use salus_core::patients::Mrn;
use salus_core::search as keys;
use salus_db::entity::{patient, patient_identifier, patient_timeline};
use salus_db::patients as q;
use serde_json::json;
use uuid::Uuid;

use super::names::{TRADITIONS, Tradition};
use super::search_keys;
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::{AppError, Ctx};

const BATCH: usize = 1000;

/// What a generation run made.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    pub patients: u64,
    pub first_mrn: String,
    pub last_mrn: String,
    /// The patient given `chart_events` timeline entries, if asked.
    pub busy_patient: Option<Uuid>,
    /// Every patient made, in order.
    pub ids: Vec<Uuid>,
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn tradition(rng: &mut StdRng) -> &'static Tradition {
    let total: u32 = TRADITIONS.iter().map(|t| t.weight).sum();
    let mut n = rng.random_range(0..total);
    for t in TRADITIONS {
        if n < t.weight {
            return t;
        }
        n -= t.weight;
    }
    &TRADITIONS[0]
}

/// One made-up patient (without MRN and search columns).
fn person(rng: &mut StdRng, seq: u64, today: NaiveDate) -> (patient::Model, Vec<(String, String)>) {
    let t = tradition(rng);
    let female = rng.random_bool(0.51);
    let given = if female { pick(rng, t.female) } else { pick(rng, t.male) };
    // A few have two given names, a few (as in much of South India and Indonesia) none
    // but one name at all.
    let mut given_names = (*given).to_owned();
    if rng.random_bool(0.08) {
        given_names =
            format!("{given_names} {}", if female { pick(rng, t.female) } else { pick(rng, t.male) });
    }
    let family_name = if rng.random_bool(0.04) { String::new() } else { (*pick(rng, t.family)).to_owned() };
    let days_old = rng.random_range(0..(95 * 365));
    let birth = today - Duration::days(days_old);
    let now = Utc::now();
    let local: String = (0..9).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect();
    let phone = rng.random_bool(0.85).then(|| format!("+{}{}{local}", t.phone_cc, rng.random_range(6..10)));
    let row = patient::Model {
        id: Uuid::now_v7(),
        mrn: String::new(),
        given_names,
        family_name,
        sex: if female { "female" } else { "male" }.to_owned(),
        birth_date: Some(birth),
        birth_date_estimated: rng.random_bool(0.03),
        phone,
        phone_alt: None,
        email: None,
        address_line: Some(format!("{} Main Road", rng.random_range(1..400))),
        city: Some((*pick(rng, t.cities)).to_owned()),
        district: None,
        state: None,
        postal_code: None,
        country: Some(t.country.to_owned()),
        blood_group: rng
            .random_bool(0.6)
            .then(|| (*pick(rng, &salus_core::patients::BLOOD_GROUPS)).to_owned()),
        preferred_language: Some(t.language.to_owned()),
        emergency_name: None,
        emergency_phone: None,
        emergency_relation: None,
        insurer: None,
        insurance_policy: None,
        consent_sms: rng.random_bool(0.7),
        consent_email: false,
        consent_research: rng.random_bool(0.3),
        restricted: rng.random_bool(0.01),
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
    let mut ids = Vec::new();
    if rng.random_bool(0.4) {
        ids.push(("national_id".to_owned(), format!("{}{seq:010}", t.country)));
    }
    if rng.random_bool(0.1) {
        ids.push(("insurance".to_owned(), format!("INS-{}", rng.random_range(100_000..999_999))));
    }
    (row, ids)
}

/// Writes new patients in `txn` — each row with its MRN set, and its identifiers — through
/// the same search-key code as a registration: their names into the search index, their
/// keys, identifiers, and a first timeline entry (`summary`). Returns the rows as written.
pub(crate) async fn write_new_patients(
    txn: &sea_orm::DatabaseTransaction,
    people: Vec<(patient::Model, Vec<(String, String)>)>,
    summary: impl Fn(&patient::Model) -> String,
) -> Result<Vec<patient::Model>, AppError> {
    let mut rows = Vec::with_capacity(people.len());
    let mut identifiers = Vec::new();
    let mut all_keys = Vec::new();
    let mut timeline = Vec::with_capacity(people.len());
    for (mut row, ids) in people {
        row.search_names = keys::tokens(&format!("{} {}", row.given_names, row.family_name)).join(" ");
        all_keys.extend(search_keys(&row, &ids).into_iter().map(|k| (k, row.id)));
        identifiers.extend(ids.into_iter().map(|(system, value)| patient_identifier::Model {
            patient_id: row.id,
            unique_key: (system != "insurance").then(|| format!("{system}:{value}")),
            system,
            value,
        }));
        timeline.push(patient_timeline::Model {
            id: Uuid::now_v7(),
            patient_id: row.id,
            at: row.created_at,
            kind: "registered".into(),
            summary: summary(&row),
            actor_id: None,
        });
        rows.push(row);
    }
    let fts: Vec<(Uuid, String, Option<i64>)> =
        rows.iter().map(|r| (r.id, r.search_names.clone(), None)).collect();
    for (row, rowid) in rows.iter_mut().zip(q::put_fts(txn, &fts).await?) {
        row.search_rowid = rowid;
    }
    q::insert_patients(txn, rows.clone()).await?;
    q::insert_identifiers(txn, identifiers).await?;
    q::insert_keys(txn, all_keys.into_iter()).await?;
    q::insert_timeline(txn, timeline).await?;
    Ok(rows)
}

impl crate::Patients<'_> {
    /// Makes `count` patients from `seed`; gives the first one `chart_events` timeline
    /// entries (for the chart benchmark). `progress` hears the running total.
    pub async fn generate_patients(
        &self,
        ctx: &Ctx,
        count: u64,
        seed: u64,
        chart_events: u64,
        progress: impl Fn(u64),
    ) -> Result<Generated, AppError> {
        self.authorize(ctx, Permission::PatientsRegister).await?;
        let prefix = self.patients.mrn_prefix.clone();
        let txn = self.db.begin_write().await?;
        let start = q::next_mrn_sequence(&txn, &prefix).await?;
        q::raise_mrn_sequence(&txn, &prefix, start + i64::try_from(count).unwrap_or(i64::MAX)).await?;
        txn.commit().await?;

        let mut rng = StdRng::seed_from_u64(seed);
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
        let mut report = Generated::default();
        let mut done = 0u64;
        while done < count {
            let n = usize::try_from((count - done).min(BATCH as u64)).unwrap_or(BATCH);
            let mut people = Vec::with_capacity(n);
            for i in 0..n {
                let seq = u64::try_from(start).unwrap_or(0) + done + i as u64;
                let (mut row, ids) = person(&mut rng, seq, today);
                row.mrn = Mrn::new(&prefix, seq).to_string();
                people.push((row, ids));
            }
            let txn = self.db.begin_write().await?;
            let rows = write_new_patients(&txn, people, |r| format!("Registered as {}", r.mrn)).await?;
            let (first, last) = (rows[0].mrn.clone(), rows[rows.len() - 1].mrn.clone());
            if report.busy_patient.is_none() && chart_events > 0 {
                report.busy_patient = Some(rows[0].id);
            }
            report.ids.extend(rows.iter().map(|r| r.id));
            let event = Event::new("patient.generate", "patient", None)
                .detail(json!({ "count": n, "first_mrn": first, "last_mrn": last, "seed": seed }));
            audit::record(&txn, ctx, event).await?;
            txn.commit().await?;
            if report.first_mrn.is_empty() {
                report.first_mrn = first;
            }
            report.last_mrn = last;
            done += n as u64;
            progress(done);
        }
        if let Some(busy) = report.busy_patient {
            let base = Utc.with_ymd_and_hms(2016, 1, 1, 0, 0, 0).single().unwrap_or_else(Utc::now);
            let mut written = 0u64;
            while written < chart_events {
                let n = (chart_events - written).min(BATCH as u64);
                let rows = (0..n)
                    .map(|i| {
                        let k = written + i;
                        patient_timeline::Model {
                            id: Uuid::now_v7(),
                            patient_id: busy,
                            at: base + Duration::minutes(i64::try_from(k).unwrap_or(0) * 500),
                            kind: "note".into(),
                            summary: format!("Visit {k}: follow-up, observations recorded"),
                            actor_id: None,
                        }
                    })
                    .collect();
                let txn = self.db.begin_write().await?;
                q::insert_timeline(&txn, rows).await?;
                txn.commit().await?;
                written += n;
            }
        }
        q::analyze(self.db.writer()).await?;
        report.patients = count;
        Ok(report)
    }
}
