//! A store's stock and an item's batches (hold, adjust, write off, send back), receiving a
//! delivery, the ledger with its check, and transfers between stores.

use super::*;

local!(LedgerPage, TransfersPage);
shows_store!(StockPage, ReceivePage, LedgerPage, TransfersPage);

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
    fn next_link(&self, after: &str) -> String {
        let after = serde_urlencoded::to_string([("after", after)]).unwrap_or_default();
        format!("/pharmacy/stock?store={}&{after}", self.store_id())
    }
}

/// Rows of the stock position on a page.
const STOCK_PAGE: u64 = 100;

/// A store's stock by item.
pub(super) async fn stock_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<StoreQuery>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let (stores, store) = choose_store(&state, &ctx, &q.store).await?;
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
pub(super) async fn item_page(
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
pub(super) async fn batch_action(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path((raw, action)): Path<(String, String)>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let batch: Uuid = raw.parse().map_err(|_| not_found("batch"))?;
    let back = crate::views::safe_next(Some(&field(&f, "back"))).to_owned();
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
    crate::views::clinical::flash_outcome(&state, &back, outcome)
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
    /// The purchase order the delivery fills, if any.
    order: Option<salus_app::pharmacy::orders::OrderDetail>,
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
}

pub(super) async fn receive_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<StoreQuery>,
) -> Result<Response, PageError> {
    let mut typed = Vec::new();
    if let Ok(id) = q.order.parse::<Uuid>() {
        let order = match state.app.pharmacy().order(&ctx, id).await {
            Err(AppError::NotFound(_)) => return Err(not_found("order")),
            other => other?,
        };
        typed = super::orders::receipt_from_order(&order, state.app.currency);
    }
    render_receive(&state, &ctx, page, &q.store, Vec::new(), Vec::new(), typed).await
}

pub(super) async fn render_receive(
    state: &AppState,
    ctx: &salus_app::Ctx,
    page: PageCtx,
    store: &str,
    errors: Vec<(String, String)>,
    warnings: Vec<String>,
    typed: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let order = match field(&typed, "order_id").parse::<Uuid>() {
        Ok(id) => Some(pharmacy.order(ctx, id).await?),
        Err(_) => None,
    };
    let store = order.as_ref().map(|o| o.order.store_id.to_string()).unwrap_or_else(|| store.to_owned());
    let (stores, store) = choose_store(state, ctx, &store).await?;
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
    Ok(render(
        status,
        &ReceivePage { page, stores, store, suppliers, items, key, errors, typed, warnings, order },
    ))
}

/// Receives a delivery; refused lines come back with what was typed.
pub(super) async fn receive(
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
        // A line of the order that did not come this time: its units cleared, no batch.
        let cell = |name: &str| field(&f, &format!("{name}{row}"));
        if !field(&f, "order_id").is_empty() && ["qty", "batch", "expiry"].iter().all(|n| cell(n).is_empty())
        {
            continue;
        }
        let price = |name: &str| -> Result<i64, String> {
            let what = if name == "cost" { "cost" } else { "sale price" };
            Money::parse_price(&cell(name), state.app.currency, "price")
                .map(|m| m.minor())
                .map_err(|e| format!("{what}: {}", e.message))
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
            order_id: field(&f, "order_id").parse().ok(),
            invoice_no: field(&f, "invoice_no"),
            lines,
            short_expiry_reason: field(&f, "short_expiry_reason"),
        };
        match state.app.pharmacy().receive(&ctx, &field(&f, "idempotency_key"), input).await {
            Ok(r) => {
                let text = format!("Received {} ({} line(s)).", r.receipt.number, r.lines.len());
                let back = match r.receipt.order_id {
                    Some(o) => format!("/pharmacy/orders/{o}"),
                    None => format!("/pharmacy/stock?store={}", r.receipt.store_id),
                };
                return Ok(flash(&state, &back, &text));
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
}

/// A store's ledger, and the check that the ledger sums to every balance.
pub(super) async fn ledger_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<StoreQuery>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let (stores, store) = choose_store(&state, &ctx, &q.store).await?;
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
    fn store_name(&self, id: &Uuid) -> String {
        self.stores.iter().find(|s| s.id == *id).map(|s| s.name.clone()).unwrap_or_else(|| "—".into())
    }
    fn incoming(&self, t: &Transfer) -> bool {
        self.store.as_ref().is_some_and(|s| s.id == t.to_store_id)
    }
}

/// Transfers in transit for a store, and the form to send stock from it.
pub(super) async fn transfers_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<StoreQuery>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let (stores, store) = choose_store(&state, &ctx, &q.store).await?;
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
pub(super) async fn issue_transfer(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let from: Uuid = field(&f, "from_store_id").parse().map_err(|_| not_found("store"))?;
    let to: Uuid = field(&f, "to_store_id").parse().unwrap_or_default();
    let line = salus_app::pharmacy::transfers::TransferLineInput {
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
pub(super) async fn receive_transfer(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("transfer"))?;
    let back = crate::views::safe_next(Some(&field(&f, "back"))).to_owned();
    let text = match state.app.pharmacy().receive_transfer(&ctx, &field(&f, "idempotency_key"), id).await {
        Ok(t) => format!("Transfer {} received.", t.transfer.number),
        Err(e) => refusal(e)?,
    };
    Ok(flash(&state, &back, &text))
}
