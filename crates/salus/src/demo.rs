//! The demo hospital: one user per role, created on the first run with a generated
//! password printed once (a later run finds them and prints no passwords), and a few
//! hundred patients of the cultures Salus serves — among them the patient account's own
//! record, a restricted record and a likely duplicate to merge. Also `salus generate`,
//! which fills a database with many more for benchmarks.

use salus_app::App;
use salus_app::Ctx;
use std::process::ExitCode;
use std::time::Instant;

use salus_app::identity::NewUser;
use salus_app::patients::PatientInput;
use salus_core::Role;

use crate::config::Config;
use crate::run::{init_logging, open_app};

/// Username, display name and role of each demo account.
pub const DEMO_USERS: [(&str, &str, Role); 10] = [
    ("admin", "Asha Menon", Role::Admin),
    ("dr.rao", "Dr Priya Rao", Role::Doctor),
    // A radiologist: reports and authorises the imaging Dr Rao orders.
    ("dr.iyer", "Dr Vikram Iyer", Role::Doctor),
    ("nurse.amina", "Amina Yusuf", Role::Nurse),
    ("reception.kofi", "Kofi Mensah", Role::Receptionist),
    ("lab.mei", "Mei Lin", Role::LabTechnician),
    // A second technician: results are verified by someone other than who entered them.
    ("lab.arjun", "Arjun Nair", Role::LabTechnician),
    ("pharm.omar", "Omar Haddad", Role::Pharmacist),
    ("billing.sara", "Sara Novak", Role::Billing),
    ("patient.ravi", "Ravi Kumar", Role::Patient),
];

pub async fn ensure_demo(app: &App) -> anyhow::Result<()> {
    let names: Vec<&str> = DEMO_USERS.iter().map(|(u, _, _)| *u).collect();
    let present = app.identity().existing_usernames(&Ctx::operator(), &names).await?;
    let mut created = Vec::new();
    for (username, name, role) in DEMO_USERS {
        if present.iter().any(|p| p == username) {
            continue;
        }
        let new = NewUser {
            username: username.into(),
            display_name: name.into(),
            password: None,
            roles: vec![role],
        };
        let (user, password) = app.identity().create_user(&Ctx::operator(), new).await?;
        created.push((user.username, role, password.unwrap_or_default()));
    }
    ensure_demo_patients(app).await?;
    ensure_demo_organisation(app).await?;
    ensure_demo_schedule(app).await?;
    ensure_demo_clinical(app).await?;
    let patients = demo_patients(app).await?;
    crate::demo_lab::ensure_demo_lab(app, &patients).await?;
    // Ravi, then patients the laboratory's morning did not use.
    let imaging: Vec<uuid::Uuid> = patients.iter().take(1).chain(patients.iter().skip(8)).copied().collect();
    crate::demo_imaging::ensure_demo_imaging(app, &imaging).await?;
    crate::demo_pharmacy::ensure_demo_pharmacy(app, &patients).await?;
    crate::demo_inpatient::ensure_demo_wards(app, &patients).await?;
    crate::demo_billing::ensure_demo_billing(app, &patients).await?;
    ensure_demo_today(app).await?;
    if created.is_empty() {
        println!("Demo users already exist; their passwords were printed on the first run.");
        println!("Forgot one? `salus user reset-password <username>` prints a new one.");
    } else {
        println!("Demo users (these passwords are shown only now):");
        for (username, role, password) in &created {
            println!("  {:<16} {:<16} {}", role.as_str(), username, password);
        }
    }
    Ok(())
}

/// How many made-up patients the demo has, and their seed.
const DEMO_PATIENTS: u64 = 300;
const DEMO_SEED: u64 = 2026;

fn input(given: &str, family: &str, sex: &str, born: &str, phone: &str) -> PatientInput {
    PatientInput {
        given_names: given.into(),
        family_name: family.into(),
        sex: sex.into(),
        birth_date: born.into(),
        phone: phone.into(),
        city: "Chennai".into(),
        country: "IN".into(),
        preferred_language: "Tamil".into(),
        ..Default::default()
    }
}

