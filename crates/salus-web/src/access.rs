//! Who may call which route, declared once for every route of the router and enforced by
//! one layer before any handler runs. A route missing from [`DECLARED`] is refused to
//! everyone (deny by default) and logged, so a new route cannot quietly be open; the
//! access test walks this table with every role, and checks that every route in the
//! OpenAPI document is here.
//!
//! Use cases check their permission again (`App::authorize`): the route layer keeps
//! callers out early and uniformly, the use case keeps every door honest, the CLI included.

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use salus_app::Ctx;
use salus_app::identity::{Actor, Gate, Permission};

use crate::AppState;
use crate::error::{ApiError, ProblemKind, error_page};
use crate::middleware::{Auth, client_info, is_api_path};

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (sign-in page, assets, health, API description).
    Public,
    /// Any signed-in user.
    SignedIn,
    /// A signed-in user whose roles grant the permission.
    Permission(Permission),
}

/// A route pattern (as axum matches it) and what it needs.
#[derive(Debug, Clone, Copy)]
pub struct Declared {
    pub path: &'static str,
    pub access: Access,
}

const fn d(path: &'static str, access: Access) -> Declared {
    Declared { path, access }
}

/// Every route of the router.
pub const DECLARED: &[Declared] = &[
    // Pages
    d("/login", Access::Public),
    // Signed in with the password, still to give the second factor (the gate keeps such a
    // session to this page).
    d("/login/two-factor", Access::SignedIn),
    d("/logout", Access::SignedIn),
    d("/", Access::SignedIn),
    d("/admin/users", Access::Permission(Permission::UsersManage)),
    d("/admin/users/{id}", Access::Permission(Permission::UsersManage)),
    d("/admin/users/{id}/{action}", Access::Permission(Permission::UsersManage)),
    d("/admin/audit", Access::Permission(Permission::AuditView)),
    d("/patients", Access::Permission(Permission::PatientsRead)),
    d("/patients/new", Access::Permission(Permission::PatientsRegister)),
    // A patient's own account opens its chart too: the use case decides by relationship.
    d("/patients/{id}", Access::SignedIn),
    d("/patients/{id}/timeline", Access::SignedIn),
    d("/patients/{id}/photo", Access::SignedIn),
    d("/patients/{id}/edit", Access::Permission(Permission::PatientsRegister)),
    d("/patients/{id}/break-glass", Access::Permission(Permission::PatientsBreakGlass)),
    d("/patients/{id}/merge", Access::Permission(Permission::PatientsMerge)),
    d("/patients/{id}/unmerge", Access::Permission(Permission::PatientsMerge)),
    d("/admin/organisation", Access::Permission(Permission::OrganisationManage)),
    d("/admin/organisation/{kind}", Access::Permission(Permission::OrganisationManage)),
    d("/admin/organisation/{kind}/{id}", Access::Permission(Permission::OrganisationManage)),
    d("/admin/identifier-types", Access::Permission(Permission::OrganisationManage)),
    d("/admin/identifier-types/{code}", Access::Permission(Permission::OrganisationManage)),
    d("/admin/staff", Access::Permission(Permission::OrganisationManage)),
    d("/admin/staff/{id}", Access::Permission(Permission::OrganisationManage)),
    d("/services", Access::Permission(Permission::OrganisationRead)),
    d("/admin/services", Access::Permission(Permission::OrganisationManage)),
    d("/admin/services/{id}", Access::Permission(Permission::OrganisationManage)),
    d("/appointments", Access::Permission(Permission::AppointmentsRead)),
    d("/appointments/book", Access::Permission(Permission::AppointmentsBook)),
    // Checking in is reception's, starting a consultation the doctor's: the use case decides.
    d("/appointments/{id}/{action}", Access::Permission(Permission::AppointmentsRead)),
    d("/worklist", Access::Permission(Permission::AppointmentsConsult)),
    d("/worklist/call-next", Access::Permission(Permission::AppointmentsConsult)),
    d("/appointments/walk-in", Access::Permission(Permission::AppointmentsBook)),
    d("/queue", Access::Permission(Permission::AppointmentsRead)),
    d("/queue/board", Access::Permission(Permission::AppointmentsRead)),
    d("/admin/operations", Access::Permission(Permission::JobsManage)),
    d("/admin/jobs/{id}/{action}", Access::Permission(Permission::JobsManage)),
    d("/admin/templates", Access::Permission(Permission::JobsManage)),
    d("/admin/schedules", Access::Permission(Permission::SchedulesManage)),
    d("/admin/schedules/sessions", Access::Permission(Permission::SchedulesManage)),
    d("/admin/schedules/sessions/{id}/retire", Access::Permission(Permission::SchedulesManage)),
    d("/admin/schedules/exceptions", Access::Permission(Permission::SchedulesManage)),
    d("/admin/schedules/exceptions/{id}/remove", Access::Permission(Permission::SchedulesManage)),
    d("/patients/{id}/encounters", Access::Permission(Permission::ClinicalWrite)),
    d("/patients/{id}/diagnoses", Access::Permission(Permission::ClinicalWrite)),
    d("/patients/{id}/allergies", Access::Permission(Permission::VitalsRecord)),
    // The patient's own account reads its encounters too; the use case decides.
    d("/encounters/{id}", Access::SignedIn),
    d("/encounters/{id}/{action}", Access::Permission(Permission::ClinicalRead)),
    d("/notes/{id}/{action}", Access::Permission(Permission::ClinicalWrite)),
    d("/icd10/suggest", Access::Permission(Permission::OrganisationRead)),
    d("/admin/clinical-catalog", Access::Permission(Permission::OrganisationManage)),
    d("/admin/clinical-catalog/{kind}", Access::Permission(Permission::OrganisationManage)),
    d("/patients/{id}/prescriptions", Access::Permission(Permission::ClinicalWrite)),
    d("/patients/{id}/referrals", Access::Permission(Permission::ClinicalWrite)),
    d("/patients/{id}/attachments", Access::Permission(Permission::VitalsRecord)),
    d("/attachments/{id}", Access::SignedIn),
    // The patient's own account prints its prescription too; the use case decides.
    d("/encounters/{id}/prescription", Access::SignedIn),
    d("/admin/break-glass", Access::Permission(Permission::AuditView)),
    d("/admin/break-glass/{id}/review", Access::Permission(Permission::AuditView)),
    d("/profile", Access::SignedIn),
    d("/profile/password", Access::SignedIn),
    d("/profile/sessions/{id}/revoke", Access::SignedIn),
    d("/profile/sessions/revoke-others", Access::SignedIn),
    d("/profile/two-factor", Access::SignedIn),
    d("/profile/two-factor/disable", Access::SignedIn),
    d("/profile/two-factor/recovery-codes", Access::SignedIn),
    d("/profile/tokens", Access::SignedIn),
    d("/profile/tokens/{id}/revoke", Access::SignedIn),
    // JSON API
    d("/api/v1/me", Access::SignedIn),
    d("/api/v1/users", Access::Permission(Permission::UsersManage)),
    d("/api/v1/patients", Access::Permission(Permission::PatientsRead)),
    // A patient's own account reads its record here too: the use case decides by relationship.
    d("/api/v1/patients/{id}", Access::SignedIn),
    d("/api/v1/patients/{id}/status", Access::Permission(Permission::PatientsRegister)),
    d("/api/v1/patients/{id}/merge", Access::Permission(Permission::PatientsMerge)),
    d("/api/v1/patients/{id}/unmerge", Access::Permission(Permission::PatientsMerge)),
    d("/api/v1/patients/{id}/break-glass", Access::Permission(Permission::PatientsBreakGlass)),
    d("/api/v1/patients/{id}/timeline", Access::SignedIn),
    d("/api/v1/patients/{id}/history", Access::SignedIn),
    d("/api/v1/patients/{id}/photo", Access::SignedIn),
    // The organisation: staff read it, the use cases let only administrators change it.
    d("/api/v1/facilities", Access::Permission(Permission::OrganisationRead)),
    d("/api/v1/facilities/{id}", Access::Permission(Permission::OrganisationRead)),
    d("/api/v1/departments", Access::Permission(Permission::OrganisationRead)),
    d("/api/v1/departments/{id}", Access::Permission(Permission::OrganisationRead)),
    d("/api/v1/specialisations", Access::Permission(Permission::OrganisationRead)),
    d("/api/v1/specialisations/{id}", Access::Permission(Permission::OrganisationRead)),
    d("/api/v1/staff", Access::Permission(Permission::OrganisationRead)),
    d("/api/v1/staff/{id}", Access::Permission(Permission::OrganisationRead)),
    d("/api/v1/services", Access::Permission(Permission::OrganisationRead)),
    d("/api/v1/services/{id}", Access::Permission(Permission::OrganisationRead)),
    d("/api/v1/identifier-types", Access::Permission(Permission::OrganisationRead)),
    d("/api/v1/icd10", Access::Permission(Permission::OrganisationRead)),
    d("/api/v1/identifier-types/{code}", Access::Permission(Permission::OrganisationManage)),
    // Scheduling: the use cases tell booking (reception), consulting (doctors) and
    // managing sessions (administrators) apart.
    d("/api/v1/schedules", Access::Permission(Permission::AppointmentsRead)),
    d("/api/v1/schedules/{id}/retire", Access::Permission(Permission::SchedulesManage)),
    d("/api/v1/schedule-exceptions", Access::Permission(Permission::AppointmentsRead)),
    d("/api/v1/schedule-exceptions/{id}", Access::Permission(Permission::SchedulesManage)),
    d("/api/v1/slots", Access::Permission(Permission::AppointmentsRead)),
    d("/api/v1/appointments", Access::Permission(Permission::AppointmentsRead)),
    d("/api/v1/appointments/{id}", Access::Permission(Permission::AppointmentsRead)),
    d("/api/v1/appointments/{id}/status", Access::Permission(Permission::AppointmentsRead)),
    d("/api/v1/appointments/{id}/reschedule", Access::Permission(Permission::AppointmentsBook)),
    d("/api/v1/walk-ins", Access::Permission(Permission::AppointmentsBook)),
    d("/api/v1/queue", Access::Permission(Permission::AppointmentsRead)),
    d("/api/v1/queue/call-next", Access::Permission(Permission::AppointmentsConsult)),
    d("/api/v1/jobs", Access::Permission(Permission::JobsManage)),
    d("/api/v1/jobs/{id}/{action}", Access::Permission(Permission::JobsManage)),
    // One patient's messages for staff who see appointments; everyone's for administrators.
    d("/api/v1/notifications", Access::Permission(Permission::AppointmentsRead)),
    d("/api/v1/notification-templates", Access::Permission(Permission::JobsManage)),
    d("/api/v1/notification-templates/preview", Access::Permission(Permission::JobsManage)),
    d(
        "/api/v1/notification-templates/{kind}/{channel}/{language}",
        Access::Permission(Permission::JobsManage),
    ),
    // The clinical record: the use cases decide (clinical.read for staff, the patient's
    // own account for its signed notes, clinical.write and vitals.record for writing).
    d("/api/v1/encounters", Access::Permission(Permission::ClinicalWrite)),
    d("/api/v1/encounters/{id}", Access::SignedIn),
    d("/api/v1/encounters/{id}/{action}", Access::Permission(Permission::ClinicalRead)),
    d("/api/v1/encounters/{id}/vitals", Access::Permission(Permission::VitalsRecord)),
    d("/api/v1/encounters/{id}/notes", Access::Permission(Permission::ClinicalWrite)),
    d("/api/v1/notes/{id}", Access::Permission(Permission::ClinicalWrite)),
    d("/api/v1/notes/{id}/{action}", Access::Permission(Permission::ClinicalWrite)),
    d("/api/v1/notes/{id}/history", Access::SignedIn),
    d("/api/v1/patients/{id}/encounters", Access::SignedIn),
    d("/api/v1/patients/{id}/vitals", Access::SignedIn),
    d("/api/v1/patients/{id}/diagnoses", Access::SignedIn),
    d("/api/v1/diagnoses/{id}/{action}", Access::Permission(Permission::ClinicalWrite)),
    d("/api/v1/patients/{id}/allergies", Access::SignedIn),
    d("/api/v1/allergies/{id}/status", Access::Permission(Permission::VitalsRecord)),
    d("/api/v1/patients/{id}/immunizations", Access::SignedIn),
    d("/api/v1/records/{kind}/{id}/entered-in-error", Access::Permission(Permission::VitalsRecord)),
    d("/api/v1/medicines", Access::Permission(Permission::OrganisationRead)),
    d("/api/v1/note-templates", Access::Permission(Permission::OrganisationRead)),
    d("/api/v1/patients/{id}/referrals", Access::SignedIn),
    d("/api/v1/referrals/{id}/{action}", Access::Permission(Permission::ClinicalWrite)),
    d("/api/v1/patients/{id}/attachments", Access::SignedIn),
    d("/api/v1/attachments/{id}", Access::SignedIn),
    d("/api/v1/note-templates/{id}", Access::Permission(Permission::OrganisationManage)),
    d("/api/v1/medicines/{id}", Access::Permission(Permission::OrganisationManage)),
    d("/api/v1/patients/{id}/prescriptions", Access::SignedIn),
    d("/api/v1/prescriptions/{id}/{action}", Access::Permission(Permission::ClinicalWrite)),
    // The API's description: no data, and integrators read it before they have a token.
    d("/api/openapi.json", Access::Public),
    d("/api/docs", Access::Public),
    d("/api/docs/", Access::Public),
    d("/api/docs/{*rest}", Access::Public),
    // Operations and assets
    d("/health/live", Access::Public),
    d("/health/ready", Access::Public),
    d("/metrics", Access::Public),
    d("/assets/{*path}", Access::Public),
];

