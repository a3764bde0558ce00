//! Ordering an examination (the side named where the part is paired, the same
//! examination again within the site's window a warning the doctor confirms), cancelling
//! it before it is done, giving it a room and a time (one examination per room at a
//! time), performing it — which records its one unbilled charge — and adding its images.

use chrono::{DateTime, Datelike, Duration, Utc};
use salus_core::imaging::{ImagingOrder, ImagingStatus, Laterality};
use salus_core::laboratory::Priority;
use salus_core::organisation::{parse_label, parse_optional_label};
use salus_core::{EncounterId, FieldError, PatientId};
use salus_db::ResultExt;
use salus_db::entity::{imaging_image, imaging_order};
use salus_db::imaging as q;
use serde_json::json;
use uuid::Uuid;

use super::me;
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::patients::timeline_row;
use crate::{AppError, Ctx};

/// What the charges of performed examinations are recorded against.
pub const CHARGE_SOURCE: &str = "imaging_order";

/// An examination as the doctor orders it.
#[derive(Debug, Clone, Default)]
pub struct NewImagingOrder {
    pub encounter_id: Option<EncounterId>,
    pub procedure_id: Option<Uuid>,
    pub laterality: Option<Laterality>,
    pub priority: Option<Priority>,
    /// What the doctor wants answered ("? consolidation right lower lobe").
    pub clinical_question: String,
    /// Given to go ahead when the same examination was ordered within the window.
    pub override_reason: String,
}

