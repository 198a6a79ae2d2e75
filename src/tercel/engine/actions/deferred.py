"""Renders of the engine pass that outgrow the event loop's slice finish in a render process.

runIf, a flowable's plan (ForEach values, If condition, Switch value), a subflow's properties
and the flow's outputs are rendered inside the engine pass, on the event loop that also serves
HTTP and websockets. Each first runs there under `guard.open_slice` (the renders of one turn
share `guard.LOOP_SLICE_SECONDS`, as inline tasks do, see offloop). One that outgrows the slice
is abandoned and `call` raises `Parked`: the caller leaves its task run (or the execution's
end) as it was, and the same job runs in a render process (`expressions.farm`: same 1 s per
render and 1 MiB limits, killed at the deadline) against a snapshot of its context. The answer
is kept here and the task run goes back to dispatch (or the end is looked at again) with a
wake-up; the next `call` for the same task run, purpose and state returns it (or raises its
`ExpressionError`), so the caller fails the task run with the same clear message as on the loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

from tercel.engine import expressions, model, states
from tercel.engine.expressions import errors, farm, guard, renderer
from tercel.engine.flows import inputs
from tercel.engine.run import context, plans
from tercel.engine.run.execution import ExecutionState
from tercel.engine.types import Plan

__all__ = ["Parked", "call", "outputs_job", "plan_job"]

S = states.StateType
#: (task run id or None for the execution, purpose, length of that state's history)
Key = tuple[str | None, str, int]
#: ("ok", value) or ("error", message)
Answer = tuple[str, Any]
Job = Callable[..., Any]


class Parked(Exception):
    """The render went to a render process: try again after the wake-up."""


class _Renders:
    """One execution's renders in flight and their answers."""

    __slots__ = ("answers", "flying")

    def __init__(self) -> None:
        self.answers: dict[Key, Answer] = {}
        self.flying: set[Key] = set()


_BY_EXECUTION: weakref.WeakKeyDictionary[ExecutionState, _Renders] = weakref.WeakKeyDictionary()


def call(
    es: ExecutionState,
    run: model.TaskRun | None,
    purpose: str,
    job: Job,
    args: tuple[Any, ...],
    reads: Any,
) -> Any:
    """`job(render, *args)`, `render` rendering in the context of `run` (of the execution when
    None); `reads` is every value the job renders (their variables make the snapshot).
    Raises `Parked` while the job runs off the loop, `ExpressionError` when it failed."""
    key = _key(es, run, purpose)
    renders = _BY_EXECUTION.get(es)
    if renders is not None:
        if key in renders.answers:
            kind, value = renders.answers[key]
            if kind == "ok":
                return value
            raise expressions.ExpressionError(value)
        if key in renders.flying:
            raise Parked()
    pool = _render_pool(es)

    def render(value: Any) -> Any:
        return context.render(es, run, value)

    if pool is None:  # no engine around it (or no loop): render here, as before the slice
        return job(render, *args)
    guard.open_slice()
    try:
        return job(render, *args)
    except errors.SliceExceeded:
        pass
    finally:
        guard.close_slice()
    try:
        packed = farm.pack(_context(es, run, reads))
    except Exception:  # a value that cannot be copied: render on the loop as before the slice
        return job(render, *args)
    renders = _BY_EXECUTION.setdefault(es, _Renders())
    renders.flying.add(key)
    task = asyncio.get_running_loop().create_task(
        _away(es, run, key, pool, (job, args, packed, reads))
    )
    pool.parked.add(task)
    task.add_done_callback(pool.parked.discard)
    raise Parked()


def plan_job(render: Callable[[Any], Any], task: model.TaskDef) -> Plan:
    """A flowable's plan (raises `plans.PlanError`)."""
    return plans.make_plan(task, render)


def outputs_job(
    render: Callable[[Any], Any], outputs: tuple[model.OutputDef, ...]
) -> dict[str, object]:
    """The flow's outputs, each rendered again until stable (at most 10 rounds), in their
    stored form (raises `ValueError` for a value of the wrong type)."""
    rendered: dict[str, object] = {}
    for output in outputs:
        value = render(output.value)
        for _ in range(10):
            again = render(value) if isinstance(value, str | dict | list) else value
            if again == value:
                break
            value = again
        rendered[output.id] = inputs.coerce_output(output.type, value)
    return rendered


def _key(es: ExecutionState, run: model.TaskRun | None, purpose: str) -> Key:
    if run is None:
        return None, purpose, len(es.ex.state.histories)
    return run.id, purpose, len(run.state.histories)


def _render_pool(es: ExecutionState) -> Any:
    workers = getattr(es.hooks, "workers", None)
    if workers is None:
        return None
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return None
    return workers.render_pool


def _context(es: ExecutionState, run: model.TaskRun | None, reads: Any) -> dict[str, Any]:
    """Every variable a render of the job may read: a flow output is rendered again until it
    is stable, and its second round may read what the first did not."""
    names = renderer.ALL_VARIABLES if run is None else context.names_in(reads)
    if run is None:
        return context.execution_context(es, names)
    return context.task_run_context(es, run, names)


async def _away(
    es: ExecutionState,
    run: model.TaskRun | None,
    key: Key,
    pool: Any,
    request: tuple[Job, tuple[Any, ...], bytes, Any],
) -> None:
    job, args, packed, reads = request
    spent = guard.LOOP_SLICE_SECONDS
    answer: Answer
    try:
        value = await asyncio.get_running_loop().run_in_executor(
            pool, farm.call_away, pool.farm, job, args, packed, spent, reads
        )
        answer = ("ok", value)
    except expressions.ExpressionError as error:
        answer = ("error", str(error))
    except Exception as error:  # the pool shut down under it (stopping): fail, never hang
        answer = ("error", f"The render could not run: {error or type(error).__name__}")
    finally:
        renders = _BY_EXECUTION.setdefault(es, _Renders())
        renders.flying.discard(key)
    _sweep(es, renders)
    renders.answers[key] = answer
    if run is None:
        es.dirty.add(None)
    elif run.id in es.by_id and run.state.current in (S.CREATED, S.RESTARTED):
        es.pending.append(run)
        es.dirty.add(es.place[run.id][0])
    engine: Any = es.hooks  # the engine that tracks the execution (its loop wakes up)
    engine.touch(es.ex.id)


def _sweep(es: ExecutionState, renders: _Renders) -> None:
    """Forget the answers no caller can ask for any more (their state moved on)."""
    for key in list(renders.answers):
        if _key_now(es, key) != key:
            del renders.answers[key]


def _key_now(es: ExecutionState, key: Key) -> Key | None:
    run_id, purpose, _ = key
    if run_id is None:
        return _key(es, None, purpose)
    run = es.by_id.get(run_id)
    return None if run is None else _key(es, run, purpose)
