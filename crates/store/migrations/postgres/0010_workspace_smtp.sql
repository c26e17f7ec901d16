-- A workspace's own SMTP server for its survey mail (docs/surveys.md): the address as
-- `smtp://user:password@host:587` reads it (with the password, which is never shown again)
-- and the sender. Without a row the installation's server is used.
CREATE TABLE workspace_smtp (
    workspace_id BIGINT  NOT NULL PRIMARY KEY REFERENCES workspaces (workspace_id),
    url          TEXT    NOT NULL,
    sender       TEXT    NOT NULL,
    updated_at   BIGINT  NOT NULL
);