/// The demo's patients, made once: on a later run they are found and left alone.
async fn ensure_demo_patients(app: &App) -> anyhow::Result<()> {
    let op = Ctx::operator();
    if salus_db::patients::count_patients(app.db.reader()).await? > 0 {
        return Ok(());
    }
    let ravi = app
        .patients()
        .register_patient(&op, input("Ravi", "Kumar", "male", "1979-08-15", "+91 98400 12345"), true)
        .await?;
    let mut vip = input("Meera", "Krishnan", "female", "1968-02-11", "+91 98410 55555");
    vip.restricted = true;
    vip.restricted_reason = "Public figure".into();
    app.patients().register_patient(&op, vip, true).await?;
    // The same woman registered twice, with a spelling difference: an administrator's merge.
    app.patients()
        .register_patient(&op, input("Fatima", "Begum", "female", "1990-06-01", "+91 99620 11111"), true)
        .await?;
    app.patients().register_patient(&op, input("Fathima", "Begum", "female", "1990-06-01", ""), true).await?;
    app.patients().generate_patients(&op, DEMO_PATIENTS, DEMO_SEED, 0, |_| {}).await?;
    if let Ok(user) = app.identity().find_user_by_username(&op, "patient.ravi").await {
        app.patients().link_patient_account(&op, user.id, &ravi.patient.mrn).await?;
    }
    println!(
        "Demo patients: {} (Ravi Kumar {} is patient.ravi's own record; Meera Krishnan is restricted; Fatima/Fathima Begum are a duplicate to merge).",
        DEMO_PATIENTS + 4,
        ravi.patient.mrn
    );
    Ok(())
}

/// The demo hospital's departments: code, name.
const DEMO_DEPARTMENTS: &[(&str, &str)] = &[
    ("OPD-GM", "General Medicine OPD"),
    ("CARD", "Cardiology"),
    ("PAED", "Paediatrics"),
    ("OBGYN", "Obstetrics and Gynaecology"),
    ("ORTHO", "Orthopaedics"),
    ("LAB", "Laboratory"),
    ("RAD", "Radiology"),
    ("PHARM", "Pharmacy"),
    ("WARD", "Inpatient wards"),
    ("FRONT", "Front office"),
];

/// The demo price list: code, name, category, department code, price in rupees, tax %.
/// Healthcare services are exempt from GST in India; a private room above ₹5,000 a day
/// carries 5 %, and a copy of records (not a health service) 18 %.
const DEMO_SERVICES: &[(&str, &str, &str, &str, &str, &str)] = &[
    ("CONS-GM", "Consultation, general medicine", "consultation", "OPD-GM", "500", "0"),
    ("CONS-GM-FU", "Follow-up consultation, general medicine", "consultation", "OPD-GM", "300", "0"),
    ("CONS-CARD", "Consultation, cardiology", "consultation", "CARD", "900", "0"),
    ("CONS-PAED", "Consultation, paediatrics", "consultation", "PAED", "600", "0"),
    ("CONS-OBGYN", "Consultation, obstetrics and gynaecology", "consultation", "OBGYN", "700", "0"),
    ("ECG", "Electrocardiogram (12-lead)", "procedure", "CARD", "350", "0"),
    ("ECHO", "Echocardiogram", "imaging", "CARD", "2500", "0"),
    ("DRESS-S", "Wound dressing, small", "procedure", "OPD-GM", "200", "0"),
    ("INJ-IM", "Intramuscular injection (administration)", "procedure", "OPD-GM", "100", "0"),
    ("LAB-CBC", "Complete blood count", "laboratory", "LAB", "350", "0"),
    ("LAB-FBS", "Fasting blood sugar", "laboratory", "LAB", "120", "0"),
    ("LAB-HBA1C", "HbA1c", "laboratory", "LAB", "550", "0"),
    ("LAB-LIPID", "Lipid profile", "laboratory", "LAB", "650", "0"),
    ("LAB-LFT", "Liver function tests", "laboratory", "LAB", "700", "0"),
    ("LAB-RFT", "Renal function tests", "laboratory", "LAB", "650", "0"),
    ("LAB-TSH", "Thyroid stimulating hormone", "laboratory", "LAB", "400", "0"),
    ("LAB-URINE", "Urine routine and microscopy", "laboratory", "LAB", "150", "0"),
    ("RAD-XR-CHEST", "X-ray chest PA view", "imaging", "RAD", "450", "0"),
    ("RAD-USG-ABD", "Ultrasound abdomen and pelvis", "imaging", "RAD", "1500", "0"),
    ("RAD-XR", "X-ray, two views", "imaging", "RAD", "500", "0"),
    ("RAD-USG", "Ultrasound, small parts", "imaging", "RAD", "1200", "0"),
    ("RAD-USG-OBS", "Ultrasound, obstetric", "imaging", "RAD", "1400", "0"),
    ("RAD-USG-DOP", "Doppler ultrasound, one limb", "imaging", "RAD", "2200", "0"),
    ("RAD-CT-HEAD", "CT head", "imaging", "RAD", "2500", "0"),
    ("RAD-CT", "CT with contrast, one region", "imaging", "RAD", "5500", "0"),
    ("RAD-MRI", "MRI, one region", "imaging", "RAD", "7500", "0"),
    ("RAD-MAMMO", "Mammography, bilateral", "imaging", "RAD", "1800", "0"),
    ("RAD-FLUORO", "Fluoroscopic contrast study", "imaging", "RAD", "2000", "0"),
    ("BED-GEN", "Bed day, general ward", "bed_day", "WARD", "1200", "0"),
    ("BED-SEMI", "Bed day, semi-private room", "bed_day", "WARD", "3000", "0"),
    ("BED-PVT", "Bed day, private room", "bed_day", "WARD", "6000", "5"),
    ("REG-CARD", "Registration card", "other", "FRONT", "50", "0"),
    ("REC-COPY", "Copy of medical records", "other", "FRONT", "250", "18"),
];

