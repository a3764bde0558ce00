//! The administrators' page for what clinicians choose from: the medicine catalog (add,
//! correct, retire, restore) and the note templates (add, edit, retire).

use crate::access::{Access, Declared, route};
use crate::views::menu::Entry;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use salus_app::clinical::Soap;
use salus_app::clinical::prescriptions::MedicineInput;
use salus_app::identity::Permission;
use serde::Deserialize;

use super::clinical::refusal;
use super::flash;
use super::{Form, PageCtx, SignedIn, render};
use crate::AppState;
use crate::error::PageError;

/// The pages of this module worth a link (see `menu`).
pub(super) const MENU: &[Entry] =
    &[Entry::page("Medicines", "/admin/clinical-catalog", "The medicine catalog and note templates")];

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/admin/clinical-catalog", Access::Permission(Permission::OrganisationManage)),
    route("/admin/clinical-catalog/{kind}", Access::Permission(Permission::OrganisationManage))
        .post()
        .example("/admin/clinical-catalog/medicines"),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/clinical-catalog", get(catalog_page))
        .route("/admin/clinical-catalog/{kind}", post(catalog_add))
}

#[derive(Template)]
#[template(path = "clinical_catalog.html")]
struct CatalogPage {
    page: PageCtx,
    medicines: Vec<salus_core::clinical::Medicine>,
    templates: Vec<salus_core::clinical::NoteTemplate>,
    q: String,
    /// The entry in the medicine form: one being corrected, or none for a new one.
    medicine: Option<salus_core::clinical::Medicine>,
    /// The template in the template form, likewise.
    template: Option<salus_core::clinical::NoteTemplate>,
}

#[derive(Deserialize)]
struct CatalogQuery {
    #[serde(default)]
    q: String,
    medicine: Option<uuid::Uuid>,
    template: Option<uuid::Uuid>,
}

/// The medicine catalog and the note templates, for administrators.
async fn catalog_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<CatalogQuery>,
) -> Result<Response, PageError> {
    let medicines =
        state.app.clinical().medicines(&ctx, Some(q.q.as_str()).filter(|t| !t.is_empty()), true).await?;
    let templates = state.app.clinical().note_templates(&ctx).await?;
    let medicine = match q.medicine {
        Some(id) => Some(state.app.clinical().medicine(&ctx, id).await?),
        None => None,
    };
    let template = match q.template {
        Some(id) => Some(
            templates
                .iter()
                .find(|t| t.id == id)
                .cloned()
                .ok_or_else(|| PageError::new(StatusCode::NOT_FOUND, "There is no such template."))?,
        ),
        None => None,
    };
    Ok(render(StatusCode::OK, &CatalogPage { page, medicines, templates, q: q.q, medicine, template }))
}

/// A medicine or a note template, added or edited (one form shape for both catalogs).
#[derive(Deserialize, Default)]
#[serde(default)]
struct CatalogForm {
    id: String,
    version: String,
    active: String,
    generic_name: String,
    form: String,
    strength: String,
    route: String,
    atc_code: String,
    department_id: String,
    name: String,
    subjective: String,
    objective: String,
    assessment: String,
    plan: String,
}

async fn catalog_add(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(kind): Path<String>,
    Form(f): Form<CatalogForm>,
) -> Result<Response, PageError> {
    // The forms send `active` as a checkbox, or as a hidden field for Retire / Restore.
    let active = f.active == "true";
    let editing: Option<uuid::Uuid> = f.id.parse().ok();
    let result = match kind.as_str() {
        "medicines" => {
            let input = MedicineInput {
                generic_name: f.generic_name.clone(),
                form: f.form.clone(),
                strength: f.strength.clone(),
                route: f.route.clone(),
                atc_code: f.atc_code.clone(),
                active: editing.is_none() || active,
            };
            match editing {
                None => state
                    .app
                    .clinical()
                    .add_medicine(&ctx, &input)
                    .await
                    .map(|m| format!("Added {}.", m.label())),
                Some(id) => {
                    let version = f.version.parse().unwrap_or(0);
                    state.app.clinical().save_medicine(&ctx, id, version, &input).await.map(|m| {
                        let state = if m.active { "in use" } else { "retired" };
                        format!("Saved {} ({state}).", m.label())
                    })
                }
            }
        }
        "templates" => {
            let soap = Soap {
                subjective: f.subjective,
                objective: f.objective,
                assessment: f.assessment,
                plan: f.plan,
            };
            state
                .app
                .clinical()
                .save_note_template(
                    &ctx,
                    editing,
                    f.department_id.parse().ok(),
                    &f.name,
                    soap,
                    editing.is_none() || active,
                )
                .await
                .map(|t| {
                    format!("Saved the template {}{}.", t.name, if t.active { "" } else { " (retired)" })
                })
        }
        _ => return Err(PageError::new(StatusCode::NOT_FOUND, "There is no such catalog.")),
    };
    let text = match result {
        Ok(t) => t,
        Err(e) => refusal(e)?,
    };
    Ok(flash(&state, "/admin/clinical-catalog", &text))
}
