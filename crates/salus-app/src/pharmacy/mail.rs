//! The daily stock alerts, sent: each morning a job mails every store that has an alert
//! mailbox its items at or below their reorder level and its stock expiring within 30,
//! 60, 90 and 180 days (or expired). The same alerts are on the pharmacist's home page;
//! the mail reaches whoever orders stock without signing in.
//!
//! Each job's id is made from what it is for (the day's run; one store's mail of one
//! day), so however many instances schedule it, and however often a worker retries a
//! failed send, a day's alerts go out once per store.

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use salus_db::pharmacy as q;
use serde_json::json;
use uuid::Uuid;

use super::stock::Alerts;
use crate::audit::{self, Event};
use crate::{AppError, Ctx};

/// The job that, once a day, queues each store's alert mail and the next day's run.
pub const DAILY_JOB: &str = "pharmacy.alerts";
/// The job that mails one store's alerts of one day.
pub const MAIL_JOB: &str = "pharmacy.alert_mail";
/// When the day's alerts go out, in the hospital's time zone.
pub const SEND_AT: NaiveTime = NaiveTime::from_hms_opt(7, 0, 0).expect("a valid time");

/// The mail of a store's alerts: a subject and a plain-text body, or `None` when there is
/// nothing to tell.
pub fn compose(store: &str, day: NaiveDate, alerts: &Alerts) -> Option<(String, String)> {
    if alerts.low.is_empty() && alerts.expiring.is_empty() {
        return None;
    }
    let subject = format!(
        "{store}: {} item(s) to reorder, {} batch(es) expiring — {day}",
        alerts.low.len(),
        alerts.expiring.len()
    );
    let mut body = format!("Stock alerts for {store} on {day}.\n");
    if !alerts.low.is_empty() {
        body.push_str("\nAt or below the reorder level:\n");
        for l in &alerts.low {
            body.push_str(&format!(
                "  - {}: {} {} usable; reorder level {}; {} on order; order {} more\n",
                l.item.name,
                l.available,
                l.item.base_unit,
                l.reorder_level,
                l.on_order,
                l.to_order()
            ));
        }
    }
    for (band, heading) in [
        (0, "Expired — write off"),
        (30, "Expiring within 30 days"),
        (60, "Expiring within 60 days"),
        (90, "Expiring within 90 days"),
        (180, "Expiring within 180 days"),
    ] {
        let lots: Vec<_> = alerts.expiring.iter().filter(|e| e.band == band).collect();
        if lots.is_empty() {
            continue;
        }
        body.push_str(&format!("\n{heading}:\n"));
        for e in lots {
            body.push_str(&format!(
                "  - {} batch {}: expires {}, {} {} on hand\n",
                e.item.name, e.lot.batch.batch_no, e.lot.batch.expiry_date, e.lot.on_hand, e.item.base_unit
            ));
        }
    }
    body.push_str("\nThe same list is on the pharmacy's home page in Salus.\n");
    Some((subject, body))
}

impl crate::Pharmacy<'_> {
    /// Makes sure the day's alert run is queued (at 07:00 there; at once if that is past).
    /// Every instance calls this when it starts: the run's id is the day's, so one is
    /// queued however many do. True if this call queued it.
    pub async fn schedule_alerts(&self, day: NaiveDate) -> Result<bool, AppError> {
        let at = self.time_zone.from_local_datetime(&day.and_time(SEND_AT)).earliest();
        let run_at = at.map(|t| t.with_timezone(&Utc)).unwrap_or_else(Utc::now);
        let mut job = crate::jobs::new_job(DAILY_JOB, json!({ "day": day }), run_at);
        job.id = crate::jobs::stable_id(&format!("{DAILY_JOB}/{day}"));
        let txn = self.db.begin_write().await?;
        let queued = salus_db::jobs::enqueue_once(&txn, job).await?;
        txn.commit().await?;
        Ok(queued)
    }

    /// The day's run: a mail job for each active store with an alert mailbox, and the
    /// next day's run. A run late by a day or more (the server was down) mails today's
    /// alerts — they are the stock as it is now — and schedules tomorrow's, so a restart
    /// never works through the missed days one mail each.
    pub async fn queue_alert_mail(&self, day: NaiveDate) -> Result<(), AppError> {
        let day = day.max(self.today());
        let stores = q::stores(self.db.reader(), true).await?;
        let txn = self.db.begin_write().await?;
        for s in stores.iter().filter(|s| s.alert_email.is_some()) {
            let mut job = crate::jobs::new_job(MAIL_JOB, json!({ "store_id": s.id, "day": day }), Utc::now());
            job.id = crate::jobs::stable_id(&format!("{MAIL_JOB}/{}/{day}", s.id));
            salus_db::jobs::enqueue_once(&txn, job).await?;
        }
        txn.commit().await?;
        self.schedule_alerts(day + Duration::days(1)).await.map(|_| ())
    }

    /// Mails one store its alerts (nothing when there are none); the sending is audited.
    pub(crate) async fn mail_alerts(&self, store: Uuid, day: NaiveDate) -> Result<(), AppError> {
        let Some(s) = q::find_store(self.db.reader(), store).await?.filter(|s| s.active) else {
            return Ok(());
        };
        let Some(to) = s.alert_email.clone() else { return Ok(()) };
        let alerts = self.store_alerts(store).await?;
        let Some((subject, body)) = compose(&s.name, day, &alerts) else { return Ok(()) };
        // Without a mail server the alerts stay on the home page; a day-old alert sent
        // later, once one is configured, would only mislead.
        let Some(smtp) = self.notifications.email.as_ref() else {
            tracing::info!(store = %s.code, "stock alerts not mailed: email is not configured ([notifications.smtp])");
            return Ok(());
        };
        crate::notifications::send_email(smtp, &to, &subject, &body).await.map_err(AppError::Internal)?;
        let txn = self.db.begin_write().await?;
        let event = Event::new("stock.alerts_mailed", "store", Some(store.to_string())).detail(json!({
            "code": s.code, "to": to, "day": day, "low": alerts.low.len(), "expiring": alerts.expiring.len(),
        }));
        audit::record(&txn, &Ctx::operator(), event).await?;
        txn.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_purpose_has_one_id() {
        assert_eq!(
            crate::jobs::stable_id("pharmacy.alerts/2026-12-01"),
            crate::jobs::stable_id("pharmacy.alerts/2026-12-01")
        );
        assert_ne!(
            crate::jobs::stable_id("pharmacy.alerts/2026-12-01"),
            crate::jobs::stable_id("pharmacy.alerts/2026-12-02")
        );
    }

    #[test]
    fn nothing_to_tell_is_no_mail() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert!(compose("Pharmacy", day, &Alerts { low: vec![], expiring: vec![] }).is_none());
    }
}
