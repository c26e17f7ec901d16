//! Aggregates conversation facts into the report: a period and the previous one, totals, and
//! breakdowns by channel, agent, tag, day, week or month. This is the JSON report contract.

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::config::{Targets, WorkspaceConfig};
use crate::facts::ConversationFacts;
use crate::facts::{FactNumbers, NpsGroup};
use crate::filter::Filter;
use crate::stats::{mean, percent, percentile};
use crate::table::{FactTable, NO_NAME};

/// The key used for conversations without an agent.
pub const UNASSIGNED: &str = "(unassigned)";
/// The key used for conversations without tags.
pub const UNTAGGED: &str = "(untagged)";
/// The key used for conversations without a team.
pub const NO_TEAM: &str = "(no team)";

/// A breakdown of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GroupBy {
    Channel,
    Agent,
    Team,
    Tag,
    Day,
    Week,
    Month,
}

impl GroupBy {
    /// Parses `channel`, `agent`, `team`, `tag`, `day`, `week` or `month`.
    pub fn parse(text: &str) -> Option<GroupBy> {
        Some(match text.trim() {
            "channel" => GroupBy::Channel,
            "agent" => GroupBy::Agent,
            "team" => GroupBy::Team,
            "tag" => GroupBy::Tag,
            "day" => GroupBy::Day,
            "week" => GroupBy::Week,
            "month" => GroupBy::Month,
            _ => return None,
        })
    }

    /// The report field that holds this breakdown (`by_channel`, …).
    pub fn field(self) -> &'static str {
        match self {
            GroupBy::Channel => "by_channel",
            GroupBy::Agent => "by_agent",
            GroupBy::Team => "by_team",
            GroupBy::Tag => "by_tag",
            GroupBy::Day => "by_day",
            GroupBy::Week => "by_week",
            GroupBy::Month => "by_month",
        }
    }
}

pub use crate::periods::Period;
use crate::periods::{Against, Compared};

/// The local date of an instant.
pub fn local_date(millis: i64, tz: &TimeZone) -> Date {
    jiff::Timestamp::from_millisecond(millis)
        .expect("instant in range")
        .to_zoned_datetime(tz.clone())
        .date()
}

/// Seconds from milliseconds, as a JSON number, to the millisecond (interpolated percentiles
/// and means would otherwise carry float noise such as `9162.600000000006`).
fn secs(ms: Option<f64>) -> Option<f64> {
    ms.map(|v| v.round() / 1000.0)
}

/// First-response figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FirstResponseSummary {
    /// Inbound conversations with a first response.
    pub count: u64,
    /// Inbound conversations without an agent message.
    pub unanswered: u64,
    pub median_business_seconds: Option<f64>,
    pub p90_business_seconds: Option<f64>,
    pub mean_business_seconds: Option<f64>,
    pub median_seconds: Option<f64>,
    /// First responses within the target of their channel.
    pub within_target: u64,
    pub within_target_pct: Option<f64>,
    /// unanswered / inbound × 100 (for calls: the abandonment rate).
    pub unanswered_pct: Option<f64>,
}

/// Resolution figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolutionSummary {
    pub resolved: u64,
    /// resolved / conversations × 100.
    pub resolution_rate_pct: Option<f64>,
    pub median_business_seconds: Option<f64>,
    pub median_seconds: Option<f64>,
    /// Conversations reopened at least once.
    pub reopened_conversations: u64,
    /// reopened_conversations / conversations × 100.
    pub reopen_rate_pct: Option<f64>,
    pub one_touch: u64,
    /// one_touch / resolved × 100.
    pub one_touch_pct: Option<f64>,
    /// Mean calendar time from the first response to the resolution, over resolved
    /// conversations that had a first response (for calls: the average handle time).
    pub mean_handle_seconds: Option<f64>,
}

