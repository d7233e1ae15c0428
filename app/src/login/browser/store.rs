//! The token store: the tokens of the logged-in user, where the config says
//! (memory by default), with expiry tracked. It owns the session's life:
//!
//! - On load: the stored session, or, when this browser has logged in before (a
//!   non-secret marker in localStorage, with an expiry, as Auth0's SDK keeps), a
//!   silent check at the IdP ([`super::silent`]); the nav shows a neutral state
//!   meanwhile.
//! - Renewal: one at a time in the tab (a shared future) and in the browser (a Web
//!   Lock, [`super::tabs`]): inside the lock the stored session is read again, so a
//!   tab that waited uses what another tab renewed instead of spending a rotated
//!   refresh token twice. With `local` storage that read comes from IndexedDB
//!   ([`super::idb`]), which tabs see at once, where localStorage lags. With no
//!   refresh token, the silent check renews. The session ends only on
//!   `invalid_grant` for the refresh token still stored (or a failed check);
//!   network errors and 5xx keep it and retry with backoff.
//! - Tabs agree: a login or logout in one tab is announced to the others.

use std::cell::RefCell;

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use leptos::prelude::*;

use super::oidc::{self, OAuthError, Session};
use super::silent::{silent_login, SilentError};
use super::tabs::{announce, listen, with_lock, TabEvent, RENEWAL_LOCK};
use super::window::{now, origin, web_storage};
use super::{dpop, idb};
use crate::lazy::lazy_fn;
use crate::login::checks::LEEWAY_SECS;
use crate::login::urls::{loopback_silent_check_refused, LOOPBACK_SILENT_CHECK_HINT};
use crate::login::{AuthStatus, PublicAuthConfig, TokenStorage, User};

const STORAGE_KEY: &str = "auth.session";
/// localStorage: until when this browser counts as "has logged in" (seconds since
/// the epoch). Holds no token.
const MARKER_KEY: &str = "auth.logged_in_until";
/// How long the marker lasts after a login (the IdP session lasts about as long).
const MARKER_SECS: f64 = 24.0 * 3600.0;
/// Renewal retries on network errors and 5xx, with these waits.
const RETRY_WAITS_MS: [u64; 3] = [500, 1_000, 2_000];

type Renewal = Shared<LocalBoxFuture<'static, Option<String>>>;

thread_local! {
    static CONFIG: RefCell<PublicAuthConfig> = RefCell::new(PublicAuthConfig::default());
    static STATUS: RefCell<Option<RwSignal<AuthStatus>>> = const { RefCell::new(None) };
    static MEMORY: RefCell<Option<Session>> = const { RefCell::new(None) };
    static RENEWING: RefCell<Option<Renewal>> = const { RefCell::new(None) };
}

fn storage_kind() -> TokenStorage {
    CONFIG.with(|c| c.borrow().storage)
}

fn config() -> PublicAuthConfig {
    CONFIG.with(|c| c.borrow().clone())
}

/// Whether a session is stored, without reading it (parsing is in the login's
/// lazily loaded code, not on a first visit's path).
fn has_session() -> bool {
    match storage_kind() {
        TokenStorage::Memory => MEMORY.with(|m| m.borrow().is_some()),
        kind => web_storage(kind)
            .and_then(|storage| storage.get_item(STORAGE_KEY).ok().flatten())
            .is_some(),
    }
}

fn load() -> Option<Session> {
    match storage_kind() {
        TokenStorage::Memory => MEMORY.with(|m| m.borrow().clone()),
        kind => serde_json::from_str(&web_storage(kind)?.get_item(STORAGE_KEY).ok()??).ok(),
    }
}

