"""Operating executions by hand (docs/semantics.md#operating): pause, Kestra's `markAs`
(`setTaskRunState`), `setExecutionState` and `setExecutionLabels`.

Two parts. The rules are pure functions of states and values: what is refused and why, and which
state comes next; the bulk actions ask the same ones. The appliers change one `ExecutionState`
the way the rules decided (each history entry recorded by its methods); the engine commands that
call them are in `operations.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from tercel.engine import model, rules, states
from tercel.engine.actions import lifecycle
from tercel.engine.run.containers import Branch
from tercel.engine.run.execution import ExecutionState

__all__ = [
    "EXECUTION_TARGETS",
    "MARK_TARGETS",
    "SYSTEM_PREFIX",
    "apply_mark",
    "apply_pause",
    "apply_resume",
    "delete_refusal",
    "execution_after_mark",
    "kill_refusal",
    "label_problems",
    "mark_refusal",
    "pause_refusal",
    "relabelled",
    "replay_refusal",
    "restart_refusal",
    "resume_refusal",
    "set_state_refusal",
]

S = states.StateType
Now = Callable[[], datetime]
#: the states `setTaskRunState` gives (Kestra's markAs from the UI)
MARK_TARGETS = (S.SUCCESS, S.WARNING, S.FAILED)
#: the states `setExecutionState` gives (Kestra's change-status)
EXECUTION_TARGETS = (S.SUCCESS, S.WARNING, S.FAILED, S.KILLED, S.CANCELLED)
#: labels whose key starts with it are Tercel's own: kept by a relabel, refused from callers
SYSTEM_PREFIX = "system."


# ---------------------------------------------------------------------------- the rules


def pause_refusal(current: S) -> str | None:
    """Why `pauseExecution` is refused in `current` (None: it pauses)."""
    if current is S.RUNNING:
        return None
    if current.is_terminated:
        return f"Execution is already finished ('{current.value}'), can't pause it"
    return f"Only a RUNNING execution can be paused, current state is '{current.value}'"


def resume_refusal(current: S, manual_pause: bool, has_inputs: bool) -> str | None:
    """Why `resumeExecution` of a manually paused execution is refused (None: it resumes).
    A Pause task's resume is decided in lifecycle; this covers only `pauseExecution`'s."""
    if current is not S.PAUSED:
        return f"Execution is not paused, current state is '{current.value}'"
    if manual_pause and has_inputs:
        return "Execution was paused by pauseExecution: its resume takes no inputs"
    return None


def mark_refusal(execution: S, run: S, target: S, previous_end: bool) -> str | None:
    """Why `setTaskRunState` is refused (None: allowed). `previous_end`: the task run belongs
    to the errors/finally tasks of a terminated execution's previous end (removed first)."""
    if target not in MARK_TARGETS:
        return f"A task run can only be set to SUCCESS, WARNING or FAILED, not '{target.value}'"
    if not (execution.is_terminated or execution is S.PAUSED):
        return (
            "The execution must be terminated or paused to change a task run's state, "
            f"current state is '{execution.value}'"
        )
    if not (run.is_terminated or run is S.PAUSED):
        return f"Only a terminated or paused task run can change state, this one is '{run.value}'"
    if previous_end and execution.is_terminated:
        return (
            "This task run belongs to the errors or finally tasks of the execution's end, "
            "which are removed when it goes on: change a main task run"
        )
    return None


def kill_refusal(current: S) -> str | None:
    """Why `killExecution` is refused (None: it kills); a bulk dry run answers the same."""
    return "Execution is already finished, can't kill it" if current.is_terminated else None


def replay_refusal(current: S) -> str | None:
    """Why `replayExecution` is refused (None: it replays); a bulk dry run answers the same."""
    if current.is_terminated:
        return None
    return f"Execution must be terminated to be replayed, current state is '{current.value}' !"


def delete_refusal(execution_id: str, current: S) -> str | None:
    """Why `deleteExecution` is refused (None: it deletes); a bulk dry run answers the same."""
    if rules.may_delete(current):
        return None
    return (
        f"execution `{execution_id}` is {current.value}: only ended or queued executions can "
        "be deleted (kill it first)"
    )


