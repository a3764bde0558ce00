//! Billing in the browser: the billing desk (find a patient, the cashier's shift, refunds
//! waiting, bills still owed), a patient's account (unbilled charges ticked into a bill,
//! payments, deposits, refunds), printable invoices and receipts (a reprint says
//! DUPLICATE), and the reports (the day's cash with CSV, revenue by department). Every
//! form that moves money carries an idempotency key made when the page was drawn, so a
//! double click posts once.

use crate::access::{Access, Declared, route};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::Utc;
use salus_app::billing::{
    DepositInput, InvoiceInput, PatientAccount, PaymentInput, RefundInput, ShiftSummary,
};
use salus_app::identity::Permission;
use salus_app::patients::SearchHit;
use salus_core::billing::{Invoice, InvoiceKind, InvoiceStatus, PaymentMethod, RefundRequest, RefundStatus};
use salus_core::{Currency, Money};
use serde::Deserialize;
use uuid::Uuid;

use super::menu::Entry;
use crate::AppState;
use crate::error::PageError;
use crate::views::clinical::flash_outcome;
use crate::views::{Form, Local, PageCtx, SignedIn, render};

mod insurance;
mod print;
mod reports;

local!(DeskPage, AccountPage);

pub(super) const MENU: &[Entry] = &[
    Entry::page(
        "Billing",
        "/billing",
        "Patients' accounts: bills, payments, deposits and refunds; your cash shift",
    ),
    Entry::page(
        "Insurance",
        "/billing/insurance",
        "Pre-authorisations and claims to work on, what insurers owe, the leak check",
    ),
    Entry::home_only(
        "Billing reports",
        "/billing/reports",
        "The day's cash per cashier and method, revenue by department",
    ),
];

/// The routes of this module and what each needs (see `crate::access`). Writes are checked
/// again by the use cases: billing.collect for the desk's work, billing.approve for a
/// supervisor's.
pub(crate) const ROUTES: &[Declared] = &[
    route("/billing", Access::Permission(Permission::BillingRead)),
    route("/billing/reports", Access::Permission(Permission::BillingRead)),
    route("/billing/reports/cash.csv", Access::Permission(Permission::BillingRead)),
    route("/billing/patients/{id}", Access::Permission(Permission::BillingRead)),
    route("/billing/patients/{id}/invoice", Access::Permission(Permission::BillingRead)).post(),
    route("/billing/patients/{id}/deposit", Access::Permission(Permission::BillingCollect)).post(),
    route("/billing/patients/{id}/refund", Access::Permission(Permission::BillingCollect)).post(),
    route("/billing/invoices/{id}/print", Access::Permission(Permission::BillingRead)),
    route("/billing/invoices/{id}/pay", Access::Permission(Permission::BillingCollect)).post(),
    route("/billing/invoices/{id}/cancel", Access::Permission(Permission::BillingApprove)).post(),
    route("/billing/receipts/{id}/print", Access::Permission(Permission::BillingRead)),
    route("/billing/refunds/{id}/decide", Access::Permission(Permission::BillingApprove)).post(),
    route("/billing/refunds/{id}/pay", Access::Permission(Permission::BillingCollect)).post(),
    route("/billing/shift", Access::Permission(Permission::BillingCollect)).post(),
    route("/billing/insurance", Access::Permission(Permission::BillingRead)),
    route("/billing/insurance/ageing.csv", Access::Permission(Permission::BillingRead)),
    route("/billing/insurance/payers", Access::Permission(Permission::InsuranceAdmin)).post(),
    route("/billing/insurance/plans", Access::Permission(Permission::InsuranceAdmin)).post(),
    route("/billing/patients/{id}/policies", Access::Permission(Permission::InsuranceWork)).post(),
    route("/billing/patients/{id}/preauths", Access::Permission(Permission::InsuranceWork)).post(),
    route("/billing/preauths/{id}/answer", Access::Permission(Permission::InsuranceWork)).post(),
    route("/billing/preauths/{id}/documents", Access::Permission(Permission::InsuranceWork)).post(),
    route("/billing/preauths/{id}/documents/{doc}", Access::Permission(Permission::BillingRead))
        .example("/billing/preauths/{id}/documents/{id}"),
    route("/billing/invoices/{id}/claim", Access::Permission(Permission::InsuranceWork)).post(),
    route("/billing/claims/{id}", Access::Permission(Permission::BillingRead)),
    route("/billing/exemptions", Access::Permission(Permission::BillingApprove)).post(),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/billing", get(desk))
        .route("/billing/reports", get(reports::reports))
        .route("/billing/reports/cash.csv", get(reports::cash_csv))
        .route("/billing/patients/{id}", get(account))
        .route("/billing/patients/{id}/invoice", post(post_invoice))
        .route("/billing/patients/{id}/deposit", post(deposit))
        .route("/billing/patients/{id}/refund", post(refund))
        .route("/billing/invoices/{id}/print", get(print::print_invoice))
        .route("/billing/invoices/{id}/pay", post(pay))
        .route("/billing/invoices/{id}/cancel", post(cancel))
        .route("/billing/receipts/{id}/print", get(print::print_receipt))
        .route("/billing/refunds/{id}/decide", post(decide))
        .route("/billing/refunds/{id}/pay", post(pay_refund))
        .route("/billing/shift", post(shift))
        .route("/billing/insurance", get(insurance::desk))
        .route("/billing/insurance/ageing.csv", get(insurance::ageing_csv))
        .route("/billing/insurance/payers", post(insurance::add_payer))
        .route("/billing/insurance/plans", post(insurance::add_plan))
        .route("/billing/patients/{id}/policies", post(insurance::add_policy))
        .route("/billing/patients/{id}/preauths", post(insurance::request_preauth))
        .route("/billing/preauths/{id}/answer", post(insurance::answer_preauth))
        .route("/billing/preauths/{id}/documents", post(insurance::attach))
        .route("/billing/preauths/{id}/documents/{doc}", get(insurance::document))
        .route("/billing/invoices/{id}/claim", post(insurance::draft_claim))
        .route("/billing/claims/{id}", get(insurance::claim).post(insurance::claim_step))
        .route("/billing/exemptions", post(insurance::exempt))
}

