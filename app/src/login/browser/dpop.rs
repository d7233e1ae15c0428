//! The browser's DPoP key and proofs (RFC 9449), when `useDpop` is on.
//!
//! - The key: ECDSA P-256 (ES256) made by WebCrypto as **non-extractable**: page
//!   script can sign with it but never read the private key. With `session` or
//!   `local` token storage it is kept in IndexedDB ([`super::idb`], structured
//!   clone keeps it non-extractable) so tokens bound to it outlive a reload; with
//!   `memory` storage it lives as long as the page, like the tokens. A logout
//!   forgets it; the next login makes a new one.
//! - A proof: `{typ: dpop+jwt, alg: ES256, jwk}` . `{jti, htm, htu, iat, ath?,
//!   nonce?}`, signed by WebCrypto (whose ECDSA output is already the JWS `r||s`).
//! - Nonces: the last `DPoP-Nonce` each server (by origin) sent, put in the next
//!   proof for it. The callers retry once on `use_dpop_nonce`.
//!
//! Below [`super::oidc`] (token endpoint) and [`crate::client`] (API calls); uses
//! only [`super::window`] and [`super::idb`].

use std::cell::RefCell;
use std::rc::Rc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, CryptoKeyPair, EcKeyGenParams, EcdsaParams, SubtleCrypto};

use super::idb;
use super::window::{now, random_b64};
use crate::lazy::lazy_fn;
use crate::login::TokenStorage;

/// Where the key pair is kept in IndexedDB.
const KEY_NAME: &str = "dpop.key";

/// The signing key and the proof header that names its public half.
struct ProofKey {
    private: CryptoKey,
    /// base64url of the proof's JOSE header.
    header: String,
}

thread_local! {
    static KEY: RefCell<Option<Rc<ProofKey>>> = const { RefCell::new(None) };
    /// (origin, last nonce it sent).
    static NONCES: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
}

fn subtle() -> Result<SubtleCrypto, String> {
    Ok(web_sys::window()
        .ok_or("no window")?
        .crypto()
        .map_err(|_| "no WebCrypto")?
        .subtle())
}

fn js_error(what: &str) -> impl Fn(JsValue) -> String + '_ {
    move |error| {
        format!(
            "{what}: {}",
            error.as_string().unwrap_or_else(|| format!("{error:?}"))
        )
    }
}

async fn generate() -> Result<CryptoKeyPair, String> {
    let usages = js_sys::Array::of2(&"sign".into(), &"verify".into());
    let promise = subtle()?
        .generate_key_with_object(&EcKeyGenParams::new("ECDSA", "P-256"), false, &usages)
        .map_err(js_error("DPoP key generation"))?;
    let pair = JsFuture::from(promise)
        .await
        .map_err(js_error("DPoP key generation"))?;
    Ok(pair.unchecked_into())
}

/// The JOSE header for `public` (its public JWK; public keys stay exportable).
async fn header_for(public: &CryptoKey) -> Result<String, String> {
    let promise = subtle()?
        .export_key("jwk", public)
        .map_err(js_error("DPoP public key"))?;
    let jwk = JsFuture::from(promise)
        .await
        .map_err(js_error("DPoP public key"))?;
    let member = |name: &str| {
        js_sys::Reflect::get(&jwk, &name.into())
            .ok()
            .and_then(|v| v.as_string())
            .ok_or_else(|| format!("DPoP public key has no {name}"))
    };
    let header = json!({
        "typ": "dpop+jwt",
        "alg": "ES256",
        "jwk": {"kty": "EC", "crv": "P-256", "x": member("x")?, "y": member("y")?},
    });
    Ok(URL_SAFE_NO_PAD.encode(header.to_string()))
}

