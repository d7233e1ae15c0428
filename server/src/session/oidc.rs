//! The server's OAuth client: discovery, the authorize URL, the token endpoint
//! (code exchange, refresh) and revocation, as a public client or a
//! confidential one (`client_secret_post` or `client_secret_basic`).

use std::time::Duration;

use app::login::protocol::Discovery;
pub use app::login::protocol::TokenResponse;
use app::login::urls::form;
use app::login::PublicAuthConfig;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use tokio::sync::OnceCell;

use super::{ClientAuth, Secret};

/// How long a call to the IdP may take.
const IDP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a call to the IdP failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdpError {
    /// The IdP answered with an OAuth error (`invalid_grant`, ...).
    Refused { error: String, description: String },
    /// No usable answer: network, timeout, 5xx, unreadable. Worth retrying.
    Unavailable(String),
}

impl IdpError {
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, Self::Refused { error, .. } if error == "invalid_grant")
    }
}

impl std::fmt::Display for IdpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused { error, description } if description.is_empty() => {
                write!(f, "the login service refused: {error}")
            }
            Self::Refused { error, description } => {
                write!(f, "the login service refused: {description} ({error})")
            }
            Self::Unavailable(why) => write!(f, "the login service could not be reached: {why}"),
        }
    }
}

/// The app's client at the IdP.
pub struct OidcClient {
    pub config: PublicAuthConfig,
    secret: Option<Secret>,
    auth: ClientAuth,
    http: reqwest::Client,
    discovery: OnceCell<Discovery>,
}

fn unavailable(error: impl std::fmt::Display) -> IdpError {
    IdpError::Unavailable(error.to_string())
}

impl OidcClient {
    pub fn new(config: PublicAuthConfig, secret: Option<Secret>, auth: ClientAuth) -> Self {
        let http = reqwest::Client::builder()
            .timeout(IDP_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a plain reqwest client builds");
        Self {
            config,
            secret,
            auth,
            http,
            discovery: OnceCell::new(),
        }
    }

    /// The issuer's endpoints (fetched once; a failure is retried on the next call).
    pub async fn discovery(&self) -> Result<&Discovery, IdpError> {
        self.discovery
            .get_or_try_init(|| async {
                let url = Discovery::url(&self.config.issuer);
                let response = self.http.get(&url).send().await.map_err(unavailable)?;
                if !response.status().is_success() {
                    return Err(unavailable(format!(
                        "discovery answered {}",
                        response.status()
                    )));
                }
                let discovery: Discovery = response.json().await.map_err(unavailable)?;
                // As the browser's login checks it (the twin of this client).
                discovery
                    .check_issuer(&self.config.issuer)
                    .map_err(unavailable)?;
                Ok(discovery)
            })
            .await
    }

    /// Where the browser goes to log in.
    pub fn authorize_url(
        &self,
        discovery: &Discovery,
        redirect_uri: &str,
        state: &str,
        nonce: &str,
        challenge: &str,
        prompt: Option<&str>,
    ) -> String {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", self.config.client_id.as_str()),
            ("redirect_uri", redirect_uri),
            ("scope", self.config.scope.as_str()),
            ("audience", self.config.audience.as_str()),
            ("state", state),
            ("nonce", nonce),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ];
        if let Some(prompt) = prompt {
            params.push(("prompt", prompt));
        }
        let separator = if discovery.authorization_endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{separator}{}",
            discovery.authorization_endpoint,
            form(&params)
        )
    }

    /// A POST to `url` with the client's authentication added.
    async fn post(&self, url: &str, pairs: &[(&str, &str)]) -> Result<reqwest::Response, IdpError> {
        let mut pairs = pairs.to_vec();
        pairs.push(("client_id", self.config.client_id.as_str()));
        let mut request = self.http.post(url);
        match (&self.secret, self.auth) {
            (Some(secret), ClientAuth::Post) => pairs.push(("client_secret", secret.expose())),
            (Some(secret), ClientAuth::Basic) => {
                // RFC 6749 2.3.1: each part form-encoded, then Basic.
                let encode = |text: &str| {
                    url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
                };
                let credentials = format!(
                    "{}:{}",
                    encode(&self.config.client_id),
                    encode(secret.expose())
                );
                request = request.header(
                    "authorization",
                    format!("Basic {}", STANDARD.encode(credentials)),
                );
            }
            (None, _) => {}
        }
        request
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(form(&pairs))
            .send()
            .await
            .map_err(unavailable)
    }

    /// The token endpoint with `pairs`: the tokens, or why not.
    async fn token_request(&self, pairs: &[(&str, &str)]) -> Result<TokenResponse, IdpError> {
        let discovery = self.discovery().await?;
        let response = self.post(&discovery.token_endpoint, pairs).await?;
        let status = response.status();
        if status.is_server_error() {
            return Err(unavailable(format!("the token endpoint answered {status}")));
        }
        let body: serde_json::Value = response.json().await.map_err(unavailable)?;
        if !status.is_success() {
            let text = |name: &str| {
                body.get(name)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            return Err(IdpError::Refused {
                error: match text("error") {
                    error if error.is_empty() => format!("HTTP {status}"),
                    error => error,
                },
                description: text("error_description"),
            });
        }
        serde_json::from_value(body).map_err(unavailable)
    }

    /// Exchanges a login's code (with its PKCE verifier).
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<TokenResponse, IdpError> {
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", verifier),
            ("redirect_uri", redirect_uri),
        ])
        .await
    }

    /// Renews with a refresh token.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenResponse, IdpError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// Revokes a refresh token (RFC 7009), when the issuer has the endpoint.
    pub async fn revoke(&self, refresh_token: &str) -> Result<(), IdpError> {
        let discovery = self.discovery().await?;
        let Some(endpoint) = &discovery.revocation_endpoint else {
            return Ok(());
        };
        let response = self
            .post(
                endpoint,
                &[
                    ("token", refresh_token),
                    ("token_type_hint", "refresh_token"),
                ],
            )
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(unavailable(format!(
                "the revocation endpoint answered {}",
                response.status()
            )))
        }
    }
}
