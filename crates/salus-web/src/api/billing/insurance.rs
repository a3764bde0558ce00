//! Insurance over the API: payers and plans, a patient's coverages, pre-authorisations
//! (with their documents), claims from draft to settlement, the insurance desk's work,
//! the insurer ageing; and the leak check with its exemptions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use salus_app::AppError;
use salus_app::billing::claims::{ClaimDecision, Settlement};
use salus_app::billing::insurance::{PayerInput, PlanInput, PolicyInput, PreauthAnswer, PreauthInput};
use salus_app::identity::Permission;
use salus_core::FieldError;
use salus_core::organisation::ServiceCategory;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use super::insurance_wire::*;
use crate::AppState;
use crate::access::{Access, Declared, route};
use crate::api::clinical::files::attachment_response;
use crate::api::clinical::id;
use crate::api::{ApiJson, ApiQuery, ApiUser};
use crate::error::{ApiError, Problem};

/// Reading needs billing.read; the use cases check insurance.work, insurance.admin and
/// billing.approve on writes (a path declares one access for all its methods).
pub(crate) const ROUTES: &[Declared] = &[
    route("/api/v1/payers", Access::Permission(Permission::BillingRead)),
    route("/api/v1/insurance-plans", Access::Permission(Permission::BillingRead)),
    route("/api/v1/patients/{id}/insurance", Access::Permission(Permission::BillingRead)),
    route("/api/v1/patients/{id}/coverages", Access::Permission(Permission::InsuranceWork)).post(),
    route("/api/v1/coverages/{id}/cancel", Access::Permission(Permission::InsuranceWork)).post(),
    route("/api/v1/patients/{id}/preauthorizations", Access::Permission(Permission::InsuranceWork)).post(),
    route("/api/v1/preauthorizations/{id}/answer", Access::Permission(Permission::InsuranceWork)).post(),
    route("/api/v1/preauthorizations/{id}/documents", Access::Permission(Permission::InsuranceWork)).post(),
    route(
        "/api/v1/preauthorizations/{id}/documents/{attachment}",
        Access::Permission(Permission::BillingRead),
    )
    .example("/api/v1/preauthorizations/{id}/documents/{id}"),
    route("/api/v1/invoices/{id}/claims", Access::Permission(Permission::InsuranceWork)).post(),
    route("/api/v1/claims/{id}", Access::Permission(Permission::BillingRead)),
    route("/api/v1/claims/{id}/submit", Access::Permission(Permission::InsuranceWork)).post(),
    route("/api/v1/claims/{id}/decision", Access::Permission(Permission::InsuranceWork)).post(),
    route("/api/v1/claims/{id}/settlement", Access::Permission(Permission::InsuranceWork)).post(),
    route("/api/v1/claims/{id}/close", Access::Permission(Permission::InsuranceWork)).post(),
    route("/api/v1/claims/{id}/resubmit", Access::Permission(Permission::InsuranceWork)).post(),
    route("/api/v1/insurance/worklist", Access::Permission(Permission::BillingRead)),
    route("/api/v1/reports/insurer-ageing", Access::Permission(Permission::BillingRead)),
    route("/api/v1/billing/leaks", Access::Permission(Permission::BillingRead))
        .example("/api/v1/billing/leaks?from=2026-11-01&to=2026-11-30"),
    route("/api/v1/billing/exemptions", Access::Permission(Permission::BillingApprove)).post(),
];

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(payers, add_payer))
        .routes(routes!(plans, add_plan))
        .routes(routes!(patient_insurance))
        .routes(routes!(add_coverage))
        .routes(routes!(cancel_coverage))
        .routes(routes!(request_preauth))
        .routes(routes!(answer_preauth))
        .routes(routes!(attach_document))
        .routes(routes!(document))
        .routes(routes!(draft_claim))
        .routes(routes!(get_claim))
        .routes(routes!(submit_claim))
        .routes(routes!(decide_claim))
        .routes(routes!(settle_claim))
        .routes(routes!(close_claim))
        .routes(routes!(resubmit_claim))
        .routes(routes!(worklist))
        .routes(routes!(ageing))
        .routes(routes!(leaks))
        .routes(routes!(exempt))
}

