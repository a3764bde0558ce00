//! The wards' side of the bench, on the generated hospital's 500 beds in 15 wards: the whole
//! hospital's bed board, a ward's due doses, a nurse recording an as-needed dose (taken
//! from the ward's store), the desk admitting into a free bed and transferring a patient
//! to another (each timed alone; the discharge or the cleaning that frees the bed again is
//! done after, untimed).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;
use rand::Rng;
use rand::rngs::StdRng;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::workload::{Outcome, Session, World, call, expect, sign_in};

/// The wards' people and what the run works on.
pub struct Wards {
    nurse: Session,
    desk: Session,
    doctor: Session,
    doctor_id: String,
    wards: Vec<String>,
    /// Stays in a bed, with an as-needed order each (admission, order).
    prn: Vec<(String, String)>,
    /// Patients not in a bed, to admit.
    outside: Mutex<Vec<String>>,
    next: AtomicUsize,
}

impl World {
    fn wards(&self) -> anyhow::Result<&Wards> {
        self.wards
            .as_ref()
            .context("the database has no generated wards: generate it again for the wards' operations")
    }

    /// The whole hospital's bed board (500 beds, who is in each, audited reads).
    pub(super) async fn board(&self) -> anyhow::Result<Outcome> {
        let w = self.wards()?;
        expect("board", call(w.nurse.client.get(self.url("/api/v1/bed-board"))).await?, StatusCode::OK)
            .map(|_| Outcome::Done)
    }

    /// A 40-bed ward's doses due twelve hours either side of now (three medicines a stay).
    pub(super) async fn doses(&self, rng: &mut StdRng) -> anyhow::Result<Outcome> {
        let w = self.wards()?;
        let ward = &w.wards[rng.random_range(0..w.wards.len())];
        expect(
            "doses",
            call(w.nurse.client.get(self.url(&format!("/api/v1/wards/{ward}/due-doses")))).await?,
            StatusCode::OK,
        )
        .map(|_| Outcome::Done)
    }

    /// A nurse gives an as-needed dose (the ward store's ledger, the record, the audit).
    pub(super) async fn dose(&self, rng: &mut StdRng) -> anyhow::Result<Outcome> {
        let w = self.wards()?;
        let (_, order) = &w.prn[rng.random_range(0..w.prn.len())];
        let req = w
            .nurse
            .client
            .post(self.url(&format!("/api/v1/medication-orders/{order}/administrations")))
            .header("x-csrf-token", &w.nurse.csrf)
            .header("idempotency-key", uuid::Uuid::now_v7().to_string())
            .json(&json!({"outcome": "given"}));
        let answer = call(req).await?;
        match answer.0 {
            StatusCode::CONFLICT => Ok(Outcome::Conflict),
            _ => expect("dose", answer, StatusCode::CREATED).map(|_| Outcome::Done),
        }
    }

