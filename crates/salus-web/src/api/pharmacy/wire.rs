//! The pharmacy's records as the API writes them: a stock item is shaped after FHIR
//! Medication (code, form, the batch with its lot number and expiration date), a
//! dispensing line after MedicationDispense, a delivery after SupplyDelivery.

use chrono::{DateTime, NaiveDate, Utc};
use salus_app::pharmacy::counts::CountSheet;
use salus_app::pharmacy::dispensing::{DispenseDetail, ItemStock, QueueItem, ToDispense};
use salus_app::pharmacy::stock::{Alerts, Expiring, LedgerCheck, LowStock, Received};
use salus_app::pharmacy::transfers::TransferDetail;
use salus_core::pharmacy::{
    Batch, CountStatus, Dispense, DispenseKind, DispenseLine, ItemKind, Lot, Movement, MovementKind,
    StockItem, Store, StoreKind, Supplier, Transfer, TransferLine, TransferStatus,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::clinical::prescriptions::PrescriptionOut;
use crate::api::laboratory::LabPatientOut;
use crate::api::openapi::coded;

/// A stock item (FHIR Medication for medicines): counted in one base unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockItemOut {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    #[schema(schema_with = coded::<ItemKind>)]
    pub kind: ItemKind,
    /// The catalog medicine (prescriptions name it); brands of one generic share it.
    pub medicine_id: Option<Uuid>,
    pub brand: Option<String>,
    pub form: String,
    pub strength: String,
    /// What one counted unit is ("tablet", "mL", "piece"); every quantity is in it.
    pub base_unit: String,
    /// Base units in a pack.
    pub pack_size: i32,
    pub tax_code: String,
    /// Tax in basis points (500 = 5 %).
    pub tax_rate_bp: i32,
    /// Sold only against a prescription.
    pub prescription_only: bool,
    pub active: bool,
    pub version: i32,
}

impl From<StockItem> for StockItemOut {
    fn from(i: StockItem) -> Self {
        Self {
            id: i.id,
            code: i.code,
            name: i.name,
            kind: i.kind,
            medicine_id: i.medicine_id,
            brand: i.brand,
            form: i.form,
            strength: i.strength,
            base_unit: i.base_unit,
            pack_size: i.pack_size,
            tax_code: i.tax_code,
            tax_rate_bp: i.tax_rate_bp,
            prescription_only: i.prescription_only,
            active: i.active,
            version: i.version,
        }
    }
}

/// A store (FHIR Location holding inventory).
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreOut {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    #[schema(schema_with = coded::<StoreKind>)]
    pub kind: StoreKind,
    pub facility_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub active: bool,
    /// The mailbox the daily stock alerts go to.
    pub alert_email: Option<String>,
    pub version: i32,
}

impl From<Store> for StoreOut {
    fn from(s: Store) -> Self {
        Self {
            id: s.id,
            code: s.code,
            name: s.name,
            kind: s.kind,
            facility_id: s.facility_id,
            department_id: s.department_id,
            active: s.active,
            alert_email: s.alert_email,
            version: s.version,
        }
    }
}

/// A supplier (FHIR Organization of type "supplier").
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierOut {
    pub id: Uuid,
    pub name: String,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub tax_id: Option<String>,
    pub active: bool,
    pub version: i32,
}

impl From<Supplier> for SupplierOut {
    fn from(s: Supplier) -> Self {
        Self {
            id: s.id,
            name: s.name,
            contact_name: s.contact_name,
            phone: s.phone,
            email: s.email,
            tax_id: s.tax_id,
            active: s.active,
            version: s.version,
        }
    }
}

/// A batch (Medication.batch: lotNumber, expirationDate) with its prices per base unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchOut {
    pub id: Uuid,
    pub item_id: Uuid,
    pub batch_no: String,
    /// The last day it may be used.
    pub expiry_date: NaiveDate,
    /// Minor units (paise) per base unit.
    pub cost_minor: i64,
    pub sale_price_minor: i64,
    pub supplier_id: Option<Uuid>,
    /// Held (quarantine, recall): never offered.
    pub held: bool,
    pub hold_reason: Option<String>,
}

impl From<Batch> for BatchOut {
    fn from(b: Batch) -> Self {
        Self {
            id: b.id,
            item_id: b.item_id,
            batch_no: b.batch_no,
            expiry_date: b.expiry_date,
            cost_minor: b.cost_minor,
            sale_price_minor: b.sale_price_minor,
            supplier_id: b.supplier_id,
            held: b.held,
            hold_reason: b.hold_reason,
        }
    }
}

