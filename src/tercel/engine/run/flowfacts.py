"""What every execution of one flow revision derives the same way from it: its tasks by id, the
branch each task belongs to, its top-level plans, and which inline tasks render nothing.
Computed once per `model.Flow` object and shared, read-only, by its executions: a bulk action
rebuilds thousands of executions of one flow in one command, and deriving these again for each
was a fifth of its cost; an inline task asked on every attempt whether it renders anything."""

from __future__ import annotations

import collections
from collections.abc import Mapping
from dataclasses import dataclass

from tercel.engine import expressions, model
from tercel.engine.run.containers import Branch, Pair
from tercel.engine.tasks import flowables, registry

__all__ = ["FlowFacts", "facts"]

#: flows remembered (the most recently used; each entry keeps its flow alive, so an id is never
#: reused while it is here)
KEPT = 256
_MEMO: collections.OrderedDict[int, tuple[model.Flow, FlowFacts]] = collections.OrderedDict()


@dataclass(frozen=True, slots=True)
class FlowFacts:
    #: every task at every depth, by id (never mutated)
    tasks: Mapping[str, model.TaskDef]
    #: which branch of its container each task belongs to
    branches: Mapping[str, Branch]
    #: the enabled tasks of the flow's `tasks`, `errors` and `finally`, as plan pairs
    main: list[Pair]
    errors: list[Pair]
    finally_: list[Pair]
    #: inline tasks whose properties hold no template: every render of theirs returns its value
    #: as written, so none can outgrow the loop's slice (runtime/offloop.py runs them directly)
    plain_inline: frozenset[str]


def facts(flow: model.Flow) -> FlowFacts:
    found = _MEMO.get(id(flow))
    if found is not None and found[0] is flow:
        _MEMO.move_to_end(id(flow))
        return found[1]
    tasks = {t.id: t for t in flow.all_tasks()}
    made = FlowFacts(
        tasks,
        _branches(flow),
        _pairs(flow.tasks),
        _pairs(flow.errors),
        _pairs(flow.finally_),
        frozenset(t.id for t in tasks.values() if _plain_inline(t)),
    )
    _MEMO[id(flow)] = (flow, made)
    while len(_MEMO) > KEPT:
        _MEMO.popitem(last=False)
    return made


def _plain_inline(task: model.TaskDef) -> bool:
    task_type = registry.get(task.type)
    return (
        task_type is not None
        and task_type.inline
        and not expressions.holds_template(task.properties)
    )


def _pairs(tasks: tuple[model.TaskDef, ...]) -> list[Pair]:
    return [Pair(t) for t in flowables.enabled(tasks)]


def _branches(flow: model.Flow) -> dict[str, Branch]:
    found: dict[str, Branch] = {}

    def mark(tasks: tuple[model.TaskDef, ...], branch: Branch) -> None:
        for task in tasks:
            found[task.id] = branch
            for name, children in task.branches.items():
                which = {"errors": Branch.ERRORS, "finally": Branch.FINALLY}.get(name, Branch.MAIN)
                mark(children, which)
            for case in task.cases.values():
                mark(case, Branch.MAIN)

    mark(flow.tasks, Branch.MAIN)
    mark(flow.errors, Branch.ERRORS)
    mark(flow.finally_, Branch.FINALLY)
    return found
