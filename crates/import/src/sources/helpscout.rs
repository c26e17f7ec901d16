//! Help Scout: conversations of the Mailbox API 2.0 with their threads embedded
//! (`GET /v2/conversations?embed=threads`: `{"_embedded": {"conversations": [...]}}`, or a
//! single conversation per file), and ratings (`{"ratings": [...]}` pages, the happiness
//! report's `results`, or one rating per file as `GET /v2/ratings/{id}` answers it).
//!
//! Threads: `customer` = customer message; `message`, `reply`, `chat` or `phone` by a user =
//! agent message (by a customer = customer message); `note` = note. Each thread carries the
//! conversation's status after it: becoming `closed` = resolved, leaving `closed` for
//! `active` or `pending` = reopened (`nochange` and `spam` change nothing); a new
//! `assignedTo` user = assigned, a team = the conversation's team. A conversation with a
//! `closedAt` is resolved then, also when its threads do not say so. A thread's `rating` and
//! the ratings pages: Great / Okay / Not Good = CSAT 3 / 2 / 1.
//!
//! Times without an offset (the ratings' `createdAt`, e.g. `2017-12-12T12:12:13`) are UTC,
//! as Help Scout documents; see [`offsetless_zone`].

use std::collections::HashSet;
use std::path::PathBuf;

use jiff::tz::TimeZone;
use serde_json::{Value, json};

use super::json_pages::{Items, id_text, load, text};
use super::{SourceError, SourceOptions, Translated, Translation, local_to_rfc3339, put_contact};

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

/// The time zone of Help Scout times written without an offset: UTC, as Help Scout documents
/// them, unless the user gave `--timezone`.
fn offsetless_zone(options: &SourceOptions) -> TimeZone {
    if options.timezone_given {
        options.timezone.clone()
    } else {
        TimeZone::UTC
    }
}

/// A Help Scout time as RFC 3339: with an offset as written, without one in
/// [`offsetless_zone`].
fn time(value: &str, options: &SourceOptions) -> Result<String, String> {
    if value.parse::<jiff::Timestamp>().is_ok() {
        return Ok(value.to_string());
    }
    let civil: jiff::civil::DateTime = value
        .parse()
        .map_err(|e| format!("'{value}' is not a date and time: {e}"))?;
    local_to_rfc3339(civil, &offsetless_zone(options))
}

