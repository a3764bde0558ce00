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

/// The pages of this module worth a link (see `menu`).
pub(super) const MENU: &[Entry] = &[
    Entry::page("Pharmacy", "/pharmacy", "Prescriptions to dispense, low stock and expiring batches"),
    Entry::page("Stock", "/pharmacy/stock", "What each store holds, batch by batch, and its ledger"),
    Entry::home_only(
        "Receive goods",
        "/pharmacy/receive",
        "Enter a delivery from a supplier, batch by batch",
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
    route("/pharmacy/ledger", Access::Permission(Permission::StockRead)),
    route("/pharmacy/sale", Access::Permission(Permission::PharmacyDispense)),
    route("/pharmacy/transfers", Access::Permission(Permission::StockManage)),
    route("/pharmacy/transfers/{id}/receive", Access::Permission(Permission::StockManage)).post(),
    route("/pharmacy/counts", Access::Permission(Permission::StockManage)),
    route("/pharmacy/counts/{id}", Access::Permission(Permission::StockManage)),
    route("/pharmacy/setup", Access::Permission(Permission::StockAdmin)),
];

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
        .route("/pharmacy/ledger", get(ledger_page))
        .route("/pharmacy/sale", get(sale_page).post(sell))
        .route("/pharmacy/transfers", get(transfers_page).post(issue_transfer))
        .route("/pharmacy/transfers/{id}/receive", post(receive_transfer))
        .route("/pharmacy/counts", get(counts_page).post(open_count))
        .route("/pharmacy/counts/{id}", get(count_page).post(post_count))
        .route("/pharmacy/setup", get(setup_page).post(setup))
}

local!(HomePage, DispensePage, ReceiptPage, LedgerPage, TransfersPage, CountsPage, CountPage);

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
    fn is_store(&self, s: &Store) -> bool {
        self.store.as_ref().is_some_and(|c| c.id == s.id)
    }
    fn store_id(&self) -> String {
        self.store.as_ref().map(|s| s.id.to_string()).unwrap_or_default()
    }
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
    let stores = pharmacy.stores(&ctx).await?;
    let store = pick(&stores, &q.store);
    let alerts = match &store {
        Some(s) => Some(pharmacy.alerts(&ctx, s.id).await?),
        None => None,
    };
    Ok(render(
        StatusCode::OK,
        &HomePage { tz: state.app.time_zone, page, stores, store, queue, alerts, at: q.page, more },
    ))
}

#[derive(Template)]
#[template(path = "pharmacy_dispense.html")]
struct DispensePage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    who: LabPatient,
    stores: Vec<Store>,
    store: Store,
    items: Vec<ToDispense>,
    recent: Vec<DispenseDetail>,
    key: String,
    /// Messages by prescription id (beside its row), and any for the whole form.
    errors: Vec<(String, String)>,
    /// What was typed, by field name.
    typed: Vec<(String, String)>,
    currency: Currency,
}

impl DispensePage {
    fn error_for(&self, rx: &Uuid) -> Option<String> {
        let key = rx.to_string();
        self.errors.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone())
    }
    fn general_errors(&self) -> Vec<String> {
        self.errors.iter().filter(|(k, _)| k.parse::<Uuid>().is_err()).map(|(_, v)| v.clone()).collect()
    }
    fn typed(&self, name: &str, rx: &Uuid) -> String {
        let k = format!("{name}:{rx}");
        self.typed.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()).unwrap_or_default()
    }
    /// What to put in the quantity box: what was typed, else what remains.
    fn quantity(&self, t: &ToDispense) -> String {
        let typed = self.typed("qty", &t.prescription.id);
        if !typed.is_empty() || !self.typed.is_empty() {
            return typed;
        }
        // What remains, as far as the store has it (a row it cannot fill is left empty, so
        // it does not hold up the others).
        let usable: i64 = t.options.iter().map(|o| o.available).max().unwrap_or(0);
        match t.remaining.map(|r| r.min(usable)) {
            Some(n) if n > 0 => n.to_string(),
            _ => String::new(),
        }
    }
    fn is_store(&self, s: &Store) -> bool {
        s.id == self.store.id
    }
    fn price(&self, minor: &i64) -> String {
        money(self.currency, *minor)
    }
    fn first_lot(&self, t: &ToDispense) -> Option<Lot> {
        t.options
            .iter()
            .flat_map(|o| o.lots.iter())
            .min_by_key(|l| (l.batch.expiry_date, l.batch.created_at))
            .cloned()
    }
    fn chosen(&self, name: &str, rx: &Uuid, value: &str) -> bool {
        self.typed(name, rx) == value
    }
}

