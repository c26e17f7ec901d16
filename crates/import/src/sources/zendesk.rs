//! Zendesk: API JSON pages saved as files — `tickets` (e.g. the incremental ticket export),
//! `audits` (ticket audits), `users`, `groups`, legacy `satisfaction_ratings`, CSAT
//! `survey_responses` and the CSAT `surveys` they answer, in any files of a directory.
//!
//! Comments and status changes come from the audits: a comment's author role from the users
//! (end-user = customer, agent or admin = agent), `public: false` = note, and comments made by
//! triggers or automations (the audit's `via.source.rel`, or via channel `rule`) = bot. A public
//! comment by a user who is not in the users pages (deleted or erased users) is the customer's
//! when the user is the ticket's requester, else an agent's without a name (a warning says so).
//! Status set to solved = resolved; from solved back to open, new, pending or hold = reopened; a
//! new assignee = assigned. A ticket with status `deleted` becomes a deletion record only.
//! Legacy satisfaction good/bad = CSAT 2/1 on a 2-point scale, at the time it was answered
//! (`updated_at`); a CSAT survey response's customer-satisfaction rating = CSAT on the scale of
//! its survey's options.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use serde_json::{Value, json};

pub use super::json_pages::Page;
use super::json_pages::{Items, classify, id_of, id_text, load, text};
use super::{PerConversation, SourceError, SourceOptions, Translation, put_contact};

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

const KINDS: [&str; 8] = [
    "tickets",
    "audits",
    "ticket_audits",
    "users",
    "groups",
    "satisfaction_ratings",
    "survey_responses",
    "surveys",
];

struct Pages {
    tickets: Items,
    audits: Items,
    users: HashMap<i64, User>,
    groups: HashMap<i64, String>,
    ratings: Items,
    responses: Items,
    /// The highest rating of each CSAT survey version's customer-satisfaction question.
    scales: HashMap<(String, i64), i64>,
}

/// A user of the users pages: what the translation reads of them.
struct User {
    role: String,
    name: String,
    email: String,
    /// A BCP 47 tag such as `en-US` (`locale_id`, a number, is not read).
    locale: String,
}

fn read_pages(pages: &[Page], out: &mut PerConversation) -> Result<Pages, SourceError> {
    let mut by_kind = classify(pages, &KINDS, None)?;
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
        let field = |key: &str| item[key].as_str().unwrap_or("").to_string();
        users.insert(
            id,
            User {
                role: field("role"),
                name: field("name"),
                email: field("email"),
                locale: field("locale"),
            },
        );
    }
    let mut groups = HashMap::new();
    for (_, _, item) in by_kind.remove("groups").unwrap_or_default() {
        if let (Some(id), Some(name)) = (id_of(&item["id"]), text(&item, "name")) {
            groups.insert(id, name.to_string());
        }
    }
    let mut scales = HashMap::new();
    for (_, _, survey) in by_kind.remove("surveys").unwrap_or_default() {
        let (Some(id), Some(version)) = (id_text(&survey["id"]), id_of(&survey["version"])) else {
            continue;
        };
        let highest = survey["questions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|q| q["sub_type"].as_str() == Some("customer_satisfaction"))
            .flat_map(|q| q["options"].as_array().into_iter().flatten())
            .filter_map(|o| o["rating"].as_i64())
            .max();
        if let Some(highest) = highest {
            scales.insert((id, version), highest);
        }
    }
    let mut audits = by_kind.remove("audits").unwrap_or_default();
    audits.extend(by_kind.remove("ticket_audits").unwrap_or_default());
    Ok(Pages {
        tickets: by_kind.remove("tickets").unwrap_or_default(),
        audits,
        users,
        groups,
        ratings: by_kind.remove("satisfaction_ratings").unwrap_or_default(),
        responses: by_kind.remove("survey_responses").unwrap_or_default(),
        scales,
    })
}

/// Translates Zendesk pages saved as files. `Err` only for a file that cannot be read as pages;
/// a ticket with a problem is a failure of its own (see [`Translation`]).
pub fn translate(files: &[PathBuf], options: &SourceOptions) -> Result<Translation, SourceError> {
    translate_pages(&load(files)?, options)
}

