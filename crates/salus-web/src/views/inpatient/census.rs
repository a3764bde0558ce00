//! The wards counted, in the browser: the midnight census of a day with each ward's
//! occupancy, the admission and discharge register of the week, and a doctor's own
//! patients in beds with the doses waiting for their acknowledgement.

use crate::access::{Access, Declared, route};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use chrono::{Duration, NaiveDate, Utc};
use salus_app::identity::Permission;
use salus_app::inpatient::census::{Census, MyInpatient, Register};
use serde::Deserialize;

use crate::AppState;
use crate::error::PageError;
use crate::views::{Local, PageCtx, SignedIn, render};

local!(CensusPage, MinePage);

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/wards/census", Access::Permission(Permission::InpatientRead)),
    route("/inpatients", Access::Permission(Permission::InpatientOrder)),
    // A stream of "the board changed" events (no patient data): the board refetches itself.
    route("/wards/{id}/events", Access::Permission(Permission::InpatientRead)),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/wards/census", get(census_page))
        .route("/inpatients", get(mine_page))
        .route("/wards/{id}/events", get(board_events))
}

/// How often an open board looks for a change, and how long one stream lasts before the
/// browser reconnects (through sign-in and access again).
const POLL: std::time::Duration = std::time::Duration::from_secs(1);
const STREAM_FOR: std::time::Duration = std::time::Duration::from_secs(600);

/// The ward's board events: `board` whenever a bed or a stay on the ward changes, through
/// whichever instance made the change (the database is what is watched).
async fn board_events(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
) -> Result<Sse<impl futures::Stream<Item = Result<Event, std::convert::Infallible>>>, PageError> {
    let ward: uuid::Uuid =
        raw.parse().map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such ward."))?;
    if !state.app.inpatient().wards(&ctx).await?.iter().any(|w| w.id == ward) {
        return Err(PageError::new(StatusCode::NOT_FOUND, "There is no such ward."));
    }
    let first = state.app.inpatient().board_signature(&ctx, ward).await?;
    let until = tokio::time::Instant::now() + STREAM_FOR;
    let stream = futures::stream::unfold((state, ctx, first), move |(state, ctx, last)| async move {
        loop {
            tokio::time::sleep(POLL).await;
            if tokio::time::Instant::now() >= until {
                return None;
            }
            match state.app.inpatient().board_signature(&ctx, ward).await {
                Ok(now) if now != last => {
                    return Some((Ok(Event::default().event("board").data("changed")), (state, ctx, now)));
                }
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DayQuery {
    day: String,
}

#[derive(Template)]
#[template(path = "ward_census.html")]
struct CensusPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    census: Census,
    register: Register,
}

async fn census_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<DayQuery>,
) -> Result<Response, PageError> {
    let today = Utc::now().with_timezone(&state.app.time_zone).date_naive();
    let day = q.day.parse::<NaiveDate>().ok().filter(|d| *d <= today).unwrap_or(today);
    let inpatient = state.app.inpatient();
    let census = inpatient.census(&ctx, day).await?;
    let register = inpatient.register(&ctx, day - Duration::days(6), day).await?;
    Ok(render(StatusCode::OK, &CensusPage { tz: state.app.time_zone, page, census, register }))
}

#[derive(Template)]
#[template(path = "my_inpatients.html")]
struct MinePage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    rows: Vec<MyInpatient>,
}

async fn mine_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
) -> Result<Response, PageError> {
    let rows = state.app.inpatient().my_inpatients(&ctx).await?;
    Ok(render(StatusCode::OK, &MinePage { tz: state.app.time_zone, page, rows }))
}
