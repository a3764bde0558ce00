//! The laboratory over the API, shaped after FHIR's ServiceRequest (an order line),
//! Specimen, Observation (a result revision) and DiagnosticReport (an order line with its
//! results): the catalog, ordering, collection, the worklist, entry, verification,
//! corrections, critical results and their acknowledgement.

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use salus_app::identity::Permission;
use salus_core::laboratory::{OrderStatus, Priority, RejectReason};
use salus_core::{EncounterId, PatientId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::clinical::{ReasonIn, id};
use crate::AppState;
use crate::api::openapi::coded;
use crate::api::{ApiJson, ApiQuery, ApiUser, Paged};
use crate::error::{ApiError, Problem};

mod wire;

pub use wire::*;

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/api/v1/lab/tests", Access::Permission(Permission::OrganisationRead)),
    route("/api/v1/lab/tests/{id}", Access::Permission(Permission::OrganisationRead)),
    route("/api/v1/lab/tests/{id}/{action}", Access::Permission(Permission::OrganisationManage))
        .post()
        .example("/api/v1/lab/tests/{id}/retire"),
    route("/api/v1/lab/worklist", Access::Permission(Permission::LabWork)),
    route("/api/v1/lab/inbox", Access::Permission(Permission::LabOrder)),
    route("/api/v1/lab/critical-alerts", Access::Permission(Permission::LabWork)),
    route("/api/v1/patients/{id}/lab-orders", Access::SignedIn),
    route("/api/v1/patients/{id}/lab-specimens", Access::Permission(Permission::LabCollect)).post(),
    route("/api/v1/patients/{id}/lab-results", Access::SignedIn),
    route("/api/v1/patients/{id}/lab-results/reviewed", Access::Permission(Permission::LabOrder)).post(),
    route("/api/v1/lab/orders/{id}", Access::SignedIn),
    route("/api/v1/lab/orders/{id}/cancel", Access::SignedIn).post(),
    route("/api/v1/lab/orders/{id}/results", Access::Permission(Permission::LabWork)).post(),
    route("/api/v1/lab/orders/{id}/verify", Access::Permission(Permission::LabVerify)).post(),
    route("/api/v1/lab/results/{id}/revisions", Access::SignedIn),
    route("/api/v1/lab/specimens/{id}", Access::SignedIn),
    route("/api/v1/lab/specimens/{id}/receive", Access::Permission(Permission::LabWork)).post(),
    route("/api/v1/lab/specimens/{id}/reject", Access::Permission(Permission::LabWork)).post(),
    route("/api/v1/lab/alerts/{id}/acknowledge", Access::Permission(Permission::LabOrder)).post(),
];

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tests))
        .routes(routes!(get_test))
        .routes(routes!(set_test_active))
        .routes(routes!(worklist))
        .routes(routes!(inbox))
        .routes(routes!(critical_alerts))
        .routes(routes!(list_orders, place_order))
        .routes(routes!(collect))
        .routes(routes!(list_results))
        .routes(routes!(mark_reviewed))
        .routes(routes!(get_order))
        .routes(routes!(cancel_order))
        .routes(routes!(enter_results))
        .routes(routes!(verify))
        .routes(routes!(revisions))
        .routes(routes!(get_specimen))
        .routes(routes!(receive))
        .routes(routes!(reject))
        .routes(routes!(acknowledge))
}

/// `?include_inactive=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TestsQuery {
    #[serde(default)]
    pub include_inactive: bool,
}

/// The laboratory's test catalog
#[utoipa::path(get, path = "/api/v1/lab/tests", tag = "laboratory", params(TestsQuery),
    responses((status = 200, description = "By section and name", body = Paged<LabTestOut>)))]
async fn list_tests(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<TestsQuery>,
) -> Result<Json<Paged<LabTestOut>>, ApiError> {
    let rows = state.app.laboratory().catalog(&ctx, q.include_inactive).await?;
    Ok(Json(Paged::new(rows.into_iter().map(LabTestOut::from).collect(), None::<String>)))
}

/// A test with its analytes and reference ranges
#[utoipa::path(get, path = "/api/v1/lab/tests/{id}", tag = "laboratory", params(("id" = String, Path, description = "Test id")),
    responses((status = 200, description = "The entry", body = LabTestDetailOut),
        (status = 404, description = "No such test", body = Problem, content_type = "application/problem+json")))]
