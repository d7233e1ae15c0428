//! Server functions called by the External API page, and what they return.
//!
//! Each has a fixed, documented URL, so curl, tests and other clients can call them:
//! `POST /api/ping_public`, `POST /api/ping_protected`, `POST /api/ping_scoped`.
//! The protected ones answer with the real HTTP status (401, 403, 400, 503) and an
//! [`ApiError`] the page can show; the browser attaches the access token through
//! [`crate::client::BearerClient`].

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::client::BearerClient;

/// The scope (or Auth0 permission) "Ping scoped" and `/api/private-scoped` require.
pub const READ_MESSAGES: &str = "read:messages";

/// The server functions that act for the signed-in user: with `server` token
/// storage the server adds the session's access token to these calls.
pub const SESSION_TOKEN_CALLS: &[&str] = &["/api/ping_protected", "/api/ping_scoped"];

/// The JSON body of every successful API answer: `{"message": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub message: String,
}

/// Why an API call failed, as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApiError {
    /// The API refused the call: its HTTP status and RFC 6750 error.
    Refused {
        status: u16,
        error: String,
        description: String,
    },
    /// No usable answer: the server is down, the network failed, the reply was unreadable.
    Failed(String),
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Refused { status, .. } => Some(*status),
            Self::Failed(_) => None,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused {
                status,
                description,
                ..
            } => {
                let reason = match status {
                    400 => "Bad Request",
                    401 => "Unauthorized",
                    403 => "Forbidden",
                    503 => "Service Unavailable",
                    _ => "Error",
                };
                write!(f, "{status} {reason}: {description}")
            }
            Self::Failed(why) => write!(f, "The API could not be reached: {why}"),
        }
    }
}

impl std::error::Error for ApiError {}

impl crate::client::CallError for ApiError {
    fn status(&self) -> Option<u16> {
        ApiError::status(self)
    }

    fn error_code(&self) -> Option<&str> {
        match self {
            Self::Refused { error, .. } => Some(error),
            Self::Failed(_) => None,
        }
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        Self::Failed(error.to_string())
    }
}

/// "Ping public": no authentication needed.
#[server(prefix = "/api", endpoint = "ping_public")]
pub async fn ping_public() -> Result<Message, ApiError> {
    Ok(ssr::public_message())
}

/// "Ping protected": needs a valid access token.
#[server(prefix = "/api", endpoint = "ping_protected", client = BearerClient)]
pub async fn ping_protected() -> Result<Message, ApiError> {
    ssr::authenticate().await?;
    Ok(ssr::private_message())
}

/// "Ping scoped": needs a valid access token granting `read:messages`.
#[server(prefix = "/api", endpoint = "ping_scoped", client = BearerClient)]
pub async fn ping_scoped() -> Result<Message, ApiError> {
    ssr::authenticate()
        .await?
        .require_scope(READ_MESSAGES)
        .map_err(ssr::refuse)?;
    Ok(ssr::scoped_message())
}

/// Server-only half: the answers, shared by the server functions above and the REST
/// routes in the `server` crate so both say the same thing, and the auth glue.
#[cfg(feature = "ssr")]
pub mod ssr {
    use super::{ApiError, Message};
    use access_token_verifier::{Authenticated, Refusal};

    fn message(text: &str) -> Message {
        Message {
            message: text.to_owned(),
        }
    }

    /// `GET /api/public`, `POST /api/ping_public`.
    pub fn public_message() -> Message {
        message("Hello from a public endpoint! You don't need to be authenticated to see this.")
    }

    /// `GET /api/private`, `POST /api/ping_protected`.
    pub fn private_message() -> Message {
        message("Hello from a private endpoint! You need to be authenticated to see this.")
    }

    /// `GET /api/private-scoped`, `POST /api/ping_scoped`.
    pub fn scoped_message() -> Message {
        message(
            "Hello from a private endpoint! You need to be authenticated and have a scope of \
             read:messages to see this.",
        )
    }

    /// The verified caller, through the same extractor the REST routes use.
    pub async fn authenticate() -> Result<Authenticated, ApiError> {
        match leptos_axum::extract::<Result<Authenticated, Refusal>>().await {
            Ok(Ok(authenticated)) => Ok(authenticated),
            Ok(Err(refusal)) => Err(refuse(refusal)),
            Err(error) => Err(ApiError::Failed(error.to_string())),
        }
    }

    /// Puts the refusal's status and headers (`WWW-Authenticate`, `Retry-After`,
    /// `DPoP-Nonce`) on the server function's response, and turns it into what the
    /// page shows.
    pub fn refuse(refusal: impl Into<Refusal>) -> ApiError {
        let refusal = refusal.into();
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(refusal.status());
            for (name, value) in refusal.headers() {
                response.insert_header(name, value);
            }
        }
        ApiError::Refused {
            status: refusal.status().as_u16(),
            error: refusal.error.code().to_owned(),
            description: refusal.error.description().to_owned(),
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ping_public_returns_the_public_message() {
        let answer = ping_public().await.expect("ping_public never fails");
        assert_eq!(answer, ssr::public_message());
        assert!(answer.message.contains("public endpoint"));
    }

    #[test]
    fn refusals_read_like_http() {
        let error = ssr::refuse(access_token_verifier::AuthError::InsufficientScope(
            READ_MESSAGES,
        ));
        assert_eq!(error.status(), Some(403));
        assert!(error.to_string().starts_with("403 Forbidden: "), "{error}");
    }
}