/// Payers
#[utoipa::path(get, path = "/api/v1/payers", tag = "insurance",
    responses((status = 200, description = "Insurers and third-party administrators, by name", body = Vec<PayerOut>),
        (status = 403, description = "Not billing staff", body = Problem, content_type = "application/problem+json")))]
async fn payers(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
) -> Result<Json<Vec<PayerOut>>, ApiError> {
    Ok(Json(state.app.billing().payers(&ctx).await?.into_iter().map(Into::into).collect()))
}

/// Add a payer
#[utoipa::path(post, path = "/api/v1/payers", tag = "insurance", request_body = PayerIn,
    responses((status = 201, description = "Added", body = PayerOut),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A code used already, no name, an administrator that is not a TPA", body = Problem, content_type = "application/problem+json")))]
async fn add_payer(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<PayerIn>,
) -> Result<(StatusCode, Json<PayerOut>), ApiError> {
    let input = PayerInput {
        code: b.code,
        name: b.name,
        kind: b.kind,
        administrator_id: b.administrator_id,
        contact: b.contact,
    };
    Ok((StatusCode::CREATED, Json(state.app.billing().add_payer(&ctx, input).await?.into())))
}

/// Insurance plans
#[utoipa::path(get, path = "/api/v1/insurance-plans", tag = "insurance",
    responses((status = 200, description = "Every plan, by name", body = Vec<PlanOut>),
        (status = 403, description = "Not billing staff", body = Problem, content_type = "application/problem+json")))]
async fn plans(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
) -> Result<Json<Vec<PlanOut>>, ApiError> {
    Ok(Json(state.app.billing().plans(&ctx).await?.into_iter().map(Into::into).collect()))
}

/// Add a plan
#[utoipa::path(post, path = "/api/v1/insurance-plans", tag = "insurance", request_body = PlanIn,
    responses((status = 201, description = "Added", body = PlanOut),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A code used already, no categories, a co-payment outside 0–100 %, a payer that is not an insurer", body = Problem, content_type = "application/problem+json")))]
async fn add_plan(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<PlanIn>,
) -> Result<(StatusCode, Json<PlanOut>), ApiError> {
    let covered = b
        .covered
        .iter()
        .map(|c| ServiceCategory::parse(c, "covered"))
        .collect::<Result<Vec<_>, FieldError>>()
        .map_err(|e| AppError::Invalid(vec![e]))?;
    let input = PlanInput {
        payer_id: b.payer_id,
        code: b.code,
        name: b.name,
        covered,
        copay_bp: b.copay_bp,
        limit_minor: b.limit_minor,
        preauth_required: b.preauth_required,
    };
    Ok((StatusCode::CREATED, Json(state.app.billing().add_plan(&ctx, input).await?.into())))
}

/// A patient's insurance
#[utoipa::path(get, path = "/api/v1/patients/{id}/insurance", tag = "insurance",
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 200, description = "Coverages, pre-authorisations and claims", body = InsuranceOut),
        (status = 403, description = "Not billing staff, or a restricted record", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json")))]
async fn patient_insurance(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<InsuranceOut>, ApiError> {
    Ok(Json(state.app.billing().insurance(&ctx, id(&raw, "patient")?).await?.into()))
}

/// Record a coverage
#[utoipa::path(post, path = "/api/v1/patients/{id}/coverages", tag = "insurance", request_body = CoverageIn,
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 201, description = "Recorded", body = CoveragePolicyOut),
        (status = 403, description = "Not a billing clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No member number, one the plan has already, an end before the start, no such plan", body = Problem, content_type = "application/problem+json")))]
async fn add_coverage(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<CoverageIn>,
) -> Result<(StatusCode, Json<CoveragePolicyOut>), ApiError> {
    let input = PolicyInput {
        plan_id: b.plan_id,
        member_number: b.member_number,
        holder: b.holder,
        valid_from: b.valid_from,
        valid_to: b.valid_to,
    };
    let p = state.app.billing().add_policy(&ctx, id(&raw, "patient")?, input).await?;
    Ok((StatusCode::CREATED, Json(p.into())))
}

