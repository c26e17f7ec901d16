//! The canonical conversation model: conversations with their messages, events and surveys,
//! validated newtypes, and the merge rules that make imports idempotent.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A validation failure of one field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

/// A channel name: lowercase letters, digits, `_` or `-` (input is lowercased).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Channel(String);

impl Channel {
    /// Validates and lowercases a channel name.
    pub fn new(name: &str) -> Result<Channel, InvalidValue> {
        let lower = name.trim().to_lowercase();
        if lower.is_empty() || lower.len() > 64 {
            return Err(InvalidValue(format!(
                "channel '{name}' must be 1–64 characters"
            )));
        }
        if !lower
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(InvalidValue(format!(
                "channel '{name}' may hold only letters, digits, '_' and '-'"
            )));
        }
        Ok(Channel(lower))
    }

    /// The lowercase name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who wrote a message. Only `Customer` and `Agent` messages are public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Author {
    Customer,
    Agent,
    Bot,
    Note,
}

impl Author {
    /// Parses `customer`, `agent`, `bot` or `note`.
    pub fn parse(text: &str) -> Result<Author, InvalidValue> {
        match text {
            "customer" => Ok(Author::Customer),
            "agent" => Ok(Author::Agent),
            "bot" => Ok(Author::Bot),
            "note" => Ok(Author::Note),
            _ => Err(InvalidValue(format!(
                "'{text}' is not an author; use customer, agent, bot or note"
            ))),
        }
    }

    /// Whether messages by this author are public (count in the back-and-forth).
    pub fn is_public(self) -> bool {
        matches!(self, Author::Customer | Author::Agent)
    }

    /// The name used in the import format.
    pub fn as_str(self) -> &'static str {
        match self {
            Author::Customer => "customer",
            Author::Agent => "agent",
            Author::Bot => "bot",
            Author::Note => "note",
        }
    }
}

/// What happened to a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    // Declaration order is the order of events at the same instant.
    Assigned,
    Transferred,
    Reopened,
    Resolved,
}

impl EventKind {
    /// Parses `resolved`, `reopened`, `assigned` or `transferred`.
    pub fn parse(text: &str) -> Result<EventKind, InvalidValue> {
        match text {
            "resolved" => Ok(EventKind::Resolved),
            "reopened" => Ok(EventKind::Reopened),
            "assigned" => Ok(EventKind::Assigned),
            "transferred" => Ok(EventKind::Transferred),
            _ => Err(InvalidValue(format!(
                "'{text}' is not an event; use resolved, reopened, assigned or transferred"
            ))),
        }
    }

    /// The name used in the import format.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Resolved => "resolved",
            EventKind::Reopened => "reopened",
            EventKind::Assigned => "assigned",
            EventKind::Transferred => "transferred",
        }
    }
}

/// Which survey a response answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SurveyKind {
    Csat,
    Nps,
    Ces,
}

impl SurveyKind {
    /// Parses `csat`, `nps` or `ces`.
    pub fn parse(text: &str) -> Result<SurveyKind, InvalidValue> {
        match text {
            "csat" => Ok(SurveyKind::Csat),
            "nps" => Ok(SurveyKind::Nps),
            "ces" => Ok(SurveyKind::Ces),
            _ => Err(InvalidValue(format!(
                "'{text}' is not a survey kind; use csat, nps or ces"
            ))),
        }
    }

    /// The default scale: CSAT 1–5, NPS 0–10, CES 1–7.
    pub fn default_scale(self) -> Scale {
        match self {
            SurveyKind::Csat => Scale { min: 1.0, max: 5.0 },
            SurveyKind::Nps => Scale {
                min: 0.0,
                max: 10.0,
            },
            SurveyKind::Ces => Scale { min: 1.0, max: 7.0 },
        }
    }

    /// The name used in the import format.
    pub fn as_str(self) -> &'static str {
        match self {
            SurveyKind::Csat => "csat",
            SurveyKind::Nps => "nps",
            SurveyKind::Ces => "ces",
        }
    }
}

/// The range of a survey's answers, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scale {
    pub min: f64,
    pub max: f64,
}

impl Scale {
    /// Number of answer points on an integer scale (5 for 1–5).
    pub fn points(self) -> f64 {
        self.max - self.min + 1.0
    }
}

/// A survey answer on its scale; construction checks that the score lies on the scale.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    value: f64,
    scale: Scale,
}

