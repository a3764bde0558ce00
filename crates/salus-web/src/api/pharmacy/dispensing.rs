//! The pharmacist's queue, dispensing (MedicationDispense), patient returns and counter
//! sales over the API.

use super::*;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(queue))
        .routes(routes!(to_dispense))
        .routes(routes!(list_dispenses, dispense))
        .routes(routes!(get_dispense))
        .routes(routes!(take_back))
        .routes(routes!(sell))
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
