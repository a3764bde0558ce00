//! The pharmacy and its stores over the API: items (FHIR Medication), stores, suppliers,
//! deliveries (SupplyDelivery), movements by hand, holds, transfers, a store's stock,
//! ledger and alerts, the pharmacist's queue, dispensing (MedicationDispense), patient
//! returns and counter sales.
//!
//! Every request that moves stock carries an `Idempotency-Key` header: the same request
//! with the same key again answers what the first did and moves nothing; the same key
//! with a different request is refused (422).

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use salus_app::identity::Permission;
use salus_app::pharmacy::dispensing::{LineInput, SaleInput};
use salus_app::pharmacy::stock::{ManualMove, ReceiptInput, ReceiptLineInput, TransferLineInput};
use salus_app::pharmacy::{NewItem, NewStore, NewSupplier};
use salus_core::PatientId;
use salus_core::pharmacy::{ItemKind, MovementKind, StoreKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::clinical::id;
use crate::AppState;
use crate::api::openapi::coded;
use crate::api::{ApiJson, ApiQuery, ApiUser, Paged};
use crate::error::{ApiError, Problem, ProblemKind};

mod wire;

pub use wire::*;

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    // One declaration a path: adding an item, a store or a supplier needs stock.admin,
    // which the use case checks (reading them needs less).
    route("/api/v1/pharmacy/items", Access::Permission(Permission::OrganisationRead)),
    route("/api/v1/pharmacy/stores", Access::Permission(Permission::StockRead)),
    route("/api/v1/pharmacy/suppliers", Access::Permission(Permission::StockRead)),
    route("/api/v1/pharmacy/stores/{id}/reorder-levels", Access::Permission(Permission::StockAdmin)).post(),
    route("/api/v1/pharmacy/stores/{id}/stock", Access::Permission(Permission::StockRead)),
    route("/api/v1/pharmacy/stores/{id}/items/{item}/lots", Access::Permission(Permission::StockRead))
        .example("/api/v1/pharmacy/stores/{id}/items/0190a0b0-0000-7000-8000-000000000001/lots"),
    route("/api/v1/pharmacy/stores/{id}/ledger", Access::Permission(Permission::StockRead)),
    route("/api/v1/pharmacy/stores/{id}/alerts", Access::Permission(Permission::StockRead)),
    route("/api/v1/pharmacy/stores/{id}/transfers", Access::Permission(Permission::StockRead)),
    route("/api/v1/pharmacy/ledger/verify", Access::Permission(Permission::StockRead)),
    route("/api/v1/pharmacy/receipts", Access::Permission(Permission::StockManage)).post(),
    route("/api/v1/pharmacy/receipts/{id}", Access::Permission(Permission::StockRead)),
    route("/api/v1/pharmacy/movements", Access::Permission(Permission::StockManage)).post(),
    route("/api/v1/pharmacy/batches/{id}/{action}", Access::Permission(Permission::StockManage))
        .post()
        .example("/api/v1/pharmacy/batches/{id}/hold"),
    route("/api/v1/pharmacy/transfers", Access::Permission(Permission::StockManage)).post(),
    route("/api/v1/pharmacy/transfers/{id}", Access::Permission(Permission::StockRead)),
    route("/api/v1/pharmacy/transfers/{id}/receive", Access::Permission(Permission::StockManage)).post(),
    route("/api/v1/pharmacy/queue", Access::Permission(Permission::PharmacyDispense)),
    route("/api/v1/patients/{id}/to-dispense", Access::Permission(Permission::PharmacyDispense)),
    // Reading a patient's dispensings is for pharmacists and the patient's clinicians;
    // dispensing (POST) for pharmacists: the use case checks each.
    route("/api/v1/patients/{id}/dispenses", Access::SignedIn),
    route("/api/v1/pharmacy/dispenses/{id}", Access::SignedIn),
    route("/api/v1/pharmacy/dispense-lines/{id}/return", Access::Permission(Permission::PharmacyDispense))
        .post(),
    route("/api/v1/pharmacy/sales", Access::Permission(Permission::PharmacyDispense)).post(),
    route("/api/v1/pharmacy/stores/{id}/counts", Access::Permission(Permission::StockManage)).post(),
    route("/api/v1/pharmacy/counts/{id}", Access::Permission(Permission::StockRead)),
    route("/api/v1/pharmacy/counts/{id}/post", Access::Permission(Permission::StockManage)).post(),
];

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_items, create_item))
        .routes(routes!(list_stores, create_store))
        .routes(routes!(list_suppliers, create_supplier))
        .routes(routes!(set_reorder_level))
        .routes(routes!(stock))
        .routes(routes!(lots))
        .routes(routes!(ledger))
        .routes(routes!(alerts))
        .routes(routes!(transfers_in_transit))
        .routes(routes!(verify))
        .routes(routes!(receive))
        .routes(routes!(get_receipt))
        .routes(routes!(move_by_hand))
        .routes(routes!(hold))
        .routes(routes!(issue_transfer))
        .routes(routes!(get_transfer))
        .routes(routes!(receive_transfer))
        .routes(routes!(queue))
        .routes(routes!(to_dispense))
        .routes(routes!(list_dispenses, dispense))
        .routes(routes!(get_dispense))
        .routes(routes!(take_back))
        .routes(routes!(sell))
        .routes(routes!(open_count))
        .routes(routes!(get_count))
        .routes(routes!(post_count))
}

