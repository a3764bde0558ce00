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
    "Organization",
    "Encounter",
    "Observation",
    "Condition",
    "AllergyIntolerance",
    "Immunization",
    "MedicationRequest",
];

/// The parameters served for `resource_type`: every R4 parameter of the type (and of
/// `Resource`) whose expression this server evaluates. `_id` and `_lastUpdated` first.
pub fn params(resource_type: &str) -> &'static [SearchParam] {
    static TABLE: OnceLock<HashMap<String, Vec<SearchParam>>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            let defs: Vec<Definition> =
                serde_json::from_str(include_str!("../../fhir/search-parameters.json")).unwrap_or_default();
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

// ---- matching ------------------------------------------------------------------------

/// Resolves a reference (`Patient/123`) to a resource the search has at hand.
pub type Resolver<'a> = &'a dyn Fn(&str) -> Option<&'a Value>;

impl Criterion {
    pub fn matches(&self, resource: &Value, resolve: Resolver<'_>) -> bool {
        let nodes = self.param.nodes(resource);
        if let Some((_, inner)) = &self.chain {
            let chained = Criterion {
                param: inner,
                modifier: self.modifier.clone(),
                chain: None,
                values: self.values.clone(),
            };
            return nodes.iter().any(|n| {
                n.value
                    .get("reference")
                    .and_then(Value::as_str)
                    .and_then(resolve)
                    .is_some_and(|target| chained.matches(target, resolve))
            });
        }
        match self.modifier.as_deref() {
            Some("missing") => {
                return (self.values.first().map(String::as_str) == Some("true")) == nodes.is_empty();
            }
            Some("not") => return !self.values.iter().any(|v| nodes.iter().any(|n| token(n, v, None))),
            _ => {}
        }
        self.values.iter().any(|v| nodes.iter().any(|n| self.node_matches(n, v)))
    }

    fn node_matches(&self, n: &Node<'_>, v: &str) -> bool {
        let m = self.modifier.as_deref();
        match self.param.kind {
            Kind::Token => token(n, v, m),
            Kind::String => string(n.value, v, m),
            Kind::Date => date(n.value, v),
            Kind::Reference => reference(n.value, v),
            Kind::Quantity | Kind::Number => quantity(n.value, v),
            Kind::Uri => uri(n.value, v, m),
            Kind::Composite => {
                let parts: Vec<&str> = v.split('$').collect();
                self.param.components.iter().zip(&parts).all(|((kind, expr), part)| {
                    expr.eval(n.value).iter().any(|c| match kind {
                        Kind::Token => token(c, part, None),
                        Kind::String => string(c.value, part, None),
                        Kind::Date => date(c.value, part),
                        Kind::Reference => reference(c.value, part),
                        Kind::Quantity | Kind::Number => quantity(c.value, part),
                        Kind::Uri => uri(c.value, part, None),
                        Kind::Composite => false,
                    })
                })
            }
        }
    }
}

fn fold(s: &str) -> String {
    deunicode::deunicode(s).to_lowercase()
}

