//! The billing reports: the day's cash per cashier, method and kind (with its CSV) and
//! revenue by department over the last thirty days, from the journal.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate, Utc};
use salus_app::billing::{CashReport, RevenueRow};
use salus_core::Money;
use serde::Deserialize;

use super::{Amount, Cash};
use crate::AppState;
use crate::error::PageError;
use crate::views::{Local, PageCtx, SignedIn, render};

local!(ReportsPage);

// ---- Reports -----------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ReportQuery {
    day: String,
}

#[derive(Template)]
#[template(path = "billing_reports.html")]
struct ReportsPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    cash: Cash,
    report: CashReport,
    revenue: Vec<RevenueRow>,
    /// The revenue's period: the 30 days to the report's day.
    from: NaiveDate,
    /// The largest net revenue, for the bars.
    top: i64,
}

impl ReportsPage {
    fn money(&self, minor: impl Amount) -> String {
        self.cash.fmt(minor.minor())
    }
    fn opt_money(&self, minor: &Option<i64>) -> String {
        minor.map(|m| self.cash.fmt(m)).unwrap_or_default()
    }
    /// A bar's width, in percent of the largest.
    fn bar(&self, minor: &i64) -> i64 {
        if self.top <= 0 { 0 } else { (minor * 100 / self.top).clamp(0, 100) }
    }
}

fn report_day(state: &AppState, q: &ReportQuery) -> NaiveDate {
    q.day.parse().unwrap_or_else(|_| Utc::now().with_timezone(&state.app.time_zone).date_naive())
}

pub(super) async fn reports(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let day = report_day(&state, &q);
    let billing = state.app.billing();
    let report = billing.cash_report(&ctx, day).await?;
    let from = day - Duration::days(29);
    let revenue = billing.revenue(&ctx, from, day).await?;
    let top = revenue.iter().map(|r| r.net_minor).max().unwrap_or(0);
    Ok(render(
        StatusCode::OK,
        &ReportsPage {
            tz: state.app.time_zone,
            page,
            cash: Cash(state.app.currency),
            report,
            revenue,
            from,
            top,
        },
    ))
}

/// The day's cash report as CSV (amounts in major units, the currency named).
pub(super) async fn cash_csv(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Query(q): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let day = report_day(&state, &q);
    let report = state.app.billing().cash_report(&ctx, day).await?;
    let currency = state.app.currency;
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    w.write_record(["day", "cashier", "method", "kind", "count", "amount", "currency"]).map_err(fail)?;
    for l in &report.lines {
        w.write_record([
            day.to_string(),
            l.cashier.clone(),
            l.method.as_str().to_owned(),
            l.kind.as_str().to_owned(),
            l.count.to_string(),
            Money::from_minor(l.amount_minor).plain(currency),
            currency.code().to_owned(),
        ])
        .map_err(fail)?;
    }
    let body =
        w.into_inner().map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"cash-{day}.csv\"")),
        ],
        body,
    )
        .into_response())
}
