//! Test support for `access-token-verifier` and the APIs built on it (dev-only):
//!
//! - [`TestIssuer`]: a real token issuer, an HTTP server on 127.0.0.1:0 serving
//!   OpenID discovery and a JWKS, whose answers a test can bend (rotation, a slow
//!   or lying IdP, odd content types), and stop.
//! - [`TestKey`]: real keys (`keys/*.pem`: RSA, P-256, P-384, Ed25519) that sign
//!   real tokens and real DPoP proofs.
//! - [`claims`], [`now`], [`b64`], [`wait_until`]: small builders and waits.
//! - [`settings_in_table`]: the settings a README's table lists (tests compare
//!   them with what the code reads).

pub mod redis_server;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use access_token_verifier::config::JwksSettings;
use access_token_verifier::{JwksCache, Verifier, VerifierConfig};
use axum::response::IntoResponse;
use axum::{extract::State, routing::get, Json, Router};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{encode, get_current_timestamp, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

/// The audience of [`claims`] and of [`TestIssuer::config`].
pub const AUDIENCE: &str = "https://api.test.local";

/// A private key from `keys/` and its public JWK.
#[derive(Clone)]
pub struct TestKey {
    /// Its `kid` in the JWKS and in tokens' headers.
    pub kid: String,
    /// The algorithm it signs with.
    pub alg: Algorithm,
    /// The private key.
    pub encoding: EncodingKey,
    /// The public JWK the issuer publishes (no `alg`, like Auth0's).
    pub jwk: Value,
}

impl TestKey {
    /// The key in `keys/<file>`, published as `kid`, signing with `alg`.
    pub fn load(file: &str, kid: &str, alg: Algorithm) -> Self {
        let path = key_path(file);
        let pem = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let encoding = match alg {
            Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(&pem),
            Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem),
            _ => EncodingKey::from_rsa_pem(&pem),
        }
        .expect("test key parses");
        let mut jwk = serde_json::to_value(Jwk::from_encoding_key(&encoding, alg).expect("jwk"))
            .expect("json");
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        // Like Auth0's JWKS: no "alg" on the keys, so the verifier derives the allowlist.
        jwk.as_object_mut().expect("object").remove("alg");
        Self {
            kid: kid.to_owned(),
            alg,
            encoding,
            jwk,
        }
    }

    /// RSA 2048, RS256, kid `rsa-a`.
    pub fn rsa_a() -> Self {
        Self::load("rsa-a.pem", "rsa-a", Algorithm::RS256)
    }
    /// A second RSA 2048 key (rotation), kid `rsa-b`.
    pub fn rsa_b() -> Self {
        Self::load("rsa-b.pem", "rsa-b", Algorithm::RS256)
    }
    /// P-256, ES256.
    pub fn ec_p256() -> Self {
        Self::load("ec-p256.pem", "ec-p256", Algorithm::ES256)
    }
    /// P-384, ES384.
    pub fn ec_p384() -> Self {
        Self::load("ec-p384.pem", "ec-p384", Algorithm::ES384)
    }
    /// Ed25519, EdDSA.
    pub fn ed25519() -> Self {
        Self::load("ed25519.pem", "ed25519", Algorithm::EdDSA)
    }

    /// A token with this key's `kid` and algorithm.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with(
            Header {
                kid: Some(self.kid.clone()),
                ..Header::new(self.alg)
            },
            claims,
        )
    }

    /// A token with this key and the given header.
    pub fn sign_with(&self, header: Header, claims: &Value) -> String {
        encode(&header, claims, &self.encoding).expect("signing works")
    }

    /// The RFC 7638 thumbprint of this key (a bound token's `cnf.jkt`).
    pub fn thumbprint(&self) -> String {
        Jwk::from_encoding_key(&self.encoding, self.alg)
            .expect("jwk")
            .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
            .expect("thumbprint")
    }

    /// A real DPoP proof signed with this key for `method url`, bound to `token`
    /// (`ath`), fresh `jti`; `patch` overrides claims (`null` removes one).
    pub fn proof(&self, method: &str, url: &str, token: Option<&str>, patch: Value) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let mut header = Header::new(self.alg);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(Jwk::from_encoding_key(&self.encoding, self.alg).expect("jwk"));
        let mut claims = json!({
            "jti": format!("proof-{}-{}", now(), NEXT.fetch_add(1, Ordering::SeqCst)),
            "htm": method,
            "htu": url,
            "iat": now(),
        });
        if let Some(token) = token {
            claims["ath"] = json!(access_token_verifier::dpop::proof::token_hash(token));
        }
        for (k, v) in patch.as_object().expect("object") {
            if v.is_null() {
                claims.as_object_mut().expect("object").remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        encode(&header, &claims, &self.encoding).expect("signing works")
    }

    /// [`Self::proof`] with `extra` members added to its JOSE header (signed over
    /// as they are): the same key, a different header text.
    pub fn proof_with_header(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        extra: Value,
    ) -> String {
        let proof = self.proof(method, url, token, json!({}));
        let payload = proof.split('.').nth(1).expect("payload").to_owned();
        let mut header = json!({
            "typ": "dpop+jwt",
            "alg": serde_json::to_value(self.alg).expect("alg"),
            "jwk": Jwk::from_encoding_key(&self.encoding, self.alg).expect("jwk"),
        });
        for (k, v) in extra.as_object().expect("object") {
            header[k] = v.clone();
        }
        let message = format!("{}.{payload}", b64(header.to_string().as_bytes()));
        let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &self.encoding, self.alg)
            .expect("signing works");
        format!("{message}.{signature}")
    }
}

