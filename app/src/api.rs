//! Server functions called by the External API page, and what they return.
//!
//! Each has a fixed, documented URL (`/api/<endpoint>`), so that curl, tests and
//! other clients can call them too: `POST /api/ping_public`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The JSON body of every successful API answer: `{"message": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub message: String,
}

/// "Ping public": no authentication needed.
#[server(prefix = "/api", endpoint = "ping_public")]
pub async fn ping_public() -> Result<Message, ServerFnError> {
    Ok(ssr::public_message())
}

/// Server-only half: the answers themselves, shared by the server functions above
/// and the plain REST routes in the `server` crate, so both say the same thing.
#[cfg(feature = "ssr")]
pub mod ssr {
    use super::Message;

    /// The answer of `GET /api/public` and `POST /api/ping_public`.
    pub fn public_message() -> Message {
        Message {
            message:
                "Hello from a public endpoint! You don't need to be authenticated to see this."
                    .to_owned(),
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
}
