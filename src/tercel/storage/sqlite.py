"""The SQLite database: pragmas, migrations, and the engine's `Store` on SQLite.

`Database` is the writer side (`engine.store.Store`): every statement the engine runs goes
through it. All execution writes go through `Database.commit(changes)`: one `BEGIN IMMEDIATE`
transaction, a few `executemany` statements, raw SQL (no ORM in the per-transition path; the
statements are in `writes.py`, the loader's in `reader.py`, the flows' in `flowstore.py` and
`flowadmin.py`, the triggers' in `triggerstate.py`). The engine calls it from one dedicated
thread, so there is exactly one writer per database file. `Reads` is the read half over any
connection (the loop's read-only one).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from importlib import resources
from pathlib import Path

from tercel import failpoints
from tercel.engine import changes
from tercel.engine.store import (
    ExecutionEnd,
    FlowHead,
    FlowRow,
    Loaded,
    StoredTrigger,
    TriggerKey,
)
from tercel.storage import flowadmin, flowstore, reader, triggerstate

__all__ = ["Database", "Reads", "connect", "disk_full_error", "is_disk_full"]

SCHEMA_VERSION = 2
_MIGRATIONS = ("0001_init.sql", "0002_triggers.sql")


def connect(path: str, *, synchronous: str = "FULL", readonly: bool = False) -> sqlite3.Connection:
    """A connection with Tercel's pragmas (WAL; `synchronous=FULL` unless told otherwise)."""
    if readonly:
        uri = Path(path).resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    else:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    return conn


def is_disk_full(error: sqlite3.Error) -> bool:
    """SQLITE_FULL: a write found no space left on the database's file system."""
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


def disk_full_error() -> sqlite3.OperationalError:
    """The error SQLite raises on a full disk (for the `commit_disk_full` fail point)."""
    error = sqlite3.OperationalError("database or disk is full")
    error.sqlite_errorcode = sqlite3.SQLITE_FULL
    error.sqlite_errorname = "SQLITE_FULL"
    return error


