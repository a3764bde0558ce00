//! The report of an examination: written by a doctor (a draft is rewritten freely while
//! preliminary), authorised by a doctor — which releases it to the chart and the patient —
//! and, once released, corrected only by an amendment: a new version with its reason,
//! authorised at once, the old one kept readable and marked amended. The ordering
//! doctor's inbox holds authorised reports until marked reviewed.

use chrono::Utc;
use salus_core::PatientId;
use salus_core::imaging::{ImagingOrder, ImagingReport, ImagingStatus, ReportStatus, report_text};
use salus_core::organisation::parse_optional_label;
use salus_db::entity::{imaging_order, imaging_report, patient};
use salus_db::imaging as q;
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

use super::me;
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::laboratory::LabPatient;
use crate::patients::timeline_row;
use crate::{AppError, Ctx};

/// What a doctor writes.
#[derive(Debug, Clone, Default)]
pub struct ReportText {
    pub findings: String,
    pub impression: String,
}

/// Authorised reports of the doctor's orders not yet marked reviewed, newest first.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReportInbox {
    pub reports: Vec<(ImagingReport, ImagingOrder, LabPatient)>,
}

fn check(text: &ReportText) -> Result<(String, String), AppError> {
    match (report_text(&text.findings, "findings"), report_text(&text.impression, "impression")) {
        (Ok(f), Ok(i)) => Ok((f, i)),
        (f, i) => Err(AppError::Invalid([f.err(), i.err()].into_iter().flatten().collect())),
    }
}

