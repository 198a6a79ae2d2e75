"""Flow revisions: deploy (a new revision only when the source changed) and look-ups."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from tercel import clock
from tercel.engine.store import FlowHead, FlowRow

__all__ = ["FlowRow", "deploy", "get", "latest", "latest_heads", "list_latest"]

_COLUMNS = "namespace, id, revision, source, disabled, updated"


def _row(row: tuple[str, str, int, str, int, int]) -> FlowRow:
    return FlowRow(row[0], row[1], row[2], row[3], bool(row[4]), clock.from_micros(row[5]))


def latest(conn: sqlite3.Connection, namespace: str, flow_id: str) -> FlowRow | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM flows WHERE namespace = ? AND id = ? AND deleted = 0"
        " ORDER BY revision DESC LIMIT 1",
        (namespace, flow_id),
    ).fetchone()
    return None if row is None else _row(row)


def get(conn: sqlite3.Connection, namespace: str, flow_id: str, revision: int) -> FlowRow | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM flows WHERE namespace = ? AND id = ? AND revision = ?",
        (namespace, flow_id, revision),
    ).fetchone()
    return None if row is None else _row(row)


def deploy(
    conn: sqlite3.Connection,
    namespace: str,
    flow_id: str,
    source: str,
    disabled: bool,
    now: datetime,
) -> FlowRow:
    """Store `source` as revision n+1, unless it equals the latest revision's source."""
    current = latest(conn, namespace, flow_id)
    if current is not None and current.source == source:
        return current
    top = conn.execute(
        "SELECT max(revision) FROM flows WHERE namespace = ? AND id = ?", (namespace, flow_id)
    ).fetchone()[0]
    revision = (top or 0) + 1
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            f"INSERT INTO flows ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (namespace, flow_id, revision, source, int(disabled), clock.to_micros(now)),
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # never leave the engine's connection inside a transaction
            conn.execute("ROLLBACK")
        raise
    return FlowRow(namespace, flow_id, revision, source, disabled, now)


def list_latest(conn: sqlite3.Connection, namespace: str | None = None) -> list[FlowRow]:
    sql = (
        f"SELECT {_COLUMNS} FROM flows f WHERE deleted = 0 AND revision = (SELECT max(revision)"
        " FROM flows g WHERE g.namespace = f.namespace AND g.id = f.id)"
    )
    params: tuple[str, ...] = ()
    if namespace:
        sql += " AND (namespace = ? OR namespace LIKE ? ESCAPE '\\')"
        escaped = namespace.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params = (namespace, escaped + ".%")
    return [_row(r) for r in conn.execute(sql + " ORDER BY namespace, id", params)]


def latest_heads(conn: sqlite3.Connection) -> list[FlowHead]:
    """`list_latest` without the sources (the trigger runners look every second)."""
    rows = conn.execute(
        "SELECT f.namespace, f.id, f.revision, f.disabled FROM flows f"
        " WHERE f.deleted = 0 AND f.revision = (SELECT max(g.revision) FROM flows g"
        " WHERE g.namespace = f.namespace AND g.id = f.id) ORDER BY f.namespace, f.id"
    )
    return [FlowHead(ns, flow_id, revision, bool(off)) for ns, flow_id, revision, off in rows]
