//! What customers say: the feedback page. CSAT, NPS and CES with their answers, a 95 %
//! interval, the change and the target; how the scores are spread; the trend per day; the
//! figures per channel, agent and topic; and the answers themselves with their comments,
//! lowest scores first, each linking to its conversation. Period and filter as the overview.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use servicemeter_core::access::Role;
use servicemeter_core::feedback::{Feedback, KindFeedback, feedback};
use servicemeter_core::headline::Figure;
use servicemeter_core::model::SurveyKind;
use servicemeter_core::report::Summary;
use servicemeter_core::response_rates::{
    InvitationOutcome, ResponseCount, ResponseRates, response_rates,
};
use servicemeter_core::select::{Selection, SortKey, Subset, select};
use servicemeter_report::svg::{self, Axis, Bar};
use servicemeter_store::{Accounts, Store};
use std::collections::BTreeMap;

use crate::auth::{Access, Caller, SignedIn, workspace_access};
use crate::data::{self, FilterQuery, PeriodQuery};
use crate::error::WebError;
use crate::format;
use crate::i18n::Lang;
use crate::overview::{
    Drill, Nav, PageReports, PeriodForm, Tile, TileSpec, comparison_label, kind_label,
    page_reports, series,
};
use crate::pages::{Frame, render};
use crate::state::AppState;
use crate::table::{Cell, DataTable, Row};

/// Answers per page of the list.
pub const PER_PAGE: usize = 50;

/// The list part of the query: which kind, only the unhappy ones, the order, the page.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AnswersQuery {
    #[serde(flatten)]
    pub period: PeriodQuery,
    /// `csat` (default), `nps` or `ces`.
    pub kind: Option<String>,
    /// `1`: only unsatisfied (CSAT), detractors (NPS) or hard effort (CES).
    pub unhappy: Option<String>,
    /// `low` (default: lowest score first) or `new` (newest first).
    pub order: Option<String>,
    pub page: Option<usize>,
}

impl AnswersQuery {
    fn kind(&self) -> Result<SurveyKind, WebError> {
        match self.kind.as_deref().map(str::trim).unwrap_or("") {
            "" | "csat" => Ok(SurveyKind::Csat),
            "nps" => Ok(SurveyKind::Nps),
            "ces" => Ok(SurveyKind::Ces),
            other => Err(WebError::BadRequest(format!(
                "kind: '{other}' is not one of csat, nps, ces"
            ))),
        }
    }

    fn newest_first(&self) -> Result<bool, WebError> {
        match self.order.as_deref().map(str::trim).unwrap_or("") {
            "" | "low" => Ok(false),
            "new" => Ok(true),
            other => Err(WebError::BadRequest(format!(
                "order: '{other}' is not one of low, new"
            ))),
        }
    }

    fn unhappy(&self) -> bool {
        self.unhappy.as_deref() == Some("1")
    }
}

fn kind_key(kind: SurveyKind) -> &'static str {
    match kind {
        SurveyKind::Csat => "csat",
        SurveyKind::Nps => "nps",
        SurveyKind::Ces => "ces",
    }
}

/// A distribution chart of one kind's scores.
struct Spread {
    caption: String,
    svg: String,
    /// The same numbers as a table (accessibility and copying).
    rows: Vec<(String, String)>,
}

/// One answer of the list.
struct Answer {
    cells: Vec<Cell>,
    comment: String,
}

