//! Demographics as typed at a door, checked against the rules: what a registration and
//! an edit both accept.

use chrono::NaiveDate;
use salus_core::patients::{self as v, Phone, Sex};
use salus_core::{FieldError, search as keys};
use salus_db::entity::patient;

use crate::AppError;

/// Demographics as typed at a door (form or JSON); checked by [`check_input`].
#[derive(Debug, Clone, Default)]
pub struct PatientInput {
    pub given_names: String,
    pub family_name: String,
    pub sex: String,
    /// A date (ISO or day first), or empty when only an age is known.
    pub birth_date: String,
    /// Age in years when the date of birth is not known (the date is then estimated).
    pub age_years: Option<u32>,
    pub phone: String,
    pub phone_alt: String,
    pub email: String,
    pub address_line: String,
    pub city: String,
    pub district: String,
    pub state: String,
    pub postal_code: String,
    pub country: String,
    pub blood_group: String,
    pub preferred_language: String,
    pub emergency_name: String,
    pub emergency_phone: String,
    pub emergency_relation: String,
    pub insurer: String,
    pub insurance_policy: String,
    pub consent_sms: bool,
    pub consent_email: bool,
    pub consent_research: bool,
    pub restricted: bool,
    pub restricted_reason: String,
    pub identifiers: Vec<(String, String)>,
}

impl From<&super::Patient> for PatientInput {
    /// The record as it stands, as the desk would submit it unchanged.
    fn from(p: &super::Patient) -> Self {
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        PatientInput {
            given_names: p.given_names.clone(),
            family_name: p.family_name.clone(),
            sex: p.sex.as_str().to_owned(),
            birth_date: p.birth_date.map(|d| d.to_string()).unwrap_or_default(),
            age_years: None,
            phone: s(&p.phone),
            phone_alt: s(&p.phone_alt),
            email: s(&p.email),
            address_line: s(&p.address_line),
            city: s(&p.city),
            district: s(&p.district),
            state: s(&p.state),
            postal_code: s(&p.postal_code),
            country: s(&p.country),
            blood_group: s(&p.blood_group),
            preferred_language: s(&p.preferred_language),
            emergency_name: s(&p.emergency_name),
            emergency_phone: s(&p.emergency_phone),
            emergency_relation: s(&p.emergency_relation),
            insurer: s(&p.insurer),
            insurance_policy: s(&p.insurance_policy),
            consent_sms: p.consent_sms,
            consent_email: p.consent_email,
            consent_research: p.consent_research,
            restricted: p.restricted,
            restricted_reason: s(&p.restricted_reason),
            identifiers: p.identifiers.iter().map(|i| (i.system.clone(), i.value.clone())).collect(),
        }
    }
}

/// Checked demographics: the columns of a row, without id, MRN and bookkeeping.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub given_names: String,
    pub family_name: String,
    pub sex: Sex,
    pub birth_date: Option<NaiveDate>,
    pub birth_date_estimated: bool,
    pub phone: Option<Phone>,
    pub phone_alt: Option<Phone>,
    pub email: Option<String>,
    pub text: [Option<String>; 12],
    pub country: Option<String>,
    pub blood_group: Option<String>,
    pub emergency_phone: Option<Phone>,
    pub consent: [bool; 3],
    pub restricted: bool,
    pub restricted_reason: Option<String>,
    pub identifiers: Vec<(String, String)>,
}

fn opt(s: &str, max: usize, field: &'static str, errors: &mut Vec<FieldError>) -> Option<String> {
    let t = s.trim();
    if t.chars().count() > max {
        errors.push(FieldError::new(field, format!("must be at most {max} characters")));
        return None;
    }
    if t.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        errors.push(FieldError::new(field, "remove the control characters"));
        return None;
    }
    (!t.is_empty()).then(|| t.to_owned())
}

fn phone(s: &str, cc: &str, field: &'static str, errors: &mut Vec<FieldError>) -> Option<Phone> {
    if s.trim().is_empty() {
        return None;
    }
    Phone::parse(s, cc, field).map_err(|e| errors.push(e)).ok()
}

/// An e-mail address as lettre, which sends them, reads one — on a domain with a dot (a
/// hospital reaches its patients on the internet, not on `localhost`); lower-cased, as
/// addresses are compared and shown.
fn parse_email(text: &str) -> Result<Option<String>, FieldError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let bad = || FieldError::new("email", "is not an e-mail address");
    let address: lettre::Address = t.parse().map_err(|_| bad())?;
    let domain = address.domain();
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return Err(bad());
    }
    Ok(Some(address.to_string().to_lowercase()))
}

