//! Gorgias: API JSON — tickets (`{"data": [...]}` pages of `GET /api/tickets`, or single tickets
//! with their `messages`), messages (`{"data": [...]}` with `ticket_id`), satisfaction surveys
//! (`GET /api/satisfaction-surveys`) and the older customer ratings; what each item is comes from
//! its shape (every ticket carries `from_agent` too, so no single key tells).
//!
//! Messages: `from_agent: false` = customer; `from_agent` and `public: false` = note; sent by a
//! rule (`via` "rule" or a `rule_id`) = bot; other agent messages = agent. A closed ticket is
//! resolved at `closed_datetime`. Survey `score` 1–5 = CSAT. Times without an offset are UTC, as
//! Gorgias documents them (in `--timezone` when it is given); times with an offset keep it.

use std::path::PathBuf;

use jiff::tz::TimeZone;
use serde_json::{Value, json};

use super::json_pages::{Items, id_text, load, text};
use super::{PerConversation, SourceError, SourceOptions, Translation, put_contact};

/// Gorgias's ticket `channel` as a servicemeter channel.
pub fn channel(name: &str) -> String {
    match name {
        "email" | "contact_form" | "help-center" | "api" | "" => "email".into(),
        "chat" => "chat".into(),
        "phone" => "phone".into(),
        "sms" => "sms".into(),
        "whatsapp" => "whatsapp".into(),
        n if n.starts_with("facebook")
            || n.starts_with("instagram")
            || n.starts_with("twitter") =>
        {
            "social".into()
        }
        other => super::channel_name(other),
    }
}

fn role(m: &Value) -> Result<&'static str, String> {
    let from_agent = m["from_agent"]
        .as_bool()
        .ok_or_else(|| "missing or not true/false".to_string())?;
    let by_rule = m["via"].as_str() == Some("rule") || !m["rule_id"].is_null();
    Ok(match (from_agent, m["public"].as_bool().unwrap_or(true)) {
        (false, _) => "customer",
        (true, false) => "note",
        (true, true) if by_rule => "bot",
        (true, true) => "agent",
    })
}

/// A Gorgias time as RFC 3339: with its offset as given, else (as documented, e.g.
/// `2019-11-16T15:59:41.966927`) a local time in `tz` (UTC unless `--timezone` was given).
pub fn time(value: &str, tz: &TimeZone) -> Result<String, String> {
    if value.parse::<jiff::Timestamp>().is_ok() {
        return Ok(value.to_string());
    }
    let local: jiff::civil::DateTime = value
        .parse()
        .map_err(|e| format!("'{value}' is not a date and time: {e}"))?;
    super::local_to_rfc3339(local, tz)
}

/// A time field of `v`, converted by [`time`].
fn time_field(v: &Value, field: &str, tz: &TimeZone) -> Result<String, (String, String)> {
    let value = text(v, field).ok_or_else(|| (field.to_string(), "missing".to_string()))?;
    time(value, tz).map_err(|r| (field.to_string(), r))
}

fn message_record(conversation: &str, m: &Value, tz: &TimeZone) -> Result<Value, (String, String)> {
    let author = role(m).map_err(|r| ("from_agent".to_string(), r))?;
    let at = time_field(m, "created_datetime", tz)?;
    let mut message =
        json!({"type": "message", "conversation": conversation, "at": at, "author": author});
    if let Some(id) = id_text(&m["id"]) {
        message["id"] = Value::from(format!("gorgias-message-{id}"));
    }
    if matches!(author, "agent" | "note")
        && let Some(name) = text(&m["sender"], "name")
    {
        message["agent"] = Value::from(name);
    }
    if let Some(body) = text(m, "body_text") {
        message["text"] = Value::from(body);
    }
    Ok(message)
}

/// What an item is, by its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ticket,
    Message,
    Survey,
    Rating,
}

fn kind_of(item: &Value) -> Option<Kind> {
    let has = |key: &str| item.get(key).is_some();
    if !item.is_object() {
        return None;
    }
    if has("score") || has("scored_datetime") || has("should_send_datetime") {
        // A satisfaction survey (sent, maybe answered).
        Some(Kind::Survey)
    } else if has("rating_datetime") || (has("rating") && has("ticket_id")) {
        // The older customer rating.
        Some(Kind::Rating)
    } else if has("ticket_id")
        && (has("body_text") || has("body_html") || has("sender") || has("from_agent"))
    {
        Some(Kind::Message)
    } else if !has("ticket_id")
        && (has("messages") || has("status") || has("subject") || has("channel") || has("customer"))
    {
        Some(Kind::Ticket)
    } else {
        None
    }
}

