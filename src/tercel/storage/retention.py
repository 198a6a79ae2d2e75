"""Retention's SQL (docs/semantics.md#retention): which executions a purge matches, and log purges.

The executions themselves are deleted by the engine's commit like any deletion
(`writes.delete_executions`), so open streams see them go; here are the reads that pick them, a
batch at a time, and the deletes of log and metric rows that leave executions in place.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from tercel.engine import states
from tercel.engine.store import ExecutionPurge, LogPurge, PurgeCandidate
from tercel.storage.codec import micros

__all__ = ["ROW_TABLES", "purge_candidates", "purge_logs", "purge_rows"]

#: the tables `purge_rows` may empty for an execution it keeps
ROW_TABLES = frozenset({"logs", "metrics"})


def _namespace(column: str, namespace: str, where: list[str], params: list[Any]) -> None:
    """The namespace or one of its children (Kestra: `= ns OR LIKE 'ns.%'`, without LIKE's
    wildcards)."""
    where.append(f"({column} = ? OR substr({column}, 1, ?) = ?)")
    params += [namespace, len(namespace) + 1, namespace + "."]


def purge_candidates(
    conn: sqlite3.Connection, which: ExecutionPurge, after: str, limit: int
) -> list[PurgeCandidate]:
    ended = states.TERMINAL if which.states is None else states.TERMINAL & which.states
    if not ended:
        return []
    # `+state_current`: walk the primary key in id order rather than sort the state index
    where = [
        "e.id > ?",
        f"+e.state_current IN ({','.join('?' * len(ended))})",
        "e.end_date <= ?",
    ]
    params: list[Any] = [after, *sorted(s.value for s in ended), micros(which.end)]
    if which.start is not None:
        where.append("e.start_date >= ?")
        params.append(micros(which.start))
    if which.namespace is not None:
        _namespace("e.namespace", which.namespace, where, params)
    if which.flow_id is not None:
        where.append("e.flow_id = ?")
        params.append(which.flow_id)
    if which.spare is not None:
        where.append("e.id <> ?")
        params.append(which.spare)
    sql = (
        "SELECT e.id, (SELECT count(*) FROM logs l WHERE l.execution_id = e.id),"
        " (SELECT count(*) FROM metrics m WHERE m.execution_id = e.id), e.namespace, e.flow_id"
        f" FROM executions e WHERE {' AND '.join(where)} ORDER BY e.id LIMIT ?"
    )
    rows = conn.execute(sql, (*params, limit)).fetchall()
    return [PurgeCandidate(str(r[0]), int(r[1]), int(r[2]), str(r[3]), str(r[4])) for r in rows]


def purge_logs(conn: sqlite3.Connection, which: LogPurge, limit: int) -> int:
    """One DELETE statement (its own transaction on the autocommit writer connection)."""
    where = ["l.timestamp <= ?"]
    params: list[Any] = [micros(which.end)]
    if which.start is not None:
        where.append("l.timestamp >= ?")
        params.append(micros(which.start))
    if which.execution_id is not None:
        where.append("l.execution_id = ?")
        params.append(which.execution_id)
    if which.levels is not None:
        names = sorted(level.name for level in which.levels)
        where.append(f"l.level IN ({','.join('?' * len(names))})")
        params += names
    if which.namespace is not None:
        _namespace("e.namespace", which.namespace, where, params)
    if which.flow_id is not None:
        where.append("e.flow_id = ?")
        params.append(which.flow_id)
    sql = (
        "DELETE FROM logs WHERE seq IN (SELECT l.seq FROM logs l"
        " LEFT JOIN executions e ON e.id = l.execution_id"
        f" WHERE {' AND '.join(where)} LIMIT ?)"
    )
    return conn.execute(sql, (*params, limit)).rowcount


def purge_rows(conn: sqlite3.Connection, ids: Sequence[str], tables: frozenset[str]) -> None:
    """Delete these executions' rows in `tables` (a subset of `ROW_TABLES`), one transaction."""
    unknown = tables - ROW_TABLES
    if unknown:
        raise ValueError(f"purge_rows cannot empty {sorted(unknown)}")
    conn.execute("BEGIN IMMEDIATE")
    try:
        for table in sorted(tables):
            conn.executemany(f"DELETE FROM {table} WHERE execution_id = ?", [(i,) for i in ids])
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
