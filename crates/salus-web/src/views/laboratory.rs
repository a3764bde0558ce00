//! The laboratory's pages: the lab's worklist, an order line's page (receive, reject,
//! enter, verify, correct, cancel), the specimen label with its Code 128 barcode, the
//! printable report, a patient's laboratory page (order, collect, the cumulative results
//! with trends) and the doctor's inbox of critical and new results.

use crate::access::{Access, Declared, route};
use crate::views::menu::Entry;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use salus_app::AppError;
use salus_app::identity::Permission;
use salus_app::laboratory::results::Entry as ResultEntry;
use salus_app::laboratory::{OrderDetail, WorkItem};
use salus_core::PatientId;
use salus_core::laboratory::{
    CriticalAlert, CumulativeRow, Flag, LabOrder, LabResult, LabTest, OrderStatus, Priority, RejectReason,
    ResultStatus, Specimen, SpecimenStatus, TestKind,
};
use serde::Deserialize;
use uuid::Uuid;

use super::clinical::refusal;
use super::{Form, Local, PageCtx, SignedIn, flash, render};
use crate::AppState;
use crate::error::PageError;

/// The pages of this module worth a link (see `menu`).
pub(super) const MENU: &[Entry] = &[
    Entry::page(
        "Laboratory",
        "/lab",
        "The lab's worklist: specimens to receive, results to enter and verify",
    ),
    Entry::page("Lab results", "/lab/inbox", "Critical results to acknowledge and new results to review"),
];

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/lab", Access::Permission(Permission::LabWork)),
    route("/lab/inbox", Access::Permission(Permission::LabOrder)),
    route("/lab/alerts/{id}/acknowledge", Access::Permission(Permission::LabOrder)).post(),
    route("/lab/orders/{id}", Access::SignedIn),
    route("/lab/orders/{id}/report", Access::SignedIn),
    route("/lab/orders/{id}/{action}", Access::SignedIn).post().example("/lab/orders/{id}/verify"),
    route("/lab/specimens/{id}/label", Access::SignedIn),
    route("/lab/specimens/{id}/{action}", Access::Permission(Permission::LabWork))
        .post()
        .example("/lab/specimens/{id}/receive"),
    route("/patients/{id}/lab", Access::SignedIn),
    route("/patients/{id}/lab/{action}", Access::SignedIn).post().example("/patients/{id}/lab/order"),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/lab", get(worklist_page))
        .route("/lab/inbox", get(inbox_page))
        .route("/lab/alerts/{id}/acknowledge", post(acknowledge))
        .route("/lab/orders/{id}", get(order_page))
        .route("/lab/orders/{id}/report", get(report_page))
        .route("/lab/orders/{id}/{action}", post(order_action))
        .route("/lab/specimens/{id}/label", get(label_page))
        .route("/lab/specimens/{id}/{action}", post(specimen_action))
        .route("/patients/{id}/lab", get(patient_lab_page))
        .route("/patients/{id}/lab/{action}", post(patient_lab_action))
}

fn not_found(what: &str) -> PageError {
    PageError::new(StatusCode::NOT_FOUND, format!("There is no such {what}."))
}

/// The worklist's tabs: (status, label).
const TABS: &[(OrderStatus, &str)] = &[
    (OrderStatus::Ordered, "To collect"),
    (OrderStatus::Collected, "To receive"),
    (OrderStatus::Received, "To enter"),
    (OrderStatus::Resulted, "To verify"),
    (OrderStatus::Verified, "Released"),
];

#[derive(Template)]
#[template(path = "lab_worklist.html")]
struct WorklistPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    items: Vec<WorkItem>,
    status: Option<OrderStatus>,
    section: String,
    sections: Vec<String>,
    /// The page shown (from 0), and whether another follows.
    at: u64,
    more: bool,
}

/// Lines on a page of the worklist.
const PAGE: u64 = 50;