/// Ravi, then patients who are neither restricted, deceased nor the duplicate left for a
/// merge: whom the demo's laboratory and imaging work is for.
async fn demo_patients(app: &App) -> anyhow::Result<Vec<uuid::Uuid>> {
    let ids = salus_db::patients::first_patient_ids(app.db.reader(), 24).await?;
    let rows = salus_db::patients::find_patients(app.db.reader(), &ids).await?;
    Ok(ids
        .iter()
        .filter(|id| {
            rows.iter()
                .any(|p| p.id == **id && !p.restricted && p.family_name != "Begum" && p.deceased_at.is_none())
        })
        .copied()
        .collect())
}

/// The demo's facility, departments, staff profiles and price list, made once.
async fn ensure_demo_organisation(app: &App) -> anyhow::Result<()> {
    use salus_app::organisation::{
        Amount, DepartmentInput, FacilityInput, Percent, ServiceInput, StaffProfileInput,
    };
    let op = Ctx::operator();
    if !app.organisation().facilities(&op).await?.is_empty() {
        return Ok(());
    }
    let facility = app
        .organisation()
        .create_facility(
            &op,
            FacilityInput {
                code: "MAIN".into(),
                name: "Salus Demo Hospital".into(),
                address: "12 Anna Salai, Chennai 600002".into(),
                phone: "+91 44 2345 6789".into(),
                active: true,
            },
        )
        .await?;
    let mut departments = Vec::new();
    for (code, name) in DEMO_DEPARTMENTS {
        let input = DepartmentInput {
            facility_id: facility.id,
            code: (*code).into(),
            name: (*name).into(),
            active: true,
        };
        departments.push(app.organisation().create_department(&op, input).await?);
    }
    let department = |code: &str| departments.iter().find(|d| d.code == code).map(|d| d.id);
    for (code, name, category, dept, price, tax) in DEMO_SERVICES {
        let input = ServiceInput {
            code: (*code).into(),
            name: (*name).into(),
            category: (*category).into(),
            department_id: department(dept),
            price: Amount::Typed((*price).into()),
            tax_rate: Percent::Typed((*tax).into()),
            active: true,
        };
        app.organisation().create_service(&op, input).await?;
    }
    let specialisations = app.organisation().specialisations(&op).await?;
    let specialisation = |code: &str| specialisations.iter().find(|s| s.code == code).map(|s| s.id);
    // username, job title, qualifications, council, registration, department, specialisation, fee
    let profiles = [
        (
            "dr.rao",
            "Consultant physician",
            "MBBS, MD (General Medicine)",
            "Tamil Nadu Medical Council",
            "TNMC-84512",
            "OPD-GM",
            "GEN-MED",
            "500",
        ),
        (
            "dr.iyer",
            "Consultant radiologist",
            "MBBS, MD (Radiodiagnosis)",
            "Tamil Nadu Medical Council",
            "TNMC-90277",
            "RAD",
            "RAD",
            "",
        ),
        (
            "nurse.amina",
            "Staff nurse",
            "BSc Nursing",
            "Tamil Nadu Nurses and Midwives Council",
            "TNNMC-220931",
            "WARD",
            "",
            "",
        ),
        ("reception.kofi", "Front office executive", "", "", "", "FRONT", "", ""),
        ("lab.mei", "Laboratory technologist", "BSc MLT", "", "", "LAB", "", ""),
        ("lab.arjun", "Laboratory technologist", "MSc Medical Biochemistry", "", "", "LAB", "", ""),
        ("pharm.omar", "Pharmacist", "BPharm", "Tamil Nadu Pharmacy Council", "TNPC-31877", "PHARM", "", ""),
        ("billing.sara", "Billing executive", "", "", "", "FRONT", "", ""),
    ];
    for (username, title, quals, council, number, dept, spec, fee) in profiles {
        let Ok(user) = app.identity().find_user_by_username(&op, username).await else { continue };
        let input = StaffProfileInput {
            job_title: title.into(),
            qualifications: quals.into(),
            registration_council: council.into(),
            registration_number: number.into(),
            department_id: department(dept),
            specialisation_id: specialisation(spec),
            consultation_fee: (!fee.is_empty()).then(|| Amount::Typed(fee.into())),
        };
        app.organisation().save_staff_profile(&op, user.id, 0, input).await?;
    }
    println!(
        "Demo organisation: {} with {} departments and {} services on the price list.",
        facility.name,
        departments.len(),
        DEMO_SERVICES.len()
    );
    Ok(())
}

