//! Storage of conversations and their facts, per workspace, behind the [`Store`] trait.
//!
//! The ingest engine ([`engine`]) decides; a backend ([`sql`]: SQLite or PostgreSQL) is a
//! connection, migrations and the SQL behind [`backend::WriteTx`]. [`Storage`] puts them
//! together.
//!
//! Invariants: every query of a workspace's data takes its workspace id, and every key of such
//! a table starts with it; numbers (ordinals, segments, imports, tokens) come from the
//! workspace's counters, never from `MAX()+1`.

pub mod accounts;
pub mod alerts;
pub mod backend;
pub mod backup;
pub mod citus;
pub mod config_file;
pub mod engine;
pub mod follow_ups;
mod held_accounts;
pub mod jobs;
pub mod pipeline;
pub mod reports;
pub mod segments;
pub mod shares;
pub mod sql;
mod sql_accounts;
pub mod storage;
pub mod surveys;
pub mod test_support;

use std::future::Future;
use std::sync::Arc;

use servicemeter_core::{Calendars, Conversation, FactTable};

pub use accounts::{Accounts, ApiToken, Membership, StoredSession, User, UserId};
pub use backup::{BackupSummary, check_backup, restore_sqlite};
pub use engine::Threads;
pub use engine::customer_hash;
pub use pipeline::{ImportRun, ImportTotals};
pub use sql::{DATABASE_FILE, Location};
pub use storage::Storage;

/// A workspace's numeric id (the first column of every key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkspaceId(pub i64);

/// A workspace row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    /// The stored configuration (TOML), if one was given.
    pub config_toml: Option<String>,
}

/// A period and filter saved under a name, shared within a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedView {
    /// Unique in the workspace.
    pub name: String,
    /// The overview's query string (`preset=month&channel=chat`).
    pub query: String,
    /// Who saved it (an e-mail address).
    pub created_by: String,
    /// UTC milliseconds.
    pub created_at: i64,
}

/// A helpdesk account the server syncs on a schedule (one per source and workspace).
#[derive(Clone, PartialEq, Eq)]
pub struct SyncAccount {
    /// `zendesk` or `freshdesk`.
    pub source: String,
    /// The account's address, e.g. `https://shop.zendesk.com`.
    pub url: String,
    /// Who signs in (Zendesk: an agent's e-mail address; Freshdesk: empty).
    pub login: String,
    /// The API token or key: sent to `url` only, never shown or logged.
    pub secret: String,
    /// Minutes between the end of one run and the start of the next.
    pub every_minutes: u32,
    /// UTC milliseconds.
    pub created_at: i64,
}

impl std::fmt::Debug for SyncAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncAccount")
            .field("source", &self.source)
            .field("url", &self.url)
            .field("login", &self.login)
            .field("secret", &"(hidden)")
            .field("every_minutes", &self.every_minutes)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// A backend's own error, kept as the source of a [`StoreError`].
pub type BackendError = Box<dyn std::error::Error + Send + Sync>;

/// Storage failures, the same whatever the backend: callers never see the database driver's
/// types (its error is the `source()`, shown by `{:#}` at the CLI edge).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database itself failed: connection, statement, I/O.
    #[error("database error")]
    Database(#[source] BackendError),
    #[error("database migration failed")]
    Migration(#[source] BackendError),
    #[error("stored conversation {conversation} cannot be read: {reason}")]
    Corrupt {
        conversation: String,
        reason: String,
    },
    /// A unique value that is taken (an e-mail address, a workspace name).
    #[error("{0} already exists")]
    Conflict(String),
    #[error("stored value is not valid: {0}")]
    Invalid(String),
    /// Records that would make a conversation exceed a limit of `core::limits`; nothing of
    /// the import is stored.
    #[error("{0}")]
    Limit(String),
    #[error("cannot create data directory {path}: {reason}")]
    DataDir { path: String, reason: String },
}

/// What a batch changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Conversations not stored before.
    pub new_conversations: u64,
    /// Conversations that existed and received records.
    pub updated_conversations: u64,
    /// Conversations that still lack a conversation record (no facts yet).
    pub pending_conversations: u64,
    /// Stored conversations removed by a deletion record.
    pub deleted_conversations: u64,
}

