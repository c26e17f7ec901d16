//! Per-conversation facts: start, first response, the status walk (resolution and reopens),
//! back-and-forth, the conversation's agent and its latest survey answers.
//!
//! These are the definitions of docs/metrics.md; every aggregate is computed from these facts.

use serde::{Deserialize, Serialize};

use crate::calendar::BusinessCalendar;
use crate::config::{AgentRules, Calendars};
use crate::model::{
    Author, Conversation, EventFields, EventKind, MessageFields, Scale, SurveyFields, SurveyKind,
};

/// The latest survey answer of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SurveyAnswer {
    pub score: f64,
    pub scale: Scale,
}

impl SurveyAnswer {
    /// Whether the answer is an unhappy one: CSAT not satisfied, an NPS detractor, CES below the
    /// middle of its scale (hard). The same rules as [`FactNumbers::satisfied`],
    /// [`FactNumbers::nps_group`] and [`FactNumbers::effort`].
    pub fn unhappy(&self, kind: crate::model::SurveyKind) -> bool {
        use crate::model::SurveyKind;
        match kind {
            SurveyKind::Csat => !csat_satisfied(self.score, self.scale.min, self.scale.max),
            SurveyKind::Nps => nps_group(self.score) == NpsGroup::Detractor,
            SurveyKind::Ces => self.score < (self.scale.min + self.scale.max) / 2.0,
        }
    }
}

/// The numbers of one conversation's facts (what the aggregates need), without names.
/// Durations in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FactNumbers {
    /// The first public message is from the customer.
    pub inbound: bool,
    pub first_response_millis: Option<i64>,
    pub first_response_business_millis: Option<i64>,
    /// The final state is resolved.
    pub resolved: bool,
    pub resolution_millis: Option<i64>,
    pub resolution_business_millis: Option<i64>,
    pub first_resolution_millis: Option<i64>,
    pub reopens: u32,
    pub customer_messages: u32,
    pub agent_messages: u32,
    pub agent_turns: u32,
    pub one_touch: bool,
    /// The latest answer of some kind was given anonymously: the answers count in the figures,
    /// but lists and exports show none of this conversation's scores.
    pub anonymous: bool,
    pub csat: Option<SurveyAnswer>,
    pub nps: Option<SurveyAnswer>,
    pub ces: Option<SurveyAnswer>,
    /// When the customer began waiting for the team: the first customer message after the
    /// last agent message, while the conversation is not resolved and the customer spoke last
    /// (bots and notes do not answer). `None` when nobody waits.
    pub waiting_since: Option<i64>,
}

/// Whether a CSAT answer counts as satisfied: the top two points on scales of 5 or more
/// points, only the top point on smaller scales.
pub fn csat_satisfied(score: f64, min: f64, max: f64) -> bool {
    if max - min + 1.0 >= 5.0 {
        score >= max - 1.0
    } else {
        score >= max
    }
}

/// For tests: one conversation opened by one customer message and nothing else.
#[cfg(test)]
pub(crate) fn one_customer_message() -> FactNumbers {
    FactNumbers {
        anonymous: false,
        inbound: true,
        first_response_millis: None,
        first_response_business_millis: None,
        resolved: false,
        resolution_millis: None,
        resolution_business_millis: None,
        first_resolution_millis: None,
        reopens: 0,
        customer_messages: 1,
        agent_messages: 0,
        agent_turns: 0,
        one_touch: false,
        csat: None,
        nps: None,
        ces: None,
        waiting_since: None,
    }
}

/// The NPS groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NpsGroup {
    Promoter,
    Passive,
    Detractor,
}

/// The group of an NPS score: 9–10 promoter, 7–8 passive, below 7 detractor.
pub fn nps_group(score: f64) -> NpsGroup {
    if score >= 9.0 {
        NpsGroup::Promoter
    } else if score >= 7.0 {
        NpsGroup::Passive
    } else {
        NpsGroup::Detractor
    }
}