fn token(n: &Node<'_>, v: &str, modifier: Option<&str>) -> bool {
    if modifier == Some("text") {
        let want = fold(v);
        let texts = [n.value.get("text"), n.value.get("display")];
        let codings = n.value.get("coding").and_then(Value::as_array).into_iter().flatten();
        return texts
            .into_iter()
            .flatten()
            .chain(codings.filter_map(|c| c.get("display")))
            .filter_map(Value::as_str)
            .any(|t| fold(t).starts_with(&want));
    }
    let (system, code) = match v.split_once('|') {
        Some((s, c)) => (Some(s), c),
        None => (None, v),
    };
    let pair_matches = |sys: Option<&str>, c: Option<&str>| -> bool {
        let sys_ok = match system {
            None => true,
            Some("") => sys.is_none(),
            Some(s) => sys == Some(s),
        };
        sys_ok && (code.is_empty() || c == Some(code))
    };
    match n.value {
        Value::String(s) => pair_matches(None, Some(s)) && !code.is_empty(),
        Value::Bool(b) => system.is_none() && code == if *b { "true" } else { "false" },
        Value::Object(map) => {
            if let Some(codings) = map.get("coding").and_then(Value::as_array) {
                return codings.iter().any(|c| {
                    pair_matches(
                        c.get("system").and_then(Value::as_str),
                        c.get("code").and_then(Value::as_str),
                    )
                });
            }
            let sys = map.get("system").and_then(Value::as_str);
            if map.contains_key("code") {
                return pair_matches(sys, map.get("code").and_then(Value::as_str));
            }
            // Identifier {system, value}; ContactPoint {system: phone, value}: the value is the code.
            let value = map.get("value").and_then(Value::as_str);
            if n.choice.is_none() && map.contains_key("rank")
                || matches!(sys, Some("phone" | "email" | "fax" | "sms" | "url" | "pager" | "other"))
            {
                return system.is_none() && value == Some(code);
            }
            pair_matches(sys, value)
        }
        _ => false,
    }
}

fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Object(map) => {
            for key in [
                "text",
                "family",
                "given",
                "prefix",
                "suffix",
                "line",
                "city",
                "district",
                "state",
                "postalCode",
                "country",
            ] {
                if let Some(x) = map.get(key) {
                    strings(x, out);
                }
            }
        }
        _ => {}
    }
}

fn string(v: &Value, want: &str, modifier: Option<&str>) -> bool {
    let mut all = Vec::new();
    strings(v, &mut all);
    match modifier {
        Some("exact") => all.iter().any(|s| s == want),
        Some("contains") => {
            let w = fold(want);
            all.iter().any(|s| fold(s).contains(&w))
        }
        _ => {
            let w = fold(want);
            all.iter().any(|s| fold(s).starts_with(&w))
        }
    }
}

fn reference(v: &Value, want: &str) -> bool {
    let Some(r) = v.get("reference").and_then(Value::as_str) else { return false };
    if r == want {
        return true;
    }
    if want.contains('/') {
        // A full URL names the same resource when it ends with Type/id.
        let tail: Vec<&str> = want.rsplitn(3, '/').collect();
        return tail.len() >= 2 && r == format!("{}/{}", tail[1], tail[0]);
    }
    reference_type(r).is_some() && r.rsplit('/').next() == Some(want)
}

fn uri(v: &Value, want: &str, modifier: Option<&str>) -> bool {
    let Some(s) = v.as_str() else { return false };
    match modifier {
        Some("below") => s.starts_with(want),
        Some("above") => want.starts_with(s),
        _ => s == want,
    }
}

/// A search value's comparator prefix and the rest.
fn prefixed(v: &str) -> (&str, &str) {
    for p in ["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"] {
        if let Some(rest) = v.strip_prefix(p)
            && rest.starts_with(|c: char| c.is_ascii_digit() || c == '-')
        {
            return (p, rest);
        }
    }
    ("eq", v)
}

/// A date, date-time or period as the span of time it names, in milliseconds, [lo, hi).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    lo: i64,
    hi: i64,
}