/// The routes open to a user held at a gate, and where a page request is sent instead.
fn through_gate(gate: Gate) -> (&'static [&'static str], &'static str, ProblemKind) {
    match gate {
        Gate::SecondFactor => {
            (&["/login/two-factor", "/logout"], "/login/two-factor", ProblemKind::Unauthenticated)
        }
        Gate::ChangePassword => {
            (&["/profile", "/profile/password", "/logout"], "/profile", ProblemKind::PasswordChangeRequired)
        }
        Gate::EnrolSecondFactor => (
            &["/profile/two-factor", "/profile/password", "/logout"],
            "/profile/two-factor",
            ProblemKind::SecondFactorEnrolmentRequired,
        ),
    }
}

pub fn declared(path: &str) -> Option<Access> {
    DECLARED.iter().find(|r| r.path == path).map(|r| r.access)
}

pub async fn enforce(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let api = is_api_path(req.uri().path());
    let Some(access) = declared(&path) else {
        tracing::error!(route = %path, "route declares no access; refused to everyone");
        return if api {
            ApiError::bare(ProblemKind::Internal).into_response()
        } else {
            error_page(StatusCode::INTERNAL_SERVER_ERROR, "This page is not available.")
        };
    };
    if access == Access::Public {
        return next.run(req).await;
    }
    let user = req.extensions().get::<Auth>().and_then(Auth::user).cloned();
    let Some(user) = user else {
        return if api {
            ApiError::bare(ProblemKind::Unauthenticated).into_response()
        } else {
            crate::views::to_sign_in(req.uri())
        };
    };
    if let Some(gate) = user.gate {
        let (open, to, kind) = through_gate(gate);
        if !open.contains(&path.as_str()) {
            return if api { ApiError::bare(kind).into_response() } else { Redirect::to(to).into_response() };
        }
    }
    if let Access::Permission(permission) = access {
        let (parts, body) = req.into_parts();
        let ctx = Ctx::new(Actor::User(user), client_info(&parts));
        if let Err(e) = state.app.authorize(&ctx, permission).await {
            return if api {
                ApiError::from(e).into_response()
            } else {
                crate::error::PageError::from(e).into_response()
            };
        }
        return next.run(Request::from_parts(parts, body)).await;
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_is_declared_once() {
        for r in DECLARED {
            assert_eq!(DECLARED.iter().filter(|x| x.path == r.path).count(), 1, "{}", r.path);
        }
        assert_eq!(declared("/nowhere"), None);
    }
}
