"""The execution document (docs/semantics.md#objects): what `tercel run --json` prints and what the
GraphQL `Execution` type shows with every field selected."""

from __future__ import annotations

from typing import Any

from tercel.engine import durations, model, secretinputs, states

__all__ = ["execution_document", "state_document"]


def state_document(state: states.State) -> dict[str, Any]:
    end = state.end_date
    duration = state.duration
    return {
        "current": state.current.value,
        "histories": [
            {"state": h.state.value, "date": durations.format_instant(h.date)}
            for h in state.histories
        ],
        "startDate": durations.format_instant(state.start_date),
        "endDate": None if end is None else durations.format_instant(end),
        "duration": None if duration is None else durations.format_duration(duration),
    }


def _metric(metric: model.Metric) -> dict[str, Any]:
    return {
        "name": metric.name,
        "type": metric.type.upper(),
        "value": metric.value,
        "tags": metric.tags,
    }


def _task_run(run: model.TaskRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "executionId": run.execution_id,
        "namespace": run.namespace,
        "flowId": run.flow_id,
        "taskId": run.task_id,
        "parentTaskRunId": run.parent_task_run_id,
        "value": run.value,
        "iteration": run.iteration,
        "state": state_document(run.state),
        "attempts": None
        if run.attempts is None
        else [
            {"state": state_document(a.state), "metrics": [_metric(m) for m in a.metrics]}
            for a in run.attempts
        ],
        "outputs": run.outputs,
    }


def execution_document(ex: model.Execution) -> dict[str, Any]:
    created = ex.original_created_date or ex.state.start_date
    return {
        "id": ex.id,
        "namespace": ex.namespace,
        "flowId": ex.flow_id,
        "flowRevision": ex.flow_revision,
        "state": state_document(ex.state),
        "inputs": secretinputs.masked(ex.inputs),
        "outputs": ex.outputs,
        "labels": [{"key": label.key, "value": label.value} for label in ex.labels],
        "parentId": ex.parent_id,
        "originalId": ex.original_id,
        "taskRunList": [_task_run(run) for run in ex.task_runs],
        "metadata": {
            "attemptNumber": ex.attempt_number,
            "originalCreatedDate": durations.format_instant(created),
        },
        "trigger": ex.trigger,
    }
