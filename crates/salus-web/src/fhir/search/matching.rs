//! Whether a resource meets a criterion: R4's rules for each parameter type.

use super::*;

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

pub(super) fn fold(s: &str) -> String {
    deunicode::deunicode(s).to_lowercase()
}

pub(super) fn token(n: &Node<'_>, v: &str, modifier: Option<&str>) -> bool {
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

pub(super) fn strings(v: &Value, out: &mut Vec<String>) {
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

pub(super) fn string(v: &Value, want: &str, modifier: Option<&str>) -> bool {
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

pub(super) fn reference(v: &Value, want: &str) -> bool {
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

pub(super) fn uri(v: &Value, want: &str, modifier: Option<&str>) -> bool {
    let Some(s) = v.as_str() else { return false };
    match modifier {
        Some("below") => s.starts_with(want),
        Some("above") => want.starts_with(s),
        _ => s == want,
    }
}

/// A search value's comparator prefix and the rest.
pub fn prefixed(v: &str) -> (&str, &str) {
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
    pub(super) lo: i64,
    pub(super) hi: i64,
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

    pub(super) fn of_value(v: &Value) -> Option<DateRange> {
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

pub(super) fn date(v: &Value, want: &str) -> bool {
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

pub(super) fn quantity(v: &Value, want: &str) -> bool {
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

pub(super) fn example_of(kind: Kind, n: &Node<'_>, components: &[(Kind, Expr)]) -> Option<String> {
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