/// Cancel a coverage
#[utoipa::path(post, path = "/api/v1/coverages/{id}/cancel", tag = "insurance",
    params(("id" = String, Path, description = "Coverage id")),
    responses((status = 204, description = "Cancelled"),
        (status = 403, description = "Not a billing clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such coverage", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Cancelled already", body = Problem, content_type = "application/problem+json")))]
async fn cancel_coverage(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.billing().cancel_policy(&ctx, id(&raw, "coverage")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Request a pre-authorisation
#[utoipa::path(post, path = "/api/v1/patients/{id}/preauthorizations", tag = "insurance", request_body = PreauthIn,
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 201, description = "Requested; numbered", body = PreauthOut),
        (status = 403, description = "Not a billing clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No diagnosis or amount, a coverage not the patient's or not in force, a stay not the patient's", body = Problem, content_type = "application/problem+json")))]
async fn request_preauth(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<PreauthIn>,
) -> Result<(StatusCode, Json<PreauthOut>), ApiError> {
    let input = PreauthInput {
        policy_id: b.coverage_id,
        admission_id: b.admission_id,
        diagnosis: b.diagnosis,
        requested_minor: b.requested_minor,
    };
    let p = state.app.billing().request_preauth(&ctx, id(&raw, "patient")?, input).await?;
    Ok((StatusCode::CREATED, Json(PreauthOut::new(p, Vec::new()))))
}

/// Record the insurer's answer to a pre-authorisation
#[utoipa::path(post, path = "/api/v1/preauthorizations/{id}/answer", tag = "insurance", request_body = PreauthAnswerIn,
    params(("id" = String, Path, description = "Pre-authorisation id")),
    responses((status = 200, description = "Approved (for the amount) or denied", body = PreauthOut),
        (status = 403, description = "Not a billing clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such pre-authorisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Answered already, or changed since read (version)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An amount of nothing or more than asked, a denial without its reason", body = Problem, content_type = "application/problem+json")))]
async fn answer_preauth(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<PreauthAnswerIn>,
) -> Result<Json<PreauthOut>, ApiError> {
    let answer = PreauthAnswer {
        approved_minor: b.approved_minor,
        reference: b.reference,
        note: b.note,
        version: b.version,
    };
    let p = state.app.billing().answer_preauth(&ctx, id(&raw, "pre-authorisation")?, answer).await?;
    Ok(Json(PreauthOut::new(p, Vec::new())))
}

/// Attach a document to a pre-authorisation
///
/// The body is the file (PDF, JPEG, PNG or WebP); it is kept in the patient's record.
#[utoipa::path(post, path = "/api/v1/preauthorizations/{id}/documents", tag = "insurance",
    params(("id" = String, Path, description = "Pre-authorisation id"), DocumentQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, description = "Kept; the attachment's id", body = String),
        (status = 403, description = "Not a billing clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such pre-authorisation", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the server takes", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty, too large, or not a kind of file the record keeps", body = Problem, content_type = "application/problem+json")))]
async fn attach_document(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<DocumentQuery>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<String>), ApiError> {
    let name = q.filename.unwrap_or_else(|| "document".into());
    let a = state.app.billing().attach_to_preauth(&ctx, id(&raw, "pre-authorisation")?, &name, &body).await?;
    Ok((StatusCode::CREATED, Json(a.to_string())))
}

/// Download a pre-authorisation's document
#[utoipa::path(get, path = "/api/v1/preauthorizations/{id}/documents/{attachment}", tag = "insurance",
    params(("id" = String, Path, description = "Pre-authorisation id"), ("attachment" = String, Path, description = "Attachment id")),
    responses((status = 200, description = "The file"),
        (status = 403, description = "Not billing staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such pre-authorisation or document", body = Problem, content_type = "application/problem+json")))]
