//! The medicine catalog, prescriptions (FHIR MedicationRequest) with their allergy and
//! duplicate checks, and the note templates doctors start notes from.

use crate::access::{Access, Declared, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use salus_app::clinical::Soap;
use salus_app::identity::Permission;
use salus_core::clinical::{Medicine, NoteTemplate, Prescription, PrescriptionStatus};
use salus_core::{EncounterId, RecordId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{ReasonIn, id};
use crate::AppState;
use crate::api::openapi::coded;
use crate::api::{ApiJson, ApiQuery, ApiUser, Paged, if_match, with_etag};
use crate::error::{ApiError, Problem, ProblemKind};

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/api/v1/medicines", Access::Permission(Permission::OrganisationRead))
        .example("/api/v1/medicines?q=amox"),
    route("/api/v1/note-templates", Access::Permission(Permission::OrganisationRead)),
    route("/api/v1/note-templates/{id}", Access::Permission(Permission::OrganisationManage)).put(),
    route("/api/v1/medicines/{id}", Access::Permission(Permission::OrganisationManage)).put(),
    route("/api/v1/patients/{id}/prescriptions", Access::SignedIn),
    route("/api/v1/prescriptions/{id}/{action}", Access::Permission(Permission::ClinicalWrite))
        .post()
        .example("/api/v1/prescriptions/{id}/complete"),
];

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_medicines, add_medicine))
        .routes(routes!(save_medicine))
        .routes(routes!(list_prescriptions, prescribe))
        .routes(routes!(change_prescription))
        .routes(routes!(list_note_templates, add_note_template))
        .routes(routes!(save_note_template))
}

/// A medicine of the catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct MedicineOut {
    pub id: Uuid,
    pub generic_name: String,
    /// "tablet", "capsule", …
    pub form: String,
    /// "500 mg".
    pub strength: String,
    /// The usual route ("oral"), the default when prescribing.
    pub route: String,
    /// WHO ATC code, if known.
    pub atc_code: Option<String>,
    /// False: retired, no longer offered when prescribing.
    pub active: bool,
    /// Send as `If-Match` to correct it.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Medicine> for MedicineOut {
    fn from(m: Medicine) -> Self {
        Self {
            id: m.id,
            generic_name: m.generic_name,
            form: m.form,
            strength: m.strength,
            route: m.route,
            atc_code: m.atc_code,
            active: m.active,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// `?q=&include_inactive=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MedicinesQuery {
    /// Part of the generic name.
    pub q: Option<String>,
    #[serde(default)]
    pub include_inactive: bool,
}

/// The medicine catalog
#[utoipa::path(get, path = "/api/v1/medicines", tag = "clinical", params(MedicinesQuery),
    responses((status = 200, description = "By generic name, at most 200", body = Paged<MedicineOut>)))]
async fn list_medicines(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiQuery(q): ApiQuery<MedicinesQuery>,
) -> Result<Json<Paged<MedicineOut>>, ApiError> {
    let rows = state.app.clinical().medicines(&ctx, q.q.as_deref(), q.include_inactive).await?;
    Ok(Json(Paged::new(rows.into_iter().map(MedicineOut::from).collect(), None::<String>)))
}

/// A medicine for the catalog.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MedicineIn {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$"
    )]
    pub generic_name: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$"
    )]
    pub form: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$"
    )]
    pub strength: String,
    #[schema(
        min_length = 1,
        max_length = 40,
        pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$"
    )]
    pub route: String,
    #[schema(max_length = 10, pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$")]
    pub atc_code: Option<String>,
    /// False retires the entry: no longer offered when prescribing.
    #[serde(default = "yes")]
    pub active: bool,
}

impl MedicineIn {
    fn input(self) -> salus_app::clinical::prescriptions::MedicineInput {
        salus_app::clinical::prescriptions::MedicineInput {
            generic_name: self.generic_name,
            form: self.form,
            strength: self.strength,
            route: self.route,
            atc_code: self.atc_code.unwrap_or_default(),
            active: self.active,
        }
    }
}

/// Add a medicine to the catalog
#[utoipa::path(post, path = "/api/v1/medicines", tag = "clinical", request_body = MedicineIn,
    responses((status = 201, description = "Added", body = MedicineOut),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, or already in the catalog", body = Problem, content_type = "application/problem+json")))]
async fn add_medicine(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<MedicineIn>,
) -> Result<Response, ApiError> {
    let m = state.app.clinical().add_medicine(&ctx, &b.input()).await?;
    let version = m.version;
    Ok(with_etag(StatusCode::CREATED, version, MedicineOut::from(m)))
}

/// Correct or retire a medicine of the catalog
#[utoipa::path(put, path = "/api/v1/medicines/{id}", tag = "clinical", request_body = MedicineIn,
    params(("id" = String, Path, description = "Medicine id"), ("If-Match" = String, Header, description = "The version")),
    responses((status = 200, description = "Saved", body = MedicineOut),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such medicine", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, or another entry has this name, form and strength", body = Problem, content_type = "application/problem+json")))]
