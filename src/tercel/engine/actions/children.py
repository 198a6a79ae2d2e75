"""What Subflow and ForEachItem give the child executions they create: labels and trigger
(semantics.md#subflow)."""

from __future__ import annotations

from typing import Any

from tercel.engine import filereach, model, storable
from tercel.engine.run.execution import ExecutionState

__all__ = ["labels_of", "trigger_of", "variables_of"]


def labels_of(es: ExecutionState, inherit: bool, raw: Any) -> tuple[list[model.Label], list[str]]:
    """The parent's `system.*` labels (all with `inherit`), then the task's `labels` (map or
    list); and the problems that refuse them."""
    labels = [lb for lb in es.ex.labels if inherit or lb.key.startswith("system.")]
    if isinstance(raw, dict):
        labels += [model.Label(str(k), str(v)) for k, v in raw.items()]
    elif isinstance(raw, list):
        labels += [
            model.Label(str(i.get("key")), str(i.get("value"))) for i in raw if isinstance(i, dict)
        ]
    return labels, storable.label_problems(labels)


def trigger_of(es: ExecutionState, task: model.TaskDef) -> dict[str, Any]:
    """The child's trigger: the task, and the parent execution (its files become readable)."""
    return {
        "id": task.id,
        "type": task.type,
        "variables": {
            "executionId": es.ex.id,
            "namespace": es.ex.namespace,
            "flowId": es.ex.flow_id,
            "flowRevision": es.ex.flow_revision,
        },
    }


def variables_of(es: ExecutionState) -> dict[str, Any]:
    """The child's hidden variables: its parent chain, so it reads the files of every
    execution up the chain, not just its parent's (semantics.md#files)."""
    return {filereach.ANCESTORS: filereach.ancestors_for_child(es.ex)}