impl Score {
    /// Validates a score for a survey kind (NPS must use the 0–10 scale).
    pub fn new(kind: SurveyKind, value: f64, scale: Scale) -> Result<Score, InvalidValue> {
        if !scale.min.is_finite() || !scale.max.is_finite() || scale.min >= scale.max {
            return Err(InvalidValue(format!(
                "scale [{}, {}] must have min < max",
                scale.min, scale.max
            )));
        }
        if kind == SurveyKind::Nps && (scale.min != 0.0 || scale.max != 10.0) {
            return Err(InvalidValue(format!(
                "NPS uses the scale [0, 10], not [{}, {}]",
                scale.min, scale.max
            )));
        }
        if !value.is_finite() || value < scale.min || value > scale.max {
            return Err(InvalidValue(format!(
                "score {value} is outside the scale [{}, {}]",
                scale.min, scale.max
            )));
        }
        Ok(Score { value, scale })
    }

    pub fn value(self) -> f64 {
        self.value
    }

    pub fn scale(self) -> Scale {
        self.scale
    }
}

/// The conversation-level fields of a `conversation` record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationHeader {
    pub channel: Channel,
    /// UTC milliseconds.
    pub created_at: i64,
    pub customer: Option<String>,
    pub agent: Option<String>,
    pub team: Option<String>,
    pub tags: Vec<String>,
    pub subject: Option<String>,
    /// The customer's e-mail address, where the source knows it (for surveys).
    pub customer_email: Option<String>,
    /// The customer's name as they would be addressed.
    pub customer_name: Option<String>,
    /// The customer's language as a language tag (`nl`, `en-GB`), lowercased.
    pub customer_language: Option<String>,
}

/// A message in a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: Option<String>,
    /// UTC milliseconds.
    pub at: i64,
    pub author: Author,
    /// The agent who wrote it (agent messages and notes).
    pub agent: Option<String>,
    pub text: Option<String>,
}

/// A status or assignment change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// UTC milliseconds.
    pub at: i64,
    pub kind: EventKind,
    pub agent: Option<String>,
}

/// The `source` of answers given on servicemeter's own survey page.
pub const SERVICEMETER_SOURCE: &str = "servicemeter";

/// The `source` of answers given anonymously on servicemeter's survey page: they count in every
/// figure, but nothing shows them beside their conversation or its customer (docs/surveys.md).
pub const ANONYMOUS_SOURCE: &str = "servicemeter-anonymous";

/// A survey response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Survey {
    /// UTC milliseconds.
    pub at: i64,
    pub kind: SurveyKind,
    pub score: Score,
    pub comment: Option<String>,
    /// Reasons the customer chose from the survey's list (after a low score).
    pub reasons: Vec<String>,
    /// Who asked: `servicemeter` for the answers of its own surveys, else the source's name
    /// or nothing.
    pub source: Option<String>,
}

/// Everything known about one conversation, possibly gathered from several records and imports.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    /// `None` while only messages, events or surveys have arrived.
    pub header: Option<ConversationHeader>,
    pub messages: Vec<Message>,
    pub events: Vec<Event>,
    pub surveys: Vec<Survey>,
    /// A deletion record said this conversation is gone (a ticket deleted in the helpdesk): an
    /// import removes it from the store and nothing of it is counted. Never stored.
    #[serde(skip)]
    pub deleted: bool,
}

/// What normalization and facts read of a message; implemented by [`Message`] and by borrowed
/// views of a parsed line, so that both go through the same rules.
pub trait MessageFields {
    fn id(&self) -> Option<&str>;
    fn at(&self) -> i64;
    fn author(&self) -> Author;
    fn agent(&self) -> Option<&str>;
    fn text(&self) -> Option<&str>;
}

/// What normalization and facts read of an event.
pub trait EventFields {
    fn at(&self) -> i64;
    fn kind(&self) -> EventKind;
    fn agent(&self) -> Option<&str>;
}

/// What normalization and facts read of a survey answer.
pub trait SurveyFields {
    fn at(&self) -> i64;
    fn kind(&self) -> SurveyKind;
    fn score(&self) -> Score;
    /// Given anonymously ([`ANONYMOUS_SOURCE`]).
    fn anonymous(&self) -> bool;
}

impl MessageFields for Message {
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn at(&self) -> i64 {
        self.at
    }
    fn author(&self) -> Author {
        self.author
    }
    fn agent(&self) -> Option<&str> {
        self.agent.as_deref()
    }
    fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }
}

