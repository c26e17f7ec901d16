//! Error responses of the pages as a page of their own: in the reader's language, with the
//! navigation back (home, and the workspace the address was in).

use askama::Template;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use crate::error::{DutchMessage, ErrorMessage};
use crate::i18n::Lang;
use crate::pages::Frame;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    frame: Frame,
    code: u16,
    message: &'static str,
    /// What the handler said, for input the sender can fix (shown under the message).
    detail: String,
    /// The workspace of the address (`/w/{workspace}/…`), for the way back.
    workspace: String,
}

/// Turns an error response of a page into the error page (a missing session goes to the login
/// page instead).
pub async fn html_errors(request: Request, next: Next) -> Response {
    let lang = Lang::of_headers(request.headers());
    let workspace = request
        .uri()
        .path()
        .strip_prefix("/w/")
        .and_then(|rest| rest.split('/').next())
        .filter(|name| servicemeter_core::access::workspace_name_problem(name).is_none())
        .unwrap_or_default()
        .to_string();
    let response = next.run(request).await;
    let Some(ErrorMessage(said)) = response.extensions().get::<ErrorMessage>().cloned() else {
        return response;
    };
    let said = match (lang, response.extensions().get::<DutchMessage>()) {
        (Lang::Nl, Some(DutchMessage(nl))) => nl.clone(),
        _ => said,
    };
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED {
        return (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response();
    }
    let t = lang.texts();
    let (message, detail) = match status {
        StatusCode::NOT_FOUND => (t.error_not_found, String::new()),
        StatusCode::FORBIDDEN => (t.error_forbidden, String::new()),
        StatusCode::TOO_MANY_REQUESTS => (t.error_too_many, String::new()),
        s if s.is_server_error() => (t.error_internal, String::new()),
        // Input the sender can fix: the handler's words name the field and the reason.
        _ => (t.error_bad_request, said),
    };
    let page = ErrorPage {
        frame: Frame::new(lang, None),
        code: status.as_u16(),
        message,
        detail,
        workspace,
    };
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the error page did not render");
            (status, message).into_response()
        }
    }
}
