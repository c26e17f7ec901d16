//! Chatwoot: API JSON of an account — conversations (`{"data": {"payload": [...]}}` pages),
//! their messages (`{"payload": [...]}` of `GET …/conversations/{id}/messages`) and CSAT survey
//! responses; what a file holds is read from its items.
//!
//! Messages: `message_type` 0 incoming = customer; 1 outgoing by a user = agent, by an agent
//! bot = bot; `private` = note; 2 activity and 3 template messages are Chatwoot's own notices,
//! except that activities saying a conversation was resolved or reopened give those events.
//! Times in the API are Unix seconds (webhooks send ISO strings; both are read).
//!
//! Status events are stamped at the activity message's `created_at`: the instant Chatwoot
//! gives for the change in its own records (the conversation item's `status` has no time and
//! gives no event). Replies by an agent bot or by Chatwoot's AI assistant (Captain) are bot
//! messages. Each item is translated on its own: one that cannot be read is a failure with
//! its place (`payload[3]`), the others go on.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::json_pages::{Items, id_text, load, text, unix_time};
use super::{SourceError, SourceOptions, Translated, Translation, put_contact};

/// A Chatwoot channel class (`Channel::WebWidget`) as a servicemeter channel.
pub fn channel(class: &str) -> String {
    let name = class.strip_prefix("Channel::").unwrap_or(class);
    match name {
        "WebWidget" | "Api" | "" => "chat".into(),
        "Email" => "email".into(),
        "Whatsapp" => "whatsapp".into(),
        "FacebookPage" | "Instagram" | "TwitterProfile" | "Telegram" | "Line" => "social".into(),
        "Sms" | "TwilioSms" => "sms".into(),
        "Voice" => "phone".into(),
        other => other.to_lowercase(),
    }
}

/// A Chatwoot time: Unix seconds, RFC 3339, or `2020-03-03 13:05:57 UTC`.
pub fn time(value: &Value) -> Option<String> {
    if let Some(t) = unix_time(value).filter(|_| {
        !value.is_string()
            || value
                .as_str()
                .is_some_and(|s| s.chars().all(|c| c.is_ascii_digit()))
    }) {
        return Some(t);
    }
    let text = value.as_str()?.trim();
    if let Some(plain) = text.strip_suffix(" UTC") {
        return Some(format!("{}Z", plain.replace(' ', "T")));
    }
    Some(text.to_string())
}

/// The role of a message, or `None` for Chatwoot's own notices.
pub fn author(message: &Value) -> Result<Option<&'static str>, String> {
    let kind = match &message["message_type"] {
        Value::Number(n) => n.as_i64().unwrap_or(-1),
        Value::String(s) => match s.as_str() {
            "incoming" => 0,
            "outgoing" => 1,
            "activity" => 2,
            "template" => 3,
            _ => -1,
        },
        _ => -1,
    };
    let sender = message["sender"]["type"]
        .as_str()
        .or(message["sender_type"].as_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    // `sender.type` is `agent_bot` or `captain_assistant` (webhooks, messages pages);
    // `sender_type` the class, `AgentBot` or `Captain::Assistant`.
    let bot = matches!(
        sender.as_str(),
        "agent_bot" | "agentbot" | "captain_assistant" | "captain::assistant"
    );
    Ok(match kind {
        _ if message["private"].as_bool() == Some(true) && kind != 2 => Some("note"),
        0 => Some("customer"),
        1 if bot => Some("bot"),
        1 => Some("agent"),
        2 | 3 => None,
        _ => {
            return Err(format!(
                "{} is not 0 incoming, 1 outgoing, 2 activity or 3 template",
                message["message_type"]
            ));
        }
    })
}

/// The event an activity message stands for (Chatwoot writes them in English):
/// "Conversation was marked resolved by …", "Conversation was reopened by …",
/// "Assigned to NAME by …". `None` for the others.
pub fn activity(content: &str) -> Option<Value> {
    let lower = content.to_ascii_lowercase();
    if lower.contains("marked resolved") || lower.contains("was resolved") {
        return Some(json!({"type": "event", "event": "resolved"}));
    }
    if lower.contains("reopened") {
        return Some(json!({"type": "event", "event": "reopened"}));
    }
    let rest = content.trim().strip_prefix("Assigned to ")?;
    let name = rest.rsplit_once(" by ").map_or(rest, |(n, _)| n).trim();
    (!name.is_empty()).then(|| json!({"type": "event", "event": "assigned", "agent": name}))
}

