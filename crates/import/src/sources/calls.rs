//! Call records in the call-centre research format: `vru+line, call_id, customer_id, priority,
//! type, date, vru_entry, vru_exit, vru_time, q_start, q_exit, q_time, outcome, ser_start,
//! ser_exit, ser_time, server`. Times are local `H:MM:SS` on `date`; `0:00:00` in `q_start` or
//! `ser_start` means the call never reached that stage.
//!
//! A call is a phone conversation: the customer "speaks" when the call enters the queue (or,
//! served without queueing, when service starts), the agent when service starts, and the call
//! is resolved when service ends. A caller who hangs up in the queue is unanswered (abandoned).
//! Calls that end in the voice menu have no customer message (they are in the volume, not in
//! the waiting figures) and are tagged `ivr-only`; `PHANTOM` calls are left out. A served
//! call whose agent is `NO_SERVER` is answered by an agent without a name; an `AGENT` call
//! without a service start is answered when it left the queue (or the voice menu), with no
//! handle time.

use std::path::Path;

use jiff::civil::{Date, DateTime, Time};
use serde_json::{Value, json};

use super::{
    SourceError, SourceOptions, Translated, Translation, local_to_rfc3339, per_row, read_csv,
};

fn clock(text: &str) -> Result<Option<Time>, String> {
    let t = text.trim();
    if t == "0:00:00" || t == "00:00:00" {
        return Ok(None);
    }
    let parts: Vec<&str> = t.split(':').collect();
    let parsed = match parts.as_slice() {
        [h, m, s] => h
            .parse::<i8>()
            .ok()
            .zip(m.parse::<i8>().ok())
            .zip(s.parse::<i8>().ok())
            .and_then(|((h, m), s)| Time::new(h, m, s, 0).ok()),
        _ => None,
    };
    parsed
        .map(Some)
        .ok_or_else(|| format!("'{t}' is not a time of day (H:MM:SS)"))
}

/// How a call was answered (times in RFC 3339).
pub(crate) struct Answer<'a> {
    pub at: String,
    pub ended: String,
    pub agent: Option<&'a str>,
}

/// A call as a phone conversation: the caller "speaks" when waiting begins, the agent when
/// answering, and the call is resolved when it ends. `header` is the conversation record
/// without messages and events.
pub(crate) fn call_record(
    mut header: Value,
    waiting: Option<String>,
    answer: Option<Answer>,
) -> Value {
    let mut messages = Vec::new();
    let mut events = Vec::new();
    if let Some(at) = waiting {
        messages.push(json!({"at": at, "author": "customer"}));
    }
    if let Some(answer) = answer {
        let mut m = json!({"at": answer.at, "author": "agent"});
        let mut e = json!({"at": answer.ended, "event": "resolved"});
        if let Some(agent) = answer.agent {
            header["agent"] = Value::from(agent);
            m["agent"] = Value::from(agent);
            e["agent"] = Value::from(agent);
        }
        messages.push(m);
        events.push(e);
    }
    header["messages"] = Value::from(messages);
    header["events"] = Value::from(events);
    header
}

