//! Merging a duplicate record into the one that survives, and undoing it. Everything
//! linked to the duplicate moves to the survivor in one transaction — every table a
//! context declares in its `PATIENT_LINKS` (see `salus_db::merge`), plus the identifiers,
//! search keys and photo this context rebuilds itself — and the duplicate becomes a
//! pointer. What moved is kept with the merge so an unmerge puts exactly that back.

use chrono::Utc;
use salus_core::PatientId;
use salus_db::ResultExt;
use salus_db::entity::{patient_identifier, patient_merge};
use salus_db::patients as q;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::{PatientAction, actor_id, search_keys, timeline_row};
use crate::audit::{self, Event};
use crate::{AppError, Ctx};

/// What one merge moved, kept with it as JSON.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Moved {
    /// Row ids by table, for every table that follows a merge.
    #[serde(default)]
    tables: salus_db::merge::Moved,
    /// (system, value, unique key) moved to the survivor.
    identifiers: Vec<(String, String, Option<String>)>,
    /// Identifiers the survivor already had, dropped from the duplicate.
    dropped: Vec<(String, String, Option<String>)>,
    /// Whether the photo moved (the survivor had none).
    #[serde(default)]
    photo: bool,
    /// Whether the survivor became restricted because the duplicate was: its rows now
    /// carry what the restriction protected.
    #[serde(default)]
    restricted: bool,
    was_active: bool,
    // Merges made before the registry kept these three lists apart.
    #[serde(default, skip_serializing)]
    timeline: Vec<Uuid>,
    #[serde(default, skip_serializing)]
    users: Vec<Uuid>,
    #[serde(default, skip_serializing)]
    appointments: Vec<Uuid>,
}

impl Moved {
    /// The rows to send back, the lists of older merges included.
    fn rows(mut self) -> salus_db::merge::Moved {
        for (table, ids) in
            [("patient_timeline", self.timeline), ("users", self.users), ("appointments", self.appointments)]
        {
            if !ids.is_empty() {
                self.tables.entry(table.to_owned()).or_default().extend(ids);
            }
        }
        self.tables
    }
}

