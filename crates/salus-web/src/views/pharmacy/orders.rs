//! Purchase orders: the open ones and a new one (drafted from the store's low-stock list
//! when asked), an order with what has come of each line, receiving against it and
//! closing it short.

use super::*;
use salus_app::pharmacy::orders::{OrderDetail, OrderInput, OrderLineInput};
use salus_core::pharmacy::{PurchaseOrder, Supplier};

local!(OrdersPage, OrderPage);
shows_store!(OrdersPage);

/// Lines on the new-order form.
const ORDER_ROWS: usize = 8;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct OrdersQuery {
    store: String,
    /// All orders, not only the open ones.
    all: bool,
    /// Draft the new order from the store's items at or below their reorder level.
    low: bool,
    page: u64,
}

#[derive(Template)]
#[template(path = "pharmacy_orders.html")]
struct OrdersPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    stores: Vec<Store>,
    store: Option<Store>,
    suppliers: Vec<Supplier>,
    items: Vec<StockItem>,
    orders: Vec<PurchaseOrder>,
    all: bool,
    at: u64,
    more: bool,
    key: String,
    errors: Vec<(String, String)>,
    typed: Vec<(String, String)>,
}

impl OrdersPage {
    fn rows(&self) -> std::ops::Range<usize> {
        0..ORDER_ROWS
    }
    fn typed(&self, name: &str) -> String {
        field(&self.typed, name)
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
    fn error_for(&self, name: &str) -> Option<String> {
        self.errors.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }
    fn supplier_name(&self, id: &Uuid) -> String {
        self.suppliers.iter().find(|s| s.id == *id).map(|s| s.name.clone()).unwrap_or_default()
    }
    fn store_name(&self, id: &Uuid) -> String {
        self.stores.iter().find(|s| s.id == *id).map(|s| s.name.clone()).unwrap_or_default()
    }
    fn page_link(&self, n: u64) -> String {
        format!("/pharmacy/orders?store={}&all={}&page={n}", self.store_id(), self.all)
    }
}

/// Orders on a page of the list.
const ORDERS_PAGE: u64 = 50;

pub(super) async fn orders_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<OrdersQuery>,
) -> Result<Response, PageError> {
    let mut typed = Vec::new();
    if q.low {
        // A draft from the low-stock list: each item's reorder quantity less what is
        // already on its way (an item fully on order is left out).
        let (_, store) = choose_store(&state, &ctx, &q.store).await?;
        if let Some(s) = store {
            let alerts = state.app.pharmacy().alerts(&ctx, s.id).await?;
            let wanted = alerts.low.iter().filter(|l| l.to_order() > 0).take(ORDER_ROWS);
            for (row, l) in wanted.enumerate() {
                typed.push((format!("item{row}"), l.item.id.to_string()));
                typed.push((format!("qty{row}"), l.to_order().to_string()));
            }
            typed.push(("store_id".into(), s.id.to_string()));
        }
    }
    render_orders(&state, &ctx, page, &q, Vec::new(), typed).await
}

async fn render_orders(
    state: &AppState,
    ctx: &salus_app::Ctx,
    page: PageCtx,
    q: &OrdersQuery,
    errors: Vec<(String, String)>,
    typed: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let store_raw = Some(field(&typed, "store_id")).filter(|s| !s.is_empty()).unwrap_or(q.store.clone());
    let (stores, store) = choose_store(state, ctx, &store_raw).await?;
    let (orders, more) =
        pharmacy.orders(ctx, !q.all, ORDERS_PAGE, q.page.saturating_mul(ORDERS_PAGE)).await?;
    let suppliers = pharmacy.suppliers(ctx).await?;
    let items = pharmacy.items(ctx, None, false).await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    // A refused form keeps its key: resubmitting the same order must not place it twice.
    let key = Some(field(&typed, "idempotency_key")).filter(|k| !k.is_empty()).unwrap_or_else(new_key);
    Ok(render(
        status,
        &OrdersPage {
            tz: state.app.time_zone,
            page,
            stores,
            store,
            suppliers,
            items,
            orders,
            all: q.all,
            at: q.page,
            more,
            key,
            errors,
            typed,
        },
    ))
}

