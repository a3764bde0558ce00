//! The demo's wards: General medicine (its store the pharmacy's ward store) and the ICU,
//! with patients in every state — admitted, a discharge ordered, one moved from a bed now
//! being cleaned — a bed blocked, one held for a request waiting at the desk, and a second
//! request waiting. Made through the use cases, so every row is audited like a real one.

use salus_app::inpatient::admissions::{AdmitInput, RequestInput};
use salus_app::inpatient::{NewBeds, NewWard};
use salus_app::{App, Ctx};
use salus_core::PatientId;
use salus_core::inpatient::{BedState, BedType};
use uuid::Uuid;

use crate::demo::staff_ctx;

/// Rooms of a ward: room, beds, type, tags.
type Rooms = &'static [(&'static str, &'static [&'static str], BedType, &'static str)];

const GENERAL: Rooms = &[
    ("101", &["A", "B", "C", "D"], BedType::General, "oxygen"),
    ("102", &["A", "B", "C", "D"], BedType::General, ""),
    ("103", &["A", "B"], BedType::SemiPrivate, "oxygen"),
    ("104", &["A"], BedType::Private, "oxygen"),
    ("105", &["A"], BedType::Isolation, "isolation,oxygen"),
];
const ICU: Rooms = &[("ICU", &["1", "2", "3", "4"], BedType::Icu, "oxygen,monitor,ventilator")];

/// The demo's wards (skipped when a ward exists).
pub async fn ensure_demo_wards(app: &App, patients: &[Uuid]) -> anyhow::Result<()> {
    let op = Ctx::operator();
    let inpatient = app.inpatient();
    if !salus_db::inpatient::wards(app.db.reader(), true).await?.is_empty() {
        return Ok(());
    }
    let [.., a, b, c, d, e, f] = patients[..] else { return Ok(()) };
    let admin = staff_ctx(app, "admin", salus_core::Role::Admin).await?;
    let doctor = staff_ctx(app, "dr.rao", salus_core::Role::Doctor).await?;
    let nurse = staff_ctx(app, "nurse.amina", salus_core::Role::Nurse).await?;
    let desk = staff_ctx(app, "reception.kofi", salus_core::Role::Receptionist).await?;
    let store = salus_db::pharmacy::find_store_by_code(app.db.reader(), "WARD-GM").await?.map(|s| s.id);
    let mut beds = Vec::new();
    for (code, name, store, rooms) in
        [("GM", "General medicine", store, GENERAL), ("ICU", "Intensive care", None, ICU)]
    {
        let ward = inpatient
            .create_ward(
                &admin,
                NewWard {
                    code: code.into(),
                    name: name.into(),
                    department_id: None,
                    store_id: store,
                    late_minutes: None,
                },
            )
            .await?;
        for (room, letters, bed_type, tags) in rooms {
            let input = NewBeds {
                room: (*room).into(),
                letters: letters.iter().map(|l| (*l).into()).collect(),
                bed_type: *bed_type,
                tags: (*tags).into(),
                service_code: match bed_type {
                    BedType::SemiPrivate => "BED-SEMI",
                    BedType::Private | BedType::Isolation | BedType::Icu => "BED-PVT",
                    _ => "BED-GEN",
                }
                .into(),
            };
            beds.extend(inpatient.add_beds(&admin, ward.id, input).await?);
        }
    }
    let bed = |label: &str| {
        beds.iter().find(|b| b.label == label).map(|b| b.id).ok_or_else(|| anyhow::anyhow!("no bed {label}"))
    };
    let doctor_id = doctor.actor.user().map(|u| u.id.as_uuid()).unwrap_or_default();
    let ask = |patient: Uuid, reason: &str, bed_type: Option<BedType>| {
        let doctor = doctor.clone();
        let input =
            RequestInput { reason: reason.into(), bed_type, expected_days: Some(4), ..Default::default() };
        async move { inpatient.request_admission(&doctor, PatientId::from_uuid(patient), input).await }
    };
    let admit = |patient: Uuid, request: Option<Uuid>, bed: Uuid, diagnosis: &str| {
        let desk = desk.clone();
        let input = AdmitInput {
            patient_id: PatientId::from_uuid(patient),
            request_id: request,
            bed_id: bed,
            attending_id: doctor_id,
            diagnosis: diagnosis.into(),
            companion: false,
        };
        async move { inpatient.admit(&desk, input).await }
    };
    // Admitted on requests, and one straight from the emergency room into the ICU.
    let r = ask(a, "Community-acquired pneumonia, IV antibiotics", Some(BedType::General)).await?;
    let pneumonia = admit(a, Some(r.id), bed("101-A")?, "Community-acquired pneumonia").await?;
    let r = ask(b, "Uncontrolled diabetes with foot ulcer", Some(BedType::General)).await?;
    let moved = admit(b, Some(r.id), bed("101-B")?, "Diabetic foot ulcer").await?;
    admit(c, None, bed("ICU-1")?, "Acute myocardial infarction").await?;
    // One moved to a private room: 101-B is being cleaned.
    inpatient.transfer(&desk, moved.admission.id, bed("104-A")?, "Asked for a private room").await?;
    // One going home today: the doctor's order given, the bed still hers.
    let r = ask(d, "Dengue fever with low platelets", None).await?;
    let going = admit(d, Some(r.id), bed("102-A")?, "Dengue fever").await?;
    inpatient.order_discharge(&doctor, going.admission.id).await?;
    // Waiting at the desk: one with a bed held, one without.
    let held = ask(e, "Elective knee replacement", Some(BedType::SemiPrivate)).await?;
    inpatient.set_bed_state(&nurse, bed("103-A")?, BedState::Reserved, "", Some(held.id)).await?;
    ask(f, "Acute gastroenteritis, dehydrated", Some(BedType::General)).await?;
    // A bed out of use.
    inpatient
        .set_bed_state(&nurse, bed("102-D")?, BedState::Blocked, "Broken side rail; maintenance called", None)
        .await?;
    demo_doses(app, &doctor, &nurse, pneumonia.admission.id, moved.admission.id).await?;
    demo_ward_records(app, &doctor, &nurse, pneumonia.admission.id, going.admission.id).await?;
    let _ = op;
    println!(
        "Demo wards: General medicine and the ICU — four patients in beds (one going home), a bed being cleaned, one blocked, one held; two requests wait for reception.kofi at /admissions; doses due and overdue on nurse.amina's station (/wards/doses), an as-needed dose waiting for dr.rao's acknowledgement; a nursing record with fluids and tasks, a discharge summary drafted for the patient going home."
    );
    Ok(())
}

