//! The home page: for each of the user's roles, what that role does in Salus — linked
//! where the feature is built, marked "not yet available" where it is still to come.

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use salus_app::identity::CurrentUser;
use salus_core::Role;

use super::{PageCtx, SignedIn, render};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

pub struct Task {
    pub label: &'static str,
    pub href: Option<String>,
}

pub struct RoleSection {
    pub title: &'static str,
    pub tasks: Vec<Task>,
}

fn built(label: &'static str, href: &str) -> Task {
    Task { label, href: Some(href.to_owned()) }
}

const fn coming(label: &'static str) -> Task {
    Task { label, href: None }
}

fn tasks(role: Role, user: &CurrentUser) -> Vec<Task> {
    match role {
        Role::Admin => vec![
            built("Users and roles", "/admin/users"),
            built("Find patients and merge duplicates", "/patients"),
            built("Break-the-glass review", "/admin/break-glass"),
            built("API documentation", "/api/docs/"),
            coming("Departments, doctors and schedules"),
            coming("Price list, wards and beds"),
            built("Audit log", "/admin/audit"),
            coming("Quality indicators"),
        ],
        Role::Doctor => vec![
            coming("Today's worklist"),
            built("Find a patient and open the chart", "/patients"),
            coming("Encounters, prescriptions and orders"),
        ],
        Role::Nurse => {
            vec![
                built("Find a patient", "/patients"),
                coming("Triage vitals"),
                coming("Ward bed board"),
                coming("Medication administration"),
            ]
        }
        Role::Receptionist => vec![
            built("Find a patient", "/patients"),
            built("Register a patient", "/patients/new"),
            coming("Book and check in appointments"),
            coming("Walk-in queue and payments"),
        ],
        Role::LabTechnician => vec![
            coming("Order worklist"),
            coming("Sample collection"),
            coming("Result entry and verification"),
        ],
        Role::Pharmacist => vec![
            coming("Dispense prescriptions"),
            coming("Stock by batch and expiry"),
            coming("Counter sales"),
        ],
        Role::Billing => {
            vec![coming("Invoices and payments"), coming("Insurance claims"), coming("Daily cash report")]
        }
        Role::Patient => vec![
            match user.patient_id {
                Some(id) => built("My record", &format!("/patients/{id}")),
                None => coming("My record (ask the front desk to link your account)"),
            },
            match user.patient_id {
                Some(id) => {
                    built("My visits and prescriptions", &format!("/patients/{id}#medicines-heading"))
                }
                None => coming("My visits and prescriptions"),
            },
            coming("My appointments"),
            coming("My results"),
            coming("Messages to my care team"),
        ],
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    page: PageCtx,
    name: String,
    sections: Vec<RoleSection>,
}

async fn home(SignedIn(user, _, page): SignedIn) -> Response {
    let sections =
        user.roles.iter().map(|r| RoleSection { title: r.label(), tasks: tasks(*r, &user) }).collect();
    render(StatusCode::OK, &HomePage { page, name: user.display_name.clone(), sections })
}