/// A stock request without enough units (409): `available` says how many may be given.
pub const OUT_OF_STOCK: ProblemKind =
    ProblemKind::new("out-of-stock", StatusCode::CONFLICT, "Not enough stock");

/// The `available` member of an out-of-stock problem.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Available(pub i64);

impl crate::error::ProblemExtension for Available {
    const MEMBER: &'static str = "available";
}

pub(crate) fn out_of_stock(what: &str, unit: &str, requested: i64, available: i64) -> ApiError {
    ApiError::new(OUT_OF_STOCK, format!("only {available} {unit} of {what} available; {requested} asked for"))
        .with(&Available(available))
}

/// The `Idempotency-Key` header ("" when missing: the use case refuses that by name).
fn key(headers: &HeaderMap) -> String {
    headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ItemsQuery {
    /// Part of the name or code.
    #[param(max_length = 100)]
    pub text: Option<String>,
    /// Retired items too.
    pub include_inactive: Option<bool>,
}

/// The stock items
#[utoipa::path(get, path = "/api/v1/pharmacy/items", tag = "pharmacy", params(ItemsQuery),
    responses((status = 200, description = "By name (at most 500)", body = Paged<StockItemOut>),
        (status = 422, description = "A text longer than 100 characters", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json")))]
async fn list_items(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<ItemsQuery>,
) -> Result<Json<Paged<StockItemOut>>, ApiError> {
    if q.text.as_deref().is_some_and(|t| t.chars().count() > 100) {
        return Err(salus_app::AppError::field("text", "at most 100 characters").into());
    }
    let rows =
        state.app.pharmacy().items(&ctx, q.text.as_deref(), q.include_inactive.unwrap_or(false)).await?;
    Ok(Json(Paged::new(rows.into_iter().map(Into::into).collect(), None::<String>)))
}

/// A new stock item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemIn {
    #[schema(min_length = 1, max_length = 40)]
    pub code: String,
    #[schema(schema_with = coded::<ItemKind>)]
    pub kind: ItemKind,
    /// The catalog medicine (required for a medicine; its name, form and strength are used).
    pub medicine_id: Option<Uuid>,
    /// A consumable's name.
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[schema(max_length = 100)]
    pub brand: Option<String>,
    #[schema(max_length = 100)]
    pub form: Option<String>,
    #[schema(max_length = 100)]
    pub strength: Option<String>,
    #[schema(min_length = 1, max_length = 20)]
    pub base_unit: String,
    #[schema(minimum = 1, maximum = 100000)]
    pub pack_size: i32,
    #[schema(min_length = 1, max_length = 20)]
    pub tax_code: String,
    #[schema(minimum = 0, maximum = 10000)]
    pub tax_rate_bp: i32,
    #[serde(default)]
    pub prescription_only: bool,
}

/// Add a stock item (a brand of a catalog medicine, or a consumable)
#[utoipa::path(post, path = "/api/v1/pharmacy/items", tag = "pharmacy", request_body = ItemIn,
    responses((status = 201, description = "Added", body = StockItemOut),
        (status = 403, description = "Not an administrator or pharmacist", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing or wrong, or the code is taken", body = Problem, content_type = "application/problem+json")))]
async fn create_item(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<ItemIn>,
) -> Result<Response, ApiError> {
    let input = NewItem {
        code: b.code,
        kind: b.kind,
        medicine_id: b.medicine_id,
        name: b.name.unwrap_or_default(),
        brand: b.brand.unwrap_or_default(),
        form: b.form.unwrap_or_default(),
        strength: b.strength.unwrap_or_default(),
        base_unit: b.base_unit,
        pack_size: b.pack_size,
        tax_code: b.tax_code,
        tax_rate_bp: b.tax_rate_bp,
        prescription_only: b.prescription_only,
    };
    let item = state.app.pharmacy().create_item(&ctx, input).await?;
    Ok((StatusCode::CREATED, Json(StockItemOut::from(item))).into_response())
}

/// The stores
#[utoipa::path(get, path = "/api/v1/pharmacy/stores", tag = "pharmacy",
    responses((status = 200, description = "By name", body = Paged<StoreOut>),
        (status = 403, description = "Cannot see stock", body = Problem, content_type = "application/problem+json")))]
async fn list_stores(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
) -> Result<Json<Paged<StoreOut>>, ApiError> {
    let rows = state.app.pharmacy().stores(&ctx).await?;
    Ok(Json(Paged::new(rows.into_iter().map(Into::into).collect(), None::<String>)))
}

/// A new store.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreIn {
    #[schema(min_length = 1, max_length = 20)]
    pub code: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(schema_with = coded::<StoreKind>)]
    pub kind: StoreKind,
    pub facility_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
}

