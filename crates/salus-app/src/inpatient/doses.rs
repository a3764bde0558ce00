//! The medication administration record as the ward reads it: a stay's orders with every
//! record of their doses, and a ward's doses due around now with what was recorded of each
//! (the nurses' station). Each patient shown is an audited read.

use chrono::{DateTime, Duration, Utc};
use salus_core::inpatient::mar::{
    Administration, DoseState, MedicationOrder, OrderKind, OrderStatus, dose_state,
};
use salus_core::inpatient::{Admission, Ward};
use salus_db::entity::admission;
use salus_db::inpatient as q;
use salus_db::inpatient::mar as m;
use std::collections::HashMap;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::laboratory::LabPatient;
use crate::{AppError, Ctx};

/// A stay's orders and every record of their doses (amended ones too).
#[derive(Debug, Clone, serde::Serialize)]
pub struct MedicationRecord {
    pub admission: Admission,
    pub patient: LabPatient,
    pub ward: Ward,
    pub orders: Vec<MedicationOrder>,
    pub administrations: Vec<Administration>,
    /// Who ordered, recorded or acknowledged, by user id.
    pub names: HashMap<Uuid, String>,
}

impl MedicationRecord {
    /// An order's records in force, by time given.
    pub fn current_of(&self, order: Uuid) -> impl Iterator<Item = &Administration> {
        self.administrations.iter().filter(move |a| a.order_id == order && a.current)
    }

    pub fn name(&self, id: Option<Uuid>) -> &str {
        id.and_then(|i| self.names.get(&i)).map_or("—", String::as_str)
    }
}

/// A dose on the nurses' station.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DueDose {
    pub admission_id: Uuid,
    pub bed: String,
    pub patient: LabPatient,
    pub order: MedicationOrder,
    pub due_at: DateTime<Utc>,
    pub state: DoseState,
    pub record: Option<Administration>,
}

/// A ward's doses between two times, and its as-needed orders (given when needed).
#[derive(Debug, Clone, serde::Serialize)]
pub struct WardDoses {
    pub ward: Ward,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub doses: Vec<DueDose>,
    pub as_needed: Vec<(Uuid, String, LabPatient, MedicationOrder)>,
}

impl WardDoses {
    pub fn count(&self, state: DoseState) -> usize {
        self.doses.iter().filter(|d| d.state == state).count()
    }
}

/// A ward's dose list reaches this far either side of now when no times are given.
pub const STATION_HOURS: i64 = 12;

