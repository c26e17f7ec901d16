//! Alert rules on the headline figures and what an evaluation does with them: a rule says
//! which figure, over which recent window, above or below which value, and (for survey
//! figures) how many answers it needs before it may speak. An alert fires once when its rule
//! is broken, stays quiet while it stays broken, recovers once when it is kept again, and
//! only then may fire again — no flapping. Too few answers or no value change nothing. Pure:
//! callers compute the window's summary and keep the state.

use crate::headline::Figure;
use crate::report::Summary;

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
    pub figure: Figure,
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
        self.read(self.figure.value(summary), self.figure.responses(summary))
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
            figure,
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
