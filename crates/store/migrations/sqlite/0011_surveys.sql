-- Surveys servicemeter sends itself (docs/surveys.md).
--
-- One invitation per conversation and kind (the dedupe key of sending): planned when the
-- conversation was resolved, cancelled when it is reopened (or a rule changes) before it is
-- sent, then sending → sent (or unknown: a send that was interrupted is never repeated).
CREATE TABLE survey_invitations (
    workspace_id    INTEGER NOT NULL REFERENCES workspaces (workspace_id),
    conversation_id TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    -- The address it goes to; NULL once answered anonymously or after an erasure.
    customer_email  TEXT,
    language        TEXT    NOT NULL,
    due_at          INTEGER NOT NULL,
    planned_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    answered_at     INTEGER,
    -- Why it was cancelled, or the last sending error.
    note            TEXT,
    PRIMARY KEY (workspace_id, conversation_id, kind)
);
CREATE INDEX survey_invitations_due ON survey_invitations (workspace_id, state, due_at);
CREATE INDEX survey_invitations_customer ON survey_invitations (workspace_id, customer_email, kind);

-- Addresses that asked not to be surveyed again (one-click unsubscribe, or an administrator).
CREATE TABLE survey_suppressions (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (workspace_id),
    email        TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, email)
);

-- How far planning has read the conversations (their updated_at, UTC ms).
CREATE TABLE survey_state (
    workspace_id     INTEGER NOT NULL PRIMARY KEY REFERENCES workspaces (workspace_id),
    planned_through  INTEGER NOT NULL
);

-- Planning reads the conversations changed since it last ran.
CREATE INDEX conversations_updated ON conversations (workspace_id, updated_at);