pub(super) fn field(f: &[(String, String)], name: &str) -> String {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
}

pub(super) fn id_of(raw: &str, what: &str) -> Result<Uuid, PageError> {
    raw.parse().map_err(|_| PageError::new(StatusCode::NOT_FOUND, format!("There is no such {what}.")))
}

pub(super) fn may(page: &PageCtx, p: Permission) -> bool {
    page.user.as_ref().is_some_and(|u| u.may(p))
}

/// An amount typed in a form, in minor units; a message for the page when it is not one.
pub(super) fn amount(
    f: &[(String, String)],
    name: &str,
    currency: Currency,
) -> Result<i64, salus_app::AppError> {
    let text = field(f, name);
    if text.is_empty() {
        return Ok(0);
    }
    Money::parse_price(&text, currency, "amount")
        .map(Money::minor)
        .map_err(|e| salus_app::AppError::Invalid(vec![e]))
}

/// An amount however a template holds it: a value, a reference, a loop's reference to one.
trait Amount {
    fn minor(&self) -> i64;
}

impl Amount for i64 {
    fn minor(&self) -> i64 {
        *self
    }
}

impl<T: Amount + ?Sized> Amount for &T {
    fn minor(&self) -> i64 {
        (**self).minor()
    }
}

/// What every billing page shows amounts with.
struct Cash(Currency);

impl Cash {
    fn fmt(&self, minor: i64) -> String {
        Money::from_minor(minor).format(self.0)
    }
}

// ---- The desk ----------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeskQuery {
    q: String,
}

#[derive(Template)]
#[template(path = "billing_desk.html")]
struct DeskPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    cash: Cash,
    q: String,
    hits: Vec<SearchHit>,
    shift: Option<ShiftSummary>,
    refunds: Vec<(RefundRequest, Option<salus_app::laboratory::LabPatient>)>,
    outstanding: Vec<(Invoice, Option<salus_app::laboratory::LabPatient>)>,
    to_bill: Vec<(salus_app::laboratory::LabPatient, i64, i64, chrono::DateTime<Utc>)>,
    may_collect: bool,
    may_approve: bool,
    key: Uuid,
}