async fn get_test(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<LabTestDetailOut>, ApiError> {
    let (test, members, ranges) = state.app.laboratory().catalog_entry(&ctx, id(&raw, "test")?).await?;
    Ok(Json(LabTestDetailOut {
        test: test.into(),
        members: members.into_iter().map(Into::into).collect(),
        ranges: ranges.into_iter().map(Into::into).collect(),
    }))
}

/// Retire or reactivate a test (administrators)
///
/// A retired test is no longer offered or orderable; past orders and results keep it.
#[utoipa::path(post, path = "/api/v1/lab/tests/{id}/{action}", tag = "laboratory",
    params(("id" = String, Path, description = "Test id"), ("action" = String, Path, description = "retire or reactivate")),
    responses((status = 200, description = "Done", body = LabTestOut),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such test or action", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already so", body = Problem, content_type = "application/problem+json")))]
async fn set_test_active(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path((raw, action)): Path<(String, String)>,
) -> Result<Json<LabTestOut>, ApiError> {
    let active = match action.as_str() {
        "retire" => false,
        "reactivate" => true,
        _ => return Err(salus_app::AppError::NotFound("action").into()),
    };
    Ok(Json(state.app.laboratory().set_test_active(&ctx, id(&raw, "test")?, active).await?.into()))
}

/// `?status=&section=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorklistQuery {
    /// One state (default: every state not yet released or cancelled).
    #[param(schema_with = coded::<OrderStatus>)]
    pub status: Option<OrderStatus>,
    /// One bench (haematology, biochemistry, …).
    #[param(max_length = 40)]
    pub section: Option<String>,
    /// Lines per page, 1 to 200 (default 50).
    #[serde(default, deserialize_with = "crate::api::extract::bounded::<_, u32, 1, 200>")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// The lab's worklist
///
/// Order lines by state, stat first, then urgent, then oldest first, with their patients
/// and specimens; paged (each line shown is an audited read).
#[utoipa::path(get, path = "/api/v1/lab/worklist", tag = "laboratory", params(WorklistQuery),
    responses((status = 200, description = "A page of lines", body = Paged<WorkItemOut>),
        (status = 400, description = "A limit out of bounds", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A cursor this API did not give out", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the lab", body = Problem, content_type = "application/problem+json")))]
async fn worklist(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<WorklistQuery>,
) -> Result<Json<Paged<WorkItemOut>>, ApiError> {
    let statuses: Vec<OrderStatus> = q.status.into_iter().collect();
    let limit = u64::from(q.limit.unwrap_or(50));
    let cursor = crate::api::Cursor { limit: q.limit, cursor: q.cursor };
    let offset = cursor.position::<u64>()?.unwrap_or(0);
    let (rows, more) =
        state.app.laboratory().worklist(&ctx, &statuses, q.section.as_deref(), limit, offset).await?;
    let next = more.then_some(offset + limit);
    Ok(Json(Paged::new(rows.into_iter().map(WorkItemOut::from).collect(), next)))
}

/// The signed-in doctor's laboratory inbox
///
/// Critical results to acknowledge (their own, and every escalated one) and released
/// results of their orders not yet reviewed.
#[utoipa::path(get, path = "/api/v1/lab/inbox", tag = "laboratory",
    responses((status = 200, description = "The inbox", body = InboxOut)))]
async fn inbox(State(state): State<AppState>, ApiUser(_u, ctx): ApiUser) -> Result<Json<InboxOut>, ApiError> {
    let i = state.app.laboratory().inbox(&ctx).await?;
    Ok(Json(InboxOut {
        alerts: i.alerts.into_iter().map(|(a, p)| CriticalAlertOut::new(a, Some(p))).collect(),
        results: i
            .results
            .into_iter()
            .map(|(r, p)| InboxResultOut { result: r.into(), patient: p.into() })
            .collect(),
    }))
}

/// Critical results and the time each took to be acknowledged
#[utoipa::path(get, path = "/api/v1/lab/critical-alerts", tag = "laboratory",
    responses((status = 200, description = "The latest 500, newest first", body = Paged<CriticalAlertOut>),
        (status = 403, description = "Not the lab", body = Problem, content_type = "application/problem+json")))]
