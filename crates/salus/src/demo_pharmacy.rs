//! The demo's pharmacy: a central store and the pharmacy stocked from two suppliers, batch
//! by batch (one of amoxicillin expiring within the month), a ward store supplied by
//! transfer, reorder levels with metformin below its own, one dispensing already done and
//! today's prescriptions waiting in the queue. Made once, through the use cases, so every
//! row is in the ledger and the audit trail like a real one.

use chrono::{Duration, Utc};
use salus_app::clinical::prescriptions::NewPrescription;
use salus_app::pharmacy::dispensing::LineInput;
use salus_app::pharmacy::orders::{OrderInput, OrderLineInput};
use salus_app::pharmacy::stock::{ReceiptInput, ReceiptLineInput};
use salus_app::pharmacy::transfers::TransferLineInput;
use salus_app::pharmacy::{NewStore, NewSupplier};
use salus_app::{App, Ctx};
use salus_core::PatientId;
use salus_core::pharmacy::StoreKind;
use uuid::Uuid;

use crate::demo::staff_ctx;

/// What the central store receives: item name (as the stock list names it), batch,
/// expiry in days from today, units, cost and sale price per unit in paise.
const DELIVERY: &[(&str, &str, i64, i64, i64, i64)] = &[
    ("Amoxicillin 500 mg capsule", "AMX2611A", 24, 60, 310, 450),
    ("Amoxicillin 500 mg capsule", "AMX2703C", 420, 500, 305, 450),
    ("Paracetamol 500 mg tablet", "PCM2609B", 300, 1000, 45, 80),
    ("Paracetamol 500 mg tablet", "PCM2702A", 520, 1000, 44, 80),
    ("Metformin 500 mg tablet", "MET2608D", 250, 60, 90, 150),
    ("Amlodipine 5 mg tablet", "AML2705A", 560, 300, 120, 210),
    ("Omeprazole 20 mg capsule", "OMP2612B", 380, 200, 150, 260),
    ("Azithromycin 500 mg tablet", "AZI2704C", 480, 90, 1800, 2600),
    ("Cetirizine 10 mg tablet", "CTZ2706A", 610, 200, 60, 110),
    ("Ibuprofen 400 mg tablet", "IBU2701B", 400, 300, 70, 120),
    ("Atorvastatin 20 mg tablet", "ATV2710A", 700, 300, 160, 280),
    ("Salbutamol 100 micrograms/dose inhaler", "SAL2705X", 540, 20, 11000, 15500),
    ("Examination gloves, nitrile medium", "GLV-2610", 330, 1000, 600, 900),
    ("Syringe, disposable 5 mL", "SYR-2712", 760, 500, 400, 700),
    ("IV cannula 20 G", "CAN-2709", 640, 100, 3000, 4500),
];

