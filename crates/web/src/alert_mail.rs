//! Saying an alert: the `alert-send` job writes one event (fired or recovered) in the alert's
//! language and sends it by e-mail to its addresses and as JSON to its incoming webhook, in the
//! shape Slack (`{"text": …}`) or Microsoft Teams (a MessageCard) accepts. Each channel is
//! noted once it went out, so a retry after a failure repeats neither.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, Message, MultiPart};
use servicemeter_core::alerts::{AlertDefinition, AlertEvent, Breaks, Watched, WebhookFormat};
use servicemeter_core::headline::Kind;
use servicemeter_store::alerts::{ALERT_SEND, AlertHistory, Said};
use servicemeter_store::jobs::{Job, JobProgress, Worker};
use servicemeter_store::{Accounts, Store};

use crate::format;
use crate::i18n::Lang;
use crate::survey_mail::{Sending, smtp_for};

/// How long a webhook may take to answer.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// A value of what an alert watches, as written.
fn shown(watched: Watched, value: f64, lang: Lang) -> String {
    match watched {
        Watched::Figure(f) => format::value(f.kind(), Some(value), lang),
        Watched::LongestWait => format::value(Kind::Duration, Some(value), lang),
        Watched::Overdue | Watched::FollowUpsOverdue => {
            format::value(Kind::Count, Some(value), lang)
        }
    }
}

/// What it watches, in words: "Eerste reactie (chat)".
pub fn watched_text(alert: &AlertDefinition, lang: Lang) -> String {
    let t = lang.texts();
    let what = match alert.rule.watched {
        Watched::Figure(f) => crate::document::capitalised(format::figure_label(f, lang)),
        Watched::Overdue => crate::document::capitalised(t.alert_overdue),
        Watched::LongestWait => crate::document::capitalised(t.alert_longest_wait),
        Watched::FollowUpsOverdue => crate::document::capitalised(t.alert_follow_ups),
    };
    match &alert.channel {
        Some(channel) => format!("{what} ({})", format::channel(channel, lang)),
        None => what,
    }
}

/// The rule in words: "boven 2m 00s".
pub fn rule_text(alert: &AlertDefinition, lang: Lang) -> String {
    let t = lang.texts();
    format!(
        "{} {}",
        match alert.rule.breaks {
            Breaks::Above => t.alert_above,
            Breaks::Below => t.alert_below,
        },
        shown(alert.rule.watched, alert.rule.threshold, lang)
    )
}

/// The event's title and line: ("Waarschuwing: chat-wacht", "Eerste reactie (chat): 2m 25s —
/// boven 2m 00s · shop-a").
pub fn message(alert: &AlertDefinition, event: AlertEvent, workspace: &str) -> (String, String) {
    let lang = Lang::parse(&alert.language).unwrap_or(Lang::Nl);
    let t = lang.texts();
    let (word, value) = match event {
        AlertEvent::Fired(v) => (t.alert_fired, v),
        AlertEvent::Recovered(v) => (t.alert_recovered, v),
    };
    let title = format!("{word}: {}", alert.name);
    let line = format!(
        "{}: {} — {} {} · {workspace}",
        watched_text(alert, lang),
        shown(alert.rule.watched, value, lang),
        t.alert_rule.to_lowercase(),
        rule_text(alert, lang),
    );
    (title, line)
}

/// The JSON an incoming webhook takes.
pub fn webhook_body(
    format: WebhookFormat,
    event: AlertEvent,
    title: &str,
    line: &str,
) -> serde_json::Value {
    match format {
        WebhookFormat::Slack => serde_json::json!({ "text": format!("*{title}*\n{line}") }),
        WebhookFormat::Teams => serde_json::json!({
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": title,
            "themeColor": match event {
                AlertEvent::Fired(_) => "B3261E",
                AlertEvent::Recovered(_) => "1F7A3D",
            },
            "title": title,
            "text": line,
        }),
    }
}

/// Posts `body` to `url`; the error says what the receiver answered.
async fn post(url: &str, body: &serde_json::Value) -> Result<(), String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(WEBHOOK_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("webhook client: {e}"))?;
    let response = client
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| format!("webhook: {e}"))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let text = response.text().await.unwrap_or_default();
    let text: String = text.chars().take(200).collect();
    Err(format!("the webhook answered {status}: {text}"))
}

