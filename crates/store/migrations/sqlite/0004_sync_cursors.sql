-- Where `servicemeter sync` stopped, per workspace and source; written in the same transaction
-- as the records it fetched, so a crash never skips records.
CREATE TABLE sync_cursors (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (workspace_id),
    source       TEXT    NOT NULL,
    cursor       TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, source)
);