impl WorklistPage {
    /// The query string of page `n` with the same filters.
    fn page_link(&self, n: u64) -> String {
        let mut q = format!("/lab?page={n}");
        if let Some(s) = self.status {
            q.push_str(&format!("&status={s}"));
        }
        if !self.section.is_empty() {
            q.push_str(&format!("&section={}", self.section));
        }
        q
    }
    fn tabs(&self) -> &'static [(OrderStatus, &'static str)] {
        TABS
    }
    fn is_tab(&self, s: &OrderStatus) -> bool {
        self.status == Some(*s)
    }
    fn age(&self, at: &DateTime<Utc>) -> String {
        let m = (Utc::now() - *at).num_minutes().max(0);
        if m < 60 {
            format!("{m} min")
        } else if m < 48 * 60 {
            format!("{} h", m / 60)
        } else {
            format!("{} d", m / 1440)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WorklistQuery {
    status: String,
    section: String,
    page: u64,
}

/// The lab's worklist, stat first.
async fn worklist_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<WorklistQuery>,
) -> Result<Response, PageError> {
    let status = q.status.parse::<OrderStatus>().ok();
    let lab = state.app.laboratory();
    let statuses: Vec<OrderStatus> = status.into_iter().collect();
    let (items, more) =
        lab.worklist(&ctx, &statuses, Some(q.section.as_str()), PAGE, q.page.saturating_mul(PAGE)).await?;
    let mut sections: Vec<String> = lab.catalog(&ctx, false).await?.into_iter().map(|t| t.section).collect();
    sections.sort();
    sections.dedup();
    Ok(render(
        StatusCode::OK,
        &WorklistPage {
            tz: state.app.time_zone,
            page,
            items,
            status,
            section: q.section,
            sections,
            at: q.page,
            more,
        },
    ))
}

#[derive(Template)]
#[template(path = "lab_order.html")]
struct OrderPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    d: OrderDetail,
    /// Entry errors by analyte code.
    errors: Vec<(String, String)>,
    /// What was typed, by test id, when the form comes back with errors.
    typed: Vec<(Uuid, String)>,
    may_work: bool,
    may_verify: bool,
    may_order: bool,
}

impl OrderPage {
    fn flag_class(&self, f: &Option<Flag>) -> &'static str {
        flag_class(f)
    }
    fn error_for(&self, code: &str) -> Option<&str> {
        self.errors.iter().find(|(c, _)| c == code).map(|(_, m)| m.as_str())
    }
    fn typed_for(&self, test: &LabTest, result: &Option<LabResult>) -> String {
        self.typed
            .iter()
            .find(|(t, _)| *t == test.id)
            .map(|(_, v)| v.clone())
            .or_else(|| result.as_ref().map(LabResult::value))
            .unwrap_or_default()
    }
    fn may_enter(&self) -> bool {
        self.may_work && matches!(self.d.order.status, OrderStatus::Received | OrderStatus::Resulted)
    }
    fn may_amend(&self) -> bool {
        self.may_work && self.d.order.status == OrderStatus::Verified
    }
    fn may_cancel(&self) -> bool {
        (self.may_work || self.may_order)
            && !matches!(self.d.order.status, OrderStatus::Verified | OrderStatus::Cancelled)
    }
    fn reasons(&self) -> &'static [RejectReason] {
        RejectReason::ALL
    }
    fn specimen_collected(&self) -> bool {
        self.d.specimen.as_ref().is_some_and(|s| s.status == SpecimenStatus::Collected)
    }
    fn specimen_rejectable(&self) -> bool {
        self.d.specimen.as_ref().is_some_and(|s| s.status != SpecimenStatus::Rejected)
            && matches!(self.d.order.status, OrderStatus::Collected | OrderStatus::Received)
    }
}

local!(WorklistPage, OrderPage, LabelPage, ReportPage, PatientLabPage, InboxPage);

/// The badge a flag wears: critical in red, the rest amber.
fn flag_class(f: &Option<Flag>) -> &'static str {
    match f {
        Some(f) if f.is_critical() => "badge danger",
        Some(_) => "badge warn",
        None => "",
    }
}

async fn render_order(
    state: &AppState,
    ctx: &salus_app::Ctx,
    page: PageCtx,
    id: Uuid,
    errors: Vec<(String, String)>,
    typed: Vec<(Uuid, String)>,
) -> Result<Response, PageError> {
    let d = state.app.laboratory().order(ctx, id).await?;
    let user = page.user.as_ref();
    let may = |p: Permission| user.is_some_and(|u| u.may(p));
    let (may_work, may_verify, may_order) =
        (may(Permission::LabWork), may(Permission::LabVerify), may(Permission::LabOrder));
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(render(
        status,
        &OrderPage { tz: state.app.time_zone, page, d, errors, typed, may_work, may_verify, may_order },
    ))
}

/// An order line: its patient, specimen, analytes, and what the signed-in user may do.
async fn order_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("order"))?;
    render_order(&state, &ctx, page, id, Vec::new(), Vec::new()).await
}

