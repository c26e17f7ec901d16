//! The reports page (administrators): the workspace's `[[reports]]` with their schedule in
//! words, a form that adds or replaces one (written into the configuration, validated like
//! every other change), a preview in the browser (HTML or PDF, made now and sent to no one),
//! "send now", and the archive of copies — each opened as it was sent, its files downloaded,
//! or sent again.

use axum::extract::{Form, Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use servicemeter_core::WorkspaceConfig;
use servicemeter_core::alerts::{AlertEvent, AlertState, WebhookFormat};
use servicemeter_core::report_definitions::{Attachment, ReportDefinition};
use servicemeter_core::schedule::Every;
use servicemeter_store::jobs::NewJob;
use servicemeter_store::reports::{
    Delivery, DeliveryReason, DeliveryState, NewDelivery, REPORT_SEND, send_key,
};
use servicemeter_store::{Accounts, Store};

use crate::auth::SignedIn;
use crate::error::WebError;
use crate::i18n::{Lang, Texts};
use crate::overview::Nav;
use crate::pages::{Frame, render};
use crate::settings::{Said, admin_access};
use crate::state::AppState;

/// Copies listed in the archive.
const ARCHIVE_ROWS: u32 = 50;

/// One report as the page lists it.
struct Listed {
    name: String,
    schedule: String,
    recipients: Vec<String>,
    view: String,
    attachments: String,
}

/// One copy in the archive.
struct Copy {
    id: i64,
    when: String,
    report: String,
    recipient: String,
    period: String,
    reason: &'static str,
    state: String,
    failed: bool,
    /// Whether its files were kept (a copy that was rendered).
    files: bool,
    pdf: String,
}

/// A configured alert as the page lists it.
struct AlertRow {
    name: String,
    watches: String,
    rule: String,
    /// Quiet or firing, since when, with the last value read.
    state: String,
    firing: bool,
    to: String,
}

/// One step of the alert history.
struct AlertStep {
    when: String,
    alert: String,
    event: String,
    fired: bool,
    said: String,
}

/// A choice of a select or a checkbox.
struct Choice {
    value: String,
    label: String,
    chosen: bool,
}

/// The form's values (a report being edited, or what was posted).
#[derive(Default)]
struct FormValues {
    name: String,
    every: String,
    weekday: String,
    day: String,
    at: String,
    recipients: String,
    view: String,
    attach: Vec<String>,
    agents: bool,
    agency: String,
}

#[derive(askama::Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    frame: Frame,
    nav: Nav,
    workspace: String,
    reports: Vec<Listed>,
    copies: Vec<Copy>,
    unsubscribed: Vec<String>,
    notice: String,
    error: String,
    form: FormValues,
    alerts: Vec<AlertRow>,
    history: Vec<AlertStep>,
    everies: Vec<Choice>,
    weekdays: Vec<Choice>,
    views: Vec<Choice>,
    attachments: Vec<Choice>,
    version: String,
}

/// "elke maandag om 08:00".
pub fn schedule_text(definition: &ReportDefinition, lang: Lang) -> String {
    let t = lang.texts();
    let at = definition.at.strftime("%H:%M");
    match definition.every {
        Every::Day => format!("{}, {} {at}", t.report_daily, t.report_at_time),
        Every::Week(day) => format!(
            "{}, {}, {} {at}",
            t.report_weekly,
            t.weekday_names[day.to_monday_zero_offset() as usize],
            t.report_at_time
        ),
        Every::Month(day) => format!(
            "{}, {} {day}, {} {at}",
            t.report_monthly, t.report_on_day, t.report_at_time
        ),
    }
}

fn attachment_label(a: Attachment, t: &Texts) -> &'static str {
    match a {
        Attachment::Pdf => t.report_attach_pdf,
        Attachment::Xlsx => t.report_attach_xlsx,
        Attachment::Csv => t.report_attach_csv,
    }
}

fn state_text(state: DeliveryState, t: &Texts) -> &'static str {
    match state {
        DeliveryState::Planned => t.report_state_planned,
        DeliveryState::Sending => t.report_state_sending,
        DeliveryState::Sent => t.report_state_sent,
        DeliveryState::Failed => t.report_state_failed,
        DeliveryState::Unknown => t.report_state_unknown,
        DeliveryState::Skipped => t.report_state_skipped,
    }
}

