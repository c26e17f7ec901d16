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
use servicemeter_core::{address, limits};

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
    fn anonymous(&self) -> bool {
        // The fast reader leaves surveys with a source to the full parser.
        false
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
    pub team: Option<&'a str>,
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

/// Known field names, in the order of the bits of [`Fields::present`]. These are the fields of
/// `parse_record`'s deserializer, which type-checks each of them at every level.
const TYPE: u32 = 0;
const ID: u32 = 1;
const CONVERSATION: u32 = 2;
const CHANNEL: u32 = 3;
const CREATED_AT: u32 = 4;
const CUSTOMER: u32 = 5;
const AGENT: u32 = 6;
const TEAM: u32 = 7;
const TAGS: u32 = 8;
const SUBJECT: u32 = 9;
const MESSAGES: u32 = 10;
const EVENTS: u32 = 11;
const SURVEYS: u32 = 12;
const AT: u32 = 13;
const AUTHOR: u32 = 14;
const TEXT: u32 = 15;
const EVENT: u32 = 16;
const KIND: u32 = 17;
const SCORE: u32 = 18;
const SCALE: u32 = 19;
const COMMENT: u32 = 20;
/// Fields that facts do not read: the customer's contact is checked as `record.rs` checks it
/// (a value it would refuse is left to `parse_record`), and a line that gives a survey's
/// reasons or source a value is left to `parse_record`.
const CUSTOMER_EMAIL: u32 = 21;
const CUSTOMER_NAME: u32 = 22;
const CUSTOMER_LANGUAGE: u32 = 23;
const REASONS: u32 = 24;
const SOURCE: u32 = 25;

fn field_index(key: &str) -> Option<u32> {
    Some(match key {
        "type" => TYPE,
        "id" => ID,
        "conversation" => CONVERSATION,
        "channel" => CHANNEL,
        "created_at" => CREATED_AT,
        "customer" => CUSTOMER,
        "agent" => AGENT,
        "team" => TEAM,
        "tags" => TAGS,
        "subject" => SUBJECT,
        "messages" => MESSAGES,
        "events" => EVENTS,
        "surveys" => SURVEYS,
        "at" => AT,
        "author" => AUTHOR,
        "text" => TEXT,
        "event" => EVENT,
        "kind" => KIND,
        "score" => SCORE,
        "scale" => SCALE,
        "comment" => COMMENT,
        "customer_email" => CUSTOMER_EMAIL,
        "customer_name" => CUSTOMER_NAME,
        "customer_language" => CUSTOMER_LANGUAGE,
        "reasons" => REASONS,
        "source" => SOURCE,
        _ => return None,
    })
}

/// The known fields of one object that the reader uses (absent or `null` = `None`); the
/// others are type-checked while scanning and dropped.
#[derive(Debug, Default)]
struct Fields<'a> {
    present: u32,
    record_type: Option<Str<'a>>,
    id: Option<Str<'a>>,
    conversation: Option<Str<'a>>,
    channel: Option<Str<'a>>,
    created_at: Option<Str<'a>>,
    agent: Option<Str<'a>>,
    team: Option<Str<'a>>,
    at: Option<Str<'a>>,
    author: Option<Str<'a>>,
    text: Option<Str<'a>>,
    event: Option<Str<'a>>,
    kind: Option<Str<'a>>,
    score: Option<f64>,
    scale: Option<(f64, f64)>,
}

/// What the top level's lists hold.
#[derive(Debug, Default)]
struct Lists<'a> {
    tags: Vec<Str<'a>>,
    messages: Vec<MessageView<'a>>,
    events: Vec<EventView<'a>>,
    surveys: Vec<SurveyView>,
    /// `conversation` fields found inside items, to compare with the record's id.
    parents: Vec<Str<'a>>,
}

