//! Zendesk: API JSON pages saved as files — `tickets` (e.g. the incremental ticket export),
//! `audits` (ticket audits), `users` and `satisfaction_ratings`, in any files of a directory.
//!
//! Comments and status changes come from the audits: a comment's author role from the users
//! (end-user = customer, agent or admin = agent), `public: false` = note, and comments made by
//! triggers or automations (the audit's `via.source.rel`, or via channel `rule`) = bot. Status
//! set to solved = resolved; from solved back to open, new, pending or hold = reopened; a new
//! assignee = assigned. Satisfaction good/bad = CSAT 2/1 on a 2-point scale.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{Value, json};

pub use super::json_pages::Page;
use super::json_pages::{Items, classify, id_of, load, text};
use super::{PerConversation, SourceError, SourceOptions, Translation};

/// A Zendesk `via.channel` as a servicemeter channel.
pub fn channel(via: &str) -> String {
    match via {
        "email" | "mail" => "email".into(),
        "web" | "web_form" | "web_widget" | "api" | "" => "web".into(),
        "chat" | "native_messaging" | "messaging" | "sunshine_conversations_api" => "chat".into(),
        "voice" | "phone" | "phone_call_inbound" | "phone_call_outbound" => "phone".into(),
        "twitter" | "facebook" | "instagram_dm" | "facebook_messenger" | "x_corp" => {
            "social".into()
        }
        "whatsapp" => "whatsapp".into(),
        other => super::channel_name(other),
    }
}

struct Pages {
    tickets: Items,
    audits: Items,
    users: HashMap<i64, (String, String)>,
    ratings: Items,
}

fn read_pages(pages: &[Page], out: &mut PerConversation) -> Result<Pages, SourceError> {
    let mut by_kind = classify(
        pages,
        &[
            "tickets",
            "audits",
            "ticket_audits",
            "users",
            "satisfaction_ratings",
        ],
        None,
    )?;
    let mut users = HashMap::new();
    for (file, place, item) in by_kind.remove("users").unwrap_or_default() {
        let Some(id) = id_of(&item["id"]) else {
            out.warn(SourceError::new(
                &file,
                &place,
                "id",
                "missing or not a number; this user is left out",
            ));
            continue;
        };
        let role = item["role"].as_str().unwrap_or("").to_string();
        let name = item["name"].as_str().unwrap_or("").to_string();
        users.insert(id, (role, name));
    }
    let mut audits = by_kind.remove("audits").unwrap_or_default();
    audits.extend(by_kind.remove("ticket_audits").unwrap_or_default());
    Ok(Pages {
        tickets: by_kind.remove("tickets").unwrap_or_default(),
        audits,
        users,
        ratings: by_kind.remove("satisfaction_ratings").unwrap_or_default(),
    })
}

/// Translates Zendesk pages saved as files. `Err` only for a file that cannot be read as pages;
/// a ticket with a problem is a failure of its own (see [`Translation`]).
pub fn translate(files: &[PathBuf], options: &SourceOptions) -> Result<Translation, SourceError> {
    translate_pages(&load(files)?, options)
}