/// A patient's prescriptions to dispense from the chosen store.
async fn dispense_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
    Query(q): Query<StoreQuery>,
) -> Result<Response, PageError> {
    let patient: PatientId = raw.parse().map_err(|_| not_found("patient"))?;
    render_dispense(&state, &ctx, page, patient, &q.store, Vec::new(), Vec::new()).await
}

async fn render_dispense(
    state: &AppState,
    ctx: &salus_app::Ctx,
    page: PageCtx,
    patient: PatientId,
    store: &str,
    errors: Vec<(String, String)>,
    typed: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let stores = pharmacy.stores(ctx).await?;
    let store = pick(&stores, store).ok_or_else(|| not_found("store"))?;
    let (who, store, items) = pharmacy.to_dispense(ctx, patient, store.id).await?;
    let mut recent = Vec::new();
    for d in pharmacy.dispensings_of(ctx, patient).await?.into_iter().take(5) {
        recent.push(pharmacy.dispensing(ctx, d.id).await?);
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(render(
        status,
        &DispensePage {
            tz: state.app.time_zone,
            page,
            who,
            stores,
            store,
            items,
            recent,
            key: new_key(),
            errors,
            typed,
            currency: state.app.currency,
        },
    ))
}

/// Dispenses the rows with a quantity; a refusal comes back beside its row, typed values kept.
async fn dispense(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let patient: PatientId = raw.parse().map_err(|_| not_found("patient"))?;
    let store_raw = field(&f, "store_id");
    let store: Uuid = store_raw.parse().map_err(|_| not_found("store"))?;
    let rxs: Vec<Uuid> = f.iter().filter(|(k, _)| k == "rx").filter_map(|(_, v)| v.parse().ok()).collect();
    let mut lines = Vec::new();
    let mut rows = Vec::new();
    for rx in &rxs {
        let qty = field(&f, &format!("qty:{rx}"));
        if qty.is_empty() || qty == "0" {
            continue;
        }
        rows.push(*rx);
        lines.push(LineInput {
            prescription_id: Some(*rx),
            item_id: field(&f, &format!("item:{rx}")).parse().ok(),
            quantity: qty.parse().unwrap_or(-1),
            batch_id: field(&f, &format!("batch:{rx}")).parse().ok(),
            override_reason: field(&f, &format!("override:{rx}")),
            substitution_reason: field(&f, &format!("subst:{rx}")),
        });
    }
    let errors: Vec<(String, String)> = if lines.is_empty() {
        vec![("form".into(), "Enter a quantity for at least one prescription.".into())]
    } else {
        match state.app.pharmacy().dispense(&ctx, &field(&f, "idempotency_key"), patient, store, lines).await
        {
            Ok(d) => {
                let text = format!("Dispensed {} ({} line(s)).", d.dispense.number, d.lines.len());
                return Ok(flash(&state, &format!("/pharmacy/dispenses/{}", d.dispense.id), &text));
            }
            Err(AppError::Invalid(errors)) => errors
                .into_iter()
                .map(|e| {
                    // "line 2: …" belongs beside the second row given.
                    let row = e
                        .message
                        .strip_prefix("line ")
                        .and_then(|r| r.split_once(':'))
                        .and_then(|(n, m)| Some((n.parse::<usize>().ok()?, m.trim().to_owned())));
                    match row.and_then(|(n, m)| Some((rows.get(n.checked_sub(1)?)?.to_string(), m))) {
                        Some((rx, m)) => (rx, m),
                        None => (e.field.to_owned(), e.message),
                    }
                })
                .collect(),
            Err(e @ AppError::OutOfStock { .. }) => vec![("form".into(), format!("Not dispensed: {e}."))],
            Err(e) => {
                return Ok(flash(
                    &state,
                    &format!("/pharmacy/patients/{patient}?store={store}"),
                    &refusal(e)?,
                ));
            }
        }
    };
    render_dispense(&state, &ctx, page, patient, &store_raw, errors, f).await
}

/// Takes back units of a dispensed line.
async fn take_back(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let line: Uuid = raw.parse().map_err(|_| not_found("line"))?;
    let back = super::safe_next(Some(&field(&f, "back"))).to_owned();
    let quantity = field(&f, "quantity").parse().unwrap_or(-1);
    let text = match state
        .app
        .pharmacy()
        .take_back(&ctx, &field(&f, "idempotency_key"), line, quantity, &field(&f, "reason"))
        .await
    {
        Ok(m) => format!("{} back in stock (now {} on hand in that batch).", m.quantity, m.balance_after),
        Err(e) => refusal(e)?,
    };
    Ok(flash(&state, &back, &text))
}

#[derive(Template)]
#[template(path = "pharmacy_receipt.html")]
struct ReceiptPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    d: DispenseDetail,
    currency: Currency,
    hospital: String,
}