fn plain<'a>(value: Option<Str<'a>>) -> Option<Option<&'a str>> {
    match value {
        None => Some(None),
        Some(s) => Some(Some(s.plain()?)),
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Marks (in the high bit of each byte) the bytes of `word` that are `"`, `\\` or a control
/// character. Bytes above the first marked one may be marked wrongly (borrows), the lowest mark
/// is always right.
fn special_bytes(word: u64) -> u64 {
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let is_quote = quote.wrapping_sub(ONES) & !quote;
    let is_backslash = backslash.wrapping_sub(ONES) & !backslash;
    let is_control = word.wrapping_sub(ONES * 0x20) & !word;
    (is_quote | is_backslash | is_control) & HIGH_BITS
}

/// Position of the first byte that ends the plain run of a JSON string: `"`, `\\` or a control
/// character (eight bytes at a time).
#[inline(always)]
fn find_special(bytes: &[u8]) -> Option<usize> {
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let marks = special_bytes(u64::from_le_bytes(word.try_into().expect("8 bytes")));
        if marks != 0 {
            return Some(at + (marks.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let tail = words.remainder();
    tail.iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| at + i)
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
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
    #[inline(always)]
    fn string(&mut self) -> Option<Str<'a>> {
        self.eat(b'"')?;
        let start = self.pos;
        let mut escaped = false;
        loop {
            self.pos += find_special(&self.bytes[self.pos..])?;
            match self.bytes[self.pos] {
                b'"' => {
                    let raw = &self.text[start..self.pos];
                    self.pos += 1;
                    return Some(Str { raw, escaped });
                }
                b'\\' => {}
                _ => return None, // a raw control character
            }
            escaped = true;
            self.pos += 1;
            match self.peek()? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.pos += 1,
                b'u' => {
                    let hex = self.bytes.get(self.pos + 1..self.pos + 5)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    // Surrogates (paired or not) are left to serde_json.
                    let code = u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                    if (0xD800..0xE000).contains(&code) {
                        return None;
                    }
                    self.pos += 5;
                }
                _ => return None,
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
            b'[' => self.array(|s| s.skip_value(depth + 1)),
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

    /// A string or `null`.
    /// [`Scanner::string_or_null`] for a field with a byte limit (`core::limits`, the same one
    /// `parse_record` applies to that field): a string longer than the limit (escapes counted
    /// as written, so never shorter than the value) is left to `parse_record`, which refuses
    /// it with the field's name.
    fn limited(&mut self, limit: usize) -> Option<Option<Str<'a>>> {
        let value = self.string_or_null()?;
        match value {
            Some(s) if s.raw.len() > limit => None,
            _ => Some(value),
        }
    }

    fn string_or_null(&mut self) -> Option<Option<Str<'a>>> {
        if self.null() {
            Some(None)
        } else {
            self.string().map(Some)
        }
    }

    /// One object. At the top level (`lists` given) the lists of tags and records are read
    /// into `lists`; inside items such lists are not expected (the caller falls back).
    fn object(&mut self, mut lists: Option<&mut Lists<'a>>, depth: u32) -> Option<Fields<'a>> {
        self.eat(b'{')?;
        let mut f = Fields::default();
        if self.eat(b'}').is_some() {
            return Some(f);
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            if key.escaped {
                // A key spelled with escapes may still name a field; leave it to serde.
                return None;
            }
            match field_index(key.raw) {
                None => self.skip_value(depth + 1)?,
                Some(i) => {
                    if f.present & (1 << i) != 0 {
                        return None; // a duplicate field is an error for serde
                    }
                    f.present |= 1 << i;
                    match i {
                        TYPE => f.record_type = self.string_or_null()?,
                        ID => f.id = self.limited(limits::MAX_ID_BYTES)?,
                        CONVERSATION => f.conversation = self.limited(limits::MAX_ID_BYTES)?,
                        CHANNEL => f.channel = self.limited(limits::MAX_NAME_BYTES)?,
                        CREATED_AT => f.created_at = self.string_or_null()?,
                        AGENT => f.agent = self.limited(limits::MAX_NAME_BYTES)?,
                        AT => f.at = self.string_or_null()?,
                        AUTHOR => f.author = self.string_or_null()?,
                        TEXT => f.text = self.limited(limits::MAX_TEXT_BYTES)?,
                        EVENT => f.event = self.string_or_null()?,
                        KIND => f.kind = self.string_or_null()?,
                        CUSTOMER => {
                            self.limited(limits::MAX_NAME_BYTES)?;
                        }
                        TEAM => f.team = self.limited(limits::MAX_NAME_BYTES)?,
                        SUBJECT => {
                            self.limited(limits::MAX_SUBJECT_BYTES)?;
                        }
                        COMMENT => {
                            self.limited(limits::MAX_TEXT_BYTES)?;
                        }
                        CUSTOMER_NAME => {
                            self.limited(limits::MAX_NAME_BYTES)?;
                        }
                        CUSTOMER_EMAIL | CUSTOMER_LANGUAGE => {
                            let (limit, valid): (usize, fn(&str) -> bool) = if i == CUSTOMER_EMAIL {
                                // ASCII only: then the shape check needs no lowercase copy.
                                (address::MAX_EMAIL_BYTES, |v| {
                                    v.is_ascii() && address::is_email(v)
                                })
                            } else {
                                (address::MAX_LANGUAGE_BYTES, |v| {
                                    address::normalize_language(v).is_some()
                                })
                            };
                            if let Some(value) = self.limited(limit)? {
                                let value = value.plain()?.trim();
                                if !value.is_empty() && !valid(value) {
                                    return None;
                                }
                            }
                        }
                        REASONS | SOURCE => {
                            if !self.null() {
                                return None;
                            }
                        }
                        SCORE => {
                            if !self.null() {
                                f.score = Some(self.number()?);
                            }
                        }
                        SCALE => {
                            if !self.null() {
                                let mut pair = [0.0; 2];
                                let mut n = 0;
                                self.array(|s| {
                                    *pair.get_mut(n)? = s.number()?;
                                    n += 1;
                                    Some(())
                                })?;
                                if n != 2 {
                                    return None;
                                }
                                f.scale = Some((pair[0], pair[1]));
                            }
                        }
                        _ => {
                            // TAGS, MESSAGES, EVENTS, SURVEYS
                            if self.null() {
                                // null counts as absent
                            } else {
                                let lists = lists.as_deref_mut()?;
                                match i {
                                    TAGS => self.array(|s| {
                                        let tag = s.string()?;
                                        if tag.raw.len() > limits::MAX_TAG_BYTES
                                            || lists.tags.len() >= limits::MAX_TAGS
                                        {
                                            return None;
                                        }
                                        lists.tags.push(tag);
                                        Some(())
                                    })?,
                                    _ => self.array(|s| {
                                        let item = s.object(None, depth + 1)?;
                                        lists.parents.extend(item.conversation);
                                        match i {
                                            MESSAGES => lists.messages.push(message(&item)?),
                                            EVENTS => lists.events.push(event(&item)?),
                                            _ => lists.surveys.push(survey(&item)?),
                                        }
                                        Some(())
                                    })?,
                                }
                            }
                        }
                    }
                }
            }
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(f);
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

fn timestamp(value: Option<Str>) -> Option<i64> {
    parse_timestamp(value?.plain()?).ok()
}

fn message<'a>(f: &Fields<'a>) -> Option<MessageView<'a>> {
    Some(MessageView {
        at: timestamp(f.at)?,
        author: Author::parse(f.author?.plain()?).ok()?,
        id: optional(plain(f.id)?),
        agent: optional(plain(f.agent)?),
        text: plain(f.text)?,
    })
}

fn event<'a>(f: &Fields<'a>) -> Option<EventView<'a>> {
    Some(EventView {
        at: timestamp(f.at)?,
        kind: EventKind::parse(f.event?.plain()?).ok()?,
        agent: optional(plain(f.agent)?),
    })
}

fn survey(f: &Fields) -> Option<SurveyView> {
    let at = timestamp(f.at)?;
    let kind = SurveyKind::parse(f.kind?.plain()?).ok()?;
    let scale = f
        .scale
        .map(|(min, max)| Scale { min, max })
        .unwrap_or_else(|| kind.default_scale());
    Some(SurveyView {
        at,
        kind,
        score: Score::new(kind, f.score?, scale).ok()?,
    })
}

/// Empties a vector and gives its allocation a new element type of the same layout (the
/// standard library collects a mapped `IntoIter` in place), so that buffers of views can be
/// reused from line to line although each line's views borrow from that line.
fn recycle<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter().map(|_| unreachable!("empty")).collect()
}

/// Allocations kept from one line to the next by [`read_conversation_line_in`].
#[derive(Debug, Default)]
pub struct Scratch {
    tags: Vec<Str<'static>>,
    parents: Vec<Str<'static>>,
    messages: Vec<MessageView<'static>>,
    events: Vec<EventView<'static>>,
    surveys: Vec<SurveyView>,
    view_tags: Vec<&'static str>,
}

impl Scratch {
    /// Takes back the buffers of a view that is no longer needed.
    pub fn recycle(&mut self, view: ConversationView) {
        self.messages = recycle(view.messages);
        self.events = recycle(view.events);
        self.surveys = recycle(view.surveys);
        self.view_tags = recycle(view.tags);
    }
}

/// Reads a line holding one `conversation` record, or answers `None` (see the module doc).
pub fn read_conversation_line(line: &str) -> Option<ConversationView<'_>> {
    read_conversation_line_in(line, &mut Scratch::default())
}

