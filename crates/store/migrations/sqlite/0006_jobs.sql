-- Background jobs (recompute after a configuration change, and what comes next: scheduled
-- syncs, survey e-mails, reports). Keyed by workspace first like every workspace table; ids
-- from workspace_state.next_job.
--
-- state: queued (waits for run_after) → running (claimed by a worker until locked_until; a
-- worker that died leaves it to be claimed again) → done, or back to queued with a later
-- run_after after a failure, or dead after max_attempts failures (last_error says why).
CREATE TABLE jobs (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (workspace_id),
    job_id       INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL DEFAULT '',
    dedupe_key   TEXT,
    state        TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_after    INTEGER NOT NULL,
    locked_until INTEGER,
    worker       TEXT,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    PRIMARY KEY (workspace_id, job_id)
);

CREATE INDEX jobs_due ON jobs (workspace_id, state, run_after);
-- At most one queued job per workspace and dedupe key.
CREATE UNIQUE INDEX jobs_dedupe ON jobs (workspace_id, dedupe_key)
    WHERE dedupe_key IS NOT NULL AND state = 'queued';

ALTER TABLE workspace_state ADD COLUMN next_job INTEGER NOT NULL DEFAULT 1;

-- Right to erasure: customers whose data was erased (only a SHA-256 of their id is kept, so
-- that records of them imported later are erased too), and the audit log of such actions.
CREATE TABLE erased_customers (
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (workspace_id),
    customer_hash TEXT    NOT NULL,
    erased_at     INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, customer_hash)
);

CREATE TABLE audit_log (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (workspace_id),
    entry_id     INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    actor        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    detail       TEXT    NOT NULL,
    PRIMARY KEY (workspace_id, entry_id)
);

ALTER TABLE workspace_state ADD COLUMN next_audit INTEGER NOT NULL DEFAULT 1;