/// The instant of an RFC 3339 time, for ordering threads.
fn millis(rfc3339: &str) -> i64 {
    rfc3339
        .parse::<jiff::Timestamp>()
        .map_or(i64::MIN, |t| t.as_millisecond())
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
        } else if value["conversationId"].is_number() || value["conversationId"].is_string() {
            ratings.push((name.clone(), "rating".into(), value));
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

pub fn translate(files: &[PathBuf], options: &SourceOptions) -> Result<Translation, SourceError> {
    let (conversations, ratings) = read(files)?;
    // Threads whose rating the ratings pages hold (with its own time): not read twice.
    let rated: HashSet<(String, String)> = ratings
        .iter()
        .filter_map(|(_, _, r)| {
            Some((
                id_text(&r["conversationId"])?,
                id_text(&r["threadId"]).or_else(|| id_text(&r["threadid"]))?,
            ))
        })
        .collect();
    let mut out = Translation::default();
    for (file, place, c) in conversations {
        match conversation(&file, &place, &c, &rated, options) {
            Ok(record) => out.records.push(Translated {
                file,
                place,
                record,
            }),
            Err(e) => out.failures.push(e),
        }
    }
    for (file, place, r) in ratings {
        match rating(&file, &place, &r, options) {
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

/// A thread's status as the conversation's state: closed, open, or `None` when it changes
/// nothing (`nochange`, as older threads say; `spam`).
fn closed_after(status: &str) -> Result<Option<bool>, String> {
    match status {
        "closed" => Ok(Some(true)),
        "active" | "open" | "pending" => Ok(Some(false)),
        "nochange" | "spam" => Ok(None),
        other => Err(format!(
            "'{other}' is not a thread status servicemeter knows (active, pending, closed, spam, nochange)"
        )),
    }
}

/// One conversation with its threads as a nested canonical record.
fn conversation(
    file: &str,
    place: &str,
    c: &Value,
    rated: &HashSet<(String, String)>,
    options: &SourceOptions,
) -> Result<Value, SourceError> {
    let err = |field: &str, reason: String| SourceError::new(file, place, field, reason);
    let id = id_text(&c["id"]).ok_or_else(|| err("id", "missing".into()))?;
    let created = time(
        text(c, "createdAt").ok_or_else(|| err("createdAt", "missing".into()))?,
        options,
    )
    .map_err(|r| err("createdAt", r))?;
    let kind = c["source"]["type"]
        .as_str()
        .or(c["type"].as_str())
        .unwrap_or("");
    let mut header = json!({
        "type": "conversation",
        "id": format!("hs-{id}"),
        "channel": channel(kind),
        "created_at": created,
    });
    if let Some(subject) = text(c, "subject") {
        header["subject"] = Value::from(subject);
    }
    let mut tags: Vec<Value> = c["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| text(t, "tag").or(text(t, "name")))
        .map(Value::from)
        .collect();
    if let Some(mailbox) = id_text(&c["mailboxId"]) {
        tags.push(Value::from(format!("mailbox-{mailbox}")));
    }
    header["tags"] = Value::from(tags);
    if let Some(customer) = person(&c["primaryCustomer"]) {
        header["customer"] = Value::from(customer);
    }
    // The customer's address and name: the primary customer's, or (when the export holds only
    // its id) the first customer who wrote a thread. Help Scout keeps no language.
    let threads_of = c["_embedded"]["threads"]
        .as_array()
        .or(c["threads"].as_array())
        .map(Vec::as_slice)
        .unwrap_or_default();
    let contact = std::iter::once(&c["primaryCustomer"])
        .chain(
            threads_of
                .iter()
                .map(|t| &t["createdBy"])
                .filter(|p| p["type"].as_str() == Some("customer")),
        )
        .find(|p| text(p, "email").is_some());
    if let Some(p) = contact {
        let name = format!(
            "{} {}",
            p["first"].as_str().unwrap_or("").trim(),
            p["last"].as_str().unwrap_or("").trim()
        );
        put_contact(&mut header, text(p, "email"), Some(name.trim()), None);
    }
    let mut team: Option<String> = None;
    if let Some(assignee) = person(&c["assignee"]) {
        if c["assignee"]["type"].as_str() == Some("team") {
            team = Some(assignee);
        } else {
            header["agent"] = Value::from(assignee);
        }
    }
    let threads = threads_of;
    // Help Scout lists threads newest first: put them in time order (keeping their places).
    let mut timed = Vec::with_capacity(threads.len());
    for (k, t) in threads.iter().enumerate() {
        let thread_place = format!("{place}.threads[{k}]");
        let at = text(t, "createdAt")
            .ok_or_else(|| "missing".to_string())
            .and_then(|v| time(v, options))
            .map_err(|r| SourceError::new(file, &thread_place, "createdAt", r))?;
        timed.push((millis(&at), at, thread_place, t));
    }
    timed.sort_by_key(|(ms, ..)| *ms);
    let mut messages = Vec::new();
    let mut events: Vec<Value> = Vec::new();
    let mut surveys = Vec::new();
    let mut closed = false;
    let mut assigned: Option<String> = None;
    for (_, at, thread_place, t) in &timed {
        let terr =
            |field: &str, reason: String| SourceError::new(file, thread_place, field, reason);
        let by_customer = t["createdBy"]["type"].as_str() == Some("customer");
        let author = match t["type"].as_str().unwrap_or("") {
            "customer" => Some("customer"),
            "note" => Some("note"),
            "message" | "reply" | "chat" | "phone" => {
                Some(if by_customer { "customer" } else { "agent" })
            }
            "lineitem" | "forwardparent" | "forwardchild" | "beaconchat" => None,
            other => {
                return Err(terr(
                    "type",
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
        if let Some(status) = text(t, "status") {
            match closed_after(status).map_err(|r| terr("status", r))? {
                Some(true) if !closed => {
                    events.push(json!({"at": at, "event": "resolved"}));
                    closed = true;
                }
                Some(false) if closed => {
                    events.push(json!({"at": at, "event": "reopened"}));
                    closed = false;
                }
                _ => {}
            }
        }
        let to = &t["assignedTo"];
        if let Some(name) = person(to) {
            if to["type"].as_str() == Some("team") {
                team = Some(name);
            } else if assigned.as_ref() != Some(&name) {
                events.push(json!({"at": at, "event": "assigned", "agent": name}));
                assigned = Some(name);
            }
        }
        let rating = &t["rating"];
        let thread_id = id_text(&t["id"]);
        if !rating.is_null() && !thread_id.is_some_and(|tid| rated.contains(&(id.clone(), tid))) {
            // The thread's rating has no time of its own: the rated thread's time stands in.
            let value = rating["rating"].as_str().unwrap_or("");
            let score = happiness(value).ok_or_else(|| {
                terr(
                    "rating.rating",
                    format!("'{value}' is not Great, Okay or Not Good"),
                )
            })?;
            let mut survey = json!({"at": at, "kind": "csat", "score": score, "scale": [1, 3]});
            if let Some(comment) = text(rating, "comments") {
                survey["comment"] = Value::from(comment);
            }
            surveys.push(survey);
        }
    }
    // The conversation's own closing time, also when no thread status says so.
    if let Some(closed_at) = text(c, "closedAt") {
        let closed_at = time(closed_at, options).map_err(|r| err("closedAt", r))?;
        let instant = millis(&closed_at);
        if !events
            .iter()
            .any(|e| e["event"] == "resolved" && e["at"].as_str().map(millis) == Some(instant))
        {
            events.push(json!({"at": closed_at, "event": "resolved"}));
        }
    }
    if let Some(team) = team {
        header["team"] = Value::from(team);
    }
    header["messages"] = Value::from(messages);
    header["events"] = Value::from(events);
    if !surveys.is_empty() {
        header["surveys"] = Value::from(surveys);
    }
    Ok(header)
}

/// A rating of the ratings pages as a flat survey record.
fn rating(
    file: &str,
    place: &str,
    r: &Value,
    options: &SourceOptions,
) -> Result<Value, SourceError> {
    let err = |field: &str, reason: String| SourceError::new(file, place, field, reason);
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
    let (field, at) = ["ratingCreatedAt", "createdAt"]
        .into_iter()
        .find_map(|f| text(r, f).map(|v| (f, v)))
        .ok_or_else(|| err("ratingCreatedAt", "missing".into()))?;
    let at = time(at, options).map_err(|reason| err(field, reason))?;
    Ok(super::csat_survey(
        &format!("hs-{conversation}"),
        &at,
        score,
        3,
        text(r, "ratingComments").or(text(r, "comments")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_support::*;

    fn run(files: &[(&str, &str)]) -> Result<Translation, SourceError> {
        let (_dir, paths) = write_files(files);
        translate(&paths, &SourceOptions::default())
    }

    fn events(c: &Value) -> Vec<(String, String)> {
        c["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["event"].as_str().unwrap().to_string(),
                    e["at"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn offsetless_times_are_utc_and_thread_ratings_are_surveys() {
        let conversation = r#"{"id": 7, "type": "email", "status": "closed", "mailboxId": 13,
          "createdAt": "2024-03-04T09:00:00Z", "closedAt": "2024-03-04T12:00:00Z",
          "assignee": {"id": 2, "type": "team", "first": "Tier 2", "last": ""},
          "tags": [{"id": 1, "tag": "vip"}],
          "_embedded": {"threads": [
            {"id": 3, "type": "reply", "status": "nochange", "createdAt": "2024-03-04T10:30:00Z",
             "createdBy": {"type": "user", "first": "Lisa"}, "rating": {"rating": "okay", "comments": "Mwah"}},
            {"id": 2, "type": "reply", "status": "closed", "createdAt": "2024-03-04T10:00:00Z",
             "createdBy": {"type": "user", "first": "Lisa"}, "rating": {"rating": "great"},
             "assignedTo": {"id": 5, "type": "user", "first": "Lisa"}},
            {"id": 1, "type": "customer", "status": "active", "createdAt": "2024-03-04T09:00:00Z",
             "createdBy": {"type": "customer", "first": "Eva", "last": "de Boer", "email": "eva@example.nl"}}
          ]}, "primaryCustomer": {"id": 238604}}"#;
        let ratings = r#"{"ratings": [{"id": 1, "conversationId": 7, "threadId": 2, "rating": "great",
          "comments": "Top", "createdAt": "2017-12-12T12:12:13"}]}"#;
        let t = run(&[
            ("conversation-7.json", conversation),
            ("ratings.json", ratings),
        ])
        .unwrap();
        assert!(t.failures.is_empty(), "{:?}", t.failures);
        for r in &t.records {
            r.parse().unwrap();
        }
        let c = &t.records[0].record;
        assert_eq!(c["tags"], json!(["vip", "mailbox-13"]));
        assert_eq!(c["team"], "Tier 2");
        assert!(c.get("agent").is_none());
        // The primary customer is only an id: the address of the customer's own thread.
        assert_eq!(c["customer_email"], "eva@example.nl");
        assert_eq!(c["customer_name"], "Eva de Boer");
        // Closed with the reply at 10:00; `nochange` at 10:30 does not reopen; closedAt 12:00
        // is a resolution of its own (the status walk counts the first).
        assert_eq!(
            events(c),
            [
                ("resolved".into(), "2024-03-04T10:00:00Z".into()),
                ("assigned".into(), "2024-03-04T10:00:00Z".into()),
                ("resolved".into(), "2024-03-04T12:00:00Z".into()),
            ]
        );
        // Thread 2's rating comes from the ratings page (with its time); thread 3's from the
        // thread, at the thread's time.
        assert_eq!(
            c["surveys"],
            json!([{"at": "2024-03-04T10:30:00Z", "kind": "csat", "score": 2, "scale": [1, 3], "comment": "Mwah"}])
        );
        let survey = &t.records[1].record;
        assert_eq!(survey["at"], "2017-12-12T12:12:13Z");
        assert_eq!(survey["conversation"], "hs-7");
        assert_eq!(survey["comment"], "Top");
    }

    #[test]
    fn closed_at_resolves_when_threads_do_not_say_so() {
        let page = r#"{"_embedded": {"conversations": [
          {"id": 8, "status": "closed", "createdAt": "2024-03-04T09:00:00Z", "closedAt": "2024-03-04T09:40:00Z",
           "_embedded": {"threads": [
             {"id": 1, "type": "customer", "status": "active", "createdAt": "2024-03-04T09:00:00Z", "createdBy": {"type": "customer"}},
             {"id": 2, "type": "reply", "status": "active", "createdAt": "2024-03-04T09:30:00Z", "createdBy": {"type": "user", "first": "Tom"}}]}},
          {"id": 9, "status": "active", "createdAt": "2024-03-04T09:00:00Z",
           "_embedded": {"threads": [
             {"id": 3, "type": "reply", "status": "closed", "createdAt": "2024-03-04T09:10:00Z", "createdBy": {"type": "user"}},
             {"id": 4, "type": "note", "status": "nochange", "createdAt": "2024-03-04T09:20:00Z", "createdBy": {"type": "user"}},
             {"id": 5, "type": "customer", "status": "active", "createdAt": "2024-03-04T09:30:00Z", "createdBy": {"type": "customer"}}]}}
        ]}}"#;
        let t = run(&[("conversations.json", page)]).unwrap();
        assert!(t.failures.is_empty(), "{:?}", t.failures);
        assert_eq!(
            events(&t.records[0].record),
            [("resolved".into(), "2024-03-04T09:40:00Z".into())]
        );
        assert_eq!(
            events(&t.records[1].record),
            [
                ("resolved".into(), "2024-03-04T09:10:00Z".into()),
                ("reopened".into(), "2024-03-04T09:30:00Z".into()),
            ]
        );
    }

    #[test]
    fn a_bad_conversation_or_rating_is_a_failure_and_the_rest_goes_on() {
        let page = r#"{"_embedded": {"conversations": [
          {"id": 1, "createdAt": "2024-03-04T09:00:00Z", "_embedded": {"threads": [
            {"id": 1, "type": "customer", "createdAt": "2024-03-04T09:00:00Z"},
            {"id": 2, "type": "reply", "status": "archived", "createdAt": "2024-03-04T09:05:00Z"}]}},
          {"id": 2, "createdAt": "maandag"},
          {"id": 3, "createdAt": "2024-03-04T09:00:00Z", "_embedded": {"threads": [
            {"id": 3, "type": "customer", "createdAt": "2024-03-04T09:00:00Z", "rating": {"rating": "meh"}}]}},
          {"id": 4, "createdAt": "2024-03-04T09:00:00Z"}
        ]}}"#;
        let ratings = r#"{"ratings": [{"conversationId": 4, "rating": "Meh", "createdAt": "2024-03-04T10:00:00"},
          {"conversationId": 4, "rating": "Great", "createdAt": "2024-03-04T10:00:00"}]}"#;
        let t = run(&[("conversations.json", page), ("ratings.json", ratings)]).unwrap();
        let failures = places(&t.failures);
        assert_eq!(
            failures,
            [
                ("conversations[0].threads[1]".into(), "status".into()),
                ("conversations[1]".into(), "createdAt".into()),
                ("conversations[2].threads[0]".into(), "rating.rating".into()),
                ("ratings[0]".into(), "rating".into()),
            ]
        );
        let stored: Vec<&Value> = t.records.iter().map(|r| &r.record["at"]).collect();
        assert_eq!(stored.len(), 2, "conversation 4 and the Great rating");
        assert_eq!(t.records[1].record["at"], "2024-03-04T10:00:00Z");

        let whole = run(&[("other.json", r#"{"mailboxes": []}"#)]).unwrap_err();
        assert!(
            whole.reason.starts_with("holds no conversations"),
            "{whole}"
        );
    }
}
