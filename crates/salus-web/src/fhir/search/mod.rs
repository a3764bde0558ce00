//! FHIR search over resources already gathered: HL7's own parameter definitions (their
//! FHIRPath expressions, vendored in `fhir/search-parameters.json` by `web/vendor.sh`)
//! evaluated on each candidate resource, with the R4 rules for each parameter type —
//! token, string, date, reference, quantity, number, uri, composite — their modifiers and
//! prefixes, chains through references, `_sort`, `_count`, `_elements`, `_summary`,
//! `_total` only when asked, `_include(:iterate)`/`_revinclude`, and keyset paging whose
//! cursor names the last entry shown, so a next link never repeats or skips an entry
//! while others are added or changed.
//!
//! Which resources are candidates is the door's choice (a patient's record, the index's
//! matches for a name); this module decides which of them match and in what order.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::path::{Expr, Node, reference_type};

mod matching;
mod paging;

pub use matching::prefixed;
use matching::strings;
pub use matching::{DateRange, Resolver, example};
pub use paging::{Cursor, Key, Page};

/// A search parameter's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Token,
    String,
    Date,
    Reference,
    Quantity,
    Number,
    Uri,
    Composite,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "token" => Kind::Token,
            "string" => Kind::String,
            "date" => Kind::Date,
            "reference" => Kind::Reference,
            "quantity" => Kind::Quantity,
            "number" => Kind::Number,
            "uri" => Kind::Uri,
            "composite" => Kind::Composite,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Token => "token",
            Kind::String => "string",
            Kind::Date => "date",
            Kind::Reference => "reference",
            Kind::Quantity => "quantity",
            Kind::Number => "number",
            Kind::Uri => "uri",
            Kind::Composite => "composite",
        }
    }
}

/// One search parameter of one resource type, as served.
#[derive(Debug, Clone)]
pub struct SearchParam {
    pub code: String,
    /// The definition's canonical URL (`http://hl7.org/fhir/SearchParameter/clinical-patient`).
    pub url: String,
    pub kind: Kind,
    pub expression: String,
    expr: Expr,
    pub targets: Vec<String>,
    components: Vec<(Kind, Expr)>,
}

impl SearchParam {
    /// The nodes of `resource` this parameter looks at.
    pub fn nodes<'a>(&self, resource: &'a Value) -> Vec<Node<'a>> {
        self.expr.eval(resource)
    }
}

#[derive(Deserialize)]
struct Definition {
    resource: String,
    code: String,
    url: String,
    #[serde(rename = "type")]
    kind: String,
    expression: String,
    #[serde(default)]
    target: Vec<String>,
    #[serde(default)]
    components: Vec<ComponentDef>,
}

#[derive(Deserialize)]
struct ComponentDef {
    code: String,
    expression: String,
}

/// The resource types served, in the capability statement's order.
pub const TYPES: &[&str] = &[
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Location",
    "Schedule",
    "Slot",
    "Medication",
    "Encounter",
    "Observation",
    "Condition",
    "AllergyIntolerance",
    "Immunization",
    "MedicationRequest",
    "ServiceRequest",
    "DiagnosticReport",
    "Specimen",
    "MedicationAdministration",
    "MedicationDispense",
    "Appointment",
    "DocumentReference",
    "Coverage",
    "ChargeItem",
    "Invoice",
    "Claim",
    "AuditEvent",
];

/// The parameters served for `resource_type`: every R4 parameter of the type (and of
/// `Resource`) whose expression this server evaluates. `_id` and `_lastUpdated` first.
pub fn params(resource_type: &str) -> &'static [SearchParam] {
    static TABLE: OnceLock<HashMap<String, Vec<SearchParam>>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            let defs: Vec<Definition> =
                serde_json::from_str(include_str!("../../../fhir/search-parameters.json"))
                    .unwrap_or_default();
            TYPES.iter().map(|ty| ((*ty).to_owned(), load(&defs, ty))).collect()
        })
        .get(resource_type)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn load(defs: &[Definition], ty: &str) -> Vec<SearchParam> {
    let kind_of = |code: &str| {
        defs.iter().find(|d| d.resource == ty && d.code == code).and_then(|d| Kind::parse(&d.kind))
    };
    let mut out: Vec<SearchParam> = defs
        .iter()
        .filter(|d| {
            d.resource == ty
                || (d.resource == "Resource"
                    && matches!(
                        d.code.as_str(),
                        "_id" | "_lastUpdated" | "_profile" | "_tag" | "_security" | "_source"
                    ))
        })
        .filter_map(|d| {
            let kind = Kind::parse(&d.kind)?;
            let expr = Expr::parse(&d.expression, ty)?;
            let components = d
                .components
                .iter()
                .map(|c| Some((kind_of(&c.code)?, Expr::parse(&c.expression, ty)?)))
                .collect::<Option<Vec<_>>>()?;
            Some(SearchParam {
                code: d.code.clone(),
                url: d.url.clone(),
                kind,
                expression: d.expression.clone(),
                expr,
                targets: d.target.clone(),
                components,
            })
        })
        .collect();
    out.sort_by_key(|p| (!p.code.starts_with('_'), p.code.clone()));
    out
}