/// The conditions of one conversation that the figures count and the drill-downs list: the
/// one place where "answered", "within target" and "satisfied" are decided, so that a figure
/// and the conversations behind it always agree.
impl FactNumbers {
    /// The answer of a kind as lists and exports may show it beside the conversation: none
    /// when the conversation's answers were given anonymously (they count in the figures only).
    pub fn listed(&self, kind: SurveyKind) -> Option<SurveyAnswer> {
        if self.anonymous {
            return None;
        }
        match kind {
            SurveyKind::Csat => self.csat,
            SurveyKind::Nps => self.nps,
            SurveyKind::Ces => self.ces,
        }
    }

    /// Inbound and no agent message.
    pub fn unanswered(&self) -> bool {
        self.inbound && self.first_response_millis.is_none()
    }

    /// The first response, `(business, clock)` milliseconds, when there is one.
    pub fn first_response(&self) -> Option<(i64, i64)> {
        Some((
            self.first_response_business_millis?,
            self.first_response_millis?,
        ))
    }

    /// Whether the first response (business time) is within `target_millis`; `None` when
    /// there is no first response.
    pub fn within_target(&self, target_millis: i64) -> Option<bool> {
        self.first_response()
            .map(|(business, _)| business <= target_millis)
    }

    /// Whether the CSAT answer counts as satisfied; `None` without an answer.
    pub fn satisfied(&self) -> Option<bool> {
        self.csat
            .map(|a| csat_satisfied(a.score, a.scale.min, a.scale.max))
    }

    /// Where the NPS answer falls (promoter 9–10, passive 7–8, detractor below 7); `None`
    /// without an answer.
    pub fn nps_group(&self) -> Option<NpsGroup> {
        self.nps.map(|a| nps_group(a.score))
    }

    /// Where the CES answer falls against the middle of its scale (above: easy); `None`
    /// without an answer.
    pub fn effort(&self) -> Option<std::cmp::Ordering> {
        self.ces.map(|a| {
            let mid = (a.scale.min + a.scale.max) / 2.0;
            a.score.total_cmp(&mid)
        })
    }

    /// Whether it was reopened at least once.
    pub fn reopened(&self) -> bool {
        self.reopens > 0
    }
}

/// Everything the reports need to know about one conversation: who and when, and its numbers
/// (readable directly through `Deref`, e.g. `facts.reopens`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationFacts {
    pub conversation: String,
    pub channel: String,
    /// The conversation's agent (see docs/metrics.md); `None` when unassigned.
    pub agent: Option<String>,
    /// The conversation record's team (a helpdesk's group or inbox); `None` without one.
    pub team: Option<String>,
    pub tags: Vec<String>,
    pub created_at: i64,
    /// First public message, or `created_at` when there is none.
    pub start: i64,
    pub numbers: FactNumbers,
}

impl std::ops::Deref for ConversationFacts {
    type Target = FactNumbers;

    fn deref(&self) -> &FactNumbers {
        &self.numbers
    }
}

/// One conversation's facts that borrow their names from the records.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FactsParts<'a> {
    /// The conversation's agent.
    pub agent: Option<&'a str>,
    pub start: i64,
    pub numbers: FactNumbers,
}

