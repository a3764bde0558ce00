//! Billing over the API: a patient's account (unbilled charges, invoices, money),
//! posting invoices, payments, deposits, refunds through a supervisor, the cashier's
//! shift and the reports. Every request that moves money needs an `Idempotency-Key`.

pub(crate) mod insurance;
mod insurance_wire;
mod wire;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use salus_app::billing::{DepositInput, InvoiceInput, PaymentInput, RefundInput};
use salus_app::identity::Permission;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use wire::*;

use crate::AppState;
use crate::access::{Access, Declared, route};
use crate::api::clinical::id;
use crate::api::pharmacy::key;
use crate::api::{ApiJson, ApiQuery, ApiUser};
use crate::error::{ApiError, Problem};

/// The routes of this module and what each needs (see `crate::access`). Reading needs
/// billing.read; the use cases check billing.collect and billing.approve on writes.
pub(crate) const ROUTES: &[Declared] = &[
    route("/api/v1/patients/{id}/account", Access::Permission(Permission::BillingRead)),
    route("/api/v1/patients/{id}/invoices", Access::Permission(Permission::BillingCollect)).post(),
    route("/api/v1/patients/{id}/deposits", Access::Permission(Permission::BillingCollect)).post(),
    route("/api/v1/patients/{id}/refunds", Access::Permission(Permission::BillingCollect)).post(),
    route("/api/v1/invoices/{id}", Access::Permission(Permission::BillingRead)),
    route("/api/v1/invoices/{id}/cancel", Access::Permission(Permission::BillingApprove)).post(),
    route("/api/v1/invoices/{id}/payments", Access::Permission(Permission::BillingCollect)).post(),
    route("/api/v1/refunds", Access::Permission(Permission::BillingRead)),
    route("/api/v1/refunds/{id}/approve", Access::Permission(Permission::BillingApprove)).post(),
    route("/api/v1/refunds/{id}/reject", Access::Permission(Permission::BillingApprove)).post(),
    route("/api/v1/refunds/{id}/pay", Access::Permission(Permission::BillingCollect)).post(),
    route("/api/v1/cashier-shift", Access::Permission(Permission::BillingCollect)),
    route("/api/v1/cashier-shift/close", Access::Permission(Permission::BillingCollect)).post(),
    route("/api/v1/reports/daily-cash", Access::Permission(Permission::BillingRead)),
    route("/api/v1/reports/revenue", Access::Permission(Permission::BillingRead)),
    route("/api/v1/reports/outstanding", Access::Permission(Permission::BillingRead)),
    route("/api/v1/billing/waiting", Access::Permission(Permission::BillingRead)),
    // The payment provider: no user and no session; the body's HMAC signature is its
    // credential, checked by the use case before anything is read.
    route("/api/v1/payments/webhook", Access::Signed).post(),
];

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(account))
        .routes(routes!(post_invoice))
        .routes(routes!(take_deposit))
        .routes(routes!(request_refund))
        .routes(routes!(get_invoice))
        .routes(routes!(cancel_invoice))
        .routes(routes!(pay))
        .routes(routes!(open_refunds))
        .routes(routes!(approve_refund))
        .routes(routes!(reject_refund))
        .routes(routes!(pay_refund))
        .routes(routes!(my_shift, open_shift))
        .routes(routes!(close_shift))
        .routes(routes!(daily_cash))
        .routes(routes!(revenue))
        .routes(routes!(outstanding))
        .routes(routes!(webhook))
        .routes(routes!(waiting))
        .merge(insurance::routes())
}

/// A patient's account
#[utoipa::path(get, path = "/api/v1/patients/{id}/account", tag = "billing",
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 200, description = "Unbilled charges, invoices, money in and out, balances", body = AccountOut),
        (status = 403, description = "Not billing staff, or a restricted record", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json")))]
async fn account(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<AccountOut>, ApiError> {
    let a = state.app.billing().account(&ctx, id(&raw, "patient")?).await?;
    Ok(Json(AccountOut::new(a, state.app.currency.code())))
}

/// Post an invoice
///
/// From the patient's unbilled charges; numbered gaplessly and never changed after. A
/// discount above the hospital's limit needs a supervisor to post it. The same
/// `Idempotency-Key` again answers the invoice it made.
#[utoipa::path(post, path = "/api/v1/patients/{id}/invoices", tag = "billing", request_body = InvoiceIn,
    params(("id" = String, Path, description = "Patient id"), ("Idempotency-Key" = String, Header, description = "Unique per submission; a retry sends the same")),
    responses((status = 201, description = "Posted", body = InvoiceOut),
        (status = 403, description = "Not a billing clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A charge was billed meanwhile or is not this patient's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No charges, a discount too large or without a reason or over the limit, a final bill leaving charges out, no idempotency key", body = Problem, content_type = "application/problem+json")))]
