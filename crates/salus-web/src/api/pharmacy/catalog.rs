//! Stock items (FHIR Medication), stores, suppliers and reorder levels over the API.

use super::*;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_items, create_item))
        .routes(routes!(list_stores, create_store))
        .routes(routes!(patch_store))
        .routes(routes!(list_suppliers, create_supplier))
        .routes(routes!(set_reorder_level))
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
    /// The mailbox the daily stock alerts go to.
    #[schema(max_length = 200)]
    pub alert_email: Option<String>,
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
        alert_email: b.alert_email.unwrap_or_default(),
    };
    let s = state.app.pharmacy().create_store(&ctx, input).await?;
    Ok((StatusCode::CREATED, Json(StoreOut::from(s))).into_response())
}

/// A store's settings to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StorePatch {
    /// The mailbox the daily stock alerts go to; "" or null stops them.
    #[schema(max_length = 200)]
    pub alert_email: Option<String>,
}

/// Change where a store's daily stock alerts are mailed
#[utoipa::path(patch, path = "/api/v1/pharmacy/stores/{id}", tag = "pharmacy", request_body = StorePatch,
    params(("id" = String, Path, description = "Store id")),
    responses((status = 200, description = "Changed", body = StoreOut),
        (status = 403, description = "Not an administrator or pharmacist", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such store", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not one e-mail address", body = Problem, content_type = "application/problem+json")))]
async fn patch_store(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<StorePatch>,
) -> Result<Json<StoreOut>, ApiError> {
    let email = b.alert_email.unwrap_or_default();
    Ok(Json(state.app.pharmacy().set_alert_email(&ctx, id(&raw, "store")?, &email).await?.into()))
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
