//! Bulk Data `$export` (FHIR Bulk Data Access 2.0): the whole hospital, every patient, or
//! a group (a ward's patients) as NDJSON files, made in the background.
//!
//! The kick-off (`GET /fhir/$export`, `/fhir/Patient/$export`, `/fhir/Group/{id}/$export`
//! with `Prefer: respond-async`) records the request and its job and answers 202 with
//! where to poll. The job reads each table a page at a time in id order
//! (`Interop::export_page`, each page's patients audited before anything of theirs is
//! written), maps the page here, and appends it to a file that is stored once it reaches
//! [`FILE_BYTES`] or its type is done; after each stored file the job records where it
//! stands, so memory is a page and a file whatever the hospital's size, and a worker that
//! dies is followed by one that carries on from the last file. Polling
//! (`/fhir/$export-status/{id}`) answers 202 with the progress, then the manifest; DELETE
//! there cancels. Files are fetched from the manifest's links by the same user.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use salus_app::interop::export::{
    BulkExport, EXPORT_JOB, ExportFile, ExportRequest, ExportScope, ExportStatus, Source,
};
use salus_app::jobs::JobRun;
use salus_app::{App, AppError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{base, fhir, pairs, resources, resources_of, strict};
use crate::AppState;
use crate::api::extract::ApiUser;
use crate::error::{ApiError, ProblemKind};

/// What an export can hold, in the order it writes them.
pub const EXPORTED: [&str; 14] = [
    "Patient",
    "Encounter",
    "Condition",
    "AllergyIntolerance",
    "Immunization",
    "Observation",
    "MedicationRequest",
    "ServiceRequest",
    "DiagnosticReport",
    "Specimen",
    "MedicationAdministration",
    "Appointment",
    "DocumentReference",
    "ChargeItem",
];

/// Rows read a page.
const PAGE: u64 = 1000;
/// A file is stored once it holds this much.
pub const FILE_BYTES: usize = 8 << 20;

const NDJSON: &str = "application/fhir+ndjson";

/// The tables a type is read from, in order.
fn sources_of(ty: &str) -> &'static [Source] {
    match ty {
        "Patient" => &[Source::Patients],
        "Encounter" => &[Source::Encounters],
        "Condition" => &[Source::Diagnoses],
        "AllergyIntolerance" => &[Source::Allergies],
        "Immunization" => &[Source::Immunizations],
        "Observation" => &[Source::Vitals, Source::LabResults],
        "MedicationRequest" => &[Source::Prescriptions],
        "ServiceRequest" => &[Source::LabOrders],
        "DiagnosticReport" => &[Source::LabReports],
        "Specimen" => &[Source::Specimens],
        "MedicationAdministration" => &[Source::Administrations],
        "Appointment" => &[Source::Appointments],
        "DocumentReference" => &[Source::Documents],
        "ChargeItem" => &[Source::Charges],
        _ => &[],
    }
}

fn refused(message: impl Into<String>) -> ApiError {
    ApiError::new(ProblemKind::MalformedRequest, message)
}

/// The export a kick-off asks for, or why it cannot be made.
fn request_of(
    headers: &HeaderMap,
    raw: Option<String>,
    scope: ExportScope,
    url: String,
) -> Result<ExportRequest, ApiError> {
    let async_asked = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split([',', ';']).any(|p| p.trim() == "respond-async"));
    if !async_asked {
        return Err(refused("an export is asynchronous: send Prefer: respond-async"));
    }
    let mut types: Vec<String> = Vec::new();
    let mut since = None;
    for (name, value) in pairs(raw)? {
        match name.as_str() {
            "_outputFormat"
                if !matches!(value.as_str(), "application/fhir+ndjson" | "application/ndjson" | "ndjson") =>
            {
                return Err(refused(format!("_outputFormat {value} is not offered; files are {NDJSON}")));
            }
            "_outputFormat" => {}
            "_type" => {
                for ty in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                    if !EXPORTED.contains(&ty) {
                        return Err(refused(format!(
                            "{ty} is not exported; _type may name {}",
                            EXPORTED.join(", ")
                        )));
                    }
                    if !types.iter().any(|t| t == ty) {
                        types.push(ty.to_owned());
                    }
                }
            }
            "_since" => {
                let at = chrono::DateTime::parse_from_rfc3339(&value).map_err(|_| {
                    refused(format!("_since {value} is not an instant (2026-01-31T09:00:00Z)"))
                })?;
                since = Some(at.with_timezone(&chrono::Utc));
            }
            "_typeFilter" | "_elements" | "patient" | "includeAssociatedData" | "_until" => {
                return Err(refused(format!("{name} is not supported by this server's export")));
            }
            other if strict(headers) => {
                return Err(refused(format!("{other} is not a parameter of $export")));
            }
            _ => {}
        }
    }
    if types.is_empty() {
        types = EXPORTED.iter().map(|t| (*t).to_owned()).collect();
    }
    Ok(ExportRequest { request: url, scope, types, since, queue: true })
}

