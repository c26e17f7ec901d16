//! Where a team lead should look: agents clearly worse than their team, and topics with so much
//! back-and-forth that they are candidates for the knowledge base.

use std::collections::BTreeMap;

use crate::report::Summary;
use crate::stats::wilson_interval_pct;

/// An agent needs this many first responses before their speed is compared with the team's.
pub const MIN_ANSWERED_FOR_SPEED: u64 = 20;
/// A median first response this many times the team's is clearly slower.
pub const SLOW_FACTOR: f64 = 1.5;
/// A topic needs this many conversations to be a knowledge-base candidate.
pub const MIN_TOPIC_CONVERSATIONS: u64 = 10;
/// At most this many topics are marked.
pub const MAX_FAQ_CANDIDATES: usize = 3;

/// Why an agent stands out.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentFlag {
    /// Even the upper end of the 95 % interval of the agent's CSAT lies below the team's rate.
    CsatBelowTeam { upper_pct: f64, team_pct: f64 },
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

/// Topics with the most agent turns per conversation, above the team's, among those with at
/// least [`MIN_TOPIC_CONVERSATIONS`] conversations; most back-and-forth first.
pub fn faq_candidates(by_tag: &BTreeMap<String, Summary>, team: &Summary) -> Vec<String> {
    let Some(team_turns) = team.messages.agent_turns_per_conversation else {
        return Vec::new();
    };
    let mut topics: Vec<(&String, f64)> = by_tag
        .iter()
        .filter(|(_, s)| s.conversations >= MIN_TOPIC_CONVERSATIONS)
        .filter_map(|(tag, s)| {
            s.messages
                .agent_turns_per_conversation
                .filter(|&t| t > team_turns)
                .map(|t| (tag, t))
        })
        .collect();
    topics.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    topics
        .into_iter()
        .take(MAX_FAQ_CANDIDATES)
        .map(|(tag, _)| tag.clone())
        .collect()
}
