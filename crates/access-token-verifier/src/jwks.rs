//! [`JwksCache`]: the issuer's signing keys, kept fresh.
//!
//! - Discovery: `{issuer}.well-known/openid-configuration` gives `jwks_uri`; its
//!   `issuer` must equal ours, or nothing is trusted.
//! - Loaded at start and refreshed in the background; a failed fetch keeps the keys
//!   we have, so a flaky IdP never logs everybody out.
//! - Fetches are careful ([`fetch`](self#fetching)): `https` only (plain `http` on
//!   loopback), redirects only on the same origin, a JSON content type, a size cap
//!   and a key-count cap.
//! - A token with an unknown `kid` (keys rotated) triggers one refetch shared by every
//!   request waiting on it (single-flight). On-demand refetches are rate-limited (a
//!   budget per window), and a `kid` still unknown after a fetch is remembered, so a
//!   flood of made-up `kid`s cannot hammer the IdP. When the budget is spent, one
//!   refetch is still made when the window allows, so a real rotation is picked up
//!   within a window rather than at the next background refresh.
//!
//! # Fetching
//! Discovery and JWKS documents come through `JwksCache::get_json`: at most
//! [`MAX_DOCUMENT_BYTES`], `application/json` (or a `+json` type), at most
//! [`MAX_KEYS`] keys, redirects at most 3 and never to another origin.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;
use tokio::sync::{Mutex, Notify};

use super::config::{is_loopback, ConfigError, JwksSettings};
use super::keys::{parse_jwks, VerifyKey};
use super::metrics;

/// Largest discovery or JWKS document accepted (Auth0's are a few KB).
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// Most keys a JWKS may hold (Auth0 publishes 2 or 3); a larger set is refused whole.
pub const MAX_KEYS: usize = 64;
/// Memory for remembered unknown `kid`s (each for [`UNKNOWN_KID_TTL`]), in bytes:
/// about 10 000 `kid`s of usual length.
const UNKNOWN_KIDS_BYTES: u64 = 1 << 20;
/// Longest `kid` looked up at all (Auth0's are 20-some characters; a thumbprint
/// is 43): a longer one is an unknown key, with no lookup, fetch or memory.
pub const MAX_KID_LEN: usize = 128;
const UNKNOWN_KID_TTL: Duration = Duration::from_secs(600);

/// The keys from one successful fetch.
#[derive(Default)]
struct KeySet {
    /// foldhash (seeded per process): looked up on every request, at most
    /// `MAX_KEYS` entries, all from the issuer.
    by_kid: HashMap<String, Arc<VerifyKey>, foldhash::fast::RandomState>,
    /// Keys published without a `kid`; used only when the set holds exactly one key.
    without_kid: Vec<Arc<VerifyKey>>,
}

impl KeySet {
    fn find(&self, kid: Option<&str>) -> Option<&Arc<VerifyKey>> {
        match kid {
            Some(kid) => self.by_kid.get(kid),
            None if self.by_kid.len() + self.without_kid.len() == 1 => self
                .without_kid
                .first()
                .or_else(|| self.by_kid.values().next()),
            None => None,
        }
    }
}

/// Why no key could be found for a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyLookupError {
    /// Keys are loaded, but none has this `kid` (even after a refetch, or the refetch
    /// budget is spent).
    UnknownKey,
    /// No keys were ever loaded: the IdP has not answered yet.
    NotLoaded,
}

