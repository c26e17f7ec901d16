//! Intercom: conversations as the API returns them (`GET /conversations/{id}` with its
//! `conversation_parts`), in files holding one conversation, `{"conversations": [...]}` pages,
//! or bare arrays; optional `admins` pages name the admins that parts refer to by id, and
//! optional `teams` pages (`GET /teams`) name the teams.
//!
//! Times are Unix seconds. Authors: user, lead or contact = customer; admin or team = agent;
//! bot = bot; the first message of an automated outbound (`source.delivered_as: "automated"`)
//! is a bot message. Parts: comment = a message by its author; note = note; close = resolved;
//! open = reopened; assignment parts = assigned (to an admin); a close, open or assignment
//! part with a body is also a message by its author (a reply that closes or reopens).
//! `conversation_rating.rating` 1–5 = CSAT.
//!
//! Every conversation is translated on its own: a problem in one (a missing id, a bad time,
//! an unknown author type or score) is a failure with its place, and the others go on.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::json_pages::{id_text, read, text, unix_time};
use super::{SourceError, SourceOptions, Translated, Translation, put_contact};

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

/// Part types that assign the conversation.
const ASSIGNMENTS: [&str; 4] = [
    "assignment",
    "default_assignment",
    "assign_and_reopen",
    "away_mode_assignment",
];

/// Names of admins (and bots) by id: the admins pages first, then every author object in the
/// files that carries both an id and a name (parts often name an admin the pages lack).
struct Names {
    admins: HashMap<String, String>,
    teams: HashMap<String, String>,
}

impl Names {
    fn of(&self, person: &Value) -> Option<String> {
        text(person, "name")
            .map(str::to_string)
            .or_else(|| id_text(&person["id"]).and_then(|id| self.admins.get(&id).cloned()))
    }

    fn admin(&self, id: &Value) -> Option<String> {
        id_text(id).and_then(|id| self.admins.get(&id).cloned())
    }

    /// A team's name from the teams pages, else `team-<id>`.
    fn team(&self, id: &Value) -> Option<String> {
        let id = id_text(id)?;
        Some(
            self.teams
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("team-{id}")),
        )
    }
}

fn collect_authors(c: &Value, admins: &mut HashMap<String, String>) {
    let mut note = |author: &Value| {
        if matches!(author["type"].as_str(), Some("admin" | "bot"))
            && let (Some(id), Some(name)) = (id_text(&author["id"]), text(author, "name"))
        {
            admins.entry(id).or_insert_with(|| name.to_string());
        }
    };
    note(&c["source"]["author"]);
    for part in c["conversation_parts"]["conversation_parts"]
        .as_array()
        .into_iter()
        .flatten()
    {
        note(&part["author"]);
    }
}

pub fn translate(files: &[PathBuf], _options: &SourceOptions) -> Result<Translation, SourceError> {
    let mut by_kind = read(
        files,
        &["conversations", "admins", "teams"],
        Some(("conversation", "conversations")),
    )?;
    let named = |items: Vec<(String, String, Value)>| -> HashMap<String, String> {
        items
            .into_iter()
            .filter_map(|(_, _, a)| Some((id_text(&a["id"])?, text(&a, "name")?.to_string())))
            .collect()
    };
    let mut admins = named(by_kind.remove("admins").unwrap_or_default());
    let teams = named(by_kind.remove("teams").unwrap_or_default());
    let conversations = by_kind.remove("conversations").unwrap_or_default();
    for (_, _, c) in &conversations {
        collect_authors(c, &mut admins);
    }
    let names = Names { admins, teams };
    let mut out = Translation::default();
    for (file, place, c) in conversations {
        match conversation(&file, &place, &c, &names) {
            Ok(record) => out.records.push(Translated {
                file,
                place,
                record,
            }),
            Err(e) => out.failures.push(e),
        }
    }
    Ok(out)
}

