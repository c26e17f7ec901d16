//! A workspace's overview: figure tiles against targets and the previous period, charts,
//! and the channel, agent and topic tables, each linking to the conversations behind it.
//! Everything shown comes from the report and core's distributions; this module formats.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use servicemeter_core::Report;
use servicemeter_core::access::Role;
use servicemeter_core::coaching::{AgentFlag, agent_flags, faq_candidates};
use servicemeter_core::distribution::{FIRST_RESPONSE_BUCKET_LABELS, open_hours_grid};
use servicemeter_core::headline::{Figure, Trend, Unit};
use servicemeter_core::report::{GroupBy, Period, Summary};
use servicemeter_report::svg::{self, Bar};
use servicemeter_store::{Accounts, Store};

use crate::auth::{Caller, SignedIn, workspace_access};
use crate::data::{self, PeriodQuery};
use crate::error::WebError;
use crate::format;
use crate::i18n::Lang;
use crate::pages::{Frame, render};
use crate::state::AppState;

/// Percent-encodes a query value.
pub fn query_value(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn drill_link(base: Option<&str>, key: &str, value: &str) -> String {
    base.map(|b| format!("{b}&{key}={}", query_value(value)))
        .unwrap_or_default()
}

/// One figure of the overview.
pub struct Tile {
    pub label: &'static str,
    /// The conversations behind the figure (empty when the role may not see them).
    pub href: String,
    pub value: String,
    pub detail: String,
    pub previous: String,
    pub delta: String,
    /// `better`, `worse` or empty.
    pub trend: &'static str,
    /// `met`, `missed` or empty (no target).
    pub status: &'static str,
}

struct TileSpec {
    label: &'static str,
    /// Subset and order of the conversations behind the figure.
    drill: (&'static str, &'static str),
    /// The figure (value, kind, which way is better) from the catalog.
    figure: Figure,
    shown: fn(Option<f64>, Lang) -> String,
    detail: String,
    target_met: Option<bool>,
}

fn tile(
    spec: TileSpec,
    now: &Summary,
    before: Option<&Summary>,
    lang: Lang,
    drill_base: Option<&str>,
) -> Tile {
    // The one change computation (core::headline), written for the page.
    let (current, previous) = (spec.figure.value(now), before.map(|b| spec.figure.value(b)));
    let (delta, trend) = match spec.figure.change(now, before) {
        Some(c) => {
            let a = c.amount;
            let sign = if a > 0.0 {
                "+"
            } else if a < 0.0 {
                "−"
            } else {
                ""
            };
            let text = match c.unit {
                Unit::Relative => format!("{sign}{:.1}%", a.abs()),
                Unit::Points => format!("{sign}{:.1} pt", a.abs()),
                Unit::Seconds => format!("{sign}{}", format::duration(Some(a.abs()))),
                Unit::Plain(d) => format!("{sign}{:.*}", usize::from(d), a.abs()),
            };
            let text = match lang {
                Lang::Nl => text.replace('.', ","),
                Lang::En => text,
            };
            let trend = match c.trend {
                Trend::Better => "better",
                Trend::Worse => "worse",
                Trend::Same => "",
            };
            (text, trend)
        }
        None => (String::new(), ""),
    };
    Tile {
        label: spec.label,
        href: drill_base
            .map(|base| format!("{base}&subset={}&sort={}", spec.drill.0, spec.drill.1))
            .unwrap_or_default(),
        value: (spec.shown)(current, lang),
        detail: spec.detail,
        previous: previous.map(|p| (spec.shown)(p, lang)).unwrap_or_default(),
        delta,
        trend,
        status: match spec.target_met {
            Some(true) => "met",
            Some(false) => "missed",
            None => "",
        },
    }
}

/// The overview's figures, in order.
fn tiles(report: &Report, lang: Lang, drill_base: Option<&str>) -> Vec<Tile> {
    let t = lang.texts();
    let s = &report.summary;
    let p = report.previous.as_ref().map(|p| &p.summary);
    let first_response_met = {
        let checks: Vec<_> = report
            .targets
            .median_first_response_seconds
            .values()
            .filter_map(|c| c.met)
            .collect();
        (!checks.is_empty()).then(|| checks.iter().all(|&m| m))
    };
    let pct = |v, l| format::pct(v, l);
    let specs = vec![
        TileSpec {
            label: t.conversations,
            drill: ("all", "start"),
            figure: Figure::Conversations,
            shown: |v, _| v.map_or_else(|| "–".into(), |v| format::count(v as u64)),
            detail: String::new(),
            target_met: None,
        },
        TileSpec {
            label: t.first_response,
            drill: ("answered", "first-response"),
            figure: Figure::FirstResponseMedian,
            shown: |v, _| format::duration(v),
            detail: format!(
                "{}; {} {}",
                t.median_business,
                format::pct(s.first_response.within_target_pct, lang),
                t.within_target
            ),
            target_met: first_response_met,
        },
        TileSpec {
            label: t.resolution_time,
            drill: ("resolved", "resolution"),
            figure: Figure::ResolutionTimeMedian,
            shown: |v, _| format::duration(v),
            detail: t.median_business.to_string(),
            target_met: None,
        },
        TileSpec {
            label: t.resolution_rate,
            drill: ("unresolved", "start"),
            figure: Figure::ResolutionRate,
            shown: pct,
            detail: format!(
                "{} {}",
                t.target,
                format::pct(Some(report.targets.resolution_pct.target), lang)
            ),
            target_met: report.targets.resolution_pct.met,
        },
        TileSpec {
            label: t.reopen_rate,
            drill: ("reopened", "reopens"),
            figure: Figure::ReopenRate,
            shown: pct,
            detail: String::new(),
            target_met: None,
        },
        TileSpec {
            label: t.one_touch,
            drill: ("one-touch", "start"),
            figure: Figure::OneTouch,
            shown: pct,
            detail: String::new(),
            target_met: None,
        },
        TileSpec {
            label: t.replies_per_conversation,
            drill: ("all", "turns"),
            figure: Figure::RepliesPerConversation,
            shown: |v, l| format::number(v, 2, l),
            detail: String::new(),
            target_met: None,
        },
        TileSpec {
            label: t.csat,
            drill: ("unsatisfied", "csat"),
            figure: Figure::Csat,
            shown: pct,
            detail: format!("{} {}", format::count(s.csat.responses), t.responses),
            target_met: report.targets.csat_pct.met,
        },
        TileSpec {
            label: t.nps,
            drill: ("nps", "start"),
            figure: Figure::Nps,
            shown: |v, _| format::signed(v),
            detail: format!("{} {}", format::count(s.nps.responses), t.responses),
            target_met: None,
        },
        TileSpec {
            label: t.ces,
            drill: ("ces", "start"),
            figure: Figure::Ces,
            shown: |v, l| format::number(v, 2, l),
            detail: format!("{} {}", format::count(s.ces.responses), t.responses),
            target_met: None,
        },
    ];
    specs
        .into_iter()
        .map(|spec| tile(spec, s, p, lang, drill_base))
        .collect()
}

/// A row of the channels table.
struct ChannelRow {
    name: String,
    href: String,
    conversations: String,
    first_response: String,
    target: String,
    within_target: String,
    status: &'static str,
    resolution_rate: String,
    csat: String,
    turns: String,
}

fn channel_rows(report: &Report, lang: Lang, drill_base: Option<&str>) -> Vec<ChannelRow> {
    report
        .by_channel
        .iter()
        .map(|(name, s)| {
            let check = report.targets.median_first_response_seconds.get(name);
            let target = report
                .targets
                .first_response_seconds
                .get(name)
                .copied()
                .unwrap_or(report.targets.first_response_default_seconds);
            ChannelRow {
                name: name.clone(),
                href: drill_link(drill_base, "channel", name),
                conversations: format::count(s.conversations),
                first_response: format::duration(s.first_response.median_business_seconds),
                target: format::duration(Some(target)),
                within_target: format::pct(s.first_response.within_target_pct, lang),
                status: match check.and_then(|c| c.met) {
                    Some(true) => "met",
                    Some(false) => "missed",
                    None => "",
                },
                resolution_rate: format::pct(s.resolution.resolution_rate_pct, lang),
                csat: format::pct(s.csat.satisfied_pct, lang),
                turns: format::number(s.messages.agent_turns_per_conversation, 2, lang),
            }
        })
        .collect()
}

/// A preset link above the overview.
struct PresetLink {
    key: &'static str,
    label: &'static str,
    active: bool,
}

fn period_label(p: Option<Period>) -> String {
    match p {
        Some(p) if p.from == p.to => p.from.to_string(),
        Some(p) => format!("{} – {}", p.from, p.to),
        None => String::new(),
    }
}

/// The charts of the overview, as SVG.
struct Charts {
    volume: String,
    first_response_trend: String,
    csat_trend: String,
    heatmap: String,
    first_response_distribution: String,
}

/// Every day of the period (or of the data, for all data) with its figures, or `None`.
fn daily(report: &Report, period: Option<Period>) -> Vec<(String, Option<&Summary>)> {
    let by_day = report.by_day.as_ref();
    let Some(period) = period.or_else(|| {
        let days = by_day?;
        let first = days.keys().next()?.parse().ok()?;
        let last = days.keys().next_back()?.parse().ok()?;
        Some(Period {
            from: first,
            to: last,
        })
    }) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut day = period.from;
    // At most about three years of daily points in one chart.
    while day <= period.to && out.len() < 1200 {
        let key = day.to_string();
        let summary = by_day.and_then(|d| d.get(&key));
        out.push((key, summary));
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    out
}

fn charts(
    report: &Report,
    distributions: &data::Distributions,
    config: &servicemeter_core::WorkspaceConfig,
    lang: Lang,
) -> Charts {
    let t = lang.texts();
    let days = daily(report, report.period);
    let short = |d: &str| d.get(5..).unwrap_or(d).to_string();
    let bars: Vec<Bar> = days
        .iter()
        .map(|(d, s)| {
            let n = s.map_or(0, |s| s.conversations);
            Bar {
                label: short(d),
                value: n as f64,
                tooltip: format!("{d}: {n}"),
            }
        })
        .collect();
    let volume = svg::bar_chart(t.volume_per_day, &bars, &|v| format!("{v:.0}"));
    let fr_points: Vec<(String, Option<f64>)> = days
        .iter()
        .map(|(d, s)| {
            (
                short(d),
                s.and_then(|s| s.first_response.median_business_seconds),
            )
        })
        .collect();
    let first_response_trend = svg::line_chart(t.first_response_trend, &fr_points, None, &|v| {
        format::duration(Some(v))
    });
    let csat_points: Vec<(String, Option<f64>)> = days
        .iter()
        .map(|(d, s)| (short(d), s.and_then(|s| s.csat.satisfied_pct)))
        .collect();
    let csat_trend = svg::line_chart(
        t.csat_trend,
        &csat_points,
        Some(config.targets.csat_pct),
        &|v| format!("{v:.0}%"),
    );
    let heatmap = svg::heatmap(
        t.arrivals_heatmap,
        &distributions.arrivals,
        &open_hours_grid(&config.default_week),
        lang.weekdays(),
    );
    let buckets = distributions.first_response_buckets;
    let bucket_bars: Vec<Bar> = FIRST_RESPONSE_BUCKET_LABELS
        .iter()
        .zip(buckets)
        .map(|(label, n)| Bar {
            label: label.to_string(),
            value: n as f64,
            tooltip: format!("{label}: {n}"),
        })
        .collect();
    let first_response_distribution =
        svg::bar_chart(t.first_response_distribution, &bucket_bars, &|v| {
            format!("{v:.0}")
        });
    Charts {
        volume,
        first_response_trend,
        csat_trend,
        heatmap,
        first_response_distribution,
    }
}

/// A row of the agents table (the team first).
struct AgentRow {
    name: String,
    href: String,
    team: bool,
    conversations: String,
    first_response: String,
    within_target: String,
    resolution_rate: String,
    csat: String,
    turns: String,
    /// Explanations of the flags, in words.
    flags: Vec<String>,
}

fn flag_text(flag: &AgentFlag, lang: Lang) -> String {
    let t = lang.texts();
    match flag {
        AgentFlag::CsatBelowTeam {
            upper_pct,
            team_pct,
        } => format!(
            "{} ({}) {} ({}).",
            t.csat_below_team,
            format::pct(Some(*upper_pct), lang),
            t.below_team_rate,
            format::pct(Some(*team_pct), lang)
        ),
        AgentFlag::SlowFirstResponse {
            median_seconds,
            team_median_seconds,
            answered,
        } => format!(
            "{} {} {} {} ({} {answered} {}).",
            t.slow_first_response,
            format::duration(Some(*median_seconds)),
            t.against_team,
            format::duration(Some(*team_median_seconds)),
            t.over_answers,
            t.answers
        ),
    }
}

fn agent_row(
    name: &str,
    s: &Summary,
    team: Option<&Summary>,
    href: String,
    lang: Lang,
) -> AgentRow {
    AgentRow {
        name: name.to_string(),
        href,
        team: team.is_none(),
        conversations: format::count(s.conversations),
        first_response: format::duration(s.first_response.median_business_seconds),
        within_target: format::pct(s.first_response.within_target_pct, lang),
        resolution_rate: format::pct(s.resolution.resolution_rate_pct, lang),
        csat: format!(
            "{} ({})",
            format::pct(s.csat.satisfied_pct, lang),
            format::count(s.csat.responses)
        ),
        turns: format::number(s.messages.agent_turns_per_conversation, 2, lang),
        flags: team
            .map(|team| {
                agent_flags(team, s)
                    .iter()
                    .map(|f| flag_text(f, lang))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// A row of the topics table.
struct TopicRow {
    name: String,
    href: String,
    conversations: String,
    first_response: String,
    csat: String,
    turns: String,
    faq: bool,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    frame: Frame,
    workspace: String,
    role: &'static str,
    period: String,
    previous_period: String,
    from: String,
    to: String,
    presets: Vec<PresetLink>,
    has_data: bool,
    tiles: Vec<Tile>,
    channels: Vec<ChannelRow>,
    agents: Vec<AgentRow>,
    topics: Vec<TopicRow>,
    charts: Charts,
    conversations_href: String,
}

pub async fn overview<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, WebError> {
    let caller = Caller::User(signed_in.user.clone());
    let access = workspace_access(&*state.store, &caller, &name).await?;
    let query = query.or_last_7_days();
    let by = [GroupBy::Tag, GroupBy::Day];
    let (report, config) = data::report(&state, &access.workspace, &query, &by).await?;
    let distributions = data::distributions(&state, &access.workspace, &query).await?;
    let t = lang.texts();
    let ws = &access.workspace.name;
    let period_qs = report
        .period
        .map(|p| format!("from={}&to={}", p.from, p.to))
        .unwrap_or_default();
    let list = format!("/w/{ws}/conversations?{period_qs}");
    // Viewers see figures only; the others may open the conversations behind them.
    let drill = access.role.sees_conversations().then_some(list.as_str());
    let active = query.preset.as_deref().unwrap_or("");
    let presets = [
        ("today", t.today),
        ("7d", t.last_7_days),
        ("month", t.this_month),
        ("last-month", t.last_month),
    ]
    .into_iter()
    .map(|(key, label)| PresetLink {
        key,
        label,
        active: key == active,
    })
    .collect();
    let mut agents = vec![agent_row(
        t.team,
        &report.summary,
        None,
        String::new(),
        lang,
    )];
    let own = access.agent_name.as_deref();
    for (agent, s) in &report.by_agent {
        // An agent sees their own line beside the team's, not their colleagues'.
        if access.role == Role::Agent && Some(agent.as_str()) != own {
            continue;
        }
        let href = if agent == "(unassigned)" {
            drill
                .map(|b| format!("{b}&unassigned=1"))
                .unwrap_or_default()
        } else {
            format!("/w/{ws}/agents/{}?{period_qs}", query_value(agent))
        };
        agents.push(agent_row(agent, s, Some(&report.summary), href, lang));
    }
    let empty = Default::default();
    let by_tag = report.by_tag.as_ref().unwrap_or(&empty);
    let candidates = faq_candidates(by_tag, &report.summary);
    let topics = by_tag
        .iter()
        .map(|(tag, s)| TopicRow {
            name: tag.clone(),
            href: drill_link(drill, "tag", tag),
            conversations: format::count(s.conversations),
            first_response: format::duration(s.first_response.median_business_seconds),
            csat: format::pct(s.csat.satisfied_pct, lang),
            turns: format::number(s.messages.agent_turns_per_conversation, 2, lang),
            faq: candidates.contains(tag),
        })
        .collect();
    let charts = charts(&report, &distributions, &config, lang);
    Ok(render(&OverviewPage {
        frame: Frame::new(lang, Some(signed_in.user.email)),
        workspace: ws.clone(),
        role: access.role.as_str(),
        period: period_label(report.period),
        previous_period: period_label(report.previous.as_ref().map(|p| p.period)),
        from: report
            .period
            .map(|p| p.from.to_string())
            .unwrap_or_default(),
        to: report.period.map(|p| p.to.to_string()).unwrap_or_default(),
        presets,
        has_data: report.summary.conversations > 0,
        tiles: tiles(&report, lang, drill),
        channels: channel_rows(&report, lang, drill),
        agents,
        topics,
        charts,
        conversations_href: drill.map(str::to_string).unwrap_or_default(),
    })?
    .into_response())
}

/// One figure of an agent beside the team's.
struct Comparison {
    label: &'static str,
    agent: String,
    team: String,
}

#[derive(Template)]
#[template(path = "agent.html")]
struct AgentPage {
    frame: Frame,
    workspace: String,
    agent: String,
    period: String,
    rows: Vec<Comparison>,
    flags: Vec<String>,
    conversations_href: String,
}

/// `GET /w/{workspace}/agents/{name}`: an agent's figures beside the team's, for the period.
pub async fn agent<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path((name, agent)): Path<(String, String)>,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, WebError> {
    let caller = Caller::User(signed_in.user.clone());
    let access = workspace_access(&*state.store, &caller, &name).await?;
    if access.role == Role::Agent && access.agent_name.as_deref() != Some(agent.as_str()) {
        return Err(WebError::NotFound);
    }
    let query = query.or_last_7_days();
    let (report, _) = data::report(&state, &access.workspace, &query, &[]).await?;
    let own = report.by_agent.get(&agent).ok_or(WebError::NotFound)?;
    let team = &report.summary;
    let t = lang.texts();
    let rows = [
        (Figure::Conversations, t.conversations),
        (Figure::FirstResponseMedian, t.first_response),
        (Figure::FirstResponseWithinTarget, t.within_target),
        (Figure::ResolutionTimeMedian, t.resolution_time),
        (Figure::ResolutionRate, t.resolution_rate),
        (Figure::ReopenRate, t.reopen_rate),
        (Figure::OneTouch, t.one_touch),
        (Figure::TurnsPerConversation, t.turns_per_conversation),
        (Figure::Csat, t.csat),
        (Figure::Nps, t.nps),
        (Figure::Ces, t.ces),
    ]
    .into_iter()
    .map(|(figure, label)| Comparison {
        label,
        agent: format::figure(figure, own, lang),
        team: format::figure(figure, team, lang),
    })
    .collect();
    let period_qs = report
        .period
        .map(|p| format!("from={}&to={}", p.from, p.to))
        .unwrap_or_default();
    let ws = &access.workspace.name;
    Ok(render(&AgentPage {
        frame: Frame::new(lang, Some(signed_in.user.email)),
        workspace: ws.clone(),
        agent: agent.clone(),
        period: period_label(report.period),
        rows,
        flags: agent_flags(team, own)
            .iter()
            .map(|f| flag_text(f, lang))
            .collect(),
        conversations_href: if access.role.sees_conversations() {
            format!(
                "/w/{ws}/conversations?{period_qs}&agent={}",
                query_value(&agent)
            )
        } else {
            String::new()
        },
    })?
    .into_response())
}
