//! The report document: one period's headline figures against their targets and the period
//! before, what needs attention, the trends, channels, agents, teams and topics, and what
//! unhappy customers wrote — built once, in the reader's language, from a computed report, and
//! written as an HTML e-mail or page ([`html`]), a PDF ([`pdf`]) with its charts drawn from the
//! same SVG as the dashboard's ([`raster`] for the e-mail's PNG pictures).
//!
//! The document renders what core computed; it never recomputes a figure. What needs attention
//! comes from [`servicemeter_core::attention`], the changes and target checks from the headline
//! catalog, so the report says what the dashboard says.

pub mod html;
pub mod pdf;
pub mod raster;

use servicemeter_core::WorkspaceConfig;
use servicemeter_core::attention::{Attention, attention};
use servicemeter_core::filter::Filter;
use servicemeter_core::headline::Figure;
use servicemeter_core::model::{SurveyFields, SurveyKind};
use servicemeter_core::periods::Compared;
use servicemeter_core::report::{GroupBy, NO_TEAM, Report};
use servicemeter_core::table::FactTable;
use servicemeter_report::parallel::build_report_on;
use servicemeter_store::{Store, StoreError, WorkspaceId};

use crate::format;
use crate::i18n::Lang;
use crate::overview::{self, Chart, Grain, TrendLine};
use crate::table::DataTable;

/// The headline figures a report lists, in this order.
pub const REPORT_FIGURES: [Figure; 12] = [
    Figure::Conversations,
    Figure::FirstResponseMedian,
    Figure::FirstResponseWithinTarget,
    Figure::Unanswered,
    Figure::ResolutionRate,
    Figure::ResolutionTimeMedian,
    Figure::ReopenRate,
    Figure::OneTouch,
    Figure::RepliesPerConversation,
    Figure::Csat,
    Figure::Nps,
    Figure::Ces,
];

/// The breakdowns a document's report needs (agents and channels are always there).
pub const BREAKDOWNS: [GroupBy; 3] = [GroupBy::Team, GroupBy::Tag, GroupBy::Day];

/// The reports a document is built from: the period's report with [`BREAKDOWNS`] (and any of
/// `more`), the report its trends are drawn from, and how finely.
pub fn reports(
    threads: usize,
    table: &FactTable,
    config: &WorkspaceConfig,
    compared: Option<Compared>,
    filter: &Filter,
    more: &[GroupBy],
) -> (Report, Report, Grain) {
    let mut by = BREAKDOWNS.to_vec();
    for g in more {
        if !by.contains(g) {
            by.push(*g);
        }
    }
    let report = build_report_on(threads, table, config, compared, filter, &by);
    let grain = Grain::of(&report);
    let trend = if grain == Grain::Day {
        report.clone()
    } else {
        build_report_on(
            threads,
            table,
            config,
            compared,
            filter,
            &[grain.group_by()],
        )
    };
    (report, trend, grain)
}

/// At most this many comments of unhappy customers are quoted.
pub const MAX_HIGHLIGHTS: usize = 5;
/// At most this many conversations are read to find them (the latest unhappy ones first).
pub const MAX_HIGHLIGHT_READS: usize = 200;

/// One headline figure of the report, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureLine {
    pub figure: Figure,
    pub label: &'static str,
    pub value: String,
    /// The target in the figure's unit ("85,0%"), empty without one.
    pub target: String,
    /// `met`, `missed` or empty (no target, or nothing to check).
    pub status: &'static str,
    /// "gehaald" / "gemist" in the reader's language, empty with `status`.
    pub status_text: &'static str,
    pub previous: String,
    pub change: String,
    /// `better`, `worse` or empty.
    pub trend: &'static str,
}

/// A comment of an unhappy customer, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Highlight {
    pub kind: SurveyKind,
    pub score: f64,
    pub scale_max: f64,
    pub comment: String,
    pub reasons: Vec<String>,
    pub conversation: String,
    /// The conversation's channel (its stored name), empty when unknown.
    pub channel: String,
    /// When it was answered (UTC ms).
    pub at: i64,
}

