//! Scheduled reports by e-mail. The store plans each recipient's copies (`report-plan`); a
//! `report-send` job renders a copy once — the HTML body with its charts as inline PNG parts,
//! the plain-text part, the PDF and any CSV or XLSX, all kept as the copy's files (the
//! archive, opened and resent as they were) — then marks it `sending` (committed) before the
//! mail goes out and `sent` after, so a crash in between leaves it `unknown` and it is never
//! sent twice. Each mail has its recipient's one-click unsubscribe link (RFC 8058).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use lettre::message::header::ContentType;
use lettre::message::{Attachment as MailAttachment, Mailbox, Message, MultiPart, SinglePart};
use servicemeter_core::WorkspaceConfig;
use servicemeter_core::filter::Filter;
use servicemeter_core::periods::{self, Against, Period};
use servicemeter_core::report::GroupBy;
use servicemeter_core::report_definitions::{Attachment, ReportDefinition};
use servicemeter_report::{ReportFormat, write_report, xlsx_report};
use servicemeter_store::jobs::{Job, JobProgress, Worker};
use servicemeter_store::reports::{BeginDelivery, Delivery, DeliveryState, ReportFile};
use servicemeter_store::{Accounts, Store, Workspace};

use crate::document::{self, html::Charts};
use crate::error::WebError;
use crate::i18n::Lang;
use crate::mail::{ListUnsubscribe, ListUnsubscribePost};
use crate::state::AppState;
use crate::survey_link::new_secret;
use crate::survey_mail::{Sending, smtp_for};

/// What a report's unsubscribe token is for (see [`crate::signed`]).
pub const UNSUBSCRIBE_PURPOSE: &str = "report-unsubscribe";
/// How long an unsubscribe link keeps working.
pub const UNSUBSCRIBE_DAYS: i64 = 365;
/// The width of a chart's PNG (shown at half of it: sharp on high-density screens).
pub const CHART_PIXELS: u32 = 1344;
/// The breakdowns of a report's CSV and workbook.
pub const TABLE_BREAKDOWNS: [GroupBy; 5] = [
    GroupBy::Channel,
    GroupBy::Agent,
    GroupBy::Team,
    GroupBy::Tag,
    GroupBy::Day,
];

/// The address a recipient's unsubscribe link opens.
pub fn unsubscribe_url(
    base: &str,
    secret: &str,
    workspace: &str,
    report: &str,
    email: &str,
    now: i64,
) -> String {
    let token = crate::signed::sign(
        secret,
        UNSUBSCRIBE_PURPOSE,
        workspace,
        &[report, email],
        (now.div_euclid(1000) + UNSUBSCRIBE_DAYS * 86_400) * 1000,
    );
    format!("{}/ru/{workspace}/{token}", base.trim_end_matches('/'))
}

fn file(name: &str, content_type: &str, bytes: Vec<u8>) -> ReportFile {
    ReportFile {
        name: name.into(),
        content_type: content_type.into(),
        bytes,
    }
}

/// The name of a report's files as a recipient saves them: `rapport-shop-a-2024-02-26`.
fn file_stem(lang: Lang, workspace: &str, period: Period) -> String {
    let word = match lang {
        Lang::Nl => "rapport",
        Lang::En => "report",
    };
    format!("{word}-{workspace}-{}", period.from)
}

