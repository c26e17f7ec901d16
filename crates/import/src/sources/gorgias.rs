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
use super::{PerConversation, SourceError, SourceOptions, Translation};

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

/// Translates Gorgias pages saved as files. `Err` only for a file that cannot be read as pages;
/// a ticket, message or survey with a problem is a failure of its own (see [`Translation`]).
pub fn translate(files: &[PathBuf], _options: &SourceOptions) -> Result<Translation, SourceError> {
    let (tickets, messages, surveys) = read(files)?;
    let mut out = PerConversation::default();
    for (file, place, t) in tickets {
        let err = |field: &str, reason: String| SourceError::new(&file, &place, field, reason);
        let Some(id) = id_text(&t["id"]) else {
            out.fail(None, err("id", "missing".into()));
            continue;
        };
        let conversation = format!("gorgias-{id}");
        match ticket_record(&conversation, &t) {
            Ok(header) => out.record(&conversation, &file, &place, header),
            Err((field, reason)) => out.fail(Some(&conversation), err(&field, reason)),
        }
    }
    for (file, place, m) in messages {
        let err = |field: &str, reason: String| SourceError::new(&file, &place, field, reason);
        let Some(ticket) = id_text(&m["ticket_id"]) else {
            out.fail(None, err("ticket_id", "missing".into()));
            continue;
        };
        let conversation = format!("gorgias-{ticket}");
        match message_record(&conversation, &m) {
            Ok(record) => out.record(&conversation, &file, &place, record),
            Err((field, reason)) => out.fail(Some(&conversation), err(&field, reason)),
        }
    }
    for (file, place, s) in surveys {
        let err = |field: &str, reason: String| SourceError::new(&file, &place, field, reason);
        let Some(score) = s["score"].as_i64() else {
            // Sent but not answered.
            continue;
        };
        let Some(ticket) = id_text(&s["ticket_id"]) else {
            out.fail(None, err("ticket_id", "missing".into()));
            continue;
        };
        let conversation = format!("gorgias-{ticket}");
        let Some(at) = text(&s, "scored_datetime") else {
            out.fail(
                Some(&conversation),
                err("scored_datetime", "missing".into()),
            );
            continue;
        };
        let mut survey = json!({
            "type": "survey",
            "conversation": conversation,
            "at": at,
            "kind": "csat",
            "score": score,
            "scale": [1, 5],
        });
        if let Some(body) = text(&s, "body_text") {
            survey["comment"] = Value::from(body);
        }
        out.record(&conversation, &file, &place, survey);
    }
    Ok(out.finish())
}

/// A ticket's conversation record with its embedded messages, or the field and reason it cannot
/// be translated.
fn ticket_record(conversation: &str, t: &Value) -> Result<Value, (String, String)> {
    let created = text(t, "created_datetime")
        .ok_or_else(|| ("created_datetime".to_string(), "missing".to_string()))?;
    let mut header = json!({
        "type": "conversation",
        "id": conversation,
        "channel": channel(t["channel"].as_str().unwrap_or("")),
        "created_at": created,
    });
    if let Some(subject) = text(t, "subject") {
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
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let mut record =
            message_record(conversation, m).map_err(|(f, r)| (format!("messages[{k}].{f}"), r))?;
        // Inside the conversation record: without type and conversation.
        if let Some(o) = record.as_object_mut() {
            o.remove("type");
            o.remove("conversation");
        }
        embedded.push(record);
    }
    header["messages"] = Value::from(embedded);
    if t["status"].as_str() == Some("closed") {
        let at = text(t, "closed_datetime").ok_or_else(|| {
            (
                "closed_datetime".to_string(),
                "a closed ticket needs it".to_string(),
            )
        })?;
        header["events"] = json!([{"at": at, "event": "resolved"}]);
    }
    Ok(header)
}