fn reason_text(reason: DeliveryReason, t: &Texts) -> &'static str {
    match reason {
        DeliveryReason::Schedule => t.report_reason_schedule,
        DeliveryReason::Now => t.report_reason_now,
        DeliveryReason::Resend => t.report_reason_resend,
    }
}

fn form_of(definition: &ReportDefinition) -> FormValues {
    let (every, weekday, day) = match definition.every {
        Every::Day => ("day", String::new(), String::new()),
        Every::Week(d) => (
            "week",
            servicemeter_core::calendar::DAY_KEYS[d.to_monday_zero_offset() as usize].to_string(),
            String::new(),
        ),
        Every::Month(d) => ("month", String::new(), d.to_string()),
    };
    FormValues {
        name: definition.name.clone(),
        every: every.into(),
        weekday,
        day,
        at: definition.at.strftime("%H:%M").to_string(),
        recipients: definition
            .recipients
            .iter()
            .map(|r| {
                let mut line = format!("{} {}", r.email, r.language);
                if let Some((zone, _)) = &r.timezone {
                    line.push(' ');
                    line.push_str(zone);
                }
                line
            })
            .collect::<Vec<_>>()
            .join("\n"),
        view: definition.view.clone().unwrap_or_default(),
        attach: definition
            .attachments
            .iter()
            .map(|a| a.as_str().to_string())
            .collect(),
        agents: definition.agent_detail,
        agency: definition.agency.clone().unwrap_or_default(),
    }
}