impl EventFields for Event {
    fn at(&self) -> i64 {
        self.at
    }
    fn kind(&self) -> EventKind {
        self.kind
    }
    fn agent(&self) -> Option<&str> {
        self.agent.as_deref()
    }
}

impl SurveyFields for Survey {
    fn at(&self) -> i64 {
        self.at
    }
    fn kind(&self) -> SurveyKind {
        self.kind
    }
    fn score(&self) -> Score {
        self.score
    }
    fn anonymous(&self) -> bool {
        self.source.as_deref() == Some(ANONYMOUS_SOURCE)
    }
}

type MessageKey<'a> = (
    i64,
    Author,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

fn message_key<M: MessageFields>(m: &M) -> MessageKey<'_> {
    (m.at(), m.author(), m.id(), m.agent(), m.text())
}

/// Canonical order and identity of messages: a message with an `id` replaces an earlier one
/// with that id (the last added wins); identical messages without an id are one; all are sorted
/// by (time, author: customer, agent, bot, note; id; agent; text).
pub fn normalize_messages<M: MessageFields>(messages: &mut Vec<M>) {
    if messages.iter().any(|m| m.id().is_some()) {
        let (mut with_id, without_id): (Vec<_>, Vec<_>) = std::mem::take(messages)
            .into_iter()
            .enumerate()
            .partition(|(_, m)| m.id().is_some());
        with_id.sort_by(|(ia, a), (ib, b)| a.id().cmp(&b.id()).then(ib.cmp(ia)));
        with_id.dedup_by(|later, first| later.1.id() == first.1.id());
        *messages = with_id
            .into_iter()
            .chain(without_id)
            .map(|(_, m)| m)
            .collect();
    }
    messages.sort_by(|a, b| message_key(a).cmp(&message_key(b)));
    messages
        .dedup_by(|b, a| a.id().is_none() && b.id().is_none() && message_key(a) == message_key(b));
}

/// Canonical order and identity of events: sorted by (time, kind, agent); events of the same
/// kind at the same instant are one (a status change that came both from a webhook and from an
/// import), keeping the one that names an agent (the greatest name when several do, so that
/// the result does not depend on input order).
pub fn normalize_events<E: EventFields>(events: &mut Vec<E>) {
    events.sort_by(|a, b| (a.at(), a.kind(), a.agent()).cmp(&(b.at(), b.kind(), b.agent())));
    // In place (the fast reader reuses these buffers): of a run with the same key the last
    // one is moved into the kept slot.
    events.dedup_by(|later, kept| {
        let same = later.at() == kept.at() && later.kind() == kept.kind();
        if same {
            std::mem::swap(later, kept);
        }
        same
    });
}

/// Canonical order and identity of survey answers: one per kind and instant (the last added
/// wins), sorted by (kind, time).
pub fn normalize_surveys<S: SurveyFields>(surveys: &mut Vec<S>) {
    // A stable sort keeps the order added within a key; keep the last of each key.
    surveys.sort_by_key(|s| (s.kind(), s.at()));
    surveys.dedup_by(|later, kept| {
        let same = later.kind() == kept.kind() && later.at() == kept.at();
        if same {
            std::mem::swap(later, kept);
        }
        same
    });
}

impl Conversation {
    /// Removes message texts and survey comments from before `cutoff` (UTC ms) under a
    /// retention setting; true when something was removed. The figures stay.
    pub fn remove_texts_before(&mut self, cutoff: i64) -> bool {
        let mut removed = false;
        for message in self.messages.iter_mut().filter(|m| m.at < cutoff) {
            removed |= message.text.take().is_some();
        }
        for survey in self.surveys.iter_mut().filter(|s| s.at < cutoff) {
            removed |= survey.comment.take().is_some();
        }
        removed
    }

    /// Removes what identifies or speaks for the customer (right to erasure): the customer, their
    /// e-mail address and name, the subject, every message text and survey comment. What the figures are made of stays —
    /// instants, authors, agents, events, scores — so every figure counts the conversation as
    /// before, anonymously.
    pub fn erase_personal_data(&mut self) {
        if let Some(header) = &mut self.header {
            header.customer = None;
            header.subject = None;
            header.customer_email = None;
            header.customer_name = None;
        }
        for message in &mut self.messages {
            message.text = None;
        }
        for survey in &mut self.surveys {
            survey.comment = None;
        }
    }

