//! The survey invitation by e-mail, and unsubscribing from it. A `survey-send` job sends one
//! invitation: it is marked `sending` (committed) before the mail goes out and `sent` after,
//! so a crash in between leaves it `unknown` and it is never sent twice. The mail is in the
//! customer's language, plain text and HTML, with a button per score (each a signed link that
//! only opens the survey page) and one-click unsubscribe (RFC 8058).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use lettre::message::{Mailbox, Message, MultiPart};
use servicemeter_core::address::primary_language;
use servicemeter_store::jobs::{Job, JobProgress, Worker};
use servicemeter_store::surveys::{Begin, Invitation, SendPayload};
use servicemeter_store::{Accounts, Store, Workspace};

use crate::error::WebError;
use crate::i18n::Lang;
use crate::mail::{ListUnsubscribe, ListUnsubscribePost, SmtpSettings};
use crate::state::AppState;
use crate::survey_link::{LINK_DAYS, SurveyLink, new_secret, sign, url, verify};
use crate::survey_page::{chrome, text_in};

/// How long an unsubscribe link keeps working.
pub const UNSUBSCRIBE_DAYS: i64 = 365;

/// What sending needs besides the store: the SMTP server and the address customers reach
/// the survey page at.
#[derive(Debug, Clone)]
pub struct Sending {
    pub smtp: Option<SmtpSettings>,
    pub public_url: Option<String>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The invitation mail of one conversation's survey.
#[allow(clippy::too_many_arguments)]
pub fn compose(
    settings: &servicemeter_core::surveys::SurveySettings,
    workspace: &Workspace,
    invitation: &Invitation,
    customer_name: Option<&str>,
    secret: &str,
    base: &str,
    now: i64,
    sender: Mailbox,
) -> Result<Message, String> {
    let definition = settings
        .kinds
        .get(&invitation.kind)
        .ok_or_else(|| format!("{} surveys are switched off", invitation.kind.as_str()))?;
    let to: Mailbox = invitation
        .customer_email
        .as_deref()
        .ok_or("the invitation has no address (erased?)")?
        .parse()
        .map_err(|e| format!("address: {e}"))?;
    let language = invitation.language.as_str();
    let t = chrome(language).texts();
    let text_in = |texts: &servicemeter_core::surveys::Texts| {
        text_in(texts, language, settings)
            .unwrap_or_default()
            .to_string()
    };
    let brand = settings
        .brand
        .clone()
        .unwrap_or_else(|| workspace.name.clone());
    let question = text_in(&definition.question);
    let link = |days: i64| SurveyLink {
        conversation: invitation.conversation.clone(),
        kind: invitation.kind,
        expires_at: (now.div_euclid(1000) + days * 86_400) * 1000,
    };
    let token = sign(secret, &workspace.name, &link(LINK_DAYS));
    let unsubscribe_token = sign(secret, &workspace.name, &link(UNSUBSCRIBE_DAYS));
    let base = base.trim_end_matches('/');
    let unsubscribe = format!("{base}/u/{}/{unsubscribe_token}", workspace.name);
    let hello = match customer_name {
        Some(name) => format!("{} {name},", t.survey_mail_hello),
        None => format!("{},", t.survey_mail_hello),
    };
    let points: Vec<(u8, String)> = definition
        .scale
        .points()
        .map(|p| (p, url(base, &workspace.name, &token, Some(p))))
        .collect();

    let mut text = format!(
        "{hello}\n\n{} {brand}. {question}\n{}\n\n",
        t.survey_mail_intro, t.survey_mail_click
    );
    for (p, link) in &points {
        text.push_str(&format!("{p}: {link}\n"));
    }
    text.push_str(&format!("\n{}: {unsubscribe}\n", t.survey_unsubscribe));

    let color = settings.color.clone().unwrap_or_else(|| "#2456a6".into());
    let mut buttons = String::new();
    for (p, link) in &points {
        buttons.push_str(&format!(
            "<a href=\"{}\" style=\"display:inline-block;min-width:36px;padding:10px 12px;margin:3px;\
             border:1px solid {color};border-radius:6px;color:{color};text-decoration:none;\
             font:bold 16px sans-serif;text-align:center\">{p}</a>",
            escape(link)
        ));
    }
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{subject}</title></head>\
         <body style=\"font:15px/1.5 sans-serif;color:#1d2430\">\
         <p>{hello}</p><p>{intro} {brand}.</p><h1 style=\"font-size:18px\">{question}</h1>\
         <p>{buttons}</p><p style=\"color:#5d6878\">{click}</p>\
         <p style=\"color:#5d6878;font-size:12px\"><a href=\"{unsubscribe_href}\" style=\"color:#5d6878\">{unsubscribe_text}</a></p>\
         </body></html>",
        lang = escape(primary_language(language)),
        subject = escape(t.survey_mail_subject),
        hello = escape(&hello),
        intro = escape(t.survey_mail_intro),
        brand = escape(&brand),
        question = escape(&question),
        click = escape(t.survey_mail_click),
        unsubscribe_href = escape(&unsubscribe),
        unsubscribe_text = escape(t.survey_unsubscribe),
    );
    let sender = Mailbox::new(Some(brand.clone()), sender.email);
    let message_id = format!(
        "<survey-{}-{}@servicemeter>",
        invitation.kind.as_str(),
        &token[token.len() - 16..]
    );
    Message::builder()
        .from(sender)
        .to(to)
        .subject(format!("{} – {brand}", t.survey_mail_subject))
        .message_id(Some(message_id))
        .header(ListUnsubscribe(unsubscribe))
        .header(ListUnsubscribePost)
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|e| format!("message: {e}"))
}