/// The variable names in the first column (`` `NAME` ``) of the Markdown tables
/// under the heading `heading` (up to the next heading of the same or a higher
/// level). Panics when there is no such heading, so a renamed section fails loudly.
pub fn settings_in_table(markdown: &str, heading: &str) -> std::collections::BTreeSet<String> {
    let level = heading.chars().take_while(|c| *c == '#').count();
    let mut lines = markdown.lines().skip_while(|line| line.trim() != heading);
    assert!(lines.next().is_some(), "no {heading:?} section");
    lines
        .take_while(|line| {
            let hashes = line.chars().take_while(|c| *c == '#').count();
            hashes == 0 || hashes > level
        })
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(name, _)| name)
        .filter(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
        .map(str::to_owned)
        .collect()
}

/// The path of a test key's PEM file (`keys/<file>` in this crate).
pub fn key_path(file: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("keys")
        .join(file)
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    get_current_timestamp()
}

/// Waits until `done` holds, failing the test (not hanging it) after ten seconds.
pub async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "gave up waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Claims like an Auth0 access token for `issuer`, valid for ten minutes.
pub fn claims(issuer: &str) -> Value {
    json!({
        "iss": issuer,
        "sub": "auth0|test-user",
        "aud": [AUDIENCE, format!("{issuer}userinfo")],
        "iat": now(),
        "exp": now() + 600,
        "scope": "openid profile email",
        "azp": "test-client",
    })
}

/// Base64url without padding (for hand-made tokens).
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

struct IssuerState {
    issuer: String,
    discovery_issuer: Mutex<Option<String>>,
    keys: Mutex<Vec<Value>>,
    /// Replaces the JWKS answer: content type, and body (empty: the keys as JSON).
    jwks_answer: Mutex<(String, Vec<u8>)>,
    jwks_uri: Mutex<Option<String>>,
    jwks_fetches: AtomicUsize,
    /// How long the JWKS answer takes (a slow IdP).
    jwks_delay: Mutex<Duration>,
}

/// The issuer's HTTP server. Dropping it (or [`TestIssuer::stop`]) stops serving.
pub struct TestIssuer {
    /// Its issuer URL (`http://127.0.0.1:PORT/`), as tokens carry it in `iss`.
    pub issuer: String,
    state: Arc<IssuerState>,
    task: tokio::task::JoinHandle<()>,
}

