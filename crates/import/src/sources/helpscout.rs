//! Help Scout: conversations of the Mailbox API 2.0 with their threads embedded
//! (`GET /v2/conversations?embed=threads`: `{"_embedded": {"conversations": [...]}}`, or a
//! single conversation per file), and happiness ratings (`{"ratings": [...]}` pages).
//!
//! Threads: `customer` = customer message; `message`, `reply`, `chat` or `phone` by a user =
//! agent message (by a customer = customer message); `note` = note. Each thread carries the
//! conversation's status after it: becoming `closed` = resolved, leaving `closed` = reopened;
//! a new `assignedTo` = assigned. Ratings Great / Okay / Not Good = CSAT 3 / 2 / 1.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::json_pages::{Items, id_text, load, text};
use super::{SourceError, Translated};

fn person(v: &Value) -> Option<String> {
    let first = v["first"].as_str().unwrap_or("").trim();
    let last = v["last"].as_str().unwrap_or("").trim();
    let name = format!("{first} {last}").trim().to_string();
    if name.is_empty() {
        text(v, "email").map(str::to_string)
    } else {
        Some(name)
    }
}

/// Help Scout's conversation `type` or `source.type` as a channel.
pub fn channel(kind: &str) -> &'static str {
    match kind {
        "chat" | "beacon" | "beacon-v2" => "chat",
        "phone" => "phone",
        "email" | "web" | "api" | "" => "email",
        _ => "email",
    }
}

/// A happiness rating as CSAT on [1, 3].
pub fn happiness(rating: &str) -> Option<i64> {
    match rating
        .to_ascii_lowercase()
        .replace(['-', '_'], " ")
        .as_str()
    {
        "great" => Some(3),
        "okay" | "ok" => Some(2),
        "not good" | "bad" => Some(1),
        _ => None,
    }
}

