//! A store's stock, batches, ledger and alerts; deliveries (SupplyDelivery), movements by
//! hand, holds, transfers and stock-taking over the API.

use super::*;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
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
        .routes(routes!(open_count))
        .routes(routes!(get_count))
        .routes(routes!(post_count))
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
    /// The purchase order this delivery fills (its store and supplier; at most what is
    /// left to come of each line, free units apart).
    pub order_id: Option<Uuid>,
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
        order_id: b.order_id,
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
#[schema(as = StockMoveIn)]
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
#[schema(as = StockTransferIn)]
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
