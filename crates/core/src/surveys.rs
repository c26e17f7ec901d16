//! Surveys servicemeter sends itself: their definitions (the `[surveys]` part of a workspace's
//! configuration) and the planning rule that decides, for a conversation and a kind, whether
//! and when its customer is asked. Pure: callers pass the conversations, what was asked
//! before, the suppression list and "now"; the store and the job worker act on the decisions.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::address::primary_language;
use crate::facts::FactNumbers;
use crate::model::{Scale, SurveyKind};
use crate::time::Duration;

/// A day in milliseconds.
pub const DAY_MILLIS: i64 = 86_400_000;

/// The most days a throttle or a relationship interval may span (ten years).
pub const MAX_SURVEY_DAYS: i64 = 3_650;

/// The longest delay after a resolution (30 days).
pub const MAX_DELAY_SECONDS: i64 = 30 * 86_400;

/// A survey whose moment passed more than this long ago is not sent any more: a history import,
/// or surveys switched on later, never asks about old conversations.
pub const LATE_AFTER_MILLIS: i64 = DAY_MILLIS;

/// Days after the first answer in which it can be changed, unless configured.
pub const DEFAULT_CHANGE_DAYS: i64 = 7;

/// The longest change window, in days.
pub const MAX_CHANGE_DAYS: i64 = 90;

/// Working days until an unhappy answer's follow-up is due, unless configured.
pub const DEFAULT_FOLLOW_UP_DAYS: i64 = 2;

/// The most working days a follow-up may be given.
pub const MAX_FOLLOW_UP_DAYS: i64 = 30;

/// Unhappy answers older than this when they arrive (a history import) open no follow-up.
pub const FOLLOW_UP_RECENT_MILLIS: i64 = 14 * DAY_MILLIS;

/// Reasons offered after a low score, at most.
pub const MAX_SURVEY_REASONS: usize = 12;

/// The longest question, comment question, reason label or brand name, in bytes.
pub const MAX_SURVEY_TEXT_BYTES: usize = 500;

/// How a kind's answers are given: the points of its scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleChoice {
    /// CSAT 1–5, shown as stars.
    Stars,
    /// CSAT 1–3, shown as faces.
    Faces,
    /// CSAT 1–10.
    Ten,
    /// NPS 0–10.
    Nps,
    /// CES 1–7.
    Ces,
}

impl ScaleChoice {
    pub fn scale(self) -> Scale {
        let (min, max) = match self {
            ScaleChoice::Stars => (1.0, 5.0),
            ScaleChoice::Faces => (1.0, 3.0),
            ScaleChoice::Ten => (1.0, 10.0),
            ScaleChoice::Nps => (0.0, 10.0),
            ScaleChoice::Ces => (1.0, 7.0),
        };
        Scale { min, max }
    }

    /// The whole scores a customer can choose, lowest first.
    pub fn points(self) -> impl Iterator<Item = u8> {
        let scale = self.scale();
        (scale.min as u8)..=(scale.max as u8)
    }

    /// The name in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            ScaleChoice::Stars => "stars",
            ScaleChoice::Faces => "faces",
            ScaleChoice::Ten => "ten",
            ScaleChoice::Nps => "nps",
            ScaleChoice::Ces => "ces",
        }
    }
}

/// Texts per language tag (`nl`, `en`, `de`…), as configured.
pub type Texts = BTreeMap<String, String>;

/// One reason a customer can give after a low score, in every language offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub labels: Texts,
}

/// One kind of survey as a workspace asks it.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveyDefinition {
    pub kind: SurveyKind,
    pub scale: ScaleChoice,
    /// The question per language; the built-in Dutch and English texts unless configured.
    pub question: Texts,
    /// The comment question per language; empty: no comment is asked.
    pub comment: Texts,
    /// Offered after a low score (see [`crate::facts::SurveyAnswer::unhappy`]).
    pub reasons: Vec<Reason>,
    /// After the resolution, before the invitation is sent.
    pub delay: Duration,
    /// A customer is asked this kind at most once in this many days.
    pub throttle_days: i64,
    /// NPS only: a relationship survey — a customer is asked at most once in this many days,
    /// whatever `throttle_days` says, about the shop rather than the conversation.
    pub every_days: Option<i64>,
    /// The share of the conversations that pass the other rules that is asked (0–100).
    pub sample_pct: f64,
    pub exclude_channels: BTreeSet<String>,
    pub exclude_tags: BTreeSet<String>,
    pub exclude_agents: BTreeSet<String>,
}

