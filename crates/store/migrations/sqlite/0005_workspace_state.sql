-- Ids without MAX()+1, and versions on what is stored.
--
-- workspace_state holds what changes with every write of a workspace: its data version and the
-- counters that number its conversations (ordinals), fact segments, imports and API tokens. A
-- writer takes numbers with UPDATE ... RETURNING inside its own transaction, so two writers can
-- never take the same number. (On PostgreSQL this is a distributed table keyed by
-- workspace_id; workspaces itself, small and rarely written, is a reference table.)
CREATE TABLE workspace_state (
    workspace_id INTEGER NOT NULL PRIMARY KEY REFERENCES workspaces (workspace_id),
    data_version INTEGER NOT NULL DEFAULT 0,
    next_ordinal INTEGER NOT NULL DEFAULT 0,
    next_segment INTEGER NOT NULL DEFAULT 0,
    next_import  INTEGER NOT NULL DEFAULT 1,
    next_token   INTEGER NOT NULL DEFAULT 1,
    -- Conversations with a conversation record (those with facts), kept by every write, so
    -- that deciding on a compaction needs no count over the workspace.
    live_conversations INTEGER NOT NULL DEFAULT 0
);

-- Counters of existing workspaces continue after the highest number in use (a one-time
-- reading during the migration; from here on numbers only come from the counters).
INSERT INTO workspace_state (workspace_id, data_version, next_ordinal, next_segment, next_import, next_token, live_conversations)
SELECT w.workspace_id,
       w.data_version,
       COALESCE((SELECT MAX(ordinal) + 1 FROM conversations c WHERE c.workspace_id = w.workspace_id), 0),
       COALESCE((SELECT MAX(segment_id) + 1 FROM fact_segments s WHERE s.workspace_id = w.workspace_id), 0),
       COALESCE((SELECT MAX(import_id) + 1 FROM imports i WHERE i.workspace_id = w.workspace_id), 1),
       COALESCE((SELECT MAX(token_id) + 1 FROM api_tokens t WHERE t.workspace_id = w.workspace_id), 1),
       (SELECT COUNT(*) FROM conversations c WHERE c.workspace_id = w.workspace_id AND c.has_header = 1)
FROM workspaces w;

ALTER TABLE workspaces DROP COLUMN data_version;

-- The encoding of a stored conversation body (1: postcard of servicemeter_core::Conversation
-- as of this migration). A reader meets a version it does not know as a clear error.
ALTER TABLE conversations ADD COLUMN body_version INTEGER NOT NULL DEFAULT 1;

-- The version of the fact rules and encoding a segment was computed with. Segments of another
-- version are derived data: they are recomputed from the bodies, never an error.
ALTER TABLE fact_segments ADD COLUMN facts_version INTEGER NOT NULL DEFAULT 1;
