-- Tercel schema, version 1. Instants are integer microseconds since the Unix epoch (UTC).
CREATE TABLE flows (
    namespace   TEXT NOT NULL,
    id          TEXT NOT NULL,
    revision    INTEGER NOT NULL,
    source      TEXT NOT NULL,
    disabled    INTEGER NOT NULL DEFAULT 0,
    deleted     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL,
    PRIMARY KEY (namespace, id, revision)
);

CREATE TABLE executions (
    id                    TEXT PRIMARY KEY,
    namespace             TEXT NOT NULL,
    flow_id               TEXT NOT NULL,
    flow_revision         INTEGER NOT NULL,
    state_current         TEXT NOT NULL,
    start_date            INTEGER NOT NULL,
    end_date              INTEGER,
    inputs                TEXT,
    outputs               TEXT,
    labels                TEXT NOT NULL DEFAULT '[]',
    variables             TEXT NOT NULL DEFAULT '{}',
    parent_id             TEXT,
    original_id           TEXT NOT NULL,
    attempt_number        INTEGER NOT NULL DEFAULT 1,
    original_created_date INTEGER NOT NULL,
    trigger_info          TEXT
);
CREATE INDEX executions_start ON executions (start_date, id);
CREATE INDEX executions_flow ON executions (namespace, flow_id, start_date);
CREATE INDEX executions_state ON executions (state_current, start_date);

CREATE TABLE labels (
    execution_id TEXT NOT NULL,
    position     INTEGER NOT NULL,
    key          TEXT NOT NULL,
    value        TEXT NOT NULL,
    PRIMARY KEY (execution_id, position)
);
CREATE INDEX labels_key ON labels (key, value, execution_id);

CREATE TABLE task_runs (
    id                 TEXT PRIMARY KEY,
    execution_id       TEXT NOT NULL,
    position           INTEGER NOT NULL,
    task_id            TEXT NOT NULL,
    parent_task_run_id TEXT,
    value              TEXT,
    iteration          INTEGER,
    state_current      TEXT NOT NULL,
    start_date         INTEGER NOT NULL,
    end_date           INTEGER,
    attempts_count     INTEGER NOT NULL DEFAULT 0,
    outputs            TEXT,
    plan               TEXT
);
CREATE INDEX task_runs_execution ON task_runs (execution_id, position);
CREATE INDEX task_runs_state ON task_runs (state_current, start_date);

CREATE TABLE attempts (
    task_run_id   TEXT NOT NULL,
    number        INTEGER NOT NULL,
    execution_id  TEXT NOT NULL,
    state_current TEXT NOT NULL,
    start_date    INTEGER NOT NULL,
    end_date      INTEGER,
    PRIMARY KEY (task_run_id, number)
);
CREATE INDEX attempts_execution ON attempts (execution_id);

CREATE TABLE metrics (
    execution_id   TEXT NOT NULL,
    task_run_id    TEXT NOT NULL,
    attempt_number INTEGER NOT NULL,
    position       INTEGER NOT NULL,
    name           TEXT NOT NULL,
    type           TEXT NOT NULL,
    value          REAL NOT NULL,
    tags           TEXT NOT NULL,
    timestamp      INTEGER NOT NULL,
    PRIMARY KEY (task_run_id, attempt_number, position)
);
CREATE INDEX metrics_execution ON metrics (execution_id);

-- The append-only state-change log: one row per appended history entry (execution, task run,
-- attempt). `seq` is the subscription cursor; AUTOINCREMENT keeps it from ever being reused.
CREATE TABLE state_changes (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id   TEXT NOT NULL,
    entity         TEXT NOT NULL,
    task_run_id    TEXT,
    attempt_number INTEGER,
    state          TEXT NOT NULL,
    previous       TEXT,
    date           INTEGER NOT NULL,
    task_id        TEXT,
    value          TEXT
);
CREATE INDEX state_changes_execution ON state_changes (execution_id, seq);

CREATE TABLE logs (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id   TEXT NOT NULL,
    task_run_id    TEXT,
    task_id        TEXT,
    attempt_number INTEGER,
    level          TEXT NOT NULL,
    message        TEXT NOT NULL,
    timestamp      INTEGER NOT NULL
);
CREATE INDEX logs_execution ON logs (execution_id, seq);

CREATE TABLE timers (
    id           TEXT PRIMARY KEY,
    execution_id TEXT NOT NULL,
    kind         TEXT NOT NULL,
    task_run_id  TEXT,
    due          INTEGER NOT NULL,
    payload      TEXT
);
CREATE INDEX timers_due ON timers (due);

-- Process groups of running shell attempts, so a restarted engine can end them.
CREATE TABLE processes (
    task_run_id    TEXT NOT NULL,
    attempt_number INTEGER NOT NULL,
    pgid           INTEGER NOT NULL,
    PRIMARY KEY (task_run_id, attempt_number, pgid)
);
