//! Imaging's pages: the worklist (book, perform), an examination's page (images, the
//! report's draft, authorisation and amendment, cancel), the printable report, a
//! patient's imaging page (order, the reports) and the doctor's inbox of new reports.

use crate::access::{Access, Declared, route};
use crate::views::menu::Entry;
use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use salus_app::AppError;
use salus_app::identity::Permission;
use salus_app::imaging::reports::ReportText;
use salus_app::imaging::{StudyDetail, StudyItem};
use salus_app::laboratory::LabPatient;
use salus_core::PatientId;
use salus_core::imaging::{
    ImagingOrder, ImagingProcedure, ImagingReport, ImagingStatus, Laterality, Modality, ReportStatus,
};
use salus_core::laboratory::Priority;
use serde::Deserialize;
use uuid::Uuid;

use super::clinical::refusal;
use super::{Form, Local, PageCtx, SignedIn, flash, render};
use crate::AppState;
use crate::error::PageError;

/// The pages of this module worth a link (see `menu`).
pub(super) const MENU: &[Entry] = &[
    Entry::page("Imaging", "/imaging", "The imaging worklist: examinations to book, perform and report"),
    Entry::page("Imaging reports", "/imaging/inbox", "New imaging reports of your patients to review"),
];

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/imaging", Access::Permission(Permission::ImagingWork)),
    route("/imaging/inbox", Access::Permission(Permission::ImagingOrder)),
    route("/imaging/orders/{id}", Access::SignedIn),
    route("/imaging/orders/{id}/print", Access::SignedIn),
    route("/imaging/orders/{id}/images", Access::Permission(Permission::ImagingWork)).post(),
    route("/imaging/orders/{id}/images/{image}", Access::SignedIn)
        .example("/imaging/orders/{id}/images/0190a0b0-0000-7000-8000-000000000001"),
    route("/imaging/orders/{id}/{action}", Access::SignedIn).post().example("/imaging/orders/{id}/perform"),
    route("/patients/{id}/imaging", Access::SignedIn),
    route("/patients/{id}/imaging/{action}", Access::SignedIn).post().example("/patients/{id}/imaging/order"),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/imaging", get(worklist_page))
        .route("/imaging/inbox", get(inbox_page))
        .route("/imaging/orders/{id}", get(study_page))
        .route("/imaging/orders/{id}/print", get(print_page))
        .route("/imaging/orders/{id}/images", post(add_image))
        .route("/imaging/orders/{id}/images/{image}", get(image))
        .route("/imaging/orders/{id}/{action}", post(study_action))
        .route("/patients/{id}/imaging", get(patient_page))
        .route("/patients/{id}/imaging/{action}", post(patient_action))
}

fn not_found(what: &str) -> PageError {
    PageError::new(StatusCode::NOT_FOUND, format!("There is no such {what}."))
}

local!(WorklistPage, StudyPage, PrintPage, PatientPage, InboxPage);

/// Who did something, on a page of one examination.
trait People {
    fn detail(&self) -> &StudyDetail;
    fn by(&self, id: &Uuid) -> String {
        self.detail().who(Some(*id))
    }
    fn by_opt(&self, id: &Option<Uuid>) -> String {
        self.detail().who(*id)
    }
}

impl People for StudyPage {
    fn detail(&self) -> &StudyDetail {
        &self.d
    }
}

impl People for PrintPage {
    fn detail(&self) -> &StudyDetail {
        &self.d
    }
}

/// The worklist's tabs: (status, label).
const TABS: &[(ImagingStatus, &str)] = &[
    (ImagingStatus::Ordered, "To book"),
    (ImagingStatus::Scheduled, "Booked"),
    (ImagingStatus::Performed, "To report"),
    (ImagingStatus::Reported, "To authorise"),
    (ImagingStatus::Final, "Reported"),
];

#[derive(Template)]
#[template(path = "imaging_worklist.html")]
struct WorklistPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    items: Vec<StudyItem>,
    status: Option<ImagingStatus>,
    modality: Option<Modality>,
    /// The page shown (from 0), and whether another follows.
    at: u64,
    more: bool,
}

/// Orders on a page of the worklist.
const PAGE: u64 = 50;