/// [`read_conversation_line`] reusing the allocations in `scratch` (hand the view back with
/// [`Scratch::recycle`] when done with it).
pub fn read_conversation_line_in<'a>(
    line: &'a str,
    scratch: &mut Scratch,
) -> Option<ConversationView<'a>> {
    let mut lists = Lists {
        tags: recycle(std::mem::take(&mut scratch.tags)),
        messages: recycle(std::mem::take(&mut scratch.messages)),
        events: recycle(std::mem::take(&mut scratch.events)),
        surveys: std::mem::take(&mut scratch.surveys),
        parents: recycle(std::mem::take(&mut scratch.parents)),
    };
    let view = read_into(
        line,
        &mut lists,
        recycle(std::mem::take(&mut scratch.view_tags)),
    );
    scratch.tags = recycle(lists.tags);
    scratch.parents = recycle(lists.parents);
    if view.is_none() {
        scratch.messages = recycle(lists.messages);
        scratch.events = recycle(lists.events);
        scratch.surveys = recycle(lists.surveys);
    }
    view
}

fn read_into<'a>(
    line: &'a str,
    lists: &mut Lists<'a>,
    mut tags: Vec<&'a str>,
) -> Option<ConversationView<'a>> {
    let mut scanner = Scanner {
        text: line,
        bytes: line.as_bytes(),
        pos: 0,
    };
    let top = scanner.object(Some(lists), 0)?;
    scanner.skip_ws();
    if scanner.pos != line.len() {
        return None;
    }
    if top.record_type?.plain()? != "conversation" {
        return None;
    }
    let id = top.id?.plain()?.trim();
    if id.is_empty() {
        return None;
    }
    for parent in &lists.parents {
        if parent.plain()?.trim() != id {
            return None;
        }
    }
    let channel = top.channel?.plain()?.trim();
    let valid_channel = !channel.is_empty()
        && channel.len() <= 64
        && channel
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !valid_channel {
        return None;
    }
    let created_at = timestamp(top.created_at)?;
    if lists.messages.len() + lists.events.len() + lists.surveys.len()
        > limits::MAX_RECORDS_PER_CONVERSATION
    {
        return None;
    }
    let agent = optional(plain(top.agent)?);
    let team = optional(plain(top.team)?);
    tags.clear();
    for t in &lists.tags {
        let t = t.plain()?.trim();
        if !t.is_empty() {
            tags.push(t);
        }
    }
    tags.sort_unstable();
    tags.dedup();
    Some(ConversationView {
        id,
        channel,
        created_at,
        agent,
        team,
        tags,
        messages: std::mem::take(&mut lists.messages),
        events: std::mem::take(&mut lists.events),
        surveys: std::mem::take(&mut lists.surveys),
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
        assert_eq!(view.team, header.team.as_deref());
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
    fn reads_a_record_with_the_customers_contact() {
        same_as_parse_record(
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T08:30:00Z","customer_email":" Jan@Example.nl ","customer_name":"Jan","customer_language":"nl","messages":[{"at":"2024-03-04T08:30:00Z","author":"customer"}]}"#,
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
            // a customer contact parse_record refuses, or spelled with escapes
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T08:30:00Z","customer_email":"jan at example.nl"}"#,
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T08:30:00Z","customer_email":"jan\u0040example.nl"}"#,
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T08:30:00Z","customer_email":5}"#,
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T08:30:00Z","customer_language":"Nederlands"}"#,
            // survey fields whose checks live in record.rs only
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T08:30:00Z","surveys":[{"at":"2024-03-04T12:00:00Z","kind":"csat","score":2,"reasons":["x"]}]}"#,
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
        servicemeter_demo::generate_lines(&servicemeter_demo::GeneratorOptions {
            conversations: 40,
            seed: 5,
            ..Default::default()
        })
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
            if let Ok(line) = String::from_utf8(bytes)
                && let Some(view) = read_conversation_line(&line)
            {
                assert_view_matches(&line, &view);
            }
        }
    }

    proptest::proptest! {
        /// The word-at-a-time search finds the same first special byte as a plain search,
        /// wherever it sits and whatever bytes (multi-byte UTF-8 too) surround it.
        #[test]
        fn special_byte_search_matches_plain_search(
            bytes in proptest::collection::vec(
                proptest::sample::select(b"\"\\\x00\x01\x1f\x20\x21\x7f\x80\xc3\xa9\xffaZ0".to_vec()),
                0..40,
            ),
        ) {
            let plain = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            proptest::prop_assert_eq!(find_special(&bytes), plain);
        }
    }
}
