//! Drill-down selections: each figure's condition picks exactly the conversations it counts.

use servicemeter_core::facts::{FactNumbers, SurveyAnswer};
use servicemeter_core::filter::Filter;
use servicemeter_core::model::Scale;
use servicemeter_core::select::{Selection, SortKey, Subset, select};
use servicemeter_core::{ConversationFacts, FactTable, WorkspaceConfig};

const CONFIG: &str = r#"
timezone = "Europe/Amsterdam"
[opening_hours]
mon = "09:00-17:00"
[targets.first_response]
chat = "2m"
default = "1h"
"#;

/// `(id, channel, agent, start)` and the numbers that matter here.
fn row(
    (id, channel, agent, start): (&str, &str, Option<&str>, i64),
    first_response_business_s: Option<i64>,
    resolved: bool,
    reopens: u32,
    csat: Option<f64>,
) -> ConversationFacts {
    ConversationFacts {
        conversation: id.into(),
        channel: channel.into(),
        agent: agent.map(str::to_string),
        team: None,
        tags: if id.starts_with('r') {
            vec!["retour".into()]
        } else {
            vec![]
        },
        created_at: start,
        start,
        numbers: FactNumbers {
            anonymous: false,
            inbound: true,
            first_response_millis: first_response_business_s.map(|s| s * 1000),
            first_response_business_millis: first_response_business_s.map(|s| s * 1000),
            resolved,
            resolution_millis: None,
            resolution_business_millis: None,
            first_resolution_millis: None,
            reopens,
            customer_messages: 1,
            agent_messages: u32::from(first_response_business_s.is_some()),
            agent_turns: 1,
            one_touch: resolved && reopens == 0,
            csat: csat.map(|score| SurveyAnswer {
                score,
                scale: Scale { min: 1.0, max: 5.0 },
            }),
            nps: None,
            waiting_since: None,
            ces: None,
        },
    }
}

fn table() -> FactTable {
    FactTable::from_facts(&[
        // chat target 120 s, email (default) 3600 s.
        row(
            ("c1", "chat", Some("Anna"), 1000),
            Some(90),
            true,
            0,
            Some(5.0),
        ),
        row(
            ("c2", "chat", Some("Bob"), 2000),
            Some(121),
            false,
            0,
            Some(3.0),
        ),
        row(
            ("e1", "email", Some("Anna"), 3000),
            Some(3600),
            true,
            1,
            None,
        ),
        row(("e2", "email", None, 4000), None, false, 0, Some(4.0)),
        row(
            ("r1", "email", Some("Bob"), 5000),
            Some(4000),
            true,
            2,
            None,
        ),
    ])
}

fn ids(selection: Selection, sort: SortKey, descending: bool) -> Vec<String> {
    let config = WorkspaceConfig::from_toml(CONFIG).unwrap();
    let table = table();
    select(&table, &config, &selection, sort, descending)
        .into_iter()
        .map(|i| table.conversation(i).to_string())
        .collect()
}

fn subset(subset: Subset) -> Vec<String> {
    ids(
        Selection {
            subset,
            ..Selection::default()
        },
        SortKey::Start,
        false,
    )
}

#[test]
fn each_condition_picks_its_conversations() {
    assert_eq!(subset(Subset::All), ["c1", "c2", "e1", "e2", "r1"]);
    assert_eq!(subset(Subset::Answered), ["c1", "c2", "e1", "r1"]);
    assert_eq!(subset(Subset::Unanswered), ["e2"]);
    // 90 ≤ 120 and 3600 ≤ 3600 are within; 121 > 120 and 4000 > 3600 are over.
    assert_eq!(subset(Subset::WithinTarget), ["c1", "e1"]);
    assert_eq!(subset(Subset::OverTarget), ["c2", "r1"]);
    assert_eq!(subset(Subset::Resolved), ["c1", "e1", "r1"]);
    assert_eq!(subset(Subset::Unresolved), ["c2", "e2"]);
    assert_eq!(subset(Subset::Reopened), ["e1", "r1"]);
    assert_eq!(subset(Subset::OneTouch), ["c1"]);
    assert_eq!(subset(Subset::Csat), ["c1", "c2", "e2"]);
    // On a 1–5 scale 4 and 5 are satisfied.
    assert_eq!(subset(Subset::Satisfied), ["c1", "e2"]);
    assert_eq!(subset(Subset::Unsatisfied), ["c2"]);
    for (name, s) in Subset::ALL {
        assert_eq!(Subset::parse(name), Some(s));
        assert_eq!(s.name(), name);
    }
}

