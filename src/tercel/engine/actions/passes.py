"""The engine pass (semantics.md#pass): start, resolve, end, next, dispatch, derive — repeated
until a pass changes nothing. Pure with respect to I/O: it mutates an `ExecutionState`, which
records the rows to commit and the attempts to start after the commit.
"""

from __future__ import annotations

from tercel.engine import durations, expressions, model, rules, states
from tercel.engine.actions import dispatch, newexecution, timers
from tercel.engine.run import plans
from tercel.engine.run.containers import Branch, Container, Mode, Pair, Progress
from tercel.engine.run.execution import ExecutionState
from tercel.engine.types import Now, TimerKind

__all__ = ["Slots", "active_branch", "run_passes"]

Slots = dispatch.Slots

S = states.StateType
L = model.LogLevel
_MAX_PASSES = 100_000


def run_passes(es: ExecutionState, now: Now, slots: dispatch.Slots) -> None:
    for _ in range(_MAX_PASSES):
        # Containers marked during this pass are looked at in the next one.
        dirty, es.dirty = es.dirty, set()
        if es.retry_pending is not None:
            if newexecution.finish(es, now) or _resolve_killing(es, dirty, now):
                continue
            return
        changed = _start(es, now)
        changed |= _resolve(es, dirty, now)
        changed |= _end(es, dirty, now)
        changed |= _next(es, dirty, now)
        changed |= dispatch.dispatch(es, now, slots)
        changed |= es.derive(now)
        if not changed and not es.dirty:
            return
    raise RuntimeError(f"execution {es.ex.id}: passes did not settle")


def _start(es: ExecutionState, now: Now) -> bool:
    current = es.ex.state.current
    if current is not S.CREATED and current is not S.RESTARTED:
        return False  # the rule starts nothing else: skip its inputs on every later pass
    waits = any(t.kind is TimerKind.START for t in es.timers.values())
    target = rules.execution_on_start(current, waits_for_start=waits)
    if target is None or not es.set_state(target, now()):
        return False
    if current is S.CREATED:
        es.log(L.INFO, "Flow started", now())
    return True


def active_branch(c: Container) -> Branch | None:
    """Which branch of a container creates task runs now, None when nothing is left
    (semantics.md#errors-finally)."""
    if c.finally_.runs:
        return Branch.FINALLY if not c.finally_.done() else None
    if c.main.failed_for_good():
        if c.errors.pairs and not c.errors.done():
            return Branch.ERRORS
        return Branch.FINALLY if c.finally_.pairs else None
    if c.main.done():
        return Branch.FINALLY if c.finally_.pairs else None
    return Branch.MAIN


def _complete(c: Container) -> bool:
    return active_branch(c) is None and not c.has_active_children()


def _flowables_in_order(es: ExecutionState, keys: set[str | None]) -> list[model.TaskRun]:
    runs = [es.by_id[k] for k in keys if k is not None and k in es.by_id]
    runs.sort(key=lambda run: run.position)
    return runs


def _resolve(es: ExecutionState, dirty: set[str | None], now: Now) -> bool:
    changed = False
    for run in _flowables_in_order(es, dirty):
        c = es.containers.get(run.id)
        if c is None or run.state.current not in (S.RUNNING, S.KILLING):
            continue  # the rule waits for any other state: skip its inputs
        task = es.tasks[run.task_id]
        pauses = plans.hooks_of(task).pauses
        step = rules.resolve_flowable(
            run.state.current,
            children_active=c.has_active_children(),
            pauses=pauses,
            paused_before=pauses and run.state.has_been(S.PAUSED),
            failed=c.failure is not None,
            complete=_complete(c),
        )
        if step is rules.FlowableStep.KILLED:
            changed |= es.set_run_state(run, S.KILLED, now())
        elif step is rules.FlowableStep.PAUSE:
            timers.pause(es, run, task, now)
            changed = True
        elif step is rules.FlowableStep.END:
            _finish_flowable(es, run, c, task, now)
            changed = True
    return changed


def _resolve_killing(es: ExecutionState, dirty: set[str | None], now: Now) -> bool:
    """While a new-execution retry waits, only KILLING flowables may end."""
    changed = False
    for run in _flowables_in_order(es, dirty):
        c = es.containers.get(run.id)
        if run.state.current is S.KILLING and c is not None and not c.has_active_children():
            changed |= es.set_run_state(run, S.KILLED, now())
    return changed


