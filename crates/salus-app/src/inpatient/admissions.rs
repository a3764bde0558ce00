//! Admissions: a doctor's request from the encounter, the desk's queue, admitting into a
//! bed (the bed and the stay decided by the database's unique indexes, so two desks racing
//! for one bed get one winner and the loser is offered the free beds of its type), moving
//! to another bed and leaving — each one transaction: the old bed is freed in the one that
//! fills the new, and a bed a patient left goes to cleaning, never straight to free.

use chrono::{Datelike, NaiveDate, Utc};
use salus_core::clinical::{EncounterClass, EncounterStatus};
use salus_core::inpatient::{
    Admission, AdmissionRequest, AdmissionStatus, BedAssignment, BedState, BedType, RequestStatus,
};
use salus_core::organisation::{parse_label, parse_optional_label};
use salus_core::{FieldError, PatientId, Role};
use salus_db::ResultExt;
use salus_db::entity::{admission, admission_request, bed, bed_assignment, encounter};
use salus_db::inpatient as q;
use serde_json::json;
use uuid::Uuid;

use super::me;
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::laboratory::LabPatient;
use crate::patients::{PatientAction, timeline_row};
use crate::{AppError, Ctx};

/// A doctor's request to admit.
#[derive(Debug, Clone, Default)]
pub struct RequestInput {
    pub encounter_id: Option<Uuid>,
    pub reason: String,
    pub ward_id: Option<Uuid>,
    pub bed_type: Option<BedType>,
    pub expected_days: Option<i32>,
    /// For a planned admission: the day the bed is wanted.
    pub expected_on: Option<NaiveDate>,
}

/// Admitting a patient into a bed.
#[derive(Debug, Clone)]
pub struct AdmitInput {
    pub patient_id: PatientId,
    /// The request admitted on (none: admitted directly, e.g. from the emergency room).
    pub request_id: Option<Uuid>,
    pub bed_id: Uuid,
    pub attending_id: Uuid,
    pub diagnosis: String,
    /// Shares an occupied bed without taking it (a baby with its mother).
    pub companion: bool,
}

/// A stay with its patient and where they lay.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Stay {
    pub admission: Admission,
    pub patient: LabPatient,
    pub beds: Vec<BedAssignment>,
}

/// A waiting request with its patient.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Waiting {
    pub request: AdmissionRequest,
    pub patient: LabPatient,
}

