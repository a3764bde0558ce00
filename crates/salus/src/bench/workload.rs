//! The clinic day as HTTP requests: who is signed in, what they pick from, and each
//! operation a user does (one or a few requests), timed as the user would feel it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::pharmacy::{Pharmacy, prepare_pharmacy};
use super::wards::{Wards, prepare_wards};

/// The operations of the mix, in report order.
pub const OPERATIONS: [&str; 27] = [
    "search",
    "chart",
    "read",
    "register",
    "book",
    "checkin",
    "note",
    "prescribe",
    "order",
    "worklist",
    "enter",
    "verify",
    "results",
    "dispense",
    "stock",
    "board",
    "doses",
    "dose",
    "admit",
    "transfer",
    "invoice",
    "payment",
    "cash",
    "leaks",
    "fhir_read",
    "fhir_name",
    "fhir_obs",
];

/// The values the bench's technician types for a renal panel, by analyte code.
const RENAL_VALUES: &[(&str, &str)] = &[
    ("UREA", "31"),
    ("CREAT", "1.1"),
    ("NA", "138"),
    ("K", "4.4"),
    ("CL", "101"),
    ("HCO3", "24"),
    ("URIC", "5.6"),
];

/// A signed-in browser: its cookies and its anti-forgery token.
#[derive(Clone)]
pub struct Session {
    pub client: Client,
    pub csrf: String,
}

fn csrf_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    html[start..].split('"').next().map(str::to_owned)
}

/// Signs in through the login page, as a browser does.
pub async fn sign_in(base: &str, username: &str, password: &str) -> anyhow::Result<Session> {
    let client = Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(60))
        .build()?;
    let page = client.get(format!("{base}/login")).send().await?.text().await?;
    let token = csrf_in(&page).context("the login page has no csrf_token")?;
    let res = client
        .post(format!("{base}/login"))
        .form(&[("username", username), ("password", password), ("csrf_token", &token)])
        .send()
        .await?;
    if res.status() != StatusCode::SEE_OTHER {
        bail!(
            "signing in as {username} failed ({}): is the database generated with this password?",
            res.status()
        );
    }
    let profile = client.get(format!("{base}/profile")).send().await?.text().await?;
    let csrf = csrf_in(&profile).with_context(|| format!("{username} has no session after signing in"))?;
    Ok(Session { client, csrf })
}

/// What the operations pick from: made once before the run, not timed.
pub struct World {
    pub base: String,
    pub desk: Session,
    pub doctors: Vec<Session>,
    pub patients: Vec<String>,
    pub names: Vec<String>,
    pub departments: Vec<String>,
    pub medicines: Vec<String>,
    /// Today's booked appointments (id, version), checked in one by one.
    pub arrivals: Mutex<Vec<(String, i64)>>,
    /// Booking days ahead are spread over this many days.
    pub days: i64,
    next: AtomicUsize,
    /// The laboratory's people (a nurse collects, one technician enters, the other
    /// verifies), when the database has them, and the renal panel's id.
    lab: Option<Lab>,
    /// The pharmacy's people and stock, when the database has them.
    pub(super) pharmacy: Option<Pharmacy>,
    /// The wards' people and stays, when the database has the generated wards.
    pub(super) wards: Option<Wards>,
    /// The billing desk's cashiers and work, when the database has the generated bills.
    pub(super) billing: Option<super::billing::Billing>,
}

/// The laboratory side of the bench: who works it, and the order lines at each stage.
pub struct Lab {
    nurse: Session,
    enters: Session,
    verifies: Session,
    renal: String,
    /// Order lines in the lab, waiting for results.
    received: Mutex<Vec<String>>,
    /// Order lines with results, waiting for verification.
    entered: Mutex<Vec<String>>,
    /// Patients with released results.
    released: Mutex<Vec<String>>,
}

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Done, timed as the part the operation is about (a dispensing, not the prescribing
    /// that set it up).
    DoneIn(Duration),
    /// The expected refusal of a race lost (the slot was taken meanwhile).
    Conflict,
    /// Nothing left to do (no appointment of today left to check in).
    Skipped,
}