pub fn param(resource_type: &str, code: &str) -> Option<&'static SearchParam> {
    params(resource_type).iter().find(|p| p.code == code)
}

/// One criterion: a parameter (perhaps through a chain), its modifier, the values any of
/// which may match.
#[derive(Debug, Clone)]
pub struct Criterion {
    pub param: &'static SearchParam,
    pub modifier: Option<String>,
    /// `subject:Patient.name=…`: the type and parameter looked at in the referenced resource.
    pub chain: Option<(String, &'static SearchParam)>,
    pub values: Vec<String>,
}

/// What `_summary` asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    No,
    Count,
}

/// `_include` / `_revinclude`: the source type, its reference parameter, an optional
/// target type, and whether to follow it from included resources too.
#[derive(Debug, Clone)]
pub struct Include {
    pub source: String,
    pub param: &'static SearchParam,
    pub target: Option<String>,
    pub iterate: bool,
}

/// `_has:Type:param:search=value` — a reverse chain.
#[derive(Debug, Clone)]
pub struct Has {
    pub source: String,
    pub reference: &'static SearchParam,
    pub criterion: Criterion,
}

/// The elements a resource of this type must have (cardinality 1..1 in R4); a choice
/// element by its name (`occurrence` for `occurrenceDateTime`).
fn mandatory(resource_type: &str) -> &'static [&'static str] {
    match resource_type {
        "Encounter" => &["status", "class"],
        "Observation" => &["status", "code"],
        "Condition" => &["subject"],
        "AllergyIntolerance" => &["patient"],
        "Immunization" => &["status", "vaccineCode", "patient", "occurrence"],
        "MedicationRequest" => &["status", "intent", "medication", "subject"],
        _ => &[],
    }
}

/// A parsed search.
#[derive(Debug, Clone)]
pub struct Query {
    pub resource_type: &'static str,
    pub criteria: Vec<Criterion>,
    pub has: Vec<Has>,
    pub sort: Vec<(&'static SearchParam, bool)>,
    pub count: usize,
    pub elements: Option<Vec<String>>,
    pub summary: Summary,
    pub total: bool,
    pub after: Option<Cursor>,
    pub includes: Vec<Include>,
    pub revincludes: Vec<Include>,
    /// Parameters ignored (unknown, or not served), for the bundle's OperationOutcome.
    pub warnings: Vec<String>,
    /// The request's parameters as given, less the cursor, for the self and next links.
    pub echo: Vec<(String, String)>,
}

pub const DEFAULT_COUNT: usize = 20;
pub const MAX_COUNT: usize = 500;

/// Why a search cannot be run (400 with an OperationOutcome).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

fn split_values(v: &str) -> Vec<String> {
    let (mut out, mut current) = (Vec::new(), String::new());
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            // `\,` is a comma inside a value (other escapes are left for the type to read).
            ('\\', Some(',')) => {
                current.push(',');
                chars.next();
            }
            (',', _) => out.push(std::mem::take(&mut current)),
            (c, _) => current.push(c),
        }
    }
    out.push(current);
    out
}

const MODIFIERS: &[(Kind, &[&str])] = &[
    (Kind::Token, &["missing", "not", "text"]),
    (Kind::String, &["missing", "exact", "contains"]),
    (Kind::Date, &["missing"]),
    (Kind::Reference, &["missing"]),
    (Kind::Quantity, &["missing"]),
    (Kind::Number, &["missing"]),
    (Kind::Uri, &["missing", "below", "above"]),
    (Kind::Composite, &["missing"]),
];

