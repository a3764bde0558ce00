//! The problem responses every operation can give, declared in the OpenAPI document from
//! shared sets by the operation's shape, so a client (or schemathesis) meets no status the
//! document does not name. A handler's own `responses(...)` say what is particular to it
//! (and win where both name a status); these say what the common layers add:
//!
//! - every operation: 401 (no or a bad credential), 403 (the role may not), 405 (another
//!   method), 429 (rate limits), 500, and 503 (the database cannot be reached, with
//!   Retry-After);
//! - with a path parameter: 404 (no such record, or not one the caller may know of);
//! - with query parameters: 400 and 422 (a value that does not parse or is out of range);
//! - with a body: 400 (not JSON), 413 (too large), 415 (not `application/json`), 422;
//! - with an `If-Match` header: 409 (`stale-version`), 422 (not a version) and 428 (no
//!   version given); the header itself is declared required, as the version this API's
//!   ETag gave out (`"3"`, or weak `W/"3"`).

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Required, ResponseBuilder};

use crate::error::PROBLEM_JSON;

/// The schema of a coded value (a status, a kind): a string, one of its spellings. For a
/// field: `#[schema(schema_with = coded::<AllergyStatus>)]`.
pub fn coded<T: salus_core::Coded>() -> utoipa::openapi::Object {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(T::codes())).build()
}

/// An optional coded value: one of its spellings, or null.
pub fn coded_or_null<T: salus_core::Coded>() -> utoipa::openapi::Object {
    let mut values: Vec<serde_json::Value> = T::codes().into_iter().map(Into::into).collect();
    values.push(serde_json::Value::Null);
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(values))
        .build()
}

/// A list of coded values, at least one.
pub fn coded_list<T: salus_core::Coded>() -> utoipa::openapi::Array {
    utoipa::openapi::schema::ArrayBuilder::new().items(coded::<T>()).min_items(Some(1)).build()
}

fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
            )
            .build(),
    )
}

/// The statuses the shared layers can answer `op` with, and what each means.
fn shared_statuses(op: &Operation) -> Vec<(&'static str, &'static str)> {
    let mut out = vec![
        ("401", "Not signed in, or the token is unknown, expired or revoked"),
        ("403", "The caller's roles (or the token's scope) do not allow this"),
        ("405", "Not a method of this route"),
        ("429", "Too many requests; Retry-After says when to come back"),
        ("500", "Something went wrong on our side; quote the request_id"),
        ("503", "The database cannot be reached just now; Retry-After says when to retry"),
    ];
    let params = op.parameters.as_deref().unwrap_or_default();
    let has = |place: ParameterIn| params.iter().any(|p| p.parameter_in == place);
    if has(ParameterIn::Path) {
        out.push(("404", "No such record, or none the caller may know of"));
    }
    if has(ParameterIn::Query) || has(ParameterIn::Header) || op.request_body.is_some() {
        out.push(("400", "The request could not be read"));
        out.push(("422", "A value is not valid; errors names each field"));
    }
    if op.request_body.is_some() {
        out.push(("413", "The body is too large"));
        out.push(("415", "The body is not of a supported media type"));
    }
    if params.iter().any(|p| p.name.eq_ignore_ascii_case("if-match")) {
        out.push((
            "409",
            "The record changed since the version given (stale-version, with the current record)",
        ));
        out.push(("428", "Say which version was edited, with If-Match"));
    }
    out
}

/// Adds the shared problem responses to every operation of `spec`.
/// A free-text query parameter says what the server enforces for every address (see
/// `refuse_nul` in the middleware): it holds no NUL character.
fn no_nul(p: &mut utoipa::openapi::path::Parameter) {
    use utoipa::openapi::schema::{Schema, SchemaType};
    let Some(RefOr::T(Schema::Object(obj))) = p.schema.as_mut() else { return };
    let is_string = match &obj.schema_type {
        SchemaType::Type(t) => *t == Type::String,
        SchemaType::Array(ts) => ts.contains(&Type::String),
        SchemaType::AnyValue => false,
    };
    if !is_string || obj.format.is_some() || obj.enum_values.is_some() {
        return;
    }
    obj.pattern = match obj.pattern.as_deref() {
        None => Some(r"^[^\x00]*$".to_owned()),
        // "Not blank" (a search), and still no NUL.
        Some(r"\S") => Some(r"^[^\x00]*[^\s\x00][^\x00]*$".to_owned()),
        // Anchored patterns name the characters they allow.
        Some(other) => Some(other.to_owned()),
    };
}

pub fn complete(spec: &mut OpenApi) {
    for item in spec.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
        ];
        for op in ops.into_iter().flatten() {
            for p in op.parameters.iter_mut().flatten() {
                if p.parameter_in == ParameterIn::Query {
                    no_nul(p);
                }
                if p.parameter_in == ParameterIn::Header && p.name.eq_ignore_ascii_case("if-match") {
                    p.required = Required::True;
                    p.schema = Some(RefOr::T(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .pattern(Some(r#"^(W/)?"?[0-9]{1,9}"?$"#))
                            .into(),
                    ));
                }
            }
            for (status, description) in shared_statuses(op) {
                op.responses.responses.entry(status.to_owned()).or_insert_with(|| problem(description));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_names_the_shared_statuses() {
        let (_, mut spec) = crate::api::routes();
        complete(&mut spec);
        let item = &spec.paths.paths["/api/v1/patients/{id}"];
        let put = item.put.as_ref().unwrap();
        for status in ["401", "403", "404", "409", "413", "415", "422", "428", "429", "503"] {
            assert!(put.responses.responses.contains_key(status), "PUT /api/v1/patients/{{id}}: {status}");
        }
        let me = spec.paths.paths["/api/v1/me"].get.as_ref().unwrap();
        assert!(!me.responses.responses.contains_key("404"), "no path parameter, no 404");
        assert!(!me.responses.responses.contains_key("413"), "no body");
    }
}
