//! Editing a registered record: demographics (against the version the edit started
//! from), status and death, each change kept with its old and new value.

use chrono::{DateTime, Utc};
use salus_core::PatientId;
use salus_db::entity::patient;
use salus_db::patients as q;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::check_unique_identifiers;
use super::input::check_input;
use super::{Patient, PatientAction, PatientInput, actor_id, identifier_rows, search_keys, timeline_row};
use crate::audit::{self, Event};
use crate::{AppError, Ctx};

/// An edit of identifiers: the new ones, the old ones, and the types on file.
type IdentifierEdit =
    (Vec<(String, String)>, Vec<(String, String)>, Vec<salus_db::entity::identifier_type::Model>);

/// What a demographic edit changed: (field, old, new).
fn diff(old: &patient::Model, new: &patient::Model) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    let mut f = |name: &'static str, a: String, b: String| {
        if a != b {
            out.push((name, a, b));
        }
    };
    let o = |x: &Option<String>| x.clone().unwrap_or_default();
    f("given_names", old.given_names.clone(), new.given_names.clone());
    f("family_name", old.family_name.clone(), new.family_name.clone());
    f("sex", old.sex.clone(), new.sex.clone());
    f(
        "birth_date",
        old.birth_date.map(|d| d.to_string()).unwrap_or_default(),
        new.birth_date.map(|d| d.to_string()).unwrap_or_default(),
    );
    f("phone", o(&old.phone), o(&new.phone));
    f("phone_alt", o(&old.phone_alt), o(&new.phone_alt));
    f("email", o(&old.email), o(&new.email));
    f("address_line", o(&old.address_line), o(&new.address_line));
    f("city", o(&old.city), o(&new.city));
    f("district", o(&old.district), o(&new.district));
    f("state", o(&old.state), o(&new.state));
    f("postal_code", o(&old.postal_code), o(&new.postal_code));
    f("country", o(&old.country), o(&new.country));
    f("blood_group", o(&old.blood_group), o(&new.blood_group));
    f("preferred_language", o(&old.preferred_language), o(&new.preferred_language));
    f("emergency_name", o(&old.emergency_name), o(&new.emergency_name));
    f("emergency_phone", o(&old.emergency_phone), o(&new.emergency_phone));
    f("emergency_relation", o(&old.emergency_relation), o(&new.emergency_relation));
    f("insurer", o(&old.insurer), o(&new.insurer));
    f("insurance_policy", o(&old.insurance_policy), o(&new.insurance_policy));
    f("consent_sms", old.consent_sms.to_string(), new.consent_sms.to_string());
    f("consent_email", old.consent_email.to_string(), new.consent_email.to_string());
    f("consent_research", old.consent_research.to_string(), new.consent_research.to_string());
    f("restricted", old.restricted.to_string(), new.restricted.to_string());
    f("restricted_reason", o(&old.restricted_reason), o(&new.restricted_reason));
    f("active", old.active.to_string(), new.active.to_string());
    f(
        "deceased_at",
        old.deceased_at.map(|d| d.to_rfc3339()).unwrap_or_default(),
        new.deceased_at.map(|d| d.to_rfc3339()).unwrap_or_default(),
    );
    out
}

/// One edit in a patient's history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub version: i32,
    pub changed_at: DateTime<Utc>,
    pub changed_by: Option<Uuid>,
    pub changes: serde_json::Value,
}

