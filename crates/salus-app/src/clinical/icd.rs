//! ICD-10-CM, carried by the binary: the CDC's full code list (98,147 categories and
//! codes, 2026 edition, public domain; built by `scripts/icd10cm.py`), decompressed and
//! indexed in memory on first use. A search is answered in Rust, identically on both
//! databases: by code prefix ("E11.6", "e116"), or by words, each a prefix of a word of
//! the description ("diab type 2" finds E11.x), ranked billable first, then by how early
//! and how short the match is.

use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

use serde::Serialize;

static DATA: &[u8] = include_bytes!("../../../../data/icd10cm/icd10cm-2026.tsv.gz");

/// One ICD-10-CM code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IcdCode {
    /// With its dot: "E11.9".
    pub code: String,
    pub description: String,
    /// A leaf code, which a claim or a diagnosis may carry; a category is not.
    pub billable: bool,
}

/// The code list and its word index.
pub struct IcdCatalog {
    codes: Vec<IcdCode>,
    /// Codes without dots, upper-case, in list order (for prefix search by code).
    plain: Vec<String>,
    by_plain: HashMap<String, usize>,
    /// Every distinct word of the descriptions, sorted, with the codes it occurs in.
    words: Vec<(String, Vec<u32>)>,
}

/// Folds a word for the index: lower case, letters and digits only.
fn fold(word: &str) -> String {
    word.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

fn plain(code: &str) -> String {
    code.chars().filter(|c| *c != '.').flat_map(char::to_uppercase).collect()
}

impl IcdCatalog {
    /// The catalog, built once.
    pub fn get() -> &'static IcdCatalog {
        static CATALOG: OnceLock<IcdCatalog> = OnceLock::new();
        CATALOG.get_or_init(IcdCatalog::load)
    }

    fn load() -> IcdCatalog {
        let mut text = String::new();
        // The data is part of the binary, checked by the tests; a failure here is a build bug.
        if flate2::read::GzDecoder::new(DATA).read_to_string(&mut text).is_err() {
            tracing::error!("the embedded ICD-10-CM list does not decompress");
        }
        let mut codes = Vec::with_capacity(100_000);
        for line in text.lines() {
            let mut parts = line.splitn(3, '\t');
            if let (Some(code), Some(billable), Some(description)) =
                (parts.next(), parts.next(), parts.next())
            {
                codes.push(IcdCode {
                    code: code.into(),
                    description: description.into(),
                    billable: billable == "1",
                });
            }
        }
        let plain_codes: Vec<String> = codes.iter().map(|c| plain(&c.code)).collect();
        let by_plain = plain_codes.iter().enumerate().map(|(i, p)| (p.clone(), i)).collect();
        let mut postings: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, c) in codes.iter().enumerate() {
            let mut seen: Vec<String> = Vec::new();
            for w in c.description.split(|ch: char| !ch.is_alphanumeric()).map(fold).filter(|w| !w.is_empty())
            {
                if !seen.contains(&w) {
                    postings.entry(w.clone()).or_default().push(u32::try_from(i).unwrap_or(u32::MAX));
                    seen.push(w);
                }
            }
        }
        let mut words: Vec<(String, Vec<u32>)> = postings.into_iter().collect();
        words.sort_by(|a, b| a.0.cmp(&b.0));
        IcdCatalog { codes, plain: plain_codes, by_plain, words }
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The code as written ("e11.9", "E119"), if it exists.
    pub fn find(&self, code: &str) -> Option<&IcdCode> {
        self.by_plain.get(&plain(code.trim())).map(|&i| &self.codes[i])
    }

    /// Codes whose indexed words start with `prefix`.
    fn with_word_prefix(&self, prefix: &str) -> Vec<u32> {
        let start = self.words.partition_point(|(w, _)| w.as_str() < prefix);
        let mut out: Vec<u32> = Vec::new();
        for (w, ids) in &self.words[start..] {
            if !w.starts_with(prefix) {
                break;
            }
            out.extend_from_slice(ids);
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Up to `limit` codes for what a clinician typed.
    pub fn search(&self, query: &str, limit: usize, billable_only: bool) -> Vec<&IcdCode> {
        let q = query.trim();
        if q.is_empty() {
            return Vec::new();
        }
        let keep = |c: &IcdCode| !billable_only || c.billable;
        // A code, or the start of one: a letter, a digit, then anything code-like.
        let looks_like_code = q.len() >= 2
            && q.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && q.chars().nth(1).is_some_and(|c| c.is_ascii_digit())
            && !q.contains(' ');
        if looks_like_code {
            let p = plain(q);
            let start = self.plain.partition_point(|c| c.as_str() < p.as_str());
            return self.plain[start..]
                .iter()
                .take_while(|c| c.starts_with(&p))
                .zip(&self.codes[start..])
                .map(|(_, c)| c)
                .filter(|c| keep(c))
                .take(limit)
                .collect();
        }
        // A lone letter matches a fifth of the list and says little; a digit ("type 2") is kept.
        let terms: Vec<String> = q
            .split_whitespace()
            .map(fold)
            .filter(|t| t.chars().count() >= 2 || t.chars().all(|c| c.is_ascii_digit()))
            .filter(|t| !t.is_empty())
            .collect();
        if terms.is_empty() {
            return Vec::new();
        }
        // The rarest term first keeps the intersection small.
        let mut lists: Vec<Vec<u32>> = terms.iter().map(|t| self.with_word_prefix(t)).collect();
        lists.sort_by_key(Vec::len);
        let mut hits = lists[0].clone();
        for other in &lists[1..] {
            hits.retain(|id| other.binary_search(id).is_ok());
            if hits.is_empty() {
                break;
            }
        }
        // Ranked: billable first, then words typed together found together ("type 2"
        // beside each other, not "Type 1 … Stage 2"), then the earlier and shorter match.
        let mut scored: Vec<(bool, usize, usize, usize, u32)> = hits
            .into_iter()
            .filter_map(|id| {
                let c = self.codes.get(id as usize)?;
                if !keep(c) {
                    return None;
                }
                let words: Vec<String> = c
                    .description
                    .split(|ch: char| !ch.is_alphanumeric())
                    .map(fold)
                    .filter(|w| !w.is_empty())
                    .collect();
                let together = terms
                    .windows(2)
                    .filter(|pair| {
                        words.windows(2).any(|w| w[0].starts_with(&pair[0]) && w[1].starts_with(&pair[1]))
                    })
                    .count();
                let first = words.iter().position(|w| w.starts_with(&terms[0])).unwrap_or(usize::MAX);
                Some((!c.billable, terms.len() - together, first, c.description.len(), id))
            })
            .collect();
        scored.sort_unstable();
        scored.into_iter().take(limit).filter_map(|(.., id)| self.codes.get(id as usize)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_list_is_carried() {
        let cat = IcdCatalog::get();
        assert!(cat.len() > 98_000, "{}", cat.len());
        let e119 = cat.find("e119").unwrap();
        assert_eq!(e119.code, "E11.9");
        assert!(e119.billable);
        assert!(!cat.find("E11").unwrap().billable, "a category is not billable");
        assert!(cat.find("S72.001A").is_some(), "seventh characters expanded");
        assert!(cat.find("Z99.99").is_none());
    }

    #[test]
    fn words_and_codes_find_what_a_clinician_means() {
        let cat = IcdCatalog::get();
        let hits = cat.search("diab type 2", 20, false);
        assert!(!hits.is_empty());
        assert!(hits.iter().take(10).all(|c| c.code.starts_with("E11")), "{hits:?}");
        assert!(hits[0].billable, "billable first");
        let by_code = cat.search("E11.6", 50, false);
        assert!(by_code.iter().all(|c| c.code.starts_with("E11.6")) && by_code.len() > 5);
        assert!(cat.search("J45", 10, true).iter().all(|c| c.billable));
        assert!(cat.search("xyzzy", 10, false).is_empty());
        assert!(cat.search("", 10, false).is_empty());
        assert!(cat.search("a", 10, false).is_empty(), "one letter says too little");
        let malaria = cat.search("plasmodium falciparum", 10, false);
        assert!(malaria.iter().any(|c| c.code.starts_with("B50")), "{malaria:?}");
    }
}
