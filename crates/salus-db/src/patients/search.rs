//! The patient search index and its lookups. Names are matched by FTS5 trigram on SQLite
//! and by pg_trgm on PostgreSQL (the statements are the dialects', see `crate::dialect`);
//! exact keys (phonetic codes, name pairs, MRN, phone, identifiers, birth date) share one
//! b-tree table on both.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, Set,
    Statement,
};
use uuid::Uuid;

use super::CHUNK;
use crate::dialect::{self, Params};
use crate::entity::{patient, patient_key};

/// Replaces a patient's exact search keys and indexed names. Returns the FTS row id on
/// SQLite (kept in `patients.search_rowid`), `None` on PostgreSQL, whose trigram index
/// reads `patients.search_names` itself.
pub async fn put_search_keys<C: ConnectionTrait>(
    conn: &C,
    patient_id: Uuid,
    keys: &[String],
    names: &str,
    old_rowid: Option<i64>,
) -> Result<Option<i64>, DbErr> {
    patient_key::Entity::delete_many()
        .filter(patient_key::Column::PatientId.eq(patient_id))
        .exec(conn)
        .await?;
    insert_keys(conn, keys.iter().map(|k| (k.clone(), patient_id))).await?;
    put_fts(conn, &[(patient_id, names.to_owned(), old_rowid)]).await.map(|v| v.into_iter().next().flatten())
}

pub async fn insert_keys<C: ConnectionTrait>(
    conn: &C,
    keys: impl Iterator<Item = (String, Uuid)>,
) -> Result<(), DbErr> {
    let mut keys: Vec<(String, Uuid)> = keys.collect();
    keys.sort();
    keys.dedup();
    for chunk in keys.chunks(CHUNK) {
        patient_key::Entity::insert_many(
            chunk
                .iter()
                .map(|(k, id)| patient_key::ActiveModel { key: Set(k.clone()), patient_id: Set(*id) }),
        )
        .exec(conn)
        .await?;
    }
    Ok(())
}

/// Where names have a table of their own (SQLite's FTS5): (re)writes the rows of
/// patients (`names` empty removes them) and returns the new row ids in order. Elsewhere
/// the index reads `patients.search_names` itself: nothing to do.
pub async fn put_fts<C: ConnectionTrait>(
    conn: &C,
    rows: &[(Uuid, String, Option<i64>)],
) -> Result<Vec<Option<i64>>, DbErr> {
    let dialect = dialect::of(conn);
    if !dialect.has_name_table() {
        return Ok(vec![None; rows.len()]);
    }
    let sqlite = dialect.backend();
    let mut out = Vec::with_capacity(rows.len());
    for (id, names, old) in rows {
        if let Some(old) = old {
            conn.execute_raw(Statement::from_sql_and_values(
                sqlite,
                "DELETE FROM patient_names_fts WHERE rowid = ?",
                [(*old).into()],
            ))
            .await?;
        }
        if names.is_empty() {
            out.push(None);
            continue;
        }
        // FTS5 numbers the row itself (one past its largest, read from its own b-tree).
        let done = conn
            .execute_raw(Statement::from_sql_and_values(
                sqlite,
                "INSERT INTO patient_names_fts (names, patient_id) VALUES (?, ?)",
                [names.clone().into(), (*id).into()],
            ))
            .await?;
        out.push(Some(i64::try_from(done.last_insert_id()).map_err(|e| DbErr::Custom(e.to_string()))?));
    }
    Ok(out)
}

pub async fn set_search_rowid<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    rowid: Option<i64>,
) -> Result<(), DbErr> {
    patient::Entity::update_many()
        .col_expr(patient::Column::SearchRowid, Expr::value(rowid))
        .filter(patient::Column::Id.eq(id))
        .exec(conn)
        .await
        .map(|_| ())
}