/// Dr Rao's week: morning clinics Monday to Saturday and evening clinics Monday,
/// Wednesday and Friday in General Medicine OPD, and the coming week about two-thirds
/// booked with demo patients (deterministically), made once.
async fn ensure_demo_schedule(app: &App) -> anyhow::Result<()> {
    use salus_app::scheduling::{BookInput, TemplateInput};
    let op = Ctx::operator();
    let Ok(doctor) = app.identity().find_user_by_username(&op, "dr.rao").await else { return Ok(()) };
    if !app.scheduling().templates(&op, Some(doctor.id)).await?.is_empty() {
        return Ok(());
    }
    let departments = app.organisation().departments(&op, None).await?;
    let Some(opd) = departments.iter().find(|d| d.code == "OPD-GM") else { return Ok(()) };
    let (today, _) = salus_app::scheduling::local_now(app.time_zone);
    let session = |weekday: i16, start: &str, end: &str| TemplateInput {
        doctor_id: doctor.id,
        department_id: opd.id,
        weekday,
        start: start.into(),
        end: end.into(),
        slot_minutes: 15,
        capacity: 1,
        overbook: 1,
        valid_from: today,
        valid_until: None,
    };
    for weekday in 1..=6 {
        app.scheduling().create_template(&op, session(weekday, "09:00", "13:00")).await?;
    }
    for weekday in [1, 3, 5] {
        app.scheduling().create_template(&op, session(weekday, "17:00", "19:00")).await?;
    }
    let patients = salus_db::patients::first_patient_ids(app.db.reader(), 200).await?;
    let slots =
        app.scheduling().free_slots(&op, &[doctor.id], None, today + chrono::Duration::days(1), 7).await?;
    let reasons = [
        "Fever and cough",
        "Diabetes follow-up",
        "Blood pressure review",
        "Back pain",
        "Headache",
        "Routine check-up",
    ];
    let mut booked = 0;
    for (i, slot) in slots.iter().enumerate() {
        // About two slots in three, the same ones on every fresh demo.
        if i % 3 == 2 || patients.is_empty() {
            continue;
        }
        let input = BookInput {
            patient_id: patients[(i * 7) % patients.len()].into(),
            doctor_id: doctor.id,
            date: slot.date,
            time: slot.time.to_string(),
            reason: reasons[i % reasons.len()].into(),
            overbook: false,
        };
        app.scheduling().book(&op, input).await?;
        booked += 1;
    }
    println!("Demo schedule: Dr Priya Rao's clinics, {booked} appointments booked in the coming week.");
    Ok(())
}

