//! A workspace's overview: figure tiles against targets and the previous period, charts,
//! and the channel, agent and topic tables, each linking to the conversations behind it.
//! Everything shown comes from the report and core's distributions; this module formats.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use servicemeter_core::Report;
use servicemeter_core::access::Role;
use servicemeter_core::coaching::{AgentFlag, TopicHint, agent_flags, topic_hints};
use servicemeter_core::distribution::{FIRST_RESPONSE_BUCKET_LABELS, open_hours_grid};
use servicemeter_core::filter::Filter;
use servicemeter_core::headline::Figure;
use servicemeter_core::periods::{Against, Preset};
use servicemeter_core::report::{GroupBy, Period, Summary};
use servicemeter_report::svg::{self, Axis, Bar, ValueAxis};
use servicemeter_store::{Accounts, Store};

use crate::auth::{Caller, SignedIn, workspace_access};
use crate::data::{self, FilterQuery, PeriodQuery};
use crate::error::WebError;
use crate::format;
use crate::i18n::Lang;
use crate::pages::{Frame, render};
use crate::state::AppState;
use crate::table::{Cell, CsvOptions, DataTable, Row};

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

/// Links to the conversations behind a figure: the period and the filter of the page.
pub struct Drill {
    /// `/w/{ws}/conversations?` and the period.
    base: String,
    filter: Filter,
}

impl Drill {
    pub fn new(workspace: &str, period_qs: &str, filter: &Filter) -> Drill {
        Drill {
            base: format!("/w/{workspace}/conversations?{period_qs}"),
            filter: filter.clone(),
        }
    }

    /// The list of every conversation of the page.
    pub fn all(&self) -> String {
        self.with(&self.filter)
    }

    /// The list narrowed to one value of a kind (a table's row): that value replaces what
    /// the filter chose of its kind.
    pub fn narrowed(&self, kind: &str, value: &str) -> String {
        let mut filter = self.filter.clone();
        let one = vec![value.to_string()];
        match kind {
            "channel" => filter.channels = one,
            "team" => filter.teams = one,
            "agent" => filter.agents = one,
            _ => filter.tags = one,
        }
        self.with(&filter)
    }

    fn with(&self, filter: &Filter) -> String {
        let filter = FilterQuery(filter.clone()).link();
        if filter.is_empty() {
            self.base.clone()
        } else if self.base.ends_with('?') {
            format!("{}{filter}", self.base)
        } else {
            format!("{}&{filter}", self.base)
        }
    }
}

