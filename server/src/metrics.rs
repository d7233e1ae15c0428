//! Prometheus metrics: the recorder, the HTTP request metrics layer, and the
//! `/metrics` endpoint, served on its own address (`METRICS_ADDR`, off by default)
//! so it is never public by accident.
//!
//! The exporter is `metrics-exporter-prometheus` (text exposition format); the
//! token checks report through `access_token_verifier::metrics`. HTTP requests are labelled by
//! route template (`/api/private`, `/profile`, `unmatched`), never the raw path.

use std::sync::Arc;
use std::time::Instant;

use access_token_verifier::JwksCache;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics::{counter, describe_counter, describe_histogram, histogram, Unit};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS: &str = "http_requests_total";
pub const HTTP_DURATION: &str = "http_request_duration_seconds";

/// Buckets for latencies: 100 µs to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Installs the process-wide recorder; returns the handle that renders it.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)?
        .install_recorder()?;
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests by method, route template and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "HTTP request latency by method and route template"
    );
    access_token_verifier::metrics::describe();
    Ok(handle)
}

/// Middleware: counts each request and times it, by route template.
pub async fn track_http(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    histogram!(HTTP_DURATION, "method" => method, "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    counter!(HTTP_REQUESTS, "method" => method, "route" => route, "status" => status).increment(1);
    response
}

/// The `method` label: one of the methods HTTP defines, else `other`. A client
/// can send any token as a method; a label made of it would be a new series per
/// made-up method, growing `/metrics` and memory without bound. (Routes are
/// templates or `unmatched`, and statuses are the server's own: both fixed sets.)
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// `GET /metrics`: the text exposition, with the JWKS age brought up to date.
pub fn routes(handle: PrometheusHandle, jwks: Arc<JwksCache>) -> Router {
    Router::new()
        .route("/metrics", get(render))
        .with_state((handle, jwks))
}

async fn render(State((handle, jwks)): State<(PrometheusHandle, Arc<JwksCache>)>) -> Response {
    let age = jwks.since_last_refresh();
    access_token_verifier::metrics::jwks_seconds_since_refresh(age.map(|age| age.as_secs_f64()));
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
