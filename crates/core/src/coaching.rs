//! Where a team lead should look: agents clearly worse than their team, topics with so much
//! more back-and-forth than the team that they are candidates for the knowledge base, and
//! topics whose customers are clearly less satisfied.

use std::collections::{BTreeMap, BTreeSet};

use crate::report::{Summary, UNTAGGED};
use crate::stats::wilson_interval_pct;

/// An agent needs this many first responses before their speed is compared with the team's.
pub const MIN_ANSWERED_FOR_SPEED: u64 = 20;
/// A median first response this many times the team's is clearly slower.
pub const SLOW_FACTOR: f64 = 1.5;
/// A topic needs this many conversations before it is judged.
pub const MIN_TOPIC_CONVERSATIONS: u64 = 20;
/// A knowledge-base candidate has at least this many agent turns per conversation more than
/// the whole team…
pub const MIN_EXTRA_TURNS: f64 = 0.5;
/// …and at least this many times the team's (both: a real difference, not noise such as 3.00
/// against 2.83).
pub const MIN_TURNS_FACTOR: f64 = 1.25;
/// A topic's satisfaction is judged from this many answers on.
pub const MIN_TOPIC_ANSWERS: u64 = 10;
/// At most this many topics are marked as knowledge-base candidates.
pub const MAX_FAQ_CANDIDATES: usize = 3;

/// Why a topic deserves a look.
#[derive(Debug, Clone, PartialEq)]
pub enum TopicHint {
    /// Much more back-and-forth than the team: the answer is worth writing down once.
    KnowledgeBase {
        turns: f64,
        team_turns: f64,
        conversations: u64,
    },
    /// Even the upper end of the 95 % interval of its CSAT lies below the team's rate.
    LowSatisfaction {
        satisfied: u64,
        responses: u64,
        upper_pct: f64,
        team_pct: f64,
    },
}

/// Why an agent stands out.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentFlag {
    /// Even the upper end of the 95 % interval of the agent's CSAT lies below the team's rate.
    CsatBelowTeam {
        satisfied: u64,
        responses: u64,
        upper_pct: f64,
        team_pct: f64,
    },
    /// Median first response (business time) above 1.5 × the team's, over enough answers.
    SlowFirstResponse {
        median_seconds: f64,
        team_median_seconds: f64,
        answered: u64,
    },
}

/// The flags of one agent against the team's figures of the same period.
pub fn agent_flags(team: &Summary, agent: &Summary) -> Vec<AgentFlag> {
    let mut flags = Vec::new();
    if let (Some(team_pct), Some((_, upper_pct))) = (
        team.csat.satisfied_pct,
        wilson_interval_pct(agent.csat.satisfied, agent.csat.responses),
    ) && upper_pct < team_pct
    {
        flags.push(AgentFlag::CsatBelowTeam {
            satisfied: agent.csat.satisfied,
            responses: agent.csat.responses,
            upper_pct,
            team_pct,
        });
    }
    if let (Some(median), Some(team_median)) = (
        agent.first_response.median_business_seconds,
        team.first_response.median_business_seconds,
    ) && agent.first_response.count >= MIN_ANSWERED_FOR_SPEED
        && median > SLOW_FACTOR * team_median
    {
        flags.push(AgentFlag::SlowFirstResponse {
            median_seconds: median,
            team_median_seconds: team_median,
            answered: agent.first_response.count,
        });
    }
    flags
}

/// The hints per topic (tags that are segments, and conversations without tags, are no
/// topic). Knowledge-base candidates: at least [`MIN_TOPIC_CONVERSATIONS`] conversations and at
/// least [`MIN_EXTRA_TURNS`] agent turns per conversation more than the team, and
/// [`MIN_TURNS_FACTOR`] times as many; the [`MAX_FAQ_CANDIDATES`] with the most turns (ties by
/// name). Low satisfaction: at least [`MIN_TOPIC_ANSWERS`] CSAT answers, the upper end of their
/// 95 % Wilson interval below the team's rate.
pub fn topic_hints(
    by_tag: &BTreeMap<String, Summary>,
    team: &Summary,
    segments: &BTreeSet<String>,
) -> BTreeMap<String, Vec<TopicHint>> {
    let topics = || {
        by_tag
            .iter()
            .filter(|(tag, _)| tag.as_str() != UNTAGGED && !segments.contains(tag.as_str()))
    };
    let mut hints: BTreeMap<String, Vec<TopicHint>> = BTreeMap::new();
    if let Some(team_turns) = team.messages.agent_turns_per_conversation {
        let mut candidates: Vec<(&String, f64, u64)> = topics()
            .filter(|(_, s)| s.conversations >= MIN_TOPIC_CONVERSATIONS)
            .filter_map(|(tag, s)| {
                s.messages
                    .agent_turns_per_conversation
                    .filter(|&t| {
                        t >= team_turns + MIN_EXTRA_TURNS && t >= team_turns * MIN_TURNS_FACTOR
                    })
                    .map(|t| (tag, t, s.conversations))
            })
            .collect();
        candidates.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        for (tag, turns, conversations) in candidates.into_iter().take(MAX_FAQ_CANDIDATES) {
            hints
                .entry(tag.clone())
                .or_default()
                .push(TopicHint::KnowledgeBase {
                    turns,
                    team_turns,
                    conversations,
                });
        }
    }
    if let Some(team_pct) = team.csat.satisfied_pct {
        for (tag, s) in topics().filter(|(_, s)| s.csat.responses >= MIN_TOPIC_ANSWERS) {
            if let Some((_, upper_pct)) = wilson_interval_pct(s.csat.satisfied, s.csat.responses)
                && upper_pct < team_pct
            {
                hints
                    .entry(tag.clone())
                    .or_default()
                    .push(TopicHint::LowSatisfaction {
                        satisfied: s.csat.satisfied,
                        responses: s.csat.responses,
                        upper_pct,
                        team_pct,
                    });
            }
        }
    }
    hints
}
