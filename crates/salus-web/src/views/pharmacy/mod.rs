//! The pharmacy's pages: the pharmacist's home (the queue of prescriptions, low stock and
//! expiry), dispensing a patient's prescriptions (first expiry first, a chosen batch with
//! a reason, returns), the receipt with its labels, a store's stock and an item's batches
//! (hold, adjust, write off, send back), receiving a delivery, the ledger with its check,
//! counter sales and transfers. Every form that moves stock carries an idempotency key
//! made when the page was drawn, so a double click or a resubmission moves stock once.

use crate::access::{Access, Declared, route};
use crate::views::menu::Entry;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::NaiveDate;
use salus_app::AppError;
use salus_app::identity::Permission;
use salus_app::laboratory::LabPatient;
use salus_app::pharmacy::dispensing::{DispenseDetail, LineInput, QueueItem, SaleInput, ToDispense};
use salus_app::pharmacy::stock::{Alerts, LedgerCheck, ManualMove, ReceiptInput, ReceiptLineInput};
use salus_core::PatientId;
use salus_core::organisation::{Currency, Money};
use salus_core::pharmacy::{Lot, Movement, MovementKind, PositionRow, StockItem, Store, StoreKind, Transfer};
use serde::Deserialize;
use uuid::Uuid;

use super::clinical::refusal;
use super::{Form, Local, PageCtx, SignedIn, flash, render};
use crate::AppState;
use crate::error::PageError;

/// Pages that show one of several stores (`stores`, `store`): which one is shown.
macro_rules! shows_store {
    ($($page:ident),+) => {$(
        impl $page {
            fn is_store(&self, s: &Store) -> bool {
                self.store.as_ref().is_some_and(|c| c.id == s.id)
            }
            // (Not every page links by the store's id.)
            #[allow(dead_code)]
            fn store_id(&self) -> String {
                self.store.as_ref().map(|s| s.id.to_string()).unwrap_or_default()
            }
        }
    )+};
}

/// The pages of this module worth a link (see `menu`).
pub(super) const MENU: &[Entry] = &[
    Entry::page("Pharmacy", "/pharmacy", "Prescriptions to dispense, low stock and expiring batches"),
    Entry::page("Stock", "/pharmacy/stock", "What each store holds, batch by batch, and its ledger"),
    Entry::home_only(
        "Receive goods",
        "/pharmacy/receive",
        "Enter a delivery from a supplier, batch by batch",
    ),
    Entry::home_only(
        "Purchase orders",
        "/pharmacy/orders",
        "Order from suppliers and see what is still to come",
    ),
    Entry::home_only("Counter sale", "/pharmacy/sale", "Sell over the counter, with a receipt"),
    Entry::home_only("Transfers", "/pharmacy/transfers", "Send stock to another store and receive it there"),
    Entry::home_only("Stock-taking", "/pharmacy/counts", "Count a store's shelves and post the differences"),
    Entry::home_only(
        "Stores and suppliers",
        "/pharmacy/setup",
        "Add stores and suppliers; set reorder levels",
    ),
];

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/pharmacy", Access::Permission(Permission::PharmacyDispense)),
    route("/pharmacy/patients/{id}", Access::Permission(Permission::PharmacyDispense)),
    route("/pharmacy/patients/{id}/dispense", Access::Permission(Permission::PharmacyDispense)).post(),
    route("/pharmacy/lines/{id}/return", Access::Permission(Permission::PharmacyDispense)).post(),
    route("/pharmacy/dispenses/{id}", Access::SignedIn),
    route("/pharmacy/stock", Access::Permission(Permission::StockRead)),
    route("/pharmacy/stock/{item}", Access::Permission(Permission::StockRead))
        .example("/pharmacy/stock/0190a0b0-0000-7000-8000-000000000001"),
    route("/pharmacy/batches/{id}/{action}", Access::Permission(Permission::StockManage))
        .post()
        .example("/pharmacy/batches/{id}/hold"),
    route("/pharmacy/receive", Access::Permission(Permission::StockManage)),
    route("/pharmacy/orders", Access::Permission(Permission::StockManage)),
    route("/pharmacy/orders/{id}", Access::Permission(Permission::StockRead)),
    route("/pharmacy/orders/{id}/close", Access::Permission(Permission::StockManage)).post(),
    route("/pharmacy/ledger", Access::Permission(Permission::StockRead)),
    route("/pharmacy/sale", Access::Permission(Permission::PharmacyDispense)),
    route("/pharmacy/transfers", Access::Permission(Permission::StockManage)),
    route("/pharmacy/transfers/{id}/receive", Access::Permission(Permission::StockManage)).post(),
    route("/pharmacy/counts", Access::Permission(Permission::StockManage)),
    route("/pharmacy/counts/{id}", Access::Permission(Permission::StockManage)),
    route("/pharmacy/setup", Access::Permission(Permission::StockAdmin)),
];

