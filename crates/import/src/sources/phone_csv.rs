//! servicemeter's generic call-record CSV, for phone systems without an importer of their own:
//!
//! ```text
//! call_id,queued_at,answered_at,ended_at,agent,outcome,queue,caller
//! c1,2024-03-04T09:00:10+01:00,2024-03-04T09:00:40+01:00,2024-03-04T09:05:40+01:00,Anna,answered,sales,0612345678
//! c2,2024-03-04 09:10:05,,2024-03-04 09:12:05,,abandoned,service,
//! ```
//!
//! Times are RFC 3339, or `YYYY-MM-DD HH:MM:SS` local in `--timezone`. `outcome` is `answered`,
//! `abandoned` (hung up while waiting) or `ivr` (ended in the voice menu); when it is empty it
//! follows from `answered_at`. `agent`, `queue` (a tag) and `caller` are optional columns.
//! The mapping is the call-centre format's: customer at `queued_at`, agent at `answered_at`,
//! resolved at `ended_at`.

use std::path::Path;

use serde_json::{Value, json};

use super::calls::{Answer, call_record};
use super::{
    SourceError, SourceOptions, Translated, Translation, local_to_rfc3339, per_row, read_csv,
};

fn instant(text: &str, options: &SourceOptions) -> Result<String, String> {
    let t = text.trim();
    if let Ok(ms) = servicemeter_core::time::parse_timestamp(t) {
        return Ok(servicemeter_core::time::format_utc(ms));
    }
    let local = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", t)
        .map_err(|_| format!("'{t}' is neither RFC 3339 nor YYYY-MM-DD HH:MM:SS"))?;
    local_to_rfc3339(local, &options.timezone)
}

pub fn translate(path: &Path, options: &SourceOptions) -> Result<Translation, SourceError> {
    let csv = read_csv(path)?;
    let [id_col, queued_col, answered_col, ended_col, outcome_col] =
        csv.columns(["call_id", "queued_at", "answered_at", "ended_at", "outcome"])?;
    let optional = |name: &str| csv.header.iter().position(|h| h == name);
    let (agent_col, queue_col, caller_col) =
        (optional("agent"), optional("queue"), optional("caller"));
    // A bad row is a failure of its own; the other rows go on (see `Translation`).
    let one_row = |line: &u64, row: &Vec<String>| -> Result<Option<Translated>, SourceError> {
        let place = format!("line {line}");
        let err = |field: &str, reason: String| SourceError::new(&csv.name, &place, field, reason);
        let cell = |i: usize| row[i].trim();
        let opt = |i: Option<usize>| i.map(|i| row[i].trim()).filter(|v| !v.is_empty());
        let id = cell(id_col);
        if id.is_empty() {
            return Err(err("call_id", "empty".into()));
        }
        let queued = instant(cell(queued_col), options).map_err(|r| err("queued_at", r))?;
        let answered = match cell(answered_col) {
            "" => None,
            t => Some(instant(t, options).map_err(|r| err("answered_at", r))?),
        };
        let ended = match cell(ended_col) {
            "" => None,
            t => Some(instant(t, options).map_err(|r| err("ended_at", r))?),
        };
        let outcome = match (cell(outcome_col), &answered) {
            ("", Some(_)) => "answered",
            ("", None) => "abandoned",
            (o @ ("answered" | "abandoned" | "ivr"), _) => o,
            (other, _) => {
                return Err(err(
                    "outcome",
                    format!("'{other}' is not answered, abandoned or ivr"),
                ));
            }
        };
        if outcome == "answered" && answered.is_none() {
            return Err(err(
                "answered_at",
                "an answered call needs the time it was answered".into(),
            ));
        }
        let mut header = json!({
            "type": "conversation",
            "id": format!("call-{id}"),
            "channel": "phone",
            "created_at": queued,
        });
        let mut tags = Vec::new();
        if let Some(queue) = opt(queue_col) {
            tags.push(Value::from(queue.to_lowercase()));
        }
        if outcome == "ivr" {
            tags.push(Value::from("ivr-only"));
        }
        header["tags"] = Value::from(tags);
        if let Some(caller) = opt(caller_col) {
            header["customer"] = Value::from(caller);
        }
        let waiting = (outcome != "ivr").then(|| queued.clone());
        let answer = match (outcome, answered) {
            ("answered", Some(at)) => Some(Answer {
                ended: ended.unwrap_or_else(|| at.clone()),
                at,
                agent: opt(agent_col),
            }),
            _ => None,
        };
        Ok(Some(Translated {
            file: csv.name.clone(),
            place,
            record: call_record(header, waiting, answer),
        }))
    };
    Ok(per_row(&csv.rows, one_row))
}