def migrate(conn: sqlite3.Connection) -> None:
    """Apply every migration newer than `PRAGMA user_version`, each in its own transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"database schema version {version} is newer than this Tercel ({SCHEMA_VERSION})"
        )
    folder = resources.files("tercel.storage") / "migrations"
    for number, name in enumerate(_MIGRATIONS, start=1):
        if number <= version:
            continue
        script = (folder / name).read_text()
        conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")


class Reads:
    """`engine.store.StoreReads` over one connection (the writer's, or a read-only one)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def load_executions(self, ids: Sequence[str]) -> Loaded:
        return reader.load_executions(self.conn, ids)

    def active_execution_ids(self) -> list[str]:
        return reader.active_execution_ids(self.conn)

    def load_timers(self, execution_id: str | None = None) -> list[changes.TimerRow]:
        return reader.load_timers(self.conn, execution_id)

    def flow(self, namespace: str, flow_id: str, revision: int) -> FlowRow | None:
        return flowstore.get(self.conn, namespace, flow_id, revision)

    def latest_flow(self, namespace: str, flow_id: str) -> FlowRow | None:
        return flowstore.latest(self.conn, namespace, flow_id)

    def latest_flows(self, namespace: str | None = None) -> list[FlowRow]:
        return flowstore.list_latest(self.conn, namespace)

    def latest_flow_heads(self) -> list[FlowHead]:
        return flowstore.latest_heads(self.conn)

    def trigger_states(self) -> dict[TriggerKey, StoredTrigger]:
        return triggerstate.load_all(self.conn)

    def switched_off_triggers(self) -> set[TriggerKey]:
        return triggerstate.switched_off(self.conn)

    def executions_ended_since(self, seq: int) -> list[ExecutionEnd]:
        return triggerstate.ended_since(self.conn, seq)

    def close(self) -> None:
        self.conn.close()


class Database(Reads):
    """The writer's connection (`engine.store.Store`). Not thread-safe: use it from one
    thread."""

    def __init__(self, path: str, *, synchronous: str = "FULL") -> None:
        super().__init__(connect(path, synchronous=synchronous))
        self.path = path
        migrate(self.conn)
        check = self.conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise RuntimeError(f"database {path} failed its integrity check: {check}")
        self._next_state_seq = self._sequence("state_changes") + 1
        self._next_log_seq = self._sequence("logs") + 1

    def _sequence(self, table: str) -> int:
        row = self.conn.execute(
            "SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)
        ).fetchone()
        return int(row[0]) if row else 0

    @property
    def last_state_seq(self) -> int:
        return self._next_state_seq - 1

    @property
    def last_log_seq(self) -> int:
        return self._next_log_seq - 1

    def deploy_flow(
        self, namespace: str, flow_id: str, source: str, disabled: bool, now: datetime
    ) -> FlowRow:
        return flowstore.deploy(self.conn, namespace, flow_id, source, disabled, now)

    def set_flow_disabled(self, namespace: str, flow_id: str, disabled: bool) -> int | None:
        return flowadmin.set_disabled(self.conn, namespace, flow_id, disabled)

    def delete_flow(self, namespace: str, flow_id: str) -> int | None:
        return flowadmin.delete_flow(self.conn, namespace, flow_id)

    def save_trigger_states(self, rows: Sequence[changes.TriggerStateRow]) -> None:
        triggerstate.save(self.conn, rows)

    def set_trigger_disabled(
        self, namespace: str, flow_id: str, trigger_id: str, disabled: bool
    ) -> None:
        triggerstate.set_disabled(self.conn, namespace, flow_id, trigger_id, disabled)

    def leftover_processes(self) -> list[tuple[str, int, int]]:
        """(task run id, attempt number, process group id) of the shell processes recorded by
        attempts of an engine that is gone (read at start, before any attempt runs)."""
        sql = "SELECT task_run_id, attempt_number, pgid FROM processes"
        return [(str(r[0]), int(r[1]), int(r[2])) for r in self.conn.execute(sql).fetchall()]

    def forget_processes(self) -> None:
        """Empty `processes` once recovery ended what they name."""
        self.conn.execute("DELETE FROM processes")

    def commit(self, cs: changes.ChangeSet) -> None:
        """Write one change set in one transaction; assigns `seq` to its state and log rows."""
        state_seq, log_seq = self._next_state_seq, self._next_log_seq
        for row in cs.states:
            row.seq, state_seq = state_seq, state_seq + 1
        for log in cs.logs:
            log.seq, log_seq = log_seq, log_seq + 1
        conn = self.conn
        try:
            if failpoints.raises("commit_disk_full"):
                raise disk_full_error()
            if conn.in_transaction:  # left open by a failed write on this connection
                conn.execute("ROLLBACK")
            conn.execute("BEGIN IMMEDIATE")
            _write(conn, cs)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite already rolled back after SQLITE_FULL
                conn.execute("ROLLBACK")
            for row in cs.states:
                row.seq = 0
            for log in cs.logs:
                log.seq = 0
            raise
        self._next_state_seq, self._next_log_seq = state_seq, log_seq


def _write(conn: sqlite3.Connection, cs: changes.ChangeSet) -> None:
    from tercel.storage import writes

    if cs.deleted_executions:
        writes.delete_executions(conn, cs.deleted_executions, cs.kept_on_delete)
    if cs.new_executions:
        writes.insert_executions(conn, list(cs.new_executions.values()))
    if cs.executions:
        writes.update_executions(conn, list(cs.executions.values()))
    if cs.relabelled:
        writes.relabel_executions(conn, list(cs.relabelled.values()))
    if cs.removed_task_runs:
        writes.remove_task_runs(conn, cs.removed_task_runs)
    if cs.task_runs:
        writes.upsert_task_runs(conn, list(cs.task_runs.values()), cs.plans)
    if cs.attempts:
        writes.upsert_attempts(conn, list(cs.attempts.values()))
    if cs.states:
        writes.insert_states(conn, cs.states)
    if cs.logs:
        writes.insert_logs(conn, cs.logs)
    if cs.timers_removed:
        conn.executemany("DELETE FROM timers WHERE id = ?", [(t,) for t in cs.timers_removed])
    if cs.timers_added:
        writes.insert_timers(conn, cs.timers_added)
    if cs.trigger_states:
        triggerstate.upsert(conn, cs.trigger_states)
    if cs.processes:
        conn.executemany(
            "INSERT OR IGNORE INTO processes (task_run_id, attempt_number, pgid) VALUES (?, ?, ?)",
            cs.processes,
        )
    if cs.processes_ended:  # after the inserts: one commit may record and end a process
        conn.executemany(
            "DELETE FROM processes WHERE task_run_id = ? AND attempt_number = ?", cs.processes_ended
        )
