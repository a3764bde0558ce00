//! Queries of the master patient index. Name-search candidates are the one place the
//! backends differ (FTS5 trigram on SQLite, pg_trgm on PostgreSQL); both return the ids of
//! patients whose folded names contain a token.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};
use uuid::Uuid;

use crate::entity::{
    break_glass, identifier_type, mrn_sequence, patient, patient_history, patient_identifier, patient_key,
    patient_merge, patient_photo, patient_timeline,
};

/// Rows per `IN (…)` list: well under both backends' parameter limits.
const CHUNK: usize = 1000;

/// Takes the next sequence number of `prefix` inside the caller's transaction.
pub async fn next_mrn_sequence<C: ConnectionTrait>(conn: &C, prefix: &str) -> Result<i64, DbErr> {
    mrn_sequence::Entity::insert(mrn_sequence::ActiveModel {
        prefix: Set(prefix.to_owned()),
        next_value: Set(1),
    })
    .on_conflict_do_nothing()
    .exec(conn)
    .await?;
    // The UPDATE takes the row's lock on PostgreSQL: two instances take turns here.
    mrn_sequence::Entity::update_many()
        .col_expr(mrn_sequence::Column::NextValue, Expr::col(mrn_sequence::Column::NextValue).add(1))
        .filter(mrn_sequence::Column::Prefix.eq(prefix))
        .exec(conn)
        .await?;
    let row = mrn_sequence::Entity::find_by_id(prefix.to_owned())
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("mrn sequence".into()))?;
    Ok(row.next_value - 1)
}

/// Moves every sequence to at least `value` (used by the bulk generator).
pub async fn raise_mrn_sequence<C: ConnectionTrait>(conn: &C, prefix: &str, next: i64) -> Result<(), DbErr> {
    mrn_sequence::Entity::insert(mrn_sequence::ActiveModel {
        prefix: Set(prefix.to_owned()),
        next_value: Set(next),
    })
    .on_conflict(
        OnConflict::column(mrn_sequence::Column::Prefix)
            .update_column(mrn_sequence::Column::NextValue)
            .to_owned(),
    )
    .exec(conn)
    .await
    .map(|_| ())
}

pub async fn insert_patient<C: ConnectionTrait>(conn: &C, row: patient::Model) -> Result<(), DbErr> {
    row.into_active_model().reset_all().insert(conn).await.map(|_| ())
}

pub async fn insert_patients<C: ConnectionTrait>(conn: &C, rows: Vec<patient::Model>) -> Result<(), DbErr> {
    // 39 columns a row: 500 rows stay under SQLite's 32766 parameters.
    for chunk in rows.chunks(500) {
        patient::Entity::insert_many(chunk.iter().cloned().map(|r| r.into_active_model().reset_all()))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Writes `row` if the stored version is still `expected`; false if someone else changed
/// it first (or it does not exist).
pub async fn update_patient<C: ConnectionTrait>(
    conn: &C,
    row: patient::Model,
    expected: i32,
) -> Result<bool, DbErr> {
    let id = row.id;
    let mut am = row.into_active_model().reset_all();
    am.id = sea_orm::ActiveValue::NotSet;
    let res = patient::Entity::update_many()
        .set(am)
        .filter(patient::Column::Id.eq(id))
        .filter(patient::Column::Version.eq(expected))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn find_patient<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<patient::Model>, DbErr> {
    patient::Entity::find_by_id(id).one(conn).await
}

pub async fn find_patient_by_mrn<C: ConnectionTrait>(
    conn: &C,
    mrn: &str,
) -> Result<Option<patient::Model>, DbErr> {
    patient::Entity::find().filter(patient::Column::Mrn.eq(mrn)).one(conn).await
}

pub async fn patients_by_ids<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> Result<Vec<patient::Model>, DbErr> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        out.extend(
            patient::Entity::find()
                .filter(patient::Column::Id.is_in(chunk.iter().copied()))
                .all(conn)
                .await?,
        );
    }
    Ok(out)
}

pub async fn identifier_types<C: ConnectionTrait>(conn: &C) -> Result<Vec<identifier_type::Model>, DbErr> {
    identifier_type::Entity::find().order_by_asc(identifier_type::Column::Name).all(conn).await
}

pub async fn identifiers_of<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> Result<Vec<patient_identifier::Model>, DbErr> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        out.extend(
            patient_identifier::Entity::find()
                .filter(patient_identifier::Column::PatientId.is_in(chunk.iter().copied()))
                .order_by_asc(patient_identifier::Column::System)
                .all(conn)
                .await?,
        );
    }
    Ok(out)
}

