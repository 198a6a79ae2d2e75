"""Incremental bookkeeping of one branch of one container (the top level or a flowable).

A container's branch has a plan (the ordered (task, value) pairs it may create) and the task runs
it did create. Counters are updated on every child state change, so deciding what to create next,
whether the branch is done and what state it derives costs O(1) per change instead of a scan.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field

from tercel.engine import model, rules, states
from tercel.engine.types import Mode

__all__ = ["Branch", "Container", "Mode", "Pair", "Progress"]

S = states.StateType


class Branch(enum.Enum):
    MAIN = "main"
    ERRORS = "errors"
    FINALLY = "finally"


@dataclass(frozen=True, slots=True)
class Pair:
    task: model.TaskDef
    value: str | None = None
    iteration: int | None = None
    group: int = 0


@dataclass(slots=True)
class Progress:
    """One branch of a container: its plan and what it created."""

    pairs: list[Pair] = field(default_factory=list)
    mode: Mode = Mode.SEQUENTIAL
    limit: int = 0
    runs: list[model.TaskRun] = field(default_factory=list)
    index: dict[tuple[str, str | None], int] = field(default_factory=dict)
    run_of: dict[int, model.TaskRun] = field(default_factory=dict)
    active: int = 0
    terminal: int = 0
    counts: Counter[S] = field(default_factory=Counter)
    # GROUPED mode: per group, pairs created / terminal, and groups opened so far
    group_size: int = 1
    group_created: list[int] = field(default_factory=list)
    group_terminal: list[int] = field(default_factory=list)
    groups_started: int = 0
    groups_done: int = 0
    #: groups where a task run became terminal since the last look
    touched_groups: set[int] = field(default_factory=set)

    def set_plan(self, pairs: list[Pair], mode: Mode, limit: int, group_size: int = 1) -> None:
        self.pairs, self.mode, self.limit = pairs, mode, limit
        self.index = {(p.task.id, p.value): i for i, p in enumerate(pairs)}
        self.group_size = max(1, group_size)
        groups = (len(pairs) + self.group_size - 1) // self.group_size
        self.group_created = [0] * groups
        self.group_terminal = [0] * groups

    def pair_index(self, run: model.TaskRun) -> int | None:
        return self.index.get((run.task_id, run.value))

    def add(self, run: model.TaskRun) -> None:
        """A task run of this branch was created (or loaded)."""
        self.runs.append(run)
        position = self.pair_index(run)
        if position is not None:
            self.run_of[position] = run
            if self.mode is Mode.GROUPED:
                group = position // self.group_size
                if self.group_created[group] == 0:
                    self.groups_started += 1
                self.group_created[group] += 1
        self._count(run.state.current, +1, position)

    def remove(self, run: model.TaskRun) -> None:
        self.runs.remove(run)
        position = self.pair_index(run)
        if position is not None and self.run_of.get(position) is run:
            del self.run_of[position]
        self._count(run.state.current, -1, position)

    def changed(self, run: model.TaskRun, old: S, new: S) -> None:
        position = self.pair_index(run)
        self._count(old, -1, position)
        self._count(new, +1, position)

    def _count(self, state: S, delta: int, position: int | None) -> None:
        self.counts[state] += delta
        if state.is_terminated:
            self.terminal += delta
            if self.mode is Mode.GROUPED and position is not None:
                group = position // self.group_size
                before = self.group_terminal[group]
                self.group_terminal[group] += delta
                if (before == self.group_size) != (self.group_terminal[group] == self.group_size):
                    self.groups_done += delta
                if delta > 0:
                    self.touched_groups.add(group)
        else:
            self.active += delta

    def done(self) -> bool:
        """Every pair has a terminal task run."""
        return self.active == 0 and len(self.run_of) == len(self.pairs)

    def failed_for_good(self) -> bool:
        return self.counts[S.FAILED] + self.counts[S.KILLED] > 0

    def derived(self) -> S:
        """This branch's state from its task runs' (`rules.derived_branch_state`)."""
        return rules.derived_branch_state(self.counts)


@dataclass(slots=True)
class Container:
    """The top level (`run` None) or a flowable task run, with its three branches."""

    run: model.TaskRun | None
    task: model.TaskDef | None
    main: Progress = field(default_factory=Progress)
    errors: Progress = field(default_factory=Progress)
    finally_: Progress = field(default_factory=Progress)
    #: a property error or Switch without match: the flowable ends FAILED with no children
    failure: str | None = None
    #: outputs recorded when the flowable ends (If, Switch)
    outputs: dict[str, object] = field(default_factory=dict)

    def branch(self, which: Branch) -> Progress:
        if which is Branch.MAIN:
            return self.main
        return self.errors if which is Branch.ERRORS else self.finally_

    def has_active_children(self) -> bool:
        return bool(self.main.active or self.errors.active or self.finally_.active)