/// A day in progress whenever the demo starts, whatever the weekday and however long
/// after the first run: when Dr Rao has nothing today, patients walk in (two already seen,
/// the rest waiting by token) and the free slots left today are booked, adding an extra
/// session when today has none (a Sunday). Made through the use cases, audited.
async fn ensure_demo_today(app: &App) -> anyhow::Result<()> {
    use salus_app::scheduling::{BookInput, ExceptionInput};
    use salus_core::scheduling::Transition;
    let op = Ctx::operator();
    let Ok(rao) = app.identity().find_user_by_username(&op, "dr.rao").await else { return Ok(()) };
    let (today, now) = salus_app::scheduling::local_now(app.time_zone);
    if !app.scheduling().appointments_on(&op, today, Some(rao.id)).await?.is_empty() {
        return Ok(());
    }
    let patients = salus_db::patients::first_patient_ids(app.db.reader(), 200).await?;
    if patients.len() < 40 {
        return Ok(());
    }
    let mut slots = app.scheduling().free_slots(&op, &[rao.id], None, today, 1).await?;
    if slots.is_empty() {
        // From the next quarter hour for three hours, within today.
        let start = (u32::from(now) / 15 + 1) * 15;
        let end = (start + 180).min(23 * 60 + 45);
        if end > start {
            let department =
                app.organisation().departments(&op, None).await?.into_iter().find(|d| d.code == "OPD-GM");
            app.scheduling()
                .add_exception(
                    &op,
                    ExceptionInput {
                        doctor_id: Some(rao.id),
                        date: today,
                        kind: "extra".into(),
                        start: format!("{:02}:{:02}", start / 60, start % 60),
                        end: format!("{:02}:{:02}", end / 60, end % 60),
                        department_id: department.map(|d| d.id),
                        slot_minutes: Some(15),
                        capacity: Some(1),
                        reason: "Demo: a clinic today".into(),
                    },
                )
                .await?;
            slots = app.scheduling().free_slots(&op, &[rao.id], None, today, 1).await?;
        }
    }
    let doctor = staff_ctx(app, "dr.rao", Role::Doctor).await?;
    let reasons = ["Fever for three days", "Sugar review", "Cough and cold", "Knee pain", "BP check", "Rash"];
    let mut walked_in = Vec::new();
    for (i, reason) in reasons.iter().enumerate() {
        let patient = patients[40 + i * 3];
        walked_in.push(app.scheduling().walk_in(&op, patient.into(), rao.id, reason).await?);
    }
    // The first two have been seen.
    for a in walked_in.iter().take(2) {
        let a = app.scheduling().transition(&doctor, a.id, a.version, Transition::Start, "").await?;
        app.scheduling().transition(&doctor, a.id, a.version, Transition::Finish, "").await?;
    }
    let mut booked = 0;
    for (i, slot) in slots.iter().take(6).enumerate() {
        let input = BookInput {
            patient_id: patients[100 + i * 5].into(),
            doctor_id: rao.id,
            date: slot.date,
            time: slot.time.to_string(),
            reason: reasons[i % reasons.len()].into(),
            overbook: false,
        };
        if app.scheduling().book(&op, input).await.is_ok() {
            booked += 1;
        }
    }
    println!(
        "Demo today: {} walk-ins for Dr Priya Rao (2 seen, {} waiting), {booked} more booked later today.",
        walked_in.len(),
        walked_in.len() - 2
    );
    Ok(())
}

/// A signed-in staff member's context for the demo's use cases.
pub(crate) async fn staff_ctx(app: &App, username: &str, role: Role) -> anyhow::Result<Ctx> {
    use salus_app::identity::{Actor, ClientInfo, CurrentUser};
    let u = app.identity().find_user_by_username(&Ctx::operator(), username).await?;
    let user = CurrentUser {
        id: u.id,
        username: salus_core::Username::parse(username)?,
        display_name: u.display_name.clone(),
        roles: vec![role],
        gate: None,
        scope: None,
        two_factor_enabled: false,
        patient_id: None,
        smart: None,
    };
    Ok(Ctx::new(Actor::User(user), ClientInfo::default()))
}

