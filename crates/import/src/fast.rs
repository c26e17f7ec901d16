//! A fast reader for the most common line — a whole `conversation` record with its messages,
//! events and surveys — that borrows from the line instead of building owned values.
//!
//! It answers `Some` only for lines that [`crate::parse_record`] reads without error and then
//! gives exactly the same records; for anything else (escaped strings it would need, values of
//! the wrong type, duplicate fields, invalid JSON, any validation failure) it answers `None`
//! and the caller uses `parse_record`, which also produces the error message.

use servicemeter_core::model::{
    Author, EventFields, EventKind, MessageFields, Scale, Score, SurveyFields, SurveyKind,
};
use servicemeter_core::time::parse_timestamp;

/// A message read from a line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MessageView<'a> {
    pub id: Option<&'a str>,
    pub at: i64,
    pub author: Author,
    pub agent: Option<&'a str>,
    pub text: Option<&'a str>,
}

/// An event read from a line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventView<'a> {
    pub at: i64,
    pub kind: EventKind,
    pub agent: Option<&'a str>,
}

/// A survey answer read from a line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurveyView {
    pub at: i64,
    pub kind: SurveyKind,
    pub score: Score,
}

impl MessageFields for MessageView<'_> {
    fn id(&self) -> Option<&str> {
        self.id
    }
    fn at(&self) -> i64 {
        self.at
    }
    fn author(&self) -> Author {
        self.author
    }
    fn agent(&self) -> Option<&str> {
        self.agent
    }
    fn text(&self) -> Option<&str> {
        self.text
    }
}

impl EventFields for EventView<'_> {
    fn at(&self) -> i64 {
        self.at
    }
    fn kind(&self) -> EventKind {
        self.kind
    }
    fn agent(&self) -> Option<&str> {
        self.agent
    }
}

impl SurveyFields for SurveyView {
    fn at(&self) -> i64 {
        self.at
    }
    fn kind(&self) -> SurveyKind {
        self.kind
    }
    fn score(&self) -> Score {
        self.score
    }
}

/// A conversation record read from one line, with what facts need.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationView<'a> {
    pub id: &'a str,
    /// Already lowercase and valid.
    pub channel: &'a str,
    pub created_at: i64,
    pub agent: Option<&'a str>,
    /// Trimmed, sorted, without duplicates or empty tags.
    pub tags: Vec<&'a str>,
    pub messages: Vec<MessageView<'a>>,
    pub events: Vec<EventView<'a>>,
    pub surveys: Vec<SurveyView>,
}

/// A JSON string as found: its raw contents and whether it holds escapes.
#[derive(Debug, Clone, Copy)]
struct Str<'a> {
    raw: &'a str,
    escaped: bool,
}

impl<'a> Str<'a> {
    /// The value, when it can be borrowed as is.
    fn plain(self) -> Option<&'a str> {
        (!self.escaped).then_some(self.raw)
    }
}

