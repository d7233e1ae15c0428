//! URLs the login builds, kept free of browser APIs so they are tested natively.

use super::PublicAuthConfig;

/// `application/x-www-form-urlencoded` from pairs (query strings and token requests).
pub fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Where to go after login: `candidate` resolved against the page's `origin`, kept
/// only if it stays on that origin (path, query and fragment); anything else, or
/// anything that does not parse, is `/`. Browsers' URL parsing is used on purpose:
/// `//evil.example`, `/\evil.example` and tab tricks all resolve to another host.
pub fn safe_return_to(origin: &str, candidate: &str) -> String {
    let Ok(base) = url::Url::parse(origin) else {
        return "/".into();
    };
    match base.join(candidate) {
        // The result is used as a path: one that starts with `//` or `/\\` would
        // be read as another host (`http://app//evil.example` has that path).
        Ok(url) if url.origin() == base.origin() => {
            let path = &url[url::Position::BeforePath..];
            if path.starts_with("//") || path.starts_with("/\\") {
                "/".into()
            } else {
                path.to_owned()
            }
        }
        _ => "/".into(),
    }
}

/// The one line logged when a silent check is refused on a loopback origin right
/// after a login: Auth0 (since April 2026) refuses `prompt=none` to
/// "non-verifiable" callback URLs, loopback ones included.
pub const LOOPBACK_SILENT_CHECK_HINT: &str = "The silent session check was refused \
    right after a login on a loopback address (127.0.0.1, localhost). If the IdP is an \
    Auth0 tenant: it refuses prompt=none to loopback (non-verifiable) callback URLs. \
    See the README, \"Using your Auth0 tenant\", step \"Loopback callback URLs\".";

/// How recent a login must be for a refused silent check to be suspicious.
pub const RECENT_LOGIN_SECS: f64 = 600.0;

/// Whether a silent check's `error` on the page `origin`, `since_login` seconds
/// after this browser logged in, looks like Auth0 refusing `prompt=none` to a
/// loopback callback URL (rather than a session that really ended).
pub fn loopback_silent_check_refused(error: &str, origin: &str, since_login: Option<f64>) -> bool {
    let refused = matches!(error, "login_required" | "interaction_required");
    let recent = since_login.is_some_and(|secs| (0.0..RECENT_LOGIN_SECS).contains(&secs));
    let loopback = url::Url::parse(origin).is_ok_and(|url| match url.host() {
        Some(url::Host::Domain(host)) => host == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    });
    refused && recent && loopback
}

pub fn with_slash(issuer: &str) -> String {
    if issuer.ends_with('/') {
        issuer.to_owned()
    } else {
        format!("{issuer}/")
    }
}

/// Where "Log out" sends the browser after clearing its tokens: the OpenID
/// `end_session_endpoint` (RP-Initiated Logout) when discovery names one, else
/// Auth0's `/v2/logout`. Both come back to the app's home page.
pub fn logout_url(
    config: &PublicAuthConfig,
    end_session_endpoint: Option<&str>,
    id_token: Option<&str>,
    origin: &str,
) -> String {
    let return_to = format!("{origin}/");
    match end_session_endpoint {
        Some(endpoint) => {
            let mut params = vec![
                ("client_id", config.client_id.as_str()),
                ("post_logout_redirect_uri", return_to.as_str()),
            ];
            if let Some(hint) = id_token {
                params.push(("id_token_hint", hint));
            }
            format!("{endpoint}?{}", form(&params))
        }
        None => format!(
            "{}v2/logout?{}",
            with_slash(&config.issuer),
            form(&[
                ("client_id", config.client_id.as_str()),
                ("returnTo", return_to.as_str())
            ])
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> PublicAuthConfig {
        PublicAuthConfig {
            issuer: "https://tenant.eu.auth0.com/".into(),
            client_id: "spa client".into(),
            ..PublicAuthConfig::default()
        }
    }

    #[test]
    fn logout_uses_the_end_session_endpoint_with_hint_when_discovered() {
        let url = logout_url(
            &config(),
            Some("https://idp/session/end"),
            Some("a.b.c"),
            "http://127.0.0.1:3000",
        );
        assert_eq!(
            url,
            "https://idp/session/end?client_id=spa+client\
             &post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2F&id_token_hint=a.b.c"
        );
    }

    #[test]
    fn return_to_stays_on_the_origin() {
        let origin = "http://127.0.0.1:3000";
        for (candidate, expected) in [
            ("/profile", "/profile"),
            ("/external-api?tab=1#x", "/external-api?tab=1#x"),
            ("profile", "/profile"),
            ("http://127.0.0.1:3000/profile", "/profile"),
            ("//evil.example", "/"),
            ("//evil.example/profile", "/"),
            ("/\\evil.example", "/"),
            ("\\\\evil.example", "/"),
            ("/\t/evil.example", "/"),
            ("\t//evil.example", "/"),
            ("/\n/evil.example", "/"),
            ("https://evil.example/", "/"),
            ("http://127.0.0.1:3001/", "/"),
            ("javascript:alert(1)", "/"),
            ("data:text/html,hi", "/"),
            // Same origin, but a path that reads as another host.
            ("http://127.0.0.1:3000//evil.example", "/"),
            ("/.//evil.example", "/"),
            ("/x/..//evil.example/p", "/"),
            ("", "/"),
        ] {
            assert_eq!(safe_return_to(origin, candidate), expected, "{candidate:?}");
        }
        assert_eq!(safe_return_to("not an origin", "/profile"), "/");
    }

    #[test]
    fn a_refused_silent_check_is_suspicious_only_on_loopback_right_after_a_login() {
        let check = loopback_silent_check_refused;
        for origin in [
            "http://127.0.0.1:3000",
            "http://localhost:3000",
            "http://[::1]:3000",
        ] {
            assert!(check("login_required", origin, Some(5.0)), "{origin}");
            assert!(
                check("interaction_required", origin, Some(599.0)),
                "{origin}"
            );
        }
        // Another site, another error, an old login, or no login known: no hint.
        assert!(!check(
            "login_required",
            "https://app.example.com",
            Some(5.0)
        ));
        assert!(!check(
            "consent_required",
            "http://127.0.0.1:3000",
            Some(5.0)
        ));
        assert!(!check(
            "login_required",
            "http://127.0.0.1:3000",
            Some(3_600.0)
        ));
        assert!(!check("login_required", "http://127.0.0.1:3000", None));
        assert!(LOOPBACK_SILENT_CHECK_HINT.contains("Using your Auth0 tenant"));
    }

    #[test]
    fn logout_falls_back_to_auth0_v2_logout() {
        let url = logout_url(&config(), None, Some("a.b.c"), "http://127.0.0.1:3000");
        assert_eq!(
            url,
            "https://tenant.eu.auth0.com/v2/logout?client_id=spa+client&returnTo=http%3A%2F%2F127.0.0.1%3A3000%2F"
        );
        assert!(!url.contains("a.b.c"), "Auth0's endpoint takes no token");
    }
}