async fn kick_off(
    state: &AppState,
    ctx: &salus_app::Ctx,
    headers: &HeaderMap,
    raw: Option<String>,
    scope: ExportScope,
    path: &str,
) -> Result<Response, ApiError> {
    let base = base(headers, state);
    let url = match &raw {
        Some(q) if !q.is_empty() => format!("{base}{path}?{q}"),
        _ => format!("{base}{path}"),
    };
    let req = request_of(headers, raw, scope, url)?;
    let export = state.app.interop().start_export(ctx, req).await?;
    let outcome = json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": "export started; poll Content-Location"}],
    });
    let mut res = fhir(StatusCode::ACCEPTED, &outcome);
    if let Ok(v) = HeaderValue::from_str(&format!("{base}/$export-status/{}", export.id)) {
        res.headers_mut().insert(header::CONTENT_LOCATION, v);
    }
    Ok(res)
}

/// `GET /fhir/$export`
pub async fn system(
    State(state): State<AppState>,
    ApiUser(_, ctx): ApiUser,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    kick_off(&state, &ctx, &headers, raw, ExportScope::System, "/$export").await
}

/// `GET /fhir/Patient/$export`
pub async fn patients(
    State(state): State<AppState>,
    ApiUser(_, ctx): ApiUser,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    kick_off(&state, &ctx, &headers, raw, ExportScope::Patients, "/Patient/$export").await
}

/// `GET /fhir/Group/{id}/$export`: a ward's patients.
pub async fn group(
    State(state): State<AppState>,
    ApiUser(_, ctx): ApiUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let ward = Uuid::parse_str(&id)
        .map_err(|_| ApiError::new(ProblemKind::NotFound, format!("Group/{id} is not known")))?;
    kick_off(&state, &ctx, &headers, raw, ExportScope::Group(ward), &format!("/Group/{id}/$export")).await
}

fn export_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::new(ProblemKind::NotFound, "no such export"))
}

/// `GET /fhir/$export-status/{id}`: 202 with the progress while it runs, then the
/// manifest (200), or the failure as an OperationOutcome.
pub async fn status(
    State(state): State<AppState>,
    ApiUser(_, ctx): ApiUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let export = state.app.interop().export(&ctx, export_id(&id)?).await?;
    match export.status {
        ExportStatus::InProgress => {
            let mut res = StatusCode::ACCEPTED.into_response();
            let progress = format!("{} resources written", export.resources);
            for (name, value) in [("x-progress", progress.as_str()), ("retry-after", "2")] {
                if let Ok(v) = HeaderValue::from_str(value) {
                    res.headers_mut().insert(name, v);
                }
            }
            Ok(res)
        }
        ExportStatus::Complete => {
            let mut res =
                (StatusCode::OK, manifest(&export, &base(&headers, &state)).to_string()).into_response();
            res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Ok(res)
        }
        ExportStatus::Failed => Err(ApiError::new(
            ProblemKind::Internal,
            format!("the export failed: {}", export.error.as_deref().unwrap_or("unknown error")),
        )),
        ExportStatus::Cancelled => Err(ApiError::new(ProblemKind::NotFound, "the export was cancelled")),
    }
}

