//! Alerts (`[[alerts]]`, docs/reports.md): a rule says what it watches — a headline figure over
//! a recent window, the conversations waiting past their first-response target, the longest
//! wait, or the follow-ups past their due date — above or below which value, and (for survey
//! figures) how many answers it needs before it may speak. An alert fires once when its rule
//! is broken, stays quiet while it stays broken, recovers once when it is kept again, and
//! only then may fire again — no flapping. Too few answers, no value, or (unless asked) a
//! closed desk change nothing. Pure: callers pass the facts, "now" and the stored state.

use crate::config::Calendars;
use crate::filter::Filter;
use crate::headline::Figure;
use crate::report::Summary;
use crate::table::FactTable;

/// At most this many alerts per workspace.
pub const MAX_ALERTS: usize = 20;
/// The longest window of a figure's rule: a week.
pub const MAX_WINDOW_MINUTES: i64 = 7 * 24 * 60;

/// What a rule watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watched {
    /// A headline figure of the conversations that started in the rule's recent window.
    Figure(Figure),
    /// Conversations waiting now past their first-response target (a count).
    Overdue,
    /// The longest wait of a waiting customer now, in open (business) seconds.
    LongestWait,
    /// Follow-ups of unhappy answers past their due time now (a count).
    FollowUpsOverdue,
}

impl Watched {
    /// Its name in `[[alerts]] watch = "…"`: a headline figure's id, or `overdue`,
    /// `longest_wait`, `follow_ups_overdue`.
    pub fn id(self) -> &'static str {
        match self {
            Watched::Figure(f) => f.id(),
            Watched::Overdue => "overdue",
            Watched::LongestWait => "longest_wait",
            Watched::FollowUpsOverdue => "follow_ups_overdue",
        }
    }

    pub fn parse(id: &str) -> Option<Watched> {
        match id {
            "overdue" => Some(Watched::Overdue),
            "longest_wait" => Some(Watched::LongestWait),
            "follow_ups_overdue" => Some(Watched::FollowUpsOverdue),
            other => Figure::parse(other).map(Watched::Figure),
        }
    }
}

/// Where an alert is said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// Slack's incoming webhooks: `{"text": "…"}`.
    Slack,
    /// Microsoft Teams' incoming webhooks: a MessageCard with a summary and a text.
    Teams,
}

/// One configured alert.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertDefinition {
    /// 1–40 lowercase letters, digits and `-`; unique in the workspace.
    pub name: String,
    pub rule: AlertRule,
    /// Only this channel's conversations (and its opening hours).
    pub channel: Option<String>,
    /// Evaluated outside opening hours too; by default an alert speaks only while the desk
    /// (the channel's hours, else the default week) is open.
    pub always: bool,
    /// `nl` or `en`: the language of its messages.
    pub language: String,
    /// Addresses its messages are mailed to.
    pub emails: Vec<String>,
    /// An incoming-webhook address (https, or http to this machine) and its format.
    pub webhook: Option<(String, WebhookFormat)>,
}

impl AlertDefinition {
    /// What the rule reads at `now` from the facts (`follow_ups_overdue`: the stored count at
    /// `now`). Outside opening hours, unless `always`: [`Reading::Unknown`].
    pub fn evaluate(
        &self,
        table: &FactTable,
        calendars: &Calendars,
        now: i64,
        follow_ups_overdue: u64,
    ) -> Reading {
        let calendar = match &self.channel {
            Some(channel) => calendars.for_channel(channel),
            None => calendars.for_channel(""),
        };
        if !self.always && !calendar.is_open_at(now) {
            return Reading::Unknown;
        }
        let filter = Filter {
            channels: self.channel.iter().cloned().collect(),
            ..Filter::default()
        };
        match self.rule.watched {
            Watched::Figure(_) => {
                let from = now - self.rule.window_minutes * 60_000;
                let rows = filter.rows_of(table);
                let mut window = FactTable::new();
                window.extend_from(
                    table,
                    (0..table.len())
                        .filter(|&i| rows.keeps(i) && (from..now).contains(&table.start(i))),
                );
                let report = crate::report::build_report(&window, calendars.config(), None, &[]);
                self.rule.read_summary(&report.summary)
            }
            Watched::Overdue => {
                let b = crate::backlog::backlog(table, calendars, &filter, now);
                self.rule.read(Some(b.total.overdue as f64), None)
            }
            Watched::LongestWait => {
                let b = crate::backlog::backlog(table, calendars, &filter, now);
                let wait = b
                    .total
                    .oldest_wait_business_millis
                    .map(|ms| ms as f64 / 1000.0);
                // Nobody waiting: the rule is kept (no wait at all).
                self.rule.read(Some(wait.unwrap_or(0.0)), None)
            }
            Watched::FollowUpsOverdue => self.rule.read(Some(follow_ups_overdue as f64), None),
        }
    }
}

