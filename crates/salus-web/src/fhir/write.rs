//! Writes through the FHIR door: a resource created (`POST /fhir/{type}`, conditionally
//! with `If-None-Exist`), and batch and transaction bundles (`POST /fhir`). They are taken
//! in by the same use case as `salus import fhir`, so a resource becomes the same record
//! whichever way it arrives, under the caller's own permissions and with the same audit.
//!
//! References are resolved here, before anything is written: an entry's `urn:uuid:` full
//! URL names that entry; `Type/id` (or the same after this server's base) names Salus's
//! own record, which must exist and be the caller's to read; `Type?criteria` is searched
//! for and must find exactly one. A transaction is all or nothing: an entry Salus cannot
//! take in refuses the whole of it, with the entry and the reason.
//!
//! A new resource's id is derived from what names it — the entry's `urn:uuid:`, or the
//! criteria of a conditional create — so the same transaction sent twice creates nothing
//! the second time, and two conditional creates racing for the same criteria write the
//! same row: one is created, the other finds it (hapi-fhir#3141, medplum#4878).
//! Clinical records are not updated or deleted through FHIR: Salus corrects them by
//! amendment or marks them entered in error, with a reason, from the chart.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use salus_app::interop::import::{Importer, Outcome};
use salus_app::patients::{Patient, PatientInput};
use salus_app::{AppError, Ctx};
use salus_core::PatientId;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{base, fhir, find, invalid, outcome, read_resource, search, served, with_etag};
use crate::AppState;
use crate::api::extract::ApiUser;
use crate::error::{ApiError, ProblemKind};

/// A conditional create or reference whose criteria found more than one resource.
const AMBIGUOUS: ProblemKind = ProblemKind::new(
    "multiple-matches",
    StatusCode::PRECONDITION_FAILED,
    "The criteria match more than one resource",
);

/// An interaction Salus does not take for this type.
const NOT_ALLOWED: ProblemKind =
    ProblemKind::new("not-allowed", StatusCode::METHOD_NOT_ALLOWED, "This interaction is not allowed here");

/// The resource types a client's resources are taken in as (by `salus import fhir` too).
pub const TAKEN: &[&str] =
    &["Patient", "Encounter", "Observation", "Condition", "AllergyIntolerance", "Immunization"];

/// The most entries one bundle may hold.
const MAX_ENTRIES: usize = 10_000;

fn malformed(message: impl Into<String>) -> ApiError {
    ApiError::new(ProblemKind::MalformedRequest, message)
}

fn json_body(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| malformed(format!("the body is not JSON: {e}")))
}

/// One entry to take in: where it came from in the bundle, and how it is asked for.
struct Entry {
    index: usize,
    full_url: Option<String>,
    resource: Value,
    /// A conditional create's criteria.
    if_none_exist: Option<String>,
}

/// What became of an entry, as the response's entry says it.
struct Done {
    status: StatusCode,
    resource_type: String,
    id: String,
}

impl Done {
    fn location(&self) -> String {
        format!("{}/{}/_history/1", self.resource_type, self.id)
    }

    fn response(&self) -> Value {
        json!({
            "status": format!("{} {}", self.status.as_u16(), self.status.canonical_reason().unwrap_or_default()),
            "location": self.location(),
        })
    }
}

/// The ids of the `ty` resources `criteria` (a query string) finds, at most two: enough
/// to tell none, one and more than one apart.
async fn matching(state: &AppState, ctx: &Ctx, ty: &str, criteria: &str) -> Result<Vec<String>, ApiError> {
    let ty = served(ty)?;
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(criteria)
        .map_err(|e| malformed(format!("the criteria `{criteria}` could not be read: {e}")))?;
    if pairs.is_empty() {
        return Err(malformed(format!("the criteria of a conditional {ty} are empty")));
    }
    pairs.retain(|(k, _)| !k.starts_with('_') || k == "_id");
    pairs.push(("_count".into(), "2".into()));
    let q = search::parse(ty, &pairs, true).map_err(invalid)?;
    let found = find(state, ctx, ty, &q).await?;
    Ok(found.page.entries.iter().filter_map(|r| r["id"].as_str().map(str::to_owned)).collect())
}

/// Criteria written one way whatever their order, so racing creates derive one id.
fn canonical(criteria: &str) -> String {
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(criteria).unwrap_or_default();
    pairs.sort();
    serde_urlencoded::to_string(&pairs).unwrap_or_default()
}

