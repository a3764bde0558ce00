//! A patient's demographics as values that are valid once built: sex, the medical record
//! number with its check digit, phone numbers, e-mail addresses, dates of birth, blood
//! groups and identifier values. The shape follows FHIR's Patient so the FHIR door later
//! maps field to field.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::FieldError;

/// Administrative sex (FHIR `gender`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Female,
    Male,
    Other,
    Unknown,
}

impl crate::Coded for Sex {
    fn codes() -> Vec<&'static str> {
        Sex::ALL.iter().map(|s| s.as_str()).collect()
    }
}

impl Sex {
    pub const ALL: [Sex; 4] = [Sex::Female, Sex::Male, Sex::Other, Sex::Unknown];

    pub const fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Other => "other",
            Sex::Unknown => "unknown",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Sex::Female => "Female",
            Sex::Male => "Male",
            Sex::Other => "Other",
            Sex::Unknown => "Unknown",
        }
    }
}

impl FromStr for Sex {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Sex::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim().to_lowercase())
            .ok_or_else(|| FieldError::new("sex", "must be female, male, other or unknown"))
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// ABO and Rh blood group.
pub const BLOOD_GROUPS: [&str; 8] = ["A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"];

pub fn parse_blood_group(s: &str) -> Result<Option<String>, FieldError> {
    let s = s.trim().to_uppercase().replace(' ', "");
    if s.is_empty() {
        return Ok(None);
    }
    let s = s.replace("POS", "+").replace("NEG", "-");
    BLOOD_GROUPS
        .iter()
        .find(|g| **g == s)
        .map(|g| Some((*g).to_owned()))
        .ok_or_else(|| FieldError::new("blood_group", "must be one of A+, A-, B+, B-, AB+, AB-, O+, O-"))
}

