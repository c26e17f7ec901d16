//! Freshdesk: API JSON pages saved as files — `tickets` (listed with `include=stats`, or single
//! tickets), `conversations` (each ticket's, with `ticket_id`), `agents`, `contacts`, `groups`
//! and `satisfaction_ratings`; a file may hold a bare array of one kind, named by its file name
//! (`tickets*.json`, `conversations*.json`, …), or an object with those keys.
//!
//! The ticket's description is the requester's first message at creation. In conversations
//! `incoming: true` = customer, `private: true` = note, others = agent (`user_id` an agent);
//! `source: 6` is the customer's survey feedback, not a message: the comment of the ticket's
//! satisfaction rating (left out when the ticket has none). `stats.resolved_at` = resolved (for
//! status 4 resolved or 5 closed without it: `closed_at`, else `updated_at`); other statuses,
//! custom ones too, are open; `stats.reopened_at` = a reopened event. Numeric `source` codes name
//! the channel. Satisfaction ratings (−103 … 103) = CSAT 1 … 7. `group_id` = team, `priority`,
//! `product_id` and `company_id` = tags.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{Value, json};

pub use super::json_pages::Page;
use super::json_pages::{classify, id_of, load, text};
use super::{PerConversation, SourceError, SourceOptions, Translation, put_contact};

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

const KINDS: [&str; 6] = [
    "tickets",
    "conversations",
    "agents",
    "contacts",
    "groups",
    "satisfaction_ratings",
];

/// Freshdesk's `priority` code as a tag.
pub fn priority(code: i64) -> Option<&'static str> {
    match code {
        1 => Some("priority-low"),
        2 => Some("priority-medium"),
        3 => Some("priority-high"),
        4 => Some("priority-urgent"),
        _ => None,
    }
}