/// The medication record of two stays on General medicine: paracetamol four-hourly for
/// the pneumonia (one dose given on time, one overdue, more due), a dose held for the
/// foot ulcer before its dressing, and an as-needed dose given that waits for dr.rao.
async fn demo_doses(
    app: &App,
    doctor: &Ctx,
    nurse: &Ctx,
    pneumonia: Uuid,
    ulcer: Uuid,
) -> anyhow::Result<()> {
    use chrono::{Duration, Timelike, Utc};
    use salus_app::inpatient::mar::{DoseInput, OrderInput};
    use salus_core::inpatient::mar::{DoseOutcome, OrderKind};
    let inpatient = app.inpatient();
    let para = app
        .clinical()
        .medicines(doctor, Some("Paracetamol"), false)
        .await?
        .into_iter()
        .find(|m| m.form == "tablet")
        .ok_or_else(|| anyhow::anyhow!("no paracetamol tablet"))?;
    let now = Utc::now();
    let hour = |h: i64| {
        let t = (now + Duration::hours(h)).with_timezone(&app.time_zone);
        format!("{:02}:00", t.hour())
    };
    let scheduled = |times: Vec<String>, dose: &str, units: i32| OrderInput {
        medicine_id: para.id,
        dose: dose.into(),
        units_per_dose: Some(units),
        kind: Some(OrderKind::Scheduled),
        times: times.join(","),
        instructions: "After food".into(),
        starts_at: Some(now - Duration::hours(9)),
        duration_days: Some(3),
        ..Default::default()
    };
    let fever = inpatient
        .order_medication(doctor, pneumonia, scheduled(vec![hour(-6), hour(-2), hour(2), hour(6)], "1 g", 2))
        .await?;
    let dressing =
        inpatient.order_medication(doctor, ulcer, scheduled(vec![hour(-3), hour(5)], "500 mg", 1)).await?;
    // The dose time `h` hours from now, on the hour (as `hour` names it).
    let due_in = |h: i64| {
        let t = (now + Duration::hours(h)).with_timezone(&app.time_zone);
        t.with_minute(0)
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0))
            .map(|t| t.with_timezone(&Utc))
    };
    let key = || Uuid::now_v7().to_string();
    let due = due_in(-6).ok_or_else(|| anyhow::anyhow!("no dose time"))?;
    let given = DoseInput {
        due_at: Some(due),
        outcome: DoseOutcome::Given,
        reason: String::new(),
        given_at: Some(due + Duration::minutes(10)),
    };
    inpatient.record_dose(nurse, &key(), fever.id, given).await?;
    let due = due_in(-3).ok_or_else(|| anyhow::anyhow!("no dose time"))?;
    let held = DoseInput {
        due_at: Some(due),
        outcome: DoseOutcome::Held,
        reason: "Nil by mouth before the wound debridement".into(),
        given_at: Some(due + Duration::minutes(5)),
    };
    inpatient.record_dose(nurse, &key(), dressing.id, held).await?;
    let prn = OrderInput {
        medicine_id: para.id,
        dose: "500 mg".into(),
        kind: Some(OrderKind::AsNeeded),
        instructions: "For pain; not more than 4 in a day".into(),
        ..Default::default()
    };
    let prn = inpatient.order_medication(doctor, ulcer, prn).await?;
    let now_given =
        DoseInput { due_at: None, outcome: DoseOutcome::Given, reason: String::new(), given_at: None };
    inpatient.record_dose(nurse, &key(), prn.id, now_given).await?;
    Ok(())
}

