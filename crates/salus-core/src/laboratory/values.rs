//! Reading a value: the reference range that applies to a patient (by sex and by age in
//! days at collection, the most specific band winning), the flag a value earns against it,
//! how it is shown, the analytes calculated rather than typed, the delta check, and the
//! accession number of a specimen.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{Flag, RangeSex};
use crate::FieldError;
use crate::patients::Sex;

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