/// The Luhn check digit of a string of digits.
pub fn luhn_digit(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// A medical record number: the facility's prefix, a sequence of at least seven digits
/// and a Luhn check digit, so a mistyped MRN is caught rather than finding someone else.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Mrn(String);

impl Mrn {
    pub fn new(prefix: &str, sequence: u64) -> Self {
        let digits = format!("{sequence:07}");
        Mrn(format!("{prefix}{digits}{}", luhn_digit(&digits)))
    }

    /// Reads an MRN as typed (any case, spaces and dashes ignored) if its check digit holds.
    pub fn parse(text: &str) -> Option<Mrn> {
        let s: String = text.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_uppercase();
        let split = s.find(|c: char| c.is_ascii_digit())?;
        let (prefix, digits) = s.split_at(split);
        if digits.len() < 8 || !digits.bytes().all(|b| b.is_ascii_digit()) || prefix.len() > 8 {
            return None;
        }
        let (body, check) = digits.split_at(digits.len() - 1);
        (luhn_digit(body) == u32::from(check.as_bytes()[0] - b'0')).then_some(Mrn(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Mrn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number in E.164 (`+<country code><number>`), from whatever the clerk typed:
/// "+91 98765 43210", "098765-43210", "(0)20 7946 0958", "0044 20 7946 0958". Read and
/// checked against the numbering plans of Google's libphonenumber (the `phonenumber`
/// crate), so an SMS gateway is never handed a number that cannot exist: a digit too
/// many, an Indian mobile starting with 1, a trunk 0 left inside the number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    /// `country_code` is the facility's calling code ("91"), used for numbers typed
    /// without one.
    pub fn parse(text: &str, country_code: &str, field: &'static str) -> Result<Phone, FieldError> {
        let t = text.trim();
        // The library also reads letters ("1-800-FLOWERS") and extensions; a clerk's typo
        // is likelier than either, so only digits and the usual separators pass.
        if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) {
            return Err(FieldError::new(field, "is not a phone number (digits, spaces, +, -, brackets)"));
        }
        let region = calling_code_region(country_code);
        // "00" is the international prefix almost everywhere; the library knows it only
        // for the facility's own region, so it is read as "+" here.
        let typed = match t.strip_prefix("00") {
            Some(rest) => format!("+{rest}"),
            None => t.to_owned(),
        };
        let invalid = || {
            FieldError::new(
                field,
                format!(
                    "is not a valid phone number (check the digits; numbers from abroad start with + and their country code, this facility's is +{country_code})"
                ),
            )
        };
        let number = phonenumber::parse(region, &typed).map_err(|_| invalid())?;
        if !number.is_valid() {
            return Err(invalid());
        }
        Ok(Phone(number.format().mode(phonenumber::Mode::E164).to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last nine digits: what search keys on, so "98765 43210" finds "+91 98765 43210".
    pub fn search_key(&self) -> String {
        let d = &self.0[1..];
        d[d.len().saturating_sub(9)..].to_owned()
    }
}

/// A stored number (E.164) as people read it: "+91 98765 43210", "+44 20 7946 0958",
/// grouped by its country's plan; as stored if it cannot be read.
pub fn show_phone(stored: &str) -> String {
    match phonenumber::parse(None, stored) {
        Ok(n) => n.format().mode(phonenumber::Mode::International).to_string(),
        Err(_) => stored.to_owned(),
    }
}

/// Whether `code` is a country calling code in the numbering plans ("91", "44", "1").
pub fn is_calling_code(code: &str) -> bool {
    calling_code_region(code).is_some()
}

fn calling_code_region(code: &str) -> Option<phonenumber::country::Id> {
    if code.is_empty() || code.len() > 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let regions = phonenumber::metadata::DATABASE.region(&code.parse::<u16>().ok()?)?;
    regions.first()?.parse().ok()
}

/// The last nine digits of a number typed into the search box, if it has enough digits to
/// be a phone number.
pub fn phone_search_key(digits: &str) -> Option<String> {
    (digits.len() >= 9 && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits[digits.len() - 9..].to_owned())
}

/// The oldest age a date of birth may give.
pub const MAX_AGE_YEARS: i32 = 130;

/// A date of birth: not in the future, not more than 130 years ago.
pub fn check_birth_date(date: NaiveDate, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    if date > today {
        return Err(FieldError::new("birth_date", "is in the future"));
    }
    if today.year() - date.year() > MAX_AGE_YEARS {
        return Err(FieldError::new("birth_date", format!("is more than {MAX_AGE_YEARS} years ago")));
    }
    Ok(date)
}

/// Reads a date as ISO (2024-03-01) or day first (01/03/2024, 01.03.2024, 01-03-2024), the
/// way forms in the countries Salus serves write it.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y"))
        .or_else(|_| NaiveDate::parse_from_str(t, "%d.%m.%Y"))
        .or_else(|_| NaiveDate::parse_from_str(t, "%d-%m-%Y"))
        .ok()
}

/// The birth date of someone of `years` today, when only an age is known (kept as
/// 1 January of that year and marked estimated).
pub fn estimated_birth_date(years: u32, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    let years = i32::try_from(years).unwrap_or(i32::MAX);
    if years > MAX_AGE_YEARS {
        return Err(FieldError::new("age_years", format!("must be at most {MAX_AGE_YEARS}")));
    }
    NaiveDate::from_ymd_opt(today.year() - years, 1, 1)
        .ok_or_else(|| FieldError::new("age_years", "is not an age"))
}

/// Age in whole years on `today`.
pub fn age_on(birth: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age.max(0)
}

/// An identifier value as compared: upper-case letters and digits only ("ab-123 456" and
/// "AB123456" are the same passport).
pub fn normalise_identifier(value: &str) -> String {
    value.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mrn_check_digit_catches_typos() {
        let m = Mrn::new("SAL", 1234);
        assert_eq!(m.as_str().len(), 3 + 7 + 1);
        assert_eq!(Mrn::parse(&m.as_str().to_lowercase()), Some(m.clone()));
        let mut typo = m.as_str().to_owned();
        typo.replace_range(5..6, if &typo[5..6] == "1" { "2" } else { "1" });
        assert_eq!(Mrn::parse(&typo), None, "{typo}");
        // Two adjacent digits swapped are caught too.
        let digits = "0001234";
        let swapped = "0002134";
        assert_ne!(luhn_digit(digits), luhn_digit(swapped));
    }

    #[test]
    fn phones_in_any_format() {
        let a = Phone::parse("+91 98765 43210", "91", "phone").unwrap();
        let b = Phone::parse("098765-43210", "91", "phone").unwrap();
        let c = Phone::parse("0091 (98765) 43210", "91", "phone").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.as_str(), "+919876543210");
        assert_eq!(a.search_key(), "876543210");
        assert_eq!(phone_search_key("9876543210").as_deref(), Some("876543210"));
        assert!(Phone::parse("12ab", "91", "phone").is_err());
        assert!(Phone::parse("123", "91", "phone").is_err());
        assert!(Phone::parse("9+1", "91", "phone").is_err());
    }

    #[test]
    fn phones_are_checked_against_the_numbering_plan() {
        let uk = Phone::parse("+44 20 7946 0958", "91", "phone").unwrap();
        assert_eq!(uk.as_str(), "+442079460958");
        assert_eq!(Phone::parse("0044 20 7946 0958", "91", "phone").unwrap(), uk, "00 is read as +");
        assert_eq!(Phone::parse("(0)20 7946 0958", "44", "phone").unwrap(), uk, "a UK facility's trunk 0");
        assert_eq!(
            Phone::parse("+91 44 2345 6789", "91", "phone").unwrap().as_str(),
            "+914423456789",
            "Chennai landline"
        );
        // A digit too many or too few, a country that does not exist, all zeros.
        for bad in ["98765 432101", "+91 98765 4321", "+999 1234 5678", "0000000000"] {
            let e = Phone::parse(bad, "91", "phone").unwrap_err();
            assert!(e.message.contains("+91"), "{bad}: {}", e.message);
        }
        assert_eq!(show_phone(uk.as_str()), "+44 20 7946 0958");
        assert_eq!(show_phone("+919876543210"), "+91 98765 43210");
        assert_eq!(show_phone("not a number"), "not a number");
        assert!(is_calling_code("91") && is_calling_code("1") && is_calling_code("234"));
        assert!(
            !is_calling_code("999")
                && !is_calling_code("")
                && !is_calling_code("+91")
                && !is_calling_code("0091")
        );
        // A facility with a calling code the plans do not know still reads full numbers.
        assert_eq!(Phone::parse("+91 98765 43210", "", "phone").unwrap().as_str(), "+919876543210");
    }

    #[test]
    fn dates_and_emails() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert!(check_birth_date(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(), today).is_err());
        assert!(check_birth_date(NaiveDate::from_ymd_opt(1880, 1, 1).unwrap(), today).is_err());
        assert_eq!(parse_date("01/03/1984"), NaiveDate::from_ymd_opt(1984, 3, 1));
        assert_eq!(parse_date("1984-03-01"), NaiveDate::from_ymd_opt(1984, 3, 1));
        assert_eq!(parse_date("31/02/1984"), None);
        assert_eq!(age_on(NaiveDate::from_ymd_opt(1984, 11, 24).unwrap(), today), 41);
        assert_eq!(parse_blood_group("ab pos").unwrap().as_deref(), Some("AB+"));
        assert!(parse_blood_group("C+").is_err());
    }
}
