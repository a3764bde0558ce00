//! Encounters, vital signs and notes. An encounter is opened from an appointment or a
//! walk-in (outpatient) or as an emergency; notes are drafts until their author signs
//! them, and a signed note is final: a correction is an amendment (a new note that names
//! the one it amends and why), and the history of versions can be read.

use chrono::{DateTime, Utc};
use salus_core::clinical::{EncounterClass, EncounterStatus, NoteStatus, Vitals, VitalsText};
use salus_core::organisation::parse_optional_label;
use salus_core::{AppointmentId, EncounterId, FieldError, NoteId, PatientId, RecordId, Role, UserId};
use salus_db::clinical as q;
use salus_db::entity::{encounter, note, vital};
use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Event};
use crate::identity::{Actor, Permission};
use crate::patients::{PatientAction, actor_id, timeline_row};
use crate::{AppError, Ctx};

/// Notes are long but not unbounded: a pasted document belongs in an attachment.
/// A consultation charge's source: the visit.
pub const CONSULTATION_SOURCE: &str = "encounter";

const NOTE_SECTION_MAX: usize = 20_000;

/// An encounter with its vitals and notes.
#[derive(Debug, Clone, Serialize)]
pub struct EncounterView {
    pub encounter: salus_core::clinical::Encounter,
    pub vitals: Vec<salus_core::clinical::VitalSigns>,
    pub notes: Vec<salus_core::clinical::Note>,
}

/// A new encounter.
#[derive(Debug, Clone)]
pub struct NewEncounter {
    pub patient_id: PatientId,
    pub appointment_id: Option<AppointmentId>,
    /// "AMB" or "EMER".
    pub class: String,
    pub chief_complaint: String,
}

/// The four sections of a note.
#[derive(Debug, Clone, Default)]
pub struct Soap {
    pub subjective: String,
    pub objective: String,
    pub assessment: String,
    pub plan: String,
}

fn check_soap(s: &Soap) -> Result<[String; 4], AppError> {
    let mut errors = Vec::new();
    let mut out = [String::new(), String::new(), String::new(), String::new()];
    for (i, (field, text)) in [
        ("subjective", &s.subjective),
        ("objective", &s.objective),
        ("assessment", &s.assessment),
        ("plan", &s.plan),
    ]
    .into_iter()
    .enumerate()
    {
        if text.chars().count() > NOTE_SECTION_MAX {
            errors.push(FieldError::new(field, format!("keep it under {NOTE_SECTION_MAX} characters")));
        } else if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
            // A NUL cannot be stored in PostgreSQL's text, and no other control character
            // belongs in a note: refused by name rather than failing the write.
            errors.push(FieldError::new(field, "remove the control characters"));
        }
        out[i] = text.trim_end().to_owned();
    }
    if errors.is_empty() { Ok(out) } else { Err(AppError::Invalid(errors)) }
}

fn me(ctx: &Ctx) -> Result<UserId, AppError> {
    ctx.actor.user().map(|u| u.id).ok_or(AppError::Forbidden)
}

