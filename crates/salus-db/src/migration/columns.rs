//! Column and table shorthands the newer migrations share, and the reading of the
//! tab-separated seed files under `data/`.

use sea_orm_migration::prelude::*;

pub(super) fn col(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
}

pub(super) fn id() -> ColumnDef {
    col("id").uuid().not_null().primary_key().to_owned()
}

pub(super) fn at(name: &str) -> ColumnDef {
    col(name).timestamp_with_time_zone().not_null().to_owned()
}

pub(super) fn at_null(name: &str) -> ColumnDef {
    col(name).timestamp_with_time_zone().null().to_owned()
}

pub(super) fn text(name: &str, len: u32) -> ColumnDef {
    col(name).string_len(len).not_null().to_owned()
}

pub(super) fn text_null(name: &str, len: u32) -> ColumnDef {
    col(name).string_len(len).null().to_owned()
}

pub(super) fn num(name: &str) -> ColumnDef {
    col(name).double().null().to_owned()
}

pub(super) fn index(name: &str, table: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(Alias::new(table));
    for c in cols {
        i.col(Alias::new(*c));
    }
    i.to_owned()
}

pub(super) fn table(name: &str) -> TableCreateStatement {
    Table::create().table(Alias::new(name)).to_owned()
}

pub(super) fn rows(tsv: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    tsv.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).map(|l| l.split('\t').collect())
}

pub(super) fn opt(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.trim().to_owned())
}

pub(super) fn number(s: &str, line: &[&str]) -> Result<Option<f64>, DbErr> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    s.trim().parse().map(Some).map_err(|_| DbErr::Migration(format!("bad number {s:?} in {line:?}")))
}
