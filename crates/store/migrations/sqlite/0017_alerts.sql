-- Alerts (docs/reports.md): where each alert is (quiet or firing, since when, the last value
-- read), and its history — every time it fired or recovered, with the value, and when its
-- message was mailed and posted to its webhook (each at most once). Event ids come from
-- workspace_state.next_alert_event.
CREATE TABLE alert_states (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (workspace_id),
    alert        TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    since        INTEGER NOT NULL,
    last_value   REAL,
    checked_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, alert)
);

CREATE TABLE alert_events (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (workspace_id),
    event_id     INTEGER NOT NULL,
    alert        TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    value        REAL    NOT NULL,
    at           INTEGER NOT NULL,
    mailed_at    INTEGER,
    posted_at    INTEGER,
    PRIMARY KEY (workspace_id, event_id)
);

ALTER TABLE workspace_state ADD COLUMN next_alert_event INTEGER NOT NULL DEFAULT 1;