impl DateRange {
    pub fn parse(s: &str) -> Option<DateRange> {
        let ms = |d: NaiveDateTime| d.and_utc().timestamp_millis();
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(0, 0, 0));
        match s.len() {
            4 => {
                let y: i32 = s.parse().ok()?;
                Some(DateRange { lo: ms(day(y, 1, 1)?), hi: ms(day(y + 1, 1, 1)?) })
            }
            7 => {
                let (y, m) = s.split_once('-')?;
                let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
                let next = if m == 12 { day(y + 1, 1, 1)? } else { day(y, m + 1, 1)? };
                Some(DateRange { lo: ms(day(y, m, 1)?), hi: ms(next) })
            }
            10 => {
                let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0)?;
                Some(DateRange { lo: ms(d), hi: ms(d + Duration::days(1)) })
            }
            _ => {
                // A date-time: anything else (or a slice that is not one) is not a date.
                let time = s.get(10..).filter(|t| t.starts_with('T'))?;
                let with_zone = if s.ends_with('Z') || time.contains(['+', '-']) {
                    s.to_owned()
                } else {
                    format!("{s}Z")
                };
                let t = DateTime::parse_from_rfc3339(&with_zone)
                    .ok()
                    .or_else(|| DateTime::parse_from_str(&with_zone, "%Y-%m-%dT%H:%M%#z").ok())?
                    .with_timezone(&Utc);
                let precise = s.len() > 16 && s.as_bytes().get(16) == Some(&b':');
                let width = if s.contains('.') {
                    1
                } else if precise {
                    1000
                } else {
                    60_000
                };
                Some(DateRange { lo: t.timestamp_millis(), hi: t.timestamp_millis() + width })
            }
        }
    }

    fn of_value(v: &Value) -> Option<DateRange> {
        match v {
            Value::String(s) => DateRange::parse(s),
            Value::Object(map) => {
                let start = map.get("start").and_then(Value::as_str).and_then(DateRange::parse);
                let end = map.get("end").and_then(Value::as_str).and_then(DateRange::parse);
                match (start, end) {
                    (None, None) => None,
                    (s, e) => {
                        Some(DateRange { lo: s.map_or(i64::MIN, |s| s.lo), hi: e.map_or(i64::MAX, |e| e.hi) })
                    }
                }
            }
            _ => None,
        }
    }
}

fn date(v: &Value, want: &str) -> bool {
    let (prefix, rest) = prefixed(want);
    let (Some(n), Some(q)) = (DateRange::of_value(v), DateRange::parse(rest)) else { return false };
    let within = n.lo >= q.lo && n.hi <= q.hi;
    match prefix {
        "eq" => within,
        "ne" => !within,
        "gt" => n.hi > q.hi,
        "lt" => n.lo < q.lo,
        "ge" => n.hi > q.hi || within,
        "le" => n.lo < q.lo || within,
        "sa" => n.lo >= q.hi,
        "eb" => n.hi <= q.lo,
        // Approximately: within a tenth of the time between the value and now, a day at least.
        _ => {
            let slack = ((Utc::now().timestamp_millis() - q.lo).abs() / 10).max(86_400_000);
            n.lo < q.hi + slack && n.hi > q.lo - slack
        }
    }
}

fn quantity(v: &Value, want: &str) -> bool {
    let (prefix, rest) = prefixed(want);
    let mut parts = rest.splitn(3, '|');
    let number = parts.next().unwrap_or_default();
    let (system, code) = (parts.next().filter(|s| !s.is_empty()), parts.next().filter(|s| !s.is_empty()));
    let Ok(q) = number.parse::<f64>() else { return false };
    let x = match v {
        Value::Number(n) => n.as_f64(),
        Value::Object(map) => {
            if system.is_some_and(|s| map.get("system").and_then(Value::as_str) != Some(s)) {
                return false;
            }
            if let Some(c) = code
                && map.get("code").and_then(Value::as_str) != Some(c)
                && map.get("unit").and_then(Value::as_str) != Some(c)
            {
                return false;
            }
            map.get("value").and_then(Value::as_f64)
        }
        _ => None,
    };
    let Some(x) = x else { return false };
    // The value's precision is its stated digits: 100 means [99.5, 100.5).
    let decimals = number.split_once('.').map_or(0, |(_, d)| d.len());
    let half = 0.5 * 10f64.powi(-i32::try_from(decimals).unwrap_or(0));
    match prefix {
        "eq" => x >= q - half && x < q + half,
        "ne" => !(x >= q - half && x < q + half),
        "gt" | "sa" => x > q,
        "lt" | "eb" => x < q,
        "ge" => x >= q,
        "le" => x <= q,
        _ => (x - q).abs() <= (q.abs() * 0.1).max(half),
    }
}

