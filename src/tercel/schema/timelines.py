"""`Execution.timeline`: the execution's and every task run's state histories as one JSON value.

Why: a Gantt's first paint needs, per task run, its place in the tree and the dates of its
states and of its attempts' states; nothing else. Through `taskRunList` the same data is some
fifteen GraphQL objects per task run, each completed field by field, with datetime objects
decoded and formatted (2.2 s of server time and 9.3 MB for 10,000 task runs, outputs and
metrics included). As one JSON value of plain lists read as tuples (`storage/read/timelines`), with
dates as epoch microseconds, it is a fraction of both.
"""

from __future__ import annotations

from collections.abc import Iterable

from tercel.clock import to_micros
from tercel.engine import model, states
from tercel.storage.read.timelines import Timeline, TimelineRun

__all__ = ["DESCRIPTION", "from_domain"]

DESCRIPTION = (
    "the execution's state history and its task runs', compact, from one read, for drawing a "
    "timeline: {execution: [[state, date], ...], taskRuns: [{id, taskId, parentTaskRunId, value, "
    "iteration, histories, attempts}, ...]}, task runs in creation order; date: microseconds "
    "since the epoch (UTC); histories: the task run's [state, date] pairs; attempts: per "
    "attempt, by number, its [state, date] pairs. No outputs or metrics (taskRunList has them)"
)


def _pairs(state: states.State) -> list[list[object]]:
    return [[entry.state.value, to_micros(entry.date)] for entry in state.histories]


def from_domain(execution: model.Execution) -> Timeline:
    """The same JSON from an execution in memory (one a mutation returned)."""
    return {"execution": _pairs(execution.state), "taskRuns": _runs(execution.task_runs)}


def _runs(runs: Iterable[model.TaskRun]) -> list[TimelineRun]:
    return [
        {
            "id": run.id,
            "taskId": run.task_id,
            "parentTaskRunId": run.parent_task_run_id,
            "value": run.value,
            "iteration": run.iteration,
            "histories": _pairs(run.state),
            "attempts": [_pairs(attempt.state) for attempt in run.attempts or ()],
        }
        for run in runs
    ]
