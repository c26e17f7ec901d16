-- Saved views: a period preset (or dates) and a filter under a name, shared within the
-- workspace. `query` is the overview's query string (validated by the server, at most 2 000
-- bytes); the name is unique in the workspace.
CREATE TABLE saved_views (
    workspace_id BIGINT NOT NULL REFERENCES workspaces (workspace_id),
    name         TEXT   NOT NULL,
    query        TEXT   NOT NULL,
    created_by   TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name)
);