/// Conversations, messages and CSAT responses, each with file and place; items that are
/// none of them are failures.
fn read(files: &[PathBuf]) -> Result<(Items, Items, Items, Vec<SourceError>), SourceError> {
    let (mut conversations, mut messages, mut ratings) = (Vec::new(), Vec::new(), Vec::new());
    let mut unknown = Vec::new();
    for page in load(files)? {
        let name = page.name;
        let value = page.value;
        let items = value["data"]["payload"]
            .as_array()
            .or(value["payload"].as_array())
            .or(value.as_array())
            .cloned()
            .ok_or_else(|| SourceError::new(&name, "", "", "holds no payload array"))?;
        for (i, item) in items.into_iter().enumerate() {
            let place = format!("payload[{i}]");
            if item.get("message_type").is_some() {
                messages.push((name.clone(), place, item));
            } else if item.get("rating").is_some() {
                ratings.push((name.clone(), place, item));
            } else if item.get("inbox_id").is_some() || item.get("meta").is_some() {
                conversations.push((name.clone(), place, item));
            } else {
                unknown.push(SourceError::new(
                    &name,
                    place,
                    "",
                    "neither a conversation, a message nor a CSAT response",
                ));
            }
        }
    }
    Ok((conversations, messages, ratings, unknown))
}

pub fn translate(files: &[PathBuf], _options: &SourceOptions) -> Result<Translation, SourceError> {
    let (conversations, messages, ratings, unknown) = read(files)?;
    let mut out = Translation {
        failures: unknown,
        ..Translation::default()
    };
    let mut push =
        |file: String, place: String, result: Result<Option<Value>, SourceError>| match result {
            Ok(Some(record)) => out.records.push(Translated {
                file,
                place,
                record,
            }),
            Ok(None) => {}
            Err(e) => out.failures.push(e),
        };
    for (file, place, c) in conversations {
        let result = conversation(&file, &place, &c).map(Some);
        push(file, place, result);
    }
    for (file, place, m) in messages {
        let result = message(&file, &place, &m);
        push(file, place, result);
    }
    for (file, place, r) in ratings {
        let result = rating(&file, &place, &r).map(Some);
        push(file, place, result);
    }
    Ok(out)
}

/// A conversation item as a canonical conversation record.
fn conversation(file: &str, place: &str, c: &Value) -> Result<Value, SourceError> {
    let err = |field: &str, reason: &str| SourceError::new(file, place, field, reason);
    let id = id_text(&c["id"]).ok_or_else(|| err("id", "missing"))?;
    // Older payloads have no `created_at`; their `timestamp` (the last activity) stands in.
    let created = time(&c["created_at"])
        .or_else(|| time(&c["timestamp"]))
        .ok_or_else(|| err("created_at", "missing (and no timestamp)"))?;
    let class = c["meta"]["channel"]
        .as_str()
        .or(c["channel"].as_str())
        .unwrap_or("");
    let mut header = json!({
        "type": "conversation",
        "id": format!("chatwoot-{id}"),
        "channel": channel(class),
        "created_at": created,
    });
    if let Some(name) = text(&c["meta"]["assignee"], "name") {
        header["agent"] = Value::from(name);
    }
    if let Some(name) = text(&c["meta"]["sender"], "name") {
        header["customer"] = Value::from(name);
    }
    put_sender_contact(&mut header, c);
    if let Some(name) = text(&c["meta"]["team"], "name") {
        header["team"] = Value::from(name);
    }
    header["tags"] = Value::from(tags(c));
    Ok(header)
}

