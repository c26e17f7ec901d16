//! Intercom: conversations as the API returns them (`GET /conversations/{id}` with its
//! `conversation_parts`), in files holding one conversation, `{"conversations": [...]}` pages,
//! or bare arrays; optional `admins` pages name the admins that parts refer to by id.
//!
//! Times are Unix seconds. Authors: user, lead or contact = customer; admin or team = agent;
//! bot = bot. Parts: comment = a message by its author; note = note; close = resolved; open =
//! reopened; assignment parts = assigned. `conversation_rating.rating` 1–5 = CSAT.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::json_pages::{id_text, read, text, unix_time};
use super::{SourceError, Translated};

fn author_role(author: &Value) -> Result<&'static str, String> {
    match author["type"].as_str() {
        Some("user" | "lead" | "contact") => Ok("customer"),
        Some("admin" | "team") => Ok("agent"),
        Some("bot") => Ok("bot"),
        other => Err(format!(
            "'{}' is not user, lead, contact, admin, team or bot",
            other.unwrap_or("")
        )),
    }
}

/// Intercom's `source.type` as a channel.
pub fn channel(source_type: &str) -> &'static str {
    match source_type {
        "email" => "email",
        "twitter" | "facebook" | "instagram" => "social",
        "whatsapp" => "whatsapp",
        "phone_call" | "phone" => "phone",
        "sms" => "sms",
        _ => "chat",
    }
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
    let mut by_kind = read(
        files,
        &["conversations", "admins"],
        Some(("conversation", "conversations")),
    )?;
    let admins: HashMap<String, String> = by_kind
        .remove("admins")
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(_, _, a)| Some((id_text(&a["id"])?, text(&a, "name")?.to_string())))
        .collect();
    let name_of = |author: &Value| -> Option<String> {
        text(author, "name")
            .map(str::to_string)
            .or_else(|| id_text(&author["id"]).and_then(|id| admins.get(&id).cloned()))
    };
    let mut out = Vec::new();
    for (file, place, c) in by_kind.remove("conversations").unwrap_or_default() {
        let err = |field: &str, reason: String| SourceError::new(&file, &place, field, reason);
        let id = id_text(&c["id"]).ok_or_else(|| err("id", "missing".into()))?;
        let conversation = format!("ic-{id}");
        let created = unix_time(&c["created_at"])
            .ok_or_else(|| err("created_at", "missing or not Unix seconds".into()))?;
        let source = &c["source"];
        let mut header = json!({
            "type": "conversation",
            "id": conversation,
            "channel": channel(source["type"].as_str().unwrap_or("")),
            "created_at": created,
        });
        if let Some(subject) = text(source, "subject") {
            header["subject"] = Value::from(subject);
        }
        if let Some(tags) = c["tags"]["tags"].as_array() {
            let names: Vec<Value> = tags
                .iter()
                .filter_map(|t| text(t, "name"))
                .map(Value::from)
                .collect();
            header["tags"] = Value::from(names);
        }
        if let Some(assignee) = id_text(&c["admin_assignee_id"]).and_then(|a| admins.get(&a)) {
            header["agent"] = Value::from(assignee.as_str());
        }
        let mut messages = Vec::new();
        let mut events = Vec::new();
        // The conversation's first message.
        if source.is_object() && !source["author"].is_null() {
            let role = author_role(&source["author"]).map_err(|r| err("source.author.type", r))?;
            if role == "customer"
                && let Some(name) = name_of(&source["author"])
            {
                header["customer"] = Value::from(name);
            }
            let mut m = json!({"at": created, "author": role, "id": format!("ic-{id}-source")});
            if role != "customer"
                && let Some(name) = name_of(&source["author"])
            {
                m["agent"] = Value::from(name);
            }
            if let Some(body) = text(source, "body") {
                m["text"] = Value::from(body);
            }
            messages.push(m);
        }
        let parts = c["conversation_parts"]["conversation_parts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for (k, part) in parts.iter().enumerate() {
            let field = |f: &str| format!("conversation_parts[{k}].{f}");
            let at = unix_time(&part["created_at"])
                .ok_or_else(|| err(&field("created_at"), "missing or not Unix seconds".into()))?;
            let kind = part["part_type"].as_str().unwrap_or("");
            match kind {
                "comment" | "quick_reply" | "note" => {
                    let role =
                        author_role(&part["author"]).map_err(|r| err(&field("author.type"), r))?;
                    let author = if kind == "note" { "note" } else { role };
                    let mut m = json!({"at": at, "author": author});
                    if let Some(pid) = id_text(&part["id"]) {
                        m["id"] = Value::from(format!("ic-part-{pid}"));
                    }
                    if author != "customer"
                        && let Some(name) = name_of(&part["author"])
                    {
                        m["agent"] = Value::from(name);
                    }
                    if let Some(body) = text(part, "body") {
                        m["text"] = Value::from(body);
                    }
                    messages.push(m);
                }
                "close" => events.push(json!({"at": at, "event": "resolved"})),
                "open" => events.push(json!({"at": at, "event": "reopened"})),
                "assignment"
                | "default_assignment"
                | "assign_and_reopen"
                | "away_mode_assignment" => {
                    let mut e = json!({"at": at, "event": "assigned"});
                    if let Some(name) = name_of(&part["assigned_to"]) {
                        e["agent"] = Value::from(name);
                    }
                    events.push(e);
                    if kind == "assign_and_reopen" {
                        events.push(json!({"at": at, "event": "reopened"}));
                    }
                }
                _ => {}
            }
        }
        header["messages"] = Value::from(messages);
        header["events"] = Value::from(events);
        let rating = &c["conversation_rating"];
        if let Some(score) = rating["rating"].as_i64() {
            let at = unix_time(&rating["created_at"])
                .ok_or_else(|| err("conversation_rating.created_at", "missing".into()))?;
            let mut survey = json!({"at": at, "kind": "csat", "score": score, "scale": [1, 5]});
            if let Some(remark) = text(rating, "remark") {
                survey["comment"] = Value::from(remark);
            }
            header["surveys"] = Value::from(vec![survey]);
        }
        out.push(Translated {
            file,
            place,
            record: header,
        });
    }
    Ok(out)
}