    /// The desk admits a patient into a free bed (timed); the doctor orders the discharge
    /// and the desk sees them out, and the bed is cleaned (untimed).
    pub(super) async fn admit(&self, rng: &mut StdRng) -> anyhow::Result<Outcome> {
        let w = self.wards()?;
        let Some(patient) = w.outside.lock().await.pop() else { return Ok(Outcome::Skipped) };
        let board =
            expect("board", call(w.desk.client.get(self.url("/api/v1/beds/free"))).await?, StatusCode::OK)?;
        let free: Vec<String> = board
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|b| b["id"].as_str().map(str::to_owned))
            .collect();
        if free.is_empty() {
            w.outside.lock().await.push(patient);
            return Ok(Outcome::Skipped);
        }
        let bed = &free[rng.random_range(0..free.len())];
        let body = json!({"patient_id": patient, "bed_id": bed, "attending_id": w.doctor_id, "diagnosis": "Bench admission"});
        let req = w
            .desk
            .client
            .post(self.url("/api/v1/admissions"))
            .header("x-csrf-token", &w.desk.csrf)
            .json(&body);
        let started = Instant::now();
        let answer = call(req).await?;
        let took = started.elapsed();
        if answer.0 == StatusCode::CONFLICT {
            w.outside.lock().await.push(patient);
            return Ok(Outcome::Conflict);
        }
        let stay = expect("admit", answer, StatusCode::CREATED)?;
        let id = stay["id"].as_str().context("a stay without id")?;
        let post = |who: &Session, path: String, body: Value| {
            who.client.post(self.url(&path)).header("x-csrf-token", &who.csrf).json(&body)
        };
        expect(
            "discharge order",
            call(post(&w.doctor, format!("/api/v1/admissions/{id}/discharge-order"), json!({}))).await?,
            StatusCode::OK,
        )?;
        expect(
            "discharge",
            call(post(&w.desk, format!("/api/v1/admissions/{id}/discharge"), json!({"disposition": "home"})))
                .await?,
            StatusCode::OK,
        )?;
        expect(
            "cleaned",
            call(post(&w.nurse, format!("/api/v1/beds/{bed}/state"), json!({"state": "available"}))).await?,
            StatusCode::OK,
        )?;
        w.outside.lock().await.push(patient);
        Ok(Outcome::DoneIn(took))
    }

    /// The desk moves a patient to a free bed (timed: one transaction frees the old bed
    /// and fills the new); the old bed is cleaned after (untimed).
    pub(super) async fn transfer(&self, rng: &mut StdRng) -> anyhow::Result<Outcome> {
        let w = self.wards()?;
        let (stay, _) = &w.prn[w.next.fetch_add(1, Ordering::Relaxed) % w.prn.len()];
        let free = expect(
            "free beds",
            call(w.desk.client.get(self.url("/api/v1/beds/free"))).await?,
            StatusCode::OK,
        )?;
        let free: Vec<String> = free
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|b| b["id"].as_str().map(str::to_owned))
            .collect();
        if free.is_empty() {
            return Ok(Outcome::Skipped);
        }
        let bed = &free[rng.random_range(0..free.len())];
        let req = w
            .desk
            .client
            .post(self.url(&format!("/api/v1/admissions/{stay}/transfer")))
            .header("x-csrf-token", &w.desk.csrf)
            .json(&json!({"bed_id": bed, "reason": "Bench"}));
        let started = Instant::now();
        let answer = call(req).await?;
        let took = started.elapsed();
        if answer.0 == StatusCode::CONFLICT {
            return Ok(Outcome::Conflict);
        }
        let moved = expect("transfer", answer, StatusCode::OK)?;
        let old = moved["location"]
            .as_array()
            .and_then(|l| l.iter().rev().find(|x| !x["ended_at"].is_null()))
            .and_then(|x| x["bed_id"].as_str())
            .map(str::to_owned);
        if let Some(old) = old {
            let req = w
                .nurse
                .client
                .post(self.url(&format!("/api/v1/beds/{old}/state")))
                .header("x-csrf-token", &w.nurse.csrf)
                .json(&json!({"state": "available"}));
            expect("cleaned", call(req).await?, StatusCode::OK)?;
        }
        Ok(Outcome::DoneIn(took))
    }
}

/// The wards' people and the generated wards, stays and as-needed orders, if the database
/// has them.
pub(super) async fn prepare_wards(
    base: &str,
    password: &str,
    doctor: &Session,
    patients: &[String],
) -> anyhow::Result<Option<Wards>> {
    let Ok(nurse) = sign_in(base, "bench.nurse", password).await else { return Ok(None) };
    let desk = sign_in(base, "bench.desk", password).await?;
    let wards =
        expect("wards", call(nurse.client.get(format!("{base}/api/v1/wards"))).await?, StatusCode::OK)?;
    let wards: Vec<String> = wards["items"]
        .as_array()
        .into_iter()
        .flatten()
        // The 40-bed wards (GEN-W01…W10): the due doses are measured on a full-size ward.
        .filter(|w| w["code"].as_str().is_some_and(|c| c.starts_with("GEN-W") && c <= "GEN-W10"))
        .filter_map(|w| w["id"].as_str().map(str::to_owned))
        .collect();
    if wards.is_empty() {
        return Ok(None);
    }
    let board =
        expect("board", call(nurse.client.get(format!("{base}/api/v1/bed-board"))).await?, StatusCode::OK)?;
    let mut inside = std::collections::HashSet::new();
    let mut stays = Vec::new();
    for b in board["beds"].as_array().into_iter().flatten() {
        if let (Some(a), Some(p)) =
            (b["occupant"]["admission_id"].as_str(), b["occupant"]["patient"]["id"].as_str())
        {
            stays.push(a.to_owned());
            inside.insert(p.to_owned());
        }
    }
    let mut prn = Vec::new();
    for stay in stays.iter().take(100) {
        let rec = expect(
            "medication record",
            call(nurse.client.get(format!("{base}/api/v1/admissions/{stay}/medication-orders"))).await?,
            StatusCode::OK,
        )?;
        if let Some(o) = rec["orders"].as_array().into_iter().flatten().find(|o| o["kind"] == "as_needed") {
            prn.push((stay.clone(), o["id"].as_str().unwrap_or_default().to_owned()));
        }
    }
    if prn.is_empty() {
        return Ok(None);
    }
    let me = expect("me", call(doctor.client.get(format!("{base}/api/v1/me"))).await?, StatusCode::OK)?;
    let outside: Vec<String> =
        patients.iter().filter(|p| !inside.contains(*p)).take(2_000).cloned().collect();
    Ok(Some(Wards {
        nurse,
        desk,
        doctor: doctor.clone(),
        doctor_id: me["id"].as_str().unwrap_or_default().to_owned(),
        wards,
        prn,
        outside: Mutex::new(outside),
        next: AtomicUsize::new(0),
    }))
}
