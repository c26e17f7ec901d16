//! The figures a request asks for: a workspace's facts (held in memory while the store's data
//! version stays the same), its configuration, and the period from the query. Metrics come from
//! `servicemeter_core::build_report`; nothing here computes a figure.

use std::sync::Arc;

use jiff::civil::Date;
use serde::Deserialize;
use servicemeter_core::config::DEFAULT_CONFIG_TOML;
use servicemeter_core::filter::Filter;
use servicemeter_core::periods::{self, Against, Compared, Preset};
use servicemeter_core::report::{GroupBy, Period, ReportOptions, local_date, resolve_period};
use servicemeter_core::time::{MAX_YEAR, MIN_YEAR};
use servicemeter_core::{FactTable, Report, WorkspaceConfig};
use servicemeter_report::parallel::build_report_on;
use servicemeter_store::{Store, Workspace};

use crate::error::WebError;
use crate::state::AppState;

/// What a computed report depends on: the workspace, its data version, the resolved period
/// and the breakdowns.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReportKey {
    workspace: i64,
    version: i64,
    /// The period and its comparison; a running one moves on each minute.
    period: Option<Compared>,
    filter: Filter,
    by: Vec<&'static str>,
}

/// What a backlog depends on: the workspace, its data version, the filter and the minute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BacklogKey {
    workspace: i64,
    version: i64,
    filter: Filter,
    minute: i64,
}

/// What waits now (counted once a minute per data version and filter).
pub async fn backlog<S: Store>(
    state: &AppState<S>,
    workspace: &Workspace,
    filter: &Filter,
) -> Result<Arc<servicemeter_core::backlog::Backlog>, WebError> {
    let config = config(workspace)?;
    let version = state.store.data_version(workspace.id).await?;
    let facts = facts_at(state, workspace, version).await?;
    let now = state.now_millis();
    let key = BacklogKey {
        workspace: workspace.id.0,
        version,
        filter: filter.clone(),
        minute: now.div_euclid(60_000),
    };
    let filter = filter.clone();
    state
        .backlogs
        .get_or_try_init(key, async move {
            tokio::task::spawn_blocking(move || {
                let calendars = servicemeter_core::Calendars::new(config);
                servicemeter_core::backlog::backlog(&facts, &calendars, &filter, now)
            })
            .await
            .map_err(|e| WebError::Internal(e.into()))
        })
        .await
}

/// The distributions the overview's charts show.
#[derive(Debug, Clone, PartialEq)]
pub struct Distributions {
    pub arrivals: [[u64; 24]; 7],
    pub first_response_buckets: [u64; 7],
}

/// The workspace's facts as its agent rules show them (aliases merged, excluded agents left
/// out), from memory when nothing changed since they were read.
pub async fn facts<S: Store>(
    state: &AppState<S>,
    workspace: &Workspace,
) -> Result<Arc<FactTable>, WebError> {
    let version = state.store.data_version(workspace.id).await?;
    facts_at(state, workspace, version).await
}

async fn facts_at<S: Store>(
    state: &AppState<S>,
    workspace: &Workspace,
    version: i64,
) -> Result<Arc<FactTable>, WebError> {
    // Older versions of this workspace's facts are never asked for again.
    state
        .facts
        .forget(|(id, held)| *id == workspace.id && *held != version);
    state
        .facts
        .get_or_try_init((workspace.id, version), async {
            let stored = state.store.facts(workspace.id, None).await?;
            let rules = config(workspace)?.agents;
            if rules.keeps_facts_as_computed() {
                return Ok(stored);
            }
            // Renaming agents touches every row: off the async workers.
            tokio::task::spawn_blocking(move || stored.with_agent_rules(&rules))
                .await
                .map_err(|e| WebError::Internal(e.into()))
        })
        .await
}

/// The workspace's configuration (the built-in one when none is stored).
pub fn config(workspace: &Workspace) -> Result<WorkspaceConfig, WebError> {
    let text = workspace
        .config_toml
        .as_deref()
        .unwrap_or(DEFAULT_CONFIG_TOML);
    WorkspaceConfig::from_toml(text).map_err(|e| {
        WebError::Internal(anyhow::anyhow!(
            "stored configuration of workspace {}: {e}",
            workspace.name
        ))
    })
}

/// Today in the workspace's time zone.
pub fn today<S>(state: &AppState<S>, config: &WorkspaceConfig) -> Date {
    local_date(state.now_millis(), &config.timezone)
}

/// Now, on the wall clock of the workspace's time zone.
pub fn local_now<S>(state: &AppState<S>, config: &WorkspaceConfig) -> jiff::civil::DateTime {
    jiff::Timestamp::from_millisecond(state.now_millis())
        .expect("the clock is in range")
        .to_zoned_datetime(config.timezone.clone())
        .datetime()
}

