"""How rows of the state-change log group into states: one key per execution, task run and
attempt. The engine's loader (`reader`) and the API's reads (`queries`, the subscription
snapshots) group the same rows the same way, through `history_key`."""

from __future__ import annotations

__all__ = ["HistoryKey", "history_key"]

#: ("E", execution id, None) | ("T", task run id, None) | ("A", task run id, attempt number)
HistoryKey = tuple[str, str, int | None]


def history_key(
    entity: str, execution_id: str, task_run_id: str | None, number: int | None
) -> HistoryKey:
    """The history a `state_changes` row (entity, execution_id, task_run_id, attempt_number)
    belongs to."""
    if entity == "EXECUTION":
        return ("E", execution_id, None)
    if entity == "TASK_RUN":
        return ("T", task_run_id or "", None)
    return ("A", task_run_id or "", number)
