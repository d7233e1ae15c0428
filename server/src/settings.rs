//! [`ServerSettings`]: how the server faces the network (public URL, limits), from
//! the environment. Token settings are `app::auth::AuthConfig`.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `PUBLIC_URL` | | the app's public origin, e.g. `https://app.example.com`; `https` turns on HSTS |
//! | `HEADER_READ_TIMEOUT_SECS` | 5 | a connection must deliver a complete request (HTTP/1 head, HTTP/2 preface and first request) within this, and each later HTTP/1 head; else it is closed |
//! | `IDLE_TIMEOUT_SECS` | 60 | a kept-alive connection (HTTP/1 or HTTP/2) with no request in flight for this long is closed |
//! | `MAX_HEADER_BYTES` | 32768 | largest request head (HTTP/1) or header list (HTTP/2) |
//! | `MAX_STREAMS_PER_CONNECTION` | 100 | concurrent HTTP/2 streams on one connection |
//! | `BODY_READ_TIMEOUT_SECS` | 10 | a request body must arrive within this (before the request takes a slot); then `408` |
//! | `REQUEST_TIMEOUT_SECS` | 30 | handling a request, once its body is in; then `408` |
//! | `MAX_CONNECTIONS` | 1024 | open connections; more wait in the accept queue |
//! | `MAX_CONCURRENT_REQUESTS` | 512 | requests handled at once (probes excepted); more wait their turn |
//! | `QUEUE_TIMEOUT_MS` | 2000 | longest wait for one of those slots; then `503` with `Retry-After` |
//! | `BODY_LIMIT_BYTES` | 8192 | largest request body (server functions, REST); then `413` |
//! | `SHUTDOWN_GRACE_SECS` | 10 | on SIGTERM/Ctrl-C, in-flight requests get this long |
//! | `REDIS_URL` | | `redis://host:port/db`: DPoP replay store (and nonce secret) shared by every replica; in process when unset |
//! | `METRICS_ADDR` | | where `/metrics` (Prometheus) listens, e.g. `127.0.0.1:9100`; off when unset |
//! | `LOG_FORMAT` | `text` | `json`: one JSON object per log line |

use std::time::Duration;

use app::auth::config::{number, ConfigError};

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
    /// The shared DPoP replay store; `None`: in process.
    pub redis_url: Option<String>,
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
            redis_url: None,
        }
    }
}

impl ServerSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_sources(|name| std::env::var(name).ok())
    }

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
        let public_url = match env("PUBLIC_URL") {
            None => None,
            Some(text) => {
                let url = url::Url::parse(&text).ok().filter(|url| {
                    matches!(url.scheme(), "http" | "https")
                        && url.host_str().is_some()
                        && url.path() == "/"
                        && url.query().is_none()
                });
                Some(url.ok_or_else(|| {
                    ConfigError(format!(
                        "PUBLIC_URL must be an origin like https://app.example.com, not {text:?}"
                    ))
                })?)
            }
        };
        let metrics_addr = match env("METRICS_ADDR") {
            None => None,
            Some(text) => Some(text.parse().map_err(|_| {
                ConfigError(format!(
                    "METRICS_ADDR must be an address like 127.0.0.1:9100, not {text:?}"
                ))
            })?),
        };
        let redis_url = match env("REDIS_URL") {
            None => None,
            Some(text) if text.starts_with("redis://") => Some(text),
            Some(text) if text.starts_with("rediss://") => {
                return Err(ConfigError(
                    "REDIS_URL: rediss:// (TLS) is not built in; reach Redis over a private \
                     network or a TLS tunnel and use redis://"
                        .into(),
                ))
            }
            Some(_) => {
                return Err(ConfigError(
                    "REDIS_URL must look like redis://host:port/db".into(),
                ))
            }
        };
        Ok(Self {
            metrics_addr,
            redis_url,
            public_url,
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
        assert!(load(&[("PUBLIC_URL", "https://app.example.com")])
            .unwrap()
            .hsts());
        assert!(!load(&[("PUBLIC_URL", "http://127.0.0.1:3000")])
            .unwrap()
            .hsts());
    }

    #[test]
    fn bad_values_name_the_setting() {
        for (name, value) in [
            ("PUBLIC_URL", "app.example.com"),
            ("PUBLIC_URL", "https://app.example.com/path"),
            ("BODY_LIMIT_BYTES", "lots"),
            ("MAX_CONNECTIONS", "0"),
            ("METRICS_ADDR", "localhost"),
            ("REDIS_URL", "localhost:6379"),
            ("REDIS_URL", "rediss://cache.example.com:6380/"),
        ] {
            let error = load(&[(name, value)]).unwrap_err();
            assert!(error.0.contains(name), "{error}");
        }
    }
}
