//! The browser's server-function client: like the default one, plus the access
//! token when someone is logged in (from the login's token store, refreshed first
//! when about to expire): `Authorization: Bearer <token>`, or for a DPoP-bound
//! token `Authorization: DPoP <token>` with a `DPoP` proof for this call. The
//! server's `DPoP-Nonce` is kept for the next proof.
//!
//! And the retry policy of a protected call ([`with_retries`]): a call refused
//! with `use_dpop_nonce` is sent again once (now with that nonce), and a `401`
//! renews the session once (when there is a refresh token) and sends again. Pages
//! call through it and carry no protocol logic.

use leptos::server_fn::client::browser::BrowserClient;
use leptos::server_fn::client::Client;
use leptos::server_fn::error::FromServerFnError;
use leptos::server_fn::request::browser::BrowserRequest;
use leptos::server_fn::response::browser::BrowserResponse;

/// The server-function client of the protected calls (`client = BearerClient`).
pub struct BearerClient;

/// What [`with_retries`] needs to know of a failed call.
pub trait CallError {
    /// The HTTP status the API answered with, if it answered.
    fn status(&self) -> Option<u16>;
    /// The OAuth error code (`invalid_token`, `use_dpop_nonce`, ...), if any.
    fn error_code(&self) -> Option<&str>;
}

/// Runs `call`, and for a `protected` one applies the retry policy: once more
/// after `use_dpop_nonce` (the client kept the nonce the API sent), and once more
/// after a `401` if the session could be renewed with its refresh token. Never
/// more than one renewal, so a token the API keeps refusing ends in its error.
pub async fn with_retries<T, E, F, Fut>(protected: bool, call: F) -> Result<T, E>
where
    E: CallError,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let answer = call().await;
    if !protected {
        return answer;
    }
    #[cfg(feature = "hydrate")]
    {
        let answer = match answer {
            Err(error) if error.error_code() == Some("use_dpop_nonce") => call().await,
            answer => answer,
        };
        if matches!(&answer, Err(error) if error.status() == Some(401))
            && crate::login::browser::store::refresh_now().await.is_some()
        {
            return call().await;
        }
        answer
    }
    #[cfg(not(feature = "hydrate"))]
    answer
}

impl<E, IS, OS> Client<E, IS, OS> for BearerClient
where
    E: FromServerFnError,
    IS: FromServerFnError,
    OS: FromServerFnError,
{
    type Request = BrowserRequest;
    type Response = BrowserResponse;

    fn send(
        req: Self::Request,
    ) -> impl std::future::Future<Output = Result<Self::Response, E>> + Send {
        // The token lookup may await a refresh; the browser is single-threaded, so
        // the future only needs to claim `Send`.
        #[cfg(feature = "hydrate")]
        {
            use crate::login::browser::{dpop, store};
            send_wrapper::SendWrapper::new(async move {
                let url = req.url();
                let mut bound = false;
                match store::access_token().await {
                    Some((token, true)) => {
                        let method = req.method().to_string();
                        match dpop::proof(
                            store::storage(),
                            method,
                            url.clone(),
                            Some(token.clone()),
                        )
                        .await
                        .unwrap_or_else(|error| Err(error.to_string()))
                        {
                            Ok(proof) => {
                                let headers = req.headers();
                                headers.append("Authorization", &format!("DPoP {token}"));
                                headers.append("DPoP", &proof);
                                bound = true;
                            }
                            // Sent without credentials: the page shows the API's 401.
                            Err(error) => leptos::logging::warn!("no DPoP proof: {error}"),
                        }
                    }
                    Some((token, false)) => req
                        .headers()
                        .append("Authorization", &format!("Bearer {token}")),
                    None => {}
                }
                let response = <BrowserClient as Client<E, IS, OS>>::send(req).await?;
                if bound {
                    let nonce = response
                        .generate_headers()
                        .get("dpop-nonce")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    dpop::remember_nonce(&url, nonce);
                }
                Ok(response)
            })
        }
        #[cfg(not(feature = "hydrate"))]
        {
            <BrowserClient as Client<E, IS, OS>>::send(req)
        }
    }

    fn open_websocket(
        path: &str,
    ) -> impl std::future::Future<
        Output = Result<
            (
                impl futures::Stream<
                        Item = Result<leptos::server_fn::Bytes, leptos::server_fn::Bytes>,
                    > + Send
                    + 'static,
                impl futures::Sink<leptos::server_fn::Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <BrowserClient as Client<E, IS, OS>>::open_websocket(path)
    }

    fn spawn(future: impl std::future::Future<Output = ()> + Send + 'static) {
        <BrowserClient as Client<E, IS, OS>>::spawn(future)
    }
}
