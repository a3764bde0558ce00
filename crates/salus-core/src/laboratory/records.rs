//! The laboratory's records as the doors show them — catalog entries, order lines,
//! specimens, result revisions, critical alerts — and the cumulative table (analyte × time,
//! with a trend line) a chart draws from a patient's results.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::*;

/// A catalog entry as a door shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabTest {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: TestKind,
    pub loinc: Option<String>,
    pub section: String,
    pub specimen: String,
    pub container: String,
    pub unit: Option<String>,
    pub result_type: Option<ResultType>,
    pub decimals: i32,
    pub method: Option<String>,
    pub turnaround_minutes: i32,
    pub service_code: Option<String>,
    pub formula: Option<String>,
    pub answers: Option<String>,
    pub delta_percent: Option<f64>,
    pub active: bool,
    pub version: i32,
}

impl LabTest {
    /// The unit as a reader writes it (empty for none).
    pub fn unit_text(&self) -> String {
        self.unit.as_deref().map(unit_label).unwrap_or_default()
    }

    /// The coded answers, the normal one first.
    pub fn answer_list(&self) -> Vec<&str> {
        self.answers.as_deref().map(|a| a.split('|').collect()).unwrap_or_default()
    }
}

/// An order line: one test or panel for one patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabOrder {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub requisition_id: Uuid,
    pub ordered_by: Uuid,
    pub test_id: Uuid,
    pub test_name: String,
    pub priority: Priority,
    pub clinical_info: Option<String>,
    pub status: OrderStatus,
    pub cancel_reason: Option<String>,
    pub specimen_id: Option<Uuid>,
    pub service_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// A specimen with its accession number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Specimen {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub accession: String,
    pub specimen: String,
    pub container: String,
    pub status: SpecimenStatus,
    pub collected_by: Uuid,
    pub collected_at: DateTime<Utc>,
    pub received_by: Option<Uuid>,
    pub received_at: Option<DateTime<Utc>>,
    pub reject_reason: Option<RejectReason>,
    pub reject_note: Option<String>,
    pub version: i32,
}

/// One version of a result of one analyte.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabResult {
    pub id: Uuid,
    pub order_id: Uuid,
    pub specimen_id: Uuid,
    pub patient_id: Uuid,
    pub test_id: Uuid,
    pub analyte: String,
    pub loinc: Option<String>,
    pub revision: i32,
    pub status: ResultStatus,
    pub value_num: Option<f64>,
    pub value_text: Option<String>,
    pub unit: Option<String>,
    pub decimals: i32,
    pub flag: Option<Flag>,
    pub ref_low: Option<f64>,
    pub ref_high: Option<f64>,
    pub critical_low: Option<f64>,
    pub critical_high: Option<f64>,
    pub range_text: Option<String>,
    pub delta_percent: Option<f64>,
    pub calculated: bool,
    pub collected_at: DateTime<Utc>,
    pub entered_by: Uuid,
    pub entered_at: DateTime<Utc>,
    pub verified_by: Option<Uuid>,
    pub verified_at: Option<DateTime<Utc>>,
    pub amend_reason: Option<String>,
    pub superseded_at: Option<DateTime<Utc>>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

impl LabResult {
    /// The unit as a reader writes it (empty for none).
    pub fn unit_text(&self) -> String {
        self.unit.as_deref().map(unit_label).unwrap_or_default()
    }

    /// The value as a report prints it.
    pub fn value(&self) -> String {
        match (self.value_num, &self.value_text) {
            (Some(v), _) => show(v, self.decimals),
            (None, Some(t)) => t.clone(),
            (None, None) => String::new(),
        }
    }
}

/// A critical result's task: who must act, and whether they have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CriticalAlert {
    pub id: Uuid,
    pub result_id: Uuid,
    pub patient_id: Uuid,
    pub notify_user_id: Uuid,
    pub summary: String,
    pub created_at: DateTime<Utc>,
    pub escalate_at: DateTime<Utc>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<Uuid>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub read_back: Option<String>,
}

/// One analyte's line of a cumulative results table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CumulativeRow {
    pub analyte: String,
    pub unit: String,
    /// The newest range text, for the reader's eye.
    pub range_text: String,
    /// One cell per column: the value and its flag, if measured then.
    pub cells: Vec<Option<(String, Option<Flag>, bool)>>,
    /// The numeric values oldest first, as SVG polyline points in a 100 × 24 box.
    pub trend: String,
}

/// A patient's results as a table: analytes down, collection times across (newest first,
/// at most `columns`), each cell the value, its flag and whether it was corrected.
pub fn cumulative(results: &[LabResult], columns: usize) -> (Vec<DateTime<Utc>>, Vec<CumulativeRow>) {
    let mut times: Vec<DateTime<Utc>> = results.iter().map(|r| r.collected_at).collect();
    times.sort_by(|a, b| b.cmp(a));
    times.dedup();
    times.truncate(columns);
    let mut tests: Vec<(String, Uuid)> = results.iter().map(|r| (r.analyte.clone(), r.test_id)).collect();
    tests.sort();
    tests.dedup();
    let rows = tests
        .into_iter()
        .map(|(analyte, test)| {
            let mine: Vec<&LabResult> = results.iter().filter(|r| r.test_id == test).collect();
            let cells = times
                .iter()
                .map(|t| {
                    mine.iter()
                        .find(|r| r.collected_at == *t)
                        .map(|r| (r.value(), r.flag, r.status == ResultStatus::Corrected))
                })
                .collect();
            let mut points: Vec<(DateTime<Utc>, f64)> =
                mine.iter().filter_map(|r| r.value_num.map(|v| (r.collected_at, v))).collect();
            points.sort_by_key(|p| p.0);
            let newest = mine.iter().max_by_key(|r| r.collected_at);
            CumulativeRow {
                analyte,
                unit: newest.and_then(|r| r.unit.as_deref()).map(unit_label).unwrap_or_default(),
                range_text: newest.and_then(|r| r.range_text.clone()).unwrap_or_default(),
                cells,
                trend: trend_points(&points),
            }
        })
        .collect();
    (times, rows)
}

/// Points for a sparkline: x spread evenly, y scaled to the values' span (empty below two).
fn trend_points(points: &[(DateTime<Utc>, f64)]) -> String {
    if points.len() < 2 {
        return String::new();
    }
    let (lo, hi) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let step = 100.0 / (points.len() - 1) as f64;
    // A steady value is a line through the middle, not along the floor.
    let y = |v: f64| if hi > lo { 22.0 - (v - lo) / (hi - lo) * 20.0 } else { 12.0 };
    points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", i as f64 * step, y(p.1)))
        .collect::<Vec<_>>()
        .join(" ")
}
