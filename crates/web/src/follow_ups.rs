//! The follow-up inbox: the unhappy survey answers (CSAT not satisfied, NPS detractors, hard
//! CES) with their comment and reasons, each with a status, an owner, a note and a due date,
//! for leads and administrators to work through. The overview counts the overdue ones.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use servicemeter_core::model::{SurveyFields, SurveyKind};
use servicemeter_core::{Calendars, compute_facts};
use servicemeter_store::follow_ups::{
    FollowUp, FollowUpChange, FollowUpList, FollowUpStatus, MAX_NOTE_CHARS,
};
use servicemeter_store::{Accounts, Store};

use crate::auth::{Access, Caller, SignedIn, workspace_access};
use crate::conversations::local_time;
use crate::error::WebError;
use crate::format;
use crate::i18n::{Lang, Texts};
use crate::overview::{Nav, query_value};
use crate::pages::{Frame, render};
use crate::state::AppState;

/// Follow-ups per page.
pub const PER_PAGE: u32 = 25;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// `open` (default) or `done`.
    list: Option<String>,
    page: Option<u32>,
    /// Set after saving, to say so.
    saved: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ChangeForm {
    conversation: String,
    kind: String,
    status: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    note: String,
    /// The list to go back to.
    #[serde(default)]
    list: String,
}

struct Choice {
    value: String,
    label: String,
    chosen: bool,
}

/// One follow-up as the page shows it.
struct Item {
    /// The element id (for the link back after saving).
    anchor: String,
    kind_value: &'static str,
    kind_label: &'static str,
    conversation: String,
    href: String,
    score: String,
    customer: String,
    channel: String,
    agent: String,
    comment: String,
    reasons: Vec<String>,
    answered: String,
    due: String,
    overdue: bool,
    statuses: Vec<Choice>,
    owners: Vec<Choice>,
    note: String,
    changed: String,
    gone: bool,
}

#[derive(Template)]
#[template(path = "follow_ups.html")]
struct FollowUpsPage {
    frame: Frame,
    nav: Nav,
    workspace: String,
    open_list: bool,
    open_count: String,
    overdue_count: String,
    items: Vec<Item>,
    saved: bool,
    list: &'static str,
    page: u32,
    pages: u32,
    previous_href: String,
    next_href: String,
    max_note: usize,
}

fn status_label(status: FollowUpStatus, t: &Texts) -> &'static str {
    match status {
        FollowUpStatus::New => t.follow_up_new,
        FollowUpStatus::InProgress => t.follow_up_in_progress,
        FollowUpStatus::Done => t.follow_up_done,
    }
}

fn kind_label(kind: SurveyKind, t: &Texts) -> &'static str {
    match kind {
        SurveyKind::Csat => t.csat,
        SurveyKind::Nps => t.nps,
        SurveyKind::Ces => t.ces,
    }
}

/// Leads and administrators follow up (they see every conversation).
async fn follower_access<S: Store + Accounts>(
    state: &AppState<S>,
    signed_in: &SignedIn,
    name: &str,
) -> Result<Access, WebError> {
    let caller = Caller::User(signed_in.user.clone());
    let access = workspace_access(&*state.store, &caller, name).await?;
    if !access.role.sees_all_conversations() {
        return Err(WebError::Forbidden);
    }
    Ok(access)
}

fn list_of(text: Option<&str>) -> Result<FollowUpList, WebError> {
    match text.map(str::trim).unwrap_or("") {
        "" | "open" => Ok(FollowUpList::Open),
        "done" => Ok(FollowUpList::Done),
        other => Err(WebError::BadRequest(format!(
            "list: '{other}' is not one of open, done"
        ))),
    }
}

fn anchor(conversation: &str, kind: SurveyKind) -> String {
    // Ids stay simple: the conversation id's letters and digits, with the kind.
    let safe: String = conversation
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("f-{}-{safe}", kind.as_str())
}