/// Add a store (a main store, a pharmacy, a ward's store)
#[utoipa::path(post, path = "/api/v1/pharmacy/stores", tag = "pharmacy", request_body = StoreIn,
    responses((status = 201, description = "Added", body = StoreOut),
        (status = 403, description = "Not an administrator or pharmacist", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing, or the code is taken", body = Problem, content_type = "application/problem+json")))]
async fn create_store(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<StoreIn>,
) -> Result<Response, ApiError> {
    let input = NewStore {
        code: b.code,
        name: b.name,
        kind: b.kind,
        facility_id: b.facility_id,
        department_id: b.department_id,
    };
    let s = state.app.pharmacy().create_store(&ctx, input).await?;
    Ok((StatusCode::CREATED, Json(StoreOut::from(s))).into_response())
}

/// The suppliers
#[utoipa::path(get, path = "/api/v1/pharmacy/suppliers", tag = "pharmacy",
    responses((status = 200, description = "By name", body = Paged<SupplierOut>),
        (status = 403, description = "Cannot see stock", body = Problem, content_type = "application/problem+json")))]
async fn list_suppliers(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
) -> Result<Json<Paged<SupplierOut>>, ApiError> {
    let rows = state.app.pharmacy().suppliers(&ctx).await?;
    Ok(Json(Paged::new(rows.into_iter().map(Into::into).collect(), None::<String>)))
}

/// A new supplier.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierIn {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(max_length = 100)]
    pub contact_name: Option<String>,
    #[schema(max_length = 40)]
    pub phone: Option<String>,
    #[schema(max_length = 200)]
    pub email: Option<String>,
    /// GSTIN or another tax registration.
    #[schema(max_length = 20)]
    pub tax_id: Option<String>,
}

/// Add a supplier
#[utoipa::path(post, path = "/api/v1/pharmacy/suppliers", tag = "pharmacy", request_body = SupplierIn,
    responses((status = 201, description = "Added", body = SupplierOut),
        (status = 403, description = "Not an administrator or pharmacist", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No name, or already on file", body = Problem, content_type = "application/problem+json")))]
async fn create_supplier(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<SupplierIn>,
) -> Result<Response, ApiError> {
    let input = NewSupplier {
        name: b.name,
        contact_name: b.contact_name.unwrap_or_default(),
        phone: b.phone.unwrap_or_default(),
        email: b.email.unwrap_or_default(),
        tax_id: b.tax_id.unwrap_or_default(),
    };
    let s = state.app.pharmacy().create_supplier(&ctx, input).await?;
    Ok((StatusCode::CREATED, Json(SupplierOut::from(s))).into_response())
}

/// A reorder level.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReorderIn {
    pub item_id: Uuid,
    /// Alert when usable stock is at or below this many base units.
    #[schema(minimum = 0)]
    pub reorder_level: i64,
    /// How many to order then.
    #[schema(minimum = 0)]
    pub reorder_quantity: i64,
}

/// Set an item's reorder level in a store
#[utoipa::path(post, path = "/api/v1/pharmacy/stores/{id}/reorder-levels", tag = "pharmacy", request_body = ReorderIn,
    params(("id" = String, Path, description = "Store id")),
    responses((status = 204, description = "Set"),
        (status = 403, description = "Not an administrator or pharmacist", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such store or item", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A negative level", body = Problem, content_type = "application/problem+json")))]