/// The order page's forms: results (`value_<test id>` fields), verify, cancel.
async fn order_action(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path((raw, action)): Path<(String, String)>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("order"))?;
    let field = |name: &str| f.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let lab = state.app.laboratory();
    let back = format!("/lab/orders/{id}");
    let outcome = match action.as_str() {
        "results" => {
            let entries: Vec<ResultEntry> = f
                .iter()
                .filter_map(|(k, v)| {
                    let test_id = k.strip_prefix("value_")?.parse().ok()?;
                    Some(ResultEntry { test_id, value: v.clone() })
                })
                .collect();
            let reason = field("amend_reason");
            let amend = (!reason.trim().is_empty() || field("amend") == "true").then_some(reason.as_str());
            match lab.enter_results(&ctx, id, &entries, amend).await {
                Ok(_) => Ok("Results saved; a second person verifies them.".to_owned()),
                Err(AppError::Invalid(errors)) => {
                    // Back to the form, each message beside its analyte.
                    let errors = errors
                        .into_iter()
                        .map(|e| match e.message.split_once(": ") {
                            Some((code, m)) if e.field == "results" => (code.to_owned(), m.to_owned()),
                            _ => (e.field.to_owned(), e.message),
                        })
                        .collect();
                    let typed = entries.into_iter().map(|e| (e.test_id, e.value)).collect();
                    return render_order(&state, &ctx, page, id, errors, typed).await;
                }
                Err(e) => Err(e),
            }
        }
        "verify" => lab.verify(&ctx, id).await.map(|_| "Verified and released.".to_owned()),
        "cancel" => {
            lab.cancel_order(&ctx, id, &field("reason")).await.map(|o| format!("Cancelled {}.", o.test_name))
        }
        _ => return Err(not_found("action")),
    };
    super::clinical::flash_outcome(&state, &back, outcome)
}

/// Receive or reject a specimen.
async fn specimen_action(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path((raw, action)): Path<(String, String)>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("specimen"))?;
    let field = |name: &str| f.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let back = field("back");
    let back = if back.starts_with("/lab") { back } else { "/lab".to_owned() };
    let lab = state.app.laboratory();
    let outcome = match action.as_str() {
        "receive" => lab.receive(&ctx, id).await.map(|s| format!("Received {}.", s.accession)),
        "reject" => match RejectReason::parse(&field("reason"), "reason") {
            Ok(reason) => lab
                .reject(&ctx, id, reason, &field("note"))
                .await
                .map(|s| format!("Rejected {} ({}): collect again.", s.accession, reason.words())),
            Err(e) => Err(AppError::Invalid(vec![e])),
        },
        _ => return Err(not_found("action")),
    };
    super::clinical::flash_outcome(&state, &back, outcome)
}

#[derive(Template)]
#[template(path = "lab_label.html")]
struct LabelPage {
    tz: chrono_tz::Tz,
    specimen: Specimen,
    patient: salus_app::laboratory::LabPatient,
    tests: Vec<String>,
    barcode: String,
}

/// A specimen's label, sized for a 50 × 25 mm label printer, with its Code 128 barcode.
async fn label_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("specimen"))?;
    let (specimen, patient, tests) = state.app.laboratory().specimen(&ctx, id).await?;
    let barcode = code128_svg(&specimen.accession)?;
    Ok(render(StatusCode::OK, &LabelPage { tz: state.app.time_zone, specimen, patient, tests, barcode }))
}

/// An accession number as a Code 128 (set B) barcode in SVG.
fn code128_svg(text: &str) -> Result<String, PageError> {
    use barcoders::generators::svg::SVG;
    use barcoders::sym::code128::Code128;
    let bad = |_| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, "The barcode could not be drawn.");
    let code = Code128::new(format!("\u{0181}{text}")).map_err(bad)?;
    SVG::new(60).xdim(2).generate(code.encode()).map_err(bad)
}

#[derive(Template)]
#[template(path = "lab_report.html")]
struct ReportPage {
    tz: chrono_tz::Tz,
    d: OrderDetail,
    facility: String,
    verifiers: Vec<(Uuid, String)>,
}

impl ReportPage {
    fn who(&self, id: Option<Uuid>) -> String {
        id.and_then(|i| self.verifiers.iter().find(|(u, _)| *u == i).map(|(_, n)| n.clone()))
            .unwrap_or_default()
    }
    /// "Entered by … · verified by … on …" for a result.
    fn signed(&self, r: &LabResult) -> String {
        let on = r.verified_at.map(|v| format!(" on {}", self.at_y(&v))).unwrap_or_default();
        format!("Entered by {} · verified by {}{on}", self.who(Some(r.entered_by)), self.who(r.verified_by))
    }
}

