//! Imaging: a procedure catalog, orders from the encounter (each given at once the
//! accession number the modality and a PACS share), scheduling into a room, the
//! examination (who performed it, its technique, one unbilled charge), the images and
//! PDFs of the study, and the report a doctor writes and authorises — amended, never
//! overwritten, once released. Ordering, scheduling and performing live in `orders.rs`;
//! reports in `reports.rs`.

pub mod orders;
pub mod reports;

use salus_core::PatientId;
use salus_core::clinical::Attachment;
use salus_core::imaging::{
    ImagingOrder, ImagingProcedure, ImagingReport, ImagingStatus, Modality, ReportStatus,
};
use salus_db::entity::{imaging_order, patient};
use salus_db::imaging as q;
use std::collections::HashMap;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::laboratory::LabPatient;
use crate::{AppError, Ctx};

/// A line of the imaging worklist.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StudyItem {
    pub order: ImagingOrder,
    pub patient: LabPatient,
    /// The current report's state, if one is written.
    pub report_status: Option<ReportStatus>,
}

/// An order with everything imaging staff and the doctor need to act on it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StudyDetail {
    pub order: ImagingOrder,
    pub patient: LabPatient,
    pub procedure: Option<ImagingProcedure>,
    /// The current report (a preliminary one only for imaging staff and doctors).
    pub report: Option<ImagingReport>,
    /// How many versions the report has had (more than one: it was amended).
    pub report_revisions: i32,
    pub images: Vec<Attachment>,
    /// Who ordered, performed, wrote and authorised, by the names staff know them by.
    pub people: HashMap<Uuid, String>,
}

impl StudyDetail {
    /// The name of the user `id`, or "—".
    pub fn who(&self, id: Option<Uuid>) -> String {
        id.and_then(|i| self.people.get(&i).cloned()).unwrap_or_else(|| "—".into())
    }
}

/// The caller's user id (an imaging action is always someone's).
fn me(ctx: &Ctx) -> Result<Uuid, AppError> {
    ctx.actor.user().map(|u| u.id.as_uuid()).ok_or(AppError::Forbidden)
}

