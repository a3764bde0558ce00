//! The demo laboratory's morning: orders in every state, from waiting for collection to
//! released, one cancelled, and one critical potassium waiting for Dr Rao to acknowledge.
//! Made once, through the use cases, so every row is audited like a real one.

use salus_app::laboratory::orders::NewOrder;
use salus_app::laboratory::results::Entry;
use salus_app::{App, Ctx};
use salus_core::laboratory::Priority;
use salus_core::{PatientId, Role};
use uuid::Uuid;

use crate::demo::staff_ctx;

/// Typical values of each analyte the demo enters, by code.
const NORMAL: &[(&str, &str)] = &[
    ("HB", "13.4"),
    ("RBC", "4.6"),
    ("HCT", "40.5"),
    ("MCV", "88"),
    ("MCH", "29.1"),
    ("MCHC", "33.1"),
    ("RDW", "13.2"),
    ("WBC", "7.2"),
    ("NEUT", "58"),
    ("LYMPH", "32"),
    ("MONO", "6"),
    ("EOS", "3"),
    ("BASO", "1"),
    ("PLT", "245"),
    ("UREA", "28"),
    ("CREAT", "0.9"),
    ("NA", "139"),
    ("K", "4.2"),
    ("CL", "102"),
    ("HCO3", "25"),
    ("URIC", "5.1"),
    ("CHOL", "212"),
    ("TG", "168"),
    ("HDL", "41"),
];

async fn order(
    app: &App,
    doctor: &Ctx,
    patient: Uuid,
    codes: &[&str],
    priority: Priority,
    info: &str,
) -> anyhow::Result<Vec<Uuid>> {
    let catalog = app.laboratory().catalog(doctor, false).await?;
    let test_ids = codes
        .iter()
        .map(|c| {
            catalog.iter().find(|t| t.code == *c).map(|t| t.id).ok_or_else(|| anyhow::anyhow!("no test {c}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let input = NewOrder {
        test_ids,
        priority: Some(priority),
        clinical_info: info.into(),
        override_reason: "Demo: repeat requested".into(),
        ..Default::default()
    };
    let rows = app.laboratory().place_order(doctor, PatientId::from_uuid(patient), input).await?;
    Ok(rows.into_iter().map(|o| o.id).collect())
}

/// Enters every analyte of `order` the lab types, with `over` replacing the typical values.
async fn enter(app: &App, tech: &Ctx, order: Uuid, over: &[(&str, &str)]) -> anyhow::Result<()> {
    let detail = app.laboratory().order(tech, order).await?;
    let entries: Vec<Entry> = detail
        .analytes
        .iter()
        .filter(|a| a.test.formula.is_none())
        .filter_map(|a| {
            let value = over.iter().chain(NORMAL).find(|(c, _)| *c == a.test.code)?.1;
            Some(Entry { test_id: a.test.id, value: value.into() })
        })
        .collect();
    app.laboratory().enter_results(tech, order, &entries, None).await?;
    Ok(())
}

/// The demo's laboratory morning (skipped when the lab already has orders).
pub async fn ensure_demo_lab(app: &App, patients: &[Uuid]) -> anyhow::Result<()> {
    let all = salus_core::laboratory::OrderStatus::ALL;
    if !salus_db::laboratory::worklist(app.db.reader(), all, None, 1, 0).await?.is_empty() {
        return Ok(());
    }
    let [ravi, p2, p3, p4, p5, p6, p7, p8, ..] = patients[..] else { return Ok(()) };
    let doctor = staff_ctx(app, "dr.rao", Role::Doctor).await?;
    let nurse = staff_ctx(app, "nurse.amina", Role::Nurse).await?;
    let mei = staff_ctx(app, "lab.mei", Role::LabTechnician).await?;
    let arjun = staff_ctx(app, "lab.arjun", Role::LabTechnician).await?;
    let lab = app.laboratory();
    let collect_receive = |patient: Uuid, orders: Vec<Uuid>, receive: bool| {
        let (lab, nurse, mei) = (&lab, &nurse, &mei);
        async move {
            let specimens = lab.collect(nurse, PatientId::from_uuid(patient), &orders).await?;
            if receive {
                for s in specimens {
                    lab.receive(mei, s.id).await?;
                }
            }
            anyhow::Ok(orders)
        }
    };

    // Ravi Kumar: two blood counts, the first a mild anaemia, now better (a trend).
    for hb in ["11.2", "12.6"] {
        let o = collect_receive(
            ravi,
            order(app, &doctor, ravi, &["CBC"], Priority::Routine, "Follow-up of anaemia").await?,
            true,
        )
        .await?;
        enter(app, &mei, o[0], &[("HB", hb), ("MCV", "76")]).await?;
        lab.verify(&arjun, o[0]).await?;
    }
    // Released with a critical potassium: Dr Rao's task until acknowledged.
    let o = collect_receive(
        p2,
        order(app, &doctor, p2, &["RENAL"], Priority::Urgent, "On spironolactone and ramipril; weakness")
            .await?,
        true,
    )
    .await?;
    enter(app, &mei, o[0], &[("K", "6.8"), ("CREAT", "1.9"), ("UREA", "64")]).await?;
    lab.verify(&arjun, o[0]).await?;
    // Entered by Mei, waiting for a second person to verify.
    let o = collect_receive(
        p3,
        order(app, &doctor, p3, &["LIPID"], Priority::Routine, "Fasting 12 hours").await?,
        true,
    )
    .await?;
    enter(app, &mei, o[0], &[]).await?;
    // In the lab, results to enter.
    collect_receive(
        p4,
        order(app, &doctor, p4, &["LFT"], Priority::Routine, "Jaundice for a week").await?,
        true,
    )
    .await?;
    // Collected on the ward, to be received.
    collect_receive(
        p5,
        order(app, &doctor, p5, &["CBC"], Priority::Urgent, "Fever 4 days, ?dengue").await?,
        false,
    )
    .await?;
    // Waiting for collection: a stat and a routine order.
    order(app, &doctor, p6, &["ELEC", "GLU-R"], Priority::Stat, "Vomiting, drowsy").await?;
    order(app, &doctor, p7, &["THYROID"], Priority::Routine, "").await?;
    // Cancelled with its reason.
    let o = order(app, &doctor, p8, &["UA"], Priority::Routine, "").await?;
    lab.cancel_order(&doctor, o[0], "Patient could not give a sample; will reorder").await?;
    println!("Demo laboratory: orders in every state; one critical potassium waiting for dr.rao.");
    Ok(())
}
