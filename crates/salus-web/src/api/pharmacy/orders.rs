//! Purchase orders over the API: placed with a supplier for a store, listed, read with
//! what has come of each line, and closed when the rest will not come. Deliveries are
//! received against an order through `POST /api/v1/pharmacy/receipts` with `order_id`.

use super::*;
use chrono::{DateTime, Utc};
use salus_app::pharmacy::orders::{OrderDetail, OrderInput, OrderLineInput};
use salus_core::pharmacy::{PurchaseOrder, PurchaseStatus};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_orders, create_order))
        .routes(routes!(get_order))
        .routes(routes!(close_order))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrdersQuery {
    /// Only orders still to be received (ordered or partially received).
    pub open: Option<bool>,
    /// Orders per page, 1 to 200 (default 50).
    #[serde(default, deserialize_with = "crate::api::extract::bounded::<_, u32, 1, 200>")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// The purchase orders
///
/// Newest first; `open=true` for those still to be received.
#[utoipa::path(get, path = "/api/v1/pharmacy/orders", tag = "pharmacy", params(OrdersQuery),
    responses((status = 200, description = "A page of orders", body = Paged<OrderOut>),
        (status = 400, description = "A limit out of bounds", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Cannot see stock", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A cursor this API did not give out", body = Problem, content_type = "application/problem+json")))]
async fn list_orders(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<OrdersQuery>,
) -> Result<Json<Paged<OrderOut>>, ApiError> {
    let limit = u64::from(q.limit.unwrap_or(50));
    let offset = crate::api::Cursor { limit: q.limit, cursor: q.cursor }.position::<u64>()?.unwrap_or(0);
    let (rows, more) = state.app.pharmacy().orders(&ctx, q.open.unwrap_or(false), limit, offset).await?;
    Ok(Json(Paged::new(rows.into_iter().map(Into::into).collect(), more.then_some(offset + limit))))
}

/// One item to order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLineIn {
    pub item_id: Uuid,
    /// Base units (tablets, ml, pieces).
    #[schema(minimum = 1)]
    pub quantity: i64,
    /// Agreed cost per base unit, minor units.
    #[schema(minimum = 0)]
    pub cost_minor: i64,
}

/// An order to place.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PurchaseOrderIn)]
pub struct OrderIn {
    pub supplier_id: Uuid,
    /// The store it is delivered into.
    pub store_id: Uuid,
    pub expected_on: Option<NaiveDate>,
    #[schema(max_length = 300)]
    pub note: Option<String>,
    #[schema(min_items = 1, max_items = 200)]
    pub lines: Vec<OrderLineIn>,
}

/// Place a purchase order with a supplier
///
/// Needs an `Idempotency-Key` header: the same submission twice places one order.
#[utoipa::path(post, path = "/api/v1/pharmacy/orders", tag = "pharmacy", request_body = OrderIn,
    params(("Idempotency-Key" = String, Header, description = "Unique per request; a retry sends the same")),
    responses((status = 201, description = "Placed", body = OrderOut),
        (status = 403, description = "Cannot manage stock", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such store", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A line is wrong, no such supplier, or no idempotency key", body = Problem, content_type = "application/problem+json")))]
async fn create_order(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    headers: HeaderMap,
    ApiJson(b): ApiJson<OrderIn>,
) -> Result<Response, ApiError> {
    let input = OrderInput {
        supplier_id: Some(b.supplier_id),
        store_id: b.store_id,
        expected_on: b.expected_on,
        note: b.note.unwrap_or_default(),
        lines: b
            .lines
            .into_iter()
            .map(|l| OrderLineInput { item_id: l.item_id, quantity: l.quantity, cost_minor: l.cost_minor })
            .collect(),
    };
    let o = state.app.pharmacy().create_order(&ctx, &key(&headers), input).await?;
    Ok((StatusCode::CREATED, Json(OrderOut::from(o))).into_response())
}

/// A purchase order
///
/// Each line with what was ordered, received so far and still to come; the deliveries
/// received against it.
#[utoipa::path(get, path = "/api/v1/pharmacy/orders/{id}", tag = "pharmacy", params(("id" = String, Path, description = "Order id")),
    responses((status = 200, description = "The order", body = OrderOut),
        (status = 403, description = "Cannot see stock", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json")))]
async fn get_order(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<OrderOut>, ApiError> {
    Ok(Json(state.app.pharmacy().order(&ctx, id(&raw, "purchase order")?).await?.into()))
}

/// Why an order is closed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseIn {
    #[schema(min_length = 1, max_length = 300)]
    pub reason: String,
}

/// Close an order: the rest will not come
///
/// With nothing received, this cancels it. A closed or fully received order answers 409.
#[utoipa::path(post, path = "/api/v1/pharmacy/orders/{id}/close", tag = "pharmacy", request_body = CloseIn,
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, description = "Closed", body = OrderOut),
        (status = 403, description = "Cannot manage stock", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already closed or received", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason given", body = Problem, content_type = "application/problem+json")))]
async fn close_order(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<CloseIn>,
) -> Result<Json<OrderOut>, ApiError> {
    Ok(Json(state.app.pharmacy().close_order(&ctx, id(&raw, "purchase order")?, &b.reason).await?.into()))
}

// ---- Wire ----------------------------------------------------------------------------

/// A purchase order to a supplier (FHIR SupplyRequest, one per line there).
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderOut {
    pub id: Uuid,
    /// "PO26-000004".
    pub number: String,
    pub supplier_id: Uuid,
    pub store_id: Uuid,
    /// ordered, partially_received, received or closed.
    #[schema(schema_with = coded::<PurchaseStatus>)]
    pub status: PurchaseStatus,
    pub expected_on: Option<NaiveDate>,
    pub note: Option<String>,
    pub ordered_by: Uuid,
    pub ordered_at: DateTime<Utc>,
    pub closed_by: Option<Uuid>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<String>,
    /// With the order itself, not in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<OrderLineOut>>,
    /// The deliveries received against it (with the order itself, not in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_ids: Option<Vec<Uuid>>,
    /// Its value at the agreed costs, minor units (with the order itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_minor: Option<i64>,
}

/// One item of an order, in base units.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLineOut {
    pub id: Uuid,
    pub item_id: Uuid,
    pub quantity: i64,
    pub received: i64,
    /// Still to come: ordered less received.
    pub outstanding: i64,
    /// Agreed cost per base unit, minor units.
    pub cost_minor: i64,
}

impl From<PurchaseOrder> for OrderOut {
    fn from(o: PurchaseOrder) -> Self {
        Self {
            id: o.id,
            number: o.number,
            supplier_id: o.supplier_id,
            store_id: o.store_id,
            status: o.status,
            expected_on: o.expected_on,
            note: o.note,
            ordered_by: o.ordered_by,
            ordered_at: o.ordered_at,
            closed_by: o.closed_by,
            closed_at: o.closed_at,
            close_reason: o.close_reason,
            lines: None,
            receipt_ids: None,
            total_minor: None,
        }
    }
}

impl From<OrderDetail> for OrderOut {
    fn from(d: OrderDetail) -> Self {
        let total = d.total_minor();
        let lines = d
            .lines
            .into_iter()
            .map(|l| OrderLineOut {
                id: l.id,
                item_id: l.item_id,
                quantity: l.quantity,
                received: l.received,
                outstanding: l.outstanding(),
                cost_minor: l.cost_minor,
            })
            .collect();
        Self {
            lines: Some(lines),
            receipt_ids: Some(d.receipts.iter().map(|r| r.id).collect()),
            total_minor: Some(total),
            ..d.order.into()
        }
    }
}
