//! The administrator's review of break-the-glass grants: who opened which restricted
//! record, when, why; each marked reviewed once looked at.

use crate::access::{Access, Declared, route};
use crate::views::flash;
use crate::views::menu::Entry;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use salus_app::identity::Permission;
use salus_app::patients::BreakGlassGrant;
use serde::Deserialize;

use super::{PageCtx, SignedIn, render};
use crate::AppState;
use crate::error::PageError;

/// The pages of this module worth a link (see `menu`).
pub(super) const MENU: &[Entry] = &[Entry::page(
    "Break-glass review",
    "/admin/break-glass",
    "Emergency access to restricted records, to review",
)];

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/admin/break-glass", Access::Permission(Permission::AuditView)),
    route("/admin/break-glass/{id}/review", Access::Permission(Permission::AuditView)).post(),
];

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/break-glass", get(list)).route("/admin/break-glass/{id}/review", post(review))
}

const PAGE: u64 = 50;

#[derive(Template)]
#[template(path = "break_glass_review.html")]
struct ReviewPage {
    page: PageCtx,
    grants: Vec<BreakGlassGrant>,
    all: bool,
    next: Option<String>,
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    all: bool,
    before: Option<uuid::Uuid>,
}

async fn list(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let mut grants = state.app.patients().break_glass_grants(&ctx, !q.all, q.before, PAGE + 1).await?;
    let next = if grants.len() as u64 > PAGE {
        grants.truncate(PAGE as usize);
        grants.last().map(|g| g.id.to_string())
    } else {
        None
    };
    Ok(render(StatusCode::OK, &ReviewPage { page, grants, all: q.all, next }))
}

async fn review(
    State(state): State<AppState>,
    SignedIn(_, ctx, _): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: uuid::Uuid = id.parse().map_err(|_| PageError::new(StatusCode::NOT_FOUND, "No such grant."))?;
    state.app.patients().review_break_glass(&ctx, id).await?;
    Ok(flash(&state, "/admin/break-glass", "Marked as reviewed."))
}