impl WorklistPage {
    /// Page `n` with the same filters.
    fn page_link(&self, n: u64) -> String {
        let status = self.status.map(|s| format!("&status={s}")).unwrap_or_default();
        format!("/imaging?page={n}{status}{}", self.modality_query())
    }
    fn tabs(&self) -> &'static [(ImagingStatus, &'static str)] {
        TABS
    }
    fn is_tab(&self, s: &ImagingStatus) -> bool {
        self.status == Some(*s)
    }
    fn modalities(&self) -> &'static [Modality] {
        Modality::ALL
    }
    fn is_modality(&self, m: &Modality) -> bool {
        self.modality == Some(*m)
    }
    fn modality_query(&self) -> String {
        self.modality.map(|m| format!("&modality={m}")).unwrap_or_default()
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WorklistQuery {
    status: String,
    modality: String,
    page: u64,
}

/// The imaging worklist: stat first, then by booked time.
async fn worklist_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<WorklistQuery>,
) -> Result<Response, PageError> {
    let status = q.status.parse::<ImagingStatus>().ok();
    let modality = q.modality.parse::<Modality>().ok();
    let statuses: Vec<ImagingStatus> = status.into_iter().collect();
    let (items, more) =
        state.app.imaging().worklist(&ctx, &statuses, modality, PAGE, q.page.saturating_mul(PAGE)).await?;
    Ok(render(
        StatusCode::OK,
        &WorklistPage { tz: state.app.time_zone, page, items, status, modality, at: q.page, more },
    ))
}

#[derive(Template)]
#[template(path = "imaging_study.html")]
struct StudyPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    d: StudyDetail,
    history: Vec<ImagingReport>,
    may_work: bool,
    may_report: bool,
    may_order: bool,
    /// Suggested start for booking, local "YYYY-MM-DDTHH:MM".
    suggested: String,
    /// A refused report form's messages by field, and what was typed (findings,
    /// impression, reason), so nothing written is lost.
    errors: Vec<(String, String)>,
    typed: Option<(String, String, String)>,
}

impl StudyPage {
    fn may_book(&self) -> bool {
        self.may_work && matches!(self.d.order.status, ImagingStatus::Ordered | ImagingStatus::Scheduled)
    }
    fn may_cancel(&self) -> bool {
        (self.may_work || self.may_order) && ImagingStatus::CANCELLABLE.contains(&self.d.order.status)
    }
    fn may_add_images(&self) -> bool {
        self.may_work
            && matches!(
                self.d.order.status,
                ImagingStatus::Performed | ImagingStatus::Reported | ImagingStatus::Final
            )
    }
    fn may_write(&self) -> bool {
        self.may_report
            && (self.d.order.status == ImagingStatus::Performed
                || self.d.report.as_ref().is_some_and(|r| r.status == ReportStatus::Preliminary))
    }
    fn may_amend(&self) -> bool {
        self.may_report && self.d.report.as_ref().is_some_and(|r| r.status == ReportStatus::Final)
    }
    fn findings(&self) -> &str {
        match &self.typed {
            Some((f, _, _)) => f,
            None => self.d.report.as_ref().map_or("", |r| r.findings.as_str()),
        }
    }
    fn impression(&self) -> &str {
        match &self.typed {
            Some((_, i, _)) => i,
            None => self.d.report.as_ref().map_or("", |r| r.impression.as_str()),
        }
    }
    fn reason(&self) -> &str {
        self.typed.as_ref().map_or("", |(_, _, r)| r.as_str())
    }
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }
    /// The amendment form opens by itself when it comes back refused.
    fn amending(&self) -> bool {
        self.error_for("amend_reason").is_some() || (self.may_amend() && self.typed.is_some())
    }
    fn is_image(&self, content_type: &str) -> bool {
        content_type.starts_with("image/")
    }
}

async fn study_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("examination"))?;
    render_study(&state, &ctx, page, id, Vec::new(), None).await
}

async fn render_study(
    state: &AppState,
    ctx: &salus_app::Ctx,
    page: PageCtx,
    id: Uuid,
    errors: Vec<(String, String)>,
    typed: Option<(String, String, String)>,
) -> Result<Response, PageError> {
    let imaging = state.app.imaging();
    let d = imaging.study(ctx, id).await?;
    let history = if d.report_revisions > 1 { imaging.report_history(ctx, id).await? } else { Vec::new() };
    let may = |p: Permission| page.user.as_ref().is_some_and(|u| u.may(p));
    let (may_work, may_report, may_order) =
        (may(Permission::ImagingWork), may(Permission::ImagingReport), may(Permission::ImagingOrder));
    let next_hour = Utc::now() + chrono::Duration::minutes(60);
    let suggested = next_hour.with_timezone(&state.app.time_zone).format("%Y-%m-%dT%H:00").to_string();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(render(
        status,
        &StudyPage {
            tz: state.app.time_zone,
            page,
            d,
            history,
            may_work,
            may_report,
            may_order,
            suggested,
            errors,
            typed,
        },
    ))
}