def _finish_flowable(
    es: ExecutionState, run: model.TaskRun, c: Container, task: model.TaskDef, now: Now
) -> None:
    state = rules.flowable_end_state(
        c.main.derived(),
        failed=c.failure is not None,
        absorbs_failure=plans.hooks_of(task).absorbs_failure,
        allow_failure=task.allow_failure,
        allow_warning=task.allow_warning,
    )
    if run.outputs is None:
        es.record_outputs(run, dict(c.outputs))
    es.set_run_state(run, state, now())


def _end(es: ExecutionState, dirty: set[str | None], now: Now) -> bool:
    top = es.containers[None]
    current = es.ex.state.current
    if current is S.RUNNING and (None not in dirty or not _complete(top)):
        return False  # the rule ends a RUNNING execution only once its top level is complete
    if current is not S.RUNNING and current is not S.KILLING:
        return False  # nor any other than RUNNING and KILLING
    state = rules.execution_end_state(
        current,
        children_active=top.has_active_children(),
        complete=_complete(top),
        derived=top.main.derived(),
    )
    if state is None:
        return False
    if current is S.RUNNING and es.flow.outputs:
        from tercel.engine.actions import deferred

        try:
            es.ex.outputs = _flow_outputs(es)
        except deferred.Parked:
            return False
        except (expressions.ExpressionError, ValueError) as error:
            es.log(L.ERROR, f"Failed to render output values: {error}", now())
            es.ex.outputs, state = None, S.FAILED
    _final(es, state, now)
    return True


def _flow_outputs(es: ExecutionState) -> dict[str, object]:
    """Rendered on the loop within its slice, or in a render process (`Parked` meanwhile)."""
    from tercel.engine.actions import deferred

    reads = [output.value for output in es.flow.outputs]
    rendered: dict[str, object] = deferred.call(
        es, None, "outputs", deferred.outputs_job, (tuple(es.flow.outputs),), reads
    )
    return rendered


def _final(es: ExecutionState, state: S, now: Now) -> None:
    es.set_state(state, now())
    es.touch()
    took = durations.format_clock(es.ex.state.histories[-1].date - es.ex.state.start_date)
    es.log(L.INFO, f"Flow completed with state {state.value} in {took}", now())


def _next(es: ExecutionState, keys: set[str | None], now: Now) -> bool:
    if es.manual_pause:
        return False  # paused by pauseExecution: nothing new starts (semantics.md#pause-execution)
    changed = False
    current = es.ex.state.current
    if None in keys and current in (S.RUNNING, S.RETRYING, S.PAUSED):
        changed |= _create(es, None, es.containers[None], now)
    for run in _flowables_in_order(es, keys):
        c = es.containers.get(run.id)
        if c is not None and run.state.current is S.RUNNING and c.failure is None:
            changed |= _create(es, run.id, c, now)
    return changed


def _create(es: ExecutionState, key: str | None, c: Container, now: Now) -> bool:
    branch = active_branch(c)
    if branch is None:
        return False
    pairs = _to_create(c.branch(branch))
    for pair in pairs:
        es.add_task_run(key, branch, pair, now())
    return bool(pairs)


def _to_create(p: Progress) -> list[Pair]:
    if p.mode is Mode.SEQUENTIAL:
        if p.active:
            return []
        if not p.runs:
            return p.pairs[:1]
        last = p.pair_index(p.runs[-1])
        nxt = -1 if last is None else last + 1
        return [p.pairs[nxt]] if 0 <= nxt < len(p.pairs) and nxt not in p.run_of else []
    if p.mode is Mode.PARALLEL:
        missing = [i for i in range(len(p.run_of), len(p.pairs)) if i not in p.run_of]
        room = len(missing) if p.limit == 0 else max(0, p.limit - p.active)
        return [p.pairs[i] for i in missing[:room]]
    return _to_create_grouped(p)


def _to_create_grouped(p: Progress) -> list[Pair]:
    found: list[Pair] = []
    touched, p.touched_groups = p.touched_groups, set()
    for group in sorted(touched):
        made = p.group_created[group]
        if made < p.group_size and p.group_terminal[group] == made:
            found.append(p.pairs[group * p.group_size + made])
    groups = len(p.group_created)
    started = p.groups_started
    open_groups = p.groups_started - p.groups_done
    while started < groups and (p.limit == 0 or open_groups < p.limit):
        found.append(p.pairs[started * p.group_size])
        started += 1
        open_groups += 1
    return found
