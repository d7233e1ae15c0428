//! [`Sessions`]: what a session holds ([`SessionRecord`], sealed at rest), its
//! two lifetimes (rolling idle timeout, absolute maximum), the login
//! transaction, and the access token for a call, renewed first when it is about
//! to expire: one renewal at a time per session, in this process (a per-session
//! async mutex) and across replicas (a short lock in Redis). A caller that waited
//! reads the session again and uses what the renewal stored, so a rotated refresh
//! token is never sent twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use app::login::checks::{check_id_token, check_same_subject, LEEWAY_SECS};
use app::login::protocol::jwt_claims;
use app::login::server_session::LoginFailure;
use app::login::{PublicAuthConfig, User};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::cookies::CookiePolicy;
use super::keyring::KeyRing;
use super::oidc::{IdpError, OidcClient, TokenResponse};
use super::store::{SessionStore, StoreError};
use super::{random_id, sha256_b64};

/// How long a login may take from "Log in" to the callback.
pub const TRANSACTION_TTL: Duration = Duration::from_secs(600);
/// How long a replica may hold a session's renewal lock.
const RENEWAL_LOCK_TTL: Duration = Duration::from_secs(15);
/// Waits before retrying a renewal the IdP could not answer.
const RETRY_WAITS: [Duration; 3] = [
    Duration::from_millis(200),
    Duration::from_millis(500),
    Duration::from_millis(1000),
];
/// The rolling expiry is moved at most this often per session (a store write),
/// or every quarter of the idle timeout when that is shorter.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// Seconds since the epoch.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A session: who is signed in (what pages show) and the tokens. Stored as two
/// sealed parts, [`Profile`] and [`TokenPart`], so rendering a page opens and
/// parses only the small first one; the tokens are decrypted only for a call.
#[derive(Clone)]
pub struct SessionRecord {
    /// The ID token's subject (a renewed ID token must name the same).
    pub sub: String,
    /// What the page shows, from the ID token's claims.
    pub user: User,
    /// For the IdP's logout (`id_token_hint`).
    pub id_token: Option<String>,
    pub access_token: String,
    /// When the access token expires (seconds since the epoch).
    pub expires_at: f64,
    /// From when it is renewed before use: a leeway before expiry, at most half
    /// its life (a 2-second token is not "about to expire" the moment it arrives).
    pub renew_at: f64,
    pub refresh_token: Option<String>,
    /// The login (the absolute lifetime counts from here).
    pub created_at: f64,
}

/// The first sealed part: what every page needs.
#[derive(Serialize, Deserialize)]
struct Profile {
    sub: String,
    user: User,
    created_at: f64,
}

/// The second sealed part: the tokens.
#[derive(Serialize, Deserialize)]
struct TokenPart {
    id_token: Option<String>,
    access_token: String,
    expires_at: f64,
    renew_at: f64,
    refresh_token: Option<String>,
}

impl SessionRecord {
    /// From a token response and the ID token's claims, for a session that began
    /// at `created_at`.
    pub fn from_tokens(
        tokens: &TokenResponse,
        claims: Map<String, Value>,
        created_at: f64,
    ) -> Self {
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Self::with_tokens(sub, User::from_claims(claims), tokens, created_at)
    }

    /// The session of `sub` (shown as `user`) with the tokens of `tokens`.
    fn with_tokens(sub: String, user: User, tokens: &TokenResponse, created_at: f64) -> Self {
        let now = now();
        let expires_at = tokens.expires_at(now);
        let leeway = LEEWAY_SECS.min((expires_at - now) / 2.0);
        Self {
            sub,
            user,
            id_token: tokens.id_token.clone(),
            access_token: tokens.access_token.clone(),
            expires_at,
            renew_at: expires_at - leeway,
            refresh_token: tokens.refresh_token.clone(),
            created_at,
        }
    }

    fn needs_renewal(&self, now: f64) -> bool {
        now >= self.renew_at
    }
}

/// Why a session gives no access token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionError {
    /// It has ended (logged out, expired, `invalid_grant`): sign in again. The
    /// message says why.
    Ended(String),
    /// The IdP or the store could not answer; the session stays.
    Unavailable(String),
}

/// A login attempt, kept sealed in its own cookie until the callback.
#[derive(Serialize, Deserialize)]
struct Transaction {
    state: String,
    nonce: String,
    verifier: String,
    return_to: String,
    created_at: f64,
}

