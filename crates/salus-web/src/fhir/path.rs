//! The part of FHIRPath that R4's search parameters are written in, evaluated on a
//! resource's JSON: paths (`Observation.code`), choice elements (`Observation.value as
//! Quantity`, `Condition.onset.as(dateTime)`), unions (`a | b`), and the two filters the
//! definitions use, `.where(resolve() is Patient)` and `.where(system='phone')`. An
//! expression outside this part does not parse, and its parameter is not served (nor
//! claimed in the capability statement) rather than half-evaluated.

use serde_json::Value;

/// A parsed expression: a union of paths.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr(Vec<Path>);

#[derive(Debug, Clone, PartialEq)]
struct Path {
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// An element by name; a choice element (`value`) matches any `value[x]`.
    Child(String),
    /// Only choice values of this type (`valueQuantity` for `value as Quantity`).
    As(String),
    /// Only references to this resource type.
    ResolvesTo(String),
    /// Only objects whose element equals the text (`system='phone'`).
    FieldIs(String, String),
}

/// A node reached by a path: the JSON value and, for a choice element, its type suffix
/// (`Quantity` for `valueQuantity`).
#[derive(Debug, Clone, Copy)]
pub struct Node<'a> {
    pub value: &'a Value,
    pub choice: Option<&'a str>,
}

impl Expr {
    /// Parses `text` for resources of `resource_type` (the root step is that type, or
    /// `Resource`, or nothing for a composite's relative parts).
    pub fn parse(text: &str, resource_type: &str) -> Option<Expr> {
        let mut paths = Vec::new();
        for part in split_top(text, '|') {
            paths.push(parse_path(part.trim(), resource_type)?);
        }
        (!paths.is_empty()).then_some(Expr(paths))
    }

    /// Every node the expression reaches in `resource`, arrays flattened.
    pub fn eval<'a>(&self, resource: &'a Value) -> Vec<Node<'a>> {
        let mut out = Vec::new();
        for path in &self.0 {
            let mut nodes = vec![Node { value: resource, choice: None }];
            for step in &path.steps {
                nodes = apply(step, nodes);
            }
            out.extend(nodes);
        }
        out
    }
}

/// Splits at `sep` outside parentheses and quotes.
fn split_top(text: &str, sep: char) -> Vec<&str> {
    let (mut depth, mut quoted, mut start, mut parts) = (0i32, false, 0usize, Vec::new());
    for (i, c) in text.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            c if c == sep && depth == 0 && !quoted => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_path(text: &str, resource_type: &str) -> Option<Path> {
    // `(X as T)` and `(X as T).rest`
    let mut text = text.trim();
    let mut tail = Vec::new();
    if let Some(inner) = text.strip_prefix('(') {
        let close = matching_paren(inner)?;
        let (body, after) = (&inner[..close], &inner[close + 1..]);
        let (path, ty) = body.split_once(" as ")?;
        let mut p = parse_path(path, resource_type)?;
        p.steps.push(Step::As(ty.trim().to_owned()));
        if let Some(rest) = after.strip_prefix('.') {
            p.steps.extend(parse_steps(rest)?);
        } else if !after.trim().is_empty() {
            return None;
        }
        return Some(p);
    }
    if let Some((path, ty)) = text.split_once(" as ") {
        let mut p = parse_path(path, resource_type)?;
        p.steps.push(Step::As(ty.trim().to_owned()));
        return Some(p);
    }
    for root in [resource_type, "Resource"] {
        if text == root {
            return Some(Path { steps: Vec::new() });
        }
        if let Some(rest) = text.strip_prefix(root).and_then(|r| r.strip_prefix('.')) {
            text = rest;
            tail = parse_steps(text)?;
            return Some(Path { steps: tail });
        }
    }
    if text.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
        return None;
    }
    tail.extend(parse_steps(text)?);
    Some(Path { steps: tail })
}

fn matching_paren(text: &str) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return Some(i),
            ')' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn parse_steps(text: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    for part in split_top(text, '.') {
        let part = part.trim();
        if let Some(arg) = part.strip_prefix("as(").and_then(|a| a.strip_suffix(')')) {
            steps.push(Step::As(arg.trim().to_owned()));
        } else if let Some(arg) = part.strip_prefix("where(").and_then(|a| a.strip_suffix(')')) {
            if let Some(ty) = arg.trim().strip_prefix("resolve() is ") {
                steps.push(Step::ResolvesTo(ty.trim().to_owned()));
            } else {
                let (field, value) = arg.split_once('=')?;
                let value = value.trim().strip_prefix('\'')?.strip_suffix('\'')?;
                let field = field.trim();
                if !is_name(field) {
                    return None;
                }
                steps.push(Step::FieldIs(field.to_owned(), value.to_owned()));
            }
        } else if is_name(part) {
            steps.push(Step::Child(part.to_owned()));
        } else {
            return None;
        }
    }
    Some(steps)
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn push_flat<'a>(out: &mut Vec<Node<'a>>, value: &'a Value, choice: Option<&'a str>) {
    match value {
        Value::Array(items) => out.extend(items.iter().map(|v| Node { value: v, choice })),
        Value::Null => {}
        v => out.push(Node { value: v, choice }),
    }
}