impl crate::Imaging<'_> {
    /// Orders an examination (doctors); it gets its accession number at once, so the
    /// modality worklist and the PACS can carry it from the start.
    #[tracing::instrument(skip_all, fields(patient_id = %patient))]
    pub async fn place_order(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        input: NewImagingOrder,
    ) -> Result<ImagingOrder, AppError> {
        let p = self.imaging_patient(ctx, patient, Permission::ImagingOrder).await?;
        if !p.active || p.merged_into.is_some() || p.deceased_at.is_some() {
            return Err(AppError::field("patient_id", "this record is not active"));
        }
        let conn = self.db.reader();
        let mut errors = Vec::new();
        let procedure = match input.procedure_id {
            None => {
                errors.push(FieldError::new("procedure_id", "choose an examination"));
                None
            }
            Some(id) => match q::find_procedure(conn, id).await? {
                Some(pr) if pr.active => Some(pr),
                _ => {
                    errors.push(FieldError::new("procedure_id", "choose an examination from the catalog"));
                    None
                }
            },
        };
        if let Some(pr) = &procedure {
            match (pr.laterality_required, input.laterality) {
                (true, None) => {
                    errors.push(FieldError::new("laterality", "say which side: left, right or bilateral"))
                }
                (false, Some(_)) => {
                    errors.push(FieldError::new("laterality", format!("{} has no side", pr.name)))
                }
                _ => {}
            }
        }
        let question = parse_label(&input.clinical_question, "clinical_question", 500)
            .map_err(|_| FieldError::new("clinical_question", "say what the examination should answer"));
        let question = match question {
            Ok(q) => Some(q),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        if let Some(e) = input.encounter_id {
            let enc = salus_db::clinical::find_encounter(conn, e.as_uuid()).await?;
            if enc.is_none_or(|enc| enc.patient_id != patient.as_uuid()) {
                errors.push(FieldError::new("encounter_id", "is not an encounter of this patient"));
            }
        }
        let override_reason = parse_optional_label(&input.override_reason, "override_reason", 300)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let (Some(procedure), Some(question), true) = (procedure, question, errors.is_empty()) else {
            return Err(AppError::Invalid(errors));
        };

        // The same examination (and side) recently ordered and not cancelled.
        let since = Utc::now() - Duration::hours(self.lab.duplicate_window_hours);
        let warnings: Vec<String> = q::orders_of(conn, patient.as_uuid(), 200)
            .await?
            .into_iter()
            .filter(|o| {
                o.created_at >= since
                    && o.status != ImagingStatus::Cancelled
                    && o.procedure_id == procedure.id
                    && o.laterality == input.laterality
            })
            .map(|o| {
                format!(
                    "{} was already ordered {} ({}, {})",
                    ImagingOrder::from(o.clone()).title(),
                    o.created_at.format("%d %b %H:%M"),
                    o.accession,
                    o.status.words()
                )
            })
            .collect();
        if !warnings.is_empty() && override_reason.is_none() {
            return Err(AppError::ClinicalWarnings(warnings));
        }

        let service = match &procedure.service_code {
            Some(code) => {
                salus_db::laboratory::services_by_code(conn, std::slice::from_ref(code)).await?.pop()
            }
            None => None,
        };
        let now = Utc::now();
        let mut row = imaging_order::Model {
            id: Uuid::now_v7(),
            patient_id: patient.as_uuid(),
            encounter_id: input.encounter_id.map(|e| e.as_uuid()),
            procedure_id: procedure.id,
            procedure_name: procedure.name.clone(),
            modality: procedure.modality,
            body_part: procedure.body_part.clone(),
            laterality: input.laterality,
            priority: input.priority.unwrap_or(Priority::Routine),
            clinical_question: question,
            status: ImagingStatus::Ordered,
            accession: String::new(),
            ordered_by: me(ctx)?,
            scheduled_at: None,
            room: None,
            performed_by: None,
            performed_at: None,
            performed_note: None,
            cancel_reason: None,
            service_id: service.map(|s| s.id),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let txn = self.db.begin_write().await?;
        let n = salus_db::laboratory::next_accession(&txn, &format!("R{}", now.year())).await?;
        row.accession = salus_core::laboratory::accession('R', now.year(), n);
        q::insert_order(&txn, row.clone()).await?;
        let order = ImagingOrder::from(row);
        salus_db::patients::insert_timeline(
            &txn,
            vec![timeline_row(
                patient.as_uuid(),
                "imaging_order",
                format!("Ordered {} ({}, {})", order.title(), order.priority.words(), order.accession),
                ctx,
            )],
        )
        .await?;
        let event = Event::new("imaging.order", "imaging_order", Some(order.id.to_string()))
            .patient(patient.as_uuid())
            .detail(json!({
                "accession": order.accession,
                "procedure": order.procedure_name,
                "laterality": order.laterality,
                "warnings_overridden": warnings,
                "override_reason": override_reason.filter(|_| !warnings.is_empty()),
            }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(order)
    }

    /// The order the caller acts on as imaging staff (or its orderer), with its patient's
    /// access checked.
    async fn order_for(
        &self,
        ctx: &Ctx,
        id: Uuid,
        permission: Permission,
    ) -> Result<imaging_order::Model, AppError> {
        let o = q::find_order(self.db.reader(), id).await?.ok_or(AppError::NotFound("imaging order"))?;
        self.imaging_patient(ctx, PatientId::from_uuid(o.patient_id), permission).await?;
        Ok(o)
    }

    /// Writes `row` (its version one on from `seen`) if the order still stands in one of
    /// `from`, with the timeline line and audit event of the change, in one transaction.
    async fn move_order(
        &self,
        ctx: &Ctx,
        row: imaging_order::Model,
        from: &[ImagingStatus],
        (action, timeline): (&'static str, String),
        detail: serde_json::Value,
    ) -> Result<ImagingOrder, AppError> {
        let txn = self.db.begin_write().await?;
        let moved = q::update_order(&txn, row.clone(), from).await.on_unique(
            "imaging_orders_room_slot_key",
            "imaging_orders.room",
            || AppError::Conflict("the room is already booked at that time".into()),
        )?;
        if !moved {
            let now = q::find_order(&txn, row.id).await?.map(|o| o.status.words()).unwrap_or_default();
            return Err(AppError::Conflict(format!("this examination is {now} and cannot be changed so")));
        }
        salus_db::patients::insert_timeline(
            &txn,
            vec![timeline_row(row.patient_id, "imaging_order", timeline, ctx)],
        )
        .await?;
        let event = Event::new(action, "imaging_order", Some(row.id.to_string()))
            .patient(row.patient_id)
            .detail(detail);
        audit::record(&txn, ctx, event).await?;
        if row.status == ImagingStatus::Performed
            && let Some(service) = match row.service_id {
                Some(s) => salus_db::organisation::find_service(&txn, s).await?,
                None => None,
            }
        {
            let title = ImagingOrder::from(row.clone()).title();
            let charge = crate::charges::unbilled(
                &service,
                row.patient_id,
                &title,
                (CHARGE_SOURCE, row.id),
                me(ctx)?,
                Utc::now(),
            );
            salus_db::charges::insert_charges(&txn, vec![charge]).await?;
        }
        txn.commit().await?;
        Ok(row.into())
    }

    /// Cancels an examination not yet done, with a reason (its orderer or imaging staff).
    pub async fn cancel(&self, ctx: &Ctx, id: Uuid, reason: &str) -> Result<ImagingOrder, AppError> {
        let permission = if ctx.actor.require(Permission::ImagingWork).is_ok() {
            Permission::ImagingWork
        } else {
            Permission::ImagingOrder
        };
        let o = self.order_for(ctx, id, permission).await?;
        let reason = parse_optional_label(reason, "reason", 300)?
            .ok_or_else(|| AppError::field("reason", "say why the examination is cancelled"))?;
        if !ImagingStatus::CANCELLABLE.contains(&o.status) {
            return Err(AppError::Conflict(format!(
                "this examination is {} and cannot be cancelled",
                o.status.words()
            )));
        }
        let title = ImagingOrder::from(o.clone()).title();
        let was = o.status;
        let row = imaging_order::Model {
            status: ImagingStatus::Cancelled,
            cancel_reason: Some(reason.clone()),
            updated_at: Utc::now(),
            version: o.version + 1,
            ..o
        };
        self.move_order(
            ctx,
            row,
            ImagingStatus::CANCELLABLE,
            ("imaging.cancel", format!("Cancelled {title}: {reason}")),
            json!({ "reason": reason, "was": was }),
        )
        .await
    }

    /// Gives an examination a room and a start time (or moves it). The room is taken for
    /// the procedure's length: an overlap names the booking in the way.
    pub async fn schedule(
        &self,
        ctx: &Ctx,
        id: Uuid,
        at: DateTime<Utc>,
        room: &str,
    ) -> Result<ImagingOrder, AppError> {
        let o = self.order_for(ctx, id, Permission::ImagingWork).await?;
        let room = parse_label(room, "room", 60)?;
        if at < Utc::now() - Duration::minutes(5) {
            return Err(AppError::field("scheduled_at", "choose a time from now on"));
        }
        if at > Utc::now() + Duration::days(366) {
            return Err(AppError::field("scheduled_at", "choose a time within a year"));
        }
        let from = [ImagingStatus::Ordered, ImagingStatus::Scheduled];
        if !from.contains(&o.status) {
            return Err(AppError::Conflict(format!(
                "this examination is {} and cannot be scheduled",
                o.status.words()
            )));
        }
        let conn = self.db.reader();
        let catalog = q::procedures(conn, true).await?;
        let minutes =
            |p: Uuid| i64::from(catalog.iter().find(|c| c.id == p).map_or(30, |c| c.duration_minutes));
        let end = at + Duration::minutes(minutes(o.procedure_id));
        // The longest procedure bounds how early a booking that still overlaps can start.
        let longest = catalog.iter().map(|c| i64::from(c.duration_minutes)).max().unwrap_or(60);
        let clash =
            q::room_bookings(conn, &room, at - Duration::minutes(longest) - Duration::seconds(1), end)
                .await?
                .into_iter()
                .filter(|b| b.id != o.id)
                .find(|b| {
                    b.scheduled_at
                        .is_some_and(|s| s < end && at < s + Duration::minutes(minutes(b.procedure_id)))
                });
        if let Some(b) = clash {
            let s = b.scheduled_at.unwrap_or(at);
            return Err(AppError::Conflict(format!(
                "{room} is booked from {} for {} ({})",
                s.with_timezone(&self.time_zone).format("%d %b %H:%M"),
                b.procedure_name,
                b.accession
            )));
        }
        let title = ImagingOrder::from(o.clone()).title();
        let local = at.with_timezone(&self.time_zone).format("%d %b %H:%M");
        let row = imaging_order::Model {
            status: ImagingStatus::Scheduled,
            scheduled_at: Some(at),
            room: Some(room.clone()),
            updated_at: Utc::now(),
            version: o.version + 1,
            ..o
        };
        self.move_order(
            ctx,
            row,
            &from,
            ("imaging.schedule", format!("{title} booked for {local}, {room}")),
            json!({ "scheduled_at": at, "room": room }),
        )
        .await
    }

    /// Records the examination done (imaging staff): by the caller, now, with its
    /// technique; its one unbilled charge is recorded in the same transaction.
    pub async fn perform(&self, ctx: &Ctx, id: Uuid, note: &str) -> Result<ImagingOrder, AppError> {
        let o = self.order_for(ctx, id, Permission::ImagingWork).await?;
        let note = parse_optional_label(note, "note", 1000)?;
        let from = [ImagingStatus::Ordered, ImagingStatus::Scheduled];
        if !from.contains(&o.status) {
            return Err(AppError::Conflict(format!("this examination is {}", o.status.words())));
        }
        let title = ImagingOrder::from(o.clone()).title();
        let accession = o.accession.clone();
        let now = Utc::now();
        let row = imaging_order::Model {
            status: ImagingStatus::Performed,
            performed_by: Some(me(ctx)?),
            performed_at: Some(now),
            performed_note: note.clone(),
            updated_at: now,
            version: o.version + 1,
            ..o
        };
        self.move_order(
            ctx,
            row,
            &from,
            ("imaging.perform", format!("{title} performed ({accession})")),
            json!({ "accession": accession, "note": note }),
        )
        .await
    }

    /// Adds an image or PDF to a study that has been performed (imaging staff, or the
    /// reporting doctor): stored as an attachment of the patient's record.
    pub async fn add_image(
        &self,
        ctx: &Ctx,
        id: Uuid,
        filename: &str,
        data: &[u8],
    ) -> Result<salus_core::clinical::Attachment, AppError> {
        let o = self.order_for(ctx, id, Permission::ImagingWork).await?;
        if matches!(o.status, ImagingStatus::Ordered | ImagingStatus::Scheduled | ImagingStatus::Cancelled) {
            return Err(AppError::Conflict(format!(
                "this examination is {}: images come once it is performed",
                o.status.words()
            )));
        }
        let patient = PatientId::from_uuid(o.patient_id);
        let encounter = o.encounter_id.map(EncounterId::from_uuid);
        let row = self.clinical().store_attachment(ctx, patient, encounter, filename, data).await?;
        let txn = self.db.begin_write().await?;
        salus_db::clinical::insert_attachment(&txn, row.clone()).await?;
        q::insert_image(
            &txn,
            imaging_image::Model { order_id: o.id, attachment_id: row.id, added_at: row.uploaded_at },
        )
        .await?;
        let event = Event::new("imaging.image_add", "attachment", Some(row.id.to_string()))
            .patient(o.patient_id)
            .detail(json!({ "order": o.id, "accession": o.accession, "filename": row.filename }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }
}
