//! Who may call which route, declared once for every route beside the handlers (each
//! module's `ROUTES`, gathered by [`DOORS`]) and enforced by one layer before any handler
//! runs. A route that declares nothing is refused to everyone (deny by default) and
//! logged, so a new route cannot quietly be open; the access test walks every declared
//! route with every role, by the sample request each declares, and checks that every
//! route in the OpenAPI document is declared.
//!
//! Use cases check their permission again (`App::authorize`): the route layer keeps
//! callers out early and uniformly, the use case keeps every door honest, the CLI included.

use std::collections::HashMap;
use std::sync::OnceLock;

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
    /// No user at all: the request carries its own credential (a payment provider's
    /// signature over the body), which the use case checks before reading anything; a
    /// request without it is 401 whoever sends it, signed in or not.
    Signed,
}

/// A route pattern (as axum matches it), what it needs, and one request that reaches
/// it (for the every-route × every-role test). Each module declares its routes in a
/// `ROUTES` list beside its router; [`DOORS`] gathers them.
#[derive(Debug, Clone, Copy)]
pub struct Declared {
    pub path: &'static str,
    pub access: Access,
    /// The method of the sample request.
    pub method: &'static str,
    /// The sample request's path and query when the pattern alone is not one (`{id}`
    /// stands for any id, as in the pattern).
    pub example: Option<&'static str>,
}

/// A route reached by GET at its pattern (with `{id}` as any id).
pub const fn route(path: &'static str, access: Access) -> Declared {
    Declared { path, access, method: "GET", example: None }
}

impl Declared {
    pub const fn post(self) -> Self {
        Self { method: "POST", ..self }
    }

    pub const fn patch(self) -> Self {
        Self { method: "PATCH", ..self }
    }

    pub const fn put(self) -> Self {
        Self { method: "PUT", ..self }
    }

    pub const fn delete(self) -> Self {
        Self { method: "DELETE", ..self }
    }

    pub const fn example(self, example: &'static str) -> Self {
        Self { example: Some(example), ..self }
    }

    /// A concrete path that reaches this route, `{id}` filled with `id`.
    pub fn sample_path(&self, id: &str) -> String {
        self.example.unwrap_or(self.path).replace("{id}", id)
    }
}

/// Every door's route tables: a new module adds its `ROUTES` to its door's list.
pub const DOORS: &[&[&[Declared]]] = &[
    crate::views::TABLES,
    crate::api::TABLES,
    &[crate::ops::ROUTES, crate::assets::ROUTES, crate::fhir::ROUTES, crate::smart::ROUTES],
];

/// Every route of the router.
pub fn routes() -> impl Iterator<Item = &'static Declared> {
    DOORS.iter().flat_map(|door| door.iter()).flat_map(|table| table.iter())
}

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

/// The methods each API route answers, read once from the OpenAPI document: a request
/// with another method is answered 405 with `Allow` before anyone's access is weighed
/// (a TRACE is not "forbidden", it is not a thing this route does).
fn api_methods() -> &'static HashMap<String, Vec<&'static str>> {
    static METHODS: OnceLock<HashMap<String, Vec<&'static str>>> = OnceLock::new();
    METHODS.get_or_init(|| {
        let (_, spec) = crate::api::routes();
        spec.paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("HEAD", item.get.is_some() || item.head.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("OPTIONS", item.options.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, on)| on.then_some(m))
                .collect();
                (path.clone(), methods)
            })
            .collect()
    })
}

/// The access a route pattern declares (looked up on every request and for every link
/// drawn, so by hash rather than by walking the tables).
pub fn declared(path: &str) -> Option<Access> {
    static TABLE: OnceLock<HashMap<&'static str, Access>> = OnceLock::new();
    TABLE.get_or_init(|| routes().map(|r| (r.path, r.access)).collect()).get(path).copied()
}

pub async fn enforce(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let api = is_api_path(req.uri().path());
    if api
        && let Some(methods) = api_methods().get(&path)
        && !methods.contains(&req.method().as_str())
    {
        let mut res = ApiError::bare(ProblemKind::MethodNotAllowed).into_response();
        if let Ok(allow) = axum::http::HeaderValue::from_str(&methods.join(", ")) {
            res.headers_mut().insert(axum::http::header::ALLOW, allow);
        }
        return res;
    }
    let Some(access) = declared(&path) else {
        tracing::error!(route = %path, "route declares no access; refused to everyone");
        return if api {
            ApiError::bare(ProblemKind::Internal).into_response()
        } else {
            error_page(StatusCode::INTERNAL_SERVER_ERROR, "This page is not available.")
        };
    };
    if matches!(access, Access::Public | Access::Signed) {
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
    if user.smart.is_some() && !path.starts_with("/fhir") {
        // A SMART app's token is for the FHIR door alone.
        return ApiError::new(ProblemKind::Forbidden, "a SMART app's token reaches /fhir only")
            .into_response();
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
        for r in routes() {
            assert_eq!(routes().filter(|x| x.path == r.path).count(), 1, "{}", r.path);
        }
        assert_eq!(declared("/nowhere"), None);
    }
}
