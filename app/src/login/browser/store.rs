//! The token store: the tokens of the logged-in user, where the config says
//! (memory by default), with expiry tracked; it owns renewal (one refresh at a time,
//! through the token-endpoint client [`super::oidc`]).

use std::cell::RefCell;

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use leptos::prelude::*;

use super::oidc::{self, Session};
use super::window::{now, web_storage};
use crate::login::checks::LEEWAY_SECS;
use crate::login::{AuthStatus, PublicAuthConfig, TokenStorage, User};

const STORAGE_KEY: &str = "auth.session";

type Refresh = Shared<LocalBoxFuture<'static, Option<String>>>;

thread_local! {
    static CONFIG: RefCell<PublicAuthConfig> = RefCell::new(PublicAuthConfig::default());
    static STATUS: RefCell<Option<RwSignal<AuthStatus>>> = const { RefCell::new(None) };
    static MEMORY: RefCell<Option<Session>> = const { RefCell::new(None) };
    static REFRESHING: RefCell<Option<Refresh>> = const { RefCell::new(None) };
}

fn storage_kind() -> TokenStorage {
    CONFIG.with(|c| c.borrow().storage)
}

fn load() -> Option<Session> {
    match storage_kind() {
        TokenStorage::Memory => MEMORY.with(|m| m.borrow().clone()),
        kind => serde_json::from_str(&web_storage(kind)?.get_item(STORAGE_KEY).ok()??).ok(),
    }
}

pub fn save(session: &Session) {
    match storage_kind() {
        TokenStorage::Memory => MEMORY.with(|m| *m.borrow_mut() = Some(session.clone())),
        kind => {
            if let (Some(storage), Ok(json)) = (web_storage(kind), serde_json::to_string(session)) {
                let _ = storage.set_item(STORAGE_KEY, &json);
            }
        }
    }
    set_status(AuthStatus::LoggedIn(User::from_claims(
        session.claims.clone(),
    )));
}

/// Removes and returns the session (logout).
pub fn take_session() -> Option<Session> {
    let session = load();
    MEMORY.with(|m| m.borrow_mut().take());
    for kind in [TokenStorage::Session, TokenStorage::Local] {
        if let Some(storage) = web_storage(kind) {
            let _ = storage.remove_item(STORAGE_KEY);
        }
    }
    session
}

fn set_status(status: AuthStatus) {
    if let Some(signal) = STATUS.with(|s| *s.borrow()) {
        signal.set(status);
    }
}

/// Called once the page has hydrated: remembers config and status signal, and tells
/// the page whether someone is logged in.
pub fn init(config: PublicAuthConfig, status: RwSignal<AuthStatus>) {
    CONFIG.with(|c| *c.borrow_mut() = config);
    STATUS.with(|s| *s.borrow_mut() = Some(status));
    // The callback route sets the status itself once the code is exchanged.
    let on_callback = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .as_deref()
        == Some("/callback");
    if !on_callback {
        publish_status();
    }
}

/// Tells the page whether someone is logged in, from what the store holds.
pub fn publish_status() {
    set_status(match load() {
        Some(session) => AuthStatus::LoggedIn(User::from_claims(session.claims)),
        None => AuthStatus::LoggedOut,
    });
}

/// The access token to send, refreshed first when it expires within the leeway.
/// `None` when logged out or when the session cannot be renewed (then the status
/// becomes [`AuthStatus::Expired`] and the page offers "Log in again").
pub async fn access_token() -> Option<String> {
    let session = load()?;
    if session.expires_at - LEEWAY_SECS > now() {
        return Some(session.access_token);
    }
    refresh_now().await
}

/// Refreshes the tokens, sharing one request among all callers meanwhile (a second
/// use of a rotated refresh token would be refused and end the session).
pub async fn refresh_now() -> Option<String> {
    let refresh = REFRESHING.with(|r| {
        r.borrow_mut()
            .get_or_insert_with(|| {
                async {
                    let result = refresh_once().await;
                    REFRESHING.with(|r| r.borrow_mut().take());
                    result
                }
                .boxed_local()
                .shared()
            })
            .clone()
    });
    refresh.await
}

async fn refresh_once() -> Option<String> {
    let session = load()?;
    let config = CONFIG.with(|c| c.borrow().clone());
    match oidc::refresh(&config, &session).await {
        Ok(renewed) => {
            save(&renewed);
            Some(renewed.access_token)
        }
        Err(error) => {
            leptos::logging::warn!("session renewal failed: {}", error.code);
            take_session();
            set_status(AuthStatus::Expired);
            None
        }
    }
}