fn new_form() -> FormValues {
    FormValues {
        every: "week".into(),
        weekday: "mon".into(),
        at: "08:00".into(),
        attach: vec!["pdf".into()],
        agents: true,
        ..FormValues::default()
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct PageQuery {
    pub edit: Option<String>,
    pub queued: Option<u32>,
    pub deleted: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn page<S: Store + Accounts>(
    state: &AppState<S>,
    lang: Lang,
    signed_in: &SignedIn,
    access: &crate::auth::Access,
    config: &WorkspaceConfig,
    notice: String,
    error: String,
    form: FormValues,
) -> Result<Response, WebError> {
    let t = lang.texts();
    let ws = &access.workspace;
    let tz = &config.timezone;
    let reports = config
        .reports
        .iter()
        .map(|r| Listed {
            name: r.name.clone(),
            schedule: schedule_text(r, lang),
            recipients: r
                .recipients
                .iter()
                .map(|x| {
                    let mut text = format!("{} ({})", x.email, x.language);
                    if let Some((zone, _)) = &x.timezone {
                        text.push_str(&format!(", {zone}"));
                    }
                    text
                })
                .collect(),
            view: r.view.clone().unwrap_or_default(),
            attachments: r
                .attachments
                .iter()
                .map(|a| attachment_label(*a, t))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let copies = state
        .store
        .deliveries(ws.id, None, 0, ARCHIVE_ROWS)
        .await?
        .into_iter()
        .map(|d: Delivery| {
            let when = crate::conversations::local_time(d.sent_at.unwrap_or(d.due_at), tz);
            let mut state_words = state_text(d.state, t).to_string();
            if d.state == DeliveryState::Failed
                && let Some(note) = &d.note
            {
                state_words.push_str(&format!(": {note}"));
            }
            Copy {
                id: d.id,
                when,
                report: d.report,
                recipient: d.recipient,
                period: crate::format::period(d.period, lang),
                reason: reason_text(d.reason, t),
                state: state_words,
                failed: matches!(d.state, DeliveryState::Failed | DeliveryState::Unknown),
                files: false,
                pdf: String::new(),
            }
        })
        .collect::<Vec<_>>();
    let mut with_files = Vec::with_capacity(copies.len());
    for mut c in copies {
        let files = state.store.report_files(ws.id, c.id).await?;
        c.files = files.iter().any(|f| f.name == "page.html");
        c.pdf = files
            .into_iter()
            .find(|f| f.name.ends_with(".pdf"))
            .map(|f| f.name)
            .unwrap_or_default();
        with_files.push(c);
    }
    let unsubscribed = state
        .store
        .report_unsubscribes(ws.id)
        .await?
        .into_iter()
        .map(|(r, e)| format!("{r}: {e}"))
        .collect();
    let choice = |value: &str, label: &str, chosen: bool| Choice {
        value: value.into(),
        label: label.into(),
        chosen,
    };
    let everies = [
        ("day", t.report_daily),
        ("week", t.report_weekly),
        ("month", t.report_monthly),
    ]
    .iter()
    .map(|(v, l)| choice(v, l, form.every == *v))
    .collect();
    let weekdays = servicemeter_core::calendar::DAY_KEYS
        .iter()
        .zip(t.weekday_names)
        .map(|(v, l)| choice(v, l, form.weekday == *v))
        .collect();
    let mut views = vec![choice("", t.report_view_none, form.view.is_empty())];
    views.extend(
        state
            .store
            .saved_views(ws.id)
            .await?
            .into_iter()
            .map(|v| choice(&v.name, &v.name, form.view == v.name)),
    );
    let attachments = Attachment::ALL
        .iter()
        .map(|a| {
            choice(
                a.as_str(),
                attachment_label(*a, t),
                form.attach.iter().any(|x| x == a.as_str()),
            )
        })
        .collect();
    let states = state.store.alert_states(ws.id).await?;
    let alerts = config
        .alerts
        .iter()
        .map(|a| {
            let stored = states.get(&a.name);
            let firing = stored.is_some_and(|s| s.state == AlertState::Firing);
            AlertRow {
                name: a.name.clone(),
                watches: crate::alert_mail::watched_text(a, lang),
                rule: crate::alert_mail::rule_text(a, lang),
                state: match stored {
                    None => String::new(),
                    Some(s) => format!(
                        "{} ({} {})",
                        if firing {
                            t.alert_state_firing
                        } else {
                            t.alert_state_quiet
                        },
                        t.alert_last,
                        crate::conversations::local_time(s.checked_at, tz)
                    ),
                },
                firing,
                to: a
                    .emails
                    .iter()
                    .cloned()
                    .chain(a.webhook.as_ref().map(|(_, f)| match f {
                        WebhookFormat::Slack => "Slack".to_string(),
                        WebhookFormat::Teams => "Teams".to_string(),
                    }))
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })
        .collect();
    let history = state
        .store
        .alert_history(ws.id, ARCHIVE_ROWS)
        .await?
        .into_iter()
        .map(|h| {
            let (title, line) = config
                .alerts
                .iter()
                .find(|a| a.name == h.alert)
                .map(|a| crate::alert_mail::message(a, h.event, &ws.name))
                .unwrap_or_default();
            AlertStep {
                when: crate::conversations::local_time(h.at, tz),
                alert: h.alert,
                event: if title.is_empty() {
                    String::new()
                } else {
                    line.trim_end_matches(&format!(" · {}", ws.name))
                        .to_string()
                },
                fired: matches!(h.event, AlertEvent::Fired(_)),
                said: [h.mailed_at.map(|_| t.email), h.posted_at.map(|_| "webhook")]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })
        .collect();
    let page = ReportsPage {
        frame: Frame::new(lang, Some(signed_in.user.email.clone())),
        nav: Nav::new(&ws.name, "reports", "", access.role),
        workspace: ws.name.clone(),
        reports,
        copies: with_files,
        unsubscribed,
        notice,
        error,
        form,
        alerts,
        history,
        everies,
        weekdays,
        views,
        attachments,
        version: crate::settings::config_version(&crate::settings::config_text(access)),
    };
    Ok(render(&page)?.into_response())
}

/// `GET /w/{workspace}/reports`.
pub async fn show<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let config = crate::data::config(&access.workspace)?;
    let t = lang.texts();
    let form = query
        .edit
        .as_deref()
        .and_then(|n| config.reports.iter().find(|r| r.name == n))
        .map(form_of)
        .unwrap_or_else(new_form);
    let notice = match (query.queued, query.deleted.as_deref()) {
        (Some(n), _) => format!("{}: {n}", t.report_queued),
        (None, Some(_)) => t.report_deleted.to_string(),
        _ => String::new(),
    };
    page(
        &state,
        lang,
        &signed_in,
        &access,
        &config,
        notice,
        String::new(),
        form,
    )
    .await
}

/// The posted report form.
#[derive(Debug, Deserialize)]
pub struct ReportForm {
    pub version: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub every: String,
    #[serde(default)]
    pub weekday: String,
    #[serde(default)]
    pub day: String,
    #[serde(default)]
    pub at: String,
    #[serde(default)]
    pub recipients: String,
    #[serde(default)]
    pub view: String,
    #[serde(default)]
    pub agents: Option<String>,
    #[serde(default)]
    pub agency: String,
}

/// The `[[reports]]` table of a posted form. What the values mean is checked by the
/// configuration's own rules when the document is saved (errors name the key).
fn report_table(form: &ReportForm, attach: &[String]) -> Result<toml_edit::Table, Said> {
    let mut table = toml_edit::Table::new();
    table["name"] = toml_edit::value(form.name.trim());
    table["every"] = toml_edit::value(form.every.trim());
    match form.every.trim() {
        "week" => table["weekday"] = toml_edit::value(form.weekday.trim()),
        "month" => {
            let day: i64 = form.day.trim().parse().map_err(|_| {
                Said::new(
                    format!(
                        "Dag van de maand: '{}' is geen getal van 1 tot 31",
                        form.day.trim()
                    ),
                    format!(
                        "Day of the month: '{}' is not a number from 1 to 31",
                        form.day.trim()
                    ),
                )
            })?;
            table["day"] = toml_edit::value(day);
        }
        _ => {}
    }
    table["at"] = toml_edit::value(form.at.trim());
    let mut recipients = toml_edit::Array::new();
    for line in form
        .recipients
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let mut parts = line.split_whitespace();
        let email = parts.next().unwrap_or_default();
        let language = parts.next();
        let zone = parts.next();
        if parts.next().is_some() {
            return Err(Said::new(
                format!("Ontvangers: '{line}' heeft meer dan adres, taal en tijdzone"),
                format!("Recipients: '{line}' holds more than address, language and time zone"),
            ));
        }
        let mut recipient = toml_edit::InlineTable::new();
        recipient.insert("email", email.into());
        if let Some(language) = language {
            recipient.insert("language", language.into());
        }
        if let Some(zone) = zone {
            recipient.insert("timezone", zone.into());
        }
        recipients.push(recipient);
    }
    table["recipients"] = toml_edit::value(recipients);
    if !form.view.trim().is_empty() {
        table["view"] = toml_edit::value(form.view.trim());
    }
    let mut list = toml_edit::Array::new();
    for a in attach {
        list.push(a.as_str());
    }
    table["attach"] = toml_edit::value(list);
    table["agents"] = toml_edit::value(form.agents.is_some());
    if !form.agency.trim().is_empty() {
        table["agency"] = toml_edit::value(form.agency.trim());
    }
    Ok(table)
}

/// `POST /w/{workspace}/reports`: adds the report, or replaces the one of the same name.
pub async fn save<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let attach: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "attach")
        .map(|(_, v)| v.clone())
        .collect();
    let form: ReportForm = serde_urlencoded::from_str(
        &serde_urlencoded::to_string(
            fields
                .iter()
                .filter(|(k, _)| k != "attach")
                .collect::<Vec<_>>(),
        )
        .map_err(|e| WebError::BadRequest(e.to_string()))?,
    )
    .map_err(|e| WebError::BadRequest(e.to_string()))?;
    let posted = FormValues {
        name: form.name.clone(),
        every: form.every.clone(),
        weekday: form.weekday.clone(),
        day: form.day.clone(),
        at: form.at.clone(),
        recipients: form.recipients.clone(),
        view: form.view.clone(),
        attach: attach.clone(),
        agents: form.agents.is_some(),
        agency: form.agency.clone(),
    };
    let outcome = match report_table(&form, &attach) {
        Err(said) => Err(said),
        Ok(table) => {
            let wanted = form.name.trim().to_string();
            crate::settings::change_config(&state, &access, form.version.as_deref(), |doc| {
                let item = doc
                    .entry("reports")
                    .or_insert(toml_edit::Item::ArrayOfTables(
                        toml_edit::ArrayOfTables::new(),
                    ));
                let list = item.as_array_of_tables_mut().ok_or_else(|| {
                    Said::new(
                        "reports: moet een lijst met [[reports]]-tabellen zijn",
                        "reports: must be a list of [[reports]] tables",
                    )
                })?;
                let found = list
                    .iter()
                    .position(|t| t.get("name").and_then(|n| n.as_str()) == Some(wanted.as_str()));
                match found.and_then(|i| list.get_mut(i)) {
                    Some(existing) => *existing = table,
                    None => list.push(table),
                }
                Ok(())
            })
            .await?
        }
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/w/{name}/reports")).into_response()),
        Err(said) => {
            let access = admin_access(&state, &signed_in, &name).await?;
            let config = crate::data::config(&access.workspace)?;
            let mut response = page(
                &state,
                lang,
                &signed_in,
                &access,
                &config,
                String::new(),
                said.text(lang).to_string(),
                posted,
            )
            .await?;
            *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(response)
        }
    }
}

/// `POST /w/{workspace}/reports/{report}/delete`.
pub async fn delete<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path((name, report)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let version = fields
        .iter()
        .find(|(k, _)| k == "version")
        .map(|(_, v)| v.as_str());
    let outcome = crate::settings::change_config(&state, &access, version, |doc| {
        if let Some(list) = doc
            .get_mut("reports")
            .and_then(|i| i.as_array_of_tables_mut())
        {
            list.retain(|t| t.get("name").and_then(|n| n.as_str()) != Some(report.as_str()));
            if list.is_empty() {
                doc.remove("reports");
            }
        }
        Ok(())
    })
    .await?;
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/w/{name}/reports?deleted={report}")).into_response()),
        Err(said) => Err(WebError::BadRequest(said.text(lang).to_string())),
    }
}

fn definition<'a>(
    config: &'a WorkspaceConfig,
    report: &str,
) -> Result<&'a ReportDefinition, WebError> {
    config
        .reports
        .iter()
        .find(|r| r.name == report)
        .ok_or_else(|| WebError::Invalid {
            nl: crate::i18n::NL.report_not_found.to_string(),
            en: crate::i18n::EN.report_not_found.to_string(),
        })
}

