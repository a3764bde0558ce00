//! Referrals (to a department or a doctor, routine or urgent) and attachments. An
//! attachment is checked by its bytes, not its name — PDF, JPEG, PNG or WebP — and by
//! size, then stored once under its SHA-256 in the file store (a folder, or an
//! S3-compatible bucket: see `files`); the row says whose record it belongs to, and every
//! download is audited.

use chrono::Utc;
use salus_core::clinical::{ReferralStatus, Urgency};
use salus_core::organisation::parse_optional_label;
use salus_core::{DepartmentId, EncounterId, FieldError, PatientId, RecordId, UserId};
use salus_db::clinical as q;
use salus_db::entity::{attachment, referral};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::patients::{actor_id, timeline_row};
use crate::{AppError, Ctx};

/// The largest attachment taken (the server's body limit must allow it too).
pub const MAX_ATTACHMENT_BYTES: usize = 3 * 1024 * 1024 + 512 * 1024;

/// The type of a file by its first bytes: the kinds a record keeps.
pub fn sniff_document(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        crate::patients::chart::sniff_image(data)
    }
}

/// A referral to write.
#[derive(Debug, Clone, Default)]
pub struct NewReferral {
    pub encounter_id: Option<EncounterId>,
    pub to_department: Option<DepartmentId>,
    pub to_doctor: Option<UserId>,
    pub reason: String,
    /// routine or urgent.
    pub urgency: String,
}