/// Back-and-forth figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExchangeSummary {
    pub customer_messages: u64,
    pub agent_messages: u64,
    /// Agent messages per conversation.
    pub replies_per_conversation: Option<f64>,
    /// Agent turns per conversation.
    pub agent_turns_per_conversation: Option<f64>,
}

/// CSAT figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CsatSummary {
    pub responses: u64,
    pub satisfied: u64,
    pub satisfied_pct: Option<f64>,
    /// Mean score as answered.
    pub average: Option<f64>,
}

/// NPS figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NpsSummary {
    pub responses: u64,
    /// promoters_pct − detractors_pct.
    pub score: Option<f64>,
    pub promoters_pct: Option<f64>,
    pub passives_pct: Option<f64>,
    pub detractors_pct: Option<f64>,
}

/// CES figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CesSummary {
    pub responses: u64,
    pub average: Option<f64>,
    /// % above the scale midpoint − % below it.
    pub net: Option<f64>,
}

/// All figures of one set of conversations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub conversations: u64,
    pub first_response: FirstResponseSummary,
    pub resolution: ResolutionSummary,
    pub messages: ExchangeSummary,
    pub csat: CsatSummary,
    pub nps: NpsSummary,
    pub ces: CesSummary,
}

pub use crate::facts::csat_satisfied;

/// Collects facts one at a time; [`Accumulator::finish`] gives the [`Summary`].
#[derive(Debug, Default, Clone)]
pub struct Accumulator {
    conversations: u64,
    first_response_business: Vec<i64>,
    first_response_calendar: Vec<i64>,
    unanswered: u64,
    within_target: u64,
    resolved: u64,
    resolution_business: Vec<i64>,
    resolution_calendar: Vec<i64>,
    reopened: u64,
    one_touch: u64,
    customer_messages: u64,
    agent_messages: u64,
    agent_turns: u64,
    csat_responses: u64,
    csat_satisfied: u64,
    csat_sum: f64,
    nps_responses: u64,
    nps_promoters: u64,
    nps_passives: u64,
    nps_detractors: u64,
    ces_responses: u64,
    ces_sum: f64,
    ces_above: u64,
    ces_below: u64,
    handle_millis_sum: i64,
    handle_count: u64,
}

impl Accumulator {
    /// Adds one conversation; `target_millis` is the first-response target of its channel.
    pub fn add(&mut self, f: &FactNumbers, target_millis: i64) {
        self.conversations += 1;
        if let Some((business, calendar)) = f.first_response() {
            self.first_response_business.push(business);
            self.first_response_calendar.push(calendar);
            if f.within_target(target_millis) == Some(true) {
                self.within_target += 1;
            }
        } else if f.unanswered() {
            self.unanswered += 1;
        }
        if f.resolved
            && let (Some(resolution), Some(first)) = (f.resolution_millis, f.first_response_millis)
        {
            self.handle_millis_sum += (resolution - first).max(0);
            self.handle_count += 1;
        }
        if f.resolved {
            self.resolved += 1;
            if let Some(v) = f.resolution_business_millis {
                self.resolution_business.push(v);
            }
            if let Some(v) = f.resolution_millis {
                self.resolution_calendar.push(v);
            }
        }
        if f.reopened() {
            self.reopened += 1;
        }
        if f.one_touch {
            self.one_touch += 1;
        }
        self.customer_messages += u64::from(f.customer_messages);
        self.agent_messages += u64::from(f.agent_messages);
        self.agent_turns += u64::from(f.agent_turns);
        if let Some(a) = f.csat {
            self.csat_responses += 1;
            self.csat_sum += a.score;
            if f.satisfied() == Some(true) {
                self.csat_satisfied += 1;
            }
        }
        if let Some(group) = f.nps_group() {
            self.nps_responses += 1;
            match group {
                NpsGroup::Promoter => self.nps_promoters += 1,
                NpsGroup::Passive => self.nps_passives += 1,
                NpsGroup::Detractor => self.nps_detractors += 1,
            }
        }
        if let (Some(a), Some(effort)) = (f.ces, f.effort()) {
            self.ces_responses += 1;
            self.ces_sum += a.score;
            match effort {
                std::cmp::Ordering::Greater => self.ces_above += 1,
                std::cmp::Ordering::Less => self.ces_below += 1,
                std::cmp::Ordering::Equal => {}
            }
        }
    }

