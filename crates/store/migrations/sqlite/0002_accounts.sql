-- Accounts: users (installation-wide, like a reference table in a distributed setup), their
-- roles per workspace, browser sessions, and API tokens scoped to one workspace.

CREATE TABLE users (
    user_id       INTEGER NOT NULL PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

-- agent_name: for role 'agent', the agent name in the conversations that is this user.
CREATE TABLE memberships (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (workspace_id),
    user_id      INTEGER NOT NULL REFERENCES users (user_id),
    role         TEXT    NOT NULL CHECK (role IN ('admin', 'lead', 'agent', 'viewer')),
    agent_name   TEXT,
    PRIMARY KEY (workspace_id, user_id)
);

CREATE INDEX memberships_by_user ON memberships (user_id, workspace_id);

-- Browser sessions (the session layer's serialized record), keyed by the random session id.
CREATE TABLE sessions (
    session_id TEXT    NOT NULL PRIMARY KEY,
    data       BLOB    NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- API tokens: only a SHA-256 of the secret is kept. The token text names its workspace, so
-- the lookup is by (workspace_id, token_hash) like every other key.
CREATE TABLE api_tokens (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (workspace_id),
    token_id     INTEGER NOT NULL,
    token_hash   TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    PRIMARY KEY (workspace_id, token_id)
);

CREATE UNIQUE INDEX api_tokens_by_hash ON api_tokens (workspace_id, token_hash);

-- Counts every change of a workspace's facts (imports, intake, new configuration), so that a
-- long-running server can tell whether what it holds in memory is still current.
ALTER TABLE workspaces ADD COLUMN data_version INTEGER NOT NULL DEFAULT 0;