impl ReceiptPage {
    fn price(&self, minor: &i64) -> String {
        money(self.currency, *minor)
    }
    fn amount(&self, l: &salus_core::pharmacy::DispenseLine) -> String {
        money(self.currency, l.amount_minor())
    }
    fn totals(&self) -> (String, String, String) {
        let (n, t, g) = self.d.totals();
        (money(self.currency, n), money(self.currency, t), money(self.currency, g))
    }
    /// A tax rate as people write it: "5 %", "12.5 %".
    fn rate(&self, bp: &i32) -> String {
        let whole = bp / 100;
        match bp % 100 {
            0 => format!("{whole} %"),
            frac if frac % 10 == 0 => format!("{whole}.{} %", frac / 10),
            frac => format!("{whole}.{frac:02} %"),
        }
    }
    fn is_sale(&self) -> bool {
        self.d.dispense.kind == salus_core::pharmacy::DispenseKind::Sale
    }
}

/// A dispensing's receipt and its labels, printable.
async fn receipt_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("dispensing"))?;
    let d = state.app.pharmacy().dispensing(&ctx, id).await?;
    let hospital = state
        .app
        .organisation()
        .facilities(&salus_app::Ctx::operator())
        .await?
        .into_iter()
        .next()
        .map(|f| f.name)
        .unwrap_or_default();
    Ok(render(
        StatusCode::OK,
        &ReceiptPage { tz: state.app.time_zone, page, d, currency: state.app.currency, hospital },
    ))
}

#[derive(Template)]
#[template(path = "pharmacy_stock.html")]
struct StockPage {
    page: PageCtx,
    stores: Vec<Store>,
    store: Option<Store>,
    rows: Vec<PositionRow>,
    next: Option<String>,
}

impl StockPage {
    fn is_store(&self, s: &Store) -> bool {
        self.store.as_ref().is_some_and(|c| c.id == s.id)
    }
    fn store_id(&self) -> String {
        self.store.as_ref().map(|s| s.id.to_string()).unwrap_or_default()
    }
    fn next_link(&self, after: &str) -> String {
        let after = serde_urlencoded::to_string([("after", after)]).unwrap_or_default();
        format!("/pharmacy/stock?store={}&{after}", self.store_id())
    }
}

/// Rows of the stock position on a page.
const STOCK_PAGE: u64 = 100;

/// A store's stock by item.
async fn stock_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<StoreQuery>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let stores = pharmacy.stores(&ctx).await?;
    let store = pick(&stores, &q.store);
    let rows = match &store {
        Some(s) => {
            pharmacy
                .position(&ctx, s.id, Some(q.after.as_str()).filter(|a| !a.is_empty()), STOCK_PAGE)
                .await?
        }
        None => Vec::new(),
    };
    let next = (rows.len() as u64 == STOCK_PAGE).then(|| rows.last().map(|r| r.cursor())).flatten();
    Ok(render(StatusCode::OK, &StockPage { page, stores, store, rows, next }))
}

#[derive(Template)]
#[template(path = "pharmacy_item.html")]
struct ItemPage {
    page: PageCtx,
    store: Store,
    item: StockItem,
    lots: Vec<Lot>,
    may_manage: bool,
    today: NaiveDate,
    currency: Currency,
    key: String,
}

impl ItemPage {
    fn price(&self, minor: &i64) -> String {
        money(self.currency, *minor)
    }
    fn expired(&self, l: &Lot) -> bool {
        l.batch.expiry_date < self.today
    }
}

/// An item's batches in a store, with what may be done to each.
async fn item_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
    Query(q): Query<StoreQuery>,
) -> Result<Response, PageError> {
    let item: Uuid = raw.parse().map_err(|_| not_found("stock item"))?;
    let pharmacy = state.app.pharmacy();
    let stores = pharmacy.stores(&ctx).await?;
    let store = pick(&stores, &q.store).ok_or_else(|| not_found("store"))?;
    let (item, lots) = pharmacy.lots(&ctx, store.id, item).await?;
    let may_manage = page.user.as_ref().is_some_and(|u| u.may(Permission::StockManage));
    Ok(render(
        StatusCode::OK,
        &ItemPage {
            page,
            store,
            item,
            lots,
            may_manage,
            today: pharmacy.today(),
            currency: state.app.currency,
            key: new_key(),
        },
    ))
}

