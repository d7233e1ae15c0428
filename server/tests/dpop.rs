//! DPoP through the whole router (REST routes and server functions), with real
//! keys, real signed tokens bound by `cnf.jkt` and real proofs; the shared replay
//! store against a real `redis-server` on loopback (scripts/setup installs it).

#[path = "../../app/tests/support/mod.rs"]
mod support;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use app::auth::dpop::{Dpop, DpopMode, DpopSettings, ReplayStore, MEMORY_REPLAY_CAPACITY};
use app::auth::{JwksCache, Verifier};
use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use serde_json::{json, Value};
use support::{claims, TestIssuer, TestKey};
use tower::ServiceExt;

/// What the proofs name as the request's URL (no PUBLIC_URL: `http://` + Host).
const HOST: &str = "api.test.local";

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map_or("", |v| v.to_str().expect("ascii"))
    }
    /// The OAuth error code: REST answers `{"error": ...}`, server functions
    /// their typed `ApiError` (`{"Refused": {"error": ...}}`).
    fn error(&self) -> &str {
        self.body["error"]
            .as_str()
            .or(self.body["Refused"]["error"].as_str())
            .unwrap_or("")
    }
}

/// One server instance: its own verifier, replay store and nonce state.
struct Instance {
    app: Router,
    verifier: Arc<Verifier>,
}

impl Instance {
    async fn new(
        issuer: &TestIssuer,
        settings: DpopSettings,
        public_url: Option<&str>,
        redis: Option<&str>,
    ) -> Self {
        let config = issuer.config();
        let replay = match redis {
            Some(url) => ReplayStore::redis(url, settings.iat_window).expect("redis url"),
            None => ReplayStore::memory(MEMORY_REPLAY_CAPACITY, settings.iat_window),
        };
        let public_url = public_url.map(|u| url::Url::parse(u).expect("url"));
        let dpop = Dpop::new(settings, public_url.clone(), replay);
        let jwks = Arc::new(JwksCache::new(config.issuer.clone(), config.jwks.clone()).unwrap());
        jwks.refresh().await.expect("keys load");
        let verifier = Arc::new(Verifier::new(&config, jwks).with_dpop(dpop));
        let server_settings = server::settings::ServerSettings {
            public_url,
            ..Default::default()
        };
        let app = server::app(
            LeptosOptions::builder().output_name("auth0-leptos").build(),
            &config,
            &server_settings,
            verifier.clone(),
        );
        Self { app, verifier }
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }
}

/// `method path` with `Authorization` and any number of `DPoP` headers.
fn request(method: &str, path: &str, authorization: &str, proofs: &[&str]) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, HOST)
        .header(header::AUTHORIZATION, authorization)
        .header(header::ACCEPT, "application/json");
    if method == "POST" {
        request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    for proof in proofs {
        request = request.header("DPoP", *proof);
    }
    request.body(Body::empty()).unwrap()
}

/// `GET /api/private`, the route most tests call.
fn private(authorization: &str, proofs: &[&str]) -> Request<Body> {
    request("GET", "/api/private", authorization, proofs)
}

fn url(path: &str) -> String {
    format!("http://{HOST}{path}")
}

struct Fixture {
    issuer: TestIssuer,
    /// Signs the access tokens.
    issuer_key: TestKey,
    /// The browser's DPoP key (ES256, like WebCrypto's).
    client_key: TestKey,
}

impl Fixture {
    async fn new() -> Self {
        let issuer_key = TestKey::rsa_a();
        let issuer = TestIssuer::start(&[&issuer_key]).await;
        Self {
            issuer,
            issuer_key,
            client_key: TestKey::ec_p256(),
        }
    }

    fn token(&self, patch: Value) -> String {
        let mut c = claims(&self.issuer.issuer);
        c["cnf"] = json!({"jkt": self.client_key.thumbprint()});
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        self.issuer_key.sign(&c)
    }

    /// A token without `cnf`: an ordinary Bearer token.
    fn unbound_token(&self) -> String {
        self.issuer_key.sign(&claims(&self.issuer.issuer))
    }

    /// A fresh proof of the client's key for `method path`, bound to `token`.
    fn proof(&self, method: &str, path: &str, token: &str) -> String {
        self.client_key
            .proof(method, &url(path), Some(token), json!({}))
    }

    async fn instance(&self, settings: DpopSettings) -> Instance {
        Instance::new(&self.issuer, settings, None, None).await
    }
}

