//! Search while typing, and probable duplicates.
//!
//! A query is cut into terms: name words, a birth year ("1984"), a date ("01/03/1984"),
//! numbers (phone, identifier or MRN) and codes (MRN, passport). Exact terms (a date, a
//! number, a code) find a handful of patients by key and the rest is checked in Rust.
//! Names are found in tiers, so a keystroke's cost is bounded by a cap, not by how many
//! patients share a common name: first the *strong* matches, every word a name word or
//! the start of one, read along the key index (one word: keys `n:word…`; several: the
//! pair keys `pr:other last…` in both orders); when those do not fill the page, weaker
//! ones too — words inside names (FTS5 trigram on SQLite, pg_trgm on PostgreSQL) and
//! sound-alikes (phonetic keys), and when no name holds every word, misspellings
//! (trigram similarity). The candidates are scored in Rust from narrow rows, so both
//! databases rank identically; only the page shown is loaded in full.

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
use crate::{AppError, Ctx};

/// The most candidates a search ranks.
const CANDIDATE_CAP: u64 = 3000;
/// A search with no strong match and fewer candidates than this also looks up each name
/// word as a possible misspelling, taking the best `FUZZY_CAP` by trigram similarity.
const FUZZY_BELOW: usize = 20;
const FUZZY_CAP: u64 = 300;
/// The most strong matches (every word a name word or its start) a search reads — five
/// pages' worth, within these bounds; beyond, the first so many in key order are ranked:
/// a half-typed common name, which the next letters narrow.
const STRONG_MIN: u64 = 100;
const STRONG_MAX: u64 = 1000;
/// Spelling matches enough that sound-alikes (which score below an exact spelling) would
/// never reach the first pages: found while typing a common name ("pri", "lak"), they
/// doubled the rows each keystroke loaded and scored (measured by `salus bench`).
const SOUNDS_BELOW: usize = 200;

/// The key prefixes of a name query's strong matches. One word: the names holding a word
/// that starts with it. Several: the holders of a pair of words, the longest of the
/// others exactly and the last (the one being typed) as a prefix, or the other way round
/// ("sharma pri" finds Priya Sharma); any further words are checked when ranking.
fn strong_prefixes(names: &[String]) -> Vec<String> {
    match names {
        [] => Vec::new(),
        [one] => vec![format!("n:{one}")],
        [others @ .., last] => {
            let other = others.iter().fold(&others[0], |a, b| if b.len() > a.len() { b } else { a });
            vec![format!("pr:{other} {last}"), format!("pr:{last} {other}")]
        }
    }
}

/// `items` without repeats of their id (a patient found by two keys or two tiers), first
/// occurrences kept in order.
fn dedup_by<T>(mut items: Vec<T>, id: impl Fn(&T) -> Uuid) -> Vec<T> {
    let mut seen = HashSet::new();
    items.retain(|t| seen.insert(id(t)));
    items
}

fn dedup(ids: Vec<Uuid>) -> Vec<Uuid> {
    dedup_by(ids, |id| *id)
}

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
    // A date of birth alone ("1970-02-02", "02-02-1970") is a date, not a phone number.
    if let Some(d) = v::parse_date(query) {
        return vec![Term::Date(d)];
    }
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
    row: q::SearchRow,
    tokens: Vec<String>,
    identifiers: Vec<String>,
}

