//! The routes of `server` token storage and the layer every request goes through:
//!
//! - `GET /auth/login?returnTo=...`: a new login transaction (sealed in its own
//!   cookie, so two tabs logging in at once both complete), then the IdP.
//! - `GET /callback`: the transaction checked, the code exchanged, a new session
//!   (new id: no fixation), back to `returnTo` without the code. When it fails the
//!   Leptos callback page renders why (the same messages as the browser's login).
//! - `POST /auth/logout` (a form): the session ended in the store, its refresh
//!   token revoked, the cookie cleared, then the IdP's logout (or `/` with
//!   `scope=app`).
//! - [`layer`]: pages get the signed-in user ([`ServerAuthState`] as a request
//!   extension, which the page context provides to Leptos); the protected server
//!   functions get the session's access token as `Authorization: Bearer`, so the
//!   verifier checks it as any other; and state-changing requests carrying the
//!   session cookie from another site are refused (`403`, nothing done).

use std::collections::HashMap;
use std::sync::Arc;

use app::api::{ApiError, SESSION_TOKEN_CALLS};
use app::login::server_session::{allowed_prompt, ServerAuthState, LOGIN_PATH, LOGOUT_PATH};
use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::cookies::set;
use super::sessions::{SessionError, Sessions, TRANSACTION_TTL};

/// The login and logout routes.
pub fn routes<S: Clone + Send + Sync + 'static>(sessions: Arc<Sessions>) -> Router<S> {
    Router::new()
        .route(LOGIN_PATH, get(login))
        .route(LOGOUT_PATH, post(logout))
        .with_state(sessions)
}