async fn post_invoice(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    headers: HeaderMap,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<InvoiceIn>,
) -> Result<Response, ApiError> {
    let input = InvoiceInput {
        kind: b.kind,
        admission_id: b.admission_id,
        charge_ids: b.charge_ids,
        line_discounts: b.line_discounts.into_iter().map(|d| (d.charge_id, d.discount_minor)).collect(),
        discount_minor: b.discount_minor,
        discount_reason: b.discount_reason,
    };
    let d = state.app.billing().post_invoice(&ctx, &key(&headers), id(&raw, "patient")?, input).await?;
    Ok((StatusCode::CREATED, Json(InvoiceOut::from(d))).into_response())
}

/// Take a deposit
#[utoipa::path(post, path = "/api/v1/patients/{id}/deposits", tag = "billing", request_body = DepositIn,
    params(("id" = String, Path, description = "Patient id"), ("Idempotency-Key" = String, Header, description = "Unique per submission; a retry sends the same")),
    responses((status = 201, description = "Held; its receipt", body = ReceiptOut),
        (status = 403, description = "Not a billing clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No open cash shift", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No amount, not a desk method, no reference for a card, UPI or bank payment, no idempotency key", body = Problem, content_type = "application/problem+json")))]
async fn take_deposit(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    headers: HeaderMap,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<DepositIn>,
) -> Result<Response, ApiError> {
    let input = DepositInput { method: b.method, amount_minor: b.amount_minor, reference: b.reference };
    let r = state.app.billing().take_deposit(&ctx, &key(&headers), id(&raw, "patient")?, input).await?;
    Ok((StatusCode::CREATED, Json(ReceiptOut::from(r))).into_response())
}

/// Ask for a refund
///
/// From a deposit's unapplied money or a cancelled invoice's payments; a supervisor
/// (not the one asking) approves it, then a cashier pays it out.
#[utoipa::path(post, path = "/api/v1/patients/{id}/refunds", tag = "billing", request_body = RefundIn,
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 201, description = "Asked for", body = RefundOut),
        (status = 403, description = "Not a billing clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, more than is left, not this patient's deposit or invoice, an invoice not cancelled", body = Problem, content_type = "application/problem+json")))]
async fn request_refund(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<RefundIn>,
) -> Result<Response, ApiError> {
    let input = RefundInput {
        deposit_id: b.deposit_id,
        invoice_id: b.invoice_id,
        amount_minor: b.amount_minor,
        method: b.method,
        reason: b.reason,
    };
    let r = state.app.billing().request_refund(&ctx, id(&raw, "patient")?, input).await?;
    Ok((StatusCode::CREATED, Json(RefundOut::from(r))).into_response())
}

/// An invoice
#[utoipa::path(get, path = "/api/v1/invoices/{id}", tag = "billing",
    params(("id" = String, Path, description = "Invoice id")),
    responses((status = 200, description = "The invoice with its lines", body = InvoiceOut),
        (status = 403, description = "Not billing staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice", body = Problem, content_type = "application/problem+json")))]
async fn get_invoice(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<InvoiceOut>, ApiError> {
    Ok(Json(state.app.billing().invoice(&ctx, id(&raw, "invoice")?).await?.into()))
}

/// Cancel an invoice with a credit note
///
/// A supervisor's act: the journal entry is reversed and the charges are unbilled again.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/cancel", tag = "billing", request_body = ReasonIn,
    params(("id" = String, Path, description = "Invoice id")),
    responses((status = 200, description = "Cancelled", body = InvoiceOut),
        (status = 403, description = "Not a supervisor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json")))]
async fn cancel_invoice(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ReasonIn>,
) -> Result<Json<InvoiceOut>, ApiError> {
    Ok(Json(state.app.billing().cancel_invoice(&ctx, id(&raw, "invoice")?, &b.reason).await?.into()))
}

/// Pay an invoice
///
/// Several payments by several methods may settle one bill; none takes it past its
/// balance. The same `Idempotency-Key` again answers the receipt it made.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/payments", tag = "billing", request_body = PaymentIn,
    params(("id" = String, Path, description = "Invoice id"), ("Idempotency-Key" = String, Header, description = "Unique per submission; a retry sends the same")),
    responses((status = 201, description = "Paid; its receipt", body = ReceiptOut),
        (status = 403, description = "Not a billing clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Cancelled, paid meanwhile, or no open cash shift", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "More than the balance, no amount, no reference, a deposit not this patient's or short, no idempotency key", body = Problem, content_type = "application/problem+json")))]
