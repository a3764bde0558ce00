//! The pharmacy's and the stores' language: what is stocked (medicines of the catalog and
//! consumables, each counted in one base unit), the stores that hold it, batches with
//! their expiry, and the ledger of movements every balance is the sum of. Quantities are
//! whole base units (tablets, mL, pieces); money is integer minor units (paise).
//!
//! The allocation of a request to batches (first expiry first out, expired and held
//! batches never offered) is decided here, purely; the database then takes each batch's
//! units with a conditional decrement, so a stale allocation fails rather than going
//! below zero.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::FieldError;

coded!(
    /// What a stock item is.
    pub enum ItemKind {
        /// A medicine of the catalog (prescribed by its generic name).
        Medicine,
        /// Gloves, syringes, dressings: stocked and issued, never prescribed.
        Consumable,
    }
);

coded!(
    /// What a store is for. A ward's store is where its nurses administer from.
    pub enum StoreKind {
        Main,
        Pharmacy,
        Ward,
        Other,
    }
);

coded!(
    /// Why stock moved: one ledger row per batch per movement.
    pub enum MovementKind {
        /// Goods received from a supplier (free units included).
        Receipt,
        /// Dispensed against a prescription.
        Dispense,
        /// Sold over the counter.
        Sale,
        /// Sent to another store (in transit until received).
        TransferOut,
        /// Received from another store.
        TransferIn,
        /// Corrected by hand, with a reason (breakage, found stock).
        Adjustment,
        /// Sent back to the supplier.
        SupplierReturn,
        /// Brought back by a patient, into stock.
        PatientReturn,
        /// Written off at expiry.
        ExpiryWriteOff,
        /// The difference a stock-take found, posted with a reason.
        StockTakeVariance,
        /// A dose given on a ward, from the ward's store (the medication record).
        Administration,
    }
);

impl MovementKind {
    /// Whether this kind takes stock out (its quantity is negative in the ledger).
    pub fn is_outward(self) -> bool {
        matches!(
            self,
            MovementKind::Dispense
                | MovementKind::Administration
                | MovementKind::Sale
                | MovementKind::TransferOut
                | MovementKind::SupplierReturn
                | MovementKind::ExpiryWriteOff
        )
    }
}

coded!(
    /// A dispensing against prescriptions, or a sale at the counter.
    pub enum DispenseKind {
        Dispense,
        Sale,
    }
);

/// The most units one line may move (a guard against a typo of 10 000 000).
pub const MAX_LINE_QUANTITY: i64 = 1_000_000;

/// Something stocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockItem {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: ItemKind,
    /// The catalog medicine it is a form of (brands of one generic share it).
    pub medicine_id: Option<Uuid>,
    pub brand: Option<String>,
    pub form: String,
    pub strength: String,
    /// What one counted unit is: "tablet", "mL", "piece".
    pub base_unit: String,
    /// Base units in the pack it is bought and sold in.
    pub pack_size: i32,
    pub tax_code: String,
    pub tax_rate_bp: i32,
    /// Needs a prescription to be sold.
    pub prescription_only: bool,
    pub active: bool,
    pub version: i32,
}

impl StockItem {
    /// "Amoxicillin 500 mg capsule (Mox)".
    pub fn label(&self) -> String {
        match &self.brand {
            Some(b) => format!("{} ({b})", self.name),
            None => self.name.clone(),
        }
    }
}

/// A place stock is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Store {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: StoreKind,
    pub facility_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub active: bool,
    /// The mailbox the daily stock alerts go to (none: shown in Salus only).
    pub alert_email: Option<String>,
    pub version: i32,
}

/// Who stock is bought from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Supplier {
    pub id: Uuid,
    pub name: String,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// GSTIN or another tax registration.
    pub tax_id: Option<String>,
    pub active: bool,
    pub version: i32,
}

/// One manufacturer's batch of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Batch {
    pub id: Uuid,
    pub item_id: Uuid,
    pub batch_no: String,
    pub expiry_date: NaiveDate,
    /// Cost per base unit, in minor units.
    pub cost_minor: i64,
    /// Sale price per base unit, in minor units.
    pub sale_price_minor: i64,
    pub supplier_id: Option<Uuid>,
    /// Held (quarantined or recalled): never offered, never moved out but back to the supplier.
    pub held: bool,
    pub hold_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Batch {
    /// Expired on `today`: the expiry date is the last day it may be used.
    pub fn expired(&self, today: NaiveDate) -> bool {
        self.expiry_date < today
    }
}

