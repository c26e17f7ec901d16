//! Accounts behind the [`Accounts`] trait: users, their roles per workspace, browser sessions
//! and API tokens.
//!
//! Users and sessions are installation-wide (an agency's admin works in several workspaces);
//! memberships and tokens are keyed by workspace first, like everything else.

use std::future::Future;

use servicemeter_core::access::Role;

use crate::{StoreError, Workspace, WorkspaceId};

/// A user's numeric id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

/// A user row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    /// Lowercase.
    pub email: String,
    /// Argon2id in PHC string form.
    pub password_hash: String,
    /// May create workspaces (the first user is one; `user add --installation-admin` makes
    /// more).
    pub installation_admin: bool,
}

/// A user's place in one workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub role: Role,
    /// For agents: the agent name in the conversations that is this user.
    pub agent_name: Option<String>,
}

/// An API token's row (the secret itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub workspace: WorkspaceId,
    pub id: i64,
    pub name: String,
    /// UTC milliseconds.
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// A stored browser session: the session layer's bytes and when they expire (UTC seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub data: Vec<u8>,
    pub expires_at: i64,
}

/// Users, memberships, sessions and tokens.
pub trait Accounts: Send + Sync {
    /// Number of users (the setup page works only while it is 0).
    fn user_count(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Adds a user; [`StoreError::Conflict`] when the e-mail address is taken.
    fn create_user(
        &self,
        email: &str,
        password_hash: &str,
        now: i64,
    ) -> impl Future<Output = Result<UserId, StoreError>> + Send;

    /// Adds the first user as administrator of a workspace (created when missing), only while
    /// there is no user at all: one transaction, so two setup requests cannot both succeed and
    /// a refused one leaves no workspace behind. `None` when a user exists already.
    fn create_first_user(
        &self,
        email: &str,
        password_hash: &str,
        workspace: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<(UserId, WorkspaceId)>, StoreError>> + Send;

    /// Creates a workspace with `admin` as its administrator, both or neither;
    /// [`StoreError::Conflict`] when the name is taken.
    fn create_workspace_with_admin(
        &self,
        name: &str,
        admin: UserId,
        now: i64,
    ) -> impl Future<Output = Result<WorkspaceId, StoreError>> + Send;

    /// Makes a user an installation administrator or takes it away.
    fn set_installation_admin(
        &self,
        user: UserId,
        admin: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn user_by_email(
        &self,
        email: &str,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    fn user(&self, id: UserId) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    fn set_password(
        &self,
        id: UserId,
        password_hash: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The workspace of this name, if it exists (never creates one).
    fn find_workspace(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<Workspace>, StoreError>> + Send;

    /// Gives a user a role in a workspace (replacing an earlier one).
    fn set_membership(
        &self,
        workspace: WorkspaceId,
        user: UserId,
        membership: &Membership,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Takes a user out of a workspace; false when they were not in it.
    fn remove_membership(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    fn membership(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> impl Future<Output = Result<Option<Membership>, StoreError>> + Send;

    /// The workspace of this name with the user's membership, in one look-up; `None` when
    /// the workspace does not exist or the user is not in it.
    fn workspace_membership(
        &self,
        name: &str,
        user: UserId,
    ) -> impl Future<Output = Result<Option<(Workspace, Membership)>, StoreError>> + Send;

    /// The members of a workspace, by e-mail address.
    fn members(
        &self,
        workspace: WorkspaceId,
    ) -> impl Future<Output = Result<Vec<(User, Membership)>, StoreError>> + Send;

    /// The workspaces a user is in, by name.
    fn memberships_of(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<Vec<(Workspace, Membership)>, StoreError>> + Send;

    /// Stores a new token's hash; returns its id.
    fn create_token(
        &self,
        workspace: WorkspaceId,
        name: &str,
        token_hash: &str,
        now: i64,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// The live (not revoked) token with this hash in this workspace.
    fn token(
        &self,
        workspace: WorkspaceId,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<ApiToken>, StoreError>> + Send;

    /// Every token of a workspace, newest first.
    fn tokens(
        &self,
        workspace: WorkspaceId,
    ) -> impl Future<Output = Result<Vec<ApiToken>, StoreError>> + Send;

    /// Revokes a token; false when there is no live token with this id.
    fn revoke_token(
        &self,
        workspace: WorkspaceId,
        id: i64,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The workspace's webhook secret, if one was made.
    fn webhook_secret(
        &self,
        workspace: WorkspaceId,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// Replaces the workspace's webhook secret.
    fn set_webhook_secret(
        &self,
        workspace: WorkspaceId,
        secret: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn load_session(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<StoredSession>, StoreError>> + Send;

    /// Inserts or replaces a session.
    fn save_session(
        &self,
        id: &str,
        session: &StoredSession,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Inserts a session only when the id is new; false when it exists.
    fn create_session(
        &self,
        id: &str,
        session: &StoredSession,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    fn delete_session(&self, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes sessions expired at `now` (UTC seconds); returns how many.
    fn delete_expired_sessions(
        &self,
        now: i64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
