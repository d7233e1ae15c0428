//! DPoP through the whole router (REST routes and server functions), with real
//! keys, real signed tokens bound by `cnf.jkt` and real proofs; the shared replay
//! store against a real `redis-server` on loopback (scripts/setup installs it).

use std::sync::Arc;
use std::time::Duration;

use access_token_verifier::dpop::{DpopMode, DpopSettings};
use access_token_verifier::{Verifier, VerifierConfig};
use app::config::AppConfig;
use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use serde_json::{json, Value};
use test_issuer::redis_server::RedisServer;
use test_issuer::{claims, TestIssuer, TestKey};
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
        // Built as the server builds it (`Verifier::from_config`).
        let public_url = public_url.map(|u| url::Url::parse(u).expect("url"));
        let config = VerifierConfig {
            dpop: settings,
            public_url: public_url.clone(),
            redis_url: redis.map(str::to_owned),
            ..issuer.config()
        };
        let verifier = Arc::new(Verifier::from_config(&config).expect("verifier"));
        verifier.jwks().refresh().await.expect("keys load");
        let server_settings = server::settings::ServerSettings {
            public_url,
            ..Default::default()
        };
        let app = server::app(
            LeptosOptions::builder().output_name("auth0-leptos").build(),
            &AppConfig::new(config),
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
    let now = test_issuer::now();
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

#[tokio::test]
async fn without_public_url_a_crafted_host_is_a_bad_request_not_a_url_of_the_clients_choosing() {
    let f = Fixture::new().await;
    let api = f.instance(DpopSettings::default()).await;
    let token = f.token(json!({}));
    let auth = format!("DPoP {token}");
    // The Host header and the proof's htu name the same made-up URL.
    for (host, htu) in [
        ("other.example/x?", "http://other.example/x"),
        ("other.example/x#", "http://other.example/x"),
        ("a b", "x"),
        ("user@other.example", "http://other.example/api/private"),
    ] {
        let proof = f.client_key.proof("GET", htu, Some(&token), json!({}));
        let mut request = private(&auth, &[&proof]);
        request
            .headers_mut()
            .insert(header::HOST, host.parse().unwrap());
        let answer = api.send(request).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "Host {host:?}: {}",
            answer.body
        );
        assert_eq!(answer.error(), "invalid_request");
    }
    // A proof whose htu does not parse never matches, whatever the request.
    for htu in ["x", "", "http://", "not a url"] {
        let proof = f.client_key.proof("GET", htu, Some(&token), json!({}));
        let answer = api.send(private(&auth, &[&proof])).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "htu {htu:?}");
        assert_eq!(answer.error(), "invalid_dpop_proof");
    }
    // And the ordinary request still works.
    let proof = f.proof("GET", "/api/private", &token);
    assert_eq!(
        api.send(private(&auth, &[&proof])).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_confirmation_this_api_cannot_check_is_refused_never_taken_as_bearer() {
    let f = Fixture::new().await;
    let api = f.instance(DpopSettings::default()).await;
    let thumbprint = f.client_key.thumbprint();
    for cnf in [
        json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
        json!({"jwk": f.client_key.jwk}),
        json!({"jkt": thumbprint, "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
        json!({"jkt": 7}),
        json!("bound"),
        json!({}),
    ] {
        let token = f.token(json!({ "cnf": cnf }));
        let answer = api.send(private(&format!("Bearer {token}"), &[])).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "Bearer, cnf {cnf}");
        assert_eq!(answer.error(), "invalid_token");
        let proof = f.proof("GET", "/api/private", &token);
        let answer = api.send(private(&format!("DPoP {token}"), &[&proof])).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "DPoP, cnf {cnf}");
        assert_eq!(answer.error(), "invalid_token");
    }
}

#[tokio::test]
async fn one_client_cannot_grow_the_proof_key_memory() {
    let f = Fixture::new().await;
    let api = f
        .instance(DpopSettings {
            proofs_per_key_per_minute: 1_000_000,
            ..Default::default()
        })
        .await;
    let token = f.token(json!({}));
    let auth = format!("DPoP {token}");
    let keys = api.verifier.dpop().proof_keys();
    let path = "/api/private";
    // Another key than the token's: refused before its signature is checked, and
    // its header is not remembered.
    let stranger = TestKey::ec_p384();
    for _ in 0..20 {
        let proof = stranger.proof("GET", &url(path), Some(&token), json!({}));
        let answer = api.send(private(&auth, &[&proof])).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert!(answer.body["error_description"]
            .as_str()
            .unwrap()
            .contains("not the one the token is bound to"));
    }
    assert_eq!(keys.weighted_size(), 0);
    // The token's own key, with headers made distinct by a padding member: each
    // is a new header text. The memory they take stays within the cache's budget.
    let padding = "p".repeat(2 * 1024);
    for i in 0..4_000 {
        let proof = f.client_key.proof_with_header(
            "GET",
            &url(path),
            Some(&token),
            json!({ "pad": format!("{i}{padding}") }),
        );
        let answer = api.send(private(&auth, &[&proof])).await;
        assert_eq!(answer.status, StatusCode::OK, "{i}: {}", answer.body);
    }
    // What the remembered headers take, counted from what is kept (not from the
    // cache's own estimate).
    let header_len = f
        .client_key
        .proof_with_header("GET", &url(path), Some(&token), json!({ "pad": padding }))
        .split('.')
        .next()
        .unwrap()
        .len() as u64;
    let held = keys.entry_count() * header_len;
    assert!(
        held <= access_token_verifier::dpop::PROOF_KEY_CACHE_BYTES,
        "the proof-key cache holds {} headers of {header_len} bytes",
        keys.entry_count()
    );
    // Past the size cap a proof is refused outright.
    let proof = f.client_key.proof_with_header(
        "GET",
        &url(path),
        Some(&token),
        json!({ "pad": "p".repeat(3 * 1024) }),
    );
    let answer = api.send(private(&auth, &[&proof])).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.error(), "invalid_dpop_proof");
}

