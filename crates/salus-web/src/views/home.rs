//! The home page: for each of the user's roles, the pages that role opens now, from the
//! same declarations as the navigation bar (`menu`); for a pharmacist, what in the
//! pharmacy needs attention (low stock, expired and soon-expiring batches).

use crate::access::{Access, Declared, route};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use salus_app::identity::CurrentUser;
use salus_core::Role;

use super::{PageCtx, SignedIn, menu, render};
use crate::AppState;

/// The routes of this module and what each needs (see `crate::access`).
pub(crate) const ROUTES: &[Declared] = &[route("/", Access::SignedIn)];

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

pub struct Task {
    pub label: &'static str,
    pub href: String,
    pub what: &'static str,
}

pub struct RoleSection {
    pub title: &'static str,
    pub tasks: Vec<Task>,
}

fn tasks(role: Role, user: &CurrentUser) -> Vec<Task> {
    let mut tasks: Vec<Task> = menu::for_role(role, user)
        .into_iter()
        .map(|e| Task { label: e.label, href: e.path.to_owned(), what: e.what })
        .collect();
    // A patient's account opens one record, by relationship rather than permission.
    if role == Role::Patient {
        match user.patient_id {
            Some(id) => {
                tasks.push(Task {
                    label: "My record",
                    href: format!("/patients/{id}"),
                    what: "Problems, allergies, current medicines and visits",
                });
                tasks.push(Task {
                    label: "My visits and prescriptions",
                    href: format!("/patients/{id}#medicines-heading"),
                    what: "Signed notes of your visits and what was prescribed",
                });
                tasks.push(Task {
                    label: "My lab results",
                    href: format!("/patients/{id}/lab"),
                    what: "Your verified laboratory results, with their reference ranges and trends",
                });
                tasks.push(Task {
                    label: "My imaging reports",
                    href: format!("/patients/{id}/imaging"),
                    what: "Your X-ray, ultrasound, CT and MRI reports once a doctor has authorised them",
                });
            }
            None => tasks.push(Task {
                label: "Link your record",
                href: "/profile".to_owned(),
                what: "Ask the front desk to link this account to your record",
            }),
        }
    }
    tasks
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    page: PageCtx,
    name: String,
    sections: Vec<RoleSection>,
    /// For a pharmacist: what needs attention in the pharmacy (each line a link).
    alerts: Vec<(String, String)>,
}

/// What needs a pharmacist's attention, from the first pharmacy store's alerts: items
/// below their reorder level, stock expired or expiring within 30 days.
async fn pharmacy_alerts(state: &AppState, ctx: &salus_app::Ctx) -> Vec<(String, String)> {
    let pharmacy = state.app.pharmacy();
    let Ok(stores) = pharmacy.stores(ctx).await else { return Vec::new() };
    let Some(store) =
        stores.iter().find(|s| s.kind == salus_core::pharmacy::StoreKind::Pharmacy).or(stores.first())
    else {
        return Vec::new();
    };
    let Ok(a) = pharmacy.alerts(ctx, store.id).await else { return Vec::new() };
    let href = format!("/pharmacy?store={}", store.id);
    let expired = a.expiring.iter().filter(|e| e.band == 0).count();
    let soon = a.expiring.iter().filter(|e| e.band == 30).count();
    let mut out = Vec::new();
    if !a.low.is_empty() {
        out.push((
            format!("{}: {} item(s) at or below their reorder level", store.name, a.low.len()),
            href.clone(),
        ));
    }
    if expired > 0 {
        out.push((format!("{}: {expired} batch(es) expired — write them off", store.name), href.clone()));
    }
    if soon > 0 {
        out.push((format!("{}: {soon} batch(es) expiring within 30 days", store.name), href));
    }
    out
}

async fn home(State(state): State<AppState>, SignedIn(user, ctx, page): SignedIn) -> Response {
    let sections =
        user.roles.iter().map(|r| RoleSection { title: r.label(), tasks: tasks(*r, &user) }).collect();
    let alerts = if user.may(salus_app::identity::Permission::PharmacyDispense) {
        pharmacy_alerts(&state, &ctx).await
    } else {
        Vec::new()
    };
    render(StatusCode::OK, &HomePage { page, name: user.display_name.clone(), sections, alerts })
}