#[derive(Debug, Deserialize, Default)]
pub struct PreviewQuery {
    pub lang: Option<String>,
    pub format: Option<String>,
}

/// `GET /w/{workspace}/reports/{report}/preview?lang=nl&format=pdf`: the document as it would
/// go out now (the period its schedule covers today), sent to no one.
pub async fn preview<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path((name, report)): Path<(String, String)>,
    Query(query): Query<PreviewQuery>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let config = crate::data::config(&access.workspace)?;
    let definition = definition(&config, &report)?;
    // The language asked for; else the reader's when a recipient reads it; else the first
    // recipient's.
    let doc_lang = query
        .lang
        .as_deref()
        .and_then(Lang::parse)
        .or_else(|| {
            definition
                .recipients
                .iter()
                .any(|r| r.language == lang.code())
                .then_some(lang)
        })
        .or_else(|| {
            definition
                .recipients
                .first()
                .and_then(|r| Lang::parse(&r.language))
        })
        .unwrap_or(lang);
    let now = state.now_millis();
    let schedule = definition.schedule_for(
        definition
            .recipients
            .first()
            .ok_or_else(|| WebError::BadRequest("a report without recipients".into()))?,
        &config.timezone,
    );
    let delivery = Delivery {
        id: 0,
        report: definition.name.clone(),
        recipient: String::new(),
        language: doc_lang.code().to_string(),
        due_at: now,
        period: schedule.period_of(now),
        reason: DeliveryReason::Now,
        resends: None,
        state: DeliveryState::Planned,
        note: None,
        sent_at: None,
        created_at: now,
        created_by: None,
    };
    let (doc, _) = crate::report_mail::document_of(
        &*state.store,
        &access.workspace,
        &config,
        definition,
        &delivery,
        now,
    )
    .await
    .map_err(WebError::BadRequest)?;
    if query.format.as_deref() == Some("pdf") {
        let bytes = crate::document::pdf::pdf(&doc).map_err(|e| WebError::Internal(e.into()))?;
        return Ok((
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "inline; filename=\"{}-{}.pdf\"",
                        access.workspace.name, report
                    ),
                ),
            ],
            bytes,
        )
            .into_response());
    }
    Ok(Html(crate::document::html::html(
        &doc,
        crate::document::html::Charts::Svg,
        None,
    ))
    .into_response())
}