/// The `[surveys]` part of a workspace's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveySettings {
    /// The name the customer knows the shop by (sender name, page title).
    pub brand: Option<String>,
    pub logo_url: Option<String>,
    /// `#rrggbb`.
    pub color: Option<String>,
    /// The language for customers whose own language is unknown or not offered.
    pub language: String,
    /// Kinds switched on, in the order CSAT, NPS, CES.
    pub kinds: BTreeMap<SurveyKind, SurveyDefinition>,
    /// How many days after the first answer a customer may still change it.
    pub change_days: i64,
    /// Whether the survey page offers to answer anonymously (default yes).
    pub anonymous: bool,
    /// An unhappy answer's follow-up is due at the close of this many working days after the
    /// day it came in.
    pub follow_up_days: i64,
}

impl Default for SurveySettings {
    fn default() -> SurveySettings {
        SurveySettings::off()
    }
}

impl SurveySettings {
    /// Surveys off: no kind switched on, Dutch by default.
    pub fn off() -> SurveySettings {
        SurveySettings {
            brand: None,
            logo_url: None,
            color: None,
            language: "nl".into(),
            kinds: BTreeMap::new(),
            change_days: DEFAULT_CHANGE_DAYS,
            anonymous: true,
            follow_up_days: DEFAULT_FOLLOW_UP_DAYS,
        }
    }

    /// The language a customer is addressed in: theirs when the survey offers it (by full tag,
    /// then by its primary language), else the workspace's.
    pub fn language_for(&self, definition: &SurveyDefinition, customer: Option<&str>) -> String {
        if let Some(tag) = customer {
            if definition.question.contains_key(tag) {
                return tag.to_string();
            }
            let primary = primary_language(tag);
            if definition.question.contains_key(primary) {
                return primary.to_string();
            }
        }
        if definition.question.contains_key(&self.language) {
            return self.language.clone();
        }
        definition
            .question
            .keys()
            .next()
            .cloned()
            .unwrap_or_else(|| self.language.clone())
    }
}

/// The built-in question of a kind in Dutch and English.
pub fn default_question(kind: SurveyKind) -> Texts {
    let (nl, en) = match kind {
        SurveyKind::Csat => (
            "Hoe tevreden ben je over hoe we je geholpen hebben?",
            "How satisfied are you with how we helped you?",
        ),
        SurveyKind::Nps => (
            "Hoe waarschijnlijk is het dat je ons aanbeveelt aan een vriend of collega?",
            "How likely are you to recommend us to a friend or colleague?",
        ),
        SurveyKind::Ces => (
            "Hoe makkelijk was het om je vraag opgelost te krijgen?",
            "How easy was it to get your question solved?",
        ),
    };
    texts(nl, en)
}

/// The built-in comment question in Dutch and English.
pub fn default_comment() -> Texts {
    texts(
        "Wil je ons nog iets vertellen?",
        "Is there anything you would like to tell us?",
    )
}

fn texts(nl: &str, en: &str) -> Texts {
    BTreeMap::from([
        ("en".to_string(), en.to_string()),
        ("nl".to_string(), nl.to_string()),
    ])
}

/// The built-in scale of a kind.
pub fn default_scale(kind: SurveyKind) -> ScaleChoice {
    match kind {
        SurveyKind::Csat => ScaleChoice::Stars,
        SurveyKind::Nps => ScaleChoice::Nps,
        SurveyKind::Ces => ScaleChoice::Ces,
    }
}

/// The scales a kind can be asked on, by their configuration names.
pub fn scales_of(kind: SurveyKind) -> &'static [ScaleChoice] {
    match kind {
        SurveyKind::Csat => &[ScaleChoice::Stars, ScaleChoice::Faces, ScaleChoice::Ten],
        SurveyKind::Nps => &[ScaleChoice::Nps],
        SurveyKind::Ces => &[ScaleChoice::Ces],
    }
}

impl SurveyDefinition {
    /// A kind with every setting at its default: built-in texts, 1 h delay, 30-day throttle,
    /// everyone asked, nothing excluded.
    pub fn with_defaults(kind: SurveyKind) -> SurveyDefinition {
        SurveyDefinition {
            kind,
            scale: default_scale(kind),
            question: default_question(kind),
            comment: default_comment(),
            reasons: Vec::new(),
            delay: Duration { seconds: 3_600 },
            throttle_days: 30,
            every_days: None,
            sample_pct: 100.0,
            exclude_channels: BTreeSet::new(),
            exclude_tags: BTreeSet::new(),
            exclude_agents: BTreeSet::new(),
        }
    }