/// A batch's forms: hold, release, adjust, write off, send back to the supplier.
async fn batch_action(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path((raw, action)): Path<(String, String)>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let batch: Uuid = raw.parse().map_err(|_| not_found("batch"))?;
    let back = super::safe_next(Some(&field(&f, "back"))).to_owned();
    let pharmacy = state.app.pharmacy();
    let reason = field(&f, "reason");
    let manual = |kind: MovementKind| ManualMove {
        store_id: field(&f, "store_id").parse().unwrap_or_default(),
        batch_id: batch,
        kind,
        quantity: field(&f, "quantity").parse().unwrap_or(0),
        reason: reason.clone(),
    };
    let key = field(&f, "idempotency_key");
    let outcome = match action.as_str() {
        "hold" => pharmacy
            .hold_batch(&ctx, batch, Some(&reason))
            .await
            .map(|b| format!("Batch {} held.", b.batch_no)),
        "release" => {
            pharmacy.hold_batch(&ctx, batch, None).await.map(|b| format!("Batch {} released.", b.batch_no))
        }
        "adjust" | "write_off" | "supplier_return" => {
            let kind = match action.as_str() {
                "adjust" => MovementKind::Adjustment,
                "write_off" => MovementKind::ExpiryWriteOff,
                _ => MovementKind::SupplierReturn,
            };
            pharmacy.move_by_hand(&ctx, &key, manual(kind)).await.map(|m| {
                format!("Recorded {} of {}; {} now on hand.", kind.words(), m.quantity, m.balance_after)
            })
        }
        _ => return Err(not_found("action")),
    };
    let text = match outcome {
        Ok(t) => t,
        Err(e) => refusal(e)?,
    };
    Ok(flash(&state, &back, &text))
}

#[derive(Template)]
#[template(path = "pharmacy_receive.html")]
struct ReceivePage {
    page: PageCtx,
    stores: Vec<Store>,
    store: Option<Store>,
    suppliers: Vec<salus_core::pharmacy::Supplier>,
    items: Vec<StockItem>,
    key: String,
    errors: Vec<(String, String)>,
    typed: Vec<(String, String)>,
    /// The short-expiry warnings to confirm, if any.
    warnings: Vec<String>,
}

/// Lines on the delivery form.
const RECEIPT_ROWS: usize = 6;

impl ReceivePage {
    fn rows(&self) -> std::ops::Range<usize> {
        0..RECEIPT_ROWS
    }
    fn typed(&self, name: &str) -> String {
        self.typed.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }
    fn cell(&self, name: &str, row: &usize) -> String {
        self.typed(&format!("{name}{row}"))
    }
    fn chosen(&self, name: &str, value: &str) -> bool {
        self.typed(name) == value
    }
    fn chosen_item(&self, row: &usize, item: &Uuid) -> bool {
        self.cell("item", row) == item.to_string()
    }
    fn is_store(&self, s: &Store) -> bool {
        self.store.as_ref().is_some_and(|c| c.id == s.id)
    }
}

async fn receive_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<StoreQuery>,
) -> Result<Response, PageError> {
    render_receive(&state, &ctx, page, &q.store, Vec::new(), Vec::new(), Vec::new()).await
}

async fn render_receive(
    state: &AppState,
    ctx: &salus_app::Ctx,
    page: PageCtx,
    store: &str,
    errors: Vec<(String, String)>,
    warnings: Vec<String>,
    typed: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let stores = pharmacy.stores(ctx).await?;
    let store = pick(&stores, store);
    let suppliers = pharmacy.suppliers(ctx).await?;
    let items = pharmacy.items(ctx, None, false).await?;
    let status = if errors.is_empty() && warnings.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    // A refused form keeps its key: resubmitting the same delivery must not receive it twice.
    let key =
        typed.iter().find(|(k, _)| k == "idempotency_key").map(|(_, v)| v.clone()).unwrap_or_else(new_key);
    Ok(render(status, &ReceivePage { page, stores, store, suppliers, items, key, errors, typed, warnings }))
}