fn drill_link(drill: Option<&Drill>, kind: &str, value: &str) -> String {
    drill.map(|d| d.narrowed(kind, value)).unwrap_or_default()
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

/// One tile: a figure of the catalog, its label and a line under it.
pub(crate) struct TileSpec {
    pub(crate) label: &'static str,
    pub(crate) figure: Figure,
    pub(crate) detail: String,
}

pub(crate) fn tile(spec: TileSpec, report: &Report, lang: Lang, drill: Option<&Drill>) -> Tile {
    let (now, before) = (
        &report.summary,
        report.previous.as_ref().map(|p| &p.summary),
    );
    let figure = spec.figure;
    let kind = figure.kind();
    // The one change computation (core::headline), written for the page.
    let (delta, trend) = format::change(figure.change(now, before), lang);
    let (subset, sort) = figure.drill();
    let target = figure.target(&report.targets);
    // A tile with one target value shows it under the figure.
    let target_text = target.and_then(|t| t.target).map(|v| {
        format!(
            "{} {}",
            lang.texts().target,
            format::value(kind, Some(v), lang)
        )
    });
    let detail = [Some(spec.detail), target_text]
        .into_iter()
        .flatten()
        .filter(|d| !d.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    Tile {
        label: spec.label,
        href: drill
            .map(|d| {
                let all = d.all();
                let sep = if all.ends_with('?') { "" } else { "&" };
                format!("{all}{sep}subset={}&sort={}", subset.name(), sort.name())
            })
            .unwrap_or_default(),
        value: format::value(kind, figure.value(now), lang),
        detail,
        previous: before
            .map(|b| format::value(kind, figure.value(b), lang))
            .unwrap_or_default(),
        delta,
        trend,
        status: match target.and_then(|t| t.met) {
            Some(true) => "met",
            Some(false) => "missed",
            None => "",
        },
    }
}

/// The overview's figures, in order.
fn tiles(report: &Report, lang: Lang, drill: Option<&Drill>) -> Vec<Tile> {
    let t = lang.texts();
    let s = &report.summary;
    let responses = |n: u64| format::responses(n, lang);
    let spec = |figure, label, detail: String| TileSpec {
        label,
        figure,
        detail,
    };
    let specs = vec![
        spec(Figure::Conversations, t.conversations, String::new()),
        spec(
            Figure::FirstResponseMedian,
            t.first_response,
            format!(
                "{}; {} {}",
                t.median_business,
                format::pct(s.first_response.within_target_pct, lang),
                t.within_target
            ),
        ),
        spec(
            Figure::ResolutionTimeMedian,
            t.resolution_time,
            t.median_business.to_string(),
        ),
        spec(Figure::Unanswered, t.unanswered_title, String::new()),
        spec(Figure::ResolutionRate, t.resolution_rate, String::new()),
        spec(Figure::ReopenRate, t.reopen_rate, String::new()),
        spec(Figure::OneTouch, t.one_touch, String::new()),
        spec(
            Figure::RepliesPerConversation,
            t.replies_per_conversation,
            String::new(),
        ),
        spec(Figure::Csat, t.csat, responses(s.csat.responses)),
        spec(Figure::Nps, t.nps, responses(s.nps.responses)),
        spec(Figure::Ces, t.ces, responses(s.ces.responses)),
    ];
    specs
        .into_iter()
        .map(|spec| tile(spec, report, lang, drill))
        .collect()
}

/// The channels table: each channel against its first-response target.
pub(crate) fn channels_table(report: &Report, lang: Lang, drill: Option<&Drill>) -> DataTable {
    let t = lang.texts();
    let rows = report
        .by_channel
        .iter()
        .map(|(name, s)| {
            let check = report.targets.median_first_response_seconds.get(name);
            let target = report.targets.first_response_seconds_for(name);
            let shown = |f: Figure| Cell::num(format::value(f.kind(), f.value(s), lang));
            Row {
                class: match check.and_then(|c| c.met) {
                    Some(true) => "met",
                    Some(false) => "missed",
                    None => "",
                }
                .into(),
                cells: vec![
                    Cell::link(
                        format::channel(name, lang),
                        drill_link(drill, "channel", name),
                    ),
                    shown(Figure::Conversations),
                    shown(Figure::FirstResponseMedian),
                    Cell::num(format::duration(Some(target))),
                    shown(Figure::FirstResponseWithinTarget),
                    shown(Figure::ResolutionRate),
                    shown(Figure::Csat),
                    shown(Figure::TurnsPerConversation),
                ],
            }
        })
        .collect();
    DataTable {
        id: "channels",
        headers: [
            t.channel,
            t.conversations,
            t.first_response,
            t.target,
            t.within_target,
            t.resolution_rate,
            t.csat,
            t.turns_per_conversation,
        ]
        .map(String::from)
        .to_vec(),
        rows,
        csv_href: String::new(),
    }
}

/// A choice of a select above the overview (a preset or a comparison).
pub struct Choice {
    pub key: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// One kind of the filter bar (channel, team, agent, tag) with its choices.
pub struct FilterChoice {
    /// The query key.
    pub kind: &'static str,
    pub label: &'static str,
    /// What is chosen, in words ("chat, email" or "alle").
    pub summary: String,
    pub options: Vec<FilterOption>,
}

/// A value of the filter bar.
pub struct FilterOption {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

/// How a name reads: the labels for "none" in the reader's language.
pub fn name_label(name: &str, lang: Lang) -> String {
    let t = lang.texts();
    match name {
        servicemeter_core::report::UNASSIGNED => t.unassigned.to_string(),
        servicemeter_core::report::NO_TEAM => t.no_team.to_string(),
        servicemeter_core::report::UNTAGGED => t.untagged.to_string(),
        other => other.to_string(),
    }
}

/// How a name of a filter kind reads: channels by their name in the reader's language, the
/// rest as [`name_label`].
pub fn kind_label(kind: &str, name: &str, lang: Lang) -> String {
    if kind == "channel" {
        format::channel(name, lang)
    } else {
        name_label(name, lang)
    }
}

/// The filter bar: per kind, the names that have conversations in the period (from the
/// unfiltered report) and those chosen, the chosen ones checked.
pub fn filter_bar(all: &Report, filter: &Filter, lang: Lang) -> Vec<FilterChoice> {
    let t = lang.texts();
    let empty = Default::default();
    let names = |kind: &str| -> Vec<String> {
        match kind {
            "channel" => all.by_channel.keys().cloned().collect(),
            "team" => all
                .by_team
                .as_ref()
                .unwrap_or(&empty)
                .keys()
                .cloned()
                .collect(),
            "agent" => all.by_agent.keys().cloned().collect(),
            _ => all
                .by_tag
                .as_ref()
                .unwrap_or(&empty)
                .keys()
                .cloned()
                .collect(),
        }
    };
    filter
        .kinds()
        .into_iter()
        .map(|(kind, chosen)| {
            let mut values = names(kind);
            values.extend(chosen.iter().cloned());
            values.sort();
            values.dedup();
            let label = match kind {
                "channel" => t.channel,
                "team" => t.team,
                "agent" => t.agent,
                _ => t.topic,
            };
            let summary = if chosen.is_empty() {
                t.any.to_string()
            } else {
                chosen
                    .iter()
                    .map(|c| kind_label(kind, c, lang))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            FilterChoice {
                kind,
                label,
                summary,
                options: values
                    .into_iter()
                    .map(|value| FilterOption {
                        label: kind_label(kind, &value, lang),
                        checked: chosen.contains(&value),
                        value,
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The period and filter form above a page.
pub struct PeriodForm {
    pub action: String,
    pub from: String,
    pub to: String,
    pub presets: Vec<Choice>,
    pub comparisons: Vec<Choice>,
    pub filters: Vec<FilterChoice>,
    pub filtered: bool,
    /// The page without its filter.
    pub unfiltered_href: String,
    /// Other parameters of the page the form keeps (name, value).
    pub hidden: Vec<(String, String)>,
}

impl PeriodForm {
    /// The form of a page at `action` for `query` and `filter`; `all` is the unfiltered report
    /// of the period (the filter's choices), `report` the page's.
    pub fn new(
        action: String,
        query: &PeriodQuery,
        report: &Report,
        all: &Report,
        filter: &Filter,
        role: Role,
        lang: Lang,
    ) -> PeriodForm {
        let (presets, comparisons) = period_choices(query, lang);
        let period_only = query.link(report.period);
        PeriodForm {
            unfiltered_href: if period_only.is_empty() {
                action.clone()
            } else {
                format!("{action}?{period_only}")
            },
            action,
            from: report
                .period
                .map(|p| p.from.to_string())
                .unwrap_or_default(),
            to: report.period.map(|p| p.to.to_string()).unwrap_or_default(),
            presets,
            comparisons,
            filters: filter_bar(all, filter, lang)
                .into_iter()
                // Colleagues' names are not an agent's to choose from.
                .filter(|f| !(f.kind == "agent" && role == Role::Agent))
                .collect(),
            filtered: !filter.is_empty(),
            hidden: Vec::new(),
        }
    }
}

/// What a report's figures are compared with, in the reader's words.
pub(crate) fn compared_word(report: &Report, lang: Lang) -> &'static str {
    let t = lang.texts();
    match report.previous.as_ref().map(|p| p.against) {
        Some(Against::YearEarlier) => t.year_earlier,
        _ => t.previous_period,
    }
}

/// The navigation of a workspace's pages.
pub struct Nav {
    pub workspace: String,
    /// `overview`, `feedback`, `follow-ups`, `conversations` or `settings`.
    pub current: &'static str,
    /// `?` and the period and filter, carried from page to page.
    pub query: String,
    pub sees_conversations: bool,
    /// May work through the follow-ups of unhappy answers (leads and administrators).
    pub follows_up: bool,
    pub admin: bool,
}

impl Nav {
    pub fn new(workspace: &str, current: &'static str, query: &str, role: Role) -> Nav {
        Nav {
            workspace: workspace.to_string(),
            current,
            query: if query.is_empty() {
                String::new()
            } else {
                format!("?{query}")
            },
            sees_conversations: role.sees_conversations(),
            follows_up: role.sees_all_conversations(),
            admin: role == Role::Admin,
        }
    }
}

/// The label of a preset in the reader's language.
pub fn preset_label(preset: Preset, lang: Lang) -> &'static str {
    let t = lang.texts();
    match preset {
        Preset::Today => t.today,
        Preset::Yesterday => t.yesterday,
        Preset::Last7Days => t.last_7_days,
        Preset::Last30Days => t.last_30_days,
        Preset::Last90Days => t.last_90_days,
        Preset::ThisWeek => t.this_week,
        Preset::LastWeek => t.last_week,
        Preset::ThisMonth => t.this_month,
        Preset::LastMonth => t.last_month,
        Preset::ThisQuarter => t.this_quarter,
        Preset::LastQuarter => t.last_quarter,
        Preset::ThisYear => t.this_year,
        Preset::LastYear => t.last_year,
    }
}

/// The period choices of a query: every preset (the chosen one active), and the two
/// comparisons.
pub fn period_choices(query: &PeriodQuery, lang: Lang) -> (Vec<Choice>, Vec<Choice>) {
    let t = lang.texts();
    let active = query.preset().ok().flatten();
    let presets = Preset::ALL
        .iter()
        .map(|&(key, preset)| Choice {
            key,
            label: preset_label(preset, lang),
            active: Some(preset) == active,
        })
        .collect();
    let against = query.against().unwrap_or_default();
    let comparisons = [
        (Against::Previous, t.previous_period),
        (Against::YearEarlier, t.year_earlier),
    ]
    .into_iter()
    .map(|(a, label)| Choice {
        key: a.name(),
        label,
        active: a == against,
    })
    .collect();
    (presets, comparisons)
}

/// What the report's period is compared with, in words: "vorige periode: 4 dec 2026, tot
/// 13:30"; empty without a comparison.
pub fn comparison_label(report: &Report, lang: Lang) -> String {
    let t = lang.texts();
    let Some(previous) = &report.previous else {
        return String::new();
    };
    let what = match previous.against {
        Against::Previous => t.previous_period,
        Against::YearEarlier => t.year_earlier,
    };
    let mut text = format!("{what}: {}", format::period(previous.period, lang));
    if report.period.is_some_and(|p| p.running()) {
        text.push_str(&format!(" — {}", t.same_elapsed_part));
    }
    text
}

/// One chart of a page: its caption, the SVG, and the same numbers as a table (for screen
/// readers and copying).
pub struct Chart {
    pub caption: String,
    pub svg: String,
    pub rows: Vec<(String, String)>,
    pub wide: bool,
}

/// How finely a period's trend is drawn: days up to two months, weeks up to a year, months
/// beyond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    Day,
    Week,
    Month,
}

impl Grain {
    /// The grain of a period (of the data, for all data).
    pub fn of(report: &Report) -> Grain {
        let days = report.period.map(|p| p.days()).unwrap_or_else(|| {
            report
                .by_day
                .as_ref()
                .and_then(|d| {
                    let first: jiff::civil::Date = d.keys().next()?.parse().ok()?;
                    let last: jiff::civil::Date = d.keys().next_back()?.parse().ok()?;
                    Some((last - first).get_days() + 1)
                })
                .unwrap_or(1)
        });
        if days > 366 {
            Grain::Month
        } else if days > 62 {
            Grain::Week
        } else {
            Grain::Day
        }
    }

    /// The breakdown it reads.
    pub fn group_by(self) -> GroupBy {
        match self {
            Grain::Day => GroupBy::Day,
            Grain::Week => GroupBy::Week,
            Grain::Month => GroupBy::Month,
        }
    }

    /// "per dag", "per week", "per maand".
    pub fn per(self, lang: Lang) -> &'static str {
        let t = lang.texts();
        match self {
            Grain::Day => t.per_day,
            Grain::Week => t.per_week,
            Grain::Month => t.per_month,
        }
    }
}

/// Every day, week or month of the period (or of the data) with its figures, or `None`;
/// `report` holds the grain's breakdown.
pub(crate) fn series(report: &Report, grain: Grain) -> Vec<(String, Option<&Summary>)> {
    let by = report.breakdown(grain.group_by());
    let Some(period) = report.period.or_else(|| {
        let keys = report.by_day.as_ref()?;
        let first = keys.keys().next()?.parse().ok()?;
        let last = keys.keys().next_back()?.parse().ok()?;
        Some(Period::new(first, last))
    }) else {
        return Vec::new();
    };
    let key = |d: jiff::civil::Date| match grain {
        Grain::Day => d.to_string(),
        Grain::Week => {
            let w = d.iso_week_date();
            format!("{}-W{:02}", w.year(), w.week())
        }
        Grain::Month => d.strftime("%Y-%m").to_string(),
    };
    let mut out: Vec<(String, Option<&Summary>)> = Vec::new();
    let mut day = period.from;
    // At most about three years of days in one walk.
    let mut steps = 0;
    while day <= period.to && steps < 1200 {
        let k = key(day);
        if out.last().map(|(last, _)| last) != Some(&k) {
            let summary = by.and_then(|b| b.get(&k));
            out.push((k, summary));
        }
        steps += 1;
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    out
}

/// The short label of a series key: "03-04", "W14", "2024-04".
fn short_label(key: &str, grain: Grain) -> String {
    match grain {
        Grain::Day => key.get(5..).unwrap_or(key).to_string(),
        Grain::Week => key.get(5..).unwrap_or(key).to_string(),
        Grain::Month => key.to_string(),
    }
}

/// The charts of the overview, as SVG with their tables.
/// The number of conversations per day, week or month.
pub(crate) fn volume_chart(report: &Report, grain: Grain, lang: Lang) -> Chart {
    let t = lang.texts();
    let points = series(report, grain);
    let per = grain.per(lang);
    let n_of = |s: Option<&Summary>| s.map_or(0, |s| s.conversations);
    let volume_caption = format!("{} {per}", t.conversations);
    let bars: Vec<Bar> = points
        .iter()
        .map(|(d, s)| Bar {
            label: short_label(d, grain),
            value: n_of(*s) as f64,
            tooltip: format!("{d}: {}", n_of(*s)),
        })
        .collect();
    let count = |v: f64| format!("{v:.0}");
    let count_axis = ValueAxis {
        kind: Axis::Count,
        title: t.axis_conversations,
        format: &count,
    };
    Chart {
        svg: svg::bar_chart(&volume_caption, &bars, &count_axis, t.no_chart_data),
        rows: points
            .iter()
            .map(|(d, s)| (d.clone(), format::count(n_of(*s))))
            .collect(),
        caption: volume_caption,
        wide: false,
    }
}

fn charts(
    report: &Report,
    grain: Grain,
    distributions: &data::Distributions,
    config: &servicemeter_core::WorkspaceConfig,
    lang: Lang,
) -> Vec<Chart> {
    let t = lang.texts();
    let points = series(report, grain);
    let count = |v: f64| format!("{v:.0}");
    let count_axis = ValueAxis {
        kind: Axis::Count,
        title: t.axis_conversations,
        format: &count,
    };
    let volume = volume_chart(report, grain, lang);
    let whole = [TrendLine {
        name: "",
        points: points.clone(),
        class: "line",
    }];
    let first_response_trend = first_response_trend(grain, &whole, lang);
    let csat_trend = csat_trend(grain, &whole, config.targets.csat_pct, lang);
    let heatmap = Chart {
        caption: t.arrivals_heatmap.to_string(),
        svg: svg::heatmap(
            t.arrivals_heatmap,
            &distributions.arrivals,
            &open_hours_grid(&config.default_week),
            lang.weekdays(),
        ),
        rows: lang
            .weekdays()
            .iter()
            .zip(distributions.arrivals.iter())
            .map(|(day, hours)| {
                (
                    day.to_string(),
                    hours
                        .iter()
                        .enumerate()
                        .filter(|(_, n)| **n > 0)
                        .map(|(h, n)| format!("{h:02}:00 {n}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            })
            .collect(),
        wide: true,
    };
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
    let first_response_distribution = Chart {
        caption: t.first_response_distribution.to_string(),
        svg: svg::bar_chart(
            t.first_response_distribution,
            &bucket_bars,
            &count_axis,
            t.no_chart_data,
        ),
        rows: FIRST_RESPONSE_BUCKET_LABELS
            .iter()
            .zip(buckets)
            .map(|(label, n)| (label.to_string(), format::count(n)))
            .collect(),
        wide: false,
    };
    vec![
        volume,
        first_response_trend,
        csat_trend,
        first_response_distribution,
        heatmap,
    ]
}

/// A figure drawn as a trend: its value in a summary and the number of answers or
/// conversations the value stands on (its n).
pub(crate) struct Measure {
    pub value: fn(&Summary) -> Option<f64>,
    pub n: fn(&Summary) -> u64,
    /// A value as the hovers and the chart's table write it.
    pub shown: fn(f64, Lang) -> String,
}

pub(crate) const FIRST_RESPONSE_MEASURE: Measure = Measure {
    value: |s| s.first_response.median_business_seconds,
    n: |s| s.first_response.count,
    shown: |v, _| format::duration(Some(v)),
};

pub(crate) const CSAT_MEASURE: Measure = Measure {
    value: |s| s.csat.satisfied_pct,
    n: |s| s.csat.responses,
    shown: |v, lang| format::pct(Some(v), lang),
};

/// One line of a trend: whose it is (empty for the only line), its summaries per day, week or
/// month, and its style.
pub(crate) struct TrendLine<'a> {
    pub name: &'a str,
    pub points: Vec<(String, Option<&'a Summary>)>,
    pub class: &'static str,
}

/// The median first response (business time) per day, week or month, for one or more lines.
pub(crate) fn first_response_trend(grain: Grain, lines: &[TrendLine], lang: Lang) -> Chart {
    let t = lang.texts();
    trend_chart(
        format!("{} {}", t.first_response, grain.per(lang)),
        grain,
        lines,
        &FIRST_RESPONSE_MEASURE,
        None,
        &ValueAxis {
            kind: Axis::Seconds,
            title: t.median_business,
            format: &format::axis_duration,
        },
        lang,
    )
}

/// CSAT (share satisfied) per day, week or month against its target, for one or more lines.
pub(crate) fn csat_trend(grain: Grain, lines: &[TrendLine], target: f64, lang: Lang) -> Chart {
    let t = lang.texts();
    trend_chart(
        format!("{} {}", t.csat, grain.per(lang)),
        grain,
        lines,
        &CSAT_MEASURE,
        Some((target, t.target)),
        &ValueAxis {
            kind: Axis::Percent,
            title: t.axis_satisfied,
            format: &format::axis_percent,
        },
        lang,
    )
}

/// A trend of one figure for one or more lines on the same days, weeks or months: every
/// point's hover and the chart's table give the value with its n.
pub(crate) fn trend_chart(
    caption: String,
    grain: Grain,
    lines: &[TrendLine],
    measure: &Measure,
    target: Option<(f64, &str)>,
    axis: &svg::ValueAxis,
    lang: Lang,
) -> Chart {
    let t = lang.texts();
    let said = |label: &str, s: Option<&Summary>| -> String {
        match s.and_then(|s| (measure.value)(s).map(|v| (v, (measure.n)(s)))) {
            Some((v, n)) => format!("{label}{} (n = {n})", (measure.shown)(v, lang)),
            None => format!("{label}–"),
        }
    };
    let keys: Vec<String> = lines
        .first()
        .map(|l| l.points.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default();
    let series: Vec<svg::Series> = lines
        .iter()
        .map(|line| svg::Series {
            name: line.name,
            values: line
                .points
                .iter()
                .map(|(_, s)| s.and_then(|s| (measure.value)(s)))
                .collect(),
            tips: line
                .points
                .iter()
                .map(|(key, s)| {
                    let who = if line.name.is_empty() {
                        String::new()
                    } else {
                        format!("{} ", line.name)
                    };
                    said(&format!("{who}{key}: "), *s)
                })
                .collect(),
            class: line.class,
        })
        .collect();
    let labels: Vec<String> = keys.iter().map(|k| short_label(k, grain)).collect();
    let svg = svg::line_chart(&caption, &labels, &series, target, axis, t.no_chart_data);
    let rows = keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let cells: Vec<String> = lines
                .iter()
                .map(|line| {
                    let prefix = if line.name.is_empty() {
                        String::new()
                    } else {
                        format!("{}: ", line.name)
                    };
                    said(&prefix, line.points.get(i).and_then(|(_, s)| *s))
                })
                .collect();
            (key.clone(), cells.join(" · "))
        })
        .collect();
    Chart {
        caption,
        svg,
        rows,
        wide: false,
    }
}

/// A table of figures per channel or topic (`kind` is the filter kind of its rows), each row
/// linking to its conversations.
pub(crate) fn breakdown_table(
    id: &'static str,
    first: &str,
    rows: &std::collections::BTreeMap<String, Summary>,
    kind: &str,
    drill: Option<&Drill>,
    lang: Lang,
) -> DataTable {
    let figures = [
        Figure::Conversations,
        Figure::FirstResponseMedian,
        Figure::FirstResponseWithinTarget,
        Figure::ResolutionRate,
        Figure::ReopenRate,
        Figure::Csat,
    ];
    DataTable {
        id,
        headers: std::iter::once(first.to_string())
            .chain(
                figures
                    .iter()
                    .map(|f| format::figure_label(*f, lang).to_string()),
            )
            .collect(),
        rows: rows
            .iter()
            .map(|(name, s)| Row {
                class: String::new(),
                cells: std::iter::once(Cell::link(
                    kind_label(kind, name, lang),
                    drill_link(drill, kind, name),
                ))
                .chain(
                    figures
                        .iter()
                        .map(|f| Cell::num(format::figure(*f, s, lang))),
                )
                .collect(),
            })
            .collect(),
        csv_href: String::new(),
    }
}

/// A topic's hint in plain words, with the numbers behind it.
fn topic_hint_text(hint: &TopicHint, lang: Lang) -> String {
    let t = lang.texts();
    match hint {
        TopicHint::KnowledgeBase {
            turns,
            team_turns,
            conversations,
        } => format!(
            "{}: {} {} {} ({} {})",
            t.faq_candidate,
            format::number(Some(*turns), 2, lang),
            t.turns_against_team,
            format::number(Some(*team_turns), 2, lang),
            format::count(*conversations),
            t.conversations_word
        ),
        TopicHint::LowSatisfaction {
            satisfied,
            responses,
            team_pct,
            ..
        } => format!(
            "{}: {} {} {} {}, {} {}",
            t.low_satisfaction,
            satisfied,
            t.of,
            responses,
            t.customers_satisfied,
            t.team_word,
            format::pct(Some(*team_pct), lang)
        ),
    }
}

/// A flag in plain words, with the numbers a lead can check ("10 of 30 customers satisfied,
/// team 80.0 %").
pub(crate) fn flag_text(flag: &AgentFlag, lang: Lang) -> String {
    let t = lang.texts();
    match flag {
        AgentFlag::CsatBelowTeam {
            satisfied,
            responses,
            team_pct,
            ..
        } => format!(
            "{satisfied} {} {responses} {}, {} {}",
            t.of,
            t.customers_satisfied,
            t.team_word,
            format::pct(Some(*team_pct), lang)
        ),
        AgentFlag::SlowFirstResponse {
            median_seconds,
            team_median_seconds,
            ..
        } => format!(
            "{} {}, {} {}",
            t.first_response_median_of,
            format::duration(Some(*median_seconds)),
            t.team_word,
            format::duration(Some(*team_median_seconds)),
        ),
    }
}

/// Why a flag stands: the statistics and the minimum sample behind it.
fn flag_why(flag: &AgentFlag, lang: Lang) -> String {
    let t = lang.texts();
    match flag {
        AgentFlag::CsatBelowTeam {
            responses,
            upper_pct,
            team_pct,
            ..
        } => format!(
            "{} {} ({} {responses} {}) {} {}.",
            t.csat_below_team,
            format::pct(Some(*upper_pct), lang),
            t.over_answers,
            t.answers,
            t.below_team_rate,
            format::pct(Some(*team_pct), lang)
        ),
        AgentFlag::SlowFirstResponse {
            median_seconds,
            team_median_seconds,
            answered,
        } => format!(
            "{} {} {} {} ({} {answered} {}; {} {} {}).",
            t.slow_first_response,
            format::duration(Some(*median_seconds)),
            t.against_team,
            format::duration(Some(*team_median_seconds)),
            t.over_answers,
            t.answers,
            t.slow_rule,
            servicemeter_core::coaching::MIN_ANSWERED_FOR_SPEED,
            t.answers
        ),
    }
}

/// A row of the agents table: an agent (flagged against the team) or the team itself.
pub(crate) fn agent_row(
    name: &str,
    s: &Summary,
    team: Option<&Summary>,
    href: String,
    lang: Lang,
) -> Row {
    let shown = |f: Figure| Cell::num(format::figure(f, s, lang));
    let flags: Vec<String> = team
        .map(|team| {
            agent_flags(team, s)
                .iter()
                .map(|f| flag_text(f, lang))
                .collect()
        })
        .unwrap_or_default();
    let mut class = Vec::new();
    if team.is_none() {
        class.push("team");
    }
    if !flags.is_empty() {
        class.push("flagged");
    }
    Row {
        class: class.join(" "),
        cells: vec![
            Cell::link(name_label(name, lang), href),
            shown(Figure::Conversations),
            shown(Figure::FirstResponseMedian),
            shown(Figure::FirstResponseWithinTarget),
            shown(Figure::ResolutionRate),
            shown(Figure::Csat),
            shown(Figure::TurnsPerConversation),
            Cell {
                flags,
                ..Cell::default()
            },
        ],
    }
}

/// The headers of the agents table.
pub(crate) fn agents_headers(lang: Lang) -> Vec<String> {
    let t = lang.texts();
    [
        t.agent,
        t.conversations,
        t.first_response,
        t.within_target,
        t.resolution_rate,
        t.csat,
        t.turns_per_conversation,
        t.flags,
    ]
    .map(String::from)
    .to_vec()
}

/// What waits now: four figures, and the same per channel and team as a table.
pub struct BacklogView {
    pub open: String,
    pub waiting: String,
    pub oldest_wait: String,
    pub overdue: String,
    pub due_soon: String,
    /// Whether any first response is overdue (the tile is marked).
    pub late: bool,
    pub table: DataTable,
}

fn backlog_view(b: &servicemeter_core::backlog::Backlog, lang: Lang) -> BacklogView {
    let t = lang.texts();
    let row = |name: &str, c: &servicemeter_core::backlog::BacklogCounts, class: &str| Row {
        class: class.into(),
        cells: vec![
            Cell::text(name_label(name, lang)),
            Cell::num(format::count(c.open)),
            Cell::num(format::count(c.waiting)),
            Cell::num(format::count(c.due_soon)),
            Cell::num(format::count(c.overdue)),
            Cell::num(format::duration(
                c.oldest_wait_business_millis.map(|m| m as f64 / 1000.0),
            )),
        ],
    };
    let mut rows = vec![row(t.all_conversations, &b.total, "team")];
    rows.extend(
        b.by_channel
            .iter()
            .map(|(n, c)| row(&format::channel(n, lang), c, "")),
    );
    if b.by_team.len() > 1
        || b.by_team
            .keys()
            .any(|k| k != servicemeter_core::report::NO_TEAM)
    {
        rows.extend(
            b.by_team
                .iter()
                .map(|(n, c)| row(&format!("{}: {}", t.team, name_label(n, lang)), c, "")),
        );
    }
    BacklogView {
        open: format::count(b.total.open),
        waiting: format::count(b.total.waiting),
        oldest_wait: format::duration(
            b.total
                .oldest_wait_business_millis
                .map(|m| m as f64 / 1000.0),
        ),
        overdue: format::count(b.total.overdue),
        due_soon: format::count(b.total.due_soon),
        late: b.total.overdue > 0,
        table: DataTable {
            id: "backlog",
            headers: [
                t.channel,
                t.open_now,
                t.waiting_for_team,
                t.due_soon,
                t.overdue,
                t.longest_wait,
            ]
            .map(String::from)
            .to_vec(),
            rows,
            csv_href: String::new(),
        },
    }
}

/// The tiles as a table (figure, value, the line under it, the earlier value, the change).
fn tiles_table(tiles: &[Tile], compared_word: &str, lang: Lang) -> DataTable {
    let t = lang.texts();
    DataTable {
        id: "figures",
        headers: vec![
            t.figure.to_string(),
            t.value.to_string(),
            t.detail.to_string(),
            compared_word.to_string(),
            t.change.to_string(),
        ],
        rows: tiles
            .iter()
            .map(|tile| Row {
                class: tile.status.to_string(),
                cells: vec![
                    Cell::text(tile.label),
                    Cell::num(tile.value.clone()),
                    Cell::text(tile.detail.clone()),
                    Cell::num(tile.previous.clone()),
                    Cell::num(tile.delta.clone()),
                ],
            })
            .collect(),
        csv_href: String::new(),
    }
}

#[derive(Template)]
#[template(path = "overview.html")]
pub(crate) struct OverviewPage {
    pub(crate) frame: Frame,
    pub(crate) workspace: String,
    pub(crate) role: &'static str,
    pub(crate) nav: Nav,
    pub(crate) form: PeriodForm,
    pub(crate) period: String,
    pub(crate) previous_period: String,
    /// "vorige periode" or "een jaar eerder", before a tile's earlier value.
    pub(crate) compared_word: &'static str,
    pub(crate) has_data: bool,
    pub(crate) tiles: Vec<Tile>,
    /// The tiles as a table, for their download.
    pub(crate) figures: DataTable,
    pub(crate) channels: DataTable,
    pub(crate) agents: DataTable,
    pub(crate) teams: DataTable,
    pub(crate) topics: DataTable,
    pub(crate) charts: Vec<Chart>,
    /// The workspace's saved views.
    pub(crate) views: Vec<crate::views::ViewLink>,
    /// What waits now.
    pub(crate) backlog: BacklogView,
    /// Follow-ups of unhappy answers past their due time (for leads and administrators).
    pub(crate) follow_ups_overdue: Option<u64>,
    /// For a workspace without any conversation: the next steps, with this site's address.
    pub(crate) onboarding: Option<Onboarding>,
    /// This view's query, for saving it.
    pub(crate) view_query: String,
}

/// The reports a page of a period and a filter draws on.
pub(crate) struct PageReports {
    /// The page's own (with the team, tag and day breakdowns).
    pub report: Arc<Report>,
    pub config: servicemeter_core::WorkspaceConfig,
    /// The same period without the filter: the filter bar's choices (the page's own when
    /// nothing is filtered).
    pub all: Arc<Report>,
    /// How finely its trends are drawn.
    pub grain: Grain,
    /// The report the trends are drawn from: per week or month for long periods.
    pub trend: Arc<Report>,
}

/// The reports of a page (each computed once per data version, period and filter).
pub(crate) async fn page_reports<S: Store>(
    state: &AppState<S>,
    workspace: &servicemeter_store::Workspace,
    query: &PeriodQuery,
    filter: &Filter,
) -> Result<PageReports, WebError> {
    let by = [GroupBy::Team, GroupBy::Tag, GroupBy::Day];
    let (report, config) = data::report(state, workspace, query, filter, &by).await?;
    let all = if filter.is_empty() {
        report.clone()
    } else {
        data::report(state, workspace, query, &Filter::default(), &by)
            .await?
            .0
    };
    let grain = Grain::of(&report);
    let trend = if grain == Grain::Day {
        report.clone()
    } else {
        data::report(state, workspace, query, filter, &[grain.group_by()])
            .await?
            .0
    };
    Ok(PageReports {
        report,
        config,
        all,
        grain,
        trend,
    })
}

/// The next steps of an empty workspace.
pub struct Onboarding {
    pub import: String,
    pub api: String,
    pub webhook: String,
    pub chatwoot: String,
    pub settings_href: String,
}

impl Onboarding {
    fn new(workspace: &str, base: &str, admin: bool) -> Onboarding {
        Onboarding {
            import: format!(
                "servicemeter --workspace {workspace} import --source zendesk export-folder/"
            ),
            api: format!(
                "curl -H \"Authorization: Bearer smt_…\" -H \"Content-Type: application/x-ndjson\" --data-binary @conversations.jsonl {base}/api/v1/records"
            ),
            webhook: format!("{base}/hooks/{workspace}/records"),
            chatwoot: format!("{base}/hooks/{workspace}/chatwoot/…"),
            settings_href: if admin {
                format!("/w/{workspace}/settings")
            } else {
                String::new()
            },
        }
    }
}

/// The tables of the overview, as the page shows them and its downloads give them.
pub const OVERVIEW_TABLES: [&str; 6] = [
    "figures", "backlog", "channels", "agents", "teams", "topics",
];

/// Everything the overview shows, for the page and for its downloads.
pub(crate) async fn overview_page<S: Store + Accounts>(
    state: &AppState<S>,
    lang: Lang,
    base: &str,
    email: String,
    access: &crate::auth::Access,
    query: PeriodQuery,
    filter: FilterQuery,
) -> Result<OverviewPage, WebError> {
    let query = query.or_last_7_days();
    let mut filter = filter;
    if access.role == Role::Agent {
        // An agent sees the team's figures beside their own, never a colleague's alone.
        filter.0.agents.clear();
    }
    let PageReports {
        report,
        config,
        all,
        grain,
        trend: trend_report,
    } = page_reports(state, &access.workspace, &query, &filter.0).await?;
    let distributions = data::distributions(state, &access.workspace, &query, &filter.0).await?;
    let t = lang.texts();
    let ws = &access.workspace.name;
    let period_only = query.link(report.period);
    let period_qs = data::join_query(&[&period_only, &filter.link()]);
    let drill = Drill::new(ws, &period_only, &filter.0);
    // Viewers see figures only; the others may open the conversations behind them.
    let drill = access.role.sees_conversations().then_some(&drill);
    let mut agent_rows = vec![agent_row(
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
        let href = if agent == servicemeter_core::report::UNASSIGNED {
            drill_link(drill, "agent", agent)
        } else {
            format!("/w/{ws}/agents/{}?{period_qs}", query_value(agent))
        };
        agent_rows.push(agent_row(agent, s, Some(&report.summary), href, lang));
    }
    let empty = Default::default();
    let by_tag = report.by_tag.as_ref().unwrap_or(&empty);
    let hints = topic_hints(by_tag, &report.summary, &config.segment_tags);
    // Most conversations first; a tag counts each conversation that carries it.
    let mut by_volume: Vec<(&String, &Summary)> = by_tag.iter().collect();
    by_volume.sort_by(|a, b| b.1.conversations.cmp(&a.1.conversations).then(a.0.cmp(b.0)));
    let all_conversations = report.summary.conversations;
    let topic_rows = by_volume
        .into_iter()
        .map(|(tag, s)| {
            let own = hints.get(tag.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            let faq = own
                .iter()
                .any(|h| matches!(h, TopicHint::KnowledgeBase { .. }));
            let shown = |f: Figure| Cell::num(format::figure(f, s, lang));
            let share = servicemeter_core::stats::percent(s.conversations, all_conversations);
            let segment = config.segment_tags.contains(tag.as_str());
            Row {
                class: if faq { "faq".into() } else { String::new() },
                cells: vec![
                    Cell::link(name_label(tag, lang), drill_link(drill, "tag", tag)),
                    shown(Figure::Conversations),
                    Cell::num(format::pct(share, lang)),
                    // The topic's trend: its conversations against the period compared with.
                    Cell::num(
                        format::change(
                            Figure::Conversations.kind().change(
                                Figure::Conversations.better(),
                                Some(s.conversations as f64),
                                report
                                    .previous_by_tag
                                    .as_ref()
                                    .map(|p| p.get(tag.as_str()).copied().unwrap_or(0) as f64),
                            ),
                            lang,
                        )
                        .0,
                    ),
                    shown(Figure::FirstResponseMedian),
                    shown(Figure::Csat),
                    shown(Figure::ResolutionRate),
                    shown(Figure::ReopenRate),
                    shown(Figure::TurnsPerConversation),
                    Cell {
                        flags: own
                            .iter()
                            .map(|h| topic_hint_text(h, lang))
                            .chain(segment.then(|| t.segment_not_topic.to_string()))
                            .collect(),
                        ..Cell::default()
                    },
                ],
            }
        })
        .collect();
    let topics = DataTable {
        id: "topics",
        headers: [
            t.topic,
            t.conversations,
            t.share,
            t.change,
            t.first_response,
            t.csat,
            t.resolution_rate,
            t.reopen_rate,
            t.turns_per_conversation,
            t.hints,
        ]
        .map(String::from)
        .to_vec(),
        rows: topic_rows,
        csv_href: String::new(),
    };
    let agents = DataTable {
        id: "agents",
        headers: agents_headers(lang),
        rows: agent_rows,
        csv_href: String::new(),
    };
    // Teams (the records' team field; a helpdesk's groups) like agents, when there are any.
    let by_team = report.by_team.as_ref().unwrap_or(&empty);
    let team_rows: Vec<Row> = if by_team
        .keys()
        .any(|k| k != servicemeter_core::report::NO_TEAM)
        && access.role != Role::Agent
    {
        by_team
            .iter()
            .map(|(team, s)| {
                let href = if team == servicemeter_core::report::NO_TEAM {
                    drill_link(drill, "team", team)
                } else {
                    format!("/w/{ws}/teams/{}?{period_qs}", query_value(team))
                };
                agent_row(team, s, Some(&report.summary), href, lang)
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut team_headers = agents_headers(lang);
    team_headers[0] = t.team.to_string();
    let teams = DataTable {
        id: "teams",
        headers: team_headers,
        rows: team_rows,
        csv_href: String::new(),
    };
    let compared_word = compared_word(&report, lang);
    let tiles = tiles(&report, lang, drill);
    let export = |table: DataTable| DataTable {
        csv_href: format!("/w/{ws}/export/{}?{period_qs}", table.id),
        ..table
    };
    let charts = charts(&trend_report, grain, &distributions, &config, lang);
    let views = crate::views::links(state, &access.workspace, &email, access.role).await?;
    let backlog = data::backlog(state, &access.workspace, &filter.0).await?;
    let onboarding = if data::facts(state, &access.workspace).await?.is_empty() {
        Some(Onboarding::new(ws, base, access.role == Role::Admin))
    } else {
        None
    };
    let mut backlog = backlog_view(&backlog, lang);
    backlog.table.csv_href = format!("/w/{ws}/export/backlog?{}", filter.link());
    let follow_ups_overdue = if access.role.sees_all_conversations() {
        Some(
            state
                .store
                .overdue_follow_ups(access.workspace.id, state.now_millis())
                .await?,
        )
    } else {
        None
    };
    Ok(OverviewPage {
        backlog,
        follow_ups_overdue,
        onboarding,
        views,
        view_query: period_qs.clone(),
        frame: Frame::new(lang, Some(email)),
        workspace: ws.clone(),
        role: lang.texts().role(access.role),
        period: report
            .period
            .map(|p| format::period(p, lang))
            .unwrap_or_default(),
        previous_period: comparison_label(&report, lang),
        nav: Nav::new(ws, "overview", &period_qs, access.role),
        form: PeriodForm::new(
            format!("/w/{ws}"),
            &query,
            &report,
            &all,
            &filter.0,
            access.role,
            lang,
        ),
        compared_word,
        has_data: report.summary.conversations > 0,
        figures: export(tiles_table(&tiles, compared_word, lang)),
        tiles,
        channels: export(channels_table(&report, lang, drill)),
        agents: export(agents),
        teams: export(teams),
        topics: export(topics),
        charts,
    })
}

pub async fn overview<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Query(query): Query<PeriodQuery>,
    filter: FilterQuery,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let caller = Caller::User(signed_in.user.clone());
    let access = workspace_access(&*state.store, &caller, &name).await?;
    let base = state.site.base_url(&headers).unwrap_or_default();
    let page = overview_page(
        &state,
        lang,
        &base,
        signed_in.user.email,
        &access,
        query,
        filter,
    )
    .await?;
    Ok(render(&page)?.into_response())
}

/// How a download is written: `sep` (`semicolon` or `comma`) and `bom` (`1` or `0`).
#[derive(Debug, Default, Deserialize)]
pub struct CsvQuery {
    sep: Option<String>,
    bom: Option<String>,
}

/// `GET /w/{workspace}/export/{table}`: a table of the overview (`figures`, `channels`,
/// `agents`, `topics`) or a whole conversations list (`conversations`, with the list's subset
/// and order) as CSV: the same rows and figures as the page with the same period and filter.
pub async fn export<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path((name, table)): Path<(String, String)>,
    Query(list): Query<crate::conversations::ListQuery>,
    Query(csv): Query<CsvQuery>,
    filter: FilterQuery,
) -> Result<Response, WebError> {
    let options = CsvOptions::parse(csv.sep.as_deref(), csv.bom.as_deref(), lang)?;
    let caller = Caller::User(signed_in.user.clone());
    let access = workspace_access(&*state.store, &caller, &name).await?;
    if table == "conversations" {
        let rows =
            crate::conversations::export_table(&state, &access, &list, &filter.0, lang).await?;
        return Ok(csv_response(
            &format!("{name}-{table}.csv"),
            rows.to_csv(options),
        ));
    }
    if let Some(which) = table.strip_prefix("feedback-") {
        let rows = crate::feedback::table(
            &state,
            lang,
            signed_in.user.email,
            &access,
            list.period,
            filter,
            which,
        )
        .await?;
        return Ok(csv_response(
            &format!("{name}-{table}.csv"),
            rows.to_csv(options),
        ));
    }
    if !OVERVIEW_TABLES.contains(&table.as_str()) {
        return Err(WebError::NotFound);
    }
    let page = overview_page(
        &state,
        lang,
        "",
        signed_in.user.email,
        &access,
        list.period,
        filter,
    )
    .await?;
    let chosen = match table.as_str() {
        "figures" => &page.figures,
        "backlog" => &page.backlog.table,
        "channels" => &page.channels,
        "agents" => &page.agents,
        "teams" => &page.teams,
        _ => &page.topics,
    };
    Ok(csv_response(
        &format!("{name}-{table}.csv"),
        chosen.to_csv(options),
    ))
}

/// A CSV download.
pub fn csv_response(file_name: &str, body: Vec<u8>) -> Response {
    let file_name: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A flag on an agent's page: in words, why, and the conversations to read.
struct FlagNote {
    text: String,
    why: String,
    /// The list to read (empty for viewers).
    href: String,
    read: String,
}

/// One figure of an agent beside the team's.
struct Comparison {
    label: &'static str,
    agent: String,
    /// The agent's or team's figure in the period compared with.
    previous: String,
    delta: String,
    /// `better`, `worse` or empty.
    trend: &'static str,
    team: String,
}

#[derive(Template)]
#[template(path = "agent.html")]
struct AgentPage {
    frame: Frame,
    nav: Nav,
    workspace: String,
    /// The agent's or team's name.
    agent: String,
    /// What they stand beside: the team (for an agent) or everyone (for a team).
    whole: &'static str,
    period: String,
    rows: Vec<Comparison>,
    flags: Vec<FlagNote>,
    /// Their conversations behind the figures (label, link); empty for viewers.
    lists: Vec<(&'static str, String)>,
    form: PeriodForm,
    compared_word: &'static str,
    /// Their trends beside the whole's.
    charts: Vec<Chart>,
    /// Their figures per channel and per topic.
    tables: Vec<DataTable>,
}

/// `GET /w/{workspace}/agents/{name}`: an agent's figures beside the team's, for the period.
pub async fn agent<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path((name, agent)): Path<(String, String)>,
    Query(query): Query<PeriodQuery>,
    filter: FilterQuery,
) -> Result<Response, WebError> {
    member_page(
        &state, lang, signed_in, &name, "agent", &agent, query, filter,
    )
    .await
}

/// `GET /w/{workspace}/teams/{name}`: a team's figures beside everyone's, for the period.
pub async fn team<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path((name, team)): Path<(String, String)>,
    Query(query): Query<PeriodQuery>,
    filter: FilterQuery,
) -> Result<Response, WebError> {
    member_page(&state, lang, signed_in, &name, "team", &team, query, filter).await
}

/// The page of one agent or one team (`kind`), beside the whole of the filter.
#[allow(clippy::too_many_arguments)]
async fn member_page<S: Store + Accounts>(
    state: &AppState<S>,
    lang: Lang,
    signed_in: SignedIn,
    workspace: &str,
    kind: &'static str,
    member: &str,
    query: PeriodQuery,
    filter: FilterQuery,
) -> Result<Response, WebError> {
    let caller = Caller::User(signed_in.user.clone());
    let access = workspace_access(&*state.store, &caller, workspace).await?;
    let own_page = kind == "agent" && access.agent_name.as_deref() == Some(member);
    if access.role == Role::Agent && !own_page {
        return Err(WebError::NotFound);
    }
    let query = query.or_last_7_days();
    // The member is the page's own choice; the whole beside it is filtered like it.
    let mut filter = filter.0;
    let mut own_filter = filter.clone();
    if kind == "agent" {
        filter.agents.clear();
        own_filter.agents = vec![member.to_string()];
    } else {
        filter.teams.clear();
        own_filter.teams = vec![member.to_string()];
    }
    let whole_reports = page_reports(state, &access.workspace, &query, &filter).await?;
    let report = whole_reports.report.clone();
    // A name with conversations in the period is a page, also when the filter leaves none of
    // them (its figures are then empty).
    let empty = Default::default();
    let all = &whole_reports.all;
    let group = if kind == "agent" {
        &all.by_agent
    } else {
        all.by_team.as_ref().unwrap_or(&empty)
    };
    if !group.contains_key(member) {
        return Err(WebError::NotFound);
    }
    let own_reports = page_reports(state, &access.workspace, &query, &own_filter).await?;
    let own_report = own_reports.report.clone();
    let own = &own_report.summary;
    let own_before = own_report.previous.as_ref().map(|p| &p.summary);
    let whole = &report.summary;
    let t = lang.texts();
    let rows = [
        Figure::Conversations,
        Figure::FirstResponseMedian,
        Figure::FirstResponseWithinTarget,
        Figure::ResolutionTimeMedian,
        Figure::ResolutionRate,
        Figure::ReopenRate,
        Figure::OneTouch,
        Figure::TurnsPerConversation,
        Figure::Csat,
        Figure::Nps,
        Figure::Ces,
    ]
    .into_iter()
    .map(|figure| {
        let label = format::figure_label(figure, lang);
        // The one change computation (core::headline), written for the page.
        let (delta, trend) = format::change(figure.change(own, own_before), lang);
        Comparison {
            label,
            agent: format::figure(figure, own, lang),
            previous: own_before
                .map(|b| format::figure(figure, b, lang))
                .unwrap_or_default(),
            delta,
            trend,
            team: format::figure(figure, whole, lang),
        }
    })
    .collect();
    let period_qs = query.link(report.period);
    let ws = &access.workspace.name;
    let list = Drill::new(ws, &period_qs, &filter).narrowed(kind, member);
    // Their own conversations that explain the figures: the unsatisfied, the slowest first
    // responses, the reopened.
    let lists = if access.role.sees_conversations() {
        vec![
            (
                t.unsatisfied_conversations,
                format!("{list}&subset=unsatisfied&sort=csat"),
            ),
            (
                t.slowest_first_responses,
                format!("{list}&subset=answered&sort=first-response&desc=1"),
            ),
            (
                t.reopened_conversations,
                format!("{list}&subset=reopened&sort=reopens&desc=1"),
            ),
            (t.conversations_list, list.clone()),
        ]
    } else {
        Vec::new()
    };
    let member_name = name_label(member, lang);
    let whole_name = if kind == "agent" {
        t.team
    } else {
        t.all_conversations
    };
    let grain = whole_reports.grain;
    let lines = [
        TrendLine {
            name: &member_name,
            points: series(&own_reports.trend, grain),
            class: "line",
        },
        TrendLine {
            name: whole_name,
            points: series(&whole_reports.trend, grain),
            class: "line alt",
        },
    ];
    let charts = vec![
        first_response_trend(grain, &lines, lang),
        csat_trend(grain, &lines, whole_reports.config.targets.csat_pct, lang),
    ];
    let own_drill = access
        .role
        .sees_conversations()
        .then(|| Drill::new(ws, &period_qs, &own_filter));
    let no_tags = Default::default();
    let tables = vec![
        breakdown_table(
            "member-channels",
            t.channel,
            &own_report.by_channel,
            "channel",
            own_drill.as_ref(),
            lang,
        ),
        breakdown_table(
            "member-topics",
            t.topic,
            own_report.by_tag.as_ref().unwrap_or(&no_tags),
            "tag",
            own_drill.as_ref(),
            lang,
        ),
    ];
    let mut form = PeriodForm::new(
        format!(
            "/w/{ws}/{}/{}",
            if kind == "agent" { "agents" } else { "teams" },
            query_value(member)
        ),
        &query,
        &report,
        &whole_reports.all,
        &filter,
        access.role,
        lang,
    );
    // The page's own kind is its subject, not a filter.
    form.filters.retain(|f| f.kind != kind);
    Ok(render(&AgentPage {
        form,
        compared_word: compared_word(&own_report, lang),
        charts,
        tables,
        frame: Frame::new(lang, Some(signed_in.user.email)),
        nav: Nav::new(
            ws,
            "members",
            &data::join_query(&[&period_qs, &FilterQuery(filter.clone()).link()]),
            access.role,
        ),
        workspace: ws.clone(),
        agent: member_name.clone(),
        whole: whole_name,
        period: report
            .period
            .map(|p| format::period(p, lang))
            .unwrap_or_default(),
        rows,
        flags: agent_flags(whole, own)
            .iter()
            .map(|f| FlagNote {
                text: flag_text(f, lang),
                why: flag_why(f, lang),
                href: lists
                    .get(match f {
                        AgentFlag::CsatBelowTeam { .. } => 0,
                        AgentFlag::SlowFirstResponse { .. } => 1,
                    })
                    .map(|(_, href)| href.clone())
                    .unwrap_or_default(),
                read: match f {
                    AgentFlag::CsatBelowTeam {
                        satisfied,
                        responses,
                        ..
                    } => format!(
                        "{} {} {} →",
                        t.read_the,
                        responses - satisfied,
                        t.unhappy_conversations
                    ),
                    AgentFlag::SlowFirstResponse { .. } => {
                        format!("{} →", t.slowest_first_responses)
                    }
                },
            })
            .collect(),
        lists,
    })?
    .into_response())
}
