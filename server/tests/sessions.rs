//! `server` token storage: the session store (embedded file and a real
//! `redis-server`), the key ring at rest, both lifetimes, single-flight renewal
//! against a token endpoint over real HTTP (in one process and across two
//! replicas sharing Redis), `invalid_grant` and 5xx, and through the router:
//! the page rendered for the session, its token for the server functions, and
//! cross-site refusals.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::config::AppConfig;
use app::login::TokenStorage;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use serde_json::{json, Map, Value};
use server::session::oidc::{OidcClient, TokenResponse};
use server::session::sessions::{now, SessionError, SessionRecord};
use server::session::store::SessionStore;
use server::session::{ClientAuth, KeyRing, Sessions};
use test_issuer::redis_server::RedisServer;
use test_issuer::{claims, TestIssuer, TestKey};
use tower::ServiceExt;

const KEY_A: &str = "session-key-a-for-tests-0123456789abcdef";
const KEY_B: &str = "session-key-b-for-tests-0123456789abcdef";

/// A token endpoint over real HTTP: refresh grants with rotation (a refresh
/// token works once; a reused one is `invalid_grant`), counted; it can be told
/// to fail with 503 a number of times first.
#[derive(Default)]
struct FakeIdp {
    refresh_grants: AtomicUsize,
    fail_next: AtomicUsize,
    valid: Mutex<HashSet<String>>,
    revoked: Mutex<Vec<String>>,
    issued: AtomicUsize,
    /// How the client authenticated, per token request: "post" or "basic".
    auth_methods: Mutex<Vec<&'static str>>,
    /// Makes the access tokens refresh grants issue (default: `access-N`), e.g.
    /// real signed ones the router's verifier accepts.
    mint: Mutex<Option<Box<dyn Fn() -> String + Send>>>,
}

/// An (unsigned) ID token as the fake IdP issues it: the code it was given is
/// the login's nonce (the test reads it from the authorize URL).
fn id_token(issuer: &str, nonce: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let claims = json!({
        "iss": issuer, "aud": "web-client", "sub": "auth0|alice", "name": "Alice Reader",
        "nonce": nonce, "iat": now() as u64, "exp": now() as u64 + 600,
    });
    format!(
        "{}.{}.sig",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

struct Idp {
    state: Arc<FakeIdp>,
    issuer: String,
}

async fn discovery(State(issuer): State<String>) -> Json<Value> {
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}authorize"),
        "token_endpoint": format!("{issuer}token"),
        "revocation_endpoint": format!("{issuer}revoke"),
        "end_session_endpoint": format!("{issuer}logout"),
    }))
}