impl crate::Patients<'_> {
    /// Merges `source` into `survivor`; returns the merge's id.
    #[tracing::instrument(skip_all, fields(source = %source, survivor = %survivor))]
    pub async fn merge_patients(
        &self,
        ctx: &Ctx,
        source: PatientId,
        survivor: PatientId,
    ) -> Result<Uuid, AppError> {
        if source == survivor {
            return Err(AppError::field("survivor", "is the same record; choose the record to keep"));
        }
        let src = self.load_for(ctx, source, PatientAction::Merge).await?;
        let keep = self.load_for(ctx, survivor, PatientAction::Merge).await?;
        if src.merged_into.is_some() {
            return Err(AppError::Conflict(format!("{} was already merged into another record", src.mrn)));
        }
        if keep.merged_into.is_some() {
            return Err(AppError::field("survivor", "was merged into another record; choose that one"));
        }
        let txn = self.db.begin_write().await?;
        // Read again under the write: a merge of the survivor elsewhere in the meantime
        // must not leave the duplicate's rows on a pointer record.
        let keep = q::find_patient(&txn, keep.id).await?.ok_or(AppError::NotFound("patient"))?;
        if keep.merged_into.is_some() {
            return Err(AppError::field("survivor", "was merged into another record; choose that one"));
        }
        let mut moved = Moved { was_active: src.active, ..Default::default() };
        // Two stays in the house would be one patient in two beds: the index that allows one
        // per patient refuses the move, and the merge waits for one stay to end.
        moved.tables = salus_db::merge::follow(&txn, src.id, keep.id).await.on_unique(
            "admissions_in_house_key",
            "admissions.patient_id",
            || AppError::Conflict("both records have a stay in the hospital now; discharge one first".into()),
        )?;
        moved.photo = q::move_photo_if_absent(&txn, src.id, keep.id).await?;
        if let Some(appointments) = moved.tables.get("appointments") {
            self.notifications().readdress(&txn, appointments).await?;
        }
        let theirs = q::identifiers_of(&txn, &[src.id]).await?;
        let ours = q::identifiers_of(&txn, &[keep.id]).await?;
        let mut new_rows = Vec::new();
        for i in theirs {
            let dup = ours.iter().any(|o| o.system == i.system && o.value == i.value)
                || i.unique_key
                    .as_ref()
                    .is_some_and(|k| ours.iter().any(|o| o.unique_key.as_ref() == Some(k)));
            let t = (i.system.clone(), i.value.clone(), i.unique_key.clone());
            if dup {
                moved.dropped.push(t);
            } else {
                moved.identifiers.push(t);
                new_rows.push(patient_identifier::Model { patient_id: keep.id, ..i });
            }
        }
        q::replace_identifiers(&txn, src.id, Vec::new()).await?;
        q::insert_identifiers(&txn, new_rows).await?;

        let mut gone = src.clone();
        gone.merged_into = Some(keep.id);
        gone.active = false;
        gone.search_names = String::new();
        gone.version = src.version + 1;
        gone.updated_at = Utc::now();
        if !q::update_patient(&txn, gone, src.version).await? {
            return Err(AppError::Conflict("the record changed while merging; try again".into()));
        }
        // The survivor's version moves too (an edit begun before the merge is stale), and a
        // restricted duplicate makes it restricted: what the restriction protected is its now.
        let mut kept = keep.clone();
        if src.restricted && !keep.restricted {
            kept.restricted = true;
            kept.restricted_reason = src.restricted_reason.clone();
            moved.restricted = true;
        }
        kept.version = keep.version + 1;
        kept.updated_at = Utc::now();
        if !q::update_patient(&txn, kept, keep.version).await? {
            return Err(AppError::Conflict("the record changed while merging; try again".into()));
        }
        q::put_search_keys(&txn, src.id, &[], "", src.search_rowid).await?;
        q::set_search_rowid(&txn, src.id, None).await?;
        let ids_now: Vec<(String, String)> =
            q::identifiers_of(&txn, &[keep.id]).await?.into_iter().map(|i| (i.system, i.value)).collect();
        let rowid = q::put_search_keys(
            &txn,
            keep.id,
            &search_keys(&keep, &ids_now),
            &keep.search_names,
            keep.search_rowid,
        )
        .await?;
        q::set_search_rowid(&txn, keep.id, rowid).await?;

        let merge_id = Uuid::now_v7();
        q::insert_merge(
            &txn,
            patient_merge::Model {
                id: merge_id,
                source_id: src.id,
                survivor_id: keep.id,
                merged_at: Utc::now(),
                merged_by: actor_id(ctx),
                moved: serde_json::to_string(&moved).map_err(|e| AppError::Internal(e.to_string()))?,
                undone_at: None,
                undone_by: None,
            },
        )
        .await?;
        q::insert_timeline(
            &txn,
            vec![
                timeline_row(keep.id, "merged", format!("Record {} merged into this one", src.mrn), ctx),
                timeline_row(src.id, "merged", format!("Merged into {}", keep.mrn), ctx),
            ],
        )
        .await?;
        let counts: std::collections::BTreeMap<&str, usize> =
            moved.tables.iter().map(|(t, ids)| (t.as_str(), ids.len())).collect();
        let event = Event::new("patient.merge", "patient", Some(src.id.to_string()))
            .patient(keep.id)
            .detail(json!({ "merge": merge_id, "source": src.id, "source_mrn": src.mrn, "survivor": keep.id,
                            "moved": counts, "moved_identifiers": moved.identifiers.len(), "moved_photo": moved.photo }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(merge_id)
    }

    /// Undoes the standing merge of `source`: what moved goes back, the record is live again.
    #[tracing::instrument(skip_all, fields(source = %source))]
    pub async fn unmerge_patient(&self, ctx: &Ctx, source: PatientId) -> Result<(), AppError> {
        let src = self.load_for(ctx, source, PatientAction::Merge).await?;
        let Some(merge) = q::standing_merge(self.db.reader(), src.id).await? else {
            return Err(AppError::Conflict(format!("{} is not merged into another record", src.mrn)));
        };
        let moved: Moved =
            serde_json::from_str(&merge.moved).map_err(|e| AppError::Internal(e.to_string()))?;
        let (identifiers, dropped, photo, was_active, restricted) = (
            moved.identifiers.clone(),
            moved.dropped.clone(),
            moved.photo,
            moved.was_active,
            moved.restricted,
        );
        let rows = moved.rows();
        let txn = self.db.begin_write().await?;
        let keep = q::find_patient(&txn, merge.survivor_id).await?.ok_or(AppError::NotFound("patient"))?;
        if keep.merged_into.is_some() {
            // Its rows (these included) have moved on to a third record; undoing the later
            // merge first brings them back here, then this one can send them home.
            return Err(AppError::Conflict(format!(
                "{} was itself merged into another record since; undo that merge first",
                keep.mrn
            )));
        }
        let sent_back = salus_db::merge::send_back(&txn, &rows, keep.id, src.id).await?;
        if let Some(appointments) = rows.get("appointments") {
            self.notifications().readdress(&txn, appointments).await?;
        }
        // The photo goes back unless the survivor has had a new one since the merge.
        if photo && q::photo(&txn, keep.id).await?.is_some_and(|p| p.updated_at <= merge.merged_at) {
            q::move_photo_if_absent(&txn, keep.id, src.id).await?;
        }
        let mut kept = keep.clone();
        if restricted {
            kept.restricted = false;
            kept.restricted_reason = None;
        }
        kept.version = keep.version + 1;
        kept.updated_at = Utc::now();
        if !q::update_patient(&txn, kept.clone(), keep.version).await? {
            return Err(AppError::Conflict("the record changed while unmerging; try again".into()));
        }
        let keep = kept;
        // The survivor keeps what it had; what came from the duplicate goes back.
        let survivor_ids = q::identifiers_of(&txn, &[keep.id]).await?;
        let back: Vec<patient_identifier::Model> = survivor_ids
            .iter()
            .filter(|i| identifiers.iter().any(|(s, v, _)| *s == i.system && *v == i.value))
            .cloned()
            .collect();
        let stay: Vec<patient_identifier::Model> = survivor_ids
            .into_iter()
            .filter(|i| !identifiers.iter().any(|(s, v, _)| *s == i.system && *v == i.value))
            .collect();
        q::replace_identifiers(&txn, keep.id, stay).await?;
        let mut restored: Vec<patient_identifier::Model> =
            back.into_iter().map(|i| patient_identifier::Model { patient_id: src.id, ..i }).collect();
        restored.extend(dropped.iter().filter(|(_, _, k)| k.is_none()).map(|(s, v, k)| {
            patient_identifier::Model {
                patient_id: src.id,
                system: s.clone(),
                value: v.clone(),
                unique_key: k.clone(),
            }
        }));
        q::insert_identifiers(&txn, restored).await?;

        let mut back_row = src.clone();
        back_row.merged_into = None;
        back_row.active = was_active;
        back_row.search_names =
            salus_core::search::tokens(&format!("{} {}", src.given_names, src.family_name)).join(" ");
        back_row.version = src.version + 1;
        back_row.updated_at = Utc::now();
        if !q::update_patient(&txn, back_row.clone(), src.version).await? {
            return Err(AppError::Conflict("the record changed while unmerging; try again".into()));
        }
        for p in [&back_row, &keep] {
            let ids: Vec<(String, String)> =
                q::identifiers_of(&txn, &[p.id]).await?.into_iter().map(|i| (i.system, i.value)).collect();
            let current_rowid = q::find_patient(&txn, p.id).await?.and_then(|r| r.search_rowid);
            let rowid =
                q::put_search_keys(&txn, p.id, &search_keys(p, &ids), &p.search_names, current_rowid).await?;
            q::set_search_rowid(&txn, p.id, rowid).await?;
        }
        q::mark_merge_undone(&txn, merge.id, actor_id(ctx), Utc::now()).await?;
        q::insert_timeline(
            &txn,
            vec![
                timeline_row(keep.id, "unmerged", format!("Merge of {} undone", src.mrn), ctx),
                timeline_row(src.id, "unmerged", format!("Separated again from {}", keep.mrn), ctx),
            ],
        )
        .await?;
        let event = Event::new("patient.unmerge", "patient", Some(src.id.to_string()))
            .patient(src.id)
            .detail(json!({ "merge": merge.id, "survivor": keep.id, "moved_back": sent_back }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(())
    }
}