/// A batch's stock in a store.
#[derive(Debug, Serialize, ToSchema)]
pub struct LotOut {
    pub store_id: Uuid,
    pub batch: BatchOut,
    pub on_hand: i64,
    pub reserved: i64,
    /// On hand less reserved.
    pub available: i64,
}

impl From<Lot> for LotOut {
    fn from(l: Lot) -> Self {
        Self {
            available: l.available(),
            store_id: l.store_id,
            batch: l.batch.into(),
            on_hand: l.on_hand,
            reserved: l.reserved,
        }
    }
}

/// A row of the stock ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovementOut {
    pub id: Uuid,
    pub store_id: Uuid,
    pub batch_id: Uuid,
    pub item_id: Uuid,
    #[schema(schema_with = coded::<MovementKind>)]
    pub kind: MovementKind,
    /// Signed: positive in, negative out.
    pub quantity: i64,
    /// On hand in this store and batch just after it.
    pub balance_after: i64,
    pub reason: Option<String>,
    /// What caused it (dispense_line, goods_receipt, stock_transfer, manual, patient_return).
    pub source_type: String,
    pub source_id: Uuid,
    pub patient_id: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

impl From<Movement> for MovementOut {
    fn from(m: Movement) -> Self {
        Self {
            id: m.id,
            store_id: m.store_id,
            batch_id: m.batch_id,
            item_id: m.item_id,
            kind: m.kind,
            quantity: m.quantity,
            balance_after: m.balance_after,
            reason: m.reason,
            source_type: m.source_type,
            source_id: m.source_id,
            patient_id: m.patient_id,
            created_by: m.created_by,
            created_at: m.created_at,
        }
    }
}

/// An item's line of a store's stock position.
#[derive(Debug, Serialize, ToSchema)]
pub struct PositionOut {
    pub item_id: Uuid,
    pub name: String,
    pub brand: Option<String>,
    pub base_unit: String,
    pub on_hand: i64,
    /// What may be given today: not held, not expired, not reserved.
    pub available: i64,
    pub first_expiry: Option<NaiveDate>,
    pub batches: i64,
}

impl From<salus_core::pharmacy::PositionRow> for PositionOut {
    fn from(r: salus_core::pharmacy::PositionRow) -> Self {
        Self {
            item_id: r.item_id,
            name: r.name,
            brand: r.brand,
            base_unit: r.base_unit,
            on_hand: r.on_hand,
            available: r.available,
            first_expiry: r.first_expiry,
            batches: r.batches,
        }
    }
}

/// A delivery (FHIR SupplyDelivery) with its batches and ledger rows.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptOut {
    pub id: Uuid,
    /// "GR26-000007".
    pub number: String,
    pub store_id: Uuid,
    pub supplier_id: Option<Uuid>,
    pub invoice_no: Option<String>,
    /// The purchase order the delivery filled.
    pub order_id: Option<Uuid>,
    pub received_by: Uuid,
    pub received_at: DateTime<Utc>,
    pub lines: Vec<ReceiptLineOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptLineOut {
    pub batch: BatchOut,
    pub movement: MovementOut,
}

impl From<Received> for ReceiptOut {
    fn from(r: Received) -> Self {
        let g = r.receipt;
        Self {
            id: g.id,
            number: g.number,
            store_id: g.store_id,
            supplier_id: g.supplier_id,
            invoice_no: g.invoice_no,
            order_id: g.order_id,
            received_by: g.received_by,
            received_at: g.received_at,
            lines: r
                .lines
                .into_iter()
                .map(|(b, m)| ReceiptLineOut { batch: b.into(), movement: m.into() })
                .collect(),
        }
    }
}

/// A transfer between stores with its lines.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferOut {
    pub id: Uuid,
    pub number: String,
    pub from_store_id: Uuid,
    pub to_store_id: Uuid,
    /// issued (in transit) or received.
    #[schema(schema_with = coded::<TransferStatus>)]
    pub status: TransferStatus,
    pub issued_by: Uuid,
    pub issued_at: DateTime<Utc>,
    pub received_by: Option<Uuid>,
    pub received_at: Option<DateTime<Utc>>,
    pub lines: Vec<TransferLineOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransferLineOut {
    pub item_id: Uuid,
    pub batch_id: Uuid,
    pub quantity: i64,
}

impl From<TransferLine> for TransferLineOut {
    fn from(l: TransferLine) -> Self {
        Self { item_id: l.item_id, batch_id: l.batch_id, quantity: l.quantity }
    }
}

