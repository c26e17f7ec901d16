//! One canonical JSON Lines record → a partial [`Conversation`], with errors naming the field.

use std::borrow::Cow;

use serde::Deserialize;
use servicemeter_core::model::{
    Author, Channel, Conversation, ConversationHeader, Event, EventKind, Message, Scale, Score,
    Survey, SurveyKind,
};
use servicemeter_core::time::parse_timestamp;
use servicemeter_core::{address, limits};

/// What is wrong with a record: the field (a path such as `messages[2].at`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {reason}")]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

fn field_error(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        reason: reason.into(),
    }
}

#[derive(Deserialize, Default)]
struct Raw<'a> {
    #[serde(rename = "type", borrow, default)]
    record_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    conversation: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    channel: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    created_at: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    customer: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    agent: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    team: Option<Cow<'a, str>>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(borrow, default)]
    subject: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    customer_email: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    customer_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    customer_language: Option<Cow<'a, str>>,
    #[serde(default)]
    reasons: Option<Vec<String>>,
    #[serde(borrow, default)]
    source: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    messages: Option<Vec<Raw<'a>>>,
    #[serde(borrow, default)]
    events: Option<Vec<Raw<'a>>>,
    #[serde(borrow, default)]
    surveys: Option<Vec<Raw<'a>>>,
    #[serde(borrow, default)]
    at: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    author: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    event: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    score: Option<f64>,
    #[serde(default)]
    scale: Option<(f64, f64)>,
    #[serde(borrow, default)]
    comment: Option<Cow<'a, str>>,
}

/// Which fields hold which JSON types, to explain a type mismatch by field name.
const STRING_FIELDS: [&str; 19] = [
    "type",
    "id",
    "conversation",
    "channel",
    "created_at",
    "customer",
    "agent",
    "team",
    "subject",
    "at",
    "author",
    "text",
    "event",
    "kind",
    "comment",
    "customer_email",
    "customer_name",
    "customer_language",
    "source",
];

fn explain(value: &serde_json::Value, path: &str) -> Option<FieldError> {
    let object = value.as_object()?;
    let name = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    for (key, v) in object {
        let wrong = |expected: &str| {
            Some(field_error(
                name(key),
                format!("must be {expected}, found {}", json_type(v)),
            ))
        };
        if v.is_null() {
            continue;
        }
        match key.as_str() {
            k if STRING_FIELDS.contains(&k) && !v.is_string() => return wrong("a string"),
            "score" if !v.is_number() => return wrong("a number"),
            "tags" | "reasons" => match v.as_array() {
                Some(items) if items.iter().all(|t| t.is_string()) => {}
                _ => return wrong("an array of strings"),
            },
            "scale" => match v.as_array() {
                Some(items) if items.len() == 2 && items.iter().all(|t| t.is_number()) => {}
                _ => return wrong("an array of two numbers [min, max]"),
            },
            "messages" | "events" | "surveys" => match v.as_array() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if !item.is_object() {
                            return Some(field_error(
                                format!("{}[{i}]", name(key)),
                                format!("must be an object, found {}", json_type(item)),
                            ));
                        }
                        if let Some(e) = explain(item, &format!("{}[{i}]", name(key))) {
                            return Some(e);
                        }
                    }
                }
                None => return wrong("an array of objects"),
            },
            _ => {}
        }
    }
    None
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn deserialize_error(line: &str, error: serde_json::Error) -> FieldError {
    match serde_json::from_str::<serde_json::Value>(line) {
        Err(syntax) => field_error("(json)", format!("not valid JSON: {syntax}")),
        Ok(value) if !value.is_object() => field_error(
            "(json)",
            format!(
                "each line must be a JSON object, found {}",
                json_type(&value)
            ),
        ),
        Ok(value) => explain(&value, "")
            .unwrap_or_else(|| field_error("(json)", format!("cannot read record: {error}"))),
    }
}