impl crate::Clinical<'_> {
    /// The patient's record for clinical work. Staff need `permission` and pass the
    /// restricted-record rule; a patient's own account may only read its own.
    pub(crate) async fn clinical_patient(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        permission: Permission,
    ) -> Result<salus_db::entity::patient::Model, AppError> {
        // No such record is "not found" for everyone (its id says nothing), before the
        // permission is weighed.
        if salus_db::patients::find_patient(self.db.reader(), patient.as_uuid()).await?.is_none() {
            return Err(AppError::NotFound("patient"));
        }
        let own_account = matches!(&ctx.actor, Actor::User(u) if u.roles.contains(&Role::Patient));
        if !(own_account && permission == Permission::ClinicalRead) {
            self.authorize(ctx, permission).await?;
        }
        let row = self.patients().load_for(ctx, patient, PatientAction::Read).await?;
        // A merged record is a pointer: what is written there would be lost to the chart
        // in use (its rows followed the merge; new ones would not).
        if permission != Permission::ClinicalRead && row.merged_into.is_some() {
            return Err(AppError::Conflict(
                "this record was merged into another; write in the record in use".into(),
            ));
        }
        Ok(row)
    }

    /// Whether the caller reads as the patient (signed notes only).
    pub(crate) fn reads_as_patient(ctx: &Ctx) -> bool {
        matches!(&ctx.actor, Actor::User(u) if u.roles.contains(&Role::Patient))
    }

    async fn audit_clinical_read(
        &self,
        ctx: &Ctx,
        what: &'static str,
        id: String,
        patient: uuid::Uuid,
    ) -> Result<(), AppError> {
        self.reads
            .record(vec![audit::row(ctx, Event::new("clinical.read", what, Some(id)).patient(patient))])
            .await
    }

    /// Opens an encounter: outpatient from an appointment (checked in or with the doctor)
    /// or without one, or an emergency. The signed-in doctor is its doctor.
    #[tracing::instrument(skip_all, fields(patient_id = %input.patient_id))]
    pub async fn open_encounter(
        &self,
        ctx: &Ctx,
        input: NewEncounter,
    ) -> Result<salus_core::clinical::Encounter, AppError> {
        let patient = self.clinical_patient(ctx, input.patient_id, Permission::ClinicalWrite).await?;
        let doctor = me(ctx)?;
        let class = EncounterClass::parse(&input.class, "class")?;
        if class == EncounterClass::Inpatient {
            return Err(AppError::field("class", "an inpatient stay is opened by admitting the patient"));
        }
        let complaint = parse_optional_label(&input.chief_complaint, "chief_complaint", 500)?;
        if !patient.active || patient.merged_into.is_some() {
            return Err(AppError::field("patient_id", "this record is not active"));
        }
        let txn = self.db.begin_write().await?;
        let mut department = None;
        if let Some(a) = input.appointment_id {
            let row = salus_db::scheduling::find_appointment(&txn, a.as_uuid())
                .await?
                .ok_or(AppError::NotFound("appointment"))?;
            if row.patient_id != patient.id {
                return Err(AppError::field("appointment_id", "is another patient's appointment"));
            }
            if !matches!(row.status.as_str(), "checked_in" | "in_consultation") {
                return Err(AppError::field("appointment_id", "the patient has not been checked in"));
            }
            if q::encounter_of_appointment(&txn, a.as_uuid()).await?.is_some() {
                return Err(AppError::Conflict("this appointment already has its encounter".into()));
            }
            department = row.department_id;
        }
        let now = Utc::now();
        let row = encounter::Model {
            id: EncounterId::new().as_uuid(),
            patient_id: patient.id,
            appointment_id: input.appointment_id.map(|a| a.as_uuid()),
            class,
            status: EncounterStatus::InProgress,
            doctor_id: doctor.as_uuid(),
            department_id: department,
            chief_complaint: complaint.clone(),
            started_at: now,
            ended_at: None,
            error_reason: None,
            created_by: actor_id(ctx),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        q::insert_encounter(&txn, row.clone()).await?;
        let label = if class == EncounterClass::Emergency { "Emergency visit" } else { "Visit" };
        let summary = match &complaint {
            Some(c) => format!("{label}: {c}"),
            None => label.to_owned(),
        };
        salus_db::patients::insert_timeline(&txn, vec![timeline_row(patient.id, "encounter", summary, ctx)])
            .await?;
        let event = Event::new("encounter.open", "encounter", Some(row.id.to_string()))
            .patient(patient.id)
            .detail(json!({ "class": row.class, "appointment_id": row.appointment_id }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// An encounter with its vitals and notes (a patient's own account sees signed notes only).
    pub async fn encounter(&self, ctx: &Ctx, id: EncounterId) -> Result<EncounterView, AppError> {
        let row = q::find_encounter(self.db.reader(), id.as_uuid())
            .await?
            .ok_or(AppError::NotFound("encounter"))?;
        self.clinical_patient(ctx, row.patient_id.into(), Permission::ClinicalRead).await?;
        let vitals = q::vitals_of_encounter(self.db.reader(), row.id).await?;
        let mut notes = q::notes_of_encounter(self.db.reader(), row.id).await?;
        if Self::reads_as_patient(ctx) {
            notes.retain(|n| n.status == NoteStatus::Signed);
        }
        self.audit_clinical_read(ctx, "encounter", row.id.to_string(), row.patient_id).await?;
        Ok(EncounterView {
            encounter: row.into(),
            vitals: crate::records(vitals),
            notes: crate::records(notes),
        })
    }

    /// A patient's encounters, newest first, paged by (start, id).
    pub async fn encounters(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        after: Option<(DateTime<Utc>, uuid::Uuid)>,
        limit: u64,
    ) -> Result<Vec<salus_core::clinical::Encounter>, AppError> {
        self.clinical_patient(ctx, patient, Permission::ClinicalRead).await?;
        let rows = q::encounters_of(self.db.reader(), patient.as_uuid(), after, limit.clamp(1, 200)).await?;
        let events = rows
            .iter()
            .map(|e| {
                audit::row(
                    ctx,
                    Event::new("clinical.read", "encounter", Some(e.id.to_string())).patient(e.patient_id),
                )
            })
            .collect();
        self.reads.record(events).await?;
        Ok(crate::records(rows))
    }

    /// Finishes an encounter (its doctor), or marks it entered in error with a reason.
    pub async fn close_encounter(
        &self,
        ctx: &Ctx,
        id: EncounterId,
        version: i32,
        error_reason: Option<&str>,
    ) -> Result<salus_core::clinical::Encounter, AppError> {
        let txn = self.db.begin_write().await?;
        let mut row = q::find_encounter(&txn, id.as_uuid()).await?.ok_or(AppError::NotFound("encounter"))?;
        self.clinical_patient(ctx, row.patient_id.into(), Permission::ClinicalWrite).await?;
        if row.status != EncounterStatus::InProgress && error_reason.is_none() {
            return Err(AppError::Conflict(format!(
                "the encounter is {}",
                row.status.as_str().replace('_', " ")
            )));
        }
        if row.version != version {
            return Err(crate::organisation::stale_as("encounter", row.version, &row));
        }
        let now = Utc::now();
        let action = match error_reason {
            Some(reason) => {
                let reason = parse_optional_label(reason, "reason", 300)?
                    .ok_or_else(|| AppError::field("reason", "say what was wrong"))?;
                row.status = EncounterStatus::EnteredInError;
                row.error_reason = Some(reason);
                "encounter.entered_in_error"
            }
            None => {
                if row.doctor_id != me(ctx)?.as_uuid() {
                    return Err(AppError::Conflict("only the encounter's doctor finishes it".into()));
                }
                row.status = EncounterStatus::Finished;
                row.ended_at = Some(now);
                "encounter.finish"
            }
        };
        (row.version, row.updated_at) = (version + 1, now);
        if !q::update_encounter(&txn, row.clone()).await? {
            return Err(crate::organisation::stale("encounter"));
        }
        let charged = if row.status == EncounterStatus::Finished {
            self.charge_consultation(&txn, &row, now).await?
        } else {
            // A visit entered in error charges nothing (a bill already posted is put right
            // by its credit note).
            salus_db::charges::delete_unbilled_charge(&txn, CONSULTATION_SOURCE, row.id).await?;
            None
        };
        let event = Event::new(action, "encounter", Some(id.to_string()))
            .patient(row.patient_id)
            .detail(json!({ "charged": charged }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// The doctor's fee for a finished outpatient or emergency visit: the department's
    /// consultation service, at the doctor's own fee where one is set. Returns the service
    /// charged; none if the department prices no consultation (the leak check lists the
    /// visit until it is charged or exempted). A stay's visits are billed by its bed days.
    async fn charge_consultation(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        enc: &encounter::Model,
        now: chrono::DateTime<Utc>,
    ) -> Result<Option<String>, AppError> {
        if !matches!(enc.class, EncounterClass::Outpatient | EncounterClass::Emergency) {
            return Ok(None);
        }
        let profile = salus_db::organisation::find_staff_profile(txn, enc.doctor_id).await?;
        let Some(department) = enc.department_id.or(profile.as_ref().and_then(|p| p.department_id)) else {
            return Ok(None);
        };
        let Some(service) = salus_db::organisation::consultation_service(txn, department).await? else {
            return Ok(None);
        };
        let mut charge = crate::charges::unbilled(
            &service,
            enc.patient_id,
            &service.name,
            (CONSULTATION_SOURCE, enc.id),
            enc.doctor_id,
            now,
        );
        if let Some(fee) = profile.and_then(|p| p.consultation_fee_minor) {
            charge.unit_price_minor = fee;
        }
        salus_db::charges::insert_charges(txn, vec![charge]).await?;
        Ok(Some(service.code))
    }

    /// Records vital signs in an encounter still in progress.
    #[tracing::instrument(skip_all, fields(encounter_id = %id))]
    pub async fn record_vitals(
        &self,
        ctx: &Ctx,
        id: EncounterId,
        text: &VitalsText,
    ) -> Result<salus_core::clinical::VitalSigns, AppError> {
        let enc = q::find_encounter(self.db.reader(), id.as_uuid())
            .await?
            .ok_or(AppError::NotFound("encounter"))?;
        self.clinical_patient(ctx, enc.patient_id.into(), Permission::VitalsRecord).await?;
        if enc.status != EncounterStatus::InProgress {
            return Err(AppError::Conflict("vitals are recorded in an encounter in progress".into()));
        }
        let v = Vitals::check(text).map_err(AppError::Invalid)?;
        let row = vital::Model {
            id: RecordId::new().as_uuid(),
            encounter_id: Some(enc.id),
            patient_id: enc.patient_id,
            recorded_at: Utc::now(),
            recorded_by: actor_id(ctx),
            temperature_dc: v.temperature_dc,
            pulse_bpm: v.pulse_bpm,
            systolic: v.systolic,
            diastolic: v.diastolic,
            respiratory_rate: v.respiratory_rate,
            spo2: v.spo2,
            weight_g: v.weight_g,
            height_mm: v.height_mm,
            bmi_x10: v.bmi_x10,
            error_reason: None,
        };
        let txn = self.db.begin_write().await?;
        q::insert_vitals(&txn, row.clone()).await?;
        let mut parts = Vec::new();
        if let Some(t) = v.temperature_dc {
            parts.push(format!("T {}.{} °C", t / 10, t % 10));
        }
        if let (Some(s), Some(d)) = (v.systolic, v.diastolic) {
            parts.push(format!("BP {s}/{d}"));
        }
        if let Some(p) = v.pulse_bpm {
            parts.push(format!("P {p}"));
        }
        if let Some(o) = v.spo2 {
            parts.push(format!("SpO2 {o}%"));
        }
        let summary =
            format!("Vitals: {}", if parts.is_empty() { "recorded".to_owned() } else { parts.join(", ") });
        salus_db::patients::insert_timeline(&txn, vec![timeline_row(enc.patient_id, "vitals", summary, ctx)])
            .await?;
        let event = Event::new("vitals.record", "vitals", Some(row.id.to_string())).patient(enc.patient_id);
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// A patient's latest vital signs (for the chart's trends), newest first.
    pub async fn vitals(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        limit: u64,
    ) -> Result<Vec<salus_core::clinical::VitalSigns>, AppError> {
        self.clinical_patient(ctx, patient, Permission::ClinicalRead).await?;
        let rows = q::vitals_of(self.db.reader(), patient.as_uuid(), limit.clamp(1, 500)).await?;
        self.audit_clinical_read(ctx, "vitals", patient.to_string(), patient.as_uuid()).await?;
        Ok(crate::records(rows))
    }

    /// Starts a note (a draft) in an encounter, empty, from a template, or with text.
    #[tracing::instrument(skip_all, fields(encounter_id = %id))]
    pub async fn start_note(
        &self,
        ctx: &Ctx,
        id: EncounterId,
        template: Option<uuid::Uuid>,
        soap: Soap,
    ) -> Result<salus_core::clinical::Note, AppError> {
        let enc = q::find_encounter(self.db.reader(), id.as_uuid())
            .await?
            .ok_or(AppError::NotFound("encounter"))?;
        self.clinical_patient(ctx, enc.patient_id.into(), Permission::ClinicalWrite).await?;
        if enc.status == EncounterStatus::EnteredInError {
            return Err(AppError::Conflict("the encounter was entered in error".into()));
        }
        let soap = match template {
            Some(t) => {
                let t = q::find_note_template(self.db.reader(), t)
                    .await?
                    .filter(|t| t.active)
                    .ok_or_else(|| AppError::field("template_id", "there is no such template"))?;
                Soap {
                    subjective: t.subjective,
                    objective: t.objective,
                    assessment: t.assessment,
                    plan: t.plan,
                }
            }
            None => soap,
        };
        let [s, o, a, p] = check_soap(&soap)?;
        let now = Utc::now();
        let row = note::Model {
            id: NoteId::new().as_uuid(),
            encounter_id: enc.id,
            patient_id: enc.patient_id,
            author_id: me(ctx)?.as_uuid(),
            status: NoteStatus::Draft,
            amends: None,
            amend_reason: None,
            subjective: s,
            objective: o,
            assessment: a,
            plan: p,
            signed_at: None,
            error_reason: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let txn = self.db.begin_write().await?;
        q::insert_note(&txn, row.clone()).await?;
        audit::record(
            &txn,
            ctx,
            Event::new("note.create", "note", Some(row.id.to_string())).patient(row.patient_id),
        )
        .await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Saves a draft's text (its author, from the version seen).
    pub async fn save_note(
        &self,
        ctx: &Ctx,
        id: NoteId,
        version: i32,
        soap: Soap,
    ) -> Result<salus_core::clinical::Note, AppError> {
        let row = q::find_note(self.db.reader(), id.as_uuid()).await?.ok_or(AppError::NotFound("note"))?;
        self.clinical_patient(ctx, row.patient_id.into(), Permission::ClinicalWrite).await?;
        self.check_draft(ctx, &row, version)?;
        let [s, o, a, p] = check_soap(&soap)?;
        let txn = self.db.begin_write().await?;
        if !q::save_draft(&txn, row.id, row.author_id, version, [&s, &o, &a, &p], Utc::now()).await? {
            return Err(crate::organisation::stale("note"));
        }
        audit::record(
            &txn,
            ctx,
            Event::new("note.save", "note", Some(id.to_string())).patient(row.patient_id),
        )
        .await?;
        let saved = q::find_note(&txn, row.id).await?.ok_or(AppError::NotFound("note"))?;
        txn.commit().await?;
        Ok(saved.into())
    }

    fn check_draft(&self, ctx: &Ctx, row: &note::Model, version: i32) -> Result<(), AppError> {
        if row.author_id != me(ctx)?.as_uuid() {
            return Err(AppError::Conflict(
                "this is another doctor's note; only its author may change or sign it".into(),
            ));
        }
        if row.status != NoteStatus::Draft {
            return Err(AppError::Conflict("a signed note is final; amend it instead".into()));
        }
        if row.version != version {
            return Err(crate::organisation::stale_as("note", row.version, &row));
        }
        Ok(())
    }

    /// Signs a draft: from now on it is never changed.
    pub async fn sign_note(
        &self,
        ctx: &Ctx,
        id: NoteId,
        version: i32,
    ) -> Result<salus_core::clinical::Note, AppError> {
        let row = q::find_note(self.db.reader(), id.as_uuid()).await?.ok_or(AppError::NotFound("note"))?;
        self.clinical_patient(ctx, row.patient_id.into(), Permission::ClinicalWrite).await?;
        self.check_draft(ctx, &row, version)?;
        if [&row.subjective, &row.objective, &row.assessment, &row.plan].iter().all(|t| t.trim().is_empty()) {
            return Err(AppError::field("assessment", "an empty note cannot be signed"));
        }
        let txn = self.db.begin_write().await?;
        if !q::sign_note(&txn, row.id, row.author_id, version, Utc::now()).await? {
            return Err(crate::organisation::stale("note"));
        }
        let summary = if row.amends.is_some() { "Note amended and signed" } else { "Note signed" };
        salus_db::patients::insert_timeline(
            &txn,
            vec![timeline_row(row.patient_id, "note", summary.into(), ctx)],
        )
        .await?;
        audit::record(
            &txn,
            ctx,
            Event::new("note.sign", "note", Some(id.to_string())).patient(row.patient_id),
        )
        .await?;
        let signed = q::find_note(&txn, row.id).await?.ok_or(AppError::NotFound("note"))?;
        txn.commit().await?;
        Ok(signed.into())
    }

    /// Starts an amendment of a signed note: a new draft naming the note and the reason,
    /// starting from its text. The note amended stays as it was.
    pub async fn amend_note(
        &self,
        ctx: &Ctx,
        id: NoteId,
        reason: &str,
        soap: Option<Soap>,
    ) -> Result<salus_core::clinical::Note, AppError> {
        let old = q::find_note(self.db.reader(), id.as_uuid()).await?.ok_or(AppError::NotFound("note"))?;
        self.clinical_patient(ctx, old.patient_id.into(), Permission::ClinicalWrite).await?;
        let reason = parse_optional_label(reason, "reason", 500)?
            .ok_or_else(|| AppError::field("reason", "say why the note is amended"))?;
        if old.status != NoteStatus::Signed {
            return Err(AppError::Conflict(
                "only a signed note is amended (a draft is simply edited)".into(),
            ));
        }
        let soap = soap.unwrap_or(Soap {
            subjective: old.subjective.clone(),
            objective: old.objective.clone(),
            assessment: old.assessment.clone(),
            plan: old.plan.clone(),
        });
        let [s, o, a, p] = check_soap(&soap)?;
        let now = Utc::now();
        let row = note::Model {
            id: NoteId::new().as_uuid(),
            encounter_id: old.encounter_id,
            patient_id: old.patient_id,
            author_id: me(ctx)?.as_uuid(),
            status: NoteStatus::Draft,
            amends: Some(old.id),
            amend_reason: Some(reason.clone()),
            subjective: s,
            objective: o,
            assessment: a,
            plan: p,
            signed_at: None,
            error_reason: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let txn = self.db.begin_write().await?;
        q::insert_note(&txn, row.clone()).await?;
        let event = Event::new("note.amend", "note", Some(row.id.to_string()))
            .patient(row.patient_id)
            .detail(json!({ "amends": old.id, "reason": reason }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// A note and every version around it: what it amends, back to the first, and what
    /// amends it, oldest first.
    pub async fn note_history(
        &self,
        ctx: &Ctx,
        id: NoteId,
    ) -> Result<Vec<salus_core::clinical::Note>, AppError> {
        let row = q::find_note(self.db.reader(), id.as_uuid()).await?.ok_or(AppError::NotFound("note"))?;
        self.clinical_patient(ctx, row.patient_id.into(), Permission::ClinicalRead).await?;
        let mut chain = vec![row.clone()];
        let mut cursor = row.amends;
        while let Some(prev) = cursor {
            let Some(n) = q::find_note(self.db.reader(), prev).await? else { break };
            cursor = n.amends;
            chain.insert(0, n);
        }
        let mut next = vec![row.id];
        while let Some(current) = next.pop() {
            for n in q::amendments_of(self.db.reader(), current).await? {
                next.push(n.id);
                chain.push(n);
            }
        }
        if Self::reads_as_patient(ctx) {
            chain.retain(|n| n.status == NoteStatus::Signed);
        }
        self.audit_clinical_read(ctx, "note", id.to_string(), row.patient_id).await?;
        Ok(crate::records(chain))
    }

    /// Marks a note entered in error (its text stays readable), with the reason.
    pub async fn note_in_error(&self, ctx: &Ctx, id: NoteId, reason: &str) -> Result<(), AppError> {
        let row = q::find_note(self.db.reader(), id.as_uuid()).await?.ok_or(AppError::NotFound("note"))?;
        self.clinical_patient(ctx, row.patient_id.into(), Permission::ClinicalWrite).await?;
        let reason = parse_optional_label(reason, "reason", 300)?
            .ok_or_else(|| AppError::field("reason", "say what was wrong"))?;
        let txn = self.db.begin_write().await?;
        if !q::note_in_error(&txn, row.id, &reason, Utc::now()).await? {
            return Err(AppError::Conflict("the note is already marked entered in error".into()));
        }
        let event = Event::new("note.entered_in_error", "note", Some(id.to_string()))
            .patient(row.patient_id)
            .reason(reason);
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(())
    }
}

impl crate::Clinical<'_> {
    /// Note templates (doctors pick one when starting a note).
    pub async fn note_templates(
        &self,
        ctx: &Ctx,
    ) -> Result<Vec<salus_core::clinical::NoteTemplate>, AppError> {
        self.authorize(ctx, Permission::OrganisationRead).await?;
        Ok(crate::records(q::note_templates(self.db.reader()).await?))
    }

    /// Adds (`id` none) or replaces a note template, for one department or all.
    pub async fn save_note_template(
        &self,
        ctx: &Ctx,
        id: Option<uuid::Uuid>,
        department: Option<salus_core::DepartmentId>,
        name: &str,
        soap: Soap,
        active: bool,
    ) -> Result<salus_core::clinical::NoteTemplate, AppError> {
        self.authorize(ctx, Permission::OrganisationManage).await?;
        let name = salus_core::organisation::parse_label(name, "name", 200)?;
        let [s, o, a, p] = check_soap(&soap)?;
        if let Some(d) = department
            && salus_db::organisation::find_department(self.db.reader(), d.as_uuid()).await?.is_none()
        {
            return Err(AppError::field("department_id", "there is no such department"));
        }
        let txn = self.db.begin_write().await?;
        if let Some(existing) = id
            && q::find_note_template(&txn, existing).await?.is_none()
        {
            return Err(AppError::NotFound("note template"));
        }
        let row = salus_db::entity::note_template::Model {
            id: id.unwrap_or_else(uuid::Uuid::now_v7),
            department_id: department.map(|d| d.as_uuid()),
            name,
            subjective: s,
            objective: o,
            assessment: a,
            plan: p,
            active,
            updated_at: Utc::now(),
        };
        q::put_note_template(&txn, row.clone()).await?;
        let event = Event::new("note_template.save", "note_template", Some(row.id.to_string()))
            .detail(json!({ "name": row.name }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }
}
