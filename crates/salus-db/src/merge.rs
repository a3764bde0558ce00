//! What happens to every row that refers to a patient when that patient's record is
//! merged into another, and when the merge is undone.
//!
//! Each context declares its tables that refer to a patient as a `PATIENT_LINKS` list
//! beside its queries, and [`REGISTRY`] gathers those lists: one line per context. A
//! table declared [`Rule::Follows`] moves to the survivor by the generic code below
//! (its moved row ids are kept with the merge, so an unmerge moves exactly those back).
//! The test `every_table_that_refers_to_a_patient_follows_a_merge` reads the schema of
//! both databases and fails for any table with a patient column that no list declares,
//! so a new context cannot forget its rows: a merged patient's allergies vanishing from
//! the survivor's chart is the failure this exists to prevent.

use std::collections::BTreeMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

/// How a merge treats one table's rows of the duplicate record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The rows move to the survivor. The table has a uuid `id` primary key; when it also
    /// has a `version` column the move bumps it, so an edit started before the merge
    /// cannot write the old patient back.
    Follows { versioned: bool },
    /// The patients context rewrites these rows itself, with the reason (identifiers are
    /// deduplicated, search keys rebuilt from the survivor's names).
    Rebuilt(&'static str),
    /// The rows stay with the record they were written about, with the reason.
    Stays(&'static str),
}

/// A table column that refers to a patient, and what a merge does with its rows.
#[derive(Debug, Clone, Copy)]
pub struct PatientLink {
    pub table: &'static str,
    pub column: &'static str,
    pub rule: Rule,
    /// (column, parent table): the row belongs to a row of another following table (a
    /// vital sign to its encounter). On an unmerge, rows written on the survivor after the
    /// merge into a parent that goes back go back with it, so an encounter and its notes
    /// never end up on two patients.
    pub part_of: Option<(&'static str, &'static str)>,
}

impl PatientLink {
    pub const fn follows(table: &'static str) -> Self {
        Self { table, column: "patient_id", rule: Rule::Follows { versioned: false }, part_of: None }
    }

    /// Follows, bumping the row's optimistic `version`.
    pub const fn follows_versioned(table: &'static str) -> Self {
        Self { table, column: "patient_id", rule: Rule::Follows { versioned: true }, part_of: None }
    }

    pub const fn rebuilt(table: &'static str, column: &'static str, why: &'static str) -> Self {
        Self { table, column, rule: Rule::Rebuilt(why), part_of: None }
    }

    pub const fn stays(table: &'static str, column: &'static str, why: &'static str) -> Self {
        Self { table, column, rule: Rule::Stays(why), part_of: None }
    }

    /// The row belongs to a row of `parent` through `column`.
    pub const fn part_of(self, column: &'static str, parent: &'static str) -> Self {
        Self { part_of: Some((column, parent)), ..self }
    }
}

/// Every context's patient links. A new context adds its list here.
pub const REGISTRY: &[&[PatientLink]] = &[
    crate::patients::PATIENT_LINKS,
    crate::identity::PATIENT_LINKS,
    crate::audit::PATIENT_LINKS,
    crate::scheduling::PATIENT_LINKS,
    crate::notifications::PATIENT_LINKS,
    crate::clinical::PATIENT_LINKS,
    crate::laboratory::PATIENT_LINKS,
    crate::inpatient::PATIENT_LINKS,
    crate::insurance::PATIENT_LINKS,
    crate::imaging::PATIENT_LINKS,
    crate::pharmacy::PATIENT_LINKS,
    crate::charges::PATIENT_LINKS,
    crate::billing::PATIENT_LINKS,
];

/// All declared links, in registry order.
pub fn links() -> impl Iterator<Item = &'static PatientLink> {
    REGISTRY.iter().flat_map(|l| l.iter())
}

/// The link declared for `table`.`column`, if any.
pub fn link(table: &str, column: &str) -> Option<&'static PatientLink> {
    links().find(|l| l.table == table && l.column == column)
}

/// The rows that moved in one merge, by table (only tables where some moved).
pub type Moved = BTreeMap<String, Vec<Uuid>>;

/// Moves every following row of `from` to `to`, table by table; returns their ids.
pub async fn follow<C: ConnectionTrait>(conn: &C, from: Uuid, to: Uuid) -> Result<Moved, DbErr> {
    let mut moved = Moved::new();
    for l in links() {
        let Rule::Follows { versioned } = l.rule else { continue };
        let mut update = Query::update();
        update
            .table(Alias::new(l.table))
            .value(Alias::new(l.column), to)
            .and_where(Expr::col(Alias::new(l.column)).eq(from))
            .returning_col(Alias::new("id"));
        if versioned {
            update.value(Alias::new("version"), Expr::col(Alias::new("version")).add(1));
        }
        let rows = conn.query_all(&update).await?;
        let ids = rows.iter().map(|r| r.try_get::<Uuid>("", "id")).collect::<Result<Vec<_>, _>>()?;
        if !ids.is_empty() {
            moved.insert(l.table.to_owned(), ids);
        }
    }
    Ok(moved)
}

/// An unmerge: points the rows named in `moved` that are still the survivor's back at
/// `to`, and with them every row written on the survivor since into a parent row that goes
/// back (a note added to a moved encounter). A table name that no context declares as
/// following is refused, so a stored document cannot name an arbitrary table. Returns how
/// many rows of each table went back.
pub async fn send_back<C: ConnectionTrait>(
    conn: &C,
    moved: &Moved,
    survivor: Uuid,
    to: Uuid,
) -> Result<BTreeMap<String, u64>, DbErr> {
    let mut back = BTreeMap::new();
    let following =
        |table: &str| links().find(|l| l.table == table && matches!(l.rule, Rule::Follows { .. }));
    for table in moved.keys() {
        if following(table).is_none() {
            return Err(DbErr::Custom(format!("a merge names {table}, which does not follow merges")));
        }
    }
    for l in links() {
        let Rule::Follows { versioned } = l.rule else { continue };
        let mut n = 0;
        // The rows that moved, by id; then the rows that joined a moved parent.
        let mut batches: Vec<(&str, &[Uuid])> = Vec::new();
        if let Some(ids) = moved.get(l.table) {
            batches.extend(ids.chunks(1000).map(|c| ("id", c)));
        }
        if let Some((column, parent)) = l.part_of
            && let Some(parents) = moved.get(parent)
        {
            batches.extend(parents.chunks(1000).map(|c| (column, c)));
        }
        for (key, chunk) in batches {
            let mut update = Query::update();
            update
                .table(Alias::new(l.table))
                .value(Alias::new(l.column), to)
                .and_where(Expr::col(Alias::new(l.column)).eq(survivor))
                .and_where(Expr::col(Alias::new(key)).is_in(chunk.iter().copied()));
            if versioned {
                update.value(Alias::new("version"), Expr::col(Alias::new("version")).add(1));
            }
            n += conn.execute(&update).await?.rows_affected();
        }
        if n > 0 {
            back.insert(l.table.to_owned(), n);
        }
    }
    Ok(back)
}