async fn critical_alerts(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
) -> Result<Json<Paged<CriticalAlertOut>>, ApiError> {
    let rows = state.app.laboratory().critical_alerts(&ctx).await?;
    Ok(Json(Paged::new(
        rows.into_iter().map(|(a, p)| CriticalAlertOut::new(a, Some(p))).collect(),
        None::<String>,
    )))
}

/// A patient's laboratory orders
#[utoipa::path(get, path = "/api/v1/patients/{id}/lab-orders", tag = "laboratory", params(("id" = String, Path, description = "Patient id")),
    responses((status = 200, description = "Newest first", body = Paged<LabOrderOut>),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json")))]
async fn list_orders(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<LabOrderOut>>, ApiError> {
    let (_, rows) = state.app.laboratory().orders_of(&ctx, id::<PatientId>(&raw, "patient")?).await?;
    Ok(Json(Paged::new(rows.into_iter().map(LabOrderOut::from).collect(), None::<String>)))
}

/// An order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LabOrderIn)]
pub struct OrderIn {
    /// Tests and panels of the catalog.
    #[schema(min_items = 1, max_items = 40)]
    pub test_ids: Vec<Uuid>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub encounter_id: Option<EncounterId>,
    /// routine (default), urgent or stat.
    #[schema(schema_with = coded::<Priority>)]
    pub priority: Option<Priority>,
    /// What the lab should know ("on warfarin", "fasting since 10 pm").
    #[schema(max_length = 500)]
    pub clinical_info: Option<String>,
    /// Required to go ahead when the same test was ordered recently (409 `clinical-warnings`).
    #[schema(max_length = 300)]
    pub override_reason: Option<String>,
}

/// Order tests
///
/// One order line per test or panel. The same test (or a panel sharing an analyte) ordered
/// within the site's window answers 409 `clinical-warnings` unless `override_reason` says
/// why; the override is kept in the audit trail.
#[utoipa::path(post, path = "/api/v1/patients/{id}/lab-orders", tag = "laboratory", request_body = OrderIn,
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 201, description = "Ordered", body = Vec<LabOrderOut>),
        (status = 403, description = "Not a doctor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Ordered recently: give a reason", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No test, an unknown test, an encounter of another patient", body = Problem, content_type = "application/problem+json")))]
async fn place_order(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<OrderIn>,
) -> Result<Response, ApiError> {
    let input = salus_app::laboratory::orders::NewOrder {
        encounter_id: b.encounter_id,
        test_ids: b.test_ids,
        priority: b.priority,
        clinical_info: b.clinical_info.unwrap_or_default(),
        override_reason: b.override_reason.unwrap_or_default(),
    };
    let rows = state.app.laboratory().place_order(&ctx, id(&raw, "patient")?, input).await?;
    let out: Vec<LabOrderOut> = rows.into_iter().map(Into::into).collect();
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// The order lines whose specimens are taken now.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectIn {
    #[schema(min_items = 1, max_items = 40)]
    pub order_ids: Vec<Uuid>,
}

/// Collect specimens
///
/// One specimen per specimen type and container, each with the next accession number;
/// each order line with a price-list service records one unbilled charge.
#[utoipa::path(post, path = "/api/v1/patients/{id}/lab-specimens", tag = "laboratory", request_body = CollectIn,
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 201, description = "Collected", body = Vec<SpecimenOut>),
        (status = 404, description = "No such patient or order of this patient", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An order is not waiting for collection", body = Problem, content_type = "application/problem+json")))]
async fn collect(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<CollectIn>,
) -> Result<Response, ApiError> {
    let rows = state.app.laboratory().collect(&ctx, id(&raw, "patient")?, &b.order_ids).await?;
    let out: Vec<SpecimenOut> = rows.into_iter().map(Into::into).collect();
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// A patient's released results
///
/// Current revisions, newest collection first: the cumulative table and the trends are
/// drawn from these. A patient's own account reads its own.
#[utoipa::path(get, path = "/api/v1/patients/{id}/lab-results", tag = "laboratory", params(("id" = String, Path, description = "Patient id")),
    responses((status = 200, description = "At most 2,000", body = Paged<LabResultOut>),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json")))]
async fn list_results(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<LabResultOut>>, ApiError> {
    let rows = state.app.laboratory().results_of(&ctx, id::<PatientId>(&raw, "patient")?).await?;
    Ok(Json(Paged::new(rows.into_iter().map(LabResultOut::from).collect(), None::<String>)))
}

/// Results a doctor has seen.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LabReviewedIn)]
pub struct ReviewedIn {
    #[schema(min_items = 1, max_items = 500)]
    pub result_ids: Vec<Uuid>,
}

/// How many changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountOut {
    pub count: u64,
}

/// Mark released results reviewed
#[utoipa::path(post, path = "/api/v1/patients/{id}/lab-results/reviewed", tag = "laboratory", request_body = ReviewedIn,
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 200, description = "How many were marked", body = CountOut),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No results named", body = Problem, content_type = "application/problem+json")))]
async fn mark_reviewed(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ReviewedIn>,
) -> Result<Json<CountOut>, ApiError> {
    let count = state.app.laboratory().mark_reviewed(&ctx, id(&raw, "patient")?, &b.result_ids).await?;
    Ok(Json(CountOut { count }))
}

/// An order line with its patient, specimen and results
#[utoipa::path(get, path = "/api/v1/lab/orders/{id}", tag = "laboratory", params(("id" = String, Path, description = "Order id")),
    responses((status = 200, description = "The order (FHIR DiagnosticReport)", body = OrderDetailOut),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json")))]
async fn get_order(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<OrderDetailOut>, ApiError> {
    Ok(Json(state.app.laboratory().order(&ctx, id(&raw, "order")?).await?.into()))
}

/// Cancel an order line (with a reason)
#[utoipa::path(post, path = "/api/v1/lab/orders/{id}/cancel", tag = "laboratory", request_body = ReasonIn,
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, description = "Cancelled", body = LabOrderOut),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already released or cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json")))]
async fn cancel_order(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ReasonIn>,
) -> Result<Json<LabOrderOut>, ApiError> {
    Ok(Json(state.app.laboratory().cancel_order(&ctx, id(&raw, "order")?, &b.reason).await?.into()))
}

/// One analyte's value as typed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultValueIn {
    pub test_id: Uuid,
    /// A number ("5.4"), one of the test's answers, or text; blank leaves it out.
    #[schema(max_length = 2000)]
    pub value: String,
}

/// Results of an order line.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultsIn {
    #[schema(min_items = 1, max_items = 100)]
    pub results: Vec<ResultValueIn>,
    /// Given to correct released results (a new revision; verification again).
    #[schema(max_length = 300)]
    pub amend_reason: Option<String>,
}

/// Enter or correct results
///
/// Each value is read against the range for the patient's sex and age in days at
/// collection (copied onto the result) and flagged; a value outside the valid limits is
/// refused naming its analyte, and nothing is written. Calculated analytes are computed.
/// The same values sent again change nothing.
#[utoipa::path(post, path = "/api/v1/lab/orders/{id}/results", tag = "laboratory", request_body = ResultsIn,
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, description = "The order with its results", body = OrderDetailOut),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Cancelled, not received, or released without a reason to correct", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An impossible or unreadable value", body = Problem, content_type = "application/problem+json")))]
async fn enter_results(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ResultsIn>,
) -> Result<Json<OrderDetailOut>, ApiError> {
    let entries: Vec<salus_app::laboratory::results::Entry> = b
        .results
        .into_iter()
        .map(|r| salus_app::laboratory::results::Entry { test_id: r.test_id, value: r.value })
        .collect();
    let d = state
        .app
        .laboratory()
        .enter_results(&ctx, id(&raw, "order")?, &entries, b.amend_reason.as_deref())
        .await?;
    Ok(Json(d.into()))
}

