//! The whole router, driven in-process with `tower::ServiceExt::oneshot`.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use tower::ServiceExt;

fn app() -> Router {
    server::app(LeptosOptions::builder().output_name("auth0-leptos").build())
}

async fn send(request: Request<Body>) -> (StatusCode, Option<String>, String) {
    let response = app().oneshot(request).await.expect("router is infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|value| value.to_str().expect("ascii content type").to_owned());
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).expect("utf-8 body"),
    )
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri)
        .body(Body::empty())
        .expect("valid request")
}

#[tokio::test]
async fn rest_public_returns_the_public_message_as_json() {
    let (status, content_type, body) = send(get("/api/public")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let json: serde_json::Value = serde_json::from_str(&body).expect("json body");
    assert_eq!(json["message"], app::api::ssr::public_message().message);
}

#[tokio::test]
async fn server_function_ping_public_answers_at_its_documented_url() {
    let request = Request::post("/api/ping_public")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .expect("valid request");
    let (status, _, body) = send(request).await;
    assert_eq!(status, StatusCode::OK, "body: {body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("json body");
    assert_eq!(json["message"], app::api::ssr::public_message().message);
}

#[tokio::test]
async fn home_page_is_server_rendered() {
    let (status, content_type, body) = send(get("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.unwrap_or_default().starts_with("text/html"));
    assert!(
        body.contains("Log in with Auth0, call a protected API"),
        "{body}"
    );
    assert!(
        body.contains("<title>Home | Auth0 Leptos Sample</title>"),
        "{body}"
    );
}

#[tokio::test]
async fn external_api_page_renders_a_disabled_button_until_hydrated() {
    let (status, _, body) = send(get("/external-api")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Ping public"), "{body}");
    assert!(
        body.contains("disabled"),
        "button must be disabled before hydration: {body}"
    );
}

#[tokio::test]
async fn unknown_path_is_a_404_page() {
    let (status, content_type, body) = send(get("/no/such/page")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(content_type.unwrap_or_default().starts_with("text/html"));
    assert!(body.contains("Page not found"), "{body}");
}

#[tokio::test]
async fn rest_public_rejects_other_methods() {
    let request = Request::post("/api/public")
        .body(Body::empty())
        .expect("valid request");
    let (status, _, _) = send(request).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}
