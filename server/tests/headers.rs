//! Security and caching headers on pages, API answers and assets, through the
//! whole router (`oneshot`), with a real issuer on 127.0.0.1.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use futures::StreamExt;
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use server::settings::ServerSettings;
use test_issuer::{TestIssuer, TestKey};
use tower::ServiceExt;

async fn app(settings: ServerSettings) -> (TestIssuer, Router) {
    let issuer = TestIssuer::start(&[&TestKey::rsa_a()]).await;
    let app = server::app(
        LeptosOptions::builder().output_name("auth0-leptos").build(),
        &app::config::AppConfig::new(issuer.config()),
        &settings,
        issuer.verifier().await,
    );
    (issuer, app)
}

async fn fetch(app: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).map_or("", |v| v.to_str().unwrap())
}

fn common_headers_are_set(headers: &HeaderMap) {
    assert_eq!(header(headers, "x-content-type-options"), "nosniff");
    assert_eq!(header(headers, "referrer-policy"), "no-referrer");
    assert_eq!(header(headers, "cross-origin-opener-policy"), "same-origin");
    assert_eq!(header(headers, "x-frame-options"), "DENY");
}

/// The nonce of `script-src 'nonce-…'` in a CSP.
fn csp_nonce(csp: &str) -> &str {
    let start = csp.find("'nonce-").expect("a nonce source") + "'nonce-".len();
    &csp[start..start + csp[start..].find('\'').unwrap()]
}

#[tokio::test]
async fn pages_carry_a_fresh_nonce_csp_that_matches_their_scripts() {
    let (issuer, app) = app(ServerSettings::default()).await;
    let mut nonces = Vec::new();
    for path in ["/", "/external-api", "/profile", "/no-such-page"] {
        let (_, headers, body) = fetch(&app, get(path)).await;
        common_headers_are_set(&headers);
        let csp = header(&headers, "content-security-policy");
        for directive in [
            "default-src 'self'",
            "'wasm-unsafe-eval'",
            "img-src 'self' data: https:",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
            "form-action 'self'",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: {directive} missing in {csp}"
            );
        }
        let issuer_origin = issuer.issuer.trim_end_matches('/');
        assert!(
            csp.contains(&format!("connect-src 'self' {issuer_origin}")),
            "{csp}"
        );
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("strict-dynamic"),
            "{csp}"
        );
        let nonce = csp_nonce(csp).to_owned();
        assert!(nonce.len() >= 22, "128-bit nonce: {nonce}");
        // Every script and preload of the page carries exactly this nonce.
        let scripts = body.matches("<script type=\"module\"").count();
        assert_eq!(scripts, 1, "{path}: one module script");
        assert_eq!(
            body.matches(&format!("nonce=\"{nonce}\"")).count(),
            body.matches("nonce=\"").count(),
            "{path}: a script or preload with another nonce"
        );
        assert!(
            body.contains(&format!("<script type=\"module\" nonce=\"{nonce}\">")),
            "{body}"
        );
        assert!(
            body.contains(&format!(
                "rel=\"modulepreload\" href=\"/pkg/auth0-leptos.js\" nonce=\"{nonce}\""
            )),
            "{body}"
        );
        assert_eq!(header(&headers, "cache-control"), "no-cache", "{path}");
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 4, "a fresh nonce per response");
}

