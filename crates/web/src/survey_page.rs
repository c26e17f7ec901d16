//! The survey page customers reach from a signed link (no sign-in): the question in their
//! language with the shop's brand, the score they clicked already chosen, reasons after a low
//! score and a comment. Opening the link records nothing (mail scanners fetch every link);
//! pressing the button records the answer as a survey record of the conversation (source
//! `servicemeter`), which the customer may change for `[surveys] change_days` (default 7) after the first answer.

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use servicemeter_core::Calendars;
use servicemeter_core::address::primary_language;
use servicemeter_core::facts::SurveyAnswer;
use servicemeter_core::model::SurveyKind;
use servicemeter_core::surveys::{ScaleChoice, SurveyDefinition, SurveySettings};

use servicemeter_store::{Accounts, ImportRun, Store, Workspace};

use crate::error::WebError;
use crate::i18n::{Lang, Texts};
use crate::pages::render;
use crate::state::AppState;
use crate::survey_link::{LinkProblem, SurveyLink, new_secret, verify};

/// Requests to the survey and unsubscribe pages one client address may make at once: a mail
/// scanner fetching every link of an NPS mail (11 scores and the unsubscribe link) passes.
pub const SURVEY_BURST: u32 = 30;

/// Then one more request per this long (30 a minute).
pub const SURVEY_REFILL: std::time::Duration = std::time::Duration::from_secs(2);

/// The longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 5_000;

struct Point {
    value: u8,
    label: String,
    chosen: bool,
}

struct ReasonChoice {
    /// Its position in the configuration (what the form posts).
    value: usize,
    label: String,
    chosen: bool,
}

#[derive(Template)]
#[template(path = "survey.html")]
struct SurveyPage {
    lang: String,
    t: &'static Texts,
    brand: String,
    logo: Option<String>,
    color: Option<String>,
    message: Option<String>,
    problem: bool,
    thanks: bool,
    change_until: Option<String>,
    show_form: bool,
    action: String,
    question: String,
    points: Vec<Point>,
    wide: bool,
    low_end: String,
    high_end: String,
    reasons: Vec<ReasonChoice>,
    comment_question: Option<String>,
    comment_text: String,
    /// The page offers to answer anonymously.
    offer_anonymous: bool,
    anonymous: bool,
}

#[derive(Deserialize)]
pub struct PageQuery {
    score: Option<String>,
    thanks: Option<String>,
}

/// Limits the survey and unsubscribe pages per client address (behind trusted proxies, the
/// address they name): guessing links, or flooding the answers, is slow.
pub async fn limit<S>(
    State(state): State<AppState<S>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Result<Response, WebError> {
    let client = state.site.client_key(peer.ip(), request.headers());
    if !state
        .survey_by_address
        .allow(&client, std::time::Instant::now())
    {
        tracing::info!(%client, "survey page refused: too many requests");
        return Err(WebError::TooManyRequests);
    }
    Ok(next.run(request).await)
}

/// The page's language for the chrome (buttons, messages): Dutch for Dutch, else English.
pub(crate) fn chrome(language: &str) -> Lang {
    if primary_language(language) == "nl" {
        Lang::Nl
    } else {
        Lang::En
    }
}

/// A text of the survey in `language`, else in the surveys' language.
pub(crate) fn text_in<'a>(
    texts: &'a servicemeter_core::surveys::Texts,
    language: &str,
    settings: &SurveySettings,
) -> Option<&'a str> {
    texts
        .get(language)
        .or_else(|| texts.get(primary_language(language)))
        .or_else(|| texts.get(&settings.language))
        .map(String::as_str)
}

/// What the link leads to, once checked.
struct Opened {
    workspace: Workspace,
    link: SurveyLink,
    settings: SurveySettings,
    definition: SurveyDefinition,
    language: String,
    answered_at: Option<i64>,
    calendars: Calendars,
}

