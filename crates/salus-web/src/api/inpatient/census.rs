//! Counting the wards over the API: the midnight census of a day (each ward's patients at
//! midnight, usable and blocked beds, occupancy, admissions, discharges and transfers) and
//! the admission and discharge register of a period with lengths of stay.

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::State;
use chrono::NaiveDate;
use salus_app::identity::Permission;
use salus_app::inpatient::census::{Census, Register};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AdmissionOut, WardOut};
use crate::AppState;
use crate::api::{ApiQuery, ApiUser};
use crate::error::{ApiError, Problem};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/api/v1/census", Access::Permission(Permission::InpatientRead)),
    route("/api/v1/admission-register", Access::Permission(Permission::InpatientRead))
        .example("/api/v1/admission-register?from=2026-11-01&to=2026-11-30"),
];

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(census)).routes(routes!(register))
}

/// One ward's line of the census.
#[derive(Debug, Serialize, ToSchema)]
pub struct WardCensusOut {
    pub ward: WardOut,
    /// Beds in use (not blocked).
    pub usable_beds: usize,
    pub blocked_beds: usize,
    /// Patients in a bed at the midnight that ended the day.
    pub at_midnight: usize,
    pub occupancy_percent: f64,
    pub admitted: usize,
    pub discharged: usize,
    pub transferred_in: usize,
    pub transferred_out: usize,
}

/// The census of a day.
#[derive(Debug, Serialize, ToSchema)]
pub struct CensusOut {
    pub day: NaiveDate,
    pub wards: Vec<WardCensusOut>,
}

impl From<Census> for CensusOut {
    fn from(c: Census) -> Self {
        Self {
            day: c.day,
            wards: c
                .wards
                .into_iter()
                .map(|w| WardCensusOut {
                    ward: w.ward.into(),
                    usable_beds: w.usable,
                    blocked_beds: w.blocked,
                    at_midnight: w.at_midnight,
                    occupancy_percent: w.occupancy_percent,
                    admitted: w.admitted,
                    discharged: w.discharged,
                    transferred_in: w.transferred_in,
                    transferred_out: w.transferred_out,
                })
                .collect(),
        }
    }
}

/// A line of the register.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterRowOut {
    pub admission: AdmissionOut,
    pub ward: String,
    /// Days so far (or in all), counting the day of admission.
    pub days: i64,
}

/// The admission and discharge register.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterOut {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub rows: Vec<RegisterRowOut>,
    /// Mean days of the stays discharged in the period.
    pub average_stay_days: Option<f64>,
}

impl From<Register> for RegisterOut {
    fn from(r: Register) -> Self {
        Self {
            from: r.from,
            to: r.to,
            average_stay_days: r.average_stay,
            rows: r
                .rows
                .into_iter()
                .map(|x| RegisterRowOut {
                    admission: salus_app::inpatient::admissions::Stay {
                        admission: x.admission,
                        patient: x.patient,
                        beds: Vec::new(),
                    }
                    .into(),
                    ward: x.ward,
                    days: x.days,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DayQuery {
    /// Default: yesterday (the last complete day) at the hospital.
    pub day: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    pub from: NaiveDate,
    /// At most a year after `from`.
    pub to: NaiveDate,
}

/// The midnight census
#[utoipa::path(get, path = "/api/v1/census", tag = "inpatient", params(DayQuery),
    responses((status = 200, description = "Each ward's line", body = CensusOut),
        (status = 403, description = "Cannot see the wards", body = Problem, content_type = "application/problem+json")))]
async fn census(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<DayQuery>,
) -> Result<Json<CensusOut>, ApiError> {
    let today = chrono::Utc::now().with_timezone(&state.app.time_zone).date_naive();
    let day = q.day.unwrap_or(today.pred_opt().unwrap_or(today));
    Ok(Json(state.app.inpatient().census(&ctx, day).await?.into()))
}

/// The admission and discharge register
#[utoipa::path(get, path = "/api/v1/admission-register", tag = "inpatient", params(PeriodQuery),
    responses((status = 200, description = "Stays admitted or discharged in the period", body = RegisterOut),
        (status = 403, description = "Cannot see the wards", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`to` before `from`, or more than a year", body = Problem, content_type = "application/problem+json")))]
async fn register(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Json<RegisterOut>, ApiError> {
    Ok(Json(state.app.inpatient().register(&ctx, q.from, q.to).await?.into()))
}