/// The demo's pharmacy (skipped when a store exists).
pub async fn ensure_demo_pharmacy(app: &App, patients: &[Uuid]) -> anyhow::Result<()> {
    let op = Ctx::operator();
    let pharmacy = app.pharmacy();
    if salus_db::pharmacy::find_store_by_code(app.db.reader(), "PHARM").await?.is_some() {
        return Ok(());
    }
    let [ravi, p2, p3, p4, ..] = patients[..] else { return Ok(()) };
    let admin = staff_ctx(app, "admin", salus_core::Role::Admin).await?;
    let pharmacist = staff_ctx(app, "pharm.omar", salus_core::Role::Pharmacist).await?;
    let doctor = staff_ctx(app, "dr.rao", salus_core::Role::Doctor).await?;
    let facility = app.organisation().facilities(&op).await?.into_iter().next().map(|f| f.id.as_uuid());
    let store = |code: &str, name: &str, kind| NewStore {
        code: code.into(),
        name: name.into(),
        kind,
        facility_id: facility,
        department_id: None,
        alert_email: String::new(),
    };
    let main = pharmacy.create_store(&admin, store("MAIN", "Central store", StoreKind::Main)).await?;
    let pharm = pharmacy
        .create_store(
            &admin,
            NewStore {
                alert_email: "pharmacy@salus-demo.example".into(),
                ..store("PHARM", "Main pharmacy", StoreKind::Pharmacy)
            },
        )
        .await?;
    let ward = pharmacy.create_store(&admin, store("WARD-GM", "General ward store", StoreKind::Ward)).await?;
    let medline = pharmacy
        .create_supplier(
            &admin,
            NewSupplier {
                name: "Medline Distributors".into(),
                contact_name: "Rakesh Jain".into(),
                phone: "+91 44 2811 4400".into(),
                email: "orders@medline.example".into(),
                tax_id: "33AABCM1234F1Z5".into(),
            },
        )
        .await?;
    let apex = pharmacy
        .create_supplier(&admin, NewSupplier { name: "Apex Pharma Wholesale".into(), ..Default::default() })
        .await?;

    // The delivery, into the central store; half of each batch goes on to the pharmacy.
    let items = pharmacy.items(&pharmacist, None, false).await?;
    let item = |name: &str| {
        items
            .iter()
            .find(|i| i.name == name)
            .map(|i| i.id)
            .ok_or_else(|| anyhow::anyhow!("no stock item {name}"))
    };
    let today = Utc::now().date_naive();
    let mut lines = Vec::new();
    for (name, batch, days, qty, cost, sale) in DELIVERY {
        lines.push(ReceiptLineInput {
            item_id: item(name)?,
            batch_no: (*batch).into(),
            expiry_date: Some(today + Duration::days(*days)),
            quantity: *qty,
            free_quantity: 0,
            cost_minor: *cost,
            sale_price_minor: *sale,
        });
    }
    let input = ReceiptInput {
        store_id: main.id,
        supplier_id: Some(medline.id),
        order_id: None,
        invoice_no: "MD/26-27/4471".into(),
        lines,
        short_expiry_reason: "Accepted at a discount; used first".into(),
    };
    let received = pharmacy.receive(&pharmacist, &Uuid::now_v7().to_string(), input).await?;
    let to_pharmacy: Vec<TransferLineInput> = received
        .lines
        .iter()
        .map(|(b, m)| TransferLineInput { batch_id: b.id, quantity: (m.quantity / 2).max(1) })
        .collect();
    let t = pharmacy
        .issue_transfer(&pharmacist, &Uuid::now_v7().to_string(), main.id, pharm.id, to_pharmacy)
        .await?;
    pharmacy.receive_transfer(&pharmacist, &Uuid::now_v7().to_string(), t.transfer.id).await?;
    // The ward's stock of paracetamol and gloves, sent and received.
    let to_ward: Vec<TransferLineInput> = received
        .lines
        .iter()
        .filter(|(b, _)| ["PCM2609B", "GLV-2610"].contains(&b.batch_no.as_str()))
        .map(|(b, _)| TransferLineInput { batch_id: b.id, quantity: 100 })
        .collect();
    let t =
        pharmacy.issue_transfer(&pharmacist, &Uuid::now_v7().to_string(), main.id, ward.id, to_ward).await?;
    pharmacy.receive_transfer(&pharmacist, &Uuid::now_v7().to_string(), t.transfer.id).await?;

    // Reorder levels: metformin (30 left in the pharmacy) is below its level.
    for (name, level, quantity) in [
        ("Metformin 500 mg tablet", 100, 500),
        ("Amoxicillin 500 mg capsule", 100, 500),
        ("Paracetamol 500 mg tablet", 200, 1000),
        ("Salbutamol 100 micrograms/dose inhaler", 5, 20),
    ] {
        pharmacy.set_reorder_level(&admin, pharm.id, item(name)?, level, quantity).await?;
    }

    // An order with Apex for the central store: paracetamol half delivered, metformin
    // still to come.
    let order = pharmacy
        .create_order(
            &pharmacist,
            &Uuid::now_v7().to_string(),
            OrderInput {
                supplier_id: Some(apex.id),
                store_id: main.id,
                expected_on: Some(today + Duration::days(3)),
                note: "Deliver to the central store, ground floor".into(),
                lines: vec![
                    OrderLineInput {
                        item_id: item("Metformin 500 mg tablet")?,
                        quantity: 1000,
                        cost_minor: 88,
                    },
                    OrderLineInput {
                        item_id: item("Paracetamol 500 mg tablet")?,
                        quantity: 2000,
                        cost_minor: 43,
                    },
                ],
            },
        )
        .await?;
    let part = ReceiptInput {
        store_id: main.id,
        supplier_id: Some(apex.id),
        order_id: Some(order.order.id),
        invoice_no: "APX/1187".into(),
        lines: vec![ReceiptLineInput {
            item_id: item("Paracetamol 500 mg tablet")?,
            batch_no: "PCM2711C".into(),
            expiry_date: Some(today + Duration::days(700)),
            quantity: 1000,
            free_quantity: 50,
            cost_minor: 43,
            sale_price_minor: 80,
        }],
        short_expiry_reason: String::new(),
    };
    pharmacy.receive(&pharmacist, &Uuid::now_v7().to_string(), part).await?;

    // Today's prescriptions: one dispensed already, the rest waiting in the queue.
    let medicines = app.clinical().medicines(&op, None, false).await?;
    let medicine = |name: &str, form: &str| {
        medicines
            .iter()
            .find(|m| m.generic_name == name && m.form == form)
            .map(|m| m.id)
            .ok_or_else(|| anyhow::anyhow!("no medicine {name} {form}"))
    };
    let rx = |patient: Uuid, medicine: Uuid, dose: &str, frequency: &str, days: i32, qty: i32, how: &str| {
        let doctor = doctor.clone();
        let input = NewPrescription {
            medicine_id: medicine,
            encounter_id: None,
            dose: dose.into(),
            route: String::new(),
            frequency: frequency.into(),
            duration_days: Some(days),
            quantity: Some(qty),
            instructions: how.into(),
            override_reason: "Demo: reviewed".into(),
        };
        async move { app.clinical().prescribe(&doctor, PatientId::from_uuid(patient), input).await }
    };
    let amox = medicine("Amoxicillin", "capsule")?;
    let para = medicine("Paracetamol", "tablet")?;
    let metformin = medicine("Metformin", "tablet")?;
    let amlodipine = medicine("Amlodipine", "tablet")?;
    let done = rx(p4, para, "500 mg", "every 6 hours as needed", 3, 10, "Not more than 4 in a day").await?;
    pharmacy
        .dispense(
            &pharmacist,
            &Uuid::now_v7().to_string(),
            PatientId::from_uuid(p4),
            pharm.id,
            vec![LineInput { prescription_id: Some(done.id), quantity: 10, ..Default::default() }],
        )
        .await?;
    rx(ravi, amox, "500 mg", "three times a day", 7, 21, "After food; finish the course").await?;
    rx(ravi, para, "500 mg", "every 6 hours as needed", 5, 12, "For fever; not more than 4 in a day").await?;
    rx(p2, metformin, "500 mg", "twice a day", 30, 60, "With breakfast and dinner").await?;
    rx(p3, amlodipine, "5 mg", "once a day", 30, 30, "In the morning").await?;
    println!(
        "Demo pharmacy: a central store, the pharmacy and a ward store; amoxicillin batch AMX2611A expires within the month, metformin is below its reorder level, an order with Apex half received, four prescriptions wait for pharm.omar."
    );
    Ok(())
}
