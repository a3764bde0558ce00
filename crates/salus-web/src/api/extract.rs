//! Extractors of the JSON API: bodies, query strings and the signed-in user, each failing
//! with a problem+json that says what was wrong.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use salus_app::identity::CurrentUser;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, FieldProblem, ProblemKind};
use crate::middleware::{Auth, client_info};
use salus_app::Ctx;
use salus_app::identity::Actor;

/// A JSON request body. Malformed JSON is 400; JSON of the wrong shape (missing or
/// unknown field, wrong type) is 422 naming the field; a body over the limit is 413; a
/// body that is not `application/json` is 415.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
            let mime = v.split(';').next().unwrap_or("").trim();
            mime == "application/json" || mime.ends_with("+json")
        });
        if !json {
            return Err(ApiError::new(
                ProblemKind::UnsupportedMediaType,
                "send the body as application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::bare(ProblemKind::PayloadTooLarge)
            } else {
                ApiError::new(ProblemKind::MalformedRequest, e.body_text())
            }
        })?;
        let mut value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::new(ProblemKind::MalformedRequest, format!("the body is not valid JSON: {e}"))
        })?;
        integral_numbers(&mut value);
        serde_path_to_error::deserialize(value).map(ApiJson).map_err(|err| {
            let path = err.path().to_string();
            let message = err.into_inner().to_string();
            // serde names an unknown or missing field in its message; report it as the field.
            let field = match named_field(&message) {
                Some(f) if path == "." => f,
                Some(f) if !path.ends_with(&f) => format!("{path}.{f}"),
                _ => path,
            };
            ApiError::fields(vec![FieldProblem { field, message }])
        })
    }
}

/// JSON has one number type: `3.0` is the integer 3 (JSON Schema's `integer` accepts it),
/// though serde would refuse it for an `i32`. Numbers with no fraction become integers
/// before the body is read into its type; `2.5` stays a fraction and is refused by name.
fn integral_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                // Exact: an f64 holds every integer below 2^53.
                #[allow(clippy::cast_possible_truncation)]
                let whole = f as i64;
                *n = whole.into();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        Value::Object(fields) => fields.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// An optional JSON body: none when the request has no `Content-Type` (an action that
/// needs no details), else as [`ApiJson`].
impl<S: Send + Sync, T: DeserializeOwned> axum::extract::OptionalFromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        if req.headers().get(header::CONTENT_TYPE).is_none() {
            return Ok(None);
        }
        <ApiJson<T> as FromRequest<S>>::from_request(req, state).await.map(Some)
    }
}

fn named_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `").or_else(|| message.strip_prefix("missing field `"))?;
    rest.split('`').next().map(str::to_owned)
}

/// Query parameters; a parameter of the wrong form is 400 naming it.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| ApiError::new(ProblemKind::MalformedRequest, e.body_text()))
    }
}

/// The signed-in user and the request's context for use cases; 401 when there is none.
pub struct ApiUser(pub CurrentUser, pub Ctx);

impl<S: Send + Sync> FromRequestParts<S> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Auth>().and_then(Auth::user) {
            Some(user) => {
                let ctx = Ctx::new(Actor::User(user.clone()), client_info(parts));
                Ok(ApiUser(user.clone(), ctx))
            }
            None => Err(ApiError::bare(ProblemKind::Unauthenticated)),
        }
    }
}

/// `?limit=&cursor=` of a paged list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Cursor {
    /// Items per page, 1 to 200 (default 50).
    #[serde(default, deserialize_with = "bounded::<_, u32, 1, 200>")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// For `#[serde(deserialize_with)]` on an optional whole number in a query string: `MIN`
/// to `MAX`, or the request is refused (400) — never clamped, so the bounds the document
/// states are the ones the server keeps.
pub fn bounded<'de, D, T, const MIN: u64, const MAX: u64>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    use serde::de::Error;
    let Some(raw) = Option::<String>::deserialize(d)? else { return Ok(None) };
    let n: u64 =
        raw.trim().parse().map_err(|_| D::Error::custom(format!("`{raw}` is not a whole number")))?;
    if !(MIN..=MAX).contains(&n) {
        return Err(D::Error::custom(format!("{n} is not between {MIN} and {MAX}")));
    }
    T::try_from(n).map(Some).map_err(|_| D::Error::custom("out of range"))
}

impl Cursor {
    /// Decodes the cursor into the position type of the list.
    pub fn position<P: std::str::FromStr>(&self) -> Result<Option<P>, ApiError> {
        decode_cursor(self.cursor.as_deref())
    }
}

/// Decodes a `next_cursor` this API gave out into the list's position type; 422 naming
/// `cursor` for anything else.
pub fn decode_cursor<P: std::str::FromStr>(raw: Option<&str>) -> Result<Option<P>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let bad = || {
        ApiError::fields(vec![FieldProblem {
            field: "cursor".into(),
            message: "is not a cursor this API gave out".into(),
        }])
    };
    let text = URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|t| !t.is_empty())
        .ok_or_else(bad)?;
    text.parse().map(Some).map_err(|_| bad())
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Paged<T> {
    pub fn new<P: std::fmt::Display>(items: Vec<T>, next: Option<P>) -> Self {
        Self { items, next_cursor: next.map(|p| URL_SAFE_NO_PAD.encode(p.to_string())) }
    }
}

/// The version named by `If-Match` ("3" or W/"3"); 428 without one.
pub fn if_match(headers: &HeaderMap) -> Result<i32, ApiError> {
    let Some(raw) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) else {
        return Err(ApiError::new(
            ProblemKind::PreconditionRequired,
            "send If-Match with the version (the ETag) you edited, so no one's change is overwritten",
        ));
    };
    raw.trim().trim_start_matches("W/").trim_matches('"').parse().map_err(|_| {
        ApiError::fields(vec![FieldProblem {
            field: "If-Match".into(),
            message: "is not a version this API gave out".into(),
        }])
    })
}

/// A record as JSON with its version as a strong ETag, to send back as `If-Match`.
pub fn with_etag<T: Serialize>(status: StatusCode, version: i32, body: T) -> Response {
    let mut res = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::integral_numbers;
    use serde_json::json;

    #[test]
    fn whole_numbers_written_as_fractions_read_as_integers() {
        let mut body = json!({"dose_number": 2.0, "items": [{"quantity": 10.0}], "dose": 2.5, "big": 1e300});
        integral_numbers(&mut body);
        assert_eq!(body, json!({"dose_number": 2, "items": [{"quantity": 10}], "dose": 2.5, "big": 1e300}));
        #[derive(serde::Deserialize)]
        struct In {
            dose_number: i32,
        }
        let read = |v: serde_json::Value| {
            let mut v = json!({ "dose_number": v });
            integral_numbers(&mut v);
            serde_json::from_value::<In>(v).map(|i| i.dose_number).ok()
        };
        assert_eq!(read(json!(3.0)), Some(3));
        assert_eq!(read(json!(2.5)), None, "a fraction is not rounded");
    }
}
