//! "What needs attention" in a period, derived from its report: targets missed (the catalog's
//! own target checks, and each channel's median first response), agents who stand out (the
//! coaching flags), and follow-ups of unhappy answers past their due time. The scheduled report
//! and the pages list these in words; the rules live here once.

use crate::coaching::{AgentFlag, agent_flags};
use crate::headline::Figure;
use crate::report::{Report, UNASSIGNED};

/// One thing to look at.
#[derive(Debug, Clone, PartialEq)]
pub enum Attention {
    /// A headline figure missed its target (value and target in the figure's unit).
    TargetMissed {
        figure: Figure,
        value: Option<f64>,
        target: Option<f64>,
    },
    /// A channel's median first response (business seconds) is over its target.
    ChannelMedianMissed {
        channel: String,
        seconds: Option<f64>,
        target_seconds: f64,
    },
    /// An agent stands out against the team (docs/metrics.md, coaching flags).
    AgentFlagged {
        agent: String,
        flags: Vec<AgentFlag>,
    },
    /// Follow-ups of unhappy answers past their due time.
    OverdueFollowUps(u64),
}

/// What needs attention in `report`, most general first: missed headline targets (catalog
/// order), channels over their median target (by name), flagged agents (by name), then
/// overdue follow-ups. Empty when all is well.
pub fn attention(report: &Report, overdue_follow_ups: u64) -> Vec<Attention> {
    let mut out = Vec::new();
    for figure in Figure::ALL {
        // The median first response's target is per channel: listed per channel below.
        if figure == Figure::FirstResponseMedian {
            continue;
        }
        if let Some(status) = figure.target(&report.targets)
            && status.met == Some(false)
        {
            out.push(Attention::TargetMissed {
                figure,
                value: figure.value(&report.summary),
                target: status.target,
            });
        }
    }
    for (channel, check) in &report.targets.median_first_response_seconds {
        if check.met == Some(false) {
            out.push(Attention::ChannelMedianMissed {
                channel: channel.clone(),
                seconds: check.actual,
                target_seconds: check.target,
            });
        }
    }
    for (agent, summary) in &report.by_agent {
        if agent == UNASSIGNED {
            continue;
        }
        let flags = agent_flags(&report.summary, summary);
        if !flags.is_empty() {
            out.push(Attention::AgentFlagged {
                agent: agent.clone(),
                flags,
            });
        }
    }
    if overdue_follow_ups > 0 {
        out.push(Attention::OverdueFollowUps(overdue_follow_ups));
    }
    out
}
