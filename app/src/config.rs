//! [`AppConfig`]: the verifier's settings ([`VerifierConfig`], from the
//! `access-token-verifier` crate) and what the browser and this app add: the
//! SPA's client id, where the browser keeps tokens, CORS (server only).
//!
//! Read from `auth_config.json` (path: `AUTH0_CONFIG`; the Auth0 sample's keys
//! `domain`, `clientId`, `audience`, `appOrigin`, `apiOrigin`, plus `issuer` for
//! any other OpenID provider), then overridden by the environment. A key the file
//! does not know is refused, naming the known key it was probably meant to be.
//! Every variable is in the README's one settings table ("Configuration"); the
//! verifier's are listed in `access_token_verifier::config::SETTINGS`, this
//! module's in [`SETTINGS`].

use std::path::Path;

use access_token_verifier::config::{flag, non_empty, ConfigError, VerifierConfig};
use access_token_verifier::dpop::DpopMode;
use serde::Deserialize;

use crate::login::{PublicAuthConfig, TokenStorage};

/// Default config file, relative to the working directory (the repo root).
pub const DEFAULT_CONFIG_FILE: &str = "auth_config.json";

/// The environment variables this module reads (beside the verifier's).
pub const SETTINGS: &[&str] = &[
    "AUTH0_CONFIG",
    "AUTH0_CLIENT_ID",
    "AUTH0_TOKEN_STORAGE",
    "AUTH0_USE_REFRESH_TOKENS",
    "AUTH0_USE_DPOP",
    "API_CORS_ALLOWED_ORIGINS",
];

/// The settings of the API's verifier, the browser's login and CORS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppConfig {
    /// What the API's tokens are checked against.
    pub verifier: VerifierConfig,
    /// The SPA application's client id (browser login).
    pub client_id: Option<String>,
    /// Where the browser keeps tokens.
    pub token_storage: TokenStorage,
    /// The browser asks for `offline_access` and renews with refresh tokens.
    pub refresh_tokens: bool,
    /// Origins allowed to call `/api/*` from a browser.
    pub cors_allowed_origins: Vec<String>,
    /// The browser asks for DPoP-bound tokens.
    pub use_dpop: bool,
}

/// `auth_config.json`, as in Auth0's sample (empty strings count as unset).
/// `appOrigin` and `apiOrigin` are the keys of the sample's React + Express
/// version: its SPA's origin (here: allowed to call `/api/*` from a browser, as
/// the sample's API allowed it) and its API's (here the API is this same server).
#[derive(Clone, Default, Deserialize)]
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

    /// The file's value for the verifier's variable `name`, and the key it came
    /// from. `domain` and `issuer` count only when the environment names neither.
    fn verifier_value(
        &self,
        name: &str,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Option<(String, &'static str)> {
        let issuer_from_env = env("AUTH0_ISSUER").is_some() || env("AUTH0_DOMAIN").is_some();
        let (value, key) = match name {
            "AUTH0_DOMAIN" if !issuer_from_env => (self.domain.clone(), "domain"),
            "AUTH0_ISSUER" if !issuer_from_env => (self.issuer.clone(), "issuer"),
            "AUTH0_AUDIENCE" => (self.audience.clone(), "audience"),
            "DPOP_MODE" => (self.dpop_mode.clone(), "dpopMode"),
            "API_PERMISSIONS_ONLY" => (
                self.permissions_only.map(|on| on.to_string()),
                "permissionsOnly",
            ),
            _ => return None,
        };
        non_empty(value).map(|value| (value, key))
    }
}

impl AppConfig {
    /// `verifier`'s settings with the browser's defaults: no client id, tokens in
    /// memory, refresh tokens on, no CORS origins, no DPoP from the browser.
    pub fn new(verifier: VerifierConfig) -> Self {
        Self {
            verifier,
            client_id: None,
            token_storage: TokenStorage::default(),
            refresh_tokens: true,
            cors_allowed_origins: Vec::new(),
            use_dpop: false,
        }
    }