/// The `Type` and rest of a reference: `Type/id`, `Type?criteria`, or either after this
/// server's base.
fn split_reference<'a>(reference: &'a str, base: &str) -> Option<(&'a str, &'a str, bool)> {
    let r = reference.strip_prefix(base).map(|r| r.trim_start_matches('/')).unwrap_or(reference);
    if let Some((ty, criteria)) = r.split_once('?') {
        return Some((ty, criteria, true));
    }
    let (ty, id) = r.split_once('/')?;
    (!id.contains('/')).then_some((ty, id, false))
}

/// Every `reference` in a resource.
fn references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("reference") {
                out.push(r.clone());
            }
            m.values().for_each(|x| references(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| references(x, out)),
        _ => {}
    }
}

/// Whether the record `Type/id` exists and the caller may read it.
async fn exists(state: &AppState, ctx: &Ctx, ty: &str, id: &str) -> Result<Uuid, ApiError> {
    let not_known = || ApiError::new(ProblemKind::Validation, format!("{ty}/{id} is not known"));
    let uuid = Uuid::parse_str(id).map_err(|_| not_known())?;
    match read_resource(state, ctx, ty, id).await {
        Ok(_) => Ok(uuid),
        Err(e) if e.kind == ProblemKind::NotFound => Err(not_known()),
        Err(e) => Err(e),
    }
}

/// Takes in `entries` as one transaction. `Ok` holds each entry's outcome in order.
async fn transact(
    state: &AppState,
    ctx: &Ctx,
    base: &str,
    mut entries: Vec<Entry>,
) -> Result<Vec<Done>, ApiError> {
    let full_urls: std::collections::HashSet<String> =
        entries.iter().filter_map(|e| e.full_url.clone()).collect();
    let mut resolved: HashMap<String, Uuid> = HashMap::new();
    let mut done: HashMap<usize, Done> = HashMap::new();
    // Conditional creates: one found is the answer (and what the entry's full URL names).
    for e in &mut entries {
        let ty = e.resource["resourceType"].as_str().unwrap_or_default().to_owned();
        let key = match &e.if_none_exist {
            Some(criteria) => {
                let found = matching(state, ctx, &ty, criteria).await?;
                match found.as_slice() {
                    [] => format!("?{}", canonical(criteria)),
                    [one] => {
                        if let (Some(url), Ok(id)) = (&e.full_url, Uuid::parse_str(one)) {
                            resolved.insert(url.clone(), id);
                        }
                        done.insert(
                            e.index,
                            Done { status: StatusCode::OK, resource_type: ty, id: one.clone() },
                        );
                        continue;
                    }
                    _ => {
                        return Err(ApiError::new(
                            AMBIGUOUS,
                            format!("entry {}: {ty}?{criteria} matches more than one resource", e.index),
                        ));
                    }
                }
            }
            None => match &e.full_url {
                Some(url) if url.starts_with("urn:uuid:") => url.clone(),
                _ => Uuid::now_v7().to_string(),
            },
        };
        e.resource["id"] = json!(key);
    }
    // References outside the bundle: Salus's own records.
    for e in entries.iter().filter(|e| !done.contains_key(&e.index)) {
        let mut refs = Vec::new();
        references(&e.resource, &mut refs);
        for r in refs {
            if full_urls.contains(&r) || resolved.contains_key(&r) || r.starts_with('#') {
                continue;
            }
            let Some((ty, rest, conditional)) = split_reference(&r, base) else {
                return Err(ApiError::new(
                    ProblemKind::Validation,
                    format!("entry {}: the reference `{r}` names nothing in the bundle or in Salus", e.index),
                ));
            };
            let id = if conditional {
                match matching(state, ctx, ty, rest).await?.as_slice() {
                    [one] => Uuid::parse_str(one).ok(),
                    [] => {
                        return Err(ApiError::new(
                            ProblemKind::Validation,
                            format!("entry {}: `{r}` finds no resource", e.index),
                        ));
                    }
                    _ => {
                        return Err(ApiError::new(
                            AMBIGUOUS,
                            format!("entry {}: `{r}` finds more than one resource", e.index),
                        ));
                    }
                }
            } else if matches!(ty, "Patient" | "Encounter") {
                // Checked as it is written to: the patient found and the caller's to write
                // to, the visit found and that patient's.
                Some(Uuid::parse_str(rest).map_err(|_| {
                    ApiError::new(ProblemKind::Validation, format!("entry {}: {r} is not known", e.index))
                })?)
            } else if ty == "Practitioner" {
                Some(exists(state, ctx, ty, rest).await.map_err(|err| {
                    ApiError::new(err.kind, format!("entry {}: {}", e.index, err.detail.unwrap_or_default()))
                })?)
            } else {
                // A reference Salus keeps no record of (an insurer, a care plan) is not
                // followed; the record is taken in without it.
                None
            };
            if let Some(id) = id {
                resolved.insert(r, id);
            }
        }
    }
    let to_take: Vec<&Entry> = entries.iter().filter(|e| !done.contains_key(&e.index)).collect();
    if !to_take.is_empty() {
        let bundle: Vec<Value> =
            to_take.iter().map(|e| json!({"fullUrl": e.full_url, "resource": e.resource})).collect();
        let mut importer = Importer::door(resolved);
        let outcomes =
            state.app.interop().import_fhir(ctx, &mut importer, bundle).await.map_err(|e| match e {
                AppError::NotFound(what) => ApiError::new(
                    ProblemKind::Validation,
                    format!("the {what} a reference names is not known"),
                ),
                e => e.into(),
            })?;
        for (e, o) in to_take.iter().zip(outcomes) {
            match o {
                Outcome::Stored { resource_type, id, created } => {
                    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
                    done.insert(e.index, Done { status, resource_type: resource_type.to_owned(), id });
                }
                Outcome::Skipped(why) => {
                    return Err(ApiError::new(
                        ProblemKind::Validation,
                        format!("entry {} cannot be taken in: {why}", e.index),
                    ));
                }
            }
        }
    }
    let mut out: Vec<(usize, Done)> = done.into_iter().collect();
    out.sort_by_key(|(i, _)| *i);
    Ok(out.into_iter().map(|(_, d)| d).collect())
}

