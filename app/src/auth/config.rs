//! [`AuthConfig`]: who issues the tokens the API accepts, for which audience.
//!
//! Read from `auth_config.json` (path: `AUTH0_CONFIG`; the Auth0 sample's keys
//! `domain`, `clientId`, `audience`, `appOrigin`, `apiOrigin`, plus `issuer` for
//! any other OpenID provider), then overridden by the environment. A key the file
//! does not know is refused, naming the known key it was probably meant to be.
//!
//! | variable | meaning |
//! |---|---|
//! | `AUTH0_DOMAIN` | Auth0 tenant domain; the issuer becomes `https://DOMAIN/` |
//! | `AUTH0_ISSUER` | full issuer URL (any OIDC provider); `http` only for loopback hosts |
//! | `AUTH0_AUDIENCE` | the API identifier tokens must be issued for |
//! | `AUTH0_CLIENT_ID` | the SPA's client id (browser login) |
//! | `AUTH0_TOKEN_STORAGE` | where the browser keeps tokens: `memory` (default), `session`, `local` |
//! | `AUTH0_USE_REFRESH_TOKENS` | `true` (default): ask for `offline_access`, renew tokens silently |
//! | `AUTH0_USE_DPOP` | `true`: the browser gets DPoP-bound tokens (`false` by default) |
//! | `DPOP_MODE` | what the API accepts: `off`, `allowed` (default: Bearer and DPoP), `required` |
//! | `DPOP_NONCE` | `true`: DPoP proofs must carry a server nonce (`false` by default) |
//! | `DPOP_IAT_WINDOW_SECS` | how far a proof's `iat` may be from now, either way (60) |
//! | `DPOP_PROOFS_PER_KEY_PER_MINUTE` | proofs one client key may send a minute; past it `429` (600) |
//! | `API_CORS_ALLOWED_ORIGINS` | comma-separated origins allowed to call `/api/*` (none by default; the file's `appOrigin` is added) |
//! | `API_PERMISSIONS_ONLY` | `true`: a required scope must be in the token's `permissions` (Auth0 RBAC), `scope` does not count (`false` by default) |
//! | `JWKS_REFRESH_SECS` | background key refresh period (600) |
//! | `JWKS_MAX_FETCHES_PER_MINUTE` | on-demand refetches on unknown `kid` (5) |
//! | `JWT_CLOCK_TOLERANCE_SECS` | leeway on `exp`/`nbf` (5) |
//!
//! Anything missing or malformed is a [`ConfigError`]: one line naming the setting.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::dpop::nonce::DEFAULT_PERIOD as DEFAULT_NONCE_PERIOD;
use super::dpop::{DpopMode, DpopSettings};
use crate::login::{PublicAuthConfig, TokenStorage};

