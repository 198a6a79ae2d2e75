"""The compact timeline of one execution (`Execution.timeline`), read straight
from `state_changes` and `task_runs` as plain tuples: no datetime objects, no domain objects, no
outputs or metrics. For 10,000 task runs (50,000 log rows) this is the part of the execution
page's first answer that the `taskRunList` path spends most of its time on.
"""

from __future__ import annotations

from typing import Any

from tercel.storage.read import connection

__all__ = ["Timeline", "TimelineRun", "timeline"]

#: {id, taskId, parentTaskRunId, value, iteration, histories, attempts} (see schema/timelines)
TimelineRun = dict[str, Any]
#: {execution: [[state, µs], ...], taskRuns: [TimelineRun, ...]}
Timeline = dict[str, Any]

_HISTORIES = (
    "SELECT entity, task_run_id, attempt_number, state, date FROM state_changes"
    " WHERE execution_id = ? ORDER BY seq"
)
_RUNS = (
    "SELECT id, task_id, parent_task_run_id, value, iteration FROM task_runs"
    " WHERE execution_id = ? ORDER BY position"
)


async def timeline(db: connection.Reader, execution_id: str) -> Timeline:
    """The execution's [state, epoch µs] history, and every task run in creation order with its
    own and its attempts'.

    The log is read first, in one statement: the execution's states and its task runs' come
    from the same snapshot. A task run created after that read has no history in it and is left
    out (as `rows.domain_task_run` does), so no run shows without its states."""
    own: list[list[Any]] = []
    runs: dict[str, list[list[Any]]] = {}
    attempts: dict[str, dict[int, list[list[Any]]]] = {}
    for entity, run_id, number, state, date in await db.fetch(_HISTORIES, (execution_id,)):
        if entity == "TASK_RUN":
            runs.setdefault(run_id, []).append([state, date])
        elif entity == "EXECUTION":
            own.append([state, date])
        else:
            attempts.setdefault(run_id, {}).setdefault(number, []).append([state, date])
    out: list[TimelineRun] = []
    for run_id, task_id, parent, value, iteration in await db.fetch(_RUNS, (execution_id,)):
        history = runs.get(run_id)
        if history is None:
            continue
        tried = attempts.get(run_id, {})
        out.append(
            {
                "id": run_id,
                "taskId": task_id,
                "parentTaskRunId": parent,
                "value": value,
                "iteration": iteration,
                "histories": history,
                "attempts": [tried[n] for n in sorted(tried)],
            }
        )
    return {"execution": own, "taskRuns": out}