/// The key pair: this page's, else IndexedDB's (not for `memory`), else a new one.
async fn key(storage: TokenStorage) -> Result<Rc<ProofKey>, String> {
    if let Some(key) = KEY.with(|k| k.borrow().clone()) {
        return Ok(key);
    }
    let pair = if storage == TokenStorage::Memory {
        generate().await?
    } else {
        match idb::get_value(KEY_NAME).await {
            Some(stored) => stored.unchecked_into(),
            None => {
                let fresh = generate().await?;
                // Another tab may have stored one meanwhile: every tab uses the first.
                if idb::add_value(KEY_NAME, &fresh).await {
                    fresh
                } else {
                    idb::get_value(KEY_NAME)
                        .await
                        .map(JsValue::unchecked_into)
                        .unwrap_or(fresh)
                }
            }
        }
    };
    let key = Rc::new(ProofKey {
        header: header_for(&pair.get_public_key()).await?,
        private: pair.get_private_key(),
    });
    // Two calls racing in this page: both use whichever was kept first.
    Ok(KEY.with(|k| k.borrow_mut().get_or_insert(key).clone()))
}

/// Logout: the key is dropped here and from IndexedDB (a new login, a new key).
pub async fn forget_key() {
    forget_key_in_page();
    idb::set(KEY_NAME, None).await;
}

/// Another tab logged out (and dropped the stored key): drop this page's copy.
pub fn forget_key_in_page() {
    KEY.with(|k| k.borrow_mut().take());
    NONCES.with(|n| n.borrow_mut().clear());
}

/// `scheme://host:port` of `url`.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

/// Keeps the `DPoP-Nonce` a server answered with (if any) for its next proof.
pub fn remember_nonce(url: &str, nonce: Option<String>) {
    let Some(nonce) = nonce.filter(|n| !n.is_empty()) else {
        return;
    };
    let origin = origin_of(url).to_owned();
    NONCES.with(|nonces| {
        let mut nonces = nonces.borrow_mut();
        nonces.retain(|(o, _)| *o != origin);
        nonces.push((origin, nonce));
    });
}

fn nonce_for(url: &str) -> Option<String> {
    let origin = origin_of(url);
    NONCES.with(|n| {
        n.borrow()
            .iter()
            .find(|(o, _)| o == origin)
            .map(|(_, nonce)| nonce.clone())
    })
}

async fn sha256_b64(text: &str) -> Result<String, String> {
    let promise = subtle()?
        .digest_with_str_and_u8_array("SHA-256", text.as_bytes())
        .map_err(js_error("SHA-256"))?;
    let digest = JsFuture::from(promise).await.map_err(js_error("SHA-256"))?;
    Ok(URL_SAFE_NO_PAD.encode(js_sys::Uint8Array::new(&digest).to_vec()))
}

lazy_fn! {
    login,
    /// A proof for `method url` (query and fragment left out of `htu`), bound to
    /// `access_token` (`ath`) when one is sent with it, with the server's nonce.
    pub async fn proof(
        storage: TokenStorage,
        method: String,
        url: String,
        access_token: Option<String>,
    ) -> Result<String, String> {
        let key = key(storage).await?;
        let htu = url.split(['?', '#']).next().unwrap_or(&url);
        let mut claims = json!({
            "jti": random_b64::<16>()?,
            "htm": method,
            "htu": htu,
            "iat": now().floor() as u64,
        });
        if let Some(token) = access_token {
            claims["ath"] = Value::String(sha256_b64(&token).await?);
        }
        if let Some(nonce) = nonce_for(&url) {
            claims["nonce"] = Value::String(nonce);
        }
        let input = format!(
            "{}.{}",
            key.header,
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let promise = subtle()?
            .sign_with_object_and_u8_array(
                &EcdsaParams::new_with_str("ECDSA", "SHA-256"),
                &key.private,
                input.as_bytes(),
            )
            .map_err(js_error("DPoP signature"))?;
        let signature = JsFuture::from(promise)
            .await
            .map_err(js_error("DPoP signature"))?;
        let signature = js_sys::Uint8Array::new(&signature).to_vec();
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}
