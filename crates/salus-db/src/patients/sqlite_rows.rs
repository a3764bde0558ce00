//! Patient rows read with rusqlite on SQLite's fast path ([`crate::fast`]): the same
//! values SeaORM reads, stored as sqlx stores them, read by position.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::WholePatient;
use crate::entity::patient;

/// `?1, ?2, … ?n`: the placeholders of an `IN` list of `n` values.
pub(crate) fn sqlite_placeholders(n: usize) -> String {
    (1..=n).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
}

fn conversion(e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
}

/// A time as sqlx stores it in SQLite (RFC 3339 text).
fn sqlite_time<I: rusqlite::RowIndex>(
    row: &rusqlite::Row<'_>,
    at: I,
) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let Some(text) = row.get::<_, Option<String>>(at)? else { return Ok(None) };
    DateTime::parse_from_rfc3339(&text).map(|t| Some(t.with_timezone(&Utc))).map_err(conversion)
}

/// A date as sqlx stores it in SQLite (`YYYY-MM-DD` text).
pub(crate) fn sqlite_date<I: rusqlite::RowIndex>(
    row: &rusqlite::Row<'_>,
    at: I,
) -> rusqlite::Result<Option<chrono::NaiveDate>> {
    match row.get::<_, Option<String>>(at)? {
        Some(d) => chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").map(Some).map_err(conversion),
        None => Ok(None),
    }
}

/// Every column of `patients` (as `p`), in the entity's order: what [`patient_sqlite`]
/// reads, by position (a lookup by name scans the row's column names, a tenth of a
/// search's time when profiled).
static PATIENT_COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    use sea_orm::{IdenStatic, Iterable};
    patient::Column::iter().map(|c| format!("p.{}", c.as_str())).collect::<Vec<_>>().join(", ")
});

/// Reads a row's columns one after another.
struct Columns<'r, 's> {
    row: &'r rusqlite::Row<'s>,
    next: usize,
}

impl Columns<'_, '_> {
    fn at(&mut self) -> usize {
        self.next += 1;
        self.next - 1
    }

    fn get<T: rusqlite::types::FromSql>(&mut self) -> rusqlite::Result<T> {
        let at = self.at();
        self.row.get(at)
    }

    /// A time that may not be missing (`name` is for the error).
    fn time(&mut self, name: &str) -> rusqlite::Result<DateTime<Utc>> {
        let at = self.at();
        sqlite_time(self.row, at)?
            .ok_or_else(|| rusqlite::Error::InvalidColumnType(at, name.into(), rusqlite::types::Type::Null))
    }
}

/// A `patients` row selected as [`PATIENT_COLUMNS`] at the start of the row, read with
/// rusqlite. Every field of the entity is set, in its order (the fields' initialisers run
/// in the order written), so a column added to the entity fails to compile here until
/// it is read, and a test compares what this reads with what SeaORM reads.
fn patient_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<patient::Model> {
    let mut c = Columns { row: r, next: 0 };
    Ok(patient::Model {
        id: c.get()?,
        mrn: c.get()?,
        given_names: c.get()?,
        family_name: c.get()?,
        sex: c.get()?,
        birth_date: sqlite_date(r, c.at())?,
        birth_date_estimated: c.get()?,
        phone: c.get()?,
        phone_alt: c.get()?,
        email: c.get()?,
        address_line: c.get()?,
        city: c.get()?,
        district: c.get()?,
        state: c.get()?,
        postal_code: c.get()?,
        country: c.get()?,
        blood_group: c.get()?,
        preferred_language: c.get()?,
        emergency_name: c.get()?,
        emergency_phone: c.get()?,
        emergency_relation: c.get()?,
        insurer: c.get()?,
        insurance_policy: c.get()?,
        consent_sms: c.get()?,
        consent_email: c.get()?,
        consent_research: c.get()?,
        restricted: c.get()?,
        restricted_reason: c.get()?,
        active: c.get()?,
        deceased_at: sqlite_time(r, c.at())?,
        merged_into: c.get()?,
        version: c.get()?,
        created_at: c.time("created_at")?,
        updated_at: c.time("updated_at")?,
        search_names: c.get()?,
        search_rowid: c.get()?,
    })
}

pub(super) fn whole_patients(c: &rusqlite::Connection, ids: &[Uuid]) -> rusqlite::Result<Vec<WholePatient>> {
    use sea_orm::Iterable;
    let sql = format!(
        "SELECT {}, i.system, i.value, \
         EXISTS (SELECT 1 FROM patient_photos f WHERE f.patient_id = p.id) \
         FROM patients p LEFT JOIN patient_identifiers i ON i.patient_id = p.id \
         WHERE p.id IN ({}) ORDER BY p.id, i.system",
        *PATIENT_COLUMNS,
        sqlite_placeholders(ids.len())
    );
    let n = patient::Column::iter().count();
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(ids))?;
    let mut out: Vec<WholePatient> = Vec::with_capacity(ids.len());
    while let Some(r) = rows.next()? {
        let id: Uuid = r.get(0)?;
        let ident = r.get::<_, Option<String>>(n)?.zip(r.get(n + 1)?);
        super::push_whole(&mut out, id, ident, || -> rusqlite::Result<_> {
            Ok(WholePatient { row: patient_sqlite(r)?, identifiers: Vec::new(), has_photo: r.get(n + 2)? })
        })?;
    }
    Ok(out)
}
