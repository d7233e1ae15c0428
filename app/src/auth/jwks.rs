//! [`JwksCache`]: the issuer's signing keys, kept fresh.
//!
//! - Discovery: `{issuer}.well-known/openid-configuration` gives `jwks_uri`; its
//!   `issuer` must equal ours, or nothing is trusted.
//! - Loaded at start and refreshed in the background; a failed fetch keeps the keys
//!   we have, so a flaky IdP never logs everybody out.
//! - A token with an unknown `kid` (keys rotated) triggers one refetch shared by every
//!   request waiting on it (single-flight), and on-demand refetches are rate-limited
//!   so a flood of made-up `kid`s cannot hammer the IdP.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;

use super::config::JwksSettings;
use super::keys::{parse_jwks, VerifyKey};
use crate::login::urls::with_slash;

/// The keys from one successful fetch.
#[derive(Default)]
struct KeySet {
    by_kid: HashMap<String, Arc<VerifyKey>>,
    /// Keys published without a `kid`; used only when the set holds exactly one key.
    without_kid: Vec<Arc<VerifyKey>>,
}

impl KeySet {
    fn find(&self, kid: Option<&str>) -> Option<Arc<VerifyKey>> {
        match kid {
            Some(kid) => self.by_kid.get(kid).cloned(),
            None if self.by_kid.len() + self.without_kid.len() == 1 => self
                .without_kid
                .first()
                .or_else(|| self.by_kid.values().next())
                .cloned(),
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
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// Why a fetch failed. Logged, never sent to clients.
#[derive(Debug)]
pub enum FetchError {
    Http(reqwest::Error),
    IssuerMismatch { discovered: String },
    NoUsableKeys,
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Http(error) => write!(f, "{error}"),
            Self::IssuerMismatch { discovered } => {
                write!(
                    f,
                    "discovery document names issuer {discovered:?}, not the configured one"
                )
            }
            Self::NoUsableKeys => write!(f, "the JWKS holds no key usable for signatures"),
        }
    }
}

pub struct JwksCache {
    issuer: String,
    settings: JwksSettings,
    http: reqwest::Client,
    keys: RwLock<Option<Arc<KeySet>>>,
    fetch: Mutex<FetchState>,
    /// Bumped after every fetch attempt, so waiters can tell one happened meanwhile.
    attempts: AtomicU64,
    /// Bumped when a refresh removes a key, so verified-token caches can be dropped.
    revocations: AtomicU64,
}

impl JwksCache {
    pub fn new(issuer: String, settings: JwksSettings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(settings.fetch_timeout)
            .connect_timeout(settings.fetch_timeout)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .unwrap_or_default();
        Self {
            issuer,
            settings,
            http,
            keys: RwLock::new(None),
            fetch: Mutex::new(FetchState {
                jwks_uri: None,
                recent: VecDeque::new(),
            }),
            attempts: AtomicU64::new(0),
            revocations: AtomicU64::new(0),
        }
    }

    /// True once keys have been loaded; `/readyz` reports it.
    pub fn is_ready(&self) -> bool {
        self.current().is_some()
    }

    /// How many times a refresh has dropped keys (see [`Self::new`]'s field docs).
    pub fn revocations(&self) -> u64 {
        self.revocations.load(Ordering::Acquire)
    }

    fn current(&self) -> Option<Arc<KeySet>> {
        self.keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn lookup(&self, kid: Option<&str>) -> Result<Arc<VerifyKey>, KeyLookupError> {
        match self.current() {
            None => Err(KeyLookupError::NotLoaded),
            Some(set) => set.find(kid).ok_or(KeyLookupError::UnknownKey),
        }
    }

    /// The key for `kid`, refetching the JWKS once if it is unknown (see module docs).
    pub async fn key_for(&self, kid: Option<&str>) -> Result<Arc<VerifyKey>, KeyLookupError> {
        if let Ok(key) = self.lookup(kid) {
            return Ok(key);
        }
        let seen = self.attempts.load(Ordering::Acquire);
        let mut state = self.fetch.lock().await;
        // Someone fetched while we waited for the lock: use their result, don't refetch.
        if self.attempts.load(Ordering::Acquire) != seen {
            return self.lookup(kid);
        }
        if !self.take_fetch_budget(&mut state) {
            return self.lookup(kid);
        }
        if let Err(error) = self.fetch_locked(&mut state).await {
            tracing::warn!(%error, "JWKS refetch for an unknown key id failed; keeping current keys");
        }
        self.lookup(kid)
    }

    /// Rate limit for on-demand fetches: at most `max_fetches_per_minute` in any minute.
    fn take_fetch_budget(&self, state: &mut FetchState) -> bool {
        let now = Instant::now();
        let window = Duration::from_secs(60);
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
        self.attempts.fetch_add(1, Ordering::AcqRel);
        let fresh = result?;
        let mut slot = self
            .keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(old) = slot.as_ref() {
            if old.by_kid.keys().any(|kid| !fresh.by_kid.contains_key(kid)) {
                self.revocations.fetch_add(1, Ordering::AcqRel);
            }
        }
        tracing::info!(
            keys = fresh.by_kid.len() + fresh.without_kid.len(),
            "JWKS loaded"
        );
        *slot = Some(Arc::new(fresh));
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

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, FetchError> {
        let response = self.http.get(url).send().await.map_err(FetchError::Http)?;
        let response = response.error_for_status().map_err(FetchError::Http)?;
        response.json().await.map_err(FetchError::Http)
    }

    /// Loads the keys (retrying with backoff while the IdP is down), then refreshes
    /// them every `refresh_interval`. Runs until the process ends.
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
            tokio::time::sleep(wait).await;
        }
    }
}