#[test]
fn filters_combine_and_sorting_puts_missing_values_last() {
    let by = |channel: Option<&str>, agent: Option<Option<&str>>, tag: Option<&str>| {
        let one = |v: Option<&str>| v.map(str::to_string).into_iter().collect();
        ids(
            Selection {
                filter: Filter {
                    channels: one(channel),
                    // `Some(None)`: conversations without an agent.
                    agents: one(agent.map(|a| a.unwrap_or("(unassigned)"))),
                    tags: one(tag),
                    ..Filter::default()
                },
                ..Selection::default()
            },
            SortKey::Start,
            false,
        )
    };
    assert_eq!(by(Some("email"), None, None), ["e1", "e2", "r1"]);
    assert_eq!(by(Some("email"), Some(Some("Anna")), None), ["e1"]);
    assert_eq!(by(None, Some(None), None), ["e2"]);
    assert_eq!(by(None, None, Some("retour")), ["r1"]);
    assert_eq!(by(Some("phone"), None, None), Vec::<String>::new());
    assert_eq!(by(None, Some(Some("Nobody")), None), Vec::<String>::new());

    let period = Selection {
        start_between: Some((2000, 4000)),
        ..Selection::default()
    };
    assert_eq!(ids(period, SortKey::Start, false), ["c2", "e1"]);

    let all = Selection::default();
    assert_eq!(
        ids(all.clone(), SortKey::FirstResponse, true),
        ["r1", "e1", "c2", "c1", "e2"]
    );
    assert_eq!(
        ids(all.clone(), SortKey::FirstResponse, false),
        ["c1", "c2", "e1", "r1", "e2"]
    );
    assert_eq!(
        ids(all, SortKey::Csat, true),
        ["c1", "e2", "c2", "e1", "r1"]
    );
}

/// Each headline figure's drill-down lists the conversations that make it what it is: the
/// counts read from the report match the number of rows its drill-down selects.
#[test]
fn every_figure_drills_down_to_the_conversations_it_counts() {
    use servicemeter_core::headline::Figure;
    let config = WorkspaceConfig::from_toml(CONFIG).unwrap();
    let table = table();
    let report = servicemeter_core::build_report(&table, &config, None, &[]);
    let s = &report.summary;
    let drilled = |figure: Figure| {
        let (subset, sort) = figure.drill();
        let selection = Selection {
            subset,
            ..Selection::default()
        };
        select(&table, &config, &selection, sort, false).len() as u64
    };
    // Hand counts of the five rows above.
    let expected: [(Figure, u64, u64); 8] = [
        (Figure::Conversations, s.conversations, 5),
        (Figure::FirstResponseMedian, s.first_response.count, 4),
        (
            Figure::FirstResponseWithinTarget,
            s.first_response.count - s.first_response.within_target,
            2,
        ),
        (Figure::Unanswered, s.first_response.unanswered, 1),
        (
            Figure::ResolutionRate,
            s.conversations - s.resolution.resolved,
            2,
        ),
        (Figure::ReopenRate, s.resolution.reopened_conversations, 2),
        (Figure::OneTouch, s.resolution.one_touch, 1),
        (
            Figure::Csat,
            s.csat.responses - (s.csat.satisfied_pct.unwrap() / 100.0 * 3.0).round() as u64,
            1,
        ),
    ];
    for (figure, counted, by_hand) in expected {
        assert_eq!(counted, by_hand, "{figure:?} in the report");
        assert_eq!(drilled(figure), by_hand, "{figure:?} drilled down");
    }
    for figure in Figure::ALL {
        assert_eq!(Figure::parse(figure.id()), Some(figure));
    }
}

/// A filtered report is the report of the conversations that pass the filter, in both periods
/// and every breakdown; and its drill-down lists those same conversations.
#[test]
fn a_filtered_report_is_the_report_of_the_filtered_conversations() {
    use servicemeter_core::periods::Compared;
    use servicemeter_core::report::{GroupBy, Period};
    use servicemeter_core::{ReportPlan, build_report};
    let config = WorkspaceConfig::from_toml(CONFIG).unwrap();
    let table = table();
    let filter = Filter {
        channels: vec!["email".into()],
        agents: vec!["Bob".into(), "(unassigned)".into()],
        ..Filter::default()
    };
    // 1 January 1970 (the rows start a few seconds after the epoch).
    let day = Period::new("1970-01-01".parse().unwrap(), "1970-01-01".parse().unwrap());
    let by = [GroupBy::Tag, GroupBy::Team];
    let plan = ReportPlan::new(&table, &config, Some(Compared::with_previous(day)), &by)
        .with_filter(&filter);
    let filtered = plan.finish(plan.aggregate(0..table.len()));
    // By hand: e2 (email, unassigned) and r1 (email, Bob).
    let rows: Vec<_> = ["e2", "r1"]
        .iter()
        .map(|id| {
            (0..table.len())
                .find(|&i| table.conversation(i) == *id)
                .unwrap()
        })
        .map(|i| table.get(i))
        .collect();
    let expected = build_report(&FactTable::from_facts(&rows), &config, Some(day), &by);
    assert_eq!(filtered, expected);
    assert_eq!(filtered.summary.conversations, 2);
    let listed = select(
        &table,
        &config,
        &Selection {
            filter,
            ..Selection::default()
        },
        SortKey::Start,
        false,
    );
    assert_eq!(listed.len(), 2);
}
