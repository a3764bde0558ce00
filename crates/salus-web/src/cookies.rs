//! Reading and writing the few cookies Salus uses. All are `HttpOnly` and
//! `SameSite=Lax` (sent on a top-level navigation from elsewhere, so a link into Salus
//! keeps the user signed in, but never on a cross-site form post or fetch), `Secure` when
//! served over TLS, scoped to the whole site.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The session secret.
pub const SESSION: &str = "salus_session";
/// The anti-forgery token of a visitor not yet signed in (the login form).
pub const PRE_SESSION_CSRF: &str = "salus_csrf";
/// A one-time message shown on the next page.
pub const FLASH: &str = "salus_flash";

/// The value of cookie `name` in the request, if present.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value; `max_age` `None` makes a browser-session cookie, `Some(0)`
/// deletes it.
pub fn set(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

pub fn clear(name: &str, secure: bool) -> String {
    set(name, "", Some(0), secure)
}

/// Flash text travels in a cookie, base64url-encoded to stay a valid cookie value.
pub fn encode_flash(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text.as_bytes())
}

pub fn decode_flash(raw: &str) -> Option<String> {
    URL_SAFE_NO_PAD.decode(raw).ok().and_then(|b| String::from_utf8(b).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn finds_a_cookie_among_several() {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_static("a=1; salus_session=abc; b=2"));
        assert_eq!(get(&h, SESSION).as_deref(), Some("abc"));
        assert_eq!(get(&h, "missing"), None);
    }

    #[test]
    fn flash_round_trips_any_text() {
        for text in ["User dr.rao created.", "Zoë; \"quoted\" = 100%", ""] {
            assert_eq!(decode_flash(&encode_flash(text)).as_deref(), Some(text));
        }
        assert!(!encode_flash("a; b=c").contains(';'));
        assert_eq!(decode_flash("%%%"), None);
    }
}
