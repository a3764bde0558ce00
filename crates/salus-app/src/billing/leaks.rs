//! The leak check: every billable event with neither a charge nor a recorded exemption.
//! A charge can go missing where a context had nothing to price it by — a lab test or a
//! bed with no service on the price list, a department with no consultation — or where a
//! job did not run; the check finds each such event so a supervisor charges it (by
//! pricing the service and letting the context charge) or exempts it with a reason. In
//! a well-run hospital, and in the tests, it is empty.

use chrono::{DateTime, NaiveDate, Utc};
use salus_core::organisation::parse_label;
use salus_db::entity::billing_exemption;
use serde_json::json;
use uuid::Uuid;

use super::me;
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::inpatient::census::BED_DAY_SOURCE;
use crate::{AppError, Ctx};

/// The kinds of billable event, as charges name their sources.
pub const SOURCES: [(&str, &str); 6] = [
    ("encounter", "Consultation"),
    ("lab_order", "Laboratory test"),
    ("imaging_order", "Imaging examination"),
    ("dispense_line", "Medicine dispensed"),
    ("nursing_task", "Nursing task"),
    (BED_DAY_SOURCE, "Bed day"),
];

/// A billable event nobody charged or exempted.
#[derive(Debug, Clone)]
pub struct Leak {
    pub kind: String,
    pub source_id: Uuid,
    pub patient_id: Uuid,
    pub patient: crate::laboratory::LabPatient,
    pub at: DateTime<Utc>,
    pub what: String,
}

impl crate::Billing<'_> {
    /// Billable events in the days `from..=to` with neither a charge nor an exemption,
    /// oldest first (at most 2,000).
    pub async fn leaks(&self, ctx: &Ctx, from: NaiveDate, to: NaiveDate) -> Result<Vec<Leak>, AppError> {
        self.authorize(ctx, Permission::BillingRead).await?;
        if to < from || (to - from).num_days() > 92 {
            return Err(AppError::field("to", "a period of at most 92 days, ending after it starts"));
        }
        let (start, _) = self.day_bounds(from);
        let (_, end) = self.day_bounds(to);
        let rows = self.leaks_between(start, end, None).await?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.patient_id).collect();
        let people = self.listed_patients(ctx, &ids, "billing.leaks.read").await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(Leak {
                    patient: people.get(&r.patient_id)?.clone(),
                    kind: r.kind,
                    source_id: r.source_id,
                    patient_id: r.patient_id,
                    at: r.at,
                    what: r.what,
                })
            })
            .collect())
    }

    /// The events of every kind (bed days from the inpatient context), without names.
    async fn leaks_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        only: Option<(&str, Uuid)>,
    ) -> Result<Vec<salus_db::insurance::Leak>, AppError> {
        let mut rows = Vec::new();
        if only.is_none_or(|(k, _)| k != BED_DAY_SOURCE) {
            rows = salus_db::insurance::leaks(self.db.reader(), (start, end), only, 2_000).await?;
        }
        if only.is_none_or(|(k, _)| k == BED_DAY_SOURCE) {
            for (stay, source, day, _) in self.inpatient().bed_day_leaks(start, end).await? {
                if only.is_none_or(|(_, id)| id == source) {
                    rows.push(salus_db::insurance::Leak {
                        kind: BED_DAY_SOURCE.into(),
                        source_id: source,
                        patient_id: stay.patient_id,
                        at: self.day_bounds(day).0,
                        what: format!("Bed day {} of stay {}", day.format("%d %b %Y"), stay.number),
                    });
                }
            }
        }
        rows.sort_by_key(|r| (r.at, r.source_id));
        rows.truncate(2_000);
        Ok(rows)
    }

    /// A supervisor records that a billable event is not to be charged (a free follow-up,
    /// a staff courtesy), with the reason. Only an event the leak check lists now (in the
    /// last 92 days) can be exempted.
    pub async fn exempt(&self, ctx: &Ctx, kind: &str, source: Uuid, reason: &str) -> Result<(), AppError> {
        self.authorize(ctx, Permission::BillingApprove).await?;
        let Some(kind) = SOURCES.iter().map(|(k, _)| *k).find(|k| *k == kind) else {
            return Err(AppError::field("kind", "one of the billable events the leak check lists"));
        };
        let reason = parse_label(reason, "reason", 300)
            .map_err(|_| AppError::field("reason", "say why it is not charged"))?;
        let end = Utc::now();
        let start = end - chrono::Duration::days(92);
        let leak = self
            .leaks_between(start, end + chrono::Duration::days(1), Some((kind, source)))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                AppError::Conflict("that event is already charged or exempted, or is not billable".into())
            })?;
        self.patients()
            .load_for(
                ctx,
                salus_core::PatientId::from_uuid(leak.patient_id),
                crate::patients::PatientAction::Bill,
            )
            .await?;
        let row = billing_exemption::Model {
            id: Uuid::now_v7(),
            source_type: kind.into(),
            source_id: source,
            patient_id: leak.patient_id,
            reason,
            exempted_by: me(ctx)?,
            exempted_at: end,
        };
        let txn = self.db.begin_write().await?;
        if !salus_db::insurance::insert_exemption(&txn, row.clone()).await? {
            return Err(AppError::Conflict("that event was exempted meanwhile".into()));
        }
        let event = Event::new("billing.exempt", kind, Some(source.to_string()))
            .patient(leak.patient_id)
            .detail(json!({ "reason": row.reason, "what": leak.what }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(())
    }
}
