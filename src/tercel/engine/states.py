"""Kestra's state vocabulary, the allowed transitions as data, and the immutable `State` value.

Pure: no I/O and no clock reads. Time is passed in.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "ALLOWED",
    "TERMINAL",
    "Entity",
    "HistoryEntry",
    "InvalidTransitionError",
    "State",
    "StateType",
    "transition",
]


class StateType(enum.Enum):
    """Kestra's `State.Type`, in Kestra's (and the GraphQL enum's) order."""

    CREATED = "CREATED"  #: waiting to be processed
    SUBMITTED = "SUBMITTED"  #: declared only
    RUNNING = "RUNNING"  #: being processed
    PAUSED = "PAUSED"  #: waiting for a Pause to be resumed
    RESTARTED = "RESTARTED"  #: like CREATED, for something that already ran
    KILLING = "KILLING"  #: kill requested, stopping
    SUCCESS = "SUCCESS"  #: done
    WARNING = "WARNING"  #: done, with a non-fatal problem
    FAILED = "FAILED"  #: done, failed
    KILLED = "KILLED"  #: stopped by a kill
    CANCELLED = "CANCELLED"  #: over a flow's concurrency limit (CANCEL), or unqueued so
    QUEUED = "QUEUED"  #: waiting for a slot of its flow's concurrency limit
    RETRYING = "RETRYING"  #: a failed task run waits for its next attempt
    RETRIED = "RETRIED"  #: superseded by a new execution
    SKIPPED = "SKIPPED"  #: runIf rendered falsy
    BREAKPOINT = "BREAKPOINT"  #: declared only
    RESUBMITTED = "RESUBMITTED"  #: an attempt lost in a crash and run again

    @property
    def is_terminated(self) -> bool:
        return self._value_ in _TERMINAL_VALUES

    @property
    def is_created(self) -> bool:
        return self in (StateType.CREATED, StateType.RESTARTED)

    @property
    def is_running(self) -> bool:
        return self in (StateType.RUNNING, StateType.KILLING)

    @property
    def is_failed(self) -> bool:
        return self is StateType.FAILED

    @property
    def is_paused(self) -> bool:
        return self is StateType.PAUSED

    @property
    def is_retrying(self) -> bool:
        return self in (StateType.RETRYING, StateType.RETRIED)

    @property
    def is_active(self) -> bool:
        return self not in TERMINAL


S = StateType

TERMINAL: frozenset[StateType] = frozenset(
    {S.SUCCESS, S.WARNING, S.FAILED, S.KILLED, S.CANCELLED, S.RETRIED, S.SKIPPED, S.RESUBMITTED}
)
_TERMINAL_VALUES = frozenset(state.value for state in TERMINAL)
_ENDED = frozenset({S.SUCCESS, S.WARNING, S.FAILED, S.KILLED, S.CANCELLED, S.RETRIED, S.SKIPPED})


class Entity(enum.Enum):
    """Whose history an entry belongs to."""

    EXECUTION = "EXECUTION"
    TASK_RUN = "TASK_RUN"
    ATTEMPT = "ATTEMPT"


def _table(
    rows: Mapping[StateType, frozenset[StateType]],
) -> Mapping[StateType, frozenset[StateType]]:
    return {state: rows.get(state, frozenset()) for state in StateType}


def _restartable(extra: frozenset[StateType]) -> dict[StateType, frozenset[StateType]]:
    return {state: extra for state in _ENDED}


_EXECUTION: dict[StateType, frozenset[StateType]] = {
    **_restartable(frozenset({S.RESTARTED})),
    # QUEUED, CANCELLED, FAILED: a flow's concurrency limit reached (semantics.md#concurrency)
    S.CREATED: frozenset({S.RUNNING, S.KILLING, S.QUEUED, S.CANCELLED, S.FAILED}),
    # a slot freed, unqueueExecution, forceRunExecution; a kill ends it at once (nothing runs)
    S.QUEUED: frozenset({S.RUNNING, S.CANCELLED, S.FAILED, S.KILLED}),
    S.RUNNING: frozenset(
        {S.PAUSED, S.RETRYING, S.KILLING, S.SUCCESS, S.WARNING, S.FAILED, S.KILLED, S.RETRIED}
    ),
    S.RETRYING: frozenset({S.PAUSED, S.RUNNING, S.RETRIED, S.KILLING, S.FAILED}),
    # RUNNING: `resumeExecution` of a manual pause (semantics.md#pause-execution)
    S.PAUSED: frozenset({S.RESTARTED, S.RUNNING, S.RETRIED, S.KILLING, S.FAILED}),
    S.RESTARTED: frozenset({S.RUNNING, S.KILLING}),
    S.KILLING: frozenset({S.KILLED}),
}
# The top-level retry quirk: FAILED, then RETRYING or RETRIED.
_EXECUTION[S.FAILED] = frozenset({S.RESTARTED, S.RETRYING, S.RETRIED})
# `setExecutionState` (semantics.md#set-execution-state): a terminated execution takes another
# terminal state.
_SET_BY_HAND = frozenset({S.SUCCESS, S.WARNING, S.FAILED, S.KILLED, S.CANCELLED})
for _ended in _ENDED:
    _EXECUTION[_ended] = _EXECUTION[_ended] | (_SET_BY_HAND - {_ended})

_TASK_RUN: dict[StateType, frozenset[StateType]] = {
    **_restartable(frozenset({S.RESTARTED, S.RUNNING})),
    S.CREATED: frozenset({S.RUNNING, S.SKIPPED, S.FAILED, S.KILLED}),
    S.RESTARTED: frozenset({S.RUNNING, S.SKIPPED, S.FAILED, S.KILLED}),
    # FAILED: the engine fails the execution itself (semantics.md#durability)
    S.RETRYING: frozenset({S.CREATED, S.KILLED, S.RETRIED, S.FAILED}),
    S.RUNNING: frozenset(
        {S.SUCCESS, S.WARNING, S.FAILED, S.KILLED, S.PAUSED, S.KILLING, S.RETRIED}
    ),
    S.PAUSED: frozenset({S.RUNNING, S.SUCCESS, S.FAILED, S.KILLING}),
    S.KILLING: frozenset({S.KILLED}),
}
_TASK_RUN[S.FAILED] = frozenset({S.RESTARTED, S.RUNNING, S.RETRYING, S.RETRIED})
# `setTaskRunState` (semantics.md#mark-task-run): a terminated or PAUSED task run is marked
# SUCCESS, WARNING or FAILED.
_MARKS = frozenset({S.SUCCESS, S.WARNING, S.FAILED})
for _ended in (*_ENDED, S.PAUSED):
    _TASK_RUN[_ended] = _TASK_RUN[_ended] | (_MARKS - {_ended})

_ATTEMPT: dict[StateType, frozenset[StateType]] = {
    S.CREATED: frozenset({S.RUNNING, S.RESUBMITTED}),
    S.RUNNING: frozenset({S.SUCCESS, S.WARNING, S.FAILED, S.KILLED, S.RESUBMITTED}),
}
# `setTaskRunState`: the last attempt of the marked task run takes its state too.
for _ended in _ENDED:
    _ATTEMPT[_ended] = _MARKS - {_ended}

ALLOWED: Mapping[Entity, Mapping[StateType, frozenset[StateType]]] = {
    Entity.EXECUTION: _table(_EXECUTION),
    Entity.TASK_RUN: _table(_TASK_RUN),
    Entity.ATTEMPT: _table(_ATTEMPT),
}


class InvalidTransitionError(RuntimeError):
    """A transition outside the tables: always a bug in the engine."""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    state: StateType
    date: datetime


@dataclass(frozen=True, slots=True)
class State:
    """A state with its full, append-only history."""

    histories: tuple[HistoryEntry, ...]

    @classmethod
    def new(cls, state: StateType, at: datetime) -> State:
        return cls((HistoryEntry(state, at),))

    @property
    def current(self) -> StateType:
        return self.histories[-1].state

    @property
    def start_date(self) -> datetime:
        return self.histories[0].date

    @property
    def end_date(self) -> datetime | None:
        current = self.histories[-1]
        if current.state in TERMINAL or current.state is S.PAUSED:
            return current.date
        return None

    @property
    def duration(self) -> timedelta | None:
        end = self.end_date
        return None if end is None else end - self.start_date

    def has_been(self, state: StateType) -> bool:
        return any(entry.state is state for entry in self.histories)

    def with_entry(self, state: StateType, at: datetime) -> State:
        """Append `(state, at)`; dates never decrease (a clock stepping back reuses the last)."""
        last = self.histories[-1]
        return State((*self.histories, HistoryEntry(state, max(at, last.date))))


def transition(entity: Entity, state: State, to: StateType, at: datetime) -> State | None:
    """The state after moving to `to`, or None when already there (a no-op).

    Raises `InvalidTransitionError` when the tables do not allow the move.
    """
    current = state.current
    if current is to:
        return None
    if to not in ALLOWED[entity][current]:
        raise InvalidTransitionError(
            f"{entity.value}: {current.value} -> {to.value} is not allowed"
        )
    return state.with_entry(to, at)