fn save(session: &Session) {
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

/// Saves, and with `local` storage also to IndexedDB, returning once committed
/// (what another tab taking the renewal lock next will read).
async fn save_shared(session: &Session) {
    save(session);
    if storage_kind() == TokenStorage::Local {
        if let Ok(json) = serde_json::to_string(session) {
            idb::set(STORAGE_KEY, Some(&json)).await;
        }
    }
}

/// The session as every tab sees it now (IndexedDB for `local`; else [`load`]).
async fn load_shared() -> Option<Session> {
    if storage_kind() == TokenStorage::Local {
        if let Some(json) = idb::get(STORAGE_KEY).await {
            return serde_json::from_str(&json).ok();
        }
    }
    load()
}

/// A new login (callback): keep it, set the marker, tell the tabs.
pub async fn logged_in(session: &Session) {
    save_shared(session).await;
    if let Some(local) = web_storage(TokenStorage::Local) {
        // Whole seconds: formatting an f64 would pull float printing into the wasm.
        let until = (now() + MARKER_SECS) as u64;
        let _ = local.set_item(MARKER_KEY, &until.to_string());
    }
    announce(TabEvent::LoggedIn);
}

/// When the marker expires (seconds since the epoch), if there is one.
fn marker_until() -> Option<f64> {
    web_storage(TokenStorage::Local)
        .and_then(|local| local.get_item(MARKER_KEY).ok().flatten())
        .and_then(|until| until.parse::<u64>().ok())
        .map(|until| until as f64)
}

fn marker_valid() -> bool {
    marker_until().is_some_and(|until| until > now())
}

/// Seconds since the last login in this browser (from its marker), if known.
fn since_login() -> Option<f64> {
    marker_until().map(|until| now() - (until - MARKER_SECS))
}

fn clear_marker() {
    if let Some(local) = web_storage(TokenStorage::Local) {
        let _ = local.remove_item(MARKER_KEY);
    }
}

/// Removes and returns the session, here only (the other tabs are told by
/// [`logged_out`]).
fn take_session() -> Option<Session> {
    let session = load();
    clear_session();
    session
}

/// Forgets the session here (memory, storages; IndexedDB with `local`).
fn clear_session() {
    MEMORY.with(|m| m.borrow_mut().take());
    for kind in [TokenStorage::Session, TokenStorage::Local] {
        if let Some(storage) = web_storage(kind) {
            let _ = storage.remove_item(STORAGE_KEY);
        }
    }
    if storage_kind() == TokenStorage::Local {
        leptos::task::spawn_local(async {
            idb::set(STORAGE_KEY, None).await;
        });
    }
}

/// Logout: forgets the session and the marker, revokes the refresh token at the
/// IdP (so a copy of it is worthless), tells the other tabs. Returns the ID token
/// (for the IdP's logout URL).
pub async fn logged_out() -> Option<String> {
    let session = take_session();
    clear_marker();
    announce(TabEvent::LoggedOut);
    let session = session?;
    if let Some(refresh_token) = &session.refresh_token {
        if let Err(error) = oidc::revoke(&config(), refresh_token).await {
            leptos::logging::warn!("refresh token not revoked: {error}");
        }
    }
    // Tokens bound to the old key are gone: the next login gets a new key.
    if session.dpop {
        dpop::forget_key().await;
    }
    Some(session.id_token)
}

fn set_status(status: AuthStatus) {
    if let Some(signal) = STATUS.with(|s| *s.borrow()) {
        signal.set(status);
    }
}

/// Called once the page has hydrated: remembers config and status signal, tells
/// the page whether someone is logged in (after a silent check if this browser
/// has logged in before), and listens to the other tabs.
pub fn init(config: PublicAuthConfig, status: RwSignal<AuthStatus>) {
    let server_sessions = config.storage == TokenStorage::Server;
    CONFIG.with(|c| *c.borrow_mut() = config);
    STATUS.with(|s| *s.borrow_mut() = Some(status));
    if server_sessions {
        // The server rendered the status; only news from other tabs changes it.
        listen(on_server_session_tab_event);
        return;
    }
    listen(on_tab_event);
    // The callback route sets the status itself once the code is exchanged.
    let on_callback = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .as_deref()
        == Some("/callback");
    if on_callback {
        return;
    }
    restore_status_soon();
}

/// Tells the page who is logged in: from the store, or (when this browser has
/// logged in before and the store is empty, as `memory` storage is after any page
/// load) after a silent check at the IdP. The status stays Loading (neutral)
/// meanwhile. Also what a failed callback does, so that a stale or forged
/// callback link does not log out whoever was logged in.
pub fn restore_status_soon() {
    if has_session() {
        publish_status_soon();
    } else if marker_valid() {
        check_session_soon();
    } else {
        set_status(AuthStatus::LoggedOut);
    }
}

lazy_fn! {
    login,
    /// The silent check on load (or when another tab logged in): logged in, or
    /// quietly logged out. A definite "no session" at the IdP clears the marker.
    async fn check_session_silently() -> () {
        match silent_login(&config()).await {
            Ok(session) => {
                save_shared(&session).await;
            }
            Err(error) => {
                if let SilentError::NoSession(code) = &error {
                    // Auth0 refuses prompt=none to loopback callback URLs: say so
                    // when a login here just succeeded and the check says no.
                    if loopback_silent_check_refused(code, &origin(), since_login()) {
                        leptos::logging::warn!("{LOOPBACK_SILENT_CHECK_HINT}");
                    }
                    clear_marker();
                }
                leptos::logging::log!("silent session check: not logged in ({error:?})");
                show_stored_session();
            }
        }
    }
}

fn on_tab_event(event: TabEvent) {
    match event {
        TabEvent::LoggedOut => {
            clear_session();
            // The tab that logged out dropped the stored DPoP key: so does this one.
            dpop::forget_key_in_page();
            set_status(AuthStatus::LoggedOut);
        }
        TabEvent::LoggedIn => match storage_kind() {
            // Shared storage: the other tab's session is ours already.
            TokenStorage::Local => publish_status_soon(),
            // Per-tab storage: ask the IdP for a session of our own.
            _ if !has_session() => check_session_soon(),
            _ => {}
        },
    }
}

/// `server` token storage: a tab that logged out (its form posted, the server
/// ended the session) tells the others, which show it at once; a tab that logged
/// in: this one reloads to render the new session.
fn on_server_session_tab_event(event: TabEvent) {
    match event {
        TabEvent::LoggedOut => set_status(AuthStatus::LoggedOut),
        TabEvent::LoggedIn => {
            if let Some(window) = web_sys::window() {
                let _ = window.location().reload();
            }
        }
    }
}

/// Tells the page whether someone is logged in, from what the store holds.
fn show_stored_session() {
    set_status(match load() {
        Some(session) => AuthStatus::LoggedIn(User::from_claims(session.claims)),
        None => AuthStatus::LoggedOut,
    });
}

lazy_fn! {
    login,
    /// [`show_stored_session`] from the page's own code (reading a session
    /// needs the login's code).
    async fn publish_status() -> () {
        show_stored_session();
    }
}

/// [`publish_status`] in the background. When the login's code cannot be
/// downloaded, the page says so (the stored session stays for the next visit).
fn publish_status_soon() {
    leptos::task::spawn_local(async {
        if let Err(error) = publish_status().await {
            set_status(AuthStatus::Error(format!(
                "Your session could not be restored: {error}."
            )));
        }
    });
}

/// [`check_session_silently`] in the background. When the login's code cannot
/// be downloaded: logged out, quietly, as when the IdP cannot be asked.
fn check_session_soon() {
    leptos::task::spawn_local(async {
        if check_session_silently().await.is_err() {
            set_status(AuthStatus::LoggedOut);
        }
    });
}

fn fresh(session: &Session) -> bool {
    session.expires_at - LEEWAY_SECS > now()
}

/// The access token to send, renewed first when it expires within the leeway, and
/// whether it is DPoP-bound. `None` when logged out or when the session cannot be
/// renewed.
pub async fn access_token() -> Option<(String, bool)> {
    let session = load()?;
    if fresh(&session) {
        return Some((session.access_token, session.dpop));
    }
    refresh_now().await?;
    load().map(|session| (session.access_token, session.dpop))
}

/// Where the config keeps tokens (and so the DPoP key).
pub fn storage() -> TokenStorage {
    storage_kind()
}

/// Renews the tokens, sharing one renewal among all callers of this tab meanwhile.
pub async fn refresh_now() -> Option<String> {
    if storage_kind() == TokenStorage::Server {
        // The server renews its session's tokens itself; a 401 from it means the
        // session has ended (it cleared the cookie): the page offers a new login.
        let signed_in = STATUS.with(|s| {
            s.borrow()
                .is_some_and(|status| matches!(status.get_untracked(), AuthStatus::LoggedIn(_)))
        });
        if signed_in {
            set_status(AuthStatus::Expired);
        }
        return None;
    }
    let renewal = RENEWING.with(|r| {
        r.borrow_mut()
            .get_or_insert_with(|| {
                async {
                    let used = load().map(|s| s.access_token);
                    // Not renewed when the login's code cannot be downloaded: the
                    // session stays, as on a network error.
                    let renew = async move { renew_locked(used).await.ok().flatten() };
                    let result = with_lock(RENEWAL_LOCK, renew).await;
                    RENEWING.with(|r| r.borrow_mut().take());
                    result
                }
                .boxed_local()
                .shared()
            })
            .clone()
    });
    renewal.await
}

lazy_fn! {
    login,
    /// Under the browser-wide lock. `used`: the access token the caller had.
    async fn renew_locked(used: Option<String>) -> Option<String> {
        let session = load_shared().await?;
        // Another tab renewed while we waited for the lock: use its tokens.
        if Some(&session.access_token) != used.as_ref() && fresh(&session) {
            return Some(session.access_token);
        }
        if session.refresh_token.is_none() {
            return renew_silently().await;
        }
        let config = config();
        for wait in RETRY_WAITS_MS.iter().copied().map(Some).chain([None]) {
            match oidc::refresh(&config, &session).await {
                Ok(renewed) => {
                    save_shared(&renewed).await;
                    return Some(renewed.access_token);
                }
                Err(error) if error.is_transient() => {
                    leptos::logging::warn!("session renewal failed ({}); will retry", error.code);
                    let Some(wait) = wait else {
                        // Keep the session: the IdP may be back for the next call.
                        return None;
                    };
                    sleep_ms(wait).await;
                }
                Err(error) => return end_if_still_current(&session, &error).await,
            }
        }
        None
    }
}

/// A definite refusal: the session ends, unless the refresh token it was about
/// has been replaced meanwhile (another tab renewed): then that session stands.
async fn end_if_still_current(used: &Session, error: &OAuthError) -> Option<String> {
    let stored = load_shared().await;
    if let Some(stored) = stored.filter(|s| s.refresh_token != used.refresh_token) {
        return fresh(&stored).then_some(stored.access_token);
    }
    leptos::logging::warn!("session renewal refused: {}", error.code);
    end_session()
}

/// The session cannot be renewed: forget it and the marker; the page offers
/// "Log in again".
fn end_session() -> Option<String> {
    take_session();
    clear_marker();
    set_status(AuthStatus::Expired);
    None
}

/// Renewal without a refresh token (memory storage after a silent login, or
/// refresh tokens off): the silent check again.
async fn renew_silently() -> Option<String> {
    match silent_login(&config()).await {
        Ok(session) => {
            save_shared(&session).await;
            Some(session.access_token)
        }
        Err(SilentError::Unavailable(_)) => None,
        Err(_) => end_session(),
    }
}

async fn sleep_ms(ms: u64) {
    let (send, receive) = futures::channel::oneshot::channel::<()>();
    leptos::prelude::set_timeout(
        move || {
            let _ = send.send(());
        },
        std::time::Duration::from_millis(ms),
    );
    let _ = receive.await;
}