/// Which of `unique_keys` are held, and by whom.
pub async fn identifier_holders<C: ConnectionTrait>(
    conn: &C,
    unique_keys: &[String],
) -> Result<Vec<(String, Uuid)>, DbErr> {
    if unique_keys.is_empty() {
        return Ok(Vec::new());
    }
    Ok(patient_identifier::Entity::find()
        .filter(patient_identifier::Column::UniqueKey.is_in(unique_keys.iter().cloned()))
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|r| r.unique_key.map(|k| (k, r.patient_id)))
        .collect())
}

pub async fn replace_identifiers<C: ConnectionTrait>(
    conn: &C,
    patient_id: Uuid,
    rows: Vec<patient_identifier::Model>,
) -> Result<(), DbErr> {
    patient_identifier::Entity::delete_many()
        .filter(patient_identifier::Column::PatientId.eq(patient_id))
        .exec(conn)
        .await?;
    insert_identifiers(conn, rows).await
}

pub async fn insert_identifiers<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<patient_identifier::Model>,
) -> Result<(), DbErr> {
    for chunk in rows.chunks(CHUNK) {
        patient_identifier::Entity::insert_many(
            chunk.iter().cloned().map(|r| r.into_active_model().reset_all()),
        )
        .exec(conn)
        .await?;
    }
    Ok(())
}

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

/// SQLite: (re)writes the FTS rows of patients (`names` empty removes them); returns the
/// new row ids in order. PostgreSQL: nothing to do.
pub async fn put_fts<C: ConnectionTrait>(
    conn: &C,
    rows: &[(Uuid, String, Option<i64>)],
) -> Result<Vec<Option<i64>>, DbErr> {
    if conn.get_database_backend() != DatabaseBackend::Sqlite {
        return Ok(vec![None; rows.len()]);
    }
    let sqlite = DatabaseBackend::Sqlite;
    let next = conn
        .query_one_raw(Statement::from_string(
            sqlite,
            // (max(rowid) would scan the whole FTS table; a descending rowid scan stops at one.)
            "SELECT rowid AS m FROM patient_names_fts ORDER BY rowid DESC LIMIT 1",
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "m"))
        .transpose()?
        .unwrap_or(0);
    let mut out = Vec::with_capacity(rows.len());
    let mut rowid = next;
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
        rowid += 1;
        conn.execute_raw(Statement::from_sql_and_values(
            sqlite,
            "INSERT INTO patient_names_fts (rowid, names, patient_id) VALUES (?, ?, ?)",
            [rowid.into(), names.clone().into(), (*id).into()],
        ))
        .await?;
        out.push(Some(rowid));
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
/// "lakshmi"), best first: names holding any of the token's trigrams, ranked by bm25 on
/// SQLite (FTS5) and by pg_trgm's word similarity on PostgreSQL (GIN index). Used when exact and phonetic lookups
/// found little; the caller ranks the candidates itself, identically on both.
pub async fn ids_by_fuzzy_name<C: ConnectionTrait>(
    conn: &C,
    token: &str,
    limit: u64,
) -> Result<Vec<Uuid>, DbErr> {
    if token.len() < 4 || !token.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
        return Ok(Vec::new());
    }
    let backend = conn.get_database_backend();
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let grams: Vec<&str> = (0..=token.len() - 3).map(|i| &token[i..i + 3]).collect();
    let stmt = match backend {
        DatabaseBackend::Postgres => {
            // Any of the trigrams, through the GIN index; the closest first.
            let likes: Vec<String> =
                (0..grams.len()).map(|i| format!("search_names LIKE ${}", i + 2)).collect();
            let mut values: Vec<sea_orm::Value> = vec![token.into()];
            values.extend(grams.iter().map(|g| format!("%{g}%").into()));
            values.push(limit.into());
            Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT id AS pid FROM patients WHERE {} \
                     ORDER BY word_similarity($1, search_names) DESC, id LIMIT ${}",
                    likes.join(" OR "),
                    grams.len() + 2
                ),
                values,
            )
        }
        _ => {
            let query: Vec<String> = grams.iter().map(|g| format!("names:\"{g}\"")).collect();
            Statement::from_sql_and_values(
                backend,
                "SELECT patient_id AS pid FROM patient_names_fts WHERE patient_names_fts MATCH ? \
                 ORDER BY rank LIMIT ?",
                [query.join(" OR ").into(), limit.into()],
            )
        }
    };
    let rows = conn.query_all_raw(stmt).await?;
    rows.iter().map(|r| r.try_get::<Uuid>("", "pid")).collect()
}

