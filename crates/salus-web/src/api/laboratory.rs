//! The laboratory over the API, shaped after FHIR's ServiceRequest (an order line),
//! Specimen, Observation (a result revision) and DiagnosticReport (an order line with its
//! results): the catalog, ordering, collection, the worklist, entry, verification,
//! corrections, critical results and their acknowledgement.

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use salus_app::identity::Permission;
use salus_app::laboratory::{AnalyteLine, LabPatient, OrderDetail, WorkItem};
use salus_core::laboratory::{
    CriticalAlert, Flag, LabOrder, LabResult, LabTest, OrderStatus, Priority, RangeSex, ReferenceRange,
    RejectReason, ResultStatus, ResultType, Specimen, SpecimenStatus, TestKind,
};
use salus_core::{EncounterId, PatientId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::clinical::{ReasonIn, id};
use crate::AppState;
use crate::api::openapi::{coded, coded_or_null};
use crate::api::{ApiJson, ApiQuery, ApiUser, Paged};
use crate::error::{ApiError, Problem};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/api/v1/lab/tests", Access::Permission(Permission::OrganisationRead)),
    route("/api/v1/lab/tests/{id}", Access::Permission(Permission::OrganisationRead)),
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

/// A test of the catalog: one analyte or a panel.
#[derive(Debug, Serialize, ToSchema)]
pub struct LabTestOut {
    pub id: Uuid,
    /// The lab's short code ("K", "CBC").
    pub code: String,
    pub name: String,
    #[schema(schema_with = coded::<TestKind>)]
    pub kind: TestKind,
    /// LOINC code.
    pub loinc: Option<String>,
    /// haematology, biochemistry, …
    pub section: String,
    /// The specimen type (blood, serum, urine…).
    pub specimen: String,
    /// The tube or container.
    pub container: String,
    /// UCUM unit of a numeric result.
    pub unit: Option<String>,
    #[schema(schema_with = coded_or_null::<ResultType>)]
    pub result_type: Option<ResultType>,
    pub decimals: i32,
    pub method: Option<String>,
    /// The target time from receipt to release.
    pub turnaround_minutes: i32,
    /// The price-list service it is billed as.
    pub service_code: Option<String>,
    /// A calculated analyte's formula (egfr_ckd_epi_2021, ldl_friedewald).
    pub formula: Option<String>,
    /// A coded result's answers, the normal one first, separated by `|`.
    pub answers: Option<String>,
    /// The change from the previous result (percent) that the delta check marks.
    pub delta_percent: Option<f64>,
    pub active: bool,
    pub version: i32,
}

impl From<LabTest> for LabTestOut {
    fn from(t: LabTest) -> Self {
        Self {
            id: t.id,
            code: t.code,
            name: t.name,
            kind: t.kind,
            loinc: t.loinc,
            section: t.section,
            specimen: t.specimen,
            container: t.container,
            unit: t.unit,
            result_type: t.result_type,
            decimals: t.decimals,
            method: t.method,
            turnaround_minutes: t.turnaround_minutes,
            service_code: t.service_code,
            formula: t.formula,
            answers: t.answers,
            delta_percent: t.delta_percent,
            active: t.active,
            version: t.version,
        }
    }
}

/// A reference range: an age band `[age_from_days, age_to_days)` for a sex.
#[derive(Debug, Serialize, ToSchema)]
pub struct RangeOut {
    pub id: Uuid,
    /// any, female or male (`any` serves other and unknown too).
    #[schema(schema_with = coded::<RangeSex>)]
    pub sex: RangeSex,
    pub age_from_days: i32,
    /// Exclusive; absent: no upper bound.
    pub age_to_days: Option<i32>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub critical_low: Option<f64>,
    pub critical_high: Option<f64>,
    /// A value outside these cannot be a measurement and is refused.
    pub valid_low: Option<f64>,
    pub valid_high: Option<f64>,
    /// Where the numbers come from.
    pub source: String,
}

impl From<ReferenceRange> for RangeOut {
    fn from(r: ReferenceRange) -> Self {
        Self {
            id: r.id,
            sex: r.sex,
            age_from_days: r.age_from_days,
            age_to_days: r.age_to_days,
            low: r.low,
            high: r.high,
            critical_low: r.critical_low,
            critical_high: r.critical_high,
            valid_low: r.valid_low,
            valid_high: r.valid_high,
            source: r.source,
        }
    }
}

/// A catalog entry with its analytes (a panel's) and reference ranges.
#[derive(Debug, Serialize, ToSchema)]
pub struct LabTestDetailOut {
    pub test: LabTestOut,
    pub members: Vec<LabTestOut>,
    pub ranges: Vec<RangeOut>,
}

/// An order line (FHIR ServiceRequest).
#[derive(Debug, Serialize, ToSchema)]
pub struct LabOrderOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    /// The lines ordered together share it.
    pub requisition_id: Uuid,
    pub ordered_by: Uuid,
    pub test_id: Uuid,
    pub test_name: String,
    #[schema(schema_with = coded::<Priority>)]
    pub priority: Priority,
    pub clinical_info: Option<String>,
    #[schema(schema_with = coded::<OrderStatus>)]
    pub status: OrderStatus,
    pub cancel_reason: Option<String>,
    pub specimen_id: Option<Uuid>,
    /// The price-list service it is billed as.
    pub service_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl From<LabOrder> for LabOrderOut {
    fn from(o: LabOrder) -> Self {
        Self {
            id: o.id,
            patient_id: o.patient_id,
            encounter_id: o.encounter_id,
            requisition_id: o.requisition_id,
            ordered_by: o.ordered_by,
            test_id: o.test_id,
            test_name: o.test_name,
            priority: o.priority,
            clinical_info: o.clinical_info,
            status: o.status,
            cancel_reason: o.cancel_reason,
            specimen_id: o.specimen_id,
            service_id: o.service_id,
            created_at: o.created_at,
            updated_at: o.updated_at,
            version: o.version,
        }
    }
}

/// A specimen (FHIR Specimen).
#[derive(Debug, Serialize, ToSchema)]
pub struct SpecimenOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    /// The accession number on its label ("L26-000042").
    pub accession: String,
    pub specimen: String,
    pub container: String,
    #[schema(schema_with = coded::<SpecimenStatus>)]
    pub status: SpecimenStatus,
    pub collected_by: Uuid,
    pub collected_at: DateTime<Utc>,
    pub received_by: Option<Uuid>,
    pub received_at: Option<DateTime<Utc>>,
    #[schema(schema_with = coded_or_null::<RejectReason>)]
    pub reject_reason: Option<RejectReason>,
    pub reject_note: Option<String>,
    pub version: i32,
}