/// A conversation's `source` code for the customer's survey feedback.
const SURVEY_FEEDBACK: i64 = 6;

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
    let mut contacts: HashMap<i64, Value> = HashMap::new();
    for (_, _, contact) in by_kind.remove("contacts").unwrap_or_default() {
        if let Some(id) = id_of(&contact["id"]) {
            if let Some(n) = text(&contact, "name") {
                names.insert(id, n.to_string());
            }
            contacts.insert(id, contact);
        }
    }
    let mut groups: HashMap<i64, String> = HashMap::new();
    for (_, _, group) in by_kind.remove("groups").unwrap_or_default() {
        if let (Some(id), Some(n)) = (id_of(&group["id"]), text(&group, "name")) {
            groups.insert(id, n.to_string());
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
        match ticket_record(&conversation, &ticket, &name_of, &groups, &contacts) {
            Ok(header) => out.record(&conversation, &file, &place, header),
            Err((field, reason)) => out.fail(Some(&conversation), err(&field, reason)),
        }
    }
    // Ratings first: survey feedback in the conversations becomes their comment.
    let mut surveys: Vec<(String, String, String, Value)> = Vec::new();
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
        let survey = super::csat_survey(&conversation, at, score, 7, text(&item, "feedback"));
        surveys.push((conversation, file, place, survey));
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
        if id_of(&item["source"]) == Some(SURVEY_FEEDBACK) {
            // The customer's comment on a satisfaction survey: the comment of the ticket's
            // rating nearest in time (when it has none of its own), else left out.
            let at = text(&item, "created_at").and_then(|t| t.parse::<jiff::Timestamp>().ok());
            let nearest = surveys
                .iter_mut()
                .filter(|(c, ..)| *c == conversation)
                .min_by_key(|(.., survey)| {
                    let rated = survey["at"]
                        .as_str()
                        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
                    match (at, rated) {
                        (Some(a), Some(r)) => (a.as_second() - r.as_second()).abs(),
                        _ => i64::MAX,
                    }
                });
            if let Some((.., survey)) = nearest
                && survey.get("comment").is_none()
                && let Some(body) = text(&item, "body_text")
            {
                survey["comment"] = Value::from(body);
            }
            continue;
        }
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
    for (conversation, file, place, survey) in surveys {
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
    groups: &HashMap<i64, String>,
    contacts: &HashMap<i64, Value>,
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
    let mut tags: Vec<Value> = ticket["tags"].as_array().cloned().unwrap_or_default();
    if let Some(tag) = id_of(&ticket["priority"]).and_then(priority) {
        tags.push(Value::from(tag));
    }
    for (field, prefix) in [("product_id", "product"), ("company_id", "company")] {
        if let Some(id) = id_of(&ticket[field]) {
            tags.push(Value::from(format!("{prefix}-{id}")));
        }
    }
    if !tags.is_empty() || ticket["tags"].is_array() {
        header["tags"] = Value::from(tags);
    }
    if let Some(group) = id_of(&ticket["group_id"]) {
        header["team"] = Value::from(
            groups
                .get(&group)
                .cloned()
                .unwrap_or_else(|| format!("group-{group}")),
        );
    }
    // The requester's name from the contacts pages, or embedded (`include=requester`).
    if let Some(customer) = name_of(id_of(&ticket["requester_id"]))
        .or_else(|| text(&ticket["requester"], "name").map(str::to_string))
    {
        header["customer"] = Value::from(customer);
    }
    // Address and name from the contacts pages or the embedded requester; the language only
    // the contacts pages have.
    let contact = id_of(&ticket["requester_id"]).and_then(|id| contacts.get(&id));
    let requester = &ticket["requester"];
    put_contact(
        &mut header,
        contact
            .and_then(|c| text(c, "email"))
            .or(text(requester, "email")),
        contact
            .and_then(|c| text(c, "name"))
            .or(text(requester, "name")),
        contact.and_then(|c| text(c, "language")),
    );
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
    // 4 resolved and 5 closed; 2 open, 3 pending, 6 and 7 (waiting) and custom statuses are open.
    let status =
        id_of(&ticket["status"]).ok_or_else(|| fail("status", "missing or not a number"))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_support::*;

    fn run(pages: &[Page]) -> Translation {
        translate_pages(pages, &SourceOptions::default()).expect("pages are readable")
    }

    fn of<'a>(t: &'a Translation, kind: &str, conversation: &str) -> Vec<&'a Value> {
        t.records
            .iter()
            .map(|r| &r.record)
            .filter(|r| {
                r["type"] == kind && (r["conversation"] == conversation || r["id"] == conversation)
            })
            .collect()
    }

    const TICKETS: &str = r#"[
        {"id": 23, "status": 5, "source": 10, "priority": 1, "group_id": null, "product_id": null,
         "company_id": 67001265522, "requester_id": 500, "responder_id": 600, "tags": [],
         "created_at": "2022-11-22T15:00:34Z", "updated_at": "2022-11-22T15:02:37Z", "subject": "Test",
         "description_text": "Test",
         "stats": {"resolved_at": "2022-11-22T15:00:34Z", "closed_at": "2022-11-22T15:00:34Z", "reopened_at": null}},
        {"id": 24, "status": 12, "source": 1, "priority": 4, "group_id": 7, "product_id": 9,
         "requester_id": 500, "created_at": "2022-11-23T10:00:00Z", "subject": "Custom status",
         "stats": {"resolved_at": null, "reopened_at": null}},
        {"id": 25, "status": 2, "source": 1, "priority": 2, "group_id": 8, "requester_id": 500,
         "created_at": "2022-11-23T11:00:00Z", "stats": {}}
    ]"#;

    #[test]
    fn the_requesters_address_name_and_language() {
        let t = run(&[
            page(
                "tickets.json",
                r#"[
                {"id": 1, "source": 1, "status": 2, "requester_id": 500, "created_at": "2022-11-23T10:00:00Z",
                 "requester": {"id": 500, "name": "Matt", "email": "matt@example.com"}},
                {"id": 2, "source": 1, "status": 2, "requester_id": 501, "created_at": "2022-11-23T10:00:00Z",
                 "requester": {"id": 501, "name": "Iryna", "email": "Iryna@Example.com"}},
                {"id": 3, "source": 1, "status": 2, "requester_id": 502, "created_at": "2022-11-23T10:00:00Z"}
            ]"#,
            ),
            page(
                "contacts.json",
                r#"[{"id": 500, "name": "Matt Rogers", "email": "matt.rogers@example.com", "language": "en"},
                    {"id": 502, "name": "Zoë", "email": null, "language": "nl"}]"#,
            ),
        ]);
        assert!(t.failures.is_empty(), "{:?}", t.failures);
        let contact = |id: &str| {
            let h = of(&t, "conversation", id)[0];
            [
                &h["customer_email"],
                &h["customer_name"],
                &h["customer_language"],
            ]
            .map(|v| v.as_str().map(String::from))
        };
        let some = |s: &str| Some(s.to_string());
        // The contacts page wins over the embedded requester; only it has the language.
        assert_eq!(
            contact("fd-1"),
            [
                some("matt.rogers@example.com"),
                some("Matt Rogers"),
                some("en")
            ]
        );
        assert_eq!(
            contact("fd-2"),
            [some("iryna@example.com"), some("Iryna"), None]
        );
        assert_eq!(contact("fd-3"), [None, some("Zoë"), some("nl")]);
    }

    #[test]
    fn survey_feedback_is_the_ratings_comment_not_a_message() {
        let t = run(&[
            page("tickets.json", TICKETS),
            page(
                "agents.json",
                r#"[{"id": 600, "contact": {"name": "Piet"}}]"#,
            ),
            page(
                "conversations.json",
                r#"[
                {"id": 1, "ticket_id": 23, "incoming": false, "private": false, "source": 0, "user_id": 600,
                 "created_at": "2022-11-22T15:02:12Z", "body_text": "Hi Iryna,"},
                {"id": 2, "ticket_id": 23, "incoming": true, "private": false, "source": 6, "user_id": 500,
                 "created_at": "2022-11-22T15:02:29Z", "body_text": "quick and kind"},
                {"id": 3, "ticket_id": 25, "incoming": true, "private": false, "source": 6, "user_id": 500,
                 "created_at": "2022-11-23T12:00:00Z", "body_text": "no rating for this one"}
            ]"#,
            ),
            page(
                "satisfaction_ratings.json",
                r#"[{"id": 9, "ticket_id": 23, "feedback": null, "created_at": "2022-11-22T15:02:29Z",
                     "ratings": {"default_question": 103}}]"#,
            ),
        ]);
        assert!(t.failures.is_empty(), "{:?}", t.failures);
        // Ticket 23 (closed) keeps one agent message besides its description, and no customer
        // reply after the resolution (which would have read as a reopen).
        assert_eq!(of(&t, "message", "fd-23").len(), 1);
        assert_eq!(
            of(&t, "survey", "fd-23"),
            [
                &json!({"type": "survey", "conversation": "fd-23", "at": "2022-11-22T15:02:29Z",
                     "kind": "csat", "score": 7, "scale": [1, 7], "comment": "quick and kind"})
            ]
        );
        // Ticket 25 has no rating: its feedback is left out.
        assert!(of(&t, "message", "fd-25").is_empty());
        assert!(of(&t, "survey", "fd-25").is_empty());
    }

    #[test]
    fn custom_statuses_are_open_and_group_priority_product_company_are_kept() {
        let t = run(&[
            page("tickets.json", TICKETS),
            page("groups.json", r#"[{"id": 7, "name": "Billing"}]"#),
        ]);
        assert!(t.failures.is_empty(), "{:?}", t.failures);
        let header = |c: &str| of(&t, "conversation", c)[0].clone();
        assert_eq!(
            header("fd-23")["tags"],
            json!(["priority-low", "company-67001265522"])
        );
        assert_eq!(header("fd-23").get("team"), None);
        assert_eq!(
            header("fd-23")["events"],
            json!([{"at": "2022-11-22T15:00:34Z", "event": "resolved"}])
        );
        let custom = header("fd-24");
        assert_eq!(custom["events"], json!([]), "status 12 is open");
        assert_eq!(custom["team"], "Billing");
        assert_eq!(custom["tags"], json!(["priority-urgent", "product-9"]));
        assert_eq!(header("fd-25")["team"], "group-8");
        for r in &t.records {
            r.parse().expect("a valid canonical record");
        }
    }

    #[test]
    fn a_bad_ticket_is_a_failure_and_the_others_go_on() {
        let t = run(&[page(
            "tickets.json",
            r#"[{"id": 1, "status": 2, "created_at": "2024-03-01T09:00:00Z", "stats": {}},
                {"id": 2, "status": 2, "source": 1, "created_at": "2024-03-01T09:00:00Z", "stats": {}}]"#,
        )]);
        assert_eq!(of(&t, "conversation", "fd-2").len(), 1);
        assert_eq!(
            t.failures[0].to_string(),
            "tickets.json: tickets[0]: field `source`: missing or not a number"
        );
    }
}
