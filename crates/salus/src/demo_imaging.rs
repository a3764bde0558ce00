//! The demo's imaging day: examinations in every state — waiting to be booked, booked for
//! tomorrow, performed and waiting for a report, a draft waiting for authorisation, an
//! authorised report with its radiograph, an amended one, a cancelled order. Made once,
//! through the use cases, so every row is audited like a real one.

use chrono::{Duration, Utc};
use salus_app::imaging::orders::NewImagingOrder;
use salus_app::imaging::reports::ReportText;
use salus_app::{App, Ctx};
use salus_core::PatientId;
use salus_core::imaging::{ImagingStatus, Laterality};
use salus_core::laboratory::Priority;
use uuid::Uuid;

use crate::demo::staff_ctx;

async fn order(
    app: &App,
    doctor: &Ctx,
    patient: Uuid,
    code: &str,
    laterality: Option<Laterality>,
    priority: Priority,
    question: &str,
) -> anyhow::Result<Uuid> {
    let catalog = app.imaging().procedures(doctor, false).await?;
    let procedure =
        catalog.iter().find(|p| p.code == code).ok_or_else(|| anyhow::anyhow!("no procedure {code}"))?;
    let input = NewImagingOrder {
        procedure_id: Some(procedure.id),
        laterality,
        priority: Some(priority),
        clinical_question: question.into(),
        override_reason: "Demo: repeat requested".into(),
        ..Default::default()
    };
    Ok(app.imaging().place_order(doctor, PatientId::from_uuid(patient), input).await?.id)
}

fn text(findings: &str, impression: &str) -> ReportText {
    ReportText { findings: findings.into(), impression: impression.into() }
}

/// A made-up frontal chest radiograph, 320 × 320 grey levels, as PNG: dark lungs, a
/// brighter mediastinum and heart, ribs — enough to show where a study's images appear.
fn demo_radiograph() -> anyhow::Result<Vec<u8>> {
    use std::io::Write;
    const SIZE: u32 = 320;
    let mut raw = Vec::with_capacity(((SIZE + 1) * SIZE) as usize);
    for y in 0..SIZE {
        raw.push(0); // no filter
        for x in 0..SIZE {
            let (fx, fy) = (f64::from(x) / f64::from(SIZE) - 0.5, f64::from(y) / f64::from(SIZE) - 0.5);
            let body = (fx * fx / 0.18 + fy * fy / 0.24).min(1.0);
            let lung = |cx: f64| ((fx - cx).powi(2) / 0.014 + (fy + 0.02).powi(2) / 0.07) < 1.0;
            let heart = ((fx - 0.06).powi(2) / 0.016 + (fy - 0.13).powi(2) / 0.012) < 1.0;
            let rib = (fy * 38.0).sin().abs() > 0.93 && (lung(-0.17) || lung(0.17)) && !heart;
            let mut v = 200.0 - 120.0 * (1.0 - body);
            if lung(-0.17) || lung(0.17) {
                v = 55.0;
            }
            if heart || fx.abs() < 0.045 {
                v = 175.0;
            }
            if rib {
                v += 60.0;
            }
            raw.push(v.clamp(0.0, 255.0) as u8);
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw)?;
    let idat = z.finish()?;
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&SIZE.to_be_bytes());
    ihdr.extend_from_slice(&SIZE.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit greyscale, deflate, no filter method, no interlace
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", &ihdr), (b"IDAT", &idat), (b"IEND", &Vec::new())] {
        png.extend_from_slice(&u32::try_from(data.len())?.to_be_bytes());
        let start = png.len();
        png.extend_from_slice(kind);
        png.extend_from_slice(data);
        let crc = crc32fast::hash(&png[start..]);
        png.extend_from_slice(&crc.to_be_bytes());
    }
    Ok(png)
}