/// [`transact`], once more if it failed while creating conditionally: a create racing
/// another for the same criteria loses, and the second look finds the winner's resource.
async fn transact_once_more(
    state: &AppState,
    ctx: &Ctx,
    base: &str,
    entries: Vec<Entry>,
) -> Result<Vec<Done>, ApiError> {
    let conditional = entries.iter().any(|e| e.if_none_exist.is_some());
    let again: Vec<Entry> = if conditional {
        entries
            .iter()
            .map(|e| Entry {
                index: e.index,
                full_url: e.full_url.clone(),
                resource: e.resource.clone(),
                if_none_exist: e.if_none_exist.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    match transact(state, ctx, base, entries).await {
        // The loser of a race fails on the row's key, or (its check coming after the
        // winner's commit) on the identifier the winner now holds: whatever it failed on,
        // a second look finds the winner, or fails again for a reason of its own.
        Err(_) if conditional => transact(state, ctx, base, again).await,
        other => other,
    }
}

fn if_none_exist(headers: &HeaderMap) -> Option<String> {
    headers.get("if-none-exist").and_then(|v| v.to_str().ok()).map(|v| {
        // Sent as a query (`identifier=…`) or, by some clients, as a URL's query.
        v.rsplit_once('?').map(|(_, q)| q).unwrap_or(v).to_owned()
    })
}

/// `POST /fhir/{type}`: a new resource (or, with `If-None-Exist`, the one that matches).
pub(super) async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiUser(_, ctx): ApiUser,
    Path(ty): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ty = served(&ty)?;
    if !TAKEN.contains(&ty) {
        return Err(ApiError::new(
            NOT_ALLOWED,
            format!(
                "{ty} is not created through FHIR: Salus makes it in its own workflow (see /fhir/metadata)"
            ),
        ));
    }
    let resource = json_body(&body)?;
    if resource["resourceType"] != ty {
        return Err(malformed(format!("the body is not a {ty} resource")));
    }
    let base = base(&headers, &state);
    let entry = Entry { index: 0, full_url: None, resource, if_none_exist: if_none_exist(&headers) };
    let done = transact_once_more(&state, &ctx, &base, vec![entry]).await?;
    let done = done.into_iter().next().ok_or_else(|| malformed("nothing was taken in"))?;
    let stored = read_resource(&state, &ctx, &done.resource_type, &done.id).await?;
    let mut res = with_etag(fhir(done.status, &stored), &stored);
    if let Ok(location) = HeaderValue::from_str(&format!("{base}/{}", done.location())) {
        res.headers_mut().insert(header::LOCATION, location);
    }
    Ok(res)
}

/// `POST /fhir`: a batch (each entry on its own) or a transaction (all or nothing) of
/// creates.
pub(super) async fn bundle(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiUser(_, ctx): ApiUser,
    body: Bytes,
) -> Result<Response, ApiError> {
    let bundle = json_body(&body)?;
    if bundle["resourceType"] != "Bundle" {
        return Err(malformed("POST /fhir takes a Bundle of type batch or transaction"));
    }
    let kind = bundle["type"].as_str().unwrap_or_default();
    if !matches!(kind, "batch" | "transaction") {
        return Err(malformed(format!(
            "a Bundle of type `{kind}` is not processed; send batch or transaction"
        )));
    }
    let raw = bundle["entry"].as_array().cloned().unwrap_or_default();
    if raw.len() > MAX_ENTRIES {
        return Err(malformed(format!("a bundle holds at most {MAX_ENTRIES} entries; send it in parts")));
    }
    let mut entries = Vec::with_capacity(raw.len());
    for (index, e) in raw.into_iter().enumerate() {
        let method = e["request"]["method"].as_str().unwrap_or_default();
        let resource = e["resource"].clone();
        let ty = resource["resourceType"].as_str().unwrap_or_default();
        if method != "POST" {
            let why = if method.is_empty() {
                format!("entry {index} has no request method")
            } else {
                format!(
                    "entry {index}: {method} is not taken in a bundle here; records are created (POST), and corrected in Salus"
                )
            };
            return Err(ApiError::new(NOT_ALLOWED, why));
        }
        if !resource.is_object() || ty.is_empty() {
            return Err(malformed(format!("entry {index} holds no resource")));
        }
        let url = e["request"]["url"].as_str().unwrap_or_default();
        if url.split('?').next() != Some(ty) {
            return Err(malformed(format!("entry {index}: request.url `{url}` is not its type, {ty}")));
        }
        entries.push(Entry {
            index,
            full_url: e["fullUrl"].as_str().map(str::to_owned),
            resource,
            if_none_exist: e["request"]["ifNoneExist"].as_str().map(str::to_owned),
        });
    }
    let base = base(&headers, &state);
    let responses: Vec<Value> = if kind == "transaction" {
        transact_once_more(&state, &ctx, &base, entries)
            .await?
            .iter()
            .map(|d| json!({"fullUrl": format!("{base}/{}/{}", d.resource_type, d.id), "response": d.response()}))
            .collect()
    } else {
        let mut out = Vec::new();
        for e in entries {
            out.push(match transact_once_more(&state, &ctx, &base, vec![e]).await {
                Ok(d) => d
                    .first()
                    .map(|d| {
                        json!({"fullUrl": format!("{base}/{}/{}", d.resource_type, d.id), "response": d.response()})
                    })
                    .unwrap_or(Value::Null),
                Err(err) => {
                    let status = err.kind.status();
                    let problem = serde_json::to_value(err.problem()).unwrap_or_default();
                    json!({"response": {
                        "status": format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or_default()),
                        "outcome": outcome::from_problem(status, &problem),
                    }})
                }
            });
        }
        out
    };
    let body = json!({
        "resourceType": "Bundle",
        "type": format!("{kind}-response"),
        "entry": responses,
    });
    Ok(fhir(StatusCode::OK, &body))
}

/// Why a resource of `ty` is not replaced through FHIR.
fn not_replaced(ty: &str) -> ApiError {
    ApiError::new(
        NOT_ALLOWED,
        format!(
            "{ty} is not replaced through FHIR: Salus keeps each change to a clinical record with who made it and why, so it is amended, or marked entered in error with a reason, from the chart"
        ),
    )
}

/// A `Patient` resource laid over the record as it stands: what FHIR carries (names,
/// gender, birth date, telecom, address, emergency contact, language, identifiers) is
/// replaced, absent elements cleared; what it does not carry (blood group, insurance,
/// consents, restriction) is kept. Status, death and merges have their own use cases.
fn overlay(resource: &Value, current: &Patient) -> Result<PatientInput, ApiError> {
    let invalid = |field: &str, message: String| {
        ApiError::fields(vec![crate::error::FieldProblem { field: field.to_owned(), message }])
    };
    let mut input = PatientInput::from(current);
    let text = |v: &Value| v.as_str().map(str::trim).unwrap_or_default().to_owned();
    let names = resource["name"].as_array().cloned().unwrap_or_default();
    let name = names.iter().find(|n| n["use"] == "official").or(names.first()).cloned().unwrap_or_default();
    input.family_name = text(&name["family"]);
    input.given_names =
        name["given"].as_array().into_iter().flatten().map(text).collect::<Vec<_>>().join(" ");
    input.sex = resource["gender"].as_str().unwrap_or("unknown").to_owned();
    input.birth_date = text(&resource["birthDate"]);
    let telecom = resource["telecom"].as_array().cloned().unwrap_or_default();
    let mut phones: Vec<&Value> = telecom.iter().filter(|t| t["system"] == "phone").collect();
    phones.sort_by_key(|t| t["rank"].as_u64().unwrap_or(u64::MAX));
    input.phone = phones.first().map(|t| text(&t["value"])).unwrap_or_default();
    input.phone_alt = phones.get(1).map(|t| text(&t["value"])).unwrap_or_default();
    input.email =
        telecom.iter().find(|t| t["system"] == "email").map(|t| text(&t["value"])).unwrap_or_default();
    let address = &resource["address"][0];
    input.address_line = text(&address["line"][0]);
    input.city = text(&address["city"]);
    input.district = text(&address["district"]);
    input.state = text(&address["state"]);
    input.postal_code = text(&address["postalCode"]);
    input.country = text(&address["country"]);
    let contact = &resource["contact"][0];
    input.emergency_name = text(&contact["name"]["text"]);
    if input.emergency_name.is_empty() {
        let given = contact["name"]["given"].as_array().into_iter().flatten().map(text);
        input.emergency_name = given
            .chain([text(&contact["name"]["family"])])
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
    }
    input.emergency_phone = contact["telecom"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["system"] == "phone")
        .map(|t| text(&t["value"]))
        .unwrap_or_default();
    input.emergency_relation = text(&contact["relationship"][0]["text"]);
    let language = &resource["communication"][0]["language"];
    input.preferred_language =
        [&language["text"], &language["coding"][0]["display"], &language["coding"][0]["code"]]
            .into_iter()
            .map(text)
            .find(|s| !s.is_empty())
            .unwrap_or_default();
    let mut identifiers = Vec::new();
    for (i, id) in resource["identifier"].as_array().into_iter().flatten().enumerate() {
        let system = id["system"].as_str().unwrap_or_default();
        let value = text(&id["value"]);
        if system == super::resources::MRN_SYSTEM {
            if value != current.mrn {
                return Err(invalid(
                    &format!("identifier[{i}]"),
                    "the MRN is Salus's own and does not change".into(),
                ));
            }
            continue;
        }
        match system.strip_prefix("urn:salus:id:") {
            Some(kind) => identifiers.push((kind.to_owned(), value)),
            None => {
                return Err(invalid(
                    &format!("identifier[{i}]"),
                    format!(
                        "`{system}` is not an identifier system Salus keeps (urn:salus:id:national_id, :passport, :driving_licence, …)"
                    ),
                ));
            }
        }
    }
    input.identifiers = identifiers;
    let active = resource["active"].as_bool().unwrap_or(true);
    if active != (current.active && current.merged_into.is_none()) {
        return Err(invalid(
            "active",
            "a record is deactivated, reactivated or merged from Salus, not by an update".into(),
        ));
    }
    let deceased = resource["deceasedDateTime"]
        .as_str()
        .map(|d| chrono::DateTime::parse_from_rfc3339(d).map(|t| t.timestamp()).unwrap_or(i64::MIN));
    if deceased != current.deceased_at.map(|d| d.timestamp()) {
        return Err(invalid(
            "deceasedDateTime",
            "a death is recorded from Salus, with its own checks, not by an update".into(),
        ));
    }
    Ok(input)
}

/// The version an update was made against: `If-Match: W/"3"`.
fn if_match(headers: &HeaderMap) -> Option<Result<i32, ApiError>> {
    let raw = headers.get(header::IF_MATCH)?.to_str().ok()?;
    Some(
        raw.trim().trim_start_matches("W/").trim_matches('"').parse().map_err(|_| {
            malformed(format!("If-Match `{raw}` is not a version this server gave out (W/\"n\")"))
        }),
    )
}

/// Replaces a patient's demographics against `version`, as FHIR answers it.
async fn replace_patient(
    state: &AppState,
    ctx: &Ctx,
    id: PatientId,
    version: Option<i32>,
    resource: &Value,
) -> Result<Value, ApiError> {
    let patients = state.app.patients();
    let current = patients.patient(ctx, id).await?;
    let version = version.unwrap_or(current.version);
    let input = overlay(resource, &current)?;
    match patients.update_patient(ctx, id, version, input).await {
        Ok(p) => Ok(super::resources::patient(&p)),
        Err(AppError::VersionConflict { current }) => Err(ApiError::new(
            STALE,
            format!(
                "Patient/{id} is at version {}, not {version}; read it again and apply the change to it",
                current.version
            ),
        )),
        Err(e) => Err(e.into()),
    }
}

/// An update made against a version that is no longer the current one.
const STALE: ProblemKind = ProblemKind::new(
    "version-conflict",
    StatusCode::PRECONDITION_FAILED,
    "The resource was changed meanwhile",
);

/// `PUT /fhir/Patient/{id}`: the patient's demographics replaced, against the version in
/// `If-Match` (required, so no one's change is overwritten unseen). Other types are not
/// replaced through FHIR (405, with why).
pub(super) async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiUser(_, ctx): ApiUser,
    Path((ty, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ty = served(&ty)?;
    if ty != "Patient" {
        return Err(not_replaced(ty));
    }
    let resource = json_body(&body)?;
    if resource["resourceType"] != ty {
        return Err(malformed(format!("the body is not a {ty} resource")));
    }
    if resource["id"].as_str() != Some(id.as_str()) {
        return Err(malformed(format!("the resource's id must be the one updated, {id}")));
    }
    let version = if_match(&headers).ok_or_else(|| {
        ApiError::new(
            ProblemKind::PreconditionRequired,
            "send If-Match with the version (the ETag, W/\"n\") you edited, so no one's change is overwritten",
        )
    })??;
    let patient: PatientId =
        Uuid::parse_str(&id).map(PatientId::from_uuid).map_err(|_| super::not_found(ty, &id))?;
    let stored = replace_patient(&state, &ctx, patient, Some(version), &resource).await?;
    Ok(with_etag(fhir(StatusCode::OK, &stored), &stored))
}

/// `PUT /fhir/Patient?criteria`: the one patient the criteria find updated (against
/// `If-Match` if sent), or, finding none, created as a conditional create is — so two
/// racing for the same criteria make one patient, the later one's update applied to it.
pub(super) async fn update_conditional(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiUser(_, ctx): ApiUser,
    Path(ty): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ty = served(&ty)?;
    if ty != "Patient" {
        return Err(not_replaced(ty));
    }
    let criteria = raw.unwrap_or_default();
    let resource = json_body(&body)?;
    if resource["resourceType"] != ty {
        return Err(malformed(format!("the body is not a {ty} resource")));
    }
    let version = if_match(&headers).transpose()?;
    let base = base(&headers, &state);
    let found = matching(&state, &ctx, ty, &criteria).await?;
    let id = match found.as_slice() {
        [] => {
            let entry = Entry {
                index: 0,
                full_url: None,
                resource: resource.clone(),
                if_none_exist: Some(criteria.clone()),
            };
            let done = transact_once_more(&state, &ctx, &base, vec![entry]).await?;
            let done = done.into_iter().next().ok_or_else(|| malformed("nothing was taken in"))?;
            if done.status == StatusCode::CREATED {
                let stored = read_resource(&state, &ctx, ty, &done.id).await?;
                let mut res = with_etag(fhir(StatusCode::CREATED, &stored), &stored);
                if let Ok(location) = HeaderValue::from_str(&format!("{base}/{}", done.location())) {
                    res.headers_mut().insert(header::LOCATION, location);
                }
                return Ok(res);
            }
            done.id
        }
        [one] => one.clone(),
        _ => {
            return Err(ApiError::new(AMBIGUOUS, format!("{ty}?{criteria} matches more than one resource")));
        }
    };
    if let Some(given) = resource["id"].as_str()
        && given != id
    {
        return Err(malformed(format!("the resource's id {given} is not the one the criteria find, {id}")));
    }
    let patient = Uuid::parse_str(&id).map(PatientId::from_uuid).map_err(|_| super::not_found(ty, &id))?;
    let stored = replace_patient(&state, &ctx, patient, version, &resource).await?;
    Ok(with_etag(fhir(StatusCode::OK, &stored), &stored))
}

/// `DELETE /fhir/{type}/{id}`: not taken; why.
pub(super) async fn delete(
    ApiUser(_, _ctx): ApiUser,
    Path((ty, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let ty = served(&ty)?;
    Err(ApiError::new(
        NOT_ALLOWED,
        format!(
            "{ty}/{id} is not deleted: {}",
            if ty == "Patient" {
                "a patient's record is kept; a duplicate is merged into the record in use, and a record no longer in use is marked inactive"
            } else {
                "a hospital's records are kept; one made in error is marked entered in error, with a reason, from the chart"
            }
        ),
    ))
}