async fn pay(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    headers: HeaderMap,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<PaymentIn>,
) -> Result<Response, ApiError> {
    let input = PaymentInput {
        invoice_id: id(&raw, "invoice")?,
        method: b.method,
        amount_minor: b.amount_minor,
        reference: b.reference,
        deposit_id: b.deposit_id,
    };
    let r = state.app.billing().pay(&ctx, &key(&headers), input).await?;
    Ok((StatusCode::CREATED, Json(ReceiptOut::from(r))).into_response())
}

/// Refunds waiting
#[utoipa::path(get, path = "/api/v1/refunds", tag = "billing",
    responses((status = 200, description = "Refunds waiting for approval or to be paid, oldest first", body = Vec<RefundOut>),
        (status = 403, description = "Not billing staff", body = Problem, content_type = "application/problem+json")))]
async fn open_refunds(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
) -> Result<Json<Vec<RefundOut>>, ApiError> {
    Ok(Json(state.app.billing().open_refunds(&ctx).await?.into_iter().map(|(r, _)| r.into()).collect()))
}

/// Approve a refund
#[utoipa::path(post, path = "/api/v1/refunds/{id}/approve", tag = "billing", request_body = NoteIn,
    params(("id" = String, Path, description = "Refund id")),
    responses((status = 200, description = "Approved; a cashier pays it out", body = RefundOut),
        (status = 403, description = "Not a supervisor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such refund", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided, or asked for by the approver", body = Problem, content_type = "application/problem+json")))]
async fn approve_refund(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<NoteIn>,
) -> Result<Json<RefundOut>, ApiError> {
    Ok(Json(state.app.billing().decide_refund(&ctx, id(&raw, "refund")?, true, &b.note).await?.into()))
}

/// Refuse a refund
#[utoipa::path(post, path = "/api/v1/refunds/{id}/reject", tag = "billing", request_body = NoteIn,
    params(("id" = String, Path, description = "Refund id")),
    responses((status = 200, description = "Refused", body = RefundOut),
        (status = 403, description = "Not a supervisor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such refund", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided, or asked for by the approver", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason given", body = Problem, content_type = "application/problem+json")))]
async fn reject_refund(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<NoteIn>,
) -> Result<Json<RefundOut>, ApiError> {
    Ok(Json(state.app.billing().decide_refund(&ctx, id(&raw, "refund")?, false, &b.note).await?.into()))
}

/// Pay out an approved refund
#[utoipa::path(post, path = "/api/v1/refunds/{id}/pay", tag = "billing",
    params(("id" = String, Path, description = "Refund id"), ("Idempotency-Key" = String, Header, description = "Unique per submission; a retry sends the same")),
    responses((status = 201, description = "Paid out; its voucher", body = ReceiptOut),
        (status = 403, description = "Not a billing clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such refund", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not approved, already paid, the money used meanwhile, or no open cash shift", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No idempotency key", body = Problem, content_type = "application/problem+json")))]
async fn pay_refund(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let r = state.app.billing().pay_refund(&ctx, &key(&headers), id(&raw, "refund")?).await?;
    Ok((StatusCode::CREATED, Json(ReceiptOut::from(r))).into_response())
}

/// My open cash shift
#[utoipa::path(get, path = "/api/v1/cashier-shift", tag = "billing",
    responses((status = 200, description = "The caller's open shift and its cash so far", body = ShiftOut),
        (status = 403, description = "Not a billing clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No open shift", body = Problem, content_type = "application/problem+json")))]
async fn my_shift(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
) -> Result<Json<ShiftOut>, ApiError> {
    let s = state.app.billing().my_shift(&ctx).await?.ok_or(salus_app::AppError::NotFound("open shift"))?;
    Ok(Json(s.into()))
}

/// Open my cash shift
#[utoipa::path(post, path = "/api/v1/cashier-shift", tag = "billing", request_body = OpenShiftIn,
    responses((status = 201, description = "Opened", body = ShiftOut),
        (status = 403, description = "Not a billing clerk", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A shift is already open", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A negative float", body = Problem, content_type = "application/problem+json")))]
async fn open_shift(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<OpenShiftIn>,
) -> Result<Response, ApiError> {
    let s = state.app.billing().open_shift(&ctx, b.float_minor).await?;
    Ok((StatusCode::CREATED, Json(ShiftOut::from(s))).into_response())
}

/// Close my cash shift
///
/// With the cash counted; a difference from what the drawer should hold needs a note.
#[utoipa::path(post, path = "/api/v1/cashier-shift/close", tag = "billing", request_body = CloseShiftIn,
    responses((status = 200, description = "Closed, with its variance", body = ShiftOut),
        (status = 403, description = "Not a billing clerk", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No open shift", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A variance without a note", body = Problem, content_type = "application/problem+json")))]