/// The demo's imaging day (skipped when imaging already has orders).
pub async fn ensure_demo_imaging(app: &App, patients: &[Uuid]) -> anyhow::Result<()> {
    if !salus_db::imaging::worklist(app.db.reader(), ImagingStatus::ALL, None, 1, 0).await?.is_empty() {
        return Ok(());
    }
    let [ravi, p2, p3, p4, p5, p6, p7, ..] = patients[..] else { return Ok(()) };
    let doctor = staff_ctx(app, "dr.rao", salus_core::Role::Doctor).await?;
    let radiologist = staff_ctx(app, "dr.iyer", salus_core::Role::Doctor).await?;
    let tech = staff_ctx(app, "lab.mei", salus_core::Role::LabTechnician).await?;
    let imaging = app.imaging();

    // Ravi Kumar: a chest X-ray with its radiograph, reported and authorised; in Dr Rao's inbox.
    let o = order(
        app,
        &doctor,
        ravi,
        "XR-CHEST-PA",
        None,
        Priority::Routine,
        "Cough for three weeks, smoker; ? consolidation",
    )
    .await?;
    imaging.perform(&tech, o, "PA erect, 110 kVp, good inspiration").await?;
    imaging.add_image(&tech, o, "chest-pa.png", &demo_radiograph()?).await?;
    imaging
        .write_report(
            &radiologist,
            o,
            text(
                "Lungs: patchy airspace opacity in the right lower zone, silhouetting the right hemidiaphragm.\nPleura: no effusion. No pneumothorax.\nHeart: normal size. Mediastinum: normal.\nBones: no acute abnormality.",
                "Right lower lobe consolidation, in keeping with pneumonia. Follow-up film after treatment recommended.",
            ),
        )
        .await?;
    imaging.authorise(&radiologist, o).await?;
    // An ultrasound reported, then amended when the gallbladder was re-read.
    let o =
        order(app, &doctor, p2, "US-ABD", None, Priority::Urgent, "Right upper quadrant pain after meals")
            .await?;
    imaging.perform(&radiologist, o, "Fasting 8 hours").await?;
    imaging.write_report(&radiologist, o, text("Liver normal in size and echotexture. Gallbladder distended, wall 2 mm. CBD 4 mm. Kidneys normal.", "Normal study.")).await?;
    imaging.authorise(&radiologist, o).await?;
    imaging
        .amend(
            &radiologist,
            o,
            text(
                "Liver normal in size and echotexture. Gallbladder distended with two mobile calculi, the largest 9 mm; wall 2 mm, no pericholecystic fluid. CBD 4 mm. Kidneys normal.",
                "Cholelithiasis without cholecystitis.",
            ),
            "Calculi seen on review of the stored images",
        )
        .await?;
    // A draft waiting for a doctor to authorise it.
    let o = order(
        app,
        &doctor,
        p3,
        "XR-KNEE",
        Some(Laterality::Left),
        Priority::Routine,
        "Knee pain for months; ? osteoarthritis",
    )
    .await?;
    imaging.perform(&tech, o, "AP standing and lateral").await?;
    imaging
        .write_report(
            &radiologist,
            o,
            text(
                "Medial joint-space narrowing with marginal osteophytes. No fracture.",
                "Medial compartment osteoarthritis.",
            ),
        )
        .await?;
    // Performed, waiting for its report: a stat CT head.
    let o = order(
        app,
        &doctor,
        p4,
        "CT-HEAD",
        None,
        Priority::Stat,
        "Sudden severe headache, vomiting; ? haemorrhage",
    )
    .await?;
    imaging.perform(&tech, o, "Non-contrast axial 5 mm").await?;
    // Booked for tomorrow morning, and waiting to be booked.
    let o = order(
        app,
        &doctor,
        p5,
        "MR-LSPINE",
        None,
        Priority::Routine,
        "Low back pain radiating to the left leg; ? disc prolapse",
    )
    .await?;
    let tomorrow = (Utc::now() + Duration::days(1)).with_timezone(&app.time_zone).date_naive();
    let nine = tomorrow.and_hms_opt(9, 0, 0).and_then(|t| t.and_local_timezone(app.time_zone).earliest());
    if let Some(at) = nine {
        imaging.schedule(&tech, o, at.with_timezone(&Utc), "MRI 1").await?;
    }
    order(app, &doctor, p6, "XR-CHEST-PA", None, Priority::Urgent, "Fever and breathlessness").await?;
    // Cancelled with its reason.
    let o = order(app, &doctor, p7, "CT-ABD", None, Priority::Routine, "Weight loss; ? mass").await?;
    imaging.cancel(&doctor, o, "Creatinine 2.1: contrast CT deferred, ultrasound first").await?;
    println!("Demo imaging: examinations in every state; dr.rao has two new reports to review.");
    Ok(())
}
