"""Retention in batches (docs/semantics.md#retention): what `PurgeExecutions` and `PurgeLogs` ask of
the engine.

Executions go the way `deleteExecution` and the bulk DELETE make them go: an engine command
drops them and the loop's commit deletes their rows (state-change entries included) and tells
the listeners, so open streams complete. One command per batch of `BATCH` executions, one read
(the next matching ids above the last one seen, with their log and metric counts) and one commit
each; between two batches the loop runs its other work, so a purge of 100,000 executions never
holds the engine for longer than one batch. Log rows go `LOG_BATCH` per DELETE on the writer
thread, between the loop's commits.

Only ended executions are purged: one the loop holds in memory in an active state (restarted,
say, since the read) is left alone, and so is the purging execution.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from tercel.engine import files
from tercel.engine.run.execution import ExecutionState
from tercel.engine.store import ExecutionPurge, LogPurge, PurgeCandidate, Store, StoreReads
from tercel.engine.tasks.base import PurgeCounts, PurgeParts

__all__ = ["BATCH", "LOG_BATCH", "Retention"]

T = TypeVar("T")
#: executions per engine command
BATCH = 500
#: log rows per DELETE statement
LOG_BATCH = 5_000


class Purging(Protocol):
    """The engine as retention uses it (`scheduler.Engine`)."""

    @property
    def db(self) -> Store: ...

    @property
    def loop_reads(self) -> StoreReads: ...

    @property
    def active(self) -> dict[str, ExecutionState]: ...

    @property
    def files(self) -> files.FileStorage: ...

    async def submit(self, command: Callable[[], T]) -> T: ...

    async def call(self, fn: Callable[[], T]) -> T: ...

    def deleting(self, execution_id: str) -> bool: ...

    def delete(self, es: ExecutionState, keep: frozenset[str] = frozenset()) -> None: ...

    def forget(self, execution_id: str, keep: frozenset[str] = frozenset()) -> None: ...


@dataclass(frozen=True, slots=True)
class _Batch:
    counts: PurgeCounts
    #: the matched executions whose rows go while they stay (`purgeExecution: false`)
    kept: list[str]
    #: (namespace, flow id, id) of every execution taken, whose files `purgeStorage` removes
    taken: list[tuple[str, str, str]]
    last: str
    more: bool


class Retention:
    """`tasks.base.EngineServices` over one engine."""

    def __init__(self, engine: Purging) -> None:
        self._engine = engine

    async def purge_executions(self, which: ExecutionPurge, parts: PurgeParts) -> PurgeCounts:
        engine, total, after = self._engine, PurgeCounts(), ""
        rows = frozenset(t for t, on in (("logs", parts.logs), ("metrics", parts.metrics)) if on)
        while True:
            batch = await engine.submit(functools.partial(self._batch, which, parts, after))
            if batch.kept and rows:
                await engine.call(functools.partial(engine.db.purge_rows, batch.kept, rows))
            total = _add(total, batch.counts)
            if parts.storage and batch.taken:
                # after the batch's commit, as deleteExecution does: a crash in between leaves
                # files without rows, never rows without their files
                gone = await asyncio.to_thread(files.delete_all, engine.files, batch.taken)
                total = _add(total, PurgeCounts(storages=gone))
            if not batch.more:
                return total
            after = batch.last

    def _batch(self, which: ExecutionPurge, parts: PurgeParts, after: str) -> _Batch:
        """Inside the loop: read the next batch and drop what may go (the command's commit
        deletes it)."""
        engine = self._engine
        found = engine.loop_reads.purge_candidates(which, after, BATCH)
        keep = frozenset(
            t for t, gone in (("logs", parts.logs), ("metrics", parts.metrics)) if not gone
        )
        taken: list[PurgeCandidate] = []
        for candidate in found:
            if engine.deleting(candidate.id):
                continue
            es = engine.active.get(candidate.id)
            if es is not None and not es.ex.state.current.is_terminated:
                continue  # restarted (or the like) since its last commit
            taken.append(candidate)
            if not parts.executions:
                continue
            if es is not None:
                engine.delete(es, keep)
            else:
                engine.forget(candidate.id, keep)
        counts = PurgeCounts(
            executions=len(taken) if parts.executions else 0,
            logs=sum(c.logs for c in taken) if parts.logs else 0,
            metrics=sum(c.metrics for c in taken) if parts.metrics else 0,
        )
        kept = [] if parts.executions else [c.id for c in taken]
        last = found[-1].id if found else after
        where = [(c.namespace, c.flow_id, c.id) for c in taken]
        return _Batch(counts, kept, where, last, len(found) == BATCH)

    async def purge_logs(self, which: LogPurge) -> int:
        db, total = self._engine.db, 0
        while True:
            gone = await self._engine.call(functools.partial(db.purge_logs, which, LOG_BATCH))
            total += gone
            if gone < LOG_BATCH:
                return total


def _add(a: PurgeCounts, b: PurgeCounts) -> PurgeCounts:
    return PurgeCounts(
        a.executions + b.executions, a.logs + b.logs, a.metrics + b.metrics, a.storages + b.storages
    )
