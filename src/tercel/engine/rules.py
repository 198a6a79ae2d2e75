"""Which state comes next: every decision the engine takes about a state, as a pure function.

The transition tables of `states` say which moves are *allowed*; the rules here say which one
the engine *makes*, given the current state and what happened (an attempt ended, a timer fired,
a kill, a restart, a child execution ended, a crash). They read no clock, touch no execution and
return states (or a short path of states, applied in order); the actions apply them. Each rule
is tested over every state it can be asked about (tests/unit/engine/test_rules.py), and every
path it returns is checked against the transition tables.

Where to look:
- an attempt ended: `state_after_attempt`, `next_state_after_failed_attempt`, `with_flags`;
- a retry: `execution_path_on_retry`, `execution_path_to_retried`;
- a flowable or the execution ends: `resolve_flowable`, `flowable_end_state`,
  `execution_end_state`, `derived_branch_state`;
- the execution follows its task runs: `derived_execution_state`, `execution_on_start`;
- a timer fired, a Pause resumed: `timer_step`, `state_on_resume`;
- kill, restart, replay: `kill_step`, `state_on_restart`;
- a subflow's child ended: `subflow_state_on_child_end`;
- runIf: `state_after_run_if`;
- recovery and quarantine: `recovered_attempt_path`, `attempt_path_on_quarantine`,
  `task_run_on_quarantine`, `execution_path_on_quarantine`;
- flow concurrency (semantics.md#concurrency): `execution_over_limit`, `queued_may_start`,
  `kill_target`, `may_delete`, `unqueue_refusal`, `force_run_step`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from tercel.engine import states
from tercel.engine.types import ConcurrencyBehavior, TimerKind

S = states.StateType
Path = tuple[S, ...]

# ------------------------------------------------------------------ attempts and retries


class Retry(enum.Enum):
    """What a failed task run with a retry policy does (semantics.md#retries)."""

    #: RETRY_FAILED_TASK with an attempt left: the same task run goes again at the due date
    SAME_TASK_RUN = "RETRY_FAILED_TASK"
    #: CREATE_NEW_EXECUTION with an attempt left: a new execution replaces this one
    NEW_EXECUTION = "CREATE_NEW_EXECUTION"


def state_after_attempt(attempt: S, *, warning_on_retry: bool, counted_attempts: int) -> S:
    """The state a task run takes from its ended attempt: SUCCESS reads WARNING when the
    policy says `warningOnRetry` and it took more than one attempt (semantics.md#retries)."""
    if attempt is S.SUCCESS and warning_on_retry and counted_attempts >= 2:
        return S.WARNING
    return attempt


def next_state_after_failed_attempt(
    retry: Retry | None, *, allow_failure: bool, allow_warning: bool
) -> Path:
    """The task run's path after its attempt FAILED.

    With a retry left on the same task run: FAILED, then RETRYING until the retry timer fires
    (then CREATED again). With a new-execution retry: FAILED, then RETRIED once the rest of the
    execution stopped. With no retry left: FAILED, turned by `allowFailure` / `allowWarning`."""
    if retry is Retry.SAME_TASK_RUN:
        return (S.FAILED, S.RETRYING)
    if retry is Retry.NEW_EXECUTION:
        return (S.FAILED,)
    return (with_flags(S.FAILED, allow_failure=allow_failure, allow_warning=allow_warning),)


def with_flags(state: S, *, allow_failure: bool, allow_warning: bool) -> S:
    """`allowFailure` turns FAILED into WARNING, then `allowWarning` WARNING into SUCCESS
    (semantics.md#flags)."""
    if state is S.FAILED and allow_failure:
        state = S.WARNING
    if state is S.WARNING and allow_warning:
        state = S.SUCCESS
    return state


def execution_path_on_retry(current: S, *, top_level: bool) -> Path:
    """The execution's path when a task run goes RETRYING: a top-level task run of a RUNNING
    execution shows Kestra's quirk, FAILED then RETRYING; otherwise the derivation follows."""
    if top_level and current is S.RUNNING:
        return (S.FAILED, S.RETRYING)
    return ()


def execution_path_to_retried(current: S, *, top_level: bool) -> Path:
    """The execution's path once a new-execution retry stopped everything else: RETRIED,
    through FAILED when a top-level task run failed while it was RUNNING."""
    if current in (S.PAUSED, S.RETRYING) or not top_level:
        return (S.RETRIED,)
    return (S.FAILED, S.RETRIED)


# ------------------------------------------------------------------ flowables, the execution

#: the first state found among a branch's task runs is the branch's state
DERIVATION_ORDER: tuple[S, ...] = (S.KILLED, S.FAILED, S.WARNING, S.PAUSED)


def derived_branch_state(counts: Mapping[S, int]) -> S:
    """A branch's state from how many of its task runs are in each state
    (semantics.md#derivation)."""
    for state in DERIVATION_ORDER:
        if counts.get(state, 0) > 0:
            return state
    return S.SUCCESS


class FlowableStep(enum.Enum):
    """What the pass does to a RUNNING or KILLING flowable task run."""

    WAIT = "wait"  #: children still active, or nothing to decide yet
    KILLED = "killed"  #: KILLING and its children stopped: KILLED
    PAUSE = "pause"  #: a Pause that has not paused yet: PAUSED
    END = "end"  #: failed or complete, no child active: its end state (`flowable_end_state`)


def resolve_flowable(
    current: S,
    *,
    children_active: bool,
    pauses: bool,
    paused_before: bool,
    failed: bool,
    complete: bool,
) -> FlowableStep:
    """The pass's decision for a flowable task run (semantics.md#flowables)."""
    if current is S.KILLING:
        return FlowableStep.WAIT if children_active else FlowableStep.KILLED
    if current is not S.RUNNING:
        return FlowableStep.WAIT
    if pauses and not paused_before:
        return FlowableStep.PAUSE
    if (failed or complete) and not children_active:
        return FlowableStep.END
    return FlowableStep.WAIT


def flowable_end_state(
    derived: S, *, failed: bool, absorbs_failure: bool, allow_failure: bool, allow_warning: bool
) -> S:
    """A flowable's end state: FAILED when its plan failed, else its main branch's derived
    state; a failure-absorbing type (AllowFailure) turns FAILED into WARNING; then the flags."""
    state = S.FAILED if failed else derived
    if absorbs_failure and state is S.FAILED:
        state = S.WARNING
    return with_flags(state, allow_failure=allow_failure, allow_warning=allow_warning)


def execution_on_start(current: S, *, waits_for_start: bool) -> S | None:
    """CREATED and RESTARTED executions go RUNNING at the first pass; a replacement execution
    (new-execution retry) stays CREATED until its START timer fires."""
    if current is S.CREATED and not waits_for_start:
        return S.RUNNING
    if current is S.RESTARTED:
        return S.RUNNING
    return None


def execution_end_state(
    current: S, *, children_active: bool, complete: bool, derived: S
) -> S | None:
    """The execution ends: KILLING once nothing runs (KILLED); RUNNING once its top level is
    complete (its main branch's derived state). None: not yet."""
    if current is S.KILLING:
        return None if children_active else S.KILLED
    if current is S.RUNNING and complete:
        return derived
    return None


def derived_execution_state(
    current: S, *, paused: bool, retrying: bool, manual_pause: bool = False
) -> S | None:
    """The execution follows its task runs: PAUSED over RETRYING over RUNNING; leaving PAUSED
    goes through RESTARTED. None when it stays (created, killing, ended, already there, or
    paused by `pauseExecution`: until resumed, semantics.md#pause-execution; QUEUED: until a
    slot of its flow's limit frees, semantics.md#concurrency)."""
    waiting = (S.KILLING, S.CREATED, S.RESTARTED, S.QUEUED)
    if current in waiting or current.is_terminated or manual_pause:
        return None
    target = S.PAUSED if paused else S.RETRYING if retrying else S.RUNNING
    if current is target:
        return None
    return S.RESTARTED if current is S.PAUSED else target


# ------------------------------------------------------------------ timers, Pause, runIf


class TimerStep(enum.Enum):
    """What a fired timer does to its task run."""

    NOTHING = "nothing"  #: the task run moved on meanwhile (or the timer has no task run)
    RECREATE = "recreate"  #: a retry is due: RETRYING -> CREATED, dispatched again
    RESUME = "resume"  #: a Pause's delay ended: resumed as by `resume`
    FAIL = "fail"  #: a Pause's timeout ended: FAILED
    WAKE = "wake"  #: a replacement execution's start date: the pass runs


def timer_step(kind: TimerKind, current: S | None) -> TimerStep:
    """The step a fired timer of `kind` takes on a task run in `current` (None: no task run)."""
    if kind is TimerKind.START:
        return TimerStep.WAKE
    if kind is TimerKind.RETRY and current is S.RETRYING:
        return TimerStep.RECREATE
    if kind is TimerKind.PAUSE_DELAY and current is S.PAUSED:
        return TimerStep.RESUME
    if kind is TimerKind.PAUSE_TIMEOUT and current is S.PAUSED:
        return TimerStep.FAIL
    return TimerStep.NOTHING


def state_on_resume(*, has_tasks: bool) -> S:
    """A resumed Pause with tasks goes RUNNING (its tasks run); one without ends SUCCESS."""
    return S.RUNNING if has_tasks else S.SUCCESS


def state_after_run_if(rendered: bool | None) -> S | None:
    """runIf: falsy is SKIPPED, a render error FAILED (`None`), truthy goes on (None)."""
    if rendered is None:
        return S.FAILED
    return None if rendered else S.SKIPPED


# ------------------------------------------------------------------ kill, restart, subflows


class KillStep(enum.Enum):
    """What a kill (or the start of a new-execution retry) does to one task run."""

    KEEP = "keep"  #: ended, or not reached by a kill
    KILLED = "killed"  #: not started yet (CREATED, RESTARTED, RETRYING): KILLED at once
    KILLING = "killing"  #: a flowable or subflow still running: KILLING until it stops
    CANCEL = "cancel"  #: a running runnable: its attempt is cancelled, its result says KILLED


def kill_step(current: S, *, runnable: bool) -> KillStep:
    """The kill sweep's decision for one task run (semantics.md#kill)."""
    if current in (S.CREATED, S.RESTARTED, S.RETRYING):
        return KillStep.KILLED
    if current in (S.RUNNING, S.PAUSED) and not runnable:
        return KillStep.KILLING
    if current is S.RUNNING:
        return KillStep.CANCEL
    return KillStep.KEEP


def state_on_restart(*, flowable: bool) -> S:
    """A restarted (or replayed) task run: a flowable goes RUNNING again and recreates its
    children; any other is RESTARTED and dispatched like a new one (semantics.md#restart)."""
    return S.RUNNING if flowable else S.RESTARTED


def subflow_state_on_child_end(
    current: S, child: S, *, transmit_failed: bool, allow_failure: bool, allow_warning: bool
) -> S | None:
    """A waiting subflow task run takes its child's end: KILLING ones end KILLED; otherwise
    FAILED, KILLED and WARNING pass through when `transmitFailed`, anything else is SUCCESS;
    then the flags. None: the task run no longer waits."""
    if current is S.KILLING:
        return S.KILLED
    if current is not S.RUNNING:
        return None
    state = child if transmit_failed and child in (S.FAILED, S.KILLED, S.WARNING) else S.SUCCESS
    return with_flags(state, allow_failure=allow_failure, allow_warning=allow_warning)


# ------------------------------------------------------------------ recovery, quarantine


def recovered_attempt_path(attempt: S, *, killing: bool) -> Path:
    """An attempt a dead engine left CREATED or RUNNING: KILLED when its execution was being
    killed (through RUNNING), else RESUBMITTED (a new attempt follows). Ended ones stay."""
    if attempt.is_terminated:
        return ()
    if killing:
        return (S.RUNNING, S.KILLED) if attempt is S.CREATED else (S.KILLED,)
    return (S.RESUBMITTED,)


def attempt_path_on_quarantine(attempt: S) -> Path:
    """An attempt of an execution the engine fails itself: FAILED, through RUNNING."""
    if attempt.is_terminated:
        return ()
    return (S.RUNNING, S.FAILED) if attempt is S.CREATED else (S.FAILED,)


def task_run_on_quarantine(current: S) -> S | None:
    """A task run of an execution the engine fails itself: KILLING ends KILLED, any other
    active one FAILED, a RETRYING one too: its last attempt failed and the retry is abandoned
    (semantics.md#durability)."""
    if current is S.KILLING:
        return S.KILLED
    return S.FAILED if current.is_active else None


def execution_path_on_quarantine(current: S) -> Path:
    """An execution the engine fails itself: KILLING ends KILLED; CREATED or RESTARTED fail
    through RUNNING; any other active one FAILED."""
    if current is S.KILLING:
        return (S.KILLED,)
    if current in (S.CREATED, S.RESTARTED):
        return (S.RUNNING, S.FAILED)
    return (S.FAILED,) if current.is_active else ()


# ------------------------------------------------------------------ flow concurrency

#: the states `unqueueExecution` gives a QUEUED execution (RUNNING: started past the limit)
UNQUEUE_TARGETS = (S.RUNNING, S.CANCELLED, S.FAILED)
_OVER_LIMIT = {
    ConcurrencyBehavior.QUEUE: S.QUEUED,
    ConcurrencyBehavior.CANCEL: S.CANCELLED,
    ConcurrencyBehavior.FAIL: S.FAILED,
}


def execution_over_limit(behavior: ConcurrencyBehavior, running: int, limit: int) -> S | None:
    """A CREATED execution of a flow with `limit`, `running` of its executions being
    non-terminal and not QUEUED: None when it may start (one more makes at most `limit`), else
    the state its flow's behavior gives (QUEUED, CANCELLED or FAILED)."""
    if running < limit:
        return None
    return _OVER_LIMIT[behavior]


def queued_may_start(running: int, limit: int) -> bool:
    """The oldest QUEUED execution of the flow goes RUNNING while a slot is free."""
    return running < limit


def kill_target(current: S) -> S:
    """A kill's first state: KILLED at once for a QUEUED execution (nothing runs,
    semantics.md#kill), else KILLING until its task runs stop."""
    return S.KILLED if current is S.QUEUED else S.KILLING


def may_delete(current: S) -> bool:
    """`deleteExecution` takes a terminated execution, or a QUEUED one (nothing of it runs)."""
    return current.is_terminated or current is S.QUEUED


def unqueue_refusal(current: S, target: S) -> str | None:
    """Why `unqueueExecution(id, target)` is refused (None: it moves)."""
    if target not in UNQUEUE_TARGETS:
        return (
            "A queued execution can only be unqueued to RUNNING, CANCELLED or FAILED, "
            f"not '{target.value}'"
        )
    if current is not S.QUEUED:
        return f"Only a QUEUED execution can be unqueued, current state is '{current.value}'"
    return None


class ForceRun(enum.Enum):
    """What `forceRunExecution` does (Kestra's ExecutionService.forceRun)."""

    START = "start"  #: CREATED: RUNNING now, whatever the limit or the start date
    UNQUEUE = "unqueue"  #: QUEUED: RUNNING past the limit
    RESUME = "resume"  #: PAUSED: resumed
    AS_IS = "as is"  #: running in some way already: answered as it is
    REFUSE = "refuse"  #: terminated: refused


def force_run_step(current: S) -> ForceRun:
    """`forceRunExecution`'s decision for an execution in `current`."""
    if current.is_terminated:
        return ForceRun.REFUSE
    if current is S.CREATED:
        return ForceRun.START
    if current is S.QUEUED:
        return ForceRun.UNQUEUE
    if current is S.PAUSED:
        return ForceRun.RESUME
    return ForceRun.AS_IS
