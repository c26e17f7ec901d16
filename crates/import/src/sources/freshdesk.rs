//! Freshdesk: API JSON pages saved as files — `tickets` (listed with `include=stats`, or single
//! tickets), `conversations` (each ticket's, with `ticket_id`), `agents`, `contacts` and
//! `satisfaction_ratings`; a file may hold a bare array of one kind, named by its file name
//! (`tickets*.json`, `conversations*.json`, …), or an object with those keys.
//!
//! The ticket's description is the requester's first message at creation. In conversations
//! `incoming: true` = customer, `private: true` = note, others = agent (`user_id` an agent).
//! `stats.resolved_at` = resolved (for status 4 resolved or 5 closed without it: `closed_at`,
//! else `updated_at`); `stats.reopened_at` = a reopened event. Numeric `source` codes name the
//! channel. Satisfaction ratings (−103 … 103) = CSAT 1 … 7.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{Value, json};

pub use super::json_pages::Page;
use super::json_pages::{classify, id_of, load, text};
use super::{PerConversation, SourceError, SourceOptions, Translation};

/// Freshdesk's `source` code as a channel.
pub fn channel(code: i64) -> &'static str {
    match code {
        1 | 10 => "email",
        2 | 9 => "web",
        3 => "phone",
        4 => "forum",
        5 | 6 => "social",
        7 | 8 => "chat",
        11 => "ecommerce",
        12 => "bot",
        13 => "whatsapp",
        _ => "other",
    }
}

/// A Freshdesk rating value (−103 … 103) on a 1–7 scale.
pub fn rating(value: i64) -> Option<i64> {
    match value {
        -103 => Some(1),
        -102 => Some(2),
        -101 => Some(3),
        100 => Some(4),
        101 => Some(5),
        102 => Some(6),
        103 => Some(7),
        _ => None,
    }
}

const KINDS: [&str; 5] = [
    "tickets",
    "conversations",
    "agents",
    "contacts",
    "satisfaction_ratings",
];

/// Translates Freshdesk pages saved as files. `Err` only for a file that cannot be read as
/// pages; a ticket with a problem is a failure of its own (see [`Translation`]).
pub fn translate(files: &[PathBuf], options: &SourceOptions) -> Result<Translation, SourceError> {
    translate_pages(&load(files)?, options)
}

/// [`translate`] over pages in memory (as `sync` fetches them; a bare array's kind is its
/// `kind_hint`).
pub fn translate_pages(
    pages: &[Page],
    _options: &SourceOptions,
) -> Result<Translation, SourceError> {
    let mut by_kind = classify(pages, &KINDS, None)?;
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut agents: std::collections::HashSet<i64> = Default::default();
    for (_, _, agent) in by_kind.remove("agents").unwrap_or_default() {
        if let Some(id) = id_of(&agent["id"]) {
            agents.insert(id);
            if let Some(n) = text(&agent["contact"], "name").or(text(&agent, "name")) {
                names.insert(id, n.to_string());
            }
        }
    }
    for (_, _, contact) in by_kind.remove("contacts").unwrap_or_default() {
        if let (Some(id), Some(n)) = (id_of(&contact["id"]), text(&contact, "name")) {
            names.insert(id, n.to_string());
        }
    }
    let name_of = |id: Option<i64>| id.and_then(|id| names.get(&id).cloned());
    let mut out = PerConversation::default();
    for (file, place, ticket) in by_kind.remove("tickets").unwrap_or_default() {
        let err = |field: &str, reason: String| SourceError::new(&file, &place, field, reason);
        let Some(id) = id_of(&ticket["id"]) else {
            out.fail(None, err("id", "missing or not a number".into()));
            continue;
        };
        let conversation = format!("fd-{id}");
        match ticket_record(&conversation, &ticket, &name_of) {
            Ok(header) => out.record(&conversation, &file, &place, header),
            Err((field, reason)) => out.fail(Some(&conversation), err(&field, reason)),
        }
    }
    for (file, place, item) in by_kind.remove("conversations").unwrap_or_default() {
        let err = |field: &str, reason: String| SourceError::new(&file, &place, field, reason);
        let Some(ticket) = id_of(&item["ticket_id"]) else {
            out.fail(None, err("ticket_id", "missing or not a number".into()));
            continue;
        };
        let conversation = format!("fd-{ticket}");
        let Some(incoming) = item["incoming"].as_bool() else {
            out.fail(
                Some(&conversation),
                err("incoming", "missing or not true/false".into()),
            );
            continue;
        };
        let private = item["private"].as_bool().unwrap_or(false);
        let user = id_of(&item["user_id"]);
        let author = if private {
            "note"
        } else if incoming {
            "customer"
        } else if user.is_some_and(|u| agents.contains(&u)) || agents.is_empty() {
            "agent"
        } else {
            out.fail(
                Some(&conversation),
                err(
                    "user_id",
                    format!(
                        "{} wrote an outgoing reply but is not in the agents pages",
                        user.map_or("(none)".into(), |u| u.to_string())
                    ),
                ),
            );
            continue;
        };
        let Some(at) = text(&item, "created_at") else {
            out.fail(Some(&conversation), err("created_at", "missing".into()));
            continue;
        };
        let mut message = json!({
            "type": "message",
            "conversation": conversation,
            "at": at,
            "author": author,
        });
        if let Some(cid) = id_of(&item["id"]) {
            message["id"] = Value::from(format!("fd-conversation-{cid}"));
        }
        if author != "customer"
            && let Some(agent) = name_of(user)
        {
            message["agent"] = Value::from(agent);
        }
        if let Some(body) = text(&item, "body_text") {
            message["text"] = Value::from(body);
        }
        out.record(&conversation, &file, &place, message);
    }
    for (file, place, item) in by_kind.remove("satisfaction_ratings").unwrap_or_default() {
        let err = |field: &str, reason: String| SourceError::new(&file, &place, field, reason);
        let Some(ticket) = id_of(&item["ticket_id"]) else {
            out.fail(None, err("ticket_id", "missing or not a number".into()));
            continue;
        };
        let conversation = format!("fd-{ticket}");
        let Some(value) = id_of(&item["ratings"]["default_question"]) else {
            out.fail(
                Some(&conversation),
                err("ratings.default_question", "missing".into()),
            );
            continue;
        };
        let Some(score) = rating(value) else {
            out.fail(
                Some(&conversation),
                err(
                    "ratings.default_question",
                    format!("{value} is not a rating (−103 … 103)"),
                ),
            );
            continue;
        };
        let Some(at) = text(&item, "created_at") else {
            out.fail(Some(&conversation), err("created_at", "missing".into()));
            continue;
        };
        let mut survey = json!({
            "type": "survey",
            "conversation": conversation,
            "at": at,
            "kind": "csat",
            "score": score,
            "scale": [1, 7],
        });
        if let Some(feedback) = text(&item, "feedback") {
            survey["comment"] = Value::from(feedback);
        }
        out.record(&conversation, &file, &place, survey);
    }
    Ok(out.finish())
}

