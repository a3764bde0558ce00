//! The laboratory's language: the coded states of orders, specimens and results, the
//! reference range that applies to a patient (by sex and by age counted in days at
//! collection, the most specific band winning), the flag a value earns against it, and the
//! analytes that are calculated, never typed (eGFR by CKD-EPI 2021, Friedewald LDL).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::FieldError;
use crate::patients::Sex;

coded!(
    /// A catalog entry is one analyte (haemoglobin) or a panel of them (complete blood count).
    pub enum TestKind {
        Analyte,
        Panel,
    }
);
coded!(
    /// What a result holds: a number with a unit, one of the test's answers, or text.
    pub enum ResultType {
        Numeric,
        Coded,
        Text,
    }
);
coded!(
    /// How soon (FHIR ServiceRequest.priority, the subset a lab works to).
    pub enum Priority {
        Routine,
        Urgent,
        Stat,
    }
);
coded!(
    /// Where an order line stands. A rejected specimen sends its orders back to `ordered`.
    pub enum OrderStatus {
        /// Waiting for its specimen.
        Ordered,
        /// The specimen is taken, on its way to the lab.
        Collected,
        /// In the lab.
        Received,
        /// Results entered, waiting for a second person to verify them.
        Resulted,
        /// Every result verified: released to the chart and the patient.
        Verified,
        Cancelled,
    }
);
coded!(
    /// A specimen (FHIR Specimen.status, as a lab says it).
    pub enum SpecimenStatus {
        Collected,
        Received,
        Rejected,
    }
);
coded!(
    /// Why a specimen cannot be tested; each asks for a new collection.
    pub enum RejectReason {
        Haemolysed,
        Clotted,
        Insufficient,
        Mislabelled,
        WrongContainer,
        Leaked,
    }
);
coded!(
    /// A result version (FHIR Observation.status): entered and waiting for verification,
    /// verified and released, or a released result corrected by a newer version.
    pub enum ResultStatus {
        Preliminary,
        Final,
        Corrected,
    }
);
coded!(
    /// The sexes a reference range is written for; `any` serves a patient whose sex is
    /// other or unknown as well.
    pub enum RangeSex {
        Any,
        Female,
        Male,
    }
);
coded!(
    /// The interpretation of a value (FHIR's ObservationInterpretation codes).
    pub enum Flag {
        #[serde(rename = "LL")]
        #[strum(serialize = "LL")]
        #[cfg_attr(feature = "db", sea_orm(string_value = "LL"))]
        CriticalLow,
        #[serde(rename = "L")]
        #[strum(serialize = "L")]
        #[cfg_attr(feature = "db", sea_orm(string_value = "L"))]
        Low,
        #[serde(rename = "H")]
        #[strum(serialize = "H")]
        #[cfg_attr(feature = "db", sea_orm(string_value = "H"))]
        High,
        #[serde(rename = "HH")]
        #[strum(serialize = "HH")]
        #[cfg_attr(feature = "db", sea_orm(string_value = "HH"))]
        CriticalHigh,
        /// A coded answer other than the normal one.
        #[serde(rename = "A")]
        #[strum(serialize = "A")]
        #[cfg_attr(feature = "db", sea_orm(string_value = "A"))]
        Abnormal,
    }
);

impl Flag {
    pub fn is_critical(self) -> bool {
        matches!(self, Flag::CriticalLow | Flag::CriticalHigh)
    }
}

/// A reference range of the catalog: a half-open age band `[from_days, to_days)` for a
/// sex, with normal, critical and valid (possible at all) limits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceRange {
    pub id: Uuid,
    pub test_id: Uuid,
    pub sex: RangeSex,
    pub age_from_days: i32,
    pub age_to_days: Option<i32>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub critical_low: Option<f64>,
    pub critical_high: Option<f64>,
    pub valid_low: Option<f64>,
    pub valid_high: Option<f64>,
    /// Where the numbers come from; seeded ones ask the site to confirm them.
    pub source: String,
}

impl ReferenceRange {
    fn covers(&self, sex: Sex, age_days: i32) -> bool {
        let sex_ok = match self.sex {
            RangeSex::Any => true,
            RangeSex::Female => sex == Sex::Female,
            RangeSex::Male => sex == Sex::Male,
        };
        sex_ok && self.age_from_days <= age_days && self.age_to_days.is_none_or(|to| age_days < to)
    }