fn apply<'a>(step: &Step, nodes: Vec<Node<'a>>) -> Vec<Node<'a>> {
    let mut out = Vec::new();
    for node in nodes {
        match step {
            Step::Child(name) => {
                let Value::Object(map) = node.value else { continue };
                if let Some(v) = map.get(name.as_str()) {
                    push_flat(&mut out, v, None);
                    continue;
                }
                // A choice element: `value` is `valueQuantity`, `valueString`, …
                for (key, v) in map {
                    if let Some(suffix) = key.strip_prefix(name.as_str())
                        && suffix.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    {
                        push_flat(&mut out, v, Some(suffix));
                    }
                }
            }
            Step::As(ty) => {
                if node.choice.is_some_and(|c| c.eq_ignore_ascii_case(ty)) {
                    out.push(node);
                }
            }
            Step::ResolvesTo(ty) => {
                let reference = node.value.get("reference").and_then(Value::as_str).unwrap_or_default();
                if reference_type(reference) == Some(ty.as_str()) {
                    out.push(node);
                }
            }
            Step::FieldIs(field, value) => {
                if node.value.get(field.as_str()).and_then(Value::as_str) == Some(value.as_str()) {
                    out.push(node);
                }
            }
        }
    }
    out
}

/// The resource type a reference names (`Patient` of `Patient/123` or of a full URL).
pub fn reference_type(reference: &str) -> Option<&str> {
    let mut parts = reference.rsplit('/');
    let _id = parts.next()?;
    let ty = parts.next()?;
    ty.chars().next().is_some_and(|c| c.is_ascii_uppercase()).then_some(ty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(expr: &str, ty: &str, resource: &Value) -> Vec<Value> {
        Expr::parse(expr, ty).unwrap().eval(resource).into_iter().map(|n| n.value.clone()).collect()
    }

    #[test]
    fn paths_choices_unions_and_filters() {
        let obs = json!({
            "resourceType": "Observation",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
            "subject": {"reference": "Patient/p1"},
            "valueQuantity": {"value": 72, "unit": "/min"},
            "component": [{"code": {"text": "a"}, "valueString": "x"}, {"code": {"text": "b"}}]
        });
        assert_eq!(eval("Observation.code", "Observation", &obs).len(), 1);
        assert_eq!(
            eval("(Observation.value as Quantity)", "Observation", &obs),
            vec![json!({"value": 72, "unit": "/min"})]
        );
        assert!(eval("(Observation.value as CodeableConcept)", "Observation", &obs).is_empty());
        assert_eq!(eval("Observation.component.code", "Observation", &obs).len(), 2);
        assert_eq!(eval("Observation.subject.where(resolve() is Patient)", "Observation", &obs).len(), 1);
        assert!(eval("Observation.subject.where(resolve() is Group)", "Observation", &obs).is_empty());
        assert_eq!(eval("Observation | Observation.component", "Observation", &obs).len(), 3);
        assert_eq!(eval("value.as(string)", "Observation", &obs["component"][0]), vec![json!("x")]);
        let patient =
            json!({"telecom": [{"system": "phone", "value": "1"}, {"system": "email", "value": "e"}]});
        assert_eq!(eval("Patient.telecom.where(system='email')", "Patient", &patient)[0]["value"], "e");
        let condition = json!({"onsetDateTime": "2020-01-01"});
        assert_eq!(eval("Condition.onset.as(dateTime)", "Condition", &condition), vec![json!("2020-01-01")]);
        assert_eq!(eval("Resource.id", "Condition", &json!({"id": "c"})), vec![json!("c")]);
    }

    #[test]
    fn what_is_outside_the_subset_does_not_parse() {
        assert!(Expr::parse("Patient.deceased.exists() and Patient.deceased != false", "Patient").is_none());
        assert!(Expr::parse("Observation.code.first()", "Observation").is_none());
        assert!(Expr::parse("Encounter.code", "Observation").is_none());
    }
}
