//! Counting the wards: the midnight census (who lay in each ward's beds at the midnight
//! that ended a day, occupancy of the usable beds, admissions, discharges and transfers
//! of the day), the admission and discharge register with lengths of stay, and the bed
//! days each stay is charged — priced from its bed's price-list service, by the rule the
//! hospital chose for the days of admission and discharge, once each (a bed day's charge
//! is keyed by the stay and the date), settled every night and at discharge.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use salus_core::inpatient::census::{BedDayRule, Segment, bed_days, occupancy_percent};
use salus_core::inpatient::{Admission, BedState, Ward, length_of_stay};
use salus_db::entity::{admission, bed_assignment, charge};
use salus_db::inpatient as q;
use salus_db::inpatient::census as c;
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::laboratory::LabPatient;
use crate::{AppError, Ctx};

/// The nightly job that settles the day's bed-day charges and queues the next night's.
pub const BED_DAY_JOB: &str = "inpatient.bed_days";
/// What a bed day's charge is recorded against (a stable id of the stay and the date).
pub const BED_DAY_SOURCE: &str = "bed_day";

/// One ward's line of the census.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WardCensus {
    pub ward: Ward,
    /// Beds in use (not blocked).
    pub usable: usize,
    pub blocked: usize,
    /// Patients in a bed at the midnight that ended the day.
    pub at_midnight: usize,
    pub occupancy_percent: f64,
    pub admitted: usize,
    pub discharged: usize,
    pub transferred_in: usize,
    pub transferred_out: usize,
}

/// The census of a day.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Census {
    pub day: NaiveDate,
    pub wards: Vec<WardCensus>,
}

/// A line of the admission and discharge register.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RegisterRow {
    pub admission: Admission,
    pub patient: LabPatient,
    pub ward: String,
    /// Days so far (or in all), counting the day of admission.
    pub days: i64,
}

/// The register of a period, with the average length of the stays that ended in it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Register {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub rows: Vec<RegisterRow>,
    /// Mean days of the stays discharged in the period (none when none were).
    pub average_stay: Option<f64>,
}