/// The workspace a job is for (gone: an error the job keeps).
pub(crate) async fn job_workspace<S: Store>(store: &S, job: &Job) -> Result<Workspace, String> {
    store
        .workspaces()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|w| w.id == job.workspace)
        .ok_or_else(|| "the workspace is gone".to_string())
}

/// The id a job's payload names (a report copy's, an alert event's) and its workspace.
pub(crate) async fn job_target<S: Store>(
    store: &S,
    job: &Job,
    what: &str,
) -> Result<(i64, Workspace), String> {
    let id: i64 = job
        .payload
        .trim()
        .parse()
        .map_err(|_| format!("payload {:?} is not {what}'s id", job.payload))?;
    Ok((id, job_workspace(store, job).await?))
}

/// Sends one invitation (the `survey-send` job).
async fn send_one<S: Store + Accounts>(
    store: &S,
    sending: &Sending,
    job: &Job,
    now: i64,
) -> Result<(), String> {
    let payload: SendPayload =
        serde_json::from_str(&job.payload).map_err(|e| format!("payload: {e}"))?;
    let workspace = job_workspace(store, job).await?;
    let begin = store
        .begin_sending(workspace.id, &payload.conversation, payload.kind, now)
        .await
        .map_err(|e| e.to_string())?;
    let invitation = match begin {
        Begin::Claimed(invitation) => invitation,
        Begin::Interrupted => {
            tracing::warn!(
                workspace = workspace.id.0,
                conversation = %payload.conversation,
                "a survey send was interrupted earlier; it is not sent again"
            );
            return Ok(());
        }
        Begin::Nothing => return Ok(()),
    };
    let outcome = async {
        let smtp = smtp_for(store, workspace.id, sending.smtp.as_ref())
            .await?
            .ok_or(
                "no SMTP server is set up (the workspace's survey settings, or serve --smtp-url \
                 and --smtp-from)",
            )?;
        let base = sending
            .public_url
            .as_deref()
            .ok_or("survey mails need the server's public address (serve --public-url)")?;
        let config = crate::data::config(&workspace).map_err(|e| e.to_string())?;
        let conversation = store
            .conversation(workspace.id, &payload.conversation)
            .await
            .map_err(|e| e.to_string())?;
        let name = conversation
            .as_ref()
            .and_then(|c| c.header.as_ref())
            .and_then(|h| h.customer_name.clone());
        let secret = store
            .survey_secret(workspace.id, &new_secret().map_err(|e| e.to_string())?)
            .await
            .map_err(|e| e.to_string())?;
        let message = compose(
            &config.surveys,
            &workspace,
            &invitation,
            name.as_deref(),
            &secret,
            base,
            now,
            smtp.sender(),
        )?;
        smtp.send(message).await
    }
    .await;
    let last_attempt = job.attempts >= job.max_attempts;
    store
        .end_sending(
            workspace.id,
            &payload.conversation,
            payload.kind,
            outcome.as_ref().map(|_| ()).map_err(String::as_str),
            last_attempt,
            now,
        )
        .await
        .map_err(|e| e.to_string())?;
    outcome
}

/// The SMTP server a workspace's survey mail goes through: its own (settings page), else the
/// installation's; `None` when there is neither.
pub async fn smtp_for<S: Store>(
    store: &S,
    workspace: servicemeter_store::WorkspaceId,
    installation: Option<&SmtpSettings>,
) -> Result<Option<SmtpSettings>, String> {
    match store
        .workspace_smtp(workspace)
        .await
        .map_err(|e| e.to_string())?
    {
        Some((url, sender)) => SmtpSettings::parse(&url, &sender)
            .map(Some)
            .map_err(|e| format!("the workspace's SMTP settings: {e}")),
        None => Ok(installation.cloned()),
    }
}

