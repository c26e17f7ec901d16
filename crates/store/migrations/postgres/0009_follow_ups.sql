-- Following up unhappy survey answers (docs/surveys.md): one row per conversation and kind,
-- opened when a recent unhappy answer arrives, worked through by the team.
CREATE TABLE follow_ups (
    workspace_id    BIGINT  NOT NULL REFERENCES workspaces (workspace_id),
    conversation_id TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    -- new, in_progress or done.
    status          TEXT    NOT NULL,
    -- The member who follows it up (a user's e-mail address), if anyone.
    owner           TEXT,
    note            TEXT    NOT NULL,
    -- The latest unhappy answer's time, and when its follow-up is due (UTC ms).
    answered_at     BIGINT  NOT NULL,
    due_at          BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    -- Who changed it last (a user's e-mail address), if anyone.
    updated_by      TEXT,
    PRIMARY KEY (workspace_id, conversation_id, kind)
);
CREATE INDEX follow_ups_open ON follow_ups (workspace_id, status, due_at);