/// A comment of an unhappy customer, as written: the comment, then what it is about ("CSAT
/// 2 / 5 · 4 mrt 2024 · e-mail · m1"), then the reasons chosen (empty without).
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    pub comment: String,
    pub about: String,
    pub reasons: String,
}

/// A table of the report under its caption.
pub struct Section {
    pub caption: String,
    pub table: DataTable,
}

/// The whole report, in one language.
pub struct Document {
    pub lang: Lang,
    /// "Rapport Schoenwinkel".
    pub title: String,
    pub workspace: String,
    /// The agency that prepared it, if any.
    pub agency: Option<String>,
    /// The period, in words.
    pub period: String,
    /// What it is compared with, in words (empty without a comparison).
    pub compared: String,
    pub figures: Vec<FigureLine>,
    pub attention: Vec<String>,
    pub charts: Vec<Chart>,
    pub sections: Vec<Section>,
    pub quotes: Vec<Quote>,
    /// When it was made, in words.
    pub made: String,
}

/// What a document is built from.
pub struct Inputs<'a> {
    /// The period's report, with its comparison and the team, tag and day breakdowns.
    pub report: &'a Report,
    /// The report its trends are drawn from (per day, week or month: `grain`).
    pub trend: &'a Report,
    pub grain: Grain,
    pub config: &'a WorkspaceConfig,
    /// The workspace's name as the reader knows it.
    pub workspace: &'a str,
    pub agency: Option<&'a str>,
    /// Follow-ups of unhappy answers past their due time, now.
    pub overdue_follow_ups: u64,
    pub highlights: Vec<Highlight>,
    /// Whether agents are named (the agents table and flagged agents); a client's share or
    /// report may leave them out.
    pub agent_detail: bool,
    /// When it is made (UTC ms).
    pub made_at: i64,
}

