-- servicemeter schema. Every key starts with workspace_id so that the same schema can be
-- distributed by workspace later (Citus on PostgreSQL).

CREATE TABLE workspaces (
    workspace_id INTEGER NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    config_toml  TEXT,
    created_at   INTEGER NOT NULL
);

-- The merged, normalized records of one conversation (postcard encoding of
-- servicemeter_core::Conversation). `ordinal` numbers conversations within a workspace.
CREATE TABLE conversations (
    workspace_id    INTEGER NOT NULL REFERENCES workspaces (workspace_id),
    conversation_id TEXT    NOT NULL,
    ordinal         INTEGER NOT NULL,
    has_header      INTEGER NOT NULL,
    body            BLOB    NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id)
) WITHOUT ROWID;

CREATE UNIQUE INDEX conversations_by_ordinal ON conversations (workspace_id, ordinal);
-- Counting conversations (with and without their record) without reading the bodies.
CREATE INDEX conversations_by_header ON conversations (workspace_id, has_header);

-- Per-conversation facts in columnar segments (ordinals + servicemeter_core::FactTable
-- encoding), computed at import and recomputed when the configuration changes. A later
-- segment's row for an ordinal replaces earlier ones; imports compact the segments.
CREATE TABLE fact_segments (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (workspace_id),
    segment_id   INTEGER NOT NULL,
    row_count    INTEGER NOT NULL,
    data         BLOB    NOT NULL,
    PRIMARY KEY (workspace_id, segment_id)
);

-- One row per finished import, for the audit trail.
CREATE TABLE imports (
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (workspace_id),
    import_id     INTEGER NOT NULL,
    finished_at   INTEGER NOT NULL,
    sources       TEXT    NOT NULL,
    records       INTEGER NOT NULL,
    conversations INTEGER NOT NULL,
    rejected      INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, import_id)
);
