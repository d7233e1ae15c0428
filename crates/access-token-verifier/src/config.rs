//! [`VerifierConfig`]: who issues the tokens an API accepts, for which audience,
//! and how carefully; from the environment ([`VerifierConfig::from_env`]) or built
//! in code ([`VerifierConfig::new`]).
//!
//! The variables and their defaults are in the crate's README ("Settings"),
//! and in [`SETTINGS`]; a test checks the two agree.
//!
//! Anything missing or malformed is a [`ConfigError`]: one line naming the setting.

use std::time::Duration;

use crate::dpop::nonce::DEFAULT_PERIOD as DEFAULT_NONCE_PERIOD;
use crate::dpop::DpopSettings;

/// Every environment variable [`VerifierConfig::from_env`] reads.
pub const SETTINGS: &[&str] = &[
    "AUTH0_DOMAIN",
    "AUTH0_ISSUER",
    "AUTH0_AUDIENCE",
    "API_PERMISSIONS_ONLY",
    "JWT_CLOCK_TOLERANCE_SECS",
    "JWKS_REFRESH_SECS",
    "JWKS_MAX_FETCHES_PER_MINUTE",
    "DPOP_MODE",
    "DPOP_NONCE",
    "DPOP_IAT_WINDOW_SECS",
    "DPOP_PROOFS_PER_KEY_PER_MINUTE",
    "PUBLIC_URL",
    "REDIS_URL",
];

/// How the issuer's signing keys (JWKS) are fetched and kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwksSettings {
    /// Period of the background refresh (`JWKS_REFRESH_SECS`).
    pub refresh_interval: Duration,
    /// On-demand refetches (unknown `kid`) allowed per `fetch_window`.
    pub max_fetches_per_minute: u32,
    /// The rate limit's window: a minute, shorter only in tests.
    pub fetch_window: Duration,
    /// Longest wait for the issuer's discovery document or JWKS.
    pub fetch_timeout: Duration,
}

impl Default for JwksSettings {
    fn default() -> Self {
        Self {
            refresh_interval: Duration::from_secs(600),
            max_fetches_per_minute: 5,
            fetch_window: Duration::from_secs(60),
            fetch_timeout: Duration::from_secs(5),
        }
    }
}

/// Everything a [`crate::Verifier`] checks tokens against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierConfig {
    /// Exactly as tokens carry it in `iss` (Auth0: `https://DOMAIN/`, trailing slash).
    pub issuer: String,
    /// The API identifier tokens must carry in `aud`.
    pub audience: String,
    /// A required scope counts only from the token's `permissions` (Auth0 RBAC),
    /// never from `scope`, which a client can ask for when RBAC is off.
    pub permissions_only: bool,
    /// Leeway on `exp` and `nbf`, in seconds.
    pub clock_tolerance_secs: u64,
    /// Key fetching and refresh.
    pub jwks: JwksSettings,
    /// What DPoP the API accepts, and how strictly.
    pub dpop: DpopSettings,
    /// The origin clients use (`PUBLIC_URL`): DPoP proofs' `htu` is checked
    /// against it. `None`: `http://` and the request's `Host`.
    pub public_url: Option<url::Url>,
    /// The shared DPoP replay store (`REDIS_URL`); `None`: in process.
    pub redis_url: Option<String>,
}