fn criterion(ty: &str, name: &str, value: &str) -> Result<Option<Criterion>, Invalid> {
    let (head, chained) = match name.split_once('.') {
        Some((h, c)) => (h, Some(c)),
        None => (name, None),
    };
    let (code, modifier) = match head.split_once(':') {
        Some((c, m)) => (c, Some(m.to_owned())),
        None => (head, None),
    };
    let Some(param) = param(ty, code) else { return Ok(None) };
    if let Some(chained) = chained {
        if param.kind != Kind::Reference {
            return Err(Invalid(format!("{code} is not a reference, so it cannot be chained")));
        }
        let target = match &modifier {
            Some(t) => t.clone(),
            None if param.targets.len() == 1 => param.targets[0].clone(),
            None => {
                let served: Vec<&String> =
                    param.targets.iter().filter(|t| TYPES.contains(&t.as_str())).collect();
                match served.as_slice() {
                    [one] => (*one).clone(),
                    _ => {
                        return Err(Invalid(format!(
                            "{code} may refer to several types: name one ({code}:Patient.{chained})"
                        )));
                    }
                }
            }
        };
        if !param.targets.contains(&target) {
            return Err(Invalid(format!("{code} does not refer to {target}")));
        }
        let inner_name = chained.split(':').next().unwrap_or(chained);
        let Some(inner) = self::param(&target, inner_name) else {
            return Err(Invalid(format!("{target} has no search parameter {inner_name} here")));
        };
        let inner_modifier = chained.split_once(':').map(|(_, m)| m.to_owned());
        check_modifier(inner, inner_modifier.as_deref())?;
        return Ok(Some(Criterion {
            param,
            modifier: inner_modifier,
            chain: Some((target, inner)),
            values: split_values(value),
        }));
    }
    // A type modifier on a reference (`subject:Patient=123`) names the target.
    if param.kind == Kind::Reference
        && let Some(m) = &modifier
        && m.chars().next().is_some_and(|c| c.is_ascii_uppercase())
    {
        if !param.targets.contains(m) {
            return Err(Invalid(format!("{code} does not refer to {m}")));
        }
        let values = split_values(value)
            .into_iter()
            .map(|v| if v.contains('/') { v } else { format!("{m}/{v}") })
            .collect();
        return Ok(Some(Criterion { param, modifier: None, chain: None, values }));
    }
    check_modifier(param, modifier.as_deref())?;
    if modifier.as_deref() == Some("missing") && !matches!(value, "true" | "false") {
        return Err(Invalid(format!("{code}:missing takes true or false")));
    }
    let values = split_values(value);
    for v in &values {
        check_value(param, modifier.as_deref(), v)?;
    }
    Ok(Some(Criterion { param, modifier, chain: None, values }))
}

fn check_modifier(param: &SearchParam, modifier: Option<&str>) -> Result<(), Invalid> {
    let Some(m) = modifier else { return Ok(()) };
    let allowed = MODIFIERS.iter().find(|(k, _)| *k == param.kind).map(|(_, m)| *m).unwrap_or(&[]);
    if allowed.contains(&m) {
        Ok(())
    } else {
        Err(Invalid(format!(
            "the modifier :{m} is not supported on {} ({})",
            param.code,
            param.kind.as_str()
        )))
    }
}

fn check_value(param: &SearchParam, modifier: Option<&str>, v: &str) -> Result<(), Invalid> {
    if modifier == Some("missing") {
        return Ok(());
    }
    let ok = match param.kind {
        Kind::Date => DateRange::parse(prefixed(v).1).is_some(),
        Kind::Quantity | Kind::Number => {
            let (_, rest) = prefixed(v);
            rest.split('|').next().is_some_and(|n| n.parse::<f64>().is_ok())
        }
        Kind::Composite => v.split('$').count() == param.components.len(),
        _ => !v.is_empty(),
    };
    if ok {
        Ok(())
    } else {
        Err(Invalid(format!("{}: '{v}' is not a valid {} value", param.code, param.kind.as_str())))
    }
}