impl DeskPage {
    fn money(&self, minor: impl Amount) -> String {
        self.cash.fmt(minor.minor())
    }
    fn plain(&self, minor: impl Amount) -> String {
        Money::from_minor(minor.minor()).plain(self.cash.0)
    }
}

async fn desk(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<DeskQuery>,
) -> Result<Response, PageError> {
    let billing = state.app.billing();
    let hits = if q.q.trim().is_empty() {
        Vec::new()
    } else {
        state.app.patients().search_patients(&ctx, &q.q, 0, 20).await?.0
    };
    let may_collect = may(&page, Permission::BillingCollect);
    let shift = if may_collect { billing.my_shift(&ctx).await? } else { None };
    let refunds = billing.open_refunds(&ctx).await?;
    let mut outstanding = billing.outstanding(&ctx).await?;
    outstanding.truncate(50);
    let to_bill = billing.to_bill(&ctx, 50).await?;
    let may_approve = may(&page, Permission::BillingApprove);
    Ok(render(
        StatusCode::OK,
        &DeskPage {
            tz: state.app.time_zone,
            page,
            cash: Cash(state.app.currency),
            q: q.q,
            hits,
            shift,
            refunds,
            outstanding,
            to_bill,
            may_collect,
            may_approve,
            key: Uuid::now_v7(),
        },
    ))
}

/// Opens or closes the caller's shift.
async fn shift(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let billing = state.app.billing();
    let currency = state.app.currency;
    let outcome = if field(&f, "action") == "close" {
        match amount(&f, "counted", currency) {
            Ok(counted) => billing.close_shift(&ctx, counted, &field(&f, "note")).await.map(|s| {
                let v = s.shift.variance_minor.unwrap_or(0);
                format!(
                    "Shift closed: {} expected, {} counted{}.",
                    billing.money(s.expected_minor),
                    billing.money(s.shift.counted_minor.unwrap_or(0)),
                    if v == 0 { String::new() } else { format!(", variance {}", billing.money(v)) }
                )
            }),
            Err(e) => Err(e),
        }
    } else {
        match amount(&f, "float", currency) {
            Ok(float) => billing
                .open_shift(&ctx, float)
                .await
                .map(|s| format!("Shift opened with a float of {}.", billing.money(s.shift.float_minor))),
            Err(e) => Err(e),
        }
    };
    flash_outcome(&state, "/billing", outcome)
}

// ---- A patient's account -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "billing_account.html")]
struct AccountPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    cash: Cash,
    account: PatientAccount,
    may_collect: bool,
    may_approve: bool,
    has_shift: bool,
    key: Uuid,
    /// Deposits with money left: (id, number, left).
    deposits: Vec<(Uuid, String, i64)>,
    /// Cancelled invoices with paid money not yet given back: (id, number, left).
    refundable: Vec<(Uuid, String, i64)>,
    insurance: salus_app::billing::insurance::PatientInsurance,
    plans: Vec<salus_core::insurance::Plan>,
    may_insure: bool,
}

impl AccountPage {
    fn money(&self, minor: impl Amount) -> String {
        self.cash.fmt(minor.minor())
    }
    fn plain(&self, minor: impl Amount) -> String {
        Money::from_minor(minor.minor()).plain(self.cash.0)
    }
    fn line_total(&self, quantity: &i32, price: &i64) -> String {
        self.cash.fmt(i64::from(*quantity) * price)
    }
    fn methods(&self) -> &'static [PaymentMethod] {
        &PaymentMethod::AT_DESK
    }
    fn kinds(&self) -> &'static [InvoiceKind] {
        InvoiceKind::ALL
    }
    fn posted(&self, i: &Invoice) -> bool {
        i.status == InvoiceStatus::Posted
    }
    /// What a deposit pays of a bill: all it has left, or the bill's balance if less.
    fn apply_amount(&self, left: &i64, i: &Invoice) -> String {
        self.plain((*left).min(i.balance_minor()))
    }
    /// The policies a claim or a pre-authorisation may name.
    fn active_policies(&self) -> Vec<&salus_app::billing::insurance::PolicyView> {
        self.insurance
            .policies
            .iter()
            .filter(|v| v.policy.status == salus_core::insurance::PolicyStatus::Active)
            .collect()
    }
    /// Whether a bill may be claimed from an insurer now: posted, owed, a policy to name,
    /// and no claim of it in progress.
    fn claimable(&self, i: &Invoice) -> bool {
        use salus_core::insurance::ClaimStatus;
        self.posted(i)
            && i.balance_minor() > 0
            && !self.active_policies().is_empty()
            && !self.insurance.claims.iter().any(|c| {
                c.invoice_id == i.id && !matches!(c.status, ClaimStatus::Denied | ClaimStatus::Closed)
            })
    }
    fn invoice_number(&self, invoice: &Uuid) -> String {
        self.number_of(&Some(*invoice))
    }
    fn number_of(&self, invoice: &Option<Uuid>) -> String {
        invoice
            .and_then(|id| self.account.invoices.iter().find(|i| i.id == id))
            .map(|i| i.number.clone())
            .unwrap_or_default()
    }
}