/// A batch's stock in one store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lot {
    pub store_id: Uuid,
    pub batch: Batch,
    pub on_hand: i64,
    pub reserved: i64,
}

impl Lot {
    /// What may be taken now: on hand less what is reserved.
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }

    /// Whether it may be offered for dispensing or sale on `today`.
    pub fn offerable(&self, today: NaiveDate) -> bool {
        !self.batch.held && !self.batch.expired(today) && self.available() > 0
    }
}

/// One append-only ledger row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Movement {
    pub id: Uuid,
    pub store_id: Uuid,
    pub batch_id: Uuid,
    pub item_id: Uuid,
    pub kind: MovementKind,
    /// Signed: positive in, negative out.
    pub quantity: i64,
    /// On hand in this store and batch just after it.
    pub balance_after: i64,
    pub reason: Option<String>,
    pub source_type: String,
    pub source_id: Uuid,
    pub patient_id: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// A dispensing or a sale (FHIR MedicationDispense, one per line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dispense {
    pub id: Uuid,
    /// The receipt number ("PH26-000042").
    pub number: String,
    pub kind: DispenseKind,
    pub store_id: Uuid,
    pub patient_id: Option<Uuid>,
    /// A walk-in customer's name.
    pub customer_name: Option<String>,
    pub dispensed_by: Uuid,
    pub dispensed_at: DateTime<Utc>,
}

/// One batch's units given out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DispenseLine {
    pub id: Uuid,
    pub dispense_id: Uuid,
    pub patient_id: Option<Uuid>,
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
    /// What was prescribed, when something else was given in its place.
    pub substituted_for: Option<String>,
    pub substitution_reason: Option<String>,
    /// Why a batch other than first-expiry was chosen.
    pub override_reason: Option<String>,
}

impl DispenseLine {
    /// The line's amount before tax, in minor units.
    pub fn amount_minor(&self) -> i64 {
        self.quantity * self.unit_price_minor
    }
}

/// A delivery received into a store (FHIR SupplyDelivery); its lines are receipt movements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GoodsReceipt {
    pub id: Uuid,
    /// "GR26-000007".
    pub number: String,
    pub store_id: Uuid,
    pub supplier_id: Option<Uuid>,
    /// The supplier's invoice or delivery note number.
    pub invoice_no: Option<String>,
    /// The purchase order this delivery fills, if any.
    pub order_id: Option<Uuid>,
    pub received_by: Uuid,
    pub received_at: DateTime<Utc>,
}

coded!(
    /// Where a purchase order stands.
    pub enum PurchaseStatus {
        /// Sent to the supplier; nothing received yet.
        Ordered,
        /// Some lines, or part of some, received.
        PartiallyReceived,
        /// Every line received in full.
        Received,
        /// Closed short: the rest will not come (a reason is kept). An order closed with
        /// nothing received is a cancelled one.
        Closed,
    }
);

impl PurchaseStatus {
    /// Whether deliveries may still be received against it.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Ordered | Self::PartiallyReceived)
    }
}

/// An order to a supplier, delivered into one store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PurchaseOrder {
    pub id: Uuid,
    /// "PO26-000004".
    pub number: String,
    pub supplier_id: Uuid,
    pub store_id: Uuid,
    pub status: PurchaseStatus,
    pub expected_on: Option<NaiveDate>,
    pub note: Option<String>,
    pub ordered_by: Uuid,
    pub ordered_at: DateTime<Utc>,
    pub closed_by: Option<Uuid>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<String>,
}

/// One item of a purchase order, in base units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderLine {
    pub id: Uuid,
    pub order_id: Uuid,
    pub item_id: Uuid,
    pub quantity: i64,
    /// Units received against it so far (free units apart); never more than ordered.
    pub received: i64,
    /// The agreed cost per base unit, in minor units.
    pub cost_minor: i64,
}

impl OrderLine {
    pub fn outstanding(&self) -> i64 {
        self.quantity - self.received
    }
}

/// Where an order stands once its lines have received what they have.
pub fn purchase_status(lines: &[OrderLine]) -> PurchaseStatus {
    if lines.iter().all(|l| l.received >= l.quantity) {
        PurchaseStatus::Received
    } else if lines.iter().any(|l| l.received > 0) {
        PurchaseStatus::PartiallyReceived
    } else {
        PurchaseStatus::Ordered
    }
}

coded!(
    /// Where a transfer between stores stands.
    pub enum TransferStatus {
        /// Taken out of the sending store: in transit.
        Issued,
        /// Put into the receiving store.
        Received,
    }
);