impl From<Transfer> for TransferOut {
    fn from(t: Transfer) -> Self {
        Self {
            id: t.id,
            number: t.number,
            from_store_id: t.from_store_id,
            to_store_id: t.to_store_id,
            status: t.status,
            issued_by: t.issued_by,
            issued_at: t.issued_at,
            received_by: t.received_by,
            received_at: t.received_at,
            lines: Vec::new(),
        }
    }
}

impl From<TransferDetail> for TransferOut {
    fn from(d: TransferDetail) -> Self {
        Self { lines: d.lines.into_iter().map(Into::into).collect(), ..d.transfer.into() }
    }
}

/// A store's alerts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertsOut {
    /// Items at or below their reorder level.
    pub low_stock: Vec<LowStockOut>,
    /// Batches with stock expiring within 180 days or expired, soonest first.
    pub expiring: Vec<ExpiringOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LowStockOut {
    pub item: StockItemOut,
    pub available: i64,
    pub reorder_level: i64,
    pub reorder_quantity: i64,
    /// Units on open purchase orders for the store, still to come.
    pub on_order: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExpiringOut {
    pub item: StockItemOut,
    pub lot: LotOut,
    /// 0 (expired), 30, 60, 90 or 180: the first band of days it expires within.
    pub band_days: i64,
}

impl From<Alerts> for AlertsOut {
    fn from(a: Alerts) -> Self {
        Self {
            low_stock: a
                .low
                .into_iter()
                .map(|l: LowStock| LowStockOut {
                    item: l.item.into(),
                    available: l.available,
                    reorder_level: l.reorder_level,
                    reorder_quantity: l.reorder_quantity,
                    on_order: l.on_order,
                })
                .collect(),
            expiring: a
                .expiring
                .into_iter()
                .map(|e: Expiring| ExpiringOut { item: e.item.into(), lot: e.lot.into(), band_days: e.band })
                .collect(),
        }
    }
}

/// What the ledger check found: every balance against the sum of its movements.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerCheckOut {
    pub balances: i64,
    pub movements: i64,
    /// Empty when the ledger sums to every balance.
    pub mismatches: Vec<MismatchOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MismatchOut {
    pub store_id: Uuid,
    pub batch_id: Uuid,
    pub on_hand: i64,
    pub ledger: i64,
}

impl From<LedgerCheck> for LedgerCheckOut {
    fn from(c: LedgerCheck) -> Self {
        Self {
            balances: c.balances,
            movements: c.movements,
            mismatches: c
                .mismatches
                .into_iter()
                .map(|m| MismatchOut {
                    store_id: m.store_id,
                    batch_id: m.batch_id,
                    on_hand: m.on_hand,
                    ledger: m.ledger,
                })
                .collect(),
        }
    }
}

/// A prescription waiting at the pharmacy.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueItemOut {
    pub prescription: PrescriptionOut,
    pub patient: LabPatientOut,
    pub dispensed: i64,
    /// Units still to give, when the prescription says how many.
    pub remaining: Option<i64>,
}

impl From<QueueItem> for QueueItemOut {
    fn from(q: QueueItem) -> Self {
        Self {
            prescription: q.prescription.into(),
            patient: q.patient.into(),
            dispensed: q.dispensed,
            remaining: q.remaining,
        }
    }
}

/// A prescription as the pharmacist dispenses it, with the stock that may be given.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToDispenseOut {
    pub prescription: PrescriptionOut,
    pub dispensed: i64,
    pub remaining: Option<i64>,
    pub options: Vec<ItemStockOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemStockOut {
    pub item: StockItemOut,
    /// The batches that may be given, first expiry first.
    pub lots: Vec<LotOut>,
    pub available: i64,
}

impl From<ToDispense> for ToDispenseOut {
    fn from(t: ToDispense) -> Self {
        Self {
            prescription: t.prescription.into(),
            dispensed: t.dispensed,
            remaining: t.remaining,
            options: t
                .options
                .into_iter()
                .map(|o: ItemStock| ItemStockOut {
                    item: o.item.into(),
                    lots: o.lots.into_iter().map(Into::into).collect(),
                    available: o.available,
                })
                .collect(),
        }
    }
}

