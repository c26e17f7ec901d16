//! Hand-computed cases for every definition of docs/metrics.md.

use servicemeter_core::model::{
    Author, Channel, Conversation, ConversationHeader, Event, EventKind, Message, Scale, Score,
    Survey, SurveyKind,
};
use servicemeter_core::report::{Period, build_report};
use servicemeter_core::time::parse_timestamp;
use servicemeter_core::{Calendars, ConversationFacts, FactTable, WorkspaceConfig, compute_facts};

const CONFIG: &str = r#"
timezone = "Europe/Amsterdam"
holidays = ["2024-04-01"]

[opening_hours]
mon = "09:00-17:00"
tue = "09:00-17:00"
wed = "09:00-17:00"
thu = "09:00-17:00"
fri = "09:00-17:00"
sat = "10:00-12:00, 13:00-16:00"
sun = "closed"

[opening_hours.chat]
mon = "00:00-24:00"
tue = "00:00-24:00"
wed = "00:00-24:00"
thu = "00:00-24:00"
fri = "00:00-24:00"
sat = "00:00-24:00"
sun = "00:00-24:00"

[targets.first_response]
email = "1h"
default = "4h"
"#;

fn t(s: &str) -> i64 {
    parse_timestamp(s).unwrap()
}

struct Builder(Conversation);

impl Builder {
    fn new(channel: &str, created: &str) -> Builder {
        let mut c = Conversation::new("c1");
        c.header = Some(ConversationHeader {
            channel: Channel::new(channel).unwrap(),
            created_at: t(created),
            customer: None,
            agent: None,
            team: None,
            tags: vec![],
            subject: None,
            customer_email: None,
            customer_name: None,
            customer_language: None,
        });
        Builder(c)
    }
    fn msg(mut self, at: &str, author: Author, agent: Option<&str>) -> Builder {
        self.0.messages.push(Message {
            id: None,
            at: t(at),
            author,
            agent: agent.map(str::to_string),
            text: None,
        });
        self
    }
    fn customer(self, at: &str) -> Builder {
        self.msg(at, Author::Customer, None)
    }
    fn agent(self, at: &str, who: &str) -> Builder {
        self.msg(at, Author::Agent, Some(who))
    }
    fn event(mut self, at: &str, kind: EventKind, agent: Option<&str>) -> Builder {
        self.0.events.push(Event {
            at: t(at),
            kind,
            agent: agent.map(str::to_string),
        });
        self
    }
    fn survey(mut self, at: &str, kind: SurveyKind, score: f64, scale: Option<Scale>) -> Builder {
        let scale = scale.unwrap_or(kind.default_scale());
        self.0.surveys.push(Survey {
            at: t(at),
            kind,
            score: Score::new(kind, score, scale).unwrap(),
            comment: None,
            reasons: Vec::new(),
            source: None,
        });
        self
    }
    fn header_agent(mut self, who: &str) -> Builder {
        self.0.header.as_mut().unwrap().agent = Some(who.into());
        self
    }
    fn facts(self) -> ConversationFacts {
        self.facts_with(CONFIG)
    }
    fn facts_with(mut self, config: &str) -> ConversationFacts {
        self.0.normalize();
        let calendars = Calendars::new(WorkspaceConfig::from_toml(config).unwrap());
        compute_facts(&self.0, &calendars).unwrap()
    }
}

const S: i64 = 1000;

#[test]
fn arrival_when_closed_starts_the_clock_at_the_next_opening() {
    // Friday 18:00 → Monday 09:30. Open: Saturday 10–12 and 13–16 (5 h), Monday 09:00–09:30.
    let f = Builder::new("email", "2024-03-01T18:00:00+01:00")
        .customer("2024-03-01T18:00:00+01:00")
        .agent("2024-03-04T09:30:00+01:00", "Anna")
        .facts();
    assert!(f.inbound);
    assert_eq!(
        f.first_response_millis,
        Some((2 * 86_400 + 15 * 3600 + 1800) * S)
    );
    assert_eq!(
        f.first_response_business_millis,
        Some((5 * 3600 + 1800) * S)
    );
}

#[test]
fn split_shift_skips_lunch() {
    let f = Builder::new("email", "2024-03-02T11:30:00+01:00")
        .customer("2024-03-02T11:30:00+01:00")
        .agent("2024-03-02T13:30:00+01:00", "Anna")
        .facts();
    assert_eq!(f.first_response_millis, Some(7200 * S));
    assert_eq!(f.first_response_business_millis, Some(3600 * S));
}

#[test]
fn closed_sunday_counts_nothing() {
    let f = Builder::new("email", "2024-03-03T12:00:00+01:00")
        .customer("2024-03-03T12:00:00+01:00")
        .agent("2024-03-03T14:00:00+01:00", "Anna")
        .facts();
    assert_eq!(f.first_response_millis, Some(7200 * S));
    assert_eq!(f.first_response_business_millis, Some(0));
}