impl crate::Patients<'_> {
    fn lookup(&self, term: &Term) -> q::TermLookup {
        match term {
            Term::Name(t) => q::TermLookup {
                substring: (t.len() >= 3).then(|| t.clone()),
                key_prefixes: (t.len() < 3).then(|| format!("n:{t}")).into_iter().collect(),
                keys: keys::phonetic(t).into_iter().map(|c| format!("p:{c}")).collect(),
            },
            Term::Year(y) => {
                q::TermLookup { key_prefixes: vec![format!("dob:{y:04}-")], ..Default::default() }
            }
            Term::Date(d) => {
                q::TermLookup { keys: vec![format!("dob:{}", d.format("%Y-%m-%d"))], ..Default::default() }
            }
            Term::Number(d) => {
                let mut k = vec![format!("id:{d}"), format!("mrn:{}{d}", self.patients.mrn_prefix)];
                if let Some(p) = v::phone_search_key(d) {
                    k.push(format!("ph:{p}"));
                }
                q::TermLookup { keys: k, ..Default::default() }
            }
            Term::Code(c) => {
                q::TermLookup { keys: vec![format!("id:{c}"), format!("mrn:{c}")], ..Default::default() }
            }
        }
    }

    /// The patients that may match every term: by an exact term when there is one (a
    /// date, a number, a code names a handful), else by the name words' tiers (see the
    /// module's header). Returns the candidates' ids and, for those found with their
    /// rows, the narrow rows.
    async fn candidates(
        &self,
        terms: &[Term],
        cap: u64,
        enough: usize,
    ) -> Result<(Vec<Uuid>, Vec<q::SearchRow>), AppError> {
        let exact: Vec<q::TermLookup> = terms
            .iter()
            .filter(|t| matches!(t, Term::Date(_) | Term::Number(_) | Term::Code(_)))
            .map(|t| self.lookup(t))
            .collect();
        if !exact.is_empty() {
            return Ok((q::candidate_ids(&self.db, &exact, CANDIDATE_CAP).await?, Vec::new()));
        }
        let names: Vec<String> =
            terms.iter().filter_map(|t| if let Term::Name(n) = t { Some(n.clone()) } else { None }).collect();
        if names.is_empty() {
            // Only a year: its birth dates.
            let lookups: Vec<q::TermLookup> = terms.iter().map(|t| self.lookup(t)).collect();
            return Ok((q::candidate_ids(&self.db, &lookups, CANDIDATE_CAP).await?, Vec::new()));
        }
        // Strong matches first: every word a name word or the start of one, read in key
        // order. Enough of them for the page asked, and they are what is ranked: weaker
        // matches (sound-alikes, spellings, words found inside others) score below.
        let prefixes = strong_prefixes(&names);
        let years: Vec<q::TermLookup> =
            terms.iter().filter(|t| matches!(t, Term::Year(_))).map(|t| self.lookup(t)).collect();
        let (strong, rows) = if years.is_empty() {
            let rows = q::search_rows_by_key_prefixes(&self.db, &prefixes, cap).await?;
            (rows.iter().map(|r| r.id).collect(), rows)
        } else {
            // A birth year ("priya 1984") narrows the names inside the database, so the
            // cap applies to the patients matching both.
            let mut lookups = years;
            lookups.push(q::TermLookup { key_prefixes: prefixes, ..Default::default() });
            (q::candidate_ids(&self.db, &lookups, cap).await?, Vec::new())
        };
        let truncated = strong.len() as u64 >= cap;
        let mut ids = dedup(strong);
        if truncated || ids.len() >= enough {
            return Ok((ids, rows));
        }
        // The weaker tiers look up only words of three letters or more (a shorter one is a
        // prefix of thousands of names; ranking checks it), at most `cap` each.
        let long: Vec<String> = names.iter().filter(|n| n.len() >= 3).cloned().collect();
        if long.is_empty() {
            return Ok((ids, rows));
        }
        ids.extend(q::ids_by_all_substrings(&self.db, &long, cap).await?);
        let sounds: Vec<q::TermLookup> = long
            .iter()
            .map(|n| q::TermLookup {
                keys: keys::phonetic(n).into_iter().map(|c| format!("p:{c}")).collect(),
                ..Default::default()
            })
            .collect();
        // Plenty found by spelling: sound-alikes would only rank below them.
        if ids.len() < SOUNDS_BELOW && sounds.iter().all(|l| !l.keys.is_empty()) {
            ids.extend(q::candidate_ids(&self.db, &sounds, cap).await?);
        }
        Ok((dedup(ids), rows))
    }

    /// The rows of `ids` for ranking: those in `loaded` as they are, the rest read.
    async fn load_rows(
        &self,
        ids: &[Uuid],
        loaded: Vec<q::SearchRow>,
        with_identifiers: bool,
    ) -> Result<Vec<Row>, AppError> {
        let have: HashSet<Uuid> = loaded.iter().map(|r| r.id).collect();
        let missing: Vec<Uuid> = ids.iter().filter(|id| !have.contains(id)).copied().collect();
        let mut rows = dedup_by(loaded, |r| r.id);
        rows.extend(q::search_rows(&self.db, &missing).await?);
        let idents = if with_identifiers { q::identifier_values(&self.db, ids).await? } else { Vec::new() };
        Ok(rows
            .into_iter()
            .filter(|r| r.merged_into.is_none())
            .map(|row| {
                let identifiers = idents
                    .iter()
                    .filter(|(id, _)| *id == row.id)
                    .map(|(_, val)| v::normalise_identifier(val))
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

    /// Full records of `ids`, in that order, in one statement.
    async fn patients_in_order(&self, ids: &[Uuid]) -> Result<Vec<Patient>, AppError> {
        let mut wholes = q::find_whole_patients(&self.db, ids).await?;
        Ok(ids
            .iter()
            .filter_map(|id| wholes.iter().position(|w| w.row.id == *id).map(|i| wholes.swap_remove(i)))
            .map(super::to_whole_patient)
            .collect())
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
        let scored = self.rank(&terms, offset + limit).await?;
        let more = scored.len() > offset + limit;
        let page: Vec<(f64, Uuid)> =
            scored.into_iter().skip(offset).take(limit).map(|(s, r)| (s, r.row.id)).collect();
        let page_ids: Vec<Uuid> = page.iter().map(|(_, id)| *id).collect();
        let patients = self.listed(ctx, &page_ids).await?;
        let hits = patients
            .into_iter()
            .zip(page)
            .map(|(patient, (score, _))| SearchHit { patient, score })
            .collect();
        Ok((hits, more))
    }

    /// The ids of the patients a search finds (as [`Self::search_patients`] does, up to
    /// `cap`, best first), without their records: a door that pages them in its own order
    /// loads only the records it shows, through [`Self::patients_listed`].
    pub async fn search_patient_ids(
        &self,
        ctx: &Ctx,
        query: &str,
        cap: usize,
    ) -> Result<Vec<Uuid>, AppError> {
        self.authorize(ctx, Permission::PatientsRead).await?;
        let terms = parse_query(query);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.rank(&terms, cap).await?.into_iter().take(cap).map(|(_, r)| r.row.id).collect())
    }

    /// The records of `ids`, in that order (those that exist), each audited as listed.
    pub async fn patients_listed(&self, ctx: &Ctx, ids: &[Uuid]) -> Result<Vec<Patient>, AppError> {
        self.authorize(ctx, Permission::PatientsRead).await?;
        self.listed(ctx, ids).await
    }

    async fn listed(&self, ctx: &Ctx, ids: &[Uuid]) -> Result<Vec<Patient>, AppError> {
        let patients = self.patients_in_order(ids).await?;
        let events = patients
            .iter()
            .map(|p| {
                audit::row(
                    ctx,
                    Event::new("patient.listed", "patient", Some(p.id.to_string())).patient(p.id.as_uuid()),
                )
            })
            .collect();
        self.reads.record(events).await?;
        Ok(patients)
    }

    /// The candidates of `terms` scored and ranked, enough for `want` results and one more.
    async fn rank(&self, terms: &[Term], want: usize) -> Result<Vec<(f64, Row)>, AppError> {
        // Strong matches enough for a few pages: what a receptionist pages through before
        // typing one more letter.
        let cap = u64::try_from(want.saturating_mul(5)).unwrap_or(u64::MAX).clamp(STRONG_MIN, STRONG_MAX);
        // Strong matches that fill this page and show there is another: weaker ones would
        // rank below them, so they are not looked up.
        let (mut ids, loaded) = self.candidates(terms, cap, want.saturating_add(1)).await?;
        if ids.len() < FUZZY_BELOW && loaded.is_empty() {
            // No name holds every word as typed, and few sound alike: look for misspellings
            // of each word too (ranking below still requires every word to match well
            // enough). A rare name typed right skips this: a trigram-similarity search per
            // word was the slowest part of such a keystroke.
            for t in terms {
                if let Term::Name(n) = t {
                    ids.extend(q::ids_by_fuzzy_name(&self.db, n, FUZZY_CAP).await?);
                }
            }
            ids = dedup(ids);
        }
        let needs_ids = terms.iter().any(|t| matches!(t, Term::Number(_) | Term::Code(_)));
        let rows = self.load_rows(&ids, loaded, needs_ids).await?;
        let mut scored: Vec<(f64, Row)> =
            rows.into_iter().filter_map(|r| self.score(terms, &r).map(|s| (s, r))).collect();
        scored.sort_by(|(sa, a), (sb, b)| {
            sb.total_cmp(sa)
                .then_with(|| b.row.active.cmp(&a.row.active))
                .then_with(|| a.row.family_name.cmp(&b.row.family_name))
                .then_with(|| a.row.given_names.cmp(&b.row.given_names))
                .then_with(|| a.row.id.cmp(&b.row.id))
        });
        Ok(scored)
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
        let tokens: Vec<String> =
            row.search_names.split(' ').filter(|t| !t.is_empty()).map(str::to_owned).collect();
        // Exact matches: a phone or an identifier.
        let mut exact = Vec::new();
        for p in [&row.phone, &row.phone_alt].into_iter().flatten() {
            let d: String = p.chars().filter(char::is_ascii_digit).collect();
            if let Some(k) = v::phone_search_key(&d) {
                exact.push(format!("ph:{k}"));
            }
        }
        exact.extend(identifiers.iter().map(|(_, val)| format!("id:{}", v::normalise_identifier(val))));
        let mut ids = if exact.is_empty() {
            Vec::new()
        } else {
            q::candidate_ids(&self.db, &[q::TermLookup { keys: exact, ..Default::default() }], 200).await?
        };
        // Alike names: everyone born the same day (a few dozen even at a million patients;
        // the names are compared below), or without a date, names containing every word.
        match row.birth_date {
            Some(d) => {
                let born = q::TermLookup {
                    keys: vec![format!("dob:{}", d.format("%Y-%m-%d"))],
                    ..Default::default()
                };
                ids.extend(q::candidate_ids(&self.db, &[born], 500).await?);
            }
            None => ids.extend(q::ids_by_all_substrings(&self.db, &tokens, 500).await?),
        }
        let mut seen = HashSet::new();
        ids.retain(|id| Some(*id) != except && seen.insert(*id));
        let rows = self.load_rows(&ids, Vec::new(), true).await?;
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
            let mine: Vec<&String> = [&row.phone, &row.phone_alt].into_iter().flatten().collect();
            if [&c.row.phone, &c.row.phone_alt].into_iter().flatten().any(|p| mine.contains(&p)) {
                score += 0.25;
                reasons.push("phone");
            }
            if identifiers.iter().any(|(_, val)| c.identifiers.contains(&v::normalise_identifier(val))) {
                score += 0.6;
                reasons.push("identifier");
            }
            if score >= 0.6 {
                out.push((score.min(1.0), reasons, c.row.id));
            }
        }
        out.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.2.cmp(&b.2)));
        out.truncate(5);
        let ids: Vec<Uuid> = out.iter().map(|o| o.2).collect();
        let patients = self.patients_in_order(&ids).await?;
        let dups: Vec<Duplicate> = patients
            .into_iter()
            .zip(out)
            .map(|(patient, (score, reasons, _))| Duplicate { patient, score, reasons })
            .collect();
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
        let born = vec![Term::Date(NaiveDate::from_ymd_opt(1970, 2, 2).unwrap())];
        assert_eq!(parse_query("1970-02-02"), born, "an ISO date alone is not a phone number");
        assert_eq!(parse_query("02-02-1970"), born);
        assert_eq!(parse_query("José-María"), vec![Term::Name("jose".into()), Term::Name("maria".into())]);
    }
}
