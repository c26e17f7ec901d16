-- Share links (docs/reports.md): a read-only dashboard of one workspace for someone without an
-- account, optionally through a saved view, with or without agents by name, until it expires
-- or is revoked. The link itself is signed (its id and expiry); this row says whether it still
-- stands. Ids come from workspace_state.next_share_link.
CREATE TABLE share_links (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (workspace_id),
    link_id      INTEGER NOT NULL,
    label        TEXT    NOT NULL,
    view_name    TEXT,
    -- 1 when agents are shown by name, else 0.
    agent_detail INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    PRIMARY KEY (workspace_id, link_id)
);

ALTER TABLE workspace_state ADD COLUMN next_share_link INTEGER NOT NULL DEFAULT 1;
