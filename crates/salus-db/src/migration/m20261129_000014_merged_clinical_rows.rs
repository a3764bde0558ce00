//! Merges made before every context took part in them moved a duplicate's identifiers,
//! timeline, appointments and patient account, but left its clinical record behind: the
//! survivor's chart lost the duplicate's allergies, problems and medicines. This moves
//! those rows of every standing merge to its survivor (in the order the merges were made,
//! so a chain of merges ends at its last survivor), adds them to the merge's record of
//! what moved, so an unmerge still sends them back, and writes an audit event for each
//! merge it mends. The table list is fixed here on purpose: it is the schema as it stood
//! at this migration, whatever later contexts add.

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use sea_orm_migration::prelude::*;
use uuid::Uuid;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000014_merged_clinical_rows"
    }
}

/// The tables the old merge left behind, and whether each has an optimistic `version`.
const LEFT_BEHIND: &[(&str, bool)] = &[
    ("encounters", true),
    ("vitals", false),
    ("notes", true),
    ("diagnoses", true),
    ("allergies", true),
    ("immunizations", false),
    ("prescriptions", true),
    ("referrals", true),
    ("attachments", false),
    ("notifications", false),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let backend = manager.get_database_backend();
        let p = |n: usize| match backend {
            DbBackend::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        };
        let merges = conn
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT id, source_id, survivor_id, moved FROM patient_merges \
                 WHERE undone_at IS NULL ORDER BY merged_at, id",
            ))
            .await?;
        for m in merges {
            let (id, source, survivor, moved): (Uuid, Uuid, Uuid, String) = (
                m.try_get("", "id")?,
                m.try_get("", "source_id")?,
                m.try_get("", "survivor_id")?,
                m.try_get("", "moved")?,
            );
            let mut doc: serde_json::Value =
                serde_json::from_str(&moved).map_err(|e| DbErr::Custom(format!("merge {id}: {e}")))?;
            let mut counts = serde_json::Map::new();
            for (table, versioned) in LEFT_BEHIND {
                let bump = if *versioned { ", version = version + 1" } else { "" };
                let sql = format!(
                    "UPDATE {table} SET patient_id = {}{bump} WHERE patient_id = {} RETURNING id",
                    p(1),
                    p(2)
                );
                let rows = conn
                    .query_all_raw(Statement::from_sql_and_values(
                        backend,
                        sql,
                        [survivor.into(), source.into()],
                    ))
                    .await?;
                let ids = rows.iter().map(|r| r.try_get::<Uuid>("", "id")).collect::<Result<Vec<_>, _>>()?;
                if ids.is_empty() {
                    continue;
                }
                counts.insert((*table).to_owned(), ids.len().into());
                let tables = doc
                    .as_object_mut()
                    .ok_or_else(|| DbErr::Custom(format!("merge {id}: its record is not an object")))?
                    .entry("tables")
                    .or_insert_with(|| serde_json::json!({}));
                let list = tables
                    .as_object_mut()
                    .ok_or_else(|| DbErr::Custom(format!("merge {id}: tables is not an object")))?
                    .entry(*table)
                    .or_insert_with(|| serde_json::json!([]));
                if let Some(list) = list.as_array_mut() {
                    list.extend(ids.iter().map(|i| serde_json::Value::String(i.to_string())));
                }
            }
            if counts.is_empty() {
                continue;
            }
            conn.execute_raw(Statement::from_sql_and_values(
                backend,
                format!("UPDATE patient_merges SET moved = {} WHERE id = {}", p(1), p(2)),
                [doc.to_string().into(), id.into()],
            ))
            .await?;
            let now = chrono::Utc::now();
            let at = chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
            let event = Uuid::now_v7();
            let detail =
                serde_json::json!({ "merge": id, "source": source, "survivor": survivor, "moved": counts });
            let values: Vec<Value> = vec![
                event.into(),
                at.into(),
                "salus migrate".into(),
                "".into(),
                "patient.merge.complete".into(),
                "success".into(),
                "patient".into(),
                source.to_string().into(),
                survivor.into(),
                "rows a merge made before this version left behind moved to the survivor".into(),
                detail.to_string().into(),
            ];
            let marks: Vec<String> = (1..=values.len()).map(p).collect();
            conn.execute_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "INSERT INTO audit_events (id, at, actor_name, actor_roles, action, outcome, \
                     resource_type, resource_id, patient_id, reason, detail) VALUES ({})",
                    marks.join(", ")
                ),
                values,
            ))
            .await?;
            conn.execute_raw(Statement::from_sql_and_values(
                backend,
                format!("INSERT INTO audit_pending (event_id) VALUES ({})", p(1)),
                [event.into()],
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // The rows are where a merge puts them now; an unmerge sends them back.
        Ok(())
    }
}
