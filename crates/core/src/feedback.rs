//! What customers said in surveys: per kind (CSAT, NPS, CES) how many answered, how the scores
//! are spread, and a 95 % confidence interval of the headline figure. Counts the latest answer
//! of each conversation in the period that passes the filter, like the report.

use crate::facts::NpsGroup;
use crate::filter::Filter;
use crate::model::SurveyKind;
use crate::stats::wilson_interval_pct;
use crate::table::FactTable;

const Z95: f64 = 1.959_963_984_540_054;

/// How many answers gave one score, on one scale.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreCount {
    pub min: f64,
    pub max: f64,
    pub score: f64,
    pub count: u64,
}

/// One kind's answers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KindFeedback {
    pub responses: u64,
    /// Every score of every scale met, lowest scale first, each scale from its lowest to its
    /// highest whole score (scores nobody gave count 0), then any score between whole ones.
    pub scores: Vec<ScoreCount>,
    /// 95 % interval of the headline figure: CSAT satisfied % (Wilson), NPS (normal
    /// approximation of promoters − detractors), CES average (normal approximation of the
    /// mean); `None` below two answers.
    pub interval: Option<(f64, f64)>,
}

/// The three kinds' answers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Feedback {
    pub csat: KindFeedback,
    pub nps: KindFeedback,
    pub ces: KindFeedback,
}

impl Feedback {
    pub fn kind(&self, kind: SurveyKind) -> &KindFeedback {
        match kind {
            SurveyKind::Csat => &self.csat,
            SurveyKind::Nps => &self.nps,
            SurveyKind::Ces => &self.ces,
        }
    }
}

/// The answers of the conversations that start within `start_between` (UTC ms, `[from, to)`)
/// and pass `filter`.
pub fn feedback(table: &FactTable, start_between: Option<(i64, i64)>, filter: &Filter) -> Feedback {
    let rows = filter.rows_of(table);
    let mut answers: [Vec<(f64, f64, f64)>; 3] = Default::default();
    // NPS groups counted with the report's rule.
    let group = |s: f64| crate::facts::nps_group(s);
    for i in 0..table.len() {
        if let Some((from, to)) = start_between {
            let s = table.start(i);
            if s < from || s >= to {
                continue;
            }
        }
        if !rows.keeps(i) {
            continue;
        }
        let n = table.numbers(i);
        for (k, answer) in [n.csat, n.nps, n.ces].into_iter().enumerate() {
            if let Some(a) = answer {
                answers[k].push((a.scale.min, a.scale.max, a.score));
            }
        }
    }
    let [csat, nps, ces] = answers;
    Feedback {
        csat: kind_feedback(&csat, |given| {
            let satisfied = given
                .iter()
                .filter(|(min, max, s)| crate::facts::csat_satisfied(*s, *min, *max))
                .count() as u64;
            wilson_interval_pct(satisfied, given.len() as u64)
        }),
        nps: kind_feedback(&nps, |given| {
            let n = given.len() as f64;
            let share =
                |g: NpsGroup| given.iter().filter(|(_, _, s)| group(*s) == g).count() as f64 / n;
            let promoters = share(NpsGroup::Promoter);
            let detractors = share(NpsGroup::Detractor);
            let score = promoters - detractors;
            let variance = promoters + detractors - score * score;
            let half = Z95 * (variance / n).sqrt();
            Some(((score - half) * 100.0, (score + half) * 100.0))
        }),
        ces: kind_feedback(&ces, |given| {
            let n = given.len() as f64;
            let mean = given.iter().map(|(_, _, s)| s).sum::<f64>() / n;
            let variance = given
                .iter()
                .map(|(_, _, s)| (s - mean).powi(2))
                .sum::<f64>()
                / (n - 1.0);
            let half = Z95 * (variance / n).sqrt();
            Some((mean - half, mean + half))
        }),
    }
}

