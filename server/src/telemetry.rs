//! Logging: `tracing` to stderr, level from `RUST_LOG` (default `info`); as text,
//! or one JSON object per line with `LOG_FORMAT=json` (tracing-subscriber's JSON
//! formatter, same fields).

use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG=debug` (or any `EnvFilter` string)
/// overrides the default level; `format` `json` switches to JSON lines.
pub fn init(format: Option<&str>) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == Some("json") {
        builder.json().with_current_span(true).init();
    } else {
        builder.init();
    }
}

/// Logs one line per request: method and path (never the query string, which may
/// carry an authorization code), then status and latency when it is answered.
pub fn http_trace_layer() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, MakeRequestSpan> {
    TraceLayer::new_for_http()
        .make_span_with(MakeRequestSpan)
        .on_response(DefaultOnResponse::new().level(Level::INFO))
        // A 503 while the issuer's keys load is expected, not an error to page anyone.
        .on_failure(DefaultOnFailure::new().level(Level::WARN))
}

/// A span per request holding method and path only; headers and query are left
/// out on purpose so tokens and codes never reach the logs.
#[derive(Clone, Copy, Debug)]
pub struct MakeRequestSpan;

impl<B> tower_http::trace::MakeSpan<B> for MakeRequestSpan {
    fn make_span(&mut self, request: &axum::http::Request<B>) -> tracing::Span {
        tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
    }
}
