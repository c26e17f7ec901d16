-- Scheduled reports (docs/reports.md).
--
-- How far each recipient's schedule has been planned (UTC ms): a send due after it and by the
-- pass's "now" is planned once (the latest of them, when a server was down for a while).
CREATE TABLE report_cursors (
    workspace_id  BIGINT  NOT NULL REFERENCES workspaces (workspace_id),
    report        TEXT    NOT NULL,
    recipient     TEXT    NOT NULL,
    planned_until BIGINT  NOT NULL,
    PRIMARY KEY (workspace_id, report, recipient)
);

-- Every copy of a report for one recipient: planned by the schedule, asked now, or a resend of
-- an earlier copy; then sending → sent (or unknown: a send that was interrupted is never
-- repeated), failed after its last attempt, or skipped (unsubscribed). Ids come from
-- workspace_state.next_report_delivery. A scheduled copy is unique per report, recipient and
-- send time: the dedupe key of sending.
CREATE TABLE report_deliveries (
    workspace_id BIGINT  NOT NULL REFERENCES workspaces (workspace_id),
    delivery_id  BIGINT  NOT NULL,
    report       TEXT    NOT NULL,
    recipient    TEXT    NOT NULL,
    language     TEXT    NOT NULL,
    due_at       BIGINT  NOT NULL,
    period_from  TEXT    NOT NULL,
    period_to    TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    -- The copy a resend repeats.
    resends      BIGINT,
    state        TEXT    NOT NULL,
    note         TEXT,
    sent_at      BIGINT,
    created_at   BIGINT  NOT NULL,
    created_by   TEXT,
    PRIMARY KEY (workspace_id, delivery_id)
);
CREATE UNIQUE INDEX report_deliveries_scheduled
    ON report_deliveries (workspace_id, report, recipient, due_at) WHERE reason = 'schedule';
CREATE INDEX report_deliveries_due ON report_deliveries (workspace_id, state, due_at);

-- The files a copy was sent with (the archive: opened and resent as they were).
CREATE TABLE report_files (
    workspace_id BIGINT  NOT NULL REFERENCES workspaces (workspace_id),
    delivery_id  BIGINT  NOT NULL,
    name         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    bytes        BYTEA   NOT NULL,
    PRIMARY KEY (workspace_id, delivery_id, name)
);

-- Addresses that unsubscribed from a report (its one-click link).
CREATE TABLE report_unsubscribes (
    workspace_id BIGINT  NOT NULL REFERENCES workspaces (workspace_id),
    report       TEXT    NOT NULL,
    email        TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    PRIMARY KEY (workspace_id, report, email)
);

ALTER TABLE workspace_state ADD COLUMN next_report_delivery BIGINT NOT NULL DEFAULT 1;
