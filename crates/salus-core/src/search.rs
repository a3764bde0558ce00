//! Name search keys and ranking, computed in Rust so SQLite and PostgreSQL store and
//! rank exactly the same way.
//!
//! A name is *folded* (transliterated to ASCII with `deunicode`, so "José", "Nguyễn",
//! "Müller", "王伟" and "محمد" become "jose", "nguyen", "muller", "wang wei" and "mhmd";
//! lower-cased; hyphens split, apostrophes dropped) and cut into tokens. Each token gets
//! its Double Metaphone codes, so "jon smyth" meets "John Smith" and "Mohammed" meets
//! "Muhammad". Ranking compares every query token with the best-matching name token, so
//! the order of given and family names does not matter.

use std::sync::LazyLock;

use rphonetic::DoubleMetaphone;

/// Folded text: ASCII lower-case letters and digits, single spaces.
pub fn fold(text: &str) -> String {
    let ascii = deunicode::deunicode(text).to_lowercase();
    let mut out = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            // O'Brien is one name, not "o" and "brien".
            '\'' | '`' => {}
            _ => {
                if !out.ends_with(' ') && !out.is_empty() {
                    out.push(' ');
                }
            }
        }
    }
    out.trim_end().to_owned()
}

/// The folded tokens of a name.
pub fn tokens(text: &str) -> Vec<String> {
    fold(text).split(' ').filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

static METAPHONE: LazyLock<DoubleMetaphone> = LazyLock::new(|| DoubleMetaphone::new(Some(6)));

/// The phonetic codes of one folded token (primary and, where different, alternate).
pub fn phonetic(token: &str) -> Vec<String> {
    if token.len() < 2 || token.bytes().all(|b| b.is_ascii_digit()) {
        return Vec::new();
    }
    let r = METAPHONE.double_metaphone(token);
    let mut codes = vec![r.primary()];
    let alt = r.alternate();
    if alt != codes[0] {
        codes.push(alt);
    }
    codes.retain(|c| !c.is_empty());
    codes
}

/// How well one query token matches one name token, 0 to 1.
pub fn token_similarity(query: &str, name: &str) -> f64 {
    if query == name {
        return 1.0;
    }
    // Typing: a prefix of the name is as good as a match — one letter too, after another
    // word ("funmilayo o"), or the list empties at every space.
    if !query.is_empty() && name.starts_with(query) {
        return 0.95;
    }
    let jw = strsim::jaro_winkler(query, name);
    let sounds_alike = {
        let q = phonetic(query);
        let n = phonetic(name);
        q.iter().any(|c| n.contains(c))
    };
    if sounds_alike { jw.max(0.85) } else { jw }
}

/// Tokens weaker than this do not count as matched.
pub const TOKEN_MATCH: f64 = 0.82;

/// The score of a name against query tokens: the mean of each query token's best match,
/// or `None` if any token matches nothing well enough (every word typed must be found).
pub fn name_score(query: &[String], name: &[String]) -> Option<f64> {
    if query.is_empty() {
        return Some(0.0);
    }
    let mut total = 0.0;
    for q in query {
        let best = name.iter().map(|n| token_similarity(q, n)).fold(0.0, f64::max);
        if best < TOKEN_MATCH {
            return None;
        }
        total += best;
    }
    Some(total / query.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Vec<String> {
        tokens(s)
    }

    #[test]
    fn folding_removes_diacritics_and_punctuation() {
        assert_eq!(fold("José  Álvarez-O'Brien"), "jose alvarez obrien");
        assert_eq!(fold("Nguyễn Thị Minh"), "nguyen thi minh");
        assert_eq!(fold("Müller, Jürgen"), "muller jurgen");
        assert!(!fold("王伟").is_empty(), "Chinese is transliterated, not dropped");
        assert!(!fold("محمد").is_empty(), "Arabic is transliterated, not dropped");
    }

    #[test]
    fn typos_and_spellings_still_match() {
        assert!(name_score(&t("jon smyth"), &t("John Smith")).is_some());
        assert!(name_score(&t("smith jon"), &t("John Smith")).is_some(), "order does not matter");
        assert!(name_score(&t("mohammed"), &t("Muhammad Khan")).is_some());
        assert!(name_score(&t("jose"), &t("José Álvarez")).is_some());
        assert!(name_score(&t("laksmi"), &t("Lakshmi Narayanan")).is_some());
        assert!(name_score(&t("sm"), &t("John Smith")).is_some(), "a prefix while typing");
        assert!(name_score(&t("jon smyth"), &t("Mary Jones")).is_none());
        assert!(
            name_score(&t("okafor"), &t("Chinedu Okafor")).unwrap()
                > name_score(&t("okafor"), &t("Chinedu Okafar")).unwrap()
        );
    }

    #[test]
    fn exact_beats_phonetic_beats_nothing() {
        let exact = token_similarity("smith", "smith");
        let sound = token_similarity("smyth", "smith");
        let other = token_similarity("jones", "smith");
        assert!(exact > sound && sound > other, "{exact} {sound} {other}");
    }
}