impl VerifierConfig {
    /// Tokens from `issuer` (exactly as in their `iss`) for `audience`, every
    /// other setting at its default.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            permissions_only: false,
            clock_tolerance_secs: 5,
            jwks: JwksSettings::default(),
            dpop: DpopSettings::default(),
            public_url: None,
            redis_url: None,
        }
    }

    /// From the process environment (the variables in [`SETTINGS`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// From `lookup` (a variable's name to its value), so tests and other
    /// sources (a config file) can feed the same rules. Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = |name: &str| non_empty(lookup(name));

        let issuer = match (env("AUTH0_ISSUER"), env("AUTH0_DOMAIN")) {
            (Some(_), Some(_)) => {
                return Err(ConfigError(
                    "AUTH0_ISSUER and AUTH0_DOMAIN are both set: set only one".into(),
                ))
            }
            (Some(issuer), None) => parse_issuer(&issuer, "AUTH0_ISSUER")?,
            (None, Some(domain)) => issuer_from_domain(&domain, "AUTH0_DOMAIN")?,
            (None, None) => {
                return Err(ConfigError(
                    "AUTH0_DOMAIN is not set: set AUTH0_DOMAIN (your Auth0 tenant, e.g. \
                     your-tenant.us.auth0.com) or AUTH0_ISSUER"
                        .into(),
                ))
            }
        };
        let audience = env("AUTH0_AUDIENCE").ok_or_else(|| {
            ConfigError(
                "AUTH0_AUDIENCE is not set: set AUTH0_AUDIENCE (your API's identifier in the \
                 Auth0 dashboard)"
                    .into(),
            )
        })?;
        if audience.chars().any(char::is_whitespace) {
            return Err(ConfigError("AUTH0_AUDIENCE must not contain spaces".into()));
        }
        let permissions_only = flag(&env, "API_PERMISSIONS_ONLY")?.unwrap_or(false);

        let dpop_defaults = DpopSettings::default();
        let dpop = DpopSettings {
            mode: match env("DPOP_MODE") {
                None => dpop_defaults.mode,
                Some(text) => text.parse().map_err(|()| {
                    ConfigError(format!(
                        "DPOP_MODE must be off, allowed or required, not {text:?}"
                    ))
                })?,
            },
            iat_window: Duration::from_secs(number(
                &env,
                "DPOP_IAT_WINDOW_SECS",
                dpop_defaults.iat_window.as_secs(),
                5..=600,
            )?),
            nonce_period: flag(&env, "DPOP_NONCE")?
                .unwrap_or(false)
                .then_some(DEFAULT_NONCE_PERIOD),
            proofs_per_key_per_minute: number(
                &env,
                "DPOP_PROOFS_PER_KEY_PER_MINUTE",
                u64::from(dpop_defaults.proofs_per_key_per_minute),
                1..=1_000_000,
            )? as u32,
        };

        let defaults = JwksSettings::default();
        Ok(Self {
            issuer,
            audience,
            permissions_only,
            clock_tolerance_secs: number(&env, "JWT_CLOCK_TOLERANCE_SECS", 5, 0..=300)?,
            jwks: JwksSettings {
                refresh_interval: Duration::from_secs(number(
                    &env,
                    "JWKS_REFRESH_SECS",
                    defaults.refresh_interval.as_secs(),
                    10..=86_400,
                )?),
                max_fetches_per_minute: number(
                    &env,
                    "JWKS_MAX_FETCHES_PER_MINUTE",
                    u64::from(defaults.max_fetches_per_minute),
                    0..=600,
                )? as u32,
                ..defaults
            },
            dpop,
            public_url: env("PUBLIC_URL")
                .map(|text| parse_public_url(&text))
                .transpose()?,
            redis_url: env("REDIS_URL")
                .map(|text| parse_redis_url(&text))
                .transpose()?,
        })
    }
}

/// One line that names the setting at fault and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// `value` trimmed, `None` when empty.
pub fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A `true`/`false` setting `name` from `env` (`1`/`0` too); `None` when unset.
pub fn flag(
    env: &impl Fn(&str) -> Option<String>,
    name: &str,
) -> Result<Option<bool>, ConfigError> {
    match env(name).as_deref() {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(text) => Err(ConfigError(format!(
            "{name} must be true or false, not {text:?}"
        ))),
    }
}

/// A whole-number setting `name` from `env`, `default` when unset, within `range`.
pub fn number(
    env: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let Some(text) = env(name) else {
        return Ok(default);
    };
    match text.parse::<u64>() {
        Ok(value) if range.contains(&value) => Ok(value),
        _ => Err(ConfigError(format!(
            "{name} must be a whole number from {} to {}, not {text:?}",
            range.start(),
            range.end()
        ))),
    }
}

