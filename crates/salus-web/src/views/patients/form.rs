//! The registration and demographics form: registering a patient (with the duplicate
//! warning before saving) and editing one with its version, errors beside each field.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use salus_app::AppError;
use salus_app::patients::{Duplicate, Patient, PatientInput};
use salus_core::PatientId;
use salus_core::patients::{BLOOD_GROUPS, Sex};

use super::super::profile::with_flash;
use super::super::{Fields, PageCtx, SignedIn, render};
use super::{errors_of, patient_id};
use crate::AppState;
use crate::error::PageError;

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

    fn from_fields(f: &Fields) -> Self {
        let age_years = f.value("age_years");
        let mut v = PatientInput {
            given_names: f.value("given_names"),
            family_name: f.value("family_name"),
            sex: f.value("sex"),
            birth_date: f.value("birth_date"),
            age_years: None,
            phone: f.value("phone"),
            phone_alt: f.value("phone_alt"),
            email: f.value("email"),
            address_line: f.value("address_line"),
            city: f.value("city"),
            district: f.value("district"),
            state: f.value("state"),
            postal_code: f.value("postal_code"),
            country: f.value("country"),
            blood_group: f.value("blood_group"),
            preferred_language: f.value("preferred_language"),
            emergency_name: f.value("emergency_name"),
            emergency_phone: f.value("emergency_phone"),
            emergency_relation: f.value("emergency_relation"),
            insurer: f.value("insurer"),
            insurance_policy: f.value("insurance_policy"),
            consent_sms: !f.value("consent_sms").is_empty(),
            consent_email: !f.value("consent_email").is_empty(),
            consent_research: !f.value("consent_research").is_empty(),
            restricted: !f.value("restricted").is_empty(),
            restricted_reason: f.value("restricted_reason"),
            identifiers: Vec::new(),
        };
        for (k, val) in &f.0 {
            if let Some(system) = k.strip_prefix("id_") {
                v.identifiers.push((system.to_owned(), val.clone()));
            }
        }
        let mut errors = Vec::new();
        if !age_years.trim().is_empty() {
            match age_years.trim().parse::<u32>() {
                Ok(a) => v.age_years = Some(a),
                Err(_) => errors.push(("age_years".into(), "must be a whole number of years".into())),
            }
        }
        Self { v, age_years, errors }
    }

    fn of(p: &Patient) -> Self {
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        Self {
            v: PatientInput {
                given_names: p.given_names.clone(),
                family_name: p.family_name.clone(),
                sex: p.sex.as_str().to_owned(),
                birth_date: p.birth_date.map(|d| d.to_string()).unwrap_or_default(),
                age_years: None,
                phone: s(&p.phone),
                phone_alt: s(&p.phone_alt),
                email: s(&p.email),
                address_line: s(&p.address_line),
                city: s(&p.city),
                district: s(&p.district),
                state: s(&p.state),
                postal_code: s(&p.postal_code),
                country: s(&p.country),
                blood_group: s(&p.blood_group),
                preferred_language: s(&p.preferred_language),
                emergency_name: s(&p.emergency_name),
                emergency_phone: s(&p.emergency_phone),
                emergency_relation: s(&p.emergency_relation),
                insurer: s(&p.insurer),
                insurance_policy: s(&p.insurance_policy),
                consent_sms: p.consent_sms,
                consent_email: p.consent_email,
                consent_research: p.consent_research,
                restricted: p.restricted,
                restricted_reason: s(&p.restricted_reason),
                identifiers: p.identifiers.iter().map(|i| (i.system.clone(), i.value.clone())).collect(),
            },
            age_years: String::new(),
            errors: Vec::new(),
        }
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

pub(super) async fn register(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let fields = Fields(fields);
    let mut form = PatientForm::from_fields(&fields);
    let confirmed = fields.value("not_a_duplicate") == "yes";
    if !form.errors.is_empty() {
        return show_form(&state, page, StatusCode::UNPROCESSABLE_ENTITY, form, None, Vec::new(), false)
            .await;
    }
    match state.app.patients().register_patient(&ctx, form.v.clone(), confirmed).await {
        Ok(done) => Ok(with_flash(
            &format!("/patients/{}", done.patient.id),
            &format!("Registered {} as {}.", done.patient.display_name(), done.patient.mrn),
            state.web.secure_cookies,
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
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = patient_id(&id)?;
    let fields = Fields(fields);
    let mut form = PatientForm::from_fields(&fields);
    let version: i32 = fields.value("version").parse().unwrap_or(0);
    let mrn = fields.value("mrn");
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
        Ok(p) => Ok(with_flash(&format!("/patients/{}", p.id), "Saved.", state.web.secure_cookies)),
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