/// A ticket's conversation record (with its description as the first message, and its
/// resolution and reopen from `stats`), or the field and reason it cannot be translated.
fn ticket_record(
    conversation: &str,
    ticket: &Value,
    name_of: &dyn Fn(Option<i64>) -> Option<String>,
) -> Result<Value, (String, String)> {
    let fail = |field: &str, reason: &str| (field.to_string(), reason.to_string());
    let created = text(ticket, "created_at").ok_or_else(|| fail("created_at", "missing"))?;
    let source =
        id_of(&ticket["source"]).ok_or_else(|| fail("source", "missing or not a number"))?;
    let mut header = json!({
        "type": "conversation",
        "id": conversation,
        "channel": channel(source),
        "created_at": created,
    });
    if let Some(subject) = text(ticket, "subject") {
        header["subject"] = Value::from(subject);
    }
    if let Some(tags) = ticket["tags"].as_array() {
        header["tags"] = Value::from(tags.clone());
    }
    // The requester's name from the contacts pages, or embedded (`include=requester`).
    if let Some(customer) = name_of(id_of(&ticket["requester_id"]))
        .or_else(|| text(&ticket["requester"], "name").map(str::to_string))
    {
        header["customer"] = Value::from(customer);
    }
    if let Some(agent) = name_of(id_of(&ticket["responder_id"])) {
        header["agent"] = Value::from(agent);
    }
    // The description is the first message (not in the conversations): the requester's, or the
    // agent's on an outbound e-mail (source 10).
    let mut first =
        json!({"at": created, "author": "customer", "id": format!("{conversation}-description")});
    if source == 10 {
        first["author"] = Value::from("agent");
        if let Some(agent) = name_of(id_of(&ticket["responder_id"])) {
            first["agent"] = Value::from(agent);
        }
    }
    if let Some(body) = text(ticket, "description_text") {
        first["text"] = Value::from(body);
    }
    header["messages"] = Value::from(vec![first]);
    let status =
        id_of(&ticket["status"]).ok_or_else(|| fail("status", "missing or not a number"))?;
    if !(2..=7).contains(&status) {
        return Err((
            "status".into(),
            format!("{status} is not a Freshdesk status (2–7)"),
        ));
    }
    let stats = &ticket["stats"];
    let mut events = Vec::new();
    if let Some(reopened) = text(stats, "reopened_at") {
        events.push(json!({"at": reopened, "event": "reopened"}));
    }
    // The last resolution, also on a ticket that was reopened after it (then the reopen counts:
    // resolved, then reopened).
    let resolved_at = text(stats, "resolved_at").or(if matches!(status, 4 | 5) {
        text(stats, "closed_at").or(text(ticket, "updated_at"))
    } else {
        None
    });
    match resolved_at {
        Some(at) => events.push(json!({"at": at, "event": "resolved"})),
        None if matches!(status, 4 | 5) => {
            return Err(fail("stats.resolved_at", "a resolved ticket needs a time"));
        }
        None => {}
    }
    header["events"] = Value::from(events);
    Ok(header)
}
