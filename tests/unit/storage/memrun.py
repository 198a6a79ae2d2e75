"""One execution driven by hand: passes, attempt results, timers and kill applied the way the
engine loop applies them, each step committed to an in-memory `Store`, with a `FakeClock`.

No engine loop, no thread, no file, no subprocess: an attempt the pass starts is ended by the
test with the state it chooses (`finish`), and time moves only when the test says (`advance`).
This is how an action gets a unit test (docs/architecture.md#unit-test-an-action).
"""

from __future__ import annotations

import textwrap

from tercel.clock import FakeClock
from tercel.engine import model, states
from tercel.engine.actions import dispatch, lifecycle, passes, results, timers
from tercel.engine.flows import loader
from tercel.engine.outcomes import AttemptResult
from tercel.engine.run import creation, rebuild
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime import offloop, runner
from tercel.engine.store import Store
from tercel.storage.files import LocalFiles
from tercel.storage.memory import MemoryStore

#: these runs start no task that touches files: a folder that is never created
NO_FILES = LocalFiles("/nonexistent/tercel-memrun-files")

S = states.StateType


class Hooks:
    """`run.execution.EngineHooks` for one flow: the engine's part, without the engine."""

    def __init__(self, clock: FakeClock, flow: model.Flow) -> None:
        self.clock, self._flow = clock, flow
        self.files = NO_FILES

    def find_flow(self, namespace: str, flow_id: str, revision: int | None) -> model.Flow | None:
        return self._flow if (namespace, flow_id) == (self._flow.namespace, self._flow.id) else None

    def spawn(self, es: ExecutionState, parent: tuple[str, str] | None) -> None:
        raise AssertionError("these tests run no subflow")

    def run_inline(
        self, es: ExecutionState, run: model.TaskRun, attempt: model.Attempt, before: int
    ) -> AttemptResult | None:
        ctx = runner.AttemptContext(es, run, attempt, before, self.clock, lambda: None, NO_FILES)
        return offloop.try_on_loop(ctx)


class MemoryRun:
    """A new execution of `flow_yaml`, passes run and committed to `store`."""

    def __init__(self, flow_yaml: str, store: Store | None = None, slots: int = 8) -> None:
        self.clock = FakeClock()
        self.store: Store = store if store is not None else MemoryStore()
        self.flow = loader.load_flow(textwrap.dedent(flow_yaml), revision=1)
        self.slots = dispatch.Slots(slots)
        self.es = creation.new_execution(self.flow, None, [], self.clock.now())
        self.es.hooks = Hooks(self.clock, self.flow)
        self.running: dict[str, model.Attempt] = {}
        self.settle()

    def settle(self) -> None:
        """Passes until nothing changes, then one commit (what one loop iteration does)."""
        passes.run_passes(self.es, self.clock.now, self.slots)
        for run, attempt, _ in self.es.to_start:
            self.running[run.task_id] = attempt
        self.es.to_start = []
        self.store.commit(self.es.take_changes())

    def finish(self, task_id: str, state: S) -> None:
        """The running attempt of `task_id` ends in `state` (its worker frees its slot)."""
        attempt = self.running.pop(task_id)
        run = next(r for r in reversed(self.es.ex.task_runs) if r.task_id == task_id)
        self.slots.free += 1
        result = AttemptResult(self.es.ex.id, run.id, attempt.number, state)
        results.apply_result(self.es, result, self.clock.now)
        self.settle()

    def advance(self, seconds: float) -> None:
        """Move the clock, fire the timers now due (earliest first), settle."""
        self.clock.advance(seconds)
        due = sorted(
            (t for t in self.es.timers.values() if t.due <= self.clock.now()), key=lambda t: t.due
        )
        for timer in due:
            timers.fire_timer(self.es, timer.id, self.clock.now)
        self.settle()

    def kill(self) -> None:
        lifecycle.kill(self.es, self.clock.now)
        self.settle()

    def stored(self) -> model.Execution:
        """The execution as the store gives it back."""
        return self.store.load_executions([self.es.ex.id]).executions[0]

    def reloaded(self) -> ExecutionState:
        """The execution rebuilt from the store, as recovery rebuilds it."""
        loaded = self.store.load_executions([self.es.ex.id])
        found = self.store.load_timers(self.es.ex.id)
        return rebuild.rebuild(loaded.executions[0], self.flow, loaded.plans, found)


def run_states(ex: model.Execution, task_id: str) -> list[list[S]]:
    """The state histories of every task run of `task_id`, in order."""
    runs = [r for r in ex.task_runs if r.task_id == task_id]
    return [[h.state for h in r.state.histories] for r in runs]


def history(ex: model.Execution) -> list[S]:
    return [h.state for h in ex.state.histories]