/// `GET /w/{workspace}/follow-ups`.
pub async fn page<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    let access = follower_access(&state, &signed_in, &name).await?;
    let list = list_of(query.list.as_deref())?;
    let ws = &access.workspace;
    let now = state.now_millis();
    let calendars = Calendars::new(crate::data::config(ws)?);
    let page = query.page.unwrap_or(1).max(1);
    let (mut rows, total) = state
        .store
        .follow_ups(ws.id, list, (page - 1) * PER_PAGE, PER_PAGE)
        .await?;
    let pages = (total as u32).div_ceil(PER_PAGE).max(1);
    if page > pages {
        (rows, _) = state
            .store
            .follow_ups(ws.id, list, (pages - 1) * PER_PAGE, PER_PAGE)
            .await?;
    }
    let page = page.min(pages);
    let open_count = if list == FollowUpList::Open {
        total
    } else {
        state
            .store
            .follow_ups(ws.id, FollowUpList::Open, 0, 0)
            .await?
            .1
    };
    let overdue = state.store.overdue_follow_ups(ws.id, now).await?;
    let mut members: Vec<String> = state
        .store
        .members(ws.id)
        .await?
        .into_iter()
        .filter(|(_, m)| m.role.sees_all_conversations())
        .map(|(u, _)| u.email)
        .collect();
    members.sort();
    let mut items = Vec::with_capacity(rows.len());
    for f in rows {
        items.push(item(&state, &access, f, &members, &calendars, now, lang).await?);
    }
    let list_key = match list {
        FollowUpList::Open => "open",
        FollowUpList::Done => "done",
    };
    let href = |p: u32| format!("/w/{}/follow-ups?list={list_key}&page={p}", ws.name);
    let page = FollowUpsPage {
        frame: Frame::new(lang, Some(signed_in.user.email.clone())),
        nav: Nav::new(&ws.name, "follow-ups", "", access.role),
        workspace: ws.name.clone(),
        open_list: list == FollowUpList::Open,
        open_count: format::count(open_count),
        overdue_count: format::count(overdue),
        items,
        saved: query.saved.is_some(),
        list: list_key,
        page,
        pages,
        previous_href: if page > 1 {
            href(page - 1)
        } else {
            String::new()
        },
        next_href: if page < pages {
            href(page + 1)
        } else {
            String::new()
        },
        max_note: MAX_NOTE_CHARS,
    };
    Ok(render(&page)?.into_response())
}

#[allow(clippy::too_many_arguments)]
async fn item<S: Store + Accounts>(
    state: &AppState<S>,
    access: &Access,
    f: FollowUp,
    members: &[String],
    calendars: &Calendars,
    now: i64,
    lang: Lang,
) -> Result<Item, WebError> {
    let t = lang.texts();
    let tz = &calendars.config().timezone;
    let ws = &access.workspace.name;
    let conversation = state
        .store
        .conversation(access.workspace.id, &f.conversation)
        .await?;
    let answer = conversation.as_ref().and_then(|c| {
        c.surveys
            .iter()
            .filter(|s| s.kind == f.kind)
            .max_by_key(|s| s.at)
            .filter(|s| !s.anonymous())
            .cloned()
    });
    let header = conversation.as_ref().and_then(|c| c.header.clone());
    // The agent as every figure names it (header, assignment or last reply; agent rules).
    let agent = conversation
        .as_ref()
        .and_then(|c| compute_facts(c, calendars))
        .and_then(|f| f.agent)
        .map(|a| calendars.config().agents.display_name(&a).to_string())
        .unwrap_or_default();
    let anchor = anchor(&f.conversation, f.kind);
    let mut owners = vec![Choice {
        value: String::new(),
        label: t.follow_up_nobody.to_string(),
        chosen: f.owner.is_none(),
    }];
    // An owner who left the workspace stays shown until someone else is chosen.
    let mut known: Vec<&str> = members.iter().map(String::as_str).collect();
    if let Some(owner) = f.owner.as_deref()
        && !known.contains(&owner)
    {
        known.push(owner);
    }
    owners.extend(known.into_iter().map(|m| Choice {
        value: m.to_string(),
        label: m.to_string(),
        chosen: f.owner.as_deref() == Some(m),
    }));
    Ok(Item {
        anchor,
        kind_value: f.kind.as_str(),
        kind_label: kind_label(f.kind, t),
        href: format!("/w/{ws}/conversations/{}", query_value(&f.conversation)),
        conversation: f.conversation.clone(),
        score: answer
            .as_ref()
            .map(|a| {
                format!(
                    "{} / {}",
                    format::number(Some(a.score.value()), 0, lang),
                    format::number(Some(a.score.scale().max), 0, lang)
                )
            })
            .unwrap_or_default(),
        customer: header
            .as_ref()
            .and_then(|h| h.customer_name.clone().or_else(|| h.customer_email.clone()))
            .unwrap_or_default(),
        channel: header
            .as_ref()
            .map(|h| format::channel(h.channel.as_str(), lang))
            .unwrap_or_default(),
        agent,
        comment: answer
            .as_ref()
            .and_then(|a| a.comment.clone())
            .unwrap_or_default(),
        reasons: answer.map(|a| a.reasons).unwrap_or_default(),
        answered: local_time(f.answered_at, tz),
        due: local_time(f.due_at, tz),
        overdue: f.overdue(now),
        statuses: FollowUpStatus::ALL
            .into_iter()
            .map(|s| Choice {
                value: s.as_str().to_string(),
                label: status_label(s, t).to_string(),
                chosen: s == f.status,
            })
            .collect(),
        owners,
        note: f.note,
        changed: match f.updated_by {
            Some(by) => format!(
                "{} {by}, {}",
                t.follow_up_changed,
                local_time(f.updated_at, tz)
            ),
            None => String::new(),
        },
        gone: conversation.is_none(),
    })
}