pub fn translate(path: &Path, options: &SourceOptions) -> Result<Translation, SourceError> {
    let csv = read_csv(path)?;
    let [
        line_col,
        call_col,
        type_col,
        date_col,
        vru_entry_col,
        q_start_col,
        outcome_col,
        ser_start_col,
        ser_exit_col,
        server_col,
        priority_col,
        vru_exit_col,
        q_exit_col,
    ] = csv.columns([
        "vru+line",
        "call_id",
        "type",
        "date",
        "vru_entry",
        "q_start",
        "outcome",
        "ser_start",
        "ser_exit",
        "server",
        "priority",
        "vru_exit",
        "q_exit",
    ])?;
    // A bad row is a failure of its own; the other rows go on (see `Translation`).
    let one_row = |line: &u64, row: &Vec<String>| -> Result<Option<Translated>, SourceError> {
        let place = format!("line {line}");
        let err = |field: &str, reason: String| SourceError::new(&csv.name, &place, field, reason);
        let outcome = row[outcome_col].trim();
        if outcome == "PHANTOM" {
            return Ok(None);
        }
        if !matches!(outcome, "AGENT" | "HANG") {
            return Err(err(
                "outcome",
                format!("'{outcome}' is not AGENT, HANG or PHANTOM"),
            ));
        }
        let date: Date = row[date_col].trim().parse().map_err(|_| {
            err(
                "date",
                format!("'{}' is not a date (YYYY-MM-DD)", row[date_col].trim()),
            )
        })?;
        // Times after midnight of a call that began before it belong to the next day.
        // The arrival is always there; 0:00:00 here is midnight.
        let entry = clock(&row[vru_entry_col])
            .map_err(|r| err("vru_entry", r))?
            .unwrap_or(Time::midnight());
        let instant = |field: &str, t: Time| -> Result<String, SourceError> {
            let day = if t < entry {
                date.tomorrow().map_err(|e| err(field, e.to_string()))?
            } else {
                date
            };
            local_to_rfc3339(DateTime::from_parts(day, t), &options.timezone)
                .map_err(|r| err(field, r))
        };
        let id = row[call_col].trim();
        if id.is_empty() {
            return Err(err("call_id", "empty".into()));
        }
        // A call id is unique per voice-menu line, not across lines.
        let conversation = format!("call-{date}-{}-{id}", row[line_col].trim());
        let queue = clock(&row[q_start_col]).map_err(|r| err("q_start", r))?;
        let service = clock(&row[ser_start_col]).map_err(|r| err("ser_start", r))?;
        let service_end = clock(&row[ser_exit_col]).map_err(|r| err("ser_exit", r))?;
        let server = row[server_col].trim();
        let mut tags = vec![Value::from(row[type_col].trim().to_lowercase())];
        if queue.is_none() && outcome == "HANG" {
            tags.push(Value::from("ivr-only"));
        }
        if row[priority_col].trim() != "0" && !row[priority_col].trim().is_empty() {
            tags.push(Value::from(format!(
                "priority-{}",
                row[priority_col].trim()
            )));
        }
        let mut header = json!({
            "type": "conversation",
            "id": conversation,
            "channel": "phone",
            "created_at": instant("vru_entry", entry)?,
            "tags": tags,
        });
        let customer = row
            .get(
                csv.header
                    .iter()
                    .position(|h| h == "customer_id")
                    .unwrap_or(usize::MAX),
            )
            .map(|c| c.trim())
            .filter(|c| !c.is_empty() && *c != "0");
        if let Some(customer) = customer {
            header["customer"] = Value::from(customer);
        }
        // When an agent took the call: service start; for the few AGENT calls without one,
        // the moment the call left the queue (or the voice menu).
        let answered = if outcome == "AGENT" {
            match service {
                Some(s) => Some(("ser_start", s)),
                None => {
                    let (field, column) = if queue.is_some() {
                        ("q_exit", q_exit_col)
                    } else {
                        ("vru_exit", vru_exit_col)
                    };
                    let at = clock(&row[column]).map_err(|r| err(field, r))?;
                    Some((field, at.unwrap_or(entry)))
                }
            }
        } else {
            None
        };
        let waiting = match (queue, answered) {
            (Some(q), _) => Some(instant("q_start", q)?),
            (None, Some((field, at))) => Some(instant(field, at)?),
            (None, None) => None,
        };
        let answer = match answered {
            Some((field, start)) => {
                let (end_field, end) = match (service, service_end) {
                    (Some(_), Some(end)) => ("ser_exit", end),
                    _ => (field, start),
                };
                Some(Answer {
                    at: instant(field, start)?,
                    ended: instant(end_field, end)?,
                    // A few served calls name no agent (NO_SERVER): someone unknown.
                    agent: Some(server).filter(|a| !a.is_empty() && *a != "NO_SERVER"),
                })
            }
            None => None,
        };
        Ok(Some(Translated {
            file: csv.name.clone(),
            place,
            record: call_record(header, waiting, answer),
        }))
    };
    Ok(per_row(&csv.rows, one_row))
}
