//! Administrators' operations pages: background jobs (retry the dead, bring a waiting one
//! forward), the outbox with each message's delivery status, message templates with a
//! preview, and doctors' weekly sessions and exceptions.

use crate::access::{Access, Declared, route};
use crate::views::flash;
use crate::views::menu::Entry;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::NaiveDate;
use salus_app::identity::Permission;
use salus_app::jobs::Job;
use salus_app::notifications::{CHANNELS, KINDS, Notification};
use salus_app::organisation::StaffQuery;
use salus_app::scheduling::{ExceptionInput, TemplateInput, local_now};
use salus_app::{AppError, Ctx};
use salus_core::jobs::JobStatus;
use salus_core::notifications::{MessageTemplate, NotificationStatus};
use salus_core::page::PageRequest;
use salus_core::scheduling::{ScheduleException, ScheduleTemplate};
use salus_core::{Role, TemplateId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Form, PageCtx, SignedIn, render};
use crate::AppState;
use crate::error::PageError;

/// The pages of this module worth a link (see `menu`).
pub(super) const MENU: &[Entry] = &[
    Entry::page("Schedules", "/admin/schedules", "Doctors' weekly sessions, leave and holidays"),
    Entry::page("Operations", "/admin/operations", "Background jobs and messages to patients"),
    Entry::home_only("Message templates", "/admin/templates", "The words of reminders and confirmations"),
];

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/admin/operations", Access::Permission(Permission::JobsManage)),
    route("/admin/jobs/{id}/{action}", Access::Permission(Permission::JobsManage))
        .post()
        .example("/admin/jobs/{id}/retry"),
    route("/admin/templates", Access::Permission(Permission::JobsManage)),
    route("/admin/schedules", Access::Permission(Permission::SchedulesManage)),
    route("/admin/schedules/sessions", Access::Permission(Permission::SchedulesManage)).post(),
    route("/admin/schedules/sessions/{id}/retire", Access::Permission(Permission::SchedulesManage)).post(),
    route("/admin/schedules/exceptions", Access::Permission(Permission::SchedulesManage)).post(),
    route("/admin/schedules/exceptions/{id}/remove", Access::Permission(Permission::SchedulesManage)).post(),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/operations", get(operations_page))
        .route("/admin/jobs/{id}/{action}", post(job_action))
        .route("/admin/templates", get(templates_page).post(save_template))
        .route("/admin/schedules", get(schedules_page))
        .route("/admin/schedules/sessions", post(add_session))
        .route("/admin/schedules/sessions/{id}/retire", post(retire_session))
        .route("/admin/schedules/exceptions", post(add_exception))
        .route("/admin/schedules/exceptions/{id}/remove", post(remove_exception))
}

fn errors_of(e: AppError) -> Result<Vec<(String, String)>, PageError> {
    match e {
        AppError::Invalid(errors) => {
            Ok(errors.into_iter().map(|e| (e.field.to_owned(), e.message)).collect())
        }
        AppError::Conflict(message) => Ok(vec![("form".into(), message)]),
        other => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "operations.html")]
struct OperationsPage {
    page: PageCtx,
    counts: Vec<(&'static str, u64)>,
    status: String,
    jobs: Vec<Job>,
    outbox: Vec<Notification>,
}

impl OperationsPage {
    fn is(&self, s: &str) -> bool {
        self.status == s
    }
}

#[derive(Deserialize)]
struct StatusQuery {
    status: Option<String>,
}

async fn operations_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<StatusQuery>,
) -> Result<Response, PageError> {
    let status = q.status.unwrap_or_else(|| JobStatus::Dead.as_str().into());
    let counts = state.app.jobs().job_counts(&ctx).await?;
    let jobs = state.app.jobs().list(&ctx, &status).await?;
    let outbox = state.app.notifications().outbox(&ctx, None).await?.into_iter().take(50).collect();
    Ok(render(StatusCode::OK, &OperationsPage { page, counts, status, jobs, outbox }))
}

