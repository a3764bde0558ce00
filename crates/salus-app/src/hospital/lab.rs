//! A patient's laboratory history for the generated hospital: orders of the common panels
//! and tests, each with its specimen and verified results read against the patient's own
//! reference range (so the flags, the copied limits and the cumulative table are what the
//! use cases would have written), entered by `bench.lab1` and verified by `bench.lab2`.
//! Orders of the last day are still waiting for collection: the lab's worklist of a busy
//! morning. Accession numbers of generated specimens are of their own series, `G`.

use chrono::{DateTime, Datelike, Duration, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use salus_core::laboratory::{
    Limits, OrderStatus, Priority, ReferenceRange, ResultStatus, ResultType, SpecimenStatus, TestKind,
    age_in_days, interpret, select_range,
};
use salus_core::patients::Sex;
use salus_db::entity::{lab_order, lab_result, lab_specimen, lab_test, patient, patient_timeline};
use salus_db::{ConnectionTrait, insert_all};
use std::collections::HashMap;
use uuid::Uuid;

use super::HospitalReport;
use crate::AppError;

/// What doctors order most, and how often (weights).
const ORDERED: &[(&str, u32)] = &[
    ("CBC", 30),
    ("RENAL", 20),
    ("LIPID", 12),
    ("LFT", 10),
    ("GLU-F", 10),
    ("HBA1C", 8),
    ("ELEC", 5),
    ("THYROID", 5),
    ("CRP", 4),
    ("COAG", 3),
];

/// One orderable entry and the numeric analytes its results are made of.
struct Orderable {
    test: lab_test::Model,
    analytes: Vec<lab_test::Model>,
    weight: u32,
}

/// The catalog, ranges and technicians the history is made with.
pub(super) struct LabHistory {
    orderables: Vec<Orderable>,
    ranges: HashMap<Uuid, Vec<ReferenceRange>>,
    entered_by: Uuid,
    verified_by: Uuid,
    next_accession: i64,
}

/// The rows of a batch of patients' laboratory history.
#[derive(Default)]
pub(super) struct LabRows {
    orders: Vec<lab_order::Model>,
    specimens: Vec<lab_specimen::Model>,
    results: Vec<lab_result::Model>,
    timeline: Vec<patient_timeline::Model>,
}

impl LabHistory {
    /// Reads the catalog; `None` when the generated technicians are missing.
    pub(super) async fn load(conn: &impl ConnectionTrait) -> Result<Option<Self>, AppError> {
        let lab1 = salus_db::identity::find_user_by_username(conn, "bench.lab1").await?;
        let lab2 = salus_db::identity::find_user_by_username(conn, "bench.lab2").await?;
        let (Some(lab1), Some(lab2)) = (lab1, lab2) else { return Ok(None) };
        let catalog = salus_db::laboratory::tests(conn, false).await?;
        let ranges =
            crate::laboratory::ranges_by_test(conn, &catalog.iter().map(|t| t.id).collect::<Vec<_>>())
                .await?;
        let members = crate::laboratory::analytes_of(conn, &catalog).await?;
        let orderables = ORDERED
            .iter()
            .filter_map(|(code, weight)| {
                let test = catalog.iter().find(|t| t.code == *code)?.clone();
                let analytes: Vec<lab_test::Model> = members
                    .get(&test.id)?
                    .iter()
                    .filter(|a| a.result_type == Some(ResultType::Numeric) && a.formula.is_none())
                    .cloned()
                    .collect();
                Some(Orderable { test, analytes, weight: *weight })
            })
            .collect();
        Ok(Some(Self {
            orderables,
            ranges,
            entered_by: lab1.user.id,
            verified_by: lab2.user.id,
            next_accession: 1,
        }))
    }

    /// One order of `p` by `doctor` at `at`: released with results, or (within the last
    /// day) waiting for collection.
    pub(super) fn add(
        &mut self,
        rng: &mut StdRng,
        p: &patient::Model,
        doctor: Uuid,
        at: DateTime<Utc>,
        rows: &mut LabRows,
    ) {
        let total: u32 = self.orderables.iter().map(|o| o.weight).sum();
        let mut pick = rng.random_range(0..total.max(1));
        let Some(o) = self.orderables.iter().find(|o| {
            if pick < o.weight {
                true
            } else {
                pick -= o.weight;
                false
            }
        }) else {
            return;
        };
        let now = Utc::now();
        let open = now - at < Duration::days(1);
        let order_id = Uuid::now_v7();
        let priority = match rng.random_range(0..20) {
            0 => Priority::Stat,
            1..=3 => Priority::Urgent,
            _ => Priority::Routine,
        };
        let specimen_id = (!open).then(Uuid::now_v7);
        rows.orders.push(lab_order::Model {
            id: order_id,
            patient_id: p.id,
            encounter_id: None,
            requisition_id: order_id,
            ordered_by: doctor,
            test_id: o.test.id,
            test_name: o.test.name.clone(),
            priority,
            clinical_info: None,
            status: if open { OrderStatus::Ordered } else { OrderStatus::Verified },
            cancel_reason: None,
            specimen_id,
            service_id: None,
            created_at: at,
            updated_at: at,
            version: 1,
        });
        rows.timeline.push(patient_timeline::Model {
            id: Uuid::now_v7(),
            patient_id: p.id,
            at,
            kind: "lab_order".into(),
            summary: format!("Ordered {} ({})", o.test.name, priority.words()),
            actor_id: Some(doctor),
        });
        let Some(specimen_id) = specimen_id else { return };
        let collected = at + Duration::minutes(rng.random_range(5..90));
        let released = collected + Duration::minutes(i64::from(o.test.turnaround_minutes.max(30)));
        self.next_accession += 1;
        rows.specimens.push(lab_specimen::Model {
            id: specimen_id,
            patient_id: p.id,
            accession: salus_core::laboratory::accession('G', collected.year(), self.next_accession),
            specimen: o.test.specimen.clone(),
            container: o.test.container.clone(),
            status: SpecimenStatus::Received,
            collected_by: self.entered_by,
            collected_at: collected,
            received_by: Some(self.entered_by),
            received_at: Some(collected + Duration::minutes(20)),
            reject_reason: None,
            reject_note: None,
            version: 1,
        });
        let sex = p.sex.parse().unwrap_or(Sex::Unknown);
        let age = p.birth_date.map(|b| age_in_days(b, collected));
        let reviewed = now - released > Duration::days(7);
        for a in &o.analytes {
            let range = age.and_then(|age| self.ranges.get(&a.id).and_then(|r| select_range(r, sex, age)));
            let limits = range.map(Limits::from).unwrap_or_default();
            // Mostly within the normal limits, a fifth outside, rarely critical.
            let (low, high) = match (limits.low, limits.high) {
                (Some(l), Some(h)) => (l, h),
                (None, Some(h)) => (h * 0.3, h),
                (Some(l), None) => (l, l * 1.6),
                (None, None) => (1.0, 10.0),
            };
            let spread = (high - low).max(f64::EPSILON);
            let raw = low + spread * rng.random_range(-0.12..1.12);
            let scale = 10f64.powi(a.decimals.clamp(0, 4));
            let mut value = (raw.max(0.0) * scale).round() / scale;
            let flag = match interpret(value, &limits, "value") {
                Ok(f) => f,
                Err(_) => {
                    value = (low + spread / 2.0).max(0.0);
                    None
                }
            };
            rows.results.push(lab_result::Model {
                id: Uuid::now_v7(),
                order_id,
                specimen_id,
                patient_id: p.id,
                test_id: a.id,
                analyte: a.name.clone(),
                loinc: a.loinc.clone(),
                revision: 1,
                status: ResultStatus::Final,
                value_num: Some(value),
                value_text: None,
                unit: a.unit.clone(),
                decimals: a.decimals,
                flag,
                ref_low: limits.low,
                ref_high: limits.high,
                critical_low: limits.critical_low,
                critical_high: limits.critical_high,
                range_text: range.map(|r| r.text(a.decimals)).filter(|t| !t.is_empty()),
                delta_percent: None,
                calculated: false,
                collected_at: collected,
                entered_by: self.entered_by,
                entered_at: released - Duration::minutes(10),
                verified_by: Some(self.verified_by),
                verified_at: Some(released),
                amend_reason: None,
                superseded_at: None,
                reviewed_by: reviewed.then_some(doctor),
                reviewed_at: reviewed.then_some(released + Duration::hours(4)),
                version: 1,
            });
        }
        debug_assert!(o.test.kind == TestKind::Panel || o.analytes.len() <= 1);
    }
}

impl LabRows {
    pub(super) fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }

    /// Writes the batch in the caller's transaction, counting its rows.
    pub(super) async fn write(
        self,
        conn: &impl ConnectionTrait,
        report: &mut HospitalReport,
    ) -> Result<(), AppError> {
        report.add("lab_orders", insert_all::<lab_order::Entity, _>(conn, self.orders).await?);
        report.add("lab_specimens", insert_all::<lab_specimen::Entity, _>(conn, self.specimens).await?);
        report.add("lab_results", insert_all::<lab_result::Entity, _>(conn, self.results).await?);
        report.add("patient_timeline", insert_all::<patient_timeline::Entity, _>(conn, self.timeline).await?);
        Ok(())
    }
}
