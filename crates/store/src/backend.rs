//! The seam between the ingest engine and a database: the narrow set of data operations the
//! engine needs inside one write transaction of one workspace.
//!
//! A backend is a connection, its migrations and the SQL behind [`WriteTx`]; everything that
//! decides (merging, normalising, facts, segments, compaction, recompute) is in
//! [`crate::engine`] and is the same for every backend.

use std::future::Future;

use crate::{ImportSummary, StoreError, WorkspaceId};

/// A stored conversation body as the engine reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBody {
    pub id: String,
    pub ordinal: u32,
    /// The body's encoding ([`crate::engine::BODY_VERSION`] for bodies written now).
    pub version: i64,
    pub bytes: Vec<u8>,
}

/// A conversation body to insert or replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyRow {
    pub id: String,
    pub ordinal: u32,
    /// Whether the conversation record is there (only those have facts).
    pub has_header: bool,
    pub bytes: Vec<u8>,
    /// Its customer, lowercased, for searching ('' for none or an erased one).
    pub customer_key: String,
}

/// A fact segment's row without its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentInfo {
    pub id: i64,
    pub rows: i64,
    /// The fact rules and encoding it was computed with.
    pub version: i64,
}

/// Numbers a workspace hands out, each from its own counter (never `MAX()+1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// Conversation ordinals (the row numbers of fact segments).
    Ordinal,
    Segment,
    Import,
    /// Entries of the audit log.
    Audit,
}

/// One write transaction of one workspace. It holds the workspace's write lock from the start
/// (SQLite: the database's; PostgreSQL: an advisory lock of the workspace, so other workspaces
/// proceed) until [`WriteTx::commit`] or drop; dropped without commit, nothing is written.
pub trait WriteTx: Send {
    /// The workspace this transaction writes.
    fn workspace(&self) -> WorkspaceId;

    /// The stored bodies of these conversations (missing ones are left out).
    fn load_bodies(
        &mut self,
        ids: &[&str],
    ) -> impl Future<Output = Result<Vec<StoredBody>, StoreError>> + Send;

    /// Up to `limit` bodies with a conversation record and an ordinal above `after`, by
    /// ordinal.
    fn bodies_after(
        &mut self,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<StoredBody>, StoreError>> + Send;

    /// Up to `limit` bodies with an ordinal above `after`, by ordinal, with a conversation
    /// record or not.
    fn all_bodies_after(
        &mut self,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<StoredBody>, StoreError>> + Send;

    /// Hashes of the customers whose data was erased in this workspace.
    /// Bodies (with or without a record) whose customer key is not stored yet, in ordinal
    /// order after `after`.
    fn bodies_without_customer_key(
        &mut self,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<StoredBody>, StoreError>> + Send;

    /// Stores conversations' customer keys (by ordinal).
    fn set_customer_keys(
        &mut self,
        keys: &[(u32, String)],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn erased_customers(&mut self) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// Forgets what surveys kept of these conversations' customer (an erasure): the address of
    /// their invitations (planned ones are cancelled) and their follow-ups, whose notes may
    /// name the customer.
    fn forget_survey_traces(
        &mut self,
        conversations: &[String],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Remembers an erased customer's hash; false when it was erased before.
    fn add_erased_customer(
        &mut self,
        hash: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Adds an entry to the audit log (its id from the workspace's counter).
    fn audit(
        &mut self,
        entry: &crate::AuditEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Inserts or replaces bodies (written in the current body version).
    fn upsert_bodies(
        &mut self,
        rows: &[BodyRow],
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes a conversation's body; false when there was none.
    fn delete_body(&mut self, id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Takes `n` consecutive numbers from a counter and returns the first.
    fn allocate(
        &mut self,
        counter: Counter,
        n: u32,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// The workspace's fact segments, newest first.
    fn segments(&mut self) -> impl Future<Output = Result<Vec<SegmentInfo>, StoreError>> + Send;

    /// One segment's bytes.
    fn segment_data(&mut self, id: i64)
    -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send;

    fn insert_segment(
        &mut self,
        id: i64,
        rows: i64,
        version: i64,
        data: &[u8],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes the segments with an id in `first..=last`.
    fn delete_segments(
        &mut self,
        first: i64,
        last: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Conversations with a conversation record (the workspace's counter, kept by the engine).
    fn live_conversations(&mut self) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Adds `delta` to the counter of conversations with a conversation record, or sets it
    /// when `exact` (after a recompute counted them).
    fn count_live(
        &mut self,
        delta: i64,
        exact: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn set_config(&mut self, toml: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn set_sync_cursor(
        &mut self,
        source: &str,
        cursor: &str,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Opens (or reopens, for a later answer) the follow-up of an unhappy answer; a follow-up
    /// already open for it keeps its status, owner and note.
    fn open_follow_up(
        &mut self,
        conversation: &str,
        kind: servicemeter_core::model::SurveyKind,
        answered_at: i64,
        due_at: i64,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// See [`crate::ImportSession::mark_answered`].
    fn mark_answered(
        &mut self,
        conversation: &str,
        kind: servicemeter_core::model::SurveyKind,
        language: &str,
        at: i64,
        anonymous: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Remembers a signed webhook delivery until `until` (after forgetting the workspace's
    /// deliveries that expired before `now`); false when it is remembered already.
    fn remember_delivery(
        &mut self,
        signature: &str,
        now: i64,
        until: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    fn record_import(
        &mut self,
        id: i64,
        summary: &ImportSummary,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Counts a change of the workspace's facts (caches compare the number).
    fn bump_data_version(&mut self) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn commit(self) -> impl Future<Output = Result<(), StoreError>> + Send;
}
