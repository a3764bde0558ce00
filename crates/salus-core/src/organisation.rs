//! The hospital's own shape: codes and names of facilities, departments, specialisations
//! and services; money in integer minor units of one configured currency; tax rates in
//! basis points. A price never passes through a float.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// A short code an administrator gives a facility, department, specialisation or service
/// ("MAIN", "CARD", "CONS-GEN"): 1–32 of `A-Z 0-9 - _ .`, stored upper-case so "card" and
/// "CARD" cannot both exist.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Code(String);

impl Code {
    pub fn parse(text: &str, field: &'static str) -> Result<Code, FieldError> {
        // Blanks around a code are forgiven, within reason (the API documents 40 in all).
        if text.chars().count() > 40 {
            return Err(FieldError::new(field, "use at most 32 characters"));
        }
        let code = text.trim().to_uppercase();
        if code.is_empty() {
            return Err(FieldError::new(field, "enter a code"));
        }
        if code.len() > 32 {
            return Err(FieldError::new(field, "use at most 32 characters"));
        }
        if !code.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return Err(FieldError::new(field, "use only letters, digits, '-', '_' and '.'"));
        }
        Ok(Code(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A name shown to people: trimmed, inner runs of white space made one space, 1–`max`
/// characters as sent (the API document's maxLength counts them so), no control
/// characters.
pub fn parse_label(text: &str, field: &'static str, max: usize) -> Result<String, FieldError> {
    let label = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if label.is_empty() {
        return Err(FieldError::new(field, "enter a name"));
    }
    if text.chars().count() > max {
        return Err(FieldError::new(field, format!("use at most {max} characters")));
    }
    if label.chars().any(char::is_control) {
        return Err(FieldError::new(field, "remove the control characters"));
    }
    Ok(label)
}

/// Optional free text: `None` when blank, else as [`parse_label`].
pub fn parse_optional_label(
    text: &str,
    field: &'static str,
    max: usize,
) -> Result<Option<String>, FieldError> {
    if text.trim().is_empty() { Ok(None) } else { parse_label(text, field, max).map(Some) }
}

/// The installation's currency (ISO 4217) and how many digits its minor unit has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency {
    code: iso_currency::Currency,
    exponent: u32,
}

impl Currency {
    /// A currency by its ISO 4217 code ("INR", "usd"); `None` for unknown codes and for
    /// funds and metals, which have no minor unit.
    pub fn parse(code: &str) -> Option<Currency> {
        let c = iso_currency::Currency::from_code(&code.trim().to_uppercase())?;
        Some(Currency { code: c, exponent: u32::from(c.exponent()?) })
    }

    pub fn code(self) -> &'static str {
        self.code.code()
    }

    /// Digits after the decimal point (2 for INR, 0 for JPY, 3 for KWD).
    pub fn exponent(self) -> u32 {
        self.exponent
    }
}

impl Default for Currency {
    fn default() -> Self {
        Currency { code: iso_currency::Currency::INR, exponent: 2 }
    }
}

/// An amount in minor units (paise, cents) of the installation's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_minor(minor: i64) -> Money {
        Money(minor)
    }

    pub const fn minor(self) -> i64 {
        self.0
    }

    /// A price as typed: "1250", "1,250.50", "1250.5". Not negative, at most the
    /// currency's digits after the point, at most 10^12 major units.
    pub fn parse_price(text: &str, currency: Currency, field: &'static str) -> Result<Money, FieldError> {
        let digits: String = text.trim().chars().filter(|c| !matches!(c, ',' | '_' | ' ')).collect();
        let bad = || FieldError::new(field, "enter an amount such as 1250 or 1250.50");
        if digits.is_empty() {
            return Err(FieldError::new(field, "enter an amount"));
        }
        if digits.starts_with('-') {
            return Err(FieldError::new(field, "a price cannot be negative"));
        }
        let (whole, fraction) = digits.split_once('.').unwrap_or((&digits, ""));
        if whole.is_empty() && fraction.is_empty() {
            return Err(bad());
        }
        if !whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let places = currency.exponent();
        if fraction.len() > places as usize {
            return Err(FieldError::new(
                field,
                format!("{} has {places} digits after the point at most", currency.code()),
            ));
        }
        if whole.trim_start_matches('0').len() > 12 {
            return Err(FieldError::new(field, "the amount is too large"));
        }
        let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
        let padded = format!("{fraction:0<width$}", width = places as usize);
        let fraction: i64 = if padded.is_empty() { 0 } else { padded.parse().map_err(|_| bad())? };
        Ok(Money(whole * 10_i64.pow(places) + fraction))
    }

    /// Grouped as the currency's home locale writes it, the currency's digits after the
    /// point: "1,25,000.50" for rupees (lakhs and crores), "125,000.50" for dollars.
    pub fn format(self, currency: Currency) -> String {
        use num_format::{Locale, ToFormattedString};
        let scale = 10_i64.pow(currency.exponent());
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let locale = match currency.code {
            iso_currency::Currency::INR | iso_currency::Currency::NPR => Locale::en_IN,
            _ => Locale::en,
        };
        let grouped = (abs / scale.unsigned_abs()).to_formatted_string(&locale);
        if currency.exponent() == 0 {
            format!("{sign}{grouped}")
        } else {
            let fraction = abs % scale.unsigned_abs();
            format!("{sign}{grouped}.{fraction:0width$}", width = currency.exponent() as usize)
        }
    }

    /// As typed in a form field: no grouping ("1250.50").
    pub fn plain(self, currency: Currency) -> String {
        self.format(currency).replace(',', "")
    }
}

