//! Chatwoot: API JSON of an account — conversations (`{"data": {"payload": [...]}}` pages),
//! their messages (`{"payload": [...]}` of `GET …/conversations/{id}/messages`) and CSAT survey
//! responses; what a file holds is read from its items.
//!
//! Messages: `message_type` 0 incoming = customer; 1 outgoing by a user = agent, by an agent
//! bot = bot; `private` = note; 2 activity and 3 template messages are Chatwoot's own notices,
//! except that activities saying a conversation was resolved or reopened give those events.
//! Times in the API are Unix seconds (webhooks send ISO strings; both are read).

use std::path::PathBuf;

use serde_json::{Value, json};

use super::json_pages::{Items, id_text, load, text, unix_time};
use super::{SourceError, Translated};

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
    Ok(match kind {
        _ if message["private"].as_bool() == Some(true) && kind != 2 => Some("note"),
        0 => Some("customer"),
        1 if sender == "agent_bot" || sender == "agentbot" => Some("bot"),
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

fn read(files: &[PathBuf]) -> Result<(Items, Items, Items), SourceError> {
    let (mut conversations, mut messages, mut ratings) = (Vec::new(), Vec::new(), Vec::new());
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
                return Err(SourceError::new(
                    &name,
                    place,
                    "",
                    "neither a conversation, a message nor a CSAT response",
                ));
            }
        }
    }
    Ok((conversations, messages, ratings))
}

/// The records of `files`; a problem anywhere stops the translation (no per-conversation
/// failures yet).
pub fn translate(
    files: &[PathBuf],
    _options: &super::SourceOptions,
) -> Result<super::Translation, SourceError> {
    Ok(super::Translation {
        records: translate_records(files)?,
        ..super::Translation::default()
    })
}

fn translate_records(files: &[PathBuf]) -> Result<Vec<Translated>, SourceError> {
    let (conversations, messages, ratings) = read(files)?;
    let mut out = Vec::new();
    for (file, place, c) in conversations {
        let err = |field: &str, reason: &str| SourceError::new(&file, &place, field, reason);
        let id = id_text(&c["id"]).ok_or_else(|| err("id", "missing"))?;
        let created = time(&c["created_at"]).ok_or_else(|| err("created_at", "missing"))?;
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
        if let Some(labels) = c["labels"].as_array() {
            header["tags"] = Value::from(labels.clone());
        }
        out.push(Translated {
            file,
            place,
            record: header,
        });
    }
    for (file, place, m) in messages {
        let err = |field: &str, reason: String| SourceError::new(&file, &place, field, reason);
        let conversation = id_text(&m["conversation_id"])
            .ok_or_else(|| err("conversation_id", "missing".into()))?;
        let at = time(&m["created_at"]).ok_or_else(|| err("created_at", "missing".into()))?;
        let conversation = format!("chatwoot-{conversation}");
        match author(&m).map_err(|r| err("message_type", r))? {
            Some(role) => {
                let mut message = json!({"type": "message", "conversation": conversation, "at": at, "author": role});
                if let Some(mid) = id_text(&m["id"]) {
                    // The same id as the webhook receiver gives, so both paths merge.
                    message["id"] = Value::from(format!("chatwoot-message-{mid}"));
                }
                if matches!(role, "agent" | "note")
                    && let Some(name) = text(&m["sender"], "name")
                {
                    message["agent"] = Value::from(name);
                }
                if let Some(content) = text(&m, "content") {
                    message["text"] = Value::from(content);
                }
                out.push(Translated {
                    file,
                    place,
                    record: message,
                });
            }
            None => {
                if let Some(mut record) = activity(m["content"].as_str().unwrap_or("")) {
                    record["conversation"] = Value::from(conversation);
                    record["at"] = Value::from(at);
                    out.push(Translated {
                        file,
                        place,
                        record,
                    });
                }
            }
        }
    }
    for (file, place, r) in ratings {
        let err = |field: &str, reason: String| SourceError::new(&file, &place, field, reason);
        let conversation = id_text(&r["conversation_id"])
            .ok_or_else(|| err("conversation_id", "missing".into()))?;
        let score = r["rating"]
            .as_i64()
            .ok_or_else(|| err("rating", "missing or not a number".into()))?;
        let mut survey = json!({
            "type": "survey",
            "conversation": format!("chatwoot-{conversation}"),
            "at": time(&r["created_at"]).ok_or_else(|| err("created_at", "missing".into()))?,
            "kind": "csat",
            "score": score,
            "scale": [1, 5],
        });
        if let Some(feedback) = text(&r, "feedback_message") {
            survey["comment"] = Value::from(feedback);
        }
        out.push(Translated {
            file,
            place,
            record: survey,
        });
    }
    Ok(out)
}
