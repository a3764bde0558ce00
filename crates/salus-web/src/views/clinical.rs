//! Clinical pages: the chart's clinical part (allergy banner, problem list, recent
//! encounters, vital-sign trends drawn as inline SVG), and the encounter page where nurses
//! record vitals and doctors write, sign and amend notes and record diagnoses (ICD-10-CM
//! suggested while typing).

use crate::access::{Access, Declared, route};
use crate::views::flash;
use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use salus_app::clinical::problems::{NewAllergy, NewDiagnosis};
use salus_app::clinical::{NewEncounter, Soap};
use salus_app::identity::Permission;
use salus_app::{AppError, Ctx};
use salus_core::clinical::{
    Allergy, Diagnosis, Encounter, EncounterClass, EncounterStatus, Note, NoteStatus, Prescription,
    PrescriptionStatus, Severity, VitalSigns, VitalsText,
};
use salus_core::{EncounterId, NoteId, PatientId};
use serde::Deserialize;

use super::{Form, PageCtx, SignedIn, render};
use crate::AppState;
use crate::error::PageError;

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[
    route("/patients/{id}/encounters", Access::Permission(Permission::ClinicalWrite)).post(),
    route("/patients/{id}/diagnoses", Access::Permission(Permission::ClinicalWrite)).post(),
    route("/patients/{id}/allergies", Access::Permission(Permission::VitalsRecord)).post(),
    // The patient's own account reads its encounters too; the use case decides.
    route("/encounters/{id}", Access::SignedIn),
    route("/encounters/{id}/{action}", Access::Permission(Permission::ClinicalRead))
        .post()
        .example("/encounters/{id}/vitals"),
    route("/notes/{id}/{action}", Access::Permission(Permission::ClinicalWrite))
        .post()
        .example("/notes/{id}/save"),
    route("/icd10/suggest", Access::Permission(Permission::OrganisationRead))
        .example("/icd10/suggest?code=E11"),
    route("/patients/{id}/prescriptions", Access::Permission(Permission::ClinicalWrite)).post(),
    route("/patients/{id}/referrals", Access::Permission(Permission::ClinicalWrite)).post(),
    route("/patients/{id}/attachments", Access::Permission(Permission::VitalsRecord)).post(),
    route("/attachments/{id}", Access::SignedIn),
    // The patient's own account prints its prescription too; the use case decides.
    route("/encounters/{id}/prescription", Access::SignedIn),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/patients/{id}/encounters", post(open_encounter))
        .route("/patients/{id}/diagnoses", post(add_diagnosis))
        .route("/patients/{id}/allergies", post(add_allergy))
        .route("/encounters/{id}", get(encounter_page))
        .route("/encounters/{id}/{action}", post(encounter_action))
        .route("/notes/{id}/{action}", post(note_action))
        .route("/icd10/suggest", get(icd_suggest))
        .route("/patients/{id}/prescriptions", post(prescribe))
        .route("/encounters/{id}/prescription", get(print_prescription))
        .route("/patients/{id}/referrals", post(refer))
        .route("/patients/{id}/attachments", post(attach))
        .route("/attachments/{id}", get(download))
}