/// The definitions of docs/metrics.md over normalized records (see
/// [`crate::model::normalize_messages`] and its siblings): `created_at` and `header_agent`
/// come from the conversation record, `calendar` is the business calendar of its channel, and
/// `agents` says which agent names are bots (their messages count as bot messages).
pub fn compute_parts<'a, M: MessageFields, E: EventFields, S: SurveyFields>(
    created_at: i64,
    header_agent: Option<&'a str>,
    messages: &'a [M],
    events: &'a [E],
    surveys: &[S],
    calendar: &BusinessCalendar,
    agents: &AgentRules,
) -> FactsParts<'a> {
    // The author as the definitions see it: an agent account listed as a bot is a bot.
    let bots_listed = !agents.bots.is_empty();
    let author = |m: &M| match m.author() {
        Author::Agent if bots_listed && agents.is_bot(m.agent()) => Author::Bot,
        a => a,
    };
    let public = || messages.iter().filter(|m| author(m).is_public());

    let first_public = public().next();
    let start = first_public.map_or(created_at, |m| m.at());
    let inbound = first_public.is_some_and(|m| author(m) == Author::Customer);

    let first_response_at = if inbound {
        public()
            .find(|m| author(m) == Author::Agent && m.at() >= start)
            .map(|m| m.at())
    } else {
        None
    };

    // Who waits: the customer, since the first of their messages after the last agent message.
    let mut waiting_since = None;
    for m in public() {
        match author(m) {
            Author::Customer => {
                waiting_since.get_or_insert(m.at());
            }
            Author::Agent => waiting_since = None,
            _ => {}
        }
    }

    // Back-and-forth over the public sequence.
    let mut customer_messages = 0;
    let mut agent_messages = 0;
    let mut agent_turns = 0;
    let mut previous_author = None;
    for m in public() {
        match author(m) {
            Author::Customer => customer_messages += 1,
            Author::Agent => {
                agent_messages += 1;
                if previous_author != Some(Author::Agent) {
                    agent_turns += 1;
                }
            }
            _ => {}
        }
        previous_author = Some(author(m));
    }

    // Status walk: messages and events in time order, messages first at equal times. Both
    // lists are sorted by time, so walking them side by side merges them.
    let mut resolved = false;
    let mut resolved_at = None;
    let mut first_resolved_at = None;
    let mut reopens = 0u32;
    let mut assigned_agent: Option<&'a str> = None;
    let mut last_agent_author: Option<&'a str> = None;
    let (mut i, mut j) = (0, 0);
    while i < messages.len() || j < events.len() {
        let take_message =
            j >= events.len() || (i < messages.len() && messages[i].at() <= events[j].at());
        if take_message {
            let m = &messages[i];
            i += 1;
            match author(m) {
                Author::Customer if resolved => {
                    resolved = false;
                    reopens += 1;
                }
                Author::Agent => {
                    if let Some(a) = m.agent() {
                        last_agent_author = Some(a);
                    }
                }
                _ => {}
            }
        } else {
            let e = &events[j];
            j += 1;
            match e.kind() {
                EventKind::Resolved if !resolved => {
                    resolved = true;
                    resolved_at = Some(e.at());
                    first_resolved_at.get_or_insert(e.at());
                }
                EventKind::Reopened if resolved => {
                    resolved = false;
                    reopens += 1;
                }
                EventKind::Assigned | EventKind::Transferred => {
                    if let Some(a) = e.agent() {
                        assigned_agent = Some(a);
                    }
                }
                _ => {}
            }
        }
    }

    let elapsed = |to: i64| (to - start).max(0);
    let business = |to: i64| calendar.open_millis_between(start, to);
    let resolution_at = if resolved { resolved_at } else { None };

    let latest_of = |kind: SurveyKind| {
        surveys
            .iter()
            .filter(|s| s.kind() == kind)
            .max_by_key(|s| s.at())
    };
    let latest = |kind: SurveyKind| {
        latest_of(kind).map(|s| SurveyAnswer {
            score: s.score().value(),
            scale: s.score().scale(),
        })
    };
    let latest_anonymous = [SurveyKind::Csat, SurveyKind::Nps, SurveyKind::Ces]
        .into_iter()
        .any(|kind| latest_of(kind).is_some_and(|s| s.anonymous()));

    FactsParts {
        agent: header_agent.or(assigned_agent).or(last_agent_author),
        start,
        numbers: FactNumbers {
            anonymous: latest_anonymous,
            inbound,
            first_response_millis: first_response_at.map(elapsed),
            first_response_business_millis: first_response_at.map(business),
            resolved,
            resolution_millis: resolution_at.map(elapsed),
            resolution_business_millis: resolution_at.map(business),
            first_resolution_millis: first_resolved_at.map(elapsed),
            reopens,
            customer_messages,
            agent_messages,
            agent_turns,
            one_touch: resolved && agent_turns == 1 && reopens == 0,
            csat: latest(SurveyKind::Csat),
            nps: latest(SurveyKind::Nps),
            waiting_since: if resolved { None } else { waiting_since },
            ces: latest(SurveyKind::Ces),
        },
    }
}