    /// Adds what another accumulator collected.
    pub fn merge(&mut self, other: Accumulator) {
        self.conversations += other.conversations;
        self.first_response_business
            .extend(other.first_response_business);
        self.first_response_calendar
            .extend(other.first_response_calendar);
        self.unanswered += other.unanswered;
        self.within_target += other.within_target;
        self.resolved += other.resolved;
        self.resolution_business.extend(other.resolution_business);
        self.resolution_calendar.extend(other.resolution_calendar);
        self.reopened += other.reopened;
        self.one_touch += other.one_touch;
        self.customer_messages += other.customer_messages;
        self.agent_messages += other.agent_messages;
        self.agent_turns += other.agent_turns;
        self.csat_responses += other.csat_responses;
        self.csat_satisfied += other.csat_satisfied;
        self.csat_sum += other.csat_sum;
        self.nps_responses += other.nps_responses;
        self.nps_promoters += other.nps_promoters;
        self.nps_passives += other.nps_passives;
        self.nps_detractors += other.nps_detractors;
        self.ces_responses += other.ces_responses;
        self.ces_sum += other.ces_sum;
        self.ces_above += other.ces_above;
        self.ces_below += other.ces_below;
        self.handle_millis_sum += other.handle_millis_sum;
        self.handle_count += other.handle_count;
    }

    /// The figures.
    pub fn finish(mut self) -> Summary {
        let n = self.conversations;
        let per_conversation = |total: u64| {
            if n == 0 {
                None
            } else {
                Some(total as f64 / n as f64)
            }
        };
        let answered = self.first_response_business.len() as u64;
        let nps_promoters_pct = percent(self.nps_promoters, self.nps_responses);
        let nps_detractors_pct = percent(self.nps_detractors, self.nps_responses);
        Summary {
            conversations: n,
            first_response: FirstResponseSummary {
                count: answered,
                unanswered: self.unanswered,
                median_business_seconds: secs(percentile(&mut self.first_response_business, 0.5)),
                p90_business_seconds: secs(percentile(&mut self.first_response_business, 0.9)),
                mean_business_seconds: secs(mean(&self.first_response_business)),
                median_seconds: secs(percentile(&mut self.first_response_calendar, 0.5)),
                within_target: self.within_target,
                within_target_pct: percent(self.within_target, answered),
                unanswered_pct: percent(self.unanswered, answered + self.unanswered),
            },
            resolution: ResolutionSummary {
                resolved: self.resolved,
                resolution_rate_pct: percent(self.resolved, n),
                median_business_seconds: secs(percentile(&mut self.resolution_business, 0.5)),
                median_seconds: secs(percentile(&mut self.resolution_calendar, 0.5)),
                reopened_conversations: self.reopened,
                reopen_rate_pct: percent(self.reopened, n),
                one_touch: self.one_touch,
                one_touch_pct: percent(self.one_touch, self.resolved),
                mean_handle_seconds: secs(
                    (self.handle_count > 0)
                        .then(|| self.handle_millis_sum as f64 / self.handle_count as f64),
                ),
            },
            messages: ExchangeSummary {
                customer_messages: self.customer_messages,
                agent_messages: self.agent_messages,
                replies_per_conversation: per_conversation(self.agent_messages),
                agent_turns_per_conversation: per_conversation(self.agent_turns),
            },
            csat: CsatSummary {
                responses: self.csat_responses,
                satisfied: self.csat_satisfied,
                satisfied_pct: percent(self.csat_satisfied, self.csat_responses),
                average: (self.csat_responses > 0)
                    .then(|| self.csat_sum / self.csat_responses as f64),
            },
            nps: NpsSummary {
                responses: self.nps_responses,
                score: nps_promoters_pct
                    .zip(nps_detractors_pct)
                    .map(|(p, d)| p - d),
                promoters_pct: nps_promoters_pct,
                passives_pct: percent(self.nps_passives, self.nps_responses),
                detractors_pct: nps_detractors_pct,
            },
            ces: CesSummary {
                responses: self.ces_responses,
                average: (self.ces_responses > 0).then(|| self.ces_sum / self.ces_responses as f64),
                net: percent(self.ces_above, self.ces_responses)
                    .zip(percent(self.ces_below, self.ces_responses))
                    .map(|(a, b)| a - b),
            },
        }
    }
}