#[test]
fn dst_switch_weekend_with_holiday_monday() {
    // Saturday 30 March 15:30 CET → Tuesday 2 April 09:15 CEST. Sunday closed (and the clocks
    // go forward), Monday 1 April is a holiday. Open: Sat 15:30–16:00 + Tue 09:00–09:15.
    let f = Builder::new("email", "2024-03-30T15:30:00+01:00")
        .customer("2024-03-30T15:30:00+01:00")
        .agent("2024-04-02T09:15:00+02:00", "Anna")
        .facts();
    // 14:30Z Saturday → 07:15Z Tuesday = 3 days − 7 h 15 min.
    assert_eq!(
        f.first_response_millis,
        Some((3 * 86_400 - 7 * 3600 - 900) * S)
    );
    assert_eq!(f.first_response_business_millis, Some(2700 * S));
}

#[test]
fn dst_switch_night_on_a_24_7_channel() {
    // 01:30 CET → 03:30 CEST is one real hour.
    let f = Builder::new("chat", "2024-03-31T01:30:00+01:00")
        .customer("2024-03-31T01:30:00+01:00")
        .agent("2024-03-31T03:30:00+02:00", "Anna")
        .facts();
    assert_eq!(f.first_response_millis, Some(3600 * S));
    assert_eq!(f.first_response_business_millis, Some(3600 * S));
}

#[test]
fn bot_and_notes_are_not_responses() {
    let f = Builder::new("chat", "2024-03-04T10:00:00+01:00")
        .customer("2024-03-04T10:00:00+01:00")
        .msg("2024-03-04T10:00:01+01:00", Author::Bot, None)
        .msg("2024-03-04T10:00:10+01:00", Author::Note, Some("Anna"))
        .agent("2024-03-04T10:02:00+01:00", "Anna")
        .facts();
    assert_eq!(f.first_response_millis, Some(120 * S));
    assert_eq!(
        (f.customer_messages, f.agent_messages, f.agent_turns),
        (1, 1, 1)
    );
}

#[test]
fn bot_first_does_not_make_a_conversation_outbound() {
    let f = Builder::new("chat", "2024-03-04T10:00:00+01:00")
        .msg("2024-03-04T09:59:00+01:00", Author::Bot, None)
        .customer("2024-03-04T10:00:00+01:00")
        .agent("2024-03-04T10:00:30+01:00", "Anna")
        .facts();
    assert!(f.inbound);
    assert_eq!(f.start, t("2024-03-04T10:00:00+01:00"));
    assert_eq!(f.first_response_millis, Some(30 * S));
}

#[test]
fn outbound_has_no_first_response() {
    let f = Builder::new("email", "2024-03-04T10:00:00+01:00")
        .agent("2024-03-04T10:00:00+01:00", "Anna")
        .customer("2024-03-04T11:00:00+01:00")
        .agent("2024-03-04T11:30:00+01:00", "Anna")
        .facts();
    assert!(!f.inbound);
    assert!(!f.unanswered());
    assert_eq!(f.first_response_millis, None);
    assert_eq!(f.agent_turns, 2);
}

#[test]
fn unanswered_inbound() {
    let f = Builder::new("email", "2024-03-04T10:00:00+01:00")
        .customer("2024-03-04T10:00:00+01:00")
        .customer("2024-03-04T12:00:00+01:00")
        .facts();
    assert!(f.inbound && f.unanswered());
    assert_eq!(f.first_response_millis, None);
    assert_eq!((f.customer_messages, f.agent_turns), (2, 0));
}

#[test]
fn no_messages_starts_at_created_at() {
    let f = Builder::new("email", "2024-03-04T10:00:00+01:00")
        .event("2024-03-04T11:00:00+01:00", EventKind::Resolved, None)
        .facts();
    assert!(!f.inbound);
    assert_eq!(f.start, t("2024-03-04T10:00:00+01:00"));
    assert_eq!(f.resolution_millis, Some(3600 * S));
    assert!(!f.one_touch, "no agent turn");
}

#[test]
fn implicit_reopen_by_customer_message() {
    let f = Builder::new("email", "2024-03-04T10:00:00+01:00")
        .customer("2024-03-04T10:00:00+01:00")
        .agent("2024-03-04T10:30:00+01:00", "Anna")
        .event("2024-03-04T10:31:00+01:00", EventKind::Resolved, None)
        .customer("2024-03-04T12:00:00+01:00")
        .agent("2024-03-04T12:10:00+01:00", "Anna")
        .event("2024-03-04T13:00:00+01:00", EventKind::Resolved, None)
        .facts();
    assert_eq!(f.reopens, 1);
    assert!(f.resolved);
    assert_eq!(f.first_resolution_millis, Some(31 * 60 * S));
    assert_eq!(f.resolution_millis, Some(3 * 3600 * S));
    assert_eq!(f.resolution_business_millis, Some(3 * 3600 * S));
    assert_eq!(f.agent_turns, 2);
    assert!(!f.one_touch);
}

#[test]
fn explicit_reopen_without_new_resolution() {
    let f = Builder::new("email", "2024-03-04T10:00:00+01:00")
        .customer("2024-03-04T10:00:00+01:00")
        .agent("2024-03-04T10:30:00+01:00", "Anna")
        .event("2024-03-04T11:00:00+01:00", EventKind::Resolved, None)
        .event("2024-03-05T09:00:00+01:00", EventKind::Reopened, None)
        .facts();
    assert_eq!(f.reopens, 1);
    assert!(!f.resolved);
    assert_eq!(f.resolution_millis, None);
    assert_eq!(f.first_resolution_millis, Some(3600 * S));
}