fn mode(mode: DpopMode) -> DpopSettings {
    DpopSettings {
        mode,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_bound_token_with_its_proof_works_on_rest_and_server_functions() {
    let f = Fixture::new().await;
    let api = f.instance(DpopSettings::default()).await;
    let token = f.token(json!({"permissions": ["read:messages"]}));
    let auth = format!("DPoP {token}");
    for (method, path) in [
        ("GET", "/api/private"),
        ("GET", "/api/private-scoped"),
        ("POST", "/api/ping_protected"),
        ("POST", "/api/ping_scoped"),
    ] {
        let proof = f
            .client_key
            .proof(method, &url(path), Some(&token), json!({}));
        let answer = api.send(request(method, path, &auth, &[&proof])).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
        assert!(answer.body["message"]
            .as_str()
            .unwrap()
            .contains("private endpoint"));

        // The same proof again: a replay.
        let again = api.send(request(method, path, &auth, &[&proof])).await;
        assert_eq!(again.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(again.error(), "invalid_dpop_proof");
        assert!(again.header("www-authenticate").contains(
            r#"DPoP realm="api", algs="ES256 ES384 EdDSA RS256 PS256", error="invalid_dpop_proof""#
        ));
    }
}

#[tokio::test]
async fn every_wrong_proof_is_refused_with_invalid_dpop_proof() {
    let f = Fixture::new().await;
    let api = f.instance(DpopSettings::default()).await;
    let token = f.token(json!({}));
    let other_token = f.token(json!({"sub": "auth0|someone-else"}));
    let auth = format!("DPoP {token}");
    let path = "/api/private";
    let proof = |patch: Value| f.client_key.proof("GET", &url(path), Some(&token), patch);
    let now = support::now();
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("no proof", vec![]),
        ("two proofs", vec![proof(json!({})), proof(json!({}))]),
        ("stale iat", vec![proof(json!({"iat": now - 120}))]),
        ("future iat", vec![proof(json!({"iat": now + 120}))]),
        ("other method", vec![proof(json!({"htm": "POST"}))]),
        ("other url", vec![proof(json!({"htu": url("/api/public")}))]),
        (
            "other host",
            vec![proof(json!({"htu": "http://evil.example/api/private"}))],
        ),
        (
            "ath of another token",
            vec![f
                .client_key
                .proof("GET", &url(path), Some(&other_token), json!({}))],
        ),
        ("no ath", vec![proof(json!({"ath": null}))]),
        ("no jti", vec![proof(json!({"jti": null}))]),
        (
            "a key that does not match cnf.jkt",
            vec![TestKey::ec_p384().proof("GET", &url(path), Some(&token), json!({}))],
        ),
        ("garbage", vec!["not.a.proof".into()]),
    ];
    for (what, proofs) in cases {
        let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
        let answer = api.send(request("GET", path, &auth, &proofs)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(answer.error(), "invalid_dpop_proof", "{what}");
        let challenge = answer.header("www-authenticate");
        assert!(
            challenge.starts_with(r#"Bearer realm="api", DPoP realm="api""#),
            "{what}: {challenge}"
        );
        assert!(
            !answer.body.to_string().contains(&token),
            "the token is never echoed"
        );
    }
}

#[tokio::test]
async fn a_bound_token_sent_as_bearer_is_refused_and_an_unbound_one_as_dpop_too() {
    let f = Fixture::new().await;
    let api = f.instance(DpopSettings::default()).await;
    let bound = f.token(json!({}));
    let answer = api.send(private(&format!("Bearer {bound}"), &[])).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.error(), "invalid_token");
    assert!(answer.body["error_description"]
        .as_str()
        .unwrap()
        .contains("DPoP-bound"));
    assert!(answer
        .header("www-authenticate")
        .starts_with(r#"Bearer realm="api", error="invalid_token""#));
    // Even with a valid proof alongside: the Bearer scheme does not bind.
    let proof = f.proof("GET", "/api/private", &bound);
    let answer = api
        .send(private(&format!("Bearer {bound}"), &[&proof]))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);

    let unbound = f.unbound_token();
    let proof = f.proof("GET", "/api/private", &unbound);
    let answer = api
        .send(private(&format!("DPoP {unbound}"), &[&proof]))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.error(), "invalid_token");
    // Unbound tokens still work as Bearer in the default mode.
    let answer = api.send(private(&format!("Bearer {unbound}"), &[])).await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn modes_off_and_required_offer_one_scheme() {
    let f = Fixture::new().await;
    let bound = f.token(json!({}));
    let proof = || f.proof("GET", "/api/private", &bound);

    let off = f.instance(mode(DpopMode::Off)).await;
    let answer = off
        .send(private(&format!("DPoP {bound}"), &[&proof()]))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.header("www-authenticate"), r#"Bearer realm="api""#);

    let required = f.instance(mode(DpopMode::Required)).await;
    let unbound = f.unbound_token();
    let answer = required
        .send(private(&format!("Bearer {unbound}"), &[]))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.header("www-authenticate"),
        r#"DPoP realm="api", algs="ES256 ES384 EdDSA RS256 PS256""#
    );
    let answer = required
        .send(private(&format!("DPoP {bound}"), &[&proof()]))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    // A 403 in the scheme used.
    let answer = required
        .send(request(
            "GET",
            "/api/private-scoped",
            &format!("DPoP {bound}"),
            &[&f.proof("GET", "/api/private-scoped", &bound)],
        ))
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.header("www-authenticate").starts_with(
        r#"DPoP realm="api", algs="ES256 ES384 EdDSA RS256 PS256", error="insufficient_scope""#
    ));
}

#[tokio::test]
async fn behind_a_proxy_htu_is_checked_against_the_public_url() {
    let f = Fixture::new().await;
    let api = Instance::new(
        &f.issuer,
        DpopSettings::default(),
        Some("https://app.example.com"),
        None,
    )
    .await;
    let token = f.token(json!({}));
    let auth = format!("DPoP {token}");
    // The proof names the internal address the request reached: refused.
    let internal = f.proof("GET", "/api/private", &token);
    let answer = api.send(private(&auth, &[&internal])).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.error(), "invalid_dpop_proof");
    let public = f.client_key.proof(
        "GET",
        "https://app.example.com/api/private",
        Some(&token),
        json!({}),
    );
    let answer = api.send(private(&auth, &[&public])).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

#[tokio::test]
async fn with_nonces_a_proof_without_one_gets_use_dpop_nonce_then_succeeds() {
    let f = Fixture::new().await;
    let api = f
        .instance(DpopSettings {
            nonce_period: Some(Duration::from_secs(300)),
            ..Default::default()
        })
        .await;
    let token = f.token(json!({}));
    let auth = format!("DPoP {token}");
    let path = "/api/ping_protected";
    let first = f
        .client_key
        .proof("POST", &url(path), Some(&token), json!({}));
    let answer = api.send(request("POST", path, &auth, &[&first])).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.error(), "use_dpop_nonce");
    assert!(answer
        .header("www-authenticate")
        .contains(r#"error="use_dpop_nonce""#));
    let nonce = answer.header("dpop-nonce").to_owned();
    assert!(!nonce.is_empty());

    let forged = f
        .client_key
        .proof("POST", &url(path), Some(&token), json!({"nonce": "1.AAAA"}));
    let answer = api.send(request("POST", path, &auth, &[&forged])).await;
    assert_eq!(answer.error(), "use_dpop_nonce");

    let retry = f
        .client_key
        .proof("POST", &url(path), Some(&token), json!({"nonce": nonce}));
    let answer = api.send(request("POST", path, &auth, &[&retry])).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

/// A `redis-server` on a free loopback port, stopped on drop.
struct RedisServer {
    child: Child,
    url: String,
}

impl RedisServer {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server runs (scripts/setup installs it)");
        let server = Self {
            child,
            url: format!("redis://127.0.0.1:{port}/"),
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start on port {port}");
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test]
async fn two_servers_sharing_redis_refuse_each_others_replays_and_share_nonces() {
    let f = Fixture::new().await;
    let mut redis = RedisServer::start();
    let settings = DpopSettings {
        nonce_period: Some(Duration::from_secs(300)),
        ..Default::default()
    };
    let a = Instance::new(&f.issuer, settings.clone(), None, Some(&redis.url)).await;
    let b = Instance::new(&f.issuer, settings, None, Some(&redis.url)).await;
    let token = f.token(json!({}));
    let auth = format!("DPoP {token}");
    let path = "/api/private";

    // A nonce from one server is good at the other (one secret, kept in Redis).
    let probe = f
        .client_key
        .proof("GET", &url(path), Some(&token), json!({}));
    let nonce = a
        .send(request("GET", path, &auth, &[&probe]))
        .await
        .header("dpop-nonce")
        .to_owned();
    let proof = f
        .client_key
        .proof("GET", &url(path), Some(&token), json!({"nonce": nonce}));
    let answer = b.send(request("GET", path, &auth, &[&proof])).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    // The proof B accepted, replayed to A: refused.
    let replay = a.send(request("GET", path, &auth, &[&proof])).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert_eq!(replay.error(), "invalid_dpop_proof");
    assert!(replay.body["error_description"]
        .as_str()
        .unwrap()
        .contains("used before"));
    assert!(a.verifier.dpop().is_ready().await);
    let ready = a
        .send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(ready.status, StatusCode::OK);

    // Redis down: DPoP requests fail closed with a clear 503, /readyz says why;
    // Bearer requests still work.
    redis.stop();
    let proof = f
        .client_key
        .proof("GET", &url(path), Some(&token), json!({"nonce": nonce}));
    let answer = a.send(request("GET", path, &auth, &[&proof])).await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.body
    );
    assert_eq!(answer.error(), "temporarily_unavailable");
    assert_eq!(answer.header("retry-after"), "5");
    let ready = a
        .send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.body["status"].as_str().unwrap().contains("Redis"));
    let unbound = f.unbound_token();
    let answer = a
        .send(request("GET", path, &format!("Bearer {unbound}"), &[]))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn a_server_started_while_redis_is_down_refuses_dpop_until_it_is_up() {
    let f = Fixture::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let api = Instance::new(
        &f.issuer,
        DpopSettings::default(),
        None,
        Some(&format!("redis://127.0.0.1:{port}/")),
    )
    .await;
    let token = f.token(json!({}));
    let proof = f.proof("GET", "/api/private", &token);
    let answer = api.send(private(&format!("DPoP {token}"), &[&proof])).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!api.verifier.dpop().is_ready().await);
}