impl crate::Imaging<'_> {
    /// The patient record behind an imaging action, if the caller may act on it with
    /// `permission` (a patient's own account reads its own authorised reports).
    async fn imaging_patient(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        permission: Permission,
    ) -> Result<patient::Model, AppError> {
        self.clinical().clinical_patient(ctx, patient, permission).await
    }

    /// The permission the caller reads an order with: imaging staff their worklist's,
    /// everyone else the clinical record's (a patient's own account included).
    fn read_permission(ctx: &Ctx) -> Permission {
        if ctx.actor.require(Permission::ImagingWork).is_ok() {
            Permission::ImagingWork
        } else {
            Permission::ClinicalRead
        }
    }

    /// The catalog (staff read it; retired procedures too when asked).
    pub async fn procedures(
        &self,
        ctx: &Ctx,
        include_inactive: bool,
    ) -> Result<Vec<ImagingProcedure>, AppError> {
        self.authorize(ctx, Permission::OrganisationRead).await?;
        Ok(crate::records(q::procedures(self.db.reader(), include_inactive).await?))
    }

    /// Retires a procedure (no longer orderable; past orders keep it) or reactivates it
    /// (administrators).
    pub async fn set_procedure_active(
        &self,
        ctx: &Ctx,
        id: Uuid,
        active: bool,
    ) -> Result<ImagingProcedure, AppError> {
        self.authorize(ctx, Permission::OrganisationManage).await?;
        let txn = self.db.begin_write().await?;
        let p = q::find_procedure(&txn, id).await?.ok_or(AppError::NotFound("procedure"))?;
        if !q::set_procedure_active(&txn, id, active).await? {
            return Err(AppError::Conflict(format!(
                "{} is already {}",
                p.name,
                if active { "active" } else { "retired" }
            )));
        }
        let action = if active { "imaging.catalog_reactivate" } else { "imaging.catalog_retire" };
        let event = Event::new(action, "imaging_procedure", Some(id.to_string()))
            .detail(serde_json::json!({ "code": p.code, "name": p.name }));
        audit::record(&txn, ctx, event).await?;
        let after = q::find_procedure(&txn, id).await?.ok_or(AppError::NotFound("procedure"))?;
        txn.commit().await?;
        Ok(after.into())
    }

    /// One page of the imaging worklist: open orders (or those in `statuses`) of one
    /// modality, stat first, then by booked time, then oldest; `limit` after the first
    /// `offset`, and whether more follow. Each line shown is an audited read.
    pub async fn worklist(
        &self,
        ctx: &Ctx,
        statuses: &[ImagingStatus],
        modality: Option<Modality>,
        limit: u64,
        offset: u64,
    ) -> Result<(Vec<StudyItem>, bool), AppError> {
        self.authorize(ctx, Permission::ImagingWork).await?;
        let conn = self.db.reader();
        let statuses = if statuses.is_empty() { ImagingStatus::OPEN } else { statuses };
        let mut orders = q::worklist(conn, statuses, modality, limit + 1, offset).await?;
        let more = orders.len() as u64 > limit;
        orders.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut patient_ids: Vec<Uuid> = orders.iter().map(|o| o.patient_id).collect();
        patient_ids.sort();
        patient_ids.dedup();
        let order_ids: Vec<Uuid> = orders.iter().map(|o| o.id).collect();
        let (patients, reports) = tokio::try_join!(
            salus_db::patients::find_patients(conn, &patient_ids),
            q::current_reports(conn, &order_ids)
        )?;
        let patients: HashMap<Uuid, patient::Model> = patients.into_iter().map(|p| (p.id, p)).collect();
        let reports: HashMap<Uuid, ReportStatus> =
            reports.into_iter().map(|r| (r.order_id, r.status)).collect();
        let items: Vec<StudyItem> = orders
            .into_iter()
            .filter_map(|o| {
                let p = patients.get(&o.patient_id)?;
                Some(StudyItem {
                    patient: p.into(),
                    report_status: reports.get(&o.id).copied(),
                    order: o.into(),
                })
            })
            .collect();
        let events = items
            .iter()
            .map(|i| {
                audit::row(
                    ctx,
                    Event::new("imaging.worklist_read", "imaging_order", Some(i.order.id.to_string()))
                        .patient(i.patient.id),
                )
            })
            .collect();
        self.reads.record(events).await?;
        Ok((items, more))
    }

    /// One order with its patient, procedure, current report and images. A preliminary
    /// report is for imaging staff and doctors; a patient's own account sees an order only
    /// once its report is authorised.
    pub async fn study(&self, ctx: &Ctx, id: Uuid) -> Result<StudyDetail, AppError> {
        let conn = self.db.reader();
        let order = q::find_order(conn, id).await?.ok_or(AppError::NotFound("imaging order"))?;
        let p = self
            .imaging_patient(ctx, PatientId::from_uuid(order.patient_id), Self::read_permission(ctx))
            .await?;
        if crate::Clinical::reads_as_patient(ctx) && order.status != ImagingStatus::Final {
            return Err(AppError::NotFound("imaging order"));
        }
        let detail = self.detail(order, &p).await?;
        let event = Event::new("imaging.read", "imaging_order", Some(id.to_string())).patient(p.id);
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        Ok(detail)
    }

    async fn detail(&self, order: imaging_order::Model, p: &patient::Model) -> Result<StudyDetail, AppError> {
        let conn = self.db.reader();
        let (procedure, revisions, images) = tokio::try_join!(
            q::find_procedure(conn, order.procedure_id),
            q::report_revisions(conn, order.id),
            q::images_of(conn, order.id)
        )?;
        let report = revisions.iter().find(|r| r.superseded_at.is_none()).cloned();
        let mut ids: Vec<Uuid> = [Some(order.ordered_by), order.performed_by].into_iter().flatten().collect();
        if let Some(r) = &report {
            ids.extend([Some(r.written_by), r.authorised_by].into_iter().flatten());
        }
        ids.sort();
        ids.dedup();
        let people = salus_db::identity::display_names_of(conn, &ids).await?.into_iter().collect();
        Ok(StudyDetail {
            order: order.into(),
            patient: p.into(),
            procedure: procedure.map(Into::into),
            report: report.map(Into::into),
            report_revisions: i32::try_from(revisions.len()).unwrap_or(i32::MAX),
            images: crate::records(images),
            people,
        })
    }

    /// A patient's imaging orders, newest first (clinicians; imaging staff; a patient's own
    /// account sees those with an authorised report).
    pub async fn orders_of(
        &self,
        ctx: &Ctx,
        patient: PatientId,
    ) -> Result<(LabPatient, Vec<ImagingOrder>), AppError> {
        let p = self.imaging_patient(ctx, patient, Self::read_permission(ctx)).await?;
        let mut rows = q::orders_of(self.db.reader(), patient.as_uuid(), 500).await?;
        if crate::Clinical::reads_as_patient(ctx) {
            rows.retain(|o| o.status == ImagingStatus::Final);
        }
        let event = Event::new("imaging.read", "imaging_orders", Some(patient.to_string()))
            .patient(patient.as_uuid());
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        Ok((LabPatient::from(&p), crate::records(rows)))
    }

    /// Every version of an order's report, newest first (an amended report's history).
    /// A patient's own account reads the authorised versions.
    pub async fn report_history(&self, ctx: &Ctx, order: Uuid) -> Result<Vec<ImagingReport>, AppError> {
        let conn = self.db.reader();
        let o = q::find_order(conn, order).await?.ok_or(AppError::NotFound("imaging order"))?;
        self.imaging_patient(ctx, PatientId::from_uuid(o.patient_id), Self::read_permission(ctx)).await?;
        let mut rows: Vec<ImagingReport> = crate::records(q::report_revisions(conn, order).await?);
        if crate::Clinical::reads_as_patient(ctx) {
            rows.retain(|r| r.status != ReportStatus::Preliminary);
        }
        let event =
            Event::new("imaging.read", "imaging_report", Some(order.to_string())).patient(o.patient_id);
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        Ok(rows)
    }

    /// An image or PDF of a study, with its bytes (audited as a read of the record).
    pub async fn image(
        &self,
        ctx: &Ctx,
        order: Uuid,
        attachment: Uuid,
    ) -> Result<(Attachment, Vec<u8>), AppError> {
        let conn = self.db.reader();
        let o = q::find_order(conn, order).await?.ok_or(AppError::NotFound("imaging order"))?;
        self.imaging_patient(ctx, PatientId::from_uuid(o.patient_id), Self::read_permission(ctx)).await?;
        if crate::Clinical::reads_as_patient(ctx) && o.status != ImagingStatus::Final {
            return Err(AppError::NotFound("image"));
        }
        let row = q::images_of(conn, order)
            .await?
            .into_iter()
            .find(|a| a.id == attachment)
            .ok_or(AppError::NotFound("image"))?;
        let bytes = self.files.get(&row.sha256).await?;
        let event =
            Event::new("attachment.read", "attachment", Some(attachment.to_string())).patient(o.patient_id);
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        Ok((row.into(), bytes))
    }
}