#[test]
fn reopen_while_open_and_resolve_while_resolved_change_nothing() {
    let f = Builder::new("email", "2024-03-04T10:00:00+01:00")
        .customer("2024-03-04T10:00:00+01:00")
        .event("2024-03-04T10:10:00+01:00", EventKind::Reopened, None)
        .agent("2024-03-04T10:30:00+01:00", "Anna")
        .event("2024-03-04T11:00:00+01:00", EventKind::Resolved, None)
        .event("2024-03-04T12:00:00+01:00", EventKind::Resolved, None)
        .facts();
    assert_eq!(f.reopens, 0);
    assert_eq!(
        f.resolution_millis,
        Some(3600 * S),
        "the first resolve made the final state"
    );
    assert!(f.one_touch);
}

#[test]
fn at_equal_times_messages_come_before_events() {
    // The customer's message at 11:00 is processed before the resolve at 11:00: no reopen.
    let f = Builder::new("email", "2024-03-04T10:00:00+01:00")
        .customer("2024-03-04T10:00:00+01:00")
        .agent("2024-03-04T10:30:00+01:00", "Anna")
        .event("2024-03-04T11:00:00+01:00", EventKind::Resolved, None)
        .customer("2024-03-04T11:00:00+01:00")
        .facts();
    assert!(f.resolved);
    assert_eq!(f.reopens, 0);
}

#[test]
fn same_second_reply_is_zero() {
    let f = Builder::new("chat", "2024-03-04T10:00:00+01:00")
        .agent("2024-03-04T10:00:00+01:00", "Anna")
        .customer("2024-03-04T10:00:00+01:00")
        .facts();
    assert!(
        f.inbound,
        "at the same instant the customer's message comes first"
    );
    assert_eq!(f.first_response_millis, Some(0));
    assert_eq!(f.first_response_business_millis, Some(0));
}

#[test]
fn mixed_offsets_are_the_same_timeline() {
    let f = Builder::new("email", "2024-03-04T09:00:00+01:00")
        .customer("2024-03-04T09:00:00+01:00")
        .agent("2024-03-04T08:10:00Z", "Anna")
        .facts();
    assert_eq!(f.first_response_millis, Some(600 * S));
    assert_eq!(f.first_response_business_millis, Some(600 * S));
}

#[test]
fn back_and_forth_counts_agent_runs() {
    let f = Builder::new("email", "2024-03-04T09:00:00+01:00")
        .customer("2024-03-04T09:00:00+01:00")
        .agent("2024-03-04T09:10:00+01:00", "Anna")
        .agent("2024-03-04T09:11:00+01:00", "Anna")
        .msg("2024-03-04T09:12:00+01:00", Author::Note, Some("Bob"))
        .agent("2024-03-04T09:13:00+01:00", "Anna")
        .customer("2024-03-04T09:20:00+01:00")
        .agent("2024-03-04T09:30:00+01:00", "Anna")
        .facts();
    assert_eq!(
        (f.customer_messages, f.agent_messages, f.agent_turns),
        (2, 4, 2)
    );
}

#[test]
fn conversation_agent_precedence() {
    let base = || {
        Builder::new("email", "2024-03-04T09:00:00+01:00")
            .customer("2024-03-04T09:00:00+01:00")
            .agent("2024-03-04T09:10:00+01:00", "Cas")
            .event(
                "2024-03-04T09:01:00+01:00",
                EventKind::Assigned,
                Some("Anna"),
            )
            .event(
                "2024-03-04T09:05:00+01:00",
                EventKind::Transferred,
                Some("Bob"),
            )
    };
    assert_eq!(
        base().header_agent("Dirk").facts().agent.as_deref(),
        Some("Dirk")
    );
    assert_eq!(base().facts().agent.as_deref(), Some("Bob"));
    let only_messages = Builder::new("email", "2024-03-04T09:00:00+01:00")
        .customer("2024-03-04T09:00:00+01:00")
        .agent("2024-03-04T09:10:00+01:00", "Cas")
        .agent("2024-03-04T09:20:00+01:00", "Eva")
        .facts();
    assert_eq!(only_messages.agent.as_deref(), Some("Eva"));
    let nobody = Builder::new("email", "2024-03-04T09:00:00+01:00")
        .customer("2024-03-04T09:00:00+01:00")
        .facts();
    assert_eq!(nobody.agent, None);
}

#[test]
fn latest_survey_wins_per_kind() {
    let f = Builder::new("email", "2024-03-04T09:00:00+01:00")
        .survey("2024-03-05T09:00:00+01:00", SurveyKind::Csat, 5.0, None)
        .survey("2024-03-04T12:00:00+01:00", SurveyKind::Csat, 2.0, None)
        .survey("2024-03-04T12:00:00+01:00", SurveyKind::Nps, 3.0, None)
        .facts();
    assert_eq!(f.csat.unwrap().score, 5.0);
    assert_eq!(f.nps.unwrap().score, 3.0);
    assert!(f.ces.is_none());
}

