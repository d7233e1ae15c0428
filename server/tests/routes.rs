//! The whole router, driven in-process with `tower::ServiceExt::oneshot`, against
//! a real token issuer on 127.0.0.1 (the `test-issuer` crate).

use std::sync::Arc;

use access_token_verifier::Verifier;
use app::config::AppConfig;
use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use serde_json::{json, Value};
use test_issuer::{claims, TestIssuer, TestKey};
use tower::ServiceExt;

/// The challenge of a request without credentials, in the default DPoP mode
/// (`allowed`): both schemes offered, no error (RFC 6750 3.1, RFC 9449 7.1).
const BARE_CHALLENGE: &str =
    r#"Bearer realm="api", DPoP realm="api", algs="ES256 ES384 EdDSA RS256 PS256""#;

fn app_with(config: &AppConfig, verifier: Arc<Verifier>) -> Router {
    server::app(
        LeptosOptions::builder().output_name("auth0-leptos").build(),
        config,
        &server::settings::ServerSettings::default(),
        verifier,
    )
}

/// An issuer with keys loaded, the router in front of it, and a signing key.
struct Fixture {
    issuer: TestIssuer,
    key: TestKey,
    app: Router,
}

impl Fixture {
    async fn new() -> Self {
        Self::with_config(|_| {}).await
    }

    async fn with_config(adjust: impl FnOnce(&mut AppConfig)) -> Self {
        let key = TestKey::rsa_a();
        let issuer = TestIssuer::start(&[&key]).await;
        let mut config = AppConfig {
            client_id: Some("test-client".into()),
            ..AppConfig::new(issuer.config())
        };
        adjust(&mut config);
        let app = app_with(&config, issuer.verifier_for(&config.verifier).await);
        Self { issuer, key, app }
    }

    fn token(&self, patch: Value) -> String {
        let mut c = claims(&self.issuer.issuer);
        for (k, v) in patch.as_object().expect("object") {
            c[k] = v.clone();
        }
        self.key.sign(&c)
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        send(&self.app, request).await
    }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("json body: {}", self.body))
    }
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(&name)
            .map_or("", |v| v.to_str().expect("ascii"))
    }
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("router is infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).expect("utf-8 body"),
    }
}

fn get(uri: &str, authorization: &[&str]) -> Request<Body> {
    let mut request = Request::get(uri);
    for value in authorization {
        request = request.header(header::AUTHORIZATION, *value);
    }
    request.body(Body::empty()).expect("valid request")
}

