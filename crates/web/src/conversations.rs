//! The conversations behind a figure (paginated, sortable) and one conversation's timeline with
//! its first-response and resolution clocks and the closed hours shaded, as pages and as JSON.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use servicemeter_core::access::Role;
use servicemeter_core::filter::Filter;
use servicemeter_core::model::Author;
use servicemeter_core::model::SurveyFields;
use servicemeter_core::report::local_date;
use servicemeter_core::select::{Selection, SortKey, Subset, select};
use servicemeter_core::time::format_utc;
use servicemeter_core::{Calendars, ConversationFacts, FactsRow, compute_facts};
use servicemeter_report::svg::{self, Mark};
use servicemeter_store::{Accounts, Store};

use crate::auth::{Access, Caller, SignedIn, workspace_access};
use crate::data::{self, FilterQuery, PeriodQuery};
use crate::error::WebError;
use crate::format;
use crate::i18n::Lang;
use crate::overview::query_value;
use crate::pages::{Frame, render};
use crate::state::AppState;
use crate::table::{Cell, DataTable, Row};

/// Rows per page.
pub const PER_PAGE: usize = 50;

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ListQuery {
    #[serde(flatten)]
    pub period: PeriodQuery,
    pub subset: Option<String>,
    pub sort: Option<String>,
    /// `1`: largest first.
    pub desc: Option<String>,
    pub page: Option<usize>,
    /// Part of the customer's name, address or id (case-insensitive; at most
    /// [`MAX_CUSTOMER_TEXT`] characters).
    pub customer: Option<String>,
}

/// The longest customer search text.
pub const MAX_CUSTOMER_TEXT: usize = 200;

/// Most conversations one customer search finds (more: the list says so and shows these).
pub const MAX_CUSTOMER_MATCHES: usize = 100_000;

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The rows a list query selects, for what the caller may see.
struct Listed {
    table: std::sync::Arc<servicemeter_core::FactTable>,
    rows: Vec<usize>,
    sort: SortKey,
    descending: bool,
    page: usize,
    pages: usize,
    period: Option<servicemeter_core::report::Period>,
    tz: jiff::tz::TimeZone,
}