/// The examination page's forms: schedule, perform, cancel, report, authorise, amend.
async fn study_action(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path((raw, action)): Path<(String, String)>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("examination"))?;
    let field = |name: &str| f.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let imaging = state.app.imaging();
    let back = format!("/imaging/orders/{id}");
    let text = || ReportText { findings: field("findings"), impression: field("impression") };
    let outcome = match action.as_str() {
        "schedule" => match local_time(&field("scheduled_at"), state.app.time_zone) {
            Some(at) => imaging
                .schedule(&ctx, id, at, &field("room"))
                .await
                .map(|o| format!("Booked {} in {}.", o.title(), o.room.unwrap_or_default())),
            None => Err(AppError::field("scheduled_at", "choose a day and a time")),
        },
        "perform" => imaging
            .perform(&ctx, id, &field("note"))
            .await
            .map(|o| format!("{} recorded as performed; add its images, then report it.", o.title())),
        "cancel" => {
            imaging.cancel(&ctx, id, &field("reason")).await.map(|o| format!("Cancelled {}.", o.title()))
        }
        "report" => imaging
            .write_report(&ctx, id, text())
            .await
            .map(|_| "Draft saved; authorise it to release it.".to_owned()),
        // From the report form: what is in the boxes is saved first, so nothing typed since
        // the last save is lost, then authorised.
        "authorise" => {
            let typed = !(field("findings").trim().is_empty() && field("impression").trim().is_empty());
            let saved = if typed { imaging.write_report(&ctx, id, text()).await.map(|_| ()) } else { Ok(()) };
            match saved {
                Ok(()) => imaging
                    .authorise(&ctx, id)
                    .await
                    .map(|_| "Authorised and released to the chart.".to_owned()),
                Err(e) => Err(e),
            }
        }
        "amend" => imaging
            .amend(&ctx, id, text(), &field("amend_reason"))
            .await
            .map(|r| format!("Amended (version {}).", r.revision)),
        _ => return Err(not_found("action")),
    };
    let text = match outcome {
        Ok(t) => t,
        // A refused report keeps what was written, each message beside its field.
        Err(AppError::Invalid(errors)) if matches!(action.as_str(), "report" | "authorise" | "amend") => {
            let errors = errors.into_iter().map(|e| (e.field.to_owned(), e.message)).collect();
            let typed = (field("findings"), field("impression"), field("amend_reason"));
            return render_study(&state, &ctx, page, id, errors, Some(typed)).await;
        }
        Err(e) => refusal(e)?,
    };
    Ok(flash(&state, &back, &text))
}

/// "2026-11-30T14:30" typed in the facility's time zone, as a moment.
fn local_time(text: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M").ok()?;
    tz.from_local_datetime(&naive).earliest().map(|t| t.with_timezone(&Utc))
}

async fn add_image(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("examination"))?;
    let (mut data, mut name) = (None, String::new());
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("file") {
            name = field.file_name().unwrap_or("image").to_owned();
            data = Some(
                field
                    .bytes()
                    .await
                    .map_err(|_| PageError::new(StatusCode::PAYLOAD_TOO_LARGE, "The file is too large."))?,
            );
        }
    }
    let back = format!("/imaging/orders/{id}");
    let Some(data) = data.filter(|d| !d.is_empty()) else {
        return Ok(flash(&state, &back, "Not saved: choose a file first."));
    };
    let text = match state.app.imaging().add_image(&ctx, id, &name, &data).await {
        Ok(a) => format!("{} added to the examination.", a.filename),
        Err(e) => refusal(e)?,
    };
    Ok(flash(&state, &back, &text))
}

async fn image(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path((raw, image)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("examination"))?;
    let image: Uuid = image.parse().map_err(|_| not_found("image"))?;
    let (meta, bytes) = state.app.imaging().image(&ctx, id, image).await?;
    Ok(crate::api::clinical_attachment_response(&meta, bytes))
}

#[derive(Template)]
#[template(path = "imaging_print.html")]
struct PrintPage {
    tz: chrono_tz::Tz,
    d: StudyDetail,
    report: ImagingReport,
    facility: String,
}

/// The authorised report, on the facility's letterhead.
async fn print_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("examination"))?;
    let d = state.app.imaging().study(&ctx, id).await?;
    let Some(report) = d.report.clone().filter(|r| r.status == ReportStatus::Final) else {
        return Err(PageError::new(StatusCode::CONFLICT, "The report is printed once it is authorised."));
    };
    let facility = super::letterhead(&state).await?;
    Ok(render(StatusCode::OK, &PrintPage { tz: state.app.time_zone, d, report, facility }))
}

#[derive(Template)]
#[template(path = "imaging_patient.html")]
struct PatientPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    patient: PatientId,
    who: LabPatient,
    encounter: Option<Uuid>,
    orders: Vec<ImagingOrder>,
    catalog: Vec<ImagingProcedure>,
    may_order: bool,
    /// A refused order form: messages by field, and what was chosen and typed.
    errors: Vec<(String, String)>,
    typed: Vec<(String, String)>,
}