/// Which side of the threshold breaks the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breaks {
    /// The figure is above the threshold (e.g. the median first response over 120 s).
    Above,
    /// The figure is below the threshold (e.g. CSAT under 85 %).
    Below,
}

/// One alert rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    pub watched: Watched,
    pub breaks: Breaks,
    /// In the figure's own unit (seconds, percent, score).
    pub threshold: f64,
    /// The recent stretch of time the figure is computed over, in minutes.
    pub window_minutes: i64,
    /// Survey figures: fewer answers than this say nothing (0: any).
    pub min_answers: u64,
}

/// What one evaluation read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    /// Broken, with the value.
    Broken(f64),
    /// Kept, with the value.
    Kept(f64),
    /// No value, or too few answers: nothing can be said.
    Unknown,
}

impl AlertRule {
    /// The rule against a value and, for survey figures, its number of answers.
    pub fn read(&self, value: Option<f64>, answers: Option<u64>) -> Reading {
        let Some(value) = value else {
            return Reading::Unknown;
        };
        if answers.is_some_and(|n| n < self.min_answers) {
            return Reading::Unknown;
        }
        let broken = match self.breaks {
            Breaks::Above => value > self.threshold,
            Breaks::Below => value < self.threshold,
        };
        if broken {
            Reading::Broken(value)
        } else {
            Reading::Kept(value)
        }
    }

    /// The rule against a window's summary (the figure's value and answers as the report has
    /// them).
    pub fn read_summary(&self, summary: &Summary) -> Reading {
        match self.watched {
            Watched::Figure(figure) => self.read(figure.value(summary), figure.responses(summary)),
            _ => Reading::Unknown,
        }
    }
}

/// Where an alert is between evaluations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlertState {
    #[default]
    Quiet,
    Firing,
}

/// What an evaluation says to the people the alert goes to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AlertEvent {
    /// The rule is broken now (it was not before).
    Fired(f64),
    /// The rule is kept again after it fired.
    Recovered(f64),
}

/// The next state, and the event to send if any.
pub fn step(state: AlertState, reading: Reading) -> (AlertState, Option<AlertEvent>) {
    match (state, reading) {
        (AlertState::Quiet, Reading::Broken(v)) => (AlertState::Firing, Some(AlertEvent::Fired(v))),
        (AlertState::Firing, Reading::Kept(v)) => {
            (AlertState::Quiet, Some(AlertEvent::Recovered(v)))
        }
        (state, _) => (state, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(figure: Figure, breaks: Breaks, threshold: f64, min_answers: u64) -> AlertRule {
        AlertRule {
            watched: Watched::Figure(figure),
            breaks,
            threshold,
            window_minutes: 60,
            min_answers,
        }
    }

    #[test]
    fn readings() {
        let wait = rule(Figure::FirstResponseMedian, Breaks::Above, 120.0, 0);
        assert_eq!(wait.read(Some(121.0), None), Reading::Broken(121.0));
        // At the threshold the rule is kept.
        assert_eq!(wait.read(Some(120.0), None), Reading::Kept(120.0));
        assert_eq!(wait.read(None, None), Reading::Unknown);
        let csat = rule(Figure::Csat, Breaks::Below, 85.0, 20);
        assert_eq!(csat.read(Some(80.0), Some(19)), Reading::Unknown);
        assert_eq!(csat.read(Some(80.0), Some(20)), Reading::Broken(80.0));
        assert_eq!(csat.read(Some(85.0), Some(40)), Reading::Kept(85.0));
    }

    #[test]
    fn fires_once_recovers_once_and_fires_again() {
        let csat = rule(Figure::Csat, Breaks::Below, 85.0, 20);
        // Values per evaluation, with their answers.
        let evaluations = [
            (Some(90.0), 30),
            (Some(84.0), 30), // fires
            (Some(80.0), 31), // still broken: quiet
            (Some(70.0), 5),  // too few answers: nothing
            (Some(84.9), 32), // still broken: quiet
            (Some(86.0), 33), // recovers
            (Some(88.0), 33), // still kept: quiet
            (None, 0),        // no value: nothing
            (Some(83.0), 34), // fires again
        ];
        let mut state = AlertState::default();
        let mut events = Vec::new();
        for (value, answers) in evaluations {
            let (next, event) = step(state, csat.read(value, Some(answers)));
            state = next;
            events.extend(event);
        }
        assert_eq!(
            events,
            [
                AlertEvent::Fired(84.0),
                AlertEvent::Recovered(86.0),
                AlertEvent::Fired(83.0)
            ]
        );
        assert_eq!(state, AlertState::Firing);
    }
}
