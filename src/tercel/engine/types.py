"""Names shared across the engine's rooms: the clock alias, the timer kinds.

Pure: no I/O, no engine state. Lower than every room, so any of them may import it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime

__all__ = ["Now", "TimerKind"]

#: the engine's clock as the actions see it: called for each instant they record
Now = Callable[[], datetime]


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