mod counts;
mod dispensing;
mod orders;
mod stock;

use counts::*;
use dispensing::*;
use orders::*;
use stock::*;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/pharmacy", get(home_page))
        .route("/pharmacy/patients/{id}", get(dispense_page))
        .route("/pharmacy/patients/{id}/dispense", post(dispense))
        .route("/pharmacy/lines/{id}/return", post(take_back))
        .route("/pharmacy/dispenses/{id}", get(receipt_page))
        .route("/pharmacy/stock", get(stock_page))
        .route("/pharmacy/stock/{item}", get(item_page))
        .route("/pharmacy/batches/{id}/{action}", post(batch_action))
        .route("/pharmacy/receive", get(receive_page).post(receive))
        .route("/pharmacy/orders", get(orders_page).post(place_order))
        .route("/pharmacy/orders/{id}", get(order_page))
        .route("/pharmacy/orders/{id}/close", post(close_order))
        .route("/pharmacy/ledger", get(ledger_page))
        .route("/pharmacy/sale", get(sale_page).post(sell))
        .route("/pharmacy/transfers", get(transfers_page).post(issue_transfer))
        .route("/pharmacy/transfers/{id}/receive", post(receive_transfer))
        .route("/pharmacy/counts", get(counts_page).post(open_count))
        .route("/pharmacy/counts/{id}", get(count_page).post(post_count))
        .route("/pharmacy/setup", get(setup_page).post(setup))
}

local!(HomePage);

shows_store!(HomePage);

fn not_found(what: &str) -> PageError {
    PageError::new(StatusCode::NOT_FOUND, format!("There is no such {what}."))
}

/// A fresh idempotency key for a form that moves stock.
fn new_key() -> String {
    Uuid::now_v7().to_string()
}

/// The store a page works in: the one asked for, else the first pharmacy, else the first.
fn pick(stores: &[Store], raw: &str) -> Option<Store> {
    let asked = raw.parse::<Uuid>().ok();
    stores
        .iter()
        .find(|s| Some(s.id) == asked)
        .or_else(|| stores.iter().find(|s| s.kind == StoreKind::Pharmacy))
        .or_else(|| stores.first())
        .cloned()
}

/// The stores the caller sees and the one a page shows (see [`pick`]).
async fn choose_store(
    state: &AppState,
    ctx: &salus_app::Ctx,
    raw: &str,
) -> Result<(Vec<Store>, Option<Store>), PageError> {
    let stores = state.app.pharmacy().stores(ctx).await?;
    let store = pick(&stores, raw);
    Ok((stores, store))
}

/// An amount for a page.
fn money(currency: Currency, minor: i64) -> String {
    Money::from_minor(minor).format(currency)
}

/// A form's field by name ("" when absent).
fn field(f: &[(String, String)], name: &str) -> String {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StoreQuery {
    store: String,
    page: u64,
    after: String,
    batch: String,
    /// The ledger page: run the check too.
    check: bool,
    /// The delivery form: the purchase order it fills.
    order: String,
}

#[derive(Template)]
#[template(path = "pharmacy_home.html")]
struct HomePage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    stores: Vec<Store>,
    store: Option<Store>,
    queue: Vec<QueueItem>,
    alerts: Option<Alerts>,
    at: u64,
    more: bool,
}

impl HomePage {
    fn page_link(&self, n: u64) -> String {
        format!("/pharmacy?store={}&page={n}", self.store_id())
    }
    fn band_label(&self, band: &i64) -> String {
        if *band == 0 { "expired".into() } else { format!("within {band} days") }
    }
}

/// Prescriptions on a page of the queue.
const PAGE: u64 = 50;

/// The pharmacist's home: the queue and the store's alerts.
async fn home_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<StoreQuery>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let (queue, more) = pharmacy.queue(&ctx, PAGE, q.page.saturating_mul(PAGE)).await?;
    let (stores, store) = choose_store(&state, &ctx, &q.store).await?;
    let alerts = match &store {
        Some(s) => Some(pharmacy.alerts(&ctx, s.id).await?),
        None => None,
    };
    Ok(render(
        StatusCode::OK,
        &HomePage { tz: state.app.time_zone, page, stores, store, queue, alerts, at: q.page, more },
    ))
}