/// The printable report of a released order line.
async fn report_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("order"))?;
    let d = state.app.laboratory().order(&ctx, id).await?;
    if d.order.status != OrderStatus::Verified {
        return Err(PageError::new(
            StatusCode::CONFLICT,
            "The report is printed once the results are verified.",
        ));
    }
    let op = salus_app::Ctx::operator();
    let facility = super::letterhead(&state).await?;
    let mut verifiers = Vec::new();
    for a in &d.analytes {
        if let Some(r) = &a.result {
            for u in [r.verified_by, Some(r.entered_by)].into_iter().flatten() {
                if !verifiers.iter().any(|(x, _): &(Uuid, String)| *x == u)
                    && let Ok(user) = state.app.identity().user(&op, salus_core::UserId::from_uuid(u)).await
                {
                    verifiers.push((u, user.display_name));
                }
            }
        }
    }
    Ok(render(StatusCode::OK, &ReportPage { tz: state.app.time_zone, d, facility, verifiers }))
}

#[derive(Template)]
#[template(path = "lab_patient.html")]
struct PatientLabPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    patient: PatientId,
    who: salus_app::laboratory::LabPatient,
    encounter: Option<Uuid>,
    orders: Vec<LabOrder>,
    catalog: Vec<LabTest>,
    times: Vec<DateTime<Utc>>,
    rows: Vec<CumulativeRow>,
    unreviewed: Vec<Uuid>,
    may_order: bool,
    may_collect: bool,
}

impl PatientLabPage {
    fn flag_class(&self, f: &Option<Flag>) -> &'static str {
        flag_class(f)
    }
    fn priorities(&self) -> &'static [Priority] {
        Priority::ALL
    }
    fn waiting(&self) -> Vec<&LabOrder> {
        self.orders.iter().filter(|o| o.status == OrderStatus::Ordered).collect()
    }
    fn panels(&self) -> Vec<&LabTest> {
        self.catalog.iter().filter(|t| t.kind == TestKind::Panel).collect()
    }
    /// Single tests by bench (calculated ones are not ordered on their own).
    fn sections(&self) -> Vec<(String, Vec<&LabTest>)> {
        let mut out: Vec<(String, Vec<&LabTest>)> = Vec::new();
        for t in self.catalog.iter().filter(|t| t.kind == TestKind::Analyte && t.formula.is_none()) {
            match out.iter_mut().find(|(s, _)| *s == t.section) {
                Some((_, list)) => list.push(t),
                None => out.push((t.section.clone(), vec![t])),
            }
        }
        out
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PatientLabQuery {
    encounter: Option<Uuid>,
}

/// A patient's laboratory: order, collect, and the cumulative results with trends.
async fn patient_lab_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
    Query(q): Query<PatientLabQuery>,
) -> Result<Response, PageError> {
    let patient: PatientId = raw.parse().map_err(|_| not_found("patient"))?;
    let lab = state.app.laboratory();
    let (who, orders) = lab.orders_of(&ctx, patient).await?;
    let user = page.user.as_ref();
    let may = |p: Permission| user.is_some_and(|u| u.may(p));
    let (may_order, may_collect) = (may(Permission::LabOrder), may(Permission::LabCollect));
    let results = if may(Permission::ClinicalRead) || user.is_some_and(|u| u.patient_id == Some(patient)) {
        lab.results_of(&ctx, patient).await?
    } else {
        Vec::new()
    };
    let unreviewed = results.iter().filter(|r| r.reviewed_at.is_none()).map(|r| r.id).collect();
    let (times, rows) = salus_core::laboratory::cumulative(&results, 12);
    let catalog = if may_order { lab.catalog(&ctx, false).await? } else { Vec::new() };
    Ok(render(
        StatusCode::OK,
        &PatientLabPage {
            tz: state.app.time_zone,
            page,
            patient,
            who,
            encounter: q.encounter,
            orders,
            catalog,
            times,
            rows,
            unreviewed,
            may_order,
            may_collect,
        },
    ))
}