#[tokio::test]
async fn one_key_over_its_quota_gets_429_and_others_go_on() {
    let f = Fixture::new().await;
    let api = f
        .instance(DpopSettings {
            proofs_per_key_per_minute: 5,
            ..Default::default()
        })
        .await;
    let token = f.token(json!({}));
    let auth = format!("DPoP {token}");
    // 5 a minute over a 120 s generation: 10 proofs, then refused.
    let mut answers = Vec::new();
    for _ in 0..11 {
        let proof = f.proof("GET", "/api/private", &token);
        answers.push(api.send(private(&auth, &[&proof])).await);
    }
    let refused = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .collect::<Vec<_>>();
    // A generation boundary inside the loop resets the count: at most one.
    assert!(
        refused.len() <= 1,
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    let proof = f.proof("GET", "/api/private", &token);
    let answer = api.send(private(&auth, &[&proof])).await;
    let over = if refused.is_empty() {
        &answer
    } else {
        refused[0]
    };
    assert_eq!(over.status, StatusCode::TOO_MANY_REQUESTS, "{}", over.body);
    assert_eq!(over.error(), "rate_limited");
    let retry_after: u64 = over.header("retry-after").parse().unwrap();
    assert!((1..=120).contains(&retry_after), "{retry_after}");
    // Another client (its own key and token) is not affected.
    let other_key = TestKey::ec_p384();
    let mut c = claims(&f.issuer.issuer);
    c["cnf"] = json!({"jkt": other_key.thumbprint()});
    let other_token = f.issuer_key.sign(&c);
    let proof = other_key.proof("GET", &url("/api/private"), Some(&other_token), json!({}));
    let answer = api
        .send(private(&format!("DPoP {other_token}"), &[&proof]))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

#[tokio::test]
async fn after_a_redis_restart_both_replicas_serve_dpop_again() {
    let f = Fixture::new().await;
    let mut redis = RedisServer::start();
    let port = redis.port;
    let settings = DpopSettings {
        nonce_period: Some(Duration::from_secs(300)),
        ..Default::default()
    };
    let a = Instance::new(&f.issuer, settings.clone(), None, Some(&redis.url)).await;
    let b = Instance::new(&f.issuer, settings, None, Some(&redis.url)).await;
    let token = f.token(json!({}));
    // Each replica's answer to one fresh proof (with the nonce it asks for).
    async fn call(api: &Instance, f: &Fixture, token: &str) -> Answer {
        let (path, auth) = ("/api/private", format!("DPoP {token}"));
        let probe = f
            .client_key
            .proof("GET", &url(path), Some(token), json!({}));
        let first = api.send(request("GET", path, &auth, &[&probe])).await;
        if first.status != StatusCode::UNAUTHORIZED {
            return first;
        }
        let nonce = first.header("dpop-nonce").to_owned();
        let proof = f
            .client_key
            .proof("GET", &url(path), Some(token), json!({"nonce": nonce}));
        api.send(request("GET", path, &auth, &[&proof])).await
    }
    async fn ready(api: &Instance) -> StatusCode {
        api.send(Request::get("/readyz").body(Body::empty()).unwrap())
            .await
            .status
    }
    for api in [&a, &b] {
        assert_eq!(call(api, &f, &token).await.status, StatusCode::OK);
    }
    redis.stop();
    for api in [&a, &b] {
        assert_eq!(
            call(api, &f, &token).await.status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(ready(api).await, StatusCode::SERVICE_UNAVAILABLE);
    }
    // Back on the same address (empty: its data went with it): both replicas
    // reconnect on their own, within a bounded wait.
    let _redis = RedisServer::start_on(port);
    for (name, api) in [("a", &a), ("b", &b)] {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let answer = call(api, &f, &token).await;
            if answer.status == StatusCode::OK && ready(api).await == StatusCode::OK {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "replica {name} still answers {} after Redis came back: {}",
                answer.status,
                answer.body
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[tokio::test]
async fn the_per_key_quota_is_shared_by_replicas_through_redis() {
    let f = Fixture::new().await;
    let redis = RedisServer::start();
    // 5 a minute over a 120 s generation: 10 proofs per key per generation.
    let settings = DpopSettings {
        proofs_per_key_per_minute: 5,
        ..Default::default()
    };
    let a = Instance::new(&f.issuer, settings.clone(), None, Some(&redis.url)).await;
    let b = Instance::new(&f.issuer, settings, None, Some(&redis.url)).await;
    let token = f.token(json!({}));
    let auth = format!("DPoP {token}");
    // Not across a generation boundary (it would reset the count mid-test).
    let into_generation = test_issuer::now() % 120;
    if into_generation > 115 {
        tokio::time::sleep(Duration::from_secs(121 - into_generation)).await;
    }
    // 19 calls, alternating: 10 through one replica, 9 through the other. Counted
    // per replica, none would be refused; counted together, the 11th and later are.
    let mut statuses = Vec::new();
    for i in 0..19 {
        let api = if i % 2 == 0 { &a } else { &b };
        let proof = f.proof("GET", "/api/private", &token);
        let answer = api.send(private(&auth, &[&proof])).await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(answer.error(), "rate_limited");
            assert!(!answer.header("retry-after").is_empty());
        }
        statuses.push(answer.status.as_u16());
    }
    assert_eq!(statuses[..10], [200; 10], "{statuses:?}");
    assert_eq!(statuses[10..], [429; 9], "{statuses:?}");
}
