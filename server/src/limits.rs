//! Limits for slow and hostile clients, per request. (Per connection, the header
//! read timeout and the connection cap, are in [`crate::serve`].)
//!
//! - [`limit_body`]: a request body over the limit is answered `413` before any
//!   handler runs, whether it announces its length or streams (chunked).
//! - The request timeout (`408`) and the cap on concurrent requests are tower-http
//!   and tower layers, composed with the others in [`crate::app`].

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json;

fn too_large(limit: usize) -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        Json(json!({
            "error": "request_too_large",
            "error_description": format!("The request body is over {limit} bytes"),
        })),
    )
        .into_response()
}

/// Reads the body up to `limit` bytes, then hands it on whole. Written here rather
/// than with tower-http's `RequestBodyLimitLayer`: that one answers `413` only for an
/// announced `Content-Length`; a streamed body over the limit fails inside the
/// handler instead, which the server functions would turn into a `500`.
pub async fn limit_body(State(limit): State<usize>, request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit as u64) {
        return too_large(limit);
    }
    let (parts, body) = request.into_parts();
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            return too_large(limit)
        }
        Err(_) => {
            return (
                StatusCode::BAD_REQUEST,
                "The request body could not be read",
            )
                .into_response()
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