/// A patient's lab forms: order tests, collect specimens, mark results reviewed.
async fn patient_lab_action(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path((raw, action)): Path<(String, String)>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let patient: PatientId = raw.parse().map_err(|_| not_found("patient"))?;
    let field = |name: &str| f.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let ids = |name: &str| -> Vec<Uuid> {
        f.iter().filter(|(k, _)| k == name).filter_map(|(_, v)| v.parse().ok()).collect()
    };
    let lab = state.app.laboratory();
    // The inbox's "Reviewed" returns to the inbox; the rest to the patient's page.
    let back = if field("back") == "/lab/inbox" {
        "/lab/inbox".to_owned()
    } else {
        format!("/patients/{patient}/lab")
    };
    let outcome = match action.as_str() {
        "order" => {
            let input = salus_app::laboratory::orders::NewOrder {
                encounter_id: field("encounter_id").parse().ok(),
                test_ids: ids("test_ids"),
                priority: field("priority").parse().ok(),
                clinical_info: field("clinical_info"),
                override_reason: field("override_reason"),
            };
            match lab.place_order(&ctx, patient, input).await {
                Ok(rows) => Ok(format!(
                    "Ordered {}.",
                    rows.iter().map(|o| o.test_name.as_str()).collect::<Vec<_>>().join(", ")
                )),
                Err(AppError::ClinicalWarnings(w)) => Ok(format!(
                    "Not ordered: {}. To order anyway, tick the tests again and give a reason.",
                    w.join("; ")
                )),
                Err(e) => Err(e),
            }
        }
        "collect" => lab.collect(&ctx, patient, &ids("order_ids")).await.map(|s| {
            let numbers: Vec<String> =
                s.iter().map(|s| format!("{} ({})", s.accession, s.container)).collect();
            format!("Collected: {}. Print the labels from the order pages.", numbers.join(", "))
        }),
        "reviewed" => lab
            .mark_reviewed(&ctx, patient, &ids("result_ids"))
            .await
            .map(|n| format!("Marked {n} result(s) reviewed.")),
        _ => return Err(not_found("action")),
    };
    super::clinical::flash_outcome(&state, &back, outcome)
}

#[derive(Template)]
#[template(path = "lab_inbox.html")]
struct InboxPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    alerts: Vec<(CriticalAlert, salus_app::laboratory::LabPatient)>,
    results: Vec<(LabResult, salus_app::laboratory::LabPatient)>,
    orders: Vec<(Uuid, String)>,
}

/// One order line's new results in the doctor's inbox.
struct InboxGroup<'a> {
    order_id: Uuid,
    test: &'a str,
    patient: &'a salus_app::laboratory::LabPatient,
    released: Option<DateTime<Utc>>,
    /// "Potassium 6.8 mmol/L HH", the abnormal ones.
    abnormal: Vec<(String, Option<Flag>)>,
    normal: usize,
    ids: Vec<Uuid>,
}

impl InboxPage {
    fn flag_class(&self, f: &Option<Flag>) -> &'static str {
        flag_class(f)
    }

    /// The new results by order line, newest release first.
    fn groups(&self) -> Vec<InboxGroup<'_>> {
        let mut out: Vec<InboxGroup<'_>> = Vec::new();
        for (r, p) in &self.results {
            let i = match out.iter().position(|g| g.order_id == r.order_id) {
                Some(i) => i,
                None => {
                    let test =
                        self.orders.iter().find(|(o, _)| *o == r.order_id).map_or("", |(_, n)| n.as_str());
                    let group = InboxGroup {
                        order_id: r.order_id,
                        test,
                        patient: p,
                        released: r.verified_at,
                        abnormal: Vec::new(),
                        normal: 0,
                        ids: Vec::new(),
                    };
                    out.push(group);
                    out.len() - 1
                }
            };
            let g = &mut out[i];
            g.ids.push(r.id);
            if r.flag.is_some() {
                g.abnormal.push((format!("{} {} {}", r.analyte, r.value(), r.unit_text()), r.flag));
            } else {
                g.normal += 1;
            }
        }
        out
    }
}

/// The doctor's inbox: critical results to acknowledge, released results to review.
async fn inbox_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
) -> Result<Response, PageError> {
    let i = state.app.laboratory().inbox(&ctx).await?;
    Ok(render(
        StatusCode::OK,
        &InboxPage { tz: state.app.time_zone, page, alerts: i.alerts, results: i.results, orders: i.orders },
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AckForm {
    read_back: String,
}

async fn acknowledge(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<AckForm>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("alert"))?;
    let text = match state.app.laboratory().acknowledge(&ctx, id, &f.read_back).await {
        Ok(a) => format!("Acknowledged: {}.", a.summary),
        Err(e) => refusal(e)?,
    };
    Ok(flash(&state, "/lab/inbox", &text))
}