/// The document of a copy: its period (or its saved view's), the view's filter and
/// comparison, in the copy's language.
pub async fn document_of<S: Store>(
    store: &S,
    workspace: &Workspace,
    config: &WorkspaceConfig,
    definition: &ReportDefinition,
    delivery: &Delivery,
    now: i64,
) -> Result<(document::Document, servicemeter_core::report::Report), String> {
    let lang = Lang::parse(&delivery.language).unwrap_or(Lang::Nl);
    let mut filter = Filter::default();
    let mut against = Against::Previous;
    let mut compared = None;
    if let Some(name) = &definition.view {
        let view = store
            .saved_views(workspace.id)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|v| v.name == *name)
            .ok_or_else(|| {
                format!(
                    "report {}: the saved view '{name}' is gone; choose another in [[reports]]",
                    definition.name
                )
            })?;
        filter = crate::data::FilterQuery::parse(Some(&view.query))
            .map_err(|e| format!("the saved view '{name}': {e}"))?
            .0;
        let period: crate::data::PeriodQuery = serde_urlencoded::from_str(&view.query)
            .map_err(|e| format!("the saved view '{name}': {e}"))?;
        against = period
            .against()
            .map_err(|e| format!("the saved view '{name}': {e}"))?;
        // A view with a relative period (last 30 days, this month) covers it as of the send.
        if let Some(preset) = period
            .preset()
            .map_err(|e| format!("the saved view '{name}': {e}"))?
        {
            let sent = jiff::Timestamp::from_millisecond(delivery.due_at)
                .map_err(|e| e.to_string())?
                .to_zoned_datetime(config.timezone.clone())
                .datetime();
            compared = Some(preset.compared(sent, against));
        }
    }
    let compared = compared.unwrap_or_else(|| periods::custom(delivery.period, None, against));
    let stored = store
        .facts(workspace.id, None)
        .await
        .map_err(|e| e.to_string())?;
    let rules = config.agents.clone();
    let config_for_reports = config.clone();
    let filter_for_reports = filter.clone();
    let (table, (report, trend, grain)) = tokio::task::spawn_blocking(move || {
        let table = if rules.keeps_facts_as_computed() {
            stored
        } else {
            stored.with_agent_rules(&rules)
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let reports = document::reports(
            threads,
            &table,
            &config_for_reports,
            Some(compared),
            &filter_for_reports,
            &[],
        );
        (table, reports)
    })
    .await
    .map_err(|e| e.to_string())?;
    let bounds = report.period.map(|p| p.bounds(&config.timezone));
    let highlights = document::highlights(store, workspace.id, &table, bounds, &filter)
        .await
        .map_err(|e| e.to_string())?;
    let overdue = store
        .overdue_follow_ups(workspace.id, now)
        .await
        .map_err(|e| e.to_string())?;
    let doc = document::build(
        &document::Inputs {
            report: &report,
            trend: &trend,
            grain,
            config,
            workspace: &workspace.name,
            agency: definition.agency.as_deref(),
            overdue_follow_ups: overdue,
            highlights,
            agent_detail: definition.agent_detail,
            made_at: now,
        },
        lang,
    );
    Ok((doc, report))
}