/// Computes the facts of a conversation that has a header (returns `None` without one).
/// `conversation` must be normalized; `calendars` are its workspace's.
pub fn compute_facts(
    conversation: &Conversation,
    calendars: &Calendars,
) -> Option<ConversationFacts> {
    let header = conversation.header.as_ref()?;
    let parts = compute_parts(
        header.created_at,
        header.agent.as_deref(),
        &conversation.messages,
        &conversation.events,
        &conversation.surveys,
        calendars.for_channel(header.channel.as_str()),
        &calendars.config().agents,
    );
    Some(ConversationFacts {
        conversation: conversation.id.clone(),
        channel: header.channel.as_str().to_string(),
        agent: parts.agent.map(str::to_string),
        team: header.team.clone(),
        tags: header.tags.clone(),
        created_at: header.created_at,
        start: parts.start,
        numbers: parts.numbers,
    })
}

/// The version of the fact rules and of [`crate::FactTable`]'s encoding. Stored facts computed
/// under another version are recomputed from the conversations, so bump it whenever a change
/// here or in the table's encoding changes what stored facts would say.
pub const FACTS_VERSION: i64 = 3;

/// Computes facts for many normalized conversations, one after the other (callers that want
/// several threads split the slice: the result of each part is aligned with that part). The
/// result is aligned with the input: `None` for conversations without a conversation record.
pub fn compute_all_facts(
    conversations: &[Conversation],
    calendars: &crate::config::Calendars,
) -> Vec<Option<ConversationFacts>> {
    conversations
        .iter()
        .map(|c| compute_facts(c, calendars))
        .collect()
}

/// One row of `facts` output (the stable facts contract): seconds instead of milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FactsRow<'a> {
    pub conversation: &'a str,
    pub channel: &'a str,
    pub agent: Option<&'a str>,
    pub team: Option<&'a str>,
    pub tags: &'a [String],
    pub start: String,
    pub inbound: bool,
    pub first_response_seconds: Option<f64>,
    pub first_response_business_seconds: Option<f64>,
    pub unanswered: bool,
    pub resolved: bool,
    pub resolution_seconds: Option<f64>,
    pub resolution_business_seconds: Option<f64>,
    pub first_resolution_seconds: Option<f64>,
    pub reopens: u32,
    pub customer_messages: u32,
    pub agent_messages: u32,
    pub agent_turns: u32,
    pub one_touch: bool,
    pub csat_score: Option<f64>,
    pub nps_score: Option<f64>,
    pub ces_score: Option<f64>,
}

impl<'a> FactsRow<'a> {
    /// The output row of a conversation's facts.
    pub fn new(f: &'a ConversationFacts) -> FactsRow<'a> {
        let s = |ms: Option<i64>| ms.map(|v| v as f64 / 1000.0);
        FactsRow {
            conversation: &f.conversation,
            channel: &f.channel,
            agent: f.agent.as_deref(),
            team: f.team.as_deref(),
            tags: &f.tags,
            start: crate::time::format_utc(f.start),
            inbound: f.inbound,
            first_response_seconds: s(f.first_response_millis),
            first_response_business_seconds: s(f.first_response_business_millis),
            unanswered: f.unanswered(),
            resolved: f.resolved,
            resolution_seconds: s(f.resolution_millis),
            resolution_business_seconds: s(f.resolution_business_millis),
            first_resolution_seconds: s(f.first_resolution_millis),
            reopens: f.reopens,
            customer_messages: f.customer_messages,
            agent_messages: f.agent_messages,
            agent_turns: f.agent_turns,
            one_touch: f.one_touch,
            csat_score: f.listed(SurveyKind::Csat).map(|a| a.score),
            nps_score: f.listed(SurveyKind::Nps).map(|a| a.score),
            ces_score: f.listed(SurveyKind::Ces).map(|a| a.score),
        }
    }
}
