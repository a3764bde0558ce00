//! The billing desk's side of the bench, on the generated hospital's year of bills and its
//! patients with fifty unbilled charges each: sixteen cashiers (`bench.billing01…16`), each
//! with an open shift, posting a patient's fifty charges as one bill (the account read
//! first, untimed), taking a payment against a bill still owed, the daily cash report of
//! a day in the last year, and the leak check of the last thirty days (every billable
//! event of every context, against the charges and exemptions).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;
use rand::Rng;
use rand::rngs::StdRng;
use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Mutex;

use super::workload::{Outcome, Session, World, call, expect, sign_in};

pub struct Billing {
    cashiers: Vec<Session>,
    /// Patients with unbilled charges (each bill takes all of one patient's).
    waiting: Mutex<Vec<String>>,
    /// Bills with money owed.
    owed: Mutex<Vec<String>>,
    next: AtomicUsize,
}

impl World {
    fn billing(&self) -> anyhow::Result<&Billing> {
        self.billing
            .as_ref()
            .context("the database has no generated bills: generate it again for billing's operations")
    }

    fn cashier(&self) -> anyhow::Result<&Session> {
        let b = self.billing()?;
        Ok(&b.cashiers[b.next.fetch_add(1, Ordering::Relaxed) % b.cashiers.len()])
    }

    /// A cashier bills all of a patient's unbilled charges (fifty) in one invoice.
    pub(super) async fn invoice(&self) -> anyhow::Result<Outcome> {
        let b = self.billing()?;
        let Some(patient) = b.waiting.lock().await.pop() else { return Ok(Outcome::Skipped) };
        let c = self.cashier()?;
        let account = expect(
            "account",
            call(c.client.get(self.url(&format!("/api/v1/patients/{patient}/account")))).await?,
            StatusCode::OK,
        )?;
        let charges: Vec<&str> =
            account["unbilled"].as_array().into_iter().flatten().filter_map(|c| c["id"].as_str()).collect();
        if charges.is_empty() {
            return Ok(Outcome::Skipped);
        }
        let req = c
            .client
            .post(self.url(&format!("/api/v1/patients/{patient}/invoices")))
            .header("x-csrf-token", &c.csrf)
            .header("idempotency-key", uuid::Uuid::now_v7().to_string())
            .json(&json!({"charge_ids": charges}));
        let started = Instant::now();
        let answer = call(req).await?;
        let took = started.elapsed();
        let bill = expect("invoice", answer, StatusCode::CREATED)?;
        if let Some(id) = bill["id"].as_str() {
            b.owed.lock().await.push(id.to_owned());
        }
        Ok(Outcome::DoneIn(took))
    }

    /// A cashier takes a small cash payment against a bill still owed.
    pub(super) async fn payment(&self) -> anyhow::Result<Outcome> {
        let b = self.billing()?;
        let Some(invoice) = b.owed.lock().await.pop() else { return Ok(Outcome::Skipped) };
        let c = self.cashier()?;
        let req = c
            .client
            .post(self.url(&format!("/api/v1/invoices/{invoice}/payments")))
            .header("x-csrf-token", &c.csrf)
            .header("idempotency-key", uuid::Uuid::now_v7().to_string())
            .json(&json!({"method": "cash", "amount_minor": 100}));
        let answer = call(req).await?;
        match answer.0 {
            // Paid in full meanwhile: it leaves the list.
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT => Ok(Outcome::Conflict),
            _ => {
                expect("payment", answer, StatusCode::CREATED)?;
                b.owed.lock().await.insert(0, invoice);
                Ok(Outcome::Done)
            }
        }
    }

    /// The leak check over the last thirty days, as the insurance desk runs it.
    pub(super) async fn leaks(&self) -> anyhow::Result<Outcome> {
        let c = self.cashier()?;
        let to = chrono::Utc::now().date_naive();
        let from = to - chrono::Duration::days(30);
        expect(
            "leak check",
            call(c.client.get(self.url(&format!("/api/v1/billing/leaks?from={from}&to={to}")))).await?,
            StatusCode::OK,
        )
        .map(|_| Outcome::Done)
    }

    /// The daily cash report of a day in the last year.
    pub(super) async fn cash_report(&self, rng: &mut StdRng) -> anyhow::Result<Outcome> {
        let c = self.cashier()?;
        let day = chrono::Utc::now().date_naive() - chrono::Duration::days(rng.random_range(0..365));
        expect(
            "daily cash",
            call(c.client.get(self.url(&format!("/api/v1/reports/daily-cash?day={day}")))).await?,
            StatusCode::OK,
        )
        .map(|_| Outcome::Done)
    }
}

/// The cashiers (each shift opened), the patients waiting and the bills owed, if the
/// database has the generated bills.
pub(super) async fn prepare_billing(base: &str, password: &str) -> anyhow::Result<Option<Billing>> {
    let mut cashiers = Vec::new();
    for n in 1..=16 {
        let Ok(c) = sign_in(base, &format!("bench.billing{n:02}"), password).await else { return Ok(None) };
        let req = c
            .client
            .post(format!("{base}/api/v1/cashier-shift"))
            .header("x-csrf-token", &c.csrf)
            .json(&json!({"float_minor": 0}));
        let (status, body) = call(req).await?;
        if status != StatusCode::CREATED && status != StatusCode::CONFLICT {
            anyhow::bail!("opening a shift: {status} {body}");
        }
        cashiers.push(c);
    }
    let first = &cashiers[0];
    let desk = expect(
        "to bill",
        call(first.client.get(format!("{base}/api/v1/reports/outstanding"))).await?,
        StatusCode::OK,
    )?;
    let owed: Vec<String> =
        desk.as_array().into_iter().flatten().filter_map(|i| i["id"].as_str().map(str::to_owned)).collect();
    let waiting = expect(
        "waiting",
        call(first.client.get(format!("{base}/api/v1/billing/waiting?limit=2000"))).await?,
        StatusCode::OK,
    )?;
    let waiting: Vec<String> = waiting
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w["patient"]["id"].as_str().map(str::to_owned))
        .collect();
    Ok(Some(Billing {
        cashiers,
        waiting: Mutex::new(waiting),
        owed: Mutex::new(owed),
        next: AtomicUsize::new(0),
    }))
}
