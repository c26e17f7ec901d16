//! Gorgias: API JSON — tickets (`{"data": [...]}` pages of `GET /api/tickets`, or single tickets
//! with their `messages`), messages (`{"data": [...]}` with `ticket_id`) and satisfaction
//! surveys (`GET /api/satisfaction-surveys`); what a file holds is read from its items.
//!
//! Messages: `from_agent: false` = customer; `from_agent` and `public: false` = note; sent by a
//! rule (`via` "rule" or a `rule_id`) = bot; other agent messages = agent. A closed ticket is
//! resolved at `closed_datetime`. Survey `score` 1–5 = CSAT.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::json_pages::{Items, id_text, load, text};
use super::{SourceError, Translated};

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

fn message_record(conversation: &str, m: &Value) -> Result<Value, (String, String)> {
    let author = role(m).map_err(|r| ("from_agent".to_string(), r))?;
    let at = text(m, "created_datetime")
        .ok_or(("created_datetime".to_string(), "missing".to_string()))?;
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

fn read(files: &[PathBuf]) -> Result<(Items, Items, Items), SourceError> {
    let (mut tickets, mut messages, mut surveys) = (Vec::new(), Vec::new(), Vec::new());
    for page in load(files)? {
        let name = page.name;
        let value = page.value;
        let items = match value["data"].as_array() {
            Some(items) => items.clone(),
            None if value.get("messages").is_some() => vec![value],
            None => {
                return Err(SourceError::new(
                    &name,
                    "",
                    "",
                    "holds no data array and is not a ticket",
                ));
            }
        };
        for (i, item) in items.into_iter().enumerate() {
            let place = format!("data[{i}]");
            if item.get("score").is_some() {
                surveys.push((name.clone(), place, item));
            } else if item.get("from_agent").is_some() {
                messages.push((name.clone(), place, item));
            } else if item.get("created_datetime").is_some() {
                tickets.push((name.clone(), place, item));
            } else {
                return Err(SourceError::new(
                    &name,
                    place,
                    "",
                    "neither a ticket, a message nor a satisfaction survey",
                ));
            }
        }
    }
    Ok((tickets, messages, surveys))
}

pub fn translate(files: &[PathBuf]) -> Result<Vec<Translated>, SourceError> {
    let (tickets, messages, surveys) = read(files)?;
    let mut out = Vec::new();
    for (file, place, t) in tickets {
        let err = |field: &str, reason: String| SourceError::new(&file, &place, field, reason);
        let id = id_text(&t["id"]).ok_or_else(|| err("id", "missing".into()))?;
        let conversation = format!("gorgias-{id}");
        let mut header = json!({
            "type": "conversation",
            "id": conversation,
            "channel": channel(t["channel"].as_str().unwrap_or("")),
            "created_at": text(&t, "created_datetime").ok_or_else(|| err("created_datetime", "missing".into()))?,
        });
        if let Some(subject) = text(&t, "subject") {
            header["subject"] = Value::from(subject);
        }
        if let Some(name) = text(&t["customer"], "name") {
            header["customer"] = Value::from(name);
        }
        if let Some(name) = text(&t["assignee_user"], "name") {
            header["agent"] = Value::from(name);
        }
        if let Some(tags) = t["tags"].as_array() {
            let names: Vec<Value> = tags
                .iter()
                .filter_map(|g| text(g, "name"))
                .map(Value::from)
                .collect();
            header["tags"] = Value::from(names);
        }
        let mut embedded = Vec::new();
        for (k, m) in t["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let mut record = message_record(&conversation, m)
                .map_err(|(f, r)| err(&format!("messages[{k}].{f}"), r))?;
            // Inside the conversation record: without type and conversation.
            if let Some(o) = record.as_object_mut() {
                o.remove("type");
                o.remove("conversation");
            }
            embedded.push(record);
        }
        header["messages"] = Value::from(embedded);
        if t["status"].as_str() == Some("closed") {
            let at = text(&t, "closed_datetime")
                .ok_or_else(|| err("closed_datetime", "a closed ticket needs it".into()))?;
            header["events"] = json!([{"at": at, "event": "resolved"}]);
        }
        out.push(Translated {
            file,
            place,
            record: header,
        });
    }
    for (file, place, m) in messages {
        let err = |field: &str, reason: String| SourceError::new(&file, &place, field, reason);
        let ticket = id_text(&m["ticket_id"]).ok_or_else(|| err("ticket_id", "missing".into()))?;
        let record =
            message_record(&format!("gorgias-{ticket}"), &m).map_err(|(f, r)| err(&f, r))?;
        out.push(Translated {
            file,
            place,
            record,
        });
    }
    for (file, place, s) in surveys {
        let err = |field: &str, reason: String| SourceError::new(&file, &place, field, reason);
        let Some(score) = s["score"].as_i64() else {
            // Sent but not answered.
            continue;
        };
        let ticket = id_text(&s["ticket_id"]).ok_or_else(|| err("ticket_id", "missing".into()))?;
        let mut survey = json!({
            "type": "survey",
            "conversation": format!("gorgias-{ticket}"),
            "at": text(&s, "scored_datetime").ok_or_else(|| err("scored_datetime", "missing".into()))?,
            "kind": "csat",
            "score": score,
            "scale": [1, 5],
        });
        if let Some(body) = text(&s, "body_text") {
            survey["comment"] = Value::from(body);
        }
        out.push(Translated {
            file,
            place,
            record: survey,
        });
    }
    Ok(out)
}