/// Visits of the kind a clinic sees, for Ravi Kumar (patient.ravi's own record) and a
/// few others: vitals, a signed note, diagnoses, an allergy and prescriptions. Made once.
async fn ensure_demo_clinical(app: &App) -> anyhow::Result<()> {
    use salus_app::clinical::prescriptions::NewPrescription;
    use salus_app::clinical::problems::{NewAllergy, NewDiagnosis};
    use salus_app::clinical::{NewEncounter, Soap};
    use salus_core::clinical::VitalsText;
    let op = Ctx::operator();
    let (Ok(_), Ok(_)) = (
        app.identity().find_user_by_username(&op, "dr.rao").await,
        app.identity().find_user_by_username(&op, "nurse.amina").await,
    ) else {
        return Ok(());
    };
    let doctor = staff_ctx(app, "dr.rao", Role::Doctor).await?;
    let nurse = staff_ctx(app, "nurse.amina", Role::Nurse).await?;
    let Some(first) = salus_db::patients::first_patient_ids(app.db.reader(), 1).await?.first().copied()
    else {
        return Ok(());
    };
    if !app.clinical().encounters(&doctor, first.into(), None, 1).await?.is_empty() {
        return Ok(());
    }
    // Note templates for the general OPD.
    for (name, s, o, a, p) in [
        (
            "General OPD visit",
            "Complaints:\nHistory:",
            "General examination:\nSystemic examination:",
            "Impression:",
            "Investigations:\nTreatment:\nReview:",
        ),
        (
            "Diabetes follow-up",
            "Symptoms of hypo/hyperglycaemia:\nAdherence:",
            "Foot examination:\nBP:",
            "Glycaemic control:",
            "HbA1c due:\nMedication changes:",
        ),
        (
            "Antenatal visit",
            "Gestation (weeks):\nFetal movements:",
            "Fundal height:\nOedema:",
            "Risk assessment:",
            "Supplements:\nNext visit:",
        ),
    ] {
        let soap = Soap { subjective: s.into(), objective: o.into(), assessment: a.into(), plan: p.into() };
        app.clinical().save_note_template(&op, None, None, name, soap, true).await?;
    }

    let patients = salus_db::patients::first_patient_ids(app.db.reader(), 6).await?;
    let visits = [
        (
            "Follow-up of diabetes and blood pressure",
            ["36.7", "78", "148", "92", "78.4", "168"],
            "E11.9",
            Some("I10"),
            "Metformin",
            "500 mg",
            "twice a day with food",
            Some("Penicillin"),
        ),
        (
            "Fever and body ache for 3 days",
            ["38.6", "104", "112", "72", "61.0", "162"],
            "B50.9",
            None,
            "Artemether + lumefantrine",
            "4 tablets",
            "twice a day",
            None,
        ),
        (
            "Cough and wheeze",
            ["37.2", "92", "124", "80", "55.5", "158"],
            "J45.909",
            None,
            "Salbutamol",
            "2 puffs",
            "when needed, up to 4 times a day",
            None,
        ),
        (
            "Burning urination",
            ["37.0", "84", "118", "76", "64.2", "160"],
            "N39.0",
            None,
            "Nitrofurantoin",
            "100 mg",
            "twice a day",
            Some("Sulfa drugs"),
        ),
        (
            "Headache and dizziness",
            ["36.8", "76", "162", "100", "88.0", "171"],
            "I10",
            None,
            "Amlodipine",
            "5 mg",
            "once a day",
            None,
        ),
        (
            "Knee pain",
            ["36.6", "72", "130", "84", "92.5", "165"],
            "M17.11",
            None,
            "Paracetamol",
            "1 g",
            "every 8 hours when needed",
            None,
        ),
    ];
    for (patient, (complaint, v, code, second, med, dose, freq, allergy)) in patients.iter().zip(visits) {
        let patient = salus_core::PatientId::from_uuid(*patient);
        let enc = app
            .clinical()
            .open_encounter(
                &doctor,
                NewEncounter {
                    patient_id: patient,
                    appointment_id: None,
                    class: "AMB".into(),
                    chief_complaint: complaint.into(),
                },
            )
            .await?;
        let id = salus_core::EncounterId::from_uuid(enc.id);
        let vitals = VitalsText {
            temperature_c: v[0].into(),
            pulse: v[1].into(),
            systolic: v[2].into(),
            diastolic: v[3].into(),
            weight_kg: v[4].into(),
            height_cm: v[5].into(),
            ..Default::default()
        };
        app.clinical().record_vitals(&nurse, id, &vitals).await?;
        if let Some(substance) = allergy {
            app.clinical()
                .add_allergy(
                    &nurse,
                    patient,
                    NewAllergy {
                        substance: substance.into(),
                        reaction: "Rash".into(),
                        severity: "moderate".into(),
                    },
                )
                .await?;
        }
        let soap = Soap {
            subjective: complaint.into(),
            objective: format!("T {} °C, pulse {}, BP {}/{}.", v[0], v[1], v[2], v[3]),
            assessment: salus_app::clinical::icd::IcdCatalog::get()
                .find(code)
                .map_or_else(|| code.to_owned(), |c| format!("{} ({})", c.description, c.code)),
            plan: format!("{med} {dose} {freq}. Review in two weeks."),
        };
        let note = app.clinical().start_note(&doctor, id, None, soap).await?;
        app.clinical().sign_note(&doctor, salus_core::NoteId::from_uuid(note.id), note.version).await?;
        for c in std::iter::once(code).chain(second) {
            app.clinical()
                .add_diagnosis(
                    &doctor,
                    patient,
                    NewDiagnosis { code: c.into(), encounter_id: Some(id), onset: None },
                )
                .await?;
        }
        if let Some(m) =
            app.clinical().medicines(&op, Some(med), false).await?.into_iter().next().map(|m| m.id)
        {
            let input = NewPrescription {
                medicine_id: m,
                encounter_id: Some(id),
                dose: dose.into(),
                frequency: freq.into(),
                duration_days: Some(14),
                override_reason: "Demo".into(),
                ..Default::default()
            };
            app.clinical().prescribe(&doctor, patient, input).await?;
        }
        app.clinical().close_encounter(&doctor, id, enc.version, None).await?;
    }
    println!(
        "Demo clinical record: {} visits with vitals, signed notes, diagnoses and prescriptions.",
        patients.len()
    );
    Ok(())
}