/// Renders a copy's files: `subject.txt`, `unsubscribe.txt`, `mail.html` (charts as
/// `cid:chart-N`), `mail.txt`, `chart-N.png`, `page.html` (charts as SVG, for the archive),
/// and the attachments the definition asks for.
#[allow(clippy::too_many_arguments)]
pub async fn render<S: Store>(
    store: &S,
    workspace: &Workspace,
    config: &WorkspaceConfig,
    definition: &ReportDefinition,
    delivery: &Delivery,
    base: &str,
    secret: &str,
    now: i64,
) -> Result<Vec<ReportFile>, String> {
    let lang = Lang::parse(&delivery.language).unwrap_or(Lang::Nl);
    let t = lang.texts();
    let (doc, report) = document_of(store, workspace, config, definition, delivery, now).await?;
    let unsubscribe = unsubscribe_url(
        base,
        secret,
        &workspace.name,
        &delivery.report,
        &delivery.recipient,
        now,
    );
    let subject = format!("{}: {}", doc.title, doc.period);
    let ids: Vec<String> = (1..=doc.charts.len())
        .map(|i| format!("chart-{i}"))
        .collect();
    let mut files = vec![
        file(
            "subject.txt",
            "text/plain; charset=utf-8",
            subject.into_bytes(),
        ),
        file(
            "unsubscribe.txt",
            "text/plain; charset=utf-8",
            unsubscribe.clone().into_bytes(),
        ),
        file(
            "mail.html",
            "text/html; charset=utf-8",
            document::html::html(
                &doc,
                Charts::Cid(&ids),
                Some((t.report_unsubscribe, &unsubscribe)),
            )
            .into_bytes(),
        ),
        file(
            "mail.txt",
            "text/plain; charset=utf-8",
            document::html::text(&doc, Some((t.report_unsubscribe, &unsubscribe))).into_bytes(),
        ),
        file(
            "page.html",
            "text/html; charset=utf-8",
            document::html::html(&doc, Charts::Svg, None).into_bytes(),
        ),
    ];
    for (id, chart) in ids.iter().zip(&doc.charts) {
        let png = document::raster::png(&chart.caption, &chart.svg, CHART_PIXELS)
            .map_err(|e| e.to_string())?;
        files.push(file(&format!("{id}.png"), "image/png", png));
    }
    // The period covered (a saved view's may differ from the schedule's): on the copy too.
    let period = report.period.unwrap_or(delivery.period);
    if period != delivery.period {
        store
            .set_delivery_period(workspace.id, delivery.id, period)
            .await
            .map_err(|e| e.to_string())?;
    }
    let stem = file_stem(lang, &workspace.name, period);
    for attachment in &definition.attachments {
        match attachment {
            Attachment::Pdf => files.push(file(
                &format!("{stem}.pdf"),
                "application/pdf",
                document::pdf::pdf(&doc).map_err(|e| e.to_string())?,
            )),
            Attachment::Csv => {
                let mut bytes = Vec::new();
                write_report(&mut bytes, &report, ReportFormat::Csv, &TABLE_BREAKDOWNS)
                    .map_err(|e| e.to_string())?;
                files.push(file(
                    &format!("{stem}.csv"),
                    "text/csv; charset=utf-8",
                    bytes,
                ));
            }
            Attachment::Xlsx => files.push(file(
                &format!("{stem}.xlsx"),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                xlsx_report(&report, &TABLE_BREAKDOWNS).map_err(|e| e.to_string())?,
            )),
        }
    }
    Ok(files)
}

fn named<'a>(files: &'a [ReportFile], name: &str) -> Option<&'a ReportFile> {
    files.iter().find(|f| f.name == name)
}

fn text_of(files: &[ReportFile], name: &str) -> Result<String, String> {
    named(files, name)
        .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
        .ok_or_else(|| format!("the copy has no {name}"))
}

/// The mail of a copy from its files: text and HTML (with its charts as related inline
/// parts), then the attachments (PDF, XLSX, CSV), with the List-Unsubscribe headers.
pub fn compose(files: &[ReportFile], to: &str, sender: Mailbox) -> Result<Message, String> {
    let to: Mailbox = to.parse().map_err(|e| format!("address: {e}"))?;
    let subject = text_of(files, "subject.txt")?;
    let unsubscribe = text_of(files, "unsubscribe.txt")?;
    let mut related =
        MultiPart::related().singlepart(SinglePart::html(text_of(files, "mail.html")?));
    for f in files.iter().filter(|f| f.name.ends_with(".png")) {
        let id = f.name.trim_end_matches(".png").to_string();
        related = related.singlepart(MailAttachment::new_inline(id).body(
            f.bytes.clone(),
            ContentType::parse("image/png").expect("a type"),
        ));
    }
    let body = MultiPart::alternative()
        .singlepart(SinglePart::plain(text_of(files, "mail.txt")?))
        .multipart(related);
    let mut mixed = MultiPart::mixed().multipart(body);
    // The PDF first, then the workbook, then the CSV.
    let attached = [".pdf", ".xlsx", ".csv"]
        .iter()
        .flat_map(|ext| files.iter().filter(move |f| f.name.ends_with(ext)));
    for f in attached {
        let content_type =
            ContentType::parse(&f.content_type).map_err(|e| format!("{}: {e}", f.name))?;
        mixed = mixed
            .singlepart(MailAttachment::new(f.name.clone()).body(f.bytes.clone(), content_type));
    }
    Message::builder()
        .from(sender)
        .to(to)
        .subject(subject)
        .header(ListUnsubscribe(unsubscribe))
        .header(ListUnsubscribePost)
        .multipart(mixed)
        .map_err(|e| format!("message: {e}"))
}

