//! Inpatient care: wards and their beds, the bed board, and the hand changes of a bed
//! (reserve, release, block, unblock, cleaned). Admissions, transfers and discharges are
//! in [`admissions`]. Who is in a bed is decided by the database — the partial unique
//! indexes on open bed assignments and stays in the house — never by an earlier look.

pub mod admissions;
pub mod census;
mod doses;
pub mod mar;
pub mod nursing;

use chrono::Utc;
use salus_core::FieldError;
use salus_core::inpatient::{Admission, Bed, BedState, BedType, Ward};
use salus_core::organisation::{parse_label, parse_optional_label};
use salus_db::ResultExt;
use salus_db::entity::{bed, ward};
use salus_db::inpatient as q;
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::laboratory::LabPatient;
use crate::{AppError, Ctx};

/// The caller's user id (every change of a bed or a stay is someone's).
fn me(ctx: &Ctx) -> Result<Uuid, AppError> {
    ctx.actor.user().map(|u| u.id.as_uuid()).ok_or(AppError::Forbidden)
}

/// A new ward.
#[derive(Debug, Clone, Default)]
pub struct NewWard {
    pub code: String,
    pub name: String,
    pub department_id: Option<Uuid>,
    /// The store its nurses give medicines from (a ward store).
    pub store_id: Option<Uuid>,
    /// Minutes after a dose's time within which it is on time (default 60).
    pub late_minutes: Option<i32>,
}

/// A ward's on-time window when none is given.
pub const LATE_MINUTES: i32 = 60;

/// Beds to add to a ward: one room's, labelled by the room and a letter each.
#[derive(Debug, Clone)]
pub struct NewBeds {
    pub room: String,
    /// "A", "B", …: one bed each ("101-A").
    pub letters: Vec<String>,
    pub bed_type: BedType,
    /// "oxygen,isolation".
    pub tags: String,
    /// The price-list service a day in these beds is charged as (empty: not charged).
    pub service_code: String,
}

/// A bed as the board shows it: who is in it, since when, and any companion.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BoardBed {
    pub bed: Bed,
    pub occupant: Option<(Admission, LabPatient)>,
    pub companions: Vec<(Admission, LabPatient)>,
}

/// The beds of a ward (or of every ward) with who is in each.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Board {
    pub wards: Vec<Ward>,
    pub beds: Vec<BoardBed>,
}

impl Board {
    /// Beds in each state, for the board's summary line.
    pub fn count(&self, state: BedState) -> usize {
        self.beds.iter().filter(|b| b.bed.state == state).count()
    }
}

