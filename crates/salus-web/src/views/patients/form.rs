//! The registration and demographics form: registering a patient (with the duplicate
//! warning before saving) and editing one with its version, errors beside each field.

use crate::views::flash;
use askama::Template;
use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use salus_app::AppError;
use salus_app::patients::{Duplicate, Patient, PatientInput};
use salus_core::PatientId;
use salus_core::patients::{BLOOD_GROUPS, Sex};

use super::super::{Form, PageCtx, SignedIn, render};
use super::{errors_of, patient_id};
use crate::AppState;
use crate::error::PageError;
use serde::Deserialize;

/// The demographic form's values (as typed) and its errors.
#[derive(Default)]
pub struct PatientForm {
    pub v: PatientInput,
    pub age_years: String,
    pub errors: Vec<(String, String)>,
}

impl PatientForm {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }

    fn identifier(&self, system: &str) -> String {
        self.v.identifiers.iter().find(|(s, _)| s == system).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    fn from_fields(f: PatientFields) -> Self {
        let mut v = PatientInput {
            given_names: f.given_names,
            family_name: f.family_name,
            sex: f.sex,
            birth_date: f.birth_date,
            age_years: None,
            phone: f.phone,
            phone_alt: f.phone_alt,
            email: f.email,
            address_line: f.address_line,
            city: f.city,
            district: f.district,
            state: f.state,
            postal_code: f.postal_code,
            country: f.country,
            blood_group: f.blood_group,
            preferred_language: f.preferred_language,
            emergency_name: f.emergency_name,
            emergency_phone: f.emergency_phone,
            emergency_relation: f.emergency_relation,
            insurer: f.insurer,
            insurance_policy: f.insurance_policy,
            consent_sms: f.consent_sms.is_some(),
            consent_email: f.consent_email.is_some(),
            consent_research: f.consent_research.is_some(),
            restricted: f.restricted.is_some(),
            restricted_reason: f.restricted_reason,
            identifiers: f
                .other
                .into_iter()
                .filter_map(|(k, val)| k.strip_prefix("id_").map(|system| (system.to_owned(), val)))
                .collect(),
        };
        let mut errors = Vec::new();
        let age_years = f.age_years;
        if !age_years.trim().is_empty() {
            match age_years.trim().parse::<u32>() {
                Ok(a) => v.age_years = Some(a),
                Err(_) => errors.push(("age_years".into(), "must be a whole number of years".into())),
            }
        }
        Self { v, age_years, errors }
    }

    fn of(p: &Patient) -> Self {
        Self { v: PatientInput::from(p), age_years: String::new(), errors: Vec::new() }
    }
}