impl BatchOutcome {
    /// Sums two outcomes.
    pub fn add(&mut self, other: BatchOutcome) {
        self.new_conversations += other.new_conversations;
        self.updated_conversations += other.updated_conversations;
        self.pending_conversations += other.pending_conversations;
        self.deleted_conversations += other.deleted_conversations;
    }
}

/// Summary of an import, kept for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub sources: String,
    pub records: u64,
    pub conversations: u64,
    pub rejected: u64,
    /// UTC milliseconds.
    pub finished_at: i64,
}

/// An entry of a workspace's audit log: who did what, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// UTC milliseconds.
    pub at: i64,
    /// Who: a signed-in user's e-mail address, or the command line and its system user.
    pub actor: String,
    /// What, e.g. `erase-customer`.
    pub action: String,
    /// On what, without personal data (an erased customer appears as the hash of its id).
    pub detail: String,
}

/// Counts of what a workspace holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkspaceCounts {
    pub conversations: u64,
    /// Conversations with facts (those with a conversation record).
    pub with_facts: u64,
}

/// An all-or-nothing import: batches are applied inside one transaction; dropping the session
/// without [`ImportSession::commit`] stores nothing.
pub trait ImportSession: Send {
    /// Merges partial conversations (in arrival order; later records win) into the stored ones and
    /// recomputes their facts. `now` is UTC milliseconds.
    fn apply(
        &mut self,
        batch: Vec<Conversation>,
        calendars: &Arc<Calendars>,
        now: i64,
    ) -> impl Future<Output = Result<BatchOutcome, StoreError>> + Send;

