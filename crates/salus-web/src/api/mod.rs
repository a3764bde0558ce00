//! The JSON API under `/api/v1`, its OpenAPI 3.1 document at `/api/openapi.json` and the
//! interactive docs at `/api/docs`. Each handler's doc comment is its OpenAPI text; routes
//! are registered with their docs by `utoipa_axum::routes!`, so the two cannot drift.
//!
//! Conventions every endpoint follows:
//! - errors are problem+json (see `crate::error`);
//! - bodies are read by [`ApiJson`], which rejects unknown fields and names the field at fault;
//! - lists are paged by cursor: `?limit=&cursor=` in, `{ "items": [...], "next_cursor": … }`
//!   out, `next_cursor` absent on the last page.

mod billing;
mod clinical;
pub(crate) mod extract;
mod imaging;
pub(crate) mod inpatient;
mod laboratory;
mod me;
mod openapi;
mod operations;
mod organisation;
pub mod patients;
pub(crate) mod pharmacy;
mod scheduling;
mod users;

use crate::access::{Access, Declared, route};
use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

pub use clinical::attachment_response as clinical_attachment_response;
pub(crate) use clinical::clinical_warnings;
pub use extract::{ApiJson, ApiQuery, ApiUser, Cursor, Paged, decode_cursor, if_match, with_etag};
pub(crate) use scheduling::slot_taken;

use crate::AppState;
use crate::error::{FieldProblem, Problem};

#[derive(OpenApi)]
#[openapi(
    info(title = "Salus API", description = "The REST API of the Salus hospital information system."),
    components(schemas(Problem, FieldProblem)),
    tags(
        (name = "identity", description = "Users, roles and the signed-in user"),
        (name = "patients", description = "The master patient index: registration, search, merge, the chart"),
        (name = "organisation", description = "Facilities, departments, specialisations, staff profiles and the price list"),
        (name = "scheduling", description = "Doctors' sessions, free slots, appointments and their statuses"),
        (name = "operations", description = "Background jobs, the notification outbox and message templates"),
        (name = "clinical", description = "Encounters, vital signs, notes, diagnoses, allergies and immunizations"),
        (name = "laboratory", description = "The test catalog, orders, specimens, results, verification and critical values"),
        (name = "imaging", description = "The imaging catalog, orders with accession numbers, scheduling, examinations, images and reports"),
        (name = "pharmacy", description = "Stock items, stores, suppliers, deliveries, the stock ledger, transfers, dispensing, returns and counter sales"),
        (name = "inpatient", description = "Wards and beds, the bed board, requests to admit, admissions, transfers and discharges"),
        (name = "billing", description = "Patients' accounts, invoices, payments, deposits, refunds, cashier shifts and billing reports")
    )
)]
struct ApiDoc;

/// The API's route tables (see `crate::access`).
pub(crate) const TABLES: &[&[Declared]] = &[
    ROUTES,
    me::ROUTES,
    users::ROUTES,
    patients::ROUTES,
    patients::LIFECYCLE_ROUTES,
    patients::CHART_ROUTES,
    organisation::ROUTES,
    organisation::codes::ROUTES,
    organisation::services::ROUTES,
    organisation::staff::ROUTES,
    scheduling::SESSION_ROUTES,
    scheduling::APPOINTMENT_ROUTES,
    operations::ROUTES,
    clinical::ROUTES,
    clinical::files::ROUTES,
    clinical::prescriptions::ROUTES,
    clinical::records::ROUTES,
    laboratory::ROUTES,
    imaging::ROUTES,
    pharmacy::ROUTES,
    inpatient::ROUTES,
    inpatient::census::ROUTES,
    inpatient::mar::ROUTES,
    inpatient::nursing::ROUTES,
    billing::ROUTES,
    billing::insurance::ROUTES,
];

/// The API routes and the spec built from them.
/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    // The API's description: no data, and integrators read it before they have a token.
    route("/api/openapi.json", Access::Public),
    route("/api/docs", Access::Public),
    route("/api/docs/", Access::Public),
    route("/api/docs/{*rest}", Access::Public).example("/api/docs/swagger-ui.css"),
];

pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut spec) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(me::routes())
        .merge(users::routes())
        .merge(patients::routes())
        .merge(organisation::routes())
        .merge(scheduling::routes())
        .merge(operations::routes())
        .merge(clinical::routes())
        .merge(laboratory::routes())
        .merge(imaging::routes())
        .merge(pharmacy::routes())
        .merge(inpatient::routes())
        .merge(billing::routes())
        .split_for_parts();
    openapi::complete(&mut spec);
    (router, spec)
}

pub fn router() -> Router<AppState> {
    let (api, spec) = routes();
    api.merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", spec))
}
