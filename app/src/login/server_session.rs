//! `server` token storage, the page's side. The server is the OAuth client (a
//! backend for frontend): it logs in, keeps the tokens in its session store and
//! gives the browser an `HttpOnly` cookie (the `server` crate's `session` module).
//! The page gets only what it shows: [`ServerAuthState`], the signed-in user's
//! ID-token claims (never a token) and what went wrong, rendered into every page
//! by the server so the first HTML already shows who is signed in; and the two
//! routes the nav's forms use ([`LOGIN_PATH`], [`LOGOUT_PATH`]), which work before
//! (or without) the wasm.

use super::urls::form;
use super::{AuthStatus, User};

/// `GET`: starts a login at the IdP (`returnTo`: where to come back, on this origin).
pub const LOGIN_PATH: &str = "/auth/login";
/// `POST` (a form): ends the session; `scope=app` keeps the IdP's session.
pub const LOGOUT_PATH: &str = "/auth/logout";
/// The id of the `<script type="application/json">` carrying [`ServerAuthState`].
pub const STATE_ELEMENT_ID: &str = "auth-session";

/// What the server knows of this browser's session, as the page needs it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerAuthState {
    /// Who is signed in (from the ID token's claims).
    pub user: Option<User>,
    /// The session could not be read (its store is down): shown in the nav.
    pub problem: Option<String>,
    /// The server's login callback failed: what the callback page says.
    pub login_failure: Option<LoginFailure>,
}

/// Why the server's callback could not log the user in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginFailure {
    pub message: String,
    /// `Some("consent")` when logging in again should ask for consent.
    pub retry_prompt: Option<&'static str>,
}

/// The login route's address for `return_to` (and the IdP's `prompt`).
pub fn login_href(return_to: &str, prompt: Option<&str>) -> String {
    let mut pairs = vec![("returnTo", return_to)];
    if let Some(prompt) = prompt {
        pairs.push(("prompt", prompt));
    }
    format!("{LOGIN_PATH}?{}", form(&pairs))
}

/// The `prompt` values the login route passes on (anything else is dropped).
pub fn allowed_prompt(prompt: &str) -> Option<&'static str> {
    ["login", "consent"]
        .into_iter()
        .find(|known| *known == prompt)
}

impl ServerAuthState {
    /// The login state the page starts with (server render and hydration alike).
    pub fn status(&self) -> AuthStatus {
        match (&self.user, &self.problem) {
            (Some(user), _) => AuthStatus::LoggedIn(user.clone()),
            (None, Some(problem)) => AuthStatus::Error(problem.clone()),
            (None, None) => AuthStatus::LoggedOut,
        }
    }

    /// JSON safe inside a `<script>` element. Claims and messages only: the
    /// tokens never leave the server. (Serialized from borrowed fields: this runs
    /// for every page a signed-in user loads.)
    pub fn to_script_json(&self) -> String {
        #[derive(serde::Serialize)]
        struct Failure<'a> {
            message: &'a str,
            retry_prompt: Option<&'a str>,
        }
        #[derive(serde::Serialize)]
        struct Script<'a> {
            user: Option<&'a User>,
            problem: Option<&'a str>,
            login_failure: Option<Failure<'a>>,
        }
        let script = Script {
            user: self.user.as_ref(),
            problem: self.problem.as_deref(),
            login_failure: self.login_failure.as_ref().map(|failure| Failure {
                message: &failure.message,
                retry_prompt: failure.retry_prompt,
            }),
        };
        super::script_safe(serde_json::to_string(&script).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The inverse of [`ServerAuthState::to_script_json`], for the test below
    /// (the browser reads the same keys with `JSON.parse`: `browser::window`).
    fn from_json(value: &Value) -> ServerAuthState {
        let text =
            |value: &Value, name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
        let user = value
            .get("user")
            .filter(|user| user.is_object())
            .map(|user| User {
                name: text(user, "name").unwrap_or_default(),
                email: text(user, "email"),
                picture: text(user, "picture"),
                claims_json: text(user, "claims_json").unwrap_or_default(),
            });
        let login_failure = value
            .get("login_failure")
            .filter(|failure| failure.is_object())
            .map(|failure| LoginFailure {
                message: text(failure, "message").unwrap_or_default(),
                retry_prompt: text(failure, "retry_prompt")
                    .as_deref()
                    .and_then(allowed_prompt),
            });
        ServerAuthState {
            user,
            problem: text(value, "problem"),
            login_failure,
        }
    }

    #[test]
    fn the_state_goes_through_the_page_and_cannot_close_its_element() {
        let state = ServerAuthState {
            user: Some(User {
                name: "</script><script>alert(1)</script>".into(),
                email: Some("alice@example.com".into()),
                picture: None,
                claims_json: "{\n  \"sub\": \"auth0|alice\"\n}".into(),
            }),
            problem: None,
            login_failure: Some(LoginFailure {
                message: "The application needs your consent.".into(),
                retry_prompt: Some("consent"),
            }),
        };
        let json = state.to_script_json();
        assert!(!json.contains('<'), "{json}");
        let back = from_json(&serde_json::from_str(&json).unwrap());
        assert_eq!(back, state);
        assert_eq!(ServerAuthState::default().status(), AuthStatus::LoggedOut);
        assert!(matches!(state.status(), AuthStatus::LoggedIn(_)));
    }

    #[test]
    fn the_login_link_keeps_the_return_path() {
        assert_eq!(
            login_href("/profile?tab=1", Some("consent")),
            "/auth/login?returnTo=%2Fprofile%3Ftab%3D1&prompt=consent"
        );
        assert_eq!(allowed_prompt("none"), None);
    }
}