impl crate::Inpatient<'_> {
    /// A stay's medication record (an audited read).
    pub async fn medication_record(&self, ctx: &Ctx, admission: Uuid) -> Result<MedicationRecord, AppError> {
        self.authorize(ctx, Permission::InpatientRead).await?;
        let (stay, ward, patient) = self.stay_and_ward(ctx, admission).await?;
        let conn = self.db.reader();
        let orders = m::orders_of(conn, stay.id).await?;
        let ids: Vec<Uuid> = orders.iter().map(|o| o.id).collect();
        let administrations = m::administrations_of(conn, &ids, None).await?;
        let mut people: Vec<Uuid> =
            orders.iter().flat_map(|o| [Some(o.ordered_by), o.stopped_by]).flatten().collect();
        people
            .extend(administrations.iter().flat_map(|a| [Some(a.recorded_by), a.acknowledged_by]).flatten());
        people.sort();
        people.dedup();
        let names = salus_db::identity::display_names_of(conn, &people).await?.into_iter().collect();
        self.reads
            .record(vec![audit::row(
                ctx,
                Event::new("mar.read", "admission", Some(stay.id.to_string())).patient(patient.id),
            )])
            .await?;
        Ok(MedicationRecord {
            admission: stay.into(),
            patient,
            ward: ward.into(),
            orders: crate::records(orders),
            administrations: crate::records(administrations),
            names,
        })
    }

    /// A ward's doses due between `from` and `to` (default: twelve hours either side of
    /// now) with what was recorded of each, and its as-needed orders. Each patient shown
    /// is a read of their record: one audit event each, in one commit.
    pub async fn due_doses(
        &self,
        ctx: &Ctx,
        ward: Uuid,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<WardDoses, AppError> {
        self.authorize(ctx, Permission::InpatientRead).await?;
        let now = Utc::now();
        let from = from.unwrap_or(now - Duration::hours(STATION_HOURS));
        let to = to.unwrap_or(now + Duration::hours(STATION_HOURS));
        if to <= from || to - from > Duration::days(7) {
            return Err(AppError::field("to", "a time after `from`, at most seven days later"));
        }
        let conn = self.db.reader();
        let (w, stays) = tokio::try_join!(q::find_ward(conn, ward), q::in_house(conn, Some(ward)))?;
        let ward: Ward = w.ok_or(AppError::NotFound("ward"))?.into();
        let stay_ids: Vec<Uuid> = stays.iter().map(|s| s.id).collect();
        let patient_ids: Vec<Uuid> = stays.iter().map(|s| s.patient_id).collect();
        let bed_ids: Vec<Uuid> = stays.iter().map(|s| s.bed_id).collect();
        let (orders, patients, beds) = if stay_ids.is_empty() {
            Default::default()
        } else {
            tokio::try_join!(
                m::orders_of_stays(conn, &stay_ids),
                salus_db::patients::find_patients(conn, &patient_ids),
                q::beds_by_ids(conn, &bed_ids),
            )?
        };
        let order_ids: Vec<Uuid> = orders.iter().map(|o| o.id).collect();
        let records = m::administrations_of(conn, &order_ids, Some(from - Duration::hours(24))).await?;
        let patients: HashMap<Uuid, LabPatient> =
            patients.iter().map(|p| (p.id, LabPatient::from(p))).collect();
        let beds: HashMap<Uuid, String> = beds.into_iter().map(|b| (b.id, b.label)).collect();
        let stays: HashMap<Uuid, &admission::Model> = stays.iter().map(|s| (s.id, s)).collect();
        let mut in_force: HashMap<(Uuid, DateTime<Utc>), Administration> = HashMap::new();
        for r in records.into_iter().filter(|r| r.current) {
            if let Some(due) = r.due_at {
                in_force.insert((r.order_id, due), r.into());
            }
        }
        let tz = self.time_zone;
        let days = (from.with_timezone(&tz).date_naive(), to.with_timezone(&tz).date_naive());
        let window = Self::window(&ward);
        let mut doses = Vec::new();
        let mut as_needed = Vec::new();
        for o in orders {
            let (Some(stay), order) = (stays.get(&o.admission_id), MedicationOrder::from(o)) else {
                continue;
            };
            let Some(patient) = patients.get(&stay.patient_id) else { continue };
            let bed = beds.get(&stay.bed_id).cloned().unwrap_or_default();
            if order.kind == OrderKind::AsNeeded {
                if order.status == OrderStatus::Active && order.covers(now) {
                    as_needed.push((stay.id, bed, patient.clone(), order));
                }
                continue;
            }
            for due in order.due_between(from, to, days, self.hospital_to_utc()) {
                let record = in_force.remove(&(order.id, due));
                doses.push(DueDose {
                    admission_id: stay.id,
                    bed: bed.clone(),
                    patient: patient.clone(),
                    order: order.clone(),
                    due_at: due,
                    state: dose_state(due, record.is_some(), window, now),
                    record,
                });
            }
        }
        doses.sort_by(|a, b| (a.due_at, &a.bed).cmp(&(b.due_at, &b.bed)));
        let events: Vec<_> = stays
            .values()
            .map(|s| {
                audit::row(
                    ctx,
                    Event::new("mar.read", "ward_doses", Some(s.id.to_string())).patient(s.patient_id),
                )
            })
            .collect();
        if !events.is_empty() {
            self.reads.record(events).await?;
        }
        Ok(WardDoses { ward, from, to, doses, as_needed })
    }

    /// The doses waiting for a doctor's acknowledgement on stays in `stays`.
    pub async fn awaiting_acknowledgement(&self, stays: &[Uuid]) -> Result<Vec<Administration>, AppError> {
        Ok(crate::records(m::unacknowledged(self.db.reader(), stays).await?))
    }
}