/// Renders (once) and sends one copy (the `report-send` job).
async fn send_one<S: Store + Accounts>(
    store: &S,
    sending: &Sending,
    job: &Job,
    now: i64,
) -> Result<(), String> {
    let (id, workspace) = crate::survey_mail::job_target(store, job, "a copy").await?;
    let Some(delivery) = store
        .delivery(workspace.id, id)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    let last_attempt = job.attempts >= job.max_attempts;
    // The files first: rendering may fail and be tried again without the copy changing state.
    if matches!(
        delivery.state,
        DeliveryState::Planned | DeliveryState::Failed
    ) {
        let files = store
            .report_files(workspace.id, id)
            .await
            .map_err(|e| e.to_string())?;
        if files.is_empty() {
            let rendered = async {
                let files = match delivery.resends {
                    Some(original) => store
                        .report_files(workspace.id, original)
                        .await
                        .map_err(|e| e.to_string())?,
                    None => {
                        let config = crate::data::config(&workspace).map_err(|e| e.to_string())?;
                        let definition = config
                            .reports
                            .iter()
                            .find(|r| r.name == delivery.report)
                            .ok_or_else(|| {
                                format!("report {} is no longer in [[reports]]", delivery.report)
                            })?;
                        let base = sending.public_url.as_deref().ok_or(
                            "report mails need the server's public address (serve --public-url)",
                        )?;
                        let secret = store
                            .survey_secret(workspace.id, &new_secret().map_err(|e| e.to_string())?)
                            .await
                            .map_err(|e| e.to_string())?;
                        render(
                            store, &workspace, &config, definition, &delivery, base, &secret, now,
                        )
                        .await?
                    }
                };
                if files.is_empty() {
                    return Err(format!("copy {} has nothing to send", delivery.id));
                }
                store
                    .put_report_files(workspace.id, id, &files)
                    .await
                    .map_err(|e| e.to_string())
            }
            .await;
            if let Err(e) = rendered {
                if last_attempt {
                    // Visible on the copy as well as on the job.
                    if let BeginDelivery::Claimed(_) = store
                        .begin_delivery(workspace.id, id, now)
                        .await
                        .map_err(|e| e.to_string())?
                    {
                        store
                            .end_delivery(workspace.id, id, Err(&e), true, now)
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                }
                return Err(e);
            }
        }
    }
    let delivery = match store
        .begin_delivery(workspace.id, id, now)
        .await
        .map_err(|e| e.to_string())?
    {
        BeginDelivery::Claimed(delivery) => delivery,
        BeginDelivery::Interrupted => {
            tracing::warn!(
                workspace = workspace.id.0,
                copy = id,
                "a report send was interrupted earlier; it is not sent again"
            );
            return Ok(());
        }
        BeginDelivery::Nothing => return Ok(()),
    };
    let outcome = async {
        let smtp = smtp_for(store, workspace.id, sending.smtp.as_ref())
            .await?
            .ok_or(
                "no SMTP server is set up (the workspace's mail settings, or serve --smtp-url \
                 and --smtp-from)",
            )?;
        let files = store
            .report_files(workspace.id, id)
            .await
            .map_err(|e| e.to_string())?;
        let message = compose(&files, &delivery.recipient, smtp.sender())?;
        smtp.send(message).await
    }
    .await;
    store
        .end_delivery(
            workspace.id,
            id,
            outcome.as_ref().map(|_| ()).map_err(String::as_str),
            last_attempt,
            now,
        )
        .await
        .map_err(|e| e.to_string())?;
    outcome
}

/// Runs `report-send` jobs on `worker` (the server's, and `servicemeter jobs run`).
pub fn register<S: Store + Accounts + 'static>(
    worker: &mut Worker<S>,
    sending: Sending,
    clock: Arc<dyn Fn() -> i64 + Send + Sync>,
) {
    let sending = Arc::new(sending);
    worker.handle(
        servicemeter_store::reports::REPORT_SEND,
        Arc::new(
            move |store: Arc<S>, job: Job, _progress: Arc<JobProgress>| {
                let sending = sending.clone();
                let now = clock();
                Box::pin(async move { send_one(&*store, &sending, &job, now).await })
            },
        ),
    );
}

