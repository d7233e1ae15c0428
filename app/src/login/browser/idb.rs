//! A tiny key-value store in IndexedDB, for what tabs must agree on at once, and
//! for what only IndexedDB can keep: a non-extractable WebCrypto key (stored by
//! structured clone; see [`super::dpop`]). localStorage is shared by tabs but not at once: in Chromium another tab's
//! write reaches this tab's copy asynchronously, so a tab that takes the renewal
//! lock right after another can still read the refresh token the other just
//! spent. IndexedDB transactions are ordered by the browser: a read begun after
//! another tab's write committed sees it. Bottom layer, like [`super::window`].
//!
//! Hand-written over web-sys rather than a wrapper crate: four calls, and the wasm
//! stays smaller.

use futures::channel::oneshot;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{IdbDatabase, IdbRequest, IdbTransactionMode};

const DATABASE: &str = "auth";
const STORE: &str = "kv";

/// Waits for an IDBRequest to succeed (its result) or fail (`None`).
async fn finished(request: &IdbRequest) -> Option<JsValue> {
    let (send, receive) = oneshot::channel::<bool>();
    let send = std::rc::Rc::new(std::cell::RefCell::new(Some(send)));
    let on_success = {
        let send = send.clone();
        Closure::once(move || {
            if let Some(send) = send.borrow_mut().take() {
                let _ = send.send(true);
            }
        })
    };
    let on_error = Closure::once(move || {
        if let Some(send) = send.borrow_mut().take() {
            let _ = send.send(false);
        }
    });
    request.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
    request.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let ok = receive.await.unwrap_or(false);
    request.set_onsuccess(None);
    request.set_onerror(None);
    if ok {
        request.result().ok()
    } else {
        None
    }
}

async fn open() -> Option<IdbDatabase> {
    let factory = web_sys::window()?.indexed_db().ok()??;
    let request = factory.open_with_u32(DATABASE, 1).ok()?;
    let on_upgrade = Closure::<dyn Fn(web_sys::Event)>::new(|event: web_sys::Event| {
        let database = event
            .target()
            .and_then(|t| t.dyn_into::<IdbRequest>().ok())
            .and_then(|r| r.result().ok())
            .and_then(|db| db.dyn_into::<IdbDatabase>().ok());
        if let Some(database) = database {
            let _ = database.create_object_store(STORE);
        }
    });
    request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let database = finished(&request).await?.dyn_into::<IdbDatabase>().ok();
    request.set_onupgradeneeded(None);
    database
}

/// The value under `key`; `None` when absent or when IndexedDB is unavailable.
pub async fn get_value(key: &str) -> Option<JsValue> {
    let database = open().await?;
    let store = database
        .transaction_with_str(STORE)
        .ok()?
        .object_store(STORE)
        .ok()?;
    let value = finished(&store.get(&JsValue::from_str(key)).ok()?).await;
    database.close();
    value.filter(|value| !value.is_undefined())
}

/// The string under `key`.
pub async fn get(key: &str) -> Option<String> {
    get_value(key).await?.as_string()
}

enum Write<'a> {
    Put(&'a JsValue),
    /// Only if `key` is absent (else the transaction aborts: `false`).
    Add(&'a JsValue),
    Delete,
}

/// One write in its own transaction; true once committed.
async fn write(key: &str, write: Write<'_>) -> bool {
    let Some(database) = open().await else {
        return false;
    };
    let Some(transaction) = database
        .transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite)
        .ok()
    else {
        return false;
    };
    // Committed when the transaction completes (or not, if it aborts): listen first.
    let (send, receive) = oneshot::channel::<bool>();
    let send = std::rc::Rc::new(std::cell::RefCell::new(Some(send)));
    let finish = |committed: bool| {
        let send = send.clone();
        Closure::once(move || {
            if let Some(send) = send.borrow_mut().take() {
                let _ = send.send(committed);
            }
        })
    };
    let (on_complete, on_abort) = (finish(true), finish(false));
    transaction.set_oncomplete(Some(on_complete.as_ref().unchecked_ref()));
    transaction.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
    let Ok(store) = transaction.object_store(STORE) else {
        return false;
    };
    let key = JsValue::from_str(key);
    let request = match write {
        Write::Put(value) => store.put_with_key(value, &key),
        Write::Add(value) => store.add_with_key(value, &key),
        Write::Delete => store.delete(&key),
    };
    if request.is_err() {
        let _ = transaction.abort();
    }
    let committed = receive.await.unwrap_or(false);
    database.close();
    committed
}

/// Stores (`Some`) or deletes (`None`) the string; returns once committed. False
/// when IndexedDB is unavailable.
pub async fn set(key: &str, value: Option<&str>) -> bool {
    match value {
        Some(value) => write(key, Write::Put(&JsValue::from_str(value))).await,
        None => write(key, Write::Delete).await,
    }
}

/// Stores `value` unless `key` already has one: true if this call stored it
/// (tabs racing to create the same thing agree on the first).
pub async fn add_value(key: &str, value: &JsValue) -> bool {
    write(key, Write::Add(value)).await
}
