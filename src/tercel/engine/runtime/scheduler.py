"""The engine loop: one asyncio task that owns every write (procrastinate's `_run_loop` shape).

Each iteration waits for a wake-up (attempt finished, timer due, command), applies what arrived
(`arrivals`) and the commands, runs passes over the touched executions, commits ALL their
changes in one transaction on the writer thread (`commits`), and only then starts attempts,
answers commands and notifies listeners (`aftercommit`).
"""

from __future__ import annotations

import asyncio
import collections
import gc
import sys
import traceback
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from tercel import clock as clocks
from tercel import failpoints
from tercel.engine import changes, faults, model
from tercel.engine.actions import newexecution, passes
from tercel.engine.files import FileStorage
from tercel.engine.outcomes import AttemptResult
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime import (
    aftercommit,
    arrivals,
    commits,
    concurrency,
    filesweep,
    flowcache,
    offloop,
    quarantine,
    recovery,
    retention,
    runner,
    wakeups,
    workers,
    writer,
)
from tercel.engine.store import Store, StoreReads

__all__ = ["Batch", "Engine"]

T = TypeVar("T")
#: garbage-collector thresholds for the engine process (see Engine.start)
GC_THRESHOLD = (50_000, 50, 100)
#: the listeners' unit (re-exported: listeners are typed with `scheduler.Batch`)
Batch = changes.Batch
Answered = commits.Answered


