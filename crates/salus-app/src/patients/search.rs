//! Search while typing, and probable duplicates.
//!
//! A query is cut into terms: name words, a birth year ("1984"), a date ("01/03/1984"),
//! numbers (phone, identifier or MRN) and codes (MRN, passport). Each term fetches
//! candidate ids through an index — name words by trigram substring (FTS5 on SQLite,
//! pg_trgm on PostgreSQL) or, under three letters, by key prefix, plus their phonetic
//! codes; the other terms by exact key. The smallest candidate set is loaded and every
//! term is checked and scored in Rust, so both databases rank identically. A term that
//! matches too many patients to load all of them is capped; the smallest set wins, so
//! typing one more word narrows the search as expected.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
use salus_core::patients as v;
use salus_core::search as keys;
use salus_db::entity::patient;
use salus_db::patients as q;
use serde::Serialize;
use uuid::Uuid;

use super::Patient;
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::{App, AppError, Ctx};

/// The most candidates one term brings back.
const CANDIDATE_CAP: u64 = 5000;
/// A name word with fewer exact and phonetic candidates than this is also looked up as a
/// possible misspelling, taking the best `FUZZY_CAP` by trigram similarity.
const FUZZY_BELOW: usize = 50;
const FUZZY_CAP: u64 = 300;

#[derive(Debug, Clone, PartialEq)]
enum Term {
    Name(String),
    Year(i32),
    Date(NaiveDate),
    /// Five or more digits: phone, identifier or the digits of an MRN.
    Number(String),
    /// Letters and digits: an MRN or an identifier.
    Code(String),
}

fn parse_query(query: &str) -> Vec<Term> {
    // A phone number typed with spaces ("+91 98765 43210") is one number.
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    if digits.len() >= 7 && query.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) {
        return vec![Term::Number(digits)];
    }
    let mut terms = Vec::new();
    for raw in query.split_whitespace() {
        if let Some(d) = v::parse_date(raw) {
            terms.push(Term::Date(d));
            continue;
        }
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        let only_digits_and_marks = raw.chars().all(|c| c.is_ascii_digit() || "+-().".contains(c));
        if only_digits_and_marks
            && digits.len() == 4
            && (1880..=2200).contains(&digits.parse::<i32>().unwrap_or(0))
        {
            terms.push(Term::Year(digits.parse().unwrap_or(0)));
        } else if only_digits_and_marks && digits.len() >= 5 {
            terms.push(Term::Number(digits));
        } else if raw.chars().any(|c| c.is_ascii_digit())
            && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            terms.push(Term::Code(v::normalise_identifier(raw)));
        } else {
            terms.extend(keys::tokens(raw).into_iter().map(Term::Name));
        }
    }
    terms
}

/// One search result.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub patient: Patient,
    /// 0 to 1; how well the name matched (1 for exact terms such as an MRN).
    pub score: f64,
}

/// A record that looks like the one being registered.
#[derive(Debug, Clone, Serialize)]
pub struct Duplicate {
    pub patient: Patient,
    /// 0 to 1.
    pub score: f64,
    /// What matched: "name", "date of birth", "phone", "identifier".
    pub reasons: Vec<&'static str>,
}

struct Row {
    row: patient::Model,
    tokens: Vec<String>,
    identifiers: Vec<String>,
}

impl App {
    async fn candidates(&self, term: &Term) -> Result<Vec<Uuid>, AppError> {
        let r = self.db.reader();
        Ok(match term {
            Term::Name(t) => {
                let mut ids = if t.len() >= 3 {
                    q::ids_by_name_substring(r, t, CANDIDATE_CAP).await?
                } else {
                    q::ids_by_key_prefix(r, &format!("n:{t}"), CANDIDATE_CAP).await?
                };
                let codes: Vec<String> = keys::phonetic(t).into_iter().map(|c| format!("p:{c}")).collect();
                ids.extend(q::ids_by_keys(r, &codes, CANDIDATE_CAP).await?);
                if ids.len() < FUZZY_BELOW {
                    ids.extend(q::ids_by_fuzzy_name(r, t, FUZZY_CAP).await?);
                }
                ids
            }
            Term::Year(y) => q::ids_by_key_prefix(r, &format!("dob:{y:04}-"), CANDIDATE_CAP).await?,
            Term::Date(d) => {
                q::ids_by_keys(r, &[format!("dob:{}", d.format("%Y-%m-%d"))], CANDIDATE_CAP).await?
            }
            Term::Number(d) => {
                let mut k = vec![format!("id:{d}"), format!("mrn:{}{d}", self.patients.mrn_prefix)];
                if let Some(p) = v::phone_search_key(d) {
                    k.push(format!("ph:{p}"));
                }
                q::ids_by_keys(r, &k, CANDIDATE_CAP).await?
            }
            Term::Code(c) => {
                q::ids_by_keys(r, &[format!("id:{c}"), format!("mrn:{c}")], CANDIDATE_CAP).await?
            }
        })
    }

