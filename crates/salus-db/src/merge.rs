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
}

impl PatientLink {
    pub const fn follows(table: &'static str) -> Self {
        Self { table, column: "patient_id", rule: Rule::Follows { versioned: false } }
    }

    /// Follows, bumping the row's optimistic `version`.
    pub const fn follows_versioned(table: &'static str) -> Self {
        Self { table, column: "patient_id", rule: Rule::Follows { versioned: true } }
    }

    pub const fn rebuilt(table: &'static str, column: &'static str, why: &'static str) -> Self {
        Self { table, column, rule: Rule::Rebuilt(why) }
    }

    pub const fn stays(table: &'static str, column: &'static str, why: &'static str) -> Self {
        Self { table, column, rule: Rule::Stays(why) }
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

/// Points the rows named in `moved` back at `to` (an unmerge). A table name that no
/// context declares as following is refused, so a stored document cannot name an
/// arbitrary table.
pub async fn send_back<C: ConnectionTrait>(conn: &C, moved: &Moved, to: Uuid) -> Result<(), DbErr> {
    for (table, ids) in moved {
        let Some(l) = links().find(|l| l.table == table && matches!(l.rule, Rule::Follows { .. })) else {
            return Err(DbErr::Custom(format!("a merge names {table}, which does not follow merges")));
        };
        let Rule::Follows { versioned } = l.rule else { continue };
        for chunk in ids.chunks(1000) {
            let mut update = Query::update();
            update
                .table(Alias::new(l.table))
                .value(Alias::new(l.column), to)
                .and_where(Expr::col(Alias::new("id")).is_in(chunk.iter().copied()));
            if versioned {
                update.value(Alias::new("version"), Expr::col(Alias::new("version")).add(1));
            }
            conn.execute(&update).await?;
        }
    }
    Ok(())
}

/// How many rows of each following table refer to `patient` (for tests and checks).
pub async fn counts<C: ConnectionTrait>(conn: &C, patient: Uuid) -> Result<BTreeMap<String, i64>, DbErr> {
    let mut out = BTreeMap::new();
    for l in links().filter(|l| matches!(l.rule, Rule::Follows { .. })) {
        let mut select = Query::select();
        select
            .expr_as(Expr::col(Alias::new(l.column)).count(), Alias::new("n"))
            .from(Alias::new(l.table))
            .and_where(Expr::col(Alias::new(l.column)).eq(patient));
        let row = conn.query_one(&select).await?;
        let n = row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0);
        out.insert(l.table.to_owned(), n);
    }
    Ok(out)
}
