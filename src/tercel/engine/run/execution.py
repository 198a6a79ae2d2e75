"""One active execution in memory: its objects, indexes, containers and the changes to commit.

Every mutation goes through the methods here, which append the history entry, record the row to
write in the current `ChangeSet`, and keep the incremental counters right.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from tercel import clock as clocks
from tercel import ids
from tercel.engine import changes, model, outcomes, rules, secretinputs, states, storable
from tercel.engine.files import FileStorage
from tercel.engine.run import flowfacts
from tercel.engine.run.containers import Branch, Container, Pair
from tercel.engine.types import Now, Plan, TimerKind

__all__ = ["EngineHooks", "ExecutionState"]

S = states.StateType
E = states.Entity
#: how many ERROR log entries `errorLogs()` returns at most (the last ones)
ERROR_LOGS_KEPT = 100


class EngineHooks(Protocol):
    """What an execution's actions need from the engine that tracks it, without importing it
    (the engine sets itself as `ExecutionState.hooks` when it tracks an execution)."""

    @property
    def clock(self) -> clocks.Clock: ...

    @property
    def files(self) -> FileStorage:
        """The internal storage (expressions' `read()`)."""

    def find_flow(
        self, namespace: str, flow_id: str, revision: int | None
    ) -> model.Flow | None: ...

    def spawn(self, es: ExecutionState, parent: tuple[str, str] | None) -> None:
        """Track a new child execution; `parent` (execution id, task run id) waits for it."""

    def run_inline(
        self, es: ExecutionState, run: model.TaskRun, attempt: model.Attempt, before: int
    ) -> outcomes.AttemptResult | None:
        """Run an inline task's attempt within the pass; None: it outgrew the loop's slice and
        goes to a render thread once its RUNNING attempt is committed."""


class ExecutionState:
    def __init__(self, execution: model.Execution, flow: model.Flow) -> None:
        self.ex = execution
        self.flow = flow
        self.changes = changes.ChangeSet()
        self.by_id: dict[str, model.TaskRun] = {}
        self.containers: dict[str | None, Container] = {None: Container(None, None)}
        #: task run id -> (container key, branch)
        self.place: dict[str, tuple[str | None, Branch]] = {}
        #: containers to look at in the next pass
        self.dirty: set[str | None] = {None}
        self.paused = 0
        self.retrying = 0
        #: paused by `pauseExecution` (semantics.md#pause-execution): PAUSED with no task run
        #: PAUSED; nothing starts
        #: until `resumeExecution`. Cleared whenever the execution leaves PAUSED.
        self.manual_pause = False
        #: the `outputs` variable of expressions (semantics.md#expression-variables), kept up
        #: to date as outputs are recorded
        self.outputs_tree: dict[str, Any] = {}
        #: CREATED or RESTARTED task runs waiting for dispatch
        self.pending: list[model.TaskRun] = []
        #: runnable task runs waiting for a worker slot: a heap of (position, id)
        self.waiting: list[tuple[int, str]] = []
        #: attempts to start once the transaction commits: (task run, attempt, attempts before)
        self.to_start: list[tuple[model.TaskRun, model.Attempt, int]] = []
        #: task runs whose running attempt must be cancelled (kill)
        self.to_cancel: list[str] = []
        #: timers of this execution by id
        self.timers: dict[str, changes.TimerRow] = {}
        #: (failed task run id, due date) of a new-execution retry waiting for siblings to stop
        self.retry_pending: tuple[str, datetime] | None = None
        #: start dates of replacement executions to create (new-execution retries)
        self.replacements: list[datetime] = []
        facts = flowfacts.facts(flow)
        #: every task of the flow by id, shared by the flow's executions (read-only)
        self.tasks: Mapping[str, model.TaskDef] = facts.tasks
        #: inline tasks that render nothing (`FlowFacts.plain_inline`)
        self.plain_inline = facts.plain_inline
        self.on_log: Callable[[changes.LogRow], None] | None = None
        #: the engine that tracks this execution (subflows, inline tasks, its clock)
        self.hooks: EngineHooks | None = None
        #: (task run id, attempt number) of attempts that recorded a subprocess
        self.with_process: set[tuple[str, int]] = set()
        #: subflow task run id -> child execution id
        self.subflow_children: dict[str, str] = {}
        #: task run id -> its plan as stored (flowables, subflows): what a replay copies
        self.plans: dict[str, Plan] = {}
        #: the last ERROR log entries of this execution, for `errorLogs()` (bounded: a script
        #: writing megabytes to stderr must not grow the engine's memory with them)
        self.error_logs: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=ERROR_LOGS_KEPT
        )

    # ------------------------------------------------------------------ execution

    def set_state(self, to: S, at: datetime) -> bool:
        new = states.transition(E.EXECUTION, self.ex.state, to, at)
        if new is None:
            return False
        previous = self.ex.state.current
        self.ex.state = new
        if to is not S.PAUSED:
            self.manual_pause = False
        self.row(E.EXECUTION, None, None, to, previous, new.histories[-1].date)
        self.touch()
        self.dirty.add(None)
        return True

    def record_created(self) -> None:
        """The first history entry of a new execution."""
        first = self.ex.state.histories[0]
        self.row(E.EXECUTION, None, None, first.state, None, first.date)

    def derive(self, now: Now) -> bool:
        """The execution follows its task runs (`rules.derived_execution_state`)."""
        target = rules.derived_execution_state(
            self.ex.state.current,
            paused=self.paused > 0,
            retrying=self.retrying > 0,
            manual_pause=self.manual_pause,
        )
        return target is not None and self.set_state(target, now())

    def touch(self) -> None:
        if self.ex.id not in self.changes.new_executions:
            self.changes.executions[self.ex.id] = self.ex

    # ------------------------------------------------------------------ task runs

    def container_of(self, run: model.TaskRun) -> Container:
        return self.containers[self.place[run.id][0]]

    def add_task_run(
        self, key: str | None, branch: Branch, pair: Pair, at: datetime
    ) -> model.TaskRun:
        run = model.TaskRun(
            id=ids.new_id(),
            execution_id=self.ex.id,
            namespace=self.ex.namespace,
            flow_id=self.ex.flow_id,
            task_id=pair.task.id,
            state=states.State.new(S.CREATED, at),
            position=len(self.ex.task_runs),
            parent_task_run_id=key,
            value=pair.value,
            iteration=pair.iteration,
        )
        self.ex.task_runs.append(run)
        self.index_task_run(run, key, branch)
        self.changes.task_runs[run.id] = run
        self.row(E.TASK_RUN, run, None, S.CREATED, None, at)
        self.dirty.add(key)
        self.pending.append(run)
        return run

    def index_task_run(self, run: model.TaskRun, key: str | None, branch: Branch) -> None:
        self.by_id[run.id] = run
        self.place[run.id] = (key, branch)
        self.containers[key].branch(branch).add(run)
        self._count(run.state.current, +1)

    def set_run_state(self, run: model.TaskRun, to: S, at: datetime) -> bool:
        new = states.transition(E.TASK_RUN, run.state, to, at)
        if new is None:
            return False
        previous = run.state.current
        run.state = new
        key, branch = self.place[run.id]
        self.containers[key].branch(branch).changed(run, previous, to)
        self._count(previous, -1)
        self._count(to, +1)
        self.changes.task_runs[run.id] = run
        self.row(E.TASK_RUN, run, None, to, previous, new.histories[-1].date)
        self.dirty.add(key)
        if run.id in self.containers:
            self.dirty.add(run.id)
        if to is S.CREATED or to is S.RESTARTED:
            self.pending.append(run)
        return True

    def _count(self, state: S, delta: int) -> None:
        if state is S.PAUSED:
            self.paused += delta
        elif state is S.RETRYING:
            self.retrying += delta

    def remove_task_run(self, run: model.TaskRun) -> None:
        key, branch = self.place.pop(run.id)
        self.containers[key].branch(branch).remove(run)
        self._count(run.state.current, -1)
        self.containers.pop(run.id, None)
        del self.by_id[run.id]
        self.ex.task_runs.remove(run)
        self.changes.task_runs.pop(run.id, None)
        self.changes.removed_task_runs.append(run.id)
        self.dirty.add(key)

    def record_plan(self, run: model.TaskRun, plan: Plan) -> None:
        """Keep the plan a flowable or subflow task run made when it started; it commits
        with the task run."""
        self.plans[run.id] = plan
        self.changes.plans[run.id] = plan

    def record_outputs(self, run: model.TaskRun, outputs: dict[str, Any]) -> None:
        run.outputs = outputs
        self.changes.task_runs[run.id] = run
        self.merge_outputs(run)

    def merge_outputs(self, run: model.TaskRun) -> None:
        """outputs[taskId][P1]...[Pk][v] = outputs, deep-merged
        (semantics.md#expression-variables)."""
        if run.outputs is None:
            return
        path = [a.value for a in self.ancestors(run) if a.value is not None]
        path.reverse()
        if run.value is not None:
            path.append(run.value)
        if not path:
            _deep_merge(self.outputs_tree.setdefault(run.task_id, {}), run.outputs)
            return
        node = self.outputs_tree.setdefault(run.task_id, {})
        for step in path[:-1]:
            child = node.get(step)
            node[step] = child = child if isinstance(child, dict) else {}
            node = child
        existing = node.get(path[-1])
        if isinstance(existing, dict):
            _deep_merge(existing, run.outputs)
        else:
            node[path[-1]] = dict(run.outputs)

    def ancestors(self, run: model.TaskRun) -> list[model.TaskRun]:
        """Closest first."""
        found: list[model.TaskRun] = []
        parent = run.parent_task_run_id
        while parent is not None:
            ancestor = self.by_id[parent]
            found.append(ancestor)
            parent = ancestor.parent_task_run_id
        return found

    # ------------------------------------------------------------------ attempts

    def add_attempt(self, run: model.TaskRun, at: datetime) -> model.Attempt:
        attempt = model.Attempt(len(run.attempts or ()) + 1, states.State.new(S.CREATED, at))
        run.attempts = [*(run.attempts or ()), attempt]
        self.changes.attempts[(run.id, attempt.number)] = (run, attempt)
        self.changes.task_runs[run.id] = run
        self.row(E.ATTEMPT, run, attempt.number, S.CREATED, None, at)
        return attempt

    def start_attempt(self, run: model.TaskRun, at: datetime) -> tuple[model.Attempt, int]:
        """A new attempt of `run`, RUNNING, and the task run RUNNING: (the attempt, how many
        attempts counted before it). Dispatch, inline tasks and recovery start attempts here."""
        before = run.counted_attempts()
        attempt = self.add_attempt(run, at)
        self.set_attempt_state(run, attempt, S.RUNNING, at)
        self.set_run_state(run, S.RUNNING, at)
        return attempt, before

    def set_attempt_state(
        self, run: model.TaskRun, attempt: model.Attempt, to: S, at: datetime
    ) -> None:
        new = states.transition(E.ATTEMPT, attempt.state, to, at)
        if new is None:
            return
        previous = attempt.state.current
        attempt.state = new
        self.changes.attempts[(run.id, attempt.number)] = (run, attempt)
        if to.is_terminated and (run.id, attempt.number) in self.with_process:
            self.with_process.discard((run.id, attempt.number))
            self.changes.processes_ended.append((run.id, attempt.number))
        self.row(E.ATTEMPT, run, attempt.number, to, previous, new.histories[-1].date)

    # ------------------------------------------------------------------ logs, timers

    def log(
        self,
        level: model.LogLevel,
        message: str,
        at: datetime,
        run: model.TaskRun | None = None,
        attempt: int | None = None,
    ) -> None:
        if not message.isascii():  # every log line enters here (see storable)
            message = storable.scrubbed(message)
        secrets = secretinputs.secret_texts(self.ex.inputs)
        if secrets:
            message = secretinputs.masked_text(message, secrets)
        row = changes.LogRow(
            self.ex.id,
            run.id if run else None,
            run.task_id if run else None,
            attempt,
            level,
            message,
            at,
        )
        self.changes.logs.append(row)
        if level is model.LogLevel.ERROR:
            self.error_logs.append(
                {
                    "taskId": row.task_id,
                    "taskRunId": row.task_run_id,
                    "attemptNumber": attempt,
                    "level": "ERROR",
                    "message": message,
                    "timestamp": at,
                }
            )
        if self.on_log is not None:
            self.on_log(row)

    def add_timer(
        self,
        kind: TimerKind,
        run: model.TaskRun | None,
        due: datetime,
        payload: dict[str, Any] | None = None,
    ) -> None:
        timer = changes.TimerRow(
            ids.new_id(), self.ex.id, kind, run.id if run else None, due, payload
        )
        self.timers[timer.id] = timer
        self.changes.timers_added.append(timer)

    def remove_timer(self, timer_id: str) -> None:
        if self.timers.pop(timer_id, None) is not None:
            self.changes.timers_removed.append(timer_id)

    def take_changes(self) -> changes.ChangeSet:
        taken, self.changes = self.changes, changes.ChangeSet()
        return taken

    def row(
        self,
        entity: states.Entity,
        run: model.TaskRun | None,
        attempt: int | None,
        state: S,
        previous: S | None,
        at: datetime,
    ) -> None:
        if entity is E.TASK_RUN and run is not None:
            attempt = len(run.attempts or ()) or None
        self.changes.states.append(
            changes.StateRow(
                self.ex.id,
                entity,
                run.id if run else None,
                attempt,
                state,
                previous,
                at,
                run.task_id if run else None,
                run.value if run else None,
            )
        )


def _deep_merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            _deep_merge(current, value)
        else:
            target[key] = value