impl PatientPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }
    fn typed(&self, field: &str) -> &str {
        self.typed.iter().find(|(f, _)| f == field).map_or("", |(_, v)| v.as_str())
    }
    fn chosen(&self, field: &str, value: &str) -> bool {
        self.typed(field) == value
    }
    fn priorities(&self) -> &'static [Priority] {
        Priority::ALL
    }
    fn sides(&self) -> &'static [Laterality] {
        Laterality::ALL
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PatientQuery {
    encounter: Option<Uuid>,
}

/// A patient's imaging: order an examination, and every examination with its state.
async fn patient_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
    Query(q): Query<PatientQuery>,
) -> Result<Response, PageError> {
    let patient: PatientId = raw.parse().map_err(|_| not_found("patient"))?;
    render_patient(&state, &ctx, page, patient, q.encounter, Vec::new(), Vec::new()).await
}

async fn render_patient(
    state: &AppState,
    ctx: &salus_app::Ctx,
    page: PageCtx,
    patient: PatientId,
    encounter: Option<Uuid>,
    errors: Vec<(String, String)>,
    typed: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let imaging = state.app.imaging();
    let (who, orders) = imaging.orders_of(ctx, patient).await?;
    let may_order = page.user.as_ref().is_some_and(|u| u.may(Permission::ImagingOrder));
    let catalog = if may_order { imaging.procedures(ctx, false).await? } else { Vec::new() };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(render(
        status,
        &PatientPage {
            tz: state.app.time_zone,
            page,
            patient,
            who,
            encounter,
            orders,
            catalog,
            may_order,
            errors,
            typed,
        },
    ))
}

/// A patient's imaging forms: order an examination, mark reports reviewed.
async fn patient_action(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path((raw, action)): Path<(String, String)>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let patient: PatientId = raw.parse().map_err(|_| not_found("patient"))?;
    let field = |name: &str| f.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let imaging = state.app.imaging();
    let back = if field("back") == "/imaging/inbox" {
        "/imaging/inbox".to_owned()
    } else {
        format!("/patients/{patient}/imaging")
    };
    let outcome = match action.as_str() {
        "order" => {
            let side = field("laterality");
            let laterality = if side.is_empty() {
                Ok(None)
            } else {
                Laterality::parse(&side, "laterality").map(Some).map_err(|e| AppError::Invalid(vec![e]))
            };
            match laterality {
                Err(e) => Err(e),
                Ok(laterality) => {
                    let input = salus_app::imaging::orders::NewImagingOrder {
                        encounter_id: field("encounter_id").parse().ok(),
                        procedure_id: field("procedure_id").parse().ok(),
                        laterality,
                        priority: field("priority").parse().ok(),
                        clinical_question: field("clinical_question"),
                        override_reason: field("override_reason"),
                    };
                    match imaging.place_order(&ctx, patient, input).await {
                        Ok(o) => Ok(format!("Ordered {} ({}).", o.title(), o.accession)),
                        Err(e) => Err(e),
                    }
                }
            }
        }
        "reviewed" => {
            let ids: Vec<Uuid> =
                f.iter().filter(|(k, _)| k == "report_ids").filter_map(|(_, v)| v.parse().ok()).collect();
            imaging
                .mark_reviewed(&ctx, patient, &ids)
                .await
                .map(|n| format!("Marked {n} report(s) reviewed."))
        }
        _ => return Err(not_found("action")),
    };
    let errors: Vec<(String, String)> = match outcome {
        Ok(text) => return Ok(flash(&state, &back, &text)),
        // A refused order comes back with what was chosen, each message beside its field.
        Err(AppError::Invalid(errors)) if action == "order" => {
            errors.into_iter().map(|e| (e.field.to_owned(), e.message)).collect()
        }
        Err(AppError::ClinicalWarnings(w)) if action == "order" => {
            vec![("override_reason".to_owned(), format!("{}. To order it anyway, say why.", w.join("; ")))]
        }
        Err(e) => return Ok(flash(&state, &back, &refusal(e)?)),
    };
    let typed = ["procedure_id", "laterality", "priority", "clinical_question", "override_reason"]
        .into_iter()
        .map(|k| (k.to_owned(), field(k)))
        .collect();
    let encounter = field("encounter_id").parse().ok();
    render_patient(&state, &ctx, page, patient, encounter, errors, typed).await
}

#[derive(Template)]
#[template(path = "imaging_inbox.html")]
struct InboxPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    reports: Vec<(ImagingReport, ImagingOrder, LabPatient)>,
}

/// The doctor's new imaging reports.
async fn inbox_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
) -> Result<Response, PageError> {
    let inbox = state.app.imaging().inbox(&ctx).await?;
    Ok(render(StatusCode::OK, &InboxPage { tz: state.app.time_zone, page, reports: inbox.reports }))
}