async fn account(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let patient = id_of(&raw, "patient")?;
    let billing = state.app.billing();
    let account = billing.account(&ctx, patient).await?;
    let may_collect = may(&page, Permission::BillingCollect);
    let has_shift = may_collect && billing.my_shift(&ctx).await?.is_some();
    let deposits = account
        .receipts
        .iter()
        .filter(|r| r.kind == salus_core::billing::ReceiptKind::Deposit && r.unapplied_minor > 0)
        .map(|r| (r.id, r.number.clone(), r.unapplied_minor))
        .collect();
    let refundable = account
        .invoices
        .iter()
        .filter(|i| i.status == InvoiceStatus::Cancelled && i.paid_minor > i.refunded_minor)
        .map(|i| (i.id, i.number.clone(), i.paid_minor - i.refunded_minor))
        .collect();
    let may_approve = may(&page, Permission::BillingApprove);
    let insurance = billing.insurance(&ctx, patient).await?;
    let may_insure = may(&page, Permission::InsuranceWork);
    let plans = if may_insure { billing.plans(&ctx).await? } else { Vec::new() };
    Ok(render(
        StatusCode::OK,
        &AccountPage {
            insurance,
            plans,
            may_insure,
            tz: state.app.time_zone,
            page,
            cash: Cash(state.app.currency),
            account,
            may_collect,
            may_approve,
            has_shift,
            key: Uuid::now_v7(),
            deposits,
            refundable,
        },
    ))
}

pub(super) fn account_path(patient: Uuid) -> String {
    format!("/billing/patients/{patient}")
}