/// The period part of a query: `from`/`to` dates (YYYY-MM-DD) or a `preset`, and what it is
/// compared with (`compare`: `previous`, the default, or `year`).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct PeriodQuery {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub preset: Option<String>,
    #[serde(default)]
    pub compare: Option<String>,
}

/// A date parameter; `label` is its name on the Dutch form (in messages).
fn date_param(name: &str, label: &str, value: &Option<String>) -> Result<Option<Date>, WebError> {
    let Some(text) = value.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let date: Date = text.parse().map_err(|_| {
        WebError::invalid(
            format!("{label}: '{text}' is geen datum (JJJJ-MM-DD)"),
            format!("{name}: '{text}' is not a date (YYYY-MM-DD)"),
        )
    })?;
    if !(MIN_YEAR..=MAX_YEAR).contains(&i32::from(date.year())) {
        return Err(WebError::invalid(
            format!("{label}: {date} valt buiten de jaren {MIN_YEAR}–{MAX_YEAR}"),
            format!("{name}: {date} is outside the years {MIN_YEAR}–{MAX_YEAR}"),
        ));
    }
    Ok(Some(date))
}

impl PeriodQuery {
    /// What the period is compared with.
    pub fn against(&self) -> Result<Against, WebError> {
        match self
            .compare
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            None => Ok(Against::Previous),
            Some(name) => Against::parse(name).ok_or_else(|| {
                WebError::invalid(
                    format!("Vergelijk met: '{name}' is niet previous of year"),
                    format!("compare: '{name}' is not one of previous, year"),
                )
            }),
        }
    }

    /// The preset asked for, if any.
    pub fn preset(&self) -> Result<Option<Preset>, WebError> {
        match self
            .preset
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            None => Ok(None),
            Some(name) => Preset::parse(name).map(Some).ok_or_else(|| {
                WebError::invalid(
                    format!("Periode: '{name}' is niet een van {}", Preset::names()),
                    format!("preset: '{name}' is not one of {}", Preset::names()),
                )
            }),
        }
    }

    /// The period asked for and what it is compared with: a preset, or dates resolved like
    /// the command line's `--from` and `--to` (a missing end is the latest data); cut at `now`
    /// (local) when it is still running. `None` means all data.
    pub fn resolve(
        &self,
        now: jiff::civil::DateTime,
        facts: &FactTable,
        config: &WorkspaceConfig,
    ) -> Result<Option<Compared>, WebError> {
        let against = self.against()?;
        if let Some(preset) = self.preset()? {
            return Ok(Some(preset.compared(now, against)));
        }
        let from = date_param("from", crate::i18n::NL.from, &self.from)?;
        let to = date_param("to", crate::i18n::NL.to, &self.to)?;
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            return Err(WebError::invalid(
                format!("Tot en met: {to} ligt vóór {from}"),
                format!("to: {to} is before from {from}"),
            ));
        }
        // The data's range fills a missing end; with both ends (or neither) it is not needed,
        // and reading it means a pass over every row.
        let range = if from.is_some() != to.is_some() {
            facts.start_range()
        } else {
            None
        };
        Ok(
            resolve_period(&ReportOptions { from, to }, range, &config.timezone)
                .map(|p| periods::custom(p, Some(now), against)),
        )
    }

    /// The last 7 days (the pages' default period).
    pub fn last_7_days() -> PeriodQuery {
        PeriodQuery {
            preset: Some("7d".into()),
            ..PeriodQuery::default()
        }
    }

    /// This query, or the last 7 days when it names no period.
    pub fn or_last_7_days(self) -> PeriodQuery {
        if self.is_empty() {
            PeriodQuery {
                compare: self.compare,
                ..PeriodQuery::last_7_days()
            }
        } else {
            self
        }
    }

    /// The query string that gives this period again (`preset=…` or `from=…&to=…`, and
    /// `compare=year` when asked): for links from a page to the pages behind it.
    pub fn link(&self, period: Option<Period>) -> String {
        let mut parts = Vec::new();
        match self
            .preset
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            Some(preset) if Preset::parse(preset).is_some() => {
                parts.push(format!("preset={preset}"))
            }
            _ => {
                // The dates as asked (a period cut at now keeps reaching it), else as resolved.
                let asked =
                    |v: &Option<String>| v.as_deref().and_then(|t| t.trim().parse::<Date>().ok());
                let dates = match (asked(&self.from), asked(&self.to), period) {
                    (Some(from), Some(to), _) => Some((from, to)),
                    (_, _, Some(p)) => Some((p.from, p.to)),
                    _ => None,
                };
                if let Some((from, to)) = dates {
                    parts.push(format!("from={from}&to={to}"));
                }
            }
        }
        if self.against().ok() == Some(Against::YearEarlier) {
            parts.push("compare=year".into());
        }
        parts.join("&")
    }

    /// Whether the query names no period at all (a comparison alone is no period).
    pub fn is_empty(&self) -> bool {
        [&self.from, &self.to, &self.preset]
            .iter()
            .all(|v| v.as_deref().is_none_or(|t| t.trim().is_empty()))
    }
}

