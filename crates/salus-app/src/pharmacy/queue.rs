//! The pharmacist's queue (active prescriptions with something left to give) and a
//! patient's prescriptions as they are dispensed: prescribed, given so far, remaining,
//! and what the store has of each.

use chrono::{Duration, Utc};
use salus_core::PatientId;
use salus_core::clinical::Prescription;
use salus_core::pharmacy::{Lot, StockItem, Store};
use salus_db::entity::patient;
use salus_db::pharmacy as q;
use std::collections::HashMap;
use uuid::Uuid;

use super::dispensing::remaining;
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::laboratory::LabPatient;
use crate::{AppError, Ctx};

/// How far back the queue looks for prescriptions still to dispense.
pub const QUEUE_DAYS: i64 = 30;

/// A prescription waiting at the pharmacy.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueueItem {
    pub prescription: Prescription,
    pub patient: LabPatient,
    /// Units given so far (less those brought back).
    pub dispensed: i64,
    /// Units still to give, when the prescription says how many.
    pub remaining: Option<i64>,
}

/// A prescription as the pharmacist dispenses it: what is left to give and what the store
/// has of it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ToDispense {
    pub prescription: Prescription,
    pub dispensed: i64,
    pub remaining: Option<i64>,
    /// The stock items that are this medicine, each with the batches that may be given
    /// (first expiry first) and their total.
    pub options: Vec<ItemStock>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ItemStock {
    pub item: StockItem,
    pub lots: Vec<Lot>,
    pub available: i64,
}

impl crate::Pharmacy<'_> {
    /// The pharmacy's queue: active prescriptions of the last 30 days with something still
    /// to give, oldest first; `limit` after `offset`, and whether more follow. Each line
    /// shown is an audited read of its patient's record.
    pub async fn queue(
        &self,
        ctx: &Ctx,
        limit: u64,
        offset: u64,
    ) -> Result<(Vec<QueueItem>, bool), AppError> {
        self.authorize(ctx, Permission::PharmacyDispense).await?;
        let conn = self.db.reader();
        let since = Utc::now() - Duration::days(QUEUE_DAYS);
        let mut rows = q::active_prescriptions(conn, since, limit + 1, offset).await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut patient_ids: Vec<Uuid> = rows.iter().map(|p| p.patient_id).collect();
        patient_ids.sort();
        patient_ids.dedup();
        let patients = salus_db::patients::find_patients(conn, &patient_ids).await?;
        let patients: HashMap<Uuid, patient::Model> = patients.into_iter().map(|p| (p.id, p)).collect();
        let items: Vec<QueueItem> = rows
            .into_iter()
            .filter_map(|rx| {
                let p = patients.get(&rx.patient_id).filter(|p| p.merged_into.is_none())?;
                Some(QueueItem {
                    remaining: remaining(&rx, rx.dispensed),
                    dispensed: rx.dispensed,
                    patient: p.into(),
                    prescription: rx.into(),
                })
            })
            .collect();
        let events = items
            .iter()
            .map(|i| {
                audit::row(
                    ctx,
                    Event::new("pharmacy.queue_read", "prescription", Some(i.prescription.id.to_string()))
                        .patient(i.patient.id),
                )
            })
            .collect();
        self.reads.record(events).await?;
        Ok((items, more))
    }

    /// A patient's active prescriptions as the pharmacist dispenses them from `store`.
    pub async fn to_dispense(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        store: Uuid,
    ) -> Result<(LabPatient, Store, Vec<ToDispense>), AppError> {
        let p = self.clinical().clinical_patient(ctx, patient, Permission::PharmacyDispense).await?;
        let st = self.active_store(store).await?;
        let conn = self.db.reader();
        let rxs = salus_db::clinical::active_prescriptions_of(conn, patient.as_uuid()).await?;
        let mut medicines: Vec<Uuid> = rxs.iter().map(|r| r.medicine_id).collect();
        medicines.sort();
        medicines.dedup();
        let items = q::items_of_medicines(conn, &medicines).await?;
        let item_ids: Vec<Uuid> = items.iter().map(|i| i.id).collect();
        let lots = self.lots_of(st.id, &item_ids).await?;
        let today = self.today();
        let out = rxs
            .into_iter()
            .map(|rx| {
                let options = items
                    .iter()
                    .filter(|i| i.medicine_id == Some(rx.medicine_id))
                    .map(|i| {
                        let lots: Vec<Lot> = lots
                            .iter()
                            .filter(|l| l.batch.item_id == i.id && l.offerable(today))
                            .cloned()
                            .collect();
                        ItemStock {
                            available: lots.iter().map(Lot::available).sum(),
                            item: i.clone().into(),
                            lots,
                        }
                    })
                    .collect();
                ToDispense {
                    remaining: remaining(&rx, rx.dispensed),
                    dispensed: rx.dispensed,
                    prescription: rx.into(),
                    options,
                }
            })
            .collect();
        let event = Event::new("pharmacy.read", "prescriptions", Some(patient.to_string())).patient(p.id);
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        Ok(((&p).into(), st.into(), out))
    }
}