/// Parses the query pairs of a search of `resource_type`. Unknown parameters are warnings,
/// or errors when `strict`.
pub fn parse(
    resource_type: &'static str,
    pairs: &[(String, String)],
    strict: bool,
) -> Result<Query, Invalid> {
    let mut q = Query {
        resource_type,
        criteria: Vec::new(),
        has: Vec::new(),
        sort: Vec::new(),
        count: DEFAULT_COUNT,
        elements: None,
        summary: Summary::No,
        total: false,
        after: None,
        includes: Vec::new(),
        revincludes: Vec::new(),
        warnings: Vec::new(),
        echo: Vec::new(),
    };
    let unknown = |q: &mut Query, name: &str| -> Result<(), Invalid> {
        let msg = format!("the search parameter {name} is not supported for {resource_type} and was ignored");
        if strict {
            return Err(Invalid(msg));
        }
        q.warnings.push(msg);
        Ok(())
    };
    for (name, value) in pairs {
        if name == "_cursor" {
            q.after =
                Some(Cursor::decode(value).ok_or_else(|| Invalid("the page link is not valid".into()))?);
            continue;
        }
        q.echo.push((name.clone(), value.clone()));
        match name.as_str() {
            "_count" => {
                let n: usize =
                    value.parse().map_err(|_| Invalid(format!("_count must be a number, not '{value}'")))?;
                q.count = n.min(MAX_COUNT);
            }
            "_sort" => {
                for key in value.split(',') {
                    let (desc, code) = key.strip_prefix('-').map(|k| (true, k)).unwrap_or((false, key));
                    let p = param(resource_type, code)
                        .filter(|p| p.kind != Kind::Composite)
                        .ok_or_else(|| Invalid(format!("cannot sort {resource_type} by {code}")))?;
                    q.sort.push((p, desc));
                }
            }
            "_elements" => q.elements = Some(value.split(',').map(|s| s.trim().to_owned()).collect()),
            "_summary" => match value.as_str() {
                "count" => q.summary = Summary::Count,
                "false" | "data" => {}
                other => {
                    return Err(Invalid(format!(
                        "_summary={other} is not supported (count, data and false are)"
                    )));
                }
            },
            "_total" => match value.as_str() {
                "accurate" | "estimate" => q.total = true,
                "none" => q.total = false,
                other => {
                    return Err(Invalid(format!("_total must be none, estimate or accurate, not '{other}'")));
                }
            },
            "_format" => {
                let media = value.split(';').next().unwrap_or_default().trim();
                if !matches!(media, "json" | "application/json" | "application/fhir+json") {
                    return Err(Invalid(format!("only JSON is served, not _format={value}")));
                }
            }
            "_pretty" => {}
            n if n == "_include"
                || n == "_include:iterate"
                || n == "_revinclude"
                || n == "_revinclude:iterate" =>
            {
                let include = parse_include(value, n.ends_with(":iterate"))?;
                if n.starts_with("_revinclude") {
                    q.revincludes.push(include);
                } else {
                    if include.source != resource_type && !include.iterate {
                        return Err(Invalid(format!("_include={value} does not start from {resource_type}")));
                    }
                    q.includes.push(include);
                }
            }
            n if n.starts_with("_has:") => q.has.push(parse_has(n, value)?),
            n => match criterion(resource_type, n, value)? {
                Some(c) => q.criteria.push(c),
                None => unknown(&mut q, n)?,
            },
        }
    }
    Ok(q)
}

fn parse_include(value: &str, iterate: bool) -> Result<Include, Invalid> {
    let mut parts = value.split(':');
    let (Some(source), Some(code)) = (parts.next(), parts.next()) else {
        return Err(Invalid(format!("_include takes Type:parameter, not '{value}'")));
    };
    let target = parts.next().map(str::to_owned);
    let source =
        TYPES.iter().find(|t| **t == source).ok_or_else(|| Invalid(format!("{source} is not served")))?;
    let param = param(source, code)
        .filter(|p| p.kind == Kind::Reference)
        .ok_or_else(|| Invalid(format!("{source} has no reference parameter {code}")))?;
    Ok(Include { source: (*source).to_owned(), param, target, iterate })
}