    /// How many days a customer is left alone after being asked this kind.
    pub fn quiet_days(&self) -> i64 {
        self.every_days.unwrap_or(self.throttle_days)
    }
}

/// What the planner needs of one conversation (from its facts and its header).
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub conversation: &'a str,
    pub channel: &'a str,
    /// The conversation's agent (after aliases).
    pub agent: Option<&'a str>,
    pub tags: &'a [String],
    /// Normalized (see [`crate::address::normalize_email`]).
    pub customer_email: Option<&'a str>,
    /// When the conversation was last resolved, if its final state is resolved.
    pub resolved_at: Option<i64>,
    /// Messages the customer wrote; none: an outbound-only conversation.
    pub customer_messages: u32,
    /// Kinds the conversation has an answer of already (a helpdesk's, or ours).
    pub answered: &'a [SurveyKind],
}

/// When a conversation was last resolved, if its final state is resolved (from its facts).
pub fn resolved_at(start: i64, numbers: &FactNumbers) -> Option<i64> {
    if numbers.resolved {
        numbers.resolution_millis.map(|m| start + m)
    } else {
        None
    }
}

/// Why a conversation's customer is not asked a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Skip {
    /// Not resolved (yet, or any more: a reopen cancels a planned invitation).
    NotResolved,
    /// The customer never wrote: an outbound-only conversation.
    Outbound,
    /// No e-mail address for the customer.
    NoEmail,
    /// The conversation has an answer of this kind already.
    Answered,
    ExcludedChannel,
    ExcludedTag,
    ExcludedAgent,
    /// The customer unsubscribed.
    Unsubscribed,
    /// The customer was asked this kind within the quiet days.
    Throttled,
    /// Not drawn in the sample.
    NotSampled,
    /// The moment to ask passed more than [`LATE_AFTER_MILLIS`] ago.
    TooLate,
}

impl Skip {
    /// A stable name (stored with a skipped invitation and shown in lists).
    pub fn as_str(self) -> &'static str {
        match self {
            Skip::NotResolved => "not-resolved",
            Skip::Outbound => "outbound",
            Skip::NoEmail => "no-email",
            Skip::Answered => "answered",
            Skip::ExcludedChannel => "excluded-channel",
            Skip::ExcludedTag => "excluded-tag",
            Skip::ExcludedAgent => "excluded-agent",
            Skip::Unsubscribed => "unsubscribed",
            Skip::Throttled => "throttled",
            Skip::NotSampled => "not-sampled",
            Skip::TooLate => "too-late",
        }
    }
}

/// The decision for one conversation and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send at `due_at` (UTC milliseconds).
    Ask {
        due_at: i64,
    },
    Skip(Skip),
}

/// One decision of [`plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned<'a> {
    pub conversation: &'a str,
    pub kind: SurveyKind,
    pub decision: Decision,
}

/// Whether a conversation is in the sample of a kind: a fixed hash of the kind and the
/// conversation id, so that the same conversation is always in or out (reproducible, and a
/// re-plan after a reopen draws the same), spread evenly over 0–100.
pub fn sampled(kind: SurveyKind, conversation: &str, sample_pct: f64) -> bool {
    if sample_pct >= 100.0 {
        return true;
    }
    if sample_pct <= 0.0 {
        return false;
    }
    sample_point(kind, conversation) < sample_pct
}

/// Where a conversation falls in 0–100 for the sample of a kind (FNV-1a 64 of
/// `kind:conversation`, then SplitMix64's finalizer).
pub fn sample_point(kind: SurveyKind, conversation: &str) -> f64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in kind
        .as_str()
        .bytes()
        .chain(std::iter::once(b':'))
        .chain(conversation.bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash ^= hash >> 30;
    hash = hash.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash ^= hash >> 27;
    hash = hash.wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^= hash >> 31;
    (hash >> 11) as f64 / (1u64 << 53) as f64 * 100.0
}

/// One earlier invitation of a customer: when it was due, for which conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    pub at: i64,
    pub conversation: String,
}

/// The customers' earlier invitations (planned, being sent or sent) per address and kind. Those
/// of the conversations being planned are decided again and do not count (a conversation's own
/// plan never throttles it; a reopened one's no longer throttles its customer's others).
pub type LastAsked = HashMap<(String, SurveyKind), Vec<Asked>>;