/// Conversations and ratings, each with file and place.
fn read(files: &[PathBuf]) -> Result<(Items, Items), SourceError> {
    let mut conversations = Vec::new();
    let mut ratings = Vec::new();
    for page in load(files)? {
        let name = page.name;
        let value = page.value;
        let embedded = &value["_embedded"];
        if let Some(items) = embedded["conversations"]
            .as_array()
            .or(value["conversations"].as_array())
        {
            for (i, c) in items.iter().enumerate() {
                conversations.push((name.clone(), format!("conversations[{i}]"), c.clone()));
            }
        } else if let Some(items) = value["ratings"]
            .as_array()
            .or(embedded["ratings"].as_array())
            .or(value["results"].as_array())
        {
            for (i, r) in items.iter().enumerate() {
                ratings.push((name.clone(), format!("ratings[{i}]"), r.clone()));
            }
        } else if value["_embedded"]["threads"].is_array() || value["threads"].is_array() {
            conversations.push((name.clone(), "conversation".into(), value));
        } else {
            return Err(SourceError::new(
                &name,
                "",
                "",
                "holds no conversations, ratings or a conversation with threads",
            ));
        }
    }
    Ok((conversations, ratings))
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
    let (conversations, ratings) = read(files)?;
    let mut out = Vec::new();
    for (file, place, c) in conversations {
        let err = |field: &str, reason: String| SourceError::new(&file, &place, field, reason);
        let id = id_text(&c["id"]).ok_or_else(|| err("id", "missing".into()))?;
        let conversation = format!("hs-{id}");
        let created = text(&c, "createdAt").ok_or_else(|| err("createdAt", "missing".into()))?;
        let kind = c["source"]["type"]
            .as_str()
            .or(c["type"].as_str())
            .unwrap_or("");
        let mut header = json!({
            "type": "conversation",
            "id": conversation,
            "channel": channel(kind),
            "created_at": created,
        });
        if let Some(subject) = text(&c, "subject") {
            header["subject"] = Value::from(subject);
        }
        if let Some(tags) = c["tags"].as_array() {
            let names: Vec<Value> = tags
                .iter()
                .filter_map(|t| text(t, "tag").or(text(t, "name")))
                .map(Value::from)
                .collect();
            header["tags"] = Value::from(names);
        }
        if let Some(customer) = person(&c["primaryCustomer"]) {
            header["customer"] = Value::from(customer);
        }
        if let Some(assignee) = person(&c["assignee"]) {
            header["agent"] = Value::from(assignee);
        }
        let mut threads = c["_embedded"]["threads"]
            .as_array()
            .or(c["threads"].as_array())
            .cloned()
            .unwrap_or_default();
        // Help Scout lists threads newest first.
        threads.sort_by(|a, b| a["createdAt"].as_str().cmp(&b["createdAt"].as_str()));
        let mut messages = Vec::new();
        let mut events = Vec::new();
        let mut status = "active".to_string();
        let mut assigned: Option<String> = None;
        for (k, t) in threads.iter().enumerate() {
            let field = |f: &str| format!("threads[{k}].{f}");
            let at =
                text(t, "createdAt").ok_or_else(|| err(&field("createdAt"), "missing".into()))?;
            let by_customer = t["createdBy"]["type"].as_str() == Some("customer");
            let author = match t["type"].as_str().unwrap_or("") {
                "customer" => Some("customer"),
                "note" => Some("note"),
                "message" | "reply" | "chat" | "phone" => {
                    Some(if by_customer { "customer" } else { "agent" })
                }
                "lineitem" | "forwardparent" | "forwardchild" | "beaconchat" => None,
                other => {
                    return Err(err(
                        &field("type"),
                        format!(
                            "'{other}' is not a thread type servicemeter knows (customer, message, reply, chat, phone, note, lineitem)"
                        ),
                    ));
                }
            };
            if let Some(author) = author {
                let mut m = json!({"at": at, "author": author});
                if let Some(tid) = id_text(&t["id"]) {
                    m["id"] = Value::from(format!("hs-thread-{tid}"));
                }
                if author != "customer"
                    && let Some(name) = person(&t["createdBy"])
                {
                    m["agent"] = Value::from(name);
                }
                if let Some(body) = text(t, "body") {
                    m["text"] = Value::from(body);
                }
                messages.push(m);
            }
            if let Some(new_status) = text(t, "status") {
                if new_status == "closed" && status != "closed" {
                    events.push(json!({"at": at, "event": "resolved"}));
                } else if new_status != "closed" && status == "closed" {
                    events.push(json!({"at": at, "event": "reopened"}));
                }
                status = new_status.to_string();
            }
            let now_assigned = person(&t["assignedTo"]);
            if now_assigned.is_some() && now_assigned != assigned {
                events.push(json!({"at": at, "event": "assigned", "agent": now_assigned.clone()}));
                assigned = now_assigned;
            }
        }
        header["messages"] = Value::from(messages);
        header["events"] = Value::from(events);
        out.push(Translated {
            file,
            place,
            record: header,
        });
    }
    for (file, place, r) in ratings {
        let err = |field: &str, reason: String| SourceError::new(&file, &place, field, reason);
        let conversation = id_text(&r["conversationId"])
            .or_else(|| id_text(&r["id"]))
            .ok_or_else(|| err("conversationId", "missing".into()))?;
        let value = r["rating"].as_str().or(r["type"].as_str()).unwrap_or("");
        let score = happiness(value).ok_or_else(|| {
            err(
                "rating",
                format!("'{value}' is not Great, Okay or Not Good"),
            )
        })?;
        let at = text(&r, "ratingCreatedAt")
            .or(text(&r, "createdAt"))
            .ok_or_else(|| err("ratingCreatedAt", "missing".into()))?;
        let mut survey = json!({
            "type": "survey",
            "conversation": format!("hs-{conversation}"),
            "at": at,
            "kind": "csat",
            "score": score,
            "scale": [1, 3],
        });
        if let Some(comment) = text(&r, "ratingComments").or(text(&r, "comments")) {
            survey["comment"] = Value::from(comment);
        }
        out.push(Translated {
            file,
            place,
            record: survey,
        });
    }
    Ok(out)
}