/// How one search term finds patients: any of these lookups (their union).
#[derive(Debug, Clone, Default)]
pub struct TermLookup {
    /// Folded names containing this (three or more of `[a-z0-9]`).
    pub substring: Option<String>,
    /// Exact keys.
    pub keys: Vec<String>,
    /// Keys starting with this.
    pub key_prefix: Option<String>,
}

/// Patients found by every term (each term by any of its lookups), at most `limit`: one
/// statement, so the database intersects the sets — "ravi kumar" reads the few hundred
/// Ravi Kumars, not every Ravi and every Kumar.
pub async fn candidate_ids<C: ConnectionTrait>(
    conn: &C,
    terms: &[TermLookup],
    limit: u64,
) -> Result<Vec<Uuid>, DbErr> {
    let backend = conn.get_database_backend();
    let pg = backend == DatabaseBackend::Postgres;
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let mut ph = |v: sea_orm::Value| {
        values.push(v);
        if pg { format!("${}", values.len()) } else { "?".to_owned() }
    };
    let mut selects = Vec::new();
    for (i, t) in terms.iter().enumerate() {
        let mut parts = Vec::new();
        if let Some(sub) = t
            .substring
            .as_ref()
            .filter(|s| s.len() >= 3 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        {
            parts.push(if pg {
                format!(
                    "SELECT id AS patient_id FROM patients WHERE search_names LIKE {}",
                    ph(format!("%{sub}%").into())
                )
            } else {
                format!(
                    "SELECT patient_id FROM patient_names_fts WHERE patient_names_fts MATCH {}",
                    ph(format!("names:\"{sub}\"").into())
                )
            });
        }
        // The key column has the "C" collation on PostgreSQL; parameters must say so too,
        // or the comparison's collation is undetermined and the index goes unused.
        let c = if pg { " COLLATE \"C\"" } else { "" };
        if !t.keys.is_empty() {
            let list: Vec<String> = t.keys.iter().map(|k| format!("{}{c}", ph(k.clone().into()))).collect();
            parts.push(format!("SELECT patient_id FROM patient_keys WHERE key IN ({})", list.join(", ")));
        }
        if let Some(prefix) = &t.key_prefix {
            let (lo, hi) = (ph(prefix.clone().into()), ph(format!("{prefix}\u{7f}").into()));
            parts.push(format!("SELECT patient_id FROM patient_keys WHERE key >= {lo}{c} AND key < {hi}{c}"));
        }
        if parts.is_empty() {
            return Ok(Vec::new());
        }
        selects.push(format!("SELECT patient_id FROM ({}) AS t{i}", parts.join(" UNION ")));
    }
    if selects.is_empty() {
        return Ok(Vec::new());
    }
    let limit = ph(i64::try_from(limit).unwrap_or(i64::MAX).into());
    let sql = format!("SELECT patient_id FROM ({}) AS c LIMIT {limit}", selects.join(" INTERSECT "));
    let rows = conn.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    rows.iter().map(|r| r.try_get::<Uuid>("", "patient_id")).collect()
}

/// Patients whose folded names contain every one of `tokens` (each three or more of
/// `[a-z0-9]`): one FTS5 query with AND on SQLite, LIKE … AND LIKE … over the pg_trgm
/// index on PostgreSQL.
pub async fn ids_by_all_substrings<C: ConnectionTrait>(
    conn: &C,
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
    let backend = conn.get_database_backend();
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let stmt = match backend {
        DatabaseBackend::Postgres => {
            let likes: Vec<String> = (1..=tokens.len()).map(|i| format!("search_names LIKE ${i}")).collect();
            let mut values: Vec<sea_orm::Value> = tokens.iter().map(|t| format!("%{t}%").into()).collect();
            values.push(limit.into());
            Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT id AS pid FROM patients WHERE {} LIMIT ${}",
                    likes.join(" AND "),
                    tokens.len() + 1
                ),
                values,
            )
        }
        _ => {
            let query: Vec<String> = tokens.iter().map(|t| format!("names:\"{t}\"")).collect();
            Statement::from_sql_and_values(
                backend,
                "SELECT patient_id AS pid FROM patient_names_fts WHERE patient_names_fts MATCH ? LIMIT ?",
                [query.join(" AND ").into(), limit.into()],
            )
        }
    };
    let rows = conn.query_all_raw(stmt).await?;
    rows.iter().map(|r| r.try_get::<Uuid>("", "pid")).collect()
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