/// The rows (of `table`) whose latest answer of a kind is unhappy (see
/// [`crate::facts::SurveyAnswer::unhappy`]), of the conversations that start within
/// `start_between` (UTC ms, `[from, to)`) and pass `filter`: the latest started first (then by
/// conversation id), CSAT before NPS before CES within a conversation. The report's feedback
/// highlights read the comments of the first of these.
pub fn unhappy_rows(
    table: &FactTable,
    start_between: Option<(i64, i64)>,
    filter: &Filter,
) -> Vec<(usize, SurveyKind)> {
    let rows = filter.rows_of(table);
    let mut out = Vec::new();
    for i in 0..table.len() {
        if let Some((from, to)) = start_between {
            let s = table.start(i);
            if s < from || s >= to {
                continue;
            }
        }
        if !rows.keeps(i) {
            continue;
        }
        let n = table.numbers(i);
        for (kind, answer) in [
            (SurveyKind::Csat, n.csat),
            (SurveyKind::Nps, n.nps),
            (SurveyKind::Ces, n.ces),
        ] {
            if answer.is_some_and(|a| a.unhappy(kind)) {
                out.push((i, kind));
            }
        }
    }
    out.sort_by(|a, b| {
        table
            .start(b.0)
            .cmp(&table.start(a.0))
            .then_with(|| table.conversation(a.0).cmp(table.conversation(b.0)))
            .then_with(|| kind_order(a.1).cmp(&kind_order(b.1)))
    });
    out
}

fn kind_order(kind: SurveyKind) -> u8 {
    match kind {
        SurveyKind::Csat => 0,
        SurveyKind::Nps => 1,
        SurveyKind::Ces => 2,
    }
}