/// `POST /w/{workspace}/follow-ups`: changes one follow-up, then back to its place in the list.
pub async fn save<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Result<Response, WebError> {
    let access = follower_access(&state, &signed_in, &name).await?;
    let kind = SurveyKind::parse(form.kind.trim()).map_err(|_| WebError::Invalid {
        nl: format!(
            "kind: '{}' is geen soort enquête (csat, nps, ces)",
            form.kind
        ),
        en: format!(
            "kind: '{}' is not a survey kind (csat, nps, ces)",
            form.kind
        ),
    })?;
    let status = FollowUpStatus::parse(&form.status).ok_or_else(|| WebError::Invalid {
        nl: format!(
            "status: '{}' is geen status (new, in_progress, done)",
            form.status
        ),
        en: format!(
            "status: '{}' is not a status (new, in_progress, done)",
            form.status
        ),
    })?;
    if form.note.chars().count() > MAX_NOTE_CHARS {
        return Err(WebError::Invalid {
            nl: format!("notitie: langer dan {MAX_NOTE_CHARS} tekens"),
            en: format!("note: longer than {MAX_NOTE_CHARS} characters"),
        });
    }
    let owner = form.owner.trim().to_lowercase();
    let owner = if owner.is_empty() {
        None
    } else {
        let members = state.store.members(access.workspace.id).await?;
        let current = state
            .store
            .follow_up(access.workspace.id, &form.conversation, kind)
            .await?
            .and_then(|f| f.owner);
        let member = members
            .iter()
            .any(|(u, m)| u.email == owner && m.role.sees_all_conversations());
        if !member && current.as_deref() != Some(owner.as_str()) {
            return Err(WebError::Invalid {
                nl: format!("eigenaar: {owner} is geen lead of beheerder van deze werkruimte"),
                en: format!("owner: {owner} is not a lead or administrator of this workspace"),
            });
        }
        Some(owner)
    };
    let change = FollowUpChange {
        status,
        owner,
        note: form.note.trim().to_string(),
    };
    let found = state
        .store
        .update_follow_up(
            access.workspace.id,
            &form.conversation,
            kind,
            &change,
            &signed_in.user.email,
            state.now_millis(),
        )
        .await?;
    if !found {
        return Err(WebError::NotFound);
    }
    let list = if form.list == "done" { "done" } else { "open" };
    let anchor = anchor(&form.conversation, kind);
    Ok(Redirect::to(&format!(
        "/w/{}/follow-ups?list={list}&saved={anchor}#{anchor}",
        access.workspace.name
    ))
    .into_response())
}