/// Receives a delivery; refused lines come back with what was typed.
async fn receive(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut errors = Vec::new();
    let mut lines = Vec::new();
    for row in 0..RECEIPT_ROWS {
        let item = field(&f, &format!("item{row}"));
        if item.is_empty() {
            continue;
        }
        let price = |name: &str| -> Result<i64, String> {
            let raw = field(&f, &format!("{name}{row}"));
            Money::parse_price(&raw, state.app.currency, "price").map(|m| m.minor()).map_err(|e| e.message)
        };
        let (cost, sale) = match (price("cost"), price("sale")) {
            (Ok(c), Ok(s)) => (c, s),
            (Err(e), _) | (_, Err(e)) => {
                errors.push(("lines".to_owned(), format!("line {}: {e}", lines.len() + 1)));
                continue;
            }
        };
        lines.push(ReceiptLineInput {
            item_id: item.parse().unwrap_or_default(),
            batch_no: field(&f, &format!("batch{row}")),
            expiry_date: field(&f, &format!("expiry{row}")).parse().ok(),
            quantity: field(&f, &format!("qty{row}")).parse().unwrap_or(-1),
            free_quantity: field(&f, &format!("free{row}")).parse().unwrap_or(0),
            cost_minor: cost,
            sale_price_minor: sale,
        });
    }
    let store_raw = field(&f, "store_id");
    let mut warnings = Vec::new();
    if errors.is_empty() {
        let input = ReceiptInput {
            store_id: store_raw.parse().unwrap_or_default(),
            supplier_id: field(&f, "supplier_id").parse().ok(),
            invoice_no: field(&f, "invoice_no"),
            lines,
            short_expiry_reason: field(&f, "short_expiry_reason"),
        };
        match state.app.pharmacy().receive(&ctx, &field(&f, "idempotency_key"), input).await {
            Ok(r) => {
                let text = format!("Received {} ({} line(s)).", r.receipt.number, r.lines.len());
                return Ok(flash(&state, &format!("/pharmacy/stock?store={}", r.receipt.store_id), &text));
            }
            Err(AppError::Invalid(e)) => {
                errors = e.into_iter().map(|e| (e.field.to_owned(), e.message)).collect()
            }
            Err(AppError::ClinicalWarnings(w)) => warnings = w,
            Err(AppError::NotFound(what)) => errors.push(("store_id".into(), format!("choose a {what}"))),
            Err(e) => return Ok(flash(&state, "/pharmacy/receive", &refusal(e)?)),
        }
    }
    render_receive(&state, &ctx, page, &store_raw, errors, warnings, f).await
}

#[derive(Template)]
#[template(path = "pharmacy_ledger.html")]
struct LedgerPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    stores: Vec<Store>,
    store: Option<Store>,
    rows: Vec<Movement>,
    /// Item and batch names by id.
    names: std::collections::HashMap<Uuid, String>,
    /// The check, when asked for (it reads the whole ledger).
    check: Option<LedgerCheck>,
}

impl LedgerPage {
    fn name(&self, id: &Uuid) -> String {
        self.names.get(id).cloned().unwrap_or_default()
    }
    /// What caused a movement, in words.
    fn source(&self, m: &Movement) -> &'static str {
        match m.source_type.as_str() {
            "dispense_line" => "dispensing or sale",
            "goods_receipt" => "delivery",
            "stock_transfer" => "transfer",
            "patient_return" => "patient return",
            "stock_count" => "stock-take",
            "manual" => "by hand",
            _ => "generated",
        }
    }
    fn is_store(&self, s: &Store) -> bool {
        self.store.as_ref().is_some_and(|c| c.id == s.id)
    }
}

/// A store's ledger, and the check that the ledger sums to every balance.
async fn ledger_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<StoreQuery>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let stores = pharmacy.stores(&ctx).await?;
    let store = pick(&stores, &q.store);
    let rows = match &store {
        Some(s) => pharmacy.ledger(&ctx, s.id, q.batch.parse().ok(), 200).await?,
        None => Vec::new(),
    };
    let check = if q.check { Some(pharmacy.verify_ledger(&ctx).await?) } else { None };
    let names = pharmacy.ledger_names(&ctx, &rows).await?;
    Ok(render(
        StatusCode::OK,
        &LedgerPage { tz: state.app.time_zone, page, stores, store, rows, names, check },
    ))
}

#[derive(Template)]
#[template(path = "pharmacy_sale.html")]
struct SalePage {
    page: PageCtx,
    stores: Vec<Store>,
    store: Option<Store>,
    rows_in_stock: Vec<PositionRow>,
    key: String,
    errors: Vec<(String, String)>,
    typed: Vec<(String, String)>,
}

/// Lines on the sale form.
const SALE_ROWS: usize = 5;