/// The value of a known field, type-checked as `parse_record`'s deserializer does.
#[derive(Debug, Clone, Default)]
enum Value<'a> {
    /// Absent or `null`.
    #[default]
    Absent,
    Str(Str<'a>),
    Number(f64),
    /// `tags`: strings.
    Strings(Vec<Str<'a>>),
    /// `scale`: two numbers.
    Pair(f64, f64),
    /// `messages`, `events`, `surveys`: objects.
    Items(Vec<Item<'a>>),
}

/// The known fields of one object (the same set at every level, like `parse_record`'s `Raw`).
#[derive(Debug, Clone, Default)]
struct Item<'a> {
    fields: [Value<'a>; FIELD_COUNT],
    present: u32,
}

const FIELDS: [&str; 21] = [
    "type",
    "id",
    "conversation",
    "channel",
    "created_at",
    "customer",
    "agent",
    "team",
    "tags",
    "subject",
    "messages",
    "events",
    "surveys",
    "at",
    "author",
    "text",
    "event",
    "kind",
    "score",
    "scale",
    "comment",
];
const FIELD_COUNT: usize = FIELDS.len();
const TYPE: usize = 0;
const ID: usize = 1;
const CONVERSATION: usize = 2;
const CHANNEL: usize = 3;
const CREATED_AT: usize = 4;
const AGENT: usize = 6;
const TAGS: usize = 8;
const MESSAGES: usize = 10;
const EVENTS: usize = 11;
const SURVEYS: usize = 12;
const AT: usize = 13;
const AUTHOR: usize = 14;
const TEXT: usize = 15;
const EVENT: usize = 16;
const KIND: usize = 17;
const SCORE: usize = 18;
const SCALE: usize = 19;

impl<'a> Item<'a> {
    fn str(&self, field: usize) -> Option<Option<Str<'a>>> {
        match &self.fields[field] {
            Value::Absent => Some(None),
            Value::Str(s) => Some(Some(*s)),
            _ => None,
        }
    }

    /// A string field the caller uses: borrowed, or `None` (fall back) when escaped.
    fn plain(&self, field: usize) -> Option<Option<&'a str>> {
        match self.str(field)? {
            None => Some(None),
            Some(s) => Some(Some(s.plain()?)),
        }
    }
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of a word is `"`, `\` or a control character (< 0x20).
fn special_in_word(word: u64) -> bool {
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let quote = zero_byte(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    (quote | backslash | control) != 0
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_ws();
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos + word.len();
        (self.bytes.get(self.pos..end)? == word).then(|| self.pos = end)
    }

    /// A string at the cursor (after whitespace), validated like JSON requires.
    fn string(&mut self) -> Option<Str<'a>> {
        self.eat(b'"')?;
        let start = self.pos;
        let mut escaped = false;
        loop {
            // Skip eight plain bytes at a time.
            while let Some(chunk) = self.bytes.get(self.pos..self.pos + 8) {
                let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
                if special_in_word(word) {
                    break;
                }
                self.pos += 8;
            }
            let b = self.peek()?;
            match b {
                b'"' => {
                    let raw = &self.text[start..self.pos];
                    self.pos += 1;
                    return Some(Str { raw, escaped });
                }
                b'\\' => {
                    escaped = true;
                    self.pos += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.pos += 1,
                        b'u' => {
                            let hex = self.bytes.get(self.pos + 1..self.pos + 5)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            // Lone surrogates are rejected by serde_json; leave them to it.
                            let code =
                                u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                            if (0xD800..0xE000).contains(&code) {
                                return None;
                            }
                            self.pos += 5;
                        }
                        _ => return None,
                    }
                }
                0..0x20 => return None,
                _ => self.pos += 1,
            }
        }
    }

    fn number(&mut self) -> Option<f64> {
        self.skip_ws();
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => {
                while let Some(b'0'..=b'9') = self.peek() {
                    self.pos += 1;
                }
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            let digits = self.pos;
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
            if self.pos == digits {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            let digits = self.pos;
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
            if self.pos == digits {
                return None;
            }
        }
        let value: f64 = self.text[start..self.pos].parse().ok()?;
        value.is_finite().then_some(value)
    }

    /// Any JSON value, checked and skipped.
    fn skip_value(&mut self, depth: u32) -> Option<()> {
        if depth > 64 {
            return None;
        }
        self.skip_ws();
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' => {
                self.pos += 1;
                if self.eat(b'}').is_some() {
                    return Some(());
                }
                loop {
                    self.string()?;
                    self.eat(b':')?;
                    self.skip_value(depth + 1)?;
                    self.skip_ws();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b'}' => {
                            self.pos += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                if self.eat(b']').is_some() {
                    return Some(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    self.skip_ws();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b']' => {
                            self.pos += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(|_| ()),
        }
    }

    /// `null` at the cursor (after whitespace)?
    fn null(&mut self) -> bool {
        self.skip_ws();
        if self.bytes[self.pos..].starts_with(b"null") {
            self.pos += 4;
            true
        } else {
            false
        }
    }

    /// `[ item, … ]` with `item` read by `each`.
    fn array(&mut self, mut each: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            each(self)?;
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// One object's known fields; `nested` is false inside list items, where lists of
    /// records and tags are not expected (the caller falls back if they appear).
    fn object(&mut self, nested: bool, depth: u32) -> Option<Item<'a>> {
        self.eat(b'{')?;
        let mut item = Item::default();
        if self.eat(b'}').is_some() {
            return Some(item);
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            let index = if key.escaped {
                // A key spelled with escapes may still name a field; leave it to serde.
                return None;
            } else {
                FIELDS.iter().position(|f| *f == key.raw)
            };
            match index {
                None => self.skip_value(depth + 1)?,
                Some(i) => {
                    if item.present & (1 << i) != 0 {
                        return None; // duplicate field
                    }
                    item.present |= 1 << i;
                    item.fields[i] = if self.null() {
                        Value::Absent
                    } else {
                        match i {
                            TAGS => {
                                if !nested {
                                    return None;
                                }
                                let mut tags = Vec::new();
                                self.array(|s| {
                                    tags.push(s.string()?);
                                    Some(())
                                })?;
                                Value::Strings(tags)
                            }
                            MESSAGES | EVENTS | SURVEYS => {
                                if !nested {
                                    return None;
                                }
                                let mut items = Vec::new();
                                self.array(|s| {
                                    items.push(s.object(false, depth + 1)?);
                                    Some(())
                                })?;
                                Value::Items(items)
                            }
                            SCORE => Value::Number(self.number()?),
                            SCALE => {
                                let mut pair = Vec::with_capacity(2);
                                self.array(|s| {
                                    pair.push(s.number()?);
                                    Some(())
                                })?;
                                match pair[..] {
                                    [min, max] => Value::Pair(min, max),
                                    _ => return None,
                                }
                            }
                            _ => Value::Str(self.string()?),
                        }
                    };
                }
            }
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(item);
                }
                _ => return None,
            }
        }
    }
}

/// `optional()` of parse_record: trimmed, and empty means absent.
fn optional(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn timestamp(item: &Item, field: usize) -> Option<i64> {
    parse_timestamp(item.plain(field)??).ok()
}

fn message<'a>(item: &Item<'a>) -> Option<MessageView<'a>> {
    Some(MessageView {
        at: timestamp(item, AT)?,
        author: Author::parse(item.plain(AUTHOR)??).ok()?,
        id: optional(item.plain(ID)?),
        agent: optional(item.plain(AGENT)?),
        text: item.plain(TEXT)?,
    })
}

fn event<'a>(item: &Item<'a>) -> Option<EventView<'a>> {
    Some(EventView {
        at: timestamp(item, AT)?,
        kind: EventKind::parse(item.plain(EVENT)??).ok()?,
        agent: optional(item.plain(AGENT)?),
    })
}

fn survey(item: &Item) -> Option<SurveyView> {
    let at = timestamp(item, AT)?;
    let kind = SurveyKind::parse(item.plain(KIND)??).ok()?;
    let value = match item.fields[SCORE] {
        Value::Number(v) => v,
        _ => return None,
    };
    let scale = match item.fields[SCALE] {
        Value::Pair(min, max) => Scale { min, max },
        Value::Absent => kind.default_scale(),
        _ => return None,
    };
    Some(SurveyView {
        at,
        kind,
        score: Score::new(kind, value, scale).ok()?,
    })
}

/// Reads a line holding one `conversation` record, or answers `None` (see the module doc).
pub fn read_conversation_line(line: &str) -> Option<ConversationView<'_>> {
    let mut scanner = Scanner {
        text: line,
        bytes: line.as_bytes(),
        pos: 0,
    };
    let top = scanner.object(true, 0)?;
    scanner.skip_ws();
    if scanner.pos != line.len() {
        return None;
    }
    // Every known string field must hold a string (or null), whatever the record type.
    if top.plain(TYPE)?? != "conversation" {
        return None;
    }
    for i in [CONVERSATION, 5, 7, 9, AT, AUTHOR, TEXT, EVENT, KIND, 20] {
        top.str(i)?;
    }
    match top.fields[SCORE] {
        Value::Absent | Value::Number(_) => {}
        _ => return None,
    }
    match top.fields[SCALE] {
        Value::Absent | Value::Pair(..) => {}
        _ => return None,
    }
    let id = top.plain(ID)??.trim();
    if id.is_empty() {
        return None;
    }
    let channel = top.plain(CHANNEL)??.trim();
    let valid_channel = !channel.is_empty()
        && channel.len() <= 64
        && channel
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !valid_channel {
        return None;
    }
    let created_at = timestamp(&top, CREATED_AT)?;
    let agent = optional(top.plain(AGENT)?);
    let mut tags = Vec::new();
    match &top.fields[TAGS] {
        Value::Absent => {}
        Value::Strings(values) => {
            for t in values {
                let t = t.plain()?.trim();
                if !t.is_empty() {
                    tags.push(t);
                }
            }
        }
        _ => return None,
    }
    tags.sort_unstable();
    tags.dedup();

    let items = |field: usize| -> Option<&[Item]> {
        match &top.fields[field] {
            Value::Absent => Some(&[]),
            Value::Items(items) => Some(items),
            _ => None,
        }
    };
    // Inside items: the enclosing conversation only, and every known field of the right type.
    let check_item = |item: &Item| -> Option<()> {
        if let Some(parent) = item.str(CONVERSATION)? {
            if parent.plain()?.trim() != id {
                return None;
            }
        }
        for i in [
            TYPE, ID, CHANNEL, CREATED_AT, 5, AGENT, 7, 9, AT, AUTHOR, TEXT, EVENT, KIND, 20,
        ] {
            item.str(i)?;
        }
        match item.fields[SCORE] {
            Value::Absent | Value::Number(_) => {}
            _ => return None,
        }
        match item.fields[SCALE] {
            Value::Absent | Value::Pair(..) => Some(()),
            _ => None,
        }
    };
    let mut messages = Vec::new();
    for item in items(MESSAGES)? {
        check_item(item)?;
        messages.push(message(item)?);
    }
    let mut events = Vec::new();
    for item in items(EVENTS)? {
        check_item(item)?;
        events.push(event(item)?);
    }
    let mut surveys = Vec::new();
    for item in items(SURVEYS)? {
        check_item(item)?;
        surveys.push(survey(item)?);
    }
    Some(ConversationView {
        id,
        channel,
        created_at,
        agent,
        tags,
        messages,
        events,
        surveys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_record;

    /// The view equals what parse_record gives, field by field.
    fn same_as_parse_record(line: &str) {
        let view = read_conversation_line(line).expect("fast path reads it");
        assert_view_matches(line, &view);
    }

    fn assert_view_matches(line: &str, view: &ConversationView) {
        let c = parse_record(line).expect("parse_record reads what the fast path reads");
        let header = c.header.as_ref().unwrap();
        assert_eq!(view.id, c.id);
        assert_eq!(view.channel, header.channel.as_str());
        assert_eq!(view.created_at, header.created_at);
        assert_eq!(view.agent, header.agent.as_deref());
        assert_eq!(
            view.tags,
            header.tags.iter().map(String::as_str).collect::<Vec<_>>()
        );
        assert_eq!(view.messages.len(), c.messages.len());
        for (v, m) in view.messages.iter().zip(&c.messages) {
            assert_eq!(
                (v.id, v.at, v.author, v.agent, v.text),
                (
                    m.id.as_deref(),
                    m.at,
                    m.author,
                    m.agent.as_deref(),
                    m.text.as_deref()
                )
            );
        }
        for (v, e) in view.events.iter().zip(&c.events) {
            assert_eq!((v.at, v.kind, v.agent), (e.at, e.kind, e.agent.as_deref()));
        }
        for (v, s) in view.surveys.iter().zip(&c.surveys) {
            assert_eq!((v.at, v.kind, v.score), (s.at, s.kind, s.score));
        }
    }

    #[test]
    fn reads_a_full_record() {
        same_as_parse_record(
            r#" {"type":"conversation","id":" c1 ","channel":"email","created_at":"2024-03-04T08:30:00+01:00","customer":"kl\"ant","agent":"","tags":["b"," a ","b",""],"extra":{"x":[1,2.5e3,true,null,{"y":"\u00e9"}]},"messages":[{"id":"m1","at":"2024-03-04T08:30:00+01:00","author":"customer","text":"Hoi","conversation":"c1"},{"at":"2024-03-04T09:20:00+01:00","author":"agent","agent":" Anna ","text":null}],"events":[{"at":"2024-03-04T10:00:00Z","event":"resolved"}],"surveys":[{"at":"2024-03-04T12:00:00Z","kind":"csat","score":2,"scale":[1,3],"comment":"ok"}]} "#,
        );
    }

    #[test]
    fn falls_back_where_parse_record_must_decide() {
        let cases = [
            // not a conversation record
            r#"{"type":"message","conversation":"c1","at":"2024-03-04T08:30:00Z","author":"agent"}"#,
            // escapes in a value that is used
            r#"{"type":"conversation","id":"c\u0031","channel":"email","created_at":"2024-03-04T08:30:00Z"}"#,
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T08:30:00Z","messages":[{"at":"2024-03-04T08:30:00Z","author":"customer","text":"a\"b"}]}"#,
            // upper case channel (parse_record lowercases it)
            r#"{"type":"conversation","id":"c1","channel":"Email","created_at":"2024-03-04T08:30:00Z"}"#,
            // wrong types
            r#"{"type":"conversation","id":5,"channel":"email","created_at":"2024-03-04T08:30:00Z"}"#,
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T08:30:00Z","subject":1}"#,
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T08:30:00Z","score":"5"}"#,
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T08:30:00Z","tags":"a"}"#,
            // duplicate field
            r#"{"type":"conversation","id":"c1","id":"c2","channel":"email","created_at":"2024-03-04T08:30:00Z"}"#,
            // invalid JSON
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T08:30:00Z",}"#,
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T08:30:00Z"} x"#,
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T08:30:00Z","x":01}"#,
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T08:30:00Z","x":"\ud800"}"#,
            // validation
            r#"{"type":"conversation","id":" ","channel":"email","created_at":"2024-03-04T08:30:00Z"}"#,
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04 08:30"}"#,
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T08:30:00Z","messages":[{"at":"2024-03-04T08:30:00Z","author":"robot"}]}"#,
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T08:30:00Z","messages":[{"at":"2024-03-04T08:30:00Z","author":"agent","conversation":"c2"}]}"#,
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T08:30:00Z","surveys":[{"at":"2024-03-04T08:30:00Z","kind":"csat","score":6}]}"#,
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T08:30:00Z","surveys":[{"at":"2024-03-04T08:30:00Z","kind":"csat","score":3,"scale":[1,2,3]}]}"#,
        ];
        for line in cases {
            assert!(read_conversation_line(line).is_none(), "{line}");
        }
    }

    fn generated_lines() -> Vec<String> {
        let mut out = Vec::new();
        servicemeter_demo::generate(
            &mut out,
            &servicemeter_demo::GeneratorOptions {
                conversations: 40,
                seed: 5,
                ..Default::default()
            },
        )
        .unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn generated_lines_take_the_fast_path() {
        for line in generated_lines() {
            same_as_parse_record(&line);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Damage a line anywhere: whenever the fast path still reads it, parse_record must
        /// read it too and agree on every field.
        #[test]
        fn damaged_lines_never_disagree(
            which in 0usize..40,
            at in 0usize..4000,
            op in 0u8..3,
            byte in proptest::sample::select(b"\"\\{}[],:0123456789.eE+-tfnul aZ\x01".to_vec()),
        ) {
            let lines = generated_lines();
            let mut bytes = lines[which].clone().into_bytes();
            let at = at % (bytes.len() + 1);
            match op {
                0 => bytes.insert(at, byte),
                1 if at < bytes.len() => { bytes.remove(at); }
                _ if at < bytes.len() => bytes[at] = byte,
                _ => bytes.push(byte),
            }
            if let Ok(line) = String::from_utf8(bytes) {
                if let Some(view) = read_conversation_line(&line) {
                    assert_view_matches(&line, &view);
                }
            }
        }
    }

    #[test]
    fn special_bytes_are_found_in_words() {
        assert!(!special_in_word(u64::from_le_bytes(*b"abcdefgh")));
        assert!(special_in_word(u64::from_le_bytes(*b"abc\"efgh")));
        assert!(special_in_word(u64::from_le_bytes(*b"abcdef\\h")));
        assert!(special_in_word(u64::from_le_bytes(*b"a\x1fcdefgh")));
        assert!(!special_in_word(u64::from_le_bytes(
            *b"\xc3\xa9 \x7f\xff!~ "
        )));
    }
}