/// The items of `files` with their kind (`None`: not recognised), file and place.
type Classified = Vec<(Option<Kind>, String, String, Value)>;

fn read(files: &[PathBuf]) -> Result<Classified, SourceError> {
    let mut out = Vec::new();
    for page in load(files)? {
        let name = page.name;
        let value = page.value;
        let items: Items = match value["data"].as_array() {
            Some(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| (name.clone(), format!("data[{i}]"), item.clone()))
                .collect(),
            None if value.is_array() => value
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, item)| (name.clone(), format!("[{i}]"), item.clone()))
                .collect(),
            // One object: a single ticket, message or survey.
            None if kind_of(&value).is_some() => vec![(name.clone(), String::new(), value)],
            None => {
                return Err(SourceError::new(
                    &name,
                    "",
                    "",
                    "holds no data array and is not a ticket, message or satisfaction survey",
                ));
            }
        };
        for (file, place, item) in items {
            out.push((kind_of(&item), file, place, item));
        }
    }
    Ok(out)
}

/// Translates Gorgias pages saved as files. `Err` only for a file that cannot be read as pages;
/// a ticket, message or survey with a problem is a failure of its own (see [`Translation`]).
pub fn translate(files: &[PathBuf], options: &SourceOptions) -> Result<Translation, SourceError> {
    let tz = if options.timezone_given {
        options.timezone.clone()
    } else {
        TimeZone::UTC
    };
    let items = read(files)?;
    let mut out = PerConversation::default();
    for (kind, file, place, item) in items {
        let err = |field: &str, reason: String| SourceError::new(&file, &place, field, reason);
        let Some(kind) = kind else {
            out.fail(
                None,
                err(
                    "",
                    "neither a ticket, a message nor a satisfaction survey".into(),
                ),
            );
            continue;
        };
        let ticket_id = match kind {
            Kind::Ticket => id_text(&item["id"]),
            _ => id_text(&item["ticket_id"]),
        };
        let field = if kind == Kind::Ticket {
            "id"
        } else {
            "ticket_id"
        };
        let record = match kind {
            Kind::Survey if item["score"].is_null() => {
                // Sent but not answered.
                continue;
            }
            Kind::Rating if item["rating"].is_null() => continue,
            _ => {
                let Some(ticket) = ticket_id else {
                    out.fail(None, err(field, "missing".into()));
                    continue;
                };
                let conversation = format!("gorgias-{ticket}");
                let record = match kind {
                    Kind::Ticket => ticket_record(&conversation, &item, &tz),
                    Kind::Message => message_record(&conversation, &item, &tz),
                    Kind::Survey => survey_record(
                        &conversation,
                        &item,
                        &tz,
                        "score",
                        "scored_datetime",
                        "body_text",
                    ),
                    Kind::Rating => survey_record(
                        &conversation,
                        &item,
                        &tz,
                        "rating",
                        "rating_datetime",
                        "comment",
                    ),
                };
                (conversation, record)
            }
        };
        match record {
            (conversation, Ok(record)) => out.record(&conversation, &file, &place, record),
            (conversation, Err((field, reason))) => {
                out.fail(Some(&conversation), err(&field, reason))
            }
        }
    }
    Ok(out.finish())
}

/// A survey (or older customer rating) as a CSAT record on [1, 5].
fn survey_record(
    conversation: &str,
    s: &Value,
    tz: &TimeZone,
    score_field: &str,
    at_field: &str,
    comment_field: &str,
) -> Result<Value, (String, String)> {
    let score = s[score_field]
        .as_i64()
        .ok_or_else(|| (score_field.to_string(), "not a whole number".to_string()))?;
    let at = time_field(s, at_field, tz)?;
    Ok(super::csat_survey(
        conversation,
        &at,
        score,
        5,
        text(s, comment_field),
    ))
}