impl crate::Clinical<'_> {
    /// Refers the patient to a department or a doctor (doctors).
    pub async fn refer(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        input: NewReferral,
    ) -> Result<salus_core::clinical::Referral, AppError> {
        self.clinical_patient(ctx, patient, Permission::ClinicalWrite).await?;
        let mut errors = Vec::new();
        let reason =
            parse_optional_label(&input.reason, "reason", 1000).map_err(|e| errors.push(e)).ok().flatten();
        if reason.is_none() && errors.is_empty() {
            errors.push(FieldError::new("reason", "say why the patient is referred"));
        }
        let urgency = match input.urgency.trim() {
            "" => Some(Urgency::Routine),
            text => Urgency::parse(text, "urgency").map_err(|e| errors.push(e)).ok(),
        };
        if input.to_department.is_none() && input.to_doctor.is_none() {
            errors.push(FieldError::new("to_department_id", "refer to a department or a doctor"));
        }
        if let Some(d) = input.to_department
            && salus_db::organisation::find_department(self.db.reader(), d.as_uuid())
                .await?
                .is_none_or(|d| !d.active)
        {
            errors.push(FieldError::new("to_department_id", "choose a department in use"));
        }
        if let Some(d) = input.to_doctor
            && !self.scheduling().is_active_doctor(self.db.reader(), d).await?
        {
            errors.push(FieldError::new("to_doctor_id", "choose an active doctor"));
        }
        if let Some(e) = input.encounter_id
            && q::find_encounter(self.db.reader(), e.as_uuid())
                .await?
                .is_none_or(|enc| enc.patient_id != patient.as_uuid())
        {
            errors.push(FieldError::new("encounter_id", "is not an encounter of this patient"));
        }
        let (Some(reason), Some(urgency)) = (reason.filter(|_| errors.is_empty()), urgency) else {
            return Err(AppError::Invalid(errors));
        };
        let now = Utc::now();
        let row = referral::Model {
            id: RecordId::new().as_uuid(),
            patient_id: patient.as_uuid(),
            encounter_id: input.encounter_id.map(|e| e.as_uuid()),
            from_doctor_id: ctx.actor.user().map(|u| u.id.as_uuid()).ok_or(AppError::Forbidden)?,
            to_department_id: input.to_department.map(|d| d.as_uuid()),
            to_doctor_id: input.to_doctor.map(|d| d.as_uuid()),
            reason,
            urgency,
            status: ReferralStatus::Open,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let txn = self.db.begin_write().await?;
        q::insert_referral(&txn, row.clone()).await?;
        let summary =
            format!("Referred ({}): {}", row.urgency, row.reason.chars().take(120).collect::<String>());
        salus_db::patients::insert_timeline(
            &txn,
            vec![timeline_row(row.patient_id, "referral", summary, ctx)],
        )
        .await?;
        audit::record(
            &txn,
            ctx,
            Event::new("referral.create", "referral", Some(row.id.to_string())).patient(row.patient_id),
        )
        .await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Moves a referral: open → accepted → completed, or cancelled while not completed.
    pub async fn change_referral(
        &self,
        ctx: &Ctx,
        id: RecordId,
        version: i32,
        to: &str,
    ) -> Result<salus_core::clinical::Referral, AppError> {
        let txn = self.db.begin_write().await?;
        let mut row = q::find_referral(&txn, id.as_uuid()).await?.ok_or(AppError::NotFound("referral"))?;
        self.clinical_patient(ctx, row.patient_id.into(), Permission::ClinicalWrite).await?;
        let to = ReferralStatus::parse(to, "status")?;
        if !row.status.may_become(to) {
            return Err(AppError::Conflict(format!("a referral that is {} cannot become {to}", row.status)));
        }
        if row.version != version {
            return Err(crate::organisation::stale_as("referral", row.version, &row));
        }
        row.status = to;
        (row.version, row.updated_at) = (version + 1, Utc::now());
        if !q::update_referral(&txn, row.clone()).await? {
            return Err(crate::organisation::stale("referral"));
        }
        let event = Event::new("referral.status", "referral", Some(id.to_string()))
            .patient(row.patient_id)
            .detail(json!({ "to": to }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    pub async fn referrals(
        &self,
        ctx: &Ctx,
        patient: PatientId,
    ) -> Result<Vec<salus_core::clinical::Referral>, AppError> {
        self.clinical_patient(ctx, patient, Permission::ClinicalRead).await?;
        let rows = q::referrals_of(self.db.reader(), patient.as_uuid()).await?;
        let event =
            Event::new("clinical.read", "referrals", Some(patient.to_string())).patient(patient.as_uuid());
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        Ok(crate::records(rows))
    }

    /// Stores a file in the record (doctors and nurses): its type told by its bytes.
    #[tracing::instrument(skip_all, fields(patient_id = %patient))]
    pub async fn attach(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        encounter: Option<EncounterId>,
        filename: &str,
        data: &[u8],
    ) -> Result<salus_core::clinical::Attachment, AppError> {
        self.clinical_patient(ctx, patient, Permission::VitalsRecord).await?;
        let row = self.store_attachment(ctx, patient, encounter, filename, data).await?;
        let txn = self.db.begin_write().await?;
        q::insert_attachment(&txn, row.clone()).await?;
        let summary = format!("Attachment: {}", row.filename);
        salus_db::patients::insert_timeline(
            &txn,
            vec![timeline_row(row.patient_id, "attachment", summary, ctx)],
        )
        .await?;
        audit::record(
            &txn,
            ctx,
            Event::new("attachment.add", "attachment", Some(row.id.to_string())).patient(row.patient_id),
        )
        .await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Checks a file (kind by its bytes, size, name) and the encounter it belongs to,
    /// stores its bytes, and returns the row to insert — in the caller's transaction, with
    /// whatever else that use case writes (the clinical record's attachment, an imaging
    /// study's image). The caller has checked the permission.
    pub(crate) async fn store_attachment(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        encounter: Option<EncounterId>,
        filename: &str,
        data: &[u8],
    ) -> Result<attachment::Model, AppError> {
        if data.is_empty() {
            return Err(AppError::field("file", "the file is empty"));
        }
        if data.len() > MAX_ATTACHMENT_BYTES {
            return Err(AppError::field(
                "file",
                format!("the file is larger than {} MiB", MAX_ATTACHMENT_BYTES / (1024 * 1024)),
            ));
        }
        let Some(content_type) = sniff_document(data) else {
            return Err(AppError::field("file", "only PDF, JPEG, PNG and WebP files are kept"));
        };
        let name: String = std::path::Path::new(filename.trim())
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("attachment")
            .chars()
            .filter(|c| !c.is_control())
            .take(255)
            .collect();
        let name = if name.is_empty() { "attachment".to_owned() } else { name };
        if let Some(e) = encounter
            && q::find_encounter(self.db.reader(), e.as_uuid())
                .await?
                .is_none_or(|enc| enc.patient_id != patient.as_uuid())
        {
            return Err(AppError::field("encounter_id", "is not an encounter of this patient"));
        }
        let sha256: String = Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect();
        self.files.put(&sha256, data).await?;
        let row = attachment::Model {
            id: RecordId::new().as_uuid(),
            patient_id: patient.as_uuid(),
            encounter_id: encounter.map(|e| e.as_uuid()),
            filename: name,
            content_type: content_type.into(),
            size_bytes: i64::try_from(data.len()).unwrap_or(i64::MAX),
            sha256,
            uploaded_by: actor_id(ctx),
            uploaded_at: Utc::now(),
            error_reason: None,
        };
        Ok(row)
    }

    pub async fn attachments(
        &self,
        ctx: &Ctx,
        patient: PatientId,
    ) -> Result<Vec<salus_core::clinical::Attachment>, AppError> {
        self.clinical_patient(ctx, patient, Permission::ClinicalRead).await?;
        let rows = q::attachments_of(self.db.reader(), patient.as_uuid()).await?;
        let event =
            Event::new("clinical.read", "attachments", Some(patient.to_string())).patient(patient.as_uuid());
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        Ok(crate::records(rows))
    }

    /// An attachment's description and bytes, for a permitted reader (audited).
    pub async fn attachment(
        &self,
        ctx: &Ctx,
        id: RecordId,
    ) -> Result<(salus_core::clinical::Attachment, Vec<u8>), AppError> {
        let row = q::find_attachment(self.db.reader(), id.as_uuid())
            .await?
            .ok_or(AppError::NotFound("attachment"))?;
        self.clinical_patient(ctx, row.patient_id.into(), Permission::ClinicalRead).await?;
        let bytes = self.files.get(&row.sha256).await?;
        let event = Event::new("attachment.read", "attachment", Some(id.to_string())).patient(row.patient_id);
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        Ok((row.into(), bytes))
    }
}
