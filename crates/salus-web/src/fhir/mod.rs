//! The FHIR R4 door, under `/fhir`: the hospital's own records read as FHIR resources,
//! searched with R4's search parameters, and a patient's whole record at once
//! (`Patient/{id}/$everything`). Like the API and the pages it parses, calls use cases —
//! the same permissions, relationships, break-the-glass and read audit — and maps what
//! they return (`resources`); it holds no data of its own. Every error, wherever it is
//! made, is answered as an OperationOutcome (`outcome`).
//!
//! Which resources a search looks through is decided here, so no search can scan the
//! hospital: a clinical resource's search names its patient (`patient=`, `subject=`, or
//! `encounter=`), or is a patient's own; a Patient search names something the patient
//! index finds by (name, identifier, telephone, e-mail, birth date) or the ids.
//! Everything else is asked of those candidates by `search`.

mod candidates;
mod capability;
pub mod export;
pub mod history;
pub mod outcome;
pub mod path;
pub mod resources;
pub mod search;
pub mod write;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use salus_app::interop::{Part, PatientRecord};
use salus_app::{AppError, Ctx};
use salus_core::{PatientId, UserId};
use serde_json::{Value, json};
use uuid::Uuid;

use candidates::{audit_candidates, compartment, patient_candidates, slot_window, staff};

use crate::AppState;
use crate::access::{Access, Declared, route};
use crate::api::extract::ApiUser;
use crate::error::{ApiError, ProblemKind};

pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// A search that would have to look through the whole hospital.
pub const TOO_COSTLY: ProblemKind =
    ProblemKind::new("too-costly", StatusCode::BAD_REQUEST, "The search must name what to look through");

const EXPORT: Access = Access::Permission(salus_app::identity::Permission::InteropExport);

pub(crate) const ROUTES: &[Declared] = &[
    route("/fhir/metadata", Access::Public),
    // Batches and transactions: each entry under the caller's own permissions.
    route("/fhir", Access::SignedIn).post(),
    // The base with its trailing slash, where some clients (fhir-kit-client) post bundles.
    route("/fhir/", Access::SignedIn).post(),
    // Who may read what is decided by each resource's use case (clinical reading, the
    // patient's own account, the organisation's readers).
    route("/fhir/{type}", Access::SignedIn).example("/fhir/Patient?name=smith"),
    route("/fhir/{type}/{id}", Access::SignedIn).example("/fhir/Patient/{id}"),
    route("/fhir/{type}/{id}/_history", Access::SignedIn).example("/fhir/Patient/{id}/_history"),
    route("/fhir/{type}/{id}/_history/{vid}", Access::SignedIn).example("/fhir/Patient/{id}/_history/1"),
    route("/fhir/Patient/{id}/$everything", Access::SignedIn),
    // Bulk export: the hospital's data leaving in bulk is its own permission.
    route("/fhir/$export", EXPORT),
    route("/fhir/Patient/$export", EXPORT),
    route("/fhir/Group/{id}/$export", EXPORT),
    route("/fhir/$export-status/{id}", EXPORT).delete(),
    route("/fhir/$export-file/{id}/{file}", EXPORT).example("/fhir/$export-file/{id}/0f0e"),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/fhir/metadata", get(capability::metadata))
        .route("/fhir", post(write::bundle))
        .route("/fhir/", post(write::bundle))
        .route("/fhir/{type}", get(search_type).post(write::create).put(write::update_conditional))
        .route("/fhir/{type}/{id}", get(read).put(write::update).delete(write::delete))
        .route("/fhir/{type}/{id}/_history", get(history::history))
        .route("/fhir/{type}/{id}/_history/{vid}", get(history::vread))
        .route("/fhir/Patient/{id}/$everything", get(everything))
        .route("/fhir/$export", get(export::system))
        .route("/fhir/Patient/$export", get(export::patients))
        .route("/fhir/Group/{id}/$export", get(export::group))
        .route("/fhir/$export-status/{id}", get(export::status).delete(export::cancel))
        .route("/fhir/$export-file/{id}/{file}", get(export::file))
}