/// `localhost`, 127.0.0.0/8 or ::1 (where plain `http` is allowed).
pub fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::Ipv6Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// An issuer URL as `setting` gave it: `https` (plain `http` only on loopback),
/// no query, fragment or user; kept exactly as written.
pub fn parse_issuer(text: &str, setting: &str) -> Result<String, ConfigError> {
    let url = url::Url::parse(text).map_err(|_| {
        ConfigError(format!(
            "{setting} must be a URL like https://your-tenant.us.auth0.com/, not {text:?}"
        ))
    })?;
    let host = url.host_str().unwrap_or_default();
    let ok_scheme = match url.scheme() {
        "https" => true,
        "http" => is_loopback(host),
        _ => false,
    };
    if !ok_scheme || host.is_empty() {
        return Err(ConfigError(format!(
            "{setting} must be an https URL (plain http only for localhost/127.0.0.1), not {text:?}"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(ConfigError(format!(
            "{setting} must not have a query, fragment or user: {text:?}"
        )));
    }
    // Kept exactly as written: it must equal the tokens' `iss` byte for byte.
    Ok(text.to_owned())
}

/// `https://DOMAIN/` for an Auth0 tenant domain given by `setting`.
pub fn issuer_from_domain(domain: &str, setting: &str) -> Result<String, ConfigError> {
    let valid = !domain.is_empty()
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == ':');
    if !valid {
        return Err(ConfigError(format!(
            "{setting} must be a host name like your-tenant.us.auth0.com (no https://, no path), not {domain:?}"
        )));
    }
    parse_issuer(&format!("https://{domain}/"), setting)
}

/// `PUBLIC_URL`: an `http` or `https` origin (no path, query or user).
pub fn parse_public_url(text: &str) -> Result<url::Url, ConfigError> {
    url::Url::parse(text)
        .ok()
        .filter(|url| {
            matches!(url.scheme(), "http" | "https")
                && url.host_str().is_some()
                && url.path() == "/"
                && url.query().is_none()
                && url.username().is_empty()
        })
        .ok_or_else(|| {
            ConfigError(format!(
                "PUBLIC_URL must be an origin like https://app.example.com, not {text:?}"
            ))
        })
}

/// `REDIS_URL`: `redis://` only (never echoed back: it may hold a password).
pub fn parse_redis_url(text: &str) -> Result<String, ConfigError> {
    if text.starts_with("redis://") {
        Ok(text.to_owned())
    } else if text.starts_with("rediss://") {
        Err(ConfigError(
            "REDIS_URL: rediss:// (TLS) is not built in; reach Redis over a private \
             network or a TLS tunnel and use redis://"
                .into(),
        ))
    } else {
        Err(ConfigError(
            "REDIS_URL must look like redis://host:port/db".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dpop::DpopMode;

    fn load(vars: &[(&str, &str)]) -> Result<VerifierConfig, ConfigError> {
        VerifierConfig::from_lookup(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
    }

    #[test]
    fn domain_becomes_an_https_issuer_with_trailing_slash() {
        let config = load(&[
            ("AUTH0_DOMAIN", "t.eu.auth0.com"),
            ("AUTH0_AUDIENCE", "https://api"),
        ])
        .unwrap();
        assert_eq!(
            config,
            VerifierConfig::new("https://t.eu.auth0.com/", "https://api")
        );
    }

    #[test]
    fn missing_or_malformed_settings_name_the_setting() {
        let base = [("AUTH0_DOMAIN", "t.auth0.com"), ("AUTH0_AUDIENCE", "a")];
        let with = |extra: (&'static str, &'static str)| {
            // First, so it wins over `base`.
            let mut vars = vec![extra];
            vars.extend(base);
            vars
        };
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (vec![("AUTH0_AUDIENCE", "a")], "AUTH0_DOMAIN is not set"),
            (vec![base[0]], "AUTH0_AUDIENCE is not set"),
            (
                vec![("AUTH0_DOMAIN", "https://t.auth0.com"), base[1]],
                "AUTH0_DOMAIN must be a host name",
            ),
            (
                vec![("AUTH0_ISSUER", "http://idp.example.com/"), base[1]],
                "AUTH0_ISSUER must be an https URL",
            ),
            (
                vec![("AUTH0_ISSUER", "not a url"), base[1]],
                "AUTH0_ISSUER must be a URL",
            ),
            (with(("AUTH0_ISSUER", "https://x/")), "both set"),
            (with(("AUTH0_AUDIENCE", "a b")), "must not contain spaces"),
            (
                with(("JWKS_MAX_FETCHES_PER_MINUTE", "lots")),
                "JWKS_MAX_FETCHES_PER_MINUTE must be a whole number",
            ),
            (with(("DPOP_MODE", "sometimes")), "DPOP_MODE must be"),
            (
                with(("DPOP_NONCE", "yes")),
                "DPOP_NONCE must be true or false",
            ),
            (with(("PUBLIC_URL", "app.example.com")), "PUBLIC_URL"),
            (
                with(("PUBLIC_URL", "https://app.example.com/path")),
                "PUBLIC_URL",
            ),
            (with(("REDIS_URL", "localhost:6379")), "REDIS_URL"),
            (
                with(("REDIS_URL", "rediss://:secret@cache.example.com:6380/")),
                "REDIS_URL",
            ),
        ];
        for (vars, expected) in cases {
            let error = load(&vars).expect_err(expected);
            assert!(error.0.contains(expected), "{vars:?} gave {error}");
            assert!(!error.0.contains('\n'), "one line: {error}");
            assert!(!error.0.contains("secret"), "no password echoed: {error}");
        }
    }

    #[test]
    fn every_setting_is_read() {
        let vars = [
            ("AUTH0_ISSUER", "http://127.0.0.1:4000/"),
            ("AUTH0_AUDIENCE", "aud"),
            ("API_PERMISSIONS_ONLY", "true"),
            ("JWT_CLOCK_TOLERANCE_SECS", "7"),
            ("JWKS_REFRESH_SECS", "60"),
            ("JWKS_MAX_FETCHES_PER_MINUTE", "2"),
            ("DPOP_MODE", "required"),
            ("DPOP_NONCE", "1"),
            ("DPOP_IAT_WINDOW_SECS", "30"),
            ("DPOP_PROOFS_PER_KEY_PER_MINUTE", "9"),
            ("PUBLIC_URL", "https://api.example.com"),
            ("REDIS_URL", "redis://127.0.0.1:6379/0"),
        ];
        let config = load(&vars).unwrap();
        assert!(config.permissions_only);
        assert_eq!(config.clock_tolerance_secs, 7);
        assert_eq!(config.jwks.refresh_interval, Duration::from_secs(60));
        assert_eq!(config.jwks.max_fetches_per_minute, 2);
        assert_eq!(config.dpop.mode, DpopMode::Required);
        assert_eq!(config.dpop.nonce_period, Some(DEFAULT_NONCE_PERIOD));
        assert_eq!(config.dpop.iat_window, Duration::from_secs(30));
        assert_eq!(config.dpop.proofs_per_key_per_minute, 9);
        assert_eq!(
            config.public_url.as_ref().map(url::Url::as_str),
            Some("https://api.example.com/")
        );
        assert_eq!(
            config.redis_url.as_deref(),
            Some("redis://127.0.0.1:6379/0")
        );
        // And `SETTINGS` lists exactly what the parser asks for.
        let asked = std::cell::RefCell::new(Vec::new());
        let _ = VerifierConfig::from_lookup(|name| {
            asked.borrow_mut().push(name.to_owned());
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        });
        let mut asked = asked.into_inner();
        asked.sort();
        asked.dedup();
        let mut listed: Vec<String> = SETTINGS.iter().map(|s| s.to_string()).collect();
        listed.sort();
        assert_eq!(asked, listed);
    }

    #[test]
    fn loopback_issuers_may_use_http() {
        for issuer in [
            "http://127.0.0.1:4000/",
            "http://localhost:4000/",
            "http://[::1]:4000/",
        ] {
            let config = load(&[("AUTH0_ISSUER", issuer), ("AUTH0_AUDIENCE", "a")]);
            assert_eq!(config.map(|c| c.issuer).as_deref(), Ok(issuer));
        }
    }
}