pub async fn search_rows<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> Result<Vec<SearchRow>, DbErr> {
    use patient::Column as P;
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
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
                .all(conn)
                .await?,
        );
    }
    Ok(out)
}

/// Identifier values (normalised by the caller) of patients, as (patient, value).
pub async fn identifier_values<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, String)>, DbErr> {
    Ok(identifiers_of(conn, ids).await?.into_iter().map(|i| (i.patient_id, i.value)).collect())
}

pub async fn insert_history<C: ConnectionTrait>(conn: &C, row: patient_history::Model) -> Result<(), DbErr> {
    row.into_active_model().reset_all().insert(conn).await.map(|_| ())
}

pub async fn history_of<C: ConnectionTrait>(
    conn: &C,
    patient_id: Uuid,
    limit: u64,
) -> Result<Vec<patient_history::Model>, DbErr> {
    patient_history::Entity::find()
        .filter(patient_history::Column::PatientId.eq(patient_id))
        .order_by_desc(patient_history::Column::Version)
        .limit(limit)
        .all(conn)
        .await
}

pub async fn insert_timeline<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<patient_timeline::Model>,
) -> Result<(), DbErr> {
    for chunk in rows.chunks(CHUNK) {
        patient_timeline::Entity::insert_many(
            chunk.iter().cloned().map(|r| r.into_active_model().reset_all()),
        )
        .exec(conn)
        .await?;
    }
    Ok(())
}

