//! Headline figures: how a figure is shown (its kind and precision), which way is good news,
//! and the one computation of its change against an earlier period, shared by the CLI report
//! and the pages (first part of the headline catalog, issue 10).
//!
//! A change is computed from the two values as they are shown (rounded to the figure's
//! precision), so that it always agrees with them: no "+14" between a shown 50 and 35, no
//! "+0.1 pt" between two shown 80.0 %, no "-0". A change too small to matter is [`Trend::Same`]
//! and is not coloured: one that rounds to nothing, a count or duration that moved by less
//! than 1 % of the earlier value, a percentage that moved by less than 0.5 point.

use crate::report::{Summary, TargetsReport};
use crate::select::{SortKey, Subset};

/// A figure's target as the report checked it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetStatus {
    /// Met, missed, or `None` while there is no value to check.
    pub met: Option<bool>,
    /// The target in the figure's own unit; `None` when it is set per channel.
    pub target: Option<f64>,
}

/// How a figure is shown, and so how its change is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A count (whole); its change is relative, in % with one decimal.
    Count,
    /// Seconds, shown to the whole second; its change is a duration.
    Duration,
    /// A percentage with one decimal; its change in points with one decimal.
    Percent,
    /// A number with this many decimals; its change with as many.
    Decimal(u8),
    /// A signed whole score (NPS); its change in whole points.
    Score,
}

/// Which way of a change is good news.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
    Neither,
}

/// What a change means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    Better,
    Worse,
    /// No change that matters (or no direction is better): not coloured.
    Same,
}

/// How a change is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Relative to the earlier value, in %.
    Relative,
    /// Percentage points.
    Points,
    /// Seconds.
    Seconds,
    /// A plain number with this many decimals.
    Plain(u8),
}

/// The change of a figure between two periods, rounded as it is written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    /// Signed; exactly 0.0 when it rounds to nothing (never -0).
    pub amount: f64,
    pub unit: Unit,
    pub trend: Trend,
}

fn round_to(v: f64, decimals: u8) -> f64 {
    let scale = 10f64.powi(i32::from(decimals));
    let rounded = (v * scale).round() / scale;
    // No negative zero.
    if rounded == 0.0 { 0.0 } else { rounded }
}

impl Kind {
    /// Decimals a value of this kind is shown with.
    pub fn decimals(self) -> u8 {
        match self {
            Kind::Count | Kind::Duration | Kind::Score => 0,
            Kind::Percent => 1,
            Kind::Decimal(n) => n,
        }
    }

    /// The value as it is shown.
    pub fn shown(self, v: f64) -> f64 {
        round_to(v, self.decimals())
    }

    /// How its change is written.
    pub fn unit(self) -> Unit {
        match self {
            Kind::Count => Unit::Relative,
            Kind::Duration => Unit::Seconds,
            Kind::Percent => Unit::Points,
            Kind::Decimal(n) => Unit::Plain(n),
            Kind::Score => Unit::Plain(0),
        }
    }

    /// The change from `before` to `now`; `None` without both values, or for a relative change
    /// from nothing.
    pub fn change(self, better: Better, now: Option<f64>, before: Option<f64>) -> Option<Change> {
        let (now, before) = (self.shown(now?), self.shown(before?));
        let diff = now - before;
        let (amount, negligible) = match self {
            Kind::Count => {
                if before == 0.0 {
                    return None;
                }
                let relative = round_to(diff / before * 100.0, 1);
                (relative, relative.abs() < 1.0)
            }
            Kind::Duration => {
                let d = round_to(diff, 0);
                (d, d == 0.0 || d.abs() < before.abs() / 100.0)
            }
            Kind::Percent => {
                let d = round_to(diff, 1);
                (d, d.abs() < 0.5)
            }
            Kind::Decimal(n) => {
                let d = round_to(diff, n);
                (d, d == 0.0)
            }
            Kind::Score => {
                let d = round_to(diff, 0);
                (d, d == 0.0)
            }
        };
        let trend = match better {
            _ if negligible => Trend::Same,
            Better::Neither => Trend::Same,
            Better::Higher if amount > 0.0 => Trend::Better,
            Better::Lower if amount < 0.0 => Trend::Better,
            _ => Trend::Worse,
        };
        Some(Change {
            amount,
            unit: self.unit(),
            trend,
        })
    }
}

