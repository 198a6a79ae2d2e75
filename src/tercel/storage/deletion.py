"""Execution deletion: sync, on the engine's writer connection (serialized with its commits)."""

from __future__ import annotations

import sqlite3

from tercel.engine import states
from tercel.storage import writes

__all__ = ["delete_terminal_execution"]


def delete_terminal_execution(conn: sqlite3.Connection, execution_id: str) -> str | None:
    """Delete the execution and every row of its child tables if it is terminal.

    Returns None when deleted, else the current state (`"NOT_FOUND"` when there is no such
    execution). The check and the delete run in one transaction.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(
            "SELECT state_current FROM executions WHERE id = ?", (execution_id,)
        ).fetchone()
        if row is None or states.StateType(row[0]) not in states.TERMINAL:
            conn.execute("ROLLBACK")
            return "NOT_FOUND" if row is None else str(row[0])
        writes.delete_executions(conn, [execution_id])
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return None