/// Parses one JSON object line into a partial conversation (one record's worth).
pub fn parse_record(line: &str) -> Result<Conversation, FieldError> {
    let raw: Raw = serde_json::from_str(line).map_err(|e| deserialize_error(line, e))?;
    let record_type = raw.record_type.as_deref().ok_or_else(|| {
        field_error(
            "type",
            "missing; use conversation, message, event, survey or deletion",
        )
    })?;
    match record_type {
        "conversation" => conversation_record(&raw),
        "deletion" => {
            let id = required_id(&raw.conversation, "conversation")?;
            let mut conversation = Conversation::new(id);
            conversation.deleted = true;
            Ok(conversation)
        }
        "message" | "event" | "survey" => {
            let id = required_id(&raw.conversation, "conversation")?;
            let mut conversation = Conversation::new(id);
            match record_type {
                "message" => conversation.messages.push(message(&raw)?),
                "event" => conversation.events.push(event(&raw)?),
                _ => conversation.surveys.push(survey(&raw)?),
            }
            Ok(conversation)
        }
        other => Err(field_error(
            "type",
            format!(
                "'{other}' is not a record type; use conversation, message, event, survey or deletion"
            ),
        )),
    }
}

/// A value within the limits of its field (`limits::field_problem`).
fn within_limits<'v>(value: &'v str, field: &str) -> Result<&'v str, FieldError> {
    match limits::field_problem(field, value) {
        Some(problem) => Err(field_error(field, problem)),
        None => Ok(value),
    }
}

fn required_id(value: &Option<Cow<str>>, field: &str) -> Result<String, FieldError> {
    match value.as_deref().map(str::trim) {
        None => Err(field_error(field, "missing")),
        Some("") => Err(field_error(field, "must not be empty")),
        Some(v) => Ok(within_limits(v, field)?.to_string()),
    }
}

fn optional(value: &Option<Cow<str>>, field: &str) -> Result<Option<String>, FieldError> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| within_limits(v, field).map(str::to_string))
        .transpose()
}

fn timestamp(value: &Option<Cow<str>>, field: &str) -> Result<i64, FieldError> {
    let text = value
        .as_deref()
        .ok_or_else(|| field_error(field, "missing"))?;
    parse_timestamp(text).map_err(|e| field_error(field, e.0))
}

impl FieldError {
    /// The same error inside a list item (`messages[2]` + `at` → `messages[2].at`).
    fn within(self, list: &str, index: usize) -> FieldError {
        FieldError {
            field: format!("{list}[{index}].{}", self.field),
            reason: self.reason,
        }
    }
}

fn conversation_record(raw: &Raw) -> Result<Conversation, FieldError> {
    let id = required_id(&raw.id, "id")?;
    let channel_text = raw
        .channel
        .as_deref()
        .ok_or_else(|| field_error("channel", "missing"))?;
    let channel = Channel::new(within_limits(channel_text, "channel")?)
        .map_err(|e| field_error("channel", e.0))?;
    let created_at = timestamp(&raw.created_at, "created_at")?;
    let raw_tags = raw.tags.as_deref().unwrap_or_default();
    if raw_tags.len() > limits::MAX_TAGS {
        return Err(field_error(
            "tags",
            format!(
                "{} tags; at most {} are allowed",
                raw_tags.len(),
                limits::MAX_TAGS
            ),
        ));
    }
    let mut tags: Vec<String> = Vec::with_capacity(raw_tags.len());
    for (i, tag) in raw_tags.iter().enumerate() {
        let tag = tag.trim();
        if let Some(problem) = limits::field_problem("tags", tag) {
            return Err(field_error(format!("tags[{i}]"), problem));
        }
        if !tag.is_empty() {
            tags.push(tag.to_string());
        }
    }
    tags.sort();
    tags.dedup();
    let mut conversation = Conversation::new(id.clone());
    conversation.header = Some(ConversationHeader {
        channel,
        created_at,
        customer: optional(&raw.customer, "customer")?,
        agent: optional(&raw.agent, "agent")?,
        team: optional(&raw.team, "team")?,
        tags,
        subject: optional(&raw.subject, "subject")?,
        customer_email: optional(&raw.customer_email, "customer_email")?
            .map(|email| {
                address::normalize_email(&email).ok_or_else(|| {
                    field_error(
                        "customer_email",
                        format!("'{email}' is not an e-mail address"),
                    )
                })
            })
            .transpose()?,
        customer_name: optional(&raw.customer_name, "customer_name")?,
        customer_language: optional(&raw.customer_language, "customer_language")?
            .map(|tag| {
                address::normalize_language(&tag).ok_or_else(|| {
                    field_error(
                        "customer_language",
                        format!("'{tag}' is not a language tag such as nl or en-GB"),
                    )
                })
            })
            .transpose()?,
    });
    let items = raw.messages.as_ref().map_or(0, Vec::len)
        + raw.events.as_ref().map_or(0, Vec::len)
        + raw.surveys.as_ref().map_or(0, Vec::len);
    if items > limits::MAX_RECORDS_PER_CONVERSATION {
        return Err(field_error(
            "messages",
            format!(
                "{items} messages, events and surveys in one record; at most {} are allowed per conversation",
                limits::MAX_RECORDS_PER_CONVERSATION
            ),
        ));
    }
    let check_parent = |item: &Raw| match item.conversation.as_deref() {
        Some(parent) if parent.trim() != id => Err(field_error(
            "conversation",
            format!("'{parent}' differs from the enclosing conversation '{id}'"),
        )),
        _ => Ok(()),
    };
    let messages = raw.messages.as_deref().unwrap_or_default();
    conversation.messages.reserve(messages.len());
    for (i, item) in messages.iter().enumerate() {
        check_parent(item)
            .and_then(|()| message(item))
            .map(|m| conversation.messages.push(m))
            .map_err(|e| e.within("messages", i))?;
    }
    for (i, item) in raw.events.iter().flatten().enumerate() {
        check_parent(item)
            .and_then(|()| event(item))
            .map(|e| conversation.events.push(e))
            .map_err(|e| e.within("events", i))?;
    }
    for (i, item) in raw.surveys.iter().flatten().enumerate() {
        check_parent(item)
            .and_then(|()| survey(item))
            .map(|s| conversation.surveys.push(s))
            .map_err(|e| e.within("surveys", i))?;
    }
    Ok(conversation)
}