/// One target, its actual value and whether it is met (`None` when there is no value yet).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetCheck {
    pub target: f64,
    pub actual: Option<f64>,
    pub met: Option<bool>,
}

/// The report's targets with their status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetsReport {
    /// Per channel: the first-response target in seconds (used for `within_target_pct`).
    pub first_response_seconds: BTreeMap<String, f64>,
    pub first_response_default_seconds: f64,
    /// Median first response (business seconds) per channel: at most the target.
    pub median_first_response_seconds: BTreeMap<String, TargetCheck>,
    /// CSAT satisfied %: at least the target.
    pub csat_pct: TargetCheck,
    /// Resolution rate %: at least the target.
    pub resolution_pct: TargetCheck,
}

impl TargetsReport {
    /// The first-response target of a channel in seconds (its own, else the default).
    pub fn first_response_seconds_for(&self, channel: &str) -> f64 {
        self.first_response_seconds
            .get(channel)
            .copied()
            .unwrap_or(self.first_response_default_seconds)
    }
}

/// A period's dates and figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodSummary {
    pub period: Period,
    /// What it is to the report's period: the previous period or the year before.
    pub against: Against,
    #[serde(flatten)]
    pub summary: Summary,
}

/// The whole report (the JSON contract of `report --format json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub timezone: String,
    /// `None` when the report covers all data.
    pub period: Option<Period>,
    #[serde(flatten)]
    pub summary: Summary,
    /// The period compared with (only with a period): the previous one, or the same
    /// period a year earlier; cut at the same point as the report's period when that is
    /// still running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<PeriodSummary>,
    pub by_channel: BTreeMap<String, Summary>,
    pub by_agent: BTreeMap<String, Summary>,
    /// By the conversation's team, `(no team)` for none (only when asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_team: Option<BTreeMap<String, Summary>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_tag: Option<BTreeMap<String, Summary>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_day: Option<BTreeMap<String, Summary>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_week: Option<BTreeMap<String, Summary>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_month: Option<BTreeMap<String, Summary>>,
    pub targets: TargetsReport,
    /// Conversations per tag in the period compared with (with `by_tag` and a period): each
    /// topic's change. Not part of the JSON contract.
    #[serde(skip)]
    pub previous_by_tag: Option<BTreeMap<String, u64>>,
}

impl Report {
    /// A breakdown by name, when present.
    pub fn breakdown(&self, by: GroupBy) -> Option<&BTreeMap<String, Summary>> {
        match by {
            GroupBy::Channel => Some(&self.by_channel),
            GroupBy::Agent => Some(&self.by_agent),
            GroupBy::Team => self.by_team.as_ref(),
            GroupBy::Tag => self.by_tag.as_ref(),
            GroupBy::Day => self.by_day.as_ref(),
            GroupBy::Week => self.by_week.as_ref(),
            GroupBy::Month => self.by_month.as_ref(),
        }
    }
}

/// The dates asked for (`--from`, `--to`), before they are resolved into a [`Period`].
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    pub from: Option<Date>,
    pub to: Option<Date>,
}