/// The document of `inputs` in `lang`.
pub fn build(inputs: &Inputs, lang: Lang) -> Document {
    let t = lang.texts();
    let report = inputs.report;
    let (now, before) = (
        &report.summary,
        report.previous.as_ref().map(|p| &p.summary),
    );
    let figures = REPORT_FIGURES
        .iter()
        .map(|&figure| {
            let kind = figure.kind();
            let target = figure.target(&report.targets);
            let (change, trend) = format::change(figure.change(now, before), lang);
            let status = match target.and_then(|t| t.met) {
                Some(true) => "met",
                Some(false) => "missed",
                None => "",
            };
            FigureLine {
                figure,
                label: format::figure_label(figure, lang),
                value: format::figure(figure, now, lang),
                target: target
                    .and_then(|t| t.target)
                    .map(|v| format::value(kind, Some(v), lang))
                    .unwrap_or_default(),
                status,
                status_text: match status {
                    "met" => t.report_met,
                    "missed" => t.report_missed,
                    _ => "",
                },
                previous: before
                    .map(|b| format::figure(figure, b, lang))
                    .unwrap_or_default(),
                change,
                trend,
            }
        })
        .collect();
    let attention = attention(report, inputs.overdue_follow_ups)
        .iter()
        .filter(|a| inputs.agent_detail || !matches!(a, Attention::AgentFlagged { .. }))
        .map(|a| attention_text(a, lang))
        .collect();
    let whole = [TrendLine {
        name: "",
        points: overview::series(inputs.trend, inputs.grain),
        class: "line",
    }];
    let charts = vec![
        overview::volume_chart(inputs.trend, inputs.grain, lang),
        overview::first_response_trend(inputs.grain, &whole, lang),
        overview::csat_trend(inputs.grain, &whole, inputs.config.targets.csat_pct, lang),
    ];
    let mut sections = vec![Section {
        caption: t.report_channels.to_string(),
        table: overview::channels_table(report, lang, None),
    }];
    if inputs.agent_detail {
        let mut rows = vec![overview::agent_row(
            t.team,
            &report.summary,
            None,
            String::new(),
            lang,
        )];
        rows.extend(report.by_agent.iter().map(|(agent, s)| {
            let name = inputs.config.agents.display_name(agent);
            overview::agent_row(name, s, Some(&report.summary), String::new(), lang)
        }));
        sections.push(Section {
            caption: t.agents.to_string(),
            table: DataTable {
                id: "agents",
                headers: overview::agents_headers(lang),
                rows,
                csv_href: String::new(),
            },
        });
    }
    if let Some(by_team) = &report.by_team
        && by_team.keys().any(|k| k != NO_TEAM)
    {
        let mut headers = overview::agents_headers(lang);
        headers[0] = t.team.to_string();
        sections.push(Section {
            caption: t.teams.to_string(),
            table: DataTable {
                id: "teams",
                headers,
                rows: by_team
                    .iter()
                    .map(|(team, s)| {
                        overview::agent_row(team, s, Some(&report.summary), String::new(), lang)
                    })
                    .collect(),
                csv_href: String::new(),
            },
        });
    }
    if let Some(by_tag) = &report.by_tag
        && !by_tag.is_empty()
    {
        // Most conversations first, at most 15 topics.
        let mut busiest: Vec<(&String, &servicemeter_core::report::Summary)> =
            by_tag.iter().collect();
        busiest.sort_by(|a, b| b.1.conversations.cmp(&a.1.conversations).then(a.0.cmp(b.0)));
        let busiest: std::collections::BTreeMap<String, servicemeter_core::report::Summary> =
            busiest
                .into_iter()
                .take(15)
                .map(|(k, s)| (k.clone(), s.clone()))
                .collect();
        let mut table = overview::breakdown_table("topics", t.topic, &busiest, "tag", None, lang);
        table.rows.sort_by(|a, b| {
            let n = |r: &crate::table::Row| {
                r.cells
                    .get(1)
                    .map(|c| c.text.replace('\u{202f}', "").parse::<u64>().unwrap_or(0))
                    .unwrap_or(0)
            };
            n(b).cmp(&n(a))
        });
        sections.push(Section {
            caption: t.topics.to_string(),
            table,
        });
    }
    let made = jiff::Timestamp::from_millisecond(inputs.made_at)
        .map(|ts| {
            let local = ts.to_zoned_datetime(inputs.config.timezone.clone());
            format!(
                "{} {}",
                format::day(local.date(), lang),
                local.strftime("%H:%M")
            )
        })
        .unwrap_or_default();
    Document {
        lang,
        title: format!("{} {}", t.report_title, inputs.workspace),
        workspace: inputs.workspace.to_string(),
        agency: inputs.agency.map(String::from),
        period: report
            .period
            .map(|p| format::period(p, lang))
            .unwrap_or_default(),
        compared: overview::comparison_label(report, lang),
        figures,
        attention,
        charts,
        sections,
        quotes: inputs
            .highlights
            .iter()
            .map(|h| quote(h, inputs.config, lang))
            .collect(),
        made,
    }
}