/// Stock sent from one store to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transfer {
    pub id: Uuid,
    /// "T26-000003".
    pub number: String,
    pub from_store_id: Uuid,
    pub to_store_id: Uuid,
    pub status: TransferStatus,
    pub issued_by: Uuid,
    pub issued_at: DateTime<Utc>,
    pub received_by: Option<Uuid>,
    pub received_at: Option<DateTime<Utc>>,
}

/// One batch's units in a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferLine {
    pub id: Uuid,
    pub transfer_id: Uuid,
    pub item_id: Uuid,
    pub batch_id: Uuid,
    pub quantity: i64,
}

coded!(
    /// Where a count sheet stands.
    pub enum CountStatus {
        /// Made; counts being entered.
        Open,
        /// Its differences are in the ledger.
        Posted,
    }
);

/// A count sheet of a store (stock-taking).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockCount {
    pub id: Uuid,
    /// "SC26-000002".
    pub number: String,
    pub store_id: Uuid,
    pub status: CountStatus,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub posted_by: Option<Uuid>,
    pub posted_at: Option<DateTime<Utc>>,
}

/// One batch on a count sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountLine {
    pub id: Uuid,
    pub count_id: Uuid,
    pub item_id: Uuid,
    pub batch_id: Uuid,
    /// On hand by the ledger when the sheet was made.
    pub expected: i64,
    pub counted: Option<i64>,
    pub reason: Option<String>,
}

impl CountLine {
    /// Counted less expected, once counted.
    pub fn variance(&self) -> Option<i64> {
        self.counted.map(|c| c - self.expected)
    }
}

/// One item's line of a store's stock position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PositionRow {
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

impl PositionRow {
    /// "Amoxicillin 500 mg capsule (Mox)".
    pub fn label(&self) -> String {
        match &self.brand {
            Some(b) => format!("{} ({b})", self.name),
            None => self.name.clone(),
        }
    }

    /// Where the next page starts: after this item, by name then id.
    pub fn cursor(&self) -> String {
        format!("{}\u{1f}{}", self.name, self.item_id)
    }
}

/// A stock position cursor read back: the name and id to start after.
pub fn parse_position_cursor(raw: &str) -> Option<(String, Uuid)> {
    let (name, id) = raw.rsplit_once('\u{1f}')?;
    Some((name.to_owned(), id.parse().ok()?))
}

/// A ledger that does not sum to its balance: the store and batch, what the balance says
/// and what the movements add up to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub store_id: Uuid,
    pub batch_id: Uuid,
    pub on_hand: i64,
    pub ledger: i64,
}

/// Too few units: what was asked and what there is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall {
    pub requested: i64,
    pub available: i64,
}

/// Takes `quantity` units from `lots` first expiry first (the earliest expiry date, then
/// the batch received first), skipping expired, held and empty ones. `chosen`, when
/// given, is the one batch the pharmacist picked instead (it must itself be offerable).
pub fn allocate(
    lots: &[Lot],
    quantity: i64,
    today: NaiveDate,
    chosen: Option<Uuid>,
) -> Result<Vec<(Uuid, i64)>, Shortfall> {
    let mut offered: Vec<&Lot> = lots.iter().filter(|l| l.offerable(today)).collect();
    if let Some(batch) = chosen {
        offered.retain(|l| l.batch.id == batch);
    }
    offered.sort_by_key(|l| (l.batch.expiry_date, l.batch.created_at, l.batch.id));
    let available: i64 = offered.iter().map(|l| l.available()).sum();
    if quantity > available {
        return Err(Shortfall { requested: quantity, available });
    }
    let mut left = quantity;
    let mut taken = Vec::new();
    for lot in offered {
        if left == 0 {
            break;
        }
        let n = left.min(lot.available());
        taken.push((lot.batch.id, n));
        left -= n;
    }
    Ok(taken)
}

/// A document's number in its yearly series: "GR26-000007".
pub fn document_number(prefix: &str, year: i32, n: i64) -> String {
    format!("{prefix}{:02}-{n:06}", year.rem_euclid(100))
}

/// A quantity as typed: a whole number of base units from 1 up.
pub fn parse_quantity(raw: i64, field: &'static str) -> Result<i64, FieldError> {
    if raw <= 0 {
        return Err(FieldError::new(field, "give a quantity of one or more"));
    }
    if raw > MAX_LINE_QUANTITY {
        return Err(FieldError::new(field, format!("at most {MAX_LINE_QUANTITY} units in one line")));
    }
    Ok(raw)
}