    /// "3.5–5.1", "< 5.0", "> 40"; empty when the band sets no normal limits.
    pub fn text(&self, decimals: i32) -> String {
        match (self.low, self.high) {
            (Some(l), Some(h)) => format!("{}–{}", show(l, decimals), show(h, decimals)),
            (None, Some(h)) => format!("< {}", show(h, decimals)),
            (Some(l), None) => format!("> {}", show(l, decimals)),
            (None, None) => String::new(),
        }
    }
}

/// The range that applies to a patient of `sex` aged `age_days` at collection: a band
/// written for their sex beats one for any sex, then the narrower age band wins.
pub fn select_range(ranges: &[ReferenceRange], sex: Sex, age_days: i32) -> Option<&ReferenceRange> {
    ranges.iter().filter(|r| r.covers(sex, age_days)).min_by_key(|r| {
        let width = r.age_to_days.map_or(i64::MAX, |to| i64::from(to) - i64::from(r.age_from_days));
        (r.sex == RangeSex::Any, width)
    })
}

/// Whole days from birth to the moment of collection (a three-day-old is 3, never "0 years").
pub fn age_in_days(birth: NaiveDate, at: DateTime<Utc>) -> i32 {
    i32::try_from((at.date_naive() - birth).num_days()).unwrap_or(i32::MAX).max(0)
}

/// The limits copied onto a result, so a report reprinted years later reads the same.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Limits {
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub critical_low: Option<f64>,
    pub critical_high: Option<f64>,
    pub valid_low: Option<f64>,
    pub valid_high: Option<f64>,
}

impl From<&ReferenceRange> for Limits {
    fn from(r: &ReferenceRange) -> Self {
        Self {
            low: r.low,
            high: r.high,
            critical_low: r.critical_low,
            critical_high: r.critical_high,
            valid_low: r.valid_low,
            valid_high: r.valid_high,
        }
    }
}

/// The flag `value` earns, or an error when it cannot be a measurement at all (outside
/// the valid limits: a typing slip, refused rather than recorded).
pub fn interpret(value: f64, l: &Limits, field: &'static str) -> Result<Option<Flag>, FieldError> {
    if !value.is_finite() || l.valid_low.is_some_and(|v| value < v) || l.valid_high.is_some_and(|v| value > v)
    {
        let bounds = match (l.valid_low, l.valid_high) {
            (Some(a), Some(b)) => format!(" (possible: {a} to {b})"),
            _ => String::new(),
        };
        return Err(FieldError::new(field, format!("{value} is not a possible value{bounds}")));
    }
    Ok(if l.critical_low.is_some_and(|c| value < c) {
        Some(Flag::CriticalLow)
    } else if l.critical_high.is_some_and(|c| value > c) {
        Some(Flag::CriticalHigh)
    } else if l.low.is_some_and(|c| value < c) {
        Some(Flag::Low)
    } else if l.high.is_some_and(|c| value > c) {
        Some(Flag::High)
    } else {
        None
    })
}

/// A number as typed ("5.4", "5,4", " 12 "); a comparator or a unit is refused.
pub fn parse_value(text: &str, field: &'static str) -> Result<f64, FieldError> {
    let t = text.trim().replace(',', ".");
    let ok = !t.is_empty()
        && t.len() <= 20
        && t.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-')
        && t.chars().filter(|c| *c == '.').count() <= 1;
    match t.parse::<f64>() {
        Ok(v) if ok && v.is_finite() => Ok(v),
        _ => Err(FieldError::new(field, "enter a number, such as 5.4")),
    }
}

/// A value shown with the test's decimals ("5.40" for 2).
pub fn show(value: f64, decimals: i32) -> String {
    format!("{value:.prec$}", prec = usize::try_from(decimals.clamp(0, 4)).unwrap_or(0))
}

/// A UCUM unit as a reader writes it: "10*3/uL" is "×10³/µL", "mL/min/{1.73_m2}" is
/// "mL/min/1.73 m²"; annotations in braces lose their braces.
pub fn unit_label(ucum: &str) -> String {
    let mut s = ucum
        .replace("10*3", "×10³")
        .replace("10*6", "×10⁶")
        .replace("10*9", "×10⁹")
        .replace("uL", "µL")
        .replace("{1.73_m2}", "1.73 m²")
        .replace("/[HPF]", "/HPF");
    s.retain(|c| c != '{' && c != '}' && c != '[' && c != ']');
    s
}