    /// An empty conversation.
    pub fn new(id: impl Into<String>) -> Conversation {
        Conversation {
            id: id.into(),
            ..Conversation::default()
        }
    }

    /// Adds later records to this conversation. Records added later win: a header replaces
    /// the header, a message with the same `id` replaces that message, a survey of the same
    /// kind at the same instant replaces that survey. Call [`Conversation::normalize`] after.
    ///
    /// A deletion wins over every other record of the same import, in whatever order they come
    /// (a conversation can come back in a later import).
    pub fn absorb(&mut self, later: Conversation) {
        self.deleted |= later.deleted;
        if later.header.is_some() {
            self.header = later.header;
        }
        self.messages.extend(later.messages);
        self.events.extend(later.events);
        self.surveys.extend(later.surveys);
    }

    /// Removes duplicates (keeping the latest added) and sorts every list into its canonical
    /// order, so that the same records give the same conversation whatever order they came in.
    ///
    /// Identity: a message by its `id`, or by all its fields when it has none; an event by all
    /// its fields; a survey by kind and instant.
    pub fn normalize(&mut self) {
        if self.deleted {
            self.header = None;
            self.messages.clear();
            self.events.clear();
            self.surveys.clear();
            return;
        }
        normalize_messages(&mut self.messages);
        normalize_events(&mut self.events);
        normalize_surveys(&mut self.surveys);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: Option<&str>, at: i64, author: Author, text: &str) -> Message {
        Message {
            id: id.map(str::to_string),
            at,
            author,
            agent: None,
            text: Some(text.into()),
        }
    }

    #[test]
    fn channel_is_lowercased_and_validated() {
        assert_eq!(Channel::new(" Email ").unwrap().as_str(), "email");
        assert!(Channel::new("").is_err());
        assert!(Channel::new("e mail").is_err());
    }

    #[test]
    fn score_must_lie_on_its_scale() {
        let s = SurveyKind::Csat.default_scale();
        assert!(Score::new(SurveyKind::Csat, 5.0, s).is_ok());
        assert!(Score::new(SurveyKind::Csat, 6.0, s).is_err());
        assert!(Score::new(SurveyKind::Csat, 0.0, s).is_err());
        assert!(
            Score::new(
                SurveyKind::Nps,
                5.0,
                Scale {
                    min: 1.0,
                    max: 10.0
                }
            )
            .is_err()
        );
        assert!(Score::new(SurveyKind::Ces, 3.0, Scale { min: 5.0, max: 1.0 }).is_err());
    }

    #[test]
    fn later_message_with_same_id_wins_and_duplicates_go() {
        let mut c = Conversation::new("c1");
        c.messages
            .push(msg(Some("m1"), 10, Author::Customer, "old"));
        c.messages.push(msg(None, 20, Author::Agent, "hi"));
        let mut later = Conversation::new("c1");
        later
            .messages
            .push(msg(Some("m1"), 10, Author::Customer, "new"));
        later.messages.push(msg(None, 20, Author::Agent, "hi"));
        c.absorb(later);
        c.normalize();
        assert_eq!(c.messages.len(), 2);
        assert_eq!(c.messages[0].text.as_deref(), Some("new"));
    }

    #[test]
    fn normalize_is_order_independent() {
        let a = msg(None, 10, Author::Agent, "a");
        let b = msg(None, 10, Author::Customer, "b");
        let c = msg(Some("x"), 5, Author::Note, "c");
        let mut one = Conversation::new("c");
        one.messages = vec![a.clone(), b.clone(), c.clone()];
        let mut two = Conversation::new("c");
        two.messages = vec![c, b, a];
        one.normalize();
        two.normalize();
        assert_eq!(one, two);
        // At the same instant the customer message comes first.
        assert_eq!(one.messages[1].author, Author::Customer);
    }

    #[test]
    fn latest_added_survey_at_same_instant_wins() {
        let scale = SurveyKind::Csat.default_scale();
        let survey = |v| Survey {
            at: 100,
            kind: SurveyKind::Csat,
            score: Score::new(SurveyKind::Csat, v, scale).unwrap(),
            comment: None,
            reasons: Vec::new(),
            source: None,
        };
        let mut c = Conversation::new("c");
        c.surveys = vec![survey(2.0), survey(4.0)];
        c.normalize();
        assert_eq!(c.surveys.len(), 1);
        assert_eq!(c.surveys[0].score.value(), 4.0);
    }
}
