"""Flow administration beside `flowstore`: deletion and disabling (sync, on the engine's
writer connection)."""

from __future__ import annotations

import sqlite3

__all__ = ["delete_flow", "set_disabled"]


def delete_flow(conn: sqlite3.Connection, namespace: str, flow_id: str) -> int | None:
    """Mark every revision of the flow deleted; returns the latest revision, or None when the
    flow does not exist (or is deleted already). Executions of the flow are kept."""
    return _update_latest(conn, namespace, flow_id, "UPDATE flows SET deleted = 1", ())


def set_disabled(
    conn: sqlite3.Connection, namespace: str, flow_id: str, disabled: bool
) -> int | None:
    """Disable (or enable) the flow; returns its latest revision, or None when there is no such
    flow. A disabled flow cannot be executed; executions already running go on."""
    return _update_latest(
        conn, namespace, flow_id, "UPDATE flows SET disabled = ?", (int(disabled),)
    )


def _update_latest(
    conn: sqlite3.Connection, namespace: str, flow_id: str, update: str, values: tuple[int, ...]
) -> int | None:
    """Run `update ... WHERE <this flow>` in one transaction when the flow exists."""
    row = conn.execute(
        "SELECT max(revision) FROM flows WHERE namespace = ? AND id = ? AND deleted = 0",
        (namespace, flow_id),
    ).fetchone()
    if row is None or row[0] is None:
        return None
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(f"{update} WHERE namespace = ? AND id = ?", (*values, namespace, flow_id))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite may have rolled back already (SQLITE_FULL)
            conn.execute("ROLLBACK")
        raise
    return int(row[0])
