//! The generated hospital's wards: ten of 40 beds and five of 20 (500 in all), four in five beds
//! taken by a stay of a generated patient admitted in the last week — its inpatient
//! encounter, its bed assignment, two scheduled medicines and one as needed, taken from
//! the ward's store — the rest free, a few blocked. Written as rows in bulk, once
//! (skipped when the generated wards exist).

use chrono::{Duration, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use salus_core::clinical::{EncounterClass, EncounterStatus};
use salus_core::inpatient::mar::{OrderKind, OrderStatus};
use salus_core::inpatient::{AdmissionStatus, BedState, BedType};
use salus_db::entity::{admission, bed, bed_assignment, encounter, medication_order, ward};
use uuid::Uuid;

use super::HospitalReport;
use crate::{App, AppError};

/// Wards, and the beds of each: the first ten have 40, the rest 20.
pub const WARDS: usize = 15;
pub const BEDS: usize = 500;

fn beds_of(ward: usize) -> usize {
    if ward <= 10 { 40 } else { 20 }
}

impl App {
    /// The generated wards, their stays and medicines (`doctors` attend them).
    pub(super) async fn generate_wards(
        &self,
        patients: &[Uuid],
        doctors: &[Uuid],
        rng: &mut StdRng,
        report: &mut HospitalReport,
    ) -> Result<(), AppError> {
        let conn = self.db.reader();
        if patients.len() < BEDS
            || doctors.is_empty()
            || salus_db::inpatient::wards(conn, true).await?.iter().any(|w| w.code == "GEN-W01")
        {
            return Ok(());
        }
        let store = salus_db::pharmacy::find_store_by_code(conn, "GEN-WARD1").await?.map(|s| s.id);
        let medicines: Vec<(Uuid, String, Option<Uuid>)> = {
            let items = salus_db::pharmacy::items(conn, None, false, 200).await?;
            items.into_iter().filter_map(|i| Some((i.medicine_id?, i.name, Some(i.id)))).take(20).collect()
        };
        let now = Utc::now();
        let by = doctors[0];
        let (mut wards, mut beds, mut stays, mut encounters, mut assignments, mut orders) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut next_patient = 0usize;
        for w in 1..=WARDS {
            let ward_id = Uuid::now_v7();
            wards.push(ward::Model {
                id: ward_id,
                code: format!("GEN-W{w:02}"),
                name: format!("Generated ward {w:02}"),
                department_id: None,
                store_id: store,
                late_minutes: 60,
                active: true,
                version: 1,
                created_at: now,
                updated_at: now,
            });
            for b in 1..=beds_of(w) {
                let bed_id = Uuid::now_v7();
                let roll = rng.random_range(0..100);
                let state = match roll {
                    0..80 => BedState::Occupied,
                    80..83 => BedState::Blocked,
                    83..88 => BedState::Cleaning,
                    _ => BedState::Available,
                };
                beds.push(bed::Model {
                    id: bed_id,
                    ward_id,
                    room: format!("{w:02}{}", (b - 1) / 4 + 1),
                    label: format!("{w:02}-{b:02}"),
                    bed_type: if w == 1 { BedType::Icu } else { BedType::General },
                    tags: "oxygen".into(),
                    service_code: None,
                    state,
                    state_reason: (state == BedState::Blocked).then(|| "Generated: out of use".into()),
                    reserved_for: None,
                    active: true,
                    version: 1,
                    updated_at: now,
                });
                if state != BedState::Occupied {
                    continue;
                }
                let patient = patients[next_patient];
                next_patient += 1;
                let doctor = doctors[rng.random_range(0..doctors.len())];
                let admitted = now - Duration::minutes(rng.random_range(60..7 * 24 * 60));
                let (stay_id, encounter_id) = (Uuid::now_v7(), Uuid::now_v7());
                encounters.push(encounter::Model {
                    id: encounter_id,
                    patient_id: patient,
                    appointment_id: None,
                    class: EncounterClass::Inpatient,
                    status: EncounterStatus::InProgress,
                    doctor_id: doctor,
                    department_id: None,
                    chief_complaint: Some("Generated admission".into()),
                    started_at: admitted,
                    ended_at: None,
                    error_reason: None,
                    created_by: Some(by),
                    created_at: admitted,
                    updated_at: admitted,
                    version: 1,
                });
                stays.push(admission::Model {
                    id: stay_id,
                    number: format!("GEN-{:06}", stays.len() + 1),
                    patient_id: patient,
                    request_id: None,
                    encounter_id,
                    attending_id: doctor,
                    diagnosis: "Generated: community-acquired pneumonia".into(),
                    ward_id,
                    bed_id,
                    status: AdmissionStatus::Admitted,
                    admitted_by: by,
                    admitted_at: admitted,
                    discharge_ordered_by: None,
                    discharge_ordered_at: None,
                    discharged_by: None,
                    discharged_at: None,
                    disposition: None,
                    version: 1,
                    updated_at: admitted,
                });
                assignments.push(bed_assignment::Model {
                    id: Uuid::now_v7(),
                    admission_id: stay_id,
                    patient_id: patient,
                    bed_id,
                    ward_id,
                    companion: false,
                    started_at: admitted,
                    started_by: by,
                    ended_at: None,
                    ended_by: None,
                    reason: "admit".into(),
                });
                for (n, (kind, times)) in [
                    (OrderKind::Scheduled, "06:00,14:00,22:00"),
                    (OrderKind::Scheduled, "08:00,20:00"),
                    (OrderKind::AsNeeded, ""),
                ]
                .into_iter()
                .enumerate()
                {
                    let Some((medicine, name, item)) =
                        medicines.get((next_patient * 3 + n) % medicines.len().max(1)).cloned()
                    else {
                        continue;
                    };
                    orders.push(medication_order::Model {
                        id: Uuid::now_v7(),
                        patient_id: patient,
                        admission_id: stay_id,
                        medicine_id: medicine,
                        medicine_name: name,
                        item_id: item,
                        dose: "1 tablet".into(),
                        units_per_dose: 1,
                        route: "oral".into(),
                        kind,
                        times: times.into(),
                        instructions: None,
                        starts_at: admitted,
                        ends_at: None,
                        status: OrderStatus::Active,
                        stop_reason: None,
                        stopped_by: None,
                        stopped_at: None,
                        ordered_by: doctor,
                        created_at: admitted,
                        version: 1,
                    });
                }
            }
        }
        let txn = self.db.begin_write().await?;
        report.add("wards", salus_db::insert_all::<ward::Entity, _>(&txn, wards).await?);
        report.add("beds", salus_db::insert_all::<bed::Entity, _>(&txn, beds).await?);
        report.add(
            "encounters (inpatient)",
            salus_db::insert_all::<encounter::Entity, _>(&txn, encounters).await?,
        );
        report.add("admissions", salus_db::insert_all::<admission::Entity, _>(&txn, stays).await?);
        report.add(
            "bed_assignments",
            salus_db::insert_all::<bed_assignment::Entity, _>(&txn, assignments).await?,
        );
        report.add(
            "medication_orders",
            salus_db::insert_all::<medication_order::Entity, _>(&txn, orders).await?,
        );
        txn.commit().await?;
        Ok(())
    }
}