/// One request's answer, or why it failed.
pub(super) async fn call(req: reqwest::RequestBuilder) -> anyhow::Result<(StatusCode, Value)> {
    let res = req.send().await?;
    let status = res.status();
    let text = res.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
}

pub(super) fn expect(
    what: &str,
    (status, body): (StatusCode, Value),
    ok: StatusCode,
) -> anyhow::Result<Value> {
    if status != ok {
        bail!("{what}: {status} {}", body.to_string().chars().take(300).collect::<String>());
    }
    Ok(body)
}

impl World {
    /// Signs in the desk and `doctors` doctors, and gathers patients, names, departments,
    /// medicines and today's appointments through the API.
    /// `write_ahead`: prescriptions the doctors write before the run for the `dispense`
    /// operation (none when the mix does not dispense).
    pub async fn prepare(
        base: &str,
        password: &str,
        doctors: usize,
        seed: u64,
        write_ahead: usize,
    ) -> anyhow::Result<World> {
        let desk = sign_in(base, "bench.desk", password).await?;
        let mut signed = Vec::new();
        for i in 1..=doctors.max(1) {
            signed.push(sign_in(base, &format!("bench.doctor{i:03}"), password).await?);
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let mut names = Vec::new();
        for _ in 0..200 {
            let t = &salus_app::patients::names::TRADITIONS
                [rng.random_range(0..salus_app::patients::names::TRADITIONS.len())];
            let given = if rng.random_bool(0.5) { t.female } else { t.male };
            names.push(format!(
                "{} {}",
                given[rng.random_range(0..given.len())],
                t.family[rng.random_range(0..t.family.len())]
            ));
        }
        let mut patients = Vec::new();
        for name in names.iter().take(120) {
            let body = expect(
                "search",
                call(
                    desk.client
                        .get(format!("{base}/api/v1/patients"))
                        .query(&[("q", name.as_str()), ("limit", "50")]),
                )
                .await?,
                StatusCode::OK,
            )?;
            // Restricted records need a reason to open (break-glass): not a chart-open.
            for hit in body["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|h| h["patient"]["restricted"] != json!(true))
            {
                if let Some(id) = hit["patient"]["id"].as_str() {
                    patients.push(id.to_owned());
                }
            }
        }
        patients.sort();
        patients.dedup();
        if patients.is_empty() {
            bail!("no patient found by name: generate the database first (salus generate)");
        }
        let depts = expect(
            "departments",
            call(desk.client.get(format!("{base}/api/v1/departments"))).await?,
            StatusCode::OK,
        )?;
        let departments: Vec<String> = depts["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["active"] == json!(true))
            .filter_map(|d| d["id"].as_str().map(str::to_owned))
            .collect();
        let meds = expect(
            "medicines",
            call(signed[0].client.get(format!("{base}/api/v1/medicines"))).await?,
            StatusCode::OK,
        )?;
        let medicines: Vec<String> = meds["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["id"].as_str().map(str::to_owned))
            .collect();
        // Today on the facility's clock may be yesterday or tomorrow in UTC: the day whose
        // first appointment can be checked in is the one.
        let today = chrono::Utc::now().date_naive();
        let mut arrivals = Vec::new();
        for date in [today, today + chrono::Duration::days(1), today - chrono::Duration::days(1)] {
            let day = expect(
                "today's appointments",
                call(
                    desk.client
                        .get(format!("{base}/api/v1/appointments"))
                        .query(&[("date", date.to_string())]),
                )
                .await?,
                StatusCode::OK,
            )?;
            let mut booked: Vec<(String, i64)> = day["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|a| a["status"] == json!("booked"))
                .filter_map(|a| Some((a["id"].as_str()?.to_owned(), a["version"].as_i64()?)))
                .collect();
            let Some((id, version)) = booked.pop() else { continue };
            let req = desk
                .client
                .post(format!("{base}/api/v1/appointments/{id}/status"))
                .header("x-csrf-token", &desk.csrf)
                .header("if-match", format!("\"{version}\""))
                .json(&json!({"transition": "check_in"}));
            if call(req).await?.0 == StatusCode::OK {
                arrivals = booked;
                break;
            }
        }
        if departments.is_empty() || medicines.is_empty() {
            bail!("the database has no departments or no medicines: generate it first (salus generate)");
        }
        // The lab's accounts exist in databases generated since the laboratory came.
        let lab = match (
            sign_in(base, "bench.nurse", password).await,
            sign_in(base, "bench.lab1", password).await,
            sign_in(base, "bench.lab2", password).await,
        ) {
            (Ok(nurse), Ok(enters), Ok(verifies)) => {
                let tests = expect(
                    "lab tests",
                    call(enters.client.get(format!("{base}/api/v1/lab/tests"))).await?,
                    StatusCode::OK,
                )?;
                let renal = tests["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|t| t["code"] == json!("RENAL"))
                    .and_then(|t| t["id"].as_str())
                    .context("the catalog has no renal panel")?
                    .to_owned();
                Some(Lab {
                    nurse,
                    enters,
                    verifies,
                    renal,
                    received: Mutex::new(Vec::new()),
                    entered: Mutex::new(Vec::new()),
                    released: Mutex::new(Vec::new()),
                })
            }
            _ => None,
        };
        let pharmacy = prepare_pharmacy(base, password, &signed, &patients, write_ahead).await?;
        let wards = match signed.first() {
            Some(doctor) => prepare_wards(base, password, doctor, &patients).await?,
            None => None,
        };
        let billing = super::billing::prepare_billing(base, password).await?;
        Ok(World {
            lab,
            pharmacy,
            wards,
            billing,
            base: base.to_owned(),
            desk,
            doctors: signed,
            patients,
            names,
            departments,
            medicines,
            arrivals: Mutex::new(arrivals),
            days: 60,
            next: AtomicUsize::new(0),
        })
    }

    pub(super) fn doctor(&self) -> &Session {
        &self.doctors[self.next.fetch_add(1, Ordering::Relaxed) % self.doctors.len()]
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Runs `op`; `keystroke` hears each search request's own latency.
    pub async fn run(
        self: &Arc<Self>,
        op: &str,
        rng: &mut StdRng,
        keystroke: &mut (dyn FnMut(Duration) + Send),
    ) -> anyhow::Result<Outcome> {
        match op {
            "search" => self.search(rng, keystroke).await,
            "chart" => self.chart(rng).await,
            "read" => self.read(rng).await,
            "register" => self.register(rng).await,
            "book" => self.book(rng).await,
            "checkin" => self.check_in().await,
            "note" => self.note(rng).await,
            "prescribe" => self.prescribe(rng).await,
            "order" => self.lab_order(rng).await,
            "worklist" => self.lab_worklist().await,
            "enter" => self.lab_enter().await,
            "verify" => self.lab_verify().await,
            "results" => self.lab_results(rng).await,
            "dispense" => self.dispense(rng).await,
            "stock" => self.stock(rng).await,
            "board" => self.board().await,
            "doses" => self.doses(rng).await,
            "dose" => self.dose(rng).await,
            "admit" => self.admit(rng).await,
            "transfer" => self.transfer(rng).await,
            "invoice" => self.invoice().await,
            "payment" => self.payment().await,
            "cash" => self.cash_report(rng).await,
            "leaks" => self.leaks().await,
            "fhir_read" => self.fhir_read(rng).await,
            "fhir_name" => self.fhir_name(rng).await,
            "fhir_obs" => self.fhir_observations(rng).await,
            other => bail!("no operation {other}"),
        }
    }

    /// A name typed at the desk, one request per keystroke from the third letter on.
    async fn search(
        &self,
        rng: &mut StdRng,
        keystroke: &mut (dyn FnMut(Duration) + Send),
    ) -> anyhow::Result<Outcome> {
        let name = &self.names[rng.random_range(0..self.names.len())];
        let chars: Vec<char> = name.chars().collect();
        for n in 3..=chars.len() {
            let typed: String = chars[..n].iter().collect();
            let started = Instant::now();
            let req = self.desk.client.get(self.url("/api/v1/patients")).query(&[("q", typed.as_str())]);
            expect("search", call(req).await?, StatusCode::OK)?;
            keystroke(started.elapsed());
        }
        Ok(Outcome::Done)
    }

    /// The chart page as the doctor's browser gets it.
    async fn chart(&self, rng: &mut StdRng) -> anyhow::Result<Outcome> {
        let id = &self.patients[rng.random_range(0..self.patients.len())];
        let res = self.doctor().client.get(self.url(&format!("/patients/{id}"))).send().await?;
        let status = res.status();
        let page = res.text().await?;
        if status != StatusCode::OK || !page.contains("Problem list") {
            bail!("chart: {status}");
        }
        Ok(Outcome::Done)
    }

    /// One audited patient read over the API (`GET /api/v1/patients/{id}`), as an
    /// integration or the FHIR door would make it: the cheapest read that keeps every
    /// promise (authenticated, access-checked, its audit event durable before the answer).
    async fn read(&self, rng: &mut StdRng) -> anyhow::Result<Outcome> {
        let id = &self.patients[rng.random_range(0..self.patients.len())];
        let got = call(self.doctor().client.get(self.url(&format!("/api/v1/patients/{id}")))).await?;
        expect("read", got, StatusCode::OK).map(|_| Outcome::Done)
    }

    /// A new patient at the desk, the duplicate check on: a name, a birth date and a
    /// phone; when the check finds look-alikes the clerk confirms and sends it again.
    async fn register(&self, rng: &mut StdRng) -> anyhow::Result<Outcome> {
        let name = &self.names[rng.random_range(0..self.names.len())];
        let (given, family) = name.rsplit_once(' ').unwrap_or((name.as_str(), "Doe"));
        let born = chrono::NaiveDate::from_ymd_opt(1940, 1, 1).unwrap_or_default()
            + chrono::Duration::days(rng.random_range(0..29_000));
        let mut body = json!({
            "given_names": given, "family_name": family, "sex": if rng.random_bool(0.5) { "female" } else { "male" },
            "birth_date": born.to_string(), "phone": format!("98{:08}", rng.random_range(0..100_000_000u32)),
        });
        let send = |body: &Value| {
            self.desk
                .client
                .post(self.url("/api/v1/patients"))
                .header("x-csrf-token", &self.desk.csrf)
                .json(body)
        };
        match call(send(&body)).await? {
            (StatusCode::CREATED, _) => Ok(Outcome::Done),
            (StatusCode::CONFLICT, _) => {
                body["not_a_duplicate"] = json!(true);
                expect("register (confirmed)", call(send(&body)).await?, StatusCode::CREATED)?;
                Ok(Outcome::Done)
            }
            other => expect("register", other, StatusCode::CREATED).map(|_| Outcome::Done),
        }
    }

    /// A slot found in a department on a day, then booked.
    async fn book(&self, rng: &mut StdRng) -> anyhow::Result<Outcome> {
        let dept = &self.departments[rng.random_range(0..self.departments.len())];
        let from =
            chrono::Utc::now().date_naive() + chrono::Duration::days(rng.random_range(2..self.days.max(3)));
        let req = self.desk.client.get(self.url("/api/v1/slots")).query(&[
            ("department_id", dept.as_str()),
            ("from", &from.to_string()),
            ("days", "1"),
        ]);
        let slots = expect("free slots", call(req).await?, StatusCode::OK)?;
        let free = slots["items"].as_array().cloned().unwrap_or_default();
        if free.is_empty() {
            return Ok(Outcome::Conflict);
        }
        let slot = &free[rng.random_range(0..free.len())];
        let patient = &self.patients[rng.random_range(0..self.patients.len())];
        let body = json!({"patient_id": patient, "doctor_id": slot["doctor_id"], "date": slot["date"], "time": slot["time"]});
        let req = self
            .desk
            .client
            .post(self.url("/api/v1/appointments"))
            .header("x-csrf-token", &self.desk.csrf)
            .json(&body);
        match call(req).await? {
            (StatusCode::CREATED, _) => Ok(Outcome::Done),
            (StatusCode::CONFLICT, _) => Ok(Outcome::Conflict),
            other => expect("book", other, StatusCode::CREATED).map(|_| Outcome::Done),
        }
    }

    /// One of today's patients arrives at the desk.
    async fn check_in(&self) -> anyhow::Result<Outcome> {
        let Some((id, version)) = self.arrivals.lock().await.pop() else { return Ok(Outcome::Skipped) };
        let req = self
            .desk
            .client
            .post(self.url(&format!("/api/v1/appointments/{id}/status")))
            .header("x-csrf-token", &self.desk.csrf)
            .header("if-match", format!("\"{version}\""))
            .json(&json!({"transition": "check_in"}));
        expect("check in", call(req).await?, StatusCode::OK)?;
        Ok(Outcome::Done)
    }

    /// A visit: the encounter opened, a note written, then signed.
    async fn note(&self, rng: &mut StdRng) -> anyhow::Result<Outcome> {
        let doc = self.doctor();
        let patient = &self.patients[rng.random_range(0..self.patients.len())];
        let post = |path: String, body: Value| {
            doc.client.post(self.url(&path)).header("x-csrf-token", &doc.csrf).json(&body)
        };
        let enc = expect(
            "open encounter",
            call(post(
                "/api/v1/encounters".into(),
                json!({"patient_id": patient, "chief_complaint": "Follow-up"}),
            ))
            .await?,
            StatusCode::CREATED,
        )?;
        let eid = enc["id"].as_str().context("encounter without id")?;
        let note = json!({"subjective": "Feels better; no side effects.", "objective": "Well; chest clear.", "assessment": "Improving.", "plan": "Continue; review in a month."});
        let n = expect(
            "write note",
            call(post(format!("/api/v1/encounters/{eid}/notes"), note)).await?,
            StatusCode::CREATED,
        )?;
        let (nid, version) =
            (n["id"].as_str().context("note without id")?, n["version"].as_i64().unwrap_or(1));
        let sign = doc
            .client
            .post(self.url(&format!("/api/v1/notes/{nid}/sign")))
            .header("x-csrf-token", &doc.csrf)
            .header("if-match", format!("\"{version}\""));
        expect("sign note", call(sign).await?, StatusCode::OK)?;
        Ok(Outcome::Done)
    }

    /// A prescription; warnings (allergy, the same drug already given) overridden with a reason.
    async fn prescribe(&self, rng: &mut StdRng) -> anyhow::Result<Outcome> {
        let doc = self.doctor();
        let patient = &self.patients[rng.random_range(0..self.patients.len())];
        let medicine = &self.medicines[rng.random_range(0..self.medicines.len())];
        let path = self.url(&format!("/api/v1/patients/{patient}/prescriptions"));
        let mut body = json!({"medicine_id": medicine, "dose": "1 tablet", "frequency": "twice daily", "duration_days": 5});
        let send = |body: &Value| doc.client.post(&path).header("x-csrf-token", &doc.csrf).json(body);
        match call(send(&body)).await? {
            (StatusCode::CREATED, _) => Ok(Outcome::Done),
            (StatusCode::CONFLICT, _) => {
                body["override_reason"] = json!("Reviewed with the patient");
                expect("prescribe (overridden)", call(send(&body)).await?, StatusCode::CREATED)?;
                Ok(Outcome::Done)
            }
            other => expect("prescribe", other, StatusCode::CREATED).map(|_| Outcome::Done),
        }
    }

    fn lab(&self) -> anyhow::Result<&Lab> {
        self.lab
            .as_ref()
            .context("the database has no bench.lab1/bench.lab2: generate it again for the lab operations")
    }

    /// A doctor orders a renal panel (confirming a repeat), a nurse collects it and the
    /// lab receives it: the three steps that bring a specimen to the bench. Timed whole.
    async fn lab_order(&self, rng: &mut StdRng) -> anyhow::Result<Outcome> {
        let lab = self.lab()?;
        let doc = self.doctor();
        let patient = &self.patients[rng.random_range(0..self.patients.len())];
        let body =
            json!({"test_ids": [lab.renal], "priority": "routine", "override_reason": "Bench: repeat"});
        let req = doc
            .client
            .post(self.url(&format!("/api/v1/patients/{patient}/lab-orders")))
            .header("x-csrf-token", &doc.csrf)
            .json(&body);
        let orders = expect("order", call(req).await?, StatusCode::CREATED)?;
        let id = orders[0]["id"].as_str().context("order without id")?.to_owned();
        let req = lab
            .nurse
            .client
            .post(self.url(&format!("/api/v1/patients/{patient}/lab-specimens")))
            .header("x-csrf-token", &lab.nurse.csrf)
            .json(&json!({"order_ids": [id]}));
        let specimens = expect("collect", call(req).await?, StatusCode::CREATED)?;
        let sid = specimens[0]["id"].as_str().context("specimen without id")?;
        let req = lab
            .enters
            .client
            .post(self.url(&format!("/api/v1/lab/specimens/{sid}/receive")))
            .header("x-csrf-token", &lab.enters.csrf);
        expect("receive", call(req).await?, StatusCode::OK)?;
        lab.received.lock().await.push(id);
        Ok(Outcome::Done)
    }

    /// The lab's worklist, as the bench's screen refreshes it.
    async fn lab_worklist(&self) -> anyhow::Result<Outcome> {
        let lab = self.lab()?;
        let got = call(lab.enters.client.get(self.url("/api/v1/lab/worklist"))).await?;
        expect("worklist", got, StatusCode::OK).map(|_| Outcome::Done)
    }

    /// A technician opens a received order line and enters its results.
    async fn lab_enter(&self) -> anyhow::Result<Outcome> {
        let lab = self.lab()?;
        let Some(id) = lab.received.lock().await.pop() else { return Ok(Outcome::Skipped) };
        let detail = expect(
            "open order",
            call(lab.enters.client.get(self.url(&format!("/api/v1/lab/orders/{id}")))).await?,
            StatusCode::OK,
        )?;
        let results: Vec<Value> = detail["analytes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| {
                let code = a["test"]["code"].as_str()?;
                let value = RENAL_VALUES.iter().find(|(c, _)| *c == code)?.1;
                Some(json!({"test_id": a["test"]["id"], "value": value}))
            })
            .collect();
        let req = lab
            .enters
            .client
            .post(self.url(&format!("/api/v1/lab/orders/{id}/results")))
            .header("x-csrf-token", &lab.enters.csrf)
            .json(&json!({ "results": results }));
        expect("enter results", call(req).await?, StatusCode::OK)?;
        lab.entered.lock().await.push(id);
        Ok(Outcome::Done)
    }

    /// The second technician verifies an order line's results.
    async fn lab_verify(&self) -> anyhow::Result<Outcome> {
        let lab = self.lab()?;
        let Some(id) = lab.entered.lock().await.pop() else { return Ok(Outcome::Skipped) };
        let req = lab
            .verifies
            .client
            .post(self.url(&format!("/api/v1/lab/orders/{id}/verify")))
            .header("x-csrf-token", &lab.verifies.csrf);
        let done = expect("verify", call(req).await?, StatusCode::OK)?;
        if let Some(p) = done["patient"]["id"].as_str() {
            lab.released.lock().await.push(p.to_owned());
        }
        Ok(Outcome::Done)
    }

    /// A doctor reads a patient's cumulative results (one with released results when
    /// there is one, else any).
    async fn lab_results(&self, rng: &mut StdRng) -> anyhow::Result<Outcome> {
        let released = self.lab()?.released.lock().await.last().cloned();
        let patient =
            released.unwrap_or_else(|| self.patients[rng.random_range(0..self.patients.len())].clone());
        let got =
            call(self.doctor().client.get(self.url(&format!("/api/v1/patients/{patient}/lab-results"))))
                .await?;
        expect("results", got, StatusCode::OK).map(|_| Outcome::Done)
    }
}