/// `salus generate`: a hospital of the size asked, reproducibly, with progress and the
/// rate achieved per table.
pub async fn generate(config: Config, args: crate::GenerateArgs) -> anyhow::Result<ExitCode> {
    use salus_app::hospital::HospitalSpec;
    init_logging(&config);
    let base = match (&args.size, args.patients) {
        (Some(size), _) => HospitalSpec::sized(size)
            .ok_or_else(|| anyhow::anyhow!("--size must be 1k, 100k or 1m, not `{size}`"))?,
        (None, Some(patients)) => HospitalSpec { patients, ..HospitalSpec::default() },
        (None, None) => anyhow::bail!("give --size or --patients"),
    };
    if args.doctors == 0 {
        anyhow::bail!("--doctors must be at least 1");
    }
    let spec = HospitalSpec {
        seed: args.seed,
        doctors: args.doctors,
        schedule_days: args.days.clamp(0, 366),
        visits_per_patient: args.visits,
        busy_encounters: args.busy_encounters,
        lab_orders: args.lab_orders,
        stock_items: args.stock_items.unwrap_or(base.stock_items),
        stock_batches: args.stock_batches.unwrap_or(base.stock_batches).clamp(1, 100),
        invoices: args.invoices.unwrap_or(base.invoices),
        password: args.password,
        ..base
    };
    let app = open_app(&config).await?;
    let started = Instant::now();
    let report = app
        .generate_hospital(&Ctx::operator(), &spec, |step| {
            eprintln!("{:>7.1} s  {step}", started.elapsed().as_secs_f64());
        })
        .await?;
    let secs = report.seconds.max(0.001);
    println!(
        "generated {} patients ({} to {}): {} rows in {secs:.1} s, {:.0} rows/s",
        spec.patients,
        report.first_mrn,
        report.last_mrn,
        report.rows(),
        report.rows() as f64 / secs
    );
    for (table, rows) in &report.tables {
        println!("  {table:<20} {rows:>10}");
    }
    if let Some(busy) = report.busy_patient {
        println!("busy patient {busy}: {} encounters", spec.busy_encounters);
    }
    println!(
        "accounts bench.admin, bench.desk, bench.nurse, bench.lab1, bench.lab2, bench.pharm01…16, bench.billing01…16, bench.doctor001… share the password given"
    );
    Ok(ExitCode::SUCCESS)
}
