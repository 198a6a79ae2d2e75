"""Retention on `MemoryStore`'s tables, with the rules `retention.py` runs on SQLite (the store
contract test holds both to them)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from tercel.engine import changes, model, states
from tercel.engine.store import ExecutionPurge, LogPurge, PurgeCandidate

__all__ = ["candidates", "log_matches", "purged_logs", "without_rows"]

#: (task run id, attempt number) -> (execution id, metrics of the ended attempt)
Attempts = Mapping[tuple[str, int], tuple[str, list[model.Metric]]]


def _in_namespace(namespace: str | None, wanted: str | None) -> bool:
    if wanted is None:
        return True
    return namespace is not None and (namespace == wanted or namespace.startswith(wanted + "."))


def _states(rows: Sequence[changes.StateRow]) -> dict[str, states.State]:
    """Each execution's own state, from the log in `seq` order."""
    entries: dict[str, list[states.HistoryEntry]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r.seq):
        if row.entity is states.Entity.EXECUTION:
            entries[row.execution_id].append(states.HistoryEntry(row.state, row.date))
    return {key: states.State(tuple(found)) for key, found in entries.items()}


def _matches(which: ExecutionPurge, ex: model.Execution, state: states.State) -> bool:
    current, end = state.current, state.end_date
    return (
        current.is_terminated
        and (which.states is None or current in which.states)
        and end is not None
        and end <= which.end
        and (which.start is None or state.start_date >= which.start)
        and _in_namespace(ex.namespace, which.namespace)
        and (which.flow_id is None or ex.flow_id == which.flow_id)
        and ex.id != which.spare
    )


def candidates(
    executions: Mapping[str, model.Execution],
    rows: Sequence[changes.StateRow],
    logs: Sequence[changes.LogRow],
    attempts: Attempts,
    query: tuple[ExecutionPurge, str, int],
) -> list[PurgeCandidate]:
    """`retention.purge_candidates`: `query` is (which, after, limit)."""
    which, after, limit = query
    found: list[PurgeCandidate] = []
    by_id = _states(rows)
    for i in sorted(i for i in executions if i > after):
        if len(found) < limit and _matches(which, executions[i], by_id[i]):
            count = sum(log.execution_id == i for log in logs)
            metrics = sum(len(m) for e, m in attempts.values() if e == i)
            ex = executions[i]
            found.append(PurgeCandidate(i, count, metrics, ex.namespace, ex.flow_id))
    return found


def log_matches(which: LogPurge, log: changes.LogRow, ex: model.Execution | None) -> bool:
    return (
        log.timestamp <= which.end
        and (which.start is None or log.timestamp >= which.start)
        and (which.execution_id is None or log.execution_id == which.execution_id)
        and (which.levels is None or log.level in which.levels)
        and _in_namespace(None if ex is None else ex.namespace, which.namespace)
        and (which.flow_id is None or (ex is not None and ex.flow_id == which.flow_id))
    )


def purged_logs(
    logs: list[changes.LogRow],
    executions: Mapping[str, model.Execution],
    which: LogPurge,
    limit: int,
) -> tuple[list[changes.LogRow], int]:
    """The logs left once at most `limit` matching rows went, and how many went."""
    gone = {log.seq for log in logs if log_matches(which, log, executions.get(log.execution_id))}
    gone = set(sorted(gone)[:limit])
    return [log for log in logs if log.seq not in gone], len(gone)


def without_rows(
    logs: list[changes.LogRow], attempts: Attempts, ids: set[str], tables: frozenset[str]
) -> tuple[list[changes.LogRow], dict[tuple[str, int], tuple[str, list[model.Metric]]]]:
    """The logs and attempts left once `tables` (`logs`, `metrics`) of `ids` went."""
    if "logs" in tables:
        logs = [log for log in logs if log.execution_id not in ids]
    kept = dict(attempts)
    if "metrics" in tables:
        kept = {k: (e, [] if e in ids else m) for k, (e, m) in attempts.items()}
    return logs, kept