/// Patients whose names share enough trigrams with `token` (a misspelling: "laksmi" for
/// "lakshmi"), best first (`Dialect::names_like`). Used when exact and phonetic lookups
/// found little; the caller ranks the candidates itself, identically on both backends.
pub async fn ids_by_fuzzy_name(db: &crate::Db, token: &str, limit: u64) -> Result<Vec<Uuid>, DbErr> {
    if token.len() < 4 || !token.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
        return Ok(Vec::new());
    }
    let stmt = dialect::of(db.reader()).names_like(token, i64::try_from(limit).unwrap_or(i64::MAX));
    crate::fast::ids(db, stmt).await
}

/// How one search term finds patients: any of these lookups (their union).
#[derive(Debug, Clone, Default)]
pub struct TermLookup {
    /// Folded names containing this (three or more of `[a-z0-9]`).
    pub substring: Option<String>,
    /// Exact keys.
    pub keys: Vec<String>,
    /// Keys starting with any of these.
    pub key_prefixes: Vec<String>,
}

/// Patients found by every term (each term by any of its lookups), at most `limit`: one
/// statement, so the database intersects the sets — "ravi kumar" reads the few hundred
/// Ravi Kumars, not every Ravi and every Kumar.
pub async fn candidate_ids(db: &crate::Db, terms: &[TermLookup], limit: u64) -> Result<Vec<Uuid>, DbErr> {
    let dialect = dialect::of(db.reader());
    let mut params = Params::new(dialect);
    let mut selects = Vec::new();
    for (i, t) in terms.iter().enumerate() {
        let mut parts = Vec::new();
        if let Some(sub) = t
            .substring
            .as_ref()
            .filter(|s| s.len() >= 3 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        {
            parts.push(dialect.names_containing(&mut params, sub));
        }
        if !t.keys.is_empty() {
            let list: Vec<String> = t.keys.iter().map(|k| params.key(k.clone())).collect();
            parts.push(format!("SELECT patient_id FROM patient_keys WHERE key IN ({})", list.join(", ")));
        }
        for prefix in &t.key_prefixes {
            let (lo, hi) = (params.key(prefix.clone()), params.key(format!("{prefix}\u{7f}")));
            parts.push(format!("SELECT patient_id FROM patient_keys WHERE key >= {lo} AND key < {hi}"));
        }
        if parts.is_empty() {
            return Ok(Vec::new());
        }
        selects.push(format!("SELECT patient_id FROM ({}) AS t{i}", parts.join(" UNION ")));
    }
    if selects.is_empty() {
        return Ok(Vec::new());
    }
    let limit = params.add(i64::try_from(limit).unwrap_or(i64::MAX));
    let sql = format!("SELECT patient_id FROM ({}) AS c LIMIT {limit}", selects.join(" INTERSECT "));
    crate::fast::ids(db, params.statement(sql)).await
}

/// The ranking rows of the holders of keys starting with each of `prefixes`, in key order
/// (a patient holding several such keys comes once per key), at most `limit` per prefix:
/// walks along the key index that stop at the limit, so the cost is the limit's, not the
/// number of holders, and the rows come with the walk in one statement. On SQLite it runs
/// on the calling thread ([`crate::fast`]): a hundred rows handed one by one across
/// sqlx's channel were most of a keystroke's time.
pub async fn search_rows_by_key_prefixes(
    db: &crate::Db,
    prefixes: &[String],
    limit: u64,
) -> Result<Vec<SearchRow>, DbErr> {
    if prefixes.is_empty() {
        return Ok(Vec::new());
    }
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    if let Some(fast) = db.fast() {
        let mut params = Params::new(dialect::of_backend(sea_orm::DbBackend::Sqlite));
        let sql = key_walk_sql(&mut params, prefixes, limit);
        let values = crate::fast::sqlite_values(params.values)?;
        return fast.read(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(values), search_row_sqlite)?;
            rows.collect()
        });
    }
    let conn = db.reader();
    let mut params = Params::new(dialect::of(conn));
    let sql = key_walk_sql(&mut params, prefixes, limit);
    SearchRow::find_by_statement(params.statement(sql)).all(conn).await
}