impl crate::Inpatient<'_> {
    pub async fn wards(&self, ctx: &Ctx) -> Result<Vec<Ward>, AppError> {
        self.authorize(ctx, Permission::InpatientRead).await?;
        Ok(crate::records(q::wards(self.db.reader(), false).await?))
    }

    /// Every ward (retired ones too) and every bed in use, without who is in them (the
    /// standard doors' Locations).
    pub async fn locations(&self, ctx: &Ctx) -> Result<(Vec<Ward>, Vec<Bed>), AppError> {
        self.authorize(ctx, Permission::InpatientRead).await?;
        let conn = self.db.reader();
        let (wards, beds) = tokio::try_join!(q::wards(conn, true), q::beds(conn, None))?;
        Ok((crate::records(wards), crate::records(beds)))
    }

    /// Adds a ward (administrators).
    pub async fn create_ward(&self, ctx: &Ctx, input: NewWard) -> Result<Ward, AppError> {
        self.authorize(ctx, Permission::WardAdmin).await?;
        let mut errors = Vec::new();
        let code = parse_label(&input.code, "code", 20).map_err(|e| errors.push(e)).unwrap_or_default();
        let name = parse_label(&input.name, "name", 100).map_err(|e| errors.push(e)).unwrap_or_default();
        if let Some(s) = input.store_id {
            match salus_db::pharmacy::find_store(self.db.reader(), s).await? {
                Some(store) if store.active => {}
                _ => errors.push(FieldError::new("store_id", "choose an active store")),
            }
        }
        let late_minutes = input.late_minutes.unwrap_or(LATE_MINUTES);
        if !(5..=240).contains(&late_minutes) {
            errors.push(FieldError::new("late_minutes", "between 5 and 240 minutes"));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let now = Utc::now();
        let row = ward::Model {
            id: Uuid::now_v7(),
            code: code.to_uppercase(),
            name,
            department_id: input.department_id,
            store_id: input.store_id,
            late_minutes,
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let txn = self.db.begin_write().await?;
        q::insert_ward(&txn, row.clone()).await.on_unique("wards_code_key", "wards.code", || {
            AppError::field("code", "another ward has this code")
        })?;
        let event = Event::new("inpatient.ward_create", "ward", Some(row.id.to_string()))
            .detail(json!({ "code": row.code, "name": row.name, "store_id": row.store_id }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Adds a room's beds to a ward (administrators).
    pub async fn add_beds(&self, ctx: &Ctx, ward: Uuid, input: NewBeds) -> Result<Vec<Bed>, AppError> {
        self.authorize(ctx, Permission::WardAdmin).await?;
        let w = q::find_ward(self.db.reader(), ward)
            .await?
            .filter(|w| w.active)
            .ok_or(AppError::NotFound("ward"))?;
        let mut errors = Vec::new();
        let room = parse_label(&input.room, "room", 12).map_err(|e| errors.push(e)).unwrap_or_default();
        let tags = parse_optional_label(&input.tags, "tags", 100)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten()
            .map(|t| {
                t.split(',')
                    .map(|x| x.trim().to_lowercase())
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        let mut letters: Vec<String> =
            input.letters.iter().map(|l| l.trim().to_uppercase()).filter(|l| !l.is_empty()).collect();
        letters.dedup();
        if letters.is_empty() {
            errors.push(FieldError::new("letters", "name at least one bed of the room (A, B, …)"));
        }
        if letters.iter().any(|l| l.len() > 6) {
            errors.push(FieldError::new("letters", "a bed's letter is at most 6 characters"));
        }
        let code = input.service_code.trim().to_uppercase();
        let service_code = if code.is_empty() {
            None
        } else if salus_db::laboratory::services_by_code(self.db.reader(), std::slice::from_ref(&code))
            .await?
            .is_empty()
        {
            errors.push(FieldError::new("service_code", "a service of the price list (a bed day), or none"));
            None
        } else {
            Some(code)
        };
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let now = Utc::now();
        let rows: Vec<bed::Model> = letters
            .iter()
            .map(|l| bed::Model {
                id: Uuid::now_v7(),
                ward_id: w.id,
                room: room.clone(),
                label: format!("{room}-{l}"),
                bed_type: input.bed_type,
                tags: tags.clone(),
                service_code: service_code.clone(),
                state: BedState::Available,
                state_reason: None,
                reserved_for: None,
                active: true,
                version: 1,
                updated_at: now,
            })
            .collect();
        let txn = self.db.begin_write().await?;
        q::insert_beds(&txn, rows.clone()).await.on_unique("beds_ward_label_key", "beds.label", || {
            AppError::field("letters", format!("room {room} of {} already has one of these beds", w.name))
        })?;
        let event = Event::new("inpatient.beds_add", "ward", Some(w.id.to_string())).detail(json!({
            "ward": w.code, "beds": rows.iter().map(|b| b.label.clone()).collect::<Vec<_>>(), "type": input.bed_type,
        }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(crate::records(rows))
    }

    /// The bed board of a ward, or of the whole hospital: each bed's state and who is in
    /// it. Showing a patient in a bed is a read of their record: one audit event each,
    /// in one commit.
    pub async fn board(&self, ctx: &Ctx, ward: Option<Uuid>) -> Result<Board, AppError> {
        self.authorize(ctx, Permission::InpatientRead).await?;
        let conn = self.db.reader();
        let (wards, beds, stays) =
            tokio::try_join!(q::wards(conn, false), q::beds(conn, ward), q::in_house(conn, ward))?;
        if let Some(w) = ward
            && !wards.iter().any(|x| x.id == w)
        {
            return Err(AppError::NotFound("ward"));
        }
        let ids: Vec<Uuid> = stays.iter().map(|s| s.patient_id).collect();
        let patients: HashMap<Uuid, LabPatient> = if ids.is_empty() {
            HashMap::new()
        } else {
            salus_db::patients::find_patients(conn, &ids)
                .await?
                .iter()
                .map(|p| (p.id, LabPatient::from(p)))
                .collect()
        };
        // In a bed: the first stay put there (a companion joins an occupied bed later).
        let mut by_bed: HashMap<Uuid, Vec<(Admission, LabPatient)>> = HashMap::new();
        for s in stays {
            if let Some(p) = patients.get(&s.patient_id) {
                by_bed.entry(s.bed_id).or_default().push((s.into(), p.clone()));
            }
        }
        let events: Vec<_> = by_bed
            .values()
            .flatten()
            .map(|(a, p)| {
                audit::row(
                    ctx,
                    Event::new("inpatient.read", "bed_board", Some(a.id.to_string())).patient(p.id),
                )
            })
            .collect();
        if !events.is_empty() {
            self.reads.record(events).await?;
        }
        let beds = beds
            .into_iter()
            .map(|b| {
                let mut here = by_bed.remove(&b.id).unwrap_or_default();
                let occupant = (b.state == BedState::Occupied && !here.is_empty()).then(|| here.remove(0));
                BoardBed { bed: b.into(), occupant, companions: here }
            })
            .collect();
        Ok(Board { wards: crate::records(wards), beds })
    }

    /// The doctors a stay may be put in the charge of: (id, name), by name.
    pub async fn doctors(&self, ctx: &Ctx) -> Result<Vec<(Uuid, String)>, AppError> {
        self.authorize(ctx, Permission::InpatientRead).await?;
        Ok(salus_db::identity::holders_of(self.db.reader(), salus_core::Role::Doctor.as_str()).await?)
    }

    /// Beds by id (a stay's history).
    pub async fn beds(&self, ctx: &Ctx, ids: &[Uuid]) -> Result<Vec<Bed>, AppError> {
        self.authorize(ctx, Permission::InpatientRead).await?;
        Ok(crate::records(q::beds_by_ids(self.db.reader(), ids).await?))
    }

    /// The beds held for waiting requests (the desk offers each to its own request first).
    pub async fn held_beds(&self, ctx: &Ctx) -> Result<Vec<Bed>, AppError> {
        self.authorize(ctx, Permission::InpatientRead).await?;
        Ok(crate::records(q::held_beds(self.db.reader()).await?))
    }

    /// Free beds of a type (and ward, when given): what a desk that lost a bed is offered.
    pub async fn free_beds(
        &self,
        ctx: &Ctx,
        bed_type: Option<BedType>,
        ward: Option<Uuid>,
    ) -> Result<Vec<Bed>, AppError> {
        self.authorize(ctx, Permission::InpatientRead).await?;
        Ok(crate::records(q::free_beds(self.db.reader(), bed_type, ward, 50).await?))
    }

    /// A bed changed by hand: reserved for a waiting request, released, blocked with a
    /// reason, unblocked, or cleaned after a patient left. A bed is never filled or
    /// emptied this way (admitting, transferring and discharging do that).
    pub async fn set_bed_state(
        &self,
        ctx: &Ctx,
        id: Uuid,
        to: BedState,
        reason: &str,
        reserved_for: Option<Uuid>,
    ) -> Result<Bed, AppError> {
        self.authorize(ctx, Permission::BedManage).await?;
        let conn = self.db.reader();
        let b = q::find_bed(conn, id).await?.filter(|b| b.active).ok_or(AppError::NotFound("bed"))?;
        if !b.state.by_hand(to) {
            return Err(AppError::Conflict(format!(
                "bed {} is {}; it cannot be made {} by hand",
                b.label,
                b.state.words(),
                to.words()
            )));
        }
        let reason = parse_optional_label(reason, "reason", 300)?;
        let mut held_for = None;
        match to {
            BedState::Blocked if reason.is_none() => {
                return Err(AppError::field("reason", "say why the bed is out of use"));
            }
            BedState::Reserved => {
                let request = reserved_for.ok_or_else(|| {
                    AppError::field("request_id", "choose the admission the bed is held for")
                })?;
                let r =
                    q::find_request(conn, request).await?.ok_or(AppError::NotFound("admission request"))?;
                if r.status != salus_core::inpatient::RequestStatus::Requested {
                    return Err(AppError::field("request_id", "that request is no longer waiting"));
                }
                held_for = Some(r.id);
            }
            _ => {}
        }
        let txn = self.db.begin_write().await?;
        if !q::move_bed(&txn, id, &[b.state], to, reason.as_deref(), held_for).await? {
            return Err(AppError::Conflict(format!("bed {} was changed meanwhile; look again", b.label)));
        }
        let event = Event::new("inpatient.bed_state", "bed", Some(id.to_string())).detail(json!({
            "bed": b.label, "from": b.state, "to": to, "reason": reason, "request_id": held_for,
        }));
        audit::record(&txn, ctx, event).await?;
        let row = q::find_bed(&txn, id).await?.ok_or(AppError::NotFound("bed"))?;
        txn.commit().await?;
        Ok(row.into())
    }
}