/// State only the fetching task touches; the mutex around it is the single flight.
struct FetchState {
    jwks_uri: Option<String>,
    /// When recent on-demand fetches happened, for the rate limit.
    recent: VecDeque<Instant>,
    /// When the last fetch of any kind was made.
    last_fetch: Option<Instant>,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// Why a fetch failed. Logged, never sent to clients.
#[derive(Debug)]
pub enum FetchError {
    /// The request failed (connection, timeout, too many redirects).
    Http(reqwest::Error),
    /// The answer's status was not 200.
    Status(u16),
    /// The answer was not JSON (its content type).
    ContentType(String),
    /// The document is larger than [`MAX_DOCUMENT_BYTES`].
    TooLarge,
    /// The document is not the JSON expected.
    Json(serde_json::Error),
    /// A URL is not https (plain http only on loopback).
    InsecureUrl(String),
    /// Discovery names another issuer than the one configured.
    IssuerMismatch {
        /// The `issuer` discovery gave.
        discovered: String,
    },
    /// The JWKS holds more than [`MAX_KEYS`] keys.
    TooManyKeys(usize),
    /// No key in the JWKS could verify tokens.
    NoUsableKeys,
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Http(error) => write!(f, "{error}"),
            Self::Status(status) => write!(f, "the issuer answered HTTP {status}"),
            Self::ContentType(found) => {
                write!(f, "expected a JSON document, got content type {found:?}")
            }
            Self::TooLarge => write!(f, "the document is over {MAX_DOCUMENT_BYTES} bytes"),
            Self::Json(error) => write!(f, "the document is not valid JSON: {error}"),
            Self::InsecureUrl(url) => {
                write!(f, "{url:?} is not https (plain http only on loopback)")
            }
            Self::IssuerMismatch { discovered } => {
                write!(
                    f,
                    "discovery document names issuer {discovered:?}, not the configured one"
                )
            }
            Self::TooManyKeys(count) => {
                write!(f, "the JWKS holds {count} keys, more than {MAX_KEYS}")
            }
            Self::NoUsableKeys => write!(f, "the JWKS holds no key usable for signatures"),
        }
    }
}

/// `https`, or plain `http` to a loopback host (the dev IdP).
fn secure_url(url: &reqwest::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => url.host_str().is_some_and(is_loopback),
        _ => false,
    }
}

/// `application/json`, or any `+json` type (`application/jwk-set+json`).
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The issuer's signing keys: found through OpenID discovery, refreshed in the
/// background, refetched (single flight, rate limited) when a token names an
/// unknown `kid`; the last good set is kept while the issuer fails.
pub struct JwksCache {
    issuer: String,
    settings: JwksSettings,
    http: reqwest::Client,
    keys: RwLock<Option<Arc<KeySet>>>,
    fetch: Mutex<FetchState>,
    /// Bumped after every fetch attempt, so waiters can tell one happened meanwhile.
    attempts: AtomicU64,
    /// `kid`s a fetch did not find, with the fetch (`attempts`) that did not find them.
    unknown_kids: moka::sync::Cache<String, u64>,
    /// An unknown `kid` could not be fetched now: the refresh task fetches when allowed.
    refetch_wanted: Notify,
    /// When keys were last fetched successfully (outside the fetch mutex, so a
    /// metrics scrape never waits for a slow fetch).
    last_success: RwLock<Option<Instant>>,
}

