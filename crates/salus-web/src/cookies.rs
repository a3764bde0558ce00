//! The few cookies Salus uses, built and read by the `cookie` crate (through axum-extra's
//! jars). All are `HttpOnly` and `SameSite=Lax` (sent on a top-level navigation from
//! elsewhere, so a link into Salus keeps the user signed in, but never on a cross-site
//! form post or fetch), `Secure` when served over TLS, scoped to the whole site.
//!
//! The session cookie is a random secret looked up on the server; the flash message is
//! text shown on the next page, so it is signed with the installation's key: a cookie
//! planted by another site on the same domain cannot make Salus display its words.

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, Key, SameSite, SignedCookieJar};
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
    CookieJar::from_headers(headers).get(name).map(|c| c.value().to_owned())
}

/// A cookie with Salus's attributes; `max_age` `None` makes a browser-session cookie,
/// `Some(0)` deletes it.
pub fn build(name: &'static str, value: String, max_age: Option<i64>, secure: bool) -> Cookie<'static> {
    let mut c =
        Cookie::build((name, value)).path("/").http_only(true).same_site(SameSite::Lax).secure(secure);
    if let Some(age) = max_age {
        c = c.max_age(cookie::time::Duration::seconds(age));
    }
    c.build()
}

/// A `Set-Cookie` value.
pub fn set(name: &'static str, value: &str, max_age: Option<i64>, secure: bool) -> String {
    build(name, value.to_owned(), max_age, secure).to_string()
}

pub fn clear(name: &'static str, secure: bool) -> String {
    set(name, "", Some(0), secure)
}

/// The flash message of the request, if it carries one signed with `key`.
pub fn flash(headers: &HeaderMap, key: &Key) -> Option<String> {
    SignedCookieJar::from_headers(headers, key.clone()).get(FLASH).and_then(|c| decode_flash(c.value()))
}

/// A redirect to `to` that shows `text` on the page it lands on.
pub fn redirect_with_flash(to: &str, text: &str, key: &Key, secure: bool) -> Response {
    let jar = SignedCookieJar::new(key.clone()).add(build(FLASH, encode_flash(text), None, secure));
    (jar, Redirect::to(to)).into_response()
}

/// Flash text travels base64url-encoded, to stay a valid cookie value whatever it says.
fn encode_flash(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text.as_bytes())
}

fn decode_flash(raw: &str) -> Option<String> {
    URL_SAFE_NO_PAD.decode(raw).ok().and_then(|b| String::from_utf8(b).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::{COOKIE, SET_COOKIE};
    use axum::http::{HeaderValue, StatusCode};

    #[test]
    fn finds_a_cookie_among_several() {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_static("a=1; salus_session=abc; b=2"));
        assert_eq!(get(&h, SESSION).as_deref(), Some("abc"));
        assert_eq!(get(&h, "missing"), None);
    }

    #[test]
    fn cookies_carry_the_attributes() {
        let c = set(SESSION, "abc", Some(60), true);
        for part in ["salus_session=abc", "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=60", "Secure"] {
            assert!(c.contains(part), "{part} in {c}");
        }
        assert!(!set(SESSION, "abc", None, false).contains("Secure"));
        assert!(clear(FLASH, false).contains("Max-Age=0"));
    }

    /// The flash set by one response is read on the next request with the same key, and
    /// only with it: any text survives, an unsigned or re-signed cookie shows nothing.
    #[test]
    fn flash_is_signed_and_round_trips_any_text() {
        let key = Key::generate();
        for text in ["User dr.rao created.", "Zoë; \"quoted\" = 100%", ""] {
            let res = redirect_with_flash("/next", text, &key, false);
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            let set_cookie = res.headers()[SET_COOKIE].to_str().unwrap().to_owned();
            let pair = set_cookie.split(';').next().unwrap().to_owned();
            let mut next = HeaderMap::new();
            next.insert(COOKIE, HeaderValue::from_str(&pair).unwrap());
            assert_eq!(flash(&next, &key).as_deref(), Some(text));
            assert_eq!(flash(&next, &Key::generate()), None, "another installation's key");
        }
        let mut forged = HeaderMap::new();
        let planted = format!("{FLASH}={}", encode_flash("Call 555-0100 to unlock your account"));
        forged.insert(COOKIE, HeaderValue::from_str(&planted).unwrap());
        assert_eq!(flash(&forged, &key), None, "an unsigned flash is not shown");
    }
}