fn key_walk_sql(params: &mut Params, prefixes: &[String], limit: i64) -> String {
    let mut walks = Vec::new();
    for p in prefixes {
        let (lo, hi, n) = (params.key(p.clone()), params.key(format!("{p}\u{7f}")), params.add(limit));
        walks.push(format!(
            "SELECT * FROM (SELECT key, patient_id FROM patient_keys \
             WHERE key >= {lo} AND key < {hi} ORDER BY key, patient_id LIMIT {n}) AS w"
        ));
    }
    format!(
        "SELECT {SEARCH_ROW_COLUMNS} \
         FROM ({}) AS k JOIN patients p ON p.id = k.patient_id ORDER BY k.key, k.patient_id",
        walks.join(" UNION ALL ")
    )
}

/// The columns of a [`SearchRow`] (of `patients p`), in the order [`search_row_sqlite`]
/// reads them.
const SEARCH_ROW_COLUMNS: &str = "p.id, p.mrn, p.given_names, p.family_name, p.birth_date, p.phone, \
     p.phone_alt, p.active, p.merged_into, p.search_names";

fn search_row_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<SearchRow> {
    Ok(SearchRow {
        id: r.get(0)?,
        mrn: r.get(1)?,
        given_names: r.get(2)?,
        family_name: r.get(3)?,
        birth_date: super::sqlite_date(r, 4)?,
        phone: r.get(5)?,
        phone_alt: r.get(6)?,
        active: r.get(7)?,
        merged_into: r.get(8)?,
        search_names: r.get(9)?,
    })
}

/// Patients whose folded names contain every one of `tokens` (each three or more of
/// `[a-z0-9]`), in one statement (`Dialect::names_containing_all`).
pub async fn ids_by_all_substrings(
    db: &crate::Db,
    tokens: &[String],
    limit: u64,
) -> Result<Vec<Uuid>, DbErr> {
    let tokens: Vec<&String> = tokens
        .iter()
        .filter(|t| t.len() >= 3 && t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        .collect();
    if tokens.is_empty() {
        return Ok(Vec::new());
    }
    let tokens: Vec<&str> = tokens.iter().map(|t| t.as_str()).collect();
    let stmt =
        dialect::of(db.reader()).names_containing_all(&tokens, i64::try_from(limit).unwrap_or(i64::MAX));
    crate::fast::ids(db, stmt).await
}

/// What ranking needs of a candidate: a narrow row, so thousands load quickly.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
pub struct SearchRow {
    pub id: Uuid,
    pub mrn: String,
    pub given_names: String,
    pub family_name: String,
    pub birth_date: Option<chrono::NaiveDate>,
    pub phone: Option<String>,
    pub phone_alt: Option<String>,
    pub active: bool,
    pub merged_into: Option<Uuid>,
    pub search_names: String,
}

/// The ranking rows of `ids`, in no particular order; on SQLite on the calling thread.
pub async fn search_rows(db: &crate::Db, ids: &[Uuid]) -> Result<Vec<SearchRow>, DbErr> {
    use patient::Column as P;
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        if let Some(fast) = db.fast() {
            let sql = format!(
                "SELECT {SEARCH_ROW_COLUMNS} FROM patients p WHERE p.id IN ({})",
                super::sqlite_placeholders(chunk.len())
            );
            out.extend(fast.read(|c| {
                let mut stmt = c.prepare_cached(&sql)?;
                let rows = stmt.query_map(rusqlite::params_from_iter(chunk), search_row_sqlite)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            })?);
            continue;
        }
        out.extend(
            patient::Entity::find()
                .select_only()
                .columns([
                    P::Id,
                    P::Mrn,
                    P::GivenNames,
                    P::FamilyName,
                    P::BirthDate,
                    P::Phone,
                    P::PhoneAlt,
                    P::Active,
                    P::MergedInto,
                    P::SearchNames,
                ])
                .filter(P::Id.is_in(chunk.iter().copied()))
                .into_model::<SearchRow>()
                .all(db.reader())
                .await?,
        );
    }
    Ok(out)
}