/// Places an order; refused lines come back with what was typed.
pub(super) async fn place_order(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut errors = Vec::new();
    let mut lines = Vec::new();
    for row in 0..ORDER_ROWS {
        let item = field(&f, &format!("item{row}"));
        if item.is_empty() {
            continue;
        }
        let cost = match Money::parse_price(&field(&f, &format!("cost{row}")), state.app.currency, "cost") {
            Ok(m) => m.minor(),
            Err(e) => {
                errors.push(("lines".to_owned(), format!("line {}: {}", lines.len() + 1, e.message)));
                continue;
            }
        };
        lines.push(OrderLineInput {
            item_id: item.parse().unwrap_or_default(),
            quantity: field(&f, &format!("qty{row}")).parse().unwrap_or(-1),
            cost_minor: cost,
        });
    }
    if errors.is_empty() {
        let input = OrderInput {
            supplier_id: field(&f, "supplier_id").parse().ok(),
            store_id: field(&f, "store_id").parse().unwrap_or_default(),
            expected_on: field(&f, "expected_on").parse().ok(),
            note: field(&f, "note"),
            lines,
        };
        match state.app.pharmacy().create_order(&ctx, &field(&f, "idempotency_key"), input).await {
            Ok(o) => {
                let text = format!("Order {} placed ({} line(s)).", o.order.number, o.lines.len());
                return Ok(flash(&state, &format!("/pharmacy/orders/{}", o.order.id), &text));
            }
            Err(AppError::Invalid(e)) => {
                errors = e.into_iter().map(|e| (e.field.to_owned(), e.message)).collect()
            }
            Err(AppError::NotFound(what)) => errors.push(("store_id".into(), format!("choose a {what}"))),
            Err(e) => return Ok(flash(&state, "/pharmacy/orders", &refusal(e)?)),
        }
    }
    render_orders(&state, &ctx, page, &OrdersQuery::default(), errors, f).await
}

#[derive(Template)]
#[template(path = "pharmacy_order.html")]
struct OrderPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    detail: OrderDetail,
    supplier: String,
    store: String,
    /// Item names by id.
    names: std::collections::HashMap<Uuid, String>,
    currency: Currency,
}

impl OrderPage {
    fn name(&self, id: &Uuid) -> String {
        self.names.get(id).cloned().unwrap_or_default()
    }
    fn money(&self, minor: &i64) -> String {
        money(self.currency, *minor)
    }
    fn total(&self) -> String {
        money(self.currency, self.detail.total_minor())
    }
}

pub(super) async fn order_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: Uuid = id.parse().map_err(|_| not_found("order"))?;
    let pharmacy = state.app.pharmacy();
    let detail = match pharmacy.order(&ctx, id).await {
        Err(AppError::NotFound(_)) => return Err(not_found("order")),
        other => other?,
    };
    let supplier = pharmacy
        .suppliers(&ctx)
        .await?
        .into_iter()
        .find(|s| s.id == detail.order.supplier_id)
        .map(|s| s.name)
        .unwrap_or_default();
    let store = pharmacy
        .stores(&ctx)
        .await?
        .into_iter()
        .find(|s| s.id == detail.order.store_id)
        .map(|s| s.name)
        .unwrap_or_default();
    let names = pharmacy
        .items(&ctx, None, true)
        .await?
        .into_iter()
        .filter(|i| detail.lines.iter().any(|l| l.item_id == i.id))
        .map(|i| (i.id, i.label()))
        .collect();
    Ok(render(
        StatusCode::OK,
        &OrderPage {
            tz: state.app.time_zone,
            page,
            detail,
            supplier,
            store,
            names,
            currency: state.app.currency,
        },
    ))
}

/// Closes an order short, with its reason.
pub(super) async fn close_order(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id: Uuid = id.parse().map_err(|_| not_found("order"))?;
    let outcome = state
        .app
        .pharmacy()
        .close_order(&ctx, id, &field(&f, "reason"))
        .await
        .map(|o| format!("Order {} closed.", o.order.number));
    crate::views::clinical::flash_outcome(&state, &format!("/pharmacy/orders/{id}"), outcome)
}

/// The delivery form's fields filled from an order: its store and supplier, and each
/// line still to come with its units and agreed cost.
pub(super) fn receipt_from_order(o: &OrderDetail, currency: Currency) -> Vec<(String, String)> {
    let mut typed = vec![
        ("order_id".to_owned(), o.order.id.to_string()),
        ("store_id".to_owned(), o.order.store_id.to_string()),
        ("supplier_id".to_owned(), o.order.supplier_id.to_string()),
    ];
    for (row, l) in o.lines.iter().filter(|l| l.outstanding() > 0).enumerate() {
        typed.push((format!("item{row}"), l.item_id.to_string()));
        typed.push((format!("qty{row}"), l.outstanding().to_string()));
        typed.push((format!("cost{row}"), Money::from_minor(l.cost_minor).plain(currency)));
    }
    typed
}