/// A page that says what is wrong with a link, in the browser's language.
fn problem_page(lang: Lang, status: StatusCode, message: &str) -> Result<Response, WebError> {
    let page = SurveyPage {
        lang: lang.code().to_string(),
        t: lang.texts(),
        brand: "servicemeter".into(),
        logo: None,
        color: None,
        message: Some(message.to_string()),
        problem: true,
        thanks: false,
        change_until: None,
        show_form: false,
        action: String::new(),
        question: String::new(),
        points: Vec::new(),
        wide: false,
        low_end: String::new(),
        high_end: String::new(),
        reasons: Vec::new(),
        comment_question: None,
        comment_text: String::new(),
        offer_anonymous: false,
        anonymous: false,
    };
    Ok((status, render(&page)?).into_response())
}

/// Checks a link: the workspace, the signature and expiry, the kind still asked, the
/// conversation still there. `Err` is the page to show instead.
async fn open<S: Store + Accounts>(
    state: &AppState<S>,
    lang: Lang,
    name: &str,
    token: &str,
) -> Result<Result<Opened, Response>, WebError> {
    let t = lang.texts();
    let broken = || problem_page(lang, StatusCode::BAD_REQUEST, t.survey_link_broken);
    let Some(workspace) = state.store.find_workspace(name).await? else {
        return Ok(Err(broken()?));
    };
    let secret = state
        .store
        .survey_secret(workspace.id, &new_secret().map_err(WebError::Internal)?)
        .await?;
    let link = match verify(&secret, &workspace.name, token, state.now_millis()) {
        Ok(link) => link,
        Err(LinkProblem::Expired) => {
            return Ok(Err(problem_page(
                lang,
                StatusCode::GONE,
                t.survey_link_expired,
            )?));
        }
        Err(_) => return Ok(Err(broken()?)),
    };
    let config = crate::data::config(&workspace)?;
    let settings = config.surveys.clone();
    let Some(definition) = settings.kinds.get(&link.kind).cloned() else {
        // Switched off since the link was made.
        return Ok(Err(problem_page(
            lang,
            StatusCode::GONE,
            t.survey_link_expired,
        )?));
    };
    let Some(conversation) = state
        .store
        .conversation(workspace.id, &link.conversation)
        .await?
    else {
        return Ok(Err(broken()?));
    };
    let invitation = state
        .store
        .invitation(workspace.id, &link.conversation, link.kind)
        .await?;
    let customer_language = conversation
        .header
        .as_ref()
        .and_then(|h| h.customer_language.clone());
    let language = invitation
        .as_ref()
        .map(|i| i.language.clone())
        .unwrap_or_else(|| settings.language_for(&definition, customer_language.as_deref()));
    Ok(Ok(Opened {
        answered_at: invitation.and_then(|i| i.answered_at),
        calendars: Calendars::new(config),
        workspace,
        link,
        settings,
        definition,
        language,
    }))
}

/// The labels at the ends of a kind's scale, and each point's label.
fn scale_labels(
    t: &Texts,
    definition: &SurveyDefinition,
) -> (Vec<(u8, String)>, &'static str, &'static str) {
    let points = definition.scale.points();
    let (low, high) = match (definition.kind, definition.scale) {
        (SurveyKind::Nps, _) => (t.survey_least, t.survey_most),
        (SurveyKind::Ces, _) => (t.survey_hard, t.survey_easy),
        _ => (t.survey_bad, t.survey_good),
    };
    let labelled = points
        .map(|p| {
            let label = match definition.scale {
                ScaleChoice::Stars => format!("{p} {}", "★".repeat(usize::from(p))),
                ScaleChoice::Faces => {
                    let face = match p {
                        1 => "☹",
                        2 => "😐",
                        _ => "☺",
                    };
                    format!("{face} {p}")
                }
                _ => p.to_string(),
            };
            (p, label)
        })
        .collect();
    (labelled, low, high)
}

