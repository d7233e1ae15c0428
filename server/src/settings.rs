//! Every setting the server runs with, read in one place ([`Settings::from_env`]):
//! the verifier's (`access_token_verifier::config`), the app's (`app::config`)
//! and the network-facing ones here ([`ServerSettings`]). The README's
//! "Configuration" table lists them all; `server/tests/settings_table.rs` fails
//! when the code reads a setting the table does not list, or the other way round.
//!
//! The network-facing settings are [`SETTINGS`]; their defaults are in
//! [`ServerSettings::default`] and their meaning in the README's table.
//!
//! `PUBLIC_URL` (HSTS when `https`) is the verifier's setting, shared.

use std::time::Duration;

use std::path::Path;

use access_token_verifier::config::{non_empty, number, ConfigError};
use app::config::{AppConfig, ConfigFile, DEFAULT_CONFIG_FILE};
use app::login::TokenStorage;

use crate::session::{ClientAuth, KeyRing, Secret};

/// The environment variables this module reads itself.
pub const SETTINGS: &[&str] = &[
    "HEADER_READ_TIMEOUT_SECS",
    "IDLE_TIMEOUT_SECS",
    "MAX_HEADER_BYTES",
    "MAX_STREAMS_PER_CONNECTION",
    "BODY_READ_TIMEOUT_SECS",
    "REQUEST_TIMEOUT_SECS",
    "MAX_CONNECTIONS",
    "MAX_CONCURRENT_REQUESTS",
    "QUEUE_TIMEOUT_MS",
    "BODY_LIMIT_BYTES",
    "SHUTDOWN_GRACE_SECS",
    "METRICS_ADDR",
    "LOG_FORMAT",
    "AUTH0_CLIENT_SECRET",
    "AUTH0_CLIENT_AUTH_METHOD",
    "SESSION_SECRET",
    "SESSION_IDLE_TIMEOUT_SECS",
    "SESSION_MAX_AGE_SECS",
    "SESSION_FILE",
];

/// Read by libraries, not by this code: `LEPTOS_SITE_ADDR` (and the other
/// `LEPTOS_*` values cargo-leptos sets) by `leptos::get_configuration`, `RUST_LOG`
/// by `tracing_subscriber::EnvFilter`.
pub const READ_BY_LIBRARIES: &[&str] = &["LEPTOS_SITE_ADDR", "RUST_LOG"];

/// Everything the server runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The verifier's and the browser's settings (`auth_config.json` and `AUTH0_*`).
    pub app: AppConfig,
    /// How the server faces the network.
    pub server: ServerSettings,
    /// `server` token storage: `Some` exactly in that mode.
    pub session: Option<SessionSettings>,
}

/// `server` token storage: how the server logs in and keeps sessions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSettings {
    /// `AUTH0_CLIENT_SECRET`: a confidential client (an Auth0 Regular Web
    /// Application) when set, else a public one (PKCE only).
    pub client_secret: Option<Secret>,
    /// How the secret is sent to the token and revocation endpoints.
    pub client_auth: ClientAuth,
    /// `SESSION_SECRET`: the first key encrypts, every key decrypts.
    pub keys: KeyRing,
    /// A session unused this long ends (rolling).
    pub idle_timeout: Duration,
    /// A session ends this long after its login, used or not.
    pub max_age: Duration,
    /// The embedded store's file (when `REDIS_URL` is not set).
    pub file: std::path::PathBuf,
}