fn redirect(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A short HTML page for what cannot be rendered by the app (the IdP or the
/// store is down at login or logout).
fn problem_page(status: StatusCode, message: &str) -> Response {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in problem</title></head>\
         <body><h1>Sign-in problem</h1><p role=\"alert\">{escaped}</p><p><a href=\"/\">Back to the app</a></p></body></html>"
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn login(
    State(sessions): State<Arc<Sessions>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let origin = sessions.origin(&headers);
    let return_to = params.get("returnTo").map_or("/", String::as_str);
    let prompt = params
        .get("prompt")
        .and_then(|prompt| allowed_prompt(prompt));
    match sessions.start_login(&origin, return_to, prompt).await {
        Ok((url, state, sealed)) => {
            let mut response = redirect(&url);
            set(
                response.headers_mut(),
                sessions
                    .cookies
                    .transaction(&state, &sealed, TRANSACTION_TTL),
            );
            response
        }
        Err(error) => problem_page(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("Login could not start: {error}. Try again shortly."),
        ),
    }
}

async fn logout(
    State(sessions): State<Arc<Sessions>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let app_only =
        url::form_urlencoded::parse(&body).any(|(key, value)| key == "scope" && value == "app");
    let origin = sessions.origin(&headers);
    let record = match sessions.cookies.session_id(&headers) {
        None => None,
        Some(id) => match sessions.end(&id).await {
            Ok(record) => record,
            Err(error) => {
                tracing::warn!(%error, "logout: the session store is unavailable");
                return problem_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Logout could not finish: sessions cannot be reached right now. Try again shortly.",
                );
            }
        },
    };
    if let Some(record) = &record {
        sessions.revoke(record).await;
    }
    let location = if app_only {
        "/".to_owned()
    } else {
        sessions.logout_url(record.as_ref(), &origin).await
    };
    let mut response = redirect(&location);
    set(response.headers_mut(), sessions.cookies.clear_session());
    response
}

/// Whether a request came from another site. `Sec-Fetch-Site` decides when the
/// browser sends it (every current one does): anything but `same-origin` or
/// `none` (typed into the address bar) is another site. Else `Origin`, when
/// present, must be this app's. `Origin` is not enough on its own: with this
/// app's `Referrer-Policy: no-referrer`, Chromium sends `Origin: null` on its own
/// forms' POSTs. A request with neither header is not from a browser page.
pub fn cross_site(headers: &HeaderMap, origin: &str) -> bool {
    match headers.get("sec-fetch-site") {
        Some(site) => !matches!(site.as_bytes(), b"same-origin" | b"none"),
        None => headers
            .get(header::ORIGIN)
            .is_some_and(|value| value.as_bytes() != origin.as_bytes()),
    }
}

/// A server function's refusal, encoded as the page's client decodes it.
fn call_refused(status: StatusCode, error: &str, description: String) -> Response {
    let body = serde_json::to_string(&ApiError::Refused {
        status: status.as_u16(),
        error: error.to_owned(),
        description,
    })
    .unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The session layer (see the module docs).
pub async fn layer(
    State(sessions): State<Arc<Sessions>>,
    mut request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let session_id = sessions.cookies.session_id(request.headers());
    let safe = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);

    if !safe && session_id.is_some() && (path == LOGOUT_PATH || path.starts_with("/api/")) {
        let origin = sessions.origin(request.headers());
        if cross_site(request.headers(), &origin) {
            tracing::info!(%path, "refused a cross-site request carrying the session cookie");
            return (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response();
        }
    }

    if method == Method::GET && path == "/callback" {
        return callback(&sessions, session_id, request, next).await;
    }

    if method == Method::POST && SESSION_TOKEN_CALLS.contains(&path.as_str()) {
        let has_token = request.headers().contains_key(header::AUTHORIZATION);
        if let (Some(id), false) = (session_id, has_token) {
            match sessions.access_token(&id).await {
                Ok(token) => {
                    if let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) {
                        request.headers_mut().insert(header::AUTHORIZATION, value);
                    }
                }
                Err(SessionError::Ended(message)) => {
                    let mut response =
                        call_refused(StatusCode::UNAUTHORIZED, "invalid_token", message);
                    set(response.headers_mut(), sessions.cookies.clear_session());
                    return response;
                }
                Err(SessionError::Unavailable(message)) => {
                    return call_refused(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "temporarily_unavailable",
                        message,
                    );
                }
            }
        }
        return next.run(request).await;
    }

    let page = matches!(method, Method::GET | Method::HEAD)
        && !path.starts_with("/pkg/")
        && !path.starts_with("/api/")
        && !crate::health::PATHS.contains(&path.as_str());
    if !page {
        return next.run(request).await;
    }
    let (state, ended) = page_state(&sessions, session_id.as_deref()).await;
    let signed_in = state.user.is_some();
    request.extensions_mut().insert(Arc::new(state));
    let mut response = next.run(request).await;
    // Each page depends on the cookie: caches must not hand one browser's to another.
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("cookie"));
    if ended {
        set(response.headers_mut(), sessions.cookies.clear_session());
    }
    if signed_in || ended {
        // Rendered for this cookie: no shared cache may keep it.
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
    }
    response
}

/// What a page shows of the session `id` names, and whether the cookie should go
/// (it names no live session).
async fn page_state(sessions: &Sessions, id: Option<&str>) -> (ServerAuthState, bool) {
    let Some(id) = id else {
        return (ServerAuthState::default(), false);
    };
    match sessions.read_user(id).await {
        Ok(Some(user)) => (
            ServerAuthState {
                user: Some(user),
                ..ServerAuthState::default()
            },
            false,
        ),
        Ok(None) => (ServerAuthState::default(), true),
        Err(error) => {
            tracing::warn!(%error, "session store unavailable while rendering a page");
            (
                ServerAuthState {
                    problem: Some(
                        "Your session cannot be read right now; try again shortly.".into(),
                    ),
                    ..ServerAuthState::default()
                },
                false,
            )
        }
    }
}

async fn callback(
    sessions: &Sessions,
    old_session: Option<String>,
    mut request: Request<Body>,
    next: Next,
) -> Response {
    let params: HashMap<String, String> = request
        .uri()
        .query()
        .map(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let state = params.get("state").cloned();
    let sealed = state
        .as_deref()
        .and_then(|state| sessions.cookies.transaction_of(request.headers(), state));
    let origin = sessions.origin(request.headers());
    let mut response = match sessions
        .complete_login(&origin, sealed.as_deref(), &params)
        .await
    {
        Ok((id, return_to)) => {
            // A new id at every login; the one before (if any) ends.
            if let Some(old) = old_session {
                if let Err(error) = sessions.end(&old).await {
                    tracing::warn!(%error, "could not end the session replaced by a login");
                }
            }
            let mut response = redirect(&return_to);
            set(
                response.headers_mut(),
                sessions.cookies.session(&id, sessions.max_age()),
            );
            response
        }
        Err(failure) => {
            let (mut state, _) = page_state(sessions, old_session.as_deref()).await;
            state.login_failure = Some(failure);
            request.extensions_mut().insert(Arc::new(state));
            next.run(request).await
        }
    };
    if let Some(state) = state.filter(|_| sealed.is_some()) {
        set(
            response.headers_mut(),
            sessions.cookies.clear_transaction(&state),
        );
    }
    response
}