async fn set_reorder_level(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ReorderIn>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .pharmacy()
        .set_reorder_level(&ctx, id(&raw, "store")?, b.item_id, b.reorder_level, b.reorder_quantity)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StockQuery {
    /// Items per page, 1 to 200 (default 50).
    #[serde(default, deserialize_with = "crate::api::extract::bounded::<_, u32, 1, 200>")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// A store's stock by item
///
/// On hand, and what may be given today (held, expired and reserved units not counted),
/// with the first expiry; by item name.
#[utoipa::path(get, path = "/api/v1/pharmacy/stores/{id}/stock", tag = "pharmacy", params(("id" = String, Path, description = "Store id"), StockQuery),
    responses((status = 200, description = "A page of items", body = Paged<PositionOut>),
        (status = 400, description = "A limit out of bounds", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Cannot see stock", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such store", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A cursor this API did not give out", body = Problem, content_type = "application/problem+json")))]
async fn stock(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<StockQuery>,
) -> Result<Json<Paged<PositionOut>>, ApiError> {
    let limit = u64::from(q.limit.unwrap_or(50));
    let after = crate::api::Cursor { limit: q.limit, cursor: q.cursor }.position::<String>()?;
    let rows = state.app.pharmacy().position(&ctx, id(&raw, "store")?, after.as_deref(), limit).await?;
    let next = (rows.len() as u64 == limit).then(|| rows.last().map(|r| r.cursor())).flatten();
    Ok(Json(Paged::new(rows.into_iter().map(Into::into).collect(), next)))
}

/// An item's batches in a store
#[utoipa::path(get, path = "/api/v1/pharmacy/stores/{id}/items/{item}/lots", tag = "pharmacy",
    params(("id" = String, Path, description = "Store id"), ("item" = String, Path, description = "Item id")),
    responses((status = 200, description = "First expiry first, held and expired ones too", body = Paged<LotOut>),
        (status = 403, description = "Cannot see stock", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such item", body = Problem, content_type = "application/problem+json")))]
async fn lots(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path((raw, item)): Path<(String, String)>,
) -> Result<Json<Paged<LotOut>>, ApiError> {
    let (_, lots) = state.app.pharmacy().lots(&ctx, id(&raw, "store")?, id(&item, "stock item")?).await?;
    Ok(Json(Paged::new(lots.into_iter().map(Into::into).collect(), None::<String>)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    /// One batch's rows.
    pub batch_id: Option<Uuid>,
    /// Rows, 1 to 500 (default 100).
    #[serde(default, deserialize_with = "crate::api::extract::bounded::<_, u32, 1, 500>")]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// A store's stock ledger
///
/// Append-only: every movement with the balance it left, newest first.
#[utoipa::path(get, path = "/api/v1/pharmacy/stores/{id}/ledger", tag = "pharmacy", params(("id" = String, Path, description = "Store id"), LedgerQuery),
    responses((status = 200, description = "Newest first", body = Paged<MovementOut>),
        (status = 400, description = "A limit out of bounds", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Cannot see stock", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such store", body = Problem, content_type = "application/problem+json")))]
async fn ledger(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<LedgerQuery>,
) -> Result<Json<Paged<MovementOut>>, ApiError> {
    let limit = u64::from(q.limit.unwrap_or(100));
    let rows = state.app.pharmacy().ledger(&ctx, id(&raw, "store")?, q.batch_id, limit).await?;
    Ok(Json(Paged::new(rows.into_iter().map(Into::into).collect(), None::<String>)))
}

/// A store's low-stock and expiry alerts
#[utoipa::path(get, path = "/api/v1/pharmacy/stores/{id}/alerts", tag = "pharmacy", params(("id" = String, Path, description = "Store id")),
    responses((status = 200, description = "Alerts", body = AlertsOut),
        (status = 403, description = "Cannot see stock", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such store", body = Problem, content_type = "application/problem+json")))]
async fn alerts(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<AlertsOut>, ApiError> {
    Ok(Json(state.app.pharmacy().alerts(&ctx, id(&raw, "store")?).await?.into()))
}

/// Transfers into or out of a store still in transit
#[utoipa::path(get, path = "/api/v1/pharmacy/stores/{id}/transfers", tag = "pharmacy", params(("id" = String, Path, description = "Store id")),
    responses((status = 200, description = "Oldest first", body = Paged<TransferOut>),
        (status = 403, description = "Cannot see stock", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such store", body = Problem, content_type = "application/problem+json")))]
async fn transfers_in_transit(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<TransferOut>>, ApiError> {
    let rows = state.app.pharmacy().transfers_in_transit(&ctx, id(&raw, "store")?).await?;
    Ok(Json(Paged::new(rows.into_iter().map(Into::into).collect(), None::<String>)))
}

/// Check that the ledger sums to every balance
#[utoipa::path(get, path = "/api/v1/pharmacy/ledger/verify", tag = "pharmacy",
    responses((status = 200, description = "What was checked and any mismatch", body = LedgerCheckOut),
        (status = 403, description = "Cannot see stock", body = Problem, content_type = "application/problem+json")))]
async fn verify(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
) -> Result<Json<LedgerCheckOut>, ApiError> {
    Ok(Json(state.app.pharmacy().verify_ledger(&ctx).await?.into()))
}

/// A line of a delivery.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptLineIn {
    pub item_id: Uuid,
    #[schema(min_length = 1, max_length = 40)]
    pub batch_no: String,
    pub expiry_date: NaiveDate,
    /// Base units invoiced.
    #[schema(minimum = 0)]
    pub quantity: i64,
    /// Base units given free.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub free_quantity: i64,
    /// Cost per base unit, minor units.
    #[schema(minimum = 0)]
    pub cost_minor: i64,
    /// Sale price per base unit, minor units.
    #[schema(minimum = 0)]
    pub sale_price_minor: i64,
}

/// A delivery (FHIR SupplyDelivery).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptIn {
    pub store_id: Uuid,
    pub supplier_id: Option<Uuid>,
    #[schema(max_length = 40)]
    pub invoice_no: Option<String>,
    #[schema(min_items = 1, max_items = 200)]
    pub lines: Vec<ReceiptLineIn>,
    /// Required when a batch expires within 90 days.
    #[schema(max_length = 300)]
    pub short_expiry_reason: Option<String>,
}

/// Receive a delivery into a store
///
/// Each line a batch (new, or more of one on file with the same expiry) and its receipt
/// movement. Needs an `Idempotency-Key` header. An expired batch is refused; one expiring
/// within 90 days answers 409 `clinical-warnings` unless `short_expiry_reason` says why.
#[utoipa::path(post, path = "/api/v1/pharmacy/receipts", tag = "pharmacy", request_body = ReceiptIn,
    params(("Idempotency-Key" = String, Header, description = "Unique per request; a retry sends the same")),
    responses((status = 201, description = "Received", body = ReceiptOut),
        (status = 403, description = "Cannot receive stock", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such store", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Short expiry: give a reason", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A line is wrong, an expired batch, or no idempotency key", body = Problem, content_type = "application/problem+json")))]
async fn receive(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    headers: HeaderMap,
    ApiJson(b): ApiJson<ReceiptIn>,
) -> Result<Response, ApiError> {
    let input = ReceiptInput {
        store_id: b.store_id,
        supplier_id: b.supplier_id,
        invoice_no: b.invoice_no.unwrap_or_default(),
        lines: b
            .lines
            .into_iter()
            .map(|l| ReceiptLineInput {
                item_id: l.item_id,
                batch_no: l.batch_no,
                expiry_date: Some(l.expiry_date),
                quantity: l.quantity,
                free_quantity: l.free_quantity,
                cost_minor: l.cost_minor,
                sale_price_minor: l.sale_price_minor,
            })
            .collect(),
        short_expiry_reason: b.short_expiry_reason.unwrap_or_default(),
    };
    let r = state.app.pharmacy().receive(&ctx, &key(&headers), input).await?;
    Ok((StatusCode::CREATED, Json(ReceiptOut::from(r))).into_response())
}

/// A delivery
#[utoipa::path(get, path = "/api/v1/pharmacy/receipts/{id}", tag = "pharmacy", params(("id" = String, Path, description = "Receipt id")),
    responses((status = 200, description = "The delivery", body = ReceiptOut),
        (status = 403, description = "Cannot see stock", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such delivery", body = Problem, content_type = "application/problem+json")))]
async fn get_receipt(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<ReceiptOut>, ApiError> {
    Ok(Json(state.app.pharmacy().receipt(&ctx, id(&raw, "goods receipt")?).await?.into()))
}

/// A movement by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveIn {
    pub store_id: Uuid,
    pub batch_id: Uuid,
    /// adjustment (signed quantity), supplier_return (units sent back; a held batch too),
    /// expiry_write_off (everything left of an expired batch; quantity ignored).
    #[schema(schema_with = coded::<MovementKind>)]
    pub kind: MovementKind,
    #[serde(default)]
    pub quantity: i64,
    #[schema(min_length = 1, max_length = 300)]
    pub reason: String,
}

/// Adjust, write off or return stock to the supplier
///
/// Needs an `Idempotency-Key` header. Taking out more than is available answers 409
/// `out-of-stock` with `available`, and nothing moves.
#[utoipa::path(post, path = "/api/v1/pharmacy/movements", tag = "pharmacy", request_body = MoveIn,
    params(("Idempotency-Key" = String, Header, description = "Unique per request; a retry sends the same")),
    responses((status = 201, description = "Moved", body = MovementOut),
        (status = 403, description = "Cannot move stock", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such store or batch", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough stock, or nothing left to write off", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, a zero quantity, a batch not expired, another kind", body = Problem, content_type = "application/problem+json")))]
async fn move_by_hand(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    headers: HeaderMap,
    ApiJson(b): ApiJson<MoveIn>,
) -> Result<Response, ApiError> {
    let input = ManualMove {
        store_id: b.store_id,
        batch_id: b.batch_id,
        kind: b.kind,
        quantity: b.quantity,
        reason: b.reason,
    };
    let m = state.app.pharmacy().move_by_hand(&ctx, &key(&headers), input).await?;
    Ok((StatusCode::CREATED, Json(MovementOut::from(m))).into_response())
}

/// Why a batch is held (`{}` to release).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldIn {
    #[schema(max_length = 300)]
    pub reason: Option<String>,
}

/// Hold (quarantine, recall) or release a batch
///
/// A held batch is never offered for dispensing, sale or transfer, in any store.
#[utoipa::path(post, path = "/api/v1/pharmacy/batches/{id}/{action}", tag = "pharmacy", request_body = HoldIn,
    params(("id" = String, Path, description = "Batch id"), ("action" = String, Path, description = "hold (with a reason) or release")),
    responses((status = 200, description = "Done", body = BatchOut),
        (status = 403, description = "Cannot hold stock", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such batch or action", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already so", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason to hold", body = Problem, content_type = "application/problem+json")))]
async fn hold(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path((raw, action)): Path<(String, String)>,
    ApiJson(b): ApiJson<HoldIn>,
) -> Result<Json<BatchOut>, ApiError> {
    let batch = id(&raw, "batch")?;
    let reason = b.reason.unwrap_or_default();
    let b = match action.as_str() {
        "hold" => state.app.pharmacy().hold_batch(&ctx, batch, Some(&reason)).await?,
        "release" => state.app.pharmacy().hold_batch(&ctx, batch, None).await?,
        _ => return Err(salus_app::AppError::NotFound("action").into()),
    };
    Ok(Json(b.into()))
}

/// A transfer between stores.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferIn {
    pub from_store_id: Uuid,
    pub to_store_id: Uuid,
    #[schema(min_items = 1, max_items = 200)]
    pub lines: Vec<TransferLineIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferLineIn {
    pub batch_id: Uuid,
    #[schema(minimum = 1)]
    pub quantity: i64,
}

/// Send stock to another store
///
/// Taken out of the sender now (in transit), put into the receiver when received there.
/// Needs an `Idempotency-Key` header.
#[utoipa::path(post, path = "/api/v1/pharmacy/transfers", tag = "pharmacy", request_body = TransferIn,
    params(("Idempotency-Key" = String, Header, description = "Unique per request; a retry sends the same")),
    responses((status = 201, description = "Issued", body = TransferOut),
        (status = 403, description = "Cannot move stock", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such store", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough stock", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The same store, a held or expired batch, a bad quantity", body = Problem, content_type = "application/problem+json")))]
async fn issue_transfer(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    headers: HeaderMap,
    ApiJson(b): ApiJson<TransferIn>,
) -> Result<Response, ApiError> {
    let lines = b
        .lines
        .into_iter()
        .map(|l| TransferLineInput { batch_id: l.batch_id, quantity: l.quantity })
        .collect();
    let t = state
        .app
        .pharmacy()
        .issue_transfer(&ctx, &key(&headers), b.from_store_id, b.to_store_id, lines)
        .await?;
    Ok((StatusCode::CREATED, Json(TransferOut::from(t))).into_response())
}

/// A transfer
#[utoipa::path(get, path = "/api/v1/pharmacy/transfers/{id}", tag = "pharmacy", params(("id" = String, Path, description = "Transfer id")),
    responses((status = 200, description = "The transfer", body = TransferOut),
        (status = 403, description = "Cannot see stock", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such transfer", body = Problem, content_type = "application/problem+json")))]
async fn get_transfer(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<TransferOut>, ApiError> {
    Ok(Json(state.app.pharmacy().transfer(&ctx, id(&raw, "transfer")?).await?.into()))
}

/// Receive a transfer into its store
///
/// Once: a second receipt answers 409. Needs an `Idempotency-Key` header.
#[utoipa::path(post, path = "/api/v1/pharmacy/transfers/{id}/receive", tag = "pharmacy",
    params(("id" = String, Path, description = "Transfer id"), ("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 200, description = "Received", body = TransferOut),
        (status = 403, description = "Cannot move stock", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such transfer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already received", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No idempotency key", body = Problem, content_type = "application/problem+json")))]
async fn receive_transfer(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Json<TransferOut>, ApiError> {
    Ok(Json(state.app.pharmacy().receive_transfer(&ctx, &key(&headers), id(&raw, "transfer")?).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// Prescriptions per page, 1 to 200 (default 50).
    #[serde(default, deserialize_with = "crate::api::extract::bounded::<_, u32, 1, 200>")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// The pharmacist's queue
///
/// Active prescriptions of the last 30 days with something left to give, oldest first.
#[utoipa::path(get, path = "/api/v1/pharmacy/queue", tag = "pharmacy", params(QueueQuery),
    responses((status = 200, description = "A page of prescriptions", body = Paged<QueueItemOut>),
        (status = 400, description = "A limit out of bounds", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a pharmacist", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A cursor this API did not give out", body = Problem, content_type = "application/problem+json")))]
async fn queue(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> Result<Json<Paged<QueueItemOut>>, ApiError> {
    let limit = u64::from(q.limit.unwrap_or(50));
    let offset = crate::api::Cursor { limit: q.limit, cursor: q.cursor }.position::<u64>()?.unwrap_or(0);
    let (rows, more) = state.app.pharmacy().queue(&ctx, limit, offset).await?;
    Ok(Json(Paged::new(rows.into_iter().map(Into::into).collect(), more.then_some(offset + limit))))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StoreParam {
    /// The store dispensed from.
    pub store_id: Uuid,
}

/// A patient's active prescriptions as the pharmacist dispenses them
///
/// Prescribed, given so far and remaining, with the batches of the store that may be given.
#[utoipa::path(get, path = "/api/v1/patients/{id}/to-dispense", tag = "pharmacy", params(("id" = String, Path, description = "Patient id"), StoreParam),
    responses((status = 200, description = "Newest first", body = Paged<ToDispenseOut>),
        (status = 403, description = "Not a pharmacist", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient or store", body = Problem, content_type = "application/problem+json")))]
async fn to_dispense(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<StoreParam>,
) -> Result<Json<Paged<ToDispenseOut>>, ApiError> {
    let (_, _, rows) =
        state.app.pharmacy().to_dispense(&ctx, id::<PatientId>(&raw, "patient")?, q.store_id).await?;
    Ok(Json(Paged::new(rows.into_iter().map(Into::into).collect(), None::<String>)))
}

/// A patient's dispensings
#[utoipa::path(get, path = "/api/v1/patients/{id}/dispenses", tag = "pharmacy", params(("id" = String, Path, description = "Patient id")),
    responses((status = 200, description = "Newest first", body = Paged<DispenseOut>),
        (status = 403, description = "Neither a pharmacist nor a clinician", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json")))]
async fn list_dispenses(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<DispenseOut>>, ApiError> {
    let rows = state.app.pharmacy().dispensings_of(&ctx, id::<PatientId>(&raw, "patient")?).await?;
    Ok(Json(Paged::new(rows.into_iter().map(Into::into).collect(), None::<String>)))
}

/// A line to give.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineIn {
    /// The prescription given against (required when dispensing).
    pub prescription_id: Option<Uuid>,
    /// The stock item given (default: the prescribed medicine's with the most stock).
    pub item_id: Option<Uuid>,
    /// Base units.
    #[schema(minimum = 1)]
    pub quantity: i64,
    /// A batch chosen instead of first expiry first out (needs `override_reason`).
    pub batch_id: Option<Uuid>,
    #[schema(max_length = 300)]
    pub override_reason: Option<String>,
    /// Why another medicine is given in place of the prescribed one.
    #[schema(max_length = 300)]
    pub substitution_reason: Option<String>,
}

impl From<LineIn> for LineInput {
    fn from(l: LineIn) -> Self {
        Self {
            prescription_id: l.prescription_id,
            item_id: l.item_id,
            quantity: l.quantity,
            batch_id: l.batch_id,
            override_reason: l.override_reason.unwrap_or_default(),
            substitution_reason: l.substitution_reason.unwrap_or_default(),
        }
    }
}

/// A dispensing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispenseIn {
    pub store_id: Uuid,
    #[schema(min_items = 1, max_items = 50)]
    pub lines: Vec<LineIn>,
}

/// Dispense a patient's prescriptions
///
/// All lines or none. First expiry first out unless a batch is chosen with a reason;
/// expired and held batches are never given. Each line records a ledger movement and an
/// unbilled charge at its batch's sale price; a prescription fully given is completed.
/// Needs an `Idempotency-Key` header: the same submission twice dispenses once.
#[utoipa::path(post, path = "/api/v1/patients/{id}/dispenses", tag = "pharmacy", request_body = DispenseIn,
    params(("id" = String, Path, description = "Patient id"), ("Idempotency-Key" = String, Header, description = "Unique per submission; a retry sends the same")),
    responses((status = 201, description = "Dispensed", body = DispenseDetailOut),
        (status = 403, description = "Not a pharmacist", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient or store", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough stock: `available` says how many", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Another patient's prescription, more than remains, an expired or held batch, no reason, no idempotency key", body = Problem, content_type = "application/problem+json")))]
async fn dispense(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    headers: HeaderMap,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<DispenseIn>,
) -> Result<Response, ApiError> {
    let lines = b.lines.into_iter().map(Into::into).collect();
    let d = state
        .app
        .pharmacy()
        .dispense(&ctx, &key(&headers), id::<PatientId>(&raw, "patient")?, b.store_id, lines)
        .await?;
    Ok((StatusCode::CREATED, Json(DispenseDetailOut::from(d))).into_response())
}

/// A dispensing or sale
#[utoipa::path(get, path = "/api/v1/pharmacy/dispenses/{id}", tag = "pharmacy", params(("id" = String, Path, description = "Dispensing id")),
    responses((status = 200, description = "With its lines and totals", body = DispenseDetailOut),
        (status = 403, description = "Neither a pharmacist nor the patient's clinician", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dispensing", body = Problem, content_type = "application/problem+json")))]
async fn get_dispense(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<DispenseDetailOut>, ApiError> {
    Ok(Json(state.app.pharmacy().dispensing(&ctx, id(&raw, "dispensing")?).await?.into()))
}

/// A patient return.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnIn {
    #[schema(minimum = 1)]
    pub quantity: i64,
    #[schema(min_length = 1, max_length = 300)]
    pub reason: String,
}

/// Take back units of a dispensed line
///
/// Into the store it came from; never more than were given and not yet returned (409
/// otherwise). The line's unbilled charge shrinks by as much. Needs an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/pharmacy/dispense-lines/{id}/return", tag = "pharmacy", request_body = ReturnIn,
    params(("id" = String, Path, description = "Dispensed line id"), ("Idempotency-Key" = String, Header, description = "Unique per submission")),
    responses((status = 201, description = "Back in stock", body = MovementOut),
        (status = 403, description = "Not a pharmacist", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such line", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "More than was given", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, a bad quantity, no idempotency key", body = Problem, content_type = "application/problem+json")))]
async fn take_back(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    headers: HeaderMap,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ReturnIn>,
) -> Result<Response, ApiError> {
    let m = state
        .app
        .pharmacy()
        .take_back(&ctx, &key(&headers), id(&raw, "dispensed line")?, b.quantity, &b.reason)
        .await?;
    Ok((StatusCode::CREATED, Json(MovementOut::from(m))).into_response())
}

/// A counter sale.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaleIn {
    pub store_id: Uuid,
    /// A registered patient (needed for prescription-only medicines).
    pub patient_id: Option<Uuid>,
    /// A walk-in customer's name.
    #[schema(max_length = 200)]
    pub customer_name: Option<String>,
    #[schema(min_items = 1, max_items = 50)]
    pub lines: Vec<LineIn>,
}

/// Sell over the counter
///
/// To a registered patient or a walk-in customer, with a receipt; a prescription-only
/// medicine only against the patient's active prescription of it. Needs an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/pharmacy/sales", tag = "pharmacy", request_body = SaleIn,
    params(("Idempotency-Key" = String, Header, description = "Unique per submission")),
    responses((status = 201, description = "Sold", body = DispenseDetailOut),
        (status = 403, description = "Not a pharmacist", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such store or patient", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough stock", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A prescription-only medicine without a prescription, no customer, a bad line", body = Problem, content_type = "application/problem+json")))]
async fn sell(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    headers: HeaderMap,
    ApiJson(b): ApiJson<SaleIn>,
) -> Result<Response, ApiError> {
    let input = SaleInput {
        store_id: b.store_id,
        patient_id: b.patient_id,
        customer_name: b.customer_name.unwrap_or_default(),
        lines: b.lines.into_iter().map(Into::into).collect(),
    };
    let d = state.app.pharmacy().sell(&ctx, &key(&headers), input).await?;
    Ok((StatusCode::CREATED, Json(DispenseDetailOut::from(d))).into_response())
}

/// Start a count of a store (stock-taking)
///
/// The sheet lists every batch the store holds with what the ledger says, frozen now.
#[utoipa::path(post, path = "/api/v1/pharmacy/stores/{id}/counts", tag = "pharmacy", params(("id" = String, Path, description = "Store id")),
    responses((status = 201, description = "The count sheet", body = CountSheetOut),
        (status = 403, description = "Cannot count stock", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such store", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The store holds nothing", body = Problem, content_type = "application/problem+json")))]
async fn open_count(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let sheet = state.app.pharmacy().open_count(&ctx, id(&raw, "store")?).await?;
    Ok((StatusCode::CREATED, Json(CountSheetOut::from(sheet))).into_response())
}

/// A count sheet
#[utoipa::path(get, path = "/api/v1/pharmacy/counts/{id}", tag = "pharmacy", params(("id" = String, Path, description = "Count sheet id")),
    responses((status = 200, description = "The sheet", body = CountSheetOut),
        (status = 403, description = "Cannot see stock", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such sheet", body = Problem, content_type = "application/problem+json")))]
async fn get_count(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<CountSheetOut>, ApiError> {
    Ok(Json(state.app.pharmacy().count_sheet(&ctx, id(&raw, "count sheet")?).await?.into()))
}

/// What was counted.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CountIn {
    #[schema(min_items = 1, max_items = 100000)]
    pub lines: Vec<CountedIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CountedIn {
    pub line_id: Uuid,
    #[schema(minimum = 0)]
    pub counted: i64,
    /// Why it differs from the ledger (required when it does).
    #[schema(max_length = 300)]
    pub reason: Option<String>,
}

/// Post a count
///
/// Every line counted; each difference, with its reason, becomes a stock-take variance in
/// the ledger. Once. Needs an `Idempotency-Key` header.
#[utoipa::path(post, path = "/api/v1/pharmacy/counts/{id}/post", tag = "pharmacy", request_body = CountIn,
    params(("id" = String, Path, description = "Count sheet id"), ("Idempotency-Key" = String, Header, description = "Unique per submission")),
    responses((status = 200, description = "Posted", body = CountSheetOut),
        (status = 403, description = "Cannot count stock", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such sheet", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already posted, or a shortfall larger than what is left", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A line not counted, a difference without a reason, no idempotency key", body = Problem, content_type = "application/problem+json")))]
async fn post_count(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    headers: HeaderMap,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<CountIn>,
) -> Result<Json<CountSheetOut>, ApiError> {
    let counted = b
        .lines
        .into_iter()
        .map(|l| salus_app::pharmacy::counts::Counted {
            line_id: l.line_id,
            counted: l.counted,
            reason: l.reason.unwrap_or_default(),
        })
        .collect();
    let sheet =
        state.app.pharmacy().post_count(&ctx, &key(&headers), id(&raw, "count sheet")?, counted).await?;
    Ok(Json(sheet.into()))
}