    /// The rules, apart from where the values come from (so tests can feed them):
    /// the environment first, then the file.
    pub fn from_sources(
        file: ConfigFile,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let env = |name: &str| non_empty(env(name));
        if non_empty(file.issuer.clone()).is_some() && non_empty(file.domain.clone()).is_some() {
            return Err(ConfigError(format!(
                "{DEFAULT_CONFIG_FILE}: set \"domain\" (Auth0) or \"issuer\" (any OpenID provider), not both"
            )));
        }
        // The verifier's settings: the environment, else the file's key for it.
        let from_file = std::cell::RefCell::new(Vec::new());
        let verifier = VerifierConfig::from_lookup(|name| {
            env(name).or_else(|| {
                let (value, key) = file.verifier_value(name, &env)?;
                from_file.borrow_mut().push((name.to_owned(), key));
                Some(value)
            })
        })
        .map_err(|ConfigError(message)| {
            // Name the file's key when the value came from there, or could have.
            let setting = message.split([' ', ':']).next().unwrap_or_default();
            let key = from_file
                .borrow()
                .iter()
                .find(|(name, _)| name == setting)
                .map(|(_, key)| *key);
            ConfigError(match key {
                Some(key) => format!("{message} (\"{key}\" in {DEFAULT_CONFIG_FILE})"),
                None if message.contains("is not set") => {
                    format!("{message}, or its key in {DEFAULT_CONFIG_FILE}")
                }
                None => message,
            })
        })?;

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

        let token_storage = match env("AUTH0_TOKEN_STORAGE").or(non_empty(file.token_storage)) {
            None => TokenStorage::default(),
            Some(text) => text.parse().map_err(|()| {
                ConfigError(format!(
                    "AUTH0_TOKEN_STORAGE must be memory, session, local or server, not {text:?}"
                ))
            })?,
        };
        let refresh_tokens = flag(&env, "AUTH0_USE_REFRESH_TOKENS")?
            .unwrap_or(file.use_refresh_tokens.unwrap_or(true));
        let use_dpop = flag(&env, "AUTH0_USE_DPOP")?.unwrap_or(file.use_dpop.unwrap_or(false));
        if use_dpop && verifier.dpop.mode == DpopMode::Off {
            return Err(ConfigError(
                "AUTH0_USE_DPOP is true but DPOP_MODE is off: the API would refuse the \
                 browser's DPoP tokens (set DPOP_MODE to allowed or required)"
                    .into(),
            ));
        }

        let client_id = env("AUTH0_CLIENT_ID").or(non_empty(file.client_id));
        // ID tokens carry the client id as `aud`: with that audience, an ID token
        // (which any logged-in user holds) would pass as an access token.
        if client_id.as_deref() == Some(verifier.audience.as_str()) {
            return Err(ConfigError(
                "AUTH0_AUDIENCE equals AUTH0_CLIENT_ID: use your API's identifier as the \
                 audience, not the application's client id"
                    .into(),
            ));
        }

        Ok(Self {
            verifier,
            client_id,
            token_storage,
            refresh_tokens,
            cors_allowed_origins,
            use_dpop,
        })
    }

    /// What the browser needs to log in; rendered into every page.
    pub fn public(&self) -> PublicAuthConfig {
        let mut scope = String::from("openid profile email");
        if self.refresh_tokens {
            scope.push_str(" offline_access");
        }
        PublicAuthConfig {
            issuer: self.verifier.issuer.clone(),
            client_id: self.client_id.clone().unwrap_or_default(),
            audience: self.verifier.audience.clone(),
            scope,
            storage: self.token_storage,
            use_dpop: self.use_dpop,
        }
    }
}