/// Says one event (the `alert-send` job).
async fn send_one<S: Store + Accounts>(
    store: &S,
    sending: &Sending,
    job: &Job,
    now: i64,
) -> Result<(), String> {
    let (id, workspace) = crate::survey_mail::job_target(store, job, "an event").await?;
    let Some(AlertHistory {
        alert: name,
        event,
        mailed_at,
        posted_at,
        ..
    }) = store
        .alert_event(workspace.id, id)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    let config = crate::data::config(&workspace).map_err(|e| e.to_string())?;
    let Some(alert) = config.alerts.iter().find(|a| a.name == name) else {
        tracing::warn!(workspace = workspace.id.0, alert = %name, "an alert left [[alerts]] before it was said");
        return Ok(());
    };
    let (title, line) = message(alert, event, &workspace.name);
    let mut problems = Vec::new();
    if let Some((url, format)) = &alert.webhook
        && posted_at.is_none()
    {
        match post(url, &webhook_body(*format, event, &title, &line)).await {
            Ok(()) => store
                .alert_said(workspace.id, id, Said::Posted, now)
                .await
                .map_err(|e| e.to_string())?,
            Err(e) => problems.push(e),
        }
    }
    if !alert.emails.is_empty() && mailed_at.is_none() {
        let mailed = async {
            let smtp = smtp_for(store, workspace.id, sending.smtp.as_ref())
                .await?
                .ok_or("no SMTP server is set up for alert mail")?;
            for to in &alert.emails {
                let to: Mailbox = to.parse().map_err(|e| format!("address {to}: {e}"))?;
                let message = Message::builder()
                    .from(smtp.sender())
                    .to(to)
                    .subject(&title)
                    .multipart(MultiPart::alternative_plain_html(
                        format!("{line}\n"),
                        format!(
                            "<!doctype html><html><body><p><strong>{}</strong></p><p>{}</p></body></html>",
                            servicemeter_report::svg::escape(&title),
                            servicemeter_report::svg::escape(&line)
                        ),
                    ))
                    .map_err(|e| format!("message: {e}"))?;
                smtp.send(message).await?;
            }
            Ok::<(), String>(())
        }
        .await;
        match mailed {
            Ok(()) => store
                .alert_said(workspace.id, id, Said::Mailed, now)
                .await
                .map_err(|e| e.to_string())?,
            Err(e) => problems.push(e),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Runs `alert-send` jobs on `worker` (the server's, and `servicemeter jobs run`).
pub fn register<S: Store + Accounts + 'static>(
    worker: &mut Worker<S>,
    sending: Sending,
    clock: Arc<dyn Fn() -> i64 + Send + Sync>,
) {
    let sending = Arc::new(sending);
    worker.handle(
        ALERT_SEND,
        Arc::new(
            move |store: Arc<S>, job: Job, _progress: Arc<JobProgress>| {
                let sending = sending.clone();
                let now = clock();
                Box::pin(async move { send_one(&*store, &sending, &job, now).await })
            },
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use servicemeter_core::WorkspaceConfig;

    #[test]
    fn messages_in_the_alerts_language_and_both_webhook_shapes() {
        let config = WorkspaceConfig::from_toml(
            "[[alerts]]\nname = \"chat-wacht\"\nwatch = \"first_response_median\"\n\
             channel = \"chat\"\nabove = \"2m\"\nwebhook = \"https://hooks.slack.com/x\"\n\
             [[alerts]]\nname = \"csat\"\nwatch = \"csat\"\nbelow = 85\nlanguage = \"en\"\n\
             webhook = \"https://outlook.office.com/webhook/x\"\nwebhook_format = \"teams\"\n",
        )
        .unwrap();
        let (title, line) = message(&config.alerts[0], AlertEvent::Fired(145.0), "shop-a");
        assert_eq!(title, "Waarschuwing: chat-wacht");
        assert_eq!(
            line,
            "Eerste reactie (chat): 2m 25s — regel boven 2m 00s · shop-a"
        );
        assert_eq!(
            webhook_body(
                WebhookFormat::Slack,
                AlertEvent::Fired(145.0),
                &title,
                &line
            ),
            serde_json::json!({"text": format!("*{title}*\n{line}")})
        );
        let (title, line) = message(&config.alerts[1], AlertEvent::Recovered(86.5), "shop-a");
        assert_eq!(title, "Recovered: csat");
        assert_eq!(
            line,
            "Customer satisfaction (CSAT): 86.5% — rule below 85.0% · shop-a"
        );
        assert_eq!(
            webhook_body(
                WebhookFormat::Teams,
                AlertEvent::Recovered(86.5),
                &title,
                &line
            ),
            serde_json::json!({
                "@type": "MessageCard",
                "@context": "https://schema.org/extensions",
                "summary": "Recovered: csat",
                "themeColor": "1F7A3D",
                "title": "Recovered: csat",
                "text": line,
            })
        );
    }
}