/// A dispensing or counter sale; each line is a FHIR MedicationDispense.
#[derive(Debug, Serialize, ToSchema)]
pub struct DispenseOut {
    pub id: Uuid,
    /// The receipt number: "P26-000042" (dispensing) or "S26-000007" (sale).
    pub number: String,
    #[schema(schema_with = coded::<DispenseKind>)]
    pub kind: DispenseKind,
    pub store_id: Uuid,
    pub patient_id: Option<Uuid>,
    pub customer_name: Option<String>,
    pub dispensed_by: Uuid,
    pub dispensed_at: DateTime<Utc>,
}

impl From<Dispense> for DispenseOut {
    fn from(d: Dispense) -> Self {
        Self {
            id: d.id,
            number: d.number,
            kind: d.kind,
            store_id: d.store_id,
            patient_id: d.patient_id,
            customer_name: d.customer_name,
            dispensed_by: d.dispensed_by,
            dispensed_at: d.dispensed_at,
        }
    }
}

/// One batch's units given (FHIR MedicationDispense).
#[derive(Debug, Serialize, ToSchema)]
pub struct DispenseLineOut {
    pub id: Uuid,
    pub prescription_id: Option<Uuid>,
    pub item_id: Uuid,
    pub item_name: String,
    pub batch_id: Uuid,
    pub batch_no: String,
    pub expiry_date: NaiveDate,
    pub quantity: i64,
    /// Brought back so far.
    pub returned: i64,
    pub unit_price_minor: i64,
    pub tax_rate_bp: i32,
    pub substituted_for: Option<String>,
    pub substitution_reason: Option<String>,
    pub override_reason: Option<String>,
}

impl From<DispenseLine> for DispenseLineOut {
    fn from(l: DispenseLine) -> Self {
        Self {
            id: l.id,
            prescription_id: l.prescription_id,
            item_id: l.item_id,
            item_name: l.item_name,
            batch_id: l.batch_id,
            batch_no: l.batch_no,
            expiry_date: l.expiry_date,
            quantity: l.quantity,
            returned: l.returned,
            unit_price_minor: l.unit_price_minor,
            tax_rate_bp: l.tax_rate_bp,
            substituted_for: l.substituted_for,
            substitution_reason: l.substitution_reason,
            override_reason: l.override_reason,
        }
    }
}

/// A dispensing with its lines and totals.
#[derive(Debug, Serialize, ToSchema)]
pub struct DispenseDetailOut {
    pub dispense: DispenseOut,
    pub lines: Vec<DispenseLineOut>,
    pub patient: Option<LabPatientOut>,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
}

impl From<DispenseDetail> for DispenseDetailOut {
    fn from(d: DispenseDetail) -> Self {
        let (net, tax, total) = d.totals();
        Self {
            dispense: d.dispense.into(),
            lines: d.lines.into_iter().map(Into::into).collect(),
            patient: d.patient.map(Into::into),
            net_minor: net,
            tax_minor: tax,
            total_minor: total,
        }
    }
}

/// A count sheet (stock-taking) with its lines.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountSheetOut {
    pub id: Uuid,
    /// "SC26-000002".
    pub number: String,
    pub store_id: Uuid,
    /// open (counts being entered) or posted (its differences are in the ledger).
    #[schema(schema_with = coded::<CountStatus>)]
    pub status: CountStatus,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub posted_by: Option<Uuid>,
    pub posted_at: Option<DateTime<Utc>>,
    pub lines: Vec<CountLineOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountLineOut {
    pub id: Uuid,
    pub item_id: Uuid,
    pub item: String,
    pub base_unit: String,
    pub batch_id: Uuid,
    pub batch_no: String,
    pub expiry_date: NaiveDate,
    /// On hand by the ledger when the sheet was made.
    pub expected: i64,
    pub counted: Option<i64>,
    pub reason: Option<String>,
}

impl From<CountSheet> for CountSheetOut {
    fn from(s: CountSheet) -> Self {
        let c = s.count;
        Self {
            id: c.id,
            number: c.number,
            store_id: c.store_id,
            status: c.status,
            created_by: c.created_by,
            created_at: c.created_at,
            posted_by: c.posted_by,
            posted_at: c.posted_at,
            lines: s
                .lines
                .into_iter()
                .map(|l| CountLineOut {
                    id: l.line.id,
                    item_id: l.line.item_id,
                    item: l.item,
                    base_unit: l.base_unit,
                    batch_id: l.line.batch_id,
                    batch_no: l.batch_no,
                    expiry_date: l.expiry_date,
                    expected: l.line.expected,
                    counted: l.line.counted,
                    reason: l.line.reason,
                })
                .collect(),
        }
    }
}