impl From<Specimen> for SpecimenOut {
    fn from(s: Specimen) -> Self {
        Self {
            id: s.id,
            patient_id: s.patient_id,
            accession: s.accession,
            specimen: s.specimen,
            container: s.container,
            status: s.status,
            collected_by: s.collected_by,
            collected_at: s.collected_at,
            received_by: s.received_by,
            received_at: s.received_at,
            reject_reason: s.reject_reason,
            reject_note: s.reject_note,
            version: s.version,
        }
    }
}

/// One revision of one analyte's result (FHIR Observation), with the range it was read
/// against as it was then.
#[derive(Debug, Serialize, ToSchema)]
pub struct LabResultOut {
    pub id: Uuid,
    pub order_id: Uuid,
    pub specimen_id: Uuid,
    pub patient_id: Uuid,
    pub test_id: Uuid,
    pub analyte: String,
    pub loinc: Option<String>,
    /// 1, then one more for each correction.
    pub revision: i32,
    /// preliminary (waiting for verification), final, or corrected.
    #[schema(schema_with = coded::<ResultStatus>)]
    pub status: ResultStatus,
    pub value_num: Option<f64>,
    pub value_text: Option<String>,
    /// The value as the report prints it.
    pub value: String,
    pub unit: Option<String>,
    /// LL, L, H, HH or A (abnormal coded answer).
    #[schema(schema_with = coded_or_null::<Flag>)]
    pub flag: Option<Flag>,
    pub ref_low: Option<f64>,
    pub ref_high: Option<f64>,
    pub critical_low: Option<f64>,
    pub critical_high: Option<f64>,
    pub range_text: Option<String>,
    /// The change from the previous result, in percent, when the delta check marked it.
    pub delta_percent: Option<f64>,
    pub calculated: bool,
    pub collected_at: DateTime<Utc>,
    pub entered_by: Uuid,
    pub entered_at: DateTime<Utc>,
    pub verified_by: Option<Uuid>,
    pub verified_at: Option<DateTime<Utc>>,
    /// Why a released result was corrected.
    pub amend_reason: Option<String>,
    /// Set on a revision a correction replaced.
    pub superseded_at: Option<DateTime<Utc>>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

impl From<LabResult> for LabResultOut {
    fn from(r: LabResult) -> Self {
        Self {
            value: r.value(),
            id: r.id,
            order_id: r.order_id,
            specimen_id: r.specimen_id,
            patient_id: r.patient_id,
            test_id: r.test_id,
            analyte: r.analyte,
            loinc: r.loinc,
            revision: r.revision,
            status: r.status,
            value_num: r.value_num,
            value_text: r.value_text,
            unit: r.unit,
            flag: r.flag,
            ref_low: r.ref_low,
            ref_high: r.ref_high,
            critical_low: r.critical_low,
            critical_high: r.critical_high,
            range_text: r.range_text,
            delta_percent: r.delta_percent,
            calculated: r.calculated,
            collected_at: r.collected_at,
            entered_by: r.entered_by,
            entered_at: r.entered_at,
            verified_by: r.verified_by,
            verified_at: r.verified_at,
            amend_reason: r.amend_reason,
            superseded_at: r.superseded_at,
            reviewed_by: r.reviewed_by,
            reviewed_at: r.reviewed_at,
        }
    }
}

/// Who the patient is, to match a tube to a wristband.
#[derive(Debug, Serialize, ToSchema)]
pub struct LabPatientOut {
    pub id: Uuid,
    pub mrn: String,
    pub name: String,
    pub sex: String,
    pub birth_date: Option<NaiveDate>,
}

impl From<LabPatient> for LabPatientOut {
    fn from(p: LabPatient) -> Self {
        Self { id: p.id, mrn: p.mrn, name: p.name, sex: p.sex, birth_date: p.birth_date }
    }
}

/// An analyte of an order line and its current result.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalyteOut {
    pub test: LabTestOut,
    pub result: Option<LabResultOut>,
    /// The range that applies to this patient, as text.
    pub range_text: String,
}

