//! The login's checks and timing rules, free of browser APIs so they are tested
//! natively (`cargo test -p app`): ID-token claims (first login and refresh),
//! access-token expiry when the IdP leaves out `expires_in`, and how long a login
//! transaction (PKCE verifier, nonce) may wait for its callback.

use serde_json::{Map, Value};

use super::PublicAuthConfig;

/// Leeway on ID-token and access-token times, for clocks that disagree.
pub const LEEWAY_SECS: f64 = 60.0;

/// A login started more than this long ago cannot complete (its verifier is purged).
pub const TRANSACTION_TTL_MINUTES: u32 = 10;
pub const TRANSACTION_TTL_SECS: f64 = TRANSACTION_TTL_MINUTES as f64 * 60.0;

/// Lifetime assumed for an access token sent without `expires_in` (and not a JWT
/// with `exp`): an hour. A token that dies sooner is renewed on its first 401.
pub const DEFAULT_EXPIRES_IN_SECS: f64 = 3600.0;

/// When an access token expires: `expires_in` from the token response, else the
/// token's own `exp`, else [`DEFAULT_EXPIRES_IN_SECS`] (never "already expired").
pub fn access_token_expiry(now: f64, expires_in: Option<f64>, token_exp: Option<f64>) -> f64 {
    expires_in
        .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
        .map(|seconds| now + seconds)
        .or(token_exp.filter(|exp| *exp > now))
        .unwrap_or(now + DEFAULT_EXPIRES_IN_SECS)
}

pub fn transaction_expired(created_at: f64, now: f64) -> bool {
    !(created_at <= now + LEEWAY_SECS && now - created_at <= TRANSACTION_TTL_SECS)
}

/// What the page says when the IdP answers the callback with `error` (and
/// `error_description`), and the `prompt` "Log in again" should use. The same for
/// the browser's callback and the server's (`server` token storage).
pub fn idp_error_message(error: &str, description: &str) -> (String, Option<&'static str>) {
    let retry_prompt = (error == "consent_required").then_some("consent");
    let message = match error {
        "login_required" => "You need to log in again.".to_owned(),
        "consent_required" => "The application needs your consent.".to_owned(),
        _ if description.is_empty() => format!("The login service refused: {error}"),
        _ => format!("The login service refused: {description} ({error})"),
    };
    (message, retry_prompt)
}

/// Shown for any callback that does not belong to a login started here: its
/// parameters (an error text included) come from whoever made the link.
pub fn unknown_state_message() -> String {
    format!(
        "This login was not started in this browser, or it took longer than \
         {TRANSACTION_TTL_MINUTES} minutes; nothing was stored. Please log in again."
    )
}

/// OIDC Core 3.1.3.7: iss, aud, azp, nonce (when the login sent one), exp and iat
/// (with leeway), and a subject.
pub fn check_id_token(
    config: &PublicAuthConfig,
    claims: &Map<String, Value>,
    nonce: Option<&str>,
    now: f64,
) -> Result<(), String> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(config.issuer.as_str()) {
        return Err("the ID token is from another issuer".into());
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !audiences.contains(&config.client_id.as_str()) {
        return Err("the ID token is for another application".into());
    }
    if (audiences.len() > 1 || claims.contains_key("azp"))
        && text("azp") != Some(config.client_id.as_str())
    {
        return Err("the ID token was issued to another party (azp)".into());
    }
    if let Some(nonce) = nonce {
        if text("nonce") != Some(nonce) {
            return Err("the ID token's nonce does not match this login".into());
        }
    }
    if text("sub").is_none_or(str::is_empty) {
        return Err("the ID token names no user (sub)".into());
    }
    let number = |name: &str| claims.get(name).and_then(Value::as_f64);
    match number("exp") {
        Some(exp) if exp + LEEWAY_SECS >= now => {}
        _ => return Err("the ID token has expired".into()),
    }
    match number("iat") {
        Some(iat) if iat - LEEWAY_SECS <= now => {}
        _ => return Err("the ID token is issued in the future".into()),
    }
    Ok(())
}