impl crate::Patients<'_> {
    /// Edits demographics, if the record is still at `expected_version`; keeps the old
    /// and new value of each field in the history.
    #[tracing::instrument(skip_all, fields(patient_id = %id))]
    pub async fn update_patient(
        &self,
        ctx: &Ctx,
        id: PatientId,
        expected_version: i32,
        input: PatientInput,
    ) -> Result<Patient, AppError> {
        let old = self.load_for(ctx, id, PatientAction::Edit).await?;
        let types = q::identifier_types(self.db.reader()).await?;
        let checked =
            check_input(&input, &self.patients.phone_country_code, &types, Utc::now().date_naive())?;
        let mut row = old.clone();
        checked.apply(&mut row);
        let old_ids: Vec<(String, String)> = q::identifiers_of(self.db.reader(), &[old.id])
            .await?
            .into_iter()
            .map(|i| (i.system, i.value))
            .collect();
        self.write_edit(
            ctx,
            old,
            row,
            expected_version,
            Some((checked.identifiers, old_ids, types)),
            "edited",
        )
        .await
    }

    /// Marks a record inactive (or active again).
    pub async fn set_patient_active(
        &self,
        ctx: &Ctx,
        id: PatientId,
        expected_version: i32,
        active: bool,
    ) -> Result<Patient, AppError> {
        let old = self.load_for(ctx, id, PatientAction::Edit).await?;
        let mut row = old.clone();
        row.active = active;
        self.write_edit(
            ctx,
            old,
            row,
            expected_version,
            None,
            if active { "reactivated" } else { "deactivated" },
        )
        .await
    }

    /// Records the patient's death.
    pub async fn record_death(
        &self,
        ctx: &Ctx,
        id: PatientId,
        expected_version: i32,
        at: DateTime<Utc>,
    ) -> Result<Patient, AppError> {
        if at > Utc::now() {
            return Err(AppError::field("deceased_at", "is in the future"));
        }
        let old = self.load_for(ctx, id, PatientAction::Edit).await?;
        if old.birth_date.is_some_and(|b| at.date_naive() < b) {
            return Err(AppError::field("deceased_at", "is before the date of birth"));
        }
        let mut row = old.clone();
        row.deceased_at = Some(at);
        self.write_edit(ctx, old, row, expected_version, None, "deceased").await
    }

    async fn write_edit(
        &self,
        ctx: &Ctx,
        old: patient::Model,
        mut row: patient::Model,
        expected_version: i32,
        identifiers: Option<IdentifierEdit>,
        kind: &str,
    ) -> Result<Patient, AppError> {
        let id = old.id;
        if old.version != expected_version {
            return Err(AppError::VersionConflict { current: Box::new(self.assemble(old).await?) });
        }
        let mut changes = diff(&old, &row);
        let mut new_ids = None;
        if let Some((new, old_ids, types)) = &identifiers {
            let mut a = old_ids.clone();
            let mut b = new.clone();
            a.sort();
            b.sort();
            if a != b {
                let show = |v: &[(String, String)]| {
                    v.iter().map(|(s, x)| format!("{s}:{x}")).collect::<Vec<_>>().join(", ")
                };
                changes.push(("identifiers", show(&a), show(&b)));
                new_ids = Some(identifier_rows(id, new, types));
            }
        }
        if changes.is_empty() {
            return self.assemble(old).await;
        }
        row.version = old.version + 1;
        row.updated_at = Utc::now();
        let txn = self.db.begin_write().await?;
        if let Some(rows) = &new_ids {
            check_unique_identifiers(&txn, rows, Some(id)).await?;
        }
        if !q::update_patient(&txn, row.clone(), expected_version).await? {
            drop(txn);
            let current =
                q::find_patient(self.db.reader(), id).await?.ok_or(AppError::NotFound("patient"))?;
            return Err(AppError::VersionConflict { current: Box::new(self.assemble(current).await?) });
        }
        if let Some(rows) = new_ids {
            q::replace_identifiers(&txn, id, rows).await?;
        }
        let ids_now: Vec<(String, String)> =
            q::identifiers_of(&txn, &[id]).await?.into_iter().map(|i| (i.system, i.value)).collect();
        let rowid =
            q::put_search_keys(&txn, id, &search_keys(&row, &ids_now), &row.search_names, row.search_rowid)
                .await?;
        q::set_search_rowid(&txn, id, rowid).await?;
        let fields: Vec<&str> = changes.iter().map(|c| c.0).collect();
        let json_changes: Vec<serde_json::Value> =
            changes.iter().map(|(f, a, b)| json!({ "field": f, "old": a, "new": b })).collect();
        q::insert_history(
            &txn,
            salus_db::entity::patient_history::Model {
                id: Uuid::now_v7(),
                patient_id: id,
                version: row.version,
                changed_at: row.updated_at,
                changed_by: actor_id(ctx),
                changes: serde_json::Value::Array(json_changes).to_string(),
            },
        )
        .await?;
        let summary = match kind {
            "edited" => format!("Details changed: {}", fields.join(", ").replace('_', " ")),
            "deceased" => "Death recorded".to_owned(),
            "deactivated" => "Record deactivated".to_owned(),
            _ => "Record reactivated".to_owned(),
        };
        q::insert_timeline(&txn, vec![timeline_row(id, kind, summary, ctx)]).await?;
        let event = Event::new(
            match kind {
                "edited" => "patient.update",
                "deceased" => "patient.death",
                _ => "patient.status",
            },
            "patient",
            Some(id.to_string()),
        )
        .patient(id)
        .detail(json!({ "version": row.version, "fields": fields }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        self.assemble(row).await
    }

    /// The record's edits, newest first (audited as a read of the record).
    pub async fn patient_history(&self, ctx: &Ctx, id: PatientId) -> Result<Vec<HistoryEntry>, AppError> {
        self.load_for(ctx, id, PatientAction::Read).await?;
        let rows = q::history_of(self.db.reader(), id.as_uuid(), 200).await?;
        self.record_history_read(ctx, id).await?;
        Ok(rows
            .into_iter()
            .map(|r| HistoryEntry {
                version: r.version,
                changed_at: r.changed_at,
                changed_by: r.changed_by,
                changes: serde_json::from_str(&r.changes).unwrap_or(serde_json::Value::Null),
            })
            .collect())
    }

    /// A read of the record's history, audited before it is answered.
    async fn record_history_read(&self, ctx: &Ctx, id: PatientId) -> Result<(), AppError> {
        let event = Event::new("patient.history_read", "patient", Some(id.to_string())).patient(id.as_uuid());
        self.reads.record(vec![audit::row(ctx, event)]).await
    }

    /// The record's versions, newest first, as far back as its kept edits reach: the
    /// current one, then each before it, rebuilt by undoing the edits' changes (audited
    /// as one read of the record's history). A version made without a kept edit (a merge)
    /// ends the walk: what came before it is not rebuilt, rather than rebuilt wrongly.
    pub async fn patient_versions(&self, ctx: &Ctx, id: PatientId) -> Result<Vec<Patient>, AppError> {
        let current = self.assemble(self.load_for(ctx, id, PatientAction::Read).await?).await?;
        let rows = q::history_of(self.db.reader(), id.as_uuid(), 200).await?;
        self.record_history_read(ctx, id).await?;
        let mut out = vec![current.clone()];
        let mut at = current;
        for (i, row) in rows.iter().enumerate() {
            if row.version != at.version || row.version <= 1 {
                break;
            }
            let changes: serde_json::Value = serde_json::from_str(&row.changes).unwrap_or_default();
            let Some(mut before) = undo(&at, &changes) else { break };
            before.version = row.version - 1;
            before.updated_at = rows.get(i + 1).map(|r| r.changed_at).unwrap_or(before.created_at);
            out.push(before.clone());
            at = before;
        }
        Ok(out)
    }
}

/// `p` as it was before an edit's `changes` (each `{field, old, new}`), if every field
/// changed is one a record's edit keeps.
fn undo(p: &Patient, changes: &serde_json::Value) -> Option<Patient> {
    let mut p = p.clone();
    let opt = |v: &str| (!v.is_empty()).then(|| v.to_owned());
    for c in changes.as_array()? {
        let old = c["old"].as_str()?;
        match c["field"].as_str()? {
            "given_names" => p.given_names = old.to_owned(),
            "family_name" => p.family_name = old.to_owned(),
            "sex" => p.sex = old.parse().ok()?,
            "birth_date" => p.birth_date = if old.is_empty() { None } else { Some(old.parse().ok()?) },
            "phone" => p.phone = opt(old),
            "phone_alt" => p.phone_alt = opt(old),
            "email" => p.email = opt(old),
            "address_line" => p.address_line = opt(old),
            "city" => p.city = opt(old),
            "district" => p.district = opt(old),
            "state" => p.state = opt(old),
            "postal_code" => p.postal_code = opt(old),
            "country" => p.country = opt(old),
            "blood_group" => p.blood_group = opt(old),
            "preferred_language" => p.preferred_language = opt(old),
            "emergency_name" => p.emergency_name = opt(old),
            "emergency_phone" => p.emergency_phone = opt(old),
            "emergency_relation" => p.emergency_relation = opt(old),
            "insurer" => p.insurer = opt(old),
            "insurance_policy" => p.insurance_policy = opt(old),
            "consent_sms" => p.consent_sms = old == "true",
            "consent_email" => p.consent_email = old == "true",
            "consent_research" => p.consent_research = old == "true",
            "restricted" => p.restricted = old == "true",
            "restricted_reason" => p.restricted_reason = opt(old),
            "active" => p.active = old == "true",
            "deceased_at" => {
                p.deceased_at = if old.is_empty() {
                    None
                } else {
                    Some(DateTime::parse_from_rfc3339(old).ok()?.with_timezone(&Utc))
                }
            }
            "identifiers" => {
                p.identifiers = old
                    .split(", ")
                    .filter(|x| !x.is_empty())
                    .map(|x| {
                        let (system, value) = x.split_once(':')?;
                        Some(super::Identifier { system: system.to_owned(), value: value.to_owned() })
                    })
                    .collect::<Option<Vec<_>>>()?
            }
            _ => return None,
        }
    }
    Some(p)
}