fn with_csat(score: f64, scale: Scale) -> ConversationFacts {
    Builder::new("email", "2024-03-04T09:00:00+01:00")
        .survey(
            "2024-03-05T09:00:00+01:00",
            SurveyKind::Csat,
            score,
            Some(scale),
        )
        .facts()
}

#[test]
fn csat_satisfied_depends_on_scale_size() {
    let config = WorkspaceConfig::from_toml(CONFIG).unwrap();
    let sc = |min, max| Scale { min, max };
    // 1–5: 4 and 5 satisfied; 1–3: only 3; 0–1 (thumbs): only 1; 1–10: 9 and 10.
    let cases = [
        (4.0, sc(1.0, 5.0), true),
        (3.0, sc(1.0, 5.0), false),
        (3.0, sc(1.0, 3.0), true),
        (2.0, sc(1.0, 3.0), false),
        (1.0, sc(0.0, 1.0), true),
        (0.0, sc(0.0, 1.0), false),
        (9.0, sc(1.0, 10.0), true),
        (8.0, sc(1.0, 10.0), false),
    ];
    for (score, scale, satisfied) in cases {
        let report = build_report(
            &FactTable::from_facts(&[with_csat(score, scale)]),
            &config,
            None,
            &[],
        );
        assert_eq!(
            report.summary.csat.satisfied,
            u64::from(satisfied),
            "score {score} on {scale:?}"
        );
    }
    let facts: Vec<_> = cases.iter().map(|(s, sc, _)| with_csat(*s, *sc)).collect();
    let report = build_report(&FactTable::from_facts(&facts), &config, None, &[]);
    assert_eq!(report.summary.csat.responses, 8);
    assert_eq!(report.summary.csat.satisfied_pct, Some(50.0));
    // (4+3+3+2+1+0+9+8)/8 = 30/8
    assert_eq!(report.summary.csat.average, Some(3.75));
}

#[test]
fn nps_and_ces_aggregates() {
    let config = WorkspaceConfig::from_toml(CONFIG).unwrap();
    let nps: Vec<_> = [10.0, 9.0, 8.0, 6.0, 0.0]
        .iter()
        .map(|&s| {
            Builder::new("email", "2024-03-04T09:00:00+01:00")
                .survey("2024-03-05T09:00:00+01:00", SurveyKind::Nps, s, None)
                .facts()
        })
        .collect();
    let r = build_report(&FactTable::from_facts(&nps), &config, None, &[]);
    assert_eq!(r.summary.nps.responses, 5);
    assert_eq!(r.summary.nps.promoters_pct, Some(40.0));
    assert_eq!(r.summary.nps.detractors_pct, Some(40.0));
    assert_eq!(r.summary.nps.score, Some(0.0));

    // CES on 1–7, midpoint 4: above 7 and 6, below 2, at 4 neither → 50 % − 25 % = +25.
    let ces: Vec<_> = [7.0, 4.0, 2.0, 6.0]
        .iter()
        .map(|&s| {
            Builder::new("email", "2024-03-04T09:00:00+01:00")
                .survey("2024-03-05T09:00:00+01:00", SurveyKind::Ces, s, None)
                .facts()
        })
        .collect();
    let r = build_report(&FactTable::from_facts(&ces), &config, None, &[]);
    assert_eq!(r.summary.ces.average, Some(4.75));
    assert_eq!(r.summary.ces.net, Some(25.0));
}

fn answered(id: &str, channel: &str, agent: &str, start: &str, reply: &str) -> ConversationFacts {
    let mut f = Builder::new(channel, start)
        .customer(start)
        .agent(reply, agent)
        .facts();
    f.conversation = id.into();
    f
}

#[test]
fn first_response_aggregates_and_targets() {
    let config = WorkspaceConfig::from_toml(CONFIG).unwrap();
    // Business seconds on Monday 4 March (email open 09–17): 600, 1800, 3600, 7200; one
    // unanswered. Email target 1 h: 3 of 4 within.
    let mut facts = vec![
        answered(
            "a",
            "email",
            "Anna",
            "2024-03-04T09:00:00+01:00",
            "2024-03-04T09:10:00+01:00",
        ),
        answered(
            "b",
            "email",
            "Anna",
            "2024-03-04T09:00:00+01:00",
            "2024-03-04T09:30:00+01:00",
        ),
        answered(
            "c",
            "email",
            "Bob",
            "2024-03-04T09:00:00+01:00",
            "2024-03-04T10:00:00+01:00",
        ),
        answered(
            "d",
            "email",
            "Bob",
            "2024-03-04T09:00:00+01:00",
            "2024-03-04T11:00:00+01:00",
        ),
    ];
    facts.push(
        Builder::new("email", "2024-03-04T09:00:00+01:00")
            .customer("2024-03-04T09:00:00+01:00")
            .facts(),
    );
    let r = build_report(&FactTable::from_facts(&facts), &config, None, &[]);
    let fr = &r.summary.first_response;
    assert_eq!((fr.count, fr.unanswered), (4, 1));
    assert_eq!(fr.median_business_seconds, Some(2700.0)); // (1800 + 3600) / 2
    // p90: rank 0.9 × 3 = 2.7 → 3600 + 0.7 × 3600 = 6120
    assert!((fr.p90_business_seconds.unwrap() - 6120.0).abs() < 1e-9);
    assert_eq!(fr.mean_business_seconds, Some(3300.0));
    assert_eq!(fr.within_target, 3);
    assert_eq!(fr.within_target_pct, Some(75.0));
    assert_eq!(
        r.by_agent["Anna"].first_response.median_business_seconds,
        Some(1200.0)
    );
    assert_eq!(r.by_agent["(unassigned)"].conversations, 1);
    assert_eq!(r.by_channel["email"].conversations, 5);
}