/// A ticket's conversation record with its embedded messages and ratings, or the field and
/// reason it cannot be translated.
fn ticket_record(conversation: &str, t: &Value, tz: &TimeZone) -> Result<Value, (String, String)> {
    let created = time_field(t, "created_datetime", tz)?;
    let raw_channel = t["channel"].as_str().unwrap_or("");
    let mapped = channel(raw_channel);
    let mut header = json!({
        "type": "conversation",
        "id": conversation,
        "channel": mapped,
        "created_at": created,
    });
    if let Some(subject) = text(t, "subject") {
        header["subject"] = Value::from(subject);
    }
    if let Some(name) = text(&t["customer"], "name").or(text(&t["requester"], "name")) {
        header["customer"] = Value::from(name);
    }
    // The customer's address, name and preferred language (ISO 639-1); the older `requester`
    // object where there is no `customer`.
    let person = if t["customer"].is_object() {
        &t["customer"]
    } else {
        &t["requester"]
    };
    put_contact(
        &mut header,
        text(person, "email"),
        text(person, "name"),
        text(person, "language"),
    );
    if let Some(name) = text(&t["assignee_user"], "name") {
        header["agent"] = Value::from(name);
    }
    if let Some(team) = text(&t["assignee_team"], "name") {
        header["team"] = Value::from(team);
    }
    let mut tags: Vec<Value> = t["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| text(g, "name").or(g.as_str()))
        .map(Value::from)
        .collect();
    if let Some(priority) = text(t, "priority") {
        tags.push(Value::from(format!("priority-{priority}")));
    }
    // The vendor's own channel when servicemeter's is coarser (contact_form → email).
    if !raw_channel.is_empty() && super::channel_name(raw_channel) != mapped {
        tags.push(Value::from(format!(
            "channel-{}",
            super::channel_name(raw_channel)
        )));
    }
    if !tags.is_empty() || t["tags"].is_array() {
        header["tags"] = Value::from(tags);
    }
    let mut embedded = Vec::new();
    for (k, m) in t["messages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let mut record = message_record(conversation, m, tz)
            .map_err(|(f, r)| (format!("messages[{k}].{f}"), r))?;
        // Inside the conversation record: without type and conversation.
        if let Some(o) = record.as_object_mut() {
            o.remove("type");
            o.remove("conversation");
        }
        embedded.push(record);
    }
    header["messages"] = Value::from(embedded);
    let mut surveys = Vec::new();
    for (k, r) in t["customer_ratings"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        if r["rating"].is_null() {
            continue;
        }
        let mut record = survey_record(conversation, r, tz, "rating", "rating_datetime", "comment")
            .map_err(|(f, e)| (format!("customer_ratings[{k}].{f}"), e))?;
        if let Some(o) = record.as_object_mut() {
            o.remove("type");
            o.remove("conversation");
        }
        surveys.push(record);
    }
    if !surveys.is_empty() {
        header["surveys"] = Value::from(surveys);
    }
    if t["status"].as_str() == Some("closed") {
        let at = time_field(t, "closed_datetime", tz)
            .map_err(|(f, r)| (f, format!("a closed ticket needs it: {r}")))?;
        header["events"] = json!([{"at": at, "event": "resolved"}]);
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_support::*;

    fn run(files: &[(&str, &str)], options: &SourceOptions) -> Translation {
        let (_dir, paths) = write_files(files);
        translate(&paths, options).expect("pages are readable")
    }

    /// Tickets as the API gives them: each carries `from_agent` (who sent the first message).
    const TICKETS: &str = r#"{"data": [
        {"id": 7001, "from_agent": false, "channel": "contact_form", "via": "contact_form", "status": "closed",
         "priority": "high", "subject": "Maat", "customer": {"name": "Noor", "email": "noor@example.nl", "language": "nl"},
         "assignee_user": {"name": "Daan"}, "assignee_team": {"id": 3, "name": "Retouren"},
         "tags": [{"id": 1, "name": "maat"}],
         "created_datetime": "2019-11-16T15:59:41.966927", "closed_datetime": "2019-11-16T17:00:00",
         "messages": [
           {"id": 1, "ticket_id": 7001, "from_agent": false, "public": true, "channel": "email",
            "sender": {"name": "Noor"}, "created_datetime": "2019-11-16T15:59:41.966927", "body_text": "Valt het groot?"},
           {"id": 2, "ticket_id": 7001, "from_agent": true, "public": true, "channel": "email",
            "sender": {"name": "Daan"}, "created_datetime": "2019-11-16T16:30:00+01:00", "body_text": "Normaal."}
         ]},
        {"id": 7002, "from_agent": true, "channel": "email", "status": "open", "subject": "Factuur",
         "requester": {"name": "Sem", "email": "sem@example.nl", "language": "Nederlands"},
         "created_datetime": "2019-11-17T09:00:00"}
    ]}"#;

    #[test]
    fn tickets_with_from_agent_are_tickets_and_times_without_offset_are_utc() {
        let t = run(
            &[
                ("tickets.json", TICKETS),
                (
                    "surveys.json",
                    r#"{"data": [
                    {"id": 1234, "body_text": "Such speed", "created_datetime": "2019-11-16T15:59:41.966927",
                     "customer_id": 120, "score": 2, "scored_datetime": "2019-11-25T15:59:41.966927",
                     "sent_datetime": "2019-11-23T15:59:41.966927", "ticket_id": 7001},
                    {"id": 1235, "score": null, "sent_datetime": "2019-11-23T15:59:41.966927", "ticket_id": 7002}
                ]}"#,
                ),
            ],
            &SourceOptions::default(),
        );
        assert!(t.failures.is_empty(), "{:?}", t.failures);
        let records: Vec<&Value> = t.records.iter().map(|r| &r.record).collect();
        assert_eq!(records.len(), 3, "two tickets and one answered survey");
        let first = records[0];
        assert_eq!(first["id"], "gorgias-7001");
        assert_eq!(first["created_at"], "2019-11-16T15:59:41.966Z");
        assert_eq!(first["channel"], "email");
        assert_eq!(first["team"], "Retouren");
        assert_eq!(
            [
                &first["customer_email"],
                &first["customer_name"],
                &first["customer_language"]
            ],
            [&json!("noor@example.nl"), &json!("Noor"), &json!("nl")]
        );
        // The older `requester` object; a language that is no tag is left out.
        assert_eq!(records[1]["customer_email"], "sem@example.nl");
        assert!(records[1].get("customer_language").is_none());
        assert_eq!(
            first["tags"],
            json!(["maat", "priority-high", "channel-contact-form"])
        );
        assert_eq!(first["messages"][0]["author"], "customer");
        assert_eq!(first["messages"][1]["author"], "agent");
        // An offset given is kept.
        assert_eq!(first["messages"][1]["at"], "2019-11-16T16:30:00+01:00");
        assert_eq!(
            first["events"],
            json!([{"at": "2019-11-16T17:00:00Z", "event": "resolved"}])
        );
        assert_eq!(records[1]["id"], "gorgias-7002");
        assert_eq!(
            records[2],
            &json!({"type": "survey", "conversation": "gorgias-7001", "at": "2019-11-25T15:59:41.966Z",
                    "kind": "csat", "score": 2, "scale": [1, 5], "comment": "Such speed"})
        );
        for r in &t.records {
            r.parse().expect("a valid canonical record");
        }
    }

    #[test]
    fn times_without_offset_follow_the_timezone_only_when_given() {
        let given = SourceOptions {
            timezone: TimeZone::get("Europe/Amsterdam").unwrap(),
            timezone_given: true,
            ..SourceOptions::default()
        };
        let t = run(&[("tickets.json", TICKETS)], &given);
        assert_eq!(
            t.records[0].record["created_at"],
            "2019-11-16T14:59:41.966Z"
        );
        let default = run(&[("tickets.json", TICKETS)], &SourceOptions::default());
        assert_eq!(
            default.records[0].record["created_at"], "2019-11-16T15:59:41.966Z",
            "the workspace's zone is not the vendor's"
        );
    }

    #[test]
    fn messages_pages_and_bad_items_are_per_item() {
        let t = run(
            &[
                (
                    "messages.json",
                    r#"{"data": [
                    {"id": 10, "ticket_id": 7002, "from_agent": false, "public": true, "sender": {"name": "Lars"},
                     "created_datetime": "2019-11-17T09:00:00", "body_text": "Mag ik een factuur?"},
                    {"id": 11, "ticket_id": 7003, "public": true, "body_text": "no from_agent",
                     "created_datetime": "2019-11-17T09:00:00"},
                    {"foo": 1}
                ]}"#,
                ),
                (
                    "survey.json",
                    r#"{"id": 1234, "body_text": "cut off", "score": 2,
                        "scored_datetime": "2019-11-25T15:59:41.966927"}"#,
                ),
            ],
            &SourceOptions::default(),
        );
        assert_eq!(t.records.len(), 1);
        assert_eq!(t.records[0].record["author"], "customer");
        let failures = places(&t.failures);
        assert_eq!(
            failures,
            [
                ("data[1]".into(), "from_agent".into()),
                ("data[2]".into(), "".into()),
                ("".into(), "ticket_id".into()),
            ]
        );
    }
}
