//! The laboratory's language: the coded states of orders, specimens and results, the
//! reference range that applies to a patient (by sex and by age counted in days at
//! collection, the most specific band winning), the flag a value earns against it, and the
//! analytes that are calculated, never typed (eGFR by CKD-EPI 2021, Friedewald LDL).

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

mod records;
mod values;

pub use records::*;
pub use values::*;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::patients::Sex;
    use chrono::{DateTime, NaiveDate, Utc};
    use uuid::Uuid;

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
