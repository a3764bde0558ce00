//! PostgreSQL: writers side by side (so row locks), names read from
//! `patients.search_names` through a pg_trgm GIN index.

use sea_orm::{DbBackend, Statement};

use super::{Dialect, Params, trigrams};

pub struct Postgres;

impl Dialect for Postgres {
    fn backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    fn placeholder(&self, n: usize) -> String {
        format!("${n}")
    }

    fn key_param(&self, placeholder: String) -> String {
        format!("{placeholder} COLLATE \"C\"")
    }

    fn locks_rows(&self) -> bool {
        true
    }

    fn analyze(&self, tables: &[&str]) -> Option<String> {
        Some(format!("ANALYZE {}", tables.join(", ")))
    }

    fn has_name_table(&self) -> bool {
        false
    }

    fn names_containing(&self, params: &mut Params, token: &str) -> String {
        format!(
            "SELECT id AS patient_id FROM patients WHERE search_names LIKE {}",
            params.add(format!("%{token}%"))
        )
    }

    fn names_containing_all(&self, tokens: &[&str], limit: i64) -> Statement {
        let mut params = Params::new(&Postgres);
        let likes: Vec<String> =
            tokens.iter().map(|t| format!("search_names LIKE {}", params.add(format!("%{t}%")))).collect();
        let limit = params.add(limit);
        params
            .statement(format!("SELECT id AS pid FROM patients WHERE {} LIMIT {limit}", likes.join(" AND ")))
    }

    /// Any of the trigrams, through the GIN index; the closest by word similarity first.
    fn names_like(&self, token: &str, limit: i64) -> Statement {
        let mut params = Params::new(&Postgres);
        let whole = params.add(token);
        let likes: Vec<String> = trigrams(token)
            .into_iter()
            .map(|g| format!("search_names LIKE {}", params.add(format!("%{g}%"))))
            .collect();
        let limit = params.add(limit);
        params.statement(format!(
            "SELECT id AS pid FROM patients WHERE {} ORDER BY word_similarity({whole}, search_names) DESC, id \
             LIMIT {limit}",
            likes.join(" OR ")
        ))
    }
}
