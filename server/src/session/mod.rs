//! `server` token storage (`AUTH0_TOKEN_STORAGE=server`): a backend for frontend.
//! The server is the OAuth client: it logs in, keeps the tokens in its session
//! store, renews them, and gives the browser only an `HttpOnly` cookie with an
//! opaque id. Pages are rendered knowing who is signed in; the server functions
//! take the access token from the session and go through the same verifier as
//! every other call.
//!
//! Layout (imports go down the list):
//! - [`keyring`]: `SESSION_SECRET`'s keys; AES-256-GCM for records and cookies.
//! - [`cookies`]: the session and login-transaction cookies (`__Host-` over https).
//! - [`store`]: [`store::SessionStore`], the embedded file or Redis.
//! - [`oidc`]: discovery, authorize URL, token endpoint, revocation.
//! - [`sessions`]: [`Sessions`]: a session's record, its lifetimes, the login
//!   transaction, single-flight renewal (in process and across replicas).
//! - [`routes`]: `GET /auth/login`, the server's `/callback`, `POST /auth/logout`,
//!   and [`routes::layer`]: every request's session (rendered pages, tokens for
//!   the server functions) and the cross-site refusal (CSRF).

pub mod cookies;
pub mod keyring;
pub mod oidc;
pub mod routes;
pub mod sessions;
pub mod store;

pub use keyring::KeyRing;
pub use sessions::Sessions;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// How the client authenticates at the token and revocation endpoints when it
/// has a secret (`AUTH0_CLIENT_AUTH_METHOD`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret_post`: in the form (an Auth0 Regular Web Application's default).
    #[default]
    Post,
    /// `client_secret_basic`: HTTP Basic.
    Basic,
}

/// A secret setting: its `Debug` never shows it (settings are logged).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: String) -> Self {
        Self(text)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// 32 random bytes, base64url: session ids, `state`, `nonce`, PKCE verifiers, lock tokens.
pub fn random_id() -> String {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system's random source works");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256, base64url.
pub fn sha256_b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        text.as_bytes(),
    ))
}
