//! `GET /fhir/metadata`: the CapabilityStatement, generated from what the door serves —
//! each type's interactions and HL7 search parameters, the bundle interactions, bulk
//! export and SMART's OAuth addresses — so it cannot claim what is not implemented.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::{base, fhir, search, write};
use crate::AppState;

/// `GET /fhir/metadata`: what this server does, generated from what it serves.
pub(super) async fn metadata(headers: HeaderMap, State(state): State<AppState>) -> Response {
    let resources: Vec<Value> = search::TYPES
        .iter()
        .map(|ty| {
            let params: Vec<Value> = search::params(ty)
                .iter()
                .map(|p| {
                    json!({
                        "name": p.code,
                        "definition": p.url,
                        "type": p.kind.as_str(),
                        "documentation": p.expression,
                    })
                })
                .collect();
            let mut interactions = vec![
                json!({"code": "read"}),
                json!({"code": "vread"}),
                json!({"code": "history-instance"}),
                json!({"code": "search-type"}),
            ];
            if write::TAKEN.contains(ty) {
                interactions.push(json!({"code": "create"}));
            }
            if *ty == "Patient" {
                interactions.push(json!({"code": "update"}));
            }
            let mut r = json!({
                "type": ty,
                "profile": format!("http://hl7.org/fhir/StructureDefinition/{ty}"),
                "interaction": interactions,
                "versioning": if *ty == "Patient" { "versioned-update" } else { "versioned" },
                "readHistory": *ty == "Patient",
                "updateCreate": false,
                "conditionalCreate": write::TAKEN.contains(ty),
                "conditionalUpdate": *ty == "Patient",
                "conditionalDelete": "not-supported",
                "searchParam": params,
                "searchInclude": search::params(ty).iter().filter(|p| p.kind == search::Kind::Reference).map(|p| format!("{ty}:{}", p.code)).collect::<Vec<_>>(),
            });
            if *ty == "Patient" {
                r["operation"] = json!([
                    {"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"},
                    {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"},
                ]);
            }
            r
        })
        .collect();
    let body = json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-01",
        "kind": "instance",
        "software": {"name": "Salus", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": "Salus hospital information system", "url": base(&headers, &state)},
        "fhirVersion": "4.0.1",
        "instantiates": ["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"],
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "documentation": "A clinical resource's search names its patient (patient, subject or encounter); a Patient search names a name, identifier, telephone, e-mail, birth date or id.",
            "security": {
                "description": "The same users, roles and relationships as the rest of Salus: a session, an API token (Authorization: Bearer), or a SMART app's token (see /fhir/.well-known/smart-configuration).",
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR"}]}],
                "extension": [{
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [
                        {"url": "authorize", "valueUri": format!("{}/oauth/authorize", base(&headers, &state).trim_end_matches("/fhir"))},
                        {"url": "token", "valueUri": format!("{}/oauth/token", base(&headers, &state).trim_end_matches("/fhir"))},
                    ],
                }],
            },
            "resource": resources,
            "interaction": [
                {"code": "transaction", "documentation": "All or nothing; entries are creates (POST, with ifNoneExist), urn:uuid and conditional references resolved."},
                {"code": "batch", "documentation": "Each entry on its own."},
            ],
            "operation": [
                {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                 "documentation": "Bulk Data export to NDJSON, asynchronous (Prefer: respond-async); also Patient/$export and Group/{ward id}/$export. Needs the interop.export permission; restricted records are left out."},
            ],
        }],
    });
    fhir(StatusCode::OK, &body)
}