/// Checks typed demographics against the rules and the identifier types on file.
pub(crate) fn check_input(
    input: &PatientInput,
    country_code: &str,
    types: &[salus_db::entity::identifier_type::Model],
    today: NaiveDate,
) -> Result<Checked, AppError> {
    let mut errors = Vec::new();
    let given_names = opt(&input.given_names, 200, "given_names", &mut errors).unwrap_or_default();
    if given_names.is_empty() && errors.iter().all(|e| e.field != "given_names") {
        errors.push(FieldError::new("given_names", "is required (a single name goes here)"));
    }
    let family_name = opt(&input.family_name, 200, "family_name", &mut errors).unwrap_or_default();
    if keys::tokens(&format!("{given_names} {family_name}")).is_empty() && !given_names.is_empty() {
        errors.push(FieldError::new("given_names", "must contain letters or digits"));
    }
    let sex = input.sex.parse::<Sex>().map_err(|e| errors.push(e)).ok();
    let (birth_date, estimated) = match (input.birth_date.trim(), input.age_years) {
        ("", None) => (None, false),
        ("", Some(age)) => (v::estimated_birth_date(age, today).map_err(|e| errors.push(e)).ok(), true),
        (text, _) => match v::parse_date(text) {
            Some(d) => (v::check_birth_date(d, today).map_err(|e| errors.push(e)).ok(), false),
            None => {
                errors.push(FieldError::new("birth_date", "is not a date (use 1984-03-01 or 01/03/1984)"));
                (None, false)
            }
        },
    };
    let phone_main = phone(&input.phone, country_code, "phone", &mut errors);
    let phone_alt = phone(&input.phone_alt, country_code, "phone_alt", &mut errors);
    let emergency_phone = phone(&input.emergency_phone, country_code, "emergency_phone", &mut errors);
    let email = parse_email(&input.email).map_err(|e| errors.push(e)).ok().flatten();
    let country = match input.country.trim() {
        "" => None,
        c if c.len() == 2 && c.chars().all(|x| x.is_ascii_alphabetic()) => Some(c.to_uppercase()),
        _ => {
            errors.push(FieldError::new("country", "must be a two-letter country code (IN, NG, GB…)"));
            None
        }
    };
    let blood_group = v::parse_blood_group(&input.blood_group).map_err(|e| errors.push(e)).ok().flatten();
    let text = [
        opt(&input.address_line, 300, "address_line", &mut errors),
        opt(&input.city, 100, "city", &mut errors),
        opt(&input.district, 100, "district", &mut errors),
        opt(&input.state, 100, "state", &mut errors),
        opt(&input.postal_code, 20, "postal_code", &mut errors),
        opt(&input.preferred_language, 35, "preferred_language", &mut errors),
        opt(&input.emergency_name, 200, "emergency_name", &mut errors),
        opt(&input.emergency_relation, 50, "emergency_relation", &mut errors),
        opt(&input.insurer, 100, "insurer", &mut errors),
        opt(&input.insurance_policy, 64, "insurance_policy", &mut errors),
        None,
        None,
    ];
    let restricted_reason = opt(&input.restricted_reason, 100, "restricted_reason", &mut errors);
    let mut identifiers = Vec::new();
    for (system, value) in &input.identifiers {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let Some(t) = types.iter().find(|t| t.code == *system && t.active) else {
            errors.push(FieldError::new("identifiers", format!("`{system}` is not an identifier type")));
            continue;
        };
        let norm = v::normalise_identifier(value);
        if norm.is_empty() || value.chars().count() > 64 {
            errors
                .push(FieldError::new("identifiers", format!("the {} is not valid", t.name.to_lowercase())));
            continue;
        }
        if identifiers
            .iter()
            .any(|(s, v): &(String, String)| s == system && v::normalise_identifier(v) == norm)
        {
            continue;
        }
        identifiers.push((system.clone(), value.to_owned()));
    }
    match (sex, errors.is_empty()) {
        (Some(sex), true) => Ok(Checked {
            given_names,
            family_name,
            sex,
            birth_date,
            birth_date_estimated: estimated,
            phone: phone_main,
            phone_alt,
            email,
            text,
            country,
            blood_group,
            emergency_phone,
            consent: [input.consent_sms, input.consent_email, input.consent_research],
            restricted: input.restricted,
            restricted_reason: if input.restricted { restricted_reason } else { None },
            identifiers,
        }),
        _ => Err(AppError::Invalid(errors)),
    }
}

impl Checked {
    /// Fills the demographic columns of `row`.
    pub(crate) fn apply(&self, row: &mut patient::Model) {
        row.given_names = self.given_names.clone();
        row.family_name = self.family_name.clone();
        row.sex = self.sex.as_str().to_owned();
        row.birth_date = self.birth_date;
        row.birth_date_estimated = self.birth_date_estimated;
        row.phone = self.phone.as_ref().map(|p| p.as_str().to_owned());
        row.phone_alt = self.phone_alt.as_ref().map(|p| p.as_str().to_owned());
        row.email = self.email.clone();
        let [
            address_line,
            city,
            district,
            state,
            postal_code,
            language,
            e_name,
            e_relation,
            insurer,
            policy,
            _,
            _,
        ] = self.text.clone();
        row.address_line = address_line;
        row.city = city;
        row.district = district;
        row.state = state;
        row.postal_code = postal_code;
        row.preferred_language = language;
        row.emergency_name = e_name;
        row.emergency_relation = e_relation;
        row.insurer = insurer;
        row.insurance_policy = policy;
        row.country = self.country.clone();
        row.blood_group = self.blood_group.clone();
        row.emergency_phone = self.emergency_phone.as_ref().map(|p| p.as_str().to_owned());
        row.consent_sms = self.consent[0];
        row.consent_email = self.consent[1];
        row.consent_research = self.consent[2];
        row.restricted = self.restricted;
        row.restricted_reason = self.restricted_reason.clone();
        row.search_names = keys::tokens(&format!("{} {}", row.given_names, row.family_name)).join(" ");
    }
}

#[cfg(test)]
mod tests {
    use super::parse_email;

    #[test]
    fn e_mail_addresses_as_lettre_reads_them() {
        assert_eq!(parse_email(" A@B.org ").unwrap().as_deref(), Some("a@b.org"));
        assert_eq!(parse_email("").unwrap(), None);
        for bad in
            ["a@b", "@b.org", "a b@c.org", "a@@b.org", "a@.org", "a@b.org.", "a\u{7}@b.org", "<a@b.org>"]
        {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
    }
}