/// Runs `survey-send` jobs on `worker` (the server's, and `servicemeter jobs run`).
pub fn register<S: Store + Accounts + 'static>(
    worker: &mut Worker<S>,
    sending: Sending,
    clock: Arc<dyn Fn() -> i64 + Send + Sync>,
) {
    let sending = Arc::new(sending);
    worker.handle(
        servicemeter_store::surveys::SURVEY_SEND,
        Arc::new(
            move |store: Arc<S>, job: Job, _progress: Arc<JobProgress>| {
                let sending = sending.clone();
                let now = clock();
                Box::pin(async move { send_one(&*store, &sending, &job, now).await })
            },
        ),
    );
}

/// The unsubscribe page (the button posts; opening the link changes nothing) and its answer.
fn unsubscribe_page(lang: Lang, brand: &str, action: Option<&str>, done: bool) -> String {
    let t = lang.texts();
    let body = if done {
        format!(
            "<p>{} {}.</p>",
            escape(t.survey_unsubscribed),
            escape(brand)
        )
    } else {
        format!(
            "<form method=\"post\" action=\"{}\"><p>{} {}?</p><button type=\"submit\">{}</button></form>",
            escape(action.unwrap_or_default()),
            escape(t.survey_unsubscribe_ask),
            escape(brand),
            escape(t.survey_unsubscribe)
        )
    };
    page_shell(lang, brand, &format!("<h1>{}</h1>{body}", escape(brand)))
}

/// The frame of the unsubscribe pages (no sign-in, no navigation).
pub(crate) fn page_shell(lang: Lang, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{}</title>\
         <link rel=\"stylesheet\" href=\"/static/style.css\"></head>\
         <body class=\"survey\"><main class=\"card narrow\">{body}</main></body></html>",
        lang.code(),
        escape(title)
    )
}

/// The address and brand an unsubscribe link stands for, or the page that says it is broken.
async fn unsubscribe_target<S: Store + Accounts>(
    state: &AppState<S>,
    lang: Lang,
    name: &str,
    token: &str,
) -> Result<Result<(Workspace, Option<String>, String, Lang), Response>, WebError> {
    let t = lang.texts();
    let broken = || {
        (
            StatusCode::BAD_REQUEST,
            Html(unsubscribe_page_broken(lang, t.survey_link_broken)),
        )
            .into_response()
    };
    let Some(workspace) = state.store.find_workspace(name).await? else {
        return Ok(Err(broken()));
    };
    let secret = state
        .store
        .survey_secret(workspace.id, &new_secret().map_err(WebError::Internal)?)
        .await?;
    let Ok(link) = verify(&secret, &workspace.name, token, state.now_millis()) else {
        return Ok(Err(broken()));
    };
    let invitation = state
        .store
        .invitation(workspace.id, &link.conversation, link.kind)
        .await?;
    let surveys = crate::data::config(&workspace)?.surveys;
    // The customer's language, as the mail was written in.
    let lang = chrome(
        invitation
            .as_ref()
            .map_or(surveys.language.as_str(), |i| i.language.as_str()),
    );
    let email = match invitation.and_then(|i| i.customer_email) {
        Some(email) => Some(email),
        None => state
            .store
            .conversation(workspace.id, &link.conversation)
            .await?
            .and_then(|c| c.header)
            .and_then(|h| h.customer_email),
    };
    let brand = surveys.brand.unwrap_or_else(|| workspace.name.clone());
    Ok(Ok((workspace, email, brand, lang)))
}

fn unsubscribe_page_broken(lang: Lang, message: &str) -> String {
    page_shell(
        lang,
        "servicemeter",
        &format!("<p class=\"error\" role=\"alert\">{}</p>", escape(message)),
    )
}

/// `GET /u/{workspace}/{token}`: asks (a link scanner changes nothing).
pub async fn unsubscribe_form<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    Path((name, token)): Path<(String, String)>,
) -> Result<Response, WebError> {
    match unsubscribe_target(&state, lang, &name, &token).await? {
        Err(page) => Ok(page),
        Ok((workspace, _, brand, lang)) => Ok(Html(unsubscribe_page(
            lang,
            &brand,
            Some(&format!("/u/{}/{token}", workspace.name)),
            false,
        ))
        .into_response()),
    }
}

/// `POST /u/{workspace}/{token}`: the button, or a mail provider's one-click request
/// (`List-Unsubscribe=One-Click`, RFC 8058): the address goes on the suppression list.
pub async fn unsubscribe<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    Path((name, token)): Path<(String, String)>,
) -> Result<Response, WebError> {
    match unsubscribe_target(&state, lang, &name, &token).await? {
        Err(page) => Ok(page),
        Ok((workspace, email, brand, lang)) => {
            if let Some(email) = email {
                state
                    .store
                    .suppress(workspace.id, &email, "unsubscribe link", state.now_millis())
                    .await?;
            }
            Ok(Html(unsubscribe_page(lang, &brand, None, true)).into_response())
        }
    }
}