async fn document(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path((raw, attachment)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (meta, bytes) = state
        .app
        .billing()
        .preauth_document(&ctx, id(&raw, "pre-authorisation")?, id(&attachment, "document")?)
        .await?;
    Ok(attachment_response(&meta, bytes))
}

/// Draft a claim of an invoice
///
/// Each line split between insurer and patient by the coverage's plan, the insurer's part
/// capped by what is left of the sum insured, of the stay's pre-authorisation, and of the
/// bill's balance. Nothing moves until it is submitted.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/claims", tag = "insurance", request_body = ClaimIn,
    params(("id" = String, Path, description = "Invoice id")),
    responses((status = 201, description = "Drafted", body = ClaimOut),
        (status = 403, description = "Not a billing clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The invoice has a claim in progress", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A coverage not the patient's or not in force on the bill's date, nothing covered or left to claim, a stay without the pre-authorisation the plan needs", body = Problem, content_type = "application/problem+json")))]
async fn draft_claim(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ClaimIn>,
) -> Result<(StatusCode, Json<ClaimOut>), ApiError> {
    let c = state.app.billing().draft_claim(&ctx, id(&raw, "invoice")?, b.coverage_id).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// A claim
#[utoipa::path(get, path = "/api/v1/claims/{id}", tag = "insurance",
    params(("id" = String, Path, description = "Claim id")),
    responses((status = 200, description = "The claim, its items and shares", body = ClaimDetailOut),
        (status = 403, description = "Not billing staff, or a restricted record", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such claim", body = Problem, content_type = "application/problem+json")))]
async fn get_claim(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<ClaimDetailOut>, ApiError> {
    Ok(Json(state.app.billing().claim(&ctx, id(&raw, "claim")?).await?.into()))
}

/// Submit a claim
///
/// The insurer's share comes off what the patient owes and is owed by the insurer.
#[utoipa::path(post, path = "/api/v1/claims/{id}/submit", tag = "insurance", request_body = ClaimStepIn,
    params(("id" = String, Path, description = "Claim id")),
    responses((status = 200, description = "Submitted", body = ClaimOut),
        (status = 403, description = "Not a billing clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such claim", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a draft, changed since read, or the bill was paid or cancelled meanwhile", body = Problem, content_type = "application/problem+json")))]
async fn submit_claim(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ClaimStepIn>,
) -> Result<Json<ClaimOut>, ApiError> {
    Ok(Json(state.app.billing().submit_claim(&ctx, id(&raw, "claim")?, b.version).await?.into()))
}

/// Record the insurer's decision on a claim
#[utoipa::path(post, path = "/api/v1/claims/{id}/decision", tag = "insurance", request_body = ClaimDecisionIn,
    params(("id" = String, Path, description = "Claim id")),
    responses((status = 200, description = "Approved, partly approved or denied; what is not approved is back on the bill", body = ClaimOut),
        (status = 403, description = "Not a billing clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such claim", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not submitted, or changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An amount outside nothing to the claimed amount, less than claimed without the reason", body = Problem, content_type = "application/problem+json")))]
async fn decide_claim(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ClaimDecisionIn>,
) -> Result<Json<ClaimOut>, ApiError> {
    let d = ClaimDecision {
        approved_minor: b.approved_minor,
        payer_reference: b.payer_reference,
        note: b.note,
        version: b.version,
    };
    Ok(Json(state.app.billing().decide_claim(&ctx, id(&raw, "claim")?, d).await?.into()))
}

/// Record the insurer's remittance
#[utoipa::path(post, path = "/api/v1/claims/{id}/settlement", tag = "insurance", request_body = SettlementIn,
    params(("id" = String, Path, description = "Claim id")),
    responses((status = 200, description = "Settled; deductions written off", body = ClaimOut),
        (status = 403, description = "Not a billing clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such claim", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not approved, or changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "More than approved, no reference, deductions without their reason", body = Problem, content_type = "application/problem+json")))]
async fn settle_claim(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<SettlementIn>,
) -> Result<Json<ClaimOut>, ApiError> {
    let s = Settlement {
        received_minor: b.received_minor,
        reference: b.reference,
        note: b.note,
        version: b.version,
    };
    Ok(Json(state.app.billing().settle_claim(&ctx, id(&raw, "claim")?, s).await?.into()))
}

/// Close a claim
#[utoipa::path(post, path = "/api/v1/claims/{id}/close", tag = "insurance", request_body = ClaimStepIn,
    params(("id" = String, Path, description = "Claim id")),
    responses((status = 200, description = "Closed", body = ClaimOut),
        (status = 403, description = "Not a billing clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such claim", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Still with the insurer, or changed since read", body = Problem, content_type = "application/problem+json")))]
async fn close_claim(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ClaimStepIn>,
) -> Result<Json<ClaimOut>, ApiError> {
    Ok(Json(state.app.billing().close_claim(&ctx, id(&raw, "claim")?, b.version).await?.into()))
}

/// Send a denied claim again
#[utoipa::path(post, path = "/api/v1/claims/{id}/resubmit", tag = "insurance", request_body = ClaimStepIn,
    params(("id" = String, Path, description = "Claim id")),
    responses((status = 201, description = "The next version, drafted", body = ClaimOut),
        (status = 403, description = "Not a billing clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such claim", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not denied, or changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Nothing left to claim", body = Problem, content_type = "application/problem+json")))]
async fn resubmit_claim(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ClaimStepIn>,
) -> Result<(StatusCode, Json<ClaimOut>), ApiError> {
    let c = state.app.billing().resubmit_claim(&ctx, id(&raw, "claim")?, b.version).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// The insurance desk's work
#[utoipa::path(get, path = "/api/v1/insurance/worklist", tag = "insurance",
    responses((status = 200, description = "Pre-authorisations waiting, claims to submit, decide, settle or resubmit", body = InsuranceDeskOut),
        (status = 403, description = "Not billing staff", body = Problem, content_type = "application/problem+json")))]
async fn worklist(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
) -> Result<Json<InsuranceDeskOut>, ApiError> {
    Ok(Json(state.app.billing().insurance_desk(&ctx).await?.into()))
}

/// Insurer ageing
#[utoipa::path(get, path = "/api/v1/reports/insurer-ageing", tag = "insurance",
    responses((status = 200, description = "What each payer owes, by age since submission", body = Vec<AgeingOut>),
        (status = 403, description = "Not billing staff", body = Problem, content_type = "application/problem+json")))]
async fn ageing(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
) -> Result<Json<Vec<AgeingOut>>, ApiError> {
    Ok(Json(state.app.billing().insurer_ageing(&ctx).await?.into_iter().map(Into::into).collect()))
}

/// The leak check
///
/// Billable events (visits, lab tests, imaging, medicines, nursing tasks, bed days) with
/// neither a charge nor an exemption.
#[utoipa::path(get, path = "/api/v1/billing/leaks", tag = "billing", params(LeakQuery),
    responses((status = 200, description = "The events, oldest first", body = Vec<LeakOut>),
        (status = 403, description = "Not billing staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`to` before `from`, or more than 92 days", body = Problem, content_type = "application/problem+json")))]
async fn leaks(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<LeakQuery>,
) -> Result<Json<Vec<LeakOut>>, ApiError> {
    Ok(Json(state.app.billing().leaks(&ctx, q.from, q.to).await?.into_iter().map(Into::into).collect()))
}

/// Exempt a billable event from charging
#[utoipa::path(post, path = "/api/v1/billing/exemptions", tag = "billing", request_body = ExemptionIn,
    responses((status = 204, description = "Exempted"),
        (status = 403, description = "Not a supervisor", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Charged or exempted already, or not billable", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown kind, no reason", body = Problem, content_type = "application/problem+json")))]
async fn exempt(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<ExemptionIn>,
) -> Result<StatusCode, ApiError> {
    state.app.billing().exempt(&ctx, &b.kind, b.source_id, &b.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}
