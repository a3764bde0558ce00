//! The audit viewer for administrators: filter by user, patient, action and date, newest
//! first, paged by a keyset cursor so the thousandth page costs what the first does.

use crate::access::{Access, Declared, route};
use crate::views::menu::Entry;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use salus_app::AppError;
use salus_app::identity::Permission;
use salus_core::audit::AuditEvent;
use salus_core::audit::EventFilter;
use serde::Deserialize;
use uuid::Uuid;

use super::{PageCtx, SignedIn, render, urlencode};
use crate::AppState;
use crate::error::PageError;

const PAGE: u64 = 50;

/// The pages of this module worth a link (see `menu`).
pub(super) const MENU: &[Entry] =
    &[Entry::page("Audit log", "/admin/audit", "Who read and changed what, verifiable")];

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[route("/admin/audit", Access::Permission(Permission::AuditView))];

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/audit", get(audit_page))
}

#[derive(Debug, Default, Deserialize)]
struct AuditQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    patient: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    before: Option<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    page: PageCtx,
    q: AuditQuery,
    events: Vec<AuditEvent>,
    older: Option<String>,
    errors: Vec<(String, String)>,
}

impl AuditPage {
    /// The filter fields: name, label, current value, placeholder.
    fn fields(&self) -> [(&'static str, &'static str, &str, &'static str); 5] {
        [
            ("user", "User", &self.q.user, "username"),
            ("action", "Action", &self.q.action, "e.g. session.login"),
            ("patient", "Patient id", &self.q.patient, ""),
            ("from", "From day", &self.q.from, "2026-11-01"),
            ("to", "To day (included)", &self.q.to, "2026-11-30"),
        ]
    }

    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }
}

fn day(raw: &str, field: &str, errors: &mut Vec<(String, String)>) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        Ok(d) => d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()),
        Err(_) => {
            errors.push((field.to_owned(), "use a date like 2026-11-23".to_owned()));
            None
        }
    }
}

fn cursor(e: &AuditEvent) -> String {
    format!("{}_{}", e.at.timestamp_micros(), e.id)
}

fn parse_cursor(raw: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (micros, id) = raw.split_once('_')?;
    Some((DateTime::from_timestamp_micros(micros.parse().ok()?)?, id.parse().ok()?))
}

async fn audit_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let mut errors = Vec::new();
    let from = day(&q.from, "from", &mut errors);
    // "to" names the last day included.
    let to = day(&q.to, "to", &mut errors).map(|d| d + chrono::Duration::days(1));
    let patient_id = match q.patient.trim() {
        "" => None,
        p => {
            p.parse::<Uuid>().map_err(|_| errors.push(("patient".into(), "is not a patient id".into()))).ok()
        }
    };
    let before = q.before.as_deref().and_then(parse_cursor);
    let action_prefix = Some(q.action.trim().to_owned()).filter(|a| !a.is_empty());
    let filter = EventFilter { actor_id: None, patient_id, action_prefix, from, to };
    let events = if errors.is_empty() {
        match state.app.audit().search_audit(&ctx, Some(&q.user), filter, before, PAGE + 1).await {
            Ok(events) => events,
            Err(AppError::Invalid(fields)) => {
                errors.extend(fields.into_iter().map(|e| ("user".to_owned(), e.message)));
                Vec::new()
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        // Still refuse a caller without the permission, before saying anything else.
        state.app.authorize(&ctx, salus_app::identity::Permission::AuditView).await?;
        Vec::new()
    };
    let mut events = events;
    let older = if events.len() as u64 > PAGE {
        events.truncate(PAGE as usize);
        events.last().map(|e| {
            let keep = [
                ("user", &q.user),
                ("action", &q.action),
                ("patient", &q.patient),
                ("from", &q.from),
                ("to", &q.to),
            ];
            let mut url = String::from("/admin/audit?");
            for (k, v) in keep {
                url.push_str(&format!("{k}={}&", urlencode(v)));
            }
            url.push_str(&format!("before={}", cursor(e)));
            url
        })
    } else {
        None
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(render(status, &AuditPage { page, q, events, older, errors }))
}