#[derive(Template)]
#[template(path = "feedback.html")]
struct FeedbackPage {
    frame: Frame,
    nav: Nav,
    form: PeriodForm,
    workspace: String,
    period: String,
    previous_period: String,
    compared_word: &'static str,
    tiles: Vec<Tile>,
    spreads: Vec<Spread>,
    trend: String,
    trend_caption: String,
    /// The trend as a table (per day, week or month: the value with its n).
    trend_rows: Vec<(String, String)>,
    tables: Vec<(&'static str, DataTable)>,
    /// Whether the reader may read the answers (viewers see figures only).
    sees_answers: bool,
    kinds: Vec<(&'static str, &'static str, bool)>,
    unhappy: bool,
    newest_first: bool,
    answers: Vec<Answer>,
    total: String,
    page: usize,
    pages: usize,
    previous_href: String,
    next_href: String,
}

fn interval_text(kind: SurveyKind, f: &KindFeedback, lang: Lang) -> String {
    let t = lang.texts();
    let Some((lo, hi)) = f.interval else {
        return String::new();
    };
    let shown = match kind {
        SurveyKind::Csat => format!(
            "{}–{}",
            format::number(Some(lo.max(0.0)), 1, lang),
            format::pct(Some(hi.min(100.0)), lang)
        ),
        SurveyKind::Nps => format!(
            "{}–{}",
            format::signed(Some(lo.max(-100.0))),
            format::signed(Some(hi.min(100.0)))
        ),
        SurveyKind::Ces => format!(
            "{}–{}",
            format::number(Some(lo), 2, lang),
            format::number(Some(hi), 2, lang)
        ),
    };
    format!("{} {shown}", t.interval_95)
}

fn spread(label: &str, f: &KindFeedback, lang: Lang) -> Spread {
    let t = lang.texts();
    let several_scales = f
        .scores
        .windows(2)
        .any(|w| (w[0].min, w[0].max) != (w[1].min, w[1].max));
    let label_of = |s: &servicemeter_core::feedback::ScoreCount| {
        let score = format::number(
            Some(s.score),
            if s.score.fract() == 0.0 { 0 } else { 1 },
            lang,
        );
        if several_scales {
            format!("{score} ({}–{})", s.min, s.max)
        } else {
            score
        }
    };
    let bars: Vec<Bar> = f
        .scores
        .iter()
        .map(|s| Bar {
            label: label_of(s),
            value: s.count as f64,
            tooltip: format!("{}: {} (n = {})", label_of(s), s.count, f.responses),
        })
        .collect();
    let caption = format!(
        "{label}: {} ({})",
        t.score_spread,
        format::responses(f.responses, lang)
    );
    Spread {
        svg: if f.responses == 0 {
            String::new()
        } else {
            let count = |v: f64| format!("{v:.0}");
            svg::bar_chart(
                &caption,
                &bars,
                &svg::ValueAxis {
                    kind: Axis::Count,
                    title: t.axis_answers,
                    format: &count,
                },
                t.no_chart_data,
            )
        },
        rows: f
            .scores
            .iter()
            .map(|s| (label_of(s), s.count.to_string()))
            .collect(),
        caption,
    }
}

/// A table of the survey figures per channel, agent or topic.
fn survey_table(
    id: &'static str,
    first: &str,
    rows: &std::collections::BTreeMap<String, Summary>,
    drill: Option<&Drill>,
    kind: &str,
    lang: Lang,
) -> DataTable {
    let t = lang.texts();
    let shown = |f: Figure, s: &Summary| Cell::num(format::figure(f, s, lang));
    DataTable {
        id,
        headers: vec![
            first.to_string(),
            t.csat.to_string(),
            t.nps.to_string(),
            t.ces.to_string(),
        ],
        rows: rows
            .iter()
            .filter(|(_, s)| s.csat.responses + s.nps.responses + s.ces.responses > 0)
            .map(|(name, s)| Row {
                class: String::new(),
                cells: vec![
                    Cell::link(
                        kind_label(kind, name, lang),
                        drill.map(|d| d.narrowed(kind, name)).unwrap_or_default(),
                    ),
                    shown(Figure::Csat, s),
                    shown(Figure::Nps, s),
                    shown(Figure::Ces, s),
                ],
            })
            .collect(),
        csv_href: String::new(),
    }
}

/// The response-rate table: all conversations, then per channel, agent (unless `agents` is
/// false) and team, one row per kind that was sent or answered.
fn response_table(rates: &ResponseRates, agents: bool, lang: Lang) -> DataTable {
    let t = lang.texts();
    let mut rows = Vec::new();
    let mut add = |group: String, counts: &BTreeMap<SurveyKind, ResponseCount>| {
        for (kind, c) in counts {
            rows.push(Row {
                class: String::new(),
                cells: vec![
                    Cell::text(group.clone()),
                    Cell::text(match kind {
                        SurveyKind::Csat => t.csat,
                        SurveyKind::Nps => t.nps,
                        SurveyKind::Ces => t.ces,
                    }),
                    Cell::num(format::count(c.sent)),
                    Cell::num(format::count(c.answered)),
                    Cell::num(format::pct(c.rate().map(|r| r * 100.0), lang)),
                    Cell::num(format::count(c.link_answers)),
                ],
            });
        }
    };
    add(t.response_all.to_string(), &rates.total);
    for (channel, counts) in &rates.by_channel {
        add(
            format!("{}: {}", t.channel, format::channel(channel, lang)),
            counts,
        );
    }
    if agents {
        for (agent, counts) in &rates.by_agent {
            add(
                format!("{}: {}", t.agent, kind_label("agent", agent, lang)),
                counts,
            );
        }
    }
    for (team, counts) in &rates.by_team {
        add(
            format!("{}: {}", t.team, kind_label("team", team, lang)),
            counts,
        );
    }
    DataTable {
        id: "response-rates",
        headers: vec![
            t.response_group.to_string(),
            t.survey_kind.to_string(),
            t.surveys_sent.to_string(),
            t.surveys_answered.to_string(),
            t.response_rate.to_string(),
            t.link_answers.to_string(),
        ],
        rows,
        csv_href: String::new(),
    }
}

/// Everything the feedback page shows.
async fn feedback_page<S: Store + Accounts>(
    state: &AppState<S>,
    lang: Lang,
    email: String,
    access: &Access,
    query: AnswersQuery,
    filter: FilterQuery,
) -> Result<FeedbackPage, WebError> {
    let t = lang.texts();
    let kind = query.kind()?;
    let newest_first = query.newest_first()?;
    let period_query = query.period.clone().or_last_7_days();
    let mut filter = filter;
    if access.role == Role::Agent {
        filter.0.agents.clear();
    }
    let PageReports {
        report,
        config,
        all,
        grain,
        trend: trend_report,
    } = page_reports(state, &access.workspace, &period_query, &filter.0).await?;
    let table = data::facts(state, &access.workspace).await?;
    let bounds = report.period.map(|p| p.bounds(&config.timezone));
    let spread_filter = filter.0.clone();
    let table_for_spread = table.clone();
    let answers_of: Feedback =
        tokio::task::spawn_blocking(move || feedback(&table_for_spread, bounds, &spread_filter))
            .await
            .map_err(|e| WebError::Internal(e.into()))?;

    let ws = &access.workspace.name;
    let period_only = period_query.link(report.period);
    let page_qs = data::join_query(&[&period_only, &filter.link()]);
    let drill = Drill::new(ws, &period_only, &filter.0);
    let drill = access.role.sees_conversations().then_some(&drill);
    let s = &report.summary;
    let responses = |n: u64| format::responses(n, lang);
    let tiles: Vec<Tile> = [
        (Figure::Csat, t.csat, SurveyKind::Csat, s.csat.responses),
        (Figure::Nps, t.nps, SurveyKind::Nps, s.nps.responses),
        (Figure::Ces, t.ces, SurveyKind::Ces, s.ces.responses),
    ]
    .into_iter()
    .map(|(figure, label, kind, n)| {
        let interval = interval_text(kind, answers_of.kind(kind), lang);
        let detail = if interval.is_empty() {
            responses(n)
        } else {
            format!("{}; {interval}", responses(n))
        };
        crate::overview::tile(
            TileSpec {
                label,
                figure,
                detail,
            },
            &report,
            lang,
            drill,
        )
    })
    .collect();
    let spreads = vec![
        spread(t.csat, &answers_of.csat, lang),
        spread(t.nps, &answers_of.nps, lang),
        spread(t.ces, &answers_of.ces, lang),
    ];
    let trend_chart = crate::overview::csat_trend(
        grain,
        &[crate::overview::TrendLine {
            name: "",
            points: series(&trend_report, grain),
            class: "line",
        }],
        config.targets.csat_pct,
        lang,
    );
    let trend_caption = trend_chart.caption.clone();
    let trend = trend_chart.svg.clone();
    let empty = Default::default();
    let export = |table: DataTable| DataTable {
        csv_href: format!("/w/{ws}/export/feedback-{}?{page_qs}", table.id),
        ..table
    };
    let mut tables = vec![
        (
            t.channel,
            export(survey_table(
                "channels",
                t.channel,
                &report.by_channel,
                drill,
                "channel",
                lang,
            )),
        ),
        (
            t.topics,
            export(survey_table(
                "topics",
                t.topic,
                report.by_tag.as_ref().unwrap_or(&empty),
                drill,
                "tag",
                lang,
            )),
        ),
    ];
    if access.role != Role::Agent {
        tables.insert(
            1,
            (
                t.agents,
                export(survey_table(
                    "agents",
                    t.agent,
                    &report.by_agent,
                    drill,
                    "agent",
                    lang,
                )),
            ),
        );
    }

    // Response rates of the surveys servicemeter mailed in the period.
    let (from, to) = bounds.unwrap_or((i64::MIN, i64::MAX));
    let invitations = state
        .store
        .sent_invitations(access.workspace.id, from, to)
        .await?;
    let rates = response_rates(
        &table,
        &filter.0,
        invitations.iter().map(|i| InvitationOutcome {
            conversation: &i.conversation,
            kind: i.kind,
            mailed: i.sent_at.is_some(),
            answered: i.answered_at.is_some(),
        }),
    );
    tables.push((
        t.response_rates,
        export(response_table(&rates, access.role != Role::Agent, lang)),
    ));

    // The answers: the conversations with an answer of the kind, lowest first.
    let sees_answers = access.role.sees_conversations();
    let mut answers = Vec::new();
    let (mut total, mut page, mut pages) = (0, 1, 1);
    if sees_answers {
        let mut list_filter = filter.0.clone();
        if !access.role.sees_all_conversations() {
            list_filter.agents = vec![access.agent_name.clone().unwrap_or_default()];
        }
        let subset = match (kind, query.unhappy()) {
            (SurveyKind::Csat, false) => Subset::Csat,
            (SurveyKind::Csat, true) => Subset::Unsatisfied,
            (SurveyKind::Nps, false) => Subset::Nps,
            (SurveyKind::Nps, true) => Subset::Detractors,
            (SurveyKind::Ces, false) => Subset::Ces,
            (SurveyKind::Ces, true) => Subset::HardEffort,
        };
        let (sort, descending) = if newest_first {
            (SortKey::Start, true)
        } else {
            (
                match kind {
                    SurveyKind::Csat => SortKey::Csat,
                    SurveyKind::Nps => SortKey::Nps,
                    SurveyKind::Ces => SortKey::Ces,
                },
                false,
            )
        };
        let selection = Selection {
            start_between: bounds,
            filter: list_filter,
            subset,
        };
        let config_for_select = config.clone();
        let table_for_select = table.clone();
        let rows = tokio::task::spawn_blocking(move || {
            select(
                &table_for_select,
                &config_for_select,
                &selection,
                sort,
                descending,
            )
        })
        .await
        .map_err(|e| WebError::Internal(e.into()))?;
        total = rows.len();
        pages = total.div_ceil(PER_PAGE).max(1);
        page = query.page.unwrap_or(1).clamp(1, pages);
        for &i in rows.iter().skip((page - 1) * PER_PAGE).take(PER_PAGE) {
            let id = table.conversation(i);
            let n = table.numbers(i);
            let score = n.listed(kind);
            // The comment of the latest answer of the kind, from the stored conversation.
            let comment = state
                .store
                .conversation(access.workspace.id, id)
                .await?
                .and_then(|c| {
                    c.surveys
                        .iter()
                        .filter(|s| s.kind == kind)
                        .max_by_key(|s| s.at)
                        .and_then(|s| s.comment.clone())
                })
                .unwrap_or_default();
            let agent = table.agent_index(i);
            answers.push(Answer {
                cells: vec![
                    Cell::text(crate::conversations::local_time(
                        table.start(i),
                        &config.timezone,
                    )),
                    Cell::link(
                        id,
                        format!("/w/{ws}/conversations/{}", crate::overview::query_value(id)),
                    ),
                    Cell::text(format::channel(table.name(table.channel_index(i)), lang)),
                    Cell::text(if agent == servicemeter_core::table::NO_NAME {
                        t.unassigned.to_string()
                    } else {
                        table.name(agent).to_string()
                    }),
                    Cell::num(
                        score
                            .map(|a| {
                                format!(
                                    "{} / {}",
                                    format::number(Some(a.score), 0, lang),
                                    format::number(Some(a.scale.max), 0, lang)
                                )
                            })
                            .unwrap_or_default(),
                    ),
                ],
                comment,
            });
        }
    }
    let list_qs = |p: usize| {
        let mut parts = vec![page_qs.clone(), format!("kind={}", kind_key(kind))];
        if query.unhappy() {
            parts.push("unhappy=1".into());
        }
        if newest_first {
            parts.push("order=new".into());
        }
        parts.push(format!("page={p}"));
        format!(
            "/w/{ws}/feedback?{}",
            data::join_query(&parts.iter().map(String::as_str).collect::<Vec<_>>())
        )
    };
    let compared_word = match report.previous.as_ref().map(|p| p.against) {
        Some(servicemeter_core::periods::Against::YearEarlier) => t.year_earlier,
        _ => t.previous_period,
    };
    let mut form = PeriodForm::new(
        format!("/w/{ws}/feedback"),
        &period_query,
        &report,
        &all,
        &filter.0,
        access.role,
        lang,
    );
    form.hidden = vec![("kind".into(), kind_key(kind).into())];
    Ok(FeedbackPage {
        frame: Frame::new(lang, Some(email)),
        nav: Nav::new(ws, "feedback", &page_qs, access.role),
        form,
        workspace: ws.clone(),
        period: report
            .period
            .map(|p| format::period(p, lang))
            .unwrap_or_default(),
        previous_period: comparison_label(&report, lang),
        compared_word,
        tiles,
        spreads,
        trend,
        trend_caption,
        trend_rows: trend_chart.rows,
        tables,
        sees_answers,
        kinds: [
            ("csat", t.csat, kind == SurveyKind::Csat),
            ("nps", t.nps, kind == SurveyKind::Nps),
            ("ces", t.ces, kind == SurveyKind::Ces),
        ]
        .to_vec(),
        unhappy: query.unhappy(),
        newest_first,
        answers,
        total: format::count(total as u64),
        page,
        pages,
        previous_href: if page > 1 {
            list_qs(page - 1)
        } else {
            String::new()
        },
        next_href: if page < pages {
            list_qs(page + 1)
        } else {
            String::new()
        },
    })
}

/// `GET /w/{workspace}/feedback`.
pub async fn page<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Query(query): Query<AnswersQuery>,
    filter: FilterQuery,
) -> Result<Response, WebError> {
    let caller = Caller::User(signed_in.user.clone());
    let access = workspace_access(&*state.store, &caller, &name).await?;
    let page = feedback_page(&state, lang, signed_in.user.email, &access, query, filter).await?;
    Ok(render(&page)?.into_response())
}

/// A table of the feedback page (`channels`, `agents`, `topics`), for its download.
pub async fn table<S: Store + Accounts>(
    state: &AppState<S>,
    lang: Lang,
    email: String,
    access: &Access,
    query: PeriodQuery,
    filter: FilterQuery,
    which: &str,
) -> Result<DataTable, WebError> {
    let page = feedback_page(
        state,
        lang,
        email,
        access,
        AnswersQuery {
            period: query,
            ..AnswersQuery::default()
        },
        filter,
    )
    .await?;
    page.tables
        .into_iter()
        .map(|(_, t)| t)
        .find(|t| t.id == which)
        .ok_or(WebError::NotFound)
}