/// [`translate`] over pages in memory (as `sync` fetches them).
pub fn translate_pages(
    pages: &[Page],
    _options: &SourceOptions,
) -> Result<Translation, SourceError> {
    let mut out = PerConversation::default();
    let pages = read_pages(pages, &mut out)?;
    let user = |id: Option<i64>| id.and_then(|id| pages.users.get(&id));
    for (file, place, ticket) in &pages.tickets {
        let err = |field: &str, reason: &str| SourceError::new(file, place, field, reason);
        let Some(id) = id_of(&ticket["id"]) else {
            out.fail(None, err("id", "missing or not a number"));
            continue;
        };
        let conversation = format!("zd-{id}");
        let Some(created) = text(ticket, "created_at") else {
            out.fail(Some(&conversation), err("created_at", "missing"));
            continue;
        };
        let mut header = json!({
            "type": "conversation",
            "id": conversation,
            "channel": channel(ticket["via"]["channel"].as_str().unwrap_or("")),
            "created_at": created,
        });
        if let Some(subject) = text(ticket, "subject") {
            header["subject"] = Value::from(subject);
        }
        if let Some(tags) = ticket["tags"].as_array() {
            header["tags"] = Value::from(tags.clone());
        }
        if let Some((_, name)) = user(id_of(&ticket["requester_id"])) {
            header["customer"] = Value::from(name.as_str());
        }
        if let Some((_, name)) = user(id_of(&ticket["assignee_id"])) {
            header["agent"] = Value::from(name.as_str());
        }
        out.record(&conversation, file, place, header);
    }
    for (file, place, audit) in &pages.audits {
        let err = |field: &str, reason: String| SourceError::new(file, place, field, reason);
        let Some(ticket) = id_of(&audit["ticket_id"]) else {
            out.fail(None, err("ticket_id", "missing or not a number".into()));
            continue;
        };
        let conversation = format!("zd-{ticket}");
        let Some(at) = text(audit, "created_at") else {
            out.fail(Some(&conversation), err("created_at", "missing".into()));
            continue;
        };
        let by_rule = matches!(
            audit["via"]["source"]["rel"].as_str(),
            Some("trigger" | "automation")
        ) || audit["via"]["channel"].as_str() == Some("rule");
        let events = audit["events"].as_array().cloned().unwrap_or_default();
        for (k, event) in events.iter().enumerate() {
            let event_place = format!("{place}.events[{k}]");
            match event["type"].as_str() {
                Some("Comment") | Some("VoiceComment") => {
                    let author_id = id_of(&event["author_id"]).or(id_of(&audit["author_id"]));
                    let public = event["public"].as_bool().unwrap_or(true);
                    let (author, agent) = if !public {
                        ("note", user(author_id).map(|(_, n)| n.clone()))
                    } else if by_rule {
                        ("bot", None)
                    } else {
                        match user(author_id) {
                            Some((role, name)) if role == "agent" || role == "admin" => {
                                ("agent", Some(name.clone()))
                            }
                            Some((role, _)) if role == "end-user" => ("customer", None),
                            Some((role, _)) => {
                                out.fail(
                                    Some(&conversation),
                                    SourceError::new(
                                        file,
                                        &event_place,
                                        "author_id",
                                        format!(
                                            "user role '{role}' is not end-user, agent or admin"
                                        ),
                                    ),
                                );
                                continue;
                            }
                            None => {
                                out.fail(
                                    Some(&conversation),
                                    SourceError::new(
                                        file,
                                        &event_place,
                                        "author_id",
                                        format!(
                                            "user {} is not in the users pages",
                                            author_id.map_or("(none)".into(), |a| a.to_string())
                                        ),
                                    ),
                                );
                                continue;
                            }
                        }
                    };
                    let mut message = json!({
                        "type": "message",
                        "conversation": conversation,
                        "at": at,
                        "author": author,
                    });
                    if let Some(cid) = id_of(&event["id"]) {
                        message["id"] = Value::from(format!("zd-comment-{cid}"));
                    }
                    if let Some(agent) = agent {
                        message["agent"] = Value::from(agent);
                    }
                    if let Some(body) = text(event, "body") {
                        message["text"] = Value::from(body);
                    }
                    out.record(&conversation, file, &event_place, message);
                }
                Some("Change") | Some("Create") => {
                    let field = event["field_name"].as_str().unwrap_or("");
                    let value = event["value"]
                        .as_str()
                        .map(str::to_string)
                        .or_else(|| event["value"].as_i64().map(|v| v.to_string()));
                    let previous = event["previous_value"].as_str();
                    let kind = match (field, value.as_deref(), previous) {
                        ("status", Some("solved"), p) if p != Some("solved") => Some("resolved"),
                        ("status", Some("open" | "new" | "pending" | "hold"), Some("solved")) => {
                            Some("reopened")
                        }
                        ("assignee_id", Some(_), _) => Some("assigned"),
                        _ => None,
                    };
                    if let Some(kind) = kind {
                        let mut record = json!({
                            "type": "event",
                            "conversation": conversation,
                            "at": at,
                            "event": kind,
                        });
                        if kind == "assigned"
                            && let Some((_, name)) =
                                user(value.as_deref().and_then(|v| v.parse().ok()))
                        {
                            record["agent"] = Value::from(name.as_str());
                        }
                        out.record(&conversation, file, &event_place, record);
                    }
                }
                _ => {}
            }
        }
    }
    for (file, place, rating) in &pages.ratings {
        let err = |field: &str, reason: String| SourceError::new(file, place, field, reason);
        let Some(ticket) = id_of(&rating["ticket_id"]) else {
            out.fail(None, err("ticket_id", "missing or not a number".into()));
            continue;
        };
        let conversation = format!("zd-{ticket}");
        let score = match rating["score"].as_str() {
            Some("good") => 2,
            Some("bad") => 1,
            // Offered but not answered: no response.
            Some("offered" | "unoffered") => continue,
            other => {
                out.fail(
                    Some(&conversation),
                    err(
                        "score",
                        format!(
                            "'{}' is not good, bad, offered or unoffered",
                            other.unwrap_or("")
                        ),
                    ),
                );
                continue;
            }
        };
        let Some(at) = text(rating, "created_at") else {
            out.fail(Some(&conversation), err("created_at", "missing".into()));
            continue;
        };
        let mut survey = json!({
            "type": "survey",
            "conversation": conversation,
            "at": at,
            "kind": "csat",
            "score": score,
            "scale": [1, 2],
        });
        if let Some(comment) = text(rating, "comment") {
            survey["comment"] = Value::from(comment);
        }
        out.record(&conversation, file, place, survey);
    }
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(name: &str, json: &str) -> Page {
        Page {
            name: name.to_string(),
            kind_hint: name.to_string(),
            value: serde_json::from_str(json).expect("fixture is JSON"),
        }
    }

    fn run(pages: &[Page]) -> Translation {
        translate_pages(pages, &SourceOptions::default()).expect("pages are readable")
    }

    fn ids(t: &Translation) -> Vec<String> {
        t.records
            .iter()
            .map(|r| {
                let kind = r.record["type"].as_str().unwrap_or("");
                let of = if kind == "conversation" {
                    "id"
                } else {
                    "conversation"
                };
                format!("{kind} {}", r.record[of].as_str().unwrap_or(""))
            })
            .collect()
    }

    #[test]
    fn a_bad_ticket_is_a_failure_and_the_other_tickets_go_on() {
        let t = run(&[
            page(
                "tickets.json",
                r#"{"tickets": [
                    {"id": 1, "created_at": "2024-03-04T09:00:00Z", "via": {"channel": "email"}},
                    {"id": 2, "via": {"channel": "email"}},
                    {"via": {"channel": "email"}, "created_at": "2024-03-04T09:00:00Z"}
                ]}"#,
            ),
            page(
                "audits.json",
                r#"{"audits": [
                    {"ticket_id": 2, "created_at": "2024-03-04T09:00:00Z", "author_id": 5,
                     "events": [{"type": "Comment", "id": 7, "public": false, "body": "x"}]},
                    {"ticket_id": 1, "created_at": "2024-03-04T09:10:00Z", "author_id": 5,
                     "events": [{"type": "Comment", "id": 8, "public": false, "body": "y"}]}
                ]}"#,
            ),
        ]);
        // Ticket 2 has no created_at: rejected whole (its note too); the ticket without an id is
        // a failure of its own; ticket 1 and its note remain.
        assert_eq!(ids(&t), ["conversation zd-1", "message zd-1"]);
        let failures: Vec<String> = t.failures.iter().map(|f| f.to_string()).collect();
        assert_eq!(
            failures,
            [
                "tickets.json: tickets[1]: field `created_at`: missing",
                "tickets.json: tickets[2]: field `id`: missing or not a number",
            ]
        );
    }

    #[test]
    fn a_file_without_known_keys_is_an_error() {
        let e = translate_pages(
            &[page("other.json", r#"{"things": []}"#)],
            &SourceOptions::default(),
        )
        .unwrap_err();
        assert!(e.reason.starts_with("holds none of tickets"), "{e}");
    }
}