impl crate::Inpatient<'_> {
    /// The hospital's midnight that ends `day`, in UTC.
    pub(crate) fn midnight_after(&self, day: NaiveDate) -> DateTime<Utc> {
        let next = day.succ_opt().unwrap_or(day).and_hms_opt(0, 0, 0).unwrap_or_default();
        next.and_local_timezone(self.time_zone)
            .earliest()
            .map_or_else(|| next.and_utc(), |t| t.with_timezone(&Utc))
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.time_zone).date_naive()
    }

    /// The midnight census of `day`, each ward's line.
    pub async fn census(&self, ctx: &Ctx, day: NaiveDate) -> Result<Census, AppError> {
        self.authorize(ctx, Permission::InpatientRead).await?;
        let conn = self.db.reader();
        let start = self.midnight_after(day.pred_opt().unwrap_or(day));
        let end = self.midnight_after(day);
        let (wards, beds, in_bed, register) = tokio::try_join!(
            q::wards(conn, false),
            q::beds(conn, None),
            c::in_bed_at(conn, end),
            c::register(conn, start, end),
        )?;
        let moves = c::assignments_of_stays(conn, &register.iter().map(|a| a.id).collect::<Vec<_>>()).await?;
        let lines = wards
            .into_iter()
            .map(|w| {
                let of_ward = beds.iter().filter(|b| b.ward_id == w.id);
                let blocked = of_ward.clone().filter(|b| b.state == BedState::Blocked).count();
                let usable = of_ward.count() - blocked;
                let at_midnight = in_bed.iter().filter(|a| a.ward_id == w.id).count();
                let admitted = register
                    .iter()
                    .filter(|a| a.admitted_at >= start && a.admitted_at < end)
                    .filter(|a| {
                        moves
                            .iter()
                            .filter(|m| m.admission_id == a.id)
                            .min_by_key(|m| m.started_at)
                            .is_some_and(|m| m.ward_id == w.id)
                    })
                    .count();
                let discharged = register
                    .iter()
                    .filter(|a| a.discharged_at.is_some_and(|t| t >= start && t < end) && a.ward_id == w.id)
                    .count();
                let transfer = |into: bool| {
                    moves
                        .iter()
                        .filter(|m| {
                            m.reason == "transfer"
                                && m.started_at >= start
                                && m.started_at < end
                                && !m.companion
                        })
                        .filter(|m| {
                            let before = moves
                                .iter()
                                .filter(|p| p.admission_id == m.admission_id && p.started_at < m.started_at)
                                .max_by_key(|p| p.started_at);
                            match before {
                                Some(p) if p.ward_id != m.ward_id => {
                                    if into {
                                        m.ward_id == w.id
                                    } else {
                                        p.ward_id == w.id
                                    }
                                }
                                _ => false,
                            }
                        })
                        .count()
                };
                WardCensus {
                    usable,
                    blocked,
                    at_midnight,
                    occupancy_percent: occupancy_percent(at_midnight, usable),
                    admitted,
                    discharged,
                    transferred_in: transfer(true),
                    transferred_out: transfer(false),
                    ward: w.into(),
                }
            })
            .collect();
        Ok(Census { day, wards: lines })
    }

    /// The admission and discharge register of the days `from` to `to` (each patient
    /// named is a read of their record: one audit event each, in one commit).
    pub async fn register(&self, ctx: &Ctx, from: NaiveDate, to: NaiveDate) -> Result<Register, AppError> {
        self.authorize(ctx, Permission::InpatientRead).await?;
        if to < from || (to - from).num_days() > 366 {
            return Err(AppError::field("to", "on or after `from`, at most a year later"));
        }
        let conn = self.db.reader();
        let start = self.midnight_after(from.pred_opt().unwrap_or(from));
        let end = self.midnight_after(to);
        let stays = c::register(conn, start, end).await?;
        let ids: Vec<Uuid> = stays.iter().map(|s| s.patient_id).collect();
        let (patients, wards) =
            tokio::try_join!(salus_db::patients::find_patients(conn, &ids), q::wards(conn, true))?;
        let patients: HashMap<Uuid, LabPatient> =
            patients.iter().map(|p| (p.id, LabPatient::from(p))).collect();
        let wards: HashMap<Uuid, String> = wards.into_iter().map(|w| (w.id, w.name)).collect();
        let today = self.local_date(Utc::now());
        let rows: Vec<RegisterRow> = stays
            .into_iter()
            .filter_map(|s| {
                let patient = patients.get(&s.patient_id)?.clone();
                let until = s.discharged_at.map_or(today, |t| self.local_date(t));
                Some(RegisterRow {
                    days: length_of_stay(self.local_date(s.admitted_at), until),
                    ward: wards.get(&s.ward_id).cloned().unwrap_or_default(),
                    patient,
                    admission: s.into(),
                })
            })
            .collect();
        let ended: Vec<i64> = rows
            .iter()
            .filter(|r| r.admission.discharged_at.is_some_and(|t| t >= start && t < end))
            .map(|r| r.days)
            .collect();
        let average_stay = (!ended.is_empty())
            .then(|| (ended.iter().sum::<i64>() as f64 / ended.len() as f64 * 10.0).round() / 10.0);
        let events: Vec<_> = rows
            .iter()
            .map(|r| {
                audit::row(
                    ctx,
                    Event::new("inpatient.register.read", "admission", Some(r.admission.id.to_string()))
                        .patient(r.patient.id),
                )
            })
            .collect();
        if !events.is_empty() {
            self.reads.record(events).await?;
        }
        Ok(Register { from, to, rows, average_stay })
    }

    /// The days of a stay to charge up to `upto` (the moment it ended, when `ended`), by
    /// the rule, each with the bed it is charged by.
    fn stay_days(
        &self,
        stay: &admission::Model,
        history: &[bed_assignment::Model],
        upto: DateTime<Utc>,
        ended: bool,
    ) -> Vec<(NaiveDate, Uuid)> {
        let segments: Vec<Segment> = history
            .iter()
            .filter(|a| a.admission_id == stay.id && !a.companion)
            .map(|a| Segment {
                bed_id: a.bed_id,
                start: a.started_at,
                end: a.ended_at.or(ended.then_some(upto)),
            })
            .collect();
        bed_days(
            &segments,
            self.bed_day_rule,
            upto,
            ended,
            |d| self.midnight_after(d),
            |t| self.local_date(t),
        )
    }

    /// The leak check's bed days: days in `[from, to)` of the stays in the house or
    /// discharged meanwhile that should be charged by now (complete before the last
    /// midnight, or before the discharge) and have neither a charge nor an exemption —
    /// a bed with no price, a night the job did not run. As (stay, source id, day, bed).
    pub(crate) async fn bed_day_leaks(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(admission::Model, Uuid, NaiveDate, Uuid)>, AppError> {
        let conn = self.db.reader();
        let mut stays = q::in_house(conn, None).await?;
        for s in c::register(conn, from, to).await? {
            if !stays.iter().any(|x| x.id == s.id) {
                stays.push(s);
            }
        }
        let history = c::assignments_of_stays(conn, &stays.iter().map(|s| s.id).collect::<Vec<_>>()).await?;
        let last_midnight = self.midnight_after(self.local_date(Utc::now()) - Duration::days(1));
        let (first, last) = (self.local_date(from), self.local_date(to));
        let mut due = Vec::new();
        for s in &stays {
            let (upto, ended) = match s.discharged_at {
                Some(at) => (at, true),
                None => (last_midnight.min(to), false),
            };
            for (day, bed) in self.stay_days(s, &history, upto, ended) {
                if day >= first && day < last {
                    let source = crate::jobs::stable_id(&format!("{BED_DAY_SOURCE}/{}/{day}", s.id));
                    due.push((s.clone(), source, day, bed));
                }
            }
        }
        let ids: Vec<Uuid> = due.iter().map(|(_, id, _, _)| *id).collect();
        let accounted = salus_db::insurance::accounted_sources(conn, BED_DAY_SOURCE, &ids).await?;
        due.retain(|(_, id, _, _)| !accounted.contains(id));
        Ok(due)
    }

    /// The bed-day charges of a stay up to `upto` (the moment it ended, when `ended`):
    /// each day by the rule, priced from the bed's service; those already charged are
    /// skipped by the charges' unique source key, so this is safe to run again.
    pub(crate) async fn bed_day_charges(
        &self,
        stay: &admission::Model,
        history: &[bed_assignment::Model],
        upto: DateTime<Utc>,
        ended: bool,
        by: Uuid,
    ) -> Result<Vec<charge::Model>, AppError> {
        let days = self.stay_days(stay, history, upto, ended);
        if days.is_empty() {
            return Ok(Vec::new());
        }
        let conn = self.db.reader();
        let mut bed_ids: Vec<Uuid> = days.iter().map(|(_, b)| *b).collect();
        bed_ids.sort();
        bed_ids.dedup();
        let beds = q::beds_by_ids(conn, &bed_ids).await?;
        let codes: Vec<String> = beds.iter().filter_map(|b| b.service_code.clone()).collect();
        let services = if codes.is_empty() {
            Vec::new()
        } else {
            salus_db::laboratory::services_by_code(conn, &codes).await?
        };
        let now = Utc::now();
        Ok(days
            .into_iter()
            .filter_map(|(day, bed)| {
                let b = beds.iter().find(|x| x.id == bed)?;
                let s = services.iter().find(|s| Some(&s.code) == b.service_code.as_ref())?;
                let source = crate::jobs::stable_id(&format!("{BED_DAY_SOURCE}/{}/{day}", stay.id));
                let what = format!("{} — {} ({})", s.name, day.format("%d %b %Y"), b.label);
                Some(crate::charges::unbilled(s, stay.patient_id, &what, (BED_DAY_SOURCE, source), by, now))
            })
            .collect())
    }

    /// The night's run: every stay in the house charged its complete bed days, and the
    /// next night queued. Safe to run twice (a charge is keyed by stay and date).
    pub async fn nightly_bed_days(&self, day: NaiveDate) -> Result<(), AppError> {
        let conn = self.db.reader();
        let stays = q::in_house(conn, None).await?;
        let history = c::assignments_of_stays(conn, &stays.iter().map(|s| s.id).collect::<Vec<_>>()).await?;
        let upto = self.midnight_after(day).min(Utc::now());
        let system = Uuid::nil();
        let mut rows = Vec::new();
        for s in &stays {
            rows.extend(self.bed_day_charges(s, &history, upto, false, system).await?);
        }
        let txn = self.db.begin_write().await?;
        let count = rows.len();
        salus_db::charges::insert_charges(&txn, rows).await?;
        let event = Event::new("inpatient.bed_days", "census", Some(day.to_string()))
            .detail(json!({ "stays": stays.len(), "charges_considered": count, "rule": self.bed_day_rule }));
        audit::record(&txn, &Ctx::operator(), event).await?;
        txn.commit().await?;
        self.schedule_bed_days(self.local_date(Utc::now())).await.map(|_| ())
    }

    /// Makes sure the night's bed-day run for `day` is queued (just after its midnight).
    /// Every instance calls this when it starts; the run's id is the day's, so one is
    /// queued however many do.
    pub async fn schedule_bed_days(&self, day: NaiveDate) -> Result<bool, AppError> {
        let run_at = self.midnight_after(day) + Duration::minutes(5);
        let mut job = crate::jobs::new_job(BED_DAY_JOB, json!({ "day": day }), run_at);
        job.id = crate::jobs::stable_id(&format!("{BED_DAY_JOB}/{day}"));
        let txn = self.db.begin_write().await?;
        let queued = salus_db::jobs::enqueue_once(&txn, job).await?;
        txn.commit().await?;
        Ok(queued)
    }

    /// The rule bed days are charged by.
    pub fn bed_day_rule(&self) -> BedDayRule {
        self.bed_day_rule
    }
}

