//! The pharmacy and its stores. Stock is a ledger: every change is a movement row
//! written in the transaction that changes the balance, by a conditional decrement the
//! database refuses to take below zero, and every stock-changing request carries an
//! idempotency key so a double click or a retry moves stock once. Setting up (stores,
//! suppliers, items, reorder levels) lives here; receipts, adjustments, holds, transfers,
//! positions, alerts and the ledger check in `stock.rs`; the pharmacist's queue,
//! dispensing, returns and counter sales in `dispensing.rs`.

pub mod counts;
pub mod dispensing;
pub mod mail;
pub mod orders;
mod queue;
pub mod receipts;
mod returns;
pub mod stock;
pub mod transfers;

use chrono::Utc;
use salus_core::FieldError;
use salus_core::organisation::{parse_label, parse_optional_label};
use salus_core::pharmacy::{ItemKind, StockItem, Store, StoreKind, Supplier};
use salus_db::ResultExt;
use salus_db::entity::{stock_item, stock_reorder_level, store, supplier};
use salus_db::pharmacy as q;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::{AppError, Ctx};

/// The price-list service pharmacy charges are booked under.
pub const PHARMACY_SERVICE: &str = "PHARMACY";

/// The caller's user id (a stock movement is always someone's).
fn me(ctx: &Ctx) -> Result<Uuid, AppError> {
    ctx.actor.user().map(|u| u.id.as_uuid()).ok_or(AppError::Forbidden)
}

pub(crate) use crate::operations::Begun;
pub use crate::operations::parse_key;

