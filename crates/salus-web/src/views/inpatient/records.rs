//! The ward's records of a stay in the browser: the discharge summary (drafted from the
//! stay, edited, signed; once signed, a printable document on the hospital's letterhead)
//! and the nursing record (the shift's notes, intake and output with the day's balance,
//! tasks done or cancelled).

use crate::access::{Access, Declared, route};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use salus_app::AppError;
use salus_app::identity::Permission;
use salus_app::inpatient::nursing::{IoInput, NursingRecord, SummaryText, SummaryView, TaskInput};
use salus_core::inpatient::nursing::{Direction, INTAKE_ROUTES, OUTPUT_ROUTES, SummaryStatus, TaskStatus};
use uuid::Uuid;

use super::{field, may, not_found};
use crate::AppState;
use crate::error::PageError;
use crate::views::clinical::flash_outcome;
use crate::views::{Form, Local, PageCtx, SignedIn, render};

local!(SummaryPage, SummaryPrint, NursingPage);

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    // Drafting, editing and signing are a doctor's: the use case checks.
    route("/admissions/{id}/summary", Access::Permission(Permission::InpatientRead)),
    // Writing is a nurse's: the use case checks.
    route("/admissions/{id}/nursing", Access::Permission(Permission::InpatientRead)),
    route("/nursing-tasks/{id}/{action}", Access::Permission(Permission::NursingRecord))
        .post()
        .example("/nursing-tasks/{id}/done"),
    route("/intake-output/{id}/error", Access::Permission(Permission::NursingRecord)).post(),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admissions/{id}/summary", get(summary_page).post(summary_action))
        .route("/admissions/{id}/nursing", get(nursing_page).post(nursing_action))
        .route("/nursing-tasks/{id}/{action}", post(task_action))
        .route("/intake-output/{id}/error", post(io_error))
}

fn admission_of(raw: &str) -> Result<Uuid, PageError> {
    raw.parse().map_err(|_| not_found("admission"))
}

// ---- The discharge summary ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "discharge_summary.html")]
struct SummaryPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    view: SummaryView,
    may_write: bool,
}

impl SummaryPage {
    fn parts(&self) -> Vec<(&'static str, &'static str, String)> {
        parts(&self.view)
    }
    fn person(&self, id: &Uuid) -> &str {
        self.view.name(Some(*id))
    }
}

#[derive(Template)]
#[template(path = "discharge_summary_print.html")]
struct SummaryPrint {
    tz: chrono_tz::Tz,
    facility: Option<salus_app::organisation::Facility>,
    view: SummaryView,
}

impl SummaryPrint {
    fn parts(&self) -> Vec<(&'static str, &'static str, String)> {
        parts(&self.view)
    }
    fn person_opt(&self, id: &Option<Uuid>) -> &str {
        self.view.name(*id)
    }
    fn lines<'a>(&self, text: &'a str) -> Vec<&'a str> {
        text.lines().filter(|l| !l.trim().is_empty()).collect()
    }
}

/// (field, heading, text) of each part of the summary.
fn parts(view: &SummaryView) -> Vec<(&'static str, &'static str, String)> {
    let s = view.summary.clone();
    let get = |f: fn(&salus_core::inpatient::nursing::DischargeSummary) -> &String| {
        s.as_ref().map(|s| f(s).clone()).unwrap_or_default()
    };
    vec![
        ("diagnoses", "Diagnoses", get(|s| &s.diagnoses)),
        ("procedures", "Procedures and examinations", get(|s| &s.procedures)),
        ("key_results", "Key results", get(|s| &s.key_results)),
        ("medicines", "Medicines on discharge", get(|s| &s.medicines)),
        ("follow_up", "Follow-up", get(|s| &s.follow_up)),
        ("instructions", "Instructions for the patient", get(|s| &s.instructions)),
    ]
}

async fn summary_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id = admission_of(&raw)?;
    let view = match state.app.inpatient().discharge_summary(&ctx, id).await {
        Err(AppError::NotFound(_)) => return Err(not_found("admission")),
        other => other?,
    };
    let tz = state.app.time_zone;
    if view.summary.as_ref().is_some_and(|s| s.status == SummaryStatus::Signed) {
        let op = salus_app::Ctx::operator();
        let facility = state.app.organisation().facilities(&op).await?.into_iter().find(|f| f.active);
        return Ok(render(StatusCode::OK, &SummaryPrint { tz, facility, view }));
    }
    let may_write = may(&page, Permission::InpatientOrder);
    Ok(render(StatusCode::OK, &SummaryPage { tz, page, view, may_write }))
}