def restart_refusal(es: ExecutionState) -> str | None:
    """Why a restart would be refused (lifecycle.restart decides the same way): for a dry run."""
    current = es.ex.state.current
    if not current.is_terminated:
        return f"Execution must be terminated to be restarted, current state is '{current.value}' !"
    if not any(
        r.state.current is S.FAILED and es.place[r.id][1] is Branch.MAIN for r in es.ex.task_runs
    ):
        return "No task found to restart execution from!"
    return None


def execution_after_mark(other_paused: int) -> S | None:
    """The execution's next state after a mark: RESTARTED unless a task run is still PAUSED
    (None: it stays PAUSED until that one resumes)."""
    return None if other_paused else S.RESTARTED


def set_state_refusal(current: S, target: S) -> str | None:
    """Why `setExecutionState` is refused (None: allowed; the same state is a no-op)."""
    if target not in EXECUTION_TARGETS:
        return (
            "An execution can only be set to SUCCESS, WARNING, FAILED, KILLED or CANCELLED, "
            f"not '{target.value}'"
        )
    if not current.is_terminated:
        return (
            "You can only change the state of a terminated execution, current state is "
            f"'{current.value}'"
        )
    return None


def label_problems(labels: Sequence[model.Label]) -> list[str]:
    """One line per label a caller may not set: a `system.` key, an empty key or value."""
    found: list[str] = []
    for index, label in enumerate(labels):
        if label.key.startswith(SYSTEM_PREFIX):
            found.append(f"labels[{index}].key `{label.key}`: system labels are set by Tercel only")
        if not label.key.strip():
            found.append(f"labels[{index}].key is empty")
        if not label.value.strip():
            found.append(f"labels[{index}].value is empty (key `{label.key}`)")
    return found


def relabelled(current: Sequence[model.Label], given: Sequence[model.Label]) -> list[model.Label]:
    """The labels after a relabel: `given` (a key given twice keeps its last value, at its
    first place), then the `system.` ones kept, as at creation."""
    kept = {lb.key: lb.value for lb in current if lb.key.startswith(SYSTEM_PREFIX)}
    wanted: dict[str, str] = {}
    for label in given:
        wanted[label.key] = label.value
    return [model.Label(k, v) for k, v in (*wanted.items(), *kept.items())]


# ---------------------------------------------------------------------------- the appliers


def apply_pause(es: ExecutionState, now: Now) -> None:
    """RUNNING -> PAUSED with no task run PAUSED: the passes start nothing until resumed."""
    es.set_state(S.PAUSED, now())
    es.manual_pause = True


def apply_resume(es: ExecutionState, now: Now) -> None:
    """A manual pause ends: PAUSED -> RUNNING (no RESTARTED entry); what was held is listed
    again for dispatch and every container is looked at by the next pass."""
    es.set_state(S.RUNNING, now())
    es.pending = [run for run in es.ex.task_runs if run.state.current.is_created]
    es.dirty.update(es.containers)


def previous_end(es: ExecutionState, run: model.TaskRun) -> bool:
    """The task run is an errors/finally task run (or under one)."""
    chain = [run, *es.ancestors(run)]
    return any(es.place[r.id][1] is not Branch.MAIN for r in chain)


def apply_mark(es: ExecutionState, run: model.TaskRun, target: S, now: Now) -> None:
    """Kestra's markAs: the task run (and its last attempt) takes `target`, its flowable
    ancestors go RUNNING, the execution RESTARTED unless another task run is still PAUSED."""
    if es.ex.state.current.is_terminated:
        lifecycle._drop_errors_and_finally(es)
    for timer_id, timer in list(es.timers.items()):
        if timer.task_run_id == run.id:  # a Pause's delay or timeout
            es.remove_timer(timer_id)
    if run.attempts:
        es.set_attempt_state(run, run.attempts[-1], target, now())
    es.set_run_state(run, target, now())
    for ancestor in reversed(es.ancestors(run)):
        es.set_run_state(ancestor, S.RUNNING, now())
    following = execution_after_mark(es.paused)
    if following is not None:
        es.set_state(following, now())  # ends a manual pause too: list what it held
        es.pending = [r for r in es.ex.task_runs if r.state.current.is_created]
        es.dirty.update(es.containers)
    es.dirty.add(None)