#[test]
fn period_and_previous_period_by_local_start_date() {
    let config = WorkspaceConfig::from_toml(CONFIG).unwrap();
    // 2024-03-31 00:30 CET is 2024-03-30 23:30Z: it belongs to local day 31 March.
    let facts = vec![
        answered(
            "late",
            "chat",
            "Anna",
            "2024-03-31T00:30:00+01:00",
            "2024-03-31T00:31:00+01:00",
        ),
        answered(
            "p1",
            "chat",
            "Anna",
            "2024-03-29T12:00:00+01:00",
            "2024-03-29T12:01:00+01:00",
        ),
        answered(
            "p2",
            "chat",
            "Anna",
            "2024-03-30T23:59:00+01:00",
            "2024-03-31T00:01:00+01:00",
        ),
        answered(
            "old",
            "chat",
            "Anna",
            "2024-03-28T12:00:00+01:00",
            "2024-03-28T12:01:00+01:00",
        ),
    ];
    let d = |s: &str| s.parse().unwrap();
    let period = Period::new(d("2024-03-31"), d("2024-04-01"));
    let r = build_report(&FactTable::from_facts(&facts), &config, Some(period), &[]);
    assert_eq!(r.summary.conversations, 1);
    let previous = r.previous.unwrap();
    assert_eq!(previous.period.from, d("2024-03-29"));
    assert_eq!(previous.period.to, d("2024-03-30"));
    assert_eq!(previous.summary.conversations, 2);
    // Without the topic breakdown, no topic counts of the previous period.
    assert_eq!(r.previous_by_tag, None);

    // With it: each topic's conversations in the previous period (29–30 March), for its
    // change. p1 has two topics, p2 none; "old" (28 March) is in neither period.
    let tagged = |mut f: ConversationFacts, tags: &[&str]| {
        f.tags = tags.iter().map(|t| t.to_string()).collect();
        f
    };
    let facts: Vec<ConversationFacts> = facts
        .into_iter()
        .map(|f| match f.conversation.as_str() {
            "late" => tagged(f, &["retour"]),
            "p1" => tagged(f, &["retour", "levering"]),
            "old" => tagged(f, &["retour"]),
            _ => f,
        })
        .collect();
    let by = [servicemeter_core::report::GroupBy::Tag];
    let r = build_report(&FactTable::from_facts(&facts), &config, Some(period), &by);
    assert_eq!(r.by_tag.as_ref().unwrap()["retour"].conversations, 1);
    let previous: Vec<(&str, u64)> = r
        .previous_by_tag
        .as_ref()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        previous,
        [("(untagged)", 1), ("levering", 1), ("retour", 1)]
    );
}

#[test]
fn an_agent_account_listed_as_bot_does_not_answer() {
    // Chat is open all day. "Chatbot" answers after 5 s as an agent account; Anna after 2 min.
    let config = format!("{CONFIG}\n[agents]\nbots = [\"Chatbot\"]\n");
    let build = || {
        Builder::new("chat", "2024-03-04T10:00:00+01:00")
            .customer("2024-03-04T10:00:00+01:00")
            .agent("2024-03-04T10:00:05+01:00", "Chatbot")
            .agent("2024-03-04T10:02:00+01:00", "Anna")
    };
    let as_bot = build().facts_with(&config);
    assert_eq!(as_bot.first_response_millis, Some(120 * S));
    assert_eq!(as_bot.agent_messages, 1);
    assert_eq!(as_bot.agent_turns, 1);
    assert_eq!(as_bot.agent.as_deref(), Some("Anna"));
    // Without the rule the bot's message is the first response.
    let plain = build().facts();
    assert_eq!(plain.first_response_millis, Some(5 * S));
    assert_eq!(plain.agent_messages, 2);
}