/// Turns `--from`/`--to` into a period: a missing end is the date of the latest conversation
/// start, a missing beginning that of the earliest. `None` when neither is given.
pub fn resolve_period(
    options: &ReportOptions,
    start_range: Option<(i64, i64)>,
    tz: &TimeZone,
) -> Option<Period> {
    if options.from.is_none() && options.to.is_none() {
        return None;
    }
    let (first, last) = start_range
        .map(|(a, b)| (local_date(a, tz), local_date(b, tz)))
        .unwrap_or_else(|| {
            let d = options.from.or(options.to).expect("one is set");
            (d, d)
        });
    let from = options.from.unwrap_or(first);
    let to = options.to.unwrap_or(last).max(from);
    Some(Period::new(from, to))
}

fn iso_week_key(date: Date) -> String {
    let week = date.iso_week_date();
    format!("{}-W{:02}", week.year(), week.week())
}

/// Earliest and latest conversation start among facts.
pub fn start_range(facts: &[ConversationFacts]) -> Option<(i64, i64)> {
    facts
        .iter()
        .map(|f| f.start)
        .fold(None, |acc, s| match acc {
            None => Some((s, s)),
            Some((a, b)) => Some((s.min(a), s.max(b))),
        })
}

/// Per-group accumulators keyed by dictionary index (channel, agent, tag) or by date label.
#[derive(Default)]
struct Groups {
    by_name: HashMap<u32, Accumulator>,
    by_label: HashMap<String, Accumulator>,
}

impl Groups {
    fn add_name(&mut self, key: u32, n: &FactNumbers, target: i64) {
        self.by_name.entry(key).or_default().add(n, target);
    }

    fn add_label(&mut self, key: String, n: &FactNumbers, target: i64) {
        self.by_label.entry(key).or_default().add(n, target);
    }

    fn merge(&mut self, other: Groups) {
        for (k, acc) in other.by_name {
            self.by_name.entry(k).or_default().merge(acc);
        }
        for (k, acc) in other.by_label {
            self.by_label.entry(k).or_default().merge(acc);
        }
    }

    fn finish(self, table: &FactTable, none_label: &str) -> BTreeMap<String, Summary> {
        let mut out: BTreeMap<String, Summary> = self
            .by_label
            .into_iter()
            .map(|(k, acc)| (k, acc.finish()))
            .collect();
        for (key, acc) in self.by_name {
            let name = if key == NO_NAME {
                none_label.to_string()
            } else {
                table.name(key).to_string()
            };
            out.insert(name, acc.finish());
        }
        out
    }
}

/// Builds the report from the facts of the conversations (any order; facts outside the period
/// and its previous period are ignored), on the calling thread. Callers that want several
/// threads use [`ReportPlan`]: aggregate row ranges on threads of their own and merge.
pub fn build_report(
    table: &FactTable,
    config: &WorkspaceConfig,
    period: Option<Period>,
    by: &[GroupBy],
) -> Report {
    let plan = ReportPlan::new(table, config, period.map(Compared::with_previous), by);
    let partial = plan.aggregate(0..table.len());
    plan.finish(partial)
}

/// A report being computed: what every row range needs (period bounds, targets per channel,
/// the breakdowns), made once. [`ReportPlan::aggregate`] is the sequential kernel over a range
/// of rows; the [`ReportPartial`]s of disjoint ranges [`merge`](ReportPartial::merge) in any
/// order into the same report.
pub struct ReportPlan<'a> {
    table: &'a FactTable,
    config: &'a WorkspaceConfig,
    period: Option<Period>,
    previous_period: Option<Period>,
    against: Against,
    current_bounds: Option<(i64, i64)>,
    previous_bounds: Option<(i64, i64)>,
    /// First-response target per channel, by dictionary index.
    targets_by_name: Vec<i64>,
    wanted: Vec<GroupBy>,
    needs_date: bool,
    filter: Filter,
}

/// The aggregates of some rows of a report.
pub struct ReportPartial {
    total: Accumulator,
    previous: Accumulator,
    groups: BTreeMap<GroupBy, Groups>,
    /// Conversations per tag (dictionary index) in the period compared with.
    previous_tags: BTreeMap<u32, u64>,
}