/// The fake IdP's token endpoint.
async fn token(
    State((idp, issuer)): State<(Arc<FakeIdp>, String)>,
    headers: axum::http::HeaderMap,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> axum::response::Response {
    // Exactly one of: `client_secret` in the form, or Basic web-client:web-secret.
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some("Basic d2ViLWNsaWVudDp3ZWItc2VjcmV0");
    let post = form.get("client_secret").map(String::as_str) == Some("web-secret");
    if basic == post {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    idp.auth_methods
        .lock()
        .unwrap()
        .push(if basic { "basic" } else { "post" });
    if form.get("grant_type").map(String::as_str) == Some("authorization_code") {
        let n = idp.issued.fetch_add(1, Ordering::SeqCst);
        return Json(json!({
            "access_token": format!("access-code-{n}"),
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": format!("refresh-code-{n}"),
            "id_token": id_token(&issuer, &form["code"]),
        }))
        .into_response();
    }
    if idp.fail_next.load(Ordering::SeqCst) > 0 {
        idp.fail_next.fetch_sub(1, Ordering::SeqCst);
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    idp.refresh_grants.fetch_add(1, Ordering::SeqCst);
    // Slow enough for concurrent callers to pile up behind it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let used = form.get("refresh_token").cloned().unwrap_or_default();
    if !idp.valid.lock().unwrap().remove(&used) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    }
    let n = idp.issued.fetch_add(1, Ordering::SeqCst);
    let refresh = format!("refresh-{n}");
    idp.valid.lock().unwrap().insert(refresh.clone());
    let minted = idp.mint.lock().unwrap().as_ref().map(|mint| mint());
    Json(json!({
        "access_token": minted.unwrap_or_else(|| format!("access-{n}")),
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": refresh,
    }))
    .into_response()
}

async fn revoke(
    State((idp, _)): State<(Arc<FakeIdp>, String)>,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> StatusCode {
    idp.revoked.lock().unwrap().push(form["token"].clone());
    StatusCode::OK
}

impl Idp {
    async fn start() -> Self {
        let state = Arc::new(FakeIdp::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}/", listener.local_addr().unwrap());
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .with_state(issuer.clone())
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .with_state((state.clone(), issuer.clone()));
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { state, issuer }
    }

    fn grants(&self) -> usize {
        self.state.refresh_grants.load(Ordering::SeqCst)
    }

    /// A refresh token the IdP will accept once.
    fn refresh_token(&self, name: &str) -> String {
        self.state.valid.lock().unwrap().insert(name.to_owned());
        name.to_owned()
    }
}

fn public_config(issuer: &str) -> app::login::PublicAuthConfig {
    app::login::PublicAuthConfig {
        issuer: issuer.to_owned(),
        client_id: "web-client".into(),
        audience: "https://api".into(),
        scope: "openid profile email offline_access".into(),
        storage: TokenStorage::Server,
        use_dpop: false,
    }
}

fn sessions(
    store: SessionStore,
    keys: &str,
    issuer: &str,
    idle: Duration,
    max_age: Duration,
) -> Sessions {
    sessions_with(store, keys, issuer, idle, max_age, ClientAuth::Post)
}

fn sessions_with(
    store: SessionStore,
    keys: &str,
    issuer: &str,
    idle: Duration,
    max_age: Duration,
    auth: ClientAuth,
) -> Sessions {
    let oidc = OidcClient::new(
        public_config(issuer),
        Some(server::session::Secret::new("web-secret".into())),
        auth,
    );
    Sessions::new(
        store,
        KeyRing::parse(keys).unwrap(),
        oidc,
        None,
        idle,
        max_age,
    )
}

fn day() -> Duration {
    Duration::from_secs(24 * 3600)
}

/// A session as a login would leave it, its access token expiring in `expires_in` seconds.
fn record(access_token: &str, expires_in: f64, refresh_token: Option<String>) -> SessionRecord {
    let mut claims = Map::new();
    claims.insert("sub".into(), json!("auth0|alice"));
    claims.insert("name".into(), json!("Alice Reader"));
    let mut record = SessionRecord::from_tokens(
        &TokenResponse {
            access_token: access_token.into(),
            token_type: Some("Bearer".into()),
            expires_in: Some(expires_in.max(1.0)),
            refresh_token,
            id_token: None,
        },
        claims,
        now(),
    );
    if expires_in <= 0.0 {
        record.expires_at = now() + expires_in;
        record.renew_at = record.expires_at;
    }
    record
}

/// A new session whose access token has expired, renewable with `refresh_token`.
async fn expired_session(sessions: &Sessions, refresh_token: Option<String>) -> String {
    let record = record("expired-access", -5.0, refresh_token);
    sessions.create(&record).await.unwrap()
}

/// Sessions in a fresh file of their own, keyed with `KEY_A`, a day's lifetimes.
fn file_sessions(name: &str, issuer: &str) -> Sessions {
    let store = SessionStore::open_file(&temp_file(name)).unwrap();
    sessions(store, KEY_A, issuer, day(), day())
}

fn temp_file(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sessions-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("sessions.redb")
}

#[tokio::test]
async fn ten_concurrent_calls_with_an_expired_token_make_one_refresh_grant() {
    let idp = Idp::start().await;
    let sessions = Arc::new(file_sessions("single-flight", &idp.issuer));
    let id = expired_session(&sessions, Some(idp.refresh_token("first-refresh"))).await;
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let sessions = sessions.clone();
            let id = id.clone();
            tokio::spawn(async move { sessions.access_token(&id).await })
        })
        .collect();
    let mut tokens = HashSet::new();
    for call in calls {
        tokens.insert(call.await.unwrap().expect("every call gets a token"));
    }
    assert_eq!(tokens, HashSet::from(["access-0".to_owned()]));
    assert_eq!(idp.grants(), 1, "one refresh grant for ten calls");
    // The rotated refresh token is what the session holds now.
    let stored = sessions.read(&id).await.unwrap().unwrap();
    assert_eq!(stored.refresh_token.as_deref(), Some("refresh-0"));
}

#[tokio::test]
async fn two_replicas_sharing_redis_renew_once_and_share_the_session() {
    let redis = RedisServer::start();
    let idp = Idp::start().await;
    let replica = || {
        Arc::new(sessions(
            SessionStore::redis(&redis.url).unwrap(),
            KEY_A,
            &idp.issuer,
            day(),
            day(),
        ))
    };
    let (a, b) = (replica(), replica());
    let id = expired_session(&a, Some(idp.refresh_token("first-refresh"))).await;
    assert!(
        b.read(&id).await.unwrap().is_some(),
        "B sees the session A created"
    );
    let calls: Vec<_> = (0..10)
        .map(|i| {
            let sessions = if i % 2 == 0 { a.clone() } else { b.clone() };
            let id = id.clone();
            tokio::spawn(async move { sessions.access_token(&id).await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), "access-0");
    }
    assert_eq!(idp.grants(), 1, "one refresh grant across both replicas");
    // Logout on B ends it for A.
    assert!(b.end(&id).await.unwrap().is_some());
    assert!(a.read(&id).await.unwrap().is_none());
    assert!(matches!(
        a.access_token(&id).await,
        Err(SessionError::Ended(_))
    ));
}

#[tokio::test]
async fn invalid_grant_ends_the_session_and_a_5xx_is_retried() {
    let idp = Idp::start().await;
    let sessions = file_sessions("grant-errors", &idp.issuer);
    // Two 503s, then an answer: retried, the session stays.
    idp.state.fail_next.store(2, Ordering::SeqCst);
    let id = expired_session(&sessions, Some(idp.refresh_token("good"))).await;
    assert_eq!(sessions.access_token(&id).await.unwrap(), "access-0");

    // A refresh token the IdP does not know: invalid_grant, the session ends.
    let id = expired_session(&sessions, Some("unknown-refresh".into())).await;
    match sessions.access_token(&id).await {
        Err(SessionError::Ended(message)) => {
            assert!(message.contains("invalid_grant"), "{message}")
        }
        other => panic!("expected the session to end, got {other:?}"),
    }
    assert!(sessions.read(&id).await.unwrap().is_none());

    // The IdP down for longer than the retries: unavailable, the session stays.
    idp.state.fail_next.store(10, Ordering::SeqCst);
    let id = expired_session(&sessions, Some(idp.refresh_token("kept"))).await;
    assert!(matches!(
        sessions.access_token(&id).await,
        Err(SessionError::Unavailable(_))
    ));
    assert!(sessions.read(&id).await.unwrap().is_some());
}

#[tokio::test]
async fn idle_and_absolute_lifetimes_end_sessions() {
    let file = temp_file("lifetimes");
    let idle = sessions(
        SessionStore::open_file(&file).unwrap(),
        KEY_A,
        "http://127.0.0.1:9/",
        Duration::from_millis(1500),
        day(),
    );
    let id = idle.create(&record("a", 3600.0, None)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        idle.read(&id).await.unwrap().is_some(),
        "used within the idle timeout"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // 1.8 s after the login, past the first 1.5 s: the use above rolled it on.
    assert!(
        idle.read(&id).await.unwrap().is_some(),
        "rolling: still live"
    );
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert!(
        idle.read(&id).await.unwrap().is_none(),
        "unused for longer than the idle timeout"
    );
    drop(idle);

    let absolute = sessions(
        SessionStore::open_file(&temp_file("absolute")).unwrap(),
        KEY_A,
        "http://127.0.0.1:9/",
        day(),
        Duration::from_secs(1),
    );
    let mut old = record("a", 3600.0, None);
    old.created_at = now() - 2.0;
    let id = absolute.create(&old).await.unwrap();
    assert!(
        absolute.read(&id).await.unwrap().is_none(),
        "past the absolute lifetime"
    );
}

#[tokio::test]
async fn the_file_store_keeps_sessions_across_restarts_and_old_keys_still_open_them() {
    let file = temp_file("restart");
    let first = sessions(
        SessionStore::open_file(&file).unwrap(),
        KEY_A,
        "http://127.0.0.1:9/",
        day(),
        day(),
    );
    let id = first
        .create(&record("kept-access", 3600.0, None))
        .await
        .unwrap();
    // Another process cannot open the file while this one has it.
    assert!(SessionStore::open_file(&file).is_err());
    drop(first);

    // Restarted with a new key first and the old one still in the ring.
    let rotated = sessions(
        SessionStore::open_file(&file).unwrap(),
        &format!("{KEY_B},{KEY_A}"),
        "http://127.0.0.1:9/",
        day(),
        day(),
    );
    let record = rotated.read(&id).await.unwrap().expect("still signed in");
    assert_eq!(record.access_token, "kept-access");
    drop(rotated);

    // Restarted with only an unknown key: signed out, not an error.
    let unknown = sessions(
        SessionStore::open_file(&file).unwrap(),
        KEY_B,
        "http://127.0.0.1:9/",
        day(),
        day(),
    );
    assert!(unknown.read(&id).await.unwrap().is_none());

    // At rest, the file holds neither the id nor the token.
    drop(unknown);
    let bytes = std::fs::read(&file).unwrap();
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(!contains("kept-access") && !contains(&id));
}

#[tokio::test]
async fn the_redis_store_expires_replaces_only_live_entries_and_reports_an_outage() {
    let mut redis = RedisServer::start();
    let store = SessionStore::redis(&redis.url).unwrap();
    store
        .insert("k", b"v1".to_vec(), Duration::from_secs(60))
        .await
        .unwrap();
    let entry = store.load("k").await.unwrap().unwrap();
    assert_eq!(entry.value, b"v1");
    assert!(
        entry.expires_in <= Duration::from_secs(60) && entry.expires_in > Duration::from_secs(50)
    );
    assert!(store
        .replace("k", b"v2".to_vec(), Duration::from_secs(60))
        .await
        .unwrap());
    store.delete("k").await.unwrap();
    assert!(!store
        .replace("k", b"v3".to_vec(), Duration::from_secs(60))
        .await
        .unwrap());
    assert!(
        store.load("k").await.unwrap().is_none(),
        "a renewal after logout does not revive it"
    );
    store
        .insert("short", b"v".to_vec(), Duration::from_millis(300))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(store.load("short").await.unwrap().is_none());
    // One lock holder at a time.
    let lock = store
        .try_lock("k", Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert!(store
        .try_lock("k", Duration::from_secs(5))
        .await
        .unwrap()
        .is_none());
    store.unlock(lock).await;
    assert!(store
        .try_lock("k", Duration::from_secs(5))
        .await
        .unwrap()
        .is_some());
    redis.stop();
    assert!(
        store.load("k").await.is_err(),
        "Redis down is an error, not 'no session'"
    );
}

/// The router in server mode, with a real issuer for the verifier.
struct Fixture {
    app: Router,
    sessions: Arc<Sessions>,
    issuer: TestIssuer,
    key: TestKey,
    idp: Idp,
}

impl Fixture {
    async fn new() -> Self {
        let file = temp_file(&format!("router-{}", rand_suffix()));
        Self::with_store(SessionStore::open_file(&file).unwrap()).await
    }

    async fn with_store(store: SessionStore) -> Self {
        let key = TestKey::rsa_a();
        let issuer = TestIssuer::start(&[&key]).await;
        let idp = Idp::start().await;
        let config = AppConfig {
            client_id: Some("web-client".into()),
            token_storage: TokenStorage::Server,
            ..AppConfig::new(issuer.config())
        };
        let sessions = Arc::new(sessions(store, KEY_A, &idp.issuer, day(), day()));
        let app = server::app_with_sessions(
            LeptosOptions::builder().output_name("auth0-leptos").build(),
            &config,
            &server::settings::ServerSettings::default(),
            issuer.verifier_for(&config.verifier).await,
            Some(sessions.clone()),
        );
        Self {
            app,
            sessions,
            issuer,
            key,
            idp,
        }
    }

    /// A session holding a real access token (signed for the issuer, with `scope`).
    async fn session(&self, scope: &str) -> (String, String) {
        let mut c = claims(&self.issuer.issuer);
        c["scope"] = json!(scope);
        let token = self.key.sign(&c);
        let id = self
            .sessions
            .create(&record(&token, 3600.0, Some("a-refresh-token".into())))
            .await
            .unwrap();
        (id, token)
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = String::from_utf8_lossy(&body.collect().await.unwrap().to_bytes()).into_owned();
        (parts.status, parts.headers, body)
    }
}

fn rand_suffix() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

fn ping(path: &str, cookie: &str, extra: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::post(path)
        .header(header::HOST, "app.test")
        .header(header::COOKIE, format!("session={cookie}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn pages_render_the_user_and_no_token() {
    let f = Fixture::new().await;
    let (id, token) = f.session("openid read:messages").await;
    let request = Request::get("/profile")
        .header(header::HOST, "app.test")
        .header(header::COOKIE, format!("session={id}"))
        .body(Body::empty())
        .unwrap();
    let (status, headers, html) = f.send(request).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Alice Reader"),
        "the first HTML names the user"
    );
    assert!(
        !html.contains(&token) && !html.contains("a-refresh-token"),
        "no token in the page"
    );
    assert!(!html.contains(&id), "nor the session id");
    assert_eq!(headers[header::CACHE_CONTROL], "private, no-cache");
    assert_eq!(headers[header::VARY], "cookie");

    // Signed out: the Profile redirects to the login route, before any wasm.
    let request = Request::get("/profile")
        .header(header::ACCEPT, "text/html")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = f.send(request).await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(headers[header::LOCATION], "/auth/login?returnTo=%2Fprofile");

    // A cookie naming no session renders signed out and is cleared.
    let request = Request::get("/")
        .header(header::COOKIE, "session=forged")
        .body(Body::empty())
        .unwrap();
    let (status, headers, html) = f.send(request).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("Alice Reader"));
    assert!(headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
}

#[tokio::test]
async fn server_functions_use_the_sessions_token_and_refuse_other_sites() {
    let f = Fixture::new().await;
    let (id, _) = f.session("openid").await;
    let same_origin = [
        ("origin", "http://app.test"),
        ("sec-fetch-site", "same-origin"),
    ];
    let (status, _, body) = f.send(ping("/api/ping_protected", &id, &same_origin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The scope check is the verifier's, on the session's token.
    let (status, _, body) = f.send(ping("/api/ping_scoped", &id, &same_origin)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("insufficient_scope"), "{body}");

    for cross in [
        vec![("origin", "http://evil.test")],
        vec![("sec-fetch-site", "cross-site")],
        vec![
            ("sec-fetch-site", "same-site"),
            ("origin", "http://sub.app.test"),
        ],
        vec![("origin", "null")],
        vec![
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://app.test"),
        ],
    ] {
        let (status, _, _) = f.send(ping("/api/ping_protected", &id, &cross)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{cross:?}");
        let (status, _, _) = f.send(ping("/auth/logout", &id, &cross)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{cross:?}");
    }
    assert!(
        f.sessions.read(&id).await.unwrap().is_some(),
        "a refused logout did nothing"
    );

    // Logout from the app's own page: session ended, refresh token revoked, cookie cleared.
    let (status, headers, _) = f.send(ping("/auth/logout", &id, &same_origin)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers[header::LOCATION]
        .to_str()
        .unwrap()
        .contains("/logout?"));
    assert!(headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(*f.idp.state.revoked.lock().unwrap(), ["a-refresh-token"]);
    // The old cookie is worthless.
    let (status, _, body) = f.send(ping("/api/ping_protected", &id, &same_origin)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

fn page(path: &str, cookies: &[String]) -> Request<Body> {
    Request::get(path)
        .header(header::HOST, "app.test")
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, cookies.join("; "))
        .body(Body::empty())
        .unwrap()
}

/// `name=value` of a `Set-Cookie` whose name starts with `prefix`.
fn set_cookie(headers: &axum::http::HeaderMap, prefix: &str) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(prefix))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// A login started at `/auth/login`: the transaction cookie, `state`, `nonce`.
async fn start_login(f: &Fixture, return_to: &str) -> (String, String, String) {
    let encoded: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
    let (status, headers, _) = f
        .send(page(&format!("/auth/login?returnTo={encoded}"), &[]))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = url::Url::parse(headers[header::LOCATION].to_str().unwrap()).unwrap();
    let param = |name: &str| {
        location
            .query_pairs()
            .find(|(k, _)| k == name)
            .unwrap()
            .1
            .into_owned()
    };
    assert_eq!(param("code_challenge_method"), "S256");
    assert_eq!(param("audience"), "https://api");
    assert_eq!(param("redirect_uri"), "http://app.test/callback");
    let cookie = set_cookie(&headers, "login-").expect("a transaction cookie");
    (cookie, param("state"), param("nonce"))
}

#[tokio::test]
async fn logins_started_in_two_tabs_both_complete_each_with_a_new_session() {
    let f = Fixture::new().await;
    let (first_cookie, first_state, first_nonce) = start_login(&f, "/external-api").await;
    let (second_cookie, second_state, second_nonce) =
        start_login(&f, "https://evil.example/").await;
    let first_name = first_cookie.split('=').next().unwrap().to_owned();
    assert_ne!(
        Some(first_name.as_str()),
        second_cookie.split('=').next(),
        "a cookie per attempt"
    );
    let both = [first_cookie.clone(), second_cookie.clone()];

    // The second tab finishes first.
    let path = format!("/callback?code={second_nonce}&state={second_state}");
    let (status, headers, _) = f.send(page(&path, &both)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        "/",
        "returnTo stays on this origin"
    );
    let second_session = set_cookie(&headers, "session=").unwrap();

    let path = format!("/callback?code={first_nonce}&state={first_state}");
    let (status, headers, _) = f.send(page(&path, &both)).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the first tab's login completes too"
    );
    assert_eq!(
        headers[header::LOCATION],
        "/external-api",
        "no code left in the URL"
    );
    let first_session = set_cookie(&headers, "session=").unwrap();
    assert_ne!(first_session, second_session);
    assert_eq!(
        set_cookie(&headers, &first_name).unwrap(),
        format!("{first_name}="),
        "transaction cleared"
    );
    let (_, _, html) = f
        .send(page("/", std::slice::from_ref(&first_session)))
        .await;
    assert!(html.contains("Alice Reader"));

    // The same code and state again: the transaction is gone from the browser.
    let (status, _, html) = f
        .send(page(&path, std::slice::from_ref(&first_session)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("This login was not started in this browser"),
        "{html}"
    );

    // Logging in again while signed in: a new id, and the old one ends (no fixation).
    let (cookie, state, nonce) = start_login(&f, "/").await;
    let path = format!("/callback?code={nonce}&state={state}");
    let (_, headers, _) = f.send(page(&path, &[cookie, first_session.clone()])).await;
    let newer = set_cookie(&headers, "session=").unwrap();
    assert_ne!(newer, first_session);
    let (_, _, html) = f.send(page("/", &[first_session])).await;
    assert!(
        !html.contains("Alice Reader"),
        "the replaced session is over"
    );
    assert_eq!(
        *f.idp.state.auth_methods.lock().unwrap(),
        ["post", "post", "post"]
    );
}

#[tokio::test]
async fn idp_errors_and_foreign_callbacks_render_clear_messages() {
    let f = Fixture::new().await;
    let (cookie, state, _) = start_login(&f, "/").await;
    let path =
        format!("/callback?state={state}&error=access_denied&error_description=User%20said%20no");
    let (status, _, html) = f.send(page(&path, &[cookie])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("The login service refused: User said no (access_denied)"),
        "{html}"
    );

    // A callback this browser did not start: a fixed message, the link's text not shown.
    let path = "/callback?state=forged&error=access_denied&error_description=Call%20evil.example";
    let (status, _, html) = f.send(page(path, &[])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("This login was not started in this browser"),
        "{html}"
    );
    assert!(!html.contains("evil.example"));
}

#[tokio::test]
async fn an_invalid_grant_ends_the_session_for_the_call_and_the_next_page() {
    let f = Fixture::new().await;
    let id = expired_session(&f.sessions, Some("unknown-refresh".into())).await;
    let same_origin = [("sec-fetch-site", "same-origin")];
    let (status, headers, body) = f.send(ping("/api/ping_protected", &id, &same_origin)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("invalid_grant"), "{body}");
    assert!(headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let (status, _, html) = f.send(page("/", &[format!("session={id}")])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("Alice Reader"));
}

#[tokio::test]
async fn client_secret_basic_sends_the_secret_as_http_basic() {
    let idp = Idp::start().await;
    let sessions = sessions_with(
        SessionStore::open_file(&temp_file("basic")).unwrap(),
        KEY_A,
        &idp.issuer,
        day(),
        day(),
        ClientAuth::Basic,
    );
    let id = expired_session(&sessions, Some(idp.refresh_token("r"))).await;
    assert_eq!(sessions.access_token(&id).await.unwrap(), "access-0");
    assert_eq!(*idp.state.auth_methods.lock().unwrap(), ["basic"]);
}

#[tokio::test]
async fn redis_down_renders_a_notice_and_calls_answer_503_until_it_is_back() {
    let mut redis = RedisServer::start();
    let port = redis.port;
    let f = Fixture::with_store(SessionStore::redis(&redis.url).unwrap()).await;
    let (id, _) = f.session("openid").await;
    redis.stop();
    let cookie = [format!("session={id}")];
    let (status, _, html) = f.send(page("/", &cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("cannot be read right now"), "{html}");
    let same_origin = [("sec-fetch-site", "same-origin")];
    let (status, _, body) = f.send(ping("/api/ping_protected", &id, &same_origin)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    // Redis back on the same port (empty here): the store reconnects by itself.
    let _redis = RedisServer::start_on(port);
    let mut answered = false;
    for _ in 0..40 {
        let (status, _, html) = f.send(page("/", &cookie)).await;
        if status == StatusCode::OK && !html.contains("cannot be read right now") {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(answered, "the store reconnects to Redis");
}

#[tokio::test]
async fn ten_concurrent_server_function_calls_past_expiry_make_one_grant_and_all_pass() {
    let f = Fixture::new().await;
    let (key, issuer) = (f.key.clone(), f.issuer.issuer.clone());
    *f.idp.state.mint.lock().unwrap() = Some(Box::new(move || key.sign(&claims(&issuer))));
    let id = expired_session(&f.sessions, Some(f.idp.refresh_token("before"))).await;
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let app = f.app.clone();
            let request = ping(
                "/api/ping_protected",
                &id,
                &[("sec-fetch-site", "same-origin")],
            );
            tokio::spawn(async move { app.oneshot(request).await.unwrap().status() })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(f.idp.grants(), 1, "one refresh grant for ten calls");
}

/// OpenID Discovery 4.3, as the browser's login checks it: a document naming
/// another issuer than the configured one is refused.
#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_refused() {
    let idp = Idp::start().await;
    // The same document, fetched for "http://127.0.0.1:PORT" (no trailing slash):
    // it names "http://127.0.0.1:PORT/", another issuer string.
    let store = SessionStore::open_file(&temp_file("other-issuer")).unwrap();
    let sessions = sessions(store, KEY_A, idp.issuer.trim_end_matches('/'), day(), day());
    let error = sessions
        .start_login("http://app.test", "/", None)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("another issuer"), "{error}");
    let store = SessionStore::open_file(&temp_file("same-issuer")).unwrap();
    let sessions = self::sessions(store, KEY_A, &idp.issuer, day(), day());
    assert!(sessions
        .start_login("http://app.test", "/", None)
        .await
        .is_ok());
}