/// A server-function call as the browser's client makes it.
fn server_fn(name: &str, authorization: Option<&str>) -> Request<Body> {
    let mut request = Request::post(format!("/api/{name}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    request.body(Body::empty()).expect("valid request")
}

#[tokio::test]
async fn rest_public_returns_the_public_message_as_json() {
    let f = Fixture::new().await;
    let answer = f.send(get("/api/public", &[])).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header(header::CONTENT_TYPE), "application/json");
    assert_eq!(
        answer.json()["message"],
        app::api::ssr::public_message().message
    );
}

#[tokio::test]
async fn rest_private_without_token_is_401_with_a_bare_challenge() {
    let f = Fixture::new().await;
    for uri in ["/api/private", "/api/private-scoped"] {
        let answer = f.send(get(uri, &[])).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(answer.header(header::WWW_AUTHENTICATE), BARE_CHALLENGE);
        assert_eq!(answer.json()["error"], "unauthorized");
    }
}

#[tokio::test]
async fn rest_private_with_a_bad_token_is_401_invalid_token() {
    let f = Fixture::new().await;
    let mut expired = f.token(json!({"exp": test_issuer::now() - 60}));
    for token in ["abc.def.ghi".to_owned(), std::mem::take(&mut expired)] {
        let answer = f
            .send(get("/api/private", &[&format!("Bearer {token}")]))
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        let challenge = answer.header(header::WWW_AUTHENTICATE);
        assert!(
            challenge
                .starts_with(r#"Bearer realm="api", error="invalid_token", error_description=""#),
            "{challenge}"
        );
        assert_eq!(answer.json()["error"], "invalid_token");
        assert!(!answer.body.contains(&token), "the token is never echoed");
    }
}

#[tokio::test]
async fn rest_private_with_a_good_token_answers_the_private_message() {
    let f = Fixture::new().await;
    let token = f.token(json!({}));
    let answer = f
        .send(get("/api/private", &[&format!("bearer {token}")]))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.json()["message"],
        app::api::ssr::private_message().message
    );
}

#[tokio::test]
async fn rest_scoped_needs_read_messages_in_scope_or_permissions() {
    let f = Fixture::new().await;
    let without = f.token(json!({}));
    let answer = f
        .send(get("/api/private-scoped", &[&format!("Bearer {without}")]))
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer
        .header(header::WWW_AUTHENTICATE)
        .starts_with(r#"Bearer realm="api", error="insufficient_scope", scope="read:messages""#));
    assert_eq!(answer.json()["error"], "insufficient_scope");

    for grant in [
        json!({"scope": "openid read:messages"}),
        json!({"permissions": ["read:messages"]}),
    ] {
        let token = f.token(grant);
        let answer = f
            .send(get("/api/private-scoped", &[&format!("Bearer {token}")]))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(
            answer.json()["message"],
            app::api::ssr::scoped_message().message
        );
    }
}

#[tokio::test]
async fn with_permissions_only_a_scope_claim_does_not_grant_read_messages() {
    // An Auth0 API with RBAC: `scope` holds whatever the authorize request asked
    // for, so only `permissions` may grant.
    let f = Fixture::with_config(|config| config.verifier.permissions_only = true).await;
    for (grant, status) in [
        (
            json!({"scope": "openid read:messages"}),
            StatusCode::FORBIDDEN,
        ),
        (json!({"permissions": ["read:messages"]}), StatusCode::OK),
        (
            json!({"scope": "openid read:messages", "permissions": []}),
            StatusCode::FORBIDDEN,
        ),
    ] {
        let token = f.token(grant.clone());
        for request in [
            get("/api/private-scoped", &[&format!("Bearer {token}")]),
            Request::post("/api/ping_scoped")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "application/json")
                .body(Body::empty())
                .unwrap(),
        ] {
            let path = request.uri().path().to_owned();
            let answer = f.send(request).await;
            assert_eq!(answer.status, status, "{path} {grant}: {}", answer.body);
        }
    }
}

#[tokio::test]
async fn malformed_authorization_headers_are_400_invalid_request() {
    let f = Fixture::new().await;
    let token = f.token(json!({}));
    let bearer = format!("Bearer {token}");
    for headers in [vec![bearer.as_str(), bearer.as_str()], vec!["Bearer"]] {
        let answer = f.send(get("/api/private", &headers)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert!(answer
            .header(header::WWW_AUTHENTICATE)
            .contains(r#"error="invalid_request""#));
        assert_eq!(answer.json()["error"], "invalid_request");
    }
}

/// RFC 6750 3.1: a client that tried another scheme gets the bare challenge that
/// names the schemes to use (Bearer, and DPoP by default), with no error code.
#[tokio::test]
async fn another_authorization_scheme_gets_401_and_the_bearer_challenge() {
    let f = Fixture::new().await;
    for scheme in ["Basic dXNlcjpwYXNz", "Digest username=\"a\"", "Negotiate"] {
        let answer = f.send(get("/api/private", &[scheme])).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{scheme}");
        assert_eq!(answer.header(header::WWW_AUTHENTICATE), BARE_CHALLENGE);
    }
}

#[tokio::test]
async fn server_functions_answer_with_real_statuses_and_typed_errors() {
    let f = Fixture::new().await;

    let public = f.send(server_fn("ping_public", None)).await;
    assert_eq!(public.status, StatusCode::OK);
    assert_eq!(
        public.json()["message"],
        app::api::ssr::public_message().message
    );

    let no_token = f.send(server_fn("ping_protected", None)).await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    assert_eq!(no_token.header(header::WWW_AUTHENTICATE), BARE_CHALLENGE);
    let error: app::api::ApiError = serde_json::from_str(&no_token.body).expect("typed error");
    assert_eq!(error.status(), Some(401));

    let bad = f
        .send(server_fn("ping_protected", Some("Bearer abc.def.ghi")))
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad
        .header(header::WWW_AUTHENTICATE)
        .contains(r#"error="invalid_token""#));

    let token = format!("Bearer {}", f.token(json!({})));
    let good = f.send(server_fn("ping_protected", Some(&token))).await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.body);
    assert_eq!(
        good.json()["message"],
        app::api::ssr::private_message().message
    );

    let unscoped = f.send(server_fn("ping_scoped", Some(&token))).await;
    assert_eq!(unscoped.status, StatusCode::FORBIDDEN);
    assert!(unscoped
        .header(header::WWW_AUTHENTICATE)
        .contains(r#"scope="read:messages""#));
    let error: app::api::ApiError = serde_json::from_str(&unscoped.body).expect("typed error");
    assert!(error.to_string().starts_with("403 Forbidden"), "{error}");

    let scoped = format!(
        "Bearer {}",
        f.token(json!({"permissions": ["read:messages"]}))
    );
    let ok = f.send(server_fn("ping_scoped", Some(&scoped))).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(
        ok.json()["message"],
        app::api::ssr::scoped_message().message
    );
}

#[tokio::test]
async fn issuer_down_at_start_public_serves_protected_503_not_ready() {
    let key = TestKey::rsa_a();
    let issuer = TestIssuer::start(&[&key]).await;
    let config = AppConfig::new(issuer.config());
    let token = key.sign(&claims(&issuer.issuer));
    issuer.stop();
    let app = app_with(&config, issuer.verifier_not_loaded());

    assert_eq!(
        send(&app, get("/api/public", &[])).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(&app, get("/healthz", &[])).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(&app, get("/readyz", &[])).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let answer = send(&app, get("/api/private", &[&format!("Bearer {token}")])).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.header(header::RETRY_AFTER), "5");
    // Still 401 for no token at all: that needs no keys.
    assert_eq!(
        send(&app, get("/api/private", &[])).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn readyz_once_keys_are_loaded() {
    let f = Fixture::new().await;
    let answer = f.send(get("/readyz", &[])).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["status"], "ready");
}

#[tokio::test]
async fn cors_only_for_configured_origins() {
    let origin = "https://app.example.com";
    let preflight = |origin: &str| {
        Request::options("/api/private")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
            .body(Body::empty())
            .expect("valid request")
    };
    let closed = Fixture::new().await;
    let answer = closed.send(preflight(origin)).await;
    assert_eq!(
        answer.header(header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "",
        "no origins by default"
    );

    let open = Fixture::with_config(|c| c.cors_allowed_origins = vec![origin.into()]).await;
    let answer = open.send(preflight(origin)).await;
    assert_eq!(answer.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), origin);
    let other = open.send(preflight("https://evil.example")).await;
    assert_eq!(other.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), "");
}

#[tokio::test]
async fn home_page_is_server_rendered() {
    let f = Fixture::new().await;
    let answer = f.send(get("/", &[])).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.header(header::CONTENT_TYPE).starts_with("text/html"));
    assert!(
        answer
            .body
            .contains("Log in with Auth0, call a protected API"),
        "{}",
        answer.body
    );
    assert!(
        answer
            .body
            .contains("<title>Home | Auth0 Leptos Sample</title>"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn external_api_page_renders_disabled_buttons_until_hydrated() {
    let f = Fixture::new().await;
    let answer = f.send(get("/external-api", &[])).await;
    assert_eq!(answer.status, StatusCode::OK);
    for label in ["Ping public", "Ping protected", "Ping scoped"] {
        // The button's opening tag, just before its label, carries `disabled`.
        let at = answer
            .body
            .find(&format!(">{label}<"))
            .unwrap_or_else(|| panic!("{label}"));
        let tag = &answer.body[answer.body[..at].rfind("<button").expect("a button")..at];
        assert!(tag.contains("disabled"), "{label}: {tag}");
    }
}

#[tokio::test]
async fn pages_carry_the_public_login_config_and_no_secrets() {
    let f = Fixture::new().await;
    for path in ["/", "/no/such/page"] {
        let answer = f.send(get(path, &[])).await;
        let start = answer
            .body
            .find(r#"<script id="auth-config" type="application/json">"#)
            .expect("config script");
        let json = &answer.body[start..];
        let json = &json[json.find('>').unwrap() + 1..json.find("</script>").unwrap()];
        let config: app::login::PublicAuthConfig = serde_json::from_str(json).expect("config json");
        assert_eq!(config.issuer, f.issuer.issuer);
        assert_eq!(config.client_id, "test-client");
        assert_eq!(config.audience, test_issuer::AUDIENCE);
        assert_eq!(config.scope, "openid profile email offline_access");
    }
}

#[tokio::test]
async fn unknown_path_is_a_404_page() {
    let f = Fixture::new().await;
    let answer = f.send(get("/no/such/page", &[])).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(answer.body.contains("Page not found"), "{}", answer.body);
}

#[tokio::test]
async fn rest_public_rejects_other_methods() {
    let f = Fixture::new().await;
    let request = Request::post("/api/public")
        .body(Body::empty())
        .expect("valid request");
    assert_eq!(f.send(request).await.status, StatusCode::METHOD_NOT_ALLOWED);
}
