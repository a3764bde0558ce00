//! The FHIR door's operations: a patient read, a search by name, and a patient's heart
//! rates by LOINC code — what an exchange or a SMART app asks most.

use rand::Rng;
use rand::rngs::StdRng;
use reqwest::StatusCode;

use super::workload::{Outcome, World, call, expect};

impl World {
    /// `GET /fhir/Patient/{id}`: the same audited read as the API's, as FHIR.
    pub(super) async fn fhir_read(&self, rng: &mut StdRng) -> anyhow::Result<Outcome> {
        let id = &self.patients[rng.random_range(0..self.patients.len())];
        let got = call(self.doctor().client.get(self.url(&format!("/fhir/Patient/{id}")))).await?;
        expect("fhir read", got, StatusCode::OK).map(|_| Outcome::Done)
    }

    /// `GET /fhir/Patient?name=…`: a whole name, as an integration sends it.
    pub(super) async fn fhir_name(&self, rng: &mut StdRng) -> anyhow::Result<Outcome> {
        let name = &self.names[rng.random_range(0..self.names.len())];
        let family = name.rsplit(' ').next().unwrap_or(name);
        let req = self.doctor().client.get(self.url("/fhir/Patient")).query(&[("name", family)]);
        expect("fhir name search", call(req).await?, StatusCode::OK).map(|_| Outcome::Done)
    }

    /// `GET /fhir/Observation?patient=…&code=http://loinc.org|8867-4`: a patient's heart rates.
    pub(super) async fn fhir_observations(&self, rng: &mut StdRng) -> anyhow::Result<Outcome> {
        let id = &self.patients[rng.random_range(0..self.patients.len())];
        let req = self
            .doctor()
            .client
            .get(self.url("/fhir/Observation"))
            .query(&[("patient", id.as_str()), ("code", "http://loinc.org|8867-4")]);
        expect("fhir observation search", call(req).await?, StatusCode::OK).map(|_| Outcome::Done)
    }
}