impl JwksCache {
    /// Fails only when the HTTP client cannot be set up (a startup error).
    pub fn new(issuer: String, settings: JwksSettings) -> Result<Self, ConfigError> {
        let http = reqwest::Client::builder()
            .timeout(settings.fetch_timeout)
            .connect_timeout(settings.fetch_timeout)
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let first = attempt.previous().first();
                let same_origin =
                    first.is_some_and(|first| first.origin() == attempt.url().origin());
                if attempt.previous().len() > 3 {
                    attempt.error("too many redirects")
                } else if !same_origin || !secure_url(attempt.url()) {
                    attempt.error("redirect to another origin refused")
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .map_err(|error| {
                ConfigError(format!(
                    "cannot set up the HTTP client for the issuer's keys: {error}"
                ))
            })?;
        Ok(Self {
            issuer,
            settings,
            http,
            keys: RwLock::new(None),
            fetch: Mutex::new(FetchState {
                jwks_uri: None,
                recent: VecDeque::new(),
                last_fetch: None,
            }),
            last_success: RwLock::new(None),
            attempts: AtomicU64::new(0),
            unknown_kids: moka::sync::Cache::builder()
                // Bytes, not entries: the key text plus what moka keeps per entry.
                .weigher(|kid: &String, _: &u64| u32::try_from(kid.len() + 64).unwrap_or(u32::MAX))
                .max_capacity(UNKNOWN_KIDS_BYTES)
                .time_to_live(UNKNOWN_KID_TTL)
                .build(),
            refetch_wanted: Notify::new(),
        })
    }

    /// How long ago keys were last fetched successfully (`None`: never).
    pub fn since_last_refresh(&self) -> Option<Duration> {
        self.last_success
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .map(|at| at.elapsed())
    }

    /// True once keys have been loaded; `/readyz` reports it.
    pub fn is_ready(&self) -> bool {
        self.current().is_some()
    }

    fn current(&self) -> Option<Arc<KeySet>> {
        self.keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The key now published under `kid`, without fetching (verified-token cache
    /// entries are valid only while the key that verified them is still this one).
    pub fn lookup(&self, kid: Option<&str>) -> Result<Arc<VerifyKey>, KeyLookupError> {
        match self.current() {
            None => Err(KeyLookupError::NotLoaded),
            Some(set) => set.find(kid).cloned().ok_or(KeyLookupError::UnknownKey),
        }
    }

    /// Whether `key` is the one published under `kid` now (what a verified-token
    /// cache entry is checked against on every hit): one read lock, no clones.
    pub fn is_current(&self, kid: Option<&str>, key: &Arc<VerifyKey>) -> bool {
        let keys = self
            .keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.as_ref()
            .and_then(|set| set.find(kid))
            .is_some_and(|current| Arc::ptr_eq(current, key))
    }

    /// The key for `kid`, refetching the JWKS once if it is unknown (see module docs).
    /// Callers check first that the token's `alg` is one a key could allow.
    pub async fn key_for(&self, kid: Option<&str>) -> Result<Arc<VerifyKey>, KeyLookupError> {
        if kid.is_some_and(|kid| kid.len() > MAX_KID_LEN) {
            return Err(KeyLookupError::UnknownKey);
        }
        let result = self.lookup(kid);
        if !matches!(result, Err(KeyLookupError::UnknownKey)) {
            return result;
        }
        let seen = self.attempts.load(Ordering::Acquire);
        let remembered = kid.and_then(|kid| self.unknown_kids.get(kid)) == Some(seen);
        if remembered {
            // Not found by the latest fetch: no new fetch for it, but one later.
            self.refetch_wanted.notify_one();
            return result;
        }
        let mut state = self.fetch.lock().await;
        // Someone fetched while we waited for the lock: use their result, don't refetch.
        if self.attempts.load(Ordering::Acquire) == seen {
            if !self.take_fetch_budget(&mut state) {
                drop(state);
                metrics::jwks_fetch("rate_limited");
                self.refetch_wanted.notify_one();
                return self.lookup(kid);
            }
            if let Err(error) = self.fetch_locked(&mut state).await {
                tracing::warn!(%error, "JWKS refetch for an unknown key id failed; keeping current keys");
            }
        }
        let result = self.lookup(kid);
        if let (Err(KeyLookupError::UnknownKey), Some(kid)) = (&result, kid) {
            self.unknown_kids
                .insert(kid.to_owned(), self.attempts.load(Ordering::Acquire));
        }
        result
    }

    /// Rate limit for on-demand fetches: at most `max_fetches_per_minute` in any window.
    fn take_fetch_budget(&self, state: &mut FetchState) -> bool {
        let now = Instant::now();
        let window = self.settings.fetch_window;
        while state
            .recent
            .front()
            .is_some_and(|at| now.duration_since(*at) >= window)
        {
            state.recent.pop_front();
        }
        if state.recent.len() >= self.settings.max_fetches_per_minute as usize {
            return false;
        }
        state.recent.push_back(now);
        true
    }

    /// Fetches now (used at start and by the background refresh). Not rate-limited.
    pub async fn refresh(&self) -> Result<(), FetchError> {
        let mut state = self.fetch.lock().await;
        self.fetch_locked(&mut state).await
    }

    async fn fetch_locked(&self, state: &mut FetchState) -> Result<(), FetchError> {
        let result = self.fetch_keys(state).await;
        state.last_fetch = Some(Instant::now());
        self.attempts.fetch_add(1, Ordering::AcqRel);
        metrics::jwks_fetch(if result.is_ok() { "ok" } else { "error" });
        let fresh = result?;
        *self
            .last_success
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Instant::now());
        metrics::jwks_keys(fresh.by_kid.len() + fresh.without_kid.len());
        tracing::info!(
            keys = fresh.by_kid.len() + fresh.without_kid.len(),
            "JWKS loaded"
        );
        *self
            .keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::new(fresh));
        Ok(())
    }

    async fn fetch_keys(&self, state: &mut FetchState) -> Result<KeySet, FetchError> {
        let jwks_uri = match &state.jwks_uri {
            Some(uri) => uri.clone(),
            None => {
                let uri = self.discover().await?;
                state.jwks_uri = Some(uri.clone());
                uri
            }
        };
        let document: Value = self.get_json(&jwks_uri).await?;
        let count = document
            .get("keys")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if count > MAX_KEYS {
            return Err(FetchError::TooManyKeys(count));
        }
        let mut set = KeySet::default();
        for (kid, key) in parse_jwks(&document) {
            let key = Arc::new(key);
            match kid {
                Some(kid) => {
                    set.by_kid.insert(kid, key);
                }
                None => set.without_kid.push(key),
            }
        }
        if set.by_kid.is_empty() && set.without_kid.is_empty() {
            return Err(FetchError::NoUsableKeys);
        }
        Ok(set)
    }

    async fn discover(&self) -> Result<String, FetchError> {
        let url = format!(
            "{}.well-known/openid-configuration",
            with_slash(&self.issuer)
        );
        let discovery: Discovery = self.get_json(&url).await?;
        if discovery.issuer != self.issuer {
            return Err(FetchError::IssuerMismatch {
                discovered: discovery.issuer,
            });
        }
        Ok(discovery.jwks_uri)
    }

    /// GET a JSON document with the checks listed in the module docs.
    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, FetchError> {
        let parsed = reqwest::Url::parse(url).map_err(|_| FetchError::InsecureUrl(url.into()))?;
        if !secure_url(&parsed) {
            return Err(FetchError::InsecureUrl(url.into()));
        }
        let mut response = self
            .http
            .get(parsed)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(FetchError::Http)?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if !is_json(content_type) {
            return Err(FetchError::ContentType(content_type.to_owned()));
        }
        if response
            .content_length()
            .is_some_and(|length| length > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(FetchError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(FetchError::Http)? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(FetchError::Json)
    }

    /// When a refetch an unknown `kid` asked for (while the budget was spent) may
    /// run: one window after the last fetch, whatever the budget says, so at most
    /// one such fetch per window.
    async fn deferred_refetch_at(&self) -> tokio::time::Instant {
        let last = self.fetch.lock().await.last_fetch;
        last.map_or_else(tokio::time::Instant::now, |last| {
            (last + self.settings.fetch_window).into()
        })
    }

    /// Loads the keys (retrying with backoff while the IdP is down), then refreshes
    /// them every `refresh_interval`, and sooner when an unknown `kid` asked for it
    /// (see [`Self::key_for`]). Runs until the process ends.
    pub async fn run_refresh(self: Arc<Self>) {
        let mut backoff = Duration::from_millis(500);
        loop {
            let wait = match self.refresh().await {
                Ok(()) => {
                    backoff = Duration::from_millis(500);
                    self.settings.refresh_interval
                }
                Err(error) => {
                    tracing::warn!(%error, issuer = %self.issuer, "cannot load the issuer's keys; will retry");
                    // Retry sooner while we have no keys at all; later once we do.
                    let wait = if self.is_ready() {
                        self.settings.refresh_interval.min(backoff * 8)
                    } else {
                        backoff
                    };
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    wait
                }
            };
            let mut next = tokio::time::Instant::now() + wait;
            // A deferred refetch only brings the next refresh forward.
            loop {
                tokio::select! {
                    () = tokio::time::sleep_until(next) => break,
                    () = self.refetch_wanted.notified() => {
                        next = next.min(self.deferred_refetch_at().await);
                    }
                }
            }
        }
    }
}

/// `issuer` with one trailing slash (where discovery paths are joined).
fn with_slash(issuer: &str) -> String {
    if issuer.ends_with('/') {
        issuer.to_owned()
    } else {
        format!("{issuer}/")
    }
}
