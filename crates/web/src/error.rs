//! The one HTTP error type: logs what went wrong inside, shows users a clear message. Pages
//! render it as HTML (`error_page`) and the API as JSON ([`json_errors`]).

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use servicemeter_store::StoreError;

/// What a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Not there, or not for this caller (workspaces of others look the same as missing ones).
    #[error("not found")]
    NotFound,
    /// No valid session or token.
    #[error("sign in first")]
    Unauthorized,
    /// Signed in, but the role does not allow it.
    #[error("your role does not allow this")]
    Forbidden,
    /// A cross-site request that changes state.
    #[error("cross-site request refused")]
    CrossSite,
    /// Input that cannot be used; the message names the field and the reason.
    #[error("{0}")]
    BadRequest(String),
    /// The same, said in both languages (pages show the reader's; the API says `en`).
    #[error("{en}")]
    Invalid { nl: String, en: String },
    #[error("too many attempts; wait a minute and try again")]
    TooManyRequests,
    /// A body larger than the route takes; the message names the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The same signed delivery came again.
    #[error("{0}")]
    Conflict(String),
    /// Anything else: logged, shown as a generic message.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> WebError {
        match e {
            // Records beyond a limit are the sender's to fix; nothing was stored.
            StoreError::Limit(message) => WebError::BadRequest(message),
            e => WebError::Internal(e.into()),
        }
    }
}

impl From<anyhow::Error> for WebError {
    fn from(e: anyhow::Error) -> WebError {
        WebError::Internal(e)
    }
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Unauthorized => StatusCode::UNAUTHORIZED,
            WebError::Forbidden | WebError::CrossSite => StatusCode::FORBIDDEN,
            WebError::BadRequest(_) | WebError::Invalid { .. } => StatusCode::BAD_REQUEST,
            WebError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            WebError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The message of an error response, kept on the response so that the page and API layers
/// can render it their way.
#[derive(Debug, Clone)]
pub struct ErrorMessage(pub String);

/// The Dutch words of an error response that has them (see [`WebError::Invalid`]).
#[derive(Debug, Clone)]
pub struct DutchMessage(pub String);

impl WebError {
    /// Input that cannot be used, in Dutch and in English.
    pub fn invalid(nl: impl Into<String>, en: impl Into<String>) -> WebError {
        WebError::Invalid {
            nl: nl.into(),
            en: en.into(),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::Internal(e) = &self {
            tracing::error!(error = format!("{e:#}"), "request failed");
        }
        let message = self.to_string();
        let mut response = (self.status(), message.clone()).into_response();
        response.extensions_mut().insert(ErrorMessage(message));
        if let WebError::Invalid { nl, .. } = self {
            response.extensions_mut().insert(DutchMessage(nl));
        }
        response
    }
}

/// Error responses of the API as `{"error": "..."}` — also the ones made before a handler runs
/// (a body over the limit, a body that is not UTF-8 or not a form), which come as plain text.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let message = match response.extensions().get::<ErrorMessage>().cloned() {
        Some(ErrorMessage(message)) => message,
        None if status.is_client_error() || status.is_server_error() => {
            let is_json = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            if is_json {
                return response;
            }
            let (_, body) = response.into_parts();
            // These bodies are short sentences of the framework's; more is not read.
            let text = axum::body::to_bytes(body, 4096)
                .await
                .map(|b| String::from_utf8_lossy(&b).trim().to_string())
                .unwrap_or_default();
            let text = if text.is_empty() {
                status.canonical_reason().unwrap_or("error").to_lowercase()
            } else {
                text
            };
            return (status, Json(serde_json::json!({ "error": text }))).into_response();
        }
        None => return response,
    };
    let mut out = (status, Json(serde_json::json!({ "error": message }))).into_response();
    copy_auth_header(&response, &mut out);
    out
}

fn copy_auth_header(from: &Response, to: &mut Response) {
    if let Some(v) = from.headers().get(header::WWW_AUTHENTICATE) {
        to.headers_mut().insert(header::WWW_AUTHENTICATE, v.clone());
    }
}