/// The chart's timeline, newest first, strictly before `(at, id)`; one index range scan.
pub async fn timeline_page<C: ConnectionTrait>(
    conn: &C,
    patient_id: Uuid,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<patient_timeline::Model>, DbErr> {
    use patient_timeline::Column as T;
    let mut q = patient_timeline::Entity::find()
        .filter(T::PatientId.eq(patient_id))
        .order_by_desc(T::At)
        .order_by_desc(T::Id)
        .limit(limit);
    if let Some((at, id)) = before {
        q = q.filter(T::At.lt(at).or(T::At.eq(at).and(T::Id.lt(id))));
    }
    q.all(conn).await
}

/// Moves timeline rows to another patient; returns the ids moved.
pub async fn move_timeline<C: ConnectionTrait>(conn: &C, from: Uuid, to: Uuid) -> Result<Vec<Uuid>, DbErr> {
    let ids: Vec<Uuid> = patient_timeline::Entity::find()
        .select_only()
        .column(patient_timeline::Column::Id)
        .filter(patient_timeline::Column::PatientId.eq(from))
        .into_tuple::<Uuid>()
        .all(conn)
        .await?;
    move_timeline_rows(conn, &ids, to).await?;
    Ok(ids)
}

pub async fn move_timeline_rows<C: ConnectionTrait>(conn: &C, ids: &[Uuid], to: Uuid) -> Result<(), DbErr> {
    for chunk in ids.chunks(CHUNK) {
        patient_timeline::Entity::update_many()
            .col_expr(patient_timeline::Column::PatientId, Expr::value(to))
            .filter(patient_timeline::Column::Id.is_in(chunk.iter().copied()))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Points patient accounts at another record; returns the user ids moved.
pub async fn move_patient_users<C: ConnectionTrait>(
    conn: &C,
    from: Uuid,
    to: Uuid,
) -> Result<Vec<Uuid>, DbErr> {
    use crate::entity::user;
    let ids: Vec<Uuid> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::PatientId.eq(from))
        .into_tuple::<Uuid>()
        .all(conn)
        .await?;
    set_users_patient(conn, &ids, Some(to)).await?;
    Ok(ids)
}

pub async fn set_users_patient<C: ConnectionTrait>(
    conn: &C,
    user_ids: &[Uuid],
    patient: Option<Uuid>,
) -> Result<(), DbErr> {
    use crate::entity::user;
    if user_ids.is_empty() {
        return Ok(());
    }
    user::Entity::update_many()
        .col_expr(user::Column::PatientId, Expr::value(patient))
        .filter(user::Column::Id.is_in(user_ids.iter().copied()))
        .exec(conn)
        .await
        .map(|_| ())
}

pub async fn insert_break_glass<C: ConnectionTrait>(conn: &C, row: break_glass::Model) -> Result<(), DbErr> {
    row.into_active_model().reset_all().insert(conn).await.map(|_| ())
}

/// The user's unexpired break-the-glass grant for a patient, if any.
pub async fn active_break_glass<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    patient_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<break_glass::Model>, DbErr> {
    break_glass::Entity::find()
        .filter(break_glass::Column::UserId.eq(user_id))
        .filter(break_glass::Column::PatientId.eq(patient_id))
        .filter(break_glass::Column::ExpiresAt.gt(now))
        .order_by_desc(break_glass::Column::ExpiresAt)
        .one(conn)
        .await
}

/// Grants newest first, before `before` (an id), optionally only those not yet reviewed.
pub async fn break_glass_page<C: ConnectionTrait>(
    conn: &C,
    unreviewed_only: bool,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<break_glass::Model>, DbErr> {
    let mut q = break_glass::Entity::find().order_by_desc(break_glass::Column::Id).limit(limit);
    if unreviewed_only {
        q = q.filter(break_glass::Column::ReviewedAt.is_null());
    }
    if let Some(b) = before {
        q = q.filter(break_glass::Column::Id.lt(b));
    }
    q.all(conn).await
}

pub async fn review_break_glass<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    reviewer: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = break_glass::Entity::update_many()
        .col_expr(break_glass::Column::ReviewedBy, Expr::value(reviewer))
        .col_expr(break_glass::Column::ReviewedAt, Expr::value(now))
        .filter(break_glass::Column::Id.eq(id))
        .filter(break_glass::Column::ReviewedAt.is_null())
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn insert_merge<C: ConnectionTrait>(conn: &C, row: patient_merge::Model) -> Result<(), DbErr> {
    row.into_active_model().reset_all().insert(conn).await.map(|_| ())
}

/// The merge that made `source_id` a pointer, if it stands.
pub async fn standing_merge<C: ConnectionTrait>(
    conn: &C,
    source_id: Uuid,
) -> Result<Option<patient_merge::Model>, DbErr> {
    patient_merge::Entity::find()
        .filter(patient_merge::Column::SourceId.eq(source_id))
        .filter(patient_merge::Column::UndoneAt.is_null())
        .one(conn)
        .await
}

pub async fn mark_merge_undone<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    patient_merge::Entity::update_many()
        .col_expr(patient_merge::Column::UndoneAt, Expr::value(now))
        .col_expr(patient_merge::Column::UndoneBy, Expr::value(by))
        .filter(patient_merge::Column::Id.eq(id))
        .exec(conn)
        .await
        .map(|_| ())
}

pub async fn put_photo<C: ConnectionTrait>(conn: &C, row: patient_photo::Model) -> Result<(), DbErr> {
    patient_photo::Entity::insert(row.into_active_model().reset_all())
        .on_conflict(
            OnConflict::column(patient_photo::Column::PatientId)
                .update_columns([
                    patient_photo::Column::ContentType,
                    patient_photo::Column::Data,
                    patient_photo::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(conn)
        .await
        .map(|_| ())
}

pub async fn photo<C: ConnectionTrait>(
    conn: &C,
    patient_id: Uuid,
) -> Result<Option<patient_photo::Model>, DbErr> {
    patient_photo::Entity::find_by_id(patient_id).one(conn).await
}

pub async fn has_photo<C: ConnectionTrait>(conn: &C, patient_id: Uuid) -> Result<bool, DbErr> {
    Ok(patient_photo::Entity::find()
        .select_only()
        .column(patient_photo::Column::PatientId)
        .filter(patient_photo::Column::PatientId.eq(patient_id))
        .into_tuple::<Uuid>()
        .one(conn)
        .await?
        .is_some())
}

/// Refreshes the planner's statistics after a bulk load (PostgreSQL; SQLite plans from
/// its indexes alone).
pub async fn analyze<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        conn.execute_unprepared("ANALYZE patients, patient_keys, patient_identifiers, patient_timeline")
            .await?;
    }
    Ok(())
}

/// How many patient rows there are (for the generator's report).
pub async fn count_patients<C: ConnectionTrait>(conn: &C) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    patient::Entity::find().count(conn).await
}
