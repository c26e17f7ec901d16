//! Live intake: a batch of canonical records (a JSON array or JSON Lines) validated like the
//! command-line import and stored through the same pipeline, durably, before the answer.

use serde::Serialize;
use servicemeter_core::{Calendars, Conversation};
use servicemeter_import::parse_record;
use servicemeter_store::{ImportRun, ImportTotals, Store, Workspace};

use crate::data;
use crate::error::WebError;
use crate::state::AppState;

/// Largest body accepted (bytes).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// A record that was not stored, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    /// Position in the batch: array index from 0, or line number from 1 for JSON Lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub field: String,
    pub reason: String,
}

/// The answer to a batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntakeOutcome {
    pub received: usize,
    pub stored: usize,
    pub new_conversations: u64,
    pub updated_conversations: u64,
    pub rejected: Vec<Rejected>,
}

/// Splits a body into records: a JSON array's items, or one record per non-empty line.
pub fn parse_batch(body: &str) -> Result<(Vec<Conversation>, Vec<Rejected>, usize), WebError> {
    let mut records = Vec::new();
    let mut rejected = Vec::new();
    let trimmed = body.trim_start();
    if trimmed.starts_with('[') {
        let items: Vec<Box<serde_json::value::RawValue>> =
            serde_json::from_str(trimmed).map_err(|e| {
                WebError::BadRequest(format!(
                    "body: not a JSON array of records (line {}, column {}: {e})",
                    e.line(),
                    e.column()
                ))
            })?;
        let received = items.len();
        for (index, item) in items.iter().enumerate() {
            match parse_record(item.get()) {
                Ok(c) => records.push(c),
                Err(e) => rejected.push(Rejected {
                    index: Some(index),
                    line: None,
                    field: e.field,
                    reason: e.reason,
                }),
            }
        }
        return Ok((records, rejected, received));
    }
    let mut received = 0;
    for (i, line) in body.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        received += 1;
        match parse_record(line) {
            Ok(c) => records.push(c),
            Err(e) => rejected.push(Rejected {
                index: None,
                line: Some(i + 1),
                field: e.field,
                reason: e.reason,
            }),
        }
    }
    Ok((records, rejected, received))
}

/// Stores a batch's valid records in one transaction; returns once they are durable.
/// A signed delivery, remembered with its records so that it is applied once (by whichever
/// process receives it first) within its replay window.
#[derive(Debug)]
pub struct Delivery {
    /// The signature, in hex.
    pub signature: String,
    /// Unix seconds.
    pub now: i64,
    /// Remembered until then (unix seconds).
    pub until: i64,
}

pub async fn store_batch<S: Store>(
    state: &AppState<S>,
    workspace: &Workspace,
    body: &str,
    source: &str,
    delivery: Option<&Delivery>,
) -> Result<IntakeOutcome, WebError> {
    let (records, rejected, received) = parse_batch(body)?;
    if received == 0 {
        return Err(WebError::BadRequest(
            "body: no records (send a JSON array or JSON Lines)".into(),
        ));
    }
    let stored = records.len();
    let mut totals = ImportTotals::default();
    if stored > 0 {
        let calendars = std::sync::Arc::new(Calendars::new(data::config(workspace)?));
        let session = state.store.begin_import(workspace.id).await?;
        let mut run = ImportRun::new(session, calendars, state.now_millis());
        if let Some(d) = delivery
            && !run.remember_delivery(&d.signature, d.now, d.until).await?
        {
            // Dropped uncommitted: nothing of it is stored a second time.
            return Err(WebError::Conflict(
                "this delivery was received before; it is not applied again".into(),
            ));
        }
        for record in records {
            run.add(record).await?;
        }
        for _ in &rejected {
            run.reject();
        }
        totals = run.finish(source.to_string()).await?;
    }
    state.metrics.intake(stored, rejected.len());
    Ok(IntakeOutcome {
        received,
        stored,
        new_conversations: totals.outcome.new_conversations,
        updated_conversations: totals.outcome.updated_conversations,
        rejected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_arrays_or_lines_and_name_their_bad_records() {
        let array = r#"[
            {"type":"conversation","id":"a","channel":"chat","created_at":"2024-03-04T09:00:00Z"},
            {"type":"message","conversation":"a","at":"yesterday","author":"customer"}
        ]"#;
        let (records, rejected, received) = parse_batch(array).unwrap();
        assert_eq!((records.len(), received), (1, 2));
        assert_eq!(rejected[0].index, Some(1));
        assert_eq!(rejected[0].field, "at");

        let lines = "{\"type\":\"survey\",\"conversation\":\"a\",\"at\":\"2024-03-04T10:00:00Z\",\"kind\":\"csat\",\"score\":9}\n\n{\"type\":\"conversation\",\"id\":\"b\",\"channel\":\"email\",\"created_at\":\"2024-03-04T09:00:00Z\"}\n";
        let (records, rejected, received) = parse_batch(lines).unwrap();
        assert_eq!((records.len(), received), (1, 2));
        assert_eq!(rejected[0].line, Some(1));
        assert_eq!(rejected[0].field, "score");

        let broken = parse_batch("[{\"type\":").unwrap_err();
        assert!(
            broken.to_string().starts_with("body: not a JSON array"),
            "{broken}"
        );
    }
}
