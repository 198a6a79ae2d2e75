"""ForEachItem's task types (semantics.md#foreachitem), laid out as Kestra lays it out.

Kestra's `ForEachItem` is a flowable whose children are fixed: `{id}_split` (its
`ForEachItemSplit`: the batch files), `{id}_items` (its `ForEachItemExecutable`: one subflow
execution per batch) and `{id}_merge` (its `ForEachItemMergeOutputs`: the children's outputs in
one file), run one after the other. The flow loader calls `expand` on every ForEachItem, so the
three are ordinary task definitions of the flow: they get task runs, states, outputs and
recovery as any other task does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from tercel.engine import model
from tercel.engine.tasks import flowables, itemfiles
from tercel.engine.tasks.base import Prop, PropKind, TaskType

__all__ = ["ITEMS", "MERGE", "SPLIT", "SUFFIXES", "TYPE", "expand", "task_types"]

K = PropKind
TYPE = "io.kestra.plugin.core.flow.ForEachItem"
SPLIT = f"{TYPE}$ForEachItemSplit"
ITEMS = f"{TYPE}$ForEachItemExecutable"
MERGE = f"{TYPE}$ForEachItemMergeOutputs"
#: the children's ids are the ForEachItem's id with these, in this order
SUFFIXES = ("_split", "_items", "_merge")
_SPLIT_PROPERTIES = ("items", "batch")


def task_types(child_execution: Mapping[str, Prop]) -> list[TaskType]:
    """ForEachItem (what a flow writes) and its three internal types (what `expand` makes)."""
    batch = Prop(K.BATCH, default={})
    return [
        TaskType(
            TYPE,
            model.TaskKind.FLOWABLE,
            {
                "items": Prop(K.STRING, required=True),
                "batch": batch,
                **child_execution,
                "errors": Prop(K.TASKS),
            },
            ("io.kestra.core.tasks.flows.ForEachItem",),
            flowable=flowables.SEQUENTIAL,
        ),
        TaskType(
            SPLIT,
            model.TaskKind.RUNNABLE,
            {"items": Prop(K.STRING, required=True), "batch": batch},
            run=itemfiles.run_split,
        ),
        TaskType(ITEMS, model.TaskKind.SUBFLOW, dict(child_execution)),
        TaskType(MERGE, model.TaskKind.RUNNABLE, {}, run=itemfiles.run_merge),
    ]


def expand(task: model.TaskDef) -> model.TaskDef:
    """`task` (a ForEachItem) with its `_split`, `_items` and `_merge` children as its
    `tasks`; the split takes `items` and `batch`, the executable every other property."""
    props = task.properties
    split = {k: v for k, v in props.items() if k in _SPLIT_PROPERTIES}
    items = {k: v for k, v in props.items() if k not in _SPLIT_PROPERTIES}
    children = tuple(
        _child(task, suffix, kind, type_name, properties)
        for suffix, kind, type_name, properties in (
            ("_split", model.TaskKind.RUNNABLE, SPLIT, split),
            ("_items", model.TaskKind.SUBFLOW, ITEMS, items),
            ("_merge", model.TaskKind.RUNNABLE, MERGE, {}),
        )
    )
    return dataclasses.replace(task, branches={**task.branches, "tasks": children})


def _child(
    task: model.TaskDef,
    suffix: str,
    kind: model.TaskKind,
    type_name: str,
    properties: Mapping[str, object],
) -> model.TaskDef:
    return model.TaskDef(
        id=task.id + suffix,
        type=type_name,
        written_type=type_name,
        kind=kind,
        properties=properties,
        log_level=task.log_level,
        location=task.location,
    )