/// What the planner reads of a stored conversation: owned, made from its body and facts.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveySubject {
    pub conversation: String,
    pub channel: String,
    /// The conversation's agent as shown (after aliases).
    pub agent: Option<String>,
    pub tags: Vec<String>,
    pub customer_email: Option<String>,
    pub customer_language: Option<String>,
    pub resolved_at: Option<i64>,
    pub customer_messages: u32,
    pub answered: Vec<SurveyKind>,
}

impl SurveySubject {
    /// The subject of a conversation with a conversation record (`None` without one).
    pub fn of(
        conversation: &crate::model::Conversation,
        calendars: &crate::config::Calendars,
    ) -> Option<SurveySubject> {
        let header = conversation.header.as_ref()?;
        let facts = crate::facts::compute_facts(conversation, calendars)?;
        let answered = [
            (SurveyKind::Csat, facts.csat.is_some()),
            (SurveyKind::Nps, facts.nps.is_some()),
            (SurveyKind::Ces, facts.ces.is_some()),
        ]
        .into_iter()
        .filter_map(|(kind, has)| has.then_some(kind))
        .collect();
        let rules = &calendars.config().agents;
        Some(SurveySubject {
            conversation: conversation.id.clone(),
            channel: facts.channel.clone(),
            agent: facts
                .agent
                .as_deref()
                .map(|a| rules.display_name(a).to_string()),
            tags: header.tags.clone(),
            customer_email: header.customer_email.clone(),
            customer_language: header.customer_language.clone(),
            resolved_at: resolved_at(facts.start, &facts.numbers),
            customer_messages: facts.customer_messages,
            answered,
        })
    }

    /// The planner's view of it.
    pub fn candidate(&self) -> Candidate<'_> {
        Candidate {
            conversation: &self.conversation,
            channel: &self.channel,
            agent: self.agent.as_deref(),
            tags: &self.tags,
            customer_email: self.customer_email.as_deref(),
            resolved_at: self.resolved_at,
            customer_messages: self.customer_messages,
            answered: &self.answered,
        }
    }
}

/// Decides, for every candidate and every kind switched on, whether and when its customer is
/// asked. Rules in order (the first that applies names the skip): resolved, the customer wrote,
/// an e-mail address, no answer of the kind yet, channel, tag and agent exclusions, not
/// unsubscribed, the quiet days since the customer was last asked the kind (measured between
/// due times), the sample, and not later than [`LATE_AFTER_MILLIS`] after the due time.
///
/// Candidates are taken in order of due time (then id), and an invitation decided here counts
/// as asked for the ones after it (earlier invitations of the candidates themselves do not): two conversations of one customer resolved the same day
/// give one invitation. `last_asked` holds the customers' earlier invitations; `suppressed`
/// the unsubscribed addresses.
pub fn plan<'a>(
    settings: &SurveySettings,
    candidates: &[Candidate<'a>],
    last_asked: &LastAsked,
    suppressed: &BTreeSet<String>,
    now: i64,
) -> Vec<Planned<'a>> {
    let mut order: Vec<&Candidate<'a>> = candidates.iter().collect();
    order.sort_by(|a, b| {
        (a.resolved_at.unwrap_or(i64::MAX), a.conversation)
            .cmp(&(b.resolved_at.unwrap_or(i64::MAX), b.conversation))
    });
    // The candidates' own earlier invitations are decided again here: only the others count.
    let deciding: std::collections::HashSet<&str> =
        candidates.iter().map(|c| c.conversation).collect();
    let mut asked_now: HashMap<(&str, SurveyKind), i64> = HashMap::new();
    let mut out = Vec::with_capacity(candidates.len() * settings.kinds.len());
    for candidate in order {
        for (kind, definition) in &settings.kinds {
            let decision = decide(
                candidate,
                definition,
                (last_asked, &deciding),
                &asked_now,
                suppressed,
                now,
            );
            if let (Decision::Ask { due_at }, Some(email)) = (decision, candidate.customer_email) {
                asked_now.insert((email, *kind), due_at);
            }
            out.push(Planned {
                conversation: candidate.conversation,
                kind: *kind,
                decision,
            });
        }
    }
    out
}

