//! Queries of the master patient index: records, identifiers, MRN sequences, history,
//! timeline, merges, photos and break-the-glass grants. The search index and its lookups
//! live in `search`.

mod search;
mod sqlite_rows;

pub(crate) use sqlite_rows::{sqlite_date, sqlite_placeholders};

pub use search::{
    SearchRow, TermLookup, candidate_ids, ids_by_all_substrings, ids_by_fuzzy_name, insert_keys, put_fts,
    put_search_keys, search_rows, search_rows_by_key_prefixes, set_search_rowid,
};

use crate::merge::PatientLink;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::entity::{
    break_glass, identifier_type, mrn_sequence, patient, patient_history, patient_identifier, patient_merge,
    patient_photo, patient_timeline,
};

/// The patients context's tables that refer to a patient, and what a merge does with them.
pub const PATIENT_LINKS: &[PatientLink] = &[
    PatientLink::follows("patient_timeline"),
    PatientLink::rebuilt(
        "patient_identifiers",
        "patient_id",
        "the survivor keeps its own; the duplicate's other identifiers move",
    ),
    PatientLink::rebuilt(
        "patient_keys",
        "patient_id",
        "search keys are rebuilt from the survivor's names and identifiers",
    ),
    PatientLink::rebuilt("patient_names_fts", "patient_id", "the SQLite name index is rebuilt with the keys"),
    PatientLink::rebuilt(
        "patient_photos",
        "patient_id",
        "the photo moves when the survivor has none of its own",
    ),
    PatientLink::stays(
        "patient_history",
        "patient_id",
        "the versions of the duplicate's own registration details",
    ),
    PatientLink::stays(
        "break_glass",
        "patient_id",
        "a grant opens the record it was asked for; the survivor needs its own",
    ),
    PatientLink::stays("patient_merges", "source_id", "the merge itself"),
    PatientLink::stays("patient_merges", "survivor_id", "the merge itself"),
    PatientLink::stays("patients", "merged_into", "the pointer a merge sets"),
];

/// Rows per `IN (…)` list: well under both backends' parameter limits.
const CHUNK: usize = 1000;

/// Takes the next sequence number of `prefix` inside the caller's transaction.
pub async fn next_mrn_sequence<C: ConnectionTrait>(conn: &C, prefix: &str) -> Result<i64, DbErr> {
    // One statement: the first MRN of a prefix creates its row, later ones bump it (the
    // update takes the row's lock on PostgreSQL, so two instances take turns here).
    let next = mrn_sequence::Entity::insert(mrn_sequence::ActiveModel {
        prefix: Set(prefix.to_owned()),
        next_value: Set(2),
    })
    .on_conflict(
        OnConflict::column(mrn_sequence::Column::Prefix)
            .value(
                mrn_sequence::Column::NextValue,
                Expr::col((mrn_sequence::Entity, mrn_sequence::Column::NextValue)).add(1),
            )
            .to_owned(),
    )
    .exec_with_returning(conn)
    .await?;
    Ok(next.next_value - 1)
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

/// The records with these ids (any order; unknown ids are skipped).
pub async fn find_patients<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> Result<Vec<patient::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    patient::Entity::find().filter(patient::Column::Id.is_in(ids.iter().copied())).all(conn).await
}

pub async fn find_patient<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<patient::Model>, DbErr> {
    patient::Entity::find_by_id(id).one(conn).await
}

/// A patient's row with what its record shows beside it: the identifiers (by system)
/// and whether a photo is on file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WholePatient {
    pub row: patient::Model,
    pub identifiers: Vec<(String, String)>,
    pub has_photo: bool,
}

/// [`find_patient`], its identifiers and its photo's presence in one round trip (an
/// audited read runs this for every record it shows). On SQLite it runs on the calling
/// thread ([`crate::fast`]); elsewhere [`find_whole_patients_on`].
pub async fn find_whole_patient(db: &crate::Db, id: Uuid) -> Result<Option<WholePatient>, DbErr> {
    Ok(find_whole_patients(db, &[id]).await?.pop())
}

/// [`find_whole_patient`] for several patients in one statement (per [`CHUNK`] ids), in
/// no particular order; ids not on file are left out.
pub async fn find_whole_patients(db: &crate::Db, ids: &[Uuid]) -> Result<Vec<WholePatient>, DbErr> {
    match db.fast() {
        Some(fast) => {
            let mut out = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(CHUNK) {
                out.extend(fast.read(|c| sqlite_rows::whole_patients(c, chunk))?);
            }
            Ok(out)
        }
        None => find_whole_patients_on(db.reader(), ids).await,
    }
}

/// Appends a joined row (a patient, one of its identifiers or none) to `out`, whose last
/// entry is that patient's when the rows come ordered by patient.
pub(super) fn push_whole<E>(
    out: &mut Vec<WholePatient>,
    id: Uuid,
    ident: Option<(String, String)>,
    whole: impl FnOnce() -> Result<WholePatient, E>,
) -> Result<(), E> {
    if out.last().is_none_or(|w| w.row.id != id) {
        out.push(whole()?);
    }
    if let (Some(w), Some(pair)) = (out.last_mut(), ident) {
        w.identifiers.push(pair);
    }
    Ok(())
}