async fn summary_action(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = admission_of(&raw)?;
    let inpatient = state.app.inpatient();
    let version: i32 = field(&f, "version").parse().unwrap_or_default();
    let text = SummaryText {
        diagnoses: field(&f, "diagnoses"),
        procedures: field(&f, "procedures"),
        key_results: field(&f, "key_results"),
        medicines: field(&f, "medicines"),
        follow_up: field(&f, "follow_up"),
        instructions: field(&f, "instructions"),
    };
    let outcome = match field(&f, "action").as_str() {
        "draft" => inpatient
            .draft_summary(&ctx, id)
            .await
            .map(|_| "Drafted from the stay; check and complete it.".to_owned()),
        "save" => inpatient.save_summary(&ctx, id, text, version).await.map(|_| "Saved.".to_owned()),
        "sign" => match inpatient.save_summary(&ctx, id, text, version).await {
            Ok(s) => inpatient
                .sign_summary(&ctx, id, s.version)
                .await
                .map(|_| "Signed: the summary is final.".to_owned()),
            Err(e) => Err(e),
        },
        _ => return Err(not_found("action")),
    };
    flash_outcome(&state, &format!("/admissions/{id}/summary"), outcome)
}

// ---- The nursing record -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "nursing_record.html")]
struct NursingPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    admission: Uuid,
    number: String,
    patient: String,
    record: NursingRecord,
    may_write: bool,
}

impl NursingPage {
    fn intake_routes(&self) -> &'static [&'static str] {
        INTAKE_ROUTES
    }
    fn output_routes(&self) -> &'static [&'static str] {
        OUTPUT_ROUTES
    }
    fn who(&self, id: &Uuid) -> &str {
        self.record.name(Some(*id))
    }
    fn who_opt(&self, id: &Option<Uuid>) -> &str {
        self.record.name(*id)
    }
}

async fn nursing_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id = admission_of(&raw)?;
    let inpatient = state.app.inpatient();
    let stay = match inpatient.stay(&ctx, id).await {
        Err(AppError::NotFound(_)) => return Err(not_found("admission")),
        other => other?,
    };
    let record = inpatient.nursing_record(&ctx, id).await?;
    let may_write = may(&page, Permission::NursingRecord) && stay.admission.status.in_house();
    Ok(render(
        StatusCode::OK,
        &NursingPage {
            tz: state.app.time_zone,
            page,
            admission: id,
            number: stay.admission.number,
            patient: stay.patient.name,
            record,
            may_write,
        },
    ))
}

async fn nursing_action(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = admission_of(&raw)?;
    let inpatient = state.app.inpatient();
    let outcome = match field(&f, "form").as_str() {
        "note" => inpatient
            .write_nursing_note(&ctx, id, &field(&f, "body"), None)
            .await
            .map(|n| format!("Note written ({} shift).", n.shift)),
        "io" => {
            let direction = field(&f, "direction").parse::<Direction>().unwrap_or(Direction::Intake);
            let input = IoInput {
                direction,
                route: field(&f, "route"),
                volume_ml: field(&f, "volume_ml").parse().unwrap_or_default(),
                measured_at: None,
                note: field(&f, "note"),
            };
            inpatient
                .record_io(&ctx, id, input)
                .await
                .map(|e| format!("{} ml {} recorded.", e.volume_ml, e.route))
        }
        "task" => {
            let input = TaskInput {
                description: field(&f, "description"),
                due_at: field(&f, "due_in_hours")
                    .parse::<i64>()
                    .ok()
                    .map(|h| chrono::Utc::now() + chrono::Duration::hours(h)),
                service_code: field(&f, "service_code"),
            };
            inpatient.add_task(&ctx, id, input).await.map(|t| format!("Task added: {}.", t.description))
        }
        _ => return Err(not_found("form")),
    };
    flash_outcome(&state, &format!("/admissions/{id}/nursing"), outcome)
}

async fn task_action(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path((raw, action)): Path<(String, String)>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("task"))?;
    let done = match action.as_str() {
        "done" => true,
        "cancel" => false,
        _ => return Err(not_found("action")),
    };
    let outcome = state.app.inpatient().close_task(&ctx, id, done, &field(&f, "outcome")).await;
    let back = outcome.as_ref().map(|t| t.admission_id).ok();
    let outcome = outcome.map(|t| {
        if t.status == TaskStatus::Done {
            format!("Done: {}.", t.description)
        } else {
            format!("Cancelled: {}.", t.description)
        }
    });
    let back = back.or_else(|| field(&f, "admission").parse().ok()).unwrap_or_default();
    flash_outcome(&state, &format!("/admissions/{back}/nursing"), outcome)
}

async fn io_error(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("entry"))?;
    let outcome = state.app.inpatient().io_in_error(&ctx, id, &field(&f, "reason")).await;
    let back = outcome
        .as_ref()
        .map(|e| e.admission_id)
        .ok()
        .or_else(|| field(&f, "admission").parse().ok())
        .unwrap_or_default();
    flash_outcome(
        &state,
        &format!("/admissions/{back}/nursing"),
        outcome.map(|_| "Marked entered in error; kept, not counted.".to_owned()),
    )
}
