"""Names shared across the engine's rooms: the clock alias, the timer kinds, the flow
concurrency behaviors.

Pure: no I/O, no engine state. Lower than every room, so any of them may import it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypedDict

__all__ = ["ConcurrencyBehavior", "Mode", "Now", "Plan", "TimerKind"]

#: the engine's clock as the actions see it: called for each instant they record
Now = Callable[[], datetime]


class Mode(enum.Enum):
    """How a branch of a container creates its task runs (semantics.md#creation)."""

    SEQUENTIAL = "sequential"  #: one after the other
    PARALLEL = "parallel"  #: at most `limit` active (0: no limit)
    GROUPED = "grouped"  #: groups by value, sequential inside, at most `limit` groups open


class ConcurrencyBehavior(enum.Enum):
    """What a flow's `concurrency.behavior` does with a new execution over the limit
    (semantics.md#concurrency; Kestra's `Concurrency.Behavior`)."""

    QUEUE = "QUEUE"  #: it waits QUEUED for a slot, oldest first
    CANCEL = "CANCEL"  #: it ends CANCELLED at once
    FAIL = "FAIL"  #: it ends FAILED at once, with a log line saying why


class TimerKind(enum.StrEnum):
    """What a row of `timers` wakes up. Stored by value; `rules.timer_step` says what each does."""

    #: a task run waits RETRYING for its next attempt (RETRY_FAILED_TASK)
    RETRY = "RETRY"
    #: a Pause's `delay` ends: the task run resumes as by `resumeExecution`
    PAUSE_DELAY = "PAUSE_DELAY"
    #: a Pause's `timeout` ends: the task run fails
    PAUSE_TIMEOUT = "PAUSE_TIMEOUT"
    #: the start date of an execution that replaces a RETRIED one (CREATE_NEW_EXECUTION): it
    #: stays CREATED until then
    START = "START"


class Plan(TypedDict, total=False):
    """What a flowable decided when it started, or which child a subflow created. Stored as
    JSON with its task run when it starts (keys present only when set), so recovery, restart
    and replay rebuild the same children without rendering anything again."""

    #: loops (ForEach, EachSequential, EachParallel): the distinct values, as strings
    values: list[str]
    #: If: "then" or "else"; Switch: "case" or "defaults"
    branch: str
    #: Switch: the matched case
    case: str
    #: outputs the flowable records when it ends (If's evaluationResult, Switch's value)
    outputs: dict[str, Any]
    #: why the flowable fails at once, with no children
    failure: str
    #: the failure is logged as a WARN (a Switch without a matching case)
    warn: bool
    #: Subflow: the child execution's id
    child: str