/// Waiting: the customer spoke last and the conversation is open; the wait starts at the
/// first customer message after the last agent message. Bots and notes answer nothing.
#[test]
fn the_customer_waits_since_their_first_unanswered_message() {
    let at = |s: &str| t(s);
    let open = Builder::new("email", "2024-03-04T09:00:00+01:00")
        .customer("2024-03-04T09:00:00+01:00")
        .agent("2024-03-04T09:10:00+01:00", "Anna")
        .customer("2024-03-04T10:00:00+01:00")
        .msg("2024-03-04T10:01:00+01:00", Author::Bot, None)
        .customer("2024-03-04T10:05:00+01:00")
        .msg("2024-03-04T10:06:00+01:00", Author::Note, Some("Bob"))
        .facts();
    assert_eq!(open.waiting_since, Some(at("2024-03-04T10:00:00+01:00")));
    // The agent spoke last: nobody waits.
    let answered = Builder::new("email", "2024-03-04T09:00:00+01:00")
        .customer("2024-03-04T09:00:00+01:00")
        .agent("2024-03-04T09:10:00+01:00", "Anna")
        .facts();
    assert_eq!(answered.waiting_since, None);
    // Resolved: nobody waits, even when the customer said thanks last.
    let resolved = Builder::new("email", "2024-03-04T09:00:00+01:00")
        .customer("2024-03-04T09:00:00+01:00")
        .agent("2024-03-04T09:10:00+01:00", "Anna")
        .event("2024-03-04T09:11:00+01:00", EventKind::Resolved, None)
        .facts();
    assert_eq!(resolved.waiting_since, None);
    // Never answered: waiting since the start.
    let unanswered = Builder::new("chat", "2024-03-04T09:00:00+01:00")
        .customer("2024-03-04T09:00:00+01:00")
        .facts();
    assert_eq!(
        unanswered.waiting_since,
        Some(at("2024-03-04T09:00:00+01:00"))
    );
}

#[test]
fn anonymous_answers_count_in_the_figures_but_are_not_listed_beside_their_conversation() {
    use servicemeter_core::filter::Filter;
    use servicemeter_core::model::ANONYMOUS_SOURCE;
    use servicemeter_core::select::{Selection, SortKey, Subset, select};
    let config = WorkspaceConfig::from_toml(CONFIG).unwrap();
    let mut named = Builder::new("email", "2024-03-04T09:00:00+01:00").survey(
        "2024-03-05T09:00:00+01:00",
        SurveyKind::Csat,
        2.0,
        None,
    );
    named.0.id = "named".into();
    let mut anonymous = Builder::new("email", "2024-03-04T09:00:00+01:00").survey(
        "2024-03-05T09:00:00+01:00",
        SurveyKind::Csat,
        1.0,
        None,
    );
    anonymous.0.id = "anonymous".into();
    anonymous.0.surveys[0].source = Some(ANONYMOUS_SOURCE.into());
    let (named, anonymous) = (named.facts(), anonymous.facts());
    assert!(!named.anonymous && anonymous.anonymous);
    assert_eq!(anonymous.csat.unwrap().score, 1.0);
    assert_eq!(anonymous.listed(SurveyKind::Csat), None);
    assert_eq!(named.listed(SurveyKind::Csat).unwrap().score, 2.0);
    let row = servicemeter_core::FactsRow::new(&anonymous);
    assert_eq!(row.csat_score, None);

    // Both count: 2 answers, none satisfied, average 1.5.
    let table = FactTable::from_facts(&[named, anonymous]);
    let report = build_report(&table, &config, None, &[]);
    assert_eq!(report.summary.csat.responses, 2);
    assert_eq!(report.summary.csat.average, Some(1.5));
    // Lists of answers hold only the named one; lists of all conversations hold both, the
    // anonymous one without a score to sort by.
    let list = |subset| {
        select(
            &table,
            &config,
            &Selection {
                start_between: None,
                filter: Filter::default(),
                subset,
            },
            SortKey::Csat,
            false,
        )
        .into_iter()
        .map(|i| table.conversation(i).to_string())
        .collect::<Vec<_>>()
    };
    assert_eq!(list(Subset::Unsatisfied), ["named"]);
    assert_eq!(list(Subset::Csat), ["named"]);
    assert_eq!(list(Subset::All), ["named", "anonymous"]);
}