/// Default config file, relative to the working directory (the repo root).
pub const DEFAULT_CONFIG_FILE: &str = "auth_config.json";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwksSettings {
    pub refresh_interval: Duration,
    /// On-demand refetches (unknown `kid`) allowed per `fetch_window`.
    pub max_fetches_per_minute: u32,
    /// The rate limit's window: a minute, shorter only in tests.
    pub fetch_window: Duration,
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthConfig {
    /// Exactly as tokens carry it in `iss` (Auth0: `https://DOMAIN/`, trailing slash).
    pub issuer: String,
    pub audience: String,
    pub client_id: Option<String>,
    pub token_storage: TokenStorage,
    pub refresh_tokens: bool,
    pub cors_allowed_origins: Vec<String>,
    /// A required scope counts only from the token's `permissions` (Auth0 RBAC),
    /// never from `scope`, which a client can ask for when RBAC is off.
    pub permissions_only: bool,
    pub clock_tolerance_secs: u64,
    pub jwks: JwksSettings,
    /// The browser asks for DPoP-bound tokens.
    pub use_dpop: bool,
    pub dpop: DpopSettings,
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

/// `auth_config.json`, as in Auth0's sample (empty strings count as unset).
/// `appOrigin` and `apiOrigin` are the keys of the sample's React + Express
/// version: its SPA's origin (here: allowed to call `/api/*` from a browser, as
/// the sample's API allowed it) and its API's (here the API is this same server).
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigFile {
    pub app_origin: Option<String>,
    pub api_origin: Option<String>,
    pub permissions_only: Option<bool>,
    pub domain: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub audience: Option<String>,
    pub token_storage: Option<String>,
    pub use_refresh_tokens: Option<bool>,
    pub cors_allowed_origins: Option<Vec<String>>,
    pub use_dpop: Option<bool>,
    pub dpop_mode: Option<String>,
}

/// The keys [`ConfigFile`] reads (serde's names).
pub const CONFIG_FILE_KEYS: &[&str] = &[
    "domain",
    "issuer",
    "clientId",
    "audience",
    "tokenStorage",
    "useRefreshTokens",
    "corsAllowedOrigins",
    "useDpop",
    "dpopMode",
    "appOrigin",
    "apiOrigin",
    "permissionsOnly",
];

/// The known key `unknown` was probably meant to be: the same but for case,
/// `_` or `-`, or at most two edits away.
fn meant_key(unknown: &str) -> Option<&'static str> {
    let folded = |key: &str| key.replace(['_', '-'], "").to_ascii_lowercase();
    let unknown_folded = folded(unknown);
    CONFIG_FILE_KEYS
        .iter()
        .map(|key| (*key, strsim::levenshtein(&unknown_folded, &folded(key))))
        .filter(|(_, distance)| *distance <= 2)
        .min_by_key(|(_, distance)| *distance)
        .map(|(key, _)| key)
}

impl ConfigFile {
    /// Parses the file's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let invalid =
            |error: serde_json::Error| ConfigError(format!("{origin} is not valid: {error}"));
        let value: serde_json::Value = serde_json::from_str(text).map_err(invalid)?;
        // Unknown keys first, by name: serde would only say "unknown field".
        if let Some(object) = value.as_object() {
            for key in object.keys() {
                if CONFIG_FILE_KEYS.contains(&key.as_str()) {
                    continue;
                }
                return Err(ConfigError(match meant_key(key) {
                    Some(meant) => {
                        format!("{origin}: unknown key {key:?}; did you mean {meant:?}?")
                    }
                    None => format!(
                        "{origin}: unknown key {key:?}; the keys are {}",
                        CONFIG_FILE_KEYS.join(", ")
                    ),
                }));
            }
        }
        serde_json::from_value(value).map_err(invalid)
    }

    /// Reads the file; a missing file is an empty one (everything from the environment).
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, &path.display().to_string()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(error) => Err(ConfigError(format!(
                "cannot read {}: {error}",
                path.display()
            ))),
        }
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl AuthConfig {
    /// From the process environment and the config file it names.
    pub fn from_env() -> Result<Self, ConfigError> {
        let path = std::env::var("AUTH0_CONFIG").unwrap_or_else(|_| DEFAULT_CONFIG_FILE.into());
        let file = ConfigFile::read(Path::new(&path))?;
        Self::from_sources(file, |name| std::env::var(name).ok())
    }

    /// The rules, apart from where the values come from (so tests can feed them).
    pub fn from_sources(
        file: ConfigFile,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let env = |name: &str| non_empty(env(name));

        let issuer = match (env("AUTH0_ISSUER"), env("AUTH0_DOMAIN")) {
            (Some(_), Some(_)) => {
                return Err(ConfigError(
                    "AUTH0_ISSUER and AUTH0_DOMAIN are both set: set only one".into(),
                ))
            }
            (Some(issuer), None) => parse_issuer(&issuer, "AUTH0_ISSUER")?,
            (None, Some(domain)) => issuer_from_domain(&domain, "AUTH0_DOMAIN")?,
            (None, None) => match (non_empty(file.issuer), non_empty(file.domain)) {
                (Some(_), Some(_)) => {
                    return Err(ConfigError(format!(
                        "{DEFAULT_CONFIG_FILE}: set \"domain\" (Auth0) or \"issuer\" (any OpenID provider), not both"
                    )))
                }
                (Some(issuer), None) => parse_issuer(&issuer, "\"issuer\" in auth_config.json")?,
                (None, Some(domain)) => issuer_from_domain(&domain, "\"domain\" in auth_config.json")?,
                (None, None) => {
                    return Err(ConfigError(
                        "AUTH0_DOMAIN is not set: set AUTH0_DOMAIN (your Auth0 tenant, e.g. \
                         your-tenant.us.auth0.com) or AUTH0_ISSUER, or \"domain\" in auth_config.json"
                            .into(),
                    ))
                }
            },
        };

        let audience = env("AUTH0_AUDIENCE")
            .or(non_empty(file.audience))
            .ok_or_else(|| {
                ConfigError(
                    "AUTH0_AUDIENCE is not set: set AUTH0_AUDIENCE (your API's identifier in the \
                 Auth0 dashboard) or \"audience\" in auth_config.json"
                        .into(),
                )
            })?;
        if audience.chars().any(char::is_whitespace) {
            return Err(ConfigError("AUTH0_AUDIENCE must not contain spaces".into()));
        }

        let mut cors_allowed_origins: Vec<String> = match env("API_CORS_ALLOWED_ORIGINS") {
            Some(list) => list
                .split(',')
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            None => file.cors_allowed_origins.unwrap_or_default(),
        };
        for origin in &cors_allowed_origins {
            parse_origin(origin)?;
        }
        // The Auth0 sample's `appOrigin`: its SPA, which called the API from a
        // browser; it still may. `apiOrigin`: nothing to do, the API is this server.
        if let Some(app_origin) = non_empty(file.app_origin) {
            parse_origin(&app_origin).map_err(|_| {
                ConfigError(format!(
                    "appOrigin in the config file must be an origin like http://localhost:3000, \
                     not {app_origin:?}"
                ))
            })?;
            tracing::info!(
                origin = %app_origin,
                "appOrigin (config file) may call /api/* from a browser (CORS)"
            );
            if !cors_allowed_origins.contains(&app_origin) {
                cors_allowed_origins.push(app_origin);
            }
        }
        if non_empty(file.api_origin).is_some() {
            tracing::info!(
                "apiOrigin (config file) is not needed: the API is served by this same server"
            );
        }
        let permissions_only =
            flag(&env, "API_PERMISSIONS_ONLY")?.unwrap_or(file.permissions_only.unwrap_or(false));

        let token_storage = match env("AUTH0_TOKEN_STORAGE").or(non_empty(file.token_storage)) {
            None => TokenStorage::default(),
            Some(text) => text.parse().map_err(|()| {
                ConfigError(format!(
                    "AUTH0_TOKEN_STORAGE must be memory, session or local, not {text:?}"
                ))
            })?,
        };
        let refresh_tokens = flag(&env, "AUTH0_USE_REFRESH_TOKENS")?
            .unwrap_or(file.use_refresh_tokens.unwrap_or(true));
        let use_dpop = flag(&env, "AUTH0_USE_DPOP")?.unwrap_or(file.use_dpop.unwrap_or(false));
        let dpop_defaults = DpopSettings::default();
        let dpop = DpopSettings {
            mode: match env("DPOP_MODE").or(non_empty(file.dpop_mode)) {
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
        if use_dpop && dpop.mode == DpopMode::Off {
            return Err(ConfigError(
                "AUTH0_USE_DPOP is true but DPOP_MODE is off: the API would refuse the \
                 browser's DPoP tokens (set DPOP_MODE to allowed or required)"
                    .into(),
            ));
        }

        let client_id = env("AUTH0_CLIENT_ID").or(non_empty(file.client_id));
        // ID tokens carry the client id as `aud`: with that audience, an ID token
        // (which any logged-in user holds) would pass as an access token.
        if client_id.as_deref() == Some(audience.as_str()) {
            return Err(ConfigError(
                "AUTH0_AUDIENCE equals AUTH0_CLIENT_ID: use your API's identifier as the \
                 audience, not the application's client id"
                    .into(),
            ));
        }

        let defaults = JwksSettings::default();
        Ok(Self {
            issuer,
            audience,
            client_id,
            token_storage,
            refresh_tokens,
            cors_allowed_origins,
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
            use_dpop,
            dpop,
        })
    }
}

/// A `true`/`false` setting `name` from `env` (`1`/`0` too); `None` when unset.
fn flag(env: &impl Fn(&str) -> Option<String>, name: &str) -> Result<Option<bool>, ConfigError> {
    match env(name).as_deref() {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(text) => Err(ConfigError(format!(
            "{name} must be true or false, not {text:?}"
        ))),
    }
}

impl AuthConfig {
    /// What the browser needs to log in; rendered into every page.
    pub fn public(&self) -> PublicAuthConfig {
        let mut scope = String::from("openid profile email");
        if self.refresh_tokens {
            scope.push_str(" offline_access");
        }
        PublicAuthConfig {
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone().unwrap_or_default(),
            audience: self.audience.clone(),
            scope,
            storage: self.token_storage,
            use_dpop: self.use_dpop,
        }
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

fn parse_issuer(text: &str, setting: &str) -> Result<String, ConfigError> {
    let url = reqwest::Url::parse(text).map_err(|_| {
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

fn issuer_from_domain(domain: &str, setting: &str) -> Result<String, ConfigError> {
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

fn parse_origin(origin: &str) -> Result<(), ConfigError> {
    let bad = || {
        ConfigError(format!(
            "API_CORS_ALLOWED_ORIGINS: {origin:?} is not an origin like https://app.example.com"
        ))
    };
    let url = reqwest::Url::parse(origin).map_err(|_| bad())?;
    let origin_only = url.path() == "/" && !origin.ends_with('/') && url.query().is_none();
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() || !origin_only {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(file: ConfigFile, vars: &[(&str, &str)]) -> Result<AuthConfig, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        AuthConfig::from_sources(file, |name| vars.get(name).cloned())
    }

    #[test]
    fn domain_becomes_an_https_issuer_with_trailing_slash() {
        let config = load(
            ConfigFile::default(),
            &[
                ("AUTH0_DOMAIN", "t.eu.auth0.com"),
                ("AUTH0_AUDIENCE", "https://api"),
            ],
        )
        .unwrap();
        assert_eq!(config.issuer, "https://t.eu.auth0.com/");
        assert_eq!(config.audience, "https://api");
        assert_eq!(config.jwks, JwksSettings::default());
        assert_eq!(config.clock_tolerance_secs, 5);
    }

    #[test]
    fn environment_overrides_the_file() {
        let file = ConfigFile {
            domain: Some("file.auth0.com".into()),
            audience: Some("file-audience".into()),
            client_id: Some("file-client".into()),
            ..ConfigFile::default()
        };
        let config = load(
            file,
            &[
                ("AUTH0_ISSUER", "http://127.0.0.1:4000/"),
                ("AUTH0_AUDIENCE", "env-audience"),
            ],
        )
        .unwrap();
        assert_eq!(config.issuer, "http://127.0.0.1:4000/");
        assert_eq!(config.audience, "env-audience");
        assert_eq!(config.client_id.as_deref(), Some("file-client"));
    }

    #[test]
    fn missing_or_malformed_settings_name_the_setting() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("AUTH0_AUDIENCE", "a")], "AUTH0_DOMAIN is not set"),
            (
                &[("AUTH0_DOMAIN", "t.auth0.com")],
                "AUTH0_AUDIENCE is not set",
            ),
            (
                &[
                    ("AUTH0_DOMAIN", "https://t.auth0.com"),
                    ("AUTH0_AUDIENCE", "a"),
                ],
                "AUTH0_DOMAIN must be a host name",
            ),
            (
                &[
                    ("AUTH0_ISSUER", "http://idp.example.com/"),
                    ("AUTH0_AUDIENCE", "a"),
                ],
                "AUTH0_ISSUER must be an https URL",
            ),
            (
                &[("AUTH0_ISSUER", "not a url"), ("AUTH0_AUDIENCE", "a")],
                "AUTH0_ISSUER must be a URL",
            ),
            (
                &[
                    ("AUTH0_ISSUER", "https://x/"),
                    ("AUTH0_DOMAIN", "x"),
                    ("AUTH0_AUDIENCE", "a"),
                ],
                "both set",
            ),
            (
                &[
                    ("AUTH0_DOMAIN", "t.auth0.com"),
                    ("AUTH0_AUDIENCE", "a"),
                    ("JWKS_MAX_FETCHES_PER_MINUTE", "lots"),
                ],
                "JWKS_MAX_FETCHES_PER_MINUTE must be a whole number",
            ),
            (
                &[
                    ("AUTH0_DOMAIN", "t.auth0.com"),
                    ("AUTH0_AUDIENCE", "a"),
                    ("API_CORS_ALLOWED_ORIGINS", "https://a.com/path"),
                ],
                "API_CORS_ALLOWED_ORIGINS",
            ),
            (
                &[
                    ("AUTH0_DOMAIN", "t.auth0.com"),
                    ("AUTH0_AUDIENCE", "spa-client"),
                    ("AUTH0_CLIENT_ID", "spa-client"),
                ],
                "AUTH0_AUDIENCE equals AUTH0_CLIENT_ID",
            ),
        ];
        for (vars, expected) in cases {
            let error = load(ConfigFile::default(), vars).expect_err(expected);
            assert!(error.0.contains(expected), "{:?} gave {error}", vars);
            assert!(!error.0.contains('\n'), "one line: {error}");
        }
    }

    #[test]
    fn browser_settings_reach_the_public_config() {
        let base = [
            ("AUTH0_ISSUER", "http://127.0.0.1:4000/"),
            ("AUTH0_AUDIENCE", "aud"),
            ("AUTH0_CLIENT_ID", "spa"),
        ];
        let config = load(ConfigFile::default(), &base).unwrap();
        let public = config.public();
        assert_eq!(public.storage, TokenStorage::Memory);
        assert_eq!(public.scope, "openid profile email offline_access");
        assert_eq!(public.client_id, "spa");

        let vars = [
            &base[..],
            &[
                ("AUTH0_TOKEN_STORAGE", "session"),
                ("AUTH0_USE_REFRESH_TOKENS", "false"),
            ],
        ]
        .concat();
        let public = load(ConfigFile::default(), &vars).unwrap().public();
        assert_eq!(public.storage, TokenStorage::Session);
        assert_eq!(public.scope, "openid profile email");

        let bad = [&base[..], &[("AUTH0_TOKEN_STORAGE", "cookie")]].concat();
        assert!(load(ConfigFile::default(), &bad)
            .unwrap_err()
            .0
            .contains("AUTH0_TOKEN_STORAGE"));
    }

    #[test]
    fn loopback_issuers_may_use_http() {
        for issuer in [
            "http://127.0.0.1:4000/",
            "http://localhost:4000/",
            "http://[::1]:4000/",
        ] {
            let config = load(
                ConfigFile::default(),
                &[("AUTH0_ISSUER", issuer), ("AUTH0_AUDIENCE", "a")],
            );
            assert_eq!(config.map(|c| c.issuer).as_deref(), Ok(issuer));
        }
    }

    /// The React + Express sample's file, as a developer would copy it in.
    const REACT_SAMPLE_FILE: &str = r#"{
      "domain": "dev-abc123.us.auth0.com",
      "clientId": "yL4k2bM9xQ0nP7sT",
      "audience": "https://api.example.com",
      "appOrigin": "http://localhost:3000",
      "apiOrigin": "http://localhost:3001"
    }"#;

    #[test]
    fn the_auth0_react_samples_file_loads_and_app_origin_may_call_the_api() {
        let file = ConfigFile::parse(REACT_SAMPLE_FILE, "auth_config.json").unwrap();
        let config = load(file, &[]).unwrap();
        assert_eq!(config.issuer, "https://dev-abc123.us.auth0.com/");
        assert_eq!(config.client_id.as_deref(), Some("yL4k2bM9xQ0nP7sT"));
        assert_eq!(config.cors_allowed_origins, ["http://localhost:3000"]);
        // Beside the environment's list, once.
        let file = ConfigFile::parse(REACT_SAMPLE_FILE, "auth_config.json").unwrap();
        let config = load(
            file,
            &[(
                "API_CORS_ALLOWED_ORIGINS",
                "https://other.example.com,http://localhost:3000",
            )],
        )
        .unwrap();
        assert_eq!(
            config.cors_allowed_origins,
            ["https://other.example.com", "http://localhost:3000"]
        );
        // An appOrigin that is not an origin is named.
        let bad = ConfigFile::parse(
            r#"{"domain": "t.auth0.com", "audience": "a", "appOrigin": "localhost:3000/app"}"#,
            "auth_config.json",
        )
        .unwrap();
        assert!(load(bad, &[]).unwrap_err().0.contains("appOrigin"));
    }

    #[test]
    fn a_misspelt_key_names_the_key_meant() {
        for (key, meant) in [
            ("clientID", "clientId"),
            ("client_id", "clientId"),
            ("audiance", "audience"),
            ("Domain", "domain"),
            ("useDPoP", "useDpop"),
            ("tokenStorge", "tokenStorage"),
            ("apiOrgin", "apiOrigin"),
        ] {
            let text = format!(r#"{{"domain": "t.auth0.com", "{key}": "x"}}"#);
            let error = ConfigFile::parse(&text, "auth_config.json").err().unwrap();
            assert!(
                error.0.contains(&format!("{key:?}"))
                    && error.0.contains(&format!("did you mean {meant:?}")),
                "{key}: {error}"
            );
        }
        // Nothing close: the known keys are listed.
        let error = ConfigFile::parse(r#"{"colour": "blue"}"#, "auth_config.json")
            .err()
            .unwrap();
        assert!(
            error.0.contains("\"colour\"") && error.0.contains("clientId"),
            "{error}"
        );
        // And every listed key is one the file reads.
        let all: serde_json::Map<String, serde_json::Value> = CONFIG_FILE_KEYS
            .iter()
            .map(|key| (key.to_string(), serde_json::Value::Null))
            .collect();
        assert!(ConfigFile::parse(&serde_json::Value::Object(all).to_string(), "f").is_ok());
    }

    #[test]
    fn permissions_only_comes_from_the_file_or_the_environment() {
        let base = [("AUTH0_DOMAIN", "t.auth0.com"), ("AUTH0_AUDIENCE", "a")];
        assert!(!load(ConfigFile::default(), &base).unwrap().permissions_only);
        let file = ConfigFile::parse(r#"{"permissionsOnly": true}"#, "f").unwrap();
        assert!(load(file, &base).unwrap().permissions_only);
        let vars = [&base[..], &[("API_PERMISSIONS_ONLY", "true")]].concat();
        assert!(load(ConfigFile::default(), &vars).unwrap().permissions_only);
    }
}
