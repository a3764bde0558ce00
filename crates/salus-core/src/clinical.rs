//! Clinical values: vital signs in fixed integer units with their plausible ranges (a
//! typing slip such as 370 °C or a pulse of 7 is refused, not recorded), and the coded
//! states of encounters, notes, diagnoses and allergies (FHIR's value sets).

use serde::Serialize;

use crate::FieldError;

/// A decimal as typed ("36.8", "36,8") in units of 10^-`places`: "36.8" with 1 is 368.
pub fn parse_scaled(text: &str, places: u32, field: &'static str) -> Result<Option<i32>, FieldError> {
    let t = text.trim().replace(',', ".");
    if t.is_empty() {
        return Ok(None);
    }
    let bad = || FieldError::new(field, "enter a number");
    let (whole, fraction) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    if fraction.len() > places as usize {
        return Err(FieldError::new(field, format!("use at most {places} digit(s) after the point")));
    }
    if whole.len() > 6 {
        return Err(FieldError::new(field, "is far too large"));
    }
    let whole: i32 = whole.parse().map_err(|_| bad())?;
    let fraction: i32 = if places == 0 {
        0
    } else {
        format!("{fraction:0<width$}", width = places as usize).parse().map_err(|_| bad())?
    };
    Ok(Some(whole * 10_i32.pow(places) + fraction))
}

/// Vital signs as typed: temperature °C, pulse /min, blood pressure mmHg, respiratory
/// rate /min, SpO2 %, weight kg, height cm.
#[derive(Debug, Clone, Default)]
pub struct VitalsText {
    pub temperature_c: String,
    pub pulse: String,
    pub systolic: String,
    pub diastolic: String,
    pub respiratory_rate: String,
    pub spo2: String,
    pub weight_kg: String,
    pub height_cm: String,
}

/// Checked vital signs in fixed units: tenths of °C, grams, millimetres; BMI in tenths.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Vitals {
    pub temperature_dc: Option<i32>,
    pub pulse_bpm: Option<i32>,
    pub systolic: Option<i32>,
    pub diastolic: Option<i32>,
    pub respiratory_rate: Option<i32>,
    pub spo2: Option<i32>,
    pub weight_g: Option<i32>,
    pub height_mm: Option<i32>,
    pub bmi_x10: Option<i32>,
}

impl Vitals {
    /// Checks every field against its plausible range; all errors at once.
    pub fn check(t: &VitalsText) -> Result<Vitals, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut take =
            |text: &str, places: u32, field: &'static str, lo: i32, hi: i32, unit: &str| -> Option<i32> {
                match parse_scaled(text, places, field) {
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                    Ok(Some(v)) if v < lo || v > hi => {
                        let scale = 10_f64.powi(places as i32);
                        errors.push(FieldError::new(
                            field,
                            format!(
                                "is not plausible (expected {} to {} {unit})",
                                f64::from(lo) / scale,
                                f64::from(hi) / scale
                            ),
                        ));
                        None
                    }
                    Ok(v) => v,
                }
            };
        let v = Vitals {
            temperature_dc: take(&t.temperature_c, 1, "temperature_c", 300, 450, "°C"),
            pulse_bpm: take(&t.pulse, 0, "pulse", 20, 250, "/min"),
            systolic: take(&t.systolic, 0, "systolic", 50, 300, "mmHg"),
            diastolic: take(&t.diastolic, 0, "diastolic", 20, 200, "mmHg"),
            respiratory_rate: take(&t.respiratory_rate, 0, "respiratory_rate", 4, 80, "/min"),
            spo2: take(&t.spo2, 0, "spo2", 50, 100, "%"),
            weight_g: take(&t.weight_kg, 3, "weight_kg", 300, 400_000, "kg"),
            height_mm: take(&t.height_cm, 1, "height_cm", 300, 2_500, "cm"),
            bmi_x10: None,
        };
        match (v.systolic, v.diastolic) {
            (Some(s), Some(d)) if d >= s => {
                errors.push(FieldError::new("diastolic", "must be lower than the systolic pressure"));
            }
            (Some(_), None) | (None, Some(_))
                if errors.iter().all(|e| e.field != "systolic" && e.field != "diastolic") =>
            {
                errors.push(FieldError::new("diastolic", "give both pressures"));
            }
            _ => {}
        }
        let nothing = [
            v.temperature_dc,
            v.pulse_bpm,
            v.systolic,
            v.diastolic,
            v.respiratory_rate,
            v.spo2,
            v.weight_g,
            v.height_mm,
        ]
        .iter()
        .all(Option::is_none);
        if nothing && errors.is_empty() {
            errors.push(FieldError::new("temperature_c", "record at least one measurement"));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Vitals { bmi_x10: bmi_x10(v.weight_g, v.height_mm), ..v })
    }
}