impl SessionSettings {
    /// Defaults: one day idle, seven days at most, `sessions.redb`. Every
    /// variable is read (and a malformed one refused) in any mode; `None` unless
    /// `server_mode`, where `SESSION_SECRET` is required.
    pub fn from_sources(
        env: impl Fn(&str) -> Option<String>,
        server_mode: bool,
    ) -> Result<Option<Self>, ConfigError> {
        let env = |name: &str| non_empty(env(name));
        let client_auth = match env("AUTH0_CLIENT_AUTH_METHOD").as_deref() {
            None | Some("client_secret_post") => ClientAuth::Post,
            Some("client_secret_basic") => ClientAuth::Basic,
            Some(other) => {
                return Err(ConfigError(format!(
                    "AUTH0_CLIENT_AUTH_METHOD must be client_secret_post or client_secret_basic, not {other:?}"
                )))
            }
        };
        let keys = match env("SESSION_SECRET") {
            Some(text) => Some(KeyRing::parse(&text).map_err(ConfigError)?),
            None => None,
        };
        let idle_timeout = Duration::from_secs(number(
            &env,
            "SESSION_IDLE_TIMEOUT_SECS",
            24 * 3600,
            60..=365 * 24 * 3600,
        )?);
        let max_age = Duration::from_secs(number(
            &env,
            "SESSION_MAX_AGE_SECS",
            7 * 24 * 3600,
            60..=365 * 24 * 3600,
        )?);
        if idle_timeout > max_age {
            return Err(ConfigError(
                "SESSION_IDLE_TIMEOUT_SECS is longer than SESSION_MAX_AGE_SECS".into(),
            ));
        }
        let client_secret = env("AUTH0_CLIENT_SECRET").map(Secret::new);
        let file = env("SESSION_FILE").unwrap_or_else(|| "sessions.redb".into());
        if !server_mode {
            return Ok(None);
        }
        let keys = keys.ok_or_else(|| {
            ConfigError(
                "SESSION_SECRET is not set: server token storage needs at least one key of \
                 32 bytes or more (e.g. `openssl rand -base64 32`)"
                    .into(),
            )
        })?;
        Ok(Some(Self {
            client_secret,
            client_auth,
            keys,
            idle_timeout,
            max_age,
            file: file.into(),
        }))
    }
}

impl Settings {
    /// From the process environment (and the config file `AUTH0_CONFIG` names).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// From `env` (every variable is read through it, the config file's path too).
    pub fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let path = non_empty(env("AUTH0_CONFIG")).unwrap_or_else(|| DEFAULT_CONFIG_FILE.into());
        let file = ConfigFile::read(Path::new(&path))?;
        let app = AppConfig::from_sources(file, &env)?;
        let server = ServerSettings {
            public_url: app.verifier.public_url.clone(),
            ..ServerSettings::from_sources(&env)?
        };
        let server_mode = app.token_storage == TokenStorage::Server;
        let session = SessionSettings::from_sources(&env, server_mode)?;
        if server_mode {
            if app.client_id.is_none() {
                return Err(ConfigError(
                    "AUTH0_CLIENT_ID is not set: server token storage logs in as that application"
                        .into(),
                ));
            }
            if app.use_dpop {
                return Err(ConfigError(
                    "AUTH0_USE_DPOP is true but AUTH0_TOKEN_STORAGE is server: the server does \
                     not hold DPoP keys for its sessions; turn one of them off"
                        .into(),
                ));
            }
        }
        Ok(Self {
            app,
            server,
            session,
        })
    }
}

/// `LOG_FORMAT`: `json` for JSON lines, anything else text. Read before the rest
/// (the logger must exist before the settings are parsed: they log).
pub fn log_format(env: impl Fn(&str) -> Option<String>) -> Option<String> {
    non_empty(env("LOG_FORMAT"))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSettings {
    /// Scheme, host and port the browser uses (behind a proxy: the proxy's).
    pub public_url: Option<url::Url>,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_header_bytes: usize,
    pub max_streams_per_connection: u32,
    pub body_read_timeout: Duration,
    pub request_timeout: Duration,
    pub max_connections: usize,
    pub max_concurrent_requests: usize,
    pub queue_timeout: Duration,
    pub body_limit_bytes: usize,
    pub shutdown_grace: Duration,
    /// Where `/metrics` listens; `None`: not served.
    pub metrics_addr: Option<std::net::SocketAddr>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            public_url: None,
            header_read_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(60),
            max_header_bytes: 32 * 1024,
            max_streams_per_connection: 100,
            body_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_concurrent_requests: 512,
            queue_timeout: Duration::from_millis(2000),
            body_limit_bytes: 8 * 1024,
            shutdown_grace: Duration::from_secs(10),
            metrics_addr: None,
        }
    }
}