async fn list<S: Store>(
    state: &AppState<S>,
    access: &Access,
    query: &ListQuery,
    filter: &Filter,
) -> Result<Listed, WebError> {
    if !access.role.sees_conversations() {
        return Err(WebError::Forbidden);
    }
    let config = data::config(&access.workspace)?;
    let table = data::facts(state, &access.workspace).await?;
    let period = query
        .period
        .resolve(data::local_now(state, &config), &table, &config)?
        .map(|c| c.period);
    let subset = match non_empty(&query.subset) {
        None => Subset::All,
        Some(name) => Subset::parse(&name).ok_or_else(|| {
            WebError::invalid(
                format!("Selectie: '{name}' is onbekend"),
                format!("subset: '{name}' is not a known subset"),
            )
        })?,
    };
    let sort = match non_empty(&query.sort) {
        None => SortKey::Start,
        Some(name) => SortKey::parse(&name).ok_or_else(|| {
            WebError::invalid(
                format!(
                    "Volgorde: '{name}' is niet een van start, first-response, resolution, reopens, turns, csat"
                ),
                format!(
                    "sort: '{name}' is not one of start, first-response, resolution, reopens, turns, csat"
                ),
            )
        })?,
    };
    let mut filter = filter.clone();
    if !access.role.sees_all_conversations() {
        // Agents see their own conversations only.
        filter.agents = vec![access.agent_name.clone().unwrap_or_default()];
    }
    let selection = Selection {
        start_between: period.map(|p| p.bounds(&config.timezone)),
        filter,
        subset,
    };
    let descending = query.desc.as_deref() == Some("1");
    let mut rows = select(&table, &config, &selection, sort, descending);
    // The customer is not in the facts (they hold no personal data): the store finds the
    // conversations, the facts' selection keeps its order.
    if let Some(text) = non_empty(&query.customer) {
        if text.chars().count() > MAX_CUSTOMER_TEXT {
            return Err(WebError::invalid(
                format!(
                    "{}: hoogstens {MAX_CUSTOMER_TEXT} tekens",
                    crate::i18n::NL.customer_label
                ),
                format!("customer: at most {MAX_CUSTOMER_TEXT} characters"),
            ));
        }
        let found: std::collections::HashSet<String> = state
            .store
            .conversations_of_customer(access.workspace.id, &text, MAX_CUSTOMER_MATCHES)
            .await?
            .into_iter()
            .collect();
        rows.retain(|&i| found.contains(table.conversation(i)));
    }
    let pages = rows.len().div_ceil(PER_PAGE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    Ok(Listed {
        table,
        rows,
        sort,
        descending,
        page,
        pages,
        period,
        tz: config.timezone,
    })
}

impl Listed {
    fn page_rows(&self) -> &[usize] {
        let from = (self.page - 1) * PER_PAGE;
        &self.rows[from.min(self.rows.len())..(from + PER_PAGE).min(self.rows.len())]
    }
}

/// A UTC instant as the workspace's local date and minute (YYYY-MM-DD HH:MM).
pub(crate) fn local_time(millis: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(millis)
        .map(|t| {
            t.to_zoned_datetime(tz.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// Most rows one download holds (a longer list is refused: narrow the period or the filter,
/// or use `servicemeter facts`).
pub const MAX_EXPORT_ROWS: usize = 100_000;

/// A conversation of a list as the page shows it (and its download gives it): id, start,
/// channel, agent, first response, resolution, reopens, turns, CSAT.
fn conversation_row(listed: &Listed, i: usize, ws: &str, lang: Lang) -> Row {
    let t = lang.texts();
    let table = &listed.table;
    let n = table.numbers(i);
    let agent = table.agent_index(i);
    let id = table.conversation(i);
    let csat = n
        .listed(servicemeter_core::model::SurveyKind::Csat)
        .map(|a| format::number(Some(a.score), 0, lang))
        .unwrap_or_default();
    Row {
        class: String::new(),
        cells: vec![
            Cell::link(id, format!("/w/{ws}/conversations/{}", query_value(id))),
            Cell::text(local_time(table.start(i), &listed.tz)),
            Cell::text(format::channel(table.name(table.channel_index(i)), lang)),
            Cell::text(if agent == servicemeter_core::table::NO_NAME {
                t.unassigned.to_string()
            } else {
                table.name(agent).to_string()
            }),
            Cell::num(if n.unanswered() {
                t.unanswered.to_string()
            } else {
                format::duration(n.first_response_business_millis.map(|m| m as f64 / 1000.0))
            }),
            Cell::num(if n.resolved {
                format::duration(n.resolution_business_millis.map(|m| m as f64 / 1000.0))
            } else {
                t.not_resolved.to_string()
            }),
            Cell::num(n.reopens.to_string()),
            Cell::num(n.agent_turns.to_string()),
            Cell::num(csat),
        ],
    }
}

/// The headers of a conversations list.
fn conversation_headers(lang: Lang) -> Vec<String> {
    let t = lang.texts();
    [
        "#",
        t.start,
        t.channel,
        t.agent,
        t.first_response,
        t.resolution,
        t.reopens,
        t.turns_per_conversation,
        t.csat,
    ]
    .map(String::from)
    .to_vec()
}

struct SortLink {
    label: &'static str,
    href: String,
    mark: &'static str,
}

#[derive(Template)]
#[template(path = "conversations.html")]
struct ListPage {
    frame: Frame,
    nav: crate::overview::Nav,
    workspace: String,
    filters: String,
    total: String,
    rows: Vec<Row>,
    sorts: Vec<SortLink>,
    /// The whole list (every page) as CSV.
    csv_href: String,
    page: usize,
    pages: usize,
    previous_href: String,
    next_href: String,
    /// The customer searched for, and the list's other parameters the search form keeps.
    customer: String,
    search_keep: Vec<(String, String)>,
}

/// What a list shows, in words: its period, its filter (names in the reader's language) and
/// its subset.
fn list_summary(
    query: &ListQuery,
    filter: &FilterQuery,
    period: Option<servicemeter_core::report::Period>,
    lang: Lang,
) -> String {
    let t = lang.texts();
    let mut parts: Vec<String> = period
        .map(|p| format::period(p, lang))
        .into_iter()
        .collect();
    for (kind, chosen) in filter.0.kinds() {
        if chosen.is_empty() {
            continue;
        }
        let label = match kind {
            "channel" => t.channel,
            "team" => t.team,
            "agent" => t.agent,
            _ => t.topic,
        };
        let names: Vec<String> = chosen
            .iter()
            .map(|c| crate::overview::kind_label(kind, c, lang))
            .collect();
        parts.push(format!("{label}: {}", names.join(", ")));
    }
    if let Some(subset) = non_empty(&query.subset).and_then(|s| Subset::parse(&s))
        && subset != Subset::All
    {
        let i = Subset::ALL
            .iter()
            .position(|(_, s)| *s == subset)
            .expect("every subset is listed");
        parts.push(t.subsets[i].to_string());
    }
    if let Some(customer) = non_empty(&query.customer) {
        parts.push(format!("{}: “{customer}”", t.customer_label));
    }
    parts.join(" · ")
}

/// The query string of a list query without `page`, `sort` and `desc`.
fn filter_qs(
    query: &ListQuery,
    filter: &FilterQuery,
    period: Option<servicemeter_core::report::Period>,
) -> String {
    // A preset stays a preset, so that the link moves on with the clock.
    let subset = non_empty(&query.subset)
        .map(|v| format!("subset={}", query_value(&v)))
        .unwrap_or_default();
    let customer = non_empty(&query.customer)
        .map(|v| format!("customer={}", query_value(&v)))
        .unwrap_or_default();
    data::join_query(&[
        &query.period.link(period),
        &filter.link(),
        &subset,
        &customer,
    ])
}

pub async fn list_page<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Query(query): Query<ListQuery>,
    filter: FilterQuery,
) -> Result<Response, WebError> {
    let access =
        workspace_access(&*state.store, &Caller::User(signed_in.user.clone()), &name).await?;
    let listed = list(&state, &access, &query, &filter.0).await?;
    let t = lang.texts();
    let ws = &access.workspace.name;
    let filters = filter_qs(&query, &filter, listed.period);
    let base = format!("/w/{ws}/conversations?{filters}");
    let order = |sort: SortKey, desc: bool| {
        format!("&sort={}{}", sort.name(), if desc { "&desc=1" } else { "" })
    };
    let current_order = order(listed.sort, listed.descending);
    let rows = listed
        .page_rows()
        .iter()
        .map(|&i| conversation_row(&listed, i, ws, lang))
        .collect();
    let sorts = [
        (t.start, SortKey::Start),
        (t.first_response, SortKey::FirstResponse),
        (t.resolution, SortKey::Resolution),
        (t.reopens, SortKey::Reopens),
        (t.turns_per_conversation, SortKey::AgentTurns),
        (t.csat, SortKey::Csat),
    ]
    .into_iter()
    .map(|(label, key)| {
        let active = key == listed.sort;
        // A click on the active column flips the order; others start largest first.
        let desc = if active {
            !listed.descending
        } else {
            key != SortKey::Start
        };
        SortLink {
            label,
            href: format!("{base}{}", order(key, desc)),
            mark: match (active, listed.descending) {
                (true, true) => " ↓",
                (true, false) => " ↑",
                _ => "",
            },
        }
    })
    .collect();
    let page_href = |p: usize| format!("{base}{current_order}&page={p}");
    Ok(render(&ListPage {
        frame: Frame::new(lang, Some(signed_in.user.email)),
        nav: crate::overview::Nav::new(
            ws,
            "conversations",
            &data::join_query(&[&query.period.link(listed.period), &filter.link()]),
            access.role,
        ),
        workspace: ws.clone(),
        filters: list_summary(&query, &filter, listed.period, lang),
        customer: non_empty(&query.customer).unwrap_or_default(),
        search_keep: {
            let without = ListQuery {
                customer: None,
                ..query.clone()
            };
            form_urlencoded::parse(filter_qs(&without, &filter, listed.period).as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        },
        total: format::count(listed.rows.len() as u64),
        rows,
        sorts,
        csv_href: format!("/w/{ws}/export/conversations?{filters}{current_order}"),
        page: listed.page,
        pages: listed.pages,
        previous_href: if listed.page > 1 {
            page_href(listed.page - 1)
        } else {
            String::new()
        },
        next_href: if listed.page < listed.pages {
            page_href(listed.page + 1)
        } else {
            String::new()
        },
    })?
    .into_response())
}

/// The whole list of a query (every page, in its order) as a table, for its download; refused
/// above [`MAX_EXPORT_ROWS`].
pub async fn export_table<S: Store>(
    state: &AppState<S>,
    access: &Access,
    query: &ListQuery,
    filter: &Filter,
    lang: Lang,
) -> Result<DataTable, WebError> {
    let listed = list(state, access, query, filter).await?;
    if listed.rows.len() > MAX_EXPORT_ROWS {
        return Err(WebError::invalid(
            format!(
                "{} gesprekken; een download bevat er hoogstens {MAX_EXPORT_ROWS}: kies een kortere periode of een filter (of gebruik servicemeter facts)",
                listed.rows.len()
            ),
            format!(
                "{} conversations; a download holds at most {MAX_EXPORT_ROWS}: choose a shorter period or a filter (or use servicemeter facts)",
                listed.rows.len()
            ),
        ));
    }
    let ws = &access.workspace.name;
    Ok(DataTable {
        id: "conversations",
        headers: conversation_headers(lang),
        rows: listed
            .rows
            .iter()
            .map(|&i| conversation_row(&listed, i, ws, lang))
            .collect(),
        csv_href: String::new(),
    })
}

/// `GET /api/v1/workspaces/{ws}/conversations`: the facts rows of a selection, one page.
pub async fn list_api<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    caller: Caller,
    Path(name): Path<String>,
    Query(query): Query<ListQuery>,
    filter: FilterQuery,
) -> Result<Response, WebError> {
    let access = workspace_access(&*state.store, &caller, &name).await?;
    let listed = list(&state, &access, &query, &filter.0).await?;
    let facts: Vec<ConversationFacts> = listed
        .page_rows()
        .iter()
        .map(|&i| listed.table.get(i))
        .collect();
    let rows: Vec<FactsRow> = facts.iter().map(FactsRow::new).collect();
    Ok(Json(serde_json::json!({
        "total": listed.rows.len(),
        "page": listed.page,
        "pages": listed.pages,
        "per_page": PER_PAGE,
        "conversations": rows,
    }))
    .into_response())
}

/// One conversation with its facts, if the caller may see it.
async fn one<S: Store>(
    state: &AppState<S>,
    access: &Access,
    id: &str,
) -> Result<
    (
        servicemeter_core::Conversation,
        Option<ConversationFacts>,
        Calendars,
    ),
    WebError,
> {
    if !access.role.sees_conversations() {
        return Err(WebError::Forbidden);
    }
    let conversation = state
        .store
        .conversation(access.workspace.id, id)
        .await?
        .ok_or(WebError::NotFound)?;
    let calendars = Calendars::new(data::config(&access.workspace)?);
    let facts = compute_facts(&conversation, &calendars).map(|mut f| {
        // Named as the workspace's agent rules show them.
        let rules = &calendars.config().agents;
        f.agent = f.agent.map(|a| rules.display_name(&a).to_string());
        f
    });
    if access.role == Role::Agent {
        let own = access.agent_name.as_deref();
        if facts.as_ref().and_then(|f| f.agent.as_deref()) != own || own.is_none() {
            return Err(WebError::NotFound);
        }
    }
    Ok((conversation, facts, calendars))
}

/// `GET /api/v1/workspaces/{ws}/conversations/{id}`: records and facts.
pub async fn detail_api<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    caller: Caller,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let access = workspace_access(&*state.store, &caller, &name).await?;
    let (c, facts, _) = one(&state, &access, &id).await?;
    let header = c.header.as_ref().map(|h| {
        serde_json::json!({
            "channel": h.channel.as_str(),
            "created_at": format_utc(h.created_at),
            "customer": h.customer,
            "agent": h.agent,
            "team": h.team,
            "tags": h.tags,
            "subject": h.subject,
            "customer_email": h.customer_email,
            "customer_name": h.customer_name,
            "customer_language": h.customer_language,
        })
    });
    let messages: Vec<_> = c
        .messages
        .iter()
        .map(|m| {
            serde_json::json!({
                "id": m.id, "at": format_utc(m.at), "author": m.author.as_str(),
                "agent": m.agent, "text": m.text,
            })
        })
        .collect();
    let events: Vec<_> = c
        .events
        .iter()
        .map(|e| serde_json::json!({"at": format_utc(e.at), "event": e.kind.as_str(), "agent": e.agent}))
        .collect();
    // Anonymous answers are never shown beside their conversation.
    let surveys: Vec<_> = c
        .surveys
        .iter()
        .filter(|s| !s.anonymous())
        .map(|s| {
            serde_json::json!({
                "at": format_utc(s.at), "kind": s.kind.as_str(), "score": s.score.value(),
                "scale": [s.score.scale().min, s.score.scale().max], "comment": s.comment,
                "reasons": s.reasons, "source": s.source,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({
        "id": c.id,
        "conversation": header,
        "messages": messages,
        "events": events,
        "surveys": surveys,
        "facts": facts.as_ref().map(FactsRow::new),
    }))
    .into_response())
}

#[derive(Deserialize)]
pub struct SurveyLinkQuery {
    kind: Option<String>,
}

/// `GET /api/v1/workspaces/{ws}/conversations/{id}/survey-link?kind=csat`: the signed link of
/// the conversation's survey, for a helpdesk's own closing message (valid for 30 days).
pub async fn survey_link_api<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path((name, id)): Path<(String, String)>,
    Query(query): Query<SurveyLinkQuery>,
) -> Result<Response, WebError> {
    use crate::survey_link::{IssueError, issue};
    let access = workspace_access(&*state.store, &caller, &name).await?;
    let text = query.kind.as_deref().unwrap_or("csat");
    let kind = servicemeter_core::model::SurveyKind::parse(text).map_err(|_| {
        WebError::invalid(
            format!("kind: '{text}' is geen enquête; gebruik csat, nps of ces"),
            format!("kind: '{text}' is not a survey; use csat, nps or ces"),
        )
    })?;
    // The same rule as the conversation itself: an agent only for their own.
    one(&state, &access, &id).await?;
    let base = state.site.base_url(&headers).unwrap_or_default();
    let issued = issue(&*state.store, &access.workspace, &id, kind, &base, state.now_millis())
        .await
        .map_err(|e| match e {
            IssueError::NoConversation(_) => WebError::NotFound,
            IssueError::KindOff(kind) => WebError::invalid(
                format!(
                    "kind: {}-enquêtes staan in deze werkruimte niet aan ([surveys.{}] in de configuratie)",
                    kind.as_str().to_uppercase(),
                    kind.as_str()
                ),
                e.to_string(),
            ),
            IssueError::Store(e) => e.into(),
            IssueError::Other(e) => WebError::Internal(e),
        })?;
    Ok(Json(serde_json::json!({
        "conversation": id,
        "kind": kind.as_str(),
        "url": issued.url,
        "expires_at": format_utc(issued.expires_at),
    }))
    .into_response())
}

struct Item {
    time: String,
    kind: String,
    class: &'static str,
    who: String,
    text: String,
    outside: bool,
}

struct Figure {
    label: String,
    value: String,
}

#[derive(Template)]
#[template(path = "conversation.html")]
struct DetailPage {
    frame: Frame,
    workspace: String,
    id: String,
    subtitle: String,
    timeline: String,
    figures: Vec<Figure>,
    items: Vec<Item>,
}

pub async fn detail_page<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let access =
        workspace_access(&*state.store, &Caller::User(signed_in.user.clone()), &name).await?;
    let (c, facts, calendars) = one(&state, &access, &id).await?;
    let t = lang.texts();
    let channel = c
        .header
        .as_ref()
        .map(|h| h.channel.as_str().to_string())
        .unwrap_or_default();
    let calendar = calendars.for_channel(&channel);
    let tz = calendar.time_zone().clone();
    let mut items: Vec<(i64, Item)> = Vec::new();
    let mut marks = Vec::new();
    for m in &c.messages {
        let class = match m.author {
            Author::Customer => "customer",
            Author::Agent => "agent",
            Author::Bot | Author::Note => "other",
        };
        let who = match m.author {
            Author::Customer => c
                .header
                .as_ref()
                .and_then(|h| h.customer.clone())
                .unwrap_or_default(),
            _ => m
                .agent
                .clone()
                .unwrap_or_else(|| author_label(m.author, lang).to_string()),
        };
        let outside = m.author == Author::Customer && !calendar.is_open_at(m.at);
        marks.push(Mark {
            at: m.at,
            class,
            tooltip: format!("{} {}", local_time(m.at, &tz), who),
        });
        items.push((
            m.at,
            Item {
                time: local_time(m.at, &tz),
                kind: author_label(m.author, lang).to_string(),
                class,
                who,
                text: m.text.clone().unwrap_or_default(),
                outside,
            },
        ));
    }
    for e in &c.events {
        marks.push(Mark {
            at: e.at,
            class: "event",
            tooltip: format!("{} {}", local_time(e.at, &tz), event_label(e.kind, lang)),
        });
        items.push((
            e.at,
            Item {
                time: local_time(e.at, &tz),
                kind: event_label(e.kind, lang).to_string(),
                class: "event",
                who: e.agent.clone().unwrap_or_default(),
                text: String::new(),
                outside: false,
            },
        ));
    }
    for s in c.surveys.iter().filter(|s| !s.anonymous()) {
        marks.push(Mark {
            at: s.at,
            class: "survey",
            tooltip: format!(
                "{} {} {}",
                local_time(s.at, &tz),
                s.kind.as_str(),
                s.score.value()
            ),
        });
        items.push((
            s.at,
            Item {
                time: local_time(s.at, &tz),
                kind: s.kind.as_str().to_string(),
                class: "survey",
                who: format!(
                    "{} ({}–{})",
                    s.score.value(),
                    s.score.scale().min,
                    s.score.scale().max
                ),
                text: s.comment.clone().unwrap_or_default(),
                outside: false,
            },
        ));
    }
    // Time order; at equal times messages before events, as the definitions read them.
    items.sort_by_key(|(at, item)| (*at, item.class == "event" || item.class == "survey"));
    let mut figures = Vec::new();
    let mut clocks = Vec::new();
    let seconds = |ms: Option<i64>| format::duration(ms.map(|m| m as f64 / 1000.0));
    if let Some(f) = &facts {
        let both = |cal: Option<i64>, bus: Option<i64>| {
            format!(
                "{} {} · {} {}",
                seconds(bus),
                t.business_time,
                seconds(cal),
                t.calendar_time
            )
        };
        figures.push(Figure {
            label: t.first_response.into(),
            value: if f.unanswered() {
                t.unanswered.into()
            } else if !f.inbound {
                "–".into()
            } else {
                both(f.first_response_millis, f.first_response_business_millis)
            },
        });
        figures.push(Figure {
            label: t.resolution.into(),
            value: if f.resolved {
                both(f.resolution_millis, f.resolution_business_millis)
            } else {
                t.not_resolved.into()
            },
        });
        figures.push(Figure {
            label: t.reopens.into(),
            value: f.reopens.to_string(),
        });
        figures.push(Figure {
            label: t.turns_per_conversation.into(),
            value: format!(
                "{} ({} {}, {} {})",
                f.agent_turns,
                f.customer_messages,
                t.customer,
                f.agent_messages,
                t.agent.to_lowercase()
            ),
        });
        figures.push(Figure {
            label: t.agent.into(),
            value: f.agent.clone().unwrap_or_else(|| t.unassigned.into()),
        });
        if let Some(ms) = f.first_response_millis {
            clocks.push((
                "fr",
                f.start,
                f.start + ms,
                format!(
                    "{}: {}",
                    t.first_response,
                    seconds(f.first_response_business_millis)
                ),
            ));
        }
        if let (true, Some(ms)) = (f.resolved, f.resolution_millis) {
            clocks.push((
                "res",
                f.start,
                f.start + ms,
                format!(
                    "{}: {}",
                    t.resolution,
                    seconds(f.resolution_business_millis)
                ),
            ));
        }
    }
    let times: Vec<i64> = items
        .iter()
        .map(|(at, _)| *at)
        .chain(c.header.as_ref().map(|h| h.created_at))
        .chain(clocks.iter().map(|c| c.2))
        .collect();
    let timeline = match (times.iter().min(), times.iter().max()) {
        (Some(&a), Some(&b)) => {
            let pad = ((b - a) / 20).max(15 * 60 * 1000);
            let (from, to) = (a - pad, b + pad);
            let open = calendar.open_intervals(from, to);
            let labels: Vec<(i64, String)> = (0..=5)
                .map(|k| {
                    let at = from + (to - from) * k / 5;
                    let label = if to - from > 2 * 86_400_000 {
                        local_date(at, &tz).strftime("%m-%d").to_string()
                    } else {
                        local_time(at, &tz)
                            .get(11..)
                            .unwrap_or_default()
                            .to_string()
                    };
                    (at, label)
                })
                .collect();
            let clock_refs: Vec<(&str, i64, i64, String)> = clocks
                .iter()
                .map(|(c, a, b, tip)| (*c, *a, *b, tip.clone()))
                .collect();
            svg::timeline(t.timeline, (from, to), &open, &marks, &clock_refs, &labels)
        }
        _ => String::new(),
    };
    let subtitle = c
        .header
        .as_ref()
        .map(|h| {
            let mut parts = vec![
                format::channel(h.channel.as_str(), lang),
                local_time(h.created_at, &tz),
            ];
            parts.extend(h.subject.clone());
            if !h.tags.is_empty() {
                parts.push(h.tags.join(", "));
            }
            parts.join(" · ")
        })
        .unwrap_or_default();
    Ok(render(&DetailPage {
        frame: Frame::new(lang, Some(signed_in.user.email)),
        workspace: access.workspace.name.clone(),
        id: c.id.clone(),
        subtitle,
        timeline,
        figures,
        items: items.into_iter().map(|(_, i)| i).collect(),
    })?
    .into_response())
}

/// Who wrote a message, in the reader's language.
fn author_label(author: Author, lang: Lang) -> &'static str {
    let t = lang.texts();
    match author {
        Author::Customer => t.author_customer,
        Author::Agent => t.author_agent,
        Author::Bot => t.author_bot,
        Author::Note => t.author_note,
    }
}

/// What an event was, in the reader's language.
fn event_label(kind: servicemeter_core::model::EventKind, lang: Lang) -> &'static str {
    use servicemeter_core::model::EventKind;
    let t = lang.texts();
    match kind {
        EventKind::Assigned => t.event_assigned,
        EventKind::Transferred => t.event_transferred,
        EventKind::Reopened => t.event_reopened,
        EventKind::Resolved => t.event_resolved,
    }
}