fn kind_feedback(
    given: &[(f64, f64, f64)],
    interval: impl Fn(&[(f64, f64, f64)]) -> Option<(f64, f64)>,
) -> KindFeedback {
    let mut scores: Vec<ScoreCount> = Vec::new();
    let mut scales: Vec<(f64, f64)> = given.iter().map(|(min, max, _)| (*min, *max)).collect();
    scales.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    scales.dedup();
    for (min, max) in scales {
        let on_scale: Vec<f64> = given
            .iter()
            .filter(|(lo, hi, _)| (*lo, *hi) == (min, max))
            .map(|(_, _, s)| *s)
            .collect();
        // Whole scores of a scale of at most 11 points, each with its count.
        let mut values: Vec<f64> = if max - min <= 10.0 {
            (0..=((max - min) as i64)).map(|k| min + k as f64).collect()
        } else {
            Vec::new()
        };
        for s in &on_scale {
            if !values.contains(s) {
                values.push(*s);
            }
        }
        values.sort_by(f64::total_cmp);
        for score in values {
            scores.push(ScoreCount {
                min,
                max,
                score,
                count: on_scale.iter().filter(|s| **s == score).count() as u64,
            });
        }
    }
    KindFeedback {
        responses: given.len() as u64,
        scores,
        interval: if given.len() >= 2 {
            interval(given)
        } else {
            None
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{ConversationFacts, FactNumbers, SurveyAnswer};
    use crate::model::Scale;

    fn row(
        id: &str,
        channel: &str,
        csat: Option<f64>,
        nps: Option<f64>,
        ces: Option<f64>,
    ) -> ConversationFacts {
        let answer = |score: Option<f64>, min: f64, max: f64| {
            score.map(|score| SurveyAnswer {
                score,
                scale: Scale { min, max },
            })
        };
        ConversationFacts {
            conversation: id.into(),
            channel: channel.into(),
            agent: None,
            team: None,
            tags: Vec::new(),
            created_at: 0,
            start: 0,
            numbers: FactNumbers {
                anonymous: false,
                csat: answer(csat, 1.0, 5.0),
                nps: answer(nps, 0.0, 10.0),
                ces: answer(ces, 1.0, 7.0),
                ..crate::facts::one_customer_message()
            },
        }
    }

    #[test]
    fn distributions_and_intervals_by_hand() {
        let table = FactTable::from_facts(&[
            row("1", "chat", Some(5.0), Some(10.0), Some(7.0)),
            row("2", "chat", Some(4.0), Some(9.0), Some(5.0)),
            row("3", "email", Some(2.0), Some(3.0), Some(6.0)),
            row("4", "email", Some(5.0), Some(8.0), None),
            row("5", "email", None, None, None),
        ]);
        let f = feedback(&table, None, &Filter::default());
        // CSAT on 1–5: 1×2, 1×4, 2×5; satisfied (4 and 5) 3 of 4.
        assert_eq!(f.csat.responses, 4);
        let counts: Vec<(f64, u64)> = f.csat.scores.iter().map(|s| (s.score, s.count)).collect();
        assert_eq!(counts, [(1.0, 0), (2.0, 1), (3.0, 0), (4.0, 1), (5.0, 2)]);
        // Wilson for 3 of 4: centre (0.75 + 3.8415/8) / (1 + 3.8415/4) = 0.6275, half
        // 1.96 × sqrt(0.1875/4 + 3.8415/64) / 1.9604 = 0.3273 → 30.0 % to 95.5 %.
        let (lo, hi) = f.csat.interval.unwrap();
        assert!(
            (lo - 30.06).abs() < 0.05 && (hi - 95.44).abs() < 0.05,
            "{lo} {hi}"
        );
        // NPS: promoters 10, 9 (2 of 4), detractor 3 (1 of 4): 25; variance 0.5 + 0.25 −
        // 0.0625 = 0.6875; half 1.96 × sqrt(0.6875 / 4) = 0.8126 → −56.3 to 106.3.
        assert_eq!(f.nps.responses, 4);
        assert_eq!(f.nps.scores.len(), 11);
        let (lo, hi) = f.nps.interval.unwrap();
        assert!(
            (lo + 56.26).abs() < 0.05 && (hi - 106.26).abs() < 0.05,
            "{lo} {hi}"
        );
        // CES 7, 5, 6: mean 6, sample variance 1, half 1.96 / sqrt(3) = 1.1316.
        let (lo, hi) = f.ces.interval.unwrap();
        assert!(
            (lo - 4.868).abs() < 0.001 && (hi - 7.132).abs() < 0.001,
            "{lo} {hi}"
        );
        // A filter and a period count like the report.
        let chat = Filter {
            channels: vec!["chat".into()],
            ..Filter::default()
        };
        assert_eq!(feedback(&table, None, &chat).csat.responses, 2);
        assert_eq!(
            feedback(&table, Some((1, 2)), &Filter::default())
                .csat
                .responses,
            0
        );
        // One answer: no interval.
        let one = FactTable::from_facts(&[row("1", "chat", Some(5.0), None, None)]);
        assert_eq!(feedback(&one, None, &Filter::default()).csat.interval, None);
    }

    #[test]
    fn unhappy_rows_latest_started_first() {
        let at = |mut f: ConversationFacts, start: i64| {
            f.start = start;
            f
        };
        let table = FactTable::from_facts(&[
            // CSAT 3 of 5 is not satisfied; NPS 6 a detractor; CES 3 of 1–7 under the middle 4.
            at(row("a", "chat", Some(3.0), Some(6.0), Some(3.0)), 100),
            // Satisfied, a passive (7), CES 4 is the middle: nothing unhappy.
            at(row("b", "chat", Some(4.0), Some(7.0), Some(4.0)), 200),
            at(row("c", "email", Some(1.0), None, None), 300),
            // Outside [0, 400).
            at(row("d", "email", Some(1.0), None, None), 400),
            // Same start as c: by conversation id.
            at(row("bb", "email", None, Some(0.0), None), 300),
        ]);
        let named = |rows: Vec<(usize, SurveyKind)>| -> Vec<(String, SurveyKind)> {
            rows.into_iter()
                .map(|(i, k)| (table.conversation(i).to_string(), k))
                .collect()
        };
        assert_eq!(
            named(unhappy_rows(&table, Some((0, 400)), &Filter::default())),
            [
                ("bb".to_string(), SurveyKind::Nps),
                ("c".to_string(), SurveyKind::Csat),
                ("a".to_string(), SurveyKind::Csat),
                ("a".to_string(), SurveyKind::Nps),
                ("a".to_string(), SurveyKind::Ces),
            ]
        );
        let chat = Filter {
            channels: vec!["chat".into()],
            ..Filter::default()
        };
        assert_eq!(unhappy_rows(&table, None, &chat).len(), 3);
    }
}