/// The filter part of a query: `channel`, `team`, `agent` and `tag`, each repeatable (several
/// values of one kind are alternatives), and `unassigned=1` (the older spelling of
/// `agent=(unassigned)`). Read from the raw query, where a form's checkboxes repeat a key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterQuery(pub Filter);

impl FilterQuery {
    /// The filter of a raw query string.
    pub fn parse(query: Option<&str>) -> Result<FilterQuery, WebError> {
        let mut filter = Filter::default();
        for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let list = match key.as_ref() {
                "channel" => &mut filter.channels,
                "team" => &mut filter.teams,
                "agent" => &mut filter.agents,
                "tag" => &mut filter.tags,
                "unassigned" if value == "1" => {
                    filter
                        .agents
                        .push(servicemeter_core::report::UNASSIGNED.into());
                    continue;
                }
                _ => continue,
            };
            list.push(value.into_owned());
        }
        filter
            .normalized()
            .map(FilterQuery)
            .map_err(|e| WebError::BadRequest(e.to_string()))
    }

    /// The query string that gives this filter again (`channel=chat&channel=email&…`).
    pub fn link(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (kind, values) in self.0.kinds() {
            for v in values {
                out.append_pair(kind, v);
            }
        }
        out.finish()
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for FilterQuery {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<FilterQuery, WebError> {
        FilterQuery::parse(parts.uri.query())
    }
}

/// Joins query-string parts, leaving out empty ones.
pub fn join_query(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("&")
}

/// Breakdowns from a comma-separated `by` parameter.
pub fn group_by(by: Option<&str>) -> Result<Vec<GroupBy>, WebError> {
    by.unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            GroupBy::parse(n).ok_or_else(|| {
                WebError::BadRequest(format!(
                    "by: '{n}' is not a breakdown; use channel, agent, team, tag, day, week, month"
                ))
            })
        })
        .collect()
}

/// The report of a workspace for a period (the same contract as `report --format json`),
/// computed once per data version, period and breakdowns.
pub async fn report<S: Store>(
    state: &AppState<S>,
    workspace: &Workspace,
    query: &PeriodQuery,
    filter: &Filter,
    by: &[GroupBy],
) -> Result<(Arc<Report>, WorkspaceConfig), WebError> {
    let (key, facts, config) = key_for(state, workspace, query, filter, by).await?;
    let period = key.period;
    let filter = key.filter.clone();
    let by = by.to_vec();
    let for_report = config.clone();
    let threads = state.report_threads;
    let report = state
        .reports
        .get_or_try_init(key, async move {
            // Aggregation is CPU work: off the async workers, on the server's report threads.
            tokio::task::spawn_blocking(move || {
                build_report_on(threads, &facts, &for_report, period, &filter, &by)
            })
            .await
            .map_err(|e| WebError::Internal(e.into()))
        })
        .await?;
    Ok((report, config))
}

/// The overview's distributions for the period of a report.
pub async fn distributions<S: Store>(
    state: &AppState<S>,
    workspace: &Workspace,
    query: &PeriodQuery,
    filter: &Filter,
) -> Result<Arc<Distributions>, WebError> {
    let (key, facts, config) = key_for(state, workspace, query, filter, &[]).await?;
    let bounds = key.period.map(|c| c.period.bounds(&config.timezone));
    let filter = key.filter.clone();
    state
        .distributions
        .get_or_try_init(key, async move {
            tokio::task::spawn_blocking(move || Distributions {
                arrivals: servicemeter_core::distribution::arrivals_by_weekday_hour(
                    &facts,
                    bounds,
                    &filter,
                    &config.timezone,
                ),
                first_response_buckets: servicemeter_core::distribution::first_response_buckets(
                    &facts, bounds, &filter,
                ),
            })
            .await
            .map_err(|e| WebError::Internal(e.into()))
        })
        .await
}

async fn key_for<S: Store>(
    state: &AppState<S>,
    workspace: &Workspace,
    query: &PeriodQuery,
    filter: &Filter,
    by: &[GroupBy],
) -> Result<(ReportKey, Arc<FactTable>, WorkspaceConfig), WebError> {
    let config = config(workspace)?;
    let version = state.store.data_version(workspace.id).await?;
    let facts = facts_at(state, workspace, version).await?;
    let period = query.resolve(local_now(state, &config), &facts, &config)?;
    let key = ReportKey {
        workspace: workspace.id.0,
        version,
        period,
        filter: filter.clone(),
        by: by.iter().map(|b| b.field()).collect(),
    };
    Ok((key, facts, config))
}