/// Body-mass index in tenths: kg / m², rounded.
pub fn bmi_x10(weight_g: Option<i32>, height_mm: Option<i32>) -> Option<i32> {
    let (w, h) = (i64::from(weight_g?), i64::from(height_mm?));
    if h == 0 {
        return None;
    }
    // (w / 1000) / (h / 1000)^2 * 10 = w * 10_000 / h^2
    i32::try_from((w * 10_000 + h * h / 2) / (h * h)).ok()
}

macro_rules! coded {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn parse(text: &str, field: &'static str) -> Result<$name, FieldError> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text.trim()).ok_or_else(|| {
                    let all: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    FieldError::new(field, format!("choose one of {}", all.join(", ")))
                })
            }
        }
    };
}

coded!(
    /// FHIR Encounter.class.
    EncounterClass { Outpatient => "AMB", Emergency => "EMER" }
);
coded!(
    /// Where an encounter stands.
    EncounterStatus { InProgress => "in_progress", Finished => "finished", EnteredInError => "entered_in_error" }
);
coded!(
    /// A note is a draft until signed; signed is final.
    NoteStatus { Draft => "draft", Signed => "signed", EnteredInError => "entered_in_error" }
);
coded!(
    /// FHIR Condition.clinicalStatus (the subset a problem list needs).
    ClinicalStatus { Active => "active", Resolved => "resolved" }
);
coded!(
    /// FHIR AllergyIntolerance reaction severity.
    Severity { Mild => "mild", Moderate => "moderate", Severe => "severe" }
);
coded!(
    /// FHIR AllergyIntolerance.clinicalStatus.
    AllergyStatus { Active => "active", Inactive => "inactive", Resolved => "resolved" }
);

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str, p: &str, s: &str, d: &str, w: &str, h: &str) -> VitalsText {
        VitalsText {
            temperature_c: t.into(),
            pulse: p.into(),
            systolic: s.into(),
            diastolic: d.into(),
            weight_kg: w.into(),
            height_cm: h.into(),
            ..Default::default()
        }
    }

    #[test]
    fn plausible_vitals_in_fixed_units_with_bmi() {
        let v = Vitals::check(&text("36,8", "72", "120", "80", "70.5", "172")).unwrap();
        assert_eq!(
            (v.temperature_dc, v.pulse_bpm, v.weight_g, v.height_mm),
            (Some(368), Some(72), Some(70_500), Some(1720))
        );
        assert_eq!(v.bmi_x10, Some(238), "70.5 / 1.72² = 23.8");
    }

    #[test]
    fn implausible_vitals_are_refused_each_by_field() {
        let errors = Vitals::check(&text("370", "7", "80", "120", "", "")).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["temperature_c", "pulse", "diastolic"]);
        assert!(Vitals::check(&VitalsText::default()).is_err(), "nothing measured");
        assert_eq!(Vitals::check(&text("", "", "120", "", "", "")).unwrap_err()[0].field, "diastolic");
        assert!(Vitals::check(&text("36.85", "", "", "", "", "")).is_err(), "one decimal for temperature");
        assert!(Vitals::check(&text("-3", "", "", "", "", "")).is_err());
    }

    #[test]
    fn codes_round_trip() {
        assert_eq!(EncounterClass::parse("EMER", "class").unwrap(), EncounterClass::Emergency);
        assert!(Severity::parse("deadly", "severity").is_err());
    }
}
