//! What is waiting right now: open conversations, those where the customer waits for the
//! team, the longest wait in business time, and the first responses that are due soon or
//! overdue against their channel's target — in all, per channel and per team. Counted at the
//! `now` the caller passes (core has no clock), over the conversations that started by then
//! and pass the filter.

use std::collections::BTreeMap;

use crate::config::Calendars;
use crate::filter::Filter;
use crate::report::NO_TEAM;
use crate::table::{FactTable, NO_NAME};

/// A first response is due soon in the last quarter of its target (of 4 hours: after 3 hours
/// of open time without a reply).
pub const DUE_SOON_SHARE: f64 = 0.75;

/// The counts of one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BacklogCounts {
    /// Not resolved.
    pub open: u64,
    /// Open, and the customer spoke last.
    pub waiting: u64,
    /// Open, inbound, no first response, past three quarters of the target (not past it).
    pub due_soon: u64,
    /// Open, inbound, no first response, past the target.
    pub overdue: u64,
    /// The longest wait of a waiting customer, in open (business) milliseconds.
    pub oldest_wait_business_millis: Option<i64>,
}

impl BacklogCounts {
    fn add(&mut self, other: &BacklogCounts) {
        self.open += other.open;
        self.waiting += other.waiting;
        self.due_soon += other.due_soon;
        self.overdue += other.overdue;
        self.oldest_wait_business_millis = self
            .oldest_wait_business_millis
            .max(other.oldest_wait_business_millis);
    }
}

/// The backlog in all, per channel and per team (`(no team)` for none).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Backlog {
    pub total: BacklogCounts,
    pub by_channel: BTreeMap<String, BacklogCounts>,
    pub by_team: BTreeMap<String, BacklogCounts>,
}

/// The backlog at `now` (UTC ms).
pub fn backlog(table: &FactTable, calendars: &Calendars, filter: &Filter, now: i64) -> Backlog {
    let rows = filter.rows_of(table);
    let targets = table.first_response_targets(&calendars.config().targets);
    let mut by_channel: BTreeMap<u32, BacklogCounts> = BTreeMap::new();
    let mut by_team: BTreeMap<u32, BacklogCounts> = BTreeMap::new();
    for i in 0..table.len() {
        if table.start(i) > now || !rows.keeps(i) {
            continue;
        }
        let n = table.numbers(i);
        if n.resolved {
            continue;
        }
        let channel = table.channel_index(i);
        let calendar = calendars.for_channel(table.name(channel));
        let mut counts = BacklogCounts {
            open: 1,
            ..BacklogCounts::default()
        };
        if let Some(since) = n.waiting_since.filter(|&s| s <= now) {
            counts.waiting = 1;
            counts.oldest_wait_business_millis = Some(calendar.open_millis_between(since, now));
        }
        if n.inbound && n.first_response_millis.is_none() {
            let target = targets[channel as usize];
            let waited = calendar.open_millis_between(table.start(i), now);
            if waited > target {
                counts.overdue = 1;
            } else if waited as f64 > DUE_SOON_SHARE * target as f64 {
                counts.due_soon = 1;
            }
        }
        by_channel.entry(channel).or_default().add(&counts);
        by_team.entry(table.team_index(i)).or_default().add(&counts);
    }
    let name = |k: u32, none: &str| {
        if k == NO_NAME {
            none.to_string()
        } else {
            table.name(k).to_string()
        }
    };
    let mut total = BacklogCounts::default();
    for c in by_channel.values() {
        total.add(c);
    }
    Backlog {
        total,
        by_channel: by_channel
            .into_iter()
            .map(|(k, c)| (name(k, ""), c))
            .collect(),
        by_team: by_team
            .into_iter()
            .map(|(k, c)| (name(k, NO_TEAM), c))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WorkspaceConfig;
    use crate::facts::{ConversationFacts, FactNumbers};

    const HOUR: i64 = 3_600_000;

    fn row(
        id: &str,
        channel: &str,
        team: Option<&str>,
        start: i64,
        answered: bool,
        resolved: bool,
        waiting_since: Option<i64>,
    ) -> ConversationFacts {
        ConversationFacts {
            conversation: id.into(),
            channel: channel.into(),
            agent: None,
            team: team.map(str::to_string),
            tags: Vec::new(),
            created_at: start,
            start,
            numbers: FactNumbers {
                anonymous: false,
                first_response_millis: answered.then_some(60_000),
                first_response_business_millis: answered.then_some(60_000),
                resolved,
                agent_messages: u32::from(answered),
                agent_turns: u32::from(answered),
                waiting_since,
                ..crate::facts::one_customer_message()
            },
        }
    }

    #[test]
    fn backlog_by_hand() {
        // Open around the clock in UTC; e-mail within 4 h, chat within 2 min.
        let config = WorkspaceConfig::from_toml(
            r#"
timezone = "UTC"
[opening_hours]
mon = "00:00-24:00"
tue = "00:00-24:00"
wed = "00:00-24:00"
thu = "00:00-24:00"
fri = "00:00-24:00"
sat = "00:00-24:00"
sun = "00:00-24:00"
[targets.first_response]
chat = "2m"
email = "4h"
"#,
        )
        .unwrap();
        let calendars = Calendars::new(config);
        let now = 10 * HOUR;
        let table = FactTable::from_facts(&[
            // E-mail waiting 5 h unanswered: overdue (target 4 h).
            row(
                "e1",
                "email",
                Some("Retouren"),
                5 * HOUR,
                false,
                false,
                Some(5 * HOUR),
            ),
            // E-mail waiting 3.5 h unanswered: due soon (past 3 h).
            row(
                "e2",
                "email",
                None,
                6 * HOUR + HOUR / 2,
                false,
                false,
                Some(6 * HOUR + HOUR / 2),
            ),
            // E-mail answered, the customer wrote again 1 h ago: waiting, no target at stake.
            row("e3", "email", None, HOUR, true, false, Some(9 * HOUR)),
            // Answered and the agent spoke last: open, nobody waits.
            row("e4", "email", Some("Retouren"), HOUR, true, false, None),
            // Resolved: not in the backlog.
            row("e5", "email", None, HOUR, true, true, None),
            // Chat 1 min unanswered: neither due soon (after 1.5 min) nor overdue.
            row(
                "c1",
                "chat",
                None,
                now - 60_000,
                false,
                false,
                Some(now - 60_000),
            ),
            // Starts after now: not yet.
            row("c2", "chat", None, now + 1, false, false, Some(now + 1)),
        ]);
        let b = backlog(&table, &calendars, &Filter::default(), now);
        assert_eq!(
            b.total,
            BacklogCounts {
                open: 5,
                waiting: 4,
                due_soon: 1,
                overdue: 1,
                oldest_wait_business_millis: Some(5 * HOUR),
            }
        );
        assert_eq!(b.by_channel["chat"].open, 1);
        assert_eq!(b.by_channel["email"].waiting, 3);
        assert_eq!(b.by_team["Retouren"].open, 2);
        assert_eq!(b.by_team["Retouren"].overdue, 1);
        assert_eq!(b.by_team["(no team)"].due_soon, 1);
        let retouren = Filter {
            teams: vec!["Retouren".into()],
            ..Filter::default()
        };
        assert_eq!(backlog(&table, &calendars, &retouren, now).total.open, 2);
    }
}