async fn close_shift(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<CloseShiftIn>,
) -> Result<Json<ShiftOut>, ApiError> {
    Ok(Json(state.app.billing().close_shift(&ctx, b.counted_minor, &b.note).await?.into()))
}

/// The daily cash report
#[utoipa::path(get, path = "/api/v1/reports/daily-cash", tag = "billing", params(DayQuery),
    responses((status = 200, description = "Money in and out per cashier, method and kind; totals per method", body = CashReportOut),
        (status = 403, description = "Not billing staff", body = Problem, content_type = "application/problem+json")))]
async fn daily_cash(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<DayQuery>,
) -> Result<Json<CashReportOut>, ApiError> {
    let day = q.day.unwrap_or_else(|| chrono::Utc::now().with_timezone(&state.app.time_zone).date_naive());
    let r = state.app.billing().cash_report(&ctx, day).await?;
    Ok(Json(CashReportOut::new(r, state.app.currency.code())))
}

/// Revenue by department
#[utoipa::path(get, path = "/api/v1/reports/revenue", tag = "billing", params(PeriodQuery),
    responses((status = 200, description = "Gross, discounts and net per department, from the journal", body = Vec<RevenueOut>),
        (status = 403, description = "Not billing staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`to` before `from`, or more than 400 days", body = Problem, content_type = "application/problem+json")))]
async fn revenue(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Json<Vec<RevenueOut>>, ApiError> {
    Ok(Json(state.app.billing().revenue(&ctx, q.from, q.to).await?.into_iter().map(Into::into).collect()))
}

/// Outstanding invoices
#[utoipa::path(get, path = "/api/v1/reports/outstanding", tag = "billing",
    responses((status = 200, description = "Posted invoices with money owed, oldest first, with their patients", body = Vec<OwedOut>),
        (status = 403, description = "Not billing staff", body = Problem, content_type = "application/problem+json")))]
async fn outstanding(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
) -> Result<Json<Vec<OwedOut>>, ApiError> {
    let owed = state.app.billing().outstanding(&ctx).await?;
    Ok(Json(
        owed.into_iter().map(|(i, p)| OwedOut { invoice: i.into(), patient: p.map(Into::into) }).collect(),
    ))
}

/// The payment provider's webhook
///
/// A signed event (`X-Signature`: hex HMAC-SHA256 of the raw body under the shared
/// secret). `payment.captured` settles the invoice it names, once per event id; other
/// kinds are acknowledged and change nothing. The amount and currency must fit the
/// invoice.
#[utoipa::path(post, path = "/api/v1/payments/webhook", tag = "billing", request_body = WebhookIn,
    params(("X-Signature" = String, Header, description = "Hex HMAC-SHA256 of the body under the shared secret")),
    responses((status = 200, description = "Settled, replayed or ignored", body = WebhookOut),
        (status = 401, description = "No or a wrong signature", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice, or the webhook is not configured", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The invoice is cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an event; another currency; more than the balance", body = Problem, content_type = "application/problem+json")))]
async fn webhook(
    State(state): State<AppState>,
    req: axum::extract::Request,
) -> Result<Json<WebhookOut>, ApiError> {
    let (parts, body) = req.into_parts();
    let ctx =
        salus_app::Ctx::new(salus_app::identity::Actor::Anonymous, crate::middleware::client_info(&parts));
    let signature =
        parts.headers.get("x-signature").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body = axum::body::to_bytes(body, state.web.body_limit)
        .await
        .map_err(|_| salus_app::AppError::field("body", "the body could not be read"))?;
    let outcome = state.app.billing().settle_online(&ctx, &body, &signature).await?;
    Ok(Json(outcome.into()))
}

/// Patients waiting to be billed
#[utoipa::path(get, path = "/api/v1/billing/waiting", tag = "billing", params(WaitingQuery),
    responses((status = 200, description = "Patients with unbilled charges, oldest charge first (a restricted record by its number only)", body = Vec<WaitingOut>),
        (status = 403, description = "Not billing staff", body = Problem, content_type = "application/problem+json")))]
async fn waiting(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<WaitingQuery>,
) -> Result<Json<Vec<WaitingOut>>, ApiError> {
    let rows = state.app.billing().to_bill(&ctx, q.limit.unwrap_or(50)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(p, charges, amount, since)| WaitingOut {
                patient: p.into(),
                charges,
                amount_minor: amount,
                since,
            })
            .collect(),
    ))
}