/// Queues a copy's send job and wakes the worker.
async fn queue<S: Store + Accounts>(
    state: &AppState<S>,
    workspace: servicemeter_store::WorkspaceId,
    id: i64,
    now: i64,
) -> Result<(), WebError> {
    state
        .store
        .enqueue(
            workspace,
            &NewJob::send(REPORT_SEND, id.to_string(), send_key(id), now),
            now,
        )
        .await?;
    state.jobs_wake.notify_one();
    Ok(())
}

/// `POST /w/{workspace}/reports/{report}/send`: a copy for every recipient who did not
/// unsubscribe, now, of the period the schedule covers today.
pub async fn send_now<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    signed_in: SignedIn,
    Path((name, report)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let config = crate::data::config(&access.workspace)?;
    let definition = definition(&config, &report)?;
    let now = state.now_millis();
    let unsubscribed = state.store.report_unsubscribes(access.workspace.id).await?;
    let mut queued = 0;
    for recipient in &definition.recipients {
        if unsubscribed
            .iter()
            .any(|(r, e)| *r == definition.name && *e == recipient.email)
        {
            continue;
        }
        let schedule = definition.schedule_for(recipient, &config.timezone);
        let id = state
            .store
            .add_delivery(
                access.workspace.id,
                &NewDelivery {
                    report: definition.name.clone(),
                    recipient: recipient.email.clone(),
                    language: recipient.language.clone(),
                    due_at: now,
                    period: schedule.period_of(now),
                    reason: DeliveryReason::Now,
                    resends: None,
                    created_by: Some(signed_in.user.email.clone()),
                },
                now,
            )
            .await?;
        queue(&state, access.workspace.id, id, now).await?;
        queued += 1;
    }
    Ok(Redirect::to(&format!("/w/{name}/reports?queued={queued}")).into_response())
}

