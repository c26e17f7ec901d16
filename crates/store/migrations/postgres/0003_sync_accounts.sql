-- Helpdesk accounts the server syncs on a schedule (a `sync` job per account, every
-- every_minutes). The secret (API token or key) is sent to the account's own address only and
-- is never shown again; it lies in the database like the webhook secret, so dumps hold it too.
CREATE TABLE sync_accounts (
    workspace_id  BIGINT NOT NULL REFERENCES workspaces (workspace_id),
    source        TEXT   NOT NULL,
    url           TEXT   NOT NULL,
    login         TEXT   NOT NULL DEFAULT '',
    secret        TEXT   NOT NULL,
    every_minutes BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, source)
);