/// OIDC Core 12.2: an ID token from a refresh must name the same user.
pub fn check_same_subject(
    previous: &Map<String, Value>,
    refreshed: &Map<String, Value>,
) -> Result<(), String> {
    let sub =
        |claims: &Map<String, Value>| claims.get("sub").and_then(Value::as_str).map(str::to_owned);
    if sub(previous) != sub(refreshed) {
        return Err("the renewed ID token is for another user".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: f64 = 1_700_000_000.0;

    fn config() -> PublicAuthConfig {
        PublicAuthConfig {
            issuer: "https://tenant.auth0.com/".into(),
            client_id: "spa".into(),
            ..PublicAuthConfig::default()
        }
    }

    fn claims(patch: Value) -> Map<String, Value> {
        let mut claims = json!({
            "iss": "https://tenant.auth0.com/", "aud": "spa", "sub": "auth0|alice",
            "nonce": "n-1", "exp": NOW + 600.0, "iat": NOW,
        });
        for (k, v) in patch.as_object().unwrap() {
            claims[k] = v.clone();
        }
        claims.as_object().unwrap().clone()
    }

    #[test]
    fn id_token_checks() {
        let ok = |patch| check_id_token(&config(), &claims(patch), Some("n-1"), NOW);
        assert_eq!(ok(json!({})), Ok(()));
        assert_eq!(ok(json!({"aud": ["spa", "other"], "azp": "spa"})), Ok(()));
        for (patch, why) in [
            (json!({"iss": "https://evil/"}), "another issuer"),
            (json!({"aud": "other"}), "another application"),
            (json!({"aud": ["spa", "other"]}), "azp"),
            (json!({"azp": "other"}), "azp"),
            (json!({"nonce": "n-2"}), "nonce"),
            (json!({"sub": null}), "sub"),
            (json!({"sub": ""}), "sub"),
            (json!({"exp": NOW - 61.0}), "expired"),
            (json!({"iat": NOW + 61.0}), "future"),
        ] {
            let error = ok(patch.clone()).unwrap_err();
            assert!(error.contains(why), "{patch}: {error}");
        }
    }

    #[test]
    fn a_refreshed_id_token_must_name_the_same_user() {
        let before = claims(json!({}));
        assert_eq!(
            check_same_subject(&before, &claims(json!({"iat": NOW + 5.0}))),
            Ok(())
        );
        assert!(check_same_subject(&before, &claims(json!({"sub": "auth0|mallory"}))).is_err());
        assert!(check_same_subject(&before, &claims(json!({"sub": null}))).is_err());
    }

    #[test]
    fn expiry_without_expires_in_is_never_now() {
        assert_eq!(
            access_token_expiry(NOW, Some(120.0), Some(NOW + 999.0)),
            NOW + 120.0
        );
        assert_eq!(
            access_token_expiry(NOW, None, Some(NOW + 999.0)),
            NOW + 999.0
        );
        assert_eq!(
            access_token_expiry(NOW, None, None),
            NOW + DEFAULT_EXPIRES_IN_SECS
        );
        assert_eq!(
            access_token_expiry(NOW, Some(0.0), None),
            NOW + DEFAULT_EXPIRES_IN_SECS
        );
        assert_eq!(
            access_token_expiry(NOW, Some(f64::NAN), Some(NOW - 5.0)),
            NOW + DEFAULT_EXPIRES_IN_SECS
        );
    }

    #[test]
    fn transactions_expire_after_ten_minutes() {
        assert!(!transaction_expired(NOW, NOW));
        assert!(!transaction_expired(NOW - 599.0, NOW));
        assert!(transaction_expired(NOW - 601.0, NOW));
        assert!(
            transaction_expired(NOW + 3600.0, NOW),
            "from the future: not ours"
        );
    }
}