/// Verify an order line's results (a second person)
///
/// Releases them to the chart and the patient. Whoever entered a result cannot verify it
/// (409; the database refuses it too). A critical value makes a task for the ordering
/// doctor, which escalates to every doctor when not acknowledged in time.
#[utoipa::path(post, path = "/api/v1/lab/orders/{id}/verify", tag = "laboratory",
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, description = "Released", body = OrderDetailOut),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not waiting for verification, results missing, or your own results", body = Problem, content_type = "application/problem+json")))]
async fn verify(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<OrderDetailOut>, ApiError> {
    Ok(Json(state.app.laboratory().verify(&ctx, id(&raw, "order")?).await?.into()))
}

/// Every revision of a result, newest first
#[utoipa::path(get, path = "/api/v1/lab/results/{id}/revisions", tag = "laboratory", params(("id" = String, Path, description = "Result id")),
    responses((status = 200, description = "Newest first", body = Paged<LabResultOut>),
        (status = 404, description = "No such result", body = Problem, content_type = "application/problem+json")))]
async fn revisions(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<LabResultOut>>, ApiError> {
    let rows = state.app.laboratory().revisions(&ctx, id(&raw, "result")?).await?;
    Ok(Json(Paged::new(rows.into_iter().map(LabResultOut::from).collect(), None::<String>)))
}

/// A specimen with its patient and the tests on it (for its label).
#[derive(Debug, Serialize, ToSchema)]
pub struct SpecimenDetailOut {
    pub specimen: SpecimenOut,
    pub patient: LabPatientOut,
    pub tests: Vec<String>,
}

/// A specimen
#[utoipa::path(get, path = "/api/v1/lab/specimens/{id}", tag = "laboratory", params(("id" = String, Path, description = "Specimen id")),
    responses((status = 200, description = "The specimen", body = SpecimenDetailOut),
        (status = 404, description = "No such specimen", body = Problem, content_type = "application/problem+json")))]