#[derive(Template)]
#[template(path = "patient_form.html")]
struct FormPage {
    page: PageCtx,
    form: PatientForm,
    types: Vec<(String, String)>,
    sexes: [Sex; 4],
    blood_groups: [&'static str; 8],
    /// Editing: the record and the version the form started from.
    editing: Option<(PatientId, String, i32)>,
    duplicates: Vec<Duplicate>,
    /// Shown when someone else saved first.
    conflict: bool,
}

/// A text field of the form: name, label, value as typed, input type.
type TextField = (&'static str, &'static str, String, &'static str);

impl FormPage {
    fn name_fields(&self) -> Vec<TextField> {
        let v = &self.form.v;
        vec![
            ("given_names", "Given name(s)", v.given_names.clone(), "text"),
            ("family_name", "Family name (if any)", v.family_name.clone(), "text"),
        ]
    }

    fn contact_fields(&self) -> Vec<TextField> {
        let v = &self.form.v;
        vec![
            ("phone", "Phone", v.phone.clone(), "tel"),
            ("phone_alt", "Other phone", v.phone_alt.clone(), "tel"),
            ("email", "E-mail", v.email.clone(), "email"),
            ("preferred_language", "Preferred language", v.preferred_language.clone(), "text"),
            ("address_line", "Address", v.address_line.clone(), "text"),
            ("city", "Town or city", v.city.clone(), "text"),
            ("district", "District", v.district.clone(), "text"),
            ("state", "State or region", v.state.clone(), "text"),
            ("postal_code", "Postal code", v.postal_code.clone(), "text"),
            ("country", "Country (2 letters)", v.country.clone(), "text"),
        ]
    }

    fn other_fields(&self) -> Vec<TextField> {
        let v = &self.form.v;
        vec![
            ("emergency_name", "Emergency contact", v.emergency_name.clone(), "text"),
            ("emergency_relation", "Relation", v.emergency_relation.clone(), "text"),
            ("emergency_phone", "Their phone", v.emergency_phone.clone(), "tel"),
            ("insurer", "Insurer", v.insurer.clone(), "text"),
            ("insurance_policy", "Policy number", v.insurance_policy.clone(), "text"),
        ]
    }

    fn is_blood(&self, g: &str) -> bool {
        self.form.v.blood_group == g
    }

    fn is_sex(&self, s: &Sex) -> bool {
        self.form.v.sex == s.as_str()
    }
}

pub(super) async fn types(state: &AppState) -> Result<Vec<(String, String)>, PageError> {
    Ok(state
        .app
        .patients()
        .identifier_types()
        .await?
        .into_iter()
        .filter(|t| t.active)
        .map(|t| (t.code, t.name))
        .collect())
}

async fn show_form(
    state: &AppState,
    page: PageCtx,
    status: StatusCode,
    form: PatientForm,
    editing: Option<(PatientId, String, i32)>,
    duplicates: Vec<Duplicate>,
    conflict: bool,
) -> Result<Response, PageError> {
    let types = types(state).await?;
    Ok(render(
        status,
        &FormPage {
            page,
            form,
            types,
            sexes: Sex::ALL,
            blood_groups: BLOOD_GROUPS,
            editing,
            duplicates,
            conflict,
        },
    ))
}

pub(super) async fn new_page(
    State(state): State<AppState>,
    SignedIn(_, _, page): SignedIn,
) -> Result<Response, PageError> {
    show_form(&state, page, StatusCode::OK, PatientForm::default(), None, Vec::new(), false).await
}

/// The registration and edit form as posted. Checkboxes are present when ticked;
/// identifiers arrive as `id_<system>` fields, one per identifier type.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct PatientFields {
    given_names: String,
    family_name: String,
    sex: String,
    birth_date: String,
    age_years: String,
    phone: String,
    phone_alt: String,
    email: String,
    address_line: String,
    city: String,
    district: String,
    state: String,
    postal_code: String,
    country: String,
    blood_group: String,
    preferred_language: String,
    emergency_name: String,
    emergency_phone: String,
    emergency_relation: String,
    insurer: String,
    insurance_policy: String,
    consent_sms: Option<String>,
    consent_email: Option<String>,
    consent_research: Option<String>,
    restricted: Option<String>,
    restricted_reason: String,
    not_a_duplicate: String,
    version: String,
    mrn: String,
    /// Every other field: the identifiers (`id_<system>`), the anti-forgery token.
    #[serde(flatten)]
    other: BTreeMap<String, String>,
}

pub(super) async fn register(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(fields): Form<PatientFields>,
) -> Result<Response, PageError> {
    let confirmed = fields.not_a_duplicate == "yes";
    let mut form = PatientForm::from_fields(fields);
    if !form.errors.is_empty() {
        return show_form(&state, page, StatusCode::UNPROCESSABLE_ENTITY, form, None, Vec::new(), false)
            .await;
    }
    match state.app.patients().register_patient(&ctx, form.v.clone(), confirmed).await {
        Ok(done) => Ok(flash(
            &state,
            &format!("/patients/{}", done.patient.id),
            &format!("Registered {} as {}.", done.patient.display_name(), done.patient.mrn),
        )),
        Err(AppError::Invalid(e)) => {
            form.errors = errors_of(e);
            show_form(&state, page, StatusCode::UNPROCESSABLE_ENTITY, form, None, Vec::new(), false).await
        }
        Err(AppError::PossibleDuplicates(d)) => {
            show_form(&state, page, StatusCode::CONFLICT, form, None, d, false).await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn edit_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let p = state.app.patients().patient(&ctx, patient_id(&id)?).await?;
    let editing = Some((p.id, p.mrn.clone(), p.version));
    show_form(&state, page, StatusCode::OK, PatientForm::of(&p), editing, Vec::new(), false).await
}

pub(super) async fn edit(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<PatientFields>,
) -> Result<Response, PageError> {
    let id = patient_id(&id)?;
    let version: i32 = fields.version.parse().unwrap_or(0);
    let mrn = fields.mrn.clone();
    let mut form = PatientForm::from_fields(fields);
    if !form.errors.is_empty() {
        return show_form(
            &state,
            page,
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
            Some((id, mrn, version)),
            Vec::new(),
            false,
        )
        .await;
    }
    match state.app.patients().update_patient(&ctx, id, version, form.v.clone()).await {
        Ok(p) => Ok(flash(&state, &format!("/patients/{}", p.id), "Saved.")),
        Err(AppError::Invalid(e)) => {
            form.errors = errors_of(e);
            show_form(
                &state,
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                Some((id, mrn, version)),
                Vec::new(),
                false,
            )
            .await
        }
        Err(AppError::VersionConflict { current }) => {
            // Show what is on file now; the user's typing is lost only after they see why.
            let editing = Some((current.id, current.mrn.clone(), current.version));
            show_form(
                &state,
                page,
                StatusCode::CONFLICT,
                PatientForm::of(&current),
                editing,
                Vec::new(),
                true,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