/// A FHIR JSON response.
fn fhir(status: StatusCode, body: &Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    res
}

/// The address clients reach this server's FHIR base at.
fn base(headers: &HeaderMap, state: &AppState) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = if state.web.secure_cookies { "https" } else { "http" };
    format!("{scheme}://{host}/fhir")
}

fn served(ty: &str) -> Result<&'static str, ApiError> {
    search::TYPES.iter().copied().find(|t| *t == ty).ok_or_else(|| {
        ApiError::new(
            ProblemKind::NotFound,
            format!("the resource type {ty} is not served here (see /fhir/metadata)"),
        )
    })
}

fn not_found(ty: &str, id: &str) -> ApiError {
    ApiError::new(ProblemKind::NotFound, format!("{ty}/{id} is not known"))
}

/// Whether the client asked for unknown parameters to be refused.
fn strict(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split([',', ';']).any(|p| p.trim() == "handling=strict"))
}

fn pairs(raw: Option<String>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(raw.as_deref().unwrap_or_default()).map_err(|e| {
        ApiError::new(ProblemKind::MalformedRequest, format!("the query string could not be read: {e}"))
    })
}

fn invalid(e: search::Invalid) -> ApiError {
    ApiError::new(ProblemKind::MalformedRequest, e.0)
}

/// For a patient's own account, its record (`Some(None)`: an account not yet linked to
/// one, which sees nothing); `None` for everyone else.
fn own_patient(ctx: &Ctx) -> Option<Option<PatientId>> {
    match &ctx.actor {
        salus_app::identity::Actor::User(u) if u.smart.as_ref().is_some_and(|g| g.patient.is_some()) => {
            u.smart.as_ref().map(|g| g.patient)
        }
        salus_app::identity::Actor::User(u) if u.roles.contains(&salus_core::Role::Patient) => {
            Some(u.patient_id)
        }
        _ => None,
    }
}

/// The record parts holding resources of `ty`.
fn parts_of(ty: &str) -> &'static [Part] {
    match ty {
        "Encounter" => &[Part::Encounters],
        "Condition" => &[Part::Diagnoses],
        "AllergyIntolerance" => &[Part::Allergies],
        "Immunization" => &[Part::Immunizations],
        "Observation" => &[Part::Vitals, Part::LabResults],
        "MedicationRequest" => &[Part::Prescriptions],
        "ServiceRequest" => &[Part::LabOrders],
        "DiagnosticReport" => &[Part::LabOrders, Part::LabResults],
        "Specimen" => &[Part::Specimens, Part::LabOrders],
        "MedicationAdministration" => &[Part::Administrations],
        "MedicationDispense" => &[Part::Dispensed],
        "Appointment" => &[Part::Appointments],
        "DocumentReference" => &[Part::Documents],
        "Coverage" => &[Part::Policies],
        "ChargeItem" => &[Part::Charges],
        "Invoice" => &[Part::Invoices],
        "Claim" => &[Part::Claims],
        _ => &[],
    }
}