/// What the chart shows of the clinical record to those who may read it.
pub struct ClinicalSummary {
    pub allergies: Vec<Allergy>,
    pub problems: Vec<Diagnosis>,
    pub encounters: Vec<Encounter>,
    /// Prescriptions in force: the current medicines.
    pub medicines: Vec<Prescription>,
    /// Trend charts as SVG made here from numbers only (no text from users).
    pub trends: Vec<(&'static str, String)>,
    pub may_write: bool,
}

impl ClinicalSummary {
    pub async fn load(
        state: &AppState,
        ctx: &Ctx,
        patient: PatientId,
        may_write: bool,
    ) -> Result<ClinicalSummary, AppError> {
        let summary = state.app.clinical().clinical_summary(ctx, patient).await?;
        let vitals = summary.vitals;
        let series = |f: fn(&VitalSigns) -> Option<i32>, scale: f64| -> Vec<f64> {
            vitals.iter().filter_map(|v| f(v).map(|x| f64::from(x) / scale)).collect()
        };
        let mut trends = Vec::new();
        let bp = [series(|v| v.systolic, 1.0), series(|v| v.diastolic, 1.0)];
        for (label, lines) in [
            ("Blood pressure (mmHg)", bp.to_vec()),
            ("Pulse (/min)", vec![series(|v| v.pulse_bpm, 1.0)]),
            ("Temperature (°C)", vec![series(|v| v.temperature_dc, 10.0)]),
            ("Weight (kg)", vec![series(|v| v.weight_g, 1000.0)]),
        ] {
            if lines.iter().any(|l| !l.is_empty()) {
                trends.push((label, trend_svg(&lines)));
            }
        }
        Ok(ClinicalSummary {
            allergies: summary.allergies,
            problems: summary.problems,
            encounters: summary.encounters,
            medicines: summary.medicines,
            trends,
            may_write,
        })
    }
}

/// A small line chart of one or more series (oldest left), each latest value marked with
/// a dot and printed; a series of one reading is its dot.
fn trend_svg(lines: &[Vec<f64>]) -> String {
    let (w, h, pad, text_w) = (240.0, 60.0, 6.0, 70.0);
    let plot_w = w - text_w;
    let all: Vec<f64> = lines.iter().flatten().copied().collect();
    let (lo, hi) = all.iter().fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    // All readings equal (or just one): a level line across the middle.
    let flat = (hi - lo).abs() < f64::EPSILON;
    let y = |v: f64| if flat { h / 2.0 } else { h - pad - (v - lo) / (hi - lo) * (h - 2.0 * pad) };
    let colours = ["#1d4ed8", "#b91c1c"];
    let mut svg = format!(r#"<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" class="trend">"#);
    for (i, line) in lines.iter().enumerate() {
        let colour = colours[i % colours.len()];
        let step = if line.len() > 1 { (plot_w - 2.0 * pad) / (line.len() - 1) as f64 } else { 0.0 };
        let points: Vec<(f64, f64)> =
            line.iter().enumerate().map(|(j, v)| (pad + step * j as f64, y(*v))).collect();
        if points.len() > 1 {
            let list: Vec<String> = points.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            svg.push_str(&format!(
                r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
                list.join(" ")
            ));
        }
        if let Some((x, y)) = points.last() {
            svg.push_str(&format!(r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{colour}"/>"#));
        }
    }
    let last: Vec<String> = lines.iter().filter_map(|l| l.last()).map(|v| format!("{v:.1}")).collect();
    svg.push_str(&format!(
        r#"<text x="{:.1}" y="{:.1}" font-size="13" fill="currentColor">{}</text>"#,
        plot_w + 4.0,
        h / 2.0 + 4.0,
        last.join(" / ")
    ));
    svg.push_str(&format!(r#"<title>Latest {}</title></svg>"#, last.join(" / ")));
    svg
}

#[cfg(test)]
mod trend_tests {
    use super::trend_svg;

    #[test]
    fn one_reading_is_drawn_as_a_point_with_its_value() {
        let svg = trend_svg(&[vec![72.0]]);
        assert!(svg.contains("<circle"), "{svg}");
        assert!(!svg.contains("<polyline"), "{svg}");
        assert!(svg.contains(">72.0</text>"), "{svg}");
    }

    #[test]
    fn a_series_is_a_line_ending_in_a_dot_and_both_pressures_are_printed() {
        let svg = trend_svg(&[vec![120.0, 130.0, 125.0], vec![80.0, 85.0, 82.0]]);
        assert_eq!(svg.matches("<polyline").count(), 2, "{svg}");
        assert_eq!(svg.matches("<circle").count(), 2, "{svg}");
        assert!(svg.contains(">125.0 / 82.0</text>"), "{svg}");
    }
}

fn patient_id(raw: &str) -> Result<PatientId, PageError> {
    raw.parse().map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such patient."))
}

/// The message of a refused form, for the flash line.
pub(super) fn refusal(e: AppError) -> Result<String, PageError> {
    match e {
        AppError::Invalid(errors) => Ok(format!(
            "Not saved: {}.",
            errors
                .into_iter()
                .map(|e| format!("{} {}", e.field.replace('_', " "), e.message))
                .collect::<Vec<_>>()
                .join("; ")
        )),
        AppError::Conflict(m) => Ok(format!("Not saved: {m}.")),
        stale @ AppError::Stale { .. } => Ok(format!("Not saved: {stale}; reload the page and try again.")),
        short @ AppError::OutOfStock { .. } => Ok(format!("Not saved: {short}.")),
        AppError::ClinicalWarnings(w) => {
            Ok(format!("Not saved: {}. Give a reason to go ahead.", w.join("; ")))
        }
        other => Err(other.into()),
    }
}

/// Back to `back` with the outcome of a form: what was done, or why it was not.
pub(super) fn flash_outcome(
    state: &AppState,
    back: &str,
    outcome: Result<String, AppError>,
) -> Result<axum::response::Response, PageError> {
    let text = match outcome {
        Ok(t) => t,
        Err(e) => refusal(e)?,
    };
    Ok(super::flash(state, back, &text))
}

/// The fields of the clinical forms (an encounter, its vitals and notes, a diagnosis, an allergy, a prescription, a referral); each form sends its own, the rest stay empty.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ClinicalForm {
    appointment_id: String,
    assessment: String,
    chief_complaint: String,
    class: String,
    code: String,
    diastolic: String,
    dose: String,
    duration_days: String,
    encounter_id: String,
    frequency: String,
    height_cm: String,
    instructions: String,
    medicine_id: String,
    objective: String,
    onset: String,
    override_reason: String,
    plan: String,
    pulse: String,
    quantity: String,
    reaction: String,
    reason: String,
    respiratory_rate: String,
    return_to: String,
    route: String,
    severity: String,
    spo2: String,
    subjective: String,
    substance: String,
    systolic: String,
    temperature_c: String,
    template_id: String,
    then: String,
    to_department_id: String,
    urgency: String,
    version: String,
    weight_kg: String,
}

async fn open_encounter(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ClinicalForm>,
) -> Result<Response, PageError> {
    let patient = patient_id(&id)?;
    let input = NewEncounter {
        patient_id: patient,
        appointment_id: f.appointment_id.parse().ok(),
        class: if f.class.is_empty() { "AMB".into() } else { f.class.clone() },
        chief_complaint: f.chief_complaint.clone(),
    };
    match state.app.clinical().open_encounter(&ctx, input).await {
        Ok(e) => Ok(flash(&state, &format!("/encounters/{}", e.id), "Encounter opened.")),
        Err(e) => Ok(flash(&state, &format!("/patients/{patient}"), &refusal(e)?)),
    }
}

#[derive(Template)]
#[template(path = "encounter.html")]
struct EncounterPage {
    page: PageCtx,
    e: Encounter,
    patient_name: String,
    vitals: Vec<VitalSigns>,
    notes: Vec<Note>,
    diagnoses: Vec<Diagnosis>,
    allergies: Vec<Allergy>,
    templates: Vec<(String, String)>,
    prescriptions: Vec<salus_core::clinical::Prescription>,
    medicines: Vec<(String, String)>,
    referrals: Vec<salus_core::clinical::Referral>,
    attachments: Vec<salus_core::clinical::Attachment>,
    departments: Vec<(String, String)>,
    may_write: bool,
    may_vitals: bool,
    me: String,
}

impl EncounterPage {
    fn in_progress(&self) -> bool {
        self.e.status == EncounterStatus::InProgress
    }

    fn mine(&self, n: &Note) -> bool {
        n.author_id.to_string() == self.me
    }

    fn tenths(v: &Option<i32>) -> String {
        v.map(|x| format!("{}.{}", x / 10, (x % 10).abs())).unwrap_or_default()
    }

    fn kg(v: &Option<i32>) -> String {
        v.map(|g| format!("{:.1}", f64::from(g) / 1000.0)).unwrap_or_default()
    }

    fn cm(v: &Option<i32>) -> String {
        v.map(|mm| format!("{:.1}", f64::from(mm) / 10.0)).unwrap_or_default()
    }

    fn int(v: &Option<i32>) -> String {
        v.map(|x| x.to_string()).unwrap_or_default()
    }
}

async fn encounter_page(
    State(state): State<AppState>,
    SignedIn(user, ctx, page): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: EncounterId =
        id.parse().map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such encounter."))?;
    let w = state.app.clinical().encounter_workspace(&ctx, id).await?;
    let page_data = EncounterPage {
        page,
        prescriptions: w.prescriptions,
        medicines: w.choices.medicines.iter().map(|m| (m.id.to_string(), m.label())).collect(),
        referrals: w.referrals,
        attachments: w.attachments,
        departments: w.choices.departments.into_iter().map(|d| (d.id.to_string(), d.name)).collect(),
        patient_name: w.patient_name,
        e: w.encounter,
        vitals: w.vitals,
        notes: w.notes,
        diagnoses: w.diagnoses,
        allergies: w.allergies,
        templates: w.choices.templates.into_iter().map(|t| (t.id.to_string(), t.name)).collect(),
        may_write: user.may(Permission::ClinicalWrite),
        may_vitals: user.may(Permission::VitalsRecord),
        me: user.id.to_string(),
    };
    Ok(render(StatusCode::OK, &page_data))
}

async fn encounter_action(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<ClinicalForm>,
) -> Result<Response, PageError> {
    let id: EncounterId =
        id.parse().map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such encounter."))?;
    let back = format!("/encounters/{id}");
    let result = match action.as_str() {
        "vitals" => {
            let text = VitalsText {
                temperature_c: f.temperature_c.clone(),
                pulse: f.pulse.clone(),
                systolic: f.systolic.clone(),
                diastolic: f.diastolic.clone(),
                respiratory_rate: f.respiratory_rate.clone(),
                spo2: f.spo2.clone(),
                weight_kg: f.weight_kg.clone(),
                height_cm: f.height_cm.clone(),
            };
            state.app.clinical().record_vitals(&ctx, id, &text).await.map(|_| "Vitals recorded.".to_owned())
        }
        "notes" => {
            let template = f.template_id.parse().ok();
            state
                .app
                .clinical()
                .start_note(&ctx, id, template, Soap::default())
                .await
                .map(|_| "Draft note started.".to_owned())
        }
        "finish" => {
            let version = f.version.parse().unwrap_or(0);
            state
                .app
                .clinical()
                .close_encounter(&ctx, id, version, None)
                .await
                .map(|_| "Encounter finished.".to_owned())
        }
        _ => return Err(PageError::new(StatusCode::NOT_FOUND, "There is no such action.")),
    };
    let text = match result {
        Ok(t) => t,
        Err(e) => refusal(e)?,
    };
    Ok(flash(&state, &back, &text))
}

async fn note_action(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<ClinicalForm>,
) -> Result<Response, PageError> {
    let id: NoteId =
        id.parse().map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such note."))?;
    let back = format!("/encounters/{}", f.encounter_id.clone());
    let back = super::safe_next(Some(back.as_str())).to_owned();
    let soap = Soap {
        subjective: f.subjective.clone(),
        objective: f.objective.clone(),
        assessment: f.assessment.clone(),
        plan: f.plan.clone(),
    };
    let version = f.version.parse().unwrap_or(0);
    let result = match (action.as_str(), f.then.as_str()) {
        ("save", "sign") => match state.app.clinical().save_note(&ctx, id, version, soap).await {
            Ok(n) => state
                .app
                .clinical()
                .sign_note(&ctx, id, n.version)
                .await
                .map(|_| "Note signed; it is final now.".to_owned()),
            Err(e) => Err(e),
        },
        ("save", _) => {
            state.app.clinical().save_note(&ctx, id, version, soap).await.map(|_| "Draft saved.".to_owned())
        }
        ("amend", _) => state
            .app
            .clinical()
            .amend_note(&ctx, id, &f.reason.clone(), None)
            .await
            .map(|_| "Amendment started as a draft.".to_owned()),
        _ => return Err(PageError::new(StatusCode::NOT_FOUND, "There is no such action.")),
    };
    let text = match result {
        Ok(t) => t,
        Err(e) => refusal(e)?,
    };
    Ok(flash(&state, &back, &text))
}

async fn add_diagnosis(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ClinicalForm>,
) -> Result<Response, PageError> {
    let patient = patient_id(&id)?;
    let encounter = f.encounter_id.parse().ok();
    let back = match encounter {
        Some(e) => format!("/encounters/{e}"),
        None => format!("/patients/{patient}"),
    };
    // "E11.9 — Type 2 diabetes…" as picked from the suggestions: the code is the first word.
    let code = f.code.split_whitespace().next().unwrap_or("").to_owned();
    let input = NewDiagnosis { code, encounter_id: encounter, onset: f.onset.parse().ok() };
    let text = match state.app.clinical().add_diagnosis(&ctx, patient, input).await {
        Ok(d) => format!("Diagnosis {} recorded.", d.code),
        Err(e) => refusal(e)?,
    };
    Ok(flash(&state, &back, &text))
}

async fn add_allergy(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ClinicalForm>,
) -> Result<Response, PageError> {
    let patient = patient_id(&id)?;
    let back = super::safe_next(Some(f.return_to.as_str())).to_owned();
    let input = NewAllergy {
        substance: f.substance.clone(),
        reaction: f.reaction.clone(),
        severity: f.severity.clone(),
    };
    let text = match state.app.clinical().add_allergy(&ctx, patient, input).await {
        Ok(a) => format!("Allergy to {} recorded.", a.substance),
        Err(e) => refusal(e)?,
    };
    Ok(flash(&state, &back, &text))
}

#[derive(Template)]
#[template(path = "icd_partial.html")]
struct IcdOptions {
    options: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct SuggestQuery {
    #[serde(default)]
    code: String,
}

/// `<option>`s for the diagnosis field's datalist, while typing.
async fn icd_suggest(
    SignedIn(_, _ctx, _page): SignedIn,
    Query(q): Query<SuggestQuery>,
) -> Result<Response, PageError> {
    let options = salus_app::clinical::icd::IcdCatalog::get()
        .search(&q.code, 15, true)
        .into_iter()
        .map(|c| (c.code.clone(), c.description.clone()))
        .collect();
    Ok(render(StatusCode::OK, &IcdOptions { options }))
}

async fn prescribe(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ClinicalForm>,
) -> Result<Response, PageError> {
    let patient = patient_id(&id)?;
    let encounter: Option<EncounterId> = f.encounter_id.parse().ok();
    let back = match encounter {
        Some(e) => format!("/encounters/{e}"),
        None => format!("/patients/{patient}"),
    };
    let Ok(medicine_id) = f.medicine_id.parse() else {
        return Ok(flash(&state, &back, "Not saved: choose the medicine."));
    };
    let input = salus_app::clinical::prescriptions::NewPrescription {
        medicine_id,
        encounter_id: encounter,
        dose: f.dose.clone(),
        route: f.route.clone(),
        frequency: f.frequency.clone(),
        duration_days: f.duration_days.trim().parse().ok(),
        quantity: f.quantity.trim().parse().ok(),
        instructions: f.instructions.clone(),
        override_reason: f.override_reason.clone(),
    };
    let text = match state.app.clinical().prescribe(&ctx, patient, input).await {
        Ok(r) => format!("Prescribed {}.", r.medicine_name),
        Err(AppError::ClinicalWarnings(w)) => {
            format!("Not saved — check first: {}. To go ahead, give the reason to override.", w.join("; "))
        }
        Err(e) => refusal(e)?,
    };
    Ok(flash(&state, &back, &text))
}

#[derive(Template)]
#[template(path = "prescription_print.html")]
struct PrintPage {
    facility: Option<salus_app::organisation::Facility>,
    doctor: String,
    registration: Option<String>,
    qualifications: Option<String>,
    patient: salus_app::patients::Patient,
    date: String,
    items: Vec<salus_core::clinical::Prescription>,
}

/// The encounter's prescription, printable: the clinic's letterhead, the doctor's name
/// and registration, the patient, the medicines.
async fn print_prescription(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: EncounterId =
        id.parse().map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such encounter."))?;
    let view = state.app.clinical().encounter(&ctx, id).await?;
    let patient_id = PatientId::from_uuid(view.encounter.patient_id);
    let patient = state.app.patients().patient(&ctx, patient_id).await?;
    let items: Vec<_> = state
        .app
        .clinical()
        .prescriptions(&ctx, patient_id)
        .await?
        .into_iter()
        .filter(|r| r.encounter_id == Some(view.encounter.id) && r.status == PrescriptionStatus::Active)
        .collect();
    let op = Ctx::operator();
    let doctor = state
        .app
        .organisation()
        .staff_member(&op, salus_core::UserId::from_uuid(view.encounter.doctor_id))
        .await
        .ok();
    let facility = state.app.organisation().facilities(&op).await?.into_iter().find(|f| f.active);
    let page_data = PrintPage {
        facility,
        doctor: doctor.as_ref().map(|d| d.user.display_name.clone()).unwrap_or_default(),
        registration: doctor.as_ref().and_then(|d| {
            d.profile.registration_number.clone().map(|n| match &d.profile.registration_council {
                Some(c) => format!("{n}, {c}"),
                None => n,
            })
        }),
        qualifications: doctor.and_then(|d| d.profile.qualifications),
        patient,
        date: view.encounter.started_at.with_timezone(&state.app.time_zone).format("%d %B %Y").to_string(),
        items,
    };
    Ok(render(StatusCode::OK, &page_data))
}

async fn refer(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ClinicalForm>,
) -> Result<Response, PageError> {
    let patient = patient_id(&id)?;
    let encounter: Option<EncounterId> = f.encounter_id.parse().ok();
    let back = encounter.map_or_else(|| format!("/patients/{patient}"), |e| format!("/encounters/{e}"));
    let input = salus_app::clinical::referrals::NewReferral {
        encounter_id: encounter,
        to_department: f.to_department_id.parse().ok(),
        to_doctor: None,
        reason: f.reason.clone(),
        urgency: f.urgency.clone(),
    };
    let text = match state.app.clinical().refer(&ctx, patient, input).await {
        Ok(_) => "Referral written.".to_owned(),
        Err(e) => refusal(e)?,
    };
    Ok(flash(&state, &back, &text))
}

async fn attach(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let patient = patient_id(&id)?;
    let (mut data, mut name, mut encounter) = (None, String::new(), None::<EncounterId>);
    while let Ok(Some(field)) = multipart.next_field().await {
        match field.name() {
            Some("file") => {
                name = field.file_name().unwrap_or("attachment").to_owned();
                data =
                    Some(field.bytes().await.map_err(|_| {
                        PageError::new(StatusCode::PAYLOAD_TOO_LARGE, "The file is too large.")
                    })?);
            }
            Some("encounter_id") => encounter = field.text().await.ok().and_then(|t| t.parse().ok()),
            _ => {}
        }
    }
    let back = encounter.map_or_else(|| format!("/patients/{patient}"), |e| format!("/encounters/{e}"));
    let Some(data) = data.filter(|d| !d.is_empty()) else {
        return Ok(flash(&state, &back, "Not saved: choose a file first."));
    };
    let text = match state.app.clinical().attach(&ctx, patient, encounter, &name, &data).await {
        Ok(a) => format!("{} attached.", a.filename),
        Err(e) => refusal(e)?,
    };
    Ok(flash(&state, &back, &text))
}

async fn download(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = id.parse().map_err(|_| PageError::new(StatusCode::NOT_FOUND, "There is no such attachment."))?;
    let (meta, bytes) = state.app.clinical().attachment(&ctx, id).await?;
    Ok(crate::api::clinical_attachment_response(&meta, bytes))
}