/// A tax rate in basis points (1800 = 18 %), 0 to 100 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct TaxRate(u32);

impl TaxRate {
    pub fn from_basis_points(bp: u32, field: &'static str) -> Result<TaxRate, FieldError> {
        if bp > 10_000 {
            return Err(FieldError::new(field, "a tax rate is at most 100%"));
        }
        Ok(TaxRate(bp))
    }

    /// "18", "18%", "12.5 %", "0" (blank is 0).
    pub fn parse_percent(text: &str, field: &'static str) -> Result<TaxRate, FieldError> {
        let t = text.trim().trim_end_matches('%').trim();
        if t.is_empty() {
            return Ok(TaxRate(0));
        }
        let (whole, fraction) = t.split_once('.').unwrap_or((t, ""));
        let bad = || FieldError::new(field, "enter a percentage such as 18 or 12.5");
        if whole.is_empty()
            || fraction.len() > 2
            || !whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        if whole.len() > 3 {
            return Err(FieldError::new(field, "a tax rate is at most 100%"));
        }
        let whole: u32 = whole.parse().map_err(|_| bad())?;
        let fraction: u32 =
            if fraction.is_empty() { 0 } else { format!("{fraction:0<2}").parse().map_err(|_| bad())? };
        TaxRate::from_basis_points(whole * 100 + fraction, field)
    }

    pub const fn basis_points(self) -> u32 {
        self.0
    }

    /// The tax on `amount`, rounded half away from zero to the minor unit.
    pub fn tax_on(self, amount: Money) -> Money {
        let product = i128::from(amount.minor()) * i128::from(self.0);
        let rounded = (product.abs() + 5_000) / 10_000 * product.signum();
        Money::from_minor(i64::try_from(rounded).unwrap_or(i64::MAX))
    }
}

impl fmt::Display for TaxRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, fraction) = (self.0 / 100, self.0 % 100);
        match fraction {
            0 => write!(f, "{whole}%"),
            f2 if f2.is_multiple_of(10) => write!(f, "{whole}.{}%", f2 / 10),
            f2 => write!(f, "{whole}.{f2:02}%"),
        }
    }
}

/// What kind of thing a service on the price list is; billing and reports group by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceCategory {
    Consultation,
    Procedure,
    Laboratory,
    Imaging,
    BedDay,
    Pharmacy,
    Other,
}