fn parse_origin(origin: &str) -> Result<(), ConfigError> {
    let bad = || {
        ConfigError(format!(
            "API_CORS_ALLOWED_ORIGINS: {origin:?} is not an origin like https://app.example.com"
        ))
    };
    let url = url::Url::parse(origin).map_err(|_| bad())?;
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

    fn load(file: ConfigFile, vars: &[(&str, &str)]) -> Result<AppConfig, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        AppConfig::from_sources(file, |name| vars.get(name).cloned())
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
        assert_eq!(config.verifier.issuer, "http://127.0.0.1:4000/");
        assert_eq!(config.verifier.audience, "env-audience");
        assert_eq!(config.client_id.as_deref(), Some("file-client"));
    }

    #[test]
    fn errors_name_the_setting_or_the_files_key() {
        type Case<'a> = (ConfigFile, &'a [(&'a str, &'a str)], &'a str);
        let cases: &[Case] = &[
            (
                ConfigFile::default(),
                &[("AUTH0_AUDIENCE", "a")],
                "AUTH0_DOMAIN is not set",
            ),
            (
                ConfigFile {
                    domain: Some("https://t.auth0.com".into()),
                    ..ConfigFile::default()
                },
                &[("AUTH0_AUDIENCE", "a")],
                "(\"domain\" in auth_config.json)",
            ),
            (
                ConfigFile {
                    domain: Some("t.auth0.com".into()),
                    issuer: Some("https://t.auth0.com/".into()),
                    ..ConfigFile::default()
                },
                &[("AUTH0_AUDIENCE", "a")],
                "not both",
            ),
            (
                ConfigFile {
                    dpop_mode: Some("sometimes".into()),
                    ..ConfigFile::default()
                },
                &[("AUTH0_DOMAIN", "t.auth0.com"), ("AUTH0_AUDIENCE", "a")],
                "(\"dpopMode\" in auth_config.json)",
            ),
            (
                ConfigFile::default(),
                &[
                    ("AUTH0_DOMAIN", "t.auth0.com"),
                    ("AUTH0_AUDIENCE", "a"),
                    ("API_CORS_ALLOWED_ORIGINS", "https://a.com/path"),
                ],
                "API_CORS_ALLOWED_ORIGINS",
            ),
            (
                ConfigFile::default(),
                &[
                    ("AUTH0_DOMAIN", "t.auth0.com"),
                    ("AUTH0_AUDIENCE", "spa-client"),
                    ("AUTH0_CLIENT_ID", "spa-client"),
                ],
                "AUTH0_AUDIENCE equals AUTH0_CLIENT_ID",
            ),
            (
                ConfigFile::default(),
                &[
                    ("AUTH0_DOMAIN", "t.auth0.com"),
                    ("AUTH0_AUDIENCE", "a"),
                    ("AUTH0_USE_DPOP", "true"),
                    ("DPOP_MODE", "off"),
                ],
                "AUTH0_USE_DPOP is true but DPOP_MODE is off",
            ),
        ];
        for (file, vars, expected) in cases {
            let error = load(file.clone(), vars).expect_err(expected);
            assert!(error.0.contains(expected), "{vars:?} gave {error}");
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
        assert_eq!(config.verifier.issuer, "https://dev-abc123.us.auth0.com/");
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
    fn file_values_reach_the_verifier_and_the_environment_wins() {
        let base = [("AUTH0_DOMAIN", "t.auth0.com"), ("AUTH0_AUDIENCE", "a")];
        assert!(
            !load(ConfigFile::default(), &base)
                .unwrap()
                .verifier
                .permissions_only
        );
        let file = || {
            ConfigFile::parse(
                r#"{"permissionsOnly": true, "dpopMode": "required", "issuer": "https://other/"}"#,
                "f",
            )
            .unwrap()
        };
        let config = load(file(), &base).unwrap();
        assert!(config.verifier.permissions_only);
        assert_eq!(config.verifier.dpop.mode, DpopMode::Required);
        // The environment's domain replaces the file's issuer (no "both set").
        assert_eq!(config.verifier.issuer, "https://t.auth0.com/");
        let vars = [&base[..], &[("API_PERMISSIONS_ONLY", "false")]].concat();
        assert!(!load(file(), &vars).unwrap().verifier.permissions_only);
    }
}
