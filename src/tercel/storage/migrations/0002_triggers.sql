-- One row per trigger of a flow (docs/semantics.md#schedule, #flow-trigger). A Schedule's `next_date` is written in
-- the same transaction as the execution it creates for the previous date, so a date fires at
-- most once and none is skipped across a crash. `definition` is the cron and zone the date was
-- computed from (a changed cron starts again from now). `disabled` is `setTriggerDisabled`'s
-- switch, apart from the flow YAML's own `disabled`. `watermark` is a Flow trigger's last
-- execution end (a `state_changes.seq`), written with the execution it started for that end.
CREATE TABLE trigger_states (
    namespace         TEXT NOT NULL,
    flow_id           TEXT NOT NULL,
    trigger_id        TEXT NOT NULL,
    next_date         INTEGER,
    definition        TEXT NOT NULL DEFAULT '',
    disabled          INTEGER NOT NULL DEFAULT 0,
    last_execution_id TEXT,
    watermark         INTEGER,
    PRIMARY KEY (namespace, flow_id, trigger_id)
);
