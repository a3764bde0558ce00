//! Order and pages: sort keys, keyset cursors, `_elements`.

use super::matching::fold;
use super::*;

/// One sort key's value: missing values sort last.
#[derive(Debug, Clone, PartialEq, PartialOrd, Serialize, Deserialize)]
pub enum Key {
    Num(f64),
    Text(String),
    Missing,
}

pub(super) fn key_of(param: &SearchParam, resource: &Value) -> Key {
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

    pub(super) fn decode(s: &str) -> Option<Cursor> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).ok()?).ok()
    }
}

pub(super) fn compare(a: &(Vec<Key>, String), b: &(Vec<Key>, String), desc: &[bool]) -> Ordering {
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