/// A conversation's tags: its labels, `inbox-<id>` and `priority-<p>` (imports and the
/// webhook receiver alike).
pub fn tags(c: &Value) -> Vec<Value> {
    let mut tags: Vec<Value> = c["labels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| l.is_string())
        .cloned()
        .collect();
    if let Some(inbox) = id_text(&c["inbox_id"]) {
        tags.push(Value::from(format!("inbox-{inbox}")));
    }
    if let Some(priority) = text(c, "priority") {
        tags.push(Value::from(format!("priority-{priority}")));
    }
    tags
}

/// A message item as a flat message record, an event (for status and assignment
/// activities), or nothing (Chatwoot's other notices).
fn message(file: &str, place: &str, m: &Value) -> Result<Option<Value>, SourceError> {
    let err = |field: &str, reason: String| SourceError::new(file, place, field, reason);
    // A message_created webhook payload carries the conversation instead of its id.
    let conversation = id_text(&m["conversation_id"])
        .or_else(|| id_text(&m["conversation"]["id"]))
        .ok_or_else(|| err("conversation_id", "missing".into()))?;
    let at = time(&m["created_at"]).ok_or_else(|| err("created_at", "missing".into()))?;
    let conversation = format!("chatwoot-{conversation}");
    Ok(match author(m).map_err(|r| err("message_type", r))? {
        Some(role) => {
            let mut message =
                json!({"type": "message", "conversation": conversation, "at": at, "author": role});
            if let Some(mid) = id_text(&m["id"]) {
                // The same id as the webhook receiver gives, so both paths merge.
                message["id"] = Value::from(format!("chatwoot-message-{mid}"));
            }
            if matches!(role, "agent" | "note")
                && let Some(name) = text(&m["sender"], "name")
            {
                message["agent"] = Value::from(name);
            }
            if let Some(content) = text(m, "content") {
                message["text"] = Value::from(content);
            }
            Some(message)
        }
        None => activity(m["content"].as_str().unwrap_or("")).map(|mut record| {
            record["conversation"] = Value::from(conversation);
            // The activity message's own time: the instant Chatwoot recorded the change.
            record["at"] = Value::from(at);
            record
        }),
    })
}

/// A CSAT survey response as a flat survey record.
fn rating(file: &str, place: &str, r: &Value) -> Result<Value, SourceError> {
    let err = |field: &str, reason: String| SourceError::new(file, place, field, reason);
    let conversation =
        id_text(&r["conversation_id"]).ok_or_else(|| err("conversation_id", "missing".into()))?;
    let score = r["rating"]
        .as_i64()
        .filter(|s| (1..=5).contains(s))
        .ok_or_else(|| {
            err(
                "rating",
                format!("{} is not a rating from 1 to 5", r["rating"]),
            )
        })?;
    let at = time(&r["created_at"]).ok_or_else(|| err("created_at", "missing".into()))?;
    Ok(super::csat_survey(
        &format!("chatwoot-{conversation}"),
        &at,
        score,
        5,
        text(r, "feedback_message"),
    ))
}

/// The customer's address, name and language of a Chatwoot conversation (its `meta.sender`, and
/// the widget's `additional_attributes.browser_language`) into a conversation record; the
/// import and the webhook both use it.
pub fn put_sender_contact(header: &mut Value, conversation: &Value) {
    let sender = &conversation["meta"]["sender"];
    put_contact(
        header,
        text(sender, "email"),
        text(sender, "name").filter(|n| !is_generated_visitor_name(n)),
        text(&conversation["additional_attributes"], "browser_language"),
    );
}

/// Whether a name is one Chatwoot gives an anonymous widget visitor (`little-haze-776`: two
/// lowercase words and a number): no name to address a customer by.
pub fn is_generated_visitor_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() == 3
        && parts[..2]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && !parts[2].is_empty()
        && parts[2].chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_support::*;

    fn run(files: &[(&str, &str)]) -> Result<Translation, SourceError> {
        let (_dir, paths) = write_files(files);
        translate(&paths, &SourceOptions::default())
    }

    const CONVERSATIONS: &str = r#"{"data": {"payload": [
      {"id": 24, "inbox_id": 17, "channel": "Channel::Whatsapp", "created_at": 1696896133,
       "timestamp": 1696896269, "status": "open", "priority": "high", "labels": ["retour"],
       "meta": {"sender": {"name": "Ana", "type": "contact", "email": null, "phone_number": "+351"},
                "assignee": {"name": "Rui", "type": "user"}, "team": {"id": 2, "name": "Sales"}},
       "additional_attributes": {}},
      {"id": 10, "inbox_id": 1, "channel": "Channel::WebWidget", "timestamp": 1627063369,
       "meta": {"sender": {"name": "little-haze-776", "email": "jane@example.com"}},
       "additional_attributes": {"browser_language": "en"}}
    ]}}"#;

    const MESSAGES: &str = r#"{"payload": [
      {"id": 1, "conversation_id": 24, "message_type": 0, "created_at": 1696896133, "content": "hola",
       "sender": {"id": 89, "name": "Ana", "type": "contact"}},
      {"id": 2, "conversation_id": 24, "message_type": 1, "created_at": 1696896140, "content": "¡Hola!",
       "sender_type": "Captain::Assistant", "sender": {"id": 1, "name": "Captain", "type": "captain_assistant"}},
      {"id": 3, "conversation_id": 24, "message_type": 1, "created_at": 1696896150, "sender_type": "AgentBot"},
      {"id": 4, "conversation_id": 24, "message_type": 2, "created_at": 1696896200,
       "content": "Conversation was marked resolved by Rui"},
      {"id": 118, "content": "hi", "created_at": "2021-07-23T18:02:48.000Z", "message_type": "incoming",
       "sender": {"id": 14, "name": "little-haze-776", "type": "contact"},
       "conversation": {"id": 10, "inbox_id": 1}, "event": "message_created"}
    ]}"#;

    #[test]
    fn assistant_replies_are_bot_messages_and_status_events_keep_chatwoots_instant() {
        let t = run(&[
            ("conversations.json", CONVERSATIONS),
            ("messages.json", MESSAGES),
        ])
        .unwrap();
        assert!(t.failures.is_empty(), "{:?}", t.failures);
        for r in &t.records {
            r.parse().unwrap();
        }
        let records: Vec<&Value> = t.records.iter().map(|r| &r.record).collect();
        let c = records[0];
        assert_eq!(c["tags"], json!(["retour", "inbox-17", "priority-high"]));
        assert_eq!(c["team"], "Sales");
        assert_eq!(c["agent"], "Rui");
        assert_eq!(c["customer_name"], "Ana");
        assert!(
            c.get("customer_email").is_none(),
            "a WhatsApp contact without one"
        );
        let older = records[1];
        assert_eq!(older["customer_email"], "jane@example.com");
        assert_eq!(older["customer_language"], "en");
        assert!(
            older.get("customer_name").is_none(),
            "a generated visitor name is no name to address anyone by"
        );
        assert_eq!(
            older["created_at"], "2021-07-23T18:02:49Z",
            "from timestamp"
        );
        assert_eq!(older["channel"], "chat");
        let authors: Vec<&str> = records[2..]
            .iter()
            .map(|r| r["author"].as_str().or(r["event"].as_str()).unwrap())
            .collect();
        assert_eq!(authors, ["customer", "bot", "bot", "resolved", "customer"]);
        assert_eq!(records[5]["at"], "2023-10-10T00:03:20Z");
        assert_eq!(records[6]["conversation"], "chatwoot-10");
        assert_eq!(records[6]["at"], "2021-07-23T18:02:48.000Z");
    }

    #[test]
    fn generated_visitor_names() {
        assert!(is_generated_visitor_name("little-haze-776"));
        assert!(!is_generated_visitor_name("Ana"));
        assert!(!is_generated_visitor_name("jan-willem"));
        assert!(!is_generated_visitor_name("Little-Haze-776"));
        assert!(!is_generated_visitor_name("Anne-Marie de Vries"));
    }

    #[test]
    fn a_bad_item_is_a_failure_and_the_rest_goes_on() {
        let page = r#"{"payload": [
          {"id": 1, "message_type": 0, "created_at": 1696896133},
          {"id": 2, "conversation_id": 5, "message_type": 7, "created_at": 1696896133},
          {"id": 3, "conversation_id": 5, "message_type": 0},
          {"id": 4, "conversation_id": 5, "message_type": 0, "created_at": 1696896133},
          {"hello": "world"},
          {"id": 9, "conversation_id": 5, "rating": 6, "created_at": 1696896133}
        ]}"#;
        let t = run(&[("messages.json", page)]).unwrap();
        let failures = places(&t.failures);
        assert_eq!(
            failures,
            [
                ("payload[4]".into(), "".into()),
                ("payload[0]".into(), "conversation_id".into()),
                ("payload[1]".into(), "message_type".into()),
                ("payload[2]".into(), "created_at".into()),
                ("payload[5]".into(), "rating".into()),
            ]
        );
        assert_eq!(t.records.len(), 1);
        assert_eq!(t.records[0].place, "payload[3]");
        let whole = run(&[("x.json", r#"{"data": {}}"#)]).unwrap_err();
        assert_eq!(whole.reason, "holds no payload array");
    }
}
