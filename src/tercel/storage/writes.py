"""The raw SQL statements of the writer, one function per table."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from tercel.engine import changes, model
from tercel.storage.codec import dumps, micros, micros_or_none

__all__ = [
    "delete_executions",
    "insert_executions",
    "insert_logs",
    "insert_states",
    "insert_timers",
    "remove_task_runs",
    "update_executions",
    "upsert_attempts",
    "upsert_task_runs",
]


def insert_executions(conn: sqlite3.Connection, executions: Sequence[model.Execution]) -> None:
    rows: list[tuple[Any, ...]] = []
    label_rows: list[tuple[str, int, str, str]] = []
    for ex in executions:
        created = ex.original_created_date or ex.state.start_date
        rows.append(
            (
                ex.id,
                ex.namespace,
                ex.flow_id,
                ex.flow_revision,
                ex.state.current.value,
                micros(ex.state.start_date),
                micros_or_none(ex.state.end_date),
                dumps(ex.inputs),
                dumps(ex.outputs),
                dumps([[lb.key, lb.value] for lb in ex.labels]),
                dumps(ex.variables) or "{}",
                ex.parent_id,
                ex.original_id,
                ex.attempt_number,
                micros(created),
                dumps(ex.trigger),
            )
        )
        label_rows.extend((ex.id, i, lb.key, lb.value) for i, lb in enumerate(ex.labels))
    conn.executemany(
        "INSERT INTO executions (id, namespace, flow_id, flow_revision, state_current, start_date,"
        " end_date, inputs, outputs, labels, variables, parent_id, original_id, attempt_number,"
        " original_created_date, trigger_info) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    conn.executemany(
        "INSERT INTO labels (execution_id, position, key, value) VALUES (?,?,?,?)", label_rows
    )


def update_executions(conn: sqlite3.Connection, executions: Sequence[model.Execution]) -> None:
    conn.executemany(
        "UPDATE executions SET state_current = ?, end_date = ?, outputs = ?, attempt_number = ?"
        " WHERE id = ?",
        [
            (
                ex.state.current.value,
                micros_or_none(ex.state.end_date),
                dumps(ex.outputs),
                ex.attempt_number,
                ex.id,
            )
            for ex in executions
        ],
    )


def upsert_task_runs(
    conn: sqlite3.Connection, runs: Sequence[model.TaskRun], plans: Mapping[str, Mapping[str, Any]]
) -> None:
    conn.executemany(
        "INSERT INTO task_runs (id, execution_id, position, task_id, parent_task_run_id, value,"
        " iteration, state_current, start_date, end_date, attempts_count, outputs, plan)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET"
        " state_current = excluded.state_current, end_date = excluded.end_date,"
        " attempts_count = excluded.attempts_count, outputs = excluded.outputs,"
        " plan = coalesce(excluded.plan, task_runs.plan), position = excluded.position",
        [
            (
                tr.id,
                tr.execution_id,
                tr.position,
                tr.task_id,
                tr.parent_task_run_id,
                tr.value,
                tr.iteration,
                tr.state.current.value,
                micros(tr.state.start_date),
                micros_or_none(tr.state.end_date),
                len(tr.attempts or ()),
                dumps(tr.outputs),
                dumps(plans.get(tr.id)),
            )
            for tr in runs
        ],
    )


def upsert_attempts(
    conn: sqlite3.Connection, attempts: Sequence[tuple[model.TaskRun, model.Attempt]]
) -> None:
    conn.executemany(
        "INSERT INTO attempts (task_run_id, number, execution_id, state_current, start_date,"
        " end_date) VALUES (?,?,?,?,?,?) ON CONFLICT (task_run_id, number) DO UPDATE SET"
        " state_current = excluded.state_current, end_date = excluded.end_date",
        [
            (
                tr.id,
                at.number,
                tr.execution_id,
                at.state.current.value,
                micros(at.state.start_date),
                micros_or_none(at.state.end_date),
            )
            for tr, at in attempts
        ],
    )
    metric_rows = [
        (
            tr.execution_id,
            tr.id,
            at.number,
            i,
            m.name,
            m.type,
            m.value,
            dumps(m.tags) or "{}",
            micros(m.timestamp),
        )
        for tr, at in attempts
        if at.state.current.is_terminated
        for i, m in enumerate(at.metrics)
    ]
    if metric_rows:
        conn.executemany(
            "INSERT OR REPLACE INTO metrics (execution_id, task_run_id, attempt_number, position,"
            " name, type, value, tags, timestamp) VALUES (?,?,?,?,?,?,?,?,?)",
            metric_rows,
        )


def insert_states(conn: sqlite3.Connection, rows: Sequence[changes.StateRow]) -> None:
    conn.executemany(
        "INSERT INTO state_changes (seq, execution_id, entity, task_run_id, attempt_number, state,"
        " previous, date, task_id, value) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [
            (
                r.seq,
                r.execution_id,
                r.entity.value,
                r.task_run_id,
                r.attempt_number,
                r.state.value,
                r.previous.value if r.previous else None,
                micros(r.date),
                r.task_id,
                r.value,
            )
            for r in rows
        ],
    )


def insert_logs(conn: sqlite3.Connection, rows: Sequence[changes.LogRow]) -> None:
    conn.executemany(
        "INSERT INTO logs (seq, execution_id, task_run_id, task_id, attempt_number, level,"
        " message, timestamp) VALUES (?,?,?,?,?,?,?,?)",
        [
            (
                r.seq,
                r.execution_id,
                r.task_run_id,
                r.task_id,
                r.attempt_number,
                r.level.name,
                r.message,
                micros(r.timestamp),
            )
            for r in rows
        ],
    )


def insert_timers(conn: sqlite3.Connection, rows: Sequence[changes.TimerRow]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO timers (id, execution_id, kind, task_run_id, due, payload)"
        " VALUES (?,?,?,?,?,?)",
        [
            (t.id, t.execution_id, t.kind, t.task_run_id, micros(t.due), dumps(t.payload))
            for t in rows
        ],
    )


def remove_task_runs(conn: sqlite3.Connection, ids: Sequence[str]) -> None:
    """Restart drops errors/finally task runs; their state-change rows stay (append-only log)."""
    params = [(i,) for i in ids]
    conn.executemany("DELETE FROM task_runs WHERE id = ?", params)
    conn.executemany("DELETE FROM attempts WHERE task_run_id = ?", params)
    conn.executemany("DELETE FROM metrics WHERE task_run_id = ?", params)


def delete_executions(
    conn: sqlite3.Connection, ids: Sequence[str], kept: Mapping[str, frozenset[str]] | None = None
) -> None:
    """Delete executions with their rows; `kept` names, per execution, the tables whose rows
    stay (`logs`, `metrics`: Kestra's purge options)."""
    kept = kept or {}
    for table in ("labels", "task_runs", "attempts", "metrics", "state_changes", "logs", "timers"):
        params = [(i,) for i in ids if table not in kept.get(i, ())]
        conn.executemany(f"DELETE FROM {table} WHERE execution_id = ?", params)
    conn.executemany("DELETE FROM executions WHERE id = ?", [(i,) for i in ids])


def relabel_executions(conn: sqlite3.Connection, executions: Sequence[model.Execution]) -> None:
    """Rewrite the labels of executions (the JSON column and the indexed `labels` rows)."""
    conn.executemany(
        "UPDATE executions SET labels = ? WHERE id = ?",
        [(dumps([[lb.key, lb.value] for lb in ex.labels]), ex.id) for ex in executions],
    )
    conn.executemany("DELETE FROM labels WHERE execution_id = ?", [(ex.id,) for ex in executions])
    conn.executemany(
        "INSERT INTO labels (execution_id, position, key, value) VALUES (?,?,?,?)",
        [(ex.id, i, lb.key, lb.value) for ex in executions for i, lb in enumerate(ex.labels)],
    )