fn decide(
    candidate: &Candidate,
    definition: &SurveyDefinition,
    (last_asked, deciding): (&LastAsked, &std::collections::HashSet<&str>),
    asked_now: &HashMap<(&str, SurveyKind), i64>,
    suppressed: &BTreeSet<String>,
    now: i64,
) -> Decision {
    let kind = definition.kind;
    let Some(resolved_at) = candidate.resolved_at else {
        return Decision::Skip(Skip::NotResolved);
    };
    if candidate.customer_messages == 0 {
        return Decision::Skip(Skip::Outbound);
    }
    let Some(email) = candidate.customer_email else {
        return Decision::Skip(Skip::NoEmail);
    };
    if candidate.answered.contains(&kind) {
        return Decision::Skip(Skip::Answered);
    }
    if definition.exclude_channels.contains(candidate.channel) {
        return Decision::Skip(Skip::ExcludedChannel);
    }
    if candidate
        .tags
        .iter()
        .any(|t| definition.exclude_tags.contains(t))
    {
        return Decision::Skip(Skip::ExcludedTag);
    }
    if candidate
        .agent
        .is_some_and(|a| definition.exclude_agents.contains(a))
    {
        return Decision::Skip(Skip::ExcludedAgent);
    }
    if suppressed.contains(email) {
        return Decision::Skip(Skip::Unsubscribed);
    }
    let due_at = resolved_at + definition.delay.seconds * 1000;
    let quiet = definition.quiet_days() * DAY_MILLIS;
    let before = last_asked
        .get(&(email.to_string(), kind))
        .into_iter()
        .flatten()
        .filter(|asked| !deciding.contains(asked.conversation.as_str()))
        .map(|asked| asked.at)
        .chain(asked_now.get(&(email, kind)).copied());
    if before
        .into_iter()
        .any(|at| at <= due_at && due_at - at < quiet)
    {
        return Decision::Skip(Skip::Throttled);
    }
    if !sampled(kind, candidate.conversation, definition.sample_pct) {
        return Decision::Skip(Skip::NotSampled);
    }
    if now - due_at > LATE_AFTER_MILLIS {
        return Decision::Skip(Skip::TooLate);
    }
    Decision::Ask { due_at }
}

/// The unhappy answers that open a follow-up, of the answers that just `arrived` (kind, time)
/// for `conversation` (already merged with them): recent (not a history import), still the
/// latest answer of their kind, unhappy (see [`crate::facts::SurveyAnswer::unhappy`]), and not
/// anonymous.
pub fn answers_to_follow_up(
    conversation: &crate::model::Conversation,
    arrived: &[(SurveyKind, i64)],
    now: i64,
) -> Vec<(SurveyKind, i64)> {
    let mut out: Vec<(SurveyKind, i64)> = Vec::new();
    for &(kind, at) in arrived {
        if at < now - FOLLOW_UP_RECENT_MILLIS || out.iter().any(|(k, _)| *k == kind) {
            continue;
        }
        let Some(latest) = conversation
            .surveys
            .iter()
            .filter(|s| s.kind == kind)
            .max_by_key(|s| s.at)
        else {
            continue;
        };
        let answer = crate::facts::SurveyAnswer {
            score: latest.score.value(),
            scale: latest.score.scale(),
        };
        // An anonymous answer has nobody to follow up with.
        let anonymous = crate::model::SurveyFields::anonymous(latest);
        if latest.at >= now - FOLLOW_UP_RECENT_MILLIS && answer.unhappy(kind) && !anonymous {
            out.push((kind, latest.at));
        }
    }
    out
}