impl ReportPartial {
    /// Adds the aggregates of other rows (of the same plan).
    pub fn merge(&mut self, other: ReportPartial) {
        self.total.merge(other.total);
        self.previous.merge(other.previous);
        for (tag, n) in other.previous_tags {
            *self.previous_tags.entry(tag).or_default() += n;
        }
        for (by, other) in other.groups {
            self.groups
                .get_mut(&by)
                .expect("partials of one plan have the same groups")
                .merge(other);
        }
    }
}

impl<'a> ReportPlan<'a> {
    /// A plan for `compared` (a period and the one it is compared with; `None`: all data).
    pub fn new(
        table: &'a FactTable,
        config: &'a WorkspaceConfig,
        compared: Option<Compared>,
        by: &[GroupBy],
    ) -> ReportPlan<'a> {
        let period = compared.map(|c| c.period);
        let tz = &config.timezone;
        let targets_by_name = table.first_response_targets(&config.targets);
        let mut wanted = vec![GroupBy::Channel, GroupBy::Agent];
        for extra in by {
            if !wanted.contains(extra) {
                wanted.push(*extra);
            }
        }
        let needs_date = wanted
            .iter()
            .any(|b| matches!(b, GroupBy::Day | GroupBy::Week | GroupBy::Month));
        let previous_period = compared.map(|c| c.comparison);
        ReportPlan {
            table,
            config,
            period,
            previous_period,
            against: compared.map_or(Against::Previous, |c| c.against),
            current_bounds: period.map(|p| p.bounds(tz)),
            previous_bounds: previous_period.map(|p| p.bounds(tz)),
            targets_by_name,
            wanted,
            needs_date,
            filter: Filter::default(),
        }
    }

    /// The plan for the conversations that pass `filter` only (both periods, every breakdown).
    pub fn with_filter(mut self, filter: &Filter) -> ReportPlan<'a> {
        self.filter = filter.clone();
        self
    }

    /// The table the plan reads.
    pub fn table(&self) -> &'a FactTable {
        self.table
    }

    /// Aggregates the rows of a range (the sequential kernel).
    pub fn aggregate(&self, rows: std::ops::Range<usize>) -> ReportPartial {
        let table = self.table;
        let tz = &self.config.timezone;
        let mut total = Accumulator::default();
        let mut previous = Accumulator::default();
        let mut groups: BTreeMap<GroupBy, Groups> = self
            .wanted
            .iter()
            .map(|b| (*b, Groups::default()))
            .collect();
        let filter = self.filter.rows_of(table);
        let filtered = !filter.keeps_all();
        let mut previous_tags: BTreeMap<u32, u64> = BTreeMap::new();
        let count_previous_tags = self.wanted.contains(&GroupBy::Tag);
        for i in rows {
            if filtered && !filter.keeps(i) {
                continue;
            }
            let start = table.start(i);
            let n = table.numbers(i);
            let target = self.targets_by_name[table.channel_index(i) as usize];
            if let Some((a, b)) = self.current_bounds
                && (start < a || start >= b)
            {
                if let Some((pa, pb)) = self.previous_bounds
                    && start >= pa
                    && start < pb
                {
                    previous.add(&n, target);
                    if count_previous_tags {
                        let tags = table.tags(i);
                        if tags.is_empty() {
                            *previous_tags.entry(NO_NAME).or_default() += 1;
                        }
                        for &tag in tags {
                            *previous_tags.entry(tag).or_default() += 1;
                        }
                    }
                }
                continue;
            }
            total.add(&n, target);
            let date = self.needs_date.then(|| local_date(start, tz));
            for (group, acc) in groups.iter_mut() {
                match group {
                    GroupBy::Channel => acc.add_name(table.channel_index(i), &n, target),
                    GroupBy::Agent => acc.add_name(table.agent_index(i), &n, target),
                    GroupBy::Team => acc.add_name(table.team_index(i), &n, target),
                    GroupBy::Tag => {
                        let tags = table.tags(i);
                        if tags.is_empty() {
                            acc.add_name(NO_NAME, &n, target);
                        }
                        for &tag in tags {
                            acc.add_name(tag, &n, target);
                        }
                    }
                    GroupBy::Day => acc.add_label(date.expect("computed").to_string(), &n, target),
                    GroupBy::Week => {
                        acc.add_label(iso_week_key(date.expect("computed")), &n, target)
                    }
                    GroupBy::Month => acc.add_label(
                        date.expect("computed").strftime("%Y-%m").to_string(),
                        &n,
                        target,
                    ),
                }
            }
        }
        ReportPartial {
            total,
            previous,
            groups,
            previous_tags,
        }
    }

    /// The report of the merged partials of every row.
    pub fn finish(&self, partial: ReportPartial) -> Report {
        let ReportPartial {
            total,
            previous,
            groups,
            previous_tags,
        } = partial;
        let previous_by_tag =
            (self.previous_period.is_some() && self.wanted.contains(&GroupBy::Tag)).then(|| {
                previous_tags
                    .into_iter()
                    .map(|(tag, n)| {
                        let name = if tag == NO_NAME {
                            UNTAGGED.to_string()
                        } else {
                            self.table.name(tag).to_string()
                        };
                        (name, n)
                    })
                    .collect()
            });
        let mut finished: BTreeMap<GroupBy, BTreeMap<String, Summary>> = groups
            .into_iter()
            .map(|(by, g)| {
                let none_label = match by {
                    GroupBy::Tag => UNTAGGED,
                    GroupBy::Team => NO_TEAM,
                    _ => UNASSIGNED,
                };
                (by, g.finish(self.table, none_label))
            })
            .collect();
        let summary = total.finish();
        let targets = targets_report(&self.config.targets, &summary, &finished[&GroupBy::Channel]);
        Report {
            timezone: self.config.timezone_name.clone(),
            period: self.period,
            previous: self.previous_period.map(|p| PeriodSummary {
                period: p,
                against: self.against,
                summary: previous.finish(),
            }),
            summary,
            by_channel: finished.remove(&GroupBy::Channel).unwrap_or_default(),
            by_agent: finished.remove(&GroupBy::Agent).unwrap_or_default(),
            by_team: finished.remove(&GroupBy::Team),
            by_tag: finished.remove(&GroupBy::Tag),
            by_day: finished.remove(&GroupBy::Day),
            by_week: finished.remove(&GroupBy::Week),
            by_month: finished.remove(&GroupBy::Month),
            targets,
            previous_by_tag,
        }
    }
}

fn targets_report(
    targets: &Targets,
    summary: &Summary,
    by_channel: &BTreeMap<String, Summary>,
) -> TargetsReport {
    let at_least = |target: f64, actual: Option<f64>| TargetCheck {
        target,
        actual,
        met: actual.map(|a| a >= target),
    };
    TargetsReport {
        first_response_seconds: targets
            .first_response
            .iter()
            .map(|(c, d)| (c.to_string(), d.seconds as f64))
            .collect(),
        first_response_default_seconds: targets.first_response_default.seconds as f64,
        median_first_response_seconds: targets
            .median_first_response
            .iter()
            .map(|(c, d)| {
                let actual = by_channel
                    .get(c.as_str())
                    .and_then(|s| s.first_response.median_business_seconds);
                let target = d.seconds as f64;
                (
                    c.to_string(),
                    TargetCheck {
                        target,
                        actual,
                        met: actual.map(|a| a <= target),
                    },
                )
            })
            .collect(),
        csat_pct: at_least(targets.csat_pct, summary.csat.satisfied_pct),
        resolution_pct: at_least(
            targets.resolution_pct,
            summary.resolution.resolution_rate_pct,
        ),
    }
}