class Engine:
    def __init__(
        self,
        db_path: str,
        *,
        clock: clocks.Clock | None = None,
        synchronous: str = "FULL",
        worker_slots: int = 64,
        files_dir: str | None = None,
    ) -> None:
        self.db_path, self.clock = db_path, clock or clocks.SystemClock()
        self._storage = writer.Storage(db_path, synchronous, files_dir)
        #: the internal storage (docs/semantics.md#files)
        self.files: FileStorage = self._storage.files
        self.workers = workers.Workers(self.clock, worker_slots, self.wake, self.files)
        self.workers.services = retention.Retention(self)
        self.slots = self.workers.slots
        self.active: dict[str, ExecutionState] = {}
        self._touched: set[str] = set()
        #: executions whose passes wait for `release` (a bulk action's batches)
        self.held: set[str] = set()
        self._commands: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        self.timer_queue = wakeups.TimerQueue()
        #: flow concurrency limits (semantics.md#concurrency): decided before the passes
        self.gate = concurrency.Gate()
        self.flows = flowcache.FlowCache()
        self.subflow_links = wakeups.SubflowLinks()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.listeners: list[Callable[[Batch], None]] = []
        #: the last few committed batches, for a listener that registers late
        self.last_batches: collections.deque[Batch] = collections.deque(maxlen=8)
        #: the highest state-change and log `seq` handed to the listeners (every row above them
        #: is yet to be published): where a subscription "from now" starts
        self.published_state_seq = 0
        self.published_log_seq = 0
        #: why the engine loop died (None while it runs): commands are refused at once
        self.stopped_reason: str | None = None
        self._committer = commits.Committer(self, self._storage.run)
        #: executions the engine is failing itself, until that failure is committed (if it
        #: cannot be, quarantine gives up on them rather than loop)
        self.quarantined: set[str] = set()
        self._answering: Answered = []
        #: executions deleted by commands since the last commit (an ordered set: retention
        #: asks `deleting` of each id of a batch)
        self._deleted: dict[str, None] = {}
        #: deleted execution id -> the tables whose rows its deletion keeps
        self._kept: dict[str, frozenset[str]] = {}

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        # The engine keeps many small long-lived objects (task runs, states, rows): with the
        # default thresholds every few thousand allocations trigger collections that walk all
        # of them again, which made large executions cost superlinear time.
        if gc.get_threshold()[0] < GC_THRESHOLD[0]:
            gc.set_threshold(*GC_THRESHOLD)
        await self._storage.open()
        try:
            self._apply(await recovery.recover(self))
            await filesweep.sweep_pending(self.files, self._existing)
        except BaseException:
            self._storage.release()
            raise
        # no commit is in flight before the loop starts: everything written so far is "published"
        self.published_state_seq = self.db.last_state_seq
        self.published_log_seq = self.db.last_log_seq
        self._task = asyncio.create_task(self._loop(), name="tercel-engine")

    async def _existing(self, ids: list[str]) -> set[str]:
        loaded = await self.call(lambda: self.db.load_executions(ids))
        return {ex.id for ex in loaded.executions}

    def _apply(self, recovered: recovery.Recovered) -> None:
        """Take over what recovery found: track it, its resubmitted attempts in the slots."""
        for es in recovered.executions:
            self.slots.free -= len(es.to_start)
            self.track(es)
        for child_id, (parent_id, run_id) in recovered.subflow_links.items():
            self.link_subflow(child_id, parent_id, run_id)
        for child in recovered.child_ends:
            self.child_ended(child)
        if self.active:
            self.wake()

    async def crashed(self) -> BaseException | None:
        """Wait until the engine loop ends; returns why it died, None for a normal stop."""
        assert self._task is not None, "engine not started"
        try:
            await asyncio.shield(self._task)
        except Exception as error:
            return error
        return None

    async def stop(self, grace: float = 0.0) -> None:
        """Stop: no new attempt starts; running ones get `grace` seconds to finish (their
        results are committed), then are cancelled and left RUNNING for resubmission."""
        self.workers.close_slots()
        deadline = asyncio.get_running_loop().time() + grace
        while self.workers.busy and asyncio.get_running_loop().time() < deadline and self._task:
            if self._task.done():
                break
            await asyncio.sleep(0.02)
        if grace > 0:
            await asyncio.sleep(0.06)  # let the loop commit the last results
        self._stopping = True
        self._committer.stopping.set()
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        await self.workers.cancel_all()
        await self._storage.close()

    async def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the writer thread (the only thread that touches the writer connection);
        refused at once when the engine loop has died."""
        if self.stopped_reason is not None:
            raise faults.EngineStopped(self.stopped_reason)
        return await self._storage.run(fn)

    @property
    def storage_error(self) -> str | None:
        """Why the last commit failed for lack of disk space (None once a commit succeeds)."""
        return self._committer.storage_error

    @property
    def loop_reads(self) -> StoreReads:
        """The `Store`'s reads over the loop's read-only connection (it reads the last commit:
        none is in flight while the loop runs its own code)."""
        return self._storage.reader

    @property
    def db(self) -> Store:
        """The writer's `Store`: call it on the writer thread only (`call`)."""
        return self._storage.db

    # ------------------------------------------------------------------ commands

    async def submit(self, command: Callable[[], T]) -> T:
        """Run `command` inside the loop; answer once its changes are committed. Refused at
        once while the disk is full or after the loop died."""
        if self.stopped_reason is not None:
            raise faults.EngineStopped(self.stopped_reason)
        if self.storage_error is not None:
            raise faults.StorageFull(self.storage_error)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._commands.append((command, future))
        self._wake.set()
        return await future

    def track(self, es: ExecutionState) -> None:
        es.hooks = self
        self.active[es.ex.id] = es
        self._touched.add(es.ex.id)
        for timer in es.timers.values():
            self.timer_queue.push(timer)

    def delete(self, es: ExecutionState, keep: frozenset[str] = frozenset()) -> None:
        """Inside a command: drop the execution from memory; the command's commit deletes its
        rows (but those of the tables in `keep`: `logs`, `metrics`) and tells the listeners
        (open streams complete)."""
        if self.active.pop(es.ex.id, None) is not None:
            quarantine.stop_attempts(self, es)
        self.forget(es.ex.id, keep)

    def forget(self, execution_id: str, keep: frozenset[str] = frozenset()) -> None:
        """Inside a command: delete an ended execution the loop does not hold (retention reads
        only ids, not whole executions); as `delete`."""
        self._deleted[execution_id] = None
        if keep:
            self._kept[execution_id] = keep

    def deleting(self, execution_id: str) -> bool:
        """Deleted by a command whose commit is yet to be made."""
        return execution_id in self._deleted

    def hold(self, execution_ids: Iterable[str]) -> None:
        """Inside a command: no pass runs over these executions until `release`. A bulk action
        commits batch after batch without waiting for the executions to run, then releases
        them batch by batch, so neither its answer nor the loop waits for all their passes."""
        self.held.update(execution_ids)

    def release(self, execution_ids: Iterable[str]) -> None:
        """Passes run again over these executions (from the next loop iteration)."""
        for execution_id in execution_ids:
            self.held.discard(execution_id)
            if execution_id in self.active:
                self._touched.add(execution_id)
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def touch(self, execution_id: str) -> None:
        self._touched.add(execution_id)
        self._wake.set()

    async def flow(self, namespace: str, flow_id: str, revision: int) -> model.Flow | None:
        found = self.flows.get(namespace, flow_id, revision)
        if found is not None:
            return found
        db = self.db
        return self.flows.from_row(await self.call(lambda: db.flow(namespace, flow_id, revision)))

    # run.execution.EngineHooks
    def find_flow(self, namespace: str, flow_id: str, revision: int | None) -> model.Flow | None:
        return self.flows.find(namespace, flow_id, revision)

    def spawn(self, es: ExecutionState, parent: tuple[str, str] | None) -> None:
        if parent is not None:
            self.subflow_links.link(es.ex.id, *parent)
        self.track(es)

    def run_inline(
        self, es: ExecutionState, run: model.TaskRun, attempt: model.Attempt, before: int
    ) -> AttemptResult | None:
        ctx = runner.AttemptContext(es, run, attempt, before, self.clock, _no_wake_up, self.files)
        return offloop.try_on_loop(ctx)

    # ------------------------------------------------------------------ the loop

    async def _loop(self) -> None:
        try:
            while not self._stopping:
                await self._wait()
                self._wake.clear()
                if self._stopping:
                    break
                if failpoints.raises("engine_loop"):
                    raise RuntimeError("fail point engine_loop")
                await self._iteration()
        except commits.Stopping:
            pass
        except BaseException as error:
            self.stopped_reason = faults.describe(error)
            print(f"tercel: the engine loop died: {self.stopped_reason}", file=sys.stderr)
            raise
        finally:
            self.refuse_waiting(faults.EngineStopped(self.stopped_reason or "stopping"))

    async def _iteration(self) -> None:
        answered = self._answering = self._apply_inputs()
        if answered:
            # A command's own changes commit alone, so its caller gets the execution exactly
            # as the command left it (KILLING, RESTARTED, CREATED), as a snapshot.
            first = self._collect(Batch(changes.ChangeSet()))
            answered[:] = [(f, commits.snapshot(v), e) for f, v, e in answered]
            await self._committer.commit(first, answered)
            self._after_commit(first, answered)
            answered = self._answering = []
        batch = self._run_passes()
        await self._committer.commit(batch, answered)
        self._after_commit(batch, answered)

    def refuse_waiting(self, error: faults.EngineUnavailable) -> None:
        """Answer every waiting command with `error` (their changes are not committed)."""
        commands, self._commands = self._commands, []
        waiting = [future for _, future in commands]
        waiting += [future for future, _, _ in self._answering]
        for future in waiting:
            if not future.done():
                future.set_exception(error)

    async def _wait(self) -> None:
        if not self._wake.is_set():
            await wakeups.wait(self._wake, self.timer_queue, self.clock)

    def _apply_inputs(self) -> Answered:
        """What arrived (timers, child ends, attempt results), then the queued commands."""
        self._touched |= arrivals.apply_arrivals(self)
        answered: Answered = []
        commands, self._commands = self._commands, []
        for command, future in commands:
            try:
                answered.append((future, command(), None))
            except Exception as error:
                answered.append((future, None, error))
        return answered

    def guarded(self, es: ExecutionState, step: Callable[..., Any], *args: Any) -> None:
        """Run one engine step on one execution: a bug in it fails that execution only."""
        try:
            step(*args)
        except Exception as error:
            traceback.print_exc(file=sys.stderr)
            quarantine.quarantine(self, es.ex.id, faults.describe(error))

    def _run_passes(self) -> Batch:
        batch = Batch(changes.ChangeSet())
        touched, self._touched = self._touched, set()
        if self.held:
            touched -= self.held
        touched |= self.gate.admit(self, touched) - self.held
        now = self.clock.now
        for execution_id in touched:
            es = self.active.get(execution_id)
            if es is None:
                continue
            self.guarded(es, self._pass, es, now)
        self.gate.after_passes(self, touched)
        for execution_id in touched:
            found = self.active.get(execution_id)
            if found is not None:
                batch.executions.append(found.ex)
        return self._collect(batch)

    def _pass(self, es: ExecutionState, now: Callable[[], Any]) -> None:
        passes.run_passes(es, now, self.slots)
        self._replace(es)

    def _collect(self, batch: Batch) -> Batch:
        deleted, self._deleted = list(self._deleted), {}
        kept, self._kept = self._kept, {}
        return commits.collect(batch, deleted, self.active.values(), kept)

    def _after_commit(self, batch: Batch, answered: Answered) -> None:
        aftercommit.after_commit(self, batch, answered)
        if self._touched:
            self._wake.set()

    def _replace(self, es: ExecutionState) -> None:
        """Track the executions that replace a RETRIED one (semantics.md#retry-new-execution)."""
        for child in newexecution.replacements(es, self.clock.now):
            self.track(child)

    def unlink_subflow(self, child_id: str) -> str | None:
        """The parent execution waiting for this child, which is forgotten."""
        return self.subflow_links.unlink(child_id)

    def link_subflow(self, child_id: str, parent_id: str, run_id: str) -> None:
        """A waiting subflow task run: its child's end comes back to it."""
        self.subflow_links.link(child_id, parent_id, run_id)

    def child_ended(self, child: model.Execution) -> None:
        self.subflow_links.ended(child)
        self._wake.set()


def _no_wake_up() -> None:
    """Inline attempts need no wake-up: their changes commit with the current pass."""
