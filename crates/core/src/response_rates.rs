//! Response rates of the surveys servicemeter sends: per kind, and per kind and channel, agent
//! and team, how many invitations were mailed in a period and how many of those were answered
//! (at any time since). Answers through a link that was never mailed (put into a helpdesk's
//! own message through the API) are counted beside them, not in the rate: nobody knows how
//! many such links were shown.

use std::collections::BTreeMap;

use crate::filter::Filter;
use crate::model::SurveyKind;
use crate::report::{NO_TEAM, UNASSIGNED};
use crate::table::{FactTable, NO_NAME};

/// One invitation as response rates read it.
#[derive(Debug, Clone, Copy)]
pub struct InvitationOutcome<'a> {
    pub conversation: &'a str,
    pub kind: SurveyKind,
    /// Sent by e-mail (in the period asked about).
    pub mailed: bool,
    pub answered: bool,
}

/// Counts of one group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResponseCount {
    /// Invitations mailed.
    pub sent: u64,
    /// Of those, answered.
    pub answered: u64,
    /// Answers through a link that was not mailed.
    pub link_answers: u64,
}

impl ResponseCount {
    /// Answered of sent, 0–1; `None` when nothing was sent.
    pub fn rate(&self) -> Option<f64> {
        (self.sent > 0).then(|| self.answered as f64 / self.sent as f64)
    }

    fn add(&mut self, outcome: &InvitationOutcome) {
        if outcome.mailed {
            self.sent += 1;
            self.answered += u64::from(outcome.answered);
        } else if outcome.answered {
            self.link_answers += 1;
        }
    }
}

/// Response counts per kind, and per kind within each channel, agent and team.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseRates {
    pub total: BTreeMap<SurveyKind, ResponseCount>,
    pub by_channel: BTreeMap<String, BTreeMap<SurveyKind, ResponseCount>>,
    /// `(unassigned)` for conversations without an agent.
    pub by_agent: BTreeMap<String, BTreeMap<SurveyKind, ResponseCount>>,
    /// `(no team)` for conversations without a team.
    pub by_team: BTreeMap<String, BTreeMap<SurveyKind, ResponseCount>>,
}

/// Counts the invitations whose conversation is in `table` and passes `filter` (conversations
/// not in the table — deleted, or without a conversation record — are left out).
pub fn response_rates<'a>(
    table: &FactTable,
    filter: &Filter,
    invitations: impl IntoIterator<Item = InvitationOutcome<'a>>,
) -> ResponseRates {
    let order = table.order_by_conversation();
    let rows = filter.rows_of(table);
    let mut rates = ResponseRates::default();
    let name = |index: u32, none: &str| {
        if index == NO_NAME {
            none.to_string()
        } else {
            table.name(index).to_string()
        }
    };
    for outcome in invitations {
        let Ok(found) =
            order.binary_search_by(|&i| table.conversation(i).cmp(outcome.conversation))
        else {
            continue;
        };
        let i = order[found];
        if !rows.keeps(i) {
            continue;
        }
        rates.total.entry(outcome.kind).or_default().add(&outcome);
        for (groups, key) in [
            (&mut rates.by_channel, name(table.channel_index(i), "")),
            (&mut rates.by_agent, name(table.agent_index(i), UNASSIGNED)),
            (&mut rates.by_team, name(table.team_index(i), NO_TEAM)),
        ] {
            groups
                .entry(key)
                .or_default()
                .entry(outcome.kind)
                .or_default()
                .add(&outcome);
        }
    }
    rates
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::ConversationFacts;

    fn facts(
        id: &str,
        channel: &str,
        agent: Option<&str>,
        team: Option<&str>,
    ) -> ConversationFacts {
        ConversationFacts {
            conversation: id.into(),
            channel: channel.into(),
            agent: agent.map(str::to_string),
            team: team.map(str::to_string),
            tags: Vec::new(),
            created_at: 0,
            start: 0,
            numbers: crate::facts::one_customer_message(),
        }
    }

    fn outcome(
        conversation: &str,
        kind: SurveyKind,
        mailed: bool,
        answered: bool,
    ) -> InvitationOutcome<'_> {
        InvitationOutcome {
            conversation,
            kind,
            mailed,
            answered,
        }
    }

    #[test]
    fn rates_per_kind_channel_agent_and_team() {
        let table = FactTable::from_facts(&[
            facts("a", "email", Some("Anna"), Some("Sales")),
            facts("b", "email", Some("Bob"), None),
            facts("c", "chat", Some("Anna"), Some("Sales")),
            facts("d", "chat", None, None),
        ]);
        let csat = SurveyKind::Csat;
        let nps = SurveyKind::Nps;
        let invitations = [
            outcome("a", csat, true, true),
            outcome("b", csat, true, false),
            outcome("c", csat, true, true),
            outcome("d", csat, true, false),
            outcome("a", nps, true, false),
            // Answered through a link the helpdesk showed: beside the rate.
            outcome("b", nps, false, true),
            // Not in the table (deleted): left out.
            outcome("gone", csat, true, true),
        ];
        let rates = response_rates(&table, &Filter::default(), invitations);
        let count = |sent, answered, link_answers| ResponseCount {
            sent,
            answered,
            link_answers,
        };
        assert_eq!(rates.total[&csat], count(4, 2, 0));
        assert_eq!(rates.total[&csat].rate(), Some(0.5));
        assert_eq!(rates.total[&nps], count(1, 0, 1));
        assert_eq!(rates.by_channel["email"][&csat], count(2, 1, 0));
        assert_eq!(rates.by_channel["chat"][&csat], count(2, 1, 0));
        assert_eq!(rates.by_agent["Anna"][&csat], count(2, 2, 0));
        assert_eq!(rates.by_agent["Anna"][&csat].rate(), Some(1.0));
        assert_eq!(rates.by_agent["(unassigned)"][&csat], count(1, 0, 0));
        assert_eq!(rates.by_team["Sales"][&nps], count(1, 0, 0));
        assert_eq!(rates.by_team["(no team)"][&nps], count(0, 0, 1));
        assert_eq!(rates.by_team["(no team)"][&nps].rate(), None);

        // The page's filter applies: only chat.
        let chat = Filter {
            channels: vec!["chat".into()],
            ..Filter::default()
        };
        let rates = response_rates(&table, &chat, invitations);
        assert_eq!(rates.total[&csat], count(2, 1, 0));
        assert!(!rates.total.contains_key(&nps));
        assert_eq!(
            rates.by_agent.keys().collect::<Vec<_>>(),
            ["(unassigned)", "Anna"]
        );
    }
}
