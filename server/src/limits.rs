//! Limits for slow and hostile clients, per request. (Per connection, the header
//! and idle deadlines and the connection cap, are in [`crate::serve`].)
//!
//! - [`read_body`]: the whole body is read first, within `BODY_READ_TIMEOUT_SECS`
//!   (else `408`) and up to `BODY_LIMIT_BYTES` (else `413`, whether the length is
//!   announced or streamed), before the request takes a slot: a client that
//!   trickles its body holds nothing that other requests need.
//! - [`take_slot`]: at most `MAX_CONCURRENT_REQUESTS` requests are handled at
//!   once; one that waits longer than `QUEUE_TIMEOUT_MS` for a slot is answered
//!   `503` with `Retry-After`, so the queue cannot grow without bound. The probes
//!   (`/healthz`, `/readyz`) are exempt and never wait.
//! - The request timeout (`408`) is a tower-http layer, composed with the others
//!   in [`crate::app`].

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json;
use tokio::sync::Semaphore;

fn refusal(status: StatusCode, error: &str, description: String) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

fn too_large(limit: usize) -> Response {
    refusal(
        StatusCode::PAYLOAD_TOO_LARGE,
        "request_too_large",
        format!("The request body is over {limit} bytes"),
    )
}

/// What [`read_body`] enforces.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub deadline: Duration,
}

/// Reads the body up to `max_bytes` within `deadline`, then hands it on whole.
/// Written here rather than with tower-http's `RequestBodyLimitLayer`: that one
/// answers `413` only for an announced `Content-Length`; a streamed body over the
/// limit fails inside the handler instead, which the server functions would turn
/// into a `500`. And it has no deadline of its own.
pub async fn read_body(State(limits): State<BodyLimits>, request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limits.max_bytes as u64) {
        return too_large(limits.max_bytes);
    }
    // Most requests (GET) have no body at all: nothing to read or wait for.
    if request.body().size_hint().exact() == Some(0) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let read = Limited::new(body, limits.max_bytes).collect();
    let bytes = match tokio::time::timeout(limits.deadline, read).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(error)) if error.downcast_ref::<LengthLimitError>().is_some() => {
            return too_large(limits.max_bytes)
        }
        Ok(Err(_)) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request body could not be read".into(),
            )
        }
        Err(_) => {
            return refusal(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                format!(
                    "The request body did not arrive within {} s",
                    limits.deadline.as_secs()
                ),
            )
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The slots of [`take_slot`]: `MAX_CONCURRENT_REQUESTS`, the longest wait, and
/// the paths that never wait (the probes: a liveness check queued behind
/// application load would report a busy server as dead).
#[derive(Clone, Debug)]
pub struct Slots {
    permits: Arc<Semaphore>,
    wait: Duration,
    exempt: &'static [&'static str],
}

impl Slots {
    pub fn new(max_concurrent: usize, wait: Duration, exempt: &'static [&'static str]) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max_concurrent)),
            wait,
            exempt,
        }
    }
}

/// Seconds a client is told to wait after a `503` for a full queue.
pub const BUSY_RETRY_AFTER_SECS: u32 = 1;

/// Runs the request in one of the slots, waiting for one at most `wait`. Written
/// here: tower's concurrency limit waits without bound, and its load shedding
/// does not wait at all.
pub async fn take_slot(State(slots): State<Slots>, request: Request, next: Next) -> Response {
    if slots.exempt.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    // A free slot at once (the usual case) needs no timer.
    let permit = match slots.permits.clone().try_acquire_owned() {
        Ok(permit) => Ok(Ok(permit)),
        Err(_) => tokio::time::timeout(slots.wait, slots.permits.clone().acquire_owned()).await,
    };
    let permit = match permit {
        Ok(Ok(permit)) => permit,
        // Timed out (or closed, which never happens): too busy now.
        _ => {
            let mut response = refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "The server is busy; retry shortly".into(),
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(BUSY_RETRY_AFTER_SECS),
            );
            return response;
        }
    };
    let response = next.run(request).await;
    drop(permit);
    response
}