fn message(raw: &Raw) -> Result<Message, FieldError> {
    let at = timestamp(&raw.at, "at")?;
    let author_text = raw
        .author
        .as_deref()
        .ok_or_else(|| field_error("author", "missing"))?;
    let author = Author::parse(author_text).map_err(|e| field_error("author", e.0))?;
    Ok(Message {
        id: optional(&raw.id, "id")?,
        at,
        author,
        agent: optional(&raw.agent, "agent")?,
        text: raw
            .text
            .as_deref()
            .map(|t| within_limits(t, "text").map(str::to_string))
            .transpose()?,
    })
}

fn event(raw: &Raw) -> Result<Event, FieldError> {
    let at = timestamp(&raw.at, "at")?;
    let kind_text = raw
        .event
        .as_deref()
        .ok_or_else(|| field_error("event", "missing"))?;
    let kind = EventKind::parse(kind_text).map_err(|e| field_error("event", e.0))?;
    Ok(Event {
        at,
        kind,
        agent: optional(&raw.agent, "agent")?,
    })
}

fn survey(raw: &Raw) -> Result<Survey, FieldError> {
    let at = timestamp(&raw.at, "at")?;
    let kind_text = raw
        .kind
        .as_deref()
        .ok_or_else(|| field_error("kind", "missing"))?;
    let kind = SurveyKind::parse(kind_text).map_err(|e| field_error("kind", e.0))?;
    let value = raw.score.ok_or_else(|| field_error("score", "missing"))?;
    let scale = raw
        .scale
        .map(|(min, max)| Scale { min, max })
        .unwrap_or_else(|| kind.default_scale());
    let score = Score::new(kind, value, scale).map_err(|e| {
        let field = if e.0.starts_with("score") {
            "score"
        } else {
            "scale"
        };
        field_error(field, e.0)
    })?;
    let raw_reasons = raw.reasons.as_deref().unwrap_or_default();
    if raw_reasons.len() > limits::MAX_REASONS {
        return Err(field_error(
            "reasons",
            format!(
                "{} reasons; at most {} are allowed",
                raw_reasons.len(),
                limits::MAX_REASONS
            ),
        ));
    }
    let mut reasons = Vec::with_capacity(raw_reasons.len());
    for (i, reason) in raw_reasons.iter().enumerate() {
        let reason = reason.trim();
        if let Some(problem) = limits::field_problem("reasons", reason) {
            return Err(field_error(format!("reasons[{i}]"), problem));
        }
        if !reason.is_empty() && !reasons.iter().any(|r| r == reason) {
            reasons.push(reason.to_string());
        }
    }
    Ok(Survey {
        at,
        kind,
        score,
        comment: optional(&raw.comment, "comment")?,
        reasons,
        source: optional(&raw.source, "source")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(line: &str) -> FieldError {
        parse_record(line).unwrap_err()
    }

    #[test]
    fn flat_records() {
        let c = parse_record(r#"{"type":"message","conversation":"c1","at":"2024-03-01T10:00:00+01:00","author":"agent","agent":"Anna","text":"Hoi"}"#).unwrap();
        assert_eq!(c.id, "c1");
        assert_eq!(c.messages[0].author, Author::Agent);
        assert_eq!(c.messages[0].agent.as_deref(), Some("Anna"));
        let s = parse_record(r#"{"type":"survey","conversation":"c1","at":"2024-03-01T10:00:00Z","kind":"csat","score":2,"scale":[1,3]}"#).unwrap();
        assert_eq!(s.surveys[0].score.scale().max, 3.0);
    }

    #[test]
    fn nested_conversation() {
        let c = parse_record(r#"{"type":"conversation","id":"c1","channel":"Email","created_at":"2024-03-01T10:00:00Z","tags":["retour","retour"," levering "],"messages":[{"at":"2024-03-01T10:00:00Z","author":"customer"}],"events":[{"at":"2024-03-01T11:00:00Z","event":"resolved"}],"surveys":[{"at":"2024-03-01T12:00:00Z","kind":"nps","score":9}]}"#).unwrap();
        let header = c.header.unwrap();
        assert_eq!(header.channel.as_str(), "email");
        assert_eq!(header.tags, vec!["levering", "retour"]);
        assert_eq!(
            (c.messages.len(), c.events.len(), c.surveys.len()),
            (1, 1, 1)
        );
    }

    #[test]
    fn customer_contact_and_survey_reasons_are_read_and_normalized() {
        let c = parse_record(r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-01T10:00:00Z","customer":"k-17","customer_email":" Jan@Example.NL ","customer_name":" Jan de Vries ","customer_language":"en_GB"}"#).unwrap();
        let h = c.header.unwrap();
        assert_eq!(h.customer_email.as_deref(), Some("jan@example.nl"));
        assert_eq!(h.customer_name.as_deref(), Some("Jan de Vries"));
        assert_eq!(h.customer_language.as_deref(), Some("en-gb"));
        let c = parse_record(r#"{"type":"survey","conversation":"c1","at":"2024-03-01T10:00:00Z","kind":"csat","score":2,"reasons":[" Te traag ","Te traag","","Niet opgelost"],"source":"servicemeter"}"#).unwrap();
        assert_eq!(c.surveys[0].reasons, ["Te traag", "Niet opgelost"]);
        assert_eq!(c.surveys[0].source.as_deref(), Some("servicemeter"));
        // Empty strings are absent, as for every optional field.
        let c = parse_record(r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-01T10:00:00Z","customer_email":" ","customer_language":""}"#).unwrap();
        let h = c.header.unwrap();
        assert_eq!((h.customer_email, h.customer_language), (None, None));
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (r#"{"id":"c1"}"#, "type"),
            (r#"{"type":"ticket"}"#, "type"),
            (
                r#"{"type":"conversation","channel":"email","created_at":"2024-03-01T10:00:00Z"}"#,
                "id",
            ),
            (
                r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-01 10:00"}"#,
                "created_at",
            ),
            (
                r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-01T10:00:00Z","messages":[{"at":"2024-03-01T10:00:00Z","author":"robot"}]}"#,
                "messages[0].author",
            ),
            (
                r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-01T10:00:00Z","messages":[{"at":5,"author":"agent"}]}"#,
                "messages[0].at",
            ),
            (
                r#"{"type":"message","conversation":"c1","at":"2024-03-01T10:00:00Z"}"#,
                "author",
            ),
            (
                r#"{"type":"survey","conversation":"c1","at":"2024-03-01T10:00:00Z","kind":"csat","score":6}"#,
                "score",
            ),
            (
                r#"{"type":"survey","conversation":"c1","at":"2024-03-01T10:00:00Z","kind":"csat","score":"5"}"#,
                "score",
            ),
            (
                r#"{"type":"survey","conversation":"c1","at":"2024-03-01T10:00:00Z","kind":"nps","score":5,"scale":[1,10]}"#,
                "scale",
            ),
            (
                r#"{"type":"event","conversation":"c1","at":"2024-03-01T10:00:00Z","event":"closed"}"#,
                "event",
            ),
            (
                r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-01T10:00:00Z","tags":"retour"}"#,
                "tags",
            ),
            (
                r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-01T10:00:00Z","customer_email":"jan at example.nl"}"#,
                "customer_email",
            ),
            (
                r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-01T10:00:00Z","customer_email":7}"#,
                "customer_email",
            ),
            (
                r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-01T10:00:00Z","customer_language":"Nederlands"}"#,
                "customer_language",
            ),
            (
                r#"{"type":"survey","conversation":"c1","at":"2024-03-01T10:00:00Z","kind":"csat","score":2,"reasons":"slow"}"#,
                "reasons",
            ),
            (
                r#"{"type":"survey","conversation":"c1","at":"2024-03-01T10:00:00Z","kind":"csat","score":2,"reasons":["slow",3]}"#,
                "reasons",
            ),
            (r#"{"type":"message","conversation":"#, "(json)"),
            (r#"[1,2]"#, "(json)"),
        ];
        for (line, field) in cases {
            let e = err(line);
            assert_eq!(e.field, field, "for {line}: {e}");
        }
    }

    #[test]
    fn limits_are_refused_with_the_field() {
        let tags: Vec<String> = (0..101).map(|i| format!("t{i}")).collect();
        let cases = [
            (
                format!(r#"{{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-01T10:00:00Z","tags":{}}}"#, serde_json::to_string(&tags).unwrap()),
                "tags",
            ),
            (
                format!(r#"{{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-01T10:00:00Z","tags":["{}"]}}"#, "x".repeat(101)),
                "tags[0]",
            ),
            (
                format!(r#"{{"type":"conversation","id":"{}","channel":"email","created_at":"2024-03-01T10:00:00Z"}}"#, "x".repeat(257)),
                "id",
            ),
            (
                format!(r#"{{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-01T10:00:00Z","customer_email":"{}@example.nl"}}"#, "x".repeat(250)),
                "customer_email",
            ),
            (
                format!(r#"{{"type":"survey","conversation":"c1","at":"2024-03-01T10:00:00Z","kind":"csat","score":2,"reasons":{}}}"#, serde_json::to_string(&tags[..21]).unwrap()),
                "reasons",
            ),
            (
                format!(r#"{{"type":"survey","conversation":"c1","at":"2024-03-01T10:00:00Z","kind":"csat","score":2,"reasons":["{}"]}}"#, "x".repeat(201)),
                "reasons[0]",
            ),
            (
                r#"{"type":"message","conversation":"c\u00001","at":"2024-03-01T10:00:00Z","author":"agent"}"#.to_string(),
                "conversation",
            ),
            (
                format!(r#"{{"type":"message","conversation":"c1","at":"2024-03-01T10:00:00Z","author":"agent","text":"{}"}}"#, "x".repeat(256 * 1024 + 1)),
                "text",
            ),
            (
                format!(r#"{{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-01T10:00:00Z","customer":"{}"}}"#, "x".repeat(257)),
                "customer",
            ),
        ];
        for (line, field) in cases {
            let e = err(&line);
            assert_eq!(e.field, field, "{e}");
        }
        // At the limits themselves, all is well.
        let tags: Vec<String> = (0..100).map(|i| format!("{i:0>100}")).collect();
        let line = format!(
            r#"{{"type":"conversation","id":"{}","channel":"email","created_at":"2024-03-01T10:00:00Z","tags":{}}}"#,
            "x".repeat(256),
            serde_json::to_string(&tags).unwrap()
        );
        assert_eq!(parse_record(&line).unwrap().header.unwrap().tags.len(), 100);
        // Too many messages in one record.
        let message = r#"{"at":"2024-03-01T10:00:00Z","author":"customer"}"#;
        let many =
            vec![message; servicemeter_core::limits::MAX_RECORDS_PER_CONVERSATION + 1].join(",");
        let line = format!(
            r#"{{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-01T10:00:00Z","messages":[{many}]}}"#
        );
        assert_eq!(err(&line).field, "messages");
    }

    #[test]
    fn a_deletion_record_names_its_conversation() {
        let c = parse_record(r#"{"type":"deletion","conversation":"zd-5"}"#).unwrap();
        assert_eq!(c.id, "zd-5");
        assert!(c.deleted);
        assert_eq!(err(r#"{"type":"deletion"}"#).field, "conversation");
    }
}