/// The expiry bands the pharmacy watches, in days.
pub const EXPIRY_BANDS: [i64; 4] = [30, 60, 90, 180];

/// The band a batch expiring on `expiry` falls in on `today`: 0 if already expired, else
/// the first of 30, 60, 90 or 180 days it is within; `None` beyond.
pub fn expiry_band(expiry: NaiveDate, today: NaiveDate) -> Option<i64> {
    let days = (expiry - today).num_days();
    if days < 0 {
        return Some(0);
    }
    EXPIRY_BANDS.into_iter().find(|b| days <= *b)
}

/// The tax on `amount_minor` at `rate_bp` basis points, rounded half up to the minor unit.
pub fn tax_minor(amount_minor: i64, rate_bp: i32) -> i64 {
    (amount_minor * i64::from(rate_bp) + 5_000) / 10_000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lot(expiry: &str, on_hand: i64, held: bool, n: u128) -> Lot {
        Lot {
            store_id: Uuid::nil(),
            batch: Batch {
                id: Uuid::from_u128(n),
                item_id: Uuid::nil(),
                batch_no: format!("B{n}"),
                expiry_date: expiry.parse().unwrap(),
                cost_minor: 100,
                sale_price_minor: 150,
                supplier_id: None,
                held,
                hold_reason: None,
                created_at: DateTime::from_timestamp(i64::try_from(n).unwrap(), 0).unwrap(),
            },
            on_hand,
            reserved: 0,
        }
    }

    fn today() -> NaiveDate {
        "2026-06-01".parse().unwrap()
    }

    #[test]
    fn first_expiry_is_taken_first_across_batches() {
        // Listed out of order on purpose: the later expiry first (odoo#22850 picked by
        // the order lots happened to come in).
        let lots = [lot("2027-01-31", 10, false, 1), lot("2026-08-31", 4, false, 2)];
        let got = allocate(&lots, 6, today(), None).unwrap();
        assert_eq!(got, vec![(Uuid::from_u128(2), 4), (Uuid::from_u128(1), 2)]);
    }

    #[test]
    fn expired_and_held_batches_are_never_offered() {
        let lots = [
            lot("2026-05-31", 50, false, 1), // expired yesterday
            lot("2026-07-01", 50, true, 2),  // held
            lot("2026-12-01", 3, false, 3),
        ];
        assert_eq!(allocate(&lots, 5, today(), None), Err(Shortfall { requested: 5, available: 3 }));
        assert_eq!(allocate(&lots, 3, today(), None).unwrap(), vec![(Uuid::from_u128(3), 3)]);
        // Choosing the expired one by hand does not get round it.
        assert_eq!(
            allocate(&lots, 1, today(), Some(Uuid::from_u128(1))),
            Err(Shortfall { requested: 1, available: 0 })
        );
    }

    #[test]
    fn a_batch_is_usable_on_its_expiry_day() {
        let lots = [lot("2026-06-01", 2, false, 1)];
        assert_eq!(allocate(&lots, 2, today(), None).unwrap(), vec![(Uuid::from_u128(1), 2)]);
    }

    #[test]
    fn a_chosen_batch_overrides_first_expiry() {
        let lots = [lot("2026-08-31", 10, false, 1), lot("2027-01-31", 10, false, 2)];
        let got = allocate(&lots, 4, today(), Some(Uuid::from_u128(2))).unwrap();
        assert_eq!(got, vec![(Uuid::from_u128(2), 4)]);
    }

    #[test]
    fn quantities_and_bands() {
        assert!(parse_quantity(0, "quantity").is_err());
        assert!(parse_quantity(-3, "quantity").is_err());
        assert!(parse_quantity(MAX_LINE_QUANTITY + 1, "quantity").is_err());
        assert_eq!(parse_quantity(12, "quantity").unwrap(), 12);
        let t = today();
        assert_eq!(expiry_band("2026-05-31".parse().unwrap(), t), Some(0));
        assert_eq!(expiry_band("2026-07-01".parse().unwrap(), t), Some(30));
        assert_eq!(expiry_band("2026-07-02".parse().unwrap(), t), Some(60));
        assert_eq!(expiry_band("2026-11-28".parse().unwrap(), t), Some(180));
        assert_eq!(expiry_band("2027-06-01".parse().unwrap(), t), None);
        assert_eq!(tax_minor(1_000, 500), 50);
        assert_eq!(tax_minor(15, 500), 1); // 0.75 rounds up
        assert_eq!(tax_minor(9, 500), 0); // 0.45 rounds down
    }
}
