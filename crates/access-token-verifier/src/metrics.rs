//! What the token checks report to the `metrics` facade: names in one place, one
//! function per event. Reporting starts with [`describe`], to be called once a
//! recorder is installed (the server does when `METRICS_ADDR` is set); before
//! that every call returns at once: even with no recorder, building a labelled
//! key costs an allocation, and a protected request reports twice. The server
//! exports them (`server::metrics`); README "Metrics" lists them. Labels are fixed
//! words: never a token, a `kid` or a path.
//!
//! Without the `metrics` feature the names stay and every function is empty.

#[cfg(feature = "metrics")]
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[cfg(feature = "metrics")]
use metrics::{counter, gauge, histogram};

/// Counter: token checks by `outcome`.
pub const TOKEN_CHECKS: &str = "auth_token_checks_total";
/// Counter: scope checks by `scope` and `outcome`.
pub const SCOPE_CHECKS: &str = "auth_scope_checks_total";
/// Counter: verified-token cache lookups by `result` (`hit`, `miss`).
pub const TOKEN_CACHE: &str = "auth_token_cache_total";
/// Histogram: time of an uncached verification.
pub const VERIFY_SECONDS: &str = "auth_token_verify_seconds";
/// Counter: JWKS fetches by `result`.
pub const JWKS_FETCHES: &str = "jwks_fetches_total";
/// Gauge: signing keys loaded.
pub const JWKS_KEYS: &str = "jwks_keys";
/// Gauge: seconds since the keys were last fetched (-1: never).
pub const JWKS_SECONDS_SINCE_REFRESH: &str = "jwks_seconds_since_last_refresh";

/// Set by [`describe`]: the events are reported from then on.
#[cfg(feature = "metrics")]
static REPORTING: AtomicBool = AtomicBool::new(false);

/// Whether events are reported (after [`describe`]).
#[cfg(feature = "metrics")]
fn reporting() -> bool {
    REPORTING.load(Ordering::Relaxed)
}

/// Registers the descriptions (the `# HELP` lines) with the installed recorder
/// and starts reporting the events.
pub fn describe() {
    #[cfg(feature = "metrics")]
    {
        REPORTING.store(true, Ordering::Relaxed);
        use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
        describe_counter!(
            TOKEN_CHECKS,
            "Bearer-token checks by outcome: ok, missing_token, invalid_request, keys_unavailable, or the invalid_token cause"
        );
        describe_counter!(
            SCOPE_CHECKS,
            "Scope checks of verified tokens by scope and outcome (ok, insufficient_scope)"
        );
        describe_counter!(
            TOKEN_CACHE,
            "Verified-token cache lookups by result (hit, miss)"
        );
        describe_histogram!(
            VERIFY_SECONDS,
            Unit::Seconds,
            "Time of a full (uncached) token verification, signature included"
        );
        describe_counter!(
            JWKS_FETCHES,
            "JWKS fetches by result (ok, error, rate_limited: an unknown kid found the budget spent)"
        );
        describe_gauge!(JWKS_KEYS, "Signing keys loaded from the issuer");
        describe_gauge!(
            JWKS_SECONDS_SINCE_REFRESH,
            Unit::Seconds,
            "Seconds since the issuer's keys were last fetched successfully (-1: never)"
        );
    }
}

/// A request's credentials were checked: `ok` or the refusal's outcome label.
pub fn token_check(outcome: &'static str) {
    #[cfg(feature = "metrics")]
    {
        if !reporting() {
            return;
        }
        counter!(TOKEN_CHECKS, "outcome" => outcome).increment(1);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = outcome;
}

/// A verified token was checked for `scope`.
pub fn scope_check(scope: &'static str, granted: bool) {
    #[cfg(feature = "metrics")]
    {
        if !reporting() {
            return;
        }
        let outcome = if granted { "ok" } else { "insufficient_scope" };
        counter!(SCOPE_CHECKS, "scope" => scope, "outcome" => outcome).increment(1);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (scope, granted);
}

/// The verified-token cache was asked.
pub fn token_cache(hit: bool) {
    #[cfg(feature = "metrics")]
    {
        if !reporting() {
            return;
        }
        counter!(TOKEN_CACHE, "result" => if hit { "hit" } else { "miss" }).increment(1);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = hit;
}

/// An uncached verification took `elapsed`.
pub fn verify_time(elapsed: Duration) {
    #[cfg(feature = "metrics")]
    {
        if !reporting() {
            return;
        }
        histogram!(VERIFY_SECONDS).record(elapsed.as_secs_f64());
    }
    #[cfg(not(feature = "metrics"))]
    let _ = elapsed;
}

/// A JWKS fetch ended: `ok`, `error` or `rate_limited`.
pub fn jwks_fetch(result: &'static str) {
    #[cfg(feature = "metrics")]
    {
        if !reporting() {
            return;
        }
        counter!(JWKS_FETCHES, "result" => result).increment(1);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = result;
}

/// The key set now holds `count` keys.
pub fn jwks_keys(count: usize) {
    #[cfg(feature = "metrics")]
    {
        if !reporting() {
            return;
        }
        gauge!(JWKS_KEYS).set(count as f64);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = count;
}

/// Sets the age of the key set (`None`: never loaded).
pub fn jwks_seconds_since_refresh(seconds: Option<f64>) {
    #[cfg(feature = "metrics")]
    {
        if !reporting() {
            return;
        }
        gauge!(JWKS_SECONDS_SINCE_REFRESH).set(seconds.unwrap_or(-1.0));
    }
    #[cfg(not(feature = "metrics"))]
    let _ = seconds;
}
