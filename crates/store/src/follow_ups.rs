//! Follow-ups of unhappy survey answers: the import opens one per conversation and kind when a
//! recent unhappy answer arrives (see [`crate::backend::WriteTx::open_follow_up`]); the team
//! works through them here (status, owner, note) and the overview counts the overdue ones.

use servicemeter_core::model::SurveyKind;
use sqlx::Row;

use crate::backend::WriteTx;
use crate::sql::{SqlTx, on_pool, on_tx};
use crate::storage::Storage;
use crate::{StoreError, WorkspaceId};

/// The longest follow-up note, in characters.
pub const MAX_NOTE_CHARS: usize = 5_000;

/// Where a follow-up is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FollowUpStatus {
    New,
    InProgress,
    Done,
}

impl FollowUpStatus {
    pub const ALL: [FollowUpStatus; 3] = [
        FollowUpStatus::New,
        FollowUpStatus::InProgress,
        FollowUpStatus::Done,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FollowUpStatus::New => "new",
            FollowUpStatus::InProgress => "in_progress",
            FollowUpStatus::Done => "done",
        }
    }

    pub fn parse(text: &str) -> Option<FollowUpStatus> {
        FollowUpStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text.trim())
    }
}

/// Which follow-ups a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUpList {
    /// New and in progress, the earliest due first.
    Open,
    /// Done, the latest changed first.
    Done,
}

/// The follow-up of one conversation's unhappy answer of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    pub conversation: String,
    pub kind: SurveyKind,
    pub status: FollowUpStatus,
    /// The member following it up (a user's e-mail address).
    pub owner: Option<String>,
    pub note: String,
    /// The unhappy answer's time (UTC ms).
    pub answered_at: i64,
    pub due_at: i64,
    pub updated_at: i64,
    /// Who changed it last (a user's e-mail address).
    pub updated_by: Option<String>,
}

impl FollowUp {
    /// Not done by its due time.
    pub fn overdue(&self, now: i64) -> bool {
        self.status != FollowUpStatus::Done && self.due_at < now
    }
}

/// What a member changes of a follow-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpChange {
    pub status: FollowUpStatus,
    pub owner: Option<String>,
    pub note: String,
}

/// The follow-up side of the store.
pub trait FollowUps: Send + Sync {
    /// A page of follow-ups (`offset`, at most `limit`) and how many the list holds.
    fn follow_ups(
        &self,
        workspace: WorkspaceId,
        list: FollowUpList,
        offset: u32,
        limit: u32,
    ) -> impl Future<Output = Result<(Vec<FollowUp>, u64), StoreError>> + Send;

    /// One follow-up.
    fn follow_up(
        &self,
        workspace: WorkspaceId,
        conversation: &str,
        kind: SurveyKind,
    ) -> impl Future<Output = Result<Option<FollowUp>, StoreError>> + Send;

    /// Open follow-ups whose due time passed before `now`.
    fn overdue_follow_ups(
        &self,
        workspace: WorkspaceId,
        now: i64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Changes a follow-up; false when there is none for that conversation and kind.
    fn update_follow_up(
        &self,
        workspace: WorkspaceId,
        conversation: &str,
        kind: SurveyKind,
        change: &FollowUpChange,
        by: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

fn read_follow_up<R: Row>(row: &R) -> Result<FollowUp, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    Ok(FollowUp {
        conversation: row.try_get("conversation_id")?,
        kind: SurveyKind::parse(&kind).map_err(|e| StoreError::Invalid(e.to_string()))?,
        status: FollowUpStatus::parse(&status)
            .ok_or_else(|| StoreError::Invalid(format!("follow-up status '{status}'")))?,
        owner: row.try_get("owner")?,
        note: row.try_get("note")?,
        answered_at: row.try_get("answered_at")?,
        due_at: row.try_get("due_at")?,
        updated_at: row.try_get("updated_at")?,
        updated_by: row.try_get("updated_by")?,
    })
}

impl FollowUps for Storage {
    async fn follow_ups(
        &self,
        workspace: WorkspaceId,
        list: FollowUpList,
        offset: u32,
        limit: u32,
    ) -> Result<(Vec<FollowUp>, u64), StoreError> {
        let (select, count) = match list {
            FollowUpList::Open => (
                "SELECT conversation_id, kind, status, owner, note, answered_at, due_at, \
                 updated_at, updated_by FROM follow_ups WHERE workspace_id = $1 \
                 AND status <> 'done' ORDER BY due_at, answered_at, conversation_id, kind \
                 LIMIT $2 OFFSET $3",
                "SELECT COUNT(*) FROM follow_ups WHERE workspace_id = $1 AND status <> 'done'",
            ),
            FollowUpList::Done => (
                "SELECT conversation_id, kind, status, owner, note, answered_at, due_at, \
                 updated_at, updated_by FROM follow_ups WHERE workspace_id = $1 \
                 AND status = 'done' ORDER BY updated_at DESC, conversation_id, kind \
                 LIMIT $2 OFFSET $3",
                "SELECT COUNT(*) FROM follow_ups WHERE workspace_id = $1 AND status = 'done'",
            ),
        };
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(select)
                .bind(workspace.0)
                .bind(i64::from(limit))
                .bind(i64::from(offset))
                .fetch_all(p)
                .await?
                .iter()
                .map(read_follow_up)
                .collect::<Result<Vec<_>, _>>()?;
            let total: i64 = sqlx::query_scalar(count)
                .bind(workspace.0)
                .fetch_one(p)
                .await?;
            Ok((rows, total as u64))
        })
    }

    async fn follow_up(
        &self,
        workspace: WorkspaceId,
        conversation: &str,
        kind: SurveyKind,
    ) -> Result<Option<FollowUp>, StoreError> {
        on_pool!(&self.pool, p => {
            sqlx::query(
                "SELECT conversation_id, kind, status, owner, note, answered_at, due_at, \
                 updated_at, updated_by FROM follow_ups WHERE workspace_id = $1 \
                 AND conversation_id = $2 AND kind = $3",
            )
                .bind(workspace.0)
                .bind(conversation)
                .bind(kind.as_str())
                .fetch_optional(p)
                .await?
                .as_ref()
                .map(read_follow_up)
                .transpose()
        })
    }

    async fn overdue_follow_ups(
        &self,
        workspace: WorkspaceId,
        now: i64,
    ) -> Result<u64, StoreError> {
        let n: i64 = on_pool!(&self.pool, p => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM follow_ups WHERE workspace_id = $1 \
                 AND status <> 'done' AND due_at < $2",
            )
            .bind(workspace.0)
            .bind(now)
            .fetch_one(p)
            .await?
        });
        Ok(n as u64)
    }

    async fn update_follow_up(
        &self,
        workspace: WorkspaceId,
        conversation: &str,
        kind: SurveyKind,
        change: &FollowUpChange,
        by: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let note: String = change.note.chars().take(MAX_NOTE_CHARS).collect();
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        let changed = on_tx!(&mut tx.tx, t => {
            sqlx::query(
                "UPDATE follow_ups SET status = $1, owner = $2, note = $3, updated_at = $4, \
                 updated_by = $5 WHERE workspace_id = $6 AND conversation_id = $7 AND kind = $8",
            )
            .bind(change.status.as_str())
            .bind(change.owner.as_deref())
            .bind(note.as_str())
            .bind(now)
            .bind(by)
            .bind(workspace.0)
            .bind(conversation)
            .bind(kind.as_str())
            .execute(&mut **t)
            .await?
            .rows_affected()
        });
        tx.commit().await?;
        Ok(changed > 0)
    }
}