async fn save_medicine(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<MedicineIn>,
) -> Result<Response, ApiError> {
    let (mid, version) = (id::<Uuid>(&raw, "medicine")?, if_match(&headers)?);
    let m = state.app.clinical().save_medicine(&ctx, mid, version, &b.input()).await?;
    let version = m.version;
    Ok(with_etag(StatusCode::OK, version, MedicineOut::from(m)))
}

/// A prescription (FHIR MedicationRequest).
#[derive(Debug, Serialize, ToSchema)]
pub struct PrescriptionOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub encounter_id: Option<Uuid>,
    pub prescriber_id: Uuid,
    pub medicine_id: Uuid,
    /// Generic name, strength and form as they were when prescribed ("amoxicillin 500 mg capsule").
    pub medicine_name: String,
    /// "500 mg", "1 tablet".
    pub dose: String,
    pub route: String,
    /// "three times a day", "every 8 hours".
    pub frequency: String,
    pub duration_days: Option<i32>,
    pub quantity: Option<i32>,
    pub instructions: Option<String>,
    /// active, completed, stopped or entered_in_error.
    #[schema(schema_with = coded::<PrescriptionStatus>)]
    pub status: PrescriptionStatus,
    /// Why it was stopped or marked entered in error.
    pub status_reason: Option<String>,
    /// Why the prescriber went ahead despite the checks' warnings.
    pub override_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Send as `If-Match` to change it.
    pub version: i32,
}

impl From<Prescription> for PrescriptionOut {
    fn from(p: Prescription) -> Self {
        Self {
            id: p.id,
            patient_id: p.patient_id,
            encounter_id: p.encounter_id,
            prescriber_id: p.prescriber_id,
            medicine_id: p.medicine_id,
            medicine_name: p.medicine_name,
            dose: p.dose,
            route: p.route,
            frequency: p.frequency,
            duration_days: p.duration_days,
            quantity: p.quantity,
            instructions: p.instructions,
            status: p.status,
            status_reason: p.status_reason,
            override_reason: p.override_reason,
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        }
    }
}

/// A prescription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrescriptionIn {
    pub medicine_id: Uuid,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub encounter_id: Option<EncounterId>,
    /// "500 mg", "1 tablet".
    pub dose: Option<String>,
    /// Default: the medicine's usual route.
    pub route: Option<String>,
    /// "three times a day", "every 8 hours".
    pub frequency: Option<String>,
    pub duration_days: Option<i32>,
    pub quantity: Option<i32>,
    pub instructions: Option<String>,
    /// Required to go ahead when the checks warn (409 `clinical-warnings`).
    pub override_reason: Option<String>,
}

/// A patient's prescriptions
#[utoipa::path(get, path = "/api/v1/patients/{id}/prescriptions", tag = "clinical", params(("id" = String, Path, description = "Patient id")),
    responses((status = 200, description = "Newest first", body = Paged<PrescriptionOut>)))]
async fn list_prescriptions(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Paged<PrescriptionOut>>, ApiError> {
    let rows = state.app.clinical().prescriptions(&ctx, id(&raw, "patient")?).await?;
    Ok(Json(Paged::new(rows.into_iter().map(PrescriptionOut::from).collect(), None::<String>)))
}

/// Prescribe
///
/// An allergy of the patient's to the medicine or its class, or the same medicine already
/// active, answers 409 `clinical-warnings` (the list in `warnings`) unless
/// `override_reason` says why to go ahead; the override is kept and audited.
#[utoipa::path(post, path = "/api/v1/patients/{id}/prescriptions", tag = "clinical", request_body = PrescriptionIn,
    params(("id" = String, Path, description = "Patient id")),
    responses((status = 201, description = "Prescribed", body = PrescriptionOut),
        (status = 403, description = "Not a doctor", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Warnings to override with a reason", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No dose or frequency, an unknown medicine, …", body = Problem, content_type = "application/problem+json")))]
async fn prescribe(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<PrescriptionIn>,
) -> Result<Response, ApiError> {
    let input = salus_app::clinical::prescriptions::NewPrescription {
        medicine_id: b.medicine_id,
        encounter_id: b.encounter_id,
        dose: b.dose.unwrap_or_default(),
        route: b.route.unwrap_or_default(),
        frequency: b.frequency.unwrap_or_default(),
        duration_days: b.duration_days,
        quantity: b.quantity,
        instructions: b.instructions.unwrap_or_default(),
        override_reason: b.override_reason.unwrap_or_default(),
    };
    let p = state.app.clinical().prescribe(&ctx, id(&raw, "patient")?, input).await?;
    let version = p.version;
    Ok(with_etag(StatusCode::CREATED, version, PrescriptionOut::from(p)))
}