async fn get_specimen(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<SpecimenDetailOut>, ApiError> {
    let (s, p, tests) = state.app.laboratory().specimen(&ctx, id(&raw, "specimen")?).await?;
    Ok(Json(SpecimenDetailOut { specimen: s.into(), patient: p.into(), tests }))
}

/// Receive a specimen in the lab
#[utoipa::path(post, path = "/api/v1/lab/specimens/{id}/receive", tag = "laboratory",
    params(("id" = String, Path, description = "Specimen id")),
    responses((status = 200, description = "Received", body = SpecimenOut),
        (status = 404, description = "No such specimen", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already received or rejected", body = Problem, content_type = "application/problem+json")))]
async fn receive(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<SpecimenOut>, ApiError> {
    Ok(Json(state.app.laboratory().receive(&ctx, id(&raw, "specimen")?).await?.into()))
}

/// Why a specimen is rejected.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectIn {
    #[schema(schema_with = coded::<RejectReason>)]
    pub reason: RejectReason,
    #[schema(max_length = 300)]
    pub note: Option<String>,
}

/// Reject a specimen
///
/// Its order lines wait for a new collection (a new specimen and accession number).
#[utoipa::path(post, path = "/api/v1/lab/specimens/{id}/reject", tag = "laboratory", request_body = RejectIn,
    params(("id" = String, Path, description = "Specimen id")),
    responses((status = 200, description = "Rejected", body = SpecimenOut),
        (status = 404, description = "No such specimen", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already rejected, or results entered", body = Problem, content_type = "application/problem+json")))]
async fn reject(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<RejectIn>,
) -> Result<Json<SpecimenOut>, ApiError> {
    let s = state
        .app
        .laboratory()
        .reject(&ctx, id(&raw, "specimen")?, b.reason, b.note.as_deref().unwrap_or(""))
        .await?;
    Ok(Json(s.into()))
}

/// The value as the doctor read it back.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeIn {
    #[schema(max_length = 300)]
    pub read_back: String,
}

/// Acknowledge a critical result
#[utoipa::path(post, path = "/api/v1/lab/alerts/{id}/acknowledge", tag = "laboratory", request_body = AcknowledgeIn,
    params(("id" = String, Path, description = "Alert id")),
    responses((status = 200, description = "Acknowledged", body = CriticalAlertOut),
        (status = 404, description = "No such alert", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already acknowledged", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No read-back", body = Problem, content_type = "application/problem+json")))]
async fn acknowledge(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<AcknowledgeIn>,
) -> Result<Json<CriticalAlertOut>, ApiError> {
    let a = state.app.laboratory().acknowledge(&ctx, id(&raw, "alert")?, &b.read_back).await?;
    Ok(Json(CriticalAlertOut::new(a, None)))
}
