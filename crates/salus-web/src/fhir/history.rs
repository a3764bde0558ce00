//! A resource's versions: `GET /fhir/{type}/{id}/_history` and the read of one of them
//! (`…/_history/{vid}`). A patient's earlier versions are rebuilt from the record's kept
//! edits (each with its old and new value); a clinical record is served at its current
//! version, its corrections being kept in the chart as amendments with their reasons.
//!
//! Pages run down the version numbers: a version, once made, never changes, and a new
//! one is added above the first page, so a next link (`_before=n`) neither repeats nor
//! skips an entry while the record is edited (hapi-fhir#3086).

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use salus_app::Ctx;
use salus_core::PatientId;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{base, fhir, not_found, pairs, read_resource, resources, served, with_etag};
use crate::AppState;
use crate::api::extract::ApiUser;
use crate::error::{ApiError, ProblemKind};

/// The versions of `ty/id` the caller may read, newest first.
async fn versions(state: &AppState, ctx: &Ctx, ty: &str, id: &str) -> Result<Vec<Value>, ApiError> {
    if ty == "Patient" {
        let patient = Uuid::parse_str(id).map(PatientId::from_uuid).map_err(|_| not_found(ty, id))?;
        let versions = state.app.patients().patient_versions(ctx, patient).await?;
        return Ok(versions.iter().map(resources::patient).collect());
    }
    Ok(vec![read_resource(state, ctx, ty, id).await?])
}

fn version_of(r: &Value) -> i64 {
    r["meta"]["versionId"].as_str().and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// `GET /fhir/{type}/{id}/_history/{vid}`: one version of the resource.
pub(super) async fn vread(
    State(state): State<AppState>,
    ApiUser(_, ctx): ApiUser,
    Path((ty, id, vid)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let ty = served(&ty)?;
    let current = read_resource(&state, &ctx, ty, &id).await?;
    let resource = if current["meta"]["versionId"].as_str() == Some(vid.as_str()) {
        current
    } else {
        versions(&state, &ctx, ty, &id)
            .await?
            .into_iter()
            .find(|r| r["meta"]["versionId"].as_str() == Some(vid.as_str()))
            .ok_or_else(|| {
                ApiError::new(
                    ProblemKind::NotFound,
                    format!("{ty}/{id} has no version {vid} that can be served"),
                )
            })?
    };
    Ok(with_etag(fhir(StatusCode::OK, &resource), &resource))
}

/// `GET /fhir/{type}/{id}/_history`: its versions, newest first, `_count` a page
/// (default 50), `_since` an instant (versions made at or after it).
pub(super) async fn history(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiUser(_, ctx): ApiUser,
    Path((ty, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let ty = served(&ty)?;
    let (mut count, mut before, mut since) = (50usize, i64::MAX, None);
    for (k, v) in pairs(raw)? {
        let bad = || ApiError::new(ProblemKind::MalformedRequest, format!("{k}={v} is not understood"));
        match k.as_str() {
            "_count" => count = v.parse().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(bad)?,
            "_before" => before = v.parse().map_err(|_| bad())?,
            "_since" => {
                since = Some(chrono::DateTime::parse_from_rfc3339(&v).map_err(|_| bad())?.timestamp_millis())
            }
            "_format" => {}
            _ => {
                return Err(ApiError::new(
                    ProblemKind::MalformedRequest,
                    format!("{k} is not a history parameter"),
                ));
            }
        }
    }
    let all = versions(&state, &ctx, ty, &id).await?;
    let kept: Vec<&Value> = all
        .iter()
        .filter(|r| version_of(r) < before)
        .filter(|r| {
            since.is_none_or(|s| {
                r["meta"]["lastUpdated"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .is_some_and(|t| t.timestamp_millis() >= s)
            })
        })
        .collect();
    let page: Vec<&Value> = kept.iter().take(count).copied().collect();
    let base = base(&headers, &state);
    let here = format!("{base}/{ty}/{id}/_history");
    let mut links = vec![json!({"relation": "self", "url": format!("{here}?_count={count}")})];
    if kept.len() > page.len()
        && let Some(last) = page.last()
    {
        links.push(
            json!({"relation": "next", "url": format!("{here}?_count={count}&_before={}", version_of(last))}),
        );
    }
    let entries: Vec<Value> = page
        .iter()
        .map(|r| {
            let v = version_of(r);
            json!({
                "fullUrl": format!("{base}/{ty}/{id}"),
                "resource": r,
                "request": if v <= 1 { json!({"method": "POST", "url": ty}) } else { json!({"method": "PUT", "url": format!("{ty}/{id}")}) },
                "response": {
                    "status": if v <= 1 { "201" } else { "200" },
                    "etag": format!("W/\"{v}\""),
                    "lastModified": r["meta"]["lastUpdated"],
                },
            })
        })
        .collect();
    let mut bundle = json!({"resourceType": "Bundle", "type": "history", "total": kept.len(), "link": links});
    if !entries.is_empty() {
        bundle["entry"] = json!(entries);
    }
    Ok(fhir(StatusCode::OK, &bundle))
}