/// Posts a bill of the ticked charges.
async fn post_invoice(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let patient = id_of(&raw, "patient")?;
    let back = account_path(patient);
    let discount = match amount(&f, "discount", state.app.currency) {
        Ok(d) => d,
        Err(e) => return flash_outcome(&state, &back, Err(e)),
    };
    // A line's discount is typed beside it, as `line_discount-<charge id>`.
    let mut line_discounts = Vec::new();
    for (name, text) in &f {
        let Some(charge) = name.strip_prefix("line_discount-").and_then(|id| id.parse::<Uuid>().ok()) else {
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        match Money::parse_price(text, state.app.currency, "line_discounts") {
            Ok(m) if m.minor() > 0 => line_discounts.push((charge, m.minor())),
            Ok(_) => {}
            Err(e) => return flash_outcome(&state, &back, Err(salus_app::AppError::Invalid(vec![e]))),
        }
    }
    let input = InvoiceInput {
        kind: field(&f, "kind").parse().ok(),
        admission_id: field(&f, "admission_id").parse().ok(),
        charge_ids: f.iter().filter(|(k, _)| k == "charge").filter_map(|(_, v)| v.parse().ok()).collect(),
        line_discounts,
        discount_minor: discount,
        discount_reason: field(&f, "discount_reason"),
    };
    let billing = state.app.billing();
    let outcome = billing.post_invoice(&ctx, &field(&f, "idempotency_key"), patient, input).await;
    match outcome {
        Ok(d) => Ok(super::flash(
            &state,
            &format!("/billing/invoices/{}/print", d.invoice.id),
            &format!("Invoice {} posted: {}.", d.invoice.number, billing.money(d.invoice.total_minor)),
        )),
        Err(e) => flash_outcome(&state, &back, Err(e)),
    }
}

/// Takes a payment against an invoice.
async fn pay(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let invoice = id_of(&raw, "invoice")?;
    let back = field(&f, "back");
    let back = if back.starts_with("/billing/") { back } else { "/billing".into() };
    let billing = state.app.billing();
    let outcome = match amount(&f, "amount", state.app.currency) {
        Ok(a) => {
            let input = PaymentInput {
                invoice_id: invoice,
                method: field(&f, "method").parse().unwrap_or(PaymentMethod::Cash),
                amount_minor: a,
                reference: field(&f, "reference"),
                deposit_id: field(&f, "deposit_id").parse().ok(),
            };
            billing.pay(&ctx, &field(&f, "idempotency_key"), input).await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(r) => Ok(super::flash(
            &state,
            &back,
            &format!(
                "Receipt {}: {} by {}; print it from the receipts below.",
                r.number,
                billing.money(r.amount_minor),
                r.method.words()
            ),
        )),
        Err(e) => flash_outcome(&state, &back, Err(e)),
    }
}

/// Takes a deposit.
async fn deposit(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let patient = id_of(&raw, "patient")?;
    let billing = state.app.billing();
    let outcome = match amount(&f, "amount", state.app.currency) {
        Ok(a) => {
            let input = DepositInput {
                method: field(&f, "method").parse().unwrap_or(PaymentMethod::Cash),
                amount_minor: a,
                reference: field(&f, "reference"),
            };
            billing
                .take_deposit(&ctx, &field(&f, "idempotency_key"), patient, input)
                .await
                .map(|r| format!("Deposit {} of {} held.", r.number, billing.money(r.amount_minor)))
        }
        Err(e) => Err(e),
    };
    flash_outcome(&state, &account_path(patient), outcome)
}

/// Asks for a refund.
async fn refund(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let patient = id_of(&raw, "patient")?;
    let billing = state.app.billing();
    // One select names the source: "deposit:<id>" or "invoice:<id>".
    let source = field(&f, "source");
    let (deposit_id, invoice_id) = match source.split_once(':') {
        Some(("deposit", id)) => (id.parse().ok(), None),
        Some(("invoice", id)) => (None, id.parse().ok()),
        _ => (None, None),
    };
    let outcome = match amount(&f, "amount", state.app.currency) {
        Ok(a) => {
            let input = RefundInput {
                deposit_id,
                invoice_id,
                amount_minor: a,
                method: field(&f, "method").parse().unwrap_or(PaymentMethod::Cash),
                reason: field(&f, "reason"),
            };
            billing.request_refund(&ctx, patient, input).await.map(|r| {
                format!("Refund of {} asked for; a supervisor approves it.", billing.money(r.amount_minor))
            })
        }
        Err(e) => Err(e),
    };
    flash_outcome(&state, &account_path(patient), outcome)
}

/// A supervisor cancels an invoice with a credit note.
async fn cancel(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let invoice = id_of(&raw, "invoice")?;
    let outcome = state.app.billing().cancel_invoice(&ctx, invoice, &field(&f, "reason")).await;
    match outcome {
        Ok(d) => Ok(super::flash(
            &state,
            &account_path(d.invoice.patient_id),
            &format!(
                "{} cancelled by credit note {}; its charges can be billed again.",
                d.invoice.number,
                d.invoice.credit_note_number.unwrap_or_default()
            ),
        )),
        Err(e) => flash_outcome(&state, "/billing", Err(e)),
    }
}

/// A supervisor approves or refuses a refund.
async fn decide(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = id_of(&raw, "refund")?;
    let approve = field(&f, "decision") == "approve";
    let outcome = state
        .app
        .billing()
        .decide_refund(&ctx, id, approve, &field(&f, "note"))
        .await
        .map(|r| format!("Refund {}.", r.status.words()));
    flash_outcome(&state, "/billing", outcome)
}

/// A cashier pays out an approved refund.
async fn pay_refund(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = id_of(&raw, "refund")?;
    let billing = state.app.billing();
    match billing.pay_refund(&ctx, &field(&f, "idempotency_key"), id).await {
        Ok(r) => Ok(super::flash(
            &state,
            &format!("/billing/receipts/{}/print", r.id),
            &format!("Refund voucher {}: {} paid out.", r.number, billing.money(r.amount_minor)),
        )),
        Err(e) => flash_outcome(&state, "/billing", Err(e)),
    }
}