impl From<AnalyteLine> for AnalyteOut {
    fn from(a: AnalyteLine) -> Self {
        Self { test: a.test.into(), result: a.result.map(Into::into), range_text: a.range_text }
    }
}

/// An order line with its patient, specimen and results (FHIR DiagnosticReport).
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDetailOut {
    pub order: LabOrderOut,
    pub patient: LabPatientOut,
    pub specimen: Option<SpecimenOut>,
    pub analytes: Vec<AnalyteOut>,
}

impl From<OrderDetail> for OrderDetailOut {
    fn from(d: OrderDetail) -> Self {
        Self {
            order: d.order.into(),
            patient: d.patient.into(),
            specimen: d.specimen.map(Into::into),
            analytes: d.analytes.into_iter().map(Into::into).collect(),
        }
    }
}

/// A line of the lab's worklist.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkItemOut {
    pub order: LabOrderOut,
    pub patient: LabPatientOut,
    pub section: String,
    pub specimen: Option<SpecimenOut>,
}

impl From<WorkItem> for WorkItemOut {
    fn from(w: WorkItem) -> Self {
        Self {
            order: w.order.into(),
            patient: w.patient.into(),
            section: w.section,
            specimen: w.specimen.map(Into::into),
        }
    }
}

/// A critical result's task.
#[derive(Debug, Serialize, ToSchema)]
pub struct CriticalAlertOut {
    pub id: Uuid,
    pub result_id: Uuid,
    pub patient_id: Uuid,
    /// The doctor who ordered the test.
    pub notify_user_id: Uuid,
    pub summary: String,
    pub created_at: DateTime<Utc>,
    /// When it goes to every doctor if nobody has acknowledged it.
    pub escalate_at: DateTime<Utc>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<Uuid>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The value as the doctor read it back.
    pub read_back: Option<String>,
    /// From release to acknowledgement.
    pub minutes_to_acknowledge: Option<f64>,
    pub patient: Option<LabPatientOut>,
}

impl CriticalAlertOut {
    fn new(a: CriticalAlert, patient: Option<LabPatient>) -> Self {
        let minutes =
            a.acknowledged_at.map(|t| ((t - a.created_at).num_seconds() as f64 / 6.0).round() / 10.0);
        Self {
            id: a.id,
            result_id: a.result_id,
            patient_id: a.patient_id,
            notify_user_id: a.notify_user_id,
            summary: a.summary,
            created_at: a.created_at,
            escalate_at: a.escalate_at,
            escalated_at: a.escalated_at,
            acknowledged_by: a.acknowledged_by,
            acknowledged_at: a.acknowledged_at,
            read_back: a.read_back,
            minutes_to_acknowledge: minutes,
            patient: patient.map(Into::into),
        }
    }
}

/// A released result waiting for its doctor's review, with its patient.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxResultOut {
    pub result: LabResultOut,
    pub patient: LabPatientOut,
}

/// The signed-in doctor's laboratory inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxOut {
    pub alerts: Vec<CriticalAlertOut>,
    pub results: Vec<InboxResultOut>,
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
}

/// The lab's worklist
///
/// Order lines by state, stat first, then oldest first, with their patients and specimens.
#[utoipa::path(get, path = "/api/v1/lab/worklist", tag = "laboratory", params(WorklistQuery),
    responses((status = 200, description = "At most 500 lines", body = Paged<WorkItemOut>),
        (status = 403, description = "Not the lab", body = Problem, content_type = "application/problem+json")))]
async fn worklist(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<WorklistQuery>,
) -> Result<Json<Paged<WorkItemOut>>, ApiError> {
    let statuses: Vec<OrderStatus> = q.status.into_iter().collect();
    let rows = state.app.laboratory().worklist(&ctx, &statuses, q.section.as_deref()).await?;
    Ok(Json(Paged::new(rows.into_iter().map(WorkItemOut::from).collect(), None::<String>)))
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