/// The session manager: store, keys, the IdP client, lifetimes, renewal gates.
pub struct Sessions {
    store: SessionStore,
    keys: KeyRing,
    oidc: OidcClient,
    /// Cookie names and attributes.
    pub cookies: CookiePolicy,
    /// `PUBLIC_URL`'s origin; else each request's `Host` (over http).
    public_origin: Option<String>,
    idle_timeout: Duration,
    max_age: Duration,
    gates: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

/// The store key of a session id (the store never sees the id itself).
fn store_key(id: &str) -> String {
    sha256_b64(id)
}

/// What a sealed part is bound to: its kind and the session's store key.
fn sealed_context(part: &str, key: &str) -> Vec<u8> {
    format!("session-{part}:{key}").into_bytes()
}

/// The browser's text for a failed login.
fn failure(message: impl Into<String>) -> LoginFailure {
    LoginFailure {
        message: message.into(),
        retry_prompt: None,
    }
}

impl Sessions {
    /// `public_url`: `PUBLIC_URL` (its scheme decides `Secure` and `__Host-`).
    pub fn new(
        store: SessionStore,
        keys: KeyRing,
        oidc: OidcClient,
        public_url: Option<&url::Url>,
        idle_timeout: Duration,
        max_age: Duration,
    ) -> Self {
        Self {
            store,
            keys,
            oidc,
            cookies: CookiePolicy {
                secure: public_url.is_some_and(|url| url.scheme() == "https"),
            },
            public_origin: public_url.map(|url| url.origin().ascii_serialization()),
            idle_timeout,
            max_age,
            gates: Mutex::new(HashMap::new()),
        }
    }

    /// `server` token storage as configured. Opens the store: Redis when
    /// `REDIS_URL` is set, else the embedded file.
    pub fn open(
        config: &app::config::AppConfig,
        settings: &crate::settings::SessionSettings,
    ) -> Result<Arc<Self>, String> {
        let store = match &config.verifier.redis_url {
            Some(url) => SessionStore::redis(url).map_err(|error| format!("REDIS_URL: {error}"))?,
            None => SessionStore::open_file(&settings.file)
                .map_err(|error| format!("SESSION_FILE: {error}"))?,
        };
        let oidc = OidcClient::new(
            config.public(),
            settings.client_secret.clone(),
            settings.client_auth,
        );
        Ok(Arc::new(Self::new(
            store,
            settings.keys.clone(),
            oidc,
            config.verifier.public_url.as_ref(),
            settings.idle_timeout,
            settings.max_age,
        )))
    }