/// The completion manifest.
fn manifest(export: &BulkExport, base: &str) -> Value {
    let output: Vec<Value> = export
        .output
        .iter()
        .map(|f| {
            json!({
                "type": f.kind,
                "url": format!("{base}/$export-file/{}/{}", export.id, f.sha256),
                "count": f.count,
            })
        })
        .collect();
    json!({
        "transactionTime": resources::instant(export.transaction_time),
        "request": export.request,
        "requiresAccessToken": true,
        "output": output,
        "error": [],
    })
}

/// `DELETE /fhir/$export-status/{id}`: cancels a running export, forgets a finished one.
pub async fn cancel(
    State(state): State<AppState>,
    ApiUser(_, ctx): ApiUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.app.interop().cancel_export(&ctx, export_id(&id)?).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `GET /fhir/$export-file/{id}/{file}`: one file of a finished export, to its requester.
pub async fn file(
    State(state): State<AppState>,
    ApiUser(_, ctx): ApiUser,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let bytes = state.app.interop().export_file(&ctx, export_id(&id)?, &file).await?;
    let mut res = (StatusCode::OK, bytes).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(NDJSON));
    Ok(res)
}

/// Where a job stands: the step (a type's source) and the last id read of it.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Cursor {
    step: usize,
    after: Option<Uuid>,
}

/// Has this instance's workers run export jobs.
pub fn register(app: &App) {
    app.register_job(EXPORT_JOB, |app, run| async move {
        let id = run.payload["export_id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| internal("no export_id"))?;
        work(&app, id, Some(&run)).await
    });
}

/// Works an export in the caller's task (the console's `salus export fhir`).
pub async fn work_now(app: &App, id: Uuid) -> Result<(), AppError> {
    work(app, id, None).await
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

/// Works an export from where it stands to its end (or its cancellation); a job renews
/// its claim as it goes.
async fn work(app: &App, id: Uuid, run: Option<&JobRun>) -> Result<(), AppError> {
    let Some(export) = app.interop().export_for_job(id).await? else { return Ok(()) };
    let steps: Vec<(&str, Source)> = export
        .types
        .iter()
        .flat_map(|ty| {
            let ty = EXPORTED.iter().copied().find(|t| t == ty).unwrap_or_default();
            sources_of(ty).iter().map(move |s| (ty, *s))
        })
        .collect();
    let mut cursor: Cursor = serde_json::from_str(&export.cursor).unwrap_or_default();
    let mut output: Vec<ExportFile> = export.output.clone();
    let mut total = export.resources;
    let members = app.interop().export_members(&export).await?;
    let (mut buf, mut count, mut pages) = (Vec::<u8>::new(), 0u64, 0u64);
    while let Some(&(ty, source)) = steps.get(cursor.step) {
        let page = app.interop().export_page(&export, source, cursor.after, members.as_deref(), PAGE).await?;
        let mapped = if source == Source::Patients {
            page.patients.iter().map(resources::patient).collect()
        } else {
            resources_of(ty, &page.record)
        };
        for resource in &mapped {
            serde_json::to_writer(&mut buf, resource).map_err(internal)?;
            buf.push(b'\n');
            count += 1;
        }
        let done = page.rows < PAGE as usize;
        if done {
            cursor = Cursor { step: cursor.step + 1, after: None };
        } else {
            cursor.after = page.last;
        }
        let store = count > 0 && (done || buf.len() >= FILE_BYTES);
        if store {
            let sha256 = app.interop().store_export_file(&buf).await?;
            output.push(ExportFile { kind: ty.to_owned(), sha256, count });
            total += i64::try_from(count).unwrap_or(i64::MAX);
            buf.clear();
            count = 0;
        }
        // Only with nothing held back is where it stands worth keeping.
        if (store || done) && count == 0 {
            let at = serde_json::to_string(&cursor).map_err(internal)?;
            if !app.interop().advance_export(&export, &at, &output, total).await? {
                return Ok(());
            }
        }
        pages += 1;
        if let Some(run) = run
            && pages % 20 == 0
            && !run.renew(app).await?
        {
            return Ok(());
        }
    }
    app.interop().finish_export(&export, None).await
}
