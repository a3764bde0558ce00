//! The pharmacy side of the bench: sixteen pharmacists dispensing prescriptions the
//! doctors wrote before the run, and pages of the generated pharmacy's stock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;
use rand::Rng;
use rand::rngs::StdRng;
use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Mutex;

use super::workload::{Outcome, Session, World, call, expect, sign_in};

/// The pharmacy side of the bench: sixteen pharmacists, the generated pharmacy, and the
/// catalog medicines it stocks.
pub struct Pharmacy {
    pharmacists: Vec<Session>,
    store: String,
    medicines: Vec<String>,
    /// Cursors into the stock position, to start its pages at different items.
    cursors: Vec<String>,
    /// Prescriptions written before the run (patient, prescription), dispensed one by one,
    /// so the run measures pharmacists, not doctors prescribing beside them.
    written: Mutex<Vec<(String, String)>>,
    next: AtomicUsize,
}

/// The most prescriptions written before a run for the pharmacists to dispense.
pub const MOST_WRITTEN_AHEAD: usize = 12_000;

/// Ten units of `medicine` for `patient`, as a doctor writes it (warnings overridden).
async fn write_prescription(
    base: &str,
    doc: &Session,
    patient: &str,
    medicine: &str,
) -> anyhow::Result<String> {
    let body = json!({"medicine_id": medicine, "dose": "1 tablet", "frequency": "twice daily", "duration_days": 5,
        "quantity": 10, "override_reason": "Bench: reviewed"});
    let req = doc
        .client
        .post(format!("{base}/api/v1/patients/{patient}/prescriptions"))
        .header("x-csrf-token", &doc.csrf)
        .json(&body);
    let rx = expect("prescribe", call(req).await?, StatusCode::CREATED)?;
    Ok(rx["id"].as_str().context("prescription without id")?.to_owned())
}

impl World {
    /// A doctor prescribes ten units of a stocked medicine and a pharmacist dispenses them
    /// (first expiry first, the ledger, the charge): the dispensing alone is timed. Out of
    /// stock is the expected refusal when a batch runs dry.
    pub(super) async fn dispense(&self, rng: &mut StdRng) -> anyhow::Result<Outcome> {
        let ph = self
            .pharmacy
            .as_ref()
            .context("the database has no bench.pharm01…: generate it again for the pharmacy's operations")?;
        let ready = ph.written.lock().await.pop();
        let (patient, rx) = match ready {
            Some(w) => w,
            None => {
                let patient = self.patients[rng.random_range(0..self.patients.len())].clone();
                let medicine = &ph.medicines[rng.random_range(0..ph.medicines.len())];
                let rx = write_prescription(&self.base, self.doctor(), &patient, medicine).await?;
                (patient, rx)
            }
        };
        let pharmacist = &ph.pharmacists[ph.next.fetch_add(1, Ordering::Relaxed) % ph.pharmacists.len()];
        let req = pharmacist
            .client
            .post(self.url(&format!("/api/v1/patients/{patient}/dispenses")))
            .header("x-csrf-token", &pharmacist.csrf)
            .header("idempotency-key", uuid::Uuid::now_v7().to_string())
            .json(&json!({"store_id": ph.store, "lines": [{"prescription_id": rx, "quantity": 10}]}));
        let started = Instant::now();
        let answer = call(req).await?;
        let took = started.elapsed();
        match answer.0 {
            StatusCode::CREATED => Ok(Outcome::DoneIn(took)),
            StatusCode::CONFLICT => Ok(Outcome::Conflict),
            _ => expect("dispense", answer, StatusCode::CREATED).map(|_| Outcome::DoneIn(took)),
        }
    }

    /// A page of the pharmacy's stock position (50 items, every batch of each summed,
    /// held and expired ones set apart), starting at a random item: what the stock page
    /// and the sale form read.
    pub(super) async fn stock(&self, rng: &mut StdRng) -> anyhow::Result<Outcome> {
        let ph = self
            .pharmacy
            .as_ref()
            .context("the database has no bench.pharm01…: generate it again for the pharmacy's operations")?;
        let pharmacist = &ph.pharmacists[ph.next.fetch_add(1, Ordering::Relaxed) % ph.pharmacists.len()];
        let mut req = pharmacist.client.get(self.url(&format!("/api/v1/pharmacy/stores/{}/stock", ph.store)));
        if let Some(cursor) = ph.cursors.get(rng.random_range(0..ph.cursors.len().max(1))) {
            req = req.query(&[("cursor", cursor.as_str())]);
        }
        expect("stock", call(req).await?, StatusCode::OK).map(|_| Outcome::Done)
    }
}

/// The pharmacists and the generated pharmacy's stocked medicines, if the database has
/// them, and prescriptions written ahead by the doctors, several at a time.
pub(super) async fn prepare_pharmacy(
    base: &str,
    password: &str,
    doctors: &[Session],
    patients: &[String],
    write_ahead: usize,
) -> anyhow::Result<Option<Pharmacy>> {
    let mut pharmacists = Vec::new();
    for n in 1..=16 {
        match sign_in(base, &format!("bench.pharm{n:02}"), password).await {
            Ok(s) => pharmacists.push(s),
            Err(_) if n == 1 => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    let one = &pharmacists[0];
    let stores = expect(
        "stores",
        call(one.client.get(format!("{base}/api/v1/pharmacy/stores"))).await?,
        StatusCode::OK,
    )?;
    let Some(store) = stores["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["code"] == json!("GEN-PHARM"))
        .and_then(|s| s["id"].as_str())
        .map(str::to_owned)
    else {
        return Ok(None);
    };
    let items = expect(
        "stock items",
        call(one.client.get(format!("{base}/api/v1/pharmacy/items"))).await?,
        StatusCode::OK,
    )?;
    let mut medicines: Vec<String> = items["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["kind"] == json!("medicine"))
        .filter_map(|i| i["medicine_id"].as_str().map(str::to_owned))
        .collect();
    medicines.sort();
    medicines.dedup();
    if medicines.is_empty() {
        return Ok(None);
    }
    // Walk the position once, keeping every page's cursor (a few hundred at most).
    let mut cursors = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..500 {
        let mut req =
            one.client.get(format!("{base}/api/v1/pharmacy/stores/{store}/stock")).query(&[("limit", "50")]);
        if let Some(c) = &next {
            req = req.query(&[("cursor", c.as_str())]);
        }
        let page = expect("stock", call(req).await?, StatusCode::OK)?;
        match page["next_cursor"].as_str() {
            Some(c) => {
                cursors.push(c.to_owned());
                next = Some(c.to_owned());
            }
            None => break,
        }
    }
    let mut writers = Vec::new();
    let per = write_ahead.min(MOST_WRITTEN_AHEAD) / doctors.len().max(1);
    for (w, doc) in doctors.iter().enumerate() {
        let (base, doc, medicines) = (base.to_owned(), doc.clone(), medicines.clone());
        let patients: Vec<String> = patients.iter().skip(w).step_by(doctors.len()).cloned().collect();
        writers.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for n in 0..per {
                let Some(patient) = patients.get(n % patients.len().max(1)) else { break };
                let medicine = &medicines[(n * 7 + w) % medicines.len()];
                out.push((patient.clone(), write_prescription(&base, &doc, patient, medicine).await?));
            }
            anyhow::Ok(out)
        }));
    }
    let mut written = Vec::new();
    for w in writers {
        written.extend(w.await??);
    }
    Ok(Some(Pharmacy {
        pharmacists,
        store,
        medicines,
        cursors,
        written: Mutex::new(written),
        next: AtomicUsize::new(0),
    }))
}