impl ServiceCategory {
    pub const ALL: [ServiceCategory; 7] = [
        ServiceCategory::Consultation,
        ServiceCategory::Procedure,
        ServiceCategory::Laboratory,
        ServiceCategory::Imaging,
        ServiceCategory::BedDay,
        ServiceCategory::Pharmacy,
        ServiceCategory::Other,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ServiceCategory::Consultation => "consultation",
            ServiceCategory::Procedure => "procedure",
            ServiceCategory::Laboratory => "laboratory",
            ServiceCategory::Imaging => "imaging",
            ServiceCategory::BedDay => "bed_day",
            ServiceCategory::Pharmacy => "pharmacy",
            ServiceCategory::Other => "other",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            ServiceCategory::Consultation => "Consultation",
            ServiceCategory::Procedure => "Procedure",
            ServiceCategory::Laboratory => "Laboratory",
            ServiceCategory::Imaging => "Imaging",
            ServiceCategory::BedDay => "Bed day",
            ServiceCategory::Pharmacy => "Pharmacy",
            ServiceCategory::Other => "Other",
        }
    }

    pub fn parse(text: &str, field: &'static str) -> Result<ServiceCategory, FieldError> {
        Self::ALL.into_iter().find(|c| c.as_str() == text.trim()).ok_or_else(|| {
            FieldError::new(
                field,
                "choose one of consultation, procedure, laboratory, imaging, bed_day, pharmacy, other",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inr() -> Currency {
        Currency::parse("inr").unwrap()
    }

    #[test]
    fn codes_are_upper_case_and_plain() {
        assert_eq!(Code::parse(" cons-gen ", "code").unwrap().as_str(), "CONS-GEN");
        assert!(Code::parse("", "code").is_err());
        assert!(Code::parse("a b", "code").is_err());
        assert!(Code::parse(&"X".repeat(33), "code").is_err());
    }

    #[test]
    fn prices_parse_to_minor_units() {
        assert_eq!(Money::parse_price("1,250.50", inr(), "p").unwrap().minor(), 125_050);
        assert_eq!(Money::parse_price("1250.5", inr(), "p").unwrap().minor(), 125_050);
        assert_eq!(Money::parse_price("500", inr(), "p").unwrap().minor(), 50_000);
        assert_eq!(Money::parse_price(".75", inr(), "p").unwrap().minor(), 75);
        assert!(Money::parse_price("12.345", inr(), "p").is_err());
        assert!(Money::parse_price("-5", inr(), "p").is_err());
        assert!(Money::parse_price("12a", inr(), "p").is_err());
        assert!(Money::parse_price(".", inr(), "p").is_err());
        assert!(Money::parse_price("1e5", inr(), "p").is_err());
        assert!(Money::parse_price("9999999999999", inr(), "p").is_err());
        let yen = Currency::parse("JPY").unwrap();
        assert_eq!(Money::parse_price("1500", yen, "p").unwrap().minor(), 1500);
        assert!(Money::parse_price("1500.5", yen, "p").is_err());
        let dinar = Currency::parse("KWD").unwrap();
        assert_eq!(Money::parse_price("1.5", dinar, "p").unwrap().minor(), 1500);
    }

    #[test]
    fn money_formats_with_the_currency_digits() {
        assert_eq!(Money::from_minor(125_050).format(inr()), "1,250.50");
        assert_eq!(Money::from_minor(123_456_789).format(inr()), "12,34,567.89", "lakhs");
        assert_eq!(Money::from_minor(12_500_050).format(inr()), "1,25,000.50");
        assert_eq!(Money::from_minor(12_500_050).format(Currency::parse("USD").unwrap()), "125,000.50");
        assert_eq!(Money::from_minor(5).format(inr()), "0.05");
        assert_eq!(Money::from_minor(-1_000).format(inr()), "-10.00");
        assert_eq!(Money::from_minor(125_050).plain(inr()), "1250.50");
        assert_eq!(Money::from_minor(1500).format(Currency::parse("JPY").unwrap()), "1,500");
        assert!(Currency::parse("XXX").is_none());
        assert!(Currency::parse("ABC").is_none());
    }

    #[test]
    fn tax_rates_in_basis_points() {
        assert_eq!(TaxRate::parse_percent("18", "t").unwrap().basis_points(), 1800);
        assert_eq!(TaxRate::parse_percent("12.5 %", "t").unwrap().basis_points(), 1250);
        assert_eq!(TaxRate::parse_percent("", "t").unwrap().basis_points(), 0);
        assert!(TaxRate::parse_percent("101", "t").is_err());
        assert!(TaxRate::parse_percent("1.234", "t").is_err());
        assert!(TaxRate::parse_percent("-1", "t").is_err());
        assert_eq!(TaxRate::parse_percent("12.5", "t").unwrap().to_string(), "12.5%");
        assert_eq!(TaxRate::parse_percent("0.25", "t").unwrap().to_string(), "0.25%");
        assert_eq!(TaxRate::parse_percent("5", "t").unwrap().to_string(), "5%");
        // 18 % of 333.33 is 59.9994, rounded to 60.00.
        let rate = TaxRate::parse_percent("18", "t").unwrap();
        assert_eq!(rate.tax_on(Money::from_minor(33_333)).minor(), 6_000);
        assert_eq!(rate.tax_on(Money::from_minor(-33_333)).minor(), -6_000);
    }

    #[test]
    fn labels_are_tidied() {
        assert_eq!(parse_label("  General   Medicine ", "n", 100).unwrap(), "General Medicine");
        assert!(parse_label("   ", "n", 100).is_err());
        assert!(parse_label("abc", "n", 2).is_err());
        assert!(parse_label("\tabcd", "n", 4).is_err(), "counted as sent, as the API document does");
        assert_eq!(parse_optional_label(" ", "n", 10).unwrap(), None);
    }
}