/// `GET /w/{workspace}/reports/archive/{id}`: a copy as it was sent (its page).
pub async fn archived<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    signed_in: SignedIn,
    Path((name, id)): Path<(String, i64)>,
) -> Result<Response, WebError> {
    archived_file(state, signed_in, name, id, "page.html".into()).await
}

/// `GET /w/{workspace}/reports/archive/{id}/{file}`: one of a copy's files.
pub async fn archived_named<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    signed_in: SignedIn,
    Path((name, id, file)): Path<(String, i64, String)>,
) -> Result<Response, WebError> {
    archived_file(state, signed_in, name, id, file).await
}

async fn archived_file<S: Store + Accounts>(
    state: AppState<S>,
    signed_in: SignedIn,
    name: String,
    id: i64,
    file: String,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let Some(found) = state
        .store
        .report_file(access.workspace.id, id, &file)
        .await?
    else {
        return Err(WebError::NotFound);
    };
    let disposition = if found.content_type.starts_with("text/html") {
        "inline".to_string()
    } else {
        format!("attachment; filename=\"{}\"", found.name.replace('"', ""))
    };
    Ok((
        [
            (header::CONTENT_TYPE, found.content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        found.bytes,
    )
        .into_response())
}

/// `POST /w/{workspace}/reports/archive/{id}/resend`: the copy's files to its recipient again.
pub async fn resend<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    signed_in: SignedIn,
    Path((name, id)): Path<(String, i64)>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let Some(original) = state.store.delivery(access.workspace.id, id).await? else {
        return Err(WebError::NotFound);
    };
    let now = state.now_millis();
    let copy = state
        .store
        .add_delivery(
            access.workspace.id,
            &NewDelivery {
                report: original.report.clone(),
                recipient: original.recipient.clone(),
                language: original.language.clone(),
                due_at: now,
                period: original.period,
                reason: DeliveryReason::Resend,
                resends: Some(original.resends.unwrap_or(original.id)),
                created_by: Some(signed_in.user.email.clone()),
            },
            now,
        )
        .await?;
    queue(&state, access.workspace.id, copy, now).await?;
    Ok(Redirect::to(&format!("/w/{name}/reports?queued=1")).into_response())
}