    async fn load_rows(&self, ids: &[Uuid], with_identifiers: bool) -> Result<Vec<Row>, AppError> {
        let rows = q::patients_by_ids(self.db.reader(), ids).await?;
        let idents =
            if with_identifiers { q::identifiers_of(self.db.reader(), ids).await? } else { Vec::new() };
        Ok(rows
            .into_iter()
            .filter(|r| r.merged_into.is_none())
            .map(|row| {
                let identifiers = idents
                    .iter()
                    .filter(|i| i.patient_id == row.id)
                    .map(|i| v::normalise_identifier(&i.value))
                    .collect();
                let tokens =
                    row.search_names.split(' ').filter(|t| !t.is_empty()).map(str::to_owned).collect();
                Row { row, tokens, identifiers }
            })
            .collect())
    }

    fn score(&self, terms: &[Term], r: &Row) -> Option<f64> {
        let names: Vec<String> =
            terms.iter().filter_map(|t| if let Term::Name(n) = t { Some(n.clone()) } else { None }).collect();
        for t in terms {
            let ok = match t {
                Term::Name(_) => true,
                Term::Year(y) => r.row.birth_date.is_some_and(|d| d.year() == *y),
                Term::Date(d) => r.row.birth_date == Some(*d),
                Term::Number(d) => {
                    let phone = v::phone_search_key(d).is_some_and(|k| {
                        [&r.row.phone, &r.row.phone_alt].into_iter().flatten().any(|p| p.ends_with(&k))
                    });
                    phone
                        || r.identifiers.iter().any(|i| i == d)
                        || r.row.mrn == format!("{}{d}", self.patients.mrn_prefix)
                }
                Term::Code(c) => r.row.mrn == *c || r.identifiers.iter().any(|i| i == c),
            };
            if !ok {
                return None;
            }
        }
        if names.is_empty() { Some(1.0) } else { keys::name_score(&names, &r.tokens) }
    }

    /// Finds patients by name (typo-tolerant, any order), MRN, phone, identifier, date of
    /// birth or year, or a mix ("smith 1984"); ranked; `offset`/`limit` page the ranking.
    /// Every patient returned is audited as listed.
    #[tracing::instrument(skip_all)]
    pub async fn search_patients(
        &self,
        ctx: &Ctx,
        query: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<SearchHit>, bool), AppError> {
        self.authorize(ctx, Permission::PatientsRead).await?;
        let terms = parse_query(query);
        if terms.is_empty() {
            return Ok((Vec::new(), false));
        }
        let mut best: Option<Vec<Uuid>> = None;
        for t in &terms {
            let ids = self.candidates(t).await?;
            let mut seen = HashSet::new();
            let ids: Vec<Uuid> = ids.into_iter().filter(|id| seen.insert(*id)).collect();
            if best.as_ref().is_none_or(|b| ids.len() < b.len()) {
                best = Some(ids);
            }
        }
        let base = best.unwrap_or_default();
        let needs_ids = terms.iter().any(|t| matches!(t, Term::Number(_) | Term::Code(_)));
        let rows = self.load_rows(&base, needs_ids).await?;
        let mut scored: Vec<(f64, Row)> =
            rows.into_iter().filter_map(|r| self.score(&terms, &r).map(|s| (s, r))).collect();
        scored.sort_by(|(sa, a), (sb, b)| {
            sb.total_cmp(sa)
                .then_with(|| b.row.active.cmp(&a.row.active))
                .then_with(|| a.row.family_name.cmp(&b.row.family_name))
                .then_with(|| a.row.given_names.cmp(&b.row.given_names))
                .then_with(|| a.row.id.cmp(&b.row.id))
        });
        let more = scored.len() > offset + limit;
        let page: Vec<(f64, Row)> = scored.into_iter().skip(offset).take(limit).collect();
        let ids: Vec<Uuid> = page.iter().map(|(_, r)| r.row.id).collect();
        let idents = q::identifiers_of(self.db.reader(), &ids).await?;
        let hits: Vec<SearchHit> = page
            .into_iter()
            .map(|(score, r)| {
                let ids = idents
                    .iter()
                    .filter(|i| i.patient_id == r.row.id)
                    .map(|i| super::Identifier { system: i.system.clone(), value: i.value.clone() })
                    .collect();
                SearchHit { patient: super::to_patient(r.row, ids, false), score }
            })
            .collect();
        let events = hits
            .iter()
            .map(|h| {
                audit::row(
                    ctx,
                    Event::new("patient.listed", "patient", Some(h.patient.id.to_string()))
                        .patient(h.patient.id.as_uuid()),
                )
            })
            .collect();
        self.reads.record(events).await?;
        Ok((hits, more))
    }

