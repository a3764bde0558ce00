//! Request rate limits, before any credential is looked up: per client address on the
//! JSON API, per token on requests that carry one, and per address on the sign-in form
//! (the account lockout in the use case is the second line against password guessing).
//! Over the limit is 429 with `Retry-After`: problem+json on the API, a page on the form.
//!
//! The counters are GCRA cells of the `governor` crate, in this instance's memory: behind
//! a load balancer each instance counts its own share. (tower_governor wraps the same
//! limiter as a layer, but a layer applies to whole routers; this one middleware can pick
//! the limit by path and run before authentication, so a flood of made-up tokens costs
//! no database work.)

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use sha2::{Digest, Sha256};

use super::is_api_path;
use super::session::bearer;
use crate::AppState;
use crate::error::{ApiError, ProblemKind, error_page};

/// A sustained rate and the burst allowed on top of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: u32,
    pub burst: u32,
}

impl RateLimit {
    fn quota(self) -> Quota {
        let rate = NonZeroU32::new(self.per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(self.burst.max(1)).unwrap_or(NonZeroU32::MIN);
        Quota::per_minute(rate).allow_burst(burst)
    }
}

/// The limits of one instance.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// Every `/api` request, by client address.
    pub api_per_address: RateLimit,
    /// `/api` requests carrying a bearer token, by token.
    pub api_per_token: RateLimit,
    /// Sign-in attempts (POST `/login` and `/login/two-factor`), by client address. Staff
    /// behind one NAT share an address, so this is generous; the per-account lockout is
    /// what stops guessing.
    pub login_per_address: RateLimit,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            api_per_address: RateLimit { per_minute: 6000, burst: 600 },
            api_per_token: RateLimit { per_minute: 1200, burst: 200 },
            login_per_address: RateLimit { per_minute: 60, burst: 60 },
        }
    }
}

/// The counters.
pub struct Limiters {
    api_address: DefaultKeyedRateLimiter<IpAddr>,
    api_token: DefaultKeyedRateLimiter<[u8; 16]>,
    login: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

impl std::fmt::Debug for Limiters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Limiters")
    }
}

/// How many checks pass between sweeps of keys that have been quiet long enough to be full.
const SWEEP_EVERY: u64 = 10_000;

impl Limiters {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            api_address: DefaultKeyedRateLimiter::keyed(limits.api_per_address.quota()),
            api_token: DefaultKeyedRateLimiter::keyed(limits.api_per_token.quota()),
            login: DefaultKeyedRateLimiter::keyed(limits.login_per_address.quota()),
            checks: AtomicU64::new(0),
        }
    }

    fn sweep_now_and_then(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.api_address.retain_recent();
            self.api_token.retain_recent();
            self.login.retain_recent();
        }
    }
}

/// Seconds until `limiter` lets `key` through again, or `None` if it does now.
fn wait<K: std::hash::Hash + Eq + Clone>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Option<u64> {
    limiter.check_key(key).err().map(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
    })
}

fn token_key(secret: &str) -> [u8; 16] {
    let digest = Sha256::digest(secret.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

pub async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limits = &state.limiters;
    limits.sweep_now_and_then();
    let ip = req.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let path = req.uri().path();
    let api = is_api_path(path);
    let wait_secs = if api {
        ip.and_then(|ip| wait(&limits.api_address, &ip))
            .or_else(|| bearer(req.headers()).and_then(|s| wait(&limits.api_token, &token_key(s))))
    } else if req.method() == Method::POST && (path == "/login" || path == "/login/two-factor") {
        ip.and_then(|ip| wait(&limits.login, &ip))
    } else {
        None
    };
    let Some(secs) = wait_secs else { return next.run(req).await };
    let secs = secs.max(1);
    tracing::warn!(path, retry_after = secs, "rate limit reached");
    let mut res = if api {
        ApiError::new(ProblemKind::TooManyRequests, format!("rate limit reached; retry in {secs} s"))
            .into_response()
    } else {
        error_page(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-in attempts from your network. Wait a minute, then try again.",
        )
    };
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}