#[tokio::test]
async fn api_answers_and_the_callback_are_not_stored() {
    let (_issuer, app) = app(ServerSettings::default()).await;
    for path in [
        "/api/public",
        "/api/private",
        "/healthz",
        "/readyz",
        "/callback",
    ] {
        let (_, headers, _) = fetch(&app, get(path)).await;
        common_headers_are_set(&headers);
        assert_eq!(header(&headers, "cache-control"), "no-store", "{path}");
    }
    let (_, headers, _) = fetch(&app, get("/api/public")).await;
    assert_eq!(
        header(&headers, "content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert!(headers.get("strict-transport-security").is_none());
}

#[tokio::test]
async fn hsts_only_when_the_public_url_is_https() {
    let settings = ServerSettings {
        public_url: Some("https://app.example.com".parse().unwrap()),
        ..ServerSettings::default()
    };
    let (_issuer, app) = app(settings).await;
    for path in ["/", "/api/public"] {
        let (_, headers, _) = fetch(&app, get(path)).await;
        assert_eq!(
            header(&headers, "strict-transport-security"),
            "max-age=63072000"
        );
    }
}

#[tokio::test]
async fn json_and_html_are_compressed_for_clients_that_ask() {
    let (_issuer, app) = app(ServerSettings::default()).await;
    let request = Request::get("/external-api")
        .header(header::ACCEPT_ENCODING, "br, gzip")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = fetch(&app, request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-encoding"), "br");
    assert!(header(&headers, "vary")
        .to_ascii_lowercase()
        .contains("accept-encoding"));
    // Tiny answers are left alone (compression would only add bytes).
    let request = Request::get("/healthz")
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .unwrap();
    let (_, headers, body) = fetch(&app, request).await;
    assert!(headers.get("content-encoding").is_none(), "{body}");
}

#[tokio::test]
async fn built_files_are_served_precompressed_and_vary_by_encoding() {
    // A site directory as `cargo leptos build --precompress` leaves it.
    let site = std::env::temp_dir().join(format!("headers-site-{}", std::process::id()));
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("chunk.wasm"), b"\0asm plain").unwrap();
    std::fs::write(pkg.join("chunk.wasm.br"), b"brotli bytes").unwrap();
    std::fs::write(pkg.join("chunk.wasm.gz"), b"gzip bytes").unwrap();
    let issuer = TestIssuer::start(&[&TestKey::rsa_a()]).await;
    let app = server::app(
        LeptosOptions::builder()
            .output_name("auth0-leptos")
            .site_root(site.to_string_lossy().into_owned())
            .build(),
        &app::config::AppConfig::new(issuer.config()),
        &ServerSettings::default(),
        issuer.verifier().await,
    );
    for (accept, encoding, body) in [
        ("br, gzip", "br", "brotli bytes"),
        ("gzip", "gzip", "gzip bytes"),
        ("identity", "", "\0asm plain"),
    ] {
        let request = Request::get("/pkg/chunk.wasm")
            .header(header::ACCEPT_ENCODING, accept)
            .body(Body::empty())
            .unwrap();
        let (status, headers, served) = fetch(&app, request).await;
        assert_eq!(status, StatusCode::OK, "{accept}");
        assert_eq!(header(&headers, "content-encoding"), encoding, "{accept}");
        assert_eq!(served, body, "{accept}");
        assert_eq!(header(&headers, "content-type"), "application/wasm");
        let vary: Vec<_> = headers.get_all("vary").iter().collect();
        assert_eq!(vary.len(), 1, "{accept}: {vary:?}");
        assert!(
            vary[0]
                .to_str()
                .unwrap()
                .eq_ignore_ascii_case("accept-encoding"),
            "{accept}: {vary:?}"
        );
    }
    std::fs::remove_dir_all(&site).unwrap();
}

#[tokio::test]
async fn oversized_bodies_get_413_whether_announced_or_streamed() {
    let (_issuer, app) = app(ServerSettings::default()).await;
    let big = "x".repeat(64 * 1024);
    let announced = Request::post("/api/ping_public")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(big.clone()))
        .unwrap();
    let (status, _, body) = fetch(&app, announced).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    // Streamed in chunks with no Content-Length.
    let chunks = futures::stream::iter(
        (0..64).map(|_| Ok::<_, std::io::Error>(bytes_of(&"y".repeat(1024)))),
    );
    let streamed = Request::post("/api/ping_protected")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from_stream(chunks))
        .unwrap();
    let (status, headers, body) = fetch(&app, streamed).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(header(&headers, "cache-control"), "no-store");
    // A small body still goes through.
    let small = Request::post("/api/ping_public")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = fetch(&app, small).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn bytes_of(text: &str) -> axum::body::Bytes {
    axum::body::Bytes::copy_from_slice(text.as_bytes())
}

#[tokio::test]
async fn the_silent_callback_may_be_framed_by_this_origin_only_and_runs_one_nonced_script() {
    let (issuer, app) = app(ServerSettings::default()).await;
    let (status, headers, body) = fetch(&app, get("/silent-callback?code=c&state=s")).await;
    assert_eq!(status, StatusCode::OK);
    let csp = header(&headers, "content-security-policy");
    assert!(
        csp.contains("frame-ancestors 'self'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    let nonce = csp_nonce(csp);
    assert!(
        body.contains(&format!("<script nonce=\"{nonce}\">")),
        "{body}"
    );
    assert_eq!(body.matches("<script").count(), 1);
    assert!(
        body.contains("location.origin"),
        "posts to this origin only: {body}"
    );
    assert_eq!(header(&headers, "x-frame-options"), "SAMEORIGIN");
    assert_eq!(header(&headers, "cache-control"), "no-store");
    assert!(
        !body.contains("code=c"),
        "the code is not copied into the page"
    );
    // Pages may frame the issuer (the silent check) and this origin, nothing else.
    let (_, headers, _) = fetch(&app, get("/")).await;
    let issuer_origin = issuer.issuer.trim_end_matches('/');
    assert!(header(&headers, "content-security-policy")
        .contains(&format!("frame-src 'self' {issuer_origin};")));
}

#[tokio::test]
async fn a_body_that_never_ends_gets_408_at_the_body_deadline() {
    // The body deadline, not the (longer) request timeout, answers it.
    let settings = ServerSettings {
        body_read_timeout: std::time::Duration::from_millis(500),
        ..ServerSettings::default()
    };
    let (_issuer, app) = app(settings).await;
    // A body that starts and then never ends (a slow upload).
    let trickle = futures::stream::once(async { Ok::<_, std::io::Error>(bytes_of("a=1")) })
        .chain(futures::stream::pending());
    let request = Request::post("/api/ping_public")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from_stream(trickle))
        .unwrap();
    let started = std::time::Instant::now();
    let (status, _, _) = fetch(&app, request).await;
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