fn parse_has(name: &str, value: &str) -> Result<Has, Invalid> {
    // _has:Observation:patient:code=1234
    let mut parts = name.splitn(4, ':').skip(1);
    let (Some(source), Some(reference), Some(search)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Invalid(format!("{name}: _has takes _has:Type:reference:parameter")));
    };
    let source_ty =
        TYPES.iter().find(|t| **t == source).ok_or_else(|| Invalid(format!("{source} is not served")))?;
    let reference = param(source_ty, reference)
        .filter(|p| p.kind == Kind::Reference)
        .ok_or_else(|| Invalid(format!("{source} has no reference parameter {reference}")))?;
    let criterion = criterion(source_ty, search, value)?
        .ok_or_else(|| Invalid(format!("{source} has no search parameter {search}")))?;
    Ok(Has { source: (*source_ty).to_owned(), reference, criterion })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(ty: &'static str, pairs: &[(&str, &str)]) -> Result<Query, Invalid> {
        let pairs: Vec<(String, String)> =
            pairs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
        parse(ty, &pairs, false)
    }

    fn none(_: &str) -> Option<&'static Value> {
        None
    }

    fn finds(ty: &'static str, pairs: &[(&str, &str)], r: &Value) -> bool {
        q(ty, pairs).unwrap().matches(r, &none)
    }

    #[test]
    fn the_definitions_load_for_every_type_served() {
        for ty in TYPES {
            assert!(param(ty, "_id").is_some(), "{ty}");
        }
        assert_eq!(param("Observation", "code-value-quantity").unwrap().kind, Kind::Composite);
        assert!(param("Patient", "deceased").is_none(), "an expression outside the subset is not served");
        assert!(params("Patient").len() > 15);
    }

    #[test]
    fn tokens_strings_dates_quantities_and_references() {
        let obs = json!({
            "resourceType": "Observation", "id": "o1", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
            "subject": {"reference": "Patient/p1"},
            "effectiveDateTime": "2026-03-04T10:20:30.000Z",
            "valueQuantity": {"value": 72, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}
        });
        assert!(finds("Observation", &[("code", "http://loinc.org|8867-4")], &obs));
        assert!(finds("Observation", &[("code", "8867-4,1234-5")], &obs));
        assert!(!finds("Observation", &[("code", "http://snomed.info/sct|8867-4")], &obs));
        assert!(!finds("Observation", &[("code", "|8867-4")], &obs));
        assert!(finds("Observation", &[("code:text", "heart")], &obs));
        assert!(finds("Observation", &[("status:not", "preliminary")], &obs));
        assert!(finds(
            "Observation",
            &[("date", "2026-03"), ("date", "ge2026-03-04"), ("date", "lt2026-03-05")],
            &obs
        ));
        assert!(!finds("Observation", &[("date", "gt2026-03-04")], &obs));
        assert!(finds("Observation", &[("date", "sa2026-03-03")], &obs));
        assert!(finds("Observation", &[("value-quantity", "gt70|http://unitsofmeasure.org|/min")], &obs));
        assert!(!finds("Observation", &[("value-quantity", "72|http://unitsofmeasure.org|mm[Hg]")], &obs));
        assert!(finds("Observation", &[("value-quantity", "72")], &obs));
        assert!(!finds("Observation", &[("value-quantity", "72.4")], &obs));
        assert!(finds("Observation", &[("code-value-quantity", "8867-4$ge72")], &obs));
        assert!(!finds("Observation", &[("code-value-quantity", "8867-4$gt72")], &obs));
        assert!(finds("Observation", &[("patient", "p1"), ("subject", "Patient/p1")], &obs));
        assert!(finds("Observation", &[("subject:Patient", "p1")], &obs));
        assert!(finds("Observation", &[("patient", "http://elsewhere/fhir/Patient/p1")], &obs));
        assert!(!finds("Observation", &[("patient", "p2")], &obs));
        assert!(finds("Observation", &[("encounter:missing", "true")], &obs));
        let patient = json!({"resourceType": "Patient", "id": "p1", "name": [{"family": "Émile", "given": ["Zoë", "Ann"]}], "birthDate": "1984-03-01", "gender": "female", "identifier": [{"system": "urn:salus:mrn", "value": "M1"}], "telecom": [{"system": "phone", "value": "+911234"}]});
        assert!(finds("Patient", &[("name", "emi")], &patient));
        assert!(finds("Patient", &[("given", "zoe")], &patient));
        assert!(!finds("Patient", &[("family:exact", "Emile")], &patient));
        assert!(finds("Patient", &[("name:contains", "mil")], &patient));
        assert!(finds(
            "Patient",
            &[("birthdate", "1984"), ("birthdate", "le1984-03-01"), ("gender", "female")],
            &patient
        ));
        assert!(finds("Patient", &[("identifier", "urn:salus:mrn|M1"), ("phone", "+911234")], &patient));
        let resolve = |r: &str| if r == "Patient/p1" { Some(&patient) } else { None };
        let chained = q("Observation", &[("patient.name", "emile")]).unwrap();
        assert!(chained.matches(&obs, &resolve));
        let chained = q("Observation", &[("subject:Patient.birthdate", "1990")]).unwrap();
        assert!(!chained.matches(&obs, &resolve));
    }

    #[test]
    fn bad_searches_are_refused_and_unknown_ones_warned() {
        assert!(q("Observation", &[("date", "yesterday")]).is_err());
        assert!(q("Observation", &[("code:below", "x")]).is_err());
        assert!(q("Observation", &[("_summary", "text")]).is_err());
        assert!(q("Observation", &[("_sort", "nonsense")]).is_err());
        assert!(q("Observation", &[("code-value-quantity", "8867-4")]).is_err());
        let w = q("Observation", &[("colour", "red")]).unwrap();
        assert_eq!(w.warnings.len(), 1);
        let pairs = vec![("colour".to_owned(), "red".to_owned())];
        assert!(parse("Observation", &pairs, true).is_err());
    }

    #[test]
    fn pages_neither_repeat_nor_skip_while_entries_are_added() {
        let obs = |id: &str, day: u32| json!({"resourceType": "Observation", "id": id, "status": "final", "code": {"text": "x"}, "effectiveDateTime": format!("2026-01-{day:02}")});
        let mut all: Vec<Value> = (1..=9).map(|i| obs(&format!("o{i}"), i)).collect();
        let mut query = q("Observation", &[("_sort", "-date"), ("_count", "4")]).unwrap();
        let mut seen = Vec::new();
        loop {
            let page = query.run(all.clone(), &none);
            seen.extend(page.entries.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
            // Something newer arrives between pages: it sorts before the cursor, so it is not shown.
            all.push(obs(&format!("new{}", seen.len()), 28));
            let Some(next) = page.next else { break };
            query.after = Some(Cursor::decode(&next.encode()).unwrap());
        }
        let expected: Vec<String> = (1..=9).rev().map(|i| format!("o{i}")).collect();
        assert_eq!(seen, expected);
    }

    proptest::proptest! {
        /// Whatever a client sends — any parameter, modifier, prefix or value — is
        /// answered (a result or a refusal), never a panic.
        #[test]
        fn any_search_is_answered(
            ty in proptest::sample::select(TYPES.to_vec()),
            pick in 0usize..64,
            modifier in proptest::sample::select(vec!["", ":missing", ":not", ":text", ":exact", ":contains", ":below", ":Patient", ".name", ".birthdate:exact"]),
            value in "(eq|ne|gt|lt|ge|le|sa|eb|ap)?[-0-9TZ:.|$,a-z\\\\/+ ]{0,30}",
        ) {
            let codes = params(ty);
            let name = format!("{}{modifier}", codes[pick % codes.len()].code);
            let resource = json!({
                "resourceType": ty, "id": "x", "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "1-8"}], "text": "t"},
                "subject": {"reference": "Patient/p"}, "patient": {"reference": "Patient/p"},
                "name": [{"family": "Ünal", "given": ["A"]}], "birthDate": "1980",
                "effectiveDateTime": "2026-01-01T10:00:00+05:30",
                "valueQuantity": {"value": 1.5, "system": "http://unitsofmeasure.org", "code": "mg"},
                "period": {"start": "2026-01-01"},
                "component": [{"code": {"text": "c"}, "valueQuantity": {"value": 2}}]
            });
            let patient = json!({"resourceType": "Patient", "id": "p", "name": [{"family": "Ünal"}]});
            let resolve = |r: &str| (r == "Patient/p").then_some(&patient);
            for pairs in [vec![(name.clone(), value.clone())], vec![("_sort".to_owned(), value.clone())], vec![("_cursor".to_owned(), value.clone())]] {
                if let Ok(q) = parse(ty, &pairs, false) {
                    let _ = q.run(vec![resource.clone()], &resolve);
                }
            }
        }
    }
}