/// [`find_whole_patients`] through SeaORM, on any connection: one row per identifier, or
/// one for a patient with none.
pub async fn find_whole_patients_on<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> Result<Vec<WholePatient>, DbErr> {
    use sea_orm::sea_query::{JoinType, Query};
    use sea_orm::{FromQueryResult, Iterable};
    let ident = |c: patient_identifier::Column| Expr::col((patient_identifier::Entity, c));
    let photo = Query::select()
        .expr(Expr::val(1))
        .from(patient_photo::Entity)
        .and_where(
            Expr::col((patient_photo::Entity, patient_photo::Column::PatientId))
                .equals((patient::Entity, patient::Column::Id)),
        )
        .to_owned();
    let mut out: Vec<WholePatient> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let select = Query::select()
            .columns(patient::Column::iter().map(|c| (patient::Entity, c)))
            .expr_as(ident(patient_identifier::Column::System), "ident_system")
            .expr_as(ident(patient_identifier::Column::Value), "ident_value")
            .expr_as(Expr::exists(photo.clone()), "has_photo")
            .from(patient::Entity)
            .join(
                JoinType::LeftJoin,
                patient_identifier::Entity,
                ident(patient_identifier::Column::PatientId).equals((patient::Entity, patient::Column::Id)),
            )
            .and_where(Expr::col((patient::Entity, patient::Column::Id)).is_in(chunk.iter().copied()))
            .order_by((patient::Entity, patient::Column::Id), sea_orm::Order::Asc)
            .order_by((patient_identifier::Entity, patient_identifier::Column::System), sea_orm::Order::Asc)
            .to_owned();
        for r in conn.query_all(&select).await? {
            let id: Uuid = r.try_get("", "id")?;
            let system: Option<String> = r.try_get("", "ident_system")?;
            let value: Option<String> = r.try_get("", "ident_value")?;
            push_whole(&mut out, id, system.zip(value), || -> Result<_, DbErr> {
                Ok(WholePatient {
                    row: patient::Model::from_query_result(&r, "")?,
                    identifiers: Vec::new(),
                    has_photo: r.try_get("", "has_photo")?,
                })
            })?;
        }
    }
    Ok(out)
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

/// Identifier values (normalised by the caller) of patients, as (patient, value).
/// The identifier values of `ids`' patients (for matching a search's number or code); on
/// SQLite on the calling thread.
pub async fn identifier_values(db: &crate::Db, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>, DbErr> {
    let Some(fast) = db.fast() else {
        return Ok(identifiers_of(db.reader(), ids)
            .await?
            .into_iter()
            .map(|i| (i.patient_id, i.value))
            .collect());
    };
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let sql = format!(
            "SELECT patient_id, value FROM patient_identifiers WHERE patient_id IN ({})",
            sqlite_placeholders(chunk.len())
        );
        out.extend(fast.read(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(chunk), |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?);
    }
    Ok(out)
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

/// Which kinds of timeline entry to return.
#[derive(Debug, Clone, Copy, Default)]
pub struct KindFilter<'a> {
    /// Only these kinds (all when `None`).
    pub only: Option<&'a [&'a str]>,
    /// Never these kinds.
    pub except: &'a [&'a str],
}

/// The chart's timeline, newest first, strictly before `(at, id)`; one index range scan.
pub async fn timeline_page<C: ConnectionTrait>(
    conn: &C,
    patient_id: Uuid,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
    kinds: KindFilter<'_>,
) -> Result<Vec<patient_timeline::Model>, DbErr> {
    use patient_timeline::Column as T;
    let mut q = patient_timeline::Entity::find()
        .filter(T::PatientId.eq(patient_id))
        .order_by_desc(T::At)
        .order_by_desc(T::Id)
        .limit(limit);
    if let Some(only) = kinds.only {
        q = q.filter(T::Kind.is_in(only.iter().copied()));
    }
    if !kinds.except.is_empty() {
        q = q.filter(T::Kind.is_not_in(kinds.except.iter().copied()));
    }
    if let Some((at, id)) = before {
        q = q.filter(T::At.lt(at).or(T::At.eq(at).and(T::Id.lt(id))));
    }
    q.all(conn).await
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
    crate::dialect::analyze(conn, &["patients", "patient_keys", "patient_identifiers", "patient_timeline"])
        .await
}

/// How many patient rows there are (for the generator's report).
pub async fn count_patients<C: ConnectionTrait>(conn: &C) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    patient::Entity::find().count(conn).await
}

/// The first `limit` live records by id (for demo data).
pub async fn first_patient_ids<C: ConnectionTrait>(conn: &C, limit: u64) -> Result<Vec<Uuid>, DbErr> {
    patient::Entity::find()
        .select_only()
        .column(patient::Column::Id)
        .filter(patient::Column::MergedInto.is_null())
        .filter(patient::Column::Active.eq(true))
        .filter(patient::Column::Restricted.eq(false))
        .order_by_asc(patient::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await
}

/// Moves `from`'s photo to `to` when `to` has none; says whether it moved.
pub async fn move_photo_if_absent<C: ConnectionTrait>(conn: &C, from: Uuid, to: Uuid) -> Result<bool, DbErr> {
    if patient_photo::Entity::find_by_id(to).one(conn).await?.is_some() {
        return Ok(false);
    }
    let res = patient_photo::Entity::update_many()
        .col_expr(patient_photo::Column::PatientId, Expr::value(to))
        .filter(patient_photo::Column::PatientId.eq(from))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}