/// The resources of `ty` in a gathered record.
fn resources_of(ty: &str, r: &PatientRecord) -> Vec<Value> {
    match ty {
        "Encounter" => r.encounters.iter().map(resources::encounter).collect(),
        "Condition" => r.diagnoses.iter().map(resources::condition).collect(),
        "AllergyIntolerance" => r.allergies.iter().map(resources::allergy).collect(),
        "Immunization" => r.immunizations.iter().map(resources::immunization).collect(),
        "Observation" => r
            .vitals
            .iter()
            .flat_map(resources::vital_observations)
            .chain(r.lab_results.iter().map(resources::lab_observation))
            .collect(),
        "MedicationRequest" => r.prescriptions.iter().map(resources::medication_request).collect(),
        "ServiceRequest" => r.lab_orders.iter().map(resources::service_request).collect(),
        "DiagnosticReport" => r
            .lab_orders
            .iter()
            .filter_map(|o| {
                let results: Vec<&_> = r.lab_results.iter().filter(|x| x.order_id == o.id).collect();
                resources::diagnostic_report(o, &results)
            })
            .collect(),
        "Specimen" => r.specimens.iter().map(|s| resources::specimen(s, &r.lab_orders)).collect(),
        "MedicationAdministration" => r
            .administrations
            .iter()
            .map(|a| {
                resources::medication_administration(
                    a,
                    r.medication_orders.iter().find(|o| o.id == a.order_id),
                )
            })
            .collect(),
        "MedicationDispense" => {
            r.dispensed.iter().map(|(l, d)| resources::medication_dispense(l, d)).collect()
        }
        "Appointment" => r.appointments.iter().map(resources::appointment).collect(),
        "DocumentReference" => r.documents.iter().map(resources::document_reference).collect(),
        "Coverage" => r.policies.iter().map(|(p, plan, payer)| resources::coverage(p, plan, payer)).collect(),
        "ChargeItem" => r.charges.iter().map(|c| resources::charge_item(c, r.currency)).collect(),
        "Invoice" => r.invoices.iter().map(|(i, lines)| resources::invoice(i, lines, r.currency)).collect(),
        "Claim" => r
            .claims
            .iter()
            .map(|(c, lines)| {
                resources::claim(c, lines, r.payers.iter().find(|p| p.id == c.payer_id), r.currency)
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn parse_id<T: From<Uuid>>(ty: &str, id: &str) -> Result<T, ApiError> {
    Uuid::parse_str(id).map(T::from).map_err(|_| not_found(ty, id))
}

/// A resource by type and id, read through its use case (audited).
async fn read_resource(state: &AppState, ctx: &Ctx, ty: &str, id: &str) -> Result<Value, ApiError> {
    let app = &state.app;
    match ty {
        "Patient" => Ok(resources::patient(&app.patients().patient(ctx, parse_id(ty, id)?).await?)),
        "Practitioner" => {
            let member = app.organisation().staff_member(ctx, parse_id::<UserId>(ty, id)?).await?;
            Ok(resources::practitioner(&member))
        }
        "PractitionerRole" => {
            let member = app.organisation().staff_member(ctx, parse_id::<UserId>(ty, id)?).await?;
            let specialities = app.organisation().specialisations(ctx).await?;
            let theirs = specialities.iter().find(|s| Some(s.id) == member.profile.specialisation_id);
            Ok(resources::practitioner_role(&member, theirs))
        }
        "Schedule" => {
            let doctor = parse_id::<UserId>(ty, id)?;
            let templates = app.scheduling().templates(ctx, Some(doctor)).await?;
            let today = salus_app::scheduling::local_now(app.time_zone).0;
            resources::schedule(doctor.as_uuid(), &templates.iter().collect::<Vec<_>>(), today)
                .ok_or_else(|| not_found(ty, id))
        }
        "Slot" => {
            // `{doctor}-{yyyymmdd}-{hhmm}`
            let (doctor, date) = match (id.get(..36), id.get(37..45)) {
                (Some(d), Some(day)) => {
                    (parse_id::<UserId>(ty, d)?, chrono::NaiveDate::parse_from_str(day, "%Y%m%d"))
                }
                _ => return Err(not_found(ty, id)),
            };
            let date = date.map_err(|_| not_found(ty, id))?;
            let slots = app.scheduling().slot_places(ctx, &[doctor], date, 1).await?;
            slots
                .iter()
                .find(|s| resources::slot_id(s) == id)
                .map(resources::slot)
                .ok_or_else(|| not_found(ty, id))
        }
        "AuditEvent" => Ok(resources::audit_event(&app.audit().audit_event(ctx, parse_id(ty, id)?).await?)),
        "Location" => {
            let uuid: Uuid = parse_id(ty, id)?;
            let (wards, beds) = app.inpatient().locations(ctx).await?;
            wards
                .iter()
                .find(|w| w.id == uuid)
                .map(resources::ward_location)
                .or_else(|| beds.iter().find(|b| b.id == uuid).map(resources::bed_location))
                .ok_or_else(|| not_found(ty, id))
        }
        "Medication" => Ok(resources::medication(&app.clinical().medicine(ctx, parse_id(ty, id)?).await?)),
        "Organization" => {
            let uuid: Uuid = parse_id(ty, id)?;
            match app.organisation().facility(ctx, uuid.into()).await {
                Ok(f) => Ok(resources::facility(&f)),
                Err(AppError::NotFound(_)) => {
                    Ok(resources::department(&app.organisation().department(ctx, uuid.into()).await?))
                }
                Err(e) => Err(e.into()),
            }
        }
        _ => {
            // A vital sign's id is its set's id and the measurement (`…-hr`).
            let (row, parts): (&str, &[Part]) = match (ty, id.get(..36), id.get(36..)) {
                ("Observation", Some(set), Some(rest)) if rest.starts_with('-') => (set, &[Part::Vitals]),
                ("Observation", _, _) => (id, &[Part::LabResults]),
                _ => (id, parts_of(ty)),
            };
            // The row the id names is of the first part (a report's is its order's).
            let part = *parts.first().ok_or_else(|| not_found(ty, id))?;
            let row = Uuid::parse_str(row).map_err(|_| not_found(ty, id))?;
            let patient = app.interop().owner(part, row).await.map_err(|_| not_found(ty, id))?;
            let record = app.interop().patient_record(ctx, patient, parts).await?;
            resources_of(ty, &record).into_iter().find(|r| r["id"] == id).ok_or_else(|| not_found(ty, id))
        }
    }
}

fn with_etag(mut res: Response, resource: &Value) -> Response {
    if let Some(v) = resource["meta"]["versionId"].as_str()
        && let Ok(etag) = HeaderValue::from_str(&format!("W/\"{v}\""))
    {
        res.headers_mut().insert(header::ETAG, etag);
    }
    res
}

/// `GET /fhir/{type}/{id}`
async fn read(
    State(state): State<AppState>,
    ApiUser(_, ctx): ApiUser,
    Path((ty, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let ty = served(&ty)?;
    let resource = read_resource(&state, &ctx, ty, &id).await?;
    Ok(with_etag(fhir(StatusCode::OK, &resource), &resource))
}

/// Whether a patient's own records include resources that `has` asks for.
fn has_matches(
    has: &search::Has,
    patient_ref: &str,
    record: &PatientRecord,
    resolve: search::Resolver<'_>,
) -> bool {
    resources_of(&has.source, record).iter().any(|r| {
        has.reference
            .nodes(r)
            .iter()
            .any(|n| n.value.get("reference").and_then(Value::as_str) == Some(patient_ref))
            && has.criterion.matches(r, resolve)
    })
}

/// What a search found: the page, and everything a reference in it may be resolved to
/// (the candidates, and what was read alongside them for chains and includes).
pub(crate) struct Found {
    pub page: search::Page,
    pub context: Vec<Value>,
    pub candidates: Vec<Value>,
}

/// Resources by `Type/id`.
fn by_reference<'a>(
    context: &'a [Value],
    candidates: &'a [Value],
) -> std::collections::HashMap<String, &'a Value> {
    context
        .iter()
        .chain(candidates.iter())
        .filter_map(|r| Some((format!("{}/{}", r["resourceType"].as_str()?, r["id"].as_str()?), r)))
        .collect()
}

/// The resource a reference (`Type/id`, or the same after a base) names, if at hand.
fn resolve_in<'a>(
    by_ref: &std::collections::HashMap<String, &'a Value>,
    reference: &str,
) -> Option<&'a Value> {
    let key = reference.rsplitn(3, '/').take(2).collect::<Vec<_>>();
    let key = if key.len() == 2 { format!("{}/{}", key[1], key[0]) } else { reference.to_owned() };
    by_ref.get(&key).copied()
}

/// The resources of `ty` matching `q`, looked for among the candidates the search names
/// (see the module's note), a page of them.
pub(crate) async fn find(
    state: &AppState,
    ctx: &Ctx,
    ty: &str,
    q: &search::Query,
) -> Result<Found, ApiError> {
    let app = &state.app;
    // Everything a reference in the candidates may be resolved to (chains, includes).
    let mut context: Vec<Value> = Vec::new();
    let candidates: Vec<Value> = match ty {
        "Patient" => {
            let patients = patient_candidates(state, ctx, q).await?;
            let mut out = Vec::new();
            for p in &patients {
                let resource = resources::patient(p);
                if !q.has.is_empty() || !q.revincludes.is_empty() {
                    let mut parts: Vec<Part> = Vec::new();
                    let sources =
                        q.has.iter().map(|h| &h.source).chain(q.revincludes.iter().map(|i| &i.source));
                    for part in sources.flat_map(|s| parts_of(s).iter().copied()) {
                        if !parts.contains(&part) {
                            parts.push(part);
                        }
                    }
                    let record = app.interop().patient_record(ctx, p.id, &parts).await?;
                    let me = format!("Patient/{}", p.id);
                    let resolve = |_: &str| None;
                    if !q.has.iter().all(|h| has_matches(h, &me, &record, &resolve)) {
                        continue;
                    }
                    for inc in &q.revincludes {
                        context.extend(resources_of(&inc.source, &record));
                    }
                }
                out.push(resource);
            }
            out
        }
        "Practitioner" => staff(app, ctx).await?.iter().map(resources::practitioner).collect(),
        "PractitionerRole" => {
            let specialities = app.organisation().specialisations(ctx).await?;
            staff(app, ctx)
                .await?
                .iter()
                .map(|m| {
                    let theirs = specialities.iter().find(|s| Some(s.id) == m.profile.specialisation_id);
                    resources::practitioner_role(m, theirs)
                })
                .collect()
        }
        "Schedule" => {
            let templates = app.scheduling().templates(ctx, None).await?;
            let mut doctors: Vec<Uuid> = templates.iter().map(|t| t.doctor_id).collect();
            doctors.sort();
            doctors.dedup();
            let today = salus_app::scheduling::local_now(app.time_zone).0;
            doctors
                .iter()
                .filter_map(|d| {
                    let theirs: Vec<_> = templates.iter().filter(|t| t.doctor_id == *d).collect();
                    resources::schedule(*d, &theirs, today)
                })
                .collect()
        }
        "Slot" => {
            let doctors: Vec<UserId> = q
                .referenced("schedule", "Schedule")
                .unwrap_or_default()
                .iter()
                .filter_map(|i| Uuid::parse_str(i).ok())
                .map(UserId::from_uuid)
                .collect();
            let (from, days) = slot_window(q, salus_app::scheduling::local_now(app.time_zone).0)?;
            app.scheduling()
                .slot_places(ctx, &doctors, from, days)
                .await?
                .iter()
                .map(resources::slot)
                .collect()
        }
        "Organization" => {
            let mut out: Vec<Value> =
                app.organisation().facilities(ctx).await?.iter().map(resources::facility).collect();
            out.extend(app.organisation().departments(ctx, None).await?.iter().map(resources::department));
            out
        }
        "Location" => {
            let (wards, beds) = app.inpatient().locations(ctx).await?;
            let mut out: Vec<Value> = wards.iter().map(resources::ward_location).collect();
            out.extend(beds.iter().map(resources::bed_location));
            out
        }
        "Medication" => app.clinical().formulary(ctx).await?.iter().map(resources::medication).collect(),
        "AuditEvent" => audit_candidates(state, ctx, q).await?,
        _ => {
            if !q.has.is_empty() {
                return Err(ApiError::new(
                    ProblemKind::MalformedRequest,
                    "_has is served on Patient searches",
                ));
            }
            let needs_patient =
                q.criteria.iter().any(|c| c.chain.as_ref().is_some_and(|(t, _)| t == "Patient"))
                    || q.includes.iter().any(|i| i.target.as_deref().unwrap_or("Patient") == "Patient");
            let needs_encounters =
                q.criteria.iter().any(|c| c.chain.as_ref().is_some_and(|(t, _)| t == "Encounter"))
                    || q.includes.iter().any(|i| i.param.targets.iter().any(|t| t == "Encounter"));
            let mut out = Vec::new();
            for patient in compartment(state, ctx, ty, q).await? {
                let mut parts = parts_of(ty).to_vec();
                if needs_encounters && ty != "Encounter" {
                    parts.push(Part::Encounters);
                }
                let record = match app.interop().patient_record(ctx, patient, &parts).await {
                    Ok(r) => r,
                    // A patient named in the search who is not there matches nothing.
                    Err(AppError::NotFound(_)) => continue,
                    Err(e) => return Err(e.into()),
                };
                if needs_patient {
                    context.push(resources::patient(&app.patients().patient(ctx, patient).await?));
                }
                if needs_encounters && ty != "Encounter" {
                    context.extend(resources_of("Encounter", &record));
                }
                out.extend(resources_of(ty, &record));
            }
            out
        }
    };
    let by_ref = by_reference(&context, &candidates);
    let page = q.run(candidates.clone(), &|reference: &str| resolve_in(&by_ref, reference));
    drop(by_ref);
    Ok(Found { page, context, candidates })
}

/// `GET /fhir/{type}?…`
async fn search_type(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiUser(_, ctx): ApiUser,
    Path(ty): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let ty = served(&ty)?;
    let q = search::parse(ty, &pairs(raw)?, strict(&headers)).map_err(invalid)?;
    let ctx = &ctx;
    let base = base(&headers, &state);
    let Found { page, context, candidates } = find(&state, ctx, ty, &q).await?;
    let by_ref = by_reference(&context, &candidates);
    let resolve = |reference: &str| resolve_in(&by_ref, reference);
    let mut links = vec![json!({"relation": "self", "url": link(&base, ty, &q.echo, None)})];
    if let Some(next) = &page.next {
        links.push(json!({"relation": "next", "url": link(&base, ty, &q.echo, Some(next))}));
    }
    let mut bundle = json!({"resourceType": "Bundle", "type": "searchset", "link": links});
    if q.total || q.summary == search::Summary::Count {
        bundle["total"] = json!(page.total);
    }
    let mut entries: Vec<Value> = Vec::new();
    if q.summary != search::Summary::Count {
        let full_url = |r: &Value| {
            format!(
                "{base}/{}/{}",
                r["resourceType"].as_str().unwrap_or_default(),
                r["id"].as_str().unwrap_or_default()
            )
        };
        let mut shown: std::collections::HashSet<String> = std::collections::HashSet::new();
        for r in &page.entries {
            shown.insert(full_url(r));
            entries.push(json!({"fullUrl": full_url(r), "resource": r, "search": {"mode": "match"}}));
        }
        // _include (and :iterate, over what was included): referenced resources at hand.
        let mut frontier: Vec<Value> = page.entries.clone();
        for round in 0..3 {
            let mut found = Vec::new();
            for inc in q.includes.iter().filter(|i| round == 0 || i.iterate) {
                for r in frontier.iter().filter(|r| r["resourceType"] == inc.source.as_str()) {
                    for n in inc.param.nodes(r) {
                        let Some(reference) = n.value.get("reference").and_then(Value::as_str) else {
                            continue;
                        };
                        if inc.target.as_deref().is_some_and(|t| path::reference_type(reference) != Some(t)) {
                            continue;
                        }
                        let target = match resolve(reference) {
                            Some(t) => Some(t.clone()),
                            None => match path::reference_type(reference) {
                                Some(t @ ("Practitioner" | "Organization")) => {
                                    let id = reference.rsplit('/').next().unwrap_or_default();
                                    read_resource(&state, ctx, t, id).await.ok()
                                }
                                _ => None,
                            },
                        };
                        if let Some(t) = target
                            && shown.insert(full_url(&t))
                        {
                            found.push(t);
                        }
                    }
                }
            }
            if found.is_empty() {
                break;
            }
            for t in &found {
                entries.push(json!({"fullUrl": full_url(t), "resource": t, "search": {"mode": "include"}}));
            }
            frontier = found;
        }
        // _revinclude: the resources at hand that refer to an entry shown.
        for inc in &q.revincludes {
            let refs: std::collections::HashSet<String> = page
                .entries
                .iter()
                .filter_map(|r| Some(format!("{}/{}", r["resourceType"].as_str()?, r["id"].as_str()?)))
                .collect();
            for r in context.iter().filter(|r| r["resourceType"] == inc.source.as_str()) {
                let refers = inc.param.nodes(r).iter().any(|n| {
                    n.value.get("reference").and_then(Value::as_str).is_some_and(|x| refs.contains(x))
                });
                if refers && shown.insert(full_url(r)) {
                    entries
                        .push(json!({"fullUrl": full_url(r), "resource": r, "search": {"mode": "include"}}));
                }
            }
        }
    }
    if !q.warnings.is_empty() {
        entries.push(json!({
            "resource": outcome::warnings(&q.warnings),
            "search": {"mode": "outcome"},
        }));
    }
    if !entries.is_empty() {
        bundle["entry"] = json!(entries);
    }
    Ok(fhir(StatusCode::OK, &bundle))
}

/// A search link: the parameters as given, and the cursor of the page it leads to.
fn link(base: &str, ty: &str, echo: &[(String, String)], cursor: Option<&search::Cursor>) -> String {
    let mut pairs: Vec<(String, String)> = echo.to_vec();
    if let Some(c) = cursor {
        pairs.push(("_cursor".into(), c.encode()));
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    if query.is_empty() { format!("{base}/{ty}") } else { format!("{base}/{ty}?{query}") }
}

/// `GET /fhir/Patient/{id}/$everything`: the patient and everything in their record this
/// server serves, in pages (`_count`, and the next link's cursor).
async fn everything(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiUser(_, ctx): ApiUser,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let ctx = &ctx;
    let patient_id: PatientId = parse_id("Patient", &id)?;
    let mut pairs = pairs(raw)?;
    pairs.retain(|(k, _)| matches!(k.as_str(), "_count" | "_cursor"));
    let q = search::parse("Patient", &pairs, false).map_err(invalid)?;
    let patient = state.app.patients().patient(ctx, patient_id).await?;
    let record = state.app.interop().patient_record(ctx, patient_id, &Part::readable(ctx)).await?;
    let mut all = vec![resources::patient(&patient)];
    // Every type of the patient's compartment, of the parts the caller may read.
    for ty in search::TYPES.iter().filter(|t| !parts_of(t).is_empty()) {
        all.extend(resources_of(ty, &record));
    }
    let none = |_: &str| None;
    let page = q.run(all, &none);
    let base = base(&headers, &state);
    let here = format!("Patient/{id}/$everything");
    let mut links = vec![json!({"relation": "self", "url": link(&base, &here, &q.echo, None)})];
    if let Some(next) = &page.next {
        links.push(json!({"relation": "next", "url": link(&base, &here, &q.echo, Some(next))}));
    }
    let entries: Vec<Value> = page
        .entries
        .iter()
        .map(|r| {
            json!({
                "fullUrl": format!("{base}/{}/{}", r["resourceType"].as_str().unwrap_or_default(), r["id"].as_str().unwrap_or_default()),
                "resource": r,
                "search": {"mode": "match"},
            })
        })
        .collect();
    let mut bundle =
        json!({"resourceType": "Bundle", "type": "searchset", "total": page.total, "link": links});
    if !entries.is_empty() {
        bundle["entry"] = json!(entries);
    }
    Ok(fhir(StatusCode::OK, &bundle))
}
