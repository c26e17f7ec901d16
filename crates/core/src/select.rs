//! Which conversations stand behind a figure: a selection of fact-table rows by period,
//! channel, agent, tag and the figure's own condition, in a chosen order. Drill-down pages and
//! the conversations API list these rows.

use crate::config::WorkspaceConfig;
use crate::facts::{FactNumbers, NpsGroup};
use crate::filter::Filter;
use crate::model::SurveyKind;
use crate::table::FactTable;

/// The value listed under `name` in a table of names (how the enums of URLs and the CLI read).
pub(crate) fn value_of<T: Copy>(names: &[(&'static str, T)], name: &str) -> Option<T> {
    names.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// The name a value is listed under in a table of names.
pub(crate) fn name_of<T: PartialEq>(names: &[(&'static str, T)], value: T) -> &'static str {
    names
        .iter()
        .find(|(_, v)| *v == value)
        .map(|(n, _)| *n)
        .expect("every value is listed")
}

/// The condition of a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Subset {
    #[default]
    All,
    /// Inbound with a first response.
    Answered,
    Unanswered,
    /// First response (business time) within the channel's target.
    WithinTarget,
    OverTarget,
    Resolved,
    Unresolved,
    Reopened,
    OneTouch,
    /// With a CSAT answer.
    Csat,
    Satisfied,
    Unsatisfied,
    Nps,
    /// NPS 0–6.
    Detractors,
    Ces,
    /// CES below the middle of its scale (it was hard).
    HardEffort,
}

impl Subset {
    pub const ALL: [(&'static str, Subset); 16] = [
        ("all", Subset::All),
        ("answered", Subset::Answered),
        ("unanswered", Subset::Unanswered),
        ("within-target", Subset::WithinTarget),
        ("over-target", Subset::OverTarget),
        ("resolved", Subset::Resolved),
        ("unresolved", Subset::Unresolved),
        ("reopened", Subset::Reopened),
        ("one-touch", Subset::OneTouch),
        ("csat", Subset::Csat),
        ("satisfied", Subset::Satisfied),
        ("unsatisfied", Subset::Unsatisfied),
        ("nps", Subset::Nps),
        ("detractors", Subset::Detractors),
        ("ces", Subset::Ces),
        ("hard-effort", Subset::HardEffort),
    ];

    pub fn parse(name: &str) -> Option<Subset> {
        value_of(&Subset::ALL, name)
    }

    pub fn name(self) -> &'static str {
        name_of(&Subset::ALL, self)
    }

    /// Whether a conversation is in the subset; `target_millis` is its channel's
    /// first-response target. The conditions are `FactNumbers`' own, the ones the figures count.
    pub fn holds(self, n: &FactNumbers, target_millis: i64) -> bool {
        // An anonymous answer counts in the figures but is never listed beside its
        // conversation: lists of answers leave such conversations out (docs/surveys.md).
        if n.anonymous && self.is_about_answers() {
            return false;
        }
        match self {
            Subset::All => true,
            Subset::Answered => n.first_response().is_some(),
            Subset::Unanswered => n.unanswered(),
            Subset::WithinTarget => n.within_target(target_millis) == Some(true),
            Subset::OverTarget => n.within_target(target_millis) == Some(false),
            Subset::Resolved => n.resolved,
            Subset::Unresolved => !n.resolved,
            Subset::Reopened => n.reopened(),
            Subset::OneTouch => n.one_touch,
            Subset::Csat => n.csat.is_some(),
            Subset::Satisfied => n.satisfied() == Some(true),
            Subset::Unsatisfied => n.satisfied() == Some(false),
            Subset::Nps => n.nps.is_some(),
            Subset::Detractors => n.nps_group() == Some(NpsGroup::Detractor),
            Subset::Ces => n.ces.is_some(),
            Subset::HardEffort => n.effort() == Some(std::cmp::Ordering::Less),
        }
    }
}

impl Subset {
    /// A subset of the conversations with a survey answer.
    pub fn is_about_answers(self) -> bool {
        matches!(
            self,
            Subset::Csat
                | Subset::Satisfied
                | Subset::Unsatisfied
                | Subset::Nps
                | Subset::Detractors
                | Subset::Ces
                | Subset::HardEffort
        )
    }
}

/// The order of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Start,
    FirstResponse,
    Resolution,
    Reopens,
    AgentTurns,
    Csat,
    Nps,
    Ces,
}

impl SortKey {
    pub const ALL: [(&'static str, SortKey); 8] = [
        ("start", SortKey::Start),
        ("first-response", SortKey::FirstResponse),
        ("resolution", SortKey::Resolution),
        ("reopens", SortKey::Reopens),
        ("turns", SortKey::AgentTurns),
        ("csat", SortKey::Csat),
        ("nps", SortKey::Nps),
        ("ces", SortKey::Ces),
    ];

    pub fn parse(name: &str) -> Option<SortKey> {
        value_of(&SortKey::ALL, name)
    }

    pub fn name(self) -> &'static str {
        name_of(&SortKey::ALL, self)
    }
}

/// Which rows to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    /// Start in `[from, to)` (UTC ms), as the report's period.
    pub start_between: Option<(i64, i64)>,
    /// Channels, teams, agents and tags, as the report's filter.
    pub filter: Filter,
    pub subset: Subset,
}

/// Rows of `table` in the selection, ordered by `sort` (rows without a value last), ties by
/// start then conversation id.
pub fn select(
    table: &FactTable,
    config: &WorkspaceConfig,
    selection: &Selection,
    sort: SortKey,
    descending: bool,
) -> Vec<usize> {
    let filter = selection.filter.rows_of(table);
    let targets = table.first_response_targets(&config.targets);
    let mut rows: Vec<usize> = (0..table.len())
        .filter(|&i| {
            if let Some((from, to)) = selection.start_between {
                let start = table.start(i);
                if start < from || start >= to {
                    return false;
                }
            }
            if !filter.keeps(i) {
                return false;
            }
            let channel = table.channel_index(i);
            selection
                .subset
                .holds(&table.numbers(i), targets[channel as usize])
        })
        .collect();
    let key = |i: usize| -> Option<f64> {
        let n = table.numbers(i);
        match sort {
            SortKey::Start => Some(table.start(i) as f64),
            SortKey::FirstResponse => n.first_response_business_millis.map(|v| v as f64),
            SortKey::Resolution => n.resolution_business_millis.map(|v| v as f64),
            SortKey::Reopens => Some(f64::from(n.reopens)),
            SortKey::AgentTurns => Some(f64::from(n.agent_turns)),
            SortKey::Csat => n.listed(SurveyKind::Csat).map(|a| a.score),
            SortKey::Nps => n.listed(SurveyKind::Nps).map(|a| a.score),
            SortKey::Ces => n.listed(SurveyKind::Ces).map(|a| a.score),
        }
    };
    rows.sort_by(|&a, &b| {
        let by_value = match (key(a), key(b)) {
            (Some(x), Some(y)) if descending => y.total_cmp(&x),
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        by_value
            .then(table.start(a).cmp(&table.start(b)))
            .then_with(|| table.conversation(a).cmp(table.conversation(b)))
    });
    rows
}
