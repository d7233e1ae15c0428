//! What the tabs of one origin share: a browser-wide lock (Web Locks) so only one
//! tab at a time renews with a rotating refresh token, and a `BroadcastChannel` on
//! which a login or logout in one tab reaches the others. Above [`super::window`]
//! only; the token store decides what a message means.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

const CHANNEL: &str = "auth";
/// The lock every renewal holds.
pub const RENEWAL_LOCK: &str = "auth.renewal";

/// A message between tabs; never carries a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TabEvent {
    LoggedIn,
    LoggedOut,
}

impl TabEvent {
    fn as_str(self) -> &'static str {
        match self {
            Self::LoggedIn => "logged-in",
            Self::LoggedOut => "logged-out",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "logged-in" => Some(Self::LoggedIn),
            "logged-out" => Some(Self::LoggedOut),
            _ => None,
        }
    }
}

thread_local! {
    static CHANNEL_HANDLE: RefCell<Option<web_sys::BroadcastChannel>> = const { RefCell::new(None) };
}

fn channel() -> Option<web_sys::BroadcastChannel> {
    CHANNEL_HANDLE.with(|handle| {
        let mut handle = handle.borrow_mut();
        if handle.is_none() {
            *handle = web_sys::BroadcastChannel::new(CHANNEL).ok();
        }
        handle.clone()
    })
}

/// Tells the other tabs (this one does not receive its own message).
pub fn announce(event: TabEvent) {
    if let Some(channel) = channel() {
        let _ = channel.post_message(&JsValue::from_str(event.as_str()));
    }
}

/// Calls `on_event` for each message from another tab, for the page's life.
pub fn listen(on_event: impl Fn(TabEvent) + 'static) {
    let Some(channel) = channel() else {
        return;
    };
    let handler =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |message: web_sys::MessageEvent| {
            if let Some(event) = message
                .data()
                .as_string()
                .as_deref()
                .and_then(TabEvent::parse)
            {
                on_event(event);
            }
        });
    channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
}

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks.request(name, callback)` (Web Locks; web-sys has it only
    /// behind its unstable-API flag).
    #[wasm_bindgen(js_namespace = ["navigator", "locks"], js_name = request, catch)]
    fn request_lock(
        name: &str,
        callback: &Closure<dyn FnMut(JsValue) -> js_sys::Promise>,
    ) -> Result<js_sys::Promise, JsValue>;
}

fn has_web_locks() -> bool {
    web_sys::window()
        .map(|w| w.navigator())
        .and_then(|navigator| js_sys::Reflect::get(&navigator, &JsValue::from_str("locks")).ok())
        .is_some_and(|locks| !locks.is_undefined())
}

/// Runs `work` holding the browser-wide lock `name` (every tab of the origin waits
/// its turn). Without Web Locks, or if the request fails, runs it directly.
pub async fn with_lock<T: 'static, F: Future<Output = T> + 'static>(name: &str, work: F) -> T {
    let job = Rc::new(RefCell::new(Some(work)));
    if has_web_locks() {
        let (send, receive) = futures::channel::oneshot::channel::<T>();
        let send = Rc::new(RefCell::new(Some(send)));
        let callback = {
            let (job, send) = (job.clone(), send.clone());
            Closure::<dyn FnMut(JsValue) -> js_sys::Promise>::new(move |_lock: JsValue| {
                let (work, send) = (job.borrow_mut().take(), send.borrow_mut().take());
                // The lock is held until this promise settles.
                future_to_promise(async move {
                    if let (Some(work), Some(send)) = (work, send) {
                        let _ = send.send(work.await);
                    }
                    Ok(JsValue::UNDEFINED)
                })
            })
        };
        if let Ok(promise) = request_lock(name, &callback) {
            let _ = JsFuture::from(promise).await;
        }
        drop((callback, send));
        if let Ok(value) = receive.await {
            return value;
        }
    }
    // No lock to be had: the work never ran; run it now.
    let work = job.borrow_mut().take().expect("work not yet run");
    work.await
}
