//! Share links in the store: a read-only dashboard of one workspace for someone without an
//! account. The link is signed (by the server, with its id and expiry); the row says what it
//! shows (a saved view, agents by name or not) and whether it still stands (not revoked, not
//! expired). SQL both backends run.

use sqlx::Row;

use crate::backend::WriteTx;
use crate::sql::{SqlTx, on_pool, on_tx};
use crate::storage::Storage;
use crate::{StoreError, WorkspaceId};

/// The longest label of a share link, in characters.
pub const MAX_LABEL_CHARS: usize = 100;

/// A stored share link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareLink {
    pub id: i64,
    /// Who or what it is for ("Klant Fietsplaats, maandoverleg").
    pub label: String,
    /// The saved view it shows (its filter and period), if any.
    pub view: Option<String>,
    /// Whether agents are shown by name.
    pub agent_detail: bool,
    pub created_by: String,
    pub created_at: i64,
    /// UTC ms; the link stops working then.
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

impl ShareLink {
    /// Whether it works at `now`.
    pub fn stands(&self, now: i64) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// A share link to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShareLink {
    pub label: String,
    pub view: Option<String>,
    pub agent_detail: bool,
    pub created_by: String,
    pub expires_at: i64,
}

const COLUMNS: &str =
    "link_id, label, view_name, agent_detail, created_by, created_at, expires_at, revoked_at";

fn read_link<R: Row>(row: &R) -> Result<ShareLink, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let detail: i64 = row.try_get(3)?;
    Ok(ShareLink {
        id: row.try_get(0)?,
        label: row.try_get(1)?,
        view: row.try_get(2)?,
        agent_detail: detail != 0,
        created_by: row.try_get(4)?,
        created_at: row.try_get(5)?,
        expires_at: row.try_get(6)?,
        revoked_at: row.try_get(7)?,
    })
}

/// The share-link side of the store.
pub trait Shares: Send + Sync {
    /// Stores a new link; returns its id.
    fn create_share(
        &self,
        workspace: WorkspaceId,
        link: &NewShareLink,
        now: i64,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// The workspace's links, newest first.
    fn shares(
        &self,
        workspace: WorkspaceId,
    ) -> impl Future<Output = Result<Vec<ShareLink>, StoreError>> + Send;

    fn share(
        &self,
        workspace: WorkspaceId,
        id: i64,
    ) -> impl Future<Output = Result<Option<ShareLink>, StoreError>> + Send;

    /// Revokes a link for good; false when there is no standing link `id`.
    fn revoke_share(
        &self,
        workspace: WorkspaceId,
        id: i64,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

impl Shares for Storage {
    async fn create_share(
        &self,
        workspace: WorkspaceId,
        link: &NewShareLink,
        now: i64,
    ) -> Result<i64, StoreError> {
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        let id = on_tx!(&mut tx.tx, t => {
            let next: i64 = sqlx::query_scalar(
                "UPDATE workspace_state SET next_share_link = next_share_link + 1 \
                 WHERE workspace_id = $1 RETURNING next_share_link",
            )
            .bind(workspace.0)
            .fetch_one(&mut **t)
            .await?;
            sqlx::query(
                "INSERT INTO share_links (workspace_id, link_id, label, view_name, agent_detail, \
                 created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(workspace.0)
            .bind(next - 1)
            .bind(link.label.as_str())
            .bind(link.view.as_deref())
            .bind(i64::from(link.agent_detail))
            .bind(link.created_by.as_str())
            .bind(now)
            .bind(link.expires_at)
            .execute(&mut **t)
            .await?;
            next - 1
        });
        tx.commit().await?;
        Ok(id)
    }

    async fn shares(&self, workspace: WorkspaceId) -> Result<Vec<ShareLink>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM share_links WHERE workspace_id = $1 ORDER BY link_id DESC"
        );
        on_pool!(&self.pool, p => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(workspace.0)
                .fetch_all(p)
                .await?
                .iter()
                .map(read_link)
                .collect()
        })
    }

    async fn share(
        &self,
        workspace: WorkspaceId,
        id: i64,
    ) -> Result<Option<ShareLink>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM share_links WHERE workspace_id = $1 AND link_id = $2");
        on_pool!(&self.pool, p => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(workspace.0)
                .bind(id)
                .fetch_optional(p)
                .await?
                .as_ref()
                .map(read_link)
                .transpose()
        })
    }

    async fn revoke_share(
        &self,
        workspace: WorkspaceId,
        id: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        let changed = on_tx!(&mut tx.tx, t => {
            sqlx::query(
                "UPDATE share_links SET revoked_at = $3 WHERE workspace_id = $1 \
                 AND link_id = $2 AND revoked_at IS NULL",
            )
            .bind(workspace.0)
            .bind(id)
            .bind(now)
            .execute(&mut **t)
            .await?
            .rows_affected()
        });
        tx.commit().await?;
        Ok(changed == 1)
    }
}
