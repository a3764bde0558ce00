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
use salus_app::pharmacy::stock::{ManualMove, ReceiptInput, ReceiptLineInput};
use salus_app::pharmacy::transfers::TransferLineInput;
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
    route("/api/v1/pharmacy/stores/{id}", Access::Permission(Permission::StockAdmin)).patch(),
    route("/api/v1/pharmacy/suppliers", Access::Permission(Permission::StockRead)),
    route("/api/v1/pharmacy/stores/{id}/reorder-levels", Access::Permission(Permission::StockAdmin)).post(),
    route("/api/v1/pharmacy/stores/{id}/stock", Access::Permission(Permission::StockRead)),
    route("/api/v1/pharmacy/stores/{id}/items/{item}/lots", Access::Permission(Permission::StockRead))
        .example("/api/v1/pharmacy/stores/{id}/items/0190a0b0-0000-7000-8000-000000000001/lots"),
    route("/api/v1/pharmacy/stores/{id}/ledger", Access::Permission(Permission::StockRead)),
    route("/api/v1/pharmacy/stores/{id}/alerts", Access::Permission(Permission::StockRead)),
    route("/api/v1/pharmacy/stores/{id}/transfers", Access::Permission(Permission::StockRead)),
    route("/api/v1/pharmacy/ledger/verify", Access::Permission(Permission::StockRead)),
    // Placing and closing orders needs stock.manage, which the use case checks.
    route("/api/v1/pharmacy/orders", Access::Permission(Permission::StockRead)),
    route("/api/v1/pharmacy/orders/{id}", Access::Permission(Permission::StockRead)),
    route("/api/v1/pharmacy/orders/{id}/close", Access::Permission(Permission::StockManage)).post(),
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

mod catalog;
mod dispensing;
mod orders;
mod stock;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(catalog::routes())
        .merge(stock::routes())
        .merge(dispensing::routes())
        .merge(orders::routes())
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
pub(crate) fn key(headers: &HeaderMap) -> String {
    headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}