    /// Records on file that look like `row` (name, date of birth, phone, identifiers), best
    /// first; `except` leaves one record out (the one being edited).
    pub(crate) async fn probable_duplicates(
        &self,
        ctx: &Ctx,
        row: &patient::Model,
        identifiers: &[(String, String)],
        except: Option<Uuid>,
    ) -> Result<Vec<Duplicate>, AppError> {
        let r = self.db.reader();
        let tokens: Vec<String> =
            row.search_names.split(' ').filter(|t| !t.is_empty()).map(str::to_owned).collect();
        let mut exact = Vec::new();
        for p in [&row.phone, &row.phone_alt].into_iter().flatten() {
            let d: String = p.chars().filter(char::is_ascii_digit).collect();
            if let Some(k) = v::phone_search_key(&d) {
                exact.push(format!("ph:{k}"));
            }
        }
        exact.extend(identifiers.iter().map(|(_, val)| format!("id:{}", v::normalise_identifier(val))));
        let mut ids = q::ids_by_keys(r, &exact, 200).await?;
        // Sound-alike names born the same day, or (without a date) sharing the family name's sound.
        let family_codes: Vec<String> = keys::tokens(&row.family_name)
            .iter()
            .flat_map(|t| keys::phonetic(t))
            .map(|c| format!("p:{c}"))
            .collect();
        let name_codes: Vec<String> = if family_codes.is_empty() {
            tokens.iter().flat_map(|t| keys::phonetic(t)).map(|c| format!("p:{c}")).collect()
        } else {
            family_codes
        };
        let by_name: HashSet<Uuid> = q::ids_by_keys(r, &name_codes, 2000).await?.into_iter().collect();
        if let Some(d) = row.birth_date {
            let by_dob = q::ids_by_keys(r, &[format!("dob:{}", d.format("%Y-%m-%d"))], 2000).await?;
            ids.extend(by_dob.into_iter().filter(|id| by_name.contains(id)));
        } else {
            ids.extend(by_name.iter().take(200).copied());
        }
        let mut seen = HashSet::new();
        ids.retain(|id| Some(*id) != except && seen.insert(*id));
        let rows = self.load_rows(&ids, true).await?;
        let mut out = Vec::new();
        for c in rows {
            let mut score = 0.0;
            let mut reasons = Vec::new();
            if let Some(s) = keys::name_score(&tokens, &c.tokens) {
                score += 0.4 * s;
                reasons.push("name");
            }
            match (row.birth_date, c.row.birth_date) {
                (Some(a), Some(b)) if a == b => {
                    score += 0.3;
                    reasons.push("date of birth");
                }
                (Some(a), Some(b)) if a.year() == b.year() => score += 0.05,
                _ => {}
            }
            let phones = |m: &patient::Model| {
                [m.phone.clone(), m.phone_alt.clone()].into_iter().flatten().collect::<Vec<_>>()
            };
            if phones(row).iter().any(|p| phones(&c.row).contains(p)) {
                score += 0.25;
                reasons.push("phone");
            }
            if identifiers.iter().any(|(_, val)| c.identifiers.contains(&v::normalise_identifier(val))) {
                score += 0.6;
                reasons.push("identifier");
            }
            if score >= 0.6 {
                out.push((score.min(1.0), reasons, c.row));
            }
        }
        out.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.2.id.cmp(&b.2.id)));
        out.truncate(5);
        let mut dups = Vec::new();
        for (score, reasons, row) in out {
            dups.push(Duplicate { patient: self.assemble(row).await?, score, reasons });
        }
        let events = dups
            .iter()
            .map(|d| {
                audit::row(
                    ctx,
                    Event::new("patient.listed", "patient", Some(d.patient.id.to_string()))
                        .patient(d.patient.id.as_uuid()),
                )
            })
            .collect();
        self.reads.record(events).await?;
        Ok(dups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_cut_into_terms() {
        assert_eq!(parse_query("Smith 1984"), vec![Term::Name("smith".into()), Term::Year(1984)]);
        assert_eq!(parse_query("98765-43210"), vec![Term::Number("9876543210".into())]);
        assert_eq!(parse_query("+91 98765 43210"), vec![Term::Number("919876543210".into())]);
        assert_eq!(parse_query("SAL00000017"), vec![Term::Code("SAL00000017".into())]);
        assert_eq!(parse_query("01/03/1984"), vec![Term::Date(NaiveDate::from_ymd_opt(1984, 3, 1).unwrap())]);
        assert_eq!(parse_query("José-María"), vec![Term::Name("jose".into()), Term::Name("maria".into())]);
    }
}