/// The headline figures of a report's [`Summary`]: what each is, how it is shown, which way
/// is better. The CLI report and the pages take value, kind and direction from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    Conversations,
    FirstResponseMedian,
    FirstResponseP90,
    FirstResponseCalendarMedian,
    FirstResponseWithinTarget,
    Unanswered,
    ResolutionRate,
    ResolutionTimeMedian,
    ReopenRate,
    OneTouch,
    RepliesPerConversation,
    TurnsPerConversation,
    Csat,
    Nps,
    Ces,
}

impl Figure {
    pub const ALL: [Figure; 15] = [
        Figure::Conversations,
        Figure::FirstResponseMedian,
        Figure::FirstResponseP90,
        Figure::FirstResponseCalendarMedian,
        Figure::FirstResponseWithinTarget,
        Figure::Unanswered,
        Figure::ResolutionRate,
        Figure::ResolutionTimeMedian,
        Figure::ReopenRate,
        Figure::OneTouch,
        Figure::RepliesPerConversation,
        Figure::TurnsPerConversation,
        Figure::Csat,
        Figure::Nps,
        Figure::Ces,
    ];

    /// Its stable name (the key of exports and of the API's figure lists).
    pub fn id(self) -> &'static str {
        match self {
            Figure::Conversations => "conversations",
            Figure::FirstResponseMedian => "first_response_median",
            Figure::FirstResponseP90 => "first_response_p90",
            Figure::FirstResponseCalendarMedian => "first_response_clock_median",
            Figure::FirstResponseWithinTarget => "first_response_within_target",
            Figure::Unanswered => "unanswered",
            Figure::ResolutionRate => "resolution_rate",
            Figure::ResolutionTimeMedian => "resolution_time_median",
            Figure::ReopenRate => "reopen_rate",
            Figure::OneTouch => "one_touch",
            Figure::RepliesPerConversation => "replies_per_conversation",
            Figure::TurnsPerConversation => "turns_per_conversation",
            Figure::Csat => "csat",
            Figure::Nps => "nps",
            Figure::Ces => "ces",
        }
    }

    /// The figure with this [`id`](Figure::id).
    pub fn parse(id: &str) -> Option<Figure> {
        Figure::ALL.into_iter().find(|f| f.id() == id)
    }

    /// The conversations behind the figure and the order they are listed in: those that
    /// explain it (the unresolved ones behind a resolution rate, the unsatisfied behind CSAT).
    pub fn drill(self) -> (Subset, SortKey) {
        match self {
            Figure::Conversations => (Subset::All, SortKey::Start),
            Figure::FirstResponseMedian
            | Figure::FirstResponseP90
            | Figure::FirstResponseCalendarMedian => (Subset::Answered, SortKey::FirstResponse),
            Figure::FirstResponseWithinTarget => (Subset::OverTarget, SortKey::FirstResponse),
            Figure::Unanswered => (Subset::Unanswered, SortKey::Start),
            Figure::ResolutionRate => (Subset::Unresolved, SortKey::Start),
            Figure::ResolutionTimeMedian => (Subset::Resolved, SortKey::Resolution),
            Figure::ReopenRate => (Subset::Reopened, SortKey::Reopens),
            Figure::OneTouch => (Subset::OneTouch, SortKey::Start),
            Figure::RepliesPerConversation | Figure::TurnsPerConversation => {
                (Subset::All, SortKey::AgentTurns)
            }
            Figure::Csat => (Subset::Unsatisfied, SortKey::Csat),
            Figure::Nps => (Subset::Nps, SortKey::Start),
            Figure::Ces => (Subset::Ces, SortKey::Start),
        }
    }

    /// Its target, as the report checked it; `None` for a figure without a target. The median
    /// first response is met when every channel with a median target meets it.
    pub fn target(self, targets: &TargetsReport) -> Option<TargetStatus> {
        match self {
            Figure::Csat => Some(TargetStatus {
                met: targets.csat_pct.met,
                target: Some(targets.csat_pct.target),
            }),
            Figure::ResolutionRate => Some(TargetStatus {
                met: targets.resolution_pct.met,
                target: Some(targets.resolution_pct.target),
            }),
            Figure::FirstResponseMedian if !targets.median_first_response_seconds.is_empty() => {
                let checks: Vec<bool> = targets
                    .median_first_response_seconds
                    .values()
                    .filter_map(|c| c.met)
                    .collect();
                Some(TargetStatus {
                    met: (!checks.is_empty()).then(|| checks.iter().all(|&m| m)),
                    target: None,
                })
            }
            _ => None,
        }
    }

    /// How it is shown.
    pub fn kind(self) -> Kind {
        match self {
            Figure::Conversations | Figure::Unanswered => Kind::Count,
            Figure::FirstResponseMedian
            | Figure::FirstResponseP90
            | Figure::FirstResponseCalendarMedian
            | Figure::ResolutionTimeMedian => Kind::Duration,
            Figure::FirstResponseWithinTarget
            | Figure::ResolutionRate
            | Figure::ReopenRate
            | Figure::OneTouch
            | Figure::Csat => Kind::Percent,
            Figure::RepliesPerConversation | Figure::TurnsPerConversation | Figure::Ces => {
                Kind::Decimal(2)
            }
            Figure::Nps => Kind::Score,
        }
    }

    /// Which way is good news.
    pub fn better(self) -> Better {
        match self {
            Figure::Conversations => Better::Neither,
            Figure::FirstResponseMedian
            | Figure::FirstResponseP90
            | Figure::FirstResponseCalendarMedian
            | Figure::Unanswered
            | Figure::ResolutionTimeMedian
            | Figure::ReopenRate
            | Figure::RepliesPerConversation
            | Figure::TurnsPerConversation => Better::Lower,
            Figure::FirstResponseWithinTarget
            | Figure::ResolutionRate
            | Figure::OneTouch
            | Figure::Csat
            | Figure::Nps
            | Figure::Ces => Better::Higher,
        }
    }

    /// Its value in a summary (`None`: nothing to measure).
    pub fn value(self, s: &Summary) -> Option<f64> {
        match self {
            Figure::Conversations => Some(s.conversations as f64),
            Figure::FirstResponseMedian => s.first_response.median_business_seconds,
            Figure::FirstResponseP90 => s.first_response.p90_business_seconds,
            Figure::FirstResponseCalendarMedian => s.first_response.median_seconds,
            Figure::FirstResponseWithinTarget => s.first_response.within_target_pct,
            Figure::Unanswered => Some(s.first_response.unanswered as f64),
            Figure::ResolutionRate => s.resolution.resolution_rate_pct,
            Figure::ResolutionTimeMedian => s.resolution.median_business_seconds,
            Figure::ReopenRate => s.resolution.reopen_rate_pct,
            Figure::OneTouch => s.resolution.one_touch_pct,
            Figure::RepliesPerConversation => s.messages.replies_per_conversation,
            Figure::TurnsPerConversation => s.messages.agent_turns_per_conversation,
            Figure::Csat => s.csat.satisfied_pct,
            Figure::Nps => s.nps.score,
            Figure::Ces => s.ces.average,
        }
    }

    /// The number of survey answers behind it (surveys only).
    pub fn responses(self, s: &Summary) -> Option<u64> {
        match self {
            Figure::Csat => Some(s.csat.responses),
            Figure::Nps => Some(s.nps.responses),
            Figure::Ces => Some(s.ces.responses),
            _ => None,
        }
    }

    /// Its change from `before` (the previous period's summary) to `now`.
    pub fn change(self, now: &Summary, before: Option<&Summary>) -> Option<Change> {
        self.kind().change(
            self.better(),
            self.value(now),
            before.and_then(|b| self.value(b)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(kind: Kind, better: Better, now: f64, before: f64, expect: Option<(f64, Trend)>) {
        let got = kind
            .change(better, Some(now), Some(before))
            .map(|c| (c.amount, c.trend));
        assert_eq!(got, expect, "{kind:?} {now} vs {before}");
        if let Some((amount, _)) = got {
            assert!(
                amount != 0.0 || amount.is_sign_positive(),
                "no negative zero"
            );
        }
    }

    #[test]
    fn changes_agree_with_the_shown_values() {
        use Better::*;
        use Trend::{Better as Up, Same, Worse};
        // NPS 49.6 and 35.4 are shown as 50 and 35: the change is 15, not 14.2 → "+14".
        check(Kind::Score, Higher, 49.6, 35.4, Some((15.0, Up)));
        // Two percentages shown as 80.0 %: no change, not "+0.1 pt", not coloured.
        check(Kind::Percent, Higher, 80.04, 79.96, Some((0.0, Same)));
        // 0.4 point: written, but too small to matter.
        check(Kind::Percent, Higher, 80.4, 80.0, Some((0.4, Same)));
        check(Kind::Percent, Higher, 78.0, 80.0, Some((-2.0, Worse)));
        // Counts: relative to the earlier count; 100 → 150 is +50 %.
        check(Kind::Count, Neither, 150.0, 100.0, Some((50.0, Same)));
        check(Kind::Count, Higher, 150.0, 100.0, Some((50.0, Up)));
        // 1 000 → 1 005: +0.5 %, too small to matter.
        check(Kind::Count, Higher, 1005.0, 1000.0, Some((0.5, Same)));
        // A relative change from nothing is not written.
        check(Kind::Count, Higher, 5.0, 0.0, None);
        // Durations (lower is better): 30 min → 20 min is 10 min better.
        check(Kind::Duration, Lower, 1200.0, 1800.0, Some((-600.0, Up)));
        // 1 800 s → 1 810 s: 10 s is under 1 % of 30 min.
        check(Kind::Duration, Lower, 1810.0, 1800.0, Some((10.0, Same)));
        // Shown to the second: 12.4 s and 12.2 s are both 12 s.
        check(Kind::Duration, Lower, 12.4, 12.2, Some((0.0, Same)));
        // Decimals: 2.834 and 2.831 are both 2.83.
        check(Kind::Decimal(2), Lower, 2.834, 2.831, Some((0.0, Same)));
        check(Kind::Decimal(2), Lower, 2.5, 3.0, Some((-0.5, Up)));
        // A tiny fall that rounds to nothing is 0, never "-0".
        check(Kind::Score, Higher, 10.2, 10.4, Some((0.0, Same)));
    }

    #[test]
    fn figures_read_their_summary_and_judge_their_change() {
        let mut now = crate::report::Accumulator::default().finish();
        now.conversations = 120;
        now.first_response.median_business_seconds = Some(1200.0);
        now.csat.satisfied_pct = Some(75.0);
        now.csat.responses = 40;
        let mut before = crate::report::Accumulator::default().finish();
        before.conversations = 100;
        before.first_response.median_business_seconds = Some(1800.0);
        before.csat.satisfied_pct = Some(80.0);
        let change = |f: Figure| f.change(&now, Some(&before)).map(|c| (c.amount, c.trend));
        assert_eq!(change(Figure::Conversations), Some((20.0, Trend::Same)));
        assert_eq!(
            change(Figure::FirstResponseMedian),
            Some((-600.0, Trend::Better))
        );
        assert_eq!(change(Figure::Csat), Some((-5.0, Trend::Worse)));
        assert_eq!(change(Figure::Nps), None, "no NPS answers");
        assert_eq!(Figure::Csat.responses(&now), Some(40));
        assert_eq!(Figure::Conversations.responses(&now), None);
        assert_eq!(Figure::Csat.change(&now, None), None);
    }

    #[test]
    fn without_both_values_there_is_no_change() {
        assert_eq!(Kind::Percent.change(Better::Higher, None, Some(1.0)), None);
        assert_eq!(Kind::Percent.change(Better::Higher, Some(1.0), None), None);
    }
}