async fn job_action(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path((id, action)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id: Uuid = id.parse().map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such job."))?;
    let result = match action.as_str() {
        "retry" => state.app.jobs().retry_job(&ctx, id).await.map(|()| "Queued again."),
        "run-now" => state.app.jobs().run_job_now(&ctx, id).await.map(|()| "It runs at the next pass."),
        _ => return Err(PageError::new(StatusCode::NOT_FOUND, "There is no such action.")),
    };
    let text = match result {
        Ok(t) => t.to_owned(),
        Err(AppError::Conflict(m)) => format!("Not done: {m}."),
        Err(e) => return Err(e.into()),
    };
    Ok(flash(&state, "/admin/operations", &text))
}

#[derive(Template)]
#[template(path = "message_templates.html")]
struct TemplatesPage {
    page: PageCtx,
    templates: Vec<MessageTemplate>,
    kinds: [&'static str; 4],
    channels: [&'static str; 2],
    form: Vec<(String, String)>,
    errors: Vec<(String, String)>,
    preview: Option<(String, String)>,
}

impl TemplatesPage {
    fn value(&self, name: &str) -> &str {
        self.form.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    fn error(&self, name: &str) -> Option<&str> {
        self.errors.iter().find(|(k, _)| k == name).map(|(_, m)| m.as_str())
    }
}

#[derive(Deserialize)]
struct TemplateQuery {
    kind: Option<String>,
    channel: Option<String>,
    language: Option<String>,
}

async fn templates_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<TemplateQuery>,
) -> Result<Response, PageError> {
    let templates = state.app.notifications().notification_templates(&ctx).await?;
    let kind = q.kind.unwrap_or_else(|| KINDS[0].into());
    let channel = q.channel.unwrap_or_else(|| CHANNELS[0].into());
    let language = q.language.unwrap_or_else(|| "en".into());
    let current = templates.iter().find(|t| t.kind == kind && t.channel == channel && t.language == language);
    let form = vec![
        ("subject".to_owned(), current.map(|t| t.subject.clone()).unwrap_or_default()),
        ("body".to_owned(), current.map(|t| t.body.clone()).unwrap_or_default()),
        ("kind".to_owned(), kind),
        ("channel".to_owned(), channel),
        ("language".to_owned(), language),
    ];
    let page_data = TemplatesPage {
        page,
        templates,
        kinds: KINDS,
        channels: CHANNELS,
        form,
        errors: Vec::new(),
        preview: None,
    };
    Ok(render(StatusCode::OK, &page_data))
}

/// The message-template form as posted.
#[derive(Deserialize, Serialize, Default)]
#[serde(default)]
struct TemplateFields {
    kind: String,
    channel: String,
    language: String,
    subject: String,
    body: String,
    action: String,
}

/// Saves a template, or (with `preview`) only renders it with the sample values.
async fn save_template(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(f): Form<TemplateFields>,
) -> Result<Response, PageError> {
    let fields = super::pairs(&f);
    let TemplateFields { kind, channel, language, subject, body, action } = f;
    let templates = state.app.notifications().notification_templates(&ctx).await?;
    let mut page_data = TemplatesPage {
        page,
        templates,
        kinds: KINDS,
        channels: CHANNELS,
        form: fields,
        errors: Vec::new(),
        preview: None,
    };
    if action == "preview" {
        match state.app.notifications().preview_template(&subject, &body) {
            Ok(p) => page_data.preview = Some(p),
            Err(e) => page_data.errors = errors_of(e)?,
        }
        let status =
            if page_data.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
        return Ok(render(status, &page_data));
    }
    match state.app.notifications().save_template(&ctx, &kind, &channel, &language, &subject, &body).await {
        Ok(()) => {
            let to = format!(
                "/admin/templates?kind={kind}&channel={channel}&language={}",
                language.trim().to_lowercase()
            );
            Ok(flash(&state, &to, "Template saved; messages sent from now on use it."))
        }
        Err(e) => {
            page_data.errors = errors_of(e)?;
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page_data))
        }
    }
}

#[derive(Template)]
#[template(path = "schedules.html")]
struct SchedulesPage {
    page: PageCtx,
    sessions: Vec<(ScheduleTemplate, String, String)>,
    exceptions: Vec<(ScheduleException, String)>,
    doctors: Vec<(String, String)>,
    departments: Vec<(String, String)>,
    today: NaiveDate,
    form: Vec<(String, String)>,
    errors: Vec<(String, String)>,
}

impl SchedulesPage {
    fn value(&self, name: &str) -> &str {
        self.form.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    fn error(&self, name: &str) -> Option<&str> {
        self.errors.iter().find(|(k, _)| k == name).map(|(_, m)| m.as_str())
    }

    fn weekday(&self, n: &i16) -> &'static str {
        ["", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
            [usize::try_from(*n).unwrap_or(0).min(7)]
    }

    fn weekdays(&self) -> Vec<(String, &'static str)> {
        (1..=7).map(|n: i16| (n.to_string(), self.weekday(&n))).collect()
    }
}

async fn schedules(
    state: &AppState,
    ctx: &Ctx,
    page: PageCtx,
    status: StatusCode,
    form: Vec<(String, String)>,
    errors: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let staff = state
        .app
        .organisation()
        .staff(
            ctx,
            &StaffQuery { role: Some(Role::Doctor), ..Default::default() },
            PageRequest::new(None, Some(200)),
        )
        .await?;
    let doctors: Vec<(String, String)> =
        staff.items.into_iter().map(|m| (m.user.id.to_string(), m.user.display_name)).collect();
    let departments: Vec<(String, String)> = state
        .app
        .organisation()
        .departments(ctx, None)
        .await?
        .into_iter()
        .filter(|d| d.active)
        .map(|d| (d.id.to_string(), d.name))
        .collect();
    let name =
        |list: &[(String, String)], id: String| list.iter().find(|(v, _)| *v == id).map(|(_, n)| n.clone());
    let sessions = state
        .app
        .scheduling()
        .templates(ctx, None)
        .await?
        .into_iter()
        .filter(|t| t.active)
        .map(|t| {
            let d = name(&doctors, t.doctor_id.to_string()).unwrap_or_default();
            let dept = name(&departments, t.department_id.to_string()).unwrap_or_default();
            (t, d, dept)
        })
        .collect();
    let today = local_now(state.app.time_zone).0;
    let exceptions = state
        .app
        .scheduling()
        .exceptions(ctx, today, today + chrono::Duration::days(90))
        .await?
        .into_iter()
        .map(|e| {
            let who = match e.doctor_id {
                Some(d) => name(&doctors, d.to_string()).unwrap_or_default(),
                None => "Everyone (holiday)".into(),
            };
            (e, who)
        })
        .collect();
    let page_data = SchedulesPage { page, sessions, exceptions, doctors, departments, today, form, errors };
    Ok(render(status, &page_data))
}

async fn schedules_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
) -> Result<Response, PageError> {
    schedules(&state, &ctx, page, StatusCode::OK, Vec::new(), Vec::new()).await
}

/// The schedule forms as posted: a weekly session, or an exception (whose fields carry
/// an `exception_` prefix where they would clash with the session form's).
#[derive(Deserialize, Serialize, Default)]
#[serde(default)]
struct ScheduleFields {
    doctor_id: String,
    department_id: String,
    weekday: String,
    start: String,
    end: String,
    slot_minutes: String,
    capacity: String,
    overbook: String,
    valid_from: String,
    valid_until: String,
    version: String,
    date: String,
    kind: String,
    exception_doctor: String,
    exception_department: String,
    exception_start: String,
    exception_end: String,
    exception_slot_minutes: String,
    exception_capacity: String,
    reason: String,
}

async fn add_session(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(f): Form<ScheduleFields>,
) -> Result<Response, PageError> {
    let fields = super::pairs(&f);
    let mut errors = Vec::new();
    let mut pick = |name: &str, v: &str, message: &str| -> Option<String> {
        if v.trim().is_empty() {
            errors.push((name.to_owned(), message.to_owned()));
            None
        } else {
            Some(v.to_owned())
        }
    };
    let doctor = pick("doctor_id", &f.doctor_id, "choose the doctor").and_then(|v| v.parse().ok());
    let department =
        pick("department_id", &f.department_id, "choose the department").and_then(|v| v.parse().ok());
    let number = |v: &str, default: i32| v.trim().parse::<i32>().unwrap_or(default);
    let valid_from = f.valid_from.parse::<NaiveDate>().unwrap_or_else(|_| local_now(state.app.time_zone).0);
    let valid_until = f.valid_until.parse::<NaiveDate>().ok();
    let (Some(doctor_id), Some(department_id)) = (doctor, department) else {
        return schedules(&state, &ctx, page, StatusCode::UNPROCESSABLE_ENTITY, fields, errors).await;
    };
    let input = TemplateInput {
        doctor_id,
        department_id,
        weekday: i16::try_from(number(&f.weekday, 0)).unwrap_or(0),
        start: f.start.clone(),
        end: f.end.clone(),
        slot_minutes: number(&f.slot_minutes, 0),
        capacity: number(&f.capacity, 1),
        overbook: number(&f.overbook, 0),
        valid_from,
        valid_until,
    };
    match state.app.scheduling().create_template(&ctx, input).await {
        Ok(_) => Ok(flash(&state, "/admin/schedules", "Session added.")),
        Err(e) => {
            schedules(&state, &ctx, page, StatusCode::UNPROCESSABLE_ENTITY, fields, errors_of(e)?).await
        }
    }
}

async fn retire_session(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ScheduleFields>,
) -> Result<Response, PageError> {
    let id: TemplateId =
        id.parse().map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such session."))?;
    let version = f.version.parse().unwrap_or(0);
    let text = match state.app.scheduling().retire_template(&ctx, id, version).await {
        Ok(()) => "Session retired; booked appointments stay.".to_owned(),
        Err(AppError::Conflict(m)) => format!("Not done: {m}."),
        Err(e) => return Err(e.into()),
    };
    Ok(flash(&state, "/admin/schedules", &text))
}

async fn add_exception(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(f): Form<ScheduleFields>,
) -> Result<Response, PageError> {
    let fields = super::pairs(&f);
    let Ok(date) = f.date.parse::<NaiveDate>() else {
        let errors = vec![("date".into(), "choose the day".into())];
        return schedules(&state, &ctx, page, StatusCode::UNPROCESSABLE_ENTITY, fields, errors).await;
    };
    let input = ExceptionInput {
        doctor_id: f.exception_doctor.parse().ok(),
        date,
        kind: f.kind,
        start: f.exception_start,
        end: f.exception_end,
        department_id: f.exception_department.parse().ok(),
        slot_minutes: f.exception_slot_minutes.trim().parse().ok(),
        capacity: f.exception_capacity.trim().parse().ok(),
        reason: f.reason,
    };
    match state.app.scheduling().add_exception(&ctx, input).await {
        Ok(_) => Ok(flash(&state, "/admin/schedules", "Added.")),
        Err(e) => {
            // The exception form's fields carry a prefix where they would clash with the session form's.
            let errors = errors_of(e)?
                .into_iter()
                .map(|(k, m)| {
                    let k = match k.as_str() {
                        "start" | "end" | "doctor_id" | "department_id" | "slot_minutes" | "capacity" => {
                            format!("exception_{}", k.trim_end_matches("_id"))
                        }
                        _ => k,
                    };
                    (k, m)
                })
                .collect();
            schedules(&state, &ctx, page, StatusCode::UNPROCESSABLE_ENTITY, fields, errors).await
        }
    }
}

async fn remove_exception(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = id.parse().map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such exception."))?;
    state.app.scheduling().remove_exception(&ctx, id).await?;
    Ok(flash(&state, "/admin/schedules", "Removed."))
}