/// A value of `param` that `resource` holds, written as a search would ask for it — for
/// the test that searches every stored resource by each of its parameters. `None` when
/// the resource holds nothing this parameter can find by.
pub fn example(param: &SearchParam, resource: &Value) -> Option<String> {
    param.nodes(resource).iter().find_map(|n| example_of(param.kind, n, &param.components))
}

fn example_of(kind: Kind, n: &Node<'_>, components: &[(Kind, Expr)]) -> Option<String> {
    let v = n.value;
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    match kind {
        Kind::Token => match v {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Object(map) => {
                if let Some(c) = map.get("coding").and_then(|c| c.get(0)) {
                    return Some(format!("{}|{}", c.get("system")?.as_str()?, c.get("code")?.as_str()?));
                }
                if map.contains_key("rank") {
                    return text("value");
                }
                match (text("system"), text("code").or_else(|| text("value"))) {
                    (Some(s), Some(c)) => Some(format!("{s}|{c}")),
                    (None, Some(c)) => Some(c),
                    _ => None,
                }
            }
            _ => None,
        },
        Kind::String => {
            let mut all = Vec::new();
            strings(v, &mut all);
            all.into_iter().next()
        }
        Kind::Date => match v {
            Value::String(s) => Some(s.clone()),
            _ => text("start").map(|s| format!("ge{s}")),
        },
        Kind::Reference => text("reference"),
        Kind::Quantity | Kind::Number => match v {
            Value::Number(x) => Some(x.to_string()),
            _ => {
                let value = v.get("value")?.to_string();
                match (text("system"), text("code")) {
                    (Some(s), Some(c)) => Some(format!("{value}|{s}|{c}")),
                    _ => Some(value),
                }
            }
        },
        Kind::Uri => v.as_str().map(str::to_owned),
        Kind::Composite => components
            .iter()
            .map(|(k, expr)| expr.eval(v).iter().find_map(|c| example_of(*k, c, &[])))
            .collect::<Option<Vec<String>>>()
            .map(|parts| parts.join("$")),
    }
}

// ---- order and pages -----------------------------------------------------------------

/// One sort key's value: missing values sort last.
#[derive(Debug, Clone, PartialEq, PartialOrd, Serialize, Deserialize)]
pub enum Key {
    Num(f64),
    Text(String),
    Missing,
}

fn key_of(param: &SearchParam, resource: &Value) -> Key {
    let nodes = param.nodes(resource);
    let Some(n) = nodes.first() else { return Key::Missing };
    match param.kind {
        Kind::Date => DateRange::of_value(n.value).map_or(Key::Missing, |r| Key::Num(r.lo as f64)),
        Kind::Quantity | Kind::Number => {
            n.value.get("value").or(Some(n.value)).and_then(Value::as_f64).map_or(Key::Missing, Key::Num)
        }
        _ => {
            let mut s = Vec::new();
            strings(n.value, &mut s);
            let code = n
                .value
                .get("coding")
                .and_then(|c| c.get(0))
                .and_then(|c| c.get("code"))
                .and_then(Value::as_str);
            let text = n
                .value
                .get("reference")
                .and_then(Value::as_str)
                .or(code)
                .or(n.value.get("value").and_then(Value::as_str));
            match text.map(str::to_owned).or_else(|| s.first().map(|t| fold(t))) {
                Some(t) => Key::Text(t),
                None => Key::Missing,
            }
        }
    }
}

/// Where the last page ended: that entry's sort keys and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    keys: Vec<Key>,
    id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// The id of the entry the last page ended with.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn decode(s: &str) -> Option<Cursor> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).ok()?).ok()
    }
}