impl SalePage {
    fn rows(&self) -> std::ops::Range<usize> {
        0..SALE_ROWS
    }
    fn typed(&self, name: &str) -> String {
        self.typed.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }
    fn cell(&self, name: &str, row: &usize) -> String {
        self.typed(&format!("{name}{row}"))
    }
    fn chosen_item(&self, row: &usize, item: &Uuid) -> bool {
        self.cell("item", row) == item.to_string()
    }
    fn is_store(&self, s: &Store) -> bool {
        self.store.as_ref().is_some_and(|c| c.id == s.id)
    }
}

async fn sale_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<StoreQuery>,
) -> Result<Response, PageError> {
    render_sale(&state, &ctx, page, &q.store, Vec::new(), Vec::new()).await
}

async fn render_sale(
    state: &AppState,
    ctx: &salus_app::Ctx,
    page: PageCtx,
    store: &str,
    errors: Vec<(String, String)>,
    typed: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let stores = pharmacy.stores(ctx).await?;
    let store = pick(&stores, store);
    let rows_in_stock = match &store {
        Some(s) => {
            pharmacy.position(ctx, s.id, None, 200).await?.into_iter().filter(|r| r.available > 0).collect()
        }
        None => Vec::new(),
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let key =
        typed.iter().find(|(k, _)| k == "idempotency_key").map(|(_, v)| v.clone()).unwrap_or_else(new_key);
    Ok(render(status, &SalePage { page, stores, store, rows_in_stock, key, errors, typed }))
}

/// Sells over the counter; a refusal comes back with what was typed.
async fn sell(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut lines = Vec::new();
    for row in 0..SALE_ROWS {
        let item = field(&f, &format!("item{row}"));
        if item.is_empty() {
            continue;
        }
        lines.push(LineInput {
            item_id: item.parse().ok(),
            quantity: field(&f, &format!("qty{row}")).parse().unwrap_or(-1),
            ..Default::default()
        });
    }
    let store_raw = field(&f, "store_id");
    let input = SaleInput {
        store_id: store_raw.parse().unwrap_or_default(),
        patient_id: None,
        customer_name: field(&f, "customer_name"),
        lines,
    };
    let errors = match state.app.pharmacy().sell(&ctx, &field(&f, "idempotency_key"), input).await {
        Ok(d) => {
            let text = format!("Sold: receipt {}.", d.dispense.number);
            return Ok(flash(&state, &format!("/pharmacy/dispenses/{}", d.dispense.id), &text));
        }
        Err(AppError::Invalid(e)) => e.into_iter().map(|e| (e.field.to_owned(), e.message)).collect(),
        Err(e @ AppError::OutOfStock { .. }) => vec![("lines".to_owned(), format!("Not sold: {e}."))],
        Err(AppError::NotFound(what)) => vec![("store_id".to_owned(), format!("choose a {what}"))],
        Err(e) => return Ok(flash(&state, "/pharmacy/sale", &refusal(e)?)),
    };
    render_sale(&state, &ctx, page, &store_raw, errors, f).await
}

#[derive(Template)]
#[template(path = "pharmacy_transfers.html")]
struct TransfersPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    stores: Vec<Store>,
    store: Option<Store>,
    transfers: Vec<Transfer>,
    lots: Vec<(String, Lot)>,
    key: String,
}

impl TransfersPage {
    fn is_store(&self, s: &Store) -> bool {
        self.store.as_ref().is_some_and(|c| c.id == s.id)
    }
    fn store_name(&self, id: &Uuid) -> String {
        self.stores.iter().find(|s| s.id == *id).map(|s| s.name.clone()).unwrap_or_else(|| "—".into())
    }
    fn incoming(&self, t: &Transfer) -> bool {
        self.store.as_ref().is_some_and(|s| s.id == t.to_store_id)
    }
}

/// Transfers in transit for a store, and the form to send stock from it.
async fn transfers_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<StoreQuery>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let stores = pharmacy.stores(&ctx).await?;
    let store = pick(&stores, &q.store);
    let (transfers, lots) = match &store {
        Some(s) => {
            let transfers = pharmacy.transfers_in_transit(&ctx, s.id).await?;
            let rows = pharmacy.position(&ctx, s.id, None, 200).await?;
            let mut lots = Vec::new();
            for r in rows.iter().filter(|r| r.available > 0).take(60) {
                let (_, l) = pharmacy.lots(&ctx, s.id, r.item_id).await?;
                let today = pharmacy.today();
                lots.extend(l.into_iter().filter(|l| l.offerable(today)).map(|l| (r.label(), l)));
            }
            (transfers, lots)
        }
        None => (Vec::new(), Vec::new()),
    };
    Ok(render(
        StatusCode::OK,
        &TransfersPage { tz: state.app.time_zone, page, stores, store, transfers, lots, key: new_key() },
    ))
}

