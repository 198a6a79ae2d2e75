"""The engine loop's commits, and what it does when one fails.

- A full disk (SQLITE_FULL): the batch is kept and retried with backoff (50 ms doubling to 2 s,
  on the engine's clock)
  until space returns; meanwhile every waiting and new command is answered `StorageFull` at once
  and `storage_error` says why (the server's `/health` reports it). Nothing acknowledged is lost:
  an answer only ever follows its commit.
- Any other `sqlite3.OperationalError` (the file locked by another program for longer than the
  busy timeout, an I/O error) is the environment's too: retried the same way, without refusing
  commands (they wait, within the API's time limit).
- Any other failure means some change cannot be stored: the batch is committed again one
  execution at a time; the executions whose changes are refused are failed (quarantine), their
  commands answered with an error, and everything else is committed as usual.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import sys
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any

from tercel import clock as clocks
from tercel.engine import faults, frozencopy, model
from tercel.engine.changes import Batch, ChangeSet
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime import quarantine
from tercel.engine.runtime.protocols import EngineLoop

__all__ = [
    "STORAGE_RETRY_FIRST",
    "STORAGE_RETRY_MAX",
    "Answered",
    "Committer",
    "Stopping",
    "answer",
    "collect",
    "notify",
    "snapshot",
]

#: the commands answered by one iteration: (future, value, error), answered after the commit
Answered = list[tuple[asyncio.Future[Any], Any, BaseException | None]]

#: a commit that failed for lack of disk space is retried after these delays (doubling)
STORAGE_RETRY_FIRST, STORAGE_RETRY_MAX = 0.05, 2.0


class Stopping(Exception):
    """`stop` was called while a commit waited to be retried: it is given up (unacknowledged)."""


class Committer:
    def __init__(
        self,
        engine: EngineLoop,
        on_writer: Callable[[Callable[[], None]], Coroutine[Any, Any, None]],
    ) -> None:
        self._engine, self._on_writer = engine, on_writer
        #: why the last commit failed for lack of disk space (None once a commit succeeds)
        self.storage_error: str | None = None
        self.stopping = asyncio.Event()

    async def commit(self, batch: Batch, answered: Answered) -> None:
        """Commit the batch (see the module doc for failures)."""
        if batch.changes.is_empty():
            return
        try:
            await self._write(batch.changes)
        except (Stopping, faults.StorageFull):
            raise
        except Exception as error:
            await self._isolate(batch, answered, faults.describe(error))

    async def _write(self, cs: ChangeSet) -> None:
        delay = STORAGE_RETRY_FIRST
        while True:
            try:
                await self._on_writer(functools.partial(_durable_commit, self._engine, cs))
            except faults.StorageFull as full:
                if self.storage_error is None:
                    print(f"tercel: commit failed, retrying: {full.detail}", file=sys.stderr)
                self.storage_error = full.detail
                self._engine.refuse_waiting(full)
                await self._pause(delay)
                delay = min(delay * 2, STORAGE_RETRY_MAX)
                continue
            except faults.StorageTrouble as trouble:  # locked, I/O: retried, commands wait
                if delay == STORAGE_RETRY_FIRST:
                    print(f"tercel: commit failed, retrying: {trouble.detail}", file=sys.stderr)
                await self._pause(delay)
                delay = min(delay * 2, STORAGE_RETRY_MAX)
                continue
            if self.storage_error is not None:
                print("tercel: commits succeed again", file=sys.stderr)
                self.storage_error = None
            return

    async def _pause(self, seconds: float) -> None:
        """Sleep on the engine's clock (a test moves a `FakeClock`), cut short by `stop`."""
        if not self.stopping.is_set():
            await clocks.sleep_or_until(self._engine.clock, seconds, self.stopping)
        if self.stopping.is_set():
            raise Stopping

    async def _isolate(self, batch: Batch, answered: Answered, reason: str) -> None:
        """Commit each execution's changes alone; fail those whose changes are refused."""
        kept, refused = ChangeSet(), set[str]()
        for execution_id, part in batch.parts:
            try:
                await self._write(part)
            except (Stopping, faults.StorageFull):
                raise
            except Exception as error:
                refused.add(execution_id)
                why = f"its changes could not be stored ({faults.describe(error)})"
                quarantine.quarantine(self._engine, execution_id, why)
                continue
            kept.merge(part)
        if not refused:  # the merged commit failed, yet every part stored: not a data problem
            print(f"tercel: a commit failed, then succeeded in parts: {reason}", file=sys.stderr)
        batch.changes = kept
        batch.parts = [(i, part) for i, part in batch.parts if i not in refused]
        batch.executions = [ex for ex in batch.executions if ex.id not in refused]
        for execution_id in refused:
            batch.states.pop(execution_id, None)
        for index, (future, value, _) in enumerate(answered):
            if isinstance(value, model.Execution) and value.id in refused:
                refusal = faults.ChangeRefused(value.id, "its changes could not be stored")
                answered[index] = (future, None, refusal)


def _durable_commit(engine: EngineLoop, cs: ChangeSet) -> None:
    """On the writer thread: the files put since the last commit are synced first (one
    concurrent flush, docs/semantics.md#files), so this commit cannot refer to a file a crash
    would lose. A disk that fails the flush is the environment's trouble: retried like a
    commit that failed for it (a full disk refuses new commands meanwhile)."""
    try:
        engine.files.sync()
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise faults.StorageFull(f"files: {error}") from error
        raise faults.StorageTrouble(f"files: {error}") from error
    engine.db.commit(cs)


def answer(answered: Answered) -> None:
    """Answer the commands of a commit that is made (their callers see what it stored)."""
    for future, value, error in answered:
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)


def notify(listeners: list[Callable[[Batch], None]], batch: Batch) -> None:
    """Hand a committed batch to every listener, synchronously; a listener's bug is its own."""
    for listener in list(listeners):
        try:
            listener(batch)
        except Exception as error:
            print(f"tercel: a commit listener failed: {faults.describe(error)}", file=sys.stderr)


def collect(
    batch: Batch,
    deleted: list[str],
    active: Iterable[ExecutionState],
    kept: Mapping[str, frozenset[str]] | None = None,
) -> Batch:
    """Merge the deletions and every execution's pending changes into `batch`, keeping each
    execution's part apart (what the commit is split into when it fails). `kept`: per deleted
    execution, the tables whose rows stay (deleteExecution's purge options)."""
    for execution_id in deleted:  # merged at once below: a purge deletes hundreds
        part = ChangeSet(deleted_executions=[execution_id])
        if kept and execution_id in kept:
            part.kept_on_delete[execution_id] = kept[execution_id]
        batch.parts.append((execution_id, part))
    batch.changes.deleted_executions.extend(deleted)
    if kept:
        batch.changes.kept_on_delete.update(kept)
    for es in active:
        if not es.changes.is_empty():
            part = es.take_changes()
            batch.parts.append((es.ex.id, part))
            batch.changes.merge(part)
            batch.states[es.ex.id] = es.ex.state.current
    return batch


def snapshot(value: Any) -> Any:
    """A command's answer, frozen at its commit (the engine keeps mutating live objects)."""
    return frozencopy.frozen_copy(value) if isinstance(value, model.Execution) else value