    /// Records where a sync of `source` stopped; stored with the import's records.
    fn set_sync_cursor(
        &mut self,
        source: &str,
        cursor: &str,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Remembers a signed webhook delivery until `until` (unix seconds; those expired before
    /// `now` are forgotten) with this import: false when it was stored before, by any process
    /// (then this import must not be committed).
    fn remember_delivery(
        &mut self,
        signature: &str,
        now: i64,
        until: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records with this import that the conversation's survey of `kind` was answered at `at`
    /// (see [`surveys::Surveys`]): the first answer's time is kept, a planned invitation is
    /// cancelled (note `answered`), and a link made without an invitation gets one. An
    /// `anonymous` answer makes the invitation forget the customer's address.
    fn mark_answered(
        &mut self,
        conversation: &str,
        kind: servicemeter_core::model::SurveyKind,
        language: &str,
        at: i64,
        anonymous: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Makes the import durable and records its summary.
    fn commit(self, summary: ImportSummary) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Where conversations and facts live (and the background jobs, survey invitations and
/// follow-ups that work on them).
pub trait Store:
    jobs::Jobs
    + surveys::Surveys
    + follow_ups::FollowUps
    + reports::Reports
    + shares::Shares
    + alerts::Alerts
    + Send
    + Sync
{
    type Import<'a>: ImportSession
    where
        Self: 'a;

    /// A number that changes whenever the workspace's facts change (imports, configuration).
    fn data_version(
        &self,
        workspace: WorkspaceId,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Every workspace, by name.
    fn workspaces(&self) -> impl Future<Output = Result<Vec<Workspace>, StoreError>> + Send;

    /// The workspace of this name, created when missing.
    fn workspace(&self, name: &str) -> impl Future<Output = Result<Workspace, StoreError>> + Send;

    /// Stores a new configuration and recomputes every conversation's facts with it, in one
    /// transaction. Returns the number of conversations recomputed.
    fn replace_config(
        &self,
        workspace: WorkspaceId,
        config_toml: &str,
        calendars: &Arc<Calendars>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Stores a new configuration without recomputing (a [`jobs::RECOMPUTE`] job does that,
    /// and until it has, the facts are those of the configuration before).
    fn store_config(
        &self,
        workspace: WorkspaceId,
        config_toml: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Recomputes every conversation's facts with the stored configuration, in one
    /// transaction, counting into `progress`. Returns the conversations with facts.
    fn recompute(
        &self,
        workspace: WorkspaceId,
        progress: &jobs::JobProgress,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Erases a customer's personal data from every conversation of theirs (and from records
    /// of theirs imported later), keeps the figures, and records it in the audit log. Returns
    /// the conversations changed.
    fn erase_customer(
        &self,
        workspace: WorkspaceId,
        customer: &str,
        actor: &str,
        now: i64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Applies the workspace's retention setting at `now`: message texts and survey comments
    /// older than its months are removed (the figures stay). Returns the conversations
    /// changed (0 without a retention setting).
    fn apply_retention(
        &self,
        workspace: WorkspaceId,
        actor: &str,
        now: i64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The audit log, newest first, at most `limit` entries.
    fn audit_log(
        &self,
        workspace: WorkspaceId,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send;

    /// Starts an all-or-nothing import.
    fn begin_import(
        &self,
        workspace: WorkspaceId,
    ) -> impl Future<Output = Result<Self::Import<'_>, StoreError>> + Send;

    /// Facts of conversations whose start lies in `[from, to)` (all when `None`), in no
    /// particular order.
    fn facts(
        &self,
        workspace: WorkspaceId,
        start_between: Option<(i64, i64)>,
    ) -> impl Future<Output = Result<FactTable, StoreError>> + Send;

    /// Earliest and latest conversation start.
    fn start_range(
        &self,
        workspace: WorkspaceId,
    ) -> impl Future<Output = Result<Option<(i64, i64)>, StoreError>> + Send;

    /// One stored conversation.
    fn conversation(
        &self,
        workspace: WorkspaceId,
        id: &str,
    ) -> impl Future<Output = Result<Option<Conversation>, StoreError>> + Send;

    /// The ids of the conversations whose customer contains `text` (case-insensitive), at most
    /// `limit` of them (the drill-down's customer search; the facts hold no customers).
    /// Conversations of erased customers are not found.
    fn conversations_of_customer(
        &self,
        workspace: WorkspaceId,
        text: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// Where the last sync of `source` stopped.
    fn sync_cursor(
        &self,
        workspace: WorkspaceId,
        source: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// The helpdesk accounts synced on a schedule, by source.
    fn sync_accounts(
        &self,
        workspace: WorkspaceId,
    ) -> impl Future<Output = Result<Vec<SyncAccount>, StoreError>> + Send;

    /// Adds or replaces (same source) a scheduled sync, queues its first run at once, and
    /// records it in the audit log as done by `actor`.
    fn set_sync_account(
        &self,
        workspace: WorkspaceId,
        account: &SyncAccount,
        actor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stops the scheduled sync of `source` (its cursor stays, so a later one resumes); false
    /// when there was none.
    fn remove_sync_account(
        &self,
        workspace: WorkspaceId,
        source: &str,
        actor: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The workspace's saved views, by name.
    fn saved_views(
        &self,
        workspace: WorkspaceId,
    ) -> impl Future<Output = Result<Vec<SavedView>, StoreError>> + Send;

    /// Saves a view (replacing one of the same name) and records it in the audit log.
    fn save_view(
        &self,
        workspace: WorkspaceId,
        view: &SavedView,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes a saved view; false when there was none of that name.
    fn delete_view(
        &self,
        workspace: WorkspaceId,
        name: &str,
        actor: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// How much a workspace holds.
    fn counts(
        &self,
        workspace: WorkspaceId,
    ) -> impl Future<Output = Result<WorkspaceCounts, StoreError>> + Send;
}