    /// Drops expired sessions from the embedded file every ten minutes.
    pub fn spawn_purge(self: &Arc<Self>) {
        if !matches!(self.store, SessionStore::File(_)) {
            return;
        }
        let sessions = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(600));
            loop {
                every.tick().await;
                let Some(sessions) = sessions.upgrade() else {
                    return;
                };
                if let Err(error) = sessions.store.purge_expired().await {
                    tracing::warn!(%error, "could not purge expired sessions");
                }
            }
        });
    }

    /// The absolute lifetime (the cookie's `Max-Age`).
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// The login settings (issuer, client id, audience, scope).
    pub fn config(&self) -> &PublicAuthConfig {
        &self.oidc.config
    }

    /// This app's origin as the browser sees it.
    pub fn origin(&self, headers: &axum::http::HeaderMap) -> String {
        if let Some(origin) = &self.public_origin {
            return origin.clone();
        }
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|host| host.to_str().ok())
            .filter(|host| !host.is_empty() && host.bytes().all(|b| b.is_ascii_graphic()))
            .unwrap_or("localhost");
        format!("http://{host}")
    }

    /// The store's expiry for a session created at `created_at`: idle, capped by
    /// what is left of the absolute lifetime.
    fn ttl(&self, created_at: f64) -> Duration {
        let left = (created_at + self.max_age.as_secs_f64() - now()).max(0.0);
        self.idle_timeout.min(Duration::from_secs_f64(left))
    }

    /// The stored value: the profile's sealed length (4 bytes, big-endian), the
    /// sealed profile, the sealed tokens (each postcard, then AES-GCM), each part
    /// bound to the store key and to what it is.
    fn seal(&self, key: &str, record: &SessionRecord) -> Vec<u8> {
        let profile = Profile {
            sub: record.sub.clone(),
            user: record.user.clone(),
            created_at: record.created_at,
        };
        let tokens = TokenPart {
            id_token: record.id_token.clone(),
            access_token: record.access_token.clone(),
            expires_at: record.expires_at,
            renew_at: record.renew_at,
            refresh_token: record.refresh_token.clone(),
        };
        let profile = self.keys.seal(
            &sealed_context("profile", key),
            &postcard::to_allocvec(&profile).expect("a profile serializes"),
        );
        let tokens = self.keys.seal(
            &sealed_context("tokens", key),
            &postcard::to_allocvec(&tokens).expect("tokens serialize"),
        );
        let mut value = Vec::with_capacity(4 + profile.len() + tokens.len());
        value.extend_from_slice(&(profile.len() as u32).to_be_bytes());
        value.extend_from_slice(&profile);
        value.extend_from_slice(&tokens);
        value
    }

    /// The two sealed parts of a stored value.
    fn parts(value: &[u8]) -> Option<(&[u8], &[u8])> {
        let length = u32::from_be_bytes(value.get(..4)?.try_into().ok()?) as usize;
        let rest = &value[4..];
        (length <= rest.len()).then(|| rest.split_at(length))
    }

    /// The session `id` names, if it is live; moves its rolling expiry now and then.
    /// One sealed with a key no longer in the ring reads as no session.
    pub async fn read(&self, id: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.read_key(&store_key(id), true).await
    }

    /// Who is signed in with the session `id` names (what a page needs: the
    /// tokens stay sealed), if it is live; moves its rolling expiry now and then.
    pub async fn read_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let key = store_key(id);
        Ok(self
            .load_profile(&key, true)
            .await?
            .map(|(_, profile)| profile.user))
    }

    /// The live entry under `key` and its opened profile; the lifetimes applied.
    async fn load_profile(
        &self,
        key: &str,
        touch: bool,
    ) -> Result<Option<(Vec<u8>, Profile)>, StoreError> {
        let Some(entry) = self.store.load(key).await? else {
            return Ok(None);
        };
        let profile = Self::parts(&entry.value)
            .and_then(|(profile, _)| self.keys.open(&sealed_context("profile", key), profile))
            .and_then(|bytes| postcard::from_bytes::<Profile>(&bytes).ok());
        let Some(profile) = profile else {
            return Ok(None);
        };
        if now() >= profile.created_at + self.max_age.as_secs_f64() {
            self.store.delete(key).await?;
            return Ok(None);
        }
        let ttl = self.ttl(profile.created_at);
        if touch && entry.expires_in + TOUCH_EVERY.min(self.idle_timeout / 4) < ttl {
            if let Err(error) = self.store.touch(key, ttl).await {
                tracing::warn!(%error, "could not extend a session");
            }
        }
        Ok(Some((entry.value, profile)))
    }

    async fn read_key(&self, key: &str, touch: bool) -> Result<Option<SessionRecord>, StoreError> {
        let Some((value, profile)) = self.load_profile(key, touch).await? else {
            return Ok(None);
        };
        let tokens = Self::parts(&value)
            .and_then(|(_, tokens)| self.keys.open(&sealed_context("tokens", key), tokens))
            .and_then(|bytes| postcard::from_bytes::<TokenPart>(&bytes).ok());
        Ok(tokens.map(|tokens| SessionRecord {
            sub: profile.sub,
            user: profile.user,
            id_token: tokens.id_token,
            access_token: tokens.access_token,
            expires_at: tokens.expires_at,
            renew_at: tokens.renew_at,
            refresh_token: tokens.refresh_token,
            created_at: profile.created_at,
        }))
    }

    /// Ends the session `id` names; returns what it held (for revocation).
    pub async fn end(&self, id: &str) -> Result<Option<SessionRecord>, StoreError> {
        let key = store_key(id);
        let record = self.read_key(&key, false).await?;
        self.store.delete(&key).await?;
        Ok(record)
    }

    /// Revokes a refresh token at the IdP; a failure is logged, not fatal (the
    /// session is gone from the store either way).
    pub async fn revoke(&self, record: &SessionRecord) {
        if let Some(refresh_token) = &record.refresh_token {
            if let Err(error) = self.oidc.revoke(refresh_token).await {
                tracing::warn!(%error, "could not revoke the refresh token at logout");
            }
        }
    }

    /// Where "Log out" goes after the session has ended.
    pub async fn logout_url(&self, record: Option<&SessionRecord>, origin: &str) -> String {
        let end_session = match self.oidc.discovery().await {
            Ok(discovery) => discovery.end_session_endpoint.clone(),
            Err(_) => None,
        };
        app::login::urls::logout_url(
            self.config(),
            end_session.as_deref(),
            record.and_then(|record| record.id_token.as_deref()),
            origin,
        )
    }

    /// Starts a login: the authorize URL, and the transaction's `state` and sealed
    /// cookie value.
    pub async fn start_login(
        &self,
        origin: &str,
        return_to: &str,
        prompt: Option<&str>,
    ) -> Result<(String, String, String), IdpError> {
        let discovery = self.oidc.discovery().await?;
        let transaction = Transaction {
            state: random_id(),
            nonce: random_id(),
            verifier: random_id(),
            return_to: app::login::urls::safe_return_to(origin, return_to),
            created_at: now(),
        };
        let challenge = sha256_b64(&transaction.verifier);
        let url = self.oidc.authorize_url(
            discovery,
            &format!("{origin}/callback"),
            &transaction.state,
            &transaction.nonce,
            &challenge,
            prompt,
        );
        let json = serde_json::to_vec(&transaction).expect("a transaction serializes");
        let sealed = URL_SAFE_NO_PAD.encode(self.keys.seal(b"login-transaction", &json));
        Ok((url, transaction.state, sealed))
    }

    /// The callback's work: the transaction the cookie holds for `state`, the
    /// IdP's error or the code exchanged, the ID token checked, a new session
    /// stored. Returns its id and where to go.
    pub async fn complete_login(
        &self,
        origin: &str,
        sealed_transaction: Option<&str>,
        params: &HashMap<String, String>,
    ) -> Result<(String, String), LoginFailure> {
        let param = |name: &str| params.get(name).map(String::as_str);
        let unknown = || failure(app::login::checks::unknown_state_message());
        // The IdP's texts are shown only for a login this browser started.
        let transaction = sealed_transaction
            .and_then(|sealed| URL_SAFE_NO_PAD.decode(sealed).ok())
            .and_then(|sealed| self.keys.open(b"login-transaction", &sealed))
            .and_then(|json| serde_json::from_slice::<Transaction>(&json).ok())
            .filter(|transaction| Some(transaction.state.as_str()) == param("state"))
            .filter(|transaction| {
                !app::login::checks::transaction_expired(transaction.created_at, now())
            })
            .ok_or_else(unknown)?;
        if let Some(error) = param("error") {
            let (message, retry_prompt) = app::login::checks::idp_error_message(
                error,
                param("error_description").unwrap_or_default(),
            );
            return Err(LoginFailure {
                message,
                retry_prompt,
            });
        }
        let code = param("code")
            .ok_or_else(|| failure("This address is not a login callback (no code)."))?;
        let tokens = self
            .oidc
            .exchange_code(code, &transaction.verifier, &format!("{origin}/callback"))
            .await
            .map_err(|error| failure(format!("The login could not finish: {error}.")))?;
        let claims = self
            .checked_id_token(&tokens, Some(&transaction.nonce))
            .map_err(|why| failure(format!("The login could not finish: {why}.")))?
            .ok_or_else(|| failure("The login could not finish: the IdP sent no ID token."))?;
        let record = SessionRecord::from_tokens(&tokens, claims, now());
        let id = self.create(&record).await.map_err(|error| {
            tracing::error!(%error, "could not store a new session");
            failure("The login could not finish: sessions cannot be stored right now.")
        })?;
        Ok((id, transaction.return_to))
    }

    /// Stores `record` as a new session; returns its id (for the cookie).
    pub async fn create(&self, record: &SessionRecord) -> Result<String, StoreError> {
        let id = random_id();
        let key = store_key(&id);
        self.store
            .insert(&key, self.seal(&key, record), self.ttl(record.created_at))
            .await?;
        Ok(id)
    }

    /// The ID token's claims, checked as the browser checks them (OIDC Core
    /// 3.1.3.7). Straight from the token endpoint over TLS, so its signature
    /// need not be checked (3.1.3.7, item 6), as in the browser's login.
    fn checked_id_token(
        &self,
        tokens: &TokenResponse,
        nonce: Option<&str>,
    ) -> Result<Option<Map<String, Value>>, String> {
        if !tokens
            .token_type
            .as_deref()
            .is_none_or(|kind| kind.eq_ignore_ascii_case("bearer"))
        {
            return Err("the IdP sent a token that is not a Bearer token".into());
        }
        let Some(id_token) = &tokens.id_token else {
            return Ok(None);
        };
        let claims = jwt_claims(id_token).ok_or_else(|| "the ID token is unreadable".to_owned())?;
        check_id_token(self.config(), &claims, nonce, now())?;
        Ok(Some(claims))
    }

    /// The in-process gate of the session stored under `key`.
    fn gate(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut gates = self
            .gates
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(gate) = gates.get(key).and_then(Weak::upgrade) {
            return gate;
        }
        if gates.len() > 1024 {
            gates.retain(|_, gate| gate.strong_count() > 0);
        }
        let gate = Arc::new(tokio::sync::Mutex::new(()));
        gates.insert(key.to_owned(), Arc::downgrade(&gate));
        gate
    }

    /// The access token of session `id` for a call, renewed first when due.
    pub async fn access_token(&self, id: &str) -> Result<String, SessionError> {
        let key = store_key(id);
        let ended = || SessionError::Ended("Your session has ended; please log in again.".into());
        let store_down = |error: StoreError| {
            tracing::warn!(%error, "session store unavailable");
            SessionError::Unavailable(
                "Sessions cannot be read right now; try again shortly.".into(),
            )
        };
        let record = self
            .read_key(&key, true)
            .await
            .map_err(store_down)?
            .ok_or_else(ended)?;
        if !record.needs_renewal(now()) {
            return Ok(record.access_token);
        }
        let gate = self.gate(&key);
        let _in_process = gate.lock().await;
        let deadline = tokio::time::Instant::now() + RENEWAL_LOCK_TTL;
        loop {
            // Read again: the call before this one may have renewed already.
            let record = self
                .read_key(&key, false)
                .await
                .map_err(store_down)?
                .ok_or_else(ended)?;
            if !record.needs_renewal(now()) {
                return Ok(record.access_token);
            }
            if let Some(lock) = self
                .store
                .try_lock(&key, RENEWAL_LOCK_TTL)
                .await
                .map_err(store_down)?
            {
                // And again under the shared lock: another replica may have renewed.
                let renewed = match self.read_key(&key, false).await {
                    Ok(Some(record)) if !record.needs_renewal(now()) => Ok(record.access_token),
                    Ok(Some(record)) => self.renew(&key, record).await,
                    Ok(None) => Err(ended()),
                    Err(error) => Err(store_down(error)),
                };
                self.store.unlock(lock).await;
                return renewed;
            }
            if tokio::time::Instant::now() > deadline {
                return Err(SessionError::Unavailable(
                    "The session is being renewed elsewhere; try again shortly.".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// One refresh grant (retried on network errors and 5xx), stored.
    async fn renew(&self, key: &str, record: SessionRecord) -> Result<String, SessionError> {
        let Some(refresh_token) = record.refresh_token.clone() else {
            let _ = self.store.delete(key).await;
            return Err(SessionError::Ended(
                "Your session has expired (there is no refresh token); please log in again.".into(),
            ));
        };
        let mut waits = RETRY_WAITS.iter();
        let tokens = loop {
            match self.oidc.refresh(&refresh_token).await {
                Ok(tokens) => break tokens,
                Err(error) if error.is_invalid_grant() => {
                    tracing::info!("the IdP refused the session's refresh token: session ended");
                    let _ = self.store.delete(key).await;
                    return Err(SessionError::Ended(
                        "The login service ended your session (invalid_grant); please log in again."
                            .into(),
                    ));
                }
                Err(IdpError::Unavailable(why)) => match waits.next() {
                    Some(wait) => {
                        tracing::warn!(%why, "renewal failed, retrying");
                        tokio::time::sleep(*wait).await;
                    }
                    None => {
                        return Err(SessionError::Unavailable(format!(
                            "The session could not be renewed: {why}"
                        )))
                    }
                },
                Err(error) => {
                    return Err(SessionError::Unavailable(format!(
                        "The session could not be renewed: {error}"
                    )))
                }
            }
        };
        let mut renewed = match self.checked_id_token(&tokens, None) {
            Ok(Some(claims)) => {
                let before = Map::from_iter([("sub".to_owned(), Value::from(record.sub))]);
                check_same_subject(&before, &claims)
                    .map_err(|why| SessionError::Ended(format!("{why}; please log in again.")))?;
                SessionRecord::from_tokens(&tokens, claims, record.created_at)
            }
            Ok(None) => {
                SessionRecord::with_tokens(record.sub, record.user, &tokens, record.created_at)
            }
            Err(why) => {
                return Err(SessionError::Unavailable(format!(
                    "The session could not be renewed: {why}"
                )))
            }
        };
        // Rotation is optional: without a new refresh token the old one stays.
        renewed.refresh_token = tokens.refresh_token.clone().or(record.refresh_token);
        renewed.id_token = tokens.id_token.clone().or(record.id_token);
        match self
            .store
            .replace(key, self.seal(key, &renewed), self.ttl(renewed.created_at))
            .await
        {
            Ok(true) => Ok(renewed.access_token),
            Ok(false) => Err(SessionError::Ended(
                "Your session has ended; please log in again.".into(),
            )),
            Err(error) => {
                tracing::error!(%error, "a renewed session could not be stored");
                Err(SessionError::Unavailable(
                    "Sessions cannot be stored right now; try again shortly.".into(),
                ))
            }
        }
    }
}