impl TestIssuer {
    /// Starts serving discovery and a JWKS of `keys` on 127.0.0.1 (any port).
    pub async fn start(keys: &[&TestKey]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let issuer = format!("http://{}/", listener.local_addr().expect("addr"));
        let state = Arc::new(IssuerState {
            issuer: issuer.clone(),
            discovery_issuer: Mutex::new(None),
            keys: Mutex::new(keys.iter().map(|k| k.jwk.clone()).collect()),
            jwks_answer: Mutex::new(("application/json".into(), Vec::new())),
            jwks_uri: Mutex::new(None),
            jwks_fetches: AtomicUsize::new(0),
            jwks_delay: Mutex::new(Duration::ZERO),
        });
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/.well-known/jwks.json", get(jwks))
            .route("/redirect", get(redirect))
            .with_state(state.clone());
        // Its own accept loop rather than `axum::serve`: the connections live in a
        // JoinSet owned by this task, so stopping the issuer closes kept-alive
        // connections too (a stopped issuer must not answer anybody).
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let service = hyper_util::service::TowerToHyperService::new(router.clone());
                connections.spawn(async move {
                    let builder = hyper_util::server::conn::auto::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    );
                    let _ = builder
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
                // Reap the finished ones as we go.
                while connections.try_join_next().is_some() {}
            }
        });
        Self {
            issuer,
            state,
            task,
        }
    }

    /// Makes discovery name another issuer (a misconfigured or hostile IdP).
    pub fn set_discovery_issuer(&self, issuer: &str) {
        *self.state.discovery_issuer.lock().unwrap() = Some(issuer.to_owned());
    }

    /// Makes every JWKS answer take `delay` from now on (a slow IdP).
    pub fn set_jwks_delay(&self, delay: Duration) {
        *self.state.jwks_delay.lock().unwrap() = delay;
    }

    /// Publishes exactly these keys from now on (key rotation).
    pub fn set_keys(&self, keys: &[&TestKey]) {
        *self.state.keys.lock().unwrap() = keys.iter().map(|k| k.jwk.clone()).collect();
    }

    /// Publishes exactly these JWKs (malformed ones included).
    pub fn set_raw_keys(&self, keys: Vec<Value>) {
        *self.state.keys.lock().unwrap() = keys;
    }

    /// Answers the JWKS with this content type and body (an empty body: the keys).
    pub fn set_jwks_body(&self, content_type: &str, body: Vec<u8>) {
        *self.state.jwks_answer.lock().unwrap() = (content_type.to_owned(), body);
    }

    /// Answers the JWKS with this content type.
    pub fn set_jwks_content_type(&self, content_type: &str) {
        self.state.jwks_answer.lock().unwrap().0 = content_type.to_owned();
    }

    /// Makes discovery name this `jwks_uri`.
    pub fn set_jwks_uri(&self, uri: &str) {
        *self.state.jwks_uri.lock().unwrap() = Some(uri.to_owned());
    }

    /// How many times the JWKS was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    /// Stops serving: the listener and every open connection close.
    pub fn stop(&self) {
        self.task.abort();
    }

    /// A verifier's settings for this issuer and [`AUDIENCE`] (a shorter fetch
    /// timeout, so tests of a slow issuer end sooner).
    pub fn config(&self) -> VerifierConfig {
        VerifierConfig {
            jwks: JwksSettings {
                fetch_timeout: Duration::from_secs(2),
                ..JwksSettings::default()
            },
            ..VerifierConfig::new(&self.issuer, AUDIENCE)
        }
    }

    /// A verifier for this issuer, keys loaded (like the server after start-up).
    pub async fn verifier(&self) -> Arc<Verifier> {
        self.verifier_for(&self.config()).await
    }

    /// [`Self::verifier`] with a config of the test's own (based on [`Self::config`]).
    pub async fn verifier_for(&self, config: &VerifierConfig) -> Arc<Verifier> {
        let verifier = verifier_not_loaded_for(config);
        verifier.jwks().refresh().await.expect("keys load");
        verifier
    }

    /// A verifier that has not fetched anything yet.
    pub fn verifier_not_loaded(&self) -> Arc<Verifier> {
        verifier_not_loaded_for(&self.config())
    }
}

fn verifier_not_loaded_for(config: &VerifierConfig) -> Arc<Verifier> {
    {
        let jwks = Arc::new(
            JwksCache::new(config.issuer.clone(), config.jwks.clone()).expect("HTTP client builds"),
        );
        Arc::new(Verifier::new(config, jwks))
    }
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn discovery(State(state): State<Arc<IssuerState>>) -> Json<Value> {
    let issuer = state
        .discovery_issuer
        .lock()
        .unwrap()
        .clone()
        .unwrap_or_else(|| state.issuer.clone());
    Json(json!({
        "issuer": issuer,
        "jwks_uri": state
            .jwks_uri
            .lock()
            .unwrap()
            .clone()
            .unwrap_or_else(|| format!("{}.well-known/jwks.json", state.issuer)),
        "authorization_endpoint": format!("{}authorize", state.issuer),
    }))
}

async fn jwks(State(state): State<Arc<IssuerState>>) -> axum::response::Response {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let delay = *state.jwks_delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    let (content_type, body) = state.jwks_answer.lock().unwrap().clone();
    let body = if body.is_empty() {
        serde_json::to_vec(&json!({ "keys": *state.keys.lock().unwrap() })).unwrap()
    } else {
        body
    };
    ([(axum::http::header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn redirect(
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> axum::response::Redirect {
    axum::response::Redirect::temporary(&query["to"])
}