impl crate::Inpatient<'_> {
    /// A doctor asks for a patient's admission (from their encounter, or directly).
    pub async fn request_admission(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        input: RequestInput,
    ) -> Result<AdmissionRequest, AppError> {
        self.authorize(ctx, Permission::InpatientOrder).await?;
        let p = self.patients().load_for(ctx, patient, PatientAction::Read).await?;
        if !p.active || p.merged_into.is_some() {
            return Err(AppError::field("patient_id", "this record is not active"));
        }
        let conn = self.db.reader();
        let mut errors = Vec::new();
        let reason =
            parse_label(&input.reason, "reason", 500).map_err(|e| errors.push(e)).unwrap_or_default();
        if let Some(e) = input.encounter_id {
            match salus_db::clinical::find_encounter(conn, e).await? {
                Some(row) if row.patient_id == p.id => {}
                Some(_) => errors.push(FieldError::new("encounter_id", "is another patient's encounter")),
                None => errors.push(FieldError::new("encounter_id", "choose an encounter on file")),
            }
        }
        if let Some(w) = input.ward_id
            && q::find_ward(conn, w).await?.filter(|w| w.active).is_none()
        {
            errors.push(FieldError::new("ward_id", "choose an active ward"));
        }
        if input.expected_days.is_some_and(|d| !(1..=365).contains(&d)) {
            errors.push(FieldError::new("expected_days", "between 1 and 365 days"));
        }
        if input.expected_on.is_some_and(|d| d < crate::scheduling::local_now(self.time_zone).0) {
            errors.push(FieldError::new("expected_on", "today or later"));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        if let Some(stay) = q::stay_of(conn, p.id).await? {
            return Err(AppError::Conflict(format!("the patient is already admitted ({})", stay.number)));
        }
        if !q::waiting_requests_of(conn, p.id).await?.is_empty() {
            return Err(AppError::Conflict(
                "a request to admit this patient is already waiting at the desk".into(),
            ));
        }
        let now = Utc::now();
        let row = admission_request::Model {
            id: Uuid::now_v7(),
            patient_id: p.id,
            encounter_id: input.encounter_id,
            requested_by: me(ctx)?,
            reason,
            ward_id: input.ward_id,
            bed_type: input.bed_type,
            expected_days: input.expected_days,
            expected_on: input.expected_on,
            status: RequestStatus::Requested,
            cancel_reason: None,
            admission_id: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let txn = self.db.begin_write().await?;
        q::insert_request(&txn, row.clone()).await?;
        salus_db::patients::insert_timeline(
            &txn,
            vec![timeline_row(p.id, "admission", format!("Admission requested: {}", row.reason), ctx)],
        )
        .await?;
        let event = Event::new("inpatient.request", "admission_request", Some(row.id.to_string()))
            .patient(p.id)
            .detail(json!({ "reason": row.reason, "ward_id": row.ward_id, "bed_type": row.bed_type }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Withdraws a waiting request, with a reason (its doctor or the desk); a bed held
    /// for it is released.
    pub async fn cancel_request(
        &self,
        ctx: &Ctx,
        id: Uuid,
        reason: &str,
    ) -> Result<AdmissionRequest, AppError> {
        let may = ctx.actor.require(Permission::InpatientOrder).is_ok()
            || ctx.actor.require(Permission::InpatientAdmit).is_ok();
        if !may {
            self.authorize(ctx, Permission::InpatientAdmit).await?;
        }
        let reason = parse_optional_label(reason, "reason", 300)?
            .ok_or_else(|| AppError::field("reason", "say why the admission is not going ahead"))?;
        let conn = self.db.reader();
        let r = q::find_request(conn, id).await?.ok_or(AppError::NotFound("admission request"))?;
        self.patients().load_for(ctx, r.patient_id.into(), PatientAction::Read).await?;
        let held: Vec<bed::Model> = q::beds(conn, None)
            .await?
            .into_iter()
            .filter(|b| b.reserved_for == Some(id) && b.state == BedState::Reserved)
            .collect();
        let txn = self.db.begin_write().await?;
        if !q::close_request(&txn, id, RequestStatus::Cancelled, None, Some(&reason)).await? {
            return Err(AppError::Conflict("the request is no longer waiting".into()));
        }
        for b in &held {
            q::move_bed(&txn, b.id, &[BedState::Reserved], BedState::Available, None, None).await?;
        }
        let event = Event::new("inpatient.request_cancel", "admission_request", Some(id.to_string()))
            .patient(r.patient_id)
            .detail(json!({ "reason": reason, "released": held.iter().map(|b| b.label.clone()).collect::<Vec<_>>() }));
        audit::record(&txn, ctx, event).await?;
        let row = q::find_request(&txn, id).await?.ok_or(AppError::NotFound("admission request"))?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// The admission desk's queue: waiting requests, oldest first, each an audited read.
    pub async fn waiting(&self, ctx: &Ctx) -> Result<Vec<Waiting>, AppError> {
        self.authorize(ctx, Permission::InpatientRead).await?;
        let conn = self.db.reader();
        let rows = q::waiting_requests(conn, 200).await?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.patient_id).collect();
        let patients =
            if ids.is_empty() { Vec::new() } else { salus_db::patients::find_patients(conn, &ids).await? };
        let out: Vec<Waiting> = rows
            .into_iter()
            .filter_map(|r| {
                let p = patients.iter().find(|p| p.id == r.patient_id)?;
                Some(Waiting { patient: LabPatient::from(p), request: r.into() })
            })
            .collect();
        let events: Vec<_> = out
            .iter()
            .map(|w| {
                audit::row(
                    ctx,
                    Event::new("inpatient.read", "admission_request", Some(w.request.id.to_string()))
                        .patient(w.patient.id),
                )
            })
            .collect();
        if !events.is_empty() {
            self.reads.record(events).await?;
        }
        Ok(out)
    }

    /// Admits a patient into a bed: the stay, its inpatient encounter and the bed
    /// assignment in one transaction. The bed must be free (or held for this request); a
    /// companion joins an occupied bed. Losing the bed to another desk is 409 with the
    /// free beds of its type.
    pub async fn admit(&self, ctx: &Ctx, input: AdmitInput) -> Result<Stay, AppError> {
        self.authorize(ctx, Permission::InpatientAdmit).await?;
        let p = self.patients().load_for(ctx, input.patient_id, PatientAction::Read).await?;
        if !p.active || p.merged_into.is_some() {
            return Err(AppError::field("patient_id", "this record is not active"));
        }
        let conn = self.db.reader();
        let mut errors = Vec::new();
        let diagnosis =
            parse_label(&input.diagnosis, "diagnosis", 300).map_err(|e| errors.push(e)).unwrap_or_default();
        let request = match input.request_id {
            Some(r) => match q::find_request(conn, r).await? {
                Some(r) if r.patient_id != p.id => {
                    errors.push(FieldError::new("request_id", "is another patient's request"));
                    None
                }
                Some(r) if r.status != RequestStatus::Requested => {
                    errors
                        .push(FieldError::new("request_id", format!("the request is {}", r.status.words())));
                    None
                }
                Some(r) => Some(r),
                None => {
                    errors.push(FieldError::new("request_id", "choose a request on file"));
                    None
                }
            },
            None => None,
        };
        match salus_db::identity::find_user(conn, input.attending_id).await? {
            Some(u) if u.user.active && u.roles.iter().any(|r| r == Role::Doctor.as_str()) => {}
            _ => errors.push(FieldError::new("attending_id", "choose an active doctor")),
        }
        let b = q::find_bed(conn, input.bed_id).await?.filter(|b| b.active);
        if b.is_none() {
            errors.push(FieldError::new("bed_id", "choose a bed of a ward"));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let b = b.ok_or(AppError::NotFound("bed"))?;
        let held_for_this =
            b.state == BedState::Reserved && b.reserved_for.is_some() && b.reserved_for == input.request_id;
        if input.companion {
            if b.state != BedState::Occupied {
                return Err(AppError::field(
                    "bed_id",
                    format!("bed {} has nobody in it to accompany", b.label),
                ));
            }
        } else if !(b.state == BedState::Available || held_for_this) {
            return Err(self.bed_taken(&b).await?);
        }
        if let Some(stay) = q::stay_of(conn, p.id).await? {
            return Err(AppError::Conflict(format!("the patient is already admitted ({})", stay.number)));
        }

        let txn = self.db.begin_write().await?;
        let now = Utc::now();
        let by = me(ctx)?;
        let n = salus_db::laboratory::next_accession(&txn, &format!("IP{}", now.year())).await?;
        let enc = encounter::Model {
            id: salus_core::EncounterId::new().as_uuid(),
            patient_id: p.id,
            appointment_id: None,
            class: EncounterClass::Inpatient,
            status: EncounterStatus::InProgress,
            doctor_id: input.attending_id,
            department_id: None,
            chief_complaint: Some(diagnosis.clone()),
            started_at: now,
            ended_at: None,
            error_reason: None,
            created_by: Some(by),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        salus_db::clinical::insert_encounter(&txn, enc.clone()).await?;
        let stay = admission::Model {
            id: Uuid::now_v7(),
            number: salus_core::pharmacy::document_number("IP", now.year(), n),
            patient_id: p.id,
            request_id: request.as_ref().map(|r| r.id),
            encounter_id: enc.id,
            attending_id: input.attending_id,
            diagnosis: diagnosis.clone(),
            ward_id: b.ward_id,
            bed_id: b.id,
            status: AdmissionStatus::Admitted,
            admitted_by: by,
            admitted_at: now,
            discharge_ordered_by: None,
            discharge_ordered_at: None,
            discharged_by: None,
            discharged_at: None,
            disposition: None,
            version: 1,
            updated_at: now,
        };
        q::insert_admission(&txn, stay.clone()).await.on_unique(
            "admissions_in_house_key",
            "admissions.patient_id",
            || AppError::Conflict("the patient was just admitted by someone else".into()),
        )?;
        let assignment = bed_assignment::Model {
            id: Uuid::now_v7(),
            admission_id: stay.id,
            patient_id: p.id,
            bed_id: b.id,
            ward_id: b.ward_id,
            companion: input.companion,
            started_at: now,
            started_by: by,
            ended_at: None,
            ended_by: None,
            reason: "admit".into(),
        };
        let placed = q::insert_assignment(&txn, assignment.clone()).await;
        if placed.as_ref().is_err_and(|e| {
            salus_db::error::is_unique_violation(e, "bed_assignments_bed_key", "bed_assignments.bed_id")
        }) {
            drop(txn);
            return Err(self.bed_taken(&b).await?);
        }
        placed?;
        if !input.companion {
            let from: &[BedState] =
                if held_for_this { &[BedState::Reserved] } else { &[BedState::Available] };
            if !q::move_bed(&txn, b.id, from, BedState::Occupied, None, None).await? {
                drop(txn);
                return Err(self.bed_taken(&b).await?);
            }
        }
        if let Some(r) = &request
            && !q::close_request(&txn, r.id, RequestStatus::Admitted, Some(stay.id), None).await?
        {
            return Err(AppError::Conflict("the request was admitted or cancelled meanwhile".into()));
        }
        let ward = q::find_ward(&txn, b.ward_id).await?.map(|w| w.name).unwrap_or_default();
        salus_db::patients::insert_timeline(
            &txn,
            vec![timeline_row(
                p.id,
                "admission",
                format!("Admitted to {ward}, bed {} ({})", b.label, stay.number),
                ctx,
            )],
        )
        .await?;
        let event = Event::new("inpatient.admit", "admission", Some(stay.id.to_string()))
            .patient(p.id)
            .detail(json!({
                "number": stay.number, "bed": b.label, "ward": ward, "attending_id": stay.attending_id,
                "diagnosis": stay.diagnosis, "request_id": stay.request_id, "companion": input.companion,
            }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(Stay { admission: stay.into(), patient: LabPatient::from(&p), beds: vec![assignment.into()] })
    }

    /// The refusal of a bed someone else has: 409 with the free beds of its type.
    async fn bed_taken(&self, b: &bed::Model) -> Result<AppError, AppError> {
        let free = q::free_beds(self.db.reader(), Some(b.bed_type), None, 20).await?;
        Ok(AppError::BedTaken { bed: b.label.clone(), free: crate::records(free) })
    }

    /// Moves a patient in the house to another bed: the old bed freed (to cleaning) in the
    /// transaction that fills the new one; companions in the old bed go along.
    pub async fn transfer(&self, ctx: &Ctx, id: Uuid, to_bed: Uuid, reason: &str) -> Result<Stay, AppError> {
        self.authorize(ctx, Permission::InpatientAdmit).await?;
        let conn = self.db.reader();
        let stay = q::find_admission(conn, id).await?.ok_or(AppError::NotFound("admission"))?;
        let p = self.patients().load_for(ctx, stay.patient_id.into(), PatientAction::Read).await?;
        if !stay.status.in_house() {
            return Err(AppError::Conflict(format!(
                "{} was discharged; a discharged patient is not transferred",
                stay.number
            )));
        }
        let reason = parse_optional_label(reason, "reason", 300)?;
        let old = q::find_bed(conn, stay.bed_id).await?.ok_or(AppError::NotFound("bed"))?;
        let new = q::find_bed(conn, to_bed)
            .await?
            .filter(|b| b.active)
            .ok_or_else(|| AppError::field("bed_id", "choose a bed of a ward"))?;
        if new.id == old.id {
            return Err(AppError::field("bed_id", "the patient is in that bed"));
        }
        if new.state != BedState::Available {
            return Err(self.bed_taken(&new).await?);
        }
        let own = q::assignments_of(conn, id).await?;
        let companion = own.iter().any(|a| a.ended_at.is_none() && a.companion);
        if companion {
            return Err(AppError::Conflict("a companion moves with the patient they accompany".into()));
        }
        let companions: Vec<bed_assignment::Model> =
            q::companions_in(conn, old.id).await?.into_iter().filter(|c| c.admission_id != id).collect();

        let txn = self.db.begin_write().await?;
        let by = me(ctx)?;
        let now = Utc::now();
        let moved = |admission: Uuid, patient: Uuid, companion: bool| bed_assignment::Model {
            id: Uuid::now_v7(),
            admission_id: admission,
            patient_id: patient,
            bed_id: new.id,
            ward_id: new.ward_id,
            companion,
            started_at: now,
            started_by: by,
            ended_at: None,
            ended_by: None,
            reason: "transfer".into(),
        };
        if !q::end_assignment(&txn, id, by).await? || !q::move_stay(&txn, id, new.ward_id, new.id).await? {
            return Err(AppError::Conflict(format!(
                "{} was moved or discharged meanwhile; look again",
                stay.number
            )));
        }
        let placed = q::insert_assignment(&txn, moved(id, stay.patient_id, false)).await;
        if placed.as_ref().is_err_and(|e| {
            salus_db::error::is_unique_violation(e, "bed_assignments_bed_key", "bed_assignments.bed_id")
        }) {
            drop(txn);
            return Err(self.bed_taken(&new).await?);
        }
        placed?;
        if !q::move_bed(&txn, new.id, &[BedState::Available], BedState::Occupied, None, None).await? {
            drop(txn);
            return Err(self.bed_taken(&new).await?);
        }
        for c in &companions {
            q::end_assignment(&txn, c.admission_id, by).await?;
            q::move_stay(&txn, c.admission_id, new.ward_id, new.id).await?;
            q::insert_assignment(&txn, moved(c.admission_id, c.patient_id, true)).await?;
        }
        q::move_bed(
            &txn,
            old.id,
            &[BedState::Occupied],
            BedState::Cleaning,
            Some("vacated by a transfer"),
            None,
        )
        .await?;
        salus_db::patients::insert_timeline(
            &txn,
            vec![timeline_row(
                p.id,
                "admission",
                format!("Moved from bed {} to bed {}", old.label, new.label),
                ctx,
            )],
        )
        .await?;
        let event =
            Event::new("inpatient.transfer", "admission", Some(id.to_string())).patient(p.id).detail(json!({
                "number": stay.number, "from": old.label, "to": new.label, "reason": reason,
                "companions": companions.iter().map(|c| c.admission_id).collect::<Vec<_>>(),
            }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        self.stay_detail(id).await
    }

    /// The doctor orders the discharge; the patient keeps the bed until they leave.
    pub async fn order_discharge(&self, ctx: &Ctx, id: Uuid) -> Result<Stay, AppError> {
        self.authorize(ctx, Permission::InpatientOrder).await?;
        let stay = q::find_admission(self.db.reader(), id).await?.ok_or(AppError::NotFound("admission"))?;
        self.patients().load_for(ctx, stay.patient_id.into(), PatientAction::Read).await?;
        let txn = self.db.begin_write().await?;
        if !q::move_admission(
            &txn,
            id,
            AdmissionStatus::Admitted,
            AdmissionStatus::DischargeOrdered,
            me(ctx)?,
            None,
        )
        .await?
        {
            return Err(AppError::Conflict(format!(
                "{} is {}; only an admitted patient's discharge is ordered",
                stay.number,
                stay.status.words()
            )));
        }
        let event = Event::new("inpatient.discharge_order", "admission", Some(id.to_string()))
            .patient(stay.patient_id)
            .detail(json!({ "number": stay.number }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        self.stay_detail(id).await
    }

    /// The patient leaves: the stay ends, its encounter ends, the bed goes to cleaning —
    /// one transaction. Only after the doctor's discharge order. A companion still in the
    /// bed must leave first (or be admitted in their own right).
    pub async fn discharge(&self, ctx: &Ctx, id: Uuid, disposition: &str) -> Result<Stay, AppError> {
        self.authorize(ctx, Permission::InpatientAdmit).await?;
        let conn = self.db.reader();
        let stay = q::find_admission(conn, id).await?.ok_or(AppError::NotFound("admission"))?;
        let p = self.patients().load_for(ctx, stay.patient_id.into(), PatientAction::Read).await?;
        let disposition = parse_optional_label(disposition, "disposition", 100)?.ok_or_else(|| {
            AppError::field("disposition", "say where the patient goes (home, another hospital, …)")
        })?;
        if stay.status != AdmissionStatus::DischargeOrdered {
            return Err(AppError::Conflict(match stay.status {
                AdmissionStatus::Discharged => format!("{} has already left", stay.number),
                _ => format!("{}'s discharge has not been ordered by a doctor", stay.number),
            }));
        }
        let own = q::assignments_of(conn, id).await?;
        let was_companion = own.iter().any(|a| a.ended_at.is_none() && a.companion);
        let others = q::companions_in(conn, stay.bed_id).await?.into_iter().any(|c| c.admission_id != id);
        if !was_companion && others {
            return Err(AppError::Conflict("a companion is still in the bed: discharge them first".into()));
        }
        let bed = q::find_bed(conn, stay.bed_id).await?.ok_or(AppError::NotFound("bed"))?;
        let by = me(ctx)?;
        // The stay's last bed days, charged in the transaction that ends it.
        let bed_days = self.bed_day_charges(&stay, &own, Utc::now(), true, by).await?;
        let txn = self.db.begin_write().await?;
        if !q::move_admission(
            &txn,
            id,
            AdmissionStatus::DischargeOrdered,
            AdmissionStatus::Discharged,
            by,
            Some(&disposition),
        )
        .await?
            || !q::end_assignment(&txn, id, by).await?
        {
            return Err(AppError::Conflict(format!("{} was changed meanwhile; look again", stay.number)));
        }
        if !was_companion {
            q::move_bed(
                &txn,
                bed.id,
                &[BedState::Occupied],
                BedState::Cleaning,
                Some("vacated by a discharge"),
                None,
            )
            .await?;
        }
        salus_db::clinical::end_encounter(&txn, stay.encounter_id, Utc::now()).await?;
        salus_db::charges::insert_charges(&txn, bed_days).await?;
        salus_db::patients::insert_timeline(
            &txn,
            vec![timeline_row(
                p.id,
                "admission",
                format!("Discharged ({disposition}) — {}", stay.number),
                ctx,
            )],
        )
        .await?;
        let event = Event::new("inpatient.discharge", "admission", Some(id.to_string()))
            .patient(p.id)
            .detail(json!({ "number": stay.number, "bed": bed.label, "disposition": disposition }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        self.stay_detail(id).await
    }

    /// A stay with where the patient lay (an audited read).
    pub async fn stay(&self, ctx: &Ctx, id: Uuid) -> Result<Stay, AppError> {
        self.authorize(ctx, Permission::InpatientRead).await?;
        let stay = q::find_admission(self.db.reader(), id).await?.ok_or(AppError::NotFound("admission"))?;
        self.patients().load_for(ctx, stay.patient_id.into(), PatientAction::Read).await?;
        let event = Event::new("inpatient.read", "admission", Some(id.to_string())).patient(stay.patient_id);
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        self.stay_detail(id).await
    }

    async fn stay_detail(&self, id: Uuid) -> Result<Stay, AppError> {
        let conn = self.db.reader();
        let stay = q::find_admission(conn, id).await?.ok_or(AppError::NotFound("admission"))?;
        let (patient, beds) = tokio::try_join!(
            salus_db::patients::find_patient(conn, stay.patient_id),
            q::assignments_of(conn, id)
        )?;
        let patient = patient.ok_or(AppError::NotFound("patient"))?;
        Ok(Stay { admission: stay.into(), patient: LabPatient::from(&patient), beds: crate::records(beds) })
    }
}