/// When a ticket version was last updated (for choosing the latest of repeated tickets).
fn updated(ticket: &Value) -> Option<jiff::Timestamp> {
    text(ticket, "updated_at").and_then(|t| t.parse().ok())
}

/// The ticket a CSAT survey response is about: a `subjects` entry of type ticket (or request,
/// the end user's view of a ticket), else a `zen:ticket:123` name in `subject_zrns`.
fn response_ticket(response: &Value) -> Option<i64> {
    let subjects = response["subjects"].as_array().into_iter().flatten();
    for subject in subjects {
        if matches!(subject["type"].as_str(), Some("ticket" | "request"))
            && let Some(id) = id_of(&subject["id"])
        {
            return Some(id);
        }
    }
    let zrns = response["subject_zrns"].as_array().into_iter().flatten();
    zrns.filter_map(Value::as_str).find_map(|zrn| {
        let mut parts = zrn.split(':');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(_), Some("ticket" | "request"), Some(id), None) => id.parse().ok(),
            _ => None,
        }
    })
}

/// [`translate`] over pages in memory (as `sync` fetches them).
pub fn translate_pages(
    pages: &[Page],
    _options: &SourceOptions,
) -> Result<Translation, SourceError> {
    let mut out = PerConversation::default();
    let pages = read_pages(pages, &mut out)?;
    let user = |id: Option<i64>| id.and_then(|id| pages.users.get(&id));
    // A ticket may come more than once (pages of different times): its latest version counts.
    let mut latest: HashMap<i64, usize> = HashMap::new();
    for (i, (_, _, ticket)) in pages.tickets.iter().enumerate() {
        if let Some(id) = id_of(&ticket["id"]) {
            match latest.get(&id) {
                Some(&j) if updated(&pages.tickets[j].2) > updated(ticket) => {}
                _ => {
                    latest.insert(id, i);
                }
            }
        }
    }
    let mut deleted: HashSet<i64> = HashSet::new();
    let mut requesters: HashMap<i64, i64> = HashMap::new();
    for (i, (file, place, ticket)) in pages.tickets.iter().enumerate() {
        let err = |field: &str, reason: &str| SourceError::new(file, place, field, reason);
        let Some(id) = id_of(&ticket["id"]) else {
            out.fail(None, err("id", "missing or not a number"));
            continue;
        };
        if latest.get(&id) != Some(&i) {
            continue;
        }
        let conversation = format!("zd-{id}");
        if ticket["status"].as_str() == Some("deleted") {
            // Removed if it was stored before; nothing else of it is imported.
            deleted.insert(id);
            let deletion = json!({"type": "deletion", "conversation": conversation});
            out.record(&conversation, file, place, deletion);
            continue;
        }
        if let Some(requester) = id_of(&ticket["requester_id"]) {
            requesters.insert(id, requester);
        }
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
        let mut tags: Vec<Value> = ticket["tags"].as_array().cloned().unwrap_or_default();
        if let Some(priority) = text(ticket, "priority") {
            tags.push(Value::from(format!("priority-{priority}")));
        }
        if let Some(brand) = id_text(&ticket["brand_id"]) {
            tags.push(Value::from(format!("brand-{brand}")));
        }
        if !tags.is_empty() || ticket["tags"].is_array() {
            header["tags"] = Value::from(tags);
        }
        if let Some(group) = id_of(&ticket["group_id"]) {
            header["team"] = Value::from(
                pages
                    .groups
                    .get(&group)
                    .cloned()
                    .unwrap_or_else(|| format!("group-{group}")),
            );
        }
        // The requester, when an end-user (an agent who opened a ticket is no customer to
        // survey); an e-mail ticket's sender when the requester is gone from the users pages.
        let from = &ticket["via"]["source"]["from"];
        match user(id_of(&ticket["requester_id"])) {
            Some(requester) => {
                header["customer"] = Value::from(requester.name.as_str());
                if requester.role == "end-user" {
                    put_contact(
                        &mut header,
                        Some(&requester.email),
                        Some(&requester.name),
                        Some(&requester.locale),
                    );
                }
            }
            None => put_contact(&mut header, text(from, "address"), text(from, "name"), None),
        }
        if let Some(agent) = user(id_of(&ticket["assignee_id"])) {
            header["agent"] = Value::from(agent.name.as_str());
        }
        out.record(&conversation, file, place, header);
    }
    for (file, place, audit) in &pages.audits {
        let err = |field: &str, reason: String| SourceError::new(file, place, field, reason);
        let Some(ticket) = id_of(&audit["ticket_id"]) else {
            out.fail(None, err("ticket_id", "missing or not a number".into()));
            continue;
        };
        if deleted.contains(&ticket) {
            continue;
        }
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
                        ("note", user(author_id).map(|u| u.name.clone()))
                    } else if by_rule {
                        ("bot", None)
                    } else {
                        match user(author_id) {
                            Some(User { role, name, .. }) if role == "agent" || role == "admin" => {
                                ("agent", Some(name.clone()))
                            }
                            Some(User { role, .. }) if role == "end-user" => ("customer", None),
                            Some(User { role, .. }) => {
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
                                // A deleted or erased user: the requester is the customer,
                                // anyone else answered on the company's side.
                                let requester = requesters.get(&ticket).copied();
                                let (author, how) = if author_id.is_some() && author_id == requester
                                {
                                    ("customer", "the ticket's requester: a customer message")
                                } else {
                                    (
                                        "agent",
                                        "not the requester: an agent message without a name",
                                    )
                                };
                                out.warn(SourceError::new(
                                    file,
                                    &event_place,
                                    "author_id",
                                    format!(
                                        "user {} is not in the users pages; taken as {how}",
                                        author_id.map_or("(none)".into(), |a| a.to_string())
                                    ),
                                ));
                                (author, None)
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
                            && let Some(User { name, .. }) =
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
        if deleted.contains(&ticket) {
            continue;
        }
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
        // Answered when last updated (created is when the survey was offered).
        let Some(at) = text(rating, "updated_at").or(text(rating, "created_at")) else {
            out.fail(Some(&conversation), err("updated_at", "missing".into()));
            continue;
        };
        let survey = super::csat_survey(&conversation, at, score, 2, text(rating, "comment"));
        out.record(&conversation, file, place, survey);
    }
    for (file, place, response) in &pages.responses {
        let err = |field: &str, reason: String| SourceError::new(file, place, field, reason);
        let Some(ticket) = response_ticket(response) else {
            out.warn(err(
                "subjects",
                "not about a ticket (e.g. a messaging conversation); left out".into(),
            ));
            continue;
        };
        if deleted.contains(&ticket) {
            continue;
        }
        let conversation = format!("zd-{ticket}");
        let answers = response["answers"].as_array().map(Vec::as_slice);
        let answer = answers.unwrap_or_default().iter().find(|a| {
            a["question"]["sub_type"].as_str() == Some("customer_satisfaction")
                && a["rating"].is_number()
        });
        // Skipped, or no rating question: no CSAT response.
        let Some(answer) = answer else { continue };
        let Some(score) = answer["rating"].as_i64() else {
            out.fail(
                Some(&conversation),
                err("answers.rating", "not a whole number".into()),
            );
            continue;
        };
        let Some(at) = text(answer, "updated_at").or(text(answer, "created_at")) else {
            out.fail(
                Some(&conversation),
                err("answers.updated_at", "missing".into()),
            );
            continue;
        };
        let survey_id = id_text(&response["survey"]["id"]).or(id_text(&response["survey_id"]));
        let version = id_of(&response["survey"]["version"]).or(id_of(&response["survey_version"]));
        let highest = survey_id
            .clone()
            .zip(version)
            .and_then(|key| pages.scales.get(&key));
        let Some(&highest) = highest else {
            out.fail(
                Some(&conversation),
                err(
                    "survey",
                    format!(
                        "the rating scale of survey {} version {} is unknown: add the CSAT survey (with its questions) to the pages",
                        survey_id.unwrap_or_else(|| "(none)".into()),
                        version.map_or("(none)".into(), |v| v.to_string())
                    ),
                ),
            );
            continue;
        };
        let survey = super::csat_survey(&conversation, at, score, highest, None);
        out.record(&conversation, file, place, survey);
    }
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_support::*;

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

    fn records_of<'a>(t: &'a Translation, conversation: &str) -> Vec<&'a Value> {
        t.records
            .iter()
            .map(|r| &r.record)
            .filter(|r| r["conversation"] == conversation || r["id"] == conversation)
            .collect()
    }

    #[test]
    fn deleted_tickets_become_deletions_and_nothing_else() {
        let t = run(&[
            page(
                "tickets.json",
                r#"{"tickets": [
                    {"id": 5, "status": "deleted", "subject": "SCRUBBED", "created_at": "2024-03-01T09:00:00Z",
                     "updated_at": "2024-03-02T09:00:00Z", "via": {"channel": "api"}},
                    {"id": 6, "status": "open", "created_at": "2024-03-01T09:00:00Z",
                     "updated_at": "2024-03-03T09:00:00Z", "via": {"channel": "api"}},
                    {"id": 6, "status": "deleted", "created_at": "2024-03-01T09:00:00Z",
                     "updated_at": "2024-03-02T09:00:00Z", "via": {"channel": "api"}}
                ]}"#,
            ),
            page(
                "audits.json",
                r#"{"audits": [{"ticket_id": 5, "created_at": "2024-03-01T09:00:00Z", "author_id": 404,
                     "events": [{"type": "Comment", "id": 1, "public": true, "body": "x"}]}]}"#,
            ),
            page(
                "satisfaction_ratings.json",
                r#"{"satisfaction_ratings": [{"ticket_id": 5, "score": "nonsense"}]}"#,
            ),
        ]);
        // Ticket 5: only the deletion (its comment and rating are not read, so no warning or
        // failure either). Ticket 6 was deleted and restored later: the latest version counts.
        assert_eq!(
            records_of(&t, "zd-5"),
            [&json!({"type": "deletion", "conversation": "zd-5"})]
        );
        assert_eq!(ids(&t), ["deletion zd-5", "conversation zd-6"]);
        assert!(t.failures.is_empty() && t.warnings.is_empty(), "{t:?}");
    }

    #[test]
    fn the_requesters_address_name_and_locale_when_an_end_user() {
        let t = run(&[
            page(
                "tickets.json",
                r#"{"tickets": [
                    {"id": 1, "requester_id": 10, "created_at": "2024-03-01T09:00:00Z", "via": {"channel": "email"}},
                    {"id": 2, "requester_id": 11, "created_at": "2024-03-01T09:00:00Z", "via": {"channel": "email"}},
                    {"id": 3, "requester_id": 12, "created_at": "2024-03-01T09:00:00Z", "via": {"channel": "web"}},
                    {"id": 4, "requester_id": 404, "created_at": "2024-03-01T09:00:00Z",
                     "via": {"channel": "email", "source": {"from": {"address": "Piet@Example.nl", "name": "Piet"}}}},
                    {"id": 5, "requester_id": 13, "created_at": "2024-03-01T09:00:00Z", "via": {"channel": "email"}}
                ]}"#,
            ),
            page(
                "users.json",
                r#"{"users": [
                    {"id": 10, "role": "end-user", "name": "Jan Jansen", "email": "jan@example.nl", "locale": "nl", "locale_id": 1005},
                    {"id": 11, "role": "end-user", "name": "Sam", "email": null, "locale": "en-US"},
                    {"id": 12, "role": "admin", "name": "Anna", "email": "anna@shop.nl", "locale": "nl"},
                    {"id": 13, "role": "end-user", "name": "Kim", "email": "not an address", "locale": "Dutch"}
                ]}"#,
            ),
        ]);
        let header = |id: &str| records_of(&t, id)[0].clone();
        let contact = |id: &str| {
            let h = header(id);
            (
                h["customer_email"].as_str().map(String::from),
                h["customer_name"].as_str().map(String::from),
                h["customer_language"].as_str().map(String::from),
            )
        };
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            contact("zd-1"),
            (some("jan@example.nl"), some("Jan Jansen"), some("nl"))
        );
        assert_eq!(contact("zd-2"), (None, some("Sam"), some("en-us")));
        // An agent who opened a ticket is named as before, but is no customer to ask.
        assert_eq!(contact("zd-3"), (None, None, None));
        assert_eq!(header("zd-3")["customer"], "Anna");
        // A requester gone from the users pages: the e-mail's sender.
        assert_eq!(
            contact("zd-4"),
            (some("piet@example.nl"), some("Piet"), None)
        );
        // Values that are no address or language tag are left out; the ticket stays.
        assert_eq!(contact("zd-5"), (None, some("Kim"), None));
        assert!(t.failures.is_empty(), "{:?}", t.failures);
    }

    #[test]
    fn comments_by_users_missing_from_the_users_pages_never_abort() {
        let t = run(&[
            page(
                "tickets.json",
                r#"{"tickets": [{"id": 7, "requester_id": 70, "created_at": "2024-03-01T09:00:00Z",
                                 "via": {"channel": "email"}}]}"#,
            ),
            page(
                "users.json",
                r#"{"users": [{"id": 1, "role": "admin", "name": "Anna"}]}"#,
            ),
            page(
                "audits.json",
                r#"{"audits": [
                    {"ticket_id": 7, "created_at": "2024-03-01T09:00:00Z", "author_id": 70,
                     "events": [{"type": "Comment", "id": 1, "author_id": 70, "public": true, "body": "help"}]},
                    {"ticket_id": 7, "created_at": "2024-03-01T09:30:00Z", "author_id": 71,
                     "events": [{"type": "Comment", "id": 2, "author_id": 71, "public": true, "body": "on it"}]},
                    {"ticket_id": 7, "created_at": "2024-03-01T09:40:00Z", "author_id": 71,
                     "events": [{"type": "Comment", "id": 3, "author_id": 71, "public": false, "body": "note"}]}
                ]}"#,
            ),
        ]);
        assert!(t.failures.is_empty(), "{:?}", t.failures);
        let authors: Vec<(&str, Option<&str>)> = records_of(&t, "zd-7")
            .iter()
            .filter(|r| r["type"] == "message")
            .map(|r| (r["author"].as_str().unwrap(), r["agent"].as_str()))
            .collect();
        assert_eq!(
            authors,
            [("customer", None), ("agent", None), ("note", None)]
        );
        let warnings: Vec<String> = t.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(
            warnings,
            [
                "audits.json: audits[0].events[0]: field `author_id`: user 70 is not in the users pages; taken as the ticket's requester: a customer message",
                "audits.json: audits[1].events[0]: field `author_id`: user 71 is not in the users pages; taken as not the requester: an agent message without a name",
            ]
        );
    }

    #[test]
    fn legacy_ratings_at_their_answer_and_survey_responses_on_their_scale() {
        let t = run(&[
            page(
                "tickets.json",
                r#"{"tickets": [
                    {"id": 8, "created_at": "2024-03-01T09:00:00Z", "via": {"channel": "email"}},
                    {"id": 9, "created_at": "2024-03-01T09:00:00Z", "via": {"channel": "email"}},
                    {"id": 10, "created_at": "2024-03-01T09:00:00Z", "via": {"channel": "email"}}
                ]}"#,
            ),
            page(
                "satisfaction_ratings.json",
                r#"{"satisfaction_ratings": [{"ticket_id": 8, "score": "bad", "comment": "slow",
                    "created_at": "2024-03-02T09:00:00Z", "updated_at": "2024-03-04T10:00:00Z"}]}"#,
            ),
            page(
                "surveys.json",
                r#"{"surveys": [{"id": "S1", "version": 2, "state": "enabled", "questions": [
                    {"id": "Q1", "type": "rating_scale_numeric", "sub_type": "customer_satisfaction",
                     "options": [{"rating": 1}, {"rating": 2}, {"rating": 3}, {"rating": 4}, {"rating": 5}]},
                    {"id": "Q2", "type": "open_ended"}]}]}"#,
            ),
            page(
                "survey_responses.json",
                r#"{"survey_responses": [
                    {"id": "R1", "subjects": [{"id": "9", "type": "ticket", "zrn": "zen:ticket:9"}],
                     "survey": {"id": "S1", "version": 2, "state": "enabled"},
                     "answers": [{"type": "rating_scale", "rating": 4,
                                  "question": {"id": "Q1", "type": "rating_scale_numeric", "sub_type": "customer_satisfaction"},
                                  "created_at": "2024-03-05T08:00:00.000Z", "updated_at": "2024-03-05T08:01:00.000Z"},
                                 {"type": "skipped", "question": {"id": "Q2", "type": "open_ended", "alias": "comment"},
                                  "created_at": "2024-03-05T08:00:00.000Z", "updated_at": "2024-03-05T08:00:00.000Z"}]},
                    {"id": "R2", "subject_zrns": ["zen:ticket:10"], "survey_id": "S1", "survey_version": 3,
                     "answers": [{"type": "rating_scale", "rating": 2,
                                  "question": {"id": "Q1", "sub_type": "customer_satisfaction"},
                                  "updated_at": "2024-03-05T08:00:00.000Z"}]},
                    {"id": "R3", "subject_zrns": ["zen:conversation:4295a81b"], "answers": []},
                    {"id": "R4", "subject_zrns": ["zen:ticket:8"], "survey": {"id": "S1", "version": 2},
                     "answers": [{"type": "skipped", "question": {"id": "Q1", "sub_type": "customer_satisfaction"},
                                  "updated_at": "2024-03-05T08:00:00.000Z"}]}
                ]}"#,
            ),
        ]);
        let survey_of = |c: &str| {
            records_of(&t, c)
                .into_iter()
                .find(|r| r["type"] == "survey")
                .cloned()
        };
        assert_eq!(
            survey_of("zd-8"),
            Some(
                json!({"type": "survey", "conversation": "zd-8", "at": "2024-03-04T10:00:00Z",
                        "kind": "csat", "score": 1, "scale": [1, 2], "comment": "slow"})
            )
        );
        assert_eq!(
            survey_of("zd-9"),
            Some(
                json!({"type": "survey", "conversation": "zd-9", "at": "2024-03-05T08:01:00.000Z",
                        "kind": "csat", "score": 4, "scale": [1, 5]})
            )
        );
        // Version 3 of the survey is not in the pages: its scale is unknown, the ticket is
        // rejected whole.
        assert!(records_of(&t, "zd-10").is_empty());
        let failures: Vec<String> = t.failures.iter().map(|f| f.to_string()).collect();
        assert_eq!(
            failures,
            [
                "survey_responses.json: survey_responses[1]: field `survey`: the rating scale of survey S1 version 3 is unknown: add the CSAT survey (with its questions) to the pages"
            ]
        );
        assert_eq!(
            t.warnings.len(),
            1,
            "the messaging conversation: {:?}",
            t.warnings
        );
        assert_eq!(t.warnings[0].place, "survey_responses[2]");
        for r in &t.records {
            r.parse().expect("a valid canonical record");
        }
    }

    #[test]
    fn group_priority_and_brand_are_kept() {
        let t = run(&[
            page(
                "tickets.json",
                r#"{"tickets": [
                    {"id": 11, "created_at": "2024-03-01T09:00:00Z", "via": {"channel": "web"}, "tags": ["levering"],
                     "group_id": 360004077472, "priority": "high", "brand_id": 360002256672},
                    {"id": 12, "created_at": "2024-03-01T09:00:00Z", "via": {"channel": "web"},
                     "group_id": 44, "priority": null, "brand_id": null}
                ]}"#,
            ),
            page(
                "groups.json",
                r#"{"groups": [{"id": 44, "name": "Support NL"}]}"#,
            ),
        ]);
        let header = |c: &str| records_of(&t, c)[0].clone();
        assert_eq!(header("zd-11")["team"], "group-360004077472");
        assert_eq!(
            header("zd-11")["tags"],
            json!(["levering", "priority-high", "brand-360002256672"])
        );
        assert_eq!(header("zd-12")["team"], "Support NL");
        assert_eq!(header("zd-12").get("tags"), None);
        for r in &t.records {
            r.parse().expect("a valid canonical record");
        }
    }
}
