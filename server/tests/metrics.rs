//! Prometheus metrics, through the whole router and the `/metrics` endpoint. One
//! test in its own binary: the recorder is process-wide, and parallel tests would
//! move the same counters.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use serde_json::json;
use server::settings::ServerSettings;
use test_issuer::{claims, now, TestIssuer, TestKey};
use tower::ServiceExt;

async fn call(app: &Router, path: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// The value of the sample of `name` whose labels include every `labels` pair (0 if none).
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} "))
        })
        .filter(|line| {
            labels
                .iter()
                .all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|line| line.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum()
}

#[tokio::test]
async fn counters_move_by_exactly_what_the_requests_did() {
    let handle = server::metrics::install().expect("recorder installs once");
    let key = TestKey::rsa_a();
    let issuer = TestIssuer::start(&[&key]).await;
    let verifier = issuer.verifier().await;
    let jwks = verifier.jwks().clone();
    let app = server::app(
        LeptosOptions::builder().output_name("auth0-leptos").build(),
        &app::config::AppConfig::new(issuer.config()),
        &ServerSettings {
            metrics_addr: Some("127.0.0.1:0".parse().unwrap()),
            ..ServerSettings::default()
        },
        verifier,
    );
    let metrics = server::metrics::routes(handle, jwks);
    let scrape = || async {
        let (status, text) = call(&metrics, "/metrics", None).await;
        assert_eq!(status, StatusCode::OK);
        text
    };
    let before = scrape().await;

    let good = key.sign(&claims(&issuer.issuer));
    let mut expired_claims = claims(&issuer.issuer);
    expired_claims["exp"] = json!(now() - 3600);
    let expired = key.sign(&expired_claims);
    let mut forged = good.clone();
    forged.replace_range(forged.len() - 4.., "AAAA");

    assert_eq!(
        call(&app, "/api/private", Some(&good)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, "/api/private", Some(&good)).await.0,
        StatusCode::OK
    ); // cached
    assert_eq!(
        call(&app, "/api/private", Some(&expired)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(&app, "/api/private", Some(&forged)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(&app, "/api/private", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    // A valid token without read:messages.
    assert_eq!(
        call(&app, "/api/private-scoped", Some(&good)).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&app, "/no/such/42", None).await.0,
        StatusCode::NOT_FOUND
    );
    // Sixty made-up methods: all counted, under one `other` label.
    let series = |text: &str| text.lines().filter(|l| !l.starts_with('#')).count();
    let series_before = series(&scrape().await);
    for i in 1..=60 {
        let request = Request::builder()
            .method(format!("FOO{i}").as_str())
            .uri("/api/public")
            .body(Body::empty())
            .unwrap();
        let status = app.clone().oneshot(request).await.unwrap().status();
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }

    let after = scrape().await;
    assert!(
        !after.contains("FOO"),
        "a client-made method became a label"
    );
    assert_eq!(
        sample(
            &after,
            "http_requests_total",
            &[("method", "other"), ("route", "/api/public")]
        ),
        60.0
    );
    // At most the new `other` series (a counter, and a histogram's buckets, sum
    // and count): not sixty of each.
    assert!(
        series(&after) - series_before <= 20,
        "{} new series",
        series(&after) - series_before
    );
    let delta = |name: &str, labels: &[(&str, &str)]| {
        sample(&after, name, labels) - sample(&before, name, labels)
    };
    let checks = "auth_token_checks_total";
    assert_eq!(delta(checks, &[("outcome", "ok")]), 3.0, "{after}");
    assert_eq!(delta(checks, &[("outcome", "expired")]), 1.0);
    assert_eq!(delta(checks, &[("outcome", "bad_signature")]), 1.0);
    assert_eq!(delta(checks, &[("outcome", "missing_token")]), 1.0);
    assert_eq!(delta(checks, &[("outcome", "wrong_issuer")]), 0.0);
    let scopes = "auth_scope_checks_total";
    assert_eq!(
        delta(
            scopes,
            &[
                ("scope", "read:messages"),
                ("outcome", "insufficient_scope")
            ]
        ),
        1.0
    );
    assert_eq!(delta(scopes, &[("outcome", "ok")]), 0.0);
    // Two verifications of `good`: one miss, then a hit; the other tokens miss.
    assert_eq!(delta("auth_token_cache_total", &[("result", "hit")]), 2.0);
    assert_eq!(delta("auth_token_cache_total", &[("result", "miss")]), 3.0);
    assert_eq!(delta("auth_token_verify_seconds_count", &[]), 3.0);

    let requests = "http_requests_total";
    assert_eq!(
        delta(requests, &[("route", "/api/private"), ("status", "200")]),
        2.0
    );
    assert_eq!(
        delta(requests, &[("route", "/api/private"), ("status", "401")]),
        3.0
    );
    assert_eq!(
        delta(
            requests,
            &[("route", "/api/private-scoped"), ("status", "403")]
        ),
        1.0
    );
    assert_eq!(
        delta(
            "http_request_duration_seconds_count",
            &[("route", "/api/private")]
        ),
        5.0
    );
    assert_eq!(
        delta(requests, &[("route", "unmatched"), ("status", "404")]),
        1.0
    );
    assert!(sample(&after, "jwks_fetches_total", &[("result", "ok")]) >= 1.0);
    // Raw paths with ids never become labels.
    assert!(!after.contains("/no/such/42"), "{after}");
    assert!(!after.contains(&good[..20]), "no token in the metrics");

    assert_eq!(sample(&after, "jwks_keys", &[]), 1.0);
    let age = sample(&after, "jwks_seconds_since_last_refresh", &[]);
    assert!((0.0..60.0).contains(&age), "{age}");
    assert!(after.contains("# TYPE auth_token_verify_seconds histogram"));
}