/// Sends one batch's units to another store.
async fn issue_transfer(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let from: Uuid = field(&f, "from_store_id").parse().map_err(|_| not_found("store"))?;
    let to: Uuid = field(&f, "to_store_id").parse().unwrap_or_default();
    let line = salus_app::pharmacy::stock::TransferLineInput {
        batch_id: field(&f, "batch_id").parse().unwrap_or_default(),
        quantity: field(&f, "quantity").parse().unwrap_or(-1),
    };
    let back = format!("/pharmacy/transfers?store={from}");
    let text = match state
        .app
        .pharmacy()
        .issue_transfer(&ctx, &field(&f, "idempotency_key"), from, to, vec![line])
        .await
    {
        Ok(t) => format!("Transfer {} issued: in transit until received.", t.transfer.number),
        Err(e) => refusal(e)?,
    };
    Ok(flash(&state, &back, &text))
}

/// Receives a transfer into its store.
async fn receive_transfer(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("transfer"))?;
    let back = super::safe_next(Some(&field(&f, "back"))).to_owned();
    let text = match state.app.pharmacy().receive_transfer(&ctx, &field(&f, "idempotency_key"), id).await {
        Ok(t) => format!("Transfer {} received.", t.transfer.number),
        Err(e) => refusal(e)?,
    };
    Ok(flash(&state, &back, &text))
}

#[derive(Template)]
#[template(path = "pharmacy_counts.html")]
struct CountsPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    stores: Vec<Store>,
    store: Option<Store>,
    counts: Vec<salus_core::pharmacy::StockCount>,
}

impl CountsPage {
    fn is_store(&self, s: &Store) -> bool {
        self.store.as_ref().is_some_and(|c| c.id == s.id)
    }
}

/// A store's count sheets, and the button that starts one.
async fn counts_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<StoreQuery>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let stores = pharmacy.stores(&ctx).await?;
    let store = pick(&stores, &q.store);
    let counts = match &store {
        Some(s) => pharmacy.counts(&ctx, s.id).await?,
        None => Vec::new(),
    };
    Ok(render(StatusCode::OK, &CountsPage { tz: state.app.time_zone, page, stores, store, counts }))
}

/// Starts a count of the chosen store.
async fn open_count(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let store: Uuid = field(&f, "store_id").parse().map_err(|_| not_found("store"))?;
    match state.app.pharmacy().open_count(&ctx, store).await {
        Ok(sheet) => Ok(flash(
            &state,
            &format!("/pharmacy/counts/{}", sheet.count.id),
            &format!("Count sheet {} made: {} batch(es) to count.", sheet.count.number, sheet.lines.len()),
        )),
        Err(e) => Ok(flash(&state, &format!("/pharmacy/counts?store={store}"), &refusal(e)?)),
    }
}

#[derive(Template)]
#[template(path = "pharmacy_count.html")]
struct CountPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    sheet: salus_app::pharmacy::counts::CountSheet,
    key: String,
    errors: Vec<String>,
    typed: Vec<(String, String)>,
}

impl CountPage {
    fn typed(&self, name: &str, line: &Uuid) -> String {
        let k = format!("{name}:{line}");
        self.typed.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()).unwrap_or_default()
    }
    fn open(&self) -> bool {
        self.sheet.count.status == salus_core::pharmacy::CountStatus::Open
    }
}

async fn count_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("count sheet"))?;
    let sheet = state.app.pharmacy().count_sheet(&ctx, id).await?;
    Ok(render(
        StatusCode::OK,
        &CountPage {
            tz: state.app.time_zone,
            page,
            sheet,
            key: new_key(),
            errors: Vec::new(),
            typed: Vec::new(),
        },
    ))
}