impl crate::Pharmacy<'_> {
    /// Today at the hospital: a batch is usable through its expiry date there, whatever
    /// the date is in UTC.
    pub fn today(&self) -> chrono::NaiveDate {
        crate::scheduling::local_now(self.time_zone).0
    }

    /// The stock items, by name (staff); `text` narrows by name or code.
    pub async fn items(
        &self,
        ctx: &Ctx,
        text: Option<&str>,
        include_inactive: bool,
    ) -> Result<Vec<StockItem>, AppError> {
        self.authorize(ctx, Permission::OrganisationRead).await?;
        Ok(crate::records(q::items(self.db.reader(), text, include_inactive, 500).await?))
    }

    pub async fn item(&self, ctx: &Ctx, id: Uuid) -> Result<StockItem, AppError> {
        self.authorize(ctx, Permission::OrganisationRead).await?;
        Ok(q::find_item(self.db.reader(), id).await?.ok_or(AppError::NotFound("stock item"))?.into())
    }

    /// Adds a stock item: a brand or pack of a catalog medicine, or a consumable.
    pub async fn create_item(&self, ctx: &Ctx, input: NewItem) -> Result<StockItem, AppError> {
        self.authorize(ctx, Permission::StockAdmin).await?;
        let mut errors = Vec::new();
        let brand =
            parse_optional_label(&input.brand, "brand", 100).map_err(|e| errors.push(e)).ok().flatten();
        let mut take = |r: Result<String, FieldError>| r.map_err(|e| errors.push(e)).unwrap_or_default();
        let code = take(parse_label(&input.code, "code", 40));
        let base_unit = take(parse_label(&input.base_unit, "base_unit", 20));
        let tax_code = take(parse_label(&input.tax_code, "tax_code", 20));
        let mut name = input.name.trim().to_owned();
        for (field, text, max) in
            [("name", &input.name, 200), ("form", &input.form, 100), ("strength", &input.strength, 100)]
        {
            if text.chars().count() > max {
                errors.push(FieldError::new(field, format!("at most {max} characters")));
            }
        }
        let mut form = input.form.trim().to_owned();
        let mut strength = input.strength.trim().to_owned();
        if input.pack_size < 1 || input.pack_size > 100_000 {
            errors.push(FieldError::new("pack_size", "give the base units in one pack (1 to 100000)"));
        }
        if !(0..=10_000).contains(&input.tax_rate_bp) {
            errors.push(FieldError::new("tax_rate_bp", "give the tax rate in basis points, 0 to 10000"));
        }
        let conn = self.db.reader();
        match (input.kind, input.medicine_id) {
            (ItemKind::Medicine, Some(m)) => match salus_db::clinical::find_medicine(conn, m).await? {
                Some(med) => {
                    name = salus_core::clinical::medicine_label(&med.generic_name, &med.strength, &med.form);
                    form = med.form;
                    strength = med.strength;
                }
                None => errors.push(FieldError::new("medicine_id", "choose a medicine of the catalog")),
            },
            (ItemKind::Medicine, None) => {
                errors.push(FieldError::new("medicine_id", "a medicine is a form of a catalog medicine"))
            }
            (ItemKind::Consumable, Some(_)) => {
                errors.push(FieldError::new("medicine_id", "a consumable is not a medicine of the catalog"))
            }
            (ItemKind::Consumable, None) => {
                if let Err(e) = parse_label(&name, "name", 200) {
                    errors.push(e);
                }
            }
        }
        if form.is_empty() {
            errors.push(FieldError::new("form", "say what form it comes in"));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let now = Utc::now();
        let row = stock_item::Model {
            id: Uuid::now_v7(),
            code,
            name,
            kind: input.kind,
            medicine_id: input.medicine_id,
            brand,
            form,
            strength,
            base_unit,
            pack_size: input.pack_size,
            tax_code,
            tax_rate_bp: input.tax_rate_bp,
            prescription_only: input.prescription_only && input.kind == ItemKind::Medicine,
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let txn = self.db.begin_write().await?;
        q::insert_item(&txn, row.clone()).await.on_unique(
            "stock_items_code_key",
            "stock_items.code",
            || AppError::field("code", "another item has this code"),
        )?;
        let event = Event::new("stock.item_create", "stock_item", Some(row.id.to_string()))
            .detail(json!({ "code": row.code, "name": row.name, "brand": row.brand }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// The stores (staff who see stock).
    pub async fn stores(&self, ctx: &Ctx) -> Result<Vec<Store>, AppError> {
        self.authorize(ctx, Permission::StockRead).await?;
        Ok(crate::records(q::stores(self.db.reader(), false).await?))
    }

    /// An active store, or "not found".
    pub(crate) async fn active_store(&self, id: Uuid) -> Result<store::Model, AppError> {
        q::find_store(self.db.reader(), id).await?.filter(|s| s.active).ok_or(AppError::NotFound("store"))
    }

    /// Adds a store (administrators and pharmacists).
    pub async fn create_store(&self, ctx: &Ctx, input: NewStore) -> Result<Store, AppError> {
        self.authorize(ctx, Permission::StockAdmin).await?;
        let mut errors = Vec::new();
        let code = parse_label(&input.code, "code", 20).map_err(|e| errors.push(e)).unwrap_or_default();
        let name = parse_label(&input.name, "name", 100).map_err(|e| errors.push(e)).unwrap_or_default();
        let alert_email = parse_alert_email(&input.alert_email).map_err(|e| errors.push(e)).ok().flatten();
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let now = Utc::now();
        let row = store::Model {
            alert_email,
            id: Uuid::now_v7(),
            code: code.to_uppercase(),
            name,
            kind: input.kind,
            facility_id: input.facility_id,
            department_id: input.department_id,
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let txn = self.db.begin_write().await?;
        q::insert_store(&txn, row.clone()).await.on_unique("stores_code_key", "stores.code", || {
            AppError::field("code", "another store has this code")
        })?;
        let event = Event::new("stock.store_create", "store", Some(row.id.to_string()))
            .detail(json!({ "code": row.code, "name": row.name, "kind": row.kind }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Sets (or, with "", clears) the mailbox a store's daily stock alerts go to.
    pub async fn set_alert_email(&self, ctx: &Ctx, id: Uuid, email: &str) -> Result<Store, AppError> {
        self.authorize(ctx, Permission::StockAdmin).await?;
        let email = parse_alert_email(email)?;
        let store = q::find_store(self.db.reader(), id).await?.ok_or(AppError::NotFound("store"))?;
        let txn = self.db.begin_write().await?;
        let row = q::set_alert_email(&txn, id, email.as_deref()).await?.ok_or(AppError::NotFound("store"))?;
        let event = Event::new("stock.store_alert_email", "store", Some(id.to_string()))
            .detail(json!({ "code": store.code, "from": store.alert_email, "to": email }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    pub async fn suppliers(&self, ctx: &Ctx) -> Result<Vec<Supplier>, AppError> {
        self.authorize(ctx, Permission::StockRead).await?;
        Ok(crate::records(q::suppliers(self.db.reader()).await?))
    }

    /// Adds a supplier (administrators and pharmacists).
    pub async fn create_supplier(&self, ctx: &Ctx, input: NewSupplier) -> Result<Supplier, AppError> {
        self.authorize(ctx, Permission::StockAdmin).await?;
        let mut errors = Vec::new();
        let name = parse_label(&input.name, "name", 200).map_err(|e| errors.push(e)).unwrap_or_default();
        let mut opt = |raw: &str, field: &'static str, max: usize| {
            parse_optional_label(raw, field, max).map_err(|e| errors.push(e)).ok().flatten()
        };
        let contact_name = opt(&input.contact_name, "contact_name", 100);
        let phone = opt(&input.phone, "phone", 40);
        let email = opt(&input.email, "email", 200);
        let tax_id = opt(&input.tax_id, "tax_id", 20);
        if email.as_deref().is_some_and(|e| !e.contains('@')) {
            errors.push(FieldError::new("email", "give an e-mail address"));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let now = Utc::now();
        let row = supplier::Model {
            id: Uuid::now_v7(),
            name,
            contact_name,
            phone,
            email,
            tax_id,
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let txn = self.db.begin_write().await?;
        q::insert_supplier(&txn, row.clone()).await.on_unique(
            "suppliers_name_key",
            "suppliers.name",
            || AppError::field("name", "a supplier of this name is already on file"),
        )?;
        let event = Event::new("stock.supplier_create", "supplier", Some(row.id.to_string()))
            .detail(json!({ "name": row.name }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Sets the level below which an item is reordered for a store, and how much to order.
    pub async fn set_reorder_level(
        &self,
        ctx: &Ctx,
        store: Uuid,
        item: Uuid,
        level: i64,
        quantity: i64,
    ) -> Result<(), AppError> {
        self.authorize(ctx, Permission::StockAdmin).await?;
        self.active_store(store).await?;
        q::find_item(self.db.reader(), item).await?.ok_or(AppError::NotFound("stock item"))?;
        let mut errors = Vec::new();
        if !(0..=salus_core::pharmacy::MAX_LINE_QUANTITY).contains(&level) {
            errors.push(FieldError::new("reorder_level", "give a level of zero or more"));
        }
        if !(0..=salus_core::pharmacy::MAX_LINE_QUANTITY).contains(&quantity) {
            errors.push(FieldError::new("reorder_quantity", "give a quantity of zero or more"));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let txn = self.db.begin_write().await?;
        q::set_reorder_level(
            &txn,
            stock_reorder_level::Model {
                store_id: store,
                item_id: item,
                reorder_level: level,
                reorder_quantity: quantity,
                updated_at: Utc::now(),
            },
        )
        .await?;
        let event = Event::new("stock.reorder_level", "stock_item", Some(item.to_string()))
            .detail(json!({ "store_id": store, "reorder_level": level, "reorder_quantity": quantity }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(())
    }
}

/// A stock item as an administrator adds it.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub code: String,
    pub kind: ItemKind,
    /// The catalog medicine (medicines); its name, form and strength are taken from it.
    pub medicine_id: Option<Uuid>,
    /// A consumable's name.
    pub name: String,
    pub brand: String,
    pub form: String,
    pub strength: String,
    pub base_unit: String,
    pub pack_size: i32,
    pub tax_code: String,
    pub tax_rate_bp: i32,
    pub prescription_only: bool,
}

/// A store as an administrator adds it.
#[derive(Debug, Clone)]
pub struct NewStore {
    pub code: String,
    pub name: String,
    /// The mailbox the daily stock alerts go to ("" for none).
    pub alert_email: String,
    pub kind: StoreKind,
    pub facility_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
}

/// A supplier as an administrator adds it.
#[derive(Debug, Clone, Default)]
pub struct NewSupplier {
    pub name: String,
    pub contact_name: String,
    pub phone: String,
    pub email: String,
    pub tax_id: String,
}

/// A store's alert mailbox: empty for none, else one plausible address.
fn parse_alert_email(raw: &str) -> Result<Option<String>, FieldError> {
    let email = parse_optional_label(raw, "alert_email", 200)?;
    match email {
        Some(e) if !e.contains('@') || e.contains(char::is_whitespace) || e.contains(',') => {
            Err(FieldError::new("alert_email", "give one e-mail address, like pharmacy@hospital.example"))
        }
        e => Ok(e),
    }
}
