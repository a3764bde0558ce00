//! SQLite: one writer at a time, names in an FTS5 trigram table.

use sea_orm::{DbBackend, Statement};

use super::{Dialect, Params, trigrams};

pub struct Sqlite;

/// An FTS5 query for the phrase `token` in the `names` column.
fn phrase(token: &str) -> String {
    format!("names:\"{token}\"")
}

impl Dialect for Sqlite {
    fn backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    fn placeholder(&self, _n: usize) -> String {
        "?".to_owned()
    }

    fn locks_rows(&self) -> bool {
        false
    }

    /// SQLite plans from its indexes alone.
    fn analyze(&self, _tables: &[&str]) -> Option<String> {
        None
    }

    fn has_name_table(&self) -> bool {
        true
    }

    fn names_containing(&self, params: &mut Params, token: &str) -> String {
        format!(
            "SELECT patient_id FROM patient_names_fts WHERE patient_names_fts MATCH {}",
            params.add(phrase(token))
        )
    }

    fn names_containing_all(&self, tokens: &[&str], limit: i64) -> Statement {
        let query: Vec<String> = tokens.iter().map(|t| phrase(t)).collect();
        Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT patient_id AS pid FROM patient_names_fts WHERE patient_names_fts MATCH ? LIMIT ?",
            [query.join(" AND ").into(), limit.into()],
        )
    }

    /// Names holding any of the token's trigrams, ranked by bm25.
    fn names_like(&self, token: &str, limit: i64) -> Statement {
        let query: Vec<String> = trigrams(token).into_iter().map(phrase).collect();
        Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT patient_id AS pid FROM patient_names_fts WHERE patient_names_fts MATCH ? \
             ORDER BY rank LIMIT ?",
            [query.join(" OR ").into(), limit.into()],
        )
    }
}