/// The analytes computed from others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formula {
    /// eGFR (mL/min/1.73 m²) from serum creatinine in mg/dL, CKD-EPI 2021 (race-free).
    EgfrCkdEpi2021,
    /// LDL cholesterol (mg/dL) = total − HDL − triglycerides / 5; not valid above 400 mg/dL TG.
    LdlFriedewald,
}

impl Formula {
    pub fn parse(code: &str) -> Option<Formula> {
        match code {
            "egfr_ckd_epi_2021" => Some(Formula::EgfrCkdEpi2021),
            "ldl_friedewald" => Some(Formula::LdlFriedewald),
            _ => None,
        }
    }

    /// The LOINC codes of the inputs, in the order `compute` takes them.
    pub fn inputs(self) -> &'static [&'static str] {
        match self {
            // Creatinine [Mass/volume] in serum or plasma.
            Formula::EgfrCkdEpi2021 => &["2160-0"],
            // Cholesterol, HDL cholesterol, triglycerides [Mass/volume] in serum or plasma.
            Formula::LdlFriedewald => &["2093-3", "2085-9", "2571-8"],
        }
    }

    /// The value, or None when the inputs do not allow one (a child, an unknown sex for
    /// eGFR; triglycerides above 400 mg/dL for Friedewald).
    pub fn compute(self, inputs: &[f64], sex: Sex, age_days: i32) -> Option<f64> {
        match (self, inputs) {
            (Formula::EgfrCkdEpi2021, [scr]) => egfr_ckd_epi_2021(*scr, sex, age_days),
            (Formula::LdlFriedewald, [total, hdl, tg]) => ldl_friedewald(*total, *hdl, *tg),
            _ => None,
        }
    }
}

/// CKD-EPI 2021 creatinine equation (Inker et al., NEJM 2021), adults only.
pub fn egfr_ckd_epi_2021(creatinine_mg_dl: f64, sex: Sex, age_days: i32) -> Option<f64> {
    let age_years = f64::from(age_days) / 365.25;
    if age_years < 18.0 || creatinine_mg_dl <= 0.0 {
        return None;
    }
    let (kappa, alpha, factor) = match sex {
        Sex::Female => (0.7, -0.241, 1.012),
        Sex::Male => (0.9, -0.302, 1.0),
        Sex::Other | Sex::Unknown => return None,
    };
    let r = creatinine_mg_dl / kappa;
    let value =
        142.0 * r.min(1.0).powf(alpha) * r.max(1.0).powf(-1.200) * 0.9938_f64.powf(age_years) * factor;
    Some(value.round())
}

/// Friedewald's LDL estimate in mg/dL; None when triglycerides exceed 400 mg/dL.
pub fn ldl_friedewald(total: f64, hdl: f64, triglycerides: f64) -> Option<f64> {
    (triglycerides <= 400.0).then(|| ((total - hdl - triglycerides / 5.0) * 10.0).round() / 10.0)
}

/// The change from the previous result in percent when it exceeds `limit_percent` (a
/// delta check: a sudden change is more often a wrong patient or a bad specimen than a
/// change in the patient).
pub fn delta_exceeds(previous: f64, value: f64, limit_percent: f64) -> Option<f64> {
    if previous == 0.0 {
        return None;
    }
    let change = (value - previous) / previous.abs() * 100.0;
    (change.abs() > limit_percent).then_some((change * 10.0).round() / 10.0)
}