/// A doctor's patient in a bed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MyInpatient {
    pub admission: Admission,
    pub patient: LabPatient,
    pub ward: String,
    pub bed: String,
    pub days: i64,
    /// As-needed or once-now doses given that wait for the doctor's acknowledgement.
    pub to_acknowledge: usize,
}

impl crate::Inpatient<'_> {
    /// The caller's patients in a bed (the stays they are in charge of), by ward and bed,
    /// with the doses waiting for their acknowledgement. Each is a read of the record.
    pub async fn my_inpatients(&self, ctx: &Ctx) -> Result<Vec<MyInpatient>, AppError> {
        self.authorize(ctx, Permission::InpatientOrder).await?;
        let me = super::me(ctx)?;
        let conn = self.db.reader();
        let stays: Vec<admission::Model> =
            q::in_house(conn, None).await?.into_iter().filter(|s| s.attending_id == me).collect();
        if stays.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = stays.iter().map(|s| s.id).collect();
        let patient_ids: Vec<Uuid> = stays.iter().map(|s| s.patient_id).collect();
        let bed_ids: Vec<Uuid> = stays.iter().map(|s| s.bed_id).collect();
        let (patients, beds, wards, waiting) = tokio::try_join!(
            salus_db::patients::find_patients(conn, &patient_ids),
            q::beds_by_ids(conn, &bed_ids),
            q::wards(conn, true),
            salus_db::inpatient::mar::unacknowledged(conn, &ids),
        )?;
        let patients: HashMap<Uuid, LabPatient> =
            patients.iter().map(|p| (p.id, LabPatient::from(p))).collect();
        let today = self.local_date(Utc::now());
        let mut rows: Vec<MyInpatient> = stays
            .into_iter()
            .filter_map(|s| {
                Some(MyInpatient {
                    patient: patients.get(&s.patient_id)?.clone(),
                    ward: wards
                        .iter()
                        .find(|w| w.id == s.ward_id)
                        .map(|w| w.name.clone())
                        .unwrap_or_default(),
                    bed: beds.iter().find(|b| b.id == s.bed_id).map(|b| b.label.clone()).unwrap_or_default(),
                    days: length_of_stay(self.local_date(s.admitted_at), today),
                    to_acknowledge: waiting.iter().filter(|a| a.admission_id == s.id).count(),
                    admission: s.into(),
                })
            })
            .collect();
        rows.sort_by(|a, b| (&a.ward, &a.bed).cmp(&(&b.ward, &b.bed)));
        let events: Vec<_> = rows
            .iter()
            .map(|r| {
                audit::row(
                    ctx,
                    Event::new("inpatient.read", "my_inpatients", Some(r.admission.id.to_string()))
                        .patient(r.patient.id),
                )
            })
            .collect();
        self.reads.record(events).await?;
        Ok(rows)
    }
}

impl crate::Inpatient<'_> {
    /// A token that changes whenever the ward's board does (no patient data in it): the
    /// board's event stream polls it, so a change made through any instance shows on
    /// every open board.
    pub async fn board_signature(&self, ctx: &Ctx, ward: Uuid) -> Result<String, AppError> {
        self.authorize(ctx, Permission::InpatientRead).await?;
        Ok(c::board_signature(self.db.reader(), ward).await?)
    }
}
