-- servicemeter schema. Every key starts with workspace_id so that the same schema can be
-- distributed by workspace later (Citus on PostgreSQL).

CREATE TABLE workspaces (
    workspace_id INTEGER NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    config_toml  TEXT,
    created_at   INTEGER NOT NULL
);

-- The merged, normalized records of one conversation (JSON of servicemeter_core::Conversation).
CREATE TABLE conversations (
    workspace_id    INTEGER NOT NULL REFERENCES workspaces (workspace_id),
    conversation_id TEXT    NOT NULL,
    has_header      INTEGER NOT NULL,
    body            BLOB    NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id)
) WITHOUT ROWID;

-- Per-conversation facts, computed at import and recomputed when the configuration changes.
-- Durations in milliseconds. Only conversations with a conversation record have facts.
CREATE TABLE conversation_facts (
    workspace_id               INTEGER NOT NULL,
    conversation_id            TEXT    NOT NULL,
    channel                    TEXT    NOT NULL,
    agent                      TEXT,
    tags                       TEXT    NOT NULL,
    created_at                 INTEGER NOT NULL,
    start_at                   INTEGER NOT NULL,
    inbound                    INTEGER NOT NULL,
    first_response_ms          INTEGER,
    first_response_business_ms INTEGER,
    resolved                   INTEGER NOT NULL,
    resolution_ms              INTEGER,
    resolution_business_ms     INTEGER,
    first_resolution_ms        INTEGER,
    reopens                    INTEGER NOT NULL,
    customer_messages          INTEGER NOT NULL,
    agent_messages             INTEGER NOT NULL,
    agent_turns                INTEGER NOT NULL,
    one_touch                  INTEGER NOT NULL,
    csat_score                 REAL,
    csat_min                   REAL,
    csat_max                   REAL,
    nps_score                  REAL,
    ces_score                  REAL,
    ces_min                    REAL,
    ces_max                    REAL,
    PRIMARY KEY (workspace_id, conversation_id),
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, conversation_id)
) WITHOUT ROWID;

CREATE INDEX conversation_facts_by_start ON conversation_facts (workspace_id, start_at);

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