/// The pneumonia's nursing record (a note, fluids in and out, a dressing due and a
/// turn done) and the dengue patient's discharge summary, drafted and waiting to be signed.
async fn demo_ward_records(
    app: &App,
    doctor: &Ctx,
    nurse: &Ctx,
    pneumonia: Uuid,
    going: Uuid,
) -> anyhow::Result<()> {
    use chrono::{Duration, Utc};
    use salus_app::inpatient::nursing::{IoInput, SummaryText, TaskInput};
    use salus_core::inpatient::nursing::Direction;
    let inpatient = app.inpatient();
    inpatient
        .write_nursing_note(nurse, pneumonia, "Febrile overnight (38.6 °C), settled after paracetamol. Coughing less; saturations 95% on 2 L oxygen.", None)
        .await?;
    // Measured since the admission (which the demo makes a moment ago).
    for (direction, route, ml, minutes) in [
        (Direction::Intake, "iv", 1000, 40),
        (Direction::Intake, "oral", 400, 25),
        (Direction::Output, "urine", 650, 10),
    ] {
        let input = IoInput {
            direction,
            route: route.into(),
            volume_ml: ml,
            measured_at: Some(Utc::now() - Duration::minutes(minutes)),
            note: String::new(),
        };
        inpatient.record_io(nurse, pneumonia, input).await?;
    }
    let turn = TaskInput {
        description: "Chest physiotherapy".into(),
        due_at: Some(Utc::now() - Duration::hours(2)),
        service_code: String::new(),
    };
    let turn = inpatient.add_task(nurse, pneumonia, turn).await?;
    inpatient.close_task(nurse, turn.id, true, "Tolerated well").await?;
    let line = TaskInput {
        description: "Change the IV cannula dressing".into(),
        due_at: Some(Utc::now() + Duration::hours(3)),
        service_code: String::new(),
    };
    inpatient.add_task(nurse, pneumonia, line).await?;
    let draft = inpatient.draft_summary(doctor, going).await?;
    let text = SummaryText {
        diagnoses: draft.diagnoses,
        procedures: draft.procedures,
        key_results: draft.key_results,
        medicines: draft.medicines,
        follow_up: "Medicine clinic in one week with a platelet count".into(),
        instructions: "Drink plenty of fluids; return at once with bleeding, black stools or abdominal pain"
            .into(),
    };
    inpatient.save_summary(doctor, going, text, draft.version).await?;
    Ok(())
}