impl crate::Imaging<'_> {
    async fn report_order(
        &self,
        ctx: &Ctx,
        id: Uuid,
    ) -> Result<(imaging_order::Model, Option<imaging_report::Model>), AppError> {
        let conn = self.db.reader();
        let o = q::find_order(conn, id).await?.ok_or(AppError::NotFound("imaging order"))?;
        self.imaging_patient(ctx, PatientId::from_uuid(o.patient_id), Permission::ImagingReport).await?;
        let current = q::current_reports(conn, &[id]).await?.pop();
        Ok((o, current))
    }

    /// Writes (or rewrites) the preliminary report of a performed examination. The same
    /// text sent again changes nothing.
    pub async fn write_report(
        &self,
        ctx: &Ctx,
        id: Uuid,
        text: ReportText,
    ) -> Result<ImagingReport, AppError> {
        let (o, current) = self.report_order(ctx, id).await?;
        let (findings, impression) = check(&text)?;
        let by = me(ctx)?;
        let now = Utc::now();
        let txn = self.db.begin_write().await?;
        let row = match current {
            Some(r) if r.status != ReportStatus::Preliminary => {
                return Err(AppError::Conflict(
                    "the report is authorised: correct it with an amendment and a reason".into(),
                ));
            }
            Some(r) if r.findings == findings && r.impression == impression => return Ok(r.into()),
            Some(r) => {
                let row = imaging_report::Model {
                    findings,
                    impression,
                    written_by: by,
                    written_at: now,
                    version: r.version + 1,
                    ..r
                };
                if !q::update_preliminary(&txn, row.clone()).await? {
                    return Err(AppError::Conflict("the report was changed meanwhile; reload it".into()));
                }
                row
            }
            None => {
                if o.status != ImagingStatus::Performed {
                    return Err(AppError::Conflict(format!(
                        "this examination is {}: a report is written once it is performed",
                        o.status.words()
                    )));
                }
                let row = new_report(&o, 1, (findings, impression), by);
                q::insert_report(&txn, row.clone()).await?;
                let moved = imaging_order::Model {
                    status: ImagingStatus::Reported,
                    updated_at: now,
                    version: o.version + 1,
                    ..o.clone()
                };
                if !q::update_order(&txn, moved, &[ImagingStatus::Performed]).await? {
                    return Err(AppError::Conflict("this examination was changed meanwhile".into()));
                }
                row
            }
        };
        let event = Event::new("imaging.report_write", "imaging_report", Some(row.id.to_string()))
            .patient(o.patient_id)
            .detail(json!({ "order": o.id, "accession": o.accession }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Authorises the preliminary report: released to the chart, the patient and the
    /// ordering doctor's inbox.
    pub async fn authorise(&self, ctx: &Ctx, id: Uuid) -> Result<ImagingReport, AppError> {
        let (o, current) = self.report_order(ctx, id).await?;
        let r = match current {
            Some(r) if r.status == ReportStatus::Preliminary => r,
            Some(_) => return Err(AppError::Conflict("the report is already authorised".into())),
            None => return Err(AppError::Conflict("there is no report to authorise yet".into())),
        };
        let now = Utc::now();
        let row = imaging_report::Model {
            status: ReportStatus::Final,
            authorised_by: Some(me(ctx)?),
            authorised_at: Some(now),
            version: r.version + 1,
            ..r
        };
        let txn = self.db.begin_write().await?;
        if !q::update_preliminary(&txn, row.clone()).await? {
            return Err(AppError::Conflict("the report was changed meanwhile; reload it".into()));
        }
        let title = ImagingOrder::from(o.clone()).title();
        let moved = imaging_order::Model {
            status: ImagingStatus::Final,
            updated_at: now,
            version: o.version + 1,
            ..o
        };
        if !q::update_order(&txn, moved.clone(), &[ImagingStatus::Reported]).await? {
            return Err(AppError::Conflict("this examination was changed meanwhile".into()));
        }
        self.released(
            &txn,
            ctx,
            &moved,
            &row,
            format!("{title} reported: {}", first_line(&row.impression)),
            "imaging.authorise",
        )
        .await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Corrects an authorised report: a new version with the reason, authorised by the
    /// amending doctor at once; the old version stays readable, marked amended.
    pub async fn amend(
        &self,
        ctx: &Ctx,
        id: Uuid,
        text: ReportText,
        reason: &str,
    ) -> Result<ImagingReport, AppError> {
        let (o, current) = self.report_order(ctx, id).await?;
        let checked = check(&text);
        let reason = parse_optional_label(reason, "amend_reason", 300)?
            .ok_or_else(|| AppError::field("amend_reason", "say why the report is corrected"))?;
        let (findings, impression) = checked?;
        let Some(old) = current.filter(|r| r.status == ReportStatus::Final) else {
            return Err(AppError::Conflict(
                "only an authorised report is amended; edit the draft instead".into(),
            ));
        };
        if old.findings == findings && old.impression == impression {
            return Err(AppError::field("findings", "the amendment changes nothing"));
        }
        let by = me(ctx)?;
        let now = Utc::now();
        let mut row = new_report(&o, old.revision + 1, (findings, impression), by);
        row.status = ReportStatus::Final;
        row.authorised_by = Some(by);
        row.authorised_at = Some(now);
        row.amend_reason = Some(reason.clone());
        let txn = self.db.begin_write().await?;
        if !q::supersede_report(&txn, old.id, now).await? {
            return Err(AppError::Conflict("the report was changed meanwhile; reload it".into()));
        }
        q::insert_report(&txn, row.clone()).await?;
        let title = ImagingOrder::from(o.clone()).title();
        self.released(&txn, ctx, &o, &row, format!("{title} report amended: {reason}"), "imaging.amend")
            .await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// The timeline line and audit event of a report reaching the chart.
    async fn released(
        &self,
        txn: &salus_db::DatabaseTransaction,
        ctx: &Ctx,
        o: &imaging_order::Model,
        r: &imaging_report::Model,
        summary: String,
        action: &'static str,
    ) -> Result<(), AppError> {
        salus_db::patients::insert_timeline(
            txn,
            vec![timeline_row(o.patient_id, "imaging_report", summary, ctx)],
        )
        .await?;
        let event = Event::new(action, "imaging_report", Some(r.id.to_string()))
            .patient(o.patient_id)
            .detail(json!({ "order": o.id, "accession": o.accession, "revision": r.revision, "reason": r.amend_reason }));
        Ok(audit::record(txn, ctx, event).await?)
    }

    /// The signed-in doctor's authorised reports not yet reviewed.
    pub async fn inbox(&self, ctx: &Ctx) -> Result<ReportInbox, AppError> {
        self.authorize(ctx, Permission::ImagingOrder).await?;
        let conn = self.db.reader();
        let rows = q::unreviewed_for(conn, me(ctx)?, 200).await?;
        let mut ids: Vec<Uuid> = rows.iter().map(|(r, _)| r.patient_id).collect();
        ids.sort();
        ids.dedup();
        let patients: HashMap<Uuid, patient::Model> =
            salus_db::patients::find_patients(conn, &ids).await?.into_iter().map(|p| (p.id, p)).collect();
        let events = ids
            .iter()
            .map(|p| {
                audit::row(ctx, Event::new("imaging.inbox_read", "patient", Some(p.to_string())).patient(*p))
            })
            .collect();
        self.reads.record(events).await?;
        Ok(ReportInbox {
            reports: rows
                .into_iter()
                .filter_map(|(r, o)| {
                    let p = LabPatient::from(patients.get(&r.patient_id)?);
                    Some((r.into(), o.into(), p))
                })
                .collect(),
        })
    }

    /// Marks authorised reports of a patient reviewed by the signed-in doctor; how many.
    pub async fn mark_reviewed(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        reports: &[Uuid],
    ) -> Result<u64, AppError> {
        self.imaging_patient(ctx, patient, Permission::ImagingOrder).await?;
        if reports.is_empty() {
            return Err(AppError::field("report_ids", "choose the reports you have read"));
        }
        let now = Utc::now();
        let txn = self.db.begin_write().await?;
        let n = q::mark_reviewed(&txn, patient.as_uuid(), reports, me(ctx)?, now).await?;
        let event = Event::new("imaging.review", "imaging_report", None)
            .patient(patient.as_uuid())
            .detail(json!({ "reports": reports, "marked": n }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(n)
    }
}

fn new_report(
    o: &imaging_order::Model,
    revision: i32,
    (findings, impression): (String, String),
    by: Uuid,
) -> imaging_report::Model {
    imaging_report::Model {
        id: Uuid::now_v7(),
        order_id: o.id,
        patient_id: o.patient_id,
        revision,
        status: ReportStatus::Preliminary,
        findings,
        impression,
        written_by: by,
        written_at: Utc::now(),
        authorised_by: None,
        authorised_at: None,
        amend_reason: None,
        superseded_at: None,
        reviewed_by: None,
        reviewed_at: None,
        version: 1,
    }
}

/// The impression's first line, for the timeline.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() > 120 {
        format!("{}…", line.chars().take(119).collect::<String>())
    } else {
        line.to_owned()
    }
}
