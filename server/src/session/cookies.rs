//! The cookies of `server` token storage: the session cookie (an opaque random
//! id, never a token) and one login-transaction cookie per login attempt. Both
//! `HttpOnly`, `SameSite=Lax`, `Path=/`; with an `https` `PUBLIC_URL` also
//! `Secure` and named with the `__Host-` prefix (the browser then refuses them
//! from a sibling subdomain or over http).

use std::time::Duration;

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use cookie::{Cookie, SameSite};

/// The session cookie's name without the prefix.
const SESSION: &str = "session";
/// Login-transaction cookies: this, then part of the attempt's `state`.
const TRANSACTION: &str = "login-";
/// How much of `state` names a transaction cookie (enough to tell attempts apart).
const TRANSACTION_NAME_CHARS: usize = 16;

/// Names and attributes, from whether the public URL is `https`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookiePolicy {
    /// `Secure` and the `__Host-` prefix.
    pub secure: bool,
}

impl CookiePolicy {
    fn prefix(&self) -> &'static str {
        if self.secure {
            "__Host-"
        } else {
            ""
        }
    }

    /// The session cookie's name: `session` or `__Host-session`.
    pub fn session_name(&self) -> String {
        format!("{}{SESSION}", self.prefix())
    }

    /// The transaction cookie's name for the login attempt with this `state`.
    pub fn transaction_name(&self, state: &str) -> String {
        let part: String = state.chars().take(TRANSACTION_NAME_CHARS).collect();
        format!("{}{TRANSACTION}{part}", self.prefix())
    }

    fn build(&self, name: String, value: String, max_age: Duration) -> HeaderValue {
        let cookie = Cookie::build((name, value))
            .http_only(true)
            .same_site(SameSite::Lax)
            .path("/")
            .secure(self.secure)
            .max_age(cookie::time::Duration::seconds(
                max_age.as_secs().min(i64::MAX as u64) as i64,
            ))
            .build();
        HeaderValue::from_str(&cookie.to_string())
            .expect("cookie names and base64url values are valid header text")
    }

    /// `Set-Cookie` for a new session id, kept by the browser up to `max_age`.
    pub fn session(&self, id: &str, max_age: Duration) -> HeaderValue {
        self.build(self.session_name(), id.to_owned(), max_age)
    }

    /// `Set-Cookie` that removes the session cookie.
    pub fn clear_session(&self) -> HeaderValue {
        self.build(self.session_name(), String::new(), Duration::ZERO)
    }

    /// `Set-Cookie` for a login attempt's sealed transaction.
    pub fn transaction(&self, state: &str, sealed: &str, max_age: Duration) -> HeaderValue {
        self.build(self.transaction_name(state), sealed.to_owned(), max_age)
    }

    /// `Set-Cookie` that removes a login attempt's transaction.
    pub fn clear_transaction(&self, state: &str) -> HeaderValue {
        self.build(self.transaction_name(state), String::new(), Duration::ZERO)
    }

    /// The session id the request carries, if any.
    pub fn session_id(&self, headers: &HeaderMap) -> Option<String> {
        read(headers, &self.session_name())
    }

    /// The sealed transaction of the login attempt with this `state`, if any.
    pub fn transaction_of(&self, headers: &HeaderMap, state: &str) -> Option<String> {
        read(headers, &self.transaction_name(state))
    }
}

/// The value of the request's cookie `name` (the first, if the browser sent two).
fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name && !cookie.value().is_empty())
        .map(|cookie| cookie.value().to_owned())
}

/// Adds a `Set-Cookie` to `headers`.
pub fn set(headers: &mut HeaderMap, value: HeaderValue) {
    headers.append(SET_COOKIE, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attributes(value: &HeaderValue) -> Cookie<'static> {
        Cookie::parse(value.to_str().unwrap().to_owned()).unwrap()
    }

    #[test]
    fn over_http_the_session_cookie_is_httponly_lax_and_not_secure() {
        let policy = CookiePolicy { secure: false };
        let cookie = attributes(&policy.session("abc", Duration::from_secs(600)));
        assert_eq!(cookie.name(), "session");
        assert_eq!(cookie.value(), "abc");
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.same_site(), Some(SameSite::Lax));
        assert_eq!(cookie.path(), Some("/"));
        assert_eq!(cookie.secure(), None);
        assert_eq!(cookie.max_age(), Some(cookie::time::Duration::seconds(600)));
        assert_eq!(cookie.domain(), None);
    }

    #[test]
    fn over_https_cookies_are_secure_and_host_prefixed() {
        let policy = CookiePolicy { secure: true };
        for value in [
            policy.session("abc", Duration::from_secs(600)),
            policy.transaction(
                "state-0123456789abcdef-rest",
                "sealed",
                Duration::from_secs(600),
            ),
        ] {
            let cookie = attributes(&value);
            assert!(cookie.name().starts_with("__Host-"), "{value:?}");
            assert_eq!(cookie.secure(), Some(true));
            assert_eq!(cookie.path(), Some("/"));
            assert_eq!(cookie.domain(), None, "__Host- cookies carry no Domain");
            assert_eq!(cookie.http_only(), Some(true));
        }
        let cleared = attributes(&policy.clear_session());
        assert_eq!(cleared.max_age(), Some(cookie::time::Duration::ZERO));
    }

    #[test]
    fn reads_only_its_own_names() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static(
                "other=1; session=plain; __Host-session=hosted; login-AAAABBBBCCCCDDDD=tx",
            ),
        );
        assert_eq!(
            CookiePolicy { secure: false }
                .session_id(&headers)
                .as_deref(),
            Some("plain")
        );
        // Over https only the prefixed cookie counts: a plain one may come from a sibling.
        assert_eq!(
            CookiePolicy { secure: true }
                .session_id(&headers)
                .as_deref(),
            Some("hosted")
        );
        let policy = CookiePolicy { secure: false };
        assert_eq!(
            policy
                .transaction_of(&headers, "AAAABBBBCCCCDDDDEEEE")
                .as_deref(),
            Some("tx")
        );
        assert_eq!(
            policy.transaction_of(&headers, "XXXXBBBBCCCCDDDDEEEE"),
            None
        );
    }
}