#[test]
fn an_alert_rule_reads_the_figure_and_its_answers_from_a_report() {
    use servicemeter_core::alerts::{AlertRule, Breaks, Reading};
    use servicemeter_core::headline::Figure;
    let config = WorkspaceConfig::from_toml(CONFIG).unwrap();
    let five = Scale { min: 1.0, max: 5.0 };
    // 5, 4, 3: two of three satisfied = 66.7 %.
    let facts: Vec<_> = [5.0, 4.0, 3.0]
        .iter()
        .map(|s| with_csat(*s, five))
        .collect();
    let summary = build_report(&FactTable::from_facts(&facts), &config, None, &[]).summary;
    let rule = |min_answers| AlertRule {
        watched: servicemeter_core::alerts::Watched::Figure(Figure::Csat),
        breaks: Breaks::Below,
        threshold: 85.0,
        window_minutes: 7 * 24 * 60,
        min_answers,
    };
    match rule(3).read_summary(&summary) {
        Reading::Broken(v) => assert!((v - 200.0 / 3.0).abs() < 1e-9, "{v}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(rule(4).read_summary(&summary), Reading::Unknown);
}

#[test]
fn what_needs_attention_lists_missed_targets_slow_channels_and_overdue_follow_ups() {
    use servicemeter_core::attention::{Attention, attention};
    use servicemeter_core::headline::Figure;
    let config_text = format!("{CONFIG}\n[targets.median_first_response]\nemail = \"1m\"\n");
    let config = WorkspaceConfig::from_toml(&config_text).unwrap();
    // Three e-mails on Monday 4 March, each answered by Eva after 10 minutes of opening hours,
    // none resolved; CSAT 5, 4 and 3.
    let facts: Vec<ConversationFacts> = [5.0, 4.0, 3.0]
        .iter()
        .enumerate()
        .map(|(i, score)| {
            let mut b = Builder::new("email", "2024-03-04T09:00:00+01:00")
                .customer("2024-03-04T09:00:00+01:00")
                .agent("2024-03-04T09:10:00+01:00", "Eva")
                .survey("2024-03-04T12:00:00+01:00", SurveyKind::Csat, *score, None);
            b.0.id = format!("c{i}");
            b.facts_with(&config_text)
        })
        .collect();
    let report = build_report(&FactTable::from_facts(&facts), &config, None, &[]);
    let found = attention(&report, 2);
    assert_eq!(found.len(), 4, "{found:?}");
    // Resolution 0 % against 90 %, CSAT 2 of 3 (66.7 %) against 85 %, in the catalog's order.
    assert_eq!(
        found[0],
        Attention::TargetMissed {
            figure: Figure::ResolutionRate,
            value: Some(0.0),
            target: Some(90.0)
        }
    );
    match &found[1] {
        Attention::TargetMissed {
            figure: Figure::Csat,
            value: Some(v),
            target: Some(t),
        } => assert!((v - 200.0 / 3.0).abs() < 1e-9 && *t == 85.0, "{v} {t}"),
        other => panic!("{other:?}"),
    }
    // E-mail's median first response 600 s against 60 s.
    assert_eq!(
        found[2],
        Attention::ChannelMedianMissed {
            channel: "email".into(),
            seconds: Some(600.0),
            target_seconds: 60.0
        }
    );
    assert_eq!(found[3], Attention::OverdueFollowUps(2));
    // Eva is the whole team: nothing flags her.
    assert!(
        !found
            .iter()
            .any(|a| matches!(a, Attention::AgentFlagged { .. }))
    );
    // Without overdue follow-ups the last line goes.
    assert_eq!(attention(&report, 0).len(), 3);
}

#[test]
fn alerts_evaluate_a_window_the_backlog_and_follow_ups_within_opening_hours() {
    use servicemeter_core::alerts::{AlertState, Reading, Watched, step};
    let text = format!(
        "{CONFIG}
[[alerts]]
name = \"chat-wacht\"
watch = \"first_response_median\"
channel = \"chat\"
above = \"2m\"
window = \"1h\"
webhook = \"http://127.0.0.1:9/hook\"

[[alerts]]
name = \"te-laat\"
watch = \"overdue\"
above = 0
email = [\"lead@shop.nl\"]

[[alerts]]
name = \"opvolging\"
watch = \"follow_ups_overdue\"
above = 2
always = true
language = \"en\"
email = [\"lead@shop.nl\"]
webhook = \"https://outlook.office.com/webhook/x\"
webhook_format = \"teams\"
"
    );
    let config = WorkspaceConfig::from_toml(&text).unwrap();
    let [wait, overdue, follow] = &config.alerts[..] else {
        panic!("{:?}", config.alerts)
    };
    assert_eq!(wait.rule.threshold, 120.0);
    assert_eq!(wait.rule.window_minutes, 60);
    assert_eq!(overdue.rule.watched, Watched::Overdue);
    assert_eq!(follow.language, "en");
    // Monday 4 March 2024. Chat is open all day; e-mail 09:00–17:00.
    // c1: chat at 10:00, answered after 90 s; c2: chat at 10:20, answered after 200 s
    // (median of the hour 145 s > 120 s); c3: chat at 08:30, answered after 600 s (outside the
    // window at 10:40); e1: e-mail at 09:00, unanswered (its target is 1 h).
    let facts: Vec<ConversationFacts> = [
        (
            "c1",
            "chat",
            "2024-03-04T10:00:00+01:00",
            Some("2024-03-04T10:01:30+01:00"),
        ),
        (
            "c2",
            "chat",
            "2024-03-04T10:20:00+01:00",
            Some("2024-03-04T10:23:20+01:00"),
        ),
        (
            "c3",
            "chat",
            "2024-03-04T08:30:00+01:00",
            Some("2024-03-04T08:40:00+01:00"),
        ),
        ("e1", "email", "2024-03-04T09:00:00+01:00", None),
    ]
    .into_iter()
    .map(|(id, channel, at, answered)| {
        let mut b = Builder::new(channel, at).customer(at);
        if let Some(answered) = answered {
            b = b.agent(answered, "Eva");
        }
        b.0.id = id.into();
        b.facts_with(&text)
    })
    .collect();
    let table = FactTable::from_facts(&facts);
    let calendars = Calendars::new(config.clone());
    let at = |s: &str| t(s);
    assert_eq!(
        wait.evaluate(&table, &calendars, at("2024-03-04T10:40:00+01:00"), 0),
        Reading::Broken(145.0)
    );
    // At 11:19 only c2 (10:20) is in the last hour: 200 s.
    assert_eq!(
        wait.evaluate(&table, &calendars, at("2024-03-04T11:19:00+01:00"), 0),
        Reading::Broken(200.0)
    );
    // At 12:30 nothing started in the hour: nothing can be said.
    assert_eq!(
        wait.evaluate(&table, &calendars, at("2024-03-04T12:30:00+01:00"), 0),
        Reading::Unknown
    );
    // e1 waits past its hour from 10:00: overdue 1 at 10:40, while the desk is open.
    assert_eq!(
        overdue.evaluate(&table, &calendars, at("2024-03-04T10:40:00+01:00"), 0),
        Reading::Broken(1.0)
    );
    assert_eq!(
        overdue.evaluate(&table, &calendars, at("2024-03-04T09:30:00+01:00"), 0),
        Reading::Kept(0.0)
    );
    // At 20:00 the default week is closed: the backlog rule says nothing …
    assert_eq!(
        overdue.evaluate(&table, &calendars, at("2024-03-04T20:00:00+01:00"), 0),
        Reading::Unknown
    );
    // … the follow-up rule speaks always: 3 overdue breaks "above 2".
    assert_eq!(
        follow.evaluate(&table, &calendars, at("2024-03-04T20:00:00+01:00"), 3),
        Reading::Broken(3.0)
    );
    // Fire once, stay quiet, recover, fire again.
    let mut state = AlertState::default();
    let mut events = Vec::new();
    for n in [1, 3, 4, 2, 2, 5] {
        let (next, event) = step(
            state,
            follow.evaluate(&table, &calendars, at("2024-03-04T20:00:00+01:00"), n),
        );
        state = next;
        events.extend(event);
    }
    use servicemeter_core::alerts::AlertEvent;
    assert_eq!(
        events,
        [
            AlertEvent::Fired(3.0),
            AlertEvent::Recovered(2.0),
            AlertEvent::Fired(5.0)
        ]
    );
}

#[test]
fn alert_errors_name_the_key() {
    let base = "name = \"a\"\nwatch = \"csat\"\nbelow = 85\nemail = [\"lead@shop.nl\"]\n";
    let cases = [
        (
            "alerts = 1",
            "alerts",
            "must be a list of [[alerts]] tables",
        ),
        (
            "[[alerts]]\nwatch = \"csat\"\nbelow = 85\nemail = [\"l@s.nl\"]",
            "alerts[0].name",
            "is missing",
        ),
        (
            "[[alerts]]\nname = \"A\"\nwatch = \"csat\"\nbelow = 85\nemail = [\"l@s.nl\"]",
            "alerts[0].name",
            "'A' is not an alert name: 1 to 40 lowercase letters, digits and '-'",
        ),
        (
            "[[alerts]]\nname = \"a\"\nwatch = \"happiness\"\nbelow = 85\nemail = [\"l@s.nl\"]",
            "alerts[0].watch",
            "'happiness' is not one of a headline figure (first_response_median, csat, …), overdue, longest_wait, follow_ups_overdue",
        ),
        (
            "[[alerts]]\nname = \"a\"\nwatch = \"csat\"\nemail = [\"l@s.nl\"]",
            "alerts[0].above",
            "is missing",
        ),
        (
            &format!("[[alerts]]\n{base}above = 90"),
            "alerts[0].below",
            "give above or below, not both",
        ),
        (
            "[[alerts]]\nname = \"a\"\nwatch = \"csat\"\nbelow = \"veel\"\nemail = [\"l@s.nl\"]",
            "alerts[0].below",
            "must be a number, or a duration such as \"2m\" for times; found \"veel\"",
        ),
        (
            &format!("[[alerts]]\n{base}window = \"8d\""),
            "alerts[0].window",
            "'8d' is longer than a week",
        ),
        (
            "[[alerts]]\nname = \"a\"\nwatch = \"csat\"\nbelow = 85",
            "alerts[0].email",
            "needs an e-mail address or a webhook to say it to",
        ),
        (
            "[[alerts]]\nname = \"a\"\nwatch = \"csat\"\nbelow = 85\nemail = [\"lead\"]",
            "alerts[0].email[0]",
            "'lead' is not an e-mail address",
        ),
        (
            &format!("[[alerts]]\n{base}webhook = \"http://hooks.slack.com/x\""),
            "alerts[0].webhook",
            "'http://hooks.slack.com/x' is not an https:// address",
        ),
        (
            &format!("[[alerts]]\n{base}webhook_format = \"discord\""),
            "alerts[0].webhook_format",
            "'discord' is not one of slack, teams",
        ),
        (
            &format!("[[alerts]]\n{base}language = \"fr\""),
            "alerts[0].language",
            "'fr': reports are written in nl or en",
        ),
        (
            &format!("[[alerts]]\n{base}[[alerts]]\n{base}"),
            "alerts[1].name",
            "'a' is used twice",
        ),
    ];
    for (text, key, message) in cases {
        let e = WorkspaceConfig::from_toml(text).unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.problem.to_string().as_str()),
            (key, message),
            "{text}"
        );
    }
}
