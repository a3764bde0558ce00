//! The insurance desk in the browser: pre-authorisations waiting for the insurer's
//! answer, claims to submit, decide, settle or send again, what each insurer owes by age,
//! and the leak check (billable events nobody charged) with a supervisor's exemption;
//! the administrator's payers and plans. A patient's policies, pre-authorisations and
//! the claim of a bill are on the patient's account page.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, NaiveDate, Utc};
use salus_app::billing::claims::{AgeingLine, ClaimDecision, ClaimDetail, InsuranceDesk, Settlement};
use salus_app::billing::insurance::{PayerInput, PlanInput, PolicyInput, PreauthAnswer, PreauthInput};
use salus_app::billing::leaks::{Leak, SOURCES};
use salus_app::identity::Permission;
use salus_core::insurance::{AGE_BUCKETS, ClaimStatus, Payer, PayerKind, Plan};
use salus_core::organisation::ServiceCategory;
use uuid::Uuid;

use super::{Amount, Cash, account_path, amount, field, id_of, may};
use crate::AppState;
use crate::error::PageError;
use crate::views::clinical::flash_outcome;
use crate::views::{Form, Local, PageCtx, SignedIn, flash, render};

local!(InsurancePage, ClaimPage);

#[derive(Template)]
#[template(path = "billing_insurance.html")]
pub(super) struct InsurancePage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    cash: Cash,
    desk: InsuranceDesk,
    ageing: Vec<AgeingLine>,
    leaks: Vec<Leak>,
    leak_from: NaiveDate,
    payers: Vec<Payer>,
    plans: Vec<Plan>,
    may_work: bool,
    may_approve: bool,
    may_admin: bool,
    /// The largest total owed, for the bars.
    top: i64,
}

impl InsurancePage {
    fn money(&self, minor: impl Amount) -> String {
        self.cash.fmt(minor.minor())
    }
    fn opt_money(&self, minor: &Option<i64>) -> String {
        minor.map(|m| self.cash.fmt(m)).unwrap_or_default()
    }
    fn bar(&self, minor: &i64) -> i64 {
        if self.top <= 0 { 0 } else { (minor * 100 / self.top).clamp(0, 100) }
    }
    fn buckets(&self) -> &'static [&'static str] {
        &AGE_BUCKETS
    }
    fn kind_label(&self, kind: &str) -> &'static str {
        SOURCES.iter().find(|(k, _)| *k == kind).map_or("Event", |(_, l)| *l)
    }
    fn categories(&self) -> &'static [ServiceCategory] {
        &ServiceCategory::ALL
    }
    fn payer_kinds(&self) -> &'static [PayerKind] {
        PayerKind::ALL
    }
    fn payer_name(&self, id: &Uuid) -> String {
        self.payers.iter().find(|p| p.id == *id).map(|p| p.name.clone()).unwrap_or_default()
    }
    fn is(&self, status: &ClaimStatus, name: &str) -> bool {
        status.as_str() == name
    }
}

pub(super) async fn desk(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
) -> Result<Response, PageError> {
    let billing = state.app.billing();
    let desk = billing.insurance_desk(&ctx).await?;
    let ageing = billing.insurer_ageing(&ctx).await?;
    let today = Utc::now().with_timezone(&state.app.time_zone).date_naive();
    let leak_from = today - Duration::days(30);
    let leaks = billing.leaks(&ctx, leak_from, today).await?;
    let top = ageing.iter().map(|a| a.total_minor).max().unwrap_or(0);
    Ok(render(
        StatusCode::OK,
        &InsurancePage {
            tz: state.app.time_zone,
            may_work: may(&page, Permission::InsuranceWork),
            may_approve: may(&page, Permission::BillingApprove),
            may_admin: may(&page, Permission::InsuranceAdmin),
            page,
            cash: Cash(state.app.currency),
            desk,
            ageing,
            leaks,
            leak_from,
            payers: billing.payers(&ctx).await?,
            plans: billing.plans(&ctx).await?,
            top,
        },
    ))
}

const DESK: &str = "/billing/insurance";

fn percent_bp(text: &str) -> Result<i64, salus_app::AppError> {
    salus_core::TaxRate::parse_percent(text, "copay")
        .map(|r| i64::from(r.basis_points()))
        .map_err(|e| salus_app::AppError::Invalid(vec![e]))
}

pub(super) async fn add_payer(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let input = PayerInput {
        code: field(&f, "code"),
        name: field(&f, "name"),
        kind: field(&f, "kind").parse().unwrap_or(PayerKind::Insurer),
        administrator_id: field(&f, "administrator_id").parse().ok(),
        contact: field(&f, "contact"),
    };
    let outcome = state.app.billing().add_payer(&ctx, input).await.map(|p| format!("{} added.", p.name));
    flash_outcome(&state, DESK, outcome)
}