/// One thing that needs attention, in words with its numbers.
pub fn attention_text(a: &Attention, lang: Lang) -> String {
    let t = lang.texts();
    match a {
        Attention::TargetMissed {
            figure,
            value,
            target,
        } => {
            let kind = figure.kind();
            let mut text = format!(
                "{}: {}",
                format::figure_label(*figure, lang),
                format::value(kind, *value, lang)
            );
            if let Some(target) = target {
                text.push_str(&format!(
                    " ({} {})",
                    t.target,
                    format::value(kind, Some(*target), lang)
                ));
            }
            text
        }
        Attention::ChannelMedianMissed {
            channel,
            seconds,
            target_seconds,
        } => format!(
            "{} {}: {} ({} {})",
            t.first_response,
            format::channel(channel, lang),
            format::duration(*seconds),
            t.target,
            format::duration(Some(*target_seconds))
        ),
        Attention::AgentFlagged { agent, flags } => format!(
            "{}: {}",
            overview::name_label(agent, lang),
            flags
                .iter()
                .map(|f| overview::flag_text(f, lang))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Attention::OverdueFollowUps(n) => {
            format!("{} {}", format::count(*n), t.report_overdue_follow_ups)
        }
    }
}

/// A highlight in words.
fn quote(h: &Highlight, config: &WorkspaceConfig, lang: Lang) -> Quote {
    let mut about = vec![format!(
        "{} {} / {}",
        kind_name(h.kind, lang),
        format::number(Some(h.score), 0, lang),
        format::number(Some(h.scale_max), 0, lang)
    )];
    if let Ok(ts) = jiff::Timestamp::from_millisecond(h.at) {
        about.push(format::day(
            ts.to_zoned_datetime(config.timezone.clone()).date(),
            lang,
        ));
    }
    if !h.channel.is_empty() {
        about.push(format::channel(&h.channel, lang));
    }
    about.push(h.conversation.clone());
    Quote {
        comment: h.comment.clone(),
        about: about.join(" · "),
        reasons: h.reasons.join(", "),
    }
}

/// The comments of unhappy customers in a period (conversations starting within
/// `start_between`, passing `filter`): the latest unhappy answers first, at most
/// [`MAX_HIGHLIGHTS`], reading at most [`MAX_HIGHLIGHT_READS`] conversations. Anonymous answers
/// and answers without a comment are left out.
pub async fn highlights<S: Store>(
    store: &S,
    workspace: WorkspaceId,
    table: &FactTable,
    start_between: Option<(i64, i64)>,
    filter: &Filter,
) -> Result<Vec<Highlight>, StoreError> {
    let unhappy = servicemeter_core::feedback::unhappy_rows(table, start_between, filter);
    let mut out = Vec::new();
    let mut read = 0;
    let mut last: Option<(String, Option<servicemeter_core::model::Conversation>)> = None;
    for (row, kind) in unhappy {
        if out.len() >= MAX_HIGHLIGHTS {
            break;
        }
        let id = table.conversation(row);
        if last.as_ref().map(|(l, _)| l.as_str()) != Some(id) {
            if read >= MAX_HIGHLIGHT_READS {
                break;
            }
            read += 1;
            last = Some((id.to_string(), store.conversation(workspace, id).await?));
        }
        let Some((_, Some(conversation))) = &last else {
            continue;
        };
        let Some(answer) = conversation
            .surveys
            .iter()
            .filter(|s| s.kind == kind)
            .max_by_key(|s| s.at)
        else {
            continue;
        };
        let comment = answer.comment.as_deref().unwrap_or("").trim();
        if answer.anonymous() || comment.is_empty() {
            continue;
        }
        out.push(Highlight {
            kind,
            score: answer.score.value(),
            scale_max: answer.score.scale().max,
            comment: comment.to_string(),
            reasons: answer.reasons.clone(),
            conversation: id.to_string(),
            channel: conversation
                .header
                .as_ref()
                .map(|h| h.channel.as_str().to_string())
                .unwrap_or_default(),
            at: answer.at,
        });
    }
    Ok(out)
}

/// `text` with its first letter a capital ("binnen norm" heads a column as "Binnen norm").
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The name of a survey kind in a report.
pub fn kind_name(kind: SurveyKind, lang: Lang) -> &'static str {
    let t = lang.texts();
    match kind {
        SurveyKind::Csat => t.csat,
        SurveyKind::Nps => t.nps,
        SurveyKind::Ces => t.ces,
    }
}

/// Why a document could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("chart {0} is not drawable SVG: {1}")]
    Svg(String, String),
    #[error("cannot rasterise chart {0}")]
    Raster(String),
    #[error("cannot write the PDF: {0}")]
    Pdf(String),
}