fn answer_of(definition: &SurveyDefinition, score: u8) -> SurveyAnswer {
    SurveyAnswer {
        score: f64::from(score),
        scale: definition.scale.scale(),
    }
}

/// The form for an opened link.
#[allow(clippy::too_many_arguments)]
fn form_page(
    opened: &Opened,
    action: String,
    chosen: Option<u8>,
    reasons_chosen: &[usize],
    comment: &str,
    message: Option<String>,
    thanks: bool,
    change_until: Option<String>,
    anonymous: bool,
) -> SurveyPage {
    let lang = chrome(&opened.language);
    let t = lang.texts();
    let definition = &opened.definition;
    let settings = &opened.settings;
    let (points, low, high) = scale_labels(t, definition);
    let wide = points.len() > 7;
    // Reasons are offered unless the chosen score is a happy one.
    let offer_reasons = chosen.is_none_or(|s| answer_of(definition, s).unhappy(definition.kind));
    let reasons = if offer_reasons {
        definition
            .reasons
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                Some(ReasonChoice {
                    value: i,
                    label: text_in(&r.labels, &opened.language, settings)?.to_string(),
                    chosen: reasons_chosen.contains(&i),
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    SurveyPage {
        lang: primary_language(&opened.language).to_string(),
        t,
        brand: settings
            .brand
            .clone()
            .unwrap_or_else(|| opened.workspace.name.clone()),
        logo: settings.logo_url.clone(),
        color: settings.color.clone(),
        problem: message.is_some(),
        message,
        thanks,
        change_until,
        show_form: true,
        action,
        question: text_in(&definition.question, &opened.language, settings)
            .unwrap_or_default()
            .to_string(),
        points: points
            .into_iter()
            .map(|(value, label)| Point {
                value,
                label,
                chosen: chosen == Some(value),
            })
            .collect(),
        wide,
        low_end: low.to_string(),
        high_end: high.to_string(),
        reasons,
        comment_question: text_in(&definition.comment, &opened.language, settings)
            .map(str::to_string),
        comment_text: comment.to_string(),
        offer_anonymous: settings.anonymous,
        anonymous,
    }
}

/// The page's answer with its own CSP: the shop's logo may come from its own https origin.
fn with_logo_policy(mut response: Response, logo: Option<&str>) -> Response {
    if let Some(origin) = logo.and_then(|url| {
        let rest = url.strip_prefix("https://")?;
        let host = rest.split(['/', '?', '#']).next()?;
        Some(format!("https://{host}"))
    }) {
        let policy = crate::guard::CONTENT_SECURITY_POLICY.replace(
            "img-src 'self' data:",
            &format!("img-src 'self' data: {origin}"),
        );
        if let Ok(value) = HeaderValue::from_str(&policy) {
            response
                .headers_mut()
                .insert("content-security-policy", value);
        }
    }
    response
}

fn format_day(millis: i64, calendars: &Calendars, lang: Lang) -> String {
    let zone = calendars.config().timezone.clone();
    jiff::Timestamp::from_millisecond(millis)
        .map(|t| crate::format::day(zone.to_datetime(t).date(), lang))
        .unwrap_or_default()
}

/// `GET /s/{workspace}/{token}?score=N`: the survey page (records nothing).
pub async fn show<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    Path((name, token)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
) -> Result<Response, WebError> {
    let opened = match open(&state, lang, &name, &token).await? {
        Ok(opened) => opened,
        Err(page) => return Ok(page),
    };
    let points: Vec<u8> = opened.definition.scale.points().collect();
    let chosen = query
        .score
        .as_deref()
        .and_then(|s| s.trim().parse::<u8>().ok())
        .filter(|s| points.contains(s));
    let thanks = query.thanks.as_deref() == Some("1") && opened.answered_at.is_some();
    let lang_chrome = chrome(&opened.language);
    let change_until = opened.answered_at.map(|at| {
        format_day(
            at + opened.settings.change_days * 86_400_000,
            &opened.calendars,
            lang_chrome,
        )
    });
    let page = form_page(
        &opened,
        format!("/s/{name}/{token}"),
        chosen,
        &[],
        "",
        None,
        thanks,
        if thanks { change_until } else { None },
        false,
    );
    let logo = opened.settings.logo_url.clone();
    Ok(with_logo_policy(
        render(&page)?.into_response(),
        logo.as_deref(),
    ))
}

/// `POST /s/{workspace}/{token}`: records the answer, then shows the thanks.
pub async fn answer<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    Path((name, token)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let opened = match open(&state, lang, &name, &token).await? {
        Ok(opened) => opened,
        Err(page) => return Ok(page),
    };
    let now = state.now_millis();
    let t = chrome(&opened.language).texts();
    if opened
        .answered_at
        .is_some_and(|first| now > first + opened.settings.change_days * 86_400_000)
    {
        return problem_page(
            chrome(&opened.language),
            StatusCode::CONFLICT,
            t.survey_closed,
        );
    }
    let value = |key: &str| {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let points: Vec<u8> = opened.definition.scale.points().collect();
    let score = value("score")
        .and_then(|s| s.trim().parse::<u8>().ok())
        .filter(|s| points.contains(s));
    let reasons: Vec<usize> = fields
        .iter()
        .filter(|(k, _)| k == "reason")
        .filter_map(|(_, v)| v.parse::<usize>().ok())
        .filter(|i| *i < opened.definition.reasons.len())
        .collect();
    let comment: String = value("comment")
        .unwrap_or_default()
        .trim()
        .chars()
        .take(MAX_COMMENT_CHARS)
        .collect();
    // Anonymous: the answer counts, but is never shown beside the conversation or customer.
    let anonymous = opened.settings.anonymous && value("anonymous") == Some("1");
    let action = format!("/s/{name}/{token}");
    let Some(score) = score else {
        let page = form_page(
            &opened,
            action,
            None,
            &reasons,
            &comment,
            Some(t.survey_choose_score.to_string()),
            false,
            None,
            anonymous,
        );
        return Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response());
    };
    // Reasons are stored in the surveys' own language, so that answers in every language
    // count together; they are kept only with an unhappy score.
    let reasons: Vec<String> =
        if answer_of(&opened.definition, score).unhappy(opened.definition.kind) {
            reasons
                .iter()
                .filter_map(|i| {
                    text_in(
                        &opened.definition.reasons[*i].labels,
                        &opened.settings.language,
                        &opened.settings,
                    )
                    .map(str::to_string)
                })
                .collect()
        } else {
            Vec::new()
        };
    let scale = opened.definition.scale.scale();
    let mut record = serde_json::json!({
        "type": "survey",
        "conversation": opened.link.conversation,
        "at": servicemeter_core::time::format_utc(now),
        "kind": opened.link.kind.as_str(),
        "score": score,
        "scale": [scale.min, scale.max],
        "reasons": reasons,
        "source": if anonymous {
            servicemeter_core::model::ANONYMOUS_SOURCE
        } else {
            servicemeter_core::model::SERVICEMETER_SOURCE
        },
    });
    if !comment.is_empty() {
        record["comment"] = comment.into();
    }
    let survey = servicemeter_import::parse_record(&record.to_string())
        .map_err(|e| WebError::Internal(anyhow::anyhow!("survey answer: {e}")))?;
    let session = state.store.begin_import(opened.workspace.id).await?;
    let mut run = ImportRun::new(session, std::sync::Arc::new(opened.calendars), now);
    run.add(survey).await?;
    run.mark_answered(
        &opened.link.conversation,
        opened.link.kind,
        &opened.language,
        now,
        anonymous,
    )
    .await?;
    run.finish("survey".into()).await?;
    Ok(Redirect::to(&format!("/s/{name}/{token}?thanks=1&score={score}")).into_response())
}
