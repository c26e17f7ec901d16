//! The one import pipeline: partial conversations in, merged in bounded batches into an
//! all-or-nothing [`ImportSession`]. Every source (files, API intake, importers) goes through it.

use std::sync::Arc;

use servicemeter_core::model::Author;
use servicemeter_core::{Calendars, Conversation};

use crate::{BatchOutcome, ImportSession, ImportSummary, StoreError};

/// Records held in memory before they are merged into the store.
pub const BATCH_RECORDS: usize = 20_000;

/// Counts of one import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportTotals {
    pub records: u64,
    pub messages: u64,
    pub events: u64,
    pub surveys: u64,
    /// Deletion records (conversations deleted at the source).
    pub deletions: u64,
    /// Messages by author: customer, agent, bot, note.
    pub messages_by_author: [u64; 4],
    pub rejected: u64,
    /// Earliest and latest `created_at` of the conversation records read (UTC ms).
    pub created_range: Option<(i64, i64)>,
    pub outcome: BatchOutcome,
}

/// An import in progress.
pub struct ImportRun<S: ImportSession> {
    session: S,
    calendars: Arc<Calendars>,
    now: i64,
    pending: Vec<Conversation>,
    totals: ImportTotals,
}

impl<S: ImportSession> ImportRun<S> {
    /// Starts a run on a session; `now` (UTC ms) stamps the rows.
    pub fn new(session: S, calendars: Arc<Calendars>, now: i64) -> Self {
        ImportRun {
            session,
            calendars,
            now,
            pending: Vec::new(),
            totals: ImportTotals::default(),
        }
    }

    /// Adds one record's partial conversation; merges a batch into the store when full.
    pub async fn add(&mut self, record: Conversation) -> Result<(), StoreError> {
        self.totals.records += 1;
        self.totals.deletions += u64::from(record.deleted);
        self.totals.messages += record.messages.len() as u64;
        self.totals.events += record.events.len() as u64;
        self.totals.surveys += record.surveys.len() as u64;
        for m in &record.messages {
            let k = match m.author {
                Author::Customer => 0,
                Author::Agent => 1,
                Author::Bot => 2,
                Author::Note => 3,
            };
            self.totals.messages_by_author[k] += 1;
        }
        if let Some(header) = &record.header {
            let t = header.created_at;
            self.totals.created_range = Some(match self.totals.created_range {
                None => (t, t),
                Some((a, b)) => (a.min(t), b.max(t)),
            });
        }
        self.pending.push(record);
        if self.pending.len() >= BATCH_RECORDS {
            self.flush().await?;
        }
        Ok(())
    }

    /// Counts a rejected record (with --skip-invalid).
    pub fn reject(&mut self) {
        self.totals.rejected += 1;
    }

    async fn flush(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        let outcome = self.session.apply(batch, &self.calendars, self.now).await?;
        self.totals.outcome.add(outcome);
        Ok(())
    }

    /// Records where a sync stopped, committed together with the records.
    pub async fn set_sync_cursor(&mut self, source: &str, cursor: &str) -> Result<(), StoreError> {
        self.session.set_sync_cursor(source, cursor, self.now).await
    }

    /// Remembers a signed webhook delivery with the records (see
    /// [`ImportSession::remember_delivery`]); false when it was stored before.
    pub async fn remember_delivery(
        &mut self,
        signature: &str,
        now_seconds: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        self.session
            .remember_delivery(signature, now_seconds, until)
            .await
    }

    /// Records with this import that a survey was answered (see
    /// [`ImportSession::mark_answered`]).
    pub async fn mark_answered(
        &mut self,
        conversation: &str,
        kind: servicemeter_core::model::SurveyKind,
        language: &str,
        at: i64,
        anonymous: bool,
    ) -> Result<(), StoreError> {
        self.session
            .mark_answered(conversation, kind, language, at, anonymous)
            .await
    }

    /// Merges what is left and commits; nothing is stored if this is never called.
    pub async fn finish(mut self, sources: String) -> Result<ImportTotals, StoreError> {
        self.flush().await?;
        let totals = self.totals;
        self.session
            .commit(ImportSummary {
                sources,
                records: totals.records,
                conversations: totals.outcome.new_conversations
                    + totals.outcome.updated_conversations,
                rejected: totals.rejected,
                finished_at: self.now,
            })
            .await?;
        Ok(totals)
    }
}