/// The unsubscribe page: the question with its button, or what was done.
fn unsubscribe_page(lang: Lang, report: &str, action: Option<&str>, done: bool) -> String {
    let t = lang.texts();
    let esc = servicemeter_report::svg::escape;
    let body = if done {
        format!("<p>{} '{}'.</p>", esc(t.report_unsubscribed), esc(report))
    } else {
        format!(
            "<form method=\"post\" action=\"{}\"><p>{} '{}'?</p><button type=\"submit\">{}</button></form>",
            esc(action.unwrap_or_default()),
            esc(t.report_unsubscribe_ask),
            esc(report),
            esc(t.report_unsubscribe)
        )
    };
    crate::survey_mail::page_shell(
        lang,
        t.report_title,
        &format!("<h1>{}</h1>{body}", esc(t.report_title)),
    )
}

/// The workspace, report and address a token stands for, or the page that says it is broken.
async fn unsubscribe_target<S: Store + Accounts>(
    state: &AppState<S>,
    lang: Lang,
    name: &str,
    token: &str,
) -> Result<Result<(Workspace, String, String), Response>, WebError> {
    let broken = || {
        (
            StatusCode::BAD_REQUEST,
            Html(crate::survey_mail::page_shell(
                lang,
                "servicemeter",
                &format!(
                    "<p class=\"error\" role=\"alert\">{}</p>",
                    servicemeter_report::svg::escape(lang.texts().survey_link_broken)
                ),
            )),
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
    match crate::signed::verify(
        &secret,
        UNSUBSCRIBE_PURPOSE,
        &workspace.name,
        token,
        state.now_millis(),
    ) {
        Ok((fields, _)) if fields.len() == 2 => {
            let [report, email]: [String; 2] = fields.try_into().expect("two fields");
            Ok(Ok((workspace, report, email)))
        }
        _ => Ok(Err(broken())),
    }
}

/// `GET /ru/{workspace}/{token}`: asks (a link scanner changes nothing).
pub async fn unsubscribe_form<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    Path((name, token)): Path<(String, String)>,
) -> Result<Response, WebError> {
    match unsubscribe_target(&state, lang, &name, &token).await? {
        Err(page) => Ok(page),
        Ok((workspace, report, _)) => Ok(Html(unsubscribe_page(
            lang,
            &report,
            Some(&format!("/ru/{}/{token}", workspace.name)),
            false,
        ))
        .into_response()),
    }
}

/// `POST /ru/{workspace}/{token}`: the button, or a mail provider's one-click request
/// (`List-Unsubscribe=One-Click`, RFC 8058): the address gets no more copies of the report.
pub async fn unsubscribe<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    Path((name, token)): Path<(String, String)>,
) -> Result<Response, WebError> {
    match unsubscribe_target(&state, lang, &name, &token).await? {
        Err(page) => Ok(page),
        Ok((workspace, report, email)) => {
            state
                .store
                .unsubscribe_report(workspace.id, &report, &email, state.now_millis())
                .await?;
            Ok(Html(unsubscribe_page(lang, &report, None, true)).into_response())
        }
    }
}