fn compare(a: &(Vec<Key>, String), b: &(Vec<Key>, String), desc: &[bool]) -> Ordering {
    for (i, (x, y)) in a.0.iter().zip(&b.0).enumerate() {
        let o = x.partial_cmp(y).unwrap_or(Ordering::Equal);
        let o = if desc.get(i).copied().unwrap_or(false) { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.1.cmp(&b.1)
}

/// A page of matches, the total when asked, and the cursor of the next page if any.
pub struct Page {
    pub entries: Vec<Value>,
    pub total: usize,
    pub next: Option<Cursor>,
}

impl Query {
    /// Whether `resource` meets every criterion.
    pub fn matches(&self, resource: &Value, resolve: Resolver<'_>) -> bool {
        self.criteria.iter().all(|c| c.matches(resource, resolve))
    }

    /// The matching resources of `candidates`, ordered, and the page after the cursor.
    pub fn run(&self, candidates: Vec<Value>, resolve: Resolver<'_>) -> Page {
        let desc: Vec<bool> = self.sort.iter().map(|(_, d)| *d).collect();
        let mut keyed: Vec<((Vec<Key>, String), Value)> = candidates
            .into_iter()
            .filter(|r| self.matches(r, resolve))
            .map(|r| {
                let keys = self.sort.iter().map(|(p, _)| key_of(p, &r)).collect();
                let id = r.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
                ((keys, id), r)
            })
            .collect();
        keyed.sort_by(|a, b| compare(&a.0, &b.0, &desc));
        keyed.dedup_by(|a, b| a.0.1 == b.0.1);
        let total = keyed.len();
        let start = match &self.after {
            Some(c) => {
                let at = (c.keys.clone(), c.id.clone());
                keyed.partition_point(|(k, _)| compare(k, &at, &desc) != Ordering::Greater)
            }
            None => 0,
        };
        let rest = &keyed[start.min(keyed.len())..];
        let page: Vec<&((Vec<Key>, String), Value)> = rest.iter().take(self.count).collect();
        let next = (rest.len() > self.count && self.count > 0)
            .then(|| page.last().map(|(k, _)| Cursor { keys: k.0.clone(), id: k.1.clone() }))
            .flatten();
        Page { entries: page.into_iter().map(|(_, r)| self.shape(r.clone())).collect(), total, next }
    }

    /// `_elements`: the named top-level elements only, with the type's mandatory ones
    /// (as R4 asks of a server), marked as a subset.
    fn shape(&self, mut r: Value) -> Value {
        let Some(keep) = &self.elements else { return r };
        let mandatory = mandatory(r["resourceType"].as_str().unwrap_or_default());
        if let Value::Object(map) = &mut r {
            map.retain(|k, _| {
                k == "resourceType"
                    || k == "id"
                    || k == "meta"
                    || keep.iter().any(|e| e == k)
                    || mandatory.iter().any(|m| {
                        k == m
                            || (k.starts_with(m)
                                && k[m.len()..].starts_with(|c: char| c.is_ascii_uppercase()))
                    })
            });
            let meta = map.entry("meta").or_insert_with(|| json!({}));
            meta["tag"] = json!([{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}]);
        }
        r
    }

    /// The ids (`Patient/…`) a reference parameter with this code names in the criteria.
    pub fn referenced(&self, code: &str, ty: &str) -> Option<Vec<String>> {
        let c = self
            .criteria
            .iter()
            .find(|c| c.param.code == code && c.chain.is_none() && c.modifier.is_none())?;
        c.values
            .iter()
            .map(|v| {
                let id = v.rsplit('/').next().unwrap_or(v);
                let named = v.contains('/').then(|| reference_type(v)).flatten();
                (named.is_none() || named == Some(ty)).then(|| id.to_owned())
            })
            .collect()
    }

    /// The values given for a parameter (unmodified, unchained), if any.
    pub fn values_of(&self, code: &str) -> Option<&[String]> {
        self.criteria
            .iter()
            .find(|c| c.param.code == code && c.chain.is_none() && c.modifier.is_none())
            .map(|c| c.values.as_slice())
    }
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