pub(super) async fn add_plan(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let billing = state.app.billing();
    let outcome = match (percent_bp(&field(&f, "copay")), amount(&f, "limit", state.app.currency)) {
        (Ok(copay), Ok(limit)) => {
            let input = PlanInput {
                payer_id: field(&f, "payer_id").parse().unwrap_or_default(),
                code: field(&f, "code"),
                name: field(&f, "name"),
                covered: f
                    .iter()
                    .filter(|(k, _)| k == "covered")
                    .filter_map(|(_, v)| ServiceCategory::parse(v, "covered").ok())
                    .collect(),
                copay_bp: copay,
                limit_minor: (limit > 0).then_some(limit),
                preauth_required: field(&f, "preauth_required") == "on",
            };
            billing.add_plan(&ctx, input).await.map(|p| format!("Plan {} added.", p.name))
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    flash_outcome(&state, DESK, outcome)
}

pub(super) async fn add_policy(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let patient = id_of(&raw, "patient")?;
    let date = |name: &str| field(&f, name).parse::<NaiveDate>();
    let outcome = match (date("valid_from"), date("valid_to")) {
        (Ok(from), Ok(to)) => {
            let input = PolicyInput {
                plan_id: field(&f, "plan_id").parse().unwrap_or_default(),
                member_number: field(&f, "member_number"),
                holder: field(&f, "holder"),
                valid_from: from,
                valid_to: to,
            };
            state
                .app
                .billing()
                .add_policy(&ctx, patient, input)
                .await
                .map(|p| format!("Policy {} recorded.", p.member_number))
        }
        _ => Err(salus_app::AppError::field("valid_from", "give the dates the policy runs")),
    };
    flash_outcome(&state, &account_path(patient), outcome)
}

pub(super) async fn request_preauth(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let patient = id_of(&raw, "patient")?;
    let billing = state.app.billing();
    let outcome = match amount(&f, "amount", state.app.currency) {
        Ok(a) => {
            let input = PreauthInput {
                policy_id: field(&f, "policy_id").parse().unwrap_or_default(),
                admission_id: field(&f, "admission_id").parse().ok(),
                diagnosis: field(&f, "diagnosis"),
                requested_minor: a,
            };
            billing.request_preauth(&ctx, patient, input).await.map(|p| {
                format!("Pre-authorisation {} asked for {}.", p.number, billing.money(p.requested_minor))
            })
        }
        Err(e) => Err(e),
    };
    flash_outcome(&state, &account_path(patient), outcome)
}

pub(super) async fn attach(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let id = id_of(&raw, "pre-authorisation")?;
    let (mut data, mut name, mut back) = (None, String::new(), DESK.to_owned());
    while let Ok(Some(part)) = multipart.next_field().await {
        match part.name() {
            Some("file") => {
                name = part.file_name().unwrap_or("document").to_owned();
                data =
                    Some(part.bytes().await.map_err(|_| {
                        PageError::new(StatusCode::PAYLOAD_TOO_LARGE, "The file is too large.")
                    })?);
            }
            Some("back") => {
                let b = part.text().await.unwrap_or_default();
                if b.starts_with("/billing/") {
                    back = b;
                }
            }
            _ => {}
        }
    }
    let Some(data) = data.filter(|d| !d.is_empty()) else {
        return Ok(flash(&state, &back, "Not attached: choose a file first."));
    };
    let outcome = state
        .app
        .billing()
        .attach_to_preauth(&ctx, id, &name, &data)
        .await
        .map(|_| format!("{name} attached."));
    flash_outcome(&state, &back, outcome)
}

pub(super) async fn document(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path((raw, doc)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id = id_of(&raw, "pre-authorisation")?;
    let doc = id_of(&doc, "document")?;
    let (meta, bytes) = state.app.billing().preauth_document(&ctx, id, doc).await?;
    Ok(crate::api::clinical_attachment_response(&meta, bytes))
}

pub(super) async fn answer_preauth(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = id_of(&raw, "pre-authorisation")?;
    let billing = state.app.billing();
    let deny = field(&f, "outcome") == "deny";
    let outcome = match amount(&f, "approved", state.app.currency) {
        Ok(a) => {
            let answer = PreauthAnswer {
                approved_minor: if deny { None } else { Some(a) },
                reference: field(&f, "reference"),
                note: field(&f, "note"),
                version: field(&f, "version").parse().unwrap_or(0),
            };
            billing.answer_preauth(&ctx, id, answer).await.map(|p| match p.approved_minor {
                Some(a) => format!("{} approved for {}.", p.number, billing.money(a)),
                None => format!("{} denied.", p.number),
            })
        }
        Err(e) => Err(e),
    };
    flash_outcome(&state, DESK, outcome)
}

pub(super) async fn draft_claim(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let invoice = id_of(&raw, "invoice")?;
    let billing = state.app.billing();
    let policy = field(&f, "policy_id").parse().unwrap_or_default();
    match billing.draft_claim(&ctx, invoice, policy).await {
        Ok(c) => Ok(flash(
            &state,
            &format!("/billing/claims/{}", c.id),
            &format!(
                "Claim {} drafted: {} from the insurer, {} from the patient. Check it and submit.",
                c.number,
                billing.money(c.claimed_minor),
                billing.money(c.patient_share_minor)
            ),
        )),
        Err(e) => flash_outcome(&state, &field(&f, "back"), Err(e)),
    }
}

/// One form for every step of a claim, told apart by `step`.
pub(super) async fn claim_step(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = id_of(&raw, "claim")?;
    let billing = state.app.billing();
    let version = field(&f, "version").parse().unwrap_or(0);
    let money = |name: &str| amount(&f, name, state.app.currency);
    let outcome = match field(&f, "step").as_str() {
        "submit" => billing.submit_claim(&ctx, id, version).await,
        "close" => billing.close_claim(&ctx, id, version).await,
        "resubmit" => billing.resubmit_claim(&ctx, id, version).await,
        "decide" => match money("approved") {
            Ok(a) => {
                let d = ClaimDecision {
                    approved_minor: if field(&f, "outcome") == "deny" { 0 } else { a },
                    payer_reference: field(&f, "payer_reference"),
                    note: field(&f, "note"),
                    version,
                };
                billing.decide_claim(&ctx, id, d).await
            }
            Err(e) => Err(e),
        },
        "settle" => match money("received") {
            Ok(a) => {
                let s = Settlement {
                    received_minor: a,
                    reference: field(&f, "reference"),
                    note: field(&f, "note"),
                    version,
                };
                billing.settle_claim(&ctx, id, s).await
            }
            Err(e) => Err(e),
        },
        _ => Err(salus_app::AppError::field("step", "choose what to do with the claim")),
    };
    match outcome {
        Ok(c) => Ok(flash(
            &state,
            &format!("/billing/claims/{}", c.id),
            &format!("Claim {} (version {}) is {}.", c.number, c.claim_version, c.status.words()),
        )),
        Err(e) => flash_outcome(&state, &format!("/billing/claims/{id}"), Err(e)),
    }
}

#[derive(Template)]
#[template(path = "billing_claim.html")]
pub(super) struct ClaimPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    cash: Cash,
    d: ClaimDetail,
    may_work: bool,
}

impl ClaimPage {
    fn money(&self, minor: impl Amount) -> String {
        self.cash.fmt(minor.minor())
    }
    fn plain(&self, minor: impl Amount) -> String {
        salus_core::Money::from_minor(minor.minor()).plain(self.cash.0)
    }
    fn is(&self, name: &str) -> bool {
        self.d.claim.status.as_str() == name
    }
}

pub(super) async fn claim(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id = id_of(&raw, "claim")?;
    let d = state.app.billing().claim(&ctx, id).await?;
    Ok(render(
        StatusCode::OK,
        &ClaimPage {
            tz: state.app.time_zone,
            may_work: may(&page, Permission::InsuranceWork),
            page,
            cash: Cash(state.app.currency),
            d,
        },
    ))
}

pub(super) async fn exempt(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let source = field(&f, "source_id").parse().unwrap_or_default();
    let outcome = state
        .app
        .billing()
        .exempt(&ctx, &field(&f, "kind"), source, &field(&f, "reason"))
        .await
        .map(|()| "Exempted; it leaves the leak check.".to_owned());
    flash_outcome(&state, DESK, outcome)
}

/// What insurers owe by age, as CSV (amounts in major units, the currency named).
pub(super) async fn ageing_csv(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
) -> Result<Response, PageError> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let rows = state.app.billing().insurer_ageing(&ctx).await?;
    let currency = state.app.currency;
    let fail = |e: csv::Error| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head = vec!["insurer", "code", "claims"];
    head.extend(["days_0_30", "days_31_60", "days_61_90", "days_over_90", "total", "currency"]);
    w.write_record(&head).map_err(fail)?;
    let plain = |m: i64| salus_core::Money::from_minor(m).plain(currency);
    for a in &rows {
        let mut rec = vec![a.payer.name.clone(), a.payer.code.clone(), a.claims.to_string()];
        rec.extend(a.buckets.iter().map(|m| plain(*m)));
        rec.push(plain(a.total_minor));
        rec.push(currency.code().to_owned());
        w.write_record(&rec).map_err(fail)?;
    }
    let body =
        w.into_inner().map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let today = Utc::now().with_timezone(&state.app.time_zone).date_naive();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"insurer-ageing-{today}.csv\"")),
        ],
        body,
    )
        .into_response())
}