/// The accession number of a specimen: "L26-000042" (the 42nd of 2026). Numbers are
/// handed out in the transaction that records the collection, so none is skipped, and a
/// reprinted label shows the stored number.
pub fn accession(prefix: char, year: i32, n: i64) -> String {
    format!("{prefix}{:02}-{n:06}", year.rem_euclid(100))
}

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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn band(sex: RangeSex, from: i32, to: Option<i32>, low: f64, high: f64) -> ReferenceRange {
        ReferenceRange {
            id: Uuid::nil(),
            test_id: Uuid::nil(),
            sex,
            age_from_days: from,
            age_to_days: to,
            low: Some(low),
            high: Some(high),
            critical_low: None,
            critical_high: None,
            valid_low: Some(0.0),
            valid_high: Some(30.0),
            source: String::new(),
        }
    }

    /// Haemoglobin (g/dL) as a lab writes it: neonates, infants, children, then adults by sex.
    fn haemoglobin() -> Vec<ReferenceRange> {
        vec![
            band(RangeSex::Any, 6570, None, 12.0, 17.5),
            band(RangeSex::Female, 6570, None, 12.0, 15.5),
            band(RangeSex::Male, 6570, None, 13.5, 17.5),
            band(RangeSex::Any, 0, Some(28), 14.0, 22.0),
            band(RangeSex::Any, 28, Some(365), 9.5, 14.0),
            band(RangeSex::Any, 365, Some(6570), 11.0, 15.5),
        ]
    }

    #[test]
    fn the_most_specific_band_wins() {
        let r = haemoglobin();
        let pick = |sex, days| select_range(&r, sex, days).map(|b| (b.low.unwrap(), b.high.unwrap()));
        // (sex, age in days, expected normal limits)
        let table = [
            (Sex::Male, 0, Some((14.0, 22.0))),         // born today: neonatal
            (Sex::Female, 3, Some((14.0, 22.0))),       // three days: neonatal, never adult
            (Sex::Unknown, 3, Some((14.0, 22.0))),      // unknown sex still gets one
            (Sex::Male, 27, Some((14.0, 22.0))),        // last neonatal day
            (Sex::Male, 28, Some((9.5, 14.0))),         // half-open: day 28 is an infant
            (Sex::Female, 364, Some((9.5, 14.0))),      // under a year, not "0 years = adult"
            (Sex::Female, 365, Some((11.0, 15.5))),     // child
            (Sex::Male, 6569, Some((11.0, 15.5))),      // the day before 18 years
            (Sex::Male, 6570, Some((13.5, 17.5))),      // adult male
            (Sex::Female, 20_000, Some((12.0, 15.5))),  // adult female
            (Sex::Other, 20_000, Some((12.0, 17.5))),   // other: the band for any sex
            (Sex::Unknown, 20_000, Some((12.0, 17.5))), // unknown: the band for any sex
            (Sex::Male, -1, None),                      // before birth: nothing applies
        ];
        for (sex, days, want) in table {
            assert_eq!(pick(sex, days), want, "{sex} aged {days} days");
        }
    }

    #[test]
    fn flags_and_impossible_values() {
        let l = Limits {
            low: Some(3.5),
            high: Some(5.1),
            critical_low: Some(2.8),
            critical_high: Some(6.2),
            valid_low: Some(0.5),
            valid_high: Some(15.0),
        };
        let f = |v| interpret(v, &l, "value");
        assert_eq!(f(4.0).unwrap(), None);
        assert_eq!(f(3.5).unwrap(), None, "the limit itself is normal");
        assert_eq!(f(3.4).unwrap(), Some(Flag::Low));
        assert_eq!(f(2.7).unwrap(), Some(Flag::CriticalLow));
        assert_eq!(f(5.2).unwrap(), Some(Flag::High));
        assert_eq!(f(6.3).unwrap(), Some(Flag::CriticalHigh));
        let e = f(45.0).unwrap_err();
        assert_eq!(e.field, "value");
        assert!(e.message.contains("not a possible value"), "{e}");
        assert!(f(0.1).is_err());
        assert!(f(f64::NAN).is_err());
        assert_eq!(Flag::CriticalHigh.as_str(), "HH");
        assert_eq!("LL".parse::<Flag>().unwrap(), Flag::CriticalLow);
    }

    #[test]
    fn values_as_typed() {
        assert_eq!(parse_value(" 5,4 ", "v").unwrap(), 5.4);
        assert_eq!(parse_value("-2", "v").unwrap(), -2.0);
        for bad in ["", "5.4.1", "<0.1", "5 mmol/L", "1e9", "inf", "NaN"] {
            assert!(parse_value(bad, "v").is_err(), "{bad}");
        }
        assert_eq!(show(5.0, 2), "5.00");
        assert_eq!(show(13.456, 1), "13.5");
    }

    #[test]
    fn calculated_analytes() {
        let years = |y: i32| y * 365 + y / 4;
        // CKD-EPI 2021 worked values: a 50-year-old woman with creatinine 1.0 mg/dL has an
        // eGFR of about 69, a 50-year-old man with 1.0 about 92.
        assert_eq!(egfr_ckd_epi_2021(1.0, Sex::Female, years(50)), Some(69.0));
        assert_eq!(egfr_ckd_epi_2021(1.0, Sex::Male, years(50)), Some(92.0));
        assert_eq!(egfr_ckd_epi_2021(1.0, Sex::Male, years(12)), None, "not for children");
        assert_eq!(egfr_ckd_epi_2021(1.0, Sex::Unknown, years(50)), None);
        assert_eq!(ldl_friedewald(200.0, 50.0, 150.0), Some(120.0));
        assert_eq!(ldl_friedewald(200.0, 50.0, 450.0), None, "TG above 400");
        assert_eq!(
            Formula::parse("ldl_friedewald").unwrap().compute(&[180.0, 40.0, 100.0], Sex::Male, 0),
            Some(120.0)
        );
    }

    #[test]
    fn units_as_a_reader_writes_them() {
        assert_eq!(unit_label("10*3/uL"), "×10³/µL");
        assert_eq!(unit_label("mL/min/{1.73_m2}"), "mL/min/1.73 m²");
        assert_eq!(unit_label("{INR}"), "INR");
        assert_eq!(unit_label("/[HPF]"), "/HPF");
        assert_eq!(unit_label("mmol/L"), "mmol/L");
    }

    #[test]
    fn delta_and_accession() {
        assert_eq!(delta_exceeds(4.0, 6.5, 50.0), Some(62.5));
        assert_eq!(delta_exceeds(4.0, 5.0, 50.0), None);
        assert_eq!(delta_exceeds(0.0, 5.0, 50.0), None);
        assert_eq!(accession('L', 2026, 42), "L26-000042");
        let birth = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let at = DateTime::parse_from_rfc3339("2026-11-30T08:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(age_in_days(birth, at), 3);
    }

    #[test]
    fn the_cumulative_table_puts_each_value_under_its_collection() {
        let at = |h: i64| DateTime::<Utc>::from_timestamp(1_790_000_000 + h * 3600, 0).unwrap();
        let k = Uuid::from_u128(1);
        let na = Uuid::from_u128(2);
        let result = |test: Uuid, name: &str, h: i64, v: f64, flag: Option<Flag>| LabResult {
            id: Uuid::now_v7(),
            order_id: Uuid::nil(),
            specimen_id: Uuid::nil(),
            patient_id: Uuid::nil(),
            test_id: test,
            analyte: name.into(),
            loinc: None,
            revision: 1,
            status: ResultStatus::Final,
            value_num: Some(v),
            value_text: None,
            unit: Some("mmol/L".into()),
            decimals: 1,
            flag,
            ref_low: None,
            ref_high: None,
            critical_low: None,
            critical_high: None,
            range_text: Some("3.5–5.1".into()),
            delta_percent: None,
            calculated: false,
            collected_at: at(h),
            entered_by: Uuid::nil(),
            entered_at: at(h),
            verified_by: None,
            verified_at: None,
            amend_reason: None,
            superseded_at: None,
            reviewed_by: None,
            reviewed_at: None,
        };
        let rows = vec![
            result(k, "Potassium", 0, 4.0, None),
            result(k, "Potassium", 24, 6.8, Some(Flag::CriticalHigh)),
            result(na, "Sodium", 24, 140.0, None),
        ];
        let (times, table) = cumulative(&rows, 10);
        assert_eq!(times, vec![at(24), at(0)], "newest first");
        assert_eq!(table[0].analyte, "Potassium");
        assert_eq!(table[0].cells[0], Some(("6.8".into(), Some(Flag::CriticalHigh), false)));
        assert_eq!(table[0].cells[1], Some(("4.0".into(), None, false)));
        assert_eq!(
            table[1].cells,
            vec![Some(("140.0".into(), None, false)), None],
            "no sodium the first day"
        );
        assert_eq!(table[0].trend, "0.0,22.0 100.0,2.0", "rising: low to high");
        assert_eq!(table[1].trend, "", "one value draws no line");
        let steady = vec![result(na, "Sodium", 0, 140.0, None), result(na, "Sodium", 24, 140.0, None)];
        assert_eq!(cumulative(&steady, 10).1[0].trend, "0.0,12.0 100.0,12.0", "steady: through the middle");
        assert_eq!(cumulative(&rows, 1).0.len(), 1);
    }
}
