-- Scheduled syncs, webhook deliveries remembered in the store, and job progress every process
-- can read.

-- Helpdesk accounts the server syncs on a schedule (a `sync` job per account, every
-- every_minutes). The secret (API token or key) is sent to the account's own address only and
-- is never shown again; it lies in the database like the webhook secret, so backups of the
-- store hold it too.
CREATE TABLE sync_accounts (
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (workspace_id),
    source        TEXT    NOT NULL,
    url           TEXT    NOT NULL,
    login         TEXT    NOT NULL DEFAULT '',
    secret        TEXT    NOT NULL,
    every_minutes INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, source)
);

-- Signed webhook deliveries seen within the replay window, remembered in the transaction that
-- stores their records (so a delivery is applied once, by whichever process gets it first, and
-- one that was not stored is not remembered). Expired ones are deleted by the next delivery.
CREATE TABLE webhook_deliveries (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (workspace_id),
    signature    TEXT    NOT NULL,
    seen_until   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, signature)
);

CREATE INDEX webhook_deliveries_expiry ON webhook_deliveries (workspace_id, seen_until);

-- How far a running job is, written by its worker every second, so that every process can show
-- it (units done of a total; 0 when unknown).
ALTER TABLE jobs ADD COLUMN progress_done INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN progress_total INTEGER NOT NULL DEFAULT 0;