/// When the follow-up of an answer given at `at` on `channel` is due: the close of the
/// `[surveys] follow_up_days`-th working day after that day in the channel's opening hours
/// (as many calendar days later when the desk never opens).
pub fn follow_up_due(calendars: &crate::config::Calendars, channel: &str, at: i64) -> i64 {
    let days = calendars.config().surveys.follow_up_days;
    calendars
        .for_channel(channel)
        .working_days_later(at, days)
        .unwrap_or(at + days * DAY_MILLIS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;
    const NOW: i64 = 1_000 * DAY_MILLIS;

    fn settings(kinds: &[SurveyKind]) -> SurveySettings {
        let mut s = SurveySettings::off();
        for kind in kinds {
            s.kinds
                .insert(*kind, SurveyDefinition::with_defaults(*kind));
        }
        s
    }

    fn candidate<'a>(
        id: &'a str,
        email: Option<&'a str>,
        resolved_at: Option<i64>,
    ) -> Candidate<'a> {
        Candidate {
            conversation: id,
            channel: "email",
            agent: Some("Anna"),
            tags: &[],
            customer_email: email,
            resolved_at,
            customer_messages: 1,
            answered: &[],
        }
    }

    /// One kind (CSAT) over the candidates: each conversation's decision.
    fn check(
        s: &SurveySettings,
        candidates: &[Candidate],
        last_asked: &LastAsked,
        expect: &[(&str, Decision)],
    ) {
        let suppressed = BTreeSet::from(["weg@example.nl".to_string()]);
        let got: Vec<(&str, Decision)> = plan(s, candidates, last_asked, &suppressed, NOW)
            .into_iter()
            .map(|p| (p.conversation, p.decision))
            .collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn the_rules_in_order() {
        let s = settings(&[SurveyKind::Csat]);
        let mut outbound = candidate("out", Some("a@example.nl"), Some(NOW - 2 * HOUR));
        outbound.customer_messages = 0;
        let tags = ["spam".to_string()];
        let mut excluded = s.clone();
        let csat = excluded.kinds.get_mut(&SurveyKind::Csat).unwrap();
        csat.exclude_channels.insert("phone".into());
        csat.exclude_tags.insert("spam".into());
        csat.exclude_agents.insert("Bot".into());
        let mut phone = candidate("phone", Some("b@example.nl"), Some(NOW - 2 * HOUR));
        phone.channel = "phone";
        let mut spam = candidate("spam", Some("c@example.nl"), Some(NOW - 2 * HOUR));
        spam.tags = &tags;
        let mut bot = candidate("bot", Some("d@example.nl"), Some(NOW - 2 * HOUR));
        bot.agent = Some("Bot");
        let mut answered = candidate("answered", Some("e@example.nl"), Some(NOW - 2 * HOUR));
        answered.answered = &[SurveyKind::Csat];
        // Resolved 2 h ago with the 1 h delay: due 1 h ago.
        check(
            &excluded,
            &[
                candidate("open", Some("f@example.nl"), None),
                outbound,
                candidate("nomail", None, Some(NOW - 2 * HOUR)),
                answered,
                phone,
                spam,
                bot,
                candidate("gone", Some("weg@example.nl"), Some(NOW - 2 * HOUR)),
                candidate("ok", Some("g@example.nl"), Some(NOW - 2 * HOUR)),
            ],
            &LastAsked::new(),
            &[
                ("answered", Decision::Skip(Skip::Answered)),
                ("bot", Decision::Skip(Skip::ExcludedAgent)),
                ("gone", Decision::Skip(Skip::Unsubscribed)),
                ("nomail", Decision::Skip(Skip::NoEmail)),
                ("ok", Decision::Ask { due_at: NOW - HOUR }),
                ("out", Decision::Skip(Skip::Outbound)),
                ("phone", Decision::Skip(Skip::ExcludedChannel)),
                ("spam", Decision::Skip(Skip::ExcludedTag)),
                ("open", Decision::Skip(Skip::NotResolved)),
            ],
        );
    }

    #[test]
    fn the_delay_sets_the_due_time_and_late_ones_are_not_asked() {
        let mut s = settings(&[SurveyKind::Csat]);
        s.kinds.get_mut(&SurveyKind::Csat).unwrap().delay = Duration { seconds: 1_800 };
        check(
            &s,
            &[
                // Resolved 10 minutes ago: due in 20 minutes (planned, not sent yet).
                candidate("fresh", Some("a@example.nl"), Some(NOW - 600_000)),
                // Due exactly one day ago: still asked; a millisecond more is too late.
                candidate(
                    "day",
                    Some("b@example.nl"),
                    Some(NOW - DAY_MILLIS - 1_800_000),
                ),
                candidate(
                    "old",
                    Some("c@example.nl"),
                    Some(NOW - DAY_MILLIS - 1_800_001),
                ),
            ],
            &LastAsked::new(),
            &[
                ("old", Decision::Skip(Skip::TooLate)),
                (
                    "day",
                    Decision::Ask {
                        due_at: NOW - DAY_MILLIS,
                    },
                ),
                (
                    "fresh",
                    Decision::Ask {
                        due_at: NOW + 1_200_000,
                    },
                ),
            ],
        );
    }

    #[test]
    fn a_customer_is_asked_once_within_the_throttle() {
        let s = settings(&[SurveyKind::Csat]);
        let mut last = LastAsked::new();
        let asked = |at: i64, conversation: &str| Asked {
            at,
            conversation: conversation.into(),
        };
        // Asked 29 days and 23 hours before the first due time below: still quiet.
        last.insert(
            ("a@example.nl".into(), SurveyKind::Csat),
            vec![asked(NOW - 3 * HOUR - 30 * DAY_MILLIS + HOUR, "a0")],
        );
        // Asked exactly 30 days before: may be asked again.
        last.insert(
            ("b@example.nl".into(), SurveyKind::Csat),
            vec![asked(NOW - 3 * HOUR - 30 * DAY_MILLIS, "b0")],
        );
        // d1's own earlier plan (before a reopen) does not throttle d1.
        last.insert(
            ("d@example.nl".into(), SurveyKind::Csat),
            vec![asked(NOW - 5 * HOUR, "d1")],
        );
        // e1 was planned, then reopened: decided again here, its plan no longer holds e2 back.
        last.insert(
            ("e@example.nl".into(), SurveyKind::Csat),
            vec![asked(NOW - 5 * HOUR, "e1")],
        );
        check(
            &s,
            &[
                candidate("a1", Some("a@example.nl"), Some(NOW - 4 * HOUR)),
                candidate("b1", Some("b@example.nl"), Some(NOW - 4 * HOUR)),
                // Two conversations of c the same day: the first resolved is asked.
                candidate("c2", Some("c@example.nl"), Some(NOW - 2 * HOUR)),
                candidate("c1", Some("c@example.nl"), Some(NOW - 4 * HOUR)),
                candidate("d1", Some("d@example.nl"), Some(NOW - 2 * HOUR)),
                candidate("e1", Some("e@example.nl"), None),
                candidate("e2", Some("e@example.nl"), Some(NOW - 2 * HOUR)),
            ],
            &last,
            &[
                ("a1", Decision::Skip(Skip::Throttled)),
                (
                    "b1",
                    Decision::Ask {
                        due_at: NOW - 3 * HOUR,
                    },
                ),
                (
                    "c1",
                    Decision::Ask {
                        due_at: NOW - 3 * HOUR,
                    },
                ),
                ("c2", Decision::Skip(Skip::Throttled)),
                ("d1", Decision::Ask { due_at: NOW - HOUR }),
                ("e2", Decision::Ask { due_at: NOW - HOUR }),
                ("e1", Decision::Skip(Skip::NotResolved)),
            ],
        );
        // Relationship NPS: every 90 days instead of the 30-day throttle.
        let mut s = settings(&[SurveyKind::Nps]);
        s.kinds.get_mut(&SurveyKind::Nps).unwrap().every_days = Some(90);
        let mut last = LastAsked::new();
        last.insert(
            ("a@example.nl".into(), SurveyKind::Nps),
            vec![Asked {
                at: NOW - 60 * DAY_MILLIS,
                conversation: "a0".into(),
            }],
        );
        check(
            &s,
            &[candidate("a1", Some("a@example.nl"), Some(NOW - 2 * HOUR))],
            &last,
            &[("a1", Decision::Skip(Skip::Throttled))],
        );
    }

    #[test]
    fn sampling_is_reproducible_and_close_to_its_share() {
        // Fixed points: the hash is part of the rule (a re-plan draws the same).
        assert!(
            (sample_point(SurveyKind::Csat, "c1") - sample_point(SurveyKind::Csat, "c1")).abs()
                < f64::EPSILON
        );
        assert_ne!(
            sample_point(SurveyKind::Csat, "c1"),
            sample_point(SurveyKind::Nps, "c1")
        );
        let ids: Vec<String> = (0..10_000).map(|i| format!("conv-{i}")).collect();
        let drawn = ids
            .iter()
            .filter(|id| sampled(SurveyKind::Csat, id, 25.0))
            .count();
        // 25 % of 10 000 with a binomial spread of ±43 (1 sd): within 3 sd.
        assert!((2_370..=2_630).contains(&drawn), "{drawn}");
        assert!(ids.iter().all(|id| sampled(SurveyKind::Csat, id, 100.0)));
        assert!(!ids.iter().any(|id| sampled(SurveyKind::Csat, id, 0.0)));
        // Planning with a sample asks exactly the drawn ones.
        let mut s = settings(&[SurveyKind::Csat]);
        s.kinds.get_mut(&SurveyKind::Csat).unwrap().sample_pct = 25.0;
        let emails: Vec<String> = (0..200).map(|i| format!("k{i}@example.nl")).collect();
        let candidates: Vec<Candidate> = ids[..200]
            .iter()
            .zip(&emails)
            .map(|(id, e)| candidate(id, Some(e), Some(NOW - 2 * HOUR)))
            .collect();
        let planned = plan(&s, &candidates, &LastAsked::new(), &BTreeSet::new(), NOW);
        for p in planned {
            let expect = if sampled(SurveyKind::Csat, p.conversation, 25.0) {
                Decision::Ask { due_at: NOW - HOUR }
            } else {
                Decision::Skip(Skip::NotSampled)
            };
            assert_eq!(p.decision, expect, "{}", p.conversation);
        }
    }

    #[test]
    fn a_subject_is_read_from_a_conversation() {
        use crate::config::{Calendars, WorkspaceConfig};
        use crate::model::{
            Author, Channel, Conversation, ConversationHeader, Event, EventKind, Message, Score,
            Survey,
        };
        let config =
            WorkspaceConfig::from_toml("[agents]\naliases = { \"anna.b\" = \"Anna\" }").unwrap();
        let calendars = Calendars::new(config);
        let mut c = Conversation::new("c1");
        c.header = Some(ConversationHeader {
            channel: Channel::new("email").unwrap(),
            created_at: 1_000_000,
            customer: Some("k1".into()),
            agent: Some("anna.b".into()),
            team: None,
            tags: vec!["retour".into()],
            subject: None,
            customer_email: Some("jan@example.nl".into()),
            customer_name: Some("Jan".into()),
            customer_language: Some("en-gb".into()),
        });
        let message = |at, author| Message {
            id: None,
            at,
            author,
            agent: None,
            text: None,
        };
        c.messages = vec![
            message(1_000_000, Author::Customer),
            message(1_600_000, Author::Agent),
        ];
        c.events = vec![Event {
            at: 2_000_000,
            kind: EventKind::Resolved,
            agent: None,
        }];
        let kind = SurveyKind::Nps;
        c.surveys = vec![Survey {
            at: 2_500_000,
            kind,
            score: Score::new(kind, 9.0, kind.default_scale()).unwrap(),
            comment: None,
            reasons: Vec::new(),
            source: None,
        }];
        let subject = SurveySubject::of(&c, &calendars).unwrap();
        assert_eq!(subject.agent.as_deref(), Some("Anna"));
        assert_eq!(subject.resolved_at, Some(2_000_000));
        assert_eq!(subject.customer_messages, 1);
        assert_eq!(subject.answered, [SurveyKind::Nps]);
        assert_eq!(subject.customer_language.as_deref(), Some("en-gb"));
        let candidate = subject.candidate();
        assert_eq!(candidate.customer_email, Some("jan@example.nl"));
        // Reopened after the resolution: not resolved any more.
        c.events.push(Event {
            at: 3_000_000,
            kind: EventKind::Reopened,
            agent: None,
        });
        assert_eq!(SurveySubject::of(&c, &calendars).unwrap().resolved_at, None);
    }

    #[test]
    fn the_customers_language_when_offered() {
        let s = settings(&[SurveyKind::Csat]);
        let csat = &s.kinds[&SurveyKind::Csat];
        assert_eq!(s.language_for(csat, Some("en-gb")), "en");
        assert_eq!(s.language_for(csat, Some("nl")), "nl");
        assert_eq!(s.language_for(csat, Some("de")), "nl");
        assert_eq!(s.language_for(csat, None), "nl");
        let mut with_german = csat.clone();
        with_german
            .question
            .insert("de".into(), "Wie zufrieden…".into());
        assert_eq!(s.language_for(&with_german, Some("de-at")), "de");
    }

    #[test]
    fn scales_and_unhappy_answers() {
        use crate::facts::SurveyAnswer;
        assert_eq!(ScaleChoice::Faces.points().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(ScaleChoice::Nps.points().count(), 11);
        let unhappy = |kind, choice: ScaleChoice, score| {
            SurveyAnswer {
                score,
                scale: choice.scale(),
            }
            .unhappy(kind)
        };
        // CSAT 1–5: 4 and 5 satisfied; 1–3 faces: only 3.
        assert!(unhappy(SurveyKind::Csat, ScaleChoice::Stars, 3.0));
        assert!(!unhappy(SurveyKind::Csat, ScaleChoice::Stars, 4.0));
        assert!(unhappy(SurveyKind::Csat, ScaleChoice::Faces, 2.0));
        assert!(!unhappy(SurveyKind::Csat, ScaleChoice::Faces, 3.0));
        // NPS: detractors 0–6.
        assert!(unhappy(SurveyKind::Nps, ScaleChoice::Nps, 6.0));
        assert!(!unhappy(SurveyKind::Nps, ScaleChoice::Nps, 7.0));
        // CES 1–7: below 4 is hard.
        assert!(unhappy(SurveyKind::Ces, ScaleChoice::Ces, 3.0));
        assert!(!unhappy(SurveyKind::Ces, ScaleChoice::Ces, 4.0));
    }
}