/// Complete, stop or mark a prescription entered in error
#[utoipa::path(post, path = "/api/v1/prescriptions/{id}/{action}", tag = "clinical", request_body = ReasonIn,
    params(("id" = String, Path, description = "Prescription id"), ("action" = String, Path, description = "complete, stop (with a reason) or entered-in-error (with a reason)"),
        ("If-Match" = String, Header, description = "The version")),
    responses((status = 200, description = "Changed", body = PrescriptionOut),
        (status = 409, description = "Not allowed from its status, or changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json")))]
async fn change_prescription(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path((raw, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Option<ApiJson<ReasonIn>>,
) -> Result<Response, ApiError> {
    let (pid, version) = (id::<RecordId>(&raw, "prescription")?, if_match(&headers)?);
    let to = match action.as_str() {
        "complete" => "completed",
        "stop" => "stopped",
        "entered-in-error" => "entered_in_error",
        _ => return Err(ApiError::new(ProblemKind::NotFound, "no such action")),
    };
    let reason = body.map(|ApiJson(b)| b.reason).unwrap_or_default();
    let p = state.app.clinical().change_prescription(&ctx, pid, version, to, &reason).await?;
    let version = p.version;
    Ok(with_etag(StatusCode::OK, version, PrescriptionOut::from(p)))
}

/// A starting text for notes, for one department or for all.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoteTemplateOut {
    pub id: Uuid,
    /// Absent: for every department.
    pub department_id: Option<Uuid>,
    pub name: String,
    pub subjective: String,
    pub objective: String,
    pub assessment: String,
    pub plan: String,
    /// False: no longer offered.
    pub active: bool,
    pub updated_at: DateTime<Utc>,
}

impl From<NoteTemplate> for NoteTemplateOut {
    fn from(t: NoteTemplate) -> Self {
        Self {
            id: t.id,
            department_id: t.department_id,
            name: t.name,
            subjective: t.subjective,
            objective: t.objective,
            assessment: t.assessment,
            plan: t.plan,
            active: t.active,
            updated_at: t.updated_at,
        }
    }
}

/// A note template.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteTemplateIn {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$"
    )]
    pub name: String,
    /// For one department; absent: for all.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub department_id: Option<salus_core::DepartmentId>,
    #[serde(default)]
    #[schema(max_length = 20000, pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$")]
    pub subjective: String,
    #[serde(default)]
    #[schema(max_length = 20000, pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$")]
    pub objective: String,
    #[serde(default)]
    #[schema(max_length = 20000, pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$")]
    pub assessment: String,
    #[serde(default)]
    #[schema(max_length = 20000, pattern = "^[^\\x00-\\x08\\x0E-\\x1F\\x7F-\\x84\\x86-\\x9F]*$")]
    pub plan: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl NoteTemplateIn {
    fn soap(&self) -> Soap {
        Soap {
            subjective: self.subjective.clone(),
            objective: self.objective.clone(),
            assessment: self.assessment.clone(),
            plan: self.plan.clone(),
        }
    }
}

/// Note templates
#[utoipa::path(get, path = "/api/v1/note-templates", tag = "clinical",
    responses((status = 200, description = "By name", body = Paged<NoteTemplateOut>)))]
async fn list_note_templates(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
) -> Result<Json<Paged<NoteTemplateOut>>, ApiError> {
    let rows = state.app.clinical().note_templates(&ctx).await?;
    Ok(Json(Paged::new(rows.into_iter().map(NoteTemplateOut::from).collect(), None::<String>)))
}

/// Add a note template
#[utoipa::path(post, path = "/api/v1/note-templates", tag = "clinical", request_body = NoteTemplateIn,
    responses((status = 201, description = "Added", body = NoteTemplateOut),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json")))]
async fn add_note_template(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    ApiJson(b): ApiJson<NoteTemplateIn>,
) -> Result<(StatusCode, Json<NoteTemplateOut>), ApiError> {
    let t = state
        .app
        .clinical()
        .save_note_template(&ctx, None, b.department_id, &b.name, b.soap(), b.active)
        .await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

/// Replace a note template
#[utoipa::path(put, path = "/api/v1/note-templates/{id}", tag = "clinical", request_body = NoteTemplateIn,
    params(("id" = String, Path, description = "Template id")),
    responses((status = 200, description = "Saved", body = NoteTemplateOut),
        (status = 404, description = "No such template", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json")))]
async fn save_note_template(
    State(state): State<AppState>,
    ApiUser(_u, ctx): ApiUser,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<NoteTemplateIn>,
) -> Result<Json<NoteTemplateOut>, ApiError> {
    let t = state
        .app
        .clinical()
        .save_note_template(
            &ctx,
            Some(id(&raw, "note template")?),
            b.department_id,
            &b.name,
            b.soap(),
            b.active,
        )
        .await?;
    Ok(Json(t.into()))
}
