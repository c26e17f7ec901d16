//! [`Accounts`] on the SQLite store.

use servicemeter_core::access::Role;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::accounts::{Accounts, ApiToken, Membership, StoredSession, User, UserId};
use crate::sqlite::{SqliteStore, read_workspace};
use crate::{StoreError, Workspace, WorkspaceId};

fn read_user(row: &SqliteRow) -> Result<User, StoreError> {
    Ok(User {
        id: UserId(row.try_get("user_id")?),
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
    })
}

fn read_membership(row: &SqliteRow) -> Result<Membership, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(Membership {
        role: Role::parse(&role).map_err(|e| StoreError::Invalid(e.to_string()))?,
        agent_name: row.try_get("agent_name")?,
    })
}

fn read_token(row: &SqliteRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        workspace: WorkspaceId(row.try_get("workspace_id")?),
        id: row.try_get("token_id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl Accounts for SqliteStore {
    async fn user_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool())
            .await?;
        Ok(n as u64)
    }

    async fn create_user(
        &self,
        email: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<UserId, StoreError> {
        let result =
            sqlx::query("INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, ?)")
                .bind(email)
                .bind(password_hash)
                .bind(now)
                .execute(self.pool())
                .await;
        match result {
            Ok(done) => Ok(UserId(done.last_insert_rowid())),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!("user {email}"))),
            Err(e) => Err(e.into()),
        }
    }

    async fn create_first_user(
        &self,
        email: &str,
        password_hash: &str,
        workspace: &str,
        now: i64,
    ) -> Result<Option<(UserId, WorkspaceId)>, StoreError> {
        // BEGIN IMMEDIATE: the count and the inserts see the same state, and the workspace,
        // the user and the membership are stored together or not at all.
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&mut *tx)
            .await?;
        if users > 0 {
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO workspaces (workspace_id, name, created_at) \
             VALUES ((SELECT COALESCE(MAX(workspace_id), 0) + 1 FROM workspaces), ?, ?) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(workspace)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let workspace_id: i64 =
            sqlx::query_scalar("SELECT workspace_id FROM workspaces WHERE name = ?")
                .bind(workspace)
                .fetch_one(&mut *tx)
                .await?;
        let id =
            sqlx::query("INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, ?)")
                .bind(email)
                .bind(password_hash)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .last_insert_rowid();
        sqlx::query("INSERT INTO memberships (workspace_id, user_id, role) VALUES (?, ?, 'admin')")
            .bind(workspace_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some((UserId(id), WorkspaceId(workspace_id))))
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        sqlx::query("SELECT user_id, email, password_hash FROM users WHERE email = ?")
            .bind(email)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(read_user)
            .transpose()
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        sqlx::query("SELECT user_id, email, password_hash FROM users WHERE user_id = ?")
            .bind(id.0)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(read_user)
            .transpose()
    }

    async fn set_password(&self, id: UserId, password_hash: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET password_hash = ? WHERE user_id = ?")
            .bind(password_hash)
            .bind(id.0)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn find_workspace(&self, name: &str) -> Result<Option<Workspace>, StoreError> {
        sqlx::query("SELECT workspace_id, name, config_toml FROM workspaces WHERE name = ?")
            .bind(name)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(read_workspace)
            .transpose()
    }

    async fn set_membership(
        &self,
        workspace: WorkspaceId,
        user: UserId,
        membership: &Membership,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO memberships (workspace_id, user_id, role, agent_name) VALUES (?, ?, ?, ?) \
             ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role, \
             agent_name = excluded.agent_name",
        )
        .bind(workspace.0)
        .bind(user.0)
        .bind(membership.role.as_str())
        .bind(membership.agent_name.as_deref())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn remove_membership(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM memberships WHERE workspace_id = ? AND user_id = ?")
            .bind(workspace.0)
            .bind(user.0)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn membership(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> Result<Option<Membership>, StoreError> {
        sqlx::query(
            "SELECT role, agent_name FROM memberships WHERE workspace_id = ? AND user_id = ?",
        )
        .bind(workspace.0)
        .bind(user.0)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(read_membership)
        .transpose()
    }

    async fn members(&self, workspace: WorkspaceId) -> Result<Vec<(User, Membership)>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.user_id, u.email, u.password_hash, m.role, m.agent_name \
             FROM memberships m JOIN users u ON u.user_id = m.user_id \
             WHERE m.workspace_id = ? ORDER BY u.email",
        )
        .bind(workspace.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((read_user(row)?, read_membership(row)?)))
            .collect()
    }

    async fn memberships_of(
        &self,
        user: UserId,
    ) -> Result<Vec<(Workspace, Membership)>, StoreError> {
        let rows = sqlx::query(
            "SELECT w.workspace_id, w.name, w.config_toml, m.role, m.agent_name \
             FROM memberships m JOIN workspaces w ON w.workspace_id = m.workspace_id \
             WHERE m.user_id = ? ORDER BY w.name",
        )
        .bind(user.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((read_workspace(row)?, read_membership(row)?)))
            .collect()
    }

    async fn create_token(
        &self,
        workspace: WorkspaceId,
        name: &str,
        token_hash: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (workspace_id, token_id, token_hash, name, created_at) \
             VALUES (?1, (SELECT COALESCE(MAX(token_id), 0) + 1 FROM api_tokens \
             WHERE workspace_id = ?1), ?2, ?3, ?4) RETURNING token_id",
        )
        .bind(workspace.0)
        .bind(token_hash)
        .bind(name)
        .bind(now)
        .fetch_one(self.pool())
        .await?;
        Ok(id)
    }

    async fn token(
        &self,
        workspace: WorkspaceId,
        token_hash: &str,
    ) -> Result<Option<ApiToken>, StoreError> {
        sqlx::query(
            "SELECT workspace_id, token_id, name, created_at, revoked_at FROM api_tokens \
             WHERE workspace_id = ? AND token_hash = ? AND revoked_at IS NULL",
        )
        .bind(workspace.0)
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(read_token)
        .transpose()
    }

    async fn tokens(&self, workspace: WorkspaceId) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query(
            "SELECT workspace_id, token_id, name, created_at, revoked_at FROM api_tokens \
             WHERE workspace_id = ? ORDER BY token_id DESC",
        )
        .bind(workspace.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(read_token).collect()
    }

    async fn revoke_token(
        &self,
        workspace: WorkspaceId,
        id: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = ? \
             WHERE workspace_id = ? AND token_id = ? AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(workspace.0)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn webhook_secret(&self, workspace: WorkspaceId) -> Result<Option<String>, StoreError> {
        let secret: Option<Option<String>> =
            sqlx::query_scalar("SELECT webhook_secret FROM workspaces WHERE workspace_id = ?")
                .bind(workspace.0)
                .fetch_optional(self.pool())
                .await?;
        Ok(secret.flatten())
    }

    async fn set_webhook_secret(
        &self,
        workspace: WorkspaceId,
        secret: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE workspaces SET webhook_secret = ? WHERE workspace_id = ?")
            .bind(secret)
            .bind(workspace.0)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn load_session(&self, id: &str) -> Result<Option<StoredSession>, StoreError> {
        let row = sqlx::query("SELECT data, expires_at FROM sessions WHERE session_id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| {
            Ok(StoredSession {
                data: row.try_get(0)?,
                expires_at: row.try_get(1)?,
            })
        })
        .transpose()
    }

    async fn save_session(&self, id: &str, session: &StoredSession) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (session_id, data, expires_at) VALUES (?, ?, ?) \
             ON CONFLICT (session_id) DO UPDATE SET data = excluded.data, \
             expires_at = excluded.expires_at",
        )
        .bind(id)
        .bind(&session.data)
        .bind(session.expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn create_session(&self, id: &str, session: &StoredSession) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO sessions (session_id, data, expires_at) VALUES (?, ?, ?) \
             ON CONFLICT (session_id) DO NOTHING",
        )
        .bind(id)
        .bind(&session.data)
        .bind(session.expires_at)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_session(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE session_id = ?")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(now)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}