/// One conversation with its parts as a nested canonical record.
fn conversation(file: &str, place: &str, c: &Value, names: &Names) -> Result<Value, SourceError> {
    let err = |field: &str, reason: String| SourceError::new(file, place, field, reason);
    let id = id_text(&c["id"]).ok_or_else(|| err("id", "missing".into()))?;
    let created = unix_time(&c["created_at"])
        .ok_or_else(|| err("created_at", "missing or not Unix seconds".into()))?;
    let source = &c["source"];
    let mut header = json!({
        "type": "conversation",
        "id": format!("ic-{id}"),
        "channel": channel(source["type"].as_str().unwrap_or("")),
        "created_at": created,
    });
    if let Some(subject) = text(source, "subject") {
        header["subject"] = Value::from(subject);
    }
    let mut tags: Vec<Value> = c["tags"]["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| text(t, "name"))
        .map(Value::from)
        .collect();
    if c["priority"].as_str() == Some("priority") {
        tags.push(Value::from("priority"));
    }
    header["tags"] = Value::from(tags);
    // The assignee: the newer `admin_assignee_id` / `team_assignee_id`, or the older
    // `assignee` object (`{"type": "admin" | "team" | "nobody_admin", "id": …}`).
    let old = &c["assignee"];
    let agent = names.admin(&c["admin_assignee_id"]).or_else(|| {
        (old["type"].as_str() == Some("admin"))
            .then(|| names.of(old))
            .flatten()
    });
    if let Some(agent) = agent {
        header["agent"] = Value::from(agent);
    }
    let team = names.team(&c["team_assignee_id"]).or_else(|| {
        (old["type"].as_str() == Some("team"))
            .then(|| {
                text(old, "name")
                    .map(str::to_string)
                    .or(names.team(&old["id"]))
            })
            .flatten()
    });
    if let Some(team) = team {
        header["team"] = Value::from(team);
    }

    let mut customer: Option<String> = None;
    // The first customer author (a user or lead): their address and name.
    let mut customer_author: Option<&Value> = None;
    let mut messages = Vec::new();
    let mut events = Vec::new();
    // The conversation's first message.
    if source.is_object() && !source["author"].is_null() {
        let mut role = author_role(&source["author"]).map_err(|r| err("source.author.type", r))?;
        if role == "agent" && source["delivered_as"].as_str() == Some("automated") {
            role = "bot";
        }
        let mut m = json!({"at": created, "author": role, "id": format!("ic-{id}-source")});
        if role == "customer" {
            customer = names.of(&source["author"]);
            customer_author = Some(&source["author"]);
        } else if let Some(name) = names.of(&source["author"]) {
            m["agent"] = Value::from(name);
        }
        if let Some(body) = text(source, "body").filter(|_| source["redacted"] != true) {
            m["text"] = Value::from(body);
        }
        messages.push(m);
    }
    let parts = c["conversation_parts"]["conversation_parts"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (k, part) in parts.iter().enumerate() {
        let part_place = format!("{place}.conversation_parts[{k}]");
        let perr = |field: &str, reason: String| SourceError::new(file, &part_place, field, reason);
        let at = unix_time(&part["created_at"])
            .ok_or_else(|| perr("created_at", "missing or not Unix seconds".into()))?;
        let kind = part["part_type"].as_str().unwrap_or("");
        let carries_message = match kind {
            "comment" | "quick_reply" | "note" => true,
            "open" | "close" => text(part, "body").is_some(),
            _ if ASSIGNMENTS.contains(&kind) => text(part, "body").is_some(),
            _ => false,
        };
        if carries_message {
            let role = author_role(&part["author"]).map_err(|r| perr("author.type", r))?;
            let author = if kind == "note" { "note" } else { role };
            let mut m = json!({"at": at, "author": author});
            if let Some(pid) = id_text(&part["id"]) {
                m["id"] = Value::from(format!("ic-part-{pid}"));
            }
            if author == "customer" {
                if customer.is_none() {
                    customer = names.of(&part["author"]);
                }
                customer_author.get_or_insert(&part["author"]);
            } else if let Some(name) = names.of(&part["author"]) {
                m["agent"] = Value::from(name);
            }
            // A redacted part keeps its place in the conversation, not Intercom's placeholder.
            if let Some(body) = text(part, "body").filter(|_| part["redacted"] != true) {
                m["text"] = Value::from(body);
            }
            messages.push(m);
        }
        match kind {
            "close" => events.push(json!({"at": at, "event": "resolved"})),
            "open" => events.push(json!({"at": at, "event": "reopened"})),
            _ if ASSIGNMENTS.contains(&kind) => {
                // Assigned to an admin; an assignment to a team or to nobody (`nobody_admin`)
                // names no agent and gives no event.
                let to = &part["assigned_to"];
                if to["type"].as_str() == Some("admin")
                    && let Some(name) = names.of(to)
                {
                    events.push(json!({"at": at, "event": "assigned", "agent": name}));
                }
                if kind == "assign_and_reopen" {
                    events.push(json!({"at": at, "event": "reopened"}));
                }
            }
            _ => {}
        }
    }
    // Closing times Intercom keeps in the statistics (also when the parts are cut short).
    for field in ["first_close_at", "last_close_at"] {
        if let Some(at) = unix_time(&c["statistics"][field])
            && !events
                .iter()
                .any(|e| e["event"] == "resolved" && e["at"] == at.as_str())
        {
            events.push(json!({"at": at, "event": "resolved"}));
        }
    }
    if let Some(customer) = customer {
        header["customer"] = Value::from(customer);
    }
    if let Some(author) = customer_author {
        put_contact(
            &mut header,
            text(author, "email"),
            text(author, "name"),
            None,
        );
    }
    header["messages"] = Value::from(messages);
    header["events"] = Value::from(events);
    let rating = &c["conversation_rating"];
    if !rating.is_null() && !rating["rating"].is_null() {
        let score = rating["rating"]
            .as_i64()
            .filter(|s| (1..=5).contains(s))
            .ok_or_else(|| {
                err(
                    "conversation_rating.rating",
                    format!("{} is not a rating from 1 to 5", rating["rating"]),
                )
            })?;
        let at = unix_time(&rating["created_at"]).ok_or_else(|| {
            err(
                "conversation_rating.created_at",
                "missing or not Unix seconds".into(),
            )
        })?;
        let mut survey = json!({"at": at, "kind": "csat", "score": score, "scale": [1, 5]});
        if let Some(remark) = text(rating, "remark") {
            survey["comment"] = Value::from(remark);
        }
        header["surveys"] = Value::from(vec![survey]);
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_support::*;

    fn run(files: &[(&str, &str)]) -> Result<Translation, SourceError> {
        let (_dir, paths) = write_files(files);
        translate(&paths, &SourceOptions::default())
    }

    fn record<'a>(t: &'a Translation, id: &str) -> &'a Value {
        &t.records
            .iter()
            .find(|r| r.record["id"] == id)
            .unwrap_or_else(|| panic!("{id} missing from {:?}", t.records))
            .record
    }

    const PAGE: &str = r#"{"type": "conversation.list", "conversations": [
      {"type": "conversation", "id": "1", "created_at": 1700000000, "state": "open",
       "priority": "priority", "admin_assignee_id": 11, "team_assignee_id": 50,
       "source": {"type": "conversation", "delivered_as": "admin_initiated", "body": "<p>Hoi</p>",
                  "author": {"type": "admin", "id": "11", "name": "Lisa", "email": "lisa@shop.nl"}},
       "conversation_parts": {"conversation_parts": [
         {"id": "p1", "part_type": "close", "body": "<p>Tot ziens</p>", "created_at": 1700000060,
          "author": {"type": "admin", "id": "11", "name": "Lisa"}},
         {"id": "p2", "part_type": "open", "body": "<p>Nog een vraag</p>", "created_at": 1700000120,
          "author": {"type": "user", "id": "u1", "name": "Sara", "email": "Sara@Example.nl"}},
         {"id": "p3", "part_type": "open", "body": null, "created_at": 1700000130,
          "author": {"type": "admin", "id": "11"}},
         {"id": "p4", "part_type": "assign_and_reopen", "body": null, "created_at": 1700000140,
          "author": {"type": "admin", "id": "12", "name": "Tom"}, "assigned_to": {"type": "admin", "id": "12"}},
         {"id": "p5", "part_type": "default_assignment", "body": null, "created_at": 1700000150,
          "author": {"type": "bot", "id": "9", "name": "Operator"}, "assigned_to": {"type": "nobody_admin", "id": null}},
         {"id": "p6", "part_type": "comment", "body": "<p><i>This message was deleted</i></p>", "redacted": true,
          "created_at": 1700000160, "author": {"type": "user", "id": "u1", "name": "Sara"}},
         {"id": "p7", "part_type": "snoozed", "body": null, "created_at": 1700000170,
          "author": {"type": "admin", "id": "11"}}
       ]}},
      {"type": "conversation", "id": "2", "created_at": 1700001000, "state": "closed",
       "assignee": {"type": "admin", "id": "13"},
       "statistics": {"last_close_at": 1700002000},
       "source": {"type": "conversation", "delivered_as": "automated", "body": "<p>Nieuw!</p>",
                  "author": {"type": "admin", "id": "13", "name": "Support"}},
       "conversation_parts": {"conversation_parts": []}},
      {"type": "conversation", "id": "3", "created_at": 1700003000, "team_assignee_id": 51,
       "source": {"type": "email", "body": "x", "author": {"type": "lead", "id": "l1", "name": "Kees", "email": ""}},
       "conversation_parts": {"conversation_parts": []}}
    ]}"#;

    #[test]
    fn replies_that_close_or_reopen_keep_message_and_event() {
        let t = run(&[
            ("conversations.json", PAGE),
            (
                "admins.json",
                r#"{"admins": [{"type": "admin", "id": "13", "name": "Mira"}]}"#,
            ),
            (
                "teams.json",
                r#"{"type": "team.list", "teams": [{"type": "team", "id": "50", "name": "Billing"}]}"#,
            ),
        ])
        .unwrap();
        assert!(t.failures.is_empty(), "{:?}", t.failures);
        for r in &t.records {
            r.parse().unwrap();
        }
        let c = record(&t, "ic-1");
        assert_eq!(
            c["agent"], "Lisa",
            "admin_assignee_id named by the source's author"
        );
        assert_eq!(c["team"], "Billing");
        assert_eq!(c["tags"], json!(["priority"]));
        assert_eq!(c["customer"], "Sara");
        // The customer's address and name, never the admin's who opened it.
        assert_eq!(c["customer_email"], "sara@example.nl");
        assert_eq!(c["customer_name"], "Sara");
        assert!(c.get("customer_language").is_none());
        let authors: Vec<&str> = c["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["author"].as_str().unwrap())
            .collect();
        assert_eq!(authors, ["agent", "agent", "customer", "customer"]);
        assert_eq!(c["messages"][1]["text"], "<p>Tot ziens</p>");
        assert_eq!(c["messages"][2]["text"], "<p>Nog een vraag</p>");
        assert!(c["messages"][3].get("text").is_none(), "redacted");
        let events: Vec<(&str, Option<&str>)> = c["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["event"].as_str().unwrap(), e["agent"].as_str()))
            .collect();
        assert_eq!(
            events,
            [
                ("resolved", None),
                ("reopened", None),
                ("reopened", None),
                ("assigned", Some("Tom")),
                ("reopened", None),
            ]
        );

        let auto = record(&t, "ic-2");
        assert_eq!(auto["messages"][0]["author"], "bot");
        assert_eq!(auto["agent"], "Mira", "the older assignee object");
        assert_eq!(
            auto["events"],
            json!([{"at": "2023-11-14T22:46:40Z", "event": "resolved"}])
        );
        let lead = record(&t, "ic-3");
        assert_eq!(lead["team"], "team-51");
        assert_eq!(lead["customer"], "Kees");
        assert!(
            lead.get("customer_email").is_none(),
            "an anonymous lead's empty address"
        );
        assert_eq!(lead["channel"], "email");
    }

    #[test]
    fn a_bad_conversation_is_a_failure_and_the_rest_goes_on() {
        let page = r#"{"conversations": [
          {"id": "1", "created_at": 1700000000, "conversation_parts": {"conversation_parts": [
            {"id": "a", "part_type": "comment", "created_at": 1700000001, "author": {"type": "user"}},
            {"id": "b", "part_type": "comment", "created_at": "gisteren", "author": {"type": "user"}}]}},
          {"created_at": 1700000000},
          {"id": "3", "created_at": 1700000000, "conversation_parts": {"conversation_parts": [
            {"id": "c", "part_type": "comment", "created_at": 1700000001, "author": {"type": "robot"}}]}},
          {"id": "4", "created_at": 1700000000, "conversation_rating": {"rating": 9, "created_at": 1700000009}},
          {"id": "5", "created_at": 1700000000}
        ]}"#;
        let t = run(&[("conversations.json", page)]).unwrap();
        let ids: Vec<&Value> = t.records.iter().map(|r| &r.record["id"]).collect();
        assert_eq!(ids, [&json!("ic-5")]);
        let failures = places(&t.failures);
        assert_eq!(
            failures,
            [
                (
                    "conversations[0].conversation_parts[1]".into(),
                    "created_at".into()
                ),
                ("conversations[1]".into(), "id".into()),
                (
                    "conversations[2].conversation_parts[0]".into(),
                    "author.type".into()
                ),
                (
                    "conversations[3]".into(),
                    "conversation_rating.rating".into()
                ),
            ]
        );
        assert!(t.failures[2].reason.contains("'robot' is not user"));

        let whole = run(&[("conversations.json", "{not json")]).unwrap_err();
        assert!(whole.reason.starts_with("not JSON"), "{whole}");
        let none = run(&[("other.json", r#"{"tickets": []}"#)]).unwrap_err();
        assert!(none.reason.starts_with("holds none of"), "{none}");
    }
}