impl ServerSettings {
    /// The settings of [`SETTINGS`] from `env` (`public_url` stays `None`: it is
    /// the verifier's, see [`Settings`]).
    pub fn from_sources(env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = |name: &str| {
            env(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let defaults = Self::default();
        let secs = |name: &str, default: Duration, max: u64| {
            number(&env, name, default.as_secs(), 1..=max).map(Duration::from_secs)
        };
        let metrics_addr = match env("METRICS_ADDR") {
            None => None,
            Some(text) => Some(text.parse().map_err(|_| {
                ConfigError(format!(
                    "METRICS_ADDR must be an address like 127.0.0.1:9100, not {text:?}"
                ))
            })?),
        };
        Ok(Self {
            metrics_addr,
            public_url: None,
            header_read_timeout: secs(
                "HEADER_READ_TIMEOUT_SECS",
                defaults.header_read_timeout,
                300,
            )?,
            idle_timeout: secs("IDLE_TIMEOUT_SECS", defaults.idle_timeout, 3600)?,
            max_header_bytes: number(
                &env,
                "MAX_HEADER_BYTES",
                defaults.max_header_bytes as u64,
                8192..=1 << 20,
            )? as usize,
            max_streams_per_connection: number(
                &env,
                "MAX_STREAMS_PER_CONNECTION",
                u64::from(defaults.max_streams_per_connection),
                1..=10_000,
            )? as u32,
            body_read_timeout: secs("BODY_READ_TIMEOUT_SECS", defaults.body_read_timeout, 300)?,
            request_timeout: secs("REQUEST_TIMEOUT_SECS", defaults.request_timeout, 3600)?,
            queue_timeout: Duration::from_millis(number(
                &env,
                "QUEUE_TIMEOUT_MS",
                defaults.queue_timeout.as_millis() as u64,
                1..=600_000,
            )?),
            max_connections: number(
                &env,
                "MAX_CONNECTIONS",
                defaults.max_connections as u64,
                1..=1_000_000,
            )? as usize,
            max_concurrent_requests: number(
                &env,
                "MAX_CONCURRENT_REQUESTS",
                defaults.max_concurrent_requests as u64,
                1..=1_000_000,
            )? as usize,
            body_limit_bytes: number(
                &env,
                "BODY_LIMIT_BYTES",
                defaults.body_limit_bytes as u64,
                256..=16 << 20,
            )? as usize,
            shutdown_grace: secs("SHUTDOWN_GRACE_SECS", defaults.shutdown_grace, 600)?,
        })
    }

    /// HSTS only when the public URL is https (browsers ignore it over http anyway,
    /// and sending it from a dev box would pin `localhost` to https).
    pub fn hsts(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|url| url.scheme() == "https")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<ServerSettings, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ServerSettings::from_sources(|name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(load(&[]).unwrap(), ServerSettings::default());
        let s = load(&[
            ("BODY_LIMIT_BYTES", "4096"),
            ("HEADER_READ_TIMEOUT_SECS", "2"),
        ])
        .unwrap();
        assert_eq!(s.body_limit_bytes, 4096);
        assert_eq!(s.header_read_timeout, Duration::from_secs(2));
        assert!(!s.hsts());
    }

    #[test]
    fn the_verifiers_public_url_turns_on_hsts() {
        let settings = |public_url: &str| {
            let vars = [
                ("AUTH0_CONFIG", "/nonexistent/auth_config.json"),
                ("AUTH0_DOMAIN", "t.auth0.com"),
                ("AUTH0_AUDIENCE", "a"),
                ("PUBLIC_URL", public_url),
            ];
            Settings::from_lookup(|name| {
                vars.iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| value.to_string())
            })
            .unwrap()
        };
        let https = settings("https://app.example.com");
        assert!(https.server.hsts());
        assert_eq!(https.server.public_url, https.app.verifier.public_url);
        assert!(!settings("http://127.0.0.1:3000").server.hsts());
    }

    #[test]
    fn bad_values_name_the_setting() {
        for (name, value) in [
            ("BODY_LIMIT_BYTES", "lots"),
            ("MAX_CONNECTIONS", "0"),
            ("METRICS_ADDR", "localhost"),
        ] {
            let error = load(&[(name, value)]).unwrap_err();
            assert!(error.0.contains(name), "{error}");
        }
    }
}
