//! The chart: the timeline of everything that happened to a patient, paged by time on an
//! index of (patient, time, id) so a chart with ten thousand entries opens as fast as one
//! with a single entry; and the photo.

use chrono::{DateTime, Utc};
use salus_core::PatientId;
use salus_db::entity::patient_photo;
use salus_db::patients as q;
use serde::Serialize;
use uuid::Uuid;

use super::{PatientAction, timeline_row};
use crate::audit::{self, Event};
use crate::{AppError, Ctx};

/// Largest photo accepted.
pub const MAX_PHOTO_BYTES: usize = 3 * 1024 * 1024;

/// Timeline entries that are clinical content, which reception does not see.
pub const CLINICAL_KINDS: [&str; 9] = [
    "encounter",
    "vitals",
    "note",
    "diagnosis",
    "allergy",
    "immunization",
    "prescription",
    "referral",
    "attachment",
];

/// One line of the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub summary: String,
}

/// A stored photo.
#[derive(Debug, Clone)]
pub struct Photo {
    pub content_type: String,
    pub data: Vec<u8>,
}

/// The image type of `data` by its first bytes, whatever the upload claimed.
pub fn sniff_image(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.len() > 12 && &data[0..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

impl crate::Patients<'_> {
    /// A page of the timeline, newest first, before `before`; audited as a read.
    pub async fn timeline(
        &self,
        ctx: &Ctx,
        id: PatientId,
        before: Option<(DateTime<Utc>, Uuid)>,
        limit: u64,
    ) -> Result<Vec<TimelineEntry>, AppError> {
        self.timeline_of(ctx, id, before, limit, None).await
    }

    /// The timeline narrowed to one group of entries (`visits`, `diagnoses`,
    /// `prescriptions`, `appointments`, `record`). Clinical entries are left out for
    /// those who may not read the clinical record (reception reads the rest).
    pub async fn timeline_of(
        &self,
        ctx: &Ctx,
        id: PatientId,
        before: Option<(DateTime<Utc>, Uuid)>,
        limit: u64,
        group: Option<&str>,
    ) -> Result<Vec<TimelineEntry>, AppError> {
        self.load_for(ctx, id, PatientAction::Read).await?;
        let only: Option<&[&str]> = match group {
            None | Some("" | "all") => None,
            Some("visits") => Some(&["encounter", "vitals", "note", "referral", "attachment"]),
            Some("diagnoses") => Some(&["diagnosis", "allergy", "immunization"]),
            Some("prescriptions") => Some(&["prescription"]),
            Some("appointments") => Some(&["appointment"]),
            Some("record") => Some(&[
                "registered",
                "edited",
                "merged",
                "unmerged",
                "deactivated",
                "reactivated",
                "deceased",
                "photo",
            ]),
            Some(_) => {
                return Err(AppError::field(
                    "kind",
                    "choose all, visits, diagnoses, prescriptions, appointments or record",
                ));
            }
        };
        let clinical_reader = match &ctx.actor {
            crate::identity::Actor::User(u) => {
                u.may(crate::identity::Permission::ClinicalRead)
                    || u.roles.contains(&salus_core::Role::Patient)
            }
            _ => true,
        };
        let except: &[&str] = if clinical_reader { &[] } else { &CLINICAL_KINDS };
        let filter = q::KindFilter { only, except };
        let rows =
            q::timeline_page(self.db.reader(), id.as_uuid(), before, limit.clamp(1, 200), filter).await?;
        self.reads
            .record(vec![audit::row(
                ctx,
                Event::new("patient.timeline_read", "patient", Some(id.to_string())).patient(id.as_uuid()),
            )])
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| TimelineEntry { id: r.id, at: r.at, kind: r.kind, summary: r.summary })
            .collect())
    }

    /// Stores the patient's photo: JPEG, PNG or WebP (by content, not by name), at most 3 MiB.
    pub async fn set_patient_photo(&self, ctx: &Ctx, id: PatientId, data: Vec<u8>) -> Result<(), AppError> {
        let row = self.load_for(ctx, id, PatientAction::Edit).await?;
        if data.len() > MAX_PHOTO_BYTES {
            return Err(AppError::field("photo", "is larger than 3 MiB"));
        }
        let Some(content_type) = sniff_image(&data) else {
            return Err(AppError::field("photo", "is not a JPEG, PNG or WebP image"));
        };
        let txn = self.db.begin_write().await?;
        q::put_photo(
            &txn,
            patient_photo::Model {
                patient_id: row.id,
                content_type: content_type.to_owned(),
                data,
                updated_at: Utc::now(),
            },
        )
        .await?;
        q::insert_timeline(&txn, vec![timeline_row(row.id, "photo", "Photo updated".into(), ctx)]).await?;
        audit::record(
            &txn,
            ctx,
            Event::new("patient.photo", "patient", Some(id.to_string())).patient(row.id),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn patient_photo(&self, ctx: &Ctx, id: PatientId) -> Result<Photo, AppError> {
        self.load_for(ctx, id, PatientAction::Read).await?;
        let photo = q::photo(self.db.reader(), id.as_uuid()).await?.ok_or(AppError::NotFound("photo"))?;
        self.reads
            .record(vec![audit::row(
                ctx,
                Event::new("patient.photo_read", "patient", Some(id.to_string())).patient(id.as_uuid()),
            )])
            .await?;
        Ok(Photo { content_type: photo.content_type, data: photo.data })
    }
}