/// Posts a count; a refusal comes back with the counts typed.
async fn post_count(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("count sheet"))?;
    let lines: Vec<Uuid> =
        f.iter().filter(|(k, _)| k == "line").filter_map(|(_, v)| v.parse().ok()).collect();
    let counted = lines
        .iter()
        .filter_map(|l| {
            let raw = field(&f, &format!("counted:{l}"));
            (!raw.is_empty()).then(|| salus_app::pharmacy::counts::Counted {
                line_id: *l,
                counted: raw.parse().unwrap_or(-1),
                reason: field(&f, &format!("reason:{l}")),
            })
        })
        .collect();
    let key = field(&f, "idempotency_key");
    let errors = match state.app.pharmacy().post_count(&ctx, &key, id, counted).await {
        Ok(sheet) => {
            let text = format!("Count {} posted; its differences are in the ledger.", sheet.count.number);
            return Ok(flash(&state, &format!("/pharmacy/counts/{id}"), &text));
        }
        Err(AppError::Invalid(e)) => e.into_iter().map(|e| e.message).collect(),
        Err(e @ AppError::OutOfStock { .. }) => vec![format!("Not posted: {e}.")],
        Err(e) => return Ok(flash(&state, &format!("/pharmacy/counts/{id}"), &refusal(e)?)),
    };
    let sheet = state.app.pharmacy().count_sheet(&ctx, id).await?;
    Ok(render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &CountPage { tz: state.app.time_zone, page, sheet, key, errors, typed: f },
    ))
}

#[derive(Template)]
#[template(path = "pharmacy_setup.html")]
struct SetupPage {
    page: PageCtx,
    stores: Vec<Store>,
    suppliers: Vec<salus_core::pharmacy::Supplier>,
    items: Vec<StockItem>,
    /// A refused form's messages by field, and what was typed.
    errors: Vec<(String, String)>,
    typed: Vec<(String, String)>,
}

impl SetupPage {
    fn kinds(&self) -> &'static [StoreKind] {
        StoreKind::ALL
    }
    fn typed(&self, name: &str) -> String {
        self.typed.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }
    fn error_for(&self, name: &str) -> Option<String> {
        self.errors.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }
}

async fn setup_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
) -> Result<Response, PageError> {
    render_setup(&state, &ctx, page, Vec::new(), Vec::new()).await
}

async fn render_setup(
    state: &AppState,
    ctx: &salus_app::Ctx,
    page: PageCtx,
    errors: Vec<(String, String)>,
    typed: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let (stores, suppliers, items) = (
        pharmacy.stores(ctx).await?,
        pharmacy.suppliers(ctx).await?,
        pharmacy.items(ctx, None, false).await?,
    );
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(render(status, &SetupPage { page, stores, suppliers, items, errors, typed }))
}

/// The setup forms: a store, a supplier, a reorder level. A refusal comes back beside
/// its field, with what was typed.
async fn setup(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let outcome = match field(&f, "form").as_str() {
        "store" => pharmacy
            .create_store(
                &ctx,
                salus_app::pharmacy::NewStore {
                    code: field(&f, "code"),
                    name: field(&f, "name"),
                    kind: field(&f, "kind").parse().unwrap_or(StoreKind::Other),
                    facility_id: None,
                    department_id: None,
                },
            )
            .await
            .map(|s| format!("Store {} ({}) added.", s.name, s.code)),
        "supplier" => pharmacy
            .create_supplier(
                &ctx,
                salus_app::pharmacy::NewSupplier {
                    name: field(&f, "supplier_name"),
                    contact_name: field(&f, "contact_name"),
                    phone: field(&f, "phone"),
                    email: field(&f, "email"),
                    tax_id: field(&f, "tax_id"),
                },
            )
            .await
            .map(|s| format!("Supplier {} added.", s.name)),
        "reorder" => {
            let number = |name: &str| field(&f, name).parse::<i64>().unwrap_or(-1);
            pharmacy
                .set_reorder_level(
                    &ctx,
                    field(&f, "store_id").parse().unwrap_or_default(),
                    field(&f, "item_id").parse().unwrap_or_default(),
                    number("reorder_level"),
                    number("reorder_quantity"),
                )
                .await
                .map(|()| "Reorder level set.".to_owned())
        }
        _ => return Err(not_found("form")),
    };
    let errors = match outcome {
        Ok(text) => return Ok(flash(&state, "/pharmacy/setup", &text)),
        Err(AppError::Invalid(e)) => e
            .into_iter()
            .map(|e| {
                // The supplier form's name field is named apart from the store's.
                let field = if field(&f, "form") == "supplier" && e.field == "name" {
                    "supplier_name"
                } else {
                    e.field
                };
                (field.to_owned(), e.message)
            })
            .collect(),
        Err(AppError::NotFound(what)) => vec![("item_id".to_owned(), format!("choose a {what}"))],
        Err(e) => return Ok(flash(&state, "/pharmacy/setup", &refusal(e)?)),
    };
    render_setup(&state, &ctx, page, errors, f).await
}
