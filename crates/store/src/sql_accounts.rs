//! [`Accounts`] on either SQL backend, in SQL both run unchanged.

use servicemeter_core::access::Role;
use sqlx::Row;

use crate::accounts::{Accounts, ApiToken, Membership, StoredSession, User, UserId};
use crate::held_accounts::{Answer, Lookup};
use crate::sql::{SqlTx, is_unique_violation, on_pool, on_tx};
use crate::storage::{Storage, create_workspace, read_workspace};
use crate::{StoreError, Workspace, WorkspaceId};

/// Advisory lock key (PostgreSQL) for creating the first user.
const FIRST_USER_LOCK: i64 = -2;

fn read_user<R: Row>(row: &R) -> Result<User, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(User {
        id: UserId(row.try_get("user_id")?),
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        installation_admin: row.try_get::<i64, _>("installation_admin")? != 0,
    })
}

fn read_membership<R: Row>(row: &R) -> Result<Membership, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let role: String = row.try_get("role")?;
    Ok(Membership {
        role: Role::parse(&role).map_err(|e| StoreError::Invalid(e.to_string()))?,
        agent_name: row.try_get("agent_name")?,
    })
}

fn read_token<R: Row>(row: &R) -> Result<ApiToken, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(ApiToken {
        workspace: WorkspaceId(row.try_get("workspace_id")?),
        id: row.try_get("token_id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl Accounts for Storage {
    async fn user_count(&self) -> Result<u64, StoreError> {
        on_pool!(&self.pool, p => {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(p)
                .await?;
            Ok(n as u64)
        })
    }

    async fn create_user(
        &self,
        email: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<UserId, StoreError> {
        let result: Result<i64, sqlx::Error> = on_pool!(&self.pool, p => {
            sqlx::query_scalar(
                "INSERT INTO users (email, password_hash, created_at) VALUES ($1, $2, $3) \
                 RETURNING user_id",
            )
            .bind(email)
            .bind(password_hash)
            .bind(now)
            .fetch_one(p)
            .await
        });
        match result {
            Ok(id) => {
                self.accounts_changed().await?;
                Ok(UserId(id))
            }
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
        // One write transaction under one lock: the count and the inserts see the same state,
        // and the workspace, the user and the membership are stored together or not at all.
        let mut tx = SqlTx::begin_global(&self.pool, &self.writer, FIRST_USER_LOCK).await?;
        let users: i64 = on_tx!(&mut tx.tx, t => {
            sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(&mut **t)
                .await?
        });
        if users > 0 {
            return Ok(None);
        }
        let workspace_id = create_workspace(&mut tx, workspace, now).await?;
        let id: i64 = on_tx!(&mut tx.tx, t => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO users (email, password_hash, created_at, installation_admin) \
                 VALUES ($1, $2, $3, 1) RETURNING user_id",
            )
            .bind(email)
            .bind(password_hash)
            .bind(now)
            .fetch_one(&mut **t)
            .await?;
            sqlx::query(
                "INSERT INTO memberships (workspace_id, user_id, role) VALUES ($1, $2, 'admin')",
            )
            .bind(workspace_id.0)
            .bind(id)
            .execute(&mut **t)
            .await?;
            id
        });
        crate::backend::WriteTx::commit(tx).await?;
        self.accounts_changed().await?;
        Ok(Some((UserId(id), workspace_id)))
    }

    async fn create_workspace_with_admin(
        &self,
        name: &str,
        admin: UserId,
        now: i64,
    ) -> Result<WorkspaceId, StoreError> {
        let mut tx = SqlTx::begin_global(&self.pool, &self.writer, FIRST_USER_LOCK).await?;
        let created: Option<i64> = on_tx!(&mut tx.tx, t => {
            sqlx::query_scalar(
                "INSERT INTO workspaces (name, created_at) VALUES ($1, $2) \
                 ON CONFLICT (name) DO NOTHING RETURNING workspace_id",
            )
            .bind(name)
            .bind(now)
            .fetch_optional(&mut **t)
            .await?
        });
        let Some(id) = created else {
            return Err(StoreError::Conflict(format!("workspace {name}")));
        };
        let workspace = create_workspace(&mut tx, name, now).await?;
        debug_assert_eq!(workspace.0, id);
        on_tx!(&mut tx.tx, t => {
            sqlx::query(
                "INSERT INTO memberships (workspace_id, user_id, role) VALUES ($1, $2, 'admin')",
            )
            .bind(id)
            .bind(admin.0)
            .execute(&mut **t)
            .await?;
        });
        crate::backend::WriteTx::commit(tx).await?;
        self.accounts_changed().await?;
        Ok(workspace)
    }

    async fn set_installation_admin(&self, user: UserId, admin: bool) -> Result<(), StoreError> {
        on_pool!(&self.pool, p => {
            sqlx::query("UPDATE users SET installation_admin = $1 WHERE user_id = $2")
                .bind(i64::from(admin))
                .bind(user.0)
                .execute(p)
                .await?;
        });
        self.accounts_changed().await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        on_pool!(&self.pool, p => {
            sqlx::query("SELECT user_id, email, password_hash, installation_admin FROM users WHERE email = $1")
                .bind(email)
                .fetch_optional(p)
                .await?
                .as_ref()
                .map(read_user)
                .transpose()
        })
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let lookup = Lookup::User(id);
        let held = self.held_accounts();
        if let Some(Answer::User(user)) = held.and_then(|h| h.get(&lookup)) {
            return Ok(user);
        }
        let epoch = held.map(|h| h.epoch());
        let user = on_pool!(&self.pool, p => {
            sqlx::query("SELECT user_id, email, password_hash, installation_admin FROM users WHERE user_id = $1")
                .bind(id.0)
                .fetch_optional(p)
                .await?
                .as_ref()
                .map(read_user)
                .transpose()?
        });
        if let (Some(held), Some(epoch)) = (held, epoch) {
            held.hold(epoch, &lookup, Answer::User(user.clone()));
        }
        Ok(user)
    }

    async fn set_password(&self, id: UserId, password_hash: &str) -> Result<(), StoreError> {
        let out: Result<_, StoreError> = on_pool!(&self.pool, p => {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE user_id = $2")
                .bind(password_hash)
                .bind(id.0)
                .execute(p)
                .await?;
            Ok(())
        });
        self.accounts_changed().await?;
        out
    }

    async fn find_workspace(&self, name: &str) -> Result<Option<Workspace>, StoreError> {
        on_pool!(&self.pool, p => {
            sqlx::query("SELECT workspace_id, name, config_toml FROM workspaces WHERE name = $1")
                .bind(name)
                .fetch_optional(p)
                .await?
                .as_ref()
                .map(read_workspace)
                .transpose()
        })
    }

    async fn set_membership(
        &self,
        workspace: WorkspaceId,
        user: UserId,
        membership: &Membership,
    ) -> Result<(), StoreError> {
        let out: Result<_, StoreError> = on_pool!(&self.pool, p => {
            sqlx::query(
                "INSERT INTO memberships (workspace_id, user_id, role, agent_name) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role, \
                 agent_name = excluded.agent_name",
            )
            .bind(workspace.0)
            .bind(user.0)
            .bind(membership.role.as_str())
            .bind(membership.agent_name.as_deref())
            .execute(p)
            .await?;
            Ok(())
        });
        self.accounts_changed().await?;
        out
    }

    async fn remove_membership(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> Result<bool, StoreError> {
        let out: Result<_, StoreError> = on_pool!(&self.pool, p => {
            let done = sqlx::query("DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2")
                .bind(workspace.0)
                .bind(user.0)
                .execute(p)
                .await?;
            Ok(done.rows_affected() > 0)
        });
        self.accounts_changed().await?;
        out
    }

    async fn membership(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> Result<Option<Membership>, StoreError> {
        on_pool!(&self.pool, p => {
            sqlx::query(
                "SELECT role, agent_name FROM memberships WHERE workspace_id = $1 AND user_id = $2",
            )
            .bind(workspace.0)
            .bind(user.0)
            .fetch_optional(p)
            .await?
            .as_ref()
            .map(read_membership)
            .transpose()
        })
    }

    async fn workspace_membership(
        &self,
        name: &str,
        user: UserId,
    ) -> Result<Option<(Workspace, Membership)>, StoreError> {
        let lookup = Lookup::Membership(name, user);
        let held = self.held_accounts();
        if let Some(Answer::Membership(found)) = held.and_then(|h| h.get(&lookup)) {
            return Ok(found);
        }
        let epoch = held.map(|h| h.epoch());
        let found = on_pool!(&self.pool, p => {
            sqlx::query(
                "SELECT w.workspace_id, w.name, w.config_toml, m.role, m.agent_name \
                 FROM workspaces w JOIN memberships m ON m.workspace_id = w.workspace_id \
                 WHERE w.name = $1 AND m.user_id = $2",
            )
            .bind(name)
            .bind(user.0)
            .fetch_optional(p)
            .await?
            .as_ref()
            .map(|row| Ok::<_, StoreError>((read_workspace(row)?, read_membership(row)?)))
            .transpose()?
        });
        if let (Some(held), Some(epoch)) = (held, epoch) {
            held.hold(epoch, &lookup, Answer::Membership(found.clone()));
        }
        Ok(found)
    }

    async fn members(&self, workspace: WorkspaceId) -> Result<Vec<(User, Membership)>, StoreError> {
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(
                "SELECT u.user_id, u.email, u.password_hash, u.installation_admin, m.role, m.agent_name \
                 FROM memberships m JOIN users u ON u.user_id = m.user_id \
                 WHERE m.workspace_id = $1 ORDER BY u.email",
            )
            .bind(workspace.0)
            .fetch_all(p)
            .await?;
            rows.iter()
                .map(|row| Ok((read_user(row)?, read_membership(row)?)))
                .collect()
        })
    }

    async fn memberships_of(
        &self,
        user: UserId,
    ) -> Result<Vec<(Workspace, Membership)>, StoreError> {
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(
                "SELECT w.workspace_id, w.name, w.config_toml, m.role, m.agent_name \
                 FROM memberships m JOIN workspaces w ON w.workspace_id = m.workspace_id \
                 WHERE m.user_id = $1 ORDER BY w.name",
            )
            .bind(user.0)
            .fetch_all(p)
            .await?;
            rows.iter()
                .map(|row| Ok((read_workspace(row)?, read_membership(row)?)))
                .collect()
        })
    }

    async fn create_token(
        &self,
        workspace: WorkspaceId,
        name: &str,
        token_hash: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        // The id from the workspace's own counter, in the same statement's transaction.
        on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let next: i64 = sqlx::query_scalar(
                "UPDATE workspace_state SET next_token = next_token + 1 WHERE workspace_id = $1 \
                 RETURNING next_token",
            )
            .bind(workspace.0)
            .fetch_one(&mut *tx)
            .await?;
            let id = next - 1;
            sqlx::query(
                "INSERT INTO api_tokens (workspace_id, token_id, token_hash, name, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(workspace.0)
            .bind(id)
            .bind(token_hash)
            .bind(name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    async fn token(
        &self,
        workspace: WorkspaceId,
        token_hash: &str,
    ) -> Result<Option<ApiToken>, StoreError> {
        on_pool!(&self.pool, p => {
            sqlx::query(
                "SELECT workspace_id, token_id, name, created_at, revoked_at FROM api_tokens \
                 WHERE workspace_id = $1 AND token_hash = $2 AND revoked_at IS NULL",
            )
            .bind(workspace.0)
            .bind(token_hash)
            .fetch_optional(p)
            .await?
            .as_ref()
            .map(read_token)
            .transpose()
        })
    }

    async fn tokens(&self, workspace: WorkspaceId) -> Result<Vec<ApiToken>, StoreError> {
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(
                "SELECT workspace_id, token_id, name, created_at, revoked_at FROM api_tokens \
                 WHERE workspace_id = $1 ORDER BY token_id DESC",
            )
            .bind(workspace.0)
            .fetch_all(p)
            .await?;
            rows.iter().map(read_token).collect()
        })
    }

    async fn revoke_token(
        &self,
        workspace: WorkspaceId,
        id: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        on_pool!(&self.pool, p => {
            let done = sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 \
                 WHERE workspace_id = $2 AND token_id = $3 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(workspace.0)
            .bind(id)
            .execute(p)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    async fn webhook_secret(&self, workspace: WorkspaceId) -> Result<Option<String>, StoreError> {
        on_pool!(&self.pool, p => {
            let secret: Option<Option<String>> =
                sqlx::query_scalar("SELECT webhook_secret FROM workspaces WHERE workspace_id = $1")
                    .bind(workspace.0)
                    .fetch_optional(p)
                    .await?;
            Ok(secret.flatten())
        })
    }

    async fn set_webhook_secret(
        &self,
        workspace: WorkspaceId,
        secret: &str,
    ) -> Result<(), StoreError> {
        on_pool!(&self.pool, p => {
            sqlx::query("UPDATE workspaces SET webhook_secret = $1 WHERE workspace_id = $2")
                .bind(secret)
                .bind(workspace.0)
                .execute(p)
                .await?;
            Ok(())
        })
    }

    async fn load_session(&self, id: &str) -> Result<Option<StoredSession>, StoreError> {
        let lookup = Lookup::Session(id);
        let held = self.held_accounts();
        if let Some(Answer::Session(session)) = held.and_then(|h| h.get(&lookup)) {
            return Ok(session);
        }
        let epoch = held.map(|h| h.epoch());
        let session = on_pool!(&self.pool, p => {
            let row = sqlx::query("SELECT data, expires_at FROM sessions WHERE session_id = $1")
                .bind(id)
                .fetch_optional(p)
                .await?;
            row.map(|row| {
                Ok::<_, StoreError>(StoredSession {
                    data: row.try_get(0)?,
                    expires_at: row.try_get(1)?,
                })
            })
            .transpose()?
        });
        if let (Some(held), Some(epoch)) = (held, epoch) {
            held.hold(epoch, &lookup, Answer::Session(session.clone()));
        }
        Ok(session)
    }

    async fn save_session(&self, id: &str, session: &StoredSession) -> Result<(), StoreError> {
        let out: Result<_, StoreError> = on_pool!(&self.pool, p => {
            sqlx::query(
                "INSERT INTO sessions (session_id, data, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (session_id) DO UPDATE SET data = excluded.data, \
                 expires_at = excluded.expires_at",
            )
            .bind(id)
            .bind(&session.data)
            .bind(session.expires_at)
            .execute(p)
            .await?;
            Ok(())
        });
        self.accounts_changed().await?;
        out
    }

    async fn create_session(&self, id: &str, session: &StoredSession) -> Result<bool, StoreError> {
        let out: Result<_, StoreError> = on_pool!(&self.pool, p => {
            let done = sqlx::query(
                "INSERT INTO sessions (session_id, data, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (session_id) DO NOTHING",
            )
            .bind(id)
            .bind(&session.data)
            .bind(session.expires_at)
            .execute(p)
            .await?;
            Ok(done.rows_affected() > 0)
        });
        self.accounts_changed().await?;
        out
    }

    async fn delete_session(&self, id: &str) -> Result<(), StoreError> {
        let out: Result<_, StoreError> = on_pool!(&self.pool, p => {
            sqlx::query("DELETE FROM sessions WHERE session_id = $1")
                .bind(id)
                .execute(p)
                .await?;
            Ok(())
        });
        self.accounts_changed().await?;
        out
    }

    async fn delete_expired_sessions(&self, now: i64) -> Result<u64, StoreError> {
        let out: Result<u64, StoreError> = on_pool!(&self.pool, p => {
            let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(now)
                .execute(p)
                .await?;
            Ok(done.rows_affected())
        });
        // Like every write of the sessions, announced: another process that holds a purged
        // session forgets it (its readers check the expiry anyway, but the store's answer
        // must not outlive the row).
        let removed = out?;
        if removed > 0 {
            self.accounts_changed().await?;
        }
        Ok(removed)
    }
}
